"""Does revenue follow loyalty? The revenue linkage of the study's accounts, for the global summary.

:func:`csatlib.loop.accounts.revenue_linkage` compares each surveyed account's revenue change
(latest year against the year before) across its NPS category (detractor, passive and promoter
accounts: the account's mean likelihood to recommend cut at 7 and 9), with a t interval per
category, the Kruskal-Wallis test across categories and Spearman's rho as a dose-response check.
This module computes it for the report's wave and puts it on the page in words.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from csatlib import roles
from csatlib.loop.accounts import RevenueLinkage
from csatlib.report.display import SafeHTML

__all__ = ["linkage_display", "revenue_linkage_of", "revenue_section"]

_CATEGORY_WORDS = {
    "detractor": "Detractor accounts (mean 0–6.9)",
    "passive": "Passive accounts (7–8.9)",
    "promoter": "Promoter accounts (9–10)",
}


def revenue_linkage_of(
    responses: pd.DataFrame, processed_dir: str | Path, *, wave: str = "", min_n: int = 30
) -> RevenueLinkage | str:
    """The study's revenue linkage judged on ``wave`` (default the latest), or a sentence saying
    why there is none (no account column, no revenue table)."""
    from csatlib.ingest.clean import load_processed
    from csatlib.loop.accounts import account_summary, revenue_linkage
    from csatlib.report.context import _match_study_accounts

    if not roles.names(responses, "account"):
        return "The survey has no account column, so revenue cannot be linked to answers."
    if not (Path(processed_dir) / "revenue.parquet").is_file():
        return "The study has no revenue table, so revenue cannot be linked to answers."
    revenue = load_processed("revenue", Path(processed_dir))
    match = _match_study_accounts(responses)
    summary = account_summary(responses, match, revenue=revenue, wave=wave)
    return revenue_linkage(summary, revenue, match=match, min_n=min_n)


def linkage_display(linkage: RevenueLinkage, *, min_n: int) -> pd.DataFrame:
    """Revenue change per account category under plain headers: Accounts, Mean revenue change
    (95% CI), Median change; a category below the minimum shows its count only."""
    by = linkage.by_category.set_index("category")
    rows = {}
    for category, words in _CATEGORY_WORDS.items():
        if category not in by.index:
            continue
        row = by.loc[category]
        if bool(row["suppressed"]):
            mean = median = f"too few accounts (fewer than {min_n})"
        else:
            mean = (
                f"{row['mean_change_pct']:+.1f}% ({row['ci_low']:+.1f}% to {row['ci_high']:+.1f}%)"
            )
            median = f"{row['median_change_pct']:+.1f}%"
        rows[words] = {
            "Accounts": int(row["n"]),
            "Mean revenue change (95% CI)": mean,
            "Median change": median,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.columns.name = f"Revenue {linkage.base_year} → {linkage.year}"
    return out


def _p(value: float) -> str:
    from csatlib.report.tables import fmt_p

    shown = fmt_p(value)
    return f"< {shown[1:]}" if shown.startswith("<") else f"= {shown}"


def _test_sentence(linkage: RevenueLinkage) -> str:
    tests = linkage.test.set_index("test")
    parts = []
    if "kruskal_wallis" in tests.index and pd.notna(tests.loc["kruskal_wallis", "p_value"]):
        row = tests.loc["kruskal_wallis"]
        verdict = "differs" if row["p_value"] < 0.05 else "does not differ significantly"
        parts.append(
            f"Revenue change {verdict} between the categories (Kruskal–Wallis H = "
            f"{row['statistic']:.2f}, {int(row['df'])} df, p {_p(row['p_value'])}, "
            f"{int(row['n'])} accounts)"
        )
    if "spearman" in tests.index and pd.notna(tests.loc["spearman", "p_value"]):
        row = tests.loc["spearman"]
        parts.append(
            f"the more likely an account's respondents are to recommend, the "
            f"{'more' if row['statistic'] > 0 else 'less'} its revenue grew (Spearman's rho = "
            f"{row['statistic']:+.2f}, p {_p(row['p_value'])})"
            if row["p_value"] < 0.05
            else f"no significant rank correlation of recommendation with revenue change "
            f"(Spearman's rho = {row['statistic']:+.2f}, p = {row['p_value']:.3f})"
        )
    if not parts:
        return "Too few accounts with revenue in both years to test the linkage."
    return "; ".join(parts) + "."


def revenue_section(linkage: RevenueLinkage | str, *, min_n: int) -> SafeHTML:
    """The linkage table and its tests in one sentence; or the sentence saying why there is
    none. Text is escaped."""
    from csatlib.report.display import note

    if isinstance(linkage, str):
        return note(linkage)
    table = linkage_display(linkage, min_n=min_n)
    body = table.to_html(escape=True, border=0) if len(table) else ""
    return SafeHTML(body + note(_test_sentence(linkage)).markup)
