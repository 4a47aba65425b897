"""Safe output: spreadsheet-safe CSV cells, and files replaced atomically.

:func:`write_text_atomic` writes a file so that a reader sees the old one or the new one, never
half of one (metrics, build stamps, the index).

Lists written for people (account managers, support teams, deployment) are opened in Excel,
LibreOffice or Google Sheets.  A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is read as a formula there (CSV / formula injection), so a customer who types
``=HYPERLINK("http://evil", "click")`` into a comment or an account name could run it on the
reader's machine.  Every CSV written for people goes through :func:`write_csv_safely`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd

from csatlib.errors import DataError

__all__ = [
    "FORMULA_PREFIXES",
    "FORMULA_TRIGGERS",
    "neutralize_formula",
    "safe_for_csv",
    "write_csv_safely",
    "write_text_atomic",
]

#: First characters that make a spreadsheet evaluate a cell (OWASP, "CSV Injection").
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: Same tuple under the name a rebuilt copy of this module used (kept for callers of either).
FORMULA_TRIGGERS: tuple[str, ...] = FORMULA_PREFIXES


def neutralize_formula(value: str) -> str:
    """Return ``value`` with a leading apostrophe if a spreadsheet would evaluate it.

    Parameters
    ----------
    value : str
        One cell's text.

    Returns
    -------
    str
        ``"'" + value`` when ``value`` begins with one of :data:`FORMULA_PREFIXES`
        (``=``, ``+``, ``-``, ``@``, tab, carriage return), else ``value`` unchanged.

    Notes
    -----
    The apostrophe makes Excel and LibreOffice show the cell as text; it is visible in other
    readers, which is the accepted price (a phone number ``+49 ...`` or a text ``-5`` gets it too).
    Quoting of separators, quotes and newlines is the CSV writer's job, not this function's.

    References
    ----------
    OWASP Foundation, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
    """
    if not isinstance(value, str):
        raise DataError(f"neutralize_formula: expected a str, found {type(value).__name__}")
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value  # idempotent: "'=" safe


def _neutralize_series(s: pd.Series) -> pd.Series:
    """Neutralize the string cells of one column; other cells (numbers, NA) are left as they are."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        categories = s.cat.categories
        if pd.api.types.is_object_dtype(categories.dtype) or pd.api.types.is_string_dtype(
            categories.dtype
        ):
            new = pd.Index(categories.to_series().map(neutralize_formula, na_action="ignore"))
            if new.is_unique:  # keep the categorical dtype when renaming is possible
                return s.cat.rename_categories(new)
        s = s.astype(object)
    if not (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
        return s
    try:
        # non-string cells of an object column give NaN here, not an error
        risky = s.str.startswith(FORMULA_PREFIXES)
    except AttributeError:  # object column without a single string (e.g. dates, Decimals)
        return s
    risky = risky.astype(object).fillna(False).astype(bool)
    if not risky.any():
        return s
    out = s.astype(object).copy()
    out[risky] = "'" + s[risky].astype(str)
    return out


def safe_for_csv(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` in which every string cell and column name is formula-safe.

    Parameters
    ----------
    df : pandas.DataFrame
        Any table about to be written for people.

    Returns
    -------
    pandas.DataFrame
        Same shape, index and non-string values; string cells (object, string and categorical
        columns) and string column names passed through :func:`neutralize_formula`.  Columns that
        held risky strings come back as ``object``.

    Notes
    -----
    Numbers are not touched: a negative number written by pandas is a number to the spreadsheet,
    not a formula.  Tested on payloads ``=HYPERLINK(...)``, ``+cmd``, ``-2+3``, ``@SUM(1)``, tab and
    carriage-return prefixes.

    References
    ----------
    OWASP Foundation, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"safe_for_csv: expected a DataFrame, found {type(df).__name__}")
    out = pd.DataFrame(
        {i: _neutralize_series(df.iloc[:, i]) for i in range(df.shape[1])}, index=df.index
    )
    out.columns = [neutralize_formula(c) if isinstance(c, str) else c for c in df.columns]
    return out


def write_csv_safely(
    df: pd.DataFrame, path: str | Path, *, index: bool = False, encoding: str = "utf-8-sig"
) -> Path:
    """Write ``df`` as CSV after :func:`safe_for_csv`; create the parent folder; return the path.

    Parameters
    ----------
    df : pandas.DataFrame
        Table to write.
    path : str or pathlib.Path
        Target file; its folder is created if missing.
    index : bool
        Write the index as a column (default no).
    encoding : str
        ``utf-8-sig`` (default) so that Excel shows accents (Müller, Société) correctly; pandas and
        Python's csv read it back with ``encoding="utf-8-sig"`` (pandas also with the default).

    Returns
    -------
    pathlib.Path
        The written file.

    Notes
    -----
    Every CSV written for people by csatlib (account lists, follow-up lists, deployment lists,
    CIT exports) goes through this function, so that no string cell starting with ``= + - @``,
    tab or carriage return reaches a spreadsheet unescaped.  Lines end with CRLF (RFC 4180) so
    that a cell with an embedded carriage return or newline is quoted and stays one cell.
    """
    target = Path(path)
    safe = safe_for_csv(df)
    target.parent.mkdir(parents=True, exist_ok=True)
    # RFC 4180 line ends: with "\r\n" the csv module quotes every cell holding \r or \n;
    # with "\n" alone a bare \r inside a comment is written unquoted and splits the row.
    safe.to_csv(target, index=index, encoding=encoding, lineterminator="\r\n")
    return target


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file beside it and ``os.replace``.

    The folder is created if needed. A reader never sees a half-written file, and an error while
    writing leaves the old file as it was (the temporary file is removed).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
