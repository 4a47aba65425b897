"""One multiplicity policy: Benjamini-Hochberg q-values over one family per country report.

A country report makes many comparisons at once (every measure against the previous wave, every
attribute against the other countries and competitors' customers), so some would look
significant by chance alone. The workbench corrects them in one way, everywhere:

Policy (:data:`POLICY_TEXT`, for a report's method note)
    The tests of one country's report for one wave form one family: the change since the
    previous wave of every measure (the NPS and each mean score,
    :func:`csatlib.stats.scores.trends`) and screens 1-3 of every attribute (previous wave,
    other countries, competitors' customers, :func:`csatlib.stats.screens.four_screens`). A
    comparison that appears in both (an attribute's change since the previous wave) is one
    test. Within the family the p-values are adjusted with the Benjamini-Hochberg procedure; a
    difference is significant when its q-value is below 0.05. A test that could not be done
    (too few respondents) is not in the family.

:func:`adjust` computes the q-values, :func:`significant` and :func:`verdict` read them;
:func:`country_family_q` adjusts the union of a country's trends and screens, so that both
tables show the same q-value and verdict for the same comparison.
:func:`csatlib.stats.scores.trends` (per group and wave) and
:func:`csatlib.stats.screens.four_screens` (per country) use the same helpers on their own part
of the family; a report shows the q-values of :func:`country_family_q`.

References
----------
Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: a practical and
powerful approach to multiple testing. JRSS B, 57(1), 289-300.
Benjamini, Y., & Yekutieli, D. (2001). The control of the false discovery rate in multiple
testing under dependency. Annals of Statistics, 29(4), 1165-1188 (positive dependence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from csatlib.errors import DataError
from csatlib.validation import check_alpha

__all__ = [
    "ALPHA",
    "POLICY_TEXT",
    "CHANGE_LABELS",
    "DIFFERENCE_LABELS",
    "SUPPRESSED",
    "NO_PREVIOUS_WAVE",
    "NO_PREVIOUS_WAVE_DATA",
    "adjust",
    "significant",
    "verdict",
    "CountryFamily",
    "country_family_q",
]

#: The false discovery rate of the policy: significant when q < ALPHA.
ALPHA: Final[float] = 0.05

#: The policy in words a report can quote.
POLICY_TEXT: Final[str] = (
    "All comparisons of this report for the wave are corrected together for multiple testing: "
    "the change since the previous wave of every measure (NPS and mean scores) and, for every "
    "attribute, the comparisons with the previous wave, the other countries and competitors' "
    "customers. The p-values of this family are adjusted with the Benjamini-Hochberg procedure "
    "and a difference is called significant when its q-value is below 0.05, so that on average "
    "at most 5% of the differences called significant are due to chance. A comparison that "
    "could not be made because too few customers answered is not counted."
)

#: Why a test was not done: a cell below the small-cell minimum, or fewer than two answers.
SUPPRESSED: Final = "suppressed"
#: Why a change was not tested: the wave is the study's first.
NO_PREVIOUS_WAVE: Final = "no previous wave"
#: Why a change was not tested: the group has no respondents in the study's previous wave.
NO_PREVIOUS_WAVE_DATA: Final = "no previous wave data"
#: (up, down, none) verdicts of a change since the previous wave.
CHANGE_LABELS: Final[tuple[str, str, str]] = ("improved", "deteriorated", "no change")
#: (up, down, none) verdicts of a comparison with another group.
DIFFERENCE_LABELS: Final[tuple[str, str, str]] = ("above", "below", "no difference")

_SCREENS: Final[dict[str, tuple[str, str, str]]] = {
    "trend": CHANGE_LABELS,
    "vs_countries": DIFFERENCE_LABELS,
    "vs_competitors": DIFFERENCE_LABELS,
}
# Two p-values of one comparison computed from the same rows and design agree to rounding.
_SAME_P_RTOL: Final = 1e-6


def adjust(
    p_values: Sequence[float] | np.ndarray, *, families: Sequence[object] | np.ndarray | None = None
) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN marks a test not done.

    Parameters
    ----------
    p_values : array-like of float
        p-values in [0, 1]; NaN (a test not done, e.g. suppressed) stays NaN and does not count
        in the number of tests ``m``.
    families : array-like, optional, keyword-only
        Family label of each p-value: each family is adjusted on its own (vectorized). None: one
        family.

    Returns
    -------
    numpy.ndarray
        q-values in the input order.

    Raises
    ------
    DataError
        Not 1-d, a p-value outside [0, 1], or ``families`` of another length.

    Notes
    -----
    With the family's m p-values sorted, :math:`p_{(1)} \\le \\dots \\le p_{(m)}`,
    :math:`q_{(i)} = \\min_{j \\ge i} \\min(1, m\\,p_{(j)}/j)`. Rejecting :math:`q < \\alpha`
    controls the false discovery rate at :math:`\\alpha` for independent tests and under
    positive regression dependence (Benjamini & Yekutieli 2001); a report's comparisons share
    cells (one country mean against several groups), which BH tolerates well in practice, and
    the policy accepts it rather than the far more conservative Benjamini-Yekutieli bound.
    Equal to statsmodels ``multipletests(method="fdr_bh")`` on the tests done (tested in
    tests/stats/test_multiplicity.py).
    """
    p = np.asarray(p_values, dtype="float64")
    if p.ndim != 1:
        raise DataError(f"adjust: expected a 1-d array of p-values, found shape {p.shape}")
    tested = ~np.isnan(p)
    bad = tested & ((p < 0) | (p > 1))
    if bad.any():
        raise DataError(
            f"adjust: p-values must lie in [0, 1], found {p[bad][0]:g} at position "
            f"{int(np.flatnonzero(bad)[0])}"
        )
    if families is None:
        family = np.zeros(len(p), dtype=np.int64)
    else:
        labels = np.asarray(families, dtype=object)
        if labels.shape != p.shape:
            raise DataError(
                f"adjust: expected one family label per p-value ({len(p)}), found {labels.shape}"
            )
        family, _ = pd.factorize(pd.Series(labels), use_na_sentinel=False)
    q = np.full(p.shape, np.nan)
    if not tested.any():
        return q
    fam, pv = family[tested], p[tested]
    order = np.lexsort((pv, fam))  # by family, then p ascending
    fam_sorted, p_sorted = fam[order], pv[order]
    starts = np.flatnonzero(np.r_[True, fam_sorted[1:] != fam_sorted[:-1]])
    sizes = np.diff(np.r_[starts, len(fam_sorted)])
    m = np.repeat(sizes, sizes)
    rank = np.arange(len(fam_sorted)) - np.repeat(starts, sizes) + 1
    scaled = p_sorted * m / rank
    # running minimum from the largest p down, within each family
    reversed_min = (
        pd.Series(scaled[::-1]).groupby(fam_sorted[::-1], sort=False).cummin().to_numpy()[::-1]
    )
    out = np.empty(len(pv))
    out[order] = np.minimum(reversed_min, 1.0)
    q[tested] = out
    return q


