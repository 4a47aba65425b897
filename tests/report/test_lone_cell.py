"""Ticket tables by product shown beside those by month, in every unit's report and in the global
summary: no small cell can be worked out, in one report or across reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csatlib.report.context import protect_cells, ticket_protection
from csatlib.report.tables import PROTECTS_TEXT, transaction_display
from csatlib.stats.scores import transaction_summary


def _tickets(products: dict[str, int], months: dict[str, int], unit: str = "DE") -> pd.DataFrame:
    n = sum(products.values())
    assert n == sum(months.values())
    rng = np.random.default_rng(abs(hash(unit)) % 1000)
    return pd.DataFrame(
        {
            "country": unit,
            "region": "EMEA",
            "product": np.repeat(list(products), list(products.values())),
            "month": rng.permutation(np.repeat(list(months), list(months.values()))),
            "account": [f"{unit}{i % 25}" for i in range(n)],
            "csat": rng.integers(1, 6, n).astype(float),
        }
    )


def _unit_tables(df: pd.DataFrame, protection: dict, unit: str = "DE") -> tuple[pd.DataFrame, ...]:
    mine = df.loc[df["country"] == unit]
    months = transaction_summary(mine, by="month", cluster="account", min_n=30)
    products = transaction_summary(mine, by="product", cluster="account", min_n=30)
    return (
        protect_cells(products, protection, kind="product", unit=unit, by="product"),
        protect_cells(months, protection, kind="month", unit=unit, by="month"),
    )


def _one_unit(df: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """A unit's two tables, no study-wide table beside them."""
    protection = ticket_protection(df, None, product="product", score="csat", min_n=30)
    return _unit_tables(df, protection)


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
    products, months = _one_unit(df)
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
    products, months = _one_unit(df)
    assert list(products["suppression"]) == ["", "", "complementary"]
    assert list(months["suppression"]) == ["", "", "small"]


@pytest.mark.parametrize(
    ("products", "months", "expected"),
    [
        ({"A": 60, "B": 45, "C": 35}, {"m1": 70, "m2": 70}, ["", "", ""]),  # nothing small
        ({"A": 60, "B": 12, "C": 10}, {"m1": 41, "m2": 41}, ["", "small", "small"]),  # two
        ({"A": 60, "B": 45, "C": 12}, {"m1": 97, "m2": 20}, ["", "", "small"]),  # one each
    ],
)
def test_no_cell_is_hidden_where_none_can_be_worked_out(products, months, expected) -> None:
    table, _ = _one_unit(_tickets(products, months))
    assert list(table["suppression"]) == expected


def _study() -> pd.DataFrame:
    """Three countries; Germany's Edge Gateways (20 tickets) is its only small cell."""
    months = {"m1": 50, "m2": 50, "m3": 50}
    return pd.concat(
        [
            _tickets({"Servers": 85, "Managed": 45, "Edge": 20}, months, "DE"),
            _tickets({"Servers": 70, "Managed": 40, "Edge": 40}, months, "FR"),
            _tickets({"Servers": 60, "Managed": 50, "Edge": 40}, months, "IT"),
        ],
        ignore_index=True,
    )


def test_a_hidden_cell_cannot_be_worked_out_from_the_global_summary() -> None:
    """The attack of a reader with every report: the global summary's Edge line minus the
    other countries' Edge lines would be Germany's. Another country's Edge line is hidden
    too, so the difference pools two countries."""
    df = _study()
    protection = ticket_protection(
        df, df, product="product", score="csat", min_n=30, groups=["region", "month"]
    )
    hidden = {k: v for k, v in protection.items() if k[0] == "product"}
    assert hidden[("product", "DE", "Edge")] == "small"
    assert hidden[("product", "DE", "Managed")] == "complementary"  # Germany's own line
    edge = [u for (t, u, r) in hidden if r == "Edge"]
    assert len(edge) >= 2  # another country's Edge goes with it
    other = next(u for u in edge if u != "DE")
    # that country's report shows it hidden, and so something else of its own
    products, _ = _unit_tables(df, protection, other)
    assert products.set_index("product").loc["Edge", "suppression"] == "complementary"
    assert (products["suppression"] != "").sum() >= 2
    # every published relation keeps none or at least two hidden cells
    for product in ("Servers", "Managed", "Edge"):
        assert sum(1 for (t, u, r) in hidden if r == product) != 1
    for unit in ("DE", "FR", "IT"):
        assert sum(1 for (t, u, r) in protection if u == unit) != 1


def test_nothing_is_hidden_without_a_small_cell() -> None:
    """Without a product line or a small cell nothing is hidden anywhere."""
    months = {"m1": 60, "m2": 60}
    df = pd.concat(
        [_tickets({"A": 60, "B": 60}, months, u) for u in ("DE", "FR")], ignore_index=True
    )
    assert ticket_protection(df, df, product="product", score="csat", min_n=30) == {}
    assert ticket_protection(df, df, product=None, score="csat", min_n=30) == {}
