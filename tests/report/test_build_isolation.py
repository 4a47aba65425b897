"""Failure isolation of the report build, the global summary, the lists step and the index page.

One build of five countries with a throwaway country notebook (written below, not the project's)
that misbehaves on purpose, per country:

- DE builds; ES's first kernel dies (``os._exit``), the retry builds;
- FR raises in a cell; JP sleeps past the cell timeout; NL's kernel dies every time.

It runs on a thread pool handed in as ``executor=`` (plain kernels, no fork-server start-up), so
the module stays fast; the default pre-warmed process pool goes through the same failure modes
in the slow test at the end. The notebook appends the country to an attempts log each time it
starts, which is how the tests count retries.
"""

from __future__ import annotations

import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import pytest
from support.notebooks import throwaway_notebook

from csatlib import config
from csatlib.report import build as build_module
from csatlib.report import execute, stamps
from csatlib.report.build import CountryOutcome, build_reports, write_index

COUNTRIES = ["DE", "ES", "FR", "JP", "NL"]
TIMEOUT = 4  # seconds per cell: JP's cell sleeps 600 s

# Headline figures the test notebook writes (made up; the index must show exactly these).
METRICS: dict[str, dict[str, Any]] = {
    "DE": {
        "wave": "2026-Q3",
        "previous_wave": "2026-Q2",
        "n": 250,
        "nps": {"suppressed": False, "n": 250, "score": 12.34, "ci_low": 4.5, "ci_high": 20.2},
        "nps_change": {"diff": 8.3, "p_value": 0.004},
    },
    "ES": {
        "wave": "2026-Q3",
        "previous_wave": "2026-Q2",
        "n": 12,
        "nps": {"suppressed": True, "n": 12},
        "nps_change": None,
    },
}


REVIEW_NOTE = "Reviewer note: how this stand-in works."


def country_notebook(path: Path, scratch: Path) -> Path:
    parameters = (
        'country: str = "DE"\nprocessed_dir: str = ""\nmin_n: int = 30\nmetrics_path: str = ""'
    )
    body = f"""\
import json
import os
import time
from pathlib import Path

SCRATCH = Path({str(scratch)!r})
with open(SCRATCH / "attempts.log", "a") as log:
    log.write(country + "\\n")
if country == "FR":
    raise ValueError("boom <b>FR</b>")
if (SCRATCH / f"{{country}}.fail").exists():
    raise RuntimeError("broken on purpose")
if country == "JP":
    time.sleep(600)
if country == "ES" and not (SCRATCH / "ES.died").exists():
    (SCRATCH / "ES.died").touch()
    os._exit(1)  # the first kernel dies; the retry finds the marker and goes on
if country == "NL":
    os._exit(1)  # every kernel dies
Path(metrics_path).write_text(json.dumps({{"country": country, **{METRICS!r}.get(country, {{}})}}))
print(f"report of {{country}} with min_n={{min_n}}")
"""
    return throwaway_notebook(path, parameters, body, review_note=REVIEW_NOTE)


def summary_notebook(path: Path, *, fail: bool = False) -> Path:
    """Stand-in for notebooks/global_summary.ipynb (same parameters)."""
    parameters = 'processed_dir: str = ""\nmin_n: int = 30\nwave: str = ""\nmetrics_path: str = ""'
    body = """\
import json  # stand-in code
from pathlib import Path

tables = sorted(p.name for p in Path(processed_dir).glob("*.parquet"))
print(f"GLOBAL SUMMARY of {len(tables)} tables, min_n={min_n}, wave={wave or 'latest'}")
Path(metrics_path).write_text(json.dumps({"tables": len(tables)}))
"""
    if fail:
        body = 'raise RuntimeError("the global summary broke")'
    return throwaway_notebook(path, parameters, body, review_note=REVIEW_NOTE)


class RecordingPool(ThreadPoolExecutor):
    """A thread pool that records what was submitted and how many tasks had finished by then."""

    def __init__(self, workers: int = 2) -> None:
        super().__init__(max_workers=workers)
        self.submitted: list[tuple[str, str, int]] = []
        self.finished = 0

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        name = getattr(args[0], "country", "lists") if args else ""
        self.submitted.append((fn.__name__, name, self.finished))
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(lambda _: setattr(self, "finished", self.finished + 1))
        return future


