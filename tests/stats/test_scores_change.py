"""Tests of csatlib.stats.scores.mean_change: the change of a mean between any two waves.

Reference numbers with accounts as clusters: R 4.2.2, survey 4.1.1, on ``_plans_study()``
written to CSV, a missing account made a PSU of its own (``psu = ifelse(is.na(account),
paste0("row", seq_len(nrow(df))), account)``), ``d <- svydesign(ids = ~psu, data = df)``,
``dd <- subset(d, !is.na(delivery))``, ``b <- svyby(~delivery, ~interaction(country, wave),
dd, svymean, covmat = TRUE)`` and ``svycontrast(b, c("DE.2026-Q3" = 1, "DE.2025-Q4" = -1))``
for each pair below (coef and SE printed with 15 significant digits).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csatlib.errors import DataError
from csatlib.stats.scores import MEAN_CHANGE_COLUMNS, mean_change, trends

WAVES = ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]


def _plans_study() -> pd.DataFrame:
    """2 countries x 4 waves, 14 accounts each with 1-4 respondents a wave; every account skips
    one wave in five; 6 % don't-know; three respondents without an account."""
    rng = np.random.default_rng(2026)
    rows = []
    for country, lift in (("DE", 0.4), ("FR", 0.0)):
        for a in range(14):
            effect = rng.normal(0, 1.1)  # the account's own level: its respondents answer alike
            for w, wave in enumerate(WAVES):
                if (a + w) % 5 == 0:
                    continue
                for _ in range(int(rng.integers(1, 5))):
                    value = np.rint(6.5 + effect + lift * w + rng.normal(0, 1.4))
                    rows.append(
                        {
                            "country": country,
                            "wave": wave,
                            "account": f"{country}{a:02d}",
                            "delivery": int(np.clip(value, 1, 10)),
                        }
                    )
    df = pd.DataFrame(rows)
    df["delivery"] = df["delivery"].astype("Int64")
    df.loc[rng.random(len(df)) < 0.06, "delivery"] = pd.NA
    df.loc[[3, 50, 111], "account"] = None
    return df


R_CHANGES = {  # (country, from, to) -> (change, SE): svycontrast of the two domain means
    ("DE", "2025-Q4", "2026-Q3"): (0.96195652173913, 0.650724504482151),
    ("DE", "2026-Q1", "2026-Q3"): (0.916666666666667, 0.436132858032925),
    ("DE", "2025-Q4", "2026-Q2"): (1.51119894598155, 0.586461504310093),
    ("FR", "2025-Q4", "2026-Q3"): (-0.152727272727272, 0.512684742837031),
    ("FR", "2026-Q1", "2026-Q3"): (0.114369501466276, 0.309513991677913),
    ("FR", "2025-Q4", "2026-Q2"): (-1.08689655172414, 0.59065236390086),
}


def _accounts(df: pd.DataFrame, country: str, wave: str) -> int:
    """Accounts answering in a cell; a respondent without an account is an account of its own."""
    cell = df.loc[(df["country"] == country) & (df["wave"] == wave) & df["delivery"].notna()]
    return int(cell["account"].nunique() + cell["account"].isna().sum())


@pytest.mark.parametrize("key", sorted(R_CHANGES))
def test_clustered_change_equals_r_svycontrast(key: tuple[str, str, str]) -> None:
    df = _plans_study()
    country, start, end = key
    table = mean_change(
        df, "delivery", from_wave=start, to_wave=end, by="country", cluster="account", min_n=1
    )
    row = table.set_index("country").loc[country]
    change, se = R_CHANGES[key]
    assert (row["change"], row["se"]) == pytest.approx((change, se), abs=1e-8)
    # Student's t on the smaller wave's accounts minus one, as trends
    df_t = min(_accounts(df, country, start), _accounts(df, country, end)) - 1
    assert row["df"] == df_t
    half = stats.t.ppf(0.975, df_t) * se
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((change - half, change + half))
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(change / se), df_t), rel=1e-7)


