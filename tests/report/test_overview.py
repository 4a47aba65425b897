"""csatlib.report.overview: the global summary's views across countries, and the global notebook
itself.

The unit tests run on a small synthetic study built here (three countries of a few hundred
respondents per wave plus a small-cell country "NA", Namibia, with 12) with one planted problem
(France's delivery drops in the last wave) and one planted best practice (Germany's product
quality). Every figure is checked against an independent computation: pandas on the raw rows,
or the csatlib function the view is built from called on the same rows.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csatlib import config
from csatlib.errors import DataError
from csatlib.report import overview
from csatlib.report.metrics import read_metrics, study_metrics, write_metrics
from csatlib.stats.nps import nps, nps_difference
from csatlib.stats.priorities import priorities
from csatlib.stats.screens import screens_all_countries

WAVES = ["2026-Q1", "2026-Q2", "2026-Q3"]
ATTRIBUTES = ["product_quality", "delivery", "invoicing_accuracy", "ease_of_ordering"]
LOYALTY = ["loyalty_emotional", "loyalty_attitudinal", "loyalty_cognitive", "loyalty_referral"]
# own-brand respondents per wave; "NA" (Namibia) is below the minimum of 30 in every wave
OWN = {"DE": 220, "FR": 200, "GB": 180, "NA": 12}
MIN_N = 30


def _study(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for country, n_own in OWN.items():
        for w, wave in enumerate(WAVES):
            for competitor, n in ((False, n_own), (True, max(n_own // 4, 3))):
                base = rng.normal(7.2, 1.4, size=(n, 1))
                ratings = base + rng.normal(0, 0.8, size=(n, len(ATTRIBUTES)))
                if country == "FR" and not competitor and wave == WAVES[-1]:
                    ratings[:, 1] -= 2.5  # planted: delivery collapses in the last wave
                if country == "DE" and not competitor:
                    ratings[:, 0] += 1.5  # planted: product quality well above everyone
                ratings = np.clip(np.rint(ratings), 1, 10)
                ltr = np.clip(np.rint(base[:, 0] + rng.normal(0.5 + 0.3 * w, 1.5, n)), 0, 10)
                frame = pd.DataFrame(
                    {
                        "country": country,
                        "wave": wave,
                        "competitor": competitor,
                        "likelihood_to_recommend": ltr,
                        **{a: ratings[:, i] for i, a in enumerate(ATTRIBUTES)},
                        **{
                            item: np.clip(np.rint(base[:, 0] + rng.normal(0, 1.0, n)), 1, 10)
                            for item in LOYALTY
                        },
                    }
                )
                frames.append(frame)
    df = pd.concat(frames, ignore_index=True)
    for col in ["likelihood_to_recommend", *ATTRIBUTES, *LOYALTY]:
        df[col] = pd.array(df[col].to_numpy(), dtype="Int64")
    # don't-know answers: a few everywhere, and GB's invoicing_accuracy almost always in Q3
    dont_know = rng.random((len(df), len(ATTRIBUTES))) < 0.05
    gb_q3 = ((df["country"] == "GB") & (df["wave"] == WAVES[-1]) & ~df["competitor"]).to_numpy()
    keep = np.flatnonzero(gb_q3)[:20]  # 20 answers < MIN_N
    dont_know[gb_q3, 2] = True
    dont_know[keep, 2] = False
    for i, col in enumerate(ATTRIBUTES):
        df.loc[dont_know[:, i], col] = pd.NA
    df.loc[rng.random(len(df)) < 0.01, "likelihood_to_recommend"] = pd.NA
    df["country"] = pd.Categorical(df["country"], categories=sorted(OWN))
    df["wave"] = pd.Categorical(df["wave"], categories=WAVES, ordered=True)
    roles = {
        "country": "country",
        "wave": "wave",
        "likelihood_to_recommend": "nps",
        **dict.fromkeys(ATTRIBUTES, "attribute"),
        **dict.fromkeys(LOYALTY, "loyalty"),
    }
    df.attrs.update(
        roles=roles,
        labels={a: a.replace("_", " ").capitalize() for a in ATTRIBUTES},
        scales={"likelihood_to_recommend": [0, 10], **{c: [1, 10] for c in ATTRIBUTES + LOYALTY}},
    )
    return df


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    return _study()


@pytest.fixture(scope="module")
def ctx(study: pd.DataFrame) -> overview.StudyContext:
    return overview.load_study(responses=study, min_n=MIN_N)


@pytest.fixture(scope="module")
def league(ctx: overview.StudyContext) -> pd.DataFrame:
    return overview.league_table(ctx.history, wave=ctx.wave, min_n=MIN_N)


def _valid(df: pd.DataFrame, column: str = "likelihood_to_recommend") -> pd.Series:
    return df[column].dropna().astype(float)


def _own(df: pd.DataFrame, country: str, wave: str) -> pd.DataFrame:
    keep = (df["country"] == country) & (df["wave"] == wave) & ~df["competitor"]
    return df.loc[keep]


# --------------------------------------------------------------------------- load_study


def test_load_study_resolves_the_latest_wave_and_its_rows(
    ctx: overview.StudyContext, study: pd.DataFrame
) -> None:
    assert (ctx.wave, ctx.previous_wave, ctx.waves) == ("2026-Q3", "2026-Q2", tuple(WAVES))
    assert ctx.countries == ("DE", "FR", "GB", "NA")
    assert ctx.attributes == ATTRIBUTES and ctx.loyalty_items == LOYALTY
    own_q3 = (~study["competitor"] & (study["wave"] == "2026-Q3")).sum()
    assert ctx.n_respondents == own_q3 == sum(OWN.values())
    assert not ctx.current["competitor"].any() and set(ctx.current["wave"]) == {"2026-Q3"}
    assert ctx.country_labels["NA"] == "Namibia (NA)"
    assert ctx.country_labels["GB"] == "United Kingdom (GB)"


def test_an_earlier_wave_leaves_later_waves_out(study: pd.DataFrame) -> None:
    ctx = overview.load_study(responses=study, wave="2026-Q2", min_n=MIN_N)
    assert (ctx.wave, ctx.previous_wave) == ("2026-Q2", "2026-Q1")
    assert set(ctx.to_wave["wave"].astype(str)) == {"2026-Q1", "2026-Q2"}
    assert ctx.to_wave["competitor"].any()  # both brands: the screens need competitors
    assert not ctx.history["competitor"].any()
    first = overview.load_study(responses=study, wave="2026-Q1", min_n=MIN_N)
    assert first.previous_wave is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"wave": "2025-Q1"}, "waves in the data: 2026-Q1, 2026-Q2, 2026-Q3"),
        ({"wave": 2026}, "parameter wave"),
        ({"min_n": 0}, r"The 'min_n' parameter of load_study must be an int >= 1; got 0\."),
        ({"min_n": True}, "must be an int >= 1; got True"),
        ({"min_n": "30"}, "got '30'"),
        ({"metrics_path": None}, "parameter metrics_path"),
        ({"processed_dir": 3}, "parameter processed_dir"),
    ],
)
def test_bad_parameters_are_refused_with_a_message(
    study: pd.DataFrame, kwargs: dict, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        overview.load_study(responses=study, **kwargs)


def test_min_n_of_one_is_accepted_and_a_numpy_integer_becomes_an_int(study: pd.DataFrame) -> None:
    ctx = overview.load_study(responses=study, min_n=np.int64(1))
    assert ctx.min_n == 1 and type(ctx.min_n) is int
    assert ctx.pooled_nps is not None and ctx.pooled_nps.n == len(_valid(ctx.current))


@pytest.mark.parametrize(
    ("function", "kwargs", "message"),
    [
        ("league_table", {"min_n": 0}, "'min_n' parameter of league_table must be an int >= 1"),
        ("league_table", {"conf": 95}, "'conf' parameter of league_table must be a float in"),
        ("league_table", {"alpha": 0}, "'alpha' parameter of league_table must be a float in"),
        ("country_trends", {"min_n": 2.5}, "'min_n' parameter of country_trends"),
        ("country_trends", {"conf": 1.0}, "'conf' parameter of country_trends"),
        ("country_trends", {"alpha": True}, "'alpha' parameter of country_trends"),
    ],
)
def test_views_refuse_bad_parameters_with_the_shared_message(
    ctx: overview.StudyContext, function: str, kwargs: dict, message: str
) -> None:
    extra = {"wave": ctx.wave} if function == "league_table" else {}
    with pytest.raises(DataError, match=message):
        getattr(overview, function)(ctx.history, **extra, **kwargs)
    with pytest.raises(DataError, match="'min_n' parameter of attribute_means"):
        overview.attribute_means(ctx.current, ctx.attributes, min_n=-1)


def test_pooled_nps_is_every_own_respondent_of_the_wave_as_one_sample(
    ctx: overview.StudyContext,
) -> None:
    pooled = _valid(ctx.current)
    assert len(ctx.pooled_scores) == len(pooled)
    # NPS = 100 * (share 9-10 - share 0-6), computed here from the raw answers
    expected = 100 * ((pooled >= 9).mean() - (pooled <= 6).mean())
    assert ctx.pooled_nps.score == pytest.approx(expected, abs=1e-9)
    big = overview.load_study(responses=ctx.responses, min_n=len(pooled) + 1)
    assert big.pooled_nps is None  # the whole wave is below the minimum: suppressed


def test_country_names_fall_back_to_the_code() -> None:
    assert overview.country_name("NA") == "Namibia"
    assert overview.country_name("XX") == "XX"
    assert overview.country_labels(["DE", "XX"], suppressed=["XX"]) == {
        "DE": "Germany (DE)",
        "XX": "XX, suppressed",
    }


def test_missing_processed_data_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="csat data"):
        overview.load_study(processed_dir=tmp_path)


# --------------------------------------------------------------------------- league table


def test_league_nps_equals_the_closed_form_on_each_countrys_rows(
    league: pd.DataFrame, ctx: overview.StudyContext
) -> None:
    for row in league.loc[~league["suppressed"]].itertuples():
        scores = _valid(_own(ctx.responses, row.country, "2026-Q3"))
        # NPS = 100 * (share 9-10 - share 0-6), computed here from the raw answers
        expected = 100 * ((scores >= 9).mean() - (scores <= 6).mean())
        assert row.n == len(scores)
        assert row.score == pytest.approx(expected, abs=1e-9)
        reference = nps(scores)
        assert (row.ci_low, row.ci_high) == pytest.approx((reference.ci_low, reference.ci_high))


def test_league_change_and_difference_from_the_rest_equal_two_sample_tests(
    league: pd.DataFrame, ctx: overview.StudyContext
) -> None:
    own = ctx.history
    for row in league.loc[~league["suppressed"]].itertuples():
        now = _valid(_own(own, row.country, "2026-Q3"))
        before = _valid(_own(own, row.country, "2026-Q2"))
        change = nps_difference(now, before)
        assert row.previous_wave == "2026-Q2"
        assert row.change == pytest.approx(change.diff, abs=1e-9)
        assert row.change_p_value == pytest.approx(change.p_value, rel=1e-9)
        assert (row.change_ci_low, row.change_ci_high) == pytest.approx(
            (change.ci_low, change.ci_high)
        )
        assert bool(row.change_significant) == (change.p_value < 0.05)
        rest = own.loc[(own["country"] != row.country) & (own["wave"] == "2026-Q3")]
        vs_rest = nps_difference(now, _valid(rest))
        assert row.n_rest == len(_valid(rest))
        assert row.diff_rest == pytest.approx(vs_rest.diff, abs=1e-9)
        assert row.diff_rest_p_value == pytest.approx(vs_rest.p_value, rel=1e-9)


def test_league_is_best_first_and_the_small_country_is_suppressed(league: pd.DataFrame) -> None:
    shown = league.loc[~league["suppressed"], "score"]
    assert shown.is_monotonic_decreasing and len(shown) == 3
    na = league.loc[league["country"] == "NA"].iloc[0]
    assert league["country"].iloc[-1] == "NA"
    assert bool(na["suppressed"]) and na["n"] == 12
    estimates = [
        "score",
        "se",
        "ci_low",
        "ci_high",
        "promoters",
        "change",
        "change_p_value",
        "diff_rest",
        "diff_rest_p_value",
    ]
    assert na[estimates].isna().all()
    assert na["change_significant"] is pd.NA and na["diff_rest_significant"] is pd.NA


def test_league_display_shows_no_number_for_a_suppressed_country(
    league: pd.DataFrame,
) -> None:
    shown = overview.league_display(league, min_n=MIN_N)
    na = shown.loc["Namibia (NA)"]
    assert na["n"] == "12" and na["NPS"] == "suppressed (n = 12 < 30)"
    assert (na.drop(["n", "NPS"]) == "").all()
    assert "Change vs 2026-Q2" in shown.columns
    de = league.loc[league["country"] == "DE"].iloc[0]
    text = shown.loc["Germany (DE)", "vs other countries"]
    assert text.startswith(f"{de['diff_rest']:+.1f}")
    assert text.endswith(("▲", "▼")) == bool(de["diff_rest_p_value"] < 0.05)
    manager = overview.league_display(league, min_n=MIN_N, evidence=False)
    assert [c for c in manager.columns if "q-value" in c] == []  # the ▲/▼ says it in words
    assert manager.index.name is None and manager.columns.name == "Country"
    assert (manager["vs other countries"] == shown["vs other countries"]).all()


# --------------------------------------------------------------------------- trends


def test_country_trends_are_one_row_per_country_and_wave(ctx: overview.StudyContext) -> None:
    order = ["GB", "NA", "DE"]
    table = overview.country_trends(ctx.history, countries=order, min_n=MIN_N)
    assert list(dict.fromkeys(table["measure"])) == order
    assert (table["statistic"] == "nps").all() and len(table) == 3 * len(WAVES)
    gb = table.loc[(table["measure"] == "GB") & (table["wave"] == "2026-Q1")].iloc[0]
    scores = _valid(_own(ctx.history, "GB", "2026-Q1"))
    assert gb["value"] == pytest.approx(100 * ((scores >= 9).mean() - (scores <= 6).mean()))
    assert table.loc[table["measure"] == "NA", "suppressed"].all()
    assert table.loc[table["measure"] == "NA", "value"].isna().all()
    with pytest.raises(DataError, match=r"\['XX'\]"):
        overview.country_trends(ctx.history, countries=["DE", "XX"], min_n=MIN_N)


# --------------------------------------------------------------------------- heatmap


def test_attribute_means_equal_pandas_groupby_means(ctx: overview.StudyContext) -> None:
    means = overview.attribute_means(ctx.current, ctx.attributes, min_n=MIN_N)
    assert list(means.index) == ATTRIBUTES and list(means.columns) == ["DE", "FR", "GB", "NA"]
    cur = ctx.current.assign(country=ctx.current["country"].astype(str))
    counts = cur.groupby("country")[ATTRIBUTES].count().T
    reference = cur[["country", *ATTRIBUTES]].astype({a: float for a in ATTRIBUTES})
    reference = reference.groupby("country")[ATTRIBUTES].mean().T
    shown = counts >= MIN_N
    assert shown.loc["invoicing_accuracy", "GB"] == np.False_  # 20 answers: suppressed
    hidden = ~shown.loc[ATTRIBUTES, list(means.columns)].to_numpy(dtype=bool)
    assert np.array_equal(means.isna().to_numpy(), hidden)
    pd.testing.assert_frame_equal(
        means.where(shown), reference.where(shown), check_names=False, atol=1e-12
    )
    assert means["NA"].isna().all()


# --------------------------------------------------------------------------- problems


@pytest.fixture(scope="module")
def screens(ctx: overview.StudyContext) -> pd.DataFrame:
    return screens_all_countries(ctx.to_wave, attributes=ctx.attributes, wave=ctx.wave, min_n=MIN_N)


def test_problems_listed_are_exactly_the_country_reports_verdicts(screens: pd.DataFrame) -> None:
    table = overview.problems_by_country(screens)
    assert list(table["country"]) == ["DE", "FR", "GB", "NA"]
    for row in table.itertuples():
        own = screens.loc[screens["country"] == row.country].set_index("attribute")
        verdicts = priorities(own)  # what the country report's executive summary shows
        assert row.problems == tuple(verdicts.index[verdicts["verdict"] == "priority"])
        assert row.best_practices == tuple(verdicts.index[verdicts["verdict"] == "strength"])
    by = table.set_index("country")
    assert "delivery" in by.loc["FR", "problems"]  # planted
    assert "product_quality" in by.loc["DE", "best_practices"]  # planted
    assert bool(by.loc["NA", "suppressed"]) and by.loc["NA", "problems"] == ()
    assert by.loc["NA", "n"] == 12


def test_problems_by_country_names_missing_columns() -> None:
    with pytest.raises(DataError, match="missing \\['wave', 'n'\\]"):
        overview.problems_by_country(pd.DataFrame({"country": ["DE"], "attribute": ["x"]}))


def _labels() -> dict[str, str]:
    return {a: a.replace("_", " ").capitalize() for a in ATTRIBUTES}


def test_problems_tables_are_in_league_order_with_one_row_per_country(
    screens: pd.DataFrame, league: pd.DataFrame
) -> None:
    problems = overview.problems_by_country(screens)  # alphabetical: DE, FR, GB, NA
    order = [overview.country_labels([c])[c] for c in league["country"]]
    by = problems.set_index("country")
    for verdict, column in (("priority", "problems"), ("strength", "best_practices")):
        shown = overview.problems_table(
            problems, league, verdict=verdict, labels=_labels(), n_attributes=len(ATTRIBUTES)
        )
        assert shown.index.is_unique and shown.index.name == "Country"
        assert list(shown.index) == [c for c in order if c in set(shown.index)]  # league order
        assert "Namibia (NA)" not in shown.index  # suppressed: named in the note instead
        for name, row in shown.iterrows():
            code = name[-3:-1]
            assert row.iloc[-1] == ", ".join(_labels()[a] for a in by.loc[code, column])
            assert row["How many"] == f"{len(by.loc[code, column])} of {len(ATTRIBUTES)}"
        assert "_" not in shown.to_html()  # labels, never canonical names
    strengths = overview.problems_table(problems, league, verdict="strength", labels=_labels())
    # planted: DE's product quality; GB is above DE in the league
    assert list(strengths.index) == ["United Kingdom (GB)", "Germany (DE)"]
    assert "Product quality" in strengths.loc["Germany (DE)"].iloc[0]
    assert "How many" not in strengths.columns  # only with n_attributes


def test_problems_table_is_never_header_only(screens: pd.DataFrame, league: pd.DataFrame) -> None:
    problems = overview.problems_by_country(screens)
    nothing = problems.assign(problems=[()] * len(problems))
    shown = overview.problems_table(nothing, league, verdict="priority", labels=None)
    assert shown.shape == (1, 1) and shown.iloc[0, 0] == "none: no country has a priority"
    with pytest.raises(DataError, match="verdict must be 'priority' or 'strength'; got 'worst'"):
        overview.problems_table(problems, league, verdict="worst", labels=None)


def test_problems_note_names_the_other_countries_and_the_suppressed_with_n(
    screens: pd.DataFrame, league: pd.DataFrame
) -> None:
    problems = overview.problems_by_country(screens)
    text = str(overview.problems_note(problems, league, min_n=MIN_N))
    assert text.count("Namibia (NA), n = 12") == 1 and "Suppressed (fewer than 30" in text
    assert "Neither" not in text  # every other country has a priority or a best practice
    calm = problems["country"].isin(["GB", "DE"]).to_numpy()  # neither, in this copy
    quiet = problems.assign(
        problems=[() if c else v for c, v in zip(calm, problems["problems"], strict=True)],
        best_practices=[
            () if c else v for c, v in zip(calm, problems["best_practices"], strict=True)
        ],
    )
    text = str(overview.problems_note(quiet, league, min_n=MIN_N))
    assert "Neither a priority nor a best practice: United Kingdom (GB), Germany (DE)." in text


def _screens_of(advantage: str, rank: str) -> pd.DataFrame:
    """One country's screens: every attribute with the same trend verdict and rank."""
    return pd.DataFrame(
        {
            "country": "BR",
            "attribute": ATTRIBUTES,
            "wave": "2026-Q3",
            "n": 300,
            "suppressed": False,
            "trend_verdict": advantage,
            "vs_countries_verdict": "no difference",
            "vs_competitors_verdict": "no difference",
            "rank_verdict": rank,
        }
    )


