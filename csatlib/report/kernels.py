"""Pre-warmed Jupyter kernels: a fork server that has done the heavy imports forks one fresh kernel
per notebook.

A fresh IPython kernel spends most of its first seconds importing pandas, statsmodels, seaborn and
matplotlib. :class:`KernelForkServer` is a small process that imports them once (and, given
``preload=``, reads the study's processed tables, see :func:`csatlib.report.context.warm_up`) and
then, on request, ``fork()``s a child that becomes an ordinary ipykernel on the connection file it
is given. Every notebook still gets its own process, started from the same clean state (only the
imports and the reading have run), and that process ends with the notebook, so reports stay
isolated from one another. Before the first fork the server freezes what it has loaded
(:func:`gc.freeze`): a kernel's garbage collections then leave the inherited objects alone
instead of writing to, and so copying, every page of them.

Asked for ``{"op": "run", ...}`` instead, the child runs a notebook's cells itself, without a
kernel (:func:`csatlib.report.direct.serve_notebook`): what the build uses.

One server serves every worker of a build: its owner talks to it over a socket pair, other
processes connect to :attr:`KernelForkServer.address` (a Unix socket in a private folder) with a
:class:`ForkServerClient`.

:func:`prewarmed_kernel_manager` returns a :class:`jupyter_client.AsyncKernelManager` whose
provisioner launches through the fork server; hand it to papermill as ``km=...``. The fork server
is started before this process touches ZeroMQ (a forked child must not inherit live sockets), and
children are reaped by the fork server (``SIGCHLD`` ignored), so a kernel's liveness is checked by
pid.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "WARM_IMPORTS",
    "KernelForkServer",
    "ForkServerClient",
    "ForkedKernelProcess",
    "prewarmed_kernel_manager",
    "use_ipc_sockets",
    "ready_client_class",
    "detach_child",
    "send_message",
    "recv_message",
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
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "IPython",
    "rapidfuzz",
    "csatlib.loop.accounts",
    "csatlib.text.coding",
    "csatlib.text.frequencies",
    "csatlib.ingest.clean",
    "csatlib.report.context",
    "csatlib.stats.drivers",
    "csatlib.loop.followup",
    "csatlib.stats.loyalty",
    "csatlib.report.metrics",
    "csatlib.report.plots",
    "csatlib.stats.scores",
    "csatlib.stats.screens",
    "csatlib.report.summary",
    "csatlib.report.tables",
)


def send_message(sock: socket.socket, obj: Any) -> None:
    """Send ``obj`` (pickled, after its length) on ``sock``."""
    data = pickle.dumps(obj)
    sock.sendall(struct.pack("!I", len(data)) + data)


def recv_message(sock: socket.socket) -> Any:
    """The next object :func:`send_message` sent on ``sock``."""
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


def _serve(
    owner: socket.socket,
    listener: socket.socket,
    imports: Sequence[str],
    preload: str | None,
    slices: Sequence[tuple[str, str]] = (),
) -> None:  # pragma: no cover - runs in the server process
    """Fork-server main loop (runs in the server process).

    The listening socket was bound by the owner before this process started, so clients may
    connect at once; their requests wait in the socket until the imports are done. One thread,
    one selector: requests are answered in turn (a fork takes milliseconds), and a forked child
    never inherits a second thread.
    """
    import importlib

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    failed = []
    for name in imports:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a missing optional module only costs start-up time
            failed.append(f"{name}: {exc!r}")
    try:  # compile the study's CIT codebook once (cached per process by text.cit_codebook)
        from csatlib import config
        from csatlib.text import cit_codebook

        if config.CIT_CODEBOOK.exists():
            cit_codebook.load_cit_codebook(config.CIT_CODEBOOK)
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
    if preload:
        try:  # the processed tables and the account matching, read once for every kernel
            from csatlib.report.context import warm_up

            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
            warm_up(preload, slices=slices or (("country", ""),), parallel=cores > 1)
        except Exception as exc:  # the notebooks report a broken table themselves
            failed.append(f"data warm-up: {exc!r}")
    # Everything loaded so far is kept out of the garbage collector's sight: a forked kernel's
    # collections would otherwise walk (and write to) every inherited object, copying the
    # server's memory page by page into each kernel (Python's gc.freeze documentation).
    import gc

    gc.collect()
    gc.freeze()
    send_message(owner, {"ready": True, "failed_imports": failed})
    selector = selectors.DefaultSelector()
    selector.register(owner, selectors.EVENT_READ, "owner")
    selector.register(listener, selectors.EVENT_READ, "listener")
    while True:
        for key, _ in selector.select():
            conn = key.fileobj
            assert isinstance(conn, socket.socket)
            if key.data == "listener":
                client, _ = listener.accept()
                selector.register(client, selectors.EVENT_READ, "client")
                continue
            try:
                request = recv_message(conn)
            except (ConnectionError, OSError):
                if key.data == "owner":  # the owner is gone: so is the server
                    os._exit(0)
                selector.unregister(conn)
                conn.close()
                continue
            if request.get("op") == "exit":
                if key.data == "owner":
                    os._exit(0)
                continue  # only the owner stops the server
            pid = os.fork()
            if pid == 0:
                for other in list(selector.get_map().values()):
                    other.fileobj.close()  # type: ignore[union-attr]
                selector.close()
                if request.get("op") == "run":  # a notebook run without a kernel
                    from csatlib.report.direct import serve_notebook

                    serve_notebook(request)
                _become_kernel(request)
            send_message(conn, {"pid": pid})


def detach_child(request: dict[str, Any]) -> None:  # pragma: no cover - child
    """Make a freshly forked child its own: default ``SIGCHLD``, a session (and process group)
    of its own, the request's working directory and environment, standard streams on
    ``/dev/null``."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    if request.get("cwd"):
        os.chdir(request["cwd"])
    os.environ.update(request.get("env") or {})
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)


