"""Who answered: response rates of a wave's invitations, the non-response check, and timeliness.

:func:`response_rate_table` gives the share of invited contacts who answered, by any column of
the invitations (country, region, segment) or by the account's revenue band;
:func:`nonresponse_check` asks whether the accounts that answered differ from those that did not
(revenue, region); :func:`timeliness` measures how soon after the ticket was closed a
transaction survey was sent, where the export has both dates (codebook roles ``ticket_closed``
and ``survey_sent``).  The invitations are the past waves' deployment lists
(``csatlib.ingest.invitations.load_invitations``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from csatlib import roles
from csatlib.config import DEFAULT_CONF, DEFAULT_MIN_N
from csatlib.errors import DataError
from csatlib.loop.accounts import normalize_account_name
from csatlib.loop.sampling import match_invitations, response_rates
from csatlib.validation import check_alpha, check_conf, check_min_n, require_columns

__all__ = [
    "REVENUE_BANDS",
    "NO_REVENUE",
    "SUMMARY_COLUMNS",
    "TIMELINESS_COLUMNS",
    "NonresponseCheck",
    "Timeliness",
    "revenue_bands",
    "response_rate_table",
    "nonresponse_check",
    "mann_whitney",
    "chi_square_independence",
    "timeliness",
]

#: Labels of the revenue bands: thirds of the invited accounts ranked by revenue.
REVENUE_BANDS: tuple[str, ...] = ("low", "middle", "high")
#: Band of an account the revenue table does not know.
NO_REVENUE = "no revenue"
#: Columns of :attr:`NonresponseCheck.summary`.
SUMMARY_COLUMNS: tuple[str, ...] = ("check", "groups", "statistic", "df", "p_value", "verdict")
#: Cochran's rule: a chi-square test is unreliable when an expected count is below this.
MIN_EXPECTED: float = 5.0
#: Below this many units in a group the normal approximation of the Mann-Whitney test is rough.
MIN_GROUP: int = 10

_MatchOn = Literal["email", "contact_id", "either"]


# ------------------------------------------------------------------------------- shared pieces


def _wave_of(invitations: pd.DataFrame, wave: str | None, func: str) -> str:
    order = roles.wave_order(invitations["wave"].astype("string"))
    if not order:
        raise DataError(f"{func}: the invitations have no wave")
    if wave is None:
        return order[-1]
    if str(wave) not in order:
        raise DataError(f"{func}: wave {wave!r} has no invitations (waves: {order})")
    return str(wave)


def _wave_rows(
    invitations: pd.DataFrame, responses: pd.DataFrame, wave: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    inv = invitations.loc[invitations["wave"].astype("string").eq(wave).to_numpy()]
    resp = responses.loc[responses["wave"].astype("string").eq(wave).fillna(False).to_numpy()]
    return inv.reset_index(drop=True), resp


def _account_revenue(revenue: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """Revenue of the latest year per ``keys`` (account key, and country if asked)."""
    need = ["account", "year", "revenue_usd", *(k for k in keys if k != "account")]
    require_columns(revenue, need, "revenue")
    year = pd.to_numeric(revenue["year"], errors="coerce")
    amount = pd.to_numeric(revenue["revenue_usd"], errors="coerce")
    if year.isna().all():
        raise DataError("revenue: column 'year' has no year (expected whole years such as 2026)")
    latest = revenue.assign(
        _key=normalize_account_name(revenue["account"].astype("string")), _amount=amount
    ).loc[year.eq(year.max()).to_numpy()]
    by = ["_key", *(k for k in keys if k != "account")]
    latest = latest.astype({k: "string" for k in by if k != "_key"})
    return latest.groupby(by, observed=True)["_amount"].sum(min_count=1)


def revenue_bands(invitations: pd.DataFrame, revenue: pd.DataFrame) -> pd.Series:
    """The revenue band of each invitation's account: ``low``, ``middle``, ``high`` or
    ``no revenue``.

    Parameters
    ----------
    invitations : pandas.DataFrame
        With ``account``.
    revenue : pandas.DataFrame
        ``account, year, revenue_usd`` (as ``revenue.parquet``): the latest year is used,
        summed over the account's countries.

    Returns
    -------
    pandas.Series
        ``string``, aligned with ``invitations``.

    Notes
    -----
    The bands are thirds (tertiles) of the invited accounts with revenue, each account counted
    once: with the accounts ranked by revenue (ties in name order), rank :math:`r` of
    :math:`m` falls in band :math:`\\lceil 3r/m \\rceil`.  Relative bands keep three groups of
    about equal numbers of accounts whatever the currency or size of the business; they say
    nothing about absolute size.  Accounts are linked by
    :func:`csatlib.loop.accounts.normalize_account_name` (case, spacing, legal-form spelling).
    """
    require_columns(invitations, ["account"], "revenue_bands: invitations")
    key = normalize_account_name(invitations["account"].astype("string"))
    amount = _account_revenue(revenue, ["account"])
    accounts = pd.Series(key.dropna().unique(), dtype="string")
    value = pd.Series(accounts.map(amount).to_numpy(float), index=accounts.to_numpy())
    known = value.dropna().sort_index().sort_values(kind="stable")
    band = pd.Series(NO_REVENUE, index=value.index, dtype="string")
    if len(known):
        rank = np.arange(1, len(known) + 1)
        third = np.ceil(3 * rank / len(known)).astype(int) - 1
        band[known.index] = np.asarray(REVENUE_BANDS, dtype=object)[third]
    return pd.Series(key.map(band).fillna(NO_REVENUE).to_numpy(), index=invitations.index,
                     dtype="string")  # fmt: skip


# ------------------------------------------------------------------------------- response rates


def response_rate_table(
    invitations: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    by: Sequence[str] = ("country",),
    wave: str | None = None,
    revenue: pd.DataFrame | None = None,
    match_on: _MatchOn = "email",
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
) -> pd.DataFrame:
    """Response rate of one wave's invitations by group, with Wilson intervals.

    Parameters
    ----------
    invitations : pandas.DataFrame
        The deployment lists (``load_invitations``): ``wave``, ``contact_id``, ``email`` and
        the ``by`` columns (``revenue_band`` is derived, see ``revenue``).
    responses : pandas.DataFrame
        Processed relationship survey with ``wave`` and ``contact_email`` (and ``contact_id``
        for ``match_on="contact_id"``).
    by : sequence of str
        Grouping columns of the invitations, or ``"revenue_band"``; a total row ``"All"``.
    wave : str, optional
        The wave (default: the latest wave of the invitations).  A response counts for the
        invitation of its own wave only.
    revenue : pandas.DataFrame, optional
        ``account, year, revenue_usd``; needed for ``by=("revenue_band",)``
        (:func:`revenue_bands`: thirds of the invited accounts by revenue).
    match_on : {"email", "contact_id", "either"}
        How a response is linked to an invitation (see
        :func:`csatlib.loop.sampling.response_rates`).
    min_n : int
        Groups with fewer invitations are suppressed (``suppressed=True``, NaN estimates).
    conf : float
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        ``wave``, the ``by`` columns, ``invited``, ``responded``, ``suppressed``,
        ``response_rate``, ``ci_low``, ``ci_high``.

    Notes
    -----
    Response rate :math:`\\hat p = x/n`, :math:`x` invitations with at least one matching
    response of the wave, :math:`n` invitations (AAPOR RR1 with every invitation counted as
    eligible).  Wilson score interval
    :math:`\\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}`,
    computed by :func:`csatlib.loop.sampling.response_rates` (tested there against
    statsmodels).  Matched by e-mail, answers left without an address are not linked, so the
    rate is a lower bound.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. JASA 22, 209-212.  AAPOR (2023). Standard Definitions, 10th ed.
    """
    by = [by] if isinstance(by, str) else list(by)
    require_columns(
        invitations, ["wave", "contact_id", "email"], "response_rate_table: invitations"
    )
    require_columns(responses, ["wave"], "response_rate_table: responses")
    chosen = _wave_of(invitations, wave, "response_rate_table")
    inv, resp = _wave_rows(invitations, responses, chosen)
    if "revenue_band" in by:
        if revenue is None:
            raise DataError(
                "response_rate_table: by='revenue_band' needs the revenue table (revenue=...)"
            )
        inv = inv.assign(revenue_band=revenue_bands(inv, revenue))
    out = response_rates(inv, resp, by=by, match_on=match_on, min_n=min_n, conf=conf)
    if "revenue_band" in by:  # bands in size order, not alphabetically
        order = {b: i for i, b in enumerate((*REVENUE_BANDS, NO_REVENUE, "All"))}
        out = out.sort_values("revenue_band", key=lambda s: s.map(order), kind="stable")
    out.insert(0, "wave", chosen)
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------- the two tests


def mann_whitney(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Mann-Whitney U of ``x`` against ``y`` and its two-sided p-value (normal approximation).

    Parameters
    ----------
    x, y : sequence of float
        The two samples (NaN removed by the caller); each needs at least one value.

    Returns
    -------
    (U, p) : tuple of float
        :math:`U_x` and the two-sided p-value.

    Notes
    -----
    With mid-ranks :math:`R_i` over the pooled sample, :math:`U_x = \\sum_{i \\in x} R_i -
    n_x(n_x+1)/2`, :math:`E[U] = n_x n_y / 2` and, with :math:`t_j` the sizes of the groups of
    ties, :math:`\\mathrm{Var}[U] = \\frac{n_x n_y}{12}\\left(N + 1 - \\frac{\\sum_j (t_j^3 -
    t_j)}{N(N-1)}\\right)`; :math:`z = (|U_x - E[U]| - 1/2) / \\sqrt{\\mathrm{Var}[U]}`
    (continuity correction), :math:`p = 2(1 - \\Phi(z))`, capped at 1.  Tested against
    ``scipy.stats.mannwhitneyu(method="asymptotic")`` and R ``wilcox.test(exact = FALSE)``.

    References
    ----------
    Mann, H. B., Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. Ann. Math. Statist. 18, 50-60.  Hollander, M.,
    Wolfe, D. A., Chicken, E. (2014). Nonparametric Statistical Methods, 3rd ed., Wiley, ch. 4.
    """
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    nx, ny = a.size, b.size
    if nx == 0 or ny == 0:
        raise DataError(f"mann_whitney: each group needs a value; found {nx} and {ny}")
    pooled = np.concatenate([a, b])
    ranks = stats.rankdata(pooled)
    u = float(ranks[:nx].sum() - nx * (nx + 1) / 2)
    n = nx + ny
    _, ties = np.unique(pooled, return_counts=True)
    tie_term = float((ties**3 - ties).sum()) / (n * (n - 1)) if n > 1 else 0.0
    var = nx * ny / 12.0 * (n + 1 - tie_term)
    if var <= 0:
        return u, 1.0
    z = max(abs(u - nx * ny / 2.0) - 0.5, 0.0) / np.sqrt(var)
    return u, float(min(1.0, 2.0 * stats.norm.sf(z)))


