"""Tests of csatlib.ingest.handwritten: the one reader of hand-kept tables and its messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from csatlib.errors import ExportError
from csatlib.ingest.handwritten import cell_problem, read_handwritten, sheet_row, wave_problem


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


def test_a_cells_problem_uses_the_spreadsheets_row_number(tmp_path: Path) -> None:
    message = cell_problem("data/raw/targets.csv", 4, "target", "expected a number, found 'x'")
    assert message == "targets.csv, row 4, column target: expected a number, found 'x'"
    # a blank line is no row but counts, as in a spreadsheet; a trailing comma shifts nothing
    path = tmp_path / "targets.csv"
    path.write_text("unit,target,\nDE,10,\n\n  ,  ,\nFR,x,\n", encoding="utf-8")
    frame = read_handwritten(path, columns=["unit", "target"], what="targets file")
    assert frame.to_numpy().tolist() == [["DE", "10"], ["FR", "x"]]
    assert [sheet_row(frame, 0), sheet_row(frame, 1)] == [2, 5]


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("2026-Q2", False),
        ("FY2026-Q1", False),
        ("Wave 3", False),  # a study's own wave names are left alone
        ("2026Q2", True),
        ("Q2 2026", True),
        ("2026-q2", True),
    ],
)
def test_a_quarter_typed_another_way_is_refused(text: str, refused: bool, tmp_path: Path) -> None:
    """ "2026Q2" compared as text with "2026-Q3" once read a missed target as at risk."""
    assert (wave_problem(text) is not None) == refused
    from csatlib.ingest.targets import load_targets

    path = tmp_path / "targets.csv"
    path.write_text(
        f"unit,metric,baseline_wave,target,due_wave\n\nFR,nps,2025-Q4,30,{text}\n", "utf-8"
    )
    if refused:
        with pytest.raises(ExportError, match=r"targets.csv, row 3, column due_wave: expected a "):
            load_targets(path)
    else:
        assert load_targets(path)["due_wave"].tolist() == [text]
