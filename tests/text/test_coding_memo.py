"""Tests of the rule coder's memo (csatlib.text.coding): a text coded once in a process is looked
up after, and the codes are exactly those of coding it afresh."""

from __future__ import annotations

import pandas as pd

from csatlib.text import cit_codebook, coding


def test_codes_of_known_texts_equal_a_fresh_coding(codebook, make_incidents) -> None:
    texts = [
        "Fast delivery and a helpful engineer",
        "not on time",
        "the price is too high",
        "nothing",
        "Fast delivery and a helpful engineer",  # the same text twice in one call
    ]
    coding._TEXT_MATCHES.clear()
    first = coding.code_incidents(make_incidents(texts, "negative"), codebook)
    assert len(coding._known_texts(codebook)) == 4  # four distinct texts remembered
    again = coding.code_incidents(make_incidents(texts, "negative"), codebook)
    pd.testing.assert_frame_equal(first, again)
    # the remembered matches give the same codes as the patterns run on a fresh codebook object
    fresh_book = cit_codebook.CitCodebook.__new__(cit_codebook.CitCodebook)
    fresh_book.__dict__.update(codebook.__dict__)
    fresh = coding.code_incidents(make_incidents(texts, "negative"), fresh_book)
    pd.testing.assert_frame_equal(first, fresh)
    assert first.loc[first["incident_id"] == "r1|like|1", "negated"].all()  # "not on time"
    # a later call with other valences reuses the matches but takes its own valence
    positive = coding.code_incidents(make_incidents(texts[:1], "positive"), codebook)
    assert set(positive["valence"]) == {"positive"}
