"""A report chart's matplotlib figure written as SVG from its artists, without matplotlib's
renderer: the figure stays the chart (built by :mod:`csatlib.report.plots`, inspected by its
tests, shown by matplotlib anywhere else), only the drawing of it for a report changes.

Drawing a figure with matplotlib's Agg renderer and saving it as a PNG costs a report about
half a core-second for its seven charts (21 to 130 ms each, Germany's, figures already
built): laying out the axes measures every text with the renderer, the draw walks
matplotlib's artist tree (ticks are whole artists, each with its own lines and texts) and the
pixels are quantized and compressed. :func:`figure_svg` writes the same chart as a few hundred
SVG elements in 1 to 13 ms, and the page's browser draws it (sharp at any zoom, its text
selectable).

What it draws, and how:

* **Layout.** Each axes is placed as :class:`csatlib.report.plots.FitLayout` (one axes) and
  :class:`csatlib.report.plots.PanelGridLayout` (a grid of panels) place it, from the room its
  title, tick labels, axis labels, legend and figure texts need; the text is measured with the
  advance widths of DejaVu Sans (matplotlib's default font, whose metrics Verdana, the first
  fallback the SVG names, shares closely). The figure's subplot parameters are then set, so
  that the axes' transforms map data to the page.
* **Artists.** Rectangles (bars, legend swatches), lines with their markers, filled polygons
  (interval bands), scatter points, texts, legends, spines, ticks and their labels, and the
  figure's title and axis labels: positions from matplotlib's own transforms, colours, widths,
  dashes, sizes, rotations and alignments from the artists.
* **Anything else** (an image, a colour bar, a mathematical text, a log scale, an artist of
  another kind, a layout of another kind) makes :func:`figure_svg` return None, and the figure
  is drawn by matplotlib as a PNG instead (:func:`csatlib.report.plots.figure_png`): a chart is
  never drawn partly.

All text is escaped for XML; the chart's title is the SVG's ``<title>`` and its alternative
text in the report.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from html import escape
from typing import Any

import numpy as np
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation, Text

__all__ = ["FONT_FAMILY", "figure_svg", "fit_titles", "lay_out", "text_box", "text_width"]

#: The fonts the SVG asks for: DejaVu Sans (measured here), then fonts of close metrics.
FONT_FAMILY = "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', Geneva, sans-serif"

#: CSS pixels per inch of figure size (:data:`csatlib.report.plots.DISPLAY_DPI`).
_PX = 100.0
#: CSS pixels per typographic point.
_PT = _PX / 72.0


class _Unsupported(Exception):
    """The figure holds something this module does not draw (matplotlib draws it)."""


# ------------------------------------------------------------------------------- text metrics


class _Font:
    """DejaVu Sans's metrics in em: each glyph's advance width, ascent and descent (unhinted,
    as a browser draws them), and the font's own ascent, descent and line gap (its OS/2
    table, which matplotlib's text layout reads)."""

    def __init__(self, bold: bool) -> None:
        from matplotlib import ft2font
        from matplotlib.font_manager import FontProperties, findfont

        weight = "bold" if bold else "normal"
        self.font = ft2font.FT2Font(findfont(FontProperties(family="DejaVu Sans", weight=weight)))
        self.font.set_size(100, 72)  # 100 pixels to the em
        self.flags = ft2font.LoadFlags.NO_HINTING
        table = self.font.get_sfnt_table("OS/2")
        em = self.font.get_sfnt_table("head")["unitsPerEm"]
        self.ascent = table["sTypoAscender"] / em
        self.descent = -table["sTypoDescender"] / em
        self.line_gap = table["sTypoLineGap"] / em
        self.glyphs: dict[str, tuple[float, float, float]] = {}

    def glyph(self, char: str) -> tuple[float, float, float]:
        """Advance width, ascent and descent of ``char``."""
        found = self.glyphs.get(char)
        if found is None:
            g = self.font.load_char(ord(char), flags=self.flags)
            found = (
                g.linearHoriAdvance / 65536,
                g.horiBearingY / 64,
                (g.height - g.horiBearingY) / 64,
            )
            found = self.glyphs[char] = tuple(v / 100 for v in found)  # type: ignore[assignment]
        return found


