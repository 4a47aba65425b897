"""Load the processed data for one country's report and validate the notebook's parameters.

Papermill only warns about parameters it does not know and never checks their values, so the
country notebook's second cell calls :func:`load_country`, which fails with a clear message when
the country, the wave or ``min_n`` is not usable.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from csatlib import config, roles
from csatlib.errors import DataError
from csatlib.report import store
from csatlib.report.sections import StudySections, study_sections, unit_words
from csatlib.validation import check_min_n

if TYPE_CHECKING:
    from csatlib.loop.accounts import AccountMatch
    from csatlib.stats.multiplicity import CountryFamily
    from csatlib.stats.nps import NPSResult
    from csatlib.text.accuracy import CoderAccuracy

__all__ = [
    "CodebookView",
    "CountryContext",
    "load_country",
    "load_responses",
    "text_fields",
    "warm_up",
    "by_file_version",
    "with_business_units",
    "with_competitor",
    "with_account_key",
    "ticket_cluster",
    "ticket_product",
    "protect_cells",
    "ticket_groups",
    "ticket_protection",
    "tickets_up_to",
    "up_to_wave",
    "driver_sample",
    "study_trends",
    "countries_vs_rest",
    "outside_unit",
    "study_screens",
    "shared_screens",
    "shared_trends",
    "store_folder",
    "study_key",
    "shared_key",
    "prepared_responses",
    "remembered",
    "ACCOUNT_KEY",
]

_ISO2 = re.compile(r"^[A-Z]{2}$")
#: The matched customer account of each respondent (added by :func:`load_country`).
ACCOUNT_KEY = "account_key"


class CodebookView:
    """The codebook's roles and labels of a ``responses`` table (kept in its ``attrs``)."""

    responses: pd.DataFrame

    @property
    def codebook_frame(self) -> pd.DataFrame:
        """The table whose columns and ``attrs`` hold the codebook: :attr:`responses` (a context
        that does not load its rows gives their header instead)."""
        return self.responses

    @property
    def roles(self) -> dict[str, str]:
        """Canonical column name -> codebook role."""
        return dict(self.codebook_frame.attrs.get("roles", {}))

    @property
    def labels(self) -> dict[str, str]:
        """Canonical column name -> the codebook's label, for tables and charts."""
        return dict(self.codebook_frame.attrs.get("labels", {}))

    def names(self, role: str) -> list[str]:
        """Columns with a codebook role (``"attribute"``, ``"loyalty"``, ``"importance"`` ...)."""
        return [name for name, r in self.roles.items() if r == role]

    @property
    def attributes(self) -> list[str]:
        """The attribute ratings (role ``attribute``), in codebook order."""
        return self.names("attribute")

    @property
    def nps_column(self) -> str:
        """The 0-10 recommend question (role ``nps``), whatever the codebook named it."""
        return roles.nps_column(self.codebook_frame)

    @property
    def nps_label(self) -> str:
        """The recommend question's label."""
        return roles.label(self.codebook_frame, self.nps_column)

    @property
    def overall_column(self) -> str | None:
        """The overall satisfaction question (role ``overall``), or None."""
        found = self.names("overall")
        return found[0] if found else None

    @property
    def rated(self) -> list[str]:
        """Overall satisfaction (if asked) and the attributes: the rows of the scores table."""
        return [c for c in (self.overall_column, *self.attributes) if c]

    @property
    def loyalty_items(self) -> list[str]:
        """The loyalty items (role ``loyalty``), already reverse-coded by cleaning."""
        return self.names("loyalty")

    @property
    def expectation_items(self) -> dict[str, str]:
        """Attribute -> its expectation item (role ``expectation``)."""
        return roles.links(self.codebook_frame, "expectation")

    @property
    def importance_items(self) -> dict[str, str]:
        """Attribute -> its stated-importance item (role ``importance``)."""
        return roles.links(self.codebook_frame, "importance")

    def scale(self, column: str) -> tuple[int, int]:
        """(min, max) of a scale column (the recommend question is 0-10)."""
        return roles.scale(self.codebook_frame, column)

    def scale_label(self, columns: list[str] | None = None) -> str:
        """ "1–10" when the columns (default: the attributes) share a scale, else "own scale"."""
        found = {self.scale(c) for c in (self.attributes if columns is None else columns)}
        if len(found) == 1:
            low, high = found.pop()
            return f"{low}–{high}"
        return "each on its own scale"

    @property
    def rating_axis(self) -> str:
        """Axis label of the attributes' mean ratings, with their scale."""
        return f"Mean rating ({self.scale_label()})"

    @property
    def cluster(self) -> str | None:
        """The column of the customer account, the unit of inference (``account_key``, the
        matched account), or None when the study has no account: respondents are then the
        unit, and the report says so."""
        return ACCOUNT_KEY if ACCOUNT_KEY in self.codebook_frame.columns else None

    @property
    def has_competitors(self) -> bool:
        """True when the study has competitors' customers (a brand column with other brands)."""
        return roles.has_competitors(self.responses)


