"""A report's headline figures as JSON: built from what the report shows, written atomically.

The country notebook hands :func:`report_metrics` (its NPS part is :func:`headline_metrics`) to
:func:`write_metrics` (``reports/metrics/<CC>.json``), the global notebook
:func:`study_metrics` (``reports/metrics/global.json``); the index page reads them back
(:func:`read_metrics`). The builders compute no statistic: they round the results the report
already shows, and a suppressed cell carries ``{"suppressed": true, "n": ...}`` and never an
estimate. In the file, NaN and infinities become ``null`` (JSON has no NaN), numpy scalars
become Python numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from csatlib.report.overview import country_name
from csatlib.safety import write_text_atomic

if TYPE_CHECKING:
    from csatlib.report.overview import StudyContext
    from csatlib.report.summary import NPSHeadline
    from csatlib.stats.nps import NPSDifference, NPSResult

__all__ = [
    "headline_metrics",
    "report_metrics",
    "study_metrics",
    "to_jsonable",
    "write_metrics",
    "read_metrics",
]


# --------------------------------------------------------------------------- files


def to_jsonable(value: Any) -> Any:
    """Convert nested data (dicts, lists, numpy and pandas scalars) to plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def write_metrics(path: str | Path, metrics: Mapping[str, Any]) -> Path | None:
    """Write ``metrics`` as JSON to ``path`` atomically; an empty path writes nothing.

    The file is staged beside its destination and renamed into place, so a reader never sees a
    half-written file. Returns the path written, or None.
    """
    if not path:
        return None
    text = json.dumps(to_jsonable(metrics), indent=2, sort_keys=True, allow_nan=False) + "\n"
    return write_text_atomic(path, text)


