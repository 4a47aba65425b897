"""What one country's report can show at its sample size: one block instead of empty sections.

A small country (Namibia with 16 respondents) used to get some fifteen sections that each said
"suppressed". :func:`coverage` decides once, from the same tables the sections show, which
sections have nothing to show because every figure in them is below the small-cell minimum;
:func:`coverage_block` says so in one block at the top of the report (what is left out and why,
with the numbers of answers), and the page renderer leaves those sections out
(:func:`csatlib.report.render.render_html` reads :data:`HIDDEN_METADATA` from the block's
output). A section with some figures shown keeps its per-cell "suppressed" marks.

Which sections a *study* has at all is decided by :mod:`csatlib.report.sections`; this module
only decides, for one country and wave, which of those have nothing above the minimum.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from csatlib.report.context import CountryContext
from csatlib.report.display import escape
from csatlib.report.render import HIDDEN_METADATA
from csatlib.report.sections import SECTIONS

__all__ = ["HIDDEN_METADATA", "Coverage", "coverage", "coverage_block", "block_lines"]


#: How the block names a section within its family's line.
_SHORT = {
    "nps": "the Net Promoter Score",
    "overall": "overall satisfaction",
    "attributes": "satisfaction with each attribute",
    "trends": "trends",
    "attribute_ratings": "attribute ratings by wave",
    "loyalty": "loyalty",
    "expectations": "expectations",
    "pareto": "the Pareto of dissatisfaction",
    "screens": "the four screens",
    "drivers": "the key drivers of loyalty",
    "stated_importance": "stated against derived importance",
    "likes": "what customers like",
    "dislikes": "what customers dislike",
    "transactions": "satisfaction with support tickets",
}


@dataclass(frozen=True)
class Coverage:
    """Sections of one country's report with nothing to show at its sample size.

    Attributes
    ----------
    country_name, wave : str
        Whose report.
    n : int
        Own-brand respondents of the country in the wave.
    min_n : int
        The small-cell minimum.
    hidden : Mapping[str, str]
        Section key -> why it is left out (the numbers of answers, in words), in report order.
    """

    country_name: str
    wave: str
    n: int
    min_n: int
    hidden: Mapping[str, str] = field(default_factory=dict)

    def hides(self, key: str) -> bool:
        """True when the section ``key`` has nothing to show for this country."""
        return key in self.hidden


def _span(values: pd.Series) -> str:
    values = pd.to_numeric(values, errors="coerce").dropna().astype(int)
    if values.empty:
        return "0"
    lo, hi = int(values.min()), int(values.max())
    return f"{lo:,}" if lo == hi else f"{lo:,}–{hi:,}"


def _all_suppressed(table: pd.DataFrame | None) -> bool:
    """True for a non-empty table whose every row is suppressed (False when nothing to judge)."""
    if table is None or table.empty or "suppressed" not in table:
        return False
    return bool(table["suppressed"].fillna(True).astype(bool).all())


# "31 usable rows, fewer than max(min_n=30, 10 x 8 drivers) = 80" or "9 usable rows, fewer
# than the minimum of 30 (min_n)": csatlib.stats.drivers' reasons for too few rows.
_NEED = re.compile(
    r"^(?P<n>\d+) usable rows, fewer than (?:.*= (?P<need>\d+)$|the minimum of (?P<min>\d+))"
)


def _driver_reason(attrs: Mapping[str, Any], n_attributes: int) -> str:
    """The key drivers' suppression reason in words."""
    reason = str(attrs.get("reason") or "")
    found = _NEED.search(reason)
    if found is None:
        return f"the key-driver model could not be estimated ({reason or 'no usable answers'})"
    return (
        f"{int(found['n']):,} complete answers over the pooled waves; the model of "
        f"{n_attributes} attributes needs {int(found['need'] or found['min']):,}"
    )


