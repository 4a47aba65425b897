"""Follow-up cases that persist across builds: recovery calls, complaint callbacks, accounts at risk
and escalations, each with a stable id, an owner, a due date, a status and an outcome.

The store is one SQLite file (standard library ``sqlite3``; ``reports/cases.sqlite``, which ``make
clean`` keeps). SQLite, not DuckDB: the store is small (thousands of rows), written in short
transactions by one build or one import at a time, and must survive a process killed half-way;
SQLite's rollback journal gives exactly that with nothing to install, and the file opens in any
SQL tool. DuckDB's strength, scanning millions of rows by column, is not needed here.

A build (:func:`sync_cases`) opens a case for every new row of the lists (its id derived from the
row's natural key: the ticket id, the response id, the account and wave, the escalation rule),
with its owner from the organisation mapping and its due date from the service level of its type
(:mod:`csatlib.loop.rules`); a case already in the store keeps its status, outcome and closing
date. Owners return a CSV of ``case_id, status, outcome, closed``; :func:`import_outcomes` checks
every row first and applies all of them in one transaction or none. Every change is written to
an ``events`` table with its source, so a case's history can be read back.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from csatlib.errors import CsatError, DataError, require_columns
from csatlib.ingest.handwritten import read_sheet
from csatlib.loop.rules import CaseRules

__all__ = [
    "CANDIDATE_COLUMNS",
    "CASES_FILE",
    "CASE_COLUMNS",
    "PREFIXES",
    "SCHEMA_VERSION",
    "STATUSES",
    "CaseImportError",
    "CaseStoreError",
    "ImportResult",
    "SyncResult",
    "case_ids",
    "case_summary",
    "import_outcomes",
    "last_sync",
    "read_cases",
    "sync_cases",
    "with_cases",
]

#: The case store's file name, in the reports folder.
CASES_FILE = "cases.sqlite"
#: Version of the store's tables; a store of another version is refused, never rewritten.
SCHEMA_VERSION = 1
#: A case's status: open until its owner reports it in progress or closed.
STATUSES: tuple[str, ...] = ("open", "in progress", "closed")
#: The id prefix of each case type.
PREFIXES = {"recovery": "REC", "callback": "CB", "at_risk": "AR", "escalation": "ESC"}
#: What a build proposes as cases (:func:`sync_cases`), one row per case.
CANDIDATE_COLUMNS = (
    "type", "rule", "tier", "source_key", "country", "account", "business_units", "wave",
    "why", "owner", "owner_email", "opened",
)  # fmt: skip
#: The columns of :func:`read_cases`.
CASE_COLUMNS = (
    "case_id", *CANDIDATE_COLUMNS, "due", "status", "outcome", "closed", "owner_source",
    "first_seen", "last_seen", "overdue", "days_overdue", "closed_within_sla",
)  # fmt: skip

_TEXT = ("type", "rule", "source_key", "country", "account", "business_units", "wave", "why",
         "owner", "owner_email")  # fmt: skip
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY, type TEXT NOT NULL, rule TEXT NOT NULL, tier INTEGER,
    source_key TEXT NOT NULL, country TEXT NOT NULL, account TEXT NOT NULL,
    business_units TEXT NOT NULL, wave TEXT NOT NULL, why TEXT NOT NULL, owner TEXT NOT NULL,
    owner_email TEXT NOT NULL, opened TEXT NOT NULL, due TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'in progress', 'closed')),
    outcome TEXT NOT NULL, closed TEXT, owner_source TEXT NOT NULL,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL
);
CREATE TABLE events (
    case_id TEXT NOT NULL, at TEXT NOT NULL, source TEXT NOT NULL, field TEXT NOT NULL,
    old TEXT, new TEXT
);
CREATE TABLE imports (
    file TEXT NOT NULL, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL, rows INTEGER NOT NULL
);
"""


class CaseStoreError(CsatError):
    """The case store cannot be used (another schema version, not a case store, locked)."""


class CaseImportError(CsatError):
    """An owners' file cannot be applied; the message lists every problem with row and column.
    Nothing of the file was applied."""


