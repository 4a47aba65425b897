"""Clean raw exports into typed, canonical tables, with a log that accounts for every row.

:func:`clean_export` turns one :class:`~csatlib.ingest.io.RawExport` into the canonical columns of
``docs/data_model.md`` using its :class:`~csatlib.ingest.codebook.Codebook`; :func:`build_processed`
does it for every ``*.codebook.yaml`` in ``data/raw`` and writes ``data/processed`` atomically;
:func:`load_processed` reads a processed table back with its codebook attributes;
:func:`data_quality_note` summarizes the cleaning for a report.

Cleaning works on each column's distinct texts: every rule is decided once per distinct text, and
a typed column is held as one value per distinct text plus a code per row (``_Lazy``).
:func:`build_processed` never holds a processed table whole: it makes and writes its rows
:data:`BATCH_ROWS` at a time, and the result equals the exports cleaned whole and concatenated
(tested with batches of 3 rows).

Rules (the ``rule`` column of the log)
--------------------------------------
Row exclusions, in precedence order (a row is excluded for the first reason that applies):

==================  ===============================================================================
``missing_id``      the id cell is empty
``duplicate_id``    the id was already seen earlier in this export or in an earlier export of the
                    same kind (first occurrence kept, in file order; exports in codebook-name order)
``empty_response``  every scale column (nps, overall, attribute, importance, loyalty, expectation)
                    is missing after cleaning (blank, missing code, invalid)
``missing_country`` the country cell is empty (every report is per country)
``unknown_country`` the country is not an ISO 3166 code, name or known variant
``speeder``         only with ``exclude_speeders=True`` (else flagged in ``flag_speeder``)
``straightliner``   only with ``exclude_straightliners=True`` (else flagged)
==================  ===============================================================================

Cell rules, counted on kept rows only: ``missing_code`` (a don't-know code -> <NA>),
``out_of_range``, ``non_numeric`` (includes "7.5" and "1E5": ratings are whole numbers),
``invalid_date``, ``invalid_bool`` (all ``set_missing``, one log row per cell, the original cell in
``value`` for non-text columns), and the bulk rules ``reverse_coded``, ``country_normalized``,
``text_trimmed``, ``text_nfc`` (``changed``, one log row per rule and column with ``count``).
Flags: ``speeder`` (duration below ``speeder_ratio`` times the median duration of the rows not
excluded for other reasons) and ``straightliner`` (at least ``straightline_min`` answered attribute
ratings, all identical), one ``flagged`` log row per kept row.

A scale column whose whole-number answers fall outside the codebook's scale more often than
:data:`MAX_OUT_OF_RANGE_SHARE` (5%, and at least :data:`MIN_OUT_OF_RANGE_VALUES` values) stops
cleaning with an ExportError: the codebook's scale is wrong (1-5 declared for a 0-10 question).
So does one whose answers are text that is no whole number as often (labels such as "10 -
Extremely likely" exported instead of numbers, or decimal commas such as "8,0").

Invariant: for every export, raw rows = kept + excluded (checked; a violation raises DataError).
Entirely blank lines are not rows (they are counted in the summary as ``blank_rows``).

Waves
-----
Calendar quarters ``"2026-Q1"`` by default. With ``waves: {fiscal_year_start: m}`` (m > 1) the
label is ``"FY<year>-Q<q>"`` where the fiscal year is named by the calendar year in which it ends
(fiscal_year_start 7: July 2025 -> ``"FY2026-Q1"``, June 2026 -> ``"FY2026-Q4"``). The wave is an
ordered categorical; a ``month`` column (``"2026-03"``) is added alongside. A survey export (one
with scale columns) that has neither a date nor a wave column is one wave, :data:`SINGLE_WAVE`
(``"all"``), so that every report has the wave it compares within.

Studies
-------
:func:`build_processed` combines the exports of one kind only when they are the same study:
their codebooks declare the same columns (name, role, scale), or the same ``study`` name.
Anything else stops the build with a CodebookError saying what differs (one study per raw
folder). A ``<kind>.parquet`` left in the output folder by an earlier build whose kind is no
longer in the raw folder is removed, so a study never picks up another study's table.

Organisation
------------
When the raw folder has an ``organisation.yaml`` (:mod:`csatlib.ingest.organisation`), it is
validated against the codebooks before any export is read, written as the tables
``organisation_codes``, ``organisation_accounts``, ``organisation_products`` and
``organisation_attributes``, and checked against the cleaned tables: what the mapping and the data
do not agree on is a ``warning`` row of the log (never an exclusion). Every table with a product
column gets a ``function`` column (role ``function``) from it. No row is added or removed: an
account in two business units stays one row (see
:func:`~csatlib.ingest.organisation.unit_membership`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_string_dtype

from csatlib import roles
from csatlib.config import (
    ACCOUNT_ALIASES,
    ORGANISATION,
    PROCESSED_DIR,
    RAW_DIR,
    record_raw_dir,
)
from csatlib.errors import CodebookError, DataError, ExportError
from csatlib.ingest.codebook import (
    ORGANISATION_ROLES,
    SCALE_ROLES,
    Codebook,
    ColumnSpec,
    WaveSpec,
    load_codebook,
)
from csatlib.ingest.countries import to_alpha2
from csatlib.ingest.dataset import (
    DATASET_DIR,
    ROW_GROUP_ROWS,
    PartitionWriter,
    arrow_table,
    partition_key,
    swap_dataset,
)
from csatlib.ingest.io import RawExport, column_letter, read_export
from csatlib.ingest.organisation import (
    ORGANISATION_TABLES,
    Organisation,
    check_organisation,
    checked_columns,
    checked_spellings,
    load_organisation,
    read_aliases,
    with_functions,
)
from csatlib.safety import safe_for_csv

__all__ = [
    "CleanResult",
    "BuildSummary",
    "LOG_COLUMNS",
    "EXCLUSION_REASONS",
    "MAX_OUT_OF_RANGE_SHARE",
    "MIN_OUT_OF_RANGE_VALUES",
    "SINGLE_WAVE",
    "clean_export",
    "build_processed",
    "load_processed",
    "load_processed_rows",
    "load_processed_columns",
    "processed_header",
    "file_key",
    "data_quality_note",
    "load_cleaning_summary",
    "wave_labels",
]

#: Columns of the cleaning log, in order.
LOG_COLUMNS: tuple[str, ...] = (
    "source",
    "source_row",
    "response_id",
    "wave",
    "column",
    "rule",
    "action",
    "value",
    "count",
    "message",
)
#: Exclusion reasons in precedence order.
EXCLUSION_REASONS: tuple[str, ...] = (
    "missing_id",
    "duplicate_id",
    "empty_response",
    "missing_country",
    "unknown_country",
    "speeder",
    "straightliner",
)
#: Largest share of a scale column's whole-number answers (blanks and missing codes not counted)
#: that may fall outside the codebook's scale: up to it they are stray typing errors, set
#: missing and logged ``out_of_range``; above it (and from :data:`MIN_OUT_OF_RANGE_VALUES`
#: values on) the codebook's scale is wrong and cleaning stops with an ExportError.
MAX_OUT_OF_RANGE_SHARE: float = 0.05
#: Fewest out-of-range values that can stop cleaning: one typo among a dozen answers is 8%.
MIN_OUT_OF_RANGE_VALUES: int = 5
#: The wave of every row of a survey export with neither a date nor a wave column.
SINGLE_WAVE: str = "all"
#: Default speeder rule: a duration below this share of the median duration.
SPEEDER_RATIO: float = 1 / 3
#: Default straight-lining rule: at least this many answered attributes, all equal.
STRAIGHTLINE_MIN: int = 5
#: Rows of the processed table made and written at a time by :func:`build_processed`: its
#: memory follows this, not the size of the export.
BATCH_ROWS: int = 65_536
_TRUE = ("true", "yes", "y", "1", "t")
_FALSE = ("false", "no", "n", "0", "f")
_WHOLE = r"[+-]?\d+(?:\.0+)?"
_IMPORT_ID = r'^\s*\{\s*"ImportId"\s*:'
_CATEGORY_ROLES = frozenset({"country", "segment", "brand", "region"}) | ORGANISATION_ROLES
_NUMERIC_OTHER = frozenset({"int", "float"})


@dataclass(frozen=True)
class CleanResult:
    """Result of :func:`clean_export`.

    Attributes
    ----------
    data : DataFrame
        Kept rows, canonical columns and dtypes (``docs/data_model.md``); ``attrs`` holds
        ``roles``, ``labels``, ``scales``, ``links`` (importance/expectation item -> attribute),
        ``dimensions`` (loyalty item -> dimension), ``own_brand``, ``kind``.
    log : DataFrame
        Columns :data:`LOG_COLUMNS`: one row per excluded row, flagged row and invalid cell, plus
        one row per bulk change (rule, column) with its ``count``.
    summary : dict
        JSON-ready: ``source``, ``kind``, ``raw_rows``, ``kept``, ``excluded`` (reason -> n),
        ``flagged`` (flag -> n), ``changes`` (rule -> column -> n), ``set_missing`` (rule -> n),
        ``by_country`` (alpha-2 -> the same counts), ``blank_rows`` and reading details.
    """

    data: pd.DataFrame
    log: pd.DataFrame
    summary: dict[str, Any]


@dataclass(frozen=True)
class BuildSummary:
    """Result of :func:`build_processed`: what was written where, and the row accounting."""

    out_dir: Path
    outputs: Mapping[str, Path]
    log_path: Path
    summary_path: Path
    summary: dict[str, Any]
    seconds: float
    removed: tuple[Path, ...] = ()
    #: The tables written from the organisation mapping (:data:`ORGANISATION_TABLES` -> path);
    #: empty when the raw folder has no ``organisation.yaml``.
    organisation_outputs: Mapping[str, Path] = field(default_factory=dict)

    @property
    def raw_rows(self) -> int:
        """Data rows read over every export."""
        return sum(s["raw_rows"] for s in self.summary["sources"])

    @property
    def kept(self) -> int:
        """Rows kept over every export."""
        return sum(s["kept"] for s in self.summary["sources"])

    @property
    def excluded(self) -> dict[str, int]:
        """Rows excluded over every export, by reason."""
        out: dict[str, int] = {}
        for s in self.summary["sources"]:
            for reason, n in s["excluded"].items():
                out[reason] = out.get(reason, 0) + n
        return out

    def describe(self) -> list[str]:
        """One line per export and one per written file, for a command line to print."""

        def counts(mapping: Mapping[str, int]) -> str:
            shown = [f"{name} {n:,}" for name, n in mapping.items() if n]
            return ", ".join(shown) if shown else "none"

        lines = []
        for s in self.summary["sources"]:
            excluded = sum(s["excluded"].values())
            lines.append(
                f"{s['source']} ({s['kind']}): {s['raw_rows']:,} rows -> {s['kept']:,} kept, "
                f"{excluded:,} excluded ({counts(s['excluded'])}); flagged: "
                f"{counts(s['flagged'])}; set missing: {counts(s['set_missing'])}"
            )
        for kind, path in self.outputs.items():
            lines.append(f"{path.name}: {self.summary['kinds'][kind]['rows']:,} rows")
        organisation = self.summary.get("organisation")
        for name, path in self.organisation_outputs.items():
            lines.append(f"{path.name}: {organisation['tables'][name]:,} rows")
        if organisation is not None:
            lines.append(
                f"{organisation['file']}: warnings in the cleaning log: "
                f"{counts(organisation['warnings'])}"
            )
        for path in self.removed:
            why = (
                "the raw folder has no organisation.yaml any more"
                if path.stem in ORGANISATION_TABLES
                else "its kind is not in the raw folder any more"
            )
            lines.append(f"{path.name}: removed ({why})")
        lines.append(f"{self.log_path.name}, {self.summary_path.name}")
        return lines


# --------------------------------------------------------------------------------------------------
# event collection (vectorized: one boolean mask per rule and column)


@dataclass
class _Event:
    column: str
    rule: str
    action: str
    bits: np.ndarray  # the rows it concerns, a bit per row (np.packbits): 1/8 of a bool mask
    rows: int
    values: _Cells | None  # the column's cells, for a per-cell message
    message: str  # per-cell: "{value}" is replaced by the cell; bulk: "{count}" by the count
    bulk: bool

    @property
    def mask(self) -> np.ndarray:
        """The rows it concerns, a bool per row."""
        return np.unpackbits(self.bits, count=self.rows).view(bool)


class _Events:
    def __init__(self) -> None:
        self.items: list[_Event] = []

    def cell(
        self,
        column: str,
        rule: str,
        mask: np.ndarray,
        message: str,
        *,
        values: _Cells | None = None,
        action: str = "set_missing",
    ) -> None:
        if mask.any():
            bits = np.packbits(mask)
            self.items.append(
                _Event(column, rule, action, bits, len(mask), values, message, bulk=False)
            )

    def bulk(
        self, column: str, rule: str, mask: np.ndarray, message: str, *, action: str = "changed"
    ) -> None:
        if mask.any():
            bits, n = np.packbits(mask), len(mask)
            self.items.append(_Event(column, rule, action, bits, n, None, message, bulk=True))


# --------------------------------------------------------------------------------------------------
# vectorized parsing helpers: every rule is evaluated once per *distinct* cell text (a rating column
# has a dozen), then broadcast to the rows through the factorization codes.


@dataclass(frozen=True)
class _Lazy:
    """A typed column held as one value per distinct cell and a code per row: row ``i`` is
    ``values[codes[i]]``. Its rows are made only when asked for (:meth:`take`), a batch at a
    time, so that a cleaned export is never held whole as typed columns."""

    codes: np.ndarray
    values: Any  # numpy array or pandas extension array, one value per distinct cell
    distinct: bool = False  # the values are known to be pairwise distinct and none missing

    def take(self, positions: np.ndarray) -> pd.Series:
        """The rows at ``positions`` as a Series (a fresh 0..n-1 index)."""
        picked = self.codes[positions].astype(np.intp, copy=False)
        if isinstance(self.values, np.ndarray):
            return pd.Series(self.values[picked])
        return pd.Series(self.values.take(picked))

    def rows(self, per_unique: np.ndarray) -> np.ndarray:
        """``per_unique`` (one value per distinct cell) spread to the rows."""
        return per_unique[self.codes] if len(self.codes) else per_unique[:0]

    def notna(self) -> np.ndarray:
        """Which rows hold a value (a bool per row)."""
        return self.rows(~np.asarray(pd.isna(self.values), dtype=bool))

    def floats(self) -> np.ndarray:
        """Every row as float64, NaN where missing."""
        values = self.values
        if not isinstance(values, np.ndarray):
            values = values.to_numpy(dtype=float, na_value=np.nan)
        return self.rows(np.asarray(values, dtype=float))


@dataclass(frozen=True)
class _Cells:
    """One export column, factorized: the cell of row ``i`` is ``uniques[codes[i]]``."""

    codes: np.ndarray
    uniques: list[str]

    def at(self, positions: np.ndarray) -> np.ndarray:
        """The cells' texts at ``positions`` (an object array), only where they are asked for:
        a column's texts are never held row by row."""
        return np.asarray(self.uniques, dtype=object)[self.codes[positions]]

    def strings(self, per_unique: Iterable[str | None]) -> _Lazy:
        """A pandas ``string`` column whose row ``i`` is ``per_unique[codes[i]]`` (None is
        missing); Arrow makes its rows from the distinct values, without a Python string per
        row."""
        return _Lazy(self.codes, pd.array(list(per_unique), dtype=pd.StringDtype()))

    def categories(self, per_unique: Iterable[str | None]) -> _Lazy:
        """A categorical column whose row ``i`` is ``per_unique[codes[i]]``: what
        ``pd.Categorical`` of the expanded values gives (categories sorted, None missing)."""
        return _Lazy(self.codes, pd.Categorical(list(per_unique)))

    def lazy(self, per_unique: Any) -> _Lazy:
        """The column whose row ``i`` is ``per_unique[codes[i]]`` (a typed array, one value
        per distinct cell)."""
        return _Lazy(self.codes, per_unique)

    def expand(self, per_unique: Iterable[Any], dtype: Any = object) -> np.ndarray:
        """``per_unique`` (a value per distinct cell: an array, or any iterable) spread to the
        rows."""
        if not isinstance(per_unique, np.ndarray):
            per_unique = list(per_unique)
        values = np.asarray(per_unique, dtype=dtype)
        return values[self.codes] if len(self.codes) else values[:0]


