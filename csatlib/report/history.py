"""The history of every report's headline figures: one row per unit, wave and metric, kept.

``reports/metrics/<name>.json`` holds the latest build's figures only; each build also records
them in ``reports/history.sqlite`` (SQLite, standard library), which keeps every wave ever
recorded. A row is a unit (a country, a business unit, segment or other slice, a cross-cut, the
global summary), a wave and a metric, with its estimate, interval, ``n`` and whether it was
suppressed. Recording a unit's wave again replaces that wave's rows (idempotent per wave) and
never touches another wave; a build is recorded in one transaction (all its rows or none).
``reports/history.csv`` is the same table for people (:func:`csatlib.safety.write_csv_safely`).

Metric names (stable across builds): ``nps`` (the report's NPS; the global summary's pooled NPS),
``csat:<measure>`` (the mean of overall satisfaction and of each attribute, as the metrics JSON's
``csat`` block lists them: that block does not say which measure is the overall one), and
``loyalty_index``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from csatlib.errors import DataError, ReportError, require_columns
from csatlib.report.stamps import published_paths, timestamp
from csatlib.safety import write_csv_safely

__all__ = [
    "COLUMNS",
    "HISTORY_CSV",
    "HISTORY_FILE",
    "ROW_COLUMNS",
    "SCHEMA_VERSION",
    "baselines",
    "export_csv",
    "history",
    "metric_rows",
    "record_build",
    "record_reports",
]

#: The history store, in the reports folder.
HISTORY_FILE = "history.sqlite"
#: The history as CSV, for people, in the reports folder.
HISTORY_CSV = "history.csv"
#: Version of the store's tables; a store of another version is refused, not rewritten.
SCHEMA_VERSION = 1

_UNIT = ("unit", "dimension", "value", "within")
_FIGURES = ("estimate", "ci_low", "ci_high", "n", "suppressed")
ROW_COLUMNS = (*_UNIT, "wave", "metric", *_FIGURES)
COLUMNS = (*ROW_COLUMNS, "recorded_at", "build_id")
_TABLE = """
CREATE TABLE history (
    unit TEXT NOT NULL, dimension TEXT NOT NULL, value TEXT NOT NULL, within TEXT NOT NULL,
    wave TEXT NOT NULL, metric TEXT NOT NULL,
    estimate REAL, ci_low REAL, ci_high REAL, n INTEGER, suppressed INTEGER NOT NULL,
    recorded_at TEXT NOT NULL, build_id TEXT NOT NULL,
    PRIMARY KEY (unit, wave, metric)
)"""


# --------------------------------------------------------------------------- the store


def _refuse(path: Path, why: str) -> ReportError:
    return ReportError(
        f"{path} is not a history store of csat reports (SQLite, schema version "
        f"{SCHEMA_VERSION}): {why}. Move it away; the next build starts a new history."
    )


@contextmanager
def _store(reports_dir: str | Path) -> Iterator[sqlite3.Connection]:
    """An open, checked connection to the store, created when missing (closed on exit)."""
    path = Path(reports_dir) / HISTORY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as conn:
        try:
            # WAL: a reader (the index, a notebook) never blocks the build's write
            conn.execute("PRAGMA journal_mode=WAL")
            tables = {
                name
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if not tables:
                with conn:
                    conn.execute(_TABLE)
                    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                    conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            elif not {"history", "schema_version"} <= tables:
                raise _refuse(path, f"it holds the tables {sorted(tables)}")
            (version,) = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise _refuse(path, str(exc)) from exc
        if version != SCHEMA_VERSION:
            raise _refuse(path, f"its schema version is {version}")
        yield conn


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


# --------------------------------------------------------------------------- rows


def _number(cell: Mapping[str, Any], key: str, where: str) -> float | None:
    value = cell.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(f"{where}: '{key}' must be a number or null; found {value!r}")
    return float(value)


def _row(cell: Any, estimate: str, where: str) -> dict[str, Any]:
    """One metric's figures; a suppressed cell keeps its ``n`` and has no estimate."""
    if not isinstance(cell, Mapping):
        raise DataError(f"{where}: expected an object with the figures; found {cell!r}")
    suppressed = bool(cell.get("suppressed", False))
    figures = {
        column: None if suppressed else _number(cell, key, where)
        for column, key in (("estimate", estimate), ("ci_low", "ci_low"), ("ci_high", "ci_high"))
    }
    n = _number(cell, "n", where)
    return {**figures, "n": None if n is None else int(n), "suppressed": suppressed}


