"""Load the processed data for one country's report and validate the notebook's parameters.

Papermill only warns about parameters it does not know and never checks their values, so the
country notebook's second cell calls :func:`load_country`, which fails with a clear message when
the country, the wave or ``min_n`` is not usable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from csatlib import config
from csatlib.errors import DataError

if TYPE_CHECKING:
    from csatlib.accounts import AccountMatch

__all__ = ["CodebookView", "CountryContext", "load_country", "load_responses", "warm_up"]

_ISO2 = re.compile(r"^[A-Z]{2}$")


class CodebookView:
    """The codebook's roles and labels of a ``responses`` table (kept in its ``attrs``)."""

    responses: pd.DataFrame

    @property
    def roles(self) -> dict[str, str]:
        """Canonical column name -> codebook role."""
        return dict(self.responses.attrs.get("roles", {}))

    @property
    def labels(self) -> dict[str, str]:
        """Canonical column name -> the codebook's label, for tables and charts."""
        return dict(self.responses.attrs.get("labels", {}))

    def names(self, role: str) -> list[str]:
        """Columns with a codebook role (``"attribute"``, ``"loyalty"``, ``"importance"`` ...)."""
        return [name for name, r in self.roles.items() if r == role]

    @property
    def attributes(self) -> list[str]:
        """The attribute ratings (role ``attribute``), in codebook order."""
        return self.names("attribute")


@dataclass(frozen=True, eq=False)
class CountryContext(CodebookView):
    """One country's report inputs.

    Attributes
    ----------
    country, country_name
        ISO 3166 alpha-2 code and English short name.
    wave, previous_wave
        The report's wave and the wave before it in the data (None for the first wave).
    waves
        Every wave in the data, oldest first.
    min_n
        Small-cell minimum: groups with fewer respondents are suppressed.
    responses
        Every cleaned response (all countries, all brands, all waves).

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

    @cached_property
    def driver_sample(self) -> pd.DataFrame:
        """Own-brand responses of this country in every wave up to the report's, for key drivers.

        Waves are pooled because one wave's few hundred answers rank eight correlated drivers
        unreliably; respondents flagged as speeders or straight-liners are left out because their
        ratings carry no information about what drives their loyalty.
        """
        own = self.country_own
        waves = set(self.waves[: self.waves.index(self.wave) + 1])
        keep = own["wave"].astype(str).isin(waves)
        for flag in ("flag_speeder", "flag_straightliner"):
            if flag in own:
                keep &= ~own[flag].fillna(False).astype(bool)
        return own.loc[keep]

    @property
    def expectation_attributes(self) -> list[str]:
        """Attributes that also have an expectation item (``expectation_<attribute>``)."""
        return [a for a in self.attributes if f"expectation_{a}" in self.responses.columns]

    def country_transactions(self) -> pd.DataFrame:
        """This country's transaction-survey tickets (all months)."""
        tx = self.table("transactions")
        return tx.loc[tx["country"] == self.country]

    def account_aliases(self) -> pd.DataFrame | None:
        """The manual account-name overrides (``alias, canonical``), if the study has them."""
        return _account_aliases()

    def account_matches(self) -> AccountMatch:
        """The survey's account names grouped into accounts (every country and wave).

        :func:`csatlib.accounts.match_accounts` on ``responses["account"]`` with the study's
        alias file (:meth:`account_aliases`) and the default threshold and review band.
        """
        return _match_study_accounts(self.responses)

    def table(self, kind: str) -> pd.DataFrame:
        """Another processed table of the study (``"transactions"``, ``"revenue"``)."""
        from csatlib.clean import load_processed

        return load_processed(kind, self.processed_dir)

    def cleaning_summary(self) -> dict:
        """The cleaning summary written by ``csat data`` (``cleaning_summary.json``)."""
        import json

        return json.loads((self.processed_dir / "cleaning_summary.json").read_text())

    @cached_property
    def own(self) -> pd.DataFrame:
        """Own-brand responses of every country and wave."""
        return self.responses.loc[~self.responses["competitor"].astype(bool)]

    @cached_property
    def country_own(self) -> pd.DataFrame:
        """Own-brand responses of this country, every wave."""
        own = self.own
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

    @cached_property
    def others_current(self) -> pd.DataFrame:
        """Own-brand responses of every other country in the report's wave."""
        own = self.own
        return own.loc[(own["country"] != self.country) & (own["wave"] == self.wave)]


