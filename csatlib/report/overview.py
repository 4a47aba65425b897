"""Study-wide views across countries: the global summary's league table, trends, heatmap and lists.

The global notebook (``notebooks/global_summary.ipynb``) shows every country side by side. The
statistics come from :mod:`csatlib.stats.nps`, :mod:`csatlib.stats.scores`,
:mod:`csatlib.stats.screens` and
:mod:`csatlib.stats.loyalty`; this module validates the notebook's parameters and loads the data
(:func:`load_study`), joins per-country results into one row per country (:func:`league_table`,
:func:`problems_by_country`), reshapes them for a chart (:func:`attribute_means`,
:func:`country_trends`) and formats them for reading (:func:`league_display`,
:func:`problems_table`). The headline figures as JSON:
:func:`csatlib.report.metrics.study_metrics`. A country below the small-cell minimum (the
sample's Namibia, ``"NA"``) appears with its ``n`` and the word "suppressed", never with an
estimate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from csatlib import config, roles
from csatlib.config import DEFAULT_CONF, DEFAULT_MIN_N
from csatlib.errors import DataError
from csatlib.report.context import (
    ACCOUNT_KEY,
    CodebookView,
    TicketCell,
    countries_vs_rest,
    prepared_responses,
    protect_cells,
    remembered,
    shared_key,
    shared_screens,
    shared_trends,
    store_folder,
    ticket_cluster,
    ticket_groups,
    ticket_product,
    ticket_protection,
    tickets_up_to,
    up_to_wave,
    with_competitor,
)
from csatlib.report.display import SafeHTML, escape, heading
from csatlib.report.sections import StudySections
from csatlib.report.tables import fmt_interval, fmt_number, fmt_p, label, suppressed_text
from csatlib.stats.nps import NPSResult, nps, nps_by_group, nps_vs_rest, nps_wave_change
from csatlib.stats.scores import scores_by_group, transaction_summary, trends
from csatlib.validation import check_alpha, check_conf, check_min_n, require_columns

if TYPE_CHECKING:
    from csatlib.stats.multiplicity import CountryFamily

__all__ = [
    "StudyContext",
    "load_study",
    "study_heading",
    "country_name",
    "country_labels",
    "league_table",
    "league_display",
    "with_policy_verdicts",
    "country_trends",
    "attribute_means",
    "problems_by_country",
    "country_panel_labels",
    "folded_table",
    "problems_table",
    "problems_note",
    "text_table",
    "loyalty_table",
    "transaction_chart",
]

# --------------------------------------------------------------------------- context


@dataclass(frozen=True, eq=False)
class StudyContext(CodebookView):
    """The global report's inputs: the study, the report's wave and the small-cell rule.

    Everything the global summary shows is a study-wide result (:meth:`shared_result`): made
    once per version of the study, kept in memory and on disk beside the processed tables
    (:mod:`csatlib.report.store`), several of them shared with the country reports (trends,
    screens, NPS changes, each country against the rest, the loyalty index). A summary that
    finds them kept reads no response; only one that must make a result reads the study
    (:attr:`responses`).

    Attributes
    ----------
    wave, previous_wave
        The report's wave and the wave before it in the data (None for the first wave).
    waves
        Every wave with own-brand responses, oldest first.
    countries
        ISO alpha-2 codes of the countries with own-brand responses in ``wave``, sorted.
    min_n
        Small-cell minimum: groups with fewer respondents are suppressed.
    header
        The responses' columns and codebook ``attrs``, without rows (the account key and the
        competitor flag included, as :func:`csatlib.report.context.prepared_responses` adds
        them).
    processed_dir
        Folder of the processed tables (for :meth:`table` and :meth:`transactions`).
    """

    wave: str
    previous_wave: str | None
    waves: tuple[str, ...]
    countries: tuple[str, ...]
    min_n: int
    header: pd.DataFrame
    processed_dir: Path = config.PROCESSED_DIR
    # the version of the study the responses were read from (None: handed in), the key of the
    # results shared with the country reports (csatlib.report.context.remembered)
    study_key: tuple | None = None
    given: pd.DataFrame | None = None  # responses handed in (tests): nothing is kept

    @property
    def codebook_frame(self) -> pd.DataFrame:
        """The responses' header: the codebook without reading a response."""
        return self.header

    @cached_property
    def responses(self) -> pd.DataFrame:
        """Every cleaned response (all countries, brands and waves), prepared as the country
        reports prepare them; read only when a result is neither remembered nor kept."""
        if self.given is not None:
            return self.given
        return prepared_responses(self.processed_dir)[0]

    def shared_result(self, what: str, compute: Any, *params: Any) -> Any:
        """``compute()``, a study-wide result of the report's wave, remembered and kept on disk
        under the key the country reports use for the same result
        (:func:`csatlib.report.context.remembered`)."""
        key = shared_key(what, self.study_key, self.wave, self.waves, *params)
        return remembered(key, compute, folder=store_folder(self))

    def cleaning_summary(self) -> dict:
        """The cleaning summary written by ``csat data`` (``cleaning_summary.json``): the whole
        study's rows received, kept and excluded, also those without a usable country
        (:func:`csatlib.ingest.clean.load_cleaning_summary`)."""
        from csatlib.ingest.clean import load_cleaning_summary

        return load_cleaning_summary(self.processed_dir)

    @cached_property
    def to_wave(self) -> pd.DataFrame:
        """Every response (both brands) in the waves up to and including the report's."""
        return self.responses.loc[up_to_wave(self.responses["wave"], self.wave)]

    @cached_property
    def history(self) -> pd.DataFrame:
        """Own-brand responses in the waves up to and including the report's."""
        frame = self.to_wave
        return roles.own_customers(frame)

    @cached_property
    def current(self) -> pd.DataFrame:
        """Own-brand responses in the report's wave."""
        frame = self.history
        return frame.loc[(frame["wave"] == self.wave).to_numpy(dtype=bool)]

    @property
    def n_respondents(self) -> int:
        """Own-brand respondents in the report's wave, all countries."""
        return self._pooled[0]

    @property
    def pooled_n(self) -> int:
        """The valid recommend answers of the report's wave, all countries."""
        return self._pooled[1]

    @cached_property
    def _pooled(self) -> tuple[int, int, NPSResult | None]:
        """Respondents, valid answers and :attr:`pooled_nps` of the report's wave, kept."""

        def compute() -> tuple[int, int, NPSResult | None]:
            scores = self.pooled_scores
            result = nps(scores) if len(scores) >= self.min_n else None
            return len(self.current), len(scores), result

        return self.shared_result("pooled_nps", compute, self.nps_column, self.min_n)

    @cached_property
    def pooled_scores(self) -> pd.Series:
        """The valid recommend answers (0-10) of every own-brand respondent in the report's wave."""
        return pd.to_numeric(self.current[self.nps_column], errors="coerce").dropna()

    @property
    def pooled_nps(self) -> NPSResult | None:
        """NPS of :attr:`pooled_scores` as one sample (unweighted: countries count by their
        respondents); None when fewer than ``min_n`` answered (suppressed)."""
        return self._pooled[2]

    @property
    def country_labels(self) -> dict[str, str]:
        """Country code -> ``"Germany (DE)"`` for every country in the report's wave."""
        return country_labels(self.countries)

    @cached_property
    def response_rates(self) -> Any:
        """Response rates of the report's wave by country, region and revenue band, and the
        non-response check (:func:`csatlib.report.response.response_display` of the study's
        invitations file; its ``reason`` says why there is none)."""
        from csatlib.ingest.clean import file_key
        from csatlib.report.response import ResponseDisplay, load, response_display

        if roles.email_column(self.header) is None:
            return ResponseDisplay(
                reason="The survey export carries no contact e-mail (role contact), so answers "
                "cannot be linked to invitations: no response rate."
            )

        def compute() -> Any:
            revenue = (
                self.table("revenue")
                if (self.processed_dir / "revenue.parquet").is_file()
                else None
            )
            invitations = load()
            waves = set(invitations["wave"].astype(str)) if invitations is not None else set()
            wave = self.wave if self.wave in waves else None  # else the invitations' latest
            return response_display(
                invitations, self.responses, revenue, wave=wave, min_n=self.min_n
            )

        source = Path(config.INVITATIONS)
        version = file_key(source) if source.is_file() else None
        return self.shared_result("response_rates", compute, version, self.min_n)

    @cached_property
    def revenue_linkage(self) -> Any:
        """How revenue moved for detractor, passive and promoter accounts of the report's wave
        (:func:`csatlib.report.revenue.revenue_linkage_of`), or why the study cannot say."""
        from csatlib.report.revenue import revenue_linkage_of

        return self.shared_result(
            "revenue_linkage",
            lambda: revenue_linkage_of(
                self.responses, self.processed_dir, wave=self.wave, min_n=self.min_n
            ),
            self.min_n,
        )

    def table(self, kind: str) -> pd.DataFrame:
        """Another processed table of the study (``"transactions"``, ``"revenue"``)."""
        from csatlib.ingest.clean import load_processed

        return load_processed(kind, self.processed_dir)

    @cached_property
    def families(self) -> dict[str, CountryFamily]:
        """Each country's trends and screens with the q-values of its report's one family
        (:func:`csatlib.stats.multiplicity.country_family_q`), computed on the same design as
        the country report (every response up to the wave, accounts as clusters); empty
        without attributes."""
        from csatlib.stats.multiplicity import country_family_q

        if not self.attributes:
            return {}
        screens = shared_screens(self)
        out = {}
        for country, sub in screens.groupby("country", sort=False):
            own = sub.drop(columns="country").set_index("attribute")
            trends = self.trends.loc[self.trends["country"].astype(str) == country]
            out[str(country)] = country_family_q(trends.reset_index(drop=True), own)
        return out

    @cached_property
    def trends(self) -> pd.DataFrame:
        """Every measure of every country by wave with its change since the study's previous
        wave (:func:`csatlib.report.context.study_trends`, as in the country reports)."""
        return shared_trends(self)

    @cached_property
    def problems(self) -> pd.DataFrame:
        """Each country's priorities and strengths (:func:`problems_by_country` of the
        family-adjusted screens, ordered by derived importance): the verdicts of the country
        reports; empty without attributes."""
        if not self.families:
            return pd.DataFrame()
        screens = pd.concat(
            [
                family.screens.reset_index().assign(country=country)
                for country, family in self.families.items()
            ],
            ignore_index=True,
        )
        return problems_by_country(screens, self.importance_by_country())

    @cached_property
    def league(self) -> pd.DataFrame:
        """:func:`league_table` of the report's wave with the verdicts of the country reports:
        each change judged by its q-value in its country's family, each difference from the rest
        by :func:`csatlib.report.context.countries_vs_rest` (one family across countries)."""
        table = self.shared_result(
            "league",
            lambda: league_table(
                self.history, wave=self.wave, min_n=self.min_n, cluster=self.cluster
            ),
            self.nps_column,
            self.cluster,
            self.min_n,
        )
        return with_policy_verdicts(table, self._changes(), self._rest())

    def _changes(self) -> pd.DataFrame:
        """Each country's NPS change on the country reports' design, with its family q."""
        from csatlib.stats.nps import nps_wave_change

        # the country reports' table (csatlib.report.context.CountryContext.nps_changes)
        table = self.shared_result(
            "nps_changes",
            lambda: nps_wave_change(
                self.to_wave,
                by=["country", "competitor"],
                score=self.nps_column,
                cluster=self.cluster,
                min_n=self.min_n,
            ),
            self.nps_column,
            self.cluster,
            self.min_n,
        )
        table = table.loc[
            ~table["competitor"].astype(bool) & (table["wave"].astype(str) == self.wave)
        ].copy()
        table["country"] = table["country"].astype(str).to_numpy()
        previous = roles.previous_wave(list(self.waves), self.wave)
        table = table.loc[table["previous_wave"].astype(str) == str(previous)]
        table["q_value"] = table["country"].map(self._change_q())
        return table

    @cached_property
    def nps_trends(self) -> pd.DataFrame:
        """Every country's NPS by wave in league order (one row or line per country), each
        change's verdict the one its country report gives (the family q-value in the report's
        wave)."""
        table = self.trends.loc[self.trends["statistic"] == "nps"].copy()
        table["measure"] = table["country"].astype(str).to_numpy()
        for country, family in self.families.items():
            rows = family.trends.loc[family.trends["statistic"] == "nps"]
            mine = table.index[table["measure"] == country]
            for column in ("q_value", "significant", "verdict"):
                if column in rows.columns:
                    table.loc[mine, column] = rows[column].to_numpy()
        order = [str(c) for c in self.league["country"]]
        rank = pd.Series(range(len(order)), index=order)
        table = table.loc[table["measure"].isin(order)]
        table = table.iloc[np.argsort(rank[table["measure"]].to_numpy(), kind="stable")]
        return table.reset_index(drop=True)

    def _change_q(self) -> dict[str, float]:
        rows = self.trends.loc[
            (self.trends["statistic"] == "nps") & (self.trends["wave"].astype(str) == self.wave)
        ]
        q = dict(zip(rows["country"].astype(str), rows["q_value"].astype(float), strict=True))
        for country, family in self.families.items():
            mine = family.trends.loc[
                (family.trends["statistic"] == "nps")
                & (family.trends["wave"].astype(str) == self.wave)
            ]
            if len(mine):
                q[country] = float(mine["q_value"].iloc[0])
        return q

    def _rest(self) -> pd.DataFrame:
        # the country reports' table (csatlib.report.context.CountryContext.nps_vs_rest)
        return self.shared_result(
            "nps_vs_rest",
            lambda: countries_vs_rest(
                self.current, score=self.nps_column, cluster=self.cluster, min_n=self.min_n
            ),
            self.nps_column,
            self.cluster,
            self.min_n,
        )

    def importance_by_country(self) -> dict[str, pd.DataFrame]:
        """Each country's derived importance of the attributes (Shapley, on the same driver
        sample as its country report: :func:`csatlib.report.context.driver_sample`); none with
        fewer than two attributes."""
        from csatlib.report.context import driver_sample
        from csatlib.stats.drivers import relative_importance

        if len(self.attributes) < 2:
            return {}
        waves = self.waves[: self.waves.index(self.wave) + 1]

        def compute() -> dict[str, pd.DataFrame]:
            history = roles.own_customers(self.responses)
            out = {}
            for country in self.countries:
                sample = driver_sample(history.loc[history["country"] == country], waves)
                out[country] = relative_importance(
                    sample, self.nps_column, self.attributes, min_n=self.min_n
                )
            return out

        return self.shared_result(
            "importance", compute, self.nps_column, tuple(self.attributes), self.min_n
        )

    @cached_property
    def loyalty_by_country(self) -> pd.DataFrame | None:
        """The loyalty index by country, this wave; None with fewer than two loyalty items."""
        from csatlib.stats.loyalty import loyalty_summary

        if len(self.loyalty_items) < 2:
            return None
        # the country reports' table (csatlib.report.context.CountryContext.loyalty_of)
        return self.shared_result(
            "loyalty",
            lambda: loyalty_summary(
                self.current,
                self.loyalty_items,
                by="country",
                min_n=self.min_n,
                cluster=self.cluster,
            ),
            self.wave,
            self.min_n,
            self.cluster,
        )

    @cached_property
    def attribute_means(self) -> pd.DataFrame:
        """:func:`attribute_means` of the report's wave: each attribute's mean by country (the
        heatmap's cells), kept as the other study-wide results."""
        return self.shared_result(
            "attribute_means",
            lambda: attribute_means(self.current, self.attributes, min_n=self.min_n),
            tuple(self.attributes),
            self.min_n,
        )

    @property
    def transaction_groups(self) -> list[str]:
        """Rows of the transaction table: region (when the survey has one) and month."""
        return ticket_groups(self.table("transactions"))

    @property
    def transaction_scale(self) -> tuple[int, int] | None:
        """(min, max) of the transaction survey's score, or None without that survey."""
        score = self.transaction_score
        return roles.scale(self.table("transactions"), score) if score else None

    @cached_property
    def sections(self) -> StudySections:
        """Which optional sections the study has (:mod:`csatlib.report.sections`)."""
        from csatlib.report.sections import study_sections

        folder = Path(self.processed_dir)
        tables = {p.stem for p in folder.glob("*.parquet")} - {"responses"}
        tx = self.table("transactions") if "transactions" in tables else None
        return study_sections(self.header, tables=tables, transactions=tx)

    def _tickets(self) -> pd.DataFrame | None:
        """The processed transaction survey, or None when the study has none."""
        if not (Path(self.processed_dir) / "transactions.parquet").is_file():
            return None
        return self.table("transactions")

    @property
    def transaction_score(self) -> str | None:
        """The transaction survey's score column (its role ``overall``), or None."""
        tx = self._tickets()
        found = roles.names(tx, "overall") if tx is not None else []
        return found[0] if found else None

    @property
    def transaction_cluster(self) -> str | None:
        """The tickets' account column, the cluster of the transaction table's intervals
        (:func:`csatlib.report.context.ticket_cluster`), or None."""
        return ticket_cluster(self._tickets())

    @property
    def ticket_product(self) -> str | None:
        """The tickets' product column (:func:`csatlib.report.context.ticket_product`), or
        None."""
        return ticket_product(self._tickets())

    @property
    def ticket_labels(self) -> dict[str, str]:
        """The transaction survey's codebook labels (column -> label; empty without it)."""
        tx = self._tickets()
        return dict(tx.attrs.get("labels") or {}) if tx is not None else {}

    @property
    def ticket_protection(self) -> dict[TicketCell, str]:
        """Which cells of the ticket tables are hidden, here and in the country reports
        (:func:`csatlib.report.context.ticket_protection` of every country's tickets against
        this summary's tables by product and by region and month): the same cells as the
        country reports', so that no small cell is given away between them. Made once per
        build, under the key the country reports use (:meth:`shared_result`)."""
        score = self.transaction_score
        if score is None:
            return {}
        return self.shared_result(
            "ticket_protection",
            lambda: ticket_protection(
                self.table("transactions"),
                self.transactions(),
                product=self.ticket_product,
                score=score,
                min_n=self.min_n,
                groups=self.transaction_groups,
                scale=self.transaction_scale,
            ),
            self.min_n,
        )

    def transactions_by_group(self) -> pd.DataFrame:
        """The study's ticket satisfaction by :attr:`transaction_groups` (region and month) up
        to the end of the report's wave (:func:`csatlib.stats.scores.transaction_summary` of
        :meth:`transactions`, an account's tickets one cluster, cells below ``min_n``
        suppressed, and more where the other ticket tables would give a small cell away:
        :attr:`ticket_protection`)."""
        groups = self.transaction_groups
        table = transaction_summary(
            self.transactions(),
            by=groups,
            score=self.transaction_score,
            scale=self.transaction_scale,
            cluster=self.transaction_cluster,
            min_n=self.min_n,
        )
        return protect_cells(table, self.ticket_protection, kind="study_group", unit="", by=groups)

    def transactions_by_product(self) -> pd.DataFrame | None:
        """The study's ticket satisfaction by product line up to the end of the report's wave
        (:func:`csatlib.stats.scores.transaction_summary` of :meth:`transactions` by
        :attr:`ticket_product`, an account's tickets one cluster, cells below ``min_n``
        suppressed, and more where the other ticket tables, here and in the country reports,
        would give a small cell away: :attr:`ticket_protection`); None without a product
        column."""
        product, score = self.ticket_product, self.transaction_score
        if product is None or score is None:
            return None
        tx = self.transactions()
        table = transaction_summary(
            tx,
            by=product,
            score=score,
            scale=self.transaction_scale,
            cluster=ticket_cluster(tx),
            min_n=self.min_n,
        )
        return protect_cells(
            table, self.ticket_protection, kind="study_product", unit="", by=product
        )

    def transactions(self) -> pd.DataFrame:
        """Transaction-survey tickets up to the end of the report's wave.

        All tickets when the transaction table has no ``wave`` column or does not know the
        report's wave (e.g. fiscal quarters there, calendar quarters here).
        """
        return tickets_up_to(self.table("transactions"), self.wave)