def _incident_counts(ctx: CountryContext) -> dict[str, int]:
    """The respondents of the country who listed likes, and dislikes, this wave: the ``n``
    the CIT tables suppress on (:func:`csatlib.text.frequencies.top_incidents` takes it from
    these benefit frequencies of the country's incidents). Not the items listed: 46 likes of
    21 respondents are a suppressed table."""
    from csatlib.text.frequencies import cit_frequencies

    coded = ctx.coded_incidents
    mine = coded.incidents[coded.incidents["country"].astype("string") == ctx.country]
    freq = cit_frequencies(mine, coded.codes, by=("country",), level="benefit", min_n=ctx.min_n)
    out = {}
    for key, valence in (("likes", "positive"), ("dislikes", "negative")):
        n = freq.loc[freq["valence"] == valence, "respondents"]
        out[key] = int(n.iloc[0]) if len(n) else 0
    return out


def _score_checks(ctx: CountryContext) -> dict[str, str]:
    """Hidden score sections: the NPS, attribute scores, trends, loyalty, expectations."""
    hidden: dict[str, str] = {}
    n = len(ctx.current[ctx.nps_column].dropna())
    if n < ctx.min_n:
        hidden["nps"] = f"{n:,} respondents answered the recommend question"
    if ctx.overall_column and (
        "nps" in hidden or ctx.current[ctx.overall_column].notna().sum() < ctx.min_n
    ):
        hidden["overall"] = f"{int(ctx.current[ctx.overall_column].notna().sum()):,} answers"
    scores = ctx.attribute_scores
    if ctx.sections.has("attributes") and _all_suppressed(scores):
        hidden["attributes"] = f"{_span(scores['n'])} answers per question"
    trends = ctx.country_trends
    if _all_suppressed(trends):
        hidden["trends"] = f"{_span(trends['n'])} answers per question and wave"
    rated = trends.loc[trends["measure"].isin(ctx.attributes)] if len(trends) else trends
    if ctx.sections.has("attribute_ratings") and _all_suppressed(rated):
        hidden["attribute_ratings"] = f"{_span(rated['n'])} answers per attribute and wave"
    if ctx.sections.has("loyalty") and _all_suppressed(ctx.loyalty_table):
        hidden["loyalty"] = f"{_span(ctx.loyalty_table['n'])} respondents"
    if ctx.sections.has("expectations"):
        from csatlib.stats.scores import expectation_gap

        gaps = expectation_gap(ctx.current, ctx.expectation_items, min_n=ctx.min_n)
        if _all_suppressed(gaps):
            hidden["expectations"] = f"{_span(gaps['n'])} answers per attribute"
    return hidden


def _attribute_checks(ctx: CountryContext) -> dict[str, str]:
    """Hidden attribute sections: key drivers, stated importance, Pareto, screens."""
    hidden: dict[str, str] = {}
    if ctx.sections.has("drivers") and ctx.driver_results.attrs.get("suppressed"):
        hidden["drivers"] = _driver_reason(ctx.driver_results.attrs, len(ctx.attributes))
        if ctx.sections.has("stated_importance"):
            hidden["stated_importance"] = "it compares with the key drivers"
    per_attribute = ctx.current[ctx.attributes].notna().sum() if ctx.attributes else None
    if (
        ctx.sections.has("pareto")
        and per_attribute is not None
        and int(per_attribute.max()) < ctx.min_n
    ):
        hidden["pareto"] = f"{_span(per_attribute)} answers per attribute"
    if ctx.sections.has("screens") and _all_suppressed(ctx.screen_table):
        hidden["screens"] = f"{_span(ctx.screen_table['n'])} answers per attribute"
    return hidden


def _other_checks(ctx: CountryContext) -> dict[str, str]:
    """Hidden likes, dislikes and transaction sections."""
    hidden: dict[str, str] = {}
    if ctx.sections.has("likes") or ctx.sections.has("dislikes"):
        counts = _incident_counts(ctx)
        for key, what in (("likes", "likes"), ("dislikes", "dislikes")):
            if ctx.sections.has(key) and counts[key] < ctx.min_n:
                hidden[key] = f"{counts[key]:,} respondents listed {what}"
    if ctx.sections.has("transactions"):
        monthly = ctx.transactions_by_month
        by_product = ctx.transactions_by_product
        # the section stays while either of its tables (by month, by product line) shows a cell
        if (monthly.empty or _all_suppressed(monthly)) and (
            by_product is None or by_product.empty or _all_suppressed(by_product)
        ):
            n = monthly["n"] if len(monthly) else pd.Series([0])
            reason = f"{_span(n)} rated tickets a month"
            if by_product is not None and len(by_product):
                reason += f" and {_span(by_product['n'])} per product line"
            hidden["transactions"] = reason
    return hidden


