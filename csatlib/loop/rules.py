"""The follow-up rules: how fast each type of case must be handled, and what is escalated to whom.

A study's ``case_rules.yaml`` (raw folder, :data:`csatlib.config.CASE_RULES`; optional, written by
hand) has two sections::

    service_levels:            # per case type: the time to close it, counted from when it opened
      recovery: {within: 2, days: business}
      callback: {within: 1, days: business}
      at_risk: {within: 10, days: business}
    escalations:               # optional: rules that open an escalation case
      - name: Detractor at a top-20 account
        source: responses      # responses | tickets | accounts
        when: {detractor: true, revenue_rank_max: 20}
        tier: 1
        owner: account_manager # account_manager | product_owner | a person's name
        within: 1
        days: business

Without a file :data:`DEFAULT_SERVICE_LEVELS` apply and nothing is escalated. Every problem is a
:class:`CaseRulesError` naming the file, the line and the key. :mod:`csatlib.loop.cases` applies
the service levels, :mod:`csatlib.loop.escalations` the escalation rules.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from csatlib.errors import CodebookError
from csatlib.ingest.codebook import read_yaml

__all__ = [
    "CASE_TYPES",
    "CRITERIA",
    "DEFAULT_SERVICE_LEVELS",
    "OWNER_ROLES",
    "CaseRules",
    "CaseRulesError",
    "EscalationRule",
    "ServiceLevel",
    "load_case_rules",
    "parse_case_rules",
]

#: The case types with a service level (escalations carry their own, per rule).
CASE_TYPES: tuple[str, ...] = ("recovery", "callback", "at_risk", "escalation")
#: Where an escalation rule looks, and the criteria it may use there.
CRITERIA: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        # one respondent of the relationship survey (listed only with permission to contact)
        "responses": frozenset(
            {
                "detractor",
                "passive",
                "promoter",
                "complaint",
                "revenue_rank_max",
                "revenue_min",
                "country",
                "segment",
            }
        ),  # fmt: skip
        # one ticket of the transaction survey (listed only with permission to contact)
        "tickets": frozenset({"rating_max", "revenue_rank_max", "revenue_min", "country"}),
        # one account of the at-risk list (account-level aggregates only): every one is at risk
        "accounts": frozenset({"declined", "revenue_rank_max", "revenue_min", "country"}),
    }
)
#: Owners named by role: from the organisation mapping (the account's manager, the product's owner).
OWNER_ROLES: tuple[str, ...] = ("account_manager", "product_owner")
_OWNER_OF = {
    "responses": "account_manager",
    "accounts": "account_manager",
    "tickets": "product_owner",
}
_BOOLEAN = frozenset({"detractor", "passive", "promoter", "complaint", "declined"})
_NUMBER = frozenset({"revenue_min"})
_CRITERION_WORDS = {
    "detractor": "a detractor (0–6)",
    "passive": "a passive (7–8)",
    "promoter": "a promoter (9–10)",
    "complaint": "a written complaint",
    "declined": "a significant NPS decline since the previous wave",
}
_SOURCE_WORDS = {
    "responses": "relationship survey",
    "tickets": "transaction survey",
    "accounts": "accounts at risk",
}
_COUNT = frozenset({"revenue_rank_max", "rating_max"})
_LISTS = frozenset({"country", "segment"})
_TOP = frozenset({"service_levels", "escalations", "description"})
_LEVEL_KEYS = frozenset({"within", "days"})
_RULE_KEYS = frozenset({"name", "source", "when", "tier", "owner", "owner_email", *_LEVEL_KEYS})


class CaseRulesError(CodebookError):
    """``case_rules.yaml`` is malformed: the message names the file, line and key."""


@dataclass(frozen=True)
class ServiceLevel:
    """The time to close a case: ``within`` calendar or business days of its opening."""

    within: int
    days: Literal["business", "calendar"] = "business"

    def due(self, opened: Any) -> Any:
        """The due dates of cases opened on ``opened`` (dates, Timestamps or an array of them).

        Business days are Monday to Friday (:func:`numpy.busday_offset`; public holidays are
        not known here): a case opened on a Saturday with one business day is due on Tuesday,
        the day after the first business day it could be worked on.
        """
        days = np.asarray(opened, dtype="datetime64[D]")
        if self.days == "calendar":
            return days + np.timedelta64(self.within, "D")
        start = np.busday_offset(days, 0, roll="forward")
        return np.busday_offset(start, self.within, roll="forward")

    def words(self) -> str:
        kind = "business day" if self.days == "business" else "calendar day"
        return f"{self.within} {kind}{'' if self.within == 1 else 's'}"


#: Service levels without a rules file: the follow-up lists' own response days
#: (:data:`csatlib.loop.followup.RESPONSE_DAYS`, calendar days) and two weeks for an account at
#: risk to be called by its manager.
DEFAULT_SERVICE_LEVELS: Mapping[str, ServiceLevel] = MappingProxyType(
    {
        "recovery": ServiceLevel(2, "calendar"),
        "callback": ServiceLevel(5, "calendar"),
        "at_risk": ServiceLevel(14, "calendar"),
        "escalation": ServiceLevel(1, "business"),
    }
)


@dataclass(frozen=True)
class EscalationRule:
    """One escalation rule: which rows of ``source`` match ``when``, and who acts by when."""

    name: str
    source: Literal["responses", "tickets", "accounts"]
    when: Mapping[str, Any]
    tier: int
    owner: str
    owner_email: str | None
    level: ServiceLevel

    def describe(self) -> str:
        """The rule in one sentence, as the lists' README and the report state it."""
        parts = []
        for key, value in self.when.items():
            if key in _BOOLEAN:
                words = _CRITERION_WORDS[key]
                parts.append(words if value else f"not {words}")
            elif key == "revenue_rank_max":
                parts.append(f"an account among the top {value} by revenue")
            elif key == "revenue_min":
                parts.append(f"account revenue of at least {value:,.0f}")
            elif key == "rating_max":
                parts.append(f"a rating of {value} or lower")
            else:
                parts.append(f"{key} {' or '.join(value)}")
        who = self.owner.replace("_", " ") if self.owner in OWNER_ROLES else self.owner
        return (
            f"{self.name} (tier {self.tier}, {_SOURCE_WORDS[self.source]}): "
            f"{' and '.join(parts)} → {who}, within {self.level.words()}"
        )


