"""Key-driver analysis: how much each attribute drives the outcome, and how sure we are.

One question per function, a tidy DataFrame out:

- :func:`relative_importance` -- Shapley/LMG, Johnson's relative weights, Pratt, first, last,
  Pearson/Spearman correlation or standardized beta, all from one (weighted) correlation matrix;
- :func:`ols_drivers` / :func:`logit_drivers` -- the regressions (HC3 errors; odds ratios,
  with design-based errors under weights or account clusters);
- :func:`bootstrap_importance` / :func:`overlap_notes` -- intervals for importance and rank
  (respondents or whole accounts resampled) and which drivers' order is established;
- :func:`stated_importance` / :func:`stated_vs_derived` -- what customers say vs what drives them;
- :func:`importance_performance` -- the Martilla & James (1977) quadrants;
- :func:`dissatisfaction_pareto` -- which attributes collect most of the low ratings;
- :func:`driver_table` -- the one-call table of the country report.

Every R^2 decomposition works on the correlation matrix, never by refitting on raw rows: the
R^2 of all 2^p subsets comes from a vectorized sweep over the subset lattice (see
:func:`subset_r2`), so 20 drivers on a million rows take about a second.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, special, stats
from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

from csatlib import roles
from csatlib.config import DEFAULT_CONF, DEFAULT_MIN_N
from csatlib.errors import DataError
from csatlib.stats.design import cluster_codes, linearized_cov
from csatlib.validation import check_conf, check_min_n, check_weights, require_columns

__all__ = [
    "Method",
    "MAX_SHAPLEY_DRIVERS",
    "relative_importance",
    "ols_drivers",
    "logit_drivers",
    "bootstrap_importance",
    "MIN_BOOTSTRAP_CLUSTERS",
    "overlap_notes",
    "stated_importance",
    "stated_vs_derived",
    "importance_performance",
    "dissatisfaction_pareto",
    "driver_table",
    "subset_r2",
]

Method: TypeAlias = Literal[
    "shapley", "lmg", "relative_weights", "pratt", "first", "last", "pearson", "spearman", "beta"
]
Missing: TypeAlias = Literal["listwise", "pairwise"]
Weights: TypeAlias = str | Sequence[float] | np.ndarray | pd.Series | None

#: Exact Shapley enumerates 2^p subsets; 2^24 R^2 values take 128 MB, beyond that we refuse.
MAX_SHAPLEY_DRIVERS: int = 24
#: Rows needed per driver for the regression-based methods (Harrell 2015, section 4.4).
ROWS_PER_DRIVER: int = 10
#: A driver whose R^2 on the other drivers exceeds 1 - this is treated as perfectly collinear.
_COLLINEAR_TOL: float = 1e-8
#: Fewest clusters a cluster bootstrap resamples. C clusters allow only
#: :math:`\\binom{2C-1}{C}` distinct replicates (10 for 3 accounts, 126 for 5): their
#: percentiles are no interval, and with few clusters the bootstrap understates the variance
#: (Cameron, Gelbach & Miller 2008). Below it there are no intervals, as for one cluster.
MIN_BOOTSTRAP_CLUSTERS: int = 10
#: Rows per block when summing cross-products (bounds temporary memory to a few MB).
_ROW_BLOCK: int = 65_536
#: Variance inflation above which a note warns that betas and Pratt weights are unstable.
_VIF_NOTE: float = 10.0

_METHODS: tuple[str, ...] = (
    "shapley",
    "lmg",
    "relative_weights",
    "pratt",
    "first",
    "last",
    "pearson",
    "spearman",
    "beta",
)
_R2_DECOMPOSITIONS = frozenset({"shapley", "lmg", "relative_weights", "pratt"})
_CORRELATION_ONLY = frozenset({"pearson", "spearman", "first"})
_SIGNED = frozenset({"pearson", "spearman", "beta", "pratt"})


# --------------------------------------------------------------------------------------------
# Validation and preparation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """Analysis sample after validation, missing-data handling and dropping of unusable drivers."""

    drivers: list[str]  # kept drivers, in the caller's order
    values: np.ndarray  # rows x (drivers + outcome); NaN allowed only under pairwise
    weights: np.ndarray  # one non-negative weight per row of ``values``
    corr: np.ndarray | None  # (p+1, p+1) correlation matrix, outcome last
    n: int
    n_effective: float
    dropped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    reason: str | None = None  # set when the result must be suppressed
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))  # data positions

    @property
    def suppressed(self) -> bool:
        return self.reason is not None


def _check_numeric(data: pd.DataFrame, column: str, role: str) -> None:
    series = data[column]
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return
    coerced = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & coerced.isna()
    if not bad.any():
        return  # e.g. object dtype holding numbers only: converted in _as_matrix
    label = bad.idxmax()
    example = f", e.g. {series.loc[label]!r} at row {label!r}"
    raise DataError(
        f"{role} column {column!r} must be numeric; found dtype {series.dtype}{example}. "
        "Clean the export first (csatlib.ingest.clean) or convert the column."
    )


def _check_drivers(
    data: pd.DataFrame, outcome: str, drivers: Sequence[str], where: str
) -> list[str]:
    if isinstance(drivers, str):
        raise DataError(
            f"{where}: drivers must be a list of column names, found the string {drivers!r}"
        )
    drivers = list(drivers)
    if not drivers:
        raise DataError(f"{where}: expected at least one driver column, found none")
    duplicated = sorted({d for d in drivers if drivers.count(d) > 1})
    if duplicated:
        raise DataError(f"{where}: driver(s) {duplicated} listed more than once")
    if outcome in drivers:
        raise DataError(f"{where}: the outcome {outcome!r} is also listed as a driver")
    require_columns(data, [outcome, *drivers], where)
    _check_numeric(data, outcome, "outcome")
    for d in drivers:
        _check_numeric(data, d, "driver")
    return drivers


def _resolve_weights(data: pd.DataFrame, weights: Weights, where: str) -> np.ndarray | None:
    """Weights as a float array aligned with ``data`` rows (NaN allowed: the row is left out)."""
    if isinstance(weights, str) and weights in data.columns:
        _check_numeric(data, weights, "weight")  # text would silently become NaN weights
    if isinstance(weights, pd.Series) and not weights.index.equals(data.index):
        raise DataError(f"{where}: the index of the weights Series does not match the data index")
    return check_weights(data, weights, func=where)


def _min_rows(min_n: int | None, where: str) -> int:
    """The small-sample minimum: ``DEFAULT_MIN_N`` when None, else a checked int >= 1."""
    return DEFAULT_MIN_N if min_n is None else check_min_n(min_n, func=where)


def _check_rows_per_driver(rows_per_driver: int) -> int:
    if (
        isinstance(rows_per_driver, bool)
        or not isinstance(rows_per_driver, int | np.integer)
        or rows_per_driver < 1
    ):
        raise DataError(f"rows_per_driver must be a positive integer, found {rows_per_driver!r}")
    return int(rows_per_driver)


def _as_matrix(data: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Float matrix of the columns (NA -> NaN), filled column by column (fast for wide frames)."""
    out = np.empty((len(data), len(columns)), order="F")
    for j, c in enumerate(columns):
        series = data[c]
        if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            series = pd.to_numeric(series)  # validated by _check_numeric
        out[:, j] = series.to_numpy(dtype=float, na_value=np.nan)
    return out


def _kish(w: np.ndarray) -> float:
    """Kish (1965) effective sample size (sum w)^2 / sum w^2."""
    s2 = float(np.dot(w, w))
    return float(w.sum() ** 2 / s2) if s2 > 0 else 0.0


def _weighted_corr(x: np.ndarray, w: np.ndarray, unit: bool) -> np.ndarray:
    """Weighted correlation matrix of complete rows.

    Columns are centred first (accuracy), in row blocks so a million-row input needs no
    second full-size copy.
    """
    sw = w.sum()
    mu = x.mean(axis=0) if unit else (w @ x) / sw
    k = x.shape[1]
    cov = np.zeros((k, k))
    for start in range(0, len(x), _ROW_BLOCK):
        block = x[start : start + _ROW_BLOCK] - mu
        if unit:
            cov += block.T @ block
        else:
            cov += (block * w[start : start + _ROW_BLOCK, None]).T @ block
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    np.fill_diagonal(corr, 1.0)
    return corr


