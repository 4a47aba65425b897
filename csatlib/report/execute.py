"""Run the report notebooks through papermill, on the build's executor.

:func:`execute_notebook` runs one notebook with its parameters and turns every way it can fail
into a :class:`~csatlib.errors.ReportError` that names the cell (a kernel that died or could not
start raises :class:`KernelTrouble`, worth one retry). When the job says so, the notebook runs
in a process forked from the build's pre-warmed fork server (:mod:`csatlib.report.kernels`)
without a kernel (papermill engine ``csat-direct``, :mod:`csatlib.report.direct`); otherwise,
or when that server cannot be reached, on a plain ``csat`` kernel (engine ``csat``).
:func:`open_executor` gives the build its executor: the one handed in, a Dask cluster's, or by
default a local pool of spawned worker processes sharing one kernel fork server.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import functools
import importlib
import multiprocessing
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csatlib.errors import ReportError

if TYPE_CHECKING:
    from csatlib.report.build import CountryJob

__all__ = [
    "KERNEL_NAME",
    "KernelTrouble",
    "ensure_kernel",
    "execute_notebook",
    "kernel_ready",
    "open_executor",
    "validate_executed",
]

#: Name of the project's Jupyter kernel (installed into ``sys.prefix``).
KERNEL_NAME = "csat"
_ENGINE = "csat"
_DIRECT_ENGINE = "csat-direct"
_SAVE_EVERY = 5.0  # seconds between writes of the staged notebook while cells run
# What a pool worker imports once, not once per task. The tasks' module comes first: it imports
# csatlib.report.render, which must precede jsonschema (see render._skip_iri_grammars).
_WORKER_PRELOAD = ("csatlib.report.build", "nbconvert", "papermill", "nbformat", "jupyter_client")


class KernelTrouble(ReportError):
    """The kernel died or could not start; worth one retry."""


# --------------------------------------------------------------------------------- the kernel


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
def kernel_ready() -> str:
    """:func:`ensure_kernel`, once per process."""
    with _KERNEL_LOCK:
        return ensure_kernel()


def _plain_kernel_manager() -> Any:
    """A kernel manager for an ordinary kernel process, on IPC sockets where available.

    IPC socket files instead of TCP ports: kernels started at the same moment by parallel
    threads or processes cannot pick the same port, and nothing listens on the network.
    """
    from jupyter_client.manager import AsyncKernelManager

    from csatlib.report.kernels import ready_client_class, use_ipc_sockets

    km = AsyncKernelManager(kernel_name=KERNEL_NAME)
    km.client_factory = ready_client_class()
    if os.name == "posix":
        use_ipc_sockets(km)
    return km


# ------------------------------------------------------------------------------ one notebook


def execute_notebook(job: CountryJob, output: Path, metrics_path: Path) -> None:
    """Run ``job``'s notebook into ``output``, its notebook writing ``metrics_path``.

    The notebook runs without the sections its study lacks (:mod:`csatlib.report.sections`),
    on a fresh kernel, with a ``job.timeout`` seconds limit per cell, on an event loop of its
    own. ``output`` is written even when a cell fails, so it shows which one.

    Raises
    ------
    KernelTrouble
        The kernel died or could not start.
    ReportError
        A cell raised or timed out, or papermill failed otherwise.
    """
    _in_own_event_loop(_execute, job, output, metrics_path)


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


def _execute(job: CountryJob, staged_nb: Path, staged_metrics: Path) -> None:
    import papermill
    from jupyter_client.utils import run_sync
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    kernel_ready()
    _register_engine()
    server = _FORK_SERVER if job.prewarm else None
    km = None if server is not None else _plain_kernel_manager()

    def run(**engine: Any) -> None:
        papermill.execute_notebook(
            _study_notebook(job),
            str(staged_nb),
            parameters=_parameters(job, staged_metrics),
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            execution_timeout=job.timeout,
            cwd=str(job.notebook.parent),
            **engine,
        )

    try:
        if km is not None:
            run(engine_name=_ENGINE, km=km)
        else:  # no kernel: the fork server forks the notebook's own process
            from csatlib.report.direct import NoForkServer

            try:
                run(engine_name=_DIRECT_ENGINE, server=server)
            except NoForkServer:  # the server is gone (nothing ran): a plain kernel instead
                km = _plain_kernel_manager()
                run(engine_name=_ENGINE, km=km)
    except PapermillExecutionError as exc:
        raise ReportError(f"cell In [{exc.exec_count}] raised {exc.ename}: {exc.evalue}") from exc
    except CellTimeoutError as exc:
        where = _running_cell(staged_nb)
        raise ReportError(
            f"{where or 'a cell'} timed out: still running after the {job.timeout} s cell "
            "timeout, so the kernel was stopped (raise --timeout if this is expected)"
        ) from exc
    except DeadKernelError as exc:
        raise KernelTrouble(f"DeadKernelError: {_one_line(exc)}") from exc
    except Exception as exc:  # papermill, nbclient and jupyter_client raise their own types
        name = type(exc).__name__
        text = str(exc)
        if name == "ZMQError" or "Kernel died" in text or "Kernel didn't respond" in text:
            raise KernelTrouble(f"{name}: {_one_line(exc)}") from exc
        raise ReportError(f"notebook failed: {name}: {_one_line(exc)}") from exc
    finally:
        if km is not None:
            _close_kernel(km, run_sync)


def _close_kernel(km: Any, run_sync: Callable[..., Any]) -> None:
    """Shut down the kernel of a manager papermill was given (it leaves it running)."""
    if km.has_kernel:
        with contextlib.suppress(Exception):
            run_sync(km.shutdown_kernel)(now=True)
    if km.transport == "ipc":  # the private folder of the kernel's socket files
        shutil.rmtree(Path(km.ip).parent, ignore_errors=True)


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
        "reports_dir": str(job.reports_dir),
    }
    if job.wave:  # the notebook's own default (empty: latest wave) otherwise
        params["wave"] = job.wave
    if job.dimension != "country":  # a report by business unit, segment, ...
        params["dimension"] = job.dimension
        params["value"] = job.value
        if job.within:  # a cross-cut: the outer unit, "country=DE"
            params["within"] = job.within
    return params


def _study_notebook(job: CountryJob) -> Any:
    """The job's notebook without the sections its study lacks (:mod:`csatlib.report.sections`)."""
    import nbformat

    from csatlib.report.sections import dimension_label, prepare_notebook, sections_of

    nb = nbformat.read(job.notebook, as_version=4)
    return prepare_notebook(
        nb,
        sections_of(job.processed_dir, job.dimension),
        dimension=job.dimension,
        label=dimension_label(job.processed_dir, job.dimension),
    )


