"""Four-screen analysis: is an attribute a problem or a best practice in a country?

Each attribute mean of a country (own-brand customers, one wave) is put through four screens:
its trend against the study's previous wave, the other countries, the competitors' customers in
the same country, and its rank among the country's attributes.  Attributes failing most screens
are "problems", those passing most are "best practices"; an attribute whose class depends on
screens that too few respondents allowed is "not enough data".  Statistics only: tests come from
group summaries (mean, variance, n) computed with one groupby, and with accounts as clusters from
per-account sums of the same groups (one design, :mod:`csatlib.stats.design`).  q-values follow
the project's one policy (:mod:`csatlib.stats.multiplicity`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy import stats

from csatlib import roles
from csatlib.config import DEFAULT_MIN_N
from csatlib.errors import DataError
from csatlib.stats.design import cluster_codes
from csatlib.stats.multiplicity import (
    CHANGE_LABELS,
    DIFFERENCE_LABELS,
    NO_PREVIOUS_WAVE,
    NO_PREVIOUS_WAVE_DATA,
    SUPPRESSED,
    adjust,
    verdict,
)
from csatlib.stats.scores import _domain_design
from csatlib.validation import check_alpha, check_min_n, require_columns

__all__ = [
    "SUPPRESSED",
    "NOT_ENOUGH_DATA",
    "UNDECIDED",
    "WelchResult",
    "welch_from_summary",
    "classify",
    "four_screens",
    "screens_all_countries",
]

#: The class of an attribute that screens lacking respondents could still change.
NOT_ENOUGH_DATA: Final = "not enough data"
NO_OTHER_COUNTRIES: Final = "no other countries"  # none in the wave: screen 2 does not apply
NO_COMPETITORS: Final = "no competitors' customers"  # none here: screen 3 does not apply
#: Verdicts of screens 1-3 of a shown attribute that too few respondents left open.
UNDECIDED: Final = frozenset({SUPPRESSED, NO_PREVIOUS_WAVE_DATA})

_SCREEN_LABELS: Final = {
    "trend": CHANGE_LABELS,
    "vs_countries": DIFFERENCE_LABELS,
    "vs_competitors": DIFFERENCE_LABELS,
}
_FAIL_VERDICTS = {
    "trend_verdict": CHANGE_LABELS[1],
    "vs_countries_verdict": DIFFERENCE_LABELS[1],
    "vs_competitors_verdict": DIFFERENCE_LABELS[1],
    "rank_verdict": "bottom",
}
_PASS_VERDICTS = {
    "trend_verdict": CHANGE_LABELS[0],
    "vs_countries_verdict": DIFFERENCE_LABELS[0],
    "vs_competitors_verdict": DIFFERENCE_LABELS[0],
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
        variances are zero there is nothing to test against (every answer alike on both
        sides, typically a handful of them): p is NaN, never 0, so a zero SE is not certainty.

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
    p = np.where(valid & (se == 0), np.nan, p)
    se, t, dof, p = (np.where(valid, a, np.nan) for a in (se, t, dof, p))
    diff = np.where(valid, diff, np.nan)
    if diff.ndim == 0:
        return WelchResult(float(diff), float(se), float(t), float(dof), float(p))
    return WelchResult(diff, se, t, dof, p)


# --- group summaries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    """What a clustered variance needs: each row's group (-1: none), its cluster code and the
    attribute values (rows x attributes)."""

    group: np.ndarray
    codes: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class _Summaries:
    """Per (country, wave, competitor) group and attribute: n, mean, var (groups x attributes),
    the group's respondents (``rows``), the study's waves in order and the design (or None)."""

    country: np.ndarray
    wave: np.ndarray
    competitor: np.ndarray
    rows: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    waves: list[str]
    design: _Design | None


@dataclass(frozen=True)
class _Cell:
    n: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    rows: int


def _summaries(
    df: pd.DataFrame,
    attributes: Sequence[str],
    country_col: str,
    wave_col: str,
    competitor_col: str,
    cluster: str | None,
) -> _Summaries:
    values = {
        f"_a{i}": df[a].to_numpy(dtype="float64", na_value=np.nan) for i, a in enumerate(attributes)
    }
    frame = pd.DataFrame(values, index=df.index)
    frame["_country"] = df[country_col].to_numpy()
    # waves as text, the form of csatlib.roles.wave_order
    frame["_wave"] = df[wave_col].astype(object).map(str, na_action="ignore").to_numpy()
    frame["_competitor"] = df[competitor_col].to_numpy(dtype=bool)
    value_cols = list(values)
    # One groupby; count/mean/var skip NaN, i.e. per-attribute available cases (don't-know out).
    grouped = frame.groupby(["_country", "_wave", "_competitor"], sort=False)[value_cols]
    agg = grouped.agg(["count", "mean", "var"])
    keys = agg.index
    design = None
    if cluster is not None:
        group = grouped.ngroup().to_numpy(dtype="float64", na_value=np.nan)
        design = _Design(
            group=np.where(np.isnan(group), -1, group).astype(np.int64),
            codes=cluster_codes(df[cluster], len(df)),
            values=frame[value_cols].to_numpy(dtype="float64"),
        )
    return _Summaries(
        country=np.asarray(keys.get_level_values(0), dtype=object),
        wave=np.asarray(keys.get_level_values(1), dtype=object),
        competitor=np.asarray(keys.get_level_values(2), dtype=bool),
        rows=grouped.size().to_numpy(dtype="float64"),
        n=agg.xs("count", axis=1, level=1).to_numpy(dtype="float64"),
        mean=agg.xs("mean", axis=1, level=1).to_numpy(dtype="float64"),
        var=agg.xs("var", axis=1, level=1).to_numpy(dtype="float64"),
        waves=roles.wave_order(df[wave_col]),
        design=design,
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
    return _Cell(n=total, mean=pooled_mean, var=pooled_var, rows=int(s.rows[rows].sum()))


def _difference_variances(
    design: _Design, domains: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Clustered variance of (first domain's mean - each other domain's mean), per attribute,
    and the clusters answering in each domain.

    ``domains`` are disjoint masks over the groups: the domains of one design over every row
    (``svyby(..., covmat = TRUE)`` then ``svycontrast``; estimator of
    :func:`csatlib.stats.design.domain_means`). Returns arrays (len(domains) - 1) x attributes
    and len(domains) x attributes.
    """
    label = np.full(len(domains[0]) + 1, -1, dtype=np.int64)  # last: rows in no group
    for k, mask in enumerate(domains):
        label[:-1][mask] = k
    row_domain = label[design.group]
    others = np.arange(1, len(domains))
    n_attr = design.values.shape[1]
    var = np.empty((len(others), n_attr))
    clusters = np.empty((len(domains), n_attr))
    for j in range(n_attr):
        d = _domain_design(design.values[:, j], row_domain, len(domains), design.codes)
        cov = d.cov(others, np.zeros(len(others), dtype=np.int64))
        var[:, j] = d.var[0] + d.var[others] - 2.0 * cov
        clusters[:, j] = d.n_clusters
    return var, clusters


