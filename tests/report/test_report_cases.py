"""Tests of csatlib.report.cases: a report's follow-up cases, their table, note and digests.

A small store is written with csatlib.loop.cases.sync_cases (five cases in three countries, two
with business units) so every count is known; sync_for_build runs once on the sample study.
Weekdays checked with a calendar: 2026-11-27 is a Friday.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from csatlib import config
from csatlib.ingest.clean import build_processed
from csatlib.loop.cases import (
    CANDIDATE_COLUMNS,
    CASES_FILE,
    import_outcomes,
    last_sync,
    read_cases,
    sync_cases,
)
from csatlib.loop.rules import DEFAULT_SERVICE_LEVELS, CaseRules, ServiceLevel
from csatlib.report.cases import (
    case_display,
    case_note,
    store_digest,
    sync_for_build,
    unit_cases,
    unit_digest,
)

RULES = CaseRules(
    service_levels={**DEFAULT_SERVICE_LEVELS, "recovery": ServiceLevel(2, "business")}
)
FRIDAY, MONDAY, THURSDAY = date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 3)
LATER = date(2026, 12, 10)
COLUMNS = ["Open", "Overdue", "Closed", "Closed within the service level"]


def _case(case_type: str, key: str, country: str, units: str = "", **fields: Any) -> dict:
    return {
        "type": case_type, "rule": "", "tier": pd.NA, "source_key": key, "country": country,
        "account": "Acme", "business_units": units, "wave": "2026-Q4", "why": "listed",
        "owner": "Anna", "owner_email": "anna@example.org", "opened": MONDAY, **fields,
    }  # fmt: skip


CASES = pd.DataFrame(
    [
        _case("recovery", "T01", "DE", opened=FRIDAY),  # due Tue 12-01
        _case("callback", "R01", "DE"),  # due 12-05 (5 calendar days)
        _case("at_risk", "acme|FR|2026-Q4", "FR", "Compute; Networking"),  # due 12-14
        _case("escalation", "acme|FR|2026-Q4", "FR", "Services", rule="Falling", tier=1),
        _case("recovery", "T02", "US"),  # due Wed 12-02
    ],
    columns=list(CANDIDATE_COLUMNS),
)


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    sync_cases(folder / CASES_FILE, CASES, RULES, today=MONDAY)
    return folder


def _ids(reports: Path) -> dict[str, str]:
    cases = read_cases(reports / CASES_FILE)
    return dict(zip(cases["source_key"] + "/" + cases["type"], cases["case_id"], strict=True))


def _close(reports: Path, rows: list[tuple[str, str]], name: str = "back.csv") -> None:
    """Close cases (id, closing date) by an owners' import on LATER."""
    file = reports.parent / name
    pd.DataFrame(
        [{"Case": c, "Status": "closed", "Outcome": "Called", "Closed": d} for c, d in rows]
    ).to_csv(file, index=False)
    import_outcomes(reports / CASES_FILE, file, today=LATER)


def test_unit_cases_by_country_and_business_unit(reports: Path) -> None:
    cases = read_cases(reports / CASES_FILE, today=THURSDAY)

    def keys(*args: str, **kw: str) -> list[str]:
        mine = unit_cases(cases, *args, **kw)
        assert mine is not None
        return sorted(mine["source_key"] + "/" + mine["type"])

    assert keys("country", "DE") == ["R01/callback", "T01/recovery"]
    assert keys("country", "JP") == []
    # a business unit's cases: its label as the cases carry it (one of several units)
    assert keys("business_unit", "compute", label="Compute") == ["acme|FR|2026-Q4/at_risk"]
    assert keys("business_unit", "networking", label="Networking") == ["acme|FR|2026-Q4/at_risk"]
    assert keys("business_unit", "services", label="Services") == ["acme|FR|2026-Q4/escalation"]
    # without a label the value itself; a case with no business unit is nobody's
    assert keys("business_unit", "Compute") == ["acme|FR|2026-Q4/at_risk"]
    assert keys("business_unit", "compute") == []
    # a cross-cut: the business unit's cases in one country
    assert keys("business_unit", "compute", label="Compute", within="country=FR") == [
        "acme|FR|2026-Q4/at_risk"
    ]
    assert keys("business_unit", "compute", label="Compute", within="country=DE") == []
    assert unit_cases(cases, "segment", "SMB") is None  # not tracked by segment
    assert unit_cases(cases, "country", "DE", within="segment=SMB") is None


