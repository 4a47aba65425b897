"""Pre-warmed Jupyter kernels: a fork server that has done the heavy imports forks one fresh kernel
per notebook.

A fresh IPython kernel spends most of its first seconds importing pandas, statsmodels, seaborn and
matplotlib. :class:`KernelForkServer` is a small process that imports them once and then, on
request, ``fork()``s a child that becomes an ordinary ipykernel on the connection file it is given.
Every notebook still gets its own process, started from the same clean state (only the imports
have run), and that process ends with the notebook, so reports stay isolated from one another.

:func:`prewarmed_kernel_manager` returns a :class:`jupyter_client.AsyncKernelManager` whose
provisioner launches through the fork server; hand it to papermill as ``km=...``. The fork server
is started before this process touches ZeroMQ (a forked child must not inherit live sockets), and
children are reaped by the fork server (``SIGCHLD`` ignored), so a kernel's liveness is checked by
pid.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "WARM_IMPORTS",
    "KernelForkServer",
    "ForkedKernelProcess",
    "prewarmed_kernel_manager",
]

#: Modules imported once by the fork server, so that kernels start with them already loaded.
WARM_IMPORTS: tuple[str, ...] = (
    "numpy",
    "pandas",
    "scipy.stats",
    "statsmodels.api",
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib_inline.backend_inline",
    "seaborn",
    "pyarrow.parquet",
    "ipykernel.kernelapp",
    "IPython",
    "sklearn.linear_model",
    "rapidfuzz",
    "csatlib.accounts",
    "csatlib.cit",
    "csatlib.clean",
    "csatlib.context",
    "csatlib.drivers",
    "csatlib.followup",
    "csatlib.loyalty",
    "csatlib.metrics",
    "csatlib.plots",
    "csatlib.scores",
    "csatlib.screens",
    "csatlib.summary",
    "csatlib.tables",
)


def _send(sock: socket.socket, obj: Any) -> None:
    data = pickle.dumps(obj)
    sock.sendall(struct.pack("!I", len(data)) + data)


def _recv(sock: socket.socket) -> Any:
    header = _recv_exact(sock, 4)
    (size,) = struct.unpack("!I", header)
    return pickle.loads(_recv_exact(sock, size))


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            raise ConnectionError("kernel fork server closed the connection")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _serve(sock: socket.socket, imports: Sequence[str]) -> None:  # pragma: no cover - child
    """Fork-server main loop (runs in the server process)."""
    import importlib

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    failed = []
    for name in imports:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a missing optional module only costs start-up time
            failed.append(f"{name}: {exc!r}")
    try:  # compile the study's CIT codebook once (cached by csatlib.cit for every kernel)
        from csatlib import cit, config

        if config.CIT_CODEBOOK.exists():
            cit.load_cit_codebook(config.CIT_CODEBOOK)
    except Exception as exc:  # a broken codebook is reported by the notebook that loads it
        failed.append(f"CIT codebook warm-up: {exc!r}")
    try:  # draw once so that fonts and the PNG writer are loaded before any kernel forks
        import io

        from matplotlib.figure import Figure

        fig = Figure()
        fig.add_subplot().plot([0, 1], [0, 1], label="warm")
        fig.legend()
        fig.savefig(io.BytesIO(), format="png")
    except Exception as exc:  # only start-up time is lost
        failed.append(f"matplotlib warm-up: {exc!r}")
    _send(sock, {"ready": True, "failed_imports": failed})
    while True:
        try:
            request = _recv(sock)
        except (ConnectionError, OSError):
            os._exit(0)
        if request.get("op") == "exit":
            os._exit(0)
        pid = os.fork()
        if pid == 0:
            sock.close()
            _become_kernel(request)
        _send(sock, {"pid": pid})


def _become_kernel(request: dict[str, Any]) -> None:  # pragma: no cover - child
    """Turn the freshly forked child into an ipykernel on the requested connection file."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        if request.get("cwd"):
            os.chdir(request["cwd"])
        os.environ.update(request.get("env") or {})
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=list(request["argv"]))
    finally:
        os._exit(0)


