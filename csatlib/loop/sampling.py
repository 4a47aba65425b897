"""Deployment lists: who is invited to the next relationship-survey wave, and who is not and why.

:func:`draw_sample` turns the contact master into a stratified random sample (region x segment,
a sampling rate per region, a census of named accounts), after removing contacts who opted out,
were surveyed recently (fatigue), have no usable e-mail or are duplicates of another contact.
Every contact ends in exactly one of: the sample, ``excluded`` (with a reason) or ``not_selected``.
:func:`response_rates` compares the sample with the responses that came back;
:func:`run_sampling` is what ``csat sample`` calls.  See docs/closing_the_loop.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from csatlib import roles
from csatlib.config import DEFAULT_CONF, DEFAULT_MIN_N
from csatlib.errors import DataError, ExportError
from csatlib.ingest.handwritten import read_sheet
from csatlib.safety import write_csv_safely
from csatlib.validation import check_conf, check_min_n, require_columns

__all__ = [
    "CONTACT_COLUMNS",
    "EXCLUSION_REASONS",
    "DEPLOYMENT_COLUMNS",
    "SampleResult",
    "SamplingRun",
    "normalize_email",
    "draw_sample",
    "match_invitations",
    "response_rates",
    "read_contact_master",
    "run_sampling",
]

#: Columns of data/raw/contact_master.csv.
CONTACT_COLUMNS: tuple[str, ...] = (
    "contact_id",
    "account",
    "country",
    "region",
    "segment",
    "contact_name",
    "email",
    "last_surveyed",
    "do_not_survey",
    "named_account",
)
#: Reasons a contact is excluded, in order of precedence (a contact gets the first that applies).
EXCLUSION_REASONS: tuple[str, ...] = ("do_not_survey", "no_valid_email", "fatigue", "duplicate")
#: Columns of deployment_list.csv.
DEPLOYMENT_COLUMNS: tuple[str, ...] = (
    "contact_id",
    "account",
    "country",
    "region",
    "segment",
    "contact_name",
    "email",
    "named_account",
    "selection",
    "inclusion_probability",
    "design_weight",
)
_MISSING_STRATUM = "(missing)"
# no space and none of RFC 5322's specials unquoted ("mailto:a@b.com" is a link, not an address)
_EMAIL = r'^[^@\s()<>\[\]:;\\,"]+@[^@\s()<>\[\]:;\\,"]+\.[^@\s.()<>\[\]:;\\,"]+$'
_YES = {"y", "yes", "true", "1", "j", "ja", "oui", "si"}
_NO = {"n", "no", "false", "0", "nein", "non", ""}


@dataclass(frozen=True)
class SampleResult:
    """Result of :func:`draw_sample`.

    Attributes
    ----------
    sample : pandas.DataFrame
        Selected contacts: the master's columns plus ``email_normalized``, ``selection``
        (``"census_named"`` or ``"random"``), ``inclusion_probability`` and ``design_weight``
        (its inverse, for weighting the responses back to the eligible population).
    excluded : pandas.DataFrame
        Contacts not eligible: the master's columns plus ``email_normalized`` and ``reason``
        (one of :data:`EXCLUSION_REASONS`).
    not_selected : pandas.DataFrame
        Eligible contacts the random draw did not pick, with their ``inclusion_probability``.
    coverage : pandas.DataFrame
        Per region x segment plus a total row (``"All"``): ``population``, one
        ``excluded_<reason>`` column per reason, ``eligible``, ``census_named``,
        ``sampled_random``, ``sampled``, ``not_selected``, ``target_rate``,
        ``sampled_share_of_eligible``, ``population_share``, ``sample_share``.
    seed, as_of, rates, default_rate, fatigue_days, census_named
        The settings used (``rates`` read-only).
    """

    sample: pd.DataFrame
    excluded: pd.DataFrame
    not_selected: pd.DataFrame
    coverage: pd.DataFrame
    seed: int
    as_of: date
    rates: Mapping[str, float]
    default_rate: float
    fatigue_days: int
    census_named: bool

    def status(self) -> pd.DataFrame:
        """One row per contact of the master: ``contact_id``, ``status`` and ``reason``."""
        parts = [
            self.sample[["contact_id"]].assign(status="sampled", reason=self.sample["selection"]),
            self.excluded[["contact_id"]].assign(status="excluded", reason=self.excluded["reason"]),
            self.not_selected[["contact_id"]].assign(status="not_selected", reason=pd.NA),
        ]
        return pd.concat(parts, ignore_index=True).astype(
            {"contact_id": "string", "status": "string", "reason": "string"}
        )

    def describe(self) -> list[str]:
        """A few lines for the command line (counts only)."""
        total = self.coverage.iloc[-1]
        reasons = ", ".join(f"{r} {int(total[f'excluded_{r}'])}" for r in EXCLUSION_REASONS)
        return [
            f"Contacts in master: {int(total['population'])}",
            f"Excluded: {len(self.excluded)} ({reasons})",
            f"Eligible: {int(total['eligible'])}",
            f"Sampled: {int(total['sampled'])} (census of named accounts "
            f"{int(total['census_named'])}, random {int(total['sampled_random'])}); "
            f"not selected {int(total['not_selected'])}",
            f"Seed {self.seed}, as of {self.as_of.isoformat()}, fatigue {self.fatigue_days} days",
        ]


def normalize_email(s: pd.Series) -> pd.Series:
    """E-mail addresses for de-duplication: stripped and casefolded; <NA> when not an address.

    Parameters
    ----------
    s : pandas.Series
        Raw addresses.

    Returns
    -------
    pandas.Series
        ``string`` dtype; <NA> where the value is empty or does not look like ``local@domain.tld``.

    Notes
    -----
    The local part is casefolded too: RFC 5321 lets it be case-sensitive, but no mail provider
    in practice treats ``Anna@x.com`` and ``anna@x.com`` as two people.  Plus-addressing and dots
    are kept (``a.b+cs@x.com`` stays distinct from ``ab@x.com``).
    """
    if not isinstance(s, pd.Series):
        raise DataError(f"normalize_email: expected a Series, found {type(s).__name__}")
    e = s.astype("string").str.strip().str.casefold()
    return e.where(e.str.match(_EMAIL).fillna(False).astype(bool), pd.NA)


def _one_spelling(values: pd.Series) -> pd.Series:
    """Each value as the commonest spelling of the values equal to it ignoring case ("Amer" and
    "amer" as "AMER"): one stratum, one rate, not one stratum per way of typing a region."""
    counts = values.dropna().value_counts()
    if counts.empty:
        return values
    frame = pd.DataFrame({"text": counts.index.astype(str), "n": counts.to_numpy()})
    frame["key"] = frame["text"].str.casefold()
    best = frame.sort_values(["key", "n", "text"], ascending=[True, False, True]).drop_duplicates(
        "key"
    )
    spelling = dict(zip(best["key"], best["text"], strict=True))
    return values.str.casefold().map(spelling).astype("string").where(values.notna())


def _row_label(index: pd.Index, pos: int) -> str:
    label = index[pos]
    return f"row {label.item() if isinstance(label, np.generic) else label!r}"


def _yes_no(s: pd.Series, column: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean").fillna(False).to_numpy(dtype=bool)
    text = s.astype("string").fillna("").str.strip().str.casefold()
    yes, no = text.isin(_YES), text.isin(_NO)
    bad = ~(yes | no)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"contacts column {column!r}, {_row_label(s.index, pos)}: expected Y or N, "
            f"found {s.iloc[pos]!r} ({int(bad.sum())} such value(s))"
        )
    return yes.to_numpy(dtype=bool)


def _dates(s: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    text = s.astype("string").str.strip()
    # ISO dates only: "02/08/2026" read as 8 February would invite again a contact surveyed
    # on 2 August, against the fatigue rule
    parsed = pd.to_datetime(text.where(text.ne("")), errors="coerce", format="ISO8601")
    bad = text.fillna("").ne("") & parsed.isna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"contacts column {column!r}, {_row_label(s.index, pos)}: expected a date "
            f"(YYYY-MM-DD) or nothing, found {s.iloc[pos]!r}"
        )
    return parsed


def _check_rates(rates: Mapping[str, float], default_rate: float, regions: set[str]) -> None:
    if not isinstance(rates, Mapping):
        raise DataError(f"rates: expected a mapping region -> share, found {type(rates).__name__}")
    for region, rate in {**rates, "default_rate": default_rate}.items():
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise DataError(f"rates: {region!r} must be a share between 0 and 1, found {rate!r}")
    unknown = sorted(set(rates) - regions)
    if unknown:
        raise DataError(
            f"rates: region(s) {unknown} not in the contact master (its regions: "
            f"{sorted(regions)}); check the spelling"
        )


def _permanent_random_numbers(ids: pd.Series, seed: int) -> np.ndarray:
    """Uniform(0, 1) number per contact id, fixed by (seed, id): order- and addition-proof."""
    key = hashlib.sha256(f"csatlib-sampling-{seed}".encode()).hexdigest()[:16]
    h = pd.util.hash_pandas_object(ids.astype(str), index=False, hash_key=key)
    return (h.to_numpy(dtype=np.uint64) >> np.uint64(11)).astype(float) / float(1 << 53)


def draw_sample(
    contacts: pd.DataFrame,
    *,
    rates: Mapping[str, float],
    default_rate: float = 1.0,
    census_named: bool = True,
    fatigue_days: int = 90,
    as_of: date,
    seed: int,
    dedupe: bool = True,
) -> SampleResult:
    """Stratified random sample of the contact master for the next survey wave.

    Parameters
    ----------
    contacts : pandas.DataFrame
        The contact master (:data:`CONTACT_COLUMNS`); ``do_not_survey`` and ``named_account``
        as Y/N (also yes/no, true/false, 1/0, booleans; empty counts as N), ``last_surveyed`` a
        date or empty.  Error messages name the row by the frame's index (:func:`run_sampling`
        sets it to the spreadsheet row).
    rates : mapping region -> share
        Sampling rate of each region, e.g. ``{"AMER": 0.3, "APJ": 1.0}``; regions not listed get
        ``default_rate``.  A region that is not in the master is an error (likely a typo).
    default_rate : float
        Rate of the regions not in ``rates`` (default 1.0: census unless told otherwise).
    census_named : bool
        Take every eligible contact of a named account (default), whatever the rate.
    fatigue_days : int
        A person surveyed less than this many days before ``as_of`` is excluded.
    as_of : datetime.date
        Reference date of the wave (required: the sample must not depend on the day it is run).
    seed : int
        Seed of the draw: the same seed and master give the same sample.
    dedupe : bool
        Keep one contact per normalized e-mail (default).

    Returns
    -------
    SampleResult

    Notes
    -----
    Exclusions are per person (normalized e-mail), in this order: ``do_not_survey`` (any record
    of the person opted out), ``no_valid_email``, ``fatigue`` (any record of the person has
    ``as_of - last_surveyed < fatigue_days``), ``duplicate`` (the person's other records; the
    one kept is a named-account record if there is one, then the smallest ``contact_id``).

    The remaining contacts of named accounts are a census (inclusion probability 1).  The others
    are stratified by region x segment; stratum :math:`h` with :math:`N_h` eligible contacts and
    region rate :math:`r` gets :math:`n_h = \\lfloor r N_h + 1/2 \\rfloor` contacts, drawn by
    sequential simple random sampling with permanent random numbers: each contact gets
    :math:`u = \\mathrm{hash}(seed, contact\\_id) \\in [0, 1)` and the :math:`n_h` smallest are
    taken, which is simple random sampling without replacement within the stratum and does not
    depend on the order of the master.  Inclusion probability :math:`n_h / N_h`, design weight
    its inverse.  Tested for reproducibility, rates, exclusions and accounting of every contact.

    References
    ----------
    Ohlsson, E. (1995). Coordination of samples using permanent random numbers. In Cox, B. G. et
    al. (eds.), Business Survey Methods, Wiley, ch. 9.  Lohr, S. L. (2022). Sampling: Design and
    Analysis, 3rd ed., CRC Press, ch. 3 (stratified sampling).
    """
    require_columns(contacts, CONTACT_COLUMNS, "draw_sample: contacts")
    if not isinstance(as_of, date):
        raise DataError(f"as_of: expected a datetime.date, found {as_of!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise DataError(f"seed: expected an integer, found {seed!r}")
    if isinstance(fatigue_days, bool) or not isinstance(fatigue_days, int) or fatigue_days < 0:
        raise DataError(f"fatigue_days: expected an integer >= 0, found {fatigue_days!r}")

    c, last = _prepared_contacts(contacts)
    _check_rates(rates, default_rate, set(c["region"].unique()))
    c["reason"] = _exclusion_reasons(c, last, as_of=as_of, fatigue_days=fatigue_days, dedupe=dedupe)
    eligible = c["reason"].to_numpy() == ""
    selected = _select(c, eligible, rates, default_rate, census_named, int(seed))

    base = [*CONTACT_COLUMNS, "email_normalized"]
    for col in ("do_not_survey", "named_account"):
        c[col] = np.where(c[col], "Y", "N")
    sample = c.loc[selected, [*base, "selection", "inclusion_probability", "design_weight"]]
    excluded = c.loc[~eligible, [*base, "reason"]]
    not_selected = c.loc[eligible & ~selected, [*base, "inclusion_probability"]]
    coverage = _coverage(c, eligible, selected, rates, default_rate)
    return SampleResult(
        sample=sample.sort_values(["region", "segment", "contact_id"]).reset_index(drop=True),
        excluded=excluded.sort_values(["reason", "contact_id"]).reset_index(drop=True),
        not_selected=not_selected.sort_values("contact_id").reset_index(drop=True),
        coverage=coverage,
        seed=int(seed),
        as_of=as_of,
        rates=MappingProxyType({str(k): float(v) for k, v in rates.items()}),
        default_rate=float(default_rate),
        fatigue_days=int(fatigue_days),
        census_named=bool(census_named),
    )


def _prepared_contacts(contacts: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The master with checked ids, strata, Y/N as booleans, normalized e-mail; last surveyed."""
    c = contacts.copy()
    ids = c["contact_id"].astype("string").str.strip()
    blank_id = ids.fillna("").eq("")
    if blank_id.any():
        pos = int(np.flatnonzero(blank_id.to_numpy())[0])
        raise DataError(f"contacts column 'contact_id', {_row_label(c.index, pos)}: empty id")
    dup_id = ids.duplicated(keep=False)
    if dup_id.any():
        pos = int(np.flatnonzero(dup_id.to_numpy())[0])
        raise DataError(
            f"contacts column 'contact_id', {_row_label(c.index, pos)}: id {ids.iloc[pos]!r} "
            f"appears {int(ids.eq(ids.iloc[pos]).sum())} times; ids must be unique"
        )
    c["contact_id"] = ids
    for col in ("region", "segment"):
        v = _one_spelling(c[col].astype("string").str.strip())
        c[col] = v.mask(v.fillna("").eq(""), _MISSING_STRATUM)
    c["do_not_survey"] = _yes_no(contacts["do_not_survey"], "do_not_survey")
    c["named_account"] = _yes_no(contacts["named_account"], "named_account")
    last = _dates(contacts["last_surveyed"], "last_surveyed")
    c["email_normalized"] = normalize_email(c["email"])
    return c, last


