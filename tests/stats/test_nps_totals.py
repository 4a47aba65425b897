"""Tests of csatlib.stats.nps_totals: NPS from group x account totals equals nps_by_group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csatlib.errors import DataError
from csatlib.stats.nps import nps_by_group
from csatlib.stats.nps_totals import nps_from_totals


def _respondents(n: int = 4000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    account = rng.integers(0, 150, n)
    country = np.array(["DE", "FR", "JP"])[account % 3]  # accounts nested in countries
    wave = np.array(["2026-Q1", "2026-Q2"])[rng.integers(0, 2, n)]
    # respondents of one account answer alike: an account effect
    latent = rng.normal(7 + rng.normal(0, 1.2, 150)[account], 1.8)
    ltr = pd.array(np.clip(np.rint(latent), 0, 10).astype(int), dtype="Int64")
    ltr[rng.random(n) < 0.05] = pd.NA
    frame = pd.DataFrame(
        {"country": country, "wave": wave, "account": account.astype(str), "ltr": ltr}
    )
    frame.loc[rng.random(n) < 0.01, "country"] = None  # a missing key: only in C and N
    return frame


def _totals(df: pd.DataFrame) -> pd.DataFrame:
    """What an out-of-core engine sums per group x account (here pandas)."""
    score = df["ltr"].astype("Float64")
    work = df.assign(
        rows=1,
        answered=score.notna().astype(int),
        promoters=(score >= 9).fillna(False).astype(int),
        detractors=(score <= 6).fillna(False).astype(int),
    )
    keys = ["country", "wave", "account"]
    return work.groupby(keys, dropna=False, as_index=False)[
        ["rows", "answered", "promoters", "detractors"]
    ].sum()


def test_totals_give_exactly_the_clustered_table_of_the_respondents() -> None:
    df = _respondents()
    expected = nps_by_group(df, ["country", "wave"], score="ltr", cluster="account", min_n=30)
    found = nps_from_totals(_totals(df), ["country", "wave"], cluster="account", min_n=30)
    pd.testing.assert_frame_equal(
        found.reset_index(drop=True), expected.reset_index(drop=True), rtol=1e-12, atol=1e-12
    )
    assert len(found) == 6 and found["deff"].gt(1).all()  # the account effect shows


def test_a_subset_of_groups_needs_the_whole_designs_c_and_n() -> None:
    df = _respondents()
    totals = _totals(df)
    expected = nps_by_group(df, ["country", "wave"], score="ltr", cluster="account")
    de = totals.loc[totals["country"] == "DE"]
    found = nps_from_totals(
        de,
        ["country", "wave"],
        cluster="account",
        n_psu=df["account"].nunique(),
        n_rows=len(df),
    )
    want = expected.loc[expected["country"] == "DE"].reset_index(drop=True)
    pd.testing.assert_frame_equal(found, want, rtol=1e-12, atol=1e-12)


def test_repeated_rows_are_summed_and_bad_counts_are_refused() -> None:
    df = _respondents(800)
    totals = _totals(df)
    doubled = pd.concat([totals.assign(rows=0, answered=0, promoters=0, detractors=0), totals])
    pd.testing.assert_frame_equal(
        nps_from_totals(doubled, "wave", cluster="account", n_psu=df["account"].nunique()),
        nps_from_totals(totals, "wave", cluster="account"),
    )
    bad = totals.copy()
    bad.loc[bad.index[3], "promoters"] = bad.loc[bad.index[3], "answered"] + 1
    with pytest.raises(DataError, match="promoters \\+ detractors <= answered <= rows"):
        nps_from_totals(bad, "wave", cluster="account")
    bad = totals.copy()
    bad.loc[bad.index[2], "rows"] = -1
    with pytest.raises(DataError, match="column 'rows', row 2: expected a whole count"):
        nps_from_totals(bad, "wave", cluster="account")
    bad = totals.copy()
    bad.loc[bad.index[0], "account"] = None
    with pytest.raises(DataError, match="a key of its own"):
        nps_from_totals(bad, "wave", cluster="account")
