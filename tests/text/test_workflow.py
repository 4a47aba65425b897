"""Tests of csatlib.text.workflow: parameter checks and default paths of the CIT notebook, the
selection of uncoded incidents (checked against the rows csatlib.text.hand_coding.export_for_coding
sends to the coders) and one coder's codes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csatlib import config
from csatlib.errors import DataError
from csatlib.text import hand_coding, workflow


@pytest.fixture
def processed(tmp_path: Path) -> Path:
    folder = tmp_path / "processed"
    folder.mkdir()
    return folder


# --------------------------------------------------------------------------------------------
# check_parameters
# --------------------------------------------------------------------------------------------


def test_empty_paths_mean_the_project_defaults(processed: Path) -> None:
    settings = workflow.check_parameters(processed_dir=processed)
    assert settings.processed_dir == processed.resolve()
    assert settings.work_dir == (config.REPORTS_DIR / "cit").resolve()
    assert settings.codebook_path == (config.RAW_DIR / "cit_codebook.yaml").resolve()
    assert settings.hand_codes_path == (config.RAW_DIR / "cit_hand_codes.csv").resolve()
    assert settings.coding_sheet == settings.work_dir / "cit_coding_sheet.csv"
    assert (settings.min_n, settings.seed, settings.audit_share, settings.review_n) == (
        config.DEFAULT_MIN_N,
        0,
        0.05,
        20,
    )
    assert (settings.adjudicated_coder, settings.second_coder) == ("coder_a", "coder_b")
    assert settings.suggest_threshold == 0.5


def test_the_study_s_own_files_come_from_the_raw_folder_it_was_made_from(
    processed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A processed folder of another study (csat data records its raw folder) reads that
    study's hand codes, not the sample's; a study without hand codes is told so."""
    monkeypatch.delenv("CSAT_RAW_DIR", raising=False)
    study = tmp_path / "other_study"
    study.mkdir()
    (study / "cit_hand_codes.csv").write_text("incident_id,coder,attribute\n", "utf-8")
    config.record_raw_dir(processed, study)
    settings = workflow.check_parameters(processed_dir=processed)
    assert settings.hand_codes_path == (study / "cit_hand_codes.csv").resolve()
    # no codebook of its own: the project's default codebook
    assert settings.codebook_path == (config.DEFAULT_RAW_DIR / "cit_codebook.yaml").resolve()
    (study / "cit_hand_codes.csv").unlink()
    with pytest.raises(DataError, match=r"hand_codes_path .*other_study/cit_hand_codes\.csv"):
        workflow.check_parameters(processed_dir=processed)
    with pytest.raises(DataError, match="work_dir .* is inside .*raw data is never written"):
        workflow.check_parameters(processed_dir=processed, work_dir=study / "sheets")


def test_empty_processed_dir_means_data_processed() -> None:
    if not config.PROCESSED_DIR.is_dir():
        pytest.skip("data/processed does not exist in this checkout")
    settings = workflow.check_parameters()
    assert settings.processed_dir == config.PROCESSED_DIR.resolve()


def test_relative_paths_are_taken_from_the_project_root_not_the_cwd(
    processed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # as in JupyterLab, where the cwd is notebooks/
    settings = workflow.check_parameters(
        processed_dir=processed,
        work_dir="reports/some_round",
        codebook_path="data/raw/../raw/cit_codebook.yaml",
    )
    assert settings.work_dir == (config.PROJECT_ROOT / "reports" / "some_round").resolve()
    assert settings.codebook_path == (config.RAW_DIR / "cit_codebook.yaml").resolve()
    assert not settings.work_dir.exists()  # checking creates nothing


@pytest.mark.parametrize(
    "work_dir",
    [
        str(config.RAW_DIR),
        str(config.RAW_DIR / "coding"),
        "data/raw",
        "data/raw/round_2",
        "reports/../data/raw/x",
    ],
)
def test_work_dir_inside_raw_data_is_refused(processed: Path, work_dir: str) -> None:
    with pytest.raises(DataError, match="work_dir .* is inside .*raw data is never written"):
        workflow.check_parameters(processed_dir=processed, work_dir=work_dir)


def test_work_dir_through_a_symlink_to_raw_data_is_refused(processed: Path, tmp_path: Path) -> None:
    link = tmp_path / "looks_harmless"
    link.symlink_to(config.RAW_DIR, target_is_directory=True)
    with pytest.raises(DataError, match="is inside"):
        workflow.check_parameters(processed_dir=processed, work_dir=link / "sheets")


def test_work_dir_that_is_a_file_is_refused(processed: Path, tmp_path: Path) -> None:
    file = tmp_path / "sheet.csv"
    file.write_text("x")
    with pytest.raises(DataError, match="work_dir .* is a file"):
        workflow.check_parameters(processed_dir=processed, work_dir=file)


def test_missing_processed_dir_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match="processed_dir .*nowhere.* is not a folder; run `csat data`"
    ):
        workflow.check_parameters(processed_dir=tmp_path / "nowhere")


