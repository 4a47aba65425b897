"""A country report reads only its own rows (csatlib.report.store, csatlib.report.context).

The comparisons with the other countries are study-wide results: made once, kept in memory and
on disk beside the processed tables. A report that finds them there loads its country's rows
and nothing else, and shows exactly what a report made from the whole study shows.
"""

from __future__ import annotations

import pandas as pd
import pytest

from csatlib import config
from csatlib.ingest import clean
from csatlib.ingest.clean import build_processed
from csatlib.report import context, store, summary
from csatlib.report.context import load_country, remembered

FRAMES = (
    "country_trends",
    "screen_table",
    "attribute_scores",
    "loyalty_table",
    "driver_results",
    "priorities",
    "at_risk_counts",
    "followup_counts",
    "action_plans",
    "transactions_by_month",
    "current",
    "previous",
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    processed = tmp_path_factory.mktemp("store") / "processed"
    build_processed(config.RAW_DIR, processed)
    return processed


@pytest.fixture(autouse=True)
def _fresh_process():
    """Each test starts as a new process would: nothing remembered, no table in memory."""
    context._REMEMBERED.clear()
    clean._PROCESSED_CACHE.clear()
    yield
    context._REMEMBERED.clear()
    clean._PROCESSED_CACHE.clear()


def _report(ctx) -> dict:
    """What a country report shows, as values to compare."""
    out = {name: getattr(ctx, name) for name in FRAMES}
    out["headline"] = summary.nps_headline(ctx)
    out["coder"] = ctx.coder_accuracy
    out["waves"] = (ctx.wave, ctx.previous_wave, ctx.waves, ctx.cluster)
    return out


def _as_a_new_process_reading_no_study(monkeypatch, module) -> list[str]:
    """Forget what this process remembers; from now on preparing the whole study (in
    ``module``) fails the test, and the names of the tables read whole are listed."""
    context._REMEMBERED.clear()
    clean._PROCESSED_CACHE.clear()
    read_whole: list[str] = []
    real = clean._read_processed
    monkeypatch.setattr(clean, "_read_processed", lambda p: read_whole.append(p.name) or real(p))

    def no_study(*args, **kwargs):
        raise AssertionError("the report read the whole study")

    monkeypatch.setattr(module, "prepared_responses", no_study)
    return read_whole


def _assert_same(got: dict, expected: dict) -> None:
    for name, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(got[name], value, obj=name)
        else:
            assert got[name] == value, name


def test_a_kept_result_is_read_back_and_a_broken_one_is_ignored(tmp_path) -> None:
    key = ("trends", ("v1",), "2026-Q3")
    assert store.fetch(tmp_path, key) is store.MISSING
    store.keep(tmp_path, key, pd.DataFrame({"x": [1.5]}))
    assert store.fetch(tmp_path, key)["x"].tolist() == [1.5]
    assert store.entry_path(tmp_path, key) != store.entry_path(tmp_path, (*key, 30))
    store.entry_path(tmp_path, key).write_bytes(b"not a pickle")  # half written, or foreign
    assert store.fetch(tmp_path, key) is store.MISSING
    store.clear(tmp_path)
    assert not (tmp_path / store.STORE_DIR).exists()


def test_remembered_reads_the_disk_before_computing(tmp_path) -> None:
    calls = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"x": [2.0]})

    remembered(("k",), compute, folder=tmp_path)
    context._REMEMBERED.clear()  # another process: nothing in memory
    again = remembered(("k",), compute, folder=tmp_path)
    assert len(calls) == 1 and again["x"].tolist() == [2.0]


@pytest.mark.parametrize("country", ["DE", "NA"])
def test_a_country_report_reads_only_its_rows(sample, monkeypatch, country) -> None:
    first = load_country(country, processed_dir=sample)
    whole = first.study_responses  # a report made from the whole study handed in: the reference
    expected = _report(load_country(country, processed_dir=sample, responses=whole))
    _report(first)  # the first report makes the study-wide results and keeps them
    read_whole = _as_a_new_process_reading_no_study(monkeypatch, context)
    ctx = load_country(country, processed_dir=sample)
    got = _report(ctx)
    assert ctx.sliced and set(ctx.responses["country"].astype(str)) == {country}
    assert len(ctx.responses) == int((whole["country"].astype(str) == country).sum())
    assert "responses.parquet" not in read_whole
    assert ctx.has_competitors == whole["competitor"].astype(bool).any()  # the study's, not NA's
    _assert_same(got, expected)


def test_a_report_without_kept_results_reads_the_study_and_agrees(sample, monkeypatch) -> None:
    monkeypatch.setattr(store, "fetch", lambda folder, key: store.MISSING)
    ctx = load_country("FR", processed_dir=sample)
    whole = load_country("FR", processed_dir=sample, responses=ctx.study_responses)
    assert ctx.sliced and not whole.sliced
    _assert_same(_report(ctx), _report(whole))


def test_a_country_without_own_respondents_is_named_as_before(sample) -> None:
    with pytest.raises(context.DataError, match="'ZZ' has no own-brand responses; countries"):
        load_country("ZZ", processed_dir=sample)


def test_csat_data_forgets_the_results_of_the_old_tables(tmp_path, capsys) -> None:
    from csatlib.cli import main

    out = tmp_path / "processed"
    out.mkdir()
    store.keep(out, ("trends",), pd.DataFrame({"x": [1.0]}))
    assert (out / store.STORE_DIR).is_dir()
    assert main(["data", "--raw-dir", str(config.RAW_DIR), "--out-dir", str(out)]) == 0
    assert not (out / store.STORE_DIR).exists() and (out / "responses.parquet").is_file()
    capsys.readouterr()


def _summary(ctx) -> dict:
    """What the global summary shows, as values to compare."""
    out = {
        name: getattr(ctx, name)
        for name in ("league", "nps_trends", "problems", "loyalty_by_country", "attribute_means")
    }
    out["counts"] = (ctx.n_respondents, ctx.pooled_n, ctx.pooled_nps, ctx.countries, ctx.waves)
    out["revenue"] = repr(ctx.revenue_linkage)
    out["sections"] = ctx.sections
    return out


def test_the_global_summary_reads_no_response_once_its_results_are_kept(
    sample, monkeypatch
) -> None:
    from csatlib.report import overview

    whole = context.load_responses(sample)
    expected = _summary(overview.load_study(processed_dir=sample, responses=whole))
    _summary(overview.load_study(processed_dir=sample))  # makes and keeps the results
    read_whole = _as_a_new_process_reading_no_study(monkeypatch, overview)
    got = _summary(overview.load_study(processed_dir=sample))
    assert "responses.parquet" not in read_whole
    _assert_same(got, expected)


def test_a_new_version_of_the_code_removes_the_old_ones_results(tmp_path, monkeypatch) -> None:
    store.keep(tmp_path, ("k",), 1)
    old = store.entry_path(tmp_path, ("k",))
    monkeypatch.setattr(store, "code_version", lambda: "edited")
    assert store.fetch(tmp_path, ("k",)) is store.MISSING  # an edited estimator: a new key
    store.keep(tmp_path, ("k",), 2)
    assert not old.exists() and store.fetch(tmp_path, ("k",)) == 2
