"""Tests of the routing of the lists (csatlib.loop.routing, csatlib.loop.recipients and the
routed files of csatlib.loop.lists.build_lists).

A tiny hand-made study (a relationship survey with complaints, a ticket survey, an organisation
mapping and an alias file) is cleaned with build_processed and its lists built, so the routing
runs on real processed tables.  Every expected row is worked out by hand in the comments.  The
last test runs on the sample study (data/raw).
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
from csatlib.ingest.clean import build_processed
from csatlib.ingest.organisation import organisation_accounts, read_aliases, read_organisation
from csatlib.loop.accounts import normalize_account_name
from csatlib.loop.followup import write_followup_lists
from csatlib.loop.lists import ListsResult, build_lists
from csatlib.loop.recipients import Routing, file_stems, write_by_recipient

# The headers an at-risk file may carry: account-level aggregates and the routing, nothing else.
AT_RISK_HEADERS = [
    "Account",
    "Country",
    "Respondents",
    "Why at risk",
    "Mean likelihood to recommend (0-10)",
    "NPS (-100 to +100)",
    "Trend",
    "Business unit(s)",
    "Account manager",
    "Manager e-mail",
]

ORGANISATION = """\
business_units: {storage: Storage, compute: Compute, services: Services, labs: Labs}
functions: {storage: Storage, servers: Servers}
accounts:
  # the survey spells it "Acme GmbH" / "ACME GMBH": one account once legal forms are ignored
  "Acme GmbH & Co. KG": {business_units: [storage, compute], account_manager: Anna Bauer,
                         manager_email: anna.bauer@example.org}
  Dune SARL: {business_units: [services], account_manager: "Élodie Lefèvre",
              manager_email: elodie.lefevre@example.org}
  Birch AG: {business_units: compute, account_manager: Karl Berg}
products:
  Storage Arrays: {function: storage, owner: Dana Ortiz, owner_email: dana.ortiz@example.org}
  Edge Servers: {function: servers, owner: Noah Walker}
