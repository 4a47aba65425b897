"""Benchmark reports as slices multiply: 13 countries x the sample's business units (or segments).

Measured in one run, from the same data/processed:

- ``csat reports --by country --force`` (the country reports alone) and
  ``csat reports --by country,<dimension>,<dimension>/country --force`` (the countries, every
  value of the dimension, and every value within every country where each cell meets the
  small-cell minimum: on the sample 13 + 5 + 44 reports): wall seconds and core-seconds (the
  machine's busy CPU time while the command ran, from ``/proc/stat``: the build's kernels are
  forked by a server and not all reaped by the command, so its own ``getrusage`` would miss them;
  run the benchmark on an otherwise idle machine). The marginal cost of a report is the extra
  core-seconds of the second build divided by its extra reports; reports per minute is the
  second build's count over its wall time.
- The second build again with nothing changed: seconds and how many reports it rebuilt
  (expected 0).
- Baseline (named "naive CLI"): per report, the papermill command line, then the nbconvert command
  line for each of the two HTML versions, sequentially; timed on ``K`` reports (default 3: the
  first two countries and the first value of the dimension) and scaled to every report, which the
  ratio says.

Each forced build runs ``R`` times (default 1), the two in turn, and the least wall and core
seconds of each are used: the machine's busy time counts whatever else ran meanwhile (on this
machine five builds of the 13 country reports took 51 to 65 core-seconds, a spread that the 49
extra reports of the second build divide).

Run with ``make bench`` or ``python benchmarks/bench_slices.py [DIMENSION] [K] [R]``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from csatlib import config
from csatlib.report.build import (
    discover_countries,
    discover_cross_cuts,
    discover_slices,
    ensure_kernel,
)
from csatlib.report.context import load_responses, slice_dimensions

BIN = Path(sys.executable).parent


def _children_cpu() -> float:
    """Busy CPU seconds of the whole machine so far (all cores; idle and iowait excluded)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _run(cmd: list[str]) -> tuple[float, float]:
    """Wall and core seconds of one command line (and everything it started)."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - cpu


def _build(out: Path, by: str, *, force: bool) -> tuple[float, float]:
    cmd = [str(BIN / "csat"), "reports", "--out-dir", str(out), "--no-progress", "--by", by]
    return _run([*cmd, "--force"] if force else cmd)


def _naive_one(out: Path, name: str, params: dict[str, str]) -> float:
    notebook = config.NOTEBOOKS_DIR / "country_report.ipynb"
    executed = out / f"{name}.ipynb"
    args = [a for key, value in params.items() for a in ("-r", key, value)]
    wall = 0.0
    for cmd in (
        [str(BIN / "papermill"), str(notebook), str(executed), "-k", "csat", *args,
         "-r", "processed_dir", str(config.PROCESSED_DIR), "--no-progress-bar",
         "--cwd", str(notebook.parent)],
        [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed),
         "--output", f"{name}.dist"],
        [str(BIN / "jupyter"), "nbconvert", "--to", "html", str(executed), "--output",
         f"{name}.review"],
    ):  # fmt: skip
        wall += _run(cmd)[0]
    return wall


def _rebuilt(out: Path) -> int:
    """Reports the last build rebuilt, from the index's build line ("N reports rebuilt"). A
    build with a failed report exits non-zero, which stops the benchmark (``_run``)."""
    text = (out / "index.html").read_text(encoding="utf-8")
    found = re.search(r"([\d,]+) reports? rebuilt", text)
    return int(found.group(1).replace(",", "")) if found else -1


def main() -> None:
    ensure_kernel()
    dims = slice_dimensions(load_responses(config.PROCESSED_DIR))
    dimension = sys.argv[1] if len(sys.argv) > 1 else next(
        (d for d in ("business_unit", "segment") if d in dims), "segment"
    )  # fmt: skip
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    countries = discover_countries(config.PROCESSED_DIR)
    values = discover_slices(config.PROCESSED_DIR, dimension)
    cross = f"{dimension}/country"
    cuts, _ = discover_cross_cuts(config.PROCESSED_DIR, cross, min_n=config.DEFAULT_MIN_N)
    by = f"country,{dimension},{cross}"
    n_countries, n_all = len(countries), len(countries) + len(values) + len(cuts)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # the two forced builds in turn, ``repeats`` times each: the least of each measure
        # (the machine's busy time includes whatever else ran, so one run is noisy)
        runs_c, runs_all = [], []
        for _ in range(repeats):
            runs_c.append(_build(root / "countries", "country", force=True))
            runs_all.append(_build(root / "all", by, force=True))
        wall_c, cpu_c = (min(m) for m in zip(*runs_c, strict=True))
        wall_all, cpu_all = (min(m) for m in zip(*runs_all, strict=True))
        wall_again, _ = _build(root / "all", by, force=False)
        rebuilt = _rebuilt(root / "all")
        (root / "naive").mkdir()
        sample = [(cc, {"country": cc}) for cc in countries[: max(k - 1, 1)]]
        name, value = next(iter(values.items()))
        sample.append((name, {"dimension": dimension, "value": value}))
        naive = sum(_naive_one(root / "naive", n, p) for n, p in sample) / len(sample)
    marginal = (cpu_all - cpu_c) / max(n_all - n_countries, 1)
    print(json.dumps({"dimension": dimension, "countries": n_countries, "slices": len(values),
                      "cross_cuts": len(cuts), "repeats": repeats}))  # fmt: skip
    print(f"csat reports --by country --force: {n_countries} reports, {wall_c:.1f} s wall, "
          f"{cpu_c:.1f} core-s")  # fmt: skip
    print(f"csat reports --by {by} --force: {n_all} reports (+ global summary and "
          f"lists), {wall_all:.1f} s wall, {cpu_all:.1f} core-s")  # fmt: skip
    print(f"reports per minute: {60 * n_all / wall_all:.1f}")
    print(f"marginal cost per report: {marginal:.2f} core-s "
          f"({cpu_all - cpu_c:.1f} core-s for {n_all - n_countries} more reports)")  # fmt: skip
    print(f"nothing changed: {wall_again:.2f} s, {rebuilt} reports rebuilt")
    print(f"naive CLI baseline: {naive:.1f} s per report (mean of {len(sample)} timed), "
          f"{naive * n_all:.1f} s for {n_all} reports")  # fmt: skip
    print(f"speed-up vs naive CLI: {naive * n_all / wall_all:.1f}x")


if __name__ == "__main__":
    main()