def chi_square_independence(table: np.ndarray) -> tuple[float, int, float, np.ndarray]:
    """Pearson's chi-square test of independence of an r x c table of counts.

    Parameters
    ----------
    table : array of int, shape (r, c)
        Counts; rows and columns with a zero total must be removed by the caller.

    Returns
    -------
    (statistic, df, p_value, expected)

    Notes
    -----
    :math:`E_{ij} = O_{i\\cdot} O_{\\cdot j} / N`, :math:`X^2 = \\sum_{ij} (O_{ij} -
    E_{ij})^2 / E_{ij}` on :math:`(r-1)(c-1)` degrees of freedom, without continuity
    correction; unreliable when an :math:`E_{ij} < 5` (Cochran).  Tested against
    ``scipy.stats.chi2_contingency(correction=False)`` and R ``chisq.test(correct = FALSE)``.

    References
    ----------
    Pearson, K. (1900). On the criterion that a given system of deviations from the probable ...
    Phil. Mag. 50, 157-175.  Cochran, W. G. (1954). Some methods for strengthening the common
    chi-square tests. Biometrics 10, 417-451.  Agresti, A. (2013). Categorical Data Analysis,
    3rd ed., Wiley, sec. 3.2.
    """
    observed = np.asarray(table, dtype=float)
    if observed.ndim != 2 or min(observed.shape) < 2:
        raise DataError(f"chi_square_independence: expected an r x c table, r, c >= 2; found "
                        f"shape {observed.shape}")  # fmt: skip
    if (observed.sum(axis=0) == 0).any() or (observed.sum(axis=1) == 0).any():
        raise DataError("chi_square_independence: a row or column of the table sums to zero")
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    df = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    return statistic, df, float(stats.chi2.sf(statistic, df)), expected


