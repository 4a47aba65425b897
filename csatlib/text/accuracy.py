"""How right the rule coder is: precision and recall against hand codes, with Wilson intervals.

:func:`coder_accuracy` compares any code table (the rule coder's) with people's hand codes of
the same incidents; :func:`rule_coder_accuracy` does the whole measurement for a report: split the
study's answers, read its hand-coded sample, rule-code those incidents and compare. The country
report states the result in one sentence under "What customers like and dislike".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from csatlib import roles
from csatlib.config import DEFAULT_CONF
from csatlib.errors import DataError
from csatlib.text.cit_codebook import load_cit_codebook
from csatlib.text.code_tables import _standardize_codes
from csatlib.text.coding import code_incidents, split_incidents
from csatlib.text.hand_coding import _clean_column, _read_sheet, import_hand_codes
from csatlib.validation import check_conf, require_columns

__all__ = ["CoderAccuracy", "coder_accuracy", "rule_coder_accuracy"]


@dataclass(frozen=True)
class CoderAccuracy:
    """Precision and recall of a coder against hand codes (from :func:`coder_accuracy`).

    Attributes
    ----------
    precision, precision_ci_low, precision_ci_high
        Share of the attributes the coder assigned that the hand coders assigned too, with its
        Wilson interval (0..1; NaN when it assigned none).
    recall, recall_ci_low, recall_ci_high
        Share of the hand coders' attributes the coder assigned too, with its Wilson interval.
    n_assigned
        The coder's attribute codes on the hand-coded incidents (precision's n).
    n_hand
        The hand coders' attribute codes, averaged over the coders of each incident (recall's
        n; a whole number when each incident has one coder).
    matches
        Codes in common, averaged the same way (the numerator of both shares).
    n_incidents
        Hand-coded incidents compared.
    n_coders
        Hand coders.
    conf
        Confidence level of the intervals.
    n_not_found
        Hand-coded incidents no longer among the study's (an edited export): left out of the
        comparison and reported (:func:`rule_coder_accuracy`).
    """

    precision: float
    precision_ci_low: float
    precision_ci_high: float
    recall: float
    recall_ci_low: float
    recall_ci_high: float
    n_assigned: int
    n_hand: float
    matches: float
    n_incidents: int
    n_coders: int
    conf: float
    n_not_found: int = 0


def _wilson(count: float, n: float, conf: float) -> tuple[float, float, float]:
    """Share ``count / n`` and its Wilson interval; NaN when ``n == 0``."""
    if n <= 0:
        return np.nan, np.nan, np.nan
    low, high = proportion_confint(count, n, alpha=1.0 - conf, method="wilson")
    return count / n, float(low), float(high)


def coder_accuracy(
    codes: pd.DataFrame, hand_codes: pd.DataFrame, *, conf: float = DEFAULT_CONF
) -> CoderAccuracy:
    """Precision and recall of a code table against hand codes of the same incidents.

    Parameters
    ----------
    codes
        Any code table with ``incident_id, attribute``, e.g. rule codes from
        :func:`csatlib.text.coding.code_incidents`. Only incidents in ``hand_codes`` count; an
        incident without a code has no attribute.
    hand_codes
        ``incident_id, coder, attribute`` (e.g. from
        :func:`csatlib.text.hand_coding.import_hand_codes`): one row per incident, coder and
        attribute; a missing or empty attribute means the coder found none. One coder or several
        (each incident weighs the same whatever the number of its coders).
    conf
        Confidence level of the Wilson intervals.

    Returns
    -------
    CoderAccuracy
        Precision and recall with intervals, and their n.

    Raises
    ------
    DataError
        Missing columns, no hand-coded incident, or ``conf`` outside (0, 1).

    Notes
    -----
    For hand-coded incident :math:`i` let :math:`R_i` be the attributes the coder assigned,
    :math:`C_i` the hand coders who coded it (:math:`m_i = |C_i|`) and :math:`H_{ic}` the
    attributes coder :math:`c` assigned (empty for "none"). Codes are compared per incident and
    attribute, whatever their valence. With

    .. math:: x = \\sum_i \\frac{1}{m_i} \\sum_{c \\in C_i} |R_i \\cap H_{ic}|, \\quad
              n_P = \\sum_i |R_i|, \\quad n_R = \\sum_i \\frac{1}{m_i} \\sum_{c \\in C_i} |H_{ic}|

    precision is :math:`x / n_P` and recall :math:`x / n_R`: each code the coder assigned scores
    the share of the incident's hand coders who assigned it too, and each hand code counts
    :math:`1/m_i`. With one hand coder these are the textbook micro-averaged precision and recall
    (Manning, Raghavan & Schütze 2008, §8.3 and §13.6: true positives over the coder's codes,
    and over the reference codes). Averaging over the coders keeps :math:`n` at the number of
    codes (two coders do not double it).

    The intervals are Wilson score intervals of :math:`\\hat p = x/n` with :math:`z =
    z_{1-\\alpha/2}`:

    .. math:: \\frac{\\hat p + z^2/(2n) \\pm z \\sqrt{\\hat p(1-\\hat p)/n + z^2/(4n^2)}}
              {1 + z^2/n}

    computed by statsmodels ``proportion_confint(method="wilson")`` (as
    :func:`csatlib.stats.scores.top_box`). With several coders a code's score is a share in
    [0, 1] whose variance is at most :math:`p(1-p)`, so the binomial interval is conservative;
    codes of one incident are treated as independent. Tested against the closed forms above on
    hand-computed examples and, for one coder, against scikit-learn's ``precision_score`` and
    ``recall_score`` with ``average="micro"`` (tests/text/test_accuracy.py).

    References
    ----------
    Manning, C. D., Raghavan, P., & Schütze, H. (2008). Introduction to Information Retrieval,
    ch. 8 (evaluation: precision and recall) and §13.6 (micro-averaging). Cambridge UP.
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    JASA, 22(158), 209-212.
    """
    conf = check_conf(conf, func="coder_accuracy")
    require_columns(codes, ["incident_id", "attribute"], "coder_accuracy (codes)")
    require_columns(
        hand_codes, ["incident_id", "coder", "attribute"], "coder_accuracy (hand_codes)"
    )
    hand = hand_codes[["incident_id", "coder", "attribute"]].astype("string")
    hand["attribute"] = hand["attribute"].str.strip().replace("", pd.NA)
    hand = hand.dropna(subset=["incident_id", "coder"]).drop_duplicates()
    if hand.empty:
        raise DataError("coder_accuracy: hand_codes hold no hand-coded incident")
    m = hand.groupby("incident_id")["coder"].nunique()
    n_coders = int(hand["coder"].nunique())
    weight = 1.0 / m
    assigned = _standardize_codes(codes).dropna(subset=["attribute"])
    assigned = assigned.loc[assigned["incident_id"].isin(m.index), ["incident_id", "attribute"]]
    assigned = assigned.drop_duplicates()
    hand = hand.dropna(subset=["attribute"])
    hand_w = hand["incident_id"].map(weight).to_numpy(dtype=float)
    found = pd.MultiIndex.from_frame(hand[["incident_id", "attribute"]]).isin(
        pd.MultiIndex.from_frame(assigned)
    )
    matches = float(hand_w[found].sum())
    n_assigned, n_hand = len(assigned), float(hand_w.sum())
    precision = _wilson(matches, n_assigned, conf)
    recall = _wilson(matches, n_hand, conf)
    return CoderAccuracy(
        *precision,
        *recall,
        n_assigned=n_assigned,
        n_hand=n_hand,
        matches=matches,
        n_incidents=len(m),
        n_coders=n_coders,
        conf=conf,
    )


def rule_coder_accuracy(
    responses: pd.DataFrame,
    *,
    codebook_path: str | Path | Mapping[str, Any],
    hand_codes_path: str | Path,
    fields: Mapping[str, str] | None = None,
    id_col: str | None = None,
    conf: float = DEFAULT_CONF,
) -> CoderAccuracy | None:
    """The rule coder's precision and recall on the study's hand-coded sample.

    Parameters
    ----------
    responses
        Every response of the study whose incidents were hand-coded (all countries and waves:
        the sample is drawn from the whole study).
    codebook_path
        The CIT codebook (``config.CIT_CODEBOOK``).
    hand_codes_path
        The hand codes (``config.CIT_HAND_CODES``): ``incident_id, coder, attribute``, read by
        :func:`csatlib.text.hand_coding.import_hand_codes`.
    fields, id_col
        As for :func:`csatlib.text.coding.split_incidents`.
    conf
        Confidence level.

    Returns
    -------
    CoderAccuracy or None
        :func:`coder_accuracy` of the rule codes of the hand-coded incidents against every
        hand coder's codes; None when the study has no hand-coded sample: no file, a file
        without codes, or a file none of whose incidents is among these responses' (the sample
        of another study, e.g. the project's default raw folder read for a study whose own
        folder has none). The precision has then not been measured.

    Raises
    ------
    DataError
        The hand codes name an attribute the codebook lacks, or a malformed row (file and row
        named). Hand-coded incidents that are no longer among these responses' (an edited
        export) are left out and counted in ``n_not_found``, not an error: the report states
        them.
    """
    if not Path(hand_codes_path).is_file():
        return None
    codebook = load_cit_codebook(codebook_path)
    where, sheet = _read_sheet(hand_codes_path)
    require_columns(sheet, ["incident_id"], where)
    named = set(_clean_column(sheet, "incident_id").astype(str))
    # incident ids are "<response_id>|<field>|<position>" (split_incidents): split only the
    # responses the sheet names, not the whole study
    ids = {i.rsplit("|", 2)[0] for i in named}
    id_col = id_col or roles.id_column(responses)
    rows = responses.loc[responses[id_col].astype(str).isin(ids).to_numpy()]
    incidents = split_incidents(rows, id_col=id_col, fields=fields, country_col=None)
    found = named & set(incidents["incident_id"].astype(str))
    if not found:
        return None
    matched = sheet.loc[_clean_column(sheet, "incident_id").astype(str).isin(found).to_numpy()]
    hand = import_hand_codes(
        hand_codes_path if len(found) == len(named) else matched, incidents, codebook=codebook
    )
    sample = incidents[incidents["incident_id"].isin(hand["incident_id"]).to_numpy()]
    result = coder_accuracy(code_incidents(sample, codebook), hand, conf=conf)
    return replace(result, n_not_found=len(named) - len(found))
