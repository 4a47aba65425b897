"""Response rates and the non-response check as page-ready tables (plain headers, text cells).

:func:`load` reads the study's invitations (``config.INVITATIONS``) when it has them;
:func:`response_display` turns :mod:`csatlib.loop.response` results into tables to show, with
small cells written as text, or says in one line why there is nothing to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from csatlib import config
from csatlib.config import DEFAULT_CONF, DEFAULT_MIN_N
from csatlib.ingest.invitations import load_invitations
from csatlib.loop.response import nonresponse_check, response_rate_table
from csatlib.report.display import SafeHTML

__all__ = ["ResponseDisplay", "load", "response_display", "response_section", "NO_INVITATIONS"]

#: The unit of the non-response check: an account within a country.
UNIT: tuple[str, ...] = ("account", "country")
#: The one line shown when a study has no invitations file.
NO_INVITATIONS = (
    "The study has no invitations file (invitations.csv, the deployment lists of past waves): "
    "response rates and the non-response check cannot be computed."
)
_GROUP_HEADERS = {"country": "Country", "region": "Region", "revenue_band": "Revenue band",
                  "segment": "Segment"}  # fmt: skip


@dataclass(frozen=True)
class ResponseDisplay:
    """Tables to show: ``tables`` (title -> DataFrame of text), ``reason`` ("" when shown)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    reason: str = ""
    wave: str = ""


def load(path: str | Path | None = None) -> pd.DataFrame | None:
    """The study's invitations (``config.INVITATIONS`` unless ``path``), None when absent.

    Raises
    ------
    ExportError
        The file exists but is invalid (see ``load_invitations``).
    """
    p = Path(path) if path is not None else config.INVITATIONS
    return load_invitations(p) if p.is_file() else None


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _rate_cells(table: pd.DataFrame, min_n: int, conf: float) -> pd.DataFrame:
    """Invited, Answered, Response rate (CI) as text; small cells in words, never numbers."""
    level = f"{100 * conf:g}%"
    hidden = table["suppressed"].to_numpy(bool)
    rate = [
        f"{_percent(p)} ({_percent(lo)} to {_percent(hi)})"
        for p, lo, hi in zip(
            table["response_rate"], table["ci_low"], table["ci_high"], strict=True
        )  # fmt: skip
    ]
    small = f"not enough invitations (fewer than {min_n})"
    return pd.DataFrame(
        {
            "Invited": table["invited"].map("{:,}".format),
            "Answered": np.where(hidden, "suppressed", table["responded"].map("{:,}".format)),
            f"Response rate ({level} CI)": np.where(hidden, small, rate),
        }
    )


def _by_table(
    invitations: pd.DataFrame,
    responses: pd.DataFrame,
    revenue: pd.DataFrame | None,
    group: str,
    wave: str | None,
    min_n: int,
    conf: float,
) -> tuple[str, pd.DataFrame]:
    table = response_rate_table(
        invitations, responses, by=(group,), wave=wave, revenue=revenue, min_n=min_n, conf=conf
    )
    shown = pd.concat(
        [table[[group]].rename(columns={group: _GROUP_HEADERS.get(group, group)}),
         _rate_cells(table, min_n, conf)], axis=1)  # fmt: skip
    return str(table["wave"].iat[0]), shown.reset_index(drop=True)


def _check_table(check: pd.DataFrame) -> pd.DataFrame:
    def number(value: float, digits: int) -> str:
        return "" if pd.isna(value) else f"{value:,.{digits}f}"

    return pd.DataFrame(
        {
            "Check": check["check"].str.capitalize(),
            "Groups compared": check["groups"],
            "Statistic": [number(v, 2) for v in check["statistic"]],
            "Degrees of freedom": [number(v, 0) for v in check["df"]],
            "p-value": [
                "" if pd.isna(p) else "< 0.001" if p < 0.001 else f"{p:.3f}"
                for p in check["p_value"]
            ],  # fmt: skip
            "Verdict": check["verdict"],
        }
    )


def response_display(
    invitations: pd.DataFrame | None,
    responses: pd.DataFrame,
    revenue: pd.DataFrame | None = None,
    *,
    wave: str | None = None,
    by: tuple[str, ...] = ("country", "region", "revenue_band"),
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
) -> ResponseDisplay:
    """Response rates by each of ``by`` and the non-response check, ready to show.

    Parameters
    ----------
    invitations : pandas.DataFrame or None
        From :func:`load`; None (the study has no invitations file) gives no table and the
        one-line :data:`NO_INVITATIONS`.
    responses : pandas.DataFrame
        Processed relationship survey (``wave``, ``contact_email``).
    revenue : pandas.DataFrame, optional
        Revenue table; without it the revenue band table is left out and the revenue check
        says it is not testable.
    wave : str, optional
        Default: the latest wave of the invitations.
    by : tuple of str
        One table per grouping: ``"Response rate by country"`` ...
    min_n, conf : int, float
        Small-cell minimum (invitations) and confidence level.

    Returns
    -------
    ResponseDisplay
        ``tables``: title -> table of text with the headers (group), ``Invited``,
        ``Answered``, ``Response rate (95% CI)``; a group with fewer than ``min_n``
        invitations shows ``suppressed`` and ``not enough invitations (fewer than 30)``.
        ``"Non-response check"``: ``Check, Groups compared, Statistic, Degrees of freedom,
        p-value, Verdict`` (:func:`csatlib.loop.response.nonresponse_check`, accounts within
        countries: :data:`UNIT`).
    """
    if invitations is None:
        return ResponseDisplay(reason=NO_INVITATIONS)
    tables: dict[str, pd.DataFrame] = {}
    chosen = ""
    for group in by:
        if group == "revenue_band" and revenue is None:
            continue
        chosen, shown = _by_table(invitations, responses, revenue, group, wave, min_n, conf)
        title = _GROUP_HEADERS.get(group, group.replace("_", " ").capitalize()).lower()
        tables[f"Response rate by {title}"] = shown
    # the unit invited and answering: an account in one country (its country's deployment list
    # and its country's revenue); an account answers somewhere in nearly every wave
    check = nonresponse_check(invitations, responses, revenue, wave=wave, unit=UNIT)
    tables["Non-response check"] = _check_table(check.summary)
    return ResponseDisplay(tables=tables, reason="", wave=chosen or check.wave)


def response_section(shown: ResponseDisplay) -> SafeHTML:
    """The response rates for the page: each table under its title (the group labels the
    rows), or the one line saying why there is none. Text is escaped."""
    from csatlib.report.display import escape, note

    if not shown.tables:
        return note(shown.reason or NO_INVITATIONS)
    parts = [note(f"Invitations of wave {shown.wave}: who was invited and who answered.")]
    for title, table in shown.tables.items():
        parts.append(SafeHTML(f"<h3>{escape(title)}</h3>"))
        parts.append(SafeHTML(table.to_html(escape=True, index=False, na_rep="", border=0)))
    return SafeHTML("".join(p.markup for p in parts))
