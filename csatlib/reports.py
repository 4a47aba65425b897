"""Build the per-country reports: papermill runs the notebook, nbconvert renders two HTML versions.

For each country in the processed data, :func:`build_reports`

1. runs ``notebooks/country_report.ipynb`` with papermill (parameters ``country``,
   ``processed_dir``, ``min_n``, ``metrics_path``) on the project's own kernel (``csat``,
   registered inside the virtual environment, never in the user's home);
2. checks that every code cell ran and none failed;
3. renders a distribution version (no code) and a reviewer version (with code) with nbconvert;
4. moves the executed notebook, both HTML files and the metrics JSON into place atomically
   (staged in ``reports/.staging``, then :func:`os.replace`), so a failed or interrupted run never
   leaves or publishes a half-made report; a failed country's executed notebook is kept in
   ``reports/failed/<CC>.ipynb`` for debugging;
5. writes ``reports/index.html`` with every country, its headline figures and any failure.

A country is rebuilt only when its inputs changed: the fingerprint of the notebook, the csatlib
sources, the processed data and the parameters is stored in ``reports/.build/<CC>.json``.
Countries run in parallel through a :class:`concurrent.futures.Executor`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import multiprocessing
import os
import shutil
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csatlib import config
from csatlib.errors import ReportError

__all__ = [
    "KERNEL_NAME",
    "CountryJob",
    "CountryOutcome",
    "BuildResult",
    "build_reports",
    "build_lists",
    "discover_countries",
    "ensure_kernel",
    "run_country",
    "render_html",
    "validate_executed",
    "write_index",
]

#: Name of the project's Jupyter kernel (installed into ``sys.prefix``).
KERNEL_NAME = "csat"
COUNTRY_NOTEBOOK = "country_report.ipynb"
# nbconvert template "csat": lab's look without CDN scripts or MathJax (see its index.html.j2).
_TEMPLATES = Path(__file__).resolve().parent / "templates"
# Files whose change makes every report stale.
_DATA_FILES = (
    "responses.parquet",
    "transactions.parquet",
    "revenue.parquet",
    "cleaning_summary.json",
)


@dataclass(frozen=True)
class CountryJob:
    """Everything a worker needs to build one country's report (picklable)."""

    country: str
    notebook: Path
    processed_dir: Path
    reports_dir: Path
    min_n: int
    timeout: int
    fingerprint: str
    prewarm: bool = False


@dataclass(frozen=True)
class CountryOutcome:
    """What happened to one country: built, skipped (up to date) or failed (with the error)."""

    country: str
    status: str  # "built" | "up to date" | "failed"
    seconds: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class BuildResult:
    """Outcome of :func:`build_reports`."""

    outcomes: tuple[CountryOutcome, ...]
    seconds: float
    index: Path
    lists_built: bool = False

    @property
    def ok(self) -> bool:
        """True when no country failed."""
        return not self.failed

    @property
    def failed(self) -> list[CountryOutcome]:
        """The countries whose build failed."""
        return [o for o in self.outcomes if o.status == "failed"]

    def describe(self) -> list[str]:
        """Human-readable summary lines for the command line."""
        built = [o.country for o in self.outcomes if o.status == "built"]
        fresh = [o.country for o in self.outcomes if o.status == "up to date"]
        lines = []
        if built:
            lines.append(f"Built {len(built)} country reports: {', '.join(built)}.")
        if fresh and not built and not self.failed:
            lines.append(
                f"Nothing changed since the last build: all {len(fresh)} country reports are up "
                "to date, nothing was re-run."
            )
        elif fresh:
            lines.append(f"Up to date (not re-run): {', '.join(fresh)}.")
        for o in self.failed:
            lines.append(f"FAILED {o.country}: {o.error.splitlines()[0] if o.error else ''}")
            lines.append(
                f"  executed notebook kept for debugging: {self.index.parent / 'failed'}"
                f"/{o.country}.ipynb"
            )
        if self.lists_built:
            lines.append(f"Lists (at-risk accounts, follow-ups): {self.index.parent / 'lists'}")
        lines.append(f"Index: {self.index} ({self.seconds:.1f} s)")
        if self.failed:
            lines.append(
                f"{len(self.failed)} of {len(self.outcomes)} countries failed: "
                + ", ".join(o.country for o in self.failed)
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
    table = pq.read_table(path, columns=["country", "competitor"]).to_pandas()
    own = table.loc[~table["competitor"].astype(bool), "country"].dropna()
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


def _hash_files(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.name).encode())
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _fingerprint(notebook: Path, processed_dir: Path, params: dict[str, Any]) -> str:
    package = Path(__file__).resolve().parent
    sources = _hash_files(package.glob("*.py"))
    data = _hash_files(processed_dir / name for name in _DATA_FILES)
    nb = _hash_files([notebook])
    return hashlib.sha256(
        (sources + data + nb + json.dumps(params, sort_keys=True)).encode()
    ).hexdigest()