@functools.cache
def _font(bold: bool) -> _Font:
    return _Font(bold)


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in CSS pixels of one line of ``text`` in DejaVu Sans at ``size`` points: the sum
    of its glyphs' advance widths, as matplotlib lays out text (matplotlib's Agg renderer
    measures hinted glyphs, a few per cent apart at small sizes)."""
    font = _font(bold)
    return sum(font.glyph(c)[0] for c in text) * size * _PT


def _lines(text: str, size: float, bold: bool = False) -> tuple[float, float, list[float]]:
    """Width and height (CSS pixels) of a possibly multi-line text, unrotated, and the
    baseline of each line from its top, as matplotlib's text layout ("normal" line spacing)
    places them: each line at least the font's ascent and descent high, with the font's line
    gap shared above and below each line of a text of several."""
    font = _font(bold)
    lines = text.split("\n")
    gap = font.line_gap / 2 if len(lines) > 1 else 0.0
    y, baselines, width = 0.0, [], 0.0
    for line in lines:
        glyphs = [font.glyph(c) for c in line]
        ascent = max([font.ascent, *(g[1] for g in glyphs)]) + gap
        descent = max([font.descent, *(g[2] for g in glyphs)]) + gap
        baselines.append(y + ascent)
        y += ascent + descent
        width = max(width, sum(g[0] for g in glyphs))
    scale = size * _PT
    return width * scale, y * scale, [b * scale for b in baselines]


def _text_box(text: str, size: float, bold: bool = False) -> tuple[float, float]:
    """Width and height (CSS pixels) of a possibly multi-line text, unrotated."""
    width, height, _ = _lines(text, size, bold)
    return width, height


def _line_height(size: float, bold: bool = False) -> float:
    """Height of one line of text (the font's ascent and descent)."""
    font = _font(bold)
    return (font.ascent + font.descent) * size * _PT


def _length(line: str, size: float, bold: bool) -> str:
    """The SVG attributes that stretch or squeeze a drawn line to its measured width."""
    if not line.strip():
        return ""
    width = text_width(line, size, bold=bold)
    return f' textLength="{width:.2f}" lengthAdjust="spacingAndGlyphs"'


def _placement(
    x: float,
    y: float,
    size: tuple[float, float],
    baselines: list[float],
    ha: str,
    va: str,
    rotation: float,
) -> tuple[float, float, tuple[float, float] | None]:
    """Where a text of ``size`` (width, height; its lines' ``baselines`` from its top) aligned
    at (x, y) goes, as matplotlib's default rotation mode places it: the left and top of the
    unrotated text, and the centre it is turned about (None when it is not turned). Rotated,
    ``ha`` and ``va`` place the box of the rotated text; unrotated, the text itself."""
    width, height = size
    if rotation:
        rw, rh = _rotated(width, height, rotation)
        cx = x + {"left": rw / 2, "right": -rw / 2}.get(ha, 0.0)
        cy = y + {"top": rh / 2, "bottom": -rh / 2, "baseline": -rh / 2}.get(va, 0.0)
        return cx - width / 2, cy - height / 2, (cx, cy)
    left = x - {"left": 0.0, "right": width}.get(ha, width / 2)
    top = y - {
        "top": 0.0,
        "bottom": height,
        "baseline": baselines[-1],
        "center_baseline": baselines[0] / 2,
    }.get(va, height / 2)
    return left, top, None


def _rotated(width: float, height: float, degrees: float) -> tuple[float, float]:
    """The box a ``width`` x ``height`` box takes rotated by ``degrees``."""
    theta = math.radians(degrees)
    c, s = abs(math.cos(theta)), abs(math.sin(theta))
    return width * c + height * s, width * s + height * c


# ----------------------------------------------------------------------------------- drawing


def _colour(value: Any, alpha: float | None = None) -> tuple[str, float]:
    """An SVG colour and its opacity."""
    r, g, b, a = to_rgba(value)
    if alpha is not None:
        a = alpha
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}", a


def _paint(attr: str, value: Any, alpha: float | None = None) -> str:
    colour, opacity = _colour(value, alpha)
    if opacity <= 0:
        return f'{attr}="none"'
    return f'{attr}="{colour}"' + (f' {attr}-opacity="{opacity:.3g}"' if opacity < 1 else "")


def _dash(style: Any, width: float) -> str:
    """The SVG dash array of a matplotlib line style (scaled by the line width, as matplotlib
    scales its dash patterns)."""
    patterns = {"--": (3.7, 1.6), "-.": (6.4, 1.6, 1, 1.6), ":": (1, 1.65), "dashed": (3.7, 1.6)}
    pattern = patterns.get(style) if isinstance(style, str) else None
    if style in ("-", "solid", None, "None", "none", " ", ""):
        return ""
    if pattern is None:
        raise _Unsupported(f"line style {style!r}")
    scaled = ",".join(f"{p * max(width, 1.0):.2f}" for p in pattern)
    return f' stroke-dasharray="{scaled}"'


class _Canvas:
    """SVG elements in CSS pixels, y down; :meth:`points` turns matplotlib's display
    coordinates (pixels at the figure's dpi, y up) into the page's."""

    def __init__(self, fig: Figure) -> None:
        self.scale = _PX / fig.dpi
        self.width, self.height = (float(v) for v in fig.get_size_inches() * _PX)
        self.parts: list[str] = []

    def points(self, xy: np.ndarray) -> np.ndarray:
        """Display coordinates (n x 2) as page coordinates."""
        out = np.asarray(xy, dtype=float) * self.scale
        out[:, 1] = self.height - out[:, 1]
        return out

    def polyline(self, xy: np.ndarray, attrs: str, *, closed: bool = False) -> None:
        """One path per run of finite points (NaN breaks a line, as in matplotlib)."""
        finite = np.isfinite(xy).all(axis=1)
        runs = np.split(np.arange(len(xy)), np.flatnonzero(np.diff(finite.astype(int))) + 1)
        for run in runs:
            if len(run) < 2 or not finite[run[0]]:
                continue
            pts = " L".join(f"{x:.2f},{y:.2f}" for x, y in xy[run])
            self.parts.append(f'<path d="M{pts}{" Z" if closed else ""}" {attrs}/>')

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float,
        colour: Any = "black",
        ha: str = "left",
        va: str = "baseline",
        rotation: float = 0.0,
        italic: bool = False,
        bold: bool = False,
        alpha: float | None = None,
    ) -> None:
        """Draw ``text`` (lines split at newlines) aligned at (x, y) as matplotlib aligns it
        in its default rotation mode: ``ha`` and ``va`` place the box of the rotated text."""
        if not text:
            return
        width, height, baselines = _lines(text, size, bold)
        left, top, centre = _placement(x, y, (width, height), baselines, ha, va, rotation)
        turn = ""
        if centre is not None:
            turn = f' transform="rotate({-rotation:.2f} {centre[0]:.2f} {centre[1]:.2f})"'
        anchor = {"left": "start", "right": "end"}.get(ha, "middle")
        tx = left + {"start": 0.0, "end": width, "middle": width / 2}[anchor]
        style = f' font-size="{size * _PT:.2f}"'
        style += ' font-style="italic"' if italic else ""
        style += ' font-weight="bold"' if bold else ""
        fill = _paint("fill", colour, alpha)
        # each line held to the width it was laid out with: a reader's browser without
        # DejaVu Sans draws a fallback font a little wider or narrower, and the label must
        # still fit where the layout left room for it
        spans = "".join(
            f'<tspan x="{tx:.2f}" y="{top + base:.2f}"{_length(line, size, bold)}>'
            f"{escape(line)}</tspan>"
            for line, base in zip(text.split("\n"), baselines, strict=True)
        )
        self.parts.append(f'<text text-anchor="{anchor}"{style} {fill}{turn}>{spans}</text>')

    def svg(self, title: str) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.0f}" '
            f'height="{self.height:.0f}" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
            f'font-family="{FONT_FAMILY}" role="img">'
            f"<title>{escape(title)}</title>"
            f'<rect width="100%" height="100%" fill="white"/>'
        )
        return head + "".join(self.parts) + "</svg>"


