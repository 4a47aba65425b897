"""csatlib.report.summary: the NPS headline, its table, the heading and the executive summary.

The headline is checked on a hand-made study against the closed form of the NPS (counted here
from the answers) and against :func:`csatlib.stats.nps.nps_difference` on the same rows; the
displays are checked on headlines with chosen figures, so that every verdict and every
suppressed cell is known in advance.
"""

from __future__ import annotations

import dataclasses
import html
import re

import numpy as np
import pandas as pd
import pytest

from csatlib.report import summary
from csatlib.report.context import CountryContext, load_country
from csatlib.stats.nps import NPSDifference, NPSResult, nps_difference

MIN_N = 5
# own-brand recommend answers (0-10) per country and wave; Luxembourg is below MIN_N
ANSWERS = {
    ("DE", "2026-Q1"): [10, 10, 9, 8, 7, 6, 5, 3, 0, 10],  # 4 promoters, 4 detractors: NPS 0
    ("DE", "2026-Q2"): [10, 10, 10, 9, 9, 8, 7, 6, 2, 10, 9, 10],  # 8 and 2 of 12: NPS +50
    ("FR", "2026-Q1"): [9, 9, 9, 9, 9, 9],
    ("FR", "2026-Q2"): [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],  # 1 and 7 of 10
    ("LU", "2026-Q1"): [0, 0, 0],
    ("LU", "2026-Q2"): [10, 10, 10],
}


def _responses() -> pd.DataFrame:
    rows = [
        (country, wave, False, float(score))
        for (country, wave), scores in ANSWERS.items()
        for score in scores
    ]
    rows += [
        ("DE", "2026-Q2", True, 0.0),  # a competitor's customer: not in DE's NPS
        ("DE", "2026-Q2", False, np.nan),  # no answer: not counted
    ]
    df = pd.DataFrame(rows, columns=["country", "wave", "competitor", "likelihood_to_recommend"])
    df.attrs["roles"] = {"country": "country", "likelihood_to_recommend": "nps"}
    df.attrs["labels"] = {"delivery": "Delivery <on time>", "product": "Product quality"}
    return df


def _ctx(country: str = "DE") -> CountryContext:
    return load_country(country, responses=_responses(), min_n=MIN_N)


def _closed_form(scores: list[int]) -> float:
    s = np.asarray(scores)
    return 100 * ((s >= 9).mean() - (s <= 6).mean())


def _result(score: float, n: int, ci_low: float, ci_high: float) -> NPSResult:
    return NPSResult(
        score=score,
        n=n,
        promoters=0.5,
        passives=0.2,
        detractors=0.3,
        se=4.2,
        ci_low=ci_low,
        ci_high=ci_high,
        conf=0.95,
        n_eff=float(n),
        weighted=False,
        method="adjusted-wald",
    )


def _difference(diff: float, p_value: float, n_a: int = 412, n_b: int = 398) -> NPSDifference:
    return NPSDifference(
        diff=diff,
        se=3.1,
        z=diff / 3.1,
        p_value=p_value,
        ci_low=diff - 6.2,
        ci_high=diff + 6.2,
        n_a=n_a,
        n_b=n_b,
    )


def _headline(**changes: object) -> summary.NPSHeadline:
    """A headline with chosen figures: DE 2026-Q2 +23.4 (n = 412), up 5.2 since 2026-Q1."""
    base = summary.NPSHeadline(
        country="DE",
        wave="2026-Q2",
        previous_wave="2026-Q1",
        min_n=30,
        n=412,
        n_previous=398,
        n_rest=2_950,
        current=_result(23.4, 412, 15.04, 31.66),
        previous=_result(18.2, 398, 9.8, 26.5),
        rest=_result(11.4, 2_950, 8.1, 14.7),
        change=_difference(5.2, 0.031),
        vs_rest=_difference(12.0, 0.0004, 412, 2_950),
    )
    return dataclasses.replace(base, **changes)


def _items(markup: object) -> list[str]:
    """Each list item's own text (a nested list's items follow their parent), unescaped."""
    raw = re.findall(r"<li>(.*?)(?=<li>|</li>)", str(markup))
    return [html.unescape(re.sub(r"<[^>]+>", "", t)).strip() for t in raw]


# --------------------------------------------------------------------------- nps_headline


