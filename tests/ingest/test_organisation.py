"""Tests of csatlib.ingest.organisation: loading and validating organisation.yaml, the processed
tables and warnings of `csat data`, unit membership, and the sample's mapping.

The hand-made study below states its expected counts next to its rows; the sample's numbers are
re-derived from data/processed built from data/raw (written by csatlib.sample.synth)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from csatlib.config import RAW_DIR
from csatlib.errors import CodebookError, DataError
from csatlib.ingest.clean import build_processed, load_processed
from csatlib.ingest.codebook import load_codebook
from csatlib.ingest.organisation import (
    ORGANISATION_TABLES,
    Organisation,
    OrganisationError,
    account_key,
    load_organisation,
    organisation_accounts,
    parse_organisation,
    product_column,
    read_aliases,
    read_organisation,
    unit_membership,
    with_functions,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "organisation.md"

ORGANISATION = """\
# a hand-made mapping
business_units:
  storage: Enterprise Storage
  compute: Compute
  edge: Edge Labs
functions:
  storage: Storage
  servers: Servers
business_processes:
  order_to_cash: Order to cash
  engineering: Product engineering
accounts:
  Acme Inc.:
    business_units: [storage, compute]
    account_manager: Ann Lee
    manager_email: ann@example.org
  Beta GmbH: {business_units: compute, account_manager: Bo Berg}
  Gamma SA: {business_units: [storage], account_manager: Cy Diaz, manager_email: cy@example.org}
  Never Asked Ltd: {business_units: [compute], account_manager: Bo Berg}
products:
  Storage Arrays: {function: storage, owner: Dee Fox, owner_email: dee@example.org}
  Edge Servers: {function: servers, owner: Eve Gray}
  Edge Gateways: {function: servers, owner: Eve Gray}
attributes:
  delivery: {business_process: order_to_cash, owner: Flo Hunt}
"""
# id,country,account,recommend,delivery,quality -- expected per row:
RESPONSES = """\
id,country,account,recommend,delivery,quality
R1,DE,Acme Inc.,9,8,9
R2,DE,ACME  INC. ,3,4,5
R3,FR,Beta GmbH,10,9,9
R4,FR,AI,7,7,8
R5,FR,Zeta Corp,8,8,8
R6,GB,Gamma SA,6,5,
R1,DE,Acme Inc.,9,8,9
R8,DE,Beta GmbH,,,
"""
# R1/R2 (two spellings) and R4 (alias AI) are Acme (storage + compute); R3 Beta (compute); R5 an
# account no mapping names; R6 Gamma (storage); row 8 repeats R1 (duplicate_id); R8 answers
# nothing (empty_response): raw 8 = kept 6 + excluded 2.
TICKETS = """\
ticket_id,country,account,product,csat
0001,DE,Acme Inc.,Storage Arrays,5
0002,FR,Beta GmbH,Edge Servers,4
0003,GB,Gamma SA,storage arrays,2
0004,DE,Acme Inc.,Toasters,3
"""
RESPONSES_BOOK = {
    "kind": "responses",
    "file": "survey.csv",
    "columns": {
        "response_id": {"source": "id", "role": "id"},
        "country": {"source": "country", "role": "country"},
        "account": {"source": "account", "role": "account"},
        "likelihood_to_recommend": {"source": "recommend", "role": "nps"},
        "delivery": {"source": "delivery", "role": "attribute", "scale": [1, 10]},
        "product_quality": {"source": "quality", "role": "attribute", "scale": [1, 10]},
    },
}
TICKETS_BOOK = {
    "kind": "transactions",
    "file": "tickets.csv",
    "columns": {
        "ticket_id": {"source": "ticket_id", "role": "id"},
        "country": {"source": "country", "role": "country"},
        "account": {"source": "account", "role": "account"},
        "product": {"source": "product", "role": "other"},
        "csat": {"source": "csat", "role": "overall", "scale": [1, 5]},
    },
}


def _line(text: str, fragment: str) -> int:
    """1-based number of the first line of ``text`` containing ``fragment``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.fixture
