"""Build the reports: papermill runs the notebooks, nbconvert renders two HTML versions.

:func:`build_reports` fans out, through one :class:`concurrent.futures.Executor`, one task per

- country: ``notebooks/country_report.ipynb`` with parameters ``country``, ``processed_dir``,
  ``min_n``, ``metrics_path`` (and ``wave`` when one is asked for);
- global summary: ``notebooks/global_summary.ipynb`` (parameters ``processed_dir``, ``min_n``,
  ``wave``, ``metrics_path``), once per build, published as ``global``; skipped with a note when
  the notebook does not exist;
- closing-the-loop lists (:func:`csatlib.loop.lists.build_lists`) into ``reports/lists``.

Each notebook runs on the project's own kernel (``csat``, registered inside the virtual
environment); every code cell must run without error; a distribution version (no code) and a
reviewer version (with code) are rendered. All outputs are staged in ``reports/.staging`` and
published with :func:`os.replace`; then ``reports/index.html`` lists every country, its headline
figures and any failure.

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
    By default a local process pool (spawned, never forked) whose workers each start a kernel
    fork server (:mod:`csatlib.report.kernels`), so kernels start with pandas & co. already
    imported. With
    ``scheduler=`` (``csat reports --scheduler ADDRESS``) the tasks run on a Dask distributed
    cluster (optional extra ``dask``), on plain kernels; so does any ``executor=`` given. Workers
    must see the same file system paths (processed data, notebooks, reports) and have csatlib and
    the ``csat`` kernel's environment installed.

Importing this module has one side effect on the process: jsonschema, when imported later, skips
its "iri" format checkers (see :func:`_skip_iri_grammars`), which saves every build process 2.6 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import functools
import hashlib
import html
import json
import math
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from csatlib import config, roles
from csatlib.errors import CsatError, ReportError
from csatlib.safety import write_text_atomic


def _skip_iri_grammars() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax`` in the processes that build reports.

    nbformat imports jsonschema, and jsonschema's format checkers import ``rfc3987_syntax``,
    which compiles some 35 Lark grammars at import time for the "iri" formats (2.6 s of every
    build process's start here; jsonschema issue #1428). No notebook schema uses those formats,
    and nbformat validates with fastjsonschema anyway; marked as absent, the module is skipped
    by jsonschema as when it is not installed. Only before jsonschema is first imported, and
    only where nobody imported ``rfc3987_syntax`` on purpose.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


_skip_iri_grammars()

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

#: Name of the project's Jupyter kernel (installed into ``sys.prefix``).
KERNEL_NAME = "csat"
#: Name under which the global summary is published (``reports/html/global.html``).
SUMMARY_NAME = "global"
LISTS_NAME = "lists"
#: Cells with this tag appear only in the reviewer version (``reports/review``).
REVIEW_ONLY_TAG = "review-only"
COUNTRY_NOTEBOOK = "country_report.ipynb"
SUMMARY_NOTEBOOK = "global_summary.ipynb"
# nbconvert template "csat": lab's look without CDN scripts or MathJax (see its index.html.j2).
_TEMPLATES = Path(__file__).resolve().parent / "templates"
# Files whose change makes every report stale.
_DATA_FILES = (
    "responses.parquet",
    "transactions.parquet",
    "revenue.parquet",
    "cleaning_summary.json",
)
# The sub-folders of reports/lists written by build_lists (lists/deployment belongs to
# `csat sample` and is never touched here).
_LIST_FOLDERS = ("accounts", "followup", "revenue")
_LISTS_README = "README.txt"

JobKind = Literal["country", "summary"]


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


@dataclass(frozen=True)
class _ListsJob:
    processed_dir: Path
    reports_dir: Path
    fingerprint: str
    build_id: str = ""


@dataclass(frozen=True)
class CountryOutcome:
    """What happened to one task: built, up to date, failed (with the error) or not selected.

    ``country`` is the ISO code, ``"global"`` (global summary) or ``"lists"``.
    """

    country: str
    status: str  # "built" | "up to date" | "failed" | "not selected"
    seconds: float = 0.0
    error: str = ""


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
            lines.append(f"Built {len(built)} country reports: {', '.join(built)}.")
        if fresh and not built and not others_built and not self.failed:
            lines.append(
                f"Nothing changed since the last build: all {len(fresh)} country reports are up "
                "to date, nothing was re-run."
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
        raise ReportError(
            f"expected processed responses at {path}, found no file: run `make data` first"
        )
    names = set(pq.read_schema(path).names)
    columns = ["country", "competitor"] if "competitor" in names else ["country"]
    table = pq.read_table(path, columns=columns).to_pandas()
    own = roles.own_customers(table)["country"].dropna()
    return sorted({str(c) for c in own})


def ensure_kernel() -> str:
    """Make sure the project's kernel is registered inside this environment; return its name.

    The kernelspec is written under ``sys.prefix`` (the virtual environment), so nothing is
    installed into the user's home. Its ``argv`` runs this very interpreter.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL_NAME, display_name="CSAT workbench (.venv)", prefix=sys.prefix)
    return KERNEL_NAME


