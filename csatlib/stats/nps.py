"""Net Promoter Score: classification, score with interval, by group, and difference tests.

Respondents answer "How likely is it that you would recommend ...?" on a 0-10 scale; 9-10 are
promoters, 7-8 passives, 0-6 detractors, and the NPS is the share of promoters minus the share of
detractors, in points (-100 to 100). Every estimate here is computed from a handful of (weighted)
sums, so one group or ten thousand groups go through the same code (:func:`_from_sums`), and
:func:`nps_by_group` equals :func:`nps` run on each group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype
from scipy import stats

from csatlib.config import DEFAULT_CONF, DEFAULT_MIN_N
from csatlib.errors import DataError
from csatlib.validation import check_alpha, check_conf, check_min_n, require_columns

__all__ = [
    "CATEGORIES",
    "PSEUDO_COUNTS",
    "NPSResult",
    "NPSDifference",
    "classify",
    "nps",
    "nps_by_group",
    "nps_difference",
    "nps_wave_change",
    "nps_vs_rest",
]

#: Category labels of :func:`classify`, in order.
CATEGORIES: Final[tuple[str, str, str]] = ("detractor", "passive", "promoter")

#: Pseudo-counts added to (detractors, passives, promoters) for the adjusted Wald interval:
#: 3 pseudo-respondents split 1/4, 1/2, 1/4 (Rocks 2016; default ``pseudo_observations`` of the
#: author's R package NPS 2.x ``nps_test()``).
PSEUDO_COUNTS: Final[tuple[float, float, float]] = (0.75, 1.5, 0.75)

_METHOD_UNWEIGHTED: Final = "adjusted-wald"
_METHOD_WEIGHTED: Final = "adjusted-wald-linearized"
# Below this variance of the -1/0/1 indicator every respondent is in one category.
_DEGENERATE_VAR: Final = 1e-12


# --------------------------------------------------------------------------- results


def _round(value: float, digits: int) -> float | None:
    """Round for JSON; NaN and infinities become None (JSON has no NaN)."""
    return round(float(value), digits) if math.isfinite(value) else None


@dataclass(frozen=True)
class NPSResult:
    """Net Promoter Score of one sample.

    Attributes
    ----------
    score : float
        NPS in points, ``100 * (promoters - detractors)``, -100..100.
    n : int
        Respondents with a valid score.
    promoters, passives, detractors : float
        (Weighted) shares, 0..1, summing to 1.
    se : float
        Standard error of ``score`` in points: trinomial (unweighted) or linearization (weighted).
        NaN for n = 1.
    ci_low, ci_high : float
        Confidence interval in points, clipped to [-100, 100]; see :func:`nps` for the method.
        NaN for n = 1.
    conf : float
        Confidence level of the interval.
    n_eff : float
        Kish effective sample size ``(sum w)^2 / sum w^2``; equals ``n`` unweighted.
    weighted : bool
        Whether survey weights were used.
    method : str
        Interval method: ``"adjusted-wald"`` or ``"adjusted-wald-linearized"``.
    """

    score: float
    n: int
    promoters: float
    passives: float
    detractors: float
    se: float
    ci_low: float
    ci_high: float
    conf: float
    n_eff: float
    weighted: bool
    method: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: points to 2 decimals, shares to 4, NaN as None."""
        d = asdict(self)
        for key in ("score", "se", "ci_low", "ci_high"):
            d[key] = _round(d[key], 2)
        for key in ("promoters", "passives", "detractors", "conf"):
            d[key] = _round(d[key], 4)
        d["n_eff"] = _round(d["n_eff"], 1)
        d["n"] = int(d["n"])
        d["weighted"] = bool(d["weighted"])
        return d


