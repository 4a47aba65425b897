"""Every chart has a title with its n and axis labels; suppressed cells show a notice, not data."""

from __future__ import annotations

import warnings

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
    assert fig.dpi == 200 and (width, height) == (1400, 720)  # twice the 100 dpi of the page
    # shown at the size of 100 dpi, so the page's layout stays as it was
    assert metadata == {"alt": "LTR <DE> (n = 60)", "width": 700, "height": 360}
    assert plots.figure_png(Figure()) is None  # nothing to show, as IPython does


def test_figure_png_gives_the_pixels_of_savefig_in_a_palette_and_keeps_the_layout() -> None:
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
        image = Image.open(BytesIO(png))
        assert image.mode == "P" and len(image.getcolors()) <= 256  # a palette PNG
        mine = np.asarray(image.convert("RGBA"), dtype=int)
        reference = np.asarray(Image.open(buffer).convert("RGBA"), dtype=int)
        assert mine.shape == reference.shape
        # the palette rounds anti-aliased edges to a near colour; the rest stays exact
        assert np.abs(mine - reference).mean() < 1.0  # of 255 per channel
        assert (mine == reference).all(axis=-1).mean() > 0.9
        assert len(png) < len(buffer.getvalue()) / 2
        assert ours.get_layout_engine() is not None  # still laid out if drawn again
        assert type(ours.get_layout_engine()) is type(twin.get_layout_engine())


def test_the_palette_is_the_pixel_by_pixel_count_of_colours() -> None:
    # An independent computation of the palette rule on every pixel (np.unique, no runs): the
    # 256 most frequent colours (ties: first seen first), every other colour the nearest of
    # them (squared RGB distance, ties: the more frequent). The chart has thousands of colours.
    from io import BytesIO

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    rng = np.random.default_rng(7)
    fig = Figure(figsize=(6, 3), dpi=120)
    ax = fig.add_subplot()
    ax.imshow(rng.random((30, 60)), extent=(0, 60, 0, 10), cmap="viridis")
    for k in range(4):
        ax.plot(rng.normal(size=60).cumsum(), linewidth=2)
        ax.fill_between(range(60), -k, k, alpha=0.2)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    rgb = rgba[..., :3].reshape(-1, 3).astype(np.int64)
    keys = rgb[:, 0] * 65536 + rgb[:, 1] * 256 + rgb[:, 2]
    _, first, inverse, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    assert len(counts) > 1000
    kept = np.lexsort((first, -counts))[:256]
    colours, palette = rgb[first], rgb[first[kept]]
    distance = ((colours[:, None, :] - palette[None, :, :]) ** 2).sum(axis=-1)
    expected = palette[distance.argmin(axis=1)][inverse.ravel()]
    image = Image.open(BytesIO(plots._palette_png(canvas.buffer_rgba())))
    assert image.mode == "P"
    got = np.asarray(image.convert("RGB"), dtype=np.int64).reshape(-1, 3)
    assert (got == expected).all()


def test_show_inline_registers_the_displays_in_ipython_only() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    if not InteractiveShell.initialized():
        assert plots.show_inline() is False  # plain Python: nothing to register
    shell = InteractiveShell.instance()
    try:
        assert plots.show_inline() is True
        fig = plots.suppressed_figure("Shown once", n=3, min_n=30)
        data, metadata = shell.display_formatter.format(fig)
        assert "image/png" not in data  # drawn once, as SVG (tests/report/test_svg.py)
        assert metadata["image/svg+xml"] == {"alt": "Shown once", "width": 700, "height": 160}
        fig.axes[0].imshow(np.eye(2))  # an image: matplotlib draws the figure, as a PNG
        data, metadata = shell.display_formatter.format(fig)
        assert data["image/png"][:4] == b"\x89PNG" and "image/svg+xml" not in data
        assert metadata["image/png"] == {"alt": "Shown once", "width": 700, "height": 160}
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


def test_pareto_chart_with_too_few_low_scores_in_all_says_so_and_draws_no_bar() -> None:
    few = _pareto().assign(vital_few=False)
    few.attrs.update(total_low=14, min_n=30, ranked=False)  # dissatisfaction_pareto's verdict
    fig = plots.pareto_chart(few, title="Pareto", min_n=30)
    assert "14 low scores in all this wave: too few to rank (fewer than 30)." in _texts(fig)
    assert not fig.axes[0].patches and len(fig.axes) == 1  # no bar, no cumulative line
    assert fig.axes[0].get_title() == "Pareto (n = 200)"


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


