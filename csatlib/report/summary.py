"""The top of one country's report: its heading, the NPS headline and the executive summary.

:func:`nps_headline` decides what the headline compares (the wave, the previous wave, the other
countries) and gets every figure from :mod:`csatlib.stats.nps`; :func:`headline_table`,
:func:`report_heading`, :func:`executive_summary` and :func:`driver_notes` (the notes under the
key-driver table) show them as a table or escaped HTML. A suppressed cell reads
``"suppressed (n = 12 < 30)"``, never a number. The same figures as JSON:
:func:`csatlib.report.metrics.report_metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csatlib.report.context import CountryContext
from csatlib.report.display import SafeHTML, escape, heading
from csatlib.report.tables import fmt_interval, fmt_number, fmt_p, label, suppressed_text
from csatlib.stats.nps import NPSDifference, NPSResult, nps

__all__ = [
    "NPSHeadline",
    "nps_headline",
    "headline_table",
    "fmt_points",
    "report_heading",
    "unit_note",
    "POLICY_SHORT",
    "executive_summary",
    "priority_sentence",
    "verdict_words",
    "who_to_call",
    "evidence_text",
    "driver_notes",
]


@dataclass(frozen=True)
class NPSHeadline:
    """NPS of the country's wave, its previous wave and the other countries, with tests.

    Estimates are None where the cell is below ``min_n`` (suppressed); ``n_*`` are always given.
    """

    country: str
    wave: str
    previous_wave: str | None
    min_n: int
    n: int
    n_previous: int
    n_rest: int
    current: NPSResult | None
    previous: NPSResult | None
    rest: NPSResult | None
    change: NPSDifference | None
    vs_rest: NPSDifference | None
    change_q: float | None = None
    vs_rest_q: float | None = None
    unit: str = "respondents"
    others: str = "other countries"  # the comparison group in words (ctx.others)
    label: str = ""  # how the table names the unit; the code (``country``) when empty


def _valid(scores: pd.Series) -> pd.Series:
    return pd.to_numeric(scores, errors="coerce").dropna()


def _estimate(scores: pd.Series, min_n: int) -> NPSResult | None:
    return nps(scores) if len(scores) >= min_n else None


def nps_headline(ctx: CountryContext, *, score: str | None = None) -> NPSHeadline:
    """Compute the headline NPS figures of a country's report (own-brand customers only).

    Estimates and tests treat the customer account as the unit when the study has accounts
    (``ctx.cluster``): intervals from :func:`csatlib.stats.nps.nps` with the accounts as
    clusters. The change is :func:`csatlib.stats.nps.nps_wave_change` on the report's one design
    (every response up to the wave; accounts answering in both waves make the waves dependent),
    judged by its q-value in the report's family (the same test and verdict as the trend
    table); "vs the rest" is :func:`csatlib.report.context.countries_vs_rest`, judged by its
    q-value across the countries (the same as the global summary's). Cells below ``ctx.min_n``
    are suppressed, and so is any comparison that involves one. ``score`` defaults to the
    study's recommend question (role ``nps``).
    """
    score = score or ctx.nps_column
    cur, prev = ctx.current, ctx.previous if ctx.previous_wave else ctx.current.iloc[:0]
    n_rest, rest_result = ctx.rest_estimate(score)
    current, previous = (
        _country_estimate(ctx, ctx.wave, score),
        _country_estimate(ctx, ctx.previous_wave, score),
    )
    change, change_q = _change(ctx, score) if current and previous else (None, None)
    vs_rest, vs_rest_q = _vs_rest(ctx, score) if current and rest_result else (None, None)
    return NPSHeadline(
        country=ctx.country,
        wave=ctx.wave,
        previous_wave=ctx.previous_wave,
        min_n=ctx.min_n,
        n=len(_valid(cur[score])),
        n_previous=len(_valid(prev[score])),
        n_rest=n_rest,
        current=current,
        previous=previous,
        rest=rest_result,
        change=change,
        vs_rest=vs_rest,
        change_q=change_q,
        vs_rest_q=vs_rest_q,
        unit="accounts" if ctx.cluster else "respondents",
        others=ctx.others,
        label=ctx.country if ctx.dimension == "country" else ctx.country_name,
    )


def _country_estimate(ctx: CountryContext, wave: str | None, score: str) -> NPSResult | None:
    """The country's NPS in ``wave`` as the global league table computes it: a domain of one
    design over every country's own customers in that wave (accounts as clusters), so the
    report, the index and the league table show the same interval."""
    if wave is None:
        return None
    table = ctx.unit_nps(wave, score)
    mine = table.loc[table["country"].astype(str) == ctx.country]
    if mine.empty or bool(mine["suppressed"].iloc[0]):
        return None
    r = mine.iloc[0]
    return NPSResult(
        score=float(r["score"]),
        n=int(r["n"]),
        promoters=float(r["promoters"]),
        passives=float(r["passives"]),
        detractors=float(r["detractors"]),
        se=float(r["se"]),
        ci_low=float(r["ci_low"]),
        ci_high=float(r["ci_high"]),
        conf=0.95,
        n_eff=float(r["n_eff"]),
        weighted=False,
        method="adjusted-wald-clustered" if ctx.cluster else "adjusted-wald",
        n_clusters=int(r["n_clusters"]) if "n_clusters" in r else None,
        deff=float(r["deff"]) if "deff" in r and pd.notna(r["deff"]) else 1.0,
    )


def _difference(row: pd.Series, diff: str, n_a: str, n_b: str) -> NPSDifference:
    return NPSDifference(
        diff=float(row[diff]),
        se=float(row["se"]),
        z=float(row["z"]),
        p_value=float(row["p_value"]),
        ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]),
        n_a=int(row[n_a]),
        n_b=int(row[n_b]),
    )


def _change(ctx: CountryContext, score: str) -> tuple[NPSDifference | None, float | None]:
    table = ctx.nps_changes(score)
    mine = table.loc[
        (table["country"].astype(str) == ctx.country)
        & ~table["competitor"].astype(bool)
        & (table["wave"].astype(str) == ctx.wave)
        & (table["previous_wave"].astype(str) == str(ctx.previous_wave))
    ]
    if mine.empty or pd.isna(mine["change"].iloc[0]):
        return None, None
    trends = ctx.country_trends
    nps_row = trends.loc[(trends["statistic"] == "nps") & (trends["wave"].astype(str) == ctx.wave)]
    q = float(nps_row["q_value"].iloc[0]) if len(nps_row) and "q_value" in nps_row else None
    return _difference(mine.iloc[0], "change", "n", "n_previous"), q


def _vs_rest(ctx: CountryContext, score: str) -> tuple[NPSDifference | None, float | None]:
    table = ctx.nps_vs_rest(score)
    mine = table.loc[table["country"] == ctx.country]
    if mine.empty or pd.isna(mine["diff"].iloc[0]):
        return None, None
    return _difference(mine.iloc[0], "diff", "n", "n_rest"), float(mine["q_value"].iloc[0])


def fmt_points(value: float | None, *, signed: bool = True) -> str:
    """Format NPS points for display: ``+23.4``; None becomes an empty string."""
    if value is None or pd.isna(value):
        return ""
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def headline_table(h: NPSHeadline, *, evidence: bool = True) -> pd.DataFrame:
    """Display table of the headline: one row per estimate or comparison, strings formatted.

    Columns: ``n``, ``NPS``, ``95% CI`` and, for the reviewer (``evidence=True``), ``p-value``
    and, where the report's multiplicity policy adjusted a comparison, ``q-value`` (the value
    its verdict rests on); for the manager (``evidence=False``) the verdict in words instead
    (``Verdict``: "no significant change", "significantly below", ...), from the same value.
    Suppressed cells say so instead of a number.
    """
    rows: list[dict[str, Any]] = []

    def estimate_row(name: str, result: NPSResult | None, n: int) -> None:
        if result is None:
            rows.append({"": name, "n": n, "NPS": suppressed_text(n, h.min_n), "95% CI": ""})
        else:
            rows.append(
                {
                    "": name,
                    "n": result.n,
                    "NPS": fmt_points(result.score),
                    "95% CI": fmt_interval(result.ci_low, result.ci_high, 1, signed=True),
                }
            )

    def diff_row(name: str, diff: NPSDifference | None, q: float | None, kind: str) -> None:
        if diff is None:
            rows.append({"": name, "NPS": "not tested (a cell is suppressed or missing)"})
            return
        shown = {
            "": name,
            "NPS": fmt_points(diff.diff),
            "95% CI": fmt_interval(diff.ci_low, diff.ci_high, 1, signed=True),
        }
        if evidence:
            shown["p-value"] = fmt_p(diff.p_value)
            if q is not None:
                shown["q-value"] = fmt_p(q)
        else:
            shown["Verdict"] = verdict_words(diff, q, kind=kind)
        rows.append(shown)

    name = h.label or h.country
    estimate_row(f"{name} {h.wave}", h.current, h.n)
    if h.previous_wave:
        estimate_row(f"{name} {h.previous_wave}", h.previous, h.n_previous)
        diff_row(f"Change since {h.previous_wave}", h.change, h.change_q, "change")
    if h.rest is None and not h.n_rest:  # a study of one unit: nobody to compare with
        rows.append({"": f"All {h.others} {h.wave}", "NPS": f"none: no {h.others} in the study"})
    else:
        estimate_row(f"All {h.others} {h.wave}", h.rest, h.n_rest)
        diff_row(f"Difference vs {h.others}", h.vs_rest, h.vs_rest_q, "difference")
    table = pd.DataFrame(rows, dtype=object).set_index("").fillna("")
    table["n"] = table["n"].map(lambda v: "" if v == "" else f"{int(v):,}")
    table.index.name = None
    return table


def report_heading(ctx: CountryContext) -> SafeHTML:
    """The report's title block: country, wave, respondents, the unit of inference with the
    NPS design effect, the small-cell rule and the multiplicity policy."""
    n = len(ctx.current)
    whose = "own-brand respondents" if "brand" in ctx.roles.values() else "respondents"
    if ctx.dimension == "country":
        title = f"{ctx.country_name} ({ctx.country}), wave {ctx.wave}"
    else:
        title = f"{ctx.unit[0][:1].upper()}{ctx.unit[0][1:]} {ctx.country_name}, wave {ctx.wave}"
    return heading(
        title,
        subtitle=(
            f"{n:,} {whose} in this wave; previous wave: "
            f"{ctx.previous_wave or 'none'}; cells below {ctx.min_n} respondents are suppressed. "
            f"{unit_note(ctx)} {POLICY_SHORT}"
        ),
        level=2,
    )


#: The multiplicity policy in one sentence (:data:`csatlib.stats.multiplicity.POLICY_TEXT`).
POLICY_SHORT = (
    "Significance: the changes and comparisons of this report form one family of tests, "
    "corrected with the Benjamini-Hochberg procedure (significant when q < 0.05)."
)


def unit_note(ctx: CountryContext) -> str:
    """What the intervals treat as independent: the accounts (with the NPS design effect of this
    wave) or, without an account column, the respondents."""
    if not ctx.cluster:
        return (
            "The study records no account, so respondents are the unit of every interval and "
            "test (respondents of one customer may answer alike; intervals may be too narrow)."
        )
    rows = ctx.current
    scores = pd.to_numeric(rows[ctx.nps_column], errors="coerce").to_numpy(float, na_value=np.nan)
    accounts = int(rows[ctx.cluster].nunique())
    text = f"The customer account is the unit of every interval and test ({accounts:,} accounts"
    if np.isfinite(scores).sum() >= max(ctx.min_n, 2) and accounts >= 2:
        deff = nps(scores, clusters=rows[ctx.cluster].to_numpy(dtype=object)).deff
        text += _deff_words(deff)
    return text + ")."


def _deff_words(deff: float) -> str:
    """The NPS design effect as the note under the title states it: a value below 1 (from a
    few accounts whose scores happen to agree) is named as what it is, and as what the
    intervals take instead (1: never narrower than for independent respondents); none when
    every respondent answered alike (0/0)."""
    if not np.isfinite(deff):
        return ""
    if deff < 1:
        return (
            f"; design effect of the NPS {deff:.2f}, below 1, so the intervals take 1: none is "
            "narrower than for independent respondents"
        )
    return f"; design effect of the NPS {deff:.1f}"


#: How each screen's finding reads in a sentence (shortfall, advantage).
SCREEN_PHRASES: dict[str, tuple[str, str]] = {
    "trend": ("deteriorated since {previous}", "improved since {previous}"),
    "vs_countries": ("below the {others}", "above the {others}"),
    "vs_competitors": ("below competitors' customers", "above competitors' customers"),
}


def _gap(screens: pd.DataFrame, attribute: str, screen: str) -> str:
    diff = screens.loc[attribute, f"{screen}_diff"] if f"{screen}_diff" in screens else None
    if diff is None or pd.isna(diff):
        return ""
    return f" by {abs(float(diff)):.2f} points"


def evidence_text(
    ctx: CountryContext, attribute: str, screens_: tuple[str, ...], side: int
) -> list[str]:
    """The findings behind a verdict as phrases ("below the other countries by 0.37 points");
    ``side`` 0 for shortfalls, 1 for advantages. Each is significant under the report's
    multiplicity policy; its q-value is in the screens table of the reviewer version."""
    previous = ctx.previous_wave or "the previous wave"
    return [
        SCREEN_PHRASES[name][side].format(previous=previous, others=ctx.others)
        + _gap(ctx.screen_table, attribute, name)
        for name in screens_
    ]


def _lower(text: str) -> str:
    """``text`` with a lower-case first letter, unless it starts with an acronym ("NPS")."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def priority_sentence(ctx: CountryContext, attribute: str) -> str:
    """One attribute's verdict with the evidence on both sides and its derived importance."""
    row = ctx.priorities.loc[attribute]
    side = 0 if row["verdict"] == "priority" else 1
    main = evidence_text(
        ctx, attribute, row["shortfalls"] if side == 0 else row["advantages"], side
    )
    other = evidence_text(
        ctx, attribute, row["advantages"] if side == 0 else row["shortfalls"], 1 - side
    )
    text = f"{label(attribute, ctx.labels)}: {' and '.join(main)}"
    if other:
        text += f"; but {' and '.join(other)}"
    if pd.notna(row["share"]):
        text += f"; {100 * float(row['share']):.0f}% of what explains {_lower(ctx.nps_label)}"
        if pd.notna(row["importance_ci_low"]) and float(row["importance"]) > 0:
            scale = 100 * float(row["share"]) / float(row["importance"])
            low, high = scale * row["importance_ci_low"], scale * row["importance_ci_high"]
            text += f" (95% CI {low:.0f}% to {high:.0f}%)"
    return text


