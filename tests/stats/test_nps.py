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

from csatlib.errors import DataError
from csatlib.stats.nps import (
    NPSDifference,
    NPSResult,
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


def test_nps_difference_by_hand() -> None:
    a, b = _sample(25, 15, 10), _sample(10, 20, 20)
    d = nps_difference(a, b)
    ra, rb = nps(a), nps(b)
    diff = 30.0 - (-20.0)
    se = math.sqrt(ra.se**2 + rb.se**2)
    z = diff / se
    assert isinstance(d, NPSDifference)
    assert (d.diff, d.n_a, d.n_b) == (diff, 50, 50)
    assert d.se == pytest.approx(se, rel=1e-12)
    assert d.z == pytest.approx(z, rel=1e-12)
    assert d.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-9)
    assert (d.ci_low, d.ci_high) == pytest.approx((diff - Z95 * se, diff + Z95 * se), rel=1e-12)
    assert nps_difference(b, a).z == pytest.approx(-d.z)


def test_nps_difference_degenerate_samples() -> None:
    same = nps_difference([10] * 30, [9] * 40)
    assert (same.diff, same.z, same.p_value) == (0.0, 0.0, 1.0)
    opposite = nps_difference([10] * 30, [0] * 40)
    assert opposite.diff == 200.0 and opposite.p_value == 0.0


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