def metric_rows(
    metrics: Mapping[str, Any],
    *,
    unit: str,
    dimension: str = "country",
    value: str = "",
    within: str = "",
) -> pd.DataFrame:
    """The history rows of one report's metrics (:mod:`csatlib.report.metrics`).

    Parameters
    ----------
    metrics : mapping
        A report's metrics JSON as read back: :func:`csatlib.report.metrics.report_metrics`
        (``wave``, ``nps``, ``csat``, ``loyalty``) or :func:`~csatlib.report.metrics.study_metrics`
        (``wave``, ``nps_pooled``).
    unit : str
        The report's name (``DE``, ``segment--enterprise``, ``global``).
    dimension, value, within : str
        What the report is about: ``country`` and the code, ``segment`` and ``Enterprise``; a
        cross-cut's outer unit as ``"country=DE"``.

    Returns
    -------
    pandas.DataFrame
        ``unit, dimension, value, within, wave, metric, estimate, ci_low, ci_high, n,
        suppressed``, one row per metric the report has (``nps``, ``csat:<measure>``,
        ``loyalty_index``); no rows when the metrics name no wave (nothing to place in time).
    """
    wave = metrics.get("wave")
    if not wave:
        return _empty(ROW_COLUMNS)
    cells: dict[str, tuple[Any, str]] = {}
    nps = metrics.get("nps", metrics.get("nps_pooled"))
    if nps is not None:
        cells["nps"] = (nps, "score")
    for measure, cell in (metrics.get("csat") or {}).items():
        cells[f"csat:{measure}"] = (cell, "mean")
    if metrics.get("loyalty"):
        cells["loyalty_index"] = (metrics["loyalty"], "index")
    about = {"unit": unit, "dimension": dimension, "value": value, "within": within}
    rows = [
        {**about, "wave": str(wave), "metric": metric, **_row(cell, key, f"{unit} {metric}")}
        for metric, (cell, key) in cells.items()
    ]
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS)) if rows else _empty(ROW_COLUMNS)


# --------------------------------------------------------------------------- recording


def _check_rows(rows: pd.DataFrame) -> None:
    require_columns(rows, ROW_COLUMNS, "record_build")
    keys = rows[["unit", "wave", "metric"]]
    blank = keys.isna().any(axis=1) | (keys.astype(str) == "").any(axis=1)
    if blank.any():
        raise DataError(
            f"record_build: unit, wave and metric must not be empty; row {blank.idxmax()} is "
            f"{keys.loc[blank.idxmax()].to_dict()}"
        )
    twice = keys.duplicated(keep=False)
    if twice.any():
        raise DataError(
            "record_build: each unit, wave and metric once per build; found twice: "
            f"{keys.loc[twice].drop_duplicates().to_dict('records')}"
        )


def record_build(
    reports_dir: str | Path, rows: pd.DataFrame, *, build_id: str, recorded_at: str = ""
) -> int:
    """Record a build's rows in ``reports_dir/history.sqlite``: all of them, or none.

    Each (unit, wave) in ``rows`` replaces the rows the store held for it (a wave recorded
    again is not duplicated, and a metric the unit no longer has leaves that wave); every other
    wave stays as it was.

    Parameters
    ----------
    reports_dir : str or pathlib.Path
        The reports folder (the store is created there when missing).
    rows : pandas.DataFrame
        :func:`metric_rows` of the build's reports, concatenated.
    build_id : str
        The build that recorded them.
    recorded_at : str
        When; default now (:func:`csatlib.report.stamps.timestamp`).

    Returns
    -------
    int
        The number of rows recorded.

    Raises
    ------
    DataError
        A row without unit, wave or metric, or the same unit, wave and metric twice.
    ReportError
        The file is not a history store, or writing failed (then nothing was recorded).
    """
    _check_rows(rows)
    if rows.empty:
        return 0
    at = recorded_at or timestamp()
    values = rows[list(ROW_COLUMNS)].astype(object).where(rows[list(ROW_COLUMNS)].notna(), None)
    records = [
        (*row[:-2], None if row[-2] is None else int(row[-2]), int(bool(row[-1])), at, build_id)
        for row in values.itertuples(index=False, name=None)
    ]
    waves = rows[["unit", "wave"]].drop_duplicates().astype(str).itertuples(index=False)
    with _store(reports_dir) as conn:
        try:
            with conn:  # one transaction: committed whole, or rolled back on any error
                conn.executemany("DELETE FROM history WHERE unit = ? AND wave = ?", list(waves))
                conn.executemany(
                    f"INSERT INTO history ({', '.join(COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(COLUMNS))})",
                    records,
                )
        except sqlite3.Error as exc:
            raise ReportError(
                f"{Path(reports_dir) / HISTORY_FILE}: recording build {build_id} failed, "
                f"nothing of it was recorded: {exc}"
            ) from exc
    return len(records)