def _exclusion_reasons(
    c: pd.DataFrame, last: pd.Series, *, as_of: date, fatigue_days: int, dedupe: bool
) -> np.ndarray:
    """Each contact's first reason of :data:`EXCLUSION_REASONS` ("" if eligible), per person."""
    days = (pd.Timestamp(as_of) - last).dt.days
    recent = (days < fatigue_days).fillna(False).to_numpy(dtype=bool)
    person = c["email_normalized"]
    has_email = person.notna().to_numpy()
    by_person = pd.DataFrame({"p": person, "dns": c["do_not_survey"], "recent": recent})
    person_dns = by_person.groupby("p")["dns"].transform("any").fillna(False).to_numpy(bool)
    person_recent = by_person.groupby("p")["recent"].transform("any").fillna(False).to_numpy(bool)
    dns = c["do_not_survey"].to_numpy(bool) | person_dns
    fatigue = recent | person_recent
    reason = np.select(
        [dns, ~has_email, fatigue], ["do_not_survey", "no_valid_email", "fatigue"], default=""
    )
    if dedupe:
        # the record kept: still eligible, then a named account's, then the smallest id
        order = c.assign(_pending=reason == "", _named=c["named_account"]).sort_values(
            ["_pending", "_named", "contact_id"], ascending=[False, False, True], kind="stable"
        )
        pending = order["_pending"].to_numpy()
        dup_sorted = order["email_normalized"].duplicated(keep="first").to_numpy() & pending
        duplicate = pd.Series(dup_sorted, index=order.index).reindex(c.index).to_numpy(bool)
        reason = np.where((reason == "") & duplicate, "duplicate", reason)
    return reason


