"""The CIT codebook: read ``data/raw/cit_codebook.yaml``, validate it, compile its patterns.

:func:`load_cit_codebook` returns a frozen :class:`CitCodebook` (benefits, attributes, patterns
and the compiled regexes the rule coder of :mod:`csatlib.text.coding` applies). docs/cit.md
explains the format in full.

Codebook format (YAML)
----------------------
::

    version: 1                          # optional
    negation:                           # optional; every key optional (defaults below)
      window: 3                         # words a Latin-script negator may stand before a match
      window_ja: 6                      # characters a Japanese negator may stand after a match
      negators: {en: [...], de: [...], fr: [...], ja: [...]}
      negative_words: {en: [...], ...}  # "no delays", "never late": not a negation (praise)
      pseudo: {en: ["not only", ...], ...}   # fixed phrases that are not negations
    benefits:
      <benefit_id>: {label: str, description: str}
    attributes:
      <attribute_id>:
        benefit: <benefit_id>           # required, must be declared under benefits
        label: str                      # required
        problem: str                    # optional: what went wrong, names a dislike row
        description: str
        examples: [str, ...]
        patterns: [p, ...]              # any language, or per language:
        patterns: {en: [p, ...], de: [...], fr: [...], ja: [...]}

``problem`` words a complaint about the attribute ("late or incomplete deliveries"); a dislike
is named by its benefit and the problems of its most mentioned attributes ("Good value — too
expensive"). Without it, :func:`default_problem` makes one from the label ("problems with
pricing").

A pattern is a *keyword* (``*`` = rest of a word, a space or hyphen matches any run of spaces or
hyphens or none) or, with the prefix ``re:``, a Python regular expression. Both are matched in
normalized text (see :func:`csatlib.text.normalize.normalize_text`) and, for Latin script, as
whole words. Unknown keys, duplicate keys, an attribute whose benefit is missing or undeclared,
a label or problem that is not a non-empty text, and a pattern that does not compile (or
matches the empty text) raise :class:`~csatlib.errors.CodebookError` naming the file and the
entry.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import yaml

from csatlib.errors import CodebookError
from csatlib.text.normalize import (
    _JA_STOP,
    _NOT_AFTER_LW,
    _NOT_BEFORE_LW,
    _SEP,
    _alternation,
    _bounded,
    _pattern_to_regex,
)

__all__ = ["LANGUAGES", "CitCodebook", "default_problem", "load_cit_codebook"]

#: Languages a codebook may key patterns and negation lists by.
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "ja")

_TOP_KEYS = {"version", "description", "negation", "benefits", "attributes"}
_BENEFIT_KEYS = {"label", "description"}
_ATTRIBUTE_KEYS = {"benefit", "label", "problem", "description", "examples", "patterns"}
_NEGATION_KEYS = {"window", "window_ja", "negators", "negative_words", "pseudo"}

_DEFAULT_NEGATION: dict[str, Any] = {
    "window": 3,
    "window_ja": 6,
    "negators": {
        "en": [
            "not",
            "never",
            "no",
            "isn't",
            "wasn't",
            "aren't",
            "don't",
            "doesn't",
            "didn't",
            "won't",
            "can't",
            "cannot",
        ],
        "de": ["nicht", "nie", "niemals", "kein*"],
        "fr": ["pas", "jamais", "ne", "n'", "aucun*"],
        "ja": ["ない", "ません", "なかった"],
    },  # fmt: skip
    "negative_words": {
        "en": [
            "problem*",
            "issue*",
            "complain*",
            "delay*",
            "late",
            "error*",
            "mistake*",
            "bad",
            "slow*",
            "expensive",
            "fail*",
        ],
        "de": ["problem*", "fehler*", "verzog*", "verspat*", "spat", "teuer*", "langsam*"],
        "fr": ["probleme*", "souci*", "retard*", "erreur*", "cher", "chere", "lent*"],
        "ja": ["問題", "遅れ", "遅延", "ミス", "間違い", "故障", "トラブル"],
    },  # fmt: skip
    "pseudo": {
        "en": ["not only", "not just", "no doubt"],
        "de": ["nicht nur"],
        "fr": ["non seulement"],
        "ja": ["少ない", "すみません", "間違いない"],
    },
}


class _DuplicateKey(Exception):
    def __init__(self, key: object, first: int, second: int) -> None:
        super().__init__(key)
        self.key, self.first, self.second = key, first, second


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[object, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise _DuplicateKey(key, seen[key], line)
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


@dataclass(frozen=True, eq=False)
class CitCodebook:
    """A validated CIT codebook with compiled patterns (from :func:`load_cit_codebook`).

    Attributes
    ----------
    path
        File it was read from (``"<dict>"`` when built from a mapping).
    benefits
        DataFrame ``benefit, label, description`` in file order.
    attributes
        DataFrame ``attribute, benefit, label, benefit_label, problem, description, examples,
        n_patterns`` in file order; ``problem`` is the codebook's wording of what went wrong,
        or :func:`default_problem` of the label where the codebook gives none.
    patterns
        DataFrame ``attribute, language, pattern, regex, script`` (``script`` is ``latin`` or
        ``cjk``), one row per pattern.
    hit_regex
        Attribute -> compiled regex with one named group ``hit`` (all its patterns).
    pre_negation_regex
        Attribute -> compiled regex "negator, up to ``window - 1`` words, Latin pattern".
    post_negation_regex
        Attribute -> compiled regex "Japanese pattern, up to ``window_ja`` characters, negator".
    pseudo_negation_regex
        Compiled regex of the spans that are masked before negation is looked for.
    window, window_ja
        Negation windows (words before, characters after).
    """

    path: str
    benefits: pd.DataFrame
    attributes: pd.DataFrame
    patterns: pd.DataFrame
    hit_regex: Mapping[str, re.Pattern[str]]
    pre_negation_regex: Mapping[str, re.Pattern[str] | None]
    post_negation_regex: Mapping[str, re.Pattern[str] | None]
    pseudo_negation_regex: re.Pattern[str] | None
    window: int
    window_ja: int

    @property
    def attribute_ids(self) -> list[str]:
        """Attribute ids in codebook order."""
        return self.attributes["attribute"].tolist()

    def benefit_of(self) -> dict[str, str]:
        """Return the mapping attribute -> benefit."""
        return dict(zip(self.attributes["attribute"], self.attributes["benefit"], strict=True))


def default_problem(label: str) -> str:
    """What went wrong on an attribute whose codebook entry has no ``problem``.

    Parameters
    ----------
    label
        The attribute's label (``"Pricing"``, ``"On-time delivery"``, ``"ERP integration"``).

    Returns
    -------
    str
        ``"problems with <label>"``, the label's first letter in lower case unless the label
        starts with an acronym: ``"problems with pricing"``, ``"problems with ERP integration"``.
    """
    text = " ".join(str(label).split())
    if text[:1].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    return f"problems with {text}"


def _fail(where: str, message: str) -> CodebookError:
    return CodebookError(f"{where}: {message}")


def _check_keys(where: str, entry: str, mapping: object, allowed: set[str]) -> dict:
    if not isinstance(mapping, dict):
        raise _fail(where, f"{entry} must be a mapping, found {type(mapping).__name__} {mapping!r}")
    unknown = sorted(str(k) for k in mapping if k not in allowed)
    if unknown:
        raise _fail(
            where,
            f"{entry} has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"expected only {', '.join(sorted(allowed))}",
        )
    return mapping


def _string_list(where: str, entry: str, value: object) -> list[str]:
    """Accept a list of strings; say what YAML did to unquoted no/yes/on/off."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _fail(where, f"{entry} must be a list of strings, found {value!r}")
    out = []
    for item in value:
        if isinstance(item, bool):
            raise _fail(
                where,
                f"{entry} contains {item!r}: YAML reads unquoted no/yes/on/off/true/false as "
                'booleans; quote the entry ("no")',
            )
        if not isinstance(item, str) or not item.strip():
            raise _fail(where, f"{entry} contains {item!r}; expected a non-empty string")
        out.append(item)
    return out