def _stamp_path(reports_dir: Path, country: str) -> Path:
    return reports_dir / ".build" / f"{country}.json"


def _outputs(reports_dir: Path, country: str) -> dict[str, Path]:
    return {
        "notebook": reports_dir / "notebooks" / f"{country}.ipynb",
        "html": reports_dir / "html" / f"{country}.html",
        "review": reports_dir / "review" / f"{country}.html",
        "metrics": reports_dir / "metrics" / f"{country}.json",
    }


def _is_fresh(reports_dir: Path, country: str, fingerprint: str) -> bool:
    stamp = _stamp_path(reports_dir, country)
    if not stamp.exists() or not all(p.exists() for p in _outputs(reports_dir, country).values()):
        return False
    try:
        return json.loads(stamp.read_text())["fingerprint"] == fingerprint
    except (OSError, ValueError, KeyError):
        return False


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

    The distribution version hides code cells and prompts; the reviewer version keeps them.
    MathJax is left out on purpose: customer text such as "$5 and $10" must never be typeset.
    """
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="csat",
        extra_template_basedirs=[str(_TEMPLATES)],
        exclude_input=not with_code,
        exclude_input_prompt=not with_code,
        exclude_output_prompt=not with_code,
    )
    if not with_code:
        # Cells tagged "review-only" explain the code to reviewers; managers do not need them.
        from nbconvert.preprocessors import TagRemovePreprocessor

        exporter.register_preprocessor(
            TagRemovePreprocessor(remove_cell_tags={"review-only"}), enabled=True
        )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def run_country(job: CountryJob) -> CountryOutcome:
    """Build one country's report; never raises (the error travels in the outcome).

    A kernel that dies or cannot start (e.g. a port clash between parallel kernels) is retried
    once; an error inside a notebook cell is not retried.
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
        _stamp_path(job.reports_dir, job.country).unlink(missing_ok=True)
        if isinstance(exc, _KernelTrouble):
            message = f"{job.country}: the kernel failed twice: {exc}"
        elif isinstance(exc, ReportError):
            message = str(exc)
        else:
            message = traceback.format_exc()
        return CountryOutcome(job.country, "failed", time.perf_counter() - start, message)


class _KernelTrouble(ReportError):
    """The kernel died or could not start; worth one retry."""