def country_name(code: str) -> str:
    """English short name of a country code (``"NA"`` -> ``"Namibia"``); the code itself when it
    is not ISO 3166 (a test study's ``"XX"``)."""
    from csatlib.ingest.countries import country_name as iso_name

    try:
        return iso_name(code)
    except KeyError:
        return code


def load_study(
    *,
    processed_dir: str | Path = "",
    wave: str = "",
    min_n: int = DEFAULT_MIN_N,
    metrics_path: str | Path = "",
    responses: pd.DataFrame | None = None,
) -> StudyContext:
    """Validate the global notebook's parameters and load the responses.

    Parameters
    ----------
    processed_dir : str or Path, keyword-only
        Folder with ``responses.parquet``; empty means ``data/processed`` of this project.
    wave : str, keyword-only
        Wave label such as ``"2026-Q3"``; empty means the latest wave with own-brand responses.
    min_n : int, keyword-only
        Small-cell minimum, a whole number >= 1.
    metrics_path : str or Path, keyword-only
        Where the notebook writes its headline figures; only its type is checked here.
    responses : pandas.DataFrame, optional, keyword-only
        Already loaded responses (skips reading the file; used by tests).

    Returns
    -------
    StudyContext

    Raises
    ------
    DataError
        A parameter of the wrong type or value, a wave absent from the data, no own-brand
        responses, or a missing processed table (run ``csat data``).
    """
    if not isinstance(processed_dir, str | Path):
        raise DataError(
            f"parameter processed_dir: expected a folder path or '', found {processed_dir!r}"
        )
    if not isinstance(wave, str):
        raise DataError(f"parameter wave: expected a label such as '2026-Q3' or '', found {wave!r}")
    if not isinstance(metrics_path, str | Path):
        raise DataError(
            f"parameter metrics_path: expected a file path or '', found {metrics_path!r}"
        )
    min_n = check_min_n(min_n, func="load_study")
    folder = Path(processed_dir) if str(processed_dir) else config.PROCESSED_DIR
    if responses is not None:
        given, key = prepared_responses(folder, responses=responses)
        header, units = given.iloc[:0], given
    else:
        given, (header, units, key) = None, _study_outline(folder)
    needed = ["country", "wave", "competitor", roles.nps_column(header)]
    missing = [c for c in needed if c not in header.columns]
    if missing:
        raise DataError(
            f"responses: expected columns {needed}; missing {missing} (rebuild with `csat data`)"
        )
    own = units.loc[~units["competitor"].astype(bool)]
    waves = roles.wave_order(own["wave"])
    if not waves:
        raise DataError("responses: expected own-brand responses with a wave, found none")
    if not wave:
        wave = waves[-1]
    elif wave not in waves:
        raise DataError(
            f"parameter wave: {wave!r} has no own-brand responses; waves in the data: "
            f"{', '.join(waves)}"
        )
    in_wave = (own["wave"].astype(str) == wave).to_numpy(dtype=bool)
    countries = tuple(sorted({str(c) for c in own.loc[in_wave, "country"].dropna()}))
    return StudyContext(
        wave=wave,
        previous_wave=roles.previous_wave(waves, wave),
        waves=tuple(waves),
        countries=countries,
        min_n=min_n,
        header=header,
        processed_dir=folder,
        study_key=key,
        given=given,
    )


