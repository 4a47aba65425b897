"""Pointing the pipeline at another raw folder: ``CSAT_RAW_DIR`` in csatlib.config, and the
Makefile's ``RAW_DIR`` that sets it.

csatlib.config reads the environment when it is imported, so each case runs in a fresh
interpreter (reloading it here would leave other modules holding the old paths)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SHOW = (
    "import json; from csatlib import config as c; print(json.dumps({k: str(getattr(c, k)) "
    "for k in ('PROJECT_ROOT', 'RAW_DIR', 'CIT_CODEBOOK', 'ACCOUNT_ALIASES', 'PROCESSED_DIR')}))"
)


def _config(raw_dir: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CSAT_RAW_DIR", "CSAT_ROOT")}
    if raw_dir is not None:
        env["CSAT_RAW_DIR"] = raw_dir
    done = subprocess.run(
        [sys.executable, "-c", _SHOW], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_raw_dir_defaults_to_data_raw():
    paths = _config(None)
    root = Path(paths["PROJECT_ROOT"])
    assert Path(paths["RAW_DIR"]) == root / "data" / "raw"
    assert Path(paths["CIT_CODEBOOK"]) == root / "data" / "raw" / "cit_codebook.yaml"
    assert Path(paths["ACCOUNT_ALIASES"]) == root / "data" / "raw" / "account_aliases.csv"
    assert _config("")["RAW_DIR"] == paths["RAW_DIR"]  # an empty variable is no folder


def test_raw_dir_from_the_environment(tmp_path):
    study = tmp_path / "my_study"
    study.mkdir()
    paths = _config(str(study))
    root = Path(paths["PROJECT_ROOT"])
    assert Path(paths["RAW_DIR"]) == study
    assert Path(paths["ACCOUNT_ALIASES"]) == study / "account_aliases.csv"
    # no cit_codebook.yaml of its own: the project's default CIT codebook
    assert Path(paths["CIT_CODEBOOK"]) == root / "data" / "raw" / "cit_codebook.yaml"
    assert Path(paths["PROCESSED_DIR"]) == root / "data" / "processed"  # outputs stay put
    (study / "cit_codebook.yaml").write_text("benefits: []\n", encoding="utf-8")
    assert Path(_config(str(study))["CIT_CODEBOOK"]) == study / "cit_codebook.yaml"
    # relative: from the project root, whatever the working folder
    assert Path(_config("studies/b")["RAW_DIR"]) == root / "studies" / "b"


_MAKE = shutil.which("make")


def _make(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "CSAT_"))}
    done = subprocess.run(
        [_MAKE, "--no-print-directory", *args],  # type: ignore[list-item]
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.skipif(_MAKE is None, reason="make is not installed")
def test_makefile_passes_raw_dir_to_csatlib(tmp_path):
    study = tmp_path / "my_study"
    study.mkdir()
    for name in ("survey.csv", "survey.codebook.yaml", "notes.md"):
        (study / name).write_text("x\n", encoding="utf-8")
    show = 'show-raw: ; @echo "$$CSAT_RAW_DIR|$(sort $(RAW))"'
    env_dir, raw = _make("--eval", show, "show-raw", f"RAW_DIR={study}").strip().split("|")
    assert env_dir == str(study)
    assert raw.split() == [str(study / "survey.codebook.yaml"), str(study / "survey.csv")]
    default_dir, _ = _make("--eval", show, "show-raw").strip().split("|")
    assert default_dir == str(ROOT / "data" / "raw")
    # dry run: the stamp records the folder, so switching studies rebuilds data/processed
    dry = _make("-n", "data", f"RAW_DIR={study}")
    assert f'echo "{study}" > data/processed/.raw_dir' in dry
    assert dry.rstrip().endswith("csat data")
