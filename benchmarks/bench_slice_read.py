"""Benchmark: a country report reads only its slice (the scale issue, item 3).

On the sample's relationship survey replicated 10x (as ``bench_ingest.py`` makes it), after one
report has made and kept the study-wide results (``csatlib.report.store``), each measured as a
whole fresh process, fastest of three:

* ``country report``: ``load_country(country)`` and every table the country notebook shows
  (headline, trends, screens, scores, loyalty, drivers, priorities, at-risk accounts,
  follow-ups, action plans, tickets) for Germany (10% of the rows) and Namibia (0.3%);
* ``global summary``: ``load_study()`` and its league, NPS trends, problems, loyalty and heatmap;
* named baseline ``whole table``: ``load_processed("responses")``, the read every report made
  before it could read its slice (and still makes when nothing is kept);
* named baseline ``nothing kept``: the same country report made from the whole table handed in
  (what a report run on its own computed before the results were kept: every study-wide result).

Prints seconds and peak memory (maximum resident set) of each and the ratios to the baseline.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_ingest import replicate

from csatlib import config

COPIES = 10
PRELUDE = "import sys; from csatlib.report import context, overview, summary; p = sys.argv[1];"
COUNTRY = (
    PRELUDE + "c = context.load_country(sys.argv[2], processed_dir=p); summary.nps_headline(c);"
    "[getattr(c, a) for a in ('country_trends', 'screen_table', 'attribute_scores', "
    "'loyalty_table', 'driver_results', 'priorities', 'at_risk_counts', 'followup_counts', "
    "'action_plans', 'transactions_by_month', 'coder_accuracy')]"
)
ALONE = COUNTRY.replace("processed_dir=p)", "processed_dir=p, responses=context.load_responses(p))")
GLOBAL = (
    PRELUDE + "s = overview.load_study(processed_dir=p);"
    "[getattr(s, a) for a in ('league', 'nps_trends', 'problems', 'loyalty_by_country', "
    "'attribute_means')]"
)
WHOLE = (
    "import sys; from csatlib.ingest.clean import load_processed;"
    "load_processed('responses', sys.argv[1])"
)


def run(code: str, *args: str) -> tuple[float, float]:
    """(seconds, peak MB) of ``python -c code args`` as its own process."""
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter();"
        "subprocess.run(sys.argv[1:], check=True);"
        "print(time.perf_counter() - t,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[-2]), float(out[-1])


def best(code: str, *args: str) -> tuple[float, float]:
    return min(run(code, *args) for _ in range(3))


def main() -> None:
    assert resource  # the children's peak is read in the wrapper
    csat = str(Path(sys.executable).with_name("csat"))
    with tempfile.TemporaryDirectory() as tmp:
        raw = replicate(config.RAW_DIR, Path(tmp) / "raw", COPIES).parent
        processed = Path(tmp) / "processed"
        subprocess.run(
            [csat, "data", "--raw-dir", str(raw), "--out-dir", str(processed)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(raw)
        folder = str(processed)
        for code, args in ((COUNTRY, ("DE",)), (COUNTRY, ("NA",)), (GLOBAL, ())):
            run(code, folder, *args)  # makes and keeps the study-wide results
        whole_s, whole_mb = best(WHOLE, folder)
        print(f"{COPIES}x responses; baseline whole table: {whole_s:.2f} s, {whole_mb:,.0f} MB")
        alone_s, alone_mb = best(ALONE, folder, "DE")
        print(f"baseline nothing kept, country report DE: {alone_s:.2f} s, {alone_mb:,.0f} MB")
        for name, code, args in (
            ("country report DE", COUNTRY, ("DE",)),
            ("country report NA", COUNTRY, ("NA",)),
            ("global summary", GLOBAL, ()),
        ):
            seconds, mb = best(code, folder, *args)
            print(
                f"{name}: {seconds:.2f} s ({seconds / whole_s:.2f}x the whole-table read, "
                f"{seconds / alone_s:.2f}x nothing kept), peak {mb:,.0f} MB "
                f"({mb / whole_mb:.2f}x the whole-table read, {mb / alone_mb:.2f}x nothing kept)"
            )


if __name__ == "__main__":
    main()