def _register_engine() -> str:
    """Register papermill engines "csat" (nbclient on a kernel) and "csat-direct" (no kernel,
    :mod:`csatlib.report.direct`), both with fewer notebook writes; return the first's name.

    Papermill's execution manager rewrites the output notebook when every cell (markdown
    included) starts and ends: ~90 writes of a growing file per report. These engines write it
    at most every ``_SAVE_EVERY`` seconds while cells run and always at the end, also after a
    failure or a timeout, so the kept notebook still shows which cell failed or was running.
    """
    from papermill.engines import (
        Engine,
        NBClientEngine,
        NotebookExecutionManager,
        catch_nb_assignment,
        papermill_engines,
    )

    class ThrottledManager(NotebookExecutionManager):  # type: ignore[misc]
        final = False

        def save(self, **kwargs: Any) -> None:
            elapsed = (self.now() - self.last_save_time).total_seconds()
            if self.final or elapsed >= _SAVE_EVERY:
                super().save(**kwargs)

        def notebook_complete(self, **kwargs: Any) -> None:
            self.final = True
            super().notebook_complete(**kwargs)

        @catch_nb_assignment  # type: ignore[misc]
        def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
            """papermill's, with the cell's start time read by ``datetime.fromisoformat``
            (papermill's own wrote it with ``isoformat``) instead of dateutil's parser."""
            if self.log_output:
                super().cell_complete(cell, cell_index=cell_index, **kwargs)
                return
            end = self.now()
            meta = cell.metadata.papermill
            meta["end_time"] = end.isoformat()
            if meta.get("start_time"):
                start = dt.datetime.fromisoformat(meta["start_time"])
                meta["duration"] = (end - start).total_seconds()
            if meta["status"] != self.FAILED:
                meta["status"] = self.COMPLETED
            self.save()
            if self.pbar:
                self.pbar.update(1)

    def managed(
        cls: Any,
        nb: Any,
        kernel_name: str,
        output_path: str | None = None,
        progress_bar: bool = True,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        **kwargs: Any,
    ) -> Any:  # the steps of papermill's Engine.execute_notebook, with the manager above
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

    class CsatEngine(NBClientEngine):  # type: ignore[misc]
        execute_notebook = classmethod(managed)

    class DirectEngine(Engine):  # type: ignore[misc]
        execute_notebook = classmethod(managed)

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            *,
            server: Any,
            execution_timeout: float | None = None,
            **kwargs: Any,
        ) -> None:  # in papermill's working directory: the notebook's folder
            from csatlib.report.direct import run_cells

            run_cells(nb_man, server.fork, cwd=os.getcwd(), timeout=execution_timeout)

    papermill_engines.register(_ENGINE, CsatEngine)
    papermill_engines.register(_DIRECT_ENGINE, DirectEngine)
    return _ENGINE


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


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