@dataclass(frozen=True)
class NPSDifference:
    """Difference of two independent NPS, ``a - b``, in points, with a two-sample z test.

    Attributes
    ----------
    diff : float
        ``score_a - score_b`` (points).
    se : float
        ``sqrt(se_a^2 + se_b^2)`` (points).
    z : float
        ``diff / se``.
    p_value : float
        Two-sided p-value of ``H0: NPS_a = NPS_b``.
    ci_low, ci_high : float
        Wald interval ``diff -/+ z_{1-alpha/2} * se``, clipped to [-200, 200].
    n_a, n_b : int
        Valid respondents in each sample.
    """

    diff: float
    se: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    n_a: int
    n_b: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: points to 2 decimals, z to 3, p-value to 6, NaN as None."""
        d = asdict(self)
        for key in ("diff", "se", "ci_low", "ci_high"):
            d[key] = _round(d[key], 2)
        d["z"] = _round(d["z"], 3)
        d["p_value"] = _round(d["p_value"], 6)
        return d


# --------------------------------------------------------------------------- validation


def _where(index: pd.Index | None, pos: int) -> str:
    """Human description of a row: its position and, when informative, its index label."""
    if index is None or isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return f"position {pos}"
    label = index[pos]
    label = label.item() if isinstance(label, np.generic) else label
    return f"row {label!r} (position {pos})"


def _as_list(by: str | Sequence[str], what: str = "by") -> list[str]:
    cols = [by] if isinstance(by, str) else list(by)
    if not cols:
        raise DataError(f"{what}: expected at least one column name, found an empty list")
    return cols


def _check_cutoffs(promoter_min: int, detractor_max: int, scale: tuple[int, int]) -> None:
    if (
        not isinstance(scale, tuple | list)
        or len(scale) != 2
        or not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in scale)
        or scale[0] >= scale[1]
    ):
        raise DataError(f"scale: expected (min, max) whole numbers with min < max, found {scale!r}")
    lo, hi = scale
    for name, value in (("promoter_min", promoter_min), ("detractor_max", detractor_max)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool):
            raise DataError(f"{name}: expected a whole number, found {value!r}")
    if not lo <= detractor_max < promoter_min <= hi:
        raise DataError(
            f"cut-offs: expected {lo} <= detractor_max < promoter_min <= {hi} on the "
            f"{lo}-{hi} scale, found detractor_max={detractor_max}, promoter_min={promoter_min}"
        )


def _to_float(values: Any, *, what: str) -> tuple[np.ndarray, pd.Index | None, bool]:
    """1-D numeric input as float64 with NaN for missing; non-numbers raise DataError.

    Also returns the input's index (a Series) for messages, and whether its dtype is integer
    (then no value can be fractional).
    """
    if isinstance(values, pd.DataFrame):
        raise DataError(f"{what}: expected one column of numbers, found a DataFrame")
    if np.ndim(values) != 1:
        raise DataError(f"{what}: expected a 1-D sequence of numbers, found ndim={np.ndim(values)}")
    s = values if isinstance(values, pd.Series) else pd.Series(values, copy=False)
    index = s.index if isinstance(values, pd.Series) else None
    if is_bool_dtype(s.dtype):
        raise DataError(f"{what}: expected numbers, found booleans (dtype {s.dtype})")
    if not is_numeric_dtype(s.dtype):
        raw = s.astype(object) if isinstance(s.dtype, pd.CategoricalDtype) else s
        coerced = pd.to_numeric(raw, errors="coerce")
        bad = (coerced.isna() & raw.notna()).to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{what}: expected numbers, found {raw.iloc[pos]!r} at {_where(index, pos)} "
                f"({int(bad.sum())} non-numeric value(s) in total)"
            )
        s = coerced
    integral = is_integer_dtype(s.dtype)
    return s.to_numpy(dtype="float64", na_value=np.nan), index, integral


def _check_scale(
    arr: np.ndarray,
    scale: tuple[int, int],
    *,
    what: str,
    index: pd.Index | None,
    integral: bool = False,
) -> None:
    """Raise DataError naming the first value that is not a whole number within ``scale``."""
    lo, hi = scale
    if len(arr) == 0:
        return
    # fast path (10M rows in ~10 ms): NaN-ignoring min/max, integrality only for float input
    with np.errstate(invalid="ignore"):
        in_range = not np.fmin.reduce(arr) < lo and not np.fmax.reduce(arr) > hi
        whole = integral or np.count_nonzero(np.rint(arr) != arr) == np.count_nonzero(np.isnan(arr))
    if in_range and whole:
        return
    with np.errstate(invalid="ignore"):
        bad = (arr < lo) | (arr > hi) | (np.rint(arr) != arr)
    bad &= ~np.isnan(arr)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        value = arr[pos]
        shown = int(value) if float(value).is_integer() else float(value)
        raise DataError(
            f"{what}: expected whole numbers on the {lo}-{hi} scale, found {shown!r} at "
            f"{_where(index, pos)} ({int(bad.sum())} invalid value(s) in total)"
        )


def _scores(
    values: Any, *, scale: tuple[int, int], what: str
) -> tuple[np.ndarray, pd.Index | None]:
    arr, index, integral = _to_float(values, what=what)
    _check_scale(arr, scale, what=what, index=index, integral=integral)
    return arr, index


def _weights(weights: Any, valid: np.ndarray, *, what: str) -> np.ndarray:
    """Weights as float64; only rows with a valid score must carry a finite weight >= 0."""
    w, index, _ = _to_float(weights, what=what)
    if len(w) != len(valid):
        raise DataError(
            f"{what}: expected one weight per score ({len(valid)}), found {len(w)} weights"
        )
    wv = w[valid]
    bad = ~np.isfinite(wv) | (wv < 0)
    if bad.any():
        pos = int(np.flatnonzero(valid)[np.flatnonzero(bad)[0]])
        raise DataError(
            f"{what}: expected a finite weight >= 0 for every valid score, found "
            f"{float(w[pos])!r} at {_where(index, pos)}"
        )
    return w


# --------------------------------------------------------------------------- core


def _z_quantile(conf: float) -> float:
    return float(stats.norm.ppf(0.5 + conf / 2.0))


def _key_dtype(nbins: int) -> type[np.signedinteger]:
    # Small integer keys: allocating and filling a 10M-row int64 temporary costs more than
    # the grouped sums themselves.
    if nbins < 2**15:
        return np.int16
    return np.int32 if nbins < 2**31 else np.int64


def _sums(
    cells: np.ndarray,
    ncells: int,
    scores: np.ndarray,
    weights: np.ndarray | None,
    promoter_min: int,
    detractor_max: int,
) -> dict[str, np.ndarray]:
    """Per-cell sums from which every estimate follows.

    ``cells`` holds each row's cell in ``0..ncells``; cell ``ncells`` collects rows left out
    (missing group key). One ``bincount`` over ``cell * 4 + category`` (category 0 detractor,
    1 passive, 2 promoter, 3 missing score) gives every count at once. With ``w = 1`` the sums
    are counts: ``sw = sw2 = n``, ``swp = sw2p`` = number of promoters, ...
    ``rows`` counts all rows of a cell, missing scores included (a group is observed when > 0).
    """
    nbins = (ncells + 1) * 4
    dtype = _key_dtype(nbins)
    category = (scores > detractor_max).view(np.int8) + (scores >= promoter_min).view(np.int8)
    category = np.where(np.isnan(scores), np.int8(3), category)
    key = cells.astype(dtype, copy=False) * dtype(4) + category
    counts = np.bincount(key, minlength=nbins).reshape(ncells + 1, 4)[:ncells].astype(np.float64)
    n = counts[:, :3].sum(axis=1)
    rows = counts.sum(axis=1)
    if weights is None:
        return {
            "rows": rows,
            "n": n,
            "sw": n,
            "sw2": n,
            "swp": counts[:, 2],
            "swd": counts[:, 0],
            "sw2p": counts[:, 2],
            "sw2d": counts[:, 0],
        }
    # weights of missing scores may be NaN: they only reach category 3, which is dropped
    sw = np.bincount(key, weights=weights, minlength=nbins).reshape(ncells + 1, 4)[:ncells]
    sw2 = np.bincount(key, weights=weights * weights, minlength=nbins)
    sw2 = sw2.reshape(ncells + 1, 4)[:ncells]
    return {
        "rows": rows,
        "n": n,
        "sw": sw[:, :3].sum(axis=1),
        "sw2": sw2[:, :3].sum(axis=1),
        "swp": sw[:, 2],
        "swd": sw[:, 0],
        "sw2p": sw2[:, 2],
        "sw2d": sw2[:, 0],
    }


def _from_sums(
    sums: dict[str, np.ndarray], *, weighted: bool, conf: float
) -> dict[str, np.ndarray]:
    """Vectorized NPS estimates from per-group sums (formulas in :func:`nps`)."""
    n, sw, sw2 = sums["n"], sums["sw"], sums["sw2"]
    swp, swd, sw2p, sw2d = sums["swp"], sums["swd"], sums["sw2p"], sums["sw2d"]
    a_det, a_pas, a_pro = PSEUDO_COUNTS
    z = _z_quantile(conf)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_pro = swp / sw
        p_det = swd / sw
        p_pas = (sw - swp - swd) / sw
        y = p_pro - p_det
        var = np.clip(p_pro + p_det - y * y, 0.0, None)  # variance of the -1/0/1 indicator
        if weighted:
            n_eff = sw * sw / sw2
            # sum w_i^2 (y_i - ybar)^2 expanded with y_i^2 = 1{pro} + 1{det}
            ssq = np.clip(sw2p + sw2d - 2.0 * y * (sw2p - sw2d) + y * y * sw2, 0.0, None)
            se = np.sqrt(n / (n - 1.0) * ssq) / sw
            # linearization variance relative to what Kish's n_eff predicts (1 for equal weights)
            rho = np.where(var > _DEGENERATE_VAR, ssq / (var * sw2), 1.0)
            m = n_eff
        else:
            n_eff = n
            se = np.sqrt(var / n)
            rho = np.ones_like(n)
            m = n
        total = m + a_det + a_pas + a_pro
        q_pro = (m * p_pro + a_pro) / total
        q_det = (m * p_det + a_det) / total
        centre = q_pro - q_det
        half = z * np.sqrt(rho * (q_pro + q_det - centre * centre) / total)
        # One respondent shows a score but no variance, so no standard error and no interval.
        single = n < 2
        return {
            "n_eff": np.where(n == 0, np.nan, n_eff),
            "promoters": p_pro,
            "passives": p_pas,
            "detractors": p_det,
            "score": 100.0 * y,
            "se": np.where(single, np.nan, 100.0 * se),
            "ci_low": np.where(single, np.nan, 100.0 * np.clip(centre - half, -1.0, 1.0)),
            "ci_high": np.where(single, np.nan, 100.0 * np.clip(centre + half, -1.0, 1.0)),
        }


def _difference_test(
    diff: np.ndarray, se: np.ndarray, conf: float, bound: float
) -> dict[str, np.ndarray]:
    """Two-sided z test and Wald interval of a difference; ``se == 0`` handled exactly."""
    zq = _z_quantile(conf)
    diff = np.asarray(diff, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se == 0, np.where(diff == 0, 0.0, np.sign(diff) * np.inf), diff / se)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return {
        "z": z,
        "p_value": p,
        "ci_low": np.clip(diff - zq * se, -bound, bound),
        "ci_high": np.clip(diff + zq * se, -bound, bound),
    }


def _group_codes(
    df: pd.DataFrame, by: Sequence[str]
) -> tuple[np.ndarray, int, Callable[[np.ndarray], pd.DataFrame]]:
    """Cell of every row, the number of cells, and a decoder from cells to group keys.

    Rows with a missing key are put in cell ``ncells``. Cells follow the sort order of
    ``groupby(sort=True)``: categorical keys in category order, other keys sorted. Key codes are
    combined arithmetically (``groupby().ngroup()`` is ~20x slower on 10 million rows); a cell
    may be unobserved, which :func:`_sums` reports as ``rows == 0``.
    """
    key_codes: list[np.ndarray] = []
    uniques: list[Any] = []
    for col in by:
        s = df[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            key_codes.append(s.cat.codes.to_numpy())
            uniques.append(s.dtype)
        else:
            codes, uniq = pd.factorize(s, sort=True)
            key_codes.append(codes)
            uniques.append(uniq)
    sizes = [len(u.categories) if isinstance(u, pd.CategoricalDtype) else len(u) for u in uniques]
    total = math.prod(sizes)
    dense = total <= 1_000_000
    dtype = _key_dtype((total + 1) * 4) if dense else np.int64
    combined = np.zeros(len(df), dtype=dtype)
    missing: np.ndarray | None = None
    for codes, size in zip(key_codes, sizes, strict=True):
        if len(codes) and codes.min() < 0:
            neg = codes < 0
            missing = neg if missing is None else missing | neg
        combined *= dtype(size)
        combined += codes
    if dense:
        if missing is not None:
            combined[missing] = total
        ncells = total
        observed_combined = None
    else:
        cells = np.full(len(df), -1, dtype=np.int64)
        keep = slice(None) if missing is None else ~missing
        inner, observed_combined = pd.factorize(combined[keep], sort=True)
        cells[keep] = inner
        ncells = len(observed_combined)
        cells[cells < 0] = ncells
        combined = cells

    def decode(cell_ids: np.ndarray) -> pd.DataFrame:
        flat = cell_ids if observed_combined is None else np.asarray(observed_combined)[cell_ids]
        positions = np.unravel_index(np.asarray(flat, dtype=np.int64), sizes)
        keys: dict[str, Any] = {}
        for col, uniq, pos in zip(by, uniques, positions, strict=True):
            if isinstance(uniq, pd.CategoricalDtype):
                keys[col] = pd.Categorical.from_codes(pos, dtype=uniq)
            else:
                keys[col] = uniq.take(pos)
        return pd.DataFrame(keys)

    return combined, ncells, decode


def _frame_scores(
    df: pd.DataFrame,
    score: str,
    weights: str | None,
    scale: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray | None]:
    s, _ = _scores(df[score], scale=scale, what=f"column {score!r}")
    w = None
    if weights is not None:
        w = _weights(df[weights], ~np.isnan(s), what=f"weights column {weights!r}")
    return s, w


def _by_group_sums(
    df: pd.DataFrame,
    by: list[str],
    *,
    score: str,
    weights: str | None,
    promoter_min: int,
    detractor_max: int,
    scale: tuple[int, int],
    func: str,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    _check_cutoffs(promoter_min, detractor_max, scale)
    require_columns(df, [*by, score, *([weights] if weights is not None else [])], func)
    s, w = _frame_scores(df, score, weights, scale)
    cells, ncells, decode = _group_codes(df, by)
    sums = _sums(cells, ncells, s, w, promoter_min, detractor_max)
    observed = np.flatnonzero(sums["rows"] > 0)
    return decode(observed), {k: v[observed] for k, v in sums.items()}


_ESTIMATE_COLUMNS: Final = (
    "n_eff",
    "promoters",
    "passives",
    "detractors",
    "score",
    "se",
    "ci_low",
    "ci_high",
)


# --------------------------------------------------------------------------- public API


def classify(
    scores: Any,
    *,
    promoter_min: int = 9,
    detractor_max: int = 6,
    scale: tuple[int, int] = (0, 10),
) -> pd.Series:
    """Classify likelihood-to-recommend scores as detractor, passive or promoter.

    Parameters
    ----------
    scores : array-like or pandas.Series
        Whole numbers on ``scale``; missing values (NaN, ``pd.NA``) stay missing.
    promoter_min, detractor_max : int, keyword-only
        ``score >= promoter_min`` is a promoter, ``score <= detractor_max`` a detractor, anything
        between a passive (defaults 9 and 6: promoters 9-10, passives 7-8, detractors 0-6).
    scale : (int, int), keyword-only
        Range of the question, ``(0, 10)`` or e.g. ``(1, 10)``.

    Returns
    -------
    pandas.Series
        Ordered categorical ``detractor < passive < promoter`` with the input's index (a Series
        input) and name (default ``"nps_category"``).

    Raises
    ------
    DataError
        A value is not a number, not a whole number, or outside ``scale`` (message names the value
        and its position), or the cut-offs do not fit the scale.
    """
    _check_cutoffs(promoter_min, detractor_max, scale)
    arr, index = _scores(scores, scale=scale, what="scores")
    codes = np.full(len(arr), -1, dtype=np.int8)
    codes[arr <= detractor_max] = 0
    codes[(arr > detractor_max) & (arr < promoter_min)] = 1
    codes[arr >= promoter_min] = 2
    cat = pd.Categorical.from_codes(codes, categories=list(CATEGORIES), ordered=True)
    name = scores.name if isinstance(scores, pd.Series) and scores.name is not None else None
    return pd.Series(cat, index=index, name=name or "nps_category")


def nps(
    scores: Any,
    weights: Any = None,
    *,
    conf: float = DEFAULT_CONF,
    promoter_min: int = 9,
    detractor_max: int = 6,
    scale: tuple[int, int] = (0, 10),
) -> NPSResult:
    """Net Promoter Score with standard error and adjusted Wald confidence interval.

    Parameters
    ----------
    scores : array-like or pandas.Series
        Likelihood to recommend, whole numbers on ``scale``. Missing values (NaN, ``pd.NA``) are
        dropped together with their weights.
    weights : array-like, optional
        Survey weights (finite, >= 0, one per score, aligned by position). ``None``: unweighted.
    conf : float, keyword-only
        Confidence level of the interval (default 0.95).
    promoter_min, detractor_max : int, keyword-only
        Cut-offs (defaults 9 and 6): promoters ``>= promoter_min``, detractors
        ``<= detractor_max``, passives in between.
    scale : (int, int), keyword-only
        Range of the question; ``(0, 10)`` (default) or ``(1, 10)``.

    Returns
    -------
    NPSResult
        ``score``, ``se``, ``ci_low``, ``ci_high`` in points; shares 0..1; ``n``; ``n_eff``.
        One valid score gives its score but no ``se`` or interval (NaN): one respondent shows
        no variance.

    Raises
    ------
    DataError
        No valid score; a non-numeric, fractional or out-of-scale value (named with its position);
        a missing, negative or infinite weight on a valid score; all weights zero; bad options.

    Notes
    -----
    With shares :math:`p_P, p_D` of promoters and detractors among the :math:`n` valid scores,
    the score is :math:`100 (p_P - p_D)`, the mean of :math:`y = 1\\{P\\} - 1\\{D\\}`.

    *Unweighted standard error* (trinomial): :math:`Var(p_P - p_D) = (p_P + p_D - (p_P -
    p_D)^2) / n`.

    *Interval* — adjusted Wald (Rocks 2016): add pseudo-counts :math:`a = (3/4, 3/2, 3/4)` to the
    counts of detractors, passives and promoters (3 pseudo-respondents split 1/4 : 1/2 : 1/4),
    :math:`\\tilde p_k = (x_k + a_k)/(n + 3)`, and take the Wald interval of the adjusted
    estimate, :math:`\\tilde p_P - \\tilde p_D \\pm z \\sqrt{(\\tilde p_P + \\tilde p_D - (\\tilde
    p_P - \\tilde p_D)^2)/(n + 3)}`, clipped to [-100, 100]. The pseudo-counts are those of
    Rocks' adjusted Wald as implemented by him (default ``pseudo_observations = c(0.75, 1.5,
    0.75)`` for detractors, passives, promoters in his R package NPS 2.x ``nps_test()``) and as
    summarized by Lewis & Sauro (2021): "add 3 to n, 3/4 to detractors and 3/4 to promoters".
    Why: as Agresti & Coull's "add two successes and two failures" for one proportion, the
    pseudo-counts pull the centre towards 0 and keep the variance away from 0 when a category
    is empty or rare, exactly where the plain Wald interval collapses (all promoters gives a
    zero-width interval at any n) and under-covers; the 1:2:1 split is symmetric around
    NPS = 0, so neither direction is favoured. Rocks (2016) found variations on the adjusted
    Wald (with the iterative score interval) to perform best on simulated trinomials and on a
    large database of real NPS. Our Monte-Carlo check gives >= 94 % coverage at 95 % for
    n = 30..2000, against 84 % for the plain Wald at n = 30 with shares (0.02, 0.08, 0.90).
    The reported ``score`` stays the plain sample NPS; only the interval uses the adjusted
    counts, so for small n the interval is not centred on the score.

    *Weighted* (``weights`` given; a with-replacement, single-stage design with no strata or
    clusters): point estimate :math:`\\bar y_w = \\sum w_i y_i / \\sum w_i`; linearization
    (Taylor) variance exactly as R ``survey::svymean(~y, svydesign(ids=~1, weights=~w))``:

    .. math:: se^2 = \\frac{n}{n-1} \\frac{\\sum w_i^2 (y_i - \\bar y_w)^2}{(\\sum w_i)^2}

    (NaN for n = 1). Note that for equal weights this is :math:`n/(n-1)` times the unweighted
    trinomial variance (``survey``'s convention), so ``se`` differs by :math:`\\sqrt{n/(n-1)}`.

    Weighted interval: the adjusted Wald interval above on the effective-sample-size scale. The
    pseudo-counts are scaled by Kish's :math:`n_{eff} = (\\sum w)^2 / \\sum w^2`, i.e. added to
    the effective counts :math:`n_{eff} \\hat p_k`: :math:`\\tilde p_k = (n_{eff} \\hat p_k +
    a_k)/(n_{eff} + 3)`, so they weigh as much against the sample as they do unweighted. The
    variance is :math:`\\rho (\\tilde p_P + \\tilde p_D - (\\tilde p_P - \\tilde
    p_D)^2)/(n_{eff} + 3)` with :math:`\\rho = \\sum w_i^2 (y_i - \\bar y_w)^2 / (s^2_w \\sum
    w_i^2)`, :math:`s^2_w = \\hat p_P + \\hat p_D - \\bar y_w^2`: the linearization variance
    divided by the variance Kish's :math:`n_{eff}` predicts (Kish's approximation assumes y
    unrelated to the weights; :math:`\\rho` corrects it). As n grows the half-width tends to
    :math:`z \\cdot se \\sqrt{(n-1)/n}`, the Wald interval on the linearized SE. With equal
    weights :math:`n_{eff} = n` and :math:`\\rho = 1`, so the interval equals the unweighted one;
    when every respondent is in one category :math:`\\rho` is 0/0 and is set to 1.

    Checked against: closed forms computed by hand in tests/stats/test_nps.py (a 25/15/10 trinomial,
    all promoters), a brute-force per-respondent linearization and statsmodels' WLS on a
    constant with HC1 covariance (the same estimator as ``svymean`` without strata/clusters), and
    a Monte-Carlo coverage study (>= 93 % at 95 % for n = 30..2000, extreme share triples).

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "Net Promoter Score". The American
    Statistician, 70(4), 365-372.
    Agresti, A., & Coull, B. A. (1998). Approximate is better than "exact" for interval
    estimation of binomial proportions. The American Statistician, 52(2), 119-126.
    Lewis, J. R., & Sauro, J. (2021). Evaluating NPS confidence intervals with real-world data.
    MeasuringU, https://measuringu.com/nps-three-confidence-intervals/
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley (ch. 2, svymean).
    Kish, L. (1965). Survey Sampling. Wiley (effective sample size).
    """
    conf = check_conf(conf, func="nps")
    _check_cutoffs(promoter_min, detractor_max, scale)
    arr, _ = _scores(scores, scale=scale, what="scores")
    valid = ~np.isnan(arr)
    n = int(valid.sum())
    if n == 0:
        raise DataError(
            f"scores: expected at least one valid score, found none ({len(arr)} value(s), "
            "all missing)"
        )
    w = None
    if weights is not None:
        w = _weights(weights, valid, what="weights")
        if not w[valid].sum() > 0:
            raise DataError("weights: expected a positive total weight, found all weights zero")
    sums = _sums(np.zeros(len(arr), dtype=np.int16), 1, arr, w, promoter_min, detractor_max)
    est = _from_sums(sums, weighted=w is not None, conf=conf)
    return NPSResult(
        score=float(est["score"][0]),
        n=n,
        promoters=float(est["promoters"][0]),
        passives=float(est["passives"][0]),
        detractors=float(est["detractors"][0]),
        se=float(est["se"][0]),
        ci_low=float(est["ci_low"][0]),
        ci_high=float(est["ci_high"][0]),
        conf=float(conf),
        n_eff=float(est["n_eff"][0]),
        weighted=w is not None,
        method=_METHOD_WEIGHTED if w is not None else _METHOD_UNWEIGHTED,
    )


def nps_by_group(
    df: pd.DataFrame,
    by: str | Sequence[str],
    *,
    score: str = "likelihood_to_recommend",
    weights: str | None = None,
    conf: float = DEFAULT_CONF,
    min_n: int = DEFAULT_MIN_N,
    promoter_min: int = 9,
    detractor_max: int = 6,
    scale: tuple[int, int] = (0, 10),
) -> pd.DataFrame:
    """NPS of every group, vectorized (one pass of grouped sums, no per-group Python call).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per respondent.
    by : str or sequence of str
        Grouping column(s), e.g. ``["country", "wave"]``. Categorical keys keep their category
        order; rows with a missing key are left out.
    score : str, keyword-only
        Likelihood-to-recommend column (missing values are dropped).
    weights : str, optional, keyword-only
        Weight column; ``None`` for unweighted estimates.
    conf : float, keyword-only
        Confidence level.
    min_n : int, keyword-only
        Groups with fewer valid scores are suppressed; an int >= 1 (default ``DEFAULT_MIN_N`` =
        30).
    promoter_min, detractor_max, scale : keyword-only
        As in :func:`nps`.

    Returns
    -------
    pandas.DataFrame
        One row per observed group: ``*by, n, n_eff, promoters, passives, detractors, score, se,
        ci_low, ci_high, suppressed``. Suppressed groups (``n < min_n``) show ``n`` and
        ``suppressed=True`` and NaN in every other column. A group of one valid score (with
        ``min_n=1``) shows its score with NaN ``se`` and interval, as :func:`nps`.

    Notes
    -----
    Same estimator and interval as :func:`nps` (see there): each group's row equals ``nps()`` on
    that group's rows (tested in tests/stats/test_nps.py). Every country x wave of 10 million
    responses took 0.2 s (unweighted) on the project's 2-core build machine, several times
    faster than ``groupby().apply(nps)`` (benchmarks/bench_nps.py).
    """
    conf = check_conf(conf, func="nps_by_group")
    min_n = check_min_n(min_n, func="nps_by_group")
    by = _as_list(by)
    keys, sums = _by_group_sums(
        df,
        by,
        score=score,
        weights=weights,
        promoter_min=promoter_min,
        detractor_max=detractor_max,
        scale=scale,
        func="nps_by_group",
    )
    est = _from_sums(sums, weighted=weights is not None, conf=conf)
    n = sums["n"].astype(np.int64)
    suppressed = n < min_n
    out = keys.copy()
    out["n"] = n
    for col in _ESTIMATE_COLUMNS:
        out[col] = np.where(suppressed, np.nan, est[col])
    out["suppressed"] = suppressed
    return out


def nps_difference(
    a: Any,
    b: Any,
    *,
    weights_a: Any = None,
    weights_b: Any = None,
    conf: float = DEFAULT_CONF,
    promoter_min: int = 9,
    detractor_max: int = 6,
    scale: tuple[int, int] = (0, 10),
) -> NPSDifference:
    """Two-sample z test of the difference between the NPS of two independent samples.

    Parameters
    ----------
    a, b : array-like or pandas.Series
        Likelihood-to-recommend scores of the two samples (missing values dropped).
    weights_a, weights_b : array-like, optional, keyword-only
        Survey weights of each sample (each may be weighted or not).
    conf : float, keyword-only
        Confidence level of the interval of the difference.
    promoter_min, detractor_max, scale : keyword-only
        As in :func:`nps`.

    Returns
    -------
    NPSDifference
        ``diff = score_a - score_b``, ``se``, ``z``, ``p_value``, ``ci_low``, ``ci_high`` (points)
        and ``n_a``, ``n_b``.

    Notes
    -----
    Independent samples, so the variances add: :math:`se = \\sqrt{se_a^2 + se_b^2}` with each
    :math:`se` from :func:`nps` (trinomial, or linearization when weighted); :math:`z =
    diff/se`, :math:`p = 2(1 - \\Phi(|z|))`, interval :math:`diff \\pm z_{1-\\alpha/2}\\, se`
    (plain Wald, so that it excludes 0 exactly when ``p < 1 - conf``). When both samples
    have ``se = 0`` (e.g. all promoters in both) the difference is either 0 (``z = 0``,
    ``p = 1``) or certain (``z = +-inf``, ``p = 0``); a sample of one valid score has no
    ``se``, so ``se``, ``z``, ``p_value`` and the interval are NaN. Not for overlapping samples
    such as a country and a total that includes it; use :func:`nps_vs_rest`.

    Checked against: hand-computed z and p for two small samples in tests/stats/test_nps.py.

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "Net Promoter Score". The American
    Statistician, 70(4), 365-372 (variance of the NPS; Wald test of two scores).
    """
    conf = check_conf(conf, func="nps_difference")
    opts = {"conf": conf, "promoter_min": promoter_min, "detractor_max": detractor_max}
    ra = nps(a, weights_a, scale=scale, **opts)
    rb = nps(b, weights_b, scale=scale, **opts)
    diff = ra.score - rb.score
    se = math.sqrt(ra.se**2 + rb.se**2)
    t = _difference_test(np.array([diff]), np.array([se]), conf, 200.0)
    return NPSDifference(
        diff=float(diff),
        se=float(se),
        z=float(t["z"][0]),
        p_value=float(t["p_value"][0]),
        ci_low=float(t["ci_low"][0]),
        ci_high=float(t["ci_high"][0]),
        n_a=ra.n,
        n_b=rb.n,
    )


def _significant(p_value: np.ndarray, alpha: float) -> pd.array:
    flags = pd.array(np.asarray(p_value) < alpha, dtype="boolean")
    flags[np.isnan(np.asarray(p_value, dtype=np.float64))] = pd.NA
    return flags


def nps_wave_change(
    df: pd.DataFrame,
    *,
    by: str | Sequence[str] = "country",
    wave: str = "wave",
    score: str = "likelihood_to_recommend",
    weights: str | None = None,
    conf: float = DEFAULT_CONF,
    min_n: int = DEFAULT_MIN_N,
    alpha: float = 0.05,
    promoter_min: int = 9,
    detractor_max: int = 6,
    scale: tuple[int, int] = (0, 10),
) -> pd.DataFrame:
    """Change of each group's NPS from its previous wave, with a two-sample z test.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per respondent.
    by : str or sequence of str, keyword-only
        Group column(s) (default ``"country"``).
    wave : str, keyword-only
        Wave column; an (ordered) categorical is ordered by its categories, anything else sorted.
    score, weights, conf, min_n, promoter_min, detractor_max, scale : keyword-only
        As in :func:`nps_by_group`.
    alpha : float, keyword-only
        Level of the ``significant`` flag (default 0.05).

    Returns
    -------
    pandas.DataFrame
        One row per group and wave that has an earlier wave in the data: ``*by, wave,
        previous_wave, n, n_previous, score, score_previous, change, se, z, p_value, ci_low,
        ci_high, significant, suppressed``. ``previous_wave`` is the latest earlier wave in which
        the group has rows. When either wave has fewer than ``min_n`` valid scores the row is
        ``suppressed`` and every estimate is NaN (``significant`` is NA).

    Notes
    -----
    The waves are independent samples: ``change = score - score_previous``, ``se =
    sqrt(se^2 + se_previous^2)``, z test and Wald interval as in :func:`nps_difference`
    (``ci_low``/``ci_high`` are the interval of the change). Vectorized: one
    :func:`nps_by_group` call and a grouped shift.
    """
    conf = check_conf(conf, func="nps_wave_change")
    min_n = check_min_n(min_n, func="nps_wave_change")
    alpha = check_alpha(alpha, func="nps_wave_change")
    by = _as_list(by)
    require_columns(
        df, [*by, wave, score, *([weights] if weights is not None else [])], "nps_wave_change"
    )
    table = nps_by_group(
        df,
        [*by, wave],
        score=score,
        weights=weights,
        conf=conf,
        min_n=min_n,
        promoter_min=promoter_min,
        detractor_max=detractor_max,
        scale=scale,
    )
    prev = table.groupby(by, observed=True, sort=False)[[wave, "n", "score", "se", "suppressed"]]
    prev = prev.shift(1)
    has_prev = prev["n"].notna().to_numpy()
    cur = table.loc[has_prev].reset_index(drop=True)
    prev = prev.loc[has_prev].reset_index(drop=True)
    suppressed = cur["suppressed"].to_numpy(bool) | prev["suppressed"].eq(True).to_numpy(bool)
    change = np.where(suppressed, np.nan, cur["score"] - prev["score"])
    se = np.where(suppressed, np.nan, np.hypot(cur["se"], prev["se"]))
    test = _difference_test(change, se, conf, 200.0)
    out = cur[by].copy()
    out[wave] = cur[wave]
    out["previous_wave"] = prev[wave].astype(table[wave].dtype)
    out["n"] = cur["n"].to_numpy(np.int64)
    out["n_previous"] = prev["n"].to_numpy(np.int64)
    out["score"] = np.where(suppressed, np.nan, cur["score"])
    out["score_previous"] = np.where(suppressed, np.nan, prev["score"])
    out["change"] = change
    out["se"] = se
    for col in ("z", "p_value", "ci_low", "ci_high"):
        out[col] = test[col]
    out["significant"] = _significant(test["p_value"], alpha)
    out["suppressed"] = suppressed
    return out


def nps_vs_rest(
    df: pd.DataFrame,
    *,
    group: str = "country",
    score: str = "likelihood_to_recommend",
    weights: str | None = None,
    conf: float = DEFAULT_CONF,
    min_n: int = DEFAULT_MIN_N,
    alpha: float = 0.05,
    promoter_min: int = 9,
    detractor_max: int = 6,
    scale: tuple[int, int] = (0, 10),
) -> pd.DataFrame:
    """Each group's NPS against all other groups pooled, with a two-sample z test.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per respondent (filter to one wave first for a same-wave comparison).
    group : str, keyword-only
        Group column (default ``"country"``).
    score, weights, conf, min_n, promoter_min, detractor_max, scale : keyword-only
        As in :func:`nps_by_group`.
    alpha : float, keyword-only
        Level of the ``significant`` flag.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group, n, score, n_rest, score_rest, diff, se, z, p_value, ci_low,
        ci_high, significant, suppressed``; ``diff = score - score_rest``. Suppressed (NaN
        estimates, NA flag) when the group or the rest has fewer than ``min_n`` valid scores.

    Notes
    -----
    The rest of group g is every other respondent with a valid group key, so g and its rest are
    disjoint, independent samples and the variances add (:func:`nps_difference`). Vectorized:
    the rest's sums are the totals minus the group's sums.
    """
    conf = check_conf(conf, func="nps_vs_rest")
    min_n = check_min_n(min_n, func="nps_vs_rest")
    alpha = check_alpha(alpha, func="nps_vs_rest")
    keys, sums = _by_group_sums(
        df,
        [group],
        score=score,
        weights=weights,
        promoter_min=promoter_min,
        detractor_max=detractor_max,
        scale=scale,
        func="nps_vs_rest",
    )
    rest = {k: v.sum() - v for k, v in sums.items()}
    weighted = weights is not None
    est = _from_sums(sums, weighted=weighted, conf=conf)
    est_rest = _from_sums(rest, weighted=weighted, conf=conf)
    n = sums["n"].astype(np.int64)
    n_rest = np.rint(rest["n"]).astype(np.int64)
    suppressed = (n < min_n) | (n_rest < min_n)
    diff = np.where(suppressed, np.nan, est["score"] - est_rest["score"])
    se = np.where(suppressed, np.nan, np.hypot(est["se"], est_rest["se"]))
    test = _difference_test(diff, se, conf, 200.0)
    out = keys.copy()
    out["n"] = n
    out["score"] = np.where(suppressed, np.nan, est["score"])
    out["n_rest"] = n_rest
    out["score_rest"] = np.where(suppressed, np.nan, est_rest["score"])
    out["diff"] = diff
    out["se"] = se
    for col in ("z", "p_value", "ci_low", "ci_high"):
        out[col] = test[col]
    out["significant"] = _significant(test["p_value"], alpha)
    out["suppressed"] = suppressed
    return out