class KernelForkServer:
    """A process that has imported :data:`WARM_IMPORTS` and forks kernels on request.

    The server is a fresh interpreter (``python -m csatlib.kernels``), never a ``fork()`` of the
    caller: a caller that has already run a notebook holds a ZeroMQ context and an asyncio event
    loop whose epoll descriptor a forked child would share, and such children spin on EINTR
    forever. Use :meth:`spawn` with the argument list ipykernel expects after
    ``-m ipykernel_launcher`` (``["-f", connection_file]``).
    """

    def __init__(self, imports: Sequence[str] = WARM_IMPORTS, *, timeout: float = 120.0) -> None:
        parent, child = socket.socketpair()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "csatlib.kernels", str(child.fileno()), *imports],
            pass_fds=[child.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        child.close()
        self.pid = self._proc.pid
        self._sock = parent
        self._sock.settimeout(timeout)
        hello = _recv(parent)
        self._sock.settimeout(None)
        self.failed_imports: list[str] = hello.get("failed_imports", [])

    def spawn(self, argv: Sequence[str], *, env: dict[str, str], cwd: str | None) -> int:
        """Fork a kernel; return its pid."""
        _send(self._sock, {"argv": list(argv), "env": dict(env), "cwd": cwd})
        return int(_recv(self._sock)["pid"])

    def alive(self) -> bool:
        """True while the fork server process runs."""
        return self._proc.poll() is None

    def close(self) -> None:
        """Stop the fork server (kernels it started keep running until shut down)."""
        with contextlib.suppress(OSError):
            _send(self._sock, {"op": "exit"})
        self._sock.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); read its state where /proc exists.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


class ForkedKernelProcess:
    """The subset of :class:`subprocess.Popen` that jupyter_client's provisioner uses."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not _pid_alive(self.pid):
            self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"kernel pid {self.pid} still running")
            time.sleep(0.02)
        return int(self.returncode or 0)

    def send_signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def prewarmed_kernel_manager(server: KernelForkServer, kernel_name: str) -> Any:
    """An ``AsyncKernelManager`` for ``kernel_name`` whose kernel is forked by ``server``."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):  # type: ignore[misc]
        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            try:
                start = cmd.index("ipykernel_launcher") + 1
            except ValueError:
                return await super().launch_kernel(cmd, **kwargs)  # not an ipykernel: plain start
            env = kwargs.get("env") or {}
            cwd = kwargs.get("cwd")
            pid = server.spawn(cmd[start:], env=env, cwd=str(cwd) if cwd else None)
            self.process = ForkedKernelProcess(pid)
            self.pid = pid
            self.pgid = pid  # the child called setsid(): its own process group
            self.cwd = cwd
            return self.connection_info

    km = AsyncKernelManager(kernel_name=kernel_name)
    # IPC sockets instead of TCP ports: parallel kernels cannot clash over a port, and nothing
    # listens on the network. Socket files live in a private temporary folder.
    km.transport = "ipc"
    km.ip = str(Path(tempfile.mkdtemp(prefix="csat-kernel-")) / "kernel")
    km.provisioner = ForkProvisioner(
        kernel_id=km.kernel_id or _new_id(), kernel_spec=km.kernel_spec, parent=km
    )
    km.kernel_id = km.provisioner.kernel_id
    return km


def _new_id() -> str:
    import uuid

    return str(uuid.uuid4())


def _main(argv: Sequence[str]) -> None:  # pragma: no cover - runs as the server process
    """Entry point of the fork server: ``python -m csatlib.kernels FD [MODULE ...]``."""
    sock = socket.socket(fileno=int(argv[0]))
    _serve(sock, argv[1:])


if __name__ == "__main__":  # pragma: no cover
    _main(sys.argv[1:])
