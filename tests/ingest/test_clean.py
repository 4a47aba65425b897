"""Tests of csatlib.ingest.clean (and csatlib.ingest.countries): typed canonical tables, the
cleaning log, row accounting, the atomic build, and the sample data against its generator's ground
truth.

Expected numbers for the hand-made fixture are stated in conftest.survey_rows(); the sample-data
numbers come from data/raw/ground_truth.json, written independently by csatlib.sample.synth."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from pathlib import Path
from unittest import mock

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.exports import (
    EXPECTED,
    SOURCES,
    codebook_dict,
    csv_text,
    plain_text,
    qualtrics_text,
    survey_rows,
    write_sav,
    write_xlsx,
)

from csatlib.config import RAW_DIR
from csatlib.errors import CodebookError, DataError, ExportError
from csatlib.ingest.clean import (
    LOG_COLUMNS,
    MAX_OUT_OF_RANGE_SHARE,
    MIN_OUT_OF_RANGE_VALUES,
    SINGLE_WAVE,
    BuildSummary,
    _month_labels,
    build_processed,
    clean_export,
    data_quality_note,
    load_processed,
    wave_labels,
)
from csatlib.ingest.codebook import load_codebook, parse_codebook
from csatlib.ingest.countries import ALPHA2, ISO_3166, country_key, country_lookup, to_alpha2
from csatlib.ingest.io import RawExport, read_export


@pytest.fixture
def qualtrics_result(write_export):
    raw = read_export(write_export("rel.csv", qualtrics_text(survey_rows()), "utf-8-sig"))
    return clean_export(raw, parse_codebook(codebook_dict()))


# --------------------------------------------------------------------------------------------------
# the hand-made fixture: every rule, with the counts stated in conftest.survey_rows()


def test_row_accounting_and_rule_counts(qualtrics_result):
    summary = qualtrics_result.summary
    assert summary["raw_rows"] == EXPECTED["raw_rows"] == 14
    assert summary["kept"] == EXPECTED["kept"] == len(qualtrics_result.data)
    assert {k: v for k, v in summary["excluded"].items() if k in EXPECTED["excluded"]} == (
        EXPECTED["excluded"]
    )
    assert summary["kept"] + sum(summary["excluded"].values()) == summary["raw_rows"]
    assert summary["set_missing"] == {
        "out_of_range": 1,
        "non_numeric": 2,
        "missing_code": 1,
        "invalid_bool": 1,
    }
    assert summary["flagged"] == {"speeder": 1, "straightliner": 1}
    assert summary["changes"]["reverse_coded"] == {"loyalty_cognitive": 10}
    assert summary["changes"]["text_trimmed"] == {"text_like": 1}
    assert summary["changes"]["text_nfc"] == {"text_like": 1}
    assert summary["median_duration_seconds"] == 600.0
    assert summary["speeder_threshold_seconds"] == pytest.approx(200.0)
    assert (summary["format"], summary["header_rows"], summary["encoding"]) == (
        "qualtrics",
        3,
        "utf-8-sig",
    )


def test_canonical_columns_and_dtypes(qualtrics_result):
    data = qualtrics_result.data
    expected = {
        "response_id": "string",
        "source": "category",
        "source_row": "int64",
        "date": "datetime64[ns]",
        "wave": "category",
        "month": "string",
        "duration": "float64",
        "country": "category",
        "brand": "category",
        "competitor": "bool",
        "segment": "category",
        "likelihood_to_recommend": "Int64",
        "product_quality": "Int64",
        "loyalty_cognitive": "Int64",
        "text_like": "string",
        "contact_ok": "boolean",
        "contact_email": "string",
        "flag_speeder": "bool",
        "flag_straightliner": "bool",
    }
    assert {c: str(data[c].dtype) for c in expected} == expected
    assert list(data.columns[:3]) == ["response_id", "source", "source_row"]
    assert data["wave"].cat.ordered
    assert list(data["wave"].cat.categories) == ["2025-Q4", "2026-Q1"]
    assert data.attrs["roles"]["delivery"] == "attribute"
    assert data.attrs["roles"]["wave"] == "wave"
    assert data.attrs["labels"]["country"] == "Country"
    assert data.attrs["scales"]["likelihood_to_recommend"] == [0, 10]
    assert data.attrs["own_brand"] == "Contoso"


def test_values_per_row(qualtrics_result):
    data = qualtrics_result.data.set_index("response_id")
    # spreadsheet rows: Qualtrics data row k is row k + 3
    assert data.loc["R_001", "source_row"] == 4 and data.loc["R_014", "source_row"] == 17
    assert data.loc["00123", "country"] == "JP"  # "00123" stays a string; 日本 -> JP
    assert data.loc["R_005", "country"] == "NA"  # "NA" is Namibia, never missing
    countries = data["country"].astype(str).to_dict()
    assert countries == {
        "R_001": "DE",
        "R_005": "NA",
        "R_006": "GB",
        "R_007": "US",
        "R_008": "JP",
        "00123": "JP",
        "R_010": "FR",
        "R_011": "US",
        "R_012": "JP",
        "R_014": "DE",
    }
    row6 = data.loc["R_006"]
    assert row6[["product_quality", "total_cost_of_ownership", "post_sales_support"]].isna().all()
    assert row6["delivery"] is pd.NA  # 99 is a don't-know code
    assert row6["invoicing_accuracy"] == 8
    # reverse coding x -> 1 + 10 - x
    assert (
        data.loc["R_014", "loyalty_cognitive"] == 1 and data.loc["R_001", "loyalty_cognitive"] == 8
    )
    assert data.loc["R_012", "wave"] == "2025-Q4" and data.loc["R_001", "wave"] == "2026-Q1"
    assert data.loc["R_012", "month"] == "2025-12"
    assert data.loc["R_011", "contact_ok"] is pd.NA and data.loc["R_001", "contact_ok"]
    assert data["competitor"].sum() == 2
    assert set(data.index[data["competitor"]]) == {"R_005", "00123"}
    assert data.loc["R_010", "text_like"] == "Caf\u00e9 au lait"  # trimmed, NFC (one code point)
    assert data.loc["R_007", "flag_speeder"] and data["flag_speeder"].sum() == 1
    assert data.loc["R_008", "flag_straightliner"] and data["flag_straightliner"].sum() == 1
    assert data.loc["R_001", "date"] == pd.Timestamp("2026-01-15 10:00:00")


def test_log_rows_name_row_column_and_value(qualtrics_result):
    log = qualtrics_result.log
    assert list(log.columns) == list(LOG_COLUMNS)
    cells = log[log["action"] == "set_missing"].set_index("rule")
    oor = cells.loc["out_of_range"]
    assert (oor["source_row"], oor["response_id"], oor["column"], oor["value"]) == (
        9,
        "R_006",
        "product_quality",
        "11",
    )
    assert oor["message"] == (
        "column 'Q7_1' (attribute 'product_quality'): '11' is outside the scale 1-10 -> <NA>"
    )
    non_numeric = log[log["rule"] == "non_numeric"]
    assert sorted(non_numeric["value"]) == ["1E5", "7.5"]
    assert set(non_numeric["source_row"]) == {9}
    excluded = log[log["action"] == "excluded"].set_index("rule")
    assert excluded.loc["duplicate_id", "source_row"] == 5
    assert excluded.loc["duplicate_id", "message"] == (
        "id 'R_001' already seen in row 4; first occurrence kept"
    )
    assert excluded.loc["empty_response", "source_row"] == 6
    assert excluded.loc["unknown_country", "value"] == "Atlantis"
    assert excluded.loc["missing_country", "source_row"] == 16
    flagged = log[log["action"] == "flagged"].set_index("rule")
    assert flagged.loc["speeder", "source_row"] == 10
    assert flagged.loc["straightliner", "source_row"] == 11
    counts = log[log["source_row"].isna()]
    assert counts["wave"].notna().all()  # one count per rule, column and wave
    assert not counts.duplicated(["rule", "column", "wave"]).any()
    assert counts["message"].str.endswith(")").all()  # "... (wave 2026-Q1)"
    bulk = counts.groupby(["rule", "column"])["count"].sum()
    assert bulk[("missing_code", "delivery")] == 1
    assert bulk[("reverse_coded", "loyalty_cognitive")] == 10
    assert bulk[("country_normalized", "country")] == 9  # every kept spelling that was not "XX"
    # never verbatim text in the log
    text = " ".join(log["value"].dropna().astype(str)) + " ".join(log["message"].astype(str))
    assert "Caf" not in text and "Fast delivery" not in text and "example.com" not in text
    # the log accounts for the exclusions
    assert log.loc[log["action"] == "excluded", "count"].sum() == 4


def test_exclusion_options(write_export):
    raw = read_export(write_export("rel.csv", qualtrics_text(survey_rows())))
    book = parse_codebook(codebook_dict())
    both = clean_export(raw, book, exclude_speeders=True, exclude_straightliners=True)
    assert both.summary["excluded"]["speeder"] == 1
    assert both.summary["excluded"]["straightliner"] == 1
    assert both.summary["kept"] == 8 and not both.data["flag_speeder"].any()
    strict = clean_export(raw, book, straightline_min=7)  # only 6 attributes: nobody qualifies
    assert strict.summary["flagged"]["straightliner"] == 0
    lenient = clean_export(raw, book, speeder_ratio=1.0)  # below the median (600): only R_007
    assert lenient.summary["flagged"]["speeder"] == 1
    with pytest.raises(DataError, match="speeder_ratio must be in"):
        clean_export(raw, book, speeder_ratio=0)
    with pytest.raises(DataError, match="straightline_min must be at least 2"):
        clean_export(raw, book, straightline_min=1)


# --------------------------------------------------------------------------------------------------
# every format and encoding gives the same clean table


def _comparable(data: pd.DataFrame) -> pd.DataFrame:
    return data.drop(columns=["source", "source_row"]).reset_index(drop=True)


def test_every_format_gives_the_same_table(tmp_path, write_export):
    rows = survey_rows()
    reference = clean_export(
        read_export(write_export("q3.csv", qualtrics_text(rows), "utf-8-sig")),
        parse_codebook(codebook_dict()),
    )
    book = parse_codebook(codebook_dict())
    candidates = {
        "q2.csv": read_export(write_export("q2.csv", qualtrics_text(rows, header_rows=2))),
        "plain.csv": read_export(write_export("plain.csv", plain_text(rows))),
        "bom.csv": read_export(write_export("bom.csv", plain_text(rows), "utf-8-sig")),
        "survey.xlsx": read_export(write_xlsx(tmp_path / "survey.xlsx", rows)),
    }
    for name, raw in candidates.items():
        result = clean_export(raw, book)
        pd.testing.assert_frame_equal(_comparable(result.data), _comparable(reference.data))
        assert result.summary["excluded"] == reference.summary["excluded"], name
        assert result.summary["set_missing"] == reference.summary["set_missing"], name
    sav_book = codebook_dict()
    sav_book["columns"]["duration"]["source"] = "Duration"
    sav = clean_export(read_export(write_sav(tmp_path / "s.sav", rows)), parse_codebook(sav_book))
    pd.testing.assert_frame_equal(_comparable(sav.data), _comparable(reference.data))
    assert sav.data["source_row"].iloc[0] == 1  # SPSS case number


def test_cp1252_export_gives_the_same_table(write_export):
    rows = survey_rows()
    for row in rows:  # 日本 and combining accents do not exist in cp1252
        row["Q1"] = row["Q1"].replace("日本", "Japon")
        row["Q10"] = row["Q10"].replace("e\u0301", "\u00e9")
    book = parse_codebook(codebook_dict())
    utf8 = clean_export(read_export(write_export("u.csv", plain_text(rows))), book)
    cp1252 = read_export(write_export("w.csv", plain_text(rows), "cp1252"))
    assert cp1252.encoding == "cp1252"
    pd.testing.assert_frame_equal(
        _comparable(clean_export(cp1252, book).data), _comparable(utf8.data)
    )


def test_sav_scale_with_end_only_value_labels_stays_numeric(tmp_path):
    path = tmp_path / "labels.sav"
    frame = pd.DataFrame({"id": ["a", "b", "c"], "cc": ["DE", "FR", "NA"], "q": [1.0, 7.0, 10.0]})
    pyreadstat.write_sav(
        frame, str(path), variable_value_labels={"q": {1: "Very poor", 10: "Excellent"}}
    )
    book = parse_codebook(
        {
            "kind": "responses",
            "columns": {
                "rid": {"source": "id", "role": "id"},
                "country": {"source": "cc", "role": "country"},
                "quality": {"source": "q", "role": "attribute", "scale": [1, 10]},
            },
        }
    )
    result = clean_export(read_export(path), book)
    assert result.data["quality"].tolist() == [1, 7, 10]
    assert str(result.data["quality"].dtype) == "Int64"
    assert result.data["country"].tolist() == ["DE", "FR", "NA"]


def test_surveymonkey_export_with_us_dates_and_a_wave_column(write_export):
    header1 = ["Respondent ID", "Collector ID", "Start Date", "Wave", "Country", "How likely?"]
    header1 += ["How satisfied are you with:", ""]
    header2 = ["", "", "", "", "Response", "Response", "Product quality", "Delivery"]
    rows = [
        ["1001", "7", "01/15/2026 10:02:03 AM", "2026-Q1", "Deutschland", "9", "8", "99"],
        ["1002", "7", "10/01/2025 01:00:00 PM", "2025-Q4", "Namibia", "11", "3", "4"],
        ["1002", "7", "10/01/2025 01:00:00 PM", "2025-Q4", "Namibia", "11", "3", "4"],
    ]
    path = write_export("monkey.csv", csv_text([header1, header2, *rows]))
    book = parse_codebook(
        {
            "kind": "responses",
            "format": "surveymonkey",
            "missing_codes": [99],
            "columns": {
                "response_id": {"source": "Respondent ID", "role": "id"},
                "date": {"source": "Start Date", "role": "date", "format": "%m/%d/%Y %I:%M:%S %p"},
                "wave": {"source": "Wave", "role": "wave"},
                "country": {"source": "Country", "role": "country"},
                "ltr": {"source": "How likely?", "role": "nps", "scale": [0, 10]},
                "product_quality": {
                    "source": "How satisfied are you with: | Product quality",
                    "role": "attribute",
                    "scale": [1, 10],
                },
                "delivery": {
                    "source": "How satisfied are you with: | Delivery",
                    "role": "attribute",
                    "scale": [1, 10],
                },
            },
        }
    )
    result = clean_export(read_export(path), book)
    data = result.data
    assert data["response_id"].tolist() == ["1001", "1002"]
    assert data["source_row"].tolist() == [3, 4]  # two header rows
    assert data["date"].tolist() == [
        pd.Timestamp("2026-01-15 10:02:03"),
        pd.Timestamp("2025-10-01 13:00:00"),
    ]
    assert data["wave"].cat.ordered and list(data["wave"].cat.categories) == ["2025-Q4", "2026-Q1"]
    assert data["country"].tolist() == ["DE", "NA"]
    assert data["ltr"].tolist() == [9, pd.NA]  # 11 is out of range
    assert data["delivery"].tolist() == [pd.NA, 4]  # 99 is a code
    assert result.summary["excluded"]["duplicate_id"] == 1
    oor = result.log[result.log["rule"] == "out_of_range"]
    assert oor[["source_row", "column", "value"]].values.tolist() == [[4, "ltr", "11"]]


# --------------------------------------------------------------------------------------------------
# errors that stop cleaning


def test_qualtrics_read_as_plain_csv_is_refused(write_export):
    path = write_export("q3.csv", qualtrics_text(survey_rows()))
    with pytest.raises(
        ExportError,
        match=r"q3\.csv, row 3, column 'StartDate': found a Qualtrics ImportId cell .* "
        r"set 'format: qualtrics'",
    ):
        clean_export(read_export(path, format="csv"), parse_codebook(codebook_dict()))


def test_question_text_row_read_as_data_is_refused(write_export):
    path = write_export("q2.csv", qualtrics_text(survey_rows(), header_rows=2))
    with pytest.raises(
        ExportError,
        match=r"q2\.csv, row 2: looks like a header row, not data: 10 of 10 rating columns hold "
        r"text such as 'How likely are you",
    ):
        clean_export(read_export(path, format="csv"), parse_codebook(codebook_dict()))


def _sheet_with(tmp_path: Path, cell: str, value: object) -> Path:
    path = write_xlsx(tmp_path / "survey.xlsx", survey_rows())
    workbook = openpyxl.load_workbook(path)
    workbook["Sheet1"][cell] = value
    workbook.save(path)
    return path


def test_excel_date_in_rating_column(tmp_path):
    # column L is Q7_4 (delivery); row 7 is the 6th data row
    assert SOURCES[11] == "Q7_4"
    path = _sheet_with(tmp_path, "L7", datetime(2026, 1, 5))
    with pytest.raises(
        ExportError,
        match=r"survey\.xlsx: sheet 'Sheet1', cell L7: Excel date \(2026-01-05\) in rating column "
        r"'delivery' \(source 'Q7_4'\)",
    ):
        clean_export(read_export(path), parse_codebook(codebook_dict()))


def test_excel_formula_in_rating_column(tmp_path):
    path = _sheet_with(tmp_path, "I9", "=B2+1")
    with pytest.raises(
        ExportError,
        match=r"sheet 'Sheet1', cell I9: formula '=B2\+1' in rating column 'product_quality'",
    ):
        clean_export(read_export(path), parse_codebook(codebook_dict()))


def test_missing_source_column(write_export):
    path = write_export("plain.csv", plain_text(survey_rows()).replace("Q7_4", "Q7_04"))
    with pytest.raises(
        CodebookError,
        match=r"missing from export 'plain\.csv': column 'delivery': source 'Q7_4' not found",
    ):
        clean_export(read_export(path), parse_codebook(codebook_dict()))


def test_dates_with_format_invalid_dates_and_wrong_format(write_export):
    rows = survey_rows()
    for row in rows:
        row["StartDate"] = "15/01/2026 10:00"
    rows[0]["StartDate"] = "31/02/2026 10:00"  # no such day
    text = plain_text(rows)
    book = codebook_dict()
    book["columns"]["date"]["format"] = "%d/%m/%Y %H:%M"
    result = clean_export(read_export(write_export("d.csv", text)), parse_codebook(book))
    log = result.log[result.log["rule"] == "invalid_date"]
    assert log[["source_row", "value"]].values.tolist() == [[2, "31/02/2026 10:00"]]
    assert result.data["date"].isna().sum() == 1
    assert result.data["wave"].isna().sum() == 1
    with pytest.raises(
        CodebookError,
        match=r"d\.csv: column 'StartDate' \(date 'date'\): 14 of 14 dates do not parse as ISO "
        r"dates .*e\.g\. '31/02/2026 10:00' \(data row 1\); give the column's date format "
        r"in the codebook: format: '%d/%m/%Y %H:%M'$",  # read from 13 of the 14 dates
    ):
        clean_export(read_export(write_export("d.csv", text)), parse_codebook(codebook_dict()))
    for row in rows:
        row["StartDate"] = "01/02/2026"  # 1 February or 2 January: the export's settings say
    with pytest.raises(
        CodebookError, match=r"format: '%d/%m/%Y' or format: '%m/%d/%Y' \(which one, the export"
    ):
        clean_export(read_export(write_export("e.csv", plain_text(rows))), parse_codebook(book))


def _rating_export(write_export, name: str, ratings: list[str]) -> RawExport:
    rows = [["id", "country", "Q5", "Q6"]] + [
        [f"R{i}", "DE", "8", r] for i, r in enumerate(ratings)
    ]
    return read_export(write_export(name, csv_text(rows)))


_RATING_BOOK = parse_codebook(
    {
        "kind": "responses",
        "missing_codes": [99],
        "columns": {
            "rid": {"source": "id", "role": "id"},
            "country": {"source": "country", "role": "country"},
            "ltr": {"source": "Q5", "role": "nps"},
            "satisfaction": {"source": "Q6", "role": "overall", "scale": [1, 5]},
        },
    }
)


def test_a_wrong_scale_stops_cleaning(write_export):
    # a 0-10 question declared 1-5: 0 and 6-10 (6 of 11 values, 50 answers each) are outside;
    # blanks and the missing code 99 do not count
    ratings = [str(i % 11) for i in range(550)] + [""] * 20 + ["99"] * 30
    raw = _rating_export(write_export, "wrong.csv", ratings)
    with pytest.raises(ExportError) as err:
        clean_export(raw, _RATING_BOOK)
    assert str(err.value).startswith(
        "export 'wrong.csv', column 'satisfaction' (source 'Q6'): 55% of 550 values fall outside "
        "the codebook's scale; values 0-10 found; codebook says 1-5. Fix the codebook's scale"
    )


@pytest.mark.parametrize(
    ("texts", "found", "hint"),
    [
        (["4,0"] * 40 + ["2,0"] * 60, "100% of 100 answers", "decimal comma"),
        (["4"] * 80 + ["5 - Very satisfied"] * 20, "20% of 100 answers", "'Use numeric values'"),
    ],
)
def test_answers_exported_as_text_stop_cleaning(write_export, texts, found, hint):
    """Decimal commas or the answers' labels instead of numbers: not typing errors, an export
    setting; setting them missing would drop whole scale points (or every answer) silently."""
    raw = _rating_export(write_export, "labels.csv", texts + [""] * 10 + ["99"] * 5)
    with pytest.raises(ExportError) as err:
        clean_export(raw, _RATING_BOOK)
    message = str(err.value)
    assert message.startswith(
        f"export 'labels.csv', column 'satisfaction' (source 'Q6'): {found} are not whole "
        f"numbers on the scale 1-5, e.g. {texts[-1]!r}"
    )
    assert hint in message
    # 5 of 100 (5%): stray text, set missing and logged as before
    result = clean_export(
        _rating_export(write_export, "few.csv", ["3"] * 95 + ["n/a?"] * 5), _RATING_BOOK
    )
    assert result.summary["set_missing"] == {"non_numeric": 5}


def test_a_few_stray_values_are_set_missing(write_export):
    assert (MAX_OUT_OF_RANGE_SHARE, MIN_OUT_OF_RANGE_VALUES) == (0.05, 5)
    # 5 of 100 (5%, not more): stray values, set missing and logged as before
    result = clean_export(
        _rating_export(write_export, "a.csv", ["3"] * 95 + ["7"] * 5), _RATING_BOOK
    )
    assert result.summary["set_missing"] == {"out_of_range": 5}
    assert result.data["satisfaction"].isna().sum() == 5
    # 4 of 20 (20%) but fewer than 5 values: a small export's typos, not a wrong scale
    result = clean_export(
        _rating_export(write_export, "b.csv", ["3"] * 16 + ["0"] * 4), _RATING_BOOK
    )
    assert result.summary["set_missing"] == {"out_of_range": 4}
    # 6 of 100 (6%): the codebook's scale is wrong
    raw = _rating_export(write_export, "c.csv", ["3"] * 94 + ["6"] * 6)
    with pytest.raises(
        ExportError, match=r"6\.0% of 100 values .* values 3-6 found; codebook says 1-5"
    ):
        clean_export(raw, _RATING_BOOK)


# --------------------------------------------------------------------------------------------------
# waves


def test_wave_labels_calendar_and_fiscal():
    dates = pd.Series(
        pd.to_datetime(["2025-06-30", "2025-07-01", "2025-12-31", "2026-01-01", "2026-06-30", None])
    )
    assert wave_labels(dates).tolist() == [
        "2025-Q2",
        "2025-Q3",
        "2025-Q4",
        "2026-Q1",
        "2026-Q2",
        pd.NA,
    ]
    # fiscal year starting in July, named by the calendar year in which it ends
    assert wave_labels(dates, fiscal_year_start=7).tolist() == [
        "FY2025-Q4",
        "FY2026-Q1",
        "FY2026-Q2",
        "FY2026-Q3",
        "FY2026-Q4",
        pd.NA,
    ]
    # April start (e.g. Japan, UK): March 2026 closes FY2026, April 2026 opens FY2027
    april = pd.Series(pd.to_datetime(["2026-03-31", "2026-04-01"]))
    assert wave_labels(april, fiscal_year_start=4).tolist() == ["FY2026-Q4", "FY2027-Q1"]
    with pytest.raises(DataError, match="fiscal_year_start must be a month 1-12"):
        wave_labels(april, fiscal_year_start=0)
    # before 1970 (negative months since the epoch) the arithmetic still floors
    old = pd.Series(pd.to_datetime(["1969-12-31 23:59", "1969-01-01 00:00", None]))
    assert wave_labels(old).tolist() == ["1969-Q4", "1969-Q1", pd.NA]
    assert _month_labels(old).tolist() == ["1969-12", "1969-01", pd.NA]


def test_a_survey_without_dates_is_one_wave(write_export):
    raw = _rating_export(write_export, "nodate.csv", ["3", "4", "5"])
    data = clean_export(raw, _RATING_BOOK).data
    assert data["wave"].astype(str).tolist() == ["all"] * 3 == [SINGLE_WAVE] * 3
    assert list(data["wave"].cat.categories) == ["all"] and data["wave"].cat.ordered
    assert "month" not in data and data.attrs["roles"]["wave"] == "wave"
    # a file without ratings (revenue) is not a survey: no wave
    revenue = parse_codebook(
        {
            "kind": "revenue",
            "columns": {
                "account": {"source": "id", "role": "account"},
                "revenue_usd": {"source": "Q5", "role": "other", "type": "float"},
            },
        }
    )
    assert "wave" not in clean_export(raw, revenue).data


def test_fiscal_waves_from_the_codebook(write_export):
    raw = read_export(write_export("rel.csv", qualtrics_text(survey_rows())))
    book = parse_codebook(codebook_dict(waves={"from": "date", "fiscal_year_start": 7}))
    data = clean_export(raw, book).data
    assert list(data["wave"].cat.categories) == ["FY2026-Q2", "FY2026-Q3"]


# --------------------------------------------------------------------------------------------------
# property: no row is ever lost or duplicated


_IDS = ["R1", "R2", "R3", "", "00123", " R1 ", "NA"]
_COUNTRIES = ["DE", "Deutschland", "NA", "N/A", "", "Atlantis", "us", "日本", " uk "]
_RATINGS = ["", "1", "5", "10", "11", "0", "99", "7.5", "1E5", "n/a", " 7 ", "7"]
_DURATIONS = ["", "10", "600", "650", "abc", "-5"]
_PROPERTY_BOOK = parse_codebook(
    {
        "kind": "responses",
        "missing_codes": [99],
        "columns": {
            "rid": {"source": "id", "role": "id"},
            "country": {"source": "cc", "role": "country"},
            "duration": {"source": "dur", "role": "duration"},
            "nps": {"source": "q0", "role": "nps", "scale": [0, 10]},
            **{
                f"a{k}": {"source": f"q{k}", "role": "attribute", "scale": [1, 10]}
                for k in range(1, 7)
            },
        },
    }
)


@st.composite
def _raw_exports(draw: st.DrawFn) -> RawExport:
    n = draw(st.integers(0, 25))
    columns = {
        "id": draw(st.lists(st.sampled_from(_IDS), min_size=n, max_size=n)),
        "cc": draw(st.lists(st.sampled_from(_COUNTRIES), min_size=n, max_size=n)),
        "dur": draw(st.lists(st.sampled_from(_DURATIONS), min_size=n, max_size=n)),
    }
    for k in range(7):
        columns[f"q{k}"] = draw(st.lists(st.sampled_from(_RATINGS), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {c: np.asarray(v, dtype=object) for c, v in columns.items()},
        index=pd.Index(np.arange(2, n + 2, dtype=np.int64), name="source_row"),
        dtype=object,
    )
    return RawExport(frame=frame, header_rows=1, format="csv", encoding="utf-8", path=Path("h.csv"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=_raw_exports(),
    exclude_speeders=st.booleans(),
    exclude_straightliners=st.booleans(),
    straightline_min=st.integers(2, 7),
)
def test_rows_are_partitioned_into_kept_and_excluded(
    raw, exclude_speeders, exclude_straightliners, straightline_min
):
    # random ratings hold many out-of-range cells ("0", "11": 2 of 12 texts), which the scale
    # guard would refuse as a wrong scale; this test is about the rows, the guard has its own
    with mock.patch("csatlib.ingest.clean.MAX_OUT_OF_RANGE_SHARE", 1.0):
        result = clean_export(
            raw,
            _PROPERTY_BOOK,
            exclude_speeders=exclude_speeders,
            exclude_straightliners=exclude_straightliners,
            straightline_min=straightline_min,
        )
    rows = set(raw.frame.index)
    kept = result.data["source_row"].tolist()
    excluded = result.log.loc[result.log["action"] == "excluded", "source_row"].tolist()
    assert len(kept) == len(set(kept)) and len(excluded) == len(set(excluded))  # no duplicates
    assert set(kept).isdisjoint(excluded)
    assert set(kept) | set(excluded) == rows  # nothing lost
    summary = result.summary
    assert summary["kept"] + sum(summary["excluded"].values()) == summary["raw_rows"] == len(rows)
    assert result.data["rid"].notna().all() and result.data["rid"].is_unique
    assert result.data["country"].notna().all()
    ratings = result.data[["nps"] + [f"a{k}" for k in range(1, 7)]]
    assert ((ratings.stack() >= 0) & (ratings.stack() <= 10)).all()
    assert ratings.notna().any(axis=1).all()  # no empty response survives


# --------------------------------------------------------------------------------------------------
# build_processed / load_processed / data_quality_note


def _checksums(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (the dataset's too) by its path relative to it."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_build_writes_outputs_and_never_touches_raw(ingest_raw_dir, tmp_path):
    before = _checksums(ingest_raw_dir)
    out = tmp_path / "processed"
    summary = build_processed(ingest_raw_dir, out)
    assert _checksums(ingest_raw_dir) == before
    assert isinstance(summary, BuildSummary)
    assert sorted(p.name for p in out.iterdir()) == [
        ".raw_dir",  # the raw folder, which the reports of this folder read (csatlib.config)
        "cleaning_log.csv",
        "cleaning_summary.json",
        "dataset",  # the same tables, partitioned (csatlib.ingest.dataset)
        "responses.parquet",
    ]
    assert (summary.raw_rows, summary.kept) == (14, 10)
    assert summary.excluded["duplicate_id"] == 1
    on_disk = json.loads((out / "cleaning_summary.json").read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(summary.summary))
    assert on_disk["kinds"] == {
        "responses": {
            "file": "responses.parquet",
            "rows": 10,
            "sources": ["relationship_survey.csv"],
        }
    }
    log = pd.read_csv(out / "cleaning_log.csv", dtype=str, keep_default_na=False)
    assert list(log.columns) == list(LOG_COLUMNS)
    assert (log["action"] == "excluded").sum() == 4


def test_load_processed_restores_attrs_and_dtypes(ingest_raw_dir, tmp_path):
    out = tmp_path / "processed"
    build_processed(ingest_raw_dir, out)
    data = load_processed("responses", out)
    book = load_codebook(ingest_raw_dir / "relationship_survey.codebook.yaml")
    direct = clean_export(read_export(ingest_raw_dir / "relationship_survey.csv"), book).data
    pd.testing.assert_frame_equal(data, direct)
    assert data["wave"].cat.ordered and list(data["wave"].cat.categories) == ["2025-Q4", "2026-Q1"]
    assert data.attrs["roles"] == direct.attrs["roles"]
    assert data.attrs["scales"]["delivery"] == [1, 10]
    assert data.attrs["own_brand"] == "Contoso" and data.attrs["kind"] == "responses"
    assert data.loc[data["response_id"] == "00123", "country"].item() == "JP"
    assert (data["country"] == "NA").sum() == 1
    # the study simply has no transaction survey: say so, do not send the user to `csat data`
    with pytest.raises(DataError, match="the study has no 'transactions' table") as info:
        load_processed("transactions", out)
    assert "run `csat data`" not in str(info.value)
    with pytest.raises(DataError, match="responses.parquet not found; run `csat data`"):
        load_processed("responses", tmp_path / "nothing_built")


def test_load_processed_keeps_tables_but_hands_out_copies(ingest_raw_dir, tmp_path):
    out = tmp_path / "processed"
    build_processed(ingest_raw_dir, out)
    first = load_processed("responses", out)
    first.loc[first.index[0], "likelihood_to_recommend"] = -99  # the caller's own copy
    with pytest.raises(TypeError, match="read-only"):  # shared metadata cannot be changed ...
        first.attrs["roles"]["delivery"] = "changed"
    first.attrs["roles"] = {**first.attrs["roles"], "delivery": "changed"}  # ... only replaced
    second = load_processed("responses", out)
    assert second is not first
    assert second["likelihood_to_recommend"].iloc[0] != -99
    assert second.attrs["roles"]["delivery"] == "attribute"
    # a rebuild (new file renamed into place) is read again, never served from memory
    (ingest_raw_dir / "relationship_survey.csv").write_bytes(
        qualtrics_text(survey_rows()[:5]).encode("utf-8-sig")
    )
    build_processed(ingest_raw_dir, out)
    assert len(load_processed("responses", out)) < len(second)


def test_build_is_atomic(ingest_raw_dir, tmp_path):
    out = tmp_path / "processed"
    build_processed(ingest_raw_dir, out)
    before = _checksums(out)
    bad = codebook_dict(file="other.csv", kind="transactions")
    bad["columns"]["delivery"]["source"] = "Q_missing"
    (ingest_raw_dir / "other.csv").write_text(plain_text(survey_rows()), encoding="utf-8")
    (ingest_raw_dir / "zz_other.codebook.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(CodebookError, match="source 'Q_missing' not found"):
        build_processed(ingest_raw_dir, out)
    assert _checksums(out) == before  # previous outputs intact, no temporary files left
    fresh = tmp_path / "fresh"
    with pytest.raises(CodebookError):
        build_processed(ingest_raw_dir, fresh)
    assert not fresh.exists() or not any(fresh.iterdir())


def test_build_refuses_to_write_into_raw_and_needs_codebooks(ingest_raw_dir, tmp_path):
    with pytest.raises(DataError, match="is the raw data folder"):
        build_processed(ingest_raw_dir, ingest_raw_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ExportError, match=r"no \*\.codebook\.yaml in"):
        build_processed(empty, tmp_path / "out")
    (ingest_raw_dir / "relationship_survey.csv").unlink()
    with pytest.raises(CodebookError, match="file 'relationship_survey.csv' does not exist"):
        build_processed(ingest_raw_dir, tmp_path / "out")


def test_two_exports_of_one_kind_are_concatenated(ingest_raw_dir, tmp_path):
    rows = survey_rows()
    wave2 = [dict(r, ResponseId=r["ResponseId"].replace("R_0", "S_0")) for r in rows]
    wave2[0]["ResponseId"] = "R_014"  # already kept from the first export
    wave2[0]["StartDate"] = "2026-04-02 09:00:00"
    (ingest_raw_dir / "second.csv").write_text(plain_text(wave2), encoding="utf-8")
    book = codebook_dict(file="second.csv")
    (ingest_raw_dir / "second.codebook.yaml").write_text(yaml.safe_dump(book), encoding="utf-8")
    summary = build_processed(ingest_raw_dir, tmp_path / "out")
    data = load_processed("responses", tmp_path / "out")
    sources = {s["source"]: s for s in summary.summary["sources"]}
    assert sources["relationship_survey.csv"]["kept"] == 10
    # second.csv: same defects; R_014 (row 1) and 00123 were kept from the first export, and
    # S_001 (row 2, a copy of row 1 in the first export) is now a new id
    assert sources["second.csv"]["excluded"]["duplicate_id"] == 2
    assert sources["second.csv"]["kept"] == 9
    assert len(data) == 19 and data["response_id"].is_unique
    assert set(data["source"].cat.categories) == {"relationship_survey.csv", "second.csv"}
    assert str(data["country"].dtype) == "category"
    log = pd.read_csv(tmp_path / "out" / "cleaning_log.csv", dtype=str, keep_default_na=False)
    dup = log[(log["source"] == "second.csv") & (log["rule"] == "duplicate_id")]
    assert dup["message"].tolist() == [
        f"id {rid!r} already seen in an earlier export of the same kind; first occurrence kept"
        for rid in ("R_014", "00123")
    ]


def _tables(folder: Path) -> dict[str, object]:
    """Every Parquet file under ``folder`` as an Arrow table (values, types, metadata)."""
    import pyarrow.parquet as pq

    return {str(p.relative_to(folder)): pq.read_table(p) for p in sorted(folder.rglob("*.parquet"))}


def test_build_in_batches_writes_what_one_batch_writes(ingest_raw_dir, tmp_path, monkeypatch):
    # two exports of one kind whose categoricals differ (a segment and a country only in the
    # second), written 3 rows at a time: the files hold what the whole tables held
    rows = [dict(r, ResponseId=r["ResponseId"].replace("R_0", "S_0")) for r in survey_rows()]
    rows[3]["Q3"], rows[4]["Q1"] = "Public sector", "Japan"
    (ingest_raw_dir / "second.csv").write_text(plain_text(rows), encoding="utf-8")
    book = codebook_dict(file="second.csv")
    (ingest_raw_dir / "second.codebook.yaml").write_text(yaml.safe_dump(book), encoding="utf-8")
    build_processed(ingest_raw_dir, tmp_path / "whole")
    monkeypatch.setattr("csatlib.ingest.clean.BATCH_ROWS", 3)
    build_processed(ingest_raw_dir, tmp_path / "batches")
    whole, batches = _tables(tmp_path / "whole"), _tables(tmp_path / "batches")
    assert whole.keys() == batches.keys() and len(whole) >= 3  # a file and two waves
    for name, table in whole.items():
        assert batches[name].equals(table, check_metadata=True), name
    for name in ("cleaning_log.csv", "cleaning_summary.json"):
        first = (tmp_path / "whole" / name).read_text(encoding="utf-8")
        assert first == (tmp_path / "batches" / name).read_text(encoding="utf-8")
    # and the table is the exports cleaned whole and concatenated (pandas.concat)
    data = load_processed("responses", tmp_path / "batches")
    first = clean_export(
        read_export(ingest_raw_dir / "relationship_survey.csv"),
        load_codebook(ingest_raw_dir / "relationship_survey.codebook.yaml"),
    ).data
    second = clean_export(
        read_export(ingest_raw_dir / "second.csv"),
        load_codebook(ingest_raw_dir / "second.codebook.yaml"),
        known_ids=set(first["response_id"]),  # "00123" is in both
    ).data
    text = {"source": str, "segment": str, "country": str, "wave": str}
    expected = pd.concat([first.astype(text), second.astype(text)])
    got = data.astype(text)
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
    )
    assert list(data["segment"].cat.categories) == sorted(set(expected["segment"].dropna()))
    assert "JP" in data["country"].cat.categories


def _second_wave(folder: Path, name: str, **overrides) -> dict:
    """Write a second export of the 14 survey rows (new ids) and its codebook into ``folder``."""
    rows = [dict(r, ResponseId=r["ResponseId"].replace("R_0", "S_0")) for r in survey_rows()]
    rows = [
        dict(r, ResponseId=f"S{r['ResponseId']}") if r["ResponseId"] == "00123" else r for r in rows
    ]
    (folder / f"{name}.csv").write_text(plain_text(rows), encoding="utf-8")
    book = codebook_dict(file=f"{name}.csv", **overrides)
    return book


def _write_book(folder: Path, name: str, book: dict) -> None:
    (folder / f"{name}.codebook.yaml").write_text(yaml.safe_dump(book), encoding="utf-8")


def test_two_studies_of_one_kind_are_refused(ingest_raw_dir, tmp_path):
    book = _second_wave(ingest_raw_dir, "other_study")
    del book["columns"]["importance_product_quality"]
    del book["columns"]["loyalty_cognitive"]
    book["columns"]["delivery"]["scale"] = [1, 5]
    book["columns"]["segment"]["role"] = "region"
    _write_book(ingest_raw_dir, "other_study", book)
    with pytest.raises(CodebookError) as err:
        build_processed(ingest_raw_dir, tmp_path / "out")
    message = str(err.value)
    assert message.startswith(
        "codebooks 'other_study.codebook.yaml', 'relationship_survey.codebook.yaml' all feed "
        "responses.parquet, but 'other_study.codebook.yaml' and "
        "'relationship_survey.codebook.yaml' are not the same study: their columns differ and "
        "they share no 'study' name: columns only in 'relationship_survey.codebook.yaml': "
        "importance_product_quality, loyalty_cognitive; roles differ: segment (region vs "
        "segment); scales differ: delivery ([1, 5] vs [1, 10])."
    )
    assert "`make reports RAW_DIR=that/folder`" in message
    assert "the same top-level key, e.g. 'study: Relationship survey'" in message
    assert not (tmp_path / "out").exists()  # checked before any export is read

    # different study names are never combined, even with the same columns
    _write_book(
        ingest_raw_dir, "other_study", _second_wave(ingest_raw_dir, "other_study", study="B")
    )
    book = codebook_dict(file="relationship_survey.csv", format="qualtrics", study="A")
    _write_book(ingest_raw_dir, "relationship_survey", book)
    with pytest.raises(CodebookError, match=r"they declare different studies \('B' vs 'A'\)"):
        build_processed(ingest_raw_dir, tmp_path / "out")


def test_one_study_name_combines_waves_whose_questionnaire_changed(ingest_raw_dir, tmp_path):
    book = _second_wave(ingest_raw_dir, "wave2", study="Relationship survey")
    del book["columns"]["loyalty_cognitive"]  # the question was dropped in wave 2
    _write_book(ingest_raw_dir, "wave2", book)
    first = codebook_dict(file="relationship_survey.csv", format="qualtrics")
    _write_book(ingest_raw_dir, "relationship_survey", dict(first, study="Relationship survey"))
    summary = build_processed(ingest_raw_dir, tmp_path / "out")
    data = load_processed("responses", tmp_path / "out")
    assert summary.kept == len(data) == 20  # 10 kept from each export
    in_wave2 = (data["source"] == "wave2.csv").to_numpy()
    assert data.loc[in_wave2, "loyalty_cognitive"].isna().all()
    assert data.loc[~in_wave2, "loyalty_cognitive"].notna().sum() == 10
    # the same columns combine without a study name, and with a name on one side only
    _write_book(ingest_raw_dir, "wave2", _second_wave(ingest_raw_dir, "wave2"))
    assert build_processed(ingest_raw_dir, tmp_path / "out").kept == 20


def test_a_kind_no_longer_in_the_raw_folder_is_removed(ingest_raw_dir, tmp_path):
    out = tmp_path / "out"
    book = _second_wave(ingest_raw_dir, "tickets", kind="transactions")
    _write_book(ingest_raw_dir, "tickets", book)
    build_processed(ingest_raw_dir, out)
    assert (out / "transactions.parquet").is_file()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    # the next study has no transaction survey; a failed build removes nothing
    (ingest_raw_dir / "tickets.codebook.yaml").unlink()
    (ingest_raw_dir / "relationship_survey.csv").rename(ingest_raw_dir / "moved.csv")
    with pytest.raises(CodebookError):
        build_processed(ingest_raw_dir, out)
    assert (out / "transactions.parquet").is_file()
    (ingest_raw_dir / "moved.csv").rename(ingest_raw_dir / "relationship_survey.csv")
    summary = build_processed(ingest_raw_dir, out)
    assert sorted(p.name for p in out.iterdir()) == [
        ".raw_dir",
        "cleaning_log.csv",
        "cleaning_summary.json",
        "dataset",
        "notes.txt",  # not a file build_processed writes
        "responses.parquet",
    ]
    assert sorted(p.name for p in (out / "dataset").iterdir()) == ["responses"]  # tickets gone
    assert summary.removed == (out / "transactions.parquet",)
    assert summary.summary["removed"] == ["transactions.parquet"]
    assert "transactions.parquet: removed (its kind is not in the raw folder any more)" in (
        summary.describe()
    )
    with pytest.raises(DataError, match="the study has no 'transactions' table"):
        load_processed("transactions", out)


def test_load_processed_returns_links_and_dimensions(ingest_raw_dir, tmp_path):
    build_processed(ingest_raw_dir, tmp_path / "out")
    data = load_processed("responses", tmp_path / "out")
    assert data.attrs["links"] == {"importance_product_quality": "product_quality"}
    assert data.attrs["dimensions"] == {"loyalty_cognitive": "cognitive"}
    # exports of one study that link an item to different attributes are refused
    book = _second_wave(ingest_raw_dir, "wave2")
    book["columns"]["importance_product_quality"]["attribute"] = "delivery"
    _write_book(ingest_raw_dir, "wave2", book)
    with pytest.raises(CodebookError, match="disagree on the link of column"):
        build_processed(ingest_raw_dir, tmp_path / "out")


def test_data_quality_note(ingest_raw_dir, tmp_path):
    summary = build_processed(ingest_raw_dir, tmp_path / "out")
    note = data_quality_note(summary)
    assert list(note.columns) == ["source", "kind", "measure", "detail", "n"]
    measures = note.set_index(["measure", "detail"])["n"]
    assert measures[("raw_rows", "")] == 14 and measures[("kept", "")] == 10
    assert measures[("excluded", "duplicate_id")] == 1
    assert measures[("set_missing", "out_of_range")] == 1
    assert measures[("flagged", "speeder")] == 1
    germany = data_quality_note(
        json.loads((tmp_path / "out" / "cleaning_summary.json").read_text()), country="DE"
    ).set_index(["measure", "detail"])["n"]
    # DE rows: R_001, its duplicate, R_003 (empty), R_014
    assert germany[("raw_rows", "")] == 4 and germany[("kept", "")] == 2
    assert germany[("excluded", "duplicate_id")] == 1
    assert germany[("excluded", "empty_response")] == 1
    great_britain = data_quality_note(summary, country="GB").set_index(["measure", "detail"])["n"]
    assert great_britain[("set_missing", "non_numeric")] == 2
    nowhere = data_quality_note(summary, country="ZW")
    assert nowhere["n"].sum() == 0


# --------------------------------------------------------------------------------------------------
# countries


def test_iso_table_is_complete_and_consistent():
    assert len(ISO_3166) == 249  # ISO 3166-1 officially assigned codes (iso-codes 2024)
    alpha2 = [r[0] for r in ISO_3166]
    alpha3 = [r[1] for r in ISO_3166]
    assert len(set(alpha2)) == len(set(alpha3)) == 249 and set(alpha2) == ALPHA2
    assert all(re.fullmatch(r"[A-Z]{2}", a) for a in alpha2)
    assert all(re.fullmatch(r"[A-Z]{3}", a) for a in alpha3)
    assert all(re.fullmatch(r"\d{3}", r[2]) for r in ISO_3166)
    # every code and English short name maps back to its own alpha-2 (no collisions)
    for code2, code3, _, name in ISO_3166:
        assert to_alpha2([code2, code3, name, code2.lower()]).tolist() == [code2] * 4
    assert set(country_lookup().values()) <= ALPHA2


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Deutschland", "DE"),
        ("germany", "DE"),
        ("DEU", "DE"),
        ("UK", "GB"),
        ("U.K.", "GB"),
        ("Great Britain", "GB"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("united states of america", "US"),
        ("  usa ", "US"),
        ("Nihon", "JP"),
        ("日本", "JP"),
        ("Namibia", "NA"),
        ("NA", "NA"),
        ("na", "NA"),
        ("Österreich", "AT"),
        ("Osterreich", "AT"),
        ("Côte d'Ivoire", "CI"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("South Korea", "KR"),
        ("대한민국", "KR"),
        ("Holland", "NL"),
        ("España", "ES"),
        ("Schweiz", "CH"),
        ("中国", "CN"),
        ("Viet Nam", "VN"),
        ("Czech Republic", "CZ"),
        ("EL", "GR"),
    ],
)
def test_country_variants(written, code):
    assert to_alpha2([written]).tolist() == [code]


@pytest.mark.parametrize("written", ["N/A", "n/a", "#N/A", "", "none", "Unknown", "Atlantis", None])
def test_not_countries(written):
    assert to_alpha2([written]).isna().all()


def test_country_key_ignores_case_space_punctuation_and_accents():
    assert country_key("U.S.A.") == country_key("usa") == "usa"
    assert country_key("Côte d’Ivoire") == country_key("cote divoire")


# --------------------------------------------------------------------------------------------------
# the sample data (written by csatlib.sample.synth) against its ground truth


_SAMPLE = RAW_DIR / "relationship_survey.codebook.yaml"


@pytest.mark.skipif(not _SAMPLE.is_file(), reason="sample data not generated (run `csat synth`)")
def test_sample_build_accounts_for_every_row(tmp_path):
    before = _checksums(RAW_DIR)
    summary = build_processed(RAW_DIR, tmp_path / "processed")
    assert _checksums(RAW_DIR) == before  # data/raw is only read
    truth = json.loads((RAW_DIR / "ground_truth.json").read_text(encoding="utf-8"))["defects"]
    sources = {s["source"]: s for s in summary.summary["sources"]}
    assert set(sources) == {"relationship_survey.csv", "transaction_survey.csv", "revenue.csv"}
    for source in sources.values():
        assert source["kept"] + sum(source["excluded"].values()) == source["raw_rows"]
    rel = sources["relationship_survey.csv"]
    assert rel["excluded"]["duplicate_id"] == truth["duplicates"]["count"]
    assert rel["excluded"]["empty_response"] == truth["empty"]["count"]
    assert rel["changes"]["out_of_range"] and (
        rel["set_missing"]["out_of_range"] == truth["out_of_range"]["count"]
    )
    assert rel["set_missing"]["non_numeric"] == truth["non_numeric"]["count"]
    data = load_processed("responses", tmp_path / "processed")
    assert set(data.loc[data["flag_speeder"], "response_id"]) == set(
        truth["speeders"]["response_ids"]
    )
    # synth's straight-liners answer all eight attributes alike; our rule (>= 5 answered, all
    # equal) also catches those with some "don't know" answers: a superset
    flagged = set(data.loc[data["flag_straightliner"], "response_id"])
    assert flagged >= set(truth["straight_liners"]["response_ids"])
    log = pd.read_csv(tmp_path / "processed" / "cleaning_log.csv", dtype=str, keep_default_na=False)
    assert set(log.loc[log["rule"] == "duplicate_id", "response_id"]) == set(
        truth["duplicates"]["response_ids"]
    )
    assert {"responses", "transactions", "revenue"} == set(summary.outputs)


@pytest.mark.skipif(not _SAMPLE.is_file(), reason="sample data not generated (run `csat synth`)")
def test_sample_cleaning_keeps_the_sample():
    # speed (~22k rows in under 2 s) is measured by benchmarks/bench_clean.py, not asserted here
    raw = read_export(RAW_DIR / "relationship_survey.csv")
    book = load_codebook(_SAMPLE)
    result = clean_export(raw, book)
    assert len(result.data) > 20_000


def test_bulk_counts_are_split_by_wave_and_add_up() -> None:
    from csatlib.ingest.clean import _counts_by_wave, _wave_positions

    waves = ["2026-Q1", "2026-Q2"]  # the study's order
    labels = np.array(["2026-Q1", "2026-Q2", None, "2026-Q2", None], dtype=object)
    row_waves = _wave_positions(labels, waves)
    assert row_waves.tolist() == [0, 1, -1, 1, -1]
    mask = np.array([True, True, True, True, False])
    assert _counts_by_wave(mask, row_waves, waves) == [("2026-Q1", 1), ("2026-Q2", 2), (None, 1)]
    assert _counts_by_wave(mask, None, []) == [(None, 4)]
    assert _counts_by_wave(np.zeros(5, bool), row_waves, waves) == []


def test_ids_are_trimmed_alike_from_codes_and_from_texts():
    # the columnar reader's categorical ids are trimmed by Arrow; the same texts as Python
    # strings by str.strip: every Unicode space (U+3000, U+0085, U+001C...) goes, inner ones stay
    from csatlib.ingest.clean import _ids

    texts = ["R_1", " R_1", "\u3000R_2\u2029", "\x1cR 3\x85", "", "  ", "R_4\xa0", "é\u200b"]
    categorical = _ids(pd.Series(pd.Categorical(texts)))
    plain = _ids(pd.Series(texts, dtype=object))
    rows = np.arange(len(texts))
    got = [None if pd.isna(v) else v for v in categorical.take(rows)]
    assert got == [None if pd.isna(v) else v for v in plain.take(rows)]
    assert got == [t.strip() or None for t in texts]  # "\u200b" is not a space


def test_a_row_whose_date_does_not_parse_is_kept_without_a_wave(ingest_raw_dir, tmp_path):
    # the date is set missing and logged; the row stays, in no wave, and the dataset holds it
    # in Hive's folder for a missing key (it stopped the whole build before)
    from csatlib.ingest.dataset import DATASET_DIR, read_dataset

    rows = survey_rows()
    rows[0]["StartDate"] = "not a date"
    export = ingest_raw_dir / "relationship_survey.csv"
    export.write_bytes(qualtrics_text(rows).encode("utf-8-sig"))
    build_processed(ingest_raw_dir, tmp_path / "out")
    data = load_processed("responses", tmp_path / "out")
    row = data[data["response_id"] == rows[0]["ResponseId"]]
    assert len(row) == 1 and row["wave"].isna().all() and row["date"].isna().all()
    folders = {p.name for p in (tmp_path / "out" / DATASET_DIR / "responses").iterdir()}
    assert "wave=__HIVE_DEFAULT_PARTITION__" in folders
    back = read_dataset("responses", tmp_path / "out")
    assert len(back) == len(data) and int(back["wave"].isna().sum()) == 1
    log = pd.read_csv(tmp_path / "out" / "cleaning_log.csv", dtype=str, keep_default_na=False)
    assert (log["rule"] == "invalid_date").sum() == 1


def _export(folder: Path, name: str, rows: list[dict], extra: dict, columns: dict) -> None:
    """An export of the survey rows with ``extra`` source columns (source -> a cell per row),
    and its codebook with ``columns`` added (canonical name -> spec; None removes one)."""
    grid = [SOURCES + list(extra)]
    grid += [[r[s] for s in SOURCES] + [extra[c][i] for c in extra] for i, r in enumerate(rows)]
    (folder / f"{name}.csv").write_text(csv_text(grid), encoding="utf-8")
    book = codebook_dict(file=f"{name}.csv", study="one study")
    for column, spec in columns.items():
        if spec is None:
            book["columns"].pop(column)
        else:
            book["columns"][column] = spec
    (folder / f"{name}.codebook.yaml").write_text(yaml.safe_dump(book), encoding="utf-8")


_TIER = {"source": "T", "role": "other", "type": "category"}


@pytest.mark.parametrize(
    "case",
    [
        "category_then_string",
        "string_then_category",
        "no_rows_kept_then_string",
        "a_value_only_in_an_excluded_row",
        "every_segment_empty",
        "segment_only_in_an_export_without_rows",
    ],
)
def test_batches_of_several_exports_write_what_the_whole_tables_concatenated_write(
    case, tmp_path, monkeypatch
):
    # the two exports of one kind, cleaned whole and concatenated (_concat, what csat data
    # wrote before it wrote in batches), against csat data writing 3 rows at a time
    import pyarrow.parquet as pq

    from csatlib.ingest.clean import _concat, _merge_attrs, _write_parquet

    raw = tmp_path / "raw"
    raw.mkdir()
    first = survey_rows()
    second = [dict(r, ResponseId=f"S{r['ResponseId']}") for r in survey_rows()]
    tiers = [["Gold", "Silver"][i % 2] for i in range(len(first))]
    string = dict(_TIER, type="string")
    if case == "category_then_string":
        specs = ({"tier": _TIER}, {"tier": string})
    elif case == "string_then_category":
        specs = ({"tier": string}, {"tier": _TIER})
    elif case == "no_rows_kept_then_string":
        first = [dict(r, ResponseId="") for r in first]  # every row without an id
        specs = ({"tier": _TIER}, {"tier": string})
    elif case == "a_value_only_in_an_excluded_row":
        tiers[1] = "Platinum"  # the second row is excluded (a duplicate id)
        specs = ({"tier": _TIER}, {"tier": _TIER})
    elif case == "every_segment_empty":
        first = [dict(r, Q3="") for r in first]
        second = [dict(r, Q3="") for r in second]
        specs = ({}, {})
    else:
        second = [dict(r, ResponseId="") for r in second]
        specs = ({"segment": None}, {})
    extra = {"T": tiers} if "tier" in specs[0] else {}
    _export(raw, "a_first", first, extra, specs[0])
    _export(raw, "b_second", second, {"T": tiers} if "tier" in specs[1] else {}, specs[1])
    monkeypatch.setattr("csatlib.ingest.clean.BATCH_ROWS", 3)
    build_processed(raw, tmp_path / "out")
    books = [load_codebook(raw / f"{n}.codebook.yaml") for n in ("a_first", "b_second")]
    a = clean_export(read_export(raw / "a_first.csv"), books[0]).data
    known = set(a["response_id"].dropna()) if "response_id" in a else set()
    b = clean_export(read_export(raw / "b_second.csv"), books[1], known_ids=known).data
    _write_parquet(_concat([a, b], _merge_attrs("responses", books)), tmp_path / "whole.parquet")
    got = pq.read_table(tmp_path / "out" / "responses.parquet")
    want = pq.read_table(tmp_path / "whole.parquet")
    assert got.schema.equals(want.schema, check_metadata=True)
    assert got.equals(want)


def test_the_cleaning_log_file_is_safe_to_open_in_a_spreadsheet(tmp_path):
    # the log quotes raw cells; one that a spreadsheet would evaluate gets an apostrophe
    rows = survey_rows()
    rows[5] = {**rows[5], "Q7_2": "=1+1", "Q7_3": "+cmd"}
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "relationship_survey.csv").write_bytes(qualtrics_text(rows).encode("utf-8-sig"))
    book = codebook_dict(file="relationship_survey.csv", format="qualtrics")
    (folder / "relationship_survey.codebook.yaml").write_text(yaml.safe_dump(book), "utf-8")
    build_processed(folder, tmp_path / "out")
    log = pd.read_csv(tmp_path / "out" / "cleaning_log.csv", dtype=str, keep_default_na=False)
    odd = log[log["rule"] == "non_numeric"]
    assert sorted(odd["value"]) == ["'+cmd", "'=1+1"]
    assert (
        not log.drop(columns="value").apply(lambda c: c.str.startswith(("=", "+", "@"))).any().any()
    )
