"""Where things live and the study-wide defaults; the one place that knows paths.

The project root is found from this file's location (an editable install keeps ``csatlib/`` in the
checkout) and can be overridden with the ``CSAT_ROOT`` environment variable.

The raw data folder (exports and their codebooks) is ``data/raw`` unless the ``CSAT_RAW_DIR``
environment variable names another one (absolute, or relative to the project root); ``make
reports RAW_DIR=folder`` sets it. That is the one way to point the pipeline at another study.
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
    "CIT_HAND_CODES",
    "ACCOUNT_ALIASES",
    "TARGETS",
    "ACTIONS",
    "CASE_RULES",
    "INVITATIONS",
    "ORGANISATION",
    "DEFAULT_MIN_N",
    "DEFAULT_CONF",
    "SYNTH_SEED",
    "DEFAULT_RAW_DIR",
    "project_root",
    "raw_dir",
    "RAW_DIR_STAMP",
    "record_raw_dir",
    "recorded_raw_dir",
    "study_raw_dir",
]

#: Smallest group for which an estimate is shown; smaller cells are reported as suppressed.
DEFAULT_MIN_N: int = 30
#: Default confidence level of every interval.
DEFAULT_CONF: float = 0.95
#: Seed of the sample data generator (csatlib.sample.synth).
SYNTH_SEED: int = 20261125


def project_root() -> Path:
    """Return the project root: ``$CSAT_ROOT`` if set, else the folder above ``csatlib/``."""
    env = os.environ.get("CSAT_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parent.parent


def raw_dir(root: Path | None = None) -> Path:
    """Return the raw data folder: ``$CSAT_RAW_DIR`` if set, else ``<root>/data/raw``.

    A relative ``CSAT_RAW_DIR`` is taken from the project root (not the working folder), and
    ``~`` is expanded, so ``make`` and ``csat`` see the same folder wherever they are started.
    """
    root = PROJECT_ROOT if root is None else root
    env = os.environ.get("CSAT_RAW_DIR", "").strip()
    if not env:
        return root / "data" / "raw"
    path = Path(env).expanduser()
    return path if path.is_absolute() else root / path


PROJECT_ROOT: Path = project_root()
#: The sample study's raw folder (written by ``csat synth``), home of the default CIT codebook.
DEFAULT_RAW_DIR: Path = PROJECT_ROOT / "data" / "raw"
#: The raw folder the pipeline reads: ``$CSAT_RAW_DIR`` if set, else :data:`DEFAULT_RAW_DIR`.
RAW_DIR: Path = raw_dir(PROJECT_ROOT)
PROCESSED_DIR: Path = PROJECT_ROOT / "data" / "processed"
REPORTS_DIR: Path = PROJECT_ROOT / "reports"
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
#: The Critical Incident Technique codebook (benefits -> attributes -> patterns): the study's own
#: ``cit_codebook.yaml`` when its raw folder has one, else the project's default.
CIT_CODEBOOK: Path = (
    RAW_DIR / "cit_codebook.yaml"
    if (RAW_DIR / "cit_codebook.yaml").is_file()
    else DEFAULT_RAW_DIR / "cit_codebook.yaml"
)
#: Hand codes of a sample of the study's CIT incidents (``incident_id, coder, attribute``), on
#: which the rule coder's precision is measured: the study's own ``cit_hand_codes.csv`` in its raw
#: folder. Unlike the codebook there is no fallback to the project's default: hand codes name the
#: incidents of one study, so another study without the file has no measured precision.
CIT_HAND_CODES: Path = RAW_DIR / "cit_hand_codes.csv"
#: Manual overrides for account matching (alias -> canonical name).
ACCOUNT_ALIASES: Path = RAW_DIR / "account_aliases.csv"
#: The study's targets (unit, metric, baseline wave, target, due wave; csatlib.ingest.targets),
#: read by the reports' scorecard when present. No fallback: targets name one study's units.
TARGETS: Path = RAW_DIR / "targets.csv"
#: The study's action plans (unit, attribute, root cause, action, owner, start wave, due,
#: status; csatlib.ingest.actions), read by the reports when present. No fallback.
ACTIONS: Path = RAW_DIR / "actions.csv"
#: The follow-up rules (service levels per case type and escalation rules; csatlib.loop.rules):
#: the study's own ``case_rules.yaml`` when its raw folder has one, else the built-in defaults.
CASE_RULES: Path = RAW_DIR / "case_rules.yaml"
#: The deployment lists of past waves (who was invited, when), for response rates and the
#: non-response check: the study's own ``invitations.csv`` when present. No fallback.
INVITATIONS: Path = RAW_DIR / "invitations.csv"
#: The organisation mapping (business units of the accounts, functions of the products, business
#: processes of the attributes, and their owners): the study's own ``organisation.yaml`` in its
#: raw folder, read by ``csat data`` when present (docs/organisation.md). No fallback: it names
#: one study's accounts.
ORGANISATION: Path = RAW_DIR / "organisation.yaml"

#: The file in a processed folder naming the raw folder its tables were made from (written by
#: ``csat data`` and by the Makefile), so that the reports of that folder read the same study's
#: targets, action plans, aliases, rules and invitations.
RAW_DIR_STAMP: str = ".raw_dir"


def record_raw_dir(processed_dir: str | Path, raw: str | Path) -> None:
    """Name ``raw`` (made absolute, links kept as ``make``'s ``abspath`` keeps them) in
    ``processed_dir``'s :data:`RAW_DIR_STAMP`; the file is written only when it changes, so
    that ``make`` does not see a newer stamp than the tables it stands for."""
    stamp = Path(processed_dir) / RAW_DIR_STAMP
    text = os.path.abspath(Path(raw).expanduser())
    try:
        if stamp.read_text(encoding="utf-8").strip() == text:
            return
    except OSError:
        pass
    stamp.write_text(text + "\n", encoding="utf-8")


def recorded_raw_dir(processed_dir: str | Path) -> Path | None:
    """The raw folder ``processed_dir``'s tables were made from (:func:`record_raw_dir`), or
    None when the folder does not say."""
    try:
        text = (Path(processed_dir) / RAW_DIR_STAMP).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return Path(text) if text else None


def study_raw_dir(processed_dir: str | Path) -> Path:
    """The raw folder of the study in ``processed_dir``: ``$CSAT_RAW_DIR`` when it is set, else
    the folder ``csat data`` recorded there (:func:`recorded_raw_dir`), else :data:`RAW_DIR`."""
    if os.environ.get("CSAT_RAW_DIR", "").strip():
        return raw_dir()
    recorded = recorded_raw_dir(processed_dir)
    return recorded if recorded is not None and recorded.is_dir() else RAW_DIR
