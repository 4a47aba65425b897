"""Notebooks are thin and stored stripped: no outputs, no execution counts, no definitions.

Every notebook in notebooks/ (country_report, global_summary, cit_coding) is run by papermill,
so each has exactly one cell tagged ``parameters`` with annotated defaults.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest


def _python(source: str) -> str:
    """Cell source with IPython syntax (``%matplotlib inline``) translated to plain Python."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert "country_report.ipynb" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {i} has outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has a count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_defines_no_functions_or_classes(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse(_python("".join(cell["source"])))
        defs = [
            n
            for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        ]
        assert not defs, f"{path.name} cell {i} defines {[type(d).__name__ for d in defs]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_one_parameters_cell_with_annotated_defaults(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected one cell tagged 'parameters'"
    tree = ast.parse("".join(tagged[0]["source"]))
    assert tree.body and all(isinstance(s, ast.AnnAssign) for s in tree.body)


def test_country_notebook_kernel_is_the_projects() -> None:
    nb = json.loads((NOTEBOOKS[0].parent / "country_report.ipynb").read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "csat"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_parses_every_parameter(path: Path) -> None:
    """papermill skips parameter lines it cannot parse (e.g. a second '=' in the comment)."""
    from papermill.inspection import inspect_notebook

    nb = json.loads(path.read_text(encoding="utf-8"))
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        return
    declared = [s.target.id for s in ast.parse("".join(tagged[0]["source"])).body]
    found = inspect_notebook(str(path))
    assert list(found) == declared
    assert all(found[name]["inferred_type_name"] != "None" for name in declared)