def _select(
    c: pd.DataFrame,
    eligible: np.ndarray,
    rates: Mapping[str, float],
    default_rate: float,
    census_named: bool,
    seed: int,
) -> np.ndarray:
    """Census of named accounts, permanent-random-number draw per stratum; the selected mask.

    Adds ``_census``, ``inclusion_probability``, ``design_weight`` and ``selection`` to ``c``
    (in place), with the helper columns of the draw.
    """
    c["_rate"] = c["region"].map(dict(rates)).astype(float).fillna(float(default_rate))
    c["_census"] = eligible & c["named_account"].to_numpy(bool) & bool(census_named)
    c["_random_pool"] = eligible & ~c["_census"].to_numpy(bool)
    c["_u"] = _permanent_random_numbers(c["contact_id"], seed)
    pool = c[c["_random_pool"]]
    n_pool = pool.groupby(["region", "segment"])["contact_id"].transform("size")
    n_take = np.floor(pool["_rate"] * n_pool + 0.5)
    rank = pool.groupby(["region", "segment"])["_u"].rank(method="first")
    picked = pd.Series(False, index=c.index)
    picked[pool.index] = (rank <= n_take).to_numpy()
    prob = pd.Series(np.nan, index=c.index)
    prob[pool.index] = (n_take / n_pool).to_numpy()
    prob[c["_census"].to_numpy(bool)] = 1.0
    c["inclusion_probability"] = prob
    with np.errstate(divide="ignore"):
        c["design_weight"] = np.where(prob > 0, 1.0 / prob, np.nan)
    c["selection"] = pd.Series(
        np.where(c["_census"], "census_named", np.where(picked, "random", "")), index=c.index
    ).astype("string")
    return c["_census"].to_numpy(bool) | picked.to_numpy(bool)


