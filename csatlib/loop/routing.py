"""Routing the lists to the people the organisation mapping names: account managers, business
units and product owners.

The organisation mapping (``organisation.yaml``, written by ``csat data`` as processed tables and
read with :func:`csatlib.ingest.organisation.read_organisation`; docs/organisation.md) decides
who gets a row:

* an at-risk account goes to its ``account_manager`` and to each of its ``business_units``
  (:func:`account_routes`, :func:`with_account_routes`, :func:`write_routed_account_lists`);
* a recovery call or testimonial request goes to the ``owner`` of the ticket's product, and
  carries the product's ``function`` (:func:`ticket_routing`);
* a complaint callback goes to the ``account_manager`` of the respondent's account
  (:func:`callback_routing`).

Account names are matched the way the lists match them: the account of a list row is the
:class:`~csatlib.loop.accounts.AccountMatch` account, and its canonical name (else its commonest
spelling the mapping knows) is looked up in the mapping with
:func:`~csatlib.loop.accounts.normalize_account_name` and the alias file.  Products are matched
as ``csat data`` gives tickets their function (:func:`csatlib.ingest.organisation.account_key`:
case and spaces ignored).  A row the mapping cannot place is never dropped: it goes to an
``unrouted`` file (:mod:`csatlib.loop.recipients`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from csatlib import roles
from csatlib.errors import DataError, require_columns
from csatlib.ingest.organisation import (
    Organisation,
    account_key,
    organisation_accounts,
    product_column,
)
from csatlib.loop.accounts import (
    DEFAULT_ACCOUNT_MIN_N,
    ROUTING_HEADERS,
    AccountMatch,
    account_list_for_people,
    assign_accounts,
    normalize_account_name,
)
from csatlib.loop.recipients import Routing, file_stems, write_by_recipient

__all__ = [
    "account_units",
    "units_of",
    "TICKET_ROUTING_HEADERS",
    "account_routes",
    "with_account_routes",
    "write_routed_account_lists",
    "ticket_routing",
    "callback_routing",
]

#: Headers of the columns a routed recovery or testimonial list gains, by mapping field.
TICKET_ROUTING_HEADERS: Mapping[str, str] = {
    "function": "Function",
    "owner": "Owner",
    "owner_email": "Owner e-mail",
}

_ROUTE_COLUMNS = (
    "account_key",
    "account",
    "business_unit",
    "business_unit_label",
    "account_manager",
    "manager_email",
)


def account_routes(
    match: AccountMatch, organisation: Organisation, *, aliases: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The mapping's entry for each account of ``match``: business units and account manager.

    Parameters
    ----------
    match : AccountMatch
        The matching the lists use (:func:`csatlib.loop.accounts.match_accounts`).
    organisation : Organisation
        From :func:`csatlib.ingest.organisation.read_organisation`.
    aliases : pandas.DataFrame, optional
        The alias file (``alias, canonical``), the one ``match`` was built with.

    Returns
    -------
    pandas.DataFrame
        One row per account and business unit (an account in two units has two rows, in the
        mapping's order of its units); accounts the mapping does not name are absent.  Columns
        ``account_key`` (the list's key), ``account`` (the mapping's name), ``business_unit``
        (code), ``business_unit_label``, ``account_manager``, ``manager_email`` (<NA> when the
        mapping gives none).

    Raises
    ------
    DataError
        Two accounts of the mapping, or one alias, share a key under
        :func:`~csatlib.loop.accounts.normalize_account_name` (the routing would be ambiguous).

    Notes
    -----
    An account's entry is the one its canonical name (``account_name``) matches; failing that,
    the one its commonest spelling with an entry matches (a spelling the matcher merged into it
    that the mapping spells alike).
    """
    if not isinstance(match, AccountMatch):
        raise DataError(f"match: expected an AccountMatch, found {type(match).__name__}")
    names = match.mapping
    own = organisation_accounts(
        names["account_name"], organisation, key=normalize_account_name, aliases=aliases
    )
    spelled = organisation_accounts(
        names["name"], organisation, key=normalize_account_name, aliases=aliases
    )
    found = pd.DataFrame(
        {
            "account_key": names["account_key"].astype("string").to_numpy(),
            "account": own.fillna(spelled).to_numpy(),
            "own": own.notna().to_numpy(),
            "n_rows": names["n_rows"].to_numpy(),
        }
    ).dropna(subset=["account_key", "account"])
    found = found.sort_values(
        ["account_key", "own", "n_rows", "account"],
        ascending=[True, False, False, True],
        kind="stable",
    ).drop_duplicates("account_key")
    table = organisation.accounts_table()
    out = found[["account_key", "account"]].merge(table, on="account", how="inner", sort=False)
    labels = dict(organisation.business_units)
    out["business_unit"] = out["business_unit"].astype("string")
    out["business_unit_label"] = out["business_unit"].map(labels).astype("string")
    return out[list(_ROUTE_COLUMNS)].reset_index(drop=True)


