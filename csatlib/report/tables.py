"""Display tables for the reports: analysis frames in, rounded, labelled, readable frames out.

These functions compute nothing; they choose columns, round, join intervals into one
``"7.1 to 7.6"`` cell, replace canonical names by the codebook's labels, and write suppressed
cells out as ``"suppressed (n = 12 < 30)"`` so that a number below the small-cell minimum can
never reach a table. Customer text stays plain text: pandas escapes it when the table is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from csatlib import roles
from csatlib.ingest.countries import country_name
from csatlib.report.display import label  # said once, where the light modules can reach it

if TYPE_CHECKING:
    from csatlib.report.display import SafeHTML
    from csatlib.text.accuracy import CoderAccuracy

__all__ = [
    "fmt_number",
    "fmt_interval",
    "fmt_p",
    "suppressed_text",
    "label",
    "attribute_scores",
    "trend_table",
    "driver_display",
    "screens_display",
    "nps_table",
    "loyalty_display",
    "expectation_display",
    "pareto_display",
    "pareto_note",
    "ipa_display",
    "stated_vs_derived_display",
    "cit_display",
    "coder_accuracy_note",
    "transaction_display",
    "account_counts_display",
    "followup_display",
    "quality_display",
    "show_full_text",
    "scorecard_display",
]


def fmt_number(value: object, digits: int = 1, *, signed: bool = False) -> str:
    """Round for reading; missing values become an empty cell."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if np.isnan(number):
        return ""
    return f"{number:+.{digits}f}" if signed else f"{number:.{digits}f}"


def fmt_interval(low: object, high: object, digits: int = 1, *, signed: bool = False) -> str:
    """``"7.1 to 7.6"``; empty when either end is missing."""
    a, b = fmt_number(low, digits, signed=signed), fmt_number(high, digits, signed=signed)
    return f"{a} to {b}" if a and b else ""


#: An interval cell of a group answered by one account: no variance between accounts to show.
ONE_ACCOUNT_TEXT = "none (one account)"


def _interval_cells(
    table: pd.DataFrame, low: str, high: str, digits: int, *, factor: float = 1.0
) -> list[str]:
    """``fmt_interval`` of each row's ``low`` to ``high`` (times ``factor``), or
    :data:`ONE_ACCOUNT_TEXT` where the interval is missing because the row's answers come from
    fewer than two accounts (``n_clusters``; see :func:`csatlib.stats.scores.scores_by_group`)."""
    accounts = table["n_clusters"] if "n_clusters" in table else pd.Series(np.nan, table.index)
    return [
        ONE_ACCOUNT_TEXT
        if pd.isna(a) and pd.notna(c) and c < 2
        else fmt_interval(factor * a, factor * b, digits)
        for a, b, c in zip(table[low], table[high], accounts, strict=True)
    ]


def _counts(n: pd.Series) -> np.ndarray:
    """Counts for a table: "1,234" (thousands separated), "" where missing."""
    return np.array(["" if pd.isna(v) else f"{int(v):,}" for v in n], dtype=object)


def fmt_p(value: object) -> str:
    """p-values for people: ``"<0.001"`` below a thousandth, else three decimals."""
    if value is None or value is pd.NA:
        return ""
    number = float(value)  # type: ignore[arg-type]
    if np.isnan(number):
        return ""
    return "<0.001" if number < 0.001 else f"{number:.3f}"


#: The text shown instead of an estimate hidden so that a small cell cannot be worked out.
PROTECTS_TEXT = "suppressed (protects a small cell)"


def suppressed_text(n: object, min_n: int) -> str:
    """The text shown instead of an estimate whose cell is below ``min_n``."""
    try:
        count = int(n)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        count = 0
    return f"suppressed (n = {count} < {min_n})"


def _relabel(index: Sequence[object], labels: Mapping[str, str] | None) -> list[str]:
    return [label(v, labels) for v in index]


def _is_suppressed(frame: pd.DataFrame) -> np.ndarray:
    if "suppressed" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame["suppressed"].fillna(True).to_numpy(dtype=bool)


def _country(code: object) -> str:
    """A country code's English short name (``"DE"`` -> ``"Germany"``); other values as given."""
    try:
        return country_name(str(code))
    except KeyError:
        return str(code)


