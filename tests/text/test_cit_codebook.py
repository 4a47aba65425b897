"""Tests of csatlib.text.cit_codebook: the shipped codebook's taxonomy, validation errors that
name the file and the entry, and compiling a file once per version."""

from __future__ import annotations

from pathlib import Path

import pytest

from csatlib import config
from csatlib.errors import CodebookError
from csatlib.text import cit_codebook

TAXONOMY = {
    "easy_to_do_business_with": [
        "on_time_delivery",
        "invoice_accuracy",
        "ordering_process",
        "responsiveness",
    ],
    "reliable_products": ["product_reliability", "product_performance"],
    "expert_support": ["support_expertise", "first_call_resolution", "onsite_engineers"],
    "good_value": ["pricing", "licensing_terms"],
    "partnership": ["account_manager", "proactive_advice"],
}

MINIMAL = """\
benefits:
  good_value: {label: Good value, description: Fair prices}
attributes:
  pricing:
    benefit: good_value
    label: Pricing
    patterns: {en: ["price*"], de: ["preis*"]}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cit_codebook.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_codebook_has_the_fixed_taxonomy(codebook: cit_codebook.CitCodebook) -> None:
    got = codebook.attributes.groupby("benefit", sort=False)["attribute"].agg(list).to_dict()
    assert got == TAXONOMY
    assert codebook.attributes["label"].str.len().min() > 0
    assert (codebook.attributes["n_patterns"] > 5).all()
    assert set(codebook.patterns["language"]) == {"en", "de", "fr", "ja"}


def test_minimal_codebook_loads(tmp_path: Path) -> None:
    book = cit_codebook.load_cit_codebook(_write(tmp_path, MINIMAL))
    assert book.attribute_ids == ["pricing"]
    assert book.benefit_of() == {"pricing": "good_value"}
    assert book.window == 3  # default negation settings apply


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MINIMAL + "  pricing:\n    benefit: good_value\n    label: Again\n",
            r"duplicate entry 'pricing' \(lines 4 and 8\)",
        ),
        (
            MINIMAL.replace('["price*"]', '["re:pri(ce"]'),
            r"attribute 'pricing', language 'en': pattern 're:pri\(ce' does not compile",
        ),
        (MINIMAL.replace("    benefit: good_value\n", ""), "attribute 'pricing' has no benefit"),
        (
            MINIMAL.replace("benefit: good_value", "benefit: value"),
            "names benefit 'value', which is not declared",
        ),
        (MINIMAL + "colour: blue\n", "the codebook has unknown key.*'colour'"),
        (
            MINIMAL.replace("    label: Pricing", "    label: Pricing\n    lable: typo"),
            "attribute 'pricing' has unknown key.*'lable'",
        ),
        (MINIMAL.replace("de: [", "es: ["), "unknown language key 'es'"),
        (
            MINIMAL + "negation:\n  negators: {en: [not, no]}\n",
            "YAML reads unquoted no/yes/on/off",
        ),
        (MINIMAL.replace('["price*"]', '["re:x*"]'), "matches the empty text"),
        ("benefits: [1, 2]\nattributes: {}\n", "benefits must be a mapping"),
    ],
    ids=[
        "duplicate-attribute",
        "bad-regex",
        "no-benefit",
        "undeclared-benefit",
        "unknown-top-key",
        "unknown-attribute-key",
        "unknown-language",
        "yaml-boolean",
        "empty-match",
        "not-a-mapping",
    ],
)
def test_codebook_errors_name_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(CodebookError, match=message) as info:
        cit_codebook.load_cit_codebook(path)
    assert str(path) in str(info.value)


def test_missing_codebook_file(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match="cannot read"):
        cit_codebook.load_cit_codebook(tmp_path / "nope.yaml")


def test_codebook_file_is_compiled_once_per_version(tmp_path) -> None:
    import shutil
    import time

    path = tmp_path / "cit.yaml"
    shutil.copyfile(config.CIT_CODEBOOK, path)
    first = cit_codebook.load_cit_codebook(path)
    assert cit_codebook.load_cit_codebook(path) is first  # cached: same frozen object
    time.sleep(0.01)
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # a new version
    assert cit_codebook.load_cit_codebook(path) is not first


def test_every_shipped_attribute_says_what_went_wrong(codebook: cit_codebook.CitCodebook) -> None:
    problems = codebook.attributes.set_index("attribute")["problem"]
    assert problems["pricing"] == "too expensive"
    assert not problems.str.startswith("problems with").any()  # none falls back to the label
    assert not problems.str.contains(",").any()  # two problems are joined with a comma


def _with_problem(value: str) -> str:
    return MINIMAL.replace("    label: Pricing\n", f"    label: Pricing\n    problem: {value}\n")


def test_problem_is_optional_and_falls_back_to_the_label(tmp_path: Path) -> None:
    book = cit_codebook.load_cit_codebook(_write(tmp_path, MINIMAL))
    assert book.attributes["problem"].tolist() == ["problems with pricing"]
    given = cit_codebook.load_cit_codebook(_write(tmp_path, _with_problem("too  dear")))
    assert given.attributes["problem"].tolist() == ["too dear"]  # one space, as a folded line
    assert cit_codebook.default_problem("On-time delivery") == "problems with on-time delivery"
    assert cit_codebook.default_problem("ERP integration") == "problems with ERP integration"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('""', r"attribute 'pricing'.problem must be a non-empty text.*found ''"),
        ("no", r"attribute 'pricing'.problem is False: YAML reads unquoted no"),
        ("[too, dear]", r"attribute 'pricing'.problem must be a non-empty text.*\['too', 'dear'\]"),
        ("", r"attribute 'pricing'.problem must be a non-empty text.*found None"),
    ],
    ids=["empty", "yaml-boolean", "list", "blank"],
)
def test_a_bad_problem_names_file_and_attribute(tmp_path: Path, value: str, message: str) -> None:
    path = _write(tmp_path, _with_problem(value))
    with pytest.raises(CodebookError, match=message) as info:
        cit_codebook.load_cit_codebook(path)
    assert str(path) in str(info.value)