def study(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "survey.csv").write_text(RESPONSES, encoding="utf-8")
    (raw / "tickets.csv").write_text(TICKETS, encoding="utf-8")
    for name, book in (("survey", RESPONSES_BOOK), ("tickets", TICKETS_BOOK)):
        (raw / f"{name}.codebook.yaml").write_text(yaml.safe_dump(book), encoding="utf-8")
    (raw / "organisation.yaml").write_text(ORGANISATION, encoding="utf-8")
    (raw / "account_aliases.csv").write_text("alias,canonical\nAI,Acme Inc.\n", encoding="utf-8")
    return raw


@pytest.fixture
def built(study: Path, tmp_path: Path):
    return build_processed(study, tmp_path / "processed")


# --------------------------------------------------------------------------------------------------
# loading


def test_load_organisation(study: Path):
    org = load_organisation(study / "organisation.yaml")
    assert list(org.business_units.items()) == [
        ("storage", "Enterprise Storage"),
        ("compute", "Compute"),
        ("edge", "Edge Labs"),
    ]
    names = [e.account for e in org.accounts]
    assert names == ["Acme Inc.", "Beta GmbH", "Gamma SA", "Never Asked Ltd"]
    acme = org.accounts[0]
    assert acme.business_units == ("storage", "compute")
    assert acme.line == _line(ORGANISATION, "Acme")
    assert org.accounts[1].business_units == ("compute",)  # one code without a list
    assert org.accounts[1].manager_email is None
    table = org.accounts_table()
    assert list(table.columns) == ["account", "business_unit", "account_manager", "manager_email"]
    assert len(table) == 5  # Acme twice (two units), three accounts once
    assert table["business_unit"].cat.categories.tolist() == ["storage", "compute", "edge"]
    assert table.loc[table["account"] == "Acme Inc.", "business_unit"].tolist() == [
        "storage",
        "compute",
    ]
    assert org.products_table()["function"].tolist() == ["storage", "servers", "servers"]
    assert org.attributes_table().iloc[0].tolist() == [
        "delivery",
        "order_to_cash",
        "Flo Hunt",
        pd.NA,
    ]
    codes = org.codes_table()
    assert codes["dimension"].value_counts().to_dict() == {
        "business_unit": 3,
        "function": 2,
        "business_process": 2,
    }


def _error(text: str, tmp_path: Path, **kwargs) -> str:
    path = tmp_path / "org.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OrganisationError) as info:
        load_organisation(path, **kwargs)
    assert isinstance(info.value, CodebookError)  # the CLI reports it like a codebook error
    return str(info.value)