# --- validation ----------------------------------------------------------------------------------


def _validate(
    df: pd.DataFrame,
    attributes: Sequence[str],
    *,
    country_col: str,
    wave_col: str,
    competitor_col: str,
    cluster: str | None,
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
    keys = [country_col, wave_col, competitor_col, *([cluster] if cluster is not None else [])]
    require_columns(df, [*keys, *attrs], what)
    overlap = set(keys) & set(attrs)
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


def _own_waves(s: _Summaries, country: Hashable) -> list[str]:
    rows = (s.country == country) & ~s.competitor
    present = set(s.wave[rows])
    return [w for w in s.waves if w in present]


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
    masks = _screen_masks(s, country, wave, previous)
    cells = {name: _pool(s, mask) for name, mask in masks.items()}
    base, prior, others, rivals = cells.values()
    base_ok = base.n >= min_n
    tests = _screen_tests(s, cells, masks, min_n)
    q = _q_values(tests)
    absent = {
        "trend": NO_PREVIOUS_WAVE if previous is None else NO_PREVIOUS_WAVE_DATA,
        "vs_countries": NO_OTHER_COUNTRIES,
        "vs_competitors": NO_COMPETITORS,
    }
    verdicts = {}
    for name, (up, down, none) in _SCREEN_LABELS.items():
        tested, diff = tests[name][:2]
        untested = SUPPRESSED if cells[name].rows > 0 else absent[name]
        found = verdict(diff, q[name], alpha=alpha, up=up, down=down, none=none)
        # tested without a p-value: two constant, equal groups
        reason = np.select([tested, base_ok], [none, untested], SUPPRESSED)
        verdicts[name] = np.where(pd.isna(found), reason, found).astype(object)
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
            "trend_se": tests["trend"][2],
            "trend_p_value": tests["trend"][3],
            "trend_q_value": q["trend"],
            "trend_verdict": verdicts["trend"],
            "other_countries_n": others.n.astype("int64"),
            "other_countries_mean": _shown(others, min_n),
            "vs_countries_diff": tests["vs_countries"][1],
            "vs_countries_se": tests["vs_countries"][2],
            "vs_countries_p_value": tests["vs_countries"][3],
            "vs_countries_q_value": q["vs_countries"],
            "vs_countries_verdict": verdicts["vs_countries"],
            "competitors_n": rivals.n.astype("int64"),
            "competitors_mean": _shown(rivals, min_n),
            "vs_competitors_diff": tests["vs_competitors"][1],
            "vs_competitors_se": tests["vs_competitors"][2],
            "vs_competitors_p_value": tests["vs_competitors"][3],
            "vs_competitors_q_value": q["vs_competitors"],
            "vs_competitors_verdict": verdicts["vs_competitors"],
            "rank": pd.array(np.where(base_ok, rank_high, np.nan), dtype="Float64").astype("Int64"),
            "rank_verdict": rank_verdict,
        },
        index=pd.Index(attributes, name="attribute"),
    )
    return classify(out)