# ------------------------------------------------------------------------------- non-response


@dataclass(frozen=True)
class NonresponseCheck:
    """Result of :func:`nonresponse_check`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per check (``revenue``, ``region``): :data:`SUMMARY_COLUMNS`.
    revenue : pandas.DataFrame
        One row per group (``answered``, ``not answered``): ``group``, ``units``,
        ``with_revenue``, ``median_revenue``, ``mean_revenue``; ``attrs["difference"]`` the
        difference of the medians (answered minus not answered).
    regions : pandas.DataFrame
        One row per region and a total ``All``: ``region``, ``units``, ``answered``,
        ``answer_rate``, ``expected_answered``, ``expected_not_answered``.
    units : pandas.DataFrame
        One row per unit: the unit columns, ``region``, ``invited``, ``answered`` (bool),
        ``revenue_usd``.
    wave : str
    unit : tuple of str
    """

    summary: pd.DataFrame
    revenue: pd.DataFrame
    regions: pd.DataFrame
    units: pd.DataFrame
    wave: str
    unit: tuple[str, ...]


def _verdict(p: float, alpha: float) -> str:
    return "differ" if p < alpha else "no evidence of a difference"


def _units(inv: pd.DataFrame, answered: np.ndarray, unit: list[str]) -> pd.DataFrame:
    """One row per unit: invitations, answered, and its region (most invitations; ties: first
    in name order)."""
    work = (
        inv[unit]
        .astype("string")
        .assign(
            _key=normalize_account_name(inv["account"].astype("string")),
            region=inv["region"].astype("string"),
            _answered=answered,
        )
    )
    keys = ["_key", *(u for u in unit if u != "account")]
    counts = work.groupby([*keys, "region"], observed=True).size().rename("n").reset_index()
    region = counts.sort_values([*keys, "n", "region"], ascending=[*[True] * len(keys), False,
                                True]).drop_duplicates(keys)  # fmt: skip
    out = work.groupby(keys, observed=True).agg(
        **{u: (u, "first") for u in unit if u not in keys},
        invited=("_answered", "size"),
        answered=("_answered", "any"),
    )
    out = out.reset_index().merge(region[[*keys, "region"]], on=keys, how="left")
    return out[["_key", *unit, "region", "invited", "answered"]]