def _cells(series: pd.Series) -> _Cells:
    """``series`` factorized, its codes in the smallest integer type that holds them (a rating
    column's take a byte per row, not eight)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        # the columnar CSV reader's columns: factorize the small integer codes, not the texts
        codes, used = pd.factorize(series.cat.codes.to_numpy(), use_na_sentinel=False)
        picked = series.cat.categories.to_numpy(dtype=object)[np.maximum(used, 0)]
        texts = ["" if u < 0 else str(t) for u, t in zip(used.tolist(), picked, strict=True)]
        return _Cells(codes=_small(codes, len(texts)), uniques=texts)
    codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=False)
    texts = [
        "" if u is None or (isinstance(u, float) and math.isnan(u)) else str(u) for u in uniques
    ]
    return _Cells(codes=_small(codes, len(texts)), uniques=texts)


def _small(codes: np.ndarray, n: int) -> np.ndarray:
    """``codes`` (0 to ``n - 1``) in the smallest signed integer type that holds ``n``."""
    for dtype in (np.int8, np.int16, np.int32):
        if n <= np.iinfo(dtype).max:
            return codes.astype(dtype, copy=False)
    return codes


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WHOLE_RE = re.compile(_WHOLE)


def _number(text: str) -> float:
    """The number a stripped cell holds, NaN if it is not a plain decimal number."""
    return float(text) if _NUMBER.fullmatch(text) else math.nan


def _is_code(text: str, number: float, codes: Iterable[Any]) -> bool:
    for code in codes:
        if isinstance(code, str):
            if text.casefold() == code.strip().casefold():
                return True
        elif number == float(code):
            return True
    return False


def _describe(spec: ColumnSpec) -> str:
    return f"column {spec.source!r} ({spec.role} {spec.name!r})"


def wave_labels(dates: pd.Series, *, fiscal_year_start: int = 1) -> pd.Series:
    """Quarter labels of dates: ``"2026-Q1"``, or ``"FY2026-Q1"`` for a fiscal year.

    Parameters
    ----------
    dates : Series of datetime64
        Missing dates give <NA>.
    fiscal_year_start : int, default 1
        First month of the fiscal year (1 = calendar year, plain ``"YYYY-Qn"`` labels).

    Returns
    -------
    Series
        ``string`` dtype, same index.

    Notes
    -----
    With start month :math:`s`, a date in year :math:`y`, month :math:`m` lies in fiscal quarter
    :math:`\\lfloor ((m - s) \\bmod 12) / 3 \\rfloor + 1` of fiscal year :math:`y + [m \\ge s]`
    (named by the calendar year in which the fiscal year ends), for :math:`s > 1`.
    """
    labels, at = _quarters(_stamps(dates), fiscal_year_start)
    out = np.asarray(labels + [None], dtype=object)[at]  # -1: the None at the end
    return pd.Series(out, index=dates.index, dtype="string")


def _stamps(dates: Any) -> np.ndarray:
    """``dates`` as datetime64[ns] (NaT where missing)."""
    return np.asarray(pd.to_datetime(pd.Series(dates)), dtype="datetime64[ns]")


def _year_month(stamps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(valid, year, month) of datetime64 values, by integer arithmetic on their months."""
    valid = ~np.isnat(stamps)
    months = stamps.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    return valid, months // 12 + 1970, months % 12 + 1


def _labelled(key: np.ndarray, valid: np.ndarray, label: Callable[[int], str]) -> tuple:
    """The labels of the distinct ``key`` values (sorted) and each value's position among
    them, -1 where not ``valid``."""
    distinct, inverse = np.unique(key[valid], return_inverse=True)
    at = np.full(len(key), -1, dtype=np.int64)
    at[valid] = inverse
    return [label(int(k)) for k in distinct], at


def _quarters(stamps: np.ndarray, fiscal_year_start: int = 1) -> tuple[list[str], np.ndarray]:
    """The quarter labels of :func:`wave_labels` for datetime64 values: the distinct labels
    and each value's position among them (-1 for NaT)."""
    if not 1 <= fiscal_year_start <= 12:
        raise DataError(f"fiscal_year_start must be a month 1-12, found {fiscal_year_start}")
    valid, y, m = _year_month(stamps)
    if fiscal_year_start == 1:
        prefix, year, quarter = "", y, (m - 1) // 3 + 1
    else:
        prefix = "FY"
        year = y + (m >= fiscal_year_start)
        quarter = ((m - fiscal_year_start) % 12) // 3 + 1
    return _labelled(year * 10 + quarter, valid, lambda k: f"{prefix}{k // 10}-Q{k % 10}")


def _months(stamps: np.ndarray) -> tuple[list[str], np.ndarray]:
    """``"2026-03"`` labels of datetime64 values: the distinct ones and each value's position
    among them (-1 for NaT)."""
    valid, y, m = _year_month(stamps)
    return _labelled(y * 100 + m, valid, lambda k: f"{k // 100:04d}-{k % 100:02d}")


def _month_labels(dates: pd.Series) -> pd.Series:
    """``"2026-03"`` per date (<NA> for NaT); labels built once per distinct month."""
    labels, at = _months(_stamps(dates))
    out = np.asarray(labels + [None], dtype=object)[at]
    return pd.Series(out, index=dates.index, dtype="string")


def _coded(
    labels: list[str], at: np.ndarray, rows: np.ndarray, dtype: pd.CategoricalDtype, name: str
) -> pd.Series:
    """The categorical column of ``dtype`` whose row ``i`` is ``labels[at[rows[i]]]`` (missing
    where that is -1), made from codes: no label is written per row."""
    position = dtype.categories.get_indexer(pd.Index(labels, dtype=object))
    per_distinct = np.append(position, -1)[at]  # at == -1 takes the appended -1
    codes = per_distinct[rows]
    if ((codes < 0) & (at[rows] >= 0)).any():  # the dtype holds every kept row's label
        raise DataError(f"{name}: a wave label is missing from the table's waves; please report")
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype))


def _ordered(values: pd.Series) -> pd.Series:
    categories = sorted(str(v) for v in values.dropna().unique())
    return pd.Series(
        pd.Categorical(values.astype(object), categories=categories, ordered=True),
        index=values.index,
    )


# --------------------------------------------------------------------------------------------------
# checks that stop cleaning


def _check_header_rows_as_data(raw: RawExport, codebook: Codebook) -> None:
    head = raw.frame.head(3)
    # at most 3 rows, each an object Series built from the columns' first cells (iterrows would
    # first look for a dtype common to every column, hashing each categorical's texts)
    firsts = {c: np.asarray(head[c], dtype=object) for c in head.columns}
    for i, row_number in enumerate(head.index):
        row = pd.Series({c: v[i] for c, v in firsts.items()}, dtype=object)
        cells = row.str.match(_IMPORT_ID)
        if cells.any():
            first = cells.idxmax()
            raise ExportError(
                f"{raw.name}, row {row_number}, column {first!r}: found a Qualtrics ImportId cell "
                f"({str(row[first])[:40]!r}) among the data. This is a Qualtrics export read with "
                f"{raw.header_rows} header row(s) (format {raw.format!r}); remove 'format: "
                f"{raw.format}' from the codebook or set 'format: qualtrics' so its 3 header rows "
                "are skipped"
            )
    scale = [s for s in codebook.columns.values() if s.role in SCALE_ROLES]
    if not scale or len(raw.frame) < 2:
        return
    wordy = []
    for spec in scale:
        cell = str(raw.frame[spec.source].iloc[0]).strip()
        if len(cell) >= 10 and " " in cell and not _WHOLE_RE.fullmatch(cell):
            column = _cells(raw.frame[spec.source].iloc[1:])
            stripped = [u.strip() for u in column.uniques]
            filled = column.expand([s != "" for s in stripped], bool)
            whole = column.expand([bool(_WHOLE_RE.fullmatch(s)) for s in stripped], bool)
            if filled.any() and whole[filled].mean() >= 0.8:
                wordy.append((spec, cell))
    if wordy and len(wordy) >= math.ceil(len(scale) / 2):
        spec, cell = wordy[0]
        raise ExportError(
            f"{raw.name}, row {raw.frame.index[0]}: looks like a header row, not data: "
            f"{len(wordy)} of {len(scale)} rating columns hold text such as {cell[:60]!r} "
            f"(column {spec.source!r}) while the rows below hold numbers. The export has more "
            f"header rows than format {raw.format!r} assumes ({raw.header_rows}); set the "
            "codebook's format (qualtrics: 3 rows, surveymonkey: 2) or remove it to detect it"
        )


def _check_excel_cells(raw: RawExport, codebook: Codebook) -> None:
    if raw.cell_types is None:
        return
    columns = list(raw.frame.columns)
    for spec in codebook.columns.values():
        numeric = spec.role in SCALE_ROLES or spec.role in ("duration", "weight")
        numeric = numeric or (spec.role == "other" and spec.type in _NUMERIC_OTHER)
        if not numeric:
            continue
        types = raw.cell_types[spec.source]
        bad = types[types.isin(["d", "f"])]
        if bad.empty:
            continue
        row = int(bad.index[0])
        cell = f"{column_letter(columns.index(spec.source))}{row}"
        what = "rating" if spec.role in SCALE_ROLES else "numeric"
        if bad.iloc[0] == "d":
            found = f"Excel date ({raw.frame.at[row, spec.source]})"
        else:
            found = f"formula {raw.frame.at[row, spec.source]!r}"
        more = f" ({len(bad) - 1} more such cells in this column)" if len(bad) > 1 else ""
        raise ExportError(
            f"{raw.name}: sheet {raw.sheet!r}, cell {cell}: {found} in {what} column "
            f"{spec.name!r} (source {spec.source!r}){more}; expected a plain number. Format the "
            "column as Number and paste values, then export again"
        )


# --------------------------------------------------------------------------------------------------
# per-role converters: factorized cells -> typed Series; events recorded on the way


def _stripped(cells: _Cells) -> np.ndarray:
    return cells.expand(u.strip() for u in cells.uniques)


def _check_numbers_readable(
    spec: ColumnSpec, cells: _Cells, kind: np.ndarray, per_unique: np.ndarray, *, export: str
) -> None:
    """Stop when too many answers of a scale column are text that is no whole number.

    A few are typing errors (set missing, logged ``non_numeric``); many mean the export holds
    the answers' labels ("10 - Extremely likely") or decimal commas ("8,0"), and setting them
    missing would drop whole scale points or every answer without a word: the same share as
    :data:`MAX_OUT_OF_RANGE_SHARE` (and :data:`MIN_OUT_OF_RANGE_VALUES`) stops cleaning.
    """
    text = (kind == "not_whole") | (kind == "not_number")
    answered = text | (kind == "ok") | (kind == "out_of_range")
    n_text, n_answered = int(per_unique[text].sum()), int(per_unique[answered].sum())
    if n_text < MIN_OUT_OF_RANGE_VALUES or n_text <= MAX_OUT_OF_RANGE_SHARE * n_answered:
        return
    positions = np.flatnonzero(text)
    common = positions[np.argsort(-per_unique[positions], kind="stable")][:3]
    examples = [cells.uniques[i].strip() for i in common]
    share = n_text / n_answered
    shown = f"{share:.1%}" if share < 0.1 else f"{share:.0%}"
    low, high = spec.scale  # type: ignore[misc]
    hint = (
        "the export writes numbers with a decimal comma: export them with a decimal point or as "
        "whole numbers"
        if any(re.fullmatch(r"[+-]?\d+,\d+", e) for e in examples)
        else "export the answers as numbers (in Qualtrics: 'Use numeric values'), not their "
        "labels; a code for 'don't know' belongs in the codebook's missing_codes"
    )
    raise ExportError(
        f"export {export!r}, column {spec.name!r} (source {spec.source!r}): {shown} of "
        f"{n_answered:,} answers are not whole numbers on the scale {low}-{high}, e.g. "
        f"{', '.join(map(repr, examples))}; {hint} (more than {MAX_OUT_OF_RANGE_SHARE:.0%} "
        "of the answers unreadable means an export setting, not stray typing errors)"
    )


