"""csatlib.report.context: the country report's parameters, its data and the subsets it shares."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.studies import Shape, write_study

from csatlib.errors import DataError
from csatlib.ingest.clean import build_processed
from csatlib.report.build import build_reports
from csatlib.report.context import load_country

WAVES = ["2026-Q1", "2026-Q2", "2026-Q3"]


def _responses() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for country in ["DE", "FR", "NA"]:
        for wave in WAVES[:2] if country == "NA" else WAVES:
            for i in range(40):
                rows.append((country, wave, i % 5 == 0, int(rng.integers(0, 11))))
    df = pd.DataFrame(rows, columns=["country", "wave", "competitor", "likelihood_to_recommend"])
    df["wave"] = pd.Categorical(df["wave"], categories=WAVES, ordered=True)
    df["country"] = df["country"].astype("category")
    df.attrs["roles"] = {"country": "country", "likelihood_to_recommend": "nps"}
    return df


def test_latest_wave_and_previous_wave_are_resolved() -> None:
    ctx = load_country("DE", responses=_responses())
    assert (ctx.wave, ctx.previous_wave) == ("2026-Q3", "2026-Q2")
    assert len(ctx.current) == 32 and not ctx.current["competitor"].any()
    assert set(ctx.others_current["country"]) == {"FR"}


def test_subsets_are_computed_once_per_context() -> None:
    ctx = load_country("DE", responses=_responses())
    for name in ("own", "country_own", "current", "previous", "others_current", "driver_sample"):
        assert getattr(ctx, name) is getattr(ctx, name), name
    assert len(ctx.previous) == 32 and set(ctx.previous["wave"]) == {"2026-Q2"}
    assert len(ctx.driver_sample) == 3 * 32  # every wave up to the report's, own brand only


def test_namibia_is_a_country_not_a_missing_value() -> None:
    ctx = load_country("NA", responses=_responses())
    assert ctx.wave == "2026-Q2"  # Namibia's own latest wave


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"country": "de"}, "ISO 3166 alpha-2"),
        ({"country": "XX"}, "countries in the data: DE, FR, NA"),
        ({"country": "DE", "wave": "2030-Q1"}, "waves for DE: 2026-Q1, 2026-Q2, 2026-Q3"),
        (
            {"country": "DE", "min_n": 0},
            "The 'min_n' parameter of load_country must be an int >= 1",
        ),
        ({"country": "DE", "min_n": True}, "'min_n' parameter of load_country .* got True"),
        ({"country": "DE", "min_n": 2.0}, "'min_n' parameter of load_country .* got 2.0"),
    ],
)
def test_bad_parameters_get_clear_errors(kwargs, message) -> None:
    with pytest.raises(DataError, match=message):
        load_country(responses=_responses(), **kwargs)


def test_min_n_of_one_is_accepted() -> None:
    ctx = load_country("DE", responses=_responses(), min_n=np.int64(1))
    assert ctx.min_n == 1 and type(ctx.min_n) is int


def test_a_study_without_brand_or_nps_role() -> None:
    # No brand column: everybody is an own-brand customer and the screens find no competitors.
    data = _responses().drop(columns="competitor")
    data.attrs["roles"] = {"country": "country", "likelihood_to_recommend": "nps"}
    ctx = load_country("DE", responses=data)
    assert len(ctx.current) == 40 and not ctx.has_competitors
    assert ctx.nps_column == "likelihood_to_recommend"
    data.attrs["roles"] = {"country": "country"}
    with pytest.raises(DataError, match="no column with role 'nps'"):
        load_country("DE", responses=data)


# --------------------------------------------------------------------------- min_n = 1, end to end


@pytest.mark.slow  # about 10 s: one small study, two country reports and the global summary
def test_reports_build_with_a_minimum_of_one_respondent(tmp_path: Path) -> None:
    """min_n = 1 shows every cell; a cell of one respondent has an estimate but no interval.

    Luxembourg has one respondent per wave, so every section of its report (NPS, attributes,
    loyalty, expectations, key drivers, screens, text, accounts, follow-ups) meets cells of one.
    """
    shape = Shape(
        "min_n_one",
        {"DE": 40, "LU": 1},
        attributes={"delivery": "Delivery", "pricing": "Pricing", "support": "Support"},
        scale=(1, 5),
        overall=True,
        loyalty=3,
        importance=2,
        expectation=2,
        account=True,
        text=True,
        complaint=True,
    )
    write_study(tmp_path / "raw", shape)
    build_processed(tmp_path / "raw", tmp_path / "processed")
    result = build_reports(
        processed_dir=tmp_path / "processed",
        reports_dir=tmp_path / "reports",
        min_n=1,
        jobs=2,
        progress=False,
    )
    assert result.ok, "\n".join(result.describe())
    metrics = json.loads((tmp_path / "reports" / "metrics" / "LU.json").read_text("utf-8"))
    assert metrics["min_n"] == 1 and metrics["nps"]["suppressed"] is False
    assert metrics["nps"]["n"] == 1 and metrics["nps"]["ci_low"] is None  # no interval of one
    page = (tmp_path / "reports" / "html" / "LU.html").read_text("utf-8")
    assert "no confidence interval with n = 1" in page
    assert "suppressed (n =" not in page  # nothing is below a minimum of one
