"""The steering committee's page, ``reports/html/scorecard.html``: every unit's targets, the
open action plans and the follow-up cases with their service levels, on one page.

:func:`steering_tables` gathers what the other parts of the build decided, and decides nothing
again: a target's status is the one its report wrote into ``reports/metrics/<name>.json``
(:func:`csatlib.report.targets.target_status`), a plan is overdue by the rule of
:mod:`csatlib.report.actions`, a case by :func:`csatlib.loop.cases.read_cases`.
:func:`write_steering_page` lays the tables out with ``templates/steering.html.j2``, which
escapes every value (autoescape), in the look of the index page. Counts of cases and plans are
not survey estimates: nothing is suppressed, and no respondent's name or answer is shown.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from csatlib import config, roles
from csatlib.errors import DataError
from csatlib.ingest.actions import OPEN
from csatlib.loop.cases import CASES_FILE, case_summary, read_cases
from csatlib.report.cases import TYPE_WORDS
from csatlib.report.stamps import SUMMARY_NAME, published_paths, read_stamp
from csatlib.report.targets import RULE
from csatlib.safety import write_text_atomic

if TYPE_CHECKING:
    import jinja2

    from csatlib.loop.rules import CaseRules

__all__ = [
    "ACTION_COLUMNS",
    "KPI_COLUMNS",
    "PAGE_NAME",
    "STATUS_ORDER",
    "SteeringTables",
    "TOP_OWNERS",
    "steering_summary",
    "steering_tables",
    "write_steering_page",
]

#: The page's file name, in ``reports/html`` beside the reports it links to.
PAGE_NAME: Final[str] = "scorecard.html"
#: Target statuses in the order the page lists them: what needs the committee first.
STATUS_ORDER: Final[tuple[str, ...]] = ("missed", "at risk", "not enough data", "on track", "met")
#: The columns of :attr:`SteeringTables.targets`.
KPI_COLUMNS: Final[tuple[str, ...]] = (
    "unit", "unit_name", "unit_short", "metric", "label", "baseline_wave", "baseline",
    "wave", "estimate", "ci_low", "ci_high", "n", "target", "due_wave", "gap", "status", "owner",
)  # fmt: skip
#: The columns of :attr:`SteeringTables.actions`.
ACTION_COLUMNS: Final[tuple[str, ...]] = (
    "unit", "unit_name", "attribute", "label", "action", "owner", "due", "status", "overdue",
    "days_overdue",
)  # fmt: skip
#: Owners shown on the page (the table holds them all).
TOP_OWNERS: Final[int] = 10

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_METRIC_LABELS = {"nps": "NPS", "loyalty_index": "Loyalty index (0–100)"}


@dataclass(frozen=True)
class SteeringTables:
    """What the steering page shows, as tables (see :func:`steering_tables` for the columns).

    ``has_targets``, ``has_actions`` and ``has_cases`` say whether the study has a targets
    file, an action plans file and a case store: an empty table means "none" only when its
    source exists.
    """

    today: dt.date
    targets: pd.DataFrame
    target_counts: pd.DataFrame
    actions: pd.DataFrame
    cases_by_type: pd.DataFrame
    cases_by_owner: pd.DataFrame
    sla: pd.DataFrame
    has_targets: bool
    has_actions: bool
    has_cases: bool
    unreported: tuple[str, ...] = ()  # the targets file's units that no report of the build is


# --------------------------------------------------------------------------- units


def _unit_names(reports_dir: Path, unit: str, processed_dir: Path | None = None) -> tuple[str, str]:
    """(name, short name) of a report's unit: ("Germany (DE)", "DE"), a business unit's label
    from the organisation mapping of the study in ``processed_dir`` (default the project's)
    ("Compute", "Compute"), else its file name's value ("compute (business unit)")."""
    from csatlib.report.context import unit_label
    from csatlib.report.index import _country_label  # the index's names, said once
    from csatlib.report.sections import dimension_label, unit_words

    if "--" not in unit:
        return _country_label(unit), unit
    stamp = read_stamp(reports_dir, unit)
    if stamp.get("dimension") and stamp.get("value"):
        name = unit_label(str(stamp["dimension"]), str(stamp["value"]), processed_dir)
        if stamp.get("within"):
            outer, _, value = str(stamp["within"]).partition("=")
            name += f" in {unit_label(outer, value, processed_dir)}"
        return name, name
    dimension, _, slug = unit.partition("--")
    if dimension == "business_unit" and "--" not in slug:  # the mapping names it
        name = unit_label(dimension, slug, processed_dir)
        if name != slug:
            return name, name
    label = dimension_label(processed_dir or config.PROCESSED_DIR, dimension)
    word = unit_words(dimension, label)[0]
    return f"{slug.replace('--', ' in ')} ({word})", slug


def _metric_label(metric: str, labels: Mapping[str, str] | None = None) -> str:
    """ "NPS", "Satisfaction: Delivery" (the codebook's label when ``labels`` has it)."""
    from csatlib.report.display import label

    if metric in _METRIC_LABELS:
        return _METRIC_LABELS[metric]
    return f"Satisfaction: {label(metric.partition(':')[2], labels)}"


# --------------------------------------------------------------------------- targets


def _read_json(path: Path) -> dict[str, Any]:
    """A metrics file as the index reads it: an unreadable one has no figures."""
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return metrics if isinstance(metrics, dict) else {}


def _unit_targets(reports_dir: Path, path: Path, processed_dir: Path | None = None) -> pd.DataFrame:
    """One report's targets block joined with its current figures (empty without targets)."""
    from csatlib.report.history import metric_rows

    metrics = _read_json(path)
    block = metrics.get("targets")
    if not isinstance(block, Mapping) or not block:
        return pd.DataFrame()
    unit = path.stem
    rows = pd.DataFrame(
        [
            {
                "metric": str(metric),
                "target": cell.get("target"),
                "due_wave": str(cell.get("due_wave", "")),
                "status": str(cell.get("status", "")),
                "reported_baseline": cell.get("baseline"),
            }
            for metric, cell in block.items()
            if isinstance(cell, Mapping)
        ],
        columns=["metric", "target", "due_wave", "status", "reported_baseline"],
    )
    figures = metric_rows(metrics, unit=unit)[["metric", "estimate", "ci_low", "ci_high", "n"]]
    name, short = _unit_names(reports_dir, unit, processed_dir)
    out = rows.merge(figures, on="metric", how="left")
    return out.assign(
        unit=unit, unit_name=name, unit_short=short, wave=str(metrics.get("wave", ""))
    )


def _with_baselines(kpis: pd.DataFrame, targets: pd.DataFrame, reports_dir: Path) -> pd.DataFrame:
    """``baseline_wave`` and ``owner`` from the targets file; ``baseline`` the estimate the
    history store recorded for that wave (NaN when it recorded none, or it was suppressed)."""
    from csatlib.report.history import history

    plan = targets.reindex(columns=["unit", "metric", "baseline_wave", "owner"])
    kpis = kpis.merge(plan.astype(str), on=["unit", "metric"], how="left")
    recorded = history(reports_dir)
    recorded = recorded.loc[~recorded["suppressed"].astype(bool)]
    recorded = recorded.rename(columns={"wave": "baseline_wave", "estimate": "baseline"})
    keys = ["unit", "metric", "baseline_wave"]
    out = kpis.merge(recorded[[*keys, "baseline"]], on=keys, how="left")
    # the report's own baseline first (its scorecard's: history, else its trend table), so the
    # page and the report never disagree; the history's for a report of an older build
    reported = pd.to_numeric(out.pop("reported_baseline"), errors="coerce")
    out["baseline"] = reported.fillna(pd.to_numeric(out["baseline"], errors="coerce"))
    return out


def _kpis(
    reports_dir: Path,
    targets: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    processed_dir: Path | None = None,
) -> pd.DataFrame:
    """Every report's targets, missed and at risk first (columns :data:`KPI_COLUMNS`)."""
    paths = sorted((reports_dir / "metrics").glob("*.json"))
    frames = [_unit_targets(reports_dir, p, processed_dir) for p in paths if p.stem != SUMMARY_NAME]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in KPI_COLUMNS})
    kpis = _with_baselines(pd.concat(frames, ignore_index=True), targets, reports_dir)
    for column in ("target", "estimate", "ci_low", "ci_high", "n", "baseline"):
        kpis[column] = pd.to_numeric(kpis[column], errors="coerce").astype(float)
    kpis["label"] = [_metric_label(m, labels) for m in kpis["metric"]]
    kpis["gap"] = kpis["estimate"] - kpis["target"]
    kpis[["baseline_wave", "owner"]] = kpis[["baseline_wave", "owner"]].fillna("")
    rank = kpis["status"].map({s: i for i, s in enumerate(STATUS_ORDER)}).fillna(len(STATUS_ORDER))
    kpis = kpis.assign(_rank=rank).sort_values(["_rank", "unit_name", "metric"], kind="stable")
    return kpis.reindex(columns=list(KPI_COLUMNS)).reset_index(drop=True)


