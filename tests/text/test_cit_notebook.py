"""notebooks/cit_coding.ipynb runs end to end on the sample and shows what the modules of
csatlib.text compute.

The notebook is executed once with papermill (kernel "csat") against processed data built from
data/raw into a temporary folder, into which one response with spreadsheet formulas as its
"likes" is written, so that the coding sheet must neutralize them.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from csatlib import config
from csatlib.text import agreement, cit_codebook, code_tables, coding, hand_coding, workflow

pytestmark = [
    pytest.mark.slow,  # 30-37 s measured on the shared 2-core machine (the notebook 14-17 s)
    pytest.mark.skipif(
        not (config.RAW_DIR / "relationship_survey.csv").exists(),
        reason="sample data not generated (csat synth)",
    ),
]

NOTEBOOK = config.NOTEBOOKS_DIR / "cit_coding.ipynb"
# Cells a spreadsheet would run (OWASP CSV injection); "-" is not used because a leading "- "
# is a list bullet that split_incidents removes.
FORMULAS = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "+49 30 1234567"]
MIN_N = 100  # above Namibia's 63 and 83 own-brand incidents, below every other country's


def _raw_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(config.RAW_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(config.RAW_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _inject_formulas(processed: Path) -> str:
    """Give one own-brand German response (not hand-coded) formulas as its likes; return its id."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = processed / "responses.parquet"
    table = pq.read_table(path)
    frame = table.select(["response_id", "country", "competitor"]).to_pandas()
    hand = pd.read_csv(config.RAW_DIR / "cit_hand_codes.csv", dtype=str)
    hand_coded = set(hand["incident_id"].str.split("|").str[0])
    ok = (frame["country"] == "DE") & ~frame["competitor"] & ~frame["response_id"].isin(hand_coded)
    row = int(ok.to_numpy().nonzero()[0][0])
    for name, text in (("text_like", "\n".join(FORMULAS)), ("text_dislike", None)):
        values = table.column(name).to_pylist()
        values[row] = text
        field = table.schema.field(name)
        table = table.set_column(
            table.schema.get_field_index(name), field, pa.array(values, type=field.type)
        )
    pq.write_table(table, path)
    return str(frame["response_id"].iloc[row])


@dataclass(repr=False)  # an assertion message should not print 56,000 incidents
class Run:
    nb: dict
    work: Path
    hostile: str
    raw_before: str
    incidents: pd.DataFrame
    rule: pd.DataFrame
    coder_a: pd.DataFrame


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    import papermill

    from csatlib.ingest.clean import build_processed, load_processed
    from csatlib.report.build import ensure_kernel

    root = tmp_path_factory.mktemp("cit_notebook")
    processed, work = root / "processed", root / "work"
    raw_before = _raw_fingerprint()
    build_processed(config.RAW_DIR, processed)
    hostile = _inject_formulas(processed)
    kernel = ensure_kernel()
    executed = papermill.execute_notebook(
        str(NOTEBOOK),
        str(root / "cit_coding.ipynb"),
        parameters={"processed_dir": str(processed), "work_dir": str(work), "min_n": MIN_N},
        kernel_name=kernel,
        progress_bar=False,
        cwd=str(root),
    )

    # The same steps called directly, to compare with what the notebook shows.
    responses = load_processed("responses", processed)
    codebook = cit_codebook.load_cit_codebook(config.RAW_DIR / "cit_codebook.yaml")
    incidents = coding.split_incidents(responses)
    rule = coding.code_incidents(incidents, codebook)
    hand = hand_coding.import_hand_codes(
        config.RAW_DIR / "cit_hand_codes.csv", incidents, codebook=codebook
    )
    coder_a = workflow.coder_codes(hand, "coder_a")
    return Run(
        nb=executed,
        work=work,
        hostile=hostile,
        raw_before=raw_before,
        incidents=incidents,
        rule=rule,
        coder_a=coder_a,
    )


def _cell(nb, tag: str) -> dict:
    cells = [c for c in nb["cells"] if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}"
    return cells[0]


def _shown(nb, tag: str) -> str:
    """The text/plain of the cell's displayed result."""
    results = [
        o
        for o in _cell(nb, tag)["outputs"]
        if o["output_type"] in ("execute_result", "display_data")
    ]
    assert len(results) == 1, f"cell {tag!r} shows {len(results)} results"
    text = results[0]["data"]["text/plain"]
    return "".join(text) if isinstance(text, list) else text


def test_every_cell_ran_without_error_or_warning(run) -> None:
    code = [c for c in run.nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["execution_count"] is not None for c in code)
    for i, cell in enumerate(code):
        assert cell["metadata"]["papermill"]["status"] == "completed", i
        for out in cell["outputs"]:
            assert out["output_type"] != "error", (i, out.get("evalue"))
            # A warning in an analyst's notebook is noise at best, a wrong number at worst.
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                i,
                out["text"],
            )


