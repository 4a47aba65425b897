"""Project exceptions: each error a user meets says what was expected, what was found, where."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "require_columns",
    "CsatError",
    "CodebookError",
    "ExportError",
    "DataError",
    "SuppressedError",
    "ReportError",
]


class CsatError(Exception):
    """Base class of every error raised on purpose by csatlib."""


class CodebookError(CsatError):
    """A codebook (survey or CIT) is malformed or does not match its export."""


class ExportError(CsatError):
    """A raw export cannot be read: wrong format, encoding, header, quoting, missing column ..."""


class DataError(CsatError):
    """Analysis input is unusable: missing column, wrong type, too few rows ..."""


class SuppressedError(CsatError):
    """An estimate was requested for a cell below the small-cell minimum."""


class ReportError(CsatError):
    """Building a report failed (notebook execution or rendering)."""


def require_columns(df: Any, columns: Iterable[str], what: str) -> Any:
    """Return ``df`` if it is a DataFrame with every one of ``columns``; else raise DataError.

    The message names the caller (``what``), the missing columns and the columns found.
    """
    import pandas as pd  # here, not at import: the command line imports this module

    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what}: expected a DataFrame, found {type(df).__name__}")
    expected = list(columns)
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise DataError(
            f"{what}: missing column(s) {', '.join(map(repr, missing))} (expected columns "
            f"{expected}, missing {missing}; found {list(df.columns)})"
        )
    return df
