"""Tests of csatlib.loop.cases: the SQLite case store, its syncs and the owners' imports.

The store must keep what owners reported across builds, apply an owners' file whole or not at
all, and survive an error or a killed process half-way through a write. Dates are fixed (the
``today`` of each call); weekdays checked with a calendar (2026-11-27 is a Friday).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from csatlib.errors import DataError
from csatlib.loop import cases as store
from csatlib.loop.cases import (
    CANDIDATE_COLUMNS,
    CASE_COLUMNS,
    SCHEMA_VERSION,
    CaseImportError,
    CaseStoreError,
    ImportResult,
    SyncResult,
    case_ids,
    case_summary,
    import_outcomes,
    last_sync,
    read_cases,
    sync_cases,
    with_cases,
)
from csatlib.loop.rules import DEFAULT_SERVICE_LEVELS, CaseRules, ServiceLevel

RULES = CaseRules(
    service_levels={**DEFAULT_SERVICE_LEVELS, "recovery": ServiceLevel(2, "business")}
)
FRIDAY, MONDAY, THURSDAY = date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 3)


def _candidate(source_key: str, opened: Any = FRIDAY, **fields: Any) -> dict[str, Any]:
    row = {
        "type": "recovery",
        "rule": "",
        "tier": pd.NA,
        "source_key": source_key,
        "country": "DE",
        "account": "Acme GmbH",
        "business_units": "",
        "wave": "2026-Q4",
        "why": "Ticket rated 1 of 5",
        "owner": "Anna Fischer",
        "owner_email": "anna.fischer@example.org",
        "opened": opened,
    }
    row.update(fields)
    return row


def _frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(CANDIDATE_COLUMNS))


def _three() -> pd.DataFrame:
    return _frame(
        _candidate("T01"),  # Friday: due Tuesday 12-01 (2 business days)
        _candidate("T02", opened=MONDAY),  # due Wednesday 12-02
        _candidate("R07", type="callback", opened=MONDAY, country="FR", owner="Julien"),
    )


def _sync(path: Path, candidates: pd.DataFrame, today: date = MONDAY, **kw: Any) -> SyncResult:
    return sync_cases(path, candidates, RULES, today=today, **kw)


def _by_key(path: Path, today: date = THURSDAY) -> pd.DataFrame:
    return read_cases(path, today=today).set_index("source_key")


def _dump(path: Path) -> list[str]:
    """Every row of every table, as SQL (what 'the store is as before' compares)."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _events(path: Path) -> pd.DataFrame:
    conn = sqlite3.connect(path)
    try:
        return pd.read_sql_query("SELECT * FROM events ORDER BY rowid", conn)
    finally:
        conn.close()


def _owners_file(path: Path, rows: list[dict[str, str]], header: dict[str, str] | None = None):
    frame = pd.DataFrame(rows)
    if header:
        frame = frame.rename(columns=header)
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _id(path: Path, key: str) -> str:
    return str(_by_key(path).loc[key, "case_id"])


# ---------------------------------------------------------------------------------------------
# ids
# ---------------------------------------------------------------------------------------------
def test_ids_are_stable_and_name_no_customer() -> None:
    frame = _three()
    ids = case_ids(frame)
    # sha1("recovery||T01"), first 10 hex digits upper-cased, by hashlib and pinned once:
    expected = "REC-" + hashlib.sha1(b"recovery||T01").hexdigest()[:10].upper()
    assert ids.iloc[0] == expected == "REC-DC4CA331B2"
    assert ids.iloc[2] == "CB-" + hashlib.sha1(b"callback||R07").hexdigest()[:10].upper()
    assert case_ids(frame.iloc[::-1]).iloc[::-1].tolist() == ids.tolist()  # order-free
    assert case_ids(frame.assign(owner="someone else", country="FR")).tolist() == ids.tolist()
    # the rule is part of the key: one ticket can be a recovery case and an escalation
    esc = _frame(_candidate("T01", type="escalation", rule="Ticket rated 1"))
    assert case_ids(esc).iloc[0] == (
        "ESC-" + hashlib.sha1(b"escalation|Ticket rated 1|T01").hexdigest()[:10].upper()
    )
    assert not ids.str.contains("T01|Acme").any()


