"""A report's follow-up cases: open, overdue and closed within the service level, for its unit.

The case store (:mod:`csatlib.loop.cases`, ``reports/cases.sqlite``) is synced by the build before
the reports run, so a report counts this build's cases. A country's report counts the cases of
its country; a business unit's, the at-risk and escalation cases of its accounts (the only cases
that carry a business unit); a report by any other dimension has none of its own.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from csatlib.loop.cases import CASES_FILE, case_summary, read_cases
from csatlib.report.display import SafeHTML

__all__ = [
    "TYPE_WORDS",
    "case_block",
    "case_display",
    "case_note",
    "store_digest",
    "sync_for_build",
    "unit_cases",
    "unit_digest",
]


@lru_cache(maxsize=4)
def _read(path: str, stamp: tuple[int, int], today: date) -> pd.DataFrame:
    del stamp  # part of the cache key: the file's modification time and size
    return read_cases(path, today=today)


def _cases(path: Path, today: date | None = None) -> pd.DataFrame:
    """:func:`csatlib.loop.cases.read_cases`, read once per state of the file: a build asks for
    every report's cases (its fingerprint) and they come from one read. Treat as read-only."""
    info = path.stat()
    return _read(str(path), (info.st_mtime_ns, info.st_size), today or date.today())


#: Case types in words, in the order a report lists them.
TYPE_WORDS = {
    "at_risk": "Accounts at risk (one case per account and country)",
    "recovery": "Recovery calls",
    "callback": "Complaint callbacks",
    "escalation": "Escalations",
}


def unit_cases(
    cases: pd.DataFrame, dimension: str, value: str, *, label: str = "", within: str = ""
) -> pd.DataFrame | None:
    """The cases of one report's unit; None when cases are not tracked by its dimension.

    Parameters
    ----------
    cases : pandas.DataFrame
        :func:`csatlib.loop.cases.read_cases`.
    dimension, value
        The report's unit: ``("country", "DE")`` or ``("business_unit", "compute")``.
    label : str
        The unit's name as the cases carry it (a business unit's label, "Compute").
    within : str
        A cross-cut's outer unit (``"country=DE"``): its cases are those of both.
    """
    if dimension == "country":
        keep = cases["country"].astype(str) == value
    elif dimension == "business_unit":
        units = cases["business_units"].astype(str).str.split(";")
        wanted = {name for name in (label.strip(), value.strip()) if name}  # "": no unit
        keep = units.map(lambda names: any(n.strip() in wanted for n in names))
    else:
        return None
    if within:
        outer, _, outer_value = within.partition("=")
        if outer != "country":
            return None
        keep &= cases["country"].astype(str) == outer_value
    return cases.loc[keep.to_numpy(dtype=bool)]


def unit_digest(reports_dir: str | Path, dimension: str, value: str, *, label: str = "") -> str:
    """A short digest of the unit's cases as of today (for the report's fingerprint: a report
    is rebuilt when its cases change, or an open case becomes overdue)."""
    path = Path(reports_dir) / CASES_FILE
    if not path.is_file():
        return ""
    mine = unit_cases(_cases(path), dimension, value, label=label)
    if mine is None or mine.empty:
        return ""
    table = case_summary(mine).to_csv(index=False)
    return hashlib.sha256(table.encode("utf-8")).hexdigest()[:16]