def significant(q_values: Sequence[float] | np.ndarray, *, alpha: float = ALPHA) -> pd.array:
    """``q < alpha`` as a nullable boolean array; NA where the test was not done (NaN)."""
    q = np.asarray(q_values, dtype=np.float64)
    flags = pd.array(q < alpha, dtype="boolean")
    flags[np.isnan(q)] = pd.NA
    return flags


def verdict(
    diff: Sequence[float] | np.ndarray,
    q: Sequence[float] | np.ndarray,
    *,
    alpha: float = ALPHA,
    up: str = DIFFERENCE_LABELS[0],
    down: str = DIFFERENCE_LABELS[1],
    none: str = DIFFERENCE_LABELS[2],
) -> np.ndarray:
    """The verdict of each test: ``up`` / ``down`` when significant (``q < alpha``) in the
    direction of ``diff``, else ``none``; None where the test was not done (NaN ``q``).

    Parameters
    ----------
    diff : array-like of float
        The difference tested (this group minus the other, or now minus before).
    q : array-like of float
        Its q-value (:func:`adjust`), NaN for a test not done.
    alpha : float, keyword-only
        The false discovery rate (default :data:`ALPHA`).
    up, down, none : str, keyword-only
        The words of the verdict (default "above", "below", "no difference";
        :data:`CHANGE_LABELS` for a change since the previous wave).

    Returns
    -------
    numpy.ndarray of object
        One verdict per test; None where ``q`` is NaN, for the caller to say why.
    """
    alpha = check_alpha(alpha, func="verdict")
    d = np.asarray(diff, dtype=np.float64)
    qv = np.asarray(q, dtype=np.float64)
    if d.shape != qv.shape:
        raise DataError(f"verdict: diff has shape {d.shape} but q has shape {qv.shape}")
    tested = ~np.isnan(qv)
    sig = tested & (qv < alpha)
    return np.select([~tested, sig & (d > 0), sig & (d < 0)], [None, up, down], none).astype(object)


