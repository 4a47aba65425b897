"""Follow-up lists: who the support and recovery teams call back, with the respondents' permission.

Three lists, each with contact details only for respondents who gave permission (the column with
codebook role ``contact_ok`` True); everyone else is counted, never listed:

* recovery: transaction-survey tickets rated in the lowest points of their scale (by default the
  two lowest: 1-2 on a 1-5 scale);
* testimonial: tickets rated in the highest points (by default the two highest: 4-5 on 1-5),
  candidates for testimonials and best practice;
* callback: relationship-survey respondents who wrote a complaint.

Every row says why it is there (``why_listed``: the rating and the list's rule in words) and by
when it should be acted on (``due``: :data:`RESPONSE_DAYS` after the ticket was opened or the
survey submitted); rows come earliest ``due`` first.  The written lists hold open items only:
tickets of the last :data:`TICKET_WINDOW_DAYS` days and complaints of the report's wave
(:func:`callback_wave`); :func:`followup_counts` counts the same rows.

These lists are for the people who call customers back, so they carry what a call needs (the
ticket comment or the complaint text and the contact details) of the customers who agreed to be
contacted.  With an organisation mapping, :func:`write_followup_lists` also splits them by who
calls (``routing=``, :mod:`csatlib.loop.routing`): a ticket goes to the owner of its product, a
complaint to the account manager of the respondent's account, who calls back with that
permission.  The account-manager list of accounts at risk,
:func:`csatlib.loop.accounts.at_risk_list`, never carries any of it.  Country reports show
:func:`followup_counts` only.

Which columns are the id, the rating, the comment, the complaint, the permission and the contact
details is read from the tables' codebook roles (``df.attrs``, :mod:`csatlib.roles`);
:data:`LIST_ROLES` says what each list needs and :func:`missing_roles` what a study lacks for it.
See docs/closing_the_loop.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from csatlib import roles
from csatlib.errors import DataError, require_columns
from csatlib.loop.recipients import UNROUTED, Routing, write_by_recipient
from csatlib.safety import write_csv_safely
from csatlib.validation import check_min_n

__all__ = [
    "LIST_ROLES",
    "RESPONSE_DAYS",
    "TICKET_WINDOW_DAYS",
    "missing_roles",
    "recovery_list",
    "testimonial_list",
    "callback_list",
    "callback_wave",
    "callback_rows",
    "recent_tickets",
    "followup_counts",
    "write_followup_lists",
]

ListName = Literal["recovery", "testimonial", "callback"]

#: Days of tickets the written recovery and testimonial lists hold, counted back from the newest
#: ticket in the data: older tickets are no longer worth a call (closed, or the moment passed).
TICKET_WINDOW_DAYS: int = 30

#: Calendar days within which each list's follow-up should happen (its ``due`` date), counted from
#: the row's date (role ``date``): when the ticket was opened (recovery, testimonial) or the survey
#: was submitted (callback).  A recovery call is urgent (the customer is still upset and the case
#: can still be put right); a complaint callback needs a few days to look into the complaint; a
#: testimonial request can wait, but not until the good experience is forgotten.
RESPONSE_DAYS: Mapping[str, int] = {"recovery": 2, "callback": 5, "testimonial": 14}

#: Codebook roles each list needs (besides ``country``): the recovery and testimonial lists from
#: the transaction survey (``overall`` is the ticket rating), the callback list from the
#: relationship survey.
LIST_ROLES: Mapping[str, tuple[str, ...]] = {
    "recovery": ("id", "overall", "contact_ok", "contact"),
    "testimonial": ("id", "overall", "contact_ok", "contact"),
    "callback": ("id", "complaint", "contact_ok", "contact"),
}

# Columns every list adds to the table's own: when to act, and the rule that put the row there.
_DUE = "due"
_WHY = "why_listed"
# The case columns of a tracked list (csatlib.loop.cases.with_cases), under people's headers.
_CASE_HEADERS = {"case_id": "Case", "case_status": "Status"}
_CALLBACK_RULE = "callback when a complaint is written and contact is allowed"


@dataclass(frozen=True)
class _Columns:
    """The columns of one table that a list uses, resolved from its codebook roles."""

    id: str
    contact_ok: str
    contacts: tuple[str, ...]
    texts: tuple[str, ...]  # ticket comments or complaints
    date: str | None = None
    region: str | None = None
    account: str | None = None
    segment: str | None = None
    score: str | None = None
    wave: str | None = None
    details: tuple[str, ...] = ()  # ticket descriptors (role ``other``, e.g. the product line)


def _label(value: object) -> object:
    """A row label as people read it (``3``, not ``np.int64(3)``)."""
    return value.item() if isinstance(value, np.generic) else value


def missing_roles(table: pd.DataFrame, list_name: ListName) -> tuple[str, ...]:
    """Codebook roles ``table`` lacks for a list, in :data:`LIST_ROLES` order.

    Parameters
    ----------
    table : pandas.DataFrame
        Processed table with its codebook roles in ``attrs`` (transactions for ``"recovery"``
        and ``"testimonial"``, responses for ``"callback"``).
    list_name : {"recovery", "testimonial", "callback"}
        The list.

    Returns
    -------
    tuple of str
        The missing roles (``()``: the list can be built).  A table without any roles lacks all.
    """
    if list_name not in LIST_ROLES:
        raise DataError(f"list_name: expected one of {sorted(LIST_ROLES)}, found {list_name!r}")
    declared = set(roles.roles(table).values())
    return tuple(r for r in LIST_ROLES[list_name] if r not in declared)


def _first(df: pd.DataFrame, role: str) -> str | None:
    found = roles.names(df, role)
    return found[0] if found else None


def _wave_column(df: pd.DataFrame) -> str | None:
    """The wave column (role ``wave``; ``csat data`` always writes one named ``wave``)."""
    found = _first(df, "wave")
    return found if found is not None else ("wave" if "wave" in df.columns else None)


def _resolve(df: pd.DataFrame, list_name: ListName, what: str) -> _Columns:
    """The columns ``list_name`` uses in ``df``; a DataError names a missing role or column."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what}: expected a DataFrame, found {type(df).__name__}")
    if not roles.roles(df):
        raise DataError(
            f"{what}: the table carries no codebook roles (df.attrs['roles'] is empty); read it "
            "with csatlib.ingest.clean.load_processed"
        )
    lacking = missing_roles(df, list_name)
    if lacking:
        raise DataError(
            f"{what}: the study has no column with role(s) {list(lacking)}; the {list_name} "
            f"list needs {list(LIST_ROLES[list_name])}"
        )
    declared = roles.roles(df)

    def named(role: str) -> list[str]:  # declared in the codebook, present or not
        return [c for c, r in declared.items() if r == role]

    transaction = list_name != "callback"
    cols = _Columns(
        id=named("id")[0],
        contact_ok=named("contact_ok")[0],
        contacts=tuple(named("contact")),
        texts=tuple(roles.names(df, "comment") if transaction else named("complaint")),
        date=_first(df, "date"),
        region=_first(df, "region") if transaction else None,
        account=_first(df, "account"),
        segment=None if transaction else _first(df, "segment"),
        score=named("overall")[0] if transaction else None,
        wave=None if transaction else _wave_column(df),
        # the ticket's other details and its product line (what its owner is routed by)
        details=tuple(
            c
            for c, r in declared.items()
            if r in ("other", "product") and c in df.columns and c != "competitor"
        )
        if transaction
        else (),
    )
    need = ["country", cols.id, cols.contact_ok, *cols.contacts, *cols.texts]
    require_columns(df, need + ([cols.score] if cols.score else []), what)
    return cols


