"""Charts for the reports: each chart function draws results it is given and returns a Figure.

The estimates, intervals, quadrant splits, Pareto shares and suppression flags come from
:mod:`csatlib.stats` as they are; a chart computes none of them. What a chart does work out is
only what drawing needs: the share of answers at each scale point of the bars of
:func:`score_distribution` (a tabulation of the scores it is given, suppressed below ``min_n``),
the largest ``n`` it names in a title, the order of the rows and the centre of a colour scale.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through pyplot's global
state, so a notebook cell that returns one shows it exactly once and parallel report builds
cannot draw into each other's axes. Notebooks call :func:`show_inline` once: a figure is then
shown as SVG written from its artists (:func:`csatlib.report.svg.figure_svg`, 1 to 13 ms a chart
of a country report where matplotlib's draw and PNG take 21 to 130 ms), or, when it holds what
that writer does not draw, as a PNG drawn once (:func:`figure_png`; IPython's default draws it
twice to find a tight bounding box, which the figure's layout engine, :class:`FitLayout`, makes
unnecessary), with its title as the image's alternative text. Every chart has a title and axis
labels; its n is in the title or, per country, in the labels (the heatmap's caller puts it in
the title). A suppressed cell is never drawn: a chart whose whole cell is below the small-cell
minimum shows a notice instead (:func:`suppressed_figure`), a suppressed point is left out (a
gap in a trend line, a country named without a point) and a suppressed heatmap cell is blank and
marked "s".
"""

from __future__ import annotations

import textwrap
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.layout_engine import LayoutEngine

from csatlib.errors import DataError, require_columns
from csatlib.report.svg import figure_svg, fit_titles, lay_out, text_box

__all__ = [
    "PALETTE",
    "figure_png",
    "figure_svg",
    "figure_title",
    "show_inline",
    "new_figure",
    "suppressed_figure",
    "score_distribution",
    "importance_performance_chart",
    "pareto_chart",
    "trend_chart",
    "nps_league_chart",
    "attribute_heatmap",
    "small_multiples_chart",
    "nps_by_wave_chart",
    "transaction_chart",
    "nps_trend_multiples",
    "country_interval_chart",
    "group_month_chart",
    "DISPLAY_DPI",
    "RENDER_DPI",
    "HEATMAP_CMAP",
    "PanelGridLayout",
    "FitLayout",
]

#: Colours by NPS category (Okabe-Ito vermillion, grey and blue: no red-green pair, so the
#: categories stay apart with every common colour-vision deficiency).
PALETTE = {"detractor": "#D55E00", "passive": "#999999", "promoter": "#0072B2"}

#: The resolution at which a chart is laid out on the page (CSS pixels per inch of figure size).
DISPLAY_DPI = 100
#: The resolution at which a chart is drawn: twice :data:`DISPLAY_DPI`, shown at the CSS size of
#: :data:`DISPLAY_DPI`, so that charts stay sharp on high-resolution screens.
RENDER_DPI = 2 * DISPLAY_DPI
#: Diverging colour map of the heatmap: purple-orange (ColorBrewer), safe for colour-blind readers.
HEATMAP_CMAP = "PuOr"
#: A line and its interval band (Okabe-Ito blue).
_LINE_COLOUR = "#0072B2"


def figure_title(fig: Figure) -> str:
    """The figure's title: its suptitle, else the first axes title that is set ("" if none)."""
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        return " ".join(suptitle.get_text().split())
    for ax in fig.axes:
        if ax.get_title():
            return " ".join(ax.get_title().split())
    return ""


def figure_png(fig: Figure) -> tuple[bytes, dict[str, str | int]] | None:
    """PNG bytes of ``fig`` at its own size and dpi, and display metadata
    ``{"alt": title, "width": ..., "height": ...}``.

    ``width`` and ``height`` are the figure's size at :data:`DISPLAY_DPI` in CSS pixels: a chart
    drawn at :data:`RENDER_DPI` takes the place on the page it took at 100 dpi, with twice the
    pixels in each direction for high-resolution screens.

    The figure is laid out once and drawn once. ``savefig`` would draw a figure with a layout
    engine twice (a first pass with rendering switched off, only to run the layout), and
    IPython's default PNG display a third time for a tight bounding box, which the layout
    engine makes unnecessary. The pixels are those of ``savefig(format="png")`` reduced to a
    palette of at most 256 colours (Pillow's median cut; a test compares them), which keeps a
    chart at twice the resolution about the size it had at 100 dpi in full colour: a country
    report's page stays under 1 MB. Returns None for a figure without axes (nothing to show), as
    IPython does.
    """

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not fig.axes:
        return None
    canvas = FigureCanvasAgg(fig)
    engine = fig.get_layout_engine()
    if engine is None:
        canvas.draw()
    else:
        engine.execute(fig)
        fig.set_layout_engine("none")  # laid out: the draw must not run the layout again
        try:
            canvas.draw()
        finally:
            fig.set_layout_engine(engine)
    width, height = fig.get_size_inches() * DISPLAY_DPI
    return _palette_png(canvas.buffer_rgba()), {
        "alt": figure_title(fig) or "Chart",
        "width": round(width),
        "height": round(height),
    }


def _palette_png(rgba: Any) -> bytes:
    """The drawn pixels (``rgba``: the canvas's RGBA buffer) with at most 256 colours, saved as
    a palette PNG. Taken from the buffer, not from a PNG written and read back.

    An opaque chart keeps its 256 most frequent colours exactly (the background, the fills, the
    text); any other colour, an anti-aliased edge's blend, becomes the nearest of them (RGB
    distance). Each pixel is read as one 32-bit number, without a copy; the colours are counted
    over runs of equal pixels along the rows (a chart is mostly flat areas: Germany's charts
    have 3 to 5% as many runs as pixels, the densest a third), hashed, and the runs expanded
    back into the image, which gives the pixel-by-pixel count's result about five times faster
    (16 against 74 ms for a 9 x 5 inch chart). A chart with transparency goes
    through Pillow's octree, the one method that keeps alpha.
    """
    from io import BytesIO

    from PIL import Image

    pixels = np.ascontiguousarray(np.asarray(rgba))
    height, width = pixels.shape[:2]
    keys = pixels.view("<u4").ravel()  # R + G << 8 + B << 16 + A << 24, whatever the machine
    buffer = BytesIO()
    if keys.min() < 0xFF000000:  # some alpha below 255: transparent somewhere
        image = Image.fromarray(pixels, mode="RGBA").quantize(256, method=Image.Quantize.FASTOCTREE)
        image.save(buffer, format="PNG", compress_level=6)
        return buffer.getvalue()
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    lengths = np.diff(np.append(starts, len(keys)))
    run_codes, found = pd.factorize(keys[starts])  # colours in order of first appearance
    found = np.asarray(found, dtype=np.uint32)
    colours = ((found & 255) << 16) | (found & 0xFF00) | ((found >> 16) & 255)  # 0xRRGGBB
    if len(colours) > 256:
        counts = np.bincount(run_codes, weights=lengths, minlength=len(colours))
        order = np.argsort(-counts, kind="stable")
        kept, rare = order[:256], order[256:]
        near = _nearest(_channels(colours[rare]), _channels(colours[kept]))
        lookup = np.empty(len(colours), dtype=np.uint8)
        lookup[kept] = np.arange(256)
        lookup[rare] = near
        index, palette = np.repeat(lookup[run_codes], lengths), colours[kept]
    else:
        index, palette = np.repeat(run_codes.astype(np.uint8), lengths), colours
    image = Image.fromarray(index.reshape(height, width), mode="P")
    image.putpalette(_channels(palette).astype(np.uint8).ravel().tolist())
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _channels(colours: np.ndarray) -> np.ndarray:
    """Packed 0xRRGGBB colours as rows of (r, g, b) integers."""
    return np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], axis=1).astype(
        np.int32
    )


