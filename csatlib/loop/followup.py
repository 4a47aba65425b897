"""Follow-up lists: who the support and recovery teams call back, with the respondents' permission.

Three lists, each with contact details only for respondents who gave permission (the column with
codebook role ``contact_ok`` True); everyone else is counted, never listed:

* recovery: transaction-survey tickets rated in the two lowest points of their scale (CSAT 1-2 on
  a 1-5 scale), per region (``recovery_<REGION>.csv``);
* testimonial: tickets rated in the two highest points (CSAT 4-5), candidates for testimonials and
  best practice (``testimonial_<REGION>.csv``);
* callback: relationship-survey respondents who wrote a complaint, oldest first
  (``callback.csv``).

These lists are for the teams that call customers back, so they carry what a call needs (the
ticket comment or the complaint text and the contact details).  Account managers get
:func:`csatlib.loop.accounts.at_risk_list` instead, which never carries any of it.  Country reports
show :func:`followup_counts` only.

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
from csatlib.safety import write_csv_safely

__all__ = [
    "LIST_ROLES",
    "missing_roles",
    "recovery_list",
    "testimonial_list",
    "callback_list",
    "followup_counts",
    "write_followup_lists",
    "TICKET_WINDOW_DAYS",
]

ListName = Literal["recovery", "testimonial", "callback"]

#: Days of tickets the written recovery and testimonial lists hold, counted back from the newest
#: ticket in the data: older tickets are no longer worth a call (closed, or the moment passed).
TICKET_WINDOW_DAYS: int = 30

#: Codebook roles each list needs (besides ``country``): the recovery and testimonial lists from
#: the transaction survey (``overall`` is the ticket rating), the callback list from the
#: relationship survey.
LIST_ROLES: Mapping[str, tuple[str, ...]] = {
    "recovery": ("id", "overall", "contact_ok", "contact"),
    "testimonial": ("id", "overall", "contact_ok", "contact"),
    "callback": ("id", "complaint", "contact_ok", "contact"),
}


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
        details=tuple(c for c in roles.names(df, "other") if c != "competitor")
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


def _ticket_list(
    transactions: pd.DataFrame, cols: _Columns, keep: np.ndarray, *, newest_first: bool
) -> pd.DataFrame:
    t = transactions[keep & _permission(transactions, cols.contact_ok)]
    order = [
        cols.region,
        "country",
        cols.account,
        cols.id,
        cols.date,
        *cols.details,
        cols.score,
        *cols.texts,
        *cols.contacts,
    ]
    out = t[[c for c in dict.fromkeys(order) if c is not None]].copy()
    out[cols.score] = pd.to_numeric(out[cols.score]).astype("Int64")
    by = [c for c in (cols.region, cols.date, cols.id) if c is not None]
    ascending = [c != cols.date or not newest_first for c in by]
    out = out.sort_values(by, ascending=ascending, kind="stable")
    return out.reset_index(drop=True)


def recovery_list(transactions: pd.DataFrame, *, csat_max: int | None = None) -> pd.DataFrame:
    """Tickets to recover: rating <= ``csat_max`` and permission to contact, oldest first.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Processed transaction survey with its codebook roles in ``attrs``: the ticket id (role
        ``id``), ``country``, the rating (role ``overall``, with a scale), the permission (role
        ``contact_ok``) and the contact details (role ``contact``); optional a date, a region,
        the account, comments (role ``comment``) and ticket descriptors (role ``other``, e.g.
        the product line).
    csat_max : int, optional
        Highest rating that calls for recovery.  Default the second-lowest point of the rating's
        scale: 2 on a 1-5 scale ("dissatisfied" and "very dissatisfied").

    Returns
    -------
    pandas.DataFrame
        One row per ticket whose respondent allowed contact: the region, ``country``, the
        account, the id, the date, the descriptors, the rating (Int64), the comments and the
        contact columns, each under its canonical name and only if the study has it (the
        sample: ``region, country, account, ticket_id, date, product, csat, comment,
        contact_name, contact_email``).  Sorted by region then date (oldest first: they have
        waited longest) then id.  Tickets without permission are left out;
        :func:`followup_counts` counts them.
    """
    cols = _resolve(transactions, "recovery", "recovery_list: transactions")
    score, scale = _score(transactions, cols.score)
    bound, _ = _bounds(scale, csat_max, None)
    keep = (score <= bound).fillna(False).to_numpy(dtype=bool)
    return _ticket_list(transactions, cols, keep, newest_first=False)


def testimonial_list(transactions: pd.DataFrame, *, csat_min: int | None = None) -> pd.DataFrame:
    """Testimonial / best-practice candidates: rating >= ``csat_min`` with permission, newest first.

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
        The columns of :func:`recovery_list`, sorted by region then date (newest first: the
        experience is fresh).  Asking for a published testimonial needs its own, explicit
        consent; this list only says whom to ask.
    """
    cols = _resolve(transactions, "testimonial", "testimonial_list: transactions")
    score, scale = _score(transactions, cols.score)
    _, bound = _bounds(scale, None, csat_min)
    keep = (score >= bound).fillna(False).to_numpy(dtype=bool)
    return _ticket_list(transactions, cols, keep, newest_first=True)


def _has_text(df: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """True where any of ``columns`` holds a non-blank text."""
    has = np.zeros(len(df), dtype=bool)
    for c in columns:  # one or two complaint columns
        has |= df[c].astype("string").str.strip().fillna("").ne("").to_numpy(dtype=bool)
    return has


def callback_list(responses: pd.DataFrame, *, include_competitors: bool = False) -> pd.DataFrame:
    """Relationship-survey complaints to call back, in order of submission (oldest first).

    Parameters
    ----------
    responses : pandas.DataFrame
        Processed relationship survey with its codebook roles in ``attrs``: the response id
        (role ``id``), ``country``, the complaint (role ``complaint``), the permission (role
        ``contact_ok``) and the contact details (role ``contact``); optional a date, the
        account, the segment and ``competitor`` (only with a brand column).
    include_competitors : bool
        Keep competitors' customers (default no: their complaint is about another supplier).

    Returns
    -------
    pandas.DataFrame
        One row per respondent with a non-empty complaint who allowed contact: ``country``, the
        account, the segment, the id, the date, the complaint(s) and the contact columns, each
        under its canonical name and only if the study has it (the sample: ``country, account,
        segment, response_id, date, complaint, contact_name, contact_email``).  Sorted by date
        (submission time) then id.  No other verbatim and no score travels.
    """
    cols = _resolve(responses, "callback", "callback_list: responses")
    r = _own_brand(responses, include_competitors)
    r = r[_has_text(r, cols.texts) & _permission(r, cols.contact_ok)]
    order = ["country", cols.account, cols.segment, cols.id, cols.date, *cols.texts, *cols.contacts]
    out = r[[c for c in dict.fromkeys(order) if c is not None]].copy()
    out = out.sort_values([c for c in (cols.date, cols.id) if c is not None], kind="stable")
    return out.reset_index(drop=True)


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


def followup_counts(
    transactions: pd.DataFrame | None = None,
    responses: pd.DataFrame | None = None,
    *,
    country: str | None = None,
    csat_max: int | None = None,
    csat_min: int | None = None,
    include_competitors: bool = False,
) -> pd.DataFrame:
    """How many follow-ups each list holds and how many were withheld for lack of permission.

    Parameters
    ----------
    transactions, responses : pandas.DataFrame, optional
        As for :func:`recovery_list` and :func:`callback_list`; either may be omitted.  A table
        whose study lacks a role a list needs (:func:`missing_roles`, e.g. no complaint column)
        adds no rows for that list.
    country : str, optional
        Keep one country (ISO alpha-2), for a country report.
    csat_max, csat_min, include_competitors
        As in the list functions.

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
        cols = _resolve(transactions, "recovery", "followup_counts: transactions")
        score, scale = _score(transactions, cols.score)
        low, high = _bounds(scale, csat_max, csat_min)
        ok = _permission(transactions, cols.contact_ok)
        region = (
            transactions[cols.region].astype("string").to_numpy()
            if cols.region
            else pd.array([pd.NA] * len(transactions), dtype="string")
        )
        for name, eligible in (
            ("recovery", (score <= low).fillna(False).to_numpy(dtype=bool)),
            ("testimonial", (score >= high).fillna(False).to_numpy(dtype=bool)),
        ):
            parts.append(
                pd.DataFrame(
                    {
                        "list": name,
                        "region": region,
                        "country": transactions["country"].astype("string").to_numpy(),
                        "eligible": eligible,
                        "listed": eligible & ok,
                    }
                )
            )
    if _counted(responses, "callback", "followup_counts: responses"):
        cols = _resolve(responses, "callback", "followup_counts: responses")
        r = _own_brand(responses, include_competitors)
        eligible = _has_text(r, cols.texts)
        parts.append(
            pd.DataFrame(
                {
                    "list": "callback",
                    "region": pd.array([pd.NA] * len(r), dtype="string"),
                    "country": r["country"].astype("string").to_numpy(),
                    "eligible": eligible,
                    "listed": eligible & _permission(r, cols.contact_ok),
                }
            )
        )
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