def read_metrics(path: str | Path) -> dict[str, Any]:
    """Read a metrics file written by :func:`write_metrics`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- rounding


def _finite(value: object) -> float | None:
    """``value`` as a float; None when it is missing, not a number, NaN or infinite."""
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _rounded(value: object, digits: int = 4) -> float | None:
    """A finite number rounded to ``digits`` decimals; None for anything else."""
    number = _finite(value)
    return None if number is None else round(number, digits)


def _significant_digits(value: object) -> float | None:
    """p-values keep 4 significant digits (a fixed number of decimals would turn 1e-12 into 0)."""
    number = _finite(value)
    return None if number is None else float(f"{number:.4g}")


def _nps(result: NPSResult | None, n: int) -> dict[str, Any]:
    """An NPS estimate; ``{"suppressed": true, "n": n}`` when there is none (a small cell)."""
    if result is None:
        return {"suppressed": True, "n": n}
    return {
        "suppressed": False,
        "n": result.n,
        **{k: _rounded(getattr(result, k)) for k in ("score", "se", "ci_low", "ci_high")},
    }


def _difference(d: NPSDifference | None, q: float | None = None) -> dict[str, Any] | None:
    if d is None:
        return None
    out = {k: _rounded(getattr(d, k)) for k in ("diff", "se", "ci_low", "ci_high")}
    out["p_value"] = _rounded(d.p_value, 6)
    if q is not None:  # the value the verdict rests on (the report's multiplicity policy)
        out["q_value"] = _rounded(q, 6)
    return out


def _suppressed_row(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """``{"suppressed": true, "n": ...}`` for a suppressed row of a results table, else None."""
    return {"suppressed": True, "n": int(row["n"])} if bool(row["suppressed"]) else None


# --------------------------------------------------------------------------- country report


def headline_metrics(h: NPSHeadline) -> dict[str, Any]:
    """The NPS headline (:func:`csatlib.report.summary.nps_headline`) as JSON-ready data.

    Returns
    -------
    dict
        ``country``, ``wave``, ``previous_wave``, ``n``, ``min_n``; ``nps``, ``nps_previous``
        and ``nps_other_countries`` (``suppressed``, ``n``, ``score``, ``se``, ``ci_low``,
        ``ci_high``; a suppressed estimate has ``suppressed: true`` and ``n`` only);
        ``nps_change`` and ``nps_vs_other_countries`` (``diff``, ``se``, ``ci_low``,
        ``ci_high``, ``p_value`` and, under the multiplicity policy, ``q_value``; None when not
        tested). Four decimals, p- and q-values six.
    """
    return {
        "country": h.country,
        "wave": h.wave,
        "previous_wave": h.previous_wave,
        "n": h.n,
        "min_n": h.min_n,
        "nps": _nps(h.current, h.n),
        "nps_previous": _nps(h.previous, h.n_previous),
        "nps_change": _difference(h.change, h.change_q),
        "nps_other_countries": _nps(h.rest, h.n_rest),
        "nps_vs_other_countries": _difference(h.vs_rest, h.vs_rest_q),
    }


def _csat(scores: pd.DataFrame) -> dict[str, Any]:
    out = {}
    for row in scores.to_dict("records"):
        out[str(row["measure"])] = _suppressed_row(row) or {
            "suppressed": False,
            "n": int(row["n"]),
            **{k: _rounded(row[k]) for k in ("mean", "ci_low", "ci_high", "top_box")},
        }
    return out


def _loyalty(summary: pd.DataFrame) -> dict[str, Any]:
    if not len(summary):
        return {}
    row = summary.iloc[0].to_dict()
    return _suppressed_row(row) or {
        "suppressed": False,
        "n": int(row["n"]),
        "index": _rounded(row["score"]),
        "ci_low": _rounded(row["ci_low"]),
        "ci_high": _rounded(row["ci_high"]),
        "alpha": _rounded(row["alpha"]),
    }


def _drivers(drivers: pd.DataFrame) -> dict[str, Any]:
    if drivers.attrs.get("suppressed") or drivers.empty:
        return {"drivers": {"suppressed": True, "reason": str(drivers.attrs.get("reason", ""))}}
    return {
        "drivers": {
            str(k): {
                **{c: _rounded(r[c]) for c in ("importance", "ci_low", "ci_high", "share")},
                "rank": int(r["rank"]),
            }
            for k, r in drivers.iterrows()
        },
        "drivers_r2": _rounded(drivers.attrs.get("r2")),
        "drivers_n": int(drivers.attrs.get("n", 0)),
    }


def report_metrics(
    headline: NPSHeadline,
    *,
    attribute_scores: pd.DataFrame | None = None,
    loyalty_summary: pd.DataFrame | None = None,
    screens: pd.DataFrame | None = None,
    drivers: pd.DataFrame | None = None,
    priorities: pd.DataFrame | None = None,
    scorecard: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Everything a country's metrics JSON carries, from the tables its report shows.

    Parameters
    ----------
    headline : NPSHeadline
        :func:`csatlib.report.summary.nps_headline`.
    attribute_scores, loyalty_summary, screens, drivers : pandas.DataFrame, optional
        :func:`csatlib.stats.scores.scores_by_group`, :func:`csatlib.stats.loyalty.loyalty_summary`
        (its first row), :func:`csatlib.stats.screens.four_screens` and
        :func:`csatlib.stats.drivers.driver_table` of the report (``ctx.attribute_scores``,
        ``ctx.loyalty_table``, ``ctx.screen_table``, ``ctx.driver_results``).

    Returns
    -------
    dict
        :func:`headline_metrics`, plus ``csat`` (per measure ``n``, ``mean``, ``ci_low``,
        ``ci_high``, ``top_box``), ``loyalty`` (``n``, ``index``, ``ci_low``, ``ci_high``,
        ``alpha``), ``screens`` (attribute -> class), ``priorities`` (attribute -> ``verdict``
        and ``order`` of :func:`csatlib.stats.priorities.priorities`), ``drivers`` (per driver
        ``importance``,
        ``ci_low``, ``ci_high``, ``share``, ``rank``, or ``suppressed`` with the ``reason``),
        ``drivers_r2`` and ``drivers_n``; ``targets`` (per metric of the unit's scorecard,
        :func:`csatlib.report.targets.scorecard`: ``target``, ``due_wave``, ``status``,
        ``baseline_wave`` and ``baseline``, NaN when the report had none). A
        suppressed cell carries ``{"suppressed": true,
        "n": ...}`` and no estimate; a part the study does not have (None or an empty table: no
        attributes, fewer than two loyalty items) is absent.
    """
    empty = pd.DataFrame()
    out = headline_metrics(headline)
    parts = {
        "csat": _csat(empty if attribute_scores is None else attribute_scores),
        "loyalty": _loyalty(empty if loyalty_summary is None else loyalty_summary),
        "screens": {}
        if screens is None or not len(screens)
        else {str(k): str(v) for k, v in screens["class"].items()},
        "priorities": {}
        if priorities is None or not len(priorities)
        else {
            str(k): {"verdict": str(r["verdict"]), "order": int(r["order"])}
            for k, r in priorities.iterrows()
        },
        "targets": {}
        if scorecard is None or not len(scorecard)
        else {
            str(r["metric"]): {
                "target": _rounded(r["target"]),
                "due_wave": str(r["due_wave"]),
                "status": str(r["status"]),
                # the baseline as the report shows it (history, else its own trend table)
                "baseline_wave": str(r.get("baseline_wave", "") or ""),
                "baseline": _rounded(r.get("baseline")),
            }
            for _, r in scorecard.iterrows()
        },
    }
    out.update({key: part for key, part in parts.items() if part})
    if drivers is not None and not (drivers.empty and not drivers.attrs):
        out.update(_drivers(drivers))
    return out


