"""Tests of csatlib.stats.scores against scipy/statsmodels, published numbers, closed forms and R.

Reference numbers with accounts as clusters: R 4.2.2, survey 4.1-1, on ``_clustered_scores()``
written to CSV, a missing account made a PSU of its own (``psu = ifelse(is.na(account),
paste0("row", seq_len(nrow(df))), account)``), ``d <- svydesign(ids = ~psu, data = df)``,
``d1 <- svydesign(ids = ~1, data = df)`` (each respondent its own PSU, for design effects).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from csatlib.errors import DataError
from csatlib.stats.design import cluster_codes, domain_means
from csatlib.stats.nps import nps_difference
from csatlib.stats.scores import (
    MeanResult,
    ProportionResult,
    _domain_design,
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
    assert len(t) == 9 and list(t.columns) == [
        *["region", "month", "n", "mean", "se", "ci_low", "ci_high"],
        *["top_box", "top_box_ci_low", "top_box_ci_high"],
        *["bottom_box", "bottom_box_ci_low", "bottom_box_ci_high", "suppressed"],
    ]
    for row in t.itertuples(index=False):
        values = df.loc[(df["region"] == row.region) & (df["month"] == row.month), "csat"]
        m, top, bottom = csat_mean(values), top_box(values), bottom_box(values)
        assert row.n == m.n
        assert (row.mean, row.ci_low, row.ci_high) == pytest.approx(
            (m.mean, m.ci_low, m.ci_high), rel=1e-12
        )
        assert (row.top_box, row.top_box_ci_low, row.top_box_ci_high) == pytest.approx(
            (top.share, top.ci_low, top.ci_high)
        )
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
    table = trends(df, ["delivery", "likelihood_to_recommend"], min_n=30, adjust=False)
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
    assert np.isnan(mean_row["q_value"])
    direction = "improved" if mean_row["change"] > 0 else "deteriorated"
    assert mean_row["verdict"] == (direction if welch.pvalue < 0.05 else "no change")

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


def test_trends_adjust_over_the_changes_of_each_group_and_wave() -> None:
    df = _survey(5, 3000)
    table = trends(df, ["delivery", "invoicing_accuracy", "likelihood_to_recommend"], min_n=30)
    raw = trends(
        df, ["delivery", "invoicing_accuracy", "likelihood_to_recommend"], min_n=30, adjust=False
    )
    np.testing.assert_array_equal(table["p_value"], raw["p_value"])
    for (_, wave), rows in table.groupby(["country", "wave"], observed=True):
        if rows["p_value"].isna().all():
            assert wave == "2025-Q4" and rows["verdict"].eq("no previous wave").all()
            continue
        # one family: the four changes of the country into the wave (3 means and the NPS)
        assert len(rows) == 4
        q = multipletests(rows["p_value"], method="fdr_bh")[1]
        np.testing.assert_allclose(rows["q_value"], q, rtol=1e-12)
        assert (rows["significant"].to_numpy(dtype=bool) == (q < 0.05)).all()
    # the unadjusted flag can only be more often significant
    assert raw["significant"].fillna(False).sum() >= table["significant"].fillna(False).sum()


def test_trends_previous_wave_is_the_study_s() -> None:
    df = _survey(7, 1500)
    # DE has no one in 2026-Q1: its 2026-Q2 is not compared with 2025-Q4
    df = df[~((df["country"] == "DE") & (df["wave"] == "2026-Q1"))]
    table = trends(df, "delivery", min_n=20, nps_column=None)
    de = table[(table["country"] == "DE") & (table["wave"] == "2026-Q2")].iloc[0]
    assert de["previous_wave"] == "2026-Q1" and np.isnan(de["change"])
    assert de["verdict"] == "no previous wave data" and pd.isna(de["significant"])
    # one country's rows alone do not know the study's waves; waves= says them
    alone = df[df["country"] == "DE"]
    guessed = trends(alone, "delivery", min_n=20, nps_column=None)
    assert guessed["previous_wave"].astype(str).tolist()[-1] == "2025-Q4"
    told = trends(
        alone, "delivery", waves=["2025-Q4", "2026-Q1", "2026-Q2"], min_n=20, nps_column=None
    )
    assert told.iloc[-1]["verdict"] == "no previous wave data"
    with pytest.raises(DataError, match="waves must list every wave of the data once"):
        trends(alone, "delivery", waves=["2025-Q4", "2026-Q2", "2025-Q4"], nps_column=None)


# --------------------------------------------------------------------------- accounts as clusters


def _clustered_scores() -> pd.DataFrame:
    """3 countries x 3 waves, 12 accounts per country with 1-4 respondents per wave; one account
    per country skips the middle wave; 5 % don't-know; four respondents without an account."""
    rng = np.random.default_rng(515)
    rows = []
    waves = ["2025-Q4", "2026-Q1", "2026-Q2"]
    for country, shift in (("DE", 0.0), ("FR", 0.5), ("NL", -0.3)):
        for a in range(12):
            effect = rng.normal(0, 1.2)
            for w, wave in enumerate(waves):
                if a == 0 and w == 1:
                    continue
                for _ in range(int(rng.integers(1, 5))):
                    trend = 0.35 * w if country == "DE" else 0.0
                    noise = rng.normal(0, 1.3)
                    delivery = np.clip(np.rint(6.5 + shift + effect + trend + noise), 1, 10)
                    ltr = np.clip(np.rint(7 + effect + 0.8 * trend + rng.normal(0, 1.6)), 0, 10)
                    rows.append(
                        {
                            "country": country,
                            "wave": wave,
                            "account": f"{country}{a:02d}",
                            "delivery": int(delivery),
                            "likelihood_to_recommend": int(ltr),
                        }
                    )
    df = pd.DataFrame(rows)
    df["delivery"] = df["delivery"].astype("Int64")
    df["likelihood_to_recommend"] = df["likelihood_to_recommend"].astype("Int64")
    df.loc[rng.random(len(df)) < 0.05, "delivery"] = pd.NA
    df.loc[[5, 40, 77, 120], "account"] = None
    df["wave"] = pd.Categorical(df["wave"], categories=waves, ordered=True)
    df.attrs["scales"] = {"delivery": [1, 10]}
    return df


