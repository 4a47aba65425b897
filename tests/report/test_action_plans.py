"""Tests of csatlib.report.actions: priorities with their plans, overdue plans, the movement
since a plan started, and the page's table."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csatlib.ingest.actions import load_actions
from csatlib.report.actions import (
    ACTION_PLAN_COLUMNS,
    action_plan_display,
    action_plan_intro,
    action_plan_note,
    action_plan_table,
    load,
)
from csatlib.stats.design import domain_means

WAVES = ("2026-Q1", "2026-Q2", "2026-Q3")
ATTRIBUTES = ["delivery", "invoicing_accuracy", "product_quality"]
LABELS = {
    "delivery": "Delivery",
    "invoicing_accuracy": "Invoicing accuracy",
    "product_quality": "Product quality",
}
TODAY = dt.date(2026, 12, 2)
HEADER = "unit,attribute,root_cause,action,owner,start_wave,due,status\n"
PLANS = (
    "DE,delivery,late trucks,second carrier,Logistics DE,2026-Q1,2026-11-30,open\n"  # row 2
    "DE,delivery,late trucks,delivery windows,Logistics DE,2026-Q2,2026-12-02,in progress\n"
    "DE,invoicing_accuracy,overrides,approval step,Finance DE,2026-Q1,2026-06-30,done\n"
    "FR,delivery,warehouse move,second dispatch,Logistics FR,2026-Q2,2026-08-31,open\n"
    "DE,invoicing_accuracy,overrides,training,Finance DE,2026-Q3,2027-03-31,open\n"  # row 6
    "DE,delivery,old fleet,new vans,Logistics DE,2025-Q2,2025-12-31,open\n"  # row 7
)


def _responses() -> pd.DataFrame:
    """Two units x three waves, 12 accounts each answering every wave with 2-4 respondents,
    plus competitors' customers of DE (in the design, in no domain of the plan's change)."""
    rng = np.random.default_rng(11)
    rows = []
    for unit, lift, competitor in (("DE", 0.5, False), ("FR", 0.0, False), ("DE", 0.0, True)):
        for a in range(12):
            effect = rng.normal(0, 1.0)
            for w, wave in enumerate(WAVES):
                for _ in range(int(rng.integers(2, 5))):
                    row = {
                        "country": unit,
                        "wave": wave,
                        "competitor": competitor,
                        "account_key": f"{unit}{'c' * competitor}{a:02d}",
                    }
                    for k, name in enumerate(ATTRIBUTES):
                        noise = rng.normal(0, 1.2)
                        value = np.rint(6.0 + effect + lift * w * (k == 0) + noise)
                        row[name] = float(np.clip(value, 1, 10))
                    rows.append(row)
    return pd.DataFrame(rows)


def _priorities(verdicts: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame({"verdict": list(verdicts.values())}, index=list(verdicts))
    frame.index.name = "attribute"
    frame["order"] = frame.groupby("verdict").cumcount() + 1
    return frame


PRIORITIES = {
    "delivery": "priority",
    "product_quality": "priority",
    "invoicing_accuracy": "strength",
}


def _ctx(**changes: object) -> SimpleNamespace:
    fields: dict[str, object] = {
        "country": "DE",
        "country_name": "Germany",
        "dimension": "country",
        "within": "",
        "wave": "2026-Q3",
        "waves": WAVES,
        "min_n": 20,
        "cluster": "account_key",
        "to_wave": _responses(),
        "priorities": _priorities(PRIORITIES),
        "labels": LABELS,
        "attributes": ATTRIBUTES,
    }
    return SimpleNamespace(**(fields | changes))


def _actions(tmp_path: Path, body: str = PLANS) -> pd.DataFrame:
    path = tmp_path / "actions.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return load_actions(path)


def test_priorities_first_with_their_plans_then_other_plans(tmp_path: Path) -> None:
    table = action_plan_table(_ctx(), _actions(tmp_path), today=TODAY)  # type: ignore[arg-type]
    assert list(table.columns) == list(ACTION_PLAN_COLUMNS)
    # priority 1 (delivery) with its three plans in file order, priority 2 without plan, then
    # the plans on a strength; FR's plan is not Germany's
    assert (
        table["attribute"].tolist()
        == ["delivery"] * 3 + ["product_quality"] + ["invoicing_accuracy"] * 2
    )
    assert table["row"].tolist() == [2, 3, 7, pd.NA, 4, 6]
    assert table["has_plan"].tolist() == [True, True, True, False, True, True]
    assert table["is_priority"].tolist() == [True] * 4 + [False] * 2
    assert table["verdict"].iat[-1] == "strength"
    assert table["priority_order"].tolist()[:4] == [1, 1, 1, 2]
    assert table["label"].iat[3] == "Product quality"


def test_overdue_on_a_fixed_date(tmp_path: Path) -> None:
    table = action_plan_table(_ctx(), _actions(tmp_path), today=TODAY)  # type: ignore[arg-type]
    by_row = table.set_index("row")
    # open and due 2026-11-30: two days late on 2026-12-02
    assert bool(by_row.loc[2, "overdue"]) and by_row.loc[2, "days_overdue"] == 2
    # in progress and due today: not yet overdue
    assert not by_row.loc[3, "overdue"] and by_row.loc[3, "days_overdue"] == 0
    # done long after its due date passed: never overdue
    assert not by_row.loc[4, "overdue"]
    assert bool(by_row.loc[7, "overdue"]) and by_row.loc[7, "days_overdue"] == 336
    earlier = action_plan_table(_ctx(), _actions(tmp_path), today=dt.date(2026, 11, 30))  # type: ignore[arg-type]
    assert earlier["overdue"].sum() == 1  # only the 2025 plan: due on the day is not late


def test_movement_equals_the_clustered_difference_of_the_two_waves(tmp_path: Path) -> None:
    ctx = _ctx()
    table = action_plan_table(ctx, _actions(tmp_path), today=TODAY)  # type: ignore[arg-type]
    row = table.set_index("row").loc[2]  # delivery since 2026-Q1
    # reference: csatlib.stats.design.domain_means (checked against R survey), DE's own customers
    # in each wave as domains of one design over every response, accounts as clusters
    data = ctx.to_wave
    own = (data["country"] == "DE") & ~data["competitor"]
    domains = np.where(own, data["wave"], None)
    means = domain_means(data["delivery"], domains, clusters=data["account_key"])
    change, se = means.difference("2026-Q3", "2026-Q1")
    assert row["change"] == pytest.approx(change, abs=1e-12)
    assert row["mean_start"] == pytest.approx(means.table.loc["2026-Q1", "mean"], abs=1e-12)
    accounts = 12  # every DE account answers in both waves: t on 12 - 1 df
    half = stats.t.ppf(0.975, accounts - 1) * se
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((change - half, change + half))
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(change / se), accounts - 1))
    assert row["movement"] == "significantly better"  # DE's delivery rises 0.5 a wave


def test_movement_not_measured_yet_or_without_data(tmp_path: Path) -> None:
    table = action_plan_table(_ctx(), _actions(tmp_path), today=TODAY)  # type: ignore[arg-type]
    by_row = table.set_index("row")
    assert by_row.loc[6, "movement"] == "measured from the next wave"  # started this wave
    assert by_row.loc[7, "movement"] == "start wave not in the data"  # 2025-Q2: before the study
    assert by_row.loc[[6, 7], ["change", "ci_low", "p_value"]].isna().all().all()
    assert table.loc[~table["has_plan"], "movement"].tolist() == [""]
    shown = action_plan_display(table)
    assert shown is not None
    assert shown["Change since the plan started (95% CI)"].iat[5] == "measured from the next wave"
    assert shown["Verdict"].iat[5] == ""  # nothing measured, no verdict


def test_small_cells_are_suppressed(tmp_path: Path) -> None:
    table = action_plan_table(_ctx(min_n=40), _actions(tmp_path), today=TODAY)  # type: ignore[arg-type]
    row = table.set_index("row").loc[2]
    assert row["movement"] == "not enough data"
    assert all(math.isnan(row[c]) for c in ("change", "ci_low", "ci_high", "p_value", "mean_now"))
    data = _responses()
    cells = data.loc[(data["country"] == "DE") & ~data["competitor"]].groupby("wave").size()
    assert (row["n_start"], row["n_now"]) == (cells["2026-Q1"], cells["2026-Q3"])
    assert cells["2026-Q3"] < 40 <= cells["2026-Q1"]  # one wave below the minimum is enough
    shown = action_plan_display(table)
    assert shown is not None
    assert shown["Change since the plan started (95% CI)"].iat[0] == (
        f"not enough data (n = {cells['2026-Q1']} in 2026-Q1, n = {cells['2026-Q3']} in "
        "2026-Q3; minimum 40)"
    )
    assert shown["Verdict"].iat[0] == ""


def test_display_words_labels_and_no_plan(tmp_path: Path) -> None:
    table = action_plan_table(_ctx(), _actions(tmp_path), today=TODAY)  # type: ignore[arg-type]
    shown = action_plan_display(table)
    assert shown is not None
    assert shown.columns.name == "Attribute"  # the attributes label the rows
    assert list(shown.columns) == [
        "This wave", "Root cause", "Plan", "Owner", "Started", "Due", "Status",
        "Change since the plan started (95% CI)", "Verdict",
    ]  # fmt: skip
    assert shown.index.tolist()[3:] == [
        "Product quality",
        "Invoicing accuracy",
        "Invoicing accuracy",
    ]
    assert shown["This wave"].tolist()[2:5] == [
        "priority 1",
        "priority 2",
        "not a priority (strength)",
    ]
    assert shown["Plan"].iat[3] == "no plan"
    assert shown["Due"].iat[0] == "2026-11-30, overdue by 2 days"
    assert shown["Due"].iat[1] == "2026-12-02"
    row = table.iloc[0]
    expected = (
        f"{row['change']:+.2f} ({row['ci_low']:+.2f} to {row['ci_high']:+.2f}; "
        f"{row['mean_start']:.2f} in 2026-Q1 → {row['mean_now']:.2f} in 2026-Q3)"
    )
    assert shown["Change since the plan started (95% CI)"].iat[0] == expected
    assert shown["Verdict"].iat[0].startswith("significantly better (p ")
    assert not any("_" in str(v) for v in [*shown.index, *shown["This wave"]])
    assert action_plan_note(table) == "2 of 5 plans overdue."


def test_unknown_attribute_of_the_unit_is_flagged_with_its_file_row(tmp_path: Path) -> None:
    body = (
        PLANS + "DE,speed,x,y,z,2026-Q1,2026-09-30,open\nFR,colour,x,y,z,2026-Q1,2026-09-30,open\n"
    )
    table = action_plan_table(_ctx(), _actions(tmp_path, body), today=TODAY)  # type: ignore[arg-type]
    assert "speed" not in set(table["attribute"])  # kept out of the table, flagged in the note
    message = action_plan_note(table)
    assert message.startswith(
        "actions.csv, row 8, column attribute: expected an attribute of the study's codebook"
    )
    assert "found 'speed'; the plan is not shown" in message  # FR's: FR's report
    assert "colour" not in message
    assert message.endswith(" 2 of 5 plans overdue.")  # the unit's own plans still counted
    assert "delivery, invoicing_accuracy, product_quality" in message


def test_no_file_no_plan_and_nothing_to_show(tmp_path: Path) -> None:
    none = load(tmp_path / "absent.csv")
    table = action_plan_table(_ctx(), none, today=TODAY)  # type: ignore[arg-type]
    assert table["has_plan"].tolist() == [False, False]  # the two priorities, "no plan"
    assert "no action plans file" in (action_plan_note(table) or "")
    fr_only = _actions(tmp_path, "FR,delivery,x,y,z,2026-Q2,2026-08-31,open\n")
    table = action_plan_table(_ctx(), fr_only, today=TODAY)  # type: ignore[arg-type]
    assert (
        action_plan_note(table) == "Germany has no action plan: no priority below has a plan yet."
    )
    calm = _ctx(priorities=_priorities({a: "no significant difference" for a in ATTRIBUTES}))
    table = action_plan_table(calm, fr_only, today=TODAY)  # type: ignore[arg-type]
    assert table.empty and action_plan_display(table) is None
    assert action_plan_note(table) == "Germany has no priority this wave and no action plan."
    assert "no priority this wave" in str(action_plan_intro(table))


def test_a_business_unit_report_reads_its_own_plans(tmp_path: Path) -> None:
    data = _responses().replace({"country": {"DE": "compute", "FR": "storage"}})
    body = PLANS + "business_unit--compute,product_quality,x,burn-in,y,2026-Q1,2027-01-31,open\n"
    ctx = _ctx(dimension="business_unit", country="compute", country_name="Compute", to_wave=data)
    table = action_plan_table(ctx, _actions(tmp_path, body), today=TODAY)  # type: ignore[arg-type]
    assert table.loc[table["has_plan"], "row"].tolist() == [8]
    assert table["attribute"].tolist() == ["delivery", "product_quality"]
    assert table["movement"].iat[1] in {"no significant change", "significantly better",
                                        "significantly worse"}  # fmt: skip
    assert table.attrs["unit"] == "business_unit--compute"


def test_plan_words_say_the_state_of_each_priority_plan(tmp_path: Path) -> None:
    from csatlib.report.actions import plan_words

    table = action_plan_table(_ctx(), _actions(tmp_path), today=TODAY)  # type: ignore[arg-type]
    words = {a: plan_words(table, a) for a in table["attribute"].unique()}
    overdue = table.loc[table["overdue"].astype(bool)].groupby("attribute")["days_overdue"].max()
    for attribute, days in overdue.items():  # the most overdue plan of the attribute
        assert words[attribute] == f"plan overdue by {days} day{'s' * (days != 1)}"
    planless = table.loc[~table["has_plan"].astype(bool), "attribute"]
    assert all(words[a] == "no action plan yet" for a in planless)
    assert len(planless) and len(overdue)  # the fixture has both cases
    none = action_plan_table(_ctx(), load(tmp_path / "absent.csv"), today=TODAY)  # type: ignore[arg-type]
    assert plan_words(none, "delivery") is None  # no actions file: the summary says nothing


def test_the_plans_file_is_read_once_per_version(tmp_path: Path) -> None:
    # The fork server reads the study's plans once; a kernel then finds them in memory. An
    # edited file (another size or modification time) is read again, a deleted one is gone.
    import os

    path = tmp_path / "actions.csv"
    path.write_text(HEADER + PLANS, encoding="utf-8")
    first = load(path)
    assert load(path) is not first and load(path).equals(first)  # a copy of what was read
    lines = PLANS.strip().splitlines()
    path.write_text(HEADER + lines[0] + "\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert len(load(path)) == 1 < len(first)
    path.unlink()
    assert load(path).empty
