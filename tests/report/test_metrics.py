"""csatlib.report.metrics: the JSON files, and the builders of what they hold.

The builders are checked on hand-made results with figures chosen or counted by hand; a
suppressed cell's estimates are planted in the input, so that a test sees them if they leak.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from csatlib.report.metrics import (
    headline_metrics,
    read_metrics,
    report_metrics,
    study_metrics,
    to_jsonable,
    write_metrics,
)
from csatlib.report.overview import load_study
from csatlib.report.summary import NPSHeadline
from csatlib.stats.nps import nps, nps_difference


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


# --------------------------------------------------------------------------- builders

WAVES = ["2026-Q1", "2026-Q2"]
# own-brand recommend answers (0-10): Germany in both waves, France and Namibia in the second
ANSWERS = {
    ("DE", "2026-Q1"): [10, 10, 9, 8, 7, 6, 5, 3, 0, 10],
    ("DE", "2026-Q2"): [10, 10, 10, 9, 9, 8, 7, 6, 2, 10, 9, 10],
    ("FR", "2026-Q2"): [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ("NA", "2026-Q2"): [10, 10, 10],
}


def _series(country: str, wave: str) -> pd.Series:
    return pd.Series(ANSWERS[(country, wave)], dtype=float)


def _headline(**changes: object) -> NPSHeadline:
    """DE's headline with min_n = 11: the previous wave (10 answers) is suppressed."""
    now, rest = _series("DE", "2026-Q2"), pd.concat([_series("FR", "2026-Q2")] * 2)
    base = NPSHeadline(
        country="DE",
        wave="2026-Q2",
        previous_wave="2026-Q1",
        min_n=11,
        n=12,
        n_previous=10,
        n_rest=20,
        current=nps(now),
        previous=None,
        rest=nps(rest),
        change=None,
        vs_rest=nps_difference(now, rest),
    )
    return dataclasses.replace(base, **changes)


def test_headline_metrics_round_each_estimate_and_hide_suppressed_ones() -> None:
    h = _headline()
    m = headline_metrics(h)
    assert set(m) == {
        "country",
        "wave",
        "previous_wave",
        "n",
        "min_n",
        "nps",
        "nps_previous",
        "nps_change",
        "nps_other_countries",
        "nps_vs_other_countries",
    }
    assert (m["country"], m["wave"], m["previous_wave"], m["n"], m["min_n"]) == (
        "DE",
        "2026-Q2",
        "2026-Q1",
        12,
        11,
    )
    cur = h.current
    assert m["nps"] == {
        "suppressed": False,
        "n": 12,
        "score": 50.0,  # 8 promoters and 2 detractors of 12, counted by hand
        "se": round(cur.se, 4),
        "ci_low": round(cur.ci_low, 4),
        "ci_high": round(cur.ci_high, 4),
    }
    assert m["nps_previous"] == {"suppressed": True, "n": 10}  # n only, no estimate
    assert m["nps_change"] is None  # not tested: the previous wave is suppressed
    vs = h.vs_rest
    assert m["nps_vs_other_countries"] == {
        "diff": round(vs.diff, 4),
        "se": round(vs.se, 4),
        "ci_low": round(vs.ci_low, 4),
        "ci_high": round(vs.ci_high, 4),
        "p_value": round(vs.p_value, 6),
    }
    assert m["nps_other_countries"]["score"] == -60.0  # 2 promoters, 14 detractors of 20


def test_headline_metrics_of_one_respondent_carry_no_interval(tmp_path) -> None:
    one = nps(pd.Series([10.0]))  # min_n = 1: an estimate whose interval is missing
    m = headline_metrics(_headline(min_n=1, n=1, current=one, vs_rest=None))
    assert m["nps"]["score"] == 100.0 and m["nps"]["n"] == 1
    assert m["nps"]["ci_low"] is None and m["nps"]["ci_high"] is None
    path = write_metrics(tmp_path / "LU.json", m)
    assert read_metrics(path)["nps"]["ci_low"] is None


def _attribute_scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": ["DE", "DE"],
            "measure": ["delivery", "pricing"],
            "n": [200, 12],
            "mean": [7.123456, 6.4321],  # the suppressed row's mean is planted: never written
            "ci_low": [6.91, 5.4],
            "ci_high": [7.33, 7.4],
            "top_box": [0.25, 0.3],
            "suppressed": [False, True],
        }
    )