def _permission(df: pd.DataFrame, column: str) -> np.ndarray:
    """The permission column as a bool array; <NA> (not asked / not answered) is no permission."""
    ok = df[column]
    if not pd.api.types.is_bool_dtype(ok.dtype):
        values = ok.dropna()
        bad = ~values.map(type).isin([bool, np.bool_])
        if bad.any():
            row = values.index[bad.to_numpy()][0]
            raise DataError(
                f"column {column!r}, row {_label(row)!r}: expected True/False/<NA>, "
                f"found {values[row]!r}"
            )
    return ok.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _score(df: pd.DataFrame, column: str) -> tuple[pd.Series, tuple[int, int]]:
    """The ticket rating as numbers, checked against its codebook scale."""
    scales = roles.scales(df)
    if column not in scales:
        raise DataError(
            f"column {column!r} (the ticket rating, role 'overall') has no scale in the table's "
            f"codebook attrs (df.attrs['scales'] knows {sorted(scales)})"
        )
    lo, hi = scales[column]
    score = pd.to_numeric(df[column], errors="coerce")
    bad = df[column].notna() & (score.isna() | ~score.between(lo, hi))
    if bad.any():
        row = df.index[bad.to_numpy()][0]
        raise DataError(
            f"column {column!r}, row {_label(row)!r}: expected {lo}-{hi}, "
            f"found {df.loc[row, column]!r}"
        )
    return score, (lo, hi)


