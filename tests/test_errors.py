from __future__ import annotations

import pandas as pd
import pytest

from csatlib.errors import DataError, require_columns


def test_require_columns_names_the_caller_the_missing_and_the_found_columns() -> None:
    df = pd.DataFrame({"country": ["DE"], "wave": ["2026-Q1"]})
    assert require_columns(df, ["country"], "x") is df
    with pytest.raises(DataError) as err:
        require_columns(df, ["country", "csat"], "transaction_summary: tickets")
    message = str(err.value)
    assert message.startswith("transaction_summary: tickets: missing column(s) 'csat'")
    assert "missing ['csat']" in message and "found ['country', 'wave']" in message


def test_require_columns_rejects_what_is_not_a_dataframe() -> None:
    with pytest.raises(DataError, match="x: expected a DataFrame, found list"):
        require_columns([1, 2], ["a"], "x")
