"""Tests of csatlib.stats.multiplicity: BH q-values, verdicts and one family per country report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from csatlib.errors import DataError
from csatlib.stats.multiplicity import (
    CHANGE_LABELS,
    POLICY_TEXT,
    adjust,
    country_family_q,
    significant,
    verdict,
)
from csatlib.stats.scores import trends
from csatlib.stats.screens import four_screens

ATTRIBUTES = ["delivery", "invoicing_accuracy", "ease_of_ordering"]
LTR = "likelihood_to_recommend"


# --- adjust --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_adjust_matches_statsmodels_fdr_bh(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=20), rng.uniform(0, 0.01, size=5)])
    p[[3, 4]] = p[7]  # ties
    np.testing.assert_allclose(adjust(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12)


def test_nan_p_stays_nan_and_does_not_count_in_m() -> None:
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan, 0.5])
    q = adjust(p)
    tested = ~np.isnan(p)
    assert np.isnan(q[~tested]).all()
    np.testing.assert_allclose(q[tested], multipletests(p[tested], method="fdr_bh")[1], rtol=1e-12)
    # By hand: m = 4; sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.0533, 0.0533, 0.5.
    np.testing.assert_allclose(q[tested], [0.04, 0.16 / 3, 0.16 / 3, 0.5], rtol=1e-12)
    assert np.isnan(adjust([np.nan])).all()


def test_families_are_adjusted_each_on_its_own() -> None:
    rng = np.random.default_rng(11)
    p = rng.uniform(0, 0.2, 30)
    p[[2, 17]] = np.nan
    families = rng.choice(["DE", "FR", "IT"], 30)
    q = adjust(p, families=families)
    for family in ("DE", "FR", "IT"):
        mine = (families == family) & ~np.isnan(p)
        np.testing.assert_allclose(q[mine], multipletests(p[mine], method="fdr_bh")[1])
    assert np.isnan(q[[2, 17]]).all()


def test_adjust_validation() -> None:
    with pytest.raises(DataError, match=r"\[0, 1\], found 1.5 at position 1"):
        adjust([0.2, 1.5])
    with pytest.raises(DataError, match="1-d"):
        adjust([[0.1, 0.2]])
    with pytest.raises(DataError, match="one family label per p-value"):
        adjust([0.1, 0.2], families=["a"])


# --- verdicts ------------------------------------------------------------------------------------


def test_verdict_reads_q_and_direction() -> None:
    diff = np.array([0.4, -0.4, 0.4, 0.4, np.nan])
    q = np.array([0.01, 0.049, 0.05, 0.2, np.nan])
    assert verdict(diff, q).tolist() == ["above", "below", "no difference", "no difference", None]
    up, down, none = CHANGE_LABELS
    assert verdict(diff, q, up=up, down=down, none=none).tolist()[:3] == [
        "improved",
        "deteriorated",
        "no change",
    ]
    assert verdict(diff, q, alpha=0.25)[3] == "above"
    flags = significant(q)
    assert flags[:4].tolist() == [True, True, False, False] and pd.isna(flags[4])


def test_policy_text_names_the_family_and_the_rule() -> None:
    for words in ("Benjamini-Hochberg", "0.05", "previous wave", "other countries", "competitors"):
        assert words in POLICY_TEXT


# --- one family per country report ---------------------------------------------------------------


def _study(seed: int = 3) -> pd.DataFrame:
    """DE, FR, IT x three waves, own brand and competitors' customers, accounts answering in
    every wave; DE's delivery drops in the last wave, FR skips the middle wave."""
    rng = np.random.default_rng(seed)
    waves = ["2025-Q3", "2025-Q4", "2026-Q1"]
    rows = []
    for country in ("DE", "FR", "IT"):
        for competitor in (False, True):
            for a in range(25 if not competitor else 12):
                effect = rng.normal(0, 0.8)
                for wave in waves:
                    if country == "FR" and wave == "2025-Q4" and not competitor:
                        continue
                    for _ in range(int(rng.integers(1, 4))):
                        drop = (country, wave, competitor) == ("DE", "2026-Q1", False)
                        base = 7.0 + effect + rng.normal(0, 1.2, 3) - np.array([1.5, 0, 0]) * drop
                        rows.append(
                            {
                                "country": country,
                                "wave": wave,
                                "competitor": competitor,
                                "account": f"{country}{int(competitor)}{a:02d}",
                                **dict(zip(ATTRIBUTES, np.clip(np.rint(base), 1, 10), strict=True)),
                                LTR: np.clip(np.rint(7.5 + effect + rng.normal(0, 2)), 0, 10),
                            }
                        )
    df = pd.DataFrame(rows)
    for col in [*ATTRIBUTES, LTR]:
        df[col] = df[col].astype("Int64")
    df["wave"] = pd.Categorical(df["wave"], categories=waves, ordered=True)
    return df