def _become_kernel(request: dict[str, Any]) -> None:  # pragma: no cover - child
    """Turn the freshly forked child into an ipykernel on the requested connection file."""
    try:
        detach_child(request)
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=list(request["argv"]))
    finally:
        os._exit(0)


class KernelForkServer:
    """A process that has imported :data:`WARM_IMPORTS` and forks kernels on request.

    The server is a fresh interpreter (``python -m csatlib.report.kernels``), never a ``fork()`` of
    the caller: a caller that has already run a notebook holds a ZeroMQ context and an asyncio event
    loop whose epoll descriptor a forked child would share, and such children spin on EINTR
    forever. Use :meth:`spawn` with the argument list ipykernel expects after
    ``-m ipykernel_launcher`` (``["-f", connection_file]``); other processes use
    ``ForkServerClient(server.address)``.

    Parameters
    ----------
    imports
        Modules to import before forking.
    preload
        A processed-data folder to read before forking (:func:`csatlib.report.context.warm_up`).
    timeout
        Seconds to wait for the server to be ready.
    wait
        Wait for the server now; otherwise the first :meth:`spawn` (or :meth:`wait_ready`)
        waits, and meanwhile the caller can do other work.
    """

    def __init__(
        self,
        imports: Sequence[str] = WARM_IMPORTS,
        *,
        preload: str | Path | None = None,
        slices: Sequence[tuple[str, str]] = (),
        timeout: float = 120.0,
        wait: bool = True,
    ) -> None:
        self._dir = tempfile.mkdtemp(prefix="csat-forkserver-")  # private (mode 0700)
        self.address = os.path.join(self._dir, "server.sock")
        # Bound here, before the server starts, so that clients can connect at once; only the
        # server keeps it open, so once the server is gone a connection is refused, never hangs.
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.address)
        listener.listen(64)
        parent, child = socket.socketpair()
        fds = [child.fileno(), listener.fileno()]
        cmd = [sys.executable, "-m", "csatlib.report.kernels", *(str(fd) for fd in fds)]
        if preload is not None:
            cmd += ["--preload", str(preload)]
            for dimension, within in slices:
                cmd += ["--slice", f"{dimension}|{within}"]
        try:
            self._proc = subprocess.Popen(
                [*cmd, *imports],
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                # debugpy (imported with ipykernel's debugger) otherwise prints a four-line
                # notice about frozen modules into every build's output
                env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
                start_new_session=True,
            )
        finally:
            child.close()
            listener.close()
        self.pid = self._proc.pid
        self._sock = parent
        self._timeout = timeout
        self._ready = False
        self._closed = False
        self.failed_imports: list[str] = []
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Block until the server has done its imports (and preloading)."""
        if self._ready:
            return
        self._sock.settimeout(self._timeout)
        try:
            hello = recv_message(self._sock)
        finally:
            self._sock.settimeout(None)
        self.failed_imports = list(hello.get("failed_imports", []))
        self._ready = True

    def problems(self) -> list[str]:
        """What the server could not import or warm up (a module, the CIT codebook, the data),
        read without waiting: empty while it has not said, or when all went well. Kernels it
        forks are then slower to start, not different (each loads what it needs itself)."""
        if not self._ready and not self._closed:
            self._sock.setblocking(False)
            try:
                hello = recv_message(self._sock)
            except (BlockingIOError, ConnectionError, OSError, EOFError):
                return []
            finally:
                self._sock.setblocking(True)
            self.failed_imports = list(hello.get("failed_imports", []))
            self._ready = True
        return list(self.failed_imports)

    def spawn(self, argv: Sequence[str], *, env: dict[str, str], cwd: str | None) -> int:
        """Fork a kernel; return its pid."""
        self.wait_ready()
        send_message(self._sock, {"argv": list(argv), "env": dict(env), "cwd": cwd})
        return int(recv_message(self._sock)["pid"])

    def fork(self, request: dict[str, Any]) -> int:
        """Fork a child for ``request`` (``{"op": "run", ...}``: a notebook run by
        :func:`csatlib.report.direct.serve_notebook`); return its pid."""
        self.wait_ready()
        send_message(self._sock, dict(request))
        return int(recv_message(self._sock)["pid"])

    def alive(self) -> bool:
        """True while the fork server process runs."""
        return self._proc.poll() is None

    def close(self, *, now: bool = False) -> None:
        """Stop the fork server (kernels it started keep running until shut down: each is a
        session of its own). Closing twice does nothing.

        Closing the owner's socket stops a server that is serving; one that is still importing
        (if it was never waited for) is killed after a second, with its process group. With
        ``now`` (a server no longer
        needed, perhaps still warming up) it is killed at once with its process group: the
        warm-up's forked child too (:func:`csatlib.report.context.warm_up`).
        """
        if self._closed:
            return
        self._closed = True
        if now:
            with contextlib.suppress(OSError):
                os.killpg(self._proc.pid, signal.SIGKILL)
        elif self._ready:
            with contextlib.suppress(OSError):
                send_message(self._sock, {"op": "exit"})
        self._sock.close()
        try:
            self._proc.wait(timeout=10 if self._ready else 1)
        except subprocess.TimeoutExpired:
            # with its process group: a warm-up child (csatlib.report.context.warm_up) would
            # otherwise outlive it; kernels are sessions of their own and keep running
            with contextlib.suppress(OSError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.kill()
            self._proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


class ForkServerClient:
    """Another process's connection to a :class:`KernelForkServer` (by its ``address``).

    Connects on first use; :meth:`spawn` raises ``OSError`` (e.g. ``ConnectionError``) when the
    server is gone, and :func:`prewarmed_kernel_manager` then starts a plain kernel instead.
    """

    def __init__(self, address: str, *, timeout: float = 120.0) -> None:
        self.address = address
        self._timeout = timeout
        self._sock: socket.socket | None = None

    def spawn(self, argv: Sequence[str], *, env: dict[str, str], cwd: str | None) -> int:
        """Fork a kernel; return its pid."""
        return self.fork({"argv": list(argv), "env": dict(env), "cwd": cwd})

    def fork(self, request: dict[str, Any]) -> int:
        """Fork a child for ``request`` (a kernel's, or ``{"op": "run", ...}``: a notebook run
        by :func:`csatlib.report.direct.serve_notebook`); return its pid."""
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.address)
            except OSError:
                sock.close()
                raise
            self._sock = sock
        try:
            # the first answer may wait for the server's imports
            self._sock.settimeout(self._timeout)
            send_message(self._sock, dict(request))
            return int(recv_message(self._sock)["pid"])
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        """Drop the connection (the server keeps running for its other clients)."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None


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


