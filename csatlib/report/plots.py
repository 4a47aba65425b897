"""Charts for the reports: each chart function draws results it is given and returns a Figure.

The estimates, intervals, quadrant splits, Pareto shares and suppression flags come from
:mod:`csatlib.stats` as they are; a chart computes none of them. What a chart does work out is
only what drawing needs: the share of answers at each scale point of the bars of
:func:`score_distribution` (a tabulation of the scores it is given, suppressed below ``min_n``),
the largest ``n`` it names in a title, the order of the rows and the centre of a colour scale.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through pyplot's global
state, so a notebook cell that returns one shows it exactly once and parallel report builds
cannot draw into each other's axes. Notebooks call :func:`show_inline` once: a figure is then
shown as a PNG drawn once (IPython's default draws it twice to find a tight bounding box, which
the constrained layout makes unnecessary), with its title as the image's alternative text
(:func:`figure_png`). Every chart has a title and axis labels; its n is in the title or, per
country, in the labels (the heatmap's caller puts it in the title). A suppressed cell is never
drawn: a chart whose whole cell is below the small-cell minimum shows a notice instead
(:func:`suppressed_figure`), a suppressed point is left out (a gap in a trend line, a country
named without a point) and a suppressed heatmap cell is blank and marked "s".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from csatlib.errors import DataError

__all__ = [
    "PALETTE",
    "figure_png",
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
]

#: Colours by NPS category (colour-blind safe: Okabe-Ito).
PALETTE = {"detractor": "#D55E00", "passive": "#999999", "promoter": "#009E73"}


def figure_title(fig: Figure) -> str:
    """The figure's title: its suptitle, else the first axes title that is set ("" if none)."""
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        return " ".join(suptitle.get_text().split())
    for ax in fig.axes:
        if ax.get_title():
            return " ".join(ax.get_title().split())
    return ""


def figure_png(fig: Figure) -> tuple[bytes, dict[str, str]] | None:
    """PNG bytes of ``fig`` at its own size and dpi, and display metadata ``{"alt": title}``.

    The figure is laid out once and drawn once. ``savefig`` would draw a figure with a layout
    engine twice (a first pass with rendering switched off, only to run the layout), and
    IPython's default PNG display a third time for a tight bounding box, which the constrained
    layout makes unnecessary. The pixels are the same as ``savefig(format="png")`` gives (a test
    compares them). Returns None for a figure without axes (nothing to show), as IPython does.
    """
    from io import BytesIO

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not fig.axes:
        return None
    canvas = FigureCanvasAgg(fig)
    buffer = BytesIO()
    engine = fig.get_layout_engine()
    if engine is None:
        canvas.print_png(buffer)
    else:
        engine.execute(fig)
        fig.set_layout_engine("none")  # laid out: the draw must not run the layout again
        try:
            canvas.print_png(buffer)
        finally:
            fig.set_layout_engine(engine)
    return buffer.getvalue(), {"alt": figure_title(fig) or "Chart"}


def show_inline() -> bool:
    """Show figures in this IPython session with :func:`figure_png`; False outside IPython.

    Call it after ``%matplotlib inline`` (which registers IPython's own PNG display of
    figures); figures returned by the functions of this module then appear once each, drawn
    once, with their title as alternative text.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebook stack
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    return True


def new_figure(width: float = 7.0, height: float = 3.6) -> Figure:
    """Return a new Figure not registered with pyplot."""
    return Figure(figsize=(width, height), layout="constrained")


def suppressed_figure(title: str, *, n: int, min_n: int) -> Figure:
    """A placeholder chart saying that the cell was suppressed (n below the minimum)."""
    fig = new_figure(height=1.6)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(
        0.5,
        0.4,
        f"Suppressed: n = {n} is below the minimum of {min_n} respondents.",
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
    "strength": "#009E73",
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
    for xi, yi, name in zip(x, y, ipa.index, strict=True):
        ax.annotate(
            _label(name, labels), (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=9
        )
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
    return fig


def pareto_chart(
    pareto: pd.DataFrame,
    *,
    title: str,
    min_n: int,
    labels: Mapping[str, str] | None = None,
    cutoff: float = 0.8,
) -> Figure:
    """Pareto of dissatisfaction from :func:`csatlib.stats.drivers.dissatisfaction_pareto`: each
    attribute's share of all low scores (bars, vital few highlighted) and the cumulative line."""
    shown = pareto.loc[~pareto["suppressed"].fillna(True).astype(bool)]
    n = int(pareto["n"].max()) if len(pareto) else 0
    if shown.empty:
        return suppressed_figure(title, n=n, min_n=min_n)
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
) -> Figure:
    """Attribute × country heatmap of mean ratings (a wide frame: rows attributes, columns
    countries; NaN where suppressed, shown blank and marked "s")."""
    import seaborn as sns

    data = means.astype(float)
    fig = new_figure(1.0 + 0.62 * data.shape[1], 1.2 + 0.45 * data.shape[0])
    ax = fig.add_subplot()
    sns.heatmap(
        data.rename(index=lambda i: _label(i, labels)),
        ax=ax,
        annot=True,
        fmt=".1f",
        cmap="RdYlGn",
        center=float(np.nanmean(data.to_numpy())),
        linewidths=0.5,
        cbar_kws={"label": value_label},
    )
    for (i, j), value in np.ndenumerate(data.to_numpy()):
        if np.isnan(value):
            ax.text(j + 0.5, i + 0.5, "s", ha="center", va="center", color="#777777")
    ax.set_xlabel("Country (s = suppressed, n below the minimum)")
    ax.set_ylabel("Attribute")
    ax.set_title(title)
    return fig