def _coverage(
    c: pd.DataFrame,
    eligible: np.ndarray,
    selected: np.ndarray,
    rates: Mapping[str, float],
    default_rate: float,
) -> pd.DataFrame:
    flags = pd.DataFrame(
        {
            "region": c["region"].to_numpy(),
            "segment": c["segment"].to_numpy(),
            "population": 1,
            **{f"excluded_{r}": (c["reason"] == r).to_numpy(int) for r in EXCLUSION_REASONS},
            "eligible": eligible.astype(int),
            "census_named": (selected & c["_census"].to_numpy(bool)).astype(int),
            "sampled_random": (selected & ~c["_census"].to_numpy(bool)).astype(int),
            "sampled": selected.astype(int),
            "not_selected": (eligible & ~selected).astype(int),
        }
    )
    cov = flags.groupby(["region", "segment"], sort=True).sum().reset_index()
    total = flags.drop(columns=["region", "segment"]).sum().to_frame().T
    total.insert(0, "segment", "All")
    total.insert(0, "region", "All")
    cov["target_rate"] = cov["region"].map(dict(rates)).astype(float).fillna(float(default_rate))
    cov = pd.concat([cov, total], ignore_index=True)
    counts = [c for c in cov.columns if c not in ("region", "segment", "target_rate")]
    cov[counts] = cov[counts].astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov["sampled_share_of_eligible"] = cov["sampled"] / cov["eligible"].replace(0, np.nan)
        cov["population_share"] = cov["population"] / int(total["population"].iloc[0])
        n_sampled = int(total["sampled"].iloc[0])
        cov["sample_share"] = cov["sampled"] / n_sampled if n_sampled else np.nan
    return cov


