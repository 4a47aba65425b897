"""The closing-the-loop lists of a study: every list its tables allow, and a README for the rest.

:func:`build_lists` reads the processed tables (``responses`` always; ``transactions``,
``revenue`` and the organisation mapping only when the study has them), writes the at-risk
account lists, the follow-up lists and the revenue-linkage lists that the study's codebook roles
allow, and says in one plain line per list why any other was not built, both in its result and
in ``README.txt`` in the folder.  With an organisation mapping the lists are also routed: one
file per account manager, business unit and product owner (:mod:`csatlib.loop.routing`), and
README.txt says which field of the mapping decides and counts the rows it could not place.
What each list holds and why is docs/closing_the_loop.md.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from csatlib import roles, safety
from csatlib.errors import DataError
from csatlib.ingest.clean import load_processed
from csatlib.ingest.organisation import Organisation, read_organisation
from csatlib.loop import accounts, followup, routing
from csatlib.loop.cases import read_cases
from csatlib.loop.recipients import UNROUTED, Routing
from csatlib.loop.rules import CaseRules, load_case_rules

__all__ = ["ListsResult", "LoopStudy", "build_lists", "load_loop_study"]

_AT_RISK = "At-risk accounts"
_TICKETS = "Recovery calls and testimonials"
_CALLBACK = "Complaint callbacks"
_REVENUE = "Revenue linkage"

# What a missing role means to a reader of the README.
_ROLE_WORDS = {
    "id": "id column (role `id`)",
    "overall": "ticket rating (role `overall`)",
    "contact_ok": "permission-to-contact column (role `contact_ok`)",
    "contact": "contact details (role `contact`)",
    "complaint": "complaint column (role `complaint`)",
}

# What each kind of file is, for README.txt (keyed by the file name up to the first "_<code>").
_WINDOW = (
    f"opened in the {followup.TICKET_WINDOW_DAYS} days up to the newest ticket in the data "
    "(older tickets are left out: no longer open)"
)
_DAYS = followup.RESPONSE_DAYS
_FILES = {
    "at_risk": (
        "Accounts at risk in the report's wave, one file per country and at_risk_all.csv with "
        "all, for account managers: why each account is at risk (the rule it met, in words), "
        "its scores, its trend since the previous wave and the revenue at stake; account-level "
        "aggregates only, never a respondent's name, answer or comment."
    ),
    "review_pairs": (
        "Similar account names the matcher did not merge on its own, for the CSAT team to decide "
        "(an alias line settles a pair)."
    ),
    "recovery": (
        f"Tickets with the lowest ratings, {_WINDOW}, to call back within "
        f"{_DAYS['recovery']} days of the ticket's opening: one file per country and "
        "recovery_all.csv with all; contact details only for respondents who gave permission."
    ),
    "testimonial": (
        f"Tickets with the highest ratings, {_WINDOW}: whom to ask for a testimonial within "
        f"{_DAYS['testimonial']} days of the ticket's opening (publishing one needs its own "
        "consent); one file per country and testimonial_all.csv with all."
    ),
    "callback": (
        "Complaints of the report's wave (see FOLLOW-UP RULES) to call back within "
        f"{_DAYS['callback']} days of the survey's submission: one file per country and "
        "callback_all.csv with all; only respondents who gave permission."
    ),
    "followup_counts": (
        "How many follow-ups each list holds and how many were withheld for lack of permission: "
        "the same tickets and complaints as the lists (eligible = listed + withheld)."
    ),
    "unmatched_revenue": "Accounts in the revenue table that no survey row matches.",
    "unmatched_survey": "Surveyed accounts without revenue.",
    # the routed lists (see ROUTING in README.txt), keyed by their folder
    "accounts/by_manager": (
        "The at-risk accounts of each account manager of the organisation mapping, every "
        "country in one file (header only when none is at risk); unrouted.csv: the at-risk "
        "accounts the mapping does not name."
    ),
    "accounts/by_unit": (
        "The at-risk accounts of each business unit (at_risk_<unit code>.csv; an account in two "
        "units is in both); unrouted.csv: the at-risk accounts the mapping does not name."
    ),
    "followup/by_owner": (
        "The recovery calls (recovery_<owner>.csv) and testimonial requests "
        "(testimonial_<owner>.csv) of each product owner of the organisation mapping; "
        "*_unrouted.csv: tickets whose product the mapping does not list."
    ),
    "followup/by_manager": (
        "The complaint callbacks of each account manager (callback_<manager>.csv); "
        "callback_unrouted.csv: complaints whose account the mapping does not name."
    ),
}


@dataclass(frozen=True)
class ListsResult:
    """Result of :func:`build_lists`.

    Attributes
    ----------
    written : tuple of pathlib.Path
        Every file written, in order: the account lists, the follow-up lists, the revenue lists,
        then ``README.txt`` (always written).
    skipped : tuple of str
        One plain-English line per list not built and why, e.g. "Revenue linkage: not built —
        the study has no revenue table (kind `revenue`)."; empty when every list was built.
    """

    written: tuple[Path, ...]
    skipped: tuple[str, ...]


def _optional_table(kind: str, processed_dir: Path) -> pd.DataFrame | None:
    """``<kind>.parquet`` if the study has it (an absent optional table is not an error)."""
    if not (processed_dir / f"{kind}.parquet").is_file():
        return None
    return load_processed(kind, processed_dir)


def _aliases(path: Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"aliases_path: {path} not found; expected the account alias file (CSV with columns "
            "alias,canonical), or pass aliases_path=None to match without one"
        )
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _lacking(what: str, missing: Sequence[str], *, survey: str) -> str:
    """'<what>: not built — <survey> has no X (role `x`) or Y (role `y`).'"""
    words = " or ".join(_ROLE_WORDS.get(r, f"column with role `{r}`") for r in missing)
    return f"{what}: not built — {survey} has no {words}."


def _callback_skip(responses: pd.DataFrame) -> str | None:
    missing = followup.missing_roles(responses, "callback")
    if not missing:
        return None
    if "complaint" in missing or "contact" in missing:
        return (
            f"{_CALLBACK}: not built — the study has no complaint column (role `complaint`) "
            "with contact details (role `contact`)."
        )
    if missing == ("contact_ok",):
        return (
            f"{_CALLBACK}: not built — the study has no permission-to-contact column (role "
            "`contact_ok`), so nobody may be called back."
        )
    return _lacking(_CALLBACK, missing, survey="the relationship survey")


def _tickets_skip(transactions: pd.DataFrame | None) -> str | None:
    if transactions is None:
        return (
            f"{_TICKETS}: not built — the study has no transaction survey (a codebook of kind "
            "`transactions`)."
        )
    missing = followup.missing_roles(transactions, "recovery")
    return _lacking(_TICKETS, missing, survey="the transaction survey") if missing else None


def _account_lists(
    study: LoopStudy,
    at_risk: pd.DataFrame,
    lists_dir: Path,
    cases: pd.DataFrame | None = None,
) -> list[Path]:
    """The at-risk lists (per country, all; with a mapping also per account manager and
    business unit) and the review pairs; with ``cases`` the open cases only, with their ids."""
    if cases is not None:
        from csatlib.loop.cases import with_cases
        from csatlib.loop.tracking import at_risk_keys

        at_risk = with_cases(at_risk, cases, "at_risk", at_risk_keys(at_risk, study.wave or ""))
    written = list(accounts.write_account_lists(at_risk, lists_dir / "accounts"))
    plan = study.plan
    if plan is not None and plan.routes is not None and study.organisation is not None:
        written += routing.write_routed_account_lists(
            at_risk, plan.routes, study.organisation, lists_dir / "accounts"
        )
    if study.match is not None:  # always: the at-risk list needs it
        review = study.match.review
        written.append(safety.write_csv_safely(review, lists_dir / "accounts" / "review_pairs.csv"))
    return written


def _revenue_lists(
    responses: pd.DataFrame, revenue: pd.DataFrame, match: accounts.AccountMatch, lists_dir: Path
) -> list[Path]:
    summary = accounts.account_summary(responses, match, revenue=revenue)
    linkage = accounts.revenue_linkage(summary, revenue, match=match)
    return [
        safety.write_csv_safely(getattr(linkage, name), lists_dir / "revenue" / f"{name}.csv")
        for name in ("unmatched_revenue", "unmatched_survey")
    ]


def _file_kind(path: Path) -> str:
    if path.parent.name.startswith("by_"):  # a routed list: its folder says what it is
        return f"{path.parent.parent.name}/{path.parent.name}"
    stem = path.stem
    return next((k for k in _FILES if stem == k or stem.startswith(f"{k}_")), stem)


def _followup_rules(tickets: bool, callbacks: bool, wave: str | None, *, given: bool) -> list[str]:
    """The follow-up lists' rules for README.txt, one paragraph each (none without the lists)."""
    if not (tickets or callbacks):
        return []
    days = followup.RESPONSE_DAYS
    due = []
    if tickets:
        due += [
            f"{days['recovery']} days after the ticket was opened for a recovery call",
            f"{days['testimonial']} for a testimonial request",
        ]
    if callbacks:
        due.append(f"{days['callback']} days after the survey was submitted for a callback")
    rules = [
        "Why listed: every row states, in words, the rule that put it there (for a ticket, its "
        "rating and the ratings that call for a recovery call or a testimonial request).",
        f"Due: the day by which to act, in calendar days: {'; '.join(due)}. Rows come earliest "
        "Due first; a Due in the past is overdue.",
    ]
    if tickets:
        rules.append(
            f"Open items only. Tickets: those {_WINDOW}; a survey without ticket dates keeps "
            "every ticket and has no Due."
        )
    if callbacks:
        which = "the wave asked for" if given else "the latest wave in the data"
        rules.append(
            f"Open items only. Complaints: those of wave {wave} ({which}); complaints of earlier "
            "waves were due in their own wave and are left out."
            if wave is not None
            else "Complaints: every complaint (the relationship survey has no wave column)."
        )
    rules.append(
        "followup_counts.csv counts the same rows as the lists. Every file of a list has the "
        "same columns; the region is not one of them (a list is per country, and the country "
        "gives the region)."
    )
    return rules


