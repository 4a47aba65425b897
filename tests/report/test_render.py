"""The report page's layout: the executive summary open, a contents list of the sections present,
every later "## " section folded in a <details> (open in the reviewer version), customer text
still escaped."""

from __future__ import annotations

import copy

import nbformat
import pytest
from bs4 import BeautifulSoup

from csatlib.report.render import (
    DISTRIBUTION_ONLY_TAG,
    REVIEW_ONLY_TAG,
    SECTION_METADATA,
    _fold_sections,
    render_html,
)

PAYLOAD = "<img src=x onerror=alert(1)> we paid $5 and now $10"


def _markdown(source: str, *tags: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(source, metadata={"tags": list(tags)})


def _code(source: str, text: str, *tags: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)}, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": text})]
    return cell


def _report() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        _markdown("# Customer satisfaction report\n\nWhat this page is."),
        _markdown("## Executive summary\n\nThe headline."),
        _code("table(evidence=False)", "no significant change", DISTRIBUTION_ONLY_TAG),
        _code("table()", "p-value 0.031", REVIEW_ONLY_TAG),
        _code("summary()", "NPS +12.0"),
        _markdown("## Method notes\n\nAdjusted Wald.", REVIEW_ONLY_TAG),
        _markdown("## Loyalty\n\nThe loyalty index."),
        _code("loyalty()", "loyalty 71.5"),
        _markdown("### Trends\n\nBy wave."),
        _markdown("## What customers like & dislike"),
        _code("likes()", PAYLOAD),
        _markdown("Read the quotes in context.\n\n## Data quality\n\nRows kept."),
    ]
    return nb


def _page(*, with_code: bool) -> BeautifulSoup:
    return BeautifulSoup(render_html(_report(), with_code=with_code, title="t"), "html.parser")


def _text(tag) -> str:
    return " ".join(tag.get_text(" ").split())


def test_distribution_folds_every_section_after_the_summary_closed() -> None:
    page = _page(with_code=False)
    sections = page.find_all("details")
    assert [d["id"] for d in sections] == [
        "section-loyalty",
        "section-what-customers-like-dislike",
        "section-data-quality",
    ]
    assert [d.has_attr("open") for d in sections] == [False, False, False]
    # the summary is the heading, kept with nbconvert's id; the section runs to the next heading
    loyalty = sections[0]
    assert loyalty.summary.h2["id"] == "Loyalty"
    assert _text(loyalty.summary).removesuffix(" ¶") == "Loyalty"
    assert "loyalty 71.5" in _text(loyalty) and "Trends" in _text(loyalty)
    assert "Rows kept" not in _text(loyalty)
    assert len(loyalty.find_all("h2")) == 1  # the heading is not repeated inside the section
    # a heading in the middle of a markdown cell starts the section there
    assert "Read the quotes in context." in _text(sections[1])
    assert "Rows kept." in _text(sections[2]) and "Read the quotes" not in _text(sections[2])
    # the title and the executive summary stay outside any <details>
    for text in ("Customer satisfaction report", "Executive summary", "NPS +12.0"):
        found = page.find(string=lambda s, text=text: s and text in s)
        assert found is not None and found.find_parent("details") is None, text


def test_contents_follow_the_summary_and_list_only_the_sections_present() -> None:
    page = _page(with_code=False)
    nav = page.find("nav", class_="csat-contents")
    links = [(a["href"], a.get_text()) for a in nav.find_all("a")]
    assert links == [  # "Method notes" is review-only: dropped, so not listed
        ("#section-loyalty", "Loyalty"),
        ("#section-what-customers-like-dislike", "What customers like & dislike"),
        ("#section-data-quality", "Data quality"),
    ]
    for href, _ in links:  # every link lands on an element of the page
        assert page.find(id=href[1:]).name == "details"
    assert nav.find_parent("details") is None
    assert nav.find_next("details")["id"] == "section-loyalty"  # after the summary, before all
    assert "NPS +12.0" in _text(nav.find_previous("div", class_="jp-Cell"))
    review = BeautifulSoup(render_html(_report(), with_code=True, title="t"), "html.parser")
    assert [a.get_text() for a in review.find("nav").find_all("a")][0] == "Method notes"


def test_reviewer_version_keeps_every_section_open_with_its_code() -> None:
    page = _page(with_code=True)
    sections = page.find_all("details")
    assert len(sections) == 4 and all(d.has_attr("open") for d in sections)
    assert "loyalty ()" in _text(page.find(id="section-loyalty"))  # pygments splits tokens


@pytest.mark.parametrize("with_code", [False, True])
def test_customer_text_in_a_folded_section_stays_escaped(with_code: bool) -> None:
    html = render_html(_report(), with_code=with_code, title="t")
    assert "<img src=x" not in html and "onerror=alert(1)>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; we paid $5 and now $10" in html
    assert "What customers like &amp; dislike</a>" in html  # the contents entry, escaped
    section = BeautifulSoup(html, "html.parser").find(id="section-what-customers-like-dislike")
    assert PAYLOAD in _text(section) and section.find("img") is None