def test_the_covariance_through_shared_accounts_enters_the_se() -> None:
    df = _plans_study()
    table = mean_change(
        df,
        "delivery",
        from_wave="2026-Q1",
        to_wave="2026-Q3",
        by="country",
        cluster="account",
        min_n=1,
    )
    trend = trends(df, "delivery", cluster="account", min_n=1, nps_column=None, adjust=False)
    cells = trend.set_index(["country", "wave"])["se"]
    for row in table.itertuples(index=False):
        apart = np.hypot(cells[(row.country, "2026-Q1")], cells[(row.country, "2026-Q3")])
        # accounts answer alike in both waves: positively correlated means, a smaller SE
        assert row.se < 0.95 * apart


def test_adjacent_waves_give_the_change_of_trends() -> None:
    df = _plans_study()
    trend = trends(df, "delivery", cluster="account", min_n=1, nps_column=None, adjust=False)
    expected = trend.set_index(["country", "wave"]).xs("2026-Q3", level="wave")
    for cluster in ("account", None):
        if cluster is None:
            expected = (
                trends(df, "delivery", min_n=1, nps_column=None, adjust=False)
                .set_index(["country", "wave"])
                .xs("2026-Q3", level="wave")
            )
        table = mean_change(
            df,
            "delivery",
            from_wave="2026-Q2",
            to_wave="2026-Q3",
            by="country",
            cluster=cluster,
            min_n=1,
        ).set_index("country")
        for name, ref in (("change", "change"), ("se", "change_se"), ("p_value", "p_value")):
            np.testing.assert_allclose(table[name], expected.loc[table.index, ref], rtol=1e-12)


def test_without_clusters_it_is_welch_t() -> None:
    df = _plans_study()
    table = mean_change(
        df, "delivery", from_wave="2025-Q4", to_wave="2026-Q3", by="country", min_n=1
    )
    row = table.iloc[0]
    de = df.loc[df["country"] == "DE"]
    a = de.loc[de["wave"] == "2025-Q4", "delivery"].dropna().to_numpy(float)
    b = de.loc[de["wave"] == "2026-Q3", "delivery"].dropna().to_numpy(float)
    welch = stats.ttest_ind(b, a, equal_var=False)
    low, high = welch.confidence_interval(0.95)
    assert row["country"] == "DE"
    assert row["change"] == pytest.approx(b.mean() - a.mean(), abs=1e-12)
    assert row["p_value"] == pytest.approx(welch.pvalue, rel=1e-10)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-10)


def test_columns_one_group_and_small_cells_are_suppressed() -> None:
    df = _plans_study()
    whole = mean_change(df, "delivery", from_wave="2025-Q4", to_wave="2026-Q3", min_n=1)
    assert list(whole.columns) == list(MEAN_CHANGE_COLUMNS)
    assert (whole["n_from"].iat[0], whole["n_to"].iat[0]) == (48, 46)
    table = mean_change(
        df, "delivery", from_wave="2025-Q4", to_wave="2026-Q3", by="country", min_n=24
    ).set_index("country")
    # DE has 23 answers in 2025-Q4 (below 24): nothing shown; FR has 25 and 22
    assert table["suppressed"].tolist() == [True, True]
    assert table[["change", "se", "ci_low", "p_value", "mean_from"]].isna().all().all()
    assert table["n_from"].tolist() == [23, 25]  # the counts stay, to say why
    absent = mean_change(df, "delivery", from_wave="2024-Q1", to_wave="2026-Q3", min_n=1)
    assert bool(absent["suppressed"].iat[0]) and absent["n_from"].iat[0] == 0


def test_invalid_arguments_name_the_function() -> None:
    df = _plans_study()
    with pytest.raises(DataError, match="two different waves"):
        mean_change(df, "delivery", from_wave="2026-Q3", to_wave="2026-Q3")
    with pytest.raises(DataError, match="mean_change.*missing column.*'speed'"):
        mean_change(df, "speed", from_wave="2025-Q4", to_wave="2026-Q3")
    with pytest.raises(DataError, match="min_n.*mean_change"):
        mean_change(df, "delivery", from_wave="2025-Q4", to_wave="2026-Q3", min_n=0)