def _country_tables(
    df: pd.DataFrame, country: str, cluster: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The trends and screens of one country, both on every row of the study (one design)."""
    table = trends(
        df,
        [LTR, *ATTRIBUTES],
        by=["country", "competitor"],
        cluster=cluster,
        min_n=10,
        nps_column=LTR,
    )
    own = table[(table["country"] == country) & ~table["competitor"]].reset_index(drop=True)
    screens = four_screens(df, country=country, attributes=ATTRIBUTES, cluster=cluster, min_n=10)
    return own, screens


@pytest.mark.parametrize("cluster", [None, "account"])
def test_an_attribute_change_gets_one_q_and_one_verdict_in_both_tables(cluster) -> None:
    df = _study()
    own, screens = _country_tables(df, "DE", cluster)
    family = country_family_q(own, screens)
    now = family.trends[family.trends["wave"] == "2026-Q1"].set_index(["measure", "statistic"])
    for attribute in ATTRIBUTES:
        row = now.loc[(attribute, "mean")]
        assert row["q_value"] == family.screens.loc[attribute, "trend_q_value"]
        assert row["verdict"] == family.screens.loc[attribute, "trend_verdict"]
        assert row["significant"] == (row["q_value"] < 0.05)
    # the planted drop is found in both, as one test
    assert now.loc[("delivery", "mean"), "verdict"] == "deteriorated"
    # the family: NPS and LTR-mean changes, plus three screens of three attributes, the shared
    # change counted once
    assert family.m == 2 + 3 * 3
    assert family.tests["in_trends"].sum() == 2 + 3 and family.tests["in_screens"].sum() == 9
    p = family.tests["p_value"].to_numpy()
    np.testing.assert_allclose(
        family.tests["q_value"], multipletests(p, method="fdr_bh")[1], rtol=1e-12
    )
    shared = family.tests[family.tests["in_trends"] & family.tests["in_screens"]]
    assert sorted(shared["measure"]) == sorted(ATTRIBUTES)
    assert (shared["verdict"].to_numpy() == screens.loc[shared["measure"], "trend_verdict"]).all()


def test_the_family_writes_its_q_values_into_both_tables_and_keeps_other_waves() -> None:
    df = _study()
    own, screens = _country_tables(df, "DE", None)
    family = country_family_q(own, screens)
    tests = family.tests.set_index(["measure", "comparison"])
    for screen, comparison in (
        ("vs_countries", "other countries"),
        ("vs_competitors", "competitors"),
    ):
        expected = tests.xs(comparison, level="comparison").loc[ATTRIBUTES, "q_value"]
        np.testing.assert_array_equal(family.screens[f"{screen}_q_value"], expected)
        # more tests in the family than in the screens alone: other q-values
        assert not np.allclose(family.screens[f"{screen}_q_value"], screens[f"{screen}_q_value"])
    nps = family.trends[
        (family.trends["wave"] == "2026-Q1") & (family.trends["statistic"] == "nps")
    ]
    nps_test = family.tests[(family.tests["measure"] == LTR) & (family.tests["statistic"] == "nps")]
    assert nps["q_value"].iloc[0] == nps_test["q_value"].iloc[0]
    earlier = own["wave"] != "2026-Q1"
    pd.testing.assert_frame_equal(family.trends[earlier], own[earlier])
    # the screens' classes are re-derived from the family's verdicts
    fail_words = {"trend": "deteriorated", "vs_countries": "below", "vs_competitors": "below"}
    fails = sum((family.screens[f"{k}_verdict"] == v).astype(int) for k, v in fail_words.items())
    fails += (family.screens["rank_verdict"] == "bottom").astype(int)
    assert (family.screens["n_fail"] == fails).all()


def test_tables_of_different_designs_are_refused() -> None:
    df = _study()
    _, screens = _country_tables(df, "DE", "account")
    # trends on the country's own rows only: a design with fewer accounts, another SE
    own_rows = df[(df["country"] == "DE") & ~df["competitor"]]
    alone = trends(own_rows, ATTRIBUTES, cluster="account", min_n=10, nps_column=None)
    with pytest.raises(DataError, match="'delivery' since the previous wave has p = .* in trends"):
        country_family_q(alone, screens)
    with pytest.raises(DataError, match="pass the trends of one country"):
        whole = trends(df, ATTRIBUTES, cluster="account", min_n=10, nps_column=None)
        country_family_q(whole, screens)
    with pytest.raises(DataError, match="lacks the columns"):
        country_family_q(alone.drop(columns="verdict"), screens)


def test_a_country_without_the_previous_wave_has_no_trend_test_in_the_family() -> None:
    df = _study()
    own, screens = _country_tables(df, "FR", None)
    assert (screens["trend_verdict"] == "no previous wave data").all()
    family = country_family_q(own, screens)
    assert (family.tests["comparison"] != "previous wave").all()
    assert (family.screens["trend_verdict"] == "no previous wave data").all()
    now = family.trends[family.trends["wave"] == "2026-Q1"]
    assert (now["verdict"] == "no previous wave data").all() and now["q_value"].isna().all()