# Worker threads (Dask) may reach this at the same time; the kernelspec is written once.
_KERNEL_LOCK = threading.Lock()


@functools.cache
def _kernel_ready() -> str:
    with _KERNEL_LOCK:
        return ensure_kernel()


def _hash_files(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.name).encode())
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _fingerprint(files: Sequence[Path], processed_dir: Path, params: dict[str, Any]) -> str:
    package = Path(__file__).resolve().parent
    sources = _hash_files(package.glob("*.py"))
    data = _hash_files(processed_dir / name for name in _DATA_FILES)
    own = _hash_files(files)
    return hashlib.sha256(
        (sources + data + own + json.dumps(params, sort_keys=True)).encode()
    ).hexdigest()


def _stamp_path(reports_dir: Path, name: str) -> Path:
    return reports_dir / ".build" / f"{name}.json"


def _read_stamp(reports_dir: Path, name: str) -> dict[str, Any]:
    try:
        stamp = json.loads(_stamp_path(reports_dir, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def _outputs(reports_dir: Path, name: str) -> dict[str, Path]:
    return {
        "notebook": reports_dir / "notebooks" / f"{name}.ipynb",
        "html": reports_dir / "html" / f"{name}.html",
        "review": reports_dir / "review" / f"{name}.html",
        "metrics": reports_dir / "metrics" / f"{name}.json",
    }


def _required_outputs(reports_dir: Path, name: str, kind: JobKind) -> list[Path]:
    outputs = _outputs(reports_dir, name)
    # The global summary's metrics file is optional; a country's is what the index reads.
    keys = ("notebook", "html", "review") + (("metrics",) if kind == "country" else ())
    return [outputs[k] for k in keys]


def _is_fresh(reports_dir: Path, name: str, fingerprint: str, kind: JobKind = "country") -> bool:
    if not all(p.exists() for p in _required_outputs(reports_dir, name, kind)):
        return False
    return _read_stamp(reports_dir, name).get("fingerprint") == fingerprint


def _record_failure(reports_dir: Path, name: str, error: str) -> None:
    """Replace the stamp by a failure record: no fingerprint, so the next run retries."""
    with contextlib.suppress(OSError):
        write_text_atomic(
            _stamp_path(reports_dir, name),
            json.dumps({"status": "failed", "error": error, "at": _now()}),
        )


def validate_executed(nb: Any, *, name: str) -> None:
    """Raise :class:`ReportError` unless every code cell ran and none produced an error."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise ReportError(
                    f"{name}: cell {index} raised {output.get('ename')}: {output.get('evalue')}"
                )
        if cell.get("execution_count") is None:
            raise ReportError(f"{name}: cell {index} did not run (no execution count)")


def render_html(nb: Any, *, with_code: bool, title: str) -> str:
    """Render an executed notebook to a standalone HTML page.

    The distribution version hides code cells, prompts and every cell tagged
    :data:`REVIEW_ONLY_TAG` (method notes, the metrics hand-over); the reviewer version keeps
    them all. MathJax is left out on purpose: customer text such as "$5 and $10" must never be
    typeset. The two exporters are made once per thread and reused (compiling the templates
    costs more than rendering one page).
    """
    from nbformat import NotebookNode

    if not with_code:  # a new top level; the exporter deep-copies what it renders anyway
        cells = [c for c in nb.cells if REVIEW_ONLY_TAG not in c.metadata.get("tags", [])]
        nb = NotebookNode({**nb, "cells": cells})
    body, _ = _exporter(with_code).from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


_EXPORTERS = threading.local()


def _exporter(with_code: bool) -> Any:
    cache = _EXPORTERS.__dict__
    if with_code not in cache:
        cache[with_code] = _report_exporter_class()(
            template_name="csat",
            extra_template_basedirs=[str(_TEMPLATES)],
            exclude_input=not with_code,
            exclude_input_prompt=not with_code,
            exclude_output_prompt=not with_code,
            # validate once after the preprocessors, not after each of the twelve
            optimistic_validation=True,
        )
    return cache[with_code]


# <div class="... jp-OutputArea-output ..."> and the code cells' input wrappers; <img> tags.
_FOCUSABLE = re.compile(
    r'<div ((?:id="[^"]*" )?class="(?:[^"]*\s)?jp-(?:Cell-inputWrapper|OutputArea-output)[\s"])'
)
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)")


@functools.cache
def _report_exporter_class() -> type:
    """nbconvert's HTMLExporter without its BeautifulSoup pass over the finished page.

    ``HTMLExporter.from_notebook_node`` parses the whole page again only to give images without
    alternative text a generic one and to make code and output areas focusable
    (``tabindex="0"``); on a report page that pass costs about as much as the rendering. Here the
    template gives charts their titles as alternative text, and the two attributes are added by
    two regular expressions over the template's own tags. Everything else (filters, template,
    sanitising of markdown and code) is HTMLExporter's.
    """
    from nbconvert import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):  # type: ignore[misc]
        def from_notebook_node(  # type: ignore[override]
            self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any
        ) -> tuple[str, dict[str, Any]]:
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            page = _FOCUSABLE.sub(r'<div tabindex="0" \1', page)
            page = _IMG_WITHOUT_ALT.sub(
                '<img alt="No description has been provided for this image"', page
            )
            return page, resources

    return ReportExporter


class _KernelTrouble(ReportError):
    """The kernel died or could not start; worth one retry."""


def run_country(job: CountryJob) -> CountryOutcome:
    """Build one notebook's report (a country or the global summary); never raises.

    The error travels in the outcome. A kernel that dies or cannot start is retried once with a
    fresh kernel; an error inside a notebook cell, or a cell timeout, is not retried.
    """
    start = time.perf_counter()
    try:
        try:
            _build_once(job)
        except _KernelTrouble:
            _build_once(job)  # one retry with a fresh kernel
        (job.reports_dir / "failed" / f"{job.country}.ipynb").unlink(missing_ok=True)
        return CountryOutcome(job.country, "built", time.perf_counter() - start)
    except Exception as exc:
        if isinstance(exc, _KernelTrouble):
            message = f"the kernel failed twice: {exc}"
        elif isinstance(exc, CsatError):
            message = str(exc)
        else:  # a bug in the build itself (rendering, file system): keep the whole story
            message = traceback.format_exc()
        _record_failure(job.reports_dir, job.country, message)
        return CountryOutcome(job.country, "failed", time.perf_counter() - start, message)


def _build_once(job: CountryJob) -> None:
    import nbformat

    reports_dir = job.reports_dir
    stage = reports_dir / ".staging" / f"{job.country}-{uuid.uuid4().hex[:8]}"
    stage.mkdir(parents=True, exist_ok=True)
    staged_nb = stage / f"{job.country}.ipynb"
    staged_metrics = stage / f"{job.country}.json"
    staged_html = stage / "html.html"
    staged_review = stage / "review.html"
    try:
        try:
            _in_own_event_loop(_execute, job, staged_nb, staged_metrics)
            nb = nbformat.read(staged_nb, as_version=4)
            validate_executed(nb, name="the executed notebook")
            if job.kind == "country" and not staged_metrics.exists():
                raise ReportError(
                    f"the notebook wrote no metrics file (parameter metrics_path={staged_metrics})"
                )
            title = "CSAT global summary" if job.kind == "summary" else f"CSAT report {job.country}"
            staged_html.write_text(render_html(nb, with_code=False, title=title), "utf-8")
            staged_review.write_text(render_html(nb, with_code=True, title=title), "utf-8")
        except BaseException:
            if staged_nb.exists():  # papermill writes it even when a cell failed: keep it
                failed = reports_dir / "failed" / f"{job.country}.ipynb"
                failed.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(staged_nb, failed)
            raise
        # Everything is staged and valid: publish. The stamp goes first and comes back last, so
        # that a publish interrupted half-way is rebuilt by the next run.
        outputs = _outputs(reports_dir, job.country)
        _stamp_path(reports_dir, job.country).unlink(missing_ok=True)
        for src, key in (
            (staged_nb, "notebook"),
            (staged_html, "html"),
            (staged_review, "review"),
            (staged_metrics, "metrics"),
        ):
            if not src.exists():  # only the global summary's optional metrics
                outputs[key].unlink(missing_ok=True)
                continue
            outputs[key].parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, outputs[key])
        write_text_atomic(
            _stamp_path(reports_dir, job.country),
            json.dumps({"fingerprint": job.fingerprint, "built": _now()}),
        )
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _parameters(job: CountryJob, metrics_path: Path) -> dict[str, Any]:
    if job.kind == "summary":
        return {
            "processed_dir": str(job.processed_dir),
            "min_n": job.min_n,
            "wave": job.wave,
            "metrics_path": str(metrics_path),
        }
    params: dict[str, Any] = {
        "country": job.country,
        "processed_dir": str(job.processed_dir),
        "min_n": job.min_n,
        "metrics_path": str(metrics_path),
    }
    if job.wave:  # the notebook's own default (empty: latest wave) otherwise
        params["wave"] = job.wave
    return params


def _plain_kernel_manager() -> Any:
    """A kernel manager for an ordinary kernel process, on IPC sockets where available.

    IPC socket files instead of TCP ports: kernels started at the same moment by parallel
    threads or processes cannot pick the same port, and nothing listens on the network.
    """
    from jupyter_client.manager import AsyncKernelManager

    from csatlib.report.kernels import ready_client_class

    km = AsyncKernelManager(kernel_name=KERNEL_NAME)
    km.client_factory = ready_client_class()
    if os.name == "posix":
        km.transport = "ipc"
        km.ip = str(Path(tempfile.mkdtemp(prefix="csat-kernel-")) / "kernel")
    return km


def _in_own_event_loop(fn: Callable[..., Any], /, *args: Any) -> Any:
    """Call ``fn`` in an empty context, on an event loop of its own that is closed afterwards.

    jupyter_core (under papermill and nbclient) keeps its event loop in a context variable.
    Executors that copy the submitting thread's context into their worker threads (Dask does)
    would hand that one loop to several threads at once ("This event loop is already
    running"); here each notebook gets its own.
    """

    def call() -> Any:
        from jupyter_core.utils import ensure_event_loop

        try:
            return fn(*args)
        finally:
            loop = ensure_event_loop()  # the one created in this context, if any
            asyncio.set_event_loop(None)
            loop.close()

    return contextvars.Context().run(call)


_ENGINE = "csat"


def _register_engine() -> str:
    """Register papermill engine "csat": nbclient execution, fewer notebook writes.

    Papermill's execution manager rewrites the output notebook when every cell (markdown
    included) starts and ends: ~90 writes of a growing file per report. This engine writes it at
    most every ``_SAVE_EVERY`` seconds while cells run and always at the end, also after a
    failure or a timeout, so the kept notebook still shows which cell failed or was running.
    """
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    class ThrottledManager(NotebookExecutionManager):  # type: ignore[misc]
        final = False

        def save(self, **kwargs: Any) -> None:
            elapsed = (self.now() - self.last_save_time).total_seconds()
            if self.final or elapsed >= _SAVE_EVERY:
                super().save(**kwargs)

        def notebook_complete(self, **kwargs: Any) -> None:
            self.final = True
            super().notebook_complete(**kwargs)

    class CsatEngine(NBClientEngine):  # type: ignore[misc]
        @classmethod
        def execute_notebook(  # same steps as papermill's Engine, with the manager above
            cls,
            nb: Any,
            kernel_name: str,
            output_path: str | None = None,
            progress_bar: bool = True,
            log_output: bool = False,
            autosave_cell_every: int = 30,
            **kwargs: Any,
        ) -> Any:
            nb_man = ThrottledManager(
                nb,
                output_path=output_path,
                progress_bar=progress_bar,
                log_output=log_output,
                autosave_cell_every=autosave_cell_every,
            )
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register(_ENGINE, CsatEngine)
    return _ENGINE


_SAVE_EVERY = 5.0  # seconds between writes of the staged notebook while cells run


def _execute(job: CountryJob, staged_nb: Path, staged_metrics: Path) -> None:
    import papermill
    from jupyter_client.utils import run_sync
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    _kernel_ready()
    server = _fork_server() if job.prewarm else None
    if server is not None:
        from csatlib.report.kernels import prewarmed_kernel_manager

        km = prewarmed_kernel_manager(server, KERNEL_NAME)
    else:
        km = _plain_kernel_manager()
    try:
        papermill.execute_notebook(
            _study_notebook(job),
            str(staged_nb),
            parameters=_parameters(job, staged_metrics),
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            execution_timeout=job.timeout,
            cwd=str(job.notebook.parent),
            km=km,
            engine_name=_register_engine(),
        )
    except PapermillExecutionError as exc:
        raise ReportError(f"cell In [{exc.exec_count}] raised {exc.ename}: {exc.evalue}") from exc
    except CellTimeoutError as exc:
        where = _running_cell(staged_nb)
        raise ReportError(
            f"{where or 'a cell'} timed out: still running after the {job.timeout} s cell "
            "timeout, so the kernel was stopped (raise --timeout if this is expected)"
        ) from exc
    except DeadKernelError as exc:
        raise _KernelTrouble(f"DeadKernelError: {_one_line(exc)}") from exc
    except Exception as exc:  # papermill, nbclient and jupyter_client raise their own types
        name = type(exc).__name__
        text = str(exc)
        if name == "ZMQError" or "Kernel died" in text or "Kernel didn't respond" in text:
            raise _KernelTrouble(f"{name}: {_one_line(exc)}") from exc
        raise ReportError(f"notebook failed: {name}: {_one_line(exc)}") from exc
    finally:
        if km.has_kernel:  # papermill leaves the kernel of a manager it was given running
            with contextlib.suppress(Exception):
                run_sync(km.shutdown_kernel)(now=True)
        if km.transport == "ipc":  # the private folder of the kernel's socket files
            shutil.rmtree(Path(km.ip).parent, ignore_errors=True)


def _study_notebook(job: CountryJob) -> Any:
    """The job's notebook without the sections its study lacks (:mod:`csatlib.report.sections`)."""
    import nbformat

    from csatlib.report.sections import prepare_notebook, sections_of

    nb = nbformat.read(job.notebook, as_version=4)
    return prepare_notebook(nb, sections_of(job.processed_dir))


def _running_cell(executed: Path) -> str:
    """'cell In [3] (`time.sleep(600)`)': the last cell that started, from papermill's metadata."""
    import nbformat

    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # no notebook written: the message just says "a cell"
        return ""
    started = [
        cell
        for cell in nb.cells
        if cell.cell_type == "code" and cell.metadata.get("papermill", {}).get("start_time")
    ]
    if not started:
        return ""
    cell = started[-1]
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"cell In [{cell.get('execution_count')}] (`{first.strip()[:80]}`)"


# The build's kernel fork server (see csatlib.report.kernels), as this worker process reaches it.
# The server is started once per build by the process that opens the pool (_open_executor), before
# the workers start; each worker connects to it through the initializer.
_FORK_SERVER: Any = None


def _fork_server() -> Any:
    return _FORK_SERVER


def _init_worker(fork_server: str | None) -> None:
    """Process-pool initializer: note the kernel fork server's address, load the renderers."""
    global _FORK_SERVER
    if fork_server:
        from csatlib.report.kernels import ForkServerClient

        _FORK_SERVER = ForkServerClient(fork_server)
    import nbconvert  # noqa: F401  (imported once per worker, not once per country)
    import papermill  # noqa: F401


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _local_pool(workers: int, fork_server: str | None) -> Executor:
    """The default executor: a local process pool of spawned workers.

    ``fork_server`` is the address of the build's kernel fork server (None: plain kernels).
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_worker_context(),
        initializer=_init_worker,
        initargs=(fork_server,),
    )


def _worker_context() -> Any:
    """How pool workers start: never as a ``fork()`` of this process.

    A forked worker would share this process's ZeroMQ and event-loop state (e.g. after a
    notebook ran here), and its kernels would spin forever. Where it exists, multiprocessing's
    "forkserver" is used: a fresh interpreter that only imports the build's modules (once, not
    once per worker) and forks the workers from that clean state; elsewhere "spawn".
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(_WORKER_PRELOAD))
    return context


