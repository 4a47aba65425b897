"""Display tables: rounding, intervals, labels, and suppressed cells never showing numbers."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

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


def _recommend_trends() -> pd.DataFrame:
    """trends() of a study whose recommend question has its NPS and its mean, and one attribute
    with its mean, over two waves."""
    return pd.DataFrame(
        {
            "country": "DE",
            "wave": ["2026-Q1", "2026-Q2"] * 3,
            "measure": ["likelihood_to_recommend"] * 4 + ["delivery"] * 2,
            "statistic": ["mean", "mean", "nps", "nps", "mean", "mean"],
            "n": 100,
            "value": [7.12, 7.31, -10.4, -5.0, 6.9, 7.0],
            "change": [np.nan, 0.19, np.nan, 5.4, np.nan, 0.1],
            "significant": [pd.NA, False, pd.NA, False, pd.NA, False],
            "suppressed": False,
        }
    )


def test_trend_table_names_the_nps_and_the_recommend_mean_apart() -> None:
    labels = {"likelihood_to_recommend": "Likelihood to recommend", "delivery": "Delivery"}
    nps = tables.trend_table(_recommend_trends(), labels=labels, min_n=30, statistic="nps")
    assert list(nps.index) == ["Net Promoter Score"]
    assert nps.loc["Net Promoter Score"].tolist() == ["-10.4", "-5.0"]
    means = tables.trend_table(_recommend_trends(), labels=labels, min_n=30)
    # the recommend question's mean says its statistic and its 0-10 scale (roles.NPS_SCALE)
    assert list(means.index) == ["Likelihood to recommend (mean, 0–10)", "Delivery"]
    # NPS by country (the global summary's): the rows are countries, named by the labels given
    by_country = _recommend_trends().loc[lambda t: t["statistic"] == "nps"].assign(measure="DE")
    shown = tables.trend_table(by_country, labels={"DE": "Germany (DE)"}, min_n=30, statistic="nps")
    assert list(shown.index) == ["Germany (DE)"]


def _screens() -> pd.DataFrame:
    return pd.DataFrame(
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


def test_screens_display_shows_verdicts_with_evidence() -> None:
    out = tables.screens_display(_screens(), labels=None, min_n=30)
    assert out.loc["Delivery", "1. vs last wave"] == "▼ deteriorated (-0.30, q 0.010)"
    assert out.loc["Delivery", "3. vs competitors' customers"] == "suppressed"
    assert out.loc["Delivery", "Verdict"] == "problem"  # without verdicts: the screens' class
    verdicts = tables.screens_display(
        _screens(), labels=None, min_n=30, verdicts={"delivery": "priority"}
    )
    assert verdicts.loc["Delivery", "Verdict"] == "priority"


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


def _quality_note() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": ["a.csv"] * 4,
            "kind": ["responses"] * 4,
            "measure": ["raw_rows", "kept", "excluded", "excluded"],
            "detail": [None, None, "duplicate_id", "empty_response"],
            "n": [10, 9, 1, 0],
        }
    )


def test_quality_display_drops_zero_rows_but_keeps_the_accounting() -> None:
    out = tables.quality_display(_quality_note())
    assert list(out["Rows or values"]) == ["10", "9", "1"]
    assert list(out.index) == [("a.csv", "Raw rows"), ("a.csv", "Kept"), ("a.csv", "Excluded")]


# --------------------------------------------------------------------------- suppression
# Each display gets a row whose cell is below the minimum, with its estimates planted (the
# statistics functions give NaN there; a display must not rely on it): the row reads
# "suppressed (n = ...)" and the planted figures appear nowhere.

PLANTED = 6.4321  # shown as "6.43", "6.4" or "643.2" if it leaked


def _leaks(table: pd.DataFrame) -> bool:
    text = table.to_string()
    return any(s in text for s in ("6.43", "6.4", "643.2", "64.3"))


def _nps_groups() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": ["DE", "NA"],
            "n": [412, 16],
            "score": [23.44, PLANTED],
            "ci_low": [15.04, PLANTED],
            "ci_high": [31.66, PLANTED],
            "promoters": [0.45, PLANTED],
            "passives": [0.334, PLANTED],
            "detractors": [0.216, PLANTED],
            "suppressed": [False, True],
        }
    )


def test_nps_table_formats_score_interval_and_shares() -> None:
    out = tables.nps_table(_nps_groups(), by=["country"], min_n=30)
    assert out.loc["Germany"].to_dict() == {
        "n": "412",
        "NPS": "+23.4",
        "95% CI": "+15.0 to +31.7",
        "Promoters (%)": "45.0",
        "Passives (%)": "33.4",
        "Detractors (%)": "21.6",
    }
    assert out.loc["Namibia", "NPS"] == "suppressed (n = 16 < 30)"  # "NA" is Namibia
    assert (out.loc["Namibia"].drop(["n", "NPS"]) == "").all() and not _leaks(out)


def _loyalty_summary() -> pd.DataFrame:
    """loyalty_summary(by="country", cluster=...) rows: DE with its design effect (the
    3.6163431894915057 of the DE report), NA suppressed with its figures planted."""
    return pd.DataFrame(
        {
            "country": ["DE", "NA"],
            "n": [150, 9],
            "score": [71.26, PLANTED],
            "sd": [12.0, PLANTED],
            "se": [0.98, PLANTED],
            "deff": [3.6163431894915057, PLANTED],
            "ci_low": [69.31, PLANTED],
            "ci_high": [73.2, PLANTED],
            "alpha": [0.8149, PLANTED],
            "alpha_n": [148, 9],
            "suppressed": [False, True],
        }
    )


def test_loyalty_display_formats_index_interval_and_alpha() -> None:
    out = tables.loyalty_display(_loyalty_summary(), min_n=30)
    assert list(out.index) == ["Germany", "Namibia"]  # countries by name, not by code
    assert out.loc["Germany"].to_dict() == {
        "n": "150",
        "Loyalty index (0–100)": "71.3",
        "95% CI": "69.3 to 73.2",
        "Cronbach's alpha": "0.81",
        "Design effect": "3.6",
    }
    assert out.loc["Namibia", "Loyalty index (0–100)"] == "suppressed (n = 9 < 30)"
    assert (out.loc["Namibia"].drop(["n", "Loyalty index (0–100)"]) == "").all()
    assert not _leaks(out)
    unclustered = tables.loyalty_display(_loyalty_summary().drop(columns="deff"), min_n=30)
    assert "Design effect" not in unclustered.columns


def test_loyalty_display_names_a_unit_of_another_dimension() -> None:
    """A report by business unit keys its rows by the unit's code in ``country``: the table
    says "Business unit" and the unit's name, not "Country" over "networking"."""
    summary = _loyalty_summary().iloc[:1].assign(country="networking")
    out = tables.loyalty_display(summary, min_n=30, unit=("business unit", "Networking in Germany"))
    assert list(out.index) == ["Networking in Germany"]
    assert out.columns.name == "Business unit"
    assert out.iloc[0]["Loyalty index (0–100)"] == "71.3"
    country = tables.loyalty_display(
        _loyalty_summary().iloc[:1], min_n=30, unit=("country", "Germany")
    )
    assert list(country.index) == ["Germany"] and country.columns.name == "Country"


