"""Design-based variances when customers, not respondents, are the unit: accounts as clusters.

Respondents of one account answer alike, and most accounts answer in every wave, so respondents
are not independent draws. Treating the account as the primary sampling unit (PSU) gives the
variance R's survey package computes for ``svydesign(ids = ~account, weights = ~w)``: Taylor
linearization, PSUs drawn with replacement, no strata, no finite-population correction.

Notes
-----
For a (domain) weighted mean :math:`\\hat\\mu_d = \\sum_i w_i I_{di} y_i / \\sum_i w_i I_{di}`
the influence value of respondent :math:`i` is
:math:`z_{di} = w_i I_{di} (y_i - \\hat\\mu_d) / \\sum_j w_j I_{dj}`. Summed per cluster,
:math:`Z_{dc} = \\sum_{i \\in c} z_{di}`, and with :math:`C` clusters in the design

.. math:: \\widehat{Cov}(\\hat\\mu_d, \\hat\\mu_e) = \\frac{C}{C-1}
          \\sum_c (Z_{dc} - \\bar Z_d)(Z_{ec} - \\bar Z_e).

:math:`C` counts every cluster of the data passed (also those without a respondent in a domain,
or whose answers are missing), as survey's ``subset``/``svyby`` keep the whole design; a
respondent whose cluster is unknown is a cluster of its own. Domains (waves, countries) estimated
on one design are correlated through the clusters they share: that covariance enters every
difference (``svycontrast`` of ``svyby(..., covmat = TRUE)``). Without clusters every respondent
is its own cluster, which is the weighted linearization of ``svymean`` on
``svydesign(ids = ~1, weights = ~w)``.

The design effect reported is :math:`deff = \\widehat{Var}_{clustered} /
\\widehat{Var}_{respondents}`, the same estimator with each respondent as its own cluster.

References
----------
Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, ch. 2-3.
Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex surveys.
International Statistical Review 51(3), 279-292.
Kish, L. (1965). Survey Sampling. Wiley (design effect).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from csatlib.errors import DataError

__all__ = ["DomainMeans", "cluster_codes", "linearized_cov", "domain_means", "interval_se"]


def interval_se(se: object, se_respondents: object) -> np.ndarray:
    """The standard error an interval of a clustered mean is built on: the larger of the
    clustered ``se`` and ``se_respondents``, the same estimator with each respondent its own
    cluster; NaN where ``se`` is (fewer than two accounts answered).

    .. math:: se_{interval} = \\sqrt{\\max(deff, 1)}\\; se_{respondents}
              = \\max(se, se_{respondents})

    The design effect is floored at 1, as for the NPS (:func:`csatlib.stats.nps.nps`) and the
    top-box share (:func:`csatlib.stats.scores.scores_by_group`): a design effect below 1
    estimated from a few accounts whose answers happen to agree is noise, not a negative
    correlation within accounts, so no interval is narrower than for independent respondents
    (Korn & Graubard 1998). The ``se`` itself stays the clustered one (R survey's), which the
    tests of differences use.

    References
    ----------
    Korn, E. L., & Graubard, B. I. (1998). Confidence intervals for proportions with small
    expected number of positive counts estimated from survey data. Survey Methodology, 24(2),
    193-201.
    """
    clustered = np.asarray(se, dtype=float)
    own = np.asarray(se_respondents, dtype=float)
    return np.where(np.isnan(clustered), np.nan, np.fmax(clustered, own))


def cluster_codes(clusters: object, n: int) -> np.ndarray:
    """Integer cluster codes 0..C-1 for ``n`` rows; None (or all missing) makes every row its own.

    A missing cluster key (the account is unknown) makes that row a cluster of its own.
    """
    if clusters is None:
        return np.arange(n)
    if isinstance(clusters, pd.Series):  # factorized as it is (an Arrow-backed text column
        keys = clusters.reset_index(drop=True)  # by Arrow), not copied to Python objects first
    else:
        keys = pd.Series(np.asarray(clusters, dtype=object))
    if len(keys) != n:
        raise DataError(f"clusters: expected one key per row ({n}), found {len(keys)}")
    codes, _ = pd.factorize(keys, use_na_sentinel=True)
    missing = codes < 0
    if missing.any():
        codes = codes.copy()
        start = codes.max() + 1 if (~missing).any() else 0
        codes[missing] = start + np.arange(int(missing.sum()))
    return codes


def linearized_cov(influence: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """:math:`C/(C-1) \\sum_c (Z_c - \\bar Z)(Z_c - \\bar Z)^T` of per-row influence values.

    Parameters
    ----------
    influence : ndarray, shape (n,) or (n, k)
        Influence values of ``k`` estimates (0 where a row does not count).
    codes : ndarray of int, shape (n,)
        Cluster codes 0..C-1 (:func:`cluster_codes`).

    Returns
    -------
    ndarray, shape (k, k)
        The linearization covariance; NaN when there is a single cluster.
    """
    z = np.asarray(influence, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    n_clusters = int(codes.max()) + 1 if len(codes) else 0
    if n_clusters < 2:
        return np.full((z.shape[1], z.shape[1]), np.nan)
    totals = np.stack(
        [np.bincount(codes, weights=z[:, j], minlength=n_clusters) for j in range(z.shape[1])],
        axis=1,
    )
    totals -= totals.mean(axis=0)
    return totals.T @ totals * (n_clusters / (n_clusters - 1))


@dataclass(frozen=True, eq=False)
class DomainMeans:
    """Weighted means of one variable in several domains of one design, with their covariance.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by domain: ``n`` (respondents with a value), ``mean``, ``se`` (clustered),
        ``se_respondents`` (each respondent its own cluster), ``deff`` (the ratio of the two
        variances).
    cov : pandas.DataFrame
        Clustered covariance of the domain means (domains x domains).
    n_clusters : int
        Clusters in the design (every cluster of the data passed).
    """

    table: pd.DataFrame
    cov: pd.DataFrame
    n_clusters: int

    def difference(self, a: object, b: object) -> tuple[float, float]:
        """(mean_a - mean_b, its clustered SE): ``svycontrast`` of the two domain means."""
        diff = float(self.table.loc[a, "mean"] - self.table.loc[b, "mean"])
        var = self.cov.loc[a, a] + self.cov.loc[b, b] - 2 * self.cov.loc[a, b]
        return diff, float(np.sqrt(max(var, 0.0)))


def domain_means(
    values: Sequence[float] | np.ndarray | pd.Series,
    domains: Sequence[object] | np.ndarray | pd.Series | None = None,
    *,
    weights: Sequence[float] | np.ndarray | None = None,
    clusters: Sequence[object] | np.ndarray | None = None,
) -> DomainMeans:
    """Weighted mean of ``values`` per domain, with clustered (and per-respondent) variances.

    Parameters
    ----------
    values : array-like
        One value per respondent; NaN is left out of the means (but the respondent's cluster
        still counts in the design, as ``na.rm = TRUE`` does in R survey).
    domains : array-like, optional
        Domain label per respondent (e.g. the wave); None: one domain, ``"all"``. Rows with a
        missing domain count in the design but in no domain.
    weights : array-like, optional
        Sampling weights (default 1).
    clusters : array-like, optional
        Cluster key per respondent (the account); None: every respondent is its own cluster.

    Returns
    -------
    DomainMeans

    Notes
    -----
    The formula is in the module docstring. Checked against R survey 4.1 (``svymean``,
    ``svyby(..., covmat = TRUE)`` and ``svycontrast``) in tests/stats/test_design.py.
    """
    y = np.asarray(values, dtype=float)
    n = len(y)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != n:
        raise DataError(f"weights: expected one weight per value ({n}), found {len(w)}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise DataError("weights: expected finite weights >= 0")
    labels = np.full(n, "all", dtype=object) if domains is None else np.asarray(domains, object)
    if len(labels) != n:
        raise DataError(f"domains: expected one label per value ({n}), found {len(labels)}")
    codes = cluster_codes(clusters, n)
    own = np.arange(n)
    known = ~np.isnan(y)
    names = [d for d in pd.unique(pd.Series(labels[known])) if not pd.isna(d)]
    z_cluster = np.zeros((n, len(names)))
    rows = []
    for j, name in enumerate(names):
        inside = known & (pd.Series(labels).to_numpy() == name)
        wd = np.where(inside, w, 0.0)
        total = wd.sum()
        mean = float(np.sum(wd * np.where(inside, y, 0.0)) / total) if total > 0 else np.nan
        z_cluster[:, j] = np.where(inside, wd * (y - mean) / total, 0.0) if total > 0 else 0.0
        rows.append((name, int(inside.sum()), mean))
    cov = linearized_cov(z_cluster, codes) if names else np.zeros((0, 0))
    cov_own = linearized_cov(z_cluster, own) if names else np.zeros((0, 0))
    se = np.sqrt(np.clip(np.diag(cov), 0, None)) if names else np.array([])
    se_own = np.sqrt(np.clip(np.diag(cov_own), 0, None)) if names else np.array([])
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.where(se_own > 0, se**2 / se_own**2, np.nan)
    table = pd.DataFrame(
        {
            "n": [r[1] for r in rows],
            "mean": [r[2] for r in rows],
            "se": se,
            "se_respondents": se_own,
            "deff": deff,
        },
        index=pd.Index([r[0] for r in rows], name="domain"),
    )
    return DomainMeans(
        table=table,
        cov=pd.DataFrame(cov, index=table.index, columns=table.index),
        n_clusters=int(codes.max()) + 1 if n else 0,
    )
