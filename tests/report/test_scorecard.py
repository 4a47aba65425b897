"""Tests of csatlib.report.targets: the status rule and the scorecard."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from csatlib.report import tables
from csatlib.report.history import metric_rows, record_build
from csatlib.report.targets import scorecard, scorecard_intro, target_status

WAVES = ("2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")


@pytest.mark.parametrize(
    ("low", "high", "wave", "expected"),
    [
        (10.0, 20.0, "2026-Q1", "met"),  # whole interval above the target
        (5.0, 20.0, "2026-Q1", "met"),  # boundary: low == target counts as at or above
        (-5.0, 4.9, "2026-Q1", "at risk"),  # whole interval below, before the due wave
        (-5.0, 4.9, "2026-Q3", "missed"),  # whole interval below, at the due wave
        (-5.0, 4.9, "2026-Q4", "missed"),  # after the due wave (not in the data): text order
        (-5.0, 5.0, "2026-Q3", "on track"),  # boundary: high == target contains it
        (0.0, 9.0, "2026-Q1", "on track"),  # the interval contains the target
    ],
)
def test_status_rule_on_constructed_intervals(
    low: float, high: float, wave: str, expected: str
) -> None:
    estimate = (low + high) / 2
    status, words = target_status(
        estimate, low, high, 5.0, wave=wave, due_wave="2026-Q3", waves_order=WAVES
    )
    assert status == expected
    assert "95% interval" in words


def test_status_ignores_the_point_estimate() -> None:
    # the estimate is below the target but the interval contains it: not at risk
    assert target_status(1.0, -8.0, 10.0, 5.0, wave="2026-Q1", due_wave="2026-Q3")[0] == "on track"


def test_suppressed_value_has_not_enough_data() -> None:
    status, _ = target_status(None, None, None, 5.0, wave="2026-Q3", due_wave="2026-Q3")
    assert status == "not enough data"
    assert target_status(math.nan, 1, 2, 5.0, wave="x", due_wave="y")[0] == "not enough data"


def _ctx(loyalty: pd.DataFrame) -> SimpleNamespace:
    return SimpleNamespace(
        country="DE",
        dimension="country",
        within="",
        wave="2026-Q3",
        waves=WAVES,
        loyalty_table=loyalty,
        attribute_scores=pd.DataFrame(),
        labels={},
    )


TARGETS = pd.DataFrame(
    {
        "unit": ["DE", "DE", "FR"],
        "metric": ["nps", "loyalty_index", "nps"],
        "baseline_wave": ["2025-Q4", "2025-Q4", "2025-Q4"],
        "target": [-5.0, 70.0, 25.0],
        "due_wave": ["2026-Q4", "2026-Q4", "2026-Q3"],
        "owner": ["Sales DE", "", "Sales FR"],
        "note": ["", "", ""],
    }
)


def test_scorecard_rows_gap_and_baseline(tmp_path: Path) -> None:
    baseline = {
        "wave": "2025-Q4",
        "nps": {"score": -10.6, "ci_low": -20.0, "ci_high": -1.0, "n": 400, "suppressed": False},
    }
    record_build(tmp_path, metric_rows(baseline, unit="DE", value="DE"), build_id="b1")
    loyalty = pd.DataFrame(
        {"country": ["DE"], "n": [442], "score": [66.4], "ci_low": [63.2], "ci_high": [69.6],
         "suppressed": [False]}
    )  # fmt: skip
    current = SimpleNamespace(score=-2.3, ci_low=-18.1, ci_high=13.6, n=442)
    headline = SimpleNamespace(current=current, n=442)
    card = scorecard(_ctx(loyalty), TARGETS, tmp_path, headline=headline)  # type: ignore[arg-type]
    assert card["metric"].tolist() == ["nps", "loyalty_index"]  # FR's target is not DE's
    assert card["status"].tolist() == ["on track", "at risk"]
    nps = card.iloc[0]
    assert nps["gap"] == pytest.approx(-2.3 + 5)
    assert (nps["gap_ci_low"], nps["gap_ci_high"]) == pytest.approx((-13.1, 18.6))
    assert bool(nps["baseline_recorded"]) and nps["baseline"] == pytest.approx(-10.6)
    assert not card.iloc[1]["baseline_recorded"]  # loyalty was not recorded for 2025-Q4
    shown = tables.scorecard_display(card)
    assert shown is not None
    assert shown.loc["NPS", "Baseline"] == "-10.6 (2025-Q4)"
    assert shown.loc["Loyalty index (0–100)", "Baseline"] == "not recorded (2025-Q4)"
    assert shown.loc["NPS", "Gap (95% CI)"] == "+2.7 (-13.1 to +18.6)"


def test_suppressed_current_value_and_unit_without_targets(tmp_path: Path) -> None:
    headline = SimpleNamespace(current=None, n=12)
    ctx = _ctx(pd.DataFrame())
    card = scorecard(ctx, TARGETS, tmp_path, headline=headline)  # type: ignore[arg-type]
    assert card["status"].tolist() == ["not enough data", "not enough data"]
    shown = tables.scorecard_display(card)
    assert shown is not None
    assert shown.iloc[0, 1] == "not enough data (n = 12)"
    ctx.country = "JP"
    empty = scorecard(ctx, TARGETS, tmp_path, headline=headline)  # type: ignore[arg-type]
    assert empty.empty
    assert tables.scorecard_display(empty) is None
    assert scorecard_intro(empty) is None


def test_a_baseline_no_build_recorded_comes_from_the_reports_trend_table(tmp_path: Path) -> None:
    trends = pd.DataFrame(
        {
            "measure": ["ltr", "ltr", "ltr"],
            "statistic": ["nps", "nps", "mean"],
            "wave": ["2025-Q4", "2026-Q3", "2025-Q4"],
            "value": [-10.4, -2.3, 7.1],
            "ci_low": [-25.0, -18.1, 6.8],
            "ci_high": [4.2, 13.6, 7.4],
            "n": [480, 442, 480],
            "suppressed": [False, False, False],
        }
    )
    ctx = _ctx(pd.DataFrame())
    ctx.country_trends, ctx.nps_column = trends, "ltr"
    current = SimpleNamespace(score=-2.3, ci_low=-18.1, ci_high=13.6, n=442)
    headline = SimpleNamespace(current=current, n=442)
    targets = TARGETS.loc[TARGETS["metric"] == "nps"]
    card = scorecard(ctx, targets, tmp_path / "no-history", headline=headline)  # type: ignore[arg-type]
    row = card.loc[card["unit"] == "DE"].iloc[0]
    assert bool(row["baseline_recorded"]) and row["baseline"] == pytest.approx(-10.4)
    assert (row["baseline_ci_low"], row["baseline_n"]) == (-25.0, 480)


def test_a_loyalty_baseline_no_build_recorded_is_that_waves_index(tmp_path: Path) -> None:
    """The loyalty index is no trend: a baseline wave no build recorded takes that wave's
    index as the report makes it (the sample's own DE target showed "not recorded")."""
    waves = {
        "2025-Q4": pd.DataFrame(
            {
                "country": ["DE"],
                "n": [480],
                "score": [61.5],
                "ci_low": [58.0],
                "ci_high": [65.0],
                "suppressed": [False],
            }
        ),  # fmt: skip
    }
    loyalty = pd.DataFrame(
        {"country": ["DE"], "n": [442], "score": [66.4], "ci_low": [63.2], "ci_high": [69.6],
         "suppressed": [False]}
    )  # fmt: skip
    ctx = _ctx(loyalty)
    ctx.loyalty_of = lambda wave: waves.get(wave, pd.DataFrame())
    headline = SimpleNamespace(current=None, n=442)
    targets = TARGETS.loc[TARGETS["metric"] == "loyalty_index"]
    card = scorecard(ctx, targets, tmp_path / "no-history", headline=headline)  # type: ignore[arg-type]
    row = card.iloc[0]
    assert bool(row["baseline_recorded"]) and row["baseline"] == pytest.approx(61.5)
    assert (row["baseline_ci_low"], row["baseline_ci_high"], row["baseline_n"]) == (58.0, 65.0, 480)
    later = targets.assign(baseline_wave="2024-Q1")  # a wave without data: not recorded
    assert not scorecard(ctx, later, tmp_path / "x", headline=headline).iloc[0]["baseline_recorded"]  # type: ignore[arg-type]