def test_a_one_country_heatmap_has_room_for_its_labels_and_title() -> None:
    means = pd.DataFrame(
        {"DE": [7.84, 6.21]}, index=pd.Index(["delivery", "total_cost"], name="attribute")
    )
    title = "Mean rating by attribute and country, 2026-Q3 (1,234 respondents)"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "constrained_layout not applied"
        fig = plots.attribute_heatmap(
            means, title=title, labels={"total_cost": "Total cost of ownership"}, value_label="M"
        )
        assert plots.figure_png(fig) is not None
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    assert ax.get_title().replace("\n", " ") == title  # wrapped, every word kept
    for text in [ax.title, ax.xaxis.label, *ax.get_yticklabels()]:
        box = text.get_window_extent(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, text.get_text()
    assert ax.bbox.width >= 2.5 * fig.dpi  # inches of cells, not what the labels leave


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


# --- colour-blind-safe colours -----------------------------------------------------------------


def _is_green(colour: str) -> bool:
    from matplotlib.colors import rgb_to_hsv, to_rgb

    hue, saturation, _ = rgb_to_hsv(to_rgb(colour))
    return saturation > 0.25 and 70 / 360 < hue < 170 / 360


def test_no_category_is_coloured_green_against_red() -> None:
    colours = [*plots.PALETTE.values(), *plots._VERDICT_COLOURS.values()]
    assert not [c for c in colours if _is_green(c)]
    fig = plots.score_distribution(pd.Series(list(range(11)) * 5), title="LTR", min_n=30)
    assert not [p for p in fig.axes[0].patches if _is_green(p.get_facecolor())]


def test_attribute_heatmap_is_purple_orange_in_the_given_column_order() -> None:
    from matplotlib.colors import rgb_to_hsv, to_hex, to_rgb

    means = pd.DataFrame(
        {"DE": [7.8, 6.2], "FR": [8.0, np.nan], "NA": [np.nan, np.nan]},
        index=pd.Index(["delivery", "pricing"], name="attribute"),
    )
    fig = plots.attribute_heatmap(means, title="Heat", columns=["FR", "NA", "DE"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["FR", "NA", "DE"]
    marks = sorted(t.get_position() for t in ax.texts if t.get_text() == "s")
    assert marks == [(0.5, 1.5), (1.5, 0.5), (1.5, 1.5)]  # FR pricing, NA both: moved with columns
    # seaborn recentres the map (a new, unnamed one): judge its colours, low to high
    cmap = ax.collections[0].get_cmap()
    colours = [to_hex(cmap(v)) for v in np.linspace(0, 1, 65)]
    assert not [c for c in colours if _is_green(c)]
    low, high = (rgb_to_hsv(to_rgb(colours[i]))[0] * 360 for i in (0, -1))
    assert 15 < low < 45 and 250 < high < 300  # orange below the centre, purple above
    with pytest.raises(DataError, match=r"columns \['XX'\] are not in"):
        plots.attribute_heatmap(means, title="Heat", columns=["DE", "XX"])


# --- labels that do not overlap ----------------------------------------------------------------


def test_repel_moves_overlapping_boxes_apart_and_leaves_the_others() -> None:
    bottoms = plots._repel_labels(
        np.array([0.0, 0.1, 5.0]),  # the third box is far to the right of the others
        np.array([1.0, 1.01, 1.0]),
        np.array([1.0, 1.0, 1.0]),
        np.array([0.5, 0.5, 0.5]),
    )
    assert bottoms[1] - bottoms[0] >= 0.5
    assert (bottoms[0] + bottoms[1]) / 2 == pytest.approx(1.005)  # moved symmetrically
    assert bottoms[2] == 1.0


def test_importance_performance_labels_of_nearby_points_are_a_text_height_apart() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from csatlib.stats.drivers import importance_performance

    ipa = importance_performance(
        pd.Series({"delivery": 0.100, "pricing": 0.1002, "support": 0.3, "quality": 0.02}),
        pd.Series({"delivery": 7.0, "pricing": 7.001, "support": 8.0, "quality": 6.0}),
    )
    fig = plots.importance_performance_chart(ipa, title="IPA", n=500, min_n=30)
    plots.figure_png(fig)  # laid out and drawn as in a report
    ax = fig.axes[0]
    texts = {t.get_text(): t for t in ax.texts}
    renderer = FigureCanvasAgg(fig).get_renderer()
    to_data = ax.transData.inverted()
    (_, bottom), (_, top) = to_data.transform(texts["Delivery"].get_window_extent(renderer))
    height = top - bottom
    y_delivery = texts["Delivery"].get_position()[1]
    y_pricing = texts["Pricing"].get_position()[1]
    assert abs(y_delivery - y_pricing) >= height * 0.999
    # the points themselves stay where the data put them
    assert (7.0, 10.0) in map(tuple, np.round(np.asarray(ax.collections[0].get_offsets()), 6))


# --- small multiples, NPS by wave, transactions ------------------------------------------------


def _trends(measures: tuple[str, ...] = ("delivery", "pricing", "support")) -> pd.DataFrame:
    rows = [
        (m, w, 7.0 + 0.1 * i + 0.2 * k, 100)
        for k, m in enumerate(measures)
        for i, w in enumerate(("2026-Q1", "2026-Q2", "2026-Q3"))
    ]
    trends = pd.DataFrame(rows, columns=["measure", "wave", "value", "n"])
    return trends.assign(
        statistic="mean",
        ci_low=trends["value"] - 0.3,
        ci_high=trends["value"] + 0.3,
        suppressed=False,
    )


def _drawn_values(fig: Figure) -> np.ndarray:
    """Every y value drawn as a line or a band in the figure."""
    values = [line.get_ydata() for ax in fig.axes for line in ax.lines]
    values += [p.vertices[:, 1] for ax in fig.axes for c in ax.collections for p in c.get_paths()]
    return np.concatenate([np.asarray(v, dtype=float) for v in values])


def test_small_multiples_draw_one_panel_per_measure_on_one_y_axis() -> None:
    trends = _trends(("delivery", "pricing", "support", "quality", "speed"))
    trends.loc[(trends["measure"] == "pricing") & (trends["wave"] == "2026-Q2"), "value"] = 1.2345
    trends.loc[trends["value"] == 1.2345, "suppressed"] = True
    fig = plots.small_multiples_chart(
        trends,
        measures=["support", "delivery", "pricing", "quality", "speed"],
        labels={"support": "Help"},
        title="Attributes",
        ylabel="Mean",
        ncols=2,
    )
    assert len(fig.axes) == 5  # the sixth cell of the 3 x 2 grid is removed
    assert [ax.get_title() for ax in fig.axes] == [
        "Help",
        "Delivery",
        "Pricing",
        "Quality",
        "Speed",
    ]
    assert len({ax.get_ylim() for ax in fig.axes}) == 1  # the same y-axis in every panel
    delivery = fig.axes[1].lines[0]
    assert list(delivery.get_ydata()) == pytest.approx([7.0, 7.1, 7.2])
    pricing = fig.axes[2].lines[0].get_ydata()
    assert np.isnan(pricing[1]) and not np.isnan(pricing[[0, 2]]).any()  # a gap
    assert not np.isclose(_drawn_values(fig), 1.2345).any()
    assert "n per wave: 2026-Q1: 100" in plots.figure_title(fig)
    with pytest.raises(DataError, match=r"measures \['nope'\] have no 'mean' rows"):
        plots.small_multiples_chart(
            trends, measures=["nope"], labels=None, title="T", ylabel="Mean"
        )


@pytest.mark.parametrize("waves", [("2026-Q1", "2026-Q2"), ("FY2025 first half", "FY2026 H1")])
def test_small_multiples_layout_keeps_every_text_on_the_figure_and_apart(waves) -> None:
    measures = ("a", "b", "c", "d", "e", "f")
    trends = _trends(measures)
    trends = trends.loc[trends["wave"].isin(["2026-Q1", "2026-Q2"])]
    trends["wave"] = trends["wave"].map(dict(zip(["2026-Q1", "2026-Q2"], waves, strict=True)))
    labels = {"a": "Responsiveness of the technical support team when escalated", "b": "Price"}
    fig = plots.small_multiples_chart(
        trends, measures=list(measures), labels=labels, title="Attributes", ylabel="Mean"
    )
    assert isinstance(fig.get_layout_engine(), plots.PanelGridLayout)
    assert plots.figure_png(fig) is not None  # laid out and drawn
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    texts = [fig._suptitle, fig._supxlabel, fig._supylabel]
    texts += [ax.title for ax in fig.axes]
    texts += [t for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()]
    for text in (t for t in texts if t.get_visible() and t.get_text()):
        box = text.get_window_extent(renderer)
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, text.get_text()
        assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, text.get_text()
    titles = [ax.title.get_window_extent(renderer) for ax in fig.axes]
    for k, box in enumerate(titles):  # titles clear of each other and of every panel
        assert not any(box.overlaps(other) for other in titles[k + 1 :])
        assert not any(box.overlaps(ax.bbox) for ax in fig.axes)
    assert "\n" in fig.axes[0].get_title()  # a long label is wrapped
    title = fig._suptitle.get_window_extent(renderer)
    assert not any(title.overlaps(box) for box in titles)


def test_nps_by_wave_chart_leaves_a_suppressed_wave_out_and_says_so() -> None:
    trends = pd.DataFrame(
        {
            "measure": ["likelihood_to_recommend"] * 3 + ["delivery"] * 3,
            "statistic": ["nps"] * 3 + ["mean"] * 3,
            "wave": ["2026-Q1", "2026-Q2", "2026-Q3"] * 2,
            "value": [12.0, -43.21, 18.0, 7.0, 7.1, 7.2],  # the suppressed Q2 NPS is planted
            "ci_low": [4.0, -60.0, 10.0, 6.8, 6.9, 7.0],
            "ci_high": [20.0, -20.0, 26.0, 7.2, 7.3, 7.4],
            "n": [300, 12, 310, 300, 12, 310],
            "suppressed": [False, True, False, False, True, False],
        }
    )
    fig = plots.nps_by_wave_chart(trends, title="NPS", min_n=30)
    ax = fig.axes[0]
    line = ax.lines[0].get_ydata()
    assert line[0] == 12.0 and np.isnan(line[1]) and line[2] == 18.0
    assert not np.isclose(_drawn_values(fig), -43.21).any()
    assert not np.isclose(_drawn_values(fig), -60.0).any()
    assert "2026-Q2" in ax.get_xlabel() and "suppressed" in ax.get_xlabel()
    assert "n per wave: 2026-Q1: 300, 2026-Q2: 12, 2026-Q3: 310" in ax.get_title()
    with pytest.raises(DataError, match="NPS rows of"):
        plots.nps_by_wave_chart(
            trends.assign(statistic="nps"), title="NPS", min_n=30
        )  # two measures, none chosen


def _transactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": ["2026-01", "2026-02", "2026-03"],
            "n": [80, 9, 75],
            "mean": [4.1, 2.345, 4.3],  # the suppressed February is planted
            "ci_low": [3.9, 1.5, 4.1],
            "ci_high": [4.3, 3.1, 4.5],
            "top_box": [0.8, 0.1234, 0.85],
            "top_box_ci_low": [0.7, 0.05, 0.76],
            "top_box_ci_high": [0.87, 0.3, 0.91],
            "suppressed": [False, True, False],
        }
    )


@pytest.mark.parametrize(
    ("statistic", "drawn", "planted"),
    [("mean", [4.1, 4.3], [2.345, 1.5, 3.1]), ("top_box", [80.0, 85.0], [12.34, 5.0, 30.0])],
)
def test_transaction_chart_shows_suppressed_months_as_gaps_with_a_note(
    statistic: str, drawn: list[float], planted: list[float]
) -> None:
    fig = plots.transaction_chart(_transactions(), title="Tickets", min_n=30, statistic=statistic)
    ax = fig.axes[0]
    line = ax.lines[0].get_ydata()
    assert [line[0], line[2]] == pytest.approx(drawn) and np.isnan(line[1])
    for value in planted:
        assert not np.isclose(_drawn_values(fig), value).any()
    assert "2026-02" in ax.get_xlabel() and "fewer than 30" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026-01", "2026-02", "2026-03"]
    assert ax.get_title() == "Tickets (n = 164 transactions)"
    assert ax.get_ylabel() and fig.dpi == plots.RENDER_DPI


def test_a_month_hidden_to_protect_a_small_cell_is_not_called_small() -> None:
    # 2026-03 has 60 tickets, hidden only so that 2026-02 cannot be worked out
    summary = _transactions().assign(suppression=["", "small", "complementary"])
    summary.loc[2, ["mean", "top_box", "ci_low", "ci_high"]] = np.nan
    summary.loc[2, "suppressed"] = True
    label = plots.transaction_chart(summary, title="Tickets", min_n=30).axes[0].get_xlabel()
    assert "not shown (fewer than 30 answers, suppressed): 2026-02" in label
    assert "not shown (suppressed to protect a small cell): 2026-03" in label
    assert "fewer than 30 answers, suppressed): 2026-02, 2026-03" not in label


def test_transaction_chart_wants_one_row_per_month() -> None:
    twice = pd.concat([_transactions(), _transactions()])
    with pytest.raises(DataError, match="one row per month"):
        plots.transaction_chart(twice, title="Tickets", min_n=30)


# --------------------------------------------------------------------------- global summary charts


def _boxes_overlap(texts: list) -> bool:
    """Whether any two of the drawn texts' boxes (in pixels, after the layout) overlap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    shown = [t for t in texts if t.get_text()]
    renderer = FigureCanvasAgg(shown[0].figure).get_renderer()
    boxes = [t.get_window_extent(renderer) for t in shown]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def _country_trends() -> pd.DataFrame:
    """NPS rows of five countries and three waves; "NA" suppressed in every wave (planted
    -77.7), "FR" suppressed in the middle wave (planted 55.5); FR's last change significant."""
    rows = []
    for k, country in enumerate(("US", "GB", "NL", "FR", "NA")):
        for i, wave in enumerate(("2026-Q1", "2026-Q2", "2026-Q3")):
            rows.append((country, wave, 20.0 - 5 * k + 2 * i, 300))
    table = pd.DataFrame(rows, columns=["measure", "wave", "value", "n"])
    table = table.assign(
        statistic="nps",
        ci_low=table["value"] - 8,
        ci_high=table["value"] + 8,
        change=2.0,
        significant=False,
        suppressed=False,
    )
    na = table["measure"] == "NA"
    table.loc[na, ["value", "n", "suppressed"]] = [-77.7, 12, True]
    fr_q2 = (table["measure"] == "FR") & (table["wave"] == "2026-Q2")
    table.loc[fr_q2, ["value", "n", "suppressed"]] = [55.5, 20, True]
    fr_q3 = (table["measure"] == "FR") & (table["wave"] == "2026-Q3")
    table.loc[fr_q3, ["change", "significant"]] = [-9.0, True]
    return table


def test_nps_trend_multiples_draw_one_panel_per_country_in_the_given_order() -> None:
    order = ["NL", "US", "FR", "GB", "NA"]  # a league order, not the table's
    labels = {"NL": "Netherlands (NL)", "NA": "Namibia (NA)\nn = 12, suppressed"}
    fig = plots.nps_trend_multiples(
        _country_trends(), countries=order, labels=labels, title="NPS by wave", ncols=3
    )
    assert len(fig.axes) == 5
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Netherlands (NL)", "US", "FR", "GB", "Namibia (NA)\nn = 12, suppressed"]
    assert len({ax.get_ylim() for ax in fig.axes}) == 1  # one y-axis for every country
    assert plots.figure_title(fig) == "NPS by wave"
    # only FR's last wave is significant: one downward triangle there, no mark elsewhere
    from matplotlib.collections import PathCollection
    from matplotlib.markers import MarkerStyle

    marks = [[c for c in ax.collections if isinstance(c, PathCollection)] for ax in fig.axes]
    assert [len(m) for m in marks] == [0, 0, 1, 0, 0]
    assert tuple(marks[2][0].get_offsets()[0]) == pytest.approx((2.0, 9.0))
    down = MarkerStyle("v")
    expected = down.get_path().transformed(down.get_transform()).vertices
    assert np.allclose(marks[2][0].get_paths()[0].vertices, expected)
    fr = fig.axes[2].lines[0].get_ydata()
    assert np.isnan(fr[1]) and not np.isnan(fr[[0, 2]]).any()  # the suppressed wave: a gap
    assert "suppressed" in _texts(fig)  # NA's empty panel says why
    assert not np.isclose(_drawn_values(fig), -77.7).any()
    assert not np.isclose(_drawn_values(fig), 55.5).any()
    assert fig.get_size_inches()[0] * plots.DISPLAY_DPI == 900 and fig.dpi == plots.RENDER_DPI


def test_nps_trend_multiples_panel_titles_do_not_overlap() -> None:
    names = ["United Kingdom (GB)", "United States (US)", "Netherlands (NL)", "France (FR)"]
    labels = dict(zip(("GB", "US", "NL", "FR"), names, strict=True))
    labels["NA"] = "Namibia (NA)\nn = 12, suppressed"
    fig = plots.nps_trend_multiples(
        _country_trends(), countries=["GB", "US", "NL", "FR", "NA"], labels=labels, title="T"
    )
    plots.figure_png(fig)  # lays the figure out as the report does
    assert not _boxes_overlap([ax.title for ax in fig.axes])


def test_nps_trend_multiples_wants_the_verdict_columns() -> None:
    with pytest.raises(DataError, match=r"missing \['significant'\]"):
        plots.nps_trend_multiples(
            _country_trends().drop(columns="significant"), countries=["US"], labels=None, title="T"
        )


def _loyalty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": ["DE", "FR", "NA", "GB"],
            "n": [400, 380, 16, 420],
            "score": [70.0, 64.0, 12.34, 72.0],  # NA's estimate is planted
            "ci_low": [67.0, 61.0, 1.0, 69.0],
            "ci_high": [73.0, 67.0, 23.0, 75.0],
            "suppressed": [False, False, True, False],
        }
    )


