"""A report's headline figures as JSON (``reports/metrics/<CC>.json``), written atomically.

The country notebook assembles the figures it shows and hands them to :func:`write_metrics`; the
index page and the global summary read them back. NaN and infinities become ``null`` (JSON has no
NaN), numpy scalars become Python numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from csatlib.safety import write_text_atomic

__all__ = ["to_jsonable", "write_metrics", "read_metrics"]


def to_jsonable(value: Any) -> Any:
    """Convert nested data (dicts, lists, numpy and pandas scalars) to plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def write_metrics(path: str | Path, metrics: Mapping[str, Any]) -> Path | None:
    """Write ``metrics`` as JSON to ``path`` atomically; an empty path writes nothing.

    The file is staged beside its destination and renamed into place, so a reader never sees a
    half-written file. Returns the path written, or None.
    """
    if not path:
        return None
    text = json.dumps(to_jsonable(metrics), indent=2, sort_keys=True, allow_nan=False) + "\n"
    return write_text_atomic(path, text)


def read_metrics(path: str | Path) -> dict[str, Any]:
    """Read a metrics file written by :func:`write_metrics`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