# svyby(~delivery, ~country, d, svymean, na.rm = TRUE): coef, SE, confint (normal);
# deff = SE^2 / SE(svyby(~delivery, ~country, d1, svymean, na.rm = TRUE))^2
R_MEANS_BY_COUNTRY = {
    "DE": (
        7.09090909090909,
        0.454600836557534,
        6.19990782391454,
        7.98191035790364,
        4.69918343623917,
    ),
    "FR": (
        7.06410256410256,
        0.400806179517870,
        6.27853688746644,
        7.84966824073868,
        4.11379784262697,
    ),
    "NL": (
        6.41772151898734,
        0.408439742123568,
        5.61719433457032,
        7.21824870340436,
        3.68822100255343,
    ),
}
# top = as.numeric(delivery >= 9): p = coef(svyby(~top, ~country, d, svymean, na.rm = TRUE)),
# deff = SE(d)^2 / SE(d1)^2, n_eff = n / pmax(deff, 1), and the Wilson interval on n_eff
# computed in R: (p + z^2/(2 n_eff) -/+ z sqrt(p(1-p)/n_eff + z^2/(4 n_eff^2))) / (1 + z^2/n_eff)
R_TOP_BOX = {
    "DE": (0.25, 3.46772787837427, 0.1224572752273341, 0.443279917698159),
    "FR": (0.217948717948718, 2.19541860431742, 0.1136040522154198, 0.377334716659438),
    "NL": (0.126582278481013, 2.24190761205143, 0.0527663090445579, 0.273811463827618),
}
# dd <- subset(d, !is.na(delivery)); b <- svyby(~delivery, ~interaction(country, wave), dd,
# svymean, covmat = TRUE); svycontrast(b, c("DE.2026-Q2" = 1, "DE.2026-Q1" = -1)) etc.; the
# likelihood-to-recommend mean and the NPS (y = 100 * ((ltr >= 9) - (ltr <= 6))) on d.
R_CHANGES = {  # (country, wave, measure, statistic) -> (change, SE of the change)
    ("DE", "2026-Q2", "delivery", "mean"): (0.517948717948717, 0.279494934656744),
    ("FR", "2026-Q1", "delivery", "mean"): (-0.223076923076923, 0.284075062992816),
    ("NL", "2026-Q2", "likelihood_to_recommend", "mean"): (0.570487483530962, 0.389996244175399),
    ("DE", "2026-Q2", "likelihood_to_recommend", "nps"): (13.1216931216931, 10.3716416637942),
}
R_CELL_SE = {  # SE(b) of svyby(~delivery, ~interaction(country, wave), dd, svymean)
    ("DE", "2026-Q2"): 0.483599985389729,
    ("FR", "2025-Q4"): 0.531133282804386,
    ("NL", "2026-Q1"): 0.598956124552644,
}


