"""Shared parameter rules, checked at the public boundary, with one message form for all.

In the manner of scikit-learn's parameter validation: every public function that takes ``min_n``,
``conf``, ``alpha`` or ``weights`` checks it here, so each rule exists once and every message
names the function, the parameter, the rule and the value given, e.g.
"The 'min_n' parameter of nps_by_group must be an int >= 1; got 0."

Rules
-----
- ``min_n`` (the small-cell minimum): an int >= 1. A cell with fewer respondents is suppressed;
  an estimate that needs a variance also needs two observations, whatever ``min_n`` says, and an
  estimator shows no interval for a single respondent.
- ``conf`` (a confidence level): a float strictly between 0 and 1.
- ``alpha`` (a significance level): a float strictly between 0 and 1.
- ``weights``: None, a column name of the data, or one finite non-negative number per row.
- Required columns: :func:`csatlib.errors.require_columns`.

Ground floor: imports only :mod:`csatlib.errors` (pandas and numpy lazily).
"""

from __future__ import annotations

import numbers
from typing import Any

from csatlib.errors import DataError, require_columns

__all__ = ["check_min_n", "check_conf", "check_alpha", "check_weights", "require_columns"]


def _message(param: str, func: str, rule: str, value: object) -> str:
    return f"The {param!r} parameter of {func} must be {rule}; got {value!r}."


def check_min_n(value: object, *, func: str, param: str = "min_n") -> int:
    """Return ``value`` as an int if it is a whole number >= 1; else raise DataError."""
    if (
        isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1  # type: ignore[call-overload]
    ):
        raise DataError(_message(param, func, "an int >= 1", value))
    return int(value)  # type: ignore[call-overload]


def _level(value: object, *, func: str, param: str) -> float:
    if (
        isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < float(value) < 1  # type: ignore[arg-type]
    ):
        raise DataError(_message(param, func, "a float in (0, 1)", value))
    return float(value)  # type: ignore[arg-type]


def check_conf(value: object, *, func: str, param: str = "conf") -> float:
    """Return a confidence level in (0, 1) as a float; else raise DataError."""
    return _level(value, func=func, param=param)


def check_alpha(value: object, *, func: str, param: str = "alpha") -> float:
    """Return a significance level in (0, 1) as a float; else raise DataError."""
    return _level(value, func=func, param=param)


def check_weights(data: Any, weights: object, *, func: str, param: str = "weights") -> Any:
    """Resolve ``weights`` against ``data``: None, a column name, or one weight per row.

    Returns
    -------
    numpy.ndarray or None
        Float weights (NaN kept: a missing weight is the caller's to drop or refuse).

    Raises
    ------
    DataError
        An unknown column, a length that differs from the rows, a negative or infinite weight.
    """
    import numpy as np
    import pandas as pd

    if weights is None:
        return None
    if isinstance(weights, str):
        if weights not in data.columns:
            raise DataError(
                _message(param, func, "None, a column of the data or an array", weights)
            )
        values = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
    else:
        values = np.asarray(weights, dtype=float)
        if values.ndim != 1 or len(values) != len(data):
            raise DataError(
                _message(param, func, f"one weight per row ({len(data)})", f"{values.shape}")
            )
    bad = ~np.isnan(values) & ((values < 0) | ~np.isfinite(values))
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(
            _message(param, func, "finite and >= 0", f"{values[first]!r} at row {first}")
        )
    return values
