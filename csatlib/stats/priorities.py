"""One answer to "what do we fix": derived importance x performance shortfall, one ranked list.

The four screens say where an attribute falls short (significantly deteriorated since the
previous wave, below the other countries, below competitors' customers) or stands out; the key
drivers say how much each attribute moves likelihood to recommend. :func:`priorities` joins the
two into one table that every section of a report reads, so that the executive summary, the
screens table, the importance-performance chart and the global summary never disagree.

Rules (the report quotes :data:`RULES`):

- A **priority** has at least one significant shortfall among screens 1-3; any significant
  advantage it also has is kept as the other side of the evidence ("below the other
  countries, but above competitors' customers"). A **strength** (best practice) has at least
  one significant advantage and no shortfall. Neither is **no significant difference**.
- Significance is the screens' own (Benjamini-Hochberg q-values over the report's family, see
  :mod:`csatlib.stats.multiplicity`). The rank among the country's own attributes (screen 4)
  is shown as context; it is not a test and never makes a priority on its own.
- Priorities and strengths are ordered by derived importance (the Shapley share of the
  explained variance; drivers without an estimate last), then by the number of screens, then by
  the size of the largest gap.
- An attribute whose cell is below the small-cell minimum, or none of whose comparisons could
  be made, is **not enough data**: too few respondents to tell, never "no problem".

Both sides of the evidence are kept (``shortfalls`` and ``advantages``), so a statement can read
"below the other countries, but above competitors' customers".
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from csatlib.errors import DataError

__all__ = ["RULES", "SCREENS", "VERDICTS", "priorities"]

#: Screens 1-3: name -> (verdict that is a shortfall, verdict that is an advantage).
SCREENS: Final[dict[str, tuple[str, str]]] = {
    "trend": ("deteriorated", "improved"),
    "vs_countries": ("below", "above"),
    "vs_competitors": ("below", "above"),
}
#: The verdicts of :func:`priorities`, in the order a report lists them.
VERDICTS: Final[tuple[str, ...]] = (
    "priority",
    "strength",
    "no significant difference",
    "not enough data",
)
#: The rule in one paragraph, for a report's method note.
RULES: Final[str] = (
    "An attribute is a priority when at least one of the comparisons with the previous wave, "
    "the other countries and competitors' customers shows it significantly worse (any "
    "comparison showing it better is said too); a strength when at least one shows it "
    "significantly better and none worse. Significance uses "
    "Benjamini-Hochberg q-values below 0.05. The rank among the country's own attributes is "
    "context, not a finding. Priorities are ordered by derived importance (the attribute's "
    "share of the explained variance of likelihood to recommend). Where too few respondents "
    "answered, the verdict is 'not enough data'."
)

_UNDECIDED = {"suppressed", "no previous wave", "no previous wave data", "not enough data"}


def _evidence(row: pd.Series, which: int) -> tuple[str, ...]:
    return tuple(
        name
        for name, verdicts in SCREENS.items()
        if str(row.get(f"{name}_verdict", "")) == verdicts[which]
    )


def _decided(row: pd.Series) -> int:
    return sum(
        1
        for name in SCREENS
        if f"{name}_verdict" in row
        and str(row[f"{name}_verdict"]) not in _UNDECIDED
        and pd.notna(row[f"{name}_verdict"])
    )


def _largest_gap(row: pd.Series, names: tuple[str, ...]) -> float:
    gaps = [abs(float(row[f"{n}_diff"])) for n in names if pd.notna(row.get(f"{n}_diff"))]
    return max(gaps) if gaps else 0.0


def priorities(screens: pd.DataFrame, drivers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Join the four screens and the key drivers into one verdict and order per attribute.

    Parameters
    ----------
    screens : pandas.DataFrame
        :func:`csatlib.stats.screens.four_screens` of one country (indexed by attribute; the
        ``<screen>_verdict`` and ``<screen>_diff`` columns of screens 1-3, ``rank_verdict``,
        ``n`` and ``suppressed``).
    drivers : pandas.DataFrame, optional
        :func:`csatlib.stats.drivers.driver_table` (or :func:`relative_importance`) indexed by
        driver: ``importance`` and ``share``, with ``ci_low``/``ci_high`` when bootstrapped.
        Missing or suppressed: priorities are ordered by the screens alone.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``attribute``, in report order (priorities first, most important first; then
        strengths, no significant difference, not enough data): ``verdict``
        (one of :data:`VERDICTS`), ``order`` (1, 2, ... within the verdict), ``shortfalls`` and
        ``advantages`` (tuples of screen names from :data:`SCREENS`), ``rank_context``
        ("top", "bottom" or ""), ``n``, ``importance``, ``importance_ci_low``,
        ``importance_ci_high``, ``share`` (NaN without drivers).

    Notes
    -----
    The rules are in the module docstring (:data:`RULES`). Tested on hand-made screens and
    drivers in tests/stats/test_priorities.py, and by simulation on data with known true problems
    (tests/report/test_priorities_simulation.py).
    """
    if not isinstance(screens, pd.DataFrame):
        raise DataError(
            f"priorities: expected the screens DataFrame, found {type(screens).__name__}"
        )
    missing = [f"{n}_verdict" for n in SCREENS if f"{n}_verdict" not in screens.columns]
    if screens.empty:
        return _empty()
    if missing or "suppressed" not in screens.columns:
        raise DataError(
            f"priorities: screens need the columns {missing + ['suppressed']} "
            "(csatlib.stats.screens.four_screens)"
        )
    rows = []
    for attribute, row in screens.iterrows():
        shortfalls, advantages = _evidence(row, 0), _evidence(row, 1)
        if bool(row["suppressed"]) or _decided(row) == 0:
            verdict = "not enough data"
        elif shortfalls:
            verdict = "priority"
        elif advantages:
            verdict = "strength"
        else:
            verdict = "no significant difference"
        rank = str(row.get("rank_verdict", ""))
        rows.append(
            {
                "attribute": attribute,
                "verdict": verdict,
                "shortfalls": shortfalls,
                "advantages": advantages,
                "rank_context": rank if rank in ("top", "bottom") else "",
                "n": int(row["n"]) if "n" in row and pd.notna(row["n"]) else 0,
                "_gap": _largest_gap(row, shortfalls if verdict == "priority" else advantages),
            }
        )
    out = pd.DataFrame(rows).set_index("attribute")
    out = out.join(_importance(drivers, out.index))
    return _ordered(out)


