"""Some rows or some columns of a processed table (csatlib.ingest.clean.load_processed_rows,
load_processed_columns): exactly what load_processed gives, cut, without reading the rest."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from csatlib import config
from csatlib.errors import DataError
from csatlib.ingest import clean
from csatlib.ingest.clean import (
    build_processed,
    load_processed,
    load_processed_columns,
    load_processed_rows,
)


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("rows") / "processed"
    build_processed(config.RAW_DIR, folder)
    # many small row groups, as a large study has: most hold no Namibian respondent
    path = folder / "responses.parquet"
    pq.write_table(pq.read_table(path), path, row_group_size=500)
    return folder


@pytest.fixture(autouse=True)
def _nothing_in_memory():
    clean._PROCESSED_CACHE.clear()
    yield
    clean._PROCESSED_CACHE.clear()


@pytest.mark.parametrize("country", ["NA", "DE"])
def test_the_rows_of_one_country_are_the_whole_table_cut(processed, monkeypatch, country) -> None:
    read = []
    real = pq.ParquetFile.read_row_group

    def counted(self, group, columns=None, **kwargs):
        read.append(columns)
        return real(self, group, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", counted)
    rows = load_processed_rows("responses", processed, column="country", value=country)
    whole = load_processed("responses", processed)
    expected = whole.loc[whole["country"].astype(str) == country]
    pd.testing.assert_frame_equal(rows, expected)  # index labels, dtypes, categories
    assert rows.attrs == whole.attrs
    groups = pq.ParquetFile(processed / "responses.parquet").metadata.num_row_groups
    whole_groups = sum(c is None for c in read)
    # only the groups that hold the country are read whole (Namibia's 66 are in 35 of 47)
    assert groups == 47 and whole_groups == len(set(expected.index // 500))
    assert whole_groups < groups if country == "NA" else whole_groups == groups


def test_rows_and_columns_come_from_memory_when_the_table_is_kept(processed) -> None:
    whole = load_processed("responses", processed)
    rows = load_processed_rows("responses", processed, column="country", value="FR")
    pd.testing.assert_frame_equal(rows, whole.loc[whole["country"].astype(str) == "FR"])
    columns = load_processed_columns("responses", processed, ["wave", "account"])
    pd.testing.assert_frame_equal(columns, whole[["wave", "account"]])


def test_the_columns_of_every_row_keep_the_wave_order(processed) -> None:
    columns = load_processed_columns("responses", processed, ["wave"])
    whole = load_processed("responses", processed)
    pd.testing.assert_frame_equal(columns, whole[["wave"]])
    assert columns["wave"].cat.ordered


def test_a_missing_column_or_table_is_named(processed, tmp_path) -> None:
    with pytest.raises(DataError, match=r"expected the columns \['region'\]"):
        load_processed_rows("responses", processed, column="region", value="EMEA")
    with pytest.raises(DataError, match=r"expected the columns \['nope'\]"):
        load_processed_columns("responses", processed, ["wave", "nope"])
    with pytest.raises(DataError, match="run `csat data`"):
        load_processed_rows("responses", tmp_path, column="country", value="DE")
