"""Display tables for the reports: analysis frames in, rounded, labelled, readable frames out.

These functions compute nothing; they choose columns, round, join intervals into one
``"7.1 to 7.6"`` cell, replace canonical names by the codebook's labels, and write suppressed
cells out as ``"suppressed (n = 12 < 30)"`` so that a number below the small-cell minimum can
never reach a table. Customer text stays plain text: pandas escapes it when the table is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

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
    "ipa_display",
    "stated_vs_derived_display",
    "cit_display",
    "transaction_display",
    "account_counts_display",
    "followup_display",
    "quality_display",
    "show_full_text",
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


def fmt_p(value: object) -> str:
    """p-values for people: ``"<0.001"`` below a thousandth, else three decimals."""
    if value is None or value is pd.NA:
        return ""
    number = float(value)  # type: ignore[arg-type]
    if np.isnan(number):
        return ""
    return "<0.001" if number < 0.001 else f"{number:.3f}"


def suppressed_text(n: object, min_n: int) -> str:
    """The text shown instead of an estimate whose cell is below ``min_n``."""
    try:
        count = int(n)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        count = 0
    return f"suppressed (n = {count} < {min_n})"


def label(name: object, labels: Mapping[str, str] | None) -> str:
    """The codebook label of a canonical name (the name itself if there is none)."""
    key = str(name)
    if labels and key in labels:
        return str(labels[key])
    return key.replace("_", " ").capitalize()


def _relabel(index: Sequence[object], labels: Mapping[str, str] | None) -> list[str]:
    return [label(v, labels) for v in index]


def _is_suppressed(frame: pd.DataFrame) -> np.ndarray:
    if "suppressed" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame["suppressed"].fillna(True).to_numpy(dtype=bool)


def attribute_scores(
    scores: pd.DataFrame, *, labels: Mapping[str, str] | None, min_n: int, box_label: str
) -> pd.DataFrame:
    """Table of :func:`csatlib.stats.scores.scores_by_group` rows: mean with CI and top-box
    share."""
    sup = _is_suppressed(scores)
    out = pd.DataFrame(
        {
            "Attribute": _relabel(scores["measure"], labels),
            "n": scores["n"].astype("Int64").astype(str).to_numpy(),
            "Mean": [fmt_number(v, 2) for v in scores["mean"]],
            "95% CI": [
                fmt_interval(a, b, 2)
                for a, b in zip(scores["ci_low"], scores["ci_high"], strict=True)
            ],
            box_label: [fmt_number(100 * v, 1) for v in scores["top_box"]],
            f"{box_label} 95% CI": [
                fmt_interval(100 * a, 100 * b, 1)
                for a, b in zip(scores["top_box_ci_low"], scores["top_box_ci_high"], strict=True)
            ],
        }
    )
    out.loc[sup, "Mean"] = [suppressed_text(n, min_n) for n in scores.loc[sup, "n"]]
    out.loc[sup, ["95% CI", box_label, f"{box_label} 95% CI"]] = ""
    return out.set_index("Attribute")


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
        {"measure": _relabel(rows["measure"], labels), "wave": rows["wave"].astype(str), "v": cells}
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
    importance-performance quadrant."""
    if table.attrs.get("suppressed") or table.empty:
        reason = table.attrs.get("reason", "too few complete responses")
        return pd.DataFrame({"Key drivers": [f"suppressed: {reason}"]})
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
            "Std. beta (HC3 95% CI)": [
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
) -> pd.DataFrame:
    """The four-screen table of :func:`csatlib.stats.screens.four_screens`, one row per
    attribute, with each attribute's verdict (``verdicts``: attribute -> the verdict of
    :func:`csatlib.stats.priorities.priorities`, the one every section of the report shows;
    without it, the screens' own class).

    A screen reads its verdict with the evidence, ``"▼ deteriorated (-0.30, q 0.010)"``; an
    attribute below the minimum reads ``"suppressed (n = 12 < 30)"`` and its screens show no
    difference."""
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
                text += f" ({fmt_number(d, digits, signed=True)}, q {fmt_p(q)})"
            out.append(text)
        return out

    out = pd.DataFrame(
        {
            "n": table["n"].astype("Int64").astype(str).to_numpy(),
            "Mean": [
                suppressed_text(n, min_n) if s else fmt_number(m, 2)
                for m, n, s in zip(table["mean"], table["n"], sup, strict=True)
            ],
            "1. vs last wave": verdict("trend"),
            "2. vs other countries": verdict("vs_countries"),
            "3. vs competitors' customers": (
                verdict("vs_competitors")
                if "competitors_n" not in table or table["competitors_n"].sum() > 0
                else ["none in the data"] * len(table)
            ),
            "4. rank in country": [
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
    reading."""
    sup = _is_suppressed(groups)
    out = groups[list(by)].astype(str).copy()
    out["n"] = groups["n"].astype("Int64").astype(str).to_numpy()
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
    return out.set_index(list(by))


def loyalty_display(summary: pd.DataFrame, *, min_n: int) -> pd.DataFrame:
    """Loyalty index (0–100) with CI and Cronbach's alpha, from :func:`loyalty_summary`."""
    sup = _is_suppressed(summary)
    keys = [
        c
        for c in summary.columns
        if c
        not in {"n", "score", "sd", "se", "ci_low", "ci_high", "alpha", "alpha_n", "suppressed"}
    ]
    out = summary[keys].astype(str).copy()
    out["n"] = summary["n"].astype("Int64").astype(str).to_numpy()
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
    return out.set_index(keys) if keys else out


def expectation_display(
    gap: pd.DataFrame, *, labels: Mapping[str, str] | None, min_n: int
) -> pd.DataFrame:
    """Perceived vs expected per attribute (:func:`csatlib.stats.scores.expectation_gap`)."""
    sup = _is_suppressed(gap)
    out = pd.DataFrame(
        {
            "n": gap["n"].astype("Int64").astype(str).to_numpy(),
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
    """The Pareto of dissatisfaction (:func:`csatlib.stats.drivers.dissatisfaction_pareto`)."""
    sup = _is_suppressed(pareto)
    out = pd.DataFrame(
        {
            "n": pareto["n"].astype("Int64").astype(str).to_numpy(),
            "Low scorers": pareto["n_low"].astype("Int64").astype(str).to_numpy(),
            "Share low (%)": [fmt_number(100 * v, 1) for v in pareto["share_low"]],
            "Share of all low scores (%)": [
                fmt_number(100 * v, 1) for v in pareto["share_of_all_low"]
            ],
            "Cumulative (%)": [fmt_number(100 * v, 1) for v in pareto["cumulative"]],
            "Vital few": ["yes" if v else "" for v in pareto["vital_few"].fillna(False)],
        },
        index=_relabel(pareto.index, labels),
    )
    out.loc[sup, "Low scorers"] = [suppressed_text(n, min_n) for n in pareto.loc[sup, "n"]]
    out.loc[sup, out.columns[2:]] = ""
    return out


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
    table: pd.DataFrame, *, labels: Mapping[str, str] | None
) -> pd.DataFrame:
    """Stated vs derived importance ranks (:func:`csatlib.stats.drivers.stated_vs_derived`).

    With no row to compare (the key drivers or the stated importance are suppressed), one line
    says so instead of a table with headers only."""
    if table.empty:
        return _nothing("not compared: the key drivers or the stated importance are suppressed")
    cols = {c: c.replace("_", " ").capitalize() for c in table.columns}
    out = table.rename(columns=cols).copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = [fmt_number(v, 2) for v in out[c]]
    out.index = _relabel(table.index, labels)
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
    (pandas escapes them when shown). Suppressed cells show no share and no quote.
    """
    if top.empty:
        return _nothing("no incidents in this cell")
    if top["benefit"].isna().all():  # the whole cell is below the minimum
        return _nothing(suppressed_text(int(top["n"].iloc[0]), min_n))
    rows = []
    for (rank, benefit_label), group in top.groupby(["rank", "label"], sort=True):
        first = group.iloc[0]
        if bool(first["suppressed"]):
            rows.append((int(rank), benefit_label, suppressed_text(first["n"], min_n), "", ""))
            continue
        quotes = " · ".join(f"“{q}”" for q in group["quote"].dropna().astype(str))
        rows.append(
            (
                int(rank),
                benefit_label,
                str(int(first["count"])),
                fmt_number(100 * first["share"], 1),
                quotes,
            )
        )
    benefit = "Benefit" if valence == "positive" else "Benefit let down"
    out = pd.DataFrame(
        rows, columns=["Rank", benefit, "Mentions", "Share of incidents (%)", "Example quotes"]
    )
    if valence == "negative":  # named for what went wrong, not by the benefit's positive name
        out[benefit] = [f"{b}: let down" for b in out[benefit]]
    return out.set_index("Rank")


def transaction_display(summary: pd.DataFrame, *, by: Sequence[str], min_n: int) -> pd.DataFrame:
    """Transaction CSAT by group (:func:`csatlib.stats.scores.transaction_summary`): the mean on
    the rating's scale and the top-2-box share, each with its 95% interval."""
    sup = _is_suppressed(summary)
    out = summary[list(by)].astype(str).copy()
    out["n"] = summary["n"].astype("Int64").astype(str).to_numpy()
    out["Mean"] = [
        suppressed_text(n, min_n) if s else fmt_number(v, 2)
        for v, n, s in zip(summary["mean"], summary["n"], sup, strict=True)
    ]
    out["95% CI"] = [
        "" if s else fmt_interval(a, b, 2)
        for a, b, s in zip(summary["ci_low"], summary["ci_high"], sup, strict=True)
    ]
    out["Top-2-box (%)"] = [
        "" if s else fmt_number(100 * v, 1) for v, s in zip(summary["top_box"], sup, strict=True)
    ]
    out["Top-2-box 95% CI (Wilson)"] = [
        "" if s else fmt_interval(100 * a, 100 * b, 1)
        for a, b, s in zip(summary["top_box_ci_low"], summary["top_box_ci_high"], sup, strict=True)
    ]
    return out.set_index(list(by))


def account_counts_display(counts: pd.DataFrame) -> pd.DataFrame:
    """At-risk account counts (:func:`csatlib.loop.accounts.at_risk_counts`), for reading."""
    out = pd.DataFrame(
        {
            "Accounts assessed": counts["accounts_assessed"].astype(int).astype(str),
            "At risk": counts["at_risk"].astype(int).astype(str),
            "Revenue at stake (USD)": [f"{v:,.0f}" for v in counts["revenue_at_stake_usd"]],
            "Not assessed (fewer than 3 respondents)": counts["not_assessed"]
            .astype(int)
            .astype(str),
        },
        index=counts.index,
    )
    out.index.name = None
    return out


_LIST_NAMES = {
    "recovery": "Recovery calls (transaction score 1–2)",
    "testimonial": "Testimonials / best practice (score 4–5)",
    "callback": "Complaint callbacks (relationship survey)",
}


def followup_display(counts: pd.DataFrame) -> pd.DataFrame:
    """Follow-ups due (:func:`csatlib.loop.followup.followup_counts`): counts only, never names."""
    return pd.DataFrame(
        {
            "List": [_LIST_NAMES.get(str(v), str(v)) for v in counts["list"]],
            "Region": counts["region"].astype("string").fillna("all").to_numpy(),
            "Due": counts["eligible"].astype(int).to_numpy(),
            "Listed with contact details": counts["listed"].astype(int).to_numpy(),
            "Counted only (no permission to contact)": counts["withheld_no_permission"]
            .astype(int)
            .to_numpy(),
        }
    ).set_index("List")


def quality_display(note: pd.DataFrame) -> pd.DataFrame:
    """The cleaning note (:func:`csatlib.ingest.clean.data_quality_note`) without the zero rows:
    what was received, kept, excluded, flagged and set missing, per source file."""
    keep = (note["n"] > 0) | note["measure"].isin(["raw_rows", "kept"])
    rows = note.loc[keep]
    return pd.DataFrame(
        {
            "Source": rows["source"].astype(str).to_numpy(),
            "Measure": rows["measure"].astype(str).str.replace("_", " ").to_numpy(),
            "Detail": rows["detail"].astype("string").fillna("").str.replace("_", " ").to_numpy(),
            "Rows or values": [f"{int(v):,}" for v in rows["n"]],
        }
    ).set_index(["Source", "Measure"])


def show_full_text() -> None:
    """Let pandas show whole cells (quotes, notes) instead of cutting them at 50 characters."""
    pd.set_option("display.max_colwidth", None)
