"""Follow-up lists: who the support and recovery teams call back, with the respondents' permission.

Three lists, each with contact details only for respondents who gave permission
(``contact_ok`` True); everyone else is counted, never listed:

* recovery: transaction-survey tickets rated CSAT 1-2, per region (``recovery_<REGION>.csv``);
* testimonial: tickets rated CSAT 4-5, candidates for testimonials and best practice
  (``testimonial_<REGION>.csv``);
* callback: relationship-survey respondents who wrote a complaint, oldest first
  (``callback.csv``).

These lists are for the teams that call customers back, so they carry what a call needs (the
ticket comment or the complaint text, the name and e-mail).  Account managers get
:func:`csatlib.accounts.at_risk_list` instead, which never carries any of it.  Country reports
show :func:`followup_counts` only.  See docs/closing_the_loop.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from csatlib.errors import DataError, require_columns
from csatlib.safety import write_csv_safely

__all__ = [
    "RECOVERY_COLUMNS",
    "CALLBACK_COLUMNS",
    "recovery_list",
    "testimonial_list",
    "callback_list",
    "followup_counts",
    "write_followup_lists",
]

_TRANSACTION_NEED = (
    "ticket_id",
    "date",
    "region",
    "country",
    "account",
    "csat",
    "comment",
    "contact_ok",
    "contact_name",
    "contact_email",
)
_RESPONSE_NEED = (
    "response_id",
    "date",
    "country",
    "account",
    "complaint",
    "contact_ok",
    "contact_name",
    "contact_email",
)

#: Columns of the recovery and testimonial lists.
RECOVERY_COLUMNS: tuple[str, ...] = (
    "region",
    "country",
    "account",
    "ticket_id",
    "date",
    "product",
    "csat",
    "comment",
    "contact_name",
    "contact_email",
)
#: Columns of the callback list.
CALLBACK_COLUMNS: tuple[str, ...] = (
    "country",
    "account",
    "segment",
    "response_id",
    "date",
    "complaint",
    "contact_name",
    "contact_email",
)


def _label(value: object) -> object:
    """A row label as people read it (``3``, not ``np.int64(3)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _permission(df: pd.DataFrame) -> np.ndarray:
    """contact_ok as a bool array; <NA> (not asked / not answered) is no permission."""
    ok = df["contact_ok"]
    if not pd.api.types.is_bool_dtype(ok.dtype):
        values = ok.dropna()
        bad = ~values.map(type).isin([bool, np.bool_])
        if bad.any():
            row = values.index[bad.to_numpy()][0]
            raise DataError(
                f"column 'contact_ok', row {_label(row)!r}: expected True/False/<NA>, "
                f"found {values[row]!r}"
            )
    return ok.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _csat(transactions: pd.DataFrame) -> pd.Series:
    csat = pd.to_numeric(transactions["csat"], errors="coerce")
    bad = transactions["csat"].notna() & (csat.isna() | ~csat.between(1, 5))
    if bad.any():
        row = transactions.index[bad.to_numpy()][0]
        raise DataError(
            f"column 'csat', row {_label(row)!r}: expected 1-5, "
            f"found {transactions.loc[row, 'csat']!r}"
        )
    return csat


def _own_brand(df: pd.DataFrame, include_competitors: bool) -> pd.DataFrame:
    if include_competitors or "competitor" not in df.columns:
        return df
    return df[~df["competitor"].astype("boolean").fillna(False).to_numpy()]


def _ticket_list(
    transactions: pd.DataFrame, keep: np.ndarray, *, newest_first: bool
) -> pd.DataFrame:
    t = transactions[keep & _permission(transactions)]
    cols = [c for c in RECOVERY_COLUMNS if c in t.columns]
    out = t[cols].copy()
    if "product" not in out.columns:
        out.insert(cols.index("date") + 1, "product", pd.NA)
    out["csat"] = pd.to_numeric(out["csat"]).astype("Int64")
    out = out.sort_values(
        ["region", "date", "ticket_id"], ascending=[True, not newest_first, True], kind="stable"
    )
    return out[list(RECOVERY_COLUMNS)].reset_index(drop=True)


def recovery_list(transactions: pd.DataFrame, *, csat_max: int = 2) -> pd.DataFrame:
    """Tickets to recover: CSAT <= ``csat_max`` and permission to contact, oldest first per region.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Processed transaction survey (docs/data_model.md): ``ticket_id``, ``date``, ``region``,
        ``country``, ``account``, ``product`` (optional), ``csat`` 1-5, ``comment``,
        ``contact_ok``, ``contact_name``, ``contact_email``.
    csat_max : int
        Highest CSAT that calls for recovery (default 2: "dissatisfied" and "very dissatisfied").

    Returns
    -------
    pandas.DataFrame
        :data:`RECOVERY_COLUMNS`, one row per ticket whose respondent allowed contact, sorted by
        region then date (oldest first: they have waited longest).  Tickets without permission
        are left out; :func:`followup_counts` counts them.
    """
    require_columns(transactions, _TRANSACTION_NEED, "recovery_list: transactions")
    csat = _csat(transactions)
    return _ticket_list(
        transactions, (csat <= csat_max).fillna(False).to_numpy(dtype=bool), newest_first=False
    )


def testimonial_list(transactions: pd.DataFrame, *, csat_min: int = 4) -> pd.DataFrame:
    """Testimonial / best-practice candidates: CSAT >= ``csat_min`` with permission, newest first.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Processed transaction survey, as for :func:`recovery_list`.
    csat_min : int
        Lowest CSAT that qualifies (default 4: "satisfied" and "very satisfied").

    Returns
    -------
    pandas.DataFrame
        :data:`RECOVERY_COLUMNS`, sorted by region then date (newest first: the experience is
        fresh).  Asking for a published testimonial needs its own, explicit consent; this list
        only says whom to ask.
    """
    require_columns(transactions, _TRANSACTION_NEED, "testimonial_list: transactions")
    csat = _csat(transactions)
    return _ticket_list(
        transactions, (csat >= csat_min).fillna(False).to_numpy(dtype=bool), newest_first=True
    )


def _has_text(s: pd.Series) -> np.ndarray:
    return s.astype("string").str.strip().fillna("").ne("").to_numpy(dtype=bool)


def callback_list(responses: pd.DataFrame, *, include_competitors: bool = False) -> pd.DataFrame:
    """Relationship-survey complaints to call back, in order of submission (oldest first).

    Parameters
    ----------
    responses : pandas.DataFrame
        Processed relationship survey: ``response_id``, ``date``, ``country``, ``account``,
        ``segment`` (optional), ``complaint``, ``contact_ok``, ``contact_name``,
        ``contact_email``, ``competitor`` (optional).
    include_competitors : bool
        Keep competitors' customers (default no: their complaint is about another supplier).

    Returns
    -------
    pandas.DataFrame
        :data:`CALLBACK_COLUMNS`, one row per respondent with a non-empty complaint who allowed
        contact, sorted by ``date`` (submission time) then ``response_id``.
    """
    require_columns(responses, _RESPONSE_NEED, "callback_list: responses")
    r = _own_brand(responses, include_competitors)
    r = r[_has_text(r["complaint"]) & _permission(r)]
    out = r[[c for c in CALLBACK_COLUMNS if c in r.columns]].copy()
    if "segment" not in out.columns:
        out.insert(2, "segment", pd.NA)
    out = out.sort_values(["date", "response_id"], kind="stable")
    return out[list(CALLBACK_COLUMNS)].reset_index(drop=True)


def followup_counts(
    transactions: pd.DataFrame | None = None,
    responses: pd.DataFrame | None = None,
    *,
    country: str | None = None,
    csat_max: int = 2,
    csat_min: int = 4,
    include_competitors: bool = False,
) -> pd.DataFrame:
    """How many follow-ups each list holds and how many were withheld for lack of permission.

    Parameters
    ----------
    transactions, responses : pandas.DataFrame, optional
        As for :func:`recovery_list` and :func:`callback_list`; either may be omitted.
    country : str, optional
        Keep one country (ISO alpha-2), for a country report.
    csat_max, csat_min, include_competitors
        As in the list functions.

    Returns
    -------
    pandas.DataFrame
        ``list`` (``"recovery"``, ``"testimonial"``, ``"callback"``), ``region`` (<NA> for
        callbacks: the relationship survey has no region), ``country``, ``eligible``, ``listed``
        (with permission), ``withheld_no_permission``.  Counts only, never a name or a text;
        ``eligible = listed + withheld_no_permission``.
    """
    if transactions is None and responses is None:
        raise DataError("followup_counts: expected transactions and/or responses, found neither")
    parts = []
    if transactions is not None:
        require_columns(transactions, _TRANSACTION_NEED, "followup_counts: transactions")
        csat = _csat(transactions)
        ok = _permission(transactions)
        for name, eligible in (
            ("recovery", (csat <= csat_max).fillna(False).to_numpy(dtype=bool)),
            ("testimonial", (csat >= csat_min).fillna(False).to_numpy(dtype=bool)),
        ):
            parts.append(
                pd.DataFrame(
                    {
                        "list": name,
                        "region": transactions["region"].astype("string").to_numpy(),
                        "country": transactions["country"].astype("string").to_numpy(),
                        "eligible": eligible,
                        "listed": eligible & ok,
                    }
                )
            )
    if responses is not None:
        require_columns(responses, _RESPONSE_NEED, "followup_counts: responses")
        r = _own_brand(responses, include_competitors)
        eligible = _has_text(r["complaint"])
        parts.append(
            pd.DataFrame(
                {
                    "list": "callback",
                    "region": pd.array([pd.NA] * len(r), dtype="string"),
                    "country": r["country"].astype("string").to_numpy(),
                    "eligible": eligible,
                    "listed": eligible & _permission(r),
                }
            )
        )
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
    return out.reset_index(drop=True)


def write_followup_lists(
    transactions: pd.DataFrame | None,
    responses: pd.DataFrame | None,
    out_dir: str | Path,
    *,
    csat_max: int = 2,
    csat_min: int = 4,
    include_competitors: bool = False,
) -> tuple[Path, ...]:
    """Write the follow-up lists and their counts through the safe CSV writer.

    Parameters
    ----------
    transactions, responses : pandas.DataFrame or None
        As for the list functions; None skips the lists built from it.
    out_dir : str or pathlib.Path
        Folder, created if missing (reports/lists/followup).
    csat_max, csat_min, include_competitors
        As in the list functions.

    Returns
    -------
    tuple of pathlib.Path
        ``recovery_<REGION>.csv`` and ``testimonial_<REGION>.csv`` for every region of the
        transactions (header only when a region has nobody to call), ``callback.csv`` and
        ``followup_counts.csv``.
    """
    out = Path(out_dir)
    paths: list[Path] = []
    if transactions is not None:
        lists = {
            "recovery": recovery_list(transactions, csat_max=csat_max),
            "testimonial": testimonial_list(transactions, csat_min=csat_min),
        }
        regions = sorted(set(transactions["region"].dropna().astype(str)))
        for name, frame in lists.items():
            region = frame["region"].astype("string")
            for reg in regions:  # a handful of regions
                safe = re.sub(r"[^A-Za-z0-9_-]", "_", reg)
                keep = region.eq(reg).fillna(False).to_numpy()
                paths.append(write_csv_safely(frame[keep], out / f"{name}_{safe}.csv"))
    if responses is not None:
        paths.append(
            write_csv_safely(
                callback_list(responses, include_competitors=include_competitors),
                out / "callback.csv",
            )
        )
    counts = followup_counts(
        transactions,
        responses,
        csat_max=csat_max,
        csat_min=csat_min,
        include_competitors=include_competitors,
    )
    paths.append(write_csv_safely(counts, out / "followup_counts.csv"))
    return tuple(paths)
