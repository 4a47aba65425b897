"""Tests of csatlib.loop.response: response rates, the non-response check and timeliness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csatlib.errors import DataError
from csatlib.ingest.codebook import parse_codebook
from csatlib.loop.response import (
    SUMMARY_COLUMNS,
    chi_square_independence,
    mann_whitney,
    nonresponse_check,
    response_rate_table,
    revenue_bands,
    timeliness,
)


def _invitations() -> pd.DataFrame:
    """Wave 2026-Q2: accounts A (3 contacts, 2 answer), B (2, 1), C (2, 0), D (1, 0)."""
    rows = [
        ("2026-Q1", "C01", "a1@x.com", "A", "DE", "EMEA"),
        ("2026-Q2", "C01", "a1@x.com", "A", "DE", "EMEA"),
        ("2026-Q2", "C02", "a2@x.com", "A", "DE", "EMEA"),
        ("2026-Q2", "C03", "a3@x.com", "A", "FR", "EMEA"),
        ("2026-Q2", "C04", "b1@x.com", "B", "US", "AMER"),
        ("2026-Q2", "C05", "b2@x.com", "B", "US", "AMER"),
        ("2026-Q2", "C06", "c1@x.com", "C", "JP", "APJ"),
        ("2026-Q2", "C07", "c2@x.com", "C", "JP", "APJ"),
        ("2026-Q2", "C08", "d1@x.com", "D", "US", "AMER"),
    ]
    return pd.DataFrame(rows, columns=["wave", "contact_id", "email", "account", "country",
                                       "region"])  # fmt: skip


def _responses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "wave": ["2026-Q2", "2026-Q2", "2026-Q2", "2026-Q1", "2026-Q2"],
            # case and blanks differ; c1 answered in the other wave only
            "contact_email": [" A1@X.com", "a3@x.com", "b2@x.com", "c1@x.com", ""],
        }
    )


def _revenue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account": ["A", "A", "B", "C", "D", "A"],
            "country": ["DE", "FR", "US", "JP", "US", "DE"],
            "year": [2026, 2026, 2026, 2026, 2026, 2025],
            "revenue_usd": [300.0, 100.0, 250.0, 50.0, 20.0, 9999.0],
        }
    )


def test_rates_of_the_latest_wave_by_country() -> None:
    out = response_rate_table(_invitations(), _responses(), min_n=1)
    assert out["wave"].unique().tolist() == ["2026-Q2"]
    got = out.set_index("country")[["invited", "responded"]]
    # hand count: DE 2 invited (a1 answered), FR 1 (a3), JP 2 (none: c1 answered in 2026-Q1)
    assert got.loc["DE"].tolist() == [2, 1]
    assert got.loc["JP"].tolist() == [2, 0]
    assert got.loc["All"].tolist() == [8, 3]
    # Wilson 95 % for 3 of 8, statsmodels proportion_confint(3, 8, method="wilson")
    lo, hi = (0.1368443, 0.6942576)
    total = out.set_index("country").loc["All"]
    assert total["ci_low"] == pytest.approx(lo, abs=1e-6)
    assert total["ci_high"] == pytest.approx(hi, abs=1e-6)


def test_rates_of_an_earlier_wave_and_suppression() -> None:
    out = response_rate_table(_invitations(), _responses(), wave="2026-Q1", min_n=2)
    total = out.set_index("country").loc["All"]
    assert (total["invited"], total["responded"]) == (1, 0)  # c1 was not invited in Q1
    assert bool(total["suppressed"]) and np.isnan(total["response_rate"])
    with pytest.raises(DataError, match="wave '2030-Q1' has no invitations"):
        response_rate_table(_invitations(), _responses(), wave="2030-Q1")


def test_revenue_bands_are_thirds_of_the_invited_accounts() -> None:
    inv = _invitations()[lambda f: f["wave"] == "2026-Q2"]
    bands = revenue_bands(inv, _revenue())
    # 2026 revenue: A 400, B 250, C 50, D 20 -> ranks 4, 3, 2, 1 of 4 -> ceil(3r/4) = 3, 3, 2, 1
    by_account = dict(zip(inv["account"], bands, strict=True))
    assert by_account == {"A": "high", "B": "high", "C": "middle", "D": "low"}
    out = response_rate_table(inv, _responses(), by="revenue_band", revenue=_revenue(), min_n=1)
    assert out["revenue_band"].tolist() == ["low", "middle", "high", "All"]
    assert out["responded"].tolist() == [0, 0, 3, 3]
    with pytest.raises(DataError, match="needs the revenue table"):
        response_rate_table(inv, _responses(), by="revenue_band")


def test_account_without_revenue_gets_its_own_band() -> None:
    inv = _invitations().assign(account=lambda f: f["account"].replace("D", "Zeta"))
    assert revenue_bands(inv, _revenue()).iloc[-1] == "no revenue"


# R 4.2.2: wilcox.test(x, y, exact = FALSE, correct = TRUE) -> W = 36, p = 0.02251661753;
# scipy.stats.mannwhitneyu(x, y, method="asymptotic") gives the same
MW_X = [5.1, 3.2, 8.8, 4.4, 9.0, 7.7, 6.1, 5.1]
MW_Y = [1.2, 2.5, 5.1, 3.3, 0.9]


def test_mann_whitney_matches_r_and_scipy() -> None:
    u, p = mann_whitney(MW_X, MW_Y)
    assert u == 36.0
    assert p == pytest.approx(0.02251661753, rel=1e-8)
    reference = stats.mannwhitneyu(MW_X, MW_Y, method="asymptotic", use_continuity=True)
    assert p == pytest.approx(reference.pvalue, rel=1e-10)
    with pytest.raises(DataError, match="each group needs a value"):
        mann_whitney([], [1.0])


def test_chi_square_matches_r_and_scipy() -> None:
    # R 4.2.2: chisq.test(matrix(c(20,10,15,15,30,5), ncol=2, byrow=TRUE), correct=FALSE)
    # -> X-squared = 9.598595849, df = 2, p = 0.008235526983
    table = np.array([[20, 10], [15, 15], [30, 5]])
    statistic, df, p, expected = chi_square_independence(table)
    assert statistic == pytest.approx(9.598595849, rel=1e-9)
    assert df == 2 and p == pytest.approx(0.008235526983, rel=1e-8)
    reference = stats.chi2_contingency(table, correction=False)
    assert expected == pytest.approx(reference.expected_freq)
    with pytest.raises(DataError, match="sums to zero"):
        chi_square_independence(np.array([[1, 0], [2, 0]]))


def test_nonresponse_check_at_account_level() -> None:
    check = nonresponse_check(_invitations(), _responses(), _revenue())
    assert list(check.summary.columns) == list(SUMMARY_COLUMNS)
    units = check.units.set_index("account")
    assert units["answered"].to_dict() == {"A": True, "B": True, "C": False, "D": False}
    assert units.loc["A", "region"] == "EMEA" and units.loc["A", "invited"] == 3
    revenue = check.summary.set_index("check").loc["revenue"]
    # answered A 400, B 250 vs not answered C 50, D 20: U = 4; scipy asymptotic p
    assert revenue["statistic"] == 4.0
    reference = stats.mannwhitneyu([400, 250], [50, 20], method="asymptotic")
    assert revenue["p_value"] == pytest.approx(reference.pvalue)
    assert "unreliable: fewer than 10 units" in revenue["verdict"]
    detail = check.revenue.set_index("group")
    assert detail.loc["answered", "median_revenue"] == 325.0
    assert check.revenue.attrs["difference"] == 325.0 - 35.0
    region = check.summary.set_index("check").loc["region"]
    table = np.array([[1, 1], [0, 1], [1, 0]])  # AMER, APJ, EMEA x answered, not answered
    reference = stats.chi2_contingency(table, correction=False)
    assert region["statistic"] == pytest.approx(reference.statistic)
    assert region["df"] == 2 and region["p_value"] == pytest.approx(reference.pvalue)
    assert "unreliable" in region["verdict"]
    assert check.regions.set_index("region").loc["All", "answer_rate"] == 0.5


def test_nonresponse_check_per_account_and_country_and_without_revenue() -> None:
    check = nonresponse_check(_invitations(), _responses(), _revenue(), unit=("account", "country"))
    units = check.units.set_index(["account", "country"])
    assert bool(units.loc[("A", "FR"), "answered"])
    assert units.loc[("A", "FR"), "revenue_usd"] == 100.0
    plain = nonresponse_check(_invitations(), _responses())
    assert plain.summary.set_index("check").loc["revenue", "verdict"] == (
        "not testable: no revenue table"
    )


def test_nonresponse_check_when_every_account_answered() -> None:
    responses = pd.DataFrame({"wave": ["2026-Q1"], "contact_email": ["a1@x.com"]})
    check = nonresponse_check(_invitations(), responses, _revenue(), wave="2026-Q1")
    verdicts = check.summary.set_index("check")["verdict"].to_dict()
    assert verdicts["revenue"] == "not testable: no not answered unit with revenue"
    assert verdicts["region"] == "not testable: one region only"


def _tickets() -> pd.DataFrame:
    closed = pd.to_datetime(["2026-01-01 10:00"] * 4 + ["2026-01-02 08:00"] * 3)
    hours = [2, 20, 30, -1, 5, 100, np.nan]
    df = pd.DataFrame(
        {
            "country": ["DE", "DE", "DE", "DE", "FR", "FR", "FR"],
            "closed_on": closed,
            # text dates, as csat data keeps a column of a role it does not parse
            "sent_on": [
                "" if np.isnan(h) else (c + pd.Timedelta(hours=h)).isoformat()
                for c, h in zip(closed, hours, strict=True)
            ],
        }
    )
    df.attrs["roles"] = {"country": "country", "closed_on": "ticket_closed",
                         "sent_on": "survey_sent"}  # fmt: skip
    return df


def test_timeliness_by_country_from_the_roles() -> None:
    result = timeliness(_tickets(), min_n=1)
    assert result.reason == ""
    table = result.table.set_index("country")
    # DE: delays 2 h, 20 h, 30 h, -1 h -> 2 within a day, 1 sent before the close
    assert table.loc["DE", ["surveys", "with_dates", "within", "sent_before_close"]].tolist() == [
        4, 4, 2, 1]  # fmt: skip
    assert table.loc["DE", "median_delay_days"] == pytest.approx(11 / 24)
    assert table.loc["FR", ["with_dates", "within"]].tolist() == [2, 1]
    # Wilson 95 % for 3 of 6: statsmodels proportion_confint(3, 6, method="wilson")
    assert table.loc["All", "share_within"] == 0.5
    assert table.loc["All", "ci_low"] == pytest.approx(0.1876163, abs=1e-6)
    assert table.loc["All", "ci_high"] == pytest.approx(0.8123837, abs=1e-6)


def test_timeliness_suppresses_small_groups() -> None:
    table = timeliness(_tickets(), min_n=3).table.set_index("country")
    assert bool(table.loc["FR", "suppressed"]) and np.isnan(table.loc["FR", "share_within"])
    assert not table.loc["DE", "suppressed"]


def test_timeliness_without_the_dates_says_why() -> None:
    df = _tickets()
    df.attrs["roles"] = {"country": "country", "closed_on": "ticket_closed"}
    result = timeliness(df)
    assert result.table.empty
    assert result.reason.startswith("The transaction export has no survey send date")
    with pytest.raises(DataError, match="expected a date"):
        timeliness(_tickets().assign(sent_on="soon"), min_n=1)


def test_codebook_accepts_the_timeliness_roles() -> None:
    codebook = parse_codebook(
        {
            "kind": "transactions",
            "file": "t.csv",
            "columns": {
                "ticket": {"source": "id", "role": "id"},
                "closed_at": {"source": "closed", "role": "ticket_closed"},
                "sent_at": {"source": "sent", "role": "survey_sent"},
            },
        }
    )
    assert codebook.names("ticket_closed") == ["closed_at"]
    assert codebook.names("survey_sent") == ["sent_at"]
