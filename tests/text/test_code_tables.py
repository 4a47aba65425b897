"""Tests of csatlib.text.code_tables: merging codes (hand > rule > model, one coder per
incident) and coverage by valence and method."""

from __future__ import annotations

import pandas as pd
import pytest

from csatlib.errors import DataError
from csatlib.text import code_tables, coding, hand_coding


def test_hand_codes_win_and_model_never_overrides(make_incidents, codebook) -> None:
    incidents = make_incidents(["fast delivery", "fast delivery", "the conference", "great lunch"])
    rule = coding.code_incidents(incidents, codebook)
    hand = hand_coding.import_hand_codes(
        pd.DataFrame({"incident_id": ["r0|like|1"], "attribute": ["pricing"]}),
        incidents,
        codebook=codebook,
    )
    model = pd.DataFrame(
        {
            "incident_id": ["r0|like|1", "r1|like|1", "r2|like|1"],
            "attribute": ["account_manager"] * 3,
            "benefit": "partnership",
            "valence": "positive",
            "method": "model",
            "score": 0.99,
        }
    )
    merged = code_tables.merge_codes(rule, hand, model)
    by_incident = merged.groupby("incident_id")[["attribute", "method"]].agg(list)
    assert by_incident.loc["r0|like|1"].tolist() == [["pricing"], ["hand"]]  # hand beats rule
    assert by_incident.loc["r1|like|1"].tolist() == [["on_time_delivery"], ["rule"]]  # not model
    assert by_incident.loc["r2|like|1"].tolist() == [["account_manager"], ["model"]]  # gap filled
    assert "r3|like|1" not in by_incident.index
    # a hand "none" also removes the rule code
    none = hand_coding.import_hand_codes(
        pd.DataFrame({"incident_id": ["r1|like|1"], "attribute": ["none"]}),
        incidents,
        codebook=codebook,
    )
    merged = code_tables.merge_codes(rule, none, model)
    assert merged.loc[merged["incident_id"] == "r1|like|1", "attribute"].isna().all()
    with pytest.raises(DataError, match="must have method='model'"):
        code_tables.merge_codes(rule, hand, rule)
    two = pd.concat([hand, hand.assign(coder="other", attribute="pricing")])
    with pytest.raises(DataError, match="several coders"):
        code_tables.merge_codes(rule, two)


def test_coverage_counts(make_incidents, codebook) -> None:
    incidents = pd.concat(
        [
            make_incidents(["fast delivery", "lunch", "fair prices"]),
            make_incidents(["late", "x"], "negative"),
        ]
    )
    incidents["incident_id"] = [f"i{i}" for i in range(5)]
    cov = code_tables.coverage(incidents, coding.code_incidents(incidents, codebook))
    got = cov.set_index(["valence", "method"])
    assert got.loc[("positive", "rule"), ["n", "coded"]].tolist() == [3, 2]
    assert got.loc[("negative", "rule"), ["n", "coded"]].tolist() == [2, 0]
    assert got.loc[("all", "any"), "share"] == pytest.approx(2 / 5)