def _gap() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "attribute": ["delivery", "pricing"],
            "n": [120, 8],
            "perceived": [7.1, PLANTED],
            "expected": [8.0, PLANTED],
            "gap": [-0.9, PLANTED],
            "gap_ci_low": [-1.2, PLANTED],
            "gap_ci_high": [-0.6, PLANTED],
            "ratio": [0.8875, PLANTED],
            "ratio_ci_low": [0.85, PLANTED],
            "ratio_ci_high": [0.925, PLANTED],
            "suppressed": [False, True],
        }
    )


def test_expectation_display_formats_gap_and_ratio() -> None:
    out = tables.expectation_display(_gap(), labels={"delivery": "Delivery"}, min_n=30)
    assert out.loc["Delivery"].to_dict() == {
        "n": "120",
        "Perceived": "7.10",
        "Expected": "8.00",
        "Gap (perceived − expected)": "-0.90",
        "Gap 95% CI": "-1.20 to -0.60",
        "Ratio (perceived ÷ expected)": "0.887",  # round-half-even of 0.8875
        "Ratio 95% CI": "0.850 to 0.925",
    }
    assert out.loc["Pricing", "Perceived"] == "suppressed (n = 8 < 30)"
    assert (out.loc["Pricing"].drop(["n", "Perceived"]) == "").all() and not _leaks(out)


