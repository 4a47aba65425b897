"""Fixtures shared by every test folder: the ingestion exports of tests/support/exports.py.

The test files that take longest run first (their durations measured on 2 cores, longest
first), so that ``make test``'s pytest-xdist workers, which take a test file each in the
order collected, do not end on one of them while the others wait.
"""

from __future__ import annotations

import pytest
from support.exports import ingest_raw_dir, write_codebook, write_export

__all__ = ["ingest_raw_dir", "write_codebook", "write_export"]

#: The longest test files (seconds in one process: the sum of each file's entries among the 60
#: slowest that ``--durations=60`` listed, so a lower bound): any study
#: 74, browser 31, Dask 30, build 26, isolation 22, slices 14, CIT notebook 13, history 10,
#: report safety 10, overview 9, context 8, sampling 7, tracking 7, priorities 6, design 6.
LONGEST_FIRST = (
    "report/test_any_study.py",
    "report/test_browser.py",
    "report/test_build_dask.py",
    "report/test_build.py",
    "report/test_build_isolation.py",
    "report/test_slices.py",
    "text/test_cit_notebook.py",
    "report/test_history.py",
    "report/test_report_safety.py",
    "report/test_overview.py",
    "report/test_context.py",
    "loop/test_sampling.py",
    "loop/test_tracking.py",
    "report/test_priorities_simulation.py",
    "stats/test_design_simulation.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the files of :data:`LONGEST_FIRST` first, in that order; the others after them, in
    the order collected (a file's tests stay together and in their order)."""
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    root = config.rootpath / "tests"

    def key(item: pytest.Item) -> int:
        try:
            name = item.path.relative_to(root).as_posix()
        except ValueError:
            return len(rank)
        return rank.get(name, len(rank))

    items.sort(key=key)