def _by_language(where: str, entry: str, value: object) -> list[tuple[str, str]]:
    """Return [(language, item)] from a list (language "any") or a {lang: list} mapping."""
    if isinstance(value, dict):
        pairs = []
        for lang, items in value.items():
            if lang not in LANGUAGES:
                raise _fail(
                    where,
                    f"{entry} has unknown language key {lang!r}; expected one of "
                    f"{', '.join(LANGUAGES)} (or a plain list for any language)",
                )
            pairs += [(lang, p) for p in _string_list(where, f"{entry}.{lang}", items)]
        return pairs
    return [("any", p) for p in _string_list(where, entry, value)]


def _compile(where: str, entry: str, language: str, pattern: str) -> tuple[str, bool]:
    source, is_cjk = _pattern_to_regex(pattern)
    try:
        compiled = re.compile(source)
    except re.error as exc:
        raise _fail(
            where,
            f"{entry}, language {language!r}: pattern {pattern!r} does not compile ({exc})",
        ) from None
    if compiled.search("") is not None:
        raise _fail(
            where, f"{entry}, language {language!r}: pattern {pattern!r} matches the empty text"
        )
    if compiled.groupindex:
        raise _fail(
            where, f"{entry}, language {language!r}: pattern {pattern!r} uses a named group"
        )
    return source, is_cjk


