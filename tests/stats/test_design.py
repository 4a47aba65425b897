"""Tests of csatlib.stats.design: account-clustered linearization variances against R survey.

Reference numbers: R 4.2.2, survey 4.1-1, on the data of ``_clustered_frame`` written to CSV:
``d <- subset(svydesign(ids = ~account, weights = ~w, data = df), !is.na(ltr))``, then
``svymean(~y, d)``, ``svyby(~y, ~wave, d, svymean, covmat = TRUE)`` and
``svycontrast(b, c(-1, 1))`` with ``y = 100 * ((ltr >= 9) - (ltr <= 6))`` (the NPS) or
``y = ltr`` (a mean); unweighted runs use ``weights = ~I(rep(1, nrow(df)))``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csatlib.errors import DataError
from csatlib.stats.design import cluster_codes, domain_means, linearized_cov


def _clustered_frame() -> pd.DataFrame:
    """24 accounts with 1-6 respondents each in two waves; account A23 answers in wave 2 only;
    two missing answers (rows 3 and 17); weights 0.5-2."""
    rng = np.random.default_rng(2026)
    rows = []
    for a in range(24):
        effect = rng.normal(0, 1.6)
        for wave in ("2026-Q1", "2026-Q2"):
            if a == 23 and wave == "2026-Q1":
                continue
            for _ in range(int(rng.integers(1, 7))):
                shift = 0.4 if wave == "2026-Q2" else 0.0
                ltr = int(np.clip(np.rint(7 + effect + rng.normal(0, 1.5) + shift), 0, 10))
                rows.append(
                    {
                        "account": f"A{a:02d}",
                        "wave": wave,
                        "ltr": ltr,
                        "w": float(rng.choice([0.5, 1.0, 1.5, 2.0])),
                    }
                )
    df = pd.DataFrame(rows)
    df.loc[[3, 17], "ltr"] = np.nan
    return df


def _nps_values(df: pd.DataFrame) -> np.ndarray:
    y = 100 * ((df["ltr"] >= 9).astype(float) - (df["ltr"] <= 6).astype(float))
    return y.where(df["ltr"].notna()).to_numpy()


# name -> (weights column or None, R's coef(s), R's SE(s))
R_SURVEY = {
    "nps all, unweighted": (None, [-12.6760563380282], [10.9842239237509]),
    "nps all, weighted": ("w", [-11.2676056338028], [11.2343966421348]),
    "nps by wave, unweighted": (
        None,
        [-26.865671641791, 0.0],
        [11.9775945306162, 12.0289505848978],
    ),
    "nps by wave, weighted": (
        "w",
        [-25.4658385093168, 0.515463917525772],
        [13.3321678009537, 11.4088803091474],
    ),
}
R_CHANGE = {  # svycontrast(svyby(...), c(-1, 1)): wave 2 minus wave 1 on one design
    ("nps", None): (26.865671641791, 11.2525369964123),
    ("nps", "w"): (25.9813024268425, 11.5321340326743),
    ("mean", None): (0.886169154228856, 0.310358910574899),
    ("mean", "w"): (0.838829480694116, 0.320940569162925),
}
R_MEANS = {  # svyby(~ltr, ~wave, d, svymean): coefficients and SEs
    None: ([6.56716417910448, 7.45333333333333], [0.357985829849469, 0.298577101822443]),
    "w": ([6.58385093167702, 7.42268041237113], [0.378185952042022, 0.302625740523646]),
}


@pytest.mark.parametrize("name", sorted(R_SURVEY))
def test_nps_se_equals_r_survey(name: str) -> None:
    df = _clustered_frame()
    weights, coefs, ses = R_SURVEY[name]
    domains = df["wave"] if "by wave" in name else None
    w = df[weights] if weights else None
    result = domain_means(_nps_values(df), domains, weights=w, clusters=df["account"])
    assert result.table["mean"].to_numpy() == pytest.approx(coefs, abs=1e-8)
    assert result.table["se"].to_numpy() == pytest.approx(ses, abs=1e-8)
    assert result.n_clusters == 24


@pytest.mark.parametrize(("kind", "weights"), sorted(R_CHANGE, key=str))
def test_change_between_waves_on_one_design_equals_svycontrast(kind: str, weights) -> None:
    df = _clustered_frame()
    values = _nps_values(df) if kind == "nps" else df["ltr"].to_numpy(dtype=float)
    w = df[weights] if weights else None
    result = domain_means(values, df["wave"], weights=w, clusters=df["account"])
    diff, se = result.difference("2026-Q2", "2026-Q1")
    assert (diff, se) == pytest.approx(R_CHANGE[(kind, weights)], abs=1e-8)
    if kind == "mean":
        coefs, ses = R_MEANS[weights]
        assert result.table["mean"].to_numpy() == pytest.approx(coefs, abs=1e-8)
        assert result.table["se"].to_numpy() == pytest.approx(ses, abs=1e-8)
    # the waves share accounts: treating them as independent gives another SE
    independent = np.sqrt((result.table["se"] ** 2).sum())
    assert abs(independent - se) > 0.01


def test_without_clusters_each_respondent_is_a_cluster() -> None:
    # Closed form: unweighted mean, SE^2 = C/(C-1) * sum((y - m)^2) / n^2, which is s^2 / n
    # when every row has a value (C = n).
    y = np.array([1.0, 4.0, 6.0, 9.0])
    result = domain_means(y)
    assert result.table.loc["all", "mean"] == pytest.approx(5.0)
    assert result.table.loc["all", "se"] == pytest.approx(np.std(y, ddof=1) / 2)
    assert result.table.loc["all", "deff"] == pytest.approx(1.0)
    # A missing answer keeps its row in the design (C = 5), as na.rm = TRUE does in R survey.
    with_missing = domain_means(np.append(y, np.nan))
    assert with_missing.table.loc["all", "se"] == pytest.approx(np.sqrt(5 / 4 * 34 / 16))


def test_design_effect_of_identical_answers_within_accounts() -> None:
    # Two accounts of 3 identical answers each: clustered variance is the variance of two
    # account means; the design effect is far above 1.
    y = np.array([0, 0, 0, 10, 10, 10], dtype=float)
    result = domain_means(y, clusters=["a", "a", "a", "b", "b", "b"])
    # Z_c = +-(3 * 5 / 6) = +-2.5 -> var = 2/1 * (2.5^2 + 2.5^2) = 25 -> se 5
    assert result.table.loc["all", "se"] == pytest.approx(5.0)
    assert result.table.loc["all", "deff"] == pytest.approx(25 / (6 / 5 * 6 * 25 / 36))


def test_unknown_account_is_its_own_cluster() -> None:
    codes = cluster_codes(["a", None, "a", np.nan, "b"], 5)
    assert len(set(codes)) == 4 and codes[0] == codes[2]
    with pytest.raises(DataError, match="one key per row"):
        cluster_codes(["a"], 2)


def test_a_single_cluster_has_no_variance() -> None:
    assert np.isnan(linearized_cov(np.array([0.5, -0.5]), np.array([0, 0]))).all()


# Three accounts that answer 1, 2, 3, 4 each: no spread between accounts, so the clustered
# variance of the mean is 0 (deff 0), while each respondent as its own cluster gives
# se_1^2 = (12/11) * sum((y - 2.5)^2) / 12^2 = (12/11) * 15 / 144 (closed form).
_AGREEING = pd.DataFrame(
    {
        "rating": [1.0, 2.0, 3.0, 4.0] * 3,
        "account": np.repeat(["a", "b", "c"], 4),
        "group": "g",
        "wave": "2026-Q1",
    }
)
_SE_1 = np.sqrt(12 / 11 * 15 / 144)


def test_interval_se_floors_the_design_effect_at_one() -> None:
    from csatlib.stats.design import interval_se

    got = interval_se([0.0, 0.5, np.nan, 0.2], [0.3, 0.3, 0.3, np.nan])
    np.testing.assert_allclose(got, [0.3, 0.5, np.nan, 0.2])
    means = domain_means(_AGREEING["rating"], clusters=_AGREEING["account"]).table
    assert means["se"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    assert means["se_respondents"].iloc[0] == pytest.approx(_SE_1)


def test_no_interval_of_a_clustered_mean_is_narrower_than_for_respondents() -> None:
    """Attribute scores, trends, banner tables and the loyalty index all take the design
    effect floored at 1: three agreeing accounts give the interval of independent
    respondents, 2.5 +- 1.96 se_1, not a zero-width one."""
    from scipy import stats as st

    from csatlib.stats.crosstab import crosstab
    from csatlib.stats.loyalty import loyalty_summary
    from csatlib.stats.scores import scores_by_group, trends

    half = st.norm.ppf(0.975) * _SE_1
    expected = (2.5 - half, 2.5 + half)
    table = scores_by_group(
        _AGREEING, "rating", "group", scale=(1, 5), cluster="account", min_n=2
    ).iloc[0]
    assert table["se"] == pytest.approx(0.0, abs=1e-12)  # the clustered SE is as R has it
    assert (table["ci_low"], table["ci_high"]) == pytest.approx(expected)
    trend = trends(
        _AGREEING, "rating", by="group", cluster="account", min_n=2, nps_column=None
    ).iloc[0]
    assert (trend["ci_low"], trend["ci_high"]) == pytest.approx(expected)
    banner = crosstab(_AGREEING, "group", "wave", "rating", cluster="account", min_n=2)
    cell = banner.cells.iloc[0]
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx(expected)
    index = _AGREEING.assign(item=_AGREEING["rating"])
    loyal = loyalty_summary(
        index, ["item"], by="group", cluster="account", min_n=2, scale=(1.0, 4.0)
    ).iloc[0]
    # the index is (rating - 1) / 3 * 100: its interval is the same one, rescaled
    scaled = tuple((v - 1) / 3 * 100 for v in expected)
    assert (loyal["ci_low"], loyal["ci_high"]) == pytest.approx(scaled)
