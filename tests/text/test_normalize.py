"""Tests of csatlib.text.normalize: what normalize_text folds (case, accents, width,
apostrophes) and what it keeps (Japanese as written, the index)."""

from __future__ import annotations

import pandas as pd

from csatlib.text import normalize


def test_case_accents_width_and_apostrophes_are_folded() -> None:
    got = normalize.normalize_text(
        ["Pünktlich", "PÜNKTLICH", "Straße", "à l’heure", "ＰＲＩＣＥＳ １２", None]
    )
    assert got.tolist() == ["punktlich", "punktlich", "strasse", "a l'heure", "prices 12", ""]


def test_japanese_is_kept_as_written_and_the_index_too() -> None:
    got = normalize.normalize_text(pd.Series(["納期が守られない", "ｶﾞｲﾄﾞ"], index=[5, 7]))
    # voiced-sound marks are not Latin accents: が stays が; half-width katakana become full width
    assert got.tolist() == ["納期が守られない", "ガイド"]
    assert got.index.tolist() == [5, 7]
