"""Study-wide results computed once per build (csatlib.report.context.remembered).

Every country report of a build used to compute every country's trends, every account's summary
and every follow-up count for itself; now they are computed once (in the kernel fork server's
warm-up, or by the first report of a process) and shared, under a key naming the processed file's
version, the aliases, the slice, the wave and the parameters. These tests check that a shared
result is the one a report would compute alone, that a changed input is a new key, and that a
report cannot change what it was handed.
"""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest
from support.studies import write_study

from csatlib import config
from csatlib.ingest.clean import build_processed
from csatlib.report import context, store, summary
from csatlib.report.build import discover_cross_cuts, discover_slices
from csatlib.report.context import load_country, remembered, study_key, warm_up
from csatlib.report.overview import load_study
from csatlib.stats.screens import four_screens
from csatlib.text import accuracy

#: The store's reader, before the fixture below hides what is kept on disk.
_FETCH = store.fetch


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("shared")
    write_study(root / "raw", "seven_point")
    build_processed(root / "raw", root / "processed")
    return root / "processed"


@pytest.fixture(autouse=True)
def _empty_memory(monkeypatch):
    # what a process computes and remembers; the results kept on disk (tests/report/
    # test_store.py) would answer before anything is computed, so they are left out here
    monkeypatch.setattr(context.store, "fetch", lambda folder, key: context.store.MISSING)
    context._REMEMBERED.clear()
    yield
    context._REMEMBERED.clear()


def test_remembered_computes_once_and_hands_out_copies() -> None:
    calls = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"x": [1.0, 2.0]})

    first = remembered(("k",), compute)
    first.loc[0, "x"] = 99.0  # a report changing what it was handed ...
    second = remembered(("k",), compute)
    assert len(calls) == 1
    assert second["x"].tolist() == [1.0, 2.0]  # ... never changes what the next one gets
    remembered(None, compute)
    remembered(None, compute)
    assert len(calls) == 3  # no key: computed every time


def test_remembered_keeps_the_most_recent(monkeypatch) -> None:
    monkeypatch.setattr(context, "_REMEMBERED_SIZE", 2)
    for k in range(3):
        remembered((k,), lambda k=k: k)
    assert list(context._REMEMBERED) == [(1,), (2,)]


def test_a_shared_report_equals_a_report_computed_alone(study) -> None:
    given = load_country("DE", processed_dir=study).study_responses  # the whole study
    alone = load_country("DE", responses=given, processed_dir=study)
    assert alone.study_key is None  # responses handed in: nothing shared
    context._REMEMBERED.clear()
    load_country("AT", processed_dir=study).family  # noqa: B018 - fills the shared results
    shared = load_country("DE", processed_dir=study)
    assert shared.study_key == study_key(study)
    keys = {k[0] for k in context._REMEMBERED}
    assert {"responses", "trends", "screens"} <= keys
    pd.testing.assert_frame_equal(shared.screen_table, alone.screen_table)
    pd.testing.assert_frame_equal(shared.country_trends, alone.country_trends)
    own = four_screens(
        alone.to_wave,
        country="DE",
        attributes=alone.attributes,
        wave=alone.wave,
        min_n=alone.min_n,
        cluster=alone.cluster,
    )
    # before the family's q-values replace the screens' own: the screens of DE alone
    pd.testing.assert_frame_equal(shared._screens, own, check_exact=False, rtol=1e-12)
    assert shared.at_risk_counts.equals(alone.at_risk_counts)
    pd.testing.assert_frame_equal(shared.followup_counts, alone.followup_counts)


def test_the_global_summary_shares_the_country_reports_results(study, monkeypatch) -> None:
    calls = []
    real = context.study_screens

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(context, "study_screens", counted)
    load_country("DE", processed_dir=study).family  # noqa: B018
    ctx = load_study(processed_dir=study)
    assert ctx.study_key == study_key(study)
    de = ctx.families["DE"].screens
    assert len(calls) == 1  # the global summary took the reports' screens
    pd.testing.assert_frame_equal(de, load_country("DE", processed_dir=study).screen_table)


