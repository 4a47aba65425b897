"""The executive summary of one country's report: NPS with its interval, change, and vs the rest.

Everything here is assembled from :mod:`csatlib.nps`; this module only decides what the headline
compares and how a suppressed cell is shown (``"suppressed (n = 12 < 30)"``, never a number).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from csatlib.context import CountryContext
from csatlib.display import SafeHTML, heading
from csatlib.nps import NPSDifference, NPSResult, nps, nps_difference

__all__ = [
    "NPSHeadline",
    "nps_headline",
    "headline_table",
    "headline_metrics",
    "fmt_points",
    "report_heading",
]

NPS_COLUMN = "likelihood_to_recommend"


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


def nps_headline(ctx: CountryContext, *, score: str = NPS_COLUMN) -> NPSHeadline:
    """Compute the headline NPS figures of a country's report (own-brand customers only).

    The change is a two-sample test of the wave against the previous wave; "vs the rest" tests
    the country against all other countries' own-brand customers pooled, same wave
    (:func:`csatlib.nps.nps_difference`). Cells below ``ctx.min_n`` are suppressed, and so is any
    comparison that involves one.
    """
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
                    "p-value": f"{diff.p_value:.3f}",
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
    return heading(
        f"{ctx.country_name} ({ctx.country}), wave {ctx.wave}",
        subtitle=(
            f"{n:,} own-brand respondents in this wave; previous wave: "
            f"{ctx.previous_wave or 'none'}; cells below {ctx.min_n} respondents are suppressed."
        ),
        level=2,
    )