def _status_counts(kpis: pd.DataFrame) -> pd.DataFrame:
    """``status, targets``: every status of :data:`STATUS_ORDER` (zeros included), then any
    other status a report wrote."""
    counts = kpis["status"].value_counts()
    order = [*STATUS_ORDER, *sorted(set(counts.index) - set(STATUS_ORDER))]
    counts = counts.reindex(order, fill_value=0).astype(int)
    return pd.DataFrame({"status": counts.index, "targets": counts.to_numpy()})


# --------------------------------------------------------------------------- actions


def _open_actions(
    actions: pd.DataFrame,
    reports_dir: Path,
    today: dt.date,
    labels: Mapping[str, str] | None = None,
    processed_dir: Path | None = None,
) -> pd.DataFrame:
    """The open and in-progress plans, overdue first (columns :data:`ACTION_COLUMNS`)."""
    from csatlib.report.display import label

    missing = [
        c for c in ("unit", "attribute", "action", "owner", "due", "status") if c not in actions
    ]
    if missing:
        raise DataError(
            f"steering_tables: actions need the columns {missing} (csatlib.report.actions.load)"
        )
    plans = actions.loc[actions["status"].isin(sorted(OPEN))].copy()
    late = (pd.Timestamp(today) - pd.to_datetime(plans["due"])).dt.days.fillna(0)
    plans["overdue"] = (late > 0).to_numpy(dtype=bool)
    plans["days_overdue"] = np.where(plans["overdue"], late, 0).astype(np.int64)
    units = plans["unit"].astype(str).unique()
    names = {u: _unit_names(reports_dir, u, processed_dir)[0] for u in units}
    plans["unit_name"] = plans["unit"].astype(str).map(names)
    plans["label"] = [label(a, labels) for a in plans["attribute"]]
    known = _study_attributes(processed_dir)
    if known is not None:  # a plan the unit's report leaves out (and flags) says so here too
        unknown = ~plans["attribute"].isin(known).to_numpy(dtype=bool)
        plans.loc[unknown, "label"] = (
            plans.loc[unknown, "label"].astype(str)
            + " (not an attribute of the study: the unit's report does not show this plan)"
        )
    plans["due"] = pd.to_datetime(plans["due"]).dt.date
    plans = plans.sort_values(
        ["days_overdue", "due", "unit_name", "label"],
        ascending=[False, True, True, True],
        kind="stable",
    )
    return plans.reindex(columns=list(ACTION_COLUMNS)).reset_index(drop=True)


