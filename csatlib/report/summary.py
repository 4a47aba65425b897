"""The executive summary of one country's report: NPS with its interval, change, and vs the rest.

Everything here is assembled from :mod:`csatlib.stats.nps`; this module only decides what the
headline compares and how a suppressed cell is shown (``"suppressed (n = 12 < 30)"``, never a
number).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from csatlib.report.context import CountryContext
from csatlib.report.display import SafeHTML, escape, heading
from csatlib.report.tables import fmt_interval, fmt_number, fmt_p, label
from csatlib.stats.nps import NPSDifference, NPSResult, nps, nps_difference

__all__ = [
    "NPSHeadline",
    "nps_headline",
    "headline_table",
    "headline_metrics",
    "fmt_points",
    "report_heading",
    "executive_summary",
    "driver_notes",
    "report_metrics",
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


def _valid(scores: pd.Series) -> pd.Series:
    return pd.to_numeric(scores, errors="coerce").dropna()


def _estimate(scores: pd.Series, min_n: int) -> NPSResult | None:
    return nps(scores) if len(scores) >= min_n else None


def nps_headline(ctx: CountryContext, *, score: str | None = None) -> NPSHeadline:
    """Compute the headline NPS figures of a country's report (own-brand customers only).

    The change is a two-sample test of the wave against the previous wave; "vs the rest" tests
    the country against all other countries' own-brand customers pooled, same wave
    (:func:`csatlib.stats.nps.nps_difference`). Cells below ``ctx.min_n`` are suppressed, and so is
    any comparison that involves one. ``score`` defaults to the study's recommend question (role
    ``nps``).
    """
    score = score or ctx.nps_column
    cur = _valid(ctx.current[score])
    prev = _valid(ctx.previous[score]) if ctx.previous_wave else cur.iloc[:0]
    rest = _valid(ctx.others_current[score])
    current, previous, rest_result = (
        _estimate(cur, ctx.min_n),
        _estimate(prev, ctx.min_n),
        _estimate(rest, ctx.min_n),
    )
    change = nps_difference(cur, prev) if current and previous else None
    vs_rest = nps_difference(cur, rest) if current and rest_result else None
    return NPSHeadline(
        country=ctx.country,
        wave=ctx.wave,
        previous_wave=ctx.previous_wave,
        min_n=ctx.min_n,
        n=len(cur),
        n_previous=len(prev),
        n_rest=len(rest),
        current=current,
        previous=previous,
        rest=rest_result,
        change=change,
        vs_rest=vs_rest,
    )


def fmt_points(value: float | None, *, signed: bool = True) -> str:
    """Format NPS points for display: ``+23.4``; None becomes an empty string."""
    if value is None or pd.isna(value):
        return ""
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def _suppressed(n: int, min_n: int) -> str:
    return f"suppressed (n = {n} < {min_n})"


def headline_table(h: NPSHeadline) -> pd.DataFrame:
    """Display table of the headline: one row per estimate or comparison, strings formatted.

    Columns: ``n``, ``NPS``, ``95% CI``, ``p-value``. Suppressed cells say so instead of a number.
    """
    rows: list[dict[str, Any]] = []

    def estimate_row(label: str, result: NPSResult | None, n: int) -> None:
        if result is None:
            rows.append({"": label, "n": n, "NPS": _suppressed(n, h.min_n), "95% CI": ""})
        else:
            rows.append(
                {
                    "": label,
                    "n": result.n,
                    "NPS": fmt_points(result.score),
                    "95% CI": f"{fmt_points(result.ci_low)} to {fmt_points(result.ci_high)}",
                }
            )

    def diff_row(label: str, diff: NPSDifference | None) -> None:
        if diff is None:
            rows.append({"": label, "NPS": "not tested (a cell is suppressed or missing)"})
        else:
            rows.append(
                {
                    "": label,
                    "NPS": fmt_points(diff.diff),
                    "95% CI": f"{fmt_points(diff.ci_low)} to {fmt_points(diff.ci_high)}",
                    "p-value": fmt_p(diff.p_value),
                }
            )

    estimate_row(f"{h.country} {h.wave}", h.current, h.n)
    if h.previous_wave:
        estimate_row(f"{h.country} {h.previous_wave}", h.previous, h.n_previous)
        diff_row(f"Change since {h.previous_wave}", h.change)
    estimate_row(f"All other countries {h.wave}", h.rest, h.n_rest)
    diff_row("Difference vs other countries", h.vs_rest)
    table = pd.DataFrame(rows).set_index("").fillna("")
    table["n"] = table["n"].map(lambda v: "" if v == "" else f"{int(v):,}")
    table.index.name = None
    return table


def headline_metrics(h: NPSHeadline) -> dict[str, Any]:
    """The headline as JSON-ready data for ``reports/metrics/<CC>.json``.

    Suppressed estimates appear as ``{"suppressed": true, "n": ...}`` with no score.
    """

    def result(r: NPSResult | None, n: int) -> dict[str, Any]:
        if r is None:
            return {"suppressed": True, "n": n}
        return {
            "suppressed": False,
            "n": r.n,
            "score": round(r.score, 4),
            "se": round(r.se, 4),
            "ci_low": round(r.ci_low, 4),
            "ci_high": round(r.ci_high, 4),
        }

    def diff(d: NPSDifference | None) -> dict[str, Any] | None:
        if d is None:
            return None
        return {
            "diff": round(d.diff, 4),
            "se": round(d.se, 4),
            "ci_low": round(d.ci_low, 4),
            "ci_high": round(d.ci_high, 4),
            "p_value": round(d.p_value, 6),
        }

    return {
        "country": h.country,
        "wave": h.wave,
        "previous_wave": h.previous_wave,
        "n": h.n,
        "min_n": h.min_n,
        "nps": result(h.current, h.n),
        "nps_previous": result(h.previous, h.n_previous),
        "nps_change": diff(h.change),
        "nps_other_countries": result(h.rest, h.n_rest),
        "nps_vs_other_countries": diff(h.vs_rest),
    }


def report_heading(ctx: CountryContext) -> SafeHTML:
    """The report's title block: country, wave, respondents and the small-cell rule."""
    n = len(ctx.current)
    whose = "own-brand respondents" if "brand" in ctx.roles.values() else "respondents"
    return heading(
        f"{ctx.country_name} ({ctx.country}), wave {ctx.wave}",
        subtitle=(
            f"{n:,} {whose} in this wave; previous wave: "
            f"{ctx.previous_wave or 'none'}; cells below {ctx.min_n} respondents are suppressed."
        ),
        level=2,
    )


