"""Where each build task's published files and stamp live, and whether the task is up to date.

A task (a country, the global summary, the lists) is up to date when its published files exist and
its stamp, ``reports/.build/<name>.json``, holds the fingerprint of its current inputs: its own
files (the notebook), the :mod:`csatlib.report` sources, the processed data and its parameters. A
failed task's stamp is a failure record without a fingerprint, so that the next build retries it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csatlib.safety import write_text_atomic

__all__ = [
    "LISTS_NAME",
    "SUMMARY_NAME",
    "drop_stamp",
    "input_fingerprint",
    "is_fresh",
    "published_paths",
    "read_stamp",
    "record_failure",
    "stamped_names",
    "timestamp",
    "write_stamp",
]

#: Name under which the global summary is published (``reports/html/global.html``).
SUMMARY_NAME = "global"
#: Name of the closing-the-loop lists' stamp (``reports/.build/lists.json``).
LISTS_NAME = "lists"
# Files whose change makes every report stale.
_DATA_FILES = (
    "responses.parquet",
    "transactions.parquet",
    "revenue.parquet",
    "cleaning_summary.json",
    # the organisation mapping (csatlib.ingest.organisation): who belongs to which unit
    "organisation_codes.parquet",
    "organisation_accounts.parquet",
    "organisation_products.parquet",
    "organisation_attributes.parquet",
)
# csatlib's sources and the report templates: a change to any of them (a statistic, a list, a
# table) rebuilds every report and the lists.
_PACKAGE = Path(__file__).resolve().parents[1]


def _sources() -> list[Path]:
    return [
        p
        for p in (*_PACKAGE.rglob("*.py"), *_PACKAGE.rglob("*.j2"))
        if "__pycache__" not in p.parts
    ]


def timestamp() -> str:
    """Now, as stamps and the index page show it (``2026-10-01 12:00:00 UTC``)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _hash_files(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(
            str(path.relative_to(_PACKAGE) if path.is_relative_to(_PACKAGE) else path.name).encode()
        )
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def input_fingerprint(files: Sequence[Path], processed_dir: Path, params: dict[str, Any]) -> str:
    """Hash of a task's inputs: ``files``, csatlib's sources and templates, the processed data,
    ``params``."""
    sources = _hash_files(_sources())
    data = _hash_files(processed_dir / name for name in _DATA_FILES)
    own = _hash_files(files)
    return hashlib.sha256(
        (sources + data + own + json.dumps(params, sort_keys=True)).encode()
    ).hexdigest()


def published_paths(reports_dir: Path, name: str) -> dict[str, Path]:
    """The files a notebook task publishes: ``notebook``, ``html``, ``review``, ``metrics``."""
    return {
        "notebook": reports_dir / "notebooks" / f"{name}.ipynb",
        "html": reports_dir / "html" / f"{name}.html",
        "review": reports_dir / "review" / f"{name}.html",
        "metrics": reports_dir / "metrics" / f"{name}.json",
    }


def _stamp_path(reports_dir: Path, name: str) -> Path:
    return reports_dir / ".build" / f"{name}.json"


def read_stamp(reports_dir: Path, name: str) -> dict[str, Any]:
    """The task's stamp; empty when there is none or it cannot be read."""
    try:
        stamp = json.loads(_stamp_path(reports_dir, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def is_fresh(
    reports_dir: Path, name: str, fingerprint: str, *, metrics_required: bool = True
) -> bool:
    """True when the task's files are all published and its stamp holds ``fingerprint``."""
    paths = published_paths(reports_dir, name)
    keys = ("notebook", "html", "review") + (("metrics",) if metrics_required else ())
    if not all(paths[key].exists() for key in keys):
        return False
    return read_stamp(reports_dir, name).get("fingerprint") == fingerprint


def stamped_names(reports_dir: Path) -> list[str]:
    """The names of every task with a stamp, sorted (also those of an earlier study)."""
    return [stamp.stem for stamp in sorted((reports_dir / ".build").glob("*.json"))]


def drop_stamp(reports_dir: Path, name: str) -> None:
    """Remove the stamp before publishing: a publish interrupted half-way is rebuilt next time."""
    _stamp_path(reports_dir, name).unlink(missing_ok=True)


def write_stamp(
    reports_dir: Path, name: str, fingerprint: str, about: Mapping[str, str] | None = None
) -> None:
    """Record a finished publish: the task is up to date until its inputs change. ``about``
    (e.g. a report's dimension and value) is kept beside the fingerprint."""
    write_text_atomic(
        _stamp_path(reports_dir, name),
        json.dumps({**(about or {}), "fingerprint": fingerprint, "built": timestamp()}),
    )


def record_failure(reports_dir: Path, name: str, error: str) -> None:
    """Replace the stamp by a failure record: no fingerprint, so the next run retries."""
    with contextlib.suppress(OSError):
        write_text_atomic(
            _stamp_path(reports_dir, name),
            json.dumps({"status": "failed", "error": error, "at": timestamp()}),
        )