def _account_aliases() -> pd.DataFrame | None:
    if not config.ACCOUNT_ALIASES.exists():
        return None
    return pd.read_csv(config.ACCOUNT_ALIASES, dtype=str, keep_default_na=False)


def _match_study_accounts(responses: pd.DataFrame) -> AccountMatch:
    from csatlib.accounts import match_accounts

    return match_accounts(responses["account"], aliases=_account_aliases())


def warm_up(processed_dir: str | Path = "") -> None:
    """Read the study's processed tables and match its account names, once, into this process.

    :func:`csatlib.clean.load_processed` and :func:`csatlib.accounts.match_accounts` keep their
    last results in memory (checked against the files and the names), so a process that calls
    this first and then forks (the report build's kernel fork server, :mod:`csatlib.kernels`)
    hands every report kernel the tables and the account matching ready-made. Each kernel still
    gets its own copies; results are the same as without the warm-up.
    """
    from csatlib.clean import load_processed

    folder = Path(processed_dir) if processed_dir else config.PROCESSED_DIR
    responses = load_responses(folder)
    for kind in ("transactions", "revenue"):
        if (folder / f"{kind}.parquet").is_file():
            load_processed(kind, folder)
    if "account" in responses.columns:
        _match_study_accounts(responses)


def load_responses(processed_dir: str | Path = "") -> pd.DataFrame:
    """Read ``responses.parquet`` (with its codebook roles in ``attrs``) from ``processed_dir``."""
    from csatlib.clean import load_processed

    folder = Path(processed_dir) if processed_dir else config.PROCESSED_DIR
    return load_processed("responses", folder)


def load_country(
    country: str,
    *,
    wave: str = "",
    processed_dir: str | Path = "",
    min_n: int = config.DEFAULT_MIN_N,
    responses: pd.DataFrame | None = None,
) -> CountryContext:
    """Validate the report parameters and return the country's :class:`CountryContext`.

    Parameters
    ----------
    country
        ISO 3166 alpha-2 code, e.g. ``"DE"`` (``"NA"`` is Namibia).
    wave
        Wave label such as ``"2026-Q3"``; empty means the country's latest wave.
    processed_dir
        Folder with ``responses.parquet``; empty means ``data/processed`` of this project.
    min_n
        Small-cell minimum (a whole number >= 1).
    responses
        Already loaded responses (skips reading the file; used by tests and the global notebook).

    Raises
    ------
    DataError
        When a parameter has the wrong form or names a country or wave absent from the data.
    """
    if not isinstance(country, str) or not _ISO2.match(country):
        raise DataError(
            f"parameter country: expected an ISO 3166 alpha-2 code such as 'DE', found {country!r}"
        )
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise DataError(f"parameter min_n: expected a whole number >= 1, found {min_n!r}")
    if not isinstance(wave, str):
        raise DataError(f"parameter wave: expected a label such as '2026-Q3' or '', found {wave!r}")
    folder = Path(processed_dir) if processed_dir else config.PROCESSED_DIR
    data = load_responses(folder) if responses is None else responses
    own = data.loc[~data["competitor"].astype(bool)]
    countries = sorted({str(c) for c in own["country"].dropna().unique()})
    if country not in countries:
        raise DataError(
            f"parameter country: {country!r} has no own-brand responses; "
            f"countries in the data: {', '.join(countries)}"
        )
    waves = tuple(str(w) for w in _ordered_waves(data["wave"]))
    country_waves = [w for w in waves if ((own["country"] == country) & (own["wave"] == w)).any()]
    if not wave:
        wave = country_waves[-1]
    elif wave not in country_waves:
        raise DataError(
            f"parameter wave: {wave!r} has no responses for {country}; "
            f"waves for {country}: {', '.join(country_waves)}"
        )
    position = waves.index(wave)
    previous = waves[position - 1] if position > 0 else None
    return CountryContext(
        country=country,
        country_name=_country_name(country),
        wave=wave,
        previous_wave=previous,
        waves=waves,
        min_n=min_n,
        responses=data,
        processed_dir=folder,
    )


def _ordered_waves(waves: pd.Series) -> list[str]:
    if isinstance(waves.dtype, pd.CategoricalDtype) and waves.cat.ordered:
        present = set(waves.dropna().astype(str))
        return [str(w) for w in waves.cat.categories if str(w) in present]
    return sorted(str(w) for w in waves.dropna().unique())


def _country_name(code: str) -> str:
    from csatlib.countries import country_name

    return country_name(code)
