"""Satisfaction scores: means, top/bottom-box shares, expectation gaps and trends by wave.

Everything here works on rating columns (CSAT 1-5, attribute and overall satisfaction 1-10,
expectations): :func:`csat_mean` and :func:`top_box` / :func:`bottom_box` for one sample, and
vectorized tables by group (:func:`scores_by_group`, :func:`transaction_summary`,
:func:`expectation_gap`, :func:`trends`) that apply the small-cell rule. With ``cluster=`` (the
customer account) :func:`scores_by_group` and :func:`trends` treat every group as a domain of one
design over all rows (the estimator of :mod:`csatlib.stats.design`, vectorized here), and
:func:`trends` flags changes by the project's one multiplicity policy
(:mod:`csatlib.stats.multiplicity`). NPS itself lives in :mod:`csatlib.stats.nps`;
:func:`trends` reuses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from csatlib import roles
from csatlib.config import DEFAULT_CONF, DEFAULT_MIN_N
from csatlib.errors import DataError
from csatlib.stats.design import cluster_codes, interval_se
from csatlib.stats.multiplicity import (
    CHANGE_LABELS,
    NO_PREVIOUS_WAVE,
    NO_PREVIOUS_WAVE_DATA,
    SUPPRESSED,
)
from csatlib.stats.multiplicity import adjust as _bh
from csatlib.stats.multiplicity import significant as _significant_q
from csatlib.stats.multiplicity import verdict as _verdict
from csatlib.stats.nps import (
    _as_list,
    _check_scale,
    _group_codes,
    _round,
    _to_float,
    _weights,
    _z_quantile,
    nps_by_group,
    nps_wave_change,
)
from csatlib.validation import check_alpha, check_conf, check_min_n, require_columns

__all__ = [
    "MeanResult",
    "ProportionResult",
    "csat_mean",
    "top_box",
    "bottom_box",
    "scores_by_group",
    "transaction_summary",
    "expectation_gap",
    "trends",
    "mean_change",
    "MEAN_CHANGE_COLUMNS",
]

Scale = tuple[int, int]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MeanResult:
    """Mean of a rating with a t confidence interval.

    Attributes
    ----------
    mean : float
        (Weighted) mean.
    n : int
        Valid (non-missing) values.
    sd : float
        Standard deviation (n - 1 denominator; weighted: see :func:`csat_mean`). NaN for n = 1.
    se : float
        Standard error of the mean (linearization when weighted). NaN for n = 1.
    ci_low, ci_high : float
        t interval with n - 1 degrees of freedom.
    conf : float
        Confidence level.
    """

    mean: float
    n: int
    sd: float
    se: float
    ci_low: float
    ci_high: float
    conf: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: 4 decimals, NaN as None."""
        d = {k: _round(v, 4) for k, v in asdict(self).items()}
        d["n"] = self.n
        return d


@dataclass(frozen=True)
class ProportionResult:
    """Share of respondents in the top (or bottom) boxes, with a Wilson score interval.

    Attributes
    ----------
    share : float
        ``count / n``, 0..1.
    count : int
        Respondents in the boxes.
    n : int
        Valid values.
    ci_low, ci_high : float
        Wilson score interval, 0..1.
    conf : float
        Confidence level.
    """

    share: float
    count: int
    n: int
    ci_low: float
    ci_high: float
    conf: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: shares to 4 decimals, NaN as None."""
        d = {k: _round(v, 4) for k, v in asdict(self).items()}
        d["count"], d["n"] = self.count, self.n
        return d


# --------------------------------------------------------------------------- helpers


def _t_quantile(conf: float, df: np.ndarray | float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.asarray(stats.t.ppf(0.5 + conf / 2.0, np.where(np.asarray(df) > 0, df, np.nan)))


def _wilson(count: np.ndarray, n: np.ndarray, conf: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval, vectorized (formula in :func:`top_box`); NaN where ``n == 0``."""
    count = np.asarray(count, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = proportion_confint(count, n, alpha=1.0 - conf, method="wilson")
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def _as_scale(value: Any, what: str) -> Scale:
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(float(v).is_integer() for v in value)
        or value[0] >= value[1]
    ):
        raise DataError(f"{what}: expected a scale (min, max) of whole numbers, found {value!r}")
    return int(value[0]), int(value[1])


def _resolve_scale(df: pd.DataFrame, column: str, scale: Any) -> Scale:
    """Scale of a column: the tuple given, its entry in a mapping, or ``df.attrs['scales']``."""
    return _as_scale(roles.given_scale(df, column, scale), f"scale of column {column!r}")


def _check_boxes(boxes: int, scale: Scale) -> None:
    points = scale[1] - scale[0] + 1
    if (
        not isinstance(boxes, int | np.integer)
        or isinstance(boxes, bool)
        or not 1 <= boxes < points
    ):
        raise DataError(
            f"boxes: expected a whole number from 1 to {points - 1} on the {scale[0]}-{scale[1]} "
            f"scale, found {boxes!r}"
        )


def _column(df: pd.DataFrame, column: str, scale: Scale | None = None) -> np.ndarray:
    """A numeric column as float64 (NaN missing), range-checked when a scale is given."""
    arr, index, integral = _to_float(df[column], what=f"column {column!r}")
    if scale is not None:
        _check_scale(arr, scale, what=f"column {column!r}", index=index, integral=integral)
    return arr


def _cells(
    df: pd.DataFrame, by: Sequence[str]
) -> tuple[np.ndarray, int, Callable[[np.ndarray], pd.DataFrame]]:
    """Cell of every row (``ncells`` = row left out) and a decoder; one cell when ``by`` empty."""
    if not by:
        return np.zeros(len(df), dtype=np.int64), 1, lambda ids: pd.DataFrame(index=range(len(ids)))
    return _group_codes(df, by)


def _observed(cells: np.ndarray, ncells: int) -> np.ndarray:
    """Cells with at least one row."""
    return np.flatnonzero(np.bincount(cells, minlength=ncells + 1)[:ncells] > 0)


def _cell_sum(cells: np.ndarray, weights: np.ndarray | None, ncells: int) -> np.ndarray:
    return np.bincount(cells, weights=weights, minlength=ncells + 1)[:ncells].astype(np.float64)


def _mean_stats(
    x: np.ndarray, cells: np.ndarray, ncells: int, conf: float
) -> dict[str, np.ndarray]:
    """Per-cell n, mean, sd, se and t interval; the sum of squares is taken about the mean."""
    valid = ~np.isnan(x)
    c, xv = cells[valid], x[valid]
    n = _cell_sum(c, None, ncells)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = _cell_sum(c, xv, ncells) / n
        centred = xv - np.append(mean, np.nan)[c]
        sd = np.sqrt(_cell_sum(c, centred * centred, ncells) / (n - 1.0))
        se = sd / np.sqrt(n)
    tq = _t_quantile(conf, n - 1.0)
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "se": se,
        "ci_low": mean - tq * se,
        "ci_high": mean + tq * se,
    }


def _box_stats(
    x: np.ndarray, cells: np.ndarray, ncells: int, scale: Scale, boxes: int, conf: float
) -> dict[str, np.ndarray]:
    lo, hi = scale
    n = _cell_sum(cells[~np.isnan(x)], None, ncells)
    top = _cell_sum(cells[x >= hi - boxes + 1], None, ncells)
    bottom = _cell_sum(cells[x <= lo + boxes - 1], None, ncells)
    top_lo, top_hi = _wilson(top, n, conf)
    bottom_lo, bottom_hi = _wilson(bottom, n, conf)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "top_box": top / n,
            "top_box_ci_low": top_lo,
            "top_box_ci_high": top_hi,
            "bottom_box": bottom / n,
            "bottom_box_ci_low": bottom_lo,
            "bottom_box_ci_high": bottom_hi,
        }