def _relabel(
    current: np.ndarray, diff: np.ndarray, q: np.ndarray, labels: tuple[str, str, str], alpha: float
) -> np.ndarray:
    """Verdicts from the new q where the test was done; the reason it was not, kept, elsewhere."""
    new = verdict(diff, q, alpha=alpha, up=labels[0], down=labels[1], none=labels[2])
    return np.where(np.isnan(q), np.asarray(current, dtype=object), new).astype(object)


# --------------------------------------------------------------------------- one family


@dataclass(frozen=True, eq=False)
class CountryFamily:
    """A country's trends and screens with q-values over their one family.

    Attributes
    ----------
    trends : pandas.DataFrame
        The trends table given, with ``q_value``, ``significant`` and ``verdict`` of the
        family's rows (the report's wave) replaced; other waves' rows as given.
    screens : pandas.DataFrame
        The screens table given, with ``<screen>_q_value``, ``<screen>_verdict``, ``n_fail``,
        ``n_pass``, ``n_undecided`` and ``class`` re-derived from the family's q-values.
    tests : pandas.DataFrame
        The family, one row per test done: ``measure``, ``statistic`` ("mean" or "nps"),
        ``comparison`` ("previous wave", "other countries", "competitors"), ``in_trends``,
        ``in_screens``, ``diff``, ``p_value``, ``q_value``, ``significant``, ``verdict``.
    """

    trends: pd.DataFrame
    screens: pd.DataFrame
    tests: pd.DataFrame

    @property
    def m(self) -> int:
        """The number of tests in the family."""
        return len(self.tests)


_COMPARISON = {
    "trend": "previous wave",
    "vs_countries": "other countries",
    "vs_competitors": "competitors",
}


def _one_wave(screens_table: pd.DataFrame) -> str:
    needed = ["wave", "previous_wave", "class"] + [
        f"{s}_{c}" for s in _SCREENS for c in ("diff", "p_value", "q_value", "verdict")
    ]
    missing = [c for c in needed if c not in screens_table.columns]
    if missing:
        raise DataError(
            f"country_family_q: screens_table lacks the columns {missing} of "
            "csatlib.stats.screens.four_screens"
        )
    waves = screens_table["wave"].dropna().astype(str).unique()
    if len(waves) != 1 or not screens_table.index.is_unique:
        raise DataError(
            "country_family_q: expected the four_screens table of one country and one wave "
            f"(one row per attribute); found waves {sorted(waves)} and "
            f"{len(screens_table)} rows for {screens_table.index.nunique()} attributes"
        )
    return str(waves[0])


def _family_rows(trends_table: pd.DataFrame, wave: str, wave_col: str) -> pd.DataFrame:
    needed = [wave_col, "measure", "statistic", "previous_wave", "change", "p_value", "verdict"]
    missing = [c for c in needed if c not in trends_table.columns]
    if missing:
        raise DataError(
            f"country_family_q: trends_table lacks the columns {missing} of "
            "csatlib.stats.scores.trends"
        )
    if not trends_table.index.is_unique:
        raise DataError("country_family_q: trends_table needs a unique index (reset_index())")
    rows = trends_table.loc[trends_table[wave_col].astype(str).to_numpy() == wave]
    dup = rows.duplicated(["measure", "statistic"])
    if dup.any():
        first = rows.loc[dup].iloc[0]
        raise DataError(
            f"country_family_q: trends_table has several rows for {first['measure']!r} "
            f"({first['statistic']}) in wave {wave!r}; pass the trends of one country"
        )
    return rows