def test_headline_equals_the_closed_form_and_the_two_sample_tests() -> None:
    ctx = _ctx()
    h = summary.nps_headline(ctx)
    de_now, de_before = ANSWERS[("DE", "2026-Q2")], ANSWERS[("DE", "2026-Q1")]
    rest = ANSWERS[("FR", "2026-Q2")] + ANSWERS[("LU", "2026-Q2")]
    assert (h.country, h.wave, h.previous_wave, h.min_n) == ("DE", "2026-Q2", "2026-Q1", MIN_N)
    assert (h.n, h.n_previous, h.n_rest) == (12, 10, 13)  # no competitor, no missing answer
    assert _closed_form(de_now) == pytest.approx(50.0)  # 8 promoters, 2 detractors of 12
    assert h.current.score == pytest.approx(_closed_form(de_now), abs=1e-9)
    assert h.previous.score == pytest.approx(_closed_form(de_before), abs=1e-9)
    assert _closed_form(rest) == pytest.approx(-300 / 13)  # 4 promoters, 7 detractors of 13
    assert h.rest.score == pytest.approx(_closed_form(rest), abs=1e-9)
    expected = nps_difference(pd.Series(de_now, dtype=float), pd.Series(de_before, dtype=float))
    assert h.change.diff == pytest.approx(50.0)
    assert h.change.p_value == pytest.approx(expected.p_value, rel=1e-12)
    assert h.vs_rest.diff == pytest.approx(50.0 + 300 / 13)


def test_a_cell_below_min_n_and_every_comparison_with_it_are_suppressed() -> None:
    h = summary.nps_headline(_ctx("LU"))
    assert (h.n, h.n_previous) == (3, 3)
    assert h.current is None and h.previous is None
    assert h.change is None and h.vs_rest is None  # a comparison with a suppressed cell
    assert h.rest is not None and h.n_rest == 22  # DE and FR own-brand, 2026-Q2


def test_the_first_wave_has_no_previous_estimate() -> None:
    h = summary.nps_headline(load_country("DE", wave="2026-Q1", responses=_responses(), min_n=1))
    assert h.previous_wave is None and h.n_previous == 0
    assert h.previous is None and h.change is None


# --------------------------------------------------------------------------- formatting


def test_fmt_points() -> None:
    assert summary.fmt_points(23.44) == "+23.4"
    assert summary.fmt_points(-0.04) == "-0.0"
    assert summary.fmt_points(5.0, signed=False) == "5.0"
    assert summary.fmt_points(None) == "" and summary.fmt_points(np.nan) == ""


def test_headline_table_rows_and_figures() -> None:
    table = summary.headline_table(_headline())
    assert list(table.index) == [
        "DE 2026-Q2",
        "DE 2026-Q1",
        "Change since 2026-Q1",
        "All other countries 2026-Q2",
        "Difference vs other countries",
    ]
    assert list(table.columns) == ["n", "NPS", "95% CI", "p-value"]
    assert table.loc["DE 2026-Q2"].to_dict() == {
        "n": "412",
        "NPS": "+23.4",
        "95% CI": "+15.0 to +31.7",
        "p-value": "",
    }
    assert table.loc["Change since 2026-Q1"].to_dict() == {
        "n": "",
        "NPS": "+5.2",
        "95% CI": "-1.0 to +11.4",
        "p-value": "0.031",
    }
    assert table.loc["All other countries 2026-Q2", "n"] == "2,950"
    assert table.loc["Difference vs other countries", "p-value"] == "<0.001"


def test_the_managers_headline_table_says_the_verdicts_in_words() -> None:
    # the q-values of the family decide where there are any: p = 0.031 but q = 0.09
    h = _headline(change_q=0.09, vs_rest_q=0.0004)
    table = summary.headline_table(h, evidence=False)
    assert list(table.columns) == ["n", "NPS", "95% CI", "Verdict"]
    # significant alone (its 95% interval leaves out zero), not within the family: said so
    assert table.loc["Change since 2026-Q1", "Verdict"] == (
        "no significant change (allowing for multiple comparisons)"
    )
    assert table.loc["Difference vs other countries", "Verdict"] == "significantly above"
    assert "0.031" not in table.to_string() and "q" not in "".join(table.columns)
    reviewer = summary.headline_table(h)
    assert reviewer.loc["Change since 2026-Q1", ["p-value", "q-value"]].tolist() == [
        "0.031",
        "0.090",
    ]