def _assert_r_country(row: object) -> None:
    """A country's clustered mean and top box (9-10) are R survey's (R_MEANS_BY_COUNTRY,
    R_TOP_BOX)."""
    mean, se, low, high, deff = R_MEANS_BY_COUNTRY[row.country]
    assert (row.mean, row.se, row.ci_low, row.ci_high) == pytest.approx(
        (mean, se, low, high), abs=1e-8
    )
    assert row.deff == pytest.approx(deff, rel=1e-8)
    share, top_deff, top_low, top_high = R_TOP_BOX[row.country]
    assert (row.top_box, row.top_box_ci_low, row.top_box_ci_high) == pytest.approx(
        (share, top_low, top_high), abs=1e-8
    )
    assert row.top_box_deff == pytest.approx(top_deff, rel=1e-8)


def test_clustered_scores_by_group_equal_r_survey() -> None:
    df = _clustered_scores()
    table = scores_by_group(df, "delivery", "country", cluster="account", min_n=1)
    assert list(table.columns) == [
        *["country", "measure", "n", "n_clusters", "mean", "se", "deff", "ci_low", "ci_high"],
        *["top_box", "top_box_ci_low", "top_box_ci_high", "top_box_deff", "suppressed"],
    ]
    for row in table.itertuples(index=False):
        _assert_r_country(row)
        answered = df.loc[(df["country"] == row.country) & df["delivery"].notna(), "account"]
        # a respondent without an account is an account of its own
        assert row.n_clusters == answered.nunique() + answered.isna().sum()
    # the clustered top-box interval is wider than the one for independent respondents
    plain = scores_by_group(df, "delivery", "country", min_n=1)
    assert (
        (table["top_box_ci_high"] - table["top_box_ci_low"])
        > (plain["top_box_ci_high"] - plain["top_box_ci_low"])
    ).all()
    np.testing.assert_allclose(table["mean"], plain["mean"], rtol=1e-12)


def _linearized_share(df: pd.DataFrame, hit: pd.Series, domain: pd.Series) -> tuple[float, float]:
    """Share of ``hit`` among the valid rows of ``domain`` and its account-clustered
    linearization variance, written out per account: Z_c = sum over the domain's rows of
    account c of (y_i - p) / n; V = C/(C-1) sum_c (Z_c - mean Z)^2 over every account of df
    (a row without an account is an account of its own)."""
    psu = (
        df["account"]
        .astype(object)
        .where(df["account"].notna(), "row" + pd.Series(range(len(df)), index=df.index).astype(str))
    )
    valid = domain & df["delivery"].notna()
    y = hit[valid].astype(float)
    p, n = y.mean(), len(y)
    z = ((y - p) / n).groupby(psu[valid]).sum().reindex(psu.unique(), fill_value=0.0)
    c = len(z)
    return p, c / (c - 1) * ((z - z.mean()) ** 2).sum()