def _revenue_check(units: pd.DataFrame, alpha: float) -> tuple[dict, pd.DataFrame]:
    groups = {"answered": units["answered"], "not answered": ~units["answered"]}
    rows = []
    values = {}
    for name, mask in groups.items():
        v = units.loc[mask.to_numpy(), "revenue_usd"].dropna().to_numpy(float)
        values[name] = v
        rows.append(
            {
                "group": name,
                "units": int(mask.sum()),
                "with_revenue": int(v.size),
                "median_revenue": float(np.median(v)) if v.size else np.nan,
                "mean_revenue": float(v.mean()) if v.size else np.nan,
            }
        )
    detail = pd.DataFrame(rows)
    difference = float(detail["median_revenue"].iat[0] - detail["median_revenue"].iat[1])
    detail.attrs["difference"] = difference
    n_a, n_b = values["answered"].size, values["not answered"].size
    groups_text = f"answered (n = {n_a}) vs not answered (n = {n_b})"
    if n_a == 0 or n_b == 0:
        empty = "answered" if n_a == 0 else "not answered"
        return {"check": "revenue", "groups": groups_text, "statistic": np.nan, "df": np.nan,
                "p_value": np.nan,
                "verdict": f"not testable: no {empty} unit with revenue"}, detail  # fmt: skip
    u, p = mann_whitney(values["answered"], values["not answered"])
    verdict = _verdict(p, alpha)
    if min(n_a, n_b) < MIN_GROUP:
        verdict += f" (unreliable: fewer than {MIN_GROUP} units in a group)"
    row = {"check": "revenue", "groups": groups_text, "statistic": u, "df": np.nan,
           "p_value": p, "verdict": verdict}  # fmt: skip
    return row, detail


