"""Tests of csatlib.stats.nps: closed forms, independent references, properties, grouping,
coverage."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from csatlib.errors import DataError
from csatlib.stats import nps as nps_module
from csatlib.stats.design import cluster_codes, domain_means
from csatlib.stats.nps import (
    NPSDifference,
    NPSResult,
    _cluster_codes,
    _from_sums,
    classify,
    nps,
    nps_by_group,
    nps_difference,
    nps_vs_rest,
    nps_wave_change,
)

Z95 = 1.959963984540054  # standard normal 0.975 quantile (tables: 1.95996)


def _sample(n_pro: int, n_pas: int, n_det: int) -> list[int]:
    return [10] * (n_pro // 2) + [9] * (n_pro - n_pro // 2) + [8] * n_pas + [3] * n_det


def _adjusted_wald_by_hand(x_pro: float, x_pas: float, x_det: float) -> tuple[float, float]:
    """Rocks (2016) adjusted Wald written out: +3/4 promoters, +3/2 passives, +3/4 detractors."""
    n_adj = x_pro + x_pas + x_det + 3.0
    pp = (x_pro + 0.75) / n_adj
    pd_ = (x_det + 0.75) / n_adj
    centre = pp - pd_
    half = Z95 * math.sqrt((pp + pd_ - centre**2) / n_adj)
    return 100 * max(centre - half, -1.0), 100 * min(centre + half, 1.0)


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": pd.Categorical(rng.choice(["DE", "FR", "NA", "JP"], n)),
            "wave": pd.Categorical(
                rng.choice(["2025-Q4", "2026-Q1", "2026-Q2"], n),
                categories=["2025-Q4", "2026-Q1", "2026-Q2"],
                ordered=True,
            ),
            "likelihood_to_recommend": pd.array(rng.integers(0, 11, n), dtype="Int64"),
            "w": rng.lognormal(0.0, 0.6, n),
        }
    )


# --------------------------------------------------------------------------- closed forms


def test_known_trinomial_by_hand() -> None:
    # 25 promoters, 15 passives, 10 detractors: NPS = 100 (25 - 10) / 50 = 30;
    # Var = (0.5 + 0.2 - 0.3^2) / 50 = 0.0122, se = 100 sqrt(0.0122) = 11.0453610...
    r = nps(_sample(25, 15, 10))
    assert r.score == 30.0
    assert (r.promoters, r.passives, r.detractors) == (0.5, 0.3, 0.2)
    assert r.se == pytest.approx(100 * math.sqrt(0.0122), rel=1e-12)
    assert r.se == pytest.approx(11.04536102, abs=1e-8)
    # adjusted counts 25.75 / 16.5 / 10.75 of 53: centre 15/53, interval 7.2995 .. 49.3043
    lo, hi = _adjusted_wald_by_hand(25, 15, 10)
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx((7.2995, 49.3043), abs=1e-4)
    assert r.n == 50 and r.n_eff == 50 and not r.weighted and r.method == "adjusted-wald"


def test_all_promoters_and_all_detractors() -> None:
    r = nps([10, 9] * 10)
    assert (r.score, r.se, r.ci_high) == (100.0, 0.0, 100.0)
    # the plain Wald interval would have zero width; the adjusted one does not
    assert r.ci_low == pytest.approx(_adjusted_wald_by_hand(20, 0, 0)[0], rel=1e-12)
    assert 60 < r.ci_low < 80
    d = nps([0, 6] * 10)
    assert (d.score, d.se, d.ci_low) == (-100.0, 0.0, -100.0)
    assert d.ci_high == pytest.approx(-r.ci_low, rel=1e-12)  # symmetric pseudo-counts


def test_cutoffs_and_one_to_ten_scale() -> None:
    scores = [1, 5, 6, 7, 8, 9, 10]
    default = nps(scores, scale=(1, 10))  # det 1,5,6; pas 7,8; pro 9,10
    assert default.score == pytest.approx(100 * (2 - 3) / 7)
    custom = nps(scores, scale=(1, 10), promoter_min=8, detractor_max=5)  # det 1,5; pro 8,9,10
    assert custom.score == pytest.approx(100 * (3 - 2) / 7)
    with pytest.raises(DataError, match=r"found 0 at position 2"):
        nps([5, 7, 0, 9], scale=(1, 10))
    with pytest.raises(DataError, match="detractor_max < promoter_min"):
        nps(scores, promoter_min=6, detractor_max=6)
    with pytest.raises(DataError, match="scale"):
        nps(scores, scale=(10, 0))


# --------------------------------------------------------------------------- validation


def test_out_of_range_value_is_named_with_its_position() -> None:
    with pytest.raises(DataError, match=r"found 11 at position 3 \(1 invalid"):
        nps([9, 10, 7, 11, 3])
    s = pd.Series([9, 10, -1], index=["r1", "r2", "r3"])
    with pytest.raises(DataError, match=r"found -1 at row 'r3' \(position 2\)"):
        nps(s)
    with pytest.raises(DataError, match=r"7\.5"):
        nps([7.5, 9.0])
    with pytest.raises(DataError, match=r"'n/a' at position 1"):
        nps(["9", "n/a", "7"])


@pytest.mark.parametrize(
    ("scores", "weights", "pattern"),
    [
        ([], None, "at least one valid score"),
        ([np.nan, None], None, "all missing"),
        ([9, 7], [1.0, -2.0], r"weight >= 0 .* found -2\.0 at position 1"),
        ([9, 7], [1.0, np.nan], r"found nan at position 1"),
        ([9, 7], [1.0], "one weight per score"),
        ([9, 7], [0.0, 0.0], "positive total weight"),
        ([True, False], None, "booleans"),
    ],
)
def test_bad_input_raises_data_error(scores: list, weights: list | None, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        nps(scores, weights)


def test_conf_is_validated() -> None:
    with pytest.raises(DataError, match="conf"):
        nps([9, 10], conf=95)


def test_missing_scores_are_dropped_with_their_weights() -> None:
    s = pd.Series([10, pd.NA, 3, 8, pd.NA, 9], dtype="Int64")
    w = np.array([1.0, np.nan, 2.0, 0.5, 100.0, 1.5])  # NaN weight allowed on a missing score
    full = nps(s, w)
    kept = nps([10, 3, 8, 9], [1.0, 2.0, 0.5, 1.5])
    assert full == kept
    assert nps([10, np.nan, 3]).n == 2


def test_larger_confidence_gives_wider_interval() -> None:
    x = _sample(40, 30, 30)
    r90, r99 = nps(x, conf=0.90), nps(x, conf=0.99)
    assert r99.ci_low < r90.ci_low < r90.ci_high < r99.ci_high


# --------------------------------------------------------------------------- weighted


def _linearized_se_brute_force(y: np.ndarray, w: np.ndarray) -> float:
    """svymean's with-replacement variance written from its definition, one respondent at a time.

    The mean is the ratio of totals R = sum(w y) / sum(w); its linearized (influence) values are
    z_i = w_i (y_i - R) / sum(w), and the with-replacement variance estimator of their total is
    n/(n-1) * sum((z_i - mean z)^2) (Lumley 2010, sec. 2.2; Sarndal et al. 1992, 5.7).
    """
    n = len(y)
    total_w = sum(w)
    ratio = sum(wi * yi for wi, yi in zip(w, y, strict=True)) / total_w
    z = [wi * (yi - ratio) / total_w for wi, yi in zip(w, y, strict=True)]
    zbar = sum(z) / n
    return math.sqrt(n / (n - 1) * sum((zi - zbar) ** 2 for zi in z))


def test_weighted_se_matches_brute_force_and_wls_hc1() -> None:
    rng = np.random.default_rng(11)
    scores = rng.integers(0, 11, 400)
    w = rng.lognormal(0.0, 0.8, 400)
    y = (scores >= 9).astype(float) - (scores <= 6)
    r = nps(scores, w)
    assert r.score == pytest.approx(100 * np.sum(w * y) / np.sum(w), rel=1e-12)
    assert r.se == pytest.approx(100 * _linearized_se_brute_force(y, w), rel=1e-10)
    # statsmodels: WLS of y on a constant with HC1 (n/(n-1)) sandwich covariance is the same
    # estimator as svymean without strata or clusters
    fit = sm.WLS(y, np.ones_like(y), weights=w).fit(cov_type="HC1")
    assert r.se == pytest.approx(100 * fit.bse[0], rel=1e-10)
    assert r.score == pytest.approx(100 * fit.params[0], rel=1e-12)
    assert r.n_eff == pytest.approx(w.sum() ** 2 / (w**2).sum(), rel=1e-12)
    assert r.weighted and r.method == "adjusted-wald-linearized"


def test_weighted_interval_formula() -> None:
    # the documented construction, from per-respondent values: pseudo-counts on Kish's n_eff
    # scale, variance scaled by rho = linearization variance / Kish-predicted variance
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 11, 60)
    w = rng.uniform(0.2, 3.0, 60)
    y = (scores >= 9).astype(float) - (scores <= 6)
    p_pro, p_det = np.average(scores >= 9, weights=w), np.average(scores <= 6, weights=w)
    ybar = p_pro - p_det
    n_eff = w.sum() ** 2 / (w**2).sum()
    rho = np.sum(w**2 * (y - ybar) ** 2) / (np.average((y - ybar) ** 2, weights=w) * (w**2).sum())
    q_pro, q_det = (n_eff * p_pro + 0.75) / (n_eff + 3), (n_eff * p_det + 0.75) / (n_eff + 3)
    half = Z95 * math.sqrt(rho * (q_pro + q_det - (q_pro - q_det) ** 2) / (n_eff + 3))
    r = nps(scores, w)
    assert (r.ci_low, r.ci_high) == pytest.approx(
        (100 * (q_pro - q_det - half), 100 * (q_pro - q_det + half)), rel=1e-10
    )


def test_equal_weights_reproduce_unweighted() -> None:
    x = _sample(23, 11, 17)
    plain = nps(x)
    for c in (1.0, 0.37, 250.0):
        weighted = nps(x, np.full(len(x), c))
        assert weighted.score == pytest.approx(plain.score, abs=1e-12)
        assert weighted.ci_low == pytest.approx(plain.ci_low, abs=1e-12)
        assert weighted.ci_high == pytest.approx(plain.ci_high, abs=1e-12)
        assert weighted.n_eff == pytest.approx(len(x), rel=1e-12)
        # svymean's convention: se larger by sqrt(n/(n-1)) than the trinomial se
        n = len(x)
        assert weighted.se == pytest.approx(plain.se * math.sqrt(n / (n - 1)), rel=1e-12)
    assert nps(x, np.ones(len(x))).score == plain.score  # exactly


def test_weighted_single_category_keeps_a_usable_interval() -> None:
    r = nps([10] * 30, np.linspace(0.5, 2.0, 30))
    assert (r.score, r.se, r.ci_high) == (100.0, 0.0, 100.0)
    assert 60 < r.ci_low < 95


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10), st.floats(0.05, 20.0)),
        min_size=2,
        max_size=60,
    ),
    st.randoms(use_true_random=False),
    st.floats(0.01, 1000.0),
)
def test_properties(rows: list[tuple[int, float]], rnd, factor: float) -> None:
    scores = np.array([s for s, _ in rows])
    w = np.array([x for _, x in rows])
    r = nps(scores)
    assert -100 <= r.ci_low <= r.ci_high <= 100
    assert -100 <= r.score <= 100
    assert r.promoters + r.passives + r.detractors == pytest.approx(1.0)
    rw = nps(scores, w)
    assert -100 <= rw.ci_low <= rw.ci_high <= 100
    # permutation invariance (scores and weights shuffled together)
    order = list(range(len(rows)))
    rnd.shuffle(order)
    shuffled = nps(scores[order], w[order])
    for field in ("score", "se", "ci_low", "ci_high", "n_eff"):
        assert getattr(shuffled, field) == pytest.approx(getattr(rw, field), rel=1e-9, abs=1e-9)
    # scaling every weight by a constant changes nothing
    scaled = nps(scores, w * factor)
    for field in ("score", "se", "ci_low", "ci_high", "n_eff"):
        assert getattr(scaled, field) == pytest.approx(getattr(rw, field), rel=1e-9, abs=1e-9)
    # equal weights == unweighted
    eq = nps(scores, np.full(len(scores), factor))
    assert (eq.score, eq.ci_low, eq.ci_high) == pytest.approx(
        (r.score, r.ci_low, r.ci_high), abs=1e-9
    )


def test_to_dict_is_json_ready() -> None:
    d = nps(_sample(25, 15, 10)).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["score"] == 30.0 and d["se"] == 11.05 and d["ci_low"] == 7.3 and d["n"] == 50
    assert isinstance(d["promoters"], float)
    single = nps([10], [2.0]).to_dict()  # weighted se undefined for n = 1
    assert single["se"] is None


# --------------------------------------------------------------------------- classify


def test_classify() -> None:
    s = pd.Series([0, 6, 7, 8, 9, 10, None], index=list("abcdefg"), dtype="Int64", name="ltr")
    c = classify(s)
    assert list(c.iloc[:6]) == ["detractor"] * 2 + ["passive"] * 2 + ["promoter"] * 2
    assert pd.isna(c.iloc[6])
    assert c.cat.ordered and list(c.cat.categories) == ["detractor", "passive", "promoter"]
    assert list(c.index) == list("abcdefg") and c.name == "ltr"
    assert list(classify([5, 6], promoter_min=6, detractor_max=5)) == ["detractor", "promoter"]
    with pytest.raises(DataError, match="found 12"):
        classify([12])


# --------------------------------------------------------------------------- by group


@pytest.mark.parametrize("weights", [None, "w"])
def test_nps_by_group_equals_nps_per_group(weights: str | None) -> None:
    rng = np.random.default_rng(3)
    df = _frame(rng, 2500)
    df.loc[rng.random(len(df)) < 0.1, "likelihood_to_recommend"] = pd.NA
    table = nps_by_group(df, ["country", "wave"], weights=weights, min_n=1)
    assert list(table.columns) == [
        *["country", "wave", "n", "n_eff", "promoters", "passives", "detractors"],
        *["score", "se", "ci_low", "ci_high", "suppressed"],
    ]
    assert len(table) == 12
    for row in table.itertuples(index=False):
        sub = df[(df["country"] == row.country) & (df["wave"] == row.wave)]
        ref = nps(sub["likelihood_to_recommend"], None if weights is None else sub["w"])
        assert row.n == ref.n
        for field in ("n_eff", "promoters", "passives", "detractors", "score", "se"):
            assert getattr(row, field) == pytest.approx(getattr(ref, field), rel=1e-12)
        assert (row.ci_low, row.ci_high) == pytest.approx((ref.ci_low, ref.ci_high), rel=1e-12)


def test_nps_by_group_order_missing_keys_and_plain_columns() -> None:
    df = pd.DataFrame(
        {
            "wave": pd.Categorical(["b", "a", "b", "a", "a"], categories=["b", "a"], ordered=True),
            "segment": ["x", "x", None, "y", "y"],
            "likelihood_to_recommend": [10, 3, 9, 8, 10],
        }
    )
    t = nps_by_group(df, ["wave", "segment"], min_n=1)
    # category order (b before a), plain column sorted, the row without a segment left out
    assert list(zip(t["wave"], t["segment"], strict=True)) == [("b", "x"), ("a", "x"), ("a", "y")]
    assert t["wave"].dtype == df["wave"].dtype
    assert list(t["score"]) == [100.0, -100.0, 50.0]


def test_nps_by_group_suppresses_small_cells() -> None:
    df = pd.DataFrame(
        {
            "country": ["DE"] * 40 + ["FR"] * 29 + ["JP"] * 30,
            "likelihood_to_recommend": [10] * 40 + [3] * 29 + [np.nan] + [9] * 29,
        }
    )
    t = nps_by_group(df, "country").set_index("country")
    assert list(t["suppressed"]) == [False, True, True]  # JP: 30 rows but 29 valid scores
    assert list(t["n"]) == [40, 29, 29]
    estimates = ["n_eff", "promoters", "passives", "detractors", "score", "se", "ci_low"]
    assert t.loc[["FR", "JP"], [*estimates, "ci_high"]].isna().all().all()
    assert t.loc["DE", "score"] == 100.0
    assert not nps_by_group(df, "country", min_n=29)["suppressed"].any()


def test_nps_by_group_validates_columns_and_values() -> None:
    df = pd.DataFrame({"country": ["DE", "FR"], "likelihood_to_recommend": [10, 42]})
    with pytest.raises(DataError, match="'segment'"):
        nps_by_group(df, "segment")
    with pytest.raises(
        DataError, match=r"column 'likelihood_to_recommend'.*found 42 at position 1"
    ):
        nps_by_group(df, "country")


# --------------------------------------------------------------------------- min_n


def _one_respondent_cell() -> pd.DataFrame:
    """DE: two promoters, a passive and a detractor; LU: a single promoter."""
    return pd.DataFrame(
        {
            "country": ["DE"] * 4 + ["LU"],
            "wave": ["2026-Q1"] * 5,
            "likelihood_to_recommend": [10, 9, 7, 3, 10],
        }
    )


def test_min_n_one_shows_a_single_respondent_without_an_interval() -> None:
    df = _one_respondent_cell()
    t = nps_by_group(df, "country", min_n=1).set_index("country")
    assert not t["suppressed"].any()
    # DE by hand: (2 - 1) / 4 = 25 points; trinomial variance 0.5 + 0.25 - 0.25^2 = 0.6875
    assert t.loc["DE", "score"] == 25.0
    assert t.loc["DE", "se"] == pytest.approx(100 * math.sqrt(0.6875 / 4), rel=1e-12)
    # LU: its score is shown, but one respondent has no variance, hence no se and no interval
    assert t.loc["LU", "n"] == 1 and t.loc["LU", "score"] == 100.0
    assert t.loc["LU", ["se", "ci_low", "ci_high"]].isna().all()
    single = nps([10])
    assert single.score == 100.0 and single.n == 1
    assert math.isnan(single.se) and math.isnan(single.ci_low) and math.isnan(single.ci_high)
    # a comparison with a one-respondent side is not tested (it is not suppressed either)
    rest = nps_vs_rest(df, min_n=1).set_index("country")
    assert not rest["suppressed"].any() and rest.loc["LU", "diff"] == 75.0
    assert rest["p_value"].isna().all() and rest["significant"].isna().all()
    lone = nps_difference([10], [10, 9, 7, 3])
    assert lone.diff == 75.0 and math.isnan(lone.se) and math.isnan(lone.p_value)


@pytest.mark.parametrize("bad", [0, True, 1.5])
def test_min_n_must_be_an_int_of_at_least_one(bad: object) -> None:
    df = _one_respondent_cell()
    calls = {
        "nps_by_group": lambda: nps_by_group(df, "country", min_n=bad),
        "nps_vs_rest": lambda: nps_vs_rest(df, min_n=bad),
        "nps_wave_change": lambda: nps_wave_change(df, min_n=bad),
    }
    for func, call in calls.items():
        message = f"The 'min_n' parameter of {func} must be an int >= 1; got {bad!r}."
        with pytest.raises(DataError, match=re.escape(message)):
            call()


def test_messages_name_the_public_function() -> None:
    df = _one_respondent_cell()
    with pytest.raises(
        DataError, match=re.escape("The 'conf' parameter of nps must be a float in (0, 1); got 95.")
    ):
        nps([9, 10], conf=95)
    with pytest.raises(DataError, match="'conf' parameter of nps_difference .* got 1.0"):
        nps_difference([9], [10], conf=1.0)
    with pytest.raises(DataError, match="'alpha' parameter of nps_wave_change .* got 0"):
        nps_wave_change(df, alpha=0)
    with pytest.raises(DataError, match=r"nps_wave_change: missing column\(s\) 'quarter'"):
        nps_wave_change(df, wave="quarter")
    with pytest.raises(DataError, match=r"nps_vs_rest: missing column\(s\) 'region'"):
        nps_vs_rest(df, group="region")


# --------------------------------------------------------------------------- differences


def _adjusted_by_hand(x_pro: float, x_pas: float, x_det: float) -> tuple[float, float]:
    """Adjusted Wald centre and variance of one sample (indicator scale), written out."""
    n_adj = x_pro + x_pas + x_det + 3.0
    pp, pd_ = (x_pro + 0.75) / n_adj, (x_det + 0.75) / n_adj
    return pp - pd_, (pp + pd_ - (pp - pd_) ** 2) / n_adj


def test_nps_difference_by_hand() -> None:
    a, b = _sample(25, 15, 10), _sample(10, 20, 20)
    d = nps_difference(a, b)
    ra, rb = nps(a), nps(b)
    diff = 30.0 - (-20.0)
    se = math.sqrt(ra.se**2 + rb.se**2)
    assert isinstance(d, NPSDifference)
    assert (d.diff, d.n_a, d.n_b) == (diff, 50, 50)
    assert d.se == pytest.approx(se, rel=1e-12)
    # the test: adjusted Wald difference, the pseudo-counts of the interval in each sample.
    # a: centre 15/53; b: (10.75 - 20.75)/53 = -10/53 -> diff_adjusted = 100 * 25/53 = 47.17
    ca, va = _adjusted_by_hand(25, 15, 10)
    cb, vb = _adjusted_by_hand(10, 20, 20)
    assert (ca, cb) == pytest.approx((15 / 53, -10 / 53), rel=1e-12)
    diff_adj, se_adj = 100 * (ca - cb), 100 * math.sqrt(va + vb)
    z = diff_adj / se_adj
    assert d.diff_adjusted == pytest.approx(diff_adj, rel=1e-12)
    assert d.se_adjusted == pytest.approx(se_adj, rel=1e-12)
    assert d.z == pytest.approx(z, rel=1e-12)
    assert d.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-9)
    expected = (diff_adj - Z95 * se_adj, diff_adj + Z95 * se_adj)
    assert (d.ci_low, d.ci_high) == pytest.approx(expected, rel=1e-12)
    assert nps_difference(b, a).z == pytest.approx(-d.z)
    # the interval excludes 0 exactly when p < 0.05
    assert (d.ci_low > 0) == (d.p_value < 0.05)


def test_nps_difference_degenerate_samples() -> None:
    # both samples all promoters: no evidence of a difference (the adjusted centres 30/33 and
    # 40/43 differ a little, z = -0.27)
    same = nps_difference([10] * 30, [9] * 40)
    assert (same.diff, same.se) == (0.0, 0.0)
    assert same.p_value > 0.5
    # all promoters against all detractors: overwhelming, but not certain
    opposite = nps_difference([10] * 30, [0] * 40)
    assert opposite.diff == 200.0 and opposite.se == 0.0
    assert 0.0 < opposite.p_value < 1e-50
    assert opposite.ci_high <= 200.0


def test_no_certainty_from_five_answers() -> None:
    # plain Wald: se = 0 (one category per sample), so z = inf and p = 0 from ten answers
    d = nps_difference([10] * 5, [8] * 5)
    assert (d.diff, d.se) == (100.0, 0.0)
    # by hand: centres 5/8 and 0; variances (6.5/8 - (5/8)^2)/8 and (1.5/8)/8
    z = 0.625 / math.sqrt((6.5 / 8 - 0.625**2) / 8 + 1.5 / 64)
    assert d.z == pytest.approx(z, rel=1e-12)
    assert d.p_value == pytest.approx(0.0235400582612, rel=1e-9)  # 2 * (1 - Phi(2.26455))
    # more cautious than the exact permutation test of the 2 x 3 table (all 5 promoters fall
    # in one sample: 2 / C(10, 5) = 2/252)
    assert d.p_value > 2 / 252
    # a zero se is not certainty in the tables either
    df = pd.DataFrame(
        {
            "country": ["DE"] * 10,
            "wave": ["2026-Q1"] * 5 + ["2026-Q2"] * 5,
            "likelihood_to_recommend": [8] * 5 + [10] * 5,
        }
    )
    row = nps_wave_change(df, min_n=5).iloc[0]
    assert (row["change"], row["se"]) == (100.0, 0.0)
    assert row["p_value"] == pytest.approx(d.p_value, rel=1e-12)


def test_adjusted_test_agrees_with_the_plain_test_in_large_samples() -> None:
    rng = np.random.default_rng(4)
    a = rng.choice(11, 5000, p=np.r_[np.full(7, 0.30 / 7), 0.10, 0.10, 0.25, 0.25])
    b = rng.choice(11, 5000, p=np.r_[np.full(7, 0.28 / 7), 0.12, 0.10, 0.25, 0.25])
    d = nps_difference(a, b)
    z_plain = d.diff / d.se
    p_plain = math.erfc(abs(z_plain) / math.sqrt(2))
    assert 0.01 < p_plain < 0.5  # a moderate difference, where the p-value matters
    assert d.z == pytest.approx(z_plain, rel=1e-3)
    assert abs(d.p_value - p_plain) < 1e-3
    assert (d.ci_low, d.ci_high) == pytest.approx(
        (d.diff - Z95 * d.se, d.diff + Z95 * d.se), abs=0.02
    )


def test_nps_wave_change() -> None:
    rng = np.random.default_rng(8)
    df = _frame(rng, 3000)
    df = df[~((df["country"] == "JP") & (df["wave"] == "2026-Q1"))]  # JP skips a wave
    table = nps_wave_change(df, min_n=30)
    jp = table[table["country"] == "JP"]
    assert list(jp["wave"]) == ["2026-Q2"] and list(jp["previous_wave"]) == ["2025-Q4"]
    assert len(table) == 3 * 2 + 1
    row = table[(table["country"] == "DE") & (table["wave"] == "2026-Q2")].iloc[0]
    cur = df[(df["country"] == "DE") & (df["wave"] == "2026-Q2")]["likelihood_to_recommend"]
    prev = df[(df["country"] == "DE") & (df["wave"] == "2026-Q1")]["likelihood_to_recommend"]
    ref = nps_difference(cur, prev)
    assert row["change"] == pytest.approx(ref.diff, rel=1e-12)
    assert row["se"] == pytest.approx(ref.se, rel=1e-12)
    assert row["p_value"] == pytest.approx(ref.p_value, rel=1e-9)
    assert row["significant"] == (ref.p_value < 0.05)
    assert row["n"] == len(cur) and row["n_previous"] == len(prev)
    # suppressed when either side is below min_n
    small = nps_wave_change(df, min_n=len(cur) + 1)
    srow = small[(small["country"] == "DE") & (small["wave"] == "2026-Q2")].iloc[0]
    assert srow["suppressed"] and np.isnan(srow["change"]) and pd.isna(srow["significant"])
    assert np.isnan(srow["score_previous"])


def test_nps_vs_rest() -> None:
    rng = np.random.default_rng(9)
    df = _frame(rng, 2000)
    table = nps_vs_rest(df, weights="w").set_index("country")
    for country in ("DE", "NA"):
        inside = df["country"] == country
        ref = nps_difference(
            df.loc[inside, "likelihood_to_recommend"],
            df.loc[~inside, "likelihood_to_recommend"],
            weights_a=df.loc[inside, "w"],
            weights_b=df.loc[~inside, "w"],
        )
        row = table.loc[country]
        assert row["diff"] == pytest.approx(ref.diff, rel=1e-10)
        assert row["se"] == pytest.approx(ref.se, rel=1e-10)
        assert row["p_value"] == pytest.approx(ref.p_value, rel=1e-8)
        assert row["n"] + row["n_rest"] == len(df)
    assert not table["suppressed"].any()
    lone = pd.DataFrame({"country": ["DE"] * 50, "likelihood_to_recommend": [9] * 50})
    assert nps_vs_rest(lone)["suppressed"].all()  # no rest to compare with


# --------------------------------------------------------------------------- clustered

# Reference numbers: R 4.2.2, survey 4.1.1, on ``_clustered_study()`` written with
# ``df.to_csv(index=False)`` and read with ``read.csv(na.strings = c("", "NA"))``; the two rows
# without an account get ids of their own (``own<row>``), ``ltr = likelihood_to_recommend``:
#   des <- svydesign(ids = ~account, weights = ~w, data = df)   # unweighted: no weights=
#   d <- subset(des, !is.na(ltr))
#   "all":   svymean(~I(100 * ((ltr >= 9) - (ltr <= 6))), d)
#   "DE":    the same on svydesign(..., data = df[df$country == "DE", ])
#   by group: d <- update(d, y = 100 * ((ltr >= 9) - (ltr <= 6)))
#            b <- svyby(~y, ~country + wave, d, svymean, covmat = TRUE)
#   change:  svycontrast(b, cc), cc = -1 at "DE.2025-Q4", +1 at "DE.2026-Q1", 0 elsewhere, ...
#   vs rest: b2 <- svyby(~y, ~in_group, update(d, in_group = factor(country == "DE",
#            levels = c(FALSE, TRUE))), svymean, covmat = TRUE); svycontrast(b2, c(-1, 1))
# Coefficients and SEs printed with sprintf("%.12f").
R_NPS = {  # (data, weights) -> (coef, SE)
    ("all", None): (15.841584158416, 10.035324665925),
    ("all", "w"): (14.413518886680, 10.446183314494),
    ("DE", None): (1.234567901235, 17.637023599201),
    ("DE", "w"): (0.735294117647, 18.212912525981),
}
R_SVYBY = {  # weights -> {(country, wave): (coef, SE)}
    None: {
        ("DE", "2025-Q4"): (-18.181818181818, 22.865507142769),
        ("FR", "2025-Q4"): (33.333333333333, 19.260048334793),
        ("JP", "2025-Q4"): (-10.000000000000, 22.346439612685),
        ("US", "2025-Q4"): (-25.000000000000, 16.624383300445),
        ("DE", "2026-Q1"): (4.545454545455, 27.003360401682),
        ("FR", "2026-Q1"): (40.740740740741, 17.199769813491),
        ("JP", "2026-Q1"): (10.344827586207, 17.859546634691),
        ("US", "2026-Q1"): (0.000000000000, 32.296661194686),
        ("DE", "2026-Q2"): (23.076923076923, 22.429164125888),
        ("FR", "2026-Q2"): (64.516129032258, 10.951093531153),
        ("JP", "2026-Q2"): (23.529411764706, 21.893440281968),
        ("US", "2026-Q2"): (14.814814814815, 27.504009498907),
    },
    "w": {
        ("DE", "2025-Q4"): (-25.961538461538, 25.051352133644),
        ("FR", "2025-Q4"): (32.407407407407, 19.087239080618),
        ("JP", "2025-Q4"): (-5.154639175258, 22.579841009147),
        ("US", "2025-Q4"): (-20.000000000000, 18.520988824224),
        ("DE", "2026-Q1"): (8.235294117647, 23.700226159945),
        ("FR", "2026-Q1"): (42.718446601942, 15.803140917234),
        ("JP", "2026-Q1"): (4.494382022472, 20.404587451355),
        ("US", "2026-Q1"): (7.142857142857, 37.804124715629),
        ("DE", "2026-Q2"): (26.506024096386, 25.165227075645),
        ("FR", "2026-Q2"): (64.285714285714, 11.065412387540),
        ("JP", "2026-Q2"): (16.666666666667, 24.877781814200),
        ("US", "2026-Q2"): (4.395604395604, 32.905944199231),
    },
}
R_CHANGE = {  # weights -> {(country, wave): (svycontrast coef, SE)}, wave minus previous wave
    None: {
        ("DE", "2026-Q1"): (22.727272727273, 26.910114229053),
        ("DE", "2026-Q2"): (18.531468531469, 38.467216967045),
        ("FR", "2026-Q1"): (7.407407407407, 13.184770376985),
        ("FR", "2026-Q2"): (23.775388291517, 9.107662744469),
        ("JP", "2026-Q1"): (20.344827586207, 19.649536818591),
        ("JP", "2026-Q2"): (13.184584178499, 16.151617823469),
        ("US", "2026-Q1"): (25.000000000000, 33.648565734307),
        ("US", "2026-Q2"): (14.814814814815, 39.296271099268),
    },
    "w": {
        ("DE", "2026-Q1"): (34.196832579186, 22.927616088600),
        ("DE", "2026-Q2"): (18.270729978738, 38.283516897730),
        ("FR", "2026-Q1"): (10.311039194534, 14.239500711012),
        ("FR", "2026-Q2"): (21.567267683773, 9.398065907132),
        ("JP", "2026-Q1"): (9.649021197730, 17.123594255773),
        ("JP", "2026-Q2"): (12.172284644195, 20.928819161131),
        ("US", "2026-Q1"): (27.142857142857, 38.719224178305),
        ("US", "2026-Q2"): (-2.747252747253, 43.182172349231),
    },
}
R_VS_REST = {  # weights -> {country: (svycontrast coef, SE, vcov(b2)[1, 2])}
    None: {
        "DE": (-19.936603269937, 19.138340362307, 24.705229932145),
        "FR": (43.323657474601, 16.072845272425, 40.805048678094),
        "JP": (-14.120102017157, 20.983474823789, 7.039221405991),
        "US": (-17.133431085044, 22.523537461461, 0.361902911331),
    },
    "w": {
        "DE": (-18.746994710691, 20.322341990542, 19.730849770208),
        "FR": (43.396982049632, 16.464082668475, 36.950844450784),
        "JP": (-13.936255315566, 23.395894411134, 6.075739841578),
        "US": (-17.704517704518, 26.247923690086, 0.472277998673),
    },
}


def _clustered_study() -> pd.DataFrame:
    """36 accounts in 4 countries and 3 waves: an account effect (respondents of one account
    answer alike), most accounts answer in 2-3 waves with 1-5 respondents each, every ninth
    account also answers from a second country, weights 0.5-3, four missing scores and two
    respondents without an account."""
    rng = np.random.default_rng(15)
    countries = ["DE", "FR", "JP", "US"]
    waves = ["2025-Q4", "2026-Q1", "2026-Q2"]
    rows = []
    for a in range(36):
        home = countries[a % 4]
        where = [home, countries[(a + 1) % 4]] if a % 9 == 0 else [home]
        effect = rng.normal(0.0, 1.5)
        answered = [w for w in waves if rng.random() < 0.8] or [waves[a % 3]]
        for wave in answered:
            for country in where:
                for _ in range(int(rng.integers(1, 6))):
                    shift = 0.3 * waves.index(wave) + (0.5 if country == "FR" else 0.0)
                    ltr = int(np.clip(np.rint(7.2 + effect + shift + rng.normal(0, 1.4)), 0, 10))
                    rows.append(
                        {
                            "account": f"K{a:02d}",
                            "country": country,
                            "wave": wave,
                            "likelihood_to_recommend": float(ltr),
                            "w": float(rng.choice([0.5, 1.0, 1.5, 2.0, 3.0])),
                        }
                    )
    df = pd.DataFrame(rows)
    df.loc[[5, 48, 101, 160], "likelihood_to_recommend"] = np.nan
    df.loc[[20, 77], "account"] = None
    # the data R saw: a different random stream would fail here, not in the estimators
    assert (len(df), df["account"].nunique(), df["likelihood_to_recommend"].sum()) == (
        307,
        36,
        2372.0,
    )
    assert df["w"].sum() == 508.5
    return df


def _nps_points(df: pd.DataFrame) -> np.ndarray:
    ltr = df["likelihood_to_recommend"]
    y = 100 * ((ltr >= 9).astype(float) - (ltr <= 6).astype(float))
    return y.where(ltr.notna()).to_numpy()


@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("data", ["all", "DE"])
def test_clustered_nps_equals_r_svymean(data: str, weights: str | None) -> None:
    df = _clustered_study()
    if data == "DE":
        df = df[df["country"] == "DE"]
    r = nps(
        df["likelihood_to_recommend"],
        None if weights is None else df[weights],
        clusters=df["account"],
    )
    coef, se = R_NPS[(data, weights)]
    assert (r.score, r.se) == pytest.approx((coef, se), abs=1e-8)
    answering = df.loc[df["likelihood_to_recommend"].notna(), "account"]
    own = answering.isna().sum()  # respondents without an account count one each
    assert r.n_clusters == answering.nunique() + own
    assert r.method == "adjusted-wald-clustered" and r.weighted == (weights is not None)
    # design effect as csatlib.stats.design (itself checked against R survey)
    w = None if weights is None else df[weights]
    ref = domain_means(_nps_points(df), weights=w, clusters=df["account"]).table.iloc[0]
    assert r.deff == pytest.approx(ref["deff"], rel=1e-10)
    assert r.se == pytest.approx(ref["se"], rel=1e-10)
    assert r.deff > 1.5  # respondents of an account answer alike


@pytest.mark.parametrize("weights", [None, "w"])
def test_clustered_nps_by_group_equals_r_svyby(weights: str | None) -> None:
    df = _clustered_study()
    t = nps_by_group(df, ["country", "wave"], weights=weights, cluster="account", min_n=1)
    assert list(t.columns) == [
        *["country", "wave", "n", "n_clusters", "n_eff", "promoters", "passives"],
        *["detractors", "score", "se", "deff", "ci_low", "ci_high", "suppressed"],
    ]
    reference = R_SVYBY[weights]
    assert len(t) == len(reference)
    for row in t.itertuples(index=False):
        assert (row.score, row.se) == pytest.approx(reference[(row.country, row.wave)], abs=1e-8)
    # deff and n_clusters as csatlib.stats.design and pandas count them
    w = None if weights is None else df[weights]
    domains = (df["country"] + "|" + df["wave"]).to_numpy()
    ref = domain_means(_nps_points(df), domains, weights=w, clusters=df["account"]).table
    keys = t["country"] + "|" + t["wave"]
    assert t["deff"].to_numpy() == pytest.approx(ref.loc[keys, "deff"].to_numpy(), rel=1e-10)
    answered = df[df["likelihood_to_recommend"].notna()]
    own = pd.Series([f"own{i}" for i in answered.index], index=answered.index)
    accounts = answered["account"].fillna(own)
    per_group = accounts.groupby([answered["country"], answered["wave"]]).nunique()
    expected = [per_group[key] for key in zip(t["country"], t["wave"], strict=True)]
    assert list(t["n_clusters"]) == expected


def _interval_variance(row: pd.Series) -> tuple[float, float]:
    """Centre and variance of an unclipped interval (points)."""
    assert row["ci_low"] > -100 and row["ci_high"] < 100
    return (row["ci_low"] + row["ci_high"]) / 2, ((row["ci_high"] - row["ci_low"]) / 2 / Z95) ** 2


@pytest.mark.parametrize("weights", [None, "w"])
def test_clustered_wave_change_equals_r_svycontrast(weights: str | None) -> None:
    df = _clustered_study()
    table = nps_wave_change(df, weights=weights, cluster="account", min_n=1)
    groups = nps_by_group(df, ["country", "wave"], weights=weights, cluster="account", min_n=1)
    groups = groups.set_index(["country", "wave"])
    reference = R_CHANGE[weights]
    assert len(table) == len(reference)
    independent = []
    for row in table.itertuples(index=False):
        key = (row.country, row.wave)
        assert (row.change, row.se) == pytest.approx(reference[key], abs=1e-8)
        cur, prev = groups.loc[key], groups.loc[(row.country, row.previous_wave)]
        independent.append(math.hypot(cur["se"], prev["se"]))
        # the test: adjusted centres and variances of the two intervals, combined with the
        # design's correlation r = cov / (se se'), cov from R's SEs
        cov = (cur["se"] ** 2 + prev["se"] ** 2 - row.se**2) / 2
        r = cov / (cur["se"] * prev["se"])
        (ca, va), (cb, vb) = _interval_variance(cur), _interval_variance(prev)
        se_adj = math.sqrt(va + vb - 2 * r * math.sqrt(va * vb))
        assert row.z == pytest.approx((ca - cb) / se_adj, rel=1e-9)
        # Student's t with the smaller side's accounts minus one degrees of freedom
        df_t = min(cur["n_clusters"], prev["n_clusters"]) - 1
        tq = stats.t.ppf(0.975, df_t)
        assert (row.ci_low, row.ci_high) == pytest.approx(
            (ca - cb - tq * se_adj, ca - cb + tq * se_adj), rel=1e-9
        )
        assert row.p_value == pytest.approx(2 * stats.t.sf(abs(row.z), df_t), rel=1e-9)
    # accounts answering in both waves make them dependent: not the independent-samples SE
    assert np.max(np.abs(np.array(independent) - table["se"].to_numpy())) > 1.0


@pytest.mark.parametrize("weights", [None, "w"])
def test_clustered_vs_rest_equals_r_svycontrast(weights: str | None) -> None:
    df = _clustered_study()
    table = nps_vs_rest(df, weights=weights, cluster="account", min_n=1).set_index("country")
    for country, (diff, se, cov) in R_VS_REST[weights].items():
        row = table.loc[country]
        assert (row["diff"], row["se"]) == pytest.approx((diff, se), abs=1e-8)
        # the rest's SE from the same design, as a domain of its own
        inside = df["country"] == country
        rest_only = df.assign(in_group=np.where(inside, "group", "rest"))
        two = nps_by_group(rest_only, "in_group", weights=weights, cluster="account", min_n=1)
        se_group, se_rest = two.set_index("in_group")["se"]
        # covariance: usually 0, here the multinational accounts answer in both domains
        assert (se_group**2 + se_rest**2 - row["se"] ** 2) / 2 == pytest.approx(cov, abs=1e-8)
        accounts = two.set_index("in_group")["n_clusters"]
        df_t = min(accounts["group"], accounts["rest"]) - 1
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(row["z"]), df_t))


def test_sparse_group_account_table_gives_the_same_numbers(monkeypatch) -> None:
    # large group x account tables are summed over their observed pairs (hashed): same result
    df = _clustered_study()
    dense = nps_wave_change(df, weights="w", cluster="account", min_n=1)
    dense_rest = nps_vs_rest(df, weights="w", cluster="account", min_n=1)
    monkeypatch.setattr(nps_module, "_DENSE_PAIRS", 0)
    monkeypatch.setattr(nps_module, "_DENSE_PER_ROW", 0)
    sparse = nps_wave_change(df, weights="w", cluster="account", min_n=1)
    pd.testing.assert_frame_equal(sparse, dense, rtol=1e-12)
    rest = nps_vs_rest(df, weights="w", cluster="account", min_n=1)
    pd.testing.assert_frame_equal(rest, dense_rest, rtol=1e-12)


def test_identical_answers_within_accounts_by_hand() -> None:
    # four accounts of three identical answers: y = -1 (a, c) and +1 (b, d), mean 0,
    # z_i = y_i / 12, account totals Z = -+1/4, so se^2 = 4/3 * 4/16 = 1/3 (se = 57.74
    # points); each respondent its own cluster: 12/11 * 12/144 = 1/11 -> deff = 11/3
    scores = [3] * 3 + [10] * 3 + [3] * 3 + [10] * 3
    r = nps(scores, clusters=np.repeat(["a", "b", "c", "d"], 3))
    assert (r.score, r.n_clusters) == (0.0, 4)
    assert r.se == pytest.approx(100 / math.sqrt(3), rel=1e-12)
    assert r.deff == pytest.approx(11 / 3, rel=1e-12)
    # adjusted Wald with its variance multiplied by deff: q_P = q_D = 6.75/15 = 0.45,
    # centre 0, variance 11/3 * 0.9/15 = 0.22
    half = 100 * Z95 * math.sqrt(0.22)
    assert (r.ci_low, r.ci_high) == pytest.approx((-half, half), rel=1e-12)
    unclustered = nps(scores)
    assert unclustered.ci_high == pytest.approx(100 * Z95 * math.sqrt(0.9 / 15), rel=1e-12)


def test_each_respondent_its_own_account_is_the_linearized_estimate() -> None:
    x = _sample(23, 11, 17) + [np.nan]
    r = nps(x, clusters=[f"r{i}" for i in range(len(x))])
    # C = N = 52 rows (the missing score keeps its row in the design)
    linearized = nps(x[:-1], np.ones(51)).se * math.sqrt(52 / 51 * 50 / 51)
    assert r.se == pytest.approx(linearized, rel=1e-12)
    assert r.deff == pytest.approx(1.0, rel=1e-12) and r.n_clusters == 51
    plain = nps(x)
    assert (r.ci_low, r.ci_high) == pytest.approx((plain.ci_low, plain.ci_high), rel=1e-12)
    # without clusters nothing changes: no cluster count, design effect 1
    assert (plain.n_clusters, plain.deff) == (None, 1.0)
    assert plain.to_dict()["n_clusters"] is None and r.to_dict()["n_clusters"] == 51


def test_design_effect_below_one_does_not_narrow_the_interval() -> None:
    # every account has one promoter and one detractor: account totals are 0, so the
    # clustered se is 0 and deff = 0 -- but that is not certainty: the interval keeps the
    # unclustered width (deff floored at 1), and a comparison still has a variance
    scores = [10, 0] * 20
    accounts = np.repeat(np.arange(20), 2)
    r = nps(scores, clusters=accounts)
    assert r.se == pytest.approx(0.0, abs=1e-12) and r.deff == pytest.approx(0.0, abs=1e-12)
    plain = nps(scores)
    assert (r.ci_low, r.ci_high) == pytest.approx((plain.ci_low, plain.ci_high), rel=1e-12)
    d = nps_difference(scores, [10] * 40, clusters_a=accounts)
    assert d.se == pytest.approx(nps([10] * 40).se, abs=1e-12)
    assert d.p_value > 0 and math.isfinite(d.se_adjusted) and d.se_adjusted > 5


def test_one_account_shows_no_variance() -> None:
    r = nps([10, 9, 3, 8], clusters=["a"] * 4)
    assert r.n_clusters == 1 and r.score == 25.0
    assert math.isnan(r.se) and math.isnan(r.ci_low) and math.isnan(r.ci_high)
    df = pd.DataFrame(
        {
            "country": ["DE"] * 4 + ["FR"] * 4,
            "account": ["a"] * 4 + ["b", "c", "d", "d"],
            "likelihood_to_recommend": [10, 9, 3, 8, 10, 6, 9, 7],
        }
    )
    t = nps_by_group(df, "country", cluster="account", min_n=1).set_index("country")
    assert list(t["n_clusters"]) == [1, 3]
    assert t.loc["DE", ["se", "ci_low", "ci_high"]].isna().all()
    assert t.loc["FR", ["se", "ci_low", "ci_high"]].notna().all()
    rest = nps_vs_rest(df, cluster="account", min_n=1)
    assert rest["p_value"].isna().all() and rest["significant"].isna().all()


def test_missing_account_keys_are_accounts_of_their_own() -> None:
    keys = ["a", None, "a", np.nan, "b", "c"]
    codes, n_psu = _cluster_codes(keys, 6, what="clusters")
    reference = cluster_codes(keys, 6)
    assert n_psu == len(set(reference)) == 5
    assert (pd.factorize(codes)[0] == pd.factorize(reference)[0]).all()
    # categorical keys with unused categories: the same partition, unused categories not counted
    cat = pd.Series(pd.Categorical(keys, categories=["z", "c", "b", "a"]))
    codes_cat, n_cat = _cluster_codes(cat, 6, what="clusters")
    assert n_cat == 5 and (pd.factorize(codes_cat)[0] == pd.factorize(reference)[0]).all()
    r = nps([10, 9, 3, 8, 10, 6], clusters=keys)
    assert r.n_clusters == 5


def test_nps_by_group_of_one_group_equals_nps() -> None:
    df = _clustered_study()
    t = nps_by_group(df.assign(all="all"), "all", weights="w", cluster="account", min_n=1)
    r = nps(df["likelihood_to_recommend"], df["w"], clusters=df["account"])
    row = t.iloc[0]
    for field in ("score", "se", "deff", "ci_low", "ci_high", "n_eff"):
        assert row[field] == pytest.approx(getattr(r, field), rel=1e-12)
    assert row["n_clusters"] == r.n_clusters and row["n"] == r.n


def test_clusters_are_validated() -> None:
    with pytest.raises(DataError, match=r"clusters: expected one account key per score \(3\)"):
        nps([9, 10, 3], clusters=["a", "b"])
    df = _one_respondent_cell()
    with pytest.raises(DataError, match=r"nps_by_group: missing column\(s\) 'account'"):
        nps_by_group(df, "country", cluster="account")
    with pytest.raises(DataError, match=r"nps_wave_change: missing column\(s\) 'account'"):
        nps_wave_change(df, cluster="account")
    with pytest.raises(DataError, match=r"nps_vs_rest: missing column\(s\) 'account'"):
        nps_vs_rest(df, cluster="account")


# --------------------------------------------------------------------------- coverage


def _coverage(n: int, shares: tuple[float, float, float], reps: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, shares, size=reps).astype(float)  # detractors, passives, promoters
    size = np.full(reps, float(n))
    sums = {
        "n": size,
        "sw": size,
        "sw2": size,
        "swp": counts[:, 2],
        "swd": counts[:, 0],
        "sw2p": counts[:, 2],
        "sw2d": counts[:, 0],
    }
    est = _from_sums(sums, weighted=False, conf=0.95)
    truth = 100 * (shares[2] - shares[0])
    return float(np.mean((est["ci_low"] <= truth) & (truth <= est["ci_high"])))


@pytest.mark.slow
@pytest.mark.parametrize("n", [30, 100, 500, 2000])
@pytest.mark.parametrize(
    "shares",
    [
        *[(0.80, 0.15, 0.05), (0.05, 0.15, 0.80)],
        *[(0.7, 0.2, 0.1), (0.1, 0.2, 0.7)],
        *[(0.02, 0.08, 0.90), (0.3, 0.3, 0.4)],
    ],
)
def test_interval_coverage(n: int, shares: tuple[float, float, float]) -> None:
    # shares are (detractors, passives, promoters); 20,000 samples: Monte-Carlo se 0.15 points
    assert _coverage(n, shares, 20_000, seed=20261125 + n) >= 0.93


@pytest.mark.slow
@pytest.mark.parametrize("n", [100, 500, 2000])
def test_weighted_interval_coverage(n: int) -> None:
    # two strata: A (30 % of the population) over-sampled to 60 % of the sample, weights
    # = population share / sample share x lognormal noise; truth is the population NPS
    rng = np.random.default_rng(n)
    reps = 3000
    shares_a, shares_b = np.array([0.3, 0.3, 0.4]), np.array([0.1, 0.4, 0.5])
    truth = 100 * (0.3 * (0.4 - 0.3) + 0.7 * (0.5 - 0.1))
    in_a = rng.random((reps, n)) < 0.6
    u = rng.random((reps, n))
    cat = np.where(
        in_a, np.searchsorted(shares_a.cumsum(), u), np.searchsorted(shares_b.cumsum(), u)
    )
    w = np.where(in_a, 0.3 / 0.6, 0.7 / 0.4) * rng.lognormal(0.0, 0.5, (reps, n))
    pro, det = cat >= 2, cat == 0
    sums = {
        "n": np.full(reps, float(n)),
        "sw": w.sum(1),
        "sw2": (w * w).sum(1),
        "swp": (w * pro).sum(1),
        "swd": (w * det).sum(1),
        "sw2p": (w * w * pro).sum(1),
        "sw2d": (w * w * det).sum(1),
    }
    est = _from_sums(sums, weighted=True, conf=0.95)
    coverage = np.mean((est["ci_low"] <= truth) & (truth <= est["ci_high"]))
    assert coverage >= 0.93


def test_result_types() -> None:
    r = nps([9, 10, 3])
    assert isinstance(r, NPSResult) and isinstance(r.n, int)
    with pytest.raises(AttributeError):
        r.score = 0.0  # type: ignore[misc]


def test_one_clustered_respondent_has_no_interval_and_no_error() -> None:
    # A single answer with its account: a score, but no variance, no design effect, no interval.
    result = nps([9], clusters=["acme"])
    assert result.score == pytest.approx(100.0)
    assert np.isnan(result.se) and np.isnan(result.ci_low) and np.isnan(result.ci_high)


def test_a_single_group_has_no_rest_and_says_so_without_a_warning() -> None:
    import warnings

    df = pd.DataFrame(
        {
            "country": ["DE"] * 40,
            "likelihood_to_recommend": [10, 9, 8, 3] * 10,
            "account": [f"A{k % 8}" for k in range(40)],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's divide warnings would reach the report
        for cluster in (None, "account"):
            rest = nps_vs_rest(df, cluster=cluster, min_n=1)
            assert len(rest) == 1 and rest["p_value"].isna().all(), cluster