@dataclass(frozen=True)
class SyncResult:
    """What a build did to the store: cases opened, cases seen again, cases in the store."""

    opened: int
    seen: int
    total: int


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rows of the file, cases changed, rows that changed nothing."""

    rows: int
    changed: int
    unchanged: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def case_ids(candidates: pd.DataFrame) -> pd.Series:
    """The stable id of each candidate: its type's prefix and 10 hex digits of the SHA-1 of
    ``type|rule|source_key`` (``REC-3F2A9C1D0B``): the same row gets the same id in every build,
    and the id names no customer."""
    require_columns(candidates, ("type", "rule", "source_key"), "case_ids")
    keys = (
        candidates["type"].astype(str)
        + "|"
        + candidates["rule"].astype(str)
        + "|"
        + candidates["source_key"].astype(str)
    )
    digests = [hashlib.sha1(k.encode("utf-8")).hexdigest()[:10].upper() for k in keys]
    prefixes = candidates["type"].map(PREFIXES).fillna("CASE")
    return (prefixes + "-" + pd.Series(digests, index=candidates.index)).rename("case_id")


@contextmanager
def _store(path: str | Path) -> Iterator[sqlite3.Connection]:
    """An open store (created with its tables when new), closed on exit. Writes go inside
    ``with conn:`` blocks (one transaction each: all of it or, on any error or a killed process,
    nothing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    try:
        conn = sqlite3.connect(path, timeout=30)
    except sqlite3.Error as err:
        raise CaseStoreError(f"case store {str(path)!r}: cannot be opened ({err})") from None
    with closing(conn):
        try:
            if new:
                with conn:
                    conn.executescript(_SCHEMA)
                    conn.execute(
                        "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                    )
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as err:
            raise CaseStoreError(
                f"case store {str(path)!r}: not a case store ({err}); move it away to start a "
                "new one"
            ) from None
        if row is None or row[0] != str(SCHEMA_VERSION):
            raise CaseStoreError(
                f"case store {str(path)!r}: schema version {row[0] if row else 'unknown'}, "
                f"expected {SCHEMA_VERSION}; it is left as it is"
            )
        yield conn


def _candidates(candidates: pd.DataFrame) -> pd.DataFrame:
    require_columns(candidates, CANDIDATE_COLUMNS, "sync_cases")
    out = candidates.loc[:, list(CANDIDATE_COLUMNS)].copy()
    for column in _TEXT:
        out[column] = out[column].astype("string").fillna("").astype(str)
    unknown = sorted(set(out["type"]) - set(PREFIXES))
    if unknown:
        raise DataError(
            f"sync_cases: expected case types among {sorted(PREFIXES)}, found {unknown}"
        )
    opened = pd.to_datetime(out["opened"], errors="coerce")
    if opened.isna().any():
        row = int(np.flatnonzero(opened.isna().to_numpy())[0])
        raise DataError(
            f"sync_cases: every case needs the date it opened; candidate {row} "
            f"({out['type'].iloc[row]} {out['source_key'].iloc[row]!r}) has "
            f"{candidates['opened'].iloc[row]!r}"
        )
    out["opened"] = opened.dt.date
    out["case_id"] = case_ids(out)
    return out.drop_duplicates("case_id", keep="first")


def _due(frame: pd.DataFrame, rules: CaseRules) -> list[str]:
    due = []
    for case_type, rule, opened in zip(frame["type"], frame["rule"], frame["opened"], strict=True):
        due.append(str(rules.due(case_type, opened, rule or None)))
    return due


def sync_cases(
    path: str | Path,
    candidates: pd.DataFrame,
    rules: CaseRules,
    *,
    today: date | None = None,
    source: str = "build",
    mark: str = "",
) -> SyncResult:
    """Open a case for each new candidate and mark the others seen, in one transaction.

    Parameters
    ----------
    path : str or pathlib.Path
        The store (created when missing).
    candidates : pandas.DataFrame
        :data:`CANDIDATE_COLUMNS`, one row per case the lists propose: ``type`` (a key of
        :data:`PREFIXES`), ``rule`` (an escalation's rule name, else empty), ``tier``,
        ``source_key`` (the natural key: ticket id, response id, ``account_key|wave``),
        ``country``, ``account``, ``business_units`` (``;``-separated), ``wave``, ``why``,
        ``owner``, ``owner_email`` and ``opened`` (a date). Rows with the same id are one case.
    rules : CaseRules
        Service levels: ``due`` is ``opened`` plus the level of the case's type (an
        escalation's: its rule's).
    today : datetime.date, optional
        The build's date (``first_seen``/``last_seen``); default today.
    source : str
        Written to the events table.
    mark : str
        Kept in the store as :func:`last_sync` (in the same transaction as the cases), so a build
        can tell whether its inputs changed since.

    Returns
    -------
    SyncResult

    Notes
    -----
    A case in the store keeps its status, outcome and closing date whatever the build proposes,
    and is never deleted (a ticket that left the lists' window stays open until its owner
    closes it, and becomes overdue). An open case's owner follows the mapping unless an import
    reassigned it.
    """
    frame = _candidates(candidates)
    today = today or date.today()
    stamp, at = today.isoformat(), _now()
    frame["due"] = _due(frame, rules)
    with _store(path) as conn, conn:
        known = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT case_id, owner, owner_email, owner_source, status FROM cases"
            )
        }
        new = frame.loc[~frame["case_id"].isin(list(known))]
        rows = [
            (r.case_id, r.type, r.rule, None if pd.isna(r.tier) else int(r.tier), r.source_key,
             r.country, r.account, r.business_units, r.wave, r.why, r.owner, r.owner_email,
             r.opened.isoformat(), r.due, "open", "", None, "rule", stamp, stamp)
            for r in new.itertuples(index=False)
        ]  # fmt: skip
        conn.executemany(f"INSERT INTO cases VALUES ({', '.join('?' * 20)})", rows)
        conn.executemany(
            "INSERT INTO events VALUES (?, ?, ?, 'status', NULL, 'open')",
            [(r[0], at, source) for r in rows],
        )
        seen = frame.loc[frame["case_id"].isin(list(known))]
        conn.executemany(
            "UPDATE cases SET last_seen = ? WHERE case_id = ?",
            [(stamp, case_id) for case_id in seen["case_id"]],
        )
        moved = [
            (r.owner, r.owner_email, r.case_id)
            for r in seen.itertuples(index=False)
            if known[r.case_id][2] != "import"
            and known[r.case_id][3] != "closed"
            and (r.owner, r.owner_email) != tuple(known[r.case_id][:2])
        ]
        conn.executemany("UPDATE cases SET owner = ?, owner_email = ? WHERE case_id = ?", moved)
        conn.executemany(
            "INSERT INTO events VALUES (?, ?, ?, 'owner', ?, ?)",
            [(m[2], at, source, known[m[2]][0], m[0]) for m in moved],
        )
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('last_sync', ?)", (mark,))
        total = conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
    return SyncResult(opened=len(rows), seen=len(seen), total=int(total))


