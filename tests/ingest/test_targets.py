"""Tests of csatlib.ingest.targets: row-level errors and the sample's targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from csatlib import config
from csatlib.errors import ExportError
from csatlib.ingest.targets import load_targets

HEADER = "unit,metric,baseline_wave,target,due_wave\n"


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "targets.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_reads_a_valid_file_with_targets_as_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, "DE,nps,2025-Q4,-5,2026-Q4\n FR ,loyalty_index,2025-Q4,70.5,2026-Q4\n")
    frame = load_targets(path)
    assert frame["unit"].tolist() == ["DE", "FR"]  # blanks stripped
    assert frame["target"].tolist() == [-5.0, 70.5]
    assert frame["owner"].tolist() == ["", ""]  # optional column added empty


def test_a_target_that_is_no_number_names_file_row_and_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "DE,nps,2025-Q4,-5,2026-Q4\nFR,nps,2025-Q4,10,2026-Q4\nGB,nps,2025-Q4,high,2026-Q4\n",
    )
    with pytest.raises(ExportError) as info:
        load_targets(path)
    # the header is row 1, so the third data row is row 4
    assert str(info.value) == "targets.csv, row 4, column target: expected a number, found 'high'"


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (",nps,2025-Q4,5,2026-Q4", "unit", "found an empty cell"),
        ("DE,revenue,2025-Q4,5,2026-Q4", "metric", "found 'revenue'"),
        ("DE,nps,2025-Q4,101,2026-Q4", "target", "from -100 to 100"),
        ("DE,loyalty_index,2025-Q4,-1,2026-Q4", "target", "from 0 to 100"),
        ("DE,nps,2025-Q4,nan,2026-Q4", "target", "finite"),
        ("DE,nps,2025-Q4,5,", "due_wave", "found an empty cell"),
        ("DE,nps,2026-Q4,5,2026-Q3", "due_wave", "not before the baseline wave '2026-Q4'"),
    ],
)
def test_each_invalid_cell_is_reported(
    tmp_path: Path, row: str, column: str, fragment: str
) -> None:
    with pytest.raises(ExportError, match=rf"row 2, column {column}: .*{fragment}"):
        load_targets(_write(tmp_path, row + "\n"))


def test_lenient_waves_and_csat_metrics_are_accepted(tmp_path: Path) -> None:
    frame = load_targets(_write(tmp_path, "DE,csat:delivery,spring 2026,4.2,autumn 2025\n"))
    assert frame["metric"].iat[0] == "csat:delivery"
    assert frame["target"].iat[0] == pytest.approx(4.2)


def test_duplicate_unit_and_metric_and_every_problem_at_once(tmp_path: Path) -> None:
    path = _write(tmp_path, "DE,nps,2025-Q4,5,2026-Q4\nDE,nps,2025-Q4,x,2026-Q4\n")
    with pytest.raises(ExportError) as info:
        load_targets(path)
    lines = str(info.value).splitlines()
    assert lines == [
        "targets.csv, row 3, column target: expected a number, found 'x'",
        "targets.csv, row 3, column metric: a second target for unit 'DE' and metric 'nps'",
    ]


def test_missing_column_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="missing column.*due_wave"):
        load_targets(
            _write(tmp_path, "DE,nps,2025-Q4,5\n", header="unit,metric,baseline_wave,target\n")
        )
    with pytest.raises(ExportError, match="no targets file"):
        load_targets(tmp_path / "absent.csv")


def test_the_sample_targets_load() -> None:
    frame = load_targets(config.DEFAULT_RAW_DIR / "targets.csv")
    assert len(frame) == 8
    assert "business_unit--compute" in set(frame["unit"])
    assert set(frame["metric"]) == {"nps", "loyalty_index"}
