"""Escalations: the rows the study's escalation rules pick out, as cases with a tier and an owner.

Each rule of ``case_rules.yaml`` (:class:`csatlib.loop.rules.EscalationRule`) looks at one source:

* ``responses``: respondents of the report's wave (own customers) who allowed contact, by their
  recommendation (detractor 0-6, passive 7-8, promoter 9-10 on the 0-10 scale), a written
  complaint, their account's revenue rank or amount, country or segment;
* ``tickets``: transaction-survey tickets of the follow-up window whose customer allowed contact,
  by the rating, the account's revenue, the country;
* ``accounts``: accounts of the at-risk list (account-level aggregates only), by a significant
  decline, revenue, country.

A respondent or ticket without permission to contact is never listed by name: it is counted
(``withheld``), and its account reaches its manager through the at-risk list. The case store
keeps no respondent's name or answer; the escalation list for the owner carries the contact
details of those who allowed contact, as the callback list does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from csatlib import roles
from csatlib.loop.accounts import AccountMatch, assign_accounts
from csatlib.loop.cases import CANDIDATE_COLUMNS
from csatlib.loop.followup import _has_text, _permission  # the lists' own permission rule
from csatlib.loop.routing import units_of
from csatlib.loop.rules import CaseRules, EscalationRule

__all__ = ["Escalations", "escalate", "revenue_ranks"]

_PERSON_COLUMNS = ("contact",)


@dataclass(frozen=True)
class Escalations:
    """What the rules found.

    Attributes
    ----------
    candidates : pandas.DataFrame
        :data:`csatlib.loop.cases.CANDIDATE_COLUMNS`, one row per escalation (type
        ``escalation``, ``rule`` its name, ``tier``).
    contacts : pandas.DataFrame
        ``source_key`` and ``rule`` with the contact columns of the respondents and tickets
        listed (permission given), for the owner's list; no score and no verbatim.
    withheld : pandas.DataFrame
        ``rule`` and ``withheld``: rows a rule matched whose respondent did not allow contact.
    """

    candidates: pd.DataFrame
    contacts: pd.DataFrame
    withheld: pd.DataFrame


def revenue_ranks(revenue: pd.DataFrame | None, match: AccountMatch | None) -> pd.DataFrame:
    """Each account's revenue in the latest year (all countries summed) and its rank.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``account_key``: ``revenue_usd`` and ``revenue_rank`` (1 = the largest;
        ties share the best rank). Empty without a revenue table or an account matching.
    """
    if revenue is None or match is None or revenue.empty:
        return pd.DataFrame(
            {"revenue_usd": pd.Series(dtype=float), "revenue_rank": pd.Series(dtype=int)}
        )
    keyed = assign_accounts(revenue, match)
    year = pd.to_numeric(keyed["year"], errors="coerce")
    latest = keyed[year == year.max()]
    total = latest.groupby("account_key", observed=True)["revenue_usd"].sum().astype(float)
    rank = total.rank(method="min", ascending=False).astype(int)
    return pd.DataFrame({"revenue_usd": total, "revenue_rank": rank})


def _revenue_match(keys: pd.Series, ranks: pd.DataFrame, when: dict) -> np.ndarray:
    keep = np.ones(len(keys), dtype=bool)
    if "revenue_rank_max" in when:
        rank = keys.map(ranks["revenue_rank"]).astype(float).to_numpy()
        keep &= np.nan_to_num(rank, nan=np.inf) <= when["revenue_rank_max"]
    if "revenue_min" in when:
        money = keys.map(ranks["revenue_usd"]).astype(float).to_numpy()
        keep &= np.nan_to_num(money, nan=-np.inf) >= when["revenue_min"]
    return keep


def _in(values: pd.Series, allowed: Sequence[str]) -> np.ndarray:
    return values.astype("string").isin(list(allowed)).fillna(False).to_numpy(dtype=bool)


def _nps_category(responses: pd.DataFrame) -> pd.Series:
    score = pd.to_numeric(responses[roles.nps_column(responses)], errors="coerce")
    score = score.astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        conditions = [score <= 6, score <= 8, score <= 10]  # NaN (not answered) matches none
    return pd.Series(
        np.select(conditions, ["detractor", "passive", "promoter"], ""), index=responses.index
    )


def _response_matches(
    rule: EscalationRule, rows: pd.DataFrame, keys: pd.Series, ranks: pd.DataFrame
) -> np.ndarray:
    when = dict(rule.when)
    keep = _revenue_match(keys, ranks, when)
    category = _nps_category(rows) if {"detractor", "passive", "promoter"} & set(when) else None
    for name in ("detractor", "passive", "promoter"):
        if name in when and category is not None:
            keep &= (category == name).to_numpy() == when[name]
    if "complaint" in when:
        texts = tuple(roles.names(rows, "complaint"))
        keep &= _has_text(rows, texts) == when["complaint"] if texts else not when["complaint"]
    for name in ("country", "segment"):
        if name in when:
            column = name if name in rows.columns else next(iter(roles.names(rows, name)), None)
            keep &= _in(rows[column], when[name]) if column else False
    return keep


def _ticket_matches(
    rule: EscalationRule, rows: pd.DataFrame, keys: pd.Series, ranks: pd.DataFrame
) -> np.ndarray:
    when = dict(rule.when)
    keep = _revenue_match(keys, ranks, when)
    if "rating_max" in when:
        rating = pd.to_numeric(rows[roles.names(rows, "overall")[0]], errors="coerce")
        keep &= (rating <= when["rating_max"]).fillna(False).to_numpy(dtype=bool)
    if "country" in when:
        keep &= _in(rows["country"], when["country"])
    return keep


def _account_matches(
    rule: EscalationRule, at_risk: pd.DataFrame, ranks: pd.DataFrame
) -> np.ndarray:
    when = dict(rule.when)
    keep = _revenue_match(at_risk["account_key"].astype("string"), ranks, when)
    if "declined" in when:
        declined = (
            at_risk["declined"] if "declined" in at_risk else pd.Series(False, index=at_risk.index)
        )
        keep &= declined.astype("boolean").fillna(False).to_numpy(dtype=bool) == when["declined"]
    if "country" in when:
        keep &= _in(at_risk["country"], when["country"])
    return keep


def _owner(
    rule: EscalationRule, ids: pd.Series, owners: pd.DataFrame | None
) -> tuple[pd.Series, pd.Series]:
    """(owner, e-mail) of each row: the mapping's person for a role, else the rule's name."""
    if rule.owner in ("account_manager", "product_owner"):
        if owners is None or owners.empty:
            empty = pd.Series("", index=ids.index, dtype=object)
            return empty, empty
        found = owners[~owners.index.duplicated()].reindex(pd.Index(ids.astype("string")))
        return (
            pd.Series(found.iloc[:, 0].fillna("").to_numpy(), index=ids.index),
            pd.Series(found.iloc[:, 1].fillna("").to_numpy(), index=ids.index),
        )
    return (
        pd.Series(rule.owner, index=ids.index, dtype=object),
        pd.Series(rule.owner_email or "", index=ids.index, dtype=object),
    )


def _person_rows(
    rule: EscalationRule,
    rows: pd.DataFrame,
    keys: pd.Series,
    owners: pd.DataFrame | None,
    match: np.ndarray,
    wave: str,
    today: date,
    units: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Candidates and contacts of the respondents or tickets ``match`` picks, with permission;
    each names its account's business units (``units``: account key -> labels)."""
    ok_column = next(iter(roles.names(rows, "contact_ok")), None)
    allowed = _permission(rows, ok_column) if ok_column else np.zeros(len(rows), dtype=bool)
    listed = rows[match & allowed]
    withheld = int((match & ~allowed).sum())
    id_column = roles.names(rows, "id")[0]
    ids = listed[id_column].astype("string")
    date_column = next(iter(roles.names(rows, "date")), None)
    opened = (
        pd.to_datetime(listed[date_column], errors="coerce").dt.date.fillna(today)
        if date_column
        else pd.Series(today, index=listed.index)
    )
    account_column = next(iter(roles.names(rows, "account")), None)
    owner, email = _owner(rule, ids, owners)
    candidates = pd.DataFrame(
        {
            "type": "escalation",
            "rule": rule.name,
            "tier": rule.tier,
            "source_key": ids.to_numpy(),
            "country": listed["country"].astype("string").to_numpy(),
            "account": (
                listed[account_column].astype("string")
                if account_column
                else pd.Series("", index=listed.index)
            ).to_numpy(),
            "business_units": units_of(keys[match & allowed], units),
            "wave": wave,
            "why": rule.describe(),
            "owner": owner.to_numpy(),
            "owner_email": email.to_numpy(),
            "opened": opened.to_numpy(),
        }
    )
    contact_columns = list(roles.names(rows, "contact"))
    contacts = listed[contact_columns].copy()
    contacts.insert(0, "rule", rule.name)
    contacts.insert(0, "source_key", ids.to_numpy())
    del keys
    return candidates, contacts.reset_index(drop=True), withheld


