"""The reports in a real browser: headless Chromium, network blocked, JavaScript errors collected.

The first tests prove the check itself can fail (a thrown error, a CDN script and a missing local
file are each reported); the others build two countries' reports (DE, and NA whose cells are all
below the small-cell minimum) and open the index, both versions of DE's report and NA's report.
Screenshots are written to each test's temporary folder.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest
from support.browser import BrowserError, BrowserUnavailable, PageCheck, check_page, ensure_chromium

from csatlib import config

pytestmark = pytest.mark.browser

COUNTRIES = ["DE", "NA"]


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Chromium's executable, installed by `make browser` (not here); else skip, saying why."""
    try:
        return ensure_chromium(install=False)
    except BrowserUnavailable as exc:
        pytest.skip(f"no headless Chromium: {exc}")


@pytest.fixture(scope="module")
def reports(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """reports/ built from the sample raw data for DE and NA (only once Chromium is known)."""
    from csatlib.ingest.clean import build_processed
    from csatlib.report.build import build_reports

    root = tmp_path_factory.mktemp("browser-build")
    build_processed(config.RAW_DIR, root / "processed")
    result = build_reports(
        COUNTRIES,
        processed_dir=root / "processed",
        reports_dir=root / "reports",
        jobs=2,
        progress=False,
    )
    assert result.ok, "\n".join(result.describe())
    return root / "reports"


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def _page(tmp_path: Path, head: str, body: str) -> Path:
    path = tmp_path / "page.html"
    path.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Probe</title>{head}</head>'
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )
    return path


def _chart_png() -> str:
    from base64 import b64encode

    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=50)
    fig.subplots().plot([1, 3, 2])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return b64encode(buffer.getvalue()).decode()


# --- the check itself ------------------------------------------------------------------------


def test_clean_page_passes_and_counts_tables_and_charts(chromium: Path, tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        "<style>td { padding: 4px }</style>",
        "<h1>Net Promoter Score</h1><table><tr><td>NPS</td><td>+12.0</td></tr></table>"
        f'<img alt="chart" src="data:image/png;base64,{_chart_png()}">'
        '<p style="display:none">hidden words</p>',
    )
    check = check_page(page, chromium=chromium, screenshot=tmp_path / "probe.png")
    assert check.ok, check.describe()
    assert (check.title, check.tables, check.images) == ("Probe", 1, 1)
    assert "+12.0" in check.text and "hidden words" not in check.text  # innerText: visible only
    assert _png_size(tmp_path / "probe.png") == (1280, 900)  # shorter page: one viewport


def test_thrown_error_and_console_error_are_caught(chromium: Path, tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        "",
        "<p>text</p><script>console.error('bad value', 42);</script>"
        '<script>throw new Error("boom")</script>'
        "<script>setTimeout(() => { throw new TypeError('late') }, 20)</script>",
    )
    check = check_page(page, chromium=chromium)
    assert not check.ok
    assert len(check.errors) == 3, check.errors
    assert check.errors[0] == "console.error: bad value 42"
    assert check.errors[1].startswith("uncaught Error: boom at file://")
    assert check.errors[2].startswith("uncaught TypeError: late")  # raised after the load event
    assert check.requests_blocked == ()


def test_cdn_requests_are_blocked_and_reported(chromium: Path, tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        '<link rel="stylesheet" href="https://cdn.example.org/lab.css">'
        '<script src="https://cdn.example.org/x.js"></script>',
        '<p id="p">offline</p><img src="missing.png" alt="">'
        "<script>document.getElementById('p').textContent = typeof window.CdnThing;</script>",
    )
    check = check_page(page, chromium=chromium)
    assert check.requests_blocked == (
        "https://cdn.example.org/lab.css",
        "https://cdn.example.org/x.js",
    )
    assert check.text.strip() == "undefined"  # the page ran without the CDN script
    assert len(check.requests_failed) == 1
    assert check.requests_failed[0].endswith("missing.png (net::ERR_FILE_NOT_FOUND)")
    assert check.errors == ()  # a blocked request is a network finding, not a JavaScript error
    assert not check.ok


def test_missing_page_is_an_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(BrowserError, match=r"expected an HTML file at .*nowhere\.html"):
        check_page(tmp_path / "nowhere.html")


