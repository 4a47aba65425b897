"""Which report sections a study can have, decided once from its codebook roles and tables.

A survey brings only what it asked: the recommend question, country and a response id are
required; attributes, loyalty items, stated importance, expectations, likes and dislikes,
complaints, accounts, competitors' customers, a transaction survey and revenue are optional. Each
report section declares what it needs (:data:`SECTIONS`); :func:`study_sections` says, for one
study, which sections it has and, for each one it lacks, the one line a reader sees instead ("not
in this study: it needs ..."). The report build leaves out the notebook cells of an absent section
(tagged ``section:<key>``) and puts that line in their place (:func:`prepare_notebook`), so a
section never runs on inputs the study does not have. The index and the global summary read the
same decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from csatlib import roles
from csatlib.loop.followup import missing_roles
from csatlib.report.render import SECTION_TAG

__all__ = [
    "SECTIONS",
    "SECTION_TAG",
    "Section",
    "StudySections",
    "study_sections",
    "prepare_notebook",
    "sections_of",
    "unit_text",
    "unit_words",
    "dimension_label",
    "UNIT_WORDS",
    "OTHER_DIMENSION_TEXT",
]


@dataclass(frozen=True)
class Section:
    """A report section: its key (the notebook tag), its title and what the study needs for it."""

    key: str
    title: str
    needs: str


#: Every section that a study or a country may lack, in report order (``nps`` and ``trends``
#: every study has; a small country may not show them: :mod:`csatlib.report.coverage`).
#: Sections without a tag are always shown.
SECTIONS: tuple[Section, ...] = (
    Section(
        "nps",
        "Net Promoter Score and how customers answered",
        "the recommend question (role `nps`)",
    ),
    Section("overall", "Overall satisfaction", "an overall satisfaction question (role `overall`)"),
    Section(
        "attributes",
        "Satisfaction with each attribute",
        "attribute ratings or an overall satisfaction question (role `attribute` or `overall`)",
    ),
    Section("trends", "Trends", "the recommend question (role `nps`)"),
    Section(
        "attribute_ratings", "Attribute ratings by wave", "attribute ratings (role `attribute`)"
    ),
    Section("loyalty", "Loyalty", "two or more loyalty items (role `loyalty`)"),
    Section(
        "expectations",
        "Expectations",
        "expectation items linked to attributes (role `expectation` with `attribute:`)",
    ),
    Section(
        "drivers", "Key drivers of loyalty", "two or more attribute ratings (role `attribute`)"
    ),
    Section(
        "stated_importance",
        "Stated and derived importance",
        "stated-importance items linked to attributes (role `importance` with `attribute:`) and "
        "two or more attributes",
    ),
    Section("pareto", "Pareto of dissatisfaction", "attribute ratings (role `attribute`)"),
    Section("screens", "Four screens", "attribute ratings (role `attribute`)"),
    Section(
        "likes",
        "What customers like",
        "a likes question (role `text_like`)",
    ),
    Section("dislikes", "What customers dislike", "a dislikes question (role `text_dislike`)"),
    Section("accounts", "Accounts at risk", "the customer's account (role `account`)"),
    Section(
        "followups",
        "Follow-ups due",
        "a transaction survey with contact details (a codebook of kind `transactions` with roles "
        "`id`, `overall`, `contact_ok` and `contact`) or complaints with contact details (roles "
        "`complaint`, `contact_ok` and `contact`)",
    ),
    Section(
        "transactions",
        "Transaction survey",
        "a transaction survey (a codebook of kind `transactions` with an `overall` score)",
    ),
)
_BY_KEY = {s.key: s for s in SECTIONS}


@dataclass(frozen=True)
class StudySections:
    """One study's sections: which it has, and the line shown for each it lacks.

    Attributes
    ----------
    available : tuple of str
        Keys of the sections the study can have, in report order.
    missing : Mapping[str, str]
        Key -> the sentence shown instead of an absent section.
    """

    available: tuple[str, ...]
    missing: Mapping[str, str]

    def has(self, key: str) -> bool:
        """True when the study has the section ``key`` (unknown keys raise ``KeyError``)."""
        if key not in _BY_KEY:
            raise KeyError(f"unknown report section {key!r}; known: {', '.join(_BY_KEY)}")
        return key in self.available

    def lines(self) -> list[str]:
        """The absent sections' sentences, in report order."""
        return [self.missing[s.key] for s in SECTIONS if s.key in self.missing]