def test_country_interval_chart_follows_the_given_order_and_names_suppressed_countries() -> None:
    fig = plots.country_interval_chart(
        _loyalty(),
        countries=["GB", "DE", "FR", "NA"],
        labels={"GB": "United Kingdom (GB)"},
        title="Loyalty",
        xlabel="Loyalty index (0–100)",
        min_n=30,
    )
    ax = fig.axes[0]
    ticks = sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])  # top first
    assert [t.get_text() for t in ticks] == [
        "United Kingdom (GB), n = 420",
        "DE, n = 400",
        "FR, n = 380",
        "NA, n = 16, suppressed",
    ]
    points = ax.lines[0]
    assert list(points.get_xdata()[:3]) == [72.0, 70.0, 64.0] and np.isnan(points.get_xdata()[3])
    assert list(points.get_ydata()) == [3, 2, 1, 0]  # GB at the top
    assert not np.isclose(_drawn_values(fig), 12.34).any()
    assert not any(np.isclose(line.get_xdata(), 12.34).any() for line in ax.lines)
    assert ax.get_title() == "Loyalty" and "min n = 30" in ax.get_xlabel()
    plots.figure_png(fig)
    assert not _boxes_overlap(ax.get_yticklabels())


def test_country_interval_chart_refuses_a_country_without_a_row() -> None:
    with pytest.raises(DataError, match=r"countries \['XX'\] have no rows"):
        plots.country_interval_chart(
            _loyalty(), countries=["DE", "XX"], title="L", xlabel="x", min_n=30
        )


