"""The columnar CSV reader (pyarrow, categorical text columns) against the exact reader.

:func:`csatlib.ingest.io.read_export` reads plain UTF-8 text exports with Arrow and hands anything
unusual to the exact, Python-``csv`` reader. Both must give the same :class:`RawExport` (cells,
row numbers, blank rows, header layout, question texts, encoding) on every file the columnar
reader accepts, and every file it declines must still get the exact reader's messages.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.exports import qualtrics_text, survey_rows

from csatlib import config
from csatlib.errors import ExportError
from csatlib.ingest import io as cio
from csatlib.ingest.io import RawExport, read_export

# file name -> (content, taken by the columnar reader?)
CASES: dict[str, tuple[str, bool]] = {
    "plain": ("id,c\n1,a\n2,b\n", True),
    "quoted_line_break": ('id,c\n1,"a\nb"\n2,x\n', True),
    "crlf_with_quoted_crlf": ('id,c\r\n1,"a\r\nb"\r\n2,x\r\n', True),
    "doubled_quotes": ('id,c\n1,"a""b"\n2,""\n3,""""\n', True),
    "quote_inside_unquoted": ('id,c\n1,ab"c\n2,x\n', True),
    "space_before_quote": ('id,c\n1, "a"\n2,x\n', True),
    "semicolons": ("id;c;d\n1;a,b;3\n2;x;4\n", True),
    "tabs": ("id\tc\n1\ta\n", True),
    "no_final_line_break": ("id,c\n1,a\n2,b", True),
    "unicode": ("id,c\n1,José – €\n2,Ünïcode\n", True),
    "na_and_leading_zeros": ("id,c\n00123,NA\n2,\n", True),
    "blank_records_inside": ("id,c\n1,a\n2,b\n3,c\n,\n4,d\n , \n5,e\n,\n", True),
    "blank_line_inside": ("id,c\n1,a\n2,b\n3,c\n\n4,d\n", True),
    "blank_crlf_line_inside": ("id,c\r\n1,a\r\n2,b\r\n3,c\r\n\r\n4,d\r\n", True),
    "no_break_space_record": ("id,c\n1,a\n2,b\n3,c\n\u00a0,\u00a0\n4,d\n", True),
    "one_column_blank_line": ("id\n1\n2\n3\n\n4\n", True),
    "trailing_blank_lines": ("id,c\n1,a\n2,b\n\n\n", True),
    "surveymonkey": ("Respondent ID,Collector ID,Q\n,,Response\n1,2,3\n", True),
    "qualtrics": (
        'ResponseId,Q1\nResponse ID,How?\n"{""ImportId"":""QID1""}","{""ImportId"":""QID2""}"\n'
        "R1,5\n",
        True,
    ),
    # declined: the exact reader decides, with its messages
    "blank_record_in_header": ("id,c\n1,a\n,\n2,b\n", False),
    "unbalanced_quote": ('id,comment\n1,fine\n2,"never closed\n3,more\n4,end\n', False),
    "text_after_closing_quote": ('id,comment\n1,"closed"then text\n', False),
    "stray_quote": ('id,a,b\n1,"x\n2,y",3,4\n3,z,4\n', False),
    "ragged": ("id,a,b\n1,2,3\n4,5\n", False),
    "header_only": ("id,c\n", False),
    "carriage_returns_only": ("id,c\r1,a\r2,b\r", False),
    "empty_quoted_then_text": ('id,c\n1,""x\n', False),
}


def _exact(path: Path, encoding: str | None = None) -> RawExport:
    data = path.read_bytes()
    text, used = cio._decode(data, encoding, path)
    return cio._read_text(path, text, used, format=None, delimiter=None)


def _same(a: RawExport, b: RawExport) -> None:
    assert list(a.frame.columns) == list(b.frame.columns)
    assert a.frame.index.equals(b.frame.index) and a.frame.index.name == "source_row"
    assert a.frame.astype(object).equals(b.frame.astype(object))
    assert (a.header_rows, a.format, a.encoding, a.blank_rows) == (
        b.header_rows,
        b.format,
        b.encoding,
        b.blank_rows,
    )
    assert dict(a.question_texts) == dict(b.question_texts)


