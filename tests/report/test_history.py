"""The history store: every wave kept, a wave recorded again replaced, a build all or nothing.

Figures are hand-made metrics (the shape :func:`csatlib.report.metrics.report_metrics` writes),
so each expected value is the one put in; the build test runs a throwaway notebook through
:func:`csatlib.report.build.build_reports` for two waves, by country and by segment.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from support.notebooks import throwaway_notebook

from csatlib.errors import DataError, ReportError
from csatlib.ingest.clean import _write_parquet
from csatlib.report import build, history


def _metrics(wave: str, nps: float, *, delivery: float = 7.5) -> dict[str, Any]:
    return {
        "country": "DE",
        "wave": wave,
        "nps": {"suppressed": False, "n": 120, "score": nps, "ci_low": nps - 8, "ci_high": nps + 8},
        "csat": {
            "overall_satisfaction": {
                "suppressed": False,
                "n": 118,
                "mean": 7.9,
                "ci_low": 7.7,
                "ci_high": 8.1,
                "top_box": 0.38,
            },
            "delivery": {
                "suppressed": False,
                "n": 110,
                "mean": delivery,
                "ci_low": delivery - 0.2,
                "ci_high": delivery + 0.2,
                "top_box": 0.26,
            },
        },
        "loyalty": {
            "suppressed": False,
            "n": 100,
            "index": 0.61,
            "ci_low": 0.55,
            "ci_high": 0.67,
            "alpha": 0.82,
        },
    }


def _rows(wave: str, nps: float, **kwargs: Any) -> pd.DataFrame:
    de = history.metric_rows(_metrics(wave, nps, **kwargs), unit="DE", value="DE")
    fr = history.metric_rows(
        {"wave": wave, "nps": {"suppressed": True, "n": 12}}, unit="FR", value="FR"
    )
    return pd.concat([de, fr], ignore_index=True)


def _estimate(frame: pd.DataFrame, unit: str, wave: str, metric: str) -> float:
    row = frame.loc[(frame["unit"] == unit) & (frame["wave"] == wave) & (frame["metric"] == metric)]
    assert len(row) == 1
    return float(row["estimate"].iloc[0])


def test_metric_rows_name_each_metric_and_keep_a_suppressed_n() -> None:
    rows = _rows("2026-Q1", 20.0)
    assert list(rows["metric"]) == [
        "nps",
        "csat:overall_satisfaction",
        "csat:delivery",
        "loyalty_index",
        "nps",
    ]
    de_nps = rows.iloc[0]
    assert (de_nps["estimate"], de_nps["ci_low"], de_nps["ci_high"], de_nps["n"]) == (
        20.0,
        12.0,
        28.0,
        120,
    )
    assert rows.iloc[3]["estimate"] == 0.61  # the loyalty block's "index"
    fr = rows.iloc[4]
    assert fr["suppressed"] and fr["n"] == 12 and fr["estimate"] is None
    # no wave, nothing to place in time; a figure that is not a number is refused
    assert history.metric_rows({"nps": {"score": 1.0}}, unit="DE").empty
    with pytest.raises(DataError, match="DE nps: 'score' must be a number or null; found 'high'"):
        history.metric_rows({"wave": "2026-Q1", "nps": {"score": "high"}}, unit="DE")


def test_waves_accumulate_and_a_wave_recorded_again_replaces_its_rows(tmp_path: Path) -> None:
    assert history.history(tmp_path).empty  # nothing recorded yet: no store either
    assert history.record_build(tmp_path, _rows("2026-Q1", 20.0), build_id="b1") == 5
    history.record_build(tmp_path, _rows("2026-Q2", 25.0), build_id="b2")
    assert len(history.history(tmp_path)) == 10
    # the second wave again, with other figures: same number of rows, the new values
    history.record_build(tmp_path, _rows("2026-Q2", 31.0, delivery=8.0), build_id="b3")
    again = history.history(tmp_path)
    assert len(again) == 10
    assert _estimate(again, "DE", "2026-Q2", "nps") == 31.0
    assert _estimate(again, "DE", "2026-Q2", "csat:delivery") == 8.0
    assert set(again.loc[again["wave"] == "2026-Q2", "build_id"]) == {"b3"}
    # a unit's wave recorded again without a metric loses it for that wave only
    de = history.metric_rows(_metrics("2026-Q2", 33.0), unit="DE", value="DE")
    history.record_build(tmp_path, de.query("metric != 'loyalty_index'"), build_id="b4")
    # a third wave never loses the first
    history.record_build(tmp_path, _rows("2026-Q3", 40.0), build_id="b5")
    kept = history.history(tmp_path, unit="DE")
    assert list(kept.loc[kept["metric"] == "nps", "wave"]) == ["2026-Q1", "2026-Q2", "2026-Q3"]
    assert list(kept.loc[kept["metric"] == "loyalty_index", "wave"]) == ["2026-Q1", "2026-Q3"]
    assert _estimate(kept, "DE", "2026-Q1", "nps") == 20.0
    assert list(kept.loc[kept["metric"] == "nps", "build_id"]) == ["b1", "b4", "b5"]
    assert kept["n"].dtype == "Int64" and kept["suppressed"].dtype == bool


def test_an_interrupted_build_leaves_the_store_unchanged(tmp_path: Path) -> None:
    history.record_build(tmp_path, _rows("2026-Q1", 20.0), build_id="b1")
    history.record_build(tmp_path, _rows("2026-Q2", 25.0), build_id="b2")
    before = history.history(tmp_path)
    # The failure comes midway: after the wave's old rows were deleted and two new rows went in.
    with sqlite3.connect(tmp_path / history.HISTORY_FILE) as conn:
        conn.execute(
            "CREATE TRIGGER fail_midway BEFORE INSERT ON history WHEN NEW.metric = "
            "'csat:delivery' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    conn.close()
    with pytest.raises(ReportError, match="recording build b3 failed, nothing of it.*disk full"):
        history.record_build(tmp_path, _rows("2026-Q2", 99.0), build_id="b3")
    pd.testing.assert_frame_equal(history.history(tmp_path), before)


def test_bad_rows_and_files_are_refused_with_their_names(tmp_path: Path) -> None:
    twice = pd.concat([_rows("2026-Q1", 20.0)] * 2, ignore_index=True)
    with pytest.raises(DataError, match="found twice: .*'unit': 'DE', 'wave': '2026-Q1'"):
        history.record_build(tmp_path, twice, build_id="b1")
    no_wave = _rows("2026-Q1", 20.0).assign(wave="")
    with pytest.raises(DataError, match="must not be empty; row 0"):
        history.record_build(tmp_path, no_wave, build_id="b1")
    (tmp_path / history.HISTORY_FILE).write_text("not a database")
    with pytest.raises(ReportError, match=r"history.sqlite is not a history store"):
        history.history(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    with sqlite3.connect(other / history.HISTORY_FILE) as conn:
        conn.execute("CREATE TABLE accounts (id TEXT)")
    conn.close()
    with pytest.raises(ReportError, match=r"it holds the tables \['accounts'\]"):
        history.record_build(other, _rows("2026-Q1", 20.0), build_id="b1")


def test_baselines_are_the_first_wave_with_an_estimate_or_the_one_asked(tmp_path: Path) -> None:
    history.record_build(tmp_path, _rows("2026-Q2", 25.0), build_id="b2")
    history.record_build(tmp_path, _rows("2026-Q1", 20.0), build_id="b1")  # recorded later
    fr_estimate = history.metric_rows(
        {"wave": "2026-Q3", "nps": {"suppressed": False, "n": 40, "score": -5.0}}, unit="FR"
    )
    history.record_build(tmp_path, fr_estimate, build_id="b3")
    base = history.baselines(tmp_path).set_index(["unit", "metric"])
    assert base.loc[("DE", "nps"), "baseline_wave"] == "2026-Q1"  # the earliest wave, not build
    assert base.loc[("DE", "nps"), "estimate"] == 20.0
    assert base.loc[("DE", "csat:delivery"), "estimate"] == 7.5
    # FR was suppressed in Q1 and Q2: its baseline is its first estimate
    assert base.loc[("FR", "nps"), "baseline_wave"] == "2026-Q3"
    assert base.loc[("FR", "nps"), "estimate"] == -5.0
    chosen = history.baselines(tmp_path, wave="2026-Q2").set_index(["unit", "metric"])
    assert chosen.loc[("DE", "nps"), "estimate"] == 25.0
    assert bool(chosen.loc[("FR", "nps"), "suppressed"])  # as recorded
    with pytest.raises(DataError, match="'2025-Q4' is not in .*recorded waves: 2026-Q1, 2026-Q2"):
        history.baselines(tmp_path, wave="2025-Q4")


# --------------------------------------------------------------------------- through the build


def _notebook(path: Path) -> Path:
    """A throwaway report: its NPS says which unit and wave it is (1 DE, 2 FR, 3 a segment)."""
    return throwaway_notebook(
        path,
        'country: str = "DE"\nprocessed_dir: str = ""\nmin_n: int = 30\nmetrics_path: str = ""\n'
        'dimension: str = "country"\nvalue: str = ""\nwithin: str = ""\nwave: str = "2026-Q2"',
        "import json\nfrom pathlib import Path\n"
        "score = {'DE': 1.0, 'FR': 2.0}.get(country, 3.0) + (wave == '2026-Q2') * 10\n"
        "if metrics_path:\n"
        "    Path(metrics_path).write_text(json.dumps({'wave': wave, 'nps': {'suppressed': False,"
        " 'score': score, 'n': 50, 'ci_low': score - 1, 'ci_high': score + 1}}))",
    )


def _responses() -> pd.DataFrame:
    """Two countries, two segments, two waves, 40 answers per cell."""
    rng = np.random.default_rng(5)
    cells = [
        (c, w, s)
        for w in ("2026-Q1", "2026-Q2")
        for c in ("DE", "FR")
        for s in ("Enterprise", "SMB")
    ]
    df = pd.DataFrame(
        [cell for cell in cells for _ in range(40)], columns=["country", "wave", "segment"]
    )
    df["likelihood_to_recommend"] = rng.integers(0, 11, len(df))
    df["response_id"] = [f"R{i}" for i in range(len(df))]
    df.attrs["roles"] = {
        "country": "country",
        "likelihood_to_recommend": "nps",
        "segment": "segment",
    }
    return df


def test_the_build_records_every_report_it_built_for_each_wave(tmp_path: Path) -> None:
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    processed.mkdir()
    _write_parquet(_responses(), processed / "responses.parquet")  # as `csat data` writes it
    kwargs = {
        "processed_dir": processed,
        "reports_dir": reports,
        "notebook": _notebook(tmp_path / "nb.ipynb"),
        "by": ("country", "segment"),
        "summary": False,
        "jobs": 1,
        "progress": False,
    }
    for wave in ("2026-Q1", "2026-Q2"):
        assert build.build_reports(wave=wave, **kwargs).ok
    rows = history.history(reports)
    assert sorted(set(rows["unit"])) == ["DE", "FR", "segment--enterprise", "segment--smb"]
    assert len(rows) == 8  # 4 units x 2 waves x nps
    enterprise = rows.loc[rows["unit"] == "segment--enterprise"].iloc[0]
    assert (enterprise["dimension"], enterprise["value"], enterprise["within"]) == (
        "segment",
        "Enterprise",
        "",
    )
    assert _estimate(rows, "DE", "2026-Q1", "nps") == 1.0
    assert _estimate(rows, "FR", "2026-Q2", "nps") == 12.0
    assert _estimate(rows, "segment--smb", "2026-Q2", "nps") == 13.0
    assert rows.groupby("wave")["build_id"].nunique().tolist() == [1, 1]
    # nothing changed: nothing rebuilt, nothing recorded again
    assert build.build_reports(wave="2026-Q2", **kwargs).ok
    pd.testing.assert_frame_equal(history.history(reports), rows)
    exported = pd.read_csv(reports / history.HISTORY_CSV)
    assert len(exported) == 8 and list(exported.columns) == list(history.COLUMNS)
