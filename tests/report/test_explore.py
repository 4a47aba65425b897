"""csatlib.report.explore: the cut an analyst picks (table and chart), and the widgets that pick it.

The pure part is checked against :func:`csatlib.stats.crosstab.crosstab` itself; the widgets are
built without a browser and driven by setting their ``value``, as JupyterLab would.
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd
import pytest

from csatlib import config
from csatlib.errors import DataError
from csatlib.ingest.extract import write_extract
from csatlib.report import explore
from csatlib.stats.crosstab import banner_display, crosstab


def _study(n: int = 600, seed: int = 11) -> pd.DataFrame:
    """A processed-like table: segments, countries, two waves, a business unit, accounts."""
    rng = np.random.default_rng(seed)
    # the last 40 respondents are the public sector, ten of whom answered the recommend question
    segment = [*rng.choice(["Enterprise", "<b>SMB</b>"], n - 40), *["Public"] * 40]
    df = pd.DataFrame(
        {
            "country": pd.Categorical(rng.choice(["DE", "FR"], n)),
            "segment": pd.Categorical(segment),
            "wave": pd.Categorical(
                rng.choice(["2026-Q1", "2026-Q2"], n), ["2026-Q1", "2026-Q2"], ordered=True
            ),
            "business_unit": pd.Categorical(rng.choice(["Tools", "Parts"], n)),
            "note": pd.array([f"free {i}" for i in range(n)], dtype="string"),
            "recommend": pd.array(rng.integers(0, 11, n), dtype="Int64"),
            "delivery": pd.array(rng.integers(1, 6, n), dtype="Int64"),
            "account_key": [f"acct {i % 40}" for i in range(n)],
        }
    )
    df.loc[df.index[-30:], "recommend"] = pd.NA  # few answers: suppressed cells
    df.attrs = {
        "roles": {
            "country": "country",
            "segment": "segment",
            "wave": "wave",
            "business_unit": "other",
            "note": "other",
            "recommend": "nps",
            "delivery": "attribute",
        },
        "labels": {"recommend": "Would recommend", "delivery": "Delivery", "wave": "Wave"},
        "scales": {"recommend": [0, 10], "delivery": [1, 5]},
    }
    return df


# --------------------------------------------------------------------------- the choices


def test_choices_come_from_the_roles() -> None:
    df = _study()
    assert explore.dimensions(df) == {
        "Segment": "segment",
        "Country": "country",
        "Wave": "wave",
        "Business unit": "business_unit",  # typed 'other'; the untyped note is no dimension
    }
    assert explore.measures(df) == {"Would recommend": "recommend", "Delivery": "delivery"}
    assert list(explore.statistics(df, "recommend").values()) == ["nps", "mean", "top_box"]
    assert explore.statistics(df, "delivery") == {
        "Mean (1-5)": "mean",
        "Top-2 box (share 4-5)": "top_box",
    }
    table = explore.choices(df)
    assert table["choice"].tolist() == ["dimension"] * 4 + ["measure"] * 2


# --------------------------------------------------------------------------- one cut


def test_the_view_is_the_crosstab_clustered_by_account_with_country_names() -> None:
    df = _study()
    view = explore.explore_view(df, dimension="country", rows="segment", measure="recommend")
    expected = crosstab(
        df, "segment", "country", "recommend", statistic="nps", cluster="account_key"
    )
    assert view.crosstab.cells.equals(expected.cells)
    shown = banner_display(expected, labels={"DE": "Germany", "FR": "France"})
    assert view.table.to_numpy().tolist() == shown.to_numpy().tolist()
    assert list(view.table.columns) == ["Total", "Germany (A)", "France (B)"]
    assert view.table.index.name == "Segment"
    assert view.title == "NPS of Would recommend: Country by Segment"
    assert "40 accounts" in view.note
    assert view.crosstab.cluster == "account_key"


def test_defaults_all_respondents_and_the_filter() -> None:
    df = _study()
    view = explore.explore_view(df, filter_column="wave", filter_values=["2026-Q2"], min_n=20)
    assert view.crosstab.column == "segment"  # the first dimension
    assert view.crosstab.statistic == "nps"  # of the recommend question
    assert view.table.index.tolist() == [explore.ALL]
    expected = int(df.loc[df["wave"] == "2026-Q2", "recommend"].notna().sum())
    total = view.crosstab.cells.loc[view.crosstab.cells["letter"] == "", "n"].item()
    assert total == expected
    assert view.title.endswith("(Wave: 2026-Q2)")
    unfiltered = explore.explore_view(df, filter_column="wave", filter_values=[])
    assert unfiltered.crosstab.cells["n"].iloc[0] == df["recommend"].notna().sum()


def test_without_accounts_the_respondents_are_independent() -> None:
    df = _study().drop(columns="account_key")
    view = explore.explore_view(df, measure="delivery", statistic="top_box")
    assert view.crosstab.cluster is None
    assert "accounts" not in view.note


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dimension": "segment", "rows": "segment"}, "rows and banner are both 'segment'"),
        ({"measure": "delivery", "statistic": "nps"}, "NPS is computed from the 0-10"),
        ({"dimension": "shoe_size"}, "dimension must be one of"),
        ({"filter_column": "wave", "filter_values": ["1999-Q1"]}, "crosstab: expected"),
    ],
)
def test_an_impossible_cut_says_why(kwargs: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        explore.explore_view(_study(), **kwargs)


def test_chart_draws_every_cell_shown_and_no_suppressed_one() -> None:
    df = _study()
    view = explore.explore_view(
        df, dimension="segment", rows="country", measure="recommend", min_n=30
    )
    cells = view.crosstab.cells.loc[view.crosstab.cells["letter"] != ""]
    ax = view.figure.axes[0]
    widths = np.array([p.get_width() for p in ax.patches])
    assert len(widths) == len(cells)  # one bar per row group x banner column
    drawn = widths[~np.isnan(widths)]
    assert np.allclose(sorted(drawn), sorted(cells.loc[~cells["suppressed"], "estimate"]))
    notes = [t.get_text() for t in ax.texts if t.get_text().startswith(("suppressed", "no "))]
    assert len(notes) == int(cells["suppressed"].sum()) >= 1
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "<b>SMB</b> (A)",  # categories in sorted order: "<" before letters
        "Enterprise (B)",
        "Public (C)",
    ]
    assert [t.get_text() for t in view.figure.legends[0].get_texts()] == ["Germany", "France"]


def test_top_box_bars_are_in_percent() -> None:
    view = explore.explore_view(_study(), measure="delivery", statistic="top_box")
    cells = view.crosstab.cells.loc[view.crosstab.cells["letter"] != ""]
    widths = [p.get_width() for p in view.figure.axes[0].patches]
    assert np.allclose(widths, 100 * cells["estimate"].to_numpy(), equal_nan=True)
    assert "%" in view.figure.axes[0].get_xlabel()


def test_load_responses_reads_an_extract_relative_to_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    df = _study().drop(columns="account_key")
    df["account"] = pd.array([f"Firm {i % 7}" for i in range(len(df))], dtype="string")
    df.attrs["roles"]["account"] = "account"
    write_extract(df, tmp_path / "reports" / "extract", seed=0)
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)
    loaded = explore.load_responses("reports/extract")
    assert loaded["account_key"].nunique() == 7
    assert explore.explore_view(loaded).crosstab.cluster == "account_key"


# --------------------------------------------------------------------------- the widgets


def _widget(box: widgets.Widget, kind: type, description: str | None = None) -> widgets.Widget:
    """The one widget of ``kind`` (and ``description``) inside ``box``."""
    found, todo = [], [box]
    while todo:
        w = todo.pop()
        todo.extend(getattr(w, "children", ()))
        if isinstance(w, kind) and (description is None or w.description == description):
            found.append(w)
    assert len(found) == 1, (kind, description, found)
    return found[0]


def _table(box: widgets.Widget) -> str:
    return next(
        w.value for w in box.children if isinstance(w, widgets.HTML) and "<table" in w.value
    )


def test_explorer_builds_and_starts_at_the_latest_wave() -> None:
    box = explore.explorer(_study(), min_n=20)
    assert isinstance(box, widgets.VBox)
    assert _widget(box, widgets.Dropdown, "Banner").value == "segment"
    assert _widget(box, widgets.Dropdown, "Filter").value == "wave"
    assert _widget(box, widgets.SelectMultiple, "Values").value == ("2026-Q2",)
    assert _widget(box, widgets.Dropdown, "Statistic").value == "nps"
    assert "Enterprise (B)" in _table(box)
    assert "&lt;b&gt;SMB&lt;/b&gt; (A)" in _table(box)  # escaped, never markup
    assert bytes(_widget(box, widgets.Image).value).startswith(b"\x89PNG")


def test_changing_a_control_renders_the_new_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    box = explore.explorer(_study(), min_n=20)
    calls = []
    view = explore.explore_view
    monkeypatch.setattr(explore, "explore_view", lambda *a, **k: calls.append(k) or view(*a, **k))
    _widget(box, widgets.Dropdown, "Banner").value = "country"
    assert "Germany (A)" in _table(box) and "Enterprise (B)" not in _table(box)
    _widget(box, widgets.Dropdown, "Measure").value = "delivery"
    statistic = _widget(box, widgets.Dropdown, "Statistic")
    assert "nps" not in [value for _, value in statistic.options]
    assert statistic.value == "mean"
    assert len(calls) == 2  # one render per change, not one per widget it updated
    assert calls[-1]["measure"] == "delivery" and calls[-1]["statistic"] == "mean"
    _widget(box, widgets.Dropdown, "Filter").value = "business_unit"
    assert _widget(box, widgets.SelectMultiple, "Values").options == (
        ("Parts", "Parts"),
        ("Tools", "Tools"),
    )
    assert calls[-1]["filter_values"] == ()
    _widget(box, widgets.SelectMultiple, "Values").value = ("Tools",)
    assert calls[-1]["filter_values"] == ("Tools",)


def test_an_impossible_cut_is_explained_in_the_widget() -> None:
    box = explore.explorer(_study(), min_n=20)
    _widget(box, widgets.Dropdown, "Rows").value = "segment"  # the banner too
    note = box.children[2].value
    assert "Cannot show this cut" in note and "rows and banner are both" in note
    assert not any(isinstance(w, widgets.HTML) and "<table" in w.value for w in box.children)
    assert bytes(_widget(box, widgets.Image).value) == b""
    _widget(box, widgets.Dropdown, "Rows").value = explore.ALL
    assert "<table" in _table(box)


def test_explorer_checks_min_n() -> None:
    with pytest.raises(DataError, match="'min_n' parameter of explorer must be an int >= 1"):
        explore.explorer(_study(), min_n=0)


def test_a_cut_counts_own_customers_unless_it_compares_the_brands() -> None:
    """As every report: competitors' customers are left out of a cut (the default "Total" NPS
    once mixed them in), and compared when the brand is the banner."""
    df = _study()
    df["brand"] = pd.Categorical(np.where(np.arange(len(df)) % 3 == 0, "Rival", "Ours"))
    df["competitor"] = df["brand"].astype(str).eq("Rival").to_numpy()
    df.attrs["roles"] = {**df.attrs["roles"], "brand": "brand"}
    view = explore.explore_view(df, dimension="country", min_n=20)
    own = df.loc[~df["competitor"], "recommend"].notna().sum()
    cells = view.crosstab.cells
    assert cells.loc[cells["letter"] != "", "n"].sum() == own  # the banner's columns
    assert "Own customers only" in view.note
    brands = explore.explore_view(df, dimension="brand", min_n=20)
    cells = brands.crosstab.cells
    assert cells.loc[cells["letter"] != "", "n"].sum() == df["recommend"].notna().sum()
    assert "Own customers only" not in brands.note
