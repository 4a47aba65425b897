"""Tests of csatlib.ingest.dataset: the processed tables as a dataset other engines read.

The sample is cleaned once into a temporary ``data/processed``; DuckDB and Dask (a LocalCluster,
as the README's example) read the dataset, and their results are compared with csatlib's own on
the single-file tables.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from csatlib import config
from csatlib.errors import DataError
from csatlib.ingest.clean import build_processed, load_processed
from csatlib.ingest.dataset import DATASET_DIR, read_dataset, write_dataset
from csatlib.stats.nps import nps_by_group

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project root whose data/processed holds the cleaned sample."""
    root = tmp_path_factory.mktemp("project")
    build_processed(config.RAW_DIR, root / "data" / "processed")
    return root


def test_layout_partitions_the_surveys_by_wave_and_says_so(root: Path) -> None:
    processed = root / "data" / "processed"
    responses = processed / DATASET_DIR / "responses"
    waves = sorted(p.name for p in responses.iterdir())
    assert waves == ["wave=2025-Q4", "wave=2026-Q1", "wave=2026-Q2", "wave=2026-Q3"]
    assert [p.name for p in (responses / "wave=2026-Q3").iterdir()] == ["part-0.parquet"]
    assert [p.name for p in (processed / DATASET_DIR / "revenue").iterdir()] == ["part-0.parquet"]
    summary = pd.read_json(processed / "cleaning_summary.json", typ="series")
    assert summary["dataset"]["partitioned_by"]["responses"] == "wave"
    assert summary["dataset"]["partitioned_by"]["revenue"] is None


def test_read_back_equals_the_single_file_table_with_its_codebook(root: Path) -> None:
    processed = root / "data" / "processed"
    whole = load_processed("responses", processed).sort_values("response_id")
    back = read_dataset("responses", processed).sort_values("response_id")
    assert back.attrs["roles"] == whole.attrs["roles"]
    assert list(back["wave"].cat.categories) == list(whole["wave"].cat.categories)
    for column in ("country", "likelihood_to_recommend", "account", "wave"):
        assert back[column].astype(str).tolist() == whole[column].astype(str).tolist(), column
    de = read_dataset(
        "responses",
        processed,
        columns=["response_id", "wave", "likelihood_to_recommend"],
        filters=[("country", "==", "DE"), ("wave", "==", "2026-Q3")],
    )
    want = whole.loc[(whole["country"] == "DE") & (whole["wave"] == "2026-Q3")]
    assert sorted(de["response_id"]) == sorted(want["response_id"])
    assert list(de.columns) == ["response_id", "wave", "likelihood_to_recommend"]
    with pytest.raises(DataError, match="operator 'like'"):
        read_dataset("responses", processed, filters=[("country", "like", "D%")])
    with pytest.raises(DataError, match="tables in the dataset: .*responses"):
        read_dataset("tickets", processed)