@pytest.mark.parametrize("name", ["codebook_path", "hand_codes_path"])
def test_missing_input_file_names_the_parameter(processed: Path, tmp_path: Path, name: str) -> None:
    with pytest.raises(DataError, match=f"{name} .*missing.yaml' is not an existing file"):
        workflow.check_parameters(processed_dir=processed, **{name: tmp_path / "missing.yaml"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("seed", -1),
        ("seed", 1.0),
        ("review_n", 0),
        ("audit_share", 1.5),
        ("audit_share", -0.1),
        ("audit_share", True),
        ("audit_share", "0.1"),
        ("processed_dir", 5),
        ("suggest_threshold", 0),
        ("suggest_threshold", 1.01),
        ("adjudicated_coder", ""),
        ("second_coder", None),
    ],
)
def test_bad_values_are_refused_naming_parameter_and_value(
    processed: Path, name: str, value: object
) -> None:
    kwargs = {"processed_dir": processed, name: value}
    with pytest.raises(DataError, match=f"check_parameters: {name} .*{value!r}"):
        workflow.check_parameters(**kwargs)


@pytest.mark.parametrize("value", [0, True, 2.5, "30"])
def test_bad_min_n_is_refused_by_the_shared_rule(processed: Path, value: object) -> None:
    message = f"The 'min_n' parameter of check_parameters must be an int >= 1; got {value!r}."
    with pytest.raises(DataError, match=re.escape(message)):
        workflow.check_parameters(processed_dir=processed, min_n=value)


def test_min_n_zero_is_refused_and_one_is_accepted(processed: Path) -> None:
    with pytest.raises(
        DataError,
        match=re.escape("The 'min_n' parameter of check_parameters must be an int >= 1; got 0."),
    ):
        workflow.check_parameters(processed_dir=processed, min_n=0)
    assert workflow.check_parameters(processed_dir=processed, min_n=1).min_n == 1


def test_boundary_values_are_accepted(processed: Path) -> None:
    settings = workflow.check_parameters(
        processed_dir=processed, min_n=1, seed=0, audit_share=1, review_n=1, suggest_threshold=1
    )
    assert (settings.min_n, settings.seed, settings.review_n) == (1, 0, 1)
    assert settings.audit_share == settings.suggest_threshold == 1.0
    assert isinstance(settings.audit_share, float) and isinstance(settings.suggest_threshold, float)


def test_a_coder_is_not_compared_with_itself(processed: Path) -> None:
    with pytest.raises(DataError, match="second_coder must differ .* both are 'coder_a'"):
        workflow.check_parameters(
            processed_dir=processed, adjudicated_coder="coder_a", second_coder=" coder_a "
        )


# --------------------------------------------------------------------------------------------
# uncoded_incidents
# --------------------------------------------------------------------------------------------


def _incidents(n: int) -> pd.DataFrame:
    ids = [f"R{i:03d}|like|1" for i in range(n)]
    return pd.DataFrame(
        {
            "incident_id": pd.array(ids, dtype="string"),
            "valence": pd.array(["positive"] * n, dtype="string"),
            "text": pd.array([f"text {i}" for i in range(n)], dtype="string"),
            "country": pd.array(["DE"] * n, dtype="string"),
        }
    )