def _response_email(responses: pd.DataFrame) -> str:
    """The responses' e-mail column (:func:`csatlib.roles.email_column`); ``contact_email``,
    which ``require_columns`` then reports missing, when the survey has none."""
    return roles.email_column(responses) or "contact_email"


def match_invitations(
    invited: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    match_on: Literal["email", "contact_id", "either"] = "email",
) -> np.ndarray:
    """Which invited contacts answered: one boolean per row of ``invited``.

    Parameters
    ----------
    invited : pandas.DataFrame
        Invitations with ``email`` and/or ``contact_id`` (as ``match_on`` needs).
    responses : pandas.DataFrame
        Responses with an e-mail column (role ``contact``, :func:`csatlib.roles.email_column`)
        and/or ``contact_id``.
    match_on : {"email", "contact_id", "either"}
        Normalized e-mail (:func:`normalize_email`), contact id, or either.

    Returns
    -------
    numpy.ndarray
        True where at least one response matches the invitation.
    """
    if match_on not in ("email", "contact_id", "either"):
        raise DataError(f"match_on: expected 'email', 'contact_id' or 'either', found {match_on!r}")
    need_i = {"email": ["email"], "contact_id": ["contact_id"], "either": ["email", "contact_id"]}
    email = _response_email(responses)
    need_r = {"email": [email], "contact_id": ["contact_id"]}
    need_r["either"] = need_r["email"] + need_r["contact_id"]
    require_columns(invited, need_i[match_on], "match_invitations: invited")
    require_columns(responses, need_r[match_on], "match_invitations: responses")
    responded = np.zeros(len(invited), dtype=bool)
    if match_on in ("email", "either"):
        got = set(normalize_email(responses[email]).dropna())
        responded |= normalize_email(invited["email"]).isin(got).fillna(False).to_numpy(bool)
    if match_on in ("contact_id", "either"):
        got_ids = set(responses["contact_id"].dropna().astype(str).str.strip())
        responded |= invited["contact_id"].astype(str).str.strip().isin(got_ids).to_numpy(bool)
    return responded


