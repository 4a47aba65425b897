"""The explorer of ``notebooks/explore.ipynb``: the banner table and chart of any cut an analyst
picks, and the JupyterLab widgets that pick it.

:func:`explore_view` is the cut itself, plain arguments in, a table and a chart out (it is what
the widgets show, and what a notebook cell calls to keep one cut); :func:`explorer` wires
dropdowns to it. The choices come from the codebook roles (:mod:`csatlib.roles`): dimensions are
the segment, organisation (business unit, function, business process, product), region, country,
brand and wave columns and the typed ``other`` columns, measures the recommend question, overall
satisfaction, the attributes and the loyalty items, each with its codebook label. The numbers are
those of :func:`csatlib.stats.crosstab.crosstab`, clustered by account when the study has
accounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from csatlib import config, roles
from csatlib.errors import DataError
from csatlib.report.context import ACCOUNT_KEY, with_account_key
from csatlib.report.display import escape
from csatlib.report.plots import figure_png, new_figure, suppressed_figure
from csatlib.report.tables import PROTECTS_TEXT
from csatlib.stats.crosstab import Crosstab, banner_display, crosstab
from csatlib.validation import check_min_n

if TYPE_CHECKING:
    import ipywidgets

__all__ = [
    "ALL",
    "COLOURS",
    "ExploreView",
    "load_responses",
    "dimensions",
    "measures",
    "statistics",
    "choices",
    "explore_view",
    "banner_chart",
    "explorer",
]

#: The row choice "no row groups": one row of every respondent (after the filter).
ALL: Final = "All respondents"
#: Colours of the row groups in a chart (Okabe-Ito: apart for every common colour-vision
#: deficiency; yellow last, it is faint on white).
COLOURS: Final = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#000000",
    "#F0E442",
)

_DIMENSION_ROLES: Final = (
    "segment",
    "business_unit",
    "function",
    "business_process",
    "product",
    "region",
    "country",
    "brand",
    "wave",
)
_MEASURE_ROLES: Final = ("nps", "overall", "attribute", "loyalty")
# A dimension with more values than this is an identifier, not a cut.
_MAX_LEVELS: Final = 60
_ALL_COLUMN: Final = "__all_respondents__"
_NO_FILTER: Final = "(no filter)"
_STAT_WORDS: Final = {"nps": "NPS", "mean": "Mean", "top_box": "Top-2 box"}
_CORRECTIONS: Final = {
    "fdr_bh": "Benjamini-Hochberg",
    "holm": "Holm",
    "bonferroni": "Bonferroni",
    "none": "no correction",
}


def load_responses(processed_dir: str | Path = "") -> pd.DataFrame:
    """The responses to explore: ``responses.parquet`` of ``processed_dir`` (processed tables of
    ``csat data`` or an extract of ``csat extract``), with each row's matched account.

    Parameters
    ----------
    processed_dir : str or pathlib.Path
        The folder; empty: ``data/processed``; a relative path is taken from the project root
        (so ``"reports/extract"`` works from the notebook's folder).

    Returns
    -------
    pandas.DataFrame
        The table with ``account_key`` when the study has accounts
        (:func:`csatlib.report.context.with_account_key`; an extract has it already).
    """
    from csatlib.ingest.clean import load_processed

    folder = Path(processed_dir) if str(processed_dir) else config.PROCESSED_DIR
    if not folder.is_absolute():
        folder = config.PROJECT_ROOT / folder
    return with_account_key(load_processed("responses", folder))


# --------------------------------------------------------------------------- the choices


def _is_dimension(s: pd.Series) -> bool:
    kind = s.dtype
    typed = isinstance(kind, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(kind)
    return typed and 0 < s.nunique(dropna=True) <= _MAX_LEVELS


def dimensions(responses: pd.DataFrame) -> dict[str, str]:
    """Label -> column of every dimension a banner can cross: the columns of roles segment,
    business unit, function, business process, product, region, country, brand and wave, then
    typed ``other`` columns (categories, true/false), each with at most 60 values."""
    role_of = roles.roles(responses)
    ordered = [c for role in _DIMENSION_ROLES for c in roles.names(responses, role)]
    ordered += [c for c in responses.columns if role_of.get(c) == "other"]
    return {
        roles.label(responses, c): c
        for c in dict.fromkeys(ordered)
        if c in responses.columns and _is_dimension(responses[c])
    }


def measures(responses: pd.DataFrame) -> dict[str, str]:
    """Label -> column of every measure, in codebook order: the recommend question, overall
    satisfaction, the attributes and the loyalty items."""
    return {
        roles.label(responses, c): c
        for role in _MEASURE_ROLES
        for c in roles.names(responses, role)
    }


def statistics(responses: pd.DataFrame, measure: str) -> dict[str, str]:
    """Label -> statistic for a measure: NPS (the recommend question only), mean, top-2 box."""
    low, high = roles.scale(responses, measure)
    out: dict[str, str] = {}
    if roles.roles(responses).get(measure) == "nps":
        out["NPS (promoters 9-10 minus detractors 0-6)"] = "nps"
    out[f"Mean ({low}-{high})"] = "mean"
    out[f"Top-2 box (share {high - 1}-{high})"] = "top_box"
    return out


def choices(responses: pd.DataFrame) -> pd.DataFrame:
    """What the explorer offers for this study: ``choice, label, column`` (dimensions, then
    measures), for a notebook to show before the widgets."""
    rows = [("dimension", label, c) for label, c in dimensions(responses).items()]
    rows += [("measure", label, c) for label, c in measures(responses).items()]
    return pd.DataFrame(rows, columns=["choice", "label", "column"])


# --------------------------------------------------------------------------- one cut


@dataclass(frozen=True, eq=False)
class ExploreView:
    """One cut: its banner table, its chart and the numbers behind them.

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`csatlib.stats.crosstab.banner_display` of ``crosstab``, labelled.
    figure : matplotlib.figure.Figure
        :func:`banner_chart`.
    crosstab : Crosstab
        Cells and tests (:func:`csatlib.stats.crosstab.crosstab`).
    title : str
        Measure, statistic, banner, rows and filter in words.
    note : str
        How many respondents, whether clustered by account, how to read the letters.
    """

    table: pd.DataFrame
    figure: Figure
    crosstab: Crosstab
    title: str
    note: str


def _value_labels(responses: pd.DataFrame, columns: Sequence[str]) -> dict[Any, str]:
    """Display names of values: country codes as names (other values as they are)."""
    from csatlib.ingest.countries import country_name

    out: dict[Any, str] = {}
    for column in columns:
        if roles.roles(responses).get(column) != "country":
            continue
        for code in responses[column].dropna().unique():
            try:
                out[code] = country_name(str(code))
            except KeyError:
                continue
    return out


def _pick(value: str | None, options: Mapping[str, str], what: str) -> str:
    """A column from its name or label; the first option when None."""
    if not options:
        raise DataError(f"explore_view: the study has no {what} (found no column with its role)")
    if value is None:
        return next(iter(options.values()))
    if value in options.values():
        return value
    if value in options:
        return options[value]
    raise DataError(f"explore_view: {what} must be one of {list(options.values())}; got {value!r}")


def _filtered(
    responses: pd.DataFrame, column: str | None, values: Sequence[Any]
) -> tuple[pd.DataFrame, str]:
    """The rows whose ``column`` is one of ``values`` (all rows without a filter), and the
    filter in words."""
    if column is None or column == _NO_FILTER or not len(values):
        return responses, ""
    if column not in responses.columns:
        raise DataError(f"explore_view: filter column {column!r} not found")
    kept = responses.loc[responses[column].isin(list(values))]
    kept.attrs = dict(responses.attrs)
    shown = ", ".join(map(str, values))
    return kept, f"{roles.label(responses, column)}: {shown}"


def explore_view(
    responses: pd.DataFrame,
    *,
    dimension: str | None = None,
    rows: str | None = ALL,
    filter_column: str | None = None,
    filter_values: Sequence[Any] = (),
    measure: str | None = None,
    statistic: str | None = None,
    min_n: int = config.DEFAULT_MIN_N,
) -> ExploreView:
    """The banner table and chart of one cut.

    Parameters
    ----------
    responses : pandas.DataFrame
        Processed responses or an extract (:func:`load_responses`), codebook roles in attrs.
    dimension : str, optional, keyword-only
        The banner (columns A, B, C, ...): a column or label of :func:`dimensions`; default
        the first.
    rows : str, optional, keyword-only
        Another dimension for the row groups, or :data:`ALL` (default; also None).
    filter_column, filter_values : keyword-only
        Keep only the respondents whose ``filter_column`` is one of ``filter_values`` (no filter
        when either is empty).
    measure : str, optional, keyword-only
        A column or label of :func:`measures`; default the recommend question.
    statistic : {"nps", "mean", "top_box"}, optional, keyword-only
        Default ``"nps"`` for the recommend question, else ``"mean"``.
    min_n : int, keyword-only
        Cells with fewer answers are suppressed (no estimate, no letter), with a second cell of
        a row that has only one (:func:`csatlib.stats.crosstab.crosstab`).

    Returns
    -------
    ExploreView

    Raises
    ------
    DataError
        An unknown dimension or measure, rows equal to the banner, NPS of another question, no
        respondent left by the filter (messages from :func:`csatlib.stats.crosstab.crosstab`).

    Notes
    -----
    Only own customers are counted, as in every report, unless the banner or the rows are the
    brand (role ``brand``): then the brands are compared. The significance letters, intervals
    and suppression are those of
    :func:`csatlib.stats.crosstab.crosstab` with ``cluster`` the matched account
    (``account_key``) when the table has one: respondents of one account answer alike.
    """
    min_n = check_min_n(min_n, func="explore_view")
    banner = _pick(dimension, dimensions(responses), "dimension")
    row = None if rows in (None, ALL) else _pick(rows, dimensions(responses), "dimension")
    if row == banner:
        raise DataError(f"explore_view: rows and banner are both {banner!r}; pick two")
    column = _pick(measure, measures(responses), "measure")
    is_nps = roles.roles(responses).get(column) == "nps"
    statistic = statistic or ("nps" if is_nps else "mean")
    if statistic == "nps" and not is_nps:
        raise DataError(
            f"explore_view: the NPS is computed from the 0-10 recommend question only, not from "
            f"{column!r}; pick the mean or the top-2 box"
        )
    frame, where = _filtered(responses, filter_column, filter_values)
    # our own customers, as every report counts them, unless the cut compares the brands
    brand = roles.names(responses, "brand")
    mixed = roles.has_competitors(frame) and not (brand and brand[0] in (banner, row))
    if mixed:
        frame = roles.own_customers(frame)
        frame.attrs = dict(responses.attrs)
    row_column = row or _ALL_COLUMN
    if row is None:
        frame = frame.assign(**{_ALL_COLUMN: ALL})
        frame.attrs = dict(responses.attrs)
    cluster = ACCOUNT_KEY if ACCOUNT_KEY in frame.columns else None
    ct = crosstab(
        frame, row_column, banner, column, statistic=statistic, cluster=cluster, min_n=min_n
    )
    labels = _value_labels(responses, [banner, *([row] if row else [])])
    table = banner_display(ct, labels=labels)
    table.index.name = None if row is None else roles.label(responses, row)
    by = f" by {roles.label(responses, row)}" if row else ""
    title = (
        f"{_STAT_WORDS[statistic]} of {roles.label(responses, column)}: "
        f"{roles.label(responses, banner)}{by}" + (f" ({where})" if where else "")
    )
    note = _note(ct, frame, cluster)
    if mixed:
        note += (
            " Own customers only, as in the reports: competitors' customers are compared with "
            "them when the brand is the banner or the rows."
        )
    return ExploreView(table, banner_chart(ct, title=title, labels=labels), ct, title, note)


def _note(ct: Crosstab, frame: pd.DataFrame, cluster: str | None) -> str:
    n = int(ct.cells.loc[ct.cells["letter"] == "", "n"].sum())
    accounts = (
        f", {frame.loc[frame[ct.measure].notna(), cluster].nunique():,} accounts (the "
        "comparisons allow for respondents of one account answering alike)"
        if cluster
        else ""
    )
    return (
        f"n = {n:,} answers{accounts}. A letter in a cell: significantly higher than that column "
        f"of its row (q < {ct.alpha:g}, {_CORRECTIONS[ct.correction]} over every test of the "
        "table); cells with "
        f"fewer than {ct.min_n} answers are suppressed, and where a row has one such cell, "
        "another cell too (its total would give the small cell away)."
    )


# --------------------------------------------------------------------------- the chart


def _axis_label(ct: Crosstab) -> str:
    return {
        "nps": "Net Promoter Score (points), 95% interval",
        "mean": "Mean, 95% interval",
        "top_box": "Top-2 box (% of answers), 95% interval",
    }[ct.statistic]


def banner_chart(
    ct: Crosstab,
    *,
    title: str,
    labels: Mapping[Any, str] | None = None,
    max_groups: int = len(COLOURS),
) -> Figure:
    """Horizontal bars of a banner table's cells with their intervals and letters.

    Parameters
    ----------
    ct : Crosstab
        A result of :func:`csatlib.stats.crosstab.crosstab`.
    title : str
        The chart's title.
    labels : mapping, optional, keyword-only
        Display names of banner and row values.
    max_groups : int, keyword-only
        Row groups drawn (one colour each, :data:`COLOURS`); the table shows every one.

    Returns
    -------
    matplotlib.figure.Figure
        One band per banner column (top to bottom in banner order), one bar per row group; a
        suppressed cell has no bar and says so; the totals are in the table, not drawn.
    """
    names = dict(labels or {})
    cells = ct.cells.loc[ct.cells["letter"] != ""]
    if cells["suppressed"].all():
        return suppressed_figure(title, n=int(cells["n"].max()), min_n=ct.min_n)
    keys = cells[list(ct.rows)].astype(str).agg(" / ".join, axis=1)
    groups = list(dict.fromkeys(keys))
    shown = groups[:max_groups]
    banner = list(ct.letters)
    scale = 100.0 if ct.statistic == "top_box" else 1.0
    height = 0.8 / len(shown)
    fig = new_figure(7.5, 1.3 + len(banner) * (0.2 + 0.16 * len(shown)))
    ax = fig.add_subplot()
    for g, group in enumerate(shown):
        part = cells.loc[(keys == group).to_numpy()]
        ys = np.arange(len(banner)) - 0.4 + height * (g + 0.5)
        _bars(ax, part, ys, height, scale, COLOURS[g % len(COLOURS)], names.get(group, group))
    ax.set_yticks(np.arange(len(banner)), [f"{names.get(v, v)} ({ct.letters[v]})" for v in banner])
    ax.invert_yaxis()
    ax.axvline(0, color="#999999", lw=0.8)
    ax.set_xlabel(_axis_label(ct) + f"; min n = {ct.min_n}")
    more = f" (first {len(shown)} of {len(groups)} row groups)" if len(groups) > len(shown) else ""
    ax.set_title(title + more, fontsize=10)
    if ct.rows != (_ALL_COLUMN,):
        fig.legend(loc="outside lower center", ncols=min(4, len(shown)), fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _bars(
    ax: Any, part: pd.DataFrame, ys: np.ndarray, height: float, scale: float, colour: str, name: str
) -> None:
    """One row group's bars, intervals and letters; a note where a cell is suppressed."""
    est = part["estimate"].to_numpy(dtype=float) * scale
    low = part["ci_low"].to_numpy(dtype=float) * scale
    high = part["ci_high"].to_numpy(dtype=float) * scale
    ax.barh(
        ys,
        est,
        height=height * 0.9,
        color=colour,
        label=name,
        xerr=np.vstack([est - low, high - est]),
        error_kw={"ecolor": "#333333", "capsize": 2, "lw": 0.8},
    )
    shown = zip(ys, high, part["letters"], part["suppression"], part["n"], strict=True)
    for y, top, letters, reason, n in shown:
        if reason:
            ax.annotate(
                "no answers"
                if not n
                else f"suppressed (n = {n})"
                if reason == "small"
                else PROTECTS_TEXT,
                (0, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color="#555555",
            )
        elif letters:
            ax.annotate(
                letters,
                (top, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
            )


# --------------------------------------------------------------------------- the widgets


def _controls(responses: pd.DataFrame) -> dict[str, ipywidgets.Widget]:
    """The dropdowns, defaulting to the first dimension, all respondents, the latest wave and
    the NPS of the recommend question."""
    import ipywidgets as widgets

    dims = dimensions(responses)
    if not dims:
        raise DataError("explorer: the study has no dimension to cut by (no country, segment ...)")
    filters = [(_NO_FILTER, _NO_FILTER), *dims.items()]
    waves = roles.names(responses, "wave")
    start = waves[0] if waves and waves[0] in dims.values() else _NO_FILTER
    measure = widgets.Dropdown(options=list(measures(responses).items()), description="Measure")
    controls = {
        "dimension": widgets.Dropdown(options=list(dims.items()), description="Banner"),
        "rows": widgets.Dropdown(options=[(ALL, ALL), *dims.items()], description="Rows"),
        "filter_column": widgets.Dropdown(options=filters, value=start, description="Filter"),
        "filter_values": widgets.SelectMultiple(options=[], description="Values", rows=5),
        "measure": measure,
        "statistic": widgets.Dropdown(
            options=list(statistics(responses, measure.value).items()), description="Statistic"
        ),
    }
    controls["statistic"].value = controls["statistic"].options[0][1]
    _filter_options(responses, controls, latest=True)
    return controls


def _filter_options(
    responses: pd.DataFrame, controls: Mapping[str, Any], *, latest: bool = False
) -> None:
    """The values of the filter column (the latest wave selected at the start)."""
    column = controls["filter_column"].value
    if column == _NO_FILTER:
        controls["filter_values"].options = []
        return
    if roles.roles(responses).get(column) == "wave":
        values: list[Any] = roles.wave_order(responses[column])
    else:
        values = sorted(responses[column].dropna().unique().tolist(), key=str)
    controls["filter_values"].options = [(str(v), v) for v in values]
    controls["filter_values"].value = (values[-1],) if latest and values else ()


def _render(
    responses: pd.DataFrame,
    controls: Mapping[str, Any],
    parts: Mapping[str, Any],
    min_n: int,
) -> None:
    """Compute the cut the controls show into the table, chart and note widgets; a DataError
    (an impossible cut) is shown in place of the table."""
    try:
        view = explore_view(
            responses,
            dimension=controls["dimension"].value,
            rows=controls["rows"].value,
            filter_column=controls["filter_column"].value,
            filter_values=tuple(controls["filter_values"].value),
            measure=controls["measure"].value,
            statistic=controls["statistic"].value,
            min_n=min_n,
        )
    except DataError as err:
        parts["note"].value = f"<p><b>Cannot show this cut:</b> {escape(err)}</p>"
        parts["table"].value = ""
        parts["chart"].value = b""
        return
    parts["note"].value = f"<p><b>{escape(view.title)}</b><br>{escape(view.note)}</p>"
    parts["table"].value = view.table.to_html(escape=True, na_rep="", border=0)
    png = figure_png(view.figure)
    parts["chart"].value = b"" if png is None else png[0]


def explorer(responses: pd.DataFrame, *, min_n: int = config.DEFAULT_MIN_N) -> ipywidgets.VBox:
    """Dropdowns for banner, rows, filter, measure and statistic, and the cut they pick.

    Parameters
    ----------
    responses : pandas.DataFrame
        Processed responses or an extract (:func:`load_responses`).
    min_n : int, keyword-only
        The small-cell minimum.

    Returns
    -------
    ipywidgets.VBox
        The controls (``Dropdown`` and ``SelectMultiple`` widgets, each with its
        ``description``), a note (``HTML``), the banner table (``HTML``, escaped by pandas) and
        the chart (``Image``, PNG). Changing any control recomputes the cut
        (:func:`explore_view`); a cut that cannot be computed says why in the note.
    """
    import ipywidgets as widgets

    min_n = check_min_n(min_n, func="explorer")
    responses = with_account_key(responses)
    controls = _controls(responses)
    parts = {
        "note": widgets.HTML(),
        "table": widgets.HTML(),
        "chart": widgets.Image(format="png"),
    }

    # While one control updates another's options, the second's change must not render.
    holding = {"on": False}

    def render(_change: object = None) -> None:
        if not holding["on"]:
            _render(responses, controls, parts, min_n)

    def filter_column_changed(_change: object) -> None:
        holding["on"] = True
        try:
            _filter_options(responses, controls)
        finally:
            holding["on"] = False
        render()

    def measure_changed(_change: object) -> None:
        kept = controls["statistic"].value
        options = statistics(responses, controls["measure"].value)
        holding["on"] = True
        try:
            controls["statistic"].options = list(options.items())
            controls["statistic"].value = kept if kept in options.values() else "mean"
        finally:
            holding["on"] = False
        render()

    for name in ("dimension", "rows", "filter_values", "statistic"):
        controls[name].observe(render, names="value")
    controls["filter_column"].observe(filter_column_changed, names="value")
    controls["measure"].observe(measure_changed, names="value")
    render()
    row1 = widgets.HBox([controls["dimension"], controls["rows"], controls["measure"]])
    row2 = widgets.HBox(
        [controls["filter_column"], controls["filter_values"], controls["statistic"]]
    )
    return widgets.VBox([row1, row2, parts["note"], parts["table"], parts["chart"]])
