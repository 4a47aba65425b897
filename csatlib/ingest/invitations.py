"""The deployment lists of past waves (``invitations.csv``): who was invited to which wave.

One row per invitation: the wave, the contact (id and e-mail address) and the contact's account,
country and region, optionally the segment and the date the invitation was sent. Response rates
and the non-response check (:mod:`csatlib.loop.response`) compare it with the answers.
:func:`load_invitations` checks every row and reports every problem at once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from csatlib.errors import ExportError
from csatlib.ingest.handwritten import cell_problem, read_handwritten, sheet_row

__all__ = ["COLUMNS", "OPTIONAL_COLUMNS", "load_invitations", "empty_invitations"]

#: The required columns of ``invitations.csv``.
COLUMNS: tuple[str, ...] = ("wave", "contact_id", "email", "account", "country", "region")
#: Columns kept when present (empty text, or no date, when absent).
OPTIONAL_COLUMNS: tuple[str, ...] = ("segment", "invited_at")

# the pattern of csatlib.loop.sampling.normalize_email (ingest may not import loop)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def empty_invitations() -> pd.DataFrame:
    """An invitations table with no row (the columns and types of :func:`load_invitations`)."""
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in (*COLUMNS, "segment")})
    frame["invited_at"] = pd.Series(dtype="datetime64[ns]")
    return frame


def _flagged(mask: pd.Series, column: str, message: pd.Series | str) -> list[tuple[int, str, str]]:
    """(position, column, message) of every row where ``mask`` is True."""
    positions = mask.to_numpy().nonzero()[0]
    texts = message[mask].tolist() if isinstance(message, pd.Series) else [message] * len(positions)
    return [(int(p), column, t) for p, t in zip(positions, texts, strict=True)]


def _cell_problems(frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    """Cells wrong on their own: empty required cells, e-mails, dates."""
    problems: list[tuple[int, str, str]] = []
    for column in COLUMNS:
        problems += _flagged(frame[column].eq(""), column, "expected a value, found an empty cell")
    email = frame["email"]
    bad_email = email.ne("") & ~email.str.match(_EMAIL.pattern)
    problems += _flagged(
        bad_email, "email", "expected an address like name@domain.tld, found '" + email + "'"
    )
    sent = frame["invited_at"]
    parsed = pd.to_datetime(sent.where(sent.str.match(_DATE.pattern)), format="%Y-%m-%d",
                            errors="coerce")  # fmt: skip
    bad_date = sent.ne("") & parsed.isna()
    problems += _flagged(
        bad_date, "invited_at", "expected a date YYYY-MM-DD or nothing, found '" + sent + "'"
    )
    return problems


def _repeat_problems(frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    """A second invitation of the same contact (id, or e-mail ignoring case) in one wave."""
    problems: list[tuple[int, str, str]] = []
    keys = {"contact_id": frame["contact_id"], "email": frame["email"].str.casefold()}
    for column, key in keys.items():
        pair = pd.DataFrame({"wave": frame["wave"], "key": key, "row": range(2, len(frame) + 2)})
        usable = pair["wave"].ne("") & pair["key"].ne("")
        first = pair[usable].groupby(["wave", "key"], sort=False)["row"].transform("min")
        first = first.reindex(pair.index)
        repeated = usable & pair["row"].ne(first)
        message = (
            "'" + frame[column] + "' is invited twice in wave '" + frame["wave"]
            + "' (first in row " + first.astype("Int64").astype("string") + ")"
        )  # fmt: skip
        problems += _flagged(repeated, column, message)
    return problems


def load_invitations(path: str | Path) -> pd.DataFrame:
    """Read ``invitations.csv`` and check every row; raise one error listing every problem.

    Parameters
    ----------
    path : str or pathlib.Path
        A UTF-8 CSV (a BOM is allowed) with the columns ``wave``, ``contact_id``, ``email``,
        ``account``, ``country`` and ``region``, and optionally ``segment`` and ``invited_at``
        (the date the invitation was sent, ``YYYY-MM-DD``). Further columns are ignored.

    Returns
    -------
    pandas.DataFrame
        ``wave, contact_id, email, account, country, region, segment`` as ``string`` (blanks
        around values removed; the country code ``NA``, Namibia, stays a code) and
        ``invited_at`` as ``datetime64[ns]`` (NaT where empty), in the file's order.

    Raises
    ------
    ExportError
        The file is missing or unreadable, lacks a column, or rows are invalid: an empty
        required cell, an e-mail that is not an address, a date that is not ``YYYY-MM-DD``, or
        a contact invited twice in one wave (same ``contact_id``, or same e-mail ignoring case).
        Rows are numbered as a spreadsheet shows them (the header is row 1):
        ``"invitations.csv, row 4, column email: expected an address like name@domain.tld,
        found 'n/a'"``.
    """
    path = Path(path)
    frame = read_handwritten(
        path, columns=COLUMNS, optional=OPTIONAL_COLUMNS, what="invitations file"
    )
    found = sorted(_cell_problems(frame) + _repeat_problems(frame))
    if found:
        raise ExportError(
            "\n".join(
                cell_problem(path, sheet_row(frame, position), column, problem)
                for position, column, problem in found
            )
        )
    out = frame.astype("string")
    out["invited_at"] = pd.to_datetime(
        frame["invited_at"].where(frame["invited_at"].ne("")), format="%Y-%m-%d"
    )
    return out.reset_index(drop=True)
