"""Tests of csatlib.loop.followup: permission decides who is listed; everyone else is only
counted."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from csatlib.errors import DataError
from csatlib.loop.followup import (
    callback_list,
    followup_counts,
    missing_roles,
    recovery_list,
    write_followup_lists,
)
from csatlib.loop.followup import (
    testimonial_list as make_testimonial_list,  # not collected as a test
)
from csatlib.safety import FORMULA_PREFIXES


def _live_formula(cell: str) -> bool:
    """A cell a spreadsheet would evaluate: formula prefix and not a plain number ("-12.5")."""
    if not cell.startswith(FORMULA_PREFIXES):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


# The sample's list columns (data/raw/*.codebook.yaml): the module reads them from the roles.
RECOVERY_COLUMNS = (
    "region",
    "country",
    "account",
    "ticket_id",
    "date",
    "product",
    "csat",
    "comment",
    "contact_name",
    "contact_email",
)
CALLBACK_COLUMNS = (
    "country",
    "account",
    "segment",
    "response_id",
    "date",
    "complaint",
    "contact_name",
    "contact_email",
)
TRANSACTION_ROLES = {
    "ticket_id": "id",
    "date": "date",
    "region": "region",
    "country": "country",
    "account": "account",
    "product": "other",
    "csat": "overall",
    "comment": "comment",
    "contact_ok": "contact_ok",
    "contact_name": "contact",
    "contact_email": "contact",
}
RESPONSE_ROLES = {
    "response_id": "id",
    "date": "date",
    "country": "country",
    "account": "account",
    "segment": "segment",
    "likelihood_to_recommend": "nps",
    "text_like": "text_like",
    "complaint": "complaint",
    "contact_ok": "contact_ok",
    "contact_name": "contact",
    "contact_email": "contact",
    "competitor": "other",
}


def _transactions() -> pd.DataFrame:
    # ticket, date, region, country, csat, contact_ok
    rows = [
        ("T01", "2026-03-05", "EMEA", "DE", 1, True),
        ("T02", "2026-03-01", "EMEA", "DE", 2, True),
        ("T03", "2026-03-02", "EMEA", "FR", 2, False),  # withheld
        ("T04", "2026-03-03", "EMEA", "FR", 1, None),  # not answered -> withheld
        ("T05", "2026-03-04", "AMER", "US", 2, True),
        ("T06", "2026-03-04", "AMER", "US", 3, True),  # neither list
        ("T07", "2026-03-06", "AMER", "US", 5, True),
        ("T08", "2026-03-07", "AMER", "US", 4, False),  # withheld
        ("T09", "2026-03-08", "EMEA", "DE", 4, True),
        ("T10", "2026-03-09", "EMEA", "DE", 5, True),
        ("T11", "2026-03-09", "APJ", "JP", None, True),  # no rating
    ]
    df = pd.DataFrame(rows, columns=["ticket_id", "date", "region", "country", "csat", "ok"])
    n = len(df)
    df["date"] = pd.to_datetime(df["date"])
    df["month"] = df["date"].dt.strftime("%Y-%m")
    df["account"] = ['=HYPERLINK("http://x")', *[f"Account {i}" for i in range(1, n)]]
    df["product"] = "Widget"
    df["csat"] = df["csat"].astype("Int64")
    df["comment"] = [f"COMMENT-{i:02d} parts missing" for i in range(n)]
    df.loc[1, "comment"] = "+cmd|' /C calc'!A0"
    df["contact_ok"] = df.pop("ok").astype("boolean")
    df["contact_name"] = [f"Name{i:02d}" for i in range(n)]
    df["contact_email"] = [f"t{i:02d}@example.com" for i in range(n)]
    df["region"] = df["region"].astype("category")
    df["country"] = df["country"].astype("category")
    df.attrs = {"roles": dict(TRANSACTION_ROLES), "labels": {}, "scales": {"csat": [1, 5]}}
    return df


def _responses() -> pd.DataFrame:
    rows = [
        ("R1", "2026-02-03 10:00", "DE", "I want a call", True, False),
        ("R2", "2026-02-01 09:00", "DE", "@SUM(1) billing wrong", True, False),
        ("R3", "2026-02-02 08:00", "FR", "no call please", False, False),
        ("R4", "2026-02-01 12:00", "FR", None, True, False),  # no complaint
        ("R5", "2026-02-01 13:00", "FR", "   ", True, False),  # blank complaint
        ("R6", "2026-02-04 13:00", "DE", "competitor is bad", True, True),  # not ours
        ("R7", "2026-02-05 13:00", "NA", "Namibia complaint", None, False),
    ]
    df = pd.DataFrame(
        rows, columns=["response_id", "date", "country", "complaint", "contact_ok", "competitor"]
    )
    df["date"] = pd.to_datetime(df["date"])
    df["account"] = "Acme"
    df["segment"] = "Enterprise"
    df["complaint"] = df["complaint"].astype("string")
    df["contact_ok"] = df["contact_ok"].astype("boolean")
    df["contact_name"] = [f"Resp{i}" for i in range(len(df))]
    df["contact_email"] = [f"r{i}@example.com" for i in range(len(df))]
    df["text_like"] = "LIKE-TEXT"
    df["likelihood_to_recommend"] = pd.array([3] * len(df), dtype="Int64")
    df.attrs = {
        "roles": dict(RESPONSE_ROLES),
        "labels": {},
        "scales": {"likelihood_to_recommend": [0, 10]},
    }
    return df


def test_recovery_list_only_with_permission_oldest_first() -> None:
    rec = recovery_list(_transactions())
    assert tuple(rec.columns) == RECOVERY_COLUMNS
    assert rec["ticket_id"].tolist() == ["T05", "T02", "T01"]  # AMER, then EMEA by date
    assert set(rec["contact_email"]) == {"t04@example.com", "t01@example.com", "t00@example.com"}
    assert "T03" not in set(rec["ticket_id"]) and "T04" not in set(rec["ticket_id"])


def test_testimonial_list_newest_first() -> None:
    tes = make_testimonial_list(_transactions())
    assert tes["ticket_id"].tolist() == ["T07", "T10", "T09"]
    assert make_testimonial_list(_transactions(), csat_min=5)["ticket_id"].tolist() == [
        "T07",
        "T10",
    ]


def test_callback_list_ordered_by_submission_time() -> None:
    cb = callback_list(_responses())
    assert tuple(cb.columns) == CALLBACK_COLUMNS
    assert cb["response_id"].tolist() == ["R2", "R1"]
    with_competitors = callback_list(_responses(), include_competitors=True)
    assert with_competitors["response_id"].tolist() == ["R2", "R1", "R6"]


def test_followup_counts_listed_plus_withheld() -> None:
    counts = followup_counts(_transactions(), _responses())
    c = counts.set_index(["list", "region", "country"])
    assert c.loc[("recovery", "EMEA", "FR")].to_dict() == {
        "eligible": 2,
        "listed": 0,
        "withheld_no_permission": 2,
    }
    assert c.loc[("recovery", "EMEA", "DE"), "listed"] == 2
    assert c.loc[("testimonial", "AMER", "US")].tolist() == [2, 1, 1]
    callback = counts[counts["list"] == "callback"].set_index("country")
    assert callback.loc["DE", "eligible"] == 2 and callback.loc["DE", "listed"] == 2
    assert callback.loc["FR", "withheld_no_permission"] == 1  # R3; R4/R5 have no complaint
    assert callback.loc["NA", "withheld_no_permission"] == 1  # Namibia, contact_ok <NA>
    assert callback["region"].isna().all()
    assert (counts["eligible"] == counts["listed"] + counts["withheld_no_permission"]).all()
    assert counts["list"].tolist()[:2] == ["recovery", "recovery"]
    # totals agree with the lists themselves
    assert counts.loc[counts["list"] == "recovery", "listed"].sum() == len(
        recovery_list(_transactions())
    )
    de = followup_counts(_transactions(), _responses(), country="DE")
    assert set(de["country"]) == {"DE"}
    assert not {"contact_name", "contact_email", "comment", "complaint"} & set(counts.columns)


def test_write_followup_lists_safe_and_complete(tmp_path) -> None:
    tx, resp = _transactions(), _responses()
    paths = write_followup_lists(tx, resp, tmp_path)
    names = [p.name for p in paths]
    assert names == [
        "recovery_DE.csv", "recovery_FR.csv", "recovery_JP.csv", "recovery_US.csv",
        "recovery_all.csv",
        "testimonial_DE.csv", "testimonial_FR.csv", "testimonial_JP.csv", "testimonial_US.csv",
        "testimonial_all.csv",
        "callback_DE.csv", "callback_FR.csv", "callback_NA.csv", "callback_all.csv",
        "followup_counts.csv",
    ]  # fmt: skip
    assert len(pd.read_csv(tmp_path / "recovery_JP.csv", encoding="utf-8-sig")) == 0
    everything = ""
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not _live_formula(cell), f"{path.name}: {cell!r}"
        everything += path.read_text(encoding="utf-8-sig")
    # nobody without permission appears anywhere, by name or e-mail
    no_tx = tx[~tx["contact_ok"].fillna(False).to_numpy(bool)]
    no_resp = resp[~resp["contact_ok"].fillna(False).to_numpy(bool)]
    for value in [*no_tx["contact_email"], *no_tx["contact_name"], *no_resp["contact_email"]]:
        assert value not in everything
    assert "LIKE-TEXT" not in everything  # only the complaint travels, not other verbatims
    rec = pd.read_csv(tmp_path / "recovery_DE.csv", encoding="utf-8-sig")
    assert "'+cmd|' /C calc'!A0" in set(rec["Comment"])
    assert set(rec["Country"]) == {"Germany (DE)"} and rec["Ticket"].tolist() == ["T02", "T01"]
    cb = pd.read_csv(tmp_path / "callback_all.csv", encoding="utf-8-sig")
    assert cb["Complaint"].iloc[0] == "'@SUM(1) billing wrong"
    assert list(cb.columns[:5]) == ["Country", "Account", "Segment", "Response", "Submitted"]
    # Namibia's only complainant gave no permission: a file with a header and no row
    na = pd.read_csv(tmp_path / "callback_NA.csv", encoding="utf-8-sig", keep_default_na=False)
    assert len(na) == 0


def test_ticket_lists_hold_only_the_last_30_days(tmp_path) -> None:
    tx = _transactions()
    # newest ticket 2026-03-09: 30 days back is 2026-02-07; T02 and T09 move out of the window
    tx.loc[tx["ticket_id"] == "T02", "date"] = pd.Timestamp("2026-02-06")
    tx.loc[tx["ticket_id"] == "T09", "date"] = pd.Timestamp("2026-01-01")
    write_followup_lists(tx, None, tmp_path)
    rec = pd.read_csv(tmp_path / "recovery_all.csv", encoding="utf-8-sig")
    assert rec["Ticket"].tolist() == ["T05", "T01"]
    assert "Opened" in rec.columns and "Csat (1-5)" in rec.columns
    tes = pd.read_csv(tmp_path / "testimonial_all.csv", encoding="utf-8-sig")
    assert sorted(tes["Ticket"]) == ["T07", "T10"]
    counts = pd.read_csv(tmp_path / "followup_counts.csv", encoding="utf-8-sig")
    de = counts[(counts["List"] == "recovery calls") & (counts["Country"] == "Germany (DE)")]
    assert de["Eligible"].tolist() == [1]  # T01 only; T02 is older than the window
    write_followup_lists(tx, None, tmp_path / "all", window_days=None)
    every = pd.read_csv(tmp_path / "all" / "recovery_all.csv", encoding="utf-8-sig")
    assert sorted(every["Ticket"]) == ["T01", "T02", "T05"]


def test_validation_messages() -> None:
    with pytest.raises(DataError, match="missing \\['contact_ok'\\]"):
        recovery_list(_transactions().drop(columns="contact_ok"))
    bad = _transactions()
    bad["csat"] = bad["csat"].astype(object)
    bad.loc[3, "csat"] = 7
    with pytest.raises(DataError, match="column 'csat', row 3: expected 1-5"):
        recovery_list(bad)
    bad = _responses()
    bad["contact_ok"] = bad["contact_ok"].astype(object)
    bad.loc[2, "contact_ok"] = "yes"
    with pytest.raises(DataError, match="'contact_ok', row 2"):
        callback_list(bad)
    with pytest.raises(DataError, match="neither"):
        followup_counts()


# ---------------------------------------------------------------------------------------------
# any study: the columns come from the codebook roles
# ---------------------------------------------------------------------------------------------
def _tickets_1_to_10() -> pd.DataFrame:
    """A ticket survey unlike the sample: 1-10 rating, no region, no comment, a phone number."""
    df = pd.DataFrame(
        {
            "case": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "country": ["GB", "GB", "IE", "IE", "GB", "GB"],
            "closed": pd.to_datetime(
                ["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-04", "2026-01-05", "2026-01-06"]
            ),
            "ticket_score": pd.array([1, 2, 3, 9, 10, 2], dtype="Int64"),
            "may_call": pd.array([True, True, True, True, True, False], dtype="boolean"),
            "phone": ["+44 1", "+44 2", "+353 3", "+353 4", "+44 5", "+44 6"],
        }
    )
    df.attrs = {
        "roles": {
            "case": "id",
            "country": "country",
            "closed": "date",
            "ticket_score": "overall",
            "may_call": "contact_ok",
            "phone": "contact",
        },
        "scales": {"ticket_score": [1, 10]},
    }
    return df


def test_ticket_lists_of_any_study(tmp_path) -> None:
    tickets = _tickets_1_to_10()
    rec = recovery_list(tickets)
    # default: the two lowest points of the 1-10 scale, oldest first; C6 gave no permission
    assert rec["case"].tolist() == ["C2", "C1"]
    assert list(rec.columns) == ["country", "case", "closed", "ticket_score", "phone"]
    assert make_testimonial_list(tickets)["case"].tolist() == ["C5", "C4"]  # 9-10, newest first
    assert recovery_list(tickets, csat_max=3)["case"].tolist() == ["C2", "C3", "C1"]
    paths = write_followup_lists(tickets, None, tmp_path)
    assert [p.name for p in paths] == [
        "recovery_GB.csv", "recovery_IE.csv", "recovery_all.csv",
        "testimonial_GB.csv", "testimonial_IE.csv", "testimonial_all.csv", "followup_counts.csv",
    ]  # fmt: skip
    counts = pd.read_csv(paths[-1], encoding="utf-8-sig")
    gb = counts[(counts["List"] == "recovery calls") & (counts["Country"] == "United Kingdom (GB)")]
    gb = gb.iloc[0]
    assert (
        gb["Eligible"],
        gb["Listed (permission to contact)"],
        gb["Withheld (no permission to contact)"],
    ) == (3, 2, 1)
    assert counts["Region"].isna().all()
    cells = (tmp_path / "recovery_all.csv").read_text(encoding="utf-8-sig")
    assert "'+44 2" in cells  # a phone number starting with + is not a formula either


def test_missing_roles_say_what_a_list_lacks() -> None:
    resp = _responses()
    assert missing_roles(resp, "callback") == ()
    resp.attrs["roles"] = {k: v for k, v in RESPONSE_ROLES.items() if v != "complaint"}
    assert missing_roles(resp, "callback") == ("complaint",)
    with pytest.raises(DataError, match="no column with role\\(s\\) \\['complaint'\\]"):
        callback_list(resp)
    # counts: a study without complaints simply has no callback rows
    counts = followup_counts(_transactions(), resp)
    assert set(counts["list"]) == {"recovery", "testimonial"}
    assert missing_roles(_tickets_1_to_10(), "recovery") == ()
    bare = _transactions()
    bare.attrs = {}
    assert missing_roles(bare, "recovery") == ("id", "overall", "contact_ok", "contact")
    with pytest.raises(DataError, match="no codebook roles"):
        recovery_list(bare)
    with pytest.raises(DataError, match="no codebook roles"):
        followup_counts(bare)