_WORKER_PRELOAD = ("csatlib.report.build", "nbconvert", "papermill", "nbformat", "jupyter_client")


def _start_fork_server(processed_dir: Path) -> Any:
    """The build's kernel fork server, preloading ``processed_dir``; None where there is none.

    Not waited for: it imports and reads while the pool's workers start and the lists are
    written, and the first kernel request waits for it. Without one (no ``fork()`` on this
    system, or it failed to start) kernels start as plain processes: slower, same results.
    """
    if not hasattr(os, "fork"):
        return None
    from csatlib.report.kernels import KernelForkServer

    try:
        return KernelForkServer(preload=processed_dir, wait=False)
    except Exception:  # e.g. no Unix sockets: plain kernels
        return None


@contextlib.contextmanager
def _open_executor(
    executor: Executor | None,
    jobs: int | None,
    scheduler: str | None,
    *,
    tasks: int,
    notebooks: int,
    processed_dir: Path,
) -> Iterator[tuple[Executor, bool]]:
    """Yield ``(executor, prewarm)``; close what was opened here, never what was given."""
    if executor is not None:
        yield executor, False
        return
    if scheduler:
        try:
            from distributed import Client
        except ImportError as exc:
            raise ReportError(
                "--scheduler needs dask.distributed, which is not installed: "
                "pip install -e '.[dask]'"
            ) from exc
        try:
            client = Client(scheduler)
        except (OSError, ValueError) as exc:  # connection refused, timed out, bad address
            raise ReportError(
                f"could not reach the Dask scheduler at {scheduler!r}: {exc}"
            ) from exc
        try:
            # ClientExecutor.shutdown() leaves the client open: closing it is ours to do.
            yield client.get_executor(pure=False), False
        finally:
            client.close()
        return
    workers = max(1, min(jobs or os.cpu_count() or 1, tasks))
    server = _start_fork_server(processed_dir) if notebooks > 0 else None
    try:
        pool = _local_pool(workers, server.address if server is not None else None)
        try:
            yield pool, server is not None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        if server is not None:
            server.close()


