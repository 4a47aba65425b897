"""Four-screen analysis: is an attribute a problem or a best practice in a country?

Each attribute mean of a country (own-brand customers, one wave) is put through four screens:
its trend against the country's previous wave, the other countries, the competitors' customers in
the same country, and its rank among the country's attributes.  Attributes failing most screens
are "problems", those passing most are "best practices".  Statistics only: tests come from group
summaries (mean, variance, n) computed with one groupby.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from csatlib.config import DEFAULT_MIN_N
from csatlib.errors import DataError
from csatlib.validation import check_alpha, check_min_n, require_columns

__all__ = [
    "WelchResult",
    "welch_from_summary",
    "benjamini_hochberg",
    "four_screens",
    "screens_all_countries",
]

SUPPRESSED = "suppressed"
_FAIL_VERDICTS = {
    "trend_verdict": "deteriorated",
    "vs_countries_verdict": "below",
    "vs_competitors_verdict": "below",
    "rank_verdict": "bottom",
}
_PASS_VERDICTS = {
    "trend_verdict": "improved",
    "vs_countries_verdict": "above",
    "vs_competitors_verdict": "above",
    "rank_verdict": "top",
}


@dataclass(frozen=True)
class WelchResult:
    """Welch two-sample t-test; each field is a float, or an array for array input.

    Attributes
    ----------
    diff : mean difference ``m1 - m2``
    se : standard error of the difference
    t : t statistic
    df : Welch-Satterthwaite degrees of freedom
    p_value : two-sided p-value
    """

    diff: Any
    se: Any
    t: Any
    df: Any
    p_value: Any


def welch_from_summary(
    m1: float | np.ndarray,
    v1: float | np.ndarray,
    n1: float | np.ndarray,
    m2: float | np.ndarray,
    v2: float | np.ndarray,
    n2: float | np.ndarray,
) -> WelchResult:
    """Welch's unequal-variance t-test from group summaries (broadcasts over arrays).

    Parameters
    ----------
    m1, v1, n1 : float or array
        Mean, sample variance (ddof=1) and size of group 1.
    m2, v2, n2 : float or array
        The same for group 2.

    Returns
    -------
    WelchResult
        ``diff``, ``se``, ``t``, ``df``, ``p_value``: floats for scalar input, arrays otherwise.
        NaN where a group has fewer than 2 observations or a variance is missing.  When both
        variances are zero the test is degenerate: p = 0 if the means differ, NaN if equal.

    Notes
    -----
    .. math:: t = \\frac{m_1 - m_2}{\\sqrt{v_1/n_1 + v_2/n_2}}, \\qquad
        \\nu = \\frac{(v_1/n_1 + v_2/n_2)^2}{\\frac{(v_1/n_1)^2}{n_1 - 1}
        + \\frac{(v_2/n_2)^2}{n_2 - 1}}

    and :math:`p = 2\\,P(T_\\nu > |t|)`.  Tested against ``scipy.stats.ttest_ind(equal_var=False)``
    on raw data (t, df and p to 1e-10).

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. Biometrika, 34(1-2), 28-35.
    Satterthwaite, F. E. (1946). Biometrics Bulletin, 2(6), 110-114.
    """
    arrays = np.broadcast_arrays(
        *(np.asarray(a, dtype="float64") for a in (m1, v1, n1, m2, v2, n2))
    )
    m1a, v1a, n1a, m2a, v2a, n2a = arrays
    for name, a in (("v1", v1a), ("v2", v2a), ("n1", n1a), ("n2", n2a)):
        if np.any(a < 0):
            raise DataError(f"welch_from_summary: {name} must be >= 0, found {a[a < 0][0]:g}")
    valid = (n1a >= 2) & (n2a >= 2) & ~np.isnan(v1a) & ~np.isnan(v2a)
    with np.errstate(divide="ignore", invalid="ignore"):
        a1 = v1a / n1a
        a2 = v2a / n2a
        se = np.sqrt(a1 + a2)
        diff = m1a - m2a
        t = diff / se
        dof = (a1 + a2) ** 2 / (a1**2 / (n1a - 1) + a2**2 / (n2a - 1))
        p = 2.0 * stats.t.sf(np.abs(t), dof)
    degenerate = valid & (se == 0)
    p = np.where(degenerate & (diff != 0), 0.0, p)
    p = np.where(degenerate & (diff == 0), np.nan, p)
    se, t, dof, p = (np.where(valid, a, np.nan) for a in (se, t, dof, p))
    diff = np.where(valid, diff, np.nan)
    if diff.ndim == 0:
        return WelchResult(float(diff), float(se), float(t), float(dof), float(p))
    return WelchResult(diff, se, t, dof, p)


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN entries are not tests.

    Parameters
    ----------
    p_values : array-like of float
        p-values in [0, 1]; NaN marks a test not done (e.g. suppressed) and stays NaN.

    Returns
    -------
    numpy.ndarray
        q-values in the input order; ``m`` is the number of non-NaN p-values.

    Notes
    -----
    With the p-values sorted :math:`p_{(1)} \\le \\dots \\le p_{(m)}`,
    :math:`q_{(i)} = \\min_{j \\ge i} \\min(1, m\\,p_{(j)}/j)`.  Rejecting :math:`q < \\alpha`
    controls the false discovery rate at :math:`\\alpha` for independent (or positively
    dependent) tests.  Tested against ``statsmodels.stats.multitest.multipletests(method=
    "fdr_bh")``.

    References
    ----------
    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. JRSS B, 57(1), 289-300.
    """
    p = np.asarray(p_values, dtype="float64")
    if p.ndim != 1:
        raise DataError(
            f"benjamini_hochberg: expected a 1-d array of p-values, found shape {p.shape}"
        )
    tested = ~np.isnan(p)
    if np.any((p[tested] < 0) | (p[tested] > 1)):
        bad = p[tested][(p[tested] < 0) | (p[tested] > 1)][0]
        raise DataError(f"benjamini_hochberg: p-values must lie in [0, 1], found {bad:g}")
    q = np.full(p.shape, np.nan)
    m = int(tested.sum())
    if m == 0:
        return q
    pv = p[tested]
    order = np.argsort(pv, kind="mergesort")
    scaled = pv[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adjusted
    q[tested] = out
    return q


# --- group summaries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Summaries:
    """Per (country, wave, competitor) group and attribute: n, mean, var (rows x attributes)."""

    country: np.ndarray
    wave: np.ndarray
    competitor: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    waves: list[Hashable]


@dataclass(frozen=True)
class _Cell:
    n: np.ndarray
    mean: np.ndarray
    var: np.ndarray


def _wave_order(column: pd.Series, wave_col: str) -> list[Hashable]:
    present = column.dropna().unique()
    if isinstance(column.dtype, pd.CategoricalDtype) and column.dtype.ordered:
        seen = set(present)
        return [w for w in column.cat.categories if w in seen]
    try:
        return sorted(present.tolist())
    except TypeError as exc:
        raise DataError(
            f"column {wave_col!r}: waves cannot be ordered ({exc}); use an ordered category "
            f"such as '2025-Q4' < '2026-Q1'"
        ) from exc


def _summaries(
    df: pd.DataFrame,
    attributes: Sequence[str],
    country_col: str,
    wave_col: str,
    competitor_col: str,
) -> _Summaries:
    values = {
        f"_a{i}": df[a].to_numpy(dtype="float64", na_value=np.nan) for i, a in enumerate(attributes)
    }
    frame = pd.DataFrame(values, index=df.index)
    frame["_country"] = df[country_col].to_numpy()
    frame["_wave"] = df[wave_col].to_numpy(dtype=object)
    frame["_competitor"] = df[competitor_col].to_numpy(dtype=bool)
    value_cols = list(values)
    # One groupby; count/mean/var skip NaN, i.e. per-attribute available cases (don't-know out).
    grouped = frame.groupby(["_country", "_wave", "_competitor"], sort=False)[value_cols]
    agg = grouped.agg(["count", "mean", "var"])
    keys = agg.index
    return _Summaries(
        country=np.asarray(keys.get_level_values(0), dtype=object),
        wave=np.asarray(keys.get_level_values(1), dtype=object),
        competitor=np.asarray(keys.get_level_values(2), dtype=bool),
        n=agg.xs("count", axis=1, level=1).to_numpy(dtype="float64"),
        mean=agg.xs("mean", axis=1, level=1).to_numpy(dtype="float64"),
        var=agg.xs("var", axis=1, level=1).to_numpy(dtype="float64"),
        waves=_wave_order(df[wave_col], wave_col),
    )


def _pool(s: _Summaries, rows: np.ndarray) -> _Cell:
    """Combine the selected groups into one (exact pooled mean and sample variance)."""
    n, mean, var = s.n[rows], s.mean[rows], s.var[rows]
    total = n.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled_mean = np.where(n > 0, n * mean, 0.0).sum(axis=0) / total
        within = np.where(n > 1, (n - 1) * var, 0.0).sum(axis=0)
        between = np.where(n > 0, n * (mean - pooled_mean) ** 2, 0.0).sum(axis=0)
        pooled_var = (within + between) / (total - 1)
    pooled_mean = np.where(total > 0, pooled_mean, np.nan)
    pooled_var = np.where(total > 1, pooled_var, np.nan)
    return _Cell(n=total, mean=pooled_mean, var=pooled_var)


# --- validation ----------------------------------------------------------------------------------


def _validate(
    df: pd.DataFrame,
    attributes: Sequence[str],
    *,
    country_col: str,
    wave_col: str,
    competitor_col: str,
    alpha: float,
    min_n: int,
    extreme_k: int,
    what: str,
) -> list[str]:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what}: expected a DataFrame, found {type(df).__name__}")
    if isinstance(attributes, str):
        raise DataError(
            f"{what}: attributes must be a list of columns, found the string {attributes!r}"
        )
    attrs = [str(a) for a in attributes]
    if not attrs:
        raise DataError(f"{what}: expected at least one attribute column, found none")
    if len(set(attrs)) != len(attrs):
        raise DataError(f"{what}: attribute columns must be unique, found {attrs}")
    require_columns(df, [country_col, wave_col, competitor_col, *attrs], what)
    overlap = {country_col, wave_col, competitor_col} & set(attrs)
    if overlap:
        raise DataError(f"{what}: {sorted(overlap)} cannot be both a key column and an attribute")
    for a in attrs:
        dtype = df[a].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            raise DataError(
                f"{what}: attribute column {a!r} must be numeric (Int64), found {dtype}"
            )
    comp = df[competitor_col]
    if not pd.api.types.is_bool_dtype(comp.dtype):
        raise DataError(f"{what}: column {competitor_col!r} must be bool, found {comp.dtype}")
    if comp.isna().any():
        row = comp.index[comp.isna().to_numpy()][0]
        row = row.item() if isinstance(row, np.generic) else row
        raise DataError(
            f"{what}: column {competitor_col!r}, row {row!r}: missing value (expected True/False)"
        )
    check_alpha(alpha, func=what)
    check_min_n(min_n, func=what)
    if isinstance(extreme_k, bool) or not isinstance(extreme_k, int | np.integer) or extreme_k < 1:
        raise DataError(f"{what}: extreme_k must be an integer >= 1, found {extreme_k!r}")
    return attrs


