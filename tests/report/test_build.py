"""The report build, end to end: raw export -> processed data -> per-country HTML + index."""

from __future__ import annotations

import base64
import csv
import json
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from csatlib import config
from csatlib.cli import main
from csatlib.errors import ReportError
from csatlib.ingest.clean import build_processed
from csatlib.report.build import CountryOutcome, build_reports, validate_executed, write_index

COUNTRIES = ["DE", "JP"]
# Independent of csatlib.ingest.countries: every spelling of these two countries in the sample
# export.
SPELLINGS = {
    "DE": {"de", "deu", "germany", "deutschland", "allemagne", "federalrepublicofgermany"},
    "JP": {"jp", "jpn", "japan", "nihon", "nippon", "日本"},
}


def _independent_nps(country: str) -> tuple[float, int, str]:
    """NPS of own-brand customers in the latest wave, straight from the Qualtrics CSV."""
    path = config.RAW_DIR / "relationship_survey.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, data = rows[0], rows[3:]
    col = {name: i for i, name in enumerate(header)}
    seen: set[str] = set()
    by_wave: dict[str, list[int]] = {}
    for row in data:
        rid = row[col["ResponseId"]]
        if rid in seen:
            continue  # duplicate submission: the first one counts
        seen.add(rid)
        spelled = "".join(ch for ch in row[col["Q1"]].casefold() if ch.isalnum())
        if spelled not in SPELLINGS[country] or row[col["Q4"]].strip() != "Contoso":
            continue
        when = datetime.strptime(row[col["RecordedDate"]], "%Y-%m-%d %H:%M:%S")
        wave = f"{when.year}-Q{(when.month - 1) // 3 + 1}"
        raw = row[col["Q5"]].strip()
        if raw.isdigit() and 0 <= int(raw) <= 10:
            by_wave.setdefault(wave, []).append(int(raw))
    wave = max(by_wave)
    scores = by_wave[wave]
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    return 100 * (promoters - detractors) / len(scores), len(scores), wave


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("build")
    processed, reports = root / "processed", root / "reports"
    build_processed(config.RAW_DIR, processed)
    result = build_reports(
        COUNTRIES, processed_dir=processed, reports_dir=reports, jobs=2, progress=False
    )
    return processed, reports, result


def test_build_succeeds_for_both_countries(built) -> None:
    _, reports, result = built
    assert result.ok, result.describe()
    for cc in COUNTRIES:
        for sub, ext in (
            ("html", "html"),
            ("review", "html"),
            ("notebooks", "ipynb"),
            ("metrics", "json"),
        ):
            assert (reports / sub / f"{cc}.{ext}").stat().st_size > 0
    assert (reports / "index.html").exists()
    assert not (reports / ".staging").exists()


@pytest.mark.parametrize("country", COUNTRIES)
def test_html_shows_the_nps_computed_from_the_raw_export(built, country) -> None:
    _, reports, _ = built
    score, n, wave = _independent_nps(country)
    page = (reports / "html" / f"{country}.html").read_text(encoding="utf-8")
    assert f"{score:+.1f}" in page
    assert f"{n:,}" in page
    metrics = json.loads((reports / "metrics" / f"{country}.json").read_text())
    assert metrics["country"] == country and metrics["wave"] == wave and metrics["n"] == n
    assert metrics["nps"]["score"] == pytest.approx(score, abs=1e-3)
    assert metrics["nps"]["ci_low"] < score < metrics["nps"]["ci_high"]
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert f'href="html/{country}.html"' in index and f"{score:+.1f}" in index


def test_distribution_version_hides_code_and_review_version_shows_it(built) -> None:
    _, reports, _ = built
    html = (reports / "html" / "DE.html").read_text(encoding="utf-8")
    review = (reports / "review" / "DE.html").read_text(encoding="utf-8")
    assert "load_country" not in html
    assert "load_country" in review
    for page in (html, review):
        for remote in ("cdn.jsdelivr", "MathJax.js", "require.min.js"):
            assert remote not in page


