"""Benchmark the report build against the naive command-line baseline, in one run.

Baseline (named "naive CLI"): for each country, sequentially, the papermill command line, then the
nbconvert command line for each of the two HTML versions. Measured: ``csat reports --force`` (what
``make reports`` runs when everything changed) into a scratch folder, then ``csat reports`` again
with nothing changed. Both build from the same data/processed. Prints seconds and ratios.

Run with ``make bench`` (after ``make data``) or ``python benchmarks/bench_reports.py [N]`` to time
only the first N countries.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from csatlib import config
from csatlib.report.build import discover_countries, ensure_kernel

BIN = Path(sys.executable).parent


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def naive(countries: list[str], out: Path) -> float:
    notebook = config.NOTEBOOKS_DIR / "country_report.ipynb"
    start = time.perf_counter()
    for cc in countries:
        executed = out / f"{cc}.ipynb"
        _run(
            [
                str(BIN / "papermill"),
                str(notebook),
                str(executed),
                "-k",
                "csat",
                "-r",
                "country",
                cc,
                "-r",
                "processed_dir",
                str(config.PROCESSED_DIR),
                "-r",
                "metrics_path",
                str(out / f"{cc}.json"),
                "--no-progress-bar",
                "--cwd",
                str(notebook.parent),
            ]
        )
        _run(
            [
                str(BIN / "jupyter"),
                "nbconvert",
                "--to",
                "html",
                "--no-input",
                str(executed),
                "--output",
                f"{cc}.dist",
            ]
        )
        _run(
            [
                str(BIN / "jupyter"),
                "nbconvert",
                "--to",
                "html",
                str(executed),
                "--output",
                f"{cc}.review",
            ]
        )
    return time.perf_counter() - start


def ours(countries: list[str], out: Path, *, force: bool) -> float:
    cmd = [str(BIN / "csat"), "reports", "--out-dir", str(out), "--no-progress"]
    if force:
        cmd.append("--force")
    if countries:
        cmd += ["--countries", ",".join(countries)]
    start = time.perf_counter()
    _run(cmd)
    return time.perf_counter() - start


def main() -> None:
    ensure_kernel()
    countries = discover_countries(config.PROCESSED_DIR)
    if len(sys.argv) > 1:
        countries = countries[: int(sys.argv[1])]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "naive").mkdir()
        subset = countries if len(sys.argv) > 1 else []
        t_ours = ours(subset, tmp_path / "ours", force=True)
        t_again = ours(subset, tmp_path / "ours", force=False)
        t_naive = naive(countries, tmp_path / "naive")
    n = len(countries)
    print(f"countries: {n}")
    print(f"naive CLI baseline (papermill + 2x nbconvert per country, sequential): {t_naive:.1f} s")
    print(
        "csat reports --force (parallel, forked from a pre-warmed server, no kernel, "
        f"in-process render): {t_ours:.1f} s"
    )
    print(f"csat reports, nothing changed: {t_again:.2f} s")
    print(f"speed-up vs naive CLI: {t_naive / t_ours:.1f}x")


if __name__ == "__main__":
    main()