def _priority_sentences(ctx: CountryContext) -> list[str | tuple[str, list[str]]]:
    table = ctx.priorities
    if table.empty:
        return []
    if (table["verdict"] == "not enough data").all():
        return [
            "What to fix: not enough data to tell; every attribute has too few answers in this "
            f"wave (fewer than {ctx.min_n}) or nothing to compare with."
        ]
    out: list[str | tuple[str, list[str]]] = []
    every = table.index[table["verdict"] == "priority"]
    fix = every[:3]
    if len(fix):
        from csatlib.report.actions import plan_words

        items = []
        for attribute in fix:
            plan = plan_words(ctx.action_plans, attribute)
            items.append(priority_sentence(ctx, attribute) + (f" — {plan}." if plan else "."))
        if len(every) > len(fix):
            rest = ", ".join(label(a, ctx.labels) for a in every[len(fix) :])
            items.append(f"Also priorities, in order: {rest} (see the action plans).")
        out.append(("What to fix first:", items))
    else:
        out.append(
            "What to fix: no attribute is significantly worse than the previous wave, the "
            f"{ctx.others} or competitors' customers."
        )
    keep = table.index[table["verdict"] == "strength"][:2]
    if len(keep):
        out.append(("Strengths to keep:", [priority_sentence(ctx, a) + "." for a in keep]))
    short = table.index[table["verdict"] == "not enough data"]
    if len(short):
        out.append(
            f"Not enough data to tell for {', '.join(label(a, ctx.labels) for a in short)} "
            f"(fewer than {ctx.min_n} answers or nothing to compare with)."
        )
    return out