@dataclass(frozen=True)
class _RoutingPlan:
    """What the organisation mapping routes in this study, and why not the rest."""

    routes: pd.DataFrame | None  # routing.account_routes, when the at-risk lists are routed
    followups: dict[str, Routing]
    not_routed: tuple[str, ...]


def _plan_routing(
    organisation: Organisation | None,
    match: accounts.AccountMatch | None,
    aliases: pd.DataFrame | None,
    responses: pd.DataFrame,
    transactions: pd.DataFrame | None,
    *,
    tickets: bool,
    callbacks: bool,
) -> _RoutingPlan | None:
    """The routing of the lists that are built; None without an organisation mapping."""
    if organisation is None:
        return None
    not_routed: list[str] = []
    no_accounts = "not routed — the organisation mapping lists no accounts."
    routes = None
    if match is not None and organisation.accounts:
        routes = routing.account_routes(match, organisation, aliases=aliases)
    elif match is not None:
        not_routed.append(f"{_AT_RISK}: {no_accounts}")
    followups: dict[str, Routing] = {}
    if tickets:
        ticket = routing.ticket_routing(transactions, organisation)
        if ticket is not None:
            followups.update(recovery=ticket, testimonial=ticket)
        elif not organisation.products:
            not_routed.append(
                f"{_TICKETS}: not routed — the organisation mapping lists no products."
            )
        else:
            not_routed.append(
                f"{_TICKETS}: not routed — the transaction survey has no product column (role "
                "`product`, or a column named `product`)."
            )
    callback = None
    if callbacks and match is not None and routes is not None:
        callback = routing.callback_routing(responses, match, routes, organisation)
    if callback is not None:
        followups["callback"] = callback
    elif callbacks:
        why = (
            no_accounts
            if match is not None
            else ("not routed — the relationship survey has no account column (role `account`).")
        )
        not_routed.append(f"{_CALLBACK}: {why}")
    return _RoutingPlan(routes, followups, tuple(not_routed))