def test_a_report_with_one_section_has_no_contents_and_nothing_folded() -> None:
    nb = _report()
    nb.cells = nb.cells[:5]
    html = render_html(nb, with_code=False, title="t")
    assert "<details" not in html and "<nav" not in html
    assert "NPS +12.0" in html


def test_headings_in_code_fences_and_deeper_levels_start_no_section() -> None:
    cells = [
        _markdown("## Executive summary"),
        _markdown("## Drivers\n\n```text\n## not a heading\n```\n\n### Matrix\n\n## Screens"),
    ]
    folded, contents = _fold_sections(cells, open_sections=False)
    assert [c["title"] for c in contents] == ["Drivers", "Screens"]
    assert [c.source for c in folded] == [
        "## Executive summary",
        "```text\n## not a heading\n```\n\n### Matrix\n\n",
        "",
    ]
    assert folded[1].metadata[SECTION_METADATA]["first"] is True
    assert folded[2].metadata[SECTION_METADATA]["first"] is False
    assert folded[1].id != folded[2].id  # the split cell's pieces keep unique cell ids
    assert SECTION_METADATA not in cells[1].metadata  # the notebook given is left as it was


def test_repeated_titles_get_distinct_ids() -> None:
    cells = [_markdown("## Summary"), _markdown("## Loyalty"), _markdown("## Loyalty ##")]
    _, contents = _fold_sections(cells, open_sections=True)
    assert contents == [
        {"id": "section-loyalty", "title": "Loyalty"},
        {"id": "section-loyalty-2", "title": "Loyalty"},
    ]


def test_managers_read_words_and_reviewers_read_p_values() -> None:
    manager, reviewer = _text(_page(with_code=False)), _text(_page(with_code=True))
    assert "no significant change" in manager and "p-value 0.031" not in manager
    assert "p-value 0.031" in reviewer and "no significant change" not in reviewer


def test_a_libraries_warning_is_for_the_reviewer_only() -> None:
    nb = _report()
    warning = "/srv/csat/.venv/lib/scipy/stats.py:8492: RuntimeWarning: invalid value"
    nb.cells[4].outputs.insert(0, nbformat.v4.new_output("stream", name="stderr", text=warning))
    nb.cells[4].outputs.append(nbformat.v4.new_output("stream", name="stdout", text="printed"))
    manager = render_html(nb, with_code=False, title="t")
    reviewer = render_html(nb, with_code=True, title="t")
    assert "RuntimeWarning" not in manager and "/srv/csat" not in manager
    assert "NPS +12.0" in manager and "printed" in manager  # the cell's other outputs stay
    assert "RuntimeWarning" in reviewer
    assert nb.cells[4].outputs[0]["name"] == "stderr"  # the executed notebook keeps it


def test_code_is_highlighted_once_per_source_and_the_page_stays_the_same(monkeypatch) -> None:
    from nbconvert.filters.highlight import Highlight2HTML

    from csatlib.report import render

    monkeypatch.setattr(render, "_HIGHLIGHTED", {})
    calls = []
    real = Highlight2HTML.__call__
    monkeypatch.setattr(
        Highlight2HTML, "__call__", lambda self, *a, **k: calls.append(a[0]) or real(self, *a, **k)
    )
    nb = _report()
    first = render_html(copy.deepcopy(nb), with_code=True, title="t")
    assert sorted(calls) == sorted(["summary()", "loyalty()", "likes()", "table()"])
    again = render_html(copy.deepcopy(nb), with_code=True, title="t")
    assert again == first and len(calls) == 4  # taken from memory, the same page
    changed = copy.deepcopy(nb)
    changed.cells[4].source = "summary(evidence=True)"
    page = render_html(changed, with_code=True, title="t")
    assert calls[-1] == "summary(evidence=True)" and "evidence" in page


def test_rendering_leaves_the_notebook_as_it_was_and_renders_it_again_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # nbconvert's preprocessors may change the notebook they are given (one that joins
    # streams or marks cells does): render_html hands them a copy of its own (not a deep
    # copy), so the executed notebook, rendered twice (the distribution and the reviewer's
    # page), is the same notebook both times. The preprocessor here changes every cell.
    from csatlib.report.render import _exporter

    def mark(nb: nbformat.NotebookNode, resources: dict) -> tuple:
        for cell in nb.cells:
            cell.source += " [seen]"
            cell.metadata["seen"] = True
        return nb, resources

    for with_code in (False, True):
        exporter = _exporter(with_code)
        monkeypatch.setattr(exporter, "_preprocessors", [*exporter._preprocessors, mark])
    nb = _report()
    before = nbformat.writes(nb)
    pages = [render_html(nb, with_code=with_code, title="t") for with_code in (False, True)]
    assert nbformat.writes(nb) == before  # no cell of the notebook itself marked
    assert [render_html(nb, with_code=w, title="t") for w in (False, True)] == pages
    assert pages[1].count("[seen]") == render_html(_report(), with_code=True, title="t").count(
        "[seen]"
    )  # marked once per rendering, never twice
