"""Run a notebook's cells without a Jupyter kernel: in a process forked from the build's fork
server, talking to the build's worker over one Unix socket.

A Jupyter kernel runs a cell on behalf of a client: every output is a signed ZeroMQ message
(the cell's input, status busy and idle, each stream write, each figure) that the client
decodes, validates and files under its cell. None of it is needed when the notebook runs
unattended. Measured on the sample's 13 country reports, built back to back: 45.0
core-seconds with kernels, 42.6 and 43.4 without.

Here the forked child runs the same IPython shell a kernel runs (:class:`NotebookShell`, an
:class:`IPython.core.interactiveshell.InteractiveShell` whose outputs are collected instead of
printed) on the notebook's code cells in order, and sends each cell's outputs, in nbformat's
form, when the cell ends. The worker (:func:`run_cells`) files them into the notebook through
papermill's execution manager, as papermill's own engine does: the same cell metadata, the
same first-error stop, the same notebook. What a kernel would show is shown here: the rich
displays of every object (``text/html`` and ``text/plain`` of a table, ``image/png`` of an
inline figure), ``print`` and warnings as ``stdout``/``stderr`` streams, the value of a cell's
last expression (unless it ends with ``;``), and an exception as an ``error`` output with its
IPython traceback.

The child is a new process per notebook, as a kernel is, so reports stay isolated; a cell that
runs longer than the timeout has its child killed; a child that dies is reported as a kernel
that died (:class:`nbclient.exceptions.DeadKernelError`, retried once by the build).
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import platform
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

__all__ = ["LANGUAGE_INFO", "NoForkServer", "NotebookShell", "run_cells", "serve_notebook"]

#: What an IPython kernel reports as its language (the notebook's ``language_info``).
LANGUAGE_INFO: dict[str, Any] = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": platform.python_version(),
}


class NoForkServer(Exception):
    """The fork server could not be reached: no cell ran (start a kernel instead)."""


class _Outputs:
    """One cell's outputs, in nbformat's form and in the order a kernel sends them.

    As in ipykernel, ``stdout`` and ``stderr`` are buffered and flushed (``stdout`` first) before
    each display, result or error and at the cell's end; a flushed text joins the previous
    output when that is a stream of the same name, as nbclient files it.
    """

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.pending = {"stdout": "", "stderr": ""}
        self.clear_on_next = False

    def _add(self, item: dict[str, Any]) -> None:
        if self.clear_on_next:
            self.items.clear()
            self.clear_on_next = False
        self.items.append(item)

    def stream(self, name: str, text: str) -> None:
        self.pending[name] += text

    def flush(self) -> None:
        for name in ("stdout", "stderr"):
            text, self.pending[name] = self.pending[name], ""
            if not text:
                continue
            last = self.items[-1] if self.items and not self.clear_on_next else None
            if last is not None and last["output_type"] == "stream" and last["name"] == name:
                last["text"] += text
            else:
                self._add({"output_type": "stream", "name": name, "text": text})

    def display(self, data: dict[str, Any], metadata: dict[str, Any] | None) -> None:
        self.flush()
        self._add(
            {"output_type": "display_data", "data": _json_data(data), "metadata": metadata or {}}
        )

    def result(self, data: dict[str, Any], metadata: dict[str, Any] | None, count: int) -> None:
        self.flush()
        self._add(
            {
                "output_type": "execute_result",
                "data": _json_data(data),
                "metadata": metadata or {},
                "execution_count": count,
            }
        )

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        self.flush()
        self._add(
            {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback}
        )

    def clear(self, wait: bool) -> None:
        self.flush()
        if wait:
            self.clear_on_next = True
        else:
            self.items.clear()


def _json_data(data: dict[str, Any]) -> dict[str, Any]:
    """A display's mime bundle as JSON has it: bytes (a PNG) base64-encoded, as a kernel sends."""
    return {
        mime: base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
        for mime, value in data.items()
    }