def last_sync(path: str | Path) -> str | None:
    """The ``mark`` of the store's last :func:`sync_cases` (None: never synced, or no store)."""
    if not Path(path).is_file():
        return None
    with _store(path) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'last_sync'").fetchone()
    return row[0] if row else None


def read_cases(path: str | Path, *, today: date | None = None) -> pd.DataFrame:
    """Every case of the store with its standing on ``today`` (default today).

    Returns
    -------
    pandas.DataFrame
        :data:`CASE_COLUMNS`: the stored fields, plus ``overdue`` (open or in progress and
        ``due`` before ``today``), ``days_overdue`` (0 when not overdue) and
        ``closed_within_sla`` (closed on or before ``due``; <NA> while not closed). Dates are
        ``datetime.date``. No row when the store does not exist.
    """
    today = today or date.today()
    path = Path(path)
    if not path.is_file():
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in CASE_COLUMNS})
        return frame
    with _store(path) as conn:
        frame = pd.read_sql_query("SELECT * FROM cases ORDER BY due, case_id", conn)
    for column in ("opened", "due", "closed"):
        parsed = pd.to_datetime(frame[column])
        frame[column] = pd.Series(
            [d.date() if pd.notna(d) else None for d in parsed], index=frame.index, dtype=object
        )
    frame["tier"] = frame["tier"].astype("Int64")
    is_open = frame["status"] != "closed"
    late = (
        np.array([(today - d).days for d in frame["due"]], dtype=int)
        if len(frame)
        else np.zeros(0, int)
    )
    frame["overdue"] = is_open & (late > 0)
    frame["days_overdue"] = np.where(frame["overdue"], late, 0)
    within = [
        (c <= d) if isinstance(c, date) else pd.NA
        for c, d in zip(frame["closed"], frame["due"], strict=True)
    ]
    frame["closed_within_sla"] = pd.array(within, dtype="boolean")
    return frame.loc[:, list(CASE_COLUMNS)]