@pytest.mark.parametrize(
    ("diff", "p", "q", "kind", "words"),
    [
        (5.2, 0.031, None, "change", "a significant rise"),
        (-5.2, 0.031, None, "change", "a significant fall"),
        (-5.2, 0.031, 0.06, "change", "no significant change (allowing for multiple comparisons)"),
        (-5.2, 0.07, 0.2, "change", "no significant change"),  # not significant alone either
        (
            -17.2,
            0.039,
            0.12,
            "difference",
            "not significantly different (allowing for multiple comparisons)",
        ),
        (5.2, 0.2, 0.01, "change", "a significant rise"),  # the q-value decides
        (12.0, 0.001, None, "difference", "significantly above"),
        (-12.0, 0.001, None, "difference", "significantly below"),
        (-12.0, 0.3, None, "difference", "not significantly different"),
        (3.0, np.nan, None, "change", "not tested (too few answers)"),
    ],
)
def test_verdict_words(diff: float, p: float, q: float | None, kind: str, words: str) -> None:
    assert summary.verdict_words(_difference(diff, p), q, kind=kind) == words


def test_headline_table_without_a_previous_wave_has_three_rows() -> None:
    h = _headline(previous_wave=None, previous=None, change=None, n_previous=0)
    assert list(summary.headline_table(h).index) == [
        "DE 2026-Q2",
        "All other countries 2026-Q2",
        "Difference vs other countries",
    ]


def test_headline_table_suppression_shows_n_and_never_the_estimate() -> None:
    h = _headline(n=12, current=None, change=None, vs_rest=None)
    table = summary.headline_table(h)
    row = table.loc["DE 2026-Q2"]
    assert (row["n"], row["NPS"], row["95% CI"]) == ("12", "suppressed (n = 12 < 30)", "")
    for comparison in ("Change since 2026-Q1", "Difference vs other countries"):
        assert table.loc[comparison, "NPS"] == "not tested (a cell is suppressed or missing)"
    text = table.to_string()
    assert "+23.4" not in text and "15.0" not in text and "+5.2" not in text


def test_headline_table_leaves_a_missing_interval_blank() -> None:
    # one respondent: an estimate without an interval (min_n = 1)
    h = _headline(current=_result(100.0, 1, np.nan, np.nan), n=1)
    assert summary.headline_table(h).loc["DE 2026-Q2", "95% CI"] == ""


# --------------------------------------------------------------------------- heading


def test_report_heading_names_country_wave_respondents_and_the_rule() -> None:
    markup = str(summary.report_heading(_ctx()))
    assert "<h2>Germany (DE), wave 2026-Q2</h2>" in markup
    # 13 own-brand rows in the wave (one without an answer); no brand role: "respondents"
    assert (
        "13 respondents in this wave; previous wave: 2026-Q1; cells below 5 respondents are "
        "suppressed." in markup
    )
    data = _responses().assign(supplier="Acme")
    data.attrs["roles"] = {**data.attrs["roles"], "supplier": "brand"}
    branded = load_country("DE", responses=data, min_n=MIN_N)
    assert "13 own-brand respondents in this wave" in str(summary.report_heading(branded))


# --------------------------------------------------------------------------- executive summary


def _screens() -> pd.DataFrame:
    """Four-screen classes as four_screens() gives them (only the columns the summary reads)."""
    return pd.DataFrame(
        {
            "class": ["problem", "problem", "problem", "best practice", "suppressed"],
            "n_fail": [3, 3, 2, 0, 0],
            "n_pass": [0, 0, 0, 2, 0],
            "mean": [6.1, 6.5, 5.0, 8.9, np.nan],
            "trend_verdict": [
                "deteriorated",
                "deteriorated",
                "no change",
                "improved",
                "suppressed",
            ],
            "vs_countries_verdict": ["below", "below", "below", "above", "suppressed"],
            "vs_competitors_verdict": ["no difference", "below", "below", "no difference", "x"],
            "rank_verdict": ["bottom", "middle", "bottom", "middle", "suppressed"],
            "suppressed": [False, False, False, False, True],
            "n": [120, 120, 120, 120, 12],
        },
        index=pd.Index(["delivery", "invoicing", "pricing", "product", "tiny"], name="attribute"),
    )


