"""Tests of csatlib.report.steering: the steering committee's tables, its summary sentence and
the page (escaping, empty inputs, the index's link)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from markupsafe import escape

from csatlib import config
from csatlib.ingest.actions import empty_actions, load_actions
from csatlib.ingest.targets import empty_targets
from csatlib.loop.cases import (
    CANDIDATE_COLUMNS,
    CASES_FILE,
    import_outcomes,
    read_cases,
    sync_cases,
)
from csatlib.loop.rules import DEFAULT_SERVICE_LEVELS, CaseRules
from csatlib.report.history import HISTORY_FILE, metric_rows, record_build
from csatlib.report.index import write_index
from csatlib.report.steering import (
    KPI_COLUMNS,
    PAGE_NAME,
    steering_summary,
    steering_tables,
    write_steering_page,
)
from csatlib.report.targets import RULE

TODAY = dt.date(2026, 12, 2)
EVIL = "<script>alert(1)</script>"
RULES = CaseRules(service_levels=DEFAULT_SERVICE_LEVELS)


def _nps(score: float, low: float, high: float, n: int = 400) -> dict[str, object]:
    return {"suppressed": False, "n": n, "score": score, "se": 3.7, "ci_low": low, "ci_high": high}


def _target(target: float, due: str, status: str) -> dict[str, object]:
    return {"target": target, "due_wave": due, "status": status}


# The shape of reports/metrics/<name>.json (csatlib.report.metrics.report_metrics); the statuses
# are what target_status gives for these intervals, written by each report.
METRICS = {
    "DE": {
        "country": "DE", "wave": "2026-Q3", "previous_wave": "2026-Q2", "n": 442, "min_n": 30,
        "nps": _nps(-2.2624, -9.6076, 5.1133, 442),
        "loyalty": {"suppressed": False, "n": 442, "index": 66.3776, "ci_low": 64.6976,
                    "ci_high": 68.0576, "alpha": 0.8165},
        "csat": {"delivery": {"suppressed": False, "n": 420, "mean": 6.8643, "ci_low": 6.7114,
                              "ci_high": 7.0172, "top_box": 0.1667}},
        "targets": {"nps": _target(-5.0, "2026-Q4", "on track"),
                    "loyalty_index": _target(70.0, "2026-Q4", "at risk")},
    },
    "FR": {
        "country": "FR", "wave": "2026-Q3", "n": 413, "min_n": 30,
        "nps": _nps(-19.3705, -26.4397, -12.0219, 413),
        "targets": {"nps": _target(25.0, "2026-Q3", "missed")},
    },
    "business_unit--compute": {
        "country": "compute", "wave": "2026-Q3", "n": 12, "min_n": 30,
        "nps": {"suppressed": True, "n": 12},
        "targets": {"nps": _target(20.0, "2026-Q4", "not enough data")},
    },
    "segment--enterprise": {
        "country": "Enterprise", "wave": "2026-Q3", "n": 380, "min_n": 30,
        "nps": _nps(30.0, 22.0, 38.0, 380),
        "csat": {"delivery": {"suppressed": False, "n": 380, "mean": 7.31, "ci_low": 7.12,
                              "ci_high": 7.5, "top_box": 0.25}},
        "targets": {"csat:delivery": _target(7.0, "2026-Q4", "met")},
    },
    "GB": {"country": "GB", "wave": "2026-Q3", "n": 472, "nps": _nps(5.3, -2.0, 12.5)},
    "global": {"scope": "global", "wave": "2026-Q3", "nps_pooled": _nps(12.0, 10.0, 14.0)},
}  # fmt: skip

TARGETS = pd.DataFrame(
    {
        "unit": ["DE", "DE", "FR", "business_unit--compute", "segment--enterprise"],
        "metric": ["nps", "loyalty_index", "nps", "nps", "csat:delivery"],
        "baseline_wave": ["2025-Q4"] * 5,
        "target": [-5.0, 70.0, 25.0, 20.0, 7.0],
        "due_wave": ["2026-Q4", "2026-Q4", "2026-Q3", "2026-Q4", "2026-Q4"],
        "owner": ["Head of Sales Germany", "", "Head of Sales France", EVIL, ""],
        "note": [""] * 5,
    }
)

PLANS = (
    "unit,attribute,root_cause,action,owner,start_wave,due,status\n"
    "DE,on_site_service,no spare parts,van stock lists,Service DE,2026-Q2,2026-06-30,done\n"
    "FR,delivery,warehouse move,second dispatch point,Logistics FR,2026-Q2,2027-01-31,"
    "in progress\n"
    f"DE,delivery,late carrier,second carrier,{EVIL},2026-Q1,2026-09-30,open\n"
    "FR,invoicing_accuracy,price overrides,approval step,Finance FR,2025-Q4,2026-11-30,"
    "In progress\n"
    "FR,product_quality,defects,supplier audit,Quality FR,2026-Q1,2026-03-31,cancelled\n"
)


def _candidates() -> pd.DataFrame:
    """Eight cases: 3 recovery calls (Anna), 2 callbacks and 2 accounts at risk (EVIL), one
    escalation (Carl), opened on dates that put them before or past their service level."""
    rows = [
        ("recovery", "", "T-1", "Anna", "2026-11-20"),  # due 11-22 (2 calendar days)
        ("recovery", "", "T-2", "Anna", "2026-11-20"),
        ("recovery", "", "T-3", "Anna", "2026-11-20"),
        ("callback", "", "R-1", EVIL, "2026-11-30"),  # due 12-05: not yet overdue
        ("callback", "", "R-2", EVIL, "2026-11-30"),
        ("at_risk", "", "A-1|2026-Q3", EVIL, "2026-10-01"),  # due 10-15 (14 days)
        ("at_risk", "", "A-2|2026-Q3", EVIL, "2026-10-01"),
        ("escalation", "", "E-1", "Carl", "2026-11-27"),  # a Friday: due Monday 11-30
    ]
    frame = pd.DataFrame(rows, columns=["type", "rule", "source_key", "owner", "opened"])
    return frame.assign(
        tier=pd.NA,
        country="DE",
        account="Customer account",
        business_units="",
        wave="2026-Q3",
        why="low score",
        owner_email="",
    )[list(CANDIDATE_COLUMNS)]


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """A reports folder: six metrics files, a stamp, one published report, a history store
    holding DE's 2025-Q4 NPS, and a case store with two recovery calls closed."""
    root = tmp_path / "reports"
    for name, metrics in METRICS.items():
        path = root / "metrics" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(metrics), encoding="utf-8")
    (root / ".build").mkdir()
    stamp = {"fingerprint": "x", "dimension": "segment", "value": "Enterprise"}
    (root / ".build" / "segment--enterprise.json").write_text(json.dumps(stamp))
    (root / "html").mkdir()
    (root / "html" / "DE.html").write_text("<html></html>")
    old = metric_rows({"wave": "2025-Q4", "nps": _nps(4.0, -3.0, 11.0)}, unit="DE")
    record_build(root, old, build_id="baseline")
    store = root / CASES_FILE
    sync_cases(store, _candidates(), RULES, today=dt.date(2026, 11, 20))
    recovery = read_cases(store, today=TODAY).query("type == 'recovery'")["case_id"].tolist()
    returned = tmp_path / "returned.csv"
    returned.write_text(
        "case_id,status,outcome,closed\n"
        f"{recovery[0]},closed,called back,2026-11-21\n"  # within the service level
        f"{recovery[1]},closed,called back,2026-11-25\n",  # three days late
        encoding="utf-8",
    )
    import_outcomes(store, returned, today=TODAY)
    return root


