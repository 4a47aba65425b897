"""Read and check the study's targets (``targets.csv``: unit, metric, baseline, target, due wave).

A target says that a report's unit (a country such as ``DE``, or ``business_unit--compute``)
should bring a headline metric (``nps``, ``loyalty_index`` or ``csat:<measure>``) to a value by a
wave. The file is optional, written by hand and read by the report layer only (``csat data``
does not need it); every problem is reported with its row and column, all of them at once.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from csatlib.errors import ExportError
from csatlib.ingest.handwritten import cell_problem, read_handwritten, sheet_row, wave_problem

__all__ = ["COLUMNS", "OPTIONAL_COLUMNS", "METRIC_RANGES", "load_targets", "empty_targets"]

#: The required columns of ``targets.csv``.
COLUMNS = ("unit", "metric", "baseline_wave", "target", "due_wave")
#: Columns kept when present (empty text when absent).
OPTIONAL_COLUMNS = ("owner", "note")
#: The range a target of each metric must lie in (``csat:<measure>`` is on its question's scale,
#: which only the codebook knows: any finite number is accepted here).
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "nps": (-100.0, 100.0),
    "loyalty_index": (0.0, 100.0),
}

_QUARTER = re.compile(r"^(?P<year>\d{4})-Q(?P<quarter>[1-4])$")
_CSAT = re.compile(r"^csat:\S+$")


def empty_targets() -> pd.DataFrame:
    """A targets table with no row (the columns of :func:`load_targets`)."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in (*COLUMNS, *OPTIONAL_COLUMNS)})
    frame["target"] = frame["target"].astype(float)
    return frame


def _metric_error(metric: str) -> str | None:
    if metric in METRIC_RANGES or _CSAT.match(metric):
        return None
    return f"expected 'nps', 'loyalty_index' or 'csat:<measure>', found {metric!r}"


def _target_error(text: str, metric: str) -> str | None:
    try:
        value = float(text)
    except ValueError:
        return f"expected a number, found {text!r}"
    if not math.isfinite(value):
        return f"expected a finite number, found {text!r}"
    low, high = METRIC_RANGES.get(metric, (-math.inf, math.inf))
    if not low <= value <= high:
        return f"expected a number from {low:g} to {high:g} for {metric!r}, found {text!r}"
    return None


def _quarter(wave: str) -> tuple[int, int] | None:
    match = _QUARTER.match(wave)
    return (int(match["year"]), int(match["quarter"])) if match else None


def _row_errors(row: pd.Series) -> list[tuple[str, str]]:
    """(column, problem) for every problem of one row."""
    errors: list[tuple[str, str]] = []
    for column in ("unit", "metric", "baseline_wave", "target", "due_wave"):
        if not row[column]:
            errors.append((column, "expected a value, found an empty cell"))
    if row["metric"] and (problem := _metric_error(row["metric"])):
        errors.append(("metric", problem))
    if row["target"] and (problem := _target_error(row["target"], row["metric"])):
        errors.append(("target", problem))
    for column in ("baseline_wave", "due_wave"):
        if problem := wave_problem(row[column]):
            errors.append((column, problem))
    start, due = _quarter(row["baseline_wave"]), _quarter(row["due_wave"])
    if start and due and due < start:
        errors.append(
            (
                "due_wave",
                f"expected a wave not before the baseline wave {row['baseline_wave']!r}, "
                f"found {row['due_wave']!r}",
            )
        )
    return errors


def load_targets(path: str | Path) -> pd.DataFrame:
    """Read ``targets.csv`` and check every row; raise one error listing every problem.

    Parameters
    ----------
    path : str or pathlib.Path
        A UTF-8 CSV (a BOM is allowed) with the columns ``unit`` (a report's name: ``DE``,
        ``business_unit--compute``), ``metric`` (``nps``, ``loyalty_index`` or
        ``csat:<measure>``), ``baseline_wave``, ``target`` and ``due_wave``, and optionally
        ``owner`` and ``note``.

    Returns
    -------
    pandas.DataFrame
        ``unit, metric, baseline_wave, target, due_wave, owner, note``: ``target`` a float,
        the rest text (leading and trailing blanks removed), in the file's order.

    Raises
    ------
    ExportError
        The file is missing or unreadable, lacks a column, or a row is invalid: an empty
        cell, an unknown metric, a target that is not a number or outside the metric's range
        (NPS −100..100, loyalty index 0..100), a due wave before the baseline wave (when both
        are ``YYYY-Qn``), or a second row for the same unit and metric. Rows are numbered as a
        spreadsheet shows them (the header is row 1): ``"targets.csv, row 4, column target:
        expected a number, found 'high'"``.
    """
    path = Path(path)
    frame = read_handwritten(path, columns=COLUMNS, optional=OPTIONAL_COLUMNS, what="targets file")
    problems = [
        cell_problem(path, sheet_row(frame, position), column, problem)
        for position, (_, row) in enumerate(frame.iterrows())
        for column, problem in _row_errors(row)
    ]
    repeated = frame.duplicated(["unit", "metric"], keep="first") & frame["unit"].ne("")
    problems += [
        f"{path.name}, row {sheet_row(frame, position)}, column metric: a second target for unit "
        f"{frame['unit'].iat[position]!r} and metric {frame['metric'].iat[position]!r}"
        for position in repeated.to_numpy().nonzero()[0]
    ]
    if problems:
        raise ExportError("\n".join(problems))
    frame["target"] = frame["target"].astype(float)
    return frame.reset_index(drop=True)
