"""The house rules of csatlib's layout, read from the source (no module is imported).

Ground floor (config, errors, roles, safety) imports no subpackage; statistics never import
ingest, text, loop, report or sample, nor any plotting or notebook package; ingest never imports
statistics, text, loop or report; only report knows papermill, nbconvert, nbclient, nbformat and
Jupyter kernels; the sample generator stands alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "csatlib"
SUBPACKAGES = ("ingest", "stats", "text", "loop", "report", "sample")
GROUND = ("config", "errors", "roles", "safety", "validation")
NOTEBOOK_PACKAGES = (
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "jupyter_client",
    "ipykernel",
)
PLOTTING = ("matplotlib", "seaborn")

# layer -> what it must never import (csatlib subpackages and third-party packages)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "ground": (
        "csatlib.ingest",
        "csatlib.stats",
        "csatlib.text",
        "csatlib.loop",
        "csatlib.report",
        "csatlib.sample",
        "csatlib.cli",
        *NOTEBOOK_PACKAGES,
        *PLOTTING,
    ),
    "stats": (
        "csatlib.ingest",
        "csatlib.text",
        "csatlib.loop",
        "csatlib.report",
        "csatlib.sample",
        *NOTEBOOK_PACKAGES,
        *PLOTTING,
    ),
    "ingest": (
        "csatlib.stats",
        "csatlib.text",
        "csatlib.loop",
        "csatlib.report",
        "csatlib.sample",
        *NOTEBOOK_PACKAGES,
        *PLOTTING,
    ),
    "text": (
        "csatlib.ingest",
        "csatlib.loop",
        "csatlib.report",
        "csatlib.sample",
        *NOTEBOOK_PACKAGES,
        *PLOTTING,
    ),
    "loop": ("csatlib.report", "csatlib.text", "csatlib.sample", *NOTEBOOK_PACKAGES, *PLOTTING),
    "sample": (
        "csatlib.ingest",
        "csatlib.stats",
        "csatlib.text",
        "csatlib.loop",
        "csatlib.report",
        *NOTEBOOK_PACKAGES,
        *PLOTTING,
    ),
}


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    if len(rel.parts) > 1:
        return rel.parts[0]
    return "ground" if rel.stem in GROUND else rel.stem


def _imports(path: Path) -> set[str]:
    """Every module name ``path`` imports, at any depth (lazy imports in functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "csatlib":  # from csatlib import stats -> csatlib.stats
                found.update(f"csatlib.{alias.name}" for alias in node.names)
    return found


def _violations(path: Path, layer: str | None = None) -> list[str]:
    rules = FORBIDDEN.get(layer or _layer(path), ())
    return sorted(
        f"{path.name} imports {name}"
        for name in _imports(path)
        for banned in rules
        if name == banned or name.startswith(banned + ".")
    )


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_respects_its_layer(path: Path) -> None:
    assert not _violations(path)


def test_every_subpackage_says_what_it_holds_and_may_import() -> None:
    for name in SUBPACKAGES:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text("utf-8")))
        assert doc and "import" in doc, name
    top = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text("utf-8")))
    assert all(f"csatlib.{name}" in top for name in SUBPACKAGES)


def test_the_check_can_fail(tmp_path: Path) -> None:
    # A statistics module that imports the report layer and matplotlib is caught.
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from csatlib.report import plots\n"
        "def f():\n    import matplotlib.pyplot\n    from csatlib import loop\n",
        "utf-8",
    )
    assert _violations(probe, "stats") == [
        "probe.py imports csatlib.loop",
        "probe.py imports csatlib.report",
        "probe.py imports matplotlib.pyplot",
    ]


def test_only_report_knows_notebooks_and_kernels() -> None:
    users = {
        str(path.relative_to(PACKAGE))
        for path in MODULES
        if any(n.split(".")[0] in NOTEBOOK_PACKAGES for n in _imports(path))
    }
    assert users and all(u.startswith("report/") for u in users), users


MAX_CODE_LINES = 80


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    """Lines of a function that are code: neither its docstring, blank lines nor comments."""
    first = node.body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(
        getattr(first, "value", None), ast.Constant
    )
    start = first.end_lineno if has_doc and isinstance(first.value.value, str) else node.lineno
    body = lines[start : node.end_lineno]
    return sum(1 for line in body if line.strip() and not line.strip().startswith("#"))


def _long_functions(path: Path) -> list[str]:
    source = path.read_text("utf-8")
    lines = source.splitlines()
    return [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} ({n} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (n := _code_lines(node, lines)) > MAX_CODE_LINES
    ]


def test_no_function_is_longer_than_a_screen() -> None:
    assert [f for path in MODULES for f in _long_functions(path)] == []


def test_the_length_check_counts_code_only(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(81))
    probe = tmp_path / "long.py"
    probe.write_text(
        f'def f():\n    """Doc.\n\n    More doc.\n    """\n    # why\n{body}\n', "utf-8"
    )
    tree = ast.parse(probe.read_text("utf-8"))
    node = tree.body[0]
    assert isinstance(node, ast.FunctionDef)
    assert _code_lines(node, probe.read_text("utf-8").splitlines()) == 81