def _loyalty(suppressed: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": ["DE"],
            "n": [9 if suppressed else 150],
            "score": [71.234567],
            "ci_low": [68.1],
            "ci_high": [74.3],
            "alpha": [0.812345],
            "suppressed": [suppressed],
        }
    )


def _drivers(suppressed: bool) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "importance": [0.123456, 0.05],
            "ci_low": [0.08, np.nan],
            "ci_high": [0.17, 0.09],
            "share": [0.711, 0.289],
            "rank": [1, 2],
        },
        index=pd.Index(["delivery", "pricing"], name="driver"),
    )
    table.attrs.update(r2=0.173456, n=480)
    if suppressed:
        table.attrs.update(suppressed=True, reason="too few complete responses")
    return table


def test_report_metrics_carry_every_part_the_report_shows() -> None:
    screens = pd.DataFrame({"class": ["problem", "suppressed"]}, index=["delivery", "pricing"])
    m = report_metrics(
        _headline(),
        attribute_scores=_attribute_scores(),
        loyalty_summary=_loyalty(False),
        screens=screens,
        drivers=_drivers(False),
    )
    assert {k: v for k, v in m.items() if k in headline_metrics(_headline())} == (
        headline_metrics(_headline())
    )
    assert m["csat"] == {
        "delivery": {
            "suppressed": False,
            "n": 200,
            "mean": 7.1235,
            "ci_low": 6.91,
            "ci_high": 7.33,
            "top_box": 0.25,
        },
        "pricing": {"suppressed": True, "n": 12},
    }
    assert m["loyalty"] == {
        "suppressed": False,
        "n": 150,
        "index": 71.2346,
        "ci_low": 68.1,
        "ci_high": 74.3,
        "alpha": 0.8123,
    }
    assert m["screens"] == {"delivery": "problem", "pricing": "suppressed"}
    assert m["drivers"]["delivery"] == {
        "importance": 0.1235,
        "ci_low": 0.08,
        "ci_high": 0.17,
        "share": 0.711,
        "rank": 1,
    }
    assert m["drivers"]["pricing"]["ci_low"] is None  # NaN becomes null
    assert (m["drivers_r2"], m["drivers_n"]) == (0.1735, 480)


def test_report_metrics_carry_the_scorecards_statuses() -> None:
    card = pd.DataFrame(
        {"metric": ["nps", "loyalty_index"], "target": [25.0, 70.0],
         "due_wave": ["2026-Q4", "2026-Q4"], "status": ["at risk", "on track"]}
    )  # fmt: skip
    m = report_metrics(_headline(), scorecard=card)
    nothing = {"baseline_wave": "", "baseline": None}  # a scorecard without baselines
    assert m["targets"] == {
        "nps": {"target": 25.0, "due_wave": "2026-Q4", "status": "at risk", **nothing},
        "loyalty_index": {"target": 70.0, "due_wave": "2026-Q4", "status": "on track", **nothing},
    }
    card["baseline_wave"], card["baseline"] = "2025-Q4", [12.34567, float("nan")]
    shown = report_metrics(_headline(), scorecard=card)["targets"]
    assert shown["nps"]["baseline"] == 12.3457 and shown["nps"]["baseline_wave"] == "2025-Q4"
    assert shown["loyalty_index"]["baseline"] is None  # suppressed: no number
    assert "targets" not in report_metrics(_headline(), scorecard=card.iloc[:0])


def test_report_metrics_of_suppressed_parts_carry_no_estimate() -> None:
    m = report_metrics(_headline(), loyalty_summary=_loyalty(True), drivers=_drivers(True))
    assert m["loyalty"] == {"suppressed": True, "n": 9}
    assert m["drivers"] == {"suppressed": True, "reason": "too few complete responses"}
    assert "drivers_r2" not in m and "drivers_n" not in m
    assert "6.4321" not in json.dumps(
        to_jsonable(report_metrics(_headline(), attribute_scores=_attribute_scores()))
    )


def test_report_metrics_leave_out_what_the_study_does_not_have() -> None:
    h = _headline()
    empty = pd.DataFrame()
    assert report_metrics(h) == headline_metrics(h)
    assert report_metrics(
        h, attribute_scores=empty, loyalty_summary=empty, screens=empty, drivers=empty
    ) == headline_metrics(h)


def _study() -> pd.DataFrame:
    rows = [
        (country, wave, float(score))
        for (country, wave), scores in ANSWERS.items()
        for score in scores
    ]
    df = pd.DataFrame(rows, columns=["country", "wave", "likelihood_to_recommend"])
    df["wave"] = pd.Categorical(df["wave"], categories=WAVES, ordered=True)
    df.attrs["roles"] = {"country": "country", "wave": "wave", "likelihood_to_recommend": "nps"}
    return df