def _ctx_with(screens: pd.DataFrame) -> CountryContext:
    """The test country with these screens as its four screens (and no key drivers)."""
    ctx = _ctx()
    ctx.__dict__["screen_table"] = screens  # the cached properties the summary reads
    ctx.__dict__["driver_results"] = pd.DataFrame()
    ctx.__dict__["at_risk_counts"] = None  # no accounts or follow-ups: no "who to call"
    ctx.__dict__["followup_counts"] = None
    plans = pd.DataFrame({"attribute": pd.Series(dtype=str), "has_plan": pd.Series(dtype=bool)})
    ctx.__dict__["action_plans"] = plans  # no actions file: the summary names no plan
    return ctx


def test_executive_summary_says_each_figure_and_its_verdict() -> None:
    ctx = _ctx_with(_screens())
    items = _items(summary.executive_summary(ctx, _headline()))
    assert items == [
        "Net Promoter Score +23.4 (95% CI +15.0 to +31.7), n = 412, wave 2026-Q2.",
        "Change since 2026-Q1: +5.2 points: a significant rise.",
        "Compared with all other countries (+11.4): +12.0 points, significantly above them.",
        # without key drivers: most significant shortfalls first (invoicing fails three), then
        # the order of the screens; the rank among the country's attributes is no finding
        "What to fix first:",
        "Invoicing: deteriorated since 2026-Q1 and below the other countries and below "
        "competitors' customers.",
        "Delivery <on time>: deteriorated since 2026-Q1 and below the other countries.",
        "Pricing: below the other countries and below competitors' customers.",
        "Strengths to keep:",
        "Product quality: improved since 2026-Q1 and above the other countries.",
        "Not enough data to tell for Tiny (fewer than 5 answers or nothing to compare with).",
    ]


def test_executive_summary_escapes_labels() -> None:
    markup = str(summary.executive_summary(_ctx_with(_screens()), _headline()))
    assert "<on time>" not in markup and "Delivery &lt;on time&gt;" in markup


@pytest.mark.parametrize(
    ("change", "vs_rest", "expected"),
    [
        (
            _difference(-7.9, 0.0002),
            _difference(-3.0, 0.04),
            [
                "Change since 2026-Q1: -7.9 points: a significant fall.",
                "Compared with all other countries (+11.4): -3.0 points, significantly below them.",
            ],
        ),
        (
            _difference(1.0, 0.2),
            _difference(0.5, 0.05),  # p = 0.05 is not below 0.05
            [
                "Change since 2026-Q1: +1.0 points: no significant change.",
                "Compared with all other countries (+11.4): +0.5 points, not significantly "
                "different from them.",
            ],
        ),
        (
            _difference(0.0, np.nan, 1, 1),  # one respondent in each wave: no variance
            _difference(135.0, np.nan, 1, 20),
            [
                "Change since 2026-Q1: +0.0 points, not tested (n = 1 and 1: too few for a test).",
                "Compared with all other countries (+11.4): +135.0 points, not tested (n = 1 and "
                "20: too few for a test).",
            ],
        ),
    ],
)
def test_executive_summary_verdicts(change, vs_rest, expected) -> None:
    h = _headline(change=change, vs_rest=vs_rest)
    assert _items(summary.executive_summary(_ctx_with(pd.DataFrame()), h))[1:] == expected


def test_executive_summary_says_when_the_family_undoes_a_significance() -> None:
    # p = 0.031 and 0.039 alone (95% intervals leave out zero), q = 0.09 and 0.12 in the family
    h = _headline(
        change=_difference(-5.2, 0.031), vs_rest=_difference(-17.2, 0.039), change_q=0.09,
        vs_rest_q=0.12,
    )  # fmt: skip
    assert _items(summary.executive_summary(_ctx_with(pd.DataFrame()), h))[1:] == [
        "Change since 2026-Q1: -5.2 points: no significant change (allowing for multiple "
        "comparisons).",
        "Compared with all other countries (+11.4): -17.2 points, not significantly different "
        "from them (allowing for multiple comparisons).",
    ]


def test_executive_summary_of_a_suppressed_country_has_no_estimate() -> None:
    h = _headline(n=3, current=None, change=None, vs_rest=None)
    screens = _screens().assign(suppressed=True)
    items = _items(summary.executive_summary(_ctx_with(screens), h))
    assert items == [
        "Net Promoter Score for 2026-Q2: not shown; 3 respondents, fewer than the 5 a figure "
        "needs.",
        # too few respondents is not "no problem"
        "What to fix: not enough data to tell; every attribute has too few answers in this wave "
        "(fewer than 5) or nothing to compare with.",
    ]