def _importance(drivers: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame:
    columns = ["importance", "importance_ci_low", "importance_ci_high", "share"]
    frame = pd.DataFrame(np.nan, index=index, columns=columns)
    if drivers is None or drivers.empty or drivers.attrs.get("suppressed"):
        return frame
    known = [a for a in index if a in drivers.index]
    source = {
        "importance": "importance",
        "importance_ci_low": "ci_low",
        "importance_ci_high": "ci_high",
        "share": "share",
    }
    for target, column in source.items():
        if column in drivers.columns:
            frame.loc[known, target] = drivers.loc[known, column].astype(float).to_numpy()
    return frame


def _ordered(out: pd.DataFrame) -> pd.DataFrame:
    out["_verdict_order"] = out["verdict"].map({v: i for i, v in enumerate(VERDICTS)})
    out["_n_evidence"] = [
        len(s) if v == "priority" else len(a) if v == "strength" else 0
        for v, s, a in zip(out["verdict"], out["shortfalls"], out["advantages"], strict=True)
    ]
    out["_importance"] = out["importance"].fillna(-np.inf)
    out = out.sort_values(
        ["_verdict_order", "_importance", "_n_evidence", "_gap"],
        ascending=[True, False, False, False],
        kind="mergesort",
    )
    out["order"] = out.groupby("verdict", sort=False).cumcount() + 1
    keep = [
        "verdict",
        "order",
        "shortfalls",
        "advantages",
        "rank_context",
        "n",
        "importance",
        "importance_ci_low",
        "importance_ci_high",
        "share",
    ]
    return out[keep]


def _empty() -> pd.DataFrame:
    out = pd.DataFrame(
        columns=[
            "verdict",
            "order",
            "shortfalls",
            "advantages",
            "rank_context",
            "n",
            "importance",
            "importance_ci_low",
            "importance_ci_high",
            "share",
        ]
    )
    out.index.name = "attribute"
    return out