# ------------------------------------------------------------------------------ the executor


@contextlib.contextmanager
def open_executor(
    executor: Executor | None,
    jobs: int | None,
    scheduler: str | None,
    *,
    tasks: int,
    notebooks: int,
    processed_dir: Path,
    slices: Sequence[tuple[str, str]] = (),
    server: Any = None,
) -> Iterator[tuple[Executor, bool]]:
    """Yield ``(executor, prewarm)``; close what was opened here, never what was given.

    ``executor`` when given; else a Dask cluster's when ``scheduler`` is an address; else a local
    pool of ``jobs`` workers (at most ``tasks``) whose kernels fork from a server preloading
    ``processed_dir`` and the shared results of the reports' ``slices`` ((dimension, within)
    pairs): ``server`` when one was started already (:func:`early_fork_server`; left open
    here). ``prewarm`` says whether the jobs should ask that server for kernels.
    """
    if executor is not None:
        yield executor, False
        return
    if scheduler:
        with _dask_executor(scheduler) as dask:
            yield dask, False
        return
    workers = max(1, min(jobs or os.cpu_count() or 1, tasks))
    given = server is not None
    if not given and notebooks > 0:
        server = _start_fork_server(processed_dir, slices)
    if notebooks == 0:
        server = None
    try:
        pool = _local_pool(workers, server.address if server is not None else None)
        try:
            yield pool, server is not None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        if server is not None and not given:
            server.close()


@contextlib.contextmanager
def early_fork_server(
    processed_dir: Path, slices: Sequence[tuple[str, str]], *, local: bool
) -> Iterator[Any]:
    """The build's kernel fork server, started before the build knows what it will run
    (:func:`_start_fork_server`), closed on leaving; None unless ``local`` (the reports run in
    this machine's pool, not on a given executor or a Dask cluster).

    The server reads the tables and computes the reports' shared results
    (:func:`csatlib.report.context.warm_up`) in a process of its own, while this one syncs the
    follow-up cases and plans the build: the two no longer wait for each other. The caller
    closes it with ``close(now=True)`` when nothing is to be run; a build that fails before
    its reports run does the same here.
    """
    server = _start_fork_server(processed_dir, slices) if local else None
    try:
        yield server
    except BaseException:
        if server is not None:
            server.close(now=True)
        raise
    if server is not None:
        server.close()


@contextlib.contextmanager
def _dask_executor(scheduler: str) -> Iterator[Executor]:
    try:
        from distributed import Client
    except ImportError as exc:
        raise ReportError(
            "--scheduler needs dask.distributed, which is not installed: pip install -e '.[dask]'"
        ) from exc
    try:
        client = Client(scheduler)
    except (OSError, ValueError) as exc:  # connection refused, timed out, bad address
        raise ReportError(f"could not reach the Dask scheduler at {scheduler!r}: {exc}") from exc
    try:
        # ClientExecutor.shutdown() leaves the client open: closing it is ours to do.
        yield client.get_executor(pure=False)
    finally:
        client.close()


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


# The build's kernel fork server (see csatlib.report.kernels), as this worker process reaches it.
# The server is started once per build by the process that opens the pool (open_executor), before
# the workers start; each worker connects to it through the initializer.
_FORK_SERVER: Any = None


def _init_worker(fork_server: str | None) -> None:
    """Process-pool initializer: note the kernel fork server's address, load the renderers."""
    global _FORK_SERVER
    if fork_server:
        from csatlib.report.kernels import ForkServerClient

        _FORK_SERVER = ForkServerClient(fork_server)
    for module in _WORKER_PRELOAD:  # already there in a worker forked from a preloaded server
        importlib.import_module(module)


def _start_fork_server(processed_dir: Path, slices: Sequence[tuple[str, str]] = ()) -> Any:
    """The build's kernel fork server, preloading ``processed_dir``; None where there is none.

    Not waited for: it imports and reads while the pool's workers start and the lists are
    written, and the first kernel request waits for it. Without one (no ``fork()`` on this
    system, or it failed to start) kernels start as plain processes: slower, same results.
    """
    if not hasattr(os, "fork"):
        return None
    from csatlib.report.kernels import KernelForkServer

    try:
        return KernelForkServer(preload=processed_dir, slices=slices, wait=False)
    except Exception:  # e.g. no Unix sockets: plain kernels
        return None
