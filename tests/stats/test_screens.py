"""Tests of csatlib.stats.screens: Welch from summaries, Benjamini-Hochberg, the four screens."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from csatlib.errors import DataError
from csatlib.stats.screens import (
    _classify,
    benjamini_hochberg,
    four_screens,
    screens_all_countries,
    welch_from_summary,
)

ATTRIBUTES = [
    "product_quality",
    "total_cost_of_ownership",
    "post_sales_support",
    "on_site_service",
    "delivery",
    "invoicing_accuracy",
    "ease_of_ordering",
    "account_management",
]
WAVES = ["2025-Q4", "2026-Q1"]
# Attribute means shared by every country, wave and competitor unless planted otherwise.
BASE = {
    "product_quality": 7.0,
    "total_cost_of_ownership": 5.5,
    "post_sales_support": 7.0,
    "on_site_service": 6.5,
    "delivery": 7.5,
    "invoicing_accuracy": 6.5,
    "ease_of_ordering": 6.0,
    "account_management": 8.5,
}
# Planted effects for DE (own brand, or competitor customers in DE), per wave.
PLANTED = {
    ("DE", "2025-Q4", False): {"on_site_service": 8.0},
    ("DE", "2026-Q1", False): {"product_quality": 9.0, "delivery": 5.0, "on_site_service": 8.0},
    ("DE", "2026-Q1", True): {"post_sales_support": 8.5, "total_cost_of_ownership": 7.0},
}
# Respondents per (country, wave, competitor).
SIZES = {("DE", w, c): n for w in WAVES for c, n in ((False, 200), (True, 120))} | {
    (cc, w, c): n for cc in ("FR", "IT", "ES") for w in WAVES for c, n in ((False, 200), (True, 80))
}


def _survey(
    sizes: dict = SIZES,
    seed: int = 7,
    dont_know: float = 0.04,
    waves: list[str] = WAVES,
    planted: dict = PLANTED,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for (country, wave, competitor), n in sizes.items():
        means = BASE | planted.get((country, wave, competitor), {})
        # Noise standardized within the cell: null comparisons differ only by rounding, clipping
        # and don't-know, far below significance, so the verdicts do not depend on the seed.
        z = rng.normal(size=(n, len(ATTRIBUTES)))
        z = (z - z.mean(axis=0)) / z.std(axis=0, ddof=1)
        x = np.clip(np.round(np.array([means[a] for a in ATTRIBUTES]) + 1.5 * z), 1, 10)
        cell = pd.DataFrame(x, columns=ATTRIBUTES).astype("Int64")
        cell = cell.mask(rng.random(cell.shape) < dont_know)  # don't know -> <NA>
        cell.insert(0, "competitor", competitor)
        cell.insert(0, "wave", wave)
        cell.insert(0, "country", country)
        frames.append(cell)
    df = pd.concat(frames, ignore_index=True)
    df["country"] = df["country"].astype("category")
    df["wave"] = pd.Categorical(df["wave"], categories=waves, ordered=True)
    df["competitor"] = df["competitor"].astype(bool)
    return df


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return _survey()


@pytest.fixture(scope="module")
def de(survey: pd.DataFrame) -> pd.DataFrame:
    return four_screens(survey, country="DE", attributes=ATTRIBUTES)


# --- Welch from summaries ------------------------------------------------------------------------


@pytest.mark.parametrize(("n1", "n2", "sd2", "shift"), [(12, 40, 3.0, 0.8), (200, 35, 0.7, -0.3)])
def test_welch_from_summary_matches_scipy_on_raw_data(n1, n2, sd2, shift) -> None:
    rng = np.random.default_rng(n1 + n2)
    a = rng.normal(5.0, 1.0, n1)
    b = rng.normal(5.0 + shift, sd2, n2)
    ref = stats.ttest_ind(a, b, equal_var=False)
    res = welch_from_summary(a.mean(), a.var(ddof=1), n1, b.mean(), b.var(ddof=1), n2)
    assert res.t == pytest.approx(ref.statistic, rel=1e-10)
    assert res.df == pytest.approx(ref.df, rel=1e-10)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert res.diff == pytest.approx(a.mean() - b.mean(), rel=1e-12)


def test_welch_from_summary_broadcasts_and_flags_untestable_groups() -> None:
    res = welch_from_summary(
        np.array([5.0, 5.0, 5.0, 5.0]),
        np.array([1.0, 1.0, 0.0, 0.0]),
        np.array([30, 1, 10, 10]),
        6.0,
        np.array([2.0, 2.0, 0.0, 0.0]),
        40,
    )
    ref = stats.ttest_ind_from_stats(5.0, 1.0, 30, 6.0, np.sqrt(2.0), 40, equal_var=False)
    assert res.p_value[0] == pytest.approx(ref.pvalue, rel=1e-10)
    assert np.isnan(res.p_value[1])  # n1 = 1: no variance, no test
    assert res.p_value[2] == 0.0  # two constant groups with different means
    with pytest.raises(DataError, match="v1 must be >= 0"):
        welch_from_summary(1.0, -1.0, 10, 1.0, 1.0, 10)


# --- Benjamini-Hochberg --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_benjamini_hochberg_matches_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=20), rng.uniform(0, 0.01, size=5)])
    p[[3, 4]] = p[7]  # ties
    ours = benjamini_hochberg(p)
    np.testing.assert_allclose(ours, multipletests(p, method="fdr_bh")[1], rtol=1e-12)


def test_benjamini_hochberg_ignores_nan_tests() -> None:
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan, 0.5])
    q = benjamini_hochberg(p)
    tested = ~np.isnan(p)
    assert np.isnan(q[~tested]).all()
    np.testing.assert_allclose(q[tested], multipletests(p[tested], method="fdr_bh")[1], rtol=1e-12)
    # By hand: m = 4; sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.0533, 0.0533, 0.5.
    np.testing.assert_allclose(q[tested], [0.04, 0.16 / 3, 0.16 / 3, 0.5], rtol=1e-12)
    assert np.isnan(benjamini_hochberg([np.nan])).all()
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        benjamini_hochberg([0.2, 1.5])


# --- classification rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_fail", "n_pass", "expected"),
    [
        (4, 0, "problem"),
        (2, 0, "problem"),
        (2, 1, "problem"),
        (2, 2, "neutral"),
        (1, 0, "neutral"),
        (0, 1, "neutral"),
        (1, 2, "best practice"),
        (0, 3, "best practice"),
        (3, 1, "problem"),
    ],
)
def test_classification_rule(n_fail: int, n_pass: int, expected: str) -> None:
    assert _classify(np.array([n_fail]), np.array([n_pass]), np.array([True]))[0] == expected
    assert _classify(np.array([n_fail]), np.array([n_pass]), np.array([False]))[0] == "suppressed"


# --- the four screens on planted data ------------------------------------------------------------


def test_planted_effects_give_expected_verdicts(de: pd.DataFrame) -> None:
    expected = pd.DataFrame(
        [
            # trend, vs countries, vs competitors, rank, class
            ("improved", "above", "above", "top", "best practice"),
            ("no change", "no difference", "below", "bottom", "problem"),
            ("no change", "no difference", "below", "middle", "neutral"),
            ("no change", "above", "above", "top", "best practice"),
            ("deteriorated", "below", "below", "bottom", "problem"),
            ("no change", "no difference", "no difference", "middle", "neutral"),
            ("no change", "no difference", "no difference", "bottom", "neutral"),
            ("no change", "no difference", "no difference", "top", "neutral"),
        ],
        index=pd.Index(ATTRIBUTES, name="attribute"),
        columns=[
            "trend_verdict",
            "vs_countries_verdict",
            "vs_competitors_verdict",
            "rank_verdict",
            "class",
        ],
    )
    pd.testing.assert_frame_equal(de[expected.columns].astype(object), expected.astype(object))
    assert de.loc["delivery", ["n_fail", "n_pass"]].tolist() == [4, 0]
    assert de.loc["product_quality", ["n_fail", "n_pass"]].tolist() == [0, 4]
    assert de.loc["product_quality", "rank"] == 1 and de.loc["delivery", "rank"] == 8
    assert (de["wave"] == "2026-Q1").all() and (de["previous_wave"] == "2025-Q4").all()
    # Directions: planted deterioration of 2.5 points shows as a negative diff of that size.
    assert de.loc["delivery", "trend_diff"] == pytest.approx(-2.5, abs=0.4)
    assert de.loc["on_site_service", "vs_countries_diff"] == pytest.approx(1.5, abs=0.4)
    assert de.loc["post_sales_support", "vs_competitors_diff"] == pytest.approx(-1.5, abs=0.4)


def test_means_and_ns_match_pandas_on_raw_subsets(survey: pd.DataFrame, de: pd.DataFrame) -> None:
    own = ~survey["competitor"]
    now = survey["wave"] == "2026-Q1"
    in_de = survey["country"] == "DE"
    groups = {
        "": survey[in_de & own & now],
        "previous_": survey[in_de & own & (survey["wave"] == "2025-Q4")],
        "other_countries_": survey[~in_de & own & now],
        "competitors_": survey[in_de & survey["competitor"] & now],
    }
    for prefix, rows in groups.items():
        values = rows[ATTRIBUTES].astype("float64")
        np.testing.assert_allclose(de[f"{prefix}mean"], values.mean(), rtol=1e-12)
        np.testing.assert_array_equal(de[f"{prefix}n"], values.count())
    # Available cases: don't-know answers make n differ between attributes.
    assert de["n"].nunique() > 1 and (de["n"] < 200).all()


def test_p_values_match_scipy_on_raw_data(survey: pd.DataFrame, de: pd.DataFrame) -> None:
    own = survey[~survey["competitor"] & (survey["country"] == "DE")]
    for attribute in ("delivery", "invoicing_accuracy"):
        now = own.loc[own["wave"] == "2026-Q1", attribute].dropna().astype(float)
        before = own.loc[own["wave"] == "2025-Q4", attribute].dropna().astype(float)
        ref = stats.ttest_ind(now, before, equal_var=False)
        assert de.loc[attribute, "trend_p_value"] == pytest.approx(ref.pvalue, rel=1e-9)


def test_q_values_are_bh_across_the_three_families(de: pd.DataFrame) -> None:
    families = ["trend", "vs_countries", "vs_competitors"]
    p = np.concatenate([de[f"{f}_p_value"].to_numpy() for f in families])
    q = multipletests(p, method="fdr_bh")[1]  # 24 tests, none suppressed here
    ours = np.concatenate([de[f"{f}_q_value"].to_numpy() for f in families])
    np.testing.assert_allclose(ours, q, rtol=1e-12)
    # Correcting per family instead would give different (smaller) q-values.
    per_family = multipletests(de["trend_p_value"], method="fdr_bh")[1]
    assert not np.allclose(per_family, de["trend_q_value"])


# --- suppression and edge cases ------------------------------------------------------------------


def test_small_competitor_cell_is_suppressed_and_not_counted() -> None:
    sizes = SIZES | {("FR", "2026-Q1", True): 12}
    fr = four_screens(_survey(sizes), country="FR", attributes=ATTRIBUTES)
    assert (fr["vs_competitors_verdict"] == "suppressed").all()
    assert fr["competitors_mean"].isna().all()
    assert (
        fr[["vs_competitors_diff", "vs_competitors_p_value", "vs_competitors_q_value"]]
        .isna()
        .all()
        .all()
    )
    assert (fr["competitors_n"] <= 12).all()
    # Suppressed tests are left out of BH: q of the other two families = BH over 16 tests.
    p = np.concatenate([fr["trend_p_value"], fr["vs_countries_p_value"]])
    np.testing.assert_allclose(
        np.concatenate([fr["trend_q_value"], fr["vs_countries_q_value"]]),
        multipletests(p, method="fdr_bh")[1],
        rtol=1e-12,
    )


def test_attribute_below_min_n_is_suppressed_everywhere() -> None:
    df = _survey()
    rows = df.index[(df["country"] == "DE") & ~df["competitor"] & (df["wave"] == "2026-Q1")]
    df.loc[rows[20:], "invoicing_accuracy"] = pd.NA  # 20 answers left, the rest "don't know"
    out = four_screens(df, country="DE", attributes=ATTRIBUTES)
    row = out.loc["invoicing_accuracy"]
    assert row["n"] <= 20 and bool(row["suppressed"])
    assert np.isnan(row["mean"]) and pd.isna(row["rank"])
    verdicts = ["trend_verdict", "vs_countries_verdict", "vs_competitors_verdict", "rank_verdict"]
    assert (row[verdicts] == "suppressed").all()
    assert row["class"] == "suppressed" and row["n_fail"] == 0 and row["n_pass"] == 0
    # Comparison means are still shown: their own cells are large enough.
    assert np.isfinite(row["previous_mean"]) and np.isfinite(row["other_countries_mean"])
    # The seven others are ranked 1..7 among themselves.
    assert sorted(out["rank"].dropna().astype(int)) == [1, 2, 3, 4, 5, 6, 7]


def test_explicit_first_wave_has_no_previous_wave(survey: pd.DataFrame) -> None:
    out = four_screens(survey, country="DE", attributes=ATTRIBUTES, wave="2025-Q4")
    assert (out["trend_verdict"] == "no previous wave").all()
    assert out["previous_wave"].isna().all() and (out["previous_n"] == 0).all()
    assert out["trend_p_value"].isna().all() and out["previous_mean"].isna().all()
    # In 2025-Q4 DE had no planted gaps except its on-site service advantage.
    assert out.loc["on_site_service", "vs_countries_verdict"] == "above"
    assert out.loc["delivery", "vs_countries_verdict"] == "no difference"


def test_previous_wave_skips_waves_without_the_country() -> None:
    # FR skipped 2025-Q4 but was surveyed in 2025-Q3, with a worse delivery score then.
    sizes = {k: v for k, v in SIZES.items() if k[:2] != ("FR", "2025-Q4")}
    sizes |= {("FR", "2025-Q3", False): 200, ("DE", "2025-Q3", False): 200}
    planted = PLANTED | {("FR", "2025-Q3", False): {"delivery": 5.5}}
    df = _survey(sizes, waves=["2025-Q3", *WAVES], planted=planted)
    fr = four_screens(df, country="FR", attributes=ATTRIBUTES)
    assert (fr["previous_wave"] == "2025-Q3").all()
    assert fr.loc["delivery", "trend_verdict"] == "improved"
    assert (fr.drop(index="delivery")["trend_verdict"] == "no change").all()
    assert (
        four_screens(df, country="DE", attributes=ATTRIBUTES)["previous_wave"] == "2025-Q4"
    ).all()


def test_screens_all_countries_equals_four_screens_per_country(survey: pd.DataFrame) -> None:
    long = screens_all_countries(survey, attributes=ATTRIBUTES)
    assert list(long.columns[:2]) == ["country", "attribute"]
    assert sorted(long["country"].unique()) == ["DE", "ES", "FR", "IT"]
    assert len(long) == 4 * len(ATTRIBUTES)
    for country in ("DE", "IT"):
        single = four_screens(survey, country=country, attributes=ATTRIBUTES)
        part = long[long["country"] == country].drop(columns="country").set_index("attribute")
        pd.testing.assert_frame_equal(part, single)
    # DE's planted drop in delivery pulls down the pooled "other countries" of everyone else.
    others = long[long["country"] != "DE"].set_index(["country", "attribute"])
    assert (others.xs("delivery", level="attribute")["vs_countries_verdict"] == "above").all()


def test_validation_messages(survey: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="'XX' not found"):
        four_screens(survey, country="XX", attributes=ATTRIBUTES)
    with pytest.raises(DataError, match=r"\['speed'\]"):
        four_screens(survey, country="DE", attributes=[*ATTRIBUTES, "speed"])
    with pytest.raises(DataError, match="no own-brand respondents in wave '2030-Q1'"):
        four_screens(survey, country="DE", attributes=ATTRIBUTES, wave="2030-Q1")
    bad = survey.assign(competitor=survey["competitor"].astype("boolean"))
    bad.loc[5, "competitor"] = pd.NA
    with pytest.raises(DataError, match="'competitor', row 5: missing"):
        four_screens(bad, country="DE", attributes=ATTRIBUTES)
    with pytest.raises(DataError, match="must be bool"):
        four_screens(survey.assign(competitor="no"), country="DE", attributes=ATTRIBUTES)
    with pytest.raises(DataError, match="must be numeric"):
        four_screens(survey.assign(delivery="good"), country="DE", attributes=ATTRIBUTES)
    with pytest.raises(DataError, match="'alpha' parameter of four_screens .* got 0"):
        four_screens(survey, country="DE", attributes=ATTRIBUTES, alpha=0)


@pytest.mark.parametrize("bad", [0, True, 1.5])
def test_min_n_must_be_an_int_of_at_least_one(survey: pd.DataFrame, bad: object) -> None:
    for func in (four_screens, screens_all_countries):
        message = f"The 'min_n' parameter of {func.__name__} must be an int >= 1; got {bad!r}."
        country = {"country": "DE"} if func is four_screens else {}
        with pytest.raises(DataError, match=re.escape(message)):
            func(survey, **country, attributes=ATTRIBUTES, min_n=bad)


def _with_one_respondent(survey: pd.DataFrame) -> pd.DataFrame:
    """The survey plus LU, whose only respondent (own brand, 2026-Q1) rates everything 7."""
    lone = survey.iloc[[0]].astype({"country": str, "wave": str})
    lone[ATTRIBUTES] = 7
    lone["country"], lone["wave"] = "LU", "2026-Q1"
    df = pd.concat([survey.astype({"country": str, "wave": str}), lone], ignore_index=True)
    df["country"] = df["country"].astype("category")
    df["wave"] = pd.Categorical(df["wave"], categories=WAVES, ordered=True)
    return df


def test_min_n_one_shows_a_one_respondent_cell_without_tests(survey: pd.DataFrame) -> None:
    df = _with_one_respondent(survey)
    lu = four_screens(df, country="LU", attributes=ATTRIBUTES, min_n=1)
    assert (lu["n"] == 1).all() and not lu["suppressed"].any() and (lu["mean"] == 7.0).all()
    assert (lu["trend_verdict"] == "no previous wave").all()
    # one answer against 600 in the other countries: no t-test, whatever min_n says
    assert (lu["other_countries_n"] > 500).all() and lu["vs_countries_p_value"].isna().all()
    assert (lu["vs_countries_verdict"] == "suppressed").all()
    assert (lu["competitors_n"] == 0).all() and (lu["vs_competitors_verdict"] == "suppressed").all()
    # every mean ties at 7: all rank first, "top"; one pass is not a best practice
    assert (lu["rank"] == 1).all() and (lu["rank_verdict"] == "top").all()
    assert (lu["class"] == "neutral").all()
    long = screens_all_countries(df, attributes=ATTRIBUTES, min_n=1)
    assert sorted(long["country"].unique()) == ["DE", "ES", "FR", "IT", "LU"]
    part = long[long["country"] == "LU"].drop(columns="country").set_index("attribute")
    pd.testing.assert_frame_equal(part, lu)
    de = long[long["country"] == "DE"]
    assert de["vs_countries_p_value"].notna().all() and de["trend_p_value"].notna().all()
