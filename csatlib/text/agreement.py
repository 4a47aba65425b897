"""Agreement between coders: Cohen's kappa, Krippendorff's alpha, and both per attribute.

:func:`cohen_kappa` and :func:`krippendorff_alpha` are the two coefficients; :func:`agreement`
reports them overall and per attribute from long codes ``incident_id, coder, attribute``;
:func:`codes_as_coder` and :func:`agreement_with_coder` let a code table (the rule coder, the
assistant) stand in as a coder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from csatlib.errors import DataError, require_columns
from csatlib.text.code_tables import _standardize_codes

__all__ = [
    "agreement",
    "agreement_with_coder",
    "codes_as_coder",
    "cohen_kappa",
    "krippendorff_alpha",
]


def cohen_kappa(a: Sequence[Any] | pd.Series, b: Sequence[Any] | pd.Series) -> float:
    """Cohen's kappa of two coders on the same units (nominal codes).

    Parameters
    ----------
    a, b
        Codes of coder 1 and coder 2, aligned by position. Pairs where either is missing are
        dropped.

    Returns
    -------
    float
        Kappa; NaN when chance agreement is 1 (both coders used one and the same code).

    Notes
    -----
    ``kappa = (p_o - p_e) / (1 - p_e)``, ``p_o`` the observed share of agreement, ``p_e =
    sum_k p_a(k) p_b(k)`` from each coder's own marginal distribution. Tested equal to
    ``sklearn.metrics.cohen_kappa_score`` (scikit-learn 1.9).

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and
    Psychological Measurement 20(1), 37-46.
    """
    a_s, b_s = pd.Series(list(a), dtype=object), pd.Series(list(b), dtype=object)
    if len(a_s) != len(b_s):
        raise DataError(f"cohen_kappa: a has {len(a_s)} codes, b has {len(b_s)}; expected equal")
    keep = (a_s.notna() & b_s.notna()).to_numpy()
    a_s, b_s = a_s[keep].astype(str), b_s[keep].astype(str)
    if len(a_s) == 0:
        raise DataError("cohen_kappa: no unit was coded by both coders")
    codes, uniques = pd.factorize(pd.concat([a_s, b_s], ignore_index=True))
    k, n = len(uniques), len(a_s)
    ca, cb = codes[:n], codes[n:]
    p_o = float(np.mean(ca == cb))
    p_e = float(np.dot(np.bincount(ca, minlength=k), np.bincount(cb, minlength=k))) / n**2
    if np.isclose(p_e, 1.0):
        return float("nan")
    return (p_o - p_e) / (1 - p_e)


def krippendorff_alpha(
    data: pd.DataFrame | np.ndarray,
    *,
    level: Literal["nominal", "ordinal", "interval", "ratio"] = "nominal",
) -> float:
    """Krippendorff's alpha for any number of coders, with missing codes.

    Parameters
    ----------
    data
        One row per unit (incident), one column per coder; NaN/None where a coder did not
        code the unit. Values are any hashable codes (nominal) or numbers (other levels).
    level
        Level of measurement: the difference function delta.

    Returns
    -------
    float
        ``alpha = 1 - D_o / D_e``; NaN when the data show a single value (D_e = 0).

    Notes
    -----
    Units with fewer than two codes are not pairable and are dropped. With ``n_uc`` the number
    of coders giving value c to unit u and ``m_u = sum_c n_uc``, the coincidence matrix is
    ``o_ck = sum_u (n_uc n_uk - [c=k] n_uc) / (m_u - 1)``, ``n_c = sum_k o_ck``, ``n = sum_c
    n_c``, ``D_o = sum_ck o_ck delta2_ck / n``, ``D_e = sum_ck n_c n_k delta2_ck / (n (n - 1))``.
    delta2 is ``[c != k]`` (nominal), ``(c - k)^2`` (interval), ``((c - k)/(c + k))^2`` (ratio)
    and ``(sum_{g=c..k} n_g - (n_c + n_k)/2)^2`` (ordinal).

    Tested against the ``krippendorff`` package 0.8 (with missing values, all four levels) and
    Krippendorff's (2011) worked example: 4 observers, 12 units, nominal alpha = 0.743.

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
    Communication, University of Pennsylvania. Krippendorff, K. (2004). Content Analysis: An
    Introduction to Its Methodology, 2nd ed., ch. 11.
    """
    frame = pd.DataFrame(data)
    if frame.shape[1] < 2:
        raise DataError(f"krippendorff_alpha: expected >= 2 coder columns, found {frame.shape[1]}")
    observed = frame.notna().to_numpy()
    unit = np.nonzero(observed)[0]
    long = pd.Series(frame.to_numpy(dtype=object)[observed], dtype=object)
    if level == "nominal":
        value_idx, values = pd.factorize(long.astype(str))
        numeric = None
    else:
        try:
            numbers = pd.to_numeric(long, errors="raise").astype(float)
        except (TypeError, ValueError) as exc:
            raise DataError(f"krippendorff_alpha: level {level!r} needs numbers ({exc})") from None
        numeric = np.unique(numbers.to_numpy())
        value_idx = np.searchsorted(numeric, numbers.to_numpy())
        values = numeric
    n_units, n_values = frame.shape[0], len(values)
    counts = np.zeros((n_units, n_values))
    np.add.at(counts, (unit, value_idx), 1.0)
    m_u = counts.sum(axis=1)
    counts = counts[m_u >= 2]
    m_u = m_u[m_u >= 2]
    if len(m_u) == 0:
        raise DataError("krippendorff_alpha: no unit was coded by two or more coders")
    weighted = counts / (m_u - 1)[:, None]
    coincidence = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    delta2 = _squared_differences(level, numeric, n_c)
    d_o = float((coincidence * delta2).sum()) / n
    d_e = float((np.outer(n_c, n_c) * delta2).sum()) / (n * (n - 1))
    if d_e == 0:
        return float("nan")
    return 1.0 - d_o / d_e


def _squared_differences(level: str, numeric: np.ndarray | None, n_c: np.ndarray) -> np.ndarray:
    """Krippendorff's delta2 between every two values (``n_c``: their coincidence totals)."""
    n_values = len(n_c)
    if level == "nominal":
        return 1.0 - np.eye(n_values)
    if level == "interval":
        return np.subtract.outer(numeric, numeric) ** 2
    if level == "ratio":
        total = np.add.outer(numeric, numeric)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total == 0, 0.0, (np.subtract.outer(numeric, numeric) / total) ** 2)
    if level == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(n_c)])
        lo = np.minimum.outer(np.arange(n_values), np.arange(n_values))
        hi = np.maximum.outer(np.arange(n_values), np.arange(n_values))
        return (cum[hi + 1] - cum[lo] - (n_c[:, None] + n_c[None, :]) / 2) ** 2
    raise DataError(
        f"krippendorff_alpha: level must be nominal, ordinal, interval or ratio, found {level!r}"
    )


