"""Any survey a team brings: studies shaped unlike the sample build every report end to end.

Each study of tests/support/studies.py is cleaned with ``build_processed`` and built with
``build_reports`` (what ``csat reports`` and ``make reports`` run): every country's report in
both versions, the global summary, the lists and the index. A section whose inputs the study
lacks is replaced by one line saying what it would need; nothing shows a traceback, "nan" or an
empty table. One study also passes the headless-browser check.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from support.studies import SHAPES, write_study

from csatlib import roles
from csatlib.ingest.clean import build_processed, load_processed
from csatlib.report.build import build_reports
from csatlib.report.sections import SECTIONS, sections_of
from csatlib.stats import nps

pytestmark = pytest.mark.slow

# Which optional sections each study has (the rest are replaced by their one line); every study
# has the NPS and its trends.
EXPECTED_SECTIONS = {
    "nps_only": set(),
    "five_point": {
        "overall",
        "attributes",
        "attribute_ratings",
        "loyalty",
        "drivers",
        "pareto",
        "screens",
    },
    "seven_point": {
        "attributes",
        "attribute_ratings",
        "expectations",
        "drivers",
        "stated_importance",
        "pareto",
        "screens",
        "likes",
        "dislikes",
        "accounts",
        "followups",
    },
    "zero_ten_tx": {
        "attributes",
        "attribute_ratings",
        "drivers",
        "pareto",
        "screens",
        "accounts",
        "followups",
        "transactions",
    },
}


@pytest.fixture(scope="module")
def chromium_exe() -> Path | None:
    from support.browser import BrowserUnavailable, ensure_chromium

    try:
        return ensure_chromium(install=True)
    except BrowserUnavailable:
        return None


@pytest.fixture(scope="module", params=sorted(SHAPES))
def study(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    shape = SHAPES[request.param]
    root = tmp_path_factory.mktemp(shape.name)
    write_study(root / "raw", shape)
    build_processed(root / "raw", root / "processed")
    result = build_reports(
        processed_dir=root / "processed", reports_dir=root / "reports", jobs=2, progress=False
    )
    return {"shape": shape, "root": root, "result": result}


def test_every_report_builds(study: dict) -> None:
    result, shape = study["result"], study["shape"]
    assert result.ok, "\n".join(result.describe())
    reports = study["root"] / "reports"
    for country in shape.countries:
        for folder in ("html", "review"):
            assert (reports / folder / f"{country}.html").is_file()
        assert (reports / "metrics" / f"{country}.json").is_file()
    assert (reports / "html" / "global.html").is_file()
    assert (reports / "index.html").is_file()


def test_sections_follow_the_roles(study: dict) -> None:
    shape, root = study["shape"], study["root"]
    sections = sections_of(root / "processed")
    assert set(sections.available) == EXPECTED_SECTIONS[shape.name] | {"nps", "trends"}
    page = (root / "reports" / "html" / f"{next(iter(shape.countries))}.html").read_text("utf-8")
    for section in SECTIONS:
        line = f"{section.title}: not in this study"
        assert (line in page) == (section.key not in sections.available), section.key


def test_no_traceback_nan_or_empty_table(study: dict) -> None:
    reports = study["root"] / "reports"
    for page in [*(reports / "html").glob("*.html"), reports / "index.html"]:
        text = page.read_text("utf-8")
        visible = re.sub(
            r"<[^>]+>", " ", re.sub(r"<(style|script)[^>]*>.*?</\1>", "", text, flags=re.S)
        )
        assert "Traceback" not in visible, page.name
        assert "Warning:" not in visible and str(study["root"]) not in visible, page.name
        assert not re.search(r"\b(nan|NaN|None|<NA>)\b", visible), page.name
        for body in re.findall(r"<tbody>(.*?)</tbody>", text, flags=re.S):
            assert "<tr" in body, f"{page.name}: a table with headers only"


def test_revenue_at_stake_only_where_the_study_has_revenue(study: dict) -> None:
    shape, reports = study["shape"], study["root"] / "reports" / "html"
    page = (reports / f"{next(iter(shape.countries))}.html").read_text("utf-8")
    assert ("Revenue at stake (USD)" in page) == (shape.account and shape.revenue)
    assert "without revenue on file" not in page or shape.revenue


def test_metrics_recompute_the_nps(study: dict) -> None:
    shape, root = study["shape"], study["root"]
    responses = load_processed("responses", root / "processed")
    country = next(iter(shape.countries))
    metrics = json.loads((root / "reports" / "metrics" / f"{country}.json").read_text())
    rows = roles.own_customers(responses)  # the report's NPS is of our own customers
    rows = rows.loc[(rows["country"] == country) & (rows["wave"] == metrics["wave"])]
    scores = rows[shape.nps_name].dropna().to_numpy()
    expected = nps.nps(scores).score
    assert metrics["nps"]["score"] == pytest.approx(expected, abs=5e-5)
    assert metrics["nps"]["score"] == round(expected, 4)
    promoters, detractors = np.mean(scores >= 9), np.mean(scores <= 6)
    assert metrics["nps"]["score"] == pytest.approx(100 * (promoters - detractors), abs=5e-5)


def test_lists_say_what_they_lack(study: dict) -> None:
    shape, lists = study["shape"], study["root"] / "reports" / "lists"
    readme = (lists / "README.txt").read_text("utf-8")
    if not shape.account:
        assert "account" in readme
        assert not list(lists.glob("accounts/at_risk_*.csv"))
    if not shape.transactions:
        assert "transaction survey" in readme


def test_a_study_passes_the_browser_check(
    study: dict, tmp_path: Path, chromium_exe: Path | None
) -> None:
    if study["shape"].name != "five_point":
        pytest.skip("one study is enough for the browser check")
    if chromium_exe is None:
        pytest.skip("no headless Chromium")
    from support.browser import check_page

    reports = study["root"] / "reports"
    for page in (
        reports / "index.html",
        reports / "html" / "US.html",
        reports / "html" / "NA.html",
    ):
        check = check_page(page, screenshot=tmp_path / f"{page.stem}.png", chromium=chromium_exe)
        assert check.ok, "\n".join(check.describe())
        assert check.text_length > 200


def test_switching_studies_leaves_nothing_of_the_first(tmp_path: Path) -> None:
    # What `make reports RAW_DIR=...` does after the sample: the second study's tables replace
    # the first's, and the first study's countries leave reports/ (listed nowhere, openable).
    write_study(tmp_path / "first", "zero_ten_tx")
    write_study(tmp_path / "second", "nps_only")
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    build_processed(tmp_path / "first", processed)
    assert build_reports(processed_dir=processed, reports_dir=reports, progress=False).ok
    assert (reports / "html" / "GB.html").is_file()
    build_processed(tmp_path / "second", processed)
    assert not (processed / "transactions.parquet").exists()
    result = build_reports(processed_dir=processed, reports_dir=reports, progress=False)
    assert result.ok, "\n".join(result.describe())
    assert not (reports / "html" / "GB.html").exists()
    assert not (reports / "metrics" / "IE.json").exists()
    assert (reports / "html" / "FR.html").is_file()
    assert "Removed the reports of GB, IE" in " ".join(result.notes)
    index = (reports / "index.html").read_text("utf-8")
    assert "GB.html" not in index and "FR.html" in index
    assert not list((reports / "lists").glob("followup/*.csv"))


def test_reviewer_version_shows_provenance_and_no_staging_path(study: dict) -> None:
    reports = study["root"] / "reports"
    country = next(iter(study["shape"].countries))
    review = (reports / "review" / f"{country}.html").read_text("utf-8")
    assert "SHA-256" in review and "csatlib version" in review
    assert ".staging" not in review
    assert ".staging" not in (reports / "notebooks" / f"{country}.ipynb").read_text("utf-8")
    assert "SHA-256" not in (reports / "html" / f"{country}.html").read_text("utf-8")