def response_rates(
    sample: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    by: Sequence[str] = ("region", "segment"),
    match_on: Literal["email", "contact_id", "either"] = "email",
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
) -> pd.DataFrame:
    """Response rate of the invited contacts, by group, with a Wilson interval.

    Parameters
    ----------
    sample : pandas.DataFrame
        ``SampleResult.sample`` (or deployment_list.csv read back): ``contact_id``, ``email``
        and the ``by`` columns.
    responses : pandas.DataFrame
        Processed relationship survey with an e-mail column (role ``contact``; and
        ``contact_id`` if the survey
        platform carried it through).
    by : sequence of str
        Grouping columns of ``sample``; a total row (``"All"`` in each) is appended.
    match_on : {"email", "contact_id", "either"}
        How a response is linked to an invitation: normalized e-mail (default; the processed
        survey has no contact id unless the invitation embedded it), contact id, or either.
    min_n : int
        Groups with fewer invited contacts get ``suppressed=True`` and NaN estimates.
    conf : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``invited``, ``responded``, ``suppressed``, ``response_rate``,
        ``ci_low``, ``ci_high``.

    Notes
    -----
    A contact counts as responded if at least one response matches it.  Responses that match no
    invitation (forwarded links, addresses typed differently, respondents who left the e-mail
    empty because they refused contact) are not counted, so the rate is a lower bound when
    matching by e-mail.  Wilson score interval
    :math:`\\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}`,
    computed by ``statsmodels.stats.proportion.proportion_confint(method="wilson")`` (clipped
    to [0, 1]); tested against it.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. JASA 22, 209-212.  AAPOR (2023). Standard Definitions, 10th ed. (response rates).
    """
    if match_on not in ("email", "contact_id", "either"):
        raise DataError(f"match_on: expected 'email', 'contact_id' or 'either', found {match_on!r}")
    by = [by] if isinstance(by, str) else list(by)
    need_s = ["contact_id", "email", *by]
    need_r = {"email": [_response_email(responses)], "contact_id": ["contact_id"]}
    need_r["either"] = need_r["email"] + need_r["contact_id"]
    require_columns(sample, need_s, "response_rates: sample")
    require_columns(responses, need_r[match_on], "response_rates: responses")
    min_n = check_min_n(min_n, func="response_rates")
    conf = check_conf(conf, func="response_rates")
    responded = match_invitations(sample, responses, match_on=match_on)
    work = sample[by].astype("string").fillna(_MISSING_STRATUM).assign(responded=responded)
    g = work.groupby(by, sort=True)["responded"]
    out = pd.DataFrame({"invited": g.size(), "responded": g.sum().astype(int)}).reset_index()
    total = pd.DataFrame(
        {
            **{col: ["All"] for col in by},
            "invited": [len(work)],
            "responded": [int(responded.sum())],
        }
    )
    out = pd.concat([out, total], ignore_index=True)
    n = out["invited"].to_numpy(float)
    x = out["responded"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):  # no invitation (empty sample): NaN
        lo, hi = proportion_confint(x, n, alpha=1.0 - conf, method="wilson")
    out["suppressed"] = out["invited"] < min_n
    with np.errstate(divide="ignore", invalid="ignore"):
        out["response_rate"] = np.where(out["suppressed"], np.nan, x / n)
    out["ci_low"] = np.where(out["suppressed"], np.nan, lo)
    out["ci_high"] = np.where(out["suppressed"], np.nan, hi)
    return out