def _nps_sentence(ctx: CountryContext, headline: NPSHeadline) -> str:
    cur = headline.current
    if cur is None:
        return (
            f"Net Promoter Score for {ctx.wave}: not shown; {headline.n:,} respondents, fewer "
            f"than the {ctx.min_n:,} a figure needs."
        )
    interval = fmt_interval(cur.ci_low, cur.ci_high, 1, signed=True)
    if interval:
        ci = f"95% CI {interval}"
    elif cur.n_clusters is not None and cur.n_clusters < 2 and cur.n > 1:
        ci = f"no confidence interval: the {cur.n:,} respondents are one customer account"
    else:
        ci = f"no confidence interval with n = {cur.n:,}"
    return f"Net Promoter Score {fmt_points(cur.score)} ({ci}), n = {cur.n:,}, wave {ctx.wave}."


def _untested(d: NPSDifference) -> str | None:
    """Why a difference has no test (no p-value: a sample too small for a variance), or None."""
    if pd.isna(d.p_value):
        return f"not tested (n = {d.n_a:,} and {d.n_b:,}: too few for a test)"
    return None


def _decisive(p: float, q: float | None) -> float:
    """The value a verdict rests on: the q-value when a family adjusted it, else the p-value."""
    return float(q) if q is not None and pd.notna(q) else float(p)