@pytest.mark.parametrize("chunk", [cio.READ_CHUNK_BYTES, 5])
@pytest.mark.parametrize("name", sorted(CASES))
def test_columnar_reader_equals_the_exact_reader_or_declines(tmp_path, name, chunk, monkeypatch):
    # read whole, and in chunks of 5 bytes (cut after the first line break outside quotes
    # after each chunk): the same cells, or the same refusal
    monkeypatch.setattr(cio, "READ_CHUNK_BYTES", chunk)
    content, taken = CASES[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(content.encode("utf-8"))
    fast = cio._read_text_columnar(path, path.read_bytes(), None, format=None, delimiter=None)
    assert (fast is not None) == taken
    try:
        exact = _exact(path)
    except ExportError as err:
        assert not taken, f"the exact reader refuses {name}: {err}"
        with pytest.raises(ExportError, match=None) as raised:
            read_export(path)
        assert str(raised.value) == str(err)  # the user sees the exact reader's message
        return
    if fast is not None:
        _same(fast, exact)
    _same(read_export(path), exact)


def test_columns_are_categoricals_of_text(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(qualtrics_text(survey_rows()), encoding="utf-8-sig")
    raw = read_export(path)
    assert all(isinstance(t, pd.CategoricalDtype) for t in raw.frame.dtypes)
    assert all(isinstance(v, str) for v in raw.frame.to_numpy().ravel())
    _same(raw, _exact(path))


@pytest.mark.parametrize("declared", [None, "utf-8", "utf-8-sig", "UTF8"])
def test_declared_utf8_with_and_without_bom(tmp_path, declared):
    for bom in ("utf-8", "utf-8-sig"):
        path = tmp_path / f"{bom}.csv"
        path.write_text("id,name\n1,José\n", encoding=bom)
        raw = read_export(path, encoding=declared)
        assert list(raw.frame.columns) == ["id", "name"]
        assert raw.frame.iloc[0].tolist() == ["1", "José"]
        _same(raw, _exact(path, declared))


def test_other_encodings_go_to_the_exact_reader(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("id,c\n1,José\n".encode("cp1252"))
    assert (
        cio._read_text_columnar(path, path.read_bytes(), None, format=None, delimiter=None) is None
    )
    raw = read_export(path)
    assert raw.encoding == "cp1252" and raw.frame.iloc[0]["c"] == "José"
    assert raw.frame["c"].dtype == object


@pytest.mark.parametrize("name", ["relationship_survey.csv", "transaction_survey.csv"])
def test_the_sample_exports_read_the_same_both_ways(name):
    path = config.RAW_DIR / name
    fast = cio._read_text_columnar(
        path, path.read_bytes(), "utf-8-sig", format=None, delimiter=None
    )
    assert fast is not None
    _same(fast, _exact(path, "utf-8-sig"))


def test_a_file_of_quoted_fields_is_cut_into_chunks(tmp_path, monkeypatch):
    # every record starts with a quoted field: a block is cut at its last line break outside
    # a quote, not only after its last quote
    path = tmp_path / "quoted.csv"
    text = "".join(f'"R_{k:05d}","a ""b""",{k}\n' for k in range(200))
    path.write_bytes(text.encode())
    monkeypatch.setattr(cio, "READ_CHUNK_BYTES", 64)
    chunks = cio._record_chunks(path, 0, ord(","))
    assert len(chunks) > len(text) // 64 - 2
    assert all(text.encode()[b - 1 : b] == b"\n" for _, b in chunks)
    assert max(b - a for a, b in chunks) <= 2 * 64  # from one block's cut to the next's


def test_the_cut_is_found_from_the_block_end_back_window_by_window(tmp_path, monkeypatch):
    # quoted fields with line breaks inside: the last line break of a block is often within a
    # quote; looking back a few bytes at a time cuts where looking at the whole block does
    text = "".join(f'R_{k},"line one\nline {k}\n\nend",{k}\n' for k in range(60))
    path = tmp_path / "multiline.csv"
    path.write_bytes(text.encode())
    monkeypatch.setattr(cio, "READ_CHUNK_BYTES", 50)
    whole = cio._record_chunks(path, 0, ord(","))  # the window covers every block
    monkeypatch.setattr(cio, "_CUT_WINDOW", 3)
    assert cio._record_chunks(path, 0, ord(",")) == whole
    assert len(whole) > 10
    data = text.encode()  # every chunk is whole records: from an id to a record's last field
    assert all(data[a : a + 2] == b"R_" and data[b - 2 : b - 1].isdigit() for a, b in whole)


@pytest.mark.parametrize(
    ("text", "sep", "ok"),
    [
        ('a,"b",c\n', ",", True),
        ('a,"b""c"\n', ",", True),
        ('"",x\n', ",", True),
        ('a;"b";c\n', ";", True),
        ('a,b"c,d\n', ",", True),  # a quote inside an unquoted field is a character
        ('a,"b"c\n', ",", False),  # text after the closing quote
        ('a,"b\n', ",", False),  # never closed
        ('a,"b""', ",", False),  # a doubled quote, then the end of the file
        ('a,"b"\r\n', ",", True),
        ('"a', ",", False),
        ('id,c\n1,"x""\n""y"\n2,"z"\n', ",", True),  # doubled quotes and a quoted line break
        ('id,c\n1,"x"""\n2,z\n', ",", True),
        ('id,c\n1,"x"" \n2,z\n', ",", False),
    ],
)
def test_quote_check(text, sep, ok, tmp_path, monkeypatch):
    data = np.frombuffer(text.encode(), dtype=np.uint8)
    assert cio._quotes_well_formed(data, ord(sep)) is ok
    # the same verdict when the file is scanned in blocks of every size, and the chunks it is
    # cut into are records: each ends just after a line break, together they are the file
    path = tmp_path / "q.csv"
    path.write_bytes(text.encode())
    for size in range(1, len(text) + 1):
        monkeypatch.setattr(cio, "READ_CHUNK_BYTES", size)
        chunks = cio._record_chunks(path, 0, ord(sep))
        assert (chunks is not None) is ok, size
        if chunks:
            assert [a for a, _ in chunks[1:]] == [b for _, b in chunks[:-1]]
            assert chunks[0][0] == 0 and chunks[-1][1] == len(text.encode())
            assert all(text.encode()[b - 1 : b] == b"\n" for _, b in chunks[:-1])


def test_a_column_of_distinct_ids_is_encoded_once_across_chunks(tmp_path, monkeypatch):
    # ids distinct in the first chunk are kept as texts in the next chunks and encoded once
    # when the chunks are joined: the same cells and categories (first appearance, each once),
    # also where a later chunk repeats an id
    rows = [f"R_{k % 70:03d},{k % 4},{'yes' if k % 3 else 'no'}\n" for k in range(120)]
    path = tmp_path / "ids.csv"
    path.write_bytes(("id,score,flag\n" + "".join(rows)).encode())
    monkeypatch.setattr(cio, "READ_CHUNK_BYTES", 200)
    monkeypatch.setattr(cio, "_DISTINCT_SAMPLE", 5)
    seen: list[set[str] | None] = []
    encode = cio._encoded_columns
    monkeypatch.setattr(
        cio, "_encoded_columns", lambda table, distinct=None: seen.append(distinct) or encode(
            table, distinct
        )
    )  # fmt: skip
    fast = cio._read_text_columnar(path, path.read_bytes(), None, format=None, delimiter=None)
    assert fast is not None and len(seen) > 3
    assert {"f0"} in seen  # the ids, not the scores or flags, were kept as texts
    _same(fast, _exact(path))
    ids = fast.frame.iloc[:, 0]
    assert ids.cat.categories.is_unique and list(ids.cat.categories[:3]) == [
        "R_000",
        "R_001",
        "R_002",
    ]
    assert ids.tolist() == [f"R_{k % 70:03d}" for k in range(120)]
