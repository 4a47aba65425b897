"""A report's scorecard: each target of its unit with baseline, current value, gap and status.

The status is decided by one stated rule on the current value's 95% confidence interval
(:func:`target_status`), never by comparing point estimates; :data:`RULE` states it in words
for the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from csatlib import config
from csatlib.ingest.targets import empty_targets, load_targets

if TYPE_CHECKING:
    from csatlib.report.context import CountryContext
    from csatlib.report.display import SafeHTML
    from csatlib.report.summary import NPSHeadline

__all__ = [
    "RULE",
    "SCORECARD_COLUMNS",
    "Status",
    "load",
    "report_name",
    "scorecard",
    "scorecard_intro",
    "target_status",
]

Status = Literal["met", "on track", "at risk", "missed", "not enough data"]

#: The status rule in words, as every page states it.
RULE = (
    "A target's status is read from the current value's 95% confidence interval, not from the "
    "point estimate: met when the whole interval lies at or above the target; missed when the "
    "due wave has been reached and the whole interval lies below the target; at risk when the "
    "whole interval lies below the target before the due wave; on track otherwise (the interval "
    "contains the target, so the data cannot tell the value from the target). A value "
    "suppressed below the small-cell minimum has no status (not enough data)."
)

SCORECARD_COLUMNS = (
    "unit", "metric", "label", "baseline_wave", "baseline", "baseline_ci_low",
    "baseline_ci_high", "baseline_n", "baseline_recorded", "wave", "estimate", "ci_low",
    "ci_high", "n", "target", "due_wave", "gap", "gap_ci_low", "gap_ci_high", "status",
    "words", "owner",
)  # fmt: skip


def _finite(*values: float | None) -> bool:
    return all(v is not None and not math.isnan(float(v)) for v in values)


def _due_reached(wave: str, due_wave: str, waves_order: Sequence[str]) -> bool:
    order = [str(w) for w in waves_order]
    if wave in order and due_wave in order:
        return order.index(wave) >= order.index(due_wave)
    # a wave not in the data yet: ordered as text, as the workbench does ("2026-Q1" < "2026-Q2")
    return str(wave) >= str(due_wave)


def target_status(
    estimate: float | None,
    ci_low: float | None,
    ci_high: float | None,
    target: float,
    *,
    wave: str,
    due_wave: str,
    waves_order: Sequence[str] = (),
) -> tuple[Status, str]:
    """Decide a target's status from the current value's confidence interval.

    Parameters
    ----------
    estimate, ci_low, ci_high : float or None
        The current value and its (95%) confidence interval; None or NaN when suppressed.
    target : float
        The value to reach.
    wave, due_wave : str
        The current wave and the wave by which the target is due.
    waves_order : sequence of str, optional
        The study's waves, oldest first (:func:`csatlib.roles.wave_order`); a wave not in it
        is ordered as text.

    Returns
    -------
    (status, words)
        ``status`` one of ``"met"``, ``"on track"``, ``"at risk"``, ``"missed"``, ``"not
        enough data"``; ``words`` the reason in one sentence.

    Notes
    -----
    With interval :math:`[L, U]` and target :math:`T`:

    * met if :math:`L \\ge T`;
    * missed if :math:`U < T` and the due wave has been reached;
    * at risk if :math:`U < T` before the due wave;
    * on track otherwise (:math:`L < T \\le U`: the interval contains the target).

    A 95% interval lying wholly at or above :math:`T` is the one-sided test of
    :math:`H_0\\colon \\theta < T` rejected at the 2.5% level (the interval-test duality used
    by Schuirmann's two one-sided tests), and likewise below; an interval containing
    :math:`T` is no evidence that the target is missed ("absence of evidence is not evidence
    of absence"), so the rule never calls a target missed or met on a point estimate alone.

    References
    ----------
    Altman, D. G., & Bland, J. M. (1995). Absence of evidence is not evidence of absence.
    *BMJ*, 311(7003), 485. Schuirmann, D. J. (1987). A comparison of the two one-sided tests
    procedure and the power approach for assessing the equivalence of average
    bioavailability. *Journal of Pharmacokinetics and Biopharmaceutics*, 15(6), 657-680.
    """
    if not _finite(estimate, ci_low, ci_high):
        return "not enough data", "the current value is suppressed or has no interval"
    ci_low, ci_high = float(ci_low), float(ci_high)  # type: ignore[arg-type]  # checked above
    where = f"the 95% interval ({ci_low:.1f} to {ci_high:.1f})"
    if ci_low >= target:
        return "met", f"{where} lies at or above the target {target:g}"
    if ci_high < target:
        if _due_reached(wave, due_wave, waves_order):
            return "missed", f"{where} lies below the target {target:g} at its due wave {due_wave}"
        return "at risk", f"{where} lies below the target {target:g}, due {due_wave}"
    return "on track", f"{where} contains the target {target:g}"


def load(path: str | Path | None = None) -> pd.DataFrame:
    """The study's targets (:func:`csatlib.ingest.targets.load_targets` of ``path``, default
    :data:`csatlib.config.TARGETS`); no row when the study has no targets file. Read once per
    version of the file (:func:`csatlib.report.context.by_file_version`)."""
    from csatlib.report.context import by_file_version

    path = Path(config.TARGETS if path is None else path)
    return by_file_version(path, load_targets, empty_targets)


def report_name(ctx: CountryContext) -> str:
    """The unit's report name, as targets and the history store name it: ``DE``, or
    ``business_unit--compute`` (a cross-cut: ``business_unit_in_country--compute--de``)."""
    from csatlib.report.build import cross_cut_name, slice_name

    if ctx.within:
        outer, _, outer_value = ctx.within.partition("=")
        return cross_cut_name(ctx.dimension, ctx.country, outer, outer_value)
    if ctx.dimension == "country":
        return ctx.country
    return slice_name(ctx.dimension, ctx.country)


def _current(
    ctx: CountryContext, metric: str, headline: NPSHeadline | None
) -> tuple[str, float, float, float, float]:
    """(label, estimate, ci_low, ci_high, n) of a metric this wave; NaN estimates if suppressed."""
    nan = math.nan
    if metric == "nps":
        from csatlib.report.summary import nps_headline

        head = headline if headline is not None else nps_headline(ctx)
        cur = head.current
        if cur is None:
            return "NPS", nan, nan, nan, float(head.n)
        return "NPS", cur.score, cur.ci_low, cur.ci_high, float(cur.n)
    if metric == "loyalty_index":
        table, key, label = ctx.loyalty_table, "score", "Loyalty index (0–100)"
    else:
        measure = metric.split(":", 1)[1]
        scores = ctx.attribute_scores
        table = scores.loc[scores["measure"] == measure] if "measure" in scores else scores
        key, label = "mean", f"Satisfaction: {ctx.labels.get(measure, measure)}"
    if table.empty:
        return label, nan, nan, nan, nan
    row = table.iloc[0]
    if bool(row.get("suppressed", False)):
        return label, nan, nan, nan, float(row["n"])
    return label, row[key], row["ci_low"], row["ci_high"], float(row["n"])


def _from_trends(ctx: CountryContext, metric: str, wave: str) -> pd.DataFrame:
    """The baseline wave's estimate from the report's own trend table (the same estimator and
    design as the history records; the loyalty index from that wave's index, as the report
    makes it), for a wave no build recorded: ``estimate, ci_low, ci_high, n``; empty when the
    table has no such wave or metric, or it is suppressed."""
    if metric == "loyalty_index":  # not a trend: the index of that wave, as the report makes it
        loyalty = ctx.loyalty_of(wave) if hasattr(ctx, "loyalty_of") else pd.DataFrame()
        if loyalty.empty or loyalty["suppressed"].fillna(True).astype(bool).all():
            return pd.DataFrame()
        return loyalty.rename(columns={"score": "estimate"})
    trends = getattr(ctx, "country_trends", None)
    if trends is None or trends.empty:
        return pd.DataFrame()
    if metric == "nps":
        measure, statistic = ctx.nps_column, "nps"
    elif metric.startswith("csat:"):
        measure, statistic = metric.split(":", 1)[1], "mean"
    else:
        return pd.DataFrame()
    rows = trends.loc[
        (trends["measure"] == measure)
        & (trends["statistic"] == statistic)
        & (trends["wave"].astype(str) == wave)
        & ~trends["suppressed"].fillna(True).astype(bool)
    ]
    return rows.rename(columns={"value": "estimate"})


def _baseline(
    recorded: pd.DataFrame, metric: str, wave: str, ctx: CountryContext | None = None
) -> dict[str, object]:
    rows = recorded.loc[(recorded["metric"] == metric) & (recorded["wave"] == wave)]
    if rows.empty and ctx is not None:
        rows = _from_trends(ctx, metric, wave)
    if rows.empty:
        nan = math.nan
        return dict.fromkeys(("baseline", "baseline_ci_low", "baseline_ci_high"), nan) | {
            "baseline_n": nan,
            "baseline_recorded": False,
        }
    row = rows.iloc[0]
    return {
        "baseline": row["estimate"],
        "baseline_ci_low": row["ci_low"],
        "baseline_ci_high": row["ci_high"],
        "baseline_n": row["n"],
        "baseline_recorded": True,
    }


def scorecard(
    ctx: CountryContext,
    targets: pd.DataFrame,
    reports_dir: str | Path,
    *,
    headline: NPSHeadline | None = None,
) -> pd.DataFrame:
    """One row per target of the report's unit: baseline, current value, gap and status.

    Parameters
    ----------
    ctx : CountryContext
        The report's context (its unit is :func:`report_name`).
    targets : pandas.DataFrame
        :func:`load` (columns of :func:`csatlib.ingest.targets.load_targets`).
    reports_dir : str or pathlib.Path
        The reports folder, whose history store (:mod:`csatlib.report.history`) holds the
        baselines; a baseline wave no build recorded comes from the report's own trend table
        (the NPS and the means, same estimator and design), else ``baseline_recorded`` is False.
    headline : NPSHeadline, optional
        The report's NPS headline (computed when not given).

    Returns
    -------
    pandas.DataFrame
        :data:`SCORECARD_COLUMNS`: ``label`` the metric in words; ``estimate, ci_low,
        ci_high, n`` this wave (NaN estimates when suppressed); ``gap = estimate - target``
        with ``gap_ci_low, gap_ci_high`` the interval shifted by the target (a fixed value);
        ``status, words`` from :func:`target_status`. No row when the unit has no target.
    """
    from csatlib.report.history import history

    unit = report_name(ctx)
    mine = targets.loc[targets["unit"] == unit]
    if mine.empty:
        return pd.DataFrame(columns=list(SCORECARD_COLUMNS))
    recorded = history(reports_dir, unit=unit)
    rows = []
    for target in mine.itertuples(index=False):  # a handful of targets, each its own source
        label, estimate, low, high, n = _current(ctx, target.metric, headline)
        status, words = target_status(
            estimate,
            low,
            high,
            target.target,
            wave=ctx.wave,
            due_wave=target.due_wave,
            waves_order=ctx.waves,
        )
        rows.append(
            {
                "unit": unit,
                "metric": target.metric,
                "label": label,
                "baseline_wave": target.baseline_wave,
                **_baseline(recorded, target.metric, target.baseline_wave, ctx),
                "wave": ctx.wave,
                "estimate": estimate,
                "ci_low": low,
                "ci_high": high,
                "n": n,
                "target": target.target,
                "due_wave": target.due_wave,
                "gap": estimate - target.target,
                "gap_ci_low": low - target.target,
                "gap_ci_high": high - target.target,
                "status": status,
                "words": words,
                "owner": getattr(target, "owner", ""),
            }
        )
    return pd.DataFrame(rows, columns=list(SCORECARD_COLUMNS))


def scorecard_intro(card: pd.DataFrame) -> SafeHTML | None:
    """The scorecard's heading and rule in words, or None when the unit has no target."""
    from csatlib.report.display import heading

    if card.empty:
        return None
    return heading("Targets", subtitle=RULE)