def _swap(old: str, new: str) -> str:
    assert old in ORGANISATION
    return ORGANISATION.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "fragment", "expected"),
    [
        (  # YAML would keep the last of two equal keys
            _swap("  Beta GmbH:", "  Acme Inc.:"),
            "  Acme Inc.: {business_units: compute",
            r"line {line}: key 'Acme Inc\.' appears twice \(first on line {acme}\)",
        ),
        (  # the same account once case and spaces are ignored
            _swap("  Beta GmbH:", "  ACME   inc.:"),
            "ACME   inc.",
            r"line {line}, account 'ACME   inc\.': the same account as 'Acme Inc\.' "
            r"\(line {acme}\)",
        ),
        (
            _swap("accounts:", "acounts:"),
            "acounts:",
            r"line {line}: unknown key 'acounts' at the top level \(did you mean 'accounts'\?\)",
        ),
        (
            _swap("account_manager: Cy Diaz", "acount_manager: Cy Diaz"),
            "Gamma SA",
            r"line {line}, account 'Gamma SA': unknown key 'acount_manager' \(did you mean "
            r"'account_manager'\?\); allowed: account_manager, business_units, manager_email",
        ),
        (
            _swap("units: [storage], account_manager: Cy", "units: [stroage], account_manager: Cy"),
            "Gamma SA",
            r"line {line}, account 'Gamma SA': business unit 'stroage' is not declared under "
            r"business_units \(did you mean 'storage'\?\); declared: storage, compute, edge",
        ),
        (
            _swap("[storage], account_manager: Cy", "[storage, storage], account_manager: Cy"),
            "Gamma SA",
            r"line {line}, account 'Gamma SA': business unit listed twice",
        ),
        (
            _swap("{function: servers, owner: Eve Gray}", "{function: software, owner: Eve Gray}"),
            "Edge Servers",
            r"line {line}, product 'Edge Servers': function 'software' is not declared under "
            r"functions",
        ),
        (
            _swap("business_process: order_to_cash", "business_process: order_to_pay"),
            "delivery:",
            r"line {line}, attribute 'delivery': business process 'order_to_pay' is not "
            r"declared under business_processes \(did you mean 'order_to_cash'\?\)",
        ),
        (
            _swap("  edge: Edge Labs", "  Edge: Edge Labs"),
            "Edge: Edge Labs",
            r"line {line}: business_units code 'Edge' must be a lowercase name",
        ),
        (
            _swap("  edge: Edge Labs", "  edge: compute"),
            "edge: compute",
            r"line {line}, business_units code 'edge': label 'compute' is also the label of "
            r"'compute'",
        ),
        (  # a missing key is reported on its entry's line
            _swap(", account_manager: Bo Berg}\n  Gamma", "}\n  Gamma"),
            "Beta GmbH",
            r"line {line}, account 'Beta GmbH': 'account_manager' must be a non-empty text, "
            r"found nothing",
        ),
        (
            _swap("manager_email: cy@example.org", "manager_email: cy at example"),
            "Gamma SA",
            r"line {line}, account 'Gamma SA': 'manager_email' must be an e-mail address",
        ),
        (
            _swap("Gamma SA: {business_units", "Gamma SA: {business_units: [storage"),
            "Gamma SA",
            r"line {line}, column \d+: not valid YAML",
        ),
    ],
)
def test_validation_names_file_line_and_key(tmp_path, text, fragment, expected):
    message = _error(text, tmp_path)
    assert message.startswith("organisation file 'org.yaml', ")
    pattern = expected.format(line=_line(text, fragment), acme=_line(text, "Acme Inc."))
    assert re.search(pattern, message), message


def test_attributes_must_be_the_codebooks(tmp_path):
    text = _swap("  delivery: {business_process", "  delivery_speed: {business_process")
    message = _error(text, tmp_path, attributes=["product_quality", "delivery"])
    line = _line(text, "delivery_speed")
    assert f"line {line}, attribute 'delivery_speed': expected the canonical name" in message
    assert "(did you mean 'delivery'?); their attributes: product_quality, delivery" in message
    # without a list of attributes there is nothing to check them against
    path = tmp_path / "org.yaml"
    assert load_organisation(path).attributes[0].attribute == "delivery_speed"


def test_the_top_level_needs_business_units(tmp_path):
    message = _error("accounts: {}\n", tmp_path)
    assert "'business_units' missing" in message
    assert "expected a mapping" in _error("- a list\n", tmp_path)
    with pytest.raises(OrganisationError, match=r"missing\.yaml' not found"):
        load_organisation(tmp_path / "missing.yaml")


def test_parse_accepts_a_plain_mapping():
    # as yaml.safe_load gives it: no line numbers, still validated
    org = parse_organisation(yaml.safe_load(ORGANISATION))
    assert org.accounts[0].line is None and org.path is None
    expected = "^organisation file, account 'Beta GmbH': 'business_units' must list"
    with pytest.raises(OrganisationError, match=expected):
        parse_organisation(yaml.safe_load(_swap("business_units: compute,", "business_units: [],")))


def test_docs_example_loads(tmp_path):
    """The YAML block of docs/organisation.md is a valid mapping."""
    (block,) = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    path = tmp_path / "organisation.yaml"
    path.write_text(block, encoding="utf-8")
    org = load_organisation(path, attributes=["product_quality", "delivery"])
    assert org.accounts[0].business_units == ("compute", "enterprise_storage")
    assert org.accounts[1].account == "Müller Präzisionstechnik GmbH"
    assert org.accounts[2].business_units == ("edge_labs",)
    assert [p.function for p in org.products] == ["storage", "servers"]


# --------------------------------------------------------------------------------------------------
# csat data: tables, function column, warnings