def record_reports(
    reports_dir: str | Path, built: Mapping[str, tuple[str, str, str]], *, build_id: str
) -> int:
    """Record the published metrics of the reports a build made, then export the CSV.

    ``built`` maps each report's name to its (dimension, value, within), as the build plans
    them. A report without a metrics file (the global summary's is optional) records nothing.
    Returns the number of rows recorded (:func:`record_build`).
    """
    frames = []
    for name, (dimension, value, within) in built.items():
        path = published_paths(Path(reports_dir), name)["metrics"]
        if not path.exists():
            continue
        try:
            metrics = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: not a readable metrics file ({exc})") from exc
        if not isinstance(metrics, Mapping):
            raise DataError(f"{path}: expected a JSON object, found {type(metrics).__name__}")
        frames.append(
            metric_rows(metrics, unit=name, dimension=dimension, value=value, within=within)
        )
    rows = pd.concat(frames, ignore_index=True) if frames else _empty(ROW_COLUMNS)
    recorded = record_build(reports_dir, rows, build_id=build_id)
    if (Path(reports_dir) / HISTORY_FILE).exists():
        export_csv(reports_dir)
    return recorded


# --------------------------------------------------------------------------- reading


def history(reports_dir: str | Path, unit: str | None = None) -> pd.DataFrame:
    """Every recorded row, or one unit's: oldest wave first within each unit and metric.

    Returns
    -------
    pandas.DataFrame
        ``unit, dimension, value, within, wave, metric, estimate, ci_low, ci_high, n,
        suppressed, recorded_at, build_id``; empty (with these columns) when nothing was
        recorded yet. Waves are ordered as text ("2026-Q1" < "2026-Q2"), as
        :func:`csatlib.roles.wave_order` orders waves that are not an ordered category.
    """
    if not (Path(reports_dir) / HISTORY_FILE).exists():
        return _empty(COLUMNS)
    where, params = ("WHERE unit = ?", (unit,)) if unit is not None else ("", ())
    with _store(reports_dir) as conn:
        frame = pd.read_sql_query(
            f"SELECT {', '.join(COLUMNS)} FROM history {where} ORDER BY unit, metric, wave",
            conn,
            params=params,
        )
    frame["n"] = frame["n"].astype("Int64")
    frame["suppressed"] = frame["suppressed"].astype(bool)
    return frame


def baselines(reports_dir: str | Path, *, wave: str | None = None) -> pd.DataFrame:
    """Each unit's and metric's baseline: its earliest wave with an estimate, or ``wave``.

    Parameters
    ----------
    reports_dir : str or pathlib.Path
        The reports folder.
    wave : str, optional
        The baseline wave for every unit (its row as recorded, suppressed or not); a unit or
        metric without that wave has no baseline. Default: per unit and metric the earliest
        recorded wave that is not suppressed (a suppressed wave has no value to compare with).

    Returns
    -------
    pandas.DataFrame
        ``unit, dimension, value, within, metric, baseline_wave, estimate, ci_low, ci_high, n,
        suppressed``, by unit and metric.

    Raises
    ------
    DataError
        ``wave`` was never recorded.
    """
    rows = history(reports_dir)
    if wave is not None:
        if wave not in set(rows["wave"]):
            raise DataError(
                f"baseline wave {wave!r} is not in {Path(reports_dir) / HISTORY_FILE}; recorded "
                f"waves: {', '.join(sorted(set(rows['wave']))) or 'none'}"
            )
        rows = rows.loc[rows["wave"] == wave]
    else:
        rows = rows.loc[~rows["suppressed"].astype(bool)]
    first = rows.sort_values(["unit", "metric", "wave"]).groupby(["unit", "metric"]).head(1)
    out = first.rename(columns={"wave": "baseline_wave"})
    columns = [*_UNIT, "metric", "baseline_wave", *_FIGURES]
    return out[columns].reset_index(drop=True)


def export_csv(reports_dir: str | Path) -> Path:
    """Write the whole history to ``reports_dir/history.csv`` (formula-safe) and return it."""
    return write_csv_safely(history(reports_dir), Path(reports_dir) / HISTORY_CSV)
