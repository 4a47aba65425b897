"""Display tables: rounding, intervals, labels, and suppressed cells never showing numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csatlib.report import tables


def test_formatting_helpers() -> None:
    assert tables.fmt_number(3.14159, 2) == "3.14"
    assert tables.fmt_number(3.0, 1, signed=True) == "+3.0"
    assert tables.fmt_number(np.nan) == "" and tables.fmt_number(pd.NA) == ""
    assert tables.fmt_interval(1, 2.25, 1) == "1.0 to 2.2"  # round-half-even of 2.25
    assert tables.fmt_interval(1, None) == ""
    assert tables.fmt_p(1.3e-5) == "<0.001" and tables.fmt_p(0.0435) == "0.043"
    assert tables.suppressed_text(12, 30) == "suppressed (n = 12 < 30)"
    assert tables.label("post_sales_support", {"post_sales_support": "Post-sales support"}) == (
        "Post-sales support"
    )
    assert tables.label("on_site_service", None) == "On site service"


def _scores(suppressed_second: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": ["DE", "DE"],
            "measure": ["delivery", "pricing"],
            "n": [200, 12],
            "mean": [7.123, 6.4],
            "se": [0.1, 0.5],
            "ci_low": [6.9, 5.4],
            "ci_high": [7.3, 7.4],
            "top_box": [0.25, 0.3],
            "top_box_ci_low": [0.2, 0.1],
            "top_box_ci_high": [0.3, 0.5],
            "suppressed": [False, suppressed_second],
        }
    )


def test_attribute_scores_writes_out_suppressed_cells() -> None:
    out = tables.attribute_scores(
        _scores(True), labels={"delivery": "Delivery"}, min_n=30, box_label="Top-2-box (%)"
    )
    assert out.loc["Delivery", "Mean"] == "7.12"
    assert out.loc["Delivery", "Top-2-box (%)"] == "25.0"
    row = out.loc["Pricing"]
    assert row["Mean"] == "suppressed (n = 12 < 30)"
    # no number anywhere in a suppressed row but its n
    assert all(not any(ch.isdigit() for ch in str(v)) for v in row.drop(["n", "Mean"]))


def test_trend_table_marks_significant_changes_and_suppression() -> None:
    trends = pd.DataFrame(
        {
            "country": "DE",
            "wave": ["2026-Q1", "2026-Q2", "2026-Q1", "2026-Q2"],
            "measure": ["delivery", "delivery", "pricing", "pricing"],
            "statistic": "mean",
            "n": [100, 100, 10, 100],
            "value": [7.0, 6.5, 9.9, 6.0],
            "change": [np.nan, -0.5, np.nan, np.nan],
            "significant": [pd.NA, True, pd.NA, pd.NA],
            "suppressed": [False, False, True, False],
        }
    )
    out = tables.trend_table(trends, labels=None, min_n=30)
    assert out.loc["Delivery", "2026-Q2"] == "6.50 ▼"
    assert out.loc["Pricing", "2026-Q1"] == "suppressed (n = 10 < 30)"
    assert "9.9" not in out.to_string()


def test_screens_display_shows_verdicts_with_evidence() -> None:
    screens = pd.DataFrame(
        {
            "n": [200],
            "mean": [6.9],
            "suppressed": [False],
            "trend_verdict": ["deteriorated"],
            "trend_diff": [-0.3],
            "trend_q_value": [0.01],
            "vs_countries_verdict": ["no difference"],
            "vs_countries_diff": [0.05],
            "vs_countries_q_value": [0.5],
            "vs_competitors_verdict": ["suppressed"],
            "vs_competitors_diff": [np.nan],
            "vs_competitors_q_value": [np.nan],
            "rank_verdict": ["bottom"],
            "class": ["problem"],
        },
        index=["delivery"],
    )
    out = tables.screens_display(screens, labels=None, min_n=30)
    assert out.loc["Delivery", "1. vs last wave"] == "▼ deteriorated (-0.30, q 0.010)"
    assert out.loc["Delivery", "3. vs competitors' customers"] == "suppressed"
    assert out.loc["Delivery", "Class"] == "problem"


def test_cit_display_joins_quotes_and_hides_suppressed_cells() -> None:
    top = pd.DataFrame(
        {
            "rank": [1, 1, 2],
            "benefit": ["a", "a", "b"],
            "label": ["Easy to do business with", "Easy to do business with", "Good value"],
            "n": [100, 100, 100],
            "count": [40, 40, 3],
            "share": [0.4, 0.4, 0.03],
            "quote": ["<b>fast</b>", "on time", "secret"],
            "suppressed": [False, False, True],
        }
    )
    out = tables.cit_display(top, min_n=30)
    assert out.loc[1, "Example quotes"] == "“<b>fast</b>” · “on time”"  # raw: pandas escapes it
    assert out.loc[2, "Mentions"] == "suppressed (n = 100 < 30)"
    assert "secret" not in out.to_string()
    assert "&lt;b&gt;fast" in out.to_html()


def test_quality_display_drops_zero_rows_but_keeps_the_accounting() -> None:
    note = pd.DataFrame(
        {
            "source": ["a.csv"] * 4,
            "kind": ["responses"] * 4,
            "measure": ["raw_rows", "kept", "excluded", "excluded"],
            "detail": [None, None, "duplicate_id", "empty_response"],
            "n": [10, 9, 1, 0],
        }
    )
    out = tables.quality_display(note)
    assert list(out["Rows or values"]) == ["10", "9", "1"]