def _account_rows(
    rule: EscalationRule, at_risk: pd.DataFrame, match: np.ndarray, wave: str, today: date
) -> pd.DataFrame:
    rows = at_risk[match]
    if rule.owner == "account_manager":
        owner = (
            rows.get("account_manager", pd.Series("", index=rows.index)).astype("string").fillna("")
        )
        email = (
            rows.get("manager_email", pd.Series("", index=rows.index)).astype("string").fillna("")
        )
    else:
        owner = pd.Series(rule.owner, index=rows.index)
        email = pd.Series(rule.owner_email or "", index=rows.index)
    units = rows.get("business_units", pd.Series("", index=rows.index)).astype("string").fillna("")
    return pd.DataFrame(
        {
            "type": "escalation",
            "rule": rule.name,
            "tier": rule.tier,
            "source_key": (
                rows["account_key"].astype("string")
                + "|"
                + rows["country"].astype("string").fillna("")
                + "|"
                + wave
            ).to_numpy(),
            "country": rows["country"].astype("string").to_numpy(),
            "account": rows["account_name"].astype("string").to_numpy(),
            "business_units": units.to_numpy(),
            "wave": wave,
            "why": rule.describe(),
            "owner": owner.to_numpy(),
            "owner_email": email.to_numpy(),
            "opened": today,
        }
    )


