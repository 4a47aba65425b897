"""Tests of csatlib.loop.rules: case_rules.yaml, its service levels and escalation rules.

Every malformed file is refused with a CaseRulesError naming the file, the line and the key;
the line numbers asserted are those of the YAML texts written here (line 1 is the first line).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from csatlib import config
from csatlib.loop.rules import (
    DEFAULT_SERVICE_LEVELS,
    CaseRules,
    CaseRulesError,
    ServiceLevel,
    load_case_rules,
)

FULL = """\
service_levels:
  recovery: {within: 2, days: business}
  callback: {within: 3, days: calendar}
escalations:
  - name: Detractor at a top-20 account
    source: responses
    when: {detractor: true, revenue_rank_max: 20}
    tier: 1
    owner: account_manager
    within: 1
    days: business
  - name: Low ticket in DE or FR
    source: tickets
    when: {rating_max: 2, country: [DE, FR]}
    tier: 2
    owner: product_owner
    within: 3
    days: calendar
  - name: Falling big account
    source: accounts
    when: {declined: true, revenue_min: 1000000}
    tier: 1
    owner: VP Sales
    owner_email: vp.sales@example.org
    within: 5
"""

# One escalation rule, complete: the error cases replace or drop one of its lines.
RULE = [
    "escalations:",  # line 1
    "  - name: Detractor",  # line 2
    "    source: responses",  # line 3
    "    when: {detractor: true}",  # line 4
    "    tier: 1",  # line 5
    "    owner: account_manager",  # line 6
    "    within: 1",  # line 7
]


def _load(tmp_path: Path, text: str) -> CaseRules:
    path = tmp_path / "case_rules.yaml"
    path.write_text(text, encoding="utf-8")
    return load_case_rules(path)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(CaseRulesError) as caught:
        _load(tmp_path, text)
    message = str(caught.value)
    assert message.startswith("case rules 'case_rules.yaml', line ")
    return message


def _rule(**changes: str | None) -> str:
    """RULE with a line replaced (key: new text) or dropped (key: None)."""
    lines = []
    for line in RULE:
        key = line.strip().removeprefix("- ").split(":")[0]
        if key in changes:
            if changes[key] is None:
                continue
            line = line.split(key)[0] + changes[key]
        lines.append(line)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# defaults and a valid file
# ---------------------------------------------------------------------------------------------
def test_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(config, "CASE_RULES", tmp_path / "case_rules.yaml")  # does not exist
    rules = load_case_rules()
    assert rules.escalations == ()
    assert dict(rules.service_levels) == dict(DEFAULT_SERVICE_LEVELS)
    # the follow-up lists' response days (csatlib.loop.followup.RESPONSE_DAYS), calendar days
    assert rules.level("recovery") == ServiceLevel(2, "calendar")
    assert rules.level("callback") == ServiceLevel(5, "calendar")
    assert rules.level("at_risk") == ServiceLevel(14, "calendar")


def test_a_path_given_explicitly_must_exist(tmp_path: Path) -> None:
    with pytest.raises(CaseRulesError, match="nowhere.yaml.* not found"):
        load_case_rules(tmp_path / "nowhere.yaml")


def test_an_empty_file_is_the_defaults(tmp_path: Path) -> None:
    rules = _load(tmp_path, "# nothing yet\n")
    assert rules.escalations == () and dict(rules.service_levels) == dict(DEFAULT_SERVICE_LEVELS)


def test_a_full_file(tmp_path: Path) -> None:
    rules = _load(tmp_path, FULL)
    assert rules.path == tmp_path / "case_rules.yaml"
    assert rules.level("recovery") == ServiceLevel(2, "business")
    assert rules.level("callback") == ServiceLevel(3, "calendar")
    assert rules.level("at_risk") == DEFAULT_SERVICE_LEVELS["at_risk"]  # not in the file
    detractor, ticket, account = rules.escalations
    assert (detractor.source, detractor.tier, detractor.owner) == (
        "responses",
        1,
        "account_manager",
    )
    assert dict(detractor.when) == {"detractor": True, "revenue_rank_max": 20}
    assert dict(ticket.when) == {"rating_max": 2, "country": ("DE", "FR")}
    assert ticket.level == ServiceLevel(3, "calendar")
    assert account.owner_email == "vp.sales@example.org"
    assert account.level == ServiceLevel(5, "business")  # days default: business
    assert dict(account.when) == {"declined": True, "revenue_min": 1_000_000.0}
    # an escalation's service level is its rule's; without the rule the type's default
    assert rules.level("escalation", "Low ticket in DE or FR") == ServiceLevel(3, "calendar")
    assert rules.level("escalation") == DEFAULT_SERVICE_LEVELS["escalation"]
    # opened Monday 2026-11-23 + 3 calendar days
    assert rules.due("escalation", date(2026, 11, 23), "Low ticket in DE or FR") == date(
        2026, 11, 26
    )


def test_the_sample_rules_load() -> None:
    rules = load_case_rules(config.DEFAULT_RAW_DIR / "case_rules.yaml")
    assert [r.name for r in rules.escalations] == [
        "Detractor at a top-10 account",
        "Falling top-20 account",
        "Ticket rated 1",
    ]  # data/raw/case_rules.yaml
    assert rules.level("at_risk") == ServiceLevel(10, "business")


def test_describe_says_the_rule_in_one_sentence(tmp_path: Path) -> None:
    detractor, ticket, account = _load(tmp_path, FULL).escalations
    assert detractor.describe() == (
        "Detractor at a top-20 account (tier 1, relationship survey): a detractor (0–6) and an "
        "account among the top 20 by revenue → account manager, within 1 business day"
    )
    assert ticket.describe() == (
        "Low ticket in DE or FR (tier 2, transaction survey): a rating of 2 or lower and country "
        "DE or FR → product owner, within 3 calendar days"
    )
    assert account.describe() == (
        "Falling big account (tier 1, accounts at risk): a significant NPS decline since the "
        "previous wave and account revenue of at least 1,000,000 → VP Sales, within 5 business "
        "days"
    )
    text = "\n".join(RULE[:3] + ["    when: {detractor: false, complaint: true}"] + RULE[4:])
    (rule,) = _load(tmp_path, text + "\n").escalations
    assert "not a detractor (0–6) and a written complaint" in rule.describe()


# ---------------------------------------------------------------------------------------------
# service levels: business and calendar days
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("opened", "within", "due"),
    [
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 business day = Monday
        (date(2026, 11, 28), 1, date(2026, 12, 1)),  # Saturday: worked Monday, due Tuesday
        (date(2026, 11, 29), 1, date(2026, 12, 1)),  # Sunday: as Saturday
        (date(2026, 11, 28), 0, date(2026, 11, 30)),  # Saturday, same business day: Monday
        (date(2026, 11, 23), 10, date(2026, 12, 7)),  # Monday + 10 business days: 2 weeks
        (date(2026, 11, 26), 2, date(2026, 11, 30)),  # Thursday + 2 (no holidays known)
    ],
)  # weekdays checked with a calendar: 2026-11-27 is a Friday
def test_business_days_skip_the_weekend(opened: date, within: int, due: date) -> None:
    assert ServiceLevel(within, "business").due(opened).astype(object) == due


def test_calendar_days_count_the_weekend() -> None:
    level = ServiceLevel(2, "calendar")
    assert level.due(date(2026, 11, 27)).astype(object) == date(2026, 11, 29)  # Friday -> Sunday
    opened = np.array(["2026-11-27", "2026-11-28"], dtype="datetime64[D]")
    assert level.due(opened).tolist() == [date(2026, 11, 29), date(2026, 11, 30)]
    assert ServiceLevel(1, "business").due(opened).tolist() == [
        date(2026, 11, 30),
        date(2026, 12, 1),
    ]


def test_words() -> None:
    assert ServiceLevel(1, "business").words() == "1 business day"
    assert ServiceLevel(14, "calendar").words() == "14 calendar days"


# ---------------------------------------------------------------------------------------------
# every problem names the file, the line and the key
# ---------------------------------------------------------------------------------------------
def test_unknown_key_with_a_suggestion(tmp_path: Path) -> None:
    message = _error(tmp_path, "service_levels:\n  recovery: {within: 2, dayz: business}\n")
    assert "line 2" in message and "unknown key 'dayz' (did you mean 'days'?)" in message
    message = _error(tmp_path, "servce_levels:\n  recovery: {within: 2}\n")
    assert "line 1" in message and "did you mean 'service_levels'?" in message
    message = _error(tmp_path, "service_levels:\n  recovry: {within: 2}\n")
    assert "line 2" in message and "did you mean 'recovery'?" in message
    message = _error(tmp_path, _rule(tier="tire: 1"))
    assert "line 5" in message and "unknown key 'tire' (did you mean 'tier'?)" in message


@pytest.mark.parametrize("within", ["-1", "two", "1.5", "true"])
def test_bad_within(tmp_path: Path, within: str) -> None:
    message = _error(tmp_path, f"service_levels:\n  at_risk:\n    within: {within}\n")
    assert "line 3, service level 'at_risk': 'within' must be a whole number >= 0" in message
    message = _error(tmp_path, _rule(within=f"within: {within}"))
    assert "line 7, escalation 'Detractor': 'within' must be a whole number >= 0" in message


def test_bad_days(tmp_path: Path) -> None:
    message = _error(tmp_path, "service_levels:\n  recovery: {within: 2, days: weekdays}\n")
    assert "line 2" in message
    assert "'days' must be 'business' or 'calendar', found 'weekdays'" in message
    message = _error(tmp_path, _rule() + "    days: working\n")
    assert "line 8" in message and "found 'working'" in message


@pytest.mark.parametrize("key", ["name", "source", "when", "tier", "owner", "within"])
def test_a_rule_without_a_required_key(tmp_path: Path, key: str) -> None:
    text = _rule(**{key: None})
    if key == "name":  # the list item starts with the source then
        text = text.replace("    source:", "  - source:")
    message = _error(tmp_path, text)
    # the line of the rule's first key (the name's, or the source's without a name): line 2
    assert f"line 2, escalation 1: '{key}' is missing" in message


def test_bad_tier(tmp_path: Path) -> None:
    message = _error(tmp_path, _rule(tier="tier: 0"))
    assert "line 5, escalation 'Detractor': 'tier' must be a whole number >= 1, found 0" in message


def test_duplicate_rule_name(tmp_path: Path) -> None:
    message = _error(tmp_path, _rule() + "\n".join(RULE[1:]) + "\n")
    assert "line 8, escalation 2: the name 'Detractor' is used twice" in message


def test_duplicate_rule_name_with_blanks_around_it(tmp_path: Path) -> None:
    # the names are stripped: "Detractor " would be the same rule to the case ids
    second = "\n".join(['  - name: "Detractor "', *RULE[2:]])
    message = _error(tmp_path, _rule() + second + "\n")
    assert "line 8, escalation 2: the name 'Detractor' is used twice" in message


def test_criterion_not_allowed_for_the_source(tmp_path: Path) -> None:
    message = _error(tmp_path, _rule(when="when: {rating_max: 2}"))
    assert "line 4, escalation 'Detractor' (source responses): unknown key 'rating_max'" in message
    assert "allowed: complaint, country, detractor" in message
    text = _rule(source="source: tickets", owner="owner: product_owner")
    message = _error(tmp_path, text)  # detractor: not a ticket's criterion
    assert "line 4, escalation 'Detractor' (source tickets): unknown key 'detractor'" in message


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{detractor: yes}", "'detractor' must be true or false, found 'yes'"),
        ("{revenue_rank_max: 0}", "'revenue_rank_max' must be a whole number >= 1, found 0"),
        ("{revenue_min: -5}", "'revenue_min' must be a number >= 0, found -5"),
        ("{country: []}", "'country' must be a text or a list of texts, found []"),
        ("{}", "'when' must be a non-empty mapping of criteria"),
    ],
)
def test_bad_criterion_value(tmp_path: Path, when: str, expected: str) -> None:
    message = _error(tmp_path, _rule(when=f"when: {when}"))
    assert "line 4" in message and expected in message


def test_owner_role_must_match_the_source(tmp_path: Path) -> None:
    message = _error(tmp_path, _rule(owner="owner: product_owner"))
    assert "line 6, escalation 'Detractor': 'product_owner' cannot own a rule on responses" in (
        message
    )
    assert "the account manager of responses" in message
    text = _rule(source="source: tickets", when="when: {rating_max: 1}")
    message = _error(tmp_path, text)  # account_manager on tickets
    assert "line 6" in message and "the product owner of tickets" in message


def test_bad_owner_email(tmp_path: Path) -> None:
    text = _rule(owner="owner: VP Sales") + "    owner_email: vp.sales\n"
    message = _error(tmp_path, text)
    assert "line 8, escalation 'Detractor': expected an e-mail address, found 'vp.sales'" in message


def test_bad_source(tmp_path: Path) -> None:
    message = _error(tmp_path, _rule(source="source: crm"))
    assert "line 3" in message
    assert "'source' must be one of responses, tickets, accounts, found 'crm'" in message


def test_not_a_mapping_at_the_top(tmp_path: Path) -> None:
    with pytest.raises(CaseRulesError, match="case rules 'case_rules.yaml': expected a mapping"):
        _load(tmp_path, "- recovery\n")
    message = _error(tmp_path, "escalations: {name: x}\n")
    assert "line 1" in message and "'escalations' must be a list of rules" in message
