"""Tests of csatlib.safety: formula-injection payloads come out inert in the CSV text."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from csatlib.errors import DataError
from csatlib.safety import neutralize_formula, safe_for_csv, write_csv_safely

# OWASP "CSV Injection" lists = + - @ tab and carriage return as the dangerous first characters.
PAYLOADS = [
    '=HYPERLINK("http://x","click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_neutralize_formula_prefixes_apostrophe(payload: str) -> None:
    assert neutralize_formula(payload) == "'" + payload


@pytest.mark.parametrize("value", ["Acme", "", " =not a formula", "Müller GmbH", "a=b", "'=x"])
def test_neutralize_formula_leaves_harmless_text(value: str) -> None:
    assert neutralize_formula(value) == value


def test_neutralize_formula_rejects_non_string() -> None:
    with pytest.raises(DataError, match="expected a str"):
        neutralize_formula(3)  # type: ignore[arg-type]


def test_safe_for_csv_touches_strings_only() -> None:
    df = pd.DataFrame(
        {
            "text": pd.array(["=1", "ok", pd.NA], dtype="string"),
            "obj": ["+x", 5, None],
            "cat": pd.Categorical(["@a", "b", "b"]),
            "num": [-1.5, 2.0, -3.0],
            "=col": ["a", "b", "c"],
        }
    )
    out = safe_for_csv(df)
    assert out["text"].tolist()[:2] == ["'=1", "ok"]
    assert pd.isna(out["text"].iloc[2])
    assert out["obj"].tolist()[:2] == ["'+x", 5]
    assert out["cat"].tolist() == ["'@a", "b", "b"]
    assert out["num"].tolist() == [-1.5, 2.0, -3.0]  # numbers are numbers to a spreadsheet
    assert list(out.columns)[-1] == "'=col"
    assert df["text"].iloc[0] == "=1"  # input not modified


def test_write_csv_safely_no_cell_starts_with_a_formula_prefix(tmp_path) -> None:
    df = pd.DataFrame({"account": PAYLOADS, "n": range(len(PAYLOADS))})
    path = write_csv_safely(df, tmp_path / "sub" / "out.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = [cell for row in rows[1:] for cell in row[:1]]
    assert cells == ["'" + p for p in PAYLOADS]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for c in row)
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["account"].str.lstrip("'").tolist() == PAYLOADS


def test_write_csv_safely_keeps_embedded_line_breaks_in_one_cell(tmp_path) -> None:
    comments = ["line one\rline two", "a\nb", "a\r\nb", 'say "hi", then go']
    path = write_csv_safely(pd.DataFrame({"comment": comments}), tmp_path / "c.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:]] == comments
