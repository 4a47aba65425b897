"""The processed tables as a partitioned Parquet dataset that any engine reads as it is.

``csat data`` writes each processed table twice: ``<kind>.parquet`` (one file, what the reports
read) and ``dataset/<kind>/`` (this module), a Hive-partitioned Parquet dataset:

* ``responses`` (and any table with a ``wave`` column) is partitioned by wave:
  ``dataset/responses/wave=2026-Q3/part-0.parquet``;
* a table with a ``month`` column but no wave (the transaction survey) by month:
  ``dataset/transactions/month=2026-09/part-0.parquet``;
* any other table (revenue, the organisation tables) is one file, ``dataset/<kind>/part-0.parquet``.

A key's value is percent-encoded in its folder's name where it holds anything but ASCII letters,
digits, spaces and ``-_.~`` (a wave label "2026/Q3" is ``wave=2026%2FQ3``), as Hive does; every
reader named here decodes it. A row without a key (a survey row whose date did not parse:
kept, its wave unknown) goes to
``wave=__HIVE_DEFAULT_PARTITION__``, Hive's folder for a missing key, which pyarrow, Dask, Spark
and DuckDB read back as null.

DuckDB (``read_parquet('dataset/responses/*/*.parquet', hive_partitioning = true)``), Dask
(``dask.dataframe.read_parquet('dataset/responses')``), Spark (``spark.read.parquet(...)``) and
pyarrow read it without csatlib; a reader that filters on the partition key reads only that
key's files. Every file carries the table's codebook roles, labels and scales in its schema
metadata (key ``csatlib``), so :func:`read_dataset` gives back the table
:func:`csatlib.ingest.clean.load_processed` gives, with only the rows and columns asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csatlib.errors import DataError

__all__ = [
    "DATASET_DIR",
    "PARTITION_KEYS",
    "PartitionWriter",
    "ROW_GROUP_ROWS",
    "arrow_table",
    "partition_folder",
    "partition_key",
    "read_dataset",
    "swap_dataset",
    "write_dataset",
]

#: The dataset's folder in the processed folder.
DATASET_DIR = "dataset"
#: The partition key of a table: the first of these columns it has (none: one file).
PARTITION_KEYS: tuple[str, ...] = ("wave", "month")
#: The partition folder of rows whose key is missing (Hive's name, read back as null).
MISSING_KEY = "__HIVE_DEFAULT_PARTITION__"
#: Rows per Parquet row group. Arrow encodes a whole row group in memory before writing it
#: (its default, a million rows, would hold most of a large table twice).
ROW_GROUP_ROWS = 65_536


def partition_folder(value: str) -> str:
    """A partition value as the text of its folder name (after ``<key>=``): percent-encoded,
    as Hive, Spark, pyarrow and DuckDB decode it, except ASCII letters, digits, spaces and ``-_.~``
    ("2026-Q3" stays, "2026/Q3" is ``2026%2FQ3``): a wave label with a slash or an equals sign
    would otherwise be a subfolder or a second key."""
    from urllib.parse import quote

    return value if value == MISSING_KEY else quote(value, safe=" -_.~")


def partition_key(frame: pd.DataFrame) -> str | None:
    """The column a table is partitioned by: ``wave``, else ``month``, else None."""
    return next((key for key in PARTITION_KEYS if key in frame.columns), None)


def _wave_order(frame: pd.DataFrame) -> list[str] | None:
    if "wave" in frame and isinstance(frame["wave"].dtype, pd.CategoricalDtype):
        return [str(c) for c in frame["wave"].cat.categories]
    return None


def arrow_table(frame: pd.DataFrame) -> Any:
    """``frame`` as an Arrow table whose schema metadata key ``csatlib`` holds its ``attrs``
    and, when ``wave`` is categorical, the study's wave order (what :func:`read_dataset` and
    :func:`csatlib.ingest.clean.load_processed` restore)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(_bare(frame), preserve_index=False)
    payload = dict(frame.attrs)
    wave_order = _wave_order(frame)
    if wave_order is not None:  # the study's order, also in files partitioned by wave
        payload["wave_order"] = wave_order
    meta = _pandas_meta(table, frame.attrs)
    meta[b"csatlib"] = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    return table.replace_schema_metadata(meta)


