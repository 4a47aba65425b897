"""Tests of csatlib.ingest.codebook: parsing, validation messages, and the check against an
export."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from support.exports import codebook_dict, qualtrics_text, survey_rows

from csatlib.errors import CodebookError
from csatlib.ingest.clean import build_processed, load_processed
from csatlib.ingest.codebook import Codebook, _Loader, load_codebook, parse_codebook
from csatlib.ingest.io import read_export

DOCS = Path(__file__).resolve().parents[2] / "docs" / "codebook.md"


def test_load_and_query(write_codebook):
    book = load_codebook(write_codebook("rel.codebook.yaml", codebook_dict()))
    assert isinstance(book, Codebook)
    assert book.kind == "responses" and book.own_brand == "Contoso"
    assert book.names("attribute") == [
        "product_quality",
        "total_cost_of_ownership",
        "post_sales_support",
        "delivery",
        "invoicing_accuracy",
        "ease_of_ordering",
    ]
    assert book.names("nps") == ["likelihood_to_recommend"]
    assert book.label("country") == "Country"
    assert book.label("duration") == "Duration"  # default label from the name
    assert book.scale("likelihood_to_recommend") == (0, 10)
    assert book.roles["importance_product_quality"] == "importance"
    assert book.scales["loyalty_cognitive"] == [1, 10]
    assert book.column("loyalty_cognitive").reverse is True
    assert book.missing_for("delivery") == (99,)
    assert book.waves is not None and book.waves.source == "date"
    with pytest.raises(CodebookError, match="column 'country' .role country. has no scale"):
        book.scale("country")
    with pytest.raises(CodebookError, match="no column 'nope'"):
        book.label("nope")
    with pytest.raises(CodebookError, match="unknown role 'rating'"):
        book.names("rating")  # type: ignore[arg-type]


def test_yaml_12_booleans_and_text_values(write_codebook):
    text = """
kind: responses
own_brand: NO
columns:
  rid: {source: id, role: id}
  brand: {source: b, role: brand}
  ok: {source: c, role: contact_ok, true_values: [yes, Y, on], false_values: [no, N, off]}
  when: {source: d, role: date}
"""
    book = load_codebook(write_codebook("b.codebook.yaml", text))
    assert book.own_brand == "NO"  # not False
    assert book.column("ok").true_values == ("yes", "Y", "on")
    assert book.column("ok").false_values == ("no", "N", "off")


def test_column_missing_replaces_default_codes():
    book = parse_codebook(
        {
            "kind": "responses",
            "missing_codes": [99],
            "columns": {
                "a": {"source": "A", "role": "attribute", "scale": [0, 100], "missing": [-1, "DK"]},
                "b": {"source": "B", "role": "attribute", "scale": [1, 10]},
            },
        }
    )
    assert book.missing_for("a") == (-1, "DK") and book.missing_for("b") == (99,)


def test_kind_from_survey_and_default_waves():
    book = parse_codebook(
        {"survey": "transaction", "columns": {"when": {"source": "t", "role": "date"}}}
    )
    assert book.kind == "transactions"
    assert book.waves is not None and (book.waves.source, book.waves.fiscal_year_start) == (
        "when",
        1,
    )


def _docs_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)


def test_docs_example_parses():
    """Every YAML block of docs/codebook.md is a valid codebook (with load_codebook's loader)."""
    blocks = _docs_blocks()
    assert len(blocks) == 3  # full example, revenue, minimal
    books = [parse_codebook(yaml.load(block, Loader=_Loader)) for block in blocks]
    assert books[0].kind == "responses" and books[1].kind == "revenue"
    assert books[2].names() == ["response_id", "country", "likelihood_to_recommend"]
    assert books[0].column("loyalty_cognitive").reverse
    assert books[0].column("contact_ok").true_values == ("Yes",)
    assert books[0].column("panel_year").type == "int"
    assert books[0].column("date").format == "%Y-%m-%d %H:%M:%S"
    assert books[1].column("revenue_usd").type == "float"


def test_docs_minimal_codebook_cleans(tmp_path):
    """The three-column codebook of docs/codebook.md builds a processed table from a plain CSV."""
    (block,) = [b for b in _docs_blocks() if b.startswith("# my_survey.codebook.yaml")]
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "my_survey.codebook.yaml").write_text(block, encoding="utf-8")
    (raw / "my_survey.csv").write_text(
        "id,country,recommend\n1,Germany,9\n2,FR,10\n3,DE,4\n4,Japan,\n", encoding="utf-8"
    )
    summary = build_processed(raw, tmp_path / "processed")
    data = load_processed("responses", tmp_path / "processed")
    assert (summary.raw_rows, summary.kept) == (4, 3)  # row 4 has no answer: empty_response
    assert data["likelihood_to_recommend"].tolist() == [9, 10, 4]
    assert data["country"].astype(str).tolist() == ["DE", "FR", "DE"]
    # no date and no wave column: one wave, "all"
    assert data["wave"].astype(str).tolist() == ["all"] * 3 and data["wave"].cat.ordered
    assert data.attrs["roles"]["wave"] == "wave"
    assert data.attrs["scales"]["likelihood_to_recommend"] == [0, 10]  # the nps default