# ---------------------------------------------------------------------------------------------
# sync
# ---------------------------------------------------------------------------------------------
def test_sync_opens_new_cases_with_their_due_date(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    assert last_sync(path) is None  # no store yet
    result = _sync(path, _three(), mark="inputs-1")
    assert result == SyncResult(opened=3, seen=0, total=3)
    assert last_sync(path) == "inputs-1"
    cases = _by_key(path)
    assert list(read_cases(path, today=THURSDAY).columns) == list(CASE_COLUMNS)
    assert cases.loc["T01", "due"] == date(2026, 12, 1)  # Friday + 2 business days = Tuesday
    assert cases.loc["T02", "due"] == date(2026, 12, 2)  # Monday + 2 business days
    assert cases.loc["R07", "due"] == date(2026, 12, 5)  # callback: 5 calendar days (default)
    assert set(cases["status"]) == {"open"} and set(cases["outcome"]) == {""}
    assert cases["closed"].isna().all()
    assert set(cases["first_seen"]) == set(cases["last_seen"]) == {"2026-11-30"}
    events = _events(path)
    assert (
        len(events) == 3 and set(events["new"]) == {"open"} and set(events["source"]) == {"build"}
    )


def test_sync_again_marks_seen_and_never_deletes(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    later = _frame(_candidate("T02", opened=MONDAY), _candidate("T03", opened=THURSDAY))
    result = _sync(path, later, today=THURSDAY)
    assert result == SyncResult(opened=1, seen=1, total=4)
    cases = _by_key(path)
    assert cases.loc["T02", ["first_seen", "last_seen"]].tolist() == ["2026-11-30", "2026-12-03"]
    # T01 and R07 left the lists: still in the store, still open, last seen Monday
    assert cases.loc["T01", ["status", "last_seen"]].tolist() == ["open", "2026-11-30"]
    assert "R07" in cases.index


def test_one_case_per_id_within_a_sync(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    twice = _frame(_candidate("T01"), _candidate("T01", owner="Somebody else"))
    assert _sync(path, twice) == SyncResult(opened=1, seen=0, total=1)
    assert _by_key(path).loc["T01", "owner"] == "Anna Fischer"  # the first row


def test_sync_refuses_bad_candidates(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    with pytest.raises(DataError, match=r"case types among .*found \['survey'\]"):
        _sync(path, _frame(_candidate("T01", type="survey")))
    with pytest.raises(DataError, match=r"candidate 1 \(recovery 'T02'\) has 'soon'"):
        _sync(path, _frame(_candidate("T01"), _candidate("T02", opened="soon")))
    with pytest.raises(DataError, match="missing column"):
        _sync(path, _frame(_candidate("T01")).drop(columns="opened"))
    assert read_cases(path).empty  # nothing stored


def test_owner_follows_the_mapping_while_open(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    closing = _owners_file(
        tmp_path / "back.csv",
        [{"case_id": _id(path, "T02"), "status": "closed", "outcome": "Called", "closed": ""}],
    )
    import_outcomes(path, closing, today=THURSDAY)
    moved = _three().assign(owner="Ben Weber", owner_email="ben.weber@example.org")
    _sync(path, moved, today=THURSDAY)
    cases = _by_key(path)
    assert cases.loc["T01", ["owner", "owner_email"]].tolist() == [
        "Ben Weber",
        "ben.weber@example.org",
    ]
    assert cases.loc["T02", "owner"] == "Anna Fischer"  # closed: keeps who closed it
    owner_events = _events(path).query("field == 'owner'")
    assert sorted(owner_events["case_id"]) == sorted([_id(path, "T01"), _id(path, "R07")])
    t01 = owner_events.loc[owner_events["case_id"] == _id(path, "T01")].iloc[0]
    assert (t01["old"], t01["new"]) == ("Anna Fischer", "Ben Weber")


# ---------------------------------------------------------------------------------------------
# standing on a day: overdue and within the service level
# ---------------------------------------------------------------------------------------------
def test_overdue_and_closed_within_the_service_level(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    ids = {key: _id(path, key) for key in ("T01", "T02", "R07")}
    rows = [
        {"case_id": ids["T01"], "status": "closed", "outcome": "Fixed", "closed": "2026-12-01"},
        {"case_id": ids["T02"], "status": "closed", "outcome": "Late", "closed": "2026-12-03"},
    ]
    import_outcomes(path, _owners_file(tmp_path / "back.csv", rows), today=THURSDAY)
    # on Thursday 12-03: R07 (due 12-05) is open and not overdue
    cases = _by_key(path, today=THURSDAY)
    assert cases["closed_within_sla"].dtype == "boolean"
    assert cases.loc["T01", "closed_within_sla"] == True  # noqa: E712 - closed on its due day
    assert cases.loc["T02", "closed_within_sla"] == False  # noqa: E712 - due 12-02, closed 12-03
    assert pd.isna(cases.loc["R07", "closed_within_sla"])
    assert not cases["overdue"].any() and (cases["days_overdue"] == 0).all()
    # on 12-08 R07 is 3 days overdue; closed cases never are
    cases = _by_key(path, today=date(2026, 12, 8))
    assert cases["overdue"].tolist() == [False, False, True]  # ordered by due: T01, T02, R07
    assert cases["days_overdue"].tolist() == [0, 0, 3]
    summary = case_summary(read_cases(path, today=date(2026, 12, 8))).set_index("type")
    assert summary.loc["recovery", ["cases", "open", "overdue", "closed"]].tolist() == [2, 0, 0, 2]
    assert summary.loc["recovery", "closed_within_sla"] == 1
    assert summary.loc["recovery", "sla_rate"] == 0.5  # 1 of 2 closed within
    assert summary.loc["callback", ["cases", "open", "overdue", "closed"]].tolist() == [1, 1, 1, 0]
    assert pd.isna(summary.loc["callback", "sla_rate"])  # nothing closed: no rate
    assert summary.loc["All", ["cases", "open", "overdue", "closed"]].tolist() == [3, 1, 1, 2]
    assert summary.index[-1] == "All"


def test_summary_by_country_and_of_nothing(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    by_country = case_summary(read_cases(path, today=THURSDAY), by=["country"])
    assert by_country["country"].tolist() == ["DE", "FR", "All"]
    assert by_country["cases"].tolist() == [2, 1, 3]
    empty = case_summary(read_cases(tmp_path / "none.sqlite"))
    assert empty["type"].tolist() == ["All"] and empty["cases"].tolist() == [0]


# ---------------------------------------------------------------------------------------------
# imports
# ---------------------------------------------------------------------------------------------
def test_import_applies_status_outcome_and_closing_date(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    ids = {key: _id(path, key) for key in ("T01", "T02", "R07")}
    rows = [
        {"case_id": ids["T01"], "status": "closed", "outcome": "Replaced", "closed": "2026-12-01"},
        {"case_id": ids["T02"], "status": "In Progress", "outcome": "", "closed": ""},
        {"case_id": ids["R07"], "status": "open", "outcome": "", "closed": ""},  # no change
    ]  # fmt: skip
    file = _owners_file(tmp_path / "back.csv", rows)
    result = import_outcomes(path, file, today=THURSDAY)
    assert result == ImportResult(rows=3, changed=2, unchanged=1)
    cases = _by_key(path)
    assert cases.loc["T01", ["status", "outcome", "closed"]].tolist() == [
        "closed",
        "Replaced",
        date(2026, 12, 1),
    ]
    assert cases.loc["T02", "status"] == "in progress"
    events = _events(path).query("source == 'import back.csv'")
    assert sorted(zip(events["case_id"], events["field"], events["new"], strict=True)) == sorted(
        [
            (ids["T01"], "status", "closed"),
            (ids["T01"], "outcome", "Replaced"),
            (ids["T01"], "closed", "2026-12-01"),
            (ids["T02"], "status", "in progress"),
        ]
    )
    conn = sqlite3.connect(path)
    imports = conn.execute("SELECT file, sha256, rows FROM imports").fetchall()
    conn.close()
    assert imports == [("back.csv", hashlib.sha256(file.read_bytes()).hexdigest(), 3)]


def test_closed_without_a_date_closes_today_and_a_case_can_reopen(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    case = _id(path, "T01")
    closing = [{"case_id": case, "status": "closed", "outcome": "Called", "closed": ""}]
    import_outcomes(path, _owners_file(tmp_path / "a.csv", closing), today=THURSDAY)
    assert _by_key(path).loc["T01", "closed"] == THURSDAY
    reopen = [{"case_id": case, "status": "open", "outcome": "Called", "closed": ""}]
    result = import_outcomes(path, _owners_file(tmp_path / "b.csv", reopen), today=THURSDAY)
    assert result.changed == 1
    cases = _by_key(path)
    assert cases.loc["T01", "status"] == "open" and cases.loc["T01", "closed"] is None


def test_import_reads_the_headers_of_the_open_case_lists(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    rows = [
        {"case_id": _id(path, "T01"), "Type": "recovery call", "status": "closed",
         "outcome": "Called back", "closed": "2026-12-02"},
    ]  # fmt: skip
    header = {"case_id": "Case", "status": "Status", "outcome": "Outcome", "closed": "Closed"}
    file = _owners_file(tmp_path / "open_cases.csv", rows, header)
    assert import_outcomes(path, file, today=THURSDAY).changed == 1
    assert _by_key(path).loc["T01", "outcome"] == "Called back"


def test_the_imported_outcome_survives_a_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    case = _id(path, "T01")
    rows = [{"case_id": case, "status": "closed", "outcome": "Refunded", "closed": "2026-12-01"}]
    import_outcomes(path, _owners_file(tmp_path / "back.csv", rows), today=THURSDAY)
    # the next build proposes the same row again, as open and with a new owner
    result = _sync(path, _three().assign(owner="Ben Weber"), today=date(2026, 12, 4))
    assert result == SyncResult(opened=0, seen=3, total=3)
    cases = _by_key(path)
    assert cases.loc["T01", ["case_id", "status", "outcome", "closed"]].tolist() == [
        case,
        "closed",
        "Refunded",
        date(2026, 12, 1),
    ]
    assert cases.loc["T01", "last_seen"] == "2026-12-04"


def _problem(tmp_path: Path, path: Path, rows: list[dict[str, str]], *expected: str) -> str:
    """The import fails with every ``expected`` text, and the store is exactly as before."""
    before = _dump(path)
    file = _owners_file(tmp_path / "back.csv", rows)
    with pytest.raises(CaseImportError) as caught:
        import_outcomes(path, file, today=THURSDAY)
    message = str(caught.value)
    assert message.startswith("owners' file 'back.csv': nothing applied;")
    for text in expected:
        assert text in message
    assert _dump(path) == before
    return message


def test_every_import_problem_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    t01, t02 = _id(path, "T01"), _id(path, "T02")

    def row(case: str, status: str = "closed", outcome: str = "Done", closed: str = ""):
        return {"case_id": case, "status": status, "outcome": outcome, "closed": closed}

    _problem(
        tmp_path,
        path,
        [row("REC-0000000000")],
        "row 2, column case_id: no case 'REC-0000000000' in the store",
    )
    _problem(
        tmp_path, path, [row(t01), row(t01)], f"row 3, column case_id: {t01!r} is also on row 2"
    )
    _problem(
        tmp_path,
        path,
        [row(t01, status="done")],
        "row 2, column status: expected one of open, in progress, closed, found 'done'",
    )
    _problem(
        tmp_path,
        path,
        [row(t01, outcome="")],
        "row 2, column outcome: a closed case needs its outcome",
    )
    _problem(
        tmp_path,
        path,
        [row(t01, closed="01/12/2026")],
        "row 2, column closed: expected a date YYYY-MM-DD, found '01/12/2026'",
    )
    _problem(
        tmp_path,
        path,
        [row(t01, closed="2026-11-26")],
        "row 2, column closed: 2026-11-26 is before the case opened (2026-11-27)",
    )
    _problem(
        tmp_path,
        path,
        [row(t01, closed="2026-12-04")],
        "row 2, column closed: 2026-12-04 is in the future",
    )
    _problem(tmp_path, path, [row(t02, status="in progress", closed="2026-12-01")],
             "row 2, column closed: a date is given but the status is 'in progress'")  # fmt: skip


def test_one_bad_row_applies_nothing_and_every_problem_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    good = [
        {"case_id": _id(path, "T01"), "status": "closed", "outcome": "Ok", "closed": "2026-12-01"},
        {"case_id": _id(path, "T02"), "status": "in progress", "outcome": "", "closed": ""},
    ]
    bad = [
        {"case_id": _id(path, "R07"), "status": "closed", "outcome": "", "closed": ""},
        {"case_id": "CB-NOPE", "status": "open", "outcome": "", "closed": ""},
    ]
    expected = ("2 problem(s)", "row 3, column outcome", "row 5, column case_id")
    message = _problem(tmp_path, path, [good[0], bad[0], good[1], bad[1]], *expected)
    assert "row 2" not in message and "row 4" not in message
    cases = _by_key(path)
    assert set(cases["status"]) == {"open"}  # not even the good rows
    assert _events(path)["field"].tolist() == ["status"] * 3  # only the openings


def test_import_rows_are_the_spreadsheets_past_a_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    file = _owners_file(
        tmp_path / "back.csv",
        [{"case_id": _id(path, "T01"), "status": "done", "outcome": "", "closed": ""}],
    )
    header, *rows = file.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    file.write_text("".join([header, "\n", *rows]), encoding="utf-8")
    with pytest.raises(CaseImportError, match="row 3, column status: expected one of"):
        import_outcomes(path, file, today=THURSDAY)


def test_import_refuses_files_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    with pytest.raises(CaseImportError, match="case store .*cases.sqlite' not found: run a build"):
        import_outcomes(path, tmp_path / "back.csv")
    assert not path.exists()  # an import never creates a store
    _sync(path, _three())
    before = _dump(path)
    with pytest.raises(CaseImportError, match="owners' file .*missing.csv' not found"):
        import_outcomes(path, tmp_path / "missing.csv")
    no_status = _owners_file(tmp_path / "back.csv", [{"Case": _id(path, "T01"), "Result": "x"}])
    with pytest.raises(
        CaseImportError, match=r"expected the columns case_id .*missing \['status'\]"
    ):
        import_outcomes(path, no_status)
    no_id = _owners_file(tmp_path / "back.csv", [{"Status": "closed"}])
    with pytest.raises(CaseImportError, match=r"missing \['case_id'\]"):
        import_outcomes(path, no_id)
    assert _dump(path) == before


# ---------------------------------------------------------------------------------------------
# reliability: an error, a killed process, a store of another kind
# ---------------------------------------------------------------------------------------------
def test_an_error_half_way_through_a_sync_leaves_the_store_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three(), mark="first")
    before = _dump(path)
    calls: list[str] = []

    class Failing(sqlite3.Connection):
        def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:  # type: ignore[override]
            calls.append(" ".join(sql.split()[:3]))
            if sql.startswith("UPDATE cases SET owner"):  # after the inserts and the updates
                raise sqlite3.OperationalError("disk I/O error (simulated)")
            return super().executemany(sql, rows)

    connect = sqlite3.connect
    monkeypatch.setattr(store.sqlite3, "connect", lambda *a, **k: connect(*a, factory=Failing, **k))
    later = pd.concat([_three().assign(owner="Ben"), _frame(_candidate("T09"))], ignore_index=True)
    with pytest.raises(sqlite3.OperationalError, match="simulated"):
        _sync(path, later, today=THURSDAY, mark="second")
    # the new case, its event and the last_seen updates ran before the failure
    assert calls == [
        "INSERT INTO cases",
        "INSERT INTO events",
        "UPDATE cases SET",
        "UPDATE cases SET",
    ]
    monkeypatch.undo()
    assert _dump(path) == before
    assert last_sync(path) == "first"
    assert _sync(path, later, today=THURSDAY).opened == 1  # and the store still works


_KILLED_WRITER = """
import sqlite3, sys, time
from pathlib import Path
import pandas as pd
from csatlib.loop import cases
from csatlib.loop.rules import DEFAULT_SERVICE_LEVELS, CaseRules

store, candidates, marker = sys.argv[1:4]

class Stalled(sqlite3.Connection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA cache_size = 5")  # spill the new pages into the file itself

    def executemany(self, sql, rows):
        cursor = super().executemany(sql, rows)
        if sql.startswith("INSERT INTO cases"):
            Path(marker).write_text("inserted, not committed")
            time.sleep(30)
        return cursor

connect = sqlite3.connect
sqlite3.connect = lambda *a, **k: connect(*a, factory=Stalled, **k)
cases.sync_cases(store, pd.read_pickle(candidates), CaseRules(DEFAULT_SERVICE_LEVELS))
"""


def test_a_sync_killed_before_commit_leaves_the_old_rows(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    before = _dump(path)
    many = _frame(*[_candidate(f"K{i:05d}", why="x" * 200) for i in range(3000)])
    many.to_pickle(tmp_path / "many.pkl")
    marker = tmp_path / "marker"
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path), str(tmp_path / "many.pkl"), str(marker)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        deadline = time.monotonic() + 20
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), f"the writer did not reach its transaction (exit {child.poll()})"
        journal = tmp_path / "cases.sqlite-journal"
        assert journal.stat().st_size > 0  # a hot journal: the file itself was written to
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    assert _dump(path) == before
    assert sorted(read_cases(path)["source_key"]) == ["R07", "T01", "T02"]


def test_a_store_of_another_version_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
        )
    conn.close()
    data = path.read_bytes()
    message = rf"schema version {SCHEMA_VERSION + 1}, expected {SCHEMA_VERSION}; it is left"
    with pytest.raises(CaseStoreError, match=message):
        _sync(path, _frame(_candidate("T09")))
    with pytest.raises(CaseStoreError, match=message):
        read_cases(path)
    assert path.read_bytes() == data


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_text("case_id,status\nREC-1,open\n", encoding="utf-8"),
        lambda p: sqlite3.connect(p).executescript(
            "CREATE TABLE other (x); INSERT INTO other VALUES (1);"
        ),
    ],
    ids=["text file", "another sqlite database"],
)
def test_a_file_that_is_not_a_case_store_is_refused(tmp_path: Path, make: Any) -> None:
    path = tmp_path / "cases.sqlite"
    make(path)
    data = path.read_bytes()
    with pytest.raises(CaseStoreError, match="not a case store .*move it away"):
        _sync(path, _three())
    assert path.read_bytes() == data


# ---------------------------------------------------------------------------------------------
# the lists' rows with their cases
# ---------------------------------------------------------------------------------------------
def test_with_cases_drops_closed_cases_and_keeps_rows_without_one(tmp_path: Path) -> None:
    path = tmp_path / "cases.sqlite"
    _sync(path, _three())
    closing = [{"case_id": _id(path, "T02"), "status": "closed", "outcome": "Ok", "closed": ""}]
    import_outcomes(path, _owners_file(tmp_path / "back.csv", closing), today=THURSDAY)
    listed = pd.DataFrame(
        {
            "ticket_id": ["T02", "T99", "T01"],
            "due": pd.to_datetime(["2026-11-29", "2026-11-20", "2026-11-29"]),
        }
    )
    out = with_cases(listed, read_cases(path, today=THURSDAY), "recovery", listed["ticket_id"])
    # T02 closed: gone; T99 has no case: kept with its own due (earliest first), empty id
    assert out["ticket_id"].tolist() == ["T99", "T01"]
    assert out["case_id"].tolist() == ["", _id(path, "T01")]
    assert out["case_status"].tolist() == ["open", "open"]
    assert out["due"].tolist() == [pd.Timestamp("2026-11-20"), pd.Timestamp("2026-12-01")]
    # the callback R07 is not a recovery case
    callbacks = pd.DataFrame({"response_id": ["R07"]})
    mine = with_cases(callbacks, read_cases(path), "callback", callbacks["response_id"])
    assert mine["case_id"].tolist() == [_id(path, "R07")]
    assert with_cases(callbacks, read_cases(path), "recovery", callbacks["response_id"])[
        "case_id"
    ].tolist() == [""]
