"""NPS by group from per-account totals: nps_by_group's estimates for data too large to load.

An engine that works out of core (Dask, DuckDB, Spark) sums each group x account once:
respondents, valid answers, promoters and detractors. Those totals are small (accounts x groups,
not respondents), and they are all the clustered estimator needs: :func:`nps_from_totals` gives
exactly the table :func:`csatlib.stats.nps.nps_by_group` gives on the respondents (same point
estimates, adjusted Wald interval, account-clustered linearization variance and design effect).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from csatlib.config import DEFAULT_CONF, DEFAULT_MIN_N
from csatlib.errors import DataError, require_columns
from csatlib.stats.nps import _ESTIMATE_COLUMNS, _as_list, _Design, _group_codes, _Grouped
from csatlib.validation import check_conf, check_min_n

__all__ = ["TOTAL_COLUMNS", "nps_from_totals"]

#: The totals each group x account row carries.
TOTAL_COLUMNS: tuple[str, ...] = ("rows", "answered", "promoters", "detractors")


def _counts(totals: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {}
    for column in TOTAL_COLUMNS:
        values = pd.to_numeric(totals[column], errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(values) | (values < 0) | (values != np.floor(values))
        if bad.any():
            row = totals.index[np.flatnonzero(bad)[0]]
            raise DataError(
                f"nps_from_totals: column {column!r}, row {row!r}: expected a whole count >= 0, "
                f"found {totals.loc[row, column]!r}"
            )
        out[column] = values
    over = (out["promoters"] + out["detractors"] > out["answered"]) | (
        out["answered"] > out["rows"]
    )
    if over.any():
        row = totals.index[np.flatnonzero(over)[0]]
        raise DataError(
            f"nps_from_totals: row {row!r}: expected promoters + detractors <= answered <= rows, "
            f"found {[totals.loc[row, c] for c in TOTAL_COLUMNS]}"
        )
    return out


def nps_from_totals(
    totals: pd.DataFrame,
    by: str | Sequence[str],
    *,
    cluster: str,
    n_psu: int | None = None,
    n_rows: int | None = None,
    conf: float = DEFAULT_CONF,
    min_n: int = DEFAULT_MIN_N,
) -> pd.DataFrame:
    """NPS of every group, account-clustered, from group x account totals.

    Parameters
    ----------
    totals : pandas.DataFrame
        One row per group x account (repeats are summed): the ``by`` columns, ``cluster``, and
        :data:`TOTAL_COLUMNS`: ``rows`` (respondents, a missing answer included), ``answered``
        (a valid likelihood to recommend), ``promoters`` (9-10) and ``detractors`` (0-6). A
        respondent without an account must get a key of its own before summing (its response
        id), as :func:`~csatlib.stats.nps.nps_by_group` treats it.
    by : str or sequence of str
        Group columns (e.g. ``["country", "wave"]``); a row with a missing key counts only in
        :math:`C` and :math:`N`.
    cluster : str
        The account column.
    n_psu, n_rows : int, optional
        :math:`C`, the accounts of the whole data set, and :math:`N`, its rows; default the
        distinct accounts and the sum of ``rows`` in ``totals`` (give them when ``totals`` holds
        only some groups of a larger design).
    conf, min_n
        As in :func:`~csatlib.stats.nps.nps_by_group`.

    Returns
    -------
    pandas.DataFrame
        The columns of ``nps_by_group(..., cluster=...)``: ``*by, n, n_clusters, n_eff,
        promoters, passives, detractors, score, se, deff, ci_low, ci_high, suppressed``.

    Notes
    -----
    With group :math:`g`, account :math:`c`, valid answers :math:`n_{gc}` and
    :math:`y_{gc} = \\#\\text{promoters}_{gc} - \\#\\text{detractors}_{gc}`, the estimate is
    :math:`\\hat\\theta_g = \\sum_c y_{gc} / \\sum_c n_{gc}` and its linearization variance
    :math:`\\frac{C}{C-1} \\sum_c (z_{gc} - \\bar z_g)^2` with
    :math:`z_{gc} = (y_{gc} - \\hat\\theta_g n_{gc}) / \\sum_c n_{gc}` (zero for an account
    outside the group) and :math:`\\bar z_g = \\sum_c z_{gc} / C`: every term is a sum over
    the respondents of one group x account, so the totals determine it (Binder 1983; Lumley
    2010, ch. 2.3, domain estimation). The interval is the adjusted Wald interval of
    :func:`~csatlib.stats.nps.nps` widened by the design effect.

    Checked against: :func:`~csatlib.stats.nps.nps_by_group` on the respondents, to 1e-12
    (tests/stats/test_nps_totals.py), which is itself checked against R survey's ``svyby``.

    References
    ----------
    Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex
    surveys. *International Statistical Review*, 51(3), 279-292. Lumley, T. (2010). *Complex
    Surveys: A Guide to Analysis Using R*. Wiley.
    """
    conf = check_conf(conf, func="nps_from_totals")
    min_n = check_min_n(min_n, func="nps_from_totals")
    by = _as_list(by)
    require_columns(totals, [*by, cluster, *TOTAL_COLUMNS], "nps_from_totals")
    if totals[cluster].isna().any():
        raise DataError(
            f"nps_from_totals: column {cluster!r} has missing accounts; give each respondent "
            "without an account a key of its own (its response id) before summing"
        )
    counts = _counts(totals)
    codes, accounts = pd.factorize(totals[cluster], sort=True)
    c_all = len(accounts) if n_psu is None else int(n_psu)
    n_all = int(counts["rows"].sum()) if n_rows is None else int(n_rows)
    cells, ncells, decode = _group_codes(totals, by)
    answered, promoters, detractors = counts["answered"], counts["promoters"], counts["detractors"]

    def per_cell(values: np.ndarray) -> np.ndarray:
        return np.bincount(cells, weights=values, minlength=ncells + 1)[:ncells]

    n = per_cell(answered)
    p, d = per_cell(promoters), per_cell(detractors)
    sums = {"rows": per_cell(counts["rows"]), "n": n, "sw": n, "sw2": n}
    sums.update(swp=p, swd=d, sw2p=p, sw2d=d)
    observed = np.flatnonzero(sums["rows"] > 0)
    group_of_cell = np.full(ncells + 1, -1, dtype=np.int64)
    group_of_cell[observed] = np.arange(len(observed))
    group = group_of_cell[cells]
    used = (group >= 0) & (answered > 0)
    pairs, inverse = np.unique(group[used] * c_all + codes[used], return_inverse=True)
    n_pair = np.bincount(inverse, weights=answered[used])
    y_pair = np.bincount(inverse, weights=promoters[used] - detractors[used])
    design = _Design(
        n_psu=c_all,
        n_rows=n_all,
        group=pairs // c_all,
        cluster=pairs % c_all,
        n=n_pair,
        sw=n_pair,
        swy=y_pair,
    )
    grouped = _Grouped(decode(observed), {k: v[observed] for k, v in sums.items()}, design)
    est = grouped.estimates(weighted=False, conf=conf)
    n_obs = grouped.sums["n"].astype(np.int64)
    suppressed = n_obs < min_n
    out = grouped.keys.copy()
    out["n"] = n_obs
    out["n_clusters"] = est["n_clusters"].astype(np.int64)
    for column in _ESTIMATE_COLUMNS:
        out[column] = np.where(suppressed, np.nan, est[column])
    out.insert(out.columns.get_loc("se") + 1, "deff", np.where(suppressed, np.nan, est["deff"]))
    out["suppressed"] = suppressed
    return out
