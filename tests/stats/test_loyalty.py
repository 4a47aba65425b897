"""Tests of csatlib.stats.loyalty: Cronbach's alpha, item-total correlations, loyalty index."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csatlib.errors import DataError
from csatlib.stats.loyalty import (
    cronbach_alpha,
    item_total_correlations,
    loyalty_index,
    loyalty_summary,
)

# The sample study's four loyalty items (1-10), dimension -> column.
LOYALTY_ITEMS = {
    "emotional": "loyalty_emotional",
    "attitudinal": "loyalty_attitudinal",
    "cognitive": "loyalty_cognitive",
    "referral": "loyalty_referral",
}
SCALE = (1, 10)

# R `datasets::attitude` (Chatterjee & Price, 1977: 30 departments, 7 questions), copied from
# vincentarelbundock/Rdatasets csv/datasets/attitude.csv.
ATTITUDE = pd.DataFrame(
    [
        [43, 51, 30, 39, 61, 92, 45], [63, 64, 51, 54, 63, 73, 47], [71, 70, 68, 69, 76, 86, 48],
        [61, 63, 45, 47, 54, 84, 35], [81, 78, 56, 66, 71, 83, 47], [43, 55, 49, 44, 54, 49, 34],
        [58, 67, 42, 56, 66, 68, 35], [71, 75, 50, 55, 70, 66, 41], [72, 82, 72, 67, 71, 83, 31],
        [67, 61, 45, 47, 62, 80, 41], [64, 53, 53, 58, 58, 67, 34], [67, 60, 47, 39, 59, 74, 41],
        [69, 62, 57, 42, 55, 63, 25], [68, 83, 83, 45, 59, 77, 35], [77, 77, 54, 72, 79, 77, 46],
        [81, 90, 50, 72, 60, 54, 36], [74, 85, 64, 69, 79, 79, 63], [65, 60, 65, 75, 55, 80, 60],
        [65, 70, 46, 57, 75, 85, 46], [50, 58, 68, 54, 64, 78, 52], [50, 40, 33, 34, 43, 64, 33],
        [64, 61, 52, 62, 66, 80, 41], [53, 66, 52, 50, 63, 80, 37], [40, 37, 42, 58, 50, 57, 49],
        [63, 54, 42, 48, 66, 75, 33], [66, 77, 66, 63, 88, 76, 72], [78, 75, 58, 74, 80, 78, 49],
        [48, 57, 44, 45, 51, 83, 38], [85, 85, 71, 71, 77, 74, 55], [82, 82, 39, 59, 64, 78, 39],
    ],
    columns=["rating", "complaints", "privileges", "learning", "raises", "critical", "advance"],
)  # fmt: skip


def _congeneric_data(n: int = 200, seed: int = 1) -> pd.DataFrame:
    """Data whose sample correlation matrix is exactly psych's sim.congeneric() default.

    sim.congeneric(loads = c(.8, .7, .6, .5)) returns the model correlation matrix
    r_ij = l_i * l_j; whitening random data and colouring it with that matrix gives raw data
    with exactly those correlations and unit variances.
    """
    loads = np.array([0.8, 0.7, 0.6, 0.5])
    r = np.outer(loads, loads)
    np.fill_diagonal(r, 1.0)
    z = np.random.default_rng(seed).normal(size=(n, 4))
    z -= z.mean(axis=0)
    white = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    return pd.DataFrame(white @ np.linalg.cholesky(r).T, columns=["V1", "V2", "V3", "V4"])


def _likert(n: int, k: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 1))
    x = np.clip(np.round(6 + 1.5 * latent + rng.normal(scale=1.2, size=(n, k))), 1, 10)
    return pd.DataFrame(x.astype(int), columns=[f"item{i}" for i in range(k)]).astype("Int64")


# --- Cronbach's alpha ----------------------------------------------------------------------------


def test_alpha_attitude_matches_published_psych_value() -> None:
    # psych documentation, alpha.scale example: alpha.scale(rowSums(attitude), attitude)
    # "#[1] 0.8431428" (raw alpha from item and total variances).
    result = cronbach_alpha(ATTITUDE)
    assert result.alpha == pytest.approx(0.8431428, abs=5e-8)
    assert (result.n, result.k) == (30, 7)


def test_alpha_congeneric_matches_published_psych_output() -> None:
    # psych alpha() help example, alpha(sim.congeneric()) printed output (2 decimals):
    # raw_alpha 0.74, std.alpha 0.74; alpha.drop raw_alpha V1..V4 = 0.62 0.66 0.70 0.74;
    # item statistics r.drop V1..V4 = 0.64 0.57 0.51 0.43.
    result = cronbach_alpha(_congeneric_data())
    assert result.alpha == pytest.approx(0.74, abs=0.005)
    assert result.std_alpha == pytest.approx(0.74, abs=0.005)
    stats_ = result.item_stats
    np.testing.assert_allclose(stats_["alpha_if_dropped"], [0.62, 0.66, 0.70, 0.74], atol=0.005)
    np.testing.assert_allclose(stats_["r_drop"], [0.64, 0.57, 0.51, 0.43], atol=0.005)
    # Closed form of that matrix: k/(k-1) * (1 - k / sum(R)), sum(R) = 4 + 2 * 2.51.
    assert result.alpha == pytest.approx(4 / 3 * (1 - 4 / 9.02), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_variance_ratio_equals_average_covariance_form(seed: int) -> None:
    items = _likert(150, 5, seed)
    cov = items.astype(float).cov().to_numpy()
    k = cov.shape[0]
    mean_cov = (cov.sum() - np.trace(cov)) / (k * (k - 1))
    # alpha = k^2 * mean covariance / total variance (Cronbach 1951, eq. 16 form).
    assert cronbach_alpha(items).alpha == pytest.approx(k**2 * mean_cov / cov.sum(), rel=1e-12)


def test_std_alpha_is_raw_alpha_of_standardized_items() -> None:
    items = _likert(120, 4, 5).astype(float)
    z = (items - items.mean()) / items.std()
    result = cronbach_alpha(items)
    assert result.std_alpha == pytest.approx(cronbach_alpha(z).alpha, rel=1e-12)
    assert result.std_alpha != pytest.approx(result.alpha, rel=1e-6)


def test_alpha_if_dropped_equals_refit_without_the_item() -> None:
    result = cronbach_alpha(ATTITUDE)
    for item in ATTITUDE.columns:
        refit = cronbach_alpha(ATTITUDE.drop(columns=item)).alpha
        assert result.item_stats.loc[item, "alpha_if_dropped"] == pytest.approx(refit, rel=1e-12)
    # 'critical' is the weakest item: dropping it raises alpha above the full-scale value.
    assert result.item_stats["alpha_if_dropped"].idxmax() == "critical"
    assert result.item_stats.loc["critical", "alpha_if_dropped"] > result.alpha


def test_alpha_listwise_deletion_and_item_means() -> None:
    items = _likert(100, 4, 9)
    items.iloc[[3, 10, 57], 1] = pd.NA
    items.iloc[[10, 80], 3] = pd.NA
    result = cronbach_alpha(items)
    complete = items.dropna().astype(float)
    assert result.n == 96
    assert result.alpha == pytest.approx(cronbach_alpha(complete).alpha, rel=1e-12)
    np.testing.assert_allclose(result.item_stats["mean"], complete.mean(), rtol=1e-12)
    np.testing.assert_allclose(result.item_stats["sd"], complete.std(), rtol=1e-12)


def test_alpha_two_items_has_no_alpha_if_dropped() -> None:
    result = cronbach_alpha(ATTITUDE[["rating", "complaints"]])
    assert result.item_stats["alpha_if_dropped"].isna().all()
    # Two items: alpha = 2 * (1 - (v1 + v2) / var(x1 + x2)).
    v = ATTITUDE[["rating", "complaints"]].var()
    total = (ATTITUDE["rating"] + ATTITUDE["complaints"]).var()
    assert result.alpha == pytest.approx(2 * (1 - v.sum() / total), rel=1e-12)


def test_alpha_validation_messages() -> None:
    with pytest.raises(DataError, match="at least 2 item columns"):
        cronbach_alpha(ATTITUDE[["rating"]])
    with pytest.raises(DataError, match="'label' must be numeric"):
        cronbach_alpha(ATTITUDE.assign(label="x"))
    few = pd.DataFrame(
        {"a": pd.array([1, pd.NA, 3], "Int64"), "b": pd.array([1, 2, pd.NA], "Int64")}
    )
    with pytest.raises(DataError, match="found 1"):
        cronbach_alpha(few)


# --- item-total correlations ---------------------------------------------------------------------


def test_item_total_correlations_match_pandas_corr() -> None:
    items = _likert(200, 4, 3)
    items.iloc[5, 2] = pd.NA
    table = item_total_correlations(items)
    complete = items.dropna().astype(float)
    for item in complete.columns:
        rest = complete.drop(columns=item).sum(axis=1)
        total = complete.sum(axis=1)
        assert table.loc[item, "r_drop"] == pytest.approx(complete[item].corr(rest), rel=1e-12)
        assert table.loc[item, "r_total"] == pytest.approx(complete[item].corr(total), rel=1e-12)
    assert (table["n"] == 199).all()
    # The corrected correlation is always below the uncorrected one (item not in its own total).
    assert (table["r_drop"] < table["r_total"]).all()


def test_r_drop_in_alpha_equals_item_total_correlations() -> None:
    np.testing.assert_allclose(
        cronbach_alpha(ATTITUDE).item_stats["r_drop"],
        item_total_correlations(ATTITUDE)["r_drop"],
        rtol=1e-12,
    )


# --- loyalty index -------------------------------------------------------------------------------


def _loyalty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "loyalty_emotional": pd.array([10, 1, 7, pd.NA, 4], "Int64"),
            "loyalty_attitudinal": pd.array([10, 1, 8, pd.NA, pd.NA], "Int64"),
            "loyalty_cognitive": pd.array([10, 1, 9, 5, pd.NA], "Int64"),
            "loyalty_referral": pd.array([10, 1, pd.NA, 6, 4], "Int64"),
        },
        index=pd.Index([11, 12, 13, 14, 15], name="row"),
    )


def test_loyalty_index_hand_computed() -> None:
    index = loyalty_index(_loyalty_frame(), LOYALTY_ITEMS, scale=SCALE)
    assert index.name == "loyalty_index"
    assert str(index.dtype) == "Float64"
    assert list(index.index) == [11, 12, 13, 14, 15]
    assert index.loc[11] == 100.0 and index.loc[12] == 0.0
    # Row 13: mean(7, 8, 9) = 8 -> (8 - 1) / 9 * 100.
    assert index.loc[13] == pytest.approx(700 / 9, rel=1e-12)
    # Rows 14 and 15 answered 2 of 4 items: fewer than min_items = 3.
    assert index.loc[[14, 15]].isna().all()


def test_loyalty_index_min_items_and_sequence_items() -> None:
    frame = _loyalty_frame()
    index = loyalty_index(frame, list(LOYALTY_ITEMS.values()), scale=SCALE, min_items=2)
    # Row 14: mean(5, 6) = 5.5 -> 50.
    assert index.loc[14] == pytest.approx(50.0, rel=1e-12)
    assert index.loc[15] == pytest.approx(100 / 3, rel=1e-12)
    on_0_10 = loyalty_index(frame, LOYALTY_ITEMS, scale=(0, 10))
    assert on_0_10.loc[13] == pytest.approx(80.0, rel=1e-12)


def test_loyalty_index_rejects_out_of_scale_values_with_location() -> None:
    frame = _loyalty_frame()
    frame.loc[13, "loyalty_cognitive"] = 11
    with pytest.raises(DataError, match=r"'loyalty_cognitive', row 13: value 11 is outside"):
        loyalty_index(frame, LOYALTY_ITEMS, scale=SCALE)
    with pytest.raises(DataError, match="min_items"):
        loyalty_index(_loyalty_frame(), LOYALTY_ITEMS, scale=SCALE, min_items=5)
    with pytest.raises(DataError, match="missing"):
        loyalty_index(_loyalty_frame(), ["loyalty_emotional", "loyalty_price"], scale=SCALE)


# --- loyalty summary -----------------------------------------------------------------------------


def _summary_frame() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    n = 260
    latent = rng.normal(size=n)
    data = {
        col: pd.array(
            np.clip(np.round(6.5 + 1.6 * latent + rng.normal(scale=1.3, size=n)), 1, 10).astype(
                int
            ),
            "Int64",
        )
        for col in LOYALTY_ITEMS.values()
    }
    frame = pd.DataFrame(data)
    frame["country"] = pd.Categorical(["DE"] * 120 + ["FR"] * 120 + ["LU"] * 20)
    frame.loc[[0, 1, 2], "loyalty_referral"] = pd.NA
    return frame


def test_loyalty_summary_matches_scipy_interval_and_group_alpha() -> None:
    frame = _summary_frame()
    table = loyalty_summary(
        frame, LOYALTY_ITEMS, by="country", min_n=30, conf=0.9, scale=SCALE
    ).set_index("country")
    index = loyalty_index(frame, LOYALTY_ITEMS, scale=SCALE).astype(float)
    de = index[frame["country"] == "DE"].dropna()
    low, high = stats.t.interval(0.9, len(de) - 1, loc=de.mean(), scale=stats.sem(de))
    assert table.loc["DE", "n"] == 120
    assert table.loc["DE", "score"] == pytest.approx(de.mean(), rel=1e-12)
    assert table.loc["DE", "ci_low"] == pytest.approx(low, rel=1e-12)
    assert table.loc["DE", "ci_high"] == pytest.approx(high, rel=1e-12)
    items = frame.loc[frame["country"] == "DE", list(LOYALTY_ITEMS.values())]
    assert table.loc["DE", "alpha"] == pytest.approx(cronbach_alpha(items).alpha, rel=1e-12)
    assert table.loc["DE", "alpha_n"] == 117


def test_loyalty_summary_suppresses_small_groups() -> None:
    table = loyalty_summary(_summary_frame(), LOYALTY_ITEMS, by="country", scale=SCALE).set_index(
        "country"
    )
    lu = table.loc["LU"]
    assert bool(lu["suppressed"]) and lu["n"] == 20
    assert lu[["score", "sd", "se", "ci_low", "ci_high", "alpha"]].isna().all()
    assert not table.loc["DE", "suppressed"] and np.isfinite(table.loc["DE", "score"])


def test_loyalty_summary_two_keys_and_validation() -> None:
    frame = _summary_frame()
    frame["wave"] = pd.Categorical(np.tile(["2025-Q4", "2026-Q1"], 130), ordered=True)
    table = loyalty_summary(frame, LOYALTY_ITEMS, by=["country", "wave"], min_n=30, scale=SCALE)
    assert list(table.columns[:3]) == ["country", "wave", "n"]
    assert len(table) == 6 and table["n"].sum() == 260
    with pytest.raises(DataError, match=r"loyalty_summary: missing column\(s\) 'region'"):
        loyalty_summary(frame, LOYALTY_ITEMS, by="region", scale=SCALE)
    with pytest.raises(DataError, match="'conf' parameter of loyalty_summary .* got 95"):
        loyalty_summary(frame, LOYALTY_ITEMS, by="country", conf=95, scale=SCALE)


def test_loyalty_summary_min_n_one_with_a_one_respondent_group() -> None:
    frame = _summary_frame()
    frame["country"] = frame["country"].cat.add_categories("MT")
    frame.loc[259, "country"] = "MT"  # the last LU respondent becomes a group of one
    table = loyalty_summary(frame, LOYALTY_ITEMS, by="country", min_n=1, scale=SCALE)
    table = table.set_index("country")
    index = loyalty_index(frame, LOYALTY_ITEMS, scale=SCALE)
    mt = table.loc["MT"]
    assert not table["suppressed"].any()
    assert mt["n"] == 1 and mt["alpha_n"] == 1
    assert mt["score"] == pytest.approx(index.iloc[259], rel=1e-12)
    # one respondent: no spread, no interval, no alpha (which needs two complete rows)
    assert mt[["sd", "se", "ci_low", "ci_high", "alpha"]].isna().all()
    lu = frame.loc[frame["country"] == "LU", list(LOYALTY_ITEMS.values())]
    assert table.loc["LU", "n"] == 19
    assert table.loc["LU", "alpha"] == pytest.approx(cronbach_alpha(lu).alpha, rel=1e-12)


@pytest.mark.parametrize("bad", [0, True, 1.5])
def test_loyalty_summary_min_n_must_be_an_int_of_at_least_one(bad: object) -> None:
    message = f"The 'min_n' parameter of loyalty_summary must be an int >= 1; got {bad!r}."
    with pytest.raises(DataError, match=re.escape(message)):
        loyalty_summary(_summary_frame(), LOYALTY_ITEMS, by="country", min_n=bad, scale=SCALE)


def test_loyalty_defaults_come_from_the_codebook_roles() -> None:
    # Three items on different scales: each is rescaled to 0-1 before averaging (hand-computed:
    # row 0: (4-1)/4, (7-1)/6, (10-0)/10 -> (0.75 + 1 + 1) / 3 * 100 = 91.667).
    frame = pd.DataFrame({"a": [4, 1, np.nan], "b": [7, 1, 4], "c": [10, 0, np.nan]})
    frame.attrs.update(
        {
            "roles": {"a": "loyalty", "b": "loyalty", "c": "loyalty"},
            "scales": {"a": [1, 5], "b": [1, 7], "c": [0, 10]},
        }
    )
    index = loyalty_index(frame)
    assert index.iloc[0] == pytest.approx(100 * (0.75 + 1 + 1) / 3)
    assert index.iloc[1] == pytest.approx(0.0)
    # default min_items: all but one of three items -> row 2 (one answer) has no index
    assert pd.isna(index.iloc[2])
    two = loyalty_index(frame, ["a", "b"])  # two items: both needed
    assert pd.isna(two.iloc[2]) and two.iloc[1] == pytest.approx(0.0)
    with pytest.raises(DataError, match="role 'loyalty'"):
        loyalty_index(pd.DataFrame({"x": [1]}))


def test_loyalty_summary_with_accounts_as_clusters() -> None:
    # Two countries, accounts of three respondents who answer alike: the clustered SE is that
    # of csatlib.stats.design.domain_means (equal to R survey, tests/stats/test_design.py).
    from csatlib.stats.design import domain_means

    rng = np.random.default_rng(4)
    accounts = np.repeat(np.arange(40), 3)
    level = np.repeat(rng.integers(3, 10, 40), 3)
    frame = pd.DataFrame(
        {
            "country": np.where(accounts < 20, "DE", "FR"),
            "account": accounts.astype(str),
            **{c: np.clip(level + rng.integers(-1, 2, 120), 1, 10) for c in LOYALTY_ITEMS.values()},
        }
    )
    table = loyalty_summary(
        frame, LOYALTY_ITEMS, by="country", min_n=10, scale=SCALE, cluster="account"
    ).set_index("country")
    index = loyalty_index(frame, LOYALTY_ITEMS, scale=SCALE).astype(float)
    expected = domain_means(index, frame["country"], clusters=frame["account"]).table
    assert table["se"].to_numpy() == pytest.approx(expected.loc[["DE", "FR"], "se"].to_numpy())
    assert (table["deff"] > 1.5).all()  # respondents of one account answer alike
    half = table["ci_high"] - table["score"]
    assert half.to_numpy() == pytest.approx(1.959963984540054 * table["se"].to_numpy())
