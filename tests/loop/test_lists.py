"""Tests of csatlib.loop.lists: every list a study's tables allow, and one line for each list not
built.

Each study is a small plain-CSV export with its codebook, cleaned by
csatlib.ingest.clean.build_processed into tmp_path, so the lists are built from real processed
tables (roles, labels and scales in their attrs).  The sample study (data/raw) is built once for the
whole module.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from csatlib import config
from csatlib.errors import DataError
from csatlib.ingest.clean import build_processed, load_processed
from csatlib.loop.followup import RESPONSE_DAYS, TICKET_WINDOW_DAYS, followup_counts
from csatlib.loop.lists import ListsResult, build_lists

NO_ACCOUNTS = "At-risk accounts: not built — the study has no account column (role `account`)."
NO_TICKETS = (
    "Recovery calls and testimonials: not built — the study has no transaction survey (a "
    "codebook of kind `transactions`)."
)
NO_CALLBACKS = (
    "Complaint callbacks: not built — the study has no complaint column (role `complaint`) with "
    "contact details (role `contact`)."
)
NO_REVENUE = "Revenue linkage: not built — the study has no revenue table (kind `revenue`)."

BASE_COLUMNS: dict[str, dict[str, Any]] = {
    "response_id": {"source": "RespID", "role": "id"},
    "country": {"source": "Market", "role": "country"},
    "date": {"source": "Submitted", "role": "date"},
    "recommend": {"source": "Q_NPS", "role": "nps", "label": "Would recommend", "scale": [0, 10]},
}


def _write_export(
    raw: Path, name: str, columns: dict[str, dict[str, Any]], rows: list[dict[str, str]], **top
) -> None:
    """``<name>.csv`` (headers = the columns' sources) and ``<name>.codebook.yaml`` in ``raw``."""
    raw.mkdir(parents=True, exist_ok=True)
    sources = [spec["source"] for spec in columns.values()]
    with (raw / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=sources)
        writer.writeheader()
        writer.writerows(rows)
    book = {"kind": "responses", "file": f"{name}.csv", "format": "csv", **top}
    book["columns"] = columns
    text = yaml.safe_dump(book, sort_keys=False, allow_unicode=True)
    (raw / f"{name}.codebook.yaml").write_text(text, encoding="utf-8")


def _build(tmp_path: Path, **kwargs: Any) -> tuple[ListsResult, Path]:
    processed, out = tmp_path / "processed", tmp_path / "lists"
    build_processed(tmp_path / "raw", processed)
    return build_lists(processed, out, **kwargs), out


def _row(rid: str, country: str, day: int, nps: int, **cells: str) -> dict[str, str]:
    return {
        "RespID": rid,
        "Market": country,
        "Submitted": f"2026-02-{day:02d} 10:00:00",
        "Q_NPS": str(nps),
        **cells,
    }


def _names(result: ListsResult, out: Path) -> list[str]:
    return [p.relative_to(out).as_posix() for p in result.written]


def _texts(paths: list[Path]) -> str:
    return "".join(p.read_text(encoding="utf-8-sig") for p in paths)


# ---------------------------------------------------------------------------------------------
# (a) NPS only: no list, a README that says why
# ---------------------------------------------------------------------------------------------
def test_nps_only_study_writes_no_list_but_says_why(tmp_path: Path) -> None:
    rows = [_row(f"N{i}", ["FR", "JP"][i % 2], 1 + i, i) for i in range(8)]
    _write_export(tmp_path / "raw", "pulse", BASE_COLUMNS, rows, waves={"from": "date"})
    result, out = _build(tmp_path)
    assert _names(result, out) == ["README.txt"]
    assert result.skipped == (NO_ACCOUNTS, NO_TICKETS, NO_CALLBACKS, NO_REVENUE)
    readme = (out / "README.txt").read_text(encoding="utf-8").splitlines()
    not_here = readme.index("NOT IN THIS FOLDER")
    assert readme[not_here + 1 : not_here + 5] == [f"  {line}" for line in result.skipped]
    assert any("No lists" in line for line in readme)
    assert not any("At-risk rule" in line for line in readme)  # no accounts, no rule
    assert sorted(p.name for p in out.iterdir()) == ["README.txt"]


# ---------------------------------------------------------------------------------------------
# (b) accounts and five 1-5 attributes named unlike the sample, no loyalty, no brand
# ---------------------------------------------------------------------------------------------
ATTRS = {
    "reply_speed": "Speed of reply",
    "invoice_clarity": "Invoice clarity",
    "onboarding": "Onboarding",
    "uptime": "Platform uptime",
    "documentation": "Documentation",
}


def _attribute_study(raw: Path) -> None:
    columns = dict(BASE_COLUMNS)
    columns["customer"] = {"source": "Company", "role": "account", "label": "Customer"}
    for i, (name, label) in enumerate(ATTRS.items()):
        columns[name] = {
            "source": f"A{i + 1}",
            "role": "attribute",
            "label": label,
            "scale": [1, 5],
        }

    def ratings(*values: int) -> dict[str, str]:
        return {f"A{i + 1}": str(v) for i, v in enumerate(values)}

    rows = [
        # Acme (DE): LTR 2, 3, 9 -> mean 14/3 = 4.67, NPS 100 (1 - 2)/3 = -33.3: at risk.
        # Attribute means: reply 3, invoice 2, onboarding 4, uptime 5, documentation 7/3.
        _row("B01", "DE", 1, 2, Company="Acme GmbH", **ratings(3, 2, 4, 5, 2)),
        _row("B02", "DE", 2, 3, Company="ACME GMBH", **ratings(3, 2, 4, 5, 3)),
        _row("B03", "DE", 3, 9, Company="Acme", **ratings(3, 2, 4, 5, 2)),
        # Birch (DE): LTR 9, 10, 9: not at risk
        *[
            _row(f"B0{4 + i}", "DE", 4 + i, 9 + i % 2, Company="Birch AG", **ratings(5, 5, 5, 5, 5))
            for i in range(3)
        ],
        # Dune (FR): LTR 5, 6, 7 -> mean 6, NPS -66.7: at risk
        *[
            _row(f"B0{7 + i}", "FR", 7 + i, 5 + i, Company="Dune SARL", **ratings(1, 2, 3, 4, 5))
            for i in range(3)
        ],
        # Cedre (FR): one respondent, too few to show anything
        _row("B10", "FR", 10, 0, Company="Cedre SA", **ratings(1, 1, 1, 1, 1)),
    ]
    _write_export(raw, "partners", columns, rows, waves={"from": "date"})


def test_attribute_study_without_loyalty_gets_at_risk_lists(tmp_path: Path) -> None:
    _attribute_study(tmp_path / "raw")
    result, out = _build(tmp_path)
    assert _names(result, out) == [
        "accounts/at_risk_DE.csv",
        "accounts/at_risk_FR.csv",
        "accounts/at_risk_all.csv",
        "accounts/review_pairs.csv",
        "README.txt",
    ]
    assert result.skipped == (NO_TICKETS, NO_CALLBACKS, NO_REVENUE)
    lst = pd.read_csv(out / "accounts" / "at_risk_all.csv", encoding="utf-8-sig")
    assert list(lst.columns) == [
        "Account",
        "Country",
        "Respondents",
        "Why at risk",
        "Mean likelihood to recommend (0-10)",
        "NPS (-100 to +100)",
        "Trend",
        "Weakest attributes",
    ]  # fmt: skip  (no loyalty index, no revenue table: no such columns)
    assert lst["Account"].tolist() == ["Acme", "Dune SARL"]  # Cedre: too small to flag
    acme = lst.iloc[0]
    assert acme["Country"] == "Germany (DE)" and acme["Respondents"] == 3
    assert acme["Mean likelihood to recommend (0-10)"] == pytest.approx(4.67)  # 14/3, rounded
    assert acme["NPS (-100 to +100)"] == pytest.approx(-33.3)  # 100 (1 - 2) / 3
    assert acme["Why at risk"] == (
        "NPS below 0 (-33.3); mean likelihood to recommend below 6.5 (4.67)"
    )
    # lowest means on the 1-5 scale: invoice 2, documentation 7/3, reply 3
    assert acme["Weakest attributes"] == "Invoice clarity; Documentation; Speed of reply"
    fr = pd.read_csv(out / "accounts" / "at_risk_FR.csv", encoding="utf-8-sig")
    assert fr["Account"].tolist() == ["Dune SARL"]
    everything = _texts(list(result.written))
    assert "loyalty" not in everything.casefold()  # no column, no reason, no rule about it


# ---------------------------------------------------------------------------------------------
# (c) complaints with contact details and permission, no transaction survey, no revenue
# ---------------------------------------------------------------------------------------------
def _complaint_study(raw: Path) -> list[dict[str, str]]:
    columns = dict(BASE_COLUMNS)
    columns.update(
        {
            "customer": {"source": "Company", "role": "account"},
            "grievance": {"source": "Q_COMPLAINT", "role": "complaint", "label": "Complaint"},
            "may_contact": {
                "source": "Q_OK",
                "role": "contact_ok",
                "true_values": ["Yes"],
                "false_values": ["No"],
            },
            "full_name": {"source": "Q_NAME", "role": "contact"},
            "email_address": {"source": "Q_MAIL", "role": "contact"},
        }
    )

    def person(rid: str, country: str, day: int, nps: int, company: str, text: str, ok: str):
        return _row(
            rid, country, day, nps, Company=company, Q_COMPLAINT=text, Q_OK=ok,
            Q_NAME=f"Person {rid}", Q_MAIL=f"{rid.lower()}@example.com",
        )  # fmt: skip

    rows = [
        person("RESP-0001", "DE", 5, 2, "Acme GmbH", "Parcel arrived broken", "Yes"),
        person("RESP-0002", "DE", 2, 3, "Acme GmbH", "Invoice sent twice", "No"),
        person("RESP-0003", "DE", 3, 4, "Acme GmbH", "", "Yes"),
        person("RESP-0004", "FR", 1, 8, "Dune SARL", '=HYPERLINK("http://x")', "Yes"),
        person("RESP-0005", "FR", 4, 1, "Dune SARL", "Never again", ""),
    ]
    _write_export(raw, "voice", columns, rows, waves={"from": "date"})
    return rows


def test_complaint_study_lists_only_permitted_callbacks_and_leaks_nothing(tmp_path: Path) -> None:
    rows = _complaint_study(tmp_path / "raw")
    result, out = _build(tmp_path)
    assert _names(result, out) == [
        "accounts/at_risk_DE.csv",
        "accounts/at_risk_all.csv",
        "accounts/review_pairs.csv",
        "followup/callback_DE.csv",
        "followup/callback_FR.csv",
        "followup/callback_all.csv",
        "followup/followup_counts.csv",
        "README.txt",
    ]
    assert result.skipped == (NO_TICKETS, NO_REVENUE)
    callback = pd.read_csv(out / "followup" / "callback_all.csv", encoding="utf-8-sig")
    # earliest due first; RESP-0002 said no, RESP-0005 did not answer, RESP-0003 has no complaint
    assert callback["Response id"].tolist() == ["RESP-0004", "RESP-0001"]
    assert callback["Complaint"].tolist() == ['\'=HYPERLINK("http://x")', "Parcel arrived broken"]
    assert list(callback.columns) == [
        "Customer",
        "Country",
        "Response id",
        "Submitted",
        "Due",
        "Why listed",
        "Complaint",
        "Full name",
        "Email address",
    ]  # fmt: skip  (the codebook's labels where it has them, else the names in words)
    # submitted 2026-02-01 and 02-05 (one wave, 2026-Q1): a callback is due 5 days later
    assert callback["Due"].tolist() == ["2026-02-06", "2026-02-10"]
    assert set(callback["Why listed"]) == {
        "Complaint in the relationship survey, wave 2026-Q1 (callback when a complaint is "
        "written and contact is allowed)"
    }
    de = pd.read_csv(out / "followup" / "callback_DE.csv", encoding="utf-8-sig")
    assert de["Response id"].tolist() == ["RESP-0001"] and de["Country"].tolist() == [
        "Germany (DE)"
    ]
    counts = pd.read_csv(out / "followup" / "followup_counts.csv", encoding="utf-8-sig")
    assert counts["Eligible"].sum() == 4 and counts["Listed (permission to contact)"].sum() == 2
    everything = _texts(list(result.written))
    for rid in ("RESP-0002", "RESP-0005"):  # no permission: counted, never named
        assert rid.lower() + "@example.com" not in everything and f"Person {rid}" not in everything
    at_risk = _texts([p for p in result.written if p.parent.name == "accounts"])
    for row in rows:  # account managers never see an id, a verbatim or a contact
        for cell in filter(None, (row["RespID"], row["Q_NAME"], row["Q_MAIL"], row["Q_COMPLAINT"])):
            assert cell not in at_risk
    lst = pd.read_csv(out / "accounts" / "at_risk_all.csv", encoding="utf-8-sig")
    # Dune has two respondents: no score, no flag, so not on a list of accounts at risk
    assert lst["Account"].tolist() == ["Acme GmbH"]
    assert lst["Mean likelihood to recommend (0-10)"].tolist() == [3.0]  # (2 + 3 + 4) / 3
    assert "Weakest attributes" not in lst.columns  # the study has no attributes


# ---------------------------------------------------------------------------------------------
# optional tables present but not enough for a list
# ---------------------------------------------------------------------------------------------
def test_tables_without_the_roles_a_list_needs(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    rows = [_row(f"N{i}", "DE", 1 + i, i) for i in range(4)]
    _write_export(raw, "pulse", BASE_COLUMNS, rows, waves={"from": "date"})
    tickets = {
        "case": {"source": "Case", "role": "id"},
        "country": {"source": "Country", "role": "country"},
        "score": {"source": "Score", "role": "overall", "scale": [1, 5]},
        "email": {"source": "Mail", "role": "contact"},
    }
    _write_export(
        raw, "tickets", tickets,
        [{"Case": "T1", "Country": "DE", "Score": "1", "Mail": "t1@example.com"}],
        kind="transactions",
    )  # fmt: skip
    revenue = {
        "account": {"source": "account", "role": "account"},
        "country": {"source": "country", "role": "country"},
        "year": {"source": "year", "role": "other", "type": "int"},
        "revenue_usd": {"source": "usd", "role": "other", "type": "float"},
    }
    _write_export(
        raw, "revenue", revenue,
        [{"account": "Acme", "country": "DE", "year": "2026", "usd": "10"}], kind="revenue",
    )  # fmt: skip
    result, out = _build(tmp_path)
    assert _names(result, out) == ["README.txt"]
    assert result.skipped == (
        NO_ACCOUNTS,
        "Recovery calls and testimonials: not built — the transaction survey has no "
        "permission-to-contact column (role `contact_ok`).",
        NO_CALLBACKS,
        "Revenue linkage: not built — the study has no account column (role `account`) to link "
        "revenue to.",
    )


def test_a_named_alias_file_must_exist(tmp_path: Path) -> None:
    _attribute_study(tmp_path / "raw")
    with pytest.raises(DataError, match="aliases_path: .*nowhere.csv not found"):
        _build(tmp_path, aliases_path=tmp_path / "nowhere.csv")


# ---------------------------------------------------------------------------------------------
# the sample study (data/raw): every list, as before
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_lists(tmp_path_factory: pytest.TempPathFactory) -> tuple[ListsResult, Path]:
    root = tmp_path_factory.mktemp("sample")
    build_processed(config.RAW_DIR, root / "processed")
    out = root / "lists"
    return build_lists(root / "processed", out, aliases_path=config.ACCOUNT_ALIASES), out


def test_sample_study_builds_every_list(sample_lists: tuple[ListsResult, Path]) -> None:
    result, out = sample_lists
    assert result.skipped == ()
    names = _names(result, out)
    assert names[-1] == "README.txt"
    for name in (
        "accounts/at_risk_DE.csv", "accounts/at_risk_all.csv", "accounts/review_pairs.csv",
        "followup/recovery_DE.csv", "followup/recovery_all.csv", "followup/testimonial_US.csv",
        "followup/callback_DE.csv", "followup/callback_all.csv",
        "followup/followup_counts.csv", "revenue/unmatched_revenue.csv",
        "revenue/unmatched_survey.csv",
    ):  # fmt: skip
        assert name in names
    lst = pd.read_csv(out / "accounts" / "at_risk_all.csv", encoding="utf-8-sig")
    assert list(lst.columns) == [
        "Account",
        "Country",
        "Respondents",
        "Why at risk",
        "Mean likelihood to recommend (0-10)",
        "NPS (-100 to +100)",
        "Loyalty index (0-100)",
        "Trend",
        "Weakest attributes",
        "Revenue at stake (USD)",
        "Revenue year",
        "Business unit(s)",
        "Account manager",
        "Manager e-mail",
    ]  # fmt: skip  (the sample has a loyalty index, revenue and an organisation mapping)
    assert (lst["Respondents"] >= 3).all()
    assert lst["Why at risk"].str.match("(NPS|mean likelihood|loyalty index) below").all()
    header = (out / "accounts" / "at_risk_all.csv").read_text(encoding="utf-8-sig").split("\n")[0]
    for code_name in ("account_key", "at_risk", "drivers_source", "nps<0"):
        assert code_name not in header
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "Nothing: every list was built." in readme
    words = " ".join(readme.split())
    assert "loyalty index < 50" in words
    assert "opened in the 30 days up to the newest ticket in the data" in words
    # recovery calls: only tickets of the 30 days up to the newest ticket
    tickets = pd.read_parquet(out.parent / "processed" / "transactions.parquet")
    newest = pd.to_datetime(tickets["date"]).max()
    recovery = pd.read_csv(out / "followup" / "recovery_all.csv", encoding="utf-8-sig")
    opened = pd.to_datetime(recovery["Opened"])
    assert len(recovery) > 0 and (opened >= newest - pd.Timedelta(days=30)).all()


def test_sample_follow_up_lists_are_open_items_with_their_rule(
    sample_lists: tuple[ListsResult, Path],
) -> None:
    _, out = sample_lists
    processed = out.parent / "processed"
    tickets = load_processed("transactions", processed)
    responses = load_processed("responses", processed)
    followup = out / "followup"
    recovery = pd.read_csv(followup / "recovery_DE.csv", encoding="utf-8-sig")
    assert list(recovery.columns) == [
        "Account",
        "Country",
        "Ticket",
        "Opened",
        "Due",
        "Why listed",
        "Product line",
        "Ticket satisfaction (1-5)",
        "Comment",
        "Contact name",
        "Contact e-mail",
        "Function",
        "Owner",
        "Owner e-mail",
    ]  # the sample codebook's labels, then the routing; no Region: the file is one country's
    days = pd.to_datetime(recovery["Due"]) - pd.to_datetime(recovery["Opened"]).dt.normalize()
    assert (days == pd.Timedelta(days=RESPONSE_DAYS["recovery"])).all()
    assert recovery["Due"].is_monotonic_increasing
    assert (
        recovery["Why listed"]
        .str.fullmatch(r"Ticket rated [12] of 5 \(recovery call for ratings 1–2\)")
        .all()
    )  # the sample's 1-5 rating: the two lowest points
    # complaints of the latest wave only (the example: 2025-10-07 in a 2026-Q3 report)
    callbacks = pd.read_csv(followup / "callback_all.csv", encoding="utf-8-sig")
    latest = str(responses["wave"].cat.categories[-1])
    assert latest == "2026-Q3" and len(callbacks) > 0
    assert callbacks["Why listed"].str.contains(f"wave {latest} ", regex=False).all()
    first_day = responses.loc[responses["wave"] == latest, "date"].min().normalize()
    assert (pd.to_datetime(callbacks["Submitted"]) >= first_day).all()
    # the counts count the rows of every country's files (read with every country's tables)
    counts = pd.read_csv(followup / "followup_counts.csv", encoding="utf-8-sig")
    for name, words in (
        ("recovery", "recovery calls"),
        ("testimonial", "testimonial requests"),
        ("callback", "complaint callbacks"),
    ):
        for code in sorted(set(responses["country"].astype(str))):
            rows = len(pd.read_csv(followup / f"{name}_{code}.csv", encoding="utf-8-sig"))
            counted = followup_counts(tickets, responses, country=code)
            assert rows == counted.loc[counted["list"] == name, "listed"].sum(), (name, code)
            mine = counts["List"].eq(words) & counts["Country"].str.endswith(f"({code})")
            assert rows == counts.loc[mine, "Listed (permission to contact)"].sum(), (name, code)
    words = " ".join((out / "README.txt").read_text(encoding="utf-8").split())
    assert f"Complaints: those of wave {latest} (the latest wave in the data)" in words
    assert (
        f"{RESPONSE_DAYS['recovery']} days after the ticket was opened for a recovery call" in words
    )
    assert f"opened in the {TICKET_WINDOW_DAYS} days up to the newest ticket" in words