def _size(text: Text) -> float:
    return float(text.get_fontsize())


def _bold(text: Text) -> bool:
    weight = text.get_fontweight()
    return weight in ("bold", "heavy", "extra bold", "black") or (
        isinstance(weight, int | float) and weight >= 600
    )


def _shown(text: Text | None) -> bool:
    return text is not None and text.get_visible() and bool(text.get_text())


def _legend_box(legend: Legend) -> tuple[float, float]:
    """Width and height (pixels at 100 dpi) of a one-column legend."""
    size = legend.prop.get_size_in_points()
    em = size * _PT
    widest = max((text_width(t.get_text(), size) for t in legend.texts), default=0.0)
    width = 2 * legend.borderpad * em + legend.handlelength * em
    width += legend.handletextpad * em + widest
    rows = len(legend.texts)
    height = 2 * legend.borderpad * em + rows * _line_height(size)
    height += max(rows - 1, 0) * legend.labelspacing * em
    return width, height


# ------------------------------------------------------------------------------ what is drawn


class _Item:
    """One thing drawn: its page box (left, top, right, bottom) for the layout, and how to
    draw it."""

    __slots__ = ("box", "draw", "in_layout", "zorder", "clip", "axes")

    def __init__(
        self,
        box: tuple[float, float, float, float] | None,
        draw: Any,
        *,
        zorder: float,
        in_layout: bool = True,
        clip: bool = False,
    ) -> None:
        self.box, self.draw, self.zorder = box, draw, zorder
        self.in_layout, self.clip = in_layout, clip
        self.axes = -1


def _text_item(
    canvas: _Canvas,
    x: float,
    y: float,
    text: str,
    *,
    size: float,
    zorder: float,
    in_layout: bool = True,
    **style: Any,
) -> _Item:
    """A text item at page point (x, y), with the box of :meth:`_Canvas.text`'s alignment."""
    ha, va = style.get("ha", "left"), style.get("va", "baseline")
    rotation = float(style.get("rotation", 0.0)) % 360
    width, height, baselines = _lines(text, size, bool(style.get("bold", False)))
    left, top, centre = _placement(x, y, (width, height), baselines, ha, va, rotation)
    if centre is not None:  # the box of the rotated text, about its centre
        rw, rh = _rotated(width, height, rotation)
        left, top = centre[0] - rw / 2, centre[1] - rh / 2
        width, height = rw, rh
    style["rotation"] = rotation

    def draw() -> None:
        canvas.text(x, y, text, size=size, **style)

    return _Item((left, top, left + width, top + height), draw, zorder=zorder, in_layout=in_layout)


def _check(text: Text, string: str | None = None) -> str:
    """The text of ``text`` (or ``string`` in its style), if this module draws it as
    matplotlib would (an annotation's place and arrow are worked out only by matplotlib's
    draw)."""
    if isinstance(text, Annotation):
        raise _Unsupported("an annotation")
    string = text.get_text() if string is None else string
    if text._preprocess_math(string)[1]:  # noqa: SLF001 - mathtext: matplotlib draws it
        raise _Unsupported("mathematical text")
    if text.get_bbox_patch() is not None:
        raise _Unsupported("text in a box")
    if text.get_wrap():
        raise _Unsupported("text wrapped by matplotlib")
    return string


def _artist_text(
    canvas: _Canvas, text: Text, xy: tuple[float, float] | None = None, string: str | None = None
) -> _Item:
    """An item for a matplotlib Text at its own position (or at page point ``xy``), saying
    its own text (or ``string``, in its style)."""
    string = _check(text, string)
    if text.get_rotation_mode() == "anchor" and text.get_rotation():
        raise _Unsupported("text rotated about its anchor")
    if xy is None:
        point = text.get_transform().transform(text.get_unitless_position())
        xy = tuple(canvas.points(np.array([point]))[0])
    return _text_item(
        canvas,
        xy[0],
        xy[1],
        string,
        size=_size(text),
        zorder=text.get_zorder(),
        in_layout=text.get_in_layout(),
        colour=text.get_color(),
        ha=text.get_horizontalalignment(),
        va=text.get_verticalalignment(),
        rotation=text.get_rotation(),
        italic=text.get_style() in ("italic", "oblique"),
        bold=_bold(text),
        alpha=text.get_alpha(),
    )


def _box(xy: np.ndarray) -> tuple[float, float, float, float]:
    finite = xy[np.isfinite(xy).all(axis=1)]
    if not len(finite):
        return (np.nan, np.nan, np.nan, np.nan)
    return (*finite.min(axis=0), *finite.max(axis=0))  # type: ignore[return-value]