def case_summary(cases: pd.DataFrame, by: Sequence[str] = ("type",)) -> pd.DataFrame:
    """Open, overdue and closed cases per group, and the share closed within the service level.

    Parameters
    ----------
    cases : pandas.DataFrame
        :func:`read_cases` (or a subset of it).
    by : sequence of str
        Grouping columns (default the case type); an ``All`` row is appended.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``cases``, ``open`` (open or in progress), ``overdue``, ``closed``,
        ``closed_within_sla`` and ``sla_rate`` (closed within the service level / closed, NaN
        when nothing is closed). The rate describes every case of the program, not a sample, so
        it carries no interval.
    """
    by = list(by)
    require_columns(cases, [*by, "status", "overdue", "closed_within_sla"], "case_summary")
    work = cases.assign(
        cases=1,
        open=(cases["status"] != "closed").astype(int),
        overdue=cases["overdue"].astype(bool).astype(int),
        closed=(cases["status"] == "closed").astype(int),
        closed_within_sla=cases["closed_within_sla"].fillna(False).astype(bool).astype(int),
    )
    counts = ["cases", "open", "overdue", "closed", "closed_within_sla"]
    table = (
        work.groupby(by, sort=True)[counts].sum().reset_index()
        if len(work)
        else pd.DataFrame(columns=[*by, *counts])
    )
    total = pd.DataFrame([{**dict.fromkeys(by, "All"), **{c: int(work[c].sum()) for c in counts}}])
    table = pd.concat([table, total], ignore_index=True)
    for column in counts:
        table[column] = table[column].astype(int)
    closed = table["closed"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["sla_rate"] = np.where(closed > 0, table["closed_within_sla"] / closed, np.nan)
    return table


_IMPORT_ALIASES = {"case": "case_id", "case_id": "case_id", "status": "status",
                   "outcome": "outcome", "closed": "closed", "closed_on": "closed"}  # fmt: skip


def _read_import(file: Path) -> pd.DataFrame:
    if not file.is_file():
        raise CaseImportError(f"owners' file {str(file)!r} not found")
    try:
        frame = read_sheet(file)  # indexed by the spreadsheet's rows, past blank lines too
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise CaseImportError(f"owners' file {file.name!r}: not a readable CSV ({err})") from None
    names = {c: _IMPORT_ALIASES.get(c.strip().lower().replace(" ", "_"), c) for c in frame.columns}
    frame = frame.rename(columns=names)
    missing = [c for c in ("case_id", "status") if c not in frame.columns]
    if missing:
        raise CaseImportError(
            f"owners' file {file.name!r}: expected the columns case_id (or Case) and status, "
            f"with outcome and closed; missing {missing}, found {list(frame.columns)}"
        )
    for column in ("outcome", "closed"):
        if column not in frame.columns:
            frame[column] = ""
    return frame


def _import_problems(
    file: Path, frame: pd.DataFrame, stored: pd.DataFrame, today: date
) -> tuple[list[str], list[tuple[str, str, str, str | None]]]:
    """(problems, updates): every row checked before anything is applied."""
    problems: list[str] = []
    updates: list[tuple[str, str, str, str | None]] = []
    opened = dict(zip(stored["case_id"], stored["opened"], strict=True))
    seen: dict[str, int] = {}
    for position, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        where = f"owners' file {file.name!r}, row {position}"
        case_id = str(row.case_id).strip()
        status = str(row.status).strip().lower()
        outcome, closed_text = str(row.outcome).strip(), str(row.closed).strip()
        row_problems = []
        if case_id in seen:
            row_problems.append(f"column case_id: {case_id!r} is also on row {seen[case_id]}")
        seen.setdefault(case_id, position)
        if case_id not in opened:
            row_problems.append(f"column case_id: no case {case_id!r} in the store")
        if status not in STATUSES:
            row_problems.append(
                f"column status: expected one of {', '.join(STATUSES)}, found {row.status!r}"
            )
        closed: date | None = None
        if closed_text:
            try:  # YYYY-MM-DD only: Python also reads 20261103, which the message rules out
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", closed_text):
                    raise ValueError(closed_text)
                closed = date.fromisoformat(closed_text)
            except ValueError:
                row_problems.append(
                    f"column closed: expected a date YYYY-MM-DD, found {closed_text!r}"
                )
        if status == "closed" and not outcome:
            row_problems.append("column outcome: a closed case needs its outcome")
        if closed is not None and status != "closed":
            row_problems.append(f"column closed: a date is given but the status is {status!r}")
        if closed is not None and case_id in opened and closed < opened[case_id]:
            row_problems.append(
                f"column closed: {closed} is before the case opened ({opened[case_id]})"
            )
        if closed is not None and closed > today:
            row_problems.append(f"column closed: {closed} is in the future")
        problems += [f"{where}, {p}" for p in row_problems]
        if not row_problems:
            when = (closed or today).isoformat() if status == "closed" else None
            updates.append((case_id, status, outcome, when))
    return problems, updates


def import_outcomes(
    path: str | Path, file: str | Path, *, today: date | None = None
) -> ImportResult:
    """Apply the owners' returned CSV to the store: all rows, or none.

    Parameters
    ----------
    path : str or pathlib.Path
        The store; it must exist (a build creates it).
    file : str or pathlib.Path
        CSV with ``case_id`` (or ``Case``) and ``status`` (one of :data:`STATUSES`), optional
        ``outcome`` and ``closed`` (YYYY-MM-DD; default ``today`` when the status is closed):
        the open-case lists a build writes, filled in.
    today : datetime.date, optional
        The import's date; default today.

    Returns
    -------
    ImportResult

    Raises
    ------
    CaseImportError
        Every problem of the file at once, each with its row (the header is row 1) and column:
        an id not in the store or given twice, a status not in :data:`STATUSES`, a closed case
        without an outcome, a closing date that is not a date, before the case opened, in the
        future, or given for a case not closed. Nothing is applied then.
    """
    path, file = Path(path), Path(file)
    today = today or date.today()
    if not path.is_file():
        raise CaseImportError(
            f"case store {str(path)!r} not found: run a build first (make reports)"
        )
    frame = _read_import(file)
    stored = read_cases(path, today=today)
    problems, updates = _import_problems(file, frame, stored, today)
    if problems:
        raise CaseImportError(
            f"owners' file {file.name!r}: nothing applied; {len(problems)} problem(s):\n  "
            + "\n  ".join(problems)
        )
    before = stored.set_index("case_id")
    at = _now()
    changed = 0
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    with _store(path) as conn, conn:
        for case_id, status, outcome, closed in updates:
            old = before.loc[case_id]
            old_closed = old["closed"].isoformat() if isinstance(old["closed"], date) else None
            new = {"status": status, "outcome": outcome, "closed": closed}
            olds = {"status": old["status"], "outcome": old["outcome"], "closed": old_closed}
            diff = {k: v for k, v in new.items() if v != olds[k]}
            if not diff:
                continue
            changed += 1
            conn.execute(
                "UPDATE cases SET status = ?, outcome = ?, closed = ? WHERE case_id = ?",
                (status, outcome, closed, case_id),
            )
            conn.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                [(case_id, at, f"import {file.name}", k, olds[k], v) for k, v in diff.items()],
            )
        conn.execute("INSERT INTO imports VALUES (?, ?, ?, ?)", (file.name, digest, at, len(frame)))
    return ImportResult(rows=len(frame), changed=changed, unchanged=len(updates) - changed)