def attempts(scratch: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in (scratch / "attempts.log").read_text().split():
        counts[line] = counts.get(line, 0) + 1
    return counts


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from csatlib.ingest.clean import build_processed

    folder = tmp_path_factory.mktemp("isolation") / "processed"
    build_processed(config.RAW_DIR, folder)
    return folder


@pytest.fixture(scope="module")
def build(processed: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("isolation-build")
    scratch = root / "scratch"
    scratch.mkdir()
    notebooks = root / "notebooks"
    notebooks.mkdir()
    country_notebook(notebooks / "country_report.ipynb", scratch)
    summary_notebook(notebooks / "global_summary.ipynb")
    pool = RecordingPool(3)
    try:
        result = build_reports(
            COUNTRIES,
            processed_dir=processed,
            reports_dir=root / "reports",
            notebook=notebooks / "country_report.ipynb",
            summary_notebook=notebooks / "global_summary.ipynb",
            timeout=TIMEOUT,
            executor=pool,
            progress=False,
        )
    finally:
        pool.shutdown()
    return {
        "result": result,
        "reports": root / "reports",
        "scratch": scratch,
        "notebooks": notebooks,
        "processed": processed,
        "pool": pool,
        "attempts": attempts(scratch),
    }


def _status(result) -> dict[str, str]:
    return {o.country: o.status for o in result.outcomes}


def _copy_reports(build: dict[str, Any], tmp_path: Path) -> Path:
    copy = tmp_path / "reports"
    shutil.copytree(build["reports"], copy)
    return copy


def _row(index: str, country: str) -> str:
    match = re.search(
        rf"<tr><th>[^<]*\({country}\)</th>.*?</tr>|<tr><th>{country}</th>.*?</tr>",
        index,
        flags=re.S,
    )
    assert match, f"no row for {country} in the index"
    return match.group(0)


# ------------------------------------------------------------------------ failure isolation


def test_one_country_failing_does_not_stop_the_others(build) -> None:
    result, out = build["result"], build["reports"]
    assert _status(result) == {
        "DE": "built",
        "ES": "built",
        "FR": "failed",
        "JP": "failed",
        "NL": "failed",
    }
    assert not result.ok
    for cc in ("DE", "ES"):
        assert (out / "html" / f"{cc}.html").stat().st_size > 0
        assert not (out / "failed" / f"{cc}.ipynb").exists()
    for cc in ("FR", "JP", "NL"):
        assert not (out / "html" / f"{cc}.html").exists()
        assert not (out / "metrics" / f"{cc}.json").exists()
        assert "fingerprint" not in json.loads((out / ".build" / f"{cc}.json").read_text())
    assert not (out / ".staging").exists()


def test_failed_notebook_is_kept_with_its_error(build) -> None:
    failed = nbformat.read(build["reports"] / "failed" / "FR.ipynb", as_version=4)
    errors = [o for c in failed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any(o.get("ename") == "ValueError" and "boom" in o.get("evalue") for o in errors)
    error = next(o.error for o in build["result"].outcomes if o.country == "FR")
    assert error == "cell In [3] raised ValueError: boom <b>FR</b>"
    assert build["attempts"]["FR"] == 1  # an error in a cell is not retried


def test_describe_names_every_failure(build) -> None:
    lines = build["result"].describe()
    assert "FAILED FR: cell In [3] raised ValueError: boom <b>FR</b>" in lines
    assert lines[-1] == "3 failed: FR, JP, NL"
    assert any(line.endswith("failed/NL.ipynb") for line in lines)


def test_cell_timeout_fails_the_country_without_hanging_the_build(build) -> None:
    jp = next(o for o in build["result"].outcomes if o.country == "JP")
    assert f"timed out: still running after the {TIMEOUT} s cell timeout" in jp.error
    assert "cell In [3]" in jp.error
    assert jp.seconds < TIMEOUT + 20  # the cell would sleep 600 s
    assert build["attempts"]["JP"] == 1  # a timeout is not retried


def test_dead_kernel_is_retried_once_then_reported(build) -> None:
    by_country = {o.country: o for o in build["result"].outcomes}
    assert by_country["NL"].error.startswith("the kernel failed twice: DeadKernelError")
    assert build["attempts"]["NL"] == 2
    assert by_country["ES"].status == "built"  # died once, the retry worked
    assert build["attempts"]["ES"] == 2


def test_cli_exits_non_zero_and_names_the_failure(build, tmp_path, monkeypatch, capsys) -> None:
    from csatlib.cli import main

    out = _copy_reports(build, tmp_path)
    # The CLI takes the notebooks from config.NOTEBOOKS_DIR; a thread pool keeps the test fast.
    monkeypatch.setattr(config, "NOTEBOOKS_DIR", build["notebooks"])
    monkeypatch.setattr(execute, "_local_pool", lambda workers, prewarm: ThreadPoolExecutor(1))
    before = attempts(build["scratch"])
    code = main(
        [
            "reports",
            "--processed-dir",
            str(build["processed"]),
            "--out-dir",
            str(out),
            "--countries",
            "DE,FR",
            "--timeout",
            str(TIMEOUT),
            "--no-progress",
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert "FAILED FR: cell In [3] raised ValueError: boom <b>FR</b>" in lines
    assert lines[-1] == "1 failed: FR"
    after = attempts(build["scratch"])
    assert after["FR"] == before["FR"] + 1  # the failed country is retried ...
    assert after["DE"] == before["DE"]  # ... the one that built is up to date


def test_failed_rebuild_keeps_the_previous_report_and_retries_next_time(build, tmp_path) -> None:
    out = _copy_reports(build, tmp_path)
    published = {p: p.read_bytes() for p in stamps.published_paths(out, "DE").values()}
    # As if DE's inputs had changed since its last build; this time its notebook fails.
    (out / ".build" / "DE.json").write_text(json.dumps({"fingerprint": "stale"}))
    flag = build["scratch"] / "DE.fail"
    flag.touch()
    kwargs = dict(
        processed_dir=build["processed"],
        reports_dir=out,
        notebook=build["notebooks"] / "country_report.ipynb",
        summary_notebook=build["notebooks"] / "global_summary.ipynb",
        timeout=TIMEOUT,
        progress=False,
    )
    try:
        with ThreadPoolExecutor(1) as pool:
            failed = build_reports(["DE"], executor=pool, **kwargs)
    finally:
        flag.unlink()
    assert _status(failed) == {"DE": "failed"}
    assert failed.outcomes[0].error == "cell In [3] raised RuntimeError: broken on purpose"
    assert {p: p.read_bytes() for p in published} == published  # old report intact
    stamp = json.loads((out / ".build" / "DE.json").read_text())
    assert "fingerprint" not in stamp and stamp["status"] == "failed"
    assert (out / "failed" / "DE.ipynb").exists()
    row = _row(failed.index.read_text(encoding="utf-8"), "DE")
    assert "failed" in row and "broken on purpose" in row
    assert 'previous:</span> <a href="html/DE.html">' in row
    assert "+12.3" not in row  # the kept report's figures are not shown as current

    with ThreadPoolExecutor(1) as pool:
        again = build_reports(["DE"], executor=pool, **kwargs)
    assert _status(again) == {"DE": "built"}  # retried although nothing else changed
    assert not (out / "failed" / "DE.ipynb").exists()
    assert "fingerprint" in json.loads((out / ".build" / "DE.json").read_text())


def test_interrupted_build_publishes_nothing(build, tmp_path, monkeypatch) -> None:
    out = _copy_reports(build, tmp_path)
    published = {p: p.read_bytes() for p in stamps.published_paths(out, "DE").values()}
    (out / ".build" / "DE.json").write_text(json.dumps({"fingerprint": "stale"}))
    real_render = build_module.render_html

    def interrupted(nb, *, with_code, title):
        if with_code:  # Ctrl-C after the distribution version was rendered
            raise KeyboardInterrupt
        return real_render(nb, with_code=with_code, title=title)

    monkeypatch.setattr(build_module, "render_html", interrupted)
    with ThreadPoolExecutor(1) as pool, pytest.raises(KeyboardInterrupt):
        build_reports(
            ["DE"],
            processed_dir=build["processed"],
            reports_dir=out,
            notebook=build["notebooks"] / "country_report.ipynb",
            summary_notebook=build["notebooks"] / "global_summary.ipynb",
            timeout=TIMEOUT,
            executor=pool,
            progress=False,
        )
    assert {p: p.read_bytes() for p in published} == published
    assert not [p for p in (out / ".staging").rglob("*") if p.is_file()]
    # The stamp still says "stale", so the next run rebuilds DE.
    assert json.loads((out / ".build" / "DE.json").read_text()) == {"fingerprint": "stale"}


# ------------------------------------------------------------------ global summary and lists


def test_global_summary_is_built_with_its_parameters(build) -> None:
    out, result = build["reports"], build["result"]
    assert result.summary is not None and result.summary.status == "built"
    page = (out / "html" / "global.html").read_text(encoding="utf-8")
    review = (out / "review" / "global.html").read_text(encoding="utf-8")
    tables = len(list(build["processed"].glob("*.parquet")))  # 3 kinds, 4 organisation tables
    assert f"GLOBAL SUMMARY of {tables} tables, min_n=30, wave=latest" in page
    assert "stand-in code" in review and "stand-in code" not in page
    # Cells tagged review-only appear in the reviewer version only.
    assert "Reviewer note" in review and "Reviewer note" not in page
    assert json.loads((out / "metrics" / "global.json").read_text()) == {"tables": tables}


def test_index_links_the_global_summary_above_the_table(build) -> None:
    index = build["result"].index.read_text(encoding="utf-8")
    link = index.index('<a href="html/global.html">Global summary: all countries side by side</a>')
    assert link < index.index("<table>")
    assert 'href="review/global.html"' in index


def test_everything_is_submitted_to_the_executor_up_front(build) -> None:
    submitted = build["pool"].submitted
    assert sorted(name for _, name, _ in submitted) == sorted([*COUNTRIES, "global", "lists"])
    assert ("_run_lists", "lists", 0) in submitted  # the lists run in the pool, beside the rest
    assert {done for _, _, done in submitted} == {0}  # nothing had finished: all side by side
    assert build["result"].lists is not None and build["result"].lists.status == "built"
    assert (build["reports"] / "lists" / "accounts" / "at_risk_all.csv").exists()


def test_missing_global_notebook_is_skipped_with_a_note(build, tmp_path) -> None:
    out = _copy_reports(build, tmp_path)
    result = build_reports(
        ["DE"],
        processed_dir=build["processed"],
        reports_dir=out,
        notebook=build["notebooks"] / "country_report.ipynb",
        summary_notebook=tmp_path / "global_summary.ipynb",
        timeout=TIMEOUT,
        progress=False,
    )
    assert result.ok and result.summary is None and _status(result) == {"DE": "up to date"}
    assert any("Global summary skipped" in note for note in result.notes)


def test_failing_global_summary_is_reported_like_a_country(build, tmp_path) -> None:
    out = _copy_reports(build, tmp_path)
    broken = summary_notebook(tmp_path / "global_summary.ipynb", fail=True)
    with ThreadPoolExecutor(1) as pool:
        result = build_reports(
            ["DE"],
            processed_dir=build["processed"],
            reports_dir=out,
            notebook=build["notebooks"] / "country_report.ipynb",
            summary_notebook=broken,
            timeout=TIMEOUT,
            executor=pool,
            progress=False,
        )
    assert not result.ok and result.summary is not None
    assert result.summary.status == "failed"
    assert "RuntimeError: the global summary broke" in result.summary.error
    assert result.describe()[-1] == "1 failed: global summary"
    assert (out / "failed" / "global.ipynb").exists()
    index = result.index.read_text(encoding="utf-8")
    assert "Global summary failed" in index and "the global summary broke" in index
    assert "Previous version kept" in index  # the earlier global.html is still published


# ------------------------------------------------------------------------------- the index


def test_index_from_the_build_shows_the_notebooks_figures(build) -> None:
    index = build["result"].index.read_text(encoding="utf-8")
    de = _row(index, "DE")
    assert "<strong>+12.3</strong>" in de and "(+4.5 to +20.2)" in de
    # the change in words for managers; the p-value only in the title attribute
    assert '<span class="up" title="p = 0.004: significant at the 5% level">' in de
    assert "▲ up 8.3 points since 2026-Q2, significant</span>" in de
    assert 'href="html/DE.html"' in de and 'href="review/DE.html"' in de
    es = _row(index, "ES")
    assert "not enough respondents (n = 12" in es
    fr = _row(index, "FR")
    assert "boom &lt;b&gt;FR&lt;/b&gt;" in fr and "<b>FR" not in fr
    assert all(f"({c})" in index.split("<table")[0] for c in ("FR", "JP", "NL"))  # red box
    assert "<script" not in index


def _write_metrics(reports_dir: Path, country: str, metrics: dict[str, Any]) -> None:
    for sub in ("html", "metrics"):
        (reports_dir / sub).mkdir(parents=True, exist_ok=True)
    (reports_dir / "html" / f"{country}.html").write_text("<html></html>")
    (reports_dir / "metrics" / f"{country}.json").write_text(json.dumps(metrics))


def _metrics(score: float | None, *, n: int = 300, change: dict | None = None) -> dict[str, Any]:
    nps = (
        {"suppressed": True, "n": n}
        if score is None
        else {"suppressed": False, "n": n, "score": score, "ci_low": -1.0, "ci_high": 1.0}
    )
    return {"wave": "2026-Q3", "previous_wave": "2026-Q2", "n": n, "nps": nps, "nps_change": change}


def test_index_change_arrows_follow_significance(tmp_path) -> None:
    cases = {
        "AA": _metrics(10.0, change={"diff": -6.25, "p_value": 0.01}),  # significant drop
        "BB": _metrics(10.0, change={"diff": 6.0, "p_value": 0.049}),  # significant rise
        "CC": _metrics(10.0, change={"diff": 6.0, "p_value": 0.05}),  # not below 5%
        "DD": _metrics(10.0, change=None),  # previous wave suppressed
        "EE": {**_metrics(10.0), "previous_wave": None},  # first wave
    }
    for cc, metrics in cases.items():
        _write_metrics(tmp_path, cc, metrics)
    outcomes = [CountryOutcome(cc, "up to date") for cc in cases]
    index = write_index(tmp_path, outcomes, seconds=1.0).read_text(encoding="utf-8")
    assert "▼ down 6.2 points" in _row(index, "AA") and "p = 0.010" in _row(index, "AA")
    assert "▲ up 6.0 points" in _row(index, "BB") and "p = 0.049" in _row(index, "BB")
    assert "▲" not in _row(index, "CC") and "not a significant change" in _row(index, "CC")
    assert "not tested" in _row(index, "DD")
    assert "no previous wave" in _row(index, "EE")


def test_index_never_shows_a_number_for_a_suppressed_nps(tmp_path) -> None:
    # A score that slipped into a suppressed cell must not reach the page.
    sneaky = _metrics(None, n=12)
    sneaky["nps"].update(score=77.7, ci_low=70.1, ci_high=85.3)
    sneaky["nps_change"] = {"diff": 55.5, "p_value": 0.001}
    _write_metrics(tmp_path, "AA", sneaky)
    row = _row(
        write_index(tmp_path, [CountryOutcome("AA", "built", 2.0)], seconds=1.0).read_text(
            encoding="utf-8"
        ),
        "AA",
    )
    assert "not enough respondents (n = 12" in row
    for number in ("77.7", "70.1", "85.3", "55.5"):
        assert number not in row


def test_index_survives_malformed_metrics_and_lists_unbuilt_countries(tmp_path) -> None:
    _write_metrics(tmp_path, "AA", {"nps": "<b>oops</b>", "wave": "<i>w</i>", "extra": [1, 2]})
    (tmp_path / "html" / "BB.html").write_text("<html></html>")  # published, metrics file gone
    outcomes = [
        CountryOutcome("AA", "up to date"),
        CountryOutcome("BB", "not selected"),
        CountryOutcome("CC", "not selected"),
    ]
    index = write_index(tmp_path, outcomes, seconds=1.0).read_text(encoding="utf-8")
    assert "<b>oops" not in index and "<i>w</i>" not in index and "&lt;i&gt;w" in index
    assert "not rebuilt in this run" in _row(index, "BB")
    assert "no report yet" in _row(index, "CC") and "href" not in _row(index, "CC")


@pytest.mark.parametrize(("option", "value"), [("timeout", 0), ("timeout", 2.5), ("jobs", 0)])
def test_bad_timeout_or_jobs_is_a_clear_error(tmp_path, option, value) -> None:
    from csatlib.errors import ReportError

    with pytest.raises(ReportError, match=f"{option} must be a whole number of at least 1"):
        build_reports(processed_dir=tmp_path, reports_dir=tmp_path, **{option: value})


# --------------------------------------------------------------- the default process pool


@pytest.mark.slow
def test_default_prewarmed_pool_isolates_the_same_failures(build, tmp_path) -> None:
    result = build_reports(
        COUNTRIES,
        processed_dir=build["processed"],
        reports_dir=_copy_reports(build, tmp_path),
        notebook=build["notebooks"] / "country_report.ipynb",
        summary_notebook=build["notebooks"] / "global_summary.ipynb",
        timeout=TIMEOUT,
        force=True,
        jobs=2,
        progress=False,
    )
    by_country = {o.country: o for o in result.outcomes}
    assert {cc: o.status for cc, o in by_country.items()} == _status(build["result"])
    assert by_country["FR"].error == "cell In [3] raised ValueError: boom <b>FR</b>"
    assert "timed out" in by_country["JP"].error
    assert by_country["NL"].error.startswith("the kernel failed twice")
    assert result.summary is not None and result.summary.status == "built"
    assert result.lists is not None and result.lists.status == "built"