def _wave_and_previous(
    s: _Summaries, country: Hashable, wave: Hashable | None
) -> tuple[str, str | None]:
    """The wave screened (default: the country's latest) and the study's wave before it."""
    own_waves = _own_waves(s, country)
    if not own_waves:
        raise DataError(
            f"four_screens: country {country!r} has no own-brand respondents in the data"
        )
    if wave is None:
        wave = own_waves[-1]
    elif str(wave) not in own_waves:
        raise DataError(
            f"four_screens: country {country!r} has no own-brand respondents in wave {wave!r}; "
            f"waves with respondents: {own_waves}"
        )
    wave = str(wave)
    return wave, roles.previous_wave(s.waves, wave)


def _screen_masks(s: _Summaries, country: Hashable, wave: str, previous: str | None) -> dict:
    """Groups of the country's own cell (``base``) and of its three comparisons: the previous
    wave (``trend``), the other countries pooled and competitors' customers."""
    in_country = s.country == country
    own = ~s.competitor
    in_wave = s.wave == wave
    no_group = np.zeros(len(s.country), dtype=bool)
    return {
        "base": in_country & own & in_wave,
        "trend": no_group if previous is None else in_country & own & (s.wave == previous),
        "vs_countries": ~in_country & own & in_wave,
        "vs_competitors": in_country & s.competitor & in_wave,
    }