def _build_once(job: CountryJob) -> None:
    import nbformat

    reports_dir = job.reports_dir
    stage = reports_dir / ".staging" / f"{job.country}-{uuid.uuid4().hex[:8]}"
    stage.mkdir(parents=True, exist_ok=True)
    staged_nb = stage / f"{job.country}.ipynb"
    staged_metrics = stage / f"{job.country}.json"
    try:
        try:
            _execute(job, staged_nb, staged_metrics)
        finally:
            if staged_nb.exists():  # papermill writes it even when a cell failed: keep it
                failed = reports_dir / "failed" / f"{job.country}.ipynb"
                failed.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(staged_nb, failed)
        nb = nbformat.read(staged_nb, as_version=4)
        validate_executed(nb, name=f"{job.country} notebook")
        if not staged_metrics.exists():
            raise ReportError(f"{job.country}: the notebook wrote no metrics file")
        title = f"CSAT report {job.country}"
        outputs = _outputs(reports_dir, job.country)
        staged_html = stage / "html.html"
        staged_review = stage / "review.html"
        staged_html.write_text(render_html(nb, with_code=False, title=title), encoding="utf-8")
        staged_review.write_text(render_html(nb, with_code=True, title=title), encoding="utf-8")
        # Everything is staged and valid: publish (each rename is atomic).
        for src, key in (
            (staged_nb, "notebook"),
            (staged_html, "html"),
            (staged_review, "review"),
            (staged_metrics, "metrics"),
        ):
            outputs[key].parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, outputs[key])
        _atomic_write_text(
            _stamp_path(reports_dir, job.country),
            json.dumps({"fingerprint": job.fingerprint, "built": _now()}),
        )
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _execute(job: CountryJob, staged_nb: Path, staged_metrics: Path) -> None:
    import papermill
    from jupyter_client.utils import run_sync

    km = None
    server = _fork_server() if job.prewarm else None
    if server is not None:
        from csatlib.kernels import prewarmed_kernel_manager

        km = prewarmed_kernel_manager(server, KERNEL_NAME)
    try:
        papermill.execute_notebook(
            str(job.notebook),
            str(staged_nb),
            parameters={
                "country": job.country,
                "processed_dir": str(job.processed_dir),
                "min_n": job.min_n,
                "metrics_path": str(staged_metrics),
            },
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            execution_timeout=job.timeout,
            cwd=str(job.notebook.parent),
            **({"km": km} if km is not None else {}),
        )
    except Exception as exc:  # papermill and nbclient raise their own types
        name = type(exc).__name__
        if name in {"DeadKernelError", "ZMQError"} or "Kernel died" in str(exc):
            raise _KernelTrouble(f"{name}: {_one_line(exc)}") from exc
        raise ReportError(f"{job.country}: notebook failed: {_one_line(exc)}") from exc
    finally:
        if km is not None:
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
            if km.transport == "ipc":  # the private folder of the kernel's socket files
                shutil.rmtree(Path(km.ip).parent, ignore_errors=True)


# One fork server per worker process (see csatlib.kernels); created by the pool initializer
# before the worker touches ZeroMQ.
_FORK_SERVER: Any = None


def _fork_server() -> Any:
    if _FORK_SERVER is not None and _FORK_SERVER.alive():
        return _FORK_SERVER
    return None


def _init_worker(prewarm: bool) -> None:
    """Process-pool initializer: start the kernel fork server, then load the renderers."""
    global _FORK_SERVER
    if prewarm and hasattr(os, "fork"):
        from csatlib.kernels import KernelForkServer

        _FORK_SERVER = KernelForkServer()
    import nbconvert  # noqa: F401  (imported once per worker, not once per country)
    import papermill  # noqa: F401


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    # papermill's PapermillExecutionError carries ename/evalue; its str() is a long banner.
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    if ename:
        return f"{ename}: {evalue}"
    return text[-1] if text else type(exc).__name__


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _default_executor(jobs: int | None, scheduler: str | None) -> Executor:
    if scheduler:
        try:
            from distributed import Client
        except ImportError as exc:
            raise ReportError(
                "--scheduler needs dask.distributed: pip install -e '.[dask]'"
            ) from exc
        return Client(scheduler).get_executor()
    return ProcessPoolExecutor(
        max_workers=jobs or os.cpu_count() or 1,
        # spawn, never fork: a forked worker would share this process's ZeroMQ and event-loop
        # state (e.g. after a notebook ran here), and its kernels would spin forever.
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(True,),
    )