def _transaction_score(transactions: pd.DataFrame | None) -> bool:
    return transactions is not None and bool(roles.names(transactions, "overall"))


def study_sections(
    responses: pd.DataFrame,
    *,
    tables: Iterable[str] = (),
    transactions: Any = None,
    dimension: str = "country",
) -> StudySections:
    """Decide the optional report sections of a study from its roles and tables.

    Parameters
    ----------
    responses : DataFrame
        The processed responses with their codebook roles in ``attrs``.
    tables : iterable of str, keyword-only
        The other processed tables the study has (``"transactions"``, ``"revenue"``).
    transactions : DataFrame, optional, keyword-only
        The transaction table, when the study has one (its score column is its ``overall``);
        needed for the sections that read it.
    dimension : str, keyword-only
        What the report is cut by. The transaction survey's sections need the tickets to carry
        that dimension too (they carry the country; a business unit or segment only when the
        transaction table has the column).

    Returns
    -------
    StudySections
    """
    tables = set(tables)
    attributes = roles.names(responses, "attribute")
    has_tx = "transactions" in tables and (transactions is None or _transaction_score(transactions))
    checks = {
        "nps": True,  # every study has the recommend question (the ingest requires it)
        "trends": True,
        "overall": bool(roles.names(responses, "overall")),
        "attributes": bool(attributes) or bool(roles.names(responses, "overall")),
        "attribute_ratings": bool(attributes),
        "loyalty": len(roles.names(responses, "loyalty")) >= 2,
        "expectations": bool(roles.links(responses, "expectation")),
        "drivers": len(attributes) >= 2,
        "stated_importance": len(attributes) >= 2 and bool(roles.links(responses, "importance")),
        "pareto": bool(attributes),
        "screens": bool(attributes),
        "likes": bool(roles.names(responses, "text_like")),
        "dislikes": bool(roles.names(responses, "text_dislike")),
        "accounts": bool(roles.names(responses, "account")),
        "followups": (has_tx and not missing_roles(transactions, "recovery"))
        or not missing_roles(responses, "callback"),
        "transactions": has_tx,
    }
    missing = {
        s.key: f"{s.title}: not in this study; it needs {s.needs}."
        for s in SECTIONS
        if not checks[s.key]
    }
    columns = set(getattr(transactions, "columns", ()))
    # a business unit reaches the tickets through their account, by the organisation mapping
    # (its table of accounts); without one, only a column of the tickets cuts them
    mapped = "account" in columns and "organisation_accounts" in tables
    cuttable = dimension in columns or (dimension == "business_unit" and mapped)
    uncut = dimension != "country" and (transactions is None or not cuttable)
    if uncut and checks["transactions"]:
        word = unit_words(dimension, roles.labels(responses).get(dimension))[0]
        checks["transactions"] = False
        missing["transactions"] = (
            f"Transaction survey: not in a report by {word}; the tickets do not record it."
        )
    available = tuple(s.key for s in SECTIONS if checks[s.key])
    return StudySections(available=available, missing=missing)


def sections_of(processed_dir: Path, dimension: str = "country") -> StudySections:
    """:func:`study_sections` of the processed study in ``processed_dir`` (cut by
    ``dimension``)."""
    from csatlib.ingest.clean import load_processed

    folder = Path(processed_dir)
    tables = {p.stem for p in folder.glob("*.parquet")} - {"responses"}
    tx = load_processed("transactions", folder) if "transactions" in tables else None
    return study_sections(
        load_processed("responses", folder), tables=tables, transactions=tx, dimension=dimension
    )


def _cell_sections(cell: Any) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", []) or []
    return [t[len(SECTION_TAG) :] for t in tags if str(t).startswith(SECTION_TAG)]


