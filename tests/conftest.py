"""Fixtures shared by every test folder: the ingestion exports of tests/support/exports.py."""

from support.exports import ingest_raw_dir, write_codebook, write_export

__all__ = ["ingest_raw_dir", "write_codebook", "write_export"]
