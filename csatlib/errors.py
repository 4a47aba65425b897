"""Project exceptions: each error a user meets says what was expected, what was found, where."""

from __future__ import annotations

__all__ = [
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
