"""A ticket table by product shown beside the one by month: no small cell can be worked out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csatlib.report.context import protect_lone_cell
from csatlib.report.tables import PROTECTS_TEXT, transaction_display
from csatlib.stats.scores import transaction_summary


def _tickets(products: dict[str, int], months: dict[str, int]) -> pd.DataFrame:
    n = sum(products.values())
    assert n == sum(months.values())
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "product": np.repeat(list(products), list(products.values())),
            "month": rng.permutation(np.repeat(list(months), list(months.values()))),
            "account": [f"a{i % 25}" for i in range(n)],
            "csat": rng.integers(1, 6, n),
        }
    )


def _tables(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    months = transaction_summary(df, by="month", cluster="account", min_n=30)
    products = transaction_summary(df, by="product", cluster="account", min_n=30)
    return protect_lone_cell(products, months, min_n=30), months


def _recovered(products: pd.DataFrame, months: pd.DataFrame) -> float:
    """The attack: the months' shown sums give the total; minus the shown products' sums,
    over the hidden products' tickets, is their pooled mean."""
    total = float((months["n"] * months["mean"]).sum())
    shown = products["mean"].notna()
    hidden_n = products.loc[~shown, "n"].sum()
    return (total - float((products.loc[shown, "n"] * products.loc[shown, "mean"]).sum())) / (
        hidden_n
    )


def test_a_lone_small_product_takes_another_with_it() -> None:
    df = _tickets({"A": 60, "B": 45, "C": 12}, {"m1": 40, "m2": 40, "m3": 37})
    products, months = _tables(df)
    assert list(products["suppression"]) == ["", "complementary", "small"]
    assert products.loc[1:, "mean"].isna().all() and products.loc[1:, "suppressed"].all()
    assert list(products["n"]) == [60, 45, 12]  # counts stay
    # what the tables give away is the pooled mean of B and C, not C's
    pooled = df.loc[df["product"].isin(["B", "C"]), "csat"].mean()
    assert _recovered(products, months) == pytest.approx(pooled)
    assert pooled != pytest.approx(df.loc[df["product"] == "C", "csat"].mean())
    shown = transaction_display(products, by=["product"], min_n=30)
    assert shown.loc["B", "Mean"] == PROTECTS_TEXT
    assert shown.loc["C", "Mean"] == "suppressed (n = 12 < 30)"


def test_a_lone_small_month_hides_a_product() -> None:
    """A month below the minimum, every product shown: the products' total minus the shown
    months would be that month; one product is hidden, so the difference mixes two unknowns."""
    df = _tickets({"A": 60, "B": 45, "C": 35}, {"m1": 60, "m2": 60, "m3": 20})
    products, _ = _tables(df)
    assert list(products["suppression"]) == ["", "", "complementary"]


@pytest.mark.parametrize(
    ("products", "months", "expected"),
    [
        ({"A": 60, "B": 45, "C": 35}, {"m1": 70, "m2": 70}, ["", "", ""]),  # nothing small
        ({"A": 60, "B": 12, "C": 10}, {"m1": 41, "m2": 41}, ["", "small", "small"]),  # two
        ({"A": 60, "B": 45, "C": 12}, {"m1": 97, "m2": 20}, ["", "", "small"]),  # one each
    ],
)
def test_no_cell_is_hidden_where_none_can_be_worked_out(products, months, expected) -> None:
    table, _ = _tables(_tickets(products, months))
    assert list(table["suppression"]) == expected