def test_shown_rule_coverage_is_what_coverage_computes(run) -> None:
    expected = code_tables.coverage(run.incidents, run.rule)
    assert _shown(run.nb, "coverage-rule") == repr(expected)
    share = expected.set_index(["valence", "method"]).loc[("all", "rule"), "share"]
    assert 0.80 < share < 0.95  # 0.918 on the seed-20261125 sample (docs/cit.md)


def test_shown_rule_agreement_is_the_rule_coder_against_coder_a(run) -> None:
    # What the cell computed before it was one call: the long table written out by hand.
    long = pd.concat(
        [
            run.coder_a[["incident_id", "coder", "attribute"]],
            agreement.codes_as_coder(run.rule, run.coder_a["incident_id"], coder="rule"),
        ]
    )
    expected = agreement.agreement(long, coders=["coder_a", "rule"])
    # The kernel is no terminal: pandas shows up to 20 columns, wrapped at 80 characters.
    with pd.option_context("display.max_columns", 20, "display.width", 80):
        assert _shown(run.nb, "agreement-rule") == repr(expected)
    overall = expected[expected["scope"] == "overall"].iloc[0]
    assert 0.75 < overall["kappa"] < 0.95  # 0.840 on the seed-20261125 sample (docs/cit.md)


def test_shown_merged_coverage_counts_the_adjudicated_coders_incidents(run) -> None:
    shown = _shown(run.nb, "coverage-merged")
    hand_row = re.search(r"^\d+\s+all\s+hand\s+(\d+)\s+(\d+)", shown, flags=re.M)
    assert hand_row, shown
    n, coded = map(int, hand_row.groups())
    assert n == len(run.incidents)
    # Incidents coder_a gave at least one attribute ("none" decisions are not coded).
    assert coded == run.coder_a.dropna(subset=["attribute"])["incident_id"].nunique()


def test_shown_macro_f1_is_a_cross_validated_score_of_coder_a(run) -> None:
    shown = _shown(run.nb, "assistant")
    n, f1 = re.search(r"^0\s+(\d+)\s+([0-9.]+)\s*$", shown, flags=re.M).groups()
    assert int(n) == run.coder_a["incident_id"].nunique()
    assert 0.7 < float(f1) < 0.95  # 0.836 measured on the sample (docs/cit.md)


def test_coding_sheet_is_written_to_work_dir_with_neutralized_cells(run) -> None:
    path = run.work / workflow.CODING_SHEET_NAME
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel shows accents
    sheet = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(sheet.columns) == [
        "incident_id",
        "valence",
        "text",
        "suggested",
        "attribute",
        "audit",
    ]
    hostile = sheet[sheet["incident_id"].str.startswith(run.hostile + "|")]
    assert sorted(hostile["text"]) == sorted("'" + f for f in FORMULAS)
    assert (hostile["audit"] == "False").all()
    starts = ("=", "+", "-", "@", "\t", "\r")
    assert not sheet.map(lambda v: v.startswith(starts)).any().any()
    assert (sheet["attribute"] == "").all()


def test_coding_sheet_holds_what_nobody_coded_and_a_blind_audit(run) -> None:
    sheet = pd.read_csv(
        run.work / workflow.CODING_SHEET_NAME,
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
    )
    firm = code_tables.merge_codes(run.rule, run.coder_a)
    expected = workflow.uncoded_incidents(run.incidents, firm)["incident_id"]
    uncoded = sheet[sheet["audit"] == "False"]
    assert uncoded["incident_id"].tolist() == expected.tolist()
    assert not set(sheet["incident_id"]) & set(run.coder_a["incident_id"])  # never sent again
    audit = sheet[sheet["audit"] == "True"]
    rule_coded = firm.loc[firm["method"] == "rule", "incident_id"].nunique()
    assert len(audit) == math.ceil(0.05 * rule_coded)
    assert (audit["suggested"] == "").all()  # blind: rule codes not shown


def test_raw_data_was_not_written(run) -> None:
    assert _raw_fingerprint() == run.raw_before


def test_small_country_is_suppressed_in_the_frequencies(run) -> None:
    for tag in ("benefits", "attributes"):
        lines = _shown(run.nb, tag).splitlines()
        namibia = [i for i, line in enumerate(lines) if line.startswith("NA ")]
        germany = [i for i, line in enumerate(lines) if line.startswith("DE ")]
        assert namibia and germany
        for i in namibia + germany:  # the country's line and the next (other valence) one
            for line in lines[i : i + 2]:
                tokens = line.split()
                n_at = next(j for j, t in enumerate(tokens) if t.isdigit())
                shares = tokens[n_at + 1 :]
                assert shares, line
                if i in namibia:
                    assert int(tokens[n_at]) < MIN_N
                    assert all(v == "NaN" for v in shares), line
                else:
                    assert int(tokens[n_at]) >= MIN_N
                    assert all(re.fullmatch(r"\d+\.\d", v) for v in shares), line


def test_notebook_records_the_parameters_it_ran_with(run) -> None:
    injected = _cell(run.nb, "injected-parameters")
    source = "".join(injected["source"])
    assert f"min_n = {MIN_N}" in source
    assert run.nb["metadata"]["papermill"]["parameters"]["work_dir"] == str(run.work)
