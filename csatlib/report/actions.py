"""A report's action plans: each priority with its plan or "no plan", overdue plans, and how
the attribute moved since the plan started.

The priorities are the report's one answer to "what do we fix" (``ctx.priorities``,
:func:`csatlib.stats.priorities.priorities`); the plans come from ``actions.csv``
(:mod:`csatlib.ingest.actions`). A plan's movement is its attribute's mean rating in the
report's wave minus the mean in the wave the plan started
(:func:`csatlib.stats.scores.mean_change`, on the same design as the report's trends), with
its 95% interval; :data:`RULE` states the rules in words for the page.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import pandas as pd

from csatlib import config
from csatlib.errors import DataError
from csatlib.ingest.actions import COLUMNS, OPEN, empty_actions, load_actions
from csatlib.report.targets import report_name

if TYPE_CHECKING:
    from csatlib.report.context import CountryContext
    from csatlib.report.display import SafeHTML

__all__ = [
    "plan_words",
    "ACTION_PLAN_COLUMNS",
    "Movement",
    "RULE",
    "action_plan_display",
    "action_plan_intro",
    "action_plan_note",
    "action_plan_table",
    "changes_since",
    "load",
]

Movement = Literal[
    "significantly better",
    "significantly worse",
    "no significant change",
    "not enough data",
    "measured from the next wave",
    "start wave not in the data",
]

#: The rules in words, as every page states them.
RULE: Final[str] = (
    "Each priority of this wave is listed with its action plan, or 'no plan'; plans on "
    "attributes that are not priorities follow. A plan is overdue when its due date has passed "
    "and it is still open or in progress. The change since the plan started is the attribute's "
    "mean rating this wave minus its mean in the plan's start wave, with its 95% confidence "
    "interval (customer accounts as clusters; an account answering in both waves is allowed "
    "for): significantly better or worse when the whole interval lies above or below zero, no "
    "significant change when it contains zero. A plan that started this wave is measured from "
    "the next wave; a wave with fewer respondents than the small-cell minimum shows no number."
)

ACTION_PLAN_COLUMNS: Final[tuple[str, ...]] = (
    "unit", "attribute", "label", "verdict", "is_priority", "priority_order", "has_plan",
    "root_cause", "action", "owner", "start_wave", "due", "status", "overdue", "days_overdue",
    "wave", "n_start", "n_now", "mean_start", "mean_now", "change", "ci_low", "ci_high",
    "p_value", "movement", "row",
)  # fmt: skip

_MOVEMENT_COLUMNS = (
    "n_start", "n_now", "mean_start", "mean_now", "change", "ci_low", "ci_high", "p_value",
)  # fmt: skip


_RENAMED = {"n_from": "n_start", "n_to": "n_now", "mean_from": "mean_start", "mean_to": "mean_now"}


def load(path: str | Path | None = None) -> pd.DataFrame:
    """The study's action plans (:func:`csatlib.ingest.actions.load_actions` of ``path``,
    default :data:`csatlib.config.ACTIONS`); no row when the study has no action plans file.
    Read once per version of the file (:func:`csatlib.report.context.by_file_version`: the
    build's fork server reads it before its kernels start)."""
    from csatlib.report.context import by_file_version

    path = Path(config.ACTIONS if path is None else path)
    return by_file_version(path, load_actions, empty_actions)


def _check_plans(
    plans: pd.DataFrame, attributes: Sequence[str], source: str
) -> tuple[pd.DataFrame, list[str]]:
    """The plans on attributes of the study's codebook, and one flag per plan left out (its file
    row and attribute): a plan is kept and flagged rather than stopping the report."""
    unknown = ~plans["attribute"].isin(set(attributes))
    known = ", ".join(attributes) or "none"
    flags = [
        f"{source}, row {row}, column attribute: expected an attribute of the study's codebook "
        f"(role attribute: {known}), found {name!r}; the plan is not shown"
        for row, name in zip(
            plans.loc[unknown, "row"], plans.loc[unknown, "attribute"], strict=True
        )
    ]
    return plans.loc[~unknown].reset_index(drop=True), flags


def _wave_position(
    start: pd.Series, wave: str, waves: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(started before the report's wave, start wave in the data) per plan; a wave not in the
    data is ordered as text, as the workbench does ("2026-Q1" < "2026-Q2")."""
    order = {str(w): i for i, w in enumerate(waves)}
    text = start.astype(str)
    known = text.isin(set(order)).to_numpy()
    if wave in order:
        before = np.where(known, text.map(order).fillna(-1).to_numpy() < order[wave], text < wave)
    else:
        before = (text < wave).to_numpy()
    return before.astype(bool), known


def changes_since(ctx: CountryContext, start: str) -> pd.DataFrame:
    """Every unit's and brand's change of each attribute's mean from ``start`` to the report's
    wave (:func:`csatlib.stats.scores.mean_change` on the report's trend design, ``to_wave``):
    the same table for every report of a build, made once and kept where the context keeps its
    study-wide results (:meth:`~csatlib.report.context.CountryContext.shared_result`)."""
    from csatlib.stats.scores import mean_change

    def compute() -> pd.DataFrame:
        return mean_change(
            ctx.to_wave,
            list(ctx.attributes),
            from_wave=start,
            to_wave=ctx.wave,
            by=["country", "competitor"],
            cluster=ctx.cluster,
            min_n=ctx.min_n,
        )

    keep = getattr(ctx, "shared_result", None)  # a context made by hand (tests) keeps nothing
    if keep is None:
        return compute()
    return keep("attribute_changes", compute, start, tuple(ctx.attributes), ctx.cluster, ctx.min_n)


def _movement(ctx: CountryContext, plans: pd.DataFrame) -> pd.DataFrame:
    """The change of each plan's attribute since its start wave (columns :data:`_MOVEMENT_COLUMNS`
    and ``movement``), aligned with ``plans``."""

    out = pd.DataFrame(np.nan, index=plans.index, columns=list(_MOVEMENT_COLUMNS))
    before, known = _wave_position(plans["start_wave"], ctx.wave, ctx.waves)
    words = np.where(before, "start wave not in the data", "measured from the next wave")
    out["movement"] = words.astype(object)
    measured = before & known
    for start in pd.unique(plans.loc[measured, "start_wave"]):  # a few start waves, one call each
        mine = plans.index[measured & (plans["start_wave"] == start).to_numpy()]
        table = changes_since(ctx, str(start))
        own = table.loc[
            (table["country"].astype(str) == ctx.country) & ~table["competitor"].astype(bool)
        ].set_index("measure")
        found = own.reindex(plans.loc[mine, "attribute"])
        found = found.rename(columns=_RENAMED)
        out.loc[mine, list(_MOVEMENT_COLUMNS)] = found[list(_MOVEMENT_COLUMNS)].to_numpy(float)
        suppressed = found["suppressed"].fillna(True).to_numpy(dtype=bool)
        out.loc[mine, "movement"] = np.select(
            [
                suppressed,
                found["ci_low"].to_numpy(float) > 0,
                found["ci_high"].to_numpy(float) < 0,
            ],
            ["not enough data", "significantly better", "significantly worse"],
            "no significant change",
        )
    return out


def _ordered_rows(plans: pd.DataFrame, priorities: pd.DataFrame) -> pd.DataFrame:
    """The priorities (in their order), each with its plans or a row without plan, then the
    plans on other attributes (in the report's order of attributes, then the file's)."""
    verdicts = priorities["verdict"].astype(str)
    first = verdicts.index[verdicts == "priority"]
    without = [a for a in first if a not in set(plans["attribute"])]
    rows = pd.concat(
        [
            plans.assign(has_plan=True, _file=np.arange(len(plans))),
            pd.DataFrame({"attribute": without, "has_plan": False, "_file": -1}),
        ],
        ignore_index=True,
    )
    order = pd.Series(np.arange(len(verdicts)), index=verdicts.index)
    rows["verdict"] = rows["attribute"].map(verdicts).fillna("not assessed")
    rows["is_priority"] = rows["verdict"].eq("priority")
    rows["priority_order"] = (
        rows["attribute"].map(priorities["order"]).where(rows["is_priority"]).astype("Int64")
    )
    rows["_order"] = rows["attribute"].map(order).fillna(len(order))
    rows = rows.sort_values(["is_priority", "_order", "_file"], ascending=[False, True, True])
    return rows.drop(columns=["_order", "_file"]).reset_index(drop=True)


def action_plan_table(
    ctx: CountryContext, actions: pd.DataFrame, *, today: dt.date | None = None
) -> pd.DataFrame:
    """One row per priority of the report and per action plan of its unit.

    Parameters
    ----------
    ctx : CountryContext
        The report's context: its unit (:func:`csatlib.report.targets.report_name`), wave,
        attributes and labels, ``priorities`` (the verdict per attribute), and the design of
        its trends (``to_wave``, ``cluster``, ``min_n``).
    actions : pandas.DataFrame
        :func:`load` (columns of :func:`csatlib.ingest.actions.load_actions`).
    today : datetime.date, optional, keyword-only
        The date overdue plans are judged on (default: today's date).

    Returns
    -------
    pandas.DataFrame
        :data:`ACTION_PLAN_COLUMNS`, first the priorities in the priorities' order, each with
        its plans (file order) or one row with ``has_plan`` False; then the plans on
        attributes that are not priorities (``is_priority`` False, ``verdict`` their verdict
        this wave: "strength", "no significant difference", "not enough data"). ``label`` is
        the attribute's codebook label; ``overdue`` is True when ``due`` is before ``today``
        and the status is open or in progress, ``days_overdue`` how many days (0 otherwise);
        ``n_start, n_now, mean_start, mean_now, change, ci_low, ci_high, p_value`` compare the
        start wave with the report's ``wave`` (NaN when not measured), and ``movement`` says
        the result in words (:data:`Movement`; empty without a plan). ``row`` is the plan's
        row in the file (NA without a plan). ``attrs``: ``source`` (the file's name, None
        when the study has no action plans file), ``unit``, ``unit_name``, ``wave``,
        ``today``.

    Raises
    ------
    ExportError
        A plan of the unit names an attribute the study's codebook does not have (role
        ``attribute``): ``"actions.csv, row 5, column attribute: expected an attribute of the
        study's codebook (...), found 'speed'"``.
    DataError
        ``actions`` lacks a column, or ``today`` is not a date.

    Notes
    -----
    The change is :func:`csatlib.stats.scores.mean_change` on the report's trend design (every
    response up to the report's wave, both brands, every unit; accounts as clusters), so a
    plan started in the previous wave shows the change of the report's trend table. Its
    variance includes the covariance of the two waves through the accounts answering in both,
    and the interval is Student's t on the smaller wave's accounts minus one. Each plan's
    change is one comparison fixed in advance (the plan names its attribute and start wave),
    so its p-value is not adjusted for the report's family of screens.
    """
    from csatlib.report.tables import label

    today = dt.date.today() if today is None else today
    if not isinstance(today, dt.date):
        raise DataError(f"action_plan_table: today must be a datetime.date; got {today!r}")
    missing = [c for c in (*COLUMNS, "row") if c not in actions.columns]
    if missing:
        raise DataError(
            f"action_plan_table: actions need the columns {missing} (csatlib.report.actions.load)"
        )
    source = actions.attrs.get("source")
    unit = report_name(ctx)
    plans = actions.loc[actions["unit"].astype(str) == unit].reset_index(drop=True)
    plans, flags = _check_plans(plans, ctx.attributes, source or "actions.csv")
    rows = _ordered_rows(plans, ctx.priorities)
    rows["unit"], rows["wave"] = unit, ctx.wave
    rows["label"] = [label(a, ctx.labels) for a in rows["attribute"]]
    late = (pd.Timestamp(today) - pd.to_datetime(rows["due"])).dt.days
    rows["overdue"] = rows["has_plan"] & rows["status"].isin(sorted(OPEN)) & (late > 0)
    rows["days_overdue"] = np.where(rows["overdue"], late, 0).astype(np.int64)
    rows = rows.join(_movement(ctx, rows.loc[rows["has_plan"]]))
    rows["movement"] = rows["movement"].fillna("")
    rows["row"] = rows["row"].astype("Int64")
    for column in ("root_cause", "action", "owner", "start_wave", "status"):
        rows[column] = rows[column].fillna("")
    out = rows.reindex(columns=list(ACTION_PLAN_COLUMNS))
    out.attrs = {
        "source": source,
        "unit": unit,
        "unit_name": ctx.country_name,
        "wave": ctx.wave,
        "today": today,
        "min_n": ctx.min_n,
        "flags": flags,
    }
    return out


def _change_text(row: pd.Series, min_n: int) -> str:
    """The change with its interval, or why there is none."""
    if not row["has_plan"]:
        return ""
    if row["movement"] == "not enough data":
        counts = [row["n_start"], row["n_now"]]
        shown = ", ".join(
            f"n = {int(n) if not math.isnan(n) else 0} in {w}"
            for n, w in zip(counts, (row["start_wave"], row["wave"]), strict=True)
        )
        return f"not enough data ({shown}; minimum {min_n})"
    if math.isnan(row["change"]):
        return str(row["movement"])
    from csatlib.report.tables import fmt_interval, fmt_number

    return (
        f"{fmt_number(row['change'], 2, signed=True)} "
        f"({fmt_interval(row['ci_low'], row['ci_high'], 2, signed=True)}; "
        f"{fmt_number(row['mean_start'], 2)} in {row['start_wave']} → "
        f"{fmt_number(row['mean_now'], 2)} in {row['wave']})"
    )


def _verdict_text(row: pd.Series) -> str:
    if row["is_priority"]:
        return f"priority {row['priority_order']}"
    return f"not a priority ({row['verdict']})"


def _verdict_words(movement: str, p: str) -> str:
    """The movement's verdict with its p-value; empty when no number was measured (the change
    column says why)."""
    if not p or not movement.startswith(("significantly", "no significant")):
        return ""
    return f"{movement} (p {p})" if p.startswith("<") else f"{movement} (p = {p})"


def action_plan_display(table: pd.DataFrame) -> pd.DataFrame | None:
    """The action plans (:func:`action_plan_table`) for reading, one row per plan or priority
    without plan; None when there is nothing to show (no priority and no plan).

    Columns ``Attribute`` (the codebook's label), ``This wave`` ("priority 1", "not a
    priority (strength)"), ``Root cause``, ``Plan`` (the action, or "no plan"), ``Owner``,
    ``Started`` (the start wave), ``Due`` (the date, "overdue by 12 days" when overdue),
    ``Status``, ``Change since the plan started (95% CI)`` (the change of the mean rating with
    its interval and the two means, or why there is no number: "measured from the next
    wave", "not enough data (n = 12 in 2026-Q1, n = 410 in 2026-Q3; minimum 30)") and
    ``Verdict`` ("significantly better (p = 0.012)", "no significant change (p = 0.410)";
    empty when nothing was measured). Plain text throughout; pandas escapes it on the page.
    """
    if table.empty:
        return None
    from csatlib.report.tables import fmt_p

    min_n = int(table.attrs.get("min_n", config.DEFAULT_MIN_N))
    due = [
        ""
        if pd.isna(d)
        else f"{d:%Y-%m-%d}" + (f", overdue by {k} day{'s' * (k != 1)}" if late else "")
        for d, late, k in zip(table["due"], table["overdue"], table["days_overdue"], strict=True)
    ]
    verdict = [
        _verdict_words(m, fmt_p(p))
        for m, p in zip(table["movement"], table["p_value"], strict=True)
    ]
    out = pd.DataFrame(
        {
            "This wave": [_verdict_text(r) for _, r in table.iterrows()],
            "Root cause": table["root_cause"].to_numpy(),
            "Plan": np.where(table["has_plan"], table["action"], "no plan"),
            "Owner": table["owner"].to_numpy(),
            "Started": table["start_wave"].to_numpy(),
            "Due": due,
            "Status": table["status"].to_numpy(),
            "Change since the plan started (95% CI)": [
                _change_text(r, min_n) for _, r in table.iterrows()
            ],
            "Verdict": verdict,
        },
        index=pd.Index(table["label"].to_numpy()),
    )
    out.columns.name = "Attribute"
    return out


def action_plan_note(table: pd.DataFrame) -> str | None:
    """One line when the unit has no action plan (or the study no action plans file); else
    None. Overdue plans are counted when there are any."""
    flags = " ".join(table.attrs.get("flags") or [])
    said = _plans_note(table)
    return " ".join(part for part in (flags, said) if part) or None


def _plans_note(table: pd.DataFrame) -> str | None:
    """The unit's plans in one line (none, or how many are overdue); None when all is well."""
    name = table.attrs.get("unit_name") or table.attrs.get("unit", "this unit")
    if table.attrs.get("source") is None:
        return "The study has no action plans file (actions.csv), so no plan is shown."
    plans = int(table["has_plan"].sum()) if len(table) else 0
    if plans == 0:
        if table.empty:
            return f"{name} has no priority this wave and no action plan."
        return f"{name} has no action plan: no priority below has a plan yet."
    overdue = int(table["overdue"].sum())
    if overdue:
        return f"{overdue} of {plans} plan{'s' * (plans != 1)} overdue."
    return None


def action_plan_intro(table: pd.DataFrame) -> SafeHTML:
    """The section's heading with its rule, and the note of :func:`action_plan_note`."""
    from csatlib.report.display import SafeHTML, heading, note

    head = heading("Action plans", subtitle=RULE)
    line = action_plan_note(table)
    return SafeHTML(head.markup + note(line).markup) if line else head


def plan_words(table: pd.DataFrame, attribute: str) -> str | None:
    """The state of an attribute's plan(s) in a few words, for the executive summary: "plan
    overdue by 32 days", "plan in progress, due 2027-01-31", "plan done", "no action plan yet";
    None when the study has no action plans file (nothing to say)."""
    if table.attrs.get("source") is None:
        return None
    plans = table.loc[(table["attribute"] == attribute) & table["has_plan"].astype(bool)]
    if plans.empty:
        return "no action plan yet"
    late = plans.loc[plans["overdue"].astype(bool)]
    if len(late):
        days = int(late["days_overdue"].max())
        return f"plan overdue by {days} day{'s' * (days != 1)}"
    live = plans.loc[plans["status"].isin(sorted(OPEN))]
    if len(live):
        due = pd.to_datetime(live["due"]).min()
        return f"plan {live['status'].iloc[0]}, due {due:%Y-%m-%d}"
    return f"plan {plans['status'].iloc[0]}"
