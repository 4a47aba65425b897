"""Loyalty: reliability of the loyalty items (Cronbach's alpha) and the 0-100 loyalty index.

A relationship survey asks two or more loyalty items (codebook role ``loyalty``; the sample asks
four: emotional, attitudinal, cognitive and referral, 1-10).  This module checks that they measure
one thing (:func:`cronbach_alpha`, :func:`item_total_correlations`), combines them into one index
per respondent (:func:`loyalty_index`) and reports the index by group (:func:`loyalty_summary`).
Reverse-keyed items are reverse-coded by cleaning (codebook ``reverse: true``); nothing here
reverses anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from csatlib import roles
from csatlib.config import DEFAULT_CONF, DEFAULT_MIN_N
from csatlib.errors import DataError
from csatlib.validation import check_conf, check_min_n, require_columns

__all__ = [
    "AlphaResult",
    "cronbach_alpha",
    "item_total_correlations",
    "loyalty_index",
    "loyalty_summary",
]


@dataclass(frozen=True, eq=False)
class AlphaResult:
    """Cronbach's alpha of a set of items (listwise complete rows).

    Attributes
    ----------
    alpha : float
        Raw alpha from the covariance matrix (R psych ``alpha()$total$raw_alpha``).
    std_alpha : float
        Standardized alpha from the correlation matrix (psych ``std.alpha``).
    n : int
        Complete rows used (listwise deletion).
    k : int
        Number of items.
    item_stats : pandas.DataFrame
        Indexed by item: ``mean``, ``sd`` (on the complete rows), ``r_drop`` (corrected item-total
        correlation, psych ``r.drop``), ``alpha_if_dropped`` (raw alpha of the other items, psych
        ``alpha.drop$raw_alpha``; NaN when only two items are given).
    """

    alpha: float
    std_alpha: float
    n: int
    k: int
    item_stats: pd.DataFrame


def _label(value: object) -> object:
    """Index label as a plain Python value, so messages read `row 13`, not `np.int64(13)`."""
    return value.item() if isinstance(value, np.generic) else value


def _as_float(column: pd.Series) -> np.ndarray:
    """Float array of a numeric column, <NA> as NaN (works for Int64, Float64, int and float)."""
    return column.to_numpy(dtype="float64", na_value=np.nan)


def _check_numeric(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    require_columns(df, columns, what)
    for c in columns:
        dtype = df[c].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            raise DataError(f"{what}: column {c!r} must be numeric (e.g. Int64); found {dtype}")


def _complete_items(items: pd.DataFrame, what: str) -> tuple[np.ndarray, list[str]]:
    """Validated float matrix of the listwise-complete rows of ``items``."""
    if not isinstance(items, pd.DataFrame):
        raise DataError(f"{what}: expected a DataFrame of items, found {type(items).__name__}")
    names = [str(c) for c in items.columns]
    if len(names) < 2:
        raise DataError(f"{what}: expected at least 2 item columns, found {names}")
    if len(set(names)) != len(names):
        raise DataError(f"{what}: item columns must be unique, found {names}")
    _check_numeric(items, list(items.columns), what)
    x = np.column_stack([_as_float(items[c]) for c in items.columns])
    x = x[~np.isnan(x).any(axis=1)]
    if x.shape[0] < 2:
        raise DataError(
            f"{what}: expected at least 2 rows with every item answered, found {x.shape[0]} "
            f"(of {len(items)} rows; items {names})"
        )
    return x, names


def _item_rest(cov: np.ndarray) -> dict[str, np.ndarray]:
    """Item-total quantities from the covariance matrix (closed forms, no refitting)."""
    total_var = cov.sum()
    item_var = np.diag(cov)
    row = cov.sum(axis=1)  # cov(item, total)
    rest_var = total_var - 2.0 * row + item_var  # var(total - item)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_total = row / np.sqrt(item_var * total_var)
        r_drop = (row - item_var) / np.sqrt(item_var * rest_var)
    return {"rest_var": rest_var, "r_total": r_total, "r_drop": r_drop}


def cronbach_alpha(items: pd.DataFrame) -> AlphaResult:
    """Cronbach's alpha, standardized alpha and item statistics of a set of items.

    Parameters
    ----------
    items : pandas.DataFrame
        One numeric column per item (Int64 with <NA> accepted), one row per respondent, at least
        two items.  Rows with any missing item are dropped (listwise deletion).

    Returns
    -------
    AlphaResult
        ``alpha``, ``std_alpha``, ``n``, ``k`` and ``item_stats`` (``mean``, ``sd``, ``r_drop``,
        ``alpha_if_dropped`` per item).  Alpha is NaN when the total score has no variance.

    Raises
    ------
    DataError
        Fewer than two items, a non-numeric item, or fewer than two complete rows.

    Notes
    -----
    With ``k`` items, item variances :math:`\\sigma_i^2` and total-score variance
    :math:`\\sigma_X^2` (sample variances, ddof=1)

    .. math:: \\alpha = \\frac{k}{k-1}\\Bigl(1 - \\frac{\\sum_i \\sigma_i^2}{\\sigma_X^2}\\Bigr),
        \\qquad \\alpha_{std} = \\frac{k\\bar r}{1 + (k-1)\\bar r}

    with :math:`\\bar r` the mean off-diagonal correlation.  ``r_drop`` is the correlation of an
    item with the sum of the other items and ``alpha_if_dropped`` the raw alpha of the other
    ``k - 1`` items; both come from the covariance matrix in closed form.  Item means and SDs are
    computed on the same complete rows (psych uses all available answers per item; identical when
    nothing is missing).

    Tested against the published psych value for R's ``attitude`` data (alpha.scale example,
    0.8431428), against psych ``alpha(sim.congeneric())`` (raw_alpha, alpha.drop, r.drop), and
    against brute force (average-covariance form, refit without each item, pandas correlations).

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika, 16(3), 297-334.
    Revelle, W. (2024). psych: Procedures for Psychological, Psychometric, and Personality
    Research, function ``alpha``.
    """
    x, names = _complete_items(items, "cronbach_alpha")
    n, k = x.shape
    cov = np.cov(x, rowvar=False, ddof=1)
    total_var = cov.sum()
    trace = np.trace(cov)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = k / (k - 1) * (1.0 - trace / total_var) if total_var > 0 else np.nan
        sd = np.sqrt(np.diag(cov))
        corr = cov / np.outer(sd, sd)
    mean_r = (np.nansum(corr) - k) / (k * (k - 1)) if np.all(sd > 0) else np.nan
    std_alpha = k * mean_r / (1.0 + (k - 1) * mean_r)

    rest = _item_rest(cov)
    if k >= 3:
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha_drop = (k - 1) / (k - 2) * (1.0 - (trace - np.diag(cov)) / rest["rest_var"])
        alpha_drop = np.where(rest["rest_var"] > 0, alpha_drop, np.nan)
    else:
        alpha_drop = np.full(k, np.nan)
    item_stats = pd.DataFrame(
        {
            "mean": x.mean(axis=0),
            "sd": sd,
            "r_drop": rest["r_drop"],
            "alpha_if_dropped": alpha_drop,
        },
        index=pd.Index(names, name="item"),
    )
    return AlphaResult(
        alpha=float(alpha),
        std_alpha=float(std_alpha),
        n=int(n),
        k=int(k),
        item_stats=item_stats,
    )


def item_total_correlations(items: pd.DataFrame) -> pd.DataFrame:
    """Item-total and corrected item-total (item-rest) correlations.

    Parameters
    ----------
    items : pandas.DataFrame
        One numeric column per item, at least two; rows with a missing item are dropped.

    Returns
    -------
    pandas.DataFrame
        Indexed by item: ``n`` (complete rows used), ``r_total`` (correlation of the item with the
        sum of all items, psych ``raw.r``), ``r_drop`` (with the sum of the other items, psych
        ``r.drop``).

    Notes
    -----
    With covariance matrix :math:`C`, total :math:`S = \\sum_{ij} C_{ij}` and row sums
    :math:`c_i = \\sum_j C_{ij}`:
    :math:`r_{total,i} = c_i / \\sqrt{C_{ii} S}`,
    :math:`r_{drop,i} = (c_i - C_{ii}) / \\sqrt{C_{ii}(S - 2c_i + C_{ii})}`.
    Tested against pandas ``corr`` of each item with the row sum of the other items.

    References
    ----------
    Nunnally, J. C., & Bernstein, I. H. (1994). Psychometric Theory (3rd ed.), ch. 8.
    """
    x, names = _complete_items(items, "item_total_correlations")
    cov = np.cov(x, rowvar=False, ddof=1)
    rest = _item_rest(cov)
    return pd.DataFrame(
        {
            "n": np.full(len(names), x.shape[0]),
            "r_total": rest["r_total"],
            "r_drop": rest["r_drop"],
        },
        index=pd.Index(names, name="item"),
    )


def _item_columns(items: Mapping[str, str] | Sequence[str]) -> list[str]:
    if isinstance(items, Mapping):
        columns = [str(v) for v in items.values()]
    elif isinstance(items, str):
        raise DataError(
            f"items: expected a list of columns or a mapping, found the string {items!r}"
        )
    else:
        columns = [str(c) for c in items]
    if not columns:
        raise DataError("items: expected at least one loyalty item column, found none")
    if len(set(columns)) != len(columns):
        raise DataError(f"items: columns must be unique, found {columns}")
    return columns


def _default_items(
    df: pd.DataFrame, items: Mapping[str, str] | Sequence[str] | None
) -> Mapping[str, str] | Sequence[str]:
    if items is not None:
        return items
    found = roles.names(df, "loyalty")
    if not found:
        raise DataError(
            "items: no loyalty items given and none in the table's codebook roles (role "
            "'loyalty'); pass items=[...]"
        )
    return found


def _item_scale(
    df: pd.DataFrame, item: str, scale: tuple[float, float] | Mapping[str, Any] | None
) -> tuple[float, float]:
    return roles.given_scale(df, item, scale, what="loyalty_index")


def _clustered_se(
    frame: pd.DataFrame, keys: list[str], clusters: pd.Series, index: pd.Index
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clustered SE, design effect and the SE the interval uses
    (:func:`csatlib.stats.design.interval_se`) of the mean index of each group (one design
    over all rows; :func:`csatlib.stats.design.domain_means`)."""
    from csatlib.stats.design import domain_means, interval_se

    def label(values: tuple) -> str:
        return "\x1f".join(map(str, values))

    raw = list(zip(*(frame[k].astype(object) for k in keys), strict=True))
    labels = np.array([None if any(pd.isna(v) for v in r) else label(r) for r in raw], dtype=object)
    result = domain_means(
        frame["_index"].to_numpy(float), labels, clusters=clusters.to_numpy(object)
    )
    wanted = [label(k if isinstance(k, tuple) else (k,)) for k in index]
    table = result.table.reindex(wanted)
    se, own = table["se"].to_numpy(float), table["se_respondents"].to_numpy(float)
    return se, table["deff"].to_numpy(float), interval_se(se, own)


