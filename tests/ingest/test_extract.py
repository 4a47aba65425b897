"""csatlib.ingest.extract and ``csat extract``: nothing that names a person or an account leaves.

The sample study (data/raw, written by ``csat synth``) is cleaned into a temporary folder and
extracted through the command line; every cell of the written files is scanned for the sample's
contact names and e-mail addresses (contact_master.csv and the survey's own contact fields), its
account names and response IDs. Small hand-made tables check the rules one at a time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from csatlib import config
from csatlib.cli import main
from csatlib.errors import DataError
from csatlib.ingest.clean import build_processed, load_processed
from csatlib.ingest.extract import (
    ACCOUNT_KEY,
    DICTIONARY_COLUMNS,
    ROW_ID,
    analysis_table,
    data_dictionary,
    dictionary_markdown,
    removed_columns,
    write_extract,
)
from csatlib.report.context import with_account_key

TEXT = ("text_like", "text_dislike", "complaint")
CONTACT = ("contact_ok", "contact_name", "contact_email")


# --------------------------------------------------------------------------- the sample study


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample cleaned, then extracted without and with verbatims by the command line."""
    root = tmp_path_factory.mktemp("extract")
    processed = root / "processed"
    build_processed(config.DEFAULT_RAW_DIR, processed)
    out = {"processed": processed}
    for name, flags in (("plain", []), ("verbatims", ["--verbatims"])):
        out[name] = root / name
        code = main(["extract", "--processed-dir", str(processed), "--out", str(out[name]), *flags])
        assert code == 0
    return out