def case_display(
    reports_dir: str | Path,
    dimension: str,
    value: str,
    *,
    label: str = "",
    within: str = "",
    today: date | None = None,
) -> pd.DataFrame:
    """The unit's cases per type (the index, "Accounts at risk" ... "All cases"), under plain
    headers: Open, Overdue, Closed, Closed within the service level (count and share). Empty
    (no row) when the unit has no case or cases are
    not tracked by its dimension (:func:`case_note` says which)."""
    path = Path(reports_dir) / CASES_FILE
    columns = ["Open", "Overdue", "Closed", "Closed within the service level"]
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    mine = unit_cases(_cases(path, today), dimension, value, label=label, within=within)
    if mine is None or mine.empty:
        return pd.DataFrame(columns=columns)
    table = case_summary(mine)
    order = [*TYPE_WORDS, "All"]
    table = table.set_index("type").reindex([t for t in order if t in set(table["type"])])
    within_sla = [
        "none closed yet" if closed == 0 else f"{done:,} of {closed:,} ({100 * done / closed:.0f}%)"
        for done, closed in zip(table["closed_within_sla"], table["closed"], strict=True)
    ]
    out = pd.DataFrame(
        {
            "Open": table["open"].to_numpy(),
            "Overdue": table["overdue"].to_numpy(),
            "Closed": table["closed"].to_numpy(),
            "Closed within the service level": within_sla,
        },
        index=pd.Index([TYPE_WORDS.get(t, "All cases") for t in table.index]),
    )
    out.columns.name = "Case type"
    return out


def case_note(reports_dir: str | Path, dimension: str, display: pd.DataFrame) -> str:
    """One sentence under the case table: where the cases come from, or why there is none."""
    if not (Path(reports_dir) / CASES_FILE).is_file():
        return "No case store yet: `make reports` opens the follow-up cases."
    if dimension not in ("country", "business_unit"):
        return (
            "Follow-up cases are tracked by country and business unit; see those reports and "
            "the steering-committee page."
        )
    if display.empty:
        return "No follow-up case for this unit."
    return (
        "Cases are opened by each build from the lists (reports/lists/cases: one file per "
        "owner) and closed by their owners (`csat cases import`). Overdue: open after its due "
        "date, set by the service level of its type."
    )


def store_digest(reports_dir: str | Path, *, today: date | None = None) -> str:
    """A digest of every case's standing on ``today`` (for the lists' fingerprint)."""
    path = Path(reports_dir) / CASES_FILE
    if not path.is_file():
        return ""
    cases = _cases(path, today)
    columns = ["case_id", "status", "owner", "due", "closed", "outcome", "days_overdue"]
    text = cases[columns].to_csv(index=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sync_for_build(
    processed_dir: Path, reports_dir: Path, *, wave: str = "", aliases_path: Path | None = None
) -> str:
    """Sync the study's cases into ``<reports_dir>/cases.sqlite`` when its inputs changed since
    the last sync (the processed tables, the aliases, the organisation mapping, the case rules,
    the wave); return a note for the build ("12 follow-up cases opened ...") or ""."""
    from csatlib import config
    from csatlib.loop import cases as store
    from csatlib.report import stamps

    path = Path(reports_dir) / CASES_FILE
    inputs = [p for p in (aliases_path, config.CASE_RULES, config.ORGANISATION) if p is not None]
    mark = stamps.input_fingerprint(inputs, processed_dir, {"kind": "cases", "wave": wave})
    if path.is_file() and store.last_sync(path) == mark:
        return ""
    # imported only when there is something to sync (the account statistics load scipy)
    from csatlib.loop.rules import load_case_rules
    from csatlib.loop.tracking import sync_study_cases

    rules = load_case_rules()  # a malformed rules file stops the build here, with its line
    result = sync_study_cases(
        processed_dir, path, aliases_path=aliases_path, wave=wave, rules=rules, mark=mark
    )
    return (
        f"Follow-up cases: {result.opened:,} opened by this build, {result.seen:,} seen again; "
        f"{result.total:,} in the store."
    )


def case_block(table: pd.DataFrame, sentence: str) -> SafeHTML:
    """The case table followed by its sentence (:func:`case_note`); the sentence alone when the
    unit has no case (never a table with headers only). Text is escaped."""
    from csatlib.report.display import note

    body = table.to_html(escape=True, border=0) if len(table) else ""
    return SafeHTML(body + note(sentence).markup)