@dataclass(frozen=True, eq=False)
class CountryContext(CodebookView):
    """One country's report inputs.

    Attributes
    ----------
    country, country_name
        ISO 3166 alpha-2 code and English short name; for a report by another dimension
        (``dimension``, e.g. a business unit) the value and its name.
    wave, previous_wave
        The report's wave and the wave before it in the data (None for the first wave).
    waves
        Every wave in the data, oldest first.
    min_n
        Small-cell minimum: groups with fewer respondents are suppressed.
    responses
        Every cleaned response (all countries, all brands, all waves). In a report by another
        dimension, its ``country`` column holds that dimension's value (the respondent's own
        country moves to ``home_country``), so that every comparison "with the others" is
        with the other values of the dimension (:func:`slice_responses`). When ``sliced``,
        only this country's rows (both brands, every wave): a country report read from the
        processed folder loads no other country's rows (:func:`load_country`).
    dimension
        What the report is cut by: ``"country"`` or another categorical column of the study.
    sliced
        True when ``responses`` holds only this country's rows. The comparisons with the
        other countries then come from the study-wide results every report of the study
        shares (:func:`remembered`, kept on disk by :mod:`csatlib.report.store`); only a result
        not yet made reads the whole study (:attr:`study_responses`) to make it.

    The subsets (``own``, ``country_own``, ``current``, ``previous``, ``others_current``,
    ``driver_sample``) are computed once and then shared by every cell that reads them: treat
    them as read-only (copy before changing one).
    """

    country: str
    country_name: str
    wave: str
    previous_wave: str | None
    waves: tuple[str, ...]
    min_n: int
    responses: pd.DataFrame
    processed_dir: Path = config.PROCESSED_DIR
    dimension: str = "country"
    within: str = ""  # a cross-cut: "country=DE" (the units compared within Germany)
    within_name: str = ""  # its name in words ("Germany")
    reports_dir: Path = config.REPORTS_DIR  # where the build publishes (history, case store)
    # What the responses were made from (the file's version, the aliases, the slice), when they
    # were read from the processed folder: the key of the study-wide results every report of a
    # build shares (:func:`remembered`); None for responses handed in, which are never shared.
    study_key: tuple | None = None
    sliced: bool = False

    @property
    def has_competitors(self) -> bool:
        """True when the study has competitors' customers (a brand column with other brands),
        in any country: a sliced report reads the study's competitor flags alone."""
        if not self.sliced or "competitor" not in self.responses.columns:
            return super().has_competitors
        from csatlib.ingest.clean import load_processed_columns, processed_header

        if "competitor" not in processed_header("responses", self.processed_dir).columns:
            return False
        flags = load_processed_columns("responses", self.processed_dir, ["competitor"])
        return roles.has_competitors(flags)

    @cached_property
    def study_responses(self) -> pd.DataFrame:
        """Every response of the report's study, as :attr:`responses` holds them when not
        :attr:`sliced`; read (once per process, :func:`prepared_responses`) only when a
        study-wide result is neither in memory nor kept on disk."""
        if not self.sliced:
            return self.responses
        return prepared_responses(self.processed_dir, self.dimension, self.within)[0]

    def shared_result(self, what: str, compute: Callable[[], Any], *params: Any) -> Any:
        """``compute()``: a study-wide result of the report's wave (:meth:`_shared`'s key),
        remembered in memory and kept on disk beside the processed tables
        (:mod:`csatlib.report.store`), so that a later report reads it instead of the study."""
        return remembered(self._shared(what, *params), compute, folder=store_folder(self))

    @property
    def unit(self) -> tuple[str, str]:
        """What the report is about, singular and plural: ("country", "countries"), or for a
        report by another dimension its words (("business unit", "business units"); another
        column's from its codebook label)."""
        return unit_words(self.dimension, roles.labels(self.responses).get(self.dimension))

    @property
    def others(self) -> str:
        """The comparison group in words: "other countries", "other business units" (in a
        cross-cut: "other business units in Germany")."""
        where = f" in {self.within_name}" if self.within else ""
        return f"other {self.unit[1]}{where}"

    @property
    def study_rows(self) -> pd.DataFrame:
        """Every response of the study once, for study-wide measures such as the rule coder's
        precision: the processed responses as read (a report by another dimension leaves out
        the rows without a value for it, and a cross-cut holds only its outer unit's rows); for
        responses handed in, :attr:`responses` less the repeats a report by business unit
        makes for accounts in two units."""
        if self.dimension == "country" and not self.within:
            return self.study_responses
        if self.study_key is not None:  # read from the folder: the whole study is there
            return load_responses(self.processed_dir)
        ids = roles.names(self.responses, "id") or ["response_id"]
        return self.responses.drop_duplicates(subset=ids[0])

    @property
    def quality_country(self) -> str | None:
        """The country whose cleaning figures the data-quality section shows: the report's
        own, or None (the whole study) for a report by another dimension."""
        return self.country if self.dimension == "country" else None

    @cached_property
    def driver_sample(self) -> pd.DataFrame:
        """Own-brand responses of this country in every wave up to the report's, for key drivers.

        Waves are pooled because one wave's few hundred answers rank eight correlated drivers
        unreliably; respondents flagged as speeders or straight-liners are left out because their
        ratings carry no information about what drives their loyalty.
        """
        return driver_sample(self.country_own, self.waves[: self.waves.index(self.wave) + 1])

    @property
    def expectation_attributes(self) -> list[str]:
        """Attributes that also have an expectation item (role ``expectation``)."""
        return list(self.expectation_items)

    @cached_property
    def sections(self) -> StudySections:
        """Which optional report sections the study has (:mod:`csatlib.report.sections`)."""
        tables = {p.stem for p in Path(self.processed_dir).glob("*.parquet")} - {"responses"}
        tx = self.optional_table("transactions")
        return study_sections(
            self.responses, tables=tables, transactions=tx, dimension=self.dimension
        )

    @cached_property
    def to_wave(self) -> pd.DataFrame:
        """Every response (both brands, all countries) in the waves up to the report's: the
        design of every test in the report, the same rows the global summary uses."""
        waves = set(self.waves[: self.waves.index(self.wave) + 1])
        study = self.study_responses
        return remembered(
            self._shared("to_wave"), lambda: study.loc[study["wave"].astype(str).isin(waves)]
        )

    @cached_property
    def family(self) -> CountryFamily | None:
        """This country's trends and screens with q-values over the report's one family of
        tests (:func:`csatlib.stats.multiplicity.country_family_q`); None without attributes."""
        from csatlib.stats.multiplicity import country_family_q

        if not self.attributes:
            return None
        return country_family_q(self._all_trends, self._screens)

    @cached_property
    def _screens(self) -> pd.DataFrame:
        """This unit's four screens (:func:`csatlib.stats.screens.four_screens`), taken from
        every unit's screens of the study (:func:`study_screens`, shared by every report of the
        build and the global summary, and equal to the unit's own)."""
        if self._overlapping is not None:  # the others without this unit's respondents
            from csatlib.stats.screens import four_screens

            # only the columns the screens read: the rest is copied once per unit
            needed = ["country", "wave", "competitor", *self.attributes, self._overlapping]
            frame = self.to_wave[
                list(dict.fromkeys(c for c in [*needed, self.cluster] if c is not None))
            ]
            mine = frame.loc[frame["country"].astype(str) == self.country]
            return four_screens(
                pd.concat([mine, self._rest(frame)]),
                country=self.country,
                attributes=self.attributes,
                wave=self.wave,
                min_n=self.min_n,
                cluster=self.cluster,
            )
        table = shared_screens(self)
        mine = table.loc[table["country"].astype(str) == self.country]
        if mine.empty:  # the unit has no own-brand respondents in the wave: its own message
            from csatlib.stats.screens import four_screens

            return four_screens(
                self.to_wave,
                country=self.country,
                attributes=self.attributes,
                wave=self.wave,
                min_n=self.min_n,
                cluster=self.cluster,
            )
        return mine.drop(columns="country").set_index("attribute")

    @cached_property
    def _all_trends(self) -> pd.DataFrame:
        table = shared_trends(self)
        return table.loc[table["country"].astype(str) == self.country].reset_index(drop=True)

    @cached_property
    def _overlapping(self) -> str | None:
        """The respondent id column when a respondent is in several units of this report's
        dimension (an account in two business units: its respondents are in both), else None.
        A comparison with "the others" then leaves this unit's respondents out of them and
        counts every other respondent once (:meth:`_rest`): the others are other people."""
        if self.dimension == "country":
            return None
        ids = roles.id_column(self.responses)
        if ids not in self.responses.columns:
            return None
        return ids if bool(self.responses[ids].duplicated().any()) else None

    def _rest(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``frame`` outside this unit (:func:`outside_unit`, with
        :attr:`_overlapping`: less this unit's respondents, each other respondent once)."""
        return outside_unit(frame, self.country, self._overlapping)

    def _shared(self, what: str, *params: Any) -> tuple | None:
        """The key of a study-wide result of this report's wave, the same in every report of
        the build (None when the responses were handed in: nothing is shared)."""
        return shared_key(what, self.study_key, self.wave, self.waves, *params)

    @cached_property
    def country_trends(self) -> pd.DataFrame:
        """Every score of this country's own customers by wave, with the change since the
        study's previous wave and its verdict under the report's multiplicity policy (the same
        q-value as the screens give the same comparison)."""
        return self.family.trends if self.family is not None else self._all_trends

    @cached_property
    def screen_table(self) -> pd.DataFrame:
        """The four screens of this country's attributes
        (:func:`csatlib.stats.screens.four_screens`, accounts as the unit when the study has
        them), with the family's q-values; empty when the study rates no attributes."""
        return self.family.screens if self.family is not None else pd.DataFrame()

    @cached_property
    def attribute_scores(self) -> pd.DataFrame:
        """Mean and top-2-box of overall satisfaction and each attribute, this wave
        (:func:`csatlib.stats.scores.scores_by_group`); empty when the study rates none."""
        from csatlib.stats.scores import scores_by_group

        if not self.rated:
            return pd.DataFrame()
        return scores_by_group(
            self.current, self.rated, "country", min_n=self.min_n, cluster=self.cluster
        )

    @cached_property
    def loyalty_table(self) -> pd.DataFrame:
        """The loyalty index with Cronbach's alpha, this wave
        (:func:`csatlib.stats.loyalty.loyalty_summary` of every unit's own-brand respondents,
        the global summary's estimate, this unit's row); empty with fewer than two loyalty
        items."""
        return self.loyalty_of(self.wave)

    def loyalty_of(self, wave: str) -> pd.DataFrame:
        """This unit's loyalty index in ``wave`` (a target's baseline wave, or the report's),
        estimated as :attr:`loyalty_table` is: every unit's own-brand respondents of the wave
        on one design. Empty with fewer than two loyalty items."""
        from csatlib.stats.loyalty import loyalty_summary

        if len(self.loyalty_items) < 2:
            return pd.DataFrame()
        # every unit's index of the wave on one design, as the global summary estimates it:
        # the same interval for this unit in both (its own rows alone gave another, 63.2-69.6
        # against 63.3-69.5, the accounts of the design being fewer)
        table = self.shared_result(
            "loyalty",
            lambda: loyalty_summary(
                self.own.loc[(self.own["wave"].astype(str) == wave).to_numpy(dtype=bool)],
                self.loyalty_items,
                by="country",
                min_n=self.min_n,
                cluster=self.cluster,
            ),
            wave,
            self.min_n,
            self.cluster,
        )
        return table.loc[table["country"].astype(str) == self.country].reset_index(drop=True)

    @cached_property
    def driver_results(self) -> pd.DataFrame:
        """Key drivers of the recommend question (:func:`csatlib.stats.drivers.driver_table` on
        :attr:`driver_sample`, its bootstrap drawing whole accounts where the study has them);
        empty with fewer than two attributes.

        Importance comes from the pooled waves of :attr:`driver_sample`; ``performance`` (and
        the ``quadrant`` it places) is this wave's mean of each attribute, the figure of
        :attr:`attribute_scores` (NaN where that cell is suppressed), so the drivers table, the
        importance–performance chart and the attribute table show one mean, not a pooled one
        next to this wave's."""
        from csatlib.stats.drivers import driver_table, importance_performance

        if len(self.attributes) < 2:
            return pd.DataFrame()
        results = driver_table(
            self.driver_sample,
            self.nps_column,
            self.attributes,
            min_n=self.min_n,
            cluster=self.cluster,  # the bootstrap draws accounts, not respondents
        )
        if results.empty or results["suppressed"].any():
            return results
        scores = self.attribute_scores
        shown = scores.loc[~scores["suppressed"].astype(bool)]
        now = pd.Series(shown["mean"].to_numpy(float), index=shown["measure"].astype(str))
        attrs = dict(results.attrs)
        results = results.assign(performance=now.reindex(results.index.astype(str)).to_numpy())
        quadrants = importance_performance(results["importance"], results["performance"])
        results["quadrant"] = quadrants["quadrant"].reindex(results.index)
        results.attrs = attrs
        return results

    @cached_property
    def priorities(self) -> pd.DataFrame:
        """What to fix, one verdict per attribute: :func:`csatlib.stats.priorities.priorities` of
        :attr:`screen_table` and :attr:`driver_results`. The executive summary, the screens
        table, the key-driver table and the importance-performance chart all read it."""
        from csatlib.stats.priorities import priorities

        return priorities(self.screen_table, self.driver_results)

    @property
    def verdicts(self) -> dict[str, str]:
        """Attribute -> its verdict in :attr:`priorities`."""
        return {str(k): str(v) for k, v in self.priorities["verdict"].items()}

    @cached_property
    def importance_performance(self) -> pd.DataFrame:
        """The importance-performance quadrants of the key drivers
        (:func:`csatlib.stats.drivers.importance_performance`).

        Performance is the mean rating when every attribute has the same scale; with mixed
        scales each mean is put on 0-100 (``100 (mean - min) / (max - min)``) so that the
        attributes can share one axis (:attr:`performance_axis` says which).
        """
        from csatlib.stats.drivers import importance_performance

        results = self.driver_results
        if results.empty:
            return pd.DataFrame()
        performance = results["performance"].astype(float)
        if self.scale_label() == "each on its own scale":
            low = pd.Series({a: self.scale(a)[0] for a in performance.index}, dtype=float)
            high = pd.Series({a: self.scale(a)[1] for a in performance.index}, dtype=float)
            performance = 100 * (performance - low) / (high - low)
        return importance_performance(results["importance"], performance)

    @property
    def performance_axis(self) -> str:
        """Axis label of :attr:`importance_performance`'s performance."""
        if self.scale_label() == "each on its own scale":
            return "Performance (mean rating as % of its scale, 0–100)"
        return f"Performance (mean rating, {self.scale_label()})"

    @cached_property
    def at_risk_counts(self) -> pd.DataFrame | None:
        """This country's accounts assessed, at risk and the revenue at stake
        (:func:`csatlib.loop.accounts.at_risk_counts` of the account summary), judged on the
        report's wave, with the accounts declined since the previous wave; None when the study
        has no account column. Read by the executive summary and the closing-the-loop
        section."""
        from csatlib.loop.accounts import account_summary, at_risk_counts

        if not self.sections.has("accounts"):
            return None
        if self.dimension == "country":
            summary = self.shared_result(
                "accounts",
                lambda: account_summary(
                    self.study_responses,
                    self.account_matches(),
                    revenue=self.optional_table("revenue"),
                    wave=self.wave,
                ),
            )
            return self._without_revenue(at_risk_counts(summary, country=self.country))
        # a report by another dimension: this unit's respondents, each account judged in each
        # of its own countries (where its revenue is booked), then counted once: an account
        # is at risk in the unit when it is at risk in one of its countries, and its revenue
        # at stake is summed over those countries (so "9 of 24 accounts" counts the 24 accounts
        # the note under the title names, not 37 account-country pairs)
        mine = self.responses.loc[self.responses["country"].astype(str) == self.country]
        home = mine.drop(columns="country").rename(columns={"home_country": "country"})
        summary = self._study_account_rows(home)
        if summary is None:
            summary = account_summary(
                home, self.account_matches(), revenue=self.optional_table("revenue"), wave=self.wave
            )
        per_account = at_risk_counts(summary.assign(country=summary["account_key"].astype(str)))
        counts = pd.DataFrame(
            {
                "accounts_assessed": [int((per_account["accounts_assessed"] > 0).sum())],
                "at_risk": [int((per_account["at_risk"] > 0).sum())],
                "revenue_at_stake_usd": [float(per_account["revenue_at_stake_usd"].sum())],
                "at_risk_no_revenue": [int((per_account["at_risk_no_revenue"] > 0).sum())],
                "not_assessed": [int((per_account["accounts_assessed"] == 0).sum())],
                "declined": [int((per_account["declined"] > 0).sum())],
            },
            index=pd.Index([self.country], name="country"),
        )
        return self._without_revenue(counts)

    def _without_revenue(self, counts: pd.DataFrame) -> pd.DataFrame:
        """``counts`` without the revenue columns when the study has no revenue table: no
        revenue is known, so none is at stake (not "USD 0")."""
        if self.optional_table("revenue") is not None:
            return counts
        return counts.drop(columns=["revenue_at_stake_usd", "at_risk_no_revenue"], errors="ignore")

    def _study_account_rows(self, home: pd.DataFrame) -> pd.DataFrame | None:
        """The country reports' account summary (shared by every report of the build), cut to
        the account-country pairs of ``home`` (this unit's respondents, keyed by their own
        country): each account is judged on all its respondents in that country, as the
        at-risk lists judge it. A unit that holds only some of an account's respondents (a
        segment that varies within an account) thus flags the accounts the lists flag, not
        ones judged on a few of their respondents. None when the responses were handed in or
        the study's waves differ from the report's: then the unit's own summary is made."""
        from csatlib.loop.accounts import account_summary

        if self.study_key is None or ACCOUNT_KEY not in home.columns:
            return None
        study, key = prepared_responses(self.processed_dir)
        if key is None or tuple(str(w) for w in roles.wave_order(study["wave"])) != self.waves:
            return None
        summary = remembered(
            shared_key("accounts", key, self.wave, self.waves),
            lambda: account_summary(
                study,
                self.account_matches(),
                revenue=self.optional_table("revenue"),
                wave=self.wave,
            ),
        )
        pair = ["country", ACCOUNT_KEY]
        mine = home[pair].drop_duplicates().astype(str)
        rows = pd.MultiIndex.from_frame(summary[pair].astype(str))
        return summary.loc[rows.isin(pd.MultiIndex.from_frame(mine))].reset_index(drop=True)

    @property
    def at_risk_rule(self) -> str:
        """The at-risk rule this study applies, in one sentence
        (:meth:`csatlib.loop.accounts.AtRiskRule.sentence` of its
        :func:`~csatlib.loop.accounts.study_rule`)."""
        from csatlib.loop.accounts import study_rule

        return study_rule(self.responses).sentence(nps_label=self.nps_label)

    @cached_property
    def followup_counts(self) -> pd.DataFrame | None:
        """Follow-ups of this country open now: recovery calls and testimonials for the tickets
        of the study's last 30 days, complaint callbacks of the report's wave
        (:func:`csatlib.loop.followup.followup_counts`, the rows of the country's lists); None
        when the study can have none."""
        from csatlib.loop.followup import followup_counts

        if not self.sections.has("followups"):
            return None
        # every country's rows, so that the ticket window and the wave are the study's, as in
        # the lists (reports/lists): the counts are the rows of this country's files
        counts = self.shared_result(
            "followups",
            lambda: followup_counts(
                self.study_transactions(), self.study_responses, wave=self.wave
            ),
        )
        mine = counts["country"].astype(str).eq(self.country).fillna(False).to_numpy(dtype=bool)
        return counts.loc[mine].reset_index(drop=True)

    @cached_property
    def action_plans(self) -> pd.DataFrame:
        """The unit's action plans against its priorities
        (:func:`csatlib.report.actions.action_plan_table` of the study's ``actions.csv``): the
        summary and the action-plan section read this one table."""
        from csatlib.report.actions import action_plan_table, load

        return action_plan_table(self, load())

    @cached_property
    def case_table(self) -> pd.DataFrame:
        """The unit's follow-up cases per type: open, overdue, closed and closed within the
        service level (:func:`csatlib.report.cases.case_display` of the build's case store)."""
        from csatlib.report.cases import case_display

        label = unit_label(self.dimension, self.country, self.processed_dir)
        return case_display(
            self.reports_dir, self.dimension, self.country, label=label, within=self.within
        )

    @property
    def case_note(self) -> str:
        """The sentence under :attr:`case_table` (:func:`csatlib.report.cases.case_note`)."""
        from csatlib.report.cases import case_note

        return case_note(self.reports_dir, self.dimension, self.case_table)

    def country_transactions(self) -> pd.DataFrame | None:
        """This country's transaction-survey tickets (all months); None without that survey
        (or, in a report by another dimension, when the tickets do not record it)."""
        tx = self.study_transactions()
        if tx is None:
            return None
        return tx.loc[tx["country"].astype(str) == self.country]

    def unit_nps(self, wave: str, score: str) -> pd.DataFrame:
        """Every unit's NPS of its own customers in ``wave``
        (:func:`csatlib.stats.nps.nps_by_group` by ``country``: domains of one design over
        every unit's own customers in that wave, accounts as clusters, cells below ``min_n``
        suppressed), as the global league table computes it. The same in every report of a
        build: made once (:func:`remembered`)."""
        from csatlib.stats.nps import nps_by_group

        def compute() -> pd.DataFrame:
            rows = self.own.loc[self.own["wave"].astype(str) == wave]
            design = {"cluster": self.cluster} if self.cluster else {}
            return nps_by_group(rows, "country", score=score, min_n=self.min_n, **design)

        return self.shared_result("unit_nps", compute, wave, score, self.cluster, self.min_n)

    def nps_changes(self, score: str) -> pd.DataFrame:
        """Every unit's and brand's NPS change from wave to wave
        (:func:`csatlib.stats.nps.nps_wave_change` by ``country`` and ``competitor`` on
        :attr:`to_wave`, the report's one design). Made once per build (:func:`remembered`)."""
        from csatlib.stats.nps import nps_wave_change

        return self.shared_result(
            "nps_changes",
            lambda: nps_wave_change(
                self.to_wave,
                by=["country", "competitor"],
                score=score,
                cluster=self.cluster,
                min_n=self.min_n,
            ),
            score,
            self.cluster,
            self.min_n,
        )

    def nps_vs_rest(self, score: str) -> pd.DataFrame:
        """Every unit's NPS against all the other units pooled, this wave
        (:func:`countries_vs_rest` of the own customers, with the q-values over the units).
        Made once per build (:func:`remembered`)."""
        return self.shared_result(
            "nps_vs_rest",
            lambda: countries_vs_rest(
                self.own.loc[self.own["wave"].astype(str) == self.wave],
                score=score,
                cluster=self.cluster,
                min_n=self.min_n,
                ids=self._overlapping,
            ),
            score,
            self.cluster,
            self.min_n,
        )

    @cached_property
    def transactions_by_month(self) -> pd.DataFrame:
        """This country's transaction survey by month
        (:func:`csatlib.stats.scores.transaction_summary` of :meth:`country_transactions`, its
        score and scale, the tickets of one account a cluster (:func:`ticket_cluster`), cells
        below ``min_n`` suppressed, and more where the tables beside it would give a small cell
        away: :func:`ticket_protection`): the table the transaction section shows and the
        coverage block checks."""
        from csatlib.stats.scores import transaction_summary

        tx = self.country_transactions()
        table = transaction_summary(
            tx,
            by="month",
            score=self.transaction_score,
            scale=self.transaction_scale,
            cluster=ticket_cluster(tx),
            min_n=self.min_n,
        )
        if tx is None or self.transaction_score is None:
            return table
        return protect_cells(
            table, self.ticket_protection, kind="month", unit=self.country, by="month"
        )

    @property
    def ticket_product(self) -> str | None:
        """The tickets' product column (:func:`ticket_product`), or None."""
        return ticket_product(self.optional_table("transactions"))

    @property
    def ticket_labels(self) -> dict[str, str]:
        """The transaction survey's codebook labels (column -> label; empty without it)."""
        tx = self.optional_table("transactions")
        return dict(tx.attrs.get("labels") or {}) if tx is not None else {}

    @cached_property
    def transactions_by_product(self) -> pd.DataFrame | None:
        """This unit's ticket satisfaction by product over the same months as
        :attr:`transactions_by_month` (:func:`csatlib.stats.scores.transaction_summary` by
        :attr:`ticket_product`, an account's tickets one cluster, cells below ``min_n``
        suppressed, and more where the tables beside it would give a small cell away:
        :func:`ticket_protection`); None when the tickets record no product."""
        from csatlib.stats.scores import transaction_summary

        tx, product = self.country_transactions(), self.ticket_product
        if tx is None or product is None or self.transaction_score is None:
            return None
        table = transaction_summary(
            tx,
            by=product,
            score=self.transaction_score,
            scale=self.transaction_scale,
            cluster=ticket_cluster(tx),
            min_n=self.min_n,
        )
        return protect_cells(
            table, self.ticket_protection, kind="product", unit=self.country, by=product
        )

    @property
    def ticket_protection(self) -> dict[TicketCell, str]:
        """Which cells of the ticket tables of every report of this one's dimension, and of
        the study-wide tables beside them, are hidden (:func:`ticket_protection`): those of
        every unit of the dimension (:meth:`study_transactions`) against the global summary's
        (the tickets up to the wave; with its region and month table in reports by country),
        or in a cross-cut against its outer unit's. The same in every report of a build and
        in the global summary: made once (:func:`remembered`)."""
        tx = self.optional_table("transactions")
        score = self.transaction_score
        if tx is None or score is None:
            return {}
        if self.within:
            try:
                overall = within_rows(tx, self.within, self.processed_dir)
            except DataError:
                overall = None
        else:
            overall = tickets_up_to(tx, self.wave)
        groups = ticket_groups(tx) if self.dimension == "country" and not self.within else []
        return self.shared_result(
            "ticket_protection",
            lambda: ticket_protection(
                self.study_transactions(),
                overall,
                product=self.ticket_product,
                score=score,
                min_n=self.min_n,
                groups=groups,
                scale=self.transaction_scale,
            ),
            self.min_n,
        )

    @cached_property
    def coder_accuracy(self) -> CoderAccuracy | None:
        """The rule coder's precision and recall on the study's hand-coded sample
        (:func:`csatlib.text.accuracy.rule_coder_accuracy` of :attr:`study_rows` with the
        study's CIT codebook and hand codes); None without hand codes. A study-wide measure,
        the same in every report of a build: made once per version of the tables, the codebook
        and the hand codes (:func:`remembered`)."""
        from csatlib.ingest.clean import file_key
        from csatlib.text.accuracy import rule_coder_accuracy

        files = tuple(
            file_key(p) if p.is_file() else None
            for p in (Path(config.CIT_CODEBOOK), Path(config.CIT_HAND_CODES))
        )
        # one result for every report of the build, whatever its slice: the study's
        study = study_key(self.processed_dir) if self.study_key is not None else None
        return remembered(
            shared_key("coder_accuracy", study, "", (), files, tuple(self.text_fields.items())),
            lambda: rule_coder_accuracy(
                self.study_rows,
                codebook_path=config.CIT_CODEBOOK,
                hand_codes_path=config.CIT_HAND_CODES,
                fields=self.text_fields,
            ),
            folder=store_folder(self),
        )

    def study_transactions(self) -> pd.DataFrame | None:
        """Every ticket, keyed like :attr:`responses`: in a report by another dimension its
        value is in ``country`` (the ticket's own country in ``home_country``); None without a
        transaction survey or when the tickets do not record the dimension. The same in every
        report of a build: made once (:func:`remembered`)."""
        return remembered(self._shared("transactions"), self._study_transactions)

    def _study_transactions(self) -> pd.DataFrame | None:
        tx = self.optional_table("transactions")
        if tx is not None and self.within:
            try:  # a cross-cut: the outer unit's tickets
                tx = within_rows(tx, self.within, self.processed_dir)
            except DataError:
                return None
        if tx is None or self.dimension == "country":
            return tx
        if self.dimension in tx.columns:
            return slice_responses(tx, self.dimension)
        try:  # business units through the tickets' accounts, where the tickets have them
            expanded = _with_units(tx, self.dimension, self.processed_dir)
        except DataError:
            expanded = None
        return None if expanded is None else slice_responses(expanded, self.dimension)

    @property
    def text_fields(self) -> dict[str, str]:
        """CIT field -> column: ``like`` (role ``text_like``), ``dislike`` (``text_dislike``)."""
        return text_fields(self.responses)

    @cached_property
    def coded_incidents(self) -> Any:
        """This wave's likes and dislikes of the country, split into incidents and rule-coded
        with the study's CIT codebook (:func:`csatlib.text.coding.code_responses`)."""
        from csatlib.text.coding import code_responses

        return code_responses(
            self.current, fields=self.text_fields, codebook_path=config.CIT_CODEBOOK
        )

    @property
    def transaction_scale(self) -> tuple[int, int] | None:
        """(min, max) of the transaction survey's score, or None without that survey."""
        score = self.transaction_score
        tx = self.optional_table("transactions")
        return roles.scale(tx, score) if score and tx is not None else None

    @property
    def transaction_score(self) -> str | None:
        """The transaction survey's score column (its role ``overall``), or None."""
        tx = self.optional_table("transactions")
        found = roles.names(tx, "overall") if tx is not None else []
        return found[0] if found else None

    def account_aliases(self) -> pd.DataFrame | None:
        """The manual account-name overrides (``alias, canonical``), if the study has them."""
        return _account_aliases()

    def account_matches(self) -> AccountMatch:
        """The survey's account names grouped into accounts (every country and wave).

        :func:`csatlib.loop.accounts.match_accounts` on the account column of
        :attr:`study_rows` (the whole study, also in a report by another dimension or a
        cross-cut: the same grouping as :func:`with_account_key`'s, in every report) with the
        study's alias file (:meth:`account_aliases`) and the default threshold and review band.
        """
        if self.study_key is None:
            return _match_study_accounts(self.study_rows)
        return study_matches(self.processed_dir, lambda: self.study_rows)

    def table(self, kind: str) -> pd.DataFrame:
        """Another processed table of the study (``"transactions"``, ``"revenue"``)."""
        from csatlib.ingest.clean import load_processed

        return load_processed(kind, self.processed_dir)

    def optional_table(self, kind: str) -> pd.DataFrame | None:
        """:meth:`table`, or None when the study has no such table."""
        if not (Path(self.processed_dir) / f"{kind}.parquet").is_file():
            return None
        return self.table(kind)

    def cleaning_summary(self) -> dict:
        """The cleaning summary written by ``csat data``
        (:func:`csatlib.ingest.clean.load_cleaning_summary`)."""
        from csatlib.ingest.clean import load_cleaning_summary

        return load_cleaning_summary(self.processed_dir)

    @cached_property
    def own(self) -> pd.DataFrame:
        """Own-brand responses of every country and wave (everyone without a brand column)."""
        return remembered(self._shared("own"), lambda: roles.own_customers(self.study_responses))

    @cached_property
    def country_own(self) -> pd.DataFrame:
        """Own-brand responses of this country, every wave."""
        own = roles.own_customers(self.responses) if self.sliced else self.own
        return own.loc[own["country"] == self.country]

    @cached_property
    def current(self) -> pd.DataFrame:
        """Own-brand responses of this country in the report's wave."""
        own = self.country_own
        return own.loc[own["wave"] == self.wave]

    @cached_property
    def previous(self) -> pd.DataFrame:
        """Own-brand responses of this country in the previous wave (empty if none)."""
        own = self.country_own
        return own.loc[own["wave"] == self.previous_wave]

    def rest_estimate(self, score: str) -> tuple[int, NPSResult | None]:
        """The NPS of everyone but this unit's respondents (own customers of the other units,
        this wave; other people, each once, :meth:`_rest`): the valid answers and the estimate
        (:func:`csatlib.stats.nps.nps`, accounts as clusters; None below ``min_n``). Made for
        every unit at once and kept (:meth:`shared_result`)."""
        from csatlib.stats.nps import nps

        def compute() -> dict[str, tuple[int, NPSResult | None]]:
            own = self.own
            now = own.loc[(own["wave"] == self.wave).to_numpy(dtype=bool)]
            out = {}
            for unit in sorted({str(u) for u in now["country"].dropna()}):
                rest = outside_unit(now, unit, self._overlapping)
                scores = pd.to_numeric(rest[score], errors="coerce")
                valid = int(scores.notna().sum())
                if valid < self.min_n:
                    out[unit] = (valid, None)
                    continue
                clusters = rest[self.cluster].to_numpy(dtype=object) if self.cluster else None
                values = scores.to_numpy(dtype=float, na_value=np.nan)
                out[unit] = (valid, nps(values, clusters=clusters))
            return out

        table = self.shared_result("rest_nps", compute, score, self.cluster, self.min_n)
        return table.get(self.country, (0, None))

    @cached_property
    def others_current(self) -> pd.DataFrame:
        """Own-brand responses of every other country in the report's wave (for a unit of
        another dimension: other people, each once, :meth:`_rest`)."""
        own = self.own
        return self._rest(own.loc[(own["wave"] == self.wave).to_numpy(dtype=bool)])


def _account_aliases() -> pd.DataFrame | None:
    if not config.ACCOUNT_ALIASES.exists():
        return None
    return pd.read_csv(config.ACCOUNT_ALIASES, dtype=str, keep_default_na=False)


def study_matches(folder: Path, names: Callable[[], pd.DataFrame]) -> AccountMatch:
    """The study's account names grouped into accounts (:func:`_match_study_accounts` of the
    responses ``names()`` gives, every country's), made once per version of the responses and
    the aliases and kept (:func:`remembered`, on disk in ``folder``)."""
    return remembered(
        ("matches", study_key(folder)), lambda: _match_study_accounts(names()), folder=folder
    )


def _match_study_accounts(responses: pd.DataFrame) -> AccountMatch:
    from csatlib.loop.accounts import match_accounts

    return match_accounts(
        responses[roles.names(responses, "account")[0]], aliases=_account_aliases()
    )


def study_key(folder: str | Path, dimension: str = "country", within: str = "") -> tuple | None:
    """What the results of a report by ``dimension`` (``within`` a unit) are made from: the
    versions of the processed tables (responses first; tickets, revenue and the organisation
    tables too) and of the account aliases, and the slice; None when the folder has no
    responses. The key of the results :func:`remembered` shares."""
    from csatlib.ingest.clean import file_key

    path = Path(folder) / "responses.parquet"
    if not path.is_file():
        return None
    others = tuple(file_key(p) for p in sorted(Path(folder).glob("*.parquet")) if p != path)
    aliases = file_key(config.ACCOUNT_ALIASES) if config.ACCOUNT_ALIASES.is_file() else None
    return (file_key(path), aliases, dimension, within, others)


def shared_key(
    what: str, key: tuple | None, wave: str, waves: tuple[str, ...], *params: Any
) -> tuple | None:
    """The key of a study-wide result (``what``: "trends", "screens" ...) of one wave, the same
    in every report of a build and in the global summary; None when ``key`` is None."""
    return None if key is None else (what, key, wave, tuple(waves), *params)


_REMEMBERED: dict[tuple, Any] = {}
#: How many results a process keeps (the least recently used go first). A build's warm-up
#: keeps some 20 per slice: 1,024 hold the sample's 14 slices (countries, business units, and
#: business units within each of 13 countries) several times over, where 256 lost the first
#: slices' prepared responses.
_REMEMBERED_SIZE = 1024


def remembered(
    key: tuple | None, compute: Callable[[], Any], *, folder: str | Path | None = None
) -> Any:
    """``compute()``, remembered under ``key`` (None: computed every time).

    The study-wide results that every report of a build computes alike (the prepared
    responses, every country's trends, every account's summary, every follow-up count) are
    computed once: in the build's kernel fork server by :func:`warm_up`, whose kernels inherit
    them, or by the first report of a process. Keys name what the result was made from (the
    processed file's version, the aliases file's, the slice, the wave and the parameters), so a
    changed input is a new key. A DataFrame comes back as its own copy
    (:func:`csatlib.roles.shallow_copy`): changing it never changes the remembered one.

    With ``folder`` (the processed folder the result was made from), the result is also kept
    on disk there (:mod:`csatlib.report.store`), and a process that does not have it in memory
    reads it from there before computing it: a country report opened later, or run on another
    machine that reads the folder, then needs no other country's rows.
    """
    if key is None:
        return compute()
    if key in _REMEMBERED:
        value = _REMEMBERED.pop(key)
    else:
        value = store.fetch(folder, key) if folder is not None else store.MISSING
        if value is store.MISSING:
            value = compute()
            if folder is not None:
                store.keep(folder, key, value)
    _REMEMBERED[key] = value  # most recently used last
    while len(_REMEMBERED) > _REMEMBERED_SIZE:
        del _REMEMBERED[next(iter(_REMEMBERED))]
    return roles.shallow_copy(value) if isinstance(value, pd.DataFrame) else value


def by_file_version(
    path: Path, read: Callable[[Path], pd.DataFrame], empty: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    """``read(path)``, or ``empty()`` when there is no such file, read once per version of the
    file (its path, size and modification time; :func:`remembered` in memory): an edited file
    is read again, and the kernels of a build inherit what its fork server read. An error
    reading it is raised every time, never remembered."""
    try:
        stat = path.stat()
    except OSError:
        return empty()
    if not path.is_file():
        return empty()
    key = ("file", str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    return remembered(key, lambda: read(path))


def warm_up(
    processed_dir: str | Path = "",
    *,
    slices: Sequence[tuple[str, str]] = (("country", ""),),
    parallel: bool = False,
) -> None:
    """Read the study's processed tables and match its account names, once, into this process.

    :func:`csatlib.ingest.clean.load_processed` and :func:`csatlib.loop.accounts.match_accounts`
    keep their last results in memory (checked against the files and the names), so a process that
    calls this first and then forks (the report build's kernel fork server,
    :mod:`csatlib.report.kernels`) hands every report kernel the tables and the account matching
    ready-made. It computes the study-wide results of the reports of the latest wave, for each
    ``(dimension, within)`` of ``slices`` (default the country reports; a report by business
    unit, or a cross-cut ``("business_unit", "country=DE")``): :func:`remembered`'s prepared
    responses, every unit's trends and screens, every account's summary, every follow-up count,
    the ticket tables' hidden cells (:func:`ticket_protection`), so a kernel only computes its
    own unit's. It also rule-codes the likes and dislikes of the
    latest wave: the coder remembers each text's matches
    (:func:`csatlib.text.coding.code_incidents`), so a report's kernel looks its incidents up.
    Each kernel still gets its own copies; results are the same as without the warm-up.

    With ``parallel`` (the fork server, on a machine with more than one core), the slices'
    account summaries and headline tables are computed in a forked child while this process
    computes the trends, screens and text coding: the child keeps its results in the study's
    store (:mod:`csatlib.report.store`), from which this process then reads them. Where the
    store cannot be written, or the child fails, this process computes them itself: the
    results are the same either way.
    """
    from csatlib.ingest.clean import load_processed

    folder = Path(processed_dir) if processed_dir else config.PROCESSED_DIR
    responses = load_responses(folder)
    for kind in ("transactions", "revenue"):
        if (folder / f"{kind}.parquet").is_file():
            load_processed(kind, folder)
    if roles.names(responses, "account"):
        _match_study_accounts(responses)
    contexts = list(_slice_contexts(folder, slices if "wave" in responses else ()))
    helper = None
    if parallel and contexts and study_key(folder) is not None:
        # one child for every slice, forked with the slices' responses prepared: the results
        # slices share (the country reports' account summary a unit's report reads) are
        # computed once there, as they are here without it
        helper = _in_child(lambda: [_warm_accounts_and_headline(c) for c in contexts])
    try:
        for ctx in contexts:
            # what every unit of the slice shares (not this first unit's own family of tests)
            for part in ("own", "_all_trends", "coder_accuracy", "ticket_protection"):
                with contextlib.suppress(Exception):
                    getattr(ctx, part)
            if ctx.attributes and ctx._overlapping is None:  # noqa: SLF001
                with contextlib.suppress(Exception):
                    shared_screens(ctx)
        _warm_text(responses)
    finally:  # the child is waited for (and its pipe closed) whatever happened here
        if helper is not None:
            helper.wait()
    for ctx in contexts:  # read from the store where the child computed them
        _warm_accounts_and_headline(ctx, coder=True)


def _slice_contexts(folder: Path, slices: Sequence[tuple[str, str]]) -> Iterator[CountryContext]:
    """A report's context for each ``(dimension, within)`` of ``slices`` (of its first unit,
    with the slice's responses prepared); none for a slice without a unit or that fails (the
    report itself shows what is wrong)."""
    for dimension, within in slices:
        # the study-wide results of every report of the slice in the latest wave (trends,
        # screens, accounts, follow-ups), computed once here for every kernel (see remembered)
        try:
            prepared, _ = prepared_responses(folder, dimension, within)
            units = roles.own_customers(prepared)["country"].dropna()
            if not len(units):
                continue
            unit = str(units.iloc[0])
            ctx = load_country(
                unit, processed_dir=folder, dimension=dimension, value=unit, within=within
            )
        except Exception:  # noqa: S112 - the report itself shows what is wrong
            continue
        yield ctx


def _warm_accounts_and_headline(ctx: CountryContext, *, coder: bool = False) -> None:
    """A slice's account summaries, follow-up counts and headline tables
    (:func:`_warm_headline`; with ``coder`` also the rule coder's accuracy), and the account
    matching they are made with."""
    for warm in (
        lambda: ctx.at_risk_counts,
        lambda: ctx.followup_counts,
        ctx.account_matches,
    ):
        with contextlib.suppress(Exception):
            warm()
    _warm_headline(ctx, coder=coder)


#: Seconds the warm-up waits for its forked child before killing it (:meth:`_Child.wait`).
_CHILD_TIMEOUT = 600.0


@dataclass(frozen=True)
class _Child:
    """A forked child running part of the warm-up; :meth:`wait` returns when it has ended."""

    pid: int
    done: int  # read end of a pipe whose write end only the child holds

    def wait(self, timeout: float = _CHILD_TIMEOUT) -> None:
        """Block until the child has ended (its end of the pipe closes), then reap it; a child
        still running after ``timeout`` seconds is killed (the parent computes what it did
        not store)."""
        import select
        import time

        deadline = time.monotonic() + timeout
        with os.fdopen(self.done, "rb", buffering=0) as pipe:
            while True:
                left = deadline - time.monotonic()
                ready = select.select([pipe], [], [], max(left, 0.0))[0] if left > 0 else []
                if not ready:
                    with contextlib.suppress(OSError):
                        os.kill(self.pid, signal.SIGKILL)
                    break
                if not pipe.read(4096):  # end of file: the child has ended
                    break
        with contextlib.suppress(ChildProcessError):  # reaped already (SIGCHLD ignored)
            os.waitpid(self.pid, 0)


def _in_child(work: Callable[[], None]) -> _Child | None:
    """Run ``work`` in a forked child, which ends with :func:`os._exit` (no exit handlers, no
    inherited buffers flushed twice); its failures stay there (the parent computes the
    result itself when the store has none). None, with nothing left open, when the process
    cannot fork (the parent then computes everything itself)."""
    import gc

    done, finished = os.pipe()
    gc.freeze()  # the child's collections leave the inherited objects (and their pages) alone
    try:
        pid = os.fork()
    except OSError:  # too many processes, no memory: the warm-up goes on without the child
        gc.unfreeze()
        os.close(done)
        os.close(finished)
        return None
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(done)
            work()
        finally:
            os._exit(0)
    gc.unfreeze()
    os.close(finished)
    return _Child(pid, done)


def _warm_text(responses: pd.DataFrame) -> None:
    """Rule-code the likes and dislikes of the study's latest wave (the coder remembers each
    text's matches, :func:`csatlib.text.coding.code_incidents`)."""
    fields = text_fields(responses)
    if fields and "wave" in responses and len(responses):
        from csatlib.text.coding import code_responses

        # the rule coder remembers every text it coded (csatlib.text.coding): each report then
        # looks up its likes and dislikes of the latest wave instead of running the patterns
        latest = responses.loc[responses["wave"] == roles.wave_order(responses["wave"])[-1]]
        code_responses(latest, fields=fields, codebook_path=config.CIT_CODEBOOK)


def _warm_headline(ctx: CountryContext, *, coder: bool = True) -> None:
    """The study-wide results every report of ``ctx``'s slice reads, made once: the headline
    NPS tables (every unit's estimate this wave and the last, every change, every unit against
    the rest), the tickets keyed by the slice and (with ``coder``) the rule coder's precision
    and recall."""
    for warm in (
        lambda: ctx.rest_estimate(ctx.nps_column),
        lambda: ctx.loyalty_table,
        lambda: _warm_plans(ctx),
        lambda: _warm_targets(ctx),
        lambda: ctx.unit_nps(ctx.wave, ctx.nps_column),
        lambda: ctx.unit_nps(str(ctx.previous_wave), ctx.nps_column) if ctx.previous_wave else 0,
        lambda: ctx.nps_changes(ctx.nps_column),
        lambda: ctx.nps_vs_rest(ctx.nps_column),
        ctx.study_transactions,
        lambda: ctx.coder_accuracy if coder else None,
    ):
        with contextlib.suppress(Exception):  # the report itself shows what is wrong
            warm()


def _warm_targets(ctx: CountryContext) -> None:
    """Every unit's loyalty index in each baseline wave of the study's loyalty-index targets
    (:meth:`CountryContext.loyalty_of`): a scorecard's baseline that no build recorded."""
    from csatlib.report.targets import load

    targets = load()
    if not ctx.loyalty_items or targets.empty:
        return
    chosen = targets.loc[targets["metric"] == "loyalty_index", "baseline_wave"].dropna()
    for wave in sorted({str(w) for w in chosen} & set(ctx.waves)):
        ctx.loyalty_of(wave)


def _warm_plans(ctx: CountryContext) -> None:
    """Every unit's attribute changes since each start wave of the study's action plans
    (:func:`csatlib.report.actions.changes_since`), the movement the plans' table shows."""
    from csatlib.report.actions import changes_since, load

    plans = load()
    if ctx.attributes and len(plans):
        for start in sorted({str(w) for w in plans["start_wave"].dropna()} & set(ctx.waves)):
            if ctx.waves.index(start) < ctx.waves.index(ctx.wave):
                changes_since(ctx, start)


def text_fields(responses: pd.DataFrame) -> dict[str, str]:
    """CIT field -> column of a survey: ``like`` (role ``text_like``), ``dislike``
    (``text_dislike``); the fields the study has."""
    out = {}
    for field, role in (("like", "text_like"), ("dislike", "text_dislike")):
        found = roles.names(responses, role)
        if found:
            out[field] = found[0]
    return out


def load_responses(processed_dir: str | Path = "") -> pd.DataFrame:
    """Read ``responses.parquet`` (with its codebook roles in ``attrs``) from ``processed_dir``."""
    from csatlib.ingest.clean import load_processed

    folder = Path(processed_dir) if processed_dir else config.PROCESSED_DIR
    return load_processed("responses", folder)


def slice_responses(
    responses: pd.DataFrame, dimension: str, processed_dir: str | Path | None = None
) -> pd.DataFrame:
    """The responses re-keyed for a report by ``dimension``: its value becomes ``country``.

    Every comparison of a report is with "the others" of the column ``country`` (the rest of
    the study, the league of the global summary); a report by business unit or segment makes
    the same comparisons among the values of its own dimension by putting them in that column.
    The respondent's own country is kept as ``home_country``. Rows without a value for the
    dimension belong to no slice and are left out (they stay in the study's other reports).

    A business unit is no column of the survey: it comes from the organisation mapping
    (:func:`csatlib.ingest.organisation.unit_membership`, account names matched as the
    closing-the-loop lists match them), read from ``processed_dir``. A respondent of an account
    in two units is in both units' reports: the row appears once per unit, and the account
    clusters keep the two copies' dependence in every interval and test.

    Raises
    ------
    DataError
        When the study has no such dimension (the ones it could be cut by are listed).
    """
    if dimension == "country":
        return responses
    if dimension not in responses.columns:
        expanded = _with_units(responses, dimension, processed_dir)
        if expanded is None:
            raise DataError(
                f"report dimension {dimension!r}: expected a column of the responses or the "
                f"organisation mapping's business units; the study can be cut by: "
                f"{', '.join(slice_dimensions(responses, processed_dir))}"
            )
        responses = expanded
    values = responses[dimension].astype("string").str.strip()
    keep = values.notna() & (values != "")
    out = responses.loc[keep.to_numpy()].rename(columns={"country": "home_country"})
    out = out.assign(country=values[keep].astype(str).to_numpy())
    out.attrs = dict(responses.attrs)
    return out


def _organisation(processed_dir: str | Path | None) -> Any:
    """The study's organisation mapping (or None without one), read once per version of its
    tables (:func:`remembered`; the mapping is immutable, so every caller shares it)."""
    from csatlib.ingest.clean import file_key
    from csatlib.ingest.organisation import ORGANISATION_TABLES, read_organisation

    folder = Path(processed_dir) if processed_dir else config.PROCESSED_DIR
    paths = [folder / f"{name}.parquet" for name in ORGANISATION_TABLES]
    key = ("organisation", tuple(file_key(p) if p.is_file() else str(p) for p in paths))
    return remembered(key, lambda: read_organisation(folder))


def with_business_units(
    table: pd.DataFrame, dimension: str, processed_dir: str | Path | None
) -> pd.DataFrame:
    """``table`` ready to be cut by ``dimension``: with the organisation mapping's
    ``business_unit`` column (:func:`_with_units`) when that is the dimension and the table
    lacks it, else ``table`` itself. Row by row, so a subset of the result is the result of
    the subset (a cross-cut's rows are taken from it instead of matched again)."""
    if dimension in table.columns:
        return table
    expanded = _with_units(table, dimension, processed_dir)
    return table if expanded is None else expanded


def _with_units(
    table: pd.DataFrame, dimension: str, processed_dir: str | Path | None
) -> pd.DataFrame | None:
    """``table`` with a ``business_unit`` column from the organisation mapping, a row per
    unit of the row's account (rows of accounts in no unit left out); None when
    ``dimension`` is not the business unit or the study has no mapping."""
    if dimension != "business_unit":
        return None
    org = _organisation(processed_dir)
    if org is None:
        return None
    from csatlib.ingest.organisation import unit_membership
    from csatlib.loop.accounts import normalize_account_name

    members = unit_membership(table, org, key=normalize_account_name, aliases=_account_aliases())
    id_column = str(members.columns[0])
    units = members[[id_column, "business_unit"]].astype(str)
    keyed = table.assign(_unit_id=table[id_column].astype(str).to_numpy())
    out = keyed.merge(units.rename(columns={id_column: "_unit_id"}), on="_unit_id")
    out = out.drop(columns="_unit_id")
    out.attrs = dict(table.attrs)
    return out


#: The codebook roles whose columns a report can be cut by (besides the country).
SLICE_ROLES = ("segment", "business_unit", "function", "business_process", "product", "region")


def check_dimension(
    responses: pd.DataFrame, dimension: str, processed_dir: str | Path | None = None
) -> None:
    """Raise :class:`DataError` unless a report can be cut by ``dimension``: the country, a
    column of one of the :data:`SLICE_ROLES` or the organisation mapping's business units
    (:func:`slice_dimensions`). A name, an e-mail address, a date, a score or a free text is
    never a report's unit, even though it is a column of the responses."""
    allowed = slice_dimensions(responses, processed_dir)
    if dimension not in allowed:
        raise DataError(
            f"report dimension {dimension!r}: expected the country, a column whose codebook "
            f"role is one of {', '.join(SLICE_ROLES)}, or the organisation mapping's business "
            f"units; the study can be cut by: {', '.join(allowed)}"
        )


def slice_dimensions(responses: pd.DataFrame, processed_dir: str | Path | None = None) -> list[str]:
    """Columns a report can be cut by: the country, each categorical role column present
    (segment, function, business process, product, region) and the business unit when the
    study has an organisation mapping."""
    found = ["country"]
    for role in SLICE_ROLES:
        found += [c for c in roles.names(responses, role) if c in responses.columns]
    if "business_unit" not in found and _organisation(processed_dir) is not None:
        found.append("business_unit")
    return list(dict.fromkeys(found))


def slice_values(
    responses: pd.DataFrame, dimension: str, processed_dir: str | Path | None = None
) -> list[str]:
    """The values of ``dimension`` with own-brand responses, sorted (a report each).

    Raises
    ------
    DataError
        When the study cannot be cut by ``dimension`` (:func:`check_dimension`).
    """
    check_dimension(responses, dimension, processed_dir)
    sliced = slice_responses(responses, dimension, processed_dir)
    own = roles.own_customers(with_competitor(sliced))
    return sorted({str(v) for v in own["country"].dropna().unique()})


def within_rows(
    responses: pd.DataFrame, within: str, processed_dir: str | Path | None = None
) -> pd.DataFrame:
    """The rows of a cross-cut's outer unit: ``within="country=DE"`` keeps Germany's rows (a
    business unit, through the organisation mapping, as in :func:`slice_responses`); ``""``
    keeps every row.

    Raises
    ------
    DataError
        When ``within`` is not ``"<dimension>=<value>"`` or names no dimension of the study.
    """
    if not within:
        return responses
    dimension, sep, value = within.partition("=")
    if not sep or not dimension or not value:
        raise DataError(
            f"parameter within: expected '<dimension>=<value>' such as 'country=DE', found "
            f"{within!r}"
        )
    sliced = slice_responses(responses, dimension, processed_dir)
    rows = sliced.loc[sliced["country"].astype(str) == value]
    if dimension != "country":  # back to the respondents' own countries
        rows = rows.drop(columns="country").rename(columns={"home_country": "country"})
    out = rows.drop(columns=[dimension] if dimension == "business_unit" else [])
    out.attrs = dict(responses.attrs)
    return out


def unit_label(dimension: str, value: str, processed_dir: str | Path | None = None) -> str:
    """How a report names its unit: the country's name, the label the organisation mapping
    gives a business unit, function or business process ("Enterprise Storage"), else the
    value itself."""
    if dimension == "country":
        return _country_name(value)
    tables = {"business_unit": "business_units", "function": "functions"}
    if dimension in (*tables, "business_process"):
        org = _organisation(processed_dir)
        if org is not None:
            named = getattr(org, tables.get(dimension, "business_processes"))
            return str(named.get(value, value))
    return value


def load_country(
    country: str,
    *,
    wave: str = "",
    processed_dir: str | Path = "",
    min_n: int = config.DEFAULT_MIN_N,
    responses: pd.DataFrame | None = None,
    dimension: str = "country",
    value: str = "",
    within: str = "",
    reports_dir: str | Path = "",
) -> CountryContext:
    """Validate the report parameters and return the country's :class:`CountryContext`.

    Parameters
    ----------
    country
        ISO 3166 alpha-2 code, e.g. ``"DE"`` (``"NA"`` is Namibia); ignored in a report by
        another dimension.
    wave
        Wave label such as ``"2026-Q3"``; empty means the country's latest wave.
    processed_dir
        Folder with ``responses.parquet``; empty means ``data/processed`` of this project.
    min_n
        Small-cell minimum (a whole number >= 1).
    responses
        Already loaded responses (skips reading the file; used by tests and the global notebook).
    dimension, value
        A report by another dimension than the country (``dimension="segment"``,
        ``value="Enterprise"``): every figure is for the respondents with that value, compared
        with those of the other values (:func:`slice_responses`).
    within
        A cross-cut, ``"country=DE"``: only the respondents of Germany, and the unit compared
        with the other units in Germany (:func:`within_rows`).
    reports_dir
        Where the build publishes (the history and the case store); empty means ``reports``
        of this project.

    Raises
    ------
    DataError
        When a parameter has the wrong form or names a country, value or wave absent from the
        data.
    """
    if dimension == "country" and (not isinstance(country, str) or not _ISO2.match(country)):
        raise DataError(
            f"parameter country: expected an ISO 3166 alpha-2 code such as 'DE', found {country!r}"
        )
    min_n = check_min_n(min_n, func="load_country")
    if not isinstance(wave, str):
        raise DataError(f"parameter wave: expected a label such as '2026-Q3' or '', found {wave!r}")
    folder = Path(processed_dir) if processed_dir else config.PROCESSED_DIR
    unit = country if dimension == "country" else str(value)
    slicing = dimension == "country" and responses is None and not within
    mine = _country_rows(folder, unit) if slicing else None
    if mine is not None:
        data, key, study_waves = mine
    else:
        data, key = prepared_responses(folder, dimension, within, responses)
        study_waves = None
    roles.nps_column(data)  # every report needs the recommend question
    wave, waves = _report_wave(data, unit, wave, dimension, study_waves)
    within_name = unit_label(*within.split("=", 1), folder) if within else ""
    name = unit_label(dimension, unit, folder)
    return CountryContext(
        country=unit,
        country_name=f"{name} in {within_name}" if within else name,
        wave=wave,
        previous_wave=roles.previous_wave(list(waves), wave),
        waves=waves,
        min_n=min_n,
        responses=data,
        processed_dir=folder,
        dimension=dimension,
        within=within,
        within_name=within_name,
        reports_dir=Path(reports_dir) if reports_dir else config.REPORTS_DIR,
        study_key=key,
        sliced=study_waves is not None,
    )


def _country_rows(folder: Path, country: str) -> tuple[pd.DataFrame, tuple, tuple[str, ...]] | None:
    """A country report's own rows (both brands, every wave), prepared as
    :func:`prepared_responses` prepares the whole study and with the same index labels, its
    :func:`study_key` and the study's waves; None when the folder has no responses or the
    country has no own-brand rows (the whole study then says what there is).

    The rows come from the study kept in memory when this process has it (a kernel of the
    build), else from the file, reading no other country's rows into pandas
    (:func:`csatlib.ingest.clean.load_processed_rows`). Accounts are matched over the whole
    study's names (:func:`study_matches`, kept on disk), so an account is the same cluster as in
    every other report."""
    from csatlib.ingest.clean import load_processed_columns, load_processed_rows

    key = study_key(folder)
    if key is None:
        return None
    kept = _REMEMBERED.get(("responses", key))
    if kept is not None:
        rows = roles.shallow_copy(kept.loc[(kept["country"].astype(str) == country).to_numpy()])
        waves = tuple(roles.wave_order(kept["wave"]))
    else:
        rows = load_processed_rows("responses", folder, column="country", value=country)
        study_waves = load_processed_columns("responses", folder, ["wave"])["wave"]
        waves = tuple(roles.wave_order(study_waves))
        account = roles.names(rows, "account")
        if account:
            matches = study_matches(
                folder, lambda: load_processed_columns("responses", folder, account)
            )
            rows = with_account_key(rows, matches)
        rows = with_competitor(rows)
    if not len(roles.own_customers(rows)):
        return None
    return rows, key, tuple(str(w) for w in waves)


def prepared_responses(
    folder: Path,
    dimension: str = "country",
    within: str = "",
    responses: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, tuple | None]:
    """The responses of a report by ``dimension`` (``within`` a unit), and their
    :func:`study_key`: the processed responses (or those given) with the matched account (over
    the whole study), cut to the outer unit, re-keyed by the dimension, with the competitor
    flag. Read from the folder,
    they are prepared once per study version (:func:`remembered`); given ones every time, with
    the key None."""
    key = study_key(folder, dimension, within) if responses is None else None

    def prepare() -> pd.DataFrame:
        # accounts matched over every spelling of the study, before any slicing: an account
        # is the same cluster in every report, whatever the slice holds of its spellings
        if responses is None:
            raw = remembered(
                ("accounts", study_key(folder)), lambda: with_account_key(load_responses(folder))
            )
        else:
            raw = with_account_key(responses)
        outer, named, _ = within.partition("=")
        for asked in (dimension, outer) if named else (dimension,):  # else within_rows says
            check_dimension(raw, asked, folder)
        raw = within_rows(raw, within, folder)
        return with_competitor(slice_responses(raw, dimension, folder))

    return remembered(("responses", key) if key else None, prepare), key


def _report_wave(
    data: pd.DataFrame,
    unit: str,
    wave: str,
    dimension: str,
    study_waves: tuple[str, ...] | None = None,
) -> tuple[str, tuple[str, ...]]:
    """The report's wave (the unit's latest when none is asked for) and every wave of the
    study (``study_waves``, else those of ``data``), oldest first; a unit or wave without
    own-brand responses is an error naming what there is."""
    own = roles.own_customers(data)
    units = sorted({str(c) for c in own["country"].dropna().unique()})
    param, name = ("country", "countries") if dimension == "country" else ("value", dimension)
    if unit not in units:
        raise DataError(
            f"parameter {param}: {unit!r} has no own-brand responses; {name} in the data: "
            f"{', '.join(units)}"
        )
    waves = study_waves or tuple(str(w) for w in roles.wave_order(data["wave"]))
    mine = own["country"].astype(str) == unit
    unit_waves = [w for w in waves if (mine & (own["wave"] == w)).any()]
    if not wave:
        return unit_waves[-1], waves
    if wave not in unit_waves:
        raise DataError(
            f"parameter wave: {wave!r} has no responses for {unit}; "
            f"waves for {unit}: {', '.join(unit_waves)}"
        )
    return wave, waves


def study_trends(
    to_wave: pd.DataFrame,
    measures: list[str],
    *,
    waves: tuple[str, ...] | list[str],
    cluster: str | None,
    min_n: int,
) -> pd.DataFrame:
    """Every measure of every country's own customers by wave, with the change since the
    study's previous wave (:func:`csatlib.stats.scores.trends` on one design: every response
    up to the report's wave, both brands, accounts as clusters). The country reports and the
    global summary call this one function, so a change has one p-value everywhere."""
    from csatlib.stats.scores import trends

    table = trends(
        to_wave,
        measures,
        by=["country", "competitor"],
        waves=list(waves),
        cluster=cluster,
        min_n=min_n,
    )
    own = ~table["competitor"].astype(bool)
    return table.loc[own].drop(columns="competitor").reset_index(drop=True)


def shared_trends(ctx: Any) -> pd.DataFrame:
    """:func:`study_trends` of a report's context (a country's or the global summary's: its
    ``to_wave``, measures, waves, cluster and ``min_n``), computed once per study version and
    wave (:func:`remembered`)."""
    measures = [ctx.nps_column, *ctx.rated]
    return remembered(
        shared_key(
            "trends", ctx.study_key, ctx.wave, ctx.waves, tuple(measures), ctx.cluster, ctx.min_n
        ),
        lambda: study_trends(
            ctx.to_wave, measures, waves=ctx.waves, cluster=ctx.cluster, min_n=ctx.min_n
        ),
        folder=store_folder(ctx),
    )


def shared_screens(ctx: Any) -> pd.DataFrame:
    """:func:`study_screens` of a report's context, computed once per study version and wave
    (:func:`remembered`)."""
    attributes = list(ctx.attributes)
    return remembered(
        shared_key(
            "screens",
            ctx.study_key,
            ctx.wave,
            ctx.waves,
            tuple(attributes),
            ctx.cluster,
            ctx.min_n,
        ),
        lambda: study_screens(
            ctx.to_wave, attributes, wave=ctx.wave, cluster=ctx.cluster, min_n=ctx.min_n
        ),
        folder=store_folder(ctx),
    )


def store_folder(ctx: Any) -> Path | None:
    """Where a context's study-wide results are kept on disk: its processed folder when its
    responses were read from there, else nowhere (:func:`remembered`)."""
    return Path(ctx.processed_dir) if ctx.study_key is not None else None


def study_screens(
    to_wave: pd.DataFrame,
    attributes: list[str],
    *,
    wave: str,
    cluster: str | None,
    min_n: int,
) -> pd.DataFrame:
    """The four screens of every unit in ``wave`` (:func:`csatlib.stats.screens.
    screens_all_countries`, equal to :func:`~csatlib.stats.screens.four_screens` per unit), as
    a long table with ``country`` as text. The country reports and the global summary call this
    one function, so a screen has one verdict everywhere."""
    from csatlib.stats.screens import screens_all_countries

    screens = screens_all_countries(
        to_wave, attributes=attributes, wave=wave, min_n=min_n, cluster=cluster
    )
    screens["country"] = screens["country"].astype(str).to_numpy()
    return screens


def outside_unit(frame: pd.DataFrame, unit: str, ids: str | None = None) -> pd.DataFrame:
    """The rows of ``frame`` whose ``country`` (the report's unit) is not ``unit``: "the
    others" of a comparison. With ``ids`` (the respondent id, where units share respondents:
    an account in two business units), less the respondents ``unit`` holds, and each other
    respondent once, so that the others are other people."""
    outside = frame["country"].astype(str).to_numpy() != unit
    if ids is None:
        return frame.loc[outside]
    mine = frame.loc[~outside, ids]
    keep = outside & ~frame[ids].isin(mine).to_numpy(dtype=bool)
    return frame.loc[keep].drop_duplicates(subset=ids)


def countries_vs_rest(
    own_current: pd.DataFrame,
    *,
    score: str,
    cluster: str | None,
    min_n: int,
    ids: str | None = None,
) -> pd.DataFrame:
    """Each country's NPS against all other countries pooled, this wave
    (:func:`csatlib.stats.nps.nps_vs_rest`, accounts as clusters), with ``q_value``: the
    Benjamini-Hochberg adjustment over the countries compared (one family, the same in every
    country report, the global summary and the index).

    With ``ids`` (the respondent id, for units that share respondents: an account in two
    business units), each unit is compared with the respondents outside it, each once: one
    :func:`~csatlib.stats.nps.nps_vs_rest` per unit, of its rows against those."""
    from csatlib.stats.multiplicity import adjust
    from csatlib.stats.nps import nps_vs_rest

    if ids is None or not bool(own_current[ids].duplicated().any()):
        table = nps_vs_rest(own_current, score=score, cluster=cluster, min_n=min_n)
    else:
        parts = []
        unit = own_current["country"].astype(str).to_numpy()
        for name in sorted(own_current["country"].dropna().astype(str).unique()):
            mine = own_current.loc[unit == name]
            pair = pd.concat([mine, outside_unit(own_current, name, ids)])
            pair = pair.assign(country=np.where(np.arange(len(pair)) < len(mine), name, "\x00"))
            table = nps_vs_rest(pair, score=score, cluster=cluster, min_n=min_n)
            parts.append(table.loc[table["country"].astype(str) == name])
        table = pd.concat(parts, ignore_index=True)
    table["country"] = table["country"].astype(str).to_numpy()
    table["q_value"] = adjust(table["p_value"].to_numpy(dtype=float, na_value=np.nan))
    return table


def driver_sample(own: pd.DataFrame, waves: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """The rows key drivers are estimated on: own-brand respondents of ``waves`` (every wave up
    to the report's), speeders and straight-liners left out.

    Waves are pooled because one wave's few hundred answers rank correlated drivers unreliably;
    flagged respondents' ratings carry no information about what drives their loyalty. The
    country report and the global summary both use this one rule.
    """
    keep = own["wave"].astype(str).isin(set(waves))
    for flag in ("flag_speeder", "flag_straightliner"):
        if flag in own:
            keep &= ~own[flag].fillna(False).astype(bool)
    return own.loc[keep]


def with_account_key(responses: pd.DataFrame, matches: AccountMatch | None = None) -> pd.DataFrame:
    """The responses with ``account_key``, each respondent's matched customer account
    (:func:`csatlib.loop.accounts.match_accounts` over every spelling in the study: of
    ``responses``, or ``matches`` made over the whole study when ``responses`` are some of its
    rows), the unit of inference; unchanged when the study has no account column or already has
    the key.
    """
    names = roles.names(responses, "account")
    if not names or ACCOUNT_KEY in responses.columns:
        return responses
    from csatlib.loop.accounts import assign_accounts

    if matches is None:
        matches = _match_study_accounts(responses)
    keys = assign_accounts(responses[[names[0]]], matches, column=names[0])
    out = responses.assign(**{ACCOUNT_KEY: keys["account_key"].to_numpy()})
    out.attrs = dict(responses.attrs)
    return out


def tickets_up_to(tx: pd.DataFrame, wave: str) -> pd.DataFrame:
    """The tickets of ``wave`` and earlier waves (in :func:`csatlib.roles.wave_order`); all of
    them when the tickets have no ``wave`` column or do not know ``wave`` (fiscal quarters
    there, calendar quarters here). What the global summary's ticket tables count."""
    if "wave" not in tx.columns or wave not in set(tx["wave"].dropna().astype(str)):
        return tx
    return tx.loc[up_to_wave(tx["wave"], wave)]


def up_to_wave(waves: pd.Series, wave: str) -> np.ndarray:
    """Rows whose wave is ``wave`` or earlier (in :func:`csatlib.roles.wave_order`)."""
    order = roles.wave_order(waves)
    keep = order[: order.index(wave) + 1]
    return waves.astype(str).isin(keep).to_numpy(dtype=bool) & waves.notna().to_numpy()


def ticket_groups(tx: pd.DataFrame) -> list[str]:
    """The rows of the global summary's ticket table: region (where the tickets have one) and
    month."""
    return [c for c in ("region", "month") if c in tx.columns]


#: A ticket-table cell of :func:`ticket_protection`: (table, unit, row) with table one of
#: ``"product"`` and ``"month"`` (a unit's report), ``"study_product"`` and ``"study_group"``
#: (the global summary's tables; unit ``""``, a group's row its values joined by ``" | "``).
TicketCell = tuple[str, str, str]


def ticket_protection(
    units: pd.DataFrame | None,
    overall: pd.DataFrame | None,
    *,
    product: str | None,
    score: str,
    min_n: int,
    groups: Sequence[str] = (),
    scale: tuple[int, int] | None = None,
) -> dict[TicketCell, str]:
    """Why each cell of the ticket tables a build publishes is hidden (``"small"``,
    ``"complementary"``; shown cells are left out), so that no small cell can be worked out
    from the shown ones, in one report or across reports (:func:`csatlib.stats.disclosure.
    linked_suppression`).

    ``units`` are the tickets of every unit of the reports' dimension (the unit in
    ``country``, as :meth:`CountryContext.study_transactions` keys them); each unit's report
    shows them by ``month`` and, with ``product``, by product. ``overall`` are the tickets the
    study-wide tables count (the global summary's, up to the wave; a cross-cut's outer unit's),
    by ``product`` and, with ``groups`` (the country reports': the global table's region and
    month), by those. The sums of ratings of these tables are linked: a unit's products and
    its months add up alike; every unit's cell of one product adds up to the study-wide
    product's; every country's month within a region to the global table's region and month;
    and the global table's products to its regions and months. A unit's cells are hidden
    before a study-wide one. Counts (``n``) stay shown: what is protected is each hidden cell's
    mean and shares, which the shown cells leave pooled with another's. With the rating's
    ``scale``, the hidden cells are also audited: the shown cells must leave each one's mean
    and top-2-box share free over a fifth of their range at least (a pool of hidden cells all
    top-box, for one, would tell each member's share).
    """
    from csatlib.stats.disclosure import linked_suppression

    cells: dict[TicketCell, tuple[int, float, float]] = {}  # n, sum of ratings, top-2-box

    def count(frame: pd.DataFrame | None, keys: list[str], table: str, unit: bool) -> None:
        if frame is None or not all(k in frame.columns for k in keys) or score not in frame:
            return
        x = pd.to_numeric(frame[score], errors="coerce")
        rated = frame.loc[x.notna(), keys].astype(str)
        x = x[x.notna()].to_numpy(dtype=np.float64)
        top = x >= (scale[1] - 1) if scale is not None else np.zeros(len(x), dtype=bool)
        totals = (
            rated.assign(_n=1, _sum=x, _top=top.astype(np.float64))
            .groupby(keys, sort=False, observed=True)[["_n", "_sum", "_top"]]
            .sum()
        )
        for key, row in zip(totals.index, totals.itertuples(index=False), strict=True):
            key = key if isinstance(key, tuple) else (key,)
            name = (table, key[0] if unit else "", " | ".join(key[1:] if unit else key))
            cells[name] = (int(row[0]), float(row[1]), float(row[2]))

    count(units, ["country", "month"], "month", True)
    if product is not None:
        count(units, ["country", product], "product", True)
        count(overall, [product], "study_product", False)
    if groups:
        count(overall, list(groups), "study_group", False)
    names = list(cells)
    where = {cell: k for k, cell in enumerate(names)}
    lines: list[list[int]] = []
    prefer: list[list[int]] = []
    signs: list[list[int]] = []

    def line(members: list[TicketCell], first: list[TicketCell]) -> None:
        """A relation: the ``first`` terms (a unit's own cells) add up to the others."""
        if len(members) > 1:
            lines.append([where[c] for c in members])
            prefer.append([where[c] for c in first])
            signs.append([1 if c in first else -1 for c in members])

    by_table: dict[str, list[TicketCell]] = {}
    for cell in names:
        by_table.setdefault(cell[0], []).append(cell)
    products, months = by_table.get("product", []), by_table.get("month", [])
    for unit in dict.fromkeys(c[1] for c in products):  # a unit's products and its months
        own = [c for c in products if c[1] == unit]
        line(own + [c for c in months if c[1] == unit], own)
    for row in dict.fromkeys(c[2] for c in products):  # a product across units
        own = [c for c in products if c[2] == row]
        line(own + [c for c in by_table.get("study_product", []) if c[2] == row], own)
    if groups and "month" in groups and units is not None:
        _group_lines(units, groups, score, by_table, line)
    study = by_table.get("study_product", [])
    line(study + by_table.get("study_group", []), study)
    totals = np.array([cells[c] for c in names], dtype=np.float64).reshape(-1, 3)
    audit: dict[str, np.ndarray] = {}
    if scale is not None and len(names):
        n = totals[:, 0]
        audit["values"] = totals[:, 1:]
        audit["ranges"] = np.stack(
            [np.stack([scale[0] * n, scale[1] * n], axis=1), np.stack([0 * n, n], axis=1)],
            axis=1,
        )
    why = linked_suppression(
        totals[:, 0].astype(np.int64), lines, min_n=min_n, prefer=prefer, signs=signs, **audit
    )
    return {cell: str(w) for cell, w in zip(names, why, strict=True) if w}


def _group_lines(
    units: pd.DataFrame,
    groups: Sequence[str],
    score: str,
    by_table: dict[str, list[TicketCell]],
    line: Callable[[list[TicketCell], list[TicketCell]], None],
) -> None:
    """Each global region-and-month cell with the units' month cells that add up to it."""
    if not all(g in units.columns for g in groups):
        return
    rated = units.loc[units[score].notna(), ["country", *groups]].astype(str).drop_duplicates()
    members: dict[str, list[TicketCell]] = {}
    for row in rated.itertuples(index=False):
        values = dict(zip(["country", *groups], row, strict=True))
        group = " | ".join(values[g] for g in groups)
        members.setdefault(group, []).append(("month", values["country"], values["month"]))
    for cell in by_table.get("study_group", []):
        own = list(dict.fromkeys(members.get(cell[2], [])))
        line(own + [cell], own)


def protect_cells(
    table: pd.DataFrame,
    protection: Mapping[TicketCell, str],
    *,
    kind: str,
    unit: str,
    by: str | list[str],
) -> pd.DataFrame:
    """``table`` (a :func:`csatlib.stats.scores.transaction_summary` by ``by``, or several
    columns joined) with a ``suppression`` column from :func:`ticket_protection` (``""`` shown,
    ``"small"``, ``"complementary"``), the estimates of every hidden cell blanked (its count
    stays) and ``suppressed`` set."""
    out = table.copy()
    keys = out[by].astype(str).agg(" | ".join, axis=1) if isinstance(by, list) else out[by]
    rows = [str(k) for k in keys]
    why = np.array([protection.get((kind, unit, r), "") for r in rows], dtype=object)
    primary = out["suppressed"].fillna(True).astype(bool).to_numpy()
    why = np.where(primary & (why == ""), "small", why)
    hide = (why == "complementary") & ~primary
    estimates = [c for c in out.columns if pd.api.types.is_float_dtype(out[c])]
    out.loc[hide, estimates] = np.nan
    out.loc[hide, "suppressed"] = True
    out["suppression"] = why
    return out


def ticket_product(tickets: pd.DataFrame | None) -> str | None:
    """The tickets' column of role ``product`` (the product line a ticket was raised for), or
    None without tickets or such a column."""
    if tickets is None:
        return None
    found = [c for c in roles.names(tickets, "product") if c in tickets.columns]
    return found[0] if found else None


def ticket_cluster(tickets: pd.DataFrame | None) -> str | None:
    """The tickets' column of role ``account``, the cluster of the transaction survey's
    intervals (:func:`csatlib.stats.scores.transaction_summary`): an account that raises many
    tickets rates its support alike. The account as the ticketing system records it, one
    spelling per account, without the fuzzy matching of the relationship survey's names. None
    without tickets or an account column: each ticket is then its own unit."""
    if tickets is None:
        return None
    names = [n for n in roles.names(tickets, "account") if n in tickets.columns]
    return names[0] if names else None


def with_competitor(responses: pd.DataFrame) -> pd.DataFrame:
    """The responses with a ``competitor`` column: all False when the study has no brand column.

    The screens and comparisons then treat every respondent as an own-brand customer, and the
    competitor screen finds nobody to compare with (and says so).
    """
    if "competitor" in responses.columns:
        return responses
    out = responses.assign(competitor=False)
    out.attrs = dict(responses.attrs)
    return out


def _country_name(code: str) -> str:
    from csatlib.ingest.countries import country_name

    return country_name(code)