_FAILS = {
    "trend_verdict": ("deteriorated", "deteriorated since the last wave"),
    "vs_countries_verdict": ("below", "below the other countries"),
    "vs_competitors_verdict": ("below", "below competitors' customers"),
    "rank_verdict": ("bottom", "among the country's three lowest"),
}
_PASSES = {
    "trend_verdict": ("improved", "improved since the last wave"),
    "vs_countries_verdict": ("above", "above the other countries"),
    "vs_competitors_verdict": ("above", "above competitors' customers"),
    "rank_verdict": ("top", "among the country's three highest"),
}


def _screen_sentence(screens: pd.DataFrame, cls: str, labels: dict[str, str]) -> str:
    rows = screens.loc[screens["class"] == cls]
    kind = "problem" if cls == "problem" else "best practice"
    title = "Top problem" if cls == "problem" else "Best practice"
    if rows.empty:
        return f"{title}: no attribute is classed {kind} in this wave."
    key = "n_fail" if cls == "problem" else "n_pass"
    best = rows.sort_values([key, "mean"], ascending=[False, cls == "problem"]).iloc[0]
    reasons = _FAILS if cls == "problem" else _PASSES
    evidence = [text for col, (value, text) in reasons.items() if best.get(col) == value]
    return f"{title}: {label(best.name, labels)} ({', '.join(evidence)})."


def executive_summary(
    ctx: CountryContext, headline: NPSHeadline, screens: pd.DataFrame
) -> SafeHTML:
    """The report's first paragraph: NPS with its interval, change, comparison, top problem and
    best practice (from the four screens), as an escaped bullet list."""
    sentences: list[str] = []
    if headline.current is None:
        sentences.append(
            f"Net Promoter Score for {ctx.wave}: suppressed, {headline.n} respondents is below "
            f"the minimum of {ctx.min_n}."
        )
    else:
        cur = headline.current
        sentences.append(
            f"Net Promoter Score {fmt_points(cur.score)} (95% CI "
            f"{fmt_interval(cur.ci_low, cur.ci_high, 1, signed=True)}), n = {cur.n:,}, "
            f"wave {ctx.wave}."
        )
    if headline.change is not None:
        d = headline.change
        verdict = (
            ("a significant rise" if d.diff > 0 else "a significant fall")
            if d.p_value < 0.05
            else "no significant change"
        )
        sentences.append(
            f"Change since {ctx.previous_wave}: {fmt_points(d.diff)} points "
            f"(p {fmt_p(d.p_value) if d.p_value < 0.001 else '= ' + fmt_p(d.p_value)}): {verdict}."
        )
    if headline.vs_rest is not None and headline.rest is not None:
        d = headline.vs_rest
        verdict = (
            ("significantly above" if d.diff > 0 else "significantly below")
            if d.p_value < 0.05
            else "not significantly different from"
        )
        sentences.append(
            f"Compared with all other countries ({fmt_points(headline.rest.score)}): "
            f"{fmt_points(d.diff)} points, {verdict} them."
        )
    if not screens.empty:
        sentences.append(_screen_sentence(screens, "problem", ctx.labels))
        sentences.append(_screen_sentence(screens, "best practice", ctx.labels))
    items = "".join(f"<li>{escape(t)}</li>" for t in sentences)
    return SafeHTML(f'<ul class="csat-summary">{items}</ul>')


