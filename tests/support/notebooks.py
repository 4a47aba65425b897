"""Throwaway notebooks for build tests: a parameters cell and a body, on the project's kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat

__all__ = ["throwaway_notebook"]


def throwaway_notebook(path: Path, parameters: str, body: str, *, review_note: str = "") -> Path:
    """Write a notebook (``parameters`` tagged as papermill's, then ``body``) to ``path`` for
    the kernel ``csat`` and return the path; ``review_note`` adds a markdown cell tagged
    review-only between the two."""
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    cells = [cell]
    if review_note:
        note = nbformat.v4.new_markdown_cell(review_note)
        note.metadata["tags"] = ["review-only"]
        cells.append(note)
    nb = nbformat.v4.new_notebook(cells=[*cells, nbformat.v4.new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "csat", "display_name": "csat", "language": "python"}
    nbformat.write(nb, path)
    return path