def _pareto() -> pd.DataFrame:
    """dissatisfaction_pareto() of 80 low scores (delivery 60, pricing 20) and a suppressed
    attribute with its figures planted."""
    pareto = pd.DataFrame(
        {
            "n": [200, 180, 12],
            "n_low": [60, 20, 5],
            "share_low": [0.3, 0.1111, PLANTED],
            "share_of_all_low": [0.75, 0.25, PLANTED],
            "cumulative": [0.75, 1.0, PLANTED],
            "vital_few": [True, False, True],
            "suppressed": [False, False, True],
        },
        index=pd.Index(["delivery", "pricing", "support"], name="attribute"),
    )
    pareto.attrs.update(total_low=80, cutoff=0.8, min_n=30, ranked=True)
    return pareto


def test_pareto_display_formats_shares_and_the_vital_few() -> None:
    out = tables.pareto_display(_pareto(), labels=None, min_n=30)
    assert out.loc["Delivery"].to_dict() == {
        "n": "200",
        "Low scores": "60",
        "Low scores (% of n)": "30.0",
        "Share of all low scores (%)": "75.0",
        "Cumulative (%)": "75.0",
        "Vital few": "yes",
    }
    assert out.loc["Pricing", "Vital few"] == ""
    assert out.loc["Pricing", "Low scores (% of n)"] == "11.1"
    support = out.loc["Support"]
    assert support["Low scores"] == "suppressed (n = 12 < 30)"  # not its 5 low scores
    assert (support.drop(["n", "Low scores"]) == "").all() and not _leaks(out)


def test_pareto_with_too_few_low_scores_in_all_is_one_sentence() -> None:
    # the DE wave that showed the bug: 14 low scores in all, one attribute's share a single one
    few = _pareto()
    few.attrs.update(total_low=14, ranked=False)
    out = tables.pareto_display(few, labels=None, min_n=30)
    sentence = "14 low scores in all this wave: too few to rank (fewer than 30)."
    assert out.to_dict("list") == {"": [sentence]}
    assert tables.pareto_note(few) == sentence and tables.pareto_note(_pareto()) == ""
    few.attrs.update(total_low=1)
    assert tables.pareto_note(few).startswith("1 low score in all this wave")


def _transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": ["2026-01", "2026-02"],
            "n": [85, 4],
            "mean": [4.123, PLANTED],
            "ci_low": [3.9, PLANTED],
            "ci_high": [4.35, PLANTED],
            "top_box": [0.8235, PLANTED],
            "top_box_ci_low": [0.726, PLANTED],
            "top_box_ci_high": [0.890, PLANTED],
            "suppressed": [False, True],
        }
    )


def test_transaction_display_formats_mean_interval_and_top_box() -> None:
    out = tables.transaction_display(_transactions(), by=["month"], min_n=30)
    assert out.columns.name == "Month" and out.index.name is None  # no "month" header row
    assert out.loc["2026-01"].to_dict() == {
        "n": "85",
        "Mean": "4.12",
        "95% CI": "3.90 to 4.35",
        "Top-2-box (%)": "82.3",
        "Top-2-box 95% CI (Wilson)": "72.6 to 89.0",  # every shown estimate has its interval
    }
    assert out.loc["2026-02", "Mean"] == "suppressed (n = 4 < 30)"
    assert (out.loc["2026-02"].drop(["n", "Mean"]) == "").all() and not _leaks(out)


def test_an_interval_missing_for_want_of_accounts_says_so() -> None:
    # every ticket of 2026-01 from one account: no interval, and the cell says why
    from csatlib.stats.scores import transaction_summary

    df = pd.DataFrame(
        {
            "month": ["2026-01"] * 40 + ["2026-02"] * 40,
            "account": ["solo"] * 40 + [f"acc{k % 8}" for k in range(40)],
            "csat": np.tile([5.0, 4.0, 3.0, 5.0], 20),
        }
    )
    summary = transaction_summary(df, by="month", score="csat", cluster="account", min_n=30)
    out = tables.transaction_display(summary, by=["month"], min_n=30)
    assert out.loc["2026-01", "95% CI"] == tables.ONE_ACCOUNT_TEXT
    assert out.loc["2026-01", "Top-2-box 95% CI (Wilson)"] == tables.ONE_ACCOUNT_TEXT
    assert out.loc["2026-01", "Mean"] == "4.25"  # the estimate itself is shown
    assert " to " in out.loc["2026-02", "95% CI"]


