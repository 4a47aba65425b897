"""Tests of csatlib.report.provenance: versions, commit, data hashes and public parameters."""

from __future__ import annotations

import hashlib
from pathlib import Path

from csatlib import config
from csatlib.report.provenance import file_hash, provenance_table, public_parameters


def test_provenance_lists_versions_and_hashes_every_table(tmp_path: Path) -> None:
    (tmp_path / "responses.parquet").write_bytes(b"not really parquet")
    (tmp_path / "cleaning_summary.json").write_text("{}", "utf-8")
    table = provenance_table(tmp_path, {"country": "DE", "min_n": 30})
    expected = hashlib.sha256(b"not really parquet").hexdigest()[:16]
    assert table.loc["data: responses.parquet (SHA-256)", "Value"] == expected
    assert table.loc["data: cleaning_summary.json (SHA-256)", "Value"] == file_hash(
        tmp_path / "cleaning_summary.json"
    )
    assert table.loc["parameter: country", "Value"] == "DE"
    assert table.loc["csatlib version", "Value"] not in ("", "not installed")
    assert table.loc["git commit", "Value"]  # a commit, or "not a git checkout"


def test_public_parameters_hide_the_staging_path_and_the_machine() -> None:
    root = config.PROJECT_ROOT.resolve()
    staged = root / "reports" / ".staging" / "DE-1a2b3c4d" / "DE.json"
    public = public_parameters(
        {
            "metrics_path": str(staged),
            "processed_dir": str(root / "data" / "processed"),
            "min_n": 30,
            "elsewhere": "/srv/other/data",
        }
    )
    assert public == {
        "metrics_path": "reports/metrics/DE.json",
        "processed_dir": "data/processed",
        "min_n": 30,
        "elsewhere": "/srv/other/data",  # outside the project: shown as given
    }