def test_study_key():
    columns = {"a": {"source": "A", "role": "id"}}
    assert parse_codebook({"kind": "r", "columns": columns}).study is None
    book = parse_codebook({"kind": "r", "study": " Relationship 2026 ", "columns": columns})
    assert book.study == "Relationship 2026"
    assert parse_codebook({"kind": "r", "study": 2026, "columns": columns}).study == "2026"
    with pytest.raises(CodebookError, match="'study' must be a non-empty text, found"):
        parse_codebook({"kind": "r", "study": ["a"], "columns": columns})
    with pytest.raises(CodebookError, match="unknown key 'studie' at top level .did you mean"):
        parse_codebook({"kind": "r", "studie": "x", "columns": columns})


def test_nps_scale_is_0_to_10(write_codebook):
    omitted = parse_codebook({"kind": "r", "columns": {"ltr": {"source": "Q5", "role": "nps"}}})
    assert omitted.scale("ltr") == (0, 10) and omitted.scales == {"ltr": [0, 10]}
    text = "kind: responses\ncolumns:\n  rid: {source: id, role: id}\n  ltr:\n    source: Q5\n"
    text += "    role: nps\n    scale: [1, 5]\n"
    with pytest.raises(CodebookError) as err:
        load_codebook(write_codebook("s.codebook.yaml", text))
    assert str(err.value).startswith(
        "codebook 's.codebook.yaml', line 7, column 'ltr' (role nps): the recommend question is "
        "0-10 by definition of the Net Promoter Score; codebook says [1, 5]."
    )
    explicit = {"source": "Q5", "role": "nps", "scale": [0, 10]}
    assert parse_codebook({"kind": "r", "columns": {"ltr": explicit}}).scale("ltr") == (0, 10)


# --------------------------------------------------------------------------------------------------
# errors: file, line, column, expected vs found


def test_invalid_yaml_names_line_and_column(write_codebook):
    text = "kind: responses\ncolumns:\n  a: {source: A, role: id\n  b: {source: B}\n"
    path = write_codebook("broken.codebook.yaml", text)
    with pytest.raises(
        CodebookError,
        # PyYAML's own parser says "expected ','", libyaml's "did not find expected ','"
        match=(
            r"'broken\.codebook\.yaml', line 4, column 4: not valid YAML: "
            r"(did not find )?expected ','"
        ),
    ):
        load_codebook(path)


def test_duplicate_canonical_name(write_codebook):
    text = (
        "kind: responses\ncolumns:\n  delivery: {source: Q7_4, role: id}\n"
        "  delivery: {source: Q7_5, role: country}\n"
    )
    with pytest.raises(
        CodebookError, match=r"line 4: key 'delivery' appears twice \(first on line 3\)"
    ):
        load_codebook(write_codebook("dup.codebook.yaml", text))


def test_unknown_role_with_hint(write_codebook):
    text = "kind: responses\ncolumns:\n  q: {source: Q1, role: atribute, scale: [1, 10]}\n"
    with pytest.raises(
        CodebookError,
        match=r"'r\.codebook\.yaml', line 3, column 'q': unknown role 'atribute' "
        r"\(did you mean 'attribute'\?\)",
    ):
        load_codebook(write_codebook("r.codebook.yaml", text))


