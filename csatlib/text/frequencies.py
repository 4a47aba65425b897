"""CIT results: how often each benefit or attribute is mentioned, and the top ones with quotes.

:func:`cit_frequencies` counts mentions per group and valence with small-cell suppression;
:func:`share_table` shows those shares as one row per group and valence, one column per
category; :func:`top_incidents` picks one country's most mentioned benefits with example quotes
and, for dislikes, what went wrong on each (the problems of its most mentioned attributes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from csatlib import roles
from csatlib.config import DEFAULT_MIN_N
from csatlib.errors import DataError, require_columns
from csatlib.text.cit_codebook import CitCodebook, default_problem
from csatlib.text.code_tables import _standardize_codes
from csatlib.validation import check_min_n

__all__ = ["cit_frequencies", "share_table", "top_incidents"]


def cit_frequencies(
    incidents: pd.DataFrame,
    codes: pd.DataFrame,
    *,
    by: Sequence[str] = ("country",),
    level: Literal["benefit", "attribute"] = "benefit",
    min_n: int = DEFAULT_MIN_N,
    codebook: CitCodebook | None = None,
) -> pd.DataFrame:
    """How often each benefit (or attribute) is mentioned, per group and valence.

    Parameters
    ----------
    incidents
        From :func:`~csatlib.text.coding.split_incidents` (``by`` columns, ``valence``).
    codes
        Merged codes (:func:`~csatlib.text.code_tables.merge_codes`) or rule codes.
    by
        Grouping columns of ``incidents`` (``()`` for the whole sample).
    level
        Count benefits or attributes.
    min_n
        Groups x valence listed by fewer respondents are suppressed: the small-cell rule is
        about people, and one respondent's long list is many incidents.
    codebook
        Optional; adds ``label`` and lists every category of the codebook (else only those
        found in ``codes``).

    Returns
    -------
    pandas.DataFrame
        ``*by, valence, <level>, [benefit,] [label,] n, respondents, count, share,
        suppressed``: ``n`` the incidents of that valence in the group, ``respondents`` the
        respondents they come from, ``count`` the incidents coded with the category (an
        incident counts once per category even with several of its attributes),
        ``share = count / n``. Where ``respondents < min_n``: ``suppressed=True`` and
        ``count``/``share`` missing.

    Notes
    -----
    The valence of a *code* is used: a like coded as a negated attribute ("not on time")
    counts as a negative incident. ``n`` therefore counts each incident under the valence of
    its field and, in addition, under any other valence one of its codes has; so ``share`` is
    at most 1.
    """
    by = list(by)
    if level not in ("benefit", "attribute"):
        raise DataError(f"cit_frequencies: level must be 'benefit' or 'attribute', found {level!r}")
    require_columns(incidents, ["incident_id", "valence", *by], "cit_frequencies")
    codes = _standardize_codes(codes).dropna(subset=["attribute"])
    inc = incidents[["incident_id", "valence", *by]].copy()
    inc["incident_id"] = inc["incident_id"].astype("string")
    inc["_respondent"] = _respondents(incidents)
    groups = inc.drop(columns=["valence", "_respondent"])
    base = pd.concat(
        [
            inc[["incident_id", "valence"]],
            codes[["incident_id", "valence"]],
        ],
        ignore_index=True,
    ).drop_duplicates()
    base = base.merge(inc[["incident_id", "_respondent", *by]], on="incident_id", how="inner")
    keys = [*by, "valence"]
    grouped = base.groupby(keys, dropna=False, observed=True)
    n = pd.concat(
        [grouped.size().rename("n"), grouped["_respondent"].nunique().rename("respondents")],
        axis=1,
    )
    hits = (
        codes[["incident_id", "valence", level]]
        .drop_duplicates()
        .merge(groups, on="incident_id", how="inner")
    )
    count = hits.groupby([*keys, level], dropna=False, observed=True).size().rename("count")
    if codebook is not None:
        categories = (
            codebook.benefits["benefit"] if level == "benefit" else codebook.attributes["attribute"]
        ).tolist()
    else:
        categories = sorted(codes[level].dropna().unique())
    # typed as text even when there is none (no code at all, and no codebook to list them)
    listed = pd.DataFrame({level: pd.Series(categories, dtype="string")})
    cells = n.reset_index().merge(listed, how="cross")
    out = cells.merge(count.reset_index(), on=[*keys, level], how="left")
    out["count"] = out["count"].fillna(0)
    out["suppressed"] = out["respondents"] < min_n
    out["share"] = out["count"] / out["n"]
    out.loc[out["suppressed"], ["count", "share"]] = np.nan
    out["count"] = out["count"].astype("Float64").astype("Int64")
    if level == "attribute":
        benefit_of = (
            codebook.benefit_of()
            if codebook is not None
            else dict(zip(codes["attribute"], codes["benefit"], strict=False))
        )
        out.insert(len(keys) + 1, "benefit", out["attribute"].map(benefit_of).astype("string"))
    if codebook is not None:
        table = codebook.benefits if level == "benefit" else codebook.attributes
        out.insert(
            len(keys) + (2 if level == "attribute" else 1),
            "label",
            out[level].map(dict(zip(table[level], table["label"], strict=True))),
        )
    out = out.astype({"n": "int64", "respondents": "int64"})
    columns = [c for c in out.columns if c not in ("share", "suppressed")] + ["share", "suppressed"]
    return out[columns].sort_values([*keys, level], kind="stable").reset_index(drop=True)


def _respondents(incidents: pd.DataFrame) -> pd.Series:
    """Each incident's respondent: its ``response_id``, else the id its ``incident_id``
    begins with (``"<response_id>|<field>|<position>"``,
    :func:`csatlib.text.coding.split_incidents`)."""
    if "response_id" in incidents.columns:
        return incidents["response_id"].astype("string")
    return incidents["incident_id"].astype("string").str.rsplit("|", n=2).str[0]


def share_table(
    incidents: pd.DataFrame,
    codes: pd.DataFrame,
    *,
    level: Literal["benefit", "attribute"] = "benefit",
    by: Sequence[str] = ("country",),
    min_n: int = DEFAULT_MIN_N,
    codebook: CitCodebook | None = None,
    respondents: pd.DataFrame | None = None,
    id_col: str | None = None,
) -> pd.DataFrame:
    """Percent of incidents mentioning each benefit (or attribute), a row per group and valence.

    Parameters
    ----------
    incidents, codes, level, by, min_n, codebook
        As for :func:`cit_frequencies`.
    respondents
        Optional responses whose incidents alone are counted, e.g.
        ``roles.own_customers(responses)`` for own-brand customers; default every incident.
    id_col
        Response id column of ``respondents`` (matched with ``incidents["response_id"]``);
        default its column with codebook role ``id``, else ``response_id``.

    Returns
    -------
    pandas.DataFrame
        Index ``*by, valence, n`` (``n`` as in :func:`cit_frequencies`); one column per
        category, named by its label when ``codebook`` is given (else by its id), in
        alphabetical order; values ``100 * share``, NaN where the cell is suppressed
        (``n < min_n``).
    """
    if respondents is not None:
        id_col = id_col or roles.id_column(respondents)
        require_columns(respondents, [id_col], "share_table")
        require_columns(incidents, ["response_id"], "share_table")
        ids = respondents[id_col].astype("string").str.strip()
        incidents = incidents[incidents["response_id"].astype("string").isin(ids)]
    freq = cit_frequencies(incidents, codes, by=by, level=level, min_n=min_n, codebook=codebook)
    shares = freq.pivot(
        index=[*by, "valence", "n"],
        columns="label" if codebook is not None else level,
        values="share",
    )
    return 100 * shares


def top_incidents(
    incidents: pd.DataFrame,
    codes: pd.DataFrame,
    *,
    country: str,
    valence: Literal["positive", "negative"],
    k: int = 3,
    quotes: int = 2,
    problems: int = 2,
    min_n: int = DEFAULT_MIN_N,
    seed: int = 0,
    codebook: CitCodebook | None = None,
) -> pd.DataFrame:
    """The ``k`` most mentioned benefits of one country and valence, with example quotes.

    Parameters
    ----------
    incidents, codes
        As for :func:`cit_frequencies`.
    country
        ISO alpha-2 code as in ``incidents["country"]``.
    valence
        ``"positive"`` (likes) or ``"negative"`` (dislikes).
    k
        Number of benefits.
    quotes
        Example incidents per benefit, drawn at random (``seed``) among those coded with it;
        only for a benefit that at least ``min_n`` respondents mention.
    problems
        Dislikes only: how many of a benefit's most mentioned attributes name what went wrong.
    min_n
        Nothing but ``n`` is shown when fewer respondents of the country listed an item of
        this valence.
    seed
        Seed of the quote draw.
    codebook
        Optional; adds the benefit ``label`` and words each attribute's problem (its
        ``problem`` entry).

    Returns
    -------
    pandas.DataFrame
        ``rank, benefit, [label,] problem, n, count, share, quote, suppressed``, one row per
        quote (a benefit with fewer coded incidents than ``quotes`` has fewer rows). ``quote`` is
        the raw incident text: escape it before rendering. ``problem`` (dislikes; missing for
        likes) says what went wrong on the benefit in this country: the problem wordings of its
        ``problems`` most mentioned attributes among this valence's codes, most mentioned first
        (ties by attribute id), joined by ``", "`` — e.g. ``"too expensive, unfair or
        complicated licence terms"``. An attribute without a ``problem`` in the codebook, or
        every attribute when no codebook is given, is worded by
        :func:`~csatlib.text.cit_codebook.default_problem`. No response, incident or account
        ids. When fewer than ``min_n`` respondents listed one: a single row with ``n`` (those
        respondents), ``suppressed=True`` and missing everything else.
    """
    if valence not in ("positive", "negative"):
        raise DataError(f"top_incidents: valence must be positive or negative, found {valence!r}")
    require_columns(incidents, ["incident_id", "country", "valence", "text"], "top_incidents")
    problems = check_min_n(problems, func="top_incidents", param="problems")
    inc = incidents[incidents["country"].astype("string") == country]
    freq = cit_frequencies(
        inc, codes, by=("country",), level="benefit", min_n=min_n, codebook=codebook
    )
    freq = freq[freq["valence"] == valence]
    has_label = codebook is not None
    columns = ["rank", "benefit", *(["label"] if has_label else []), "problem", "n", "count",
               "share", "quote", "suppressed"]  # fmt: skip
    respondents = int(freq["respondents"].iloc[0]) if len(freq) else 0
    if respondents < min_n:  # too few people listed a like (dislike) here: nothing but n
        row = {c: pd.NA for c in columns}
        row.update({"n": respondents, "suppressed": True})
        return pd.DataFrame([row], columns=columns).astype({"n": "int64", "suppressed": bool})
    top = freq[freq["count"] > 0].sort_values(["count", "benefit"], ascending=[False, True]).head(k)
    top = top.assign(rank=np.arange(1, len(top) + 1))
    wording = (
        _benefit_problems(inc, codes, valence=valence, problems=problems, codebook=codebook)
        if valence == "negative"
        else pd.Series(dtype="string")
    )
    top["problem"] = top["benefit"].map(wording).astype("string")
    codes = _standardize_codes(codes).dropna(subset=["attribute"])
    pool = (
        codes.loc[
            codes["valence"].eq(valence) & codes["benefit"].isin(top["benefit"]),
            ["incident_id", "benefit"],
        ]
        .drop_duplicates()
        .merge(inc[["incident_id", "text"]].astype({"incident_id": "string"}), on="incident_id")
        .sort_values(["benefit", "incident_id"], kind="stable")
    )
    pool["_key"] = np.random.default_rng(seed).random(len(pool))
    # quotes only of a benefit that at least min_n respondents mention: a quote of one of a
    # few customers could tell who wrote it
    people = pool.assign(_who=_respondents(pool)).groupby("benefit")["_who"].nunique()
    pool = pool.loc[pool["benefit"].map(people).fillna(0).to_numpy() >= min_n]
    picked = pool.sort_values(["benefit", "_key"]).groupby("benefit").head(quotes)
    quoted = picked[["benefit", "text"]].rename(columns={"text": "quote"})
    out = top.merge(quoted, on="benefit", how="left")  # a benefit without quotes keeps its row
    out = out.sort_values(["rank"], kind="stable")
    out["suppressed"] = False
    return out[columns].reset_index(drop=True)


def _benefit_problems(
    incidents: pd.DataFrame,
    codes: pd.DataFrame,
    *,
    valence: str,
    problems: int,
    codebook: CitCodebook | None,
) -> pd.Series:
    """Benefit -> the problem wordings of its ``problems`` most mentioned attributes, joined."""
    freq = cit_frequencies(incidents, codes, by=(), level="attribute", min_n=1, codebook=codebook)
    freq = freq[(freq["valence"] == valence) & (freq["count"] > 0)]
    freq = freq.sort_values(
        ["benefit", "count", "attribute"], ascending=[True, False, True], kind="stable"
    )
    top = freq.groupby("benefit", sort=False).head(problems)
    given = (
        dict(zip(codebook.attributes["attribute"], codebook.attributes["problem"], strict=True))
        if codebook is not None
        else {}
    )
    wording = [given.get(a) or default_problem(str(a).replace("_", " ")) for a in top["attribute"]]
    return pd.Series(wording, index=top.index).groupby(top["benefit"]).agg(", ".join)