def _league() -> pd.DataFrame:
    """A league table with DE shown and NA suppressed (NA's figures are planted: never written)."""
    return pd.DataFrame(
        {
            "country": ["DE", "NA"],
            "n": [12, 3],
            "score": [50.0, 99.9],
            "se": [10.123456, 1.0],
            "ci_low": [25.5, 90.0],
            "ci_high": [70.444444, 100.0],
            "promoters": [0.6667, 1.0],
            "passives": [0.1667, 0.0],
            "detractors": [0.1667, 0.0],
            "suppressed": [False, True],
            "previous_wave": pd.array(["2026-Q1", pd.NA], dtype="string"),
            "n_previous": pd.array([10, pd.NA], dtype="Int64"),
            "score_previous": [0.0, np.nan],
            "change": [50.0, 5.0],
            "change_ci_low": [20.1, 1.0],
            "change_ci_high": [79.9, 9.0],
            "change_p_value": [1.23456789e-12, 0.01],
            "change_significant": pd.array([True, True], dtype="boolean"),
            "n_rest": pd.array([13, 22], dtype="Int64"),
            "score_rest": [-23.0769, 18.18],
            "diff_rest": [np.nan, 81.7],  # DE not tested against the rest here
            "diff_rest_ci_low": [np.nan, 70.0],
            "diff_rest_ci_high": [np.nan, 90.0],
            "diff_rest_p_value": [np.nan, 0.001],
            "diff_rest_significant": pd.array([pd.NA, True], dtype="boolean"),
        }
    )


def test_study_metrics_hold_the_league_and_nothing_for_a_suppressed_country(tmp_path) -> None:
    ctx = load_study(responses=_study(), min_n=5)
    problems = pd.DataFrame(
        {
            "country": ["DE", "NA"],
            "suppressed": [False, True],
            "problems": [("delivery",), ("planted",)],
            "best_practices": [("product",), ()],
        }
    )
    loyalty = pd.DataFrame(
        {
            "country": pd.Categorical(["DE", "NA"]),
            "score": [70.123456, 50.0],
            "alpha": [0.8, 0.7],
            "suppressed": [False, True],
        }
    )
    m = study_metrics(ctx, league=_league(), problems=problems, loyalty=loyalty)
    assert (m["scope"], m["wave"], m["previous_wave"], m["min_n"]) == (
        "global",
        "2026-Q2",
        "2026-Q1",
        5,
    )
    assert m["n"] == 25 and m["countries_in_wave"] == ["DE", "FR", "NA"]
    pooled = pd.concat([_series(c, "2026-Q2") for c in ("DE", "FR", "NA")])
    # NPS = 100 * (share 9-10 - share 0-6), counted here: 12 promoters, 9 detractors of 25
    assert m["nps_pooled"]["score"] == round(100 * (12 - 9) / 25, 4)
    assert m["nps_pooled"]["n"] == len(pooled) == 25
    assert list(m["countries"]) == ["DE", "NA"]  # league order
    assert m["countries"]["NA"] == {"name": "Namibia", "n": 3, "suppressed": True}
    assert m["countries"]["DE"] == {
        "name": "Germany",
        "n": 12,
        "suppressed": False,
        "nps": {"score": 50.0, "se": 10.1235, "ci_low": 25.5, "ci_high": 70.4444},
        "previous_wave": "2026-Q1",
        "change": {
            "diff": 50.0,
            "ci_low": 20.1,
            "ci_high": 79.9,
            "p_value": 1.235e-12,  # four significant digits, not 0.0
            "significant": True,
        },
        "vs_rest": None,
        "problems": ["delivery"],
        "best_practices": ["product"],
        "loyalty_index": 70.1235,
        "cronbach_alpha": 0.8,
    }
    text = write_metrics(tmp_path / "global.json", m).read_text()
    assert "99.9" not in text and "planted" not in text and "NaN" not in text


def test_study_metrics_suppress_a_pooled_wave_below_the_minimum() -> None:
    ctx = load_study(responses=_study(), min_n=26)
    m = study_metrics(ctx, league=_league())
    assert m["nps_pooled"] == {"suppressed": True, "n": 25}
    assert "problems" not in m["countries"]["DE"] and "loyalty_index" not in m["countries"]["DE"]