def _screen_tests(
    s: _Summaries, cells: dict[str, _Cell], masks: dict[str, np.ndarray], min_n: int
) -> dict[str, tuple[np.ndarray, ...]]:
    """Each comparison of the own cell: (tested, diff, se, p). Welch's t from the group
    summaries; with accounts as clusters, a z test whose SE comes from one design."""
    base = cells["base"]
    names = list(_SCREEN_LABELS)
    if s.design is not None:
        domains = [masks["base"], *(masks[k] for k in names)]
        variances, clusters = _difference_variances(s.design, domains)
    tests = {}
    for i, name in enumerate(names):
        other = cells[name]
        # A test needs two answers on each side, whatever min_n allows.
        tested = (base.n >= min_n) & (other.n >= min_n) & (base.n >= 2) & (other.n >= 2)
        if s.design is None:
            w = welch_from_summary(base.mean, base.var, base.n, other.mean, other.var, other.n)
            diff, se, p = w.diff, w.se, w.p_value
        else:
            # ... and two accounts on each side: one account's mean has no variance estimate
            tested &= (clusters[0] >= 2) & (clusters[i + 1] >= 2)
            df = np.minimum(clusters[0], clusters[i + 1]) - 1.0
            diff, se, p = _t_test(base.mean - other.mean, variances[i], df)
        tests[name] = (tested, *(np.where(tested, v, np.nan) for v in (diff, se, p)))
    return tests


