"""Pre-warmed kernels are real, separate kernels: nothing leaks from one notebook to the next."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill
import pytest
from jupyter_client.utils import run_sync

from csatlib.report.execute import KERNEL_NAME, ensure_kernel

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork server needs fork()")


@pytest.fixture(scope="module")
def server():
    from csatlib.report.kernels import KernelForkServer

    srv = KernelForkServer(("numpy", "pandas", "ipykernel.kernelapp"))
    ensure_kernel()
    yield srv
    srv.close()


def _run(server, tmp_path, name: str, source: str) -> str:
    from csatlib.report.kernels import prewarmed_kernel_manager

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "t", "language": "python"}
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    km = prewarmed_kernel_manager(server, KERNEL_NAME)
    try:
        out = papermill.execute_notebook(
            str(path),
            str(tmp_path / f"{name}.out.ipynb"),
            km=km,
            progress_bar=False,
            execution_timeout=60,
            start_timeout=60,
        )
    finally:
        run_sync(km.shutdown_kernel)(now=True)
    return out.cells[0].outputs[0]["data"]["text/plain"]


def test_each_notebook_gets_its_own_fresh_process(server, tmp_path) -> None:
    first = _run(
        server,
        tmp_path,
        "a",
        "import gc, os, sys\nLEAK = 1\nos.getpid(), 'pandas' in sys.modules, gc.get_freeze_count()",
    )
    second = _run(server, tmp_path, "b", "import os\nos.getpid(), 'LEAK' in globals()")
    pid_a, warm, frozen = eval(first)  # noqa: S307 - our own tuple repr
    pid_b, leaked = eval(second)  # noqa: S307
    assert pid_a != pid_b and pid_a != os.getpid()
    assert warm is True  # pandas was imported before the notebook asked for it
    # what the server loaded is frozen: the kernel's collections never walk (and copy) it
    assert frozen > 10_000
    assert leaked is False


def test_kernel_process_ends_with_the_notebook(server, tmp_path) -> None:
    from csatlib.report.kernels import _pid_alive

    pid, _ = eval(_run(server, tmp_path, "c", "import os\nos.getpid(), 0"))  # noqa: S307
    assert not _pid_alive(pid)


def test_server_started_after_a_notebook_ran_in_this_process_still_works(server, tmp_path) -> None:
    """A fork() of a process that has run a notebook inherits its event loop and ZeroMQ state,
    and its kernels spin forever; the server is a fresh interpreter, so this must just work."""
    from csatlib.report.kernels import KernelForkServer

    _run(server, tmp_path, "warm", "1 + 1")  # this process has now driven a kernel
    fresh = KernelForkServer(("ipykernel.kernelapp",))
    try:
        assert "2" in _run(fresh, tmp_path, "after", "1 + 1")
    finally:
        fresh.close()
    assert not fresh.alive()


def test_one_server_serves_other_processes_with_the_data_preloaded(
    ingest_raw_dir, tmp_path
) -> None:
    """Workers reach the build's one server by its address; kernels start with the tables read."""
    from csatlib.ingest.clean import build_processed
    from csatlib.report.kernels import ForkServerClient, KernelForkServer

    processed = tmp_path / "processed"
    build_processed(ingest_raw_dir, processed)
    shared = KernelForkServer(
        ("pandas", "ipykernel.kernelapp", "csatlib.report.context"), preload=processed, wait=False
    )
    clients = [ForkServerClient(shared.address), ForkServerClient(shared.address)]
    probe = (
        "import os\nfrom csatlib.ingest import clean\n"
        f"os.getpid(), os.getppid(), len(clean.load_processed('responses', {str(processed)!r}))"
        ", [key[0] for key in clean._PROCESSED_CACHE]"
    )
    try:
        results = [eval(_run(c, tmp_path, f"client{i}", probe)) for i, c in enumerate(clients)]  # noqa: S307
        assert not shared.failed_imports
    finally:
        for c in clients:
            c.close()
        shared.close()
    (pid_a, parent_a, n_a, cached_a), (pid_b, parent_b, n_b, _) = results
    assert pid_a != pid_b and parent_a == parent_b == shared.pid  # both forked by the one server
    assert n_a == n_b == 10
    # the table was already in the kernel's memory before the notebook asked for it
    assert cached_a == [str((processed / "responses.parquet").resolve())]
    assert not shared.alive()


def test_kernel_starts_plainly_when_the_server_is_gone(tmp_path) -> None:
    from csatlib.report.kernels import ForkServerClient

    gone = ForkServerClient(str(tmp_path / "no-such-server.sock"))
    assert "2" in _run(gone, tmp_path, "plain", "1 + 1")


def test_clients_start_notebooks_without_waiting_for_silence(server, tmp_path) -> None:
    from csatlib.report.execute import _plain_kernel_manager, _worker_context
    from csatlib.report.kernels import prewarmed_kernel_manager, ready_client_class

    for km in (prewarmed_kernel_manager(server, KERNEL_NAME), _plain_kernel_manager()):
        client = km.client()
        assert isinstance(client, ready_client_class())
        # the library binds wait_for_ready to its own function: ours must replace both names
        assert type(client).wait_for_ready is type(client)._async_wait_for_ready
    assert "3" in _run(server, tmp_path, "ready", "1 + 2")
    # pool workers are never forks of the building process
    assert _worker_context().get_start_method() in {"forkserver", "spawn"}


def test_a_kernel_managers_socket_folder_goes_with_the_manager(server) -> None:
    import gc

    from csatlib.report.execute import _plain_kernel_manager
    from csatlib.report.kernels import prewarmed_kernel_manager

    folders = []
    for make in (lambda: prewarmed_kernel_manager(server, KERNEL_NAME), _plain_kernel_manager):
        km = make()
        folders.append(Path(km.ip).parent)
        assert folders[-1].is_dir() and folders[-1].name.startswith("csat-kernel-")
        del km
    gc.collect()
    assert not any(folder.exists() for folder in folders)


def test_a_server_closed_now_goes_at_once_with_its_warm_up(ingest_raw_dir, tmp_path) -> None:
    """A server no longer needed (a build with nothing to run) is killed while it warms up,
    with its process group: the warm-up's forked child does not outlive it."""
    import time

    from csatlib.ingest.clean import build_processed
    from csatlib.report.kernels import KernelForkServer

    processed = tmp_path / "processed"
    build_processed(ingest_raw_dir, processed)
    early = KernelForkServer(preload=processed, slices=[("country", "")], wait=False)
    time.sleep(0.5)  # importing
    started = time.perf_counter()
    early.close(now=True)
    assert time.perf_counter() - started < 0.5
    assert not early.alive()
    with pytest.raises(ProcessLookupError):
        os.killpg(early.pid, 0)  # no process of its group is left
    early.close()  # closing twice does nothing


def test_what_the_server_could_not_load_becomes_a_build_note() -> None:
    import time

    from csatlib.report.build import _warm_up_notes
    from csatlib.report.kernels import KernelForkServer

    srv = KernelForkServer(("json", "no_such_module_for_csat"), wait=False)
    try:
        deadline = time.monotonic() + 60
        while not srv.problems() and time.monotonic() < deadline:  # never blocks
            time.sleep(0.05)
        notes = _warm_up_notes(srv)
    finally:
        srv.close()
    assert len(notes) == 1 and "no_such_module_for_csat" in notes[0]
    assert notes[0].startswith("Kernel warm-up: ") and "(slower, not different)" in notes[0]
    assert _warm_up_notes(None) == []
