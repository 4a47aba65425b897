"""Text normalization for CIT coding, and codebook patterns turned into regexes over it.

:func:`normalize_text` makes "Pünktlich", "PUNKTLICH" and "punktlich" the same text; the
private helpers turn a codebook pattern (keyword or ``re:``) into a regex that matches such
normalized text, as a whole word for Latin script. :mod:`csatlib.text.cit_codebook` compiles
the patterns with them, :mod:`csatlib.text.coding` and :mod:`csatlib.text.assistant` normalize
the incidents' text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import pandas as pd

__all__ = ["normalize_text"]

_APOSTROPHES = "[\u2018\u2019\u02bc\u00b4`\u2032]"
# Combining Diacritical Marks only: Latin/Greek/Cyrillic accents. The Japanese voiced-sound marks
# (U+3099, U+309A) are outside this block, so NFKD + this + NFC leaves kana intact.
_LATIN_COMBINING = "[\u0300-\u036f]"
_CJK_CHARS = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_RE = re.compile(f"[{_CJK_CHARS}]")
# A Latin "word character" of normalized (case-folded) text: digits, a-z, _ and the Latin
# letters without a decomposition (ø, æ, ł ...). Kana/kanji are not, so "SLAを守る" still has a
# boundary after SLA. (A class such as [^\W<CJK ranges>] would do too but compiles 100x slower.)
_LW = "[0-9a-z_\u00c0-\u024f\u1e00-\u1eff]"
_NOT_AFTER_LW = f"(?<!{_LW})"
_NOT_BEFORE_LW = f"(?!{_LW})"
# Separators allowed between the words of a negation window: no clause punctuation.
_SEP = r"[^\w.,;:!?]*"
_JA_STOP = "[^。．！？!?\n]"


def _normalize_scalar(text: str, *, casefold: bool = True) -> str:
    text = re.sub(_APOSTROPHES, "'", text)
    if casefold:
        text = text.casefold()
    text = re.sub(_LATIN_COMBINING, "", unicodedata.normalize("NFKD", text))
    return unicodedata.normalize("NFC", text)


def normalize_text(texts: pd.Series | Sequence[str]) -> pd.Series:
    """Return texts case-folded, without Latin accents, in NFKC-like compatibility form.

    Parameters
    ----------
    texts
        Incident texts (missing values become ``""``).

    Returns
    -------
    pandas.Series
        Object Series, same index: typographic apostrophes -> ``'``, ``str.casefold`` (``ß`` ->
        ``ss``), NFKD, Latin combining accents (U+0300-U+036F) removed, NFC.

    Notes
    -----
    NFKD + NFC folds full-width Latin letters and digits to ASCII and half-width katakana to
    full width, but keeps Japanese kana and kanji as written (their voiced-sound marks are not in
    the Latin combining block, so が stays が). "Pünktlich", "PUNKTLICH" and "punktlich" all
    become ``punktlich``; "à l’heure" becomes ``a l'heure``.
    """
    series = pd.Series(texts, dtype=object) if not isinstance(texts, pd.Series) else texts
    s = series.astype(object).where(series.notna(), "")
    s = s.str.replace(_APOSTROPHES, "'", regex=True).str.casefold()
    s = s.str.normalize("NFKD").str.replace(_LATIN_COMBINING, "", regex=True)
    return s.str.normalize("NFC").astype(object)


def _keyword_to_regex(keyword: str) -> str:
    kw = _normalize_scalar(keyword).strip()
    out = []
    for part in re.split(r"(\*|[\s\-]+)", kw):
        if part == "*":
            out.append(r"\w*")
        elif part and not part.strip(" \t\n-"):
            out.append(r"[\s\-]*")
        elif part:
            out.append(re.escape(part))
    return "".join(out)


def _pattern_to_regex(pattern: str) -> tuple[str, bool]:
    """Return (regex source, is_cjk) for a codebook pattern."""
    if pattern.startswith("re:"):
        # Scoped flag: the text is case-folded already, so only user regexes need it, and the
        # big Latin-word character class stays out of IGNORECASE (which makes compiling slow).
        source = "(?i:" + _normalize_scalar(pattern[3:], casefold=False) + ")"
    else:
        source = _keyword_to_regex(pattern)
    return source, bool(_CJK_RE.search(pattern))


def _alternation(sources: Iterable[str]) -> str:
    # Longest first, so that matched_text shows the most specific pattern.
    unique = sorted(set(sources), key=lambda s: (-len(s), s))
    return "(?:" + "|".join(unique) + ")"


def _bounded(latin: Sequence[str]) -> str:
    return f"{_NOT_AFTER_LW}{_alternation(latin)}{_NOT_BEFORE_LW}"