def test_build_writes_the_organisation_tables(built, tmp_path):
    out = tmp_path / "processed"
    assert set(built.organisation_outputs) == set(ORGANISATION_TABLES)
    assert set(built.outputs) == {"responses", "transactions"}  # the exports' kinds only
    accounts = load_processed("organisation_accounts", out)
    assert accounts.columns.tolist() == [
        "account",
        "business_unit",
        "account_manager",
        "manager_email",
    ]
    assert len(accounts) == 5 and accounts.attrs["kind"] == "organisation_accounts"
    products = load_processed("organisation_products", out)
    assert list(products.columns) == ["product", "function", "owner", "owner_email"]
    attributes = load_processed("organisation_attributes", out)
    assert list(attributes.columns) == ["attribute", "business_process", "owner", "owner_email"]
    codes = load_processed("organisation_codes", out)
    assert list(codes.columns) == ["dimension", "code", "label"] and len(codes) == 7
    # read back as the reports do: the same mapping as the file, less the line numbers
    again = read_organisation(out)
    assert isinstance(again, Organisation)
    original = load_organisation(tmp_path / "raw" / "organisation.yaml")
    for name, frame in original.tables().items():
        pd.testing.assert_frame_equal(again.tables()[name], frame)
    assert dict(again.business_units) == dict(original.business_units)


def test_build_keeps_every_row_and_adds_the_ticket_function(built, study, tmp_path):
    out = tmp_path / "processed"
    source = {s["source"]: s for s in built.summary["sources"]}["survey.csv"]
    assert (source["raw_rows"], source["kept"]) == (8, 6)
    excluded = {reason: n for reason, n in source["excluded"].items() if n}
    assert excluded == {"duplicate_id": 1, "empty_response": 1}
    responses = load_processed("responses", out)
    assert "business_unit" not in responses.columns and len(responses) == 6
    tickets = load_processed("transactions", out)
    after = tickets.columns.get_loc("product") + 1
    assert tickets.columns[after] == "function"
    # "storage arrays" is the mapping's "Storage Arrays" (case ignored); Toasters is not listed
    function = tickets["function"]
    assert function.iloc[:3].tolist() == ["storage", "servers", "storage"]
    assert function.isna().tolist() == [False, False, False, True]
    assert tickets["function"].cat.categories.tolist() == ["storage", "servers"]
    assert tickets.attrs["roles"]["function"] == "function"
    assert tickets.attrs["labels"]["function"] == "Function"
    # without the mapping the same exports give the same responses and no function
    (study / "organisation.yaml").unlink()
    plain = build_processed(study, tmp_path / "plain")
    pd.testing.assert_frame_equal(load_processed("responses", tmp_path / "plain"), responses)
    assert "function" not in load_processed("transactions", tmp_path / "plain").columns
    assert "organisation" not in plain.summary and not plain.organisation_outputs


def test_build_logs_what_the_mapping_and_data_disagree_on(built, tmp_path):
    log = pd.read_csv(tmp_path / "processed" / "cleaning_log.csv", dtype=str, keep_default_na=False)
    warnings = log[log["action"] == "warning"]
    by_rule = {rule: rows for rule, rows in warnings.groupby("rule")}
    assert built.summary["organisation"]["warnings"] == {
        rule: len(rows) for rule, rows in by_rule.items()
    }
    account = by_rule["account_not_in_organisation"]
    # only R5's account: two spellings of Acme and the alias AI find it
    assert account[["source", "source_row", "column", "value", "count"]].values.tolist() == [
        ["survey.csv", "6", "account", "Zeta Corp", "1"]
    ]
    product = by_rule["product_not_in_organisation"]
    assert product[["source", "value", "count"]].values.tolist() == [
        ["tickets.csv", "Toasters", "1"]
    ]
    mapping = [("account_not_in_data", "Never Asked Ltd"), ("product_not_in_data", "Edge Gateways")]
    for rule, value in mapping:
        (row,) = by_rule[rule].itertuples()
        assert (row.source, row.value) == ("organisation.yaml", value)
        assert int(row.source_row) == _line(ORGANISATION, value)
    assert by_rule["attribute_not_in_organisation"]["value"].tolist() == ["product_quality"]
    assert by_rule["unit_without_accounts"]["value"].tolist() == ["edge"]
    assert any("warnings in the cleaning log" in line for line in built.describe())