def _line_items(canvas: _Canvas, line: Line2D) -> _Item:
    xy = canvas.points(line.get_transform().transform(line.get_xydata()))
    width = line.get_linewidth() * _PT
    style = line.get_linestyle()
    marker = line.get_marker()
    if marker not in ("o", None, "None", "none", "", " "):
        raise _Unsupported(f"marker {marker!r}")
    stroke = _paint("stroke", line.get_color(), line.get_alpha())
    dash = _dash(style, line.get_linewidth())

    def draw() -> None:
        if style not in ("None", "none", " ", "") and width > 0:
            canvas.polyline(xy, f'fill="none" {stroke} stroke-width="{width:.2f}"{dash}')
        if marker == "o":
            radius = line.get_markersize() / 2 * _PT
            face = _paint("fill", line.get_markerfacecolor(), line.get_alpha())
            edge = _paint("stroke", line.get_markeredgecolor(), line.get_alpha())
            edge_width = line.get_markeredgewidth() * _PT
            for x, y in xy[np.isfinite(xy).all(axis=1)]:
                canvas.parts.append(
                    f'<circle cx="{x:.2f}" cy="{y:.2f}" r="{radius:.2f}" {face} {edge} '
                    f'stroke-width="{edge_width:.2f}"/>'
                )

    return _Item(_box(xy), draw, zorder=line.get_zorder(), clip=line.get_clip_on())


def _rectangle_item(canvas: _Canvas, patch: Rectangle) -> _Item:
    xy = canvas.points(patch.get_transform().transform(patch.get_path().vertices))
    x0, y0, x1, y1 = _box(xy)
    face = _paint("fill", patch.get_facecolor())
    width = patch.get_linewidth() * _PT
    edge = _paint("stroke", patch.get_edgecolor()) if width > 0 else 'stroke="none"'

    def draw() -> None:
        if np.isfinite([x0, y0, x1, y1]).all():
            canvas.parts.append(
                f'<rect x="{x0:.2f}" y="{y0:.2f}" width="{x1 - x0:.2f}" height="{y1 - y0:.2f}" '
                f'{face} {edge} stroke-width="{width:.2f}"/>'
            )

    return _Item((x0, y0, x1, y1), draw, zorder=patch.get_zorder(), clip=patch.get_clip_on())


def _polygon_item(canvas: _Canvas, coll: PolyCollection) -> _Item:
    transform = coll.get_transform()
    faces = coll.get_facecolor()
    polygons = []
    for k, path in enumerate(coll.get_paths()):
        for vertices in path.to_polygons(closed_only=False):
            face = _paint("fill", faces[k % len(faces)]) if len(faces) else 'fill="none"'
            polygons.append((canvas.points(transform.transform(vertices)), face))
    if len(coll.get_linewidth()) and max(coll.get_linewidth()) > 0 and len(coll.get_edgecolor()):
        raise _Unsupported("polygons with edges")
    boxes = [_box(xy) for xy, _ in polygons] or [(np.nan,) * 4]

    def draw() -> None:
        for xy, face in polygons:
            canvas.polyline(xy, f'{face} stroke="none"', closed=True)

    box = tuple(np.nanmin([b[:2] for b in boxes], axis=0)) + tuple(
        np.nanmax([b[2:] for b in boxes], axis=0)
    )
    return _Item(box, draw, zorder=coll.get_zorder(), clip=coll.get_clip_on())  # type: ignore[arg-type]


def _scatter_item(canvas: _Canvas, coll: PathCollection) -> _Item:
    paths = coll.get_paths()
    if len(paths) != 1 or len(paths[0].vertices) < 9:  # a circle is drawn of Bezier curves
        raise _Unsupported("scatter markers other than circles")
    xy = canvas.points(coll.get_offset_transform().transform(coll.get_offsets()))
    sizes = coll.get_sizes()
    faces = coll.get_facecolor()
    radii = np.sqrt(np.resize(sizes, len(xy))) / 2 * _PT if len(sizes) else np.zeros(len(xy))

    edges, widths = coll.get_edgecolor(), coll.get_linewidth()

    def draw() -> None:
        for k, ((x, y), r) in enumerate(zip(xy, radii, strict=True)):
            if np.isfinite([x, y]).all():
                paint = _paint("fill", faces[k % len(faces)])
                width = float(widths[k % len(widths)]) * _PT if len(widths) else 0.0
                if width > 0 and len(edges):
                    paint += (
                        f' {_paint("stroke", edges[k % len(edges)])} stroke-width="{width:.2f}"'
                    )
                canvas.parts.append(f'<circle cx="{x:.2f}" cy="{y:.2f}" r="{r:.2f}" {paint}/>')

    x0, y0, x1, y1 = _box(xy)
    r = float(radii.max()) if len(radii) else 0.0
    box = (x0 - r, y0 - r, x1 + r, y1 + r)
    return _Item(box, draw, zorder=coll.get_zorder(), clip=coll.get_clip_on())


# ----------------------------------------------------------------------------------- an axes


def _page_bbox(canvas: _Canvas, bbox: Any) -> tuple[float, float, float, float]:
    """A display bbox as page (left, top, right, bottom)."""
    s = canvas.scale
    return bbox.x0 * s, canvas.height - bbox.y1 * s, bbox.x1 * s, canvas.height - bbox.y0 * s


def _major_ticks(axis: Any) -> list[tuple[float, str, Any]]:
    """The axis's major ticks inside its view: location, label and the tick whose style it has.

    Matplotlib's own tick update (run by its draw) makes a tick artist for every location,
    each a copy of the first (0.03 s each for the shared axes of a grid of panels); here the
    locator and the formatter give the locations and labels, and a location without a tick
    of its own has the first tick's style, as its copy would."""
    if len(axis.get_minorticklocs()):
        raise _Unsupported("minor ticks")
    locs = np.asarray(axis.get_majorticklocs(), dtype=float)
    labels = axis.major.formatter.format_ticks(locs)
    if axis.major.formatter.get_offset():
        raise _Unsupported("an offset or a scale beside the tick labels")
    low, high = sorted(axis.get_view_interval())
    eps = 1e-10 * max(high - low, 1e-300)
    ticks = axis.majorTicks
    return [
        (float(loc), str(text), ticks[k] if k < len(ticks) else ticks[0])
        for k, (loc, text) in enumerate(zip(locs, labels, strict=True))
        if low - eps <= loc <= high + eps
    ]