def _study_outline(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, tuple | None]:
    """The study's header (columns and codebook, no rows, with the account key and competitor
    flag the prepared responses carry), its country, wave and competitor columns (every row,
    no other column) and its :func:`csatlib.report.context.study_key`."""
    from csatlib.ingest.clean import load_processed_columns, processed_header
    from csatlib.report.context import study_key

    stored = processed_header("responses", folder)
    present = [c for c in ("country", "wave", "competitor") if c in stored.columns]
    units = with_competitor(load_processed_columns("responses", folder, present))
    header = with_competitor(stored)
    if roles.names(header, "account") and ACCOUNT_KEY not in header.columns:
        header = header.assign(**{ACCOUNT_KEY: pd.Series(dtype=object)})
    return header, units, study_key(folder)


def study_heading(ctx: StudyContext) -> SafeHTML:
    """The report's title block: wave, respondents, countries and the small-cell rule."""
    shown = ctx.waves[: ctx.waves.index(ctx.wave) + 1]
    return heading(
        f"All countries, wave {ctx.wave}",
        subtitle=(
            f"{ctx.n_respondents:,} own-brand respondents in {len(ctx.countries)} countries in "
            f"this wave; previous wave: {ctx.previous_wave or 'none'}; trends cover "
            f"{shown[0]} to {shown[-1]}; cells below {ctx.min_n} respondents are suppressed."
        ),
        level=2,
    )