def _suppress(frame: pd.DataFrame, suppressed: np.ndarray, columns: Sequence[str]) -> None:
    for col in columns:
        frame[col] = np.where(suppressed, np.nan, frame[col].to_numpy(dtype=np.float64))


# --------------------------------------------------------------------------- one sample


def csat_mean(values: Any, weights: Any = None, *, conf: float = DEFAULT_CONF) -> MeanResult:
    """Mean rating with standard error and t confidence interval.

    Parameters
    ----------
    values : array-like or pandas.Series
        Ratings; missing values (NaN, ``pd.NA``) are dropped with their weights.
    weights : array-like, optional
        Survey weights (finite, >= 0, aligned by position).
    conf : float, keyword-only
        Confidence level.

    Returns
    -------
    MeanResult
        ``mean, n, sd, se, ci_low, ci_high, conf``.

    Raises
    ------
    DataError
        No valid value, a non-numeric value (named with its position), a bad weight.

    Notes
    -----
    Unweighted: :math:`\\bar x`, :math:`s` with the n - 1 denominator, :math:`se = s/\\sqrt n`,
    interval :math:`\\bar x \\pm t_{n-1, 1-\\alpha/2}\\, se`.

    Weighted (with-replacement, single-stage design, as R ``survey::svymean(~x,
    svydesign(ids=~1, weights=~w))``): :math:`\\bar x_w = \\sum w x / \\sum w`,

    .. math:: se^2 = \\frac{n}{n-1} \\frac{\\sum w_i^2 (x_i - \\bar x_w)^2}{(\\sum w_i)^2},
              \\qquad sd^2 = \\frac{n}{n-1} \\frac{\\sum w_i (x_i - \\bar x_w)^2}{\\sum w_i}

    (``sd`` as ``survey::svyvar``), and the same t interval with n - 1 degrees of freedom. Equal
    weights give exactly the unweighted results.

    Checked against: scipy ``stats.t.interval`` / statsmodels ``DescrStatsW.tconfint_mean``
    (unweighted) and statsmodels WLS-on-a-constant with HC1 covariance plus a brute-force
    linearization (weighted), in tests/stats/test_scores.py.

    References
    ----------
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, ch. 2.
    """
    conf = check_conf(conf, func="csat_mean")
    arr, _, _ = _to_float(values, what="values")
    valid = ~np.isnan(arr)
    n = int(valid.sum())
    if n == 0:
        raise DataError(f"values: expected at least one valid value, found none ({len(arr)} given)")
    x = arr[valid]
    if weights is None:
        mean = float(x.mean())
        sd = float(x.std(ddof=1)) if n > 1 else math.nan
        se = sd / math.sqrt(n)
    else:
        w = _weights(weights, valid, what="weights")[valid]
        total = float(w.sum())
        if not total > 0:
            raise DataError("weights: expected a positive total weight, found all weights zero")
        mean = float(np.dot(w, x) / total)
        r = x - mean
        factor = n / (n - 1) if n > 1 else math.nan
        sd = math.sqrt(factor * float(np.dot(w, r * r)) / total) if n > 1 else math.nan
        se = math.sqrt(factor * float(np.dot(w * w, r * r))) / total if n > 1 else math.nan
    tq = float(_t_quantile(conf, n - 1.0))
    return MeanResult(
        mean=mean,
        n=n,
        sd=sd,
        se=se,
        ci_low=mean - tq * se,
        ci_high=mean + tq * se,
        conf=float(conf),
    )


def _box(values: Any, scale: Any, boxes: int, conf: float, top: bool) -> ProportionResult:
    conf = check_conf(conf, func="top_box" if top else "bottom_box")
    scale = _as_scale(scale, "scale")
    _check_boxes(boxes, scale)
    arr, index, integral = _to_float(values, what="values")
    _check_scale(arr, scale, what="values", index=index, integral=integral)
    valid = ~np.isnan(arr)
    n = int(valid.sum())
    if n == 0:
        raise DataError(f"values: expected at least one valid value, found none ({len(arr)} given)")
    in_box = arr >= scale[1] - boxes + 1 if top else arr <= scale[0] + boxes - 1
    count = int(np.count_nonzero(in_box))
    lo, hi = _wilson(np.array([count]), np.array([n]), conf)
    return ProportionResult(
        share=count / n,
        count=count,
        n=n,
        ci_low=float(lo[0]),
        ci_high=float(hi[0]),
        conf=float(conf),
    )


def top_box(
    values: Any,
    *,
    scale: Scale = (1, 5),
    boxes: int = 2,
    conf: float = DEFAULT_CONF,
) -> ProportionResult:
    """Share of respondents in the top ``boxes`` categories ("top-2-box"), Wilson interval.

    Parameters
    ----------
    values : array-like or pandas.Series
        Whole-number ratings on ``scale``; missing values dropped.
    scale : (int, int), keyword-only
        Range of the question (default 1-5, the transaction CSAT).
    boxes : int, keyword-only
        Number of top categories counted (default 2: 4 and 5 on a 1-5 scale).
    conf : float, keyword-only
        Confidence level.

    Returns
    -------
    ProportionResult
        ``share, count, n, ci_low, ci_high, conf``.

    Raises
    ------
    DataError
        A value outside the scale or fractional (named with its position), no valid value, or
        ``boxes`` not in 1..(number of categories - 1).

    Notes
    -----
    With :math:`\\hat p = x/n` and :math:`z = z_{1-\\alpha/2}`, the Wilson score interval is

    .. math:: \\frac{\\hat p + z^2/(2n) \\pm z \\sqrt{\\hat p(1-\\hat p)/n + z^2/(4n^2)}}
              {1 + z^2/n}

    It keeps nominal coverage far better than the Wald interval near 0 and 1, where top-box
    shares of satisfied customers often sit. Computed by statsmodels
    ``proportion_confint(method="wilson")`` (clipped to [0, 1]), for every group at once.

    Checked against: the closed form above and the published intervals of Newcombe (1998,
    Table II, method 3) in tests/stats/test_scores.py.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    JASA, 22(158), 209-212.
    Agresti, A., & Coull, B. A. (1998). Approximate is better than "exact" for interval
    estimation of binomial proportions. The American Statistician, 52(2), 119-126.
    Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion: comparison
    of seven methods. Statistics in Medicine, 17(8), 857-872.
    """
    return _box(values, scale, boxes, conf, top=True)


def bottom_box(
    values: Any,
    *,
    scale: Scale = (1, 5),
    boxes: int = 2,
    conf: float = DEFAULT_CONF,
) -> ProportionResult:
    """Share of respondents in the bottom ``boxes`` categories, Wilson interval.

    Parameters, returns, formula and references as :func:`top_box` (bottom instead of top:
    values ``<= min + boxes - 1``).
    """
    return _box(values, scale, boxes, conf, top=False)


# --------------------------------------------------------------------------- by group

_SCORE_COLUMNS: Final = (
    "n",
    "mean",
    "se",
    "ci_low",
    "ci_high",
    "top_box",
    "top_box_ci_low",
    "top_box_ci_high",
)
_CLUSTERED_COLUMNS: Final = (
    "n",
    "n_clusters",
    "mean",
    "se",
    "deff",
    "ci_low",
    "ci_high",
    "top_box",
    "top_box_ci_low",
    "top_box_ci_high",
    "top_box_deff",
)