def _study_attributes(processed_dir: Path | None) -> set[str] | None:
    """The study's attribute columns (role ``attribute``), None without a processed folder."""
    if processed_dir is None or not (Path(processed_dir) / "responses.parquet").is_file():
        return None
    from csatlib.ingest.clean import load_processed

    return set(roles.names(load_processed("responses", Path(processed_dir)), "attribute"))


# --------------------------------------------------------------------------- cases


def _type_order(table: pd.DataFrame) -> pd.DataFrame:
    """Case types as the reports list them (:data:`TYPE_WORDS`), then any other, then All."""
    known = [t for t in TYPE_WORDS if t in set(table["type"])]
    other = sorted(set(table["type"]) - set(TYPE_WORDS) - {"All"})
    table = table.set_index("type").reindex([*known, *other, "All"]).reset_index()
    words = [TYPE_WORDS.get(t, str(t).replace("_", " ")) for t in table["type"]]
    return table.assign(
        type_label=[
            "All cases" if t == "All" else w for t, w in zip(table["type"], words, strict=True)
        ]
    )


def _by_owner(cases: pd.DataFrame) -> pd.DataFrame:
    """``owner, open, overdue`` of every owner with an open case, most overdue first."""
    still_open = cases.loc[cases["status"] != "closed"]
    table = case_summary(still_open, by=["owner"])
    table = table.loc[table["owner"] != "All"]
    table = table.sort_values(
        ["overdue", "open", "owner"], ascending=[False, False, True], kind="stable"
    )
    return table[["owner", "open", "overdue"]].reset_index(drop=True)


