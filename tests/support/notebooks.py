"""Throwaway notebooks for build tests: a parameters cell and a body, on the project's kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat

__all__ = ["throwaway_notebook"]


def throwaway_notebook(path: Path, parameters: str, body: str) -> Path:
    """Write a two-cell notebook (``parameters`` tagged as papermill's, then ``body``) to
    ``path`` for the kernel ``csat``, and return the path."""
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "csat", "display_name": "csat", "language": "python"}
    nbformat.write(nb, path)
    return path
