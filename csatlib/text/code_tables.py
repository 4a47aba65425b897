"""Code tables: the columns every coder's codes share, merging them, and coverage.

Every code table (rule codes from :mod:`csatlib.text.coding`, hand codes from
:mod:`csatlib.text.hand_coding`, model codes from :mod:`csatlib.text.assistant`, and their merge)
has the columns of :data:`CODE_COLUMNS`: ``incident_id, attribute, benefit, valence, method,
coder, negated, matched_text, score``. ``attribute`` is ``<NA>`` on a hand-code row that says
"no attribute applies". :func:`merge_codes` combines them per incident (hand > rule > model);
:func:`coverage` tells how much is coded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csatlib.errors import DataError, require_columns

__all__ = ["CODE_COLUMNS", "coverage", "merge_codes"]

#: Columns of every code table.
CODE_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "attribute",
    "benefit",
    "valence",
    "method",
    "coder",
    "negated",
    "matched_text",
    "score",
)


def _empty_codes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": pd.array([], dtype="string"),
            "attribute": pd.array([], dtype="string"),
            "benefit": pd.array([], dtype="string"),
            "valence": pd.array([], dtype="string"),
            "method": pd.array([], dtype="string"),
            "coder": pd.array([], dtype="string"),
            "negated": pd.array([], dtype="boolean"),
            "matched_text": pd.array([], dtype="string"),
            "score": pd.array([], dtype="float64"),
        }
    )


def _standardize_codes(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in CODE_COLUMNS:
        if column not in out.columns:
            out[column] = pd.NA if column != "score" else np.nan
    out = out[list(CODE_COLUMNS)]
    for column in ("incident_id", "attribute", "benefit", "valence", "method", "coder"):
        out[column] = out[column].astype("string")
    out["matched_text"] = out["matched_text"].astype("string")
    out["negated"] = out["negated"].astype("boolean")
    out["score"] = pd.to_numeric(out["score"], errors="coerce").astype("float64")
    return out.reset_index(drop=True)


def _one_coder_per_incident(hand: pd.DataFrame, what: str) -> None:
    n_coders = hand.groupby("incident_id")["coder"].nunique()
    several = n_coders[n_coders > 1]
    if len(several):
        names = sorted(hand.loc[hand["incident_id"].isin(several.index), "coder"].unique())
        raise DataError(
            f"{what}: {len(several)} incident(s) (e.g. {several.index[0]!r}) were coded by "
            f"several coders ({', '.join(names)}); pass one coder's codes (or the adjudicated "
            "ones), e.g. hand_codes[hand_codes['coder'] == 'coder_a']"
        )


def _check_method(codes: pd.DataFrame, expected: str, what: str) -> pd.DataFrame:
    codes = _standardize_codes(codes)
    wrong = codes["method"].dropna()
    wrong = wrong[wrong != expected]
    if len(wrong):
        raise DataError(
            f"merge_codes: {what} must have method={expected!r}, found {wrong.iloc[0]!r}"
        )
    return codes


def merge_codes(
    rule_codes: pd.DataFrame,
    hand_codes: pd.DataFrame,
    model_codes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Combine codes per incident with the precedence hand > rule > model.

    Parameters
    ----------
    rule_codes
        From :func:`~csatlib.text.coding.code_incidents` (``method="rule"``).
    hand_codes
        From :func:`~csatlib.text.hand_coding.import_hand_codes` (``method="hand"``), one
        coder per incident.
    model_codes
        From :func:`~csatlib.text.assistant.suggest` (``method="model"``), optional.

    Returns
    -------
    pandas.DataFrame
        :data:`CODE_COLUMNS`. For an incident with hand codes, only its hand codes (including a
        "no attribute" decision, ``attribute=<NA>``); else its rule codes; model suggestions
        only for incidents that have neither, so a model never overrides a person or a rule.

    Raises
    ------
    DataError
        An input carries another method, or an incident was hand-coded by several coders.
    """
    rule = _check_method(rule_codes, "rule", "rule_codes")
    hand = _check_method(hand_codes, "hand", "hand_codes")
    _one_coder_per_incident(hand, "merge_codes")
    parts = [hand, rule[~rule["incident_id"].isin(hand["incident_id"])]]
    if model_codes is not None:
        model = _check_method(model_codes, "model", "model_codes")
        taken = set(hand["incident_id"]) | set(rule["incident_id"])
        parts.append(model[~model["incident_id"].isin(taken)])
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_codes()
    return _standardize_codes(pd.concat(parts, ignore_index=True))


def coverage(incidents: pd.DataFrame, codes: pd.DataFrame) -> pd.DataFrame:
    """Share of incidents with at least one attribute, by coding method and valence.

    Parameters
    ----------
    incidents
        From :func:`~csatlib.text.coding.split_incidents`.
    codes
        Any code table (rule, hand, model or merged).

    Returns
    -------
    pandas.DataFrame
        ``valence, method, n, coded, share``: ``n`` incidents of that valence (the field they
        were written in; ``"all"`` = both), ``coded`` incidents with an attribute from that
        method (``"any"`` = from any method), ``share = coded / n``.
    """
    require_columns(incidents, ["incident_id", "valence"], "coverage")
    codes = _standardize_codes(codes).dropna(subset=["attribute"])
    inc = incidents[["incident_id", "valence"]].astype("string")
    inc = pd.concat([inc, inc.assign(valence="all")], ignore_index=True)
    pairs = codes[["incident_id", "method"]].drop_duplicates()
    pairs = pd.concat(
        [pairs, pairs.assign(method="any").drop_duplicates()], ignore_index=True
    ).drop_duplicates()
    methods = [m for m in ("hand", "rule", "model") if m in set(pairs["method"])] + ["any"]
    n = inc.groupby("valence").size()
    joined = inc.merge(pairs, on="incident_id", how="inner")
    coded = joined.groupby(["valence", "method"]).size()
    index = pd.MultiIndex.from_product(
        [[v for v in ("positive", "negative", "all") if v in n.index], methods],
        names=["valence", "method"],
    )
    out = coded.reindex(index, fill_value=0).rename("coded").reset_index()
    out.insert(2, "n", out["valence"].map(n).astype("int64"))
    out["coded"] = out["coded"].astype("int64")
    out["share"] = out["coded"] / out["n"]
    return out