def agreement(
    hand_codes_long: pd.DataFrame, *, coders: Sequence[str] | None = None
) -> pd.DataFrame:
    """Inter-coder agreement overall and per attribute (kappa for two coders, alpha for any).

    Parameters
    ----------
    hand_codes_long
        ``incident_id, coder, attribute``: one row per incident x coder x attribute; ``""``
        (or missing) = the coder coded the incident and found no attribute. An incident a coder
        did not code has no row for that coder (missing, not "no attribute"). Use
        :func:`codes_as_coder` to add the rule coder.
    coders
        Coders to compare (default: all in the table).

    Returns
    -------
    pandas.DataFrame
        ``scope, attribute, n_units, n_coders, n_present, percent_agreement, kappa, alpha``.
        ``scope="overall"`` compares the full attribute *set* per incident as one nominal code;
        ``scope="attribute"`` compares presence/absence of one attribute (binary) per incident.
        ``n_units`` incidents coded by at least two of the coders; ``n_present`` of them where
        some coder used the attribute; ``percent_agreement`` share of those units where all
        coders agree; ``kappa`` Cohen's kappa (NaN unless exactly two coders); ``alpha``
        Krippendorff's nominal alpha (uses incidents coded by only some coders too).

    Notes
    -----
    Per-attribute kappa on presence is the usual way to report reliability of multi-label
    coding; the overall set-level code is strict (one differing attribute is a disagreement).

    References
    ----------
    Krippendorff (2011), Cohen (1960); see :func:`krippendorff_alpha`, :func:`cohen_kappa`.
    """
    require_columns(hand_codes_long, ["incident_id", "coder", "attribute"], "agreement")
    long = hand_codes_long[["incident_id", "coder", "attribute"]].astype("string")
    long["attribute"] = long["attribute"].fillna("").str.strip()
    if coders is not None:
        long = long[long["coder"].isin(list(coders))]
    coder_names = list(dict.fromkeys(long["coder"].dropna()))
    if len(coder_names) < 2:
        raise DataError(
            f"agreement: expected codes of at least two coders, found {coder_names or 'none'}"
        )
    label = (
        long.groupby(["incident_id", "coder"])["attribute"]
        .agg(lambda s: "; ".join(sorted({a for a in s if a})))
        .unstack("coder")
        .reindex(columns=coder_names)
    )
    pairable = label.notna().sum(axis=1) >= 2
    attributes = sorted({a for a in long["attribute"] if a})
    real = long[long["attribute"] != ""]
    present = (
        pd.crosstab([real["incident_id"], real["coder"]], real["attribute"]) > 0
        if len(real)
        else pd.DataFrame()
    )

    rows = []
    n_units, agree, kappa, alpha = _agreement_stats(label)
    rows.append(("overall", pd.NA, n_units, len(coder_names), pd.NA, agree, kappa, alpha))
    coded_pairs = pd.MultiIndex.from_frame(long[["incident_id", "coder"]].drop_duplicates())
    for attribute in attributes:
        flag = present[attribute] if attribute in present else pd.Series(dtype=bool)
        values = flag.reindex(coded_pairs, fill_value=False).astype(float)
        wide = values.unstack("coder").reindex(index=label.index, columns=coder_names)
        n_present = int((wide[pairable].fillna(0).sum(axis=1) > 0).sum())
        n_units, agree, kappa, alpha = _agreement_stats(wide)
        rows.append(
            ("attribute", attribute, n_units, len(coder_names), n_present, agree, kappa, alpha)
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "scope",
            "attribute",
            "n_units",
            "n_coders",
            "n_present",
            "percent_agreement",
            "kappa",
            "alpha",
        ],
    )
    out["attribute"] = out["attribute"].astype("string")
    out["n_present"] = out["n_present"].astype("Int64")
    return out