def read_contact_master(path: str | Path) -> pd.DataFrame:
    """Read data/raw/contact_master.csv as text, index = spreadsheet row (header is row 1).

    Parameters
    ----------
    path : str or pathlib.Path
        The contact master CSV (UTF-8, with or without BOM).

    Returns
    -------
    pandas.DataFrame
        Every column as ``string`` with empty cells as ``""`` (so the country code ``NA``,
        Namibia, stays a code); the index is the row number a spreadsheet shows.

    Raises
    ------
    ExportError
        When the file is missing, unreadable, or lacks a column of :data:`CONTACT_COLUMNS`.
    """
    p = Path(path)
    if not p.is_file():
        raise ExportError(f"contact master {p}: file not found")
    try:
        df = read_sheet(p)  # indexed by the spreadsheet's rows, past blank lines too
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ExportError(f"contact master {p}: cannot be read as UTF-8 CSV ({exc})") from exc
    df.columns = [str(col).strip() for col in df.columns]
    missing = [col for col in CONTACT_COLUMNS if col not in df.columns]
    if missing:
        raise ExportError(
            f"contact master {p}: expected columns {list(CONTACT_COLUMNS)}; missing {missing} "
            f"(found {list(df.columns)})"
        )
    return df.astype("string")


@dataclass(frozen=True)
class SamplingRun:
    """Result of :func:`run_sampling`: the draw and the files written."""

    result: SampleResult
    contact_master: Path
    paths: tuple[Path, ...]

    def describe(self) -> list[str]:
        """Lines for ``csat sample`` to print."""
        files = ", ".join(str(p) for p in self.paths)
        return [f"Contact master: {self.contact_master}", *self.result.describe(), f"Wrote {files}"]


def run_sampling(
    contact_master_path: str | Path,
    out_dir: str | Path,
    *,
    rates: Mapping[str, float],
    default_rate: float = 1.0,
    seed: int,
    as_of: date,
    fatigue_days: int = 90,
    census_named: bool = True,
    dedupe: bool = True,
) -> SamplingRun:
    """Read the contact master, draw the sample, write deployment_list.csv and coverage.csv.

    Parameters
    ----------
    contact_master_path : str or pathlib.Path
        data/raw/contact_master.csv.
    out_dir : str or pathlib.Path
        Folder for the two files, created if missing (reports/lists/deployment).
    rates, default_rate, seed, as_of, fatigue_days, census_named, dedupe
        As in :func:`draw_sample`.

    Returns
    -------
    SamplingRun
        The :class:`SampleResult`, the master's path and the files written.

    Raises
    ------
    ExportError
        The master is missing, unreadable or lacks columns; or a value is unusable (the message
        names the file, the column and the spreadsheet row).
    """
    master = Path(contact_master_path)
    contacts = read_contact_master(master)
    try:
        result = draw_sample(
            contacts,
            rates=rates,
            default_rate=default_rate,
            census_named=census_named,
            fatigue_days=fatigue_days,
            as_of=as_of,
            seed=seed,
            dedupe=dedupe,
        )
    except DataError as exc:
        if str(exc).startswith("contacts "):
            raise ExportError(f"contact master {master}: {exc}") from exc
        raise
    out = Path(out_dir)
    paths = (
        write_csv_safely(result.sample[list(DEPLOYMENT_COLUMNS)], out / "deployment_list.csv"),
        write_csv_safely(result.coverage, out / "coverage.csv"),
    )
    return SamplingRun(result=result, contact_master=master, paths=paths)
