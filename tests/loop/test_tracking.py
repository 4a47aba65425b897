"""Tests of csatlib.loop.tracking: the sample study's cases are the lists' rows, and the lists
follow the store (a case closed by its owner leaves the list at the next build).

The sample study (data/raw) is processed and synced once for the module, judged on a fixed day
after its newest ticket (2026-09-30); tests that change the store work on a copy.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from csatlib import config
from csatlib.ingest.clean import build_processed
from csatlib.loop.cases import CASES_FILE, SyncResult, import_outcomes, read_cases
from csatlib.loop.lists import LoopStudy, build_lists, load_loop_study
from csatlib.loop.rules import CaseRules, load_case_rules
from csatlib.loop.tracking import (
    OPEN_CASE_HEADERS,
    at_risk_keys,
    escalations_of,
    propose_cases,
    readme_lines,
    sync_study_cases,
)

TODAY = date(2026, 10, 15)


@dataclass(frozen=True)
class Sample:
    root: Path
    processed: Path
    store: Path
    rules: CaseRules
    study: LoopStudy
    synced: SyncResult
    cases: pd.DataFrame


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    root = tmp_path_factory.mktemp("tracking")
    processed, store = root / "processed", root / CASES_FILE
    build_processed(config.RAW_DIR, processed)
    rules = load_case_rules(config.CASE_RULES)
    synced = sync_study_cases(
        processed, store, aliases_path=config.ACCOUNT_ALIASES, rules=rules, today=TODAY
    )
    study = load_loop_study(processed, aliases_path=config.ACCOUNT_ALIASES)
    cases = read_cases(store, today=TODAY)
    return Sample(root, processed, store, rules, study, synced, cases)


def _lists(sample: Sample, store: Path, name: str) -> Path:
    out = sample.root / name
    build_lists(
        sample.processed, out, aliases_path=config.ACCOUNT_ALIASES, cases_path=store,
        rules=sample.rules, today=TODAY,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def lists(sample: Sample) -> Path:
    return _lists(sample, sample.store, "lists")


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _of(cases: pd.DataFrame, case_type: str) -> pd.DataFrame:
    return cases.loc[(cases["type"] == case_type) & (cases["rule"] == "")]


def test_the_store_holds_one_case_per_proposal(sample: Sample) -> None:
    assert sample.synced.opened == sample.synced.total == len(sample.cases) > 0
    again = propose_cases(sample.study, sample.rules, today=TODAY)
    assert len(again) == len(sample.cases)  # the same proposals: every one already a case
    assert set(sample.cases["status"]) == {"open"} and sample.cases["case_id"].is_unique


def test_at_risk_cases_are_the_at_risk_list(sample: Sample, lists: Path) -> None:
    at_risk = sample.study.at_risk_list()
    mine = _of(sample.cases, "at_risk").set_index("source_key")
    keys = at_risk_keys(at_risk, sample.study.wave or "")
    assert sample.study.wave == "2026-Q3"  # the sample's latest wave
    assert sorted(mine.index) == sorted(keys)
    assert len(mine) == len(_csv(lists / "accounts" / "at_risk_all.csv")) > 0
    owner = pd.Series(at_risk["account_manager"].astype(str).to_numpy(), index=keys.to_numpy())
    assert (mine["owner"] == owner.reindex(mine.index)).all()
    assert set(mine["opened"]) == {TODAY}  # an account's first listing
    # at risk: 10 business days (data/raw/case_rules.yaml); 2026-10-15 is a Thursday
    assert set(mine["due"]) == {date(2026, 10, 29)}


def test_recovery_and_callback_cases_are_the_lists_rows(sample: Sample, lists: Path) -> None:
    for case_type, file, key in (
        ("recovery", "recovery_all.csv", "Ticket"),
        ("callback", "callback_all.csv", "Response ID"),
    ):
        listed = _csv(lists / "followup" / file)
        mine = _of(sample.cases, case_type).set_index("source_key")
        assert sorted(listed[key]) == sorted(mine.index), case_type
        # every row carries its case, and the case's due date (its service level)
        assert (listed["Case"] == mine.loc[listed[key], "case_id"].to_numpy()).all()
        assert set(listed["Status"]) == {"open"}
        assert (listed["Due"] == mine.loc[listed[key], "due"].astype(str).to_numpy()).all()


def test_escalations_follow_the_sample_rules(sample: Sample) -> None:
    escalated = sample.cases.loc[sample.cases["type"] == "escalation"]
    assert set(escalated["rule"]) <= {r.name for r in sample.rules.escalations}
    falling = escalated.loc[escalated["rule"] == "Falling top-20 account"]
    assert set(falling["owner"]) <= {"VP Sales"} and set(falling["owner_email"]) <= {
        "vp.sales@example.org"
    }  # the rule's own owner (data/raw/case_rules.yaml)
    tickets = escalated.loc[escalated["rule"] == "Ticket rated 1"]
    rated = sample.study.transactions.set_index("ticket_id")["csat"]
    assert len(tickets) > 0 and (rated.loc[tickets["source_key"]] == 1).all()
    found = escalations_of(sample.study, sample.rules, sample.study.at_risk_list(), today=TODAY)
    assert len(found.candidates) == len(escalated)
    assert list(found.contacts.columns) == ["source_key", "rule", "contact_name", "contact_email"]


def test_open_case_lists_per_owner_without_respondents(sample: Sample, lists: Path) -> None:
    open_cases = _csv(lists / "cases" / "open_cases.csv")
    assert list(open_cases.columns) == list(OPEN_CASE_HEADERS.values())
    assert len(open_cases) == len(sample.cases)
    days = pd.to_numeric(open_cases["Days overdue"])
    assert days.is_monotonic_decreasing  # overdue first
    owners = sorted((lists / "cases" / "by_owner").glob("*.csv"))
    assert sum(len(_csv(p)) for p in owners) == len(open_cases)
    anna = _csv(lists / "cases" / "by_owner" / "anna-fischer.csv")
    assert len(anna) > 0 and set(anna["Owner"]) == {"Anna Fischer"}
    # no respondent's or ticket's contact: owners' addresses only (organisation.yaml, rules)
    org = set(re.findall(r"[\w.+-]+@[\w.-]+", (config.RAW_DIR / "organisation.yaml").read_text()))
    assert set(open_cases["Owner e-mail"]) - {""} <= org | {"vp.sales@example.org"}
    people = set()
    for table in (sample.study.responses, sample.study.transactions):
        people |= set(table["contact_email"].dropna().astype(str))
    text = (lists / "cases" / "open_cases.csv").read_text(encoding="utf-8-sig")
    assert "@example.com" not in text
    cells = set(open_cases.to_numpy().ravel())
    assert not (people - org) & cells
    # the escalation list is where a permitted respondent's contact goes
    escalations = _csv(lists / "escalations" / "escalations_all.csv")
    assert escalations["Contact email"].str.endswith("@example.com").any()


def test_readme_lines(sample: Sample) -> None:
    found = escalations_of(sample.study, sample.rules, sample.study.at_risk_list(), today=TODAY)
    lines = readme_lines(sample.cases, found, sample.rules, today=TODAY)
    overdue = int(sample.cases["overdue"].sum())
    assert lines[0].startswith(
        f"On 2026-10-15 the case store holds {len(sample.cases)} case(s): "
        f"{len(sample.cases)} open ({overdue} overdue) and 0 closed."
    )
    assert lines[1].startswith(
        "Service levels: recovery call within 2 business days; complaint callback within 1 "
        "business day; account at risk within 10 business days of opening"
    )  # data/raw/case_rules.yaml
    assert len(lines) == 2 + len(sample.rules.escalations)
    held = found.withheld.set_index("rule")["withheld"]
    detractor = "Detractor at a top-10 account"
    assert f"{held[detractor]} more matched without permission" in lines[2]
    assert held[detractor] > 0


def test_a_case_closed_by_its_owner_leaves_the_lists(sample: Sample, lists: Path) -> None:
    store = sample.root / "closed" / CASES_FILE
    store.parent.mkdir()
    shutil.copy(sample.store, store)
    recovery = _csv(lists / "followup" / "recovery_all.csv")
    at_risk = _csv(lists / "accounts" / "at_risk_all.csv")
    ticket, closed_case = recovery["Ticket"].iloc[0], recovery["Case"].iloc[0]
    account_case = at_risk["Case"].iloc[0]
    back = store.parent / "back.csv"
    pd.DataFrame(
        {"Case": [closed_case, account_case], "Status": ["closed", "in progress"],
         "Outcome": ["Part replaced", ""], "Closed": ["2026-10-14", ""]}
    ).to_csv(back, index=False)  # fmt: skip
    import_outcomes(store, back, today=TODAY)
    # the next build: synced again (the same proposals), then the lists
    assert sync_study_cases(
        sample.processed, store, aliases_path=config.ACCOUNT_ALIASES, rules=sample.rules,
        today=TODAY,
    ) == SyncResult(opened=0, seen=len(sample.cases), total=len(sample.cases))  # fmt: skip
    out = _lists(sample, store, "lists_after")
    after = _csv(out / "followup" / "recovery_all.csv")
    assert ticket not in set(after["Ticket"])
    assert sorted(after["Ticket"]) == sorted(set(recovery["Ticket"]) - {ticket})
    accounts = _csv(out / "accounts" / "at_risk_all.csv").set_index("Case")
    assert len(accounts) == len(at_risk)  # in progress: still listed
    assert accounts.loc[account_case, "Status"] == "in progress"
    open_cases = _csv(out / "cases" / "open_cases.csv")
    assert closed_case not in set(open_cases["Case"])
    assert len(open_cases) == len(sample.cases) - 1
    cases = read_cases(store, today=TODAY).set_index("case_id")
    assert cases.loc[closed_case, ["status", "outcome"]].tolist() == ["closed", "Part replaced"]
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert f"{len(sample.cases) - 1} open" in " ".join(readme.split())