def test_every_attribute_a_best_practice_comes_from_significance_not_a_ranking(
    league: pd.DataFrame,
) -> None:
    ranked = overview.problems_by_country(_screens_of("no change", "top"))
    assert ranked.loc[0, "best_practices"] == ()  # top of its own ranking is no finding
    improved = overview.problems_by_country(_screens_of("improved", "bottom"))
    assert set(improved.loc[0, "best_practices"]) == set(ATTRIBUTES)
    shown = overview.problems_table(
        improved, league, verdict="strength", labels=None, n_attributes=len(ATTRIBUTES)
    )
    assert shown.loc["Brazil (BR)", "How many"] == "4 of 4"


def test_every_best_practice_of_the_study_has_a_significant_advantage(
    ctx: overview.StudyContext,
) -> None:
    from csatlib.stats.multiplicity import ALPHA
    from csatlib.stats.priorities import SCREENS

    for row in ctx.problems.itertuples():
        screens = ctx.families[row.country].screens
        for attribute in row.best_practices:
            q = [
                screens.loc[attribute, f"{name}_q_value"]
                for name, (_, better) in SCREENS.items()
                if screens.loc[attribute, f"{name}_verdict"] == better
            ]
            assert q and min(q) < ALPHA, (row.country, attribute)


def test_text_table_is_left_aligned_and_escaped() -> None:
    table = pd.DataFrame(
        {"Best practices": ["Delivery <on time>", "none"]},
        index=pd.Index(["Germany (DE)", "France (FR)"], name="Country"),
    )
    markup = str(overview.text_table(table))
    assert "<on time>" not in markup and "&lt;on time&gt;" in markup
    assert markup.count("text-align: left") == 3 * 2  # two columns, header and two rows
    assert markup.index("Germany (DE)") < markup.index("France (FR)")
    assert markup.count("nowrap") == 3  # the country column only; the list wraps