@functools.cache
def ready_client_class() -> type:
    """jupyter_client's ``AsyncKernelClient``, with a ``wait_for_ready`` that does not idle.

    The library's ``wait_for_ready`` ends by reading IOPub until 0.2 s pass without a message:
    every notebook started 0.2 s later than it could, and on a busy two-core build that is a
    core doing nothing for 0.2 s per report. This version checks, as the library does, that
    ``kernel_info`` is answered and that IOPub delivers, then only drops the IOPub messages
    already received. Whatever arrives later answers the ``kernel_info`` requests (status
    "busy"/"idle"), and nbclient reads only the IOPub messages that answer the cell it runs.
    """
    import asyncio
    import time
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):  # type: ignore[misc]
        async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:  # as jupyter_client: until kernel_info is answered and IOPub works
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    pass
                else:
                    if msg["msg_type"] == "kernel_info_reply":
                        try:
                            await self.iopub_channel.get_msg(timeout=0.2)
                        except Empty:
                            pass
                        else:
                            self._handle_kernel_info_reply(msg)
                            break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
                await asyncio.sleep(0)
            while True:  # drop what is already there, wait for nothing
                try:
                    await self.iopub_channel.get_msg(timeout=0)
                except Empty:
                    break

        wait_for_ready = _async_wait_for_ready  # the base class binds the library's function

    return ReadyClient