def _aliases_path() -> Path | None:
    return config.ACCOUNT_ALIASES if config.ACCOUNT_ALIASES.is_file() else None


def _run_lists(job: _ListsJob) -> CountryOutcome:
    """Pool task: build the lists in a staging folder, then swap each sub-folder into place."""
    start = time.perf_counter()
    reports_dir = job.reports_dir
    stage = reports_dir / ".staging" / f"{LISTS_NAME}-{uuid.uuid4().hex[:8]}"
    try:
        from csatlib.loop.lists import build_lists

        build_lists(job.processed_dir, stage / "new", aliases_path=_aliases_path())
        _stamp_path(reports_dir, LISTS_NAME).unlink(missing_ok=True)
        target = reports_dir / "lists"
        target.mkdir(parents=True, exist_ok=True)
        for name in (*_LIST_FOLDERS, _LISTS_README):
            new = stage / "new" / name
            if (target / name).exists():  # a list the study no longer has goes too
                os.replace(target / name, stage / f"old-{name}")
            if new.exists():
                os.replace(new, target / name)
        write_text_atomic(
            _stamp_path(reports_dir, LISTS_NAME),
            json.dumps({"fingerprint": job.fingerprint, "built": _now()}),
        )
        return CountryOutcome(LISTS_NAME, "built", time.perf_counter() - start)
    except Exception as exc:
        message = str(exc) if isinstance(exc, CsatError) else traceback.format_exc()
        _record_failure(reports_dir, LISTS_NAME, message)
        return CountryOutcome(LISTS_NAME, "failed", time.perf_counter() - start, message)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


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

    Returns
    -------
    BuildResult
        Outcomes, elapsed seconds and the index path. Failures do not raise: one task's failure
        never stops the others; check ``result.ok`` (``csat reports`` exits with 1).
    """
    for name, value in (("timeout", timeout), ("jobs", jobs)):
        if value is None and name == "jobs":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ReportError(f"{name} must be a whole number of at least 1, found {value!r}")
    processed_dir = Path(processed_dir).resolve()
    reports_dir = Path(reports_dir).resolve()
    notebook = Path(notebook or config.NOTEBOOKS_DIR / COUNTRY_NOTEBOOK).resolve()
    summary_nb = Path(summary_notebook or config.NOTEBOOKS_DIR / SUMMARY_NOTEBOOK).resolve()
    start = time.perf_counter()
    available = discover_countries(processed_dir)
    if countries:
        unknown = sorted(set(countries) - set(available))
        if unknown:
            raise ReportError(
                f"countries {unknown} have no responses in {processed_dir / 'responses.parquet'}; "
                f"available: {', '.join(available)}"
            )
        selected = list(dict.fromkeys(countries))
    else:
        selected = available
    build_id = uuid.uuid4().hex
    params = {"min_n": min_n, "timeout": timeout, "wave": wave}
    fingerprint = _fingerprint([notebook], processed_dir, params)
    outcomes: dict[str, CountryOutcome] = {}
    notebook_jobs: list[CountryJob] = []
    for country in selected:
        if not force and _is_fresh(reports_dir, country, fingerprint):
            outcomes[country] = CountryOutcome(country, "up to date")
        else:
            notebook_jobs.append(
                CountryJob(
                    country, notebook, processed_dir, reports_dir, min_n, timeout, fingerprint
                )
            )
    notes: list[str] = []
    if summary and summary_nb.exists():
        summary_print = _fingerprint([summary_nb], processed_dir, {**params, "kind": "summary"})
        if not force and _is_fresh(reports_dir, SUMMARY_NAME, summary_print, "summary"):
            outcomes[SUMMARY_NAME] = CountryOutcome(SUMMARY_NAME, "up to date")
        else:  # first in line: it covers every country, so it is likely the longest
            notebook_jobs.insert(
                0,
                CountryJob(
                    SUMMARY_NAME,
                    summary_nb,
                    processed_dir,
                    reports_dir,
                    min_n,
                    timeout,
                    summary_print,
                    kind="summary",
                ),
            )
    elif summary:
        notes.append(f"Global summary skipped: {summary_nb} does not exist yet.")
    lists_print = _fingerprint([config.ACCOUNT_ALIASES], processed_dir, {"kind": LISTS_NAME})
    lists_job = None
    if not force and _read_stamp(reports_dir, LISTS_NAME).get("fingerprint") == lists_print:
        outcomes[LISTS_NAME] = CountryOutcome(LISTS_NAME, "up to date")
    else:
        lists_job = _ListsJob(processed_dir, reports_dir, lists_print, build_id)
    tasks: list[tuple[str, Callable[[Any], CountryOutcome], Any]] = []
    if notebook_jobs or lists_job:
        if notebook_jobs:
            _kernel_ready()
        with _open_executor(
            executor,
            jobs,
            scheduler,
            tasks=len(notebook_jobs) + bool(lists_job),
            notebooks=len(notebook_jobs),
            processed_dir=processed_dir,
        ) as (pool, prewarm):
            for job in notebook_jobs:
                job = dataclasses.replace(job, prewarm=prewarm, wave=wave, build_id=build_id)
                tasks.append((job.country, run_country, job))
            if lists_job is not None:  # second in line: a few seconds, beside the notebooks
                tasks.insert(min(1, len(tasks)), (LISTS_NAME, _run_lists, lists_job))
            for outcome in _run_all(pool, tasks, progress=progress):
                outcomes[outcome.country] = outcome
    shutil.rmtree(reports_dir / ".staging", ignore_errors=True)
    notes += _remove_stale_reports(reports_dir, available)
    ordered = tuple(outcomes[c] for c in selected)
    listed = [outcomes.get(c) or _earlier_outcome(reports_dir, c) for c in available]
    summary_outcome = outcomes.get(SUMMARY_NAME)
    lists_outcome = outcomes[LISTS_NAME]
    index = write_index(
        reports_dir,
        listed,
        seconds=time.perf_counter() - start,
        summary=summary_outcome,
        lists=lists_outcome,
    )
    return BuildResult(
        ordered,
        time.perf_counter() - start,
        index,
        summary=summary_outcome,
        lists=lists_outcome,
        notes=tuple(notes),
    )


def _remove_stale_reports(reports_dir: Path, countries: Sequence[str]) -> list[str]:
    """Remove the published reports of countries the study no longer has.

    After a switch of study (``make reports RAW_DIR=...``), the earlier study's countries would
    otherwise stay in reports/html, openable though listed nowhere. Only files this build
    publishes for a country (its two pages, notebook, metrics, stamp and failed notebook) go.
    """
    keep = set(countries)
    gone = []
    for stamp in sorted((reports_dir / ".build").glob("*.json")):
        name = stamp.stem
        if not _ISO2_NAME.match(name) or name in keep:
            continue
        for path in (
            *_outputs(reports_dir, name).values(),
            reports_dir / "failed" / f"{name}.ipynb",
        ):
            path.unlink(missing_ok=True)
        stamp.unlink(missing_ok=True)
        gone.append(name)
    if not gone:
        return []
    return [f"Removed the reports of {', '.join(gone)}: no longer in the processed data."]


_ISO2_NAME = re.compile(r"^[A-Z]{2}$")


def _earlier_outcome(reports_dir: Path, country: str) -> CountryOutcome:
    """A country outside this build's selection, as its stamp left it."""
    stamp = _read_stamp(reports_dir, country)
    if stamp.get("status") == "failed":
        at = stamp.get("at", "an earlier build")
        return CountryOutcome(country, "failed", 0.0, f"(in the build of {at}) {stamp['error']}")
    return CountryOutcome(country, "not selected")


