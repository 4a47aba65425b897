"""Tests of csatlib.report.revenue: the revenue linkage in words and its table for the page."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csatlib.loop.accounts import RevenueLinkage
from csatlib.report.revenue import linkage_display, revenue_linkage_of, revenue_section


def _linkage(p_kw: float = 1.19e-13, p_rho: float = 0.2) -> RevenueLinkage:
    by = pd.DataFrame(
        {
            "category": ["detractor", "passive", "promoter"],
            "n": [51, 148, 16],
            "suppressed": [False, False, True],
            "mean_change_pct": [-7.28, 6.15, np.nan],
            "sd": [10.0, 10.0, np.nan],
            "se": [1.4, 0.8, np.nan],
            "ci_low": [-10.33, 4.49, np.nan],
            "ci_high": [-4.22, 7.80, np.nan],
            "median_change_pct": [-7.79, 5.28, np.nan],
        }
    )
    test = pd.DataFrame(
        {
            "test": ["kruskal_wallis", "spearman"],
            "statistic": [59.51, 0.12],
            "df": [2.0, np.nan],
            "p_value": [p_kw, p_rho],
            "n": [215, 215],
        }
    )
    empty = pd.DataFrame()
    return RevenueLinkage(
        accounts=empty,
        by_category=by,
        test=test,
        at_risk_by_country=empty,
        unmatched_revenue=empty,
        unmatched_survey=empty,
        year=2026,
        base_year=2025,
        category_by="mean_ltr",
    )


def test_table_suppresses_small_categories_and_words_the_interval() -> None:
    shown = linkage_display(_linkage(), min_n=30)
    assert shown.columns.name == "Revenue 2025 → 2026"
    assert shown.loc["Detractor accounts (mean 0–6.9)", "Mean revenue change (95% CI)"] == (
        "-7.3% (-10.3% to -4.2%)"
    )
    assert shown.loc["Passive accounts (7–8.9)", "Median change"] == "+5.3%"
    promoter = shown.loc["Promoter accounts (9–10)"]
    assert promoter["Accounts"] == 16  # a count of accounts, not a survey estimate
    assert promoter["Mean revenue change (95% CI)"] == "too few accounts (fewer than 30)"


def test_sentence_states_both_tests_with_their_verdicts() -> None:
    page = revenue_section(_linkage(), min_n=30).markup
    assert "Revenue change differs between the categories (Kruskal–Wallis H = 59.51, 2 df, " in page
    assert "p &lt; 0.001, 215 accounts)" in page
    assert "no significant rank correlation" in page and "rho = +0.12, p = 0.200" in page
    calm = revenue_section(_linkage(p_kw=0.31, p_rho=0.01), min_n=30).markup
    assert "does not differ significantly" in calm and "the more its revenue grew" in calm


def test_a_study_without_revenue_or_accounts_says_so(tmp_path) -> None:
    responses = pd.DataFrame({"likelihood_to_recommend": [9.0]})
    responses.attrs["roles"] = {"likelihood_to_recommend": "recommend"}
    said = revenue_linkage_of(responses, tmp_path)
    assert said == "The survey has no account column, so revenue cannot be linked to answers."
    responses["account"] = ["Acme"]
    responses.attrs["roles"]["account"] = "account"
    assert "no revenue table" in revenue_linkage_of(responses, tmp_path)
    assert (
        "no revenue table"
        in revenue_section(revenue_linkage_of(responses, tmp_path), min_n=30).markup
    )