def test_build_stops_on_a_broken_mapping_before_reading_exports(study, tmp_path):
    (study / "survey.csv").unlink()  # would fail later, when the exports are read
    (study / "organisation.yaml").write_text(_swap("compute]", "komputer]"), encoding="utf-8")
    with pytest.raises(OrganisationError, match="business unit 'komputer' is not declared"):
        build_processed(study, tmp_path / "processed")


def test_build_checks_attributes_against_the_codebooks(study, tmp_path):
    (study / "organisation.yaml").write_text(_swap("  delivery: {", "  speed: {"), encoding="utf-8")
    with pytest.raises(OrganisationError, match="attribute 'speed': expected the canonical"):
        build_processed(study, tmp_path / "processed")


def test_removing_the_mapping_removes_its_tables(built, study, tmp_path):
    out = tmp_path / "processed"
    (study / "organisation.yaml").unlink()
    again = build_processed(study, out)
    assert sorted(p.stem for p in again.removed) == sorted(ORGANISATION_TABLES)
    assert read_organisation(out) is None
    assert any("no organisation.yaml any more" in line for line in again.describe())


def test_a_codebook_kind_may_not_take_an_organisation_table_name(study, tmp_path):
    book = dict(TICKETS_BOOK, kind="organisation_accounts")
    (study / "tickets.codebook.yaml").write_text(yaml.safe_dump(book), encoding="utf-8")
    with pytest.raises(CodebookError, match="would overwrite the organisation tables"):
        build_processed(study, tmp_path / "processed")


def test_read_organisation_refuses_a_partial_folder(built, tmp_path):
    out = tmp_path / "processed"
    (out / "organisation_products.parquet").unlink()
    with pytest.raises(DataError, match="organisation_products missing"):
        read_organisation(out)


# --------------------------------------------------------------------------------------------------
# unit membership


def test_unit_membership_is_long_and_keeps_the_responses(built, study, tmp_path):
    out = tmp_path / "processed"
    responses = load_processed("responses", out)
    org = read_organisation(out)
    aliases = read_aliases(study / "account_aliases.csv")
    membership = unit_membership(responses, org, aliases=aliases)
    assert list(membership.columns) == ["response_id", "account", "business_unit"]
    # Acme's three respondents are in two units each, in table order then the account's order
    assert membership.values.tolist() == [
        ["R1", "Acme Inc.", "storage"],
        ["R1", "Acme Inc.", "compute"],
        ["R2", "Acme Inc.", "storage"],
        ["R2", "Acme Inc.", "compute"],
        ["R3", "Beta GmbH", "compute"],
        ["R4", "Acme Inc.", "storage"],
        ["R4", "Acme Inc.", "compute"],
        ["R6", "Gamma SA", "storage"],
    ]
    assert membership["business_unit"].cat.categories.tolist() == ["storage", "compute", "edge"]
    # a unit's slice counts each respondent once; the table itself is untouched
    storage = responses[responses["response_id"].isin(
        membership.loc[membership["business_unit"] == "storage", "response_id"])]  # fmt: skip
    assert storage["response_id"].tolist() == ["R1", "R2", "R4", "R6"]
    assert len(load_processed("responses", out)) == len(responses) == 6
    # without the alias file R4's "AI" finds no account
    assert "R4" not in set(unit_membership(responses, org)["response_id"])


def test_unit_membership_of_tickets_and_with_another_key(built, tmp_path):
    out = tmp_path / "processed"
    org = read_organisation(out)
    tickets = load_processed("transactions", out)
    membership = unit_membership(tickets, org)
    assert membership.columns[0] == "ticket_id"  # the table's id column (role id)
    per_ticket = membership.groupby("ticket_id").size().to_dict()
    assert per_ticket == {"0001": 2, "0002": 1, "0003": 1, "0004": 2}  # Acme's in two units

    def first_word(names: pd.Series) -> pd.Series:
        return names.astype("string").str.casefold().str.split().str[0]

    names = pd.Series(["acme holdings", "Gamma", "Zeta"])
    assert organisation_accounts(names, org, key=first_word).tolist() == [
        "Acme Inc.",
        "Gamma SA",
        pd.NA,
    ]

    def constant(names: pd.Series) -> pd.Series:
        return pd.Series("x", index=names.index, dtype="string")

    with pytest.raises(DataError, match="share the key 'x'"):
        organisation_accounts(names, org, key=constant)
    # an alias listed twice alike is one alias; one alias for two accounts is refused
    aliases = pd.DataFrame(
        {"alias": ["AI", "ai", "BG"], "canonical": ["Acme Inc.", "Acme Inc.", "Beta GmbH"]}
    )
    found = organisation_accounts(pd.Series(["ai", "BG", "AI "]), org, aliases=aliases)
    assert found.tolist() == ["Acme Inc.", "Beta GmbH", "Acme Inc."]
    conflict = pd.DataFrame({"alias": ["AI", "ai"], "canonical": ["Acme Inc.", "Gamma SA"]})
    with pytest.raises(DataError, match=r"\['Acme Inc\.', 'Gamma SA'\] \(alias\) share the key"):
        organisation_accounts(names, org, aliases=conflict)
    with pytest.raises(DataError, match="missing column"):
        unit_membership(tickets.drop(columns="account"), org)