# --- the screens ---------------------------------------------------------------------------------


def _own_waves(s: _Summaries, country: Hashable) -> list[Hashable]:
    rows = (s.country == country) & ~s.competitor
    present = set(s.wave[rows])
    return [w for w in s.waves if w in present]


def _verdict(
    tested: np.ndarray, diff: np.ndarray, q: np.ndarray, alpha: float, up: str, down: str, same: str
) -> np.ndarray:
    significant = tested & (q < alpha)
    return np.select(
        [~tested, significant & (diff > 0), significant & (diff < 0)],
        [SUPPRESSED, up, down],
        same,
    ).astype(object)


def _shown(cell: _Cell, min_n: int) -> np.ndarray:
    return np.where(cell.n >= min_n, cell.mean, np.nan)


def _country_screens(
    s: _Summaries,
    country: Hashable,
    wave: Hashable | None,
    attributes: list[str],
    *,
    alpha: float,
    min_n: int,
    extreme_k: int,
) -> pd.DataFrame:
    wave, previous = _wave_and_previous(s, country, wave)
    base, prior, others, rivals = _screen_cells(s, country, wave, previous, len(attributes))
    base_ok = base.n >= min_n
    tests, q = _screen_tests(
        base, {"trend": prior, "vs_countries": others, "vs_competitors": rivals}, min_n
    )
    trend = _verdict(
        *tests["trend"][:2], q["trend"], alpha, "improved", "deteriorated", "no change"
    )
    if previous is None:
        trend[base_ok] = "no previous wave"
    vs_countries = _verdict(
        *tests["vs_countries"][:2], q["vs_countries"], alpha, "above", "below", "no difference"
    )
    vs_competitors = _verdict(
        *tests["vs_competitors"][:2], q["vs_competitors"], alpha, "above", "below", "no difference"
    )
    rank_high, rank_verdict = _rank_screen(base, base_ok, extreme_k)
    n_attr = len(attributes)
    out = pd.DataFrame(
        {
            "wave": [wave] * n_attr,
            "previous_wave": [previous] * n_attr,
            "n": base.n.astype("int64"),
            "mean": _shown(base, min_n),
            "suppressed": ~base_ok,
            "previous_n": prior.n.astype("int64"),
            "previous_mean": _shown(prior, min_n),
            "trend_diff": tests["trend"][1],
            "trend_p_value": tests["trend"][2],
            "trend_q_value": q["trend"],
            "trend_verdict": trend,
            "other_countries_n": others.n.astype("int64"),
            "other_countries_mean": _shown(others, min_n),
            "vs_countries_diff": tests["vs_countries"][1],
            "vs_countries_p_value": tests["vs_countries"][2],
            "vs_countries_q_value": q["vs_countries"],
            "vs_countries_verdict": vs_countries,
            "competitors_n": rivals.n.astype("int64"),
            "competitors_mean": _shown(rivals, min_n),
            "vs_competitors_diff": tests["vs_competitors"][1],
            "vs_competitors_p_value": tests["vs_competitors"][2],
            "vs_competitors_q_value": q["vs_competitors"],
            "vs_competitors_verdict": vs_competitors,
            "rank": pd.array(np.where(base_ok, rank_high, np.nan), dtype="Float64").astype("Int64"),
            "rank_verdict": rank_verdict,
        },
        index=pd.Index(attributes, name="attribute"),
    )
    n_fail = sum((out[col] == verdict).astype("int64") for col, verdict in _FAIL_VERDICTS.items())
    n_pass = sum((out[col] == verdict).astype("int64") for col, verdict in _PASS_VERDICTS.items())
    out["n_fail"] = n_fail
    out["n_pass"] = n_pass
    out["class"] = _classify(n_fail.to_numpy(), n_pass.to_numpy(), base_ok)
    return out