def test_screens_display_shows_no_figure_for_a_suppressed_attribute() -> None:
    screens = pd.DataFrame(
        {
            "n": [12],
            "mean": [PLANTED],
            "suppressed": [True],
            # evidence planted under real verdicts: a suppressed row must not show it
            "trend_verdict": ["deteriorated"],
            "trend_diff": [-0.6432],
            "trend_q_value": [0.01],
            "vs_countries_verdict": ["suppressed"],
            "vs_countries_diff": [PLANTED],
            "vs_countries_q_value": [0.5],
            "vs_competitors_verdict": ["suppressed"],
            "vs_competitors_diff": [np.nan],
            "vs_competitors_q_value": [np.nan],
            "rank_verdict": ["suppressed"],
            "class": ["suppressed"],
        },
        index=["pricing"],
    )
    out = tables.screens_display(screens, labels=None, min_n=30)
    row = out.loc["Pricing"]
    assert row["Mean"] == "suppressed (n = 12 < 30)"
    assert row["1. vs last wave"] == "▼ deteriorated"  # the verdict, without its evidence
    assert row["2. vs other countries"] == "suppressed" and row["Verdict"] == "suppressed"
    assert not _leaks(out)


def test_screens_display_says_when_there_are_no_competitors() -> None:
    screens = pd.DataFrame(
        {
            "n": [200],
            "mean": [7.0],
            "suppressed": [False],
            "trend_verdict": ["no previous wave"],
            "trend_diff": [np.nan],
            "trend_q_value": [np.nan],
            "vs_countries_verdict": ["above"],
            "vs_countries_diff": [0.4],
            "vs_countries_q_value": [0.0004],
            "vs_competitors_verdict": ["suppressed"],
            "vs_competitors_diff": [np.nan],
            "vs_competitors_q_value": [np.nan],
            "competitors_n": [0],
            "rank_verdict": ["top"],
            "class": ["neutral"],
        },
        index=["delivery"],
    )
    row = tables.screens_display(screens, labels=None, min_n=30).loc["Delivery"]
    assert row["1. vs last wave"] == "no previous wave"
    assert row["2. vs other countries"] == "▲ above (+0.40, q <0.001)"
    assert row["3. vs competitors' customers"] == "none in the data"
    assert row["4. rank among own attributes"] == "▲ top"


def _driver_table() -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "importance": [0.1234, 0.0456],
            "ci_low": [0.08, 0.01],
            "ci_high": [0.17, 0.09],
            "share": [0.73, 0.27],
            "rank": [1, 2],
            "rank_ci_low": [1, 1],
            "rank_ci_high": [2, 2],
            "std_beta": [0.312, 0.101],
            "std_ci_low": [0.2, -0.02],
            "std_ci_high": [0.42, 0.22],
            "performance": [7.123, 6.5],
            "quadrant": ["Concentrate here", "Low priority"],
            "not_separable_from": ["pricing", np.nan],
        },
        index=pd.Index(["delivery", "pricing"], name="driver"),
    )
    table.attrs.update(r2=0.17, n=480)
    return table


def test_driver_display_formats_rank_importance_and_beta() -> None:
    out = tables.driver_display(_driver_table(), labels={"pricing": "Price"})
    assert list(out.index) == ["Delivery", "Price"]
    assert out.loc["Delivery"].to_dict() == {
        "Rank": "1 (1–2)",
        "Share of R² (%)": "73.0",
        "Importance (R² points)": "12.3",
        "95% CI": "8.0 to 17.0",
        "Effect of +1 SD (95% CI)": "0.31 (0.20 to 0.42)",
        "Performance (mean)": "7.12",
        "Quadrant": "Concentrate here",
        "Cannot be separated from": "Price",
    }
    assert out.loc["Price", "Cannot be separated from"] == ""


