"""Tests of csatlib.loop.followup: permission decides who is listed; everyone else is only
counted."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from csatlib.errors import DataError
from csatlib.loop.followup import (
    RESPONSE_DAYS,
    callback_list,
    callback_wave,
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
    "account",
    "country",
    "ticket_id",
    "date",
    "due",
    "why_listed",
    "product",
    "csat",
    "comment",
    "contact_name",
    "contact_email",
)
CALLBACK_COLUMNS = (
    "account",
    "country",
    "segment",
    "response_id",
    "date",
    "due",
    "why_listed",
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


def test_the_documented_response_times() -> None:
    # docs/closing_the_loop.md section 3 and the lists' README state these days
    assert dict(RESPONSE_DAYS) == {"recovery": 2, "callback": 5, "testimonial": 14}


def test_recovery_list_only_with_permission_earliest_due_first() -> None:
    rec = recovery_list(_transactions())
    assert tuple(rec.columns) == RECOVERY_COLUMNS
    # opened 03-01 (T02), 03-04 (T05), 03-05 (T01): due 2 days later, whatever the region
    assert rec["ticket_id"].tolist() == ["T02", "T05", "T01"]
    assert rec["due"].dt.strftime("%Y-%m-%d").tolist() == ["2026-03-03", "2026-03-06", "2026-03-07"]
    assert rec["why_listed"].tolist() == [
        "Ticket rated 2 of 5 (recovery call for ratings 1–2)",
        "Ticket rated 2 of 5 (recovery call for ratings 1–2)",
        "Ticket rated 1 of 5 (recovery call for ratings 1–2)",
    ]
    assert set(rec["contact_email"]) == {"t04@example.com", "t01@example.com", "t00@example.com"}
    assert "T03" not in set(rec["ticket_id"]) and "T04" not in set(rec["ticket_id"])
    one = recovery_list(_transactions(), csat_max=1)
    assert one["why_listed"].tolist() == ["Ticket rated 1 of 5 (recovery call for a rating of 1)"]


def test_testimonial_list_earliest_due_first() -> None:
    tes = make_testimonial_list(_transactions())
    # opened 03-06 (T07), 03-08 (T09), 03-09 (T10): due 14 days later
    assert tes["ticket_id"].tolist() == ["T07", "T09", "T10"]
    assert tes["due"].iloc[0] == pd.Timestamp("2026-03-20")
    assert tes["why_listed"].iloc[1] == (
        "Ticket rated 4 of 5 (testimonial request for ratings 4–5)"
    )
    five = make_testimonial_list(_transactions(), csat_min=5)
    assert five["ticket_id"].tolist() == ["T07", "T10"]
    assert set(five["why_listed"]) == {
        "Ticket rated 5 of 5 (testimonial request for a rating of 5)"
    }


def test_callback_list_ordered_by_due() -> None:
    cb = callback_list(_responses())
    assert tuple(cb.columns) == CALLBACK_COLUMNS
    assert cb["response_id"].tolist() == ["R2", "R1"]
    # submitted 2026-02-01 09:00: due on the day 5 days later
    assert cb["due"].iloc[0] == pd.Timestamp("2026-02-06")
    assert set(cb["why_listed"]) == {
        "Complaint in the relationship survey (callback when a complaint is written and "
        "contact is allowed)"
    }  # the fixture has no wave column: no wave named
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
    assert list(rec.columns) == [
        "Account",
        "Country",
        "Ticket",
        "Opened",
        "Due",
        "Why listed",
        "Product",
        "Csat (1-5)",
        "Comment",
        "Contact name",
        "Contact email",
    ]  # the fixture has no labels: the names in words
    assert rec["Due"].tolist() == ["2026-03-03", "2026-03-07"]  # a day, not a time
    assert rec["Why listed"].iloc[0] == "Ticket rated 2 of 5 (recovery call for ratings 1–2)"
    for path in paths[:-1]:  # the unit is the country, in every file of a list
        assert "Region" not in pd.read_csv(path, encoding="utf-8-sig", nrows=0).columns
    cb = pd.read_csv(tmp_path / "callback_all.csv", encoding="utf-8-sig")
    assert cb["Complaint"].iloc[0] == "'@SUM(1) billing wrong"
    assert list(cb.columns[:7]) == [
        "Account", "Country", "Segment", "Response", "Submitted", "Due", "Why listed"
    ]  # fmt: skip
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
    assert list(rec.columns) == [
        "country", "case", "closed", "due", "why_listed", "ticket_score", "phone"
    ]  # fmt: skip
    # the rule in words follows the scale and the bounds, not the sample's 1-5
    assert rec["why_listed"].tolist() == [
        "Ticket rated 2 of 10 (recovery call for ratings 1–2)",
        "Ticket rated 1 of 10 (recovery call for ratings 1–2)",
    ]
    tes = make_testimonial_list(tickets)
    assert tes["case"].tolist() == ["C4", "C5"]  # 9-10, earliest due first
    assert tes["why_listed"].iloc[1] == (
        "Ticket rated 10 of 10 (testimonial request for ratings 9–10)"
    )
    wider = recovery_list(tickets, csat_max=3)
    assert wider["case"].tolist() == ["C2", "C3", "C1"]
    assert wider["why_listed"].iloc[1] == "Ticket rated 3 of 10 (recovery call for ratings 1–3)"
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


# ---------------------------------------------------------------------------------------------
# open and due items only, and counts of the same rows
# ---------------------------------------------------------------------------------------------
def _responses_in_waves() -> pd.DataFrame:
    """_responses() in two waves: R2 (DE, permission), R3 (FR, none) and R5, R6 in 2026-Q2."""
    df = _responses()
    df["wave"] = pd.Categorical(
        ["2026-Q1", "2026-Q2", "2026-Q2", "2026-Q1", "2026-Q2", "2026-Q2", "2026-Q1"],
        categories=["2026-Q1", "2026-Q2"],
        ordered=True,
    )
    df.attrs["roles"] = {**RESPONSE_ROLES, "wave": "wave"}
    return df


def test_callbacks_hold_the_report_wave_only(tmp_path) -> None:
    resp = _responses_in_waves()
    assert callback_wave(resp) == "2026-Q2"  # the latest wave in the data
    write_followup_lists(None, resp, tmp_path / "latest")
    cb = pd.read_csv(tmp_path / "latest" / "callback_all.csv", encoding="utf-8-sig")
    assert cb["Response"].tolist() == ["R2"]  # R1 (DE) is of 2026-Q1: no longer open
    assert cb["Why listed"].tolist() == [
        "Complaint in the relationship survey, wave 2026-Q2 (callback when a complaint is "
        "written and contact is allowed)"
    ]
    # Namibia's complaint is of 2026-Q1: its file is there, with a header and no row
    na = pd.read_csv(tmp_path / "latest" / "callback_NA.csv", encoding="utf-8-sig")
    assert len(na) == 0
    counts = followup_counts(None, resp).set_index("country")
    assert counts["eligible"].to_dict() == {"DE": 1, "FR": 1}  # R2; R3 without permission
    write_followup_lists(None, resp, tmp_path / "q1", wave="2026-Q1")
    q1 = pd.read_csv(tmp_path / "q1" / "callback_all.csv", encoding="utf-8-sig")
    assert q1["Response"].tolist() == ["R1"]
    every = callback_list(resp)
    assert every["response_id"].tolist() == ["R2", "R1"]  # the list function keeps every wave
    assert followup_counts(None, resp, wave=None)["eligible"].sum() == 4  # R1, R2, R3, R7
    with pytest.raises(DataError, match="'2026-Q4' is not a wave .* found 2026-Q1, 2026-Q2"):
        write_followup_lists(None, resp, tmp_path / "bad", wave="2026-Q4")
    with pytest.raises(DataError, match="no wave column"):
        followup_counts(None, _responses(), wave="2026-Q1")
    assert callback_wave(_responses()) is None  # no wave column: every complaint
    with pytest.raises(DataError, match="window_days.*must be an int >= 1; got 0"):
        followup_counts(_transactions(), window_days=0)


LIST_WORDS = {
    "recovery": "recovery calls",
    "testimonial": "testimonial requests",
    "callback": "complaint callbacks",
}


def _listed_rows(path) -> int:
    return len(pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False))


def test_counts_count_the_rows_the_lists_hold(tmp_path) -> None:
    tx, resp = _transactions(), _responses_in_waves()
    # 3 days up to the newest ticket (03-09): from 03-06 on, in every country
    paths = write_followup_lists(tx, resp, tmp_path, window_days=3)
    written = pd.read_csv(paths[-1], encoding="utf-8-sig")
    for path in paths[:-1]:
        name, code = path.stem.split("_")
        if code == "all":
            continue
        counted = followup_counts(tx, resp, country=code, window_days=3)
        listed = int(counted.loc[counted["list"] == name, "listed"].sum())
        assert _listed_rows(path) == listed, path.name
        in_file = written[
            written["List"].eq(LIST_WORDS[name]) & written["Country"].str.endswith(f"({code})")
        ]
        assert int(in_file["Listed (permission to contact)"].sum()) == listed, path.name
    assert _listed_rows(tmp_path / "testimonial_all.csv") == 3  # T07 (03-06), T09, T10
    assert _listed_rows(tmp_path / "recovery_all.csv") == 0  # T05 (03-04), T01 (03-05): too old
    assert _listed_rows(tmp_path / "callback_all.csv") == 1  # R2, wave 2026-Q2
    # Why the counts take every country's rows and country=: the US's newest ticket is of 03-07,
    # and a window counted from it would count T05, which the list does not hold.
    us_only = followup_counts(tx[tx["country"] == "US"], None, window_days=3)
    assert us_only.loc[us_only["list"] == "recovery", "listed"].tolist() == [1]