def _by_rows(out: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """``out`` indexed by its ``keys`` columns, with a header of one row of plain labels.

    pandas shows an index's name as a second header row under the column labels (``month``,
    ``country``). Here the index is unnamed: a single key's label (``"Month"``) heads the row
    labels in the header row's first cell instead, and the values of several keys (a region, a
    month) say what they are. Country codes read as country names (``"Germany"``).
    """
    keys = list(keys)
    shown = out.assign(**{k: [_country(v) for v in out[k]] for k in keys if k == "country"})
    indexed = shown.set_index(keys)
    indexed.index.names = [None] * len(keys)
    indexed.columns.name = label(keys[0], None) if len(keys) == 1 else None
    return indexed


def attribute_scores(
    scores: pd.DataFrame, *, labels: Mapping[str, str] | None, min_n: int, box_label: str
) -> pd.DataFrame:
    """Table of :func:`csatlib.stats.scores.scores_by_group` rows: mean with CI and top-box
    share, one row per rating named by its label (the index has no name: no second header
    row)."""
    sup = _is_suppressed(scores)
    out = pd.DataFrame(
        {
            "n": _counts(scores["n"]),
            "Mean": [fmt_number(v, 2) for v in scores["mean"]],
            "95% CI": _interval_cells(scores, "ci_low", "ci_high", 2),
            box_label: [fmt_number(100 * v, 1) for v in scores["top_box"]],
            f"{box_label} 95% CI": _interval_cells(
                scores, "top_box_ci_low", "top_box_ci_high", 1, factor=100.0
            ),
        },
        index=_relabel(scores["measure"], labels),
    )
    out.loc[sup, "Mean"] = [suppressed_text(n, min_n) for n in scores.loc[sup, "n"]]
    out.loc[sup, ["95% CI", box_label, f"{box_label} 95% CI"]] = ""
    return out


def _recommend_labels(
    trends: pd.DataFrame, rows: pd.DataFrame, labels: Mapping[str, str] | None, statistic: str
) -> list[str]:
    """Row labels of :func:`trend_table`: the codebook's, except for the recommend question."""
    names = _relabel(rows["measure"], labels)
    if "statistic" not in trends or statistic not in ("nps", "mean"):
        return names
    by_statistic = trends.groupby("statistic", observed=True)["measure"].agg(set)
    recommend = by_statistic.get("nps", set()) & by_statistic.get("mean", set())
    low, high = roles.NPS_SCALE
    own = "Net Promoter Score" if statistic == "nps" else "{} (mean, " + f"{low}–{high})"
    return [
        own.format(name) if m in recommend else name
        for m, name in zip(rows["measure"], names, strict=True)
    ]


def trend_table(
    trends: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None,
    min_n: int,
    statistic: str = "mean",
) -> pd.DataFrame:
    """Measures by wave from :func:`csatlib.stats.scores.trends`; ▲/▼ marks a significant change.

    A cell reads ``"7.85 ▲"`` when the change from the previous wave is significant, and
    ``"suppressed (n = 12 < 30)"`` below the minimum.

    Rows are named by ``labels``, except the recommend question's: ``trends`` gives the
    measure with an NPS (role ``nps``) both its NPS and its mean, and such a measure's NPS row
    reads ``"Net Promoter Score"`` and its mean row ``"Likelihood to recommend (mean, 0–10)"``
    (the label, the statistic and the 0–10 scale of :data:`csatlib.roles.NPS_SCALE`), so that
    the two tables never show one label for two figures. A table of NPS rows only (the global
    summary's, one row per country) keeps the labels given.
    """
    rows = trends.loc[trends["statistic"] == statistic] if "statistic" in trends else trends
    if rows.empty:
        return pd.DataFrame()
    digits = 1 if statistic == "nps" else 2
    sup = _is_suppressed(rows)
    change = pd.to_numeric(rows["change"], errors="coerce").to_numpy()
    sig = rows["significant"].fillna(False).to_numpy(dtype=bool)
    cells = []
    for value, n, s, d, flag in zip(rows["value"], rows["n"], sup, change, sig, strict=True):
        if s:
            cells.append(suppressed_text(n, min_n))
        else:
            arrow = (" ▲" if d > 0 else " ▼") if flag else ""
            cells.append(fmt_number(value, digits, signed=statistic == "nps") + arrow)
    table = pd.DataFrame(
        {
            "measure": _recommend_labels(trends, rows, labels, statistic),
            "wave": rows["wave"].astype(str),
            "v": cells,
        }
    )
    order = list(dict.fromkeys(table["measure"]))
    wide = table.pivot(index="measure", columns="wave", values="v").reindex(order)
    wide.index.name = None
    wide.columns.name = None
    return wide.fillna("")


def driver_display(
    table: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None,
    verdicts: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The key-driver table of :func:`csatlib.stats.drivers.driver_table`, for reading.

    With ``verdicts`` (attribute -> the verdict of :func:`csatlib.stats.priorities.priorities`)
    the last column is each attribute's verdict, as everywhere in the report; without it, the
    importance-performance quadrant. ``Effect of +1 SD (95% CI)`` is the standardized
    regression coefficient (``std_beta``, HC3 interval): by how many standard deviations the
    outcome moves when the attribute's rating is one standard deviation higher and the others
    stay the same."""
    if table.attrs.get("suppressed") or table.empty:
        reason = table.attrs.get("reason", "too few complete responses")
        return pd.DataFrame({"Key drivers": [f"suppressed: {reason}"]}, index=[""])
    out = pd.DataFrame(
        {
            "Rank": [
                f"{int(r)} ({int(a)}–{int(b)})" if pd.notna(a) and pd.notna(b) else f"{int(r)}"
                for r, a, b in zip(
                    table["rank"], table["rank_ci_low"], table["rank_ci_high"], strict=False
                )
            ],
            "Share of R² (%)": [fmt_number(100 * v, 1) for v in table["share"]],
            "Importance (R² points)": [fmt_number(100 * v, 1) for v in table["importance"]],
            "95% CI": [
                fmt_interval(100 * a, 100 * b, 1)
                for a, b in zip(table["ci_low"], table["ci_high"], strict=True)
            ],
            "Effect of +1 SD (95% CI)": [
                f"{fmt_number(b, 2)} ({fmt_interval(lo, hi, 2)})"
                for b, lo, hi in zip(
                    table["std_beta"], table["std_ci_low"], table["std_ci_high"], strict=False
                )
            ],
            "Performance (mean)": [fmt_number(v, 2) for v in table["performance"]],
            **(
                {"Verdict": [str(verdicts.get(str(a), "")) for a in table.index]}
                if verdicts is not None
                else {"Quadrant": table["quadrant"].astype(str).to_numpy()}
            ),
            "Cannot be separated from": [
                ", ".join(label(x.strip(), labels) for x in str(v).split(",") if x.strip())
                if isinstance(v, str)
                else ""
                for v in table["not_separable_from"]
            ],
        },
        index=_relabel(table.index, labels),
    )
    return out


_VERDICT_MARK = {
    "improved": "▲ improved",
    "deteriorated": "▼ deteriorated",
    "above": "▲ above",
    "below": "▼ below",
    "top": "▲ top",
    "bottom": "▼ bottom",
}


def screens_display(
    table: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None,
    min_n: int,
    verdicts: Mapping[str, str] | None = None,
    evidence: bool = True,
    others: str = "other countries",
) -> pd.DataFrame:
    """The four-screen table of :func:`csatlib.stats.screens.four_screens`, one row per
    attribute, with each attribute's verdict (``verdicts``: attribute -> the verdict of
    :func:`csatlib.stats.priorities.priorities`, the one every section of the report shows;
    without it, the screens' own class).

    A screen reads its verdict with the evidence, ``"▼ deteriorated (-0.30, q 0.010)"`` for the
    reviewer; for the manager (``evidence=False``) the verdict and the difference only,
    ``"▼ deteriorated (-0.30)"`` (the words already say whether it is significant). An
    attribute below the minimum reads ``"suppressed (n = 12 < 30)"`` and its screens show no
    difference. ``others`` names screen 2's comparison group ("other business units" in a
    report by business unit)."""
    sup = _is_suppressed(table)

    def verdict(prefix: str, digits: int = 2) -> list[str]:
        out = []
        for v, d, q, s in zip(
            table[f"{prefix}_verdict"],
            table[f"{prefix}_diff"],
            table[f"{prefix}_q_value"],
            sup,
            strict=False,
        ):
            text = _VERDICT_MARK.get(str(v), str(v))
            if not s and pd.notna(d) and str(v) not in {"suppressed", "no previous wave"}:
                shown = fmt_number(d, digits, signed=True)
                text += f" ({shown}, q {fmt_p(q)})" if evidence else f" ({shown})"
            out.append(text)
        return out

    out = pd.DataFrame(
        {
            "n": _counts(table["n"]),
            "Mean": [
                suppressed_text(n, min_n) if s else fmt_number(m, 2)
                for m, n, s in zip(table["mean"], table["n"], sup, strict=True)
            ],
            "1. vs last wave": verdict("trend"),
            f"2. vs {others}": verdict("vs_countries"),
            "3. vs competitors' customers": (
                verdict("vs_competitors")
                if "competitors_n" not in table or table["competitors_n"].sum() > 0
                else ["none in the data"] * len(table)
            ),
            "4. rank among own attributes": [
                _VERDICT_MARK.get(str(v), str(v)) for v in table["rank_verdict"]
            ],
            "Verdict": [
                str(verdicts.get(str(a), "")) if verdicts is not None else str(c)
                for a, c in zip(table.index, table["class"], strict=True)
            ],
        },
        index=_relabel(table.index, labels),
    )
    return out


def nps_table(groups: pd.DataFrame, *, by: Sequence[str], min_n: int) -> pd.DataFrame:
    """NPS by group (:func:`csatlib.stats.nps.nps_by_group`) with interval and shares, for
    reading: one row per group, a country named (``"Germany"``), the index unnamed."""
    sup = _is_suppressed(groups)
    out = groups[list(by)].astype(str).copy()
    out["n"] = _counts(groups["n"])
    out["NPS"] = [
        suppressed_text(n, min_n) if s else fmt_number(v, 1, signed=True)
        for v, n, s in zip(groups["score"], groups["n"], sup, strict=True)
    ]
    out["95% CI"] = [
        "" if s else fmt_interval(a, b, 1, signed=True)
        for a, b, s in zip(groups["ci_low"], groups["ci_high"], sup, strict=True)
    ]
    for share in ("promoters", "passives", "detractors"):
        out[f"{share.capitalize()} (%)"] = [
            "" if s else fmt_number(100 * v, 1) for v, s in zip(groups[share], sup, strict=True)
        ]
    return _by_rows(out, by)


def _unit_heading(unit: tuple[str, str]) -> str:
    """The header over a report's one unit, ``("business unit", name)`` -> "Business unit"."""
    return unit[0][:1].upper() + unit[0][1:]


def loyalty_display(
    summary: pd.DataFrame, *, min_n: int, unit: tuple[str, str] | None = None
) -> pd.DataFrame:
    """Loyalty index (0–100) with CI and Cronbach's alpha, from
    :func:`csatlib.stats.loyalty.loyalty_summary`: one row per group (the columns before
    ``n``), a country named (``"Germany"``), not by its code.

    Columns ``n``, ``Loyalty index (0–100)``, ``95% CI``, ``Cronbach's alpha`` (two decimals)
    and, where the summary has the design effect of a clustered interval (``deff``),
    ``Design effect`` (one decimal). A suppressed group shows its n and no figure. ``unit``,
    ``(word, name)`` such as ``("business unit", "Networking in Germany")``, names a report's
    one unit when its ``country`` column holds another dimension's value: the row is the
    name and the header the word, not "Country" over a code.
    """
    sup = _is_suppressed(summary)
    keys = [str(c) for c in summary.columns[: summary.columns.get_loc("n")]]
    if unit is not None and "country" in keys:
        word = _unit_heading(unit)
        summary = summary.assign(country=unit[1]).rename(columns={"country": word})
        keys = [word if k == "country" else k for k in keys]
    out = summary[keys].astype(str).copy()
    out["n"] = _counts(summary["n"])
    out["Loyalty index (0–100)"] = [
        suppressed_text(n, min_n) if s else fmt_number(v, 1)
        for v, n, s in zip(summary["score"], summary["n"], sup, strict=True)
    ]
    out["95% CI"] = [
        "" if s else fmt_interval(a, b, 1)
        for a, b, s in zip(summary["ci_low"], summary["ci_high"], sup, strict=True)
    ]
    out["Cronbach's alpha"] = [
        "" if s else fmt_number(v, 2) for v, s in zip(summary["alpha"], sup, strict=True)
    ]
    if "deff" in summary:
        out["Design effect"] = [
            "" if s else fmt_number(v, 1) for v, s in zip(summary["deff"], sup, strict=True)
        ]
    return _by_rows(out, keys) if keys else out


def expectation_display(
    gap: pd.DataFrame, *, labels: Mapping[str, str] | None, min_n: int
) -> pd.DataFrame:
    """Perceived vs expected per attribute (:func:`csatlib.stats.scores.expectation_gap`)."""
    sup = _is_suppressed(gap)
    out = pd.DataFrame(
        {
            "n": _counts(gap["n"]),
            "Perceived": [fmt_number(v, 2) for v in gap["perceived"]],
            "Expected": [fmt_number(v, 2) for v in gap["expected"]],
            "Gap (perceived − expected)": [fmt_number(v, 2, signed=True) for v in gap["gap"]],
            "Gap 95% CI": [
                fmt_interval(a, b, 2, signed=True)
                for a, b in zip(gap["gap_ci_low"], gap["gap_ci_high"], strict=True)
            ],
            "Ratio (perceived ÷ expected)": [fmt_number(v, 3) for v in gap["ratio"]],
            "Ratio 95% CI": [
                fmt_interval(a, b, 3)
                for a, b in zip(gap["ratio_ci_low"], gap["ratio_ci_high"], strict=True)
            ],
        },
        index=_relabel(gap["attribute"], labels),
    )
    out.loc[sup, "Perceived"] = [suppressed_text(n, min_n) for n in gap.loc[sup, "n"]]
    out.loc[sup, list(out.columns[2:])] = ""
    return out


def pareto_display(
    pareto: pd.DataFrame, *, labels: Mapping[str, str] | None, min_n: int
) -> pd.DataFrame:
    """The Pareto of dissatisfaction (:func:`csatlib.stats.drivers.dissatisfaction_pareto`).

    One row per attribute: ``n`` (respondents who rated it), its ``Low scores`` and their share
    of its n, its share of all low scores, the cumulative share and whether it is among the
    vital few. When the wave has too few low scores in all to rank the attributes, the table
    is the one sentence of :func:`pareto_note` instead; a suppressed attribute shows its n and
    no figure."""
    sup = _is_suppressed(pareto)
    note = pareto_note(pareto)
    if note and not sup.all():
        return _nothing(note)
    out = pd.DataFrame(
        {
            "n": _counts(pareto["n"]),
            "Low scores": pareto["n_low"].astype("Int64").astype(str).to_numpy(),
            "Low scores (% of n)": [fmt_number(100 * v, 1) for v in pareto["share_low"]],
            "Share of all low scores (%)": [
                fmt_number(100 * v, 1) for v in pareto["share_of_all_low"]
            ],
            "Cumulative (%)": [fmt_number(100 * v, 1) for v in pareto["cumulative"]],
            "Vital few": ["yes" if v else "" for v in pareto["vital_few"].fillna(False)],
        },
        index=_relabel(pareto.index, labels),
    )
    out.loc[sup, "Low scores"] = [suppressed_text(n, min_n) for n in pareto.loc[sup, "n"]]
    out.loc[sup, out.columns[2:]] = ""
    return out


def pareto_note(pareto: pd.DataFrame) -> str:
    """The one sentence the Pareto's table and chart show when it ranks nothing, else ``""``.

    :func:`csatlib.stats.drivers.dissatisfaction_pareto` ranks the attributes only when the
    low scores of all attributes shown add up to its ``min_n`` (``attrs["ranked"]``); below,
    ``"14 low scores in all this wave: too few to rank (fewer than 30)."``. A Pareto without
    that attribute (made by hand) counts as ranked.
    """
    attrs = pareto.attrs
    if attrs.get("ranked", True):
        return ""
    total = int(attrs.get("total_low", 0))
    scores = "low score" if total == 1 else "low scores"
    return f"{total} {scores} in all this wave: too few to rank (fewer than {attrs['min_n']})."


def ipa_display(ipa: pd.DataFrame, *, labels: Mapping[str, str] | None) -> pd.DataFrame:
    """The importance–performance table (:func:`csatlib.stats.drivers.importance_performance`)."""
    out = pd.DataFrame(
        {
            "Importance (R² points)": [fmt_number(100 * v, 1) for v in ipa["importance"]],
            "Performance (mean)": [fmt_number(v, 2) for v in ipa["performance"]],
            "Quadrant": ipa["quadrant"].astype(str).to_numpy(),
        },
        index=_relabel(ipa.index, labels),
    )
    return out


def stated_vs_derived_display(
    table: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None,
    stated_scale: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Stated vs derived importance ranks (:func:`csatlib.stats.drivers.stated_vs_derived`).

    Derived importance is in R² points (100 × the attribute's Shapley importance), the unit of
    the key-driver table's ``Importance (R² points)`` column; stated importance is the mean
    answer to the importance question, with its scale in the header when ``stated_scale``
    (lowest, highest point) is given. With no row to compare (the key drivers or the stated
    importance are suppressed), one line says so instead of a table with headers only."""
    if table.empty:
        return _nothing("not compared: the key drivers or the stated importance are suppressed")
    scale = f", {stated_scale[0]}–{stated_scale[1]}" if stated_scale is not None else ""
    out = pd.DataFrame(
        {
            "Derived importance (R² points)": [
                fmt_number(100 * v, 1) for v in table["derived_importance"]
            ],
            "Derived rank": table["derived_rank"].to_numpy(),
            f"Stated importance (mean{scale})": [
                fmt_number(v, 2) for v in table["stated_importance"]
            ],
            "Stated rank": table["stated_rank"].to_numpy(),
            "Rank difference": table["rank_difference"].to_numpy(),
            "Reading": table["reading"].astype(str).to_numpy(),
        },
        index=_relabel(table.index, labels),
    )
    return out


def _nothing(message: str) -> pd.DataFrame:
    """A one-cell table holding ``message``: shown where a table would have no row."""
    return pd.DataFrame({"": [message]}, index=pd.Index([""], name=None))


def cit_display(
    top: pd.DataFrame, *, min_n: int, valence: Literal["positive", "negative"] = "positive"
) -> pd.DataFrame:
    """Top likes or dislikes by benefit (:func:`csatlib.text.frequencies.top_incidents`), quotes
    joined.

    One row per benefit: mentions, share of the incidents, and the example quotes as plain text
    (pandas escapes them when shown). Suppressed cells show no share and no quote. A like is
    named by its benefit ("Good value"); a dislike by its benefit and what went wrong on it,
    ``top["problem"]`` ("Good value — too expensive, unfair or complicated licence terms"), or
    :func:`csatlib.text.cit_codebook.default_problem` of the benefit where that is missing.
    """
    from csatlib.text.cit_codebook import default_problem

    if top.empty:
        return _nothing("no incidents in this cell")
    if top["benefit"].isna().all():  # the whole cell is below the minimum
        return _nothing(suppressed_text(int(top["n"].iloc[0]), min_n))
    rows = []
    for (rank, benefit_label), group in top.groupby(["rank", "label"], sort=True):
        first = group.iloc[0]
        name = str(benefit_label)
        if valence == "negative":  # named for what went wrong, not by the benefit's positive name
            problem = first.get("problem", pd.NA)
            name += f" — {problem if pd.notna(problem) else default_problem(name)}"
        if bool(first["suppressed"]):
            rows.append((int(rank), name, suppressed_text(first["n"], min_n), "", ""))
            continue
        quotes = " · ".join(f"“{q}”" for q in group["quote"].dropna().astype(str))
        rows.append(
            (
                int(rank),
                name,
                str(int(first["count"])),
                fmt_number(100 * first["share"], 1),
                quotes,
            )
        )
    benefit = "Benefit" if valence == "positive" else "Benefit — what went wrong"
    what = "likes" if valence == "positive" else "dislikes"
    out = pd.DataFrame(
        rows, columns=["Rank", benefit, "Mentions", f"Share of {what} (%)", "Example quotes"]
    )
    out = out.set_index("Rank")
    out.index.name = None  # one header row: the rank is the row label
    return out


def transaction_display(summary: pd.DataFrame, *, by: Sequence[str], min_n: int) -> pd.DataFrame:
    """Transaction CSAT by group (:func:`csatlib.stats.scores.transaction_summary`): the mean on
    the rating's scale and the top-2-box share, each with its 95% interval. One row per group;
    a single key's label heads the row labels (``"Month"``), the index is unnamed."""
    sup = _is_suppressed(summary)
    out = summary[list(by)].astype(str).copy()
    out["n"] = _counts(summary["n"])
    why = summary["suppression"] if "suppression" in summary else [""] * len(summary)
    out["Mean"] = [
        (PROTECTS_TEXT if w == "complementary" else suppressed_text(n, min_n))
        if s
        else fmt_number(v, 2)
        for v, n, s, w in zip(summary["mean"], summary["n"], sup, why, strict=True)
    ]
    mean_ci = _interval_cells(summary, "ci_low", "ci_high", 2)
    out["95% CI"] = ["" if s else c for c, s in zip(mean_ci, sup, strict=True)]
    out["Top-2-box (%)"] = [
        "" if s else fmt_number(100 * v, 1) for v, s in zip(summary["top_box"], sup, strict=True)
    ]
    top_ci = _interval_cells(summary, "top_box_ci_low", "top_box_ci_high", 1, factor=100.0)
    out["Top-2-box 95% CI (Wilson)"] = ["" if s else c for c, s in zip(top_ci, sup, strict=True)]
    return _by_rows(out, by)


def transaction_by_display(
    summary: pd.DataFrame | None,
    *,
    by: str | None,
    min_n: int,
    missing: str,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame | SafeHTML:
    """:func:`transaction_display` of a summary by one column (a product line), headed by the
    column's label in ``labels`` (the tickets' codebook labels), or the note ``missing`` when
    there is none (the tickets do not record that column)."""
    from csatlib.report.display import note

    if summary is None or by is None:
        return note(missing)
    shown = transaction_display(summary, by=[by], min_n=min_n)
    shown.columns.name = label(by, labels)
    return shown


def account_counts_display(
    counts: pd.DataFrame, *, unit: tuple[str, str] | None = None
) -> pd.DataFrame:
    """At-risk account counts (:func:`csatlib.loop.accounts.at_risk_counts`), for reading: one
    row per country, named (``"Germany"``), not by its code; the index is unnamed. With the
    counts' ``declined`` column, "Declined since previous wave" (a significant NPS fall).
    ``unit``, ``(word, name)``, names a report's one unit of another dimension, as in
    :func:`loyalty_display`."""
    from csatlib.loop.accounts import DEFAULT_ACCOUNT_MIN_N  # here: the module loads scipy

    out = pd.DataFrame(
        {
            "Accounts assessed": counts["accounts_assessed"].astype(int).astype(str),
            "At risk": counts["at_risk"].astype(int).astype(str),
        },
        index=counts.index,
    )
    if "revenue_at_stake_usd" in counts.columns:  # a study without revenue has no such column
        out["Revenue at stake (USD)"] = [
            f"{v:,.0f}" + (f" (+{k} at risk without revenue on file)" if k else "")
            for v, k in zip(
                counts["revenue_at_stake_usd"],
                counts.get("at_risk_no_revenue", pd.Series(0, index=counts.index)),
                strict=True,
            )
        ]
    out[f"Not assessed (fewer than {DEFAULT_ACCOUNT_MIN_N} respondents)"] = (
        counts["not_assessed"].astype(int).astype(str)
    )
    if "declined" in counts.columns:  # the at-risk counts of a summary with a trend
        out["Declined since previous wave"] = counts["declined"].astype(int).astype(str)
    key = counts.index.name
    if unit is not None and key == "country" and len(counts) == 1:
        out.index = pd.Index([unit[1]])
        out.columns.name = _unit_heading(unit)
        return out
    out.index = pd.Index([_country(c) if key == "country" else str(c) for c in counts.index])
    out.columns.name = label(key, None) if key else None
    return out


_LIST_NAMES = {
    "recovery": "Recovery calls for low ticket ratings",
    "testimonial": "Testimonial requests for high ticket ratings",
    "callback": "Complaint callbacks (relationship survey)",
}


def followup_display(counts: pd.DataFrame) -> pd.DataFrame | SafeHTML:
    """Follow-ups due (:func:`csatlib.loop.followup.followup_counts`): counts only, never names.

    One row per list, summed over the rows of ``counts``: a country report passes its own
    country's counts, and a region (the transaction survey's, none for callbacks) is not a
    split the report's reader acts on, so it is not shown. With nothing open, one sentence
    instead of a table with headers only."""
    if counts is None or counts.empty:
        from csatlib.loop.followup import TICKET_WINDOW_DAYS
        from csatlib.report.display import note

        return note(
            "No follow-up is open: no low or high ticket rating in the last "
            f"{TICKET_WINDOW_DAYS} days and no complaint in this wave."
        )
    counted = ["eligible", "listed", "withheld_no_permission"]
    totals = counts.groupby("list", sort=False, observed=True)[counted].sum()
    out = pd.DataFrame(
        {
            "Open": totals["eligible"].astype(int).to_numpy(),
            "Listed with contact details": totals["listed"].astype(int).to_numpy(),
            "Counted only (no permission to contact)": totals["withheld_no_permission"]
            .astype(int)
            .to_numpy(),
        },
        index=pd.Index([_LIST_NAMES.get(str(v), str(v)) for v in totals.index]),
    )
    out.columns.name = "Follow-up list"
    return out


#: The cleaning log's reasons (csatlib.ingest.clean) as a reader reads them.
_QUALITY_WORDS = {
    "missing_id": "no response id",
    "duplicate_id": "the same response id twice (the first is kept)",
    "empty_response": "no question answered",
    "missing_country": "no country",
    "unknown_country": "a country the survey does not know",
    "speeder": "answered implausibly fast",
    "straightliner": "the same rating for every attribute",
    "out_of_range": "a value outside the question's scale",
    "non_numeric": "text where a rating was expected",
    "missing_code": 'a code for no answer (such as 99 or "don\'t know")',
}


def quality_display(note: pd.DataFrame) -> pd.DataFrame:
    """The cleaning note (:func:`csatlib.ingest.clean.data_quality_note`) without the zero rows:
    what was received, kept, excluded, flagged and set missing, per source file (rows named by
    the file and the step, the index unnamed)."""
    keep = (note["n"] > 0) | note["measure"].isin(["raw_rows", "kept"])
    rows = note.loc[keep]
    shown = pd.DataFrame(
        {
            "source": rows["source"].astype(str).to_numpy(),
            "measure": rows["measure"]
            .astype(str)
            .str.replace("_", " ")
            .str.capitalize()
            .to_numpy(),
            "Detail": [
                _QUALITY_WORDS.get(d, d.replace("_", " "))
                for d in rows["detail"].astype("string").fillna("")
            ],
            "Rows or values": [f"{int(v):,}" for v in rows["n"]],
        }
    )
    return _by_rows(shown, ["source", "measure"])


def show_full_text() -> None:
    """Let pandas show whole cells (quotes, notes) instead of cutting them at 50 characters."""
    pd.set_option("display.max_colwidth", None)


def coder_accuracy_note(accuracy: CoderAccuracy | None) -> SafeHTML:
    """One sentence on how right the rule coder is
    (:func:`csatlib.text.accuracy.rule_coder_accuracy`): its precision with the 95% interval and
    n, and its recall; or, without a hand-coded sample, that it has not been measured and how to
    measure it."""
    from csatlib.report.display import note

    if accuracy is None:
        return note(
            "The rule coder's precision has not been measured on this study: there is no "
            "hand-coded sample of its incidents (cit_hand_codes.csv in the study's raw data "
            "folder). To measure it, have a random sample of incidents coded by hand and compare "
            "them with the rule codes as in "
            'notebooks/cit_coding.ipynb (docs/cit.md, "Rule coder\'s precision").'
        )
    level = f"{100 * accuracy.conf:.0f}% CI"
    sample = (
        f"Measured on a hand-coded sample of {accuracy.n_incidents:,} items from the whole "
        f"study ({accuracy.n_coders} coder{'s' if accuracy.n_coders != 1 else ''})"
    )
    if accuracy.n_assigned == 0:
        return note(f"{sample}, the rule coder assigned no attribute: its precision is undefined.")
    precision = (
        f"the rule coder agreed with the hand coders on {100 * accuracy.precision:.0f}% of the "
        f"attributes it assigned (precision, {level} "
        f"{100 * accuracy.precision_ci_low:.0f}–{100 * accuracy.precision_ci_high:.0f}%, "
        f"{accuracy.n_assigned:,} attributes assigned)"
    )
    recall = (
        f" and found {100 * accuracy.recall:.0f}% of theirs (recall, {level} "
        f"{100 * accuracy.recall_ci_low:.0f}–{100 * accuracy.recall_ci_high:.0f}%)"
        if accuracy.n_hand > 0
        else ""
    )
    missing = (
        f" {accuracy.n_not_found:,} hand-coded items are no longer in the data and were left "
        "out of this comparison."
        if accuracy.n_not_found
        else ""
    )
    return note(f"{sample}, {precision}{recall}.{missing}")


def scorecard_display(card: pd.DataFrame) -> pd.DataFrame | None:
    """The scorecard (:func:`csatlib.report.targets.scorecard`) for reading, one row per target;
    None when the unit has no target (nothing is shown).

    Columns ``Baseline`` (value with its wave, or "not recorded (2025-Q4)"), ``Current`` (value
    with its 95% CI and n, or the suppression text), ``Target`` (with its due wave), ``Gap``
    (current − target with its interval), ``Status`` and ``Why``.
    """
    if card.empty:
        return None
    suppressed = card["status"].eq("not enough data").to_numpy()
    baseline = [
        f"{fmt_number(v, 1)} ({w})" if rec and fmt_number(v, 1) else f"not recorded ({w})"
        for v, w, rec in zip(
            card["baseline"], card["baseline_wave"], card["baseline_recorded"], strict=True
        )
    ]
    current = [
        "not enough data" + (f" (n = {int(n):,})" if pd.notna(n) else "")
        if s
        else f"{fmt_number(v, 1)} ({fmt_interval(a, b, 1)}; n = {int(n):,})"
        for v, a, b, n, s in zip(
            card["estimate"], card["ci_low"], card["ci_high"], card["n"], suppressed, strict=True
        )
    ]
    gap = [
        "" if s else f"{fmt_number(g, 1, signed=True)} ({fmt_interval(a, b, 1, signed=True)})"
        for g, a, b, s in zip(
            card["gap"], card["gap_ci_low"], card["gap_ci_high"], suppressed, strict=True
        )
    ]
    out = pd.DataFrame(
        {
            "Baseline": baseline,
            f"Current ({card['wave'].iat[0]}, 95% CI)": current,
            "Target": [
                f"{fmt_number(t, 1)} by {d}"
                for t, d in zip(card["target"], card["due_wave"], strict=True)
            ],
            "Gap (95% CI)": gap,
            "Status": card["status"].to_numpy(),
            "Why": card["words"].to_numpy(),
        },
        index=pd.Index(card["label"].astype(str).to_numpy()),
    )
    out.columns.name = "Measure"  # heads the row labels: one header row
    return out
