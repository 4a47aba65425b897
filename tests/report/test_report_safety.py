"""Customer text is escaped wherever it reaches a report's HTML: payloads injected into the raw
export come out as visible text, never as markup that runs."""

from __future__ import annotations

import csv
import shutil

import pytest

from csatlib import config
from csatlib.ingest.clean import build_processed
from csatlib.report.build import build_reports

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
DOLLARS = "we paid $5 and now $10 per seat"
# Each payload rides on words the CIT rule coder recognises, so that it is quoted in the report.
LIKES = [
    f"{SCRIPT} delivery always on time",
    f"{IMG} support very responsive",
    f"invoices always correct {DOLLARS}",
]


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    root = tmp_path_factory.mktemp("inject")
    raw = root / "raw"
    shutil.copytree(config.RAW_DIR, raw)
    path = raw / "relationship_survey.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    col = {name: i for i, name in enumerate(rows[0])}
    changed = 0
    for row in rows[3:]:
        if row[col["Q1"]].strip().casefold() in {"de", "deu", "germany", "deutschland"}:
            row[col["Q11"]] = "\n".join(f"- {like}" for like in LIKES)
            row[col["Q2"]] = f"{IMG} Account GmbH"
            row[col["Q13"]] = f"{SCRIPT} {DOLLARS}"
            changed += 1
    assert changed > 1000
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    build_processed(raw, root / "processed")
    result = build_reports(
        ["DE"], processed_dir=root / "processed", reports_dir=root / "reports", progress=False
    )
    assert result.ok, result.describe()
    return root / "reports"


@pytest.mark.slow
@pytest.mark.parametrize("version", ["html", "review"])
def test_payloads_show_as_text_and_never_run(injected, version) -> None:
    page = (injected / version / "DE.html").read_text(encoding="utf-8")
    assert "delivery always on time" in page  # the quotes did reach the report
    for payload in (SCRIPT, IMG, "onerror=alert(1)>"):
        assert payload not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # the only <script> tags are nbconvert's own (none from a CDN), never a payload
    assert page.count("<script") == page.count("<script>") + page.count("<script type=")
    assert "MathJax" not in page  # "$5 and $10" cannot be typeset as mathematics


@pytest.mark.slow
def test_index_and_lists_are_inert(injected) -> None:
    index = (injected / "index.html").read_text(encoding="utf-8")
    assert SCRIPT not in index and IMG not in index
    for path in (injected / "lists").rglob("*.csv"):
        text = path.read_text(encoding="utf-8-sig")
        assert "\n=" not in text and ",=" not in text and "\n+" not in text
