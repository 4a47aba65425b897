"""Tests of csatlib.ingest.handwritten: the one reader of hand-kept tables and its messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from csatlib.errors import ExportError
from csatlib.ingest.handwritten import cell_problem, read_handwritten


def test_cells_come_back_as_stripped_text_with_optional_columns_filled(tmp_path: Path) -> None:
    path = tmp_path / "plans.csv"
    path.write_text("\ufeff unit ,due,extra\n DE ,  2026-09-30 ,x\nNA,,y\n", encoding="utf-8")
    frame = read_handwritten(path, columns=["unit", "due"], optional=["note"], what="plans file")
    assert list(frame.columns) == ["unit", "due", "note"]
    assert frame.to_numpy().tolist() == [["DE", "2026-09-30", ""], ["NA", "", ""]]  # NA: a code


def test_each_file_problem_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="absent.csv: no plans file"):
        read_handwritten(tmp_path / "absent.csv", columns=["unit"], what="plans file")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ExportError, match="empty.csv: the file is empty \\(expected a header"):
        read_handwritten(empty, columns=["unit", "due"], what="plans file")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("unit\nMünchen\n".encode("latin-1"))
    with pytest.raises(ExportError, match="latin.csv: cannot be read as a UTF-8 CSV file"):
        read_handwritten(latin, columns=["unit"], what="plans file")
    short = tmp_path / "short.csv"
    short.write_text("unit,owner\nDE,x\n", encoding="utf-8")
    with pytest.raises(ExportError) as caught:
        read_handwritten(short, columns=["unit", "due", "status"], what="plans file")
    assert str(caught.value) == (
        "short.csv: missing column(s) due, status (expected unit, due, status; found unit, owner)"
    )


def test_a_cells_problem_uses_the_spreadsheets_row_number() -> None:
    message = cell_problem("data/raw/targets.csv", 2, "target", "expected a number, found 'x'")
    assert message == "targets.csv, row 4, column target: expected a number, found 'x'"
