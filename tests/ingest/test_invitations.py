"""Tests of csatlib.ingest.invitations: the deployment lists of past waves."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from csatlib.errors import ExportError
from csatlib.ingest.invitations import COLUMNS, empty_invitations, load_invitations

HEADER = "wave,contact_id,email,account,country,region,segment,invited_at\n"


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "invitations.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_reads_a_valid_file_with_types(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        " 2026-Q1 ,C1,a@x.com,Acme,NA,EMEA,Enterprise,2026-01-05\n"
        "2026-Q1,C2,b@x.com,Acme,DE,EMEA,,\n"
        "2026-Q2,C1,a@x.com,Acme,NA,EMEA,Enterprise,2026-04-01\n",
    )
    df = load_invitations(path)
    assert list(df.columns) == [*COLUMNS, "segment", "invited_at"]
    assert df["wave"].tolist() == ["2026-Q1", "2026-Q1", "2026-Q2"]  # blanks trimmed
    assert df["country"].iat[0] == "NA"  # Namibia stays a code
    assert df["invited_at"].iat[0] == pd.Timestamp("2026-01-05")
    assert pd.isna(df["invited_at"].iat[1])


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    path = _write(tmp_path, "2026-Q1,C1,a@x.com,Acme,DE,EMEA\n", header=",".join(COLUMNS) + "\n")
    df = load_invitations(path)
    assert df["segment"].iat[0] == "" and pd.isna(df["invited_at"].iat[0])


def test_every_problem_is_reported_at_once_with_row_and_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "2026-Q1,C1,a@x.com,Acme,DE,EMEA,,2026-01-01\n"  # row 2: fine
        "2026-Q1,C1,b@x,Acme,DE,,,2026-13-01\n"  # row 3: four problems
        "2026-Q1,C3,A@X.COM,Acme,DE,EMEA,,\n",  # row 4: same e-mail as row 2
    )
    with pytest.raises(ExportError) as info:
        load_invitations(path)
    lines = str(info.value).splitlines()
    assert lines == [
        "invitations.csv, row 3, column contact_id: 'C1' is invited twice in wave '2026-Q1' "
        "(first in row 2)",
        "invitations.csv, row 3, column email: expected an address like name@domain.tld, "
        "found 'b@x'",
        "invitations.csv, row 3, column invited_at: expected a date YYYY-MM-DD or nothing, "
        "found '2026-13-01'",
        "invitations.csv, row 3, column region: expected a value, found an empty cell",
        "invitations.csv, row 4, column email: 'A@X.COM' is invited twice in wave '2026-Q1' "
        "(first in row 2)",
    ]


def test_same_contact_in_two_waves_is_fine(tmp_path: Path) -> None:
    path = _write(tmp_path, "2026-Q1,C1,a@x.com,A,DE,EMEA,,\n2026-Q2,C1,a@x.com,A,DE,EMEA,,\n")
    assert len(load_invitations(path)) == 2


def test_missing_file_and_missing_column(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no invitations file"):
        load_invitations(tmp_path / "invitations.csv")
    path = _write(tmp_path, "2026-Q1,C1,a@x.com\n", header="wave,contact_id,email\n")
    with pytest.raises(ExportError, match=r"missing column\(s\) account, country, region"):
        load_invitations(path)


def test_empty_invitations_has_the_columns() -> None:
    empty = empty_invitations()
    assert len(empty) == 0 and list(empty.columns) == [*COLUMNS, "segment", "invited_at"]