def _region_check(units: pd.DataFrame, alpha: float) -> tuple[dict, pd.DataFrame]:
    region = units["region"].fillna("(missing)")
    table = pd.crosstab(region, units["answered"]).reindex(columns=[True, False], fill_value=0)
    detail = pd.DataFrame(
        {
            "region": table.index.astype(str),
            "units": table.sum(axis=1).to_numpy(),
            "answered": table[True].to_numpy(),
        }
    )
    groups_text = f"{len(table)} regions x answered / not answered"
    row = {"check": "region", "groups": groups_text, "statistic": np.nan, "df": np.nan,
           "p_value": np.nan}  # fmt: skip
    if len(table) < 2 or (table.sum(axis=0) == 0).any():
        lacking = "one region only" if len(table) < 2 else "every unit is in one group"
        detail["expected_answered"] = np.nan
        detail["expected_not_answered"] = np.nan
        row["verdict"] = f"not testable: {lacking}"
    else:
        statistic, df, p, expected = chi_square_independence(table.to_numpy())
        detail["expected_answered"] = expected[:, 0]
        detail["expected_not_answered"] = expected[:, 1]
        small = int((expected < MIN_EXPECTED).sum())
        verdict = _verdict(p, alpha)
        if small:
            verdict += f" (unreliable: {small} expected count(s) below {MIN_EXPECTED:g})"
        row.update(statistic=statistic, df=float(df), p_value=p, verdict=verdict)
    total = pd.DataFrame(
        {
            "region": ["All"],
            "units": [int(detail["units"].sum())],
            "answered": [int(detail["answered"].sum())],
        }  # fmt: skip
    )
    detail = pd.concat([detail, total], ignore_index=True)
    detail["answer_rate"] = detail["answered"] / detail["units"]
    order = ["region", "units", "answered", "answer_rate", "expected_answered",
             "expected_not_answered"]  # fmt: skip
    return row, detail[order]


def nonresponse_check(
    invitations: pd.DataFrame,
    responses: pd.DataFrame,
    revenue: pd.DataFrame | None = None,
    *,
    wave: str | None = None,
    unit: Sequence[str] = ("account",),
    match_on: _MatchOn = "email",
    alpha: float = 0.05,
) -> NonresponseCheck:
    """Do the accounts that answered differ from those that did not, in revenue and region?

    Parameters
    ----------
    invitations : pandas.DataFrame
        The deployment lists: ``wave``, ``contact_id``, ``email``, ``account``, ``region`` and
        the ``unit`` columns.
    responses : pandas.DataFrame
        Processed relationship survey with ``wave`` and ``contact_email``.
    revenue : pandas.DataFrame, optional
        ``account, year, revenue_usd`` (and ``country`` when ``unit`` has it); the latest year
        is used.  Without it the revenue check says it is not testable.
    wave : str, optional
        The wave (default: the latest of the invitations).
    unit : sequence of str
        What answers: ``("account",)`` (default) or ``("account", "country")`` (an account in
        one country, when the relationship is managed per country).  A unit answered when at
        least one of its invited contacts did.
    match_on : {"email", "contact_id", "either"}
        How a response is linked to an invitation.
    alpha : float
        Significance level of the verdicts.

    Returns
    -------
    NonresponseCheck
        ``summary`` with one row per check (``check, groups, statistic, df, p_value,
        verdict``), and the revenue, region and unit tables behind it.

    Notes
    -----
    Revenue: Mann-Whitney U test (:func:`mann_whitney`) of the units' revenue, answered vs not
    answered; ``statistic`` is :math:`U` of the answered units.  Rank-based, so the skew of
    revenue needs no transformation and one very large account does not dominate.  Units
    without revenue are left out of this test (counted in ``revenue.units``).  Region:
    Pearson's chi-square test of independence (:func:`chi_square_independence`) of the
    region x answered table (a unit's region is that of most of its invitations); the verdict
    says "unreliable" when an expected count is below 5.  A verdict ``differ`` means the
    answers may not represent the accounts that were asked: weight or report it.

    References
    ----------
    Groves, R. M., Peytcheva, E. (2008). The impact of nonresponse rates on nonresponse bias.
    Public Opinion Quarterly 72, 167-189.  See also :func:`mann_whitney`,
    :func:`chi_square_independence`.
    """
    unit = [unit] if isinstance(unit, str) else list(unit)
    if "account" not in unit:
        raise DataError(f"nonresponse_check: unit must include 'account'; found {unit}")
    need = ["wave", "contact_id", "email", "account", "region", *unit]
    require_columns(invitations, dict.fromkeys(need), "nonresponse_check: invitations")
    require_columns(responses, ["wave"], "nonresponse_check: responses")
    alpha = check_alpha(alpha, func="nonresponse_check")
    chosen = _wave_of(invitations, wave, "nonresponse_check")
    inv, resp = _wave_rows(invitations, responses, chosen)
    answered = match_invitations(inv, resp, match_on=match_on)
    units = _units(inv, answered, unit)
    if revenue is not None:
        amount = _account_revenue(revenue, unit)
        keys = ["_key", *(u for u in unit if u != "account")]
        index = pd.MultiIndex.from_frame(units[keys]) if len(keys) > 1 else units["_key"]
        units["revenue_usd"] = amount.reindex(index).to_numpy(float)
    else:
        units["revenue_usd"] = np.nan
    revenue_row, revenue_detail = _revenue_check(units, alpha)
    if revenue is None:
        revenue_row["verdict"] = "not testable: no revenue table"
    region_row, region_detail = _region_check(units, alpha)
    summary = pd.DataFrame([revenue_row, region_row], columns=list(SUMMARY_COLUMNS))
    return NonresponseCheck(
        summary=summary,
        revenue=revenue_detail,
        regions=region_detail,
        units=units.drop(columns="_key"),
        wave=chosen,
        unit=tuple(unit),
    )