"""


def _write_export(
    raw: Path, name: str, columns: dict[str, dict[str, Any]], rows: list[dict[str, str]], **top
) -> None:
    """``<name>.csv`` (headers = the columns' sources) and ``<name>.codebook.yaml`` in ``raw``."""
    raw.mkdir(parents=True, exist_ok=True)
    with (raw / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[spec["source"] for spec in columns.values()])
        writer.writeheader()
        writer.writerows(rows)
    book = {"kind": "responses", "file": f"{name}.csv", "format": "csv", **top, "columns": columns}
    text = yaml.safe_dump(book, sort_keys=False, allow_unicode=True)
    (raw / f"{name}.codebook.yaml").write_text(text, encoding="utf-8")


PERMISSION = {"true_values": ["Yes"], "false_values": ["No"]}


def _survey(raw: Path) -> list[dict[str, str]]:
    columns = {
        "response_id": {"source": "RespID", "role": "id"},
        "country": {"source": "Market", "role": "country"},
        "date": {"source": "Submitted", "role": "date"},
        "recommend": {"source": "Q_NPS", "role": "nps", "scale": [0, 10]},
        "customer": {"source": "Company", "role": "account", "label": "Customer"},
        "grievance": {"source": "Q_COMPLAINT", "role": "complaint", "label": "Complaint"},
        "may_contact": {"source": "Q_OK", "role": "contact_ok", **PERMISSION},
        "full_name": {"source": "Q_NAME", "role": "contact"},
        "email_address": {"source": "Q_MAIL", "role": "contact"},
    }

    def person(rid: str, country: str, nps: int, company: str, complaint: str = "", ok: str = ""):
        return {
            "RespID": rid, "Market": country, "Submitted": f"2026-02-{int(rid[1:]):02d} 10:00:00",
            "Q_NPS": str(nps), "Company": company, "Q_COMPLAINT": complaint, "Q_OK": ok,
            "Q_NAME": f"Person {rid}", "Q_MAIL": f"{rid.lower()}@example.com",
        }  # fmt: skip

    rows = [
        # Acme, DE: LTR 2, 3, 4: NPS -100, at risk; R01 complains and may be called back
        person("R01", "DE", 2, "Acme GmbH", "Parcel arrived broken", "Yes"),
        person("R02", "DE", 3, "Acme GmbH"),
        person("R03", "DE", 4, "Acme GmbH"),
        # Acme, FR (the same account in another country): LTR 1, 5, 6: at risk
        person("R04", "FR", 1, "ACME GMBH"),
        person("R05", "FR", 5, "ACME GMBH"),
        person("R06", "FR", 6, "ACME GMBH"),
        # Dune, FR: LTR 5, 6, 7: mean 6 < 6.5, at risk; "DS Paris" is Dune by the alias file;
        # R07 complains but said no: counted, never listed
        person("R07", "FR", 5, "DS Paris", "Invoice sent twice", "No"),
        person("R08", "FR", 6, "Dune SARL"),
        person("R09", "FR", 7, "Dune SARL"),
        # Cedre, FR: not in the mapping, LTR 1, 2, 3: at risk, unrouted; R10 complains
        person("R10", "FR", 1, "Cedre SA", '=HYPERLINK("http://x")', "Yes"),
        person("R11", "FR", 2, "Cedre SA"),
        person("R12", "FR", 3, "Cedre SA"),
        # Birch, DE: LTR 9, 10, 9, not at risk; R13 complains all the same
        person("R13", "DE", 9, "Birch AG", "Portal slow", "Yes"),
        person("R14", "DE", 10, "Birch AG"),
        person("R15", "DE", 9, "Birch AG"),
    ]
    _write_export(raw, "voice", columns, rows, waves={"from": "date"})
    return rows


def _tickets(raw: Path) -> None:
    columns = {
        "ticket_id": {"source": "Case", "role": "id", "label": "Ticket"},
        "country": {"source": "Country", "role": "country"},
        "date": {"source": "Opened", "role": "date"},
        "account": {"source": "Company", "role": "account"},
        "product": {"source": "Product", "role": "other", "label": "Product line"},
        "csat": {"source": "Score", "role": "overall", "scale": [1, 5]},
        "contact_ok": {"source": "OK", "role": "contact_ok", **PERMISSION},
        "contact_email": {"source": "Mail", "role": "contact"},
    }

    def ticket(case: str, country: str, product: str, score: int, ok: str = "Yes"):
        return {
            "Case": case, "Country": country, "Opened": f"2026-03-0{case[-1]} 09:00:00",
            "Company": "Acme GmbH", "Product": product, "Score": str(score), "OK": ok,
            "Mail": f"{case.lower()}@example.com",
        }  # fmt: skip

    rows = [
        ticket("T1", "DE", "Storage Arrays", 1),  # recovery -> Dana Ortiz
        ticket("T2", "FR", "Quantum Widgets", 2),  # recovery, product not in the mapping
        ticket("T3", "DE", "Edge Servers", 5),  # testimonial -> Noah Walker
        ticket("T4", "FR", "storage arrays", 1, ok="No"),  # no permission: not listed
        ticket("T5", "FR", "storage  arrays", 4),  # testimonial -> Dana (case, spaces ignored)
        ticket("T6", "DE", "Quantum Widgets", 5),  # testimonial, unrouted
        ticket("T7", "FR", "Edge Servers", 3),  # neither list
    ]
    _write_export(raw, "tickets", columns, rows, kind="transactions", waves={"from": "date"})


def _study(root: Path, *, organisation: bool = True) -> tuple[ListsResult, Path, list[dict]]:
    raw = root / "raw"
    rows = _survey(raw)
    _tickets(raw)
    (raw / "account_aliases.csv").write_text("alias,canonical\nDS Paris,Dune SARL\n", "utf-8")
    if organisation:
        (raw / "organisation.yaml").write_text(ORGANISATION, encoding="utf-8")
    build_processed(raw, root / "processed")
    out = root / "lists"
    result = build_lists(root / "processed", out, aliases_path=raw / "account_aliases.csv")
    return result, out, rows


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> tuple[ListsResult, Path, list[dict]]:
    return _study(tmp_path_factory.mktemp("routed"))


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _pairs(path: Path) -> list[tuple[str, str]]:
    frame = _read(path)
    return list(zip(frame["Account"], frame["Country"], strict=True))


# the account's name is its commonest spelling, ties to the one not in capitals
ACME_DE, ACME_FR = ("Acme GmbH", "Germany (DE)"), ("Acme GmbH", "France (FR)")
DUNE, CEDRE = ("Dune SARL", "France (FR)"), ("Cedre SA", "France (FR)")


def test_at_risk_accounts_go_to_their_manager_and_units(routed) -> None:
    _, out, _ = routed
    accounts = out / "accounts"
    everything = _read(accounts / "at_risk_all.csv")
    assert list(everything.columns) == AT_RISK_HEADERS  # no revenue, no attributes here
    assert sorted(_pairs(accounts / "at_risk_all.csv")) == sorted([ACME_DE, ACME_FR, DUNE, CEDRE])
    row = everything.set_index(["Account", "Country"]).loc[ACME_FR]
    # the mapping's units in its order, labels joined; the manager of "Acme GmbH & Co. KG"
    assert row["Business unit(s)"] == "Storage; Compute"
    assert (row["Account manager"], row["Manager e-mail"]) == (
        "Anna Bauer",
        "anna.bauer@example.org",
    )
    cedre = everything.set_index(["Account", "Country"]).loc[CEDRE]
    assert (cedre["Business unit(s)"], cedre["Account manager"], cedre["Manager e-mail"]) == (
        "",
        "",
        "",
    )  # not in the mapping: empty, and unrouted below
    by_manager = accounts / "by_manager"
    # one file per manager of the mapping, across countries; Karl Berg's Birch is not at risk
    assert sorted(p.name for p in by_manager.iterdir()) == [
        "anna-bauer.csv",
        "elodie-lefevre.csv",
        "karl-berg.csv",
        "unrouted.csv",
    ]
    assert sorted(_pairs(by_manager / "anna-bauer.csv")) == sorted([ACME_DE, ACME_FR])
    assert _pairs(by_manager / "elodie-lefevre.csv") == [DUNE]  # "DS Paris" too, by the alias
    assert _pairs(by_manager / "karl-berg.csv") == []
    assert _pairs(by_manager / "unrouted.csv") == [CEDRE]
    by_unit = accounts / "by_unit"
    expected = {
        "at_risk_storage.csv": [ACME_DE, ACME_FR],  # Acme is in two units: in both files
        "at_risk_compute.csv": [ACME_DE, ACME_FR],
        "at_risk_services.csv": [DUNE],
        "at_risk_labs.csv": [],  # a unit without accounts: a header-only file
        "unrouted.csv": [CEDRE],
    }
    assert sorted(p.name for p in by_unit.iterdir()) == sorted(expected)
    for name, pairs in expected.items():
        assert sorted(_pairs(by_unit / name)) == sorted(pairs), name
        assert list(_read(by_unit / name).columns) == AT_RISK_HEADERS, name


def test_every_at_risk_row_is_once_per_folder_and_nothing_personal(routed) -> None:
    result, out, rows = routed
    accounts = out / "accounts"
    whole = len(_read(accounts / "at_risk_all.csv"))
    per_country = sum(len(_read(p)) for p in accounts.glob("at_risk_[A-Z][A-Z].csv"))
    per_manager = sum(len(_read(p)) for p in (accounts / "by_manager").glob("*.csv"))
    per_unit = sum(len(_read(p)) for p in (accounts / "by_unit").glob("*.csv"))
    assert whole == per_country == per_manager == 4  # unrouted.csv is one of the files
    assert per_unit == whole + 2  # Acme's two rows, once more for its second unit
    files = [p for p in result.written if "accounts" in p.parts and p.suffix == ".csv"]
    files = [p for p in files if p.name != "review_pairs.csv"]
    assert len(files) == 2 + 1 + 4 + 5  # DE, FR, all; 3 managers + unrouted; 4 units + unrouted
    for path in files:
        assert set(_read(path).columns) <= set(AT_RISK_HEADERS), path
        text = path.read_text(encoding="utf-8-sig")
        for row in rows:  # no id, name, e-mail or complaint of a respondent
            for cell in (row["RespID"], row["Q_NAME"], row["Q_MAIL"], row["Q_COMPLAINT"]):
                assert not cell or cell not in text, (path, cell)


def test_tickets_go_to_the_owner_of_their_product(routed) -> None:
    _, out, _ = routed
    followup = out / "followup"
    recovery = _read(followup / "recovery_all.csv")
    assert list(recovery.columns)[-3:] == ["Function", "Owner", "Owner e-mail"]
    routing = recovery.set_index("Ticket")[["Function", "Owner", "Owner e-mail"]]
    assert routing.loc["T1"].tolist() == ["Storage", "Dana Ortiz", "dana.ortiz@example.org"]
    assert routing.loc["T2"].tolist() == ["", "", ""]  # Quantum Widgets: not in the mapping
    assert routing.index.tolist() == ["T1", "T2"]
    by_owner = followup / "by_owner"
    expected = {
        "recovery_dana-ortiz.csv": ["T1"],
        "recovery_noah-walker.csv": [],
        "recovery_unrouted.csv": ["T2"],
        "testimonial_dana-ortiz.csv": ["T5"],  # "storage  arrays": case and spaces ignored
        "testimonial_noah-walker.csv": ["T3"],
        "testimonial_unrouted.csv": ["T6"],
    }
    assert sorted(p.name for p in by_owner.iterdir()) == sorted(expected)
    for name, tickets in expected.items():
        frame = _read(by_owner / name)
        assert frame["Ticket"].tolist() == tickets, name
        assert list(frame.columns) == list(recovery.columns), name  # one list, one layout
    noah = _read(by_owner / "testimonial_noah-walker.csv").iloc[0]
    assert (noah["Function"], noah["Owner e-mail"]) == ("Servers", "")  # no e-mail given
    for name in ("recovery", "testimonial"):
        whole = len(_read(followup / f"{name}_all.csv"))
        per_country = sum(len(_read(followup / f"{name}_{cc}.csv")) for cc in ("DE", "FR"))
        routed_rows = sum(len(_read(p)) for p in by_owner.glob(f"{name}_*.csv"))
        assert whole == per_country == routed_rows, name
    everything = "".join(p.read_text(encoding="utf-8-sig") for p in followup.rglob("*.csv"))
    assert "t4@example.com" not in everything  # no permission: never listed, routed or not


def test_callbacks_go_to_the_manager_of_the_account(routed) -> None:
    _, out, _ = routed
    followup = out / "followup"
    callbacks = _read(followup / "callback_all.csv")
    assert list(callbacks.columns)[-2:] == ["Account manager", "Manager e-mail"]
    by_manager = followup / "by_manager"
    expected = {
        "callback_anna-bauer.csv": ["R01"],
        "callback_elodie-lefevre.csv": [],  # R07 (Dune) said no: not listed at all
        "callback_karl-berg.csv": ["R13"],  # a happy account's complaint is called back too
        "callback_unrouted.csv": ["R10"],  # Cedre is not in the mapping
    }
    assert sorted(p.name for p in by_manager.iterdir()) == sorted(expected)
    for name, ids in expected.items():
        assert _read(by_manager / name)["Response id"].tolist() == ids, name
    unrouted = _read(by_manager / "callback_unrouted.csv").iloc[0]
    assert unrouted["Complaint"] == '\'=HYPERLINK("http://x")'  # written safely there too
    assert (unrouted["Account manager"], unrouted["Manager e-mail"]) == ("", "")
    assert len(callbacks) == sum(len(_read(p)) for p in by_manager.glob("*.csv")) == 3
    assert "r07@example.com" not in "".join(
        p.read_text(encoding="utf-8-sig") for p in followup.rglob("*.csv")
    )


def test_readme_says_how_rows_are_routed_and_counts_the_unrouted(routed) -> None:
    result, out, _ = routed
    assert result.skipped == (
        "Revenue linkage: not built — the study has no revenue table (kind `revenue`).",
    )
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "ROUTING" in readme.splitlines()
    words = " ".join(readme.split())
    assert "(`account_manager` under `accounts`)" in words
    assert (
        "4 at-risk rows: 3 routed to 2 account managers, 1 not in the organisation mapping"
    ) in words
    assert "(`owner` under `products`; Function is the product's `function`)" in words
    assert (
        "Recovery calls: 2 rows, 1 routed to 1 owners, 1 whose product is not in the "
        "organisation mapping in followup/by_owner/recovery_unrouted.csv"
    ) in words
    assert "Testimonial requests: 3 rows, 2 routed to 2 owners, 1 whose product" in words
    assert "3 rows, 2 routed to 2 account managers, 1 whose account is not in the" in words
    assert "accounts/by_manager/: anna-bauer.csv, elodie-lefevre.csv, karl-berg.csv," in words
    # every file written is named in the README
    for path in result.written[:-1]:
        assert path.name in words, path


def test_without_a_mapping_the_lists_are_as_before(tmp_path: Path) -> None:
    result, out, _ = _study(tmp_path, organisation=False)
    assert not [p for p in out.rglob("by_*")]
    assert list(_read(out / "accounts" / "at_risk_all.csv").columns) == AT_RISK_HEADERS[:7]
    assert list(_read(out / "followup" / "recovery_all.csv").columns)[-1] == "Contact email"
    assert "ROUTING" not in (out / "README.txt").read_text(encoding="utf-8")
    assert all("by_" not in p.parent.name for p in result.written)


# ---------------------------------------------------------------------------------------------
# csatlib.loop.recipients
# ---------------------------------------------------------------------------------------------
def test_file_stems_are_unique_readable_and_never_unrouted() -> None:
    stems = file_stems(["Élodie Lefèvre", "Unrouted", "Ann Lee", "ann  lee", "Jörg Weiß", "林 浩"])
    assert stems == {
        "Ann Lee": "ann-lee",
        "ann  lee": "ann-lee-2",  # sorted by name: "Ann Lee" < "ann  lee"
        "Élodie Lefèvre": "elodie-lefevre",
        "Jörg Weiß": "jorg-weiss",
        "Unrouted": "unrouted-2",  # the unrouted file keeps its name
        "林 浩": "林-浩",
    }


def test_write_by_recipient_refuses_what_it_cannot_place(tmp_path: Path) -> None:
    people = pd.DataFrame({"Account": ["A", "B"]})
    with pytest.raises(DataError, match="one recipient per row"):
        write_by_recipient(people, pd.Series(["x"]), tmp_path, files={"x": "x.csv"})
    with pytest.raises(DataError, match=r"no file name for recipient\(s\) \['y'\]"):
        write_by_recipient(people, pd.Series(["x", "y"]), tmp_path, files={"x": "x.csv"})
    paths = write_by_recipient(people, pd.Series(["x", pd.NA]), tmp_path, files={"x": "x.csv"})
    assert [p.name for p in paths] == ["x.csv", "unrouted.csv"]
    assert _read(paths[1])["Account"].tolist() == ["B"]


def test_a_routing_column_may_not_replace_a_list_column(routed, tmp_path: Path) -> None:
    _, out, _ = routed
    from csatlib.ingest.clean import load_processed

    tickets = load_processed("transactions", out.parent / "processed")
    clash = Routing(
        columns=pd.DataFrame({"Country": ["x"]}, index=pd.Index(["T1"], dtype="string")),
        recipient="Country",
        folder="by_owner",
        stems={"x": "x"},
    )
    with pytest.raises(DataError, match=r"already has the column\(s\) \['Country'\]"):
        write_followup_lists(tickets, None, tmp_path, routing={"recovery": clash})
    with pytest.raises(DataError, match="routing: expected list names"):
        write_followup_lists(tickets, None, tmp_path, routing={"refund": clash})


# ---------------------------------------------------------------------------------------------
# the sample study
# ---------------------------------------------------------------------------------------------
def test_sample_at_risk_accounts_reach_the_manager_the_mapping_names(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("sample")
    build_processed(config.RAW_DIR, root / "processed")
    out = root / "lists"
    build_lists(root / "processed", out, aliases_path=config.ACCOUNT_ALIASES)
    organisation = read_organisation(root / "processed")
    assert organisation is not None
    at_risk = _read(out / "accounts" / "at_risk_all.csv")
    # the mapping's entry for each listed account, found independently of csatlib.loop.routing
    entry = organisation_accounts(
        at_risk["Account"],
        organisation,
        key=normalize_account_name,
        aliases=read_aliases(config.ACCOUNT_ALIASES),
    )
    managers = organisation.accounts_table().drop_duplicates("account")
    expected = entry.map(managers.set_index("account")["account_manager"])
    named = expected.notna().to_numpy()
    assert named.sum() == len(at_risk) > 0  # measured: all 67 at-risk rows have an entry
    assert (at_risk.loc[named, "Account manager"] == expected[named].to_numpy()).all()
    stems = file_stems(e.account_manager for e in organisation.accounts)
    for manager, rows in at_risk[named].groupby("Account manager"):
        own = _read(out / "accounts" / "by_manager" / f"{stems[manager]}.csv")
        assert sorted(_pairs_of(own)) == sorted(_pairs_of(rows)), manager
    assert len(_read(out / "accounts" / "by_manager" / "unrouted.csv")) == (~named).sum()


def _pairs_of(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["Account"], frame["Country"], strict=True))


def test_every_case_names_the_business_units_of_its_account(routed, tmp_path: Path) -> None:
    """A callback's, a recovery's and an escalation's case names its account's business units,
    as an at-risk account's does: a unit's report finds its own cases (they had none)."""
    from csatlib.loop.lists import load_loop_study
    from csatlib.loop.rules import load_case_rules
    from csatlib.loop.tracking import propose_cases

    root = tmp_path / "study"
    _study(root)
    study = load_loop_study(root / "processed", aliases_path=root / "raw" / "account_aliases.csv")
    cases = propose_cases(study, load_case_rules(None)).set_index(["type", "source_key"])
    callbacks = cases.loc["callback", "business_units"]
    assert callbacks.loc["R01"] == "Storage; Compute"  # Acme: two units
    assert callbacks.loc["R13"] == "Compute"  # Birch
    assert callbacks.loc["R10"] == ""  # Cedre: not in the mapping
    escalations = cases.loc[cases.index.get_level_values("type") == "escalation"]
    assert (escalations["business_units"] != "").any()