def escalate(
    rules: CaseRules,
    *,
    responses: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    at_risk: pd.DataFrame | None = None,
    match: AccountMatch | None = None,
    ranks: pd.DataFrame | None = None,
    response_owners: pd.DataFrame | None = None,
    ticket_owners: pd.DataFrame | None = None,
    units: pd.Series | None = None,
    wave: str = "",
    today: date | None = None,
) -> Escalations:
    """Apply every escalation rule to its source.

    Parameters
    ----------
    rules : CaseRules
        The study's rules (:func:`csatlib.loop.rules.load_case_rules`).
    responses : pandas.DataFrame, optional
        The relationship survey's rows of the report's wave, own customers (codebook roles in
        ``attrs``: id, recommendation, complaint, contact permission and details, account).
    tickets : pandas.DataFrame, optional
        The transaction survey's tickets of the follow-up window (roles as for the recovery list).
    at_risk : pandas.DataFrame, optional
        :func:`csatlib.loop.accounts.at_risk_list` (routed: with ``account_manager``).
    match : AccountMatch, optional
        The account matching of the lists (for the revenue criteria).
    ranks : pandas.DataFrame, optional
        :func:`revenue_ranks`; without it a revenue criterion matches nothing.
    response_owners, ticket_owners : pandas.DataFrame, optional
        Indexed by response or ticket id: the owner's name and e-mail (the routing of the
        callback and recovery lists, :class:`csatlib.loop.recipients.Routing` ``columns``).
    units : pandas.Series, optional
        Account key -> its business units (:func:`csatlib.loop.routing.account_units`): a
        respondent's or ticket's case names its account's units, so that each unit's report
        finds it.
    wave : str
        The report's wave (part of an account escalation's key: one case per account and wave).
    today : datetime.date, optional
        Opening date of account escalations and of rows without a date; default today.

    Returns
    -------
    Escalations
        A rule whose source the study lacks matches nothing.
    """
    today = today or date.today()
    ranks = ranks if ranks is not None else revenue_ranks(None, None)
    candidates, contacts, withheld = [], [], []
    for rule in rules.escalations:
        if rule.source == "accounts":
            if at_risk is None or at_risk.empty:
                continue
            hit = _account_matches(rule, at_risk, ranks)
            candidates.append(_account_rows(rule, at_risk, hit, wave, today))
            continue
        rows = responses if rule.source == "responses" else tickets
        if rows is None or rows.empty or not roles.names(rows, "id"):
            continue
        account_column = next(iter(roles.names(rows, "account")), None)
        if account_column is not None and match is not None:
            keys = assign_accounts(rows[[account_column]], match, column=account_column)[
                "account_key"
            ].astype("string")
            keys.index = rows.index
        else:
            keys = pd.Series(pd.NA, index=rows.index, dtype="string")
        if rule.source == "responses":
            hit = _response_matches(rule, rows, keys, ranks)
            owners = response_owners
        else:
            hit = _ticket_matches(rule, rows, keys, ranks)
            owners = ticket_owners
        found, people, held = _person_rows(rule, rows, keys, owners, hit, wave, today, units)
        candidates.append(found)
        contacts.append(people)
        withheld.append({"rule": rule.name, "withheld": held})
    frame = (
        pd.concat(candidates, ignore_index=True)
        if candidates
        else pd.DataFrame(columns=list(CANDIDATE_COLUMNS))
    )
    people = (
        pd.concat(contacts, ignore_index=True)
        if contacts
        else pd.DataFrame(columns=["source_key", "rule"])
    )
    return Escalations(
        candidates=frame.loc[:, list(CANDIDATE_COLUMNS)],
        contacts=people,
        withheld=pd.DataFrame(withheld, columns=["rule", "withheld"]),
    )
