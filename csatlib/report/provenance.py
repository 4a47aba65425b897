"""Where a report's figures come from: package version, commit, data hashes, parameters.

A reviewer reading a report months later needs to know which code and which data produced it:
:func:`provenance_table` lists the csatlib version, the git commit of the checkout (when there is
one), the versions of the numerical packages, a SHA-256 of every processed table and the cleaning
summary, and the report's parameters. :func:`public_parameters` rewrites the parameters papermill
injected so that no temporary build path shows in a published notebook.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from csatlib import config

__all__ = ["provenance_table", "file_hash", "public_parameters"]

_PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "papermill", "nbconvert")


def file_hash(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(config.PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return out.stdout.strip() or "not a git checkout"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def provenance_table(processed_dir: str | Path, parameters: Mapping[str, Any]) -> pd.DataFrame:
    """The report's provenance, one row per item (columns ``Item``, ``Value``).

    Parameters
    ----------
    processed_dir : str or Path
        The processed data the report read (every ``*.parquet`` and ``cleaning_summary.json``
        in it are hashed).
    parameters : mapping
        The report's parameters as the reader should see them (:func:`public_parameters`).
    """
    folder = Path(processed_dir) if str(processed_dir) else config.PROCESSED_DIR
    rows = [
        ("csatlib version", _version("csatlib")),
        ("git commit", _commit()),
        ("python", platform.python_version()),
        *((package, _version(package)) for package in _PACKAGES),
    ]
    for path in [*sorted(folder.glob("*.parquet")), folder / "cleaning_summary.json"]:
        if path.is_file():
            rows.append((f"data: {path.name} (SHA-256)", file_hash(path)))
    rows += [(f"parameter: {k}", str(v)) for k, v in parameters.items()]
    return pd.DataFrame(rows, columns=["Item", "Value"]).set_index("Item")


def public_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters with paths inside the project shown relative to it, and a staging path of
    the build (``reports/.staging/...``) replaced by where the file is published."""
    out: dict[str, Any] = {}
    root = config.PROJECT_ROOT.resolve()
    for key, value in parameters.items():
        text = str(value)
        if ".staging" in Path(text).parts and text.endswith(".json"):
            text = str(Path("reports") / "metrics" / Path(text).name)
        elif text and Path(text).is_absolute() and Path(text).resolve().is_relative_to(root):
            text = str(Path(text).resolve().relative_to(root))
        out[key] = text if isinstance(value, str) else value
    return out
