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

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from csatlib.errors import ExportError

__all__ = ["cell_problem", "read_handwritten"]


def read_handwritten(
    path: str | Path, *, columns: Sequence[str], optional: Sequence[str] = (), what: str
) -> pd.DataFrame:
    """The file's rows as stripped text: ``columns`` then ``optional`` (empty when absent).

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
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
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


def cell_problem(path: str | Path, position: int, column: str, problem: str) -> str:
    """One cell's problem in words; ``position`` is the row's 0-based place among the data
    rows (the spreadsheet shows it as row ``position + 2``)."""
    return f"{Path(path).name}, row {position + 2}, column {column}: {problem}"