def _agreement_stats(wide: pd.DataFrame) -> tuple[int, float, float, float]:
    """``n_units, percent_agreement, kappa, alpha`` of one code per unit (rows) and coder."""
    both = wide[wide.notna().sum(axis=1) >= 2]
    n_units = len(both)
    if n_units == 0:
        return 0, np.nan, np.nan, np.nan
    agree = float((both.nunique(axis=1, dropna=True) == 1).mean())
    kappa = np.nan
    if wide.shape[1] == 2:
        complete = both.dropna()
        if len(complete):
            kappa = cohen_kappa(complete.iloc[:, 0], complete.iloc[:, 1])
    alpha = krippendorff_alpha(wide, level="nominal")
    return n_units, agree, kappa, alpha


def codes_as_coder(codes: pd.DataFrame, incident_ids: Iterable[str], *, coder: str) -> pd.DataFrame:
    """Turn a code table into the long coder format of :func:`agreement`.

    Parameters
    ----------
    codes
        Any code table (e.g. rule codes).
    incident_ids
        Incidents this "coder" looked at; those without a code get ``attribute=""``.
    coder
        Name in the ``coder`` column.

    Returns
    -------
    pandas.DataFrame
        ``incident_id, coder, attribute`` (``""`` = no attribute).
    """
    ids = pd.Series(list(dict.fromkeys(map(str, incident_ids))), dtype="string")
    codes = _standardize_codes(codes)
    got = codes[codes["incident_id"].isin(ids)].dropna(subset=["attribute"])
    got = got[["incident_id", "attribute"]].drop_duplicates()
    empty = pd.DataFrame({"incident_id": ids[~ids.isin(got["incident_id"])], "attribute": ""})
    out = pd.concat([got, empty], ignore_index=True).assign(coder=coder)
    return out[["incident_id", "coder", "attribute"]].astype("string").reset_index(drop=True)


def agreement_with_coder(
    codes: pd.DataFrame, hand_codes: pd.DataFrame, *, as_coder: str = "rule"
) -> pd.DataFrame:
    """Agreement of a code table (e.g. the rule coder's) with one person's hand codes.

    Parameters
    ----------
    codes
        Any code table, e.g. rule codes from :func:`csatlib.text.coding.code_incidents`.
    hand_codes
        One coder's hand codes (``incident_id, coder, attribute``), e.g. the adjudicated
        coder's from :func:`csatlib.text.workflow.coder_codes`. The incidents they cover are
        the units compared; an incident ``codes`` has no code for counts as "no attribute".
    as_coder
        Name of ``codes`` in the ``coder`` column of the comparison.

    Returns
    -------
    pandas.DataFrame
        As :func:`agreement` with two coders: the hand coder and ``as_coder``.

    Raises
    ------
    DataError
        ``hand_codes`` hold no coder or several, or ``as_coder`` is the hand coder's name.
    """
    require_columns(hand_codes, ["incident_id", "coder", "attribute"], "agreement_with_coder")
    hand_coders = list(dict.fromkeys(hand_codes["coder"].dropna().astype(str)))
    if len(hand_coders) != 1:
        raise DataError(
            f"agreement_with_coder: hand_codes must hold one coder's codes, found "
            f"{hand_coders or 'none'}; pass e.g. workflow.coder_codes(hand_codes, 'coder_a')"
        )
    if as_coder == hand_coders[0]:
        raise DataError(
            f"agreement_with_coder: as_coder {as_coder!r} is also the hand coder's name; "
            "choose another"
        )
    long = pd.concat(
        [
            hand_codes[["incident_id", "coder", "attribute"]],
            codes_as_coder(codes, hand_codes["incident_id"], coder=as_coder),
        ]
    )
    return agreement(long, coders=[hand_coders[0], as_coder])