# ------------------------------------------------------------------------------- timeliness


@dataclass(frozen=True)
class Timeliness:
    """Result of :func:`timeliness`: the table (empty when not computable) and why not.

    Attributes
    ----------
    table : pandas.DataFrame
        See :func:`timeliness`.
    reason : str
        ``""`` when the table was computed, else one line saying what the export lacks.
    """

    table: pd.DataFrame
    reason: str


#: Columns of :attr:`Timeliness.table` after the grouping columns.
TIMELINESS_COLUMNS: tuple[str, ...] = (
    "surveys",
    "with_dates",
    "sent_before_close",
    "within",
    "suppressed",
    "share_within",
    "ci_low",
    "ci_high",
    "median_delay_days",
)


def _role_column(df: pd.DataFrame, given: str | None, role: str) -> str | None:
    if given is not None:
        if given not in df.columns:
            raise DataError(f"timeliness: column {given!r} not in the table (role {role!r}); "
                            f"found {list(df.columns)}")  # fmt: skip
        return given
    found = roles.names(df, role)
    return found[0] if found else None


def _as_time(s: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    text = s.astype("string").str.strip()
    parsed = pd.to_datetime(text.where(text.ne("")), errors="coerce", format="ISO8601")
    bad = text.fillna("").ne("") & parsed.isna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"timeliness: column {column!r}, row {s.index[pos]!r}: expected a date "
                        f"or time (ISO 8601), found {s.iloc[pos]!r}")  # fmt: skip
    return parsed