def _tick_items(canvas: _Canvas, ax: Any, axis: Any, name: str) -> list[_Item]:
    """Tick marks and tick labels of one axis; the axis label placed beyond the labels."""
    if not axis.get_visible():
        return []
    items: list[_Item] = []
    left, top, right, bottom = _page_bbox(canvas, ax.bbox)
    transform = ax.get_xaxis_transform() if name == "x" else ax.get_yaxis_transform()
    reach = {1: [], 2: []}  # label boxes per side (1: bottom or left, 2: top or right)
    for loc, text, tick in _major_ticks(axis):
        for side, mark, label in (
            (1, tick.tick1line, tick.label1),
            (2, tick.tick2line, tick.label2),
        ):
            edge = 0.0 if side == 1 else 1.0
            point = (loc, edge) if name == "x" else (edge, loc)
            px, py = canvas.points(transform.transform([point]))[0]
            outward = tick.get_tick_padding() * _PT
            inward = mark.get_markersize() * _PT - outward
            # +1 where "away from the axes" is down the page (x) or to its right (y)
            out = 1.0 if (name == "x") == (side == 1) else -1.0
            if mark.get_visible() and mark.get_markersize() > 0:
                stroke = _paint("stroke", mark.get_color())
                lw = mark.get_markeredgewidth() * _PT
                if name == "x":
                    seg = (px, py - out * inward, px, py + out * outward)
                else:
                    seg = (px - out * inward, py, px + out * outward, py)

                def draw_mark(
                    seg: tuple[float, ...] = seg, stroke: str = stroke, lw: float = lw
                ) -> None:
                    canvas.parts.append(
                        f'<path d="M{seg[0]:.2f},{seg[1]:.2f} L{seg[2]:.2f},{seg[3]:.2f}" '
                        f'{stroke} stroke-width="{lw:.2f}"/>'
                    )

                items.append(_Item(None, draw_mark, zorder=axis.get_zorder()))
            if label.get_visible() and text:
                gap = outward + tick.get_pad() * _PT
                xy = (px, py + out * gap) if name == "x" else (px + out * gap, py)
                item = _artist_text(canvas, label, xy, text)
                item.zorder = axis.get_zorder()
                items.append(item)
                reach[side].append(item.box)
    items += _axis_label(canvas, axis, name, (left, top, right, bottom), reach)
    return items


def _axis_label(
    canvas: _Canvas,
    axis: Any,
    name: str,
    inner: tuple[float, float, float, float],
    reach: dict[int, list[Any]],
) -> list[_Item]:
    label = axis.label
    if not _shown(label):
        return []
    _check(label)
    left, top, right, bottom = inner
    side = 1 if axis.get_label_position() in ("bottom", "left") else 2
    boxes = reach[side]
    pad = axis.labelpad * _PT
    tick_room = 0.0
    ticks = axis.majorTicks
    if ticks:
        tick_room = ticks[0].get_tick_padding() * _PT
    style = dict(
        size=_size(label),
        zorder=axis.get_zorder(),
        colour=label.get_color(),
        bold=_bold(label),
        italic=label.get_style() in ("italic", "oblique"),
    )
    if name == "x":
        x = (left + right) / 2
        if side == 1:
            edge = max([b[3] for b in boxes], default=bottom + tick_room)
            return [
                _text_item(canvas, x, edge + pad, label.get_text(), ha="center", va="top", **style)
            ]
        edge = min([b[1] for b in boxes], default=top - tick_room)
        return [
            _text_item(canvas, x, edge - pad, label.get_text(), ha="center", va="bottom", **style)
        ]
    y = (top + bottom) / 2
    if side == 1:
        edge = min([b[0] for b in boxes], default=left - tick_room)
        return [
            _text_item(
                canvas,
                edge - pad,
                y,
                label.get_text(),
                ha="right",
                va="center",
                rotation=90,
                **style,
            )
        ]
    edge = max([b[2] for b in boxes], default=right + tick_room)
    return [
        _text_item(
            canvas, edge + pad, y, label.get_text(), ha="left", va="center", rotation=90, **style
        )
    ]


def _spine_items(canvas: _Canvas, ax: Any) -> list[_Item]:
    left, top, right, bottom = _page_bbox(canvas, ax.bbox)
    ends = {
        "left": (left, top, left, bottom),
        "right": (right, top, right, bottom),
        "top": (left, top, right, top),
        "bottom": (left, bottom, right, bottom),
    }
    items = []
    for name, spine in ax.spines.items():
        if not spine.get_visible():
            continue
        if name not in ends or spine.get_position() != ("outward", 0.0):
            raise _Unsupported(f"spine {name!r} at {spine.get_position()!r}")
        seg = ends[name]
        stroke = _paint("stroke", spine.get_edgecolor())
        lw = spine.get_linewidth() * _PT

        def draw(seg: tuple[float, ...] = seg, stroke: str = stroke, lw: float = lw) -> None:
            canvas.parts.append(
                f'<path d="M{seg[0]:.2f},{seg[1]:.2f} L{seg[2]:.2f},{seg[3]:.2f}" {stroke} '
                f'stroke-width="{lw:.2f}" stroke-linecap="square"/>'
            )

        items.append(_Item(None, draw, zorder=spine.get_zorder()))
    return items


def _title_items(canvas: _Canvas, ax: Any, boxes: Sequence[Any]) -> list[_Item]:
    """The axes' titles, above the axes and anything drawn above its top edge."""
    left, top, right, _ = _page_bbox(canvas, ax.bbox)
    edge = min([top, *(b[1] for b in boxes if b is not None and np.isfinite(b[1]))])
    pad = float(__import__("matplotlib").rcParams["axes.titlepad"]) * _PT
    items = []
    for text, x, ha in (
        (ax.title, (left + right) / 2, "center"),
        (ax._left_title, left, "left"),  # noqa: SLF001
        (ax._right_title, right, "right"),  # noqa: SLF001
    ):
        if _shown(text):
            _check(text)
            item = _text_item(
                canvas,
                x,
                edge - pad,
                text.get_text(),
                size=_size(text),
                zorder=text.get_zorder(),
                ha=ha,
                va="baseline",
                colour=text.get_color(),
                bold=_bold(text),
            )
            items.append(item)
    return items