# --------------------------------------------------------------------------- global summary


def _comparison(row: Mapping[str, Any], prefix: str) -> dict[str, Any] | None:
    """A league-table comparison (``change`` or ``diff_rest``); None when it was not tested."""
    diff = _rounded(row[prefix])
    if diff is None:
        return None
    flag = row[f"{prefix}_significant"]
    return {
        "diff": diff,
        "ci_low": _rounded(row[f"{prefix}_ci_low"]),
        "ci_high": _rounded(row[f"{prefix}_ci_high"]),
        "p_value": _significant_digits(row[f"{prefix}_p_value"]),
        "significant": None if flag is pd.NA else bool(flag),
    }


def _country(
    row: Mapping[str, Any], problems: Mapping[str, Any], loyalty: Mapping[str, Any]
) -> dict[str, Any]:
    """One country of the league table, with its problems and loyalty when not suppressed."""
    code = str(row["country"])
    entry: dict[str, Any] = {
        "name": country_name(code),
        "n": int(row["n"]),
        "suppressed": bool(row["suppressed"]),
    }
    if entry["suppressed"]:
        return entry
    entry["nps"] = {k: _rounded(row[k]) for k in ("score", "se", "ci_low", "ci_high")}
    entry["previous_wave"] = None if row["previous_wave"] is pd.NA else row["previous_wave"]
    entry["change"] = _comparison(row, "change")
    entry["vs_rest"] = _comparison(row, "diff_rest")
    if code in problems and not problems[code]["suppressed"]:
        entry["problems"] = list(problems[code]["problems"])
        entry["best_practices"] = list(problems[code]["best_practices"])
    if code in loyalty and not loyalty[code]["suppressed"]:
        entry["loyalty_index"] = _rounded(loyalty[code]["score"])
        entry["cronbach_alpha"] = _rounded(loyalty[code]["alpha"])
    return entry


def study_metrics(
    ctx: StudyContext,
    *,
    league: pd.DataFrame,
    problems: pd.DataFrame | None = None,
    loyalty: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The global report's headline figures, JSON-ready, for :func:`write_metrics`.

    Parameters
    ----------
    ctx : StudyContext
        :func:`csatlib.report.overview.load_study`.
    league : pandas.DataFrame
        :func:`csatlib.report.overview.league_table` of ``ctx.wave``.
    problems : pandas.DataFrame, optional
        :func:`csatlib.report.overview.problems_by_country`.
    loyalty : pandas.DataFrame, optional
        :func:`csatlib.stats.loyalty.loyalty_summary` by ``country``.

    Returns
    -------
    dict
        ``scope`` ("global"), ``wave``, ``previous_wave``, ``min_n``, ``n`` (own-brand
        respondents in the wave), ``countries_in_wave``, ``nps_pooled``
        (:attr:`~csatlib.report.overview.StudyContext.pooled_nps`; suppressed below ``min_n``)
        and ``countries``: per code (league order) ``name``, ``n``, ``suppressed`` and, when not
        suppressed, ``nps`` (score, se, ci_low, ci_high), ``previous_wave``, ``change`` and
        ``vs_rest`` (diff, ci_low, ci_high, p_value, significant; None when not tested),
        ``problems`` and ``best_practices`` (attribute names), ``loyalty_index`` and
        ``cronbach_alpha``. A suppressed country has ``n`` and ``suppressed: true`` and no
        estimate. Four decimals; p-values four significant digits.
    """
    problem_rows = (
        {} if problems is None or problems.empty else problems.set_index("country").to_dict("index")
    )
    loyalty_rows = (
        {}
        if loyalty is None
        else loyalty.assign(country=loyalty["country"].astype(str))
        .set_index("country")
        .to_dict("index")
    )
    return {
        "scope": "global",
        "wave": ctx.wave,
        "previous_wave": ctx.previous_wave,
        "min_n": ctx.min_n,
        "n": ctx.n_respondents,
        "countries_in_wave": list(ctx.countries),
        "nps_pooled": _nps(ctx.pooled_nps, ctx.pooled_n),
        "countries": {
            str(row["country"]): _country(row, problem_rows, loyalty_rows)
            for row in league.to_dict("records")
        },
    }
