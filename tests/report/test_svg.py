"""The SVG writer draws the report's charts as matplotlib lays them out, or leaves them to it."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from csatlib.report import plots, svg

NS = "{http://www.w3.org/2000/svg}"


def _trends(suppressed: bool = False) -> pd.DataFrame:
    waves = ["2026-Q1", "2026-Q2", "2026-Q3"]
    rows = []
    for k, measure in enumerate(["delivery", "support", "billing", "ordering", "invoicing"]):
        for w, wave in enumerate(waves):
            value = 7.0 + 0.1 * k + 0.2 * w
            rows.append((measure, wave, "mean", 120, value, value - 0.3, value + 0.3, False))
    for w, (wave, value) in enumerate(zip(waves, [12.0, 18.0, 9.0], strict=True)):
        gap = suppressed and w == 1
        rows.append(("ltr", wave, "nps", 20 if gap else 150, value, value - 9, value + 9, gap))
    columns = ["measure", "wave", "statistic", "n", "value", "ci_low", "ci_high", "suppressed"]
    return pd.DataFrame(rows, columns=columns)


def _charts() -> dict[str, Figure]:
    """One figure of each kind a country report draws (the IPA chart with its verdicts)."""
    ipa = pd.DataFrame(
        {"importance": [0.21, 0.12, 0.05, 0.06], "performance": [7.4, 6.8, 7.2, 7.25]},
        index=["quality", "delivery", "billing", "ordering"],
    )
    ipa.attrs.update(importance_split=0.09, performance_split=7.22)
    months = pd.DataFrame(
        {
            "month": [f"2026-{m:02d}" for m in range(1, 7)],
            "n": [60, 70, 10, 65, 80, 75],
            "top_box": [0.7, 0.75, np.nan, 0.72, 0.8, 0.78],
            "top_box_ci_low": [0.6, 0.65, np.nan, 0.62, 0.7, 0.68],
            "top_box_ci_high": [0.8, 0.85, np.nan, 0.82, 0.9, 0.88],
            "suppressed": [False, False, True, False, False, False],
        }
    )
    verdicts = {"quality": "strength", "delivery": "priority"}
    return {
        "distribution": plots.score_distribution(
            pd.Series([9, 10, 3, 7, 8, 6] * 20), title="LTR, DE", min_n=30
        ),
        "by wave": plots.nps_by_wave_chart(_trends(True), title="NPS", min_n=30, measure="ltr"),
        "small multiples": plots.small_multiples_chart(
            _trends(),
            measures=["delivery", "support", "billing", "ordering", "invoicing"],
            labels={"delivery": "Delivery on time"},
            title="Ratings",
            ylabel="Mean rating",
        ),
        "importance": plots.importance_performance_chart(
            ipa, title="IPA", n=300, min_n=30, verdicts=verdicts
        ),
        "months": plots.transaction_chart(
            months, title="Tickets", min_n=30, statistic="top_box", ylabel="Satisfied (%)"
        ),
        "suppressed": plots.suppressed_figure("Small", n=3, min_n=30),
    }


def _parse(document: str) -> ET.Element:
    return ET.fromstring(document)  # well-formed XML, or this raises


def _svg_text(root: ET.Element) -> list[str]:
    return [
        "\n".join(span.text or "" for span in text.iter(f"{NS}tspan"))
        for text in root.iter(f"{NS}text")
    ]


def _figure_texts(fig: Figure) -> set[str]:
    """The texts matplotlib draws for the figure (its own draw: tick labels included)."""
    FigureCanvasAgg(fig).draw()
    texts = {
        t.get_text()
        for t in fig.findobj(match=lambda o: hasattr(o, "get_text") and hasattr(o, "get_position"))
        if t.get_visible() and t.get_text()
    }
    for ax in fig.axes:  # only the ticks inside the view are drawn, and none of an axes "off"
        for axis in (ax.xaxis, ax.yaxis):
            if not ax.axison:
                texts -= {t.get_text() for t in axis.get_ticklabels(which="both")}
                continue
            inside = {t.label1.get_text() for t in axis._update_ticks()}
            texts -= {t.get_text() for t in axis.get_ticklabels(which="both")} - inside
    return {t for t in texts if t.strip()}


@pytest.mark.parametrize("kind", list(_charts()))
def test_every_text_matplotlib_draws_is_in_the_svg(kind: str) -> None:
    fig = _charts()[kind]
    shown = svg.figure_svg(fig)
    assert shown is not None, kind
    document, metadata = shown
    root = _parse(document)
    width, height = fig.get_size_inches() * 100
    assert metadata == {
        "alt": plots.figure_title(fig),
        "width": round(width),
        "height": round(height),
    }
    assert root.find(f"{NS}title").text == plots.figure_title(fig)
    assert (root.get("width"), root.get("height")) == (f"{width:.0f}", f"{height:.0f}")
    expected = _figure_texts(copy.deepcopy(fig))
    drawn = set(_svg_text(root))
    assert expected <= drawn, expected - drawn


@pytest.mark.parametrize("kind", ["distribution", "by wave", "small multiples", "importance"])
def test_the_axes_sit_where_the_figures_own_layout_puts_them(kind: str) -> None:
    # The reference: the figure's own layout engine (FitLayout or PanelGridLayout), which
    # measures every text with matplotlib's renderer; the SVG writer measures with DejaVu
    # Sans's advance widths. Within 1% of the figure (7 pixels of 700).
    ours, reference = _charts()[kind], _charts()[kind]
    assert svg.figure_svg(ours) is not None
    reference.get_layout_engine().execute(reference)
    for mine, theirs in zip(ours.axes, reference.axes, strict=True):
        assert np.allclose(mine.get_position().bounds, theirs.get_position().bounds, atol=0.01)


def test_text_widths_are_matplotlibs_own() -> None:
    # matplotlib's Agg renderer measures the same glyphs hinted to whole pixels at 100 dpi (a
    # browser draws them unhinted): within 4%
    renderer = FigureCanvasAgg(Figure(dpi=100)).get_renderer()
    from matplotlib.font_manager import FontProperties

    for text in ("Likelihood to recommend", "2026-Q3", "Total cost of ownership (n = 1,156)"):
        for size in (8.0, 10.0, 12.0):
            width, _, _ = renderer.get_text_width_height_descent(
                text, FontProperties(family="DejaVu Sans", size=size), ismath=False
            )
            assert svg.text_width(text, size) == pytest.approx(width, rel=0.04)


def test_a_suppressed_wave_breaks_the_line_and_the_band() -> None:
    root = _parse(svg.figure_svg(_charts()["by wave"])[0])
    blue = [p for p in root.iter(f"{NS}path") if p.get("stroke") == "#0072b2"]
    bands = [p for p in root.iter(f"{NS}path") if p.get("fill") == "#0072b2"]
    # three waves, the middle one suppressed: no segment joins the first and the last (each
    # shown wave is a run of one point, drawn as its marker only)
    assert blue == []
    assert all(p.get("d").count("L") <= 3 for p in bands)
    circles = [c for c in root.iter(f"{NS}circle") if c.get("fill") == "#0072b2"]
    assert len(circles) == 2  # a marker for each shown wave, none for the suppressed one


def test_bar_heights_are_the_shares() -> None:
    scores = pd.Series([10] * 30 + [9] * 15 + [3] * 15)  # 50%, 25%, 25%
    root = _parse(svg.figure_svg(plots.score_distribution(scores, title="LTR", min_n=30))[0])
    bars = [
        float(r.get("height"))
        for r in root.iter(f"{NS}rect")
        if r.get("fill") in ("#0072b2", "#d55e00")
        and float(r.get("height")) > 1
        and float(r.get("width")) > 30  # not a legend swatch
    ]
    assert len(bars) == 3  # scale points 3, 9 and 10; no bar where nobody answered
    low, high = min(bars), max(bars)
    assert high / low == pytest.approx(2.0, rel=0.01)


def test_text_is_escaped() -> None:
    title = 'Q3 <script>alert(1)</script> & "Tom\'s" (DE)'
    fig = plots.score_distribution(pd.Series([9, 10, 3] * 20), title=title, min_n=30)
    document, _ = svg.figure_svg(fig)
    assert "<script" not in document
    root = _parse(document)
    assert any('<script>alert(1)</script> & "Tom\'s"' in t for t in _svg_text(root))


def test_what_it_does_not_draw_is_left_to_matplotlib() -> None:
    heatmap = Figure(layout=plots.FitLayout())
    heatmap.add_subplot().imshow(np.eye(3))
    maths = plots.new_figure()
    maths.add_subplot().set_xlabel(r"$\alpha$")
    logs = plots.new_figure()
    ax = logs.add_subplot()
    ax.plot([1, 10, 100], [1, 2, 3])
    ax.set_xscale("log")
    best = plots.new_figure()
    ax = best.add_subplot()
    ax.plot([1, 2], [1, 2], label="a")
    ax.legend()  # loc "best": placed by searching the data
    for fig in (heatmap, maths, logs, best):
        assert svg.figure_svg(fig) is None
        png, _ = plots.figure_png(fig)  # matplotlib still draws it
        assert png[:4] == b"\x89PNG"
    assert svg.figure_svg(Figure()) is None  # no axes: nothing to show


def test_notebooks_show_charts_as_svg_and_the_rest_as_png() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert plots.show_inline() is True
        data, metadata = shell.display_formatter.format(_charts()["suppressed"])
        assert "image/png" not in data and data["image/svg+xml"].startswith("<svg")
        assert metadata["image/svg+xml"] == {"alt": "Small", "width": 700, "height": 160}
        heatmap = Figure(layout=plots.FitLayout())
        heatmap.add_subplot().imshow(np.eye(3))
        heatmap.axes[0].set_title("Heat")
        data, metadata = shell.display_formatter.format(heatmap)
        assert "image/svg+xml" not in data and data["image/png"][:4] == b"\x89PNG"
    finally:
        InteractiveShell.clear_instance()


def test_svg_is_small_and_quick_to_write() -> None:
    # A regression guard, not a timing: the document stays a few hundred elements.
    document, _ = svg.figure_svg(_charts()["small multiples"])
    assert len(re.findall(r"<(path|text|rect|circle)\b", document)) < 600


def test_labels_of_close_points_do_not_overlap_in_the_svg() -> None:
    from csatlib.stats.drivers import importance_performance

    ipa = importance_performance(
        pd.Series({"delivery": 0.100, "pricing": 0.1002, "support": 0.3, "quality": 0.02}),
        pd.Series({"delivery": 7.0, "pricing": 7.001, "support": 8.0, "quality": 6.0}),
    )
    root = _parse(
        svg.figure_svg(plots.importance_performance_chart(ipa, title="IPA", n=500, min_n=30))[0]
    )
    boxes = []
    for text in root.iter(f"{NS}text"):
        label = "\n".join(s.text for s in text.iter(f"{NS}tspan"))
        if label in ("Delivery", "Pricing", "Support", "Quality"):
            span = next(text.iter(f"{NS}tspan"))
            x, base = float(span.get("x")), float(span.get("y"))
            width, height, descent = svg.text_box(label, 9.0)
            boxes.append((x, base + descent - height, x + width, base + descent))
    assert len(boxes) == 4
    for k, a in enumerate(boxes):
        for b in boxes[k + 1 :]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] + 0.01 or b[3] <= a[1] + 0.01
            assert apart, (a, b)


@pytest.mark.parametrize("draw", ["svg", "png"])
def test_a_title_wider_than_the_chart_is_wrapped_to_fit_it(draw: str) -> None:
    # A cross-cut's long name made the title of its chart wider than the chart: the constrained
    # layout cut it at both edges. Both drawings wrap it at spaces, every word kept.
    title = (
        "Satisfied transactions by month, Enterprise storage in the United Kingdom (95% intervals)"
    )
    fig = plots.suppressed_figure(title, n=12, min_n=30)
    if draw == "svg":
        root = _parse(svg.figure_svg(fig)[0])
        shown = next(t for t in _svg_text(root) if t.startswith("Satisfied"))
    else:
        plots.figure_png(fig)
        shown = fig.axes[0].get_title()
    lines = shown.split("\n")
    assert len(lines) == 2 and " ".join(lines) == title
    room = 700 - 2 * 3 / 72 * 100
    assert all(svg.text_width(line, 12.0) <= room for line in lines)


def test_a_chart_the_svg_writer_fails_on_is_drawn_by_matplotlib(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    def broken(fig: Figure) -> None:
        raise ValueError("a case the writer did not foresee")

    monkeypatch.setattr(plots, "figure_svg", broken)
    shell = InteractiveShell.instance()
    try:
        assert plots.show_inline() is True
        data, metadata = shell.display_formatter.format(_charts()["distribution"])
        assert "image/svg+xml" not in data and data["image/png"][:4] == b"\x89PNG"
        assert metadata["image/png"]["alt"] == "LTR, DE (n = 120)"
    finally:
        InteractiveShell.clear_instance()


def test_every_line_is_held_to_the_width_it_was_laid_out_with() -> None:
    # A reader's browser without DejaVu Sans draws another font; each line keeps its measured
    # width (textLength), so the layout's room for it still holds.
    document, _ = svg.figure_svg(_charts()["small multiples"])
    root = _parse(document)
    spans = 0
    for text in root.iter(f"{NS}text"):
        size = float(text.get("font-size")) * 72 / 100  # CSS pixels (to 0.01) back to points
        for span in text.iter(f"{NS}tspan"):
            if not (span.text or "").strip():
                continue
            spans += 1
            assert span.get("lengthAdjust") == "spacingAndGlyphs"
            assert float(span.get("textLength")) == pytest.approx(
                svg.text_width(span.text, size), rel=1e-3
            )
    assert spans > 20
