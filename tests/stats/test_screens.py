"""Tests of csatlib.stats.screens: Welch from summaries, the four screens, clustered tests.

Reference numbers of the clustered screens: R 4.2.2, survey 4.1-1, on ``_clustered_survey()``
written to CSV (a missing account made a PSU of its own, ``psu = ifelse(is.na(account),
paste0("row", seq_len(nrow(df))), account)``), with ``g`` = "base" (DE own brand 2026-Q1),
"prior" (DE own brand 2025-Q4), "others" (other countries' own brand 2026-Q1), "rivals" (DE
competitors' customers 2026-Q1) or "rest":
``d <- svydesign(ids = ~psu, data = df)``;
``b <- svyby(~x, ~g, subset(d, !is.na(x)), svymean, covmat = TRUE)``;
``svycontrast(b, c(base = 1, other = -1))`` (estimate and SE), ``p = 2 * pnorm(-abs(est / se))``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from csatlib.errors import DataError
from csatlib.stats.multiplicity import adjust
from csatlib.stats.scores import trends
from csatlib.stats.screens import (
    _classify,
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
    assert np.isnan(res.p_value[2])  # two constant groups: no variance, no test (never p = 0)
    with pytest.raises(DataError, match="v1 must be >= 0"):
        welch_from_summary(1.0, -1.0, 10, 1.0, 1.0, 10)


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


@pytest.mark.parametrize(
    ("n_fail", "n_pass", "n_undecided", "expected"),
    [
        # each open screen may still be a fail, a pass or neither
        (0, 0, 1, "neutral"),  # one more fail or pass is still not two
        (1, 0, 1, "not enough data"),  # a second fail would make a problem
        (0, 1, 2, "not enough data"),
        (2, 0, 1, "problem"),  # one pass gives 2 > 1: still a problem
        (2, 0, 2, "not enough data"),  # two passes would tie
        (1, 1, 1, "not enough data"),
        (0, 3, 1, "best practice"),
        (0, 0, 3, "not enough data"),
    ],
)
def test_a_class_that_open_screens_could_change_is_not_enough_data(
    n_fail: int, n_pass: int, n_undecided: int, expected: str
) -> None:
    got = _classify(
        np.array([n_fail]), np.array([n_pass]), np.array([True]), np.array([n_undecided])
    )
    assert got[0] == expected


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
        se = np.sqrt(now.var(ddof=1) / len(now) + before.var(ddof=1) / len(before))
        assert de.loc[attribute, "trend_se"] == pytest.approx(se, rel=1e-10)


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
    # Too few competitors' customers is not "no problem": a class the open screen could change
    # is "not enough data"; delivery's two passes stand whatever screen 3 would say.
    assert (fr["n_undecided"] == 1).all()
    assert fr.loc["product_quality", "class"] == "not enough data"  # 1 fail, 1 pass, 1 open
    assert fr.loc["post_sales_support", "class"] == "neutral"  # 0, 0, 1 open: neutral anyway
    assert fr.loc["delivery", ["n_pass", "class"]].tolist() == [2, "best practice"]
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


def test_previous_wave_is_the_study_s_even_when_the_country_skipped_it() -> None:
    # FR skipped 2025-Q4 but was surveyed in 2025-Q3, with a worse delivery score then: the
    # screen does not fall back on 2025-Q3, it says there is no data in the previous wave.
    sizes = {k: v for k, v in SIZES.items() if k[:2] != ("FR", "2025-Q4")}
    sizes |= {("FR", "2025-Q3", False): 200, ("DE", "2025-Q3", False): 200}
    planted = PLANTED | {("FR", "2025-Q3", False): {"delivery": 5.5}}
    df = _survey(sizes, waves=["2025-Q3", *WAVES], planted=planted)
    fr = four_screens(df, country="FR", attributes=ATTRIBUTES)
    assert (fr["previous_wave"] == "2025-Q4").all() and (fr["previous_n"] == 0).all()
    assert (fr["trend_verdict"] == "no previous wave data").all()
    assert fr["trend_p_value"].isna().all() and fr["previous_mean"].isna().all()
    # the missing wave is too few respondents, not a missing screen: it counts as undecided
    assert (fr["n_undecided"] >= 1).all()
    # the trends of the same study compare with the same wave
    own = df[~df["competitor"]]
    table = trends(own, "delivery", min_n=30, nps_column=None)
    fr_now = table[(table["country"] == "FR") & (table["wave"] == "2026-Q1")].iloc[0]
    assert fr_now["previous_wave"] == "2025-Q4" and np.isnan(fr_now["change"])
    assert fr_now["verdict"] == "no previous wave data"
    de = four_screens(df, country="DE", attributes=ATTRIBUTES)
    assert (de["previous_wave"] == "2025-Q4").all()


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
    # LU has no one in the study's previous wave (2025-Q4)
    assert (lu["trend_verdict"] == "no previous wave data").all()
    # one answer against 600 in the other countries: no t-test, whatever min_n says
    assert (lu["other_countries_n"] > 500).all() and lu["vs_countries_p_value"].isna().all()
    assert (lu["vs_countries_verdict"] == "suppressed").all()
    # no competitors' customers in LU at all: screen 3 does not apply (not "too few")
    assert (lu["competitors_n"] == 0).all()
    assert (lu["vs_competitors_verdict"] == "no competitors' customers").all()
    # every mean ties at 7: all rank first, "top"; one pass and two open screens: one
    # respondent cannot tell, so "not enough data", never "neutral"
    assert (lu["rank"] == 1).all() and (lu["rank_verdict"] == "top").all()
    assert (lu["n_undecided"] == 2).all() and (lu["class"] == "not enough data").all()
    long = screens_all_countries(df, attributes=ATTRIBUTES, min_n=1)
    assert sorted(long["country"].unique()) == ["DE", "ES", "FR", "IT", "LU"]
    part = long[long["country"] == "LU"].drop(columns="country").set_index("attribute")
    pd.testing.assert_frame_equal(part, lu)
    de = long[long["country"] == "DE"]
    assert de["vs_countries_p_value"].notna().all() and de["trend_p_value"].notna().all()


# --- accounts as clusters: one design ------------------------------------------------------------


def _clustered_survey() -> pd.DataFrame:
    """DE, FR, IT x two waves, own-brand accounts answering in both waves (1-4 respondents
    each) and competitors' customers (own accounts); DE's delivery drops in 2026-Q1; 6 %
    don't-know per attribute; three respondents without an account."""
    rng = np.random.default_rng(616)
    rows = []
    for country in ("DE", "FR", "IT"):
        for competitor in (False, True):
            for a in range(10 if competitor else 16):
                effect = rng.normal(0, 1.0)
                account = f"{country}{'C' if competitor else 'A'}{a:02d}"
                for wave in ("2025-Q4", "2026-Q1"):
                    for _ in range(int(rng.integers(1, 5))):
                        drop = (
                            -1.2 if (country, wave, competitor) == ("DE", "2026-Q1", False) else 0
                        )
                        rows.append(
                            {
                                "country": country,
                                "wave": wave,
                                "competitor": competitor,
                                "account": account,
                                "delivery": np.clip(
                                    np.rint(7 + effect + drop + rng.normal(0, 1.2)), 1, 10
                                ),
                                "invoicing_accuracy": np.clip(
                                    np.rint(6.5 + effect + rng.normal(0, 1.4)), 1, 10
                                ),
                            }
                        )
    df = pd.DataFrame(rows)
    for col in ("delivery", "invoicing_accuracy"):
        df[col] = df[col].astype("Int64")
        df.loc[rng.random(len(df)) < 0.06, col] = pd.NA
    df.loc[[3, 50, 200], "account"] = None
    df["country"] = df["country"].astype("category")
    df["wave"] = pd.Categorical(df["wave"], categories=["2025-Q4", "2026-Q1"], ordered=True)
    return df