def _t_test(
    diff: np.ndarray, var: np.ndarray, df: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(diff, se, p) of a two-sided test of a clustered difference: Student's t with the
    smaller side's accounts minus one degrees of freedom (Korn & Graubard 1999; as
    :func:`csatlib.stats.nps.nps_wave_change`); with no variance, no test (p NaN, never 0)."""
    se = np.sqrt(np.clip(var, 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2.0 * stats.t.sf(np.abs(diff / se), np.where(df >= 1, df, np.nan))
    p = np.where(se == 0, np.nan, p)
    return diff, se, p


def _q_values(tests: dict[str, tuple[np.ndarray, ...]]) -> dict[str, np.ndarray]:
    """One family per country: every test of screens 1-3 over all attributes
    (:func:`csatlib.stats.multiplicity.adjust`)."""
    q_all = adjust(np.concatenate([tests[k][3] for k in tests]))
    return dict(zip(tests, np.split(q_all, len(tests)), strict=True))


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


def _rule(n_fail: np.ndarray, n_pass: np.ndarray) -> np.ndarray:
    return np.select(
        [(n_fail >= 2) & (n_fail > n_pass), (n_pass >= 2) & (n_pass > n_fail)],
        ["problem", "best practice"],
        "neutral",
    )


def _classify(
    n_fail: np.ndarray,
    n_pass: np.ndarray,
    base_ok: np.ndarray,
    n_undecided: np.ndarray | None = None,
) -> np.ndarray:
    """The class; "not enough data" when some outcome of the undecided screens changes it."""
    n_fail, n_pass = np.asarray(n_fail), np.asarray(n_pass)
    open_ = np.zeros_like(n_fail) if n_undecided is None else np.asarray(n_undecided)
    found = _rule(n_fail, n_pass)
    decided = np.ones(found.shape, dtype=bool)
    for extra in range(1, int(open_.max(initial=0)) + 1):
        for fails in range(extra + 1):
            other = _rule(n_fail + fails, n_pass + extra - fails)
            decided &= (open_ < extra) | (other == found)
    return np.select([~base_ok, ~decided], [SUPPRESSED, NOT_ENOUGH_DATA], found).astype(object)


def classify(table: pd.DataFrame) -> pd.DataFrame:
    """``n_fail``, ``n_pass``, ``n_undecided`` and ``class`` of a four-screen table, from its
    verdicts (the rule in :func:`four_screens`); a copy of ``table`` with those columns set.

    Used by :func:`four_screens` and, after q-values over a country's whole family, by
    :func:`csatlib.stats.multiplicity.country_family_q`.
    """
    out = table.copy()
    n_fail = sum((out[col] == v).astype("int64") for col, v in _FAIL_VERDICTS.items())
    n_pass = sum((out[col] == v).astype("int64") for col, v in _PASS_VERDICTS.items())
    n_open = sum(out[f"{name}_verdict"].isin(UNDECIDED).astype("int64") for name in _SCREEN_LABELS)
    base_ok = ~out["suppressed"].to_numpy(dtype=bool)
    out["n_fail"] = n_fail
    out["n_pass"] = n_pass
    out["n_undecided"] = np.where(base_ok, n_open, 0)
    out["class"] = _classify(
        n_fail.to_numpy(), n_pass.to_numpy(), base_ok, out["n_undecided"].to_numpy()
    )
    return out


def four_screens(
    df: pd.DataFrame,
    *,
    country: str,
    attributes: Sequence[str],
    wave: str | None = None,
    country_col: str = "country",
    wave_col: str = "wave",
    competitor_col: str = "competitor",
    cluster: str | None = None,
    alpha: float = 0.05,
    min_n: int = DEFAULT_MIN_N,
    extreme_k: int = 3,
) -> pd.DataFrame:
    """Four-screen analysis of a country's attributes: problems and best practices.

    Parameters
    ----------
    df : pandas.DataFrame
        Responses of the whole study (every country and wave, own brand and competitors'
        customers) with the country, wave and competitor (bool) columns and the attributes
        (numeric, <NA> = don't know).
    country : str
        Country code as in ``country_col`` (e.g. "DE").
    attributes : sequence of str
        Attribute columns to screen, in the order of the result.
    wave : str, optional
        Wave to analyse; default the latest wave with own-brand respondents in the country.
    country_col, wave_col, competitor_col : str
        Column names.  Waves are ordered by :func:`csatlib.roles.wave_order`.
    cluster : str, optional
        Column of the primary sampling unit (the customer account); None: respondents are
        independent (Welch's t).  With a column: every mean is a domain of one design over all
        rows of ``df`` and each comparison is a z test on it (see Notes).
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
        ``wave``, ``previous_wave`` (the study's wave before ``wave``; None for the first),
        ``n``, ``mean`` (own-brand customers of the country in the wave), ``suppressed``
        (``n < min_n``);
        screen 1: ``previous_n``, ``previous_mean``, ``trend_diff``, ``trend_se``,
        ``trend_p_value``, ``trend_q_value``, ``trend_verdict`` ("improved", "deteriorated",
        "no change", "no previous wave" (the study's first wave), "no previous wave data" (the
        country has no own-brand respondent in the previous wave), "suppressed");
        screen 2: ``other_countries_n``, ``other_countries_mean``, ``vs_countries_diff``,
        ``vs_countries_se``, ``vs_countries_p_value``, ``vs_countries_q_value``,
        ``vs_countries_verdict`` ("above", "below", "no difference", "no other countries",
        "suppressed");
        screen 3: ``competitors_n``, ``competitors_mean``, ``vs_competitors_diff``,
        ``vs_competitors_se``, ``vs_competitors_p_value``, ``vs_competitors_q_value``,
        ``vs_competitors_verdict`` (as screen 2, "no competitors' customers" when the country
        has none in the wave);
        screen 4: ``rank`` (1 = highest mean among the country's unsuppressed attributes, Int64),
        ``rank_verdict`` ("top", "bottom", "middle", "suppressed");
        ``n_fail``, ``n_pass``, ``n_undecided`` (screens 1-3 left open by too few respondents:
        "suppressed" or "no previous wave data"), ``class`` ("problem", "best practice",
        "neutral", "not enough data", "suppressed").
        Diffs are country minus comparison group, ``_se`` their standard error (Welch's, or
        the design's with ``cluster``).  Every mean whose own n is below ``min_n`` is NaN; diff,
        se, p and q are NaN for a test not done.

    Notes
    -----
    Only the answers given to an attribute count for it (available cases: <NA> is left out),
    so ``n`` differs between attributes.  Own-brand customers (``competitor == False``) only,
    except the comparison group of screen 3.

    1. Trend: country mean in ``wave`` vs the study's previous wave
       (:func:`csatlib.roles.previous_wave`), the wave the headline and
       :func:`csatlib.stats.scores.trends` compare with; a country without respondents in it
       has "no previous wave data" (an older wave is never used instead).
    2. Other countries: vs all own-brand respondents of the other countries in ``wave``,
       pooled (exact pooled mean and variance from the group summaries).
    3. Competitors: vs competitor customers (``competitor == True``) of the same country and
       wave.
    4. Rank: the ``extreme_k`` highest means (ties share the better rank) are "top", the
       ``extreme_k`` lowest "bottom"; "top" wins when the two sets overlap (fewer than
       ``2 * extreme_k`` attributes).

    Tests.  Without ``cluster``, screens 1-3 use Welch's t-test from the group summaries
    (:func:`welch_from_summary`).  With ``cluster``, the two means of a comparison are domains
    of one design, ``svydesign(ids = ~cluster)`` over every row of ``df`` (accounts answering in
    both waves, or as own and competitor customers, are counted once): the SE of the difference
    is :math:`\\sqrt{V_a + V_b - 2 C_{ab}}` from the linearization covariance of
    :mod:`csatlib.stats.design`, and the test is a two-sided z test (``svycontrast`` of
    ``svyby(~x, ~group, design, svymean, covmat = TRUE)``).  q-values: Benjamini-Hochberg once
    per country, across every test done in the three screens and all attributes together
    (suppressed tests are not counted; :func:`csatlib.stats.multiplicity.adjust`); a test is
    significant when ``q_value < alpha`` and its direction is the sign of the diff.  For the
    report's whole family (with the trends) use
    :func:`csatlib.stats.multiplicity.country_family_q`.

    Classification (:func:`classify`).  Fails: "deteriorated", "below" other countries,
    "below" competitors, "bottom".  Passes: "improved", "above", "above", "top".  The other
    verdicts count as neither.  The rule: ``"problem"`` if ``n_fail >= 2 and n_fail >
    n_pass``; ``"best practice"`` if ``n_pass >= 2 and n_pass > n_fail``; else ``"neutral"``.
    When screens are undecided ("suppressed" or "no previous wave data": too few respondents
    to test) and some outcome of them (each a fail, a pass or neither) would give another
    class, the class is ``"not enough data"``, never "neutral": too few respondents is not
    "no problem".  Screens that do not apply (the study's first wave, no other countries, no
    competitors' customers) are not undecided.  ``"suppressed"`` if the country's own cell is
    below ``min_n`` (every screen is then suppressed).

    The screens are a practitioners' device, not a single published procedure; the rules above
    are this project's.  Tested on synthetic data with a planted deterioration, country
    advantage and competitor gap; means against pandas on the raw subsets; Welch against
    scipy; the clustered differences against R survey 4.1-1 (``svyby`` + ``svycontrast``) to
    1e-8 in tests/stats/test_screens.py.

    References
    ----------
    Welch, B. L. (1947). Biometrika, 34(1-2), 28-35.
    Benjamini, Y., & Hochberg, Y. (1995). JRSS B, 57(1), 289-300.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley (domains, ch. 2-3).
    """
    attrs = _validate(
        df,
        attributes,
        country_col=country_col,
        wave_col=wave_col,
        competitor_col=competitor_col,
        cluster=cluster,
        alpha=alpha,
        min_n=min_n,
        extreme_k=extreme_k,
        what="four_screens",
    )
    summaries = _summaries(df, attrs, country_col, wave_col, competitor_col, cluster)
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
    cluster: str | None = None,
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
    country_col, wave_col, competitor_col, cluster, alpha, min_n, extreme_k
        As in :func:`four_screens`.

    Returns
    -------
    pandas.DataFrame
        ``country``, ``attribute`` and the columns of :func:`four_screens`, one row per country
        and attribute (RangeIndex).

    Notes
    -----
    The group summaries (and, with ``cluster``, the per-account sums of the design) are
    computed once and every country is screened from them, so the result equals
    :func:`four_screens` per country (tested); the BH correction stays per country.

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
        cluster=cluster,
        alpha=alpha,
        min_n=min_n,
        extreme_k=extreme_k,
        what="screens_all_countries",
    )
    summaries = _summaries(df, attrs, country_col, wave_col, competitor_col, cluster)
    if countries is None:
        own = ~summaries.competitor
        if wave is not None:
            own = own & (summaries.wave == str(wave))
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