def test_second_build_with_nothing_changed_reruns_nothing(built) -> None:
    processed, reports, _ = built
    again = build_reports(COUNTRIES, processed_dir=processed, reports_dir=reports, progress=False)
    assert [o.status for o in again.outcomes] == ["up to date", "up to date"]
    # how fast this is (target under 2 s) is measured by benchmarks/bench_reports.py
    assert any("Nothing changed" in line for line in again.describe())


def test_the_fork_server_warms_up_while_the_cases_sync(built, monkeypatch) -> None:
    """The build starts its kernel fork server before it syncs the follow-up cases (so that the
    two run at once), and kills it at once when the plan finds nothing to run."""
    from csatlib.report import build as build_module
    from csatlib.report import execute

    processed, reports, _ = built
    events = []
    real_start, real_sync = execute._start_fork_server, build_module.sync_for_build

    def start(*args, **kwargs):
        server = real_start(*args, **kwargs)
        events.append("server")
        real_close = server.close
        server.close = lambda **k: events.append(("close", k)) or real_close(**k)
        return server

    monkeypatch.setattr(execute, "_start_fork_server", start)
    monkeypatch.setattr(
        build_module, "sync_for_build", lambda *a, **k: events.append("sync") or real_sync(*a, **k)
    )
    build_reports(COUNTRIES, processed_dir=processed, reports_dir=reports, progress=False)
    assert events[:2] == ["server", "sync"]
    assert events[2] == ("close", {"now": True})  # nothing changed: not needed


def test_unknown_country_is_a_clear_error(built) -> None:
    processed, reports, _ = built
    with pytest.raises(ReportError, match="available: .*DE"):
        build_reports(["ZZ"], processed_dir=processed, reports_dir=reports, progress=False)


def test_validate_executed_rejects_errors_and_unrun_cells() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1/0")])
    nb.cells[0].execution_count = 1
    nb.cells[0].outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="x")]
    with pytest.raises(ReportError, match="cell 0 raised ZeroDivisionError"):
        validate_executed(nb, name="t")
    nb.cells[0].outputs = []
    nb.cells[0].execution_count = None
    with pytest.raises(ReportError, match="did not run"):
        validate_executed(nb, name="t")


def test_index_escapes_errors_and_lists_failures(tmp_path: Path) -> None:
    outcomes = [
        CountryOutcome("DE", "failed", 1.0, "<script>alert(1)</script> broke"),
        CountryOutcome("JP", "built", 2.8),
    ]
    page = write_index(tmp_path, outcomes, seconds=1.0).read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<title>Customer satisfaction (NPS) reports</title>" in page
    # one build line, no time per row; the failure in the red box above the table
    assert "in 1.0 s; 1 report rebuilt, 1 failed</p>" in page
    assert "2.8" not in page
    box = page[page.index('<div class="failures">') : page.index("</div>")]
    assert page.index('<div class="failures">') < page.index("<table>")
    assert "<strong>Germany (DE)</strong>: <code>&lt;script&gt;alert(1)&lt;/script&gt; broke" in box
    assert "Japan" not in box


def _country_row(page: str, name: str) -> str:
    start = page.index(f"<tr><th>{name}</th>")
    return page[start : page.index("</tr>", start)]