def test_a_rewritten_table_is_a_new_key(study) -> None:
    before = study_key(study)
    assert study_key(study, "segment") != before  # another slice
    path = study / "responses.parquet"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    try:
        assert study_key(study) != before  # csat data ran again: nothing is reused
    finally:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert study_key(study.parent / "nowhere") is None
    tickets = study / "organisation_extra.parquet"  # another table of the study changes too
    tickets.write_bytes(b"")
    try:
        assert study_key(study) != before
    finally:
        tickets.unlink()
    assert study_key(study) == before


def test_warm_up_computes_the_country_reports_shared_results(study) -> None:
    started = time.perf_counter()
    warm_up(study)
    assert time.perf_counter() - started < 60
    keys = {k[0] for k in context._REMEMBERED}
    assert {"responses", "trends", "screens", "accounts"} <= keys


def test_warm_up_prepares_every_slice_of_the_build(study, monkeypatch) -> None:
    # this study has no column of a slicing role: its brand column stands in for one
    monkeypatch.setattr(context, "SLICE_ROLES", (*context.SLICE_ROLES, "brand"))
    warm_up(study, slices=[("country", ""), ("supplier", "")])
    slices = {k[1][2:4] for k in context._REMEMBERED if k[0] in ("responses", "screens")}
    assert slices == {("country", ""), ("supplier", "")}
    calls = []
    monkeypatch.setattr(context, "study_screens", lambda *a, **k: calls.append(1))
    value = str(load_country("DE", processed_dir=study).responses["supplier"].dropna().iloc[0])
    ctx = load_country("", processed_dir=study, dimension="supplier", value=value)
    assert ctx.family is not None and not calls  # a report by supplier computes no screens


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    processed = tmp_path_factory.mktemp("sample") / "processed"
    build_processed(config.RAW_DIR, processed)
    return processed


def _report_results(ctx) -> tuple:
    """What a report takes from the study-wide tables: its headline, tickets and coder check."""
    return (
        summary.nps_headline(ctx),
        ctx.study_transactions(),
        ctx.transactions_by_month,
        ctx.coder_accuracy,
    )