def _recent(transactions: pd.DataFrame, window_days: int | None) -> pd.DataFrame:
    """Tickets of the last ``window_days`` days up to the newest one; all without a date role.

    A ticket without a date cannot be placed in the window and is left out.
    """
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
    "Submitted" for a complaint's, the rating with its scale, and "Germany (DE)" for a code."""
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
) -> tuple[Path, ...]:
    """Write the follow-up lists, per country and all, and their counts through the safe writer.

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
        Callbacks are not windowed: every complaint waits for its call, oldest first.

    Returns
    -------
    tuple of pathlib.Path
        ``recovery_<CC>.csv`` for every country of the transactions (header only when a
        country has nobody to call) and ``recovery_all.csv``; the same for ``testimonial``;
        ``callback_<CC>.csv`` and ``callback_all.csv`` for the countries of the responses;
        ``followup_counts.csv``.

    Notes
    -----
    The files are read by the people who call customers back, so their headers are words: the
    codebook's labels, ``Country`` ("Germany (DE)"), ``Opened`` (a ticket's date) or
    ``Submitted`` (a complaint's), and the rating with its scale ("Ticket satisfaction (1-5)").
    """
    out = Path(out_dir)
    paths: list[Path] = []
    if transactions is not None:
        countries = _countries(transactions)
        recent = _recent(transactions, window_days)
        lists = {
            "recovery": recovery_list(recent, csat_max=csat_max),
            "testimonial": testimonial_list(recent, csat_min=csat_min),
        }
        for name, frame in lists.items():
            people = _for_people(frame, transactions, name)
            paths += _per_country(frame, people, countries, out, name)
        transactions = recent
    if responses is not None:
        frame = callback_list(responses, include_competitors=include_competitors)
        people = _for_people(frame, responses, "callback")
        paths += _per_country(frame, people, _countries(responses), out, "callback")
    counts = followup_counts(
        transactions,
        responses,
        csat_max=csat_max,
        csat_min=csat_min,
        include_competitors=include_competitors,
    )
    paths.append(write_csv_safely(_counts_for_people(counts), out / "followup_counts.csv"))
    return tuple(paths)