def test_folded_table_keeps_every_row_inside_a_closed_fold(league: pd.DataFrame) -> None:
    shown = overview.league_display(league, min_n=MIN_N)
    markup = str(overview.folded_table(shown, summary="The figures <all>"))
    assert markup.startswith('<details class="csat-fold"><summary>The figures &lt;all&gt;')
    assert markup.endswith("</table></details>") and " open" not in markup
    assert all(name in markup for name in shown.index)
    assert "suppressed (n = 12 &lt; 30)" in markup
    empty = str(overview.folded_table(shown.iloc[:0], summary="T"))
    assert "<table" not in empty and "none" in empty  # never a header-only table


def test_country_panel_labels_name_a_suppressed_country_with_its_n(league: pd.DataFrame) -> None:
    assert overview.country_panel_labels(league) == {
        "GB": "United Kingdom (GB)",
        "FR": "France (FR)",
        "DE": "Germany (DE)",
        "NA": "Namibia (NA)\nn = 12, suppressed",
    }


def test_loyalty_table_is_in_league_order_without_a_number_for_a_suppressed_country(
    ctx: overview.StudyContext, league: pd.DataFrame
) -> None:
    from csatlib.stats.loyalty import loyalty_summary

    loyalty = loyalty_summary(ctx.current, by="country", min_n=MIN_N)  # alphabetical
    loyalty = loyalty.assign(deff=[1.5, 2.5, 1.25, 0.75])  # as with accounts as clusters
    shown = overview.loyalty_table(loyalty, league, min_n=MIN_N)
    assert list(shown.index) == [
        "United Kingdom (GB)",
        "France (FR)",
        "Germany (DE)",
        "Namibia (NA)",
    ]
    assert shown.index.nlevels == 1  # the design effect is a column, never an index level
    na = shown.loc["Namibia (NA)"]
    assert na["n"] == "12" and na["Loyalty index (0–100)"] == "suppressed (n = 12 < 30)"
    assert (na.drop(["n", "Loyalty index (0–100)"]) == "").all()
    de = loyalty.set_index("country").loc["DE"]
    assert shown.loc["Germany (DE)", "Loyalty index (0–100)"] == f"{de['score']:.1f}"
    assert shown.loc["Germany (DE)", "Design effect"] == "1.5"
    with pytest.raises(DataError, match=r"loyalty_table: .* missing \['score'\]"):
        overview.loyalty_table(loyalty.drop(columns="score"), league, min_n=MIN_N)