def verdict_words(d: NPSDifference, q: float | None = None, *, kind: str = "change") -> str:
    """A change or difference in words, significant when its q-value (else p-value) < 0.05.

    ``kind="change"``: "a significant rise", "a significant fall" or "no significant change";
    ``kind="difference"``: "significantly above", "significantly below" or "not significantly
    different"; a difference without a p-value (too few answers for a variance) is "not
    tested". The words a manager reads; the reviewer's table shows the p- and q-values.

    A comparison significant on its own (p < 0.05, so its 95% interval leaves out zero) but not
    once its family's comparisons are allowed for (q >= 0.05) says so, "(allowing for multiple
    comparisons)": a manager who reads an interval from -33.5 to -0.9 next to "not
    significantly different" is told why the two do not contradict each other.
    """
    words, why = _verdict_parts(d, q, kind)
    return f"{words} {why}" if why else words


def _verdict_parts(d: NPSDifference, q: float | None, kind: str) -> tuple[str, str]:
    """:func:`verdict_words` as (verdict, the multiplicity remark or "")."""
    if _untested(d):
        return "not tested (too few answers)", ""
    significant = _decisive(d.p_value, q) < 0.05
    why = MULTIPLICITY_REMARK if not significant and float(d.p_value) < 0.05 else ""
    if kind == "change":
        if not significant:
            return "no significant change", why
        return ("a significant rise" if d.diff > 0 else "a significant fall"), ""
    if not significant:
        return "not significantly different", why
    return ("significantly above" if d.diff > 0 else "significantly below"), ""


