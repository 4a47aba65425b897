"""Tests of csatlib.text.agreement: Cohen's kappa against scikit-learn, Krippendorff's alpha
against the krippendorff package and Krippendorff's published example, agreement per attribute,
and a code table compared with one coder's hand codes."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from csatlib.errors import DataError
from csatlib.text import agreement


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cohen_kappa_equals_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z", ""], size=200, p=[0.4, 0.3, 0.2, 0.1])
    b = np.where(rng.random(200) < 0.7, a, rng.choice(["x", "y", "z", ""], size=200))
    assert agreement.cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_cohen_kappa_drops_missing_pairs_and_validates() -> None:
    a = ["x", "y", None, "x", "y"]
    b = ["x", "x", "y", np.nan, "y"]
    assert agreement.cohen_kappa(a, b) == pytest.approx(
        cohen_kappa_score(["x", "y", "y"], ["x", "x", "y"])
    )
    assert np.isnan(agreement.cohen_kappa(["x", "x"], ["x", "x"]))
    with pytest.raises(DataError, match="expected equal"):
        agreement.cohen_kappa(["x"], ["x", "y"])


# Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability, section "C. Nominal data,
# any number of observers, missing data": observers A-D (rows here: units 1-12), published
# nominal alpha = 0.743.
KRIPPENDORFF_2011 = pd.DataFrame(
    {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
)


def test_alpha_published_example() -> None:
    assert round(agreement.krippendorff_alpha(KRIPPENDORFF_2011), 3) == 0.743


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_equals_krippendorff_package(level: str) -> None:
    data = KRIPPENDORFF_2011.astype(float)
    expected = krippendorff.alpha(reliability_data=data.T.to_numpy(), level_of_measurement=level)
    assert agreement.krippendorff_alpha(data, level=level) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_alpha_equals_package_random_with_missing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 5, 150)
    coders = [np.where(rng.random(150) < 0.8, truth, rng.integers(0, 5, 150)) for _ in range(3)]
    data = np.column_stack(coders).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    expected = krippendorff.alpha(reliability_data=data.T, level_of_measurement="nominal")
    assert agreement.krippendorff_alpha(pd.DataFrame(data)) == pytest.approx(expected, abs=1e-12)
    # nominal codes can be strings
    labels = pd.DataFrame(data).apply(lambda c: c.map({0: "a", 1: "b", 2: "c", 3: "d", 4: "e"}))
    assert agreement.krippendorff_alpha(labels) == pytest.approx(expected, abs=1e-12)


def test_agreement_per_attribute_matches_kappa_on_presence() -> None:
    long = pd.DataFrame(
        [
            ("i1", "a", "pricing"), ("i1", "b", "pricing"),
            ("i2", "a", "pricing"), ("i2", "a", "account_manager"), ("i2", "b", "pricing"),
            ("i3", "a", ""), ("i3", "b", "account_manager"),
            ("i4", "a", "account_manager"), ("i4", "b", "account_manager"),
            ("i5", "a", ""), ("i5", "b", ""),
            ("i6", "a", "pricing"),  # coded by a only: not a unit for kappa
        ],
        columns=["incident_id", "coder", "attribute"],
    )  # fmt: skip
    got = agreement.agreement(long).set_index("attribute", drop=False)
    overall = got[got["scope"] == "overall"].iloc[0]
    sets_a = ["pricing", "account_manager; pricing", "", "account_manager", ""]
    sets_b = ["pricing", "pricing", "account_manager", "account_manager", ""]
    assert overall["n_units"] == 5
    assert overall["kappa"] == pytest.approx(cohen_kappa_score(sets_a, sets_b))
    assert overall["percent_agreement"] == pytest.approx(3 / 5)
    am = got.loc["account_manager"]
    presence_a, presence_b = [0, 1, 0, 1, 0], [0, 0, 1, 1, 0]
    assert am["kappa"] == pytest.approx(cohen_kappa_score(presence_a, presence_b))
    assert am["n_present"] == 3
    expected_alpha = krippendorff.alpha(
        reliability_data=[presence_a + [np.nan], presence_b + [np.nan]],
        level_of_measurement="nominal",
    )
    assert am["alpha"] == pytest.approx(expected_alpha)
    assert got.loc["pricing", "kappa"] == pytest.approx(
        cohen_kappa_score([1, 1, 0, 0, 0], [1, 1, 0, 0, 0])
    )


def test_a_code_table_is_compared_with_one_coders_hand_codes() -> None:
    hand = pd.DataFrame(
        {
            "incident_id": ["i1", "i2", "i2", "i3", "i4"],
            "coder": "coder_a",
            "attribute": ["pricing", "pricing", "account_manager", pd.NA, "account_manager"],
        }
    )
    rule = pd.DataFrame(  # i5 was not hand-coded: not a unit; i3 has no rule code: "none"
        {
            "incident_id": ["i1", "i2", "i4", "i5"],
            "attribute": "pricing",
            "method": "rule",
            "coder": "rule",
        }
    )
    got = agreement.agreement_with_coder(rule, hand).set_index("attribute", drop=False)
    overall = got[got["scope"] == "overall"].iloc[0]
    sets_a = ["pricing", "account_manager; pricing", "", "account_manager"]
    sets_rule = ["pricing", "pricing", "", "pricing"]
    assert overall["n_units"] == 4 and overall["n_coders"] == 2
    assert overall["percent_agreement"] == pytest.approx(2 / 4)
    assert overall["kappa"] == pytest.approx(cohen_kappa_score(sets_a, sets_rule))
    assert got.loc["pricing", "kappa"] == pytest.approx(
        cohen_kappa_score([1, 1, 0, 0], [1, 1, 0, 1])
    )
    with pytest.raises(DataError, match="one coder's codes, found \\['coder_a', 'coder_b'\\]"):
        agreement.agreement_with_coder(rule, pd.concat([hand, hand.assign(coder="coder_b")]))
    with pytest.raises(DataError, match="also the hand coder's name"):
        agreement.agreement_with_coder(rule, hand, as_coder="coder_a")
