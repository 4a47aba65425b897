"""Benchmark ``csat data`` on a large export: the sample's relationship survey replicated 10x and
50x, against the named floor "pyarrow read" (``pyarrow.csv.read_csv`` of the same file), both
timed as whole processes in one run.

Each command is timed three times and its fastest run is kept (the floor, a second-long read,
varies by tens of percent from run to run). Each copy of a response gets its own response id
(``R_x`` -> ``R_x~k``), so the copies are distinct responses, not duplicates. The other
exports (tickets, revenue), the codebooks, the aliases and the organisation mapping are copied
as they are. Peak memory is the child's maximum resident set
(``getrusage(RUSAGE_CHILDREN)``), measured in a fresh process per command.

Targets of the scale issue on 2 cores: ``csat data`` <= 6x the pyarrow read; peak <= 6x the
file at 10x; at 50x no more than twice the 10x peak; ``csat reports --force`` on the 10x data
<= 1.5x its time on the sample (1x), both built in this run into their own folders. The output
says which are met.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from csatlib import config

COPIES = (10, 50)
# The floor: pyarrow's CSV reader on the same file (quoted line breaks allowed, the two
# Qualtrics header rows after the names skipped), every column read.
FLOOR = (
    "import pyarrow.csv as c; c.read_csv({path!r}, "
    "read_options=c.ReadOptions(skip_rows_after_names=2), "
    "parse_options=c.ParseOptions(newlines_in_values=True))"
)
EXPORT = "relationship_survey.csv"


def replicate(raw: Path, folder: Path, copies: int) -> Path:
    """``folder`` as a raw folder whose relationship export holds every response ``copies``
    times (distinct ids); returns the export's path."""
    folder.mkdir(parents=True)
    for path in raw.iterdir():
        if path.is_file() and path.name != EXPORT:
            shutil.copy2(path, folder / path.name)
    with (raw / EXPORT).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, data = rows[:3], rows[3:]
    column = header[0].index("ResponseId")
    target = folder / EXPORT
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows(header)
        for k in range(copies):
            for row in data:
                copy = list(row)
                copy[column] = f"{row[column]}~{k}" if k else row[column]
                writer.writerow(copy)
    return target


def run(command: list[str]) -> tuple[float, float]:
    """(seconds, peak MB) of one command run as its own process (peak via a fresh wrapper)."""
    wrapper = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True,"
        " stdout=subprocess.DEVNULL);"
        "print(time.perf_counter() - t,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *command], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def reports(csat: str, raw: Path, tmp: Path, name: str) -> float:
    """Seconds of ``csat data`` then ``csat reports --force`` (timed alone) on ``raw``."""
    out, built = tmp / f"processed{name}", tmp / f"reports{name}"
    subprocess.run(
        [csat, "data", "--raw-dir", str(raw), "--out-dir", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    command = [csat, "reports", "--force", "--no-progress", "--processed-dir", str(out)]
    seconds, _ = run([*command, "--out-dir", str(built)])
    shutil.rmtree(out)
    shutil.rmtree(built)
    return seconds


def main() -> None:
    csat = str(Path(sys.executable).with_name("csat"))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        one = reports(csat, config.RAW_DIR, Path(tmp), "1")
        ten = reports(
            csat, replicate(config.RAW_DIR, Path(tmp) / "raw10r", 10).parent, Path(tmp), "10"
        )
        shutil.rmtree(Path(tmp) / "raw10r")
        verdict = "met" if ten <= 1.5 * one else "NOT met"
        print(
            f"reports (13 countries, global summary, lists; --force): sample {one:.1f} s, 10x "
            f"{ten:.1f} s ({ten / one:.2f}x; target <= 1.5x: {verdict})"
        )
        for copies in COPIES:
            raw = Path(tmp) / f"raw{copies}"
            export = replicate(config.RAW_DIR, raw, copies)
            size = export.stat().st_size / 1e6
            read = [sys.executable, "-c", FLOOR.format(path=str(export))]
            data = [csat, "data", "--raw-dir", str(raw), "--out-dir", str(Path(tmp) / "out")]
            # the fastest of three runs each: a second-long command varies by tens of percent
            floor_s, floor_mb = min(run(read) for _ in range(3))
            data_s, data_mb = min(run(data) for _ in range(3))
            results[copies] = data_mb
            print(
                f"{copies}x: {size:,.0f} MB export; pyarrow read {floor_s:.2f} s, "
                f"{floor_mb:,.0f} MB; csat data {data_s:.2f} s ({data_s / floor_s:.1f}x the read; "
                f"target <= 6x: {'met' if data_s <= 6 * floor_s else 'NOT met'}), peak "
                f"{data_mb:,.0f} MB ({data_mb / size:.1f}x the file"
                + (
                    f"; target <= 6x: {'met' if data_mb <= 6 * size else 'NOT met'})"
                    if copies == 10
                    else ")"
                )
            )
            shutil.rmtree(raw)
            shutil.rmtree(Path(tmp) / "out", ignore_errors=True)
    growth = results[50] / results[10]
    verdict = "met" if growth <= 2 else "NOT met"
    print(f"peak at 50x / peak at 10x: {growth:.1f} (target <= 2: {verdict})")


if __name__ == "__main__":
    main()