def country_family_q(
    trends_table: pd.DataFrame,
    screens_table: pd.DataFrame,
    *,
    alpha: float = ALPHA,
    wave_col: str = "wave",
) -> CountryFamily:
    """Benjamini-Hochberg over a country report's one family: its trends and its screens.

    Parameters
    ----------
    trends_table : pandas.DataFrame
        :func:`csatlib.stats.scores.trends` of one country (own-brand customers), any waves.
    screens_table : pandas.DataFrame
        :func:`csatlib.stats.screens.four_screens` of the same country; its ``wave`` is the
        report's.
    alpha : float, keyword-only
        The false discovery rate (default :data:`ALPHA`).
    wave_col : str, keyword-only
        The wave column of ``trends_table`` (its ``wave=`` argument).

    Returns
    -------
    CountryFamily
        Both tables with the family's q-values and verdicts, and the family itself.

    Raises
    ------
    DataError
        A table lacks its columns, holds several countries or waves, or the two tables give
        the same comparison different p-values or previous waves (they were computed from
        different rows or designs).

    Notes
    -----
    The family (:data:`POLICY_TEXT`): every change of the trends table into the screens'
    wave (each measure's mean, and the NPS) and screens 1-3 of every attribute. An attribute's
    mean change since the previous wave is in both tables; it is one test, and both tables
    must give it the same p-value to a relative 1e-6, which they do when computed from the
    same responses with the same ``cluster``, ``min_n`` and previous wave (with accounts as
    clusters: the same rows too, as the rows passed make the design; e.g.
    ``trends(responses, ..., by=["country", "competitor"], cluster=...)`` restricted to the
    country's own-brand rows, and ``four_screens(responses, ..., cluster=...)``). The
    q-values are :func:`adjust` of the union; each verdict is :func:`verdict` of its q-value,
    and the screens' classes are re-derived (:func:`csatlib.stats.screens.classify`).
    Rows of other waves of ``trends_table`` keep their own q-values (their family is their
    own wave's).
    """
    # screens imports this module, so it is imported when needed, not at import time
    from csatlib.stats.screens import classify

    alpha = check_alpha(alpha, func="country_family_q")
    wave = _one_wave(screens_table)
    rows = _family_rows(trends_table, wave, wave_col)
    attributes = {str(a): a for a in screens_table.index}
    is_shared = (rows["statistic"] == "mean").to_numpy() & rows["measure"].astype(str).isin(
        attributes
    ).to_numpy()
    shared = dict(zip(rows["measure"].astype(str)[is_shared], rows.index[is_shared], strict=True))
    for name, label in shared.items():
        _check_same(rows.loc[label], screens_table.loc[attributes[name]], name)

    only_trends = rows.loc[~is_shared & rows["p_value"].notna().to_numpy()]
    parts = [
        pd.DataFrame(
            {
                "measure": only_trends["measure"].to_numpy(object),
                "statistic": only_trends["statistic"].to_numpy(object),
                "comparison": _COMPARISON["trend"],
                "diff": only_trends["change"].to_numpy(np.float64),
                "p_value": only_trends["p_value"].to_numpy(np.float64),
                "_trends": only_trends.index.to_numpy(object),
                "_screen": None,
            }
        )
    ]
    for screen in _SCREENS:
        done = screens_table.loc[screens_table[f"{screen}_p_value"].notna()]
        names = [str(a) for a in done.index]
        parts.append(
            pd.DataFrame(
                {
                    "measure": np.asarray(done.index, dtype=object),
                    "statistic": "mean",
                    "comparison": _COMPARISON[screen],
                    "diff": done[f"{screen}_diff"].to_numpy(np.float64),
                    "p_value": done[f"{screen}_p_value"].to_numpy(np.float64),
                    "_trends": [shared.get(a) if screen == "trend" else None for a in names],
                    "_screen": screen,
                }
            )
        )
    nonempty = [part for part in parts if len(part)]
    family = pd.concat(nonempty, ignore_index=True) if nonempty else parts[0]
    family["q_value"] = adjust(family["p_value"].to_numpy(dtype=np.float64))
    trends = _apply_to_trends(trends_table, rows.index, family, alpha)
    screens = classify(_apply_to_screens(screens_table, family, alpha))
    return CountryFamily(trends=trends, screens=screens, tests=_tests(family, alpha))


