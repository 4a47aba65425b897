"""Safe HTML for notebook displays: every piece of text is escaped before it reaches the page.

IPython's ``HTML``/``Markdown`` displays built from strings pass text through unescaped, so a
verbatim such as ``<script>...`` would run in the report. Report cells therefore display objects
from this module (or DataFrames, which pandas escapes), never HTML assembled from raw strings.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["SafeHTML", "heading", "label", "note", "escape"]


def label(name: object, labels: Mapping[str, str] | None) -> str:
    """The codebook label of a canonical name (the name itself, in words, if there is none)."""
    key = str(name)
    if labels and key in labels:
        return str(labels[key])
    return key.replace("_", " ").capitalize()


def escape(text: object) -> str:
    """HTML-escape any value's text, quotes included; ``$`` is escaped too (no TeX typesetting)."""
    return html.escape(str(text), quote=True).replace("$", "&#36;")


@dataclass(frozen=True)
class SafeHTML:
    """Pre-escaped HTML that notebooks display through ``_repr_html_``."""

    markup: str

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


def heading(title: str, *, subtitle: str = "", level: int = 2) -> SafeHTML:
    """A heading (escaped) with an optional subtitle line."""
    level = min(max(int(level), 1), 6)
    sub = f'<p class="csat-note">{escape(subtitle)}</p>' if subtitle else ""
    return SafeHTML(f"<h{level}>{escape(title)}</h{level}>{sub}")


def note(text: str, *, css_class: str = "csat-note") -> SafeHTML:
    """A paragraph of escaped text."""
    return SafeHTML(f'<p class="{escape(css_class)}">{escape(text)}</p>')