def _check_scale_fits(
    spec: ColumnSpec, cells: _Cells, kinds: list[str], numbers: list[float], *, export: str
) -> None:
    """Stop when too many whole numbers of a scale column fall outside its declared scale.

    A few stray values are typing errors (set missing and logged); many mean that the codebook's
    scale is not the question's (1-5 declared for a 0-10 question), and setting them missing
    would silently drop a large part of the answers. ``kinds`` and ``numbers`` are per distinct
    cell text (``cells.uniques``).
    """
    kind = np.asarray(kinds, dtype=object)
    per_unique = np.bincount(cells.codes, minlength=len(kind))
    _check_numbers_readable(spec, cells, kind, per_unique, export=export)
    whole = (kind == "ok") | (kind == "out_of_range")
    n_whole = int(per_unique[whole].sum())
    n_out = int(per_unique[kind == "out_of_range"].sum())
    if n_out < MIN_OUT_OF_RANGE_VALUES or n_out <= MAX_OUT_OF_RANGE_SHARE * n_whole:
        return
    found = np.asarray(numbers, dtype=float)[whole]
    low, high = spec.scale  # type: ignore[misc]
    share = n_out / n_whole
    shown = f"{share:.1%}" if share < 0.1 else f"{share:.0%}"
    raise ExportError(
        f"export {export!r}, column {spec.name!r} (source {spec.source!r}): {shown} of "
        f"{n_whole:,} values fall outside the codebook's scale; values {found.min():g}-"
        f"{found.max():g} found; codebook says {low}-{high}. Fix the codebook's scale (more "
        f"than {MAX_OUT_OF_RANGE_SHARE:.0%} of the values outside it means a wrong scale, not "
        "stray typing errors)"
    )


def _scale(
    spec: ColumnSpec, cells: _Cells, codes: tuple, events: _Events, *, export: str
) -> tuple[_Lazy, _Lazy]:
    """Return (cleaned Int64 with reverse coding, cleaned Int64 before reverse coding)."""
    low, high = spec.scale  # type: ignore[misc]
    kinds: list[str] = []
    values: list[float] = []
    parsed: list[float] = []
    for text in (u.strip() for u in cells.uniques):
        number = _number(text)
        if text == "":
            kind = "empty"
        elif _is_code(text, number, codes):
            kind = "code"
        elif not _WHOLE_RE.fullmatch(text):
            kind = "not_whole" if math.isfinite(number) else "not_number"
        elif low <= number <= high:
            kind = "ok"
        else:
            kind = "out_of_range"
        kinds.append(kind)
        parsed.append(number)
        values.append(number if kind == "ok" else math.nan)
    _check_scale_fits(spec, cells, kinds, parsed, export=export)
    kind = np.asarray(kinds, dtype=object)

    def rows_of(which: str) -> np.ndarray:  # a bool per row, compared once per distinct text
        return cells.expand(kind == which, bool)

    where = _describe(spec)
    events.bulk(
        spec.name,
        "missing_code",
        rows_of("code"),
        f"{{count}} missing code cell(s) {sorted(map(str, codes))} in {where} -> <NA>",
        action="set_missing",
    )
    events.cell(
        spec.name,
        "out_of_range",
        rows_of("out_of_range"),
        f"{where}: {{value}} is outside the scale {low}-{high} -> <NA>",
        values=cells,
    )
    events.cell(
        spec.name,
        "non_numeric",
        rows_of("not_whole"),
        f"{where}: {{value}} is not a whole number on the scale {low}-{high} -> <NA>",
        values=cells,
    )
    events.cell(
        spec.name,
        "non_numeric",
        rows_of("not_number"),
        f"{where}: {{value}} is not a number -> <NA>",
        values=cells,
    )
    numbers = np.asarray(values, dtype=float)  # per distinct cell
    valid = np.isfinite(numbers)
    before = cells.lazy(
        pd.arrays.IntegerArray(np.where(valid, numbers, 0).astype(np.int64), ~valid)
    )
    if spec.reverse:
        after = cells.lazy(
            pd.arrays.IntegerArray(
                np.where(valid, low + high - numbers, 0).astype(np.int64), ~valid
            )
        )
        events.bulk(
            spec.name,
            "reverse_coded",
            cells.expand(valid, bool),
            f"{{count}} value(s) of {where} reverse-coded (x -> {low + high} - x)",
        )
    else:
        after = before
    return after, before


def _float(spec: ColumnSpec, cells: _Cells, events: _Events, *, minimum: float | None) -> _Lazy:
    stripped = [u.strip() for u in cells.uniques]
    numbers = np.array([_number(s) for s in stripped], dtype=float)  # per distinct cell
    empty = np.array([s == "" for s in stripped], dtype=bool)
    where = _describe(spec)
    events.cell(
        spec.name,
        "non_numeric",
        cells.expand(~empty & ~np.isfinite(numbers), bool),
        f"{where}: {{value}} is not a number -> <NA>",
        values=cells,
    )
    below = np.zeros(len(numbers), dtype=bool)
    if minimum is not None:
        below = np.isfinite(numbers) & (numbers < minimum)
        events.cell(
            spec.name,
            "out_of_range",
            cells.expand(below, bool),
            f"{where}: {{value}} is below {minimum:g} -> <NA>",
            values=cells,
        )
    return cells.lazy(np.where(below, np.nan, numbers).astype("float64"))


def _int(spec: ColumnSpec, cells: _Cells, events: _Events) -> _Lazy:
    stripped = [u.strip() for u in cells.uniques]
    whole = np.array([bool(_WHOLE_RE.fullmatch(s)) for s in stripped], dtype=bool)
    empty = np.array([s == "" for s in stripped], dtype=bool)
    numbers = np.array([_number(s) for s in stripped], dtype=float)  # per distinct cell
    events.cell(
        spec.name,
        "non_numeric",
        cells.expand(~empty & ~whole, bool),
        f"{_describe(spec)}: {{value}} is not a whole number -> <NA>",
        values=cells,
    )
    return cells.lazy(pd.arrays.IntegerArray(np.where(whole, numbers, 0).astype(np.int64), ~whole))


def _text_values(spec: ColumnSpec, cells: _Cells, events: _Events) -> list[str | None]:
    """The text of each distinct cell, trimmed and NFC-normalized (None for an empty cell),
    the changes recorded as bulk events."""
    stripped = [u.strip() for u in cells.uniques]
    normalized = [unicodedata.normalize("NFC", s) for s in stripped]
    where = _describe(spec)
    events.bulk(
        spec.name,
        "text_trimmed",
        cells.expand([s != u for s, u in zip(stripped, cells.uniques, strict=True)], bool),
        f"{{count}} value(s) of {where} had leading/trailing spaces removed",
    )
    events.bulk(
        spec.name,
        "text_nfc",
        cells.expand([n != s for n, s in zip(normalized, stripped, strict=True)], bool),
        f"{{count}} value(s) of {where} normalized to Unicode NFC",
    )
    return [n if n else None for n in normalized]


def _text(spec: ColumnSpec, cells: _Cells, events: _Events) -> _Lazy:
    return cells.strings(_text_values(spec, cells, events))


def _category(spec: ColumnSpec, cells: _Cells, events: _Events) -> _Lazy:
    return cells.categories(_text_values(spec, cells, events))


#: Date formats an export commonly writes, tried on a column's dates to suggest its format.
_DATE_FORMATS: tuple[str, ...] = tuple(
    f"{day}{time}".strip()
    for day in (
        "%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d %b %Y",
        "%b %d, %Y", "%d.%m.%y", "%d/%m/%y", "%m/%d/%y",
    )
    for time in ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
)  # fmt: skip


def _date_format_hint(dates: pd.Series, counts: np.ndarray) -> str:
    """The codebook line for the format of :data:`_DATE_FORMATS` that reads the most rows of
    ``dates`` (distinct texts, each on ``counts`` rows; the 500 most frequent are tried), at
    least 90% of them (a typing error is no reason to miss it): both when day and month could
    be either way round (01/02/2026); an example when none does."""
    top = np.argsort(-counts, kind="stable")[:500]
    sample, weight = dates.iloc[top], counts[top] / counts[top].sum()
    rates = {
        f: float(weight @ pd.to_datetime(sample, format=f, errors="coerce").notna().to_numpy())
        for f in _DATE_FORMATS
    }
    best = max(rates.values(), default=0.0)
    fits = [f for f, rate in rates.items() if rate == best] if best >= 0.9 else []
    if not fits:
        return "e.g. format: '%d.%m.%Y %H:%M' (Python's strptime codes)"
    shown = " or ".join(f"format: {f!r}" for f in fits[:2])
    return shown + (" (which one, the export's settings say)" if len(fits) > 1 else "")


def _date(spec: ColumnSpec, cells: _Cells, events: _Events, export: str) -> _Lazy:
    stripped = pd.Series([u.strip() for u in cells.uniques], dtype=object)
    filled_u = (stripped != "").to_numpy()
    candidates = stripped.where(filled_u, None)
    if spec.format is not None:
        parsed = pd.to_datetime(candidates, format=spec.format, errors="coerce")
    else:
        parsed = pd.to_datetime(candidates, format="ISO8601", errors="coerce", utc=True)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    parsed_u = parsed.astype("datetime64[ns]").to_numpy()
    filled = cells.expand(filled_u, bool)
    bad = cells.expand(filled_u & np.isnat(parsed_u), bool)
    n_filled = int(filled.sum())
    if n_filled and bad.sum() > n_filled / 2:
        first = int(np.flatnonzero(bad)[0])
        example = str(cells.uniques[cells.codes[first]]).strip()
        expected = f"format {spec.format!r}" if spec.format else "ISO dates (2026-01-31 13:45:00)"
        rows = np.bincount(cells.codes, minlength=len(cells.uniques))
        raise CodebookError(
            f"{export}: {_describe(spec)}: {int(bad.sum())} of {n_filled} dates do not parse as "
            f"{expected}, e.g. {example!r} (data row {first + 1}); give the column's date format "
            f"in the codebook: {_date_format_hint(stripped[filled_u], rows[filled_u])}"
        )
    events.cell(
        spec.name,
        "invalid_date",
        bad,
        f"{_describe(spec)}: {{value}} is not a valid date -> <NA>",
        values=cells,
    )
    return cells.lazy(parsed_u)


def _bool(spec: ColumnSpec, cells: _Cells, events: _Events) -> _Lazy:
    trues = {v.casefold() for v in (spec.true_values or _TRUE)}
    falses = {v.casefold() for v in (spec.false_values or _FALSE)}
    folded = [u.strip().casefold() for u in cells.uniques]
    is_true = np.array([f in trues for f in folded], dtype=bool)  # per distinct cell
    is_false = np.array([f in falses for f in folded], dtype=bool)
    empty = np.array([f == "" for f in folded], dtype=bool)
    events.cell(
        spec.name,
        "invalid_bool",
        cells.expand(~empty & ~is_true & ~is_false, bool),
        f"{_describe(spec)}: value is neither in true_values {sorted(trues)} nor in "
        f"false_values {sorted(falses)} -> <NA>",
    )
    return cells.lazy(pd.arrays.BooleanArray(is_true, ~(is_true | is_false)))


def _country(spec: ColumnSpec, cells: _Cells, events: _Events) -> _Lazy:
    stripped = [u.strip() for u in cells.uniques]
    codes_u = to_alpha2(pd.Series(stripped, dtype=object)).to_numpy(dtype=object, na_value=None)
    known = cells.expand([c is not None for c in codes_u], bool)
    empty = cells.expand([s == "" for s in stripped], bool)
    events.cell(
        spec.name,
        "unknown_country",
        ~empty & ~known,
        f"{_describe(spec)}: {{value}} is not an ISO 3166 country code, name or known variant",
        values=cells,
        action="excluded",
    )
    changed = cells.expand(
        [c is not None and c != s for c, s in zip(codes_u, cells.uniques, strict=True)], bool
    )
    events.bulk(
        spec.name,
        "country_normalized",
        changed,
        f"{{count}} value(s) of {_describe(spec)} normalized to ISO 3166 alpha-2",
    )
    return cells.lazy(pd.Categorical(codes_u))


def _other(spec: ColumnSpec, cells: _Cells, events: _Events, export: str) -> _Lazy:
    if spec.type == "int":
        return _int(spec, cells, events)
    if spec.type == "float":
        return _float(spec, cells, events, minimum=None)
    if spec.type == "bool":
        return _bool(spec, cells, events)
    if spec.type == "date":
        return _date(spec, cells, events, export)
    if spec.type == "category":
        return _category(spec, cells, events)
    return _text(spec, cells, events)


# --------------------------------------------------------------------------------------------------
# clean_export