def _rows(path: Path) -> int:
    """Data rows of a CSV the lists wrote (a quoted line break stays in its cell)."""
    return len(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"))


def _split_counts(
    written: Sequence[Path], whole: Path, folder: Path, prefix: str
) -> tuple[int, int, int, int]:
    """Counted in the files written: rows of the list, rows routed, recipients with a row,
    rows unrouted (``<folder>/<prefix>unrouted.csv``)."""
    unrouted = folder / f"{prefix}{UNROUTED}.csv"
    split = [
        _rows(p)
        for p in written
        if p.parent == folder and p.name.startswith(prefix) and p != unrouted
    ]
    return _rows(whole), sum(split), sum(1 for n in split if n), _rows(unrouted)


def _routing_rules(lists_dir: Path, written: Sequence[Path], plan: _RoutingPlan) -> list[str]:
    """README.txt's ROUTING: which mapping field decides who gets a row, with the counts."""
    rules = [
        "Who gets a row is decided by the organisation mapping (organisation.yaml in the raw "
        "folder, see docs/organisation.md), as `csat data` wrote it to the processed folder. A "
        "row the mapping cannot place is never dropped: it goes to the unrouted file of its "
        "folder, counted here."
    ]
    folder = lists_dir / "accounts"
    if plan.routes is not None:
        n, routed, people, unrouted = _split_counts(
            written, folder / "at_risk_all.csv", folder / "by_manager", ""
        )
        rules.append(
            "At-risk accounts go to the account manager the mapping names for the account "
            "(`account_manager` under `accounts`): accounts/by_manager/<manager>.csv, one file "
            "per account manager of the mapping with their accounts of every country; and to "
            "each business unit of the account (`business_units`): "
            "accounts/by_unit/at_risk_<unit>.csv, an account in two units in both. Account "
            "names are matched as the lists match them (case, accents, punctuation and legal "
            f"forms ignored, the alias file applied). {n} at-risk rows: {routed} routed to "
            f"{people} account managers, {unrouted} not in the organisation mapping (no unit, "
            "no manager: those columns empty) in accounts/by_manager/unrouted.csv and "
            "accounts/by_unit/unrouted.csv."
        )
    folder = lists_dir / "followup"
    counted = []
    for name, words in (("recovery", "Recovery calls"), ("testimonial", "Testimonial requests")):
        if name in plan.followups:
            n, routed, people, unrouted = _split_counts(
                written, folder / f"{name}_all.csv", folder / "by_owner", f"{name}_"
            )
            counted.append(
                f"{words}: {n} rows, {routed} routed to {people} owners, {unrouted} whose "
                f"product is not in the organisation mapping in "
                f"followup/by_owner/{name}_{UNROUTED}.csv."
            )
    if counted:
        rules.append(
            "Recovery calls and testimonial requests go to the owner of the ticket's product "
            "(`owner` under `products`; Function is the product's `function`): "
            "followup/by_owner/recovery_<owner>.csv and testimonial_<owner>.csv, one of each "
            "per product owner of the mapping (two files, not one with a list column: a "
            f"recovery call is due within {_DAYS['recovery']} days, a testimonial request "
            f"within {_DAYS['testimonial']}). " + " ".join(counted)
        )
    if "callback" in plan.followups:
        n, routed, people, unrouted = _split_counts(
            written, folder / "callback_all.csv", folder / "by_manager", "callback_"
        )
        rules.append(
            "Complaint callbacks go to the account manager of the respondent's account "
            "(`account_manager` under `accounts`, the account matched as for the at-risk "
            f"lists): followup/by_manager/callback_<manager>.csv. {n} rows, {routed} routed to "
            f"{people} account managers, {unrouted} whose account is not in the organisation "
            f"mapping in followup/by_manager/callback_{UNROUTED}.csv."
        )
    rules += list(plan.not_routed)
    rules.append(
        "In each folder the rows routed plus the rows unrouted are the rows of the list's _all "
        "file (the business-unit files hold more when an account is in two units). A routed "
        "file holds rows of the list it splits, under that list's rules: account-level "
        "aggregates only under accounts/, contact details only of customers who agreed to be "
        "contacted under followup/."
    )
    return rules


def _readme(
    written: Sequence[Path],
    skipped: Sequence[str],
    rule: str | None,
    followups: Sequence[str] = (),
    routes: Sequence[str] = (),
) -> str:
    """README.txt: the files by kind, the lists not built and why, the at-risk rule, the
    follow-up lists' rules (:func:`_followup_rules`), the routing (:func:`_routing_rules`)."""

    def para(text: str, indent: str = "", *, hyphens: bool = True) -> list[str]:
        return textwrap.wrap(
            text, 88, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=hyphens
        )

    groups: dict[str, list[str]] = {}
    for path in written:
        kind = _file_kind(path)
        routed = "/" in kind  # a folder of routed files: named once, then its files
        groups.setdefault(kind, []).append(
            path.name if routed else f"{path.parent.name}/{path.name}"
        )
    lines = ["Closing-the-loop lists of this study", "", "IN THIS FOLDER"]
    if not groups:
        lines += para("No lists: the study's tables allow none of them (see below).", "  ")
    for kind, names in groups.items():
        head = f"{kind}/: " if "/" in kind else ""  # file names of people: never split
        lines += para(head + ", ".join(names), "  ", hyphens=not head)
        lines += para(_FILES.get(kind, ""), "      ")
    lines += ["", "NOT IN THIS FOLDER"]
    lines += [f"  {line}" for line in skipped]  # one line each, as in ListsResult.skipped
    if not skipped:
        lines.append("  Nothing: every list was built.")
    if rule is not None:
        lines += [""] + para(
            f"At-risk rule: an account is at risk if {rule}, in the report's wave. Accounts "
            f"with fewer than {accounts.DEFAULT_ACCOUNT_MIN_N} respondents in it show neither "
            "scores nor a flag: their numbers would be one or two people's answers. Trend: the "
            "change of the account's NPS since the previous wave; a fall is called significant "
            f"when a two-sample test of the two waves' respondents gives p < "
            f"{accounts.DECLINE_ALPHA:g} (each account tested on its own)."
        )
    if followups:
        lines += ["", "FOLLOW-UP RULES"]
        for paragraph in followups:
            lines += textwrap.wrap(paragraph, 88, initial_indent="  - ", subsequent_indent="    ")
    if routes:
        lines += ["", "ROUTING"]
        for paragraph in routes:
            lines += textwrap.wrap(paragraph, 88, initial_indent="  - ", subsequent_indent="    ")
    lines += [""] + para(
        "Every CSV is UTF-8 (with BOM) and spreadsheet-safe: a text cell starting with = + - @ "
        "gets a leading apostrophe. The rules and why: docs/closing_the_loop.md."
    )
    return "\n".join(lines) + "\n"


def build_lists(
    processed_dir: Path,
    lists_dir: Path,
    *,
    aliases_path: Path | None = None,
    wave: str = "",
    cases_path: Path | None = None,
    rules: CaseRules | None = None,
    today: date | None = None,
) -> ListsResult:
    """Write every closing-the-loop list the study's tables allow into ``lists_dir``.

    Parameters
    ----------
    processed_dir : pathlib.Path
        Folder of the processed tables (``csat data``): ``responses.parquet`` is required,
        ``transactions.parquet`` and ``revenue.parquet`` are read only if present.
    lists_dir : pathlib.Path
        Output folder (``reports/lists``, or a staging folder), created if missing.  Files of
        lists not built are not removed: give a new or empty folder.
    aliases_path : pathlib.Path, optional
        The account alias file (``alias,canonical``; the project's is
        ``csatlib.config.ACCOUNT_ALIASES``).  None matches account names without one; a path
        that does not exist is an error.
    wave : str
        The report's wave, such as ``"2026-Q3"``: the complaint callbacks hold its complaints
        only, and the at-risk accounts are judged on it (with their trend since the wave
        before).  Empty (default) means the latest wave in the data, as a report without a wave
        parameter shows (:func:`csatlib.loop.followup.callback_wave`).
    cases_path : pathlib.Path, optional
        The case store (:mod:`csatlib.loop.cases`), synced for this wave beforehand
        (:func:`csatlib.loop.tracking.sync_study_cases`): the at-risk, recovery and callback
        lists then hold open cases only, with their ``Case`` id, ``Status`` and ``Due`` date,
        and ``cases/`` and ``escalations/`` are written
        (:func:`csatlib.loop.tracking.write_case_lists`).
    rules : CaseRules, optional
        The follow-up rules (default :func:`csatlib.loop.rules.load_case_rules`), for the
        escalation lists.
    today : datetime.date, optional
        The date the cases are judged on (overdue or not); default today.

    Returns
    -------
    ListsResult
        The files written and one line per list not built.

    Notes
    -----
    What is written, and what each needs:

    - ``accounts/at_risk_<CC>.csv``, ``at_risk_all.csv``
    (:func:`csatlib.loop.accounts.at_risk_list`,
      account-level aggregates only) and ``accounts/review_pairs.csv`` (similar account names
      not merged): an account column (role ``account``).
    - ``followup/recovery_<CC>.csv``, ``recovery_all.csv``, ``testimonial_<CC>.csv`` and
      ``testimonial_all.csv`` (tickets of the last
      :data:`csatlib.loop.followup.TICKET_WINDOW_DAYS` days up to the newest): a transaction
      survey with the roles :data:`csatlib.loop.followup.LIST_ROLES` names;
      ``followup/callback_<CC>.csv`` and ``callback_all.csv`` (complaints of ``wave``): a
      complaint column with contact details and permission; ``followup/followup_counts.csv``
      with either (:func:`csatlib.loop.followup.write_followup_lists`; every row with its
      ``Due`` day and ``Why listed``).
    - with an organisation mapping (``organisation_*.parquet``,
      :func:`csatlib.ingest.organisation.read_organisation`): the at-risk lists gain
      ``Business unit(s)``, ``Account manager`` and ``Manager e-mail`` and are written again
      as ``accounts/by_manager/<manager>.csv`` and ``accounts/by_unit/at_risk_<unit>.csv``;
      the recovery and testimonial lists gain ``Function``, ``Owner`` and ``Owner e-mail``
      (``followup/by_owner/recovery_<owner>.csv``, ``testimonial_<owner>.csv``); the callbacks
      ``Account manager`` and ``Manager e-mail`` (``followup/by_manager/callback_<manager>.csv``).
      Rows the mapping cannot place go to the folder's ``unrouted.csv`` (``<list>_unrouted.csv``)
      (:mod:`csatlib.loop.routing`).  Without a mapping nothing of this is written.
    - ``revenue/unmatched_revenue.csv`` and ``unmatched_survey.csv``
      (:func:`csatlib.loop.accounts.revenue_linkage`): an account column and a revenue table.
    - ``README.txt``: what is in the folder, what is not and why (the ``skipped`` lines), the
      at-risk rule as applied to the study (:func:`csatlib.loop.accounts.study_rule`), the
      follow-up lists' rules (Why listed, Due, which tickets and which wave) and, with a
      mapping, the routing (which field decides, rows routed and unrouted per list).

    Every CSV goes through :func:`csatlib.safety.write_csv_safely` (formula cells neutralized).
    """
    study = load_loop_study(processed_dir, aliases_path=aliases_path, wave=wave)
    lists_dir = Path(lists_dir)
    cases = read_cases(cases_path, today=today) if cases_path is not None else None
    written: list[Path] = []
    skipped: list[str] = []
    rule = None
    plan, match = study.plan, study.match
    tickets, callbacks = study.tickets_skip is None, study.callback_skip is None
    at_risk = None
    if match is None:
        skipped.append(f"{_AT_RISK}: not built — the study has no account column (role `account`).")
    else:
        at_risk = study.at_risk_list()
        written += _account_lists(study, at_risk, lists_dir, cases)
        rule = accounts.study_rule(study.responses).describe()

    skipped += [line for line in (study.tickets_skip, study.callback_skip) if line is not None]
    if tickets or callbacks:
        written += followup.write_followup_lists(
            study.transactions if tickets else None,
            study.responses if callbacks else None,
            lists_dir / "followup",
            wave=wave,
            routing=plan.followups if plan is not None else None,
            cases=cases,
        )
    followups = _followup_rules(tickets, callbacks, study.wave, given=bool(wave))

    revenue = study.revenue
    if revenue is None:
        skipped.append(f"{_REVENUE}: not built — the study has no revenue table (kind `revenue`).")
    elif match is None:
        skipped.append(
            f"{_REVENUE}: not built — the study has no account column (role `account`) to link "
            "revenue to."
        )
    else:
        written += _revenue_lists(study.responses, revenue, match, lists_dir)

    tracked: list[str] = []
    if cases is not None:
        from csatlib.loop import tracking

        rules = rules if rules is not None else load_case_rules()
        found = tracking.escalations_of(study, rules, at_risk, today=today)
        written += tracking.write_case_lists(cases, found, lists_dir, today=today)
        tracked = tracking.readme_lines(cases, found, rules, today=today)

    readme = lists_dir / "README.txt"
    readme.parent.mkdir(parents=True, exist_ok=True)
    routes = _routing_rules(lists_dir, written, plan) if plan is not None else []
    text = _readme(written, skipped, rule, followups, routes)
    if tracked:
        text += "\nCASES\n" + "".join(
            textwrap.fill(p, 88, initial_indent="  - ", subsequent_indent="    ") + "\n"
            for p in tracked
        )
    readme.write_text(text, encoding="utf-8")
    return ListsResult(written=(*written, readme), skipped=tuple(skipped))


@dataclass(frozen=True)
class LoopStudy:
    """What the closing-the-loop lists of a study are made of (:func:`load_loop_study`)."""

    responses: pd.DataFrame
    transactions: pd.DataFrame | None
    revenue: pd.DataFrame | None
    organisation: Organisation | None
    aliases: pd.DataFrame | None
    match: accounts.AccountMatch | None
    plan: _RoutingPlan | None
    tickets_skip: str | None
    callback_skip: str | None
    wave: str | None  # the report's wave (the callbacks' and the at-risk judgement's)
    wave_given: str = ""

    def at_risk_list(self) -> pd.DataFrame:
        """The at-risk accounts of the wave, with their routing when the study has a mapping."""
        if self.match is None:
            raise DataError("at_risk_list: the study has no account column (role `account`)")
        at_risk = accounts.at_risk_list(
            self.responses, self.match, revenue=self.revenue, wave=self.wave_given
        )
        if self.plan is not None and self.plan.routes is not None:
            at_risk = routing.with_account_routes(at_risk, self.plan.routes)
        return at_risk


def load_loop_study(
    processed_dir: Path, *, aliases_path: Path | None = None, wave: str = ""
) -> LoopStudy:
    """Read what the lists need from the processed folder (see :func:`build_lists`)."""
    processed_dir = Path(processed_dir)
    aliases = _aliases(aliases_path)  # a wrong path is an error whatever the study holds
    responses = load_processed("responses", processed_dir)
    transactions = _optional_table("transactions", processed_dir)
    revenue = _optional_table("revenue", processed_dir)
    organisation = read_organisation(processed_dir)
    account_column = next(iter(roles.names(responses, "account")), None)
    match = None
    if account_column is not None:
        match = accounts.match_accounts(responses[account_column], aliases=aliases)
    tickets_skip, callback_skip = _tickets_skip(transactions), _callback_skip(responses)
    plan = _plan_routing(
        organisation,
        match,
        aliases,
        responses,
        transactions,
        tickets=tickets_skip is None,
        callbacks=callback_skip is None,
    )
    chosen = followup.callback_wave(responses, wave) if callback_skip is None else None
    waves = roles.names(responses, "wave")
    if chosen is None and waves:
        chosen = wave or roles.wave_order(responses[waves[0]])[-1]
    return LoopStudy(
        responses=responses,
        transactions=transactions,
        revenue=revenue,
        organisation=organisation,
        aliases=aliases,
        match=match,
        plan=plan,
        tickets_skip=tickets_skip,
        callback_skip=callback_skip,
        wave=chosen,
        wave_given=wave,
    )
