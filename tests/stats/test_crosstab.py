"""Tests of csatlib.stats.crosstab: closed forms, statsmodels, R survey and the letter rules.

Reference numbers with accounts as clusters: R 4.2.2 Patched (2022-11-10), survey 4.1.1, on
``_banner_frame()`` written to CSV (``df.to_csv(path, index=False)``) and read by::

    library(survey)
    df <- read.csv(path, stringsAsFactors = FALSE)
    df$nps <- 100 * ((df$ltr >= 9) - (df$ltr <= 6))
    df$top <- as.numeric(df$ltr >= 9)
    d <- svydesign(ids = ~account, data = df)
    options(digits = 15)
    for (v in c("ltr", "top", "nps")) {
      f <- as.formula(paste0("~", v))
      b <- svyby(f, ~interaction(segment, unit), d, svymean, covmat = TRUE)
      print(data.frame(coef = coef(b), se = SE(b)))
      for (s in c("Enterprise", "SMB")) {
        units <- c("Cloud", "Hardware", "Services")
        for (i in 1:2) for (j in (i + 1):3) {
          k <- svycontrast(b, setNames(c(1, -1), paste(s, units[c(i, j)], sep = ".")))
          cat(v, s, units[i], units[j], sprintf("%.15g %.15g", coef(k), SE(k)), "\\n")
        }
      }
      tot <- svyby(f, ~segment, d, svymean)
      print(data.frame(coef = coef(tot), se = SE(tot)))
    }
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats import proportion
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import ttest_ind

from csatlib.errors import DataError
from csatlib.stats.crosstab import TOTAL, Crosstab, banner_display, crosstab
from csatlib.stats.nps import nps_difference, nps_wave_change

UNITS = ("Cloud", "Hardware", "Services")
SEGMENTS = ("Enterprise", "SMB")


def _banner_frame() -> pd.DataFrame:
    """36 accounts (18 per segment), each in 1-3 business units with 2-6 respondents per unit,
    so that the banner columns share accounts; likelihood to recommend 0-10 with an account
    effect and a shift per unit (Cloud +0.9, Hardware -0.6)."""
    rng = np.random.default_rng(20260)
    shift = {"Cloud": 0.9, "Hardware": -0.6, "Services": 0.0}
    rows = []
    for a in range(36):
        segment = "Enterprise" if a < 18 else "SMB"
        effect = rng.normal(0, 1.2)
        chosen = rng.choice(list(UNITS), size=int(rng.integers(1, 4)), replace=False)
        for unit in chosen:
            for _ in range(int(rng.integers(2, 7))):
                ltr = int(np.clip(np.rint(7 + effect + shift[unit] + rng.normal(0, 1.4)), 0, 10))
                rows.append({"account": f"A{a:02d}", "segment": segment, "unit": unit, "ltr": ltr})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- R survey

# statistic -> (segment, unit) -> (coef, SE) of svyby(~y, ~interaction(segment, unit), d, svymean)
R_CELLS = {
    "mean": {
        ("Enterprise", "Cloud"): (8.35294117647059, 0.470840413952623),
        ("SMB", "Cloud"): (7.90243902439024, 0.324938313639900),
        ("Enterprise", "Hardware"): (6.60714285714286, 0.307556770972025),
        ("SMB", "Hardware"): (6.33333333333333, 0.441454145103091),
        ("Enterprise", "Services"): (7.50943396226415, 0.248615353889671),
        ("SMB", "Services"): (7.15217391304348, 0.511841954926944),
    },
    "top_box": {
        ("Enterprise", "Cloud"): (0.558823529411765, 0.1374235855444543),
        ("SMB", "Cloud"): (0.365853658536585, 0.1010416580390970),
        ("Enterprise", "Hardware"): (0.125000000000000, 0.0414962501379366),
        ("SMB", "Hardware"): (0.142857142857143, 0.0637944578267422),
        ("Enterprise", "Services"): (0.207547169811321, 0.0545625329498791),
        ("SMB", "Services"): (0.304347826086957, 0.1066231517929695),
    },
    "nps": {
        ("Enterprise", "Cloud"): (38.23529411764706, 19.8956994501124),
        ("SMB", "Cloud"): (14.63414634146341, 14.3664247893825),
        ("Enterprise", "Hardware"): (-35.71428571428572, 13.1719071232770),
        ("SMB", "Hardware"): (-35.71428571428572, 15.1861184902458),
        ("Enterprise", "Services"): (-3.77358490566038, 12.2967612124972),
        ("SMB", "Services"): (-10.86956521739130, 21.6272408522791),
    },
}
# statistic -> segment -> (coef, SE) of svyby(~y, ~segment, d, svymean): the Total column
R_TOTALS = {
    "mean": {
        "Enterprise": (7.35664335664336, 0.275326713697758),
        "SMB": (7.12403100775194, 0.358228470501044),
    },
    "top_box": {
        "Enterprise": (0.258741258741259, 0.0592173366605362),
        "SMB": (0.271317829457364, 0.0798820841728896),
    },
    "nps": {
        "Enterprise": (-6.29370629370629, 12.6386365618103),
        "SMB": (-10.85271317829458, 14.8836006448400),
    },
}
# statistic -> (segment, unit a, unit b) -> (coef, SE) of svycontrast(b, a - b)
R_DIFFERENCES = {
    "mean": {
        ("Enterprise", "Cloud", "Hardware"): (1.74579831932773, 0.315840282426224),
        ("Enterprise", "Cloud", "Services"): (0.843507214206438, 0.399059274484821),
        ("Enterprise", "Hardware", "Services"): (-0.902291105121294, 0.29948696238502),
        ("SMB", "Cloud", "Hardware"): (1.56910569105691, 0.491023961972498),
        ("SMB", "Cloud", "Services"): (0.750265111346765, 0.3701690732662),
        ("SMB", "Hardware", "Services"): (-0.818840579710145, 0.561497912041236),
    },
    "top_box": {
        ("Enterprise", "Cloud", "Hardware"): (0.433823529411765, 0.117028169577784),
        ("Enterprise", "Cloud", "Services"): (0.351276359600444, 0.11594641114125),
        ("Enterprise", "Hardware", "Services"): (-0.0825471698113207, 0.0460554757235946),
        ("SMB", "Cloud", "Hardware"): (0.222996515679443, 0.10433958885366),
        ("SMB", "Cloud", "Services"): (0.0615058324496288, 0.0659576131830846),
        ("SMB", "Hardware", "Services"): (-0.161490683229814, 0.0955455333950589),
    },
    "nps": {
        ("Enterprise", "Cloud", "Hardware"): (73.9495798319328, 12.6257402365225),
        ("Enterprise", "Cloud", "Services"): (42.0088790233074, 15.9254225192137),
        ("Enterprise", "Hardware", "Services"): (-31.9407008086253, 12.2422488495248),
        ("SMB", "Cloud", "Hardware"): (50.3484320557491, 17.1958441307643),
        ("SMB", "Cloud", "Services"): (25.5037115588547, 14.5056959196464),
        ("SMB", "Hardware", "Services"): (-24.8447204968944, 20.3293079348372),
    },
}


def _clustered(statistic: str) -> Crosstab:
    return crosstab(
        _banner_frame(),
        "segment",
        "unit",
        "ltr",
        statistic=statistic,
        cluster="account",
        scale=(0, 10),
        min_n=1,
    )


@pytest.mark.parametrize("statistic", sorted(R_CELLS))
def test_clustered_cells_and_totals_equal_r_survey(statistic: str) -> None:
    ct = _clustered(statistic)
    cells = ct.cells.set_index(["segment", "unit"])
    for key, (coef, se) in R_CELLS[statistic].items():
        assert (cells.loc[key, "estimate"], cells.loc[key, "se"]) == pytest.approx(
            (coef, se), abs=1e-8
        )
    for segment, (coef, se) in R_TOTALS[statistic].items():
        row = cells.loc[(segment, TOTAL)]
        assert (row["estimate"], row["se"]) == pytest.approx((coef, se), abs=1e-8)
        assert row["letter"] == "" and row["letters"] == ""


@pytest.mark.parametrize("statistic", sorted(R_DIFFERENCES))
def test_clustered_differences_equal_r_svycontrast(statistic: str) -> None:
    df = _banner_frame()
    ct = _clustered(statistic)
    tests = ct.tests.set_index(["segment", "column_a", "column_b"])
    for key, (diff, se) in R_DIFFERENCES[statistic].items():
        row = tests.loc[key]
        assert (row["diff"], row["se"]) == pytest.approx((diff, se), abs=1e-8)
        # Student's t on the smaller cell's accounts minus one
        segment, a, b = key
        accounts = [
            df.loc[(df["segment"] == segment) & (df["unit"] == u), "account"].nunique()
            for u in (a, b)
        ]
        assert row["dof"] == min(accounts) - 1
        if statistic != "nps":
            p = 2 * stats.t.sf(abs(diff / se), min(accounts) - 1)
            assert row["p_value"] == pytest.approx(p, rel=1e-7)
    # the covariance of two units sharing accounts matters: Enterprise Cloud - Hardware
    cells = ct.cells.set_index(["segment", "unit"])
    independent = math.hypot(
        cells.loc[("Enterprise", "Cloud"), "se"], cells.loc[("Enterprise", "Hardware"), "se"]
    )
    assert tests.loc[("Enterprise", "Cloud", "Hardware"), "se"] < 0.9 * independent


def test_clustered_nps_test_is_the_nps_modules_comparison_of_two_domains() -> None:
    # Cloud and Hardware as the two "waves" of nps_wave_change: the rest of the rows stay in
    # the design (their wave key is missing), so the test is the crosstab's.
    df = _banner_frame()
    df["pair"] = df["unit"].map({"Hardware": "0", "Cloud": "1"})
    change = nps_wave_change(df, by="segment", wave="pair", score="ltr", cluster="account", min_n=1)
    tests = _clustered("nps").tests.set_index(["segment", "column_a", "column_b"])
    for row in change.itertuples(index=False):
        mine = tests.loc[(row.segment, "Cloud", "Hardware")]
        assert (mine["diff"], mine["se"], mine["t"], mine["p_value"]) == pytest.approx(
            (row.change, row.se, row.z, row.p_value), rel=1e-10
        )


def test_clustering_removes_a_letter_the_independent_test_gives() -> None:
    df = _banner_frame()
    plain = crosstab(df, "segment", "unit", "ltr", min_n=1)
    clustered = crosstab(df, "segment", "unit", "ltr", cluster="account", min_n=1)
    letters = {
        name: ct.cells.set_index(["segment", "unit"])["letters"].to_dict()
        for name, ct in (("plain", plain), ("clustered", clustered))
    }
    assert letters["plain"][("Enterprise", "Cloud")] == "B C"
    assert letters["clustered"][("Enterprise", "Cloud")] == "B"
    assert letters["clustered"][("Enterprise", "Services")] == "B"
    assert letters["clustered"][("SMB", "Cloud")] == "B"
    assert plain.cells["n_clusters"].tolist() == plain.cells["n"].tolist()
    assert clustered.cells.set_index(["segment", "unit"]).loc[("SMB", "Cloud"), "n_clusters"] == (
        df.loc[(df["segment"] == "SMB") & (df["unit"] == "Cloud"), "account"].nunique()
    )


# ----------------------------------------------------------------------------- statsmodels


def test_independent_mean_tests_equal_statsmodels_welch() -> None:
    df = _banner_frame()
    ct = crosstab(df, "segment", "unit", "ltr", min_n=1)
    for row in ct.tests.itertuples(index=False):
        a = df.loc[(df["segment"] == row.segment) & (df["unit"] == row.column_a), "ltr"]
        b = df.loc[(df["segment"] == row.segment) & (df["unit"] == row.column_b), "ltr"]
        t, p, dof = ttest_ind(a, b, usevar="unequal")
        assert (row.t, row.p_value, row.dof) == pytest.approx((t, p, dof), rel=1e-10)
        assert row.diff == pytest.approx(a.mean() - b.mean(), rel=1e-12)


def test_independent_top_box_tests_equal_statsmodels_wald() -> None:
    df = _banner_frame()
    ct = crosstab(df, "segment", "unit", "ltr", statistic="top_box", scale=(0, 10), min_n=1)
    for row in ct.tests.itertuples(index=False):
        a = df.loc[(df["segment"] == row.segment) & (df["unit"] == row.column_a), "ltr"]
        b = df.loc[(df["segment"] == row.segment) & (df["unit"] == row.column_b), "ltr"]
        res = proportion.test_proportions_2indep(
            (a >= 9).sum(), len(a), (b >= 9).sum(), len(b), method="wald"
        )
        assert (row.t, row.p_value) == pytest.approx((res.statistic, res.pvalue), rel=1e-10)
        assert math.isinf(row.dof)


def test_independent_nps_tests_equal_nps_difference() -> None:
    df = _banner_frame()
    ct = crosstab(df, "segment", "unit", "ltr", statistic="nps", min_n=1)
    for row in ct.tests.itertuples(index=False):
        a = df.loc[(df["segment"] == row.segment) & (df["unit"] == row.column_a), "ltr"]
        b = df.loc[(df["segment"] == row.segment) & (df["unit"] == row.column_b), "ltr"]
        ref = nps_difference(a, b)
        assert (row.diff, row.se, row.t, row.p_value) == pytest.approx(
            (ref.diff, ref.se, ref.z, ref.p_value), rel=1e-10
        )


@pytest.mark.parametrize("correction", ["fdr_bh", "holm", "bonferroni"])
def test_q_values_equal_statsmodels_multipletests_over_the_whole_table(correction: str) -> None:
    ct = crosstab(_banner_frame(), "segment", "unit", "ltr", min_n=1, correction=correction)
    p = ct.tests["p_value"].to_numpy()
    assert len(p) == 6 and not np.isnan(p).any()  # both segments in one family
    expected = multipletests(p, method=correction)[1]
    np.testing.assert_allclose(ct.tests["q_value"], expected, rtol=1e-12)
    assert ct.tests["significant"].tolist() == list(expected < 0.05)


# ----------------------------------------------------------------------------- closed forms


def _tiny() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "segment": "X",
            "unit": ["a"] * 4 + ["b"] * 5,
            "ltr": [10, 9, 7, 3, 8, 8, 0, 10, 6],
        }
    )
    df.attrs["scales"] = {"ltr": [0, 10]}  # the codebook's scale, as csat data writes it
    return df


def test_closed_form_cells_of_a_tiny_table() -> None:
    df = _tiny()
    nps = crosstab(df, "segment", "unit", "ltr", statistic="nps", min_n=1).cells
    mean = crosstab(df, "segment", "unit", "ltr", min_n=1).cells
    top = crosstab(df, "segment", "unit", "ltr", statistic="top_box", min_n=1).cells
    assert nps["unit"].tolist() == [TOTAL, "a", "b"]
    assert nps["letter"].tolist() == ["", "A", "B"]
    assert nps["n"].tolist() == [9, 4, 5]
    # a: 2 promoters, 1 passive, 1 detractor; b: 1, 2, 2; all: 3 promoters, 3 detractors
    assert nps["estimate"].tolist() == pytest.approx([0.0, 25.0, -20.0], abs=1e-12)
    assert nps["se"].tolist() == pytest.approx(
        [100 * math.sqrt((6 / 9) / 9), 100 * math.sqrt(0.171875), 100 * math.sqrt(0.112)]
    )
    # adjusted Wald interval of a: (x + (0.75, 1.5, 0.75)) / (n + 3)
    q_pro, q_det = 2.75 / 7, 1.75 / 7
    half = stats.norm.ppf(0.975) * math.sqrt((q_pro + q_det - (q_pro - q_det) ** 2) / 7)
    assert (nps.loc[1, "ci_low"], nps.loc[1, "ci_high"]) == pytest.approx(
        (100 * (q_pro - q_det - half), 100 * (q_pro - q_det + half))
    )
    assert mean["estimate"].tolist() == pytest.approx([61 / 9, 7.25, 6.4])
    sd_a = math.sqrt((2.75**2 + 1.75**2 + 0.25**2 + 4.25**2) / 3)
    assert mean.loc[1, "se"] == pytest.approx(sd_a / 2)
    t3 = stats.t.ppf(0.975, 3)
    assert mean.loc[1, "ci_low"] == pytest.approx(7.25 - t3 * sd_a / 2)
    # top 2 boxes of 0-10 (9 and 10), scale read from df.attrs
    assert top["estimate"].tolist() == pytest.approx([3 / 9, 0.5, 0.2])
    assert top["se"].tolist() == pytest.approx(
        [math.sqrt(2 / 9 / 9), math.sqrt(0.25 / 4), math.sqrt(0.16 / 5)]
    )


def test_closed_form_difference_of_a_tiny_table() -> None:
    df = _tiny()
    mean = crosstab(df, "segment", "unit", "ltr", min_n=1).tests.iloc[0]
    sd_b = np.std([8, 8, 0, 10, 6], ddof=1)
    sd_a = np.std([10, 9, 7, 3], ddof=1)
    assert (mean["diff"], mean["se"]) == pytest.approx((0.85, math.sqrt(sd_a**2 / 4 + sd_b**2 / 5)))
    top = crosstab(df, "segment", "unit", "ltr", statistic="top_box", min_n=1).tests.iloc[0]
    assert (top["diff"], top["se"]) == pytest.approx((0.3, math.sqrt(0.25 / 4 + 0.16 / 5)))
    nps = crosstab(df, "segment", "unit", "ltr", statistic="nps", min_n=1).tests.iloc[0]
    assert (nps["diff"], nps["se"]) == pytest.approx((45.0, 100 * math.sqrt(0.171875 + 0.112)))
    assert (mean["letter_a"], mean["letter_b"], mean["column_a"]) == ("A", "B", "a")


# ----------------------------------------------------------------------------- letters


def _letters_frame() -> pd.DataFrame:
    """North (A) mean 8, South (B) 6, both n = 200, sd 1; East (C) mean 7, n = 30, sd 3 (ties
    with both); West (D) mean 9.5 and Central (E) mean 2.5, n = 12 each."""
    values = {
        "North": [7, 9] * 100,
        "South": [5, 7] * 100,
        "East": [4, 10] * 15,
        "West": [9, 10] * 6,
        "Central": [2, 3] * 6,
    }
    units = [u for u, v in values.items() for _ in v]
    return pd.DataFrame(
        {
            "segment": "all",
            "region": pd.Categorical(units, categories=list(values)),
            "score": [x for v in values.values() for x in v],
        }
    )


def _letters(ct: Crosstab) -> dict[str, str]:
    cells = ct.cells.loc[ct.cells["letter"] != ""]
    return dict(zip(cells[ct.column], cells["letters"], strict=True))


def test_letters_mark_the_columns_a_cell_is_higher_than() -> None:
    ct = crosstab(_letters_frame(), "segment", "region", "score", min_n=10)
    assert ct.letters == {"North": "A", "South": "B", "East": "C", "West": "D", "Central": "E"}
    assert _letters(ct) == {
        "North": "B E",
        "South": "E",
        "East": "E",
        "West": "A B C E",
        "Central": "",
    }


def test_small_cells_are_suppressed_and_take_no_letters_either_way() -> None:
    ct = crosstab(_letters_frame(), "segment", "region", "score")  # min_n = 30
    assert _letters(ct) == {"North": "B", "South": "", "East": "", "West": "", "Central": ""}
    small = ct.cells.loc[ct.cells["region"].isin(["West", "Central"])]
    assert small["suppressed"].all() and small["estimate"].isna().all()
    assert small["se"].isna().all() and small["n"].tolist() == [12, 12]
    against = ct.tests["column_b"].isin(["West", "Central"])
    assert ct.tests.loc[against, "p_value"].isna().all()
    assert ct.tests.loc[against, "significant"].isna().all()
    # the family holds only the three tests done: North-South, North-East, South-East
    assert ct.tests["q_value"].notna().sum() == 3


def test_a_rows_only_small_cell_cannot_be_worked_out_from_the_total() -> None:
    # Central removed: West (n = 12) is the row's one small cell; shown with the total and
    # the other cells, it would be their n-weighted remainder, so the next smallest (East,
    # n = 30) is hidden with it
    frame = _letters_frame()
    frame = frame.loc[frame["region"] != "Central"]
    ct = crosstab(frame, "segment", "region", "score")
    why = dict(zip(ct.cells["region"], ct.cells["suppression"], strict=True))
    assert why == {TOTAL: "", "North": "", "South": "", "East": "complementary", "West": "small"}
    shown = ct.cells.loc[~ct.cells["suppressed"] & (ct.cells["region"] != TOTAL)]
    total = ct.cells.loc[ct.cells["region"] == TOTAL].iloc[0]
    rest = (total["estimate"] * total["n"] - (shown["estimate"] * shown["n"]).sum()) / (30 + 12)
    assert rest == pytest.approx((7 * 30 + 9.5 * 12) / 42)  # the pooled mean, not West's 9.5
    hidden = ct.cells.loc[ct.cells["suppressed"]]
    assert hidden["estimate"].isna().all() and (hidden["letters"] == "").all()
    involved = ct.tests["column_a"].isin(["East", "West"]) | ct.tests["column_b"].isin(
        ["East", "West"]
    )
    assert ct.tests.loc[involved, ["estimate_a", "estimate_b", "p_value"]].isna().all().all()
    text = banner_display(ct).loc["all"]
    assert text["East (C)"] == "suppressed (protects a small cell)"
    assert text["West (D)"] == "suppressed (n = 12 < 30)"
    # one banner column: the total less its other respondents (no banner value) would give
    # the small cell, so the total is hidden
    other = pd.DataFrame({"segment": "all", "region": None, "score": [5, 6] * 20})
    west = frame.loc[frame["region"] == "West"].astype({"region": object})
    alone = crosstab(pd.concat([west, other]), "segment", "region", "score")
    assert alone.cells["suppression"].tolist() == ["complementary", "small"]
    # a cell without answers hides nothing: there is nothing to work out
    two = pd.concat([frame.loc[frame["region"] != "West"].assign(segment="b"), frame])
    two = two.loc[~((two["segment"] == "b") & (two["region"] == "East"))]
    both = crosstab(two, "segment", "region", "score").cells.set_index(["segment", "region"])
    assert both.loc[("b", "West"), "n"] == 0 and both.loc[("b", "East"), "n"] == 0
    assert both.loc["b", "suppression"].tolist() == ["", "", "", "small", "small"]


def _marginal_frame() -> pd.DataFrame:
    """X mean 7.5 and Y mean 7.0 (n = 40, sd 1): Welch p = 0.03; Z mean 7.25, sd 3."""
    values = {"X": [6.5, 8.5] * 20, "Y": [6.0, 8.0] * 20, "Z": [4.25, 10.25] * 20}
    return pd.DataFrame(
        {
            "segment": "all",
            "unit": [u for u, v in values.items() for _ in v],
            "score": [x for v in values.values() for x in v],
        }
    )


def test_benjamini_hochberg_removes_a_marginal_letter() -> None:
    raw = crosstab(_marginal_frame(), "segment", "unit", "score", correction="none")
    bh = crosstab(_marginal_frame(), "segment", "unit", "score")
    p = raw.tests.set_index(["column_a", "column_b"])["p_value"]
    assert 0.02 < p[("X", "Y")] < 0.05 and p.drop(("X", "Y")).min() > 0.5
    assert _letters(raw)["X"] == "B"
    assert _letters(bh)["X"] == ""
    q = bh.tests.set_index(["column_a", "column_b"])["q_value"]
    assert q[("X", "Y")] == pytest.approx(multipletests(p.to_numpy(), method="fdr_bh")[1][0])
    assert q[("X", "Y")] > 0.05


# ----------------------------------------------------------------------------- display


def test_banner_display_shows_estimates_letters_and_suppression() -> None:
    ct = crosstab(_letters_frame(), "segment", "region", "score")
    shown = banner_display(ct, labels={"North": "Nord", "all": "All customers"})
    assert list(shown.columns) == [
        TOTAL,
        "Nord (A)",
        "South (B)",
        "East (C)",
        "West (D)",
        "Central (E)",
    ]
    row = shown.loc["All customers"]
    assert row["Nord (A)"] == "8.00 B"
    assert row["South (B)"] == "6.00"
    assert row["West (D)"] == "suppressed (n = 12 < 30)"
    assert row[TOTAL] == f"{_letters_frame()['score'].mean():.2f}"
    nps = crosstab(_tiny(), "segment", "unit", "ltr", statistic="nps", min_n=1).display()
    assert nps.loc["X"].tolist() == ["+0.0", "+25.0", "-20.0"]
    top = crosstab(_tiny(), "segment", "unit", "ltr", statistic="top_box", min_n=1).display()
    assert top.loc["X"].tolist() == ["33.3%", "50.0%", "20.0%"]


def test_columns_of_the_result() -> None:
    ct = crosstab(_banner_frame(), ["segment"], "unit", "ltr", cluster="account")
    assert list(ct.cells.columns) == [
        *["segment", "unit", "letter", "n", "n_clusters", "estimate", "se", "ci_low"],
        *["ci_high", "suppressed", "suppression", "letters"],
    ]
    assert list(ct.tests.columns) == [
        *["segment", "column_a", "column_b", "letter_a", "letter_b", "n_a", "n_b"],
        *["estimate_a", "estimate_b", "diff", "se", "t", "dof", "p_value", "q_value"],
        "significant",
    ]
    assert ct.cells["unit"].tolist() == [TOTAL, *UNITS] * 2


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"measure": "nope"}, "missing column(s) 'nope'"),
        ({"statistic": "median"}, "'statistic' parameter of crosstab must be one of 'nps'"),
        ({"correction": "fdr"}, "'correction' parameter of crosstab must be one of 'fdr_bh'"),
        ({"min_n": 0}, "The 'min_n' parameter of crosstab must be an int >= 1; got 0."),
        ({"alpha": 1.5}, "The 'alpha' parameter of crosstab must be a float in (0, 1)"),
        ({"statistic": "top_box"}, "statistic='top_box' needs the scale of column 'ltr'"),
        ({"rows": "unit"}, "must name different columns"),
        ({"rows": []}, "rows must name at least one column"),
        ({"statistic": "top_box", "scale": (0, 10), "boxes": 11}, "boxes: expected"),
    ],
)
def test_invalid_input_says_what_was_expected(kwargs: dict, message: str) -> None:
    args = {"rows": "segment", "columns": "unit", "measure": "ltr"} | kwargs
    with pytest.raises(DataError) as err:
        crosstab(_banner_frame(), **args)
    assert message in str(err.value)


def test_out_of_scale_nps_value_is_named() -> None:
    df = _banner_frame()
    df.loc[7, "ltr"] = 11
    with pytest.raises(DataError, match=r"column 'ltr': expected whole numbers on the 0-10 scale"):
        crosstab(df, "segment", "unit", "ltr", statistic="nps")
