"""Benchmark reading and cleaning the sample relationship export (requirement: ~22k rows in
under 2 s for cleaning). Reports the best of three runs of each step."""

from __future__ import annotations

import time

from csatlib import config
from csatlib.ingest.clean import clean_export
from csatlib.ingest.codebook import load_codebook
from csatlib.ingest.io import read_export


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    path = config.RAW_DIR / "relationship_survey.csv"
    raw = read_export(path)
    book = load_codebook(config.RAW_DIR / "relationship_survey.codebook.yaml")
    t_read = _best(lambda: read_export(path))
    t_clean = _best(lambda: clean_export(raw, book))
    print(f"rows: {len(raw.frame):,}")
    print(f"read_export: {t_read:.2f} s; clean_export: {t_clean:.2f} s (requirement: < 2 s)")


if __name__ == "__main__":
    main()
