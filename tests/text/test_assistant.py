"""Tests of csatlib.text.assistant: the assistant learns from hand codes (cross-validated), its
suggestions never override a rule code, and it refuses too few hand codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csatlib.errors import DataError
from csatlib.text import assistant, code_tables, coding


def test_assistant_learns_and_never_overrides(make_incidents, codebook) -> None:
    phrases = {
        "pricing": ["fair prices", "too expensive", "great value for money", "prix corrects"],
        "account_manager": ["our account manager", "sales rep is great", "Ansprechpartner top"],
        "onsite_engineers": ["field engineers", "technician came", "技術者が優秀"],
    }
    rng = np.random.default_rng(0)
    rows = [(a, p) for a, ps in phrases.items() for p in ps for _ in range(4)]
    endings = rng.choice(["!", "really", "ok"], len(rows))
    texts = [f"{p} {w}" for (_, p), w in zip(rows, endings, strict=True)]
    incidents = make_incidents(texts)
    hand = pd.DataFrame(
        {"incident_id": incidents["incident_id"], "attribute": [a for a, _ in rows]}
    )
    trained = assistant.train_assistant(incidents, hand, seed=0, cv=4)
    assert trained.cv_macro_f1 > 0.9
    assert set(trained.cv_scores["attribute"]) == set(phrases)
    new = make_incidents(["prices are fair", "the field engineer"])
    new["incident_id"] = ["n1", "n2"]
    suggestions = assistant.suggest(trained, new, threshold=0.3)
    top = suggestions.sort_values("score").groupby("incident_id")["attribute"].last()
    assert top.to_dict() == {"n1": "pricing", "n2": "onsite_engineers"}
    assert set(suggestions["method"]) == {"model"}
    rule = coding.code_incidents(new, codebook)
    merged = code_tables.merge_codes(
        rule, hand.iloc[:0].assign(method="hand", coder="x"), suggestions
    )
    assert set(merged["method"]) == {"rule"}  # both had rule codes: model suggestions dropped


def test_assistant_validates(make_incidents) -> None:
    incidents = make_incidents(["a", "b"])
    hand = pd.DataFrame({"incident_id": ["r0|like|1", "r1|like|1"], "attribute": ["x", "y"]})
    with pytest.raises(DataError, match="need at least 10"):
        assistant.train_assistant(incidents, hand, cv=5)