def test_unknown_keys(write_codebook):
    with pytest.raises(CodebookError, match=r"line 1: unknown key 'kinds' at top level"):
        load_codebook(write_codebook("k.codebook.yaml", "kinds: responses\ncolumns: {}\n"))
    text = "kind: responses\ncolumns:\n  q:\n    source: Q1\n    role: nps\n    scal: [0, 10]\n"
    with pytest.raises(
        CodebookError,
        match=r"line 6, column 'q': unknown key 'scal' at column 'q' \(did you mean 'scale'\?\)",
    ):
        load_codebook(write_codebook("c.codebook.yaml", text))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"source": "A", "role": "nps", "scale": [10, 0]}, "scale min 10 must be below max 0"),
        ({"source": "A", "role": "nps", "scale": [5, 5]}, "scale min 5 must be below max 5"),
        ({"source": "A", "role": "nps", "scale": [0, 10.5]}, "two whole numbers, found"),
        ({"source": "A", "role": "overall"}, "role 'overall' needs 'scale: \\[min, max\\]'"),
        ({"source": "A", "role": "country", "scale": [1, 5]}, "'scale' applies to scale roles"),
        ({"source": "A", "role": "country", "reverse": True}, "reverse applies to scale roles"),
        ({"role": "id"}, "'source' .the export column. missing"),
        ({"source": "A"}, "'role' missing"),
        ({"source": "A", "role": "other", "type": "money"}, "type 'money' unknown"),
        (
            {"source": "A", "role": "nps", "scale": [0, 10], "type": "int"},
            "applies to role 'other'",
        ),
        ({"source": "A", "role": "date", "format": "dd/mm/yyyy"}, "is not a strftime pattern"),
        ({"source": "A", "role": "id", "true_values": ["y"]}, "apply to contact_ok columns"),
        (
            {"source": "A", "role": "contact_ok", "true_values": ["y"], "false_values": ["Y"]},
            "listed as both true and false",
        ),
    ],
)
def test_column_spec_errors(spec, message):
    with pytest.raises(CodebookError, match=r"column 'x': .*" + message):
        parse_codebook({"kind": "responses", "columns": {"x": spec}})


def test_importance_and_expectation_need_an_existing_attribute():
    base = {"quality": {"source": "Q7_1", "role": "attribute", "scale": [1, 10]}}
    missing_attribute = {"source": "Q8_1", "role": "importance", "scale": [1, 10]}
    with pytest.raises(CodebookError, match="column 'imp': role 'importance' needs 'attribute"):
        parse_codebook({"kind": "r", "columns": {**base, "imp": missing_attribute}})
    pointing_nowhere = {**missing_attribute, "attribute": "speed"}
    with pytest.raises(
        CodebookError,
        match="column 'imp': attribute 'speed' does not exist; expected one of the attribute "
        "columns: quality",
    ):
        parse_codebook({"kind": "r", "columns": {**base, "imp": pointing_nowhere}})
    wrong_role = {"source": "Q10_1", "role": "expectation", "attribute": "nps", "scale": [1, 10]}
    nps = {"nps": {"source": "Q5", "role": "nps", "scale": [0, 10]}}
    with pytest.raises(CodebookError, match="attribute 'nps' has role 'nps'"):
        parse_codebook({"kind": "r", "columns": {**base, **nps, "exp": wrong_role}})


def test_duplicate_source_and_single_roles():
    with pytest.raises(CodebookError, match="source 'Q1' is already used by column 'a'"):
        parse_codebook(
            {
                "kind": "r",
                "columns": {
                    "a": {"source": "Q1", "role": "id"},
                    "b": {"source": "Q1", "role": "other"},
                },
            }
        )
    with pytest.raises(CodebookError, match="role 'id' may appear once; columns 'a', 'b'"):
        parse_codebook(
            {
                "kind": "r",
                "columns": {
                    "a": {"source": "Q1", "role": "id"},
                    "b": {"source": "Q2", "role": "id"},
                },
            }
        )


def test_brand_needs_own_brand_and_reserved_names():
    with pytest.raises(CodebookError, match="brand column is present but 'own_brand' is not set"):
        parse_codebook({"kind": "r", "columns": {"b": {"source": "Q4", "role": "brand"}}})
    with pytest.raises(CodebookError, match="'competitor' is added by cleaning"):
        parse_codebook({"kind": "r", "columns": {"competitor": {"source": "Q4", "role": "other"}}})


def test_waves_validation():
    cols = {"date": {"source": "d", "role": "date"}, "rid": {"source": "i", "role": "id"}}
    with pytest.raises(CodebookError, match="waves.from 'rid' must name a column with role 'date'"):
        parse_codebook({"kind": "r", "waves": {"from": "rid"}, "columns": cols})
    with pytest.raises(CodebookError, match="fiscal_year_start must be a month 1-12, found 13"):
        parse_codebook({"kind": "r", "waves": {"fiscal_year_start": 13}, "columns": cols})
    with pytest.raises(CodebookError, match="unknown key 'start' at waves"):
        parse_codebook({"kind": "r", "waves": {"start": 7}, "columns": cols})


