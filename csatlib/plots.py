"""Charts for the reports. Each function takes data that is already computed and returns a Figure.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through pyplot's global
state, so a notebook cell that returns one shows it exactly once and parallel report builds
cannot draw into each other's axes. Every chart has a title, axis labels and its n; a chart whose
cell is below the small-cell minimum shows that it was suppressed instead of the data.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # reports are rendered headless; notebooks display the returned Figure

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["new_figure", "suppressed_figure", "score_distribution", "PALETTE"]

#: Colours by NPS category (colour-blind safe: Okabe-Ito).
PALETTE = {"detractor": "#D55E00", "passive": "#999999", "promoter": "#009E73"}


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
        PALETTE["promoter"]
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
    for category in ("detractor", "passive", "promoter"):
        ax.bar([], [], color=PALETTE[category], label=category.capitalize() + "s")
    ax.legend(frameon=False, loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    return fig