def _bounds(
    scale: tuple[int, int], score_max: int | None, score_min: int | None
) -> tuple[int, int]:
    """Recovery up to ``score_max``, testimonials from ``score_min``: default the two end points."""
    lo, hi = scale
    return (lo + 1 if score_max is None else score_max, hi - 1 if score_min is None else score_min)


def _own_brand(df: pd.DataFrame, include_competitors: bool) -> pd.DataFrame:
    return df if include_competitors else roles.own_customers(df)


def _span(low: int, high: int) -> str:
    """ "ratings 1–2", or "a rating of 1" when the rule holds one point."""
    return f"ratings {low}–{high}" if low < high else f"a rating of {low}"


def _listed(
    rows: pd.DataFrame, cols: _Columns, why: np.ndarray | str, list_name: ListName
) -> pd.DataFrame:
    """``rows`` under their canonical names with ``due`` and ``why_listed``, earliest due first.

    ``due`` is the calendar day :data:`RESPONSE_DAYS` ``[list_name]`` days after the row's date
    (only with a date role; a row without a date has no due day and comes last).
    """
    head = [cols.account, "country", cols.segment, cols.id, cols.date]
    head = [c for c in dict.fromkeys(head) if c is not None]
    tail = [*cols.details, cols.score, *cols.texts, *cols.contacts]
    tail = [c for c in dict.fromkeys(tail) if c is not None and c not in head]
    out = rows[head + tail].copy()
    if cols.score is not None:
        out[cols.score] = pd.to_numeric(out[cols.score]).astype("Int64")
    added = [_WHY]
    if cols.date is not None:
        opened = pd.to_datetime(out[cols.date], errors="coerce")
        out[_DUE] = (opened + pd.Timedelta(days=RESPONSE_DAYS[list_name])).dt.normalize()
        added.insert(0, _DUE)
    out[_WHY] = why
    out = out[head + added + tail]
    by = [c for c in (_DUE if cols.date else None, cols.id) if c is not None]
    out = out.sort_values(by, kind="stable", na_position="last")
    return out.reset_index(drop=True)


def _ticket_list(
    transactions: pd.DataFrame,
    cols: _Columns,
    keep: np.ndarray,
    *,
    list_name: ListName,
    rule: str,
    top: int,
) -> pd.DataFrame:
    """The kept tickets with permission; ``why_listed``: the rating "of ``top``" and ``rule``."""
    rows = transactions[keep & _permission(transactions, cols.contact_ok)]
    rating = pd.to_numeric(rows[cols.score]).astype("Int64").astype("string")
    why = ("Ticket rated " + rating + f" of {top} ({rule})").to_numpy(dtype=object)
    return _listed(rows, cols, why, list_name)


def recovery_list(transactions: pd.DataFrame, *, csat_max: int | None = None) -> pd.DataFrame:
    """Tickets to recover: rating <= ``csat_max`` and permission to contact, earliest due first.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Processed transaction survey with its codebook roles in ``attrs``: the ticket id (role
        ``id``), ``country``, the rating (role ``overall``, with a scale), the permission (role
        ``contact_ok``) and the contact details (role ``contact``); optional a date, the
        account, comments (role ``comment``) and ticket descriptors (role ``other``, e.g. the
        product line).
    csat_max : int, optional
        Highest rating that calls for recovery.  Default the second-lowest point of the rating's
        scale: 2 on a 1-5 scale ("dissatisfied" and "very dissatisfied").

    Returns
    -------
    pandas.DataFrame
        One row per ticket whose respondent allowed contact: the account, ``country``, the id,
        the date, ``due`` (the day the ticket was opened plus ``RESPONSE_DAYS["recovery"]``
        days; only with a date), ``why_listed`` (e.g. "Ticket rated 1 of 5 (recovery call for
        ratings 1–2)"), the descriptors, the rating (Int64), the comments and the contact
        columns, each under its canonical name and only if the study has it (the sample:
        ``account, country, ticket_id, date, due, why_listed, product, csat, comment,
        contact_name, contact_email``).  Sorted by ``due`` (earliest first: the most urgent
        call) then id.  Tickets without permission are left out; :func:`followup_counts`
        counts them.  Every ticket is listed, whatever its age: :func:`write_followup_lists`
        keeps the open ones.
    """
    cols = _resolve(transactions, "recovery", "recovery_list: transactions")
    score, scale = _score(transactions, cols.score)
    bound, _ = _bounds(scale, csat_max, None)
    keep = (score <= bound).fillna(False).to_numpy(dtype=bool)
    rule = f"recovery call for {_span(scale[0], bound)}"
    return _ticket_list(transactions, cols, keep, list_name="recovery", rule=rule, top=scale[1])