@pytest.mark.parametrize("dimension", ["country", "business_unit"])
def test_the_headline_tickets_and_coder_check_are_made_once(sample, dimension, monkeypatch) -> None:
    value = next(iter(discover_slices(sample, dimension).values()))
    calls = []
    real = accuracy.rule_coder_accuracy
    monkeypatch.setattr(
        accuracy, "rule_coder_accuracy", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    warm_up(sample, slices=[(dimension, "")])
    keys = {k[0] for k in context._REMEMBERED}
    assert {"unit_nps", "nps_changes", "nps_vs_rest", "transactions", "coder_accuracy"} <= keys
    assert len(calls) == 1
    load = dict(processed_dir=sample, dimension=dimension)
    load |= {"value": value} if dimension != "country" else {}
    country = value if dimension == "country" else ""
    shared = _report_results(load_country(country, **load))
    assert len(calls) == 1  # the report took the warm-up's
    assert shared[3] is not None and shared[0].current is not None  # something was compared
    context._REMEMBERED.clear()
    monkeypatch.setattr(context, "remembered", lambda key, compute, folder=None: compute())
    alone = _report_results(load_country(country, **load))
    assert len(calls) == 2
    assert shared[0] == alone[0]
    pd.testing.assert_frame_equal(shared[1], alone[1])
    pd.testing.assert_frame_equal(shared[2], alone[2])
    assert shared[3] == alone[3]


def test_a_scorecards_loyalty_baseline_is_made_once(sample, tmp_path, monkeypatch) -> None:
    # DE's loyalty-index target has a baseline wave no build recorded: the scorecard takes that
    # wave's index of every unit from the warm-up, as it takes the current wave's
    from csatlib.report import targets
    from csatlib.stats import loyalty

    goals = targets.load()
    wave = goals.loc[goals["metric"] == "loyalty_index", "baseline_wave"].iloc[0]
    calls = []
    real = loyalty.loyalty_summary
    monkeypatch.setattr(
        loyalty, "loyalty_summary", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    warm_up(sample)
    made = len(calls)
    ctx = load_country("DE", processed_dir=sample)
    card = targets.scorecard(ctx, goals, tmp_path)
    assert len(calls) == made  # nothing estimated again
    row = card.loc[card["metric"] == "loyalty_index"].iloc[0]
    assert row["baseline_wave"] == wave and row["baseline_recorded"]
    assert row["baseline"] == ctx.loyalty_of(wave)["score"].iloc[0]


def test_every_slice_shows_the_study_wide_coder_check(sample, monkeypatch) -> None:
    """The rule coder's precision is measured on the whole study's hand-coded sample: a report
    by business unit, and a cross-cut that holds only its country's rows, show the country
    reports' figures (measured once for the build), not a part of the sample with the rest
    "no longer in the data"."""
    calls = []
    real = accuracy.rule_coder_accuracy
    monkeypatch.setattr(
        accuracy, "rule_coder_accuracy", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    unit = next(iter(discover_slices(sample, "business_unit").values()))
    country = load_country("DE", processed_dir=sample).coder_accuracy
    by_unit = load_country("", processed_dir=sample, dimension="business_unit", value=unit)
    cross = load_country(
        "", processed_dir=sample, dimension="business_unit", value=unit, within="country=DE"
    )
    assert country is not None and country.n_not_found == 0
    assert by_unit.coder_accuracy == country and cross.coder_accuracy == country
    assert len(calls) == 1


def test_an_account_is_the_same_cluster_in_every_slice(sample) -> None:
    """Accounts are matched over every spelling of the study before a report slices it: a
    respondent's account key (the unit of every interval) and the grouping the at-risk counts
    use are the country report's, in a report by business unit and in a cross-cut."""
    unit = next(iter(discover_slices(sample, "business_unit").values()))
    country = load_country("DE", processed_dir=sample)
    keys = country.responses.set_index("response_id")["account_key"]
    for within in ("", "country=DE"):
        ctx = load_country(
            "", processed_dir=sample, dimension="business_unit", value=unit, within=within
        )
        mine = ctx.responses.drop_duplicates("response_id").set_index("response_id")
        shared = mine.index.intersection(keys.index)
        assert len(shared) > 30
        pd.testing.assert_series_equal(
            mine.loc[shared, "account_key"], keys.loc[shared], check_names=False
        )
        assert ctx.account_matches().mapping.equals(country.account_matches().mapping)


def test_a_unit_counts_each_account_once(sample) -> None:
    """A business unit's accounts answer in several countries; the report counts accounts,
    the same ones the note under its title names, not account-country pairs: an account is at
    risk when it is at risk in one of its countries."""
    from csatlib.loop.accounts import account_summary

    unit = next(iter(discover_slices(sample, "business_unit").values()))
    ctx = load_country("", processed_dir=sample, dimension="business_unit", value=unit)
    counts = ctx.at_risk_counts.iloc[0]
    accounts = ctx.current[ctx.cluster].nunique()
    assert counts["accounts_assessed"] + counts["not_assessed"] == accounts
    mine = ctx.responses.loc[ctx.responses["country"].astype(str) == ctx.country]
    home = mine.drop(columns="country").rename(columns={"home_country": "country"})
    summary = account_summary(home, ctx.account_matches(), wave=ctx.wave)
    assert len(summary) > summary["account_key"].nunique()  # some account in two countries
    at_risk = summary.loc[summary["at_risk"].fillna(False).astype(bool) & ~summary["suppressed"]]
    assert counts["at_risk"] == at_risk["account_key"].nunique()


@pytest.mark.parametrize("within", ["", "country=DE"])
def test_a_unit_takes_its_accounts_from_the_country_reports_summary(
    sample, within, monkeypatch
) -> None:
    """A business unit holds every response of its accounts in each country, so its at-risk
    counts come from the summary the country reports share; they equal the unit's own."""
    from csatlib.report.context import CountryContext

    made = {}
    units = discover_slices(sample, "business_unit").values()
    if within:
        cuts, _ = discover_cross_cuts(sample, "business_unit/country", min_n=30)
        units = [value for _, value, where in cuts.values() if where == within]
    assert units
    for unit in units:
        ctx = load_country(
            "", processed_dir=sample, dimension="business_unit", value=unit, within=within
        )
        made[unit] = (ctx._study_account_rows(_home(ctx)) is not None, ctx.at_risk_counts)
    assert all(shared for shared, _ in made.values())
    monkeypatch.setattr(CountryContext, "_study_account_rows", lambda self, home: None)
    for unit, (_, counts) in made.items():
        ctx = load_country(
            "", processed_dir=sample, dimension="business_unit", value=unit, within=within
        )
        pd.testing.assert_frame_equal(ctx.at_risk_counts, counts)


def test_a_unit_with_part_of_an_account_judges_the_whole_account(sample) -> None:
    """A segment that varies within an account holds some of its respondents: the account is
    judged on all of them in its country, as the at-risk lists judge it."""
    unit = next(iter(discover_slices(sample, "business_unit").values()))
    ctx = load_country("", processed_dir=sample, dimension="business_unit", value=unit)
    home = _home(ctx)
    whole = ctx._study_account_rows(home).set_index(["country", "account_key"])
    big = whole.loc[whole["n"] > 1].index[0]  # a pair with several respondents this wave
    keys = pd.MultiIndex.from_frame(home[["country", "account_key"]].astype(str))
    first = home.loc[keys == big].iloc[[0]]  # one of its respondents
    part = ctx._study_account_rows(first)
    assert len(part) == 1 and part["n"].iloc[0] == whole.loc[big, "n"] > 1


def _home(ctx):
    mine = ctx.responses.loc[ctx.responses["country"].astype(str) == ctx.country]
    return mine.drop(columns="country").rename(columns={"home_country": "country"})


def test_a_countrys_loyalty_interval_is_the_global_summarys(sample) -> None:
    """One estimate on one design: the report's loyalty row and the global summary's agree
    (the report once estimated it on its own rows: fewer accounts, another interval)."""
    study = load_study(processed_dir=sample).loyalty_by_country.set_index("country")
    for country in ("DE", "IN", "JP"):
        mine = load_country(country, processed_dir=sample).loyalty_table.set_index("country")
        columns = ["n", "score", "ci_low", "ci_high", "alpha"]
        pd.testing.assert_frame_equal(mine[columns], study.loc[[country], columns])


def test_the_other_units_are_other_people(sample) -> None:
    """An account in two business units has its respondents in both: "all other business
    units" leaves this unit's respondents out and counts everyone else once, in the headline,
    the test against the rest and the screens alike."""
    from csatlib.report.context import countries_vs_rest

    unit = next(iter(discover_slices(sample, "business_unit").values()))
    ctx = load_country("", processed_dir=sample, dimension="business_unit", value=unit)
    ids = ctx._overlapping
    assert ids == "response_id"
    current = ctx.own.loc[ctx.own["wave"].astype(str) == ctx.wave]
    mine = set(current.loc[current["country"].astype(str) == ctx.country, ids])
    others = set(current.loc[current["country"].astype(str) != ctx.country, ids]) - mine
    rest = ctx.others_current
    assert rest[ids].is_unique and set(rest[ids]) == others
    assert len(current.loc[current["country"].astype(str) != ctx.country]) > len(others)
    headline = summary.nps_headline(ctx)
    assert headline.n_rest == rest[ctx.nps_column].notna().sum()
    row = ctx.nps_vs_rest(ctx.nps_column).set_index("country").loc[ctx.country]
    assert row["n_rest"] == headline.n_rest
    # the same test as one nps_vs_rest of the unit against those people
    pair = pd.concat([current.loc[current["country"].astype(str) == ctx.country], rest])
    alone = countries_vs_rest(pair, score=ctx.nps_column, cluster=ctx.cluster, min_n=ctx.min_n)
    assert alone.set_index("country").loc[ctx.country, "diff"] == pytest.approx(row["diff"])
    # a country report has no such overlap: its comparisons are unchanged
    assert load_country("DE", processed_dir=sample)._overlapping is None


def test_a_mapped_unit_without_respondents_is_named_not_dropped(sample) -> None:
    from csatlib.report.build import _units_without_respondents

    slices = {
        n: ("business_unit", v, "") for n, v in discover_slices(sample, "business_unit").items()
    }
    assert _units_without_respondents(sample, slices) == []
    without = {n: s for n, s in slices.items() if s[1] != "compute"}
    assert _units_without_respondents(sample, without) == ["Compute (compute)"]


def test_ticket_intervals_count_an_account_once(sample) -> None:
    """The country report's and the global summary's transaction tables take the tickets of one
    account as a cluster: the same account column, and each month's accounts counted."""
    ctx = load_country("DE", processed_dir=sample)
    tickets = ctx.country_transactions()
    table = ctx.transactions_by_month
    assert context.ticket_cluster(tickets) == "account"
    accounts = tickets.groupby(tickets["month"].astype(str))["account"].nunique()
    shown = table.set_index(table["month"].astype(str))["n_clusters"]
    pd.testing.assert_series_equal(shown, accounts.loc[shown.index], check_names=False)
    assert load_study(processed_dir=sample).transaction_cluster == "account"
    # tickets without an account column: each ticket is its own unit
    assert context.ticket_cluster(tickets.drop(columns="account")) is None
    assert context.ticket_cluster(None) is None


def test_a_parallel_warm_up_equals_the_serial_one(sample, monkeypatch) -> None:
    """With ``parallel`` a forked child computes the account summaries and the headline tables
    and keeps them in the store; this process reads them from there, computes none itself, and
    holds the same results as a serial warm-up."""
    monkeypatch.setattr(context.store, "fetch", _FETCH)
    cuts, _ = discover_cross_cuts(sample, "business_unit/country", min_n=30)
    slices = (("country", ""), ("business_unit", min(w for _, _, w in cuts.values())))
    store.clear(sample)
    warm_up(sample, slices=slices)
    serial = dict(context._REMEMBERED)
    context._REMEMBERED.clear()
    store.clear(sample)
    from csatlib.loop import accounts

    calls = []
    real = accounts.account_summary
    monkeypatch.setattr(
        accounts, "account_summary", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    warm_up(sample, slices=slices, parallel=True)
    assert not calls  # every slice's summary came from the child, through the store
    prepared = {k[1][2:4] for k in context._REMEMBERED if k[0] == "responses"}
    assert prepared == set(slices)  # every slice's responses are still remembered
    assert context._REMEMBERED.keys() == serial.keys()
    for key, value in serial.items():
        found = context._REMEMBERED[key]
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(found, value)
        elif key[0] not in ("matches", "coder_accuracy"):  # no equality of their own
            assert found == value, key[0]


def test_ticket_satisfaction_by_product_is_clustered_and_suppressed(sample) -> None:
    """The transaction section's product table: the tickets' product column (role product),
    one row per product line, an account's tickets one cluster, small cells suppressed."""
    from csatlib.report import tables

    ctx = load_country("DE", processed_dir=sample)
    table = ctx.transactions_by_product
    tickets = ctx.country_transactions()
    assert ctx.ticket_product == "product"
    counts = tickets["product"].astype(str).value_counts()
    assert dict(zip(table["product"].astype(str), table["n"], strict=True)) == counts.to_dict()
    assert (table["n_clusters"] <= table["n"]).all() and (table["suppression"] == "").all()
    shown = tables.transaction_by_display(
        table, by="product", min_n=30, missing="none", labels=ctx.ticket_labels
    )
    assert list(shown.index) == sorted(counts.index) and shown.columns.name == "Product line"
    small = load_country("NA", processed_dir=sample)  # a few tickets per product
    shown = tables.transaction_by_display(
        small.transactions_by_product, by="product", min_n=30, missing="none"
    )
    assert shown["Mean"].str.startswith("suppressed").all()
    assert tables.transaction_by_display(None, by=None, min_n=30, missing="none").markup == (
        '<p class="csat-note">none</p>'
    )


def test_the_global_summary_shows_ticket_satisfaction_by_product(sample) -> None:
    """The global summary's product table: every ticket up to the wave, by product line,
    clustered by account, protected with the other ticket tables (the region and month table
    shown with it, the country reports')."""
    study = load_study(processed_dir=sample)
    tickets = study.transactions()
    table = study.transactions_by_product()
    assert study.ticket_product == "product"
    assert study.ticket_labels["product"] == "Product line"
    counts = tickets["product"].astype(str).value_counts().to_dict()
    assert dict(zip(table["product"].astype(str), table["n"], strict=True)) == counts
    assert "n_clusters" in table and "suppression" in table


def _open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def test_a_warm_up_that_cannot_fork_leaves_nothing_open(monkeypatch) -> None:
    import gc

    before = _open_fds()

    def no_fork() -> int:
        raise BlockingIOError("fork: resource temporarily unavailable")

    monkeypatch.setattr(context.os, "fork", no_fork)
    assert context._in_child(lambda: None) is None  # the caller computes everything itself
    assert _open_fds() == before and gc.get_freeze_count() == 0


def test_a_hung_warm_up_child_is_killed_after_its_timeout() -> None:
    child = context._in_child(lambda: time.sleep(60))
    assert child is not None
    start = time.monotonic()
    child.wait(timeout=0.5)
    assert time.monotonic() - start < 10
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(child.pid, 0)


def test_a_failing_warm_up_still_waits_for_its_child(sample, monkeypatch) -> None:
    waited = []
    real = context._in_child

    class Tracked:
        def __init__(self, child):
            self.child = child

        def wait(self) -> None:
            waited.append(self.child.pid)
            self.child.wait()

    monkeypatch.setattr(context, "_in_child", lambda work: Tracked(real(lambda: None)))

    def broken(responses) -> None:
        raise ValueError("a broken CIT codebook")

    monkeypatch.setattr(context, "_warm_text", broken)
    before = _open_fds()
    with pytest.raises(ValueError, match="broken CIT codebook"):
        warm_up(sample, slices=(("country", ""),), parallel=True)
    assert len(waited) == 1 and _open_fds() == before  # the child's pipe is closed


def test_the_country_reports_and_the_global_summary_hide_the_same_ticket_cells(sample) -> None:
    """One pattern of hidden ticket cells for the build: a country report's tables and the
    global summary's read it alike, so a cell hidden in one is not given away by the other."""
    study = load_study(processed_dir=sample)
    ctx = load_country("DE", processed_dir=sample)
    assert ctx.ticket_protection == study.ticket_protection
    by_product = study.transactions_by_product()
    hidden = {r for (t, _, r) in study.ticket_protection if t == "study_product"}
    shown = set(by_product.loc[by_product["suppression"] == "", "product"].astype(str))
    assert not hidden & shown


def test_the_warm_up_finds_the_ticket_cells_to_hide(sample, monkeypatch) -> None:
    """Made once in the fork server, before any kernel: no kernel runs the audit itself."""
    calls = []
    real = context.ticket_protection
    monkeypatch.setattr(
        context, "ticket_protection", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    warm_up(sample, slices=(("country", ""),))
    assert len(calls) == 1
    hidden = load_country("DE", processed_dir=sample).ticket_protection
    assert len(calls) == 1 and hidden  # remembered: not made again (the sample hides cells)


def test_the_global_summary_reads_the_country_reports_ticket_cells(sample, monkeypatch) -> None:
    """The global summary's two ticket tables take the hidden cells the country reports made,
    under the same key: the audit runs once for both."""
    calls = []
    real = context.ticket_protection
    monkeypatch.setattr(
        context, "ticket_protection", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    from csatlib.report import overview

    monkeypatch.setattr(overview, "ticket_protection", context.ticket_protection)
    hidden = load_country("DE", processed_dir=sample).ticket_protection
    study = load_study(processed_dir=sample)
    assert study.ticket_protection == hidden and len(calls) == 1
    study.transactions_by_group(), study.transactions_by_product()
    assert len(calls) == 1
