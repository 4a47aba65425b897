"""Build the reports: decide which tasks are stale, run them side by side, publish, list them.

:func:`build_reports` fans out, through one :class:`concurrent.futures.Executor`, one task per

- country: ``notebooks/country_report.ipynb`` with parameters ``country``, ``processed_dir``,
  ``min_n``, ``metrics_path`` (and ``wave`` when one is asked for);
- global summary: ``notebooks/global_summary.ipynb`` (parameters ``processed_dir``, ``min_n``,
  ``wave``, ``metrics_path``), once per build, published as ``global``; skipped with a note when
  the notebook does not exist;
- closing-the-loop lists (:func:`csatlib.loop.lists.build_lists`) into ``reports/lists``.

Each notebook runs in a fresh process of its own: by default forked from the build's fork
server and run there without a kernel (:mod:`csatlib.report.direct`, the same IPython shell and
the same outputs), else on the project's own kernel (``csat``, registered inside the virtual
environment); every code cell must run without error; a distribution version (no code) and a
reviewer version (with code) are rendered. All outputs are staged in ``reports/.staging`` and
published with :func:`os.replace`; then ``reports/index.html`` lists every country, its headline
figures and any failure.

Where the rest lives: :mod:`~csatlib.report.stamps` (fingerprints, stamps, freshness),
:mod:`~csatlib.report.execute` (kernels, papermill, the executors),
:mod:`~csatlib.report.render` (nbconvert) and :mod:`~csatlib.report.index` (the index page).

Failures
    One task's failure never stops the others. The failed notebook, as executed, is kept in
    ``reports/failed/<CC>.ipynb``. A failure never publishes anything: a report that built fine
    earlier stays published as it was (the index marks the country failed, with the error, and
    links the previous report), and its build stamp records the failure instead of a fingerprint,
    so the next run retries it. A cell running longer than ``timeout`` seconds fails its notebook
    ("timed out"); a kernel that dies or cannot start is retried once with a fresh kernel, then
    reported ("the kernel failed twice"); an error inside a cell is not retried. An interrupted run
    leaves the published files of each country either all old or all new: the stamp is dropped
    before the first file is replaced and written after the last, so an interrupted publish is
    rebuilt next time.

Incremental
    A task runs only when its inputs changed: the fingerprint of its notebook, the csatlib
    sources, the processed data and the parameters is stored in ``reports/.build/<name>.json``.

Executors
    By default a local process pool (spawned, never forked) whose workers share one fork server
    (:mod:`csatlib.report.kernels`), so every notebook's process starts with pandas & co.
    already imported and the study read. With
    ``scheduler=`` (``csat reports --scheduler ADDRESS``) the tasks run on a Dask distributed
    cluster (optional extra ``dask``), on plain kernels; so does any ``executor=`` given. Workers
    must see the same file system paths (processed data, notebooks, reports, the study's raw
    folder), have csatlib and the ``csat`` kernel's environment installed, and read the build's
    study (``CSAT_RAW_DIR``): a job on a worker that reads another fails, saying so.

Importing this module imports :mod:`csatlib.report.render`, whose one side effect on the process
is that jsonschema, when imported later, skips its "iri" format checkers (2.6 s per process).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import sys
import time
import traceback
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from csatlib import config, roles
from csatlib.errors import CsatError, ReportError
from csatlib.loop.cases import CASES_FILE
from csatlib.loop.rules import load_case_rules
from csatlib.report import stamps
from csatlib.report.cases import store_digest, sync_for_build, unit_digest
from csatlib.report.execute import (
    KERNEL_NAME,
    KernelTrouble,
    _parameters,
    early_fork_server,
    ensure_kernel,
    execute_notebook,
    kernel_ready,
    open_executor,
    validate_executed,
)
from csatlib.report.history import record_reports
from csatlib.report.index import write_index
from csatlib.report.lock import build_lock
from csatlib.report.render import REVIEW_ONLY_TAG, render_html
from csatlib.report.stamps import LISTS_NAME, SUMMARY_NAME
from csatlib.report.steering import write_steering_page

__all__ = [
    "KERNEL_NAME",
    "REVIEW_ONLY_TAG",
    "SUMMARY_NAME",
    "CountryJob",
    "CountryOutcome",
    "BuildResult",
    "build_reports",
    "discover_countries",
    "ensure_kernel",
    "run_country",
    "render_html",
    "validate_executed",
    "write_index",
]

COUNTRY_NOTEBOOK = "country_report.ipynb"
SUMMARY_NOTEBOOK = "global_summary.ipynb"
# The sub-folders of reports/lists written by build_lists (lists/deployment belongs to
# `csat sample` and is never touched here).
_LIST_FOLDERS = ("accounts", "followup", "revenue", "cases", "escalations")
_LISTS_README = "README.txt"
_ISO2_NAME = re.compile(r"^[A-Z]{2}$")

JobKind = Literal["country", "summary"]


# ------------------------------------------------------------------------- jobs and outcomes


@dataclass(frozen=True)
class CountryJob:
    """Everything a worker needs to build one notebook's report (picklable).

    ``country`` is the ISO alpha-2 code, or :data:`SUMMARY_NAME` for the global summary
    (``kind="summary"``). ``build_id`` is unique per build, so that an executor caching results
    by argument (Dask's pure tasks) never hands back an earlier build's outcome.
    """

    country: str
    notebook: Path
    processed_dir: Path
    reports_dir: Path
    min_n: int
    timeout: int
    fingerprint: str
    prewarm: bool = False
    kind: JobKind = "country"
    wave: str = ""
    build_id: str = ""
    dimension: str = "country"  # a report by another dimension: its name ...
    value: str = ""  # ... and the value this report is about (``country`` is the file name)
    within: str = ""  # a cross-cut's outer unit, "country=DE"
    # The study's raw folder where the job is made (the build's process), checked where it runs:
    # a Dask worker's kernels read the CIT codebook, hand codes and aliases from their own.
    raw_dir: Path = field(default_factory=lambda: config.RAW_DIR)


@dataclass(frozen=True)
class _ListsJob:
    processed_dir: Path
    reports_dir: Path
    fingerprint: str
    build_id: str = ""
    wave: str = ""  # the complaints of this wave get callbacks; "" the latest
    # The build's account aliases, as the process making the job sees them (not a worker).
    aliases_path: Path | None = field(default_factory=lambda: _aliases_path())
    # The build's case rules (None: the built-in service levels and no escalation).
    rules_path: Path | None = field(
        default_factory=lambda: config.CASE_RULES if config.CASE_RULES.is_file() else None
    )


@dataclass(frozen=True)
class CountryOutcome:
    """What happened to one task: built, up to date, failed (with the error) or not selected.

    ``country`` is the ISO code, ``"global"`` (global summary) or ``"lists"``.
    """

    country: str
    status: str  # "built" | "up to date" | "failed" | "not selected"
    seconds: float = 0.0
    error: str = ""


def _reports(names: Sequence[str]) -> str:
    """ "2 country reports", "1 country report", or "5 reports" when other slices are among them
    (a report by business unit is no country report)."""
    kind = "country report" if all("--" not in n for n in names) else "report"
    return f"{len(names)} {kind}{'' if len(names) == 1 else 's'}"


def _label(name: str) -> str:
    return {SUMMARY_NAME: "global summary", LISTS_NAME: "lists"}.get(name, name)


@dataclass(frozen=True)
class BuildResult:
    """Outcome of :func:`build_reports`.

    ``outcomes`` holds the selected countries in order; ``summary`` the global summary (None when
    it was not part of the build, see ``notes``); ``lists`` the closing-the-loop lists.
    """

    outcomes: tuple[CountryOutcome, ...]
    seconds: float
    index: Path
    summary: CountryOutcome | None = None
    lists: CountryOutcome | None = None
    notes: tuple[str, ...] = ()

    @property
    def lists_built(self) -> bool:
        """True when the lists were (re)written by this build."""
        return self.lists is not None and self.lists.status == "built"

    @property
    def ok(self) -> bool:
        """True when nothing failed (countries, global summary, lists)."""
        return not self.failed

    @property
    def failed(self) -> list[CountryOutcome]:
        """The failed tasks: countries first, then the global summary and the lists."""
        extra = [o for o in (self.summary, self.lists) if o is not None]
        return [o for o in (*self.outcomes, *extra) if o.status == "failed"]

    def describe(self) -> list[str]:
        """Human-readable summary lines for the command line."""
        built = [o.country for o in self.outcomes if o.status == "built"]
        fresh = [o.country for o in self.outcomes if o.status == "up to date"]
        others_built = [o for o in (self.summary, self.lists) if o and o.status == "built"]
        lines = []
        if built:
            lines.append(f"Built {_reports(built)}: {', '.join(built)}.")
        if fresh and not built and not others_built and not self.failed:
            lines.append(
                f"Nothing changed since the last build: all {_reports(fresh)} are up to date, "
                "nothing was re-run."
            )
        elif fresh:
            lines.append(f"Up to date (not re-run): {', '.join(fresh)}.")
        if self.summary is not None and self.summary.status != "failed":
            lines.append(
                f"Global summary ({self.summary.status}): {self.index.parent / 'html'}/"
                f"{SUMMARY_NAME}.html"
            )
        lines.extend(self.notes)
        for o in self.failed:
            first = o.error.strip().splitlines()[0] if o.error.strip() else ""
            lines.append(f"FAILED {_label(o.country)}: {first}")
            if (self.index.parent / "failed" / f"{o.country}.ipynb").exists():
                lines.append(
                    f"  executed notebook kept for debugging: {self.index.parent / 'failed'}"
                    f"/{o.country}.ipynb"
                )
        if self.lists_built:
            lines.append(f"Lists (at-risk accounts, follow-ups): {self.index.parent / 'lists'}")
        lines.append(f"Index: {self.index} ({self.seconds:.1f} s)")
        if self.failed:
            lines.append(
                f"{len(self.failed)} failed: " + ", ".join(_label(o.country) for o in self.failed)
            )
        return lines


def discover_countries(processed_dir: Path) -> list[str]:
    """Return the sorted ISO alpha-2 codes of every country with own-brand responses."""
    import pyarrow.parquet as pq

    path = Path(processed_dir) / "responses.parquet"
    if not path.exists():
        others = sorted(p.name for p in Path(processed_dir).glob("*.parquet"))
        if others:  # cleaned, but without a relationship survey
            raise ReportError(
                f"{processed_dir} holds {', '.join(others)} but no relationship survey "
                "(responses.parquet): the reports compare the survey's countries, so they need "
                "one; give the raw folder the survey's export and its codebook (kind: responses) "
                "and run `csat data` again"
            )
        raise ReportError(
            f"expected processed responses at {path}, found no file: run `make data` first"
        )
    names = set(pq.read_schema(path).names)
    columns = ["country", "competitor"] if "competitor" in names else ["country"]
    table = pq.read_table(path, columns=columns).to_pandas()
    own = roles.own_customers(table)["country"].dropna()
    return sorted({str(c) for c in own})


def _kept_rows(processed_dir: Path) -> str:
    """How many rows ``csat data`` kept of how many, from the folder's cleaning summary."""
    from csatlib.ingest.clean import load_cleaning_summary

    try:
        sources = load_cleaning_summary(processed_dir)
        kept = sum(int(s["kept"]) for s in sources["sources"])
        raw = sum(int(s["raw_rows"]) for s in sources["sources"])
    except (OSError, ValueError, KeyError, TypeError):
        return "no cleaning summary"
    return f"csat data kept {kept:,} of {raw:,} rows"


#: A report by another dimension than the country is published as ``<dimension>--<slug>``.
_SLICE_NAME = re.compile(r"^(?P<dimension>[a-z][a-z0-9_]*)--(?P<slug>[a-z0-9-]+)$")


def slice_name(dimension: str, value: str) -> str:
    """The file name of a report by ``dimension`` ("segment--enterprise" for "Enterprise"):
    lower-case letters, digits and hyphens, distinct from the ISO codes of country reports.

    Latin letters lose their accents ("Réseaux Télécom" is ``reseaux-telecom``, "Straße"
    ``strasse``); a value with letters or digits of another script ("東京 営業"), or with none
    at all, ends with eight hexadecimal digits of its SHA-1, so that two such values get two
    names (the slug of its Latin letters first, where it has any)."""
    text = unicodedata.normalize("NFKD", str(value).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if not slug or any(c.isalnum() and not re.match(r"[a-z0-9]", c) for c in text):
        digest = hashlib.sha1(str(value).encode("utf-8"), usedforsecurity=False).hexdigest()[:8]
        slug = f"{slug}-{digest}" if slug else digest
    return f"{dimension}--{slug}"


def discover_slices(processed_dir: Path, dimension: str) -> dict[str, str]:
    """File name -> value of every report by ``dimension`` the processed study allows.

    Raises
    ------
    ReportError
        When the study has no such dimension, or two values would share one file name.
    """
    from csatlib.errors import DataError
    from csatlib.report.context import load_responses, slice_values

    try:
        values = slice_values(load_responses(processed_dir), dimension, processed_dir)
    except DataError as exc:
        raise ReportError(str(exc)) from exc
    names: dict[str, str] = {}
    for value in values:
        name = slice_name(dimension, value)
        if name in names:
            raise ReportError(
                f"report dimension {dimension!r}: values {names[name]!r} and {value!r} would "
                f"both be published as {name}.html; rename one in the data"
            )
        names[name] = value
    return names


# ------------------------------------------------------------------------------ the build


def build_reports(
    countries: Sequence[str] | None = None,
    *,
    processed_dir: Path = config.PROCESSED_DIR,
    reports_dir: Path = config.REPORTS_DIR,
    notebook: Path | None = None,
    summary: bool = True,
    summary_notebook: Path | None = None,
    wave: str = "",
    min_n: int = config.DEFAULT_MIN_N,
    jobs: int | None = None,
    force: bool = False,
    timeout: int = 600,
    scheduler: str | None = None,
    executor: Executor | None = None,
    progress: bool = True,
    by: Sequence[str] = ("country",),
) -> BuildResult:
    """Build the country reports, the global summary and the lists (only what changed); index.

    Parameters
    ----------
    countries
        ISO alpha-2 codes to build; default every country with own-brand responses. The index
        lists every country either way (the others with their last published report).
    processed_dir, reports_dir
        Input and output folders.
    notebook
        The country notebook (default ``notebooks/country_report.ipynb``).
    summary
        Build the global summary too (once per build, whatever ``countries`` says).
    summary_notebook
        The global summary notebook (default ``notebooks/global_summary.ipynb``); when the file
        does not exist the summary is skipped with a note.
    wave
        Survey wave such as ``"2026-Q3"``; empty means each notebook's default, the latest wave.
    min_n
        Small-cell minimum passed to the notebooks.
    jobs
        Parallel workers of the default process pool (default: number of cores).
    force
        Rebuild even when the fingerprints are unchanged.
    timeout
        Seconds allowed per notebook cell; a cell running longer fails its notebook.
    scheduler
        Address of a Dask distributed scheduler to run on instead of the local pool.
    executor
        Any :class:`concurrent.futures.Executor` (overrides ``jobs`` and ``scheduler``); it is
        not shut down. Kernels are plain (not pre-warmed) on any executor but the default pool.
    progress
        Show a progress bar (tasks done / total) on stderr.
    by
        What to build one report per value of: ``"country"`` (the default) and/or any other
        dimension of the study (``"segment"``, ``"business_unit"``, ...: see
        :func:`csatlib.report.context.slice_dimensions`), each with the same notebook,
        published as ``<dimension>--<value>`` (:func:`slice_name`). ``countries`` selects
        among the country reports only.

    Returns
    -------
    BuildResult
        Outcomes, elapsed seconds and the index path. Failures do not raise: one task's failure
        never stops the others; check ``result.ok`` (``csat reports`` exits with 1).

    Raises
    ------
    ReportError
        Another build holds the reports folder's lock (:func:`csatlib.report.lock.build_lock`).
    CaseRulesError
        The study's ``case_rules.yaml`` is malformed (before anything is built).

    Notes
    -----
    Before the reports run, the follow-up cases are synced into ``<reports_dir>/cases.sqlite``
    (:func:`csatlib.report.cases.sync_for_build`), so that every report and list of the build
    counts the same cases.
    """
    with build_lock(Path(reports_dir)):
        return _build_reports(
            countries,
            processed_dir=processed_dir,
            reports_dir=reports_dir,
            notebook=notebook,
            summary=summary,
            summary_notebook=summary_notebook,
            wave=wave,
            min_n=min_n,
            jobs=jobs,
            force=force,
            timeout=timeout,
            scheduler=scheduler,
            executor=executor,
            progress=progress,
            by=by,
        )


def _build_reports(
    countries: Sequence[str] | None,
    *,
    processed_dir: Path,
    reports_dir: Path,
    notebook: Path | None,
    summary: bool,
    summary_notebook: Path | None,
    wave: str,
    min_n: int,
    jobs: int | None,
    force: bool,
    timeout: int,
    scheduler: str | None,
    executor: Executor | None,
    progress: bool,
    by: Sequence[str],
) -> BuildResult:
    """:func:`build_reports` under the build lock."""
    _check_whole_number("timeout", timeout)
    if jobs is not None:
        _check_whole_number("jobs", jobs)
    processed_dir = Path(processed_dir).resolve()
    reports_dir = Path(reports_dir).resolve()
    notebook = Path(notebook or config.NOTEBOOKS_DIR / COUNTRY_NOTEBOOK).resolve()
    summary_nb = Path(summary_notebook or config.NOTEBOOKS_DIR / SUMMARY_NOTEBOOK).resolve()
    start = time.perf_counter()
    by = _check_by(by)
    available = discover_countries(processed_dir)
    if not available:
        raise ReportError(
            f"{processed_dir / 'responses.parquet'} has no own-brand responses with a country "
            f"to report ({_kept_rows(processed_dir)}): see why each row was excluded in "
            f"{processed_dir / 'cleaning_log.csv'}"
        )
    selected = _selected(countries, available, processed_dir) if "country" in by else []
    slices, skipped = _all_slices(processed_dir, by, min_n)
    with early_fork_server(
        processed_dir,
        _build_slices(selected, slices),
        local=executor is None and not scheduler,
    ) as server:  # warms up while the cases sync and the plan is made
        case_note = sync_for_build(
            processed_dir, reports_dir, wave=wave, aliases_path=_aliases_path()
        )
        plan = _plan(
            selected,
            slices=slices,
            notebook=notebook,
            summary_notebook=summary_nb if summary else None,
            processed_dir=processed_dir,
            reports_dir=reports_dir,
            params={"min_n": min_n, "timeout": timeout, "wave": wave},
            force=force,
        )
        outcomes = {
            **plan.outcomes,
            **_run_plan(plan, server, executor, jobs, scheduler, processed_dir, progress),
        }
        warm_notes = _warm_up_notes(server)
    shutil.rmtree(reports_dir / ".staging", ignore_errors=True)
    notes = [*plan.notes, *warm_notes, *_remove_stale_reports(reports_dir, available, slices, by)]
    notes += [case_note] if case_note else []
    notes += _unbuilt_notes(processed_dir, slices, skipped, by, min_n)
    listed = [outcomes.get(c) or _earlier_outcome(reports_dir, c) for c in available]
    groups = _slice_groups(reports_dir, processed_dir, outcomes, slices)
    summary_outcome = outcomes.get(SUMMARY_NAME)
    lists_outcome = outcomes[LISTS_NAME]
    index = write_index(
        reports_dir,
        listed,
        seconds=time.perf_counter() - start,
        summary=summary_outcome,
        lists=lists_outcome,
        groups=groups,
        processed_dir=processed_dir,
    )
    write_steering_page(reports_dir, labels=_labels(processed_dir), processed_dir=processed_dir)
    # The history keeps every wave of the reports this build made (a failed one records nothing).
    units = {**{c: ("country", c, "") for c in selected}, SUMMARY_NAME: ("study", "", ""), **slices}
    built = {n: u for n, u in units.items() if n in outcomes and outcomes[n].status == "built"}
    record_reports(reports_dir, built, build_id=next((j.build_id for j in plan.notebook_jobs), ""))
    return BuildResult(
        tuple(outcomes[c] for c in [*selected, *slices]),
        time.perf_counter() - start,
        index,
        summary=summary_outcome,
        lists=lists_outcome,
        notes=tuple(notes),
    )


def _warm_up_notes(server: Any) -> list[str]:
    """A note per thing the kernel fork server could not import or warm up (its reports were
    built all the same, each kernel loading what it needs): a broken table or codebook is
    said, not only felt as a slower build."""
    problems = server.problems() if server is not None and hasattr(server, "problems") else []
    return [
        f"Kernel warm-up: {problem}; the reports were built without it (slower, not different)."
        for problem in problems
    ]


def _run_plan(
    plan: _Plan,
    server: Any,
    executor: Executor | None,
    jobs: int | None,
    scheduler: str | None,
    processed_dir: Path,
    progress: bool,
) -> dict[str, CountryOutcome]:
    """Run the plan's notebooks and lists (:func:`csatlib.report.execute.open_executor`, on the
    fork ``server`` started early, closed at once when no notebook is to run): name -> outcome."""
    outcomes: dict[str, CountryOutcome] = {}
    if server is not None and not plan.notebook_jobs:
        server.close(now=True)  # nothing to run: its warm-up is not needed
    if not (plan.notebook_jobs or plan.lists_job):
        return outcomes
    if plan.notebook_jobs:
        kernel_ready()
    with open_executor(
        executor,
        jobs,
        scheduler,
        tasks=len(plan.notebook_jobs) + bool(plan.lists_job),
        notebooks=len(plan.notebook_jobs),
        processed_dir=processed_dir,
        slices=_warm_slices(plan.notebook_jobs),
        server=server,
    ) as (pool, prewarm):
        for outcome in _run_all(pool, plan.tasks(prewarm=prewarm), progress=progress):
            outcomes[outcome.country] = outcome
    return outcomes


def _all_slices(
    processed_dir: Path, by: Sequence[str], min_n: int
) -> tuple[dict[str, tuple[str, str, str]], list[str]]:
    """The reports by other dimensions than the country (name -> (dimension, value, within)),
    cross-cuts included, and the cross-cuts not built for a cell below ``min_n``."""
    slices = {
        name: (dimension, value, "")
        for dimension in by
        if dimension != "country" and "/" not in dimension
        for name, value in discover_slices(processed_dir, dimension).items()
    }
    skipped: list[str] = []
    for spec in (d for d in by if "/" in d):
        found, too_small = discover_cross_cuts(processed_dir, spec, min_n=min_n)
        slices.update(found)
        skipped += too_small
    return slices, skipped


def _unbuilt_notes(
    processed_dir: Path,
    slices: Mapping[str, tuple[str, str, str]],
    skipped: Sequence[str],
    by: Sequence[str],
    min_n: int,
) -> list[str]:
    """The build's notes on reports it did not make: cross-cuts with a cell below ``min_n``,
    business units of the mapping without respondents."""
    notes = []
    if skipped:
        notes.append(
            f"Not built, a cell below the minimum of {min_n} (the unit's and the outer unit's "
            f"own reports have these respondents): {', '.join(skipped)}"
        )
    if "business_unit" in by and (silent := _units_without_respondents(processed_dir, slices)):
        notes.append(
            "Business units of the organisation mapping without an own-brand respondent, so "
            f"without a report: {', '.join(silent)}"
        )
    return notes


def _units_without_respondents(
    processed_dir: Path, slices: Mapping[str, tuple[str, str, str]]
) -> list[str]:
    """The mapping's business units (label and code) that no report by business unit is."""
    from csatlib.ingest.organisation import read_organisation

    organisation = read_organisation(processed_dir)
    if organisation is None:
        return []
    reported = {value for dimension, value, _ in slices.values() if dimension == "business_unit"}
    return [
        f"{label} ({code})"
        for code, label in organisation.business_units.items()
        if code not in reported and label not in reported
    ]


def _build_slices(
    selected: Sequence[str], slices: Mapping[str, tuple[str, str, str]]
) -> tuple[tuple[str, str], ...]:
    """The (dimension, within) of every report a build may run (the country reports when any
    country is selected, and each other slice's), for the warm-up of a fork server started
    before the build's plan (:func:`csatlib.report.execute.early_fork_server`)."""
    found = [("country", "")] if selected else []
    return tuple(dict.fromkeys([*found, *((d, w) for d, _, w in slices.values())]))


def _warm_slices(jobs: Sequence[CountryJob]) -> tuple[tuple[str, str], ...]:
    """The (dimension, within) of the reports to build, for the kernel fork server's warm-up
    (:func:`csatlib.report.context.warm_up`)."""
    return tuple(dict.fromkeys((j.dimension, j.within) for j in jobs if j.kind == "country"))


def _check_whole_number(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ReportError(f"{name} must be a whole number of at least 1, found {value!r}")


def _check_by(by: Sequence[str] | str) -> tuple[str, ...]:
    """The dimensions to build reports by, in order, without repeats (a string is split on
    commas: ``"country,business_unit"``)."""
    items = by.split(",") if isinstance(by, str) else list(by)
    out = tuple(dict.fromkeys(str(d).strip() for d in items if str(d).strip()))
    bad = [d for d in out if not re.fullmatch(r"[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*)?", d)]
    if not out or bad:
        raise ReportError(
            "by: expected dimension names such as 'country' or 'business_unit', or a cross-cut "
            f"'business_unit/country' (business units within each country), found {by!r}"
        )
    return out


def _slice_groups(
    reports_dir: Path,
    processed_dir: Path,
    outcomes: Mapping[str, CountryOutcome],
    slices: Mapping[str, tuple[str, str, str]],
) -> dict[str, list[tuple[CountryOutcome, str]]]:
    """Reports by other dimensions for the index: dimension -> (outcome, label) in label order;
    those of this build, and those an earlier build published for dimensions not built now."""
    from csatlib.report.context import unit_label

    def label(dimension: str, value: str, within: str) -> str:
        name = unit_label(dimension, value, processed_dir)
        return f"{name} in {unit_label(*within.split('=', 1), processed_dir)}" if within else name

    groups: dict[str, list[tuple[CountryOutcome, str]]] = {}
    for name, (dimension, value, within) in slices.items():
        key = _group_key(dimension, within)
        groups.setdefault(key, []).append((outcomes[name], label(dimension, value, within)))
    built = set(groups)
    for name in stamps.stamped_names(reports_dir):
        found = _SLICE_NAME.match(name)
        if found is None or name in slices or found["dimension"] in built:
            continue
        stamp = stamps.read_stamp(reports_dir, name)
        shown = (
            label(stamp["dimension"], str(stamp["value"]), str(stamp.get("within", "")))
            if stamp.get("dimension") and stamp.get("value")
            else found["slug"]
        )
        groups.setdefault(found["dimension"], []).append(
            (_earlier_outcome(reports_dir, name), shown)
        )
    return {key: sorted(rows, key=lambda r: r[1]) for key, rows in sorted(groups.items())}


def _group_key(dimension: str, within: str = "") -> str:
    """The index group (and file-name prefix) of a report: ``business_unit``, or for a
    cross-cut ``business_unit_in_country``."""
    return f"{dimension}_in_{within.split('=', 1)[0]}" if within else dimension


def _report_title(job: CountryJob) -> str:
    """The HTML page's title: "CSAT report Germany (DE)", "CSAT report Networking in Germany"
    (a unit's name from the organisation mapping, not its code), "CSAT global summary"."""
    from csatlib.report.context import unit_label

    if job.kind == "summary":
        return "CSAT global summary"
    if job.dimension == "country":
        return f"CSAT report {unit_label('country', job.country)} ({job.country})"
    name = unit_label(job.dimension, job.value, job.processed_dir)
    if job.within:
        outer, _, value = job.within.partition("=")
        name += f" in {unit_label(outer, value, job.processed_dir)}"
    return f"CSAT report {name}"


def cross_cut_name(dimension: str, value: str, within: str, within_value: str) -> str:
    """File name of a cross-cut: "business_unit_in_country--compute--de"."""
    inner = slice_name(dimension, value).split("--", 1)[1]
    outer = slice_name(within, within_value).split("--", 1)[1]
    return f"{dimension}_in_{within}--{inner}--{outer}"


def discover_cross_cuts(
    processed_dir: Path, spec: str, *, min_n: int
) -> tuple[dict[str, tuple[str, str, str]], list[str]]:
    """The cross-cuts of ``spec`` ("business_unit/country": each unit within each country)
    that can be reported, and those that cannot.

    A cross-cut is built only where every cell its report shows meets the small-cell minimum:
    in the latest wave, the recommend question and every rated attribute have at least
    ``min_n`` own-brand answers, and so do the other units of the same outer unit it is
    compared with (pooled, as the report compares them). A cross-cut below that is named in
    the build's notes, not built (its figures are in the unit's and the outer unit's own
    reports).

    Returns
    -------
    tuple
        File name -> (dimension, value, ``"<within>=<value>"``), and the names left out.
    """
    from csatlib.report.context import (
        check_dimension,
        load_responses,
        slice_responses,
        slice_values,
        with_business_units,
        with_competitor,
        within_rows,
    )

    dimension, within = spec.split("/", 1)
    responses = load_responses(processed_dir)
    check_dimension(responses, dimension, processed_dir)
    # a dimension from the organisation mapping is matched to the accounts once, not once per
    # outer unit (the match is row by row, so the outer unit's rows of it are the same)
    expanded = with_business_units(responses, dimension, processed_dir)
    found: dict[str, tuple[str, str, str]] = {}
    left_out: list[str] = []
    for outer in slice_values(responses, within, processed_dir):
        where = f"{within}={outer}"
        rows = within_rows(expanded, where, processed_dir)
        sliced = roles.own_customers(
            with_competitor(slice_responses(rows, dimension, processed_dir))
        )
        latest = str(roles.wave_order(sliced["wave"])[-1]) if len(sliced) else ""
        now = sliced.loc[sliced["wave"].astype(str) == latest]
        rated = [roles.nps_column(responses), *roles.names(responses, "attribute")]
        counts = now.groupby("country", observed=True)[rated].count()
        for value in counts.index:
            name = cross_cut_name(dimension, str(value), within, outer)
            rest = counts.drop(index=value).sum()  # the others, pooled, as the report shows them
            if counts.loc[value].min() >= min_n and len(counts) > 1 and rest.min() >= min_n:
                found[name] = (dimension, str(value), where)
            else:
                left_out.append(name)
    return found, left_out


def _selected(
    countries: Sequence[str] | None, available: Sequence[str], processed_dir: Path
) -> list[str]:
    """The countries to build, in the order asked, without repeats; every one by default."""
    if not countries:
        return list(available)
    unknown = sorted(set(countries) - set(available))
    if unknown:
        raise ReportError(
            f"countries {unknown} have no responses in {processed_dir / 'responses.parquet'}; "
            f"available: {', '.join(available)}"
        )
    return list(dict.fromkeys(countries))


_Task = tuple[str, Callable[[Any], CountryOutcome], Any]


@dataclass
class _Plan:
    """What a build runs (jobs) and what it need not (outcomes of the tasks up to date)."""

    notebook_jobs: list[CountryJob] = field(default_factory=list)
    lists_job: _ListsJob | None = None
    outcomes: dict[str, CountryOutcome] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def tasks(self, *, prewarm: bool) -> list[_Task]:
        """The tasks in the order they are submitted, ``prewarm`` telling how kernels start.

        The global summary covers every country, so it is likely the longest: first in line.
        The lists take a few seconds: second, beside the notebooks. Then the countries.
        """
        tasks: list[_Task] = [
            (job.country, run_country, dataclasses.replace(job, prewarm=prewarm))
            for job in self.notebook_jobs
        ]
        if self.lists_job is not None:
            tasks.insert(min(1, len(tasks)), (LISTS_NAME, _run_lists, self.lists_job))
        return tasks


def _plan(
    selected: Sequence[str],
    *,
    slices: Mapping[str, tuple[str, str, str]],
    notebook: Path,
    summary_notebook: Path | None,
    processed_dir: Path,
    reports_dir: Path,
    params: dict[str, Any],
    force: bool,
) -> _Plan:
    """Compare each task's fingerprint with its stamp: a job for each stale task.

    ``summary_notebook`` is None when the global summary is not asked for.
    """
    plan = _Plan()
    build_id = uuid.uuid4().hex
    wave, min_n, timeout = params["wave"], params["min_n"], params["timeout"]
    _plan_summary(plan, summary_notebook, processed_dir, reports_dir, params, build_id, force)
    inputs = [notebook, *_raw_inputs()]
    for country in selected:
        country_print = stamps.input_fingerprint(
            inputs, processed_dir, {**params, "cases": unit_digest(reports_dir, "country", country)}
        )
        if not force and stamps.is_fresh(reports_dir, country, country_print):
            plan.outcomes[country] = CountryOutcome(country, "up to date")
        else:
            plan.notebook_jobs.append(
                CountryJob(
                    country,
                    notebook,
                    processed_dir,
                    reports_dir,
                    min_n,
                    timeout,
                    country_print,
                    wave=wave,
                    build_id=build_id,
                )
            )
    for name, (dimension, value, within) in slices.items():
        slice_print = stamps.input_fingerprint(
            inputs,
            processed_dir,
            {
                **params,
                "dimension": dimension,
                "value": value,
                "within": within,
                "cases": _slice_cases(reports_dir, processed_dir, dimension, value),
            },
        )
        if not force and stamps.is_fresh(reports_dir, name, slice_print):
            plan.outcomes[name] = CountryOutcome(name, "up to date")
            continue
        plan.notebook_jobs.append(
            CountryJob(
                name,
                notebook,
                processed_dir,
                reports_dir,
                min_n,
                timeout,
                slice_print,
                wave=wave,
                build_id=build_id,
                dimension=dimension,
                value=value,
                within=within,
            )
        )
    _plan_lists(plan, processed_dir, reports_dir, wave=wave, build_id=build_id, force=force)
    return plan


def _plan_summary(
    plan: _Plan,
    summary_notebook: Path | None,
    processed_dir: Path,
    reports_dir: Path,
    params: dict[str, Any],
    build_id: str,
    force: bool,
) -> None:
    """The global summary's job, unless it is up to date (or not asked for: None)."""
    wave, min_n, timeout = params["wave"], params["min_n"], params["timeout"]
    if summary_notebook is not None and summary_notebook.exists():
        summary_print = stamps.input_fingerprint(
            [summary_notebook], processed_dir, {**params, "kind": "summary"}
        )
        # The global summary's metrics file is optional; a country's is what the index reads.
        if not force and stamps.is_fresh(
            reports_dir, SUMMARY_NAME, summary_print, metrics_required=False
        ):
            plan.outcomes[SUMMARY_NAME] = CountryOutcome(SUMMARY_NAME, "up to date")
        else:
            plan.notebook_jobs.append(
                CountryJob(
                    SUMMARY_NAME,
                    summary_notebook,
                    processed_dir,
                    reports_dir,
                    min_n,
                    timeout,
                    summary_print,
                    kind="summary",
                    wave=wave,
                    build_id=build_id,
                )
            )
    elif summary_notebook is not None:
        plan.notes.append(f"Global summary skipped: {summary_notebook} does not exist yet.")


def _plan_lists(
    plan: _Plan, processed_dir: Path, reports_dir: Path, *, wave: str, build_id: str, force: bool
) -> None:
    """The lists' job, unless their inputs (the case store's standing included) are unchanged."""
    lists_print = stamps.input_fingerprint(
        [config.ACCOUNT_ALIASES, config.CASE_RULES],
        processed_dir,
        {"kind": LISTS_NAME, "wave": wave, "cases": store_digest(reports_dir)},
    )
    if not force and stamps.read_stamp(reports_dir, LISTS_NAME).get("fingerprint") == lists_print:
        plan.outcomes[LISTS_NAME] = CountryOutcome(LISTS_NAME, "up to date")
    else:
        plan.lists_job = _ListsJob(processed_dir, reports_dir, lists_print, build_id, wave)


def _run_all(pool: Executor, tasks: Sequence[_Task], *, progress: bool) -> Iterable[CountryOutcome]:
    from tqdm import tqdm

    # Everything is submitted up front, so the executor runs countries, the global summary and
    # the lists side by side.
    futures: dict[Future[CountryOutcome], str] = {
        pool.submit(fn, arg): name for name, fn, arg in tasks
    }
    with tqdm(
        total=len(tasks), desc="reports", unit="task", file=sys.stderr, disable=not progress
    ) as bar:
        for future in as_completed(futures):
            name = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker process died; the others go on
                hint = (
                    " (out of memory? From a script, the spawned workers need the call under "
                    '`if __name__ == "__main__":`)'
                    if isinstance(exc, BrokenProcessPool)
                    else ""
                )
                outcome = CountryOutcome(
                    name,
                    "failed",
                    0.0,
                    f"the worker process running it died, nothing was published{hint}: {exc!r}",
                )
            bar.update(1)
            yield outcome


def _remove_stale_reports(
    reports_dir: Path,
    countries: Sequence[str],
    slices: Mapping[str, tuple[str, str, str]] | None = None,
    by: Sequence[str] = ("country",),
) -> list[str]:
    """Remove the published reports of countries (and values of the dimensions built now)
    the study no longer has.

    After a switch of study (``make reports RAW_DIR=...``), the earlier study's countries would
    otherwise stay in reports/html, openable though listed nowhere. Only files this build
    publishes for a report (its two pages, notebook, metrics, stamp and failed notebook) go.
    Reports by a dimension this build does not build stay as they are.
    """
    keep = set(countries) | set(slices or {})
    gone = []
    for name in stamps.stamped_names(reports_dir):
        found = _SLICE_NAME.match(name)
        built = {d.replace("/", "_in_") for d in by}
        ours = _ISO2_NAME.match(name) or (found is not None and found["dimension"] in built)
        if not ours or name in keep:
            continue
        for path in (
            *stamps.published_paths(reports_dir, name).values(),
            reports_dir / "failed" / f"{name}.ipynb",
        ):
            path.unlink(missing_ok=True)
        stamps.drop_stamp(reports_dir, name)
        gone.append(name)
    if not gone:
        return []
    return [f"Removed the reports of {', '.join(gone)}: no longer in the processed data."]


def _earlier_outcome(reports_dir: Path, country: str) -> CountryOutcome:
    """A country outside this build's selection, as its stamp left it."""
    stamp = stamps.read_stamp(reports_dir, country)
    if stamp.get("status") == "failed":
        at = stamp.get("at", "an earlier build")
        return CountryOutcome(country, "failed", 0.0, f"(in the build of {at}) {stamp['error']}")
    return CountryOutcome(country, "not selected")


# --------------------------------------------------------------- the tasks (run in the pool)


def run_country(job: CountryJob) -> CountryOutcome:
    """Build one notebook's report (a country or the global summary); never raises.

    The error travels in the outcome. A kernel that dies or cannot start is retried once with a
    fresh kernel; an error inside a notebook cell, or a cell timeout, is not retried.
    """
    start = time.perf_counter()
    try:
        _check_study(job)
        try:
            _build_once(job)
        except KernelTrouble:
            _build_once(job)  # one retry with a fresh kernel
        (job.reports_dir / "failed" / f"{job.country}.ipynb").unlink(missing_ok=True)
        return CountryOutcome(job.country, "built", time.perf_counter() - start)
    except Exception as exc:
        if isinstance(exc, KernelTrouble):
            message = f"the kernel failed twice: {exc}"
        elif isinstance(exc, CsatError):
            message = str(exc)
        else:  # a bug in the build itself (rendering, file system): keep the whole story
            message = traceback.format_exc()
        stamps.record_failure(job.reports_dir, job.country, message)
        return CountryOutcome(job.country, "failed", time.perf_counter() - start, message)


def _check_study(job: CountryJob) -> None:
    """Raise unless the kernels started here read the build's study (``job.raw_dir``).

    A kernel takes the study's CIT codebook, hand codes and account aliases from the raw folder
    its environment names (``CSAT_RAW_DIR``, inherited from this process). A Dask worker started
    without the build's would otherwise build the report from another study's files, silently.
    """
    here = config.raw_dir().resolve()
    if here != Path(job.raw_dir).resolve():
        raise ReportError(
            f"this worker reads the study in {here}, not the build's {job.raw_dir} (its kernels "
            "would take the CIT codebook, hand codes and account aliases from there): start "
            f"the Dask workers with CSAT_RAW_DIR={job.raw_dir}"
        )


def _publish_parameters(nb: Any, parameters: dict[str, Any]) -> bool:
    """Show papermill's injected parameters as published: no staging path of the build, paths
    in the project relative to it (:func:`csatlib.report.provenance.public_parameters`).
    Returns True when a cell changed."""
    from csatlib.report.provenance import public_parameters

    public = public_parameters(parameters)
    changed = False
    for cell in nb.cells:
        if "injected-parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        source = cell.source
        for key, value in parameters.items():
            if isinstance(value, str) and value and value != public[key]:
                source = source.replace(value, str(public[key]))
        changed |= source != cell.source
        cell.source = source
    papermill = nb.get("metadata", {}).get("papermill")
    if papermill:  # papermill's own record of the run, also published with the notebook
        papermill["parameters"] = {**papermill.get("parameters", {}), **public}
        if papermill.get("output_path"):
            papermill["output_path"] = f"reports/notebooks/{Path(papermill['output_path']).name}"
        if papermill.get("input_path"):
            papermill["input_path"] = public_parameters({"p": papermill["input_path"]})["p"]
        changed = True
    return changed


def _build_once(job: CountryJob) -> None:
    """Run, check and render the job's notebook in a staging folder; publish it if all went well.

    A notebook that ran (even half-way) is kept in ``reports/failed`` when anything fails.
    """
    import nbformat

    stage = job.reports_dir / ".staging" / f"{job.country}-{uuid.uuid4().hex[:8]}"
    stage.mkdir(parents=True, exist_ok=True)
    staged = {  # in the order they are published
        "notebook": stage / f"{job.country}.ipynb",
        "html": stage / "html.html",
        "review": stage / "review.html",
        "metrics": stage / f"{job.country}.json",
    }
    try:
        try:
            execute_notebook(job, staged["notebook"], staged["metrics"])
            nb = nbformat.read(staged["notebook"], as_version=4)
            validate_executed(nb, name="the executed notebook")
            if _publish_parameters(nb, _parameters(job, staged["metrics"])):
                nbformat.write(nb, staged["notebook"])
            if job.kind == "country" and not staged["metrics"].exists():
                raise ReportError(
                    "the notebook wrote no metrics file "
                    f"(parameter metrics_path={staged['metrics']})"
                )
            title = _report_title(job)
            staged["html"].write_text(render_html(nb, with_code=False, title=title), "utf-8")
            staged["review"].write_text(render_html(nb, with_code=True, title=title), "utf-8")
        except BaseException:
            if staged["notebook"].exists():  # papermill writes it even when a cell failed
                failed = job.reports_dir / "failed" / f"{job.country}.ipynb"
                failed.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(staged["notebook"], failed)
            raise
        about = {"dimension": job.dimension, "value": job.value} if job.value else {}
        _publish(job.reports_dir, job.country, staged, job.fingerprint, about)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _publish(
    reports_dir: Path,
    name: str,
    staged: Mapping[str, Path],
    fingerprint: str,
    about: Mapping[str, str] | None = None,
) -> None:
    """Move everything staged into place. The stamp goes first and comes back last, so that a
    publish interrupted half-way is rebuilt by the next run; ``about`` (a report by another
    dimension: its dimension and value) is kept in the stamp for the index."""
    published = stamps.published_paths(reports_dir, name)
    stamps.drop_stamp(reports_dir, name)
    for key, src in staged.items():
        if not src.exists():  # only the global summary's optional metrics
            published[key].unlink(missing_ok=True)
            continue
        published[key].parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, published[key])
    stamps.write_stamp(reports_dir, name, fingerprint, about)


def _raw_inputs() -> list[Path]:
    """The study's files a report reads besides the processed tables: the CIT codebook, the
    hand codes, the account aliases, the targets, the action plans, the case rules and the
    invitations (a change to one rebuilds the reports)."""
    return [
        config.CIT_CODEBOOK,
        config.CIT_HAND_CODES,
        config.ACCOUNT_ALIASES,
        config.TARGETS,
        config.ACTIONS,
        config.CASE_RULES,
        config.INVITATIONS,
    ]


def _labels(processed_dir: Path) -> dict[str, str]:
    """The codebook's labels of the study's columns (names for the steering page)."""
    from csatlib.ingest.clean import load_processed

    return dict(load_processed("responses", processed_dir).attrs.get("labels", {}))


def _slice_cases(reports_dir: Path, processed_dir: Path, dimension: str, value: str) -> str:
    """The digest of a slice's cases (business units only: other dimensions have none)."""
    if dimension != "business_unit":
        return ""
    from csatlib.report.context import unit_label

    label = unit_label(dimension, value, processed_dir)
    return unit_digest(reports_dir, dimension, value, label=label)


def _aliases_path() -> Path | None:
    return config.ACCOUNT_ALIASES if config.ACCOUNT_ALIASES.is_file() else None


def _run_lists(job: _ListsJob) -> CountryOutcome:
    """Pool task: build the lists in a staging folder, then swap each sub-folder into place."""
    start = time.perf_counter()
    reports_dir = job.reports_dir
    stage = reports_dir / ".staging" / f"{LISTS_NAME}-{uuid.uuid4().hex[:8]}"
    try:
        from csatlib.loop.lists import build_lists

        build_lists(
            job.processed_dir,
            stage / "new",
            aliases_path=job.aliases_path,
            wave=job.wave,
            cases_path=reports_dir / CASES_FILE,
            rules=load_case_rules(job.rules_path) if job.rules_path else None,
        )
        stamps.drop_stamp(reports_dir, LISTS_NAME)
        target = reports_dir / "lists"
        target.mkdir(parents=True, exist_ok=True)
        for name in (*_LIST_FOLDERS, _LISTS_README):
            new = stage / "new" / name
            if (target / name).exists():  # a list the study no longer has goes too
                os.replace(target / name, stage / f"old-{name}")
            if new.exists():
                os.replace(new, target / name)
        stamps.write_stamp(reports_dir, LISTS_NAME, job.fingerprint)
        return CountryOutcome(LISTS_NAME, "built", time.perf_counter() - start)
    except Exception as exc:
        message = str(exc) if isinstance(exc, CsatError) else traceback.format_exc()
        stamps.record_failure(reports_dir, LISTS_NAME, message)
        return CountryOutcome(LISTS_NAME, "failed", time.perf_counter() - start, message)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