def _codes(rows: list[tuple[str, str | None, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": [r[0] for r in rows],
            "attribute": pd.array([r[1] for r in rows], dtype="string"),
            "benefit": pd.array([None if r[1] is None else "b" for r in rows], dtype="string"),
            "valence": "positive",
            "method": [r[2] for r in rows],
            "coder": [r[2] for r in rows],
        }
    )


CODES = [
    ("R000|like|1", "pricing", "rule"),
    ("R001|like|1", None, "hand"),  # a person decided: no attribute applies
    ("R002|like|1", "pricing", "model"),  # a suggestion is not a code
    ("R003|like|1", "pricing", "hand"),
    ("R003|like|1", "pricing", "rule"),
]


def test_uncoded_means_no_rule_and_no_hand_code() -> None:
    incidents = _incidents(6)
    out = workflow.uncoded_incidents(incidents, _codes(CODES))
    assert out["incident_id"].tolist() == ["R002|like|1", "R004|like|1", "R005|like|1"]
    assert list(out.columns) == list(incidents.columns)


def test_uncoded_rows_are_the_non_audit_rows_of_the_coding_sheet(tmp_path: Path) -> None:
    incidents = _incidents(6)
    sheet = hand_coding.export_for_coding(
        incidents, _codes(CODES), tmp_path / "s.csv", audit_share=0.0
    )
    out = workflow.uncoded_incidents(incidents, _codes(CODES))
    assert out["incident_id"].tolist() == sheet["incident_id"].tolist()


def test_sample_is_a_seeded_subset_in_incident_order() -> None:
    incidents = _incidents(50)
    codes = _codes([("R000|like|1", "pricing", "rule")])
    first = workflow.uncoded_incidents(incidents, codes, sample=10, seed=1)
    again = workflow.uncoded_incidents(incidents, codes, sample=10, seed=1)
    other = workflow.uncoded_incidents(incidents, codes, sample=10, seed=2)
    assert len(first) == 10
    pd.testing.assert_frame_equal(first, again)
    assert first["incident_id"].tolist() != other["incident_id"].tolist()
    assert first["incident_id"].is_monotonic_increasing
    assert "R000|like|1" not in set(first["incident_id"])
    assert np.isin(first["incident_id"], incidents["incident_id"]).all()


def test_sample_larger_than_the_uncoded_returns_all_of_them() -> None:
    incidents = _incidents(4)
    out = workflow.uncoded_incidents(incidents, _codes(CODES[:1]), sample=20)
    assert out["incident_id"].tolist() == ["R001|like|1", "R002|like|1", "R003|like|1"]


def test_uncoded_with_empty_codes_is_every_incident() -> None:
    incidents = _incidents(3)
    out = workflow.uncoded_incidents(incidents, _codes([]))
    assert len(out) == 3


def test_uncoded_refuses_codes_without_method() -> None:
    with pytest.raises(
        DataError, match="uncoded_incidents \\(codes\\): missing column\\(s\\) 'method'"
    ):
        workflow.uncoded_incidents(_incidents(2), pd.DataFrame({"incident_id": ["x"]}))


@pytest.mark.parametrize("sample", [-1, 2.5, True])
def test_uncoded_refuses_a_bad_sample_size(sample: object) -> None:
    with pytest.raises(DataError, match="sample must be"):
        workflow.uncoded_incidents(_incidents(2), _codes([]), sample=sample)


# --------------------------------------------------------------------------------------------
# coder_codes
# --------------------------------------------------------------------------------------------


def test_coder_codes_keeps_one_coders_rows() -> None:
    hand = pd.DataFrame(
        {
            "incident_id": ["a", "a", "b", "c"],
            "coder": pd.array(["coder_a", "coder_b", "coder_a", pd.NA], dtype="string"),
            "attribute": ["pricing", "pricing", None, "pricing"],
        }
    )
    out = workflow.coder_codes(hand, "coder_a")
    assert out["incident_id"].tolist() == ["a", "b"]
    assert out.index.tolist() == [0, 1]


def test_unknown_coder_lists_the_coders_found() -> None:
    hand = pd.DataFrame({"incident_id": ["a", "b"], "coder": ["coder_a", "coder_b"]})
    with pytest.raises(
        DataError, match="no hand codes by coder 'coder_c'; coders found: coder_a, coder_b"
    ):
        workflow.coder_codes(hand, "coder_c")