def testimonial_list(transactions: pd.DataFrame, *, csat_min: int | None = None) -> pd.DataFrame:
    """Testimonial / best-practice candidates: rating >= ``csat_min`` with permission, earliest
    due first.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Processed transaction survey, as for :func:`recovery_list`.
    csat_min : int, optional
        Lowest rating that qualifies.  Default the second-highest point of the rating's scale:
        4 on a 1-5 scale ("satisfied" and "very satisfied").

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`recovery_list`; ``due`` is ``RESPONSE_DAYS["testimonial"]`` days
        after the ticket was opened and ``why_listed`` e.g. "Ticket rated 5 of 5 (testimonial
        request for ratings 4–5)".  Sorted by ``due`` then id.  Asking for a published
        testimonial needs its own, explicit consent; this list only says whom to ask.
    """
    cols = _resolve(transactions, "testimonial", "testimonial_list: transactions")
    score, scale = _score(transactions, cols.score)
    _, bound = _bounds(scale, None, csat_min)
    keep = (score >= bound).fillna(False).to_numpy(dtype=bool)
    rule = f"testimonial request for {_span(bound, scale[1])}"
    return _ticket_list(transactions, cols, keep, list_name="testimonial", rule=rule, top=scale[1])


def _has_text(df: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """True where any of ``columns`` holds a non-blank text."""
    has = np.zeros(len(df), dtype=bool)
    for c in columns:  # one or two complaint columns
        has |= df[c].astype("string").str.strip().fillna("").ne("").to_numpy(dtype=bool)
    return has


def callback_list(responses: pd.DataFrame, *, include_competitors: bool = False) -> pd.DataFrame:
    """Relationship-survey complaints to call back, earliest due first.

    Parameters
    ----------
    responses : pandas.DataFrame
        Processed relationship survey with its codebook roles in ``attrs``: the response id
        (role ``id``), ``country``, the complaint (role ``complaint``), the permission (role
        ``contact_ok``) and the contact details (role ``contact``); optional a date, the wave,
        the account, the segment and ``competitor`` (only with a brand column).
    include_competitors : bool
        Keep competitors' customers (default no: their complaint is about another supplier).

    Returns
    -------
    pandas.DataFrame
        One row per respondent with a non-empty complaint who allowed contact: the account,
        ``country``, the segment, the id, the date, ``due`` (the submission day plus
        ``RESPONSE_DAYS["callback"]`` days; only with a date), ``why_listed`` ("Complaint in
        the relationship survey, wave 2026-Q3 (callback when a complaint is written and contact
        is allowed)"; without a wave column the wave is not named), the complaint(s) and the
        contact columns, each under its canonical name and only if the study has it (the
        sample: ``account, country, segment, response_id, date, due, why_listed, complaint,
        contact_name, contact_email``).  Sorted by ``due`` (submission time) then id.  No other
        verbatim and no score travels.  Every wave is listed: :func:`write_followup_lists`
        keeps the report's (:func:`callback_wave`).
    """
    cols = _resolve(responses, "callback", "callback_list: responses")
    r = _own_brand(responses, include_competitors)
    r = r[_has_text(r, cols.texts) & _permission(r, cols.contact_ok)]
    why: np.ndarray | str = f"Complaint in the relationship survey ({_CALLBACK_RULE})"
    if cols.wave is not None:
        wave = r[cols.wave].astype("string").fillna("unknown")
        survey = "Complaint in the relationship survey, wave " + wave
        why = (survey + f" ({_CALLBACK_RULE})").to_numpy(dtype=object)
    return _listed(r, cols, why, "callback")


def _counted(table: pd.DataFrame | None, list_name: ListName, what: str) -> bool:
    """Whether ``table`` contributes rows for ``list_name`` to the counts."""
    if table is None:
        return False
    if isinstance(table, pd.DataFrame) and not roles.roles(table):
        raise DataError(
            f"{what}: the table carries no codebook roles (df.attrs['roles'] is empty); read it "
            "with csatlib.ingest.clean.load_processed"
        )
    return not missing_roles(table, list_name)


def _ticket_rows(
    transactions: pd.DataFrame, csat_max: int | None, csat_min: int | None
) -> list[pd.DataFrame]:
    """One row per ticket and ticket list: region, country, eligible, listed (with permission)."""
    cols = _resolve(transactions, "recovery", "followup_counts: transactions")
    score, scale = _score(transactions, cols.score)
    low, high = _bounds(scale, csat_max, csat_min)
    ok = _permission(transactions, cols.contact_ok)
    region = (
        transactions[cols.region].astype("string").to_numpy()
        if cols.region
        else pd.array([pd.NA] * len(transactions), dtype="string")
    )
    country = transactions["country"].astype("string").to_numpy()
    parts = []
    for name, eligible in (
        ("recovery", (score <= low).fillna(False).to_numpy(dtype=bool)),
        ("testimonial", (score >= high).fillna(False).to_numpy(dtype=bool)),
    ):
        parts.append(
            pd.DataFrame(
                {
                    "list": name,
                    "region": region,
                    "country": country,
                    "eligible": eligible,
                    "listed": eligible & ok,
                }
            )
        )
    return parts


def _callback_rows(responses: pd.DataFrame, include_competitors: bool) -> pd.DataFrame:
    """One row per (own-brand) respondent: country, eligible (a complaint), listed."""
    cols = _resolve(responses, "callback", "followup_counts: responses")
    r = _own_brand(responses, include_competitors)
    eligible = _has_text(r, cols.texts)
    return pd.DataFrame(
        {
            "list": "callback",
            "region": pd.array([pd.NA] * len(r), dtype="string"),
            "country": r["country"].astype("string").to_numpy(),
            "eligible": eligible,
            "listed": eligible & _permission(r, cols.contact_ok),
        }
    )


def followup_counts(
    transactions: pd.DataFrame | None = None,
    responses: pd.DataFrame | None = None,
    *,
    country: str | None = None,
    csat_max: int | None = None,
    csat_min: int | None = None,
    include_competitors: bool = False,
    window_days: int | None = TICKET_WINDOW_DAYS,
    wave: str | None = "",
) -> pd.DataFrame:
    """How many follow-ups each list holds and how many were withheld for lack of permission.

    Counts the rows :func:`write_followup_lists` writes with the same arguments: open items
    only (tickets of the window, complaints of the wave), and ``listed`` is the number of rows
    of the list.

    Parameters
    ----------
    transactions, responses : pandas.DataFrame, optional
        As for :func:`recovery_list` and :func:`callback_list`; either may be omitted.  A table
        whose study lacks a role a list needs (:func:`missing_roles`, e.g. no complaint column)
        adds no rows for that list.  Pass every country's rows and ``country=`` for one country:
        the window and the wave are those of the tables given.
    country : str, optional
        Keep one country (ISO alpha-2), for a country report.
    csat_max, csat_min, include_competitors
        As in the list functions.
    window_days : int or None
        Count the tickets of the last ``window_days`` days up to the newest ticket of
        ``transactions`` (default :data:`TICKET_WINDOW_DAYS`); None counts every ticket.
    wave : str or None
        Count the complaints of this wave; ``""`` (default) the latest wave of ``responses``,
        None every wave (:func:`callback_wave`).

    Returns
    -------
    pandas.DataFrame
        ``list`` (``"recovery"``, ``"testimonial"``, ``"callback"``), ``region`` (<NA> for
        callbacks and for a transaction survey without a region), ``country``, ``eligible``,
        ``listed`` (with permission), ``withheld_no_permission``.  Counts only, never a name or
        a text; ``eligible = listed + withheld_no_permission``.
    """
    if transactions is None and responses is None:
        raise DataError("followup_counts: expected transactions and/or responses, found neither")
    parts = []
    if _counted(transactions, "recovery", "followup_counts: transactions"):
        recent = recent_tickets(transactions, window_days, what="followup_counts")
        parts += _ticket_rows(recent, csat_max, csat_min)
    if _counted(responses, "callback", "followup_counts: responses"):
        current = callback_rows(responses, wave)
        parts.append(_callback_rows(current, include_competitors))
    columns = ["list", "region", "country", "eligible", "listed", "withheld_no_permission"]
    if not parts:
        return pd.DataFrame({c: [] for c in columns})
    rows = pd.concat(parts, ignore_index=True)
    if country is not None:
        rows = rows[rows["country"].eq(country).fillna(False).to_numpy()]
    rows = rows[rows["eligible"].to_numpy()]
    out = rows.groupby(["list", "region", "country"], dropna=False, sort=True).agg(
        eligible=("eligible", "size"), listed=("listed", "sum")
    )
    out["listed"] = out["listed"].astype(int)
    out["withheld_no_permission"] = out["eligible"] - out["listed"]
    out = out.reset_index()
    order = {"recovery": 0, "testimonial": 1, "callback": 2}
    out = out.sort_values(
        ["list", "region", "country"], key=lambda c: c.map(order) if c.name == "list" else c
    )
    return out[columns].reset_index(drop=True)


def recent_tickets(
    transactions: pd.DataFrame, window_days: int | None, *, what: str
) -> pd.DataFrame:
    """Tickets of the last ``window_days`` days up to the newest one; all without a date role
    (the tickets the recovery and testimonial lists and their counts draw from; ``what`` names
    the caller in a message about ``window_days``).

    A ticket without a date cannot be placed in the window and is left out.
    """
    if window_days is not None:
        window_days = check_min_n(window_days, func=what, param="window_days")
    date = _first(transactions, "date")
    if window_days is None or date is None:
        return transactions
    when = pd.to_datetime(transactions[date], errors="coerce")
    if when.isna().all():
        return transactions.iloc[:0]
    since = when.max() - pd.Timedelta(days=window_days)
    keep = transactions[(when >= since).fillna(False).to_numpy(dtype=bool)]
    keep.attrs = transactions.attrs
    return keep


def callback_wave(responses: pd.DataFrame, wave: str | None = "") -> str | None:
    """The wave whose complaints the callback list holds: the report's wave.

    Parameters
    ----------
    responses : pandas.DataFrame
        Processed relationship survey (every wave; its wave column has role ``wave``).
    wave : str or None
        A wave label such as ``"2026-Q3"``; ``""`` (default) the latest wave in ``responses``
        (:func:`csatlib.roles.wave_order`), as a report without a wave parameter shows; None:
        no wave (every complaint is kept).

    Returns
    -------
    str or None
        The wave, or None: ``wave`` is None, or the survey has no wave column or no wave.

    Raises
    ------
    DataError
        ``wave`` is not a string or None, names a wave the data do not hold, or is given for a
        survey without a wave column.
    """
    if wave is not None and not isinstance(wave, str):
        raise DataError(f"wave: expected a label such as '2026-Q3', '' or None, found {wave!r}")
    column = _wave_column(responses) if wave is not None else None
    if column is None:
        if wave:
            raise DataError(f"wave: {wave!r} given, but the relationship survey has no wave column")
        return None
    order = roles.wave_order(responses[column])
    if not wave:
        return order[-1] if order else None
    if wave not in order:
        raise DataError(
            f"wave: {wave!r} is not a wave of the relationship survey; found "
            f"{', '.join(order) or 'none'}"
        )
    return wave


def callback_rows(responses: pd.DataFrame, wave: str | None) -> pd.DataFrame:
    """The responses the complaint callback list draws from: those of :func:`callback_wave`
    (all of them when it is None)."""
    chosen = callback_wave(responses, wave)
    if chosen is None:
        return responses
    column = _wave_column(responses)
    keep = responses[responses[column].astype("string").eq(chosen).fillna(False).to_numpy()]
    keep.attrs = responses.attrs
    return keep


_LIST_WORDS = {
    "recovery": "recovery calls",
    "testimonial": "testimonial requests",
    "callback": "complaint callbacks",
}


def _country_labels(codes: pd.Series) -> pd.Series:
    """ "Germany (DE)" for each ISO code; a code that is no country stays as it is."""
    from csatlib.ingest.countries import country_name

    names = {}
    for code in codes.dropna().unique():  # a handful of countries
        try:
            names[code] = f"{country_name(str(code))} ({code})"
        except KeyError:
            names[code] = str(code)
    return codes.astype("string").map(names).astype("string")


def _for_people(frame: pd.DataFrame, table: pd.DataFrame, list_name: ListName) -> pd.DataFrame:
    """``frame`` under headers people read: the codebook's labels, "Opened" for a ticket's date,
    "Submitted" for a complaint's, "Due", "Why listed", the rating with its scale, and
    "Germany (DE)" for a code."""
    labels = roles.labels(table)
    declared = roles.roles(table)
    scales = roles.scales(table)
    out = frame.copy()
    out["country"] = _country_labels(out["country"])
    names = {}
    for column in out.columns:  # a dozen columns
        role = declared.get(column)
        if column == "country":
            names[column] = "Country"
        elif column in (_DUE, _WHY):
            names[column] = "Due" if column == _DUE else "Why listed"
        elif column in _CASE_HEADERS:
            names[column] = _CASE_HEADERS[column]
        elif role == "date":
            names[column] = "Submitted" if list_name == "callback" else "Opened"
        elif role == "id":
            names[column] = labels.get(column, "Response" if list_name == "callback" else "Ticket")
        else:
            names[column] = labels.get(column, column.replace("_", " ").capitalize())
        if role == "overall" and column in scales:
            lo, hi = scales[column]
            names[column] += f" ({lo}-{hi})"
    return out.rename(columns=names)


def _counts_for_people(counts: pd.DataFrame) -> pd.DataFrame:
    out = counts.assign(
        list=counts["list"].map(_LIST_WORDS), country=_country_labels(counts["country"])
    )
    return out.rename(
        columns={
            "list": "List",
            "region": "Region",
            "country": "Country",
            "eligible": "Eligible",
            "listed": "Listed (permission to contact)",
            "withheld_no_permission": "Withheld (no permission to contact)",
        }
    )


def _per_country(
    frame: pd.DataFrame, people: pd.DataFrame, countries: list[str], out: Path, name: str
) -> list[Path]:
    """``<name>_<CC>.csv`` for every country (header only when it has nobody), ``<name>_all``."""
    paths = []
    code = frame["country"].astype("string")
    for cc in countries:  # a handful of countries
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", cc)
        keep = code.eq(cc).fillna(False).to_numpy()
        paths.append(write_csv_safely(people[keep], out / f"{name}_{safe}.csv"))
    paths.append(write_csv_safely(people, out / f"{name}_all.csv"))
    return paths


def _write_list(
    frame: pd.DataFrame,
    table: pd.DataFrame,
    countries: list[str],
    out: Path,
    name: ListName,
    route: Routing | None,
) -> list[Path]:
    """One list's files: per country and ``_all``; with ``route`` its columns appended and
    ``<folder>/<name>_<recipient>.csv`` per recipient plus ``<name>_unrouted.csv``."""
    people = _for_people(frame, table, name)
    if route is not None:
        id_column = next(c for c, r in roles.roles(table).items() if r == "id")
        people = route.appended(people, frame[id_column])
    paths = _per_country(frame, people, countries, out, name)
    if route is not None:
        files = {who: f"{name}_{stem}.csv" for who, stem in route.stems.items()}
        paths += write_by_recipient(
            people,
            people[route.recipient],
            out / route.folder,
            files=files,
            unrouted=f"{name}_{UNROUTED}.csv",
        )
    return paths


def _tracked(
    frame: pd.DataFrame, table: pd.DataFrame, cases: pd.DataFrame, name: str
) -> pd.DataFrame:
    """The list's open cases (by the row id, role ``id``), with their case columns after the
    row's id."""
    from csatlib.loop.cases import with_cases

    id_column = next(c for c, r in roles.roles(table).items() if r == "id")
    out = with_cases(frame, cases, name, frame[id_column])
    columns = list(frame.columns)
    at = columns.index(id_column) + 1
    order = [*columns[:at], "case_id", "case_status", *columns[at:]]
    return out[[c for c in dict.fromkeys(order) if c in out.columns]]


def _countries(table: pd.DataFrame) -> list[str]:
    return sorted(set(table["country"].dropna().astype(str)))


def write_followup_lists(
    transactions: pd.DataFrame | None,
    responses: pd.DataFrame | None,
    out_dir: str | Path,
    *,
    csat_max: int | None = None,
    csat_min: int | None = None,
    include_competitors: bool = False,
    window_days: int | None = TICKET_WINDOW_DAYS,
    wave: str | None = "",
    routing: Mapping[str, Routing] | None = None,
    cases: pd.DataFrame | None = None,
) -> tuple[Path, ...]:
    """Write the open follow-ups, per country and all, and their counts through the safe writer.

    Parameters
    ----------
    transactions, responses : pandas.DataFrame or None
        As for the list functions; None skips the lists built from it (pass None for a table
        whose study lacks a role the list needs: :func:`missing_roles`).
    out_dir : str or pathlib.Path
        Folder, created if missing (reports/lists/followup).
    csat_max, csat_min, include_competitors
        As in the list functions.
    window_days : int or None
        Recovery and testimonial lists (and their counts) hold only the tickets of the last
        ``window_days`` days up to the newest ticket in the data (default
        :data:`TICKET_WINDOW_DAYS`); None, or a survey without a date role, keeps every ticket.
    wave : str or None
        Callback lists (and their counts) hold only the complaints of this wave: ``""``
        (default) the latest wave in the data, the report's; None every wave
        (:func:`callback_wave`).  A complaint of an earlier wave was due in its own wave.
    routing : mapping of list name to Routing, optional
        Lists routed to people (:func:`csatlib.loop.routing.ticket_routing`,
        :func:`csatlib.loop.routing.callback_routing`): their columns are appended to every
        file of the list, and each recipient gets ``<folder>/<list>_<stem>.csv`` (header only
        when none of the rows is theirs), the rows without one ``<folder>/<list>_unrouted.csv``.

    cases : pandas.DataFrame, optional
        The case store (:func:`csatlib.loop.cases.read_cases`): the recovery and callback
        lists then hold the open cases only, each with its ``Case`` id, ``Status`` and the
        case's ``Due`` date (its service level; :func:`csatlib.loop.cases.with_cases`).
        Testimonial requests are not cases.

    Returns
    -------
    tuple of pathlib.Path
        ``recovery_<CC>.csv`` for every country of the transactions (header only when a
        country has nobody to call) and ``recovery_all.csv``, then its routed files; the same
        for ``testimonial``; ``callback_<CC>.csv`` and ``callback_all.csv`` for the countries
        of the responses, then its routed files; ``followup_counts.csv`` (:func:`followup_counts`
        of the same rows).

    Notes
    -----
    The files are read by the people who call customers back, so their headers are words: the
    codebook's labels, ``Country`` ("Germany (DE)"), ``Opened`` (a ticket's date) or
    ``Submitted`` (a complaint's), ``Due`` (the day to act by, :data:`RESPONSE_DAYS` after
    it), ``Why listed`` (the rule that put the row there) and the rating with its scale
    ("Ticket satisfaction (1-5)"); rows come earliest ``Due`` first.  Every file of a list has
    the same columns (a routed list's included: its routing columns come last); the transaction
    survey's region is not one of them (the unit is the country, and the region follows from
    it).  The permission rule holds in the routed files too: they split the list's rows.
    """
    what = "write_followup_lists"
    out = Path(out_dir)
    routes = dict(routing or {})
    unknown = sorted(set(routes) - set(LIST_ROLES))
    if unknown:
        raise DataError(f"routing: expected list names among {sorted(LIST_ROLES)}, found {unknown}")
    paths: list[Path] = []
    if transactions is not None:
        countries = _countries(transactions)
        transactions = recent_tickets(transactions, window_days, what=what)
        lists = {
            "recovery": recovery_list(transactions, csat_max=csat_max),
            "testimonial": testimonial_list(transactions, csat_min=csat_min),
        }
        if cases is not None:
            lists["recovery"] = _tracked(lists["recovery"], transactions, cases, "recovery")
        for name, frame in lists.items():
            route = routes.get(name)
            paths += _write_list(frame, transactions, countries, out, name, route)
    if responses is not None:
        countries = _countries(responses)
        responses = callback_rows(responses, wave)
        frame = callback_list(responses, include_competitors=include_competitors)
        if cases is not None:
            frame = _tracked(frame, responses, cases, "callback")
        route = routes.get("callback")
        paths += _write_list(frame, responses, countries, out, "callback", route)
    counts = followup_counts(
        transactions,
        responses,
        csat_max=csat_max,
        csat_min=csat_min,
        include_competitors=include_competitors,
        window_days=None,  # the tables are already the open items
        wave=None,
    )
    paths.append(write_csv_safely(_counts_for_people(counts), out / "followup_counts.csv"))
    return tuple(paths)