@dataclass(frozen=True)
class CaseRules:
    """The service level of each case type and the escalation rules (:func:`load_case_rules`)."""

    service_levels: Mapping[str, ServiceLevel]
    escalations: tuple[EscalationRule, ...] = ()
    path: Path | None = None

    def level(self, case_type: str, rule: str | None = None) -> ServiceLevel:
        """The service level of ``case_type`` (an escalation's: its rule's)."""
        if case_type == "escalation" and rule is not None:
            for entry in self.escalations:
                if entry.name == rule:
                    return entry.level
        return self.service_levels[case_type]

    def due(self, case_type: str, opened: date, rule: str | None = None) -> date:
        """The due date of one case opened on ``opened``."""
        return self.level(case_type, rule).due(opened).astype(object)


class _Where:
    def __init__(self, path: Path | None) -> None:
        self.path = path

    def __call__(self, mapping: Any = None, key: Any = None, what: str = "") -> str:
        line = getattr(mapping, "lines", {}).get(key) if key is not None else None
        parts = [f"case rules {self.path.name!r}" if self.path else "case rules"]
        if line is not None:
            parts.append(f"line {line}")
        if what:
            parts.append(what)
        return ", ".join(parts) + ": "

    def keys(self, mapping: Mapping, allowed: frozenset[str], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise CaseRulesError(
                    f"{self(mapping, key, what)}unknown key {key!r}{hint}; allowed: "
                    f"{', '.join(sorted(allowed))}"
                )


def _count(where: _Where, mapping: Mapping, key: str, what: str, *, low: int = 1) -> int:
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise CaseRulesError(
            f"{where(mapping, key, what)}{key!r} must be a whole number >= {low}, found {value!r}"
        )
    return value


def _level(where: _Where, mapping: Mapping, what: str) -> ServiceLevel:
    within = _count(where, mapping, "within", what, low=0)
    days = mapping.get("days", "business")
    if days not in ("business", "calendar"):
        raise CaseRulesError(
            f"{where(mapping, 'days', what)}'days' must be 'business' or 'calendar', found {days!r}"
        )
    return ServiceLevel(within, days)


def _levels(where: _Where, content: Mapping) -> dict[str, ServiceLevel]:
    levels = dict(DEFAULT_SERVICE_LEVELS)
    given = content.get("service_levels")
    if given is None:
        return levels
    if not isinstance(given, Mapping):
        raise CaseRulesError(
            f"{where(content, 'service_levels')}expected a mapping of case type to "
            f"{{within: N, days: business}}, found {type(given).__name__}"
        )
    where.keys(given, frozenset(CASE_TYPES), "service_levels")
    for case_type, spec in given.items():
        what = f"service level {case_type!r}"
        if not isinstance(spec, Mapping):
            raise CaseRulesError(
                f"{where(given, case_type)}{what}: expected {{within: N, days: business}}, "
                f"found {spec!r}"
            )
        where.keys(spec, _LEVEL_KEYS, what)
        levels[case_type] = _level(where, spec, what)
    return levels


def _criterion(where: _Where, when: Mapping, key: str, what: str) -> Any:
    value = when[key]
    if key in _BOOLEAN:
        if not isinstance(value, bool):
            raise CaseRulesError(
                f"{where(when, key, what)}{key!r} must be true or false, found {value!r}"
            )
        return value
    if key in _COUNT:
        return _count(where, when, key, what)
    if key in _NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise CaseRulesError(
                f"{where(when, key, what)}{key!r} must be a number >= 0, found {value!r}"
            )
        return float(value)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise CaseRulesError(
            f"{where(when, key, what)}{key!r} must be a text or a list of texts, found {value!r}"
        )
    return tuple(values)


def _rule(where: _Where, entry: Any, position: int, names: set[str]) -> EscalationRule:
    what = f"escalation {position}"
    if not isinstance(entry, Mapping):
        raise CaseRulesError(
            f"{where()}{what}: expected a mapping (name, source, when ...), found {entry!r}"
        )
    where.keys(entry, _RULE_KEYS, what)
    for key in ("name", "source", "when", "tier", "owner", "within"):
        if key not in entry:
            raise CaseRulesError(f"{where(entry, next(iter(entry), None), what)}{key!r} is missing")
    name = entry["name"]
    if not isinstance(name, str) or not name.strip():
        raise CaseRulesError(f"{where(entry, 'name', what)}'name' must be a non-empty text")
    name = name.strip()  # "A" and "A " would be one rule to the case ids and CaseRules.level
    if name in names:
        raise CaseRulesError(f"{where(entry, 'name', what)}the name {name!r} is used twice")
    names.add(name)
    what = f"escalation {name!r}"
    source = entry["source"]
    if source not in CRITERIA:
        raise CaseRulesError(
            f"{where(entry, 'source', what)}'source' must be one of {', '.join(CRITERIA)}, "
            f"found {source!r}"
        )
    when = entry["when"]
    if not isinstance(when, Mapping) or not when:
        raise CaseRulesError(
            f"{where(entry, 'when', what)}'when' must be a non-empty mapping of criteria"
        )
    where.keys(when, CRITERIA[source], f"{what} (source {source})")
    criteria = {key: _criterion(where, when, key, what) for key in when}
    owner = entry["owner"]
    if not isinstance(owner, str) or not owner.strip():
        raise CaseRulesError(f"{where(entry, 'owner', what)}'owner' must be a non-empty text")
    if owner in OWNER_ROLES and owner != _OWNER_OF[source]:
        raise CaseRulesError(
            f"{where(entry, 'owner', what)}{owner!r} cannot own a rule on {source}: the "
            f"organisation mapping names the {_OWNER_OF[source].replace('_', ' ')} of "
            f"{source} (or give a person's name)"
        )
    email = entry.get("owner_email")
    if email is not None and (not isinstance(email, str) or "@" not in email):
        raise CaseRulesError(
            f"{where(entry, 'owner_email', what)}expected an e-mail address, found {email!r}"
        )
    return EscalationRule(
        name=name,
        source=source,
        when=MappingProxyType(criteria),
        tier=_count(where, entry, "tier", what),
        owner=owner.strip(),
        owner_email=email,
        level=_level(where, entry, what),
    )


def parse_case_rules(content: Any, *, path: str | Path | None = None) -> CaseRules:
    """Validate rules given as loaded from YAML; see :func:`load_case_rules`."""
    where = _Where(Path(path) if path is not None else None)
    if content is None:
        content = {}
    if not isinstance(content, Mapping):
        raise CaseRulesError(
            f"{where()}expected a mapping with service_levels and escalations at the top level, "
            f"found {type(content).__name__}"
        )
    where.keys(content, _TOP, "the top level")
    rules = content.get("escalations") or []
    if not isinstance(rules, list):
        raise CaseRulesError(
            f"{where(content, 'escalations')}'escalations' must be a list of rules"
        )
    names: set[str] = set()
    escalations = tuple(_rule(where, entry, i, names) for i, entry in enumerate(rules, 1))
    return CaseRules(
        service_levels=MappingProxyType(_levels(where, content)),
        escalations=escalations,
        path=where.path,
    )


def load_case_rules(path: str | Path | None = None) -> CaseRules:
    """Read and check the study's follow-up rules.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        The rules file; default :data:`csatlib.config.CASE_RULES`. A default path that does not
        exist gives the built-in :data:`DEFAULT_SERVICE_LEVELS` and no escalation; a path given
        explicitly must exist.

    Returns
    -------
    CaseRules

    Raises
    ------
    CaseRulesError
        Not valid YAML, an unknown key (with the closest allowed one), a service level that is
        not a whole number of business or calendar days, an escalation rule without a name,
        source, criteria, tier, owner or service level, or with a criterion its source does not
        have: each naming the file, line and key.
    """
    if path is None:
        from csatlib import config

        path = config.CASE_RULES
        if not Path(path).is_file():
            return CaseRules(service_levels=DEFAULT_SERVICE_LEVELS)
    content = read_yaml(path, what="case rules", error=CaseRulesError)
    return parse_case_rules(content, path=path)