def _service_levels(cases: pd.DataFrame, rules: CaseRules) -> dict[str, str]:
    """The service level of each case type in words; an escalation's per rule, as its cases
    name them ("1 business day; 3 business days")."""
    words = {t: rules.level(t).words() for t in TYPE_WORDS if t in rules.service_levels}
    named = cases.loc[cases["type"] == "escalation", "rule"].astype(str)
    levels = sorted({rules.level("escalation", r or None).words() for r in named.unique()})
    if levels:
        words["escalation"] = "; ".join(levels)
    return words


def _sla(by_type: pd.DataFrame, cases: pd.DataFrame, rules: CaseRules) -> pd.DataFrame:
    """Per case type: its service level, cases closed within it and late, the rate, and the
    open cases past it (how many, median and longest days overdue)."""
    late = cases.loc[cases["overdue"].astype(bool)]
    days = pd.concat([late, late.assign(type="All")]).groupby("type")["days_overdue"]
    table = by_type[["type", "type_label", "closed", "closed_within_sla", "sla_rate", "overdue"]]
    table = table.assign(
        service_level=table["type"].map(_service_levels(cases, rules)).fillna(""),
        closed_late=table["closed"] - table["closed_within_sla"],
        median_days_overdue=table["type"].map(days.median()).astype(float),
        max_days_overdue=table["type"].map(days.max()).astype(float),
    )
    columns = [
        "type", "type_label", "service_level", "closed", "closed_within_sla", "closed_late",
        "sla_rate", "overdue", "median_days_overdue", "max_days_overdue",
    ]  # fmt: skip
    return table[columns]


