"""Tests of csatlib.stats.priorities: one verdict and one order per attribute, from hand-made
screens and drivers whose expected verdicts are stated next to them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csatlib.errors import DataError
from csatlib.stats.priorities import RULES, VERDICTS, priorities


def _screens(rows: dict[str, dict]) -> pd.DataFrame:
    base = {
        "n": 120,
        "suppressed": False,
        "trend_verdict": "no change",
        "trend_diff": 0.0,
        "vs_countries_verdict": "no difference",
        "vs_countries_diff": 0.0,
        "vs_competitors_verdict": "no difference",
        "vs_competitors_diff": 0.0,
        "rank_verdict": "middle",
    }
    frame = pd.DataFrame({name: {**base, **row} for name, row in rows.items()}).T
    frame.index.name = "attribute"
    frame["suppressed"] = frame["suppressed"].astype(bool)
    return frame


SCREENS = _screens(
    {
        # below the other countries, but above competitors: a priority with both sides kept
        "delivery": {
            "vs_countries_verdict": "below",
            "vs_countries_diff": -0.4,
            "vs_competitors_verdict": "above",
            "vs_competitors_diff": 0.5,
        },
        # two shortfalls, less important than delivery
        "invoicing": {
            "trend_verdict": "deteriorated",
            "trend_diff": -0.3,
            "vs_countries_verdict": "below",
            "vs_countries_diff": -0.6,
        },
        # only the country's lowest: context, not a finding
        "pricing": {"rank_verdict": "bottom"},
        "quality": {
            "vs_competitors_verdict": "above",
            "vs_competitors_diff": 0.8,
            "rank_verdict": "top",
        },
        "support": {
            "suppressed": True,
            "n": 12,
            "trend_verdict": "suppressed",
            "vs_countries_verdict": "suppressed",
            "vs_competitors_verdict": "suppressed",
        },
        "ordering": {
            "trend_verdict": "no previous wave",
            "vs_countries_verdict": "suppressed",
            "vs_competitors_verdict": "suppressed",
        },
    }
)
DRIVERS = pd.DataFrame(
    {
        "importance": [0.10, 0.04, 0.06, 0.12, np.nan, 0.02],
        "ci_low": [0.07, 0.02, 0.04, 0.09, np.nan, 0.01],
        "ci_high": [0.13, 0.06, 0.08, 0.15, np.nan, 0.03],
        "share": [0.30, 0.12, 0.18, 0.35, np.nan, 0.05],
    },
    index=pd.Index(["delivery", "invoicing", "pricing", "quality", "support", "ordering"]),
)


def test_verdicts_follow_the_rules() -> None:
    table = priorities(SCREENS, DRIVERS)
    assert table["verdict"].to_dict() == {
        "delivery": "priority",
        "invoicing": "priority",
        "quality": "strength",
        "pricing": "no significant difference",
        "support": "not enough data",
        "ordering": "not enough data",
    }
    assert table.loc["delivery", "shortfalls"] == ("vs_countries",)
    assert table.loc["delivery", "advantages"] == ("vs_competitors",)
    assert table.loc["pricing", "rank_context"] == "bottom"  # shown, but not a priority


def test_priorities_are_ordered_by_importance_then_evidence() -> None:
    table = priorities(SCREENS, DRIVERS)
    assert list(table.index) == [
        "delivery",
        "invoicing",
        "quality",
        "pricing",
        "ordering",
        "support",
    ]
    assert table.loc[["delivery", "invoicing"], "order"].tolist() == [1, 2]
    assert table.loc["delivery", "importance_ci_low"] == pytest.approx(0.07)
    # without drivers the order falls back to the number of shortfalls, then the largest gap
    no_drivers = priorities(SCREENS)
    assert list(no_drivers.index[:2]) == ["invoicing", "delivery"]
    assert no_drivers["share"].isna().all()


def test_suppressed_drivers_do_not_change_the_verdicts() -> None:
    suppressed = DRIVERS.copy()
    suppressed.attrs["suppressed"] = True
    assert (priorities(SCREENS, suppressed)["verdict"] == priorities(SCREENS)["verdict"]).all()


def test_empty_and_malformed_screens() -> None:
    assert priorities(pd.DataFrame()).empty
    with pytest.raises(DataError, match="trend_verdict"):
        priorities(SCREENS.drop(columns="trend_verdict"))
    assert set(VERDICTS) >= set(priorities(SCREENS)["verdict"]) and "not a finding" in RULES