def test_index_says_the_change_and_suppression_in_words(tmp_path: Path) -> None:
    def metrics(nps: dict, change: dict | None) -> dict:
        return {"wave": "2026-Q3", "previous_wave": "2026-Q2", "n": nps["n"], "min_n": 30,
                "nps": nps, "nps_change": change}  # fmt: skip

    shown = {"suppressed": False, "n": 300, "score": 10.0, "ci_low": 2.0, "ci_high": 18.0}
    cases = {
        "DE": metrics(shown, {"diff": -7.4, "p_value": 0.2, "q_value": 0.31})
        | {"targets": {"nps": {"target": 25.0, "due_wave": "2026-Q4", "status": "at risk"}}},
        "JP": metrics(shown, {"diff": 30.7, "p_value": 0.0001, "q_value": 0.0004}),
        "NA": metrics({"suppressed": True, "n": 16}, None),
    }
    for cc, data in cases.items():
        for sub in ("html", "metrics"):
            (tmp_path / sub).mkdir(exist_ok=True)
        (tmp_path / "html" / f"{cc}.html").write_text("<html></html>")
        (tmp_path / "metrics" / f"{cc}.json").write_text(json.dumps(data))
    outcomes = [CountryOutcome(cc, "up to date") for cc in cases]
    page = write_index(tmp_path, outcomes, seconds=3.25).read_text()
    assert "in 3.2 s; 0 reports rebuilt, 0 failed</p>" in page
    assert 'class="failures"' not in page
    de = _country_row(page, "Germany (DE)")
    assert "down 7.4 points since 2026-Q2, not a significant change</span>" in de
    assert 'title="q = 0.310: not significant at the 5% level"' in de
    assert 'href="html/DE.html"' in de
    assert "at risk (target +25.0 by 2026-Q4)" in de  # the scorecard's NPS status
    jp = _country_row(page, "Japan (JP)")
    assert "▲ up 30.7 points since 2026-Q2, significant</span>" in jp
    assert 'title="q &lt; 0.001: significant at the 5% level"' in jp
    assert "q = " not in page.replace('title="q', "")  # q-values only in title attributes
    na = _country_row(page, "Namibia (NA)")
    assert "not enough respondents (n = 16, fewer than 30)" in na
    assert "(target " not in jp + na  # units without a target show none
    assert "not available" not in page and "suppressed" not in na


def test_metrics_carry_scores_loyalty_screens_and_drivers(built) -> None:
    _, reports, _ = built
    metrics = json.loads((reports / "metrics" / "DE.json").read_text())
    assert {"nps", "nps_change", "csat", "loyalty", "screens", "drivers"} <= set(metrics)
    assert 0 <= metrics["loyalty"]["index"] <= 100 and 0 < metrics["loyalty"]["alpha"] < 1
    assert set(metrics["screens"].values()) <= {"problem", "best practice", "neutral", "suppressed"}
    ranks = sorted(d["rank"] for d in metrics["drivers"].values())
    assert ranks == list(range(1, len(ranks) + 1))
    shares = sum(d["share"] for d in metrics["drivers"].values())
    assert shares == pytest.approx(1.0, abs=1e-3)


def test_distribution_version_has_no_reviewer_notes_but_every_section(built) -> None:
    _, reports, _ = built
    html = (reports / "html" / "DE.html").read_text(encoding="utf-8")
    review = (reports / "review" / "DE.html").read_text(encoding="utf-8")
    for section in (
        "Executive summary",
        "Key drivers of loyalty",
        "Four screens",
        "What customers like and dislike",
        "Closing the loop",
        "Data quality",
    ):
        assert section in html
    assert "Set-up:" not in html and "Set-up:" in review
    assert "staging" not in html  # no path of the build leaks into the page
    # charts are images (SVG, drawn by csatlib.report.svg), not "<Figure ...>"
    assert html.count('<img src="data:image/svg+xml;base64,') >= 5
    assert "&lt;Figure" not in html
    # charts are described by their titles; code and output areas are keyboard-focusable
    assert 'alt="Likelihood to recommend, Germany' in html
    assert "No description has been provided" not in html
    assert 'tabindex="0" class="jp-RenderedImage jp-OutputArea-output' in html
    assert 'tabindex="0" class="jp-Cell-inputWrapper' in review


def test_render_html_gives_every_image_alt_text_and_reuses_its_exporters() -> None:
    from csatlib.report.render import _exporter, render_html

    png = (  # a 1x1 PNG
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python"}
    cell = nbformat.v4.new_code_cell("chart", execution_count=1)
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": png}),
        nbformat.v4.new_output(
            "display_data", data={"image/png": png}, metadata={"image/png": {"alt": 'A "<b>"'}}
        ),
    ]
    nb.cells = [cell]
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    cell.outputs.append(
        nbformat.v4.new_output(
            "display_data",
            data={"image/svg+xml": svg},
            metadata={"image/svg+xml": {"alt": "Chart <i>", "width": 700, "height": 360}},
        )
    )
    nb.cells = [cell]
    page = render_html(nb, with_code=True, title="t")
    assert 'alt="No description has been provided for this image"' in page
    assert 'alt="A &quot;&lt;b&gt;&quot;"' in page
    # an SVG is an image (a browser runs no script of an SVG shown by <img>), never inline
    encoded = base64.b64encode(svg.encode()).decode()
    assert f'<img src="data:image/svg+xml;base64,{encoded}"' in page and "<script>" not in page
    assert 'alt="Chart &lt;i&gt;"\nwidth=700\nheight=360' in page
    assert page.count('<div tabindex="0"') == 4  # the input and the three outputs
    assert _exporter(True) is _exporter(True) and _exporter(True) is not _exporter(False)


