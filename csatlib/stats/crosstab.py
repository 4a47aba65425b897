"""Banner tables: NPS, means or top-box shares per row group x banner column, with letters.

A market-research banner table crosses row groups (e.g. segments) with the columns of a banner
(e.g. business units), each banner column lettered A, B, C, ...; every cell shows its estimate
and the letters of the columns of its row it is significantly higher than ("B" in column A:
A > B). :func:`crosstab` computes the cells and every pairwise comparison with the estimators
of :mod:`csatlib.stats.nps` and :mod:`csatlib.stats.scores`, the account-clustered covariances
of :mod:`csatlib.stats.design`, and one multiplicity correction over the whole table;
:func:`banner_display` turns the result into strings ("+23.4 B C").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from csatlib import roles
from csatlib.config import DEFAULT_CONF, DEFAULT_MIN_N
from csatlib.errors import DataError
from csatlib.stats.design import cluster_codes, interval_se
from csatlib.stats.multiplicity import adjust, significant
from csatlib.stats.nps import (
    _adjusted_difference_test,
    _cluster_df,
    _group_codes,
    _Grouped,
    _grouped,
    _paired_se,
    _pick,
    _z_quantile,
)
from csatlib.stats.scores import (
    _as_scale,
    _box_stats,
    _check_boxes,
    _clustered_stats,
    _column,
    _domain_design,
    _DomainDesign,
    _mean_stats,
    _se_and_deff,
)
from csatlib.validation import check_alpha, check_conf, check_min_n, require_columns

__all__ = ["TOTAL", "Statistic", "Correction", "Crosstab", "crosstab", "banner_display"]

Statistic = Literal["nps", "mean", "top_box"]
Correction = Literal["fdr_bh", "holm", "bonferroni", "none"]

#: The banner value and header of each row group's total column (no letter, never tested).
TOTAL: Final = "Total"

# NPS cut-offs by the score's definition: promoters 9-10, detractors 0-6.
_PROMOTER_MIN: Final = 9
_DETRACTOR_MAX: Final = 6
# Name of the cell key in the private frame handed to the NPS grouping.
_KEY: Final = "__crosstab_cell__"
_ESTIMATES: Final = ("estimate", "se", "ci_low", "ci_high")

_Arrays = dict[str, np.ndarray]
#: cells a, b (banner cells) -> diff, se, t, dof, p_value of every pair a[k] - b[k]
_PairTest = Callable[[np.ndarray, np.ndarray], _Arrays]


@dataclass(frozen=True, eq=False)
class Crosstab:
    """A banner table: cells, the pairwise tests behind the letters, and the letter map.

    Attributes
    ----------
    cells : pandas.DataFrame
        One row per row group x banner column, each row group's ``TOTAL`` first: ``*rows,
        <column>, letter, n, n_clusters, estimate, se, ci_low, ci_high, suppressed,
        suppression, letters``.
        ``<column>`` (the banner column's name) holds the banner value or ``TOTAL``;
        ``letter`` is the column's letter ("" for the total); ``letters`` the letters of the
        columns the cell is significantly higher than, space-separated in banner order ("B C";
        "" for none). ``n`` counts valid values of the measure, ``n_clusters`` the accounts
        among them (``n`` without ``cluster``). A suppressed cell keeps ``n`` and
        ``n_clusters`` and has NaN estimates and no letters; ``suppression`` says why:
        ``"small"`` (``n < min_n``) or ``"complementary"`` (hidden with a row's only small
        cell, which the total and the other cells would give away: :func:`_suppression`).
    tests : pandas.DataFrame
        One row per row group and pair of banner columns a < b (banner order): ``*rows,
        column_a, column_b, letter_a, letter_b, n_a, n_b, estimate_a, estimate_b, diff, se, t,
        dof, p_value, q_value, significant``. ``diff = estimate_a - estimate_b`` and ``se`` its
        standard error; ``t`` the test statistic and ``dof`` its degrees of freedom (``inf``:
        normal reference); ``q_value`` the adjusted p-value over every test of the table;
        ``significant`` is ``q_value < alpha`` (NA when not tested: a suppressed cell, or no
        variance).
    letters : dict
        Banner value -> its letter ("A", "B", ..., "Z", "AA", ...).
    rows : tuple of str
        The row columns.
    column, measure, statistic : str
        The banner column, the measure and the statistic (``"nps"``, ``"mean"``, ``"top_box"``).
    cluster : str or None
        The account column, if the comparisons are clustered.
    min_n : int
        The small-cell minimum.
    alpha : float
        The level of the letters (on the adjusted p-values).
    correction : str
        The multiplicity correction.
    """

    cells: pd.DataFrame
    tests: pd.DataFrame
    letters: dict[Any, str]
    rows: tuple[str, ...]
    column: str
    measure: str
    statistic: str
    cluster: str | None
    min_n: int
    alpha: float
    correction: str

    def display(self, labels: Mapping[Any, str] | None = None) -> pd.DataFrame:
        """The table as strings: :func:`banner_display`."""
        return banner_display(self, labels=labels)


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True, eq=False)
class _Layout:
    """Row groups x banner columns of a frame: ``cell`` is each row's cell ``g * K + j``
    (``-1``: a missing row key or banner value), ``group`` its row group (``-1``: missing)."""

    row_keys: pd.DataFrame
    banner: list[Any]
    cell: np.ndarray
    group: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.row_keys)

    @property
    def n_cells(self) -> int:
        return len(self.row_keys) * len(self.banner)


def _positions(df: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Each row's position among the observed keys of ``by`` (-1: missing), and the keys in the
    order of every grouped table of csatlib (categories in order, other values sorted)."""
    codes, ncodes, decode = _group_codes(df, by)
    observed = np.unique(codes[codes < ncodes])
    position = np.full(ncodes + 1, -1, dtype=np.int64)
    position[observed] = np.arange(len(observed))
    return position[codes], decode(observed)


def _layout(df: pd.DataFrame, rows: list[str], column: str) -> _Layout:
    group, row_keys = _positions(df, rows)
    j, banner_keys = _positions(df, [column])
    banner = banner_keys[column].tolist()
    if not len(row_keys) or not banner:
        raise DataError(
            f"crosstab: expected respondents with a value in {rows} and in {column!r}, found "
            f"{len(row_keys)} row group(s) and {len(banner)} banner value(s)"
        )
    inside = (group >= 0) & (j >= 0)
    cell = np.where(inside, group * len(banner) + j, -1)
    return _Layout(row_keys, banner, cell, group)


def _letter(i: int) -> str:
    """Spreadsheet-style letter of the i-th banner column: A..Z, AA, AB, ..."""
    out = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


# --------------------------------------------------------------------------- validation


def _check_choice(value: object, choices: tuple[str, ...], param: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise DataError(
            f"The {param!r} parameter of crosstab must be one of "
            f"{', '.join(map(repr, choices))}; got {value!r}."
        )
    return value


def _check_names(
    rows: str | Sequence[str], column: str, measure: str, cluster: str | None
) -> list[str]:
    """The row columns as a list; every role names a different column."""
    row_list = [rows] if isinstance(rows, str) else list(rows)
    if not row_list:
        raise DataError("crosstab: rows must name at least one column, found an empty list")
    for name, value in (("columns", column), ("measure", measure)):
        if not isinstance(value, str):
            raise DataError(f"crosstab: {name} must be one column name, found {value!r}")
    roles_of = [*row_list, column, measure, *([] if cluster is None else [cluster])]
    if len(set(roles_of)) != len(roles_of):
        raise DataError(
            f"crosstab: rows, columns, measure and cluster must name different columns, found "
            f"rows={row_list}, columns={column!r}, measure={measure!r}, cluster={cluster!r}"
        )
    return row_list


def _measure_scale(
    df: pd.DataFrame, measure: str, statistic: str, scale: Any
) -> tuple[int, int] | None:
    """The measure's scale: ``scale`` as given, else the codebook's (:func:`roles.scale`), else
    0-10 for the NPS; a mean needs none (then its values are not range-checked)."""
    if scale is not None:
        return _as_scale(scale, f"crosstab: scale of column {measure!r}")
    if measure in roles.scales(df) or roles.roles(df).get(measure) == "nps":
        return roles.scale(df, measure)
    if statistic == "nps":
        return roles.NPS_SCALE
    if statistic == "top_box":
        raise DataError(
            f"crosstab: statistic='top_box' needs the scale of column {measure!r}, found none; "
            "pass scale=(min, max) or a table whose attrs['scales'] names the column (as "
            "csatlib's processed tables do)"
        )
    return None


def _top_box(
    statistic: str, scale: tuple[int, int] | None, boxes: int
) -> tuple[int, int, int] | None:
    """(min, max, boxes) of a top-box statistic, None for a mean."""
    if statistic != "top_box":
        return None
    if scale is None:  # _measure_scale gives every top box a scale or raises
        raise DataError("crosstab: statistic='top_box' needs a scale, found none")
    _check_boxes(boxes, scale)
    return (scale[0], scale[1], boxes)


# --------------------------------------------------------------------------- NPS


def _nps_grouped(
    df: pd.DataFrame, key: np.ndarray, measure: str, cluster: str | None, scale: tuple[int, int]
) -> _Grouped:
    """The NPS sums of every cell ``key`` (-1: in no cell, but in the design) over all rows."""
    frame = df[[measure, *([] if cluster is None else [cluster])]].copy()
    frame[_KEY] = np.where(key >= 0, key, np.nan)
    return _grouped(
        frame,
        [_KEY],
        score=measure,
        weights=None,
        cluster=cluster,
        promoter_min=_PROMOTER_MIN,
        detractor_max=_DETRACTOR_MAX,
        scale=scale,
        func="crosstab",
    )


def _nps_cells(grouped: _Grouped, ncells: int, conf: float) -> tuple[_Arrays, _Arrays, np.ndarray]:
    """Cell arrays over ``0..ncells-1`` (n, n_clusters, estimate, se, ci), the estimates of
    the observed cells, and each cell's position among them (-1: no row)."""
    est = grouped.estimates(weighted=False, conf=conf)
    ids = grouped.keys[_KEY].to_numpy(dtype=np.float64).astype(np.int64)
    position = np.full(ncells, -1, dtype=np.int64)
    position[ids] = np.arange(len(ids))
    n = np.zeros(ncells)
    n[ids] = grouped.sums["n"]
    out: dict[str, np.ndarray] = {"n": n}
    for name, source in zip(_ESTIMATES, ("score", "se", "ci_low", "ci_high"), strict=True):
        out[name] = np.full(ncells, np.nan)
        out[name][ids] = est[source]
    if grouped.design is None:
        out["n_clusters"] = n
    else:
        out["n_clusters"] = np.zeros(ncells)
        out["n_clusters"][ids] = est["n_clusters"]
    return out, est, position


def _nps_pairs(
    grouped: _Grouped, est: _Arrays, a: np.ndarray, b: np.ndarray, conf: float
) -> dict[str, np.ndarray]:
    """diff, se, t, dof, p of NPS_a - NPS_b for observed groups ``a[k]``, ``b[k]``: the plain
    difference and its SE (with the clustered covariance), tested by the adjusted Wald test of
    :func:`csatlib.stats.nps.nps_wave_change` (same estimator, every pair of one design)."""
    diff = est["score"][a] - est["score"][b]
    se, corr = _paired_se(grouped, est, a, b)
    ea, eb = _pick(est, a), _pick(est, b)
    test = _adjusted_difference_test(ea, eb, corr, conf)
    df = _cluster_df(ea, eb)
    return {
        "diff": diff,
        "se": se,
        "t": test["z"],
        "dof": np.full(len(a), np.inf) if df is None else df,
        "p_value": test["p_value"],
    }


def _nps_part(
    df: pd.DataFrame,
    layout: _Layout,
    measure: str,
    cluster: str | None,
    scale: tuple[int, int],
    conf: float,
) -> tuple[_Arrays, _Arrays, _PairTest]:
    """Banner cells, totals, and a function of pairs of cells to their tests (NPS)."""
    grouped = _nps_grouped(df, layout.cell, measure, cluster, scale)
    cells, est, position = _nps_cells(grouped, layout.n_cells, conf)
    total, _, _ = _nps_cells(
        _nps_grouped(df, layout.group, measure, cluster, scale), layout.n_groups, conf
    )

    def pairs(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
        return _nps_pairs(grouped, est, position[a], position[b], conf)

    return cells, total, pairs


# --------------------------------------------------------------------------- mean, top box


def _plain_cells(
    x: np.ndarray, cell: np.ndarray, ncells: int, top: tuple[int, int, int] | None, conf: float
) -> dict[str, np.ndarray]:
    """Independent respondents: the mean with its t interval
    (:func:`csatlib.stats.scores.csat_mean`), or the top-box share with its Wilson interval
    (:func:`csatlib.stats.scores.top_box`) and binomial SE."""
    cells = np.where(cell >= 0, cell, ncells)
    m = _mean_stats(x, cells, ncells, conf)
    n = m["n"]
    if top is None:
        est, se, low, high = m["mean"], m["se"], m["ci_low"], m["ci_high"]
    else:
        lo, hi, boxes = top
        b = _box_stats(x, cells, ncells, (lo, hi), boxes, conf)
        est, low, high = b["top_box"], b["top_box_ci_low"], b["top_box_ci_high"]
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.sqrt(est * (1.0 - est) / n)
    return {"n": n, "n_clusters": n, "estimate": est, "se": se, "ci_low": low, "ci_high": high}


def _design_cells(
    x: np.ndarray,
    cell: np.ndarray,
    ncells: int,
    clusters: pd.Series,
    top: tuple[int, int, int] | None,
    conf: float,
) -> tuple[_Arrays, _DomainDesign]:
    """Accounts as clusters: every cell a domain of one design over all rows (the estimator of
    :func:`csatlib.stats.design.domain_means`, vectorized by
    :func:`csatlib.stats.scores._domain_design`, which also gives the covariances of the
    cells); intervals as :func:`csatlib.stats.scores.scores_by_group`."""
    codes = cluster_codes(clusters, len(x))
    cells = np.where(cell >= 0, cell, ncells)
    valid = ~np.isnan(x)
    y = x if top is None else np.where(valid, (x >= top[1] - top[2] + 1).astype(float), np.nan)
    design = _domain_design(y, cells, ncells, codes)
    se, _ = _se_and_deff(design)
    est = design.mean
    if top is None:  # the design effect floored at 1 for the interval, as scores_by_group's
        half = _z_quantile(conf) * interval_se(se, np.sqrt(design.var_own))
        low, high = est - half, est + half
    else:
        s = _clustered_stats(x, cells, ncells, clusters, (top[0], top[1]), top[2], conf)
        low, high = s["top_box_ci_low"], s["top_box_ci_high"]
    out = {"n": design.n, "n_clusters": design.n_clusters, "estimate": est, "se": se}
    return out | {"ci_low": low, "ci_high": high}, design


def _pair_cov(design: _DomainDesign, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Clustered covariance of the means of cells ``a[k]`` and ``b[k]``.

    :meth:`_DomainDesign.cov` pairs each domain with one partner per call, so the pairs go in
    rounds of equal distance ``b - a`` (within a row group, one pair per cell and round).
    """
    out = np.full(len(a), np.nan)
    step = b - a
    for distance in np.unique(step):
        chosen = step == distance
        out[chosen] = design.cov(a[chosen], b[chosen])
    return out


def _score_pairs(
    cells: _Arrays, design: _DomainDesign | None, mean: bool, a: np.ndarray, b: np.ndarray
) -> _Arrays:
    """diff, se, t, dof, p of cell a - cell b (formulas in :func:`crosstab`)."""
    diff = cells["estimate"][a] - cells["estimate"][b]
    if design is None:
        va, vb = cells["se"][a] ** 2, cells["se"][b] ** 2
        se = np.sqrt(va + vb)
        if mean:  # Welch-Satterthwaite
            na, nb = cells["n"][a], cells["n"][b]
            with np.errstate(divide="ignore", invalid="ignore"):
                df = (va + vb) ** 2 / (va**2 / (na - 1.0) + vb**2 / (nb - 1.0))
        else:
            df = np.full(len(a), np.inf)
    else:
        var = design.var[a] + design.var[b] - 2.0 * _pair_cov(design, a, b)
        se = np.sqrt(np.clip(var, 0.0, None))
        se = np.where(np.isnan(cells["se"][a]) | np.isnan(cells["se"][b]), np.nan, se)
        df = np.minimum(cells["n_clusters"][a], cells["n_clusters"][b]) - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, diff / se, np.nan)
        df = np.where(df >= 1.0, df, np.nan)
        p = np.where(np.isinf(df), 2.0 * stats.norm.sf(np.abs(t)), 2.0 * stats.t.sf(np.abs(t), df))
    return {"diff": diff, "se": se, "t": t, "dof": df, "p_value": p}


def _score_part(
    df: pd.DataFrame,
    layout: _Layout,
    measure: str,
    cluster: str | None,
    scale: tuple[int, int] | None,
    top: tuple[int, int, int] | None,
    conf: float,
) -> tuple[_Arrays, _Arrays, _PairTest]:
    """Banner cells, totals, and a function of pairs of cells to their tests (mean, top box)."""
    x = _column(df, measure, scale)
    if cluster is None:
        cells = _plain_cells(x, layout.cell, layout.n_cells, top, conf)
        total = _plain_cells(x, layout.group, layout.n_groups, top, conf)
        design = None
    else:
        cells, design = _design_cells(x, layout.cell, layout.n_cells, df[cluster], top, conf)
        total, _ = _design_cells(x, layout.group, layout.n_groups, df[cluster], top, conf)

    def pairs(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
        return _score_pairs(cells, design, top is None, a, b)

    return cells, total, pairs


# --------------------------------------------------------------------------- table


def _adjusted(p_value: np.ndarray, correction: str) -> np.ndarray:
    """q-values of the tests done (NaN: not done, not counted in the family)."""
    if correction == "fdr_bh":
        return adjust(p_value)
    q = np.full(len(p_value), np.nan)
    tested = ~np.isnan(p_value)
    if correction == "none":
        q[tested] = p_value[tested]
    elif tested.any():
        q[tested] = multipletests(p_value[tested], method=correction)[1]
    return q


def _suppression(layout: _Layout, cells: _Arrays, total: _Arrays, min_n: int) -> np.ndarray:
    """Why each cell of the long table (per row group its total, then its banner cells) is not
    shown: ``""`` shown, ``"small"`` fewer than ``min_n`` values (primary suppression),
    ``"complementary"`` hidden so that a small cell cannot be worked out from the others.

    A row group's total is the n-weighted mean of its banner cells (when every respondent of
    the row has a banner value), so one small cell hidden alone in a row whose total and other
    cells are shown is that mean's remainder. Where a row has exactly one small cell with
    answers (n > 0), the shown banner cell with the fewest values is hidden too (the first of
    equals), or, when there is none, the total: the table then gives only the two hidden
    cells' pooled mean, never the small cell's own (the rule of at least two suppressed cells
    per line of secondary cell suppression; Hundepool et al. 2012, section 4.2.2).

    References
    ----------
    Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Nordholt, E. S., Spicer,
    K., & de Wolf, P.-P. (2012). Statistical Disclosure Control. Wiley, ch. 4.
    """
    g, k = layout.n_groups, len(layout.banner)
    n = np.asarray(cells["n"], dtype=np.int64).reshape(g, k)
    why = np.where(n < min_n, "small", "").astype(object)
    why_total = np.where(np.asarray(total["n"], dtype=np.int64) < min_n, "small", "").astype(object)
    lonely = (((n < min_n) & (n > 0)).sum(axis=1) == 1) & (why_total == "")
    for r in np.flatnonzero(lonely):
        shown = np.flatnonzero(why[r] == "")
        if len(shown):
            why[r, shown[np.argmin(n[r, shown])]] = "complementary"
        else:
            why_total[r] = "complementary"
    return np.column_stack([why_total, why]).ravel()


def _tests(
    layout: _Layout,
    cells: _Arrays,
    pairs: _PairTest,
    hidden: np.ndarray,
    alpha: float,
    correction: str,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Every pair of banner columns in every row group, tested where neither is suppressed
    (``hidden``: a bool per banner cell)."""
    k = len(layout.banner)
    ii, jj = np.triu_indices(k, 1)
    groups = np.repeat(np.arange(layout.n_groups), len(ii))
    a = groups * k + np.tile(ii, layout.n_groups)
    b = groups * k + np.tile(jj, layout.n_groups)
    n = cells["n"]
    testable = ~hidden[a] & ~hidden[b]
    found = {c: np.full(len(a), np.nan) for c in ("diff", "se", "t", "dof", "p_value")}
    if testable.any():
        done = pairs(a[testable], b[testable])
        for name, values in done.items():
            found[name][testable] = values
    q = _adjusted(found["p_value"], correction)
    out = layout.row_keys.iloc[groups].reset_index(drop=True)
    out["column_a"] = pd.Series([layout.banner[i] for i in a % k], dtype=object)
    out["column_b"] = pd.Series([layout.banner[i] for i in b % k], dtype=object)
    out["letter_a"] = [_letter(i) for i in a % k]
    out["letter_b"] = [_letter(i) for i in b % k]
    out["n_a"] = n[a].astype(np.int64)
    out["n_b"] = n[b].astype(np.int64)
    out["estimate_a"] = np.where(testable, cells["estimate"][a], np.nan)
    out["estimate_b"] = np.where(testable, cells["estimate"][b], np.nan)
    for name in ("diff", "se", "t", "dof", "p_value"):
        out[name] = found[name]
    out["q_value"] = q
    out["significant"] = significant(q, alpha=alpha)
    return out, a, b


def _cell_letters(tests: pd.DataFrame, a: np.ndarray, b: np.ndarray, layout: _Layout) -> list[str]:
    """Each banner cell's letters: of every column of its row it is significantly higher than
    (by the sign of the test statistic), in banner order."""
    k = len(layout.banner)
    hit = tests["significant"].fillna(False).to_numpy(dtype=bool)
    t = tests["t"].to_numpy(dtype=np.float64)
    up, down = hit & (t > 0), hit & (t < 0)
    winner = np.concatenate([a[up], b[down]])
    loser = np.concatenate([b[up], a[down]])
    found: list[list[int]] = [[] for _ in range(layout.n_cells)]
    for cell, other in sorted(zip(winner.tolist(), loser.tolist(), strict=True)):
        found[cell].append(other % k)
    return [" ".join(_letter(j) for j in others) for others in found]


def _cells_frame(
    layout: _Layout,
    column: str,
    cells: _Arrays,
    total: _Arrays,
    letters: list[str],
    suppression: np.ndarray,
) -> pd.DataFrame:
    """The long table: per row group its total, then every banner column."""
    g, k = layout.n_groups, len(layout.banner)

    def both(name: str) -> np.ndarray:
        grid = np.asarray(cells[name]).reshape(g, k)
        return np.column_stack([np.asarray(total[name]), grid]).ravel()

    out = layout.row_keys.iloc[np.repeat(np.arange(g), k + 1)].reset_index(drop=True)
    out[column] = pd.Series([TOTAL, *layout.banner] * g, dtype=object)
    out["letter"] = ["", *(_letter(j) for j in range(k))] * g
    suppressed = suppression != ""
    out["n"] = both("n").astype(np.int64)
    out["n_clusters"] = both("n_clusters").astype(np.int64)
    for name in _ESTIMATES:
        out[name] = np.where(suppressed, np.nan, both(name))
    out["suppressed"] = suppressed
    out["suppression"] = pd.Series(suppression, dtype=object)
    out["letters"] = np.column_stack(
        [np.full(g, "", dtype=object), np.array(letters, object).reshape(g, k)]
    ).ravel()
    return out


def crosstab(
    df: pd.DataFrame,
    rows: str | Sequence[str],
    columns: str,
    measure: str,
    *,
    statistic: Statistic = "mean",
    cluster: str | None = None,
    scale: tuple[int, int] | None = None,
    boxes: int = 2,
    min_n: int = DEFAULT_MIN_N,
    alpha: float = 0.05,
    correction: Correction = "fdr_bh",
    conf: float = DEFAULT_CONF,
) -> Crosstab:
    """Banner table of one measure: a statistic per row group x banner column, with letters.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per respondent.
    rows : str or sequence of str
        Column(s) whose observed values (combinations) are the table's row groups, e.g.
        ``"segment"``. Rows with a missing key are in no row group (but in the design).
    columns : str
        The banner column, e.g. ``"business_unit"``: its observed values, in category order
        (a categorical) or sorted, are the banner's columns, lettered A, B, C, ...
    measure : str
        The numeric column the statistic is computed from; missing values are left out.
    statistic : {"mean", "nps", "top_box"}, keyword-only
        ``"mean"`` (default); ``"nps"``: % promoters (9-10) minus % detractors (0-6) of a 0-10
        recommend question, in points; ``"top_box"``: the share (0..1) in the top ``boxes``
        points of the scale.
    cluster : str, optional, keyword-only
        The account column (primary sampling unit). None: respondents are independent.
    scale : (int, int), optional, keyword-only
        The measure's scale; default the codebook's (:func:`csatlib.roles.scale`, from
        ``df.attrs``), else 0-10 for the NPS. ``"top_box"`` needs one; a mean does not (values
        are range-checked when a scale is known).
    boxes : int, keyword-only
        Points counted as the top box (default 2: 9-10 on 0-10, 4-5 on 1-5).
    min_n : int, keyword-only
        Cells with fewer valid values are suppressed: no estimate, no letter, no test against
        them (default 30). A row's only such cell takes a second cell (or the total) with it:
        complementary suppression (:func:`_suppression`).
    alpha : float, keyword-only
        A letter is shown when the adjusted p-value (``q_value``) is below ``alpha``.
    correction : {"fdr_bh", "holm", "bonferroni", "none"}, keyword-only
        Multiplicity correction over every test of the table together (default
        Benjamini-Hochberg, :func:`csatlib.stats.multiplicity.adjust`; the others from
        statsmodels ``multipletests``; ``"none"``: raw p-values).
    conf : float, keyword-only
        Confidence level of each cell's interval.

    Returns
    -------
    Crosstab
        ``cells`` (long table), ``tests`` (every pair of banner columns per row group) and
        ``letters`` (banner value -> letter); columns listed in :class:`Crosstab`.

    Raises
    ------
    DataError
        A missing column, a non-numeric or out-of-scale value (named with its row), no scale
        for the top box, a column used in two roles, an invalid option.

    Notes
    -----
    *Cells.* Each row group's ``TOTAL`` is every respondent of the row group (also those
    without a banner value); it is not tested. Without ``cluster``: the mean with ``se =
    s/sqrt(n)`` and a t interval (:func:`csatlib.stats.scores.csat_mean`); the top-box share
    :math:`\\hat p` with :math:`se = \\sqrt{\\hat p(1-\\hat p)/n}` and a Wilson interval
    (:func:`csatlib.stats.scores.top_box`); the NPS with the trinomial :math:`se = 100
    \\sqrt{(p_P + p_D - (p_P - p_D)^2)/n}` and the adjusted Wald interval
    (:func:`csatlib.stats.nps.nps`). With ``cluster`` every cell is a domain of one design
    over all rows of ``df``, ``svydesign(ids = ~cluster)`` (an account may answer in several
    banner columns): the linearization SE of :func:`csatlib.stats.design.domain_means` (mean,
    top box as the mean of its indicator) or :func:`csatlib.stats.nps.nps_by_group`, the
    intervals of :func:`csatlib.stats.scores.scores_by_group` and
    :func:`csatlib.stats.nps.nps_by_group`.

    *Tests*, for every pair a < b of banner columns in a row group, ``diff = est_a - est_b``:

    - mean, independent respondents: Welch's unpooled t, :math:`t = diff / \\sqrt{se_a^2 +
      se_b^2}` on the Welch-Satterthwaite df :math:`(se_a^2 + se_b^2)^2 / (se_a^4/(n_a-1) +
      se_b^4/(n_b-1))`;
    - top box, independent respondents: the unpooled (Wald) two-proportion z test, :math:`z =
      (\\hat p_a - \\hat p_b) / \\sqrt{\\hat p_a(1-\\hat p_a)/n_a + \\hat p_b(1-\\hat
      p_b)/n_b}`, normal reference;
    - mean and top box with ``cluster``: the difference of two domains of one design,
      :math:`se^2 = se_a^2 + se_b^2 - 2\\,\\widehat{Cov}_{ab}` with the linearization
      covariance :math:`\\widehat{Cov}_{ab} = \\frac{C}{C-1} \\sum_c (Z_{ac} - \\bar
      Z_a)(Z_{bc} - \\bar Z_b)` over account totals of influence values (R
      ``svycontrast(svyby(~y, ~cell, design, svymean, covmat = TRUE), ...)``), and Student's t
      on the smaller cell's accounts minus one degrees of freedom (as
      :func:`csatlib.stats.scores.trends`);
    - NPS (the difference of two multinomial contrasts :math:`p_P - p_D`): ``diff`` and
      ``se`` as above (trinomial variances added; clustered, the covariance subtracted), tested
      with the adjusted Wald test of :func:`csatlib.stats.nps.nps_difference` /
      :func:`csatlib.stats.nps.nps_wave_change` (pseudo-counts, the design correlation of the
      two cells, t on the smaller cell's accounts minus one with ``cluster``), so ``t`` is not
      exactly ``diff / se``.

    Estimates are unweighted, as those of :func:`csatlib.stats.scores.scores_by_group` and
    :func:`csatlib.stats.scores.trends` that a banner must agree with. A pair without a
    variance (``se = 0``, one account) is not tested. The p-values of all
    tests of the table form one family for ``correction``; cell a gets b's letter when the
    adjusted p-value is below ``alpha`` and ``t > 0`` (b gets a's when ``t < 0``).

    Checked against: closed forms on a hand-made table; statsmodels ``ttest_ind(usevar=
    "unequal")``, ``test_proportions_2indep(method="wald")`` and ``multipletests`` and
    :func:`csatlib.stats.nps.nps_difference` (no cluster); R 4.2.2 survey 4.1.1 ``svyby`` and
    ``svycontrast`` (clustered cell and total SEs and differences to 1e-8) and
    :func:`csatlib.stats.nps.nps_wave_change` on two banner columns (clustered NPS test), in
    tests/stats/test_crosstab.py.

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. Biometrika, 34(1/2), 28-35.
    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Statistics in Medicine, 17(8), 873-890 (method
    1, the unpooled Wald statistic).
    Rocks, B. (2016). Interval estimation for the "Net Promoter Score". The American
    Statistician, 70(4), 365-372.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, ch. 2-3.
    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B, 57(1),
    289-300.
    """
    min_n = check_min_n(min_n, func="crosstab")
    alpha = check_alpha(alpha, func="crosstab")
    conf = check_conf(conf, func="crosstab")
    statistic = _check_choice(statistic, get_args(Statistic), "statistic")
    correction = _check_choice(correction, get_args(Correction), "correction")
    row_list = _check_names(rows, columns, measure, cluster)
    require_columns(
        df, [*row_list, columns, measure, *([] if cluster is None else [cluster])], "crosstab"
    )
    measure_scale = _measure_scale(df, measure, statistic, scale)
    layout = _layout(df, row_list, columns)
    if statistic == "nps":
        scale_nps = measure_scale or roles.NPS_SCALE
        cells, total, pairs = _nps_part(df, layout, measure, cluster, scale_nps, conf)
    else:
        top = _top_box(statistic, measure_scale, boxes)
        cells, total, pairs = _score_part(df, layout, measure, cluster, measure_scale, top, conf)
    suppression = _suppression(layout, cells, total, min_n)
    hidden = (suppression != "").reshape(layout.n_groups, -1)[:, 1:].ravel()  # banner cells
    tests, a, b = _tests(layout, cells, pairs, hidden, alpha, correction)
    letters = _cell_letters(tests, a, b, layout)
    return Crosstab(
        cells=_cells_frame(layout, columns, cells, total, letters, suppression),
        tests=tests,
        letters={value: _letter(j) for j, value in enumerate(layout.banner)},
        rows=tuple(row_list),
        column=columns,
        measure=measure,
        statistic=statistic,
        cluster=cluster,
        min_n=min_n,
        alpha=alpha,
        correction=correction,
    )


# --------------------------------------------------------------------------- display


def _format(value: float, statistic: str) -> str:
    if statistic == "nps":
        return f"{value:+.1f}"
    if statistic == "top_box":
        return f"{100.0 * value:.1f}%"
    return f"{value:.2f}"


def banner_display(ct: Crosstab, *, labels: Mapping[Any, str] | None = None) -> pd.DataFrame:
    """The banner table as strings: one row per row group, ``TOTAL`` then every banner column.

    Parameters
    ----------
    ct : Crosstab
        A result of :func:`crosstab`.
    labels : mapping, optional, keyword-only
        Display labels of banner values and row-group values (others shown as they are).

    Returns
    -------
    pandas.DataFrame
        Indexed by row group (the labels; a MultiIndex for several row columns); columns
        ``TOTAL`` and ``"<label> (<letter>)"`` per banner column. A cell reads its estimate
        and its letters, ``"+23.4 B C"`` (NPS in points, signed), ``"7.82 B"`` (mean),
        ``"67.0% B"`` (top box); a suppressed cell ``"suppressed (n = 12 < 30)"``, a cell
        hidden to protect it ``"suppressed (protects a small cell)"``.
    """
    names = dict(labels or {})
    cells = ct.cells
    text = [
        f"suppressed (n = {n} < {ct.min_n})"
        if reason == "small"
        else "suppressed (protects a small cell)"
        if reason
        else f"{_format(value, ct.statistic)} {letters}".strip()
        for n, reason, value, letters in zip(
            cells["n"], cells["suppression"], cells["estimate"], cells["letters"], strict=True
        )
    ]
    headers = [
        TOTAL if letter == "" else f"{names.get(value, value)} ({letter})"
        for value, letter in zip(cells[ct.column], cells["letter"], strict=True)
    ]
    keys = cells[list(ct.rows)].astype(object).map(lambda v: names.get(v, v))
    frame = keys.assign(_header=headers, _text=text)
    out = frame.pivot(index=list(ct.rows), columns="_header", values="_text")
    order = list(dict.fromkeys(headers))
    row_order = (
        pd.MultiIndex.from_frame(keys.drop_duplicates())
        if len(ct.rows) > 1
        else (pd.Index(keys[ct.rows[0]].drop_duplicates(), name=ct.rows[0]))
    )
    out = out.reindex(index=row_order, columns=order)
    out.columns.name = None
    return out