def test_driver_display_of_suppressed_drivers_is_one_line_with_the_reason() -> None:
    table = _driver_table().assign(importance=PLANTED)
    table.attrs.update(suppressed=True, reason="12 complete responses (fewer than 30)")
    out = tables.driver_display(table, labels=None)
    assert out.to_dict("list") == {
        "Key drivers": ["suppressed: 12 complete responses (fewer than 30)"]
    }
    assert not _leaks(out)
    empty = tables.driver_display(pd.DataFrame(), labels=None)
    assert empty.iloc[0, 0] == "suppressed: too few complete responses"


def test_cit_display_of_a_cell_below_the_minimum_is_one_line() -> None:
    # top_incidents() of a cell below min_n: one row with n and nothing else
    top = pd.DataFrame(
        {
            "rank": [pd.NA],
            "benefit": [pd.NA],
            "label": [pd.NA],
            "n": [7],
            "count": [pd.NA],
            "share": [pd.NA],
            "quote": [pd.NA],
            "suppressed": [True],
        }
    )
    out = tables.cit_display(top, min_n=30)
    assert out.to_dict("list") == {"": ["suppressed (n = 7 < 30)"]}
    assert tables.cit_display(top.iloc[:0], min_n=30).iloc[0, 0] == "no incidents in this cell"


def _ipa() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "importance": [0.1234, 0.02],
            "performance": [7.456, 8.1],
            "quadrant": ["Concentrate here", "Possible overkill"],
        },
        index=["delivery", "pricing"],
    )


def test_ipa_display_formats_importance_and_performance() -> None:
    out = tables.ipa_display(_ipa(), labels={"delivery": "Delivery <on time>"})
    assert out.loc["Delivery <on time>"].to_dict() == {
        "Importance (R² points)": "12.3",
        "Performance (mean)": "7.46",
        "Quadrant": "Concentrate here",
    }
    assert out.loc["Pricing", "Importance (R² points)"] == "2.0"


def _stated_vs_derived() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "derived_importance": [0.12345, 0.0456],
            "derived_rank": [1, 2],
            "stated_importance": [8.456, 9.1],
            "stated_rank": [2, 1],
            "rank_difference": [1, -1],
            "reading": ["more important than stated", "less important than stated"],
        },
        index=pd.Index(["delivery", "pricing"], name="driver"),
    )


def test_stated_vs_derived_display_rounds_and_says_when_nothing_is_compared() -> None:
    table = _stated_vs_derived()
    out = tables.stated_vs_derived_display(table, labels=None)
    assert list(out.columns) == [
        "Derived importance (R² points)",
        "Derived rank",
        "Stated importance (mean)",
        "Stated rank",
        "Rank difference",
        "Reading",
    ]
    # the driver table's unit: 0.12345 of R² is 12.3 R² points, as its "Importance" column
    assert out.loc["Delivery", "Derived importance (R² points)"] == "12.3"
    assert out.loc["Delivery", "Stated importance (mean)"] == "8.46"
    assert out.loc["Pricing", "Stated rank"] == 1  # integers are left as they are
    scaled = tables.stated_vs_derived_display(table, labels=None, stated_scale=(1, 10))
    assert scaled.loc["Pricing", "Stated importance (mean, 1–10)"] == "9.10"
    nothing = tables.stated_vs_derived_display(table.iloc[:0], labels=None)
    assert nothing.to_dict("list") == {
        "": ["not compared: the key drivers or the stated importance are suppressed"]
    }


def _at_risk() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "accounts_assessed": [12],
            "at_risk": [3],
            "revenue_at_stake_usd": [1234567.8],
            "not_assessed": [5],
        },
        index=pd.Index(["DE"], name="country"),
    )


def test_account_counts_display_formats_counts_and_revenue() -> None:
    out = tables.account_counts_display(_at_risk())
    assert out.loc["Germany"].to_dict() == {
        "Accounts assessed": "12",
        "At risk": "3",
        "Revenue at stake (USD)": "1,234,568",
        "Not assessed (fewer than 3 respondents)": "5",
    }
    assert out.index.name is None and out.columns.name == "Country"


def test_account_counts_display_names_a_unit_of_another_dimension() -> None:
    counts = _at_risk().rename(index={"DE": "networking"})
    out = tables.account_counts_display(counts, unit=("business unit", "Networking in Germany"))
    assert list(out.index) == ["Networking in Germany"]
    assert out.columns.name == "Business unit" and out.iloc[0]["At risk"] == "3"


