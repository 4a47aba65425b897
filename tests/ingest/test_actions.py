"""Tests of csatlib.ingest.actions: row-level errors and the sample's action plans."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from csatlib import config
from csatlib.errors import ExportError
from csatlib.ingest.actions import STATUSES, empty_actions, load_actions

HEADER = "unit,attribute,root_cause,action,owner,start_wave,due,status\n"
GOOD = "DE,delivery,late trucks,second carrier,Logistics DE,2026-Q1,2026-09-30,open"


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "actions.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_reads_a_valid_file_with_dates_statuses_and_file_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"{GOOD}\n FR ,invoicing_accuracy,overrides,approval step,Finance FR,2025-Q4,"
        "2026-04-30, In_Progress \nGB,delivery,x,y,z,2026-Q2,2026-07-01,DONE\n",
    )
    frame = load_actions(path)
    assert frame["unit"].tolist() == ["DE", "FR", "GB"]  # blanks stripped
    assert frame["status"].tolist() == ["open", "in progress", "done"]  # normalized
    assert frame["due"].tolist() == [
        pd.Timestamp(d) for d in ("2026-09-30", "2026-04-30", "2026-07-01")
    ]
    assert frame["row"].tolist() == [2, 3, 4]  # as a spreadsheet shows them
    assert frame["note"].tolist() == ["", "", ""]  # optional column added empty
    assert frame.attrs["source"] == "actions.csv"
    assert list(frame.columns) == list(empty_actions().columns)


def test_a_due_date_that_is_no_date_names_file_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{GOOD}\n{GOOD.replace('second', 'third')}\n"
                  "GB,delivery,x,y,z,2026-Q2,31/12/2026,open\n")  # fmt: skip
    with pytest.raises(ExportError) as info:
        load_actions(path)
    # the header is row 1, so the third data row is row 4
    assert str(info.value) == (
        "actions.csv, row 4, column due: expected a date YYYY-MM-DD, found '31/12/2026'"
    )


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (",delivery,x,y,z,2026-Q1,2026-09-30,open", "unit", "found an empty cell"),
        ("DE,,x,y,z,2026-Q1,2026-09-30,open", "attribute", "found an empty cell"),
        ("DE,delivery,,y,z,2026-Q1,2026-09-30,open", "root_cause", "found an empty cell"),
        ("DE,delivery,x,,z,2026-Q1,2026-09-30,open", "action", "found an empty cell"),
        ("DE,delivery,x,y,,2026-Q1,2026-09-30,open", "owner", "found an empty cell"),
        ("DE,delivery,x,y,z,,2026-09-30,open", "start_wave", "found an empty cell"),
        ("DE,delivery,x,y,z,2026-Q1,,open", "due", "found an empty cell"),
        ("DE,delivery,x,y,z,2026-Q1,2026-09-30,", "status", "found an empty cell"),
        ("DE,delivery,x,y,z,2026-Q1,2026-09-30,pending", "status", "found 'pending'"),
        ("DE,delivery,x,y,z,2026-Q1,2026-02-30,open", "due", "no such day"),
        ("DE,delivery,x,y,z,2026-Q1,2026-9-30,open", "due", "YYYY-MM-DD, found '2026-9-30'"),
        ("DE,delivery,x,y,z,2026-Q2,2026-03-31,open", "due", "not before the start wave '2026-Q2'"),
    ],
)
def test_each_invalid_cell_is_reported(
    tmp_path: Path, row: str, column: str, fragment: str
) -> None:
    with pytest.raises(ExportError, match=rf"^actions\.csv, row 2, column {column}: .*{fragment}"):
        load_actions(_write(tmp_path, row + "\n"))


def test_statuses_in_any_spelling_and_lenient_waves(tmp_path: Path) -> None:
    body = "".join(
        f"DE,delivery,x,action {i},z,{wave},2026-09-30,{status}\n"
        for i, (status, wave) in enumerate(
            [("OPEN", "2026-Q1"), ("in-progress", "spring 2026"), ("Done", "2026-Q1"),
             ("Canceled", "2026-Q1"), ("cancelled", "2026-Q1")]
        )
    )  # fmt: skip
    frame = load_actions(_write(tmp_path, body))
    assert frame["status"].tolist() == ["open", "in progress", "done", "cancelled", "cancelled"]
    assert set(frame["status"]) <= set(STATUSES)
    assert frame["start_wave"].iat[1] == "spring 2026"  # a wave named otherwise is kept as is


def test_duplicate_plan_and_every_problem_at_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"{GOOD}\nDE,delivery,x,Second Carrier,z,2026-Q1,soon,open\n"
        "DE,invoicing_accuracy,x,second carrier,z,2026-Q1,2026-09-30,open\n",
    )
    with pytest.raises(ExportError) as info:
        load_actions(path)
    assert str(info.value).splitlines() == [
        "actions.csv, row 3, column due: expected a date YYYY-MM-DD, found 'soon'",
        "actions.csv, row 3, column action: a second plan 'Second Carrier' for unit 'DE' and "
        "attribute 'delivery' (first in row 2)",
    ]  # the same action on another attribute is another plan


def test_missing_column_missing_file_and_header_only(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"^actions\.csv: missing column\(s\) status "):
        load_actions(_write(tmp_path, GOOD.rsplit(",", 1)[0] + "\n", header=HEADER[:-8] + "\n"))
    with pytest.raises(ExportError, match="no action plans file"):
        load_actions(tmp_path / "absent.csv")
    empty = load_actions(_write(tmp_path, ""))
    assert empty.empty
    assert list(empty.columns) == list(empty_actions().columns)
    assert empty["due"].dtype == "datetime64[ns]"


def test_the_sample_actions_load_with_the_codebook_s_attributes() -> None:
    frame = load_actions(config.DEFAULT_RAW_DIR / "actions.csv")
    assert len(frame) == 8
    assert "business_unit--compute" in set(frame["unit"])
    assert {"open", "in progress", "done"} <= set(frame["status"])
    book = yaml.safe_load(
        (config.DEFAULT_RAW_DIR / "relationship_survey.codebook.yaml").read_text()
    )
    attributes = {k for k, v in book["columns"].items() if v.get("role") == "attribute"}
    assert set(frame["attribute"]) <= attributes
    assert all(re.fullmatch(r"202(5-Q4|6-Q[1-3])", w) for w in frame["start_wave"])
