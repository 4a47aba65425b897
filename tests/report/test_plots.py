"""Every chart has a title with its n and axis labels; suppressed cells show a notice, not data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from csatlib.errors import DataError
from csatlib.report import plots


def _texts(fig: Figure) -> str:
    return " ".join(t.get_text() for t in fig.findobj(match=lambda o: hasattr(o, "get_text")))


def test_score_distribution_has_title_n_and_labels() -> None:
    scores = pd.Series(np.random.default_rng(0).integers(0, 11, 200))
    fig = plots.score_distribution(scores, title="LTR", min_n=30)
    ax = fig.axes[0]
    assert ax.get_title() == "LTR (n = 200)"
    assert ax.get_xlabel() and ax.get_ylabel()
    heights = [p.get_height() for p in ax.patches]
    assert abs(sum(heights) - 100) < 1e-9  # shares of respondents add up to 100%


def test_small_cells_are_suppressed_not_drawn() -> None:
    fig = plots.score_distribution(pd.Series([9, 10, 3]), title="LTR", min_n=30)
    assert "Suppressed: n = 3 is below the minimum of 30" in _texts(fig)
    assert not fig.axes[0].patches


def test_trend_chart_draws_only_the_requested_measures() -> None:
    rows = []
    for measure in ("delivery", "pricing", "support"):
        for wave, value in (("2026-Q1", 7.0), ("2026-Q2", 7.2)):
            rows.append((measure, wave, value, 100))
    trends = pd.DataFrame(rows, columns=["measure", "wave", "value", "n"])
    trends = trends.assign(
        statistic="mean",
        ci_low=trends["value"] - 0.2,
        ci_high=trends["value"] + 0.2,
        suppressed=False,
    )
    fig = plots.trend_chart(trends, title="T", ylabel="Mean", measures=["delivery", "support"])
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["Delivery", "Support"]
    assert "n per wave: 2026-Q1: 100, 2026-Q2: 100" in fig.axes[0].get_title()


def test_importance_performance_chart_names_every_quadrant_and_draws_the_splits() -> None:
    from csatlib.stats.drivers import importance_performance

    ipa = importance_performance(
        pd.Series({"a": 0.2, "b": 0.05, "c": 0.1, "d": 0.02}),
        pd.Series({"a": 7.0, "b": 8.0, "c": 7.5, "d": 6.5}),
    )
    fig = plots.importance_performance_chart(ipa, title="IPA", n=500, min_n=30)
    text = _texts(fig)
    for quadrant in (
        "Concentrate here",
        "Keep up the good work",
        "Low priority",
        "Possible overkill",
    ):
        assert quadrant in text
    ax = fig.axes[0]
    assert ax.get_title() == "IPA (n = 500)"
    points = ax.collections[0].get_offsets()
    assert sorted(map(tuple, np.asarray(points))) == sorted(
        [(7.0, 20.0), (8.0, 5.0), (7.5, 10.0), (6.5, 2.0)]  # importance in R² points
    )
    # the splits are the medians importance_performance() computed: 7.25 and 7.5 R² points
    vertical, horizontal = ax.lines[0].get_xdata(), ax.lines[1].get_ydata()
    assert vertical[0] == pytest.approx(ipa.attrs["performance_split"]) == pytest.approx(7.25)
    assert horizontal[0] == pytest.approx(100 * ipa.attrs["importance_split"])
    assert horizontal[0] == pytest.approx(7.5)
    with pytest.raises(DataError, match="importance_split"):
        plots.importance_performance_chart(ipa.copy().pipe(_without_attrs), title="I", n=5, min_n=1)
    empty = plots.importance_performance_chart(
        ipa.assign(importance=np.nan), title="IPA", n=12, min_n=30
    )
    assert "Suppressed: n = 12 is below the minimum of 30" in _texts(empty)
    assert not empty.axes[0].collections  # no point drawn


def _without_attrs(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs = {}
    return frame


def test_league_chart_names_suppressed_countries_without_a_point() -> None:
    table = pd.DataFrame(
        {
            "country": ["DE", "NA"],
            "n": [400, 16],
            "score": [10.0, np.nan],
            "ci_low": [2.0, np.nan],
            "ci_high": [18.0, np.nan],
            "suppressed": [False, True],
        }
    )
    fig = plots.nps_league_chart(table, title="League", min_n=30)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "NA (n = 16, suppressed)" in labels and "DE (n = 400)" in labels


def test_figure_png_draws_the_figure_at_its_size_with_the_title_as_alt_text() -> None:
    fig = plots.score_distribution(pd.Series([9, 10, 3] * 20), title="LTR <DE>", min_n=30)
    png, metadata = plots.figure_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = (int.from_bytes(png[i : i + 4], "big") for i in (16, 20))
    # not cropped to a tight bounding box: the whole figure, at its own dpi
    assert (width, height) == (round(7.0 * fig.dpi), round(3.6 * fig.dpi))
    assert metadata == {"alt": "LTR <DE> (n = 60)"}  # escaped where HTML is written
    assert plots.figure_png(Figure()) is None  # nothing to show, as IPython does


def test_figure_png_gives_the_pixels_of_savefig_and_keeps_the_layout_engine() -> None:
    # The reference is matplotlib's own savefig(format="png"), on a twin of each figure.
    from io import BytesIO

    from PIL import Image

    def charts() -> list[Figure]:
        trends = pd.DataFrame(
            {
                "measure": ["delivery"] * 3 + ["support"] * 3,
                "wave": ["2026-Q1", "2026-Q2", "2026-Q3"] * 2,
                "value": [7.1, 7.4, 7.2, 6.5, 6.9, 7.3],
                "ci_low": [6.9, 7.2, 7.0, 6.2, 6.6, 7.0],
                "ci_high": [7.3, 7.6, 7.4, 6.8, 7.2, 7.6],
                "n": [120, 130, 125] * 2,
                "suppressed": [False] * 6,
            }
        )
        return [
            plots.score_distribution(pd.Series(list(range(11)) * 9), title="LTR", min_n=30),
            plots.trend_chart(trends, title="Trends", ylabel="Mean rating"),
        ]

    for ours, twin in zip(charts(), charts(), strict=True):
        png, _ = plots.figure_png(ours)
        buffer = BytesIO()
        twin.savefig(buffer, format="png", dpi=twin.dpi)
        mine = np.asarray(Image.open(BytesIO(png)))
        reference = np.asarray(Image.open(buffer))
        assert mine.shape == reference.shape
        assert (mine == reference).all()
        assert ours.get_layout_engine() is not None  # still laid out if drawn again
        assert type(ours.get_layout_engine()) is type(twin.get_layout_engine())


def test_show_inline_registers_the_png_display_in_ipython_only() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    if not InteractiveShell.initialized():
        assert plots.show_inline() is False  # plain Python: nothing to register
    shell = InteractiveShell.instance()
    try:
        assert plots.show_inline() is True
        fig = plots.suppressed_figure("Shown once", n=3, min_n=30)
        data, metadata = shell.display_formatter.format(fig)
        assert data["image/png"][:4] == b"\x89PNG"
        assert metadata["image/png"] == {"alt": "Shown once"}
    finally:
        InteractiveShell.clear_instance()


def _pareto() -> pd.DataFrame:
    """dissatisfaction_pareto() of 80 low ratings: delivery 50, pricing 20, support 10, and a
    suppressed attribute (its figures planted: they must not be drawn)."""
    return pd.DataFrame(
        {
            "n": [200, 180, 150, 12],
            "n_low": [50, 20, 10, 9],
            "share_low": [0.25, 0.1111, 0.0667, 0.75],
            "share_of_all_low": [0.625, 0.25, 0.125, 0.4321],
            "cumulative": [0.625, 0.875, 1.0, 0.4321],
            "vital_few": [True, True, False, True],
            "suppressed": [False, False, False, True],
        },
        index=pd.Index(["delivery", "pricing", "support", "tiny"], name="attribute"),
    )


def test_pareto_chart_draws_each_share_the_cumulative_line_and_the_cutoff() -> None:
    fig = plots.pareto_chart(_pareto(), title="Pareto", min_n=30, labels={"support": "Help"})
    ax, ax2 = fig.axes
    names = [t.get_text() for t in ax.get_xticklabels()]
    assert names == ["Delivery", "Pricing", "Help"]  # the suppressed attribute is not drawn
    assert [p.get_height() for p in ax.patches] == pytest.approx([62.5, 25.0, 12.5])
    colours = [p.get_facecolor()[:3] for p in ax.patches]
    orange, grey = (0xD5 / 255, 0x5E / 255, 0.0), (0xBB / 255,) * 3
    assert colours == [pytest.approx(orange), pytest.approx(orange), pytest.approx(grey)]
    cumulative, cutoff = ax2.lines
    assert list(cumulative.get_ydata()) == pytest.approx([62.5, 87.5, 100.0])
    assert list(cutoff.get_ydata()) == pytest.approx([80.0, 80.0])
    assert ax.get_title() == "Pareto (n = 200)"
    assert ax.get_ylabel() and ax2.get_ylabel() and ax.get_xlabel()
    assert "43.2" not in _texts(fig)


def test_pareto_chart_of_a_suppressed_cell_is_a_notice() -> None:
    fig = plots.pareto_chart(_pareto().assign(n=12, suppressed=True), title="Pareto", min_n=30)
    assert "Suppressed: n = 12 is below the minimum of 30 respondents." in _texts(fig)
    assert not fig.axes[0].patches


def test_attribute_heatmap_annotates_means_and_marks_suppressed_cells() -> None:
    means = pd.DataFrame(
        {"DE": [7.84, 6.21], "NA": [np.nan, np.nan], "FR": [8.05, np.nan]},
        index=pd.Index(["delivery", "pricing"], name="attribute"),
    )
    fig = plots.attribute_heatmap(
        means, title="Heat", labels={"pricing": "Price"}, value_label="Mean rating (1–10)"
    )
    ax = fig.axes[0]
    annotations = [t.get_text() for t in ax.texts]
    assert sorted(a for a in annotations if a != "s") == ["6.2", "7.8", "8.1"]
    assert annotations.count("s") == 3  # one per suppressed cell, no number
    marks = sorted(t.get_position() for t in ax.texts if t.get_text() == "s")
    assert marks == [(1.5, 0.5), (1.5, 1.5), (2.5, 1.5)]  # (column + 0.5, row + 0.5)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Delivery", "Price"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["DE", "NA", "FR"]
    assert fig.axes[1].get_ylabel() == "Mean rating (1–10)"  # the colour bar
    assert ax.get_title() == "Heat" and "suppressed" in ax.get_xlabel()


def test_trend_chart_leaves_a_suppressed_cell_out() -> None:
    trends = pd.DataFrame(
        {
            "measure": ["delivery"] * 3,
            "wave": ["2026-Q1", "2026-Q2", "2026-Q3"],
            "value": [7.1, 6.4321, 7.3],  # the suppressed Q2 value is planted
            "ci_low": [6.9, 6.0, 7.1],
            "ci_high": [7.3, 6.9, 7.5],
            "n": [120, 12, 125],
            "suppressed": [False, True, False],
        }
    )
    fig = plots.trend_chart(trends, title="T", ylabel="Mean")
    line = fig.axes[0].lines[0]
    assert list(line.get_xdata()) == [0, 2] and list(line.get_ydata()) == [7.1, 7.3]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
    ]