#: Legend locations (matplotlib's codes) as (horizontal, vertical) alignments in the anchor box.
_LOCATIONS = {
    1: ("right", "top"),
    2: ("left", "top"),
    3: ("left", "bottom"),
    4: ("right", "bottom"),
    5: ("right", "center"),
    6: ("left", "center"),
    7: ("right", "center"),
    8: ("center", "bottom"),
    9: ("center", "top"),
    10: ("center", "center"),
}


def _legend_item(canvas: _Canvas, legend: Legend) -> _Item:
    """A one-column legend at its location in its anchor box (matplotlib's paddings)."""
    loc = legend._loc  # noqa: SLF001 - the location code legend() resolved
    if loc not in _LOCATIONS or legend._ncols != 1 or legend.get_title().get_text():  # noqa: SLF001
        raise _Unsupported(f"legend at {loc!r}")
    size = legend.prop.get_size_in_points()
    em = size * _PT
    width, height = _legend_box(legend)
    a_left, a_top, a_right, a_bottom = _page_bbox(canvas, legend.get_bbox_to_anchor())
    pad = legend.borderaxespad * em
    ha, va = _LOCATIONS[loc]
    x = {"left": a_left + pad, "right": a_right - pad - width}.get(
        ha, (a_left + a_right - width) / 2
    )
    y = {"top": a_top + pad, "bottom": a_bottom - pad - height}.get(
        va, (a_top + a_bottom - height) / 2
    )
    for text in legend.texts:
        _check(text)
    rows = []
    row = _line_height(size)
    for k, (handle, text) in enumerate(zip(legend.legend_handles, legend.texts, strict=True)):
        centre = y + legend.borderpad * em + k * (row + legend.labelspacing * em) + row / 2
        rows.append((handle, text, centre))
        if not isinstance(handle, Rectangle | Line2D | PathCollection):
            raise _Unsupported(f"legend handle {type(handle).__name__}")

    def draw() -> None:
        if legend.get_frame_on():
            frame = legend.get_frame()
            face = _paint("fill", frame.get_facecolor())
            edge = _paint("stroke", frame.get_edgecolor())
            canvas.parts.append(
                f'<rect x="{x:.2f}" y="{y:.2f}" width="{width:.2f}" height="{height:.2f}" rx="3" '
                f'{face} {edge} stroke-width="{frame.get_linewidth() * _PT:.2f}"/>'
            )
        h_left = x + legend.borderpad * em
        h_width = legend.handlelength * em
        for handle, text, centre in rows:
            _legend_handle(canvas, legend, handle, h_left, h_width, centre, em)
            canvas.text(
                h_left + h_width + legend.handletextpad * em,
                centre,
                text.get_text(),
                size=size,
                colour=text.get_color(),
                va="center",
            )

    item = _Item((x, y, x + width, y + height), draw, zorder=legend.get_zorder())
    item.in_layout = legend.get_in_layout()
    return item


def _legend_handle(
    canvas: _Canvas,
    legend: Legend,
    handle: Any,
    left: float,
    width: float,
    centre: float,
    em: float,
) -> None:
    if isinstance(handle, Rectangle):
        height = legend.handleheight * em
        canvas.parts.append(
            f'<rect x="{left:.2f}" y="{centre - height / 2:.2f}" width="{width:.2f}" '
            f'height="{height:.2f}" {_paint("fill", handle.get_facecolor())}/>'
        )
    elif isinstance(handle, PathCollection):
        sizes = handle.get_sizes()
        r = math.sqrt(float(sizes[0]) if len(sizes) else 36.0) / 2 * _PT
        face = _paint("fill", handle.get_facecolor()[0])
        widths, edges = handle.get_linewidth(), handle.get_edgecolor()
        if len(widths) and widths[0] > 0 and len(edges):
            face += f' {_paint("stroke", edges[0])} stroke-width="{widths[0] * _PT:.2f}"'
        canvas.parts.append(
            f'<circle cx="{left + width / 2:.2f}" cy="{centre:.2f}" r="{r:.2f}" {face}/>'
        )
    else:
        lw = handle.get_linewidth() * _PT
        stroke = _paint("stroke", handle.get_color())
        canvas.parts.append(
            f'<path d="M{left:.2f},{centre:.2f} L{left + width:.2f},{centre:.2f}" {stroke} '
            f'stroke-width="{lw:.2f}"{_dash(handle.get_linestyle(), handle.get_linewidth())}/>'
        )


def _axes_items(canvas: _Canvas, ax: Any) -> list[_Item]:
    """Everything one axes draws, its titles last."""
    if ax.name != "rectilinear" or ax.get_xscale() != "linear" or ax.get_yscale() != "linear":
        raise _Unsupported(f"axes {ax.name!r} with scales {ax.get_xscale()!r}/{ax.get_yscale()!r}")
    if ax.images or ax.tables or ax.artists or ax.child_axes:
        raise _Unsupported("images, tables or artists of other kinds")
    items: list[_Item] = []
    for patch in ax.patches:
        if not patch.get_visible():
            continue
        if type(patch) is not Rectangle:
            raise _Unsupported(f"patch {type(patch).__name__}")
        items.append(_rectangle_item(canvas, patch))
    items += [_line_items(canvas, line) for line in ax.lines if line.get_visible()]
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, PolyCollection):
            items.append(_polygon_item(canvas, coll))
        elif isinstance(coll, PathCollection):
            items.append(_scatter_item(canvas, coll))
        else:
            raise _Unsupported(f"collection {type(coll).__name__}")
    items += [_artist_text(canvas, t) for t in ax.texts if t.get_visible() and t.get_text()]
    decorations: list[_Item] = []
    if ax.axison:
        decorations += _spine_items(canvas, ax)
        decorations += _tick_items(canvas, ax, ax.xaxis, "x")
        decorations += _tick_items(canvas, ax, ax.yaxis, "y")
    legend = ax.get_legend()
    if legend is not None and legend.get_visible():
        items.append(_legend_item(canvas, legend))
    items += decorations
    _, top, _, _ = _page_bbox(canvas, ax.bbox)
    above = [d.box for d in decorations if d.box is not None and d.box[3] <= top + 1]
    return items + _title_items(canvas, ax, above)


