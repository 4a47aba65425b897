"""Tests of csatlib.stats.scores against scipy/statsmodels, published numbers and closed forms."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from csatlib.errors import DataError
from csatlib.stats.nps import nps_difference
from csatlib.stats.scores import (
    MeanResult,
    ProportionResult,
    bottom_box,
    csat_mean,
    expectation_gap,
    scores_by_group,
    top_box,
    transaction_summary,
    trends,
)

Z95 = 1.959963984540054


def _survey(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    perceived = rng.integers(1, 11, n)
    df = pd.DataFrame(
        {
            "country": pd.Categorical(rng.choice(["DE", "FR", "NA"], n)),
            "wave": pd.Categorical(
                rng.choice(["2025-Q4", "2026-Q1", "2026-Q2"], n),
                categories=["2025-Q4", "2026-Q1", "2026-Q2"],
                ordered=True,
            ),
            "likelihood_to_recommend": pd.array(rng.integers(0, 11, n), dtype="Int64"),
            "delivery": pd.array(perceived, dtype="Int64"),
            # expectation correlated with perception, so the paired analysis matters
            "expectation_delivery": pd.array(
                np.clip(perceived + rng.integers(-2, 4, n), 1, 10), dtype="Int64"
            ),
            "invoicing_accuracy": pd.array(rng.integers(1, 11, n), dtype="Int64"),
        }
    )
    df.loc[rng.random(n) < 0.08, "delivery"] = pd.NA
    df.loc[rng.random(n) < 0.05, "expectation_delivery"] = pd.NA
    df.attrs["scales"] = {"delivery": [1, 10], "invoicing_accuracy": [1, 10]}
    df.attrs["roles"] = {"likelihood_to_recommend": "nps", "delivery": "attribute"}
    return df


# --------------------------------------------------------------------------- csat_mean


def test_csat_mean_matches_scipy_and_statsmodels() -> None:
    x = np.array([4, 5, 3, 5, 4, 2, 5, 5, 1, 4, 3, 5], dtype=float)
    r = csat_mean(x)
    assert r.mean == pytest.approx(x.mean(), rel=1e-14)
    assert r.sd == pytest.approx(np.std(x, ddof=1), rel=1e-14)
    assert r.se == pytest.approx(stats.sem(x), rel=1e-14)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx(DescrStatsW(x).tconfint_mean(), rel=1e-12)
    assert r.n == 12 and isinstance(r, MeanResult)


def test_csat_mean_weighted_matches_linearization_and_wls_hc1() -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(1, 6, 300).astype(float)
    w = rng.lognormal(0.0, 0.7, 300)
    r = csat_mean(x, w)
    mean = np.sum(w * x) / np.sum(w)
    # brute force: influence values z_i = w_i (x_i - mean) / sum(w), with-replacement variance
    z = [wi * (xi - mean) / w.sum() for wi, xi in zip(w, x, strict=True)]
    zbar = sum(z) / len(z)
    se_ref = math.sqrt(len(z) / (len(z) - 1) * sum((zi - zbar) ** 2 for zi in z))
    fit = sm.WLS(x, np.ones_like(x), weights=w).fit(cov_type="HC1")
    assert r.mean == pytest.approx(mean, rel=1e-13)
    assert r.se == pytest.approx(se_ref, rel=1e-10)
    assert r.se == pytest.approx(fit.bse[0], rel=1e-10)
    sd_ref = math.sqrt(300 / 299 * np.sum(w * (x - mean) ** 2) / w.sum())  # svyvar convention
    assert r.sd == pytest.approx(sd_ref, rel=1e-12)
    tq = stats.t.ppf(0.975, 299)
    assert r.ci_low == pytest.approx(mean - tq * se_ref, rel=1e-10)
    scaled = csat_mean(x, w * 17.0)
    assert (scaled.mean, scaled.se, scaled.sd) == pytest.approx((r.mean, r.se, r.sd), rel=1e-12)


def test_csat_mean_equal_weights_and_missing_values() -> None:
    x = pd.Series([5, 4, pd.NA, 3, 5, 1], dtype="Int64")
    plain = csat_mean(x)
    assert plain.n == 5 and plain.mean == pytest.approx(3.6)
    weighted = csat_mean(x, [2.0, 2.0, np.nan, 2.0, 2.0, 2.0])
    for field in ("mean", "sd", "se", "ci_low", "ci_high"):
        assert getattr(weighted, field) == pytest.approx(getattr(plain, field), rel=1e-12)
    one = csat_mean([4])
    assert one.mean == 4.0 and math.isnan(one.se) and math.isnan(one.ci_low)
    assert json.loads(json.dumps(one.to_dict()))["se"] is None


@pytest.mark.parametrize(
    ("values", "weights", "pattern"),
    [
        ([], None, "at least one valid value"),
        ([3, "good", 4], None, r"'good' at position 1"),
        ([3, 4], [1.0, -1.0], "weight >= 0"),
    ],
)
def test_csat_mean_validation(values: list, weights: list | None, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        csat_mean(values, weights)


# --------------------------------------------------------------------------- top / bottom box


def _ratings(count: int, n: int) -> list[int]:
    return [5] * count + [1] * (n - count)


@pytest.mark.parametrize(
    ("count", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_top_box_wilson_published_numbers(count: int, n: int, low: float, high: float) -> None:
    r = top_box(_ratings(count, n))
    assert (r.count, r.n, r.share) == (count, n, count / n)
    assert (r.ci_low, r.ci_high) == pytest.approx((low, high), abs=5e-5)
    sm_low, sm_high = proportion_confint(count, n, alpha=0.05, method="wilson")
    assert (r.ci_low, r.ci_high) == pytest.approx((sm_low, sm_high), abs=1e-12)


def test_top_box_closed_form_and_boxes() -> None:
    values = [5, 5, 4, 4, 4, 3, 2, 1, 1, 5, 4, 3, 3, 2]  # n = 14: top-2 (4, 5) = 7, top-1 = 3
    r = top_box(values, conf=0.90)
    z = stats.norm.ppf(0.95)
    p, n = 7 / 14, 14
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert (r.ci_low, r.ci_high) == pytest.approx((centre - half, centre + half), rel=1e-12)
    assert top_box(values, boxes=1).count == 3
    assert bottom_box(values).count == 4  # values <= 2: 2, 1, 1, 2
    b = bottom_box(values)
    mirrored = top_box([6 - v for v in values])  # bottom box of x == top box of 6 - x
    assert (b.share, b.ci_low, b.ci_high) == (mirrored.share, mirrored.ci_low, mirrored.ci_high)
    assert isinstance(b, ProportionResult)


def test_top_box_validation() -> None:
    with pytest.raises(DataError, match=r"found 6 at position 2"):
        top_box([5, 4, 6])
    with pytest.raises(DataError, match="boxes"):
        top_box([5, 4], boxes=5)
    with pytest.raises(DataError, match="found 0 at position 0"):
        top_box([0, 10], scale=(1, 10))
    assert top_box([10, 9, 8, 1], scale=(1, 10), boxes=2).count == 2


# --------------------------------------------------------------------------- by group


def test_scores_by_group_equals_one_sample_functions() -> None:
    df = _survey(1, 1500)
    table = scores_by_group(df, ["delivery", "invoicing_accuracy"], "country", min_n=1)
    assert list(table.columns) == [
        *["country", "measure", "n", "mean", "se", "ci_low", "ci_high"],
        *["top_box", "top_box_ci_low", "top_box_ci_high", "suppressed"],
    ]
    assert len(table) == 6
    for row in table.itertuples(index=False):
        values = df.loc[df["country"] == row.country, row.measure]
        m = csat_mean(values)
        t = top_box(values, scale=(1, 10), boxes=2)
        assert row.n == m.n
        assert (row.mean, row.se, row.ci_low, row.ci_high) == pytest.approx(
            (m.mean, m.se, m.ci_low, m.ci_high), rel=1e-12
        )
        assert (row.top_box, row.top_box_ci_low, row.top_box_ci_high) == pytest.approx(
            (t.share, t.ci_low, t.ci_high), rel=1e-12
        )


def test_scores_by_group_scale_sources_and_suppression() -> None:
    df = _survey(2, 200)
    by_attrs = scores_by_group(df, "delivery", ["country", "wave"], min_n=25)
    by_arg = scores_by_group(df, "delivery", ["country", "wave"], scale=(1, 10), min_n=25)
    pd.testing.assert_frame_equal(by_attrs, by_arg)
    small = by_attrs[by_attrs["n"] < 25]
    assert len(small) > 0 and small["suppressed"].all()
    assert small[["mean", "se", "ci_low", "ci_high", "top_box"]].isna().all().all()
    assert by_attrs.loc[by_attrs["n"] >= 25, "mean"].notna().all()
    with pytest.raises(DataError, match="no scale known"):
        scores_by_group(df, "likelihood_to_recommend", "country")
    bad = df.copy()
    bad.loc[7, "delivery"] = 11
    with pytest.raises(DataError, match=r"column 'delivery'.*found 11 at position 7"):
        scores_by_group(bad, "delivery", "country", scale={"delivery": (1, 10)})


def test_transaction_summary() -> None:
    rng = np.random.default_rng(6)
    n = 900
    df = pd.DataFrame(
        {
            "region": pd.Categorical(rng.choice(["AMER", "EMEA", "APJ"], n)),
            "month": rng.choice(["2026-01", "2026-02", "2026-03"], n),
            "csat": pd.array(rng.choice([1, 2, 3, 4, 5], n, p=[0.05, 0.1, 0.2, 0.35, 0.3])),
        }
    )
    df.loc[:3, "csat"] = pd.NA
    t = transaction_summary(df, min_n=1)
    assert len(t) == 9 and list(t.columns[:3]) == ["region", "month", "n"]
    for row in t.itertuples(index=False):
        values = df.loc[(df["region"] == row.region) & (df["month"] == row.month), "csat"]
        m, top, bottom = csat_mean(values), top_box(values), bottom_box(values)
        assert row.n == m.n
        assert (row.mean, row.ci_low, row.ci_high) == pytest.approx(
            (m.mean, m.ci_low, m.ci_high), rel=1e-12
        )
        assert (row.top_box, row.top_box_ci_low) == pytest.approx((top.share, top.ci_low))
        assert (row.bottom_box, row.bottom_box_ci_high) == pytest.approx(
            (bottom.share, bottom.ci_high)
        )
    big = transaction_summary(df, min_n=101)
    assert (big["suppressed"] == (big["n"] < 101)).all()
    assert big.loc[big["suppressed"], "bottom_box_ci_high"].isna().all()


# --------------------------------------------------------------------------- min_n


def _with_one_respondent_cell() -> pd.DataFrame:
    """DE: four respondents per wave; LU: two in 2026-Q1 and a single one in 2026-Q2."""
    df = pd.DataFrame(
        {
            "country": ["DE"] * 8 + ["LU"] * 3,
            "wave": ["2026-Q1"] * 4 + ["2026-Q2"] * 4 + ["2026-Q1"] * 2 + ["2026-Q2"],
            "likelihood_to_recommend": [10, 9, 7, 3, 10, 10, 8, 2, 9, 6, 10],
            "delivery": [8, 7, 9, 6, 9, 8, 7, 10, 5, 6, 4],
            "expectation_delivery": [7, 7, 8, 8, 9, 9, 6, 9, 6, 6, 5],
        }
    )
    df["wave"] = pd.Categorical(df["wave"], categories=["2026-Q1", "2026-Q2"], ordered=True)
    df.attrs["scales"] = {"delivery": [1, 10]}
    return df


def test_min_n_one_shows_a_single_respondent_without_an_interval() -> None:
    df = _with_one_respondent_cell()
    table = scores_by_group(df, "delivery", ["country", "wave"], min_n=1)
    lone = table[(table["country"] == "LU") & (table["wave"] == "2026-Q2")].iloc[0]
    assert not table["suppressed"].any()
    assert lone["n"] == 1 and lone["mean"] == 4.0 and lone["top_box"] == 0.0
    assert np.isnan([lone["se"], lone["ci_low"], lone["ci_high"]]).all()
    gap = expectation_gap(df, "delivery", by="country", min_n=1).set_index("country")
    assert gap.loc["LU", "n"] == 3 and gap.loc["LU", "gap"] == pytest.approx(-2 / 3)

    ltr = "likelihood_to_recommend"
    t = trends(df, ["delivery", ltr], min_n=1, nps_column=ltr)
    assert not t["suppressed"].any()
    q2 = t[t["wave"] == "2026-Q2"].set_index(["country", "measure", "statistic"])
    # LU's changes are shown (mean 4 - 5.5 = -1.5; NPS 100 - 0 points) but not tested
    assert q2.loc[("LU", "delivery", "mean"), "change"] == -1.5
    assert q2.loc[("LU", ltr, "nps"), "change"] == 100.0
    for key in (("LU", "delivery", "mean"), ("LU", ltr, "mean"), ("LU", ltr, "nps")):
        row = q2.loc[key]
        assert np.isnan(row["se"]) and np.isnan(row["change_se"]) and np.isnan(row["p_value"])
        assert pd.isna(row["significant"])
    # DE has four respondents on each side: its changes are tested
    assert np.isfinite(q2.loc[("DE", "delivery", "mean"), "p_value"])
    assert np.isfinite(q2.loc[("DE", ltr, "nps"), "p_value"])


@pytest.mark.parametrize("bad", [0, True, 1.5])
def test_min_n_must_be_an_int_of_at_least_one(bad: object) -> None:
    df = _with_one_respondent_cell()
    calls = {
        "scores_by_group": lambda: scores_by_group(df, "delivery", "country", min_n=bad),
        "transaction_summary": lambda: transaction_summary(
            df, by="country", score="delivery", scale=(1, 10), min_n=bad
        ),
        "expectation_gap": lambda: expectation_gap(df, "delivery", min_n=bad),
        "trends": lambda: trends(df, "delivery", min_n=bad),
    }
    for func, call in calls.items():
        message = f"The 'min_n' parameter of {func} must be an int >= 1; got {bad!r}."
        with pytest.raises(DataError, match=re.escape(message)):
            call()


def test_conf_alpha_and_columns_messages_name_the_public_function() -> None:
    df = _with_one_respondent_cell()
    with pytest.raises(DataError, match="'conf' parameter of csat_mean .* got 95"):
        csat_mean([1, 2], conf=95)
    with pytest.raises(DataError, match="'conf' parameter of bottom_box .* got 0"):
        bottom_box([1, 2], conf=0)
    with pytest.raises(DataError, match="'alpha' parameter of trends .* got 1.5"):
        trends(df, "delivery", alpha=1.5)
    with pytest.raises(DataError, match=r"scores_by_group: missing column\(s\) 'region'"):
        scores_by_group(df, "delivery", "region")


# --------------------------------------------------------------------------- expectation gap


def test_expectation_gap_against_scipy_and_delta_method() -> None:
    df = _survey(3, 800)
    row = expectation_gap(df, "delivery").iloc[0]
    both = df[["delivery", "expectation_delivery"]].dropna().astype(float)
    x, y = both["delivery"].to_numpy(), both["expectation_delivery"].to_numpy()
    n = len(x)
    assert row["n"] == n and row["attribute"] == "delivery"
    assert (row["perceived"], row["expected"]) == pytest.approx((x.mean(), y.mean()), rel=1e-13)
    test = stats.ttest_rel(x, y)
    ci = test.confidence_interval(0.95)
    assert row["gap"] == pytest.approx(x.mean() - y.mean(), rel=1e-12)
    assert row["gap"] / row["gap_se"] == pytest.approx(test.statistic, rel=1e-10)
    assert row["gap_p_value"] == pytest.approx(test.pvalue, rel=1e-8)
    assert (row["gap_ci_low"], row["gap_ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    # delta method in gradient form: g' Cov(xbar, ybar) g with g = (1/ybar, -xbar/ybar^2)
    ratio = x.mean() / y.mean()
    grad = np.array([1 / y.mean(), -x.mean() / y.mean() ** 2])
    se = math.sqrt(grad @ (np.cov(x, y) / n) @ grad)
    assert row["ratio"] == pytest.approx(ratio, rel=1e-13)
    assert row["ratio_se"] == pytest.approx(se, rel=1e-10)
    assert row["ratio_ci_low"] == pytest.approx(ratio - Z95 * se, rel=1e-12)
    # a seeded bootstrap of the ratio of means agrees with the delta-method SE within 10 %
    rng = np.random.default_rng(42)
    idx = rng.integers(0, n, (2000, n))
    boot = x[idx].mean(axis=1) / y[idx].mean(axis=1)
    assert boot.std(ddof=1) == pytest.approx(se, rel=0.10)


def test_expectation_gap_by_group_and_validation() -> None:
    df = _survey(4, 900)
    table = expectation_gap(df, ["delivery"], by="country", min_n=1)
    assert list(table["country"]) == ["DE", "FR", "NA"]
    for row in table.itertuples(index=False):
        overall = expectation_gap(df[df["country"] == row.country], "delivery").iloc[0]
        assert row.gap == pytest.approx(overall["gap"], rel=1e-12)
        assert row.ratio_se == pytest.approx(overall["ratio_se"], rel=1e-12)
    suppressed = expectation_gap(df, "delivery", by="country", min_n=10_000)
    assert suppressed["suppressed"].all() and suppressed["gap"].isna().all()
    assert (suppressed["n"] == table["n"]).all()
    with pytest.raises(DataError, match="expectation_invoicing_accuracy"):
        expectation_gap(df, "invoicing_accuracy")


# --------------------------------------------------------------------------- trends


def test_trends_changes_against_welch_and_nps_difference() -> None:
    df = _survey(5, 3000)
    table = trends(df, ["delivery", "likelihood_to_recommend"], min_n=30)
    assert set(zip(table["measure"], table["statistic"], strict=True)) == {
        ("delivery", "mean"),
        ("likelihood_to_recommend", "mean"),
        ("likelihood_to_recommend", "nps"),
    }
    assert len(table) == 3 * 3 * 3
    cur_rows = (df["country"] == "FR") & (df["wave"] == "2026-Q2")
    prev_rows = (df["country"] == "FR") & (df["wave"] == "2026-Q1")

    def pick(measure: str, statistic: str) -> pd.Series:
        sel = (
            (table["country"] == "FR")
            & (table["wave"] == "2026-Q2")
            & (table["measure"] == measure)
            & (table["statistic"] == statistic)
        )
        return table[sel].iloc[0]

    mean_row = pick("delivery", "mean")
    a = df.loc[cur_rows, "delivery"].dropna().astype(float)
    b = df.loc[prev_rows, "delivery"].dropna().astype(float)
    welch = stats.ttest_ind(a, b, equal_var=False)
    assert mean_row["previous_wave"] == "2026-Q1"
    assert mean_row["change"] == pytest.approx(a.mean() - b.mean(), rel=1e-12)
    assert mean_row["change"] / mean_row["change_se"] == pytest.approx(welch.statistic, rel=1e-10)
    assert mean_row["p_value"] == pytest.approx(welch.pvalue, rel=1e-8)
    assert mean_row["significant"] == (welch.pvalue < 0.05)

    nps_row = pick("likelihood_to_recommend", "nps")
    ref = nps_difference(
        df.loc[cur_rows, "likelihood_to_recommend"], df.loc[prev_rows, "likelihood_to_recommend"]
    )
    assert nps_row["change"] == pytest.approx(ref.diff, rel=1e-12)
    assert nps_row["p_value"] == pytest.approx(ref.p_value, rel=1e-9)
    first = table[table["wave"] == "2025-Q4"]
    assert first["previous_wave"].isna().all() and first["change"].isna().all()
    assert first["value"].notna().all() and first["significant"].isna().all()


def test_trends_suppression() -> None:
    df = _survey(6, 400)
    table = trends(df, "delivery", min_n=45, nps_column=None)
    assert set(table["statistic"]) == {"mean"}
    small = table["n"] < 45
    assert small.any() and (table["suppressed"] == small).all()
    assert table.loc[small, ["value", "se", "ci_low", "ci_high"]].isna().all().all()
    # a change is reported only when both cells are shown
    shown_prev = table.groupby("country", observed=True)["suppressed"].shift(1).eq(False)
    has_change = table["change"].notna()
    assert (has_change == (~table["suppressed"] & shown_prev)).all()
