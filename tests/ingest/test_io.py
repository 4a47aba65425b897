"""Tests of csatlib.ingest.io: every supported format and encoding, written by the tests
themselves."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from support.exports import SOURCES, csv_text, plain_text, qualtrics_text, survey_rows

from csatlib.errors import ExportError
from csatlib.ingest.io import RawExport, column_letter, read_export

# --------------------------------------------------------------------------------------------------
# Qualtrics


def test_qualtrics_three_header_rows_with_bom(write_export):
    path = write_export("q3.csv", qualtrics_text(survey_rows()), "utf-8-sig")
    raw = read_export(path)
    assert isinstance(raw, RawExport)
    assert (raw.format, raw.header_rows, raw.encoding) == ("qualtrics", 3, "utf-8-sig")
    assert list(raw.frame.columns) == SOURCES  # the BOM is not part of the first column name
    assert raw.frame.index[0] == 4  # Qualtrics data row 1 is spreadsheet row 4
    assert raw.frame.index[-1] == 3 + len(survey_rows())
    assert raw.question_texts["Q5"] == "How likely are you to recommend us to a colleague?"
    # every cell is text, nothing converted
    assert raw.frame.at[8, "Q1"] == "NA"  # Namibia, not missing
    assert raw.frame.at[12, "ResponseId"] == "00123"
    assert raw.frame.at[9, "Q7_2"] == "7.5"
    assert all(isinstance(v, str) for v in raw.frame.to_numpy().ravel())


def test_qualtrics_two_header_rows(write_export):
    path = write_export("q2.csv", qualtrics_text(survey_rows(), header_rows=2))
    raw = read_export(path)
    assert (raw.format, raw.header_rows, raw.encoding) == ("qualtrics", 2, "utf-8")
    assert raw.frame.index[0] == 3
    assert raw.frame.iloc[0]["ResponseId"] == "R_001"
    assert raw.question_texts["ResponseId"] == "Response ID"


def test_qualtrics_legacy_v1_layout(write_export):
    text = csv_text(
        [["V1", "V2", "Q1"], ["ResponseID", "ResponseSet", "Rate us"], ["R_1", "Default", "7"]]
    )
    raw = read_export(write_export("legacy.csv", text))
    assert (raw.format, raw.header_rows) == ("qualtrics", 2)
    assert raw.frame.to_dict("records") == [{"V1": "R_1", "V2": "Default", "Q1": "7"}]
    assert raw.frame.index.tolist() == [3]


def test_declared_qualtrics_without_importid_row_has_two_header_rows(write_export):
    text = csv_text([["ResponseId", "Q1"], ["Response ID", "Rate"], ["R_1", "7"]])
    raw = read_export(write_export("x.csv", text), format="qualtrics")
    assert raw.header_rows == 2 and raw.frame.index.tolist() == [3]


def test_declared_csv_keeps_qualtrics_header_rows_as_data(write_export):
    """format='csv' is taken at its word; clean_export then refuses the header rows."""
    raw = read_export(write_export("q3.csv", qualtrics_text(survey_rows())), format="csv")
    assert (raw.format, raw.header_rows) == ("csv", 1)
    assert raw.frame.iloc[1]["Q1"].startswith('{"ImportId"')


# --------------------------------------------------------------------------------------------------
# SurveyMonkey


def _monkey_text() -> str:
    header1 = [
        "Respondent ID",
        "Collector ID",
        "Start Date",
        "How likely are you to recommend us?",
        "How satisfied are you with:",
        "",
        "",
        "Anything else?",
        "Anything else?",
    ]
    header2 = [
        "",
        "",
        "",
        "Response",
        "Product quality",
        "Delivery",
        "Delivery",
        "Open-Ended Response",
        "Response",
    ]
    rows = [
        ["1001", "55", "01/15/2026 10:02:03 AM", "9", "8", "7", "6", "Great", "x"],
        ["1002", "55", "01/16/2026 11:00:00 AM", "4", "3", "99", "5", "", ""],
    ]
    return csv_text([header1, header2, *rows])


def test_surveymonkey_two_header_rows_combined_to_unique_ids(write_export):
    raw = read_export(write_export("monkey.csv", _monkey_text()))
    assert (raw.format, raw.header_rows) == ("surveymonkey", 2)
    assert list(raw.frame.columns) == [
        "Respondent ID",
        "Collector ID",
        "Start Date",
        "How likely are you to recommend us?",  # "Response" -> the question itself
        "How satisfied are you with: | Product quality",  # matrix rows carry the question
        "How satisfied are you with: | Delivery",
        "How satisfied are you with: | Delivery (2)",  # still equal -> suffixed in file order
        "Anything else?",  # "Open-Ended Response" -> the question itself
        "Anything else? (2)",
    ]
    assert raw.frame.index.tolist() == [3, 4]
    assert raw.frame.iloc[1]["How satisfied are you with: | Delivery"] == "99"
    assert raw.question_texts["How satisfied are you with: | Delivery"] == (
        "How satisfied are you with: / Delivery"
    )


# --------------------------------------------------------------------------------------------------
# plain CSV and encodings


@pytest.mark.parametrize(
    ("encoding", "detected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252")]
)
def test_plain_csv_encodings_detected(write_export, encoding, detected):
    text = csv_text([["id", "name", "country"], ["00123", "José Müller – €5", "Österreich"]])
    raw = read_export(write_export(f"p_{encoding}.csv", text, encoding))
    assert (raw.format, raw.header_rows, raw.encoding) == ("csv", 1, detected)
    assert raw.frame.iloc[0].tolist() == ["00123", "José Müller – €5", "Österreich"]
    assert raw.frame.index.tolist() == [2]


def test_declared_encoding_is_used(write_export):
    # 0xE9 is 'é' in latin-1; declared latin-1 must not be second-guessed
    path = write_export("l1.csv", "id,name\n1,Jos\u00e9\n", "latin-1")
    raw = read_export(path, encoding="latin-1")
    assert raw.encoding == "iso8859-1" and raw.frame.iloc[0]["name"] == "José"


def test_semicolon_delimiter_detected(write_export):
    raw = read_export(write_export("semi.csv", "id;score\n1;7\n2;NA\n"))
    assert raw.frame.to_dict("list") == {"id": ["1", "2"], "score": ["7", "NA"]}


def test_quoted_newline_is_one_spreadsheet_row_and_blank_lines_are_counted(write_export):
    text = 'id,comment\n1,"two\nlines"\n\n2,ok\n'
    raw = read_export(write_export("nl.csv", text))
    assert raw.frame.index.tolist() == [2, 4]  # the blank record is row 3
    assert raw.blank_rows == (3,)
    assert raw.frame.at[2, "comment"] == "two\nlines"


def test_plain_csv_of_the_survey_rows(write_export):
    raw = read_export(write_export("plain.csv", plain_text(survey_rows())))
    assert raw.header_rows == 1 and raw.frame.index[0] == 2 and raw.question_texts == {}


# --------------------------------------------------------------------------------------------------
# XLSX


def _workbook(path: Path, rows: list[list[object]], *, title: str = "Sheet1") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_cells_as_text_with_types(tmp_path):
    path = _workbook(
        tmp_path / "survey.xlsx",
        [
            ["id", "country", "delivery", "quality", "when"],
            ["00123", "NA", 7, 7.5, datetime(2026, 1, 15, 10, 30)],
            [2, "DE", "=3+4", 10.0, datetime(2026, 2, 1)],
            [None, None, None, None, None],  # a blank row inside the data
            ["R_4", "FR", 99, True, "2026-03-01"],
        ],
    )
    raw = read_export(path)
    assert (raw.format, raw.header_rows, raw.sheet, raw.encoding) == ("xlsx", 1, "Sheet1", None)
    assert raw.frame.index.tolist() == [2, 3, 5]
    assert raw.blank_rows == (4,)
    assert raw.frame.loc[2].tolist() == ["00123", "NA", "7", "7.5", "2026-01-15 10:30:00"]
    assert raw.frame.loc[3].tolist() == ["2", "DE", "=3+4", "10", "2026-02-01"]
    assert raw.frame.loc[5].tolist() == ["R_4", "FR", "99", "TRUE", "2026-03-01"]
    assert raw.cell_types is not None
    assert raw.cell_types.loc[2].tolist() == ["s", "s", "n", "n", "d"]
    assert raw.cell_types.loc[3].tolist() == ["n", "s", "f", "n", "d"]
    assert raw.cell_ref("delivery", 3) == "C3"


def test_xlsx_sheet_by_name_and_missing_sheet(tmp_path):
    path = tmp_path / "two.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["cover"])
    data = workbook.create_sheet("Data")
    data.append(["id", "score"])
    data.append(["1", 5])
    workbook.save(path)
    assert read_export(path, sheet="Data").frame.to_dict("list") == {"id": ["1"], "score": ["5"]}
    with pytest.raises(
        ExportError, match=r"two\.xlsx: no sheet 'Results'; sheets: 'Sheet', 'Data'"
    ):
        read_export(path, sheet="Results")


def test_xlsx_table_not_starting_at_a1_keeps_spreadsheet_coordinates(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["B3"], sheet["C3"], sheet["B4"], sheet["C4"], sheet["B6"], sheet["C6"] = (
        "id", "score", "x", 7, "y", 8
    )  # fmt: skip
    workbook.save(tmp_path / "offset.xlsx")
    raw = read_export(tmp_path / "offset.xlsx")
    assert raw.frame.index.tolist() == [4, 6] and raw.blank_rows == (5,)
    assert raw.frame["score"].tolist() == ["7", "8"] and raw.cell_ref("score", 6) == "C6"


def test_xlsx_with_a_title_above_the_column_names_says_so(tmp_path):
    path = _workbook(
        tmp_path / "titled.xlsx",
        [
            ["Customer survey export 2026", None, None, None],
            [None, None, None, None],
            ["id", "country", "ltr", "delivery"],
            ["R_1", "DE", 9, 7],
        ],
    )
    with pytest.raises(
        ExportError,
        match=r"titled\.xlsx: sheet 'Sheet1', row 3 has cells right of the last named column "
        r"\(A\); .* row 1 names only 1 column\(s\) \('Customer survey export 2026'\) and row 3 "
        r"fills 4: if a title is above the column names, delete the rows above them",
    ):
        read_export(path)


def test_xlsx_qualtrics_layout_detected(tmp_path):
    rows = [SOURCES[:3], ["Start Date", "Response ID", "Duration"]]
    rows.append([json.dumps({"ImportId": s}) for s in SOURCES[:3]])
    rows.append(["2026-01-01 10:00:00", "R_1", 300])
    raw = read_export(_workbook(tmp_path / "q.xlsx", rows))
    assert (raw.format, raw.header_rows) == ("xlsx", 3)
    assert raw.frame.index.tolist() == [4]
    assert raw.frame.iloc[0]["Duration (in seconds)"] == "300"
    declared = read_export(tmp_path / "q.xlsx", format="qualtrics")  # a layout, not a file type
    assert (declared.format, declared.header_rows) == ("xlsx", 3)
    with pytest.raises(
        ExportError, match=r"q\.xlsx: expected a text/CSV file because format 'csv'"
    ):
        read_export(tmp_path / "q.xlsx", format="csv")


# --------------------------------------------------------------------------------------------------
# SPSS


def test_sav_codes_as_text_with_end_only_value_labels(tmp_path):
    path = tmp_path / "survey.sav"
    frame = pd.DataFrame(
        {
            "ResponseId": ["00123", "R_2", "R_3"],
            "Q1": ["NA", "DE", "FR"],
            "Q7_1": [1.0, 7.0, np.nan],
            "Duration": [600.5, 42.0, 100.0],
        }
    )
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels=["Response ID", "Country", "Product quality", "Duration (s)"],
        variable_value_labels={"Q7_1": {1: "Very poor", 10: "Excellent"}},
    )
    raw = read_export(path)
    assert (raw.format, raw.header_rows) == ("sav", 0)
    assert raw.frame.index.tolist() == [1, 2, 3]  # SPSS case numbers
    assert raw.frame["ResponseId"].tolist() == ["00123", "R_2", "R_3"]
    assert raw.frame["Q1"].tolist() == ["NA", "DE", "FR"]
    assert raw.frame["Q7_1"].tolist() == ["1", "7", ""]  # codes, not labels; 7 has no label
    assert raw.frame["Duration"].tolist() == ["600.5", "42", "100"]
    assert dict(raw.value_labels["Q7_1"]) == {"1": "Very poor", "10": "Excellent"}
    assert raw.question_texts["Q7_1"] == "Product quality"


def test_sav_read_in_chunks_equals_one_read(tmp_path, monkeypatch):
    from csatlib.ingest import io as cio

    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "id": [f"R_{i}" for i in range(250)],
            "q": np.where(rng.random(250) < 0.1, np.nan, rng.integers(0, 11, 250)).astype(float),
            "country": rng.choice(["DE", "FR", "NA"], 250),
        }
    )
    path = tmp_path / "chunks.sav"
    pyreadstat.write_sav(frame, str(path))
    whole = read_export(path)
    monkeypatch.setattr(cio, "SAV_CHUNK_ROWS", 40)  # seven chunks, the last one short
    chunked = read_export(path)
    assert chunked.frame.index.tolist() == list(range(1, 251))
    assert chunked.frame.astype(object).equals(whole.frame.astype(object))
    expected = ["" if np.isnan(v) else str(int(v)) for v in frame["q"]]
    assert chunked.frame["q"].tolist() == expected


# --------------------------------------------------------------------------------------------------
# errors


def test_undecodable_byte_in_declared_utf8_names_offset_and_line(write_export, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"id,name\n1,ok\n2,Jos\xe9\n")
    with pytest.raises(ExportError, match=r"bad\.csv: byte 0xE9 at byte offset 18 .*line 3"):
        read_export(path, encoding="utf-8")


def test_mixed_utf8_and_invalid_bytes_is_refused_not_guessed(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("id,name\n1,Müller\n".encode() + b"2,Jos\xe9\n")
    with pytest.raises(ExportError, match=r"mixed\.csv: byte 0xE9 at byte offset 23 .*line 3"):
        read_export(path)


def test_bytes_undefined_in_cp1252_are_refused(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"id,name\n1,a\x81b\n")  # 0x81: invalid UTF-8 and undefined in cp1252
    with pytest.raises(ExportError, match=r"junk\.csv: byte 0x81 at byte offset 11 .*cp1252"):
        read_export(path)


def test_no_replacement_characters_ever(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(b"id,name\n1,Jos\xe9\n")
    raw = read_export(path)
    assert "\ufffd" not in raw.frame.iloc[0]["name"] and raw.frame.iloc[0]["name"] == "José"


def test_duplicate_column_names(write_export):
    path = write_export("dup.csv", "id,Q1,Q2,Q1\n1,2,3,4\n")
    with pytest.raises(
        ExportError, match=r"dup\.csv: duplicate column names .*'Q1' in columns B, D"
    ):
        read_export(path)


def test_unbalanced_quote_names_the_line(write_export):
    path = write_export("quote.csv", 'id,comment\n1,fine\n2,"never closed\n3,more\n4,end\n')
    with pytest.raises(ExportError, match=r"quote\.csv: unbalanced quotes: .* opened on line 3"):
        read_export(path)


def test_malformed_quote_inside_a_field(write_export):
    path = write_export("q.csv", 'id,comment\n1,"closed"then text\n')
    with pytest.raises(ExportError, match=r"q\.csv: malformed quoting on line 2"):
        read_export(path)


def test_stray_quote_that_swallows_lines_is_a_field_count_error(write_export):
    path = write_export("s.csv", 'id,a,b\n1,"x\n2,y",3,4\n3,z,4\n')
    with pytest.raises(
        ExportError, match=r"s\.csv: lines 2-3 \(spreadsheet row 2\): 4 fields.*quote"
    ):
        read_export(path)


def test_ragged_row(write_export):
    path = write_export("r.csv", "id,a,b\n1,2,3\n4,5\n")
    with pytest.raises(ExportError, match=r"r\.csv: line 3 \(spreadsheet row 3\): 2 fields, but"):
        read_export(path)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(ExportError, match=r"empty\.csv: the file is empty"):
        read_export(path)


def test_header_only(write_export):
    with pytest.raises(ExportError, match=r"h\.csv: no data rows \(header only"):
        read_export(write_export("h.csv", "id,Q1,Q2\n"))


def test_qualtrics_header_only(write_export):
    with pytest.raises(ExportError, match=r"qh\.csv: no data rows \(only the 3 header rows"):
        read_export(write_export("qh.csv", qualtrics_text([])))


def test_xlsx_that_is_really_csv(write_export):
    path = write_export("fake.xlsx", "id,score\n1,7\n")
    with pytest.raises(ExportError, match=r"fake\.xlsx: expected an Excel workbook .* text/CSV"):
        read_export(path)


def test_csv_that_is_really_a_workbook(tmp_path):
    path = _workbook(tmp_path / "book.xlsx", [["id"], [1]]).rename(tmp_path / "book.csv")
    with pytest.raises(ExportError, match=r"book\.csv: expected a text/CSV file .* Excel workbook"):
        read_export(path)


def test_binary_junk_named_csv(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8)))
    with pytest.raises(ExportError, match=r"junk\.csv: not a text/CSV file"):
        read_export(path)


def test_sav_that_is_not_spss(write_export):
    with pytest.raises(ExportError, match=r"x\.sav: expected an SPSS \.sav file"):
        read_export(write_export("x.sav", "id\n1\n"))


def test_legacy_xls_refused(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(ExportError, match=r"old\.xls: legacy Excel \.xls files are not supported"):
        read_export(path)


def test_missing_file_and_unknown_format(tmp_path, write_export):
    with pytest.raises(ExportError, match="nope.csv: file not found"):
        read_export(tmp_path / "nope.csv")
    with pytest.raises(ExportError, match="unknown format 'json'"):
        read_export(write_export("a.csv", "id\n1\n"), format="json")  # type: ignore[arg-type]


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]
