"""One answer to "what do we fix": the executive summary, the screens table, the key-driver
table, the importance-performance chart and the global summary give each attribute the same
verdict, in the same order, on the sample study."""

from __future__ import annotations

from pathlib import Path

import pytest

from csatlib import config
from csatlib.ingest.clean import build_processed
from csatlib.report import context, overview, summary, tables

COUNTRIES = ["DE", "FR", "NA", "US"]


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("one-answer") / "processed"
    build_processed(config.RAW_DIR, out)
    return out


@pytest.fixture(scope="module")
def study(processed: Path) -> overview.StudyContext:
    return overview.load_study(processed_dir=processed)


@pytest.mark.parametrize("country", COUNTRIES)
def test_every_section_gives_the_same_verdict(country: str, processed: Path, study) -> None:
    ctx = context.load_country(country, processed_dir=processed)
    verdicts = ctx.priorities["verdict"]
    # the global summary lists the same priorities and strengths, in the same order
    row = study.problems.set_index("country").loc[country]
    assert row["problems"] == tuple(verdicts.index[verdicts == "priority"])
    assert row["best_practices"] == tuple(verdicts.index[verdicts == "strength"])
    # the screens table and the key-driver table close with the same verdicts
    shown = tables.screens_display(
        ctx.screen_table, labels=None, min_n=ctx.min_n, verdicts=ctx.verdicts
    )
    assert list(shown["Verdict"]) == [ctx.verdicts[a] for a in ctx.screen_table.index]
    if not ctx.driver_results.attrs.get("suppressed"):
        drivers = tables.driver_display(ctx.driver_results, labels=None, verdicts=ctx.verdicts)
        assert list(drivers["Verdict"]) == [ctx.verdicts[a] for a in ctx.driver_results.index]
    # the executive summary names the first three priorities, in order, and no other attribute
    text = str(summary.executive_summary(ctx, summary.nps_headline(ctx)))
    first = list(verdicts.index[verdicts == "priority"][:3])
    positions = [text.find(ctx.labels.get(a, a) + ":") for a in first]
    assert all(p > 0 for p in positions) and positions == sorted(positions)


def test_a_small_country_is_not_enough_data_never_no_problem(processed: Path) -> None:
    ctx = context.load_country("NA", processed_dir=processed)  # 16 respondents
    assert (ctx.priorities["verdict"] == "not enough data").all()
    text = str(summary.executive_summary(ctx, summary.nps_headline(ctx)))
    assert "not enough data to tell" in text and "no attribute is" not in text


@pytest.mark.parametrize("country", ["DE", "US"])
def test_the_drivers_and_the_attribute_table_show_one_mean(country: str, processed: Path) -> None:
    """Importance pools the waves; performance is this wave's mean, the attribute table's, in
    the key-driver table and the importance-performance chart alike (none for a suppressed
    cell)."""
    ctx = context.load_country(country, processed_dir=processed)
    results = ctx.driver_results
    assert not results.empty and not results["suppressed"].any()
    scores = ctx.attribute_scores.set_index("measure")
    for attribute, performance in results["performance"].items():
        row = scores.loc[attribute]
        if row["suppressed"]:
            assert performance != performance  # NaN: never a suppressed cell's mean
        else:
            assert performance == pytest.approx(row["mean"])
    ipa = ctx.importance_performance
    assert ipa["performance"].to_dict() == pytest.approx(results["performance"].dropna().to_dict())