def timeliness(
    transactions: pd.DataFrame,
    *,
    closed: str | None = None,
    sent: str | None = None,
    by: Sequence[str] | None = None,
    within_days: float = 1.0,
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
) -> Timeliness:
    """How soon after the ticket was closed the transaction survey was sent, by country.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Processed transaction survey.  The dates are found by codebook role (``ticket_closed``,
        ``survey_sent``) unless named; datetimes, or ISO 8601 text.
    closed, sent : str, optional
        Column of the ticket's close date and of the survey's send date.
    by : sequence of str, optional
        Grouping columns (default: the column with role ``country``, else none); a total row
        ``"All"``.
    within_days : float
        A survey is timely when sent at most this many days (default 1: 24 hours) after the
        close, and not before it.
    min_n : int
        Groups with fewer surveys with both dates are suppressed (NaN estimates).
    conf : float
        Confidence level of the Wilson interval.

    Returns
    -------
    Timeliness
        ``table``: the ``by`` columns, ``surveys`` (rows), ``with_dates`` (both dates known),
        ``sent_before_close`` (negative delay: a data problem, not timely), ``within``,
        ``suppressed``, ``share_within``, ``ci_low``, ``ci_high``, ``median_delay_days``
        (of the surveys with both dates); ``reason`` empty.  When the export lacks a date the
        table is empty and ``reason`` says which.

    Notes
    -----
    Delay :math:`d = t_{sent} - t_{closed}` in days; share timely :math:`\\hat p = x/n` with
    :math:`x = \\#\\{0 \\le d \\le` ``within_days``:math:`\\}` and :math:`n` the surveys with
    both dates; Wilson score interval (``statsmodels`` ``proportion_confint``,
    ``method="wilson"``).  A survey sent long after the service experience measures memory
    more than the experience, hence the share within a day.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. JASA 22, 209-212.
    """
    if not isinstance(transactions, pd.DataFrame):
        raise DataError(f"timeliness: expected a DataFrame, found {type(transactions).__name__}")
    min_n = check_min_n(min_n, func="timeliness")
    conf = check_conf(conf, func="timeliness")
    if isinstance(within_days, bool) or not isinstance(within_days, int | float) or within_days < 0:
        raise DataError(f"timeliness: within_days must be a number >= 0; got {within_days!r}")
    closed_col = _role_column(transactions, closed, "ticket_closed")
    sent_col = _role_column(transactions, sent, "survey_sent")
    if by is None:
        country = roles.names(transactions, "country")
        by = country[:1] if country else []
    by = [by] if isinstance(by, str) else list(by)
    lacking = [r for r, c in (("ticket close", closed_col), ("survey send", sent_col)) if c is None]
    if lacking:
        empty = pd.DataFrame(columns=[*by, *TIMELINESS_COLUMNS])
        return Timeliness(
            empty,
            f"The transaction export has no {' and no '.join(lacking)} date (codebook roles "
            "'ticket_closed' and 'survey_sent'): timeliness cannot be measured.",
        )
    require_columns(transactions, by, "timeliness: transactions")
    delay = (
        _as_time(transactions[sent_col], sent_col) - _as_time(transactions[closed_col], closed_col)
    ) / pd.Timedelta(days=1)
    work = transactions[by].astype("string").fillna("(missing)") if by else pd.DataFrame(
        index=transactions.index)  # fmt: skip
    work = work.assign(
        _delay=delay.to_numpy(float),
        _dated=delay.notna().to_numpy(),
        _early=(delay < 0).fillna(False).to_numpy(bool),
        _within=((delay >= 0) & (delay <= within_days)).fillna(False).to_numpy(bool),
    )
    parts = [work.assign(**dict.fromkeys(by, "All"))]
    if by:
        parts.insert(0, work)
    rows = []
    for frame in parts:
        g = frame.groupby(by, sort=True) if by else frame.groupby(lambda _: "All")
        rows.append(
            g.agg(
                surveys=("_dated", "size"),
                with_dates=("_dated", "sum"),
                sent_before_close=("_early", "sum"),
                within=("_within", "sum"),
                median_delay_days=("_delay", "median"),
            ).reset_index(drop=not by)
        )
    table = pd.concat(rows, ignore_index=True)
    n = table["with_dates"].to_numpy(float)
    x = table["within"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = proportion_confint(x, n, alpha=1.0 - conf, method="wilson")
        share = x / n
    table["suppressed"] = table["with_dates"] < min_n
    hide = table["suppressed"].to_numpy()
    table["share_within"] = np.where(hide, np.nan, share)
    table["ci_low"] = np.where(hide, np.nan, lo)
    table["ci_high"] = np.where(hide, np.nan, hi)
    table["median_delay_days"] = table["median_delay_days"].where(~hide)
    for column in ("surveys", "with_dates", "sent_before_close", "within"):
        table[column] = table[column].astype(int)
    return Timeliness(table[[*by, *TIMELINESS_COLUMNS]], "")