def country_labels(codes: Iterable[str], *, suppressed: Iterable[str] = ()) -> dict[str, str]:
    """Country code -> ``"Germany (DE)"`` (``"Namibia (NA)"``); unknown codes stay as given.

    Codes in ``suppressed`` get ``", suppressed"`` appended (for a chart legend whose line is
    missing because every cell of the country is below the minimum).
    """
    hidden = {str(c) for c in suppressed}
    out: dict[str, str] = {}
    for code in codes:
        key = str(code)
        name = country_name(key)
        text = f"{name} ({key})" if name != key else key
        out[key] = f"{text}, suppressed" if key in hidden else text
    return out


# --------------------------------------------------------------------------- league table


def league_table(
    history: pd.DataFrame,
    *,
    wave: str,
    group: str = "country",
    score: str | None = None,
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
    alpha: float = 0.05,
    cluster: str | None = None,
) -> pd.DataFrame:
    """NPS of every country in one wave, its change from the previous wave, and vs the rest.

    Parameters
    ----------
    history : pandas.DataFrame
        One row per own-brand respondent; the rows of ``wave`` give the league and its earlier
        waves the change (later waves play no part).
    wave : str, keyword-only
        The wave of the league table.
    group : str, keyword-only
        Country column (default ``"country"``).
    score : str, keyword-only
        Likelihood-to-recommend column (0-10).
    min_n, conf, alpha : keyword-only
        Small-cell minimum, confidence level, level of the ``*_significant`` flags.

    Returns
    -------
    pandas.DataFrame
        One row per country with respondents in ``wave``, best NPS first and suppressed countries
        last: ``country`` (str), ``n, score, se, ci_low, ci_high, promoters, passives, detractors,
        suppressed`` (from :func:`csatlib.stats.nps.nps_by_group`); ``previous_wave, n_previous,
        score_previous, change, change_ci_low, change_ci_high, change_p_value,
        change_significant`` (from :func:`csatlib.stats.nps.nps_wave_change`; NA when the country
        has no earlier wave); ``n_rest, score_rest, diff_rest, diff_rest_ci_low, diff_rest_ci_high,
        diff_rest_p_value, diff_rest_significant`` (from :func:`csatlib.stats.nps.nps_vs_rest`, the
        other countries pooled, same wave). Every estimate of a suppressed cell, and every
        comparison involving one, is NaN (flags NA); ``n`` is always given.

    Notes
    -----
    NPS with the adjusted Wald interval (Rocks 2016); change and difference from the rest are
    two-sample z tests of independent samples, ``(a - b) / sqrt(se_a^2 + se_b^2)``, unadjusted
    for the number of countries. Each column equals the csatlib function named above on the same
    rows (tested in tests/report/test_overview.py).

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "Net Promoter Score". The American
    Statistician, 70(4), 365-372.
    """
    min_n = check_min_n(min_n, func="league_table")
    conf = check_conf(conf, func="league_table")
    alpha = check_alpha(alpha, func="league_table")
    score = score or roles.nps_column(history)
    missing = [c for c in (group, "wave", score) if c not in history.columns]
    if missing:
        raise DataError(
            f"league_table: expected columns {[group, 'wave', score]}; missing {missing}"
        )
    in_wave = (history["wave"].astype(str) == str(wave)).to_numpy(dtype=bool)
    if not in_wave.any():
        waves = roles.wave_order(history["wave"])
        raise DataError(
            f"league_table: wave {wave!r} has no rows; waves in the data: {', '.join(waves)}"
        )
    current = history.loc[in_wave]
    opts: dict[str, Any] = {"score": score, "conf": conf, "min_n": min_n}
    if cluster is not None:  # accounts as the unit (csatlib.stats.nps: one design)
        opts["cluster"] = cluster
    base = nps_by_group(current, group, **opts)
    base = base[
        [group, "n", "score", "se", "ci_low", "ci_high"]
        + ["promoters", "passives", "detractors", "suppressed"]
    ]
    change = nps_wave_change(history, by=group, alpha=alpha, **opts)
    change = change.loc[change["wave"].astype(str) == str(wave)]
    change = change[
        [group, "previous_wave", "n_previous", "score_previous", "change"]
        + ["ci_low", "ci_high", "p_value", "significant"]
    ].rename(
        columns={
            "ci_low": "change_ci_low",
            "ci_high": "change_ci_high",
            "p_value": "change_p_value",
            "significant": "change_significant",
        }
    )
    rest = nps_vs_rest(current, group=group, alpha=alpha, **opts)
    rest = rest[
        [group, "n_rest", "score_rest", "diff", "ci_low", "ci_high", "p_value", "significant"]
    ].rename(
        columns={
            "diff": "diff_rest",
            "ci_low": "diff_rest_ci_low",
            "ci_high": "diff_rest_ci_high",
            "p_value": "diff_rest_p_value",
            "significant": "diff_rest_significant",
        }
    )
    frames = [base, change, rest]
    for frame in frames:
        frame[group] = frame[group].astype(str).to_numpy()
    out = frames[0].merge(frames[1], on=group, how="left").merge(frames[2], on=group, how="left")
    out["previous_wave"] = out["previous_wave"].astype("string")
    out["n_previous"] = out["n_previous"].astype("Int64")
    out["n_rest"] = out["n_rest"].astype("Int64")
    for flag in ("change_significant", "diff_rest_significant"):
        out[flag] = out[flag].astype("boolean")
    out = out.sort_values(
        ["suppressed", "score", group], ascending=[True, False, True], kind="mergesort"
    )
    return out.reset_index(drop=True)


