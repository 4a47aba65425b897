"""Fixtures shared by the CIT tests: the shipped codebook and small incident tables."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from csatlib import config
from csatlib.text import cit_codebook

#: The CIT codebook shipped in data/raw (written by hand, not by the sample generator).
CODEBOOK_PATH = config.RAW_DIR / "cit_codebook.yaml"


@pytest.fixture(scope="module")
def codebook() -> cit_codebook.CitCodebook:
    return cit_codebook.load_cit_codebook(CODEBOOK_PATH)


def _incidents(texts: list[str], valence: str = "positive", country: str = "DE") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": [f"r{i}|like|1" for i in range(len(texts))],
            "response_id": [f"r{i}" for i in range(len(texts))],
            "field": "like" if valence == "positive" else "dislike",
            "valence": valence,
            "position": 1,
            "text": texts,
            "country": country,
        }
    )


@pytest.fixture
def make_incidents() -> Callable[..., pd.DataFrame]:
    """``make_incidents(texts, valence="positive", country="DE")``: one incident per text, ids
    ``r0|like|1``, ``r1|like|1`` ... (as :func:`csatlib.text.coding.split_incidents` returns)."""
    return _incidents