def test_account_counts_display_says_how_many_declined() -> None:
    out = tables.account_counts_display(_at_risk().assign(declined=[2]))
    assert out.loc["Germany", "Declined since previous wave"] == "2"


def _followups() -> pd.DataFrame:
    """followup_counts() of one country whose tickets come from two regions."""
    return pd.DataFrame(
        {
            "list": ["recovery", "recovery", "callback"],
            "region": pd.array(["North", "South", pd.NA], dtype="string"),
            "country": ["DE", "DE", "DE"],
            "eligible": [5, 1, 2],
            "listed": [3, 1, 2],
            "withheld_no_permission": [2, 0, 0],
        }
    )


def test_followup_display_names_the_lists_and_counts_only() -> None:
    out = tables.followup_display(_followups())
    assert list(out.index) == [
        "Recovery calls for low ticket ratings",
        "Complaint callbacks (relationship survey)",
    ]
    assert "Region" not in out.columns  # the counts are the country's, over its regions
    assert list(out["Open"]) == [6, 2] and list(out["Listed with contact details"]) == [4, 2]
    assert list(out["Counted only (no permission to contact)"]) == [2, 0]
    nothing = str(tables.followup_display(_followups().iloc[:0]))
    assert (
        nothing.startswith('<p class="csat-note">No follow-up is open') and "<table" not in nothing
    )


# --------------------------------------------------------------------------- one header row
# pandas writes an index's name as a second header row ("month", "country", "List"): every
# display's header is one row of plain labels, with no canonical name in it or in its rows.

DISPLAYS = {
    "attribute_scores": lambda: tables.attribute_scores(
        _scores(False), labels=None, min_n=30, box_label="Top-2-box (%)"
    ),
    "trend_table": lambda: tables.trend_table(
        _recommend_trends(), labels=None, min_n=30, statistic="nps"
    ),
    "driver_display": lambda: tables.driver_display(
        _driver_table(), labels=None, verdicts={"delivery": "priority"}
    ),
    "screens_display": lambda: tables.screens_display(_screens(), labels=None, min_n=30),
    "nps_table": lambda: tables.nps_table(_nps_groups(), by=["country"], min_n=30),
    "loyalty_display": lambda: tables.loyalty_display(_loyalty_summary(), min_n=30),
    "expectation_display": lambda: tables.expectation_display(_gap(), labels=None, min_n=30),
    "pareto_display": lambda: tables.pareto_display(_pareto(), labels=None, min_n=30),
    "ipa_display": lambda: tables.ipa_display(_ipa(), labels=None),
    "stated_vs_derived_display": lambda: tables.stated_vs_derived_display(
        _stated_vs_derived(), labels=None
    ),
    "transaction_display": lambda: tables.transaction_display(
        _transactions(), by=["month"], min_n=30
    ),
    "transaction_display by region": lambda: tables.transaction_display(
        _transactions().assign(region=["North", "South"]), by=["region", "month"], min_n=30
    ),
    "account_counts_display": lambda: tables.account_counts_display(_at_risk()),
    "followup_display": lambda: tables.followup_display(_followups()),
    "quality_display": lambda: tables.quality_display(_quality_note()),
    "cit_display": lambda: tables.cit_display(
        pd.DataFrame(
            {
                "rank": [1],
                "benefit": ["good_value"],
                "label": ["Good value"],
                "n": [100],
                "count": [40],
                "share": [0.4],
                "quote": ["fair"],
                "suppressed": [False],
            }
        ),
        min_n=30,
    ),  # fmt: skip
}
# the canonical names the fixtures above carry, as pandas would show them
RAW_NAMES = {"attribute", "measure", "month", "country", "deff", "list", "region", "source"}
RAW_NAMES |= {"driver", "DE", "NA", "List", "Attribute", "Source", "Measure"}


def _cells(markup: str, part: str) -> list[str]:
    """The texts of the header cells (``<th>``) of ``part`` (``thead`` or ``tbody``)."""
    found = re.search(rf"<{part}>(.*?)</{part}>", markup, re.S)
    assert found, markup
    cells = re.findall(r"<th[^>]*>(.*?)</th>", found.group(1), re.S)
    return [html.unescape(c).replace("\xa0", " ").strip() for c in cells]


