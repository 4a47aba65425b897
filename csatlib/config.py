"""Where things live and the study-wide defaults; the one place that knows paths.

The project root is found from this file's location (an editable install keeps ``csatlib/`` in the
checkout) and can be overridden with the ``CSAT_ROOT`` environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "RAW_DIR",
    "PROCESSED_DIR",
    "REPORTS_DIR",
    "NOTEBOOKS_DIR",
    "CIT_CODEBOOK",
    "ACCOUNT_ALIASES",
    "DEFAULT_MIN_N",
    "DEFAULT_CONF",
    "SYNTH_SEED",
    "project_root",
]

#: Smallest group for which an estimate is shown; smaller cells are reported as suppressed.
DEFAULT_MIN_N: int = 30
#: Default confidence level of every interval.
DEFAULT_CONF: float = 0.95
#: Seed of the sample data generator (csatlib.synth).
SYNTH_SEED: int = 20261125


def project_root() -> Path:
    """Return the project root: ``$CSAT_ROOT`` if set, else the folder above ``csatlib/``."""
    env = os.environ.get("CSAT_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parent.parent


PROJECT_ROOT: Path = project_root()
RAW_DIR: Path = PROJECT_ROOT / "data" / "raw"
PROCESSED_DIR: Path = PROJECT_ROOT / "data" / "processed"
REPORTS_DIR: Path = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
#: The Critical Incident Technique codebook (benefits -> attributes -> patterns).
CIT_CODEBOOK: Path = RAW_DIR / "cit_codebook.yaml"
#: Manual overrides for account matching (alias -> canonical name).
ACCOUNT_ALIASES: Path = RAW_DIR / "account_aliases.csv"
