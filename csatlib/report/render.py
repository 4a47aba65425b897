"""Render an executed notebook as a report page with nbconvert: distribution or reviewer version.

The page is laid out for a reader with five minutes: the title and the first "## " section (the
executive summary) are shown as they are, followed by a contents list; every later "## " section
folds into a ``<details>`` element whose ``<summary>`` is the section's heading (closed in the
distribution version, open in the reviewer version). No JavaScript: see :func:`_fold_sections`.

Importing this module has one side effect on the process: jsonschema, when imported later, skips
its "iri" format checkers (see :func:`_skip_iri_grammars`), which saves every build process 2.6 s.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _skip_iri_grammars() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax`` in the processes that build reports.

    nbformat imports jsonschema, and jsonschema's format checkers import ``rfc3987_syntax``,
    which compiles some 35 Lark grammars at import time for the "iri" formats (2.6 s of every
    build process's start here; jsonschema issue #1428). No notebook schema uses those formats,
    and nbformat validates with fastjsonschema anyway; marked as absent, the module is skipped
    by jsonschema as when it is not installed. Only before jsonschema is first imported, and
    only where nobody imported ``rfc3987_syntax`` on purpose.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


_skip_iri_grammars()

__all__ = [
    "DISTRIBUTION_ONLY_TAG",
    "HIDDEN_METADATA",
    "REVIEW_ONLY_TAG",
    "SECTION_METADATA",
    "SECTION_TAG",
    "render_html",
]

#: Cells with this tag appear only in the reviewer version (``reports/review``).
REVIEW_ONLY_TAG = "review-only"
#: Cells with this tag appear only in the distribution version (``reports/html``): the manager's
#: version of a table whose reviewer version (tagged :data:`REVIEW_ONLY_TAG`) shows p-values.
DISTRIBUTION_ONLY_TAG = "distribution-only"
#: Cell metadata key, set on the copy being rendered only, that marks where a folded section
#: starts (read by the template "csat").
SECTION_METADATA = "csat_section"
#: Output-metadata key (list of section keys) of the block that says what a small country's
#: report cannot show (:func:`csatlib.report.coverage.coverage_block`): cells tagged only with
#: those sections (``section:<key>``) are left out of both versions of the page.
HIDDEN_METADATA = "csatlib_hidden_sections"
#: Notebook cells of a report section carry the tag ``section:<key>``.
SECTION_TAG = "section:"
# nbconvert template "csat": lab's look without CDN scripts or MathJax (see its index.html.j2).
_TEMPLATES = Path(__file__).resolve().parent / "templates"


def render_html(nb: Any, *, with_code: bool, title: str) -> str:
    """Render an executed notebook to a standalone HTML page.

    The distribution version hides code cells, prompts and every cell tagged
    :data:`REVIEW_ONLY_TAG` (method notes, p- and q-values, the metrics hand-over); the reviewer
    version hides the cells tagged :data:`DISTRIBUTION_ONLY_TAG` (the manager's words for what
    the reviewer sees as p- and q-values) and keeps the rest. A library's warning (a cell's
    stderr, with the server's paths) is for the reviewer: the distribution version leaves it
    out. Neither shows the sections that a coverage block (:data:`HIDDEN_METADATA`) says have
    nothing to show. Both get a contents list and folding sections (:func:`_fold_sections`):
    closed in the distribution version, open in the reviewer version. MathJax is left out on
    purpose: customer text such as "$5 and $10" must never be typeset. The two exporters are
    made once per thread and reused (compiling the templates costs more than rendering one
    page).
    """
    from nbformat import NotebookNode

    cells = _without_hidden_sections(nb.cells)
    left_out = DISTRIBUTION_ONLY_TAG if with_code else REVIEW_ONLY_TAG
    cells = [c for c in cells if left_out not in c.metadata.get("tags", [])]
    if not with_code:
        cells = _without_stderr(cells)
    cells, contents = _fold_sections(cells, open_sections=with_code)
    nb = NotebookNode({**nb, "cells": cells})  # a new top level; the exporter deep-copies it
    resources = {"metadata": {"name": title}, "csat_contents": contents}
    body, _ = _exporter(with_code).from_notebook_node(nb, resources=resources)
    return body


def _without_stderr(cells: list[Any]) -> list[Any]:
    """The cells with their stderr streams left out (new cells; the notebook keeps them)."""
    from nbformat import NotebookNode

    out = []
    for cell in cells:
        outputs = cell.get("outputs") or []
        kept = [
            o
            for o in outputs
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
        ]
        out.append(cell if len(kept) == len(outputs) else NotebookNode({**cell, "outputs": kept}))
    return out


def _without_hidden_sections(cells: list[Any]) -> list[Any]:
    """The cells, less those whose every ``section:<key>`` tag names a hidden section.

    Hidden sections are those listed under :data:`HIDDEN_METADATA` in any output's metadata;
    the executed notebook itself keeps every cell.
    """
    hidden: set[str] = set()
    for cell in cells:
        for output in cell.get("outputs", []) or []:
            hidden.update((output.get("metadata") or {}).get(HIDDEN_METADATA, []) or [])
    if not hidden:
        return list(cells)
    kept = []
    for cell in cells:
        tags = cell.get("metadata", {}).get("tags", []) or []
        keys = {t[len(SECTION_TAG) :] for t in tags if str(t).startswith(SECTION_TAG)}
        if not keys or not keys <= hidden:
            kept.append(cell)
    return kept


# An ATX heading of level 2 ("## Title", optional closing hashes) and a code fence's opening line.
_SECTION_HEADING = re.compile(r"^ {0,3}##[ \t]+(?P<title>.*?)(?:[ \t]+#+)?[ \t]*$", re.M)
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")


def _split_sections(source: str) -> list[str]:
    """Cut markdown before each "## " heading line (not inside code fences); keeps every line."""
    parts: list[list[str]] = [[]]
    fence = ""
    for line in source.splitlines(keepends=True):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening["fence"][0] == fence[0] and len(opening["fence"]) >= len(fence):
                fence = ""
        elif opening:
            fence = opening["fence"]
        elif _SECTION_HEADING.match(line) and parts[-1]:
            parts.append([])
        parts[-1].append(line)
    return ["".join(lines) for lines in parts]


def _section_id(title: str, taken: set[str]) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower() or "section"
    candidate, n = f"section-{slug}", 1
    while candidate in taken:
        n += 1
        candidate = f"section-{slug}-{n}"
    taken.add(candidate)
    return candidate


def _fold_sections(
    cells: Iterable[Any], *, open_sections: bool
) -> tuple[list[Any], list[dict[str, str]]]:
    """Mark where each folded section starts; return the cells and the contents list.

    Sections are the "## " headings (ATX, outside code fences) of the markdown cells given, so a
    section whose cells were dropped is neither folded nor listed. Everything up to the second
    "## " heading (the title and the executive summary) stays as it is. From there on, the cell
    starting a section gets :data:`SECTION_METADATA` ``{"id", "heading", "title", "open",
    "first"}`` and loses its heading line, which the template "csat" renders as the
    ``<summary>`` of a ``<details id=...>`` running to the next section; a markdown cell with a
    "## " heading in its middle is split in two there. The contents list (one ``{"id",
    "title"}`` per folded section, in order) goes before the first folded section.

    Notes
    -----
    The contents link to the ``<details>`` elements, not to the headings inside them: navigating
    to a closed ``<details>`` scrolls to its summary (the heading) in every browser, whereas a
    link into a closed section's content opens it only in browsers that auto-expand details on
    fragment navigation (Chromium 97+), and elsewhere goes nowhere. The reader opens the section
    with one click on its heading. Headings written as setext ("Title" over "---") are not
    sections.
    """
    from nbformat import NotebookNode

    out: list[Any] = []
    contents: list[dict[str, str]] = []
    taken: set[str] = set()
    seen = 0
    for cell in cells:
        parts = _split_sections(cell.source) if cell.cell_type == "markdown" else []
        if not any(_SECTION_HEADING.match(part) for part in parts):
            out.append(cell)
            continue
        for k, part in enumerate(parts):
            heading = _SECTION_HEADING.match(part)
            piece = NotebookNode({**cell, "source": part, "metadata": NotebookNode(cell.metadata)})
            if k and "id" in cell:  # nbformat 4.5: cell ids must stay unique
                piece["id"] = f"{cell.id}-{k}"[:64]
            if heading is not None:
                seen += 1
            if heading is not None and seen > 1:
                title = heading["title"]
                section_id = _section_id(title, taken)
                piece.metadata[SECTION_METADATA] = {
                    "id": section_id,
                    "heading": heading.group(0).strip(),
                    "title": title,
                    "open": open_sections,
                    "first": not contents,
                }
                piece["source"] = part[heading.end() :].lstrip("\r\n")
                contents.append({"id": section_id, "title": title})
            out.append(piece)
    return out, contents


_EXPORTERS = threading.local()


def _exporter(with_code: bool) -> Any:
    cache = _EXPORTERS.__dict__
    if with_code not in cache:
        cache[with_code] = _report_exporter_class()(
            template_name="csat",
            extra_template_basedirs=[str(_TEMPLATES)],
            exclude_input=not with_code,
            exclude_input_prompt=not with_code,
            exclude_output_prompt=not with_code,
            # validate once after the preprocessors, not after each of the twelve
            optimistic_validation=True,
        )
    return cache[with_code]


# <div class="... jp-OutputArea-output ..."> and the code cells' input wrappers; <img> tags.
_FOCUSABLE = re.compile(
    r'<div ((?:id="[^"]*" )?class="(?:[^"]*\s)?jp-(?:Cell-inputWrapper|OutputArea-output)[\s"])'
)
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)")


#: The highlighted HTML of code cells this process rendered, by source and highlighter: every
#: report of a build shows the same cells (only the injected parameters differ).
_HIGHLIGHTED: dict[tuple[str, ...], str] = {}
_HIGHLIGHTED_MAX = 4096


class _RememberedHighlight:
    """nbconvert's ``Highlight2HTML`` remembering the HTML of each source it highlighted.

    The review page of every report shows the notebook's code: the same forty cells, each
    highlighted by Pygments again (about 0.1 s a report). The HTML depends on the source, the
    language, a cell's ``magics_language`` and the formatter's options, which make the key.
    """

    def __init__(self, highlight: Any) -> None:
        self.highlight = highlight

    def __call__(self, source: str, language: str | None = None, metadata: Any = None) -> str:
        magics = str((metadata or {}).get("magics_language", ""))
        options = repr(sorted(self.highlight.extra_formatter_options.items()))
        key = (source, language or self.highlight.pygments_lexer, magics, options)
        if key not in _HIGHLIGHTED:
            if len(_HIGHLIGHTED) >= _HIGHLIGHTED_MAX:
                _HIGHLIGHTED.clear()
            _HIGHLIGHTED[key] = self.highlight(source, language, metadata)
        return _HIGHLIGHTED[key]


def _owned_copy(nb: Any) -> Any:
    """A copy of notebook ``nb`` for nbconvert to change: every dict and list copied, every
    string and number shared (immutable), and its own deep copy the copy itself (nbconvert's
    ``copy.deepcopy`` of it then copies nothing again)."""
    from nbformat import NotebookNode

    def copy(value: Any) -> Any:
        if isinstance(value, dict):
            return NotebookNode({k: copy(v) for k, v in value.items()})
        if isinstance(value, list):
            return [copy(v) for v in value]
        return value

    return _owned_class()(copy(nb))


@functools.cache
def _owned_class() -> type:
    """A notebook node whose deep copy is itself (made once)."""
    from nbformat import NotebookNode

    class Owned(NotebookNode):  # type: ignore[misc]
        def __deepcopy__(self, memo: dict[int, Any]) -> Any:
            return self

    return Owned


@functools.cache
def _report_exporter_class() -> type:
    """nbconvert's HTMLExporter without its BeautifulSoup pass over the finished page.

    ``HTMLExporter.from_notebook_node`` parses the whole page again only to give images without
    alternative text a generic one and to make code and output areas focusable
    (``tabindex="0"``); on a report page that pass costs about as much as the rendering. Here the
    template gives charts their titles as alternative text, and the two attributes are added by
    two regular expressions over the template's own tags. Everything else (filters, template,
    sanitising of markdown and code) is HTMLExporter's.
    """
    from nbconvert import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):  # type: ignore[misc]
        def from_notebook_node(  # type: ignore[override]
            self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any
        ) -> tuple[str, dict[str, Any]]:
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            if isinstance(highlight_code, Highlight2HTML):
                highlight_code = _RememberedHighlight(highlight_code)
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            # nbconvert deep-copies the notebook before its preprocessors change it; a
            # structural copy (strings shared, being immutable) is made here instead, a third
            # of the time
            page, resources = TemplateExporter.from_notebook_node(
                self, _owned_copy(nb), resources, **kw
            )
            page = _FOCUSABLE.sub(r'<div tabindex="0" \1', page)
            page = _IMG_WITHOUT_ALT.sub(
                '<img alt="No description has been provided for this image"', page
            )
            return page, resources

    return ReportExporter