def clean_export(
    raw: RawExport,
    codebook: Codebook,
    *,
    speeder_ratio: float = SPEEDER_RATIO,
    exclude_speeders: bool = False,
    exclude_straightliners: bool = False,
    straightline_min: int = STRAIGHTLINE_MIN,
    known_ids: Collection[str] = (),
) -> CleanResult:
    """Clean one export into canonical, typed columns and account for every row.

    Parameters
    ----------
    raw : RawExport
        From :func:`csatlib.ingest.io.read_export`.
    codebook : Codebook
        Its codebook; validated against ``raw`` first.
    speeder_ratio : float, default 1/3
        A respondent is a speeder when ``duration < speeder_ratio * median(duration)``.
    exclude_speeders, exclude_straightliners : bool, default False
        Exclude flagged rows (reasons ``speeder``/``straightliner``) instead of keeping them.
    straightline_min : int, default 5
        Minimum number of answered attribute ratings, all identical, to flag a straight-liner.
    known_ids : collection of str
        Ids already kept from earlier exports of the same kind; rows with these ids are
        excluded as ``duplicate_id``.

    Returns
    -------
    CleanResult
        ``data`` (kept rows), ``log`` and ``summary``; see the module notes for every rule.

    Raises
    ------
    CodebookError
        A source column is missing, or most dates of a column do not parse with the given format.
    ExportError
        Header rows read as data (Qualtrics read as plain CSV), an Excel date or formula in a
        numeric column (with sheet and cell), or a scale column with more than
        :data:`MAX_OUT_OF_RANGE_SHARE` of its whole-number answers outside the codebook's scale
        (the export, column, source, the values found and the declared scale).
    DataError
        Bad options, or the row accounting does not balance (a bug, reported loudly).

    Notes
    -----
    Speeder threshold: :math:`d_i < r \\cdot \\operatorname{median}(d)` where the median is over
    the non-missing durations of rows not excluded for another reason. Reverse coding maps
    :math:`x \\mapsto \\min + \\max - x`. Straight-lining: at least ``straightline_min``
    answered attribute ratings with :math:`\\max = \\min`. The one-third-of-the-median speeder
    rule is a common rule of thumb, not a published standard. Tested on hand-made exports whose
    expected counts are written in the tests, and on the sample data against the ground truth
    written by its generator (duplicates, empty responses, speeders, invalid cells).

    References
    ----------
    Greszki, R., Meyer, M., & Schoen, H. (2015). Exploring the effects of removing "too fast"
    responses and respondents from web surveys. *Public Opinion Quarterly*, 79(2), 471-503.

    Kim, Y., Dykema, J., Stevenson, J., Black, P., & Moberg, D. P. (2019). Straightlining:
    overview of measurement, comparison of indicators, and effects in mail-web mixed-mode
    surveys. *Social Science Computer Review*, 37(2), 214-233.
    """
    cleaned, log, summary = _clean(
        raw,
        codebook,
        speeder_ratio=speeder_ratio,
        exclude_speeders=exclude_speeders,
        exclude_straightliners=exclude_straightliners,
        straightline_min=straightline_min,
        known_ids=known_ids,
    )
    return CleanResult(data=cleaned.frame(), log=log, summary=summary)


