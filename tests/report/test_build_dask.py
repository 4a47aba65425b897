"""The report build on a Dask distributed cluster, through the concurrent.futures interface.

A LocalCluster with in-process workers (threads) keeps the module fast: ``executor=`` gets the
client's executor, ``scheduler=`` its address. The slow test uses worker processes, where jobs,
outcomes and ``run_country`` itself travel pickled. Skipped when distributed is not installed
(``pip install -e '.[dask]'``); the pickling test runs either way.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import nbformat
import pytest

from csatlib import config
from csatlib.errors import ReportError
from csatlib.report import build
from csatlib.report.build import CountryJob, build_reports, run_country


def _notebook(path: Path, parameters: str, body: str) -> Path:
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "csat", "display_name": "csat", "language": "python"}
    nbformat.write(nb, path)
    return path


def country_notebook(path: Path) -> Path:
    """A throwaway country notebook: FR raises, the others write made-up metrics."""
    return _notebook(
        path,
        'country: str = "DE"\nprocessed_dir: str = ""\nmin_n: int = 30\nmetrics_path: str = ""',
        "import json\nimport os\nfrom pathlib import Path\n\n"
        'if country == "FR":\n    raise ValueError("boom")\n'
        'nps = {"suppressed": False, "n": 99, "score": 4.2, "ci_low": -5.0, "ci_high": 13.0}\n'
        'Path(metrics_path).write_text(json.dumps({"country": country, "nps": nps}))\n'
        'print(f"report of {country} in kernel pid {os.getpid()}")',
    )


def summary_notebook(path: Path) -> Path:
    return _notebook(
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