def driver_notes(results: pd.DataFrame, *, labels: dict[str, str]) -> SafeHTML:
    """What the key-driver table rests on: n, R², dropped drivers, and which drivers' intervals
    overlap (their order is not established)."""
    attrs = results.attrs
    if attrs.get("suppressed"):
        reason = escape("Key drivers suppressed: " + str(attrs.get("reason", "")))
        return SafeHTML(f'<p class="csat-suppressed">{reason}</p>')
    notes = [
        f"Shapley decomposition of R² = {fmt_number(attrs.get('r2'), 3)} "
        f"(n = {int(attrs.get('n', 0)):,}, {int(attrs.get('n_boot', 0))} bootstrap resamples "
        "for the 95% intervals)."
    ]
    for driver, reason in (attrs.get("dropped") or {}).items():
        notes.append(f"{label(driver, labels)} left out: {reason}.")
    notes += [str(n) for n in attrs.get("overlap_notes", [])]
    items = "".join(f"<li>{escape(t)}</li>" for t in notes)
    return SafeHTML(f'<ul class="csat-note">{items}</ul>')


def _rounded(value: object, digits: int = 4) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if pd.isna(number) else round(number, digits)


def report_metrics(
    headline: NPSHeadline,
    *,
    attribute_scores: pd.DataFrame | None = None,
    loyalty_summary: pd.DataFrame | None = None,
    screens: pd.DataFrame | None = None,
    drivers: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Everything the metrics JSON carries: the NPS headline, CSAT, loyalty index with alpha,
    the screen classes, and each driver's importance and rank. Suppressed cells carry
    ``{"suppressed": true, "n": ...}`` and no estimate. A part the study does not have (None or
    an empty table: no attributes, fewer than two loyalty items) is absent from the output."""
    out = headline_metrics(headline)
    csat = {}
    empty = pd.DataFrame()
    attribute_scores = empty if attribute_scores is None else attribute_scores
    loyalty_summary = empty if loyalty_summary is None else loyalty_summary
    screens = empty if screens is None else screens
    for _, row in attribute_scores.iterrows():
        if bool(row["suppressed"]):
            csat[str(row["measure"])] = {"suppressed": True, "n": int(row["n"])}
        else:
            csat[str(row["measure"])] = {
                "suppressed": False,
                "n": int(row["n"]),
                "mean": _rounded(row["mean"]),
                "ci_low": _rounded(row["ci_low"]),
                "ci_high": _rounded(row["ci_high"]),
                "top_box": _rounded(row["top_box"]),
            }
    if csat:
        out["csat"] = csat
    if len(loyalty_summary):
        row = loyalty_summary.iloc[0]
        out["loyalty"] = (
            {"suppressed": True, "n": int(row["n"])}
            if bool(row["suppressed"])
            else {
                "suppressed": False,
                "n": int(row["n"]),
                "index": _rounded(row["score"]),
                "ci_low": _rounded(row["ci_low"]),
                "ci_high": _rounded(row["ci_high"]),
                "alpha": _rounded(row["alpha"]),
            }
        )
    if len(screens):
        out["screens"] = {str(k): str(v) for k, v in screens["class"].items()}
    if drivers is None or (drivers.empty and not drivers.attrs):
        return out
    if drivers.attrs.get("suppressed") or drivers.empty:
        out["drivers"] = {"suppressed": True, "reason": str(drivers.attrs.get("reason", ""))}
    else:
        out["drivers"] = {
            str(k): {
                "importance": _rounded(r["importance"]),
                "ci_low": _rounded(r["ci_low"]),
                "ci_high": _rounded(r["ci_high"]),
                "share": _rounded(r["share"]),
                "rank": int(r["rank"]),
            }
            for k, r in drivers.iterrows()
        }
        out["drivers_r2"] = _rounded(drivers.attrs.get("r2"))
        out["drivers_n"] = int(drivers.attrs.get("n", 0))
    return out