def _region_months() -> pd.DataFrame:
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    frame = pd.DataFrame(
        {
            "region": ["EMEA"] * 4 + ["APJ"] * 4,
            "month": months * 2,
            "n": [80, 75, 90, 85, 60, 9, 70, 65],
            "mean": [4.1, 4.2, 4.0, 4.3, 4.2, 2.345, 4.1, 4.4],  # APJ's February is planted
        }
    )
    return frame.assign(
        ci_low=frame["mean"] - 0.2, ci_high=frame["mean"] + 0.2, suppressed=frame["n"] < 30
    )


def test_group_month_chart_draws_a_panel_per_region_and_names_the_gaps_with_n() -> None:
    fig = plots.group_month_chart(_region_months(), group="region", title="Tickets", min_n=30)
    assert [ax.get_title() for ax in fig.axes] == ["EMEA", "APJ"]  # never recased ("Emea")
    apj = fig.axes[1].lines[0].get_ydata()
    assert np.isnan(apj[1]) and list(apj[[0, 2, 3]]) == pytest.approx([4.2, 4.1, 4.4])
    assert not np.isclose(_drawn_values(fig), 2.345).any()
    note = fig.get_supxlabel()
    assert "APJ 2026-02 (n = 9)" in note and "fewer than 30" in note
    protected = _region_months().assign(suppression="")
    protected.loc[0, ["suppressed", "suppression"]] = [True, "complementary"]
    note = plots.group_month_chart(protected, group="region", title="T", min_n=30).get_supxlabel()
    assert "(suppressed to protect a small cell): EMEA 2026-01" in note
    assert plots.figure_title(fig) == "Tickets (n = 534 transactions)"
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["2026-01", "2026-04"]  # every third month