def with_policy_verdicts(
    league: pd.DataFrame, changes: pd.DataFrame, rest: pd.DataFrame
) -> pd.DataFrame:
    """The league table with the changes and differences of the country reports and their
    verdicts under the multiplicity policy (:mod:`csatlib.stats.multiplicity`).

    ``changes`` (country, change, ci_low, ci_high, p_value, q_value) and ``rest`` (country,
    diff, ci_low, ci_high, p_value, q_value) replace the league's own figures; ``*_significant``
    becomes ``q < 0.05``, and ``change_q_value`` and ``diff_rest_q_value`` are added. A country
    without a test keeps NA.
    """
    from csatlib.stats.multiplicity import ALPHA

    out = league.copy()
    for source, prefix, diff in ((changes, "change", "change"), (rest, "diff_rest", "diff")):
        by = source.set_index("country")
        pick = out["country"].astype(str)
        out[prefix] = pick.map(by[diff]).astype(float)
        out[f"{prefix}_ci_low"] = pick.map(by["ci_low"]).astype(float)
        out[f"{prefix}_ci_high"] = pick.map(by["ci_high"]).astype(float)
        out[f"{prefix}_p_value"] = pick.map(by["p_value"]).astype(float)
        q = pick.map(by["q_value"]).astype(float)
        out[f"{prefix}_q_value"] = q
        out[f"{prefix}_significant"] = pd.array(
            [pd.NA if pd.isna(v) else bool(v < ALPHA) for v in q], dtype="boolean"
        )
    return out