#: Said of a comparison significant on its own but not within its family of tests.
MULTIPLICITY_REMARK = "(allowing for multiple comparisons)"


def _change_sentence(ctx: CountryContext, d: NPSDifference, q: float | None = None) -> str:
    start = f"Change since {ctx.previous_wave}: {fmt_points(d.diff)} points"
    untested = _untested(d)
    if untested:
        return f"{start}, {untested}."
    return f"{start}: {verdict_words(d, q, kind='change')}."


def _rest_sentence(
    rest: NPSResult, d: NPSDifference, q: float | None = None, others: str = "other countries"
) -> str:
    start = f"Compared with all {others} ({fmt_points(rest.score)}): {fmt_points(d.diff)} points"
    untested = _untested(d)
    if untested:
        return f"{start}, {untested}."
    words, why = _verdict_parts(d, q, "difference")
    them = "from them" if words.startswith("not") else "them"
    return f"{start}, {words} {them}{' ' + why if why else ''}."


def _money(value: float) -> str:
    """USD for a sentence: "5.6 million" from a million on, else "48,200"."""
    return f"{value / 1e6:.1f} million" if value >= 1e6 else f"{value:,.0f}"


_FOLLOWUP_WORDS = {  # one, several
    "recovery": ("recovery call for a low ticket rating", "recovery calls for low ticket ratings"),
    "testimonial": ("testimonial request", "testimonial requests"),
    "callback": ("complaint callback", "complaint callbacks"),
}


def who_to_call(ctx: CountryContext) -> str:
    """One sentence on whom to call: accounts at risk with the revenue at stake, and the
    follow-ups listed for the teams (counts only; the named lists are in reports/lists).
    Empty when the study has neither accounts nor follow-ups."""
    parts = []
    counts = ctx.at_risk_counts
    if counts is not None and ctx.country in counts.index:
        row = counts.loc[ctx.country]
        text = f"{int(row['at_risk'])} of {int(row['accounts_assessed'])} accounts at risk"
        money = float(row.get("revenue_at_stake_usd", 0) or 0)
        unknown = int(row.get("at_risk_no_revenue", 0) or 0)
        said = [f"revenue at stake USD {_money(money)}"] if money > 0 else []
        said += [f"{unknown} of them without revenue on file"] if unknown else []
        parts.append(text + (f" ({'; '.join(said)})" if said else ""))
    followups = ctx.followup_counts
    if followups is not None and len(followups):
        listed = followups.groupby("list")["listed"].sum()
        parts += [
            f"{int(listed[name])} {words[int(listed[name]) != 1]}"
            for name, words in _FOLLOWUP_WORDS.items()
            if name in listed.index
        ]
    if not parts:
        return ""
    return "Who to call: " + "; ".join(parts) + " (the named lists are in reports/lists)."