@pytest.fixture
def actions(tmp_path: Path) -> pd.DataFrame:
    path = tmp_path / "actions.csv"
    path.write_text(PLANS, encoding="utf-8")
    return load_actions(path)


def _tables(reports: Path, actions: pd.DataFrame):  # noqa: ANN202
    return steering_tables(reports, actions=actions, targets=TARGETS, rules=RULES, today=TODAY)


def test_targets_missed_and_at_risk_first_with_figures_from_the_metrics(
    reports: Path, actions: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the organisation mapping's label of a business unit (here without a processed folder)
    names = {"compute": "Compute", "enterprise": "Enterprise"}
    monkeypatch.setattr("csatlib.report.context.unit_label", lambda d, v, p=None: names.get(v, v))
    kpis = _tables(reports, actions).targets
    assert list(kpis.columns) == list(KPI_COLUMNS)
    assert kpis[["unit_name", "label", "status"]].to_numpy().tolist() == [
        ["France (FR)", "NPS", "missed"],
        ["Germany (DE)", "Loyalty index (0–100)", "at risk"],
        ["Compute", "NPS", "not enough data"],  # no stamp: the mapping's label of the slug
        ["Germany (DE)", "NPS", "on track"],
        ["Enterprise", "Satisfaction: Delivery", "met"],  # the stamp's value
    ]
    fr = kpis.iloc[0]
    assert (fr["estimate"], fr["ci_low"], fr["ci_high"]) == (-19.3705, -26.4397, -12.0219)
    assert fr["gap"] == pytest.approx(-19.3705 - 25.0)  # current minus target
    de = kpis.set_index(["unit", "metric"]).loc[("DE", "nps")]
    assert de["baseline"] == 4.0  # recorded in the history store for 2025-Q4
    assert de["owner"] == "Head of Sales Germany"
    assert math.isnan(kpis.set_index("unit").loc["FR", "baseline"])  # never recorded
    compute = kpis.set_index("unit").loc["business_unit--compute"]
    assert math.isnan(compute["estimate"]) and math.isnan(compute["gap"])  # suppressed
    assert "GB" not in set(kpis["unit"]) and "global" not in set(kpis["unit"])  # no targets


def test_status_counts_list_every_status(reports: Path, actions: pd.DataFrame) -> None:
    counts = _tables(reports, actions).target_counts
    assert counts.set_index("status")["targets"].to_dict() == {
        "missed": 1,
        "at risk": 1,
        "not enough data": 1,
        "on track": 1,
        "met": 1,
    }


def test_open_actions_overdue_first(reports: Path, actions: pd.DataFrame) -> None:
    table = _tables(reports, actions).actions
    # done and cancelled plans are not open; "In progress" is read as "in progress"
    assert table[["unit", "label", "overdue", "days_overdue"]].to_numpy().tolist() == [
        ["DE", "Delivery", True, 63],  # due 2026-09-30, 63 days before 2026-12-02
        ["FR", "Invoicing accuracy", True, 2],
        ["FR", "Delivery", False, 0],
    ]
    assert table["unit_name"].tolist() == ["Germany (DE)", "France (FR)", "France (FR)"]
    assert table["due"].iloc[0] == dt.date(2026, 9, 30)


def test_cases_by_type_owner_and_service_level(reports: Path, actions: pd.DataFrame) -> None:
    tables = _tables(reports, actions)
    by_type = tables.cases_by_type.set_index("type")
    assert by_type.index.tolist() == ["at_risk", "recovery", "callback", "escalation", "All"]
    assert by_type.loc["recovery", ["open", "overdue", "closed", "closed_within_sla"]].tolist() == [
        1, 1, 2, 1,
    ]  # fmt: skip
    assert by_type.loc["recovery", "sla_rate"] == 0.5
    assert by_type.loc["All", ["cases", "open", "overdue", "closed"]].tolist() == [8, 6, 4, 2]
    assert by_type.loc["callback", "overdue"] == 0  # due 2026-12-05
    assert by_type.loc["escalation", "overdue"] == 1  # 1 business day from a Friday: Monday
    assert tables.cases_by_owner.to_numpy().tolist() == [
        [EVIL, 4, 2],
        ["Anna", 1, 1],  # ties on overdue and open: by name
        ["Carl", 1, 1],
    ]
    sla = tables.sla.set_index("type")
    assert sla.loc["recovery", ["closed_within_sla", "closed_late"]].tolist() == [1, 1]
    assert sla.loc["recovery", "service_level"] == "2 calendar days"
    assert sla.loc["escalation", "service_level"] == "1 business day"
    # days overdue on 2026-12-02: at risk 48 and 48 (due 10-15), recovery 10, escalation 2
    assert sla.loc["All", ["median_days_overdue", "max_days_overdue"]].tolist() == [29.0, 48.0]
    assert math.isnan(sla.loc["callback", "sla_rate"])  # nothing closed


def test_summary_sentence(reports: Path, actions: pd.DataFrame) -> None:
    assert steering_summary(_tables(reports, actions)) == (
        "1 of 5 targets met, 1 missed (FR NPS), 1 at risk (DE Loyalty index (0–100)), "
        "1 on track, 1 without enough data; 2 of 3 open actions overdue; 6 cases open, "
        "4 overdue; 50% of closed cases closed within the service level."
    )


def test_page_escapes_owners_and_states_the_rule_once(reports: Path, actions: pd.DataFrame) -> None:
    path = write_steering_page(reports, actions=actions, targets=TARGETS, rules=RULES, today=TODAY)
    assert path == reports / "html" / PAGE_NAME
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3  # plan, owner table, target
    assert page.count(str(escape(RULE))) == 1  # autoescape writes ' as &#39;
    assert "Quarterly review: targets, actions and follow-up" in page
    assert "As of 2026-12-02" in page
    assert steering_summary(_tables(reports, actions)) in page
    assert page.count("<table>") == 4 + 1  # targets, actions, cases by type and owner, SLA
    assert '<a href="DE.html">Germany (DE)</a>' in page  # published: linked
    assert 'href="FR.html"' not in page  # not published
    assert '<strong>-19.4</strong> <span class="ci">(-26.4 to -12.0)</span>' in page
    assert "not enough respondents (2026-Q3)" in page  # suppressed: no number
    assert "63 days" in page


def test_page_without_any_input_says_why_each_part_is_empty(tmp_path: Path) -> None:
    path = write_steering_page(
        tmp_path, actions=empty_actions(), targets=empty_targets(), today=TODAY
    )
    page = path.read_text(encoding="utf-8")
    assert "No targets file: " in page and config.TARGETS.name in page
    assert "No action plans" in page
    assert "No case store yet" in page
    assert "No targets; no open action; no follow-up case yet." in page
    assert "<table>" not in page and str(escape(RULE)) not in page
    # reading creates no store
    assert not (tmp_path / CASES_FILE).exists() and not (tmp_path / HISTORY_FILE).exists()


def test_index_links_to_the_page(reports: Path, actions: pd.DataFrame) -> None:
    index = write_index(reports, [], seconds=1.0).read_text(encoding="utf-8")
    assert '<a href="html/scorecard.html">Quarterly review (targets, actions, cases)</a>' in index
    written = write_steering_page(reports, actions=actions, targets=TARGETS, today=TODAY)
    assert written == reports / "html/scorecard.html"  # where the index's link points


@pytest.mark.browser
def test_page_opens_offline_and_shows_the_owner_as_text(
    reports: Path, actions: pd.DataFrame, tmp_path: Path
) -> None:
    from support.browser import BrowserUnavailable, check_page, ensure_chromium

    try:
        chromium = ensure_chromium(install=False)
    except BrowserUnavailable as exc:
        pytest.skip(f"no headless Chromium: {exc}")
    path = write_steering_page(reports, actions=actions, targets=TARGETS, rules=RULES, today=TODAY)
    check = check_page(path, chromium=chromium, timeout=30)
    assert check.ok, check.describe()
    assert check.title == "Quarterly review: targets, actions and follow-up"
    assert check.tables == 5 and check.empty_tables == 0
    assert EVIL in check.text  # shown as text, never run (check.ok: no script error)


def test_business_units_are_named_from_the_builds_own_processed_folder(
    reports: Path, actions: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a build with --processed-dir names units from that study's mapping, not the project's
    seen = []

    def label(dimension: str, value: str, processed_dir: Path | None = None) -> str:
        seen.append(processed_dir)
        return {"compute": "Compute"}.get(value, value) if processed_dir else value

    monkeypatch.setattr("csatlib.report.context.unit_label", label)
    folder = tmp_path / "study" / "processed"
    tables = steering_tables(
        reports,
        actions=actions,
        targets=TARGETS,
        rules=RULES,
        today=TODAY,
        processed_dir=folder,
    )
    assert "Compute" in set(tables.targets["unit_name"])
    assert seen and all(p == folder for p in seen)


def test_targets_of_units_no_report_has_are_named_on_the_page(
    reports: Path, actions: pd.DataFrame
) -> None:
    """A typo ("de" for "DE") or a unit without respondents leaves a target on no page: the
    page names it instead of counting fewer targets without a word."""
    extra = pd.DataFrame(
        {
            "unit": ["de", "ZZ"],
            "metric": ["nps", "nps"],
            "baseline_wave": ["2025-Q4"] * 2,
            "target": [10.0, 10.0],
            "due_wave": ["2026-Q4"] * 2,
            "owner": ["", ""],
            "note": ["", ""],
        }
    )
    targets = pd.concat([TARGETS, extra], ignore_index=True)
    tables = steering_tables(reports, actions=actions, targets=targets, rules=RULES, today=TODAY)
    assert tables.unreported == ("de", "ZZ")
    assert len(tables.targets) == len(TARGETS)  # the others as before
    page = write_steering_page(
        reports, actions=actions, targets=targets, rules=RULES, today=TODAY
    ).read_text(encoding="utf-8")
    assert (
        "for units no report of this build has, and shown nowhere: &#39;de&#39;, &#39;ZZ&#39;"
        in page
    )
    assert _tables(reports, actions).unreported == ()


def test_a_plan_the_units_report_leaves_out_says_so_here_too(
    reports: Path, actions: pd.DataFrame, tmp_path: Path
) -> None:
    """The DE report flags a plan on an attribute the study lacks and does not show it; the
    page lists it as open, and now says the same."""
    processed = tmp_path / "processed"
    processed.mkdir()
    frame = pd.DataFrame({"response_id": ["R1"], "delivery": [7]})
    frame.attrs = {"roles": {"response_id": "id", "delivery": "attribute"}}
    import pyarrow.parquet as pq

    from csatlib.ingest.dataset import arrow_table

    pq.write_table(arrow_table(frame), processed / "responses.parquet")  # as csat data does
    table = steering_tables(
        reports, actions=actions, targets=TARGETS, rules=RULES, today=TODAY, processed_dir=processed
    ).actions.set_index(["unit", "attribute"])
    assert table.loc[("DE", "delivery"), "label"] == "Delivery"
    invoicing = table.loc[("FR", "invoicing_accuracy"), "label"]
    assert invoicing.endswith(
        "(not an attribute of the study: the unit's report does not show this plan)"
    )