def scores_by_group(
    df: pd.DataFrame,
    columns: str | Sequence[str],
    by: str | Sequence[str],
    *,
    scale: Scale | Mapping[str, Scale] | None = None,
    boxes: int = 2,
    cluster: str | None = None,
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
) -> pd.DataFrame:
    """Mean and top-box share of rating columns by group, as one long table.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per respondent.
    columns : str or sequence of str
        Rating columns (e.g. the eight attributes).
    by : str or sequence of str
        Grouping columns; categorical keys keep their category order, rows with a missing key
        are left out.
    scale : (int, int), mapping or None, keyword-only
        Scale of every column, or a mapping column -> scale; ``None`` reads ``df.attrs["scales"]``
        (set by csatlib's cleaning). Values are range-checked.
    boxes : int, keyword-only
        Top-box categories (default 2).
    cluster : str, optional, keyword-only
        Column of the primary sampling unit (the customer account). None (default): respondents
        are independent. With a column, every group is a domain of one design over all rows of
        ``df`` (see Notes).
    min_n : int, keyword-only
        Cells with fewer valid values are suppressed; an int >= 1 (default 30). A cell of one
        value shows its mean with NaN ``se`` and interval.
    conf : float, keyword-only
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``*by, measure, n, mean, se, ci_low, ci_high, top_box, top_box_ci_low, top_box_ci_high,
        suppressed``; one row per column and observed group. With ``cluster`` also
        ``n_clusters`` (accounts with a valid value in the group, after ``n``), ``deff`` (design
        effect of the mean, after ``se``) and ``top_box_deff`` (of the top-box share, after
        ``top_box_ci_high``). Suppressed cells have ``n`` (and ``n_clusters``),
        ``suppressed=True`` and NaN elsewhere.

    Notes
    -----
    Without ``cluster``: means with t intervals as :func:`csat_mean` (unweighted), top box with
    Wilson intervals as :func:`top_box`.

    With ``cluster`` (R ``svyby(~x, ~group, svydesign(ids = ~cluster, data = df), svymean,
    na.rm = TRUE)``): the mean is unchanged, ``se`` is the account-clustered linearization SE of
    :func:`csatlib.stats.design.domain_means` (every account of ``df`` counts in the design) and
    the interval is normal, :math:`\\bar x \\pm z_{1-\\alpha/2}\\, \\max(se, se_1)`, as
    survey's ``confint`` (normal, not t), with :math:`se_1` the SE with each respondent its own
    cluster: ``deff`` (the clustered variance over that one) is floored at 1 for the interval
    (:func:`csatlib.stats.design.interval_se`; a few accounts that happen to agree give a
    design effect below 1, which is noise). The top-box interval is Wilson's with the
    effective sample size :math:`n_{eff} = n / \\max(deff_{top}, 1)` (Korn & Graubard 1998):
    clustering widens it,
    never narrows it (a design effect below 1 from a few accounts is noise); where the share
    is 0 or 1, :math:`n_{eff} = n`. A group answered by fewer than two accounts has no
    clustered variance: NaN ``se``, ``deff`` and intervals (of the mean and of the top box:
    its respondents' agreement says nothing of other accounts).

    Vectorized: grouped sums by ``bincount``; the loop runs over columns only.

    Checked against: :func:`csat_mean` and :func:`top_box` per group (no cluster); R 4.2.2
    survey 4.1-1 ``svyby`` (se to 1e-8, ``confint``) and a Wilson interval on
    :math:`n/deff` computed in R (with cluster), in tests/stats/test_scores.py.

    References
    ----------
    Korn, E. L., & Graubard, B. I. (1998). Confidence intervals for proportions with small
    expected number of positive counts estimated from survey data. Survey Methodology, 24(2),
    193-201.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, ch. 2-3.
    """
    conf = check_conf(conf, func="scores_by_group")
    min_n = check_min_n(min_n, func="scores_by_group")
    columns = _as_list(columns, "columns")
    by = _as_list(by)
    require_columns(df, [*by, *columns, *_optional(cluster)], "scores_by_group")
    cells, ncells, decode = _cells(df, by)
    observed = _observed(cells, ncells)
    keys = decode(observed)
    names = _SCORE_COLUMNS if cluster is None else _CLUSTERED_COLUMNS
    frames = []
    for column in columns:
        col_scale = _resolve_scale(df, column, scale)
        _check_boxes(boxes, col_scale)
        x = _column(df, column, col_scale)
        if cluster is None:
            found = _mean_stats(x, cells, ncells, conf) | _box_stats(
                x, cells, ncells, col_scale, boxes, conf
            )
        else:
            found = _clustered_stats(x, cells, ncells, df[cluster], col_scale, boxes, conf)
        frames.append(
            _with_columns(keys, {"measure": column} | {n: found[n][observed] for n in names})
        )
    out = pd.concat(frames, ignore_index=True)
    counts = [c for c in ("n", "n_clusters") if c in out]
    out[counts] = out[counts].astype(np.int64)
    out["suppressed"] = out["n"] < min_n
    _suppress(out, out["suppressed"].to_numpy(), [c for c in names if c not in counts])
    return out


def _with_columns(keys: pd.DataFrame, values: dict[str, Any]) -> pd.DataFrame:
    """``keys`` with the columns of ``values`` (arrays of its length, or scalars) after its
    own, built at once: inserting a dozen columns one by one costs more than computing them
    (each insert rebuilds the frame's column index)."""
    return pd.DataFrame({c: keys[c] for c in keys.columns} | values, index=keys.index)


def _optional(column: str | None) -> list[str]:
    return [] if column is None else [column]