def _laid_out(fig: Figure, engine) -> list[tuple[float, ...]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    engine.execute(fig)
    return [ax.get_position().bounds for ax in fig.axes]


def test_fit_layout_places_one_axes_where_the_constrained_layout_does() -> None:
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    scores = pd.Series(np.random.default_rng(1).integers(0, 11, 300))
    fig = plots.score_distribution(scores, title="Likelihood to recommend, Germany", min_n=30)
    assert isinstance(fig.get_layout_engine(), plots.FitLayout)
    fit = _laid_out(fig, plots.FitLayout())
    constrained = _laid_out(fig, ConstrainedLayoutEngine(h_pad=3 / 72, w_pad=3 / 72))
    width, height = fig.bbox.width, fig.bbox.height
    for a, b in zip(fit[0], constrained[0], strict=True):  # within a pixel (at 200 dpi)
        assert abs(a - b) * max(width, height) < 1.0
    # several axes, or a figure title: the constrained layout itself
    two = plots.new_figure()
    two.subplots(1, 2)
    two.suptitle("Two panels")
    assert _laid_out(two, plots.FitLayout()) == _laid_out(
        two, ConstrainedLayoutEngine(h_pad=3 / 72, w_pad=3 / 72)
    )


def test_fit_layout_keeps_a_title_wider_than_the_axes_on_the_figure() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    months = [f"2026-{m:02d}" for m in range(1, 13)]
    summary = pd.DataFrame(
        {"month": months, "n": 80, "mean": 8.0, "ci_low": 7.5, "ci_high": 8.5, "suppressed": False}
    )
    title = "Satisfied transactions by month, Germany (95% intervals)"
    fig = plots.transaction_chart(summary, title=title, min_n=30)
    png = plots.figure_png(fig)  # laid out and drawn as a report shows it
    assert png is not None
    box = fig.axes[0].title.get_window_extent(FigureCanvasAgg(fig).get_renderer())
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width  # not cut off at either edge


def test_a_chart_whose_every_wave_or_month_is_suppressed_is_a_notice() -> None:
    months = _transactions().assign(suppressed=True)
    fig = plots.transaction_chart(months, title="Tickets", min_n=30, statistic="top_box")
    ax = fig.axes[0]
    assert not ax.axison and not ax.lines and not ax.collections  # no estimate drawn
    assert "no month has 30 or more answers (164 in all)" in _texts(fig)
    assert ax.get_title() == "Tickets (n = 164 transactions)"
    trends = pd.DataFrame(
        {
            "measure": "likelihood_to_recommend",
            "statistic": "nps",
            "wave": ["2026-Q1", "2026-Q2"],
            "value": [12.0, -43.21],
            "ci_low": [4.0, -60.0],
            "ci_high": [20.0, -20.0],
            "n": [20, 12],
            "suppressed": True,
        }
    )
    fig = plots.nps_by_wave_chart(trends, title="NPS", min_n=30)
    assert not fig.axes[0].lines  # no zero line that reads as an NPS of 0
    assert "no wave has 30 or more answers (32 in all)" in _texts(fig)


def test_the_note_on_suppressed_months_is_wrapped_to_the_chart() -> None:
    months = [f"20{y}-{m:02d}" for y in (25, 26) for m in range(1, 13)]
    summary = pd.DataFrame(
        {
            "month": months,
            "n": [80 if k % 3 == 0 else 5 for k in range(len(months))],
            "mean": 4.0,
            "ci_low": 3.8,
            "ci_high": 4.2,
            "suppressed": [k % 3 != 0 for k in range(len(months))],
        }
    )
    fig = plots.transaction_chart(summary, title="Tickets", min_n=30)
    label = fig.axes[0].get_xlabel()
    assert all(m in label for k, m in enumerate(months) if k % 3)
    assert max(len(line) for line in label.splitlines()) <= 80 and label.count("\n") >= 2
