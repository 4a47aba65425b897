"""Tests of csatlib.text.hand_coding: the coding sheet (formulas neutralized, a seeded blind
audit sample) and hand codes read back (ids or labels, "none", errors naming row and value)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csatlib.errors import DataError
from csatlib.text import cit_codebook, code_tables, coding, hand_coding


@pytest.fixture
def loop_data(
    make_incidents, codebook: cit_codebook.CitCodebook
) -> tuple[pd.DataFrame, pd.DataFrame]:
    texts = ["fast delivery"] * 40 + [
        '=HYPERLINK("http://x","click")',
        "-5% discount would be nice",
        "@SUM(A1)",
        "+ the conference",
        "\tnothing",
        "the user conference was fun",
    ]
    incidents = make_incidents(texts)
    return incidents, coding.code_incidents(incidents, codebook)


def test_export_neutralizes_formulas_and_samples_audit(loop_data, tmp_path: Path) -> None:
    incidents, codes = loop_data
    path = tmp_path / "sheet.csv"
    sheet = hand_coding.export_for_coding(incidents, codes, path, audit_share=0.05, seed=3)
    assert sheet.columns.tolist() == [
        "incident_id",
        "valence",
        "text",
        "suggested",
        "attribute",
        "audit",
    ]
    # 6 uncoded incidents (the "-5% discount" one matches pricing, so it is rule-coded)
    uncoded = ~incidents["incident_id"].isin(codes["incident_id"])
    assert int(uncoded.sum()) == 5
    assert int((~sheet["audit"]).sum()) == 5
    assert int(sheet["audit"].sum()) == int(np.ceil(0.05 * 41))  # 41 rule-coded -> 3 audited
    assert (sheet.loc[sheet["audit"], "suggested"] == "").all()  # blind audit
    with path.open(encoding="utf-8-sig", newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert '\'=HYPERLINK("http://x","click")' in cells
    again = hand_coding.export_for_coding(incidents, codes, tmp_path / "b.csv", seed=3)
    assert again["incident_id"].tolist() == sheet["incident_id"].tolist()  # seeded


def test_import_round_trip_and_labels(loop_data, codebook, tmp_path: Path) -> None:
    incidents, codes = loop_data
    sheet = hand_coding.export_for_coding(incidents, codes, tmp_path / "s.csv", audit_share=0)
    filled = sheet.assign(attribute=["Pricing; on_time_delivery", "none", "", "pricing", "x"][:5])
    filled.loc[4, "attribute"] = "Proactive advice"
    hand = hand_coding.import_hand_codes(filled, incidents, codebook=codebook, coder="maria")
    assert hand.columns.tolist() == list(code_tables.CODE_COLUMNS)
    got = hand.groupby("incident_id")["attribute"].agg(lambda s: sorted(s.dropna()))
    first = sheet["incident_id"][0]
    assert got[first] == ["on_time_delivery", "pricing"]
    assert got[sheet["incident_id"][1]] == [] and got[sheet["incident_id"][2]] == []
    assert set(hand["coder"]) == {"maria"} and set(hand["method"]) == {"hand"}
    skipped = hand_coding.import_hand_codes(
        filled, incidents, codebook=codebook, blank_means="uncoded"
    )
    assert sheet["incident_id"][2] not in set(skipped["incident_id"])


def test_import_errors_name_row_and_value(loop_data, codebook, tmp_path: Path) -> None:
    incidents, _ = loop_data
    path = tmp_path / "codes.csv"
    path.write_text(
        "incident_id,coder,attribute\nr0|like|1,a,pricing\nr999|like|1,a,pricing\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"codes.csv, row 3: incident_id 'r999\|like\|1'"):
        hand_coding.import_hand_codes(path, incidents, codebook=codebook)
    path.write_text(
        "incident_id,coder,attribute\nr0|like|1,a,pricing\nr1|like|1,a,delivery speed\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"row 3: unknown attribute 'delivery speed'"):
        hand_coding.import_hand_codes(path, incidents, codebook=codebook)