# (attribute, screen) -> R's svycontrast estimate, its SE and 2 * pnorm(-abs(est / se))
R_CLUSTERED = {
    ("delivery", "trend"): (-1.74774774774775, 0.294884602581227, 3.08731072591958e-09),
    ("delivery", "vs_countries"): (-2.09313725490196, 0.384838241937759, 5.35788479126753e-08),
    ("delivery", "vs_competitors"): (-1.46666666666667, 0.563865290752767, 0.00929269672210859),
    ("invoicing_accuracy", "trend"): (-0.88157894736842, 0.399339111914502, 0.0272725318784098),
    ("invoicing_accuracy", "vs_countries"): (
        -0.880769230769231,
        0.53453546428005,
        0.0994084307350879,
    ),
    ("invoicing_accuracy", "vs_competitors"): (
        -0.711538461538462,
        0.587657331579907,
        0.225970131388238,
    ),
}


@pytest.mark.parametrize(("attribute", "screen"), sorted(R_CLUSTERED))
def test_clustered_screens_equal_r_survey(attribute: str, screen: str) -> None:
    df = _clustered_survey()
    out = four_screens(
        df, country="DE", attributes=["delivery", "invoicing_accuracy"], cluster="account", min_n=10
    )
    diff, se, p_normal = R_CLUSTERED[(attribute, screen)]
    assert out.loc[attribute, f"{screen}_diff"] == pytest.approx(diff, abs=1e-8)
    assert out.loc[attribute, f"{screen}_se"] == pytest.approx(se, abs=1e-8)
    # R's svycontrast p is normal; ours is Student's t on the smaller side's accounts minus one
    answered = df.loc[df[attribute].notna()]
    accounts = {
        "base": answered.query("country == 'DE' and wave == '2026-Q1' and not competitor"),
        "trend": answered.query("country == 'DE' and wave == '2025-Q4' and not competitor"),
        "vs_countries": answered.query("country != 'DE' and wave == '2026-Q1' and not competitor"),
        "vs_competitors": answered.query("country == 'DE' and wave == '2026-Q1' and competitor"),
    }
    n_base, n_other = (_accounts(accounts[k]) for k in ("base", screen))
    df_t = min(n_base, n_other) - 1
    p = 2 * stats.t.sf(abs(diff / se), df_t)
    assert out.loc[attribute, f"{screen}_p_value"] == pytest.approx(p, rel=1e-7)
    assert p >= p_normal  # never less cautious than the normal reference