def test_clustered_transaction_summary_equals_r_survey_and_the_formula() -> None:
    """With accounts as clusters the transaction table's mean and top box are R survey's (the
    numbers of scores_by_group's test: the same estimator), and its bottom box is the
    linearization formula computed directly, with Wilson's interval on n / deff."""
    df = _clustered_scores()
    table = transaction_summary(
        df, by="country", score="delivery", scale=(1, 10), cluster="account", min_n=1
    )
    assert list(table.columns) == [
        *["country", "n", "n_clusters", "mean", "se", "deff", "ci_low", "ci_high"],
        *["top_box", "top_box_ci_low", "top_box_ci_high", "top_box_deff"],
        *["bottom_box", "bottom_box_ci_low", "bottom_box_ci_high", "bottom_box_deff"],
        "suppressed",
    ]
    plain = transaction_summary(df, by="country", score="delivery", scale=(1, 10), min_n=1)
    # reversed, 11 - delivery: its bottom box (1-2) is the top box (9-10) R computed
    reverse = df.assign(delivery=11 - df["delivery"])
    reversed_table = transaction_summary(
        reverse, by="country", score="delivery", scale=(1, 10), cluster="account", min_n=1
    )
    for row, independent, rev in zip(
        table.itertuples(index=False),
        plain.itertuples(index=False),
        reversed_table.itertuples(index=False),
        strict=True,
    ):
        _assert_r_country(row)
        share, top_deff, top_low, top_high = R_TOP_BOX[row.country]
        assert (rev.bottom_box, rev.bottom_box_ci_low, rev.bottom_box_ci_high) == pytest.approx(
            (share, top_low, top_high), abs=1e-8
        )
        assert rev.bottom_box_deff == pytest.approx(top_deff, rel=1e-8)
        # bottom box of the reversed score: the formula, clustered and with every row its own
        # account
        domain = reverse["country"] == row.country
        hit = reverse["delivery"] <= 2
        p, var = _linearized_share(reverse, hit, domain)
        _, var_own = _linearized_share(reverse.assign(account=None), hit, domain)
        assert rev.bottom_box == pytest.approx(p, abs=1e-12)
        assert rev.bottom_box_deff == pytest.approx(var / var_own, rel=1e-8)
        n_eff = rev.n / max(var / var_own, 1.0)
        low, high = proportion_confint(p * n_eff, n_eff, alpha=0.05, method="wilson")
        assert (rev.bottom_box_ci_low, rev.bottom_box_ci_high) == pytest.approx(
            (low, high), abs=1e-10
        )
        # the point estimates are the independent table's; clustering widens the intervals
        assert (row.n, row.mean, row.top_box, row.bottom_box) == pytest.approx(
            (independent.n, independent.mean, independent.top_box, independent.bottom_box)
        )
        assert row.ci_high - row.ci_low > independent.ci_high - independent.ci_low
        assert row.top_box_ci_high - row.top_box_ci_low > (
            independent.top_box_ci_high - independent.top_box_ci_low
        )


def test_clustered_transaction_summary_suppresses_and_needs_two_accounts() -> None:
    """A cell below min_n keeps its counts and loses its estimates; a month rated by one
    account has its mean but no clustered interval."""
    df = pd.DataFrame(
        {
            "month": ["2026-01"] * 40 + ["2026-02"] * 5 + ["2026-03"] * 30,
            "account": [f"A{i % 8}" for i in range(45)] + ["solo"] * 30,
            "csat": ([5, 4, 2, 5, 3] * 15),
        }
    )
    table = transaction_summary(df, by="month", cluster="account", min_n=30)
    jan, feb, mar = (table.iloc[i] for i in range(3))
    assert (jan["n"], jan["n_clusters"], feb["n"], feb["n_clusters"]) == (40, 8, 5, 5)
    assert (
        bool(feb["suppressed"]) and np.isnan(feb[["mean", "se", "bottom_box"]].astype(float)).all()
    )
    assert not bool(jan["suppressed"]) and np.isfinite(jan["ci_low"])
    assert mar["n_clusters"] == 1 and mar["mean"] == pytest.approx(3.8)
    assert np.isnan(mar["se"]) and np.isnan(mar["ci_low"]) and np.isnan(mar["deff"])
    with pytest.raises(DataError, match="transaction_summary"):
        transaction_summary(df, by="month", cluster="account_key")


