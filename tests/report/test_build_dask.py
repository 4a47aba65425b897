"""The report build on a Dask distributed cluster, through the concurrent.futures interface.

A LocalCluster with in-process workers (threads) keeps the module fast: ``executor=`` gets the
client's executor, ``scheduler=`` its address. The slow test uses worker processes, where jobs,
outcomes and ``run_country`` itself travel pickled. Skipped when distributed is not installed
(``pip install -e '.[dask]'``); the pickling test runs either way.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from support.notebooks import throwaway_notebook

from csatlib import config
from csatlib.errors import ReportError
from csatlib.report import build, stamps
from csatlib.report.build import CountryJob, build_reports, run_country


def country_notebook(path: Path) -> Path:
    """A throwaway country notebook: FR raises, the others write made-up metrics."""
    return throwaway_notebook(
        path,
        'country: str = "DE"\nprocessed_dir: str = ""\nmin_n: int = 30\nmetrics_path: str = ""',
        "import json\nimport os\nfrom pathlib import Path\n\nfrom csatlib import config\n\n"
        'if country == "FR":\n    raise ValueError("boom")\n'
        'nps = {"suppressed": False, "n": 99, "score": 4.2, "ci_low": -5.0, "ci_high": 13.0}\n'
        "# Where it ran: the kernel's parent is the process that ran the task (a pool or Dask\n"
        "# worker), and the study the kernel reads is the one its environment names.\n"
        "where = {'kernel_parent_pid': os.getppid(), 'raw_dir': str(config.RAW_DIR)}\n"
        'Path(metrics_path).write_text(json.dumps({"country": country, "nps": nps, **where}))\n'
        'print(f"report of {country} in kernel pid {os.getpid()}")',
    )


def summary_notebook(path: Path) -> Path:
    return throwaway_notebook(
        path,
        'processed_dir: str = ""\nmin_n: int = 30\nwave: str = ""\nmetrics_path: str = ""',
        'print(f"GLOBAL SUMMARY min_n={min_n}")',
    )


@pytest.fixture(scope="module")
def cluster():
    from jupyter_core.utils import ensure_event_loop

    distributed = pytest.importorskip("distributed")
    # As after a notebook ran in this process (JupyterLab, an earlier test): jupyter_core's event
    # loop sits in the main context, which the in-process workers copy into both task threads.
    # Each notebook must still get an event loop of its own.
    ensure_event_loop()
    with (
        distributed.LocalCluster(
            processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield cluster, client


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from csatlib.ingest.clean import build_processed

    root = tmp_path_factory.mktemp("dask")
    build_processed(config.RAW_DIR, root / "processed")
    return {
        "processed": root / "processed",
        "reports": root / "reports",
        "notebook": country_notebook(root / "country_report.ipynb"),
        "summary": summary_notebook(root / "global_summary.ipynb"),
    }


@pytest.fixture(scope="module")
def client_build(cluster, inputs) -> dict[str, Any]:
    from distributed import get_task_stream

    _, client = cluster
    executor = client.get_executor()
    with get_task_stream(client) as stream:
        result = build_reports(
            ["DE", "FR"],
            processed_dir=inputs["processed"],
            reports_dir=inputs["reports"],
            notebook=inputs["notebook"],
            summary_notebook=inputs["summary"],
            executor=executor,
            timeout=60,
            progress=False,
        )
    return {"result": result, "executor": executor, "tasks": [t["key"] for t in stream.data]}


def _prefixes(keys: list[Any]) -> list[str]:
    return sorted(str(k).split("-", 1)[0] for k in keys)


def test_client_executor_runs_every_task_on_the_cluster(client_build, inputs) -> None:
    result = client_build["result"]
    assert [(o.country, o.status) for o in result.outcomes] == [
        ("DE", "built"),
        ("FR", "failed"),
    ], result.describe()
    assert result.outcomes[1].error == "cell In [3] raised ValueError: boom"
    assert result.summary is not None and result.summary.status == "built"
    assert result.lists is not None and result.lists.status == "built"
    # Three notebooks and the lists, each a task on the Dask worker.
    assert _prefixes(client_build["tasks"]) == ["_run_lists"] + ["run_country"] * 3
    page = (inputs["reports"] / "html" / "DE.html").read_text(encoding="utf-8")
    assert "report of DE in kernel pid" in page
    assert (inputs["reports"] / "failed" / "FR.ipynb").exists()
    assert "GLOBAL SUMMARY min_n=30" in (inputs["reports"] / "html" / "global.html").read_text()


def test_a_given_executor_is_left_open(client_build) -> None:
    assert client_build["executor"].submit(len, "abc").result(timeout=30) == 3


def test_scheduler_address_connects_runs_and_disconnects(cluster, client_build, inputs) -> None:
    from distributed import get_task_stream

    scheduler_cluster, client = cluster
    clients_before = set(scheduler_cluster.scheduler.clients)
    # As if DE's inputs had changed: only DE runs (global summary and lists are up to date).
    (inputs["reports"] / ".build" / "DE.json").write_text(json.dumps({"fingerprint": "stale"}))
    with get_task_stream(client) as stream:
        result = build_reports(
            ["DE"],
            processed_dir=inputs["processed"],
            reports_dir=inputs["reports"],
            notebook=inputs["notebook"],
            summary_notebook=inputs["summary"],
            scheduler=scheduler_cluster.scheduler_address,
            timeout=60,
            progress=False,
        )
    assert result.ok, result.describe()
    assert [o.status for o in result.outcomes] == ["built"]
    assert result.summary is not None and result.summary.status == "up to date"
    assert _prefixes([t["key"] for t in stream.data]) == ["run_country"]
    assert set(scheduler_cluster.scheduler.clients) == clients_before  # our client was closed


def test_unreachable_scheduler_is_a_clear_error(inputs) -> None:
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    (inputs["reports"] / ".build").mkdir(parents=True, exist_ok=True)
    (inputs["reports"] / ".build" / "DE.json").write_text(json.dumps({"fingerprint": "stale"}))
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(
            ReportError, match="could not reach the Dask scheduler at 'tcp://127.0.0.1:9'"
        ),
    ):
        build_reports(
            ["DE"],
            processed_dir=inputs["processed"],
            reports_dir=inputs["reports"],
            notebook=inputs["notebook"],
            summary=False,
            scheduler="tcp://127.0.0.1:9",
            progress=False,
        )


def test_jobs_and_the_task_function_pickle_for_remote_workers(tmp_path) -> None:
    job = CountryJob("DE", tmp_path / "nb.ipynb", tmp_path, tmp_path, 30, 60, "f", wave="2026-Q3")
    assert pickle.loads(pickle.dumps(job)) == job
    # By reference (module and name), so a worker imports csatlib instead of receiving code.
    assert pickle.loads(pickle.dumps(run_country)) is run_country
    assert pickle.loads(pickle.dumps(build._run_lists)) is build._run_lists
    lists_job = build._ListsJob(tmp_path, tmp_path, "f", "build")
    assert pickle.loads(pickle.dumps(lists_job)) == lists_job


def test_jobs_carry_the_study_of_the_process_that_makes_them(tmp_path) -> None:
    # Made by the build's process, read on a worker: the worker's configuration never decides
    # which study's files (CIT codebook, hand codes, account aliases) a report or the lists use.
    job = CountryJob("DE", tmp_path / "nb.ipynb", tmp_path, tmp_path, 30, 60, "f")
    assert pickle.loads(pickle.dumps(job)).raw_dir == config.RAW_DIR
    lists_job = build._ListsJob(tmp_path, tmp_path, "f")
    assert config.ACCOUNT_ALIASES.is_file()  # the sample study has aliases
    assert pickle.loads(pickle.dumps(lists_job)).aliases_path == config.ACCOUNT_ALIASES


def test_a_worker_reading_another_study_fails_the_job_and_says_how_to_start_it(
    inputs, tmp_path
) -> None:
    # As on a Dask worker started with another CSAT_RAW_DIR than the build's (here: the build's
    # is elsewhere): its kernels would read that study's CIT codebook, hand codes and aliases.
    other = tmp_path / "another_study"
    job = CountryJob(
        "DE",
        inputs["notebook"],
        inputs["processed"],
        tmp_path / "reports",
        30,
        60,
        "f",
        raw_dir=other,
    )
    outcome = run_country(job)
    assert outcome.status == "failed"
    assert outcome.error == (
        f"this worker reads the study in {config.raw_dir().resolve()}, not the build's {other} "
        "(its kernels would take the CIT codebook, hand codes and account aliases from there): "
        f"start the Dask workers with CSAT_RAW_DIR={other}"
    )
    assert not (tmp_path / "reports" / "html").exists()  # nothing ran, nothing published
    assert stamps.read_stamp(tmp_path / "reports", "DE")["status"] == "failed"  # retried next run
    assert not (tmp_path / "reports" / "failed").exists()


@pytest.mark.slow
def test_worker_processes_via_scheduler_address(inputs, tmp_path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        processes=True, n_workers=1, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        result = build_reports(
            ["DE", "FR"],
            processed_dir=inputs["processed"],
            reports_dir=tmp_path / "reports",
            notebook=inputs["notebook"],
            summary_notebook=inputs["summary"],
            scheduler=cluster.scheduler_address,
            timeout=60,
            progress=False,
        )
    assert [(o.country, o.status) for o in result.outcomes] == [("DE", "built"), ("FR", "failed")]
    assert result.summary is not None and result.summary.status == "built"
    assert result.lists is not None and result.lists.status == "built"
    assert (tmp_path / "reports" / "html" / "DE.html").exists()


# ------------------------------------------------- a cluster started from the command lines

_BIN = Path(sys.executable).parent  # the environment's own `dask` and `csat` scripts


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate, then kill what is still running after 30 s; each was started in a session of
    its own, so the kill reaches its children too (a nanny's worker, the worker's kernels)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _log_tails(logs: list[Path]) -> str:
    return "\n".join(f"--- {log.name}:\n{log.read_text(errors='replace')[-2000:]}" for log in logs)


@pytest.fixture(scope="module")
def command_line_cluster(study: Path, tmp_path_factory: pytest.TempPathFactory):
    """`dask scheduler` and two `dask worker` processes on this machine, as a team starts them.

    The workers run from a folder of their own, without CSAT_ROOT, with the study's
    CSAT_RAW_DIR (as README.md says): all they share with `csat reports` is the file system and
    that variable. Yields the scheduler's address, a client and the worker processes' ids.
    """
    distributed = pytest.importorskip("distributed")
    if not (_BIN / "dask").exists():
        pytest.skip(f"no `dask` command next to {sys.executable}")
    root = tmp_path_factory.mktemp("cluster")
    scheduler_file = root / "scheduler.json"
    env = {k: v for k, v in os.environ.items() if k != "CSAT_ROOT"}
    env["CSAT_RAW_DIR"] = str(study / "raw")
    (root / "elsewhere").mkdir()
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def start(name: str, *args: str) -> None:
        log = root / f"{name}.log"
        logs.append(log)
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [str(_BIN / "dask"), *args],
                    cwd=root / "elsewhere",
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    try:
        start(
            "scheduler",
            *("scheduler", "--host", "127.0.0.1", "--port", "0"),
            *("--scheduler-file", str(scheduler_file), "--no-dashboard"),
        )
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert processes[0].poll() is None, _log_tails(logs)
            assert time.monotonic() < deadline, "no scheduler file after 60 s\n" + _log_tails(logs)
            time.sleep(0.2)
        for name in ("worker-1", "worker-2"):
            start(
                name,
                *("worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1"),
                *("--nworkers", "1", "--nthreads", "1", "--no-dashboard"),
                *("--local-directory", str(root / name), "--death-timeout", "60"),
            )
        with distributed.Client(scheduler_file=str(scheduler_file)) as client:
            try:
                client.wait_for_workers(2, timeout=120)
            except TimeoutError:
                pytest.fail("the two workers did not join in 120 s\n" + _log_tails(logs))
            yield {
                "address": json.loads(scheduler_file.read_text())["address"],
                "client": client,
                "worker_pids": client.run(os.getpid),  # {worker address: pid}
                "logs": logs,
            }
    finally:
        _stop(processes[1:])  # the workers first, while their scheduler still answers
        _stop(processes[:1])
    assert all(p.returncode is not None for p in processes)


def _csat_reports(inputs: dict[str, Path], study: Path, address: str, *args: str):
    """`csat reports --scheduler ADDRESS` as a user runs it, from another folder, on the
    throwaway notebooks (CSAT_ROOT's notebooks/) and a copy of the study (CSAT_RAW_DIR)."""
    env = {**os.environ, "CSAT_ROOT": str(study), "CSAT_RAW_DIR": str(study / "raw")}
    return subprocess.run(
        [str(_BIN / "csat"), "reports", "--scheduler", address, "--no-progress", "--timeout", "60"]
        + ["--processed-dir", str(inputs["processed"]), "--out-dir", str(study / "reports")]
        + list(args),
        cwd=study.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def study(inputs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study")
    shutil.copytree(config.RAW_DIR, root / "raw")
    (root / "notebooks").mkdir()
    shutil.copyfile(inputs["notebook"], root / "notebooks" / build.COUNTRY_NOTEBOOK)
    shutil.copyfile(inputs["summary"], root / "notebooks" / build.SUMMARY_NOTEBOOK)
    return root


@pytest.mark.slow
def test_command_line_on_a_cluster_started_from_the_command_lines(
    command_line_cluster, inputs, study
) -> None:
    from distributed import get_task_stream

    cluster = command_line_cluster
    reports = study / "reports"
    with get_task_stream(cluster["client"]) as stream:
        done = _csat_reports(inputs, study, cluster["address"], "--countries", "DE,JP")
    assert done.returncode == 0, done.stdout + done.stderr + _log_tails(cluster["logs"])
    assert "Built 2 country reports: DE, JP." in done.stdout
    for cc in ("DE", "JP"):
        for sub, ext in (("html", "html"), ("review", "html"), ("notebooks", "ipynb")):
            assert (reports / sub / f"{cc}.{ext}").stat().st_size > 0
        metrics = json.loads((reports / "metrics" / f"{cc}.json").read_text())
        # Each kernel was started by one of the two worker processes, not by `csat reports`,
        # and read the study `csat reports` was pointed at.
        assert metrics["kernel_parent_pid"] in cluster["worker_pids"].values()
        assert metrics["raw_dir"] == str(study / "raw")
    assert (reports / "html" / "global.html").exists()
    assert (reports / "lists" / "README.txt").exists()
    assert (reports / "index.html").exists() and not (reports / ".staging").exists()
    # Two country notebooks, the global summary and the lists: four tasks, on both workers.
    assert _prefixes([t["key"] for t in stream.data]) == ["_run_lists"] + ["run_country"] * 3
    assert {t["worker"] for t in stream.data} == set(cluster["worker_pids"])


@pytest.mark.slow
def test_command_line_on_a_cluster_reports_a_failed_country_and_builds_the_others(
    command_line_cluster, inputs, study
) -> None:
    cluster = command_line_cluster
    reports = study / "reports"
    done = _csat_reports(inputs, study, cluster["address"], "--countries", "FR,JP", "--force")
    assert done.returncode == 1, done.stdout + done.stderr + _log_tails(cluster["logs"])
    assert "Built 1 country report: JP." in done.stdout
    assert "FAILED FR: cell In [3] raised ValueError: boom" in done.stdout
    assert (reports / "failed" / "FR.ipynb").exists()
    assert not (reports / "html" / "FR.html").exists()
    metrics = json.loads((reports / "metrics" / "JP.json").read_text())
    assert metrics["kernel_parent_pid"] in cluster["worker_pids"].values()
    assert "FR" in (reports / "index.html").read_text(encoding="utf-8")