def _run_all(
    pool: Executor,
    tasks: Sequence[tuple[str, Callable[[Any], CountryOutcome], Any]],
    *,
    progress: bool,
) -> Iterable[CountryOutcome]:
    from tqdm import tqdm

    # Everything is submitted up front, so the executor runs countries, the global summary and
    # the lists side by side.
    futures: dict[Future[CountryOutcome], str] = {
        pool.submit(fn, arg): name for name, fn, arg in tasks
    }
    bar: Callable[..., Any] = tqdm if progress else _no_bar
    with bar(total=len(tasks), desc="reports", unit="task", file=sys.stderr) as pbar:
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
            pbar.update(1)
            yield outcome


@dataclass
class _no_bar:
    total: int = 0
    desc: str = ""
    unit: str = ""
    file: Any = None
    n: int = field(default=0)

    def __enter__(self) -> _no_bar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, k: int) -> None:
        self.n += k


# --------------------------------------------------------------------------------------- index


def _load_metrics(reports_dir: Path, name: str) -> dict[str, Any]:
    try:
        metrics = json.loads(_outputs(reports_dir, name)["metrics"].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return metrics if isinstance(metrics, dict) else {}


def _number(value: Any) -> float | None:
    """A finite float, or None for anything else (missing, null, text, NaN, bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _count(value: Any) -> str:
    number = _number(value)
    return f"{int(number):,}" if number is not None else ""


def _nps_cells(metrics: Mapping[str, Any]) -> tuple[str, str]:
    """(n, NPS with its interval) as HTML; a suppressed NPS never shows a number."""
    nps = metrics.get("nps")
    if not isinstance(nps, Mapping):
        return _count(metrics.get("n")), ""
    n = _count(nps.get("n", metrics.get("n")))
    if nps.get("suppressed") is True:
        text = f"suppressed (n = {n})" if n else "suppressed"
        return n, f'<span class="muted">{text}</span>'
    score = _number(nps.get("score"))
    if nps.get("suppressed") is not False or score is None:  # unknown: show no number
        return n, '<span class="muted">not available</span>'
    low, high = _number(nps.get("ci_low")), _number(nps.get("ci_high"))
    ci = (
        f' <span class="ci">({low:+.1f} to {high:+.1f})</span>'
        if low is not None and high is not None
        else ""
    )
    return n, f"<strong>{score:+.1f}</strong>{ci}"


def _alpha() -> float:
    """1 - DEFAULT_CONF, rounded: 1 - 0.95 is 0.050000000000000044, and p = 0.05 is not below."""
    return round(1 - config.DEFAULT_CONF, 10)


def _change_cell(metrics: Mapping[str, Any]) -> str:
    """Change vs the previous wave; ▲/▼ when significant at 1 - DEFAULT_CONF."""
    esc = html.escape
    nps = metrics.get("nps")
    if isinstance(nps, Mapping) and nps.get("suppressed") is True:
        return ""
    previous = metrics.get("previous_wave")
    change = metrics.get("nps_change")
    diff = _number(change.get("diff")) if isinstance(change, Mapping) else None
    if diff is None:
        if previous:
            return (
                '<span class="muted">not tested (a cell is suppressed) vs '
                f"{esc(str(previous))}</span>"
            )
        return '<span class="muted">no previous wave</span>' if "previous_wave" in metrics else ""
    p = _number(change.get("p_value"))
    alpha = _alpha()
    arrow = ""
    if p is not None and p < alpha and diff != 0:
        direction, css = ("▲", "up") if diff > 0 else ("▼", "down")
        arrow = (
            f'<span class="{css}" title="significant at the {alpha:.0%} level">{direction}</span> '
        )
    p_text = "" if p is None else (" (p &lt; 0.001)" if p < 0.001 else f" (p = {p:.3f})")
    vs = f' <span class="muted">vs {esc(str(previous))}</span>' if previous else ""
    return f"{arrow}{diff:+.1f}{p_text}{vs}"


def _built_at(path: Path) -> str:
    try:
        stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return ""
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def _error_html(error: str) -> str:
    """One line a reader can act on; a traceback (a bug in the build) only behind "details"."""
    esc = html.escape
    text = error.strip()
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) <= 1:
        return f"<code>{esc(text)}</code>"
    if lines[0].startswith("Traceback"):
        return (
            f"<code>{esc(lines[-1].strip())}</code> (an error in the build itself, please "
            f"report it) <details><summary>technical details</summary><pre>{esc(text)}</pre>"
            "</details>"
        )
    return (
        f"<details><summary><code>{esc(lines[0])}</code></summary><pre>{esc(text)}</pre></details>"
    )


def _summary_block(reports_dir: Path, summary: CountryOutcome | None) -> str:
    esc = html.escape
    page = _outputs(reports_dir, SUMMARY_NAME)["html"]
    link = (
        f'<a href="html/{SUMMARY_NAME}.html">Global summary: all countries side by side</a> '
        f'(<a href="review/{SUMMARY_NAME}.html">reviewer version</a>, built {_built_at(page)})'
    )
    if summary is not None and summary.status == "failed":
        kept = f"<br>Previous version kept: {link}" if page.exists() else ""
        return (
            f'<p class="summary"><span class="failed">Global summary failed</span>: '
            f"{_error_html(summary.error)}{kept}</p>"
        )
    if page.exists():
        note = f" — {esc(summary.status)}" if summary is not None else ""
        return f'<p class="summary">{link}{note}</p>'
    return ""


def write_index(
    reports_dir: Path,
    outcomes: Sequence[CountryOutcome],
    *,
    seconds: float,
    summary: CountryOutcome | None = None,
    lists: CountryOutcome | None = None,
) -> Path:
    """Write ``reports/index.html``: the global summary, every country, headline figures, failures.

    Per country: wave, n, NPS with its 95% CI (``suppressed (n = 12)`` below the small-cell
    minimum, never a number), change vs the previous wave (▲/▼ when significant), links to both
    versions, when the published report was built, and the status with any error (escaped). A
    failed country shows no figures, only a link to its previous report if one is published.
    Figures come from ``reports/metrics/<CC>.json``; keys it does not know are ignored. Plain
    HTML and CSS, no script.
    """
    esc = html.escape
    reports_dir = Path(reports_dir)
    rows = []
    for outcome in outcomes:
        cc = esc(outcome.country)
        outputs = _outputs(reports_dir, outcome.country)
        published = outputs["html"].exists()
        metrics = _load_metrics(reports_dir, outcome.country)
        links = (
            f'<a href="html/{cc}.html">report</a> · <a href="review/{cc}.html">review</a>'
            if published
            else ""
        )
        built = _built_at(outputs["html"]) if published else ""
        if outcome.status == "failed":
            status = f'<span class="failed">failed</span>: {_error_html(outcome.error)}'
            figures = '<td></td><td></td><td class="muted">—</td><td></td>'
            if published:
                links = f'<span class="muted">previous:</span> {links}'
        else:
            took = f" in {outcome.seconds:.1f} s" if outcome.status == "built" else ""
            status = (
                esc(
                    "not rebuilt in this run"
                    if outcome.status == "not selected"
                    else outcome.status
                )
                + took
            )
            n, nps = _nps_cells(metrics) if published else ("", "")
            wave = esc(str(metrics.get("wave", ""))) if published else ""
            figures = (
                f"<td>{wave}</td><td class=num>{n}</td><td>{nps}</td>"
                f"<td>{_change_cell(metrics) if published else ''}</td>"
            )
            if not published:
                detail = "" if outcome.status == "not selected" else f" ({status})"
                status = f'<span class="muted">no report yet</span>{detail}'
        rows.append(
            f"<tr><th>{cc}</th>{figures}<td>{links}</td><td>{esc(built)}</td>"
            f'<td class="status">{status}</td></tr>'
        )
    failed = [o for o in outcomes if o.status == "failed"]
    banner = (
        f'<p class="failed">{len(failed)} country build(s) failed: '
        f"{esc(', '.join(o.country for o in failed))}.</p>"
        if failed
        else ""
    )
    if lists is not None and lists.status == "failed":
        lists_line = f'<p><span class="failed">Lists failed</span>: {_error_html(lists.error)}</p>'
    elif (reports_dir / "lists").is_dir():
        lists_line = (
            "<p>Closing-the-loop lists (CSV: at-risk accounts, follow-ups, unmatched revenue): "
            '<a href="lists/">lists/</a></p>'
        )
    else:
        lists_line = ""
    alpha = _alpha()
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>CSAT reports</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: .3rem .8rem; border-bottom: 1px solid #ddd; text-align: left;
  vertical-align: top; white-space: nowrap; }}
td.status {{ white-space: normal; }}
td.num {{ text-align: right; }}
.failed {{ color: #b00020; font-weight: 600; }}
.muted, .ci {{ color: #666; }}
.up {{ color: #1b7a1b; }}
.down {{ color: #b00020; }}
.summary {{ font-size: 1.15rem; }}
details pre {{ white-space: pre-wrap; max-width: 60rem; }}
</style></head>
<body>
<h1>CSAT reports</h1>
{_summary_block(reports_dir, summary)}
<p>Built {esc(_now())} in {seconds:.1f} s. Net Promoter Score of own-brand customers (−100 to
+100), latest wave, with its 95% confidence interval; cells below the small-cell minimum are
suppressed. ▲/▼: change since the previous wave significant at the {alpha:.0%} level.</p>
{banner}
<table>
<thead><tr><th>Country</th><th>Wave</th><th>n</th><th>NPS (95% CI)</th>
<th>Change vs previous wave</th><th>Versions</th><th>Built</th><th>Status</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
{lists_line}
</body></html>
"""
    index = reports_dir / "index.html"
    write_text_atomic(index, page)
    return index