class _Stream(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` of the child: writes go to the running cell's outputs."""

    def __init__(self, shell: NotebookShell, name: str) -> None:
        self._shell = shell
        self.name = name

    def write(self, text: str) -> int:
        self._shell.outputs.stream(self.name, str(text))
        return len(text)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


def _shell_class() -> type:
    """:class:`NotebookShell`, built on first use (IPython is imported then, not at import)."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Publisher(DisplayPublisher):  # type: ignore[misc]
        def publish(  # noqa: PLR0913 - IPython's signature
            self,
            data: dict[str, Any],
            metadata: dict[str, Any] | None = None,
            source: Any = None,
            *,
            transient: Any = None,
            update: bool = False,
            **kwargs: Any,
        ) -> None:
            self.shell.outputs.display(data, metadata)

        def clear_output(self, wait: bool = False) -> None:
            self.shell.outputs.clear(wait)

    class Hook(DisplayHook):  # type: ignore[misc]
        def write_output_prompt(self) -> None:  # no "Out[n]:" prompt
            pass

        def write_format_data(self, format_dict: dict, md_dict: dict | None = None) -> None:
            self.shell.outputs.result(format_dict, md_dict, self.prompt_count)

        def finish_displayhook(self) -> None:  # no separator written to stdout
            pass

    class Shell(InteractiveShell):  # type: ignore[misc]
        """IPython's shell, its displays, results and tracebacks collected per cell."""

        displayhook_class = Hook
        display_pub_class = Publisher

        def __init__(self, **kwargs: Any) -> None:
            self.outputs = _Outputs()
            super().__init__(**kwargs)

        def enable_gui(self, gui: str | None = None) -> None:
            """No GUI event loop: figures are inline (what ``%matplotlib inline`` asks)."""

        def _showtraceback(self, etype: type, evalue: BaseException, stb: list[str]) -> None:
            self.outputs.error(etype.__name__, str(evalue), list(stb))

        def run(self, source: str) -> tuple[list[dict[str, Any]], int, bool]:
            """Run one cell: (its outputs, its execution count, whether it raised)."""
            self.outputs = _Outputs()
            count = self.execution_count
            result = self.run_cell(source, store_history=True)
            self.outputs.flush()
            failed = not result.success
            if failed and not any(o["output_type"] == "error" for o in self.outputs.items):
                error = result.error_in_exec or result.error_before_exec
                self.outputs.error(type(error).__name__, str(error), [repr(error)])
            return self.outputs.items, count, failed

    return Shell


def NotebookShell() -> Any:  # noqa: N802 - a factory standing for the class it returns
    """A fresh shell for one notebook (history in memory, outputs collected per cell); its
    ``run(source)`` returns ``(outputs, execution_count, failed)``. ``sys.stdout`` and
    ``sys.stderr`` are this shell's running cell from now on."""
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.xmode = "Context"
    shell = _shell_class().instance(config=config)
    sys.stdout = _Stream(shell, "stdout")
    sys.stderr = _Stream(shell, "stderr")
    return shell


# ------------------------------------------------------------------------------ the child


def serve_notebook(request: dict[str, Any]) -> None:  # pragma: no cover - a forked child
    """Run ``request["cells"]`` ((index, source) pairs) and send each cell's outcome to the
    worker listening at ``request["reply"]``; never returns (the child exits)."""
    code = 0
    try:
        from csatlib.report.kernels import detach_child, send_message

        detach_child(request)
        reply = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        reply.connect(request["reply"])
        shell = NotebookShell()
        for index, source in request["cells"]:
            outputs, count, failed = shell.run(source)
            send_message(
                reply, {"cell": index, "outputs": outputs, "count": count, "failed": failed}
            )
            if failed:
                break
        send_message(reply, {"end": True})
        reply.close()
    except BaseException:  # noqa: BLE001 - the worker sees the closed socket: the child died
        code = 1
    finally:
        os._exit(code)


# ------------------------------------------------------------------------------ the worker


def run_cells(
    nb_man: Any,
    spawn: Callable[[dict[str, Any]], int],
    *,
    cwd: str | None,
    timeout: float | None,
    start_timeout: float = 120.0,
) -> None:
    """Run ``nb_man.nb``'s code cells in a child that ``spawn(request)`` forks (returning its
    pid), filing each cell's outputs as papermill's nbclient engine does.

    Raises
    ------
    NoForkServer
        ``spawn`` could not reach the fork server (nothing ran).
    nbclient.exceptions.CellTimeoutError
        A cell ran longer than ``timeout`` seconds (its child is killed).
    nbclient.exceptions.DeadKernelError
        The child died or never answered.
    """
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    nb = nb_man.nb
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    cells = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    folder = tempfile.mkdtemp(prefix="csat-direct-")  # private (mode 0700)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = None
    try:
        address = os.path.join(folder, "reply.sock")
        listener.bind(address)
        listener.listen(1)
        request = {"op": "run", "cells": cells, "cwd": cwd, "env": dict(os.environ)}
        try:
            pid = spawn({**request, "reply": address})
        except OSError as exc:
            raise NoForkServer(f"the fork server could not be reached: {exc}") from exc
        listener.settimeout(start_timeout)
        try:
            conn, _ = listener.accept()
        except TimeoutError as exc:
            raise DeadKernelError(
                f"Kernel died: the notebook process {pid} never answered"
            ) from exc
        with conn:
            for index, cell in enumerate(nb.cells):
                try:
                    nb_man.cell_start(cell, index)
                    if cell.cell_type != "code":
                        continue
                    message = _next_message(conn, timeout, pid, cell)
                    if message.get("cell") != index:
                        raise DeadKernelError(
                            f"Kernel died: expected cell {index}, got {message!r}"
                        )
                    cell.outputs = [_output(o) for o in message["outputs"]]
                    cell.execution_count = message["count"]
                    if message["failed"]:
                        raise CellExecutionError.from_cell_and_msg(cell, _error_content(cell))
                except CellExecutionError as exc:
                    nb_man.cell_exception(nb.cells[index], cell_index=index, exception=exc)
                    break
                finally:
                    nb_man.cell_complete(nb.cells[index], cell_index=index)
    finally:
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)  # done or abandoned: nothing of it stays


def _next_message(conn: socket.socket, timeout: float | None, pid: int, cell: Any) -> dict:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from csatlib.report.kernels import recv_message

    conn.settimeout(timeout if timeout and timeout > 0 else None)
    started = time.monotonic()
    try:
        return recv_message(conn)
    except TimeoutError as exc:
        raise CellTimeoutError.error_from_timeout_and_cell(
            f"Cell execution timed out after {time.monotonic() - started:.0f} s", timeout, cell
        ) from exc
    except (ConnectionError, OSError, EOFError) as exc:
        raise DeadKernelError(f"Kernel died: the notebook process {pid} ended ({exc})") from exc


def _output(item: dict[str, Any]) -> Any:
    """One output as a notebook node. The child sends it in nbformat's form
    (:class:`_Outputs`), and the notebook is validated whole when papermill writes it, so it is
    not validated here one output at a time (as ``nbformat.v4.output_from_msg`` would)."""
    from nbformat import from_dict

    return from_dict(item)


def _error_content(cell: Any) -> dict[str, Any]:
    error = next((o for o in cell.outputs if o.output_type == "error"), None)
    if error is None:
        return {"ename": "Error", "evalue": "", "traceback": []}
    return {"ename": error.ename, "evalue": error.evalue, "traceback": list(error.traceback)}