def _per_account(routes: pd.DataFrame) -> pd.DataFrame:
    """One row per account key: units' labels joined with "; ", manager and e-mail."""
    require_columns(routes, list(_ROUTE_COLUMNS), "routes (from account_routes)")
    return routes.groupby("account_key", sort=False).agg(
        business_units=("business_unit_label", lambda labels: "; ".join(labels.astype(str))),
        account_manager=("account_manager", "first"),
        manager_email=("manager_email", "first"),
    )


def account_units(routes: pd.DataFrame) -> pd.Series:
    """Account key -> the labels of its business units joined with "; " (``"Networking;
    Compute"``), the at-risk list's ``business_units``; an account the mapping does not name
    is absent."""
    return _per_account(routes)["business_units"].astype("string")


def units_of(keys: pd.Series, units: pd.Series | None) -> np.ndarray | str:
    """The business units of each account key (``units``: :func:`account_units`), "" for an
    account the mapping does not name, and "" throughout without a mapping (``units`` None)."""
    if units is None:
        return ""
    return keys.astype("string").map(units).fillna("").to_numpy(dtype=object)


def with_account_routes(at_risk: pd.DataFrame, routes: pd.DataFrame) -> pd.DataFrame:
    """``at_risk`` with the columns ``business_units``, ``account_manager``, ``manager_email``.

    Parameters
    ----------
    at_risk : pandas.DataFrame
        Output of :func:`csatlib.loop.accounts.at_risk_list` (with ``account_key``).
    routes : pandas.DataFrame
        Output of :func:`account_routes` for the same matching.

    Returns
    -------
    pandas.DataFrame
        A copy with the three columns (``string``): the labels of the account's business units
        joined with "; " (``"Networking; Compute"``), its account manager and the manager's
        e-mail; <NA> in all three for an account the mapping does not name.  The columns are
        among :data:`csatlib.loop.accounts.AT_RISK_LIST_COLUMNS`, so the list's guard accepts
        them; they are account-level, like the rest of the list.
    """
    require_columns(at_risk, ["account_key"], "with_account_routes: at_risk")
    per_account = _per_account(routes)
    out = at_risk.copy()
    key = at_risk["account_key"].astype("string")
    for column in ROUTING_HEADERS:  # three columns
        out[column] = key.map(per_account[column]).astype("string")
    return out


def write_routed_account_lists(
    at_risk: pd.DataFrame,
    routes: pd.DataFrame,
    organisation: Organisation,
    out_dir: str | Path,
    *,
    account_min_n: int = DEFAULT_ACCOUNT_MIN_N,
) -> tuple[Path, ...]:
    """Write the at-risk list per account manager and per business unit, across countries.

    Parameters
    ----------
    at_risk : pandas.DataFrame
        Output of :func:`with_account_routes` (checked as
        :func:`csatlib.loop.accounts.write_account_lists` checks it).
    routes : pandas.DataFrame
        Output of :func:`account_routes`.
    organisation : Organisation
        The mapping: its account managers and business units each get a file.
    out_dir : str or pathlib.Path
        The accounts folder (``reports/lists/accounts``).
    account_min_n : int
        As in :func:`csatlib.loop.accounts.write_account_lists`.

    Returns
    -------
    tuple of pathlib.Path
        ``by_manager/<manager>.csv`` for every account manager of the mapping (the stem from
        :func:`csatlib.loop.recipients.file_stems`, e.g. ``julien-leveque``; header only when
        none of theirs is at risk), ``by_manager/unrouted.csv`` (accounts the mapping does not
        name), ``by_unit/at_risk_<unit code>.csv`` for every business unit (an account in two
        units is in both) and ``by_unit/unrouted.csv`` (the same accounts as
        ``by_manager/unrouted.csv``: without an entry, an account has no unit either).  Every
        file has the columns of ``at_risk_all.csv``.
    """
    require_columns(at_risk, list(ROUTING_HEADERS), "write_routed_account_lists: at_risk")
    people = account_list_for_people(at_risk, account_min_n=account_min_n)
    out = Path(out_dir)
    stems = file_stems(entry.account_manager for entry in organisation.accounts)
    paths = write_by_recipient(
        people,
        at_risk["account_manager"],
        out / "by_manager",
        files={who: f"{stem}.csv" for who, stem in stems.items()},
    )
    rows = pd.DataFrame(
        {
            "row": range(len(at_risk)),
            "account_key": at_risk["account_key"].astype("string").to_numpy(),
        }
    )
    units = routes[["account_key", "business_unit"]].drop_duplicates()
    long = rows.merge(units, on="account_key", how="left", sort=False)  # keeps the list's order
    paths += write_by_recipient(
        people.iloc[long["row"].to_numpy()],
        long["business_unit"],
        out / "by_unit",
        files={code: f"at_risk_{code}.csv" for code in organisation.business_units},
    )
    return paths


