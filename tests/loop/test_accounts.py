"""Tests of csatlib.loop.accounts: name normalization, matching, account summary, lists, revenue."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.weightstats import DescrStatsW

from csatlib.errors import DataError
from csatlib.loop.accounts import (
    AT_RISK_LIST_COLUMNS,
    ROUTING_HEADERS,
    AccountMatch,
    AtRiskRule,
    account_summary,
    assign_accounts,
    at_risk_list,
    country_weakest_attributes,
    legal_form,
    match_accounts,
    normalize_account_name,
    revenue_linkage,
    study_rule,
    write_account_lists,
)
from csatlib.safety import FORMULA_PREFIXES


def _live_formula(cell: str) -> bool:
    """A cell a spreadsheet would evaluate: formula prefix and not a plain number ("-12.5")."""
    if not cell.startswith(FORMULA_PREFIXES):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


# The sample's relationship survey (data/raw/relationship_survey.codebook.yaml): eight 1-10
# attributes, four 1-10 loyalty items.  The module reads them from the roles; the tests name them.
ATTRIBUTES = (
    "product_quality",
    "total_cost_of_ownership",
    "post_sales_support",
    "on_site_service",
    "delivery",
    "invoicing_accuracy",
    "ease_of_ordering",
    "account_management",
)
LOYALTY = ["loyalty_emotional", "loyalty_attitudinal", "loyalty_cognitive", "loyalty_referral"]


def _with_roles(df: pd.DataFrame) -> pd.DataFrame:
    """Attach the codebook roles and scales a processed sample table carries in ``attrs``."""
    df.attrs = {
        "roles": {
            "response_id": "id",
            "country": "country",
            "account": "account",
            "likelihood_to_recommend": "nps",
            **dict.fromkeys(ATTRIBUTES, "attribute"),
            **dict.fromkeys(LOYALTY, "loyalty"),
            "text_like": "text_like",
            "text_dislike": "text_dislike",
            "complaint": "complaint",
            "contact_ok": "contact_ok",
            "contact_name": "contact",
            "contact_email": "contact",
            "competitor": "other",
        },
        "labels": {},
        "scales": {
            "likelihood_to_recommend": [0, 10],
            **{c: [1, 10] for c in (*ATTRIBUTES, *LOYALTY)},
        },
    }
    return df


# ---------------------------------------------------------------------------------------------
# normalization
# ---------------------------------------------------------------------------------------------
SAME_ACCOUNT = [
    ["Müller GmbH", "MUELLER GMBH", "Muller", "Müller G.m.b.H.", "  müller   gmbh "],
    ["Acme Holdings, Inc.", "ACME HOLDINGS INC", "Acme Holdings Incorporated", "acme holdings"],
    ["Société Générale S.A.", "SOCIETE GENERALE SA", "Societe Generale", "Société Générale"],
    ["Fiat S.p.A.", "FIAT SPA", "Fiat"],
    ["Ferrero S.r.l.", "Ferrero SRL"],
    [
        "Hayashi Seiki K.K.",
        "Hayashi Seiki Kabushiki Kaisha",
        "Hayashi Seiki Co., Ltd.",
        "Kabushiki Kaisha Hayashi Seiki",
        "HAYASHI SEIKI",
    ],
    ["Kalahari Copper (Pty) Ltd", "Kalahari Copper Pty Ltd", "Kalahari Copper"],
    ["Philips N.V.", "Philips NV"],
    ["Heineken B.V.", "Heineken BV"],
    ["Schmidt GmbH & Co. KG", "Schmidt GmbH und Co KG", "Schmidt"],
    ["Bergfeld Aktiengesellschaft", "Bergfeld AG", "Bergfeld A.G."],
    ["Ferreira & Filhos Ltda.", "Ferreira e Filhos Ltda", "Ferreira and Filhos"],
    ["Weißdorn Chemie GmbH", "Weissdorn Chemie"],
    ["Ørsted A/S", "Orsted AS"],
    ["Tannenhöhe Bau SE", "Tannenhoehe Bau", "TANNENHÖHE BAU"],
    ["Lumière Optique SAS", "Lumiere Optique S.A.S.", "LUMIÈRE OPTIQUE"],
    ["The Boeing Company", "Boeing Co.", "Boeing"],
    ["O'Brien Ltd", "OBrien Limited"],
    ["Redcliff LLC", "Redcliff L.L.C.", "Redcliff Corp.", "Redcliff Corporation"],
    ["ＡＢＣ Ｃｏｒｐ", "ABC Corp"],  # full-width (NFKC)
    ["株式会社林精機", "林精機株式会社", "林精機"],
]


@pytest.mark.parametrize("names", SAME_ACCOUNT, ids=[g[0] for g in SAME_ACCOUNT])
def test_normalize_same_account_same_key(names: list[str]) -> None:
    keys = normalize_account_name(pd.Series(names))
    assert keys.nunique() == 1, dict(zip(names, keys, strict=True))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme", "Acme Logistics"),
        ("Müller GmbH", "Miller GmbH"),
        ("Nordwind Energie GmbH", "Nordwind Energy Inc"),
        ("Acme 1", "Acme 2"),
        ("Limited Brands", "Brands"),  # a legal word is removed at the end only
        ("Company", "Acme"),
    ],
)
def test_normalize_different_accounts_differ(a: str, b: str) -> None:
    ka, kb = normalize_account_name(pd.Series([a, b]))
    assert ka != kb


def test_normalize_examples_and_missing() -> None:
    s = pd.Series(
        ["Müller GmbH", "Société Générale S.A.", "Company", None, "   "], index=[5, 6, 7, 8, 9]
    )
    out = normalize_account_name(s)
    assert out.name == "account_key"
    assert list(out.index) == [5, 6, 7, 8, 9]
    assert out.iloc[:3].tolist() == ["muller", "societe generale", "company"]
    assert out.iloc[3:].isna().all()


def test_legal_form_is_what_was_removed() -> None:
    s = pd.Series(["Müller GmbH", "Fiat S.p.A.", "Acme Pty Ltd", "Schmidt GmbH & Co. KG", "Acme"])
    assert legal_form(s).tolist() == ["gmbh", "spa", "pty ltd", "gmbh and co kg", ""]


def test_normalize_rejects_non_series() -> None:
    with pytest.raises(DataError, match="expected a pandas Series"):
        normalize_account_name(["Acme"])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# matching
# ---------------------------------------------------------------------------------------------
def _lcs(a: str, b: str) -> int:
    """Longest common subsequence by dynamic programming (independent of rapidfuzz)."""
    dp = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, ca in enumerate(a, 1):
        for j, cb in enumerate(b, 1):
            dp[i][j] = dp[i - 1][j - 1] + 1 if ca == cb else max(dp[i - 1][j], dp[i][j - 1])
    return dp[-1][-1]


def _token_sort_ratio(a: str, b: str) -> float:
    a, b = " ".join(sorted(a.split())), " ".join(sorted(b.split()))
    return 100.0 * 2 * _lcs(a, b) / (len(a) + len(b))


@pytest.fixture()
def names() -> pd.Series:
    return pd.Series(
        [
            "Müller GmbH", "MUELLER GMBH", "Muller", "Muller",
            "Northwind Traders", "Northwind Traders", "Northwind Trader",
            "Fabrikam", "Fabrikan",
            "Northwind Traders 1", "Northwind Traders 2",
            "Acme Inc", "ACME GmbH",
            "Tailspin Toys", "Tailspin Toy",
            "IBM",
            None, "",
        ]
    )  # fmt: skip


def test_match_exact_fuzzy_and_counts(names: pd.Series) -> None:
    m = match_accounts(names)
    mp = m.mapping.set_index("name")
    assert mp.loc[["Müller GmbH", "MUELLER GMBH", "Muller"], "account_key"].nunique() == 1
    assert mp.loc["Muller", "n_rows"] == 2
    assert (mp.loc[["Müller GmbH", "MUELLER GMBH", "Muller"], "method"] == "exact_normalized").all()
    # most frequent spelling names the account; on ties not the all-capitals one
    assert mp.loc["MUELLER GMBH", "account_name"] == "Muller"
    assert mp.loc["Northwind Trader", "account_name"] == "Northwind Traders"
    assert mp.loc["Northwind Trader", "method"] == "fuzzy"
    assert mp.loc["Northwind Trader", "score"] == pytest.approx(
        _token_sort_ratio("northwind trader", "northwind traders"), abs=1e-4
    )
    assert mp.loc["Northwind Traders", "method"] == "exact_normalized"
    assert "" not in mp.index and len(mp) == 14  # 14 distinct names, blanks and <NA> left out
    # muller, northwind traders, fabrikam, fabrikan, ... 1, ... 2, acme, tailspin toys, ibm
    assert m.n_accounts == 9


def test_similar_but_different_are_reviewed_not_merged(names: pd.Series) -> None:
    m = match_accounts(names)
    mp = m.mapping.set_index("name")
    assert mp.loc["Fabrikam", "account_key"] != mp.loc["Fabrikan", "account_key"]
    assert (
        mp.loc["Northwind Traders 1", "account_key"] != mp.loc["Northwind Traders 2", "account_key"]
    )
    rv = m.review
    pair = rv[(rv["key_a"] == "fabrikam") & (rv["key_b"] == "fabrikan")]
    assert len(pair) == 1
    assert pair["reason"].iloc[0] == "review_band" and not pair["merged"].iloc[0]
    assert pair["score"].iloc[0] == pytest.approx(
        _token_sort_ratio("fabrikam", "fabrikan"), abs=1e-4
    )
    nums = rv[rv["key_a"].eq("northwind traders 1") & rv["key_b"].eq("northwind traders 2")]
    assert nums["reason"].tolist() == ["numbers_differ"]  # 94.7 >= 92, still not merged
    legal = rv[rv["reason"] == "legal_form_differs"]
    assert set(legal[["name_a", "name_b"]].iloc[0]) == {"Acme Inc", "ACME GmbH"}
    assert legal["merged"].all()


def test_threshold_decides(names: pd.Series) -> None:
    strict = match_accounts(names, threshold=99.0, review_band=(80.0, 99.0)).mapping
    strict = strict.set_index("name")
    assert (
        strict.loc["Northwind Trader", "account_key"]
        != strict.loc["Northwind Traders", "account_key"]
    )
    loose = match_accounts(names, threshold=85.0, review_band=(80.0, 85.0)).mapping.set_index(
        "name"
    )
    assert loose.loc["Fabrikam", "account_key"] == loose.loc["Fabrikan", "account_key"]


def test_alias_overrides_fuzzy(names: pd.Series) -> None:
    aliases = pd.DataFrame(
        {
            "alias": ["Tailspin Toy", "IBM"],
            "canonical": ["Wingtip Toys", "International Business Machines Corp."],
        }
    )
    m = match_accounts(pd.concat([names, pd.Series(["Wingtip Toys Inc"])]), aliases=aliases)
    mp = m.mapping.set_index("name")
    assert mp.loc["Tailspin Toy", "method"] == "alias"
    assert mp.loc["Tailspin Toy", "account_name"] == "Wingtip Toys"
    assert mp.loc["Tailspin Toy", "account_key"] != mp.loc["Tailspin Toys", "account_key"]
    # a name spelled like the canonical joins the alias account and shows the canonical name
    assert mp.loc["Wingtip Toys Inc", "account_key"] == mp.loc["Tailspin Toy", "account_key"]
    assert mp.loc["Wingtip Toys Inc", "account_name"] == "Wingtip Toys"
    assert mp.loc["IBM", "account_name"] == "International Business Machines Corp."
    assert np.isnan(mp.loc["IBM", "score"])


def test_repeated_matching_is_remembered_but_never_shared(names: pd.Series) -> None:
    from csatlib.loop import accounts

    first = match_accounts(names)
    first.mapping.loc[0, "account_name"] = "changed by the caller"
    again = match_accounts(names.copy())  # same content, another object: remembered result
    assert again.mapping is not first.mapping
    assert "changed by the caller" not in set(again.mapping["account_name"])
    pd.testing.assert_frame_equal(again.review, first.review)
    # anything the result depends on is part of the key
    aliases = pd.DataFrame({"alias": ["Tailspin Toy"], "canonical": ["Wingtip Toys"]})
    with_alias = match_accounts(names, aliases=aliases).mapping.set_index("name")
    assert with_alias.loc["Tailspin Toy", "method"] == "alias"
    stricter = match_accounts(names, threshold=99.0, review_band=(80.0, 99.0)).mapping
    assert not stricter["account_key"].equals(again.mapping["account_key"])
    assert len(accounts._MATCH_CACHE) <= accounts._MATCH_CACHE_SIZE


def test_alias_errors() -> None:
    names = pd.Series(["Acme"])
    with pytest.raises(DataError, match="missing \\['canonical'\\]"):
        match_accounts(names, aliases=pd.DataFrame({"alias": ["x"]}))
    clash = pd.DataFrame({"alias": ["AHI", "A.H.I."], "canonical": ["Acme", "Other"]})
    with pytest.raises(DataError, match="different canonical names"):
        match_accounts(names, aliases=clash)
    with pytest.raises(DataError, match="row 1"):
        match_accounts(names, aliases=pd.DataFrame({"alias": [""], "canonical": ["Acme"]}))


def test_match_argument_errors() -> None:
    with pytest.raises(DataError, match="review_band"):
        match_accounts(pd.Series(["a"]), threshold=70.0, review_band=(80.0, 92.0))
    with pytest.raises(DataError, match="scorer"):
        match_accounts(pd.Series(["a"]), scorer="jaro")  # type: ignore[arg-type]


def test_blocks_do_not_change_result(names: pd.Series) -> None:
    a = match_accounts(names)
    b = match_accounts(names, block_size=3)
    pd.testing.assert_frame_equal(a.mapping, b.mapping)
    pd.testing.assert_frame_equal(a.review, b.review)


def test_assign_accounts_unseen_name_keeps_its_own_key(names: pd.Series) -> None:
    m = match_accounts(names)
    df = pd.DataFrame({"account": ["MUELLER GMBH", "Brand New GmbH", None]})
    out = assign_accounts(df, m)
    assert out["account_name"].iloc[0] == "Muller"
    assert out["account_key"].iloc[1] == "brand new"
    assert out["account_name"].iloc[1] == "Brand New GmbH"
    assert out["account_key"].isna().iloc[2]
    with pytest.raises(DataError, match="'customer'"):
        assign_accounts(df, m, column="customer")


# ---------------------------------------------------------------------------------------------
# account summary, at-risk rule, account-manager list
# ---------------------------------------------------------------------------------------------
def _respondent(i: int, account: str, country: str, ltr: int, attrs: list[int], loyal: int,
                competitor: bool = False) -> dict:  # fmt: skip
    row = {
        "response_id": f"R{i:03d}",
        "country": country,
        "account": account,
        "competitor": competitor,
        "likelihood_to_recommend": ltr,
        **dict(zip(ATTRIBUTES, attrs, strict=True)),
        **{item: loyal for item in LOYALTY},
        "text_like": f"VERBATIM-LIKE-{i:03d} great people",
        "text_dislike": f"VERBATIM-DISLIKE-{i:03d} slow invoices",
        "complaint": f"VERBATIM-COMPLAINT-{i:03d} call me",
        "contact_ok": True,
        "contact_name": f"Person Name{i:03d}",
        "contact_email": f"person{i:03d}@example.com",
    }
    return row


def _responses() -> pd.DataFrame:
    base = [8, 7, 6, 9, 5, 8, 7, 6]
    rows = [
        # Alpha (DE), 4 respondents: LTR 10, 9, 3, 2 -> mean 6.0, NPS 0, not < 0
        _respondent(1, "Alpha GmbH", "DE", 10, base, 8),
        _respondent(2, "ALPHA GMBH", "DE", 9, [9, 7, 6, 9, 5, 8, 7, 6], 7),
        _respondent(3, "Alpha", "DE", 3, [7, 7, 6, 9, 4, 8, 7, 5], 3),
        _respondent(4, "Alpha", "DE", 2, base, 2),
        # Beta (DE), 1 respondent: the aggregate is this person's answer
        _respondent(5, "Beta AG", "DE", 1, [2, 2, 2, 2, 2, 2, 2, 2], 1),
        # Gamma (FR), 3 respondents, content: LTR 9, 9, 8
        _respondent(6, "Gamma SA", "FR", 9, [9] * 8, 9),
        _respondent(7, "Gamma S.A.", "FR", 9, [9, 9, 9, 9, 9, 9, 9, 8], 9),
        _respondent(8, "Gamma", "FR", 8, [8] * 8, 8),
        # Delta (FR), 2 respondents, both detractors
        _respondent(9, "Delta SARL", "FR", 4, [3] * 8, 2),
        _respondent(10, "Delta", "FR", 5, [4] * 8, 3),
        # a competitor's customer: never ours
        _respondent(11, "Alpha GmbH", "DE", 0, [1] * 8, 1, competitor=True),
        # formula-injection payloads in account names
        _respondent(12, '=HYPERLINK("http://x","click")', "DE", 2, [2] * 8, 2),
        _respondent(13, "+cmd|' /C calc'!A0", "DE", 3, [3] * 8, 3),
        _respondent(14, "@SUM(1)", "DE", 1, [1] * 8, 1),
    ]
    df = pd.DataFrame(rows)
    for col in ["likelihood_to_recommend", *ATTRIBUTES, *LOYALTY]:
        df[col] = df[col].astype("Int64")
    df["contact_ok"] = df["contact_ok"].astype("boolean")
    return _with_roles(df)


def _revenue() -> pd.DataFrame:
    rows = [
        ("Alpha GmbH", "DE", 2025, 100.0), ("Alpha GmbH", "DE", 2026, 90.0),
        ("Beta AG", "DE", 2025, 50.0), ("Beta AG", "DE", 2026, 60.0),
        ("Gamma SA", "FR", 2025, 200.0), ("Gamma SA", "FR", 2026, 260.0),
        ("Gamma SA", "DE", 2025, 10.0), ("Gamma SA", "DE", 2026, 11.0),  # not surveyed in DE
        ("Epsilon Ltd", "FR", 2025, 70.0), ("Epsilon Ltd", "FR", 2026, 35.0),  # never surveyed
        # Delta has no revenue row: surveyed, unmatched
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["account", "country", "year", "revenue_usd"])


@pytest.fixture()
def responses() -> pd.DataFrame:
    return _responses()


@pytest.fixture()
def match(responses: pd.DataFrame) -> AccountMatch:
    return match_accounts(pd.concat([responses["account"], _revenue()["account"]]))


def test_account_summary_hand_computed(responses: pd.DataFrame, match: AccountMatch) -> None:
    s = account_summary(responses, match, revenue=_revenue(), account_min_n=3)
    s = s.set_index("account_key")
    alpha = s.loc["alpha"]
    assert alpha["n"] == 4  # the competitor's customer is not counted
    assert alpha["ltr_mean"] == pytest.approx(6.0)  # (10+9+3+2)/4
    assert alpha["nps"] == pytest.approx(0.0)  # 2 promoters, 2 detractors
    # loyalty index of a respondent answering x on every item: 100 (x-1)/9
    assert alpha["loyalty_index"] == pytest.approx(np.mean([700, 600, 200, 100]) / 9)
    # attribute means: delivery 4.75, total_cost_of_ownership 7, post_sales_support 6,
    # invoicing 8, ease 7, account_management 5.75, product_quality 8.25, on_site 9
    assert alpha["weakest_attributes"] == "delivery; account_management; post_sales_support"
    assert bool(alpha["at_risk"])  # mean LTR 6.0 < 6.5
    assert alpha["at_risk_reasons"] == "ltr<6.5; loyalty<50"
    assert alpha["revenue_usd"] == 90.0 and alpha["revenue_year"] == 2026
    gamma = s.loc["gamma"]
    assert gamma["nps"] == pytest.approx(100 * 2 / 3) and not gamma["at_risk"]
    assert (
        gamma["weakest_attributes"]
        == "account_management; product_quality; total_cost_of_ownership"  # 25/3, then 26/3 ties
    )
    # small accounts: no numbers, flag still there
    beta = s.loc["beta"]
    assert beta["suppressed"] and beta["n"] == 1 and bool(beta["at_risk"])
    assert beta[["ltr_mean", "nps", "loyalty_index"]].isna().all()
    assert pd.isna(beta["weakest_attributes"]) and pd.isna(beta["at_risk_reasons"])
    assert np.isnan(s.loc["delta", "revenue_usd"])


def _summary_one(ltr: list[int], loyal: list[int], rule: AtRiskRule) -> pd.Series:
    rows = [
        _respondent(i, "Acme", "DE", v, [5] * 8, lo)
        for i, (v, lo) in enumerate(zip(ltr, loyal, strict=True))
    ]
    df = _with_roles(pd.DataFrame(rows))
    m = match_accounts(df["account"])
    return account_summary(df, m, rule=rule, account_min_n=1).iloc[0]


@pytest.mark.parametrize(
    ("ltr", "loyal", "rule", "expected"),
    [
        # NPS exactly 0 is not < 0; one more detractor makes it < 0
        ([9, 6], [10, 10], AtRiskRule(ltr_below=None, loyalty_below=None), False),
        ([9, 6, 6], [10, 10, 10], AtRiskRule(ltr_below=None, loyalty_below=None), True),
        # mean LTR exactly 6.5 is not < 6.5; 6.4 (mean of 6.4 scale points) is
        ([6, 7], [10, 10], AtRiskRule(nps_below=None, loyalty_below=None), False),
        (
            [6, 6, 6, 7, 7, 6, 6, 6, 7, 7],
            [10] * 10,
            AtRiskRule(nps_below=None, loyalty_below=None),
            True,
        ),
        # loyalty index exactly 50 (items 5.5 on average) is not < 50
        ([9, 9], [5, 6], AtRiskRule(nps_below=None, ltr_below=None), False),
        ([9, 9], [5, 5], AtRiskRule(nps_below=None, ltr_below=None), True),
    ],
)
def test_at_risk_rule_boundaries(ltr, loyal, rule, expected) -> None:
    assert bool(_summary_one(ltr, loyal, rule)["at_risk"]) is expected


def test_at_risk_rule_min_respondents_and_validation() -> None:
    row = _summary_one([0], [1], AtRiskRule(min_respondents=2))
    assert pd.isna(row["at_risk"])
    with pytest.raises(DataError, match="at least one criterion"):
        AtRiskRule(nps_below=None, ltr_below=None, loyalty_below=None)
    with pytest.raises(DataError, match="min_respondents"):
        AtRiskRule(min_respondents=0)
    assert "account NPS < 0" in AtRiskRule().describe()


def test_at_risk_rule_in_a_readers_words() -> None:
    assert AtRiskRule().sentence() == (
        "An account is at risk when its NPS is below 0, its mean likelihood to recommend is "
        "below 6.5 (0–10) or its loyalty index is below 50 (0–100), in the latest wave; "
        "accounts with fewer than 3 respondents in it are not assessed. An account whose NPS "
        "fell since the previous wave is flagged as declining when the fall is significant "
        "(two-sample adjusted Wald test, p < 0.05)."
    )
    one = AtRiskRule(ltr_below=None, loyalty_below=None, min_respondents=5)
    assert one.sentence(account_min_n=3, nps_label="Recommend") == (
        "An account is at risk when its NPS is below 0, in the latest wave; accounts with fewer "
        "than 5 respondents in it are not assessed. An account whose NPS fell since the "
        "previous wave is flagged as declining when the fall is significant (two-sample "
        "adjusted Wald test, p < 0.05)."
    )


def test_country_weakest_attributes_suppressed_below_min_n(responses: pd.DataFrame) -> None:
    cw = country_weakest_attributes(responses, min_n=6).set_index("country")
    assert cw.loc["DE", "n"] == 8 and cw.loc["FR", "n"] == 5
    assert cw.loc["FR", "suppressed"] and pd.isna(cw.loc["FR", "weakest_attributes"])
    assert isinstance(cw.loc["DE", "weakest_attributes"], str)


def test_at_risk_list_small_accounts_show_no_numbers(responses, match) -> None:
    default = at_risk_list(responses, match, revenue=_revenue(), account_min_n=3, min_n=5)
    assert (default["n_respondents"] >= 3).all()  # small accounts: no flag, so not listed
    lst = at_risk_list(
        responses, match, revenue=_revenue(), account_min_n=3, min_n=5, small_account_flag=True
    )
    # every column of the guard but the routing ones (csatlib.loop.routing adds those) and the
    # case ones (csatlib.loop.cases.with_cases adds those)
    added = {*ROUTING_HEADERS, "case_id", "case_status", "due"}
    assert tuple(lst.columns) == tuple(c for c in AT_RISK_LIST_COLUMNS if c not in added)
    assert lst["at_risk"].all()
    small = lst[lst["n_respondents"] < 3]
    assert len(small) >= 3  # Beta, Delta and the payload accounts
    assert small[["ltr_mean", "nps", "loyalty_index", "at_risk_reasons"]].isna().all().all()
    assert (small["drivers_source"] == "country").all()
    cw = country_weakest_attributes(responses, min_n=5).set_index("country")["weakest_attributes"]
    assert (small["weakest_attributes"].to_numpy() == cw.reindex(small["country"]).to_numpy()).all()
    big = lst[lst["n_respondents"] >= 3]
    assert big["ltr_mean"].notna().all() and (big["drivers_source"] == "account").all()
    assert big["loyalty_index"].tolist() == big["loyalty_index"].round(1).tolist()  # for people
    everyone = at_risk_list(responses, match, only_at_risk=False, min_n=5, small_account_flag=True)
    assert "gamma" in set(everyone["account_key"]) and "gamma" not in set(lst["account_key"])
    hidden = at_risk_list(responses, match, small_account_flag=False, only_at_risk=False)
    assert hidden.loc[hidden["n_respondents"] < 3, "at_risk"].isna().all()


def _csv_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def test_written_account_lists_carry_no_personal_data(tmp_path, responses, match) -> None:
    lst = at_risk_list(responses, match, revenue=_revenue(), only_at_risk=False, min_n=5)
    paths = write_account_lists(lst, tmp_path)
    assert [p.name for p in paths] == ["at_risk_DE.csv", "at_risk_FR.csv", "at_risk_all.csv"]
    personal = pd.concat(
        [responses[c] for c in ("text_like", "text_dislike", "complaint", "contact_name",
                                "contact_email", "response_id")]
    )  # fmt: skip
    for path in paths:
        text = path.read_text(encoding="utf-8-sig")
        leaked = [v for v in personal if v in text]
        assert leaked == [], f"{path.name} carries {leaked[:3]}"
        assert "VERBATIM" not in text and "@example.com" not in text
        for cell in _csv_cells(path):
            assert not _live_formula(cell), f"{path.name}: live formula {cell!r}"
    all_rows = pd.read_csv(paths[-1], encoding="utf-8-sig", keep_default_na=False)
    assert '\'=HYPERLINK("http://x","click")' in set(all_rows["Account"])
    assert "'+cmd|' /C calc'!A0" in set(all_rows["Account"])
    assert "'@SUM(1)" in set(all_rows["Account"])
    # the one-respondent account shows no score: its single answers are not in the file
    beta = all_rows[all_rows["Respondents"] == 1].iloc[0]
    assert beta["Mean likelihood to recommend (0-10)"] == "" and beta["NPS (-100 to +100)"] == ""
    assert beta["Loyalty index (0-100)"] == ""
    assert beta["Why at risk"] == "not assessed: fewer than 3 respondents"
    assert beta["Weakest attributes"].endswith(
        "(country-wide: too few respondents for the account's own)"
    )
    header = paths[-1].read_text(encoding="utf-8-sig").split("\n")[0]
    assert "account_key" not in header and "drivers_source" not in header


def test_write_account_lists_refuses_personal_columns_and_small_scores(tmp_path, responses, match):
    lst = at_risk_list(responses, match, only_at_risk=False, min_n=5)
    with pytest.raises(DataError, match="contact_email"):
        write_account_lists(lst.assign(contact_email="x@example.com"), tmp_path)
    leaky = lst.copy()
    leaky.loc[leaky["n_respondents"] == 1, "ltr_mean"] = 1.0
    with pytest.raises(DataError, match="carries scores"):
        write_account_lists(leaky, tmp_path)
    paths = write_account_lists(lst, tmp_path / "x", countries=["DE", "FR", "NA"])
    na = tmp_path / "x" / "at_risk_NA.csv"
    assert na in paths and len(pd.read_csv(na, encoding="utf-8-sig")) == 0


def test_account_summary_validates(responses, match) -> None:
    with pytest.raises(DataError, match="missing \\['likelihood_to_recommend'\\]"):
        account_summary(responses.drop(columns="likelihood_to_recommend"), match)
    bad = responses.copy()
    bad.loc[3, "likelihood_to_recommend"] = 11
    with pytest.raises(DataError, match="row 3.*outside 0-10"):
        account_summary(bad, match)


def _shared_rule(param: str, func: str, rule: str = "an int >= 1", got: str = "0") -> str:
    """The message of csatlib.validation, as a pattern."""
    return re.escape(f"The {param!r} parameter of {func} must be {rule}; got {got}.")


def test_min_n_zero_is_refused_by_the_shared_rule_and_one_is_accepted(
    tmp_path, responses, match
) -> None:
    with pytest.raises(DataError, match=_shared_rule("account_min_n", "account_summary")):
        account_summary(responses, match, account_min_n=0)
    with pytest.raises(DataError, match=_shared_rule("n_weakest", "account_summary")):
        account_summary(responses, match, n_weakest=0)
    with pytest.raises(DataError, match=_shared_rule("min_n", "country_weakest_attributes")):
        country_weakest_attributes(responses, min_n=0)
    with pytest.raises(DataError, match=_shared_rule("min_n", "at_risk_list")):
        at_risk_list(responses, match, min_n=0)
    summary = account_summary(responses, match, account_min_n=1)
    with pytest.raises(DataError, match=_shared_rule("min_n", "revenue_linkage")):
        revenue_linkage(summary, _revenue(), match=match, min_n=0)
    conf_rule = _shared_rule("conf", "revenue_linkage", "a float in (0, 1)", "1.0")
    with pytest.raises(DataError, match=conf_rule):
        revenue_linkage(summary, _revenue(), match=match, conf=1.0)
    listed = at_risk_list(responses, match, only_at_risk=False, min_n=1)
    with pytest.raises(DataError, match=_shared_rule("account_min_n", "write_account_lists")):
        write_account_lists(listed, tmp_path, account_min_n=0)
    # 1, the smallest minimum, suppresses nothing: every account and country has a respondent
    assert not summary["suppressed"].any() and summary["nps"].notna().all()
    assert not country_weakest_attributes(responses, min_n=1)["suppressed"].any()
    link = revenue_linkage(summary, _revenue(), match=match, min_n=1)
    assert not link.by_category.loc[link.by_category["n"] > 0, "suppressed"].any()


# ---------------------------------------------------------------------------------------------
# revenue linkage
# ---------------------------------------------------------------------------------------------
def test_revenue_linkage_unmatched_both_ways(responses, match) -> None:
    s = account_summary(responses, match, account_min_n=1)
    link = revenue_linkage(s, _revenue(), match=match, min_n=1)
    assert (link.year, link.base_year) == (2026, 2025)
    acc = link.accounts.set_index("account_key")
    assert acc.loc["alpha", "revenue_change_pct"] == pytest.approx(-10.0)
    assert acc.loc["gamma", "revenue_change_pct"] == pytest.approx(30.0)
    assert acc.loc["beta", "revenue_change_pct"] == pytest.approx(20.0)
    ur = link.unmatched_revenue.set_index(["account_key", "country"])
    assert set(ur.index) == {("epsilon", "FR"), ("gamma", "DE")}
    assert ur.loc[("gamma", "DE"), "surveyed_in_other_country"]
    assert not ur.loc[("epsilon", "FR"), "surveyed_in_other_country"]
    assert ur.loc[("epsilon", "FR"), "revenue_usd"] == 35.0
    us = link.unmatched_survey
    assert "delta" in set(us["account_key"]) and "alpha" not in set(us["account_key"])
    risk = link.at_risk_by_country.set_index("country")
    # DE at risk: Alpha (90) and Beta (60); payload accounts have no revenue
    assert risk.loc["DE", "revenue_at_risk"] == pytest.approx(150.0)
    assert risk.loc["DE", "share_at_risk"] == pytest.approx(1.0)
    assert risk.loc["FR", "revenue_at_risk"] == pytest.approx(0.0)  # Delta at risk, no revenue
    assert risk.loc["FR", "revenue_usd"] == pytest.approx(260.0)


def _linkage_fixture(changes: dict[str, list[float]]):
    """Accounts with given LTR categories and revenue changes (percent)."""
    ltr = {"detractor": 3, "passive": 8, "promoter": 10}
    rows, rev = [], []
    for cat, values in changes.items():
        for k, ch in enumerate(values):
            name = f"{cat} account {chr(65 + k)}"
            rows.append(_respondent(len(rows), name, "DE", ltr[cat], [5] * 8, 5))
            rev += [(name, "DE", 2025, 100.0), (name, "DE", 2026, 100.0 + ch)]
    resp = _with_roles(pd.DataFrame(rows))
    revenue = pd.DataFrame(rev, columns=["account", "country", "year", "revenue_usd"])
    m = match_accounts(pd.concat([resp["account"], revenue["account"]]), threshold=100.0,
                       review_band=(100.0, 100.0))  # fmt: skip
    s = account_summary(resp, m, account_min_n=1)
    return s, revenue, m


def test_revenue_year_must_be_whole(responses, match) -> None:
    rev = _revenue()
    rev["year"] = rev["year"].astype(float)
    rev.loc[4, "year"] = np.nan
    with pytest.raises(DataError, match="'year', row 4: expected a whole year"):
        account_summary(responses, match, revenue=rev)


def test_revenue_linkage_tests_against_closed_forms() -> None:
    changes = {
        "detractor": [-12.0, -5.0, -8.0, 1.0],
        "passive": [2.0, -1.0, 4.0, 3.5, 0.5],
        "promoter": [6.0, 9.0, 5.5, 12.0],
    }
    s, revenue, m = _linkage_fixture(changes)
    link = revenue_linkage(s, revenue, match=m, min_n=4)
    by = link.by_category.set_index("category")
    for cat, values in changes.items():
        lo, hi = DescrStatsW(np.array(values)).tconfint_mean(alpha=0.05)
        assert by.loc[cat, "n"] == len(values)
        assert by.loc[cat, "mean_change_pct"] == pytest.approx(np.mean(values))
        assert (by.loc[cat, "ci_low"], by.loc[cat, "ci_high"]) == pytest.approx((lo, hi))
    # Kruskal-Wallis H without ties: 12 / (N (N+1)) * sum(R_i^2 / n_i) - 3 (N+1)
    allv = np.concatenate([np.array(v) for v in changes.values()])
    ranks = stats.rankdata(allv)
    n_total, h, start = len(allv), 0.0, 0
    for values in changes.values():
        r = ranks[start : start + len(values)]
        h += r.sum() ** 2 / len(values)
        start += len(values)
    h = 12.0 / (n_total * (n_total + 1)) * h - 3 * (n_total + 1)
    kw = link.test.set_index("test").loc["kruskal_wallis"]
    assert kw["statistic"] == pytest.approx(h)
    assert kw["df"] == 2
    assert kw["p_value"] == pytest.approx(stats.chi2.sf(h, 2))


def test_revenue_linkage_small_categories_suppressed() -> None:
    s, revenue, m = _linkage_fixture({"detractor": [-1.0, -2.0], "promoter": [3.0, 4.0, 5.0]})
    by = revenue_linkage(s, revenue, match=m, min_n=3).by_category.set_index("category")
    assert by.loc["detractor", "suppressed"] and np.isnan(by.loc["detractor", "mean_change_pct"])
    assert by.loc["detractor", "n"] == 2
    assert not by.loc["promoter", "suppressed"]
    assert by.loc["passive", "n"] == 0


def test_at_risk_counts_count_only_assessed_accounts() -> None:
    from csatlib.loop.accounts import at_risk_counts

    summary = pd.DataFrame(
        {
            "country": ["DE", "DE", "DE", "FR"],
            "suppressed": [False, False, True, False],
            "at_risk": [True, False, True, True],
            "revenue_usd": [100.0, 50.0, 999.0, np.nan],
        }
    )
    de = at_risk_counts(summary, country="DE")
    # the small (suppressed) account is neither counted as at risk nor as revenue at stake
    assert de.loc["DE"].to_dict() == {
        "accounts_assessed": 2,
        "at_risk": 1,
        "revenue_at_stake_usd": 100.0,
        "at_risk_no_revenue": 0,
        "not_assessed": 1,
        "declined": 0,  # a summary without the trend column declines nothing
    }
    both = at_risk_counts(summary)
    assert both.loc["FR", "at_risk"] == 1 and both.loc["FR", "revenue_at_stake_usd"] == 0.0
    assert both.loc["FR", "at_risk_no_revenue"] == 1  # no revenue on file: counted, not dropped
    assert at_risk_counts(summary, country="JP").loc["JP", "accounts_assessed"] == 0


# ---------------------------------------------------------------------------------------------
# any study: columns from the codebook roles, scales compared on 0-100, loyalty optional
# ---------------------------------------------------------------------------------------------
def _other_study(loyalty_items: int = 0) -> pd.DataFrame:
    """Three respondents of one account; recommend question, account and attributes renamed.

    Attribute means: speed 4 on 1-5, quality 16/3 on 1-10, price 6 on 0-10.  Raw means put
    speed lowest; on 0-100 they are speed 75, quality 48.1, price 60.
    """
    df = pd.DataFrame(
        {
            "rid": ["a", "b", "c"],
            "country": ["DE", "DE", "DE"],
            "customer": ["Acme GmbH", "ACME GMBH", "Acme"],
            "recommend": pd.array([2, 3, 9], dtype="Int64"),
            "speed": pd.array([4, 4, 4], dtype="Int64"),
            "quality": pd.array([5, 5, 6], dtype="Int64"),
            "price": pd.array([6, 6, 6], dtype="Int64"),
        }
    )
    study_roles = {
        "rid": "id",
        "country": "country",
        "customer": "account",
        "recommend": "nps",
        "speed": "attribute",
        "quality": "attribute",
        "price": "attribute",
    }
    scales = {"recommend": [0, 10], "speed": [1, 5], "quality": [1, 10], "price": [0, 10]}
    for k in range(loyalty_items):
        df[f"attachment_{k}"] = pd.array([2, 3, 4], dtype="Int64")
        study_roles[f"attachment_{k}"] = "loyalty"
        scales[f"attachment_{k}"] = [1, 7]
    df.attrs = {"roles": study_roles, "labels": {"price": "Price level"}, "scales": scales}
    return df


def test_defaults_come_from_the_roles_and_scales_are_rescaled() -> None:
    df = _other_study()
    m = match_accounts(df["customer"])
    row = account_summary(df, m, account_min_n=3).iloc[0]
    assert row["n"] == 3
    assert row["ltr_mean"] == pytest.approx(14 / 3)  # (2 + 3 + 9) / 3 from `recommend`
    assert row["nps"] == pytest.approx(100 * (1 - 2) / 3)
    # 0-100: quality 100 (16/3 - 1)/9 = 48.1, price 100 * 6/10 = 60, speed 100 (4 - 1)/4 = 75
    assert row["weakest_attributes"] == "quality; Price level; speed"
    assert row["at_risk_reasons"] == "nps<0; ltr<6.5"
    assert "loyalty_index" not in row.index  # no loyalty items: no column, no criterion
    assert study_rule(df).loyalty_below is None
    assert "loyalty" not in study_rule(df).describe()
    cw = country_weakest_attributes(df, min_n=1, n_weakest=1)
    assert cw["weakest_attributes"].tolist() == ["quality"]
    lst = at_risk_list(df, m, account_min_n=3, min_n=1)
    assert "loyalty_index" not in lst.columns
    assert lst["weakest_attributes"].tolist() == ["quality; Price level; speed"]


def test_loyalty_needs_two_items() -> None:
    one = _other_study(loyalty_items=1)
    m = match_accounts(one["customer"])
    assert "loyalty_index" not in account_summary(one, m).columns  # one item is not an index
    with pytest.raises(DataError, match="at least 2 item columns"):
        account_summary(one, m, loyalty_items=["attachment_0"])
    with pytest.raises(DataError, match="uses only the loyalty index"):
        study_rule(one, AtRiskRule(nps_below=None, ltr_below=None))
    two = _other_study(loyalty_items=2)
    row = account_summary(two, m, account_min_n=1).iloc[0]
    # items 2, 3, 4 on 1-7: 100 (x - 1) / 6, mean over respondents = 100 * 2 / 6
    assert row["loyalty_index"] == pytest.approx(100 * 2 / 6)
    assert row["at_risk_reasons"] == "nps<0; ltr<6.5; loyalty<50"


def test_no_attributes_no_driver_columns(tmp_path: Path) -> None:
    df = _other_study()
    df.attrs["roles"] = {k: v for k, v in df.attrs["roles"].items() if v != "attribute"}
    m = match_accounts(df["customer"])
    lst = at_risk_list(df, m, account_min_n=1)
    assert "weakest_attributes" not in lst.columns and "drivers_source" not in lst.columns
    assert lst["nps"].tolist() == [pytest.approx(-33.3)]
    (path, _) = write_account_lists(lst, tmp_path, account_min_n=1)
    written = pd.read_csv(path, encoding="utf-8-sig")
    assert written["Account"].tolist() == ["Acme"]  # one each: not all capitals, then a-z
    with pytest.raises(DataError, match="no attribute columns"):
        country_weakest_attributes(df)


def test_tables_without_roles_are_refused_with_a_hint() -> None:
    df = _other_study()
    m = match_accounts(df["customer"])
    df.attrs = {}
    with pytest.raises(DataError, match="no codebook roles.*load_processed"):
        account_summary(df, m)
    # named explicitly, the columns still need a scale to be compared
    with pytest.raises(DataError, match="no scale"):
        account_summary(df, m, nps_column="recommend", account_column="customer",
                        attributes=["speed"])  # fmt: skip
    row = account_summary(
        df, m, nps_column="recommend", account_column="customer", attributes=[], account_min_n=1
    ).iloc[0]
    assert row["ltr_mean"] == pytest.approx(14 / 3)
    df.attrs = {"roles": {"recommend": "nps", "country": "country"}}
    with pytest.raises(DataError, match="no account column"):
        account_summary(df, m)


# ---------------------------------------------------------------------------------------------
# the latest wave and the trend since the previous one
def _two_waves() -> pd.DataFrame:
    """A hand-made two-wave study: recommend answers per account and wave."""
    answers = {
        ("Fine Ltd", "2026-Q1"): [10] * 6,  # pooled fine, at risk in the latest wave
        ("Fine Ltd", "2026-Q2"): [3, 3, 3],
        ("Sour Ltd", "2026-Q1"): [0] * 6,  # pooled at risk, fine in the latest wave
        ("Sour Ltd", "2026-Q2"): [9, 9, 9],
        ("Dip Ltd", "2026-Q1"): [10, 9, 7],  # a small fall: NPS 66.7 -> 0
        ("Dip Ltd", "2026-Q2"): [10, 7, 5],
        ("New Ltd", "2026-Q2"): [8, 8, 8],  # not surveyed in 2026-Q1
    }
    rows = [
        {"country": "DE", "customer": name, "wave": wave, "recommend": float(v)}
        for (name, wave), values in answers.items()
        for v in values
    ]
    df = pd.DataFrame(rows)
    df["wave"] = pd.Categorical(df["wave"], categories=["2026-Q1", "2026-Q2"], ordered=True)
    df.attrs = {
        "roles": {"customer": "account", "recommend": "nps"},
        "scales": {"recommend": [0, 10]},
    }
    return df


def _by_name(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.set_index("account_name")


def test_accounts_are_judged_on_the_latest_wave() -> None:
    df = _two_waves()
    m = match_accounts(df["customer"])
    latest = _by_name(account_summary(df, m, account_min_n=3))
    pooled = _by_name(account_summary(df, m, account_min_n=3, wave=None))
    # Fine Ltd: 2026-Q2 alone is three detractors (NPS -100, mean 3); pooled with 2026-Q1's six
    # promoters NPS = 100 (6 - 3) / 9 = 33.3, mean (60 + 9) / 9 = 7.67: not at risk
    assert latest.loc["Fine Ltd", "n"] == 3 and latest.loc["Fine Ltd", "nps"] == -100.0
    assert latest.loc["Fine Ltd", "at_risk"]
    assert pooled.loc["Fine Ltd", "n"] == 9 and not pooled.loc["Fine Ltd", "at_risk"]
    assert pooled.loc["Fine Ltd", "nps"] == pytest.approx(100 * 3 / 9)
    assert pooled.loc["Fine Ltd", "ltr_mean"] == pytest.approx(69 / 9)
    # Sour Ltd, the reverse: pooled NPS 100 (3 - 6) / 9 = -33.3, latest NPS 100
    assert pooled.loc["Sour Ltd", "at_risk"] and not latest.loc["Sour Ltd", "at_risk"]
    assert pooled.loc["Sour Ltd", "nps"] == pytest.approx(-100 * 3 / 9)
    # wave=None is the old pooled summary: no trend
    assert pooled["previous_wave"].isna().all() and pooled["declined"].isna().all()
    # a named wave: the first wave has no previous one
    first = _by_name(account_summary(df, m, account_min_n=3, wave="2026-Q1"))
    assert not first.loc["Fine Ltd", "at_risk"] and "New Ltd" not in first.index
    assert first["previous_wave"].isna().all()
    with pytest.raises(DataError, match="2026-Q9"):
        account_summary(df, m, wave="2026-Q9")


def test_trend_columns_and_the_decline_flag() -> None:
    from csatlib.stats.nps import nps_difference

    df = _two_waves()
    m = match_accounts(df["customer"])
    s = _by_name(account_summary(df, m, account_min_n=3))
    fine, dip = s.loc["Fine Ltd"], s.loc["Dip Ltd"]
    assert fine["previous_wave"] == "2026-Q1" and fine["n_previous"] == 6
    # by hand: 2026-Q1 six 10s (NPS 100, mean 10) -> 2026-Q2 three 3s (NPS -100)
    assert fine["nps_previous"] == 100.0 and fine["ltr_mean_previous"] == 10.0
    assert fine["nps_change"] == -200.0
    # Dip Ltd: NPS 100 (2 - 0) / 3 = 66.7 -> 100 (1 - 1) / 3 = 0, mean 26/3 -> 22/3
    assert dip["nps_previous"] == pytest.approx(200 / 3)
    assert dip["ltr_mean_previous"] == pytest.approx(26 / 3)
    assert dip["nps_change"] == pytest.approx(-200 / 3)
    # the p-values are those of the two-sample adjusted Wald test on the two waves' answers
    ref_fine = nps_difference([3, 3, 3], [10] * 6)
    ref_dip = nps_difference([10, 7, 5], [10, 9, 7])
    assert fine["nps_change_p_value"] == pytest.approx(ref_fine.p_value)
    assert dip["nps_change_p_value"] == pytest.approx(ref_dip.p_value)
    assert ref_fine.p_value < 0.05 < ref_dip.p_value
    # Dip Ltd fell, not significantly; Sour Ltd rose
    assert s.loc[["Fine Ltd", "Dip Ltd", "Sour Ltd"], "declined"].tolist() == [True, False, False]
    assert s.loc["Sour Ltd", "nps_change"] == 200.0
    new = s.loc["New Ltd"]
    assert new["n_previous"] == 0 and np.isnan(new["nps_change"]) and pd.isna(new["declined"])


def test_the_trend_in_the_at_risk_list_and_counts() -> None:
    from csatlib.loop.accounts import account_list_for_people, at_risk_counts

    df = _two_waves()
    m = match_accounts(df["customer"])
    lst = at_risk_list(df, m, account_min_n=3, only_at_risk=False).set_index("account_name")
    trend = lst["trend"].to_dict()
    assert trend["Fine Ltd"] == "NPS \u2212200.0 since 2026-Q1, a significant fall"
    assert trend["Dip Ltd"] == "NPS \u221266.7 since 2026-Q1, a fall, not significant"
    assert trend["Sour Ltd"] == "NPS +200.0 since 2026-Q1"
    assert trend["New Ltd"] == "not surveyed in 2026-Q1"
    first = at_risk_list(df, m, account_min_n=3, only_at_risk=False, wave="2026-Q1")
    assert set(first["trend"]) == {"no previous wave"}
    people = account_list_for_people(lst.reset_index(), account_min_n=3)
    assert "Trend" in people.columns
    counts = at_risk_counts(account_summary(df, m, account_min_n=3), country="DE")
    assert counts.loc["DE", "declined"] == 1 and counts.loc["DE", "at_risk"] == 1  # Fine Ltd


def test_revenue_change_tests_of_constant_values_are_undefined_without_warnings() -> None:
    import warnings

    from csatlib.loop.accounts import _change_tests

    valid = pd.DataFrame(
        {
            "category": pd.Categorical(["detractor", "passive", "promoter"] * 2),
            "nps": [50.0] * 6,
            "revenue_change_pct": [0.0] * 6,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy warned into the global summary's page
        tests = _change_tests(valid, "nps").set_index("test")
    assert tests[["statistic", "p_value"]].isna().all().all()
    assert (tests["n"] == 6).all()