def _difference_cell(value: object, significant: object) -> str:
    arrow = ""
    if significant is True or (significant is not pd.NA and bool(significant)):
        arrow = " ▲" if float(value) > 0 else " ▼"  # type: ignore[arg-type]
    return fmt_number(value, 1, signed=True) + arrow


def league_display(league: pd.DataFrame, *, min_n: int, evidence: bool = True) -> pd.DataFrame:
    """The league table (:func:`league_table`) for reading: one row per country, strings.

    ``evidence=False`` (the manager's version) leaves out the two q-value columns: the ▲/▼
    says which changes and differences are significant, and the reviewer's version shows the
    values they rest on.

    Columns ``n``, ``NPS``, ``95% CI``, ``Change vs <wave>``, ``Change q-value``, ``vs other
    countries``, ``vs others q-value`` (the q-values of the multiplicity policy that decide the
    ▲/▼; the p-values where a table has no q-values), indexed by ``"Germany (DE)"``. ▲/▼ marks a
    difference significant at the table's ``alpha``. A suppressed country reads ``"suppressed (n =
    16 < 30)"`` and has no other figure; a comparison not done says why.
    """
    sup = league["suppressed"].fillna(True).to_numpy(dtype=bool)
    no_previous = league["previous_wave"].isna().to_numpy()
    change_missing = league["change"].isna().to_numpy()
    rest_missing = league["diff_rest"].isna().to_numpy()
    previous = {str(w) for w in league["previous_wave"].dropna()}
    change_header = f"Change vs {previous.pop()}" if len(previous) == 1 else "Change"

    def comparison(value: object, flag: object, absent: bool, missing: bool, s: bool) -> str:
        if s:
            return ""
        if absent:
            return "no previous wave"
        if missing:
            return "not tested (a cell is below the minimum)"
        return _difference_cell(value, flag)

    out = pd.DataFrame(
        {
            "n": [f"{int(n):,}" for n in league["n"]],
            "NPS": [
                suppressed_text(n, min_n) if s else fmt_number(v, 1, signed=True)
                for v, n, s in zip(league["score"], league["n"], sup, strict=True)
            ],
            "95% CI": [
                "" if s else fmt_interval(a, b, 1, signed=True)
                for a, b, s in zip(league["ci_low"], league["ci_high"], sup, strict=True)
            ],
            change_header: [
                comparison(v, f, a, m, s)
                for v, f, a, m, s in zip(
                    league["change"],
                    league["change_significant"],
                    no_previous,
                    change_missing,
                    sup,
                    strict=True,
                )
            ],
            "Change q-value": [
                "" if s else fmt_p(p)
                for p, s in zip(
                    league.get("change_q_value", league["change_p_value"]), sup, strict=True
                )
            ],
            "vs other countries": [
                comparison(v, f, False, m, s)
                for v, f, m, s in zip(
                    league["diff_rest"],
                    league["diff_rest_significant"],
                    rest_missing,
                    sup,
                    strict=True,
                )
            ],
            "vs others q-value": [
                "" if s else fmt_p(p)
                for p, s in zip(
                    league.get("diff_rest_q_value", league["diff_rest_p_value"]), sup, strict=True
                )
            ],
        },
        index=pd.Index(list(country_labels(league["country"]).values())),
    )
    out.columns.name = "Country"  # heads the row labels: one header row
    return out if evidence else out.drop(columns=["Change q-value", "vs others q-value"])


# --------------------------------------------------------------------------- trends