def _transaction_summary() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "region": ["EMEA", "EMEA", "APJ", "APJ"],
            "month": ["2026-01", "2026-02"] * 2,
            "n": [80, 75, 9, 70],
            "mean": [4.1, 4.2, 2.345, 4.3],  # APJ's January is planted
            "top_box": [0.8, 0.82, 0.1, 0.85],
        }
    )
    return frame.assign(
        ci_low=frame["mean"] - 0.2,
        ci_high=frame["mean"] + 0.2,
        top_box_ci_low=frame["top_box"] - 0.05,
        top_box_ci_high=frame["top_box"] + 0.05,
        suppressed=frame["n"] < MIN_N,
    )


def test_transaction_chart_has_a_panel_per_region_or_one_line_by_month() -> None:
    summary = _transaction_summary()
    fig = overview.transaction_chart(
        summary, by=["region", "month"], title="Tickets", min_n=MIN_N, scale=(1, 5)
    )
    assert [ax.get_title() for ax in fig.axes] == ["EMEA", "APJ"]
    assert "Mean rating (1–5)" in fig.get_supylabel()
    assert "APJ 2026-01 (n = 9)" in fig.get_supxlabel()  # the suppressed month, named
    by_month = summary.loc[summary["region"] == "EMEA"].drop(columns="region")
    fig = overview.transaction_chart(by_month, by=["month"], title="Tickets", min_n=MIN_N)
    assert len(fig.axes) == 1 and fig.axes[0].get_ylabel() == "Mean rating"
    note = overview.transaction_chart(summary, by=["region"], title="T", min_n=MIN_N)
    assert "has no month" in str(note)