def _tight(canvas: _Canvas, ax: Any, items: Sequence[_Item]) -> tuple[float, ...]:
    """The page box of the axes and everything of it that takes part in the layout."""
    boxes = [_page_bbox(canvas, ax.bbox)]
    boxes += [i.box for i in items if i.in_layout and i.box is not None and not i.clip]
    finite = np.array([b for b in boxes if np.isfinite(b).all()])
    return (*finite[:, :2].min(axis=0), *finite[:, 2:].max(axis=0))


# ------------------------------------------------------------------------------------ layout


def _fit(fig: Figure, canvas: _Canvas, pad: float) -> list[list[_Item]] | None:
    """Place the axes (one, or one with its twins) as :class:`~csatlib.report.plots.FitLayout`
    does: its tight box fitted into the figure less ``pad`` pixels on each side (measured
    again after a move, at most three times). Returns what each axes draws when the last
    measure found the axes in place (within half a pixel), else None."""
    main = fig.axes[0]
    for _ in range(3):
        drawn = [_axes_items(canvas, ax) for ax in fig.axes]
        boxes = [_tight(canvas, ax, items) for ax, items in zip(fig.axes, drawn, strict=True)]
        box = (*np.min([b[:2] for b in boxes], axis=0), *np.max([b[2:] for b in boxes], axis=0))
        inner = _page_bbox(canvas, main.bbox)
        left = pad + max(0.0, inner[0] - box[0])
        top = pad + max(0.0, inner[1] - box[1])
        right = pad + max(0.0, box[2] - inner[2])
        bottom = pad + max(0.0, box[3] - inner[3])
        if left + right > canvas.width / 2 or top + bottom > canvas.height / 2:
            raise _Unsupported("the text leaves the axes less than half of the figure")
        now = (inner[0], inner[1], canvas.width - inner[2], canvas.height - inner[3])
        if np.allclose(now, (left, top, right, bottom), atol=0.5):
            return drawn  # in place: what was measured is what is drawn
        fig.subplots_adjust(
            left=left / canvas.width,
            right=1 - right / canvas.width,
            bottom=bottom / canvas.height,
            top=1 - top / canvas.height,
        )
    return None