def test_account_key_is_cleanings_text_rule_without_case():
    names = pd.Series(["  Acme\u00a0 Inc. ", "Cafe\u0301 SA", "CAFÉ SA", "", None])
    assert account_key(names).tolist() == ["acme inc.", "café sa", "café sa", pd.NA, pd.NA]


def test_product_column_and_with_functions():
    org = parse_organisation(yaml.safe_load(ORGANISATION))
    by_role = pd.DataFrame({"ticket_id": ["1"], "line": ["Edge Servers"]})
    by_role.attrs = {"roles": {"ticket_id": "id", "line": "product"}, "labels": {}}
    assert product_column(by_role) == "line"
    out = with_functions(by_role, org)
    assert out["function"].tolist() == ["servers"] and "function" not in by_role.columns
    assert "function" not in by_role.attrs["roles"]  # the input's attrs are not changed
    assert product_column(pd.DataFrame({"x": [1]})) is None
    already = out.assign(line="Storage Arrays")
    assert with_functions(already, org) is already  # a function column is kept as it is


# --------------------------------------------------------------------------------------------------
# the sample (data/raw, written by csatlib.sample.synth)

_SAMPLE = RAW_DIR / "organisation.yaml"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("sample") / "processed"
    summary = build_processed(RAW_DIR, out)
    return {
        "summary": summary,
        "responses": load_processed("responses", out),
        "transactions": load_processed("transactions", out),
        "organisation": read_organisation(out),
    }


@pytest.mark.skipif(not _SAMPLE.is_file(), reason="sample data not generated (run `csat synth`)")
def test_sample_organisation_maps_every_attribute_and_product():
    books = [load_codebook(p) for p in sorted(RAW_DIR.glob("*.codebook.yaml"))]
    attributes = [n for book in books for n in book.names("attribute")]
    org = load_organisation(_SAMPLE, attributes=attributes)
    assert 4 <= len(org.business_units) <= 6
    assert len(attributes) == 8
    assert sorted(e.attribute for e in org.attributes) == sorted(attributes)
    two = [e.account for e in org.accounts if len(e.business_units) == 2]
    assert 3 <= len(two) <= 5
    truth = json.loads((RAW_DIR / "ground_truth.json").read_text(encoding="utf-8"))["accounts"]
    assert sorted(e.account for e in org.accounts) == sorted(truth)  # every account, once
    emails = [e.manager_email for e in org.accounts] + [e.owner_email for e in org.products]
    assert all(str(e).endswith("@example.org") for e in emails)


@pytest.mark.skipif(not _SAMPLE.is_file(), reason="sample data not generated (run `csat synth`)")
def test_sample_has_one_unit_too_small_to_report(sample):
    from csatlib.loop.accounts import normalize_account_name  # how the account lists match

    responses, org = sample["responses"], sample["organisation"]
    aliases = read_aliases(RAW_DIR / "account_aliases.csv")
    membership = unit_membership(responses, org, key=normalize_account_name, aliases=aliases)
    # every kept respondent finds an account of the mapping; the 4 accounts in two units add rows
    assert membership["response_id"].nunique() == len(responses) == 23_143
    assert len(membership) > len(responses)
    latest = responses.loc[responses["wave"] == responses["wave"].cat.categories[-1]]
    counts = (
        membership[membership["response_id"].isin(latest["response_id"])]
        .groupby("business_unit", observed=False)
        .size()
    )
    small = counts[counts < 30]
    assert small.index.tolist() == ["edge_labs"] and small.iloc[0] > 0  # 19, as the README says
    assert (counts.drop("edge_labs") >= 500).all()
    # with ingest's own key fewer respondents match, and the unit stays small
    own_key = unit_membership(latest, org, aliases=aliases)
    assert 0 < (own_key["business_unit"] == "edge_labs").sum() <= small.iloc[0]


