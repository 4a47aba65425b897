"""Study-wide report results kept on disk beside the processed tables they were made from.

A report compares its unit with the rest of the study: every unit's NPS, trends and screens on
one design, every account's summary, the rule coder's accuracy. Those results are the same in
every report of a build, so they are computed once and kept (:func:`csatlib.report.context.
remembered`): in memory for the kernels of a build, and here, in ``<processed>/.study/``, for
every later process (a report run on a Dask worker, a country notebook opened in JupyterLab).
A report that finds them here reads only its own unit's rows.

An entry's file name is a hash of its key: what the result was made from (the processed
tables' and the aliases' file versions, the slice, the wave, the parameters), in a folder named
by the version of csatlib's own code (:func:`code_version`), so a changed input or a changed
estimator is a new key and an old entry is never used for it. The first result kept by a new
version of the code removes the old version's folder, and ``csat data`` empties the store when it
rewrites the tables. The entries are pickles that csatlib wrote itself; like the processed
tables beside them, whoever may write this folder decides what the reports show.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["MISSING", "STORE_DIR", "clear", "code_version", "entry_path", "fetch", "keep"]

#: The store's folder inside a processed folder.
STORE_DIR = ".study"
#: What :func:`fetch` returns when nothing is kept for a key.
MISSING = object()


@cache
def code_version() -> str:
    """A fingerprint of csatlib's source files (each file's path, size and modification time):
    an edited estimator makes every stored result a stale key."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def entry_path(folder: str | Path, key: tuple) -> Path:
    """Where the result of ``key`` is kept in the processed folder ``folder``: in the folder of
    this version of csatlib's code (:func:`code_version`)."""
    name = hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:32]
    return Path(folder) / STORE_DIR / code_version() / f"{name}.pickle"


def fetch(folder: str | Path, key: tuple) -> Any:
    """The kept result of ``key``, or :data:`MISSING` (``fetch(...) is MISSING``) when
    none is kept or it cannot be read (a half-written or foreign file is ignored, never shown)."""
    path = entry_path(folder, key)
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)  # noqa: S301 - written by keep() in the study's own folder
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError):
        return MISSING


def keep(folder: str | Path, key: tuple, value: Any) -> None:
    """Keep ``value`` as the result of ``key`` (written whole, then renamed into place, so
    kernels running at once never read half a file). A folder that cannot be written (a
    read-only study) keeps nothing: the result is then computed again where needed."""
    path = entry_path(folder, key)
    with contextlib.suppress(OSError, pickle.PicklingError, TypeError, AttributeError):
        if not path.parent.is_dir():  # a new version of the code: the old one's results go
            for old in path.parent.parent.glob("*"):
                shutil.rmtree(old, ignore_errors=True)
            path.parent.mkdir(parents=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def clear(folder: str | Path) -> None:
    """Forget every kept result of the processed folder ``folder`` (``csat data`` calls it when
    it writes new tables)."""
    shutil.rmtree(Path(folder) / STORE_DIR, ignore_errors=True)