def _bare(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without attrs, its columns shared: pandas deep-copies the attrs each time a
    column is read, which is what Arrow's conversion does for every column."""
    bare = frame.copy(deep=False)
    bare.attrs = {}
    return bare


def _pandas_meta(table: Any, attrs: Mapping[str, Any]) -> dict[bytes, bytes]:
    """``table``'s schema metadata with ``attrs`` in the ``pandas`` entry, as Arrow writes the
    attrs of a frame converted with them."""
    meta = dict(table.schema.metadata or {})
    pandas_meta = json.loads(meta[b"pandas"])
    pandas_meta["attributes"] = dict(attrs)
    meta[b"pandas"] = json.dumps(pandas_meta).encode("utf-8")
    return meta


class PartitionWriter:
    """Writes one table under ``folder`` as the dataset holds it, a batch of rows at a time:
    a file per value of its partition key (Hive layout), each holding its rows without the key
    and the pandas metadata of the table without the key; one ``part-0.parquet`` for a table
    without a key. ``schema`` is the table with no rows (its columns, dtypes and attrs).

    Use it as a context manager; :meth:`close` finishes the files (a table without a key and
    without rows still gets its file).
    """

    def __init__(self, folder: Path, schema: pd.DataFrame) -> None:
        folder.mkdir(parents=True)
        self.folder = folder
        self.schema = schema
        self.key = partition_key(schema)
        self.files: dict[str, Any] = {}  # partition value ("" without a key) -> ParquetWriter
        self.meta: dict[bytes, bytes] | None = None

    def __enter__(self) -> PartitionWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:  # the caller removes what was written
            for file in self.files.values():
                file.close()

    def _file(self, value: str, table: Any) -> Any:
        import pyarrow.parquet as pq

        if value not in self.files:
            if self.key is None:
                path = self.folder / "part-0.parquet"
            else:
                folder = self.folder / f"{self.key}={partition_folder(value)}"
                folder.mkdir()
                path = folder / "part-0.parquet"
            self.files[value] = pq.ParquetWriter(path, table.schema)
        return self.files[value]

    def write(self, frame: pd.DataFrame, table: Any) -> None:
        """Write the rows of ``frame``; ``table`` is ``frame`` as :func:`arrow_table` gives it."""
        import pyarrow as pa

        if self.key is None:
            self._file("", table).write_table(table, row_group_size=ROW_GROUP_ROWS)
            return
        key = self.key
        if self.meta is None:
            empty = _bare(self.schema.drop(columns=[key]))
            self.meta = _pandas_meta(pa.Table.from_pandas(empty, preserve_index=False), frame.attrs)
            self.meta[b"csatlib"] = table.schema.metadata[b"csatlib"]
        rest = table.drop_columns([key])
        for value, rows in _key_rows(frame[key]):
            part = rest.filter(pa.array(rows)).replace_schema_metadata(self.meta)
            self._file(value, part).write_table(part, row_group_size=ROW_GROUP_ROWS)

    def close(self) -> None:
        if self.key is None and not self.files:  # no rows: the file of an empty table
            self.write(self.schema, arrow_table(self.schema))
        for file in self.files.values():
            file.close()
        self.files = {}


def _key_rows(key: pd.Series) -> list[tuple[str, np.ndarray]]:
    """Each partition value of ``key`` (as text; :data:`MISSING_KEY` where missing), in text
    order, with the mask of its rows. A categorical key (the wave) is split by its codes, never
    turned into a text per row."""
    if isinstance(key.dtype, pd.CategoricalDtype):
        codes = key.cat.codes.to_numpy()
        names = [str(c) for c in key.cat.categories]
        present = [(MISSING_KEY if c < 0 else names[c], int(c)) for c in np.unique(codes)]
        return [(value, codes == c) for value, c in sorted(present)]
    values = key.astype("string").fillna(MISSING_KEY)
    return [(v, (values == v).to_numpy(dtype=bool)) for v in sorted(values.unique())]


def _write_one(frame: pd.DataFrame, folder: Path, table: Any) -> None:
    """One whole table under ``folder`` (:class:`PartitionWriter`)."""
    with PartitionWriter(folder, frame.head(0)) as writer:
        writer.write(frame, table)


def write_dataset(tables: Mapping[str, pd.DataFrame], processed_dir: str | Path) -> Path:
    """Write ``tables`` (kind -> table) as ``<processed_dir>/dataset/<kind>/``, replacing the
    previous dataset whole: it is written beside it first, then swapped in
    (:func:`swap_dataset`), so a reader never sees half of one.

    Returns
    -------
    pathlib.Path
        The dataset folder.
    """
    return swap_dataset(_stage_dataset(tables, processed_dir))


def _stage_dataset(tables: Mapping[str, pd.DataFrame], processed_dir: str | Path) -> Path:
    """Write the dataset of ``tables`` into a new hidden folder of ``processed_dir`` and return
    it, for :func:`swap_dataset`; nothing is left behind when writing fails."""
    stage = Path(tempfile.mkdtemp(dir=Path(processed_dir), prefix=".dataset."))
    try:
        for kind, frame in tables.items():
            _write_one(frame, stage / kind, arrow_table(frame))
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return stage


def swap_dataset(stage: Path) -> Path:
    """Put ``stage`` (a dataset written into a hidden folder beside the dataset) in the
    dataset's place, and remove the previous one; returns the dataset folder. When the new one
    cannot be moved in, the previous one is put back: the dataset is never left missing."""
    final = stage.parent / DATASET_DIR
    old = stage.parent / f".dataset.old.{os.getpid()}"
    moved = False
    try:
        if final.exists():
            os.replace(final, old)
            moved = True
        os.replace(stage, final)
    except BaseException:
        if moved and not final.exists():
            os.replace(old, final)
        shutil.rmtree(stage, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return final


def read_dataset(
    kind: str,
    processed_dir: str | Path,
    *,
    columns: Sequence[str] | None = None,
    filters: Sequence[tuple[str, str, Any]] | None = None,
) -> pd.DataFrame:
    """Read ``dataset/<kind>/`` back: only ``columns`` and the rows ``filters`` keep.

    Parameters
    ----------
    kind : str
        ``"responses"``, ``"transactions"``, ...
    processed_dir : str or pathlib.Path
        The processed folder.
    columns : sequence of str, optional
        Columns to read (default all); the partition key can be one of them.
    filters : sequence of (column, op, value), optional
        Row filters in pyarrow's form, e.g. ``[("country", "==", "DE")]``; a filter on the
        partition key skips the other partitions' files, one on another column is pushed down
        to the Parquet row groups.

    Returns
    -------
    pandas.DataFrame
        With the codebook's ``attrs`` restored; ``wave`` categorical in the study's wave order.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    folder = Path(processed_dir) / DATASET_DIR / kind
    if not folder.is_dir():
        found = sorted(p.name for p in folder.parent.glob("*")) if folder.parent.is_dir() else []
        raise DataError(
            f"read_dataset: {str(folder)!r} not found; `csat data` writes it (tables in the "
            f"dataset: {', '.join(found) or 'none'})"
        )
    # partition values as dictionaries: the wave comes back categorical, not 10 million strings
    hive = ds.HivePartitioning.discover(infer_dictionary=True)
    dataset = ds.dataset(folder, format="parquet", partitioning=hive)
    expression = None
    for column, op, value in filters or ():
        field = ds.field(column)
        term = {
            "==": field == value,
            "!=": field != value,
            "<": field < value,
            "<=": field <= value,
            ">": field > value,
            ">=": field >= value,
            "in": field.isin(list(value)),
        }.get(op)
        if term is None:
            raise DataError(
                f"read_dataset: filter operator {op!r} is not one of ==, !=, <, <=, >, >=, in"
            )
        expression = term if expression is None else expression & term
    table = dataset.to_table(columns=list(columns) if columns else None, filter=expression)
    meta = next(
        (
            json.loads(f.physical_schema.metadata[b"csatlib"])
            for f in dataset.get_fragments()
            if f.physical_schema.metadata and b"csatlib" in f.physical_schema.metadata
        ),
        {},
    )
    for position, field in enumerate(table.schema):
        # the missing-key folder's null is in the key's dictionary, which Arrow cannot yet merge
        column = table.column(position)
        if pa.types.is_dictionary(field.type) and any(
            c.dictionary.null_count for c in column.chunks
        ):
            column = column.cast(field.type.value_type)
            table = table.set_column(position, field.name, column)
    frame = table.to_pandas()
    order = meta.pop("wave_order", None)
    if "wave" in frame.columns and order:
        wave = frame["wave"]
        if isinstance(wave.dtype, pd.CategoricalDtype):  # reorder the categories, not the rows
            frame["wave"] = wave.cat.set_categories(order, ordered=True)
        else:
            frame["wave"] = pd.Categorical(wave.astype(str), categories=order, ordered=True)
    frame.attrs = meta
    return frame
