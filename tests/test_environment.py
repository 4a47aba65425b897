"""The project's install files agree with each other and with the design card."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DESIGN_CARD = [
    "jupyterlab",
    "pandas",
    "numpy",
    "statsmodels",
    "seaborn",
    "matplotlib",
    "papermill",
    "nbconvert",
]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _conda_packages() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and not dep.startswith(("python=", "pip")):
            out[_name(dep)] = dep
    return out


def test_environment_yml_lists_the_same_packages_as_pyproject() -> None:
    project = _pyproject()["project"]
    pip_side = {
        _name(r): r for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    }
    conda_side = _conda_packages()
    assert sorted(pip_side) == sorted(conda_side)
    # and with the same lower bounds
    for name, requirement in pip_side.items():
        bound = re.search(r">=\s*([\w.]+)", requirement)
        assert bound, f"{name} has no lower bound in pyproject.toml"
        assert f">={bound.group(1)}" in conda_side[name], (name, requirement, conda_side[name])


def test_environment_yml_is_for_conda_forge_python_311_with_editable_install() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    assert "python=3.11" in env["dependencies"]
    pip = [d for d in env["dependencies"] if isinstance(d, dict)]
    assert pip == [{"pip": ["-e ."]}]


def test_design_card_packages_are_dependencies() -> None:
    names = {_name(r) for r in _pyproject()["project"]["dependencies"]}
    assert set(DESIGN_CARD) <= names
    assert {"ipykernel", "pyarrow"} <= names


def test_nbconvert_is_pinned_past_the_html_export_advisories() -> None:
    deps = {_name(r): r for r in _pyproject()["project"]["dependencies"]}
    assert re.search(r">=\s*7\.17\.1", deps["nbconvert"])


def test_console_script_is_csat() -> None:
    assert _pyproject()["project"]["scripts"] == {"csat": "csatlib.cli:main"}