def test_executive_summary_without_findings_says_so() -> None:
    screens = _screens().assign(
        trend_verdict="no change",
        vs_countries_verdict="no difference",
        vs_competitors_verdict="no difference",
        suppressed=False,
    )
    items = _items(summary.executive_summary(_ctx_with(screens), _headline()))
    assert items[3:] == [
        "What to fix: no attribute is significantly worse than the previous wave, the other "
        "countries or competitors' customers."
    ]


def test_executive_summary_of_one_respondent_has_no_interval() -> None:
    h = _headline(n=1, current=_result(100.0, 1, np.nan, np.nan), change=None, vs_rest=None)
    items = _items(summary.executive_summary(_ctx_with(pd.DataFrame()), h))
    assert items == [
        "Net Promoter Score +100.0 (no confidence interval with n = 1), n = 1, wave 2026-Q2."
    ]


# --------------------------------------------------------------------------- driver notes


def test_driver_notes_say_what_the_table_rests_on_in_words() -> None:
    results = pd.DataFrame(
        {"importance": [0.3, 0.28, 0.1]}, index=["product_quality", "on_site_service", "delivery"]
    )
    pair = {"diff": 0.02, "ci_low": -0.01, "ci_high": 0.05}
    results.attrs.update(
        r2=0.45678,
        n=1234,
        n_boot=500,
        dropped={"pricing": "no variation in this sample"},
        differences=[
            {"driver_a": "product_quality", "driver_b": "on_site_service", **pair}
            | {"share_reversed": 0.031, "separated": False},
            {"driver_a": "on_site_service", "driver_b": "delivery", **pair}
            | {"share_reversed": 0.0, "separated": True},
            # not neighbours in importance: the table's "Cannot be separated from" says it
            {"driver_a": "product_quality", "driver_b": "delivery", **pair}
            | {"share_reversed": 0.2, "separated": False},
        ],
        overlap_notes=["product_quality and on_site_service cannot be separated: ..."],
    )
    labels = {
        "pricing": "Price <level>",
        "product_quality": "Product quality",
        "on_site_service": "On-site service",
    }
    items = _items(summary.driver_notes(results, labels=labels))
    assert items == [
        "The attributes together explain 46% of the variation in the answers (R² = 0.457), "
        "shared among them by a Shapley decomposition; n = 1,234 respondents, 95% intervals "
        "from 500 bootstrap resamples.",
        "Price <level> left out: no variation in this sample.",
        "Product quality and On-site service: the data cannot tell which matters more (their "
        "order reverses in 3% of bootstrap resamples).",
    ]
    assert "_" not in " ".join(items)  # no canonical name reaches the reader
    assert "&lt;level&gt;" in str(summary.driver_notes(results, labels={"pricing": "<level>"}))


def test_driver_notes_of_suppressed_drivers_say_why_and_show_no_estimate() -> None:
    results = pd.DataFrame({"importance": [np.nan]}, index=["delivery"])
    results.attrs.update(
        suppressed=True, reason="12 complete responses, fewer than 30", r2=0.45678, n=12
    )
    markup = str(summary.driver_notes(results, labels={}))
    assert markup == (
        '<p class="csat-suppressed">Key drivers suppressed: 12 complete responses, fewer than '
        "30</p>"
    )
    assert "0.457" not in markup


def test_who_to_call_counts_accounts_and_follow_ups() -> None:
    ctx = _ctx_with(_screens())
    ctx.__dict__["at_risk_counts"] = pd.DataFrame(
        {
            "accounts_assessed": [20],
            "at_risk": [11],
            "revenue_at_stake_usd": [5_569_010.74],
            "not_assessed": [0],
        },
        index=pd.Index([ctx.country], name="country"),
    )
    ctx.__dict__["followup_counts"] = pd.DataFrame(
        {"list": ["recovery", "callback"], "listed": [59, 65], "eligible": [101, 129]}
    )
    assert summary.who_to_call(ctx) == (
        "Who to call: 11 of 20 accounts at risk (revenue at stake USD 5.6 million); 59 recovery "
        "calls for low ticket ratings; 65 complaint callbacks (the named lists are in "
        "reports/lists)."
    )
    assert _items(summary.executive_summary(ctx, _headline()))[-1].startswith("Who to call: 11")
    assert summary.who_to_call(_ctx_with(_screens())) == ""
    # revenue below a million in dollars; at-risk accounts without revenue are said, not dropped
    ctx.__dict__["at_risk_counts"] = ctx.at_risk_counts.assign(
        revenue_at_stake_usd=[48_200.4], at_risk_no_revenue=[2]
    )
    assert summary.who_to_call(ctx).startswith(
        "Who to call: 11 of 20 accounts at risk (revenue at stake USD 48,200; 2 of them without "
        "revenue on file); 59 recovery"
    )


