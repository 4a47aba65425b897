"""Exports for the ingestion tests (fixtures registered in tests/conftest.py): small exports written
by the tests themselves, in every supported format and encoding, with hand-placed defects whose
expected counts are stated next to them."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

# Export column ids (Qualtrics style) in file order.
SOURCES: list[str] = [
    "StartDate",
    "ResponseId",
    "Duration (in seconds)",
    "Q1",
    "Q2",
    "Q3",
    "Q5",
    "Q6",
    "Q7_1",
    "Q7_2",
    "Q7_3",
    "Q7_4",
    "Q7_5",
    "Q7_6",
    "Q8_1",
    "Q9_3",
    "Q10",
    "Q11",
    "Q12",
]
QUESTION_TEXTS: dict[str, str] = {
    "StartDate": "Start Date",
    "ResponseId": "Response ID",
    "Duration (in seconds)": "Duration (in seconds)",
    "Q1": "In which country are you based?",
    "Q2": "Which supplier do you mainly buy from?",
    "Q3": "Company size",
    "Q5": "How likely are you to recommend us to a colleague?",
    "Q6": "Overall, how satisfied are you with this supplier?",
    "Q7_1": "How satisfied are you with - Product quality",
    "Q7_2": "How satisfied are you with - Total cost of ownership",
    "Q7_3": "How satisfied are you with - Post-sales support",
    "Q7_4": "How satisfied are you with - Delivery",
    "Q7_5": "How satisfied are you with - Invoicing accuracy",
    "Q7_6": "How satisfied are you with - Ease of ordering",
    "Q8_1": "How important is - Product quality",
    "Q9_3": "I would switch supplier if offered a lower price",
    "Q10": "What do you like most about us?",
    "Q11": "May we contact you about your answers?",
    "Q12": "Your e-mail address",
}


def _row(
    rid: str,
    country: str,
    ratings: list[str],
    *,
    date: str = "2026-01-15 10:00:00",
    duration: str = "600",
    brand: str = "Contoso",
    segment: str = "Enterprise",
    nps: str = "8",
    overall: str = "7",
    importance: str = "9",
    loyalty: str = "3",
    text: str = "Fast delivery",
    contact: str = "Yes",
    email: str = "a@example.com",
) -> dict[str, str]:
    cells = dict(zip([f"Q7_{i}" for i in range(1, 7)], ratings, strict=True))
    return {
        "StartDate": date,
        "ResponseId": rid,
        "Duration (in seconds)": duration,
        "Q1": country,
        "Q2": brand,
        "Q3": segment,
        "Q5": nps,
        "Q6": overall,
        **cells,
        "Q8_1": importance,
        "Q9_3": loyalty,
        "Q10": text,
        "Q11": contact,
        "Q12": email,
    }


def survey_rows() -> list[dict[str, str]]:
    """14 responses with known defects (data row k is listed as 'k').

    Expected: raw 14; excluded duplicate_id 1 (row 2), empty_response 1 (row 3),
    unknown_country 1 (row 4), missing_country 1 (row 13); kept 10. Kept rows have: out_of_range 1
    (Q7_1 '11'), non_numeric 2 (Q7_2 '7.5', Q7_3 '1E5'), missing_code 1 (Q7_4 '99'), speeder 1
    (duration 10 vs median 600), straightliner 1 (six 7s), invalid_bool 1 ('maybe'), competitor 2.
    """
    ok = ["8", "7", "9", "6", "8", "7"]
    return [
        _row("R_001", "Deutschland", ok),  # 1
        _row("R_001", "Deutschland", ok),  # 2 duplicate of 1
        _row("R_003", "DE", [""] * 6, nps="99", overall="", importance="", loyalty=""),  # 3 empty
        _row("R_004", "Atlantis", ok),  # 4 unknown country
        _row("R_005", "NA", ok, brand="Fabrikam"),  # 5 Namibia
        _row("R_006", "UK", ["11", "7.5", "1E5", "99", "8", "7"]),  # 6 cell defects
        _row("R_007", "U.S.A.", ok, duration="10"),  # 7 speeder
        _row("R_008", "Japan", ["7"] * 6),  # 8 straight-liner
        _row("00123", "日本", ok, brand="Fabrikam"),  # 9 id with leading zeros
        _row("R_010", "FRA", ok, text="  Cafe\u0301 au lait  "),  # 10 trimmed + NFC
        _row("R_011", "United States", ok, contact="maybe"),  # 11 invalid bool
        _row("R_012", "Nihon", ok, date="2025-12-31 23:59:00"),  # 12 wave 2025-Q4
        _row("R_013", "", ok),  # 13 missing country
        _row("R_014", "germany", ok, loyalty="10"),  # 14 loyalty reversed -> 1
    ]


EXPECTED = {
    "raw_rows": 14,
    "kept": 10,
    "excluded": {
        "missing_id": 0,
        "duplicate_id": 1,
        "empty_response": 1,
        "missing_country": 1,
        "unknown_country": 1,
    },
    "out_of_range": 1,
    "non_numeric": 2,
    "missing_code": 1,
    "speeder": 1,
    "straightliner": 1,
    "invalid_bool": 1,
}


def codebook_dict(**overrides: Any) -> dict[str, Any]:
    """Codebook for survey_rows() (Qualtrics ids)."""
    book: dict[str, Any] = {
        "kind": "responses",
        "survey": "relationship",
        "own_brand": "Contoso",
        "missing_codes": [99],
        "waves": {"from": "date", "fiscal_year_start": 1},
        "columns": {
            "response_id": {"source": "ResponseId", "role": "id", "label": "Response ID"},
            "date": {"source": "StartDate", "role": "date", "label": "Start date"},
            "duration": {"source": "Duration (in seconds)", "role": "duration"},
            "country": {"source": "Q1", "role": "country", "label": "Country"},
            "brand": {"source": "Q2", "role": "brand"},
            "segment": {"source": "Q3", "role": "segment"},
            "likelihood_to_recommend": {"source": "Q5", "role": "nps", "scale": [0, 10]},
            "overall_satisfaction": {"source": "Q6", "role": "overall", "scale": [1, 10]},
            "product_quality": {"source": "Q7_1", "role": "attribute", "scale": [1, 10]},
            "total_cost_of_ownership": {"source": "Q7_2", "role": "attribute", "scale": [1, 10]},
            "post_sales_support": {"source": "Q7_3", "role": "attribute", "scale": [1, 10]},
            "delivery": {"source": "Q7_4", "role": "attribute", "scale": [1, 10]},
            "invoicing_accuracy": {"source": "Q7_5", "role": "attribute", "scale": [1, 10]},
            "ease_of_ordering": {"source": "Q7_6", "role": "attribute", "scale": [1, 10]},
            "importance_product_quality": {
                "source": "Q8_1",
                "role": "importance",
                "attribute": "product_quality",
                "scale": [1, 10],
            },
            "loyalty_cognitive": {
                "source": "Q9_3",
                "role": "loyalty",
                "dimension": "cognitive",
                "scale": [1, 10],
                "reverse": True,
            },
            "text_like": {"source": "Q10", "role": "text_like"},
            "contact_ok": {
                "source": "Q11",
                "role": "contact_ok",
                "true_values": ["Yes"],
                "false_values": ["No"],
            },
            "contact_email": {"source": "Q12", "role": "contact"},
        },
    }
    book.update(overrides)
    return book


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def qualtrics_text(rows: list[dict[str, str]], *, header_rows: int = 3) -> str:
    grid = [SOURCES, [QUESTION_TEXTS[s] for s in SOURCES]]
    if header_rows == 3:
        grid.append([json.dumps({"ImportId": s.lower()}) for s in SOURCES])
    grid += [[r[s] for s in SOURCES] for r in rows]
    return csv_text(grid)


def plain_text(rows: list[dict[str, str]]) -> str:
    return csv_text([SOURCES] + [[r[s] for s in SOURCES] for r in rows])


@pytest.fixture
def write_export(tmp_path: Path) -> Callable[..., Path]:
    """write_export(name, text, encoding) -> path of the written file."""

    def write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


@pytest.fixture
def write_codebook(tmp_path: Path) -> Callable[..., Path]:
    """write_codebook(name, mapping or YAML text) -> path."""

    def write(name: str, content: dict[str, Any] | str) -> Path:
        path = tmp_path / name
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def ingest_raw_dir(tmp_path: Path) -> Path:
    """A raw folder with one Qualtrics export (the 14 survey rows) and its codebook."""
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "relationship_survey.csv").write_bytes(
        qualtrics_text(survey_rows()).encode("utf-8-sig")
    )
    book = codebook_dict(file="relationship_survey.csv", format="qualtrics")
    (folder / "relationship_survey.codebook.yaml").write_text(
        yaml.safe_dump(book, sort_keys=False), encoding="utf-8"
    )
    return folder


def write_xlsx(path: Path, rows: list[dict[str, str]], *, numbers: bool = True) -> Path:
    """The survey rows as a workbook; whole and decimal numbers stored as Excel numbers."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append(SOURCES)
    for row in rows:
        cells: list[object] = []
        for source in SOURCES:
            text = row[source]
            if numbers and source != "ResponseId" and re.fullmatch(r"\d+", text):
                cells.append(int(text))
            elif numbers and re.fullmatch(r"\d+\.\d+", text):
                cells.append(float(text))
            else:
                cells.append(text if text != "" else None)
        sheet.append(cells)
    workbook.save(path)
    return path


def write_sav(path: Path, rows: list[dict[str, str]]) -> Path:
    """The survey rows as an SPSS file of string variables (SPSS names cannot have spaces)."""
    import pandas as pd
    import pyreadstat

    frame = pd.DataFrame({_sav_name(s): [r[s] for r in rows] for s in SOURCES})
    pyreadstat.write_sav(frame, str(path))
    return path


def _sav_name(source: str) -> str:
    return "Duration" if source == "Duration (in seconds)" else source
