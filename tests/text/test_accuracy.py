"""Tests of csatlib.text.accuracy: precision and recall of the rule coder against hand codes,
checked against closed forms computed by hand and against scikit-learn's micro averages."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csatlib import config
from csatlib.errors import DataError
from csatlib.text import accuracy

Z95 = 1.959963984540054  # standard normal quantile 0.975


def _wilson(x: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson (1927) score interval: (p + z²/2n ± z √(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = x / n
    centre = p + z**2 / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (centre - half) / (1 + z**2 / n), (centre + half) / (1 + z**2 / n)


def _codes(rows: list[tuple[str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["incident_id", "attribute"]).assign(method="rule")


def _hand(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["incident_id", "coder", "attribute"])


def test_one_coder_is_the_textbook_precision_and_recall() -> None:
    # Hand: i1 {a, b}, i2 {a}, i3 none, i4 {c}. Rule: i1 {a, b}, i2 {b}, i3 {a}, i4 {c}, and i5
    # {a}, which nobody hand-coded. Matches: i1 a, i1 b, i4 c = 3; rule codes on hand-coded
    # incidents 5, hand codes 4: precision 3/5, recall 3/4.
    hand = _hand(
        [("i1", "A", "a"), ("i1", "A", "b"), ("i2", "A", "a"), ("i3", "A", ""), ("i4", "A", "c")]
    )
    codes = _codes([("i1", "a"), ("i1", "b"), ("i2", "b"), ("i3", "a"), ("i4", "c"), ("i5", "a")])
    got = accuracy.coder_accuracy(codes, hand)
    assert (got.precision, got.recall) == (0.6, 0.75)
    assert (got.n_assigned, got.n_hand, got.matches) == (5, 4.0, 3.0)
    assert (got.n_incidents, got.n_coders, got.conf) == (4, 1, 0.95)
    assert (got.precision_ci_low, got.precision_ci_high) == pytest.approx(_wilson(3, 5))
    assert (got.recall_ci_low, got.recall_ci_high) == pytest.approx(_wilson(3, 4))
    # the closed form by hand: p = 0.6, n = 5 -> 0.2307 to 0.8824
    assert (got.precision_ci_low, got.precision_ci_high) == pytest.approx(
        (0.2307, 0.8824), abs=1e-4
    )


def test_two_coders_weigh_each_incident_once() -> None:
    # i1: coder A {a}, coder B {a, b}; i2: coder A {c} only. Rule: i1 {a, b}, i2 nothing.
    # x = 1/2 (|{a,b} & {a}| + |{a,b} & {a,b}|) + |{} & {c}| = 1.5; n_P = 2;
    # n_R = 1/2 (1 + 2) + 1 = 2.5. Precision 0.75 (a scores 1, b scores 1/2), recall 0.6.
    hand = _hand([("i1", "A", "a"), ("i1", "B", "a"), ("i1", "B", "b"), ("i2", "A", "c")])
    codes = _codes([("i1", "a"), ("i1", "b")])
    got = accuracy.coder_accuracy(codes, hand, conf=0.9)
    assert (got.precision, got.recall) == pytest.approx((0.75, 0.6))
    assert (got.n_assigned, got.n_hand, got.matches) == (2, 2.5, 1.5)
    assert (got.n_incidents, got.n_coders) == (2, 2)
    z90 = 1.6448536269514722  # standard normal quantile 0.95
    assert (got.recall_ci_low, got.recall_ci_high) == pytest.approx(_wilson(1.5, 2.5, z90))


def test_equals_scikit_learn_micro_averages_for_one_coder() -> None:
    from sklearn.metrics import precision_score, recall_score

    rng = np.random.default_rng(7)
    rule = rng.random((200, 5)) < 0.3
    hand = rule ^ (rng.random((200, 5)) < 0.15)  # the coder disagrees on some cells
    attrs = np.array(list("abcde"))
    ids = np.array([f"i{i}" for i in range(200)])
    codes = _codes([(ids[i], attrs[j]) for i, j in zip(*np.nonzero(rule), strict=True)])
    rows = [(ids[i], "A", attrs[j]) for i, j in zip(*np.nonzero(hand), strict=True)]
    rows += [(ids[i], "A", None) for i in np.flatnonzero(~hand.any(axis=1))]  # "none"
    got = accuracy.coder_accuracy(codes, _hand(rows))
    assert got.precision == pytest.approx(precision_score(hand, rule, average="micro"))
    assert got.recall == pytest.approx(recall_score(hand, rule, average="micro"))


def test_no_rule_code_leaves_precision_undefined() -> None:
    got = accuracy.coder_accuracy(_codes([]), _hand([("i1", "A", "a")]))
    assert math.isnan(got.precision) and math.isnan(got.precision_ci_low)
    assert (got.recall, got.n_assigned) == (0.0, 0)


def test_bad_inputs_are_named() -> None:
    with pytest.raises(DataError, match="no hand-coded incident"):
        accuracy.coder_accuracy(_codes([("i1", "a")]), _hand([]))
    with pytest.raises(DataError, match="'conf' parameter of coder_accuracy"):
        accuracy.coder_accuracy(_codes([]), _hand([("i1", "A", "a")]), conf=95)
    with pytest.raises(DataError, match="coder_accuracy \\(hand_codes\\).*'coder'"):
        accuracy.coder_accuracy(_codes([]), pd.DataFrame({"incident_id": ["i1"], "attribute": "a"}))


def _responses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3"],
            "text_like": ["fast delivery", "fair prices", "nice people"],
            "text_dislike": ["too expensive", "", "late delivery; wrong invoices"],
        }
    )


def test_rule_coder_accuracy_on_a_hand_coded_file(tmp_path: Path) -> None:
    # Rule codes (shipped codebook): r1 like delivery, r2 like pricing, r1 dislike pricing,
    # r3 dislike 1 delivery, r3 dislike 2 invoices. The coder agrees on three of the four
    # incidents coded, calls r2's like licensing and r3's like (no rule code) the account manager:
    # precision 3/4, recall 3/5.
    path = tmp_path / "cit_hand_codes.csv"
    path.write_text(
        "incident_id,coder,attribute\n"
        "r1|like|1,A,on_time_delivery\n"
        "r2|like|1,A,licensing_terms\n"
        "r1|dislike|1,A,pricing\n"
        "r3|dislike|2,A,invoice_accuracy\n"
        "r3|like|1,A,account_manager\n",
        encoding="utf-8",
    )
    got = accuracy.rule_coder_accuracy(
        _responses(), codebook_path=config.CIT_CODEBOOK, hand_codes_path=path
    )
    assert got is not None
    assert (got.precision, got.recall, got.n_assigned, got.n_incidents) == (0.75, 0.6, 4, 5)


def test_rule_coder_accuracy_without_hand_codes_is_not_measured(tmp_path: Path) -> None:
    codebook = config.CIT_CODEBOOK
    missing = accuracy.rule_coder_accuracy(
        _responses(), codebook_path=codebook, hand_codes_path=tmp_path / "none.csv"
    )
    assert missing is None
    empty = tmp_path / "cit_hand_codes.csv"
    empty.write_text("incident_id,coder,attribute\n", encoding="utf-8")
    assert (
        accuracy.rule_coder_accuracy(_responses(), codebook_path=codebook, hand_codes_path=empty)
        is None
    )


def test_hand_codes_of_another_study_are_no_sample_of_this_one(tmp_path: Path) -> None:
    path = tmp_path / "cit_hand_codes.csv"
    path.write_text("incident_id,coder,attribute\nR_other|like|1,A,pricing\n", encoding="utf-8")
    kwargs = {"codebook_path": config.CIT_CODEBOOK, "hand_codes_path": path}
    assert accuracy.rule_coder_accuracy(_responses(), **kwargs) is None
    # some incidents of this study and some no longer in it (an edited export): measured on
    # those found, the others counted and said
    path.write_text(
        "incident_id,coder,attribute\nr1|like|1,A,on_time_delivery\nR_other|like|1,A,pricing\n",
        encoding="utf-8",
    )
    got = accuracy.rule_coder_accuracy(_responses(), **kwargs)
    assert got is not None
    assert (got.n_incidents, got.n_not_found, got.precision) == (1, 1, 1.0)
    # a hand code naming an attribute the codebook lacks is still an error naming file and row
    path.write_text("incident_id,coder,attribute\nr1|like|1,A,teleportation\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"cit_hand_codes.csv, row 2"):
        accuracy.rule_coder_accuracy(_responses(), **kwargs)
