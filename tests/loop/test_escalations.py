"""Tests of csatlib.loop.escalations: which rows a rule picks, who owns them, who is withheld.

The frames carry their codebook roles in ``attrs`` as the processed tables do (the roles of
tests/loop/test_followup.py); revenue ranks come from a small revenue table of one year.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest

from csatlib.loop.accounts import AccountMatch, assign_accounts, match_accounts
from csatlib.loop.cases import CANDIDATE_COLUMNS
from csatlib.loop.escalations import escalate, revenue_ranks
from csatlib.loop.rules import DEFAULT_SERVICE_LEVELS, CaseRules, parse_case_rules

RESPONSE_ROLES = {
    "response_id": "id",
    "date": "date",
    "country": "country",
    "account": "account",
    "segment": "segment",
    "likelihood_to_recommend": "nps",
    "complaint": "complaint",
    "contact_ok": "contact_ok",
    "contact_name": "contact",
    "contact_email": "contact",
}
TICKET_ROLES = {
    "ticket_id": "id",
    "date": "date",
    "country": "country",
    "account": "account",
    "csat": "overall",
    "comment": "comment",
    "contact_ok": "contact_ok",
    "contact_name": "contact",
    "contact_email": "contact",
}
TODAY = date(2026, 10, 15)


def _responses() -> pd.DataFrame:
    rows = [  # id, day, country, account, segment, recommend, complaint, permission
        ("R1", "2026-10-01", "DE", "Acme GmbH", "Enterprise", 3, "Invoices wrong", True),
        ("R2", "2026-10-02", "DE", "Acme GmbH", "Enterprise", 5, None, False),  # withheld
        ("R3", "2026-10-03", "FR", "Bolt SA", "SMB", 2, None, True),
        ("R4", "2026-10-04", "FR", "Acme GmbH", "Enterprise", 8, "Slow", True),  # passive
        ("R5", "2026-10-05", "US", "Zeta Inc", "SMB", 10, None, True),  # promoter
        ("R6", "2026-10-06", "US", "Zeta Inc", "SMB", None, "No answer", True),  # no score
        ("R7", "2026-10-07", "US", "Yolo Inc", "SMB", 0, None, None),  # not asked: withheld
    ]
    columns = ["response_id", "date", "country", "account", "segment",
               "likelihood_to_recommend", "complaint", "contact_ok"]  # fmt: skip
    df = pd.DataFrame(rows, columns=columns)
    df["date"] = pd.to_datetime(df["date"])
    df["likelihood_to_recommend"] = df["likelihood_to_recommend"].astype("Int64")
    df["complaint"] = df["complaint"].astype("string")
    df["contact_ok"] = df["contact_ok"].astype("boolean")
    df["contact_name"] = [f"Person {i}" for i in range(1, len(df) + 1)]
    df["contact_email"] = [f"r{i}@example.com" for i in range(1, len(df) + 1)]
    df.attrs = {"roles": dict(RESPONSE_ROLES), "labels": {}, "scales": {}}
    return df


def _tickets() -> pd.DataFrame:
    rows = [  # id, day, country, account, rating, permission
        ("T1", "2026-10-10", "DE", "Acme GmbH", 1, True),
        ("T2", "2026-10-11", "DE", "Bolt SA", 1, False),  # withheld
        ("T3", "2026-10-12", "FR", "Bolt SA", 2, True),
        ("T4", "2026-10-13", "US", "Zeta Inc", None, True),  # no rating
        ("T5", "2026-10-14", "US", "Zeta Inc", 1, True),
    ]
    df = pd.DataFrame(
        rows, columns=["ticket_id", "date", "country", "account", "csat", "contact_ok"]
    )
    df["date"] = pd.to_datetime(df["date"])
    df["csat"] = df["csat"].astype("Int64")
    df["contact_ok"] = df["contact_ok"].astype("boolean")
    df["comment"] = "VERBATIM"
    df["contact_name"] = [f"Caller {i}" for i in range(1, len(df) + 1)]
    df["contact_email"] = [f"t{i}@example.com" for i in range(1, len(df) + 1)]
    df.attrs = {"roles": dict(TICKET_ROLES), "labels": {}, "scales": {"csat": [1, 5]}}
    return df


def _revenue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account": ["Acme GmbH", "Acme GmbH", "Zeta Inc", "Yolo Inc", "Bolt SA", "Bolt SA"],
            "country": ["DE", "FR", "US", "US", "FR", "FR"],
            "year": [2026, 2026, 2026, 2026, 2026, 2025],
            "revenue_usd": [4e6, 1e6, 3e6, 3e6, 1e6, 9e9],  # Bolt's 2025 is not the latest
        }
    )


@pytest.fixture(scope="module")
def match() -> AccountMatch:
    names = pd.concat([_responses()["account"], _tickets()["account"], _revenue()["account"]])
    return match_accounts(names.reset_index(drop=True))


def _key(match: AccountMatch, name: str) -> str:
    return str(assign_accounts(pd.DataFrame({"account": [name]}), match)["account_key"].iloc[0])


def _rules(*rules: dict[str, Any]) -> CaseRules:
    return parse_case_rules({"escalations": list(rules)})


def _rule(name: str, source: str, when: dict[str, Any], **extra: Any) -> dict[str, Any]:
    owner = {"responses": "account_manager", "accounts": "account_manager"}.get(
        source, "product_owner"
    )
    return {"name": name, "source": source, "when": when, "tier": 1, "owner": owner,
            "within": 1, **extra}  # fmt: skip


def _escalate(rules: CaseRules, match: AccountMatch, **kw: Any):
    ranks = revenue_ranks(_revenue(), match)
    return escalate(rules, match=match, ranks=ranks, wave="2026-Q4", today=TODAY, **kw)


def test_revenue_ranks_latest_year_summed_ties_share_the_best_rank(match: AccountMatch) -> None:
    ranks = revenue_ranks(_revenue(), match)
    # 2026: Acme 4M + 1M = 5M, Zeta 3M, Yolo 3M, Bolt 1M (its 9bn is of 2025)
    assert ranks.loc[_key(match, "Acme GmbH")].tolist() == [5e6, 1]
    assert ranks.loc[_key(match, "Zeta Inc"), "revenue_rank"] == 2
    assert ranks.loc[_key(match, "Yolo Inc"), "revenue_rank"] == 2
    assert ranks.loc[_key(match, "Bolt SA")].tolist() == [1e6, 4]
    assert revenue_ranks(None, match).empty and revenue_ranks(_revenue(), None).empty


def test_detractors_with_permission_and_the_rest_counted(match: AccountMatch) -> None:
    rules = _rules(_rule("Detractor", "responses", {"detractor": True}))
    owners = pd.DataFrame(
        {"account_manager": ["Karen Walker", "Élodie Lefèvre"],
         "manager_email": ["karen.walker@example.org", "elodie.lefevre@example.org"]},
        index=pd.Index(["R1", "R3"]),
    )  # fmt: skip
    found = _escalate(rules, match, responses=_responses(), response_owners=owners)
    cands = found.candidates
    assert list(cands.columns) == list(CANDIDATE_COLUMNS)
    # detractors 0-6: R1, R2, R3, R7; R2 declined contact and R7 was not asked
    assert cands["source_key"].tolist() == ["R1", "R3"]
    assert found.withheld.to_dict("records") == [{"rule": "Detractor", "withheld": 2}]
    assert cands["owner"].tolist() == ["Karen Walker", "Élodie Lefèvre"]
    assert cands["owner_email"].tolist() == [
        "karen.walker@example.org",
        "elodie.lefevre@example.org",
    ]
    assert cands["opened"].tolist() == [date(2026, 10, 1), date(2026, 10, 3)]  # their own date
    assert set(cands["type"]) == {"escalation"} and set(cands["tier"]) == {1}
    assert set(cands["why"]) == {rules.escalations[0].describe()}
    assert cands["account"].tolist() == ["Acme GmbH", "Bolt SA"]
    assert set(cands["wave"]) == {"2026-Q4"}


def test_contacts_hold_only_the_contact_columns(match: AccountMatch) -> None:
    rules = _rules(
        _rule("Detractor", "responses", {"detractor": True}),
        _rule("Ticket rated 1", "tickets", {"rating_max": 1}),
    )
    found = _escalate(rules, match, responses=_responses(), tickets=_tickets())
    contacts = found.contacts
    assert list(contacts.columns) == ["source_key", "rule", "contact_name", "contact_email"]
    assert contacts["source_key"].tolist() == ["R1", "R3", "T1", "T5"]
    assert contacts["contact_email"].tolist() == [
        "r1@example.com", "r3@example.com", "t1@example.com", "t5@example.com"
    ]  # fmt: skip
    text = contacts.to_csv(index=False)
    for private in ("Invoices wrong", "VERBATIM", "r2@example.com", "t2@example.com"):
        assert private not in text
    assert not found.candidates.apply(lambda c: c.astype(str).str.contains("@example.com")).any(
        axis=None
    )  # no respondent's address among the cases (owners are not set: no mapping given)


def test_revenue_rank_max(match: AccountMatch) -> None:
    top = _rules(_rule("Top detractor", "responses", {"detractor": True, "revenue_rank_max": 1}))
    found = _escalate(top, match, responses=_responses())
    assert found.candidates["source_key"].tolist() == ["R1"]  # Acme is rank 1; Bolt rank 4
    assert found.withheld["withheld"].tolist() == [1]  # R2 (Acme); R7's Yolo is rank 2
    two = _rules(_rule("Top-2 detractor", "responses", {"detractor": True, "revenue_rank_max": 2}))
    assert _escalate(two, match, responses=_responses()).withheld["withheld"].tolist() == [2]
    rich = _rules(_rule("Rich", "responses", {"revenue_min": 3_000_000}))
    # Acme (5M) and Zeta (3M) with permission: R1, R4, R5, R6
    rows = _escalate(rich, match, responses=_responses()).candidates["source_key"]
    assert rows.tolist() == ["R1", "R4", "R5", "R6"]
    no_ranks = escalate(top, responses=_responses(), match=match, today=TODAY)
    assert no_ranks.candidates.empty  # without revenue a revenue criterion matches nothing


def test_complaint_country_segment_and_nps_categories(match: AccountMatch) -> None:
    def keys(when: dict[str, Any]) -> list[str]:
        rules = _rules(_rule("Rule", "responses", when))
        return _escalate(rules, match, responses=_responses()).candidates["source_key"].tolist()

    assert keys({"complaint": True}) == ["R1", "R4", "R6"]
    assert keys({"complaint": True, "detractor": True}) == ["R1"]
    assert keys({"complaint": False, "promoter": True}) == ["R5"]
    assert keys({"passive": True}) == ["R4"]
    assert keys({"detractor": False, "country": ["US"]}) == ["R5", "R6"]  # no score: not one
    assert keys({"segment": "SMB"}) == ["R3", "R5", "R6"]


def test_tickets_by_rating_owned_by_the_product_owner(match: AccountMatch) -> None:
    rules = _rules(_rule("Ticket rated 1", "tickets", {"rating_max": 1}, within=2))
    owners = pd.DataFrame(
        {"Owner": ["Pat Ng", "Lee Roy"], "Owner e-mail": ["pat.ng@example.org", "lee@example.org"]},
        index=pd.Index(["T1", "T9"]),
    )
    found = _escalate(rules, match, tickets=_tickets(), ticket_owners=owners)
    cands = found.candidates
    assert cands["source_key"].tolist() == ["T1", "T5"]  # T2 withheld, T4 has no rating
    assert found.withheld["withheld"].tolist() == [1]
    assert cands["owner"].tolist() == ["Pat Ng", ""]  # T5's product is not in the mapping
    assert cands["owner_email"].tolist() == ["pat.ng@example.org", ""]
    assert cands["opened"].tolist() == [date(2026, 10, 10), date(2026, 10, 14)]
    two = _rules(_rule("Ticket 1-2 in FR", "tickets", {"rating_max": 2, "country": "FR"}))
    assert _escalate(two, match, tickets=_tickets()).candidates["source_key"].tolist() == ["T3"]


def _at_risk(match: AccountMatch) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_key": [_key(match, n) for n in ("Acme GmbH", "Bolt SA", "Zeta Inc")],
            "account_name": ["Acme GmbH", "Bolt SA", "Zeta Inc"],
            "country": ["DE", "FR", "US"],
            "declined": pd.array([True, True, pd.NA], dtype="boolean"),
            "business_units": ["Compute; Networking", "Services", ""],
            "account_manager": ["Karen Walker", "Élodie Lefèvre", "Sam Hill"],
            "manager_email": ["karen@example.org", "elodie@example.org", "sam@example.org"],
            "respondents": [5, 4, 3],
        }
    )


def test_accounts_that_declined(match: AccountMatch) -> None:
    declined = _rules(_rule("Falling", "accounts", {"declined": True}))
    found = _escalate(declined, match, at_risk=_at_risk(match))
    cands = found.candidates
    assert cands["account"].tolist() == ["Acme GmbH", "Bolt SA"]  # Zeta's trend unknown
    assert cands["source_key"].tolist() == [
        f"{_key(match, 'Acme GmbH')}|DE|2026-Q4",
        f"{_key(match, 'Bolt SA')}|FR|2026-Q4",
    ]
    assert cands["owner"].tolist() == ["Karen Walker", "Élodie Lefèvre"]
    assert cands["business_units"].tolist() == ["Compute; Networking", "Services"]
    assert set(cands["opened"]) == {TODAY}
    assert found.withheld.empty and found.contacts.empty  # accounts: no person
    vp = _rules(
        _rule("Falling top account", "accounts", {"declined": True, "revenue_rank_max": 1},
              owner="VP Sales", owner_email="vp.sales@example.org")
    )  # fmt: skip
    cands = _escalate(vp, match, at_risk=_at_risk(match)).candidates
    assert cands[["account", "owner", "owner_email"]].values.tolist() == [
        ["Acme GmbH", "VP Sales", "vp.sales@example.org"]
    ]
    steady = _rules(_rule("Steady", "accounts", {"declined": False, "country": ["US", "FR"]}))
    assert _escalate(steady, match, at_risk=_at_risk(match)).candidates["account"].tolist() == [
        "Zeta Inc"
    ]  # <NA>: not a decline


def test_a_rule_whose_source_is_missing_matches_nothing(match: AccountMatch) -> None:
    rules = _rules(
        _rule("Detractor", "responses", {"detractor": True}),
        _rule("Ticket rated 1", "tickets", {"rating_max": 1}),
        _rule("Falling", "accounts", {"declined": True}),
    )
    found = _escalate(rules, match, responses=_responses())  # no tickets, no at-risk list
    assert set(found.candidates["rule"]) == {"Detractor"}
    assert found.withheld["rule"].tolist() == ["Detractor"]
    no_ids = _responses()
    no_ids.attrs = {"roles": {k: v for k, v in RESPONSE_ROLES.items() if v != "id"}}
    nothing = _escalate(rules, match, responses=no_ids, at_risk=_at_risk(match).iloc[:0])
    assert nothing.candidates.empty and list(nothing.candidates.columns) == list(CANDIDATE_COLUMNS)
    assert list(nothing.contacts.columns) == ["source_key", "rule"]
    none = escalate(CaseRules(DEFAULT_SERVICE_LEVELS), responses=_responses(), today=TODAY)
    assert none.candidates.empty and none.withheld.empty
