"""Read survey exports (CSV, Qualtrics, SurveyMonkey, XLSX, SPSS) into one raw, all-text table.

Every reader returns a :class:`RawExport` whose ``frame`` holds the cells exactly as text: nothing
is converted, ``"NA"`` stays ``"NA"`` and ``"00123"`` stays ``"00123"``. Typing, missing codes and
range checks happen later, in :mod:`csatlib.ingest.clean`, driven by the codebook.

Format detection (overridable with ``format=``)
-----------------------------------------------
* By content first: a ZIP signature is an Excel workbook, ``$FL2``/``$FL3`` is an SPSS file, an OLE2
  signature is a legacy ``.xls`` (not supported). The file extension is a *claim* that must agree
  with the content: an ``.xlsx`` that is really text, or a ``.csv`` that is really a workbook, is an
  :class:`~csatlib.errors.ExportError` rather than a guess.
* Text files are CSV; the header layout is detected from the first rows:

  - **Qualtrics** (3 header rows): row 1 = column ids, row 2 = question texts, row 3 =
    ``{"ImportId":...}``; also the older 2-row form (``ResponseId`` above ``Response ID``, or the
    legacy ``V1`` above ``ResponseID``).
  - **SurveyMonkey** (2 header rows): row 1 = question (blank where a question spans several
    columns), row 2 = sub-answer ("Response", "Open-Ended Response", a matrix row or an option).
    Column ids are the question text, or ``"question | sub-answer"`` when the sub-answer is
    something else than "Response"/"Open-Ended Response"/blank; ids still equal after that get a
    suffix ``" (2)"``, ``" (3)"`` in file order.
  - anything else is a plain CSV with one header row.

  Detection runs only when ``format`` is not given; a file declared ``format: csv`` is taken at its
  word, and :func:`csatlib.ingest.clean.clean_export` then refuses data rows that are Qualtrics
  header rows (the ``ImportId`` row or the question-text row), so ratings never silently become
  text.
* XLSX workbooks go through the same header-layout detection (a Qualtrics XLSX has the same three
  rows). Each cell's type is kept in ``RawExport.cell_types`` so that an Excel date or a formula in
  a rating column can be reported with its sheet and cell.

Encodings
---------
A declared encoding (argument or codebook) is used strictly. Otherwise: a UTF-8 BOM means UTF-8
(strict); a UTF-16 BOM means UTF-16; then strict UTF-8; only if the bytes are not valid UTF-8
*and* contain no valid multi-byte UTF-8 sequence at all is the file read as cp1252 (the Windows
superset of latin-1 that Excel writes). A file that mixes valid UTF-8 with invalid bytes is corrupt,
not cp1252, and is refused with the byte offset of the first bad byte. Undecodable bytes are never
replaced by U+FFFD.

Large exports
-------------
A plain UTF-8 text export (the usual case, whatever its size) is parsed by pyarrow's CSV reader
and each column is kept as a categorical of its distinct texts, so a 233k-row export is read in a
fraction of a second and never held as millions of Python strings. The exact reader (Python's
``csv`` module, strict) takes over whenever the file is anything but plain: another encoding,
invalid UTF-8, a quote that does not open or close a field, a record of another width, a blank
record among the first three. Both give the same cells, row numbers and messages (tested).
An SPSS file is read in chunks of :data:`SAV_CHUNK_ROWS` cases, each chunk's codes kept as
categoricals, so its values are never all held at once either.

Row numbers
-----------
``RawExport.frame.index`` (named ``source_row``) is the row number a user sees when opening the file
in a spreadsheet: 1-based, header rows counted, one row per CSV record (a quoted field spanning
several lines is still one row), blank lines counted but not kept. For SPSS files it is the case
number (there is no header row).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from csatlib.errors import ExportError

__all__ = [
    "ExportFormat",
    "RawExport",
    "read_export",
    "detect_format",
    "column_letter",
]

ExportFormat = Literal["csv", "qualtrics", "surveymonkey", "xlsx", "sav"]
_FORMATS: tuple[str, ...] = get_args(ExportFormat)

_ZIP_MAGIC = b"PK\x03\x04"
_SAV_MAGIC = (b"$FL2", b"$FL3")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMPORT_ID = re.compile(r'^\s*\{\s*"ImportId"\s*:')
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_SURVEYMONKEY_META = ("Respondent ID", "Collector ID")
_SURVEYMONKEY_SELF = ("", "Response", "Open-Ended Response")


@dataclass(frozen=True)
class RawExport:
    """One export, every cell as text.

    Attributes
    ----------
    frame : DataFrame
        One ``str`` per cell ("" for an empty cell); columns are the export's column ids; the
        index, named ``source_row``, is the spreadsheet row number (see module notes). Columns of
        a plain UTF-8 text export are categoricals of their distinct texts (see "Large exports");
        the other readers give object columns. Either way ``frame.to_numpy()`` holds the texts.
    header_rows : int
        Number of header rows above the data (3 Qualtrics, 2 SurveyMonkey / old Qualtrics, 1 CSV
        and XLSX, 0 SPSS).
    format : {"csv", "qualtrics", "surveymonkey", "xlsx", "sav"}
        How the file was read. An XLSX file keeps ``"xlsx"`` even with a Qualtrics header layout.
    encoding : str or None
        Text encoding used (``"utf-8"``, ``"utf-8-sig"``, ``"cp1252"`` ...); the file's declared
        encoding for SPSS; None for XLSX.
    path : Path
        The file read.
    question_texts : Mapping[str, str]
        Column id -> question text where the export carries it (Qualtrics row 2, SurveyMonkey
        rows 1-2, SPSS variable labels).
    value_labels : Mapping[str, Mapping[str, str]]
        SPSS value labels, column id -> {code as text -> label}. The frame holds codes, not labels.
    sheet : str or None
        Worksheet read (XLSX only).
    blank_rows : tuple of int
        Row numbers of entirely blank rows between the header and the last data row; they are not
        data rows (nothing to clean or count) but are listed so that every row is accounted for.
    cell_types : DataFrame or None
        XLSX only: same shape, index and columns as ``frame``; one code per cell: ``"n"`` number,
        ``"s"`` text, ``"d"`` date, ``"f"`` formula, ``"b"`` boolean, ``"e"`` Excel error, ``""``
        empty.
    """

    frame: pd.DataFrame
    header_rows: int
    format: ExportFormat
    encoding: str | None
    path: Path
    question_texts: Mapping[str, str] = field(default_factory=dict)
    value_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    sheet: str | None = None
    blank_rows: tuple[int, ...] = ()
    cell_types: pd.DataFrame | None = None

    @property
    def name(self) -> str:
        """File name of the export (used as the ``source`` of every processed row)."""
        return self.path.name

    @property
    def n_rows(self) -> int:
        """Number of data rows."""
        return len(self.frame)

    def cell_ref(self, column: str, source_row: int) -> str:
        """Spreadsheet reference of a cell, e.g. ``"D7"`` (column letter from its position)."""
        position = list(self.frame.columns).index(column)
        return f"{column_letter(position)}{source_row}"


def column_letter(position: int) -> str:
    """Spreadsheet letter of a 0-based column position: 0 -> "A", 25 -> "Z", 26 -> "AA"."""
    letters = ""
    n = position + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# --------------------------------------------------------------------------------------------------
# public entry points


def detect_format(path: str | Path) -> ExportFormat:
    """Detect an export's format from its content and extension (reads and parses the file).

    Parameters
    ----------
    path : str or Path
        The export file.

    Returns
    -------
    {"csv", "qualtrics", "surveymonkey", "xlsx", "sav"}

    Raises
    ------
    ExportError
        The file is missing, empty, binary junk, or its content contradicts its extension.
    """
    return read_export(path).format


def read_export(
    path: str | Path,
    *,
    format: ExportFormat | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
) -> RawExport:
    """Read one survey export into a :class:`RawExport` of text cells.

    Parameters
    ----------
    path : str or Path
        The export file (``.csv``, ``.txt``, ``.xlsx``, ``.sav``).
    format : {"csv", "qualtrics", "surveymonkey", "xlsx", "sav"}, optional
        Override detection. ``"csv"`` means exactly one header row.
    encoding : str, optional
        Text encoding, used strictly (CSV-like formats only; overrides detection).
    sheet : str or int, optional
        XLSX worksheet name or 0-based position; default the first sheet.
    delimiter : str, optional
        CSV field delimiter; default detected from the first line among ``,`` ``;`` and tab.

    Returns
    -------
    RawExport

    Raises
    ------
    ExportError
        Missing, empty or header-only file; content that is not what the name or ``format`` claims;
        undecodable bytes (with byte offset and line); unbalanced quotes or a record whose field
        count differs from the header (with line numbers); duplicate column names.
    """
    path = Path(path)
    if format is not None and format not in _FORMATS:
        raise ExportError(
            f"{path.name}: unknown format {format!r}; expected one of {', '.join(_FORMATS)}"
        )
    if not path.is_file():
        raise ExportError(f"{path}: file not found")
    with path.open("rb") as handle:  # the whole file is read only by the exact reader
        head = handle.read(_HEAD_BYTES)
    if not head or (len(head) < _HEAD_BYTES and head.isspace()):
        raise ExportError(f"{path.name}: the file is empty (0 data rows, no header)")
    content = _content_kind(head)
    # qualtrics/surveymonkey name a header layout, which a workbook can have too
    layout_only = format in ("qualtrics", "surveymonkey")
    claimed = _claim_from_extension(path) if format is None or layout_only else format
    _check_claim(path, content, claimed, explicit=format is not None and not layout_only)
    if content == "xlsx":
        return _read_xlsx(path, sheet=sheet, layout=format if layout_only else None)
    if content == "sav":
        return _read_sav(path, encoding=encoding)
    fast = _read_text_columnar(path, head, encoding, format=format, delimiter=delimiter)
    if fast is not None:
        return fast
    data = path.read_bytes()
    if data.isspace():  # as `not data.strip()`, without copying the file
        raise ExportError(f"{path.name}: the file is empty (0 data rows, no header)")
    text, used_encoding = _decode(data, encoding, path)
    return _read_text(path, text, used_encoding, format=format, delimiter=delimiter)


# --------------------------------------------------------------------------------------------------
# content sniffing


def _content_kind(data: bytes) -> Literal["xlsx", "sav", "xls", "text"]:
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if data.startswith(_SAV_MAGIC):
        return "sav"
    if data.startswith(_OLE_MAGIC):
        return "xls"
    return "text"


def _claim_from_extension(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".sav", ".zsav"):
        return "sav"
    if suffix == ".xls":
        return "xls"
    return "text"


def _check_claim(path: Path, content: str, claimed: str, *, explicit: bool) -> None:
    described = {
        "xlsx": "an Excel workbook (ZIP container)",
        "sav": "an SPSS .sav file",
        "xls": "a legacy Excel .xls file",
        "text": "a text/CSV file",
    }
    claim_kind = claimed if claimed in ("xlsx", "sav", "xls") else "text"
    if content == "xls":
        raise ExportError(
            f"{path.name}: legacy Excel .xls files are not supported; open it in Excel and save "
            "it as .xlsx (or export CSV)"
        )
    if content != claim_kind:
        how = f"format {claimed!r} was declared" if explicit else f"its name ends {path.suffix!r}"
        raise ExportError(
            f"{path.name}: expected {described[claim_kind]} because {how}, but the content is "
            f"{described[content]}; fix the file name or the codebook's format"
        )


def _decode(data: bytes, declared: str | None, path: Path) -> tuple[str, str]:
    if declared is not None:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            raise ExportError(f"{path.name}: unknown encoding {declared!r} declared") from None
        if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        return _strict_decode(data, codec, path, declared=True), codec
    if data.startswith(codecs.BOM_UTF8):
        return _strict_decode(data, "utf-8-sig", path, declared=False), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict_decode(data, "utf-16", path, declared=False), "utf-16"
    _check_binary(data, path)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        if _UTF8_MULTIBYTE.search(data):
            raise ExportError(
                f"{path.name}: {_bad_byte(data, err.start)} is not valid UTF-8, although the file "
                "contains valid UTF-8 elsewhere (a corrupt or mixed-encoding file); re-export it, "
                "or declare its encoding in the codebook"
            ) from None
    return _strict_decode(data, "cp1252", path, declared=False), "cp1252"


def _strict_decode(data: bytes, codec: str, path: Path, *, declared: bool) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as err:
        origin = "declared" if declared else "detected"
        raise ExportError(
            f"{path.name}: {_bad_byte(data, err.start)} cannot be decoded as {codec} "
            f"({origin} encoding); declare the right encoding in the codebook (utf-8, cp1252, "
            "latin-1 ...)"
        ) from None


def _bad_byte(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"byte 0x{data[offset]:02X} at byte offset {offset} (0-based; line {line})"


def _check_binary(data: bytes, path: Path) -> None:
    head = data[:65536]
    if b"\x00" in head:
        offset = head.index(b"\x00")
        raise ExportError(
            f"{path.name}: not a text/CSV file (NUL byte at byte offset {offset}); is it a "
            "binary file with the wrong name?"
        )
    controls = sum(head.count(bytes([b])) for b in (*range(1, 9), 11, *range(14, 32), 127))
    if controls > max(8, len(head) // 100):
        raise ExportError(
            f"{path.name}: not a text/CSV file ({controls} control bytes in the first "
            f"{len(head)} bytes); is it a binary file with the wrong name?"
        )


# --------------------------------------------------------------------------------------------------
# CSV-like text


def _read_text(
    path: Path, text: str, encoding: str, *, format: str | None, delimiter: str | None
) -> RawExport:
    if not text.strip():
        raise ExportError(f"{path.name}: the file is empty (0 data rows, no header)")
    sep = delimiter or _sniff_delimiter(text)
    records, lines = _parse_csv(path, text, sep)
    grid = [(n, rec) for n, rec in enumerate(records, start=1) if "".join(rec).strip()]
    if not grid:
        raise ExportError(f"{path.name}: the file is empty (0 data rows, no header)")
    layout, header_rows = _detect_layout([rec for _, rec in grid[:3]], format)
    fmt: ExportFormat = "csv" if layout == "csv" else layout  # type: ignore[assignment]
    return _grid_to_export(
        path, grid, header_rows, fmt, encoding, lines=lines, layout=layout, cell_types=None
    )


#: The first bytes of a file, read to tell its kind, encoding, delimiter and header.
_HEAD_BYTES = 65_536
#: Bytes of a text export parsed at a time by the columnar reader (cut between records): its
#: memory follows this, not the size of the file.
READ_CHUNK_BYTES = 32 * 1024 * 1024


def _read_text_columnar(
    path: Path, head: bytes, declared: str | None, *, format: str | None, delimiter: str | None
) -> RawExport | None:
    """Read a UTF-8 text export with pyarrow's CSV reader into categorical text columns.

    The fast path for large exports. The file is read in chunks of about
    :data:`READ_CHUNK_BYTES`, cut between records: each chunk is parsed by Arrow and its
    columns dictionary-encoded, so that neither the file nor its text is ever held whole; each
    column ends as a categorical of its distinct texts (a rating column has a dozen). ``head``
    is the file's first bytes (:data:`_HEAD_BYTES`, or all of a smaller file).

    It returns None, and the exact reader :func:`_read_text` takes over with its line-numbered
    messages, whenever the file is anything but plain: another encoding, invalid UTF-8, a quote
    that does not open or close a field (which Arrow would accept silently), a record whose
    field count differs from the first record's, or a blank record among the first three (a
    blank line further down is a blank record, as for the exact reader). What it returns
    equals what :func:`_read_text` returns for the same file (tested on every test export and
    on the sample, in one chunk and in many).
    """
    bom = head.startswith(codecs.BOM_UTF8)
    encoding = "utf-8-sig" if bom else "utf-8"
    if declared is not None:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            return None
        if codec not in ("utf-8", "utf-8-sig"):
            return None
        encoding = "utf-8-sig" if bom or codec == "utf-8-sig" else "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and declared is None:
        return None
    if declared is None and not bom:
        _check_binary(head, path)
    start = len(codecs.BOM_UTF8) if bom else 0
    text = head[start:_HEAD_BYTES].decode("utf-8", errors="replace")
    if not text.strip() or "\n" not in text:
        return None
    sep = delimiter or _sniff_delimiter(text)
    if len(sep) != 1 or ord(sep) > 127 or sep in '"\r\n':
        return None
    try:
        width = len(next(csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)))
    except (csv.Error, StopIteration):
        return None
    chunks = _record_chunks(path, start, ord(sep))
    if chunks is None:  # a malformed quote
        return None
    parsed = _parse_chunks(path, chunks, sep, width, format)
    if parsed is None:
        return None
    frame, header_rows, layout, first_rows = parsed
    ids, texts = _column_ids(path, first_rows[:header_rows], layout)
    blank = _blank_records(frame)
    if blank.all():
        return None
    numbers = np.arange(header_rows + 1, header_rows + 1 + len(frame), dtype=np.int64)
    if blank.any():
        frame = frame.loc[~blank]
        last = numbers[~blank][-1]
        blank_rows = tuple(int(n) for n in numbers[blank] if n < last)
        numbers = numbers[~blank]
    else:
        blank_rows = ()
    frame.columns = pd.Index(ids, dtype=object)
    frame.index = pd.Index(numbers, name="source_row")
    fmt: ExportFormat = "csv" if layout == "csv" else layout  # type: ignore[assignment]
    return RawExport(
        frame=frame,
        header_rows=header_rows,
        format=fmt,
        encoding=encoding,
        path=path,
        question_texts=MappingProxyType(texts),
        value_labels=MappingProxyType({}),
        blank_rows=blank_rows,
    )


def _parse_chunks(
    path: Path, chunks: Sequence[tuple[int, int]], sep: str, width: int, format: str | None
) -> tuple[pd.DataFrame, int, str, list[list[str]]] | None:
    """The records of ``chunks`` (byte ranges of ``path``) after the header rows, as a frame
    of categorical columns; with the header rows' count, the layout and the first three
    records. None where Arrow refuses a chunk or the first records are not a header."""
    import pyarrow as pa

    encoded: list[list[tuple[np.ndarray, Any]]] = [[] for _ in range(width)]  # per column
    distinct: set[str] | None = None  # columns kept as texts per chunk (see _encoded_columns)
    header_rows, layout, first_rows = 0, "csv", []
    opening: list[Any] = []  # the first chunks, until they hold three records
    with path.open("rb") as handle:
        for k, (begin, end) in enumerate(chunks):
            handle.seek(begin)
            data = handle.read(end - begin)
            if not data.endswith((b"\n", b"\r")):  # the last record (Arrow refuses a lone line
                data += b"\n"  # without its line break)
            table = _arrow_table(memoryview(data), sep, width)
            del data
            if table is None:
                return None
            if not first_rows:
                opening.append(table)
                if sum(t.num_rows for t in opening) < 3 and k + 1 < len(chunks):
                    continue
                table = pa.concat_tables(opening)
                opening = []
                first = table.slice(0, 3).to_pylist()
                first_rows = [[row[f"f{j}"] for j in range(width)] for row in first]
                if not first_rows or any(not "".join(row).strip() for row in first_rows):
                    return None
                layout, header_rows = _detect_layout(first_rows, format)
                table = table.slice(header_rows)
            for j, column in enumerate(_encoded_columns(table, distinct)):
                encoded[j].append(column)
            if distinct is None and len(encoded[0][-1][0]) >= _DISTINCT_SAMPLE:
                # from a chunk of enough rows on: its columns of mostly distinct texts
                distinct = {f"f{j}" for j in range(width) if _mostly_distinct(*encoded[j][-1])}
            del table
            _release_arrow_memory()
    if sum(len(codes) for codes, _ in encoded[0]) == 0:
        return None
    columns = {}
    for j in range(width):
        codes, dictionary = _unified(encoded[j])
        encoded[j] = []
        columns[f"f{j}"] = _categorical(codes, dictionary)
    return pd.DataFrame(columns, copy=False), header_rows, layout, first_rows


def _categorical(codes: np.ndarray, dictionary: Any) -> pd.Categorical:
    """A categorical of ``codes`` into an Arrow ``dictionary`` of distinct, non-null texts.

    The texts are distinct by construction (Arrow's ``dictionary_encode``) and never null (the
    reader reads no cell as null), so pandas' own check that the categories are unique, a hash
    of every text (0.4 s in a profile of the 50x benchmark's 1.2 million response ids), is skipped
    where pandas offers the fast path."""
    categories = pd.Index(dictionary.to_pandas())
    fast = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    dtype = fast(categories, False) if fast is not None else pd.CategoricalDtype(categories)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _unified(parts: Sequence[tuple[np.ndarray, Any]]) -> tuple[np.ndarray, Any]:
    """One column's (codes, dictionary) parts, one per chunk, as codes into one dictionary
    of its distinct texts in order of first appearance (each part's dictionary is in that
    order: the first part's texts first, then the texts new in the second, and so on).

    A part of a column kept as texts (:func:`_encoded_columns`) is its chunk's cells with
    codes ``0..n-1``: a "dictionary" that may repeat a text, which the one encoding of every
    part's dictionary here makes distinct like any other."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(parts) == 1:  # one chunk: encoded (a column is kept as texts from the next on)
        return parts[0]
    encoded = pc.dictionary_encode(pa.concat_arrays([d for _, d in parts]))
    to_global = encoded.indices.to_numpy(zero_copy_only=False)
    offsets = np.cumsum([0] + [len(d) for _, d in parts[:-1]])
    pairs = zip(offsets, parts, strict=True)
    codes = [to_global[offset + c.astype(np.int64)] for offset, (c, _) in pairs]
    return np.concatenate(codes), encoded.dictionary


#: Rows of a chunk from which its columns of mostly distinct texts are told
#: (:func:`_mostly_distinct`); a smaller chunk's every column could look distinct.
_DISTINCT_SAMPLE = 1000


def _mostly_distinct(codes: np.ndarray, dictionary: Any) -> bool:
    """Whether a chunk's column has more distinct texts than half its rows (an id column)."""
    return len(codes) > 0 and 2 * len(dictionary) > len(codes)


def _encoded_columns(table: Any, distinct: set[str] | None = None) -> list[tuple[np.ndarray, Any]]:
    """Each column of an Arrow table of texts as (codes, dictionary of its distinct texts in
    order of first appearance), two columns at a time: Arrow's kernels release the GIL.

    A column of ``distinct`` (mostly distinct texts in the first chunk: a response id) is
    kept as its cells with codes ``0..n-1``: encoding a chunk of distinct ids saves nothing
    and hashes every id once more than :func:`_unified`, which makes them distinct anyway
    (0.35 s for the 1.2 million ids of the 50x benchmark)."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.compute as pc

    def encode(name: str) -> tuple[np.ndarray, Any]:
        if distinct and name in distinct:
            cells = table.column(name).combine_chunks()
            return np.arange(len(cells), dtype=np.int32), cells
        chunks = pc.dictionary_encode(table.column(name)).chunks  # one dictionary, the last's
        if not chunks:
            return np.zeros(0, dtype=np.int32), pa.array([], type=pa.string())
        codes = [c.indices.to_numpy(zero_copy_only=False) for c in chunks]
        dictionary = chunks[-1].dictionary
        # the smallest integer that holds the chunk's codes: a rating column's dozen texts
        # take a byte per row, not four, while the whole export waits to be unified
        small = np.min_scalar_type(-max(len(dictionary), 1))
        return np.concatenate(codes).astype(small, copy=False), dictionary

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(encode, table.column_names))


def _blank_records(frame: pd.DataFrame) -> np.ndarray:
    """Which rows of a frame of categorical text columns are blank (every cell empty or
    whitespace, by ``str.strip``). Columns with the fewest distinct texts go first and only the
    rows still blank are looked at, so a column of a million distinct ids is rarely read."""
    rows = np.arange(len(frame))
    for column in sorted(frame.columns, key=lambda c: len(frame[c].cat.categories)):
        if not len(rows):
            break
        codes = frame[column].cat.codes.to_numpy()[rows]
        used = np.unique(codes)
        texts = frame[column].cat.categories.to_numpy(dtype=object)[used]
        empty = used[[not str(t).strip() for t in texts]]
        rows = rows[np.isin(codes, empty)]
    blank = np.zeros(len(frame), dtype=bool)
    blank[rows] = True
    return blank


def _release_arrow_memory() -> None:
    """Hand the memory Arrow freed back to the system (its allocator keeps freed blocks for
    reuse: after parsing a 70 MB export, about 160 MB that nothing uses any more)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _arrow_table(body: memoryview, sep: str, width: int) -> Any:
    """Every record of ``body`` as text columns f0..f{width-1}; None if Arrow finds a record of
    another width, invalid UTF-8 or anything else it refuses."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    odd: list[int] = []  # the widths of records Arrow skipped: any means another reader

    def invalid(row: Any) -> str:
        odd.append(row.actual_columns)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{k}": pa.string() for k in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException:  # ArrowInvalid and the rest
        return None
    if odd or table.num_columns != width:
        return None
    return table


#: Bytes of a block looked at, at a time, from its end back for the last line break outside a
#: quoted field (where the block is cut between records).
_CUT_WINDOW = 1 << 16


class _QuoteScan:
    """The strict quote rule of Python's ``csv`` (:func:`_quotes_well_formed`), fed a file
    one block at a time: whether every quote so far opens a field, closes it, or is doubled
    inside it, and where the blocks can be cut between records."""

    def __init__(self, sep: int) -> None:
        self.sep = sep
        self.inside = False  # within a quoted field after the quotes seen so far
        self.skip = False  # the next block's first quote is the second of a doubled quote
        self.ok = True

    def feed(self, block: np.ndarray, before: int | None, after: int | None) -> int | None:
        """Read ``block``; ``before``/``after`` are the bytes around it (None at the file's
        start or end). Returns the offset in the block just after its last line break outside
        a quoted field (a place to cut between records), None if there is none."""
        quotes = np.flatnonzero(block == 34)
        n = len(block)
        started_inside = self.inside
        states = np.zeros(0, dtype=bool)  # within a quoted field after each quote
        if len(quotes) and self.ok:
            breaks = np.array([self.sep, 10, 13], dtype=np.uint8)
            prev = block[np.maximum(quotes - 1, 0)]
            nxt = block[np.minimum(quotes + 1, n - 1)]
            opens = np.isin(prev, breaks)
            closes = np.isin(nxt, breaks)
            doubled = nxt == 34
            if quotes[0] == 0:
                opens[0] = before is None or before in (self.sep, 10, 13)
            if quotes[-1] == n - 1:
                closes[-1] = after is None or after in (self.sep, 10, 13)
                doubled[-1] = after == 34
            states = self._run(opens.tolist(), closes.tolist(), doubled.tolist())
        if not self.ok:
            return None
        end = n
        while end > 0:  # from the block's end back, a window at a time: its last line break
            begin = max(end - _CUT_WINDOW, 0)  # outside a quoted field (seldom far from the end)
            newlines = np.flatnonzero(block[begin:end] == 10) + begin
            last_quote = np.searchsorted(quotes, newlines) - 1  # the quote before each break
            if len(states):
                inside = np.where(
                    last_quote >= 0, states[np.maximum(last_quote, 0)], started_inside
                )
            else:  # no quote in the block
                inside = np.full(len(newlines), started_inside)
            outside = newlines[~inside.astype(bool)]
            if len(outside):
                return int(outside[-1]) + 1
            end = begin
        return None

    def _run(self, opens: list[bool], closes: list[bool], doubled: list[bool]) -> np.ndarray:
        """Apply the rule to a block's quotes; returns, per quote, whether a quoted field is
        open after it (empty if a quote is malformed: ``ok`` is then False)."""
        inside, i, m = self.inside, 0, len(opens)
        states = bytearray(m)
        if self.skip:  # the second quote of a doubled quote: still inside
            states[0], i, self.skip = 1, 1, False
        while i < m:
            if not inside:
                inside = opens[i]
                states[i] = inside
                i += 1
            elif doubled[i]:  # a doubled quote inside the field
                states[i] = 1
                if i + 1 == m:
                    self.skip = True  # its second quote opens the next block
                else:
                    states[i + 1] = 1
                i += 2
            elif closes[i]:
                inside = False
                i += 1
            else:
                self.ok = False
                return np.zeros(0, dtype=bool)
        self.inside = inside
        return np.frombuffer(bytes(states), dtype=bool)


def _quotes_well_formed(data: np.ndarray, sep: int) -> bool:
    """Whether every quote either opens a field, closes it, or is doubled inside it.

    The rule of Python's ``csv`` module in strict mode: a quote at the start of a field opens a
    quoted field, which ends at a quote followed by the delimiter, a line break or the end of the
    file; two quotes inside it are one quote; a quote inside an unquoted field is a character.
    Anything else (``"closed"then text``, or a quote never closed) is malformed, and Arrow would
    read it without a word. Only the quotes are visited, not every byte.
    """
    scan = _QuoteScan(sep)
    scan.feed(data, None, None)
    return scan.ok and not scan.inside


def _record_chunks(path: Path, start: int, sep: int) -> list[tuple[int, int]] | None:
    """Byte ranges of ``path`` from ``start`` to its end, each about
    :data:`READ_CHUNK_BYTES`, cut just after a line break outside any quoted field; None if
    a quote is malformed (:func:`_quotes_well_formed`, checked block by block)."""
    size = path.stat().st_size
    scan = _QuoteScan(sep)
    chunks: list[tuple[int, int]] = []
    begin, position, before = start, start, None
    with path.open("rb") as handle:
        handle.seek(start)
        while position < size:
            data = handle.read(READ_CHUNK_BYTES + 1)  # one byte more: the byte after
            block = np.frombuffer(data, dtype=np.uint8)[:READ_CHUNK_BYTES]
            after = data[READ_CHUNK_BYTES] if len(data) > READ_CHUNK_BYTES else None
            cut = scan.feed(block, before, after)
            if not scan.ok:
                return None
            position += len(block)
            handle.seek(position)
            before = int(block[-1])
            if cut is not None and after is not None and position - len(block) + cut > begin:
                chunks.append((begin, position - len(block) + cut))
                begin = position - len(block) + cut
    if scan.inside or scan.skip:
        return None
    if begin < size:
        chunks.append((begin, size))
    return chunks


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def _parse_csv(path: Path, text: str, sep: str) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """Parse every record; return records and their (first line, last line)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    records: list[list[str]] = []
    lines: list[tuple[int, int]] = []
    last_line = 0
    try:
        for record in reader:
            records.append(record)
            lines.append((last_line + 1, reader.line_num))
            last_line = reader.line_num
    except csv.Error as err:
        start = last_line + 1
        if "end of data" in str(err) or reader.line_num > start + 50:
            detail = (
                f"unbalanced quotes: the quoted field opened on line {start} is never closed "
                f"(the parser reached line {reader.line_num})"
            )
        else:
            detail = f"malformed quoting on line {reader.line_num} ({err})"
        raise ExportError(f"{path.name}: {detail}") from None
    return records, lines


def _detect_layout(first_rows: Sequence[Sequence[str]], declared: str | None) -> tuple[str, int]:
    """Return (layout, header rows) from the first three non-blank records."""
    row1 = [c.strip() for c in first_rows[0]]
    row2 = [c.strip() for c in first_rows[1]] if len(first_rows) > 1 else []
    row3 = list(first_rows[2]) if len(first_rows) > 2 else []
    if declared in ("csv", "xlsx", "sav"):
        return "csv", 1
    is_qualtrics3 = any(_IMPORT_ID.match(c) for c in row3)
    is_qualtrics2 = _looks_qualtrics2(row1, row2)
    is_monkey = all(name in row1 for name in _SURVEYMONKEY_META)
    if declared == "qualtrics":
        return "qualtrics", 3 if is_qualtrics3 else 2
    if declared == "surveymonkey":
        return "surveymonkey", 2
    if is_qualtrics3:
        return "qualtrics", 3
    if is_qualtrics2:
        return "qualtrics", 2
    if is_monkey:
        return "surveymonkey", 2
    return "csv", 1


def _looks_qualtrics2(row1: list[str], row2: list[str]) -> bool:
    if not row2:
        return False
    for id_name in ("ResponseId", "ResponseID"):
        if id_name in row1:
            below = row2[row1.index(id_name)] if row1.index(id_name) < len(row2) else ""
            if below in ("Response ID", "ResponseID", "ResponseId"):
                return True
    return bool(row1 and row1[0] == "V1" and row2[0] == "ResponseID")


def _column_ids(
    path: Path, header: list[list[str]], layout: str
) -> tuple[list[str], dict[str, str]]:
    """Column ids and question texts from the header rows."""
    row1 = [c.strip() for c in header[0]]
    if layout == "surveymonkey":
        questions: list[str] = []
        current = ""
        for cell in row1:
            current = cell or current
            questions.append(current)
        subs = [c.strip() for c in header[1]] + [""] * (len(row1) - len(header[1]))
        ids = [
            q if s in _SURVEYMONKEY_SELF else f"{q} | {s}"
            for q, s in zip(questions, subs, strict=False)
        ]
        ids = [i or f"Unnamed: {pos}" for pos, i in enumerate(ids)]
        ids = _suffix_duplicates(ids)
        texts = {
            i: (f"{q} / {s}" if s else q) for i, q, s in zip(ids, questions, subs, strict=False)
        }
        return ids, texts
    ids = [cell or f"Unnamed: {pos}" for pos, cell in enumerate(row1)]
    seen: dict[str, list[int]] = {}
    for pos, cell in enumerate(ids):
        seen.setdefault(cell, []).append(pos)
    dupes = {name: pos for name, pos in seen.items() if len(pos) > 1}
    if dupes:
        listing = "; ".join(
            f"{name!r} in columns {', '.join(column_letter(p) for p in pos)}"
            for name, pos in dupes.items()
        )
        raise ExportError(
            f"{path.name}: duplicate column names in the header (row 1): {listing}; every column "
            "needs a unique name for the codebook to refer to it"
        )
    texts: dict[str, str] = {}
    if layout == "qualtrics" and len(header) > 1:
        row2 = list(header[1]) + [""] * (len(ids) - len(header[1]))
        texts = {i: t.strip() for i, t in zip(ids, row2, strict=False) if t.strip()}
    return ids, texts


def _suffix_duplicates(ids: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    out = []
    for name in ids:
        counts[name] = counts.get(name, 0) + 1
        out.append(name if counts[name] == 1 else f"{name} ({counts[name]})")
    return out


def _grid_to_export(
    path: Path,
    grid: list[tuple[int, list[str]]],
    header_rows: int,
    fmt: ExportFormat,
    encoding: str | None,
    *,
    lines: list[tuple[int, int]] | None,
    layout: str,
    cell_types: list[list[str]] | None,
    sheet: str | None = None,
) -> RawExport:
    """Split header and data of a grid of (row number, cells) into a RawExport."""
    if len(grid) < header_rows or grid[header_rows - 1][0] - grid[0][0] != header_rows - 1:
        # a blank line inside the header rows means the layout is not what we think
        raise ExportError(
            f"{path.name}: expected {header_rows} header row(s) ({layout} layout) at the top of "
            "the file, found blank rows among them"
        )
    header = [rec for _, rec in grid[:header_rows]]
    ids, texts = _column_ids(path, header, layout)
    body = grid[header_rows:]
    where = "header only" if header_rows == 1 else f"only the {header_rows} header rows"
    if not body:
        raise ExportError(f"{path.name}: no data rows ({where}, {layout} layout)")
    width = len(ids)
    if lines is not None:
        for n, rec in body:
            if len(rec) != width:
                first, last = lines[n - 1]
                span = f"lines {first}-{last}" if last > first else f"line {first}"
                hint = (
                    "; the record spans several lines, which suggests an unbalanced quote"
                    if last > first
                    else ""
                )
                raise ExportError(
                    f"{path.name}: {span} (spreadsheet row {n}): {len(rec)} fields, but the header "
                    f"has {width}{hint}"
                )
    else:
        body = [(n, rec + [""] * (width - len(rec))) for n, rec in body]
        if any(len(rec) > width for _, rec in body):
            n, wide = next((n, rec) for n, rec in body if len(rec) > width)
            filled = sum(1 for cell in wide if str(cell).strip())
            title = (
                f"; row {grid[0][0]} names only {width} column(s) ({', '.join(map(repr, ids))})"
                f" and row {n} fills {filled}: if a title is above the column names, delete the "
                "rows above them (the names must be the sheet's first row)"
                if filled >= 2 * width + 1
                else ""
            )
            raise ExportError(
                f"{path.name}: sheet {sheet!r}, row {n} has cells right of the last named column "
                f"({column_letter(width - 1)}); give those columns a header or delete them{title}"
            )
    numbers = np.fromiter((n for n, _ in body), dtype=np.int64, count=len(body))
    index = pd.Index(numbers, name="source_row")
    first_data_row = grid[header_rows - 1][0] + 1
    blank = np.setdiff1d(np.arange(first_data_row, numbers[-1] + 1), numbers)
    # one 2-D object block, built without type inference (pandas 3 would infer "str" per column)
    grid_array = np.empty((len(body), width), dtype=object)
    grid_array[:] = [rec for _, rec in body]
    frame = pd.DataFrame(grid_array, index=index, columns=pd.Index(ids, dtype=object), dtype=object)
    types_frame = None
    if cell_types is not None:
        types_array = np.empty((len(body), width), dtype=object)
        types_array[:] = [t[:width] for t in cell_types[header_rows:]]
        types_frame = pd.DataFrame(
            types_array, index=index.copy(), columns=pd.Index(ids, dtype=object), dtype=object
        )
    return RawExport(
        frame=frame,
        header_rows=header_rows,
        format=fmt,
        encoding=encoding,
        path=path,
        question_texts=MappingProxyType(texts),
        value_labels=MappingProxyType({}),
        sheet=sheet,
        blank_rows=tuple(int(n) for n in blank),
        cell_types=types_frame,
    )


# --------------------------------------------------------------------------------------------------
# XLSX


def _number_text(value: float | int) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value) and float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _temporal_text(value: datetime | date | time) -> str:
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    return value.isoformat()


def _xlsx_cell(cell: Any) -> tuple[str, str]:
    value = cell.value
    if value is None:
        return "", ""
    kind = getattr(cell, "data_type", "n")
    if kind == "f" or (isinstance(value, str) and kind != "s" and value.startswith("=")):
        return str(value), "f"
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), "b"
    if isinstance(value, datetime | date | time):
        return _temporal_text(value), "d"
    if isinstance(value, int | float):
        return _number_text(value), "n"
    if kind == "e":
        return str(value), "e"
    return str(value), "s"


def _read_xlsx(path: Path, *, sheet: str | int | None, layout: str | None) -> RawExport:
    import openpyxl  # deferred: only XLSX users pay for the import
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, KeyError, OSError, ValueError) as err:
        raise ExportError(f"{path.name}: not a readable Excel workbook ({err})") from None
    except Exception as err:  # zipfile.BadZipFile and friends: a broken container
        raise ExportError(f"{path.name}: not a readable Excel workbook ({err})") from None
    try:
        names = workbook.sheetnames
        if sheet is None:
            sheet_name = names[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise ExportError(
                    f"{path.name}: sheet position {sheet} does not exist; the workbook has "
                    f"{len(names)} sheet(s): {', '.join(map(repr, names))}"
                )
            sheet_name = names[sheet]
        else:
            if sheet not in names:
                raise ExportError(
                    f"{path.name}: no sheet {sheet!r}; sheets: {', '.join(map(repr, names))}"
                )
            sheet_name = sheet
        worksheet = workbook[sheet_name]
        grid: list[tuple[int, list[str]]] = []
        types: list[list[str]] = []
        for row_number, row in enumerate(worksheet.iter_rows(min_row=1, min_col=1), start=1):
            cells = [_xlsx_cell(cell) for cell in row]
            while cells and cells[-1][1] == "":
                cells.pop()
            if not cells:
                continue
            grid.append((row_number, [c[0] for c in cells]))
            types.append([c[1] for c in cells])
    finally:
        workbook.close()
    if not grid:
        raise ExportError(f"{path.name}: sheet {sheet_name!r} is empty (no header, no data)")
    layout, header_rows = _detect_layout([rec for _, rec in grid[:3]], layout)
    width = len(grid[0][1])
    types = [t + [""] * (width - len(t)) for t in types]
    return _grid_to_export(
        path,
        grid,
        header_rows,
        "xlsx",
        None,
        lines=None,
        layout=layout,
        cell_types=types,
        sheet=sheet_name,
    )


# --------------------------------------------------------------------------------------------------
# SPSS


def _series_text(series: pd.Series) -> np.ndarray:
    """Render an SPSS column as text codes: 7.0 -> "7", NaN -> ""."""
    values = series.to_numpy(dtype=object)
    if pd.api.types.is_numeric_dtype(series.dtype):
        arr = series.to_numpy(dtype=float, na_value=np.nan)
        out = np.full(arr.shape, "", dtype=object)
        finite = np.isfinite(arr)
        whole = finite & (np.floor(arr) == arr) & (np.abs(arr) < 1e15)
        out[whole] = arr[whole].astype(np.int64).astype(str)
        frac = finite & ~whole
        out[frac] = [repr(float(v)) for v in arr[frac]]
        return out
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        out = np.full(len(series), "", dtype=object)
        ok = series.notna().to_numpy()
        out[ok] = [_temporal_text(v.to_pydatetime()) for v in series[ok]]
        return out
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out[i] = ""
        elif isinstance(v, datetime | date | time):
            out[i] = _temporal_text(v)
        elif isinstance(v, int | float):
            out[i] = _number_text(v)
        else:
            out[i] = str(v)
    return out


#: Cases read from an SPSS file at a time: memory follows this, not the file.
SAV_CHUNK_ROWS = 100_000


def _read_sav(path: Path, *, encoding: str | None) -> RawExport:
    """An SPSS file, read in chunks of :data:`SAV_CHUNK_ROWS` cases: each chunk's cells are
    turned into text codes and kept as categoricals, then joined, so the file's values are never
    all held at once."""
    import pyreadstat  # deferred: only SPSS users pay for the import
    from pandas.api.types import union_categoricals

    options = {"apply_value_formats": False, "user_missing": True, "encoding": encoding}
    parts: dict[str, list[pd.Categorical]] = {}
    n_rows = 0
    try:
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True, encoding=encoding)
        names = list(meta.column_names or [])
        if names:
            chunks = pyreadstat.read_file_in_chunks(
                pyreadstat.read_sav, str(path), chunksize=SAV_CHUNK_ROWS, **options
            )
            for frame, _ in chunks:
                for name in names:
                    parts.setdefault(name, []).append(pd.Categorical(_series_text(frame[name])))
                n_rows += len(frame)
    except Exception as err:  # pyreadstat raises its own untyped errors for broken files
        raise ExportError(f"{path.name}: not a readable SPSS .sav file ({err})") from None
    if not names:
        raise ExportError(f"{path.name}: the SPSS file has no variables")
    if n_rows == 0:
        raise ExportError(f"{path.name}: no data rows (the SPSS file has variables but no cases)")
    text = pd.DataFrame(
        {name: union_categoricals(parts[name]) for name in names},
        index=pd.Index(np.arange(1, n_rows + 1, dtype=np.int64), name="source_row"),
        columns=pd.Index(names, dtype=object),
    )
    labels: dict[str, Mapping[str, str]] = {}
    for name, mapping in (meta.variable_value_labels or {}).items():
        labels[name] = MappingProxyType(
            {
                (_number_text(k) if isinstance(k, int | float) else str(k)): str(v)
                for k, v in mapping.items()
            }
        )
    texts = {k: str(v) for k, v in (meta.column_names_to_labels or {}).items() if v}
    return RawExport(
        frame=text,
        header_rows=0,
        format="sav",
        encoding=getattr(meta, "file_encoding", None),
        path=path,
        question_texts=MappingProxyType(texts),
        value_labels=MappingProxyType(labels),
    )