def country_trends(
    history: pd.DataFrame,
    *,
    countries: Iterable[str] | None = None,
    group: str = "country",
    score: str | None = None,
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """NPS of every country in every wave, shaped for one row / one line per country.

    Parameters
    ----------
    history : pandas.DataFrame
        Own-brand responses, the waves to show.
    countries : iterable of str, optional, keyword-only
        Countries to keep, in the order of the rows (e.g. ``league["country"]``, so that the
        table and the legend follow the league table); default every country, sorted.
    group, score : str, keyword-only
        Country and likelihood-to-recommend columns.
    min_n, conf, alpha : keyword-only
        As in :func:`csatlib.stats.scores.trends`.

    Returns
    -------
    pandas.DataFrame
        The NPS rows (``statistic == "nps"``) of :func:`csatlib.stats.scores.trends` by country and
        wave, with ``measure`` set to the country code, so that
        :func:`csatlib.report.tables.trend_table` and :func:`csatlib.report.plots.trend_chart` show
        one row or one line per country. Columns as there: ``country, wave, measure, statistic, n,
        value, se, ci_low, ci_high, previous_wave, change, change_se, p_value, significant,
        suppressed``.

    Notes
    -----
    NPS and interval as :func:`csatlib.stats.nps.nps_by_group`; the change from the country's
    previous wave is the two-sample z test of :func:`csatlib.stats.nps.nps_difference`.
    """
    min_n = check_min_n(min_n, func="country_trends")
    conf = check_conf(conf, func="country_trends")
    alpha = check_alpha(alpha, func="country_trends")
    score = score or roles.nps_column(history)
    table = trends(
        history, [score], by=group, min_n=min_n, conf=conf, alpha=alpha, nps_column=score
    )
    table = table.loc[table["statistic"] == "nps"].reset_index(drop=True)
    table["measure"] = table[group].astype(str).to_numpy()
    if countries is not None:
        order = [str(c) for c in countries]
        unknown = sorted(set(order) - set(table["measure"]))
        if unknown:
            raise DataError(
                f"country_trends: countries {unknown} have no rows in column {group!r}; "
                f"found {sorted(set(table['measure']))}"
            )
        rank = pd.Series(range(len(order)), index=order)
        table = table.loc[table["measure"].isin(order)]
        table = table.iloc[np.argsort(rank[table["measure"]].to_numpy(), kind="stable")]
        table = table.reset_index(drop=True)
    return table


# --------------------------------------------------------------------------- heatmap


def attribute_means(
    current: pd.DataFrame,
    attributes: Sequence[str],
    *,
    group: str = "country",
    min_n: int = DEFAULT_MIN_N,
    scale: tuple[int, int] | Mapping[str, tuple[int, int]] | None = None,
) -> pd.DataFrame:
    """Mean rating of every attribute in every country, wide, NaN where suppressed.

    Parameters
    ----------
    current : pandas.DataFrame
        Own-brand responses of one wave.
    attributes : sequence of str
        Attribute columns; the rows of the result, in this order.
    group : str, keyword-only
        Country column.
    min_n : int, keyword-only
        A cell with fewer answers to the attribute is NaN.
    scale : keyword-only
        As in :func:`csatlib.stats.scores.scores_by_group` (default: ``current.attrs["scales"]``).

    Returns
    -------
    pandas.DataFrame
        Rows: attributes (index ``attribute``); columns: country codes (str), sorted; values:
        mean ratings from :func:`csatlib.stats.scores.scores_by_group` (available cases: don't-know
        answers are left out per attribute), NaN where the cell is below ``min_n``. The input
        of :func:`csatlib.report.plots.attribute_heatmap`.
    """
    min_n = check_min_n(min_n, func="attribute_means")
    if isinstance(attributes, str) or not list(attributes):
        raise DataError(
            f"attribute_means: expected a list of attribute columns, found {attributes!r}"
        )
    long = scores_by_group(current, list(attributes), group, scale=scale, min_n=min_n)
    long = long.assign(country_code=long[group].astype(str).to_numpy())
    wide = long.pivot(index="measure", columns="country_code", values="mean")
    wide = wide.reindex(index=list(attributes), columns=sorted(wide.columns))
    wide.index.name = "attribute"
    wide.columns.name = group
    return wide.astype(float)


# --------------------------------------------------------------------------- problems


def problems_by_country(
    screens: pd.DataFrame, importance: Mapping[str, pd.DataFrame] | None = None
) -> pd.DataFrame:
    """Each country's priorities and strengths: the verdicts of its country report.

    Parameters
    ----------
    screens : pandas.DataFrame
        The result of :func:`csatlib.stats.screens.screens_all_countries` (columns ``country,
        attribute, wave, n`` and the screens' verdict and difference columns).
    importance : mapping country -> DataFrame, optional
        Each country's derived importance (:func:`csatlib.stats.drivers.relative_importance`
        on the country report's driver sample), which orders its priorities as its report does.

    Returns
    -------
    pandas.DataFrame
        One row per country, in the input's order: ``country`` (str), ``wave``, ``n`` (the
        largest attribute n of the country's own-brand cell), ``suppressed`` (not enough data
        for any attribute), ``problems`` (the priorities) and ``best_practices`` (the
        strengths), tuples of attribute names in the country report's order.

    Notes
    -----
    Exactly :func:`csatlib.stats.priorities.priorities` of the country's screens and importance,
    the function behind the country report's executive summary: the same comparison gets the
    same verdict in both reports.
    """
    from csatlib.stats.priorities import priorities

    needed = ["country", "attribute", "wave", "n"]
    missing = [c for c in needed if c not in screens.columns]
    if missing:
        raise DataError(
            f"problems_by_country: expected the columns of screens_all_countries() {needed}; "
            f"missing {missing}"
        )
    frame = screens.assign(
        country=screens["country"].astype(str).to_numpy(),
        attribute=screens["attribute"].astype(str).to_numpy(),
    )
    rows = []
    for country, sub in frame.groupby("country", sort=False):
        verdicts = priorities(sub.set_index("attribute"), (importance or {}).get(str(country)))
        rows.append(
            {
                "country": str(country),
                "wave": str(sub["wave"].iloc[0]),
                "n": int(sub["n"].max()),
                "suppressed": bool((verdicts["verdict"] == "not enough data").all()),
                "problems": tuple(verdicts.index[verdicts["verdict"] == "priority"]),
                "best_practices": tuple(verdicts.index[verdicts["verdict"] == "strength"]),
            }
        )
    return pd.DataFrame(
        rows, columns=["country", "wave", "n", "suppressed", "problems", "best_practices"]
    )


# --------------------------------------------------------------------------- compact views


def _in_league_order(frame: pd.DataFrame, league: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` (a ``country`` column) in the league table's order; countries the
    league does not list keep their order after it."""
    codes = frame["country"].astype(str).to_numpy()
    rank = {str(c): i for i, c in enumerate(league["country"])}
    keys = np.array([rank.get(c, len(rank)) for c in codes])
    return frame.iloc[np.argsort(keys, kind="stable")].reset_index(drop=True)


def country_panel_labels(league: pd.DataFrame) -> dict[str, str]:
    """Panel titles of a chart with one panel per country: ``"Germany (DE)"``, and for a country
    suppressed in the league's wave its n and the word: ``"Namibia (NA)\\nn = 16, suppressed"``."""
    names = country_labels(league["country"])
    sup = league["suppressed"].fillna(True).to_numpy(dtype=bool)
    return {
        code: f"{names[code]}\nn = {int(n):,}, suppressed" if s else names[code]
        for code, n, s in zip(names, league["n"], sup, strict=True)
    }


def folded_table(table: pd.DataFrame, *, summary: str) -> SafeHTML:
    """A display table inside a closed ``<details>`` fold whose ``<summary>`` is ``summary``.

    The chart above it carries the message; the fold keeps every number on the page for the
    reader who wants it (and prints open: the report's print style opens every fold). Text is
    escaped (pandas escapes the table's cells and labels); an empty table reads "none".
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"folded_table: expected a DataFrame, found {type(table).__name__}")
    body = table.to_html(escape=True) if len(table) else "<p>none</p>"
    return SafeHTML(
        f'<details class="csat-fold"><summary>{escape(summary)}</summary>{body}</details>'
    )


_VERDICT_COLUMNS = {
    "priority": ("problems", "Priorities (most important first)", "a priority"),
    "strength": ("best_practices", "Best practices (most important first)", "a best practice"),
}


def problems_table(
    problems: pd.DataFrame,
    league: pd.DataFrame,
    *,
    verdict: Literal["priority", "strength"],
    labels: Mapping[str, str] | None,
    n_attributes: int | None = None,
) -> pd.DataFrame:
    """The countries with at least one attribute of one verdict, in league order, one row each.

    Parameters
    ----------
    problems : pandas.DataFrame
        :func:`problems_by_country` (the verdicts of the country reports).
    league : pandas.DataFrame
        :func:`league_table`; gives the order of the rows.
    verdict : {"priority", "strength"}, keyword-only
        Which list to show.
    labels : mapping, keyword-only
        Attribute name -> label (the codebook's).
    n_attributes : int, optional, keyword-only
        The number of attributes screened; adds a column ``"3 of 8"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``"Germany (DE)"`` (index name ``Country``): the attribute labels joined in
        the country report's order, after ``How many`` (``"3 of 8"``, with ``n_attributes``).
        A suppressed country or one without that verdict has no row (:func:`problems_note`
        names them); when no country has one, a single row says so.
    """
    if verdict not in _VERDICT_COLUMNS:
        raise DataError(
            f"problems_table: verdict must be 'priority' or 'strength'; got {verdict!r}"
        )
    source, header, words = _VERDICT_COLUMNS[verdict]
    rows = _in_league_order(problems, league)
    keep = ~rows["suppressed"].to_numpy(dtype=bool) & (rows[source].map(len) > 0).to_numpy()
    rows = rows.loc[keep]
    if rows.empty:
        return pd.DataFrame(
            {header: [f"none: no country has {words}"]},
            index=pd.Index(["All countries"], name="Country"),
        )
    out = pd.DataFrame(
        {header: [", ".join(label(a, labels) for a in names) for names in rows[source]]},
        index=pd.Index(list(country_labels(rows["country"]).values()), name="Country"),
    )
    if n_attributes is not None:
        out.insert(0, "How many", [f"{len(names)} of {n_attributes}" for names in rows[source]])
    return out


def text_table(table: pd.DataFrame) -> SafeHTML:
    """A table of words (e.g. :func:`problems_table`) left-aligned for reading, its index as the
    first column; every label and cell is escaped.

    Report tables are right-aligned (JupyterLab's style, right for numbers); lists of attributes
    read from the left. Only the last column wraps, so a country's name stays on one line.
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"text_table: expected a DataFrame, found {type(table).__name__}")
    frame = table.reset_index().astype(str)
    last = frame.shape[1] - 1
    style = ['style="text-align: left; white-space: nowrap;"'] * last
    style.append('style="text-align: left;"')
    head = "".join(f"<th {s}>{escape(c)}</th>" for s, c in zip(style, frame.columns, strict=True))
    rows = "".join(
        "<tr>" + "".join(f"<td {s}>{escape(v)}</td>" for s, v in zip(style, row, strict=True))
        for row in frame.itertuples(index=False)
    )
    return SafeHTML(
        f'<table class="dataframe"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )


def problems_note(problems: pd.DataFrame, league: pd.DataFrame, *, min_n: int) -> SafeHTML:
    """The countries :func:`problems_table` leaves out, in league order, in one paragraph:
    those with neither a priority nor a best practice, and the suppressed ones with their n."""
    rows = _in_league_order(problems, league)
    sup = rows["suppressed"].to_numpy(dtype=bool)
    empty = ~sup & (rows["problems"].map(len) == 0).to_numpy()
    empty &= (rows["best_practices"].map(len) == 0).to_numpy()
    names = country_labels(rows["country"])
    parts = []
    if empty.any():
        neither = ", ".join(names[c] for c in rows.loc[empty, "country"])
        parts.append(f"Neither a priority nor a best practice: {neither}.")
    if sup.any():
        small = ", ".join(
            f"{names[c]}, n = {int(n):,}"
            for c, n in zip(rows.loc[sup, "country"], rows.loc[sup, "n"], strict=True)
        )
        parts.append(f"Suppressed (fewer than {min_n} respondents): {small}.")
    if not parts:
        parts.append("Every country has a priority or a best practice.")
    return SafeHTML(f'<p class="csat-note">{escape(" ".join(parts))}</p>')


def loyalty_table(loyalty: pd.DataFrame, league: pd.DataFrame, *, min_n: int) -> pd.DataFrame:
    """The loyalty index by country for reading, in league order, each country named as in the
    league table (``"Germany (DE)"``).

    :func:`csatlib.report.tables.loyalty_display` of :func:`csatlib.stats.loyalty.loyalty_summary`
    by country: ``n``, the index with its 95% interval, Cronbach's alpha and, where the summary
    has one, the design effect of the clustered interval (``Design effect``). A suppressed
    country reads ``"suppressed (n = 16 < 30)"`` and has no other figure.
    """
    from csatlib.report.tables import loyalty_display

    require_columns(loyalty, ["country", "n", "score", "suppressed"], "loyalty_table")
    rows = _in_league_order(loyalty, league)
    named = rows.assign(country=list(country_labels(rows["country"]).values()))
    out = loyalty_display(named, min_n=min_n)
    if "deff" in rows.columns and "Design effect" not in out.columns:
        sup = rows["suppressed"].fillna(True).to_numpy(dtype=bool)
        out["Design effect"] = [
            "" if s else fmt_number(v, 1) for v, s in zip(rows["deff"], sup, strict=True)
        ]
    return out


def transaction_chart(
    summary: pd.DataFrame,
    *,
    by: Sequence[str],
    title: str,
    min_n: int,
    scale: tuple[int, int] | None = None,
) -> Any:
    """The transaction survey's mean by month: one panel per region
    (:func:`csatlib.report.plots.group_month_chart`) when the summary is by region and month,
    one line (:func:`csatlib.report.plots.transaction_chart`) when by month only; a note when
    the summary has no month. ``summary`` is :func:`csatlib.stats.scores.transaction_summary`
    by ``by``; ``scale`` (the score's (min, max)) is named on the y-axis."""
    from csatlib.report import plots

    groups = [str(b) for b in by]
    ylabel = f"Mean rating ({scale[0]}–{scale[1]})" if scale else "Mean rating"
    if "month" not in groups or len(groups) > 2:
        return SafeHTML(
            f'<p class="csat-note">{escape("No chart: the transaction table has no month.")}</p>'
            if "month" not in groups
            else f'<p class="csat-note">{escape("No chart: more than one grouping.")}</p>'
        )
    if groups == ["month"]:
        return plots.transaction_chart(summary, title=title, min_n=min_n, ylabel=ylabel)
    group = next(g for g in groups if g != "month")
    return plots.group_month_chart(summary, group=group, title=title, min_n=min_n, ylabel=ylabel)