def executive_summary(ctx: CountryContext, headline: NPSHeadline) -> SafeHTML:
    """The report's first paragraph: NPS with its interval, change and comparison, then what to
    fix first and the strengths (:attr:`CountryContext.priorities`: the screens' significant
    findings ordered by derived importance, with the evidence on both sides), as an escaped
    bullet list.

    A difference is significant at p < 0.05; one without a p-value (a sample of one respondent
    has no variance) is said to be not tested."""
    sentences: list[str | tuple[str, list[str]]] = [_nps_sentence(ctx, headline)]
    if headline.change is not None:
        sentences.append(_change_sentence(ctx, headline.change, headline.change_q))
    if headline.vs_rest is not None and headline.rest is not None:
        sentences.append(
            _rest_sentence(headline.rest, headline.vs_rest, headline.vs_rest_q, headline.others)
        )
    sentences += _priority_sentences(ctx)
    call = who_to_call(ctx)
    if call:
        sentences.append(call)
    items = "".join(
        f"<li>{escape(t)}</li>"
        if isinstance(t, str)
        else f"<li>{escape(t[0])}<ul>{''.join(f'<li>{escape(x)}</li>' for x in t[1])}</ul></li>"
        for t in sentences
    )
    return SafeHTML(f'<ul class="csat-summary">{items}</ul>')


def driver_notes(results: pd.DataFrame, *, labels: dict[str, str]) -> SafeHTML:
    """What the key-driver table rests on, in words and with the codebook's labels: n, R², the
    drivers left out, and the neighbours in importance whose order the data cannot establish.

    The neighbours are those of :func:`csatlib.stats.drivers.overlap_notes`: drivers adjacent
    in importance whose paired bootstrap difference (``attrs["differences"]``) does not
    separate them, each said as "Product quality and On-site service: the data cannot tell
    which matters more (their order reverses in 3% of bootstrap resamples)."."""
    attrs = results.attrs
    if attrs.get("suppressed"):
        reason = escape("Key drivers suppressed: " + str(attrs.get("reason", "")))
        return SafeHTML(f'<p class="csat-suppressed">{reason}</p>')
    r2 = attrs.get("r2")
    explained = (
        f"The attributes together explain {fmt_number(100 * float(r2), 0)}% of the variation "
        f"in the answers (R² = {fmt_number(r2, 3)}), shared among them by a Shapley "
        "decomposition"
        if r2 is not None and pd.notna(r2)
        else "Shapley decomposition of R²"
    )
    clusters = int(attrs.get("n_clusters", 0) or 0)
    if attrs.get("cluster") and not attrs.get("n_valid"):  # too few accounts to resample
        notes = [
            f"{explained}; n = {int(attrs.get('n', 0)):,} respondents in {clusters} accounts: "
            "too few accounts for bootstrap intervals, so the importances are estimates "
            "without intervals and the data cannot say which of two attributes matters more."
        ]
    else:
        notes = [
            f"{explained}; n = {int(attrs.get('n', 0)):,} respondents, 95% intervals from "
            f"{int(attrs.get('n_boot', 0))} bootstrap resamples"
            + (f" of the {clusters} accounts." if attrs.get("cluster") else ".")
        ]
    for driver, reason in (attrs.get("dropped") or {}).items():
        notes.append(f"{label(driver, labels)} left out: {reason}.")
    pairs = {frozenset((r["driver_a"], r["driver_b"])): r for r in attrs.get("differences", [])}
    order = list(results["importance"].dropna().sort_values(ascending=False).index)
    for a, b in zip(order, order[1:], strict=False):
        record = pairs.get(frozenset((a, b)))
        if record is not None and record["separated"] is False:
            notes.append(
                f"{label(a, labels)} and {label(b, labels)}: the data cannot tell which matters "
                f"more (their order reverses in {float(record['share_reversed']):.0%} of "
                "bootstrap resamples)."
            )
    items = "".join(f"<li>{escape(t)}</li>" for t in notes)
    return SafeHTML(f'<ul class="csat-note">{items}</ul>')
