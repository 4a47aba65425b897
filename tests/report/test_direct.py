"""A notebook run without a kernel (csatlib.report.direct) shows what a kernel shows.

The same notebook runs through papermill twice: on the ``csat`` kernel (nbclient) and on the
fork server's kernel-less engine. Every output must match in type, order and content: streams
(merged as nbclient merges them), rich displays, the last expression's value (not when the cell
ends with ``;``), an inline figure, ``clear_output``, and the first error, after which nothing
runs. A cell that runs too long or kills its process is reported as a kernel's would be.
"""

from __future__ import annotations

import os
import time

import nbformat
import papermill
import pytest
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError

from csatlib.report import execute
from csatlib.report.execute import KERNEL_NAME, ensure_kernel

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the direct engine forks")

CELLS = [
    "%matplotlib inline\nimport sys, warnings\nimport pandas as pd\n"
    "from IPython.display import HTML, Markdown, display, clear_output",
    "print('a')\nprint('b', file=sys.stderr)\nprint('c')\nprint('d', file=sys.stderr)",
    "warnings.warn('careful <here>')",
    "display(HTML('<b>x &amp; y</b>'), Markdown('*m*'))\npd.DataFrame({'a': [1, 2]})",
    "1 + 1;",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 2))\nax.plot([0, 1]);",
    "print('gone')\nclear_output()\nprint('kept')",
    "x = 2\nx",
    "raise ValueError('bad <input>')",
    "print('never runs')",
]


@pytest.fixture(scope="module")
def server():
    from csatlib.report.kernels import KernelForkServer

    srv = KernelForkServer(("numpy", "pandas", "matplotlib.pyplot", "IPython"))
    ensure_kernel()
    yield srv
    srv.close()


def _notebook(tmp_path, cells: list[str], name: str) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("# a heading"))
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "t", "language": "python"}
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return str(path)


def _execute(path: str, out: str, **engine) -> nbformat.NotebookNode:
    execute._register_engine()
    try:
        papermill.execute_notebook(
            path,
            out,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            cwd=os.path.dirname(path),
            **engine,
        )
    except PapermillExecutionError as exc:
        assert exc.ename == "ValueError" and exc.evalue == "bad <input>"
    return nbformat.read(out, as_version=4)


def _comparable(output: nbformat.NotebookNode) -> tuple:
    kind = output.output_type
    if kind == "stream":
        text = output.text
        if "UserWarning" in text:  # the cell's file name differs (kernel: a temporary file)
            text = text[text.index("UserWarning") :].splitlines()[0]
        return kind, output.name, text
    if kind == "error":
        return kind, output.ename, output.evalue, any("ValueError" in t for t in output.traceback)
    data = {k: ("<png>" if k == "image/png" else v) for k, v in output.data.items()}
    return kind, data, output.get("execution_count")


def test_outputs_equal_those_of_a_kernel(server, tmp_path) -> None:
    path = _notebook(tmp_path, CELLS, "cells")
    kernel = _execute(path, str(tmp_path / "kernel.ipynb"), engine_name="csat")
    direct = _execute(
        path, str(tmp_path / "direct.ipynb"), engine_name="csat-direct", server=server
    )
    assert direct.metadata.language_info == kernel.metadata.language_info
    for ours, theirs in zip(direct.cells, kernel.cells, strict=True):
        if ours.cell_type != "code":  # papermill's error notice on top has no metadata
            assert ours.source == theirs.source
            mine, its = (c.metadata.get("papermill", {}) for c in (ours, theirs))
            assert mine.get("status") == its.get("status")
            continue
        assert ours.execution_count == theirs.execution_count, ours.source
        assert [_comparable(o) for o in ours.outputs] == [_comparable(o) for o in theirs.outputs], (
            ours.source
        )
        for key in ("status", "exception"):
            assert ours.metadata.papermill[key] == theirs.metadata.papermill[key], ours.source
    figure = next(c for c in direct.cells if "subplots" in c.source).outputs
    assert [o.output_type for o in figure] == ["display_data"] and "image/png" in figure[0].data
    assert direct.cells[-1].execution_count is None and direct.cells[-1].outputs == []


def _gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie counts): it may also end between the two looks, and
    reading the status of a process reaped meanwhile fails with ESRCH or ENOENT."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(")")[-1].split()[0] == "Z"
    except (ProcessLookupError, FileNotFoundError):
        return True


def test_a_cell_past_its_timeout_has_its_process_killed(server, tmp_path) -> None:
    path = _notebook(
        tmp_path, ["import os\nprint(os.getpid())", "import time\ntime.sleep(60)"], "t"
    )
    out = str(tmp_path / "t.out.ipynb")
    started = time.monotonic()
    with pytest.raises(CellTimeoutError):
        _execute(path, out, engine_name="csat-direct", server=server, execution_timeout=1)
    assert time.monotonic() - started < 30
    kept = nbformat.read(out, as_version=4)  # the notebook still says which cell was running
    assert kept.cells[2].metadata.papermill["start_time"]
    pid = int(kept.cells[0].outputs[0].text)
    deadline = time.monotonic() + 5
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid)


def test_a_process_that_dies_is_a_dead_kernel(server, tmp_path) -> None:
    path = _notebook(tmp_path, ["x = 1", "import os\nos._exit(3)", "x"], "dies")
    with pytest.raises(DeadKernelError, match="Kernel died"):
        _execute(path, str(tmp_path / "dies.out.ipynb"), engine_name="csat-direct", server=server)


def test_each_notebook_runs_in_a_fresh_process(server, tmp_path) -> None:
    first = _notebook(tmp_path, ["import os\nleak = 1\nos.getpid()"], "one")
    second = _notebook(tmp_path, ["import os\n'leak' in dir(), os.getpid()"], "two")
    a = _execute(first, str(tmp_path / "one.out.ipynb"), engine_name="csat-direct", server=server)
    b = _execute(second, str(tmp_path / "two.out.ipynb"), engine_name="csat-direct", server=server)
    pid_a = int(a.cells[0].outputs[0].data["text/plain"])
    leaked, pid_b = b.cells[0].outputs[0].data["text/plain"].strip("()").split(", ")
    assert leaked == "False" and int(pid_b) != pid_a != os.getpid()