def build_lists(processed_dir: Path, lists_dir: Path) -> tuple[Path, ...]:
    """Write the closing-the-loop lists into ``lists_dir`` (``reports/lists``).

    - ``accounts/at_risk_<CC>.csv`` and ``at_risk_all.csv``: for account managers, account-level
      aggregates only (:func:`csatlib.accounts.at_risk_list`); ``accounts/review_pairs.csv``:
      similar account names the matcher did not merge silently, for the CSAT team to decide.
    - ``followup/``: recovery calls (transaction CSAT 1-2) per region, testimonials (4-5) and
      complaint callbacks, with contact details only for respondents who gave permission
      (:func:`csatlib.followup.write_followup_lists`).
    - ``revenue/unmatched_revenue.csv`` and ``unmatched_survey.csv``: accounts on one side only.

    Every CSV goes through :func:`csatlib.safety.write_csv_safely` (formula cells neutralized).
    """
    import pandas as pd

    from csatlib import accounts, followup, safety
    from csatlib.clean import load_processed

    responses = load_processed("responses", processed_dir)
    transactions = load_processed("transactions", processed_dir)
    revenue = load_processed("revenue", processed_dir)
    aliases = (
        pd.read_csv(config.ACCOUNT_ALIASES, dtype=str, keep_default_na=False)
        if config.ACCOUNT_ALIASES.exists()
        else None
    )
    match = accounts.match_accounts(responses["account"], aliases=aliases)
    at_risk = accounts.at_risk_list(responses, match, revenue=revenue)
    written = list(accounts.write_account_lists(at_risk, lists_dir / "accounts"))
    review = lists_dir / "accounts" / "review_pairs.csv"
    safety.write_csv_safely(match.review, review)
    written.append(review)
    written += followup.write_followup_lists(transactions, responses, lists_dir / "followup")
    summary = accounts.account_summary(responses, match, revenue=revenue)
    linkage = accounts.revenue_linkage(summary, revenue, match=match)
    for name in ("unmatched_revenue", "unmatched_survey"):
        path = lists_dir / "revenue" / f"{name}.csv"
        safety.write_csv_safely(getattr(linkage, name), path)
        written.append(path)
    return tuple(written)


def _build_lists_if_stale(processed_dir: Path, reports_dir: Path, fingerprint: str) -> bool:
    stamp = reports_dir / ".build" / "lists.json"
    try:
        if json.loads(stamp.read_text())["fingerprint"] == fingerprint:
            return False
    except (OSError, ValueError, KeyError):
        pass
    build_lists(processed_dir, reports_dir / "lists")
    _atomic_write_text(stamp, json.dumps({"fingerprint": fingerprint, "built": _now()}))
    return True


def build_reports(
    countries: Sequence[str] | None = None,
    *,
    processed_dir: Path = config.PROCESSED_DIR,
    reports_dir: Path = config.REPORTS_DIR,
    notebook: Path | None = None,
    min_n: int = config.DEFAULT_MIN_N,
    jobs: int | None = None,
    force: bool = False,
    timeout: int = 600,
    scheduler: str | None = None,
    executor: Executor | None = None,
    progress: bool = True,
) -> BuildResult:
    """Build every country's report (only those whose inputs changed) and the index page.

    Parameters
    ----------
    countries
        ISO alpha-2 codes to build; default every country with own-brand responses.
    processed_dir, reports_dir
        Input and output folders.
    notebook
        The country notebook (default ``notebooks/country_report.ipynb``).
    min_n
        Small-cell minimum passed to the notebook.
    jobs
        Parallel workers of the default process pool (default: number of cores).
    force
        Rebuild even when the fingerprint is unchanged.
    timeout
        Seconds allowed per notebook cell.
    scheduler
        Address of a Dask distributed scheduler to run on instead of the local pool.
    executor
        Any :class:`concurrent.futures.Executor` (overrides ``jobs`` and ``scheduler``).
    progress
        Show a progress bar (countries done / total) on stderr.

    Returns
    -------
    BuildResult
        Per-country outcomes, elapsed seconds and the index path. Failures do not raise: one
        country's failure never stops the others; check ``result.ok``.
    """
    processed_dir = Path(processed_dir).resolve()
    reports_dir = Path(reports_dir).resolve()
    notebook = Path(notebook or config.NOTEBOOKS_DIR / COUNTRY_NOTEBOOK).resolve()
    start = time.perf_counter()
    available = discover_countries(processed_dir)
    if countries:
        unknown = sorted(set(countries) - set(available))
        if unknown:
            raise ReportError(
                f"countries {unknown} have no responses in {processed_dir / 'responses.parquet'}; "
                f"available: {', '.join(available)}"
            )
        selected = list(countries)
    else:
        selected = available
    params = {"min_n": min_n, "timeout": timeout}
    fingerprint = _fingerprint(notebook, processed_dir, params)
    jobs_todo: list[CountryJob] = []
    outcomes: dict[str, CountryOutcome] = {}
    for country in selected:
        if not force and _is_fresh(reports_dir, country, fingerprint):
            outcomes[country] = CountryOutcome(country, "up to date")
        else:
            jobs_todo.append(
                CountryJob(
                    country, notebook, processed_dir, reports_dir, min_n, timeout, fingerprint
                )
            )
    if jobs_todo:
        ensure_kernel()
        own_executor = executor is None
        pool = executor or _default_executor(jobs, scheduler)
        # Pre-warmed kernels only in our own local pool, whose initializer starts the fork server.
        prewarm = own_executor and not scheduler
        jobs_todo = [dataclasses.replace(job, prewarm=prewarm) for job in jobs_todo]
        try:
            for outcome in _run_all(pool, jobs_todo, progress=progress):
                outcomes[outcome.country] = outcome
        finally:
            if own_executor:
                pool.shutdown()
        shutil.rmtree(reports_dir / ".staging", ignore_errors=True)
    lists_built = _build_lists_if_stale(processed_dir, reports_dir, fingerprint)
    ordered = tuple(outcomes[c] for c in selected)
    index = write_index(reports_dir, ordered, seconds=time.perf_counter() - start)
    return BuildResult(ordered, time.perf_counter() - start, index, lists_built)