@pytest.mark.skipif(not _SAMPLE.is_file(), reason="sample data not generated (run `csat synth`)")
def test_sample_build_gives_every_ticket_a_function(sample):
    tickets, summary = sample["transactions"], sample["summary"]
    assert tickets["function"].notna().all() and len(tickets) == 9000
    warnings = summary.summary["organisation"]["warnings"]
    assert warnings["product_not_in_data"] == 1  # Edge Gateways, new and without tickets
    assert "product_not_in_organisation" not in warnings
    assert "attribute_not_in_organisation" not in warnings
    for source in summary.summary["sources"]:
        assert source["kept"] + sum(source["excluded"].values()) == source["raw_rows"]


def test_spellings_of_batches_give_the_warnings_of_the_rows(built, tmp_path):
    """csat data checks the mapping from each batch's spellings (checked_spellings), not from
    a row per row: the warnings, their counts and first rows are those of the whole tables."""
    from csatlib.ingest.organisation import check_organisation, checked_spellings

    processed = tmp_path / "processed"
    org = load_organisation(tmp_path / "raw" / "organisation.yaml")
    tables = {k: load_processed(k, processed) for k in ("responses", "transactions")}
    aliases = pd.DataFrame({"alias": ["AI"], "canonical": ["Acme Inc."]})
    whole = check_organisation(org, tables, aliases=aliases)
    batches = {}
    for kind, table in tables.items():
        parts = [checked_spellings(table.iloc[i : i + 2]) for i in range(0, len(table), 2)]
        joined = pd.concat(parts, ignore_index=True)
        joined.attrs = table.attrs
        batches[kind] = checked_spellings(joined)
        assert batches[kind]["rows_spelled"].sum() == len(table)
    spelled = check_organisation(org, batches, aliases=aliases)
    pd.testing.assert_frame_equal(spelled, whole)
    # a spelling of many rows counts them all, with its first row
    doubled = pd.concat([tables["responses"]] * 3, ignore_index=True)
    doubled.attrs = tables["responses"].attrs
    rows = check_organisation(org, {"responses": doubled}, aliases=aliases)
    spelled = check_organisation(org, {"responses": checked_spellings(doubled)}, aliases=aliases)
    pd.testing.assert_frame_equal(spelled, rows)
    assert (rows.loc[rows["rule"] == "account_not_in_organisation", "count"] == 3).all()


def test_csat_data_warns_about_the_rows_it_wrote(study, tmp_path):
    """csat data reads each export's spellings from its columns' codes (one per row, never the
    rows themselves); the log has the warnings check_organisation gives on the written rows."""
    from csatlib.ingest.clean import _codebooks, _study_attributes
    from csatlib.ingest.organisation import check_organisation, read_aliases

    processed = tmp_path / "processed"
    build_processed(study, processed)
    log = pd.read_csv(processed / "cleaning_log.csv", dtype={"source_row": "Int64"})
    org = load_organisation(study / "organisation.yaml")
    tables = {k: load_processed(k, processed) for k in ("responses", "transactions")}
    rows = check_organisation(
        org,
        tables,
        attributes=_study_attributes(_codebooks(study)),
        aliases=read_aliases(study / "account_aliases.csv"),
    )
    assert {"account_not_in_organisation", "product_not_in_organisation"} <= set(rows["rule"])
    columns = ["source", "source_row", "rule", "value", "count"]
    written = log.loc[log["rule"].isin(set(rows["rule"])), columns].reset_index(drop=True)
    expected = rows[columns].astype({"source_row": "Int64"}).reset_index(drop=True)
    pd.testing.assert_frame_equal(written.astype(str), expected.astype(str))