def _grid(fig: Figure, canvas: _Canvas, engine: Any) -> None:
    """Place a grid of panels as :class:`~csatlib.report.plots.PanelGridLayout` does, from
    the same measures taken on the page."""
    pad = engine._params["pad"] * _PX  # noqa: SLF001 - the engine's own setting
    axes, ncols = engine.axes, engine.ncols
    for _ in range(2):
        first, last = axes[0], axes[-1]
        measured = [first] if last is first else [first, last]
        inner = [_page_bbox(canvas, ax.bbox) for ax in measured]
        outer = [_tight(canvas, ax, _axes_items(canvas, ax)) for ax in measured]
        top_over = max(0.0, inner[0][1] - outer[0][1])
        left_over = max(0.0, inner[0][0] - outer[0][0])
        below = max(0.0, outer[-1][3] - inner[-1][3])
        side = max(0.0, *(o[2] - i[2] for o, i in zip(outer, inner, strict=True)))
        titles = [
            _text_box(ax.get_title(), _size(ax.title)) if ax.get_title() else (0.0, 0.0)
            for ax in axes
        ]
        top_over += max(t[1] for t in titles) - titles[0][1]
        pairs = [
            (titles[k][0] + titles[k + 1][0]) / 2 for k in range(len(titles) - 1) if (k + 1) % ncols
        ]
        widest = max(pairs, default=0.0)
        sup = [getattr(fig, name, None) for name in ("_suptitle", "_supxlabel", "_supylabel")]
        title, xlabel, ylabel = (
            _text_box(t.get_text(), _size(t))[1] if _shown(t) else 0.0 for t in sup
        )
        left = pad + ylabel + pad + left_over + pad
        right = pad + side
        top = pad + title + pad + top_over + pad
        bottom = pad + xlabel + pad + below + pad
        nrows = -(-len(axes) // ncols)
        labelled_above = nrows > 1 and len(axes) % ncols != 0
        hgap = top_over + 2 * pad + (below if labelled_above else 0.0)
        wgap = 2 * pad + side
        room = canvas.width - left - right
        if widest:
            wgap = max(wgap, min(ncols * (widest + 2 * pad) - room, room / 3))
        panel_w = (room - (ncols - 1) * wgap) / ncols
        panel_h = (canvas.height - top - bottom - (nrows - 1) * hgap) / nrows
        if panel_w <= 0 or panel_h <= 0:
            raise _Unsupported("the text leaves the panels no room")
        fig.subplots_adjust(
            left=left / canvas.width,
            right=1 - right / canvas.width,
            bottom=bottom / canvas.height,
            top=1 - top / canvas.height,
            wspace=wgap / panel_w,
            hspace=hgap / panel_h,
        )


def _figure_texts(fig: Figure, canvas: _Canvas, pad: float) -> list[_Item]:
    """The figure's title and its x and y labels (of a grid of panels), at its edges."""
    items = []
    places = {
        "_suptitle": (canvas.width / 2, pad, "center", "top", 0.0),
        "_supxlabel": (canvas.width / 2, canvas.height - pad, "center", "bottom", 0.0),
        "_supylabel": (pad, canvas.height / 2, "left", "center", 90.0),
    }
    for name, (x, y, ha, va, rotation) in places.items():
        text = getattr(fig, name, None)
        if _shown(text):
            _check(text)
            items.append(
                _text_item(
                    canvas,
                    x,
                    y,
                    text.get_text(),
                    size=_size(text),
                    zorder=text.get_zorder(),
                    ha=ha,
                    va=va,
                    rotation=rotation,
                    colour=text.get_color(),
                    bold=_bold(text),
                )
            )
    return items


def _layout(fig: Figure, canvas: _Canvas) -> tuple[float, list[list[_Item]] | None]:
    """Place the axes; the padding at the figure's edges (pixels), and what each axes draws
    when the layout measured it in its place (else None)."""
    from csatlib.report.plots import FitLayout, PanelGridLayout

    engine = fig.get_layout_engine()
    if isinstance(engine, FitLayout | PanelGridLayout):
        fit_titles(fig, engine._params["pad"])  # noqa: SLF001
    sup = [getattr(fig, n, None) for n in ("_suptitle", "_supxlabel", "_supylabel")]
    others = [t for t in fig.texts if not any(t is s for s in sup)]
    if others or fig.legends or fig.images or fig.patches or fig.lines or fig.subfigs:
        raise _Unsupported("figure-level artists")
    if isinstance(engine, PanelGridLayout) and list(engine.axes) == list(fig.axes):
        _grid(fig, canvas, engine)
        return engine._params["pad"] * _PX, None  # noqa: SLF001
    specs = {_span(ax) for ax in fig.axes}
    if isinstance(engine, FitLayout) and len(specs) == 1 and not any(_shown(t) for t in sup):
        pad = engine._params["pad"] * _PX  # noqa: SLF001
        return pad, _fit(fig, canvas, pad)
    raise _Unsupported(f"layout {type(engine).__name__} of {len(fig.axes)} axes")


def _span(ax: Any) -> Any:
    spec = ax.get_subplotspec()
    if spec is None:
        raise _Unsupported("an axes outside a grid")
    return (id(spec.get_gridspec()), spec.rowspan, spec.colspan)


def fit_titles(fig: Figure, pad: float) -> None:
    """Wrap, at spaces, each line of the figure's title and its axes' titles that is wider
    than the figure less ``pad`` inches on each side (a long unit's name in a chart's title:
    no layout shows such a line whole, the constrained layout cuts it at both edges)."""
    room = fig.get_size_inches()[0] * _PX - 2 * pad * _PX
    titles = [getattr(fig, "_suptitle", None)]
    titles += [t for ax in fig.axes for t in (ax.title, ax._left_title, ax._right_title)]  # noqa: SLF001
    for title in titles:
        if not _shown(title):
            continue
        text, size, bold = title.get_text(), _size(title), _bold(title)
        if _text_box(text, size, bold)[0] <= room:
            continue
        lines = []
        for line in text.split("\n"):
            words, current = line.split(" "), ""
            for word in words:
                wider = f"{current} {word}" if current else word
                if current and text_width(wider, size, bold=bold) > room:
                    lines.append(current)
                    current = word
                else:
                    current = wider
            lines.append(current)
        title.set_text("\n".join(lines))


def lay_out(fig: Figure) -> bool:
    """Lay ``fig`` out as :func:`figure_svg` does (its subplot parameters set); False, and
    nothing changed that its own layout engine would not set again, when it holds what this
    module does not draw."""
    if not fig.axes:
        return False
    try:
        _layout(fig, _Canvas(fig))
    except _Unsupported:
        return False
    return True


def text_box(text: str, size: float) -> tuple[float, float, float]:
    """Width, height and descent (of the last line) in CSS pixels of ``text`` at ``size``
    points, as this module lays it out."""
    width, height, baselines = _lines(text, size)
    return width, height, height - baselines[-1]


def figure_svg(fig: Figure) -> tuple[str, dict[str, str | int]] | None:
    """The figure as an SVG document, and display metadata ``{"alt": title, "width": ...,
    "height": ...}`` (its size in CSS pixels at 100 per inch, as :func:`figure_png` gives).

    Returns None for a figure without axes, and for one that holds anything this module does
    not draw (see the module's notes): matplotlib then draws it. Lays the figure out (its
    subplot parameters change as its layout engine would change them)."""
    from csatlib.report.plots import figure_title

    if not fig.axes:
        return None
    canvas = _Canvas(fig)
    try:
        pad, placed = _layout(fig, canvas)
        if placed is None:
            placed = [_axes_items(canvas, ax) for ax in fig.axes]
        items = []
        for k, ax_items in enumerate(placed):  # as matplotlib draws: axes by axes, by z-order
            drawn = sorted(ax_items, key=lambda i: i.zorder)
            for item in drawn:
                item.axes = k
            items += drawn
        items += _figure_texts(fig, canvas, pad)
    except _Unsupported:
        return None
    _draw(canvas, fig, items)
    title = figure_title(fig) or "Chart"
    return canvas.svg(title), {
        "alt": title,
        "width": round(canvas.width),
        "height": round(canvas.height),
    }


def _draw(canvas: _Canvas, fig: Figure, items: list[_Item]) -> None:
    clips = []
    for k, ax in enumerate(fig.axes):
        left, top, right, bottom = _page_bbox(canvas, ax.bbox)
        clips.append(
            f'<clipPath id="a{k}"><rect x="{left:.2f}" y="{top:.2f}" '
            f'width="{right - left:.2f}" height="{bottom - top:.2f}"/></clipPath>'
        )
    canvas.parts.append("<defs>" + "".join(clips) + "</defs>")
    for item in items:
        if item.clip and item.axes >= 0:
            canvas.parts.append(f'<g clip-path="url(#a{item.axes})">')
            item.draw()
            canvas.parts.append("</g>")
        else:
            item.draw()