def _run_all(pool: Executor, jobs: list[CountryJob], *, progress: bool) -> Iterable[CountryOutcome]:
    from tqdm import tqdm

    futures: dict[Future[CountryOutcome], CountryJob] = {
        pool.submit(run_country, job): job for job in jobs
    }
    bar: Callable[..., Any] = tqdm if progress else _no_bar
    with bar(total=len(jobs), desc="country reports", unit="country", file=sys.stderr) as pbar:
        for future in as_completed(futures):
            job = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # a dead worker process; the others go on
                outcome = CountryOutcome(job.country, "failed", 0.0, f"worker died: {exc!r}")
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


def _load_metrics(reports_dir: Path, country: str) -> dict[str, Any] | None:
    path = _outputs(reports_dir, country)["metrics"]
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _fmt(value: Any, spec: str = "+.1f") -> str:
    if value is None:
        return "suppressed"
    try:
        return format(float(value), spec)
    except (TypeError, ValueError):
        return html.escape(str(value))


def write_index(reports_dir: Path, outcomes: Sequence[CountryOutcome], *, seconds: float) -> Path:
    """Write ``reports/index.html``: every country, its headline figures, links, failures."""
    esc = html.escape
    rows = []
    for outcome in outcomes:
        cc = esc(outcome.country)
        metrics = _load_metrics(reports_dir, outcome.country)
        if outcome.status == "failed":
            status = f'<span class="failed">failed</span>: <code>{esc(outcome.error[:500])}</code>'
        else:
            status = esc(outcome.status)
        if metrics and outcome.status != "failed":
            nps = metrics.get("nps") or {}
            headline = (
                f"<td>{esc(str(metrics.get('wave', '')))}</td><td>{metrics.get('n', '')}</td>"
                f"<td>{_fmt(nps.get('score'))}</td>"
                f"<td>{_fmt(nps.get('ci_low'))} to {_fmt(nps.get('ci_high'))}</td>"
            )
            links = f'<a href="html/{cc}.html">report</a> · <a href="review/{cc}.html">review</a>'
        else:
            headline = "<td></td><td></td><td></td><td></td>"
            links = ""
        rows.append(f"<tr><th>{cc}</th>{headline}<td>{links}</td><td>{status}</td></tr>")
    failed = [o for o in outcomes if o.status == "failed"]
    banner = (
        f'<p class="failed">{len(failed)} country build(s) failed: '
        f"{esc(', '.join(o.country for o in failed))}.</p>"
        if failed
        else ""
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>CSAT reports</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: .3rem .8rem; border-bottom: 1px solid #ddd; text-align: left; }}
.failed {{ color: #b00020; font-weight: 600; }}
</style></head>
<body>
<h1>CSAT reports</h1>
<p>Built {esc(_now())} in {seconds:.1f} s. Net Promoter Score of own-brand customers, latest wave,
with its 95% confidence interval; cells below the small-cell minimum are suppressed.</p>
{banner}
<table>
<thead><tr><th>Country</th><th>Wave</th><th>n</th><th>NPS</th><th>95% CI</th><th>Versions</th>
<th>Status</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""
    index = reports_dir / "index.html"
    _atomic_write_text(index, page)
    return index