def test_duckdb_reads_the_dataset_as_it_is(root: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    processed = root / "data" / "processed"
    glob = str(processed / DATASET_DIR / "responses" / "*" / "*.parquet")
    found = duckdb.sql(
        "SELECT wave, count(*) AS n, 100 * avg(CASE WHEN likelihood_to_recommend >= 9 THEN 1 "
        "WHEN likelihood_to_recommend <= 6 THEN -1 ELSE 0 END) AS nps "
        f"FROM read_parquet('{glob}', hive_partitioning = true) "
        "WHERE country = 'DE' AND NOT competitor AND likelihood_to_recommend IS NOT NULL "
        "GROUP BY wave ORDER BY wave"
    ).df()
    whole = load_processed("responses", processed)
    own = whole.loc[(whole["country"] == "DE") & ~whole["competitor"]]
    want = nps_by_group(own, "wave", min_n=1)
    assert found["wave"].tolist() == want["wave"].astype(str).tolist()
    assert found["n"].tolist() == want["n"].tolist()
    np.testing.assert_allclose(found["nps"], want["score"], rtol=1e-12)


def test_the_readmes_dask_example_gives_the_clustered_nps_of_the_respondents(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's code, run as written against a LocalCluster in a project folder."""
    pytest.importorskip("dask.distributed")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Large data: the processed dataset", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    monkeypatch.chdir(root)
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own example
    table = scope["table"]
    whole = load_processed("responses", root / "data" / "processed")
    own = whole.loc[~whole["competitor"]].copy()
    own["account"] = own["account"].fillna(own["response_id"])
    want = nps_by_group(own, ["country", "wave"], cluster="account")
    got = table.assign(wave=table["wave"].astype(str), country=table["country"].astype(str))
    want = want.assign(wave=want["wave"].astype(str), country=want["country"].astype(str))
    got = got.sort_values(["country", "wave"]).reset_index(drop=True)
    want = want.sort_values(["country", "wave"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, rtol=1e-9, atol=1e-9, check_dtype=False)
    assert got["deff"].notna().any()


def test_write_replaces_the_whole_dataset_and_needs_every_key(tmp_path: Path) -> None:
    frame = pd.DataFrame({"wave": ["2026-Q1", "2026-Q2"], "x": [1, 2]})
    write_dataset({"t": frame}, tmp_path)
    write_dataset({"t": frame.iloc[1:]}, tmp_path)  # a wave dropped: its files go too
    assert sorted(p.name for p in (tmp_path / DATASET_DIR / "t").iterdir()) == ["wave=2026-Q2"]
    assert not list(tmp_path.glob(".dataset*"))  # no staging folder left behind
    monthly = pd.DataFrame({"month": ["2026-09", "2026-10"], "x": [1, 2]})
    write_dataset({"m": monthly}, tmp_path)
    assert sorted(p.name for p in (tmp_path / DATASET_DIR / "m").iterdir()) == [
        "month=2026-09",
        "month=2026-10",
    ]
    # a row without a wave (its date did not parse) goes to Hive's folder for a missing key
    write_dataset({"t": pd.DataFrame({"wave": ["2026-Q1", None], "x": [1, 2]})}, tmp_path)
    assert sorted(p.name for p in (tmp_path / DATASET_DIR / "t").iterdir()) == [
        "wave=2026-Q1",
        "wave=__HIVE_DEFAULT_PARTITION__",
    ]
    back = read_dataset("t", tmp_path).sort_values("x")
    assert back["x"].tolist() == [1, 2] and back["wave"].isna().tolist() == [False, True]
    failing = mock.patch("csatlib.ingest.dataset._write_one", side_effect=OSError("disk full"))
    with failing, pytest.raises(OSError, match="disk full"):
        write_dataset({"m": monthly}, tmp_path)
    assert (tmp_path / DATASET_DIR / "t").is_dir()  # a failed write leaves the old dataset
    assert not list(tmp_path.glob(".dataset*"))
    # another column's missing value leaves it categorical (only the key's null is decoded)
    tier = pd.Series(pd.Categorical(["Gold", None]))
    write_dataset({"c": pd.DataFrame({"wave": ["2026-Q1", "2026-Q2"], "tier": tier})}, tmp_path)
    back = read_dataset("c", tmp_path).sort_values("wave")
    assert isinstance(back["tier"].dtype, pd.CategoricalDtype)
    assert back["tier"].isna().tolist() == [False, True]


def test_a_dataset_that_cannot_be_moved_in_leaves_the_previous_one(tmp_path: Path) -> None:
    frame = pd.DataFrame({"wave": ["2026-Q1", "2026-Q2"], "x": [1, 2]})
    write_dataset({"t": frame}, tmp_path)
    real = os.replace
    calls = []

    def second_fails(src, dst):  # the previous dataset moves aside, the new one cannot move in
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("no space for the rename")
        return real(src, dst)

    failing = mock.patch("csatlib.ingest.dataset.os.replace", side_effect=second_fails)
    with failing, pytest.raises(OSError, match="no space for the rename"):
        write_dataset({"t": frame.iloc[1:]}, tmp_path)
    assert sorted(p.name for p in (tmp_path / DATASET_DIR / "t").iterdir()) == [
        "wave=2026-Q1",
        "wave=2026-Q2",
    ]  # the previous dataset, whole, in its place
    assert not list(tmp_path.glob(".dataset*"))


def test_the_pandas_metadata_is_the_one_arrow_writes_for_the_frame_with_its_attrs() -> None:
    """arrow_table converts a frame without its attrs (pandas copies them for every column) and
    puts them back into the ``pandas`` metadata entry: exactly what Arrow writes itself."""
    import json

    import pyarrow as pa

    from csatlib.ingest.dataset import arrow_table

    frame = pd.DataFrame(
        {
            "wave": pd.Categorical(["2026-Q1", "2026-Q2"]),
            "ltr": pd.array([9, None], dtype="Int64"),
            "name": pd.array(["Ä", None], dtype="string"),
        }
    )
    frame.attrs = {"roles": {"ltr": "nps", "wave": "wave"}, "labels": {"ltr": "Recommend"}}
    ours = json.loads(arrow_table(frame).schema.metadata[b"pandas"])
    theirs = json.loads(
        pa.Table.from_pandas(frame, preserve_index=False).schema.metadata[b"pandas"]
    )
    assert ours == theirs
    assert ours["attributes"] == frame.attrs


def test_a_categorical_key_is_split_as_its_texts_are(tmp_path: Path) -> None:
    from csatlib.ingest.dataset import MISSING_KEY, _key_rows

    texts = pd.Series(["2026-Q2", None, "2026-Q1", "2026-Q2", None], dtype="string")
    coded = texts.astype(pd.CategoricalDtype(["2026-Q3", "2026-Q2", "2026-Q1"], ordered=True))
    expected = [
        ("2026-Q1", [0, 0, 1, 0, 0]),
        ("2026-Q2", [1, 0, 0, 1, 0]),
        (MISSING_KEY, [0, 1, 0, 0, 1]),
    ]
    for key in (texts, coded):
        got = [(value, rows.astype(int).tolist()) for value, rows in _key_rows(key)]
        assert got == expected
    # written through either, the dataset's files hold the same rows
    for name, key in (("texts", texts), ("coded", coded)):
        (tmp_path / name).mkdir()
        write_dataset({name: pd.DataFrame({"wave": key, "x": range(5)})}, tmp_path / name)
        back = read_dataset(name, tmp_path / name).sort_values("x")
        assert back["x"].tolist() == [0, 1, 2, 3, 4]
        assert back["wave"].astype("string").fillna("-").tolist() == [
            "2026-Q2", "-", "2026-Q1", "2026-Q2", "-"
        ]  # fmt: skip


def test_a_partition_value_with_a_slash_or_equals_sign_is_one_folder(tmp_path: Path) -> None:
    import duckdb

    from csatlib.ingest.dataset import partition_folder

    assert partition_folder("2026-Q3") == "2026-Q3"  # the usual labels stay as they are
    assert partition_folder("2026/Q3") == "2026%2FQ3"
    labels = ["2026/Q3", "Q4=2026", "50% wave", "Vague été"]
    frame = pd.DataFrame({"wave": labels, "x": range(4)})
    write_dataset({"t": frame}, tmp_path)  # used to fail: "wave=2026/Q3" is no folder
    folders = sorted(p.name for p in (tmp_path / DATASET_DIR / "t").iterdir())
    assert len(folders) == 4 and all("/" not in f and f.count("=") == 1 for f in folders)
    back = read_dataset("t", tmp_path).sort_values("x")
    assert back["wave"].astype(str).tolist() == labels
    pattern = str(tmp_path / DATASET_DIR / "t" / "*" / "*.parquet")
    rows = duckdb.sql(
        f"select wave from read_parquet('{pattern}', hive_partitioning = true) order by x"
    ).fetchall()
    assert [r[0] for r in rows] == labels