def test_reviewer_version_shows_code_that_holds_markup_as_text() -> None:
    # The reviewer template prints pygments' output without another sanitising pass: pygments
    # must escape every token, whatever the lexer makes of the source.
    import re

    from csatlib.report.render import render_html

    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            'note = "<script>alert(1)</script>"  # <img src=x onerror=alert(1)>', execution_count=1
        ),
        nbformat.v4.new_code_cell("<b>bold</b></div><script>alert(2)</script>", execution_count=2),
    ]
    page = render_html(nb, with_code=True, title="t")
    for markup in ("<script>alert", "<img src=x", "<b>bold", "</div><script>"):
        assert markup not in page
    text = re.sub(r'<span class="[^"]*">|</span>', "", page)  # pygments' token spans
    assert 'note = "&lt;script&gt;alert(1)&lt;/script&gt;"' in text
    assert "# &lt;img src=x onerror=alert(1)&gt;" in text
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;/div&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in text


def test_build_processes_skip_the_iri_grammars_and_still_validate_notebooks() -> None:
    # A fresh interpreter: here, the test session may have imported jsonschema already.
    import subprocess
    import sys
    import textwrap

    probe = textwrap.dedent(
        """
        import sys, csatlib.report.build, nbformat
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
        nbformat.validate(nb)
        del nb.cells[0]["outputs"]
        try:
            nbformat.validate(nb)
        except nbformat.ValidationError:
            print("rejected")
        print("jsonschema" in sys.modules, sys.modules.get("rfc3987_syntax", "absent"))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "rejected"  # validation still works
    assert out[1] == "True None"  # jsonschema loaded, its rfc3987_syntax checkers skipped


def test_an_imported_outcome_survives_a_rebuild_and_leaves_the_lists(built, tmp_path) -> None:
    """The issue's test: import an owner's outcome, rebuild, the outcome is still there; the
    closed case is gone from its list and the steering page counts it closed."""
    import pandas as pd

    from csatlib.loop.cases import read_cases
    from csatlib.report.steering import PAGE_NAME

    processed, reports, _ = built
    cases = read_cases(reports / "cases.sqlite")
    recovery = cases.loc[(cases["type"] == "recovery") & (cases["country"] == "DE")]
    case_id = recovery["case_id"].iloc[0]
    returned = tmp_path / "returned.csv"
    returned.write_text(
        f"Case,Status,Outcome,Closed\n{case_id},closed,called back: part shipped,\n",
        encoding="utf-8",
    )
    assert main(["cases", "import", str(returned), "--reports-dir", str(reports)]) == 0
    again = build_reports(COUNTRIES, processed_dir=processed, reports_dir=reports, progress=False)
    assert again.ok, again.describe()
    after = read_cases(reports / "cases.sqlite").set_index("case_id")
    assert after.loc[case_id, "status"] == "closed"
    assert after.loc[case_id, "outcome"] == "called back: part shipped"
    assert len(after) == len(cases)  # a rebuild neither drops nor duplicates a case
    listed = pd.read_csv(reports / "lists" / "followup" / "recovery_all.csv", dtype=str)
    assert case_id not in set(listed["Case"])
    assert len(listed) == int((cases["type"] == "recovery").sum()) - 1
    # DE's report was rebuilt (its cases changed) and JP's was not
    assert [o.status for o in again.outcomes] == ["built", "up to date"]
    assert "Quarterly review" in (reports / "index.html").read_text(encoding="utf-8")
    assert (reports / "html" / PAGE_NAME).is_file()