def _wave_and_previous(
    s: _Summaries, country: Hashable, wave: Hashable | None
) -> tuple[Hashable, Hashable | None]:
    """The wave screened (default: the country's latest) and the country's wave before it."""
    own_waves = _own_waves(s, country)
    if not own_waves:
        raise DataError(
            f"four_screens: country {country!r} has no own-brand respondents in the data"
        )
    if wave is None:
        wave = own_waves[-1]
    elif wave not in own_waves:
        raise DataError(
            f"four_screens: country {country!r} has no own-brand respondents in wave {wave!r}; "
            f"waves with respondents: {own_waves}"
        )
    position = own_waves.index(wave)
    return wave, own_waves[position - 1] if position > 0 else None


def _screen_cells(
    s: _Summaries, country: Hashable, wave: Hashable, previous: Hashable | None, n_attr: int
) -> tuple[_Cell, _Cell, _Cell, _Cell]:
    """The country's own cell and its three comparison groups: prior wave, others, rivals."""
    in_country = s.country == country
    own = ~s.competitor
    in_wave = s.wave == wave
    base = _pool(s, in_country & own & in_wave)
    others = _pool(s, ~in_country & own & in_wave)
    rivals = _pool(s, in_country & s.competitor & in_wave)
    if previous is not None:
        prior = _pool(s, in_country & own & (s.wave == previous))
    else:
        prior = _Cell(np.zeros(n_attr), np.full(n_attr, np.nan), np.full(n_attr, np.nan))
    return base, prior, others, rivals


