"""``csat data`` keeps freed memory for reuse (glibc's allocator): a large column made again
takes the pages the last one freed instead of new ones the kernel must fault in."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from csatlib import cli

# three 4 MB columns made together and freed, five times: the page faults of the last four
FAULTS = """
import resource, sys
import numpy as np
if sys.argv[1] == "reuse":
    from csatlib.cli import _reuse_freed_memory
    _reuse_freed_memory()
columns = [np.ones(500_000) for _ in range(3)]
del columns
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    columns = [np.ones(500_000) for _ in range(3)]
    del columns
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_a_freed_column_is_reused_not_faulted_in_again() -> None:
    def faults(mode: str) -> int:
        run = subprocess.run(
            [sys.executable, "-c", FAULTS, mode], check=True, capture_output=True, text=True
        )
        return int(run.stdout.split()[-1])

    pages = 4 * 3 * 500_000 * 8 // 4096  # the four rounds' pages: 11,718
    assert faults("default") > pages // 4  # new columns are (mostly) new pages
    assert faults("reuse") < pages // 100  # the freed pages, taken again


def test_without_glibc_nothing_happens(monkeypatch) -> None:
    import ctypes

    def missing(*args, **kwargs):
        raise OSError("no such library")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    cli._reuse_freed_memory()  # no error
