"""Read and check the study's action plans (``actions.csv``: one plan per unit, attribute, action).

An action plan says what a report's unit (a country such as ``DE``, or
``business_unit--compute``) does about one attribute: the root cause found, the action, its
owner, the wave the plan started (from which its effect is measured), the due date and the
status. The file is optional, written by hand and read by the report layer only (``csat data``
does not need it); every problem is reported with its row and column, all of them at once.
Whether the attribute is one of the study's is checked by the report, which knows the
codebook (:func:`csatlib.report.actions.action_plan_table`); the table keeps each plan's file
row so that error can name it too.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Final

import pandas as pd

from csatlib.errors import ExportError
from csatlib.ingest.handwritten import cell_problem, read_handwritten, sheet_row, wave_problem

__all__ = ["COLUMNS", "OPTIONAL_COLUMNS", "STATUSES", "OPEN", "load_actions", "empty_actions"]

#: The required columns of ``actions.csv``.
COLUMNS: Final[tuple[str, ...]] = (
    "unit", "attribute", "root_cause", "action", "owner", "start_wave", "due", "status",
)  # fmt: skip
#: Columns kept when present (empty text when absent).
OPTIONAL_COLUMNS: Final[tuple[str, ...]] = ("note",)
#: The statuses a plan can have, as the table writes them (the file's are case-insensitive).
STATUSES: Final[tuple[str, ...]] = ("open", "in progress", "done", "cancelled")
#: The statuses of a plan still under way (one that can be overdue).
OPEN: Final[frozenset[str]] = frozenset({"open", "in progress"})

_QUARTER = re.compile(r"^(?P<year>\d{4})-Q(?P<quarter>[1-4])$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# other spellings of a status, after lower-casing and collapsing blanks, '_' and '-'
_STATUS_SPELLINGS: Final[dict[str, str]] = {"canceled": "cancelled", "inprogress": "in progress"}


def empty_actions() -> pd.DataFrame:
    """An action-plans table with no row (the columns of :func:`load_actions`)."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in (*COLUMNS, *OPTIONAL_COLUMNS)})
    frame["due"] = pd.Series(dtype="datetime64[ns]")
    frame["row"] = pd.Series(dtype="int64")
    return frame


def _status(text: str) -> str:
    """A status in any case, ``_``, ``-`` or blanks between words, as :data:`STATUSES` write it."""
    words = re.sub(r"[\s_-]+", " ", text.strip().lower())
    return _STATUS_SPELLINGS.get(words, words)


def _due_error(text: str) -> str | None:
    if not _DATE.match(text):
        return f"expected a date YYYY-MM-DD, found {text!r}"
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return f"expected a date YYYY-MM-DD, found {text!r} (no such day)"
    return None


def _wave_start(wave: str) -> dt.date | None:
    """The first day of a ``YYYY-Qn`` wave; None for a wave named otherwise."""
    match = _QUARTER.match(wave)
    if not match:
        return None
    return dt.date(int(match["year"]), 3 * int(match["quarter"]) - 2, 1)


def _row_errors(row: pd.Series) -> list[tuple[str, str]]:
    """(column, problem) for every problem of one row."""
    errors: list[tuple[str, str]] = [
        (column, "expected a value, found an empty cell") for column in COLUMNS if not row[column]
    ]
    if problem := wave_problem(row["start_wave"]):
        errors.append(("start_wave", problem))
    if row["status"] and _status(row["status"]) not in STATUSES:
        errors.append(("status", f"expected one of {', '.join(STATUSES)}, found {row['status']!r}"))
    if row["due"] and (problem := _due_error(row["due"])):
        errors.append(("due", problem))
    elif (
        row["due"]
        and (start := _wave_start(row["start_wave"]))
        and dt.date.fromisoformat(row["due"]) < start
    ):
        errors.append(
            (
                "due",
                f"expected a date not before the start wave {row['start_wave']!r} (which "
                f"begins {start.isoformat()}), found {row['due']!r}",
            )
        )
    return errors


def load_actions(path: str | Path) -> pd.DataFrame:
    """Read ``actions.csv`` and check every row; raise one error listing every problem.

    Parameters
    ----------
    path : str or pathlib.Path
        A UTF-8 CSV (a BOM is allowed) with the columns ``unit`` (a report's name: ``DE``,
        ``business_unit--compute``), ``attribute`` (an attribute's canonical name in the
        codebook, e.g. ``delivery``), ``root_cause``, ``action``, ``owner``, ``start_wave``
        (the wave the plan started, e.g. ``2026-Q2``: its effect is measured from there),
        ``due`` (a date, ``YYYY-MM-DD``) and ``status`` (``open``, ``in progress``, ``done``
        or ``cancelled``, in any case; ``in_progress`` and ``canceled`` are read too), and
        optionally ``note``. A file with the header and no row is a study without plans.

    Returns
    -------
    pandas.DataFrame
        ``unit, attribute, root_cause, action, owner, start_wave, due, status, note, row``:
        ``due`` a date (``datetime64``), ``status`` one of :data:`STATUSES`, ``row`` the
        plan's row as a spreadsheet shows it (the header is row 1), the rest text (leading
        and trailing blanks removed), in the file's order. ``attrs["source"]`` is the file's
        name, for the messages of later checks.

    Raises
    ------
    ExportError
        The file is missing or unreadable, lacks a column, or a row is invalid: an empty
        cell in a required column, an unknown status, a due date that is no date or lies
        before the start wave's first day (when the wave is ``YYYY-Qn``), or a second row
        for the same unit, attribute and action (compared ignoring case). Every problem is
        listed, one a line: ``"actions.csv, row 4, column due: expected a date YYYY-MM-DD,
        found '31/12/2026'"``.
    """
    path = Path(path)
    frame = read_handwritten(
        path, columns=COLUMNS, optional=OPTIONAL_COLUMNS, what="action plans file"
    )
    problems = [
        cell_problem(path, sheet_row(frame, position), column, problem)
        for position, (_, row) in enumerate(frame.iterrows())
        for column, problem in _row_errors(row)
    ]
    key = frame[["unit", "attribute"]].assign(action=frame["action"].str.casefold())
    repeated = key.duplicated(keep="first") & frame["action"].ne("")
    first = key.groupby(list(key.columns), sort=False).ngroup()
    first_row = first.map(pd.Series(range(len(first)), index=first).groupby(level=0).min())
    problems += [
        f"{path.name}, row {sheet_row(frame, position)}, column action: a second plan "
        f"{frame['action'].iat[position]!r} for unit {frame['unit'].iat[position]!r} and "
        f"attribute {frame['attribute'].iat[position]!r} (first in row "
        f"{sheet_row(frame, int(first_row.iat[position]))})"
        for position in repeated.to_numpy().nonzero()[0]
    ]
    if problems:
        raise ExportError("\n".join(problems))
    frame["status"] = frame["status"].map(_status)
    frame["due"] = pd.to_datetime(frame["due"], format="%Y-%m-%d").astype("datetime64[ns]")
    frame["row"] = frame.index.to_numpy()  # the spreadsheet's row, for the notes
    frame = frame.reset_index(drop=True)
    frame["row"] = frame["row"].astype("int64")
    frame.attrs["source"] = path.name
    return frame
