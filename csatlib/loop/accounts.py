"""Customer as the unit: match account names to one key, summarize accounts, flag the ones at risk.

The relationship survey, the transaction survey and the revenue file spell the same customer in
many ways ("Müller GmbH", "MUELLER GMBH", "Muller").  :func:`normalize_account_name` reduces a name
to a matching key, :func:`match_accounts` groups names into accounts (alias file > exact key >
fuzzy match, ambiguous pairs listed for review and never merged), :func:`account_summary` computes
account-level aggregates and the at-risk flag (:class:`AtRiskRule`), :func:`at_risk_list` is the
list for account managers (aggregates only; small accounts show no numbers) and
:func:`revenue_linkage` relates the accounts' satisfaction to their revenue change.

Nothing here names a survey's columns: the recommend question, the account column, the attributes
and the loyalty items are read from the processed table's codebook roles (``df.attrs``, see
:mod:`csatlib.roles`) unless the caller names them.  A study without loyalty items is assessed
without the loyalty criterion (:func:`study_rule`); attributes on different scales are compared
on a common 0-100 rescaling.  See docs/closing_the_loop.md for the rules and why.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components

from csatlib import roles
from csatlib.config import DEFAULT_CONF, DEFAULT_MIN_N
from csatlib.errors import DataError
from csatlib.ingest.countries import country_name
from csatlib.safety import write_csv_safely
from csatlib.stats.loyalty import loyalty_index
from csatlib.stats.nps import nps_wave_change
from csatlib.validation import check_conf, check_min_n, require_columns

__all__ = [
    "LEGAL_FORMS",
    "DEFAULT_ACCOUNT_MIN_N",
    "MIN_LOYALTY_ITEMS",
    "DECLINE_ALPHA",
    "AT_RISK_LIST_COLUMNS",
    "AccountMatch",
    "AtRiskRule",
    "RevenueLinkage",
    "study_rule",
    "normalize_account_name",
    "legal_form",
    "match_accounts",
    "assign_accounts",
    "account_summary",
    "country_weakest_attributes",
    "at_risk_list",
    "at_risk_counts",
    "ROUTING_HEADERS",
    "account_list_for_people",
    "write_account_lists",
    "revenue_linkage",
]

#: Smallest number of respondents for which an account's scores are shown to account managers.
#: Separate from (and much smaller than) the reporting ``DEFAULT_MIN_N``: an account list is read by
#: people who know the account, so the rule protects individuals, not precision.
DEFAULT_ACCOUNT_MIN_N: int = 3

#: Fewest loyalty items (role ``loyalty``) for a loyalty index in the account summary.  With one
#: item the "index" is that one answer and its reliability cannot be checked (Cronbach's alpha
#: needs two items), so a study with fewer is assessed without the loyalty criterion.
MIN_LOYALTY_ITEMS: int = 2

#: Level of the test that flags an account's NPS fall since the previous wave as ``declined``
#: (:func:`account_summary`).  Per account, no multiplicity correction: the flag puts an account
#: on a list to look at, it is not a finding about the study.
DECLINE_ALPHA: float = 0.05

#: Legal forms removed from the end of a name (after casefolding, accent folding and removing dots,
#: so "S.p.A." is "spa" and "K.K." is "kk").  Multi-word forms are matched as a whole.
# fmt: off
LEGAL_FORMS: tuple[str, ...] = (
    # English
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc",
    "llp", "lp", "plc", "pty", "pte", "pvt", "private limited",
    # German / Austrian / Swiss
    "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "ug haftungsbeschrankt", "se", "eg",
    "aktiengesellschaft", "gesellschaft mit beschrankter haftung",
    # French / Belgian / Luxembourgish
    "sa", "sas", "sasu", "sarl", "eurl", "sca", "scs", "snc", "cie", "et cie", "bvba", "sprl",
    # Italian / Spanish / Portuguese / Latin America
    "spa", "srl", "srls", "sapa", "sl", "slu", "ltda", "cv", "sa de cv", "sab de cv", "eireli",
    # Dutch, Nordic, Central Europe
    "bv", "nv", "vof", "ab", "as", "asa", "a s", "aps", "oy", "oyj", "sro", "sp zoo", "zrt", "kft",
    # Japan, Malaysia
    "kk", "kabushiki kaisha", "kabushiki gaisha", "yugen kaisha", "godo kaisha", "sdn bhd", "bhd",
)
# fmt: on
# Japanese legal forms are written without spaces, before or after the name.
_CJK_LEGAL = re.compile("株式会社|有限会社|合同会社|（株）|\\(株\\)")

_legal_alt = "|".join(re.escape(f) for f in sorted(set(LEGAL_FORMS), key=len, reverse=True))
_TRAILING_LEGAL = re.compile(
    rf"^(?P<core>.*?)(?P<legal>(?:\s+(?:(?:and|und|et|y|e)\s+)?(?:{_legal_alt}))*)$"
)
_LEADING = re.compile(r"^(?:the|kabushiki kaisha|kabushiki gaisha|kk)\s+(?=\S)")
# Letters that Unicode does not decompose into base + accent.
_FOLD = str.maketrans(
    {"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "ł": "l", "þ": "th", "ı": "i"}
)
_COMBINING = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"


# ---------------------------------------------------------------------------------------------
# normalization
# ---------------------------------------------------------------------------------------------
def _check_series(s: object, what: str) -> pd.Series:
    if not isinstance(s, pd.Series):
        raise DataError(f"{what}: expected a pandas Series of names, found {type(s).__name__}")
    return s


def _fold(s: pd.Series) -> pd.Series:
    """Casefold, fold accents and punctuation; legal forms are still there."""
    out = s.astype("string").str.casefold().str.replace(_CJK_LEGAL, " ", regex=True)
    out = out.str.translate(_FOLD).str.normalize("NFKD")
    out = out.str.replace(_COMBINING, "", regex=True).str.normalize("NFKC")
    out = out.str.replace(r"[’'`´]", "", regex=True)  # O'Brien -> obrien, McDonald's
    out = out.str.replace("&", " and ", regex=False).str.replace("+", " and ", regex=False)
    out = out.str.replace(r"[^\w\s]|_", " ", regex=True)
    out = out.str.replace(r"\s+", " ", regex=True).str.strip()
    # join runs of single letters: "s a" (S.A.) -> "sa", "s p a" -> "spa", "k k" -> "kk"
    return out.str.replace(r"\b\w(?: \w)+\b", lambda m: m.group(0).replace(" ", ""), regex=True)


def _split_legal(folded: pd.Series) -> pd.DataFrame:
    parts = folded.str.replace(_LEADING, "", regex=True).str.extract(_TRAILING_LEGAL)
    core = parts["core"].str.strip()
    legal = parts["legal"].str.strip()
    # a name that is only a legal form ("Company") keeps it, rather than becoming empty
    empty = core.fillna("").eq("") & folded.notna()
    core = core.mask(empty, folded)
    legal = legal.mask(empty, "").str.replace(r"^(?:and|und|et|y|e)\s+", "", regex=True)
    core = core.mask(core.eq(""), pd.NA)  # a blank name has no key
    return pd.DataFrame({"core": core, "legal": legal}, index=folded.index)


def normalize_account_name(s: pd.Series) -> pd.Series:
    """Matching key of account names: case, accents, umlauts, punctuation and legal form removed.

    Parameters
    ----------
    s : pandas.Series
        Account names as given (any dtype that holds strings; <NA> stays <NA>).

    Returns
    -------
    pandas.Series
        ``string`` dtype, same index, named ``account_key``.  The key is for matching only; show
        people the canonical name from :func:`match_accounts`.

    Notes
    -----
    Steps, in order:

    1. casefold (``ß`` -> ``ss``); remove Japanese legal forms (株式会社, 有限会社, 合同会社);
    2. fold letters Unicode does not decompose (``ø`` -> o, ``æ`` -> ae, ``œ`` -> oe, ``ł`` -> l),
       NFKD and drop the combining marks (``ü`` -> u, ``é`` -> e, ``ç`` -> c), NFKC again
       (full-width letters become ASCII; CJK text is kept);
    3. apostrophes are dropped (``O'Brien`` -> obrien), ``&`` and ``+`` become ``and``, every other
       punctuation becomes a space, whitespace is collapsed, runs of single letters are joined
       (``s a`` from ``S.A.`` -> ``sa``, ``s p a`` -> ``spa``);
    4. a leading ``the`` / ``kabushiki kaisha`` / ``kk`` and any chain of trailing legal forms
       (:data:`LEGAL_FORMS`, optionally joined by ``and``: ``gmbh and co kg``) are removed; a name
       that is nothing but a legal form keeps it; then the connector words ``and``, ``und``,
       ``et``, ``e``, ``y`` are dropped ("Ferreira & Filhos" = "Ferreira e Filhos");
    5. German transliteration: ``ue`` -> ``u`` (not after ``q``), ``oe`` -> ``o``, ``ae`` -> ``a``,
       so that ``Müller``, ``Mueller`` and ``Muller`` share a key.  This also folds non-German
       words (``Blue`` -> ``blu``, ``Joe`` -> ``jo``); since both sides of a comparison are folded
       alike, identical names still match, and the price is that two names differing only by such
       a pair ("Joe's" / "Jo's") share a key.

    Checked against the cases in tests/loop/test_accounts.py (German, French, Italian, Spanish,
    Dutch, Nordic, Japanese and English legal forms).
    """
    s = _check_series(s, "normalize_account_name")
    key = _split_legal(_fold(s))["core"]
    # "Marlowe & Finch" = "Marlowe and Finch" = "Ferreira e Filhos" style: connectors carry nothing
    bare = key.str.replace(r"\b(?:and|und|et|e|y)\b", " ", regex=True)
    bare = bare.str.replace(r"\s+", " ", regex=True).str.strip()
    key = bare.mask(bare.fillna("").eq(""), key)
    key = key.str.replace(r"(?<!q)ue", "u", regex=True)
    key = key.str.replace("oe", "o", regex=False).str.replace("ae", "a", regex=False)
    return key.rename("account_key")


def legal_form(s: pd.Series) -> pd.Series:
    """Legal form found at the end of each name (``"gmbh"``, ``"sa"``, ``"pty ltd"``), or ``""``.

    Parameters
    ----------
    s : pandas.Series
        Account names as given.

    Returns
    -------
    pandas.Series
        ``string`` dtype, same index, named ``legal_form``; the forms as folded by
        :func:`normalize_account_name` (lower case, no dots), ``""`` when there is none.
    """
    s = _check_series(s, "legal_form")
    return _split_legal(_fold(s))["legal"].rename("legal_form")


# ---------------------------------------------------------------------------------------------
# matching
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountMatch:
    """Result of :func:`match_accounts`.

    Attributes
    ----------
    mapping : pandas.DataFrame
        One row per distinct name: ``name`` (as given), ``n_rows`` (occurrences), ``normalized``
        (its own key), ``legal_form``, ``account_key`` (the account's key), ``account_name``
        (canonical name), ``method`` (``"alias"``, ``"exact_normalized"`` or ``"fuzzy"``),
        ``score`` (similarity 0-100 of ``normalized`` to ``account_key``; NaN for aliases).
    review : pandas.DataFrame
        Pairs a person should look at: ``name_a``, ``name_b``, ``key_a``, ``key_b``, ``score``,
        ``reason`` (``"review_band"``: score within the review band; ``"numbers_differ"``: similar
        names whose numbers differ such as "Acme 1" / "Acme 2"; ``"alias_canonicals_differ"``: two
        canonical names of the alias file look alike; ``"legal_form_differs"``: same key, different
        legal forms) and ``merged`` (True only for ``legal_form_differs`` and for pairs joined
        through a chain of other matches; every other pair was kept apart).
    threshold, review_band, scorer
        The settings used.
    """

    mapping: pd.DataFrame
    review: pd.DataFrame
    threshold: float
    review_band: tuple[float, float]
    scorer: str

    @property
    def n_names(self) -> int:
        """Number of distinct names matched."""
        return len(self.mapping)

    @property
    def n_accounts(self) -> int:
        """Number of accounts after matching."""
        return int(self.mapping["account_key"].nunique())


_SCORERS = {
    "token_sort_ratio": fuzz.token_sort_ratio,
    "token_set_ratio": fuzz.token_set_ratio,
    "ratio": fuzz.ratio,
    "WRatio": fuzz.WRatio,
}


def _check_aliases(aliases: pd.DataFrame) -> pd.DataFrame:
    require_columns(aliases, ("alias", "canonical"), "aliases")
    a = aliases[["alias", "canonical"]].astype("string")
    a = a.apply(lambda c: c.str.strip())
    blank = a["alias"].fillna("").eq("") | a["canonical"].fillna("").eq("")
    if blank.any():
        row = int(np.flatnonzero(blank.to_numpy())[0])
        raise DataError(
            f"aliases: row {row + 1} (data row, header not counted) has an empty alias or "
            f"canonical name: {a.iloc[row].tolist()}"
        )
    a["alias_key"] = normalize_account_name(a["alias"])
    a["canonical_key"] = normalize_account_name(a["canonical"])
    conflicts = a.groupby("alias_key")["canonical_key"].nunique()
    conflicts = conflicts[conflicts > 1]
    if len(conflicts):
        key = conflicts.index[0]
        rows = a.loc[a["alias_key"] == key, ["alias", "canonical"]]
        raise DataError(
            f"aliases: alias key {key!r} points to different canonical names "
            f"{sorted(rows['canonical'].unique().tolist())} (rows "
            f"{[int(i) + 1 for i in np.flatnonzero((a['alias_key'] == key).to_numpy())]})"
        )
    return a.drop_duplicates("alias_key")


def _pair_scores(keys: np.ndarray, scorer, cutoff: float, block: int) -> tuple[np.ndarray, ...]:
    """Pairs i < j of keys scoring >= cutoff, computed in row blocks to bound memory."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for start in range(0, len(keys), block):
        m = process.cdist(
            keys[start : start + block], keys, scorer=scorer, score_cutoff=cutoff, workers=1
        )
        i, j = np.nonzero(m >= cutoff)
        i = i + start
        keep = i < j
        rows.append(i[keep])
        cols.append(j[keep])
        vals.append(m[i[keep] - start, j[keep]].astype(float))
    if not rows:
        empty = np.array([], dtype=int)
        return empty, empty, np.array([], dtype=float)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def match_accounts(
    names: pd.Series,
    *,
    aliases: pd.DataFrame | None = None,
    threshold: float = 92.0,
    review_band: tuple[float, float] = (80.0, 92.0),
    scorer: Literal["token_sort_ratio", "token_set_ratio", "ratio", "WRatio"] = "token_sort_ratio",
    block_size: int = 2000,
) -> AccountMatch:
    """Group account names into accounts: alias file, then exact normalized key, then fuzzy.

    Parameters
    ----------
    names : pandas.Series
        Account names as given, typically the union of the survey, transaction and revenue
        ``account`` columns (``pd.concat([...])``); duplicates and <NA> allowed.
    aliases : pandas.DataFrame, optional
        Manual overrides with columns ``alias`` and ``canonical`` (data/raw/account_aliases.csv).
        A name whose key equals an alias's key belongs to the canonical account, whatever the
        fuzzy matching says; one step only (a canonical name is not looked up again).
    threshold : float
        Smallest similarity (0-100) at which two different keys are merged.
    review_band : (low, high)
        Pairs with ``low <= score < high`` are listed in ``review`` and not merged.
    scorer : {"token_sort_ratio", "token_set_ratio", "ratio", "WRatio"}
        rapidfuzz scorer applied to the normalized keys.
    block_size : int
        Rows of the similarity matrix computed at a time (memory ~ 4 * block_size * n bytes).

    Returns
    -------
    AccountMatch
        ``mapping`` (one row per distinct name) and ``review`` (pairs for a person).

    Notes
    -----
    ``token_sort_ratio`` is the normalized Indel similarity :math:`100 (1 - d / (|a| + |b|))`
    of the two keys with their words sorted, so word order does not matter ("Works Adventure").
    ``WRatio`` is not the default: it scores a name inside a longer one by ``partial_ratio``
    ("acme" vs "acme logistics" = 90), which would merge a subsidiary into its parent.

    At 92 a merge needs about one inserted/deleted character per 12 characters: "northwind
    trader(s)" (97), "contoso"/"contosso" (93) and "wide world"/"wideworld importers" (97) merge;
    one substituted letter in a short name ("fabrikam"/"fabrikan", 87.5; "litware"/"litwear",
    86) goes to review.  The threshold is deliberately high because a false merge sends one
    customer's feedback to another customer's account manager, while a missed merge only shows
    up as a review pair.  Pairs whose numbers differ ("Acme 1" / "Acme 2") are never merged.

    Merges are transitive (connected components of the merge graph); the account's key is the
    key of its most frequent name (an alias canonical's key if one is in the component) and its
    name is the most frequent spelling (ties: alphabetical).  Names covered by the alias file do
    not take part in fuzzy matching; other names whose key equals a canonical's key join it.
    Tested on hand-made cases (tests/loop/test_accounts.py); scores are rapidfuzz's.

    References
    ----------
    Christopher, P. et al. (2020-). RapidFuzz. https://github.com/rapidfuzz/RapidFuzz
    Christen, P. (2012). Data Matching. Springer (blocking, thresholds, clerical review).
    """
    names = _check_series(names, "match_accounts")
    if scorer not in _SCORERS:
        raise DataError(f"scorer: expected one of {sorted(_SCORERS)}, found {scorer!r}")
    lo, hi = (float(v) for v in review_band)
    if not 0.0 <= lo <= hi <= 100.0 or not lo <= float(threshold) <= 100.0:
        raise DataError(
            f"review_band/threshold: expected 0 <= low <= high <= 100 and low <= threshold, "
            f"found review_band={review_band!r}, threshold={threshold!r}"
        )
    threshold = float(threshold)
    block_size = max(1, int(block_size))
    if aliases is not None:
        _check_aliases(aliases)  # a clear error before anything else looks at the table
    key = _match_key(names, aliases, threshold, (lo, hi), scorer, block_size)
    match = _MATCH_CACHE.pop(key, None)
    if match is None:
        match = _match_accounts(names, aliases, threshold, lo, hi, scorer, block_size)
    _MATCH_CACHE[key] = match  # most recently used last
    while len(_MATCH_CACHE) > _MATCH_CACHE_SIZE:
        del _MATCH_CACHE[next(iter(_MATCH_CACHE))]
    return dataclasses.replace(
        match, mapping=match.mapping.copy(deep=True), review=match.review.copy(deep=True)
    )


# Matching is deterministic, so its results are kept by content (the last few): the report build
# matches the study's names once in the kernel fork server instead of once per country report.
_MATCH_CACHE: dict[tuple[object, ...], AccountMatch] = {}
_MATCH_CACHE_SIZE = 4


def _match_key(
    names: pd.Series,
    aliases: pd.DataFrame | None,
    threshold: float,
    review_band: tuple[float, float],
    scorer: str,
    block_size: int,
) -> tuple[object, ...]:
    """A digest of everything the matching depends on (the names in order, aliases, settings)."""
    import hashlib

    digest = hashlib.blake2b(digest_size=20)
    digest.update(pd.util.hash_pandas_object(names, index=False).to_numpy().tobytes())
    if aliases is not None:
        digest.update(repr(list(aliases.columns)).encode())
        digest.update(pd.util.hash_pandas_object(aliases, index=False).to_numpy().tobytes())
    settings = (threshold, review_band, scorer, block_size)
    return (digest.hexdigest(), len(names), aliases is None, *settings)


def _match_accounts(
    names: pd.Series,
    aliases: pd.DataFrame | None,
    threshold: float,
    lo: float,
    hi: float,
    scorer: str,
    block_size: int,
) -> AccountMatch:
    """The matching itself (see :func:`match_accounts`, which checks the arguments)."""
    scorer_fn = _SCORERS[scorer]
    text = names.dropna().astype("string").str.strip()
    text = text[text.ne("")]
    counts = text.value_counts(sort=False)
    u = pd.DataFrame({"name": counts.index.astype("string"), "n_rows": counts.to_numpy()})
    # a name with no letters or digits left ("--") keys on itself
    u["normalized"] = normalize_account_name(u["name"]).fillna(u["name"].str.casefold())
    u["legal_form"] = legal_form(u["name"])
    u = u.sort_values(["normalized", "name"], kind="stable").reset_index(drop=True)

    # --- aliases override everything
    canonical_names = _apply_aliases(u, aliases)
    is_alias = u["alias_canonical"].notna()

    # --- one node per distinct key of the names the alias file does not cover
    free = u[~is_alias]
    node_rows = free.groupby("normalized", sort=True)["n_rows"].sum()
    keys = node_rows.index.to_numpy(dtype=object)
    is_canon = np.isin(keys, list(canonical_names))
    digits = pd.Series(keys, dtype="string").str.findall(r"\d+").str.join(" ").to_numpy()

    i, j, score = _pair_scores(keys, scorer_fn, lo, block_size)
    numbers_differ = digits[i] != digits[j]
    canon_clash = is_canon[i] & is_canon[j]
    merge = (score >= threshold) & ~numbers_differ & ~canon_clash
    key_to_account = _account_of_key(keys, node_rows.to_numpy(), is_canon, i[merge], j[merge])

    u["account_key"] = u["normalized"].map(key_to_account).astype("string")
    u.loc[is_alias, "account_key"] = normalize_account_name(u.loc[is_alias, "alias_canonical"])
    _name_accounts(u, is_alias, canonical_names)

    u["method"] = np.where(
        is_alias,
        "alias",
        np.where(u["normalized"] == u["account_key"], "exact_normalized", "fuzzy"),
    )
    sim = process.cpdist(
        u["normalized"].to_numpy(dtype=object),
        u["account_key"].to_numpy(dtype=object),
        scorer=scorer_fn,
        workers=1,
    ).astype(float)
    u["score"] = np.where(is_alias, np.nan, sim)
    mapping = u[
        [
            "name",
            "n_rows",
            "normalized",
            "legal_form",
            "account_key",
            "account_name",
            "method",
            "score",
        ]
    ].reset_index(drop=True)

    review = _review_pairs(
        u, keys, i, j, score, threshold, numbers_differ, canon_clash, key_to_account
    )
    return AccountMatch(
        mapping=mapping, review=review, threshold=threshold, review_band=(lo, hi), scorer=scorer
    )


def _apply_aliases(u: pd.DataFrame, aliases: pd.DataFrame | None) -> dict[str, str]:
    """Add ``alias_canonical`` to the distinct names ``u`` (in place); canonical key -> name."""
    u["alias_canonical"] = pd.Series(pd.NA, index=u.index, dtype="string")
    if aliases is None:
        return {}
    a = _check_aliases(aliases)
    u["alias_canonical"] = (
        u["normalized"].map(dict(zip(a["alias_key"], a["canonical"], strict=True))).astype("string")
    )
    return dict(zip(a["canonical_key"], a["canonical"], strict=False))


def _account_of_key(
    keys: np.ndarray, rows: np.ndarray, is_canon: np.ndarray, i: np.ndarray, j: np.ndarray
) -> pd.Series:
    """Key -> account key: the components of the merged pairs (i, j), one representative each.

    The representative is an alias canonical's key, else the most frequent key (by rows).
    """
    n = len(keys)
    graph = sparse.coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    nodes = pd.DataFrame({"key": keys, "component": component, "rows": rows, "canon": is_canon})
    rep = nodes.sort_values(
        ["component", "canon", "rows", "key"], ascending=[True, False, False, True]
    ).drop_duplicates("component")
    rep_key = pd.Series(rep["key"].to_numpy(), index=rep["component"].to_numpy())
    return pd.Series(rep_key.reindex(component).to_numpy(), index=keys)


def _name_accounts(u: pd.DataFrame, is_alias: pd.Series, canonical_names: dict[str, str]) -> None:
    """Add ``account_name`` to ``u`` (in place): the alias file's name, else the commonest spelling.

    Among equally common spellings of an account, one that is not all capitals, then the first
    in alphabetical order.
    """
    spelled = u[~is_alias].assign(_caps=u["name"].str.isupper().fillna(False))
    spelled = spelled.sort_values(
        ["account_key", "n_rows", "_caps", "name"], ascending=[True, False, True, True]
    )
    spelling = spelled.drop_duplicates("account_key").set_index("account_key")["name"]
    names_by_key = {**spelling.to_dict(), **canonical_names}
    u["account_name"] = u["account_key"].map(names_by_key).astype("string")
    u.loc[is_alias, "account_name"] = u.loc[is_alias, "alias_canonical"]


def _review_pairs(
    u: pd.DataFrame,
    keys: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    score: np.ndarray,
    threshold: float,
    numbers_differ: np.ndarray,
    canon_clash: np.ndarray,
    key_to_account: pd.Series,
) -> pd.DataFrame:
    free = u[u["alias_canonical"].isna()]
    shown = (
        free.sort_values(["normalized", "n_rows", "name"], ascending=[True, False, True])
        .drop_duplicates("normalized")
        .set_index("normalized")["name"]
    )
    flagged = (score < threshold) | numbers_differ | canon_clash
    reason = np.where(
        numbers_differ,
        "numbers_differ",
        np.where(canon_clash, "alias_canonicals_differ", "review_band"),
    )
    ka, kb = keys[i[flagged]], keys[j[flagged]]
    fuzzy = pd.DataFrame(
        {
            "name_a": shown.reindex(ka).to_numpy(),
            "name_b": shown.reindex(kb).to_numpy(),
            "key_a": ka,
            "key_b": kb,
            "score": score[flagged],
            "reason": reason[flagged],
            "merged": pd.Series(ka).map(key_to_account).to_numpy()
            == pd.Series(kb).map(key_to_account).to_numpy(),
        }
    )
    # same key, different legal forms: merged (the account is the customer group), shown anyway
    forms = free[free["legal_form"].ne("")]
    forms = forms.sort_values(["normalized", "legal_form", "n_rows"], ascending=[True, True, False])
    forms = forms.drop_duplicates(["normalized", "legal_form"])
    pairs = forms.merge(forms, on="normalized", suffixes=("_a", "_b"))
    pairs = pairs[pairs["legal_form_a"] < pairs["legal_form_b"]]
    legal = pd.DataFrame(
        {
            "name_a": pairs["name_a"].to_numpy(),
            "name_b": pairs["name_b"].to_numpy(),
            "key_a": pairs["normalized"].to_numpy(),
            "key_b": pairs["normalized"].to_numpy(),
            "score": 100.0,
            "reason": "legal_form_differs",
            "merged": True,
        }
    )
    frames = [f for f in (fuzzy, legal) if len(f)]
    if not frames:
        return fuzzy.astype({"score": float, "merged": bool})
    review = pd.concat(frames, ignore_index=True)
    review = review.astype(
        {
            "name_a": "string",
            "name_b": "string",
            "key_a": "string",
            "key_b": "string",
            "score": float,
            "reason": "string",
            "merged": bool,
        }
    )
    return review.sort_values(
        ["merged", "score"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)


def assign_accounts(
    df: pd.DataFrame, match: AccountMatch, *, column: str = "account"
) -> pd.DataFrame:
    """Return a copy of ``df`` with ``account_key`` and ``account_name`` from ``match``.

    Parameters
    ----------
    df : pandas.DataFrame
        Any table with an account-name column (responses, transactions, revenue).
    match : AccountMatch
        Result of :func:`match_accounts` on names that include ``df[column]``.
    column : str
        The account-name column.

    Returns
    -------
    pandas.DataFrame
        ``df`` plus ``account_key`` and ``account_name`` (``string``).  A name that ``match``
        has not seen gets its own normalized key and its name as given (it was not matched to
        anything, which is what a fresh name would get); <NA> names stay <NA>.
    """
    require_columns(df, [column], "assign_accounts")
    if not isinstance(match, AccountMatch):
        raise DataError(f"match: expected an AccountMatch, found {type(match).__name__}")
    name = df[column].astype("string").str.strip()
    m = match.mapping.set_index("name")
    out = df.copy()
    key = name.map(m["account_key"]).astype("string")
    label = name.map(m["account_name"]).astype("string")
    unseen = key.isna() & name.notna() & name.ne("")
    if unseen.any():
        key = key.mask(unseen, normalize_account_name(name[unseen]))
        label = label.mask(unseen, name)
    out["account_key"] = key
    out["account_name"] = label
    return out


# ---------------------------------------------------------------------------------------------
# account summary and the at-risk rule
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AtRiskRule:
    """When is an account at risk?  Any enabled criterion met (strictly below its bound).

    Attributes
    ----------
    nps_below : float or None
        Account NPS (-100..100) below this flags the account (default 0: more detractors than
        promoters).  None disables the criterion.
    ltr_below : float or None
        Mean likelihood to recommend (0-10) below this flags (default 6.5: the mean sits in the
        detractor range 0-6 once rounded).
    loyalty_below : float or None
        Mean loyalty index (0-100, :func:`csatlib.stats.loyalty.loyalty_index`) below this flags
        (default 50: below the scale midpoint).  Not applied to a study with fewer than
        :data:`MIN_LOYALTY_ITEMS` loyalty items (:func:`study_rule`).
    min_respondents : int
        Accounts with fewer respondents are not assessed (``at_risk`` is <NA>).  Default 1: every
        account with an answer is assessed; raise it to flag only better-supported accounts.
    """

    nps_below: float | None = 0.0
    ltr_below: float | None = 6.5
    loyalty_below: float | None = 50.0
    min_respondents: int = 1

    def __post_init__(self) -> None:
        for name in ("nps_below", "ltr_below", "loyalty_below"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise DataError(f"AtRiskRule.{name}: expected a number or None, found {v!r}")
        if all(getattr(self, n) is None for n in ("nps_below", "ltr_below", "loyalty_below")):
            raise DataError("AtRiskRule: expected at least one criterion, all three are None")
        check_min_n(self.min_respondents, func="AtRiskRule", param="min_respondents")

    def sentence(self, *, account_min_n: int = DEFAULT_ACCOUNT_MIN_N, nps_label: str = "") -> str:
        """The rule as a reader reads it: "An account is at risk when its NPS is below 0, ...".

        ``account_min_n`` is the fewest respondents an account needs to be assessed at all (the
        account summary's confidentiality floor); ``nps_label`` names the recommend question
        (default "likelihood to recommend").
        """
        ltr = nps_label[:1].lower() + nps_label[1:] if nps_label else "likelihood to recommend"
        parts = []
        if self.nps_below is not None:
            parts.append(f"its NPS is below {self.nps_below:g}")
        if self.ltr_below is not None:
            parts.append(f"its mean {ltr} is below {self.ltr_below:g} (0–10)")
        if self.loyalty_below is not None:
            parts.append(f"its loyalty index is below {self.loyalty_below:g} (0–100)")
        rule = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
        floor = max(account_min_n, self.min_respondents)
        return (
            f"An account is at risk when {rule}, in the latest wave; accounts with fewer than "
            f"{floor} respondents in it are not assessed. An account whose NPS fell since the "
            f"previous wave is flagged as declining when the fall is significant (two-sample "
            f"adjusted Wald test, p < {DECLINE_ALPHA:g})."
        )

    def describe(self) -> str:
        """The rule in words, for a report footnote."""
        parts = []
        if self.nps_below is not None:
            parts.append(f"account NPS < {self.nps_below:g}")
        if self.ltr_below is not None:
            parts.append(f"mean likelihood to recommend < {self.ltr_below:g}")
        if self.loyalty_below is not None:
            parts.append(f"loyalty index < {self.loyalty_below:g}")
        return (
            " or ".join(parts) + f" (accounts with at least {self.min_respondents} respondent(s))"
        )


def _label(value: object) -> object:
    """A row label as people read it (``3``, not ``np.int64(3)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _numeric(df: pd.DataFrame, column: str, what: str) -> pd.Series:
    try:
        return pd.to_numeric(df[column], errors="raise").astype(float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what}: column {column!r} must be numeric ({exc})") from exc


def _labels(df: pd.DataFrame, columns: Sequence[str]) -> dict[str, str]:
    labels = df.attrs.get("labels", {}) if isinstance(df.attrs.get("labels"), Mapping) else {}
    return {c: str(labels.get(c, c)) for c in columns}


def _weakest(means: pd.DataFrame, k: int, labels: Mapping[str, str]) -> pd.Series:
    """'a; b; c': the k columns with the lowest mean per row (ties in column order, NaN last)."""
    x = means.to_numpy(dtype=float)
    order = np.argsort(np.where(np.isnan(x), np.inf, x), axis=1, kind="stable")[:, :k]
    valid = np.take_along_axis(~np.isnan(x), order, axis=1)
    names = np.array([labels[c] for c in means.columns], dtype=object)[order]
    return _join_columns(np.where(valid, names, ""), means.index)


def _join_columns(parts: np.ndarray, index: pd.Index) -> pd.Series:
    """Join a (rows x k) array of strings column-wise with "; ", skipping "" cells; "" -> <NA>."""
    joined = pd.Series("", index=index, dtype="string")
    for col in range(parts.shape[1]):  # over the k columns, not the rows
        part = pd.Series(parts[:, col], index=index, dtype="string")
        sep = pd.Series(np.where(joined.ne("") & part.ne(""), "; ", ""), index=index)
        joined = joined + sep + part
    return joined.replace("", pd.NA)


def _own_brand(responses: pd.DataFrame, include_competitors: bool) -> pd.DataFrame:
    """Own-brand respondents (everyone when the study has no brand column), or all of them."""
    return responses if include_competitors else roles.own_customers(responses)


# --- which columns: named by the caller, else read from the codebook roles in ``df.attrs``
def _no_roles(what: str, argument: str) -> DataError:
    return DataError(
        f"{what}: the table carries no codebook roles (df.attrs['roles'] is empty); read it "
        f"with csatlib.ingest.clean.load_processed or pass {argument}=... explicitly"
    )


def _nps_column(df: pd.DataFrame, given: str | None, what: str) -> str:
    """The 0-10 recommend question: ``given``, else the column with role ``nps``."""
    if given is not None:
        if not isinstance(given, str):
            raise DataError(f"{what}: nps_column must be a column name, found {given!r}")
        return given
    if not roles.roles(df):
        raise _no_roles(what, "nps_column")
    # declared in the codebook, present or not: a dropped column is reported as missing
    return roles.nps_column(df.attrs)


def _account_column(df: pd.DataFrame, given: str | None, what: str) -> str:
    """The account-name column: ``given``, else the column with role ``account``."""
    if given is not None:
        if not isinstance(given, str):
            raise DataError(f"{what}: account_column must be a column name, found {given!r}")
        return given
    if not roles.roles(df):
        raise _no_roles(what, "account_column")
    found = roles.names(df.attrs, "account")
    if not found:
        raise DataError(
            f"{what}: the study has no account column (codebook role 'account'); account "
            "summaries and at-risk lists need one"
        )
    return found[0]


def _attribute_columns(df: pd.DataFrame, given: Sequence[str] | None, what: str) -> list[str]:
    """Attribute columns: ``given``, else those with role ``attribute`` (possibly none)."""
    if given is None:
        return roles.names(df, "attribute")
    if isinstance(given, str):
        raise DataError(f"{what}: attributes must be a list of columns, found the string {given!r}")
    return [str(a) for a in given]


def _loyalty_columns(
    df: pd.DataFrame, given: Mapping[str, str] | Sequence[str] | None, what: str
) -> list[str]:
    """Loyalty items for the index, or [] when the study has fewer than MIN_LOYALTY_ITEMS."""
    if given is None:
        found = roles.names(df, "loyalty")
        return found if len(found) >= MIN_LOYALTY_ITEMS else []
    if isinstance(given, str):
        raise DataError(
            f"{what}: loyalty_items must be a list or mapping of columns, found the string "
            f"{given!r}"
        )
    items = [str(c) for c in (given.values() if isinstance(given, Mapping) else given)]
    if 0 < len(items) < MIN_LOYALTY_ITEMS:
        raise DataError(
            f"{what}: loyalty_items: expected at least {MIN_LOYALTY_ITEMS} item columns for a "
            f"loyalty index, or none to leave loyalty out; found {items}"
        )
    return items


def _scales(df: pd.DataFrame, columns: Sequence[str], what: str) -> dict[str, tuple[int, int]]:
    """(min, max) of each column from the codebook (``df.attrs['scales']``)."""
    known = roles.scales(df)
    missing = [c for c in columns if c not in known]
    if missing:
        raise DataError(
            f"{what}: column(s) {missing} have no scale in the table's codebook attrs "
            f"(df.attrs['scales'] knows {sorted(known)}); attributes and loyalty items are "
            "compared on their scales rescaled to 0-100"
        )
    return {c: known[c] for c in columns}


def _rescaled(means: pd.DataFrame, scales: Mapping[str, tuple[int, int]]) -> pd.DataFrame:
    """Each column's means on 0-100: 100 (x - min) / (max - min) of its own scale."""
    lo = np.array([scales[c][0] for c in means.columns], dtype=float)
    hi = np.array([scales[c][1] for c in means.columns], dtype=float)
    return (means - lo) / (hi - lo) * 100.0


def study_rule(
    responses: pd.DataFrame,
    rule: AtRiskRule = AtRiskRule(),  # noqa: B008 - frozen, immutable default
    *,
    loyalty_items: Mapping[str, str] | Sequence[str] | None = None,
) -> AtRiskRule:
    """The at-risk rule as it applies to a study: without loyalty when the study has too few items.

    Parameters
    ----------
    responses : pandas.DataFrame
        Processed relationship survey (its codebook roles in ``attrs``).
    rule : AtRiskRule
        The rule asked for.
    loyalty_items : mapping or sequence of str, optional
        Loyalty item columns; default those with codebook role ``loyalty``.

    Returns
    -------
    AtRiskRule
        ``rule`` itself, or ``rule`` with ``loyalty_below=None`` when the study has fewer than
        :data:`MIN_LOYALTY_ITEMS` loyalty items (or ``loyalty_items=()`` is passed).  Its
        :meth:`AtRiskRule.describe` is the sentence for a report or a list's README.

    Raises
    ------
    DataError
        The rule uses only the loyalty criterion and the study has no loyalty index.
    """
    if not isinstance(rule, AtRiskRule):
        raise DataError(f"rule: expected an AtRiskRule, found {type(rule).__name__}")
    if rule.loyalty_below is None or _loyalty_columns(responses, loyalty_items, "study_rule"):
        return rule
    if rule.nps_below is None and rule.ltr_below is None:
        raise DataError(
            f"study_rule: the at-risk rule uses only the loyalty index, but the study has fewer "
            f"than {MIN_LOYALTY_ITEMS} loyalty items (codebook role 'loyalty'); set nps_below "
            "or ltr_below"
        )
    return dataclasses.replace(rule, loyalty_below=None)


def _revenue_frame(revenue: pd.DataFrame, match: AccountMatch) -> pd.DataFrame:
    """Revenue with account keys, string country, integer year and float amount (validated)."""
    rev = require_columns(revenue, ("account", "country", "year", "revenue_usd"), "revenue")
    year = _numeric(rev, "year", "revenue")
    if year.isna().any() or (year != np.floor(year)).any():
        row = rev.index[(year.isna() | (year != np.floor(year))).to_numpy()][0]
        raise DataError(
            f"revenue: column 'year', row {_label(row)!r}: expected a whole year such as 2026, "
            f"found {rev.loc[row, 'year']!r}"
        )
    rev = assign_accounts(rev, match)
    return rev.assign(
        country=rev["country"].astype("string"),
        year=year.astype(int),
        revenue_usd=_numeric(rev, "revenue_usd", "revenue"),
    )


def _latest_revenue(
    revenue: pd.DataFrame, match: AccountMatch, year: int | None
) -> tuple[pd.DataFrame, int]:
    rev = _revenue_frame(revenue, match)
    latest = int(rev["year"].max()) if year is None else int(year)
    out = (
        rev[rev["year"] == latest]
        .groupby(["account_key", "country"], as_index=False, observed=True)["revenue_usd"]
        .sum()
    )
    return out, latest


def account_summary(
    responses: pd.DataFrame,
    match: AccountMatch,
    *,
    revenue: pd.DataFrame | None = None,
    rule: AtRiskRule = AtRiskRule(),  # noqa: B008 - frozen, immutable default
    account_min_n: int = DEFAULT_ACCOUNT_MIN_N,
    attributes: Sequence[str] | None = None,
    loyalty_items: Mapping[str, str] | Sequence[str] | None = None,
    nps_column: str | None = None,
    account_column: str | None = None,
    n_weakest: int = 3,
    include_competitors: bool = False,
    revenue_year: int | None = None,
    wave: str | None = "",
) -> pd.DataFrame:
    """One row per account and country: respondents, LTR, NPS, loyalty, weakest attributes, risk
    in the latest wave, and the change since the previous wave.

    Parameters
    ----------
    responses : pandas.DataFrame
        Processed relationship survey (docs/data_model.md) with its codebook roles in
        ``attrs`` (:func:`csatlib.ingest.clean.load_processed`): ``country``, the account column,
        the recommend question, the attribute and loyalty columns, ``competitor`` (only when the
        study has a brand column; without it every respondent is an own-brand customer).
    match : AccountMatch
        From :func:`match_accounts` on names that include the responses' account names (and the
        revenue file's, if given).
    revenue : pandas.DataFrame, optional
        ``account, country, year, revenue_usd``; the revenue of ``revenue_year`` (default: the
        latest year in the file) is joined on account key and country.
    rule : AtRiskRule
        The at-risk rule; applied as :func:`study_rule` says (without loyalty when the study has
        no loyalty index).
    account_min_n : int
        Accounts with fewer respondents get ``suppressed=True`` and <NA> in every score column
        (and in ``weakest_attributes`` and ``at_risk_reasons``); ``at_risk`` is still given.
    attributes : sequence of str, optional
        Attribute columns among which the weakest are chosen, each with a scale in
        ``attrs["scales"]``.  Default: the columns with codebook role ``attribute`` (none: no
        ``weakest_attributes`` column).
    loyalty_items : mapping or sequence of str, optional
        Loyalty item columns for the loyalty index (at least :data:`MIN_LOYALTY_ITEMS`; an empty
        list leaves loyalty out).  Default: the columns with role ``loyalty`` if there are at
        least :data:`MIN_LOYALTY_ITEMS`, else none.
    nps_column : str, optional
        The 0-10 recommend question.  Default: the column with role ``nps``.
    account_column : str, optional
        The account-name column.  Default: the column with role ``account``.
    n_weakest : int
        How many weakest attributes to list.
    include_competitors : bool
        Keep competitors' customers (default no: they are not our accounts).
    revenue_year : int, optional
        Revenue year to attach (default the latest in ``revenue``).
    wave : str or None
        The wave judged.  ``""`` (default): the latest wave of ``responses`` (column ``wave``,
        ordered by :func:`csatlib.roles.wave_order`); a wave's name: that wave; None: every row
        pooled, without a trend (the behaviour before waves were told apart).  Responses without
        a ``wave`` column are one wave: every row, no trend.

    Returns
    -------
    pandas.DataFrame
        ``country``, ``account_key``, ``account_name``, ``n`` (respondents), ``suppressed``,
        ``ltr_mean``, ``nps``, ``loyalty_index`` (only when the study has a loyalty index),
        ``weakest_attributes`` ("a; b; c", labels from ``responses.attrs["labels"]`` if present;
        only when the study has attributes), ``at_risk`` (boolean, <NA> when not assessed),
        ``at_risk_reasons``, all of the wave judged; the trend of the same accounts:
        ``previous_wave`` (the study's wave before it, <NA> when there is none),
        ``n_previous`` (respondents then, 0 when not surveyed), ``ltr_mean_previous``,
        ``nps_previous`` (NaN below ``account_min_n`` respondents, as the current scores),
        ``nps_change`` (``nps - nps_previous``), ``nps_change_p_value`` and ``declined``
        (boolean, <NA> when there is nothing to compare); then ``revenue_year``,
        ``revenue_usd`` (NaN when the account has no revenue that year).  Sorted by country,
        at_risk first, revenue descending.

    Notes
    -----
    Account NPS :math:`= 100\\,(n_{9-10} - n_{0-6}) / n_{LTR}` over respondents who answered
    the recommend question (0-10 by definition); ``ltr_mean`` is their mean; ``loyalty_index``
    the mean of the respondents' 0-100 loyalty index (:func:`csatlib.stats.loyalty.loyalty_index`,
    each item on its codebook scale).  An attribute's account mean is over respondents who rated
    it; to compare attributes asked on different scales (1-5, 1-7, 1-10, 0-10) each mean is
    rescaled to 0-100, :math:`100\\,(\\bar x - min) / (max - min)` of its own codebook scale,
    and the ``n_weakest`` lowest are listed (ties in codebook order; on one common scale the
    order is that of the raw means).  ``at_risk`` applies the rule of :func:`study_rule` to the
    unsuppressed numbers (see :class:`AtRiskRule`); ``at_risk_reasons`` names the criteria met.

    Decline rule: ``declined`` is True when the account's NPS fell since the previous wave
    (``nps_change < 0``, both waves with at least ``account_min_n`` respondents) and the fall is
    beyond sampling noise: the adjusted Wald z test of the difference of two independent NPS
    (:func:`csatlib.stats.nps.nps_wave_change`, as :func:`csatlib.stats.nps.nps_difference`,
    Agresti & Caffo 2000 pseudo-counts, Rocks 2016 variance) on the account's respondents of
    the two waves gives ``p < DECLINE_ALPHA`` (0.05); a fall with a larger p is False ("fell,
    not significant").  The two waves' respondents are treated as independent samples (the
    same person answering twice is not linked).  Each account is tested on its own, without a
    multiplicity correction: with many accounts some falls are flagged by chance (about 1 in
    20 of accounts with no true change), acceptable for a list of accounts to look at, not for
    a finding.  Checked against hand-computed values in tests/loop/test_accounts.py.

    References
    ----------
    Reichheld, F. F. (2003). The one number you need to grow. Harvard Business Review, 81(12).
    Agresti, A., & Caffo, B. (2000). Simple and effective confidence intervals for proportions
    and differences of proportions result from adding two successes and two failures. The
    American Statistician, 54(4), 280-288.
    Rocks, B. (2016). Interval estimation for the "Net Promoter Score". The American
    Statistician, 70(4), 365-372.
    """
    what = "account_summary"
    ltr_col = _nps_column(responses, nps_column, what)
    account_col = _account_column(responses, account_column, what)
    attributes = _attribute_columns(responses, attributes, what)
    loyalty = _loyalty_columns(responses, loyalty_items, what)
    require_columns(
        responses,
        ["country", account_col, ltr_col, *attributes, *loyalty],
        "account_summary: responses",
    )
    if not isinstance(match, AccountMatch):
        raise DataError(f"match: expected an AccountMatch, found {type(match).__name__}")
    rule = study_rule(responses, rule, loyalty_items=loyalty)
    account_min_n = check_min_n(account_min_n, func=what, param="account_min_n")
    n_weakest = check_min_n(n_weakest, func=what, param="n_weakest")
    attribute_scales = _scales(responses, attributes, what)
    loyalty_scales = _scales(responses, loyalty, what)

    df = assign_accounts(_own_brand(responses, include_competitors), match, column=account_col)
    df, before, previous_wave = _wave_rows(df[df["account_key"].notna()], responses, wave, what)
    keys = [df["country"].astype("string"), df["account_key"]]
    out = _account_scores(df, keys, _ltr_values(df, ltr_col, what), loyalty, loyalty_scales)
    if attributes:
        # a separate frame: an attribute may be called anything, even "ltr" or "n"
        ratings = pd.DataFrame({a: _numeric(df, a, what) for a in attributes}, index=df.index)
        means = ratings.groupby(keys, sort=True, observed=True).mean()
        means.index.names = ["country", "account_key"]
        out["weakest_attributes"] = _weakest(
            _rescaled(means, attribute_scales).reindex(out.index),
            n_weakest,
            _labels(responses, attributes),
        )
    _flag_at_risk(out, rule)
    _suppress_small_accounts(out, account_min_n)
    _add_trend(out, df, before, previous_wave, ltr_col, account_min_n)
    out = _with_revenue(out.reset_index(), revenue, match, revenue_year)
    out = out.sort_values(
        ["country", "at_risk", "revenue_usd", "account_key"],
        ascending=[True, False, False, True],
        na_position="last",
        kind="stable",
    )
    return out[[c for c in _SUMMARY_COLUMNS if c in out.columns]].reset_index(drop=True)


_SUMMARY_COLUMNS = (
    "country",
    "account_key",
    "account_name",
    "n",
    "suppressed",
    "ltr_mean",
    "nps",
    "loyalty_index",
    "weakest_attributes",
    "at_risk",
    "at_risk_reasons",
    "previous_wave",
    "n_previous",
    "ltr_mean_previous",
    "nps_previous",
    "nps_change",
    "nps_change_p_value",
    "declined",
    "revenue_year",
    "revenue_usd",
)


def _wave_rows(
    df: pd.DataFrame, responses: pd.DataFrame, wave: str | None, what: str
) -> tuple[pd.DataFrame, pd.DataFrame | None, str | None]:
    """Rows of the wave judged, rows of the study's wave before it (None when there is none
    or ``wave`` is None) and that previous wave's name."""
    if wave is not None and not isinstance(wave, str):
        raise DataError(f"{what}: wave must be a wave's name, '' or None; got {wave!r}")
    if wave is None or ("wave" not in responses.columns and wave == ""):
        return df, None, None
    if "wave" not in responses.columns:
        raise DataError(f"{what}: wave {wave!r} asked for, but the responses have no 'wave' column")
    order = roles.wave_order(responses["wave"])
    current = wave or (order[-1] if order else None)
    if current is None:
        return df, None, None  # no row has a wave: one wave
    if current not in order:
        raise DataError(f"{what}: wave {wave!r} is not in the responses; their waves: {order}")
    previous = roles.previous_wave(order, current)
    waves = df["wave"].astype("string")
    now = df[waves.eq(current).fillna(False).to_numpy()]
    if previous is None:
        return now, None, None
    return now, df[waves.eq(previous).fillna(False).to_numpy()], previous


def _add_trend(
    out: pd.DataFrame,
    now: pd.DataFrame,
    before: pd.DataFrame | None,
    previous_wave: str | None,
    ltr_col: str,
    account_min_n: int,
) -> None:
    """Add the previous wave's scores, ``nps_change`` and ``declined`` to ``out`` (in place;
    rule in :func:`account_summary`).  ``out`` holds the suppressed scores of ``now``."""
    out["previous_wave"] = pd.Series(previous_wave, index=out.index, dtype="string")
    out["n_previous"] = 0
    for column in ("ltr_mean_previous", "nps_previous", "nps_change", "nps_change_p_value"):
        out[column] = np.nan
    out["declined"] = pd.array([pd.NA] * len(out), dtype="boolean")
    if before is None or before.empty or out.empty:
        return
    what = "account_summary"
    ltr_before = _ltr_values(before, ltr_col, what)
    keys = [before["country"].astype("string"), before["account_key"]]
    then = _account_scores(before, keys, ltr_before, (), {}).reindex(out.index)
    out["n_previous"] = then["n"].fillna(0).astype(int)
    shown = out["n_previous"] >= account_min_n
    out["ltr_mean_previous"] = then["ltr_mean"].where(shown)
    out["nps_previous"] = then["nps"].where(shown)
    out["nps_change"] = out["nps"] - out["nps_previous"]
    # positional: the two waves' row labels may repeat
    both = pd.DataFrame(
        {
            "country": np.r_[keys[0].to_numpy(object), now["country"].astype(str).to_numpy()],
            "account_key": np.r_[keys[1].to_numpy(object), now["account_key"].to_numpy(object)],
            "later": np.r_[np.zeros(len(before), int), np.ones(len(now), int)],
            "ltr": np.r_[
                ltr_before.to_numpy(float), _ltr_values(now, ltr_col, what).to_numpy(float)
            ],
        }
    ).astype({"country": "string", "account_key": "string"})
    test = nps_wave_change(
        both, by=["country", "account_key"], wave="later", score="ltr", min_n=1
    ).set_index(["country", "account_key"])
    p_value = test["p_value"].reindex(out.index).where(out["nps_change"].notna())
    out["nps_change_p_value"] = p_value
    fell = out["nps_change"].lt(0)
    declined = pd.Series(fell & p_value.lt(DECLINE_ALPHA), dtype="boolean")
    declined[out["nps_change"].isna() | (fell & p_value.isna())] = pd.NA
    out["declined"] = declined


def _ltr_values(df: pd.DataFrame, ltr_col: str, what: str) -> pd.Series:
    """The recommend question as floats, refused when a value lies outside 0-10."""
    ltr = _numeric(df, ltr_col, what)
    bad = ltr.notna() & ~ltr.between(*roles.NPS_SCALE)
    if bad.any():
        row = df.index[bad.to_numpy()][0]
        raise DataError(
            f"account_summary: column {ltr_col!r}, row {_label(row)!r}: value "
            f"{ltr[bad].iloc[0]:g} is outside 0-10"
        )
    return ltr


def _account_scores(
    df: pd.DataFrame,
    keys: list[pd.Series],
    ltr: pd.Series,
    loyalty: Sequence[str],
    loyalty_scales: Mapping[str, tuple[int, int]],
) -> pd.DataFrame:
    """Per (country, account_key): ``account_name``, ``n``, ``ltr_mean``, ``nps``, loyalty.

    ``loyalty_index`` (the respondents' mean) only when the study has loyalty items.
    """
    work = pd.DataFrame(
        {
            "account_name": df["account_name"],
            "ltr": ltr,
            "promoter": (ltr >= 9).astype(float).where(ltr.notna()),
            "detractor": (ltr <= 6).astype(float).where(ltr.notna()),
        },
        index=df.index,
    )
    aggs = {
        "account_name": ("account_name", "first"),
        "n": ("ltr", "size"),
        "ltr_mean": ("ltr", "mean"),
        "promoters": ("promoter", "mean"),
        "detractors": ("detractor", "mean"),
    }
    if loyalty:
        work["loyalty"] = loyalty_index(df, loyalty, scale=loyalty_scales).astype(float)
        aggs["loyalty_index"] = ("loyalty", "mean")
    out = work.groupby(keys, sort=True, observed=True).agg(**aggs)
    out.index.names = ["country", "account_key"]
    out["nps"] = 100.0 * (out.pop("promoters") - out.pop("detractors"))
    return out


def _suppress_small_accounts(out: pd.DataFrame, account_min_n: int) -> None:
    """Add ``suppressed`` and blank the scores and texts of accounts below the minimum (in place).

    ``at_risk`` stays: :func:`at_risk_list` decides whether to show it.
    """
    out["suppressed"] = out["n"] < account_min_n
    scores = [c for c in _SCORE_COLUMNS if c in out.columns]
    out.loc[out["suppressed"], scores] = np.nan
    texts = [c for c in ("weakest_attributes", "at_risk_reasons") if c in out.columns]
    out.loc[out["suppressed"], texts] = pd.NA


def _with_revenue(
    out: pd.DataFrame, revenue: pd.DataFrame | None, match: AccountMatch, year: int | None
) -> pd.DataFrame:
    """``out`` with ``revenue_usd`` and ``revenue_year`` (the latest year unless ``year``)."""
    if revenue is not None:
        rev, latest = _latest_revenue(revenue, match, year)
        out = out.merge(rev, on=["account_key", "country"], how="left")
        out["revenue_year"] = latest
    else:
        out["revenue_usd"] = np.nan
        out["revenue_year"] = pd.NA
    out["revenue_year"] = out["revenue_year"].astype("Int64")
    return out


def _flag_at_risk(out: pd.DataFrame, rule: AtRiskRule) -> None:
    """Add ``at_risk`` and ``at_risk_reasons`` to the account aggregates ``out`` (in place)."""
    crit = {
        "nps<": ("nps", rule.nps_below),
        "ltr<": ("ltr_mean", rule.ltr_below),
        "loyalty<": ("loyalty_index", rule.loyalty_below),
    }
    enabled = {label: (col, bound) for label, (col, bound) in crit.items() if bound is not None}
    met = pd.DataFrame(
        {f"{label}{bound:g}": out[col].lt(bound) for label, (col, bound) in enabled.items()},
        index=out.index,
    )
    measured = pd.concat([out[col].notna() for col, _ in enabled.values()], axis=1).any(axis=1)
    assessed = (out["n"] >= rule.min_respondents) & measured
    out["at_risk"] = pd.array(met.any(axis=1).where(assessed), dtype="boolean")
    labels = np.array(met.columns, dtype=object)
    out["at_risk_reasons"] = _join_columns(
        np.where(met.to_numpy(dtype=bool), labels, ""), out.index
    )
    out.loc[~assessed, "at_risk_reasons"] = pd.NA


def country_weakest_attributes(
    responses: pd.DataFrame,
    *,
    min_n: int = DEFAULT_MIN_N,
    attributes: Sequence[str] | None = None,
    n_weakest: int = 3,
    include_competitors: bool = False,
) -> pd.DataFrame:
    """The weakest attributes of each country: what to talk about where an account is too small.

    Parameters
    ----------
    responses : pandas.DataFrame
        Processed relationship survey with ``country`` and the attribute columns (codebook roles
        and scales in ``attrs``).
    min_n : int
        Countries with fewer respondents are suppressed (``weakest_attributes`` <NA>).
    attributes : sequence of str, optional
        Attribute columns, each with a scale in ``attrs["scales"]``.  Default: the columns with
        codebook role ``attribute``.
    n_weakest : int
        How many to list.
    include_competitors : bool
        Keep competitors' customers (default no).

    Returns
    -------
    pandas.DataFrame
        ``country``, ``n``, ``suppressed``, ``weakest_attributes`` ("a; b; c").

    Raises
    ------
    DataError
        The study has no attribute columns.

    Notes
    -----
    The ``n_weakest`` attributes with the lowest mean over the country's respondents, each mean
    rescaled to 0-100 of its own codebook scale, :math:`100\\,(\\bar x - min) / (max - min)`, so
    that a 1-5 and a 1-10 attribute compare (ties in codebook order).  These are the
    lowest-rated attributes, not key drivers; pass a key-driver ranking from csatlib.stats.drivers
    to
    :func:`at_risk_list` (``country_drivers``) to use that instead.
    """
    what = "country_weakest_attributes"
    attributes = _attribute_columns(responses, attributes, what)
    if not attributes:
        raise DataError(
            f"{what}: the study has no attribute columns (codebook role 'attribute'); pass "
            "attributes=[...] or use country_drivers"
        )
    require_columns(responses, ["country", *attributes], f"{what}: responses")
    min_n = check_min_n(min_n, func=what)
    n_weakest = check_min_n(n_weakest, func=what, param="n_weakest")
    scales = _scales(responses, attributes, what)
    df = _own_brand(responses, include_competitors)
    ratings = pd.DataFrame({a: _numeric(df, a, what) for a in attributes}, index=df.index)
    country = df["country"].astype("string").rename("country")
    out = pd.DataFrame({"n": country.groupby(country, sort=True).size()})
    out["suppressed"] = out["n"] < min_n
    means = ratings.groupby(country, sort=True).mean().reindex(out.index)
    out["weakest_attributes"] = _weakest(
        _rescaled(means, scales), n_weakest, _labels(responses, attributes)
    )
    out.loc[out["suppressed"], "weakest_attributes"] = pd.NA
    return out.reset_index()


#: The only columns an account-manager list may carry (:func:`write_account_lists` checks).
AT_RISK_LIST_COLUMNS: tuple[str, ...] = (
    "country",
    "account_name",
    "account_key",
    "n_respondents",
    "at_risk",
    "at_risk_reasons",
    "ltr_mean",
    "nps",
    "loyalty_index",
    # the trend since the previous wave (account_summary): the change, its flag, in words
    "nps_change",
    "declined",
    "trend",
    "weakest_attributes",
    "drivers_source",
    "revenue_year",
    "revenue_usd",
    # routing, from the organisation mapping (csatlib.loop.routing.with_account_routes)
    "business_units",
    "account_manager",
    "manager_email",
    # the account's follow-up case (csatlib.loop.cases.with_cases): id, status, due date
    "case_id",
    "case_status",
    "due",
)
#: Headers of the routing columns in the written lists.
ROUTING_HEADERS: Mapping[str, str] = {
    "business_units": "Business unit(s)",
    "account_manager": "Account manager",
    "manager_email": "Manager e-mail",
}
_SCORE_COLUMNS = ("ltr_mean", "nps", "loyalty_index")


def at_risk_list(
    responses: pd.DataFrame,
    match: AccountMatch,
    *,
    revenue: pd.DataFrame | None = None,
    rule: AtRiskRule = AtRiskRule(),  # noqa: B008 - frozen, immutable default
    account_min_n: int = DEFAULT_ACCOUNT_MIN_N,
    min_n: int = DEFAULT_MIN_N,
    country_drivers: Mapping[str, str] | None = None,
    only_at_risk: bool = True,
    small_account_flag: bool = False,
    attributes: Sequence[str] | None = None,
    loyalty_items: Mapping[str, str] | Sequence[str] | None = None,
    nps_column: str | None = None,
    account_column: str | None = None,
    include_competitors: bool = False,
    wave: str | None = "",
) -> pd.DataFrame:
    """The account-manager list: account-level aggregates only, small accounts without numbers.

    Parameters
    ----------
    responses, match, revenue, rule, account_min_n, include_competitors, wave
        As in :func:`account_summary`: by default the accounts are judged on the latest wave.
    attributes, loyalty_items, nps_column, account_column
        As in :func:`account_summary`: default from the codebook roles in ``responses.attrs``.
    min_n : int
        Reporting minimum for the country-level drivers shown for small accounts.
    country_drivers : mapping country -> str, optional
        Drivers to show for small accounts (e.g. the top key drivers from csatlib.stats.drivers);
        default the country's weakest attributes (:func:`country_weakest_attributes`).  A study
        without attributes and without ``country_drivers`` gets no ``weakest_attributes`` and
        ``drivers_source`` columns.
    only_at_risk : bool
        Keep only accounts flagged at risk (default) or list every account.
    small_account_flag : bool
        Show the at-risk flag for accounts below ``account_min_n``. Default False: the flag is
        <NA> there, so such accounts never appear in an at-risk-only list (see Notes).

    Returns
    -------
    pandas.DataFrame
        The columns :data:`AT_RISK_LIST_COLUMNS` the study has, in that order: ``country``,
        ``account_name``, ``account_key``, ``n_respondents``, ``at_risk``, ``at_risk_reasons``,
        ``ltr_mean`` (2 decimals), ``nps`` (1 decimal), ``loyalty_index`` (1 decimal; absent
        when the study has no loyalty index, see :func:`study_rule`), ``nps_change`` (1
        decimal) and ``declined`` since the previous wave, ``trend`` (the same in words: "NPS
        −18.0 since 2026-Q2, a significant fall", "no previous wave"), ``weakest_attributes``
        and ``drivers_source`` (``"account"`` or ``"country"``; absent when the study has no
        attributes), ``revenue_year``, ``revenue_usd``.  No respondent's name, e-mail, verbatim
        or individual answer.

    Notes
    -----
    With ``n < account_min_n`` respondents an account mean is (nearly) one person's answer, and
    the account manager knows who answered.  The ICC/ESOMAR International Code (2016) lets
    researchers pass personal data, or data that make a respondent identifiable, to a client for
    non-research purposes only with the respondent's consent.  So below ``account_min_n`` the
    list shows no score at all (<NA> in ``ltr_mean``, ``nps``, ``loyalty_index`` and
    ``at_risk_reasons``) and the country's drivers instead of the account's.  The flag is hidden
    too by default: for one respondent it would still say whether that person was unhappy.
    The rule, in short: an account is assessed only with at least ``account_min_n`` (3)
    respondents; below that it shows neither scores nor flag, only the country's general
    drivers.  Follow-up of named respondents
    with their consent is :mod:`csatlib.loop.followup`'s job, not this list's.

    References
    ----------
    ICC/ESOMAR International Code on Market, Opinion and Social Research and Data Analytics
    (2016), data protection and privacy; ESOMAR, Guideline on Customer Satisfaction Studies.
    """
    min_n = check_min_n(min_n, func="at_risk_list")
    attributes = _attribute_columns(responses, attributes, "at_risk_list")
    summary = account_summary(
        responses,
        match,
        revenue=revenue,
        rule=rule,
        account_min_n=account_min_n,
        attributes=attributes,
        loyalty_items=loyalty_items,
        nps_column=nps_column,
        account_column=account_column,
        include_competitors=include_competitors,
        wave=wave,
    )
    summary["trend"] = _trend_words(summary)
    if country_drivers is None and attributes:
        cw = country_weakest_attributes(
            responses, min_n=min_n, attributes=attributes, include_competitors=include_competitors
        )
        drivers = dict(zip(cw["country"], cw["weakest_attributes"], strict=True))
    elif country_drivers is None:
        drivers = None  # no attributes, no drivers given: nothing to show
    elif isinstance(country_drivers, Mapping):
        drivers = {str(k): v for k, v in country_drivers.items()}
    else:
        raise DataError(
            f"country_drivers: expected a mapping country -> text, "
            f"found {type(country_drivers).__name__}"
        )
    small = summary["suppressed"].to_numpy()
    out = summary.rename(columns={"n": "n_respondents"})
    if drivers is not None:
        own = out.get("weakest_attributes", pd.Series(pd.NA, index=out.index, dtype="string"))
        out["weakest_attributes"] = own.mask(small, out["country"].map(drivers).astype("string"))
        out["drivers_source"] = pd.Series(np.where(small, "country", "account"), dtype="string")
    if not small_account_flag:
        out.loc[small, "at_risk"] = pd.NA
    # rounded for people: a list is read, not recomputed
    out = out.round(
        {"ltr_mean": 2, "nps": 1, "loyalty_index": 1, "nps_change": 1, "revenue_usd": 2}
    )
    if only_at_risk:
        out = out[out["at_risk"].fillna(False).to_numpy(dtype=bool)]
    return out[[c for c in AT_RISK_LIST_COLUMNS if c in out.columns]].reset_index(drop=True)


def _trend_words(summary: pd.DataFrame) -> pd.Series:
    """The change since the previous wave in words (rule in :func:`account_summary`):
    "NPS −18.0 since 2026-Q2, a significant fall", "NPS −5.0 since 2026-Q2, a fall, not
    significant", "NPS +4.0 since 2026-Q2", "no previous wave", "not surveyed in 2026-Q2",
    "too few respondents to compare"."""
    previous = summary["previous_wave"].astype("string")
    change = summary["nps_change"].astype(float)
    # the typographic minus, as in the report's tables
    number = change.map(lambda v: "" if pd.isna(v) else f"{v:+.1f}".replace("-", "\u2212"))
    verdict = np.where(
        summary["declined"].eq(True).fillna(False).to_numpy(),
        ", a significant fall",
        np.where(change.lt(0).to_numpy(), ", a fall, not significant", ""),
    )
    words = ("NPS " + number + " since " + previous.fillna("") + verdict).astype("string")
    n_before = summary["n_previous"].fillna(0).to_numpy(dtype=float)
    words = words.mask(change.isna().to_numpy(), "too few respondents to compare")
    words = words.mask((n_before == 0) & change.isna().to_numpy(), "not surveyed in " + previous)
    return words.mask(previous.isna().to_numpy(), "no previous wave")


def at_risk_counts(summary: pd.DataFrame, *, country: str | None = None) -> pd.DataFrame:
    """Counts for a report: accounts assessed, at risk, revenue at stake, not assessed.

    Parameters
    ----------
    summary : pandas.DataFrame
        The output of :func:`account_summary` (one row per account and country).
    country : str, optional
        Restrict to one ISO alpha-2 country.

    Returns
    -------
    pandas.DataFrame
        One row per country with ``accounts_assessed`` (at least ``account_min_n`` respondents),
        ``at_risk``, ``revenue_at_stake_usd`` (latest-year revenue of the at-risk accounts; 0
        when none), ``at_risk_no_revenue`` (at-risk accounts without a revenue of that year on
        file: not in the sum, and said so), ``not_assessed`` (accounts with too few
        respondents to report on without revealing one person's answers) and ``declined``
        (assessed accounts whose NPS fell significantly since the previous wave, the
        ``declined`` flag of :func:`account_summary`; 0 for a summary without it). Counts only:
        no account names, no scores.
    """
    rows = summary if country is None else summary.loc[summary["country"] == country]
    assessed = ~rows["suppressed"].fillna(True).astype(bool)
    at_risk = rows["at_risk"].fillna(False).astype(bool) & assessed
    frame = pd.DataFrame(
        {
            "country": rows["country"].astype(str),
            "assessed": assessed,
            "at_risk": at_risk,
            "revenue": pd.to_numeric(rows["revenue_usd"], errors="coerce")
            .fillna(0.0)
            .where(at_risk, 0.0),
            "no_revenue": at_risk & pd.to_numeric(rows["revenue_usd"], errors="coerce").isna(),
            "declined": assessed
            & rows.get("declined", pd.Series(False, index=rows.index)).eq(True).fillna(False),
        }
    )
    out = frame.groupby("country", sort=True).agg(
        accounts_assessed=("assessed", "sum"),
        at_risk=("at_risk", "sum"),
        revenue_at_stake_usd=("revenue", "sum"),
        at_risk_no_revenue=("no_revenue", "sum"),
        not_assessed=("assessed", lambda s: int((~s).sum())),
        declined=("declined", "sum"),
    )
    if country is not None and out.empty:
        out = pd.DataFrame(
            {
                "accounts_assessed": [0],
                "at_risk": [0],
                "revenue_at_stake_usd": [0.0],
                "at_risk_no_revenue": [0],
                "not_assessed": [0],
                "declined": [0],
            },
            index=pd.Index([country], name="country"),
        )
    counted = ("accounts_assessed", "at_risk", "at_risk_no_revenue", "not_assessed", "declined")
    return out.astype(dict.fromkeys(counted, int))


def _country_labels(codes: pd.Series) -> pd.Series:
    """ "Germany (DE)" for each ISO code; a code that is no country stays as it is."""
    names = {}
    for code in codes.dropna().unique():  # a handful of countries
        try:
            names[code] = f"{country_name(str(code))} ({code})"
        except KeyError:
            names[code] = str(code)
    return codes.map(names).astype("string")


# The at-risk criteria as _flag_at_risk labels them ("nps<0"), in words, with the score they test.
_REASON_WORDS = (
    ("nps<", "NPS below {bound}", "nps"),
    ("ltr<", "mean likelihood to recommend below {bound}", "ltr_mean"),
    ("loyalty<", "loyalty index below {bound}", "loyalty_index"),
)


def _why_at_risk(at_risk: pd.DataFrame, account_min_n: int) -> pd.Series:
    """The rule that put each account on the list, in words: "NPS below 0 (-33.3)"."""
    reasons = at_risk["at_risk_reasons"].astype("string")
    parts = []
    for label, words, column in _REASON_WORDS:  # three criteria, not the rows
        bound = reasons.str.extract(rf"(?:^|; ){re.escape(label)}(-?[\d.]+)", expand=False)
        if column in at_risk.columns:
            value = at_risk[column].map(lambda v: "" if pd.isna(v) else f" ({v:g})")
        else:
            value = pd.Series("", index=at_risk.index)
        text = words.replace("{bound}", "") + bound.fillna("") + value.astype("string")
        parts.append(np.where(bound.notna().to_numpy(), text.fillna("").to_numpy(), ""))
    why = _join_columns(np.column_stack(parts) if parts else np.empty((len(at_risk), 0)),
                        at_risk.index)  # fmt: skip
    flag = at_risk["at_risk"].astype("boolean")
    small = at_risk["n_respondents"].to_numpy(dtype=float) < account_min_n
    why = why.mask(flag.eq(False).fillna(False).to_numpy(), "not at risk")
    unassessed = flag.isna().to_numpy()
    why = why.mask(unassessed & small, f"not assessed: fewer than {account_min_n} respondents")
    return why.mask(unassessed & ~small, "not assessed")


def _for_people(at_risk: pd.DataFrame, account_min_n: int) -> pd.DataFrame:
    """The list under headers an account manager reads; no key, flag or code name.

    Columns: ``Account``, ``Country`` ("Germany (DE)"), ``Respondents``, ``Why at risk``, the
    scores the study has, ``Weakest attributes`` (the country's, said so, for a small
    account) and, with a revenue table, ``Revenue at stake (USD)`` and ``Revenue year``; with
    an organisation mapping :data:`ROUTING_HEADERS` last.
    """
    out = pd.DataFrame(index=at_risk.index)
    if "case_id" in at_risk.columns:  # a tracked list: the case the manager reports back on
        out["Case"] = at_risk["case_id"].astype("string")
    out["Account"] = at_risk.get("account_name", pd.NA)
    out["Country"] = _country_labels(at_risk["country"].astype("string"))
    if "case_id" in at_risk.columns:
        out["Status"] = at_risk["case_status"].astype("string")
        out["Due"] = pd.to_datetime(at_risk["due"], errors="coerce").dt.date
    out["Respondents"] = at_risk["n_respondents"]
    out["Why at risk"] = _why_at_risk(at_risk, account_min_n)
    out["Mean likelihood to recommend (0-10)"] = at_risk["ltr_mean"]
    out["NPS (-100 to +100)"] = at_risk["nps"]
    if "loyalty_index" in at_risk.columns:
        out["Loyalty index (0-100)"] = at_risk["loyalty_index"]
    if "trend" in at_risk.columns:
        out["Trend"] = at_risk["trend"].astype("string")
    if "weakest_attributes" in at_risk.columns:
        weakest = at_risk["weakest_attributes"].astype("string")
        if "drivers_source" in at_risk.columns:
            country_wide = at_risk["drivers_source"].eq("country").fillna(False).to_numpy()
            weakest = weakest.mask(
                country_wide & weakest.notna().to_numpy(),
                weakest + " (country-wide: too few respondents for the account's own)",
            )
        out["Weakest attributes"] = weakest
    if "revenue_usd" in at_risk.columns and at_risk["revenue_usd"].notna().any():
        out["Revenue at stake (USD)"] = at_risk["revenue_usd"]
        out["Revenue year"] = at_risk.get("revenue_year", pd.NA)
    for column, header in ROUTING_HEADERS.items():  # last: the columns of every study stay put
        if column in at_risk.columns:
            out[header] = at_risk[column].astype("string")
    return out.reset_index(drop=True)


def account_list_for_people(
    at_risk: pd.DataFrame, *, account_min_n: int = DEFAULT_ACCOUNT_MIN_N
) -> pd.DataFrame:
    """The at-risk list as it is written: checked, under the headers an account manager reads.

    Parameters
    ----------
    at_risk : pandas.DataFrame
        Output of :func:`at_risk_list`, with the routing columns of
        :func:`csatlib.loop.routing.with_account_routes` or without.  Refused if it carries a
        column outside :data:`AT_RISK_LIST_COLUMNS` (a respondent's name, e-mail or verbatim
        cannot slip in) or a score for an account below ``account_min_n``.
    account_min_n : int
        The minimum used to build ``at_risk``; checked again here.

    Returns
    -------
    pandas.DataFrame
        One row per row of ``at_risk`` (same order, index reset), columns as
        :func:`write_account_lists` describes.
    """
    need = ["country", "n_respondents", "at_risk", "at_risk_reasons", "ltr_mean", "nps"]
    require_columns(at_risk, need, "write_account_lists")
    account_min_n = check_min_n(account_min_n, func="write_account_lists", param="account_min_n")
    scores = [c for c in (*_SCORE_COLUMNS, "nps_change") if c in at_risk.columns]
    extra = [c for c in at_risk.columns if c not in AT_RISK_LIST_COLUMNS]
    if extra:
        raise DataError(
            f"write_account_lists: an account list may only carry {list(AT_RISK_LIST_COLUMNS)}; "
            f"found other columns {extra}"
        )
    small = at_risk["n_respondents"].to_numpy(dtype=float) < account_min_n
    leaks = at_risk.loc[small, ["at_risk_reasons", *scores]].notna().any(axis=1)
    if leaks.any():
        row = leaks[leaks].index[0]
        raise DataError(
            f"write_account_lists: row {_label(row)!r} ({at_risk.loc[row, 'account_name']!r}) has "
            f"n_respondents = {at_risk.loc[row, 'n_respondents']} < account_min_n = "
            f"{account_min_n} but carries scores; build the list with at_risk_list()"
        )
    return _for_people(at_risk, account_min_n)


def write_account_lists(
    at_risk: pd.DataFrame,
    out_dir: str | Path,
    *,
    account_min_n: int = DEFAULT_ACCOUNT_MIN_N,
    countries: Sequence[str] | None = None,
) -> tuple[Path, ...]:
    """Write ``at_risk_<CC>.csv`` per country and ``at_risk_all.csv`` through the safe writer.

    Parameters
    ----------
    at_risk : pandas.DataFrame
        Output of :func:`at_risk_list` (with the routing columns of
        :func:`csatlib.loop.routing.with_account_routes` when the study has an organisation
        mapping).  Refused if it carries a column outside :data:`AT_RISK_LIST_COLUMNS` (a
        respondent's name, e-mail or verbatim cannot slip in) or a score for an account below
        ``account_min_n``.  ``loyalty_index``, ``weakest_attributes`` and ``drivers_source``
        may be absent (a study without them).
    out_dir : str or pathlib.Path
        Folder, created if missing (reports/lists/accounts).
    account_min_n : int
        The minimum used to build ``at_risk``; checked again here.
    countries : sequence of str, optional
        Countries that get a file even when they have no row (a header-only file says "none"
        more clearly than a missing file).  Default the countries in ``at_risk``.

    Returns
    -------
    tuple of pathlib.Path
        The files written, per country in order, then ``at_risk_all.csv``.

    Notes
    -----
    The files are for account managers, so their headers are words, not code names:
    ``Account``, ``Country`` ("Germany (DE)"), ``Respondents``, ``Why at risk`` (the criteria
    the account met, e.g. "NPS below 0 (-33.3); mean likelihood to recommend below 6.5
    (4.67)"), ``Mean likelihood to recommend (0-10)``, ``NPS (-100 to +100)``, ``Loyalty index
    (0-100)`` and ``Weakest attributes`` where the study has them, with revenue ``Revenue at
    stake (USD)`` and ``Revenue year``, and with an organisation mapping ``Business unit(s)``,
    ``Account manager`` and ``Manager e-mail`` (:data:`ROUTING_HEADERS`; empty for an account
    the mapping does not name).  ``account_key``, ``at_risk`` (the reason says it) and
    ``drivers_source`` (folded into ``Weakest attributes``) stay out.  The files per account
    manager and business unit are :func:`csatlib.loop.routing.write_routed_account_lists`'s.
    """
    people = account_list_for_people(at_risk, account_min_n=account_min_n)
    out = Path(out_dir)
    country = at_risk["country"].astype("string")
    wanted = sorted(set(country.dropna()) | set(countries or []))
    paths = []
    for cc in wanted:  # one file per country, a handful of countries
        safe_cc = re.sub(r"[^A-Za-z0-9_-]", "_", str(cc))
        paths.append(
            write_csv_safely(
                people[country.eq(cc).fillna(False).to_numpy()], out / f"at_risk_{safe_cc}.csv"
            )
        )
    paths.append(write_csv_safely(people, out / "at_risk_all.csv"))
    return tuple(paths)


# ---------------------------------------------------------------------------------------------
# revenue linkage
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RevenueLinkage:
    """Result of :func:`revenue_linkage`.

    Attributes
    ----------
    accounts : pandas.DataFrame
        Surveyed accounts with revenue: ``country``, ``account_key``, ``account_name``, ``n``,
        ``ltr_mean``, ``nps``, ``category``, ``at_risk``, ``revenue_base``, ``revenue_year``
        (latest), ``revenue_change_pct``.
    by_category : pandas.DataFrame
        ``category``, ``n`` (accounts), ``suppressed``, ``mean_change_pct``, ``sd``, ``se``,
        ``ci_low``, ``ci_high``, ``median_change_pct``.
    test : pandas.DataFrame
        ``test`` (``"kruskal_wallis"``, ``"spearman"``), ``statistic``, ``df``, ``p_value``,
        ``n``.
    at_risk_by_country : pandas.DataFrame
        ``country``, ``n_accounts``, ``n_at_risk``, ``revenue_usd``, ``revenue_at_risk``,
        ``share_at_risk``.
    unmatched_revenue : pandas.DataFrame
        Revenue accounts (key, country) with no survey row: ``country``, ``account_key``,
        ``account_name``, ``revenue_usd`` (latest year), ``surveyed_in_other_country``.
    unmatched_survey : pandas.DataFrame
        Surveyed accounts with no revenue in either year: ``country``, ``account_key``,
        ``account_name``, ``n``.
    year, base_year, category_by
        Settings used.
    """

    accounts: pd.DataFrame
    by_category: pd.DataFrame
    test: pd.DataFrame
    at_risk_by_country: pd.DataFrame
    unmatched_revenue: pd.DataFrame
    unmatched_survey: pd.DataFrame
    year: int
    base_year: int
    category_by: str
    notes: tuple[str, ...] = field(default=())


_CATEGORIES = ["detractor", "passive", "promoter"]


def revenue_linkage(
    summary: pd.DataFrame,
    revenue: pd.DataFrame,
    *,
    match: AccountMatch,
    year: int | None = None,
    base_year: int | None = None,
    category_by: Literal["mean_ltr", "nps"] = "mean_ltr",
    min_n: int = DEFAULT_MIN_N,
    conf: float = DEFAULT_CONF,
) -> RevenueLinkage:
    """Does revenue grow with satisfaction?  Revenue change by account NPS category, at-risk money.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`account_summary` (with the at-risk flag).
    revenue : pandas.DataFrame
        ``account, country, year, revenue_usd``.
    match : AccountMatch
        The account matching used for ``summary`` (revenue names go through it too).
    year, base_year : int, optional
        Change is ``year`` vs ``base_year`` (default the latest year in the file and the one
        before it, e.g. 2026 vs 2025).
    category_by : {"mean_ltr", "nps"}
        ``"mean_ltr"``: promoter account if the account's mean LTR >= 9, passive if >= 7,
        detractor below 7 (the individual NPS cut-points applied to the account mean).
        ``"nps"``: promoter account if account NPS > 0, passive if = 0, detractor if < 0.
    min_n : int
        Categories with fewer accounts get ``suppressed=True`` and NaN estimates.
    conf : float
        Confidence level of the intervals.

    Returns
    -------
    RevenueLinkage

    Notes
    -----
    :math:`\\Delta\\% = 100\\,(R_{year} - R_{base}) / R_{base}` per account and country (NaN if
    either year is missing or :math:`R_{base} \\le 0`).  Per category the mean with a t interval
    :math:`\\bar x \\pm t_{n-1,1-\\alpha/2}\\, s/\\sqrt{n}`; across categories the Kruskal-Wallis H
    test (``scipy.stats.kruskal``, robust to the heavy tails of percentage changes) and, as a
    dose-response check, Spearman's rho between the account's LTR measure and the change.
    Accounts suppressed in ``summary`` (too few respondents) have no category and do not enter
    the tests; they still count in ``at_risk_by_country``.  Revenue at risk is the ``year``
    revenue of accounts flagged at risk.  Checked against scipy and a hand computation in
    tests/loop/test_accounts.py.

    References
    ----------
    Kruskal, W. H. & Wallis, W. A. (1952). Use of ranks in one-criterion variance analysis.
    JASA 47, 583-621.  Keiningham, T. L. et al. (2007). A longitudinal examination of net
    promoter and firm revenue growth. Journal of Marketing, 71(3), 39-51.
    """
    need = [
        "country",
        "account_key",
        "account_name",
        "n",
        "suppressed",
        "ltr_mean",
        "nps",
        "at_risk",
    ]
    require_columns(summary, need, "revenue_linkage: summary")
    if not isinstance(match, AccountMatch):
        raise DataError(f"match: expected an AccountMatch, found {type(match).__name__}")
    if category_by not in ("mean_ltr", "nps"):
        raise DataError(f"category_by: expected 'mean_ltr' or 'nps', found {category_by!r}")
    min_n = check_min_n(min_n, func="revenue_linkage")
    conf = check_conf(conf, func="revenue_linkage")

    rev = _revenue_frame(revenue, match)
    year = int(rev["year"].max()) if year is None else int(year)
    base_year = year - 1 if base_year is None else int(base_year)
    wide = _revenue_by_year(rev, year, base_year)
    s = _categorized(summary, category_by)
    linked = s.drop(columns=["revenue_usd", "revenue_year"], errors="ignore").merge(
        wide.drop(columns="account_name"),
        on=["account_key", "country"],
        how="left",
        indicator=True,
    )
    has_rev = linked["_merge"].eq("both").to_numpy()
    base = linked["revenue_base"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = 100.0 * (linked["revenue_usd"].astype(float) - base) / base
    linked["revenue_change_pct"] = change.where(base > 0)
    linked["revenue_year"] = year
    accounts = linked.loc[has_rev, list(_LINKED_COLUMNS)].reset_index(drop=True)
    unmatched_survey = linked.loc[~has_rev, ["country", "account_key", "account_name", "n"]]
    unmatched_revenue = _revenue_without_survey(wide, s)

    valid = accounts[accounts["category"].notna() & accounts["revenue_change_pct"].notna()]
    notes = (
        f"{int(s['suppressed'].sum())} account(s) below the account minimum have no category",
        f"{len(unmatched_survey)} surveyed account(s) without revenue, "
        f"{len(unmatched_revenue)} revenue account(s) without survey",
    )
    return RevenueLinkage(
        accounts=accounts,
        by_category=_change_by_category(valid, min_n=min_n, conf=conf),
        test=_change_tests(valid, category_by),
        at_risk_by_country=_revenue_at_risk_by_country(linked),
        unmatched_revenue=unmatched_revenue.reset_index(drop=True),
        unmatched_survey=unmatched_survey.reset_index(drop=True),
        year=year,
        base_year=base_year,
        category_by=category_by,
        notes=notes,
    )


_LINKED_COLUMNS = (
    "country",
    "account_key",
    "account_name",
    "n",
    "ltr_mean",
    "nps",
    "category",
    "at_risk",
    "revenue_base",
    "revenue_year",
    "revenue_usd",
    "revenue_change_pct",
)


def _revenue_by_year(rev: pd.DataFrame, year: int, base_year: int) -> pd.DataFrame:
    """One row per (account_key, country): ``revenue_base``, ``revenue_usd`` and the name."""
    wide = rev.pivot_table(
        index=["account_key", "country"], columns="year", values="revenue_usd", aggfunc="sum"
    )
    names = rev.groupby(["account_key", "country"])["account_name"].first()
    return pd.DataFrame(
        {
            "revenue_base": wide[base_year] if base_year in wide.columns else np.nan,
            "revenue_usd": wide[year] if year in wide.columns else np.nan,
            "account_name": names,
        },
        index=wide.index,
    ).reset_index()


def _categorized(summary: pd.DataFrame, category_by: str) -> pd.DataFrame:
    """``summary`` with a string ``country`` and the account's NPS ``category`` (ordered)."""
    s = summary.assign(country=summary["country"].astype("string"))
    if category_by == "mean_ltr":
        x = s["ltr_mean"].astype(float)
        cat = np.select([x >= 9, x >= 7, x < 7], _CATEGORIES[::-1], default="")
    else:
        x = s["nps"].astype(float)
        cat = np.select([x > 0, x == 0, x < 0], _CATEGORIES[::-1], default="")
    s["category"] = pd.Categorical(
        pd.Series(cat, index=s.index).replace("", np.nan), categories=_CATEGORIES, ordered=True
    )
    return s


def _revenue_without_survey(wide: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    """Revenue accounts (key, country) with no survey row, and whether surveyed elsewhere."""
    in_survey = (
        wide[["account_key", "country"]]
        .merge(s[["account_key", "country"]].drop_duplicates(), how="left", indicator=True)[
            "_merge"
        ]
        .eq("both")
        .to_numpy()
    )
    unmatched = wide.loc[~in_survey, ["country", "account_key", "account_name", "revenue_usd"]]
    unmatched = unmatched.copy()
    unmatched["surveyed_in_other_country"] = unmatched["account_key"].isin(s["account_key"])
    return unmatched


def _change_by_category(valid: pd.DataFrame, *, min_n: int, conf: float) -> pd.DataFrame:
    """Revenue change per category: mean with a t interval, median; small categories blanked."""
    g = valid.groupby("category", observed=False)["revenue_change_pct"]
    by = pd.DataFrame(
        {
            "n": g.size(),
            "mean_change_pct": g.mean(),
            "sd": g.std(ddof=1),
            "median_change_pct": g.median(),
        }
    )
    by["se"] = by["sd"] / np.sqrt(by["n"])
    tcrit = stats.t.ppf(0.5 + conf / 2.0, by["n"] - 1)
    by["ci_low"] = by["mean_change_pct"] - tcrit * by["se"]
    by["ci_high"] = by["mean_change_pct"] + tcrit * by["se"]
    by["suppressed"] = by["n"] < min_n
    est = ["mean_change_pct", "sd", "se", "ci_low", "ci_high", "median_change_pct"]
    by.loc[by["suppressed"], est] = np.nan
    by = by.reset_index()[
        [
            "category",
            "n",
            "suppressed",
            "mean_change_pct",
            "sd",
            "se",
            "ci_low",
            "ci_high",
            "median_change_pct",
        ]
    ]
    by["category"] = by["category"].astype(str)
    return by


def _change_tests(valid: pd.DataFrame, category_by: str) -> pd.DataFrame:
    """Kruskal-Wallis across categories and Spearman's rho of the LTR measure with the change."""
    g = valid.groupby("category", observed=False)["revenue_change_pct"]
    groups = [grp.to_numpy(dtype=float) for _, grp in g if len(grp) > 0]
    rows = []
    if len(groups) >= 2 and sum(len(v) for v in groups) > len(groups):
        # every value identical: no ranks to compare (scipy would warn and divide by zero)
        same = np.ptp(np.concatenate(groups)) == 0
        h, p = (np.nan, np.nan) if same else stats.kruskal(*groups)
        rows.append(("kruskal_wallis", float(h), len(groups) - 1, float(p), len(valid)))
    else:
        rows.append(("kruskal_wallis", np.nan, np.nan, np.nan, len(valid)))
    measure = valid["ltr_mean" if category_by == "mean_ltr" else "nps"].astype(float)
    change = valid["revenue_change_pct"].astype(float)
    # a constant measure or change has no ranking: no correlation (not scipy's warning)
    if len(valid) >= 3 and measure.nunique() > 1 and change.nunique() > 1:
        rho, p = stats.spearmanr(measure, change)
        rows.append(("spearman", float(rho), np.nan, float(p), len(valid)))
    else:
        rows.append(("spearman", np.nan, np.nan, np.nan, len(valid)))
    return pd.DataFrame(rows, columns=["test", "statistic", "df", "p_value", "n"])


def _revenue_at_risk_by_country(linked: pd.DataFrame) -> pd.DataFrame:
    """Revenue of the at-risk accounts per country (every surveyed account, suppressed too)."""
    r = linked.assign(
        flagged=linked["at_risk"].astype("boolean").fillna(False).to_numpy(dtype=bool),
        rev=linked["revenue_usd"].astype(float).fillna(0.0),
    )
    r["rev_at_risk"] = r["rev"].where(r["flagged"], 0.0)
    gc = r.groupby("country", sort=True)
    out = pd.DataFrame(
        {
            "n_accounts": gc.size(),
            "n_at_risk": gc["flagged"].sum().astype(int),
            "revenue_usd": gc["rev"].sum(),
            "revenue_at_risk": gc["rev_at_risk"].sum(),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_at_risk"] = (out["revenue_at_risk"] / out["revenue_usd"]).where(
            out["revenue_usd"] > 0
        )
    return out.reset_index()
