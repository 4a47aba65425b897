"""Notebook-facing steps of the CIT coding workflow (``notebooks/cit_coding.ipynb``).

The statistics and the coding live in the other modules of :mod:`csatlib.text`; this module
holds the few steps the notebook would otherwise have to write itself: checking its parameters
and filling in default paths (:func:`check_parameters`), picking the incidents no rule or person has
coded (:func:`uncoded_incidents`) and one coder's codes (:func:`coder_codes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from csatlib import config
from csatlib.config import (
    DEFAULT_MIN_N,
    DEFAULT_RAW_DIR,
    PROCESSED_DIR,
    PROJECT_ROOT,
    RAW_DIR,
    REPORTS_DIR,
)
from csatlib.errors import DataError
from csatlib.validation import check_min_n, require_columns

__all__ = [
    "CODING_SHEET_NAME",
    "CitSettings",
    "check_parameters",
    "coder_codes",
    "uncoded_incidents",
]

#: File name of the coding sheet written into ``work_dir``.
CODING_SHEET_NAME: str = "cit_coding_sheet.csv"


@dataclass(frozen=True)
class CitSettings:
    """Checked parameters of the CIT notebook, with every path absolute.

    Attributes
    ----------
    processed_dir
        Folder with ``responses.parquet`` (from ``csat data``).
    work_dir
        Folder the coding sheet is written to (never inside ``data/raw``).
    codebook_path
        CIT codebook (``data/raw/cit_codebook.yaml`` by default).
    hand_codes_path
        Hand codes, long format ``incident_id, coder, attribute``.
    coding_sheet
        ``work_dir / CODING_SHEET_NAME``.
    min_n
        Smallest group x valence whose frequencies are shown.
    seed
        Seed of the review sample, the audit draw and the assistant.
    audit_share
        Share of rule-coded incidents sent to the coders for a blind audit.
    review_n
        Number of uncoded incidents shown for review.
    adjudicated_coder
        Coder whose hand codes are final (rule and assistant are compared with them).
    second_coder
        Coder compared with the adjudicated one for inter-coder reliability.
    suggest_threshold
        Smallest predicted probability of the assistant kept as a suggestion.
    """

    processed_dir: Path
    work_dir: Path
    codebook_path: Path
    hand_codes_path: Path
    coding_sheet: Path
    min_n: int
    seed: int
    audit_share: float
    review_n: int
    adjudicated_coder: str
    second_coder: str
    suggest_threshold: float


def _path(name: str, value: str | Path, default: Path) -> Path:
    if not isinstance(value, (str, Path)):
        raise DataError(
            f"check_parameters: {name} must be a path (text), found {type(value).__name__} "
            f"{value!r}"
        )
    if str(value).strip() == "":
        return default.resolve()
    path = Path(str(value).strip()).expanduser()
    # Relative to the project root, not to the notebook's folder: the same value works from
    # JupyterLab (cwd notebooks/), papermill and the command line.
    return (path if path.is_absolute() else PROJECT_ROOT / path).resolve()


def _whole(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DataError(
            f"check_parameters: {name} must be a whole number >= {minimum}, found {value!r}"
        )
    return int(value)


def _coder(name: str, value: object) -> str:
    if not isinstance(value, str) or value.strip() == "":
        raise DataError(f"check_parameters: {name} must be a coder's name, found {value!r}")
    return value.strip()


def check_parameters(
    *,
    processed_dir: str | Path = "",
    work_dir: str | Path = "",
    codebook_path: str | Path = "",
    hand_codes_path: str | Path = "",
    min_n: int = DEFAULT_MIN_N,
    seed: int = 0,
    audit_share: float = 0.05,
    review_n: int = 20,
    adjudicated_coder: str = "coder_a",
    second_coder: str = "coder_b",
    suggest_threshold: float = 0.5,
) -> CitSettings:
    """Check the CIT notebook's parameters and fill in the default paths.

    Parameters
    ----------
    processed_dir
        ``""`` means ``data/processed``; must be an existing folder.
    work_dir
        ``""`` means ``reports/cit``; must not be ``data/raw`` or inside it (raw data is never
        written) and must not be a file. It is not created here: the export creates it.
    codebook_path, hand_codes_path
        ``""`` means the study's ``cit_codebook.yaml`` / ``cit_hand_codes.csv``: in the raw
        folder ``processed_dir`` was made from (:func:`csatlib.config.study_raw_dir`; the
        codebook falls back to the project's default, hand codes do not); must be existing
        files.
    min_n
        Whole number >= 1.
    seed
        Whole number >= 0.
    audit_share
        Number in [0, 1].
    review_n
        Whole number >= 1.
    adjudicated_coder, second_coder
        Two different, non-empty coder names (whether they coded anything is checked when the
        hand codes are read, by :func:`coder_codes`).
    suggest_threshold
        Number in (0, 1].

    Returns
    -------
    CitSettings
        Absolute paths (a relative path is taken from the project root, not from the
        notebook's folder) and the checked numbers.

    Raises
    ------
    DataError
        A parameter of the wrong type or out of range, a missing folder or file, or a
        ``work_dir`` inside ``data/raw``; the message names the parameter and the value found.
    """
    processed = _path("processed_dir", processed_dir, PROCESSED_DIR)
    work = _path("work_dir", work_dir, REPORTS_DIR / "cit")
    # the study's own files: of the raw folder its processed tables were made from
    home = config.study_raw_dir(processed)
    own_codebook = home / "cit_codebook.yaml"
    default_codebook = (
        own_codebook if own_codebook.is_file() else DEFAULT_RAW_DIR / own_codebook.name
    )
    codebook = _path("codebook_path", codebook_path, default_codebook)
    hand = _path("hand_codes_path", hand_codes_path, home / "cit_hand_codes.csv")
    if not processed.is_dir():
        raise DataError(
            f"check_parameters: processed_dir {str(processed)!r} is not a folder; run "
            "`csat data` (or `make data`) to build the processed tables"
        )
    for raw in {RAW_DIR.resolve(), home.resolve()}:
        if work != raw and not work.is_relative_to(raw):
            continue
        raise DataError(
            f"check_parameters: work_dir {str(work)!r} is inside {str(raw)!r}; raw data is "
            "never written, choose another folder (empty means reports/cit)"
        )
    if work.exists() and not work.is_dir():
        raise DataError(f"check_parameters: work_dir {str(work)!r} is a file, expected a folder")
    for name, path in (("codebook_path", codebook), ("hand_codes_path", hand)):
        if not path.is_file():
            raise DataError(f"check_parameters: {name} {str(path)!r} is not an existing file")
    if (
        isinstance(audit_share, bool)
        or not isinstance(audit_share, (int, float))
        or not 0 <= audit_share <= 1
    ):
        raise DataError(
            f"check_parameters: audit_share must be a number in [0, 1], found {audit_share!r}"
        )
    if (
        isinstance(suggest_threshold, bool)
        or not isinstance(suggest_threshold, (int, float))
        or not 0 < suggest_threshold <= 1
    ):
        raise DataError(
            "check_parameters: suggest_threshold must be a number in (0, 1], found "
            f"{suggest_threshold!r}"
        )
    first = _coder("adjudicated_coder", adjudicated_coder)
    second = _coder("second_coder", second_coder)
    if first == second:
        raise DataError(
            f"check_parameters: second_coder must differ from adjudicated_coder, both are {first!r}"
        )
    return CitSettings(
        processed_dir=processed,
        work_dir=work,
        codebook_path=codebook,
        hand_codes_path=hand,
        coding_sheet=work / CODING_SHEET_NAME,
        min_n=check_min_n(min_n, func="check_parameters"),
        seed=_whole("seed", seed, 0),
        audit_share=float(audit_share),
        review_n=_whole("review_n", review_n, 1),
        adjudicated_coder=first,
        second_coder=second,
        suggest_threshold=float(suggest_threshold),
    )


def uncoded_incidents(
    incidents: pd.DataFrame,
    codes: pd.DataFrame,
    *,
    sample: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Incidents that neither a rule nor a person has coded.

    Parameters
    ----------
    incidents
        From :func:`csatlib.text.coding.split_incidents` (needs ``incident_id``).
    codes
        Any code table (``incident_id``, ``method``): rule, hand, model or merged codes.
    sample
        If given, at most this many incidents drawn at random (without replacement).
    seed
        Seed of the draw.

    Returns
    -------
    pandas.DataFrame
        The rows of ``incidents`` (same columns, in their order) whose ``incident_id`` has no
        code with ``method`` ``"rule"`` or ``"hand"``. A hand decision "no attribute applies"
        (``attribute`` missing) counts as coded; model suggestions do not. This is the same
        rule :func:`csatlib.text.hand_coding.export_for_coding` uses for the non-audit rows of the
        sheet.
    """
    require_columns(incidents, ["incident_id"], "uncoded_incidents (incidents)")
    require_columns(codes, ["incident_id", "method"], "uncoded_incidents (codes)")
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, int)):
        raise DataError(f"uncoded_incidents: sample must be a whole number, found {sample!r}")
    if sample is not None and sample < 0:
        raise DataError(f"uncoded_incidents: sample must be >= 0, found {sample}")
    firm = codes.loc[codes["method"].astype("string").isin(["rule", "hand"]), "incident_id"]
    ids = incidents["incident_id"].astype("string")
    out = incidents[~ids.isin(firm.astype("string")).to_numpy()]
    if sample is not None and sample < len(out):
        out = out.sample(n=sample, random_state=seed).sort_index()
    return out.reset_index(drop=True)


def coder_codes(hand_codes: pd.DataFrame, coder: str) -> pd.DataFrame:
    """One coder's hand codes (e.g. the adjudicated ones).

    Parameters
    ----------
    hand_codes
        From :func:`csatlib.text.hand_coding.import_hand_codes` (needs ``coder``).
    coder
        Name in the ``coder`` column.

    Returns
    -------
    pandas.DataFrame
        The rows of ``hand_codes`` coded by ``coder``, index reset.

    Raises
    ------
    DataError
        No code by ``coder``; the message lists the coders found.
    """
    require_columns(hand_codes, ["coder"], "coder_codes")
    names = hand_codes["coder"].astype("string")
    out = hand_codes[(names == coder).fillna(False).to_numpy()]
    if out.empty:
        found = sorted(names.dropna().unique())
        raise DataError(
            f"coder_codes: no hand codes by coder {coder!r}; coders found: "
            f"{', '.join(found) or 'none'}"
        )
    return out.reset_index(drop=True)