# --------------------------------------------------------------------------- metrics
# study_metrics lives in csatlib/report/metrics.py (unit tests in test_metrics.py); this test
# follows this study's league table, problems and loyalty into the JSON file.


def test_metrics_hold_the_league_and_nothing_for_a_suppressed_country(
    ctx: overview.StudyContext, league: pd.DataFrame, screens: pd.DataFrame, tmp_path: Path
) -> None:
    from csatlib.stats.loyalty import loyalty_summary

    problems = overview.problems_by_country(screens)
    loyalty = loyalty_summary(ctx.current, by="country", min_n=MIN_N)
    path = write_metrics(
        tmp_path / "global.json",
        study_metrics(ctx, league=league, problems=problems, loyalty=loyalty),
    )
    data = read_metrics(path)
    assert (data["scope"], data["wave"], data["min_n"]) == ("global", "2026-Q3", MIN_N)
    assert data["countries"]["NA"] == {"name": "Namibia", "n": 12, "suppressed": True}
    de_row = league.set_index("country").loc["DE"]
    de = data["countries"]["DE"]
    assert de["nps"]["score"] == pytest.approx(de_row["score"], abs=1e-4)
    assert de["vs_rest"]["p_value"] == pytest.approx(de_row["diff_rest_p_value"], rel=1e-3)
    assert de["vs_rest"]["p_value"] > 0 or de_row["diff_rest_p_value"] == 0
    assert "product_quality" in de["best_practices"]
    alpha = loyalty.set_index(loyalty["country"].astype(str)).loc["DE", "alpha"]
    assert de["cronbach_alpha"] == pytest.approx(alpha, abs=1e-4)
    pooled = _valid(ctx.current)
    assert data["nps_pooled"]["n"] == len(pooled)
    expected = 100 * ((pooled >= 9).mean() - (pooled <= 6).mean())
    assert data["nps_pooled"]["score"] == pytest.approx(expected, abs=1e-4)
    assert "NaN" not in path.read_text()