def test_each_priority_says_the_state_of_its_action_plan() -> None:
    ctx = _ctx_with(_screens())
    plans = pd.DataFrame(
        {
            "attribute": ["invoicing", "pricing"],
            "has_plan": [True, False],
            "overdue": [True, False],
            "days_overdue": [12, 0],
            "status": ["open", ""],
            "due": pd.to_datetime(["2026-05-01", None]),
        }
    )
    plans.attrs["source"] = "actions.csv"
    ctx.__dict__["action_plans"] = plans
    items = _items(summary.executive_summary(ctx, _headline()))
    assert any(
        i.startswith("Invoicing:") and i.endswith(" — plan overdue by 12 days.") for i in items
    )
    assert any(i.startswith("Pricing:") and i.endswith(" — no action plan yet.") for i in items)


@pytest.mark.parametrize(
    ("scores", "words"),
    [
        # three accounts with the same answers: no spread between accounts, deff 0
        ([10, 9, 0, 5] * 3, "design effect of the NPS 0.00, below 1, so the intervals take 1"),
        # each account answers alike and unlike the other: account totals +6 and -6, so
        # deff = (2/1)(36 + 36) / ((12/11) 12) = 11.0
        ([10] * 6 + [0] * 6, "design effect of the NPS 11.0)"),
    ],
)
def test_the_note_under_the_title_states_the_design_effect(scores, words) -> None:
    rows = [
        ("DE", "2026-Q2", float(s), "ABC"[i // 4] if len(set(scores)) > 2 else "AB"[i // 6])
        for i, s in enumerate(scores)
    ]
    data = pd.DataFrame(rows, columns=["country", "wave", "likelihood_to_recommend", "account"])
    data.attrs["roles"] = {
        "country": "country",
        "likelihood_to_recommend": "nps",
        "account": "account",
    }
    note = summary.unit_note(load_country("DE", responses=data, min_n=MIN_N))
    assert words in note, note


def test_driver_notes_say_when_there_are_too_few_accounts_for_intervals() -> None:
    import numpy as np

    from csatlib.stats.drivers import driver_table

    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 3))
    data = pd.DataFrame(x, columns=["a", "b", "c"]).assign(
        y=x @ [0.6, 0.3, 0.1] + rng.normal(size=120), account=[f"K{i % 4}" for i in range(120)]
    )
    few = summary.driver_notes(
        driver_table(data, "y", ["a", "b", "c"], cluster="account"), labels={}
    )
    assert "in 4 accounts: too few accounts for bootstrap intervals" in str(few)
    many = data.assign(account=[f"K{i % 30}" for i in range(120)])
    text = str(
        summary.driver_notes(driver_table(many, "y", ["a", "b", "c"], cluster="account"), labels={})
    )
    assert "bootstrap resamples of the 30 accounts." in text


def test_a_study_of_one_country_says_there_is_nobody_to_compare_with() -> None:
    h = _headline(rest=None, n_rest=0, vs_rest=None)
    table = summary.headline_table(h)
    shown = table.loc["All other countries 2026-Q2", "NPS"]
    assert shown == "none: no other countries in the study"
    assert "Difference vs other countries" not in table.index
    assert "suppressed" not in table.to_string()


def test_one_accounts_respondents_have_no_interval_and_the_summary_says_why() -> None:
    import dataclasses

    one = dataclasses.replace(_result(10.0, 51, np.nan, np.nan), n_clusters=1)
    items = _items(summary.executive_summary(_ctx_with(_screens()), _headline(current=one, n=51)))
    assert items[0] == (
        "Net Promoter Score +10.0 (no confidence interval: the 51 respondents are one customer "
        "account), n = 51, wave 2026-Q2."
    )
    few = dataclasses.replace(_result(10.0, 1, np.nan, np.nan), n_clusters=1)
    items = _items(summary.executive_summary(_ctx_with(_screens()), _headline(current=few, n=1)))
    assert items[0].startswith("Net Promoter Score +10.0 (no confidence interval with n = 1)")
