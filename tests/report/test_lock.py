"""Tests of csatlib.report.lock: one build at a time per reports folder, and no stale lock.

A second holder is another process (a build started twice), run here as a child Python that
takes the lock, writes a marker file and sleeps until it is released or killed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from csatlib.errors import ReportError
from csatlib.report.lock import LOCK_FILE, build_lock

ROOT = Path(__file__).resolve().parents[2]
_HOLDER = """
import sys, time
from pathlib import Path
from csatlib.report.lock import build_lock

with build_lock(sys.argv[1]):
    Path(sys.argv[2]).write_text("held", encoding="utf-8")
    time.sleep(float(sys.argv[3]))
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen]:
    """A child process holding the lock of ``tmp_path / 'reports'`` for up to 30 s."""
    marker = tmp_path / "held"
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path / "reports"), str(marker), "30"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 20
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), f"the child did not take the lock (exit {child.poll()})"
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)


def test_a_second_build_is_refused_with_the_holder_named(
    tmp_path: Path, holder: subprocess.Popen
) -> None:
    reports = tmp_path / "reports"
    with pytest.raises(ReportError) as caught, build_lock(reports):
        pass
    message = str(caught.value)
    assert message.startswith(f"another build is running in {str(reports)!r}")
    assert f"pid {holder.pid} on {socket.gethostname()}, started " in message
    assert holder.poll() is None  # the refusal did not disturb the holder


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path, holder: subprocess.Popen) -> None:
    reports = tmp_path / "reports"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    assert holder.returncode == -signal.SIGKILL
    assert (reports / LOCK_FILE).exists()  # the file stays; the lock went with the process
    with build_lock(reports) as path:
        assert path.read_text(encoding="utf-8").startswith(f"pid {os.getpid()} on ")


def test_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    reports = tmp_path / "reports"  # created by the lock
    with build_lock(reports) as path:
        assert path == reports / LOCK_FILE
        # a second open of the file is a second holder, even in this process
        with pytest.raises(ReportError, match=f"pid {os.getpid()} "), build_lock(reports):
            pass
    with build_lock(reports) as path:
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"pid {os.getpid()} on ")
        assert text.count("pid ") == 1  # the previous holder's line was replaced
    # after a failure inside the block the lock is released too
    with pytest.raises(ZeroDivisionError), build_lock(reports):
        1 / 0  # noqa: B018
    child = subprocess.run(
        [sys.executable, "-c", _HOLDER, str(reports), str(tmp_path / "held"), "0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert child.returncode == 0, child.stderr  # another process takes it now


def test_build_reports_and_an_import_are_refused_while_a_build_holds_the_lock(
    tmp_path: Path, holder: subprocess.Popen
) -> None:
    from csatlib.cli import main
    from csatlib.report.build import build_reports

    reports = tmp_path / "reports"
    # refused before anything is read or written: the processed folder need not even exist
    with pytest.raises(ReportError, match="another build is running"):
        build_reports(processed_dir=tmp_path / "nothing", reports_dir=reports, progress=False)
    assert not (reports / "cases.sqlite").exists()
    returned = tmp_path / "returned.csv"
    returned.write_text("case_id,status\n", encoding="utf-8")
    assert main(["cases", "import", str(returned), "--reports-dir", str(reports)]) == 1
