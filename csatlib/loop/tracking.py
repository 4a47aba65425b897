"""A build's follow-up cases: proposed from the lists, synced into the store, listed per owner.

:func:`sync_study_cases` is the step a build runs before its reports and lists: it reads the
study as the lists do (:func:`csatlib.loop.lists.load_loop_study`), proposes one case per
at-risk account of the wave, per recovery ticket and complaint callback the lists hold, and per
escalation (:func:`csatlib.loop.escalations.escalate`), and syncs them into the store
(:func:`csatlib.loop.cases.sync_cases`). :func:`write_case_lists` writes the open cases per
owner, which owners fill in and return (``csat cases import``), and the escalation lists.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from csatlib import roles
from csatlib.loop import followup
from csatlib.loop.accounts import assign_accounts
from csatlib.loop.cases import (
    CANDIDATE_COLUMNS,
    SyncResult,
    case_summary,
    sync_cases,
)
from csatlib.loop.escalations import Escalations, escalate, revenue_ranks
from csatlib.loop.lists import LoopStudy, load_loop_study
from csatlib.loop.recipients import UNROUTED, file_stems, write_by_recipient
from csatlib.loop.routing import account_units, units_of
from csatlib.loop.rules import CaseRules, load_case_rules
from csatlib.safety import write_csv_safely

__all__ = [
    "OPEN_CASE_HEADERS",
    "at_risk_keys",
    "escalations_of",
    "propose_cases",
    "readme_lines",
    "sync_study_cases",
    "write_case_lists",
]

#: The columns of the open-case lists, under the headers owners read and return.
OPEN_CASE_HEADERS = {
    "case_id": "Case",
    "type": "Type",
    "tier": "Tier",
    "rule": "Escalation rule",
    "country": "Country",
    "account": "Account",
    "business_units": "Business unit(s)",
    "owner": "Owner",
    "owner_email": "Owner e-mail",
    "opened": "Opened",
    "due": "Due",
    "days_overdue": "Days overdue",
    "status": "Status",
    "outcome": "Outcome",
    "closed": "Closed",
    "why": "Why",
}
_TYPE_WORDS = {
    "recovery": "recovery call",
    "callback": "complaint callback",
    "at_risk": "account at risk",
    "escalation": "escalation",
}


def _routing_columns(study: LoopStudy, name: str) -> pd.DataFrame | None:
    """The owner name and e-mail by row id of a routed follow-up list (None when not routed)."""
    if study.plan is None or name not in study.plan.followups:
        return None
    route = study.plan.followups[name]
    columns = route.columns
    others = [c for c in columns.columns if c != route.recipient and "mail" in c.lower()]
    return columns[[route.recipient, *others[:1]]]


def _account_units(study: LoopStudy) -> pd.Series | None:
    """Account key -> its business units (:func:`csatlib.loop.routing.account_units`), None
    when the study has no mapping."""
    if study.plan is None or study.plan.routes is None:
        return None
    return account_units(study.plan.routes)


def _units_of_rows(study: LoopStudy, frame: pd.DataFrame, account: str | None) -> np.ndarray | str:
    """The business units of each row's account (a callback's or a recovery's case names them,
    as an at-risk account's does, so that the unit's report finds it); "" without a mapping."""
    units = _account_units(study)
    if units is None or account is None or study.match is None:
        return ""
    keys = assign_accounts(frame[[account]], study.match, column=account)["account_key"]
    return units_of(keys, units)


def _owner_frame(
    frame: pd.DataFrame, ids: pd.Series, owners: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    if owners is None or owners.empty:
        blank = np.full(len(frame), "", dtype=object)
        return blank, blank
    found = owners[~owners.index.duplicated()].reindex(pd.Index(ids.astype("string")))
    email = found.iloc[:, 1] if found.shape[1] > 1 else pd.Series("", index=found.index)
    return found.iloc[:, 0].fillna("").to_numpy(), email.fillna("").to_numpy()


def _list_candidates(
    study: LoopStudy, frame: pd.DataFrame, table: pd.DataFrame, name: str, today: date
) -> pd.DataFrame:
    """One candidate per row of a recovery or callback list (canonical columns)."""
    id_column = next(c for c, r in roles.roles(table).items() if r == "id")
    ids = frame[id_column].astype("string")
    date_column = next(iter(roles.names(table, "date")), None)
    opened = (
        pd.to_datetime(frame[date_column], errors="coerce").dt.date.fillna(today)
        if date_column
        else pd.Series(today, index=frame.index)
    )
    account = next(iter(roles.names(table, "account")), None)
    owner, email = _owner_frame(frame, ids, _routing_columns(study, name))
    return pd.DataFrame(
        {
            "type": name,
            "rule": "",
            "tier": pd.NA,
            "source_key": ids.to_numpy(),
            "country": frame["country"].astype("string").to_numpy(),
            "account": frame[account].astype("string").to_numpy() if account else "",
            "business_units": _units_of_rows(study, frame, account),
            "wave": study.wave or "",
            "why": frame["why_listed"].astype("string").to_numpy(),
            "owner": owner,
            "owner_email": email,
            "opened": opened.to_numpy(),
        }
    )


def at_risk_keys(at_risk: pd.DataFrame, wave: str) -> pd.Series:
    """The natural key of an at-risk account's case: ``account_key|country|wave`` (one case per
    account, country and wave: an account is judged in each country it answers in)."""
    return (
        at_risk["account_key"].astype("string")
        + "|"
        + at_risk["country"].astype("string").fillna("")
        + "|"
        + wave
    )


def _at_risk_candidates(study: LoopStudy, at_risk: pd.DataFrame, today: date) -> pd.DataFrame:
    def text(column: str) -> np.ndarray:
        values = at_risk[column] if column in at_risk else pd.Series("", index=at_risk.index)
        return values.astype("string").fillna("").to_numpy()

    wave = study.wave or ""
    return pd.DataFrame(
        {
            "type": "at_risk",
            "rule": "",
            "tier": pd.NA,
            "source_key": at_risk_keys(at_risk, wave).to_numpy(),
            "country": text("country"),
            "account": text("account_name"),
            "business_units": text("business_units"),
            "wave": wave,
            "why": np.where(
                text("at_risk_reasons") != "",
                "At risk in " + wave + ": " + text("at_risk_reasons"),
                "At risk in " + wave,
            ),
            "owner": text("account_manager"),
            "owner_email": text("manager_email"),
            "opened": today,
        }
    )


def _open_followups(study: LoopStudy) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """The recovery and callback lists as the written lists hold them: list -> (frame, table)."""
    out = {}
    if study.tickets_skip is None and study.transactions is not None:
        recent = followup.recent_tickets(
            study.transactions, followup.TICKET_WINDOW_DAYS, what="propose_cases"
        )
        out["recovery"] = (followup.recovery_list(recent), recent)
    if study.callback_skip is None:
        in_wave = followup.callback_rows(study.responses, study.wave_given)
        out["callback"] = (followup.callback_list(in_wave), in_wave)
    return out


def escalations_of(
    study: LoopStudy, rules: CaseRules, at_risk: pd.DataFrame | None, *, today: date | None = None
) -> Escalations:
    """The study's escalations (:func:`csatlib.loop.escalations.escalate`) from the same rows
    as the lists: the report's wave of own customers, the tickets of the follow-up window and
    the at-risk accounts."""
    responses = None
    if roles.names(study.responses, "id"):
        responses = roles.own_customers(followup.callback_rows(study.responses, study.wave_given))
    tickets = None
    if study.transactions is not None and roles.names(study.transactions, "id"):
        tickets = followup.recent_tickets(
            study.transactions, followup.TICKET_WINDOW_DAYS, what="escalations"
        )
    return escalate(
        rules,
        responses=responses,
        tickets=tickets,
        at_risk=at_risk,
        match=study.match,
        ranks=revenue_ranks(study.revenue, study.match),
        response_owners=_routing_columns(study, "callback"),
        ticket_owners=_routing_columns(study, "recovery"),
        units=_account_units(study),
        wave=study.wave or "",
        today=today,
    )


def propose_cases(study: LoopStudy, rules: CaseRules, *, today: date | None = None) -> pd.DataFrame:
    """Every case the study's lists and escalation rules call for now: one row per case,
    :data:`csatlib.loop.cases.CANDIDATE_COLUMNS` (the store decides which are new)."""
    today = today or date.today()
    parts = []
    at_risk = study.at_risk_list() if study.match is not None else None
    if at_risk is not None:
        parts.append(_at_risk_candidates(study, at_risk, today))
    for name, (frame, table) in _open_followups(study).items():
        parts.append(_list_candidates(study, frame, table, name, today))
    parts.append(escalations_of(study, rules, at_risk, today=today).candidates)
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=list(CANDIDATE_COLUMNS))
    return pd.concat(parts, ignore_index=True).loc[:, list(CANDIDATE_COLUMNS)]


def sync_study_cases(
    processed_dir: str | Path,
    cases_path: str | Path,
    *,
    aliases_path: Path | None = None,
    wave: str = "",
    rules: CaseRules | None = None,
    today: date | None = None,
    mark: str = "",
) -> SyncResult:
    """Propose the study's cases (:func:`propose_cases`) and sync them into the store.

    Parameters
    ----------
    processed_dir : str or pathlib.Path
        The processed tables.
    cases_path : str or pathlib.Path
        The store (:mod:`csatlib.loop.cases`; created when missing).
    aliases_path, wave
        As for :func:`csatlib.loop.lists.build_lists`.
    rules : CaseRules, optional
        Default :func:`csatlib.loop.rules.load_case_rules`.
    today : datetime.date, optional
        Default today.
    mark : str
        Recorded with the sync (:func:`csatlib.loop.cases.last_sync`): what it was made from.

    Returns
    -------
    SyncResult
    """
    rules = rules if rules is not None else load_case_rules()
    study = load_loop_study(Path(processed_dir), aliases_path=aliases_path, wave=wave)
    candidates = propose_cases(study, rules, today=today)
    return sync_cases(cases_path, candidates, rules, today=today, mark=mark)


def _for_owners(cases: pd.DataFrame) -> pd.DataFrame:
    out = cases.loc[:, list(OPEN_CASE_HEADERS)].copy()
    out["type"] = out["type"].map(_TYPE_WORDS).fillna(out["type"])
    out["closed"] = out["closed"].map(lambda d: d.isoformat() if isinstance(d, date) else "")
    return out.rename(columns=OPEN_CASE_HEADERS)


def write_case_lists(
    cases: pd.DataFrame,
    escalations: Escalations,
    lists_dir: str | Path,
    *,
    today: date | None = None,
) -> list[Path]:
    """Write the open cases for their owners, and the escalation lists.

    Parameters
    ----------
    cases : pandas.DataFrame
        :func:`csatlib.loop.cases.read_cases`.
    escalations : Escalations
        This build's escalations (for the contact details of respondents who allowed contact).
    lists_dir : str or pathlib.Path
        The lists folder: ``cases/open_cases.csv`` (every open case, overdue first),
        ``cases/by_owner/<owner>.csv`` and ``cases/by_owner/unrouted.csv`` (no owner), and
        ``escalations/escalations_all.csv`` with ``escalations/by_owner/<owner>.csv``.

    Returns
    -------
    list of pathlib.Path

    Notes
    -----
    An open-case list is what an owner returns: its ``Case``, ``Status`` (open, in progress,
    closed), ``Outcome`` and ``Closed`` (YYYY-MM-DD) columns are what ``csat cases import``
    reads. It holds no respondent's name, answer or comment. An escalation list adds the
    contact name and e-mail of a respondent or ticket only when they allowed contact.
    """
    del today  # the store's standing (overdue) is computed by read_cases
    folder = Path(lists_dir)
    open_cases = cases.loc[cases["status"] != "closed"].sort_values(
        ["days_overdue", "due", "case_id"], ascending=[False, True, True], kind="stable"
    )
    people = _for_owners(open_cases)
    owners = open_cases["owner"].astype("string").replace("", pd.NA)
    written = [write_csv_safely(people, folder / "cases" / "open_cases.csv")]
    stems = file_stems(owners.dropna())
    written += write_by_recipient(
        people,
        owners,
        folder / "cases" / "by_owner",
        files={who: f"{stem}.csv" for who, stem in stems.items()},
        unrouted=f"{UNROUTED}.csv",
    )
    escalated = open_cases.loc[open_cases["type"] == "escalation"]
    contacts = escalations.contacts
    listed = _for_owners(escalated)
    if len(contacts.columns) > 2 and len(escalated):
        keyed = escalated[["source_key", "rule"]].merge(
            contacts.drop_duplicates(["source_key", "rule"]), how="left", on=["source_key", "rule"]
        )
        for column in contacts.columns[2:]:
            listed[column.replace("_", " ").capitalize()] = keyed[column].to_numpy()
    esc_owner = escalated["owner"].astype("string").replace("", pd.NA)
    written.append(write_csv_safely(listed, folder / "escalations" / "escalations_all.csv"))
    written += write_by_recipient(
        listed,
        esc_owner,
        folder / "escalations" / "by_owner",
        files={who: f"{stem}.csv" for who, stem in file_stems(esc_owner.dropna()).items()},
        unrouted=f"{UNROUTED}.csv",
    )
    return written


def readme_lines(
    cases: pd.DataFrame, escalations: Escalations, rules: CaseRules, *, today: date | None = None
) -> list[str]:
    """The CASES paragraphs of the lists' README.txt: counts, service levels and rules."""
    today = today or date.today()
    summary = case_summary(cases).set_index("type")
    total = summary.loc["All"]
    lines = [
        f"On {today.isoformat()} the case store holds {int(total['cases'])} case(s): "
        f"{int(total['open'])} open ({int(total['overdue'])} overdue) and "
        f"{int(total['closed'])} closed. cases/open_cases.csv lists the open ones, "
        "cases/by_owner/ per owner; owners fill in Status (open, in progress, closed), "
        "Outcome and Closed (YYYY-MM-DD) and return the file for `csat cases import FILE`.",
        "Service levels: "
        + "; ".join(
            f"{_TYPE_WORDS[t]} within {rules.level(t).words()}"
            for t in ("recovery", "callback", "at_risk")
        )
        + " of opening (a ticket's or complaint's own date; an account's first listing).",
    ]
    for rule in rules.escalations:
        held = escalations.withheld.loc[escalations.withheld["rule"] == rule.name, "withheld"]
        extra = (
            f" {int(held.sum())} more matched without permission to contact and are not listed."
            if held.sum()
            else ""
        )
        lines.append(f"Escalation: {rule.describe()}.{extra}")
    return lines
