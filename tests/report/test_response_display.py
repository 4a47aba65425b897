"""Tests of csatlib.report.response: page-ready response-rate tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from csatlib.report.response import NO_INVITATIONS, load, response_display


def _invitations(n_de: int = 40, n_na: int = 5) -> pd.DataFrame:
    countries = ["DE"] * n_de + ["NA"] * n_na
    return pd.DataFrame(
        {
            "wave": "2026-Q3",
            "contact_id": [f"C{i:03d}" for i in range(len(countries))],
            "email": [f"p{i}@x.com" for i in range(len(countries))],
            "account": ["Acme"] * n_de + ["Kalahari"] * n_na,
            "country": countries,
            "region": "EMEA",
        }
    )


def _responses() -> pd.DataFrame:
    # 10 of the 40 German contacts and 2 of the 5 Namibian ones answered
    emails = [f"p{i}@x.com" for i in range(10)] + ["p40@x.com", "p41@x.com"]
    return pd.DataFrame({"wave": "2026-Q3", "contact_email": emails})


def test_tables_have_plain_headers_and_text_cells() -> None:
    shown = response_display(_invitations(), _responses(), by=("country",))
    assert shown.reason == "" and shown.wave == "2026-Q3"
    table = shown.tables["Response rate by country"].set_index("Country")
    assert list(table.columns) == ["Invited", "Answered", "Response rate (95% CI)"]
    # 10 / 40 = 25.0 %; Wilson 95 %: statsmodels proportion_confint(10, 40, method="wilson")
    # = (0.1419, 0.4019)
    assert table.loc["DE"].tolist() == ["40", "10", "25.0% (14.2% to 40.2%)"]


def test_small_cells_are_words_not_numbers() -> None:
    shown = response_display(_invitations(), _responses(), by=("country",))
    row = shown.tables["Response rate by country"].set_index("Country").loc["NA"]
    assert row["Answered"] == "suppressed"
    assert row["Response rate (95% CI)"] == "not enough invitations (fewer than 30)"
    assert not any(ch.isdigit() for ch in row["Answered"])


def test_nonresponse_check_is_shown_without_revenue() -> None:
    shown = response_display(_invitations(), _responses(), by=("country",))
    check = shown.tables["Non-response check"]
    assert check["Check"].tolist() == ["Revenue", "Region"]
    assert check["Verdict"].tolist()[0] == "not testable: no revenue table"
    assert "Response rate by revenue band" not in shown.tables


def test_no_invitations_file_gives_one_line(tmp_path: Path) -> None:
    assert load(tmp_path / "invitations.csv") is None
    shown = response_display(load(tmp_path / "invitations.csv"), _responses())
    assert shown.tables == {} and shown.reason == NO_INVITATIONS
    assert "\n" not in NO_INVITATIONS


def test_load_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "invitations.csv"
    _invitations().to_csv(path, index=False)
    assert len(load(path)) == 45
