"""Reports for any slice: one report per value of a dimension (segment, business unit, ...).

A report by another dimension makes a country report's comparisons among that dimension's
values: its "others" are the other values, its words name the dimension, its file is
``<dimension>--<value>``. Checked on a hand-made study (the figures are counted here) and with
a throwaway notebook through the build (parameters, file names, index, stale reports).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.notebooks import throwaway_notebook

from csatlib.errors import DataError, ReportError
from csatlib.ingest.clean import _write_parquet
from csatlib.report import build, context, summary
from csatlib.report.sections import unit_text, unit_words

WAVES = ["2026-Q1", "2026-Q2"]


def _responses() -> pd.DataFrame:
    """Two countries, two segments crossing them, two waves; 0-10 answers chosen per cell."""
    rng = np.random.default_rng(3)
    rows = []
    for wave in WAVES:
        for country in ("DE", "FR"):
            for segment, base in (("Enterprise", 9), ("Public sector", 5)):
                for _ in range(40):
                    score = int(np.clip(base + rng.integers(-2, 2), 0, 10))
                    rows.append((country, wave, segment, score))
    rows.append(("DE", "2026-Q2", None, 10))  # no segment: in no segment's report
    df = pd.DataFrame(rows, columns=["country", "wave", "segment", "likelihood_to_recommend"])
    df["response_id"] = [f"R{i}" for i in range(len(df))]
    df.attrs["roles"] = {
        "country": "country",
        "likelihood_to_recommend": "nps",
        "segment": "segment",
    }
    return df


def _nps(scores: pd.Series) -> float:
    return 100 * ((scores >= 9).mean() - (scores <= 6).mean())


def test_a_slice_puts_the_dimension_where_the_country_was(tmp_path: Path) -> None:
    df = _responses()
    sliced = context.slice_responses(df, "segment")
    assert len(sliced) == len(df) - 1  # the row without a segment belongs to no slice
    assert set(sliced["country"]) == {"Enterprise", "Public sector"}
    assert set(sliced["home_country"]) == {"DE", "FR"}
    assert sliced.attrs["roles"] == df.attrs["roles"]
    assert context.slice_responses(df, "country") is df
    assert context.slice_dimensions(df, tmp_path) == ["country", "segment"]  # no mapping there
    assert context.slice_values(df, "segment") == ["Enterprise", "Public sector"]
    with pytest.raises(DataError, match="can be cut by: country, segment"):
        context.slice_responses(df, "business_unit", tmp_path)


def test_a_segment_report_compares_with_the_other_segments() -> None:
    df = _responses()
    ctx = context.load_country("", responses=df, dimension="segment", value="Public sector")
    assert (ctx.country, ctx.country_name, ctx.dimension) == (
        "Public sector",
        "Public sector",
        "segment",
    )
    assert ctx.others == "other segments" and ctx.quality_country is None
    h = summary.nps_headline(ctx)
    now = df.loc[df["wave"] == "2026-Q2"]
    mine = now.loc[now["segment"] == "Public sector", "likelihood_to_recommend"]
    rest = now.loc[now["segment"] == "Enterprise", "likelihood_to_recommend"]
    assert (h.n, h.n_rest) == (80, 80)  # both countries; the row without a segment in neither
    assert h.current.score == pytest.approx(_nps(mine))
    assert h.rest.score == pytest.approx(_nps(rest))
    table = summary.headline_table(h, evidence=False)
    assert "All other segments 2026-Q2" in table.index
    assert "Difference vs other segments" in table.index
    assert str(summary.report_heading(ctx)).count("Segment Public sector, wave 2026-Q2") == 1
    with pytest.raises(DataError, match="value: 'Retail' has no own-brand responses"):
        context.load_country("", responses=df, dimension="segment", value="Retail")


def test_markdown_says_the_dimension_and_code_stays() -> None:
    text = "How this country's customers compare with the other countries. Country: `country`."
    assert unit_text(text, "business_unit") == (
        "How this business unit's customers compare with the other business units. "
        "Business unit: `country`."
    )
    assert unit_words("segment") == ("segment", "segments")
    assert unit_words("cost_centre") == ("cost centre", "cost centres")


def test_a_cell_with_its_own_text_for_other_dimensions_says_it() -> None:
    """The data-quality figures are the whole study's in a report by business unit (cleaning
    counts by country): that cell says so, instead of "for this business unit"."""
    import nbformat

    from csatlib import config
    from csatlib.report.sections import (
        _BY_KEY,
        OTHER_DIMENSION_TEXT,
        StudySections,
        prepare_notebook,
    )

    nb = nbformat.read(config.NOTEBOOKS_DIR / "country_report.ipynb", as_version=4)
    sections = StudySections(available=tuple(_BY_KEY), missing={})  # every section
    quality = next(c for c in nb.cells if c.source.startswith("## Data quality"))
    assert "for this country" in quality.source and OTHER_DIMENSION_TEXT in quality.metadata
    for dimension, words in (("country", "for this country"), ("business_unit", "whole study")):
        cells = prepare_notebook(nb, sections, dimension=dimension).cells
        text = next(c.source for c in cells if c.source.startswith("## Data quality"))
        assert words in text
    text = next(
        c.source
        for c in prepare_notebook(nb, sections, dimension="segment").cells
        if c.source.startswith("## Data quality")
    )
    assert text.endswith("not by segment.")


def test_a_report_page_is_titled_by_its_unit_name(tmp_path) -> None:
    from csatlib import config

    def job(country: str = "DE", **kw) -> build.CountryJob:
        notebook = config.NOTEBOOKS_DIR / "country_report.ipynb"
        return build.CountryJob(country, notebook, tmp_path, tmp_path, 30, 600, "f", **kw)

    assert build._report_title(job()) == "CSAT report Germany (DE)"
    unit = job("x", dimension="segment", value="Public sector", within="country=DE")
    assert build._report_title(unit) == "CSAT report Public sector in Germany"
    assert build._report_title(job("global", kind="summary")) == "CSAT global summary"


def test_slice_names_are_file_safe_and_distinct_from_country_codes() -> None:
    assert build.slice_name("business_unit", "Enterprise Storage") == (
        "business_unit--enterprise-storage"
    )
    assert build.slice_name("segment", "Mid-market / SMB") == "segment--mid-market-smb"
    assert build._SLICE_NAME.match(build.slice_name("segment", "Öffentlich"))
    # accents are dropped, not the letters that bear them
    assert build.slice_name("business_unit", "+Réseaux Télécom") == "business_unit--reseaux-telecom"
    assert build.slice_name("segment", "Ärzte / Straße") == "segment--arzte-strasse"
    # letters of another script (or none at all) add a digest: two such values, two names
    tokyo, osaka = (
        build.slice_name("segment", "東京 営業"),
        build.slice_name("segment", "大阪 営業"),
    )
    assert tokyo != osaka and all(build._SLICE_NAME.match(n) for n in (tokyo, osaka))
    assert build.slice_name("segment", "東京 Sales").startswith("segment--sales-")
    assert build.slice_name("segment", "+++") != build.slice_name("segment", "***")
    with pytest.raises(ReportError, match="dimension names such as"):
        build._check_by("Country; segment")
    assert build._check_by("country, segment,country") == ("country", "segment")


def _notebook(path: Path) -> Path:
    return throwaway_notebook(
        path,
        'country: str = "DE"\nprocessed_dir: str = ""\nmin_n: int = 30\nmetrics_path: str = ""\n'
        'dimension: str = "country"\nvalue: str = ""\nwithin: str = ""',
        "import json\nfrom pathlib import Path\n"
        "name = value if dimension != 'country' else country\n"
        "print(f'report of {dimension} {name} {within}')\n"
        "if metrics_path:\n"
        "    Path(metrics_path).write_text(json.dumps({'wave': '2026-Q2', 'nps': "
        "{'score': 1.0, 'n': 50, 'ci_low': 0.0, 'ci_high': 2.0}, 'dimension': dimension}))",
    )


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("slices") / "processed"
    folder.mkdir()
    _write_parquet(_responses(), folder / "responses.parquet")  # as `csat data` writes it
    return folder


def test_the_build_makes_one_report_per_value_and_lists_them_by_dimension(
    processed: Path, tmp_path: Path
) -> None:
    nb, reports = _notebook(tmp_path / "nb.ipynb"), tmp_path / "reports"
    kwargs = {"processed_dir": processed, "reports_dir": reports, "notebook": nb}
    result = build.build_reports(
        by=("country", "segment"), summary=False, jobs=1, progress=False, **kwargs
    )
    assert result.ok, result.describe()
    names = [o.country for o in result.outcomes]
    assert names == ["DE", "FR", "segment--enterprise", "segment--public-sector"]
    assert f"Built 4 reports: {', '.join(names)}." in result.describe()  # not "country reports"
    executed = (reports / "notebooks" / "segment--public-sector.ipynb").read_text()
    assert "report of segment Public sector" in executed
    stamp = json.loads((reports / ".build" / "segment--public-sector.json").read_text())
    assert (stamp["dimension"], stamp["value"]) == ("segment", "Public sector")
    index = (reports / "index.html").read_text()
    assert "<h2>By segment</h2>" in index and "<th>Segment</th>" in index
    assert index.index("Germany (DE)") < index.index("By segment") < index.index("Public sector")
    assert 'href="html/segment--enterprise.html"' in index
    # a build by country only keeps (and lists) the segment reports it did not build
    again = build.build_reports(summary=False, jobs=1, progress=False, force=True, **kwargs)
    assert again.ok and [o.country for o in again.outcomes] == ["DE", "FR"]
    assert (reports / "html" / "segment--enterprise.html").exists()
    assert "By segment" in (reports / "index.html").read_text()
    # a segment that left the data goes when segments are built again
    (reports / ".build" / "segment--retail.json").write_text('{"fingerprint": "x"}')
    (reports / "html" / "segment--retail.html").write_text("old")
    third = build.build_reports(by="segment", summary=False, jobs=1, progress=False, **kwargs)
    assert not (reports / "html" / "segment--retail.html").exists()
    assert any("segment--retail" in note for note in third.notes)
    assert (reports / "html" / "DE.html").exists()  # countries not built now stay


def test_an_unknown_dimension_is_refused_before_anything_runs(
    processed: Path, tmp_path: Path
) -> None:
    with pytest.raises(ReportError, match="can be cut by: country, segment"):
        build.build_reports(
            by="business_unit",
            processed_dir=processed,
            reports_dir=tmp_path / "reports",
            notebook=_notebook(tmp_path / "nb.ipynb"),
            summary=False,
            progress=False,
        )


def test_a_name_e_mail_score_or_text_column_is_no_report_dimension(processed: Path) -> None:
    # the responses have these columns, but a report is cut only by a role's column
    df = _responses().assign(contact_email=lambda d: d["response_id"] + "@example.org")
    for column in ("contact_email", "likelihood_to_recommend", "response_id", "wave"):
        with pytest.raises(DataError, match=f"dimension '{column}'.*can be cut by: country, seg"):
            context.slice_values(df, column)
    with pytest.raises(ReportError, match="can be cut by: country, segment"):
        build.discover_slices(processed, "likelihood_to_recommend")
    with pytest.raises(DataError, match="'wave'"):
        build.discover_cross_cuts(processed, "wave/country", min_n=30)
    with pytest.raises(DataError, match="'likelihood_to_recommend'"):  # a notebook's parameters
        context.prepared_responses(processed, "likelihood_to_recommend")
    with pytest.raises(DataError, match="'response_id'"):  # nor the outer unit of a cross-cut
        context.prepared_responses(processed, "segment", within="response_id=R1")
    assert context.slice_values(df, "segment") == ["Enterprise", "Public sector"]


def test_tickets_are_cut_by_business_unit_only_through_a_mapping_or_their_own_column() -> None:
    from csatlib.report.sections import study_sections

    survey = _responses().assign(business_unit="Storage")
    survey.attrs = {"roles": {**_responses().attrs["roles"], "business_unit": "business_unit"}}
    tickets = pd.DataFrame({"country": ["DE"], "account": ["Acme"], "satisfaction": [5]})
    tickets.attrs = {"roles": {"satisfaction": "overall", "account": "account"}}

    def has_transactions(tables: set[str], tx: pd.DataFrame) -> bool:
        found = study_sections(survey, tables=tables, transactions=tx, dimension="business_unit")
        return "transactions" in found.available

    # the unit is a column of the survey and there is no organisation mapping: the tickets'
    # accounts reach no unit, so a unit's report has no transaction section (it used to keep
    # it and fail in every report)
    assert not has_transactions({"transactions"}, tickets)
    assert has_transactions({"transactions", "organisation_accounts"}, tickets)
    assert has_transactions({"transactions"}, tickets.assign(business_unit="Storage"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from csatlib import config
    from csatlib.ingest.clean import build_processed

    folder = tmp_path_factory.mktemp("sample") / "processed"
    build_processed(config.RAW_DIR, folder)  # with the sample's organisation mapping
    return folder


def test_business_units_come_from_the_organisation_mapping(sample: Path) -> None:
    from csatlib.ingest.organisation import read_organisation

    responses = context.load_responses(sample)
    assert "business_unit" in context.slice_dimensions(responses, sample)
    org = read_organisation(sample)
    units = context.slice_values(responses, "business_unit", sample)
    assert set(units) <= set(org.business_units)
    sliced = context.slice_responses(responses, "business_unit", sample)
    repeats = sliced["response_id"].duplicated(keep=False)
    assert repeats.any()  # respondents of the accounts in two units are in both
    twice = sliced.loc[repeats].groupby("response_id")["country"].nunique()
    assert (twice == 2).all()
    assert len(sliced) - repeats.sum() / 2 <= len(responses)
    small = context.load_country("", processed_dir=sample, dimension="business_unit",
                                 value="edge_labs")  # fmt: skip
    assert small.country_name == org.business_units["edge_labs"] == "Edge Labs"
    assert len(small.current) < 30  # the sample's unit too small to report
    assert small.study_rows["response_id"].is_unique


def test_a_cross_cut_compares_within_its_outer_unit() -> None:
    df = _responses()
    ctx = context.load_country(
        "", responses=df, dimension="segment", value="Enterprise", within="country=DE"
    )
    assert ctx.country_name == "Enterprise in Germany"
    assert ctx.others == "other segments in Germany"
    h = summary.nps_headline(ctx)
    now = df.loc[(df["wave"] == "2026-Q2") & (df["country"] == "DE")]
    mine = now.loc[now["segment"] == "Enterprise", "likelihood_to_recommend"]
    rest = now.loc[now["segment"] == "Public sector", "likelihood_to_recommend"]
    assert (h.n, h.n_rest) == (40, 40)  # France's respondents are in neither
    assert h.current.score == pytest.approx(_nps(mine))
    assert h.rest.score == pytest.approx(_nps(rest))
    with pytest.raises(DataError, match="expected '<dimension>=<value>'"):
        context.load_country("", responses=df, dimension="segment", value="x", within="DE")


def test_cross_cuts_are_built_only_where_every_cell_meets_the_minimum(
    processed: Path, tmp_path: Path
) -> None:
    found, left_out = build.discover_cross_cuts(processed, "segment/country", min_n=30)
    assert found == {
        "segment_in_country--enterprise--de": ("segment", "Enterprise", "country=DE"),
        "segment_in_country--public-sector--de": ("segment", "Public sector", "country=DE"),
        "segment_in_country--enterprise--fr": ("segment", "Enterprise", "country=FR"),
        "segment_in_country--public-sector--fr": ("segment", "Public sector", "country=FR"),
    }
    assert left_out == []
    none, small = build.discover_cross_cuts(processed, "segment/country", min_n=41)
    assert none == {} and len(small) == 4  # 40 answers a cell: every one too small
    nb, reports = _notebook(tmp_path / "nb.ipynb"), tmp_path / "reports"
    result = build.build_reports(
        by="segment/country",
        processed_dir=processed,
        reports_dir=reports,
        notebook=nb,
        summary=False,
        jobs=1,
        progress=False,
        min_n=41,
    )
    assert result.ok and [o.country for o in result.outcomes] == []
    assert any("Not built, a cell below the minimum of 41" in n for n in result.notes)
    built = build.build_reports(
        by="segment/country",
        processed_dir=processed,
        reports_dir=reports,
        notebook=nb,
        summary=False,
        jobs=1,
        progress=False,
    )
    assert built.ok and len(built.outcomes) == 4
    executed = (reports / "notebooks" / "segment_in_country--enterprise--fr.ipynb").read_text()
    assert "report of segment Enterprise country=FR" in executed
    index = (reports / "index.html").read_text()
    assert "By segment within each country" in index and "Enterprise in France" in index


def test_functions_and_business_processes_are_named_by_the_mapping(sample: Path) -> None:
    org = context._organisation(sample)
    for dimension, named in (
        ("business_unit", org.business_units),
        ("function", org.functions),
        ("business_process", org.business_processes),
    ):
        code, label = next(iter(named.items()))
        assert context.unit_label(dimension, code, sample) == label != code
    assert context.unit_label("function", "not-mapped", sample) == "not-mapped"
    assert context.unit_label("segment", "Enterprise", sample) == "Enterprise"


def test_a_renamed_dimension_reads_as_its_codebook_label(tmp_path: Path) -> None:
    from csatlib.report.sections import dimension_label

    assert unit_words("cust_segment", "Customer segment") == (
        "customer segment",
        "customer segments",
    )
    assert unit_words("bu", "BU") == ("BU", "BUs")  # an acronym keeps its capitals
    assert unit_words("acct_class", "Account class")[1] == "account classes"
    assert unit_words("industry", "Industry")[1] == "industries"
    assert unit_words("kam") == ("kam", "kams")  # no label: the column's name
    assert unit_words("segment", "Anything") == ("segment", "segments")
    assert unit_text("Other countries' customers", "cust_segment", "Customer segment") == (
        "Other customer segments' customers"
    )
    df = _responses().rename(columns={"segment": "cust_segment"})
    df.attrs = {
        "roles": {**_responses().attrs["roles"], "cust_segment": "segment"},
        "labels": {"cust_segment": "Customer segment"},
    }
    del df.attrs["roles"]["segment"]
    folder = tmp_path / "processed"
    folder.mkdir()
    _write_parquet(df, folder / "responses.parquet")
    assert dimension_label(folder, "cust_segment") == "Customer segment"
    assert dimension_label(folder, "segment") is None  # its own words
    reports = tmp_path / "reports"
    result = build.build_reports(
        by="cust_segment",
        processed_dir=folder,
        reports_dir=reports,
        notebook=_notebook(tmp_path / "nb.ipynb"),
        summary=False,
        jobs=1,
        progress=False,
    )
    assert result.ok, result.describe()
    index = (reports / "index.html").read_text()
    assert "<h2>By customer segment</h2>" in index and "<th>Customer segment</th>" in index
    ctx = context.load_country(
        "", responses=df, dimension="cust_segment", value="Enterprise", within=""
    )
    assert ctx.unit == ("customer segment", "customer segments")