@dataclass(frozen=True)
class _Cleaned:
    """One cleaned export, its typed columns held lazily (:class:`_Lazy`): :meth:`frame` makes
    the rows of the processed table, all of them or a batch at a time."""

    name: str
    codebook: Codebook
    columns: Mapping[str, _Lazy]
    flags: Mapping[str, np.ndarray]
    kept: np.ndarray  # positions of the kept rows among the export's rows
    source_rows: np.ndarray  # each row's line in the export
    dtypes: Mapping[str, Any]  # the categorical columns' dtypes over every kept row

    @property
    def n_kept(self) -> int:
        return len(self.kept)

    def frame(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """Kept rows ``start`` to ``stop`` (all by default) in the processed table's order."""
        return _assemble(self, self.kept[start:stop])

    def column(self, name: str) -> pd.Series | None:
        """The processed table's column ``name`` over every kept row (None without one)."""
        return _assemble(self, self.kept, only=name).get(name)


def _clean(
    raw: RawExport,
    codebook: Codebook,
    *,
    speeder_ratio: float,
    exclude_speeders: bool,
    exclude_straightliners: bool,
    straightline_min: int,
    known_ids: Collection[str],
    consume: bool = False,
) -> tuple[_Cleaned, pd.DataFrame, dict[str, Any]]:
    """:func:`clean_export` with the kept rows left unmade: (cleaned export, log, summary).
    ``consume``: drop each column of ``raw.frame`` once it is parsed (the caller's export is
    then spent), so that an export is not held twice, as texts and as codes."""
    if not 0 < speeder_ratio <= 1:
        raise DataError(f"speeder_ratio must be in (0, 1], found {speeder_ratio}")
    if straightline_min < 2:
        raise DataError(f"straightline_min must be at least 2, found {straightline_min}")
    codebook.validate_against(raw)
    _check_header_rows_as_data(raw, codebook)
    _check_excel_cells(raw, codebook)

    events = _Events()
    columns, before_reverse, country_empty = _typed_columns(raw, codebook, events, consume)
    n = len(raw.frame)
    id_name = next(iter(codebook.names("id")), None)
    country_name = next(iter(codebook.names("country")), None)
    scale_names = [c for c, s in codebook.columns.items() if s.role in SCALE_ROLES]

    reasons, id_codes = _exclusions(codebook, columns, country_empty, n, known_ids)
    flags, speeder_info = _quality_flags(
        codebook,
        columns,
        before_reverse,
        reasons == "",
        speeder_ratio=speeder_ratio,
        straightline_min=straightline_min,
    )
    del before_reverse
    if exclude_speeders and "speeder" in flags:
        _exclude(reasons, flags["speeder"], "speeder")
    if exclude_straightliners and "straightliner" in flags:
        _exclude(reasons, flags["straightliner"], "straightliner")

    kept = reasons == ""
    excluded_counts = {
        r: int((reasons == r).sum())
        for r in EXCLUSION_REASONS
        if _reason_applies(r, id_name, scale_names, country_name, flags)
    }
    _check_row_accounting(raw.name, reasons, excluded_counts)

    source_rows = raw.frame.index.to_numpy(dtype=np.int64)
    positions = np.flatnonzero(kept)
    cleaned = _Cleaned(
        name=raw.name,
        codebook=codebook,
        columns=columns,
        flags=flags,
        kept=positions,
        source_rows=source_rows,
        dtypes=_kept_dtypes(codebook, columns, positions),
    )
    ids = columns[id_name] if id_name else None
    log = _build_log(raw, codebook, events, reasons, flags, kept, ids, id_codes, cleaned)
    summary = _summary(
        raw,
        codebook,
        events,
        reasons,
        flags,
        kept,
        excluded_counts,
        columns.get(country_name) if country_name else None,
        speeder_info,
        options={
            "speeder_ratio": speeder_ratio,
            "exclude_speeders": exclude_speeders,
            "exclude_straightliners": exclude_straightliners,
            "straightline_min": straightline_min,
        },
    )
    return cleaned, log, summary


def _exclusions(
    codebook: Codebook,
    columns: Mapping[str, _Lazy],
    country_empty: np.ndarray,
    n: int,
    known_ids: Collection[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's exclusion reason ("" for none yet), in precedence order, before the quality
    flags; and a code per row for its id (:func:`_id_codes`; -1 throughout without ids)."""
    id_name = next(iter(codebook.names("id")), None)
    country_name = next(iter(codebook.names("country")), None)
    scale_names = [c for c, s in codebook.columns.items() if s.role in SCALE_ROLES]
    reasons = np.full(n, "", dtype=object)
    id_codes = np.full(n, -1, dtype=np.int64)
    if id_name:
        id_codes = _id_codes(columns[id_name])
        missing_id = id_codes < 0
        _exclude(reasons, missing_id, "missing_id")
        dup = pd.Series(id_codes).duplicated(keep="first").to_numpy() & ~missing_id
        if known_ids:
            ids = columns[id_name]
            known = pd.Series(ids.values).isin(list(known_ids)).to_numpy(dtype=bool)
            dup |= ids.rows(known)
        _exclude(reasons, dup, "duplicate_id")
    if scale_names:
        answered = np.zeros(n, dtype=bool)
        for c in scale_names:
            answered |= columns[c].notna()
        _exclude(reasons, ~answered, "empty_response")
    if country_name:
        _exclude(reasons, country_empty, "missing_country")
        _exclude(reasons, ~columns[country_name].notna(), "unknown_country")
    return reasons, id_codes


def _id_codes(ids: _Lazy) -> np.ndarray:
    """A code per row for its id (equal ids, equal codes), -1 where it has none; the distinct
    ids are hashed by Arrow (pandas' factorize took twice as long on a million ids)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if ids.distinct:  # each distinct cell is its own id: the cells' codes are the ids' codes
        return ids.codes.astype(np.int64)
    encoded = pc.dictionary_encode(pa.array(ids.values))
    per_unique = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return ids.rows(per_unique.astype(np.int64))


#: What ``str.strip()`` removes: every character that ``str.isspace()`` (the last is U+3000).
_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


def _ids(series: pd.Series) -> _Lazy:
    """An id column: each cell's text without the whitespace around it, None where empty.
    A categorical column (the columnar reader's) is trimmed by Arrow on its distinct texts."""
    categorical = isinstance(series.dtype, pd.CategoricalDtype)
    codes = series.cat.codes.to_numpy() if categorical else None
    if codes is None or (codes < 0).any() or not is_string_dtype(series.cat.categories):
        cells = _cells(series)
        return cells.strings(u.strip() or None for u in cells.uniques)
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = pa.array(series.cat.categories.array, type=pa.string())
    trimmed = pc.utf8_trim(texts, characters=_WHITESPACE)
    # the categories are distinct texts: trimmed alike and none empty, they are distinct ids
    same = pc.all(pc.equal(trimmed, texts)).as_py() is not False
    empty = pc.any(pc.equal(trimmed, "")).as_py() is True
    if same and not empty:
        del trimmed  # a million ids are held once, not twice
        return _Lazy(codes, pd.array(texts, dtype=pd.StringDtype()), distinct=True)
    values = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    return _Lazy(codes, pd.array(values, dtype=pd.StringDtype()))


def _typed_columns(
    raw: RawExport, codebook: Codebook, events: _Events, consume: bool = False
) -> tuple[dict[str, _Lazy], dict[str, _Lazy], np.ndarray]:
    """Every codebook column parsed by its role, its changes recorded in ``events``.

    Returns the columns by canonical name, the scale columns before reverse coding (for the
    straight-lining check) and the rows whose country cell is empty.
    """
    frame = raw.frame
    columns: dict[str, _Lazy] = {}
    before_reverse: dict[str, _Lazy] = {}
    country_empty = np.zeros(len(frame), dtype=bool)
    for name, spec in codebook.columns.items():
        role = spec.role
        if role == "id":  # a distinct text per row: trimmed by Arrow, not one by one
            columns[name] = _ids(frame[spec.source])
            if consume:
                del frame[spec.source]
            continue
        cells = _cells(frame[spec.source])
        if consume and role != "country":  # the log quotes the country cells it excludes
            del frame[spec.source]
        if role in SCALE_ROLES:
            columns[name], before_reverse[name] = _scale(
                spec, cells, codebook.missing_for(name), events, export=raw.name
            )
        elif role == "country":
            country_empty = cells.expand([u.strip() == "" for u in cells.uniques], bool)
            columns[name] = _country(spec, cells, events)
        elif role == "date":
            columns[name] = _date(spec, cells, events, raw.name)
        elif role in ("duration", "weight"):
            columns[name] = _float(spec, cells, events, minimum=0)
        elif role == "contact_ok":
            columns[name] = _bool(spec, cells, events)
        elif role in _CATEGORY_ROLES or role == "wave":
            columns[name] = _category(spec, cells, events)
        elif role == "other" and spec.type is not None:
            columns[name] = _other(spec, cells, events, raw.name)
        else:  # account, contact, free text, other without type
            columns[name] = _text(spec, cells, events)
    return columns, before_reverse, country_empty


def _exclude(reasons: np.ndarray, mask: np.ndarray, reason: str) -> None:
    """Give ``reason`` to the rows of ``mask`` that have none yet (in place): first one wins."""
    reasons[(reasons == "") & mask] = reason


def _quality_flags(
    codebook: Codebook,
    columns: Mapping[str, _Lazy],
    before_reverse: Mapping[str, _Lazy],
    not_excluded: np.ndarray,
    *,
    speeder_ratio: float,
    straightline_min: int,
) -> tuple[dict[str, np.ndarray], dict[str, float | None]]:
    """The ``speeder`` and ``straightliner`` flags the codebook's columns allow, and speeder info.

    Speeder info is the median duration (over the rows not excluded) and the threshold.
    """
    flags: dict[str, np.ndarray] = {}
    speeder_info: dict[str, float | None] = {}
    duration_name = next(iter(codebook.names("duration")), None)
    if duration_name:
        duration = columns[duration_name].floats()
        pool = duration[not_excluded & np.isfinite(duration)]
        median = float(np.median(pool)) if len(pool) else math.nan
        threshold = speeder_ratio * median
        flags["speeder"] = np.isfinite(duration) & (duration < threshold)
        speeder_info = {
            "median_duration_seconds": None if math.isnan(median) else median,
            "speeder_threshold_seconds": None if math.isnan(threshold) else threshold,
        }
    attributes = codebook.names("attribute")
    if attributes:
        # the highest and lowest answered rating of each row, one attribute at a time
        n = len(not_excluded)
        answered_n = np.zeros(n, dtype=np.int64)
        high, low = np.full(n, -np.inf), np.full(n, np.inf)
        for c in attributes:
            rating = before_reverse[c].floats()
            answered = np.isfinite(rating)
            answered_n += answered
            np.maximum(high, np.where(answered, rating, -np.inf), out=high)
            np.minimum(low, np.where(answered, rating, np.inf), out=low)
        flags["straightliner"] = (answered_n >= straightline_min) & (high == low)
    return flags, speeder_info


def _check_row_accounting(
    export: str, reasons: np.ndarray, excluded_counts: Mapping[str, int]
) -> None:
    """Every raw row is kept or excluded for one counted reason; else a bug, reported loudly."""
    n = len(reasons)
    n_kept = int((reasons == "").sum())
    n_excluded = sum(excluded_counts.values())
    if n_kept + n_excluded != n or int((reasons != "").sum()) != n_excluded:
        raise DataError(
            f"{export}: row accounting does not balance: {n} raw rows, {n_kept} kept, "
            f"{n_excluded} excluded ({excluded_counts}); please report this"
        )


def _reason_applies(
    reason: str,
    id_name: str | None,
    scale_names: list[str],
    country_name: str | None,
    flags: Mapping[str, np.ndarray],
) -> bool:
    if reason in ("missing_id", "duplicate_id"):
        return id_name is not None
    if reason == "empty_response":
        return bool(scale_names)
    if reason in ("missing_country", "unknown_country"):
        return country_name is not None
    return reason in flags


def _kept_dtypes(
    codebook: Codebook, columns: Mapping[str, _Lazy], kept: np.ndarray
) -> dict[str, Any]:
    """The dtype of each categorical column of the processed table over the ``kept`` rows: its
    categories are the values those rows hold (waves ordered), whichever batch is made."""
    dtypes: dict[str, Any] = {}

    def used(name: str) -> pd.Series:  # the distinct values of the kept rows
        column = columns[name]
        return pd.Series(column.values.take(np.unique(column.codes[kept]).astype(np.intp)))

    if _single_wave(codebook):
        dtypes["wave"] = _ordered(pd.Series([SINGLE_WAVE] * min(len(kept), 1))).dtype
    waves: WaveSpec | None = codebook.waves
    for name, spec in codebook.columns.items():
        if spec.role == "wave":
            dtypes[name] = _ordered(used(name).astype("string")).dtype
        elif spec.role in _CATEGORY_ROLES:
            dtypes[name] = used(name).cat.remove_unused_categories().dtype
        if waves is not None and name == waves.source:
            labels = wave_labels(used(name), fiscal_year_start=waves.fiscal_year_start)
            dtypes["wave"] = _ordered(labels).dtype
    return dtypes


def _assemble(cleaned: _Cleaned, index: np.ndarray, only: str | None = None) -> pd.DataFrame:
    """The rows ``index`` of the cleaned export in the processed table's order (only the
    column ``only`` when given). Categorical columns take the dtypes of every kept row."""
    codebook, columns, dtypes = cleaned.codebook, cleaned.columns, cleaned.dtypes
    ordered: dict[str, pd.Series] = {}
    n = len(index)

    def want(name: str) -> bool:
        return only is None or name == only

    def categorical(values: Any, name: str) -> pd.Series:
        dtype = dtypes[name]
        if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):  # recoded
            return values.cat.set_categories(dtype.categories, ordered=dtype.ordered)
        return pd.Series(pd.Categorical(values, dtype=dtype))

    for name in codebook.names("id"):
        if want(name):
            ordered[name] = columns[name].take(index)
    if want("source"):
        source = pd.CategoricalDtype([cleaned.name])
        ordered["source"] = pd.Series(pd.Categorical.from_codes(np.zeros(n, np.int8), dtype=source))
    if want("source_row"):
        ordered["source_row"] = pd.Series(cleaned.source_rows[index])
    if _single_wave(codebook) and want("wave"):
        ordered["wave"] = categorical([SINGLE_WAVE] * n, "wave")
    waves: WaveSpec | None = codebook.waves
    own = (codebook.own_brand or "").casefold()
    for name, spec in codebook.columns.items():
        from_dates = waves is not None and name == waves.source
        brand = spec.role == "brand"
        if spec.role == "id" or not (
            want(name)
            or (from_dates and (want("wave") or want("month")))
            or (brand and want("competitor"))
        ):
            continue
        column = columns[name].take(index)
        if spec.role == "wave":
            column = categorical(column.astype("string").astype(object), name)
        elif spec.role in _CATEGORY_ROLES:
            column = categorical(column, name)
        if want(name):
            ordered[name] = column
        # wave, month and competitor are worked out once per distinct cell, then spread to the
        # rows by the column's codes (no text per row until the month's labels are written)
        if from_dates or brand:
            rows = columns[name].codes[index].astype(np.intp, copy=False)
        if from_dates:
            stamps = _stamps(columns[name].values)  # one per distinct cell
            if want("wave"):
                labels, at = _quarters(stamps, waves.fiscal_year_start)
                ordered["wave"] = _coded(labels, at, rows, dtypes["wave"], cleaned.name)
            if want("month"):
                labels, at = _months(stamps)
                texts = pd.array(labels, dtype="string")  # at: -1 where there is no date
                ordered["month"] = pd.Series(texts.take(at[rows], allow_fill=True))
        if brand and want("competitor"):
            text = pd.Series(columns[name].values).astype("string")
            other = (text.notna() & (text.str.casefold() != own)).fillna(False)
            ordered["competitor"] = pd.Series(other.to_numpy(dtype=bool)[rows])
    for flag, mask in cleaned.flags.items():
        if want(f"flag_{flag}"):
            ordered[f"flag_{flag}"] = pd.Series(mask[index].astype(bool))
    data = pd.DataFrame(ordered, copy=False)  # the columns are fresh copies already
    data.attrs.update(_attrs(codebook))
    return data


def _single_wave(codebook: Codebook) -> bool:
    """True for a survey export (scale columns) without a date or wave column: one wave."""
    return (
        codebook.waves is None
        and not codebook.names("wave")
        and "wave" not in codebook.columns
        and any(s.role in SCALE_ROLES for s in codebook.columns.values())
    )


def _attrs(codebook: Codebook) -> dict[str, Any]:
    roles = dict(codebook.roles)
    labels = dict(codebook.labels)
    if codebook.waves is not None or _single_wave(codebook):
        roles["wave"] = "wave"
        labels.setdefault("wave", "Wave")
    if codebook.names("brand"):
        roles["competitor"] = "other"
        labels["competitor"] = "Competitor's customer"
    items = codebook.columns.values()
    return {
        "roles": roles,
        "labels": labels,
        "scales": codebook.scales,
        "links": {
            s.name: s.attribute
            for s in items
            if s.role in ("importance", "expectation") and s.attribute is not None
        },
        "dimensions": {
            s.name: s.dimension for s in items if s.role == "loyalty" and s.dimension is not None
        },
        "own_brand": codebook.own_brand,
        "kind": codebook.kind,
    }


class _LogRows:
    """The cleaning log's columns, filled one block of rows (one rule) at a time."""

    fields = (
        "source_row",
        "response_id",
        "wave",
        "count",
        "column",
        "rule",
        "action",
        "value",
        "message",
    )

    def __init__(
        self,
        source_rows: np.ndarray,
        ids: _Lazy | None,
        waves: np.ndarray | None = None,
    ) -> None:
        self.source_rows = source_rows
        self.ids = ids  # each row's id (None: the export has no id column)
        self.waves = waves  # each row's wave (None where it has none: excluded rows)
        self.parts: dict[str, list[np.ndarray]] = {f: [] for f in self.fields}

    def ids_at(self, positions: np.ndarray) -> np.ndarray:
        """The ids of the rows at ``positions`` (an object array, None where missing)."""
        if self.ids is None:
            return np.full(len(positions), None, dtype=object)
        return self.ids.take(positions).to_numpy(dtype=object, na_value=None)

    def __len__(self) -> int:
        return sum(len(a) for a in self.parts["rule"])

    def add(
        self,
        positions: np.ndarray | None,
        *,
        column: str | None,
        rule: str,
        action: str,
        message: str | np.ndarray,
        value: np.ndarray | None = None,
        count: int = 1,
        wave: str | None = None,
    ) -> None:
        """One row per position, or one row about no row in particular (``positions=None``,
        e.g. a count of one ``wave``)."""
        size = 1 if positions is None else len(positions)
        if size == 0:
            return
        parts = self.parts
        fill = np.full(size, None, dtype=object)
        parts["source_row"].append(fill if positions is None else self.source_rows[positions])
        parts["response_id"].append(fill if positions is None else self.ids_at(positions))
        if positions is None or self.waves is None:
            parts["wave"].append(np.full(size, wave, dtype=object))
        else:
            parts["wave"].append(self.waves[positions])
        parts["count"].append(np.full(size, count, dtype=np.int64))
        parts["column"].append(np.full(size, column, dtype=object))
        parts["rule"].append(np.full(size, rule, dtype=object))
        parts["action"].append(np.full(size, action, dtype=object))
        parts["value"].append(fill if value is None else value)
        parts["message"].append(
            np.full(size, message, dtype=object) if isinstance(message, str) else message
        )

    def frame(self, source: str) -> pd.DataFrame:
        parts = self.parts
        data = {
            f: np.concatenate(parts[f]) if parts[f] else np.array([], dtype=object)
            for f in self.fields
        }
        return pd.DataFrame({"source": np.full(len(data["rule"]), source, dtype=object), **data})


def _build_log(
    raw: RawExport,
    codebook: Codebook,
    events: _Events,
    reasons: np.ndarray,
    flags: Mapping[str, np.ndarray],
    kept: np.ndarray,
    ids: _Lazy | None,
    id_codes: np.ndarray,
    cleaned: _Cleaned,
) -> pd.DataFrame:
    """The cleaning log of one export: exclusions, flags, changed cells, then bulk counts, one
    row per rule, column and wave (the processed table's ``wave`` of each kept row; none for a
    table without waves). ``id_codes``: a code per row for its id (:func:`_id_codes`)."""
    row_waves, order, wave_at = None, [], None
    waves = cleaned.column("wave")
    if waves is not None:
        row_waves = np.full(len(kept), None, dtype=object)
        row_waves[cleaned.kept] = waves.astype(object).to_numpy()
        order = roles.wave_order(waves)
        wave_at = np.full(len(kept), -1, dtype=np.int64)  # for the bulk counts
        wave_at[cleaned.kept] = _wave_positions(waves, order)
    rows = _LogRows(cleaned.source_rows, ids, row_waves)
    _log_exclusions(rows, raw, codebook, reasons, id_codes)
    for flag, mask in flags.items():
        rows.add(
            np.flatnonzero(mask & kept),
            column=None,
            rule=flag,
            action="flagged",
            message=_FLAG_MESSAGES[flag],
        )
    bulk: list[_Event] = []
    for event in events.items:
        if event.action == "excluded":
            continue  # reported above with the row's exclusion
        if event.bulk:
            bulk.append(event)
            continue
        positions = np.flatnonzero(event.mask & kept)
        if event.values is not None:
            value = event.values.at(positions)
            left, _, right = event.message.partition("{value}")
            message = np.array([f"{left}{v!r}{right}" for v in value], dtype=object)
        else:
            value, message = None, event.message
        rows.add(
            positions,
            column=event.column,
            rule=event.rule,
            action=event.action,
            message=message,
            value=value,
        )
    n_row_events = len(rows)
    for event in bulk:  # one row per rule, column and wave, after the row events
        for wave, count in _counts_by_wave(event.mask & kept, wave_at, order):
            where = f" (wave {wave})" if wave is not None else ""
            rows.add(
                None,
                column=event.column,
                rule=event.rule,
                action=event.action,
                message=event.message.replace("{count}", f"{count:,}") + where,
                count=count,
                wave=wave,
            )
    log = rows.frame(raw.name)
    # row events in spreadsheet order, then the per-column bulk counts
    order = np.argsort(
        np.where(
            np.arange(len(log)) < n_row_events, log["source_row"], np.iinfo(np.int64).max
        ).astype(np.int64),
        kind="stable",
    )
    return _typed_log(log.iloc[order].reset_index(drop=True))


def _wave_positions(labels: Any, order: Sequence[str]) -> np.ndarray:
    """Each row's wave (``labels``: a wave or None per row, a categorical column recoded
    without reading its texts) as its position in ``order``, -1 for a row without a wave."""
    return pd.Categorical(labels, categories=list(order)).codes.astype(np.int64)


def _counts_by_wave(
    mask: np.ndarray, row_waves: np.ndarray | None, order: Sequence[str]
) -> list[tuple[str | None, int]]:
    """(wave, rows) of the rows of ``mask``, waves in ``order``, then (None, rows) for the rows
    without a wave (every row, for a table without waves: ``row_waves`` None). ``row_waves``
    holds each row's position in ``order`` (:func:`_wave_positions`). Waves with no row are
    left out, and the counts add up to the rows of ``mask``."""
    if row_waves is None:
        count = int(mask.sum())
        return [(None, count)] if count else []
    counts = np.bincount(row_waves[mask] + 1, minlength=len(order) + 1)
    out = [(str(w), int(counts[k + 1])) for k, w in enumerate(order) if counts[k + 1]]
    return [*out, (None, int(counts[0]))] if counts[0] else out


def _log_exclusions(
    rows: _LogRows, raw: RawExport, codebook: Codebook, reasons: np.ndarray, id_codes: np.ndarray
) -> None:
    """One log row per excluded row, by reason in precedence order."""
    source_rows = rows.source_rows
    country_spec = next((s for s in codebook.columns.values() if s.role == "country"), None)
    for reason in EXCLUSION_REASONS:
        positions = np.flatnonzero(reasons == reason)
        if len(positions) == 0:
            continue
        value = None
        column = None
        if reason in ("missing_country", "unknown_country") and country_spec is not None:
            column = country_spec.name
            value = raw.frame[country_spec.source].iloc[positions].to_numpy(dtype=object)
        if reason == "duplicate_id":  # each id's first row, where duplicates are to tell
            first_row = pd.Series(source_rows).groupby(id_codes).transform("first").to_numpy()
            message: str | np.ndarray = np.array(
                [
                    f"id {rid!r} already seen in "
                    + (f"row {first}" if first < own else "an earlier export of the same kind")
                    + "; first occurrence kept"
                    for rid, first, own in zip(
                        rows.ids_at(positions),
                        first_row[positions],
                        source_rows[positions],
                        strict=True,
                    )
                ],
                dtype=object,
            )
        elif reason == "unknown_country" and value is not None:
            message = np.array(
                [f"{v!r} is not an ISO 3166 country code, name or known variant" for v in value],
                dtype=object,
            )
        else:
            message = _EXCLUSION_MESSAGES[reason]
        rows.add(
            positions, column=column, rule=reason, action="excluded", message=message, value=value
        )


_FLAG_MESSAGES = {
    "speeder": "duration below speeder_ratio x median duration (kept; flag_speeder)",
    "straightliner": "identical ratings on every answered attribute (kept; flag_straightliner)",
}
_EXCLUSION_MESSAGES = {
    "missing_id": "the id cell is empty",
    "empty_response": "every rating is missing (blank, missing code or invalid)",
    "missing_country": "the country cell is empty",
    "speeder": "duration below speeder_ratio x median duration (exclude_speeders=True)",
    "straightliner": "identical ratings on every answered attribute (exclude_straightliners=True)",
}


def _typed_log(log: pd.DataFrame) -> pd.DataFrame:
    for column in LOG_COLUMNS:
        if column not in log:
            log[column] = None
    log = log[list(LOG_COLUMNS)]
    return log.astype(
        {
            "source": "string",
            "source_row": "Int64",
            "response_id": "string",
            "wave": "string",
            "column": "string",
            "rule": "string",
            "action": "string",
            "value": "string",
            "count": "int64",
            "message": "string",
        }
    )


def _summary(
    raw: RawExport,
    codebook: Codebook,
    events: _Events,
    reasons: np.ndarray,
    flags: Mapping[str, np.ndarray],
    kept: np.ndarray,
    excluded_counts: Mapping[str, int],
    country: _Lazy | None,
    speeder_info: Mapping[str, float | None],
    *,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    changes: dict[str, dict[str, int]] = {}
    set_missing: dict[str, int] = {}
    for event in events.items:
        if event.action == "excluded":
            continue
        count = int((event.mask & kept).sum())
        if not count:
            continue
        changes.setdefault(event.rule, {})
        changes[event.rule][event.column] = changes[event.rule].get(event.column, 0) + count
        if event.action == "set_missing":
            set_missing[event.rule] = set_missing.get(event.rule, 0) + count
    by_country: dict[str, Any] = {}
    if country is not None:
        per_unique, labels = pd.factorize(pd.Series(country.values).astype("string"), sort=True)
        codes = country.rows(np.asarray(per_unique, dtype=np.int64))
        k = len(labels)

        def per_country(mask: np.ndarray) -> np.ndarray:
            return np.bincount(codes[mask & (codes >= 0)], minlength=k)

        everyone = np.ones(len(codes), dtype=bool)
        raw_n = per_country(everyone)
        kept_n = per_country(kept)
        excluded_n = {r: per_country(reasons == r) for r in excluded_counts}
        flagged_n = {f: per_country(m & kept) for f, m in flags.items()}
        missing_n: dict[str, np.ndarray] = {}
        for event in events.items:
            if event.action == "set_missing":
                counts = per_country(event.mask & kept)
                missing_n[event.rule] = missing_n.get(event.rule, 0) + counts
        for i, cc in enumerate(labels):
            by_country[str(cc)] = {
                "raw_rows": int(raw_n[i]),
                "kept": int(kept_n[i]),
                "excluded": {r: int(v[i]) for r, v in excluded_n.items()},
                "flagged": {f: int(v[i]) for f, v in flagged_n.items()},
                "set_missing": {r: int(v[i]) for r, v in missing_n.items() if v[i]},
            }
    return {
        "source": raw.name,
        "codebook": codebook.path.name if codebook.path is not None else None,
        "kind": codebook.kind,
        "format": raw.format,
        "encoding": raw.encoding,
        "header_rows": raw.header_rows,
        "blank_rows": len(raw.blank_rows),
        "raw_rows": len(reasons),
        "kept": int(kept.sum()),
        "excluded": dict(excluded_counts),
        "flagged": {f: int((m & kept).sum()) for f, m in flags.items()},
        "set_missing": set_missing,
        "changes": changes,
        **speeder_info,
        "options": dict(options),
        "by_country": by_country,
    }


# --------------------------------------------------------------------------------------------------
# build / load


def _find_export(codebook: Codebook, codebook_path: Path) -> Path:
    folder = codebook_path.parent
    if codebook.file is not None:
        path = folder / codebook.file
        if not path.is_file():
            raise CodebookError(
                f"codebook {codebook_path.name!r}: file {codebook.file!r} does not exist in "
                f"{folder}"
            )
        return path
    stem = codebook_path.name.removesuffix(".codebook.yaml")
    found = [
        folder / f"{stem}{ext}"
        for ext in (".csv", ".txt", ".xlsx", ".sav")
        if (folder / f"{stem}{ext}").is_file()
    ]
    if len(found) != 1:
        raise CodebookError(
            f"codebook {codebook_path.name!r} has no 'file' key and "
            f"{'no' if not found else 'several'} export(s) named {stem}.* were found; add "
            "file: <export name> to the codebook"
        )
    return found[0]


def _book_name(book: Codebook) -> str:
    return book.path.name if book.path is not None else "(codebook without a file)"


def _first(items: list[str], k: int = 5) -> str:
    more = f" ... ({len(items) - k} more)" if len(items) > k else ""
    return ", ".join(items[:k]) + more


def _study_difference(a: Codebook, b: Codebook) -> str | None:
    """Why exports of ``a`` and ``b`` are not one study; None when they may be combined."""
    if a.study is not None and b.study is not None:
        if a.study == b.study:
            return None
        return f"they declare different studies ({a.study!r} vs {b.study!r})"
    first, second = a.schema, b.schema
    if first == second:
        return None
    name_a, name_b = _book_name(a), _book_name(b)
    only_a = [n for n in first if n not in second]
    only_b = [n for n in second if n not in first]
    shared = [n for n in first if n in second]
    roles = [
        f"{n} ({first[n][0]} vs {second[n][0]})" for n in shared if first[n][0] != second[n][0]
    ]
    scales = [
        f"{n} ({list(first[n][1] or [])} vs {list(second[n][1] or [])})"
        for n in shared
        if first[n][0] == second[n][0] and first[n][1] != second[n][1]
    ]
    parts = []
    if only_a:
        parts.append(f"columns only in {name_a!r}: {_first(only_a)}")
    if only_b:
        parts.append(f"columns only in {name_b!r}: {_first(only_b)}")
    if roles:
        parts.append(f"roles differ: {_first(roles)}")
    if scales:
        parts.append(f"scales differ: {_first(scales)}")
    return "their columns differ and they share no 'study' name: " + "; ".join(parts)


def _check_one_study(kind: str, books: list[Codebook]) -> None:
    """Refuse to combine exports of one kind that are not the same study.

    Exports combine when their codebooks declare the same columns (canonical name, role, scale)
    -- one export per wave -- or the same ``study`` name (waves whose questionnaire changed).

    Raises
    ------
    CodebookError
        Naming every codebook of the kind, the first pair that differs, what differs, and the
        two ways out (one study per raw folder, or a shared ``study:`` key).
    """
    for i, first in enumerate(books):
        for second in books[i + 1 :]:
            difference = _study_difference(first, second)
            if difference is None:
                continue
            names = ", ".join(repr(_book_name(b)) for b in books)
            raise CodebookError(
                f"codebooks {names} all feed {kind}.parquet, but {_book_name(first)!r} and "
                f"{_book_name(second)!r} are not the same study: {difference}. Exports of one "
                "kind are combined only when their codebooks declare the same columns (name, "
                "role, scale), as waves of one questionnaire do, or the same 'study:' name. "
                "Keep one study per raw folder: move the other study's exports and codebooks "
                "to a folder of their own and run `make reports RAW_DIR=that/folder`; or, if "
                "they are waves of one study whose questionnaire changed, give their codebooks "
                "the same top-level key, e.g. 'study: Relationship survey'"
            )


def _merge_attrs(kind: str, books: list[Codebook]) -> dict[str, Any]:
    merged = _attrs(books[0])
    for book in books[1:]:
        other = _attrs(book)
        for key in ("roles", "scales", "links", "dimensions"):
            for name, value in other[key].items():
                if name in merged[key] and merged[key][name] != value:
                    raise CodebookError(
                        f"codebooks {books[0].path.name if books[0].path else '?'!r} and "
                        f"{book.path.name if book.path else '?'!r} (kind {kind!r}) disagree on "
                        f"the {key[:-1]} of column {name!r}: {merged[key][name]} vs {value}"
                    )
                merged[key].setdefault(name, value)
        for name, label in other["labels"].items():
            merged["labels"].setdefault(name, label)
        if other["own_brand"] and merged["own_brand"] and other["own_brand"] != merged["own_brand"]:
            raise CodebookError(
                f"codebooks of kind {kind!r} disagree on own_brand: {merged['own_brand']!r} vs "
                f"{other['own_brand']!r}"
            )
        merged["own_brand"] = merged["own_brand"] or other["own_brand"]
    return merged


def _empty_column(dtype: Any, n: int) -> pd.Series:
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.BooleanDtype):
        return pd.Series(np.zeros(n, dtype=bool))
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.Series(pd.Categorical([None] * n))
    if pd.api.types.is_extension_array_dtype(dtype):
        return pd.Series(pd.array([None] * n, dtype=dtype))
    return pd.Series(np.full(n, np.nan)).astype(dtype)


def _concat(frames: list[pd.DataFrame], attrs: Mapping[str, Any]) -> pd.DataFrame:
    if len(frames) == 1:
        out = frames[0].copy()
    else:
        names: list[str] = []
        dtypes: dict[str, Any] = {}
        for frame in frames:
            for column in frame.columns:
                if column not in dtypes:
                    names.append(column)
                    dtypes[column] = frame[column].dtype
        aligned = []
        for frame in frames:
            extra = {c: _empty_column(dtypes[c], len(frame)) for c in names if c not in frame}
            filled = frame.assign(**extra) if extra else frame
            aligned.append(filled[names])
        out = pd.concat(aligned, ignore_index=True)
        for column in names:
            if isinstance(dtypes[column], pd.CategoricalDtype):
                values = out[column].astype("string")
                out[column] = _ordered(values) if column == "wave" else values.astype("category")
    if "wave" in out:
        out["wave"] = _ordered(out["wave"].astype("string"))
    out.attrs.clear()
    out.attrs.update(attrs)
    return out


def _write_parquet(frame: pd.DataFrame, path: Path, table: Any = None) -> None:
    """``frame`` as one Parquet file, its attrs and wave order in the schema metadata;
    ``table`` is its :func:`~csatlib.ingest.dataset.arrow_table` when the caller has it."""
    import pyarrow.parquet as pq

    table = arrow_table(frame) if table is None else table
    pq.write_table(table, path, row_group_size=ROW_GROUP_ROWS)


def build_processed(
    raw_dir: str | Path = RAW_DIR,
    out_dir: str | Path = PROCESSED_DIR,
    *,
    exclude_speeders: bool = False,
    exclude_straightliners: bool = False,
) -> BuildSummary:
    """Clean every export of ``raw_dir`` that has a codebook and write ``out_dir`` atomically.

    Parameters
    ----------
    raw_dir : str or Path, default csatlib.config.RAW_DIR
        Folder with ``*.codebook.yaml`` files; each names its export (``file``) and ``kind``.
        Nothing in it is ever written. The default is ``$CSAT_RAW_DIR`` when set (``make
        reports RAW_DIR=folder`` sets it), else ``data/raw``.
    out_dir : str or Path, default csatlib.config.PROCESSED_DIR
        Receives ``<kind>.parquet`` per kind (exports of the same kind are concatenated, their
        ``source`` column telling them apart), ``cleaning_log.csv`` and
        ``cleaning_summary.json``. A ``*.parquet`` of a kind no longer in ``raw_dir`` is
        removed (listed in ``BuildSummary.removed`` and the summary's ``removed``).
    exclude_speeders, exclude_straightliners : bool, default False
        Passed to :func:`clean_export`.

    Returns
    -------
    BuildSummary
        With ``organisation_outputs`` and ``summary["organisation"]`` (tables, rows, warnings by
        rule) when ``raw_dir`` has an ``organisation.yaml``.

    Raises
    ------
    CodebookError
        Exports of one kind that are not the same study (different columns and no shared
        ``study`` name, or different ``study`` names), or an invalid ``organisation.yaml``
        (:class:`~csatlib.ingest.organisation.OrganisationError`), checked before any export
        is read; or from reading and cleaning.
    ExportError
        From reading and cleaning (the first failing export stops the build).
    DataError
        ``out_dir`` is ``raw_dir``, or the row accounting does not balance.

    Notes
    -----
    Every output is first written to a temporary file in ``out_dir``; only when all of them
    succeeded are they moved into place with ``os.replace``. On any error the temporary files are
    removed and the previous outputs stay as they were; stale tables are removed only after the
    new outputs are in place. Exports are processed in codebook-name order; an id kept from an
    earlier export of the same kind is a ``duplicate_id`` in a later one. The parquet schema
    metadata key ``csatlib`` holds the attrs (roles, labels, scales, links, dimensions,
    own_brand, kind) and the wave order, restored by :func:`load_processed`.
    """
    started = time.perf_counter()
    raw_dir = Path(raw_dir)
    out_dir = Path(out_dir)
    if not raw_dir.is_dir():
        raise ExportError(
            f"raw data folder {str(raw_dir)!r} not found; point CSAT_RAW_DIR (or `make reports "
            "RAW_DIR=folder`) at the folder holding the exports and their codebooks"
        )
    if out_dir.resolve() == raw_dir.resolve():
        raise DataError(
            f"out_dir {str(out_dir)!r} is the raw data folder; raw data is never written"
        )
    books = _codebooks(raw_dir)
    organisation = _organisation(raw_dir, books)
    with _system_allocator():
        by_kind = _clean_every_export(
            books, exclude_speeders=exclude_speeders, exclude_straightliners=exclude_straightliners
        )
    schemas = {
        kind: _kind_schema(
            [e.cleaned for e in items], _merge_attrs(kind, [e.codebook for e in items])
        )
        for kind, items in by_kind.items()
    }
    results = [e for items in by_kind.values() for e in items]
    log = pd.concat([e.log for e in results], ignore_index=True)
    summary = {
        "sources": [e.summary for e in results],
        "kinds": {
            kind: {
                "file": f"{kind}.parquet",
                "rows": sum(e.cleaned.n_kept for e in items),
                "sources": [e.summary["source"] for e in items],
            }
            for kind, items in by_kind.items()
        },
        "options": {
            "exclude_speeders": exclude_speeders,
            "exclude_straightliners": exclude_straightliners,
        },
    }
    for source in summary["sources"]:
        if source["kept"] + sum(source["excluded"].values()) != source["raw_rows"]:
            raise DataError(f"{source['source']}: kept + excluded != raw rows; please report this")
    tables = schemas  # the tables as written: with a function column from the mapping
    extra: dict[str, pd.DataFrame] = {}
    if organisation is not None:
        tables = {kind: with_functions(frame, organisation) for kind, frame in schemas.items()}
        extra = organisation.tables()
    with _system_allocator():
        stale = _write_outputs(
            out_dir, by_kind, schemas, tables, extra, organisation, log, summary, (books, raw_dir)
        )
    record_raw_dir(out_dir, raw_dir)
    return BuildSummary(
        out_dir=out_dir,
        outputs={kind: out_dir / f"{kind}.parquet" for kind in tables},
        log_path=out_dir / "cleaning_log.csv",
        summary_path=out_dir / "cleaning_summary.json",
        summary=summary,
        seconds=time.perf_counter() - started,
        removed=stale,
        organisation_outputs={name: out_dir / f"{name}.parquet" for name in extra},
    )


def _organisation(raw_dir: Path, books: Mapping[Path, Codebook]) -> Organisation | None:
    """The raw folder's organisation mapping, validated against its codebooks; None without one.

    Read before any export, so that a broken mapping stops the build at once.
    """
    path = raw_dir / ORGANISATION.name
    if not path.is_file():
        return None
    clash = sorted({b.kind for b in books.values()} & set(ORGANISATION_TABLES))
    if clash:
        raise CodebookError(
            f"codebook kind(s) {', '.join(map(repr, clash))} would overwrite the organisation "
            f"tables written from {path.name}; rename the kind"
        )
    return load_organisation(path, attributes=_study_attributes(books))


def _study_attributes(books: Mapping[Path, Codebook]) -> list[str]:
    """Attribute columns (role ``attribute``) of every codebook, in codebook order."""
    return list(dict.fromkeys(n for book in books.values() for n in book.names("attribute")))


@contextlib.contextmanager
def _system_allocator() -> Iterator[None]:
    """Arrow allocates with the C library's ``malloc`` within: its default allocator
    (mimalloc) keeps what a chunk freed for the next, so that the peak followed the file
    (``csat data`` at 10x: 380 MB -> 290 MB, and no slower). Buffers remember their allocator,
    so switching back is safe."""
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _write_outputs(
    out_dir: Path,
    by_kind: Mapping[str, Sequence[_Export]],
    schemas: Mapping[str, pd.DataFrame],
    tables: Mapping[str, pd.DataFrame],
    extra: Mapping[str, pd.DataFrame],
    organisation: Organisation | None,
    log: pd.DataFrame,
    summary: dict[str, Any],
    study: tuple[Mapping[Path, Codebook], Path],
) -> tuple[Path, ...]:
    """Write every table, the log and the summary into ``out_dir`` and the dataset, all or
    nothing (see :func:`build_processed`). The tables are written a batch of rows at a time,
    each batch into its Parquet file and into the partitioned dataset for other engines
    (:mod:`csatlib.ingest.dataset`); ``study`` is the codebooks and the raw folder, for the
    organisation check. Returns the stale tables removed."""
    books, raw_dir = study
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=out_dir, prefix=".dataset."))
    written: dict[Path, Path] = {}
    try:
        checked = {}
        for kind, items in by_kind.items():
            written[out_dir / f"{kind}.parquet"] = tmp = _temp_path(out_dir, f"{kind}.parquet")
            checked[kind] = _write_kind(
                items, schemas[kind], tables[kind], tmp, stage / kind, organisation
            )
        for name, frame in extra.items():
            written[out_dir / f"{name}.parquet"] = tmp = _temp_path(out_dir, f"{name}.parquet")
            _write_whole(frame, tmp, stage / name)
        if organisation is not None:
            summary["organisation"] = {
                "file": ORGANISATION.name,
                "tables": {name: int(len(frame)) for name, frame in extra.items()},
                "function_added": [k for k, t in tables.items() if t is not schemas[k]],
            }
            log = _organisation_log(organisation, checked, log, books, raw_dir, summary)
        summary["dataset"] = {
            "folder": DATASET_DIR,
            "partitioned_by": {
                kind: partition_key(frame) for kind, frame in {**tables, **extra}.items()
            },
        }
        stale = _replace_outputs(out_dir, written, log, summary)
    except BaseException:
        for tmp in written.values():
            tmp.unlink(missing_ok=True)
        shutil.rmtree(stage, ignore_errors=True)
        raise
    swap_dataset(stage)
    return stale


def _organisation_log(
    organisation: Organisation,
    checked: Mapping[str, pd.DataFrame],
    log: pd.DataFrame,
    books: Mapping[Path, Codebook],
    raw_dir: Path,
    summary: dict[str, Any],
) -> pd.DataFrame:
    """The log with the mapping's warnings about the written tables (``checked``: their
    columns :func:`~csatlib.ingest.organisation.check_organisation` reads), counted by rule
    in ``summary["organisation"]["warnings"]``."""
    warnings = check_organisation(
        organisation,
        checked,
        attributes=_study_attributes(books),
        aliases=read_aliases(raw_dir / ACCOUNT_ALIASES.name),
    )
    summary["organisation"]["warnings"] = {
        str(k): int(v) for k, v in warnings["rule"].value_counts(sort=False).items()
    }
    return _typed_log(pd.concat([log, warnings], ignore_index=True)) if len(warnings) else log


def _kind_schema(exports: Sequence[_Cleaned], attrs: Mapping[str, Any]) -> pd.DataFrame:
    """The table of one kind with no rows: the columns of its exports (first seen first) with
    the dtypes :func:`_concat` gives them over every kept row. A categorical's categories are
    the values its kept rows hold over every export (waves in order)."""
    frames = [e.frame(0, 0) for e in exports]
    schema = _concat(frames, attrs)
    for name in schema.columns:
        # _concat makes a column categorical when the first export holding it has it so (one
        # export: its own dtype, kept), and the wave always; its categories are then the
        # values every export's kept rows hold
        first = next(f[name].dtype for f in frames if name in f)
        several = len(frames) > 1 and isinstance(first, pd.CategoricalDtype)
        if name != "wave" and not several:
            continue
        held: set[str] = set()
        for frame, export in zip(frames, exports, strict=True):
            if name not in frame or not export.n_kept:
                continue
            if name in export.dtypes:  # categories already those of the kept rows
                held.update(str(c) for c in export.dtypes[name].categories)
            else:
                values = export.column(name)
                held.update(values.astype("string").dropna().unique().tolist())
        if name == "wave":
            dtype = _ordered(pd.Series(sorted(held), dtype="string")).dtype
        else:  # made as _concat makes it from the rows (a missing value, as a table has rows:
            # Arrow types empty categories made from no rows at all as nulls, not as text)
            rows = [None] if any(e.n_kept for e in exports) else []
            dtype = pd.Series(sorted(held) + rows, dtype="string").astype("category").dtype
        schema[name] = pd.Series(pd.Categorical([], dtype=dtype))
    return schema


def _conform(frame: pd.DataFrame, schema: pd.DataFrame) -> pd.DataFrame:
    """Rows of one export as rows of its kind's table (:func:`_kind_schema`): the kind's
    columns in its order and dtypes, as :func:`_concat` makes them."""
    if _same_dtypes(frame, schema):  # one export of its kind: nothing to change
        out = frame.copy(deep=False)
        out.attrs = schema.attrs
        return out
    n = len(frame)
    columns: dict[str, pd.Series] = {}
    for name in schema.columns:
        dtype = schema[name].dtype
        values = frame[name] if name in frame else _empty_column(dtype, n)
        if isinstance(dtype, pd.CategoricalDtype):
            same = isinstance(values.dtype, pd.CategoricalDtype) and _same_categories(
                values.dtype, dtype
            )
            if not same:
                text = values.astype("string")
                values = pd.Series(
                    pd.Categorical(text.astype(object) if dtype.ordered else text, dtype=dtype)
                )
        elif values.dtype != dtype:
            values = values.astype(dtype)
        columns[name] = values
    out = pd.DataFrame(columns, copy=False)
    out.attrs = schema.attrs
    return out


def _same_dtypes(frame: pd.DataFrame, schema: pd.DataFrame) -> bool:
    """Whether ``frame`` has ``schema``'s columns, in its order, with its dtypes (a
    categorical's categories in the same order)."""
    if list(frame.columns) != list(schema.columns):
        return False
    for mine, theirs in zip(frame.dtypes, schema.dtypes, strict=True):
        if mine != theirs:
            return False
        if isinstance(theirs, pd.CategoricalDtype) and not _same_categories(mine, theirs):
            return False
    return True


def _same_categories(mine: pd.CategoricalDtype, theirs: pd.CategoricalDtype) -> bool:
    """The same categories in the same order and of the same dtype (an empty object-dtype
    category list is not an empty text one: Arrow writes the first as nulls), same order."""
    return (
        mine.ordered == theirs.ordered
        and mine.categories.dtype == theirs.categories.dtype
        and mine.categories.equals(theirs.categories)
    )


def _write_kind(
    exports: Sequence[_Export],
    schema: pd.DataFrame,
    table: pd.DataFrame,
    path: Path,
    folder: Path,
    organisation: Organisation | None,
) -> pd.DataFrame:
    """Write the kept rows of one kind's exports, :data:`BATCH_ROWS` at a time, to ``path``
    (one Parquet file) and ``folder`` (its part of the dataset); ``table`` is ``schema`` with
    the mapping's function column. A batch is written on a second thread while the next is
    made. Returns the columns the organisation check reads."""
    import pyarrow.parquet as pq

    keep = checked_columns(table) if organisation is not None else []
    parts: list[pd.DataFrame] = []
    files: list[Any] = []  # the table's one ParquetWriter, once the first batch is made

    def write_file(arrow: Any) -> None:
        if not files:
            files.append(pq.ParquetWriter(path, arrow.schema))
        files[0].write_table(arrow, row_group_size=ROW_GROUP_ROWS)

    pending: list[Future[None]] = []
    with PartitionWriter(folder, table) as dataset, ThreadPoolExecutor(max_workers=2) as pool:
        try:
            for export in exports:
                cleaned = export.cleaned
                for start in range(0, cleaned.n_kept, BATCH_ROWS):
                    frame = _conform(cleaned.frame(start, start + BATCH_ROWS), schema)
                    if organisation is not None:
                        frame = with_functions(frame, organisation)
                    arrow = arrow_table(frame)
                    for done in pending:  # the previous batch is written before this one
                        done.result()
                    pending = [
                        pool.submit(write_file, arrow),
                        pool.submit(dataset.write, frame, arrow),
                    ]
                if organisation is not None and cleaned.n_kept:
                    parts.append(_export_spellings(cleaned, table))
            for done in pending:
                done.result()
            if not files:  # no row kept: the table's columns, no rows
                arrow = arrow_table(table)
                files.append(pq.ParquetWriter(path, arrow.schema))
                files[0].write_table(arrow)
        finally:
            wait(pending)  # the writes under way finish before their files close
            for file in files:
                file.close()
    checked = pd.concat(parts, ignore_index=True) if parts else table[keep]
    checked.attrs = table.attrs
    return checked_spellings(checked) if organisation is not None else checked


def _export_spellings(cleaned: _Cleaned, table: pd.DataFrame) -> pd.DataFrame:
    """:func:`csatlib.ingest.organisation.checked_spellings` of one cleaned export's kept rows,
    made from the codes its columns hold (one per row) instead of from its rows: the distinct
    (account, product) pairs, each with its first line in the export and how many rows spell
    it. The organisation check then reads these, as it would the batches' own."""
    from csatlib.ingest.organisation import ROWS_COLUMN

    names = [c for c in checked_columns(table) if c not in ("source", "source_row")]
    names = [c for c in names if c in cleaned.columns]
    key = np.zeros(cleaned.n_kept, dtype=np.int64)
    for name in names:
        codes = cleaned.columns[name].codes[cleaned.kept].astype(np.int64)
        key = key * (int(codes.max(initial=-1)) + 2) + codes + 1  # -1 (no code) stays apart
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    rows = cleaned.kept[first]
    out: dict[str, Any] = {
        "source": pd.Categorical([cleaned.name] * len(first)),
        "source_row": cleaned.source_rows[rows],
    }
    for name in names:
        values = cleaned.columns[name].take(rows)
        dtype = table[name].dtype if name in table.columns else values.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            values = pd.Series(pd.Categorical(values.astype("string").astype(object), dtype=dtype))
        else:
            values = values.astype(dtype)
        out[name] = values.to_numpy() if not isinstance(dtype, pd.CategoricalDtype) else values
    out[ROWS_COLUMN] = counts.astype(np.int64)
    ordered = [c for c in checked_columns(table) if c in out] + [ROWS_COLUMN]
    return pd.DataFrame({c: out[c] for c in ordered})


def _write_whole(frame: pd.DataFrame, path: Path, folder: Path) -> None:
    """A table held whole (an organisation table) into its file and the dataset."""
    arrow = arrow_table(frame)
    _write_parquet(frame, path, arrow)
    with PartitionWriter(folder, frame.head(0)) as dataset:
        dataset.write(frame, arrow)


def _codebooks(raw_dir: Path) -> dict[Path, Codebook]:
    """Every codebook of ``raw_dir`` by path, in name order, after checking one study per kind."""
    codebook_paths = sorted(raw_dir.glob("*.codebook.yaml"))
    if not codebook_paths:
        raise ExportError(
            f"no *.codebook.yaml in {str(raw_dir)!r}: every export needs a codebook next to it"
        )
    books = {path: load_codebook(path) for path in codebook_paths}
    books_by_kind: dict[str, list[Codebook]] = {}
    for book in books.values():
        books_by_kind.setdefault(book.kind, []).append(book)
    for kind, group in books_by_kind.items():
        _check_one_study(kind, group)
    return books


@dataclass(frozen=True)
class _Export:
    """One export of a build: its codebook, its cleaned rows (unmade), log and summary."""

    codebook: Codebook
    cleaned: _Cleaned
    log: pd.DataFrame
    summary: dict[str, Any]


def _clean_every_export(
    books: Mapping[Path, Codebook], *, exclude_speeders: bool, exclude_straightliners: bool
) -> dict[str, list[_Export]]:
    """Read and clean each codebook's export, by kind; an id kept earlier is a duplicate later."""
    by_kind: dict[str, list[_Export]] = {}
    for codebook_path, codebook in books.items():
        export_path = _find_export(codebook, codebook_path)
        raw = read_export(
            export_path,
            format=codebook.format,  # type: ignore[arg-type]
            encoding=codebook.encoding,
            sheet=codebook.sheet,
            delimiter=codebook.delimiter,
        )
        known: set[str] = set()
        id_names = codebook.names("id")
        for done in by_kind.get(codebook.kind, []) if id_names else []:
            ids = done.cleaned.column(id_names[0])
            if ids is not None:
                known.update(ids.dropna().tolist())
        cleaned, log, summary = _clean(
            raw,
            codebook,
            speeder_ratio=SPEEDER_RATIO,
            exclude_speeders=exclude_speeders,
            exclude_straightliners=exclude_straightliners,
            straightline_min=STRAIGHTLINE_MIN,
            known_ids=known,
            consume=True,
        )
        del raw  # the cleaned export holds codes, not the export's texts
        by_kind.setdefault(codebook.kind, []).append(_Export(codebook, cleaned, log, summary))
    return by_kind


def _replace_outputs(
    out_dir: Path, written: Mapping[Path, Path], log: pd.DataFrame, summary: dict
) -> tuple[Path, ...]:
    """Write the log and summary to temporary files, then move them and the tables already
    ``written`` (final path -> temporary file) into place.

    On any error the log's and summary's temporary files are removed (the caller removes the
    tables') and the previous outputs stay. Returns the stale tables removed (also listed in
    ``summary["removed"]``).
    """
    targets = {final.name for final in written}
    # only files this function could have written: another kind's table from an earlier build
    stale = tuple(sorted(p for p in out_dir.glob("*.parquet") if p.name not in targets))
    summary["removed"] = [p.name for p in stale]
    temporary: dict[Path, Path] = {}
    try:
        tmp = _temp_path(out_dir, "cleaning_log.csv")
        temporary[out_dir / "cleaning_log.csv"] = tmp
        # opened in spreadsheets like the lists: a raw cell such as "=1+1" or "+Plus Logistics"
        # gets its leading apostrophe (csatlib.safety), never evaluated as a formula
        safe_for_csv(log).to_csv(tmp, index=False, encoding="utf-8")
        tmp = _temp_path(out_dir, "cleaning_summary.json")
        temporary[out_dir / "cleaning_summary.json"] = tmp
        tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except BaseException:
        for tmp in temporary.values():
            tmp.unlink(missing_ok=True)
        raise
    for final, tmp in {**written, **temporary}.items():
        os.replace(tmp, final)
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _temp_path(folder: Path, name: str) -> Path:
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.close(handle)
    return Path(tmp)


def load_processed(
    kind: str = "responses", processed_dir: str | Path = PROCESSED_DIR
) -> pd.DataFrame:
    """Read ``<kind>.parquet`` written by :func:`build_processed`, with its attrs restored.

    Parameters
    ----------
    kind : str, default "responses"
        ``responses``, ``transactions``, ``revenue`` (any kind a codebook declared).
    processed_dir : str or Path, default csatlib.config.PROCESSED_DIR

    Returns
    -------
    DataFrame
        ``attrs`` holds ``roles``, ``labels``, ``scales``, ``links`` (item -> attribute),
        ``dimensions`` (loyalty item -> dimension), ``own_brand``, ``kind``; ``wave`` is an
        ordered categorical in chronological order.

    Raises
    ------
    DataError
        The file does not exist (run ``csat data``) or was not written by build_processed.

    Notes
    -----
    The last few tables read are kept in memory, keyed by the file's path, inode, size and
    modification time, so a file rewritten by ``csat data`` (a new file renamed into place) is
    read again. Every call returns its own DataFrame: under pandas' copy-on-write a cheap
    shallow copy (changing it never changes the kept table), otherwise a deep copy. The report
    build reads the tables once in its kernel fork server (:mod:`csatlib.report.kernels`), so each
    report's kernel starts with them in memory.
    """
    path = Path(processed_dir) / f"{kind}.parquet"
    if not path.is_file():
        available = sorted(p.stem for p in Path(processed_dir).glob("*.parquet"))
        if available and (Path(processed_dir) / "cleaning_summary.json").is_file():
            raise DataError(
                f"the study has no {kind!r} table: no codebook of kind {kind!r} was in the raw "
                f"folder when `csat data` last ran (tables: {', '.join(available)})"
            )
        raise DataError(
            f"{path} not found; run `csat data` to build the processed tables "
            f"(available: {', '.join(available) or 'none'})"
        )
    key = file_key(path)
    frame = _PROCESSED_CACHE.pop(key, None)
    if frame is None:
        frame = _read_processed(path)
    _PROCESSED_CACHE[key] = frame  # most recently used last
    while len(_PROCESSED_CACHE) > _PROCESSED_CACHE_SIZE:
        del _PROCESSED_CACHE[next(iter(_PROCESSED_CACHE))]
    return roles.shallow_copy(frame)


_PROCESSED_CACHE: dict[tuple[str, int, int, int], pd.DataFrame] = {}
_PROCESSED_CACHE_SIZE = 6


def _kept_processed(
    kind: str, processed_dir: str | Path, columns: list[str]
) -> tuple[Path, pd.DataFrame | None]:
    """The path of ``<kind>.parquet`` and the table :func:`load_processed` keeps in memory for
    it (None when it keeps none), after checking that the table has ``columns``."""
    import pyarrow.parquet as pq

    path = Path(processed_dir) / f"{kind}.parquet"
    if not path.is_file():
        load_processed(kind, processed_dir)  # raises its message
    kept = _PROCESSED_CACHE.get(file_key(path))
    names = list(kept.columns if kept is not None else pq.read_schema(path).names)
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataError(f"{path}: expected the columns {missing}; found {names}")
    return path, kept


def processed_header(kind: str, processed_dir: str | Path) -> pd.DataFrame:
    """``<kind>.parquet`` without its rows: every column with its dtype, and the ``attrs`` (the
    codebook's roles, labels, scales) :func:`load_processed` restores; no row is read.

    Raises
    ------
    DataError
        As :func:`load_processed`.
    """
    import pyarrow.parquet as pq

    path, kept = _kept_processed(kind, processed_dir, [])
    if kept is not None:
        return roles.shallow_copy(kept.iloc[:0])
    return _processed_frame(path, pq.read_schema(path).empty_table())


def load_processed_columns(
    kind: str, processed_dir: str | Path, columns: list[str]
) -> pd.DataFrame:
    """``columns`` of ``<kind>.parquet`` for every row, as :func:`load_processed` gives them
    (attrs and wave order restored), the other columns left unread (or cut from the table
    :func:`load_processed` keeps in memory).

    Raises
    ------
    DataError
        As :func:`load_processed`; or when the table lacks one of ``columns``.
    """
    import pyarrow.parquet as pq

    path, kept = _kept_processed(kind, processed_dir, columns)
    if kept is not None:
        return roles.shallow_copy(kept[list(columns)])
    source = pq.ParquetFile(path)
    table = source.read(columns=list(columns))
    return _processed_frame(path, table.replace_schema_metadata(source.schema_arrow.metadata))


def load_processed_rows(
    kind: str, processed_dir: str | Path, *, column: str, value: str
) -> pd.DataFrame:
    """The rows of ``<kind>.parquet`` whose ``column`` is ``value``: exactly
    ``load_processed(kind, processed_dir)`` cut to them, index labels (the rows' positions in the
    file), dtypes, categories and ``attrs`` included, without the other rows reaching pandas.

    Each Parquet row group's ``column`` is read first; only the groups holding the value are
    read whole, and only their matching rows are converted. A table that :func:`load_processed`
    already keeps in memory is cut there instead (nothing is read).

    Raises
    ------
    DataError
        As :func:`load_processed`; or when the table has no column ``column``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path, kept = _kept_processed(kind, processed_dir, [column])
    if kept is not None:
        return roles.shallow_copy(kept.loc[(kept[column].astype(str) == value).to_numpy()])
    source = pq.ParquetFile(path)
    parts, positions, offset = [], [], 0
    for group in range(source.metadata.num_row_groups):
        keys = source.read_row_group(group, columns=[column]).column(0)
        match = pc.equal(pc.cast(keys, pa.string()), value).to_numpy(zero_copy_only=False)
        hits = np.flatnonzero(np.asarray(match, dtype=bool))
        if len(hits):
            parts.append(source.read_row_group(group).take(pa.array(hits)))
            positions.append(hits + offset)
        offset += source.metadata.row_group(group).num_rows
    table = pa.concat_tables(parts) if parts else source.schema_arrow.empty_table()
    frame = _processed_frame(path, table.replace_schema_metadata(source.schema_arrow.metadata))
    frame.index = pd.Index(np.concatenate(positions) if positions else np.zeros(0, np.int64))
    # categories as the whole file has them (row groups left unread may hold other values)
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    whole = pq.read_table(path, columns=[c for c in categorical if c != "wave"]).to_pandas()
    for name in whole.columns:
        if isinstance(whole[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].cat.set_categories(whole[name].cat.categories)
    return frame


def file_key(path: str | Path) -> tuple[str, int, int, int]:
    """What identifies one version of a file: its resolved path, inode, size and modification
    time. ``csat data`` writes a new file and renames it into place, so a rewritten table has a
    new key; results computed from a table can be remembered under it."""
    path = Path(path)
    stat = path.stat()
    return (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _read_processed(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return _processed_frame(path, pq.read_table(path))


def _processed_frame(path: Path, table: Any) -> pd.DataFrame:
    """A processed table read from ``path`` as pandas, with its attrs and wave order restored."""
    raw_meta = (table.schema.metadata or {}).get(b"csatlib")
    if raw_meta is None:
        raise DataError(f"{path}: no csatlib metadata; rebuild it with `csat data`")
    meta = json.loads(raw_meta.decode("utf-8"))
    frame = table.to_pandas()
    order = meta.pop("wave_order", None)
    if order is not None and "wave" in frame:
        frame["wave"] = pd.Categorical(frame["wave"].astype(object), categories=order, ordered=True)
    frame.attrs.clear()
    # shared, read-only metadata: every frame derived from this one copies it for free
    frame.attrs.update({key: roles.frozen(value) for key, value in meta.items()})
    return frame


def load_cleaning_summary(processed_dir: str | Path) -> dict[str, Any]:
    """The cleaning summary ``csat data`` wrote into ``processed_dir``
    (``cleaning_summary.json``: every export's rows received, kept and excluded)."""
    return json.loads((Path(processed_dir) / "cleaning_summary.json").read_text("utf-8"))


def data_quality_note(
    summary: BuildSummary | Mapping[str, Any],
    *,
    country: str | None = None,
    kind: str | None = None,
) -> pd.DataFrame:
    """Row-accounting table for a report: raw rows, kept, exclusions, flags, cells set missing.

    Parameters
    ----------
    summary : BuildSummary or mapping
        A :class:`BuildSummary`, the content of ``cleaning_summary.json``, or one export's
        ``CleanResult.summary``.
    country : str, optional
        ISO alpha-2: restrict to the rows of that country (rows whose country was missing or
        unknown belong to no country and appear only in the overall note).
    kind : str, optional
        Restrict to exports of that kind (e.g. ``"responses"``).

    Returns
    -------
    DataFrame
        Columns ``source``, ``kind``, ``measure`` (``raw_rows``, ``kept``, ``excluded``,
        ``flagged``, ``set_missing``), ``detail`` (reason / flag / rule, "" for totals), ``n``.
    """
    if isinstance(summary, BuildSummary):
        summary = summary.summary
    sources = summary.get("sources", [summary])
    rows: list[dict[str, Any]] = []
    for source in sources:
        if kind is not None and source.get("kind") != kind:
            continue
        block = source
        if country is not None:
            block = source.get("by_country", {}).get(
                country,
                {"raw_rows": 0, "kept": 0, "excluded": {}, "flagged": {}, "set_missing": {}},
            )
        base = {"source": source["source"], "kind": source.get("kind")}
        rows.append({**base, "measure": "raw_rows", "detail": "", "n": block["raw_rows"]})
        rows.append({**base, "measure": "kept", "detail": "", "n": block["kept"]})
        for measure in ("excluded", "flagged", "set_missing"):
            for detail, n in block.get(measure, {}).items():
                rows.append({**base, "measure": measure, "detail": detail, "n": int(n)})
    note = pd.DataFrame(rows, columns=["source", "kind", "measure", "detail", "n"])
    return note.astype({"n": "int64"})
