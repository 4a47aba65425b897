"""One build at a time per reports folder: a second concurrent build is refused, not interleaved.

Two builds writing one reports folder would race on the staging folders, the stamps, the history
and the case store. :func:`build_lock` holds an exclusive ``flock`` on ``<reports>/.build.lock``
for the whole build; the operating system releases it when the process ends, however it ends, so
a killed build never leaves a stale lock behind. The file records who holds it, for the message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from csatlib.errors import ReportError

__all__ = ["LOCK_FILE", "build_lock"]

#: The lock file, in the reports folder.
LOCK_FILE = ".build.lock"


@contextlib.contextmanager
def build_lock(reports_dir: str | Path) -> Iterator[Path]:
    """Hold the reports folder's build lock for the ``with`` block.

    Raises
    ------
    ReportError
        Another process holds it: the message names that process (pid, host, start time) and
        the folder.
    """
    folder = Path(reports_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ReportError(
                f"another build is running in {str(folder)!r} ({holder}); wait for it to "
                "finish (or stop it) and run this one again"
            ) from None
        handle.seek(0)
        handle.truncate()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, started {started}")
        handle.flush()
        yield path
    finally:
        handle.close()  # releases the lock