def _screen_tests(
    base: _Cell, comparisons: dict[str, _Cell], min_n: int
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], dict[str, np.ndarray]]:
    """Welch tests of the own cell against each comparison group: (tested, diff, p) and q."""
    tests = {}
    for name, other in comparisons.items():
        # A t-test needs two answers on each side, whatever min_n allows.
        tested = (base.n >= min_n) & (other.n >= min_n) & (base.n >= 2) & (other.n >= 2)
        w = welch_from_summary(base.mean, base.var, base.n, other.mean, other.var, other.n)
        tests[name] = (
            tested,
            np.where(tested, w.diff, np.nan),
            np.where(tested, w.p_value, np.nan),
        )
    # One BH family per country: every test of the three screens over all attributes.
    q_all = benjamini_hochberg(np.concatenate([tests[k][2] for k in tests]))
    return tests, dict(zip(tests, np.split(q_all, len(tests)), strict=True))


def _rank_screen(base: _Cell, base_ok: np.ndarray, extreme_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rank of each shown mean (1 = highest) and its verdict: top, bottom, middle."""
    ranked = pd.Series(np.where(base_ok, base.mean, np.nan))
    rank_high = ranked.rank(ascending=False, method="min").to_numpy()
    rank_low = ranked.rank(ascending=True, method="min").to_numpy()
    rank_verdict = np.select(
        [~base_ok, rank_high <= extreme_k, rank_low <= extreme_k],
        [SUPPRESSED, "top", "bottom"],
        "middle",
    ).astype(object)
    return rank_high, rank_verdict


def _classify(n_fail: np.ndarray, n_pass: np.ndarray, base_ok: np.ndarray) -> np.ndarray:
    return np.select(
        [~base_ok, (n_fail >= 2) & (n_fail > n_pass), (n_pass >= 2) & (n_pass > n_fail)],
        [SUPPRESSED, "problem", "best practice"],
        "neutral",
    ).astype(object)


def four_screens(
    df: pd.DataFrame,
    *,
    country: str,
    attributes: Sequence[str],
    wave: str | None = None,
    country_col: str = "country",
    wave_col: str = "wave",
    competitor_col: str = "competitor",
    alpha: float = 0.05,
    min_n: int = DEFAULT_MIN_N,
    extreme_k: int = 3,
) -> pd.DataFrame:
    """Four-screen analysis of a country's attributes: problems and best practices.

    Parameters
    ----------
    df : pandas.DataFrame
        Responses with the country, wave and competitor (bool) columns and the attributes
        (numeric, <NA> = don't know).
    country : str
        Country code as in ``country_col`` (e.g. "DE").
    attributes : sequence of str
        Attribute columns to screen, in the order of the result.
    wave : str, optional
        Wave to analyse; default the latest wave with own-brand respondents in the country.
    country_col, wave_col, competitor_col : str
        Column names.  Waves are ordered by an ordered categorical's categories, else sorted.
    alpha : float
        False discovery rate: a test is significant when its BH q-value is below ``alpha``.
    min_n : int
        Small-cell minimum (an int >= 1); a mean from fewer answers is suppressed. A test also
        needs two answers on each side: with fewer it is not done (NaN p, verdict
        "suppressed"), whatever ``min_n`` allows.
    extreme_k : int
        Size of the "top" and "bottom" sets of screen 4.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``attribute`` with columns
        ``wave``, ``previous_wave`` (None when there is none), ``n``, ``mean`` (own-brand customers
        of the country in the wave), ``suppressed`` (``n < min_n``);
        screen 1: ``previous_n``, ``previous_mean``, ``trend_diff``, ``trend_p_value``,
        ``trend_q_value``, ``trend_verdict`` ("improved", "deteriorated", "no change",
        "no previous wave", "suppressed");
        screen 2: ``other_countries_n``, ``other_countries_mean``, ``vs_countries_diff``,
        ``vs_countries_p_value``, ``vs_countries_q_value``, ``vs_countries_verdict`` ("above",
        "below", "no difference", "suppressed");
        screen 3: ``competitors_n``, ``competitors_mean``, ``vs_competitors_diff``,
        ``vs_competitors_p_value``, ``vs_competitors_q_value``, ``vs_competitors_verdict`` (as
        screen 2);
        screen 4: ``rank`` (1 = highest mean among the country's unsuppressed attributes, Int64),
        ``rank_verdict`` ("top", "bottom", "middle", "suppressed");
        ``n_fail``, ``n_pass``, ``class`` ("problem", "best practice", "neutral", "suppressed").
        Diffs are country minus comparison group.  Every mean whose own n is below ``min_n`` is
        NaN; diff, p and q are NaN for a test not done.

    Notes
    -----
    Only the answers given to an attribute count for it (available cases: <NA> is left out),
    so ``n`` differs between attributes.  Own-brand customers (``competitor == False``) only,
    except the comparison group of screen 3.

    1. Trend: country mean in ``wave`` vs the country's previous wave with own-brand
       respondents.
    2. Other countries: vs all own-brand respondents of the other countries in ``wave``,
       pooled (exact pooled mean and variance from the group summaries).
    3. Competitors: vs competitor customers (``competitor == True``) of the same country and
       wave.
    4. Rank: the ``extreme_k`` highest means (ties share the better rank) are "top", the
       ``extreme_k`` lowest "bottom"; "top" wins when the two sets overlap (fewer than
       ``2 * extreme_k`` attributes).

    Screens 1-3 use Welch's t-test from the group summaries (:func:`welch_from_summary`).  The
    Benjamini-Hochberg correction is applied once per country, across every test done in the
    three test families and all attributes together (suppressed tests are not counted); a test
    is significant when ``q_value < alpha`` and its direction is the sign of the diff.

    Classification.  Fails: "deteriorated", "below" other countries, "below" competitors,
    "bottom".  Passes: "improved", "above", "above", "top".  Suppressed, "no change",
    "no difference", "no previous wave" and "middle" count as neither.
    ``class = "problem"`` if ``n_fail >= 2 and n_fail > n_pass``; ``"best practice"`` if
    ``n_pass >= 2 and n_pass > n_fail``; ``"suppressed"`` if the country's own cell is below
    ``min_n`` (every screen is then suppressed); else ``"neutral"``.

    The screens are a practitioners' device, not a single published procedure; the rules above
    are this project's.  Tested on synthetic data with a planted deterioration, country
    advantage and competitor gap; BH against statsmodels ``multipletests(method="fdr_bh")``;
    means against pandas on the raw subsets.

    References
    ----------
    Welch, B. L. (1947). Biometrika, 34(1-2), 28-35.
    Benjamini, Y., & Hochberg, Y. (1995). JRSS B, 57(1), 289-300.
    """
    attrs = _validate(
        df,
        attributes,
        country_col=country_col,
        wave_col=wave_col,
        competitor_col=competitor_col,
        alpha=alpha,
        min_n=min_n,
        extreme_k=extreme_k,
        what="four_screens",
    )
    summaries = _summaries(df, attrs, country_col, wave_col, competitor_col)
    if not np.any(summaries.country == country):
        raise DataError(
            f"four_screens: country {country!r} not found in column {country_col!r}; "
            f"found {sorted(map(str, set(summaries.country)))}"
        )
    return _country_screens(
        summaries, country, wave, attrs, alpha=alpha, min_n=min_n, extreme_k=extreme_k
    )


def screens_all_countries(
    df: pd.DataFrame,
    *,
    attributes: Sequence[str],
    countries: Sequence[str] | None = None,
    wave: str | None = None,
    country_col: str = "country",
    wave_col: str = "wave",
    competitor_col: str = "competitor",
    alpha: float = 0.05,
    min_n: int = DEFAULT_MIN_N,
    extreme_k: int = 3,
) -> pd.DataFrame:
    """Four-screen analysis of every country, as one long table for the global summary.

    Parameters
    ----------
    df : pandas.DataFrame
        Responses (see :func:`four_screens`).
    attributes : sequence of str
        Attribute columns.
    countries : sequence of str, optional
        Countries to screen; default every country with own-brand respondents (in ``wave`` when
        given), sorted.
    wave : str, optional
        Wave for every country; default each country's own latest wave.
    country_col, wave_col, competitor_col, alpha, min_n, extreme_k
        As in :func:`four_screens`.

    Returns
    -------
    pandas.DataFrame
        ``country``, ``attribute`` and the columns of :func:`four_screens`, one row per country
        and attribute (RangeIndex).

    Notes
    -----
    The group summaries are computed once (one groupby over country, wave and competitor) and
    every country is screened from them, so the result equals :func:`four_screens` per country
    (tested); the BH correction stays per country.

    References
    ----------
    Benjamini, Y., & Hochberg, Y. (1995). JRSS B, 57(1), 289-300.
    """
    attrs = _validate(
        df,
        attributes,
        country_col=country_col,
        wave_col=wave_col,
        competitor_col=competitor_col,
        alpha=alpha,
        min_n=min_n,
        extreme_k=extreme_k,
        what="screens_all_countries",
    )
    summaries = _summaries(df, attrs, country_col, wave_col, competitor_col)
    if countries is None:
        own = ~summaries.competitor
        if wave is not None:
            own = own & (summaries.wave == wave)
        countries = sorted(set(summaries.country[own]), key=str)
    elif isinstance(countries, str):
        raise DataError(
            f"screens_all_countries: countries must be a list, found the string {countries!r}"
        )
    frames = []
    for country in countries:
        table = _country_screens(
            summaries, country, wave, attrs, alpha=alpha, min_n=min_n, extreme_k=extreme_k
        )
        table.insert(0, "country", country)
        frames.append(table.reset_index())
    if not frames:
        raise DataError(
            f"screens_all_countries: no country has own-brand respondents in wave {wave!r}"
        )
    out = pd.concat(frames, ignore_index=True)
    return out[
        ["country", "attribute", *[c for c in out.columns if c not in ("country", "attribute")]]
    ]