def _nearest(colours: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """For each row of ``colours``, the position of the nearest row of ``palette`` (squared RGB
    distance; the first of equals), a few thousand colours at a time.

    The squared distance |c - p|^2 = |c|^2 - 2 c.p + |p|^2 is ranked without its first term
    (the same for every p of one c), from one matrix product; the terms are whole numbers below
    2^53, exact in floating point, so the ranking and its ties are those of the distances."""
    out = np.empty(len(colours), dtype=np.uint8)
    palette = palette.astype(np.float64)
    lengths = (palette**2).sum(axis=1)
    for start in range(0, len(colours), 4096):
        part = colours[start : start + 4096].astype(np.float64)
        out[start : start + 4096] = (lengths[None, :] - 2.0 * (part @ palette.T)).argmin(axis=1)
    return out


def show_inline() -> bool:
    """Show figures in this IPython session as SVG (:func:`figure_svg`), or as a PNG drawn
    once (:func:`figure_png`) when the figure holds what the SVG writer does not draw; False
    outside IPython.

    Call it after ``%matplotlib inline`` (which registers IPython's own PNG display of
    figures); figures returned by the functions of this module then appear once each, with
    their title as alternative text.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebook stack
        return False
    shell = get_ipython()
    if shell is None:
        return False
    formatters = shell.display_formatter.formatters
    formatters["image/svg+xml"].for_type(Figure, _svg_display)
    formatters["image/png"].for_type(Figure, _png_display)
    return True


#: Figures shown as SVG (IPython asks for the SVG before the PNG of the same display).
_SHOWN_AS_SVG: weakref.WeakSet[Figure] = weakref.WeakSet()


def _svg_display(fig: Figure) -> tuple[str, dict[str, str | int]] | None:
    """The SVG of ``fig``, or None (the PNG display draws it) when the SVG writer does not
    draw the figure or fails on it: a chart is never lost to the faster drawing."""
    try:
        shown = figure_svg(fig)
    except Exception:  # noqa: BLE001 - matplotlib draws what the SVG writer could not
        shown = None
    if shown is not None:
        _SHOWN_AS_SVG.add(fig)
    return shown


def _png_display(fig: Figure) -> tuple[bytes, dict[str, str | int]] | None:
    if fig in _SHOWN_AS_SVG:
        _SHOWN_AS_SVG.discard(fig)
        return None
    return figure_png(fig)


def new_figure(width: float = 7.0, height: float = 3.6) -> Figure:
    """Return a new Figure not registered with pyplot, drawn at :data:`RENDER_DPI` and laid
    out by :class:`FitLayout` (matplotlib's constrained layout for anything but one axes)."""
    return Figure(figsize=(width, height), dpi=RENDER_DPI, layout=FitLayout())


class FitLayout(LayoutEngine):
    """Lays out a figure of one axes as the constrained layout does, from one measure: the
    axes' tight box (its title, axis and tick labels, legend and texts, without what is marked
    ``in_layout=False``) is fitted into the figure with ``pad`` inches to spare on each side.

    The axes is measured again (at most three times in all) when a fit changed its ticks (a
    shorter axis can take fewer tick labels, which changes the room they need) or its title is
    wider than it (a centred title reaches past both sides, by half of what the axes lacks):
    such a title then fits the figure, where the constrained layout cuts it off at the edge.

    Any other figure (several axes, a colour bar, a figure title, label or legend), and one
    whose axes would keep less than half of the figure's width or height, is left to
    :class:`matplotlib.layout_engine.ConstrainedLayoutEngine`, with the same padding.

    The constrained layout builds and solves a grid of constraints, twice. Laying out the
    sample's score chart took 25 ms this way against 45 ms (the least of 40 runs each).
    """

    _adjust_compatible = True
    _colorbar_gridspec = False

    def __init__(self, *, pad: float = 3 / 72) -> None:
        super().__init__()
        self._params = {"pad": pad}

    def set(self, *, pad: float | None = None) -> None:
        """Change the padding (inches) around the axes' box."""
        if pad is not None:
            self._params["pad"] = pad

    def execute(self, fig: Figure) -> None:
        """Set the subplot parameters so that the axes' tight box fits the figure."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        pad = self._params["pad"]
        fit_titles(fig, pad)
        if not _one_axes(fig):
            ConstrainedLayoutEngine(h_pad=pad, w_pad=pad).execute(fig)
            return
        canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
        renderer = canvas.get_renderer()
        (ax,) = fig.axes
        for _ in range(3):
            ticks = (tuple(ax.get_xticks()), tuple(ax.get_yticks()))
            if not _fit(fig, ax, ax.get_tightbbox(renderer), pad * fig.dpi):
                ConstrainedLayoutEngine(h_pad=pad, w_pad=pad).execute(fig)
                return
            title = ax.title.get_window_extent(renderer).width if ax.get_title() else 0.0
            if title <= ax.bbox.width and ticks == (tuple(ax.get_xticks()), tuple(ax.get_yticks())):
                return  # else a title wider than the axes or new ticks: measured again


def _one_axes(fig: Figure) -> bool:
    """Whether ``fig`` holds one axes of a grid and nothing else that takes room (no figure
    title, label, legend or text, no sub-figure)."""
    figure_texts = (getattr(fig, name, None) for name in ("_suptitle", "_supxlabel", "_supylabel"))
    return (
        len(fig.axes) == 1
        and fig.axes[0].get_subplotspec() is not None
        and not fig.legends
        and not fig.texts
        and not fig.subfigs
        and not any(t is not None and t.get_text() for t in figure_texts)
    )


def _fit(fig: Figure, ax: Any, box: Any, pad: float) -> bool:
    """Move ``ax`` so that ``box`` (its tight box, in pixels) fits ``fig`` less ``pad`` pixels
    on each side; False (nothing moved) when that would leave the axes less than half of the
    figure's width or height (a label too long for the figure: no fit shows it whole)."""
    width, height = fig.bbox.width, fig.bbox.height
    inner = ax.bbox
    left = pad + max(0.0, inner.x0 - box.x0)
    right = pad + max(0.0, box.x1 - inner.x1)
    bottom = pad + max(0.0, inner.y0 - box.y0)
    top = pad + max(0.0, box.y1 - inner.y1)
    if left + right > width / 2 or top + bottom > height / 2:
        return False
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
    )
    return True


class PanelGridLayout(LayoutEngine):
    """Lays out a grid of panels that share both axes (:func:`small_multiples_chart`) from the
    extents of a few artists, instead of the constrained layout's tight box of every panel.

    The margins are what the drawn text needs, measured with the figure's renderer:

    * left: the figure's y label, then the first panel's y tick labels;
    * top: the figure's title, then the first panel's title;
    * bottom: the figure's x label, then the last panel's x tick labels;
    * between rows: a panel's title (and tick labels, when a panel above an empty cell of the
      last row shows them); between columns: how far a panel's title or tick labels reach
      beyond its sides.

    Each gap has ``pad`` inches around it. A long panel title is wrapped by the chart; when two
    neighbours' titles are still wider than their panels, the gap between columns widens (by at
    most a third of the width). The constrained layout measures every panel: 0.14 to 0.38 s
    for the eight panels of a sample country report; this measures two, in about 0.03 s.
    """

    _adjust_compatible = True
    _colorbar_gridspec = False

    def __init__(self, axes: Sequence[Any], ncols: int, *, pad: float = 0.05) -> None:
        super().__init__()
        self._params = {"pad": pad}
        self.axes, self.ncols = list(axes), ncols

    def set(self, *, pad: float | None = None) -> None:
        """Change the padding (inches) around each gap."""
        if pad is not None:
            self._params["pad"] = pad

    def execute(self, fig: Figure) -> None:
        """Set the figure's subplot parameters and place its title and axis labels."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
        renderer = canvas.get_renderer()
        width, height = fig.get_size_inches() * fig.dpi
        fit_titles(fig, self._params["pad"])
        pad = self._params["pad"] * fig.dpi
        first, last = self.axes[0], self.axes[-1]
        measured = [first] if last is first else [first, last]
        outer = [ax.get_tightbbox(renderer) for ax in measured]
        top_over = max(0.0, outer[0].y1 - first.bbox.y1)
        left_over = max(0.0, first.bbox.x0 - outer[0].x0)
        below = max(0.0, last.bbox.y0 - outer[-1].y0)
        # how far the rotated tick labels (and titles) reach past a panel on the right: the next
        # panel's reach to the left runs diagonally below it, as under the constrained layout
        side = max(0.0, *(box.x1 - ax.bbox.x1 for ax, box in zip(measured, outer, strict=True)))
        titles = [ax.title.get_window_extent(renderer) for ax in self.axes]
        top_over += max(t.height for t in titles) - titles[0].height  # the tallest title
        # the widest two titles side by side (half of each reaches into the gap between them)
        pairs = [
            (titles[k].width + titles[k + 1].width) / 2
            for k in range(len(titles) - 1)
            if (k + 1) % self.ncols
        ]
        widest = max(pairs, default=0.0)

        def extent(text: Any, along: str) -> float:
            if text is None or not text.get_text():
                return 0.0
            box = text.get_window_extent(renderer)
            return float(box.height if along == "height" else box.width)

        title = extent(getattr(fig, "_suptitle", None), "height")
        xlabel = extent(getattr(fig, "_supxlabel", None), "height")
        ylabel = extent(getattr(fig, "_supylabel", None), "width")
        left = pad + ylabel + pad + left_over + pad
        right = pad + side
        top = pad + title + pad + top_over + pad
        bottom = pad + xlabel + pad + below + pad
        nrows = -(-len(self.axes) // self.ncols)
        labelled_above = nrows > 1 and len(self.axes) % self.ncols != 0
        hgap = top_over + 2 * pad + (below if labelled_above else 0.0)
        wgap = 2 * pad + side
        room = width - left - right
        if widest:  # no panel's title reaches its neighbour's
            wgap = max(wgap, min(self.ncols * (widest + 2 * pad) - room, room / 3))
        panel_w = (room - (self.ncols - 1) * wgap) / self.ncols
        panel_h = (height - top - bottom - (nrows - 1) * hgap) / nrows
        if panel_w <= 0 or panel_h <= 0:  # the text leaves no room: keep matplotlib's defaults
            return
        fig.subplots_adjust(
            left=left / width,
            right=1 - right / width,
            bottom=bottom / height,
            top=1 - top / height,
            wspace=wgap / panel_w,
            hspace=hgap / panel_h,
        )
        for name, x, y in (
            ("_suptitle", 0.5, 1 - pad / height),
            ("_supxlabel", 0.5, pad / height),
            ("_supylabel", pad / width, 0.5),
        ):
            text = getattr(fig, name, None)
            if text is not None:
                text.set_position((x, y))


def suppressed_figure(title: str, *, n: int, min_n: int, note: str | None = None) -> Figure:
    """A placeholder chart saying that the cell was suppressed (n below the minimum), or
    ``note`` when given (a chart whose every point is suppressed, though its n is not small)."""
    fig = new_figure(height=1.6)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(
        0.5,
        0.4,
        note or f"Suppressed: n = {n} is below the minimum of {min_n} respondents.",
        ha="center",
        va="center",
        fontsize=11,
        color="#555555",
    )
    return fig


def score_distribution(
    scores: pd.Series | Sequence[float],
    *,
    title: str,
    min_n: int,
    scale: tuple[int, int] = (0, 10),
    promoter_min: int = 9,
    detractor_max: int = 6,
    xlabel: str = "Likelihood to recommend",
    nps_colours: bool = True,
) -> Figure:
    """Bar chart of the share of respondents at each scale point, coloured by NPS category.

    Parameters
    ----------
    scores
        Valid scores (missing values are ignored).
    title
        Chart title; ``(n = ...)`` is appended.
    min_n
        Below this many valid scores the chart is replaced by a suppression notice.
    scale, promoter_min, detractor_max
        Scale and NPS cut-offs used for the colours.
    """
    values = pd.to_numeric(pd.Series(scores), errors="coerce").dropna().astype(int)
    n = len(values)
    if n < min_n:
        return suppressed_figure(title, n=n, min_n=min_n)
    points = np.arange(scale[0], scale[1] + 1)
    shares = values.value_counts(normalize=True).reindex(points, fill_value=0.0)
    colours = [
        "#0072B2"
        if not nps_colours
        else PALETTE["promoter"]
        if p >= promoter_min
        else PALETTE["detractor"]
        if p <= detractor_max
        else PALETTE["passive"]
        for p in points
    ]
    fig = new_figure()
    ax = fig.add_subplot()
    ax.bar(points, shares.to_numpy() * 100, color=colours, edgecolor="white")
    ax.set_xticks(points)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Share of respondents (%)")
    ax.set_title(f"{title} (n = {n:,})")
    if nps_colours:
        from matplotlib.patches import Patch

        handles = [
            Patch(color=PALETTE[c], label=c.capitalize() + "s")
            for c in ("detractor", "passive", "promoter")
        ]
        ax.legend(handles=handles, frameon=False, loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _label(name: object, labels: Mapping[str, str] | None) -> str:
    key = str(name)
    return str(labels[key]) if labels and key in labels else key.replace("_", " ").capitalize()


#: Colour of each priority verdict (Okabe-Ito, readable with colour-blindness).
_VERDICT_COLOURS = {
    "priority": "#D55E00",
    "strength": "#0072B2",
    "no significant difference": "#999999",
    "not enough data": "#CCCCCC",
}


def importance_performance_chart(
    ipa: pd.DataFrame,
    *,
    title: str,
    n: int,
    min_n: int,
    labels: Mapping[str, str] | None = None,
    xlabel: str = "Performance (mean rating)",
    verdicts: Mapping[str, str] | None = None,
) -> Figure:
    """Importance–performance matrix (Martilla & James 1977) from
    :func:`csatlib.stats.drivers.importance_performance`: one labelled point per attribute and
    the medians of both axes (in its ``attrs``, ``importance_split`` and ``performance_split``)
    as dashed lines.

    With ``verdicts`` (attribute -> the verdict of :func:`csatlib.stats.priorities.priorities`)
    each point is coloured by its verdict, so the chart says what the executive summary and the
    screens say; the median quadrants then stay unnamed (a relative reading, half of the
    attributes are "high" by construction). Without ``verdicts``, the four quadrant names."""
    if ipa.empty or ipa["importance"].isna().all():
        return suppressed_figure(title, n=n, min_n=min_n)
    missing = [k for k in ("importance_split", "performance_split") if k not in ipa.attrs]
    if missing:
        raise DataError(
            "importance_performance_chart: expected the result of "
            f"csatlib.stats.drivers.importance_performance, whose attrs hold {missing}; "
            f"found attrs {sorted(ipa.attrs)}"
        )
    split_x = float(ipa.attrs["performance_split"])
    split_y = 100 * float(ipa.attrs["importance_split"])
    ipa = ipa.dropna(subset=["importance", "performance"])
    fig = new_figure(7.5, 5.2)
    ax = fig.add_subplot()
    x = ipa["performance"].astype(float).to_numpy()
    y = 100 * ipa["importance"].astype(float).to_numpy()
    if verdicts is None:
        ax.scatter(x, y, s=60, color="#0072B2", zorder=3)
    else:
        kinds = [str(verdicts.get(str(a), "no significant difference")) for a in ipa.index]
        for kind, colour in _VERDICT_COLOURS.items():
            mask = np.array([k == kind for k in kinds], dtype=bool)
            if mask.any():
                ax.scatter(x[mask], y[mask], s=70, color=colour, zorder=3, label=kind)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    ax.axvline(split_x, color="#999999", lw=1, ls="--")
    ax.axhline(split_y, color="#999999", lw=1, ls="--")
    pad_x = max((x.max() - x.min()) * 0.25, 0.2)
    pad_y = max((y.max() - y.min()) * 0.25, 0.5)
    ax.set_xlim(x.min() - pad_x, x.max() + pad_x)
    ax.set_ylim(max(y.min() - pad_y, 0), y.max() + pad_y)
    corners = (
        {}
        if verdicts is not None
        else {
            "Concentrate here": (0.02, 0.97, "left", "top"),
            "Keep up the good work": (0.98, 0.97, "right", "top"),
            "Low priority": (0.02, 0.03, "left", "bottom"),
            "Possible overkill": (0.98, 0.03, "right", "bottom"),
        }
    )
    for text, (cx, cy, ha, va) in corners.items():
        ax.text(
            cx,
            cy,
            text,
            transform=ax.transAxes,
            ha=ha,
            va=va,
            fontsize=9,
            color="#555555",
            style="italic",
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Derived importance (R² points, Shapley)")
    ax.set_title(f"{title} (n = {n:,})")
    ax.spines[["top", "right"]].set_visible(False)
    _label_points(fig, ax, x, y, [_label(name, labels) for name in ipa.index])
    return fig


def _label_points(
    fig: Figure, ax: object, x: np.ndarray, y: np.ndarray, names: Sequence[str]
) -> None:
    """Label each point (up and to the right of it), moving labels apart vertically where they
    would overlap (:func:`_repel_labels`); a moved label is joined to its point by a thin line.

    The labels' sizes are measured on the laid-out figure, so the repel works in the data
    coordinates the figure is drawn in; the labels take no part in the layout."""
    from matplotlib.transforms import offset_copy

    offset = offset_copy(ax.transData, fig=fig, x=5, y=4, units="points")
    texts = [
        ax.text(xi, yi, name, transform=offset, fontsize=9, in_layout=False)
        for xi, yi, name in zip(x, y, names, strict=True)
    ]
    if len(texts) < 2:
        return
    engine = fig.get_layout_engine()
    if not lay_out(fig) and engine is not None:  # as the SVG writer places the axes, or else
        engine.execute(fig)  # as matplotlib does
    to_data = ax.transData.inverted()
    scale = fig.dpi / DISPLAY_DPI  # CSS pixels to display pixels
    boxes = []
    for t in texts:
        width, height, descent = (v * scale for v in text_box(t.get_text(), t.get_fontsize()))
        left, base = t.get_transform().transform(t.get_position())  # the baseline's left end
        corners = [(left, base - descent), (left + width, base - descent + height)]
        boxes.append(to_data.transform(corners))
    boxes = np.array(boxes)
    # boxes[i] = [[left, bottom], [right, top]] in data coordinates
    widths = boxes[:, 1, 0] - boxes[:, 0, 0]
    heights = boxes[:, 1, 1] - boxes[:, 0, 1]
    bottoms = _repel_labels(boxes[:, 0, 0], boxes[:, 0, 1], widths, heights)
    shift = bottoms - boxes[:, 0, 1]
    for text, xi, yi, dy, height in zip(texts, x, y, shift, heights, strict=True):
        text.set_position((xi, yi + dy))
        if abs(dy) > height / 2:  # far from its point: say which point it names
            ax.plot([xi, xi], [yi, yi + dy], color="#BBBBBB", lw=0.6, zorder=1)


def _repel_labels(
    left: np.ndarray,
    bottom: np.ndarray,
    widths: np.ndarray,
    heights: np.ndarray,
    *,
    iterations: int = 200,
) -> np.ndarray:
    """New bottoms for label boxes, moved vertically apart until no two boxes overlap.

    Parameters
    ----------
    left, bottom, widths, heights
        The boxes, in data coordinates (one element per label).
    iterations
        At most this many passes over the pairs of boxes.

    Returns
    -------
    numpy.ndarray
        The bottom of each box; the left sides are unchanged.

    Notes
    -----
    Deterministic: in each pass the boxes are taken from the lowest up (ties by left side,
    then by position in the input), and two boxes that overlap horizontally and are closer
    vertically than the taller of them are each moved half the shortfall apart (the upper one
    up, the lower one down), so their bottoms end at least that height apart.
    """
    left = np.asarray(left, dtype=float)
    bottoms = np.asarray(bottom, dtype=float).copy()
    widths = np.asarray(widths, dtype=float)
    heights = np.asarray(heights, dtype=float)
    right = left + widths
    apart = (left[:, None] < right[None, :]) & (left[None, :] < right[:, None])
    for _ in range(iterations):
        moved = False
        order = np.lexsort((np.arange(len(bottoms)), left, bottoms))
        for rank, i in enumerate(order):
            for j in order[rank + 1 :]:
                need = max(heights[i], heights[j]) * (1 + 1e-9)
                gap = bottoms[j] - bottoms[i]
                if apart[i, j] and gap < need:
                    bottoms[i] -= (need - gap) / 2
                    bottoms[j] += (need - gap) / 2
                    moved = True
        if not moved:
            break
    return bottoms


def pareto_chart(
    pareto: pd.DataFrame,
    *,
    title: str,
    min_n: int,
    labels: Mapping[str, str] | None = None,
    cutoff: float = 0.8,
) -> Figure:
    """Pareto of dissatisfaction from :func:`csatlib.stats.drivers.dissatisfaction_pareto`: each
    attribute's share of all low scores (bars, vital few highlighted) and the cumulative line.

    When the wave has too few low scores in all to rank the attributes (fewer than the Pareto's
    ``min_n``), the chart is the one sentence of :func:`csatlib.report.tables.pareto_note`
    under its title, the same the table shows, and no bar."""
    from csatlib.report.tables import pareto_note

    shown = pareto.loc[~pareto["suppressed"].fillna(True).astype(bool)]
    n = int(pareto["n"].max()) if len(pareto) else 0
    if shown.empty:
        return suppressed_figure(title, n=n, min_n=min_n)
    note = pareto_note(pareto)
    if note:
        fig = new_figure(height=1.6)
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_title(f"{title} (n = {n:,})")
        ax.text(0.5, 0.4, note, ha="center", va="center", fontsize=11, color="#555555")
        return fig
    fig = new_figure(7.5, 4.2)
    ax = fig.add_subplot()
    names = [_label(i, labels) for i in shown.index]
    share = 100 * shown["share_of_all_low"].astype(float).to_numpy()
    vital = shown["vital_few"].fillna(False).astype(bool).to_numpy()
    ax.bar(names, share, color=np.where(vital, "#D55E00", "#BBBBBB"))
    ax2 = ax.twinx()
    ax2.plot(names, 100 * shown["cumulative"].astype(float).to_numpy(), color="#333333", marker="o")
    ax2.axhline(100 * cutoff, color="#999999", lw=1, ls="--")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("Cumulative share (%)")
    ax.set_ylabel("Share of all low scores (%)")
    ax.set_xlabel("Attribute (vital few in orange)")
    ax.tick_params(axis="x", labelrotation=30)
    for tick in ax.get_xticklabels():
        tick.set_horizontalalignment("right")
    ax.set_title(f"{title} (n = {n:,})")
    return fig


def trend_chart(
    trends: pd.DataFrame,
    *,
    title: str,
    ylabel: str,
    labels: Mapping[str, str] | None = None,
    statistic: str = "mean",
    measures: Sequence[str] | None = None,
) -> Figure:
    """Each measure by wave with its 95% interval, from :func:`csatlib.stats.scores.trends`;
    suppressed cells are left out (a gap in the line) and the legend says n per wave.
    ``measures`` limits the chart to those measures (default: all)."""
    rows = trends.loc[trends["statistic"] == statistic] if "statistic" in trends else trends
    if measures is not None:
        rows = rows.loc[rows["measure"].isin(list(measures))]
    fig = new_figure(7.5, 4.2)
    ax = fig.add_subplot()
    waves = list(dict.fromkeys(rows["wave"].astype(str)))
    positions = {w: i for i, w in enumerate(waves)}
    for measure, group in rows.groupby("measure", sort=False, observed=True):
        ok = ~group["suppressed"].fillna(True).astype(bool)
        g = group.loc[ok]
        xs = [positions[str(w)] for w in g["wave"]]
        value = g["value"].astype(float).to_numpy()
        err = np.vstack([value - g["ci_low"].astype(float), g["ci_high"].astype(float) - value])
        ax.errorbar(xs, value, yerr=err, marker="o", capsize=3, label=_label(measure, labels))
    ax.set_xticks(range(len(waves)), waves)
    ax.set_xlabel("Wave")
    ax.set_ylabel(ylabel)
    n_text = ", ".join(
        f"{w}: {int(n):,}"
        for w, n in rows.groupby("wave", observed=True, sort=False)["n"].max().items()
    )
    ax.set_title(f"{title}\n(n per wave: {n_text})", fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def nps_league_chart(table: pd.DataFrame, *, title: str, min_n: int) -> Figure:
    """NPS by country with 95% intervals (rows of :func:`csatlib.stats.nps.nps_by_group` with a
    ``country`` column), best first; suppressed countries are named with their n, no bar."""
    shown = table.sort_values("score", ascending=True, na_position="first")
    fig = new_figure(7.5, 0.35 * len(shown) + 1.2)
    ax = fig.add_subplot()
    ys = np.arange(len(shown))
    sup = shown["suppressed"].fillna(True).astype(bool).to_numpy()
    score = shown["score"].astype(float).to_numpy()
    low = shown["ci_low"].astype(float).to_numpy()
    high = shown["ci_high"].astype(float).to_numpy()
    ok = ~sup
    ax.errorbar(
        score[ok],
        ys[ok],
        xerr=np.vstack([score[ok] - low[ok], high[ok] - score[ok]]),
        fmt="o",
        color="#0072B2",
        capsize=3,
    )
    names = [
        f"{c} (n = {int(n):,}, suppressed)" if s else f"{c} (n = {int(n):,})"
        for c, n, s in zip(shown["country"], shown["n"], sup, strict=True)
    ]
    ax.set_yticks(ys, names)
    ax.axvline(0, color="#999999", lw=1)
    ax.set_xlabel(f"Net Promoter Score (points; min n = {min_n})")
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def attribute_heatmap(
    means: pd.DataFrame,
    *,
    title: str,
    labels: Mapping[str, str] | None = None,
    value_label: str = "Mean rating",
    columns: Sequence[str] | None = None,
) -> Figure:
    """Attribute × country heatmap of mean ratings (a wide frame: rows attributes, columns
    countries; NaN where suppressed, shown blank and marked "s").

    Parameters
    ----------
    means
        Mean ratings, e.g. :func:`csatlib.report.overview.attribute_means`.
    title, labels, value_label
        Chart title, attribute labels and the colour bar's label.
    columns
        The countries to show, in this order (e.g. the league table's); default all, in the
        frame's order.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    The colours are the diverging purple-orange map (:data:`HEATMAP_CMAP`) centred on the mean
    of all cells shown: purple above it, orange below, readable with colour-blindness.
    """
    import seaborn as sns

    data = means.astype(float)
    if columns is not None:
        order = [str(c) for c in columns]
        unknown = [c for c in order if c not in set(map(str, data.columns))]
        if unknown:
            raise DataError(
                f"attribute_heatmap: columns {unknown} are not in the means' columns "
                f"{[str(c) for c in data.columns]}"
            )
        data = data.set_axis([str(c) for c in data.columns], axis=1)[order]
    xlabel = "Country (s = suppressed, n below the minimum)"
    # a column per country, but never narrower than its labels and three inches of cells need
    # (one country's heatmap was 1.6 inches wide: no room left for the cells)
    # inches: the attribute labels (about 0.075 a letter) with the axis label, the colour bar
    rows = 0.075 * max((len(_label(i, labels)) for i in data.index), default=0) + 0.6
    colour_bar = 1.3
    width = max(1.0 + 0.62 * data.shape[1], rows + colour_bar + 3.0, 0.075 * len(xlabel) + rows)
    # the title is centred over the cells and may reach an inch past them on either side
    title = _wrapped(title, int((width - rows - colour_bar + 2.0) / 0.085))
    fig = new_figure(width, 1.2 + 0.45 * data.shape[0] + 0.2 * title.count("\n"))
    ax = fig.add_subplot()
    sns.heatmap(
        data.rename(index=lambda i: _label(i, labels)),
        ax=ax,
        annot=True,
        fmt=".1f",
        cmap=HEATMAP_CMAP,
        center=float(np.nanmean(data.to_numpy())),
        linewidths=0.5,
        cbar_kws={"label": value_label},
    )
    for (i, j), value in np.ndenumerate(data.to_numpy()):
        if np.isnan(value):
            ax.text(j + 0.5, i + 0.5, "s", ha="center", va="center", color="#777777")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Attribute")
    ax.set_title(title)
    return fig


def _interval_line(
    ax: object, xs: np.ndarray, value: np.ndarray, low: np.ndarray, high: np.ndarray, **kw: object
) -> None:
    """A line with markers and its interval as a band; NaN (suppressed) breaks both."""
    colour = kw.pop("color", _LINE_COLOUR)
    ax.fill_between(xs, low, high, color=colour, alpha=0.2, lw=0, **kw)
    ax.plot(xs, value, color=colour, marker="o", ms=4, lw=1.5, **kw)


def _shown(rows: pd.DataFrame, columns: Sequence[str]) -> dict[str, np.ndarray]:
    """The estimates to draw, NaN where a cell is suppressed (never its planted numbers)."""
    suppressed = rows["suppressed"].fillna(True).astype(bool).to_numpy()
    return {c: np.where(suppressed, np.nan, rows[c].astype(float).to_numpy()) for c in columns}


def _n_per(rows: pd.DataFrame, key: str) -> str:
    counts = rows.groupby(key, observed=True, sort=False)["n"].max()
    return ", ".join(f"{k}: {int(n):,}" for k, n in counts.items())


def _wrapped(text: str, width: int) -> str:
    """``text`` with each of its lines wrapped at ``width`` characters (a panel's title)."""
    return "\n".join(textwrap.fill(line, width) or line for line in text.split("\n"))


def small_multiples_chart(
    trends_table: pd.DataFrame,
    *,
    measures: Sequence[str],
    labels: Mapping[str, str] | None,
    title: str,
    ylabel: str,
    statistic: str = "mean",
    ncols: int = 4,
) -> Figure:
    """One small panel per measure: its value by wave with the 95% interval as a band, on one
    y-axis shared by all panels, from :func:`csatlib.stats.scores.trends`.

    Parameters
    ----------
    trends_table
        Rows of :func:`csatlib.stats.scores.trends` (columns ``measure, wave, statistic, n,
        value, ci_low, ci_high, suppressed``).
    measures
        The measures to draw, one panel each, in this order.
    labels
        Measure -> label for the panel titles (default: the measure's name).
    title, ylabel
        Figure title (n per wave is appended) and the shared y-axis label.
    statistic
        Rows of this statistic are drawn (default ``"mean"``).
    ncols
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per measure.

    Notes
    -----
    A suppressed cell is a gap in its panel's line and band; a panel whose every wave is
    suppressed says so.
    """
    require_columns(
        trends_table,
        ["measure", "wave", "statistic", "n", "value", "ci_low", "ci_high", "suppressed"],
        "small_multiples_chart",
    )
    if not isinstance(ncols, int | np.integer) or isinstance(ncols, bool) or ncols < 1:
        raise DataError(f"small_multiples_chart: ncols must be an int >= 1; got {ncols!r}")
    measures = [str(m) for m in measures]
    rows = trends_table.loc[trends_table["statistic"] == statistic]
    unknown = [m for m in measures if m not in set(rows["measure"].astype(str))]
    if unknown or not measures:
        raise DataError(
            f"small_multiples_chart: measures {unknown or measures} have no {statistic!r} rows; "
            f"found {sorted(set(rows['measure'].astype(str)))}"
        )
    rows = rows.loc[rows["measure"].astype(str).isin(measures)]
    waves = list(dict.fromkeys(rows["wave"].astype(str)))
    ncols = min(ncols, len(measures))
    nrows = -(-len(measures) // ncols)
    fig = new_figure(7.5, 0.6 + 1.8 * nrows)
    grid = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax in grid[len(measures) :]:
        fig.delaxes(ax)
    for k, (ax, measure) in enumerate(zip(grid, measures, strict=False)):
        group = rows.loc[rows["measure"].astype(str) == measure]
        shown = _shown(group, ["value", "ci_low", "ci_high"])
        xs = np.array([waves.index(str(w)) for w in group["wave"]], dtype=float)
        _interval_line(ax, xs, shown["value"], shown["ci_low"], shown["ci_high"])
        if np.isnan(shown["value"]).all():
            ax.text(0.5, 0.5, "suppressed", transform=ax.transAxes, ha="center", color="#777777")
        ax.set_title(_wrapped(_label(measure, labels), 24), fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
        # a panel with no panel below it shows the wave labels
        ax.tick_params(axis="x", labelbottom=k + ncols >= len(measures), labelrotation=45)
    grid[0].set_xticks(range(len(waves)), waves)
    fig.supxlabel("Wave", fontsize=9)
    fig.supylabel(ylabel, fontsize=9)
    fig.suptitle(f"{title}\n(n per wave: {_n_per(rows, 'wave')})", fontsize=10)
    fig.set_layout_engine(PanelGridLayout(grid[: len(measures)], ncols))
    return fig


def _axis_with_gaps(
    label: str, names: Sequence[str], *, min_n: int, protects: Sequence[str] = ()
) -> str:
    """An x-axis label that names the suppressed cells left out of the chart, the note wrapped
    to the chart's width (80 characters): those of ``protects`` as hidden to protect a small
    cell (they have answers enough), the others as below ``min_n``."""
    kept = set(protects)
    small = [n for n in names if n not in kept]
    hidden = [n for n in names if n in kept]
    notes = [f"not shown (fewer than {min_n} answers, suppressed): {', '.join(small)}"] * bool(
        small
    )
    notes += [f"not shown (suppressed to protect a small cell): {', '.join(hidden)}"] * bool(hidden)
    return "\n".join([label, *(textwrap.fill(note, 80) for note in notes)])


def _protecting(summary: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The ``names`` (one per row of ``summary``) of the rows hidden to protect a small cell
    (``suppression == "complementary"``, :func:`csatlib.report.context.protect_cells`)."""
    if "suppression" not in summary:
        return []
    why = summary["suppression"].astype(str).to_numpy()
    return [name for name, w in zip(names, why, strict=True) if w == "complementary"]


def _nothing_shown(title: str, what: str, *, n: int, min_n: int) -> Figure:
    """The notice of a chart by wave or month whose every point is suppressed (``n`` answers in
    all, none of its ``what`` with ``min_n``)."""
    note = f"Suppressed: no {what} has {min_n} or more answers ({n:,} in all)."
    return suppressed_figure(title, n=n, min_n=min_n, note=note)


def nps_by_wave_chart(
    trends_table: pd.DataFrame,
    *,
    title: str,
    min_n: int,
    measure: str | None = None,
    ylabel: str = "Net Promoter Score (points)",
) -> Figure:
    """NPS by wave with its 95% interval (a band), from the ``statistic == "nps"`` rows of
    :func:`csatlib.stats.scores.trends`.

    Parameters
    ----------
    trends_table
        Rows of :func:`csatlib.stats.scores.trends` (columns ``measure, wave, statistic, n,
        value, ci_low, ci_high, suppressed``), e.g. a country report's ``ctx.country_trends``.
    title
        Chart title; n per wave is appended.
    min_n
        The small-cell minimum the table was computed with (named in the note on gaps).
    measure
        The NPS measure to draw, if the table has NPS rows of more than one.
    ylabel
        Y-axis label.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    A suppressed wave is a gap in the line and the band, named in a note under the chart.
    """
    require_columns(
        trends_table,
        ["measure", "wave", "statistic", "n", "value", "ci_low", "ci_high", "suppressed"],
        "nps_by_wave_chart",
    )
    rows = trends_table.loc[trends_table["statistic"] == "nps"]
    found = list(dict.fromkeys(rows["measure"].astype(str)))
    if measure is not None:
        rows = rows.loc[rows["measure"].astype(str) == str(measure)]
    if rows.empty or (measure is None and len(found) > 1):
        raise DataError(
            f"nps_by_wave_chart: expected the 'nps' rows of one measure (measure={measure!r}); "
            f"found NPS rows of {found}"
        )
    waves = rows["wave"].astype(str).tolist()
    shown = _shown(rows, ["value", "ci_low", "ci_high"])
    if np.isnan(shown["value"]).all():
        total = int(rows["n"].fillna(0).sum())
        return _nothing_shown(title, "wave", n=total, min_n=min_n)
    fig = new_figure(7.0, 3.6)
    ax = fig.add_subplot()
    xs = np.arange(len(waves), dtype=float)
    _interval_line(ax, xs, shown["value"], shown["ci_low"], shown["ci_high"])
    ax.axhline(0, color="#999999", lw=1)
    ax.set_xticks(xs, waves)
    ax.set_xlim(-0.5, len(waves) - 0.5)
    gaps = [w for w, v in zip(waves, shown["value"], strict=True) if np.isnan(v)]
    ax.set_xlabel(_axis_with_gaps("Wave", gaps, min_n=min_n))
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}\n(n per wave: {_n_per(rows, 'wave')})", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def transaction_chart(
    summary: pd.DataFrame,
    *,
    title: str,
    min_n: int,
    statistic: Literal["mean", "top_box"] = "mean",
    ylabel: str | None = None,
) -> Figure:
    """Transaction-survey score by month with its interval (a band), from
    :func:`csatlib.stats.scores.transaction_summary` grouped by month only.

    Parameters
    ----------
    summary
        Columns ``month, n, mean, ci_low, ci_high, top_box, top_box_ci_low, top_box_ci_high,
        suppressed``, one row per month, in the order to draw.
    title
        Chart title; the number of transactions is appended.
    min_n
        The small-cell minimum the summary was computed with (named in the note on gaps).
    statistic
        ``"mean"`` (mean rating, t interval) or ``"top_box"`` (top-box share in %, Wilson
        interval).
    ylabel
        Y-axis label (default "Mean rating" or "Top-box share (%)").

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    A suppressed month is a gap in the line and the band, named in a note under the chart; its
    estimates are never drawn.
    """
    if statistic not in ("mean", "top_box"):
        raise DataError(
            f"transaction_chart: statistic must be 'mean' or 'top_box'; got {statistic!r}"
        )
    prefix = "" if statistic == "mean" else "top_box_"
    columns = [statistic, f"{prefix}ci_low", f"{prefix}ci_high"]
    require_columns(summary, ["month", "n", *columns, "suppressed"], "transaction_chart")
    months = summary["month"].astype(str).tolist()
    repeated = sorted({m for m in months if months.count(m) > 1})
    if repeated:
        raise DataError(
            f"transaction_chart: expected one row per month (transaction_summary(by='month')); "
            f"months {repeated} have several rows"
        )
    shown = _shown(summary, columns)
    total = int(summary["n"].fillna(0).sum())
    if np.isnan(shown[statistic]).all():
        titled = f"{title} (n = {total:,} transactions)"
        return _nothing_shown(titled, "month", n=total, min_n=min_n)
    scale = 1.0 if statistic == "mean" else 100.0
    fig = new_figure(7.0, 3.6)
    ax = fig.add_subplot()
    xs = np.arange(len(months), dtype=float)
    _interval_line(ax, xs, *(scale * shown[c] for c in columns))
    ax.set_xticks(xs, months)
    ax.set_xlim(-0.5, len(months) - 0.5)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    gaps = [m for m, v in zip(months, shown[statistic], strict=True) if np.isnan(v)]
    protects = _protecting(summary, months)
    ax.set_xlabel(_axis_with_gaps("Month", gaps, min_n=min_n, protects=protects))
    ax.set_ylabel(ylabel or ("Mean rating" if statistic == "mean" else "Top-box share (%)"))
    ax.set_title(f"{title} (n = {total:,} transactions)")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _check_order(table: pd.DataFrame, countries: Sequence[str], func: str) -> list[str]:
    """``countries`` as str, each of them a row of ``table`` (its ``country`` column)."""
    order = [str(c) for c in countries]
    found = set(table["country"].astype(str))
    unknown = [c for c in order if c not in found]
    if unknown or not order:
        raise DataError(
            f"{func}: countries {unknown or order} have no rows in column 'country'; "
            f"found {sorted(found)}"
        )
    return order


def nps_trend_multiples(
    trends_table: pd.DataFrame,
    *,
    countries: Sequence[str],
    labels: Mapping[str, str] | None,
    title: str,
    ncols: int = 5,
) -> Figure:
    """NPS by wave, one small panel per country in the given order (e.g. the league table's),
    with the 95% interval as a band and every significant change marked.

    Parameters
    ----------
    trends_table
        NPS rows of :func:`csatlib.stats.scores.trends` with ``measure`` set to the country
        code (:attr:`csatlib.report.overview.StudyContext.nps_trends`; columns ``measure, wave,
        statistic, n, value, ci_low, ci_high, change, significant, suppressed``).
    countries
        Country codes, one panel each, in this order.
    labels
        Country code -> panel title (e.g.
        :func:`csatlib.report.overview.country_panel_labels`, which names the n of a suppressed
        country).
    title
        Figure title (the caller names the number of respondents in it).
    ncols
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per country, sharing both axes; a line at zero in each.

    Notes
    -----
    The panels are :func:`small_multiples_chart`'s (a suppressed wave is a gap, a country
    suppressed in every wave says "suppressed"). A change flagged ``significant`` (the verdict
    of the report's multiplicity policy) gets a black triangle on its point, up for an increase
    and down for a decrease: shape, not colour, carries the verdict.
    """
    require_columns(trends_table, ["change", "significant"], "nps_trend_multiples")
    order = [str(c) for c in countries]
    fig = small_multiples_chart(
        trends_table,
        measures=order,
        labels={c: str((labels or {}).get(c, c)) for c in order},  # a code stays "US", not "Us"
        title=title,
        ylabel="Net Promoter Score (points)",
        statistic="nps",
        ncols=ncols,
    )
    nrows = -(-len(order) // min(ncols, len(order)))
    fig.set_size_inches(9.0, 0.9 + 1.45 * nrows)
    rows = trends_table.loc[trends_table["statistic"] == "nps"]
    waves = list(dict.fromkeys(rows["wave"].astype(str)))
    for ax, country in zip(fig.axes, order, strict=True):
        mine = rows.loc[rows["measure"].astype(str) == country]
        ax.axhline(0, color="#999999", lw=0.8, zorder=0)
        flagged = (
            mine["significant"].fillna(False).astype(bool).to_numpy()
            & ~mine["suppressed"].fillna(True).astype(bool).to_numpy()
        )
        rising = mine["change"].astype(float).to_numpy() > 0
        xs = np.array([waves.index(str(w)) for w in mine["wave"]], dtype=float)
        value = mine["value"].astype(float).to_numpy()
        for keep, marker in ((flagged & rising, "^"), (flagged & ~rising, "v")):
            if keep.any():
                ax.scatter(xs[keep], value[keep], marker=marker, s=45, color="black", zorder=5)
    fig.suptitle(title, fontsize=10)
    fig.supxlabel("Wave  (▲ / ▼: significant change since the previous wave, q < 0.05)", fontsize=9)
    return fig


def country_interval_chart(
    table: pd.DataFrame,
    *,
    countries: Sequence[str],
    title: str,
    xlabel: str,
    min_n: int,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """A score by country with its 95% interval (dot and line), countries from top to bottom in
    the given order (e.g. the league table's).

    Parameters
    ----------
    table
        One row per country: ``country, n, score, ci_low, ci_high, suppressed`` (e.g.
        :func:`csatlib.stats.loyalty.loyalty_summary` by country).
    countries
        Country codes, top to bottom.
    title, xlabel
        Chart title and x-axis label.
    min_n
        The small-cell minimum the table was computed with (named in the axis label).
    labels
        Country code -> name on the y-axis (default the code); n is appended.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    A suppressed country is named with its n and "suppressed" and has no point; its estimates
    are never drawn.
    """
    require_columns(
        table,
        ["country", "n", "score", "ci_low", "ci_high", "suppressed"],
        "country_interval_chart",
    )
    order = _check_order(table, countries, "country_interval_chart")
    rows = table.set_axis(table["country"].astype(str).to_numpy()).loc[order]
    shown = _shown(rows, ["score", "ci_low", "ci_high"])
    ys = np.arange(len(order))[::-1]  # the first country at the top
    fig = new_figure(7.5, 0.25 * len(order) + 1.0)
    ax = fig.add_subplot()
    ax.errorbar(
        shown["score"],
        ys,
        xerr=np.vstack([shown["score"] - shown["ci_low"], shown["ci_high"] - shown["score"]]),
        fmt="o",
        color=_LINE_COLOUR,
        capsize=3,
    )
    sup = rows["suppressed"].fillna(True).to_numpy(dtype=bool) | np.isnan(shown["score"])
    names = [
        f"{(labels or {}).get(c, c)}, n = {int(n):,}" + (", suppressed" if s else "")
        for c, n, s in zip(order, rows["n"], sup, strict=True)
    ]
    ax.set_yticks(ys, names, fontsize=9)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.grid(axis="x", color="#EEEEEE", lw=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel(f"{xlabel} (min n = {min_n})")
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def group_month_chart(
    summary: pd.DataFrame,
    *,
    group: str,
    title: str,
    min_n: int,
    ylabel: str = "Mean rating",
    ncols: int = 3,
) -> Figure:
    """The transaction survey's mean by month with its 95% interval, one small panel per group
    (e.g. region), from :func:`csatlib.stats.scores.transaction_summary` by ``[group, "month"]``.

    Parameters
    ----------
    summary
        Columns ``<group>, month, n, mean, ci_low, ci_high, suppressed``, in the order to draw.
    group
        The column whose values get a panel each, in order of appearance.
    title
        Chart title; the number of transactions is appended.
    min_n
        The small-cell minimum the summary was computed with (named in the note on gaps).
    ylabel
        Y-axis label.
    ncols
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per group, sharing both axes; every third month is labelled.

    Notes
    -----
    The panels are :func:`small_multiples_chart`'s; a suppressed month is a gap, named with its
    n in a note under the chart, and never drawn.
    """
    require_columns(
        summary,
        [group, "month", "n", "mean", "ci_low", "ci_high", "suppressed"],
        "group_month_chart",
    )
    panels = summary.rename(columns={"mean": "value"}).assign(
        measure=summary[group].astype(str).to_numpy(),
        wave=summary["month"].astype(str).to_numpy(),
        statistic="mean",
    )
    groups = list(dict.fromkeys(panels["measure"]))
    fig = small_multiples_chart(
        panels,
        measures=groups,
        labels={g: g for g in groups},  # the group's own values ("EMEA"), never recased
        title=title,
        ylabel=ylabel,
        ncols=ncols,
    )
    nrows = -(-len(groups) // min(ncols, len(groups)))
    fig.set_size_inches(7.5, 1.3 + 1.6 * nrows)
    months = list(dict.fromkeys(panels["wave"]))
    fig.axes[0].set_xticks(range(0, len(months), 3), months[::3])
    for ax in fig.axes:
        ax.tick_params(axis="x", labelrotation=0)
    sup = panels["suppressed"].fillna(True).astype(bool).to_numpy()
    names = [
        f"{g} {m} (n = {int(n)})"
        for g, m, n in zip(panels["measure"], panels["wave"], panels["n"], strict=True)
    ]
    gaps = [name for name, s in zip(names, sup, strict=True) if s]
    protects = _protecting(summary, names)
    total = int(summary["n"].fillna(0).sum())
    fig.suptitle(f"{title} (n = {total:,} transactions)", fontsize=10)
    fig.supxlabel(_axis_with_gaps("Month", gaps, min_n=min_n, protects=protects), fontsize=9)
    return fig