def _split_scripts(where: str, entry: str, pairs: list[tuple[str, str]]) -> tuple[list, list]:
    latin, cjk = [], []
    for lang, pattern in pairs:
        source, is_cjk = _compile(where, entry, lang, pattern)
        (cjk if is_cjk else latin).append(source)
    return latin, cjk


def _negation_regexes(where: str, spec: dict) -> dict[str, Any]:
    spec = {**_DEFAULT_NEGATION, **spec}
    window, window_ja = spec["window"], spec["window_ja"]
    for key, value in (("window", window), ("window_ja", window_ja)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _fail(where, f"negation.{key} must be a whole number >= 1, found {value!r}")
    neg_latin, neg_cjk = _split_scripts(
        where, "negation.negators", _by_language(where, "negation.negators", spec["negators"])
    )
    # A negator written with a final apostrophe ("n'") is glued to the next word ("n'est").
    neg_latin_alt = [s if s.endswith("'") else f"{s}{_NOT_BEFORE_LW}" for s in neg_latin]
    bad_latin, bad_cjk = _split_scripts(
        where,
        "negation.negative_words",
        _by_language(where, "negation.negative_words", spec["negative_words"]),
    )
    pseudo_latin, pseudo_cjk = _split_scripts(
        where, "negation.pseudo", _by_language(where, "negation.pseudo", spec["pseudo"])
    )
    pre = (
        f"{_NOT_AFTER_LW}{_alternation(neg_latin_alt)}(?:{_SEP}\\w+){{0,{window - 1}}}?{_SEP}"
        if neg_latin
        else None
    )
    post = f"{_JA_STOP}{{0,{window_ja}}}?{_alternation(neg_cjk)}" if neg_cjk else None
    masks = []
    if pseudo_latin:
        masks.append(_bounded(pseudo_latin))
    if pseudo_cjk:
        masks.append(_alternation(pseudo_cjk))
    if pre and bad_latin:
        masks.append(pre + _bounded(bad_latin))
    if post and bad_cjk:
        masks.append(_alternation(bad_cjk) + post)
    pseudo = re.compile("|".join(masks)) if masks else None
    return {"pre": pre, "post": post, "pseudo": pseudo, "window": window, "window_ja": window_ja}


def load_cit_codebook(path: str | Path | Mapping[str, Any]) -> CitCodebook:
    """Read, validate and compile a CIT codebook (YAML file, or an already parsed mapping).

    Parameters
    ----------
    path
        ``data/raw/cit_codebook.yaml`` or a mapping of the same shape (tests, notebooks).

    Returns
    -------
    CitCodebook
        Frozen; ``.attributes`` lists attribute, benefit and labels; the regexes are compiled
        once here so that coding 60,000 incidents takes seconds.

    Raises
    ------
    CodebookError
        File missing or not YAML; duplicate key (benefit, attribute, language ...); unknown key;
        attribute without a declared benefit; missing label; a ``problem`` that is not a
        non-empty text; pattern that does not compile or matches the empty text (attribute,
        language and pattern named); unquoted YAML booleans.

    Notes
    -----
    Format: see the module docstring and docs/cit.md. A file is compiled once per process and
    version: the result is cached by path, modification time and size (the codebook is frozen),
    so a report kernel forked from a warm process does not compile ~500 regexes again.
    """
    if isinstance(path, Mapping):
        return _load_cit_codebook(path)
    try:
        stat = Path(path).stat()
    except OSError:
        return _load_cit_codebook(path)  # the loader raises the proper error
    return _cached_codebook(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _cached_codebook(path: str, mtime_ns: int, size: int) -> CitCodebook:
    return _load_cit_codebook(path)


def _load_cit_codebook(path: str | Path | Mapping[str, Any]) -> CitCodebook:
    where, raw = _read_yaml(path)
    raw = _check_keys(where, "the codebook", raw, _TOP_KEYS)
    benefits_raw = _check_keys(
        where, "benefits", raw.get("benefits"), set(raw.get("benefits") or {})
    )
    attributes_raw = _check_keys(
        where, "attributes", raw.get("attributes"), set(raw.get("attributes") or {})
    )
    if not benefits_raw or not attributes_raw:
        raise _fail(where, "expected non-empty 'benefits' and 'attributes' mappings")
    benefits = _benefit_table(where, benefits_raw)
    benefit_label = dict(zip(benefits["benefit"], benefits["label"], strict=True))
    negation_spec = _check_keys(where, "negation", raw.get("negation") or {}, _NEGATION_KEYS)
    negation = _negation_regexes(where, negation_spec)
    attributes, patterns, regexes = _compile_attributes(
        where, attributes_raw, benefit_label, negation
    )
    return CitCodebook(
        path=where,
        benefits=benefits,
        attributes=attributes,
        patterns=patterns,
        hit_regex=MappingProxyType(regexes["hit"]),
        pre_negation_regex=MappingProxyType(regexes["pre"]),
        post_negation_regex=MappingProxyType(regexes["post"]),
        pseudo_negation_regex=negation["pseudo"],
        window=negation["window"],
        window_ja=negation["window_ja"],
    )


def _read_yaml(path: str | Path | Mapping[str, Any]) -> tuple[str, object]:
    """Return where the codebook comes from (for messages) and its parsed content."""
    if isinstance(path, Mapping):
        return "<dict>", dict(path)
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise _fail(where, f"cannot read the CIT codebook ({exc.strerror})") from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except _DuplicateKey as dup:
        raise _fail(
            where,
            f"duplicate entry {dup.key!r} (lines {dup.first} and {dup.second}); each "
            "benefit, attribute and language may appear once",
        ) from None
    except yaml.YAMLError as exc:
        raise _fail(where, f"not valid YAML: {exc}") from None
    return where, raw


def _benefit_table(where: str, benefits_raw: dict) -> pd.DataFrame:
    """Validate the benefits; return ``benefit, label, description`` in file order."""
    benefit_rows = []
    for benefit, spec in benefits_raw.items():
        entry = f"benefit {benefit!r}"
        spec = _check_keys(where, entry, spec, _BENEFIT_KEYS)
        if not isinstance(spec.get("label"), str) or not spec["label"].strip():
            raise _fail(where, f"{entry} needs a label")
        benefit_rows.append((str(benefit), spec["label"], str(spec.get("description") or "")))
    return pd.DataFrame(benefit_rows, columns=["benefit", "label", "description"])


def _check_attribute(
    where: str, attribute: object, spec: object, benefit_label: dict[str, str]
) -> tuple[tuple, list[tuple[str, str]]]:
    """Validate one attribute entry; return its row of ``attributes`` and its patterns."""
    entry = f"attribute {attribute!r}"
    spec = _check_keys(where, entry, spec, _ATTRIBUTE_KEYS)
    benefit = spec.get("benefit")
    if benefit is None:
        raise _fail(where, f"{entry} has no benefit; add 'benefit: <one of {list(benefit_label)}>'")
    if benefit not in benefit_label:
        raise _fail(
            where,
            f"{entry} names benefit {benefit!r}, which is not declared under 'benefits' "
            f"(declared: {', '.join(benefit_label)})",
        )
    if not isinstance(spec.get("label"), str) or not spec["label"].strip():
        raise _fail(where, f"{entry} needs a label")
    problem = _problem(where, entry, spec)
    examples = _string_list(where, f"{entry}.examples", spec.get("examples"))
    pairs = _by_language(where, f"{entry}.patterns", spec.get("patterns"))
    row = (
        str(attribute),
        benefit,
        spec["label"],
        benefit_label[benefit],
        problem,
        str(spec.get("description") or ""),
        tuple(examples),
        len(pairs),
    )
    return row, pairs


def _problem(where: str, entry: str, spec: dict) -> str:
    """The attribute's ``problem`` (checked), or :func:`default_problem` of its label."""
    if "problem" not in spec:
        return default_problem(spec["label"])
    problem = spec["problem"]
    if isinstance(problem, bool):
        raise _fail(
            where,
            f"{entry}.problem is {problem!r}: YAML reads unquoted no/yes/on/off/true/false as "
            'booleans; quote it ("no stock")',
        )
    if not isinstance(problem, str) or not problem.strip():
        raise _fail(
            where,
            f"{entry}.problem must be a non-empty text saying what went wrong (e.g. 'late "
            f"deliveries'), found {problem!r}; leave it out for 'problems with <label>'",
        )
    return " ".join(problem.split())


def _attribute_regexes(
    latin: list[str], cjk: list[str], negation: dict[str, Any]
) -> tuple[re.Pattern[str], re.Pattern[str] | None, re.Pattern[str] | None]:
    """Compile one attribute's hit regex and its two negation regexes (before, after)."""
    parts = ([_bounded(latin)] if latin else []) + ([_alternation(cjk)] if cjk else [])
    # An attribute without patterns is coded by hand only; its regex never matches.
    hit_source = "|".join(parts) if parts else r"(?!x)x"
    hit = re.compile(f"(?P<hit>{hit_source})")
    pre = re.compile(negation["pre"] + _bounded(latin)) if latin and negation["pre"] else None
    post = re.compile(_alternation(cjk) + negation["post"]) if cjk and negation["post"] else None
    return hit, pre, post


def _compile_attributes(
    where: str, attributes_raw: dict, benefit_label: dict[str, str], negation: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, Any]]]:
    """Validate and compile every attribute: ``attributes``, ``patterns`` and the regexes."""
    attr_rows, pattern_rows = [], []
    regexes: dict[str, dict[str, Any]] = {"hit": {}, "pre": {}, "post": {}}
    for attribute, spec in attributes_raw.items():
        row, pairs = _check_attribute(where, attribute, spec, benefit_label)
        latin, cjk = [], []
        for lang, pattern in pairs:
            source, is_cjk = _compile(where, f"attribute {attribute!r}", lang, pattern)
            (cjk if is_cjk else latin).append(source)
            pattern_rows.append(
                (str(attribute), lang, pattern, source, "cjk" if is_cjk else "latin")
            )
        name = str(attribute)
        regexes["hit"][name], regexes["pre"][name], regexes["post"][name] = _attribute_regexes(
            latin, cjk, negation
        )
        attr_rows.append(row)
    attributes = pd.DataFrame(
        attr_rows,
        columns=[
            "attribute",
            "benefit",
            "label",
            "benefit_label",
            "problem",
            "description",
            "examples",
            "n_patterns",
        ],
    )
    patterns = pd.DataFrame(
        pattern_rows, columns=["attribute", "language", "pattern", "regex", "script"]
    )
    return attributes, patterns, regexes