def test_case_display_counts_per_type(reports: Path) -> None:
    table = case_display(reports, "country", "DE", label="Germany", today=THURSDAY)
    assert list(table.columns) == COLUMNS and table.columns.name == "Case type"
    assert table.index.tolist() == ["Recovery calls", "Complaint callbacks", "All cases"]
    # Thursday 12-03: T01 (due 12-01) is 2 days late, R01 (due 12-05) is not yet
    assert table["Open"].tolist() == [1, 1, 2]
    assert table["Overdue"].tolist() == [1, 0, 1]
    assert table["Closed"].tolist() == [0, 0, 0]
    assert set(table["Closed within the service level"]) == {"none closed yet"}
    ids = _ids(reports)
    _close(reports, [(ids["T01/recovery"], "2026-12-03"), (ids["R01/callback"], "2026-12-04")])
    table = case_display(reports, "country", "DE", today=LATER)
    assert table["Open"].tolist() == [0, 0, 0] and table["Closed"].tolist() == [1, 1, 2]
    assert table["Closed within the service level"].tolist() == [
        "0 of 1 (0%)",  # closed 12-03, due 12-01
        "1 of 1 (100%)",  # closed 12-04, due 12-05
        "1 of 2 (50%)",
    ]
    units = case_display(reports, "business_unit", "compute", label="Compute", today=LATER)
    assert units.index.tolist() == [
        "Accounts at risk (one case per account and country)",
        "All cases",
    ]
    assert units["Open"].tolist() == [1, 1] and units["Overdue"].tolist() == [0, 0]


def test_no_table_and_a_note_saying_why(reports: Path, tmp_path: Path) -> None:
    nowhere = tmp_path / "no_reports"
    empty = case_display(nowhere, "country", "DE")
    assert empty.empty and list(empty.columns) == COLUMNS
    assert case_note(nowhere, "country", empty) == (
        "No case store yet: `make reports` opens the follow-up cases."
    )
    by_segment = case_display(reports, "segment", "SMB")
    assert by_segment.empty
    assert case_note(reports, "segment", by_segment).startswith(
        "Follow-up cases are tracked by country and business unit"
    )
    japan = case_display(reports, "country", "JP")
    assert japan.empty
    assert case_note(reports, "country", japan) == "No follow-up case for this unit."
    germany = case_display(reports, "country", "DE", today=THURSDAY)
    assert case_note(reports, "country", germany).startswith(
        "Cases are opened by each build from the lists"
    )


def test_digests_change_when_the_cases_do(reports: Path, tmp_path: Path) -> None:
    assert unit_digest(tmp_path / "no_reports", "country", "DE") == ""
    assert store_digest(tmp_path / "no_reports") == ""
    assert unit_digest(reports, "country", "JP") == ""  # no case
    assert unit_digest(reports, "segment", "SMB") == ""  # not tracked
    germany, france = unit_digest(reports, "country", "DE"), unit_digest(reports, "country", "FR")
    store = store_digest(reports, today=THURSDAY)
    assert re.fullmatch("[0-9a-f]{16}", germany) and germany != france
    # a build that only sees the cases again changes nothing a report shows
    sync_cases(reports / CASES_FILE, CASES, RULES, today=THURSDAY)
    assert unit_digest(reports, "country", "DE") == germany
    assert store_digest(reports, today=THURSDAY) == store
    _close(reports, [(_ids(reports)["T01/recovery"], "2026-12-03")])
    assert unit_digest(reports, "country", "DE") != germany
    assert unit_digest(reports, "country", "FR") == france  # not its case
    assert store_digest(reports, today=THURSDAY) != store
    # an open case becoming overdue changes the lists' fingerprint too
    assert store_digest(reports, today=date(2026, 12, 4)) != store_digest(reports, today=LATER)


def test_sync_for_build_syncs_once_per_inputs(tmp_path: Path) -> None:
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    build_processed(config.RAW_DIR, processed)
    note = sync_for_build(processed, reports, aliases_path=config.ACCOUNT_ALIASES)
    total = len(read_cases(reports / CASES_FILE))
    assert total > 0
    assert note == (
        f"Follow-up cases: {total:,} opened by this build, 0 seen again; {total:,} in the store."
    )
    mark = last_sync(reports / CASES_FILE)
    assert mark and re.fullmatch("[0-9a-f]{64}", mark)
    assert sync_for_build(processed, reports, aliases_path=config.ACCOUNT_ALIASES) == ""
    assert last_sync(reports / CASES_FILE) == mark
    # another wave is another input: synced again, the cases of the latest wave stay
    again = sync_for_build(processed, reports, wave="2026-Q2", aliases_path=config.ACCOUNT_ALIASES)
    assert again.startswith("Follow-up cases: ") and last_sync(reports / CASES_FILE) != mark
    assert len(read_cases(reports / CASES_FILE)) >= total


def test_case_block_never_shows_a_table_with_headers_only() -> None:
    from csatlib.report.cases import case_block

    empty = case_block(pd.DataFrame(columns=["Open", "Overdue"]), "No follow-up case for <this>.")
    assert "<table" not in empty.markup
    assert "No follow-up case for &lt;this&gt;." in empty.markup
    table = pd.DataFrame({"Open": [2]}, index=pd.Index(["<b>Recovery calls</b>"]))
    shown = case_block(table, "Cases are opened by each build.")
    assert "<table" in shown.markup and "&lt;b&gt;Recovery calls&lt;/b&gt;" in shown.markup
    assert shown.markup.index("<table") < shown.markup.index("Cases are opened")