def _pairwise_corr(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete weighted Pearson correlations and the (unweighted) pair counts.

    Each pair (i, j) uses the rows where both are observed, with the means and standard
    deviations of those rows (as R's ``cor(use = "pairwise.complete.obs")``).
    """
    observed = ~np.isnan(x)
    x0 = np.where(observed, x - np.nanmean(x, axis=0), 0.0)
    m = observed.astype(float)
    wm = m * w[:, None]
    wx = x0 * w[:, None]
    sw = wm.T @ m  # sum of weights where i and j are observed
    sx = wx.T @ m  # sum w x_i where i and j observed
    sxx = (wx * x0).T @ m
    sxy = wx.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_i = sx / sw
        mean_j = sx.T / sw
        cov = sxy / sw - mean_i * mean_j
        var_i = sxx / sw - mean_i**2
        var_j = sxx.T / sw - mean_j**2
        corr = cov / np.sqrt(var_i * var_j)
    np.fill_diagonal(corr, 1.0)
    counts = m.T @ m
    return corr, counts


def _weighted_midranks(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted mid-ranks: weight of smaller values plus half the weight of ties (NaN stays NaN)."""
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    uniq, inverse = np.unique(x[ok], return_inverse=True)
    del uniq
    wsum = np.bincount(inverse, weights=w[ok])
    out[ok] = (np.cumsum(wsum) - wsum / 2.0)[inverse]
    return out


@dataclass
class _Sample:
    """The analysis sample while :func:`_prepare` narrows it down (rows, then drivers)."""

    cols: list[str]  # drivers still in, in the caller's order
    values: np.ndarray  # rows x (cols + outcome), outcome last
    w: np.ndarray
    rows: np.ndarray  # position in the caller's data of each row of ``values``
    notes: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)

    def keep_drivers(self, keep: Sequence[int]) -> None:
        """Keep the drivers at positions ``keep`` (the outcome column always stays)."""
        idx = [*keep, len(self.cols)]
        self.values = self.values[:, idx]
        self.cols = [self.cols[i] for i in keep]

    def result(self, corr: np.ndarray | None, n: int, reason: str | None) -> _Prepared:
        return _Prepared(
            self.cols,
            self.values,
            self.w,
            corr,
            n,
            _kish(self.w),
            self.dropped,
            self.notes,
            reason,
            rows=self.rows,
        )


def _prepare(
    data: pd.DataFrame,
    outcome: str,
    drivers: Sequence[str],
    weights: Weights,
    *,
    missing: Missing,
    min_n: int | None,
    regression: bool,
    spearman: bool = False,
    rows_per_driver: int = ROWS_PER_DRIVER,
    where: str,
) -> _Prepared:
    """Validate the inputs and narrow them to the analysis sample every method shares.

    In order: rows with an outcome and a positive weight; drivers someone rated; missing data
    (listwise or pairwise); the ``min_n`` floor; constant drivers; the correlation matrix;
    for the regression-based methods, collinear drivers and the rows-per-driver rule. Each
    step that ends the analysis returns a suppressed sample with the reason.
    """
    drivers = _check_drivers(data, outcome, drivers, where)
    if missing not in ("listwise", "pairwise"):
        raise DataError(f"{where}: missing must be 'listwise' or 'pairwise', found {missing!r}")
    floor = _min_rows(min_n, where)
    w_all = _resolve_weights(data, weights, where)
    unit = w_all is None
    sample = _analysis_rows(data, outcome, drivers, w_all)
    _drop_empty_drivers(sample)
    if not sample.cols:
        return sample.result(None, 0, "no usable driver left")
    n = _apply_missing(sample, missing)
    if n < floor:
        return sample.result(None, n, f"{n} usable rows, fewer than the minimum of {floor} (min_n)")
    constant_outcome = _drop_constant_columns(sample, outcome, missing)
    if constant_outcome is not None:
        return sample.result(None, n, constant_outcome)
    if not sample.cols:
        return sample.result(None, n, "no usable driver left")
    corr, n, reason = _correlation(
        sample, missing=missing, unit=unit, spearman=spearman, regression=regression, n=n
    )
    if corr is None:
        return sample.result(None, n, reason)
    if regression:
        corr = _drop_collinear_drivers(sample, corr)
        need = max(floor, rows_per_driver * len(sample.cols))
        if n < need:
            return sample.result(
                corr,
                n,
                f"{n} usable rows, fewer than max(min_n={floor}, {rows_per_driver} x "
                f"{len(sample.cols)} drivers) = {need}",
            )
    if not unit:
        sample.notes.append(
            f"weighted: Kish effective sample size {_kish(sample.w):.0f} of {len(sample.w)} rows"
        )
    return sample.result(corr, n, None)


def _analysis_rows(
    data: pd.DataFrame, outcome: str, drivers: list[str], w_all: np.ndarray | None
) -> _Sample:
    """Drivers and outcome as floats, without the rows that lack an outcome or a weight."""
    values = _as_matrix(data, [*drivers, outcome])
    if np.isinf(values).any():
        r, c = np.argwhere(np.isinf(values))[0]
        col = [*drivers, outcome][c]
        raise DataError(f"column {col!r} holds an infinite value at row {data.index[r]!r}")
    if w_all is None:
        w_all = np.ones(len(data))
    # Rows without a usable weight or outcome never enter any method.
    keep = ~np.isnan(values[:, -1]) & ~np.isnan(w_all) & (w_all > 0)
    lost = int(len(data) - keep.sum())
    sample = _Sample(list(drivers), values, w_all, np.arange(len(data)))
    if lost:
        sample.notes.append(f"{lost} row(s) without an outcome value or a positive weight left out")
        # copies only when rows are actually lost
        sample.values, sample.w, sample.rows = values[keep], w_all[keep], sample.rows[keep]
    return sample


def _drop_empty_drivers(sample: _Sample) -> None:
    """A driver nobody rated would empty the listwise sample: drop it, say so."""
    all_nan = np.isnan(sample.values).all(axis=0)
    empty = [d for i, d in enumerate(sample.cols) if all_nan[i]]
    for d in empty:
        sample.dropped[d] = "no non-missing values in the analysis sample"
    if empty:
        sample.keep_drivers([i for i, d in enumerate(sample.cols) if d not in empty])


def _apply_missing(sample: _Sample, missing: Missing) -> int:
    """Listwise: keep complete rows. Returns n (pairwise: the smallest pair count)."""
    nan = np.isnan(sample.values)
    if missing == "pairwise":
        counts = (~nan).astype(float)
        return int((counts.T @ counts).min()) if len(sample.values) else 0
    complete = ~nan.any(axis=1)
    if not complete.all():
        sample.notes.append(
            f"listwise deletion: {int((~complete).sum())} of {len(sample.values)} rows with an "
            "outcome miss at least one driver"
        )
        sample.values, sample.w = sample.values[complete], sample.w[complete]
        sample.rows = sample.rows[complete]
    return len(sample.values)


def _drop_constant_columns(sample: _Sample, outcome: str, missing: Missing) -> str | None:
    """Drop constant drivers (no information, and they break the correlation matrix).

    Returns the reason to suppress when the outcome itself is constant, else None.
    """
    values, cols = sample.values, sample.cols
    if missing == "listwise":
        span = values.max(axis=0) - values.min(axis=0)
    else:
        span = np.nanmax(values, axis=0) - np.nanmin(values, axis=0)
    if span[-1] == 0:
        return f"the outcome {outcome!r} is constant ({values[0, -1]:g})"
    const = [d for i, d in enumerate(cols) if span[i] == 0]
    for d in const:
        value = values[~np.isnan(values[:, cols.index(d)]), cols.index(d)][0]
        sample.dropped[d] = f"constant in the analysis sample (every value is {value:g})"
    if const:
        sample.keep_drivers([i for i, d in enumerate(cols) if d not in const])
    return None


def _correlation(
    sample: _Sample, *, missing: Missing, unit: bool, spearman: bool, regression: bool, n: int
) -> tuple[np.ndarray | None, int, str | None]:
    """The (weighted) correlation matrix, the n behind it, and why it is unusable (or None)."""
    values, w = sample.values, sample.w
    x = values
    if spearman:
        x = np.column_stack([_weighted_midranks(values[:, i], w) for i in range(values.shape[1])])
        if missing == "pairwise":
            sample.notes.append(
                "pairwise Spearman: each column ranked over all its observed values"
            )
    if missing == "listwise":
        return _weighted_corr(x, w, unit), n, None
    corr, counts = _pairwise_corr(x, w)
    n = int(counts.min())
    sample.notes.append(
        f"pairwise deletion: each correlation uses its own rows ({int(counts.min())} to "
        f"{int(counts.max())}); n is the smallest pair count"
    )
    if not np.isfinite(corr).all():
        return None, n, "a pair of columns has no overlapping variation"
    if regression:
        smallest = float(np.linalg.eigvalsh(corr).min())
        if smallest <= 1e-10:
            return (
                None,
                n,
                "the pairwise correlation matrix is not positive definite (smallest "
                f"eigenvalue {smallest:.3g}); use missing='listwise'",
            )
    return corr, n, None


def _drop_collinear_drivers(sample: _Sample, corr: np.ndarray) -> np.ndarray:
    """Drop perfectly collinear drivers; note strong multicollinearity. Returns the new corr."""
    keep_idx = _independent_columns(corr[:-1, :-1], sample.cols, sample.dropped)
    if len(keep_idx) < len(sample.cols):
        idx = [*keep_idx, len(sample.cols)]
        corr = corr[np.ix_(idx, idx)]
        sample.keep_drivers(keep_idx)
    vif = np.diag(np.linalg.inv(corr[:-1, :-1]))
    high = [f"{d} ({v:.1f})" for d, v in zip(sample.cols, vif, strict=True) if v > _VIF_NOTE]
    if high:
        sample.notes.append(
            "strong multicollinearity, variance inflation above "
            f"{_VIF_NOTE:g}: {', '.join(high)}; betas and Pratt weights are unstable, "
            "Shapley and relative weights less so"
        )
    return corr


def _independent_columns(rxx: np.ndarray, cols: list[str], dropped: dict[str, str]) -> list[int]:
    """Keep drivers in order unless one is (numerically) a linear combination of those kept."""
    kept: list[int] = []
    for j in range(len(cols)):
        if kept:
            r_kk = rxx[np.ix_(kept, kept)]
            r_kj = rxx[kept, j]
            coef = np.linalg.solve(r_kk, r_kj)
            resid = 1.0 - float(r_kj @ coef)
        else:
            coef, resid = np.zeros(0), 1.0
        if resid < _COLLINEAR_TOL:
            partners = [cols[kept[i]] for i in np.flatnonzero(np.abs(coef) > 1e-6)]
            dropped[cols[j]] = (
                f"perfectly collinear with {', '.join(partners)} (R^2 on them "
                f"{1 - resid:.10f}); a linear combination has no importance of its own"
            )
        else:
            kept.append(j)
    return kept


# --------------------------------------------------------------------------------------------
# Importance from a correlation matrix (batched over leading axes)
# --------------------------------------------------------------------------------------------


def subset_r2(corr: np.ndarray) -> np.ndarray:
    """R^2 of the regression of the outcome on every subset of drivers, from the correlation matrix.

    Parameters
    ----------
    corr : ndarray, shape (..., p + 1, p + 1)
        Correlation (or covariance) matrices with the drivers first and the outcome LAST;
        leading axes are batches (e.g. bootstrap replicates).

    Returns
    -------
    ndarray, shape (..., 2**p)
        ``r2[..., mask]`` is the R^2 of the subset whose drivers are the set bits of ``mask``
        (bit j = driver j); ``r2[..., 0] == 0``.

    Notes
    -----
    Sweep operator (Goodnight 1979) over the subset lattice, one driver at a time and every
    subset at once: after processing drivers 0..j-1 the array holds, for each of the 2^j
    subsets S of them, the partial covariance matrix of the remaining drivers and the
    outcome given S. Sweeping driver j,

        A' = A[1:, 1:] - A[1:, 0] A[0, 1:] / A[0, 0],

    gives the subsets that include j; dropping its row and column gives those that do not.
    At the end each subset holds the outcome's residual variance, so
    R^2(S) = 1 - A_S / var(y). Work and memory are sum_j 2^j (p + 1 - j)^2 = O(2^p), with no
    Python loop over subsets or rows. Drivers must not be perfectly collinear (a zero pivot).

    Checked against statsmodels OLS refits on every subset (tests/stats/test_drivers.py).

    References
    ----------
    Goodnight, J. H. (1979). A tutorial on the SWEEP operator. The American Statistician
    33(3), 149-158.
    """
    corr = np.asarray(corr, dtype=float)
    p = corr.shape[-1] - 1
    a = corr[..., None, :, :]
    for _ in range(p):
        pivot = a[..., 0:1, 0:1]
        rest = a[..., 1:, 1:]
        swept = rest - a[..., 1:, 0:1] * a[..., 0:1, 1:] / pivot
        a = np.concatenate([rest, swept], axis=-3)
    return 1.0 - a[..., 0, 0] / corr[..., -1, -1][..., None]


def _shapley_from_lattice(r2: np.ndarray, p: int) -> np.ndarray:
    """Shapley values phi_j = sum_{S not containing j} |S|! (p-|S|-1)! / p! [R2(S+j) - R2(S)]."""
    batch = r2.shape[:-1]
    cube = r2.reshape(*batch, *([2] * p))
    masks = np.arange(2**p)
    sizes = np.zeros(2**p, dtype=np.int64)
    for bit in range(p):
        sizes += (masks >> bit) & 1
    sizes = sizes.reshape([2] * p)
    weight = np.array([1.0 / (p * math.comb(p - 1, s)) for s in range(p)])
    out = np.empty((*batch, p))
    for j in range(p):
        axis = p - 1 - j  # C-order reshape: bit 0 is the last axis
        gain = np.take(cube, 1, axis=len(batch) + axis) - np.take(cube, 0, axis=len(batch) + axis)
        wts = weight[np.take(sizes, 0, axis=axis)]
        out[..., j] = (gain * wts).reshape(*batch, -1).sum(axis=-1)
    return out


def _importance_from_corr(corr: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Importance (..., p) and full-model R^2 (...) from correlation matrices, outcome last."""
    rxx = corr[..., :-1, :-1]
    rxy = corr[..., :-1, -1]
    p = rxx.shape[-1]
    if method in _CORRELATION_ONLY:
        beta = np.einsum("...ij,...j->...i", np.linalg.pinv(rxx), rxy)
        r2 = np.einsum("...i,...i->...", beta, rxy)
        return (rxy**2 if method == "first" else rxy.copy()), r2
    beta = np.linalg.solve(rxx, rxy[..., None])[..., 0]
    r2 = np.einsum("...i,...i->...", beta, rxy)
    if method in ("shapley", "lmg"):
        if p > MAX_SHAPLEY_DRIVERS:
            raise DataError(
                f"exact Shapley/LMG enumerates 2^p subsets; {p} drivers is more than the "
                f"{MAX_SHAPLEY_DRIVERS} supported. Use method='relative_weights' (close to "
                "Shapley, Johnson 2000) or group drivers."
            )
        lattice = subset_r2(corr)
        return _shapley_from_lattice(lattice, p), r2
    if method == "relative_weights":
        evals, evecs = np.linalg.eigh(rxx)
        root = np.einsum("...ik,...k,...jk->...ij", evecs, np.sqrt(np.clip(evals, 0, None)), evecs)
        b = np.linalg.solve(root, rxy[..., None])[..., 0]
        return np.einsum("...jk,...k->...j", root**2, b**2), r2
    if method == "pratt":
        return beta * rxy, r2
    if method == "last":
        inv_diag = np.diagonal(np.linalg.inv(rxx), axis1=-2, axis2=-1)
        return beta**2 / inv_diag, r2
    if method == "beta":
        return beta, r2
    raise DataError(
        f"unknown method {method!r}; expected one of {list(_METHODS)}"
    )  # pragma: no cover


def _check_method(method: str, where: str) -> str:
    if method not in _METHODS:
        raise DataError(f"{where}: method must be one of {list(_METHODS)}, found {method!r}")
    return method


def _rank_desc(values: pd.Series) -> pd.Series:
    return values.rank(ascending=False, method="min").astype("Int64")


def _importance_frame(
    prep: _Prepared, method: str, importance: np.ndarray | None, r2: float
) -> pd.DataFrame:
    index = pd.Index(prep.drivers, name="driver")
    if importance is None:
        frame = pd.DataFrame(
            {
                "importance": np.nan,
                "share": np.nan,
                "rank": pd.array([pd.NA] * len(index), "Int64"),
            },
            index=index,
        )
    else:
        imp = pd.Series(importance, index=index, dtype=float)
        total = imp.sum()
        share = imp / total if total != 0 else imp * np.nan
        frame = pd.DataFrame({"importance": imp, "share": share, "rank": _rank_desc(imp)})
    notes = list(prep.notes)
    if importance is not None and method in _SIGNED and (frame["importance"] < 0).any():
        negative = ", ".join(frame.index[frame["importance"] < 0])
        notes.append(f"negative {method} value(s) for {negative}: share is not a proportion there")
    frame.attrs.update(
        {
            "method": method,
            "r2": float(r2),
            "n": int(prep.n),
            "n_effective": float(prep.n_effective),
            "dropped": dict(prep.dropped),
            "notes": notes,
            "suppressed": prep.suppressed,
            "reason": prep.reason,
        }
    )
    return frame


def relative_importance(
    data: pd.DataFrame,
    outcome: str,
    drivers: Sequence[str],
    method: Method = "shapley",
    weights: Weights = None,
    *,
    missing: Missing = "listwise",
    min_n: int | None = None,
    rows_per_driver: int = ROWS_PER_DRIVER,
) -> pd.DataFrame:
    """Derived importance of each driver for the outcome.

    Parameters
    ----------
    data : DataFrame
        One row per respondent; numeric outcome and driver columns (nullable Int64 is fine).
    outcome : str
        Column explained, e.g. ``"likelihood_to_recommend"``.
    drivers : sequence of str
        Attribute columns, e.g. ``["product_quality", "delivery", ...]``.
    method : {"shapley", "lmg", "relative_weights", "pratt", "first", "last", "pearson", \
"spearman", "beta"}
        ``shapley`` and ``lmg`` are the same number (exact, all 2^p subsets);
        ``relative_weights`` is Johnson (2000); ``pratt`` is beta_j * r_j; ``first`` is r_j^2;
        ``last`` is the drop in R^2 when the driver is removed last (usefulness); ``pearson``
        and ``spearman`` are the (signed) correlations with the outcome; ``beta`` is the
        (signed) standardized regression coefficient (its square is relaimpo's ``betasq``).
    weights : str or array-like, optional
        Column name or one non-negative weight per row. All methods use the weighted
        correlation matrix (Spearman: weighted mid-ranks, then weighted Pearson). Rows with
        a missing or zero weight are left out.
    missing : {"listwise", "pairwise"}
        ``listwise`` (default) keeps rows with the outcome and every driver. ``pairwise``
        keeps rows with the outcome and computes each correlation from the rows where both
        columns are observed. A pairwise matrix need not be positive definite; when the
        regression-based methods meet one that is not, the result is suppressed with the
        reason (never a silent negative R^2).
    min_n : int, optional
        Smallest analysis sample, an int >= 1 (default ``csatlib.config.DEFAULT_MIN_N``). The
        regression-based methods need ``max(min_n, 10 * number of drivers)`` rows (Harrell
        2015: about 10 observations per predictor); ``pearson``, ``spearman`` and ``first``
        need ``min_n``. Below it the result keeps its rows with NaN importance and
        ``attrs["suppressed"] = True``, ``attrs["reason"]`` says why.
    rows_per_driver : int
        The 10 of that rule; lower it only knowingly (e.g. for a textbook data set).

    Returns
    -------
    DataFrame
        Indexed by ``driver`` (kept drivers, in input order), columns

        - ``importance``: the metric; for shapley/lmg, relative_weights and pratt the values
          sum to the model R^2;
        - ``share``: importance / sum(importance);
        - ``rank``: 1 = most important (largest importance; ties share the smaller rank).

        ``attrs``: ``method``, ``r2`` (full model R^2), ``n`` (rows used; under pairwise the
        smallest pair count), ``n_effective`` (Kish), ``dropped`` (driver -> reason: no values,
        constant, perfectly collinear), ``notes`` (list of str), ``suppressed``, ``reason``.

    Notes
    -----
    Everything is computed from the (weighted) correlation matrix R of drivers and outcome;
    with r = R_xy and beta = R_xx^{-1} r, the model R^2 = beta' r.

    - Shapley / LMG (Lindeman, Merenda & Gold 1980; Lipovetsky & Conklin 2001): the R^2 of
      each of the 2^p subsets S comes from :func:`subset_r2` (a vectorized sweep over the
      subset lattice), then
      phi_j = sum_{S not containing j} |S|! (p - |S| - 1)! / p! [R^2(S + j) - R^2(S)],
      the average gain of adding j over all p! orderings; sum_j phi_j = R^2.
    - Relative weights (Johnson 2000): R_xx = V diag(lambda) V', Lambda = V diag(sqrt lambda) V'
      (the loadings of the drivers on their closest orthonormal counterparts Z),
      b = Lambda^{-1} r, eps_j = sum_k Lambda_jk^2 b_k^2; sum_j eps_j = R^2.
    - Pratt (1987): beta_j r_j, sums to R^2, may be negative under suppression.
    - First: r_j^2. Last (Darlington 1968): R^2 - R^2(without j) = beta_j^2 / (R_xx^{-1})_jj.

    Tested: shapley against relaimpo ``calc.relimp(type = "lmg")`` published output
    (mtcars) and against brute-force statsmodels refits over all orderings (swiss, to
    1e-10); relative weights against Johnson's construction on the raw data (SVD).

    References
    ----------
    Lindeman, R. H., Merenda, P. F. & Gold, R. Z. (1980). Introduction to Bivariate and
    Multivariate Analysis. Scott, Foresman, p. 119ff.
    Lipovetsky, S. & Conklin, M. (2001). Analysis of regression in game theory approach.
    Applied Stochastic Models in Business and Industry 17, 319-330.
    Groemping, U. (2006). Relative importance for linear regression in R: the package
    relaimpo. Journal of Statistical Software 17(1).
    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
    variables in multiple regression. Multivariate Behavioral Research 35(1), 1-19.
    Pratt, J. W. (1987). Dividing the indivisible. In Foundations of Statistical Inference.
    Darlington, R. B. (1968). Multiple regression in psychological research and practice.
    Psychological Bulletin 69(3), 161-182.
    Harrell, F. E. (2015). Regression Modeling Strategies, 2nd ed. Springer.
    """
    method = _check_method(method, "relative_importance")
    prep = _prepare(
        data,
        outcome,
        drivers,
        weights,
        missing=missing,
        min_n=min_n,
        regression=method not in _CORRELATION_ONLY,
        spearman=method == "spearman",
        rows_per_driver=_check_rows_per_driver(rows_per_driver),
        where="relative_importance",
    )
    if prep.suppressed or prep.corr is None:
        return _importance_frame(prep, method, None, float("nan"))
    importance, r2 = _importance_from_corr(prep.corr, method)
    return _importance_frame(prep, method, importance, float(r2))


# --------------------------------------------------------------------------------------------
# Regressions: OLS with HC3, logistic
# --------------------------------------------------------------------------------------------


def _suppressed_model_frame(prep: _Prepared, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(np.nan, index=pd.Index(prep.drivers, name="driver"), columns=columns)
    frame.attrs.update(
        {
            "n": int(prep.n),
            "dropped": dict(prep.dropped),
            "notes": list(prep.notes),
            "suppressed": True,
            "reason": prep.reason,
        }
    )
    return frame


def _weighted_sd(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    mu = (w @ x) / w.sum()
    return np.sqrt((w @ (x - mu) ** 2) / w.sum())


@dataclass(frozen=True)
class _Coefficients:
    """The drivers' rows of a fitted regression (the intercept apart)."""

    coef: np.ndarray
    se: np.ndarray
    stat: np.ndarray  # t (OLS) or z (logit)
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    intercept: float


def _fit_drivers(make_model: Callable[[np.ndarray], Any], x: np.ndarray, **options: Any) -> Any:
    """Fit the statsmodels model ``make_model(design)`` on the design ``[1, x]``."""
    design = np.column_stack([np.ones(len(x)), x])
    return make_model(design).fit(**options)


def _coefficients(fit: Any, conf: float) -> _Coefficients:
    params = np.asarray(fit.params)
    ci = np.asarray(fit.conf_int(alpha=1 - conf))[1:]
    return _Coefficients(
        coef=params[1:],
        se=np.asarray(fit.bse)[1:],
        stat=np.asarray(fit.tvalues)[1:],
        p_value=np.asarray(fit.pvalues)[1:],
        ci_low=ci[:, 0],
        ci_high=ci[:, 1],
        intercept=float(params[0]),
    )


_OLS_COLUMNS = [
    "beta",
    "se_hc3",
    "t",
    "p_value",
    "ci_low",
    "ci_high",
    "std_beta",
    "std_ci_low",
    "std_ci_high",
]


def ols_drivers(
    data: pd.DataFrame,
    outcome: str,
    drivers: Sequence[str],
    weights: Weights = None,
    *,
    conf: float = DEFAULT_CONF,
    min_n: int | None = None,
    rows_per_driver: int = ROWS_PER_DRIVER,
    cluster: str | None = None,
) -> pd.DataFrame:
    """Linear regression of the outcome on the drivers with HC3 robust standard errors, or
    errors clustered by account.

    Parameters
    ----------
    data, outcome, drivers, weights, min_n, rows_per_driver
        As in :func:`relative_importance` (listwise deletion; weights -> WLS).
    conf : float
        Confidence level of the intervals.
    cluster : str, optional
        Column of the primary sampling unit (the customer account): cluster-robust standard
        errors instead of HC3 (Notes). A respondent without one is a cluster of its own.

    Returns
    -------
    DataFrame
        Indexed by ``driver``: ``beta`` (raw coefficient), ``se_hc3`` (``se_cluster`` with
        ``cluster``), ``t``, ``p_value``, ``ci_low``, ``ci_high`` (t intervals with the
        residual degrees of freedom; with ``cluster``, the clusters minus one),
        ``std_beta`` (beta * sd_x / sd_y, weighted sds under weights) and its interval
        ``std_ci_low``, ``std_ci_high``. ``attrs``: ``r2``, ``adj_r2``, ``n``, ``intercept``,
        ``dropped``, ``notes``, ``suppressed``, ``reason``, ``conf``.

    Notes
    -----
    beta = (X'WX)^{-1} X'Wy; HC3 covariance (MacKinnon & White 1985)
    (X'WX)^{-1} X'W diag(e_i^2 / (1 - h_ii)^2) WX (X'WX)^{-1}, with leverages h_ii, computed by
    statsmodels (``cov_type="HC3"``, ``use_t=True``, as R's
    ``lmtest::coeftest(fit, vcov = sandwich::vcovHC(fit, type = "HC3"))``). Long & Ervin (2000)
    recommend HC3 for n < 250 and find it harmless for large n.

    With ``cluster`` (G clusters), the cluster-robust sandwich with the usual small-sample
    factor (CR1; Cameron & Miller 2015): :math:`\\frac{G}{G-1}\\frac{N-1}{N-K} (X'WX)^{-1}
    \\sum_g X_g' W_g e_g e_g' W_g X_g (X'WX)^{-1}` and t with G - 1 degrees of freedom, as
    statsmodels' ``cov_type="cluster"`` and R's ``sandwich::vcovCL(fit, cluster = ~account,
    type = "HC1")`` with ``coeftest(df = G - 1)``. Respondents of one account answer alike;
    HC3 would take them as independent.

    Tested against a direct numpy evaluation of the HC3 and CR1 sandwich formulas.

    References
    ----------
    MacKinnon, J. G. & White, H. (1985). Some heteroskedasticity-consistent covariance matrix
    estimators with improved finite sample properties. Journal of Econometrics 29, 305-325.
    Long, J. S. & Ervin, L. H. (2000). Using heteroscedasticity consistent standard errors in
    the linear regression model. The American Statistician 54(3), 217-224.
    Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
    Journal of Human Resources 50(2), 317-372.
    """
    conf = check_conf(conf, func="ols_drivers")
    _check_cluster(data, cluster, "ols_drivers")
    prep = _prepare(
        data,
        outcome,
        drivers,
        weights,
        missing="listwise",
        min_n=min_n,
        regression=True,
        rows_per_driver=_check_rows_per_driver(rows_per_driver),
        where="ols_drivers",
    )
    if prep.suppressed:
        frame = _suppressed_model_frame(prep, _OLS_COLUMNS)
        frame.attrs.update({"r2": float("nan"), "adj_r2": float("nan"), "conf": conf})
        return frame
    x, y, w = prep.values[:, :-1], prep.values[:, -1], prep.weights

    def model(design: np.ndarray) -> Any:
        return sm.WLS(y, design, weights=w) if weights is not None else sm.OLS(y, design)

    codes = _cluster_codes(data, cluster, prep.rows)
    if codes is not None and codes.max() >= 1:  # two clusters or more
        fit = _fit_drivers(model, x, cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
        se_name = "se_cluster"
    else:
        fit = _fit_drivers(model, x, cov_type="HC3", use_t=True)
        se_name = "se_hc3"
    c = _coefficients(fit, conf)
    scale = _weighted_sd(x, w) / _weighted_sd(y[:, None], w)[0]
    frame = pd.DataFrame(
        {
            "beta": c.coef,
            se_name: c.se,
            "t": c.stat,
            "p_value": c.p_value,
            "ci_low": c.ci_low,
            "ci_high": c.ci_high,
            "std_beta": c.coef * scale,
            "std_ci_low": c.ci_low * scale,
            "std_ci_high": c.ci_high * scale,
        },
        index=pd.Index(prep.drivers, name="driver"),
    )
    frame.attrs.update(
        {
            "r2": float(fit.rsquared),
            "adj_r2": float(fit.rsquared_adj),
            "n": int(prep.n),
            "intercept": c.intercept,
            "dropped": dict(prep.dropped),
            "notes": list(prep.notes),
            "suppressed": False,
            "reason": None,
            "conf": conf,
        }
    )
    return frame


_LOGIT_COLUMNS = [
    "coef",
    "se",
    "z",
    "p_value",
    "odds_ratio",
    "or_ci_low",
    "or_ci_high",
    "std_coef",
    "std_odds_ratio",
]


def logit_drivers(
    data: pd.DataFrame,
    outcome: str,
    drivers: Sequence[str],
    weights: Weights = None,
    *,
    threshold: float | None = None,
    cluster: str | None = None,
    conf: float = DEFAULT_CONF,
    min_n: int | None = None,
    rows_per_driver: int = ROWS_PER_DRIVER,
) -> pd.DataFrame:
    """Logistic regression of a binary outcome (e.g. promoter or not) on the drivers.

    Parameters
    ----------
    data, outcome, drivers, weights, min_n, rows_per_driver
        As in :func:`relative_importance` (listwise deletion); ``rows_per_driver`` also
        sets the events needed per driver.
    threshold : float, optional
        The event is ``outcome >= threshold`` (e.g. 9 on likelihood_to_recommend for
        promoters). Without it the outcome must hold only 0/1 (or True/False).
    cluster : str, optional
        Column of the primary sampling unit (the customer account). With it, or with
        ``weights``, standard errors are design-based (see Notes); a respondent whose
        cluster is missing is a cluster of its own.
    conf : float
        Confidence level of the odds-ratio intervals.

    Returns
    -------
    DataFrame
        Indexed by ``driver``: ``coef`` (log-odds per scale point), ``se``, ``z`` (the Wald
        statistic coef / se), ``p_value``, ``odds_ratio`` = exp(coef), ``or_ci_low``,
        ``or_ci_high`` (Wald), ``std_coef`` = coef * sd_x (change in log-odds per standard
        deviation of the driver) and ``std_odds_ratio`` = exp(std_coef). ``attrs``: ``n``,
        ``n_events``, ``pseudo_r2`` (McFadden), ``intercept``, ``variance`` ("model-based" or
        "design-based"), ``df`` (degrees of freedom of the t reference; inf when normal),
        ``cluster``, ``n_clusters``, ``dropped``, ``notes``, ``suppressed``, ``reason``.

    Raises
    ------
    DataError
        When the drivers separate the outcome completely or quasi-completely: the
        maximum-likelihood estimate does not exist (coefficients grow without bound). The
        message names the separating driver(s).

    Notes
    -----
    Maximum likelihood, log L = sum_i w_i [y_i eta_i - log(1 + exp(eta_i))], eta = X b.

    - Unweighted, without ``cluster``: ``statsmodels.Logit``; model-based standard errors
      from the information matrix (X' V X)^{-1}, V = diag(p_i (1 - p_i)); z against the
      normal distribution.
    - With ``weights`` or ``cluster``: design-based standard errors by linearization
      (Binder 1983; Lumley 2010), as R's ``svyglm(..., family =
      quasibinomial())``. With A = X' diag(w_i p_i (1 - p_i)) X and the influence values
      u_i = A^{-1} x_i w_i (y_i - p_i), summed per cluster to U_c (each respondent its own
      cluster without ``cluster``), Var(b) = C / (C - 1) sum_c (U_c - mean U)(U_c - mean
      U)'. As in :mod:`csatlib.stats.design` and R's survey, C counts every cluster of the
      data passed, also those whose rows the model leaves out (their U_c is 0). p-values
      and intervals use the t distribution with C' - k degrees of freedom, C' the clusters
      with a row in the model and k the coefficients with the intercept, as svyglm.
      Scaling the weights changes nothing.

    Needs at least max(min_n, 10 x drivers) rows and 10 events per driver in the smaller
    outcome class (Peduzzi et al. 1996); otherwise the result is suppressed.

    Separation is checked once per call, after the fit. The estimate does not exist when
    some b != 0 has s_i x_i' b >= 0 for every row, s_i = +1 for an event and -1 otherwise
    (Albert & Anderson 1984). A driver whose events' values all lie at or above (or at or
    below) the others' separates on its own; otherwise, when the fit did not converge or
    left some fitted |log-odds| above 10, a linear programme (as Konis 2007) decides and
    names the drivers of the sparsest separating b. statsmodels warns once per iteration;
    each warning becomes one note.

    Tested: unweighted against a direct maximisation of the log-likelihood with scipy;
    design-based coefficients and standard errors against R 4.2.2, survey 4.1.1
    ``svyglm`` (tests/stats/test_drivers.py, to 1e-6).

    References
    ----------
    Hosmer, D. W., Lemeshow, S. & Sturdivant, R. X. (2013). Applied Logistic Regression, 3rd ed.
    Peduzzi, P. et al. (1996). A simulation study of the number of events per variable in
    logistic regression analysis. Journal of Clinical Epidemiology 49(12), 1373-1379.
    Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex
    surveys. International Statistical Review 51(3), 279-292.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley.
    Albert, A. & Anderson, J. A. (1984). On the existence of maximum likelihood estimates in
    logistic regression models. Biometrika 71(1), 1-10.
    Konis, K. (2007). Linear programming algorithms for detecting separated data in binary
    logistic regression models. DPhil thesis, University of Oxford.
    """
    conf = check_conf(conf, func="logit_drivers")
    drivers = _check_drivers(data, outcome, drivers, "logit_drivers")
    _check_cluster(data, cluster, "logit_drivers")
    event = "__event__"
    frame_in = data[drivers].copy()
    frame_in[event] = _binary_outcome(data, outcome, threshold)
    if weights is not None:
        weights = _resolve_weights(data, weights, "logit_drivers")
    prep = _prepare(
        frame_in,
        event,
        drivers,
        weights,
        missing="listwise",
        min_n=min_n,
        regression=True,
        rows_per_driver=_check_rows_per_driver(rows_per_driver),
        where="logit_drivers",
    )
    design_based = weights is not None or cluster is not None
    extra = {
        "n_events": float("nan"),
        "pseudo_r2": float("nan"),
        "variance": "design-based" if design_based else "model-based",
        "df": float("nan"),
        "cluster": cluster,
        "n_clusters": 0,
        "conf": conf,
    }
    if prep.suppressed:
        frame = _suppressed_model_frame(prep, _LOGIT_COLUMNS)
        frame.attrs.update(extra)
        return frame
    x, y, w = prep.values[:, :-1], prep.values[:, -1], prep.weights
    n_events = int(y.sum())
    minority = min(n_events, len(y) - n_events)
    need = rows_per_driver * len(prep.drivers)
    if minority < need:
        reason = (
            f"{minority} rows in the smaller outcome class, fewer than {rows_per_driver} events "
            f"per driver ({need})"
        )
        frame = _suppressed_model_frame(replace(prep, corr=None, reason=reason), _LOGIT_COLUMNS)
        frame.attrs.update(extra | {"n_events": n_events})
        return frame
    label = f"{outcome!r} >= {threshold:g}" if threshold is not None else repr(outcome)
    fit, pseudo, notes = _fit_logit(prep, design_based=design_based, label=label)
    if design_based:
        codes = _cluster_codes(data, cluster, np.arange(len(data)))
        codes = np.arange(len(data)) if codes is None else codes
        c, df = _linearized_coefficients(np.asarray(fit.params), prep, codes, conf)
        n_clusters = int(codes.max()) + 1
    else:
        c, df, n_clusters = _coefficients(fit, conf), float("inf"), len(y)
    frame = _logit_frame(c, _weighted_sd(x, w), prep.drivers)
    frame.attrs.update(
        extra
        | {
            "n": int(prep.n),
            "n_events": n_events,
            "pseudo_r2": pseudo,
            "intercept": c.intercept,
            "df": df,
            "n_clusters": n_clusters,
            "dropped": dict(prep.dropped),
            "notes": notes,
            "suppressed": False,
            "reason": None,
        }
    )
    return frame


def _logit_frame(c: _Coefficients, sd: np.ndarray, drivers: list[str]) -> pd.DataFrame:
    with np.errstate(over="ignore"):  # an odds ratio beyond 1e308 is inf, and says so
        return pd.DataFrame(
            {
                "coef": c.coef,
                "se": c.se,
                "z": c.stat,
                "p_value": c.p_value,
                "odds_ratio": np.exp(c.coef),
                "or_ci_low": np.exp(c.ci_low),
                "or_ci_high": np.exp(c.ci_high),
                "std_coef": c.coef * sd,
                "std_odds_ratio": np.exp(c.coef * sd),
            },
            index=pd.Index(drivers, name="driver"),
        )


def _linearized_coefficients(
    params: np.ndarray, prep: _Prepared, codes: np.ndarray, conf: float
) -> tuple[_Coefficients, float]:
    """Design-based coefficient table of a weighted logit (R ``svyglm``), and its t df.

    ``codes`` are the cluster codes of every row of the caller's data; rows outside the
    analysis sample have influence 0. The formula is in :func:`logit_drivers`, Notes; the
    cluster sums are :func:`csatlib.stats.design.linearized_cov`.
    """
    x, y, w = prep.values[:, :-1], prep.values[:, -1], prep.weights
    design = np.column_stack([np.ones(len(x)), x])
    p = special.expit(design @ params)
    info = (design * (w * p * (1 - p))[:, None]).T @ design
    influence = np.zeros((len(codes), design.shape[1]))
    influence[prep.rows] = (design * (w * (y - p))[:, None]) @ np.linalg.inv(info)
    cov = linearized_cov(influence, codes)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    df = float(len(np.unique(codes[prep.rows])) - design.shape[1])
    stat = params / se
    if df > 0:
        p_value = 2 * stats.t.sf(np.abs(stat), df)
        half = stats.t.ppf((1 + conf) / 2, df) * se
    else:  # as svyglm: no degrees of freedom left for a test
        p_value = half = np.full(len(params), np.nan)
    return (
        _Coefficients(
            coef=params[1:],
            se=se[1:],
            stat=stat[1:],
            p_value=p_value[1:],
            ci_low=(params - half)[1:],
            ci_high=(params + half)[1:],
            intercept=float(params[0]),
        ),
        df,
    )


def _binary_outcome(data: pd.DataFrame, outcome: str, threshold: float | None) -> np.ndarray:
    """The event as 0/1 floats (NaN missing): ``outcome >= threshold``, or the 0/1 outcome."""
    y_raw = _as_matrix(data, [outcome])[:, 0]
    if threshold is not None:
        return np.where(np.isnan(y_raw), np.nan, (y_raw >= threshold).astype(float))
    odd = ~np.isnan(y_raw) & ~np.isin(y_raw, (0.0, 1.0))
    if odd.any():
        label = data.index[int(np.argmax(odd))]
        raise DataError(
            f"logit_drivers: outcome {outcome!r} must be 0/1 without a threshold; found "
            f"{y_raw[odd][0]:g} at row {label!r}. Pass threshold= (e.g. 9 for promoters)."
        )
    return y_raw


#: A fitted |log-odds| above this (a probability within 5e-5 of 0 or 1), or a fit that did not
#: converge, sends the data to the linear programme of _sparsest_separating. Under separation
#: the likelihood keeps rising as fitted probabilities go to 0 or 1: on the joint (quasi-)
#: complete separation of tests/stats/test_drivers.py, Logit and GLM stop at |log-odds| of
#: 190 to 600. Below it the programme is skipped.
_SEPARATION_ETA: float = 10.0


def _check_separation(
    x: np.ndarray, y: np.ndarray, drivers: list[str], label: str, fit: Any
) -> None:
    """Raise a DataError naming the drivers when they separate the outcome (checked once)."""
    alone = [d for j, d in enumerate(drivers) if _separates_alone(x[:, j], y)]
    joint = [] if alone or not _fit_is_suspect(fit, x) else _sparsest_separating(x, y, drivers)
    if not alone and not joint:
        return
    event = y > 0.5
    if alone:
        how = "on its own" if len(alone) == 1 else "each on its own"
        detail = "; ".join(
            f"{d}: events {x[event, j].min():g} to {x[event, j].max():g}, others "
            f"{x[~event, j].min():g} to {x[~event, j].max():g}"
            for j, d in enumerate(drivers)
            if d in alone
        )
    else:
        how, detail = "jointly", "a weighted sum of them splits the events from the others"
    raise DataError(
        f"logit_drivers: driver(s) {alone or joint} separate the outcome {label} {how}, "
        f"completely or quasi-completely ({detail}): the maximum-likelihood estimate does not "
        "exist (the coefficients grow without bound) and no odds ratio can be estimated. Leave "
        "the driver(s) out, merge scale points, or model a less extreme outcome."
    )


def _separates_alone(x: np.ndarray, y: np.ndarray) -> bool:
    """The events' values all at or above the others', or all at or below (ties allowed)."""
    event = y > 0.5
    return bool(x[event].min() >= x[~event].max() or x[event].max() <= x[~event].min())


def _fit_is_suspect(fit: Any, x: np.ndarray) -> bool:
    if fit is None:
        return True
    params = np.asarray(fit.params)
    retvals = getattr(fit, "mle_retvals", None) or {}
    converged = bool(retvals.get("converged", getattr(fit, "converged", True)))
    eta = params[0] + x @ params[1:]
    return not converged or not np.isfinite(eta).all() or np.abs(eta).max() > _SEPARATION_ETA


def _sparsest_separating(x: np.ndarray, y: np.ndarray, drivers: list[str]) -> list[str]:
    """Drivers of the sparsest separating direction, [] when the data are not separated.

    Separation: some b != 0 has s_i x_i' b >= 0 for every row, s_i = +1 for an event and -1
    otherwise (Albert & Anderson 1984). One linear programme (after Konis 2007) seeks such a b
    with sum_i s_i x_i' b >= 1 (it exists exactly when the data are separated) and the
    smallest sum_j |b_j| over the standardized drivers, so it names few drivers. Repeated
    rows are removed first; neither changes the verdict.
    """
    distinct = np.unique(np.column_stack([x, y]), axis=0)
    z = (distinct[:, :-1] - x.mean(axis=0)) / x.std(axis=0)
    sign = np.where(distinct[:, -1] > 0.5, 1.0, -1.0)
    signed = np.column_stack([np.ones(len(z)), z]) * sign[:, None]
    k = signed.shape[1]
    # variables: b (intercept, drivers), then t_j >= |b_j| for the drivers
    pick = np.hstack([np.zeros((k - 1, 1)), np.eye(k - 1)])
    a_ub = np.vstack(
        [
            np.hstack([-signed, np.zeros((len(signed), k - 1))]),
            np.hstack([-signed.sum(axis=0), np.zeros(k - 1)]),
            np.hstack([pick, -np.eye(k - 1)]),
            np.hstack([-pick, -np.eye(k - 1)]),
        ]
    )
    b_ub = np.concatenate([np.zeros(len(signed)), [-1.0], np.zeros(2 * (k - 1))])
    res = optimize.linprog(
        np.concatenate([np.zeros(k), np.ones(k - 1)]),
        A_ub=a_ub,
        b_ub=b_ub,
        bounds=[(None, None)] * k + [(0, None)] * (k - 1),
        method="highs",
    )
    if res.status != 0:  # infeasible: no separating direction
        return []
    b = np.abs(res.x[1:k])
    return [d for d, v in zip(drivers, b, strict=True) if v > 1e-6 * b.max()]


def _fit_logit(prep: _Prepared, *, design_based: bool, label: str) -> tuple[Any, float, list[str]]:
    """The logit fit, McFadden's pseudo R^2 and the notes (each warning noted once).

    Raises a DataError (via :func:`_check_separation`) when the drivers separate the outcome.
    """
    x, y, w = prep.values[:, :-1], prep.values[:, -1], prep.weights
    notes = list(prep.notes)
    fit, pseudo = None, float("nan")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if not design_based:
                fit = _fit_drivers(lambda design: sm.Logit(y, design), x, disp=0, maxiter=200)
                pseudo = float(fit.prsquared)
            else:
                # the point estimate only (its errors come from _linearized_coefficients)
                fw = w * len(w) / w.sum()
                binomial = sm.families.Binomial()
                fit = _fit_drivers(
                    lambda design: sm.GLM(y, design, family=binomial, freq_weights=fw),
                    x,
                    maxiter=200,
                    tol=1e-12,
                )
                pseudo = float(fit.pseudo_rsquared(kind="mcf"))
        except PerfectSeparationError:
            fit = None  # the check below names the drivers
    _check_separation(x, y, prep.drivers, label, fit)
    if fit is None:  # pragma: no cover - statsmodels saw separation, the programme did not
        raise DataError(f"logit_drivers: the drivers separate the outcome {label} perfectly")
    for warning in caught:
        if issubclass(warning.category, PerfectSeparationWarning):
            note = "fitted probabilities numerically 0 or 1 for some respondents"
        elif "converge" in str(warning.message).lower():
            note = f"the fit did not converge: {warning.message}"
        else:
            continue
        if note not in notes:  # statsmodels warns once per iteration
            notes.append(note)
    return fit, pseudo, notes


# --------------------------------------------------------------------------------------------
# Bootstrap
# --------------------------------------------------------------------------------------------


def _replicate_corr(x: np.ndarray, counts: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted correlation matrices for every replicate: (B, k, k) from (n, k) and (B, n) counts.

    Replicate weights are counts * w; the moment sums are one matrix product
    (B x n) @ (n x k^2), done in row blocks to bound memory.
    """
    n, k = x.shape
    xc = x - (w @ x) / w.sum()  # centring with the full-sample mean keeps the sums accurate
    b = counts.shape[0]
    s0 = np.zeros(b)
    s1 = np.zeros((b, k))
    s2 = np.zeros((b, k * k))
    for start in range(0, n, _ROW_BLOCK):
        stop = min(start + _ROW_BLOCK, n)
        rw = counts[:, start:stop] * w[start:stop]
        block = xc[start:stop]
        s0 += rw.sum(axis=1)
        s1 += rw @ block
        s2 += rw @ (block[:, :, None] * block[:, None, :]).reshape(stop - start, k * k)
    return _corr_from_sums(s0, s1, s2, k)


def _replicate_corr_clustered(
    x: np.ndarray, drawn: np.ndarray, codes: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """:func:`_replicate_corr` of a cluster bootstrap from the clusters' moment sums.

    A drawn cluster brings all its respondents, so each replicate's moment sums are the
    clusters' sums weighted by how often each was drawn: (B x C) @ (C x k^2) instead of
    (B x n) @ (n x k^2). The cost follows the accounts, not the respondents; the result is
    :func:`_replicate_corr` of the expanded counts ``drawn[:, codes]`` (tested to rounding).
    """
    n, k = x.shape
    n_clusters = drawn.shape[1]
    xc = x - (w @ x) / w.sum()
    wx = w[:, None] * xc
    cluster_w = np.bincount(codes, weights=w, minlength=n_clusters)
    cluster_s1 = np.zeros((n_clusters, k))
    np.add.at(cluster_s1, codes, wx)
    cluster_s2 = np.zeros((n_clusters, k * k))
    np.add.at(cluster_s2, codes, (wx[:, :, None] * xc[:, None, :]).reshape(n, k * k))
    return _corr_from_sums(drawn @ cluster_w, drawn @ cluster_s1, drawn @ cluster_s2, k)


def _corr_from_sums(s0: np.ndarray, s1: np.ndarray, s2: np.ndarray, k: int) -> np.ndarray:
    """Correlation matrices (B, k, k) from each replicate's weighted moment sums: total weight
    ``s0`` (B), sums ``s1`` (B, k) and cross-products ``s2`` (B, k * k) of centred values; NaN
    for a replicate in which a variable is constant."""
    b = len(s0)
    mean = s1 / s0[:, None]
    cov = s2.reshape(b, k, k) / s0[:, None, None] - mean[:, :, None] * mean[:, None, :]
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / (sd[:, :, None] * sd[:, None, :])
    idx = np.arange(k)
    corr[:, idx, idx] = 1.0
    bad = (sd <= 0).any(axis=1)
    corr[bad] = np.nan
    return corr


def _replicate_spearman_corr(x: np.ndarray, counts: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per replicate: weighted mid-ranks under the replicate weights, then weighted Pearson."""
    out = np.empty((counts.shape[0], x.shape[1], x.shape[1]))
    for r, c in enumerate(counts):  # ranks change with every replicate's weights
        rw = c * w
        used = rw > 0
        ranks = np.column_stack(
            [_weighted_midranks(x[used, j], rw[used]) for j in range(x.shape[1])]
        )
        out[r] = _weighted_corr(ranks, rw[used], unit=False)
    return out


def _valid_replicates(corr: np.ndarray, regression: bool) -> np.ndarray:
    ok = np.isfinite(corr).all(axis=(1, 2))
    if regression and ok.any():
        smallest = np.full(len(corr), -np.inf)
        smallest[ok] = np.linalg.eigvalsh(corr[ok, :-1, :-1]).min(axis=1)
        ok &= smallest > _COLLINEAR_TOL
    return ok


def bootstrap_importance(
    data: pd.DataFrame,
    outcome: str,
    drivers: Sequence[str],
    *,
    method: Method = "shapley",
    n_boot: int = 500,
    seed: int = 0,
    conf: float = DEFAULT_CONF,
    weights: Weights = None,
    cluster: str | None = None,
    min_n: int | None = None,
    rows_per_driver: int = ROWS_PER_DRIVER,
) -> pd.DataFrame:
    """Percentile bootstrap intervals for importance and rank, resampling respondents or clusters.

    Parameters
    ----------
    data, outcome, drivers, method, weights, min_n, rows_per_driver
        As in :func:`relative_importance` (listwise deletion).
    n_boot : int
        Number of resamples.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same intervals.
    conf : float
        Confidence level of the intervals.
    cluster : str, optional
        Column holding the primary sampling unit, e.g. the customer account: each resample
        then draws clusters with replacement and takes every respondent of a drawn cluster
        along. A respondent whose cluster is missing is a cluster of its own. None (default)
        resamples respondents.

    Returns
    -------
    DataFrame
        Indexed by ``driver``, sorted by rank: ``importance`` (point estimate on the full
        sample), ``se`` (bootstrap standard deviation), ``ci_low``, ``ci_high``, ``rank``,
        ``rank_ci_low``, ``rank_ci_high`` and ``not_separable_from`` (comma-separated
        drivers whose order relative to this one the paired bootstrap difference does not
        establish, see Notes). ``attrs``: as :func:`relative_importance` plus ``conf``,
        ``n_boot``, ``n_valid`` (replicates with a usable correlation matrix), ``seed``,
        ``cluster``, ``n_clusters`` (resampled units: clusters, or respondents without
        ``cluster``), ``differences`` (one record per pair of drivers: ``driver_a``,
        ``driver_b``, ``diff`` = importance_a - importance_b, ``ci_low``, ``ci_high`` of the
        paired difference, ``share_reversed``, ``separated``) and ``overlap_notes`` (see
        :func:`overlap_notes`).

    Notes
    -----
    Without ``cluster``, case resampling (Efron & Tibshirani 1993): replicate r draws
    counts c_r ~ Multinomial(n, 1/n, ..., 1/n) with ``rng.multinomial`` (rng =
    ``numpy.random.default_rng(seed)``, all replicates in one call), so the replicate is the
    weighted sample with weights c_r * w.

    With ``cluster`` (C clusters in the analysis sample), the cluster bootstrap (Davison &
    Hinkley 1997, section 3.8, resampling the first stage only; Field & Welsh 2007):
    replicate r draws cluster counts d_r ~ Multinomial(C, 1/C, ..., 1/C) and every
    respondent i of cluster c(i) gets the count c_ri = d_r,c(i). Respondents of one account
    answer alike, so resampling them one by one understates the variance; drawing whole
    accounts keeps their correlation in every replicate. When every respondent is a cluster
    of its own the draws, and so the results, equal case resampling with the same seed. With
    fewer than :data:`MIN_BOOTSTRAP_CLUSTERS` clusters there are no intervals (NaN, and no
    pair said separated or not): so few clusters allow only a few distinct replicates, and
    the cluster bootstrap needs many clusters (Cameron, Gelbach & Miller 2008).

    All replicate correlation matrices come from one matrix product of the (n_boot x n)
    count matrix with the n x k^2 cross-products, and the subset-R^2 lattice is swept for
    all replicates at once. Intervals are the percentile intervals (Efron & Tibshirani 1993,
    ch. 13), the (1 - conf)/2 and (1 + conf)/2 quantiles over the valid replicates; rank
    intervals use the lower/higher order statistic so they stay whole numbers.

    Whether two drivers a and b can be separated is decided from the bootstrap
    distribution of their paired difference D_r = I_a,r - I_b,r (the same replicates for
    both, so what moves both importances together cancels): their order is established
    when the percentile interval of D at level ``conf`` excludes 0 on the side of the point
    difference. ``share_reversed`` is the share of valid replicates with D_r of the other
    sign than the point difference (ties count as reversed). Two separate intervals that
    overlap do not imply that (Schenker & Gentleman 2001): the paired difference is the
    test.

    Tested: the vectorized replicates equal a loop of :func:`relative_importance` calls with
    the same counts as weights, with and without clusters.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
    Davison, A. C. & Hinkley, D. V. (1997). Bootstrap Methods and their Application.
    Cambridge University Press, section 3.8 (hierarchical data).
    Field, C. A. & Welsh, A. H. (2007). Bootstrapping clustered data. Journal of the Royal
    Statistical Society B 69(3), 369-390.
    Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements for
    inference with clustered errors. Review of Economics and Statistics 90(3), 414-427.
    Groemping, U. (2006). relaimpo, section 4 (bootstrap intervals for metrics and ranks).
    Schenker, N. & Gentleman, J. F. (2001). On judging the significance of differences by
    examining the overlap between confidence intervals. The American Statistician 55(3).
    """
    method = _check_method(method, "bootstrap_importance")
    conf = check_conf(conf, func="bootstrap_importance")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 2:
        raise DataError(f"bootstrap_importance: n_boot must be an integer >= 2, found {n_boot!r}")
    _check_cluster(data, cluster, "bootstrap_importance")
    regression = method not in _CORRELATION_ONLY
    prep = _prepare(
        data,
        outcome,
        drivers,
        weights,
        missing="listwise",
        min_n=min_n,
        regression=regression,
        spearman=method == "spearman",
        rows_per_driver=_check_rows_per_driver(rows_per_driver),
        where="bootstrap_importance",
    )
    base = {
        "conf": conf,
        "n_boot": int(n_boot),
        "seed": seed,
        "cluster": cluster,
        "n_clusters": 0,
        "overlap_notes": [],
        "differences": [],
    }
    if prep.suppressed or prep.corr is None:
        return _suppressed_bootstrap(prep, method, base)
    codes = _cluster_codes(data, cluster, prep.rows)
    point, r2 = _importance_from_corr(prep.corr, method)
    valid, ok = _bootstrap_replicates(prep, method, int(n_boot), seed, regression, codes)
    notes = list(prep.notes) + _resampling_notes(cluster, codes, ok)
    q = [(1 - conf) / 2, (1 + conf) / 2]
    out = _bootstrap_table(prep.drivers, point, valid, q)
    differences = _paired_differences(out.index, point, valid, q)
    out["not_separable_from"] = _not_separable_from(out.index, differences)
    out = out.sort_values(["rank", "importance"], ascending=[True, False])
    frame_attrs = _importance_frame(prep, method, point, float(r2)).attrs
    out.attrs.update(
        frame_attrs
        | base
        | {
            "notes": notes + frame_attrs["notes"][len(prep.notes) :],
            "n_valid": int(ok.sum()),
            "n_clusters": len(prep.values) if codes is None else int(codes.max()) + 1,
            "differences": differences,
        }
    )
    out.attrs["overlap_notes"] = overlap_notes(out)
    return out


def _check_cluster(data: pd.DataFrame, cluster: object, where: str) -> None:
    """``cluster`` is None or the name of a column of ``data``."""
    if cluster is None:
        return
    if not isinstance(cluster, str):
        raise DataError(
            f"{where}: cluster must be the name of a column (e.g. the account id), found "
            f"{type(cluster).__name__} {cluster!r}"
        )
    require_columns(data, [cluster], where)


def _cluster_codes(data: pd.DataFrame, cluster: str | None, rows: np.ndarray) -> np.ndarray | None:
    """Cluster codes 0..C-1 of the analysis rows (positions ``rows`` of ``data``), or None.

    Only clusters with a row in the analysis sample count; a missing key is its own cluster.
    """
    if cluster is None:
        return None
    return cluster_codes(data[cluster].take(rows), len(rows))


def _resampling_notes(cluster: str | None, codes: np.ndarray | None, ok: np.ndarray) -> list[str]:
    notes = []
    if codes is not None:
        n_clusters = int(codes.max()) + 1
        if n_clusters < 2:
            return [
                f"one cluster in column {cluster!r}: nothing to resample between clusters, so "
                "no intervals"
            ]
        if n_clusters < MIN_BOOTSTRAP_CLUSTERS:
            return [
                f"only {n_clusters} clusters in column {cluster!r}: too few to resample (at "
                f"least {MIN_BOOTSTRAP_CLUSTERS}), so no intervals"
            ]
        notes.append(
            f"cluster bootstrap: the {n_clusters} clusters of column {cluster!r} are "
            f"resampled, not the {len(codes)} respondents"
        )
    if (~ok).sum():
        notes.append(
            f"{int((~ok).sum())} of {len(ok)} replicates had a constant or collinear driver"
        )
    return notes


_BOOTSTRAP_COLUMNS = [
    "importance",
    "se",
    "ci_low",
    "ci_high",
    "rank",
    "rank_ci_low",
    "rank_ci_high",
]


def _suppressed_bootstrap(prep: _Prepared, method: str, base: dict[str, Any]) -> pd.DataFrame:
    """The bootstrap table of a suppressed sample: every driver, NaN and NA estimates."""
    frame = _importance_frame(prep, method, None, float("nan"))
    out = pd.DataFrame(np.nan, index=frame.index, columns=_BOOTSTRAP_COLUMNS)
    for col in ("rank", "rank_ci_low", "rank_ci_high"):
        out[col] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["not_separable_from"] = ""
    out.attrs.update(frame.attrs | base | {"n_valid": 0})
    return out


def _resample_counts(
    rng: np.random.Generator, n: int, n_boot: int, codes: np.ndarray | None
) -> np.ndarray:
    """(n_boot x n) replicate counts: respondents drawn, or whole clusters drawn (codes)."""
    if codes is None:
        return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
    n_clusters = int(codes.max()) + 1
    drawn = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n_boot)
    return drawn.astype(float)[:, codes]  # a drawn cluster brings all its respondents


def _bootstrap_replicates(
    prep: _Prepared,
    method: str,
    n_boot: int,
    seed: int,
    regression: bool,
    codes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Importance of the valid replicates (n_valid x p) and which of the n_boot were valid."""
    if codes is not None and codes.max() + 1 < MIN_BOOTSTRAP_CLUSTERS:
        return np.empty((0, len(prep.drivers))), np.zeros(n_boot, dtype=bool)
    rng = np.random.default_rng(seed)
    if codes is not None and method != "spearman":  # moments per account, then per draw
        n_clusters = int(codes.max()) + 1
        drawn = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n_boot)
        corr = _replicate_corr_clustered(prep.values, drawn.astype(float), codes, prep.weights)
    else:
        counts = _resample_counts(rng, len(prep.values), n_boot, codes)
        if method == "spearman":
            corr = _replicate_spearman_corr(prep.values, counts, prep.weights)
        else:
            corr = _replicate_corr(prep.values, counts, prep.weights)
    ok = _valid_replicates(corr, regression)
    reps = np.full((n_boot, len(prep.drivers)), np.nan)
    if ok.any():
        reps[ok] = _importance_from_corr(corr[ok], method)[0]
    return reps[ok], ok


def _bootstrap_table(
    drivers: list[str], point: np.ndarray, valid: np.ndarray, q: list[float]
) -> pd.DataFrame:
    """Point importance with percentile intervals of importance and rank, in driver order."""
    index = pd.Index(drivers, name="driver")
    imp = pd.Series(point, index=index)
    if len(valid) >= 2:
        lo, hi = np.quantile(valid, q, axis=0)
        ranks = (-valid).argsort(axis=1).argsort(axis=1) + 1
        rank_lo = np.quantile(ranks, q[0], axis=0, method="lower")
        rank_hi = np.quantile(ranks, q[1], axis=0, method="higher")
        se = valid.std(axis=0, ddof=1)
    else:
        lo = hi = se = np.full(len(index), np.nan)
        rank_lo = rank_hi = np.full(len(index), np.nan)
    return pd.DataFrame(
        {
            "importance": imp,
            "se": se,
            "ci_low": lo,
            "ci_high": hi,
            "rank": _rank_desc(imp),
            "rank_ci_low": pd.array(
                [pd.NA if np.isnan(v) else int(v) for v in rank_lo], dtype="Int64"
            ),
            "rank_ci_high": pd.array(
                [pd.NA if np.isnan(v) else int(v) for v in rank_hi], dtype="Int64"
            ),
        },
        index=index,
    )


def _paired_differences(
    index: pd.Index, point: np.ndarray, valid: np.ndarray, q: list[float]
) -> list[dict[str, Any]]:
    """Every pair's paired bootstrap difference, and whether it establishes their order.

    The one place that decides whether two drivers can be separated (see
    :func:`bootstrap_importance`, Notes); ``separated`` is None without intervals.
    """
    first, second = np.triu_indices(len(index), k=1)
    diff = point[first] - point[second]
    replicates = valid[:, first] - valid[:, second]
    if len(valid) >= 2:
        lo, hi = np.quantile(replicates, q, axis=0)
        reversed_share = (replicates * np.sign(diff) <= 0).mean(axis=0)
    else:
        lo = hi = reversed_share = np.full(len(diff), np.nan)
    separated = ((lo > 0) & (diff > 0)) | ((hi < 0) & (diff < 0))
    return [
        {
            "driver_a": index[a],
            "driver_b": index[b],
            "diff": float(diff[k]),
            "ci_low": float(lo[k]),
            "ci_high": float(hi[k]),
            "share_reversed": float(reversed_share[k]),
            "separated": None if np.isnan(lo[k]) else bool(separated[k]),
        }
        for k, (a, b) in enumerate(zip(first, second, strict=True))
    ]


def _not_separable_from(index: pd.Index, differences: list[dict[str, Any]]) -> list[str]:
    """Per driver, the drivers (in index order) its paired difference does not separate."""
    partners: dict[Any, list[str]] = {d: [] for d in index}
    for record in differences:  # row-major pairs, so partners come in index order
        if record["separated"] is False:
            partners[record["driver_a"]].append(str(record["driver_b"]))
            partners[record["driver_b"]].append(str(record["driver_a"]))
    return [", ".join(partners[d]) for d in index]


def overlap_notes(boot_df: pd.DataFrame) -> list[str]:
    """Sentences naming neighbouring drivers (in importance order) whose order is not established.

    Parameters
    ----------
    boot_df : DataFrame
        Output of :func:`bootstrap_importance` or :func:`driver_table` (column
        ``importance``; ``attrs["differences"]`` with the paired bootstrap differences;
        ``attrs["conf"]`` if present).

    Returns
    -------
    list of str
        One sentence per pair of drivers adjacent in the importance order whose paired
        difference does not separate them, e.g. ``"delivery and post_sales_support cannot
        be separated: the 95% bootstrap interval of their difference in importance does not
        confirm their order (reversed in 12% of resamples)"``. Empty when every neighbour is
        separated or there are no intervals.

    Notes
    -----
    The verdict is the ``separated`` of each record in ``attrs["differences"]``, decided
    once in :func:`bootstrap_importance` from the percentile interval of the paired
    difference. (The name is historical: overlapping intervals of the two importances are
    no longer the criterion; overlap is conservative, Schenker & Gentleman 2001.)

    References
    ----------
    Schenker, N. & Gentleman, J. F. (2001). On judging the significance of differences by
    examining the overlap between confidence intervals. The American Statistician 55(3).
    """
    require_columns(boot_df, ["importance"], "overlap_notes")
    if "differences" not in boot_df.attrs:
        raise DataError(
            "overlap_notes: expected the output of bootstrap_importance or driver_table, whose "
            "attrs['differences'] hold the paired bootstrap differences; found a frame without "
            f"them (attrs: {sorted(boot_df.attrs)})"
        )
    conf = float(boot_df.attrs.get("conf", DEFAULT_CONF))
    verdicts = {frozenset((r["driver_a"], r["driver_b"])): r for r in boot_df.attrs["differences"]}
    names = list(boot_df["importance"].dropna().sort_values(ascending=False).index)
    notes = []
    for a, b in zip(names, names[1:], strict=False):
        record = verdicts.get(frozenset((a, b)))
        if record is not None and record["separated"] is False:
            notes.append(
                f"{a} and {b} cannot be separated: the {conf:.0%} bootstrap interval of their "
                "difference in importance does not confirm their order (reversed in "
                f"{record['share_reversed']:.0%} of resamples)"
            )
    return notes


# --------------------------------------------------------------------------------------------
# Stated importance
# --------------------------------------------------------------------------------------------


def stated_importance(
    data: pd.DataFrame,
    attributes: Sequence[str] | Mapping[str, str] | None = None,
    *,
    prefix: str = "importance_",
    weights: Weights = None,
    conf: float = DEFAULT_CONF,
    min_n: int | None = None,
) -> pd.DataFrame:
    """Mean stated importance of each attribute from its ``importance_<attribute>`` column.

    Parameters
    ----------
    data : DataFrame
        Responses with stated-importance columns (1-10).
    attributes : sequence of str, mapping attribute -> column, or None
        Attribute names without the prefix, or a mapping naming each attribute's importance
        column (as the codebook links them, :func:`csatlib.roles.links`); default: every column
        starting with ``prefix``.
    prefix : str
        Column prefix of the stated-importance questions.
    weights : str or array-like, optional
        Column name or one weight per row.
    conf : float
        Confidence level of the interval of the mean.
    min_n : int, optional
        Smallest number of answers for a mean, an int >= 1 (default ``DEFAULT_MIN_N``); a mean
        of one answer has NaN ``se`` and interval.

    Returns
    -------
    DataFrame
        Indexed by ``attribute``: ``n``, ``mean``, ``se``, ``ci_low``, ``ci_high``, ``rank``
        (1 = highest mean), ``suppressed`` (True below ``min_n``: estimates NaN).

    Notes
    -----
    Weighted mean m = sum w x / sum w; se = sqrt(sum w^2 (x - m)^2) / sum w * sqrt(n / (n - 1))
    (linearization, equal to s / sqrt(n) without weights); t interval with n - 1 df.
    Tested against numpy means and scipy.stats.sem.
    """
    require_columns(data, [], "stated_importance")
    conf = check_conf(conf, func="stated_importance")
    floor = _min_rows(min_n, "stated_importance")
    if isinstance(attributes, Mapping):
        columns = [str(c) for c in attributes.values()]
        attributes = [str(a) for a in attributes]
    else:
        if attributes is None:
            attributes = [str(c)[len(prefix) :] for c in data.columns if str(c).startswith(prefix)]
            if not attributes:
                raise DataError(f"stated_importance: no column starts with {prefix!r}")
        columns = [f"{prefix}{a}" for a in attributes]
    require_columns(data, columns, "stated_importance")
    for c in columns:
        _check_numeric(data, c, "stated importance")
    w_all = _resolve_weights(data, weights, "stated_importance")
    x = _as_matrix(data, columns)
    w = np.ones(len(data)) if w_all is None else np.nan_to_num(w_all, nan=0.0)
    m = ~np.isnan(x) & (w[:, None] > 0)
    x0 = np.where(m, x, 0.0)
    wm = m * w[:, None]
    n = m.sum(axis=0)
    sw = wm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (wm * x0).sum(axis=0) / sw
        resid = np.where(m, x0 - mean, 0.0)
        se = np.sqrt((wm**2 * resid**2).sum(axis=0)) / sw * np.sqrt(n / (n - 1))
        tq = stats.t.ppf((1 + conf) / 2, np.maximum(n - 1, 1))
    small = n < floor
    mean[small] = se[small] = np.nan
    out = pd.DataFrame(
        {
            "n": n.astype(int),
            "mean": mean,
            "se": se,
            "ci_low": mean - tq * se,
            "ci_high": mean + tq * se,
        },
        index=pd.Index(list(attributes), name="attribute"),
    )
    out["rank"] = _rank_desc(out["mean"])
    out["suppressed"] = small
    out.attrs.update({"conf": conf, "min_n": floor, "weighted": w_all is not None})
    return out


def _importance_series(obj: object, where: str, prefer: Sequence[str]) -> pd.Series:
    if isinstance(obj, pd.Series):
        return obj.astype(float)
    if isinstance(obj, pd.DataFrame):
        for col in prefer:
            if col in obj.columns:
                return obj[col].astype(float)
        raise DataError(
            f"{where}: expected a column among {list(prefer)}, found {list(obj.columns)}"
        )
    if isinstance(obj, Mapping):
        return pd.Series(dict(obj), dtype=float)
    raise DataError(f"{where}: expected a Series, DataFrame or mapping, found {type(obj).__name__}")


def stated_vs_derived(
    derived: pd.DataFrame | pd.Series,
    stated: Mapping[str, float] | pd.DataFrame | pd.Series,
) -> pd.DataFrame:
    """Compare derived importance with stated importance, driver by driver.

    Parameters
    ----------
    derived : DataFrame or Series
        Output of :func:`relative_importance` / :func:`driver_table` (column ``importance``)
        or a Series of importances indexed by driver.
    stated : mapping, DataFrame or Series
        Stated importance per driver: a mapping driver -> mean, the output of
        :func:`stated_importance` (column ``mean``) or a Series.

    Returns
    -------
    DataFrame
        Indexed by ``driver`` (drivers present in both), sorted by disagreement:
        ``derived_importance``, ``derived_rank``, ``stated_importance``, ``stated_rank``,
        ``rank_difference`` (stated_rank - derived_rank: positive = the driver matters more
        than customers say, a "hidden" driver), ``reading`` ("more important than stated",
        "less important than stated", "agree"). ``attrs``: ``spearman`` (rank correlation of
        the two importances; NaN with fewer than 3 drivers), ``p_value``, ``n_drivers``,
        ``only_derived``, ``only_stated`` (drivers left out).

    Notes
    -----
    Ranks are 1 = most important, ties share the smaller rank. Spearman's rho via
    ``scipy.stats.spearmanr`` (mid-ranks for ties). Stated importance tends to be high and
    flat for everything ("all matters"); derived importance shows what moves the outcome
    (Gustafsson & Johnson 2004).

    References
    ----------
    Gustafsson, A. & Johnson, M. D. (2004). Determining attribute importance in a service
    satisfaction model. Journal of Service Research 7(2), 124-141.
    """
    d = _importance_series(derived, "stated_vs_derived (derived)", ["importance"])
    s = _importance_series(stated, "stated_vs_derived (stated)", ["mean", "importance"])
    common = [k for k in d.index if k in s.index and pd.notna(d[k]) and pd.notna(s[k])]
    d_c, s_c = d.loc[common], s.loc[common]
    out = pd.DataFrame(
        {
            "derived_importance": d_c,
            "derived_rank": _rank_desc(d_c),
            "stated_importance": s_c,
            "stated_rank": _rank_desc(s_c),
        },
        index=pd.Index(common, name="driver"),
    )
    out["rank_difference"] = (out["stated_rank"] - out["derived_rank"]).astype("Int64")
    out["reading"] = np.select(
        [out["rank_difference"] > 0, out["rank_difference"] < 0],
        ["more important than stated", "less important than stated"],
        default="agree",
    )
    out = out.assign(_abs=out["rank_difference"].abs()).sort_values(
        ["_abs", "derived_rank"], ascending=[False, True]
    )
    out = out.drop(columns="_abs")
    if len(common) >= 3:
        res = stats.spearmanr(d_c.to_numpy(), s_c.to_numpy())
        rho, p = float(res.statistic), float(res.pvalue)
    else:
        rho = p = float("nan")
    out.attrs.update(
        {
            "spearman": rho,
            "p_value": p,
            "n_drivers": len(common),
            "only_derived": [k for k in d.index if k not in common],
            "only_stated": [k for k in s.index if k not in common],
        }
    )
    return out


# --------------------------------------------------------------------------------------------
# Importance-performance and Pareto
# --------------------------------------------------------------------------------------------

_QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}


def importance_performance(importance: pd.Series, performance: pd.Series) -> pd.DataFrame:
    """Importance-performance analysis: the four quadrants of Martilla & James (1977).

    Parameters
    ----------
    importance : Series
        Importance per driver (e.g. Shapley importance).
    performance : Series
        Performance per driver (e.g. mean rating).

    Returns
    -------
    DataFrame
        Indexed by ``driver`` (drivers with both values): ``importance``, ``performance``,
        ``high_importance``, ``high_performance`` (bool: at or above the median across
        drivers) and ``quadrant``: high importance & low performance "concentrate here";
        high & high "keep up the good work"; low & low "low priority"; low importance &
        high performance "possible overkill". ``attrs``: ``importance_split``,
        ``performance_split`` (the medians), ``left_out`` (drivers missing a value).

    Notes
    -----
    The cross-hairs are the medians of the drivers shown (a relative reading: half of the
    drivers are "high" by construction); a driver exactly at a median counts as high.

    References
    ----------
    Martilla, J. A. & James, J. C. (1977). Importance-performance analysis. Journal of
    Marketing 41(1), 77-79.
    """
    imp = _importance_series(importance, "importance_performance (importance)", ["importance"])
    perf = _importance_series(
        performance, "importance_performance (performance)", ["performance", "mean"]
    )
    common = [k for k in imp.index if k in perf.index and pd.notna(imp[k]) and pd.notna(perf[k])]
    left_out = sorted(set(imp.index).union(perf.index) - set(common), key=str)
    i_c, p_c = imp.loc[common], perf.loc[common]
    i_split = float(i_c.median()) if common else float("nan")
    p_split = float(p_c.median()) if common else float("nan")
    high_i = i_c >= i_split
    high_p = p_c >= p_split
    out = pd.DataFrame(
        {
            "importance": i_c,
            "performance": p_c,
            "high_importance": high_i,
            "high_performance": high_p,
            "quadrant": [
                _QUADRANTS[(bool(a), bool(b))] for a, b in zip(high_i, high_p, strict=True)
            ],
        },
        index=pd.Index(common, name="driver"),
    )
    out.attrs.update(
        {"importance_split": i_split, "performance_split": p_split, "left_out": left_out}
    )
    return out


def dissatisfaction_pareto(
    df: pd.DataFrame,
    attributes: Sequence[str],
    *,
    scale: tuple[int, int] | Mapping[str, tuple[int, int]] | None = None,
    bottom_boxes: int = 2,
    cutoff: float = 0.8,
    min_n: int | None = None,
) -> pd.DataFrame:
    """Pareto of dissatisfaction: which attributes collect most of the low ratings.

    Parameters
    ----------
    df : DataFrame
        Responses, one column per attribute.
    attributes : sequence of str
        Attribute columns.
    scale : (int, int), mapping attribute -> (int, int), or None
        Lowest and highest scale point of every attribute, or of each one; None reads each
        attribute's scale from ``df.attrs["scales"]`` (the codebook's, as csatlib's processed
        tables carry it). Values outside are an error.
    bottom_boxes : int
        A rating is "low" when it is among the lowest ``bottom_boxes`` points of its scale (1-2
        on a 1-10 or a 1-5 scale, 0-1 on a 0-10 scale).
    cutoff : float
        Cumulative share of all low ratings that defines the "vital few" (Juran's 80%).
    min_n : int, optional
        An int >= 1 (default ``DEFAULT_MIN_N``). Attributes with fewer answers are suppressed,
        and the attributes are ranked (a vital few marked) only when the low ratings of the
        attributes shown add up to at least ``min_n`` (see Notes).

    Returns
    -------
    DataFrame
        Indexed by ``attribute``, sorted by ``n_low`` descending (suppressed rows last):
        ``n`` (respondents who rated the attribute), ``n_low`` (their low ratings of it),
        ``share_low`` (n_low / n), ``share_of_all_low`` (n_low / total low ratings),
        ``cumulative``, ``vital_few`` (see Notes), ``suppressed``.
        ``attrs``: ``low_max`` (highest "low" value; a mapping attribute -> value when the
        scales differ), ``low_range`` (attribute -> (lowest, highest) "low" value),
        ``total_low``, ``cutoff``, ``min_n`` and ``ranked`` (False when ``total_low`` is below
        ``min_n``: no vital few are marked).

    Notes
    -----
    Counts, not weighted shares, as a Pareto chart of complaints. Tested on hand-counted data.

    The vital few are the attributes up to and including the one where ``cumulative`` first
    reaches ``cutoff``, with two exceptions. First, the ranking is only made when the total of
    low ratings reaches ``min_n``, the same small-cell minimum as every other share: with a
    handful of low ratings in all, one answer moves an attribute's share by several points and
    the order says nothing, so below ``min_n`` no attribute is marked and ``ranked`` is False
    (the report says so in one sentence). Second, an attribute without a single low rating is
    never among the vital few.

    References
    ----------
    Juran, J. M. (1951). Quality Control Handbook. McGraw-Hill (the Pareto principle).
    """
    attributes = list(attributes)
    require_columns(df, attributes, "dissatisfaction_pareto")
    floor = _min_rows(min_n, "dissatisfaction_pareto")
    bounds = np.array([_pareto_scale(df, a, scale) for a in attributes], dtype=float)
    lo_scale, hi_scale = bounds[:, 0], bounds[:, 1]
    if not 1 <= bottom_boxes < int((hi_scale - lo_scale).min()) + 1:
        raise DataError(
            "bottom_boxes must be between 1 and the number of scale points - 1, "
            f"found {bottom_boxes}"
        )
    if not 0 < cutoff <= 1:
        raise DataError(f"cutoff must be in (0, 1], found {cutoff!r}")
    for a in attributes:
        _check_numeric(df, a, "attribute")
    x = _as_matrix(df, attributes)
    outside = ~np.isnan(x) & ((x < lo_scale) | (x > hi_scale))
    if outside.any():
        r, c = np.argwhere(outside)[0]
        raise DataError(
            f"attribute {attributes[c]!r}: {x[r, c]:g} at row {df.index[r]!r} is outside the "
            f"scale {lo_scale[c]:g}-{hi_scale[c]:g}; clean the data (missing codes such as 99 -> "
            "NA) first"
        )
    low_max = lo_scale + bottom_boxes - 1
    n = (~np.isnan(x)).sum(axis=0)
    n_low = (x <= low_max).sum(axis=0).astype(float)
    suppressed = n < floor
    n_low[suppressed] = np.nan
    out = pd.DataFrame(
        {"n": n.astype(int), "n_low": n_low, "suppressed": suppressed},
        index=pd.Index(attributes, name="attribute"),
    )
    out = out.sort_values(["suppressed", "n_low"], ascending=[True, False], kind="stable")
    total = float(np.nansum(out["n_low"]))
    ranked = total >= floor  # floor >= 1, so a ranked Pareto has low ratings to rank
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_low"] = out["n_low"] / out["n"]
        out["share_of_all_low"] = out["n_low"] / total if total > 0 else np.nan
    out["cumulative"] = out["share_of_all_low"].cumsum().where(~out["suppressed"])
    reached = (out["cumulative"] >= cutoff - 1e-12).to_numpy()
    vital = np.zeros(len(out), dtype=bool)
    if ranked:
        last = int(np.argmax(reached)) if reached.any() else int((~out["suppressed"]).sum()) - 1
        vital[: last + 1] = True
        vital &= ~out["suppressed"].to_numpy() & (out["n_low"].fillna(0).to_numpy() > 0)
    out["vital_few"] = vital
    out = out[
        ["n", "n_low", "share_low", "share_of_all_low", "cumulative", "vital_few", "suppressed"]
    ]
    out["n_low"] = out["n_low"].astype("Int64") if not out["n_low"].isna().all() else out["n_low"]
    low_by_attribute = {a: int(v) for a, v in zip(attributes, low_max, strict=True)}
    common = set(low_by_attribute.values())
    out.attrs.update(
        {
            "low_max": common.pop() if len(common) == 1 else low_by_attribute,
            "low_range": {
                a: (int(lo), int(m)) for a, lo, m in zip(attributes, lo_scale, low_max, strict=True)
            },
            "total_low": int(total),
            "cutoff": cutoff,
            "min_n": floor,
            "ranked": bool(ranked),
        }
    )
    return out


def _pareto_scale(
    df: pd.DataFrame, attribute: str, scale: tuple[int, int] | Mapping[str, Any] | None
) -> tuple[int, int]:
    value = roles.given_scale(df, attribute, scale, what="dissatisfaction_pareto")
    try:
        low, high = (int(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"scale must be (low, high), found {value!r}") from exc
    if not low < high:
        raise DataError(f"scale must be (low, high) with low < high, found {tuple(value)!r}")
    return low, high


# --------------------------------------------------------------------------------------------
# The report table
# --------------------------------------------------------------------------------------------


def driver_table(
    data: pd.DataFrame,
    outcome: str,
    drivers: Sequence[str],
    *,
    weights: Weights = None,
    cluster: str | None = None,
    n_boot: int = 500,
    seed: int = 0,
    conf: float = DEFAULT_CONF,
    min_n: int | None = None,
    rows_per_driver: int = ROWS_PER_DRIVER,
) -> pd.DataFrame:
    """The key-driver table of the country report, in one call.

    Parameters
    ----------
    data, outcome, drivers, weights, min_n, rows_per_driver
        As in :func:`relative_importance` (listwise deletion).
    cluster : str, optional
        Column of the primary sampling unit (the customer account): the bootstrap resamples
        accounts, not respondents (:func:`bootstrap_importance`), and the effects' intervals
        are cluster-robust (:func:`ols_drivers`). None resamples respondents (HC3 intervals).
    n_boot, seed, conf
        Bootstrap settings of :func:`bootstrap_importance`.

    Returns
    -------
    DataFrame
        Indexed by ``driver``, sorted by rank: ``importance`` (Shapley share of R^2) with
        ``ci_low``, ``ci_high``; ``share``; ``rank`` with ``rank_ci_low``, ``rank_ci_high``;
        ``std_beta`` with ``std_ci_low``, ``std_ci_high`` and ``p_value`` (OLS, HC3);
        ``performance`` (weighted mean rating of the driver over everyone who rated it);
        ``quadrant`` (:func:`importance_performance`); ``not_separable_from`` (drivers whose
        order relative to this one the paired bootstrap difference does not establish); ``n``
        and ``suppressed``. ``attrs``: those of :func:`bootstrap_importance` (``r2``, ``n``,
        ``method``, ``dropped``, ``notes``, ``differences``, ``overlap_notes``, ``conf``,
        ``n_boot``, ``cluster``, ``n_clusters``, ``suppressed``, ``reason``).

    Notes
    -----
    Below the sample-size rule of :func:`relative_importance` every estimate is NaN and
    ``suppressed`` is True (the rows stay, so the report can say which drivers were asked).
    ``not_separable_from`` and ``overlap_notes`` read one verdict per pair of drivers, the
    paired bootstrap difference of :func:`bootstrap_importance`. ``cluster`` applies to the
    bootstrap columns only: the ``std_beta`` interval and ``p_value`` stay HC3 errors that
    treat respondents as independent, and a note in ``attrs["notes"]`` says so.
    """
    # Checked here as well, so that a message names the function the caller called.
    _check_drivers(data, outcome, drivers, "driver_table")
    conf = check_conf(conf, func="driver_table")
    _min_rows(min_n, "driver_table")
    _check_cluster(data, cluster, "driver_table")
    w_all = _resolve_weights(data, weights, "driver_table")
    boot = bootstrap_importance(
        data,
        outcome,
        drivers,
        method="shapley",
        n_boot=n_boot,
        seed=seed,
        conf=conf,
        weights=weights,
        cluster=cluster,
        min_n=min_n,
        rows_per_driver=rows_per_driver,
    )
    kept = list(boot.index)
    ols = (
        ols_drivers(
            data,
            outcome,
            kept,
            weights,
            conf=conf,
            min_n=min_n,
            rows_per_driver=rows_per_driver,
            cluster=cluster,
        )
        if kept
        else None
    )
    x = _as_matrix(data, kept)
    w = np.ones(len(data)) if w_all is None else np.nan_to_num(w_all, nan=0.0)
    m = ~np.isnan(x) & (w[:, None] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        perf = (np.where(m, x, 0.0) * w[:, None]).sum(axis=0) / (m * w[:, None]).sum(axis=0)
    out = boot.copy()
    total = out["importance"].sum()
    out["share"] = out["importance"] / total if total else np.nan
    for col in ("std_beta", "std_ci_low", "std_ci_high", "p_value"):
        out[col] = ols[col].reindex(out.index) if ols is not None else np.nan
    out["performance"] = pd.Series(perf, index=kept).reindex(out.index)
    suppressed = bool(boot.attrs.get("suppressed"))
    if suppressed:
        out["performance"] = np.nan
        out["quadrant"] = None
    else:
        ipa = importance_performance(out["importance"], out["performance"])
        out["quadrant"] = ipa["quadrant"].reindex(out.index)
    out["n"] = int(boot.attrs.get("n", 0))
    out["suppressed"] = suppressed
    order = [
        "importance",
        "ci_low",
        "ci_high",
        "share",
        "rank",
        "rank_ci_low",
        "rank_ci_high",
        "std_beta",
        "std_ci_low",
        "std_ci_high",
        "p_value",
        "performance",
        "quadrant",
        "not_separable_from",
        "n",
        "suppressed",
    ]
    out = out[order]
    out.attrs = dict(boot.attrs)
    if cluster is not None and not suppressed:
        out.attrs["notes"] = [
            *boot.attrs["notes"],
            f"std_beta intervals and p_value are HC3 (respondents independent); only the "
            f"bootstrap columns resample the clusters of {cluster!r}",
        ]
    return out