@pytest.mark.parametrize("key", sorted(R_CHANGES))
def test_clustered_trend_changes_equal_r_svycontrast(key: tuple[str, str, str, str]) -> None:
    df = _clustered_scores()
    ltr = "likelihood_to_recommend"
    table = trends(df, ["delivery", ltr], cluster="account", min_n=1, nps_column=ltr)
    row = table.set_index(["country", "wave", "measure", "statistic"]).loc[key]
    change, se = R_CHANGES[key]
    assert row["change"] == pytest.approx(change, abs=1e-8)
    assert row["change_se"] == pytest.approx(se, abs=1e-8)
    if key[3] == "mean":  # Student's t on the smaller wave's accounts minus one
        country, wave = key[0], key[1]
        answered = df.loc[(df["country"] == country) & df["delivery"].notna()]
        waves = ["2025-Q4", "2026-Q1", "2026-Q2"]
        cells = [answered.loc[answered["wave"] == w] for w in (wave, waves[waves.index(wave) - 1])]
        df_t = min(c["account"].nunique() + c["account"].isna().sum() for c in cells) - 1
        p = 2 * stats.t.sf(abs(change / se), df_t)
        assert row["p_value"] == pytest.approx(p, rel=1e-7)


def test_clustered_trend_cells_equal_r_survey() -> None:
    df = _clustered_scores()
    table = trends(df, "delivery", cluster="account", min_n=1, nps_column=None)
    cells = table.set_index(["country", "wave"])
    for key, se in R_CELL_SE.items():
        assert cells.loc[key, "se"] == pytest.approx(se, abs=1e-8)
        value = cells.loc[key, "value"]
        assert cells.loc[key, "ci_low"] == pytest.approx(value - Z95 * se, abs=1e-8)


def test_vectorized_domains_equal_design_domain_means() -> None:
    rng = np.random.default_rng(9)
    n = 400
    x = rng.integers(1, 11, n).astype(float)
    x[rng.random(n) < 0.1] = np.nan
    domain = rng.integers(-1, 5, n)  # -1: in no domain, but in the design
    keys = rng.integers(0, 60, n).astype(object)
    keys[rng.random(n) < 0.05] = None
    codes = cluster_codes(keys, n)
    fast = _domain_design(x, domain, 5, codes)
    labels = np.where(domain >= 0, domain, None).astype(object)
    ref = domain_means(x, labels, clusters=keys)
    table = ref.table.sort_index()
    np.testing.assert_allclose(fast.mean, table["mean"], rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(fast.var), table["se"], rtol=1e-10)
    np.testing.assert_allclose(fast.var / fast.var_own, table["deff"], rtol=1e-10)
    cov = ref.cov.sort_index().sort_index(axis=1).to_numpy()
    np.testing.assert_allclose(
        fast.cov(np.arange(1, 5), np.arange(4)), np.diagonal(cov, 1), rtol=1e-10
    )


def test_a_group_of_one_account_has_no_interval_for_its_mean_or_its_shares() -> None:
    # group "a": 40 answers from one account; group "b": 40 answers from 8 accounts
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {
            "group": ["a"] * 40 + ["b"] * 40,
            "account": ["solo"] * 40 + [f"acc{k % 8}" for k in range(40)],
            "csat": rng.integers(1, 6, 80).astype(float),
        }
    )
    tx = transaction_summary(df, by="group", score="csat", cluster="account", min_n=30)
    rel = scores_by_group(df, "csat", "group", scale=(1, 5), cluster="account", min_n=30)
    for table in (tx, rel):
        one, many = table.iloc[0], table.iloc[1]
        assert one["n_clusters"] == 1 and many["n_clusters"] == 8
        assert np.isfinite(one["mean"]) and np.isfinite(one["top_box"])
        assert np.isnan([one["ci_low"], one["top_box_ci_low"], one["top_box_ci_high"]]).all()
        assert np.isfinite([many["ci_low"], many["top_box_ci_low"], many["top_box_ci_high"]]).all()
    assert np.isnan([tx.iloc[0]["bottom_box_ci_low"], tx.iloc[0]["bottom_box_ci_high"]]).all()