def _accounts(rows: pd.DataFrame) -> int:
    """Accounts of the rows, a respondent without an account counting as one of its own."""
    return int(rows["account"].nunique() + rows["account"].isna().sum())


def test_clusters_change_the_se_and_q_but_not_the_means() -> None:
    df = _clustered_survey()
    attrs = ["delivery", "invoicing_accuracy"]
    clustered = four_screens(df, country="DE", attributes=attrs, cluster="account", min_n=10)
    plain = four_screens(df, country="DE", attributes=attrs, min_n=10)
    for col in ("mean", "previous_mean", "other_countries_mean", "trend_diff", "n"):
        np.testing.assert_allclose(clustered[col], plain[col], rtol=1e-12)
    # respondents of one account answer alike: the clustered SE against other accounts is
    # larger; the same accounts answer in both waves, so the change over time is measured more
    # precisely than with independent waves (the covariance term)
    assert (clustered["vs_countries_se"] > plain["vs_countries_se"]).all()
    assert (clustered["trend_se"] < plain["trend_se"]).all()
    q = adjust(
        np.concatenate(
            [clustered[f"{k}_p_value"] for k in ("trend", "vs_countries", "vs_competitors")]
        )
    )
    np.testing.assert_allclose(
        np.sort(q), np.sort(clustered.filter(like="_q_value").to_numpy().ravel())
    )
    assert clustered.loc["delivery", "class"] == "problem"


def test_a_comparison_needs_two_accounts_on_each_side() -> None:
    df = _clustered_survey()
    rivals = (df["country"] == "DE") & df["competitor"] & (df["wave"] == "2026-Q1")
    df.loc[rivals, "account"] = "one competitor account"
    out = four_screens(df, country="DE", attributes=["delivery"], cluster="account", min_n=10).iloc[
        0
    ]
    assert out["competitors_n"] >= 10 and np.isnan(out["vs_competitors_p_value"])
    assert out["vs_competitors_verdict"] == "suppressed"
    assert np.isfinite(out["trend_p_value"])


def test_screens_all_countries_with_clusters_equals_four_screens() -> None:
    df = _clustered_survey()
    attrs = ["delivery", "invoicing_accuracy"]
    long = screens_all_countries(df, attributes=attrs, cluster="account", min_n=10)
    for country in ("DE", "FR", "IT"):
        single = four_screens(df, country=country, attributes=attrs, cluster="account", min_n=10)
        part = long[long["country"] == country].drop(columns="country").set_index("attribute")
        pd.testing.assert_frame_equal(part, single)
    with pytest.raises(DataError, match=r"missing column\(s\) 'customer'"):
        four_screens(df, country="DE", attributes=attrs, cluster="customer")