def _case_tables(
    reports_dir: Path, rules: CaseRules | None, today: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(by type, by owner, service levels) of the case store; no rows without a store."""
    from csatlib.loop.rules import load_case_rules

    cases = read_cases(reports_dir / CASES_FILE, today=today)
    if cases.empty:
        empty = pd.DataFrame()
        return empty, empty, empty
    by_type = _type_order(case_summary(cases, by=["type"]))
    rules = load_case_rules() if rules is None else rules
    return by_type, _by_owner(cases), _sla(by_type, cases, rules)


# --------------------------------------------------------------------------- tables


def steering_tables(
    reports_dir: str | Path,
    *,
    actions: pd.DataFrame | None = None,
    targets: pd.DataFrame | None = None,
    rules: CaseRules | None = None,
    today: dt.date | None = None,
    labels: Mapping[str, str] | None = None,
    processed_dir: str | Path | None = None,
) -> SteeringTables:
    """Gather the steering page's tables from the reports folder and the study's files.

    Parameters
    ----------
    reports_dir : str or pathlib.Path
        The reports folder: ``metrics/<name>.json`` (each report's ``targets`` block and
        figures), ``history.sqlite`` (baselines), ``cases.sqlite`` (the case store).
    actions : pandas.DataFrame, optional
        :func:`csatlib.report.actions.load` (default: the study's ``actions.csv``).
    targets : pandas.DataFrame, optional
        :func:`csatlib.report.targets.load` (default: the study's ``targets.csv``), for each
        target's baseline wave and owner.
    rules : CaseRules, optional
        :func:`csatlib.loop.rules.load_case_rules` (default: the study's rules), for the
        service levels in words.
    today : datetime.date, optional
        The date overdue plans and cases are judged on (default: today).
    labels : mapping of str to str, optional
        The codebook's labels of the attributes (``responses.attrs["labels"]``); without them
        an attribute is named from its canonical name ("Post sales support").
    processed_dir : str or pathlib.Path, optional
        The study's processed folder, whose organisation mapping names the business units
        (default: the project's ``data/processed``).

    Returns
    -------
    SteeringTables
        ``targets``: :data:`KPI_COLUMNS`, one row per unit and target, by
        :data:`STATUS_ORDER` (missed, at risk first), then unit: ``unit`` the report's name,
        ``unit_name`` in words ("Germany (DE)"), ``status`` as its report decided it,
        ``estimate, ci_low, ci_high, n`` the report's current figures (NaN when suppressed),
        ``gap = estimate - target``, ``baseline`` the value recorded for ``baseline_wave``
        (NaN when none was). ``target_counts``: ``status, targets``. ``actions``:
        :data:`ACTION_COLUMNS`, the open and in-progress plans, most overdue first.
        ``cases_by_type``: ``type, cases, open, overdue, closed, closed_within_sla, sla_rate,
        type_label`` (:func:`csatlib.loop.cases.case_summary`, the reports' type order, an
        ``All`` row). ``cases_by_owner``: ``owner, open, overdue`` of every owner with an open
        case, most overdue first. ``sla``: ``type, type_label, service_level, closed,
        closed_within_sla, closed_late, sla_rate, overdue, median_days_overdue,
        max_days_overdue``. Case tables have no rows without a case store.

    Raises
    ------
    DataError
        ``actions`` lacks a column, ``today`` is not a date, or a metrics file holds a figure
        that is not a number.
    """
    from csatlib.report import actions as action_plans
    from csatlib.report import targets as target_file

    reports_dir = Path(reports_dir)
    today = dt.date.today() if today is None else today
    if not isinstance(today, dt.date):
        raise DataError(f"steering_tables: today must be a datetime.date; got {today!r}")
    actions = action_plans.load() if actions is None else actions
    targets = target_file.load() if targets is None else targets
    folder = Path(processed_dir) if processed_dir is not None else None
    kpis = _kpis(reports_dir, targets, labels, folder)
    by_type, by_owner, sla = _case_tables(reports_dir, rules, today)
    return SteeringTables(
        today=today,
        targets=kpis,
        target_counts=_status_counts(kpis),
        actions=_open_actions(actions, reports_dir, today, labels, folder),
        cases_by_type=by_type,
        cases_by_owner=by_owner,
        sla=sla,
        has_targets=not targets.empty,
        has_actions=actions.attrs.get("source") is not None or not actions.empty,
        has_cases=(reports_dir / CASES_FILE).is_file(),
        unreported=_unreported(targets, reports_dir),
    )


def _unreported(targets: pd.DataFrame, reports_dir: Path) -> tuple[str, ...]:
    """The units of the targets file that no report of the folder is (a typo, "de" for "DE",
    or a unit without respondents): their targets are on no page, so the page names them."""
    if targets.empty or "unit" not in targets.columns:
        return ()
    built = {p.stem for p in (reports_dir / "metrics").glob("*.json")}
    units = dict.fromkeys(str(u) for u in targets["unit"])
    return tuple(u for u in units if u not in built)


# --------------------------------------------------------------------------- words


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _targets_words(kpis: pd.DataFrame) -> str:
    """ "3 of 7 targets met, 1 missed (FR NPS), 2 at risk (DE NPS, Compute NPS), 1 on track"."""
    if kpis.empty:
        return "no targets"
    status = kpis["status"]
    words = [f"{int((status == 'met').sum()):,} of {_plural(len(kpis), 'target')} met"]
    for name in ("missed", "at risk", "on track", "not enough data"):
        mine = kpis.loc[status == name]
        if mine.empty:
            continue
        which = ""
        if name in ("missed", "at risk"):
            which = " (" + ", ".join(mine["unit_short"] + " " + mine["label"]) + ")"
        shown = "without enough data" if name == "not enough data" else name
        words.append(f"{len(mine):,} {shown}{which}")
    return ", ".join(words)


def _actions_words(actions: pd.DataFrame) -> str:
    if actions.empty:
        return "no open action"
    late = int(actions["overdue"].sum())
    return f"{late:,} of {_plural(len(actions), 'open action')} overdue"


def _cases_words(tables: SteeringTables) -> str:
    if not tables.has_cases or tables.cases_by_type.empty:
        return "no follow-up case yet"
    total = tables.cases_by_type.set_index("type").loc["All"]
    words = f"{_plural(int(total['open']), 'case')} open, {int(total['overdue']):,} overdue"
    if int(total["closed"]) == 0:
        return f"{words}; none closed yet"
    return f"{words}; {total['sla_rate']:.0%} of closed cases closed within the service level"


def steering_summary(tables: SteeringTables) -> str:
    """The page's summary in one sentence: "3 of 7 targets met, 1 missed (FR NPS); 4 of 9 open
    actions overdue; 436 cases open, 310 overdue; 62% of closed cases closed within the service
    level." """
    parts = [_targets_words(tables.targets), _actions_words(tables.actions), _cases_words(tables)]
    text = "; ".join(parts) + "."
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- page


def _digits(metric: str) -> int:
    """Decimals shown: NPS and loyalty index on 0-100 scales one, a mean rating two."""
    return 2 if metric.startswith("csat:") else 1


def _number(value: float, metric: str, *, signed: bool = False) -> str:
    from csatlib.report.tables import fmt_number

    return fmt_number(value, _digits(metric), signed=signed or metric == "nps")


def _kpi_rows(kpis: pd.DataFrame, reports_dir: Path) -> list[dict[str, str]]:
    """Each target's cells as text; a suppressed value shows no number."""
    from csatlib.report.tables import fmt_interval

    rows = []
    for row in kpis.to_dict("records"):  # a few dozen targets: formatting, not computing
        metric = row["metric"]
        published = published_paths(reports_dir, row["unit"])["html"].is_file()
        rows.append(
            {
                "unit": row["unit_name"],
                "href": f"{row['unit']}.html" if published else "",
                "metric": row["label"],
                "baseline": _number(row["baseline"], metric),
                "baseline_wave": row["baseline_wave"],
                "value": _number(row["estimate"], metric),
                "ci": fmt_interval(
                    row["ci_low"], row["ci_high"], _digits(metric), signed=metric == "nps"
                ),  # fmt: skip
                "wave": row["wave"],
                "target": _number(row["target"], metric),
                "due_wave": row["due_wave"],
                "gap": _number(row["gap"], metric, signed=True),
                "status": row["status"],
                "status_class": row["status"].replace(" ", "-"),
                "owner": row["owner"],
            }
        )
    return rows


def _action_rows(actions: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {
            "unit": row["unit_name"],
            "attribute": row["label"],
            "action": row["action"],
            "owner": row["owner"],
            "due": "" if pd.isna(row["due"]) else f"{row['due']:%Y-%m-%d}",
            "status": row["status"],
            "late": _plural(int(row["days_overdue"]), "day") if row["overdue"] else "",
        }
        for row in actions.to_dict("records")
    ]


def _rate(done: int, closed: int) -> str:
    return "none closed yet" if closed == 0 else f"{done / closed:.0%}"


def _days(value: float) -> str:
    return "" if pd.isna(value) else f"{value:,.0f}"


def _case_rows(tables: SteeringTables) -> dict[str, list[dict[str, str]]]:
    if tables.cases_by_type.empty:
        return {"types": [], "owners": [], "sla": []}
    types = [
        {"type": r["type_label"], "open": f"{r['open']:,}", "overdue": f"{r['overdue']:,}",
         "closed": f"{r['closed']:,}", "rate": _rate(r["closed_within_sla"], r["closed"])}
        for r in tables.cases_by_type.to_dict("records")
    ]  # fmt: skip
    owners = [
        {"owner": r["owner"] or "(no owner)", "open": f"{r['open']:,}",
         "overdue": f"{r['overdue']:,}"}
        for r in tables.cases_by_owner.head(TOP_OWNERS).to_dict("records")
    ]  # fmt: skip
    sla = [
        {"type": r["type_label"], "level": r["service_level"],
         "within": f"{r['closed_within_sla']:,}", "late": f"{r['closed_late']:,}",
         "rate": _rate(r["closed_within_sla"], r["closed"]), "overdue": f"{r['overdue']:,}",
         "median": _days(r["median_days_overdue"]), "max": _days(r["max_days_overdue"])}
        for r in tables.sla.to_dict("records")
    ]  # fmt: skip
    return {"types": types, "owners": owners, "sla": sla}


def _shown_path(path: Path) -> str:
    """A study file as the page names it: relative to the project ("data/raw/targets.csv")."""
    try:
        return Path(path).resolve().relative_to(config.PROJECT_ROOT.resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _notes(tables: SteeringTables) -> dict[str, str]:
    """One line for each part that has nothing to show, saying why; empty when it has."""
    notes = {"targets": "", "unreported": "", "actions": "", "cases": ""}
    if tables.unreported:
        listed = ", ".join(repr(u) for u in tables.unreported)
        notes["unreported"] = (
            f"Targets of {_shown_path(config.TARGETS)} for units no report of this build "
            f"has, and shown nowhere: {listed}. A unit is named as its report is (DE, or "
            "business_unit--compute for a report by business unit)."
        )
    if tables.targets.empty:
        notes["targets"] = (
            "No report carries a target yet: the next build of the reports adds them."
            if tables.has_targets
            else f"No targets file: {_shown_path(config.TARGETS)}."
        )
    if tables.actions.empty:
        notes["actions"] = (
            "No open action plan: every plan is done or cancelled."
            if tables.has_actions
            else f"No action plans ({_shown_path(config.ACTIONS)})."
        )
    if tables.cases_by_type.empty:
        notes["cases"] = (
            "No follow-up case in the case store."
            if tables.has_cases
            else "No case store yet: the build opens the follow-up cases (make reports)."
        )
    return notes


def _environment() -> jinja2.Environment:
    from csatlib.report.index import page_environment

    return page_environment(str(_TEMPLATES))


def write_steering_page(
    reports_dir: str | Path,
    *,
    actions: pd.DataFrame | None = None,
    targets: pd.DataFrame | None = None,
    rules: CaseRules | None = None,
    today: dt.date | None = None,
    labels: Mapping[str, str] | None = None,
    processed_dir: str | Path | None = None,
) -> Path:
    """Write ``reports/html/scorecard.html``: the quarterly review on one page.

    A heading with the date, the summary in one sentence (:func:`steering_summary`), then the
    targets (with the status counts and the status rule, :data:`csatlib.report.targets.RULE`,
    stated once), the open action plans, the follow-up cases by type and by owner (the
    :data:`TOP_OWNERS` most overdue), and the service-level attainment per case type; each
    with one sentence saying what it shows, or one line saying why it is empty. Every value is
    escaped (autoescape); plain HTML and CSS, no script. Arguments as :func:`steering_tables`.

    Returns
    -------
    pathlib.Path
        The page written (atomically).
    """
    reports_dir = Path(reports_dir)
    tables = steering_tables(
        reports_dir,
        actions=actions,
        targets=targets,
        rules=rules,
        today=today,
        labels=labels,
        processed_dir=processed_dir,
    )
    counts = tables.target_counts
    page = (
        _environment()
        .get_template("steering.html.j2")
        .render(
            today=f"{tables.today:%Y-%m-%d}",
            summary=steering_summary(tables),
            rule=RULE,
            counts=[
                (s, f"{n:,}") for s, n in zip(counts["status"], counts["targets"], strict=True)
            ],
            kpis=_kpi_rows(tables.targets, reports_dir),
            actions=_action_rows(tables.actions),
            cases=_case_rows(tables),
            owners_total=len(tables.cases_by_owner),
            top_owners=TOP_OWNERS,
            notes=_notes(tables),
        )
    )
    return write_text_atomic(reports_dir / "html" / PAGE_NAME, page)
