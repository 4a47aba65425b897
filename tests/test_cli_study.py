"""The reports of a processed folder read its own study's other inputs (targets, action plans,
aliases, rules): ``csat data`` records the raw folder, ``csat reports`` follows it."""

from __future__ import annotations

import importlib
import os
import time

import pytest
from support.studies import SHAPES, write_study

from csatlib import cli, config
from csatlib.ingest.clean import build_processed


@pytest.fixture()
def restore_config(monkeypatch):
    """Put the configuration back as it was (the environment too) after a test changes it:
    ``csat reports`` sets ``CSAT_RAW_DIR`` itself, which monkeypatch does not undo when the
    variable was not set before."""
    before = os.environ.pop("CSAT_RAW_DIR", None)
    yield
    monkeypatch.undo()
    os.environ.pop("CSAT_RAW_DIR", None)
    if before is not None:
        os.environ["CSAT_RAW_DIR"] = before
    importlib.reload(config)


def test_csat_data_records_its_raw_folder_once(tmp_path) -> None:
    raw, out = tmp_path / "study", tmp_path / "processed"
    write_study(raw, next(iter(SHAPES)))
    build_processed(raw, out)
    stamp = out / config.RAW_DIR_STAMP
    assert config.recorded_raw_dir(out) == raw
    before = stamp.stat().st_mtime_ns
    config.record_raw_dir(out, raw)  # the same folder: the file is left as it is (make)
    assert stamp.stat().st_mtime_ns == before
    assert config.recorded_raw_dir(tmp_path) is None


def test_reports_read_the_recorded_study_not_the_sample(tmp_path, restore_config) -> None:
    raw, out = tmp_path / "study", tmp_path / "processed"
    raw.mkdir()
    out.mkdir()
    config.record_raw_dir(out, raw)
    cli._follow_study(out)
    assert raw == config.RAW_DIR
    assert raw / "targets.csv" == config.TARGETS
    assert raw / "account_aliases.csv" == config.ACCOUNT_ALIASES
    assert os.environ["CSAT_RAW_DIR"] == str(raw)  # the build's own processes follow too


def test_a_raw_folder_named_by_the_environment_wins_with_a_note(
    tmp_path, restore_config, monkeypatch, capsys
) -> None:
    other, out = tmp_path / "other", tmp_path / "processed"
    other.mkdir()
    out.mkdir()
    config.record_raw_dir(out, tmp_path / "study")
    monkeypatch.setenv("CSAT_RAW_DIR", str(other))
    importlib.reload(config)
    cli._follow_study(out)
    assert other == config.RAW_DIR
    assert f"was made from {tmp_path / 'study'}, but CSAT_RAW_DIR names {other}" in (
        capsys.readouterr().err
    )


def test_a_study_without_a_kept_response_stops_the_reports_clearly(
    tmp_path, restore_config, capsys
) -> None:
    raw, out = tmp_path / "study", tmp_path / "processed"
    raw.mkdir()
    rows = "id,country,ltr\n" + "".join(f"R{i},,{i % 11}\n" for i in range(40))
    (raw / "s.csv").write_text(rows, encoding="utf-8")
    (raw / "s.codebook.yaml").write_text(
        "kind: responses\nfile: s.csv\ncolumns:\n"
        "  response_id: {source: id, role: id}\n"
        "  country: {source: country, role: country}\n"
        "  likelihood_to_recommend: {source: ltr, role: nps}\n",
        encoding="utf-8",
    )
    build_processed(raw, out)  # every row excluded: missing_country
    code = cli.main(["reports", "--processed-dir", str(out), "--out-dir", str(tmp_path / "r")])
    assert code == 1
    assert (
        "has no own-brand responses with a country to report (csat data kept 0 of 40 rows): see "
        "why each row was excluded in"
    ) in capsys.readouterr().err


def test_a_tickets_only_study_is_told_what_the_reports_need(tmp_path, capsys) -> None:
    out = tmp_path / "processed"
    out.mkdir()
    (out / "transactions.parquet").write_bytes(b"")  # what csat data wrote: no survey
    code = cli.main(["reports", "--processed-dir", str(out), "--out-dir", str(tmp_path / "r")])
    assert code == 1
    err = capsys.readouterr().err
    assert "holds transactions.parquet but no relationship survey (responses.parquet)" in err
    assert "run `make data` first" not in err


def test_a_malformed_as_of_date_is_a_clear_error(capsys) -> None:
    assert cli.main(["sample", "--as-of", "01/10/2026"]) == 1
    assert "--as-of expects a date YYYY-MM-DD, found '01/10/2026'" in capsys.readouterr().err


def test_a_sigterm_ends_a_command_as_an_exception_and_the_handler_is_restored() -> None:
    import signal

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as stopped, cli._exit_on_sigterm():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert stopped.value.code == 143  # 128 + SIGTERM: what was started is cleaned up on the way
    assert signal.getsignal(signal.SIGTERM) is before