def with_cases(
    frame: pd.DataFrame, cases: pd.DataFrame, case_type: str, keys: pd.Series
) -> pd.DataFrame:
    """A list's rows with their cases: closed cases dropped, the rest with id, status and due.

    Parameters
    ----------
    frame : pandas.DataFrame
        A list (recovery, callback, at-risk) under its canonical column names.
    cases : pandas.DataFrame
        :func:`read_cases`.
    case_type : str
        The list's case type (``recovery``, ``callback``, ``at_risk``).
    keys : pandas.Series
        Each row's natural key (``source_key``), aligned with ``frame``.

    Returns
    -------
    pandas.DataFrame
        ``frame`` without the rows whose case is closed, with ``case_id``, ``case_status`` and
        ``due`` (the case's due date, replacing the list's own) first after the row's own
        columns; a row without a case (the store was not synced for it) keeps its due date and
        an empty id, so nothing is dropped silently. Earliest due first.
    """
    own = cases.loc[(cases["type"] == case_type) & (cases["rule"] == "")]
    own = own.drop_duplicates("source_key").set_index("source_key")
    key = pd.Index(keys.astype("string").fillna("").to_numpy())
    found = own.reindex(key)
    keep = (found["status"] != "closed").to_numpy()
    out = frame.copy()
    out["case_id"] = found["case_id"].fillna("").to_numpy()
    out["case_status"] = found["status"].fillna("open").to_numpy()
    due = pd.to_datetime(pd.Series(found["due"].to_numpy(), index=frame.index), errors="coerce")
    if "due" in out.columns:
        out["due"] = due.fillna(pd.to_datetime(out["due"], errors="coerce"))
    else:
        out["due"] = due
    out = out.loc[keep]
    return out.sort_values("due", kind="stable", na_position="last").reset_index(drop=True)
