"""Tests of csatlib.loop.sampling: reproducible stratified draws, exclusions with reasons,
coverage."""

from __future__ import annotations

import csv
import re
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from csatlib.errors import DataError, ExportError
from csatlib.loop.sampling import (
    CONTACT_COLUMNS,
    DEPLOYMENT_COLUMNS,
    _permanent_random_numbers,
    draw_sample,
    normalize_email,
    read_contact_master,
    response_rates,
    run_sampling,
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


AS_OF = date(2026, 10, 1)


def _master(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    """A synthetic contact master; no exclusions unless a test adds them."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["AMER", "EMEA", "APJ"], n, p=[0.4, 0.4, 0.2])
    segment = rng.choice(["Enterprise", "Mid-market", "Small business"], n)
    return pd.DataFrame(
        {
            "contact_id": [f"CT{i:06d}" for i in range(1, n + 1)],
            "account": [f"Account {i % 200}" for i in range(n)],
            "country": np.where(region == "AMER", "US", np.where(region == "EMEA", "DE", "JP")),
            "region": region,
            "segment": segment,
            "contact_name": [f"Person {i}" for i in range(n)],
            "email": [f"person{i}@example.com" for i in range(n)],
            "last_surveyed": "",
            "do_not_survey": "N",
            "named_account": "N",
        }
    )


RATES = {"AMER": 0.3, "APJ": 1.0}


def _draw(contacts: pd.DataFrame, **kw):
    args = {"rates": RATES, "default_rate": 0.5, "as_of": AS_OF, "seed": 11} | kw
    return draw_sample(contacts, **args)


def test_same_seed_same_sample_different_seed_different() -> None:
    m = _master()
    a, b, c = _draw(m), _draw(m), _draw(m, seed=12)
    assert a.sample["contact_id"].tolist() == b.sample["contact_id"].tolist()
    assert a.sample["contact_id"].tolist() != c.sample["contact_id"].tolist()
    # the order of the master does not matter (permanent random numbers per contact id)
    shuffled = _draw(m.sample(frac=1.0, random_state=3))
    assert set(shuffled.sample["contact_id"]) == set(a.sample["contact_id"])


def test_rates_respected_per_stratum() -> None:
    r = _draw(_master())
    cov = r.coverage[r.coverage["region"] != "All"]
    expected = np.floor(cov["target_rate"] * cov["eligible"] + 0.5)
    assert (cov["sampled"] == expected).all()  # exact allocation n_h = round(r N_h)
    achieved = cov.groupby("region")[["sampled", "eligible"]].sum()
    share = achieved["sampled"] / achieved["eligible"]
    assert share["AMER"] == pytest.approx(0.3, abs=0.01)
    assert share["EMEA"] == pytest.approx(0.5, abs=0.01)  # default_rate
    assert share["APJ"] == 1.0
    p = r.sample.groupby("region")["inclusion_probability"].mean()
    assert p["AMER"] == pytest.approx(0.3, abs=0.01)
    assert (r.sample["design_weight"] * r.sample["inclusion_probability"]).eq(1.0).all()


def test_permanent_random_numbers_uniform_and_independent_across_seeds() -> None:
    ids = pd.Series([f"CT{i:06d}" for i in range(20_000)])
    u1 = _permanent_random_numbers(ids, 1)
    u2 = _permanent_random_numbers(ids, 2)
    assert ((u1 >= 0) & (u1 < 1)).all()
    assert stats.kstest(u1, "uniform").pvalue > 0.001
    assert stats.kstest(u2, "uniform").pvalue > 0.001
    assert abs(np.corrcoef(u1, u2)[0, 1]) < 0.03  # 4 sd of a zero correlation at n = 20,000


@pytest.mark.slow
def test_random_draw_is_uniform_within_stratum() -> None:
    """Each contact of a stratum is picked with probability n_h / N_h (over many seeds)."""
    m = _master(n=300)
    picks = np.zeros(len(m))
    seeds = 200
    for s in range(seeds):
        chosen = _draw(m, seed=s).sample["contact_id"]
        picks += m["contact_id"].isin(chosen).to_numpy()
    amer = (m["region"] == "AMER").to_numpy()
    freq = picks[amer] / seeds
    # binomial(200, 0.3): sd 0.032; every contact within 5 sd of 0.3, mean within 0.01
    assert np.abs(freq - 0.3).max() < 0.17
    assert freq.mean() == pytest.approx(0.3, abs=0.01)


def test_exclusions_with_reasons_and_every_contact_accounted_for() -> None:
    m = _master(n=200)
    m.loc[0, "do_not_survey"] = "Y"
    m.loc[1, "last_surveyed"] = "2026-08-01"  # 61 days before as_of: fatigue
    m.loc[2, "last_surveyed"] = "2026-07-03"  # exactly 90 days: surveyed long enough ago
    m.loc[3, "email"] = " PERSON4@Example.com "  # same person as row 4
    m.loc[5, "email"] = "not-an-address"
    m.loc[6, "email"] = m.loc[0, "email"].upper()  # the opted-out person, second record
    m.loc[7, "email"] = "person8@example.com"  # same as row 8, row 8 surveyed recently
    m.loc[8, "last_surveyed"] = "2026-09-15"
    r = _draw(m)
    reason = r.excluded.set_index("contact_id")["reason"]
    assert reason["CT000001"] == "do_not_survey"
    assert reason["CT000007"] == "do_not_survey"  # opt-out is per person
    assert reason["CT000002"] == "fatigue"
    assert "CT000003" not in reason.index
    assert reason["CT000006"] == "no_valid_email"
    assert reason["CT000008"] == "fatigue" and reason["CT000009"] == "fatigue"  # per person
    # duplicates: the smallest contact id of the person is kept
    assert reason["CT000005"] == "duplicate" and "CT000004" not in reason.index
    st = r.status()
    assert len(st) == len(m) and st["contact_id"].is_unique
    assert set(st["contact_id"]) == set(m["contact_id"])
    assert st["status"].value_counts().sum() == 200
    total = r.coverage.iloc[-1]
    assert total["population"] == 200
    assert total["excluded_duplicate"] == 1 and total["excluded_do_not_survey"] == 2
    assert total["eligible"] + len(r.excluded) == 200
    assert total["sampled"] + total["not_selected"] == total["eligible"]


def test_named_accounts_census_and_duplicate_prefers_named() -> None:
    m = _master(n=400)
    named = m["account"].isin(["Account 1", "Account 2"])
    m.loc[named, "named_account"] = "Y"
    m.loc[10, "email"] = m.loc[1, "email"]  # row 1 is Account 1 (named); row 10 Account 10
    m.loc[10, "contact_id"] = "CT000000"  # smaller id, but not named
    r = _draw(m, rates={"AMER": 0.0, "APJ": 0.0}, default_rate=0.0)
    assert set(r.sample["contact_id"]) == set(m.loc[named, "contact_id"])
    assert (r.sample["selection"] == "census_named").all()
    assert r.excluded.set_index("contact_id").loc["CT000000", "reason"] == "duplicate"
    off = _draw(m, rates={"AMER": 0.0, "APJ": 0.0}, default_rate=0.0, census_named=False)
    assert off.sample.empty


def test_dedupe_off_keeps_duplicates() -> None:
    m = _master(n=50)
    m.loc[1, "email"] = m.loc[0, "email"]
    assert "duplicate" not in set(_draw(m, dedupe=False).excluded["reason"])
    assert "duplicate" in set(_draw(m).excluded["reason"])


def test_validation_messages() -> None:
    m = _master(n=20)
    with pytest.raises(DataError, match="missing \\['named_account'\\]"):
        _draw(m.drop(columns="named_account"))
    bad = m.copy()
    bad.loc[4, "do_not_survey"] = "maybe"
    with pytest.raises(DataError, match="'do_not_survey', row 4: expected Y or N, found 'maybe'"):
        _draw(bad)
    bad = m.copy()
    bad.loc[2, "last_surveyed"] = "last spring"
    with pytest.raises(DataError, match="'last_surveyed', row 2"):
        _draw(bad)
    bad.loc[2, "last_surveyed"] = "02/08/2026"  # 2 August or 8 February: not guessed
    with pytest.raises(DataError, match=r"'last_surveyed', row 2: expected a date \(YYYY-MM-DD\)"):
        _draw(bad)
    bad = m.copy()
    bad.loc[3, "contact_id"] = bad.loc[2, "contact_id"]
    with pytest.raises(DataError, match="appears 2 times"):
        _draw(bad)
    with pytest.raises(DataError, match="'EMAE'"):
        _draw(m, rates={"EMAE": 0.5})
    with pytest.raises(DataError, match="between 0 and 1"):
        _draw(m, rates={"AMER": 1.5})
    with pytest.raises(DataError, match="as_of"):
        _draw(m, as_of="2026-10-01")


def test_normalize_email() -> None:
    s = pd.Series([" Anna.B+cs@Example.COM ", "no-at-sign", "", None, "a@b"])
    assert normalize_email(s).tolist()[:1] == ["anna.b+cs@example.com"]
    assert normalize_email(s).iloc[1:].isna().all()


def test_response_rates_wilson_matches_statsmodels() -> None:
    r = _draw(_master(n=600))
    sample = r.sample
    rng = np.random.default_rng(0)
    answered = sample[rng.random(len(sample)) < 0.35]
    responses = pd.DataFrame({"contact_email": answered["email"].str.upper()})  # case differs
    responses = pd.concat([responses, pd.DataFrame({"contact_email": ["stranger@x.org", None]})])
    rr = response_rates(sample, responses, by=("region",), min_n=30)
    assert rr["region"].tolist()[-1] == "All"
    total = rr.iloc[-1]
    assert total["invited"] == len(sample) and total["responded"] == len(answered)
    for _, row in rr.iterrows():
        lo, hi = proportion_confint(row["responded"], row["invited"], method="wilson")
        assert row["response_rate"] == pytest.approx(row["responded"] / row["invited"])
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi))
    small = response_rates(sample, responses, by=("region",), min_n=10_000)
    assert small["suppressed"].all() and small["response_rate"].isna().all()
    by_id = response_rates(
        sample, pd.DataFrame({"contact_id": answered["contact_id"]}), match_on="contact_id"
    )
    assert by_id.iloc[-1]["responded"] == len(answered)


def test_response_rates_min_n_follows_the_shared_rule() -> None:
    sample = _draw(_master(n=60)).sample
    responses = pd.DataFrame({"contact_email": sample["email"].iloc[:10]})
    message = "The 'min_n' parameter of response_rates must be an int >= 1; got 0."
    with pytest.raises(DataError, match=re.escape(message)):
        response_rates(sample, responses, min_n=0)
    message = "The 'conf' parameter of response_rates must be a float in (0, 1); got 0."
    with pytest.raises(DataError, match=re.escape(message)):
        response_rates(sample, responses, conf=0)
    rr = response_rates(sample, responses, by=("region",), min_n=1)
    assert not rr["suppressed"].any()  # every group has an invited contact
    assert rr.iloc[-1]["response_rate"] == pytest.approx(10 / len(sample))


def test_response_rates_refuses_missing_columns_through_require_columns() -> None:
    sample = _draw(_master(n=20)).sample
    with pytest.raises(DataError, match="response_rates: sample: missing column\\(s\\) 'region'"):
        response_rates(sample.drop(columns="region"), pd.DataFrame({"contact_email": []}))
    with pytest.raises(DataError, match="response_rates: responses: missing column\\(s\\)"):
        response_rates(sample, pd.DataFrame({"email": []}))


def test_wilson_interval_stays_within_zero_and_one() -> None:
    # the closed form, unclipped, gives 1 + 2e-16 for 16 of 16 and -1.4e-17 for 0 of 21
    sample = _draw(_master(n=60)).sample
    everyone = pd.DataFrame({"contact_email": sample["email"]})
    total = response_rates(sample.iloc[:16], everyone, by=("region",), min_n=1).iloc[-1]
    assert total["response_rate"] == 1.0 and total["ci_high"] == 1.0
    nobody = pd.DataFrame({"contact_email": ["stranger@example.org"]})
    total = response_rates(sample.iloc[:21], nobody, by=("region",), min_n=1).iloc[-1]
    assert total["response_rate"] == 0.0 and total["ci_low"] == 0.0


def test_run_sampling_writes_safe_files(tmp_path) -> None:
    m = _master(n=120)
    m.loc[0, "contact_name"] = '=HYPERLINK("http://x")'
    m.loc[1, "account"] = "@SUM(1)"
    m.loc[2, "country"] = "NA"  # Namibia: must stay a code, not become missing
    path = tmp_path / "contact_master.csv"
    m.to_csv(path, index=False)
    run = run_sampling(path, tmp_path / "out", rates={}, default_rate=1.0, seed=1, as_of=AS_OF)
    assert [p.name for p in run.paths] == ["deployment_list.csv", "coverage.csv"]
    dep = pd.read_csv(run.paths[0], encoding="utf-8-sig", keep_default_na=False)
    assert tuple(dep.columns) == DEPLOYMENT_COLUMNS and len(dep) == 120
    assert '\'=HYPERLINK("http://x")' in set(dep["contact_name"])
    assert "'@SUM(1)" in set(dep["account"])
    assert "NA" in set(dep["country"])
    for p in run.paths:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                assert not any(_live_formula(c) for c in row)
    assert run.describe()[1] == "Contacts in master: 120"


def test_run_sampling_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(ExportError, match="file not found"):
        run_sampling(tmp_path / "nope.csv", tmp_path, rates={}, seed=1, as_of=AS_OF)
    m = _master(n=5)
    path = tmp_path / "cm.csv"
    m.drop(columns="email").to_csv(path, index=False)
    with pytest.raises(ExportError, match="cm.csv.*missing \\['email'\\]"):
        run_sampling(path, tmp_path, rates={}, seed=1, as_of=AS_OF)
    m.loc[2, "named_account"] = "X"
    m.to_csv(path, index=False)
    # spreadsheet row: header is row 1, so the third contact is row 4
    with pytest.raises(ExportError, match="cm.csv.*'named_account', row 4"):
        run_sampling(path, tmp_path, rates={}, seed=1, as_of=AS_OF)
    back = read_contact_master(path)
    assert tuple(back.columns) == CONTACT_COLUMNS and back.index[0] == 2
    # a blank line after the first contact: the third contact is now row 5, as a spreadsheet
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join([*lines[:2], "\n", *lines[2:]]), encoding="utf-8")
    with pytest.raises(ExportError, match="cm.csv.*'named_account', row 5"):
        run_sampling(path, tmp_path, rates={}, seed=1, as_of=AS_OF)


def test_response_rates_find_the_email_column_by_its_role() -> None:
    """A team's codebook names the e-mail column as it likes; the role says which it is."""
    from csatlib.roles import FrozenMeta

    sample = _draw(_master(n=200)).sample
    answered = sample.iloc[:50]
    responses = pd.DataFrame({"Name": "x", "Mail address": answered["email"].to_numpy()})
    responses.attrs = {"roles": FrozenMeta({"Name": "contact", "Mail address": "contact"})}
    rr = response_rates(sample, responses, by=("region",), min_n=1)
    assert rr.iloc[-1]["responded"] == 50


def test_a_region_typed_in_another_case_is_one_stratum_and_a_link_is_no_address() -> None:
    m = _master(n=60)
    m.loc[m.index[:5], "region"] = m.loc[m.index[:5], "region"].str.lower()  # "amer", "emea"
    m.loc[m.index[5], "email"] = "mailto:" + m.loc[m.index[5], "email"]
    result = _draw(m)
    assert set(result.coverage["region"]) - {"All"} == set(_master(n=60)["region"])
    assert result.excluded.loc[
        result.excluded["contact_id"] == m.loc[m.index[5], "contact_id"], "reason"
    ].tolist() == ["no_valid_email"]
    assert normalize_email(pd.Series(["mailto:a@b.com"])).isna().all()