def _check_same(trend_row: pd.Series, screen_row: pd.Series, attribute: str) -> None:
    """One comparison, one p-value: trends and screens must agree on it."""
    p_trend = float(trend_row["p_value"])
    p_screen = float(screen_row["trend_p_value"])
    prev_trend, prev_screen = trend_row["previous_wave"], screen_row["previous_wave"]
    same_prev = (pd.isna(prev_trend) and pd.isna(prev_screen)) or str(prev_trend) == str(
        prev_screen
    )
    same_p = (np.isnan(p_trend) and np.isnan(p_screen)) or bool(
        np.isclose(p_trend, p_screen, rtol=_SAME_P_RTOL, atol=0.0)
    )
    if not (same_prev and same_p):
        raise DataError(
            f"country_family_q: the change of {attribute!r} since the previous wave has "
            f"p = {p_trend:.6g} (vs {prev_trend}) in trends_table but p = {p_screen:.6g} "
            f"(vs {prev_screen}) in screens_table; compute both from the same responses, "
            "cluster, min_n and previous wave"
        )


def _apply_to_trends(
    trends_table: pd.DataFrame, family_rows: pd.Index, family: pd.DataFrame, alpha: float
) -> pd.DataFrame:
    trends = trends_table.copy()
    rows = trends.index.isin(family_rows)
    q = pd.Series(np.nan, index=trends.index)
    if "q_value" in trends.columns:
        q[~rows] = trends.loc[~rows, "q_value"].to_numpy(np.float64)
    in_trends = family.loc[family["_trends"].notna()]
    q[in_trends["_trends"].to_list()] = in_trends["q_value"].to_numpy()
    trends["q_value"] = q.to_numpy()
    flags = trends["significant"].astype("boolean").array.copy()
    flags[rows] = significant(q[rows].to_numpy(), alpha=alpha)
    trends["significant"] = flags
    verdicts = trends["verdict"].to_numpy(object).copy()
    verdicts[rows] = _relabel(
        verdicts[rows],
        trends["change"].to_numpy(np.float64)[rows],
        q[rows].to_numpy(),
        CHANGE_LABELS,
        alpha,
    )
    trends["verdict"] = verdicts
    return trends


def _apply_to_screens(
    screens_table: pd.DataFrame, family: pd.DataFrame, alpha: float
) -> pd.DataFrame:
    screens = screens_table.copy()
    for screen, labels in _SCREENS.items():
        mine = family.loc[family["_screen"] == screen]
        q = pd.Series(np.nan, index=screens.index)
        q[mine["measure"].to_list()] = mine["q_value"].to_numpy()
        screens[f"{screen}_q_value"] = q.to_numpy()
        screens[f"{screen}_verdict"] = _relabel(
            screens[f"{screen}_verdict"].to_numpy(object),
            screens[f"{screen}_diff"].to_numpy(np.float64),
            q.to_numpy(),
            labels,
            alpha,
        )
    return screens


def _tests(family: pd.DataFrame, alpha: float) -> pd.DataFrame:
    change = (family["comparison"] == _COMPARISON["trend"]).to_numpy()
    diff, q = family["diff"].to_numpy(np.float64), family["q_value"].to_numpy(np.float64)
    as_change = _relabel(np.full(len(family), None), diff, q, CHANGE_LABELS, alpha)
    as_difference = _relabel(np.full(len(family), None), diff, q, DIFFERENCE_LABELS, alpha)
    out = pd.DataFrame(
        {
            "measure": family["measure"].to_numpy(object),
            "statistic": family["statistic"].to_numpy(object),
            "comparison": family["comparison"].to_numpy(object),
            "in_trends": family["_trends"].notna().to_numpy(),
            "in_screens": family["_screen"].notna().to_numpy(),
            "diff": diff,
            "p_value": family["p_value"].to_numpy(np.float64),
            "q_value": q,
            "significant": significant(q, alpha=alpha),
            "verdict": np.where(change, as_change, as_difference),
        }
    )
    return out