def prewarmed_kernel_manager(server: KernelForkServer | ForkServerClient, kernel_name: str) -> Any:
    """An ``AsyncKernelManager`` for ``kernel_name`` whose kernel is forked by ``server``.

    When the server cannot be reached (it failed to start or was stopped), the kernel starts as
    an ordinary process: slower, same results.
    """
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
            try:
                pid = server.spawn(cmd[start:], env=env, cwd=str(cwd) if cwd else None)
            except OSError:  # no fork server: a plain kernel process
                return await super().launch_kernel(cmd, **kwargs)
            self.process = ForkedKernelProcess(pid)
            self.pid = pid
            self.pgid = pid  # the child called setsid(): its own process group
            self.cwd = cwd
            return self.connection_info

    km = AsyncKernelManager(kernel_name=kernel_name)
    km.client_factory = ready_client_class()
    # IPC sockets instead of TCP ports: parallel kernels cannot clash over a port, and nothing
    # listens on the network. Socket files live in a private temporary folder.
    use_ipc_sockets(km)
    km.provisioner = ForkProvisioner(
        kernel_id=km.kernel_id or _new_id(), kernel_spec=km.kernel_spec, parent=km
    )
    km.kernel_id = km.provisioner.kernel_id
    return km


def use_ipc_sockets(km: Any) -> None:
    """Put ``km``'s kernel on IPC sockets in a private temporary folder, removed with ``km``.

    The folder goes when the manager is garbage-collected or the process exits, whether or not
    anyone shut the kernel down (jupyter_client removes the socket files, not their folder).
    """
    folder = tempfile.mkdtemp(prefix="csat-kernel-")
    km.transport = "ipc"
    km.ip = str(Path(folder) / "kernel")
    weakref.finalize(km, shutil.rmtree, folder, ignore_errors=True)


def _new_id() -> str:
    import uuid

    return str(uuid.uuid4())


def _main(argv: Sequence[str]) -> None:  # pragma: no cover - runs as the server process
    """Entry point: ``python -m csatlib.report.kernels OWNER_FD LISTEN_FD [--preload DIR
    [--slice DIMENSION|WITHIN ...]] [MODULE...]``."""
    owner = socket.socket(fileno=int(argv[0]))
    listener = socket.socket(fileno=int(argv[1]))
    rest = list(argv[2:])
    preload = None
    if rest[:1] == ["--preload"]:
        preload, rest = rest[1], rest[2:]
    slices = []
    while rest[:1] == ["--slice"]:
        dimension, _, within = rest[1].partition("|")
        slices.append((dimension, within))
        rest = rest[2:]
    _serve(owner, listener, rest, preload, slices)


if __name__ == "__main__":  # pragma: no cover
    _main(sys.argv[1:])
