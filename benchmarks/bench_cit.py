"""Benchmark rule coding of every incident in the sample (about 56,000).

Baseline (named "per-incident loop"): each incident matched against each attribute's compiled
patterns one at a time in Python, measured in the same run.
"""

from __future__ import annotations

import time

from csatlib import config
from csatlib.ingest.clean import build_processed, load_processed
from csatlib.text import cit_codebook, coding, normalize


def main() -> None:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        build_processed(config.RAW_DIR, Path(tmp))
        responses = load_processed("responses", Path(tmp))
    codebook = cit_codebook.load_cit_codebook(config.CIT_CODEBOOK)
    start = time.perf_counter()
    incidents = coding.split_incidents(responses)
    t_split = time.perf_counter() - start
    start = time.perf_counter()
    codes = coding.code_incidents(incidents, codebook)
    t_code = time.perf_counter() - start
    texts = normalize.normalize_text(incidents["text"]).tolist()[:5000]
    patterns = [p for p in codebook.patterns["regex"]] if "regex" in codebook.patterns else []
    import re

    compiled = [re.compile(p) for p in patterns]
    start = time.perf_counter()
    for text in texts:
        for rx in compiled:
            rx.search(text)
    t_loop = (time.perf_counter() - start) * len(incidents) / max(len(texts), 1)
    print(f"incidents: {len(incidents):,}; codes: {len(codes):,}")
    print(f"split_incidents: {t_split:.2f} s; code_incidents: {t_code:.2f} s")
    print(
        f"per-incident loop baseline ({len(compiled)} patterns, timed on 5,000, scaled): "
        f"{t_loop:.2f} s; ratio {t_loop / t_code:.1f}x"
    )


if __name__ == "__main__":
    main()