def test_top_level_errors():
    with pytest.raises(CodebookError, match="'kind' is missing"):
        parse_codebook({"columns": {"a": {"source": "A", "role": "id"}}})
    with pytest.raises(CodebookError, match="'columns' must be a non-empty mapping"):
        parse_codebook({"kind": "responses", "columns": []})
    with pytest.raises(CodebookError, match="format 'pdf' unknown"):
        parse_codebook(
            {"kind": "r", "format": "pdf", "columns": {"a": {"source": "A", "role": "id"}}}
        )
    with pytest.raises(CodebookError, match="encoding 'klingon' unknown"):
        parse_codebook(
            {"kind": "r", "encoding": "klingon", "columns": {"a": {"source": "A", "role": "id"}}}
        )
    with pytest.raises(CodebookError, match="expected a mapping with a 'columns' key"):
        parse_codebook(["not", "a", "mapping"])


def test_missing_codebook_file(tmp_path):
    with pytest.raises(CodebookError, match="not found"):
        load_codebook(tmp_path / "none.codebook.yaml")


def test_validate_against_names_entry_source_and_export(write_codebook, write_export):
    book_dict = codebook_dict()
    book_dict["columns"]["delivery"]["source"] = "Q7_04"
    book = load_codebook(write_codebook("rel.codebook.yaml", book_dict))
    raw = read_export(write_export("rel.csv", qualtrics_text(survey_rows())))
    with pytest.raises(CodebookError) as err:
        book.validate_against(raw)
    message = str(err.value)
    assert message.startswith(
        "codebook 'rel.codebook.yaml': 1 source column(s) missing from export 'rel.csv': "
        "column 'delivery' (codebook line "
    )
    assert "source 'Q7_04' not found (did you mean 'Q7_4'" in message
    codebook_dict_ok = load_codebook(write_codebook("ok.codebook.yaml", codebook_dict()))
    assert codebook_dict_ok.validate_against(raw) is None


def test_organisation_roles_are_single_category_columns(tmp_path):
    """business_unit, function, business_process and product: one column each, category."""
    columns = {
        "rid": {"source": "id", "role": "id"},
        "country": {"source": "country", "role": "country"},
        "ltr": {"source": "ltr", "role": "nps"},
        "unit": {"source": "unit", "role": "business_unit"},
        "function": {"source": "function", "role": "function"},
        "process": {"source": "process", "role": "business_process"},
        "product": {"source": "product", "role": "product"},
    }
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "s.codebook.yaml").write_text(
        yaml.safe_dump({"kind": "responses", "file": "s.csv", "columns": columns}), "utf-8"
    )
    (raw / "s.csv").write_text(
        "id,country,ltr,unit,function,process,product\n"
        "1,DE,9, Compute ,Servers,Order to cash,Edge Servers\n"
        "2,FR,3,Storage,Storage,Field service,Storage Arrays\n",
        encoding="utf-8",
    )
    build_processed(raw, tmp_path / "processed")
    data = load_processed("responses", tmp_path / "processed")
    for name in ("unit", "function", "process", "product"):
        assert isinstance(data[name].dtype, pd.CategoricalDtype), name
    assert data["unit"].tolist() == ["Compute", "Storage"]  # trimmed like a segment
    assert data.attrs["roles"]["product"] == "product"
    two = {**columns, "product_2": {"source": "p2", "role": "product"}}
    with pytest.raises(CodebookError, match="role 'product' may appear once"):
        parse_codebook({"kind": "responses", "columns": two})


@pytest.mark.parametrize("role", ["country", "wave"])
def test_the_country_and_wave_columns_have_their_fixed_names(role):
    columns = {"rid": {"source": "i", "role": "id"}, "market": {"source": "Market", "role": role}}
    with pytest.raises(
        CodebookError,
        match=(
            f"column 'market': the column with role '{role}' must be named '{role}', found "
            f"'market'.*Write `{role}: {{source: Market, role: {role}}}`"
        ),
    ):
        parse_codebook({"kind": "responses", "columns": columns})
    columns[role] = columns.pop("market")  # the fixed name: any id name is fine
    book = parse_codebook({"kind": "responses", "columns": columns})
    assert book.columns[role].source == "Market"
