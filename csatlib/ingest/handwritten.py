"""Read a small table a person keeps by hand (targets, action plans, invitations): one reader, one
set of messages.

Such a file is a UTF-8 CSV (a BOM is allowed) with required and optional columns. The reader
returns every cell as text with the blanks around it removed, so each table's own checks see
exactly what the person typed; a missing or unreadable file, an empty file and a missing column
are errors naming the file, and :func:`cell_problem` words a cell's problem the same way for
every table: ``"targets.csv, row 4, column target: expected a number, found 'high'"`` (rows as a
spreadsheet numbers them: the header is row 1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from csatlib.errors import ExportError

__all__ = ["cell_problem", "read_handwritten", "read_sheet", "sheet_row", "wave_problem"]


def read_handwritten(
    path: str | Path, *, columns: Sequence[str], optional: Sequence[str] = (), what: str
) -> pd.DataFrame:
    """The file's rows as stripped text: ``columns`` then ``optional`` (empty when absent),
    indexed by their spreadsheet row (the header is row 1; a blank line is no row, but counts).

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file.
    columns, optional : sequence of str
        Required and optional columns; other columns are ignored.
    what : str
        What the file is, for the missing-file message ("targets file").

    Raises
    ------
    ExportError
        The file is missing ("<path>: no targets file"), empty, not a readable UTF-8 CSV, or
        lacks a required column (naming the missing, expected and found columns).
    """
    path = Path(path)
    expected = ", ".join(columns)
    try:
        raw = read_sheet(path)
    except FileNotFoundError as exc:
        raise ExportError(f"{path}: no {what}") from exc
    except pd.errors.EmptyDataError as exc:
        raise ExportError(
            f"{path.name}: the file is empty (expected a header with {expected})"
        ) from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ExportError(f"{path.name}: cannot be read as a UTF-8 CSV file ({exc})") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise ExportError(
            f"{path.name}: missing column(s) {', '.join(missing)} (expected {expected}; found "
            f"{', '.join(map(str, raw.columns)) or 'none'})"
        )
    frame = raw.reindex(columns=[*columns, *optional], fill_value="").astype(str)
    return frame.apply(lambda column: column.str.strip())


def read_sheet(path: str | Path) -> pd.DataFrame:
    """A CSV kept by hand (UTF-8, a BOM allowed) as text cells, indexed by the spreadsheet's
    row numbers (the header is row 1): a blank line is no row but counts, as in a spreadsheet,
    and no column becomes the index (a trailing comma on every line would shift the columns).
    pandas' errors (unreadable, empty) are the caller's to word."""
    raw = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        index_col=False,
        skip_blank_lines=False,
    )
    raw.index = pd.RangeIndex(2, len(raw) + 2, name="row")
    blank = raw.apply(lambda column: column.astype(str).str.strip().eq("")).all(axis=1)
    return raw.loc[~blank.to_numpy()]


#: A wave label as the workbench writes one: a calendar quarter ("2026-Q2") or a fiscal one
#: ("FY2026-Q2").
_WAVE = re.compile(r"^(?:FY)?\d{4}-Q[1-4]$")
#: A quarter written another way ("2026Q2", "Q2 2026", "2026-q2"): a year and a Q1-Q4.
_QUARTERISH = re.compile(r"(?i)(?=.*\d{4})(?=.*q\s*[1-4]\b)")


def wave_problem(text: str) -> str | None:
    """Why a hand-typed wave is not a wave label, or None: a quarter written otherwise than the
    workbench's labels ("Q2 2026" for "2026-Q2") would be compared as text and misplaced. A
    label of another kind (a study's own wave names, "Wave 3") is left alone."""
    if not text or _WAVE.match(text) or not _QUARTERISH.match(text):
        return None
    return f"expected a wave like 2026-Q2 (or FY2026-Q2), found {text!r}"


def sheet_row(frame: pd.DataFrame, position: int) -> int:
    """The spreadsheet row (the header is row 1) of the ``position``-th row of a frame of
    :func:`read_handwritten` (blank lines are counted, though they are not rows of it)."""
    return int(frame.index[position])


def cell_problem(path: str | Path, row: int, column: str, problem: str) -> str:
    """One cell's problem in words; ``row`` is the spreadsheet's row (:func:`sheet_row`)."""
    return f"{Path(path).name}, row {row}, column {column}: {problem}"