def prepare_notebook(
    nb: Any, sections: StudySections, *, dimension: str = "country", label: str | None = None
) -> Any:
    """A copy of ``nb`` without the cells of the sections the study lacks.

    In a report by another dimension than the country, the markdown cells' words for the
    report's unit ("country", "countries") become the dimension's (:func:`unit_text`; ``label``
    is the codebook's label of its column, :func:`dimension_label`), except
    in a cell whose metadata has :data:`OTHER_DIMENSION_TEXT`: its text for that case (with
    ``{unit}`` and ``{units}``) replaces the cell's (where what the cell says differs, not only
    its words); code cells are never changed.

    A cell tagged with several sections is kept when the study has any of them. In place of the
    first removed cell of each absent section comes one markdown cell with its sentence (tagged
    ``section-note``); unknown section tags raise ``KeyError`` so that a typo in a notebook's tag
    cannot hide a section.
    """
    import copy

    import nbformat

    out = copy.deepcopy(nb)
    cells = []
    noted: set[str] = set()
    for cell in out.cells:
        keys = _cell_sections(cell)
        for key in keys:
            sections.has(key)  # raises on an unknown tag
        if not keys or any(sections.has(k) for k in keys):
            cells.append(cell)
            continue
        fresh = [k for k in keys if k not in noted]
        if fresh:
            noted.update(fresh)
            text = " ".join(sections.missing[k] for k in fresh)
            note = nbformat.v4.new_markdown_cell(f"*{text}*")
            note.metadata["tags"] = ["section-note"]
            cells.append(note)
    if dimension != "country":
        one, many = unit_words(dimension, label)
        for cell in cells:
            other = cell.metadata.get(OTHER_DIMENSION_TEXT)
            if cell.cell_type == "markdown" and other:  # the cell's own words for the case
                cell.source = str(other).format(unit=one, units=many)
            elif cell.cell_type == "markdown":
                cell.source = unit_text(cell.source, dimension, label)
    out.cells = cells
    return out


#: Markdown cell metadata: the cell's text in a report by another dimension than the country.
OTHER_DIMENSION_TEXT = "text_by_other_dimension"

#: Words for the dimensions a report can be cut by; any other column reads as its own name.
UNIT_WORDS: dict[str, tuple[str, str]] = {
    "country": ("country", "countries"),
    "business_unit": ("business unit", "business units"),
    "function": ("function", "functions"),
    "segment": ("segment", "segments"),
    "business_process": ("business process", "business processes"),
    "product": ("product", "products"),
    "region": ("region", "regions"),
}


def unit_words(dimension: str, label: str | None = None) -> tuple[str, str]:
    """("business unit", "business units") for ``"business_unit"``: how a report names its
    unit. Another column (a segment column named ``cust_segment``) reads as ``label``, the
    codebook's label of it ("Customer segment" gives "customer segment"; an acronym such as
    "BU" keeps its capitals), else as its name with spaces; plural with an "s" ("es" after s,
    x, ch or sh; "ies" for a consonant's "y")."""
    if dimension in UNIT_WORDS:
        return UNIT_WORDS[dimension]
    word = " ".join(str(label).split()) if label and str(label).strip() else ""
    if word and not word[1:2].isupper():
        word = word[:1].lower() + word[1:]
    word = word or dimension.replace("_", " ")
    if word.endswith(("s", "x", "ch", "sh")):
        return word, word + "es"
    if word.endswith("y") and word[-2:-1].lower() not in "aeiou":
        return word, word[:-1] + "ies"
    return word, word + "s"


def dimension_label(processed_dir: str | Path, dimension: str) -> str | None:
    """The codebook's label of the responses' column ``dimension`` in the processed study
    (read from the table's header, no row), for :func:`unit_words`; None for a dimension with
    its own words or a column without a label."""
    from csatlib.errors import DataError
    from csatlib.ingest.clean import processed_header

    if dimension in UNIT_WORDS:
        return None
    try:
        header = processed_header("responses", processed_dir)
    except (DataError, OSError):
        return None
    found = dict(header.attrs.get("labels") or {}).get(dimension)
    return str(found) if found else None


_UNIT_WORD = re.compile(r"\b([Cc]ountr(?:y's|y|ies))\b")


def unit_text(text: str, dimension: str, label: str | None = None) -> str:
    """``text`` with "country", "country's" and "countries" (whole words, any case of the
    first letter) said of ``dimension`` instead: "this country's customers" becomes "this
    business unit's customers" (``label``: as for :func:`unit_words`). Words inside
    backquoted code stay."""
    one, many = unit_words(dimension, label)
    words = {"country": one, "country's": f"{one}'s", "countries": many}

    def swap(match: re.Match[str]) -> str:
        found = match.group(1)
        new = words[found.lower()]
        return new[:1].upper() + new[1:] if found[:1].isupper() else new

    parts = text.split("`")
    return "`".join(
        _UNIT_WORD.sub(swap, part) if i % 2 == 0 else part for i, part in enumerate(parts)
    )