def coverage(ctx: CountryContext) -> Coverage:
    """Which of the study's sections have nothing to show for this country and wave.

    A section is left out when every figure it would show is below ``ctx.min_n``: the NPS
    (respondents of the recommend question), each attribute's score, trend cell, loyalty index,
    expectation gap, the key-driver model (its own minimum, ``max(min_n, 10 x attributes)``
    complete answers), the Pareto (each attribute's answers), the screens (every verdict "not
    enough data"), the likes or dislikes (coded items) and the transaction survey (every month
    and every product line).
    The tests are the same suppression rules the sections apply, read from the same tables of
    ``ctx``, so the block and the sections cannot disagree.

    Parameters
    ----------
    ctx : CountryContext

    Returns
    -------
    Coverage
    """
    found = {**_score_checks(ctx), **_attribute_checks(ctx), **_other_checks(ctx)}
    order = [s.key for s in SECTIONS]
    hidden = {k: found[k] for k in sorted(found, key=order.index)}
    n = int(ctx.current[ctx.nps_column].notna().sum())
    return Coverage(ctx.country_name, ctx.wave, n, ctx.min_n, hidden)


class _Block:
    """HTML of the coverage block with the hidden sections in its output metadata."""

    def __init__(self, html: str, hidden: list[str]) -> None:
        self.html = html
        self.hidden = hidden

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        text = re.sub(r"<[^>]+>", " ", self.html)
        return {"text/html": self.html, "text/plain": text}, {HIDDEN_METADATA: self.hidden}

    def __str__(self) -> str:
        return self.html


#: How the block groups the left-out sections: one line per family.
_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Scores", ("nps", "overall", "attributes", "trends", "attribute_ratings", "loyalty",
                "expectations", "pareto", "screens")),
    ("Key drivers", ("drivers", "stated_importance")),
    ("Customers' own words", ("likes", "dislikes")),
    ("Transaction survey", ("transactions",)),
)  # fmt: skip


def _family_reason(cov: Coverage, family: str, keys: list[str]) -> str:
    if family == "Scores":
        return (
            f"fewer than {cov.min_n:,} answers to each question ({cov.n:,} respondents in "
            f"{cov.wave})"
        )
    if family == "Key drivers":
        return cov.hidden.get("drivers", "")
    if family == "Customers' own words":
        said = " and ".join(cov.hidden[k] for k in keys)
        return f"{said}, fewer than {cov.min_n:,} each"
    return " ".join(cov.hidden[k] for k in keys)


def block_lines(cov: Coverage) -> list[str]:
    """The block's lines: per family of left-out sections, their titles and why (plain text)."""
    lines = []
    for family, members in _FAMILIES:
        keys = [k for k in members if k in cov.hidden]
        if not keys:
            continue
        titles = ", ".join(_SHORT.get(k, k) for k in keys)
        lines.append(f"{family} ({titles}): {_family_reason(cov, family, keys)}.")
    return lines


def coverage_block(cov: Coverage) -> _Block | None:
    """One block that says what the report cannot show and why; None when it shows everything.

    The left-out sections are grouped in families (scores, key drivers, customers' own words,
    the transaction survey), one line each. The block's output metadata carries the keys of
    those sections (:data:`HIDDEN_METADATA`), which the page renderer leaves out.
    """
    if not cov.hidden:
        return None
    items = "".join(f"<li>{escape(line)}</li>" for line in block_lines(cov))
    html = (
        '<div class="csat-coverage"><p><strong>Too few answers for part of this report.</strong> '
        f"A figure is shown only when it rests on at least {cov.min_n:,} answers, so that no "
        "respondent can be singled out and no estimate is mostly noise. This report leaves "
        f"out:</p><ul>{items}</ul><p>The sections below show what the answers allow.</p></div>"
    )
    return _Block(html, list(cov.hidden))