@dataclass(frozen=True, eq=False)
class _DomainDesign:
    """Means of one variable in disjoint domains of one clustered design, vectorized.

    The estimator of :func:`csatlib.stats.design.domain_means` (formula there; equal to it to
    rounding, tested) computed from per-(cluster, domain) sums instead of one pass per domain,
    so that every group of a study costs one ``bincount``. Arrays are over domains
    ``0..n_domains-1``; ``var`` is clustered, ``var_own`` with each respondent its own cluster.
    """

    n: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    var_own: np.ndarray
    n_clusters: np.ndarray
    n_psu: int
    pair_domain: np.ndarray
    pair_cluster: np.ndarray
    pair_z: np.ndarray
    zbar: np.ndarray

    def cov(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Clustered covariance of the means of domains ``a[k]`` and ``b[k]`` (NaN where
        ``b[k] < 0``): every cluster of domain a is looked up in domain b."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        k = len(self.n)
        partner = np.full(k, -1, dtype=np.int64)
        partner[a[b >= 0]] = b[b >= 0]
        index = pd.Index(self.pair_cluster * k + self.pair_domain)
        target = partner[self.pair_domain]
        found = index.get_indexer(np.where(target >= 0, self.pair_cluster * k + target, -1))
        found = np.where(target >= 0, found, -1)
        product = np.where(found >= 0, self.pair_z * self.pair_z[np.maximum(found, 0)], 0.0)
        sums = np.bincount(self.pair_domain, weights=product, minlength=k)
        out = _psu_cov(sums[a], self.zbar[a] * self.zbar[np.maximum(b, 0)], self.n_psu)
        return np.where(b >= 0, out, np.nan)


def _psu_cov(sum_products: np.ndarray, mean_product: np.ndarray, n_psu: int) -> np.ndarray:
    """:math:`C/(C-1) (\\sum_c Z_c Z'_c - C \\bar Z \\bar Z')`; NaN for a single cluster."""
    if n_psu < 2:
        return np.full(np.shape(sum_products), np.nan)
    return n_psu / (n_psu - 1.0) * (sum_products - n_psu * mean_product)


def _domain_design(
    x: np.ndarray, domain: np.ndarray, n_domains: int, codes: np.ndarray
) -> _DomainDesign:
    """Domain means of ``x`` with clustered variances; ``domain`` is each row's domain (< 0 or
    >= ``n_domains``: in none, but in the design), ``codes`` its cluster
    (:func:`csatlib.stats.design.cluster_codes`; every cluster counts, answering or not)."""
    n_rows = len(x)
    n_psu = int(codes.max()) + 1 if n_rows else 0
    keep = ~np.isnan(x) & (domain >= 0) & (domain < n_domains)
    d, xv, c = domain[keep].astype(np.int64), x[keep], codes[keep].astype(np.int64)
    n = np.bincount(d, minlength=n_domains).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(d, weights=xv, minlength=n_domains) / n
        z_row = (xv - mean[d]) / n[d]
    pair, pairs = pd.factorize(c * n_domains + d)
    pairs = np.asarray(pairs, dtype=np.int64)
    pair_z = np.bincount(pair, weights=z_row, minlength=len(pairs))
    pair_domain, pair_cluster = pairs % n_domains, pairs // n_domains
    zsum = np.bincount(pair_domain, weights=pair_z, minlength=n_domains)
    zbar = zsum / n_psu if n_psu else np.zeros(n_domains)
    squares = np.bincount(pair_domain, weights=pair_z * pair_z, minlength=n_domains)
    own_squares = np.bincount(d, weights=z_row * z_row, minlength=n_domains)
    return _DomainDesign(
        n=n,
        mean=mean,
        var=np.clip(_psu_cov(squares, zbar * zbar, n_psu), 0.0, None),
        var_own=np.clip(_psu_cov(own_squares, (zsum / n_rows) ** 2, n_rows), 0.0, None),
        n_clusters=np.bincount(pair_domain, minlength=n_domains).astype(np.float64),
        n_psu=n_psu,
        pair_domain=pair_domain,
        pair_cluster=pair_cluster,
        pair_z=pair_z,
        zbar=zbar,
    )


def _se_and_deff(design: _DomainDesign) -> tuple[np.ndarray, np.ndarray]:
    """Clustered SE and design effect; NaN where fewer than two clusters answered."""
    known = design.n_clusters >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.where(design.var_own > 0, design.var / design.var_own, np.nan)
    return np.where(known, np.sqrt(design.var), np.nan), np.where(known, deff, np.nan)


def _clustered_stats(
    x: np.ndarray,
    cells: np.ndarray,
    ncells: int,
    clusters: pd.Series,
    scale: Scale,
    boxes: int,
    conf: float,
) -> dict[str, np.ndarray]:
    """Per-cell mean and top-box share as domains of one design (formulas in
    :func:`scores_by_group`)."""
    codes = cluster_codes(clusters, len(x))
    means = _domain_design(x, cells, ncells, codes)
    n, mean = means.n, means.mean
    se, deff = _se_and_deff(means)
    half = _z_quantile(conf) * interval_se(se, np.sqrt(means.var_own))
    with np.errstate(invalid="ignore"):
        top = x >= scale[1] - boxes + 1
    return {
        "n": n,
        "n_clusters": means.n_clusters,
        "mean": mean,
        "se": se,
        "deff": deff,
        "ci_low": mean - half,
        "ci_high": mean + half,
        **_clustered_share(x, top, cells, ncells, codes, n, conf, "top_box"),
    }


def _clustered_share(
    x: np.ndarray,
    hit: np.ndarray,
    cells: np.ndarray,
    ncells: int,
    codes: np.ndarray,
    n: np.ndarray,
    conf: float,
    name: str,
) -> dict[str, np.ndarray]:
    """Per-cell share of the valid ``x`` with ``hit``, a domain mean of one design, with
    Wilson's interval on :math:`n / \\max(deff, 1)` (formula in :func:`scores_by_group`):
    ``name``, ``name_ci_low``, ``name_ci_high``, ``name_deff``."""
    indicator = np.where(np.isnan(x), np.nan, hit.astype(np.float64))
    shares = _domain_design(indicator, cells, ncells, codes)
    share_deff = _se_and_deff(shares)[1]
    widen = np.where(np.isfinite(share_deff) & (share_deff > 1.0), share_deff, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = n / widen
    low, high = _wilson(shares.mean * n_eff, n_eff, conf)
    one_account = shares.n_clusters < 2  # no variance between accounts: no interval, as the mean
    low, high = np.where(one_account, np.nan, low), np.where(one_account, np.nan, high)
    return {
        name: shares.mean,
        f"{name}_ci_low": low,
        f"{name}_ci_high": high,
        f"{name}_deff": share_deff,
    }


def transaction_summary(
    df: pd.DataFrame,
    *,
    by: str | Sequence[str] = ("region", "month"),
    score: str = "csat",
    scale: Scale = (1, 5),
    boxes: int = 2,
    cluster: str | None = None,
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
) -> pd.DataFrame:
    """Transaction CSAT by group (default region x month): mean, top-box and bottom-box shares.

    Parameters
    ----------
    df : pandas.DataFrame
        Transaction survey, one row per ticket (``transactions.parquet``).
    by : str or sequence of str, keyword-only
        Grouping columns (default ``("region", "month")``).
    score : str, keyword-only
        Rating column (default ``"csat"``, 1-5).
    scale : (int, int), keyword-only
        Scale of ``score`` (default 1-5); values are range-checked.
    boxes : int, keyword-only
        Categories in the top and the bottom box (default 2: "satisfied" 4-5, "dissatisfied"
        1-2).
    cluster : str, optional, keyword-only
        Column of the ticket's customer account. None (default): tickets are independent.
        With a column, the tickets of one account are a cluster and every group is a domain
        of one design over all rows of ``df`` (see Notes): an account that raises many tickets
        rates its support alike, so its tickets carry less information than as many accounts'.
    min_n, conf : keyword-only
        Small-cell minimum and confidence level.

    Returns
    -------
    pandas.DataFrame
        ``*by, n, mean, se, ci_low, ci_high, top_box, top_box_ci_low, top_box_ci_high,
        bottom_box, bottom_box_ci_low, bottom_box_ci_high, suppressed``. With ``cluster`` also
        ``n_clusters`` (accounts with a rated ticket in the group, after ``n``), ``deff``
        (design effect of the mean, after ``se``), ``top_box_deff`` and ``bottom_box_deff``
        (after each share's interval).

    Notes
    -----
    Without ``cluster``: mean with a t interval (:func:`csat_mean`); shares with Wilson
    intervals (:func:`top_box`, :func:`bottom_box`).

    With ``cluster`` (R ``svyby(~csat, ~month, svydesign(ids = ~account, data = df),
    svymean, na.rm = TRUE)``), the estimators of :func:`scores_by_group`: the mean is
    unchanged, its ``se`` is the account-clustered linearization SE of the domain mean,

    .. math:: \\widehat{V}(\\bar x_d) = \\frac{C}{C-1} \\sum_c (Z_c - \\bar Z)^2, \\quad
              Z_c = \\sum_{i \\in c,\\, i \\in d} \\frac{x_i - \\bar x_d}{n_d},

    over the ``C`` accounts of ``df`` (a ticket without an account is an account of its own),
    and the interval is normal on :math:`\\max(se, se_1)` (:math:`se_1`: each ticket its own
    cluster; :func:`csatlib.stats.design.interval_se`). Each share's interval is Wilson's on
    the effective sample size :math:`n / \\max(deff, 1)` (Korn & Graubard 1998). A group
    whose tickets come from fewer than two accounts has NaN ``se``, ``deff`` and intervals
    (the mean's and the shares': one account's tickets say nothing of another's).

    Suppressed cells have ``n`` (and ``n_clusters``) and NaN in every estimate.

    Checked against: :func:`csat_mean`, :func:`top_box` and :func:`bottom_box` per group (no
    cluster); R 4.2.2 survey 4.1-1 ``svyby`` (with cluster: means, SEs, design effects and
    top-box intervals) and the linearization formula above computed directly (bottom box), in
    tests/stats/test_scores.py.

    References
    ----------
    Korn, E. L., & Graubard, B. I. (1998). Confidence intervals for proportions with small
    expected number of positive counts estimated from survey data. Survey Methodology, 24(2),
    193-201.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, ch. 2-3.
    """
    conf = check_conf(conf, func="transaction_summary")
    min_n = check_min_n(min_n, func="transaction_summary")
    by = _as_list(by)
    scale = _as_scale(scale, "scale")
    _check_boxes(boxes, scale)
    require_columns(df, [*by, score, *_optional(cluster)], "transaction_summary")
    x = _column(df, score, scale)
    cells, ncells, decode = _cells(df, by)
    observed = _observed(cells, ncells)
    if cluster is None:
        stats_ = _mean_stats(x, cells, ncells, conf)
        stats_ |= _box_stats(x, cells, ncells, scale, boxes, conf)
        names = _TRANSACTION_COLUMNS
    else:
        stats_ = _clustered_stats(x, cells, ncells, df[cluster], scale, boxes, conf)
        with np.errstate(invalid="ignore"):
            bottom = x <= scale[0] + boxes - 1
        codes = cluster_codes(df[cluster], len(x))
        stats_ |= _clustered_share(x, bottom, cells, ncells, codes, stats_["n"], conf, "bottom_box")
        names = _CLUSTERED_TRANSACTION_COLUMNS
    out = _with_columns(decode(observed), {name: stats_[name][observed] for name in names})
    counts = [c for c in ("n", "n_clusters") if c in out]
    out[counts] = out[counts].astype(np.int64)
    out["suppressed"] = out["n"] < min_n
    _suppress(out, out["suppressed"].to_numpy(), [c for c in names if c not in counts])
    return out


_TRANSACTION_COLUMNS: Final = (
    *("n", "mean", "se", "ci_low", "ci_high", "top_box", "top_box_ci_low", "top_box_ci_high"),
    *("bottom_box", "bottom_box_ci_low", "bottom_box_ci_high"),
)
_CLUSTERED_TRANSACTION_COLUMNS: Final = (
    *_CLUSTERED_COLUMNS,
    *("bottom_box", "bottom_box_ci_low", "bottom_box_ci_high", "bottom_box_deff"),
)


def expectation_gap(
    df: pd.DataFrame,
    attributes: str | Sequence[str] | Mapping[str, str],
    *,
    expectation_prefix: str = "expectation_",
    conf: float = DEFAULT_CONF,
    min_n: int = DEFAULT_MIN_N,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Perceived performance against expectation, per attribute (and group): gap and ratio.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per respondent with ``<attribute>`` (perceived) and
        ``<expectation_prefix><attribute>`` (expected) columns on the same scale.
    attributes : str, sequence of str, or mapping attribute -> expectation column
        Attribute names, e.g. ``["quality", "delivery"]`` (expectations found by the prefix), or
        a mapping naming each attribute's expectation item (as the codebook links them, see
        :func:`csatlib.roles.links`).
    expectation_prefix : str, keyword-only
        Prefix of the expectation columns (default ``"expectation_"``).
    conf, min_n : keyword-only
        Confidence level; cells with fewer complete pairs are suppressed.
    by : str or sequence of str, optional, keyword-only
        Grouping columns; ``None`` for one row per attribute.

    Returns
    -------
    pandas.DataFrame
        ``*by, attribute, n, perceived, expected, gap, gap_se, gap_ci_low, gap_ci_high,
        gap_p_value, ratio, ratio_se, ratio_ci_low, ratio_ci_high, suppressed``. ``n`` counts
        respondents with both values; ``gap = perceived - expected`` (negative: expectations
        not met); ``ratio = perceived / expected`` (below 1: not met).

    Notes
    -----
    Only complete pairs are used. With :math:`d_i = x_i - y_i` (perceived minus expected):

    *Gap* — paired t: :math:`\\bar d \\pm t_{n-1} s_d/\\sqrt n`, :math:`s_d^2 = s_x^2 + s_y^2 -
    2 s_{xy}`; ``gap_p_value`` tests :math:`H_0: \\bar d = 0` (scipy ``ttest_rel``).

    *Ratio* — delta method for a ratio of means of paired data: :math:`R = \\bar x / \\bar y`,

    .. math:: \\widehat{Var}(R) = \\frac{s_x^2 - 2 R s_{xy} + R^2 s_y^2}{n \\bar y^2}

    (the variance of the residuals :math:`x_i - R y_i` over :math:`n \\bar y^2`; Cochran 1977,
    6.4), with a normal interval :math:`R \\pm z_{1-\\alpha/2} se` (asymptotic, like the delta
    method itself). All :math:`s` use the n - 1 denominator.

    Checked against: scipy ``ttest_rel`` (gap, its interval and p-value) and the gradient form
    of the delta method with ``numpy.cov``, plus a seeded bootstrap for the ratio's SE, in
    tests/stats/test_scores.py.

    References
    ----------
    Cochran, W. G. (1977). Sampling Techniques, 3rd ed. Wiley, ch. 6 (ratio estimators).
    Parasuraman, A., Zeithaml, V. A., & Berry, L. L. (1988). SERVQUAL. Journal of Retailing,
    64(1), 12-40 (performance minus expectation gaps).
    """
    conf = check_conf(conf, func="expectation_gap")
    min_n = check_min_n(min_n, func="expectation_gap")
    if isinstance(attributes, Mapping):
        pairs = [(str(a), str(e)) for a, e in attributes.items()]
        if not pairs:
            raise DataError("attributes: expected at least one attribute, found an empty mapping")
    else:
        pairs = [(a, f"{expectation_prefix}{a}") for a in _as_list(attributes, "attributes")]
    by = [] if by is None else _as_list(by)
    require_columns(df, [*by, *(c for pair in pairs for c in pair)], "expectation_gap")
    cells, ncells, decode = _cells(df, by)
    observed = _observed(cells, ncells)
    keys = decode(observed)
    z = _z_quantile(conf)
    frames = []
    for perceived_col, expected_col in pairs:
        x, y = _column(df, perceived_col), _column(df, expected_col)
        both = ~np.isnan(x) & ~np.isnan(y)
        c, xv, yv = cells[both], x[both], y[both]
        n = _cell_sum(c, None, ncells)
        with np.errstate(divide="ignore", invalid="ignore"):
            mx = _cell_sum(c, xv, ncells) / n
            my = _cell_sum(c, yv, ncells) / n
            dx = xv - np.append(mx, np.nan)[c]
            dy = yv - np.append(my, np.nan)[c]
            sxx = _cell_sum(c, dx * dx, ncells) / (n - 1.0)
            syy = _cell_sum(c, dy * dy, ncells) / (n - 1.0)
            sxy = _cell_sum(c, dx * dy, ncells) / (n - 1.0)
            gap = mx - my
            gap_se = np.sqrt(np.clip(sxx + syy - 2.0 * sxy, 0.0, None) / n)
            t_stat = np.where(gap_se == 0, np.where(gap == 0, 0.0, np.inf), gap / gap_se)
            ratio = mx / my
            ratio_var = (sxx - 2.0 * ratio * sxy + ratio * ratio * syy) / (n * my * my)
            ratio_se = np.sqrt(np.clip(ratio_var, 0.0, None))
        tq = _t_quantile(conf, n - 1.0)
        p = 2.0 * stats.t.sf(np.abs(t_stat), np.where(n > 1, n - 1.0, np.nan))
        values = {
            "n": n,
            "perceived": mx,
            "expected": my,
            "gap": gap,
            "gap_se": gap_se,
            "gap_ci_low": gap - tq * gap_se,
            "gap_ci_high": gap + tq * gap_se,
            "gap_p_value": p,
            "ratio": ratio,
            "ratio_se": ratio_se,
            "ratio_ci_low": ratio - z * ratio_se,
            "ratio_ci_high": ratio + z * ratio_se,
        }
        observed_values = {name: value[observed] for name, value in values.items()}
        frames.append(_with_columns(keys, {"attribute": perceived_col} | observed_values))
    out = pd.concat(frames, ignore_index=True)
    out["n"] = out["n"].astype(np.int64)
    out["suppressed"] = out["n"] < min_n
    estimates = [c for c in out.columns if c not in {*by, "attribute", "n", "suppressed"}]
    _suppress(out, out["suppressed"].to_numpy(), estimates)
    return out


def trends(
    df: pd.DataFrame,
    columns: str | Sequence[str],
    *,
    by: str | Sequence[str] = "country",
    wave: str = "wave",
    waves: Sequence[str] | None = None,
    cluster: str | None = None,
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
    alpha: float = 0.05,
    adjust: bool = True,
    nps_column: str | None = "auto",
) -> pd.DataFrame:
    """Every score by group and wave, with the change from the study's previous wave and a test.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per respondent.
    columns : str or sequence of str
        Rating columns; each gets its mean. The column named ``nps_column`` also gets its NPS.
    by : str or sequence of str, keyword-only
        Grouping column(s) (default ``"country"``).
    wave : str, keyword-only
        Wave column.
    waves : sequence of str, optional, keyword-only
        The study's waves, oldest first (:func:`csatlib.roles.wave_order` of the whole study's
        wave column); default the waves of ``df``. Pass it when ``df`` is part of the study
        (e.g. one country), so that the previous wave is the study's.
    cluster : str, optional, keyword-only
        Column of the primary sampling unit (the customer account). None (default): waves are
        independent samples. With a column, every (group, wave) is a domain of one design over
        all rows of ``df`` (see Notes).
    min_n, conf : keyword-only
        Small-cell minimum and confidence level.
    alpha : float, keyword-only
        Level of the ``significant`` flag (default 0.05).
    adjust : bool, keyword-only
        True (default): ``significant`` and ``verdict`` read Benjamini-Hochberg q-values over
        the changes of each group into the same wave (every measure and statistic; the policy of
        :mod:`csatlib.stats.multiplicity`); False: raw p-values, ``q_value`` NaN.
    nps_column : str or None, keyword-only
        The likelihood-to-recommend column (0-10); ``"auto"`` (default): the column with codebook
        role ``nps`` in ``df.attrs`` (none known: no NPS rows); ``None``: no NPS rows.

    Returns
    -------
    pandas.DataFrame
        Long table ``*by, wave, measure, statistic, n, value, se, ci_low, ci_high,
        previous_wave, change, change_se, p_value, q_value, significant, verdict,
        suppressed``. ``statistic`` is ``"mean"`` (``value`` on the column's scale) or
        ``"nps"`` (points). ``previous_wave`` is the study's wave before (NA for the first),
        whether or not the group has rows in it. ``suppressed`` flags a cell below ``min_n``
        (its estimates are NaN); the change, p-value and flag are NaN/NA when either cell is
        suppressed or the group has no rows in the previous wave. ``verdict``: "improved",
        "deteriorated", "no change" (tested), else why not: "no previous wave" (the study's
        first wave), "no previous wave data" (the group has no rows in it), "suppressed"
        (either cell below ``min_n``, or too few answers for a test) — the words of
        :func:`csatlib.stats.screens.four_screens`' screen 1.

    Notes
    -----
    Means without ``cluster``: t interval (:func:`csat_mean`); change tested with Welch's t,
    :math:`t = (\\bar x_1 - \\bar x_0)/\\sqrt{se_1^2 + se_0^2}` with Welch-Satterthwaite df
    :math:`(se_1^2 + se_0^2)^2 / (se_1^4/(n_1-1) + se_0^4/(n_0-1))`.

    Means with ``cluster``: the (group, wave) means are domains of
    ``svydesign(ids = ~cluster, data = df)`` (:func:`csatlib.stats.design.domain_means`; normal
    interval as :func:`scores_by_group`), and the change is ``svycontrast`` of ``svyby(...,
    covmat = TRUE)``: :math:`se^2 = se_1^2 + se_0^2 - 2\\,\\widehat{Cov}`, an account answering
    in both waves making them dependent; two-sided z test.

    NPS: :func:`csatlib.stats.nps.nps_by_group` (value and interval) and
    :func:`csatlib.stats.nps.nps_wave_change` (change, its SE and test), given ``cluster``
    when there is one, so that the NPS change is the headline's; a change from another wave
    than the study's previous one is not used ("no previous wave data").

    q-values: :func:`csatlib.stats.multiplicity.adjust` with one family per group and wave.
    For the report's whole family (with the four screens) use
    :func:`csatlib.stats.multiplicity.country_family_q`.

    Checked against: scipy ``ttest_ind(equal_var=False)`` and ``nps_difference`` on the same
    cells (no cluster), R 4.2.2 survey 4.1-1 ``svyby`` + ``svycontrast`` (means and change SEs
    to 1e-8, with cluster) in tests/stats/test_scores.py.

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. Biometrika, 34(1/2), 28-35.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, ch. 2-3.
    """
    conf = check_conf(conf, func="trends")
    min_n = check_min_n(min_n, func="trends")
    alpha = check_alpha(alpha, func="trends")
    if nps_column == "auto":
        found = roles.names(df, "nps")
        nps_column = found[0] if found else None
    columns = _as_list(columns, "columns")
    by = _as_list(by)
    keys_cols = [*by, wave]
    require_columns(df, [*keys_cols, *columns, *_optional(cluster)], "trends")
    order = _study_waves(df[wave], waves)
    cells, ncells, decode = _cells(df, keys_cols)
    observed = _observed(cells, ncells)
    keys = decode(observed)
    previous, prev_pos = _previous_cells(keys, by, wave, order)
    frames = []
    for column in columns:
        frames.append(_mean_rows(df, column, cells, ncells, observed, prev_pos, cluster, conf))
        if column == nps_column:
            frames.append(_nps_rows(df, column, keys, by, wave, previous, cluster, conf))
    blocks = pd.concat(frames, ignore_index=True)
    reps = len(frames)
    out = pd.concat([keys] * reps, ignore_index=True)
    for name in ("measure", "statistic", "n", "value", "se", "ci_low", "ci_high"):
        out[name] = blocks[name].to_numpy()
    out["n"] = out["n"].astype(np.int64)
    suppressed = (out["n"] < min_n).to_numpy()
    _suppress(out, suppressed, ["value", "se", "ci_low", "ci_high"])
    out["previous_wave"] = _as_wave_dtype(np.tile(previous, reps), keys[wave].dtype)

    pos = np.tile(prev_pos, reps)
    offset = np.repeat(np.arange(reps) * len(keys), len(keys))
    has_prev = pos >= 0
    prev_sup = np.where(has_prev, suppressed[np.where(has_prev, pos + offset, 0)], True)
    either = suppressed | prev_sup
    change = np.where(either, np.nan, blocks["change"].to_numpy(np.float64))
    change_se = np.where(either, np.nan, blocks["change_se"].to_numpy(np.float64))
    p_value = np.where(either, np.nan, blocks["p_value"].to_numpy(np.float64))
    families = np.tile(np.arange(len(keys)), reps)
    q_value = _bh(p_value, families=families) if adjust else np.full(len(out), np.nan)
    evidence = q_value if adjust else p_value
    reasons = np.select(
        [suppressed, pd.isna(out["previous_wave"]).to_numpy(), ~has_prev],
        [SUPPRESSED, NO_PREVIOUS_WAVE, NO_PREVIOUS_WAVE_DATA],
        SUPPRESSED,
    )
    labels = _verdict(
        change,
        evidence,
        alpha=alpha,
        up=CHANGE_LABELS[0],
        down=CHANGE_LABELS[1],
        none=CHANGE_LABELS[2],
    )
    out["change"] = change
    out["change_se"] = change_se
    out["p_value"] = p_value
    out["q_value"] = q_value
    out["significant"] = _significant_q(evidence, alpha=alpha)
    out["verdict"] = np.where(pd.isna(labels), reasons, labels).astype(object)
    out["suppressed"] = suppressed
    return out


#: The columns of :func:`mean_change`'s table after the group columns.
MEAN_CHANGE_COLUMNS: Final[tuple[str, ...]] = (
    "measure", "from_wave", "to_wave", "n_from", "n_to", "mean_from", "mean_to", "change",
    "se", "df", "ci_low", "ci_high", "p_value", "suppressed",
)  # fmt: skip


def mean_change(
    df: pd.DataFrame,
    columns: str | Sequence[str],
    *,
    from_wave: str,
    to_wave: str,
    wave: str = "wave",
    by: str | Sequence[str] | None = None,
    cluster: str | None = None,
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
) -> pd.DataFrame:
    """Change of each group's mean rating from one wave to another, with its interval and test.

    The change between any two waves (e.g. since an action plan started), where :func:`trends`
    gives the change from the study's previous wave; between adjacent waves the two agree.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per respondent: the whole design (every wave and group of the study the
        estimate is part of), so that every account counts in the variance as in :func:`trends`.
    columns : str or sequence of str
        Rating columns; each gets its change.
    from_wave, to_wave : str, keyword-only
        The two waves (compared as text with the ``wave`` column); ``change = mean_to -
        mean_from``. A wave without rows gives ``n = 0`` (suppressed).
    wave : str, keyword-only
        Wave column.
    by : str or sequence of str, optional, keyword-only
        Grouping column(s); None (default): one group, the whole of ``df``.
    cluster : str, optional, keyword-only
        Column of the primary sampling unit (the customer account); None: respondents are
        independent.
    min_n, conf : keyword-only
        Small-cell minimum (either wave below it: ``suppressed``, every estimate NaN) and
        confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row per group of ``df`` and column: ``*by`` then :data:`MEAN_CHANGE_COLUMNS`:
        ``n_from, n_to`` (valid answers), ``mean_from, mean_to``, ``change``, ``se`` (of the
        change), ``df`` (of its t distribution), ``ci_low, ci_high`` (interval of the change),
        ``p_value`` (two-sided, no change), ``suppressed``.

    Raises
    ------
    DataError
        A missing column, a non-numeric rating, ``from_wave == to_wave``, or an invalid
        ``min_n``/``conf``.

    Notes
    -----
    With ``cluster``, the two waves of a group are domains :math:`a, b` of one design over all
    rows of ``df`` (``svydesign(ids = ~cluster)``) and the change :math:`\\hat\\Delta =
    \\bar y_b - \\bar y_a` has the linearization variance (Binder 1983; Lumley 2010, ch. 3)

    .. math:: \\widehat{Var}(\\hat\\Delta) = \\widehat{Var}(\\bar y_a) + \\widehat{Var}(\\bar y_b)
              - 2\\, \\widehat{Cov}(\\bar y_a, \\bar y_b), \\quad \\widehat{Cov} =
              \\frac{C}{C-1} \\sum_c (Z_{ac} - \\bar Z_a)(Z_{bc} - \\bar Z_b),

    :math:`Z_{dc}` the account totals of the influence values
    :math:`(y_i - \\bar y_d)/n_d` (formula in :mod:`csatlib.stats.design`): an account that
    answers in both waves makes the two means correlated, which a variance summing the two
    waves' variances ignores. Test and interval are Student's t on :math:`\\min(C_a, C_b) - 1`
    degrees of freedom, :math:`C_d` the accounts answering in wave :math:`d` (as
    :func:`trends`): :math:`\\hat\\Delta \\pm t_{df, (1+conf)/2}\\, se`. Without ``cluster``
    the waves are independent samples: Welch's t, :math:`se^2 = s_a^2/n_a + s_b^2/n_b` and the
    Welch-Satterthwaite df.

    Checked against R 4.2.2, survey 4.1.1: ``svycontrast(svyby(~y, ~interaction(group,
    wave), design, svymean, covmat = TRUE), ...)`` (change and SE to 1e-8), and against
    :func:`trends` for adjacent waves, in tests/stats/test_scores_change.py.

    References
    ----------
    Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex
    surveys. International Statistical Review, 51(3), 279-292.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, ch. 2-3.
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. Biometrika, 34(1/2), 28-35.
    """
    conf = check_conf(conf, func="mean_change")
    min_n = check_min_n(min_n, func="mean_change")
    columns = _as_list(columns, "columns")
    by = [] if by is None else _as_list(by)
    require_columns(df, [*by, wave, *columns, *_optional(cluster)], "mean_change")
    from_wave, to_wave = str(from_wave), str(to_wave)
    if from_wave == to_wave:
        raise DataError(
            f"mean_change: from_wave and to_wave must be two different waves; found {from_wave!r}"
            " twice"
        )
    groups, n_groups, decode = _cells(df, by)
    present = _observed(groups, n_groups)
    labels = df[wave].astype(object).map(str, na_action="ignore").to_numpy()
    step = np.select([labels == from_wave, labels == to_wave], [0, 1], -1)
    cells = np.where((step >= 0) & (groups < n_groups), 2 * groups + step, 2 * n_groups)
    observed = np.ravel(np.column_stack([2 * present, 2 * present + 1]))  # from, to, from ...
    prev_pos = np.where(np.arange(len(observed)) % 2 == 1, np.arange(len(observed)) - 1, -1)
    frames = []
    for column in columns:
        rows = _mean_rows(df, column, cells, 2 * n_groups, observed, prev_pos, cluster, conf)
        before, after = rows.iloc[0::2].reset_index(drop=True), rows.iloc[1::2]
        frame = decode(present).reset_index(drop=True)
        frame["measure"] = column
        frame["from_wave"], frame["to_wave"] = from_wave, to_wave
        frame["n_from"] = before["n"].to_numpy(np.int64)
        frame["n_to"] = after["n"].to_numpy(np.int64)
        frame["mean_from"] = before["value"].to_numpy(np.float64)
        frame["mean_to"] = after["value"].to_numpy(np.float64)
        for name in ("change", "se", "df", "p_value"):
            source = {"se": "change_se", "df": "change_df"}.get(name, name)
            frame[name] = after[source].to_numpy(np.float64)
        half = _t_quantile(conf, frame["df"].to_numpy(np.float64)) * frame["se"].to_numpy()
        frame["ci_low"] = frame["change"] - half
        frame["ci_high"] = frame["change"] + half
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out = out[[*by, *MEAN_CHANGE_COLUMNS[:-1]]]
    out["suppressed"] = (out["n_from"] < min_n) | (out["n_to"] < min_n)
    estimates = ["mean_from", "mean_to", "change", "se", "df", "ci_low", "ci_high", "p_value"]
    _suppress(out, out["suppressed"].to_numpy(), estimates)
    return out


def _study_waves(column: pd.Series, waves: Sequence[str] | None) -> list[str]:
    """The study's wave order: ``waves`` as given (checked to hold every wave of the column),
    else :func:`csatlib.roles.wave_order` of the column."""
    present = roles.wave_order(column)
    if waves is None:
        return present
    if isinstance(waves, str):
        raise DataError(f"trends: waves must be a list of waves, oldest first; found {waves!r}")
    order = [str(w) for w in waves]
    unknown = [w for w in present if w not in order]
    if unknown or len(set(order)) != len(order):
        raise DataError(
            f"trends: waves must list every wave of the data once, oldest first; found {order}, "
            f"data has {present}"
        )
    return order


def _previous_cells(
    keys: pd.DataFrame, by: list[str], wave: str, order: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's previous wave in the study (None for the first) and the position of the same
    group's cell in it among ``keys`` (-1: the group has no rows in that wave)."""
    labels = keys[wave].astype(object).map(str).to_numpy()
    before = {w: roles.previous_wave(order, w) for w in order}
    previous = np.array([before[w] for w in labels], dtype=object)
    here = keys[by].copy()
    here["_wave"] = labels
    there = keys[by].copy()
    there["_wave"] = previous
    index = pd.MultiIndex.from_frame(here)
    positions = index.get_indexer(pd.MultiIndex.from_frame(there))
    return previous, np.where(pd.isna(previous), -1, positions)


def _as_wave_dtype(values: np.ndarray, dtype: Any) -> pd.Series:
    """Previous waves in the wave column's dtype when it can hold them, else as text."""
    series = pd.Series(values, dtype=object)
    if isinstance(dtype, pd.CategoricalDtype):
        known = {str(c) for c in dtype.categories}
        if set(series.dropna()) <= known:
            lookup = {str(c): c for c in dtype.categories}
            return pd.Series(pd.Categorical(series.map(lookup), dtype=dtype), index=series.index)
    return series


def _mean_rows(
    df: pd.DataFrame,
    column: str,
    cells: np.ndarray,
    ncells: int,
    observed: np.ndarray,
    prev_pos: np.ndarray,
    cluster: str | None,
    conf: float,
) -> pd.DataFrame:
    """A measure's mean per cell with its change from the previous cell (before suppression)."""
    x = _column(df, column)
    has = prev_pos >= 0
    prev = np.where(has, prev_pos, 0)
    if cluster is None:
        m = _mean_stats(x, cells, ncells, conf)
        n, value, se = m["n"][observed], m["mean"][observed], m["se"][observed]
        ci_low, ci_high = m["ci_low"][observed], m["ci_high"][observed]
        var1, var0 = se**2, se[prev] ** 2
        change_se = np.sqrt(var1 + var0)
        df_t = _welch_df(var1, var0, n, n[prev])
        p = _welch_p(value - value[prev], change_se, var1, var0, n, n[prev])
    else:
        codes = cluster_codes(df[cluster], len(x))
        design = _domain_design(x, cells, ncells, codes)
        n, value = design.n[observed], design.mean[observed]
        se = _se_and_deff(design)[0][observed]
        half = _z_quantile(conf) * interval_se(se, np.sqrt(design.var_own[observed]))
        ci_low, ci_high = value - half, value + half
        cov = design.cov(observed, np.where(has, observed[prev], -1))
        with np.errstate(invalid="ignore"):
            change_se = np.sqrt(np.clip(se**2 + se[prev] ** 2 - 2.0 * cov, 0.0, None))
        # Student's t on the smaller wave's accounts minus one (as the NPS change)
        accounts = design.n_clusters[observed]
        df_t = np.minimum(accounts, np.where(has, accounts[prev], np.nan)) - 1.0
        df_t = np.where(df_t >= 1, df_t, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_stat = (value - value[prev]) / change_se
            p = 2.0 * stats.t.sf(np.abs(t_stat), df_t)
        p = np.where(change_se == 0, np.nan, p)
    return pd.DataFrame(
        {
            "measure": column,
            "statistic": "mean",
            "n": n,
            "value": value,
            "se": se,
            "ci_low": ci_low,
            "ci_high": ci_high,
            "change": np.where(has, value - value[prev], np.nan),
            "change_se": np.where(has, change_se, np.nan),
            "p_value": np.where(has, p, np.nan),
            # degrees of freedom of the change's test (and of mean_change's interval)
            "change_df": np.where(has, df_t, np.nan),
        }
    )


def _welch_df(var1: np.ndarray, var0: np.ndarray, n1: np.ndarray, n0: np.ndarray) -> np.ndarray:
    """Welch-Satterthwaite degrees of freedom of the difference of two independent means."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (var1 + var0) ** 2 / (var1**2 / (n1 - 1.0) + var0**2 / (n0 - 1.0))


def _welch_p(
    change: np.ndarray,
    change_se: np.ndarray,
    var1: np.ndarray,
    var0: np.ndarray,
    n1: np.ndarray,
    n0: np.ndarray,
) -> np.ndarray:
    """Two-sided Welch p-value; with no variance (every answer alike on both sides) no test:
    NaN, never the certainty of p = 0."""
    welch_df = _welch_df(var1, var0, n1, n0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_stat = change / change_se
    p = 2.0 * stats.t.sf(np.abs(t_stat), welch_df)
    return np.where(change_se == 0, np.nan, p)


def _nps_rows(
    df: pd.DataFrame,
    column: str,
    keys: pd.DataFrame,
    by: list[str],
    wave: str,
    previous: np.ndarray,
    cluster: str | None,
    conf: float,
) -> pd.DataFrame:
    """The NPS per cell (nps_by_group) and its change from the study's previous wave
    (nps_wave_change), aligned with ``keys``."""
    design = {} if cluster is None else {"cluster": cluster}
    keys_cols = [*by, wave]
    t = nps_by_group(df, keys_cols, score=column, min_n=1, conf=conf, **design)
    if len(t) != len(keys):
        raise DataError(f"trends: NPS groups of {column!r} do not match the score groups")
    changes = nps_wave_change(df, by=by, wave=wave, score=column, min_n=1, conf=conf, **design)
    here = pd.MultiIndex.from_frame(_text_keys(keys, keys_cols))
    found = here.get_indexer(pd.MultiIndex.from_frame(_text_keys(changes, keys_cols)))
    from_previous = changes["previous_wave"].astype(object).map(str, na_action="ignore")
    use = (found >= 0) & (from_previous.to_numpy() == previous[np.maximum(found, 0)])
    change = np.full(len(keys), np.nan)
    change_se = np.full(len(keys), np.nan)
    p = np.full(len(keys), np.nan)
    change[found[use]] = changes["change"].to_numpy(np.float64)[use]
    change_se[found[use]] = changes["se"].to_numpy(np.float64)[use]
    p[found[use]] = changes["p_value"].to_numpy(np.float64)[use]
    return pd.DataFrame(
        {
            "measure": column,
            "statistic": "nps",
            "n": t["n"].to_numpy(np.float64),
            "value": t["score"].to_numpy(np.float64),
            "se": t["se"].to_numpy(np.float64),
            "ci_low": t["ci_low"].to_numpy(np.float64),
            "ci_high": t["ci_high"].to_numpy(np.float64),
            "change": change,
            "change_se": change_se,
            "p_value": p,
        }
    )


def _text_keys(frame: pd.DataFrame, keys_cols: list[str]) -> pd.DataFrame:
    """Group keys with the wave as text, for matching tables of different dtypes."""
    out = frame[keys_cols[:-1]].copy()
    out["_wave"] = frame[keys_cols[-1]].astype(object).map(str, na_action="ignore").to_numpy()
    return out