def _cells(path: Path) -> pd.DataFrame:
    """A written CSV as the text of its cells (nothing parsed, nothing missing)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _identifiers(processed: Path) -> dict[str, set[str]]:
    contacts = pd.read_csv(config.DEFAULT_RAW_DIR / "contact_master.csv", dtype=str)
    responses = load_processed("responses", processed)
    return {
        "names": set(contacts["contact_name"].dropna()) | set(responses["contact_name"].dropna()),
        "emails": set(contacts["email"].dropna()) | set(responses["contact_email"].dropna()),
        "accounts": set(contacts["account"].dropna()) | set(responses["account"].dropna()),
        "response_ids": set(responses["response_id"].dropna()),
    }


@pytest.mark.parametrize("name", ["plain", "verbatims"])
def test_no_contact_name_email_account_or_response_id_survives(
    sample: dict[str, Path], name: str
) -> None:
    found = _identifiers(sample["processed"])
    assert all(found.values())  # the scan has something to look for
    table = _cells(sample[name] / "responses.csv")
    cells = set(np.unique(table.to_numpy()))
    for kind, values in found.items():
        assert not cells & values, kind
    assert not table.apply(lambda s: s.str.contains("@", regex=False)).any().any()
    assert not set(table.columns) & {*CONTACT, "response_id", "account", "source", "source_row"}
    parquet = pq.read_table(sample[name] / "responses.parquet").to_pandas()
    assert list(parquet.columns) == list(table.columns)
    text = (sample[name] / "responses.csv").read_text("utf-8-sig")
    assert "@" not in text  # so no e-mail address anywhere in the file, not only in whole cells


def test_verbatims_appear_only_with_the_flag(sample: dict[str, Path]) -> None:
    plain = _cells(sample["plain"] / "responses.csv")
    verbatims = load_processed("responses", sample["verbatims"])
    processed = load_processed("responses", sample["processed"])
    assert not set(plain.columns) & set(TEXT)
    assert set(TEXT) <= set(verbatims.columns)
    # the sample's verbatims hold no identifiers: every one comes through unchanged
    for column in TEXT:
        assert sorted(verbatims[column].dropna()) == sorted(processed[column].dropna())
    # and no verbatim text is hidden in another column of the plain extract
    some = set(processed["text_dislike"].dropna().head(200))
    assert not set(np.unique(plain.to_numpy())) & some


def test_rows_are_the_processed_rows_numbered_afresh(sample: dict[str, Path]) -> None:
    processed = with_account_key(load_processed("responses", sample["processed"]))
    table = load_processed("responses", sample["plain"])
    assert len(table) == len(processed) > 10_000
    assert table[ROW_ID].tolist() == list(range(1, len(table) + 1))
    # one code per matched account: the same number of accounts with the same sizes
    codes = table[ACCOUNT_KEY].value_counts().sort_values().to_numpy()
    accounts = processed["account_key"].value_counts().sort_values().to_numpy()
    assert np.array_equal(codes, accounts)
    assert table[ACCOUNT_KEY].str.fullmatch(r"A\d{3}").all()
    # the answers are those of the processed table (rows in another order)
    for column in ("likelihood_to_recommend", "delivery", "segment"):
        assert (
            table[column]
            .value_counts()
            .sort_index()
            .equals(processed[column].value_counts().sort_index())
        )
    days = processed["date"].dt.normalize()
    assert (table["date"] == table["date"].dt.normalize()).all()
    assert table["date"].value_counts().sort_index().equals(days.value_counts().sort_index())


def test_dictionary_lists_exactly_the_tables_columns(sample: dict[str, Path]) -> None:
    for name in ("plain", "verbatims"):
        table = _cells(sample[name] / "responses.csv")
        dictionary = _cells(sample[name] / "data_dictionary.csv")
        assert list(dictionary.columns) == list(DICTIONARY_COLUMNS)
        assert dictionary["column"].tolist() == list(table.columns)
        markdown = (sample[name] / "data_dictionary.md").read_text("utf-8")
        assert all(f"| {c} |" in markdown for c in table.columns)
    dictionary = _cells(sample["plain"] / "data_dictionary.csv").set_index("column")
    assert dictionary.loc["delivery", "label"] == "Delivery"  # the codebook's label
    assert dictionary.loc["delivery", "scale"] == "1-10"
    assert dictionary.loc["likelihood_to_recommend", "role"] == "nps"
    accounts = with_account_key(load_processed("responses", sample["processed"]))
    n = accounts["account_key"].nunique()
    assert dictionary.loc[ACCOUNT_KEY, "values"] == f"{n} codes, A001 to A{n:03d}"
    # what was removed, and why, is in the Markdown dictionary
    markdown = (sample["plain"] / "data_dictionary.md").read_text("utf-8")
    assert "| contact_email | Contact e-mail | contact | contact field" in markdown
    assert "| text_like | Likes | text_like | free text" in markdown


def test_csv_cells_that_a_spreadsheet_would_evaluate_are_neutralised(
    sample: dict[str, Path],
) -> None:
    processed = load_processed("responses", sample["processed"])
    risky = processed["text_like"].dropna()
    risky = set(risky[risky.str.startswith(("=", "+", "-", "@"))])
    assert len(risky) > 100  # the sample's lists of likes start with "- "
    cells = _cells(sample["verbatims"] / "responses.csv")["text_like"]
    assert not cells.str.startswith(("=", "+", "-", "@")).any()
    assert {"'" + t for t in risky} <= set(cells)


def test_cli_refuses_the_raw_folder_and_a_processed_table(
    sample: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    processed = str(sample["processed"])
    before = (sample["processed"] / "responses.parquet").read_bytes()
    assert main(["extract", "--processed-dir", processed, "--out", processed]) == 1
    assert "is not an extract" in capsys.readouterr().err
    assert (sample["processed"] / "responses.parquet").read_bytes() == before
    inside = config.DEFAULT_RAW_DIR / "extract"
    assert main(["extract", "--processed-dir", processed, "--out", str(inside)]) == 1
    assert "inside the raw data folder" in capsys.readouterr().err
    assert not inside.exists()


def test_an_extract_replaces_the_previous_one_in_its_folder(
    sample: dict[str, Path], tmp_path: Path
) -> None:
    responses = load_processed("responses", sample["processed"])
    first = write_extract(responses, tmp_path, verbatims=True, seed=1)
    second = write_extract(responses, tmp_path, seed=1)
    assert first.parquet == second.parquet
    assert not set(TEXT) & set(_cells(second.csv).columns)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "data_dictionary.csv",
        "data_dictionary.md",
        "responses.csv",
        "responses.parquet",
    ]


# --------------------------------------------------------------------------- the rules


def _study(n: int = 8) -> pd.DataFrame:
    """A processed-like table: every kind of column the extract decides about."""
    accounts = ["Acme GmbH", "Bolt Ltd", "acme  gmbh", "Crane SA"] * (n // 4)
    df = pd.DataFrame(
        {
            "response_id": [f"R_{i}" for i in range(n)],
            "source_row": np.arange(n) + 2,
            "date": pd.date_range("2026-01-05 09:30:15", periods=n, freq="7h"),
            "country": pd.Categorical(["DE", "FR"] * (n // 2)),
            "account": pd.array(accounts, dtype="string"),
            "business_unit": pd.Categorical(["=Tools", "@Parts"] * (n // 2)),
            "function": pd.Categorical(["Service"] * n),
            "job_title": pd.array(["Buyer"] * n, dtype="string"),
            "recommend": pd.array(np.arange(n) % 11, dtype="Int64"),
            "duration": np.arange(n, dtype=float) + 100.0,
            "comment": pd.array(
                ["Ask Jo Black at jo.black@acme.example or +49 170 1234567, acme gmbh rocks"]
                + ["fine"] * (n - 1),
                dtype="string",
            ),
            "contact_ok": pd.array([True] * n, dtype="boolean"),
            "contact_name": pd.array(["Jo Black"] + [None] * (n - 1), dtype="string"),
            "scratch": np.zeros(n),
        }
    )
    df.attrs = {
        "roles": {
            "response_id": "id",
            "date": "date",
            "country": "country",
            "account": "account",
            "business_unit": "other",
            "function": "function",
            "job_title": "other",
            "recommend": "nps",
            "duration": "duration",
            "comment": "comment",
            "contact_ok": "contact_ok",
            "contact_name": "contact",
        },
        "labels": {"recommend": "Would recommend", "business_unit": "Business unit"},
        "scales": {"recommend": [0, 10]},
        "kind": "responses",
    }
    return df


def test_columns_kept_replaced_and_removed_by_role() -> None:
    table = analysis_table(_study(), seed=3)
    assert list(table.columns) == [
        ROW_ID,
        ACCOUNT_KEY,
        "date",
        "country",
        "business_unit",
        "function",
        "recommend",
        "duration",
    ]
    why = removed_columns(table).set_index("column")["reason"]
    assert set(why.index) == {
        "response_id",
        "source_row",
        "account",
        "job_title",  # untyped 'other': free text
        "comment",
        "contact_ok",
        "contact_name",
        "scratch",  # not in the codebook
    }
    assert why["job_title"].startswith("untyped column of role 'other'")
    assert why["scratch"] == "not described by the codebook: content unknown"
    assert table.attrs["roles"][ACCOUNT_KEY] == "account"
    assert table.attrs["labels"]["recommend"] == "Would recommend"
    assert set(table.attrs["roles"]) == set(table.columns) - {"scratch"}
    assert (table["date"].dt.hour == 0).all()


def test_account_codes_are_one_per_account_and_new_in_every_extract() -> None:
    df = _study(40)
    first, second = analysis_table(df, seed=1), analysis_table(df, seed=2)
    for table in (first, second):
        # align with the input by duration (unique): one code per folded account name
        back = table.set_index("duration")[ACCOUNT_KEY].loc[df["duration"]].to_numpy()
        folded = df["account"].str.casefold().str.split().str.join(" ").to_numpy()
        pairs = set(zip(folded, back, strict=True))
        assert len(pairs) == 3 == len({c for _, c in pairs})  # Acme's two spellings: one code
    a = first.set_index("duration")[ACCOUNT_KEY]
    b = second.set_index("duration")[ACCOUNT_KEY].loc[a.index]
    assert not (a == b).all()  # 3 accounts, 6 possible draws: seeds 1 and 2 draw two of them
    assert analysis_table(df, seed=1)[ACCOUNT_KEY].equals(first[ACCOUNT_KEY])


def test_a_matched_account_key_is_coded_instead_of_the_spelling() -> None:
    df = _study()
    df["account_key"] = pd.array(["acme"] * len(df), dtype="string")  # one matched account
    table = analysis_table(df, seed=0)
    assert table[ACCOUNT_KEY].nunique() == 1
    assert ACCOUNT_KEY not in removed_columns(table)["column"].tolist()


def test_verbatims_are_masked_and_contact_fields_never_kept() -> None:
    table = analysis_table(_study(), verbatims=True, seed=0)
    assert "comment" in table.columns
    assert not {"contact_name", "contact_ok"} & set(table.columns)
    masked = table.loc[table["comment"] != "fine", "comment"].item()
    assert masked == "Ask [name] at [e-mail] or [phone], [name] rocks"


def test_dictionary_and_csv_of_a_hand_made_table(tmp_path: Path) -> None:
    written = write_extract(_study(), tmp_path, seed=0)
    dictionary = data_dictionary(load_processed("responses", tmp_path)).set_index("column")
    assert dictionary.loc["recommend", "values"] == "whole numbers 0 to 10"
    assert dictionary.loc["business_unit", "values"] == "=Tools; @Parts"
    assert dictionary.loc["date", "type"] == "date"
    cells = _cells(written.csv)
    assert set(cells["business_unit"]) == {"'=Tools", "'@Parts"}
    assert set(
        _cells(written.dictionary_csv).loc[lambda d: d.column == "business_unit", "values"]
    ) == {"'=Tools; @Parts"}
    assert "| business_unit | Business unit | other | category |" in dictionary_markdown(
        load_processed("responses", tmp_path)
    )


def test_refuses_a_table_without_codebook_roles() -> None:
    with pytest.raises(DataError, match="expected the processed responses with codebook roles"):
        analysis_table(pd.DataFrame({"a": [1]}))


def test_refuses_a_column_named_like_the_row_number() -> None:
    df = _study()
    df[ROW_ID] = np.arange(len(df))
    df.attrs["roles"][ROW_ID] = "duration"
    with pytest.raises(DataError, match="has a column 'row_id' of its own"):
        analysis_table(df)


def test_never_writes_into_the_raw_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    monkeypatch.setattr(config, "RAW_DIR", raw)
    with pytest.raises(DataError, match="inside the raw data folder"):
        write_extract(_study(), raw / "sub" / "extract")
    assert list(raw.iterdir()) == []


def test_the_markdown_dictionary_shows_html_in_values_as_text() -> None:
    from csatlib.ingest.extract import _md_cell

    assert _md_cell("<b>Gold</b> & <script>x</script>") == (
        "&lt;b&gt;Gold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;"
    )
    assert _md_cell("a | b\nc") == "a \\| b c"
