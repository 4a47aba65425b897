from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from csatlib.report.metrics import read_metrics, to_jsonable, write_metrics


def test_to_jsonable_turns_numpy_and_nan_into_plain_json() -> None:
    data = {"a": np.int64(3), "b": np.float32(0.5), "c": float("nan"), "d": [pd.NA, np.bool_(True)]}
    assert to_jsonable(data) == {"a": 3, "b": 0.5, "c": None, "d": [None, True]}


def test_write_metrics_is_atomic_and_round_trips(tmp_path) -> None:
    path = tmp_path / "m" / "DE.json"
    assert write_metrics(path, {"nps": {"score": np.float64(12.5), "se": math.inf}}) == path
    assert read_metrics(path) == {"nps": {"score": 12.5, "se": None}}
    assert [p.name for p in path.parent.iterdir()] == ["DE.json"]  # no temp file left behind
    json.loads(path.read_text())  # strict JSON (no NaN tokens)


def test_empty_path_writes_nothing(tmp_path) -> None:
    assert write_metrics("", {"x": 1}) is None


@pytest.mark.parametrize("value", [object()])
def test_unknown_objects_become_strings(value) -> None:
    assert isinstance(to_jsonable(value), str)
