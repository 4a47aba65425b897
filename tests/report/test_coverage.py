"""csatlib.report.coverage: one block says what a small country's report cannot show, and why.

Checked on generated studies (tests/support/studies.py) with a country far below the small-cell
minimum and one above it: the block names exactly the sections whose every figure is
suppressed in the tables the sections show, and the page leaves those sections out.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest
from support.studies import write_study

from csatlib.ingest.clean import build_processed
from csatlib.report import coverage
from csatlib.report.context import CountryContext, load_country
from csatlib.report.render import HIDDEN_METADATA, render_html

SCORE_SECTIONS = {"nps", "attributes", "trends", "attribute_ratings", "pareto", "screens"}


@pytest.fixture(scope="module")
def seven_point(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seven_point")
    write_study(root / "raw", "seven_point")  # DE 90 and AT 50 a wave, CH 8
    build_processed(root / "raw", root / "processed")
    return root / "processed"


def _ctx(processed: Path, country: str, min_n: int = 30) -> CountryContext:
    return load_country(country, processed_dir=processed, min_n=min_n)


def test_a_country_below_the_minimum_hides_every_score_section(seven_point: Path) -> None:
    ctx = _ctx(seven_point, "CH")
    cov = coverage.coverage(ctx)
    n = int(ctx.current[ctx.nps_column].notna().sum())  # own-brand: 8 asked, some competitors'
    assert 0 < n < 8 and cov.n == n and cov.min_n == 30 and cov.country_name == "Switzerland"
    assert set(cov.hidden) >= SCORE_SECTIONS
    assert {"drivers", "stated_importance"} <= set(cov.hidden)  # CH pools 16 answers, needs 40
    assert "accounts" not in cov.hidden  # counts of accounts are always shown
    # the block's reasons are the tables' own numbers
    assert cov.hidden["nps"] == f"{n} respondents answered the recommend question"
    assert re.fullmatch(r"\d+ complete answers over the pooled waves; the model of 4 "
                        r"attributes needs (30|40)", cov.hidden["drivers"])  # fmt: skip


def test_hidden_sections_are_exactly_those_whose_tables_are_all_suppressed(
    seven_point: Path,
) -> None:
    for country in ("CH", "AT", "DE"):
        ctx = _ctx(seven_point, country)
        cov = coverage.coverage(ctx)
        assert cov.hides("attributes") == bool(ctx.attribute_scores["suppressed"].all())
        assert cov.hides("trends") == bool(ctx.country_trends["suppressed"].all())
        assert cov.hides("screens") == bool(ctx.screen_table["suppressed"].all())
        assert cov.hides("drivers") == bool(ctx.driver_results.attrs.get("suppressed"))
        assert cov.hides("nps") == (ctx.current[ctx.nps_column].notna().sum() < 30)


def test_a_country_above_the_minimum_gets_no_block(seven_point: Path) -> None:
    ctx = _ctx(seven_point, "DE", min_n=5)
    cov = coverage.coverage(ctx)
    assert cov.hidden == {}
    assert coverage.coverage_block(cov) is None


def test_the_block_has_one_line_per_family_and_carries_the_hidden_keys(
    seven_point: Path,
) -> None:
    cov = coverage.coverage(_ctx(seven_point, "CH"))
    block = coverage.coverage_block(cov)
    assert block is not None
    data, metadata = block._repr_mimebundle_()
    assert metadata[HIDDEN_METADATA] == list(cov.hidden)
    lines = coverage.block_lines(cov)
    assert lines[0].startswith("Scores (the Net Promoter Score,")
    assert f"fewer than 30 answers to each question ({cov.n} respondents in 2026-Q2)" in lines[0]
    assert lines[1].startswith("Key drivers (the key drivers of loyalty, stated against")
    assert data["text/html"].count("<li>") == len(lines)
    assert "suppressed" not in data["text/html"]


def test_invented_small_cells_say_what_and_how_many() -> None:
    cov = coverage.Coverage(
        "Namibia",
        "2026-Q3",
        16,
        30,
        {"likes": "23 respondents listed likes", "dislikes": "19 respondents listed dislikes",
         "transactions": "1–7 rated tickets a month"},
    )  # fmt: skip
    assert coverage.block_lines(cov) == [
        "Customers' own words (what customers like, what customers dislike): 23 respondents "
        "listed likes and 19 respondents listed dislikes, fewer than 30 each.",
        "Transaction survey (satisfaction with support tickets): 1–7 rated tickets a month.",
    ]
    html = str(coverage.coverage_block(cov))
    assert "Customers&#x27; own words" in html and "<script" not in html


def _notebook(hidden: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    block = nbformat.v4.new_code_cell("coverage_block(cov)")
    block.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"text/html": "<div>Too few answers</div>", "text/plain": "Too few"},
            metadata={HIDDEN_METADATA: hidden},
        )
    ]
    cells = [nbformat.v4.new_markdown_cell("# Report\n\n## Executive summary"), block]
    for key, title in (("loyalty", "Loyalty"), ("drivers", "Key drivers"), ("likes", "Likes")):
        heading = nbformat.v4.new_markdown_cell(f"## {title}\n\nAbout {title.lower()}.")
        heading.metadata["tags"] = [f"section:{key}"]
        cells.append(heading)
    both = nbformat.v4.new_markdown_cell("Shared by likes and dislikes.")
    both.metadata["tags"] = ["section:likes", "section:dislikes"]
    cells += [both, nbformat.v4.new_markdown_cell("## Data quality\n\nAlways shown.")]
    nb.cells = cells
    return nb


@pytest.mark.parametrize("with_code", [False, True])
def test_the_page_leaves_out_the_hidden_sections_only(with_code: bool) -> None:
    page = render_html(_notebook(["loyalty", "likes"]), with_code=with_code, title="t")
    assert "About loyalty" not in page and "About likes" not in page
    assert "About key drivers" in page and "Always shown" in page
    assert "Shared by likes and dislikes" in page  # dislikes is not hidden
    assert 'href="#section-loyalty"' not in page  # nor listed in the contents


def test_without_a_block_every_section_stays() -> None:
    page = render_html(_notebook([]), with_code=False, title="t")
    assert "About loyalty" in page and "About likes" in page


def test_the_likes_and_dislikes_counted_are_the_n_the_cit_tables_suppress_on(
    seven_point: Path,
) -> None:
    # The CIT tables suppress on the respondents who listed an item, not on the items: the
    # coverage block counts the same people, so it leaves out a section exactly when the
    # section's table is suppressed (a unit of 46 likes from 21 respondents had the table
    # suppressed while the block said nothing of it).
    from csatlib.text.frequencies import cit_frequencies, top_incidents

    for country in ("CH", "AT", "DE"):
        ctx = _ctx(seven_point, country)
        coded = ctx.coded_incidents
        counts = coverage._incident_counts(ctx)
        mine = coded.incidents[coded.incidents["country"].astype("string") == country]
        freq = cit_frequencies(mine, coded.codes, by=("country",), min_n=30)
        for key, valence in (("likes", "positive"), ("dislikes", "negative")):
            people = freq.loc[freq["valence"] == valence, "respondents"]
            assert counts[key] == (int(people.iloc[0]) if len(people) else 0), (country, key)
            top = top_incidents(
                coded.incidents, coded.codes, country=country, valence=valence, min_n=30,
                codebook=coded.codebook,
            )  # fmt: skip
            table_suppressed = (
                len(top) == 1 and bool(top["suppressed"].iloc[0]) and pd.isna(top["rank"].iloc[0])
            )
            assert table_suppressed == (counts[key] < 30), (country, key)
            if table_suppressed:
                assert int(top["n"].iloc[0]) == counts[key]
        assert counts["likes"] > 0 and counts["dislikes"] > 0  # the study has both


class _Sections:
    def has(self, key: str) -> bool:
        return key == "transactions"


def _tickets(n: list[int], key: str) -> pd.DataFrame:
    small = [v < 30 for v in n]
    return pd.DataFrame({key: [f"{key}{k}" for k in range(len(n))], "n": n, "suppressed": small})


@pytest.mark.parametrize(
    ("products", "hidden"),
    [
        (None, "25 rated tickets a month"),  # no product line: the months decide
        ([96, 83, 80, 41], None),  # each product line has enough tickets: the section stays
        ([12, 9], "25 rated tickets a month and 9–12 per product line"),
    ],
)
def test_the_transaction_section_stays_while_its_product_table_shows_a_cell(
    products: list[int] | None, hidden: str | None
) -> None:
    # 25 tickets a month for a year: every month suppressed
    ctx = SimpleNamespace(
        sections=_Sections(),
        min_n=30,
        transactions_by_month=_tickets([25] * 12, "month"),
        transactions_by_product=None if products is None else _tickets(products, "product"),
    )
    assert coverage._other_checks(ctx).get("transactions") == hidden  # type: ignore[arg-type]