def test_heading_is_escaped(ctx: overview.StudyContext) -> None:
    markup = overview.study_heading(ctx)._repr_html_()
    assert "All countries, wave 2026-Q3" in markup
    assert f"{ctx.n_respondents:,} own-brand respondents in 4 countries" in markup


# --------------------------------------------------------------------------- the notebook

NOTEBOOK = config.NOTEBOOKS_DIR / "global_summary.ipynb"


@pytest.mark.slow  # 20-25 s on the shared 2-core machine: processed build 5 s, notebook 12-15 s
@pytest.mark.skipif(
    not (config.RAW_DIR / "relationship_survey.csv").exists(),
    reason="sample data not generated (csat synth)",
)
def test_global_notebook_runs_on_the_sample(tmp_path: Path) -> None:
    import papermill

    from csatlib.ingest.clean import build_processed
    from csatlib.report.build import ensure_kernel, validate_executed

    processed = tmp_path / "processed"
    build_processed(config.RAW_DIR, processed)
    metrics_path = tmp_path / "metrics" / "global.json"
    executed = papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "global_summary.ipynb"),
        parameters={
            "processed_dir": str(processed),
            "min_n": 30,
            "wave": "",
            "metrics_path": str(metrics_path),
        },
        kernel_name=ensure_kernel(),
        progress_bar=False,
        cwd=str(tmp_path),
    )
    validate_executed(executed, name="global_summary")  # every code cell ran, none raised

    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    charts = [o for o in outputs if {"image/png", "image/svg+xml"} & set(o.get("data", {}))]
    assert len(charts) == 5  # league chart, trend panels, heatmap, loyalty, transactions
    tables = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    league_html = next(t for t in tables if "vs other countries" in t)
    row = league_html.split("Namibia (NA)")[1].split("</tr>")[0]
    cells = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
    n = data_n = cells[0]
    assert cells[1] == f"suppressed (n = {data_n} &lt; 30)" and int(n) < 30
    assert all(c == "" for c in cells[2:])  # no estimate, no comparison

    # the whole study's cleaning, rows without a country too (in no country's report)
    quality = next(t for t in tables if "Raw rows" in t)
    summary = json.loads((processed / "cleaning_summary.json").read_text())
    for source in summary["sources"]:
        excluded = sum(source["excluded"].values())
        assert source["raw_rows"] == source["kept"] + excluded
        assert f"<td>{source['raw_rows']:,}</td>" in quality, source["source"]
        assert f"<td>{source['kept']:,}</td>" in quality, source["source"]

    data = json.loads(metrics_path.read_text())
    assert data["scope"] == "global" and data["countries"]["NA"]["suppressed"] is True
    assert "nps" not in data["countries"]["NA"]
    shown = [c for c, v in data["countries"].items() if not v["suppressed"]]
    assert len(shown) == 12
    assert all(math.isfinite(data["countries"][c]["nps"]["score"]) for c in shown)
