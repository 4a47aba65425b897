"""Tests of csatlib.sample.synth: the committed sample in data/raw is what the generator writes, and
the generated data carries the truth that ground_truth.json documents (driver ranking, defects,
CIT).

Every check re-derives its number from the written files with plain pandas/numpy (an independent
reading), never from the generator's internals.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from csatlib.config import RAW_DIR
from csatlib.errors import DataError
from csatlib.sample import synth

EXPECTED_FILES = {
    "relationship_survey.csv",
    "relationship_survey.codebook.yaml",
    "transaction_survey.csv",
    "transaction_survey.codebook.yaml",
    "revenue.csv",
    "revenue.codebook.yaml",
    "contact_master.csv",
    "account_aliases.csv",
    "invitations.csv",
    "cit_hand_codes.csv",
    "organisation.yaml",
    "ground_truth.json",
    "README.md",
}
ATTR_COLS = [f"Q7_{k}" for k in range(1, 9)]
BIG = [c for c in synth.COUNTRIES if c != "NA"]


def _read(path: Path, **kwargs) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kwargs)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return synth.generate(tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="module")
def truth(generated: dict[str, Path]) -> dict:
    return json.loads(generated["ground_truth.json"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def export(generated: dict[str, Path]) -> pd.DataFrame:
    return _read(generated["relationship_survey.csv"], skiprows=[1, 2], encoding="utf-8-sig")


@pytest.fixture(scope="module")
def responses(export: pd.DataFrame) -> pd.DataFrame:
    """Distinct responses with country, wave, numeric ratings and the defect screens."""
    df = export.drop_duplicates().copy()
    spelling = {
        s.casefold(): c for c, options in synth.COUNTRY_SPELLINGS.items() for s, _ in options
    }
    df["cc"] = df["Q1"].str.normalize("NFC").str.strip().str.casefold().map(spelling)
    recorded = pd.to_datetime(df["RecordedDate"], format="%Y-%m-%d %H:%M:%S")
    df["wave"] = recorded.dt.year.astype(str) + "-Q" + recorded.dt.quarter.astype(str)
    numeric = ["Q5", "Q6", *ATTR_COLS, "Q9_1", "Q9_2", "Q9_3", "Q9_4"]
    for col in numeric:
        df[f"n_{col}"] = pd.to_numeric(df[col], errors="coerce")
    df["empty"] = df["Q5"].eq("") & df["Q7_1"].eq("") & df["Q11"].eq("")
    duration = df["Duration (in seconds)"].astype(float)
    df["speeder"] = duration < duration[~df["empty"]].median() / 3
    attrs = df[[f"n_{c}" for c in ATTR_COLS]]
    values = attrs.to_numpy(float)
    df["straight"] = (values == values[:, :1]).all(axis=1) & (values != 99).all(axis=1)
    in_range = df["n_Q5"].between(0, 10) & attrs.isin([*range(1, 11), 99]).all(axis=1)
    df["clean"] = in_range & ~df["empty"] & ~df["speeder"] & ~df["straight"]
    df["own"] = df["Q4"].eq(synth.OWN_BRAND)
    return df


def test_generate_reproduces_the_committed_raw_files(generated: dict[str, Path]) -> None:
    # drift check: whoever changes the generator must regenerate data/raw and commit it
    assert set(generated) == EXPECTED_FILES
    for name, path in generated.items():
        committed = RAW_DIR / name
        assert committed.is_file(), (
            f"{committed} missing: run csatlib.sample.synth.generate(RAW_DIR)"
        )
        assert path.read_bytes() == committed.read_bytes(), f"{name} differs from data/raw"


def test_generate_rejects_a_bad_seed(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="non-negative integer"):
        synth.generate(tmp_path, seed=-1)
    with pytest.raises(DataError, match="non-negative integer"):
        synth.generate(tmp_path, seed="1")  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())
    with pytest.raises(DataError, match="expected 1..8"):
        synth.true_top_drivers(0)


def test_raw_folder_fits_in_ten_megabytes() -> None:
    sizes = {p.name: p.stat().st_size for p in RAW_DIR.iterdir() if p.is_file()}
    assert sum(sizes.values()) <= 10 * 1024**2, sizes
    assert sizes["relationship_survey.csv"] <= 8 * 1024**2


def test_relationship_export_has_three_qualtrics_header_rows(generated: dict[str, Path]) -> None:
    raw = generated["relationship_survey.csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()[:3]))
    ids, texts, imports = rows
    assert ids[:8] == [
        "StartDate", "EndDate", "Status", "Progress", "Duration (in seconds)", "Finished",
        "RecordedDate", "ResponseId",
    ]  # fmt: skip
    parsed = dict(zip(ids, (json.loads(cell) for cell in imports), strict=True))
    assert parsed["StartDate"] == {"ImportId": "startDate", "timeZone": "Europe/Berlin"}
    assert parsed["Q7_1"] == {"ImportId": "QID7_1"}
    assert parsed["Q11"] == {"ImportId": "QID11_TEXT"}
    assert all("ImportId" in v for v in parsed.values())
    assert texts[ids.index("Q9_3")].endswith("I am considering switching supplier")


def test_relationship_export_size_and_cells(export: pd.DataFrame, responses: pd.DataFrame) -> None:
    assert len(export) >= 22_000
    assert responses["cc"].notna().all(), responses.loc[responses["cc"].isna(), "Q1"].unique()
    own = responses[responses["own"]].groupby(["cc", "wave"]).size().unstack()
    assert list(own.columns) == list(synth.WAVES)
    assert (own.loc[BIG] >= 300).all().all(), own
    namibia = responses[responses["cc"] == "NA"].groupby("wave").size()
    assert namibia.between(10, 20).all() and len(namibia) == 4
    # "NA" is written literally for Namibia: readers must not turn it into a missing value
    assert (export["Q1"].str.strip() == "NA").sum() > 5


def test_true_drivers_differ_across_countries_and_disagree_with_stated_importance(
    truth: dict, responses: pd.DataFrame
) -> None:
    top3 = {c: frozenset(v["top3"]) for c, v in truth["countries"].items()}
    assert len(set(top3.values())) == len(top3)
    weights = synth.true_driver_weights()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    for c, row in weights.iterrows():
        ordered = row.sort_values(ascending=False)
        assert ordered.iloc[2] - ordered.iloc[3] >= 0.1 - 1e-12, c  # clearly separated top three
        assert "total_cost_of_ownership" not in top3[c]
    # asked directly, cost is the most important attribute (Q8_2) - derived says otherwise
    stated = responses.loc[responses["clean"], ["Q8_1", "Q8_2", "Q8_3", "Q8_4"]]
    stated = stated.apply(pd.to_numeric, errors="coerce").where(lambda f: f <= 10).mean()
    assert stated.idxmax() == "Q8_2"


def test_ols_on_the_export_recovers_the_true_top3(responses: pd.DataFrame, truth: dict) -> None:
    attrs = [f"n_{c}" for c in ATTR_COLS]
    for c in BIG:
        rows = responses[responses["clean"] & responses["own"] & (responses["cc"] == c)]
        rows = rows[rows[attrs].ne(99).all(axis=1)]
        assert len(rows) >= 800, c
        x = np.column_stack([np.ones(len(rows)), rows[attrs].to_numpy(float)])
        beta = np.linalg.lstsq(x, rows["n_Q5"].to_numpy(float), rcond=None)[0][1:]
        ranked = [synth.ATTRIBUTES[i] for i in np.argsort(-beta)]
        assert set(ranked[:3]) == set(truth["countries"][c]["top3"]), (c, ranked, beta)
        assert ranked[0] == truth["countries"][c]["top3"][0], (c, ranked)


def test_ground_truth_defect_counts_match_the_export(
    export: pd.DataFrame, responses: pd.DataFrame, truth: dict
) -> None:
    d = truth["defects"]
    copies = export[export.duplicated(keep="first")]
    assert len(copies) == d["duplicates"]["count"] > 0
    assert sorted(copies["ResponseId"]) == d["duplicates"]["response_ids"]
    assert responses["ResponseId"].is_unique
    assert responses["empty"].sum() == d["empty"]["count"]
    assert (
        sorted(responses.loc[responses["speeder"], "ResponseId"]) == d["speeders"]["response_ids"]
    )
    assert (responses["straight"] & ~responses["empty"]).sum() == d["straight_liners"]["count"]
    n = len(responses)
    assert 0.003 < d["empty"]["count"] / n < 0.005
    assert 0.015 < d["speeders"]["count"] / n < 0.025
    assert 0.012 < d["straight_liners"]["count"] / n < 0.02
    scales = {"Q5": (0, 10), "Q6": (1, 10), **{c: (1, 10) for c in ATTR_COLS}}
    scales |= {f"Q9_{k}": (1, 10) for k in range(1, 5)} | {f"Q8_{k}": (1, 10) for k in range(1, 5)}
    out_of_range = non_numeric = 0
    for col, (lo, hi) in scales.items():
        cells = responses[col]
        value = pd.to_numeric(cells, errors="coerce")
        non_numeric += int((cells.ne("") & value.isna()).sum())
        out_of_range += int((value.notna() & ~value.between(lo, hi) & value.ne(99)).sum())
    assert out_of_range == d["out_of_range"]["count"] == 30
    assert non_numeric == d["non_numeric"]["count"] == 20
    untrimmed = sum(int((responses[c] != responses[c].str.strip()).sum()) for c in ("Q1", "Q2"))
    assert untrimmed == d["untrimmed_cells"]["Q1"] + d["untrimmed_cells"]["Q2"] > 0
    nfd = (responses["Q2"] != responses["Q2"].str.normalize("NFC")).sum()
    assert nfd == d["nfd_cells"]["Q2"] > 0


def test_nps_moves_in_the_documented_events(responses: pd.DataFrame, truth: dict) -> None:
    ok = responses[responses["clean"] & responses["own"]]
    ltr = ok["n_Q5"]
    nps = (
        (100 * ((ltr >= 9).astype(int) - (ltr <= 6).astype(int)))
        .groupby([ok["cc"], ok["wave"]])
        .mean()
    )
    assert nps["BR", "2026-Q3"] - nps["BR", "2026-Q2"] > 15  # two-sided z about 4
    assert nps["FR", "2026-Q3"] - nps["FR", "2026-Q2"] < -15
    delivery = ok.loc[ok["n_Q7_5"] != 99].groupby(["cc", "wave"])["n_Q7_5"].mean()
    assert delivery["FR", "2026-Q3"] < delivery["FR", "2026-Q2"] - 1.0
    levels = nps.xs("2026-Q3", level="wave").drop("NA")
    assert levels.min() < 0 < 35 < levels.max()
    true = {c: v["true_nps_own_brand"] for c, v in truth["countries"].items()}
    assert all(-25 < x < 55 for waves in true.values() for x in waves.values())


def test_loyalty_items_have_cronbach_alpha_near_point_eight(responses: pd.DataFrame) -> None:
    ok = responses[responses["clean"] & responses["own"]]
    items = ok[["n_Q9_1", "n_Q9_2", "n_Q9_3", "n_Q9_4"]].dropna()
    items = items[(items >= 1).all(axis=1) & (items <= 10).all(axis=1)].to_numpy(float)
    items[:, 2] = 11 - items[:, 2]  # the export is reverse-coded on "considering switching"
    k = items.shape[1]
    # Cronbach (1951): alpha = k/(k-1) (1 - sum of item variances / variance of the sum)
    alpha = k / (k - 1) * (1 - items.var(axis=0, ddof=1).sum() / items.sum(axis=1).var(ddof=1))
    assert 0.75 < alpha < 0.86
    raw = ok[["n_Q9_3", "n_Q5"]].dropna()
    assert raw.corr().iloc[0, 1] < -0.3  # switching intent falls as LTR rises


_MARKER = re.compile(r"^\s*(?:[-•]|\d+[.)])\s*")


def _split(text: str) -> list[str]:
    """A minimal CIT splitter on the documented list styles (independent of the generator)."""
    text = unicodedata.normalize("NFC", text).strip()
    if "\n" in text:
        parts = [_MARKER.sub("", line) for line in text.split("\n")]
    elif re.match(r"1\)\s", text):
        parts = re.split(r"\s*\d+\)\s+", text)[1:]
    elif "; " in text:
        parts = text.split("; ")
    else:
        parts = [_MARKER.sub("", text)]
    return [p.strip().rstrip(".").casefold() for p in parts]


def test_hand_coded_incidents_point_at_bank_phrases(
    generated: dict[str, Path], responses: pd.DataFrame, truth: dict
) -> None:
    bank = synth.PHRASE_BANK
    assert not bank["text"].duplicated().any()
    lookup = {t.casefold(): a for t, a in zip(bank["text"], bank["attribute"], strict=True)}
    lookup |= {t.casefold(): a for t, a in zip(bank["typo"], bank["attribute"], strict=True)}
    codes = _read(generated["cit_hand_codes.csv"])
    assert list(codes.columns) == ["incident_id", "coder", "attribute"]
    hand_truth = truth["cit"]["hand_coded_truth"]
    assert 650 <= len(hand_truth) <= 750
    by_id = responses.set_index("ResponseId")
    excluded = set(truth["defects"]["duplicates"]["response_ids"]) | set(
        truth["defects"]["empty"]["response_ids"]
    )
    for incident_id, attribute in hand_truth.items():
        response_id, field, position = incident_id.split("|")
        assert response_id not in excluded
        text = by_id.at[response_id, "Q11" if field == "like" else "Q12"]
        piece = _split(text)[int(position) - 1]
        assert lookup[piece] == attribute, (incident_id, text)
    # coder accuracy against the truth, on each coder's first code per incident
    first = codes.groupby(["incident_id", "coder"], sort=False)["attribute"].first().unstack()
    expected = pd.Series(hand_truth)
    accuracy = {c: float((first[c].dropna() == expected[first[c].dropna().index]).mean())
                for c in ("coder_a", "coder_b")}  # fmt: skip
    assert 0.88 < accuracy["coder_a"] < 0.96
    assert 0.80 < accuracy["coder_b"] < 0.90
    assert first.isna().any(axis=1).sum() >= 5  # some incidents were coded by one coder only


def test_dislikes_follow_low_ratings(responses: pd.DataFrame) -> None:
    ok = responses[responses["clean"]]
    mentions = ok["Q12"].str.contains(
        r"deliver|on time|shipments|pünktlich|livraison|納期|配送", case=False
    )
    delivery = ok["n_Q7_5"].where(ok["n_Q7_5"] != 99)
    assert delivery[mentions].mean() < delivery[~mentions].mean() - 1.0


def test_codebooks_map_existing_columns(generated: dict[str, Path], export: pd.DataFrame) -> None:
    relationship = yaml.safe_load(generated["relationship_survey.codebook.yaml"].read_text("utf-8"))
    assert relationship["kind"] == "responses" and relationship["own_brand"] == "Contoso"
    columns = relationship["columns"]
    assert {spec["source"] for spec in columns.values()} <= set(export.columns)
    assert columns["loyalty_cognitive"] == {
        "source": "Q9_3", "role": "loyalty", "dimension": "cognitive",
        "label": "Cognitive loyalty (not considering switching)", "scale": [1, 10],
        "reverse": True,
    }  # fmt: skip
    assert columns["contact_ok"]["true_values"] == ["Yes"]
    assert columns["date"]["format"] == "%Y-%m-%d %H:%M:%S"
    assert [n for n, s in columns.items() if s["role"] == "attribute"] == list(synth.ATTRIBUTES)
    assert {s["role"] for s in columns.values()} >= {"importance", "expectation", "contact"}
    transactions = yaml.safe_load(generated["transaction_survey.codebook.yaml"].read_text("utf-8"))
    tx_export = _read(generated["transaction_survey.csv"], nrows=1)
    assert {s["source"] for s in transactions["columns"].values()} == set(tx_export.columns)
    assert transactions["columns"]["csat"]["scale"] == [1, 5]
    assert transactions["columns"]["contact_ok"]["true_values"] == ["Y"]
    revenue = yaml.safe_load(generated["revenue.codebook.yaml"].read_text("utf-8"))
    assert revenue["columns"]["year"]["type"] == "int"
    assert revenue["kind"] == "revenue"


def test_transaction_survey(generated: dict[str, Path]) -> None:
    tx = _read(generated["transaction_survey.csv"])
    assert 8_500 <= len(tx) <= 9_500
    assert tx["ticket_id"].str.fullmatch(r"0\d{6}").all() and tx["ticket_id"].is_unique
    share = tx["csat"].astype(int).value_counts(normalize=True)
    assert abs(share[[1, 2]].sum() - 0.10) < 0.02 and abs(share[5] - 0.55) < 0.03
    region = {"US": "AMER", "DE": "EMEA", "NA": "EMEA", "JP": "APJ", "BR": "AMER"}
    for country, expected in region.items():
        assert set(tx.loc[tx["country"] == country, "region"]) == {expected}
    assert tx["created_at"].is_monotonic_increasing
    assert tx["created_at"].str[:7].nunique() == 12
    assert (tx.loc[tx["contact_ok"] == "N", "contact_email"] == "").all()


def test_revenue_growth_follows_account_loyalty(generated: dict[str, Path], truth: dict) -> None:
    revenue = _read(generated["revenue.csv"])
    assert revenue["revenue_usd"].str.fullmatch(r"\d+\.\d\d").all()
    by_year = revenue.assign(v=revenue["revenue_usd"].astype(float)).pivot_table(
        index="account", columns="year", values="v", aggfunc="sum"
    )
    growth = by_year["2026"] / by_year["2025"] - 1
    effect = pd.Series({a: v["loyalty_effect"] for a, v in truth["accounts"].items()})
    assert growth.corr(effect[growth.index]) > 0.8
    accounts = truth["accounts"]
    never_surveyed = {a for a, v in accounts.items() if not v["in_survey"]}
    no_revenue = {a for a, v in accounts.items() if not v["in_revenue"]}
    assert len(never_surveyed) == 8 and never_surveyed <= set(revenue["account"])
    assert len(no_revenue) == 5 and not no_revenue & set(revenue["account"])
    assert 110 <= sum(v["in_survey"] for v in accounts.values()) <= 130


def test_contact_master(generated: dict[str, Path]) -> None:
    contacts = _read(generated["contact_master.csv"])
    assert 5_800 <= len(contacts) <= 6_200 and contacts["contact_id"].is_unique
    key = contacts["email"].str.strip().str.casefold()
    assert 0.02 < key.duplicated().mean() < 0.04
    assert (contacts["email"] != contacts["email"].str.strip()).any()
    assert 0.04 < (contacts["do_not_survey"] == "Y").mean() < 0.06
    recent = contacts["last_surveyed"].ne("") & (contacts["last_surveyed"] >= "2026-07-03")
    assert 0.17 < recent.mean() < 0.23
    domains = key.str.rpartition("@")[2]
    assert set(domains) == {"example.com", "example.org"}


def test_account_and_text_traps_are_present(
    generated: dict[str, Path], export: pd.DataFrame, truth: dict
) -> None:
    accounts = export["Q2"].str.strip()
    assert accounts.str.startswith("+").any()  # formula injection in spreadsheets
    for pair in truth["similar_but_distinct_accounts"]:
        assert all(accounts.str.casefold().eq(name.casefold()).any() for name in pair)
    aliases = _read(generated["account_aliases.csv"])
    assert len(aliases) == 6
    for alias, canonical in zip(aliases["alias"], aliases["canonical"], strict=True):
        assert (accounts == alias).any(), alias
        assert canonical in truth["accounts"]
    emails = export["Q16"][export["Q16"] != ""].str.rpartition("@")[2]
    assert set(emails) <= {"example.com", "example.org"}
    assert (export.loc[export["Q14"] == "No", "Q16"] == "").all()
    assert export["Q13"].str.contains(r"\$5 per seat and now \$10", regex=True).sum() == 1
    free_text = pd.concat([export["Q11"], export["Q12"], export["Q13"]])
    assert free_text.str.contains("<").any() and free_text.str.contains("&").any()
    assert not free_text.str.contains("<script", case=False).any()
    languages = {"de": "ü|ä|ö|ß", "fr": "é|è|à", "ja": "[\u3040-\u30ff\u4e00-\u9fff]"}
    for lang, pattern in languages.items():
        assert free_text.str.contains(pattern).sum() > 100, lang


def test_organisation_mapping(
    generated: dict[str, Path], export: pd.DataFrame, truth: dict
) -> None:
    org = yaml.safe_load(generated["organisation.yaml"].read_text(encoding="utf-8"))
    units = org["business_units"]
    assert list(units.values()) == [
        "Enterprise Storage",
        "Compute",
        "Networking",
        "Services",
        "Edge Labs",
    ]
    accounts = org["accounts"]
    assert set(accounts) == set(truth["accounts"])  # every account, once
    member = {a: spec["business_units"] for a, spec in accounts.items()}
    assert all(set(u) <= set(units) for u in member.values())
    two = sorted(a for a, u in member.items() if len(u) == 2)
    assert len(two) == 4 and "Acme Holdings Inc." in two
    managers = {spec["manager_email"] for spec in accounts.values()}
    assert all(m.endswith("@example.org") for m in managers) and len(managers) >= 20
    # every attribute (Q7) and every product of the tickets is mapped; one product has no tickets
    assert list(org["attributes"]) == list(synth.ATTRIBUTES)
    assert {s["business_process"] for s in org["attributes"].values()} <= set(
        org["business_processes"]
    )
    products = set(_read(generated["transaction_survey.csv"])["product"])
    assert products < set(org["products"]) and len(org["products"]) == len(products) + 1
    # Edge Labs: fewer than 30 responses in the latest wave (the export's rows, duplicates
    # dropped), counted through each account's spellings and aliases in ground_truth.json
    spelling = {s: a for a, v in truth["accounts"].items() for s in v["spellings"]}
    spelling |= truth["account_aliases"]
    latest = export.drop_duplicates()
    latest = latest[latest["RecordedDate"] >= "2026-07-01"]
    account = latest["Q2"].str.normalize("NFC").str.strip().map(spelling)
    assert account.notna().all()
    small = {a for a, u in member.items() if u == ["edge_labs"]}
    assert len(small) == 4
    assert 0 < account.isin(small).sum() < 30
    for unit in ("enterprise_storage", "compute", "networking", "services"):
        in_unit = {a for a, u in member.items() if unit in u}
        assert account.isin(in_unit).sum() >= 500, unit