def _id_column(table: pd.DataFrame, what: str) -> str:
    found = [c for c, role in roles.roles(table).items() if role == "id" and c in table.columns]
    if not found:
        raise DataError(f"{what}: the table has no id column (role `id`) to route rows by")
    return found[0]


def ticket_routing(transactions: pd.DataFrame, organisation: Organisation) -> Routing | None:
    """How recovery calls and testimonial requests reach the owner of the ticket's product.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Processed transaction survey (its codebook roles in ``attrs``): the ticket id (role
        ``id``) and the product (:func:`csatlib.ingest.organisation.product_column`).
    organisation : Organisation
        The mapping; its ``products`` name each product's function and owner.

    Returns
    -------
    Routing or None
        Columns :data:`TICKET_ROUTING_HEADERS` by ticket id (``Function`` is the function's
        label), recipient ``Owner``, folder ``by_owner``, one file stem per product owner of
        the mapping.  None when the mapping lists no products or the survey has no product
        column: the lists are then not routed.
    """
    column = product_column(transactions)
    if column is None or not organisation.products:
        return None
    ids = transactions[_id_column(transactions, "ticket_routing")].astype("string")
    products = organisation.products_table()
    products["_key"] = account_key(products["product"])
    tickets = pd.DataFrame({"_key": account_key(transactions[column]).reset_index(drop=True)})
    found = tickets.merge(products, on="_key", how="left", sort=False)  # product keys are unique
    function = found["function"].astype("string").map(dict(organisation.functions))
    headers = TICKET_ROUTING_HEADERS
    columns = pd.DataFrame(
        {
            headers["function"]: function.astype("string").to_numpy(),
            headers["owner"]: found["owner"].astype("string").to_numpy(),
            headers["owner_email"]: found["owner_email"].astype("string").to_numpy(),
        },
        index=pd.Index(ids.to_numpy(), dtype="string"),
    )
    return Routing(
        columns=columns,
        recipient=headers["owner"],
        folder="by_owner",
        stems=file_stems(entry.owner for entry in organisation.products),
        unrouted_reason="its product is not in the organisation mapping",
    )


def callback_routing(
    responses: pd.DataFrame, match: AccountMatch, routes: pd.DataFrame, organisation: Organisation
) -> Routing | None:
    """How complaint callbacks reach the account manager of the respondent's account.

    Parameters
    ----------
    responses : pandas.DataFrame
        Processed relationship survey (codebook roles in ``attrs``): the response id (role
        ``id``) and the account (role ``account``).
    match : AccountMatch
        The matching the at-risk lists use (so a complaint goes to the manager of the account
        the lists file it under).
    routes : pandas.DataFrame
        Output of :func:`account_routes` for ``match``.
    organisation : Organisation
        The mapping: each of its account managers gets a file.

    Returns
    -------
    Routing or None
        Columns ``Account manager`` and ``Manager e-mail`` by response id, recipient ``Account
        manager``, folder ``by_manager``.  None when the survey has no account column.
    """
    accounts = [c for c in roles.names(responses, "account") if c in responses.columns]
    if not accounts:
        return None
    id_column = _id_column(responses, "callback_routing")
    keyed = assign_accounts(responses[[id_column, accounts[0]]], match, column=accounts[0])
    per_account = _per_account(routes)
    key = keyed["account_key"].astype("string")
    columns = pd.DataFrame(
        {
            ROUTING_HEADERS[c]: key.map(per_account[c]).astype("string").to_numpy()
            for c in ("account_manager", "manager_email")
        },
        index=pd.Index(keyed[id_column].astype("string").to_numpy(), dtype="string"),
    )
    return Routing(
        columns=columns,
        recipient=ROUTING_HEADERS["account_manager"],
        folder="by_manager",
        stems=file_stems(entry.account_manager for entry in organisation.accounts),
        unrouted_reason="the respondent's account is not in the organisation mapping",
    )
