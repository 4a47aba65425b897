"""Render an executed notebook as a report page with nbconvert: distribution or reviewer version.

Importing this module has one side effect on the process: jsonschema, when imported later, skips
its "iri" format checkers (see :func:`_skip_iri_grammars`), which saves every build process 2.6 s.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
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

__all__ = ["REVIEW_ONLY_TAG", "render_html"]

#: Cells with this tag appear only in the reviewer version (``reports/review``).
REVIEW_ONLY_TAG = "review-only"
# nbconvert template "csat": lab's look without CDN scripts or MathJax (see its index.html.j2).
_TEMPLATES = Path(__file__).resolve().parent / "templates"


def render_html(nb: Any, *, with_code: bool, title: str) -> str:
    """Render an executed notebook to a standalone HTML page.

    The distribution version hides code cells, prompts and every cell tagged
    :data:`REVIEW_ONLY_TAG` (method notes, the metrics hand-over); the reviewer version keeps
    them all. MathJax is left out on purpose: customer text such as "$5 and $10" must never be
    typeset. The two exporters are made once per thread and reused (compiling the templates
    costs more than rendering one page).
    """
    from nbformat import NotebookNode

    if not with_code:  # a new top level; the exporter deep-copies what it renders anyway
        cells = [c for c in nb.cells if REVIEW_ONLY_TAG not in c.metadata.get("tags", [])]
        nb = NotebookNode({**nb, "cells": cells})
    body, _ = _exporter(with_code).from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


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
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            page = _FOCUSABLE.sub(r'<div tabindex="0" \1', page)
            page = _IMG_WITHOUT_ALT.sub(
                '<img alt="No description has been provided for this image"', page
            )
            return page, resources

    return ReportExporter