def _check_scale(scale: tuple[float, float]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError) as exc:
        raise DataError(f"scale: expected (min, max), found {scale!r}") from exc
    if not lo < hi:
        raise DataError(f"scale: expected min < max, found {scale!r}")
    return lo, hi


def loyalty_index(
    df: pd.DataFrame,
    items: Mapping[str, str] | Sequence[str] | None = None,
    *,
    scale: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    min_items: int | None = None,
) -> pd.Series:
    """Loyalty index 0-100 per respondent: the mean of the answered items, rescaled.

    Parameters
    ----------
    df : pandas.DataFrame
        Responses, one row per respondent.
    items : mapping or sequence of str, optional
        The loyalty item columns, either a list or a mapping dimension -> column; None means
        the columns with codebook role ``loyalty`` (``df.attrs["roles"]``).  Items must already
        be reverse-coded where needed: cleaning does that (codebook ``reverse: true``); this
        function averages the values as they are.
    scale : (min, max), mapping item -> (min, max), or None
        Range of every item, or of each item; None reads each item's scale from
        ``df.attrs["scales"]``.  A value outside it raises :class:`DataError`.
    min_items : int, optional
        Smallest number of answered items for an index; respondents with fewer get <NA>.
        Default: all items but one when there are three or more (3 of 4), else all of them.

    Returns
    -------
    pandas.Series
        Float64 named ``loyalty_index``, same index as ``df``; <NA> where fewer than
        ``min_items`` items were answered.

    Notes
    -----
    :math:`L = 100\\,\\overline{(x_i - min_i) / (max_i - min_i)}`, the mean over the answered
    items of each item rescaled to 0-1 (don't-know is <NA> and does not count); with one scale
    for every item this is :math:`100\\,(\\bar x - min) / (max - min)`.  Averaging available
    items gives each answered item equal weight; with the default ``min_items`` (3 of 4) at most
    one dimension is missing.  Tested against hand-computed values.

    References
    ----------
    Rundle-Thiele, S. (2005). Exploring loyal qualities: assessing survey-based loyalty measures.
    Journal of Services Marketing, 19(7), 492-500 (the four loyalty dimensions).
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"loyalty_index: expected a DataFrame, found {type(df).__name__}")
    columns = _item_columns(_default_items(df, items))
    _check_numeric(df, columns, "loyalty_index")
    bounds = np.array([_check_scale(_item_scale(df, c, scale)) for c in columns])
    lo, hi = bounds[:, 0], bounds[:, 1]
    if min_items is None:
        min_items = len(columns) - 1 if len(columns) >= 3 else len(columns)
    if isinstance(min_items, bool) or not isinstance(min_items, int | np.integer):
        raise DataError(f"min_items: expected an integer, found {min_items!r}")
    if not 1 <= min_items <= len(columns):
        raise DataError(
            f"min_items: expected 1..{len(columns)} (the number of items {columns}), "
            f"found {min_items}"
        )
    x = np.column_stack([_as_float(df[c]) for c in columns])
    bad = ~np.isnan(x) & ((x < lo) | (x > hi))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"loyalty_index: column {columns[col]!r}, row {_label(df.index[row])!r}: value "
            f"{x[row, col]:g} is outside the scale {lo[col]:g}-{hi[col]:g} "
            f"({int(bad.sum())} value(s) out of range in total)"
        )
    answered = (~np.isnan(x)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.nansum((x - lo) / (hi - lo), axis=1) / answered * 100.0
    index[answered < min_items] = np.nan
    return pd.Series(
        pd.array(index, dtype="Float64"),
        index=df.index,
        name="loyalty_index",
    )


def loyalty_summary(
    df: pd.DataFrame,
    items: Mapping[str, str] | Sequence[str] | None = None,
    *,
    by: str | Sequence[str],
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
    scale: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    min_items: int | None = None,
    cluster: str | None = None,
) -> pd.DataFrame:
    """Mean loyalty index with a t confidence interval and Cronbach's alpha per group.

    With ``cluster`` (the account column) each group is a domain of one design over ``df``
    with accounts as clusters (:func:`csatlib.stats.design.domain_means`, equal to R survey's
    ``svyby(~index, ~group, svydesign(ids = ~account), svymean)``): ``se`` is the clustered
    linearization SE and the interval is normal, as survey's ``confint``, on that SE with the
    design effect floored at 1 (:func:`csatlib.stats.design.interval_se`: never narrower than
    for independent respondents); ``deff`` is added.

    Parameters
    ----------
    df : pandas.DataFrame
        Responses.
    items : mapping or sequence of str
        Loyalty item columns (see :func:`loyalty_index`); already reverse-coded by cleaning.
    by : str or sequence of str
        Grouping column(s), e.g. ``"country"`` or ``["country", "wave"]``.  Rows with a missing
        group key are left out; only observed category combinations are reported.
    min_n : int
        Groups with fewer than ``min_n`` respondents with an index are suppressed (an int >= 1);
        alpha is NaN when fewer than ``min_n`` respondents, or fewer than two, answered every
        item, and ``sd``, ``se`` and the interval are NaN for a group of one.
    conf : float
        Confidence level of the interval.
    scale, min_items
        Passed to :func:`loyalty_index`.

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns, ``n`` (respondents with an index), ``score`` (mean
        index 0-100), ``sd``, ``se``, ``ci_low``, ``ci_high``, ``alpha`` (raw Cronbach's alpha of
        the items in the group), ``alpha_n`` (complete rows behind it), ``suppressed``.  Suppressed
        rows keep ``n`` and ``alpha_n`` and have NaN in every estimate column.

    Notes
    -----
    :math:`\\bar L \\pm t_{(1+conf)/2,\\,n-1}\\, s/\\sqrt{n}`; alpha as in :func:`cronbach_alpha`.
    Tested against scipy ``stats.t.interval`` and per-group :func:`cronbach_alpha`.

    References
    ----------
    Cronbach, L. J. (1951). Psychometrika, 16(3), 297-334.
    """
    keys = [by] if isinstance(by, str) else list(by)
    if not keys:
        raise DataError("loyalty_summary: expected at least one grouping column in `by`")
    require_columns(df, keys, "loyalty_summary")
    min_n = check_min_n(min_n, func="loyalty_summary")
    conf = check_conf(conf, func="loyalty_summary")
    columns = _item_columns(_default_items(df, items))
    index = loyalty_index(df, columns, scale=scale, min_items=min_items)

    frame = df[keys].copy()
    frame["_index"] = index.to_numpy(dtype="float64", na_value=np.nan)
    frame["_complete"] = df[columns].notna().all(axis=1).to_numpy()
    grouped = frame.groupby(keys, observed=True, sort=True)
    out = (
        grouped["_index"]
        .agg(["count", "mean", "std"])
        .rename(columns={"count": "n", "mean": "score", "std": "sd"})
    )
    out["alpha_n"] = grouped["_complete"].sum().astype("int64")
    n = out["n"].to_numpy(dtype="float64")
    out["se"] = out["sd"] / np.sqrt(n)
    half = stats.t.ppf((1 + conf) / 2, np.maximum(n - 1, 1)) * out["se"]
    if cluster is not None:
        out["se"], out["deff"], se_interval = _clustered_se(frame, keys, df[cluster], out.index)
        half = stats.norm.ppf((1 + conf) / 2) * se_interval
    out["ci_low"] = out["score"] - half
    out["ci_high"] = out["score"] + half

    alphas = pd.Series(np.nan, index=out.index, dtype="float64")
    # Cronbach's alpha needs two complete rows, whatever min_n allows.
    eligible = (out["alpha_n"] >= max(min_n, 2)) & (out["n"] >= min_n) & (len(columns) >= 2)
    item_groups = df[[*keys, *columns]].groupby(keys, observed=True, sort=True)
    for key, sub in item_groups:
        label = key[0] if len(keys) == 1 and isinstance(key, tuple) else key
        if eligible.loc[label]:
            alphas.loc[label] = cronbach_alpha(sub[columns]).alpha
    out["alpha"] = alphas
    out["suppressed"] = out["n"] < min_n
    estimates = ["score", "sd", "se", "ci_low", "ci_high", "alpha"]
    out.loc[out["suppressed"], estimates] = np.nan
    out["n"] = out["n"].astype("int64")
    out = out.reset_index()
    extra = ["deff"] if cluster is not None else []
    return out[
        [*keys, "n", "score", "sd", "se", *extra, "ci_low", "ci_high", "alpha", "alpha_n"]
        + ["suppressed"]
    ]