# --- the reports -----------------------------------------------------------------------------


def _nps_text(reports: Path, country: str) -> str:
    """The headline NPS as the report prints it (one decimal, signed), or 'suppressed'."""
    nps = json.loads((reports / "metrics" / f"{country}.json").read_text())["nps"]
    return "suppressed" if nps.get("suppressed") else f"{nps['score']:+.1f}"


def _open(reports: Path, page: str, chromium: Path, tmp_path: Path) -> PageCheck:
    shot = tmp_path / (page.replace("/", "_").removesuffix(".html") + ".png")
    check = check_page(reports / page, chromium=chromium, screenshot=shot, timeout=30)
    assert check.ok, "\n".join(check.describe())
    assert check.screenshot == shot and shot.stat().st_size > 10_000
    width, height = _png_size(shot)
    assert width == 1280 and height >= 300
    return check


@pytest.mark.parametrize(
    ("page", "title"),
    [
        ("index.html", "Customer satisfaction (NPS) reports"),
        ("html/DE.html", "CSAT report Germany (DE)"),
        ("review/DE.html", "CSAT report Germany (DE)"),
        ("html/NA.html", "CSAT report Namibia (NA)"),
    ],
)
def test_report_opens_offline_without_errors(
    chromium: Path, reports: Path, tmp_path: Path, page: str, title: str
) -> None:
    check = _open(reports, page, chromium, tmp_path)
    assert check.title == title
    assert "Net Promoter Score" in check.text
    assert check.tables >= 1
    countries = COUNTRIES if page == "index.html" else [title[-3:-1]]
    for country in countries:
        shown = _nps_text(reports, country)
        if page == "index.html" and shown == "suppressed":  # the index says it in words
            shown = "not enough respondents"
        assert shown in check.text, f"{country}'s NPS not visible"


def test_distribution_report_shows_chart_and_no_code(
    chromium: Path, reports: Path, tmp_path: Path
) -> None:
    html = _open(reports, "html/DE.html", chromium, tmp_path)
    review = _open(reports, "review/DE.html", chromium, tmp_path)
    assert "from csatlib.report import (" in review.text  # the reviewer sees the code ...
    assert "from csatlib.report import (" not in html.text  # ... the country manager does not
    leaked = [s for s in ("<Figure size", "PosixPath(", ".staging") if s in html.text]
    assert leaked == [], f"Python object reprs visible in the distribution report: {leaked}"
    assert html.images >= 1, "no chart drawn in html/DE.html"


#: The distribution version of a typical country, sections folded, fits five 1280 x 800 screens.
SCREEN_HEIGHT, SCREENS = 800, 5


@pytest.mark.parametrize("country", COUNTRIES)
def test_a_managers_page_fits_five_screens_and_has_no_code_or_empty_tables(
    chromium: Path, reports: Path, tmp_path: Path, country: str
) -> None:
    import re

    import pandas as pd

    check = _open(reports, f"html/{country}.html", chromium, tmp_path)
    assert check.height <= SCREENS * SCREEN_HEIGHT, (
        f"html/{country}.html is {check.height} px high, more than {SCREENS} screens of "
        f"{SCREEN_HEIGHT} px (screenshot {check.screenshot})"
    )
    assert check.empty_tables == 0, "a table with headers only"
    words = set(re.findall(r"[\w.-]+", check.text))
    assert not words & {"nan", "NaN", "None", "NaT", "<NA>"}, words & {"nan", "None", "NaN"}
    columns = pd.read_parquet(reports.parent / "processed" / "responses.parquet").columns
    canonical = {c for c in columns if "_" in c}  # plain words like "wave" may be prose
    assert not canonical & words, f"codebook names in the manager's text: {canonical & words}"


def test_a_small_countrys_page_says_once_what_it_cannot_show(
    chromium: Path, reports: Path, tmp_path: Path
) -> None:
    check = _open(reports, "html/NA.html", chromium, tmp_path)
    assert check.text.count("Too few answers for part of this report") == 1
    assert "suppressed (n =" not in check.text  # no section of suppressed cells
    assert "Data quality" in check.text  # what the answers allow is still shown
