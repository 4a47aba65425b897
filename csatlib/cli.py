"""The ``csat`` command: the steps the Makefile calls (data, reports, synth, sample).

Heavy libraries are imported inside each command so that ``csat --help`` and an up-to-date
``csat reports`` answer at once. Every :class:`csatlib.errors.CsatError` becomes one clear message
on stderr and exit code 1; nothing else is caught.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

from csatlib import config
from csatlib.errors import CsatError

__all__ = ["main", "build_parser"]


def _reuse_freed_memory() -> None:
    """Ask glibc's allocator to keep what the process frees for its next allocations.

    By default a large block (above a threshold that grows to at most 32 MB) is its own
    ``mmap`` and goes back to the system when freed, and the heap's free top is trimmed: every
    column ``csat data`` makes afresh is then new pages for the kernel to fault in and zero.
    On the export replicated 50x that was 690,000 page faults and 2.5 to 3.7 s of system time
    in a 10 s run; with this call, 550,000 page faults and about 1 s less (medians of four
    alternated runs: 9.35 against 10.47 s), for a peak 7% higher (553 against 521 MB).
    Arrow still hands its freed chunks back on purpose (``_release_arrow_memory``). Nothing
    happens where the C library is not glibc. The setting lasts for this process only."""
    import ctypes

    try:  # the process's own symbols, the C library's among them (no search for its file)
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt)
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 1 << 30)
    mallopt(m_trim_threshold, (1 << 31) - 1)


def _cmd_data(args: argparse.Namespace) -> int:
    _reuse_freed_memory()
    from csatlib.ingest.clean import build_processed

    start = time.perf_counter()
    summary = build_processed(
        Path(args.raw_dir),
        Path(args.out_dir),
        exclude_speeders=args.exclude_speeders,
        exclude_straightliners=args.exclude_straightliners,
    )
    # the reports' study-wide results kept beside the old tables are for them only
    from csatlib.report import store

    store.clear(args.out_dir)
    elapsed = time.perf_counter() - start
    for line in summary.describe():
        print(line)
    print(f"Wrote {args.out_dir} in {elapsed:.1f} s.")
    return 0


def _follow_study(processed_dir: Path) -> None:
    """Read the study's other inputs (targets, action plans, aliases, follow-up rules,
    invitations, CIT codebook and hand codes) from the raw folder ``processed_dir`` was made
    from, as ``csat data`` recorded it, when ``CSAT_RAW_DIR`` does not name one: the project's
    sample folder would otherwise lend its targets and aliases to another study's reports.
    When ``CSAT_RAW_DIR`` names another folder than the recorded one, say so on stderr."""
    recorded = config.recorded_raw_dir(processed_dir)
    if os.environ.get("CSAT_RAW_DIR", "").strip():
        if recorded is not None and recorded.resolve() != config.RAW_DIR.resolve():
            print(
                f"csat: note: {processed_dir} was made from {recorded}, but CSAT_RAW_DIR names "
                f"{config.RAW_DIR}: targets, action plans, aliases and rules are read from the "
                "latter",
                file=sys.stderr,
            )
        return
    home = config.study_raw_dir(processed_dir)
    if home.resolve() != config.RAW_DIR.resolve():
        os.environ["CSAT_RAW_DIR"] = str(home)  # for the build's own processes too
        importlib.reload(config)


def _cmd_reports(args: argparse.Namespace) -> int:
    _follow_study(Path(args.processed_dir))
    from csatlib.report.build import build_reports

    countries = [c.strip().upper() for c in args.countries.split(",")] if args.countries else None
    result = build_reports(
        countries=countries,
        processed_dir=Path(args.processed_dir),
        reports_dir=Path(args.out_dir),
        jobs=args.jobs,
        force=args.force,
        timeout=args.timeout,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        by=args.by,
    )
    for line in result.describe():
        print(line)
    return 0 if result.ok else 1


def _cmd_synth(args: argparse.Namespace) -> int:
    from csatlib.sample.synth import generate

    start = time.perf_counter()
    written = generate(Path(args.out_dir), seed=args.seed)
    print(f"Wrote {len(written)} files to {args.out_dir} in {time.perf_counter() - start:.1f} s.")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from csatlib.loop.sampling import run_sampling

    rates: dict[str, float] = {}
    for item in args.rate or []:
        region, _, value = item.partition("=")
        try:
            rates[region.strip()] = float(value)
        except ValueError:
            raise CsatError(
                f"--rate expects REGION=SHARE such as AMER=0.3, found {item!r}"
            ) from None
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
    except ValueError:
        raise CsatError(f"--as-of expects a date YYYY-MM-DD, found {args.as_of!r}") from None
    result = run_sampling(
        Path(args.contacts),
        Path(args.out_dir),
        rates=rates,
        default_rate=args.default_rate,
        seed=args.seed,
        as_of=as_of,
        fatigue_days=args.fatigue_days,
    )
    for line in result.describe():
        print(line)
    return 0


def _cmd_extract(args: argparse.Namespace) -> int:
    _follow_study(Path(args.processed_dir))
    from csatlib.ingest.clean import load_processed
    from csatlib.ingest.extract import write_extract
    from csatlib.report.context import with_account_key

    # The matched accounts (one customer's spellings merged) are what the extract codes.
    responses = with_account_key(load_processed("responses", Path(args.processed_dir)))
    written = write_extract(responses, Path(args.out), verbatims=args.verbatims)
    for line in written.describe():
        print(line)
    return 0


def _cmd_cases(args: argparse.Namespace) -> int:
    from csatlib.loop.cases import CASES_FILE, case_summary, import_outcomes, read_cases
    from csatlib.report.lock import build_lock

    store = Path(args.reports_dir) / CASES_FILE
    if args.action == "import":
        if not args.file:
            raise CsatError(
                "csat cases import: give the owners' CSV file, e.g. csat cases import returned.csv"
            )
        with build_lock(Path(args.reports_dir)):  # never while a build syncs the same store
            result = import_outcomes(store, Path(args.file))
        print(
            f"Applied {args.file}: {result.rows} row(s), {result.changed} case(s) changed, "
            f"{result.unchanged} unchanged. `make reports` brings the lists and reports up to date."
        )
        return 0
    if not store.is_file():
        raise CsatError(f"case store {str(store)!r} not found: run a build first (make reports)")
    table = case_summary(read_cases(store))
    print(table.to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``csat`` command."""
    parser = argparse.ArgumentParser(
        prog="csat", description="CSAT research workbench: data, reports, samples."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("data", help="clean data/raw into data/processed")
    p.add_argument("--raw-dir", default=str(config.RAW_DIR))
    p.add_argument("--out-dir", default=str(config.PROCESSED_DIR))
    p.add_argument("--exclude-speeders", action="store_true")
    p.add_argument("--exclude-straightliners", action="store_true")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("reports", help="run the country notebooks and render HTML")
    p.add_argument("--processed-dir", default=str(config.PROCESSED_DIR))
    p.add_argument("--out-dir", default=str(config.REPORTS_DIR))
    p.add_argument(
        "--countries", default="", help="comma-separated ISO alpha-2 codes (default all)"
    )
    p.add_argument("--jobs", type=int, default=None, help="parallel workers (default: cores)")
    p.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    p.add_argument("--timeout", type=int, default=600, help="seconds allowed per notebook cell")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (optional)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--by",
        default="country",
        help="one report per value of these comma-separated dimensions "
        "(default country; e.g. country,business_unit or segment)",
    )
    p.set_defaults(func=_cmd_reports)

    p = sub.add_parser("synth", help="regenerate the synthetic sample data (writes data/raw)")
    p.add_argument("--out-dir", default=str(config.RAW_DIR))
    p.add_argument("--seed", type=int, default=config.SYNTH_SEED)
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("sample", help="draw the deployment list for the next wave")
    p.add_argument("--contacts", default=str(config.RAW_DIR / "contact_master.csv"))
    p.add_argument("--out-dir", default=str(config.REPORTS_DIR / "lists" / "deployment"))
    p.add_argument("--rate", action="append", help="REGION=SHARE, e.g. AMER=0.3 (repeatable)")
    p.add_argument("--default-rate", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=config.SYNTH_SEED)
    p.add_argument("--as-of", default="", help="reference date YYYY-MM-DD (default today)")
    p.add_argument("--fatigue-days", type=int, default=90)
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser(
        "extract", help="write a de-identified analysis table and its data dictionary"
    )
    p.add_argument("--processed-dir", default=str(config.PROCESSED_DIR))
    p.add_argument("--out", default=str(config.REPORTS_DIR / "extract"), help="output folder")
    p.add_argument(
        "--verbatims", action="store_true", help="include free-text answers (identifiers masked)"
    )
    p.set_defaults(func=_cmd_extract)

    p = sub.add_parser(
        "cases", help="follow-up cases: import the owners' returned CSV, or show the counts"
    )
    p.add_argument("action", choices=["import", "status"], help="import FILE, or status")
    p.add_argument("file", nargs="?", default="", help="the owners' CSV (for import)")
    p.add_argument("--reports-dir", default=str(config.REPORTS_DIR))
    p.set_defaults(func=_cmd_cases)
    return parser


@contextlib.contextmanager
def _exit_on_sigterm() -> Iterator[None]:
    """While the command runs, a SIGTERM (a scheduler's or ``kill``'s stop) ends it as Ctrl-C
    does: as an exception, so that what it started (a build's fork server and its warm-up, the
    pool's workers) is stopped and its temporary folders removed, instead of outliving it. Exit
    code 143 (128 + SIGTERM). The previous handler is restored afterwards; only from the main
    thread (where Python runs signal handlers)."""
    import signal
    import threading

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``csat`` command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        with _exit_on_sigterm():
            return args.func(args)
    except CsatError as exc:
        print(f"csat {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