@pytest.mark.parametrize("name", list(DISPLAYS))
def test_every_display_has_one_header_row_of_plain_labels(name: str) -> None:
    table = DISPLAYS[name]()
    for markup in (table._repr_html_(), table.style.to_html()):  # the notebook's; a Styler's
        head = re.search(r"<thead>(.*?)</thead>", markup, re.S)
        assert head and head.group(1).count("<tr") == 1, markup
        shown = _cells(markup, "thead") + _cells(markup, "tbody")
        assert not [c for c in shown if c in RAW_NAMES or "_" in c], shown


def test_show_full_text_lifts_the_column_width_limit() -> None:
    with pd.option_context("display.max_colwidth", 50):
        tables.show_full_text()
        assert pd.get_option("display.max_colwidth") is None


def test_dislikes_are_named_for_the_benefit_let_down() -> None:
    top = pd.DataFrame(
        {
            "rank": [1],
            "benefit": ["good_value"],
            "label": ["Good value"],
            "problem": ["too expensive, unfair or complicated licence terms"],
            "n": [120],
            "count": [40],
            "share": [0.33],
            "quote": ["Too expensive for what it does"],
            "suppressed": [False],
        }
    )
    likes = tables.cit_display(top, min_n=30)
    dislikes = tables.cit_display(top, min_n=30, valence="negative")
    assert likes.loc[1, "Benefit"] == "Good value"
    # a dislike never reads as praise: it names the benefit and what went wrong on it
    assert dislikes.loc[1, "Benefit — what went wrong"] == (
        "Good value — too expensive, unfair or complicated licence terms"
    )


def test_a_dislike_without_its_problem_is_worded_from_the_benefit() -> None:
    # a frame made without top_incidents' "problem" column, and a suppressed dislike
    top = pd.DataFrame(
        {
            "rank": [1, 2],
            "benefit": ["good_value", "partnership"],
            "label": ["Good value", "Partnership"],
            "n": [120, 120],
            "count": [40, 3],
            "share": [0.33, 0.03],
            "quote": ["Too expensive", "secret"],
            "suppressed": [False, True],
        }
    )
    out = tables.cit_display(top, min_n=30, valence="negative")
    assert out["Benefit — what went wrong"].tolist() == [
        "Good value — problems with good value",
        "Partnership — problems with partnership",
    ]
    assert out.loc[2, "Mentions"] == "suppressed (n = 120 < 30)"


def _accuracy(**changes: object):
    from dataclasses import replace

    from csatlib.text.accuracy import CoderAccuracy

    measured = CoderAccuracy(
        precision=0.8631,
        precision_ci_low=0.8345,
        precision_ci_high=0.8874,
        recall=0.8578,
        recall_ci_low=0.8289,
        recall_ci_high=0.8825,
        n_assigned=650,
        n_hand=654.0,
        matches=561.0,
        n_incidents=1688,
        n_coders=2,
        conf=0.95,
    )
    return replace(measured, **changes)


def test_coder_accuracy_note_states_precision_with_interval_and_n() -> None:
    text = str(tables.coder_accuracy_note(_accuracy()))
    assert text == (
        '<p class="csat-note">Measured on a hand-coded sample of 1,688 items from the whole '
        "study (2 coders), the rule coder agreed with the hand coders on 86% of the attributes it "
        "assigned (precision, 95% CI 83–89%, 650 attributes assigned) and found 86% of theirs "
        "(recall, 95% CI 83–88%).</p>"
    )
    one = str(tables.coder_accuracy_note(_accuracy(n_coders=1, conf=0.9)))
    assert "(1 coder)" in one and "precision, 90% CI" in one
    none = str(tables.coder_accuracy_note(_accuracy(n_assigned=0)))
    assert "assigned no attribute" in none and "%" not in none
    edited = str(tables.coder_accuracy_note(_accuracy(n_not_found=5)))
    assert edited.endswith(
        "5 hand-coded items are no longer in the data and were left out of this comparison.</p>"
    )


def test_coder_accuracy_note_without_hand_codes_says_how_to_measure() -> None:
    text = str(tables.coder_accuracy_note(None))
    assert "precision has not been measured on this study" in text
    assert "notebooks/cit_coding.ipynb" in text and "docs/cit.md" in text
    assert "&#x27;" in text  # escaped: the note is built by csatlib.report.display.note
