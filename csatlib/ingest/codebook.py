"""Survey codebooks: which export column becomes which canonical column, with which role and scale.

A codebook is a YAML file next to its export (``relationship_survey.codebook.yaml`` for
``relationship_survey.csv``); ``docs/codebook.md`` is the full reference and ``docs/data_model.md``
lists the roles. :func:`load_codebook` validates everything it can without the export (syntax,
unknown keys, roles, scales, references between columns); :meth:`Codebook.validate_against` checks
the codebook against a read export (every source column present).

The YAML is read with YAML 1.2 scalars: only ``true``/``false`` are booleans (``yes``, ``no``,
``NO``, ``on`` stay strings, so a Norway code or a "no" answer label is not turned into False),
and dates stay strings. A key given twice in one mapping is an error (YAML would silently keep the
last), which is how a duplicate canonical name is caught.
"""

from __future__ import annotations

import codecs
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, get_args

import yaml

from csatlib.errors import CodebookError

if TYPE_CHECKING:
    from csatlib.ingest.io import RawExport

__all__ = [
    "Role",
    "ROLES",
    "SCALE_ROLES",
    "TEXT_ROLES",
    "ValueType",
    "ColumnSpec",
    "WaveSpec",
    "Codebook",
    "load_codebook",
    "parse_codebook",
    "RESERVED_NAMES",
    "FIXED_NAMES",
    "NPS_SCALE",
    "ORGANISATION_ROLES",
    "read_yaml",
]

Role = Literal[
    "id",
    "country",
    "wave",
    "date",
    "account",
    "segment",
    "business_unit",
    "function",
    "business_process",
    "product",
    "brand",
    "weight",
    "duration",
    "nps",
    "overall",
    "attribute",
    "importance",
    "loyalty",
    "expectation",
    "text_like",
    "text_dislike",
    "complaint",
    "contact_ok",
    "contact",
    "region",
    "comment",
    "ticket_closed",
    "survey_sent",
    "other",
]
ROLES: tuple[str, ...] = get_args(Role)
#: Numeric, range-checked roles (Int64 in the processed table).
SCALE_ROLES: frozenset[str] = frozenset(
    {"nps", "overall", "attribute", "importance", "loyalty", "expectation"}
)
#: Free-text roles: trimmed and NFC-normalized, never copied into the cleaning log.
TEXT_ROLES: frozenset[str] = frozenset({"text_like", "text_dislike", "complaint", "comment"})
#: Organisation dimensions a row can carry (category columns, like ``segment``): the business
#: unit, function and business process a response or ticket is about, and its product. The
#: organisation mapping (:mod:`csatlib.ingest.organisation`) links accounts, products and
#: attributes to them when the exports do not carry them.
ORGANISATION_ROLES: frozenset[str] = frozenset(
    {"business_unit", "function", "business_process", "product"}
)
#: Roles of which a codebook may have at most one column: a response or ticket is about one
#: business unit, function, business process and product (a question listing several products
#: is several ``other`` columns).
_SINGLE_ROLES: frozenset[str] = frozenset(
    {"id", "country", "wave", "brand", "duration", "weight", "contact_ok", "segment", "region"}
    | {"ticket_closed", "survey_sent"}  # when the ticket was closed, when its survey was sent
    | ORGANISATION_ROLES
)
#: Roles whose column has a fixed canonical name: the reports are cut and compared by them.
FIXED_NAMES: dict[str, str] = {"country": "country", "wave": "wave"}
ValueType = Literal["int", "float", "string", "category", "bool", "date"]
_TYPES: tuple[str, ...] = get_args(ValueType)
#: Columns added by cleaning; a codebook may not use these names for its own columns.
RESERVED_NAMES: frozenset[str] = frozenset(
    {"source", "source_row", "competitor", "flag_speeder", "flag_straightliner", "month"}
)
#: The recommend question's scale: 0-10 by the definition of the Net Promoter Score (Reichheld
#: 2003). An ``nps`` column without ``scale`` gets it; any other scale is refused.
NPS_SCALE: tuple[int, int] = (0, 10)
_TOP_KEYS = frozenset(
    {
        "kind",
        "file",
        "survey",
        "study",
        "format",
        "encoding",
        "sheet",
        "delimiter",
        "own_brand",
        "missing_codes",
        "waves",
        "columns",
        "description",
    }
)
_COLUMN_KEYS = frozenset(
    {
        "source",
        "role",
        "label",
        "scale",
        "missing",
        "reverse",
        "attribute",
        "dimension",
        "type",
        "true_values",
        "false_values",
        "format",
        "description",
    }
)
_WAVE_KEYS = frozenset({"from", "fiscal_year_start"})
_FORMATS = ("csv", "qualtrics", "surveymonkey", "xlsx", "sav")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KIND_FROM_SURVEY = {"relationship": "responses", "transaction": "transactions"}

Code = int | float | str


@dataclass(frozen=True)
class ColumnSpec:
    """One codebook entry: a canonical column and where and how to take it from the export."""

    name: str
    source: str
    role: Role
    label: str
    scale: tuple[int, int] | None = None
    missing: tuple[Code, ...] | None = None
    reverse: bool = False
    attribute: str | None = None
    dimension: str | None = None
    type: ValueType | None = None
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()
    format: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class WaveSpec:
    """How waves are derived: from which date column, and the fiscal year's first month."""

    source: str
    fiscal_year_start: int = 1


@dataclass(frozen=True)
class Codebook:
    """A validated codebook. Build it with :func:`load_codebook` (file) or :func:`parse_codebook`.

    Attributes
    ----------
    columns : Mapping[str, ColumnSpec]
        Canonical name -> spec, in codebook order.
    kind : str
        Processed table this export feeds (``responses``, ``transactions``, ``revenue``).
    file : str or None
        Export file name, relative to the codebook's folder.
    missing_codes : tuple
        Default don't-know codes of every scale column (a column's own ``missing`` replaces them).
    waves : WaveSpec or None
        Wave derivation; None when the codebook has neither a date nor a wave column.
    study : str or None
        Name of the study the export belongs to: exports of one kind whose codebooks declare
        different columns are combined only when they declare the same ``study``.
    """

    columns: Mapping[str, ColumnSpec]
    kind: str
    path: Path | None = None
    file: str | None = None
    survey: str | None = None
    study: str | None = None
    format: str | None = None
    encoding: str | None = None
    sheet: str | int | None = None
    delimiter: str | None = None
    own_brand: str | None = None
    missing_codes: tuple[Code, ...] = ()
    waves: WaveSpec | None = None
    description: str | None = None
    _lines: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)

    # -- questions a notebook asks -------------------------------------------------------------
    def names(self, role: Role | None = None) -> list[str]:
        """Canonical names, in codebook order, of every column or of those with ``role``."""
        if role is not None and role not in ROLES:
            raise CodebookError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        return [n for n, spec in self.columns.items() if role is None or spec.role == role]

    def column(self, name: str) -> ColumnSpec:
        """The spec of a canonical column; CodebookError naming the known columns if absent."""
        try:
            return self.columns[name]
        except KeyError:
            raise CodebookError(
                f"{self._where()}no column {name!r}; columns: {', '.join(self.columns)}"
            ) from None

    def label(self, name: str) -> str:
        """Human label of a canonical column (the name itself for derived columns)."""
        if name not in self.columns and name in RESERVED_NAMES | {"wave"}:
            return name.replace("_", " ").capitalize()
        return self.column(name).label

    def scale(self, name: str) -> tuple[int, int]:
        """(min, max) of a scale column; CodebookError if the column has no scale."""
        spec = self.column(name)
        if spec.scale is None:
            raise CodebookError(f"{self._where()}column {name!r} (role {spec.role}) has no scale")
        return spec.scale

    def missing_for(self, name: str) -> tuple[Code, ...]:
        """Missing codes of a column: its own ``missing`` if given, else ``missing_codes``."""
        spec = self.column(name)
        return spec.missing if spec.missing is not None else self.missing_codes

    @property
    def roles(self) -> dict[str, str]:
        """Canonical name -> role."""
        return {n: spec.role for n, spec in self.columns.items()}

    @property
    def labels(self) -> dict[str, str]:
        """Canonical name -> label."""
        return {n: spec.label for n, spec in self.columns.items()}

    @property
    def scales(self) -> dict[str, list[int]]:
        """Canonical name -> [min, max] for every scale column."""
        return {n: list(s.scale) for n, s in self.columns.items() if s.scale is not None}

    @property
    def schema(self) -> dict[str, tuple[str, tuple[int, int] | None]]:
        """Canonical name -> (role, scale): what two exports must share to be one questionnaire."""
        return {n: (s.role, s.scale) for n, s in self.columns.items()}

    # -- checks against an export ---------------------------------------------------------------
    def validate_against(self, export: RawExport) -> None:
        """Check that every source column of the codebook exists in ``export``.

        Raises
        ------
        CodebookError
            Naming every missing entry (canonical name, its source, the codebook line), the export
            file, and the closest column names the export does have.
        """
        present = [str(c) for c in export.frame.columns]
        present_set = set(present)
        problems = []
        for name, spec in self.columns.items():
            if spec.source in present_set:
                continue
            close = difflib.get_close_matches(spec.source, present, n=2, cutoff=0.6)
            hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
            line = f" (codebook line {self._lines[name]})" if name in self._lines else ""
            problems.append(f"column {name!r}{line}: source {spec.source!r} not found{hint}")
        if problems:
            shown = ", ".join(map(repr, present[:40])) + (" ..." if len(present) > 40 else "")
            raise CodebookError(
                f"{self._where()}{len(problems)} source column(s) missing from export "
                f"{export.name!r}: " + "; ".join(problems) + f". The export's columns: {shown}"
            )

    def _where(self) -> str:
        return f"codebook {self.path.name!r}: " if self.path is not None else "codebook: "


# --------------------------------------------------------------------------------------------------
# YAML 1.2-ish loading with duplicate-key detection and line numbers


class _Mapping(dict):
    """A dict that remembers the line (1-based) of each key."""

    lines: dict[Any, int]


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first: int) -> None:
        super().__init__(key, line, first)
        self.key, self.line, self.first = key, line, first


# libyaml's parser when PyYAML was built with it (ten times faster), the same safe constructors
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    loader.flatten_mapping(node)
    result = _Mapping()
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if key in result:
            raise _DuplicateKey(key, line, result.lines[key])
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook YAML file.

    Parameters
    ----------
    path : str or Path
        The ``*.codebook.yaml`` file.

    Returns
    -------
    Codebook

    Raises
    ------
    CodebookError
        The file is missing or not valid YAML (line and column of the YAML error), a key appears
        twice (duplicate canonical name), or :func:`parse_codebook` rejects the content.
    """
    path = Path(path)
    content = read_yaml(
        path, what="codebook", unique="canonical column names and keys must be unique"
    )
    return parse_codebook(content, path=path)


def read_yaml(
    path: str | Path,
    *,
    what: str,
    unique: str = "keys must be unique",
    error: type[CodebookError] = CodebookError,
) -> Any:
    """Read a hand-maintained YAML file with YAML 1.2 scalars, refusing duplicate keys.

    Every mapping in the result remembers the line of each key (``mapping.lines[key]``, 1-based)
    so that validation messages can name the line.

    Parameters
    ----------
    path : str or Path
        The file (UTF-8, a BOM allowed).
    what : str
        What the file is, for messages (``"codebook"``, ``"organisation file"``).
    unique : str, default "keys must be unique"
        The end of the message about a key given twice.
    error : type of CodebookError, default CodebookError
        The exception raised.

    Returns
    -------
    Any
        The parsed content (mappings are dicts with a ``lines`` attribute).

    Raises
    ------
    CodebookError (or ``error``)
        The file is missing, not UTF-8, not valid YAML (line and column of the YAML error), or a
        key appears twice in one mapping (both lines named).
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} {str(path)!r} not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise error(
            f"{what} {path.name!r}: not UTF-8 (byte offset {err.start}); save it as UTF-8"
        ) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except _DuplicateKey as dup:
        raise error(
            f"{what} {path.name!r}, line {dup.line}: key {dup.key!r} appears twice (first on "
            f"line {dup.first}); {unique}"
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        context = getattr(err, "context", None)
        detail = f"{problem} ({context})" if context else problem
        raise error(f"{what} {path.name!r}{where}: not valid YAML: {detail}") from None


def parse_codebook(content: Any, *, path: str | Path | None = None) -> Codebook:
    """Validate a codebook given as a mapping (as loaded from YAML) and build a :class:`Codebook`.

    Parameters
    ----------
    content : Mapping
        Top-level keys: ``columns`` (required), ``kind``, ``file``, ``survey``, ``study``,
        ``format``,
        ``encoding``, ``sheet``, ``delimiter``, ``own_brand``, ``missing_codes``, ``waves``,
        ``description``. See ``docs/codebook.md``.
    path : str or Path, optional
        Where the codebook came from (for messages).

    Returns
    -------
    Codebook

    Raises
    ------
    CodebookError
        Unknown key, unknown role, missing source/role, scale min >= max, scale on a non-scale
        role, importance/expectation without an existing attribute, duplicate source, more than
        one column of a single-valued role, reserved names, bad ``waves``.
    """
    path = Path(path) if path is not None else None
    ctx = _Context(path, content)
    if not isinstance(content, Mapping):
        raise CodebookError(
            f"{ctx.where()}expected a mapping with a 'columns' key at the top level, found "
            f"{type(content).__name__}"
        )
    ctx.unknown_keys(content, _TOP_KEYS, "top level")
    survey = ctx.optional_str(content, "survey")
    kind = ctx.optional_str(content, "kind") or _KIND_FROM_SURVEY.get(survey or "")
    if kind is None:
        raise CodebookError(
            f"{ctx.where()}'kind' is missing (responses, transactions, revenue ...): it names the "
            "processed table this export feeds"
        )
    if not re.fullmatch(r"[a-z][a-z0-9_]*", kind):
        raise CodebookError(
            f"{ctx.where('kind', content)}kind {kind!r} must be a lowercase name such as "
            "'responses' (it becomes the file name <kind>.parquet)"
        )
    fmt = ctx.optional_str(content, "format")
    if fmt is not None and fmt not in _FORMATS:
        raise CodebookError(
            f"{ctx.where('format', content)}format {fmt!r} unknown; expected one of "
            f"{', '.join(_FORMATS)}"
        )
    encoding = ctx.optional_str(content, "encoding")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CodebookError(
                f"{ctx.where('encoding', content)}encoding {encoding!r} unknown; expected e.g. "
                "utf-8, utf-8-sig, cp1252, latin-1"
            ) from None
    sheet = content.get("sheet")
    if sheet is not None and not isinstance(sheet, str | int):
        raise CodebookError(f"{ctx.where('sheet', content)}sheet must be a name or a position")
    delimiter = ctx.optional_str(content, "delimiter")
    if delimiter is not None and len(delimiter) != 1:
        raise CodebookError(
            f"{ctx.where('delimiter', content)}delimiter must be one character, found {delimiter!r}"
        )
    missing_codes = ctx.codes(content, "missing_codes", "top level")
    raw_columns = content.get("columns")
    if not isinstance(raw_columns, Mapping) or not raw_columns:
        raise CodebookError(
            f"{ctx.where('columns', content)}'columns' must be a non-empty mapping of canonical "
            "name -> {source, role, ...}"
        )
    columns = {
        name: _parse_column(ctx, name, spec, raw_columns) for name, spec in raw_columns.items()
    }
    _check_columns(ctx, columns, raw_columns)
    waves = _parse_waves(ctx, content, columns)
    own_brand = ctx.optional_str(content, "own_brand")
    if own_brand is None and any(s.role == "brand" for s in columns.values()):
        raise CodebookError(
            f"{ctx.where()}a brand column is present but 'own_brand' is not set; it is needed to "
            "tell own customers from competitors' customers"
        )
    file = ctx.optional_str(content, "file")
    lines = getattr(raw_columns, "lines", {})
    return Codebook(
        columns=MappingProxyType(columns),
        kind=kind,
        path=path,
        file=file,
        survey=survey,
        study=ctx.optional_str(content, "study", allow_number=True),
        format=fmt,
        encoding=encoding,
        sheet=sheet,
        delimiter=delimiter,
        own_brand=own_brand,
        missing_codes=missing_codes,
        waves=waves,
        description=ctx.optional_str(content, "description"),
        _lines=MappingProxyType(dict(lines)),
    )


class _Context:
    """Builds 'codebook X, line N, column Y: ' prefixes."""

    def __init__(self, path: Path | None, content: Any) -> None:
        self.path = path

    def where(self, key: Any = None, mapping: Any = None, column: str | None = None) -> str:
        name = f"codebook {self.path.name!r}" if self.path is not None else "codebook"
        line = getattr(mapping, "lines", {}).get(key) if key is not None else None
        parts = [name]
        if line is not None:
            parts.append(f"line {line}")
        if column is not None:
            parts.append(f"column {column!r}")
        return ", ".join(parts) + ": "

    def unknown_keys(
        self, mapping: Mapping, allowed: frozenset[str], what: str, column: str | None = None
    ) -> None:
        for key in mapping:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise CodebookError(
                    f"{self.where(key, mapping, column)}unknown key {key!r} at {what}{hint}; "
                    f"allowed: {', '.join(sorted(allowed))}"
                )

    def optional_str(
        self, mapping: Mapping, key: str, column: str | None = None, *, allow_number: bool = False
    ) -> str | None:
        value = mapping.get(key)
        if value is None:
            return None
        if allow_number and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            raise CodebookError(
                f"{self.where(key, mapping, column)}{key!r} must be a non-empty text, found "
                f"{value!r}"
            )
        return value.strip()

    def codes(self, mapping: Mapping, key: str, what: str, column: str | None = None) -> tuple:
        value = mapping.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            value = [value]
        for code in value:
            if isinstance(code, bool) or not isinstance(code, int | float | str):
                raise CodebookError(
                    f"{self.where(key, mapping, column)}{key!r} at {what} must list numbers or "
                    f"texts, found {code!r}"
                )
        return tuple(value)

    def text_list(self, mapping: Mapping, key: str, column: str) -> tuple[str, ...]:
        value = mapping.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            value = [value]
        out = []
        for item in value:
            if isinstance(item, bool):
                item = "true" if item else "false"
            if not isinstance(item, str | int | float):
                raise CodebookError(
                    f"{self.where(key, mapping, column)}{key!r} must list texts, found {item!r}"
                )
            out.append(str(item).strip())
        return tuple(out)


def _parse_column(ctx: _Context, name: Any, spec: Any, parent: Mapping) -> ColumnSpec:
    _check_column_name(ctx, name, spec, parent)
    ctx.unknown_keys(spec, _COLUMN_KEYS, f"column {name!r}", name)
    source = ctx.optional_str(spec, "source", name, allow_number=True)
    if source is None:
        raise CodebookError(f"{ctx.where(name, parent, name)}'source' (the export column) missing")
    role = _parse_role(ctx, name, spec, parent)
    label = ctx.optional_str(spec, "label", name, allow_number=True)
    scale = _parse_scale(ctx, name, role, spec)
    missing = ctx.codes(spec, "missing", f"column {name!r}", name) if "missing" in spec else None
    reverse = spec.get("reverse", False)
    if not isinstance(reverse, bool):
        raise CodebookError(
            f"{ctx.where('reverse', spec, name)}reverse must be true or false, found {reverse!r}"
        )
    if reverse and role not in SCALE_ROLES:
        raise CodebookError(
            f"{ctx.where('reverse', spec, name)}reverse applies to scale roles only "
            f"({', '.join(sorted(SCALE_ROLES))}), not {role!r}"
        )
    attribute, dimension = _parse_links(ctx, name, role, spec, parent)
    vtype = _parse_type(ctx, name, role, spec)
    true_values, false_values = _parse_bool_values(ctx, name, role, vtype, spec)
    return ColumnSpec(
        name=name,
        source=source,
        role=role,
        label=label if label is not None else name.replace("_", " ").capitalize(),
        scale=scale,
        missing=missing,
        reverse=reverse,
        attribute=attribute,
        dimension=dimension,
        type=vtype,  # type: ignore[arg-type]
        true_values=true_values,
        false_values=false_values,
        format=_parse_date_format(ctx, name, role, vtype, spec),
        description=ctx.optional_str(spec, "description", name),
    )


def _check_column_name(ctx: _Context, name: Any, spec: Any, parent: Mapping) -> None:
    """A column's canonical name is an identifier cleaning does not add; its spec a mapping."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise CodebookError(
            f"{ctx.where(name, parent)}canonical name {name!r} must be a Python-style identifier "
            "(letters, digits, underscores), e.g. product_quality"
        )
    if name in RESERVED_NAMES:
        raise CodebookError(
            f"{ctx.where(name, parent, name)}{name!r} is added by cleaning and cannot be a "
            "codebook column; rename it"
        )
    if not isinstance(spec, Mapping):
        raise CodebookError(
            f"{ctx.where(name, parent, name)}expected a mapping {{source: ..., role: ...}}, found "
            f"{spec!r}"
        )


def _parse_role(ctx: _Context, name: str, spec: Mapping, parent: Mapping) -> str:
    role = spec.get("role")
    if role is None:
        raise CodebookError(f"{ctx.where(name, parent, name)}'role' missing")
    if role not in ROLES:
        close = difflib.get_close_matches(str(role), ROLES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CodebookError(
            f"{ctx.where('role', spec, name)}unknown role {role!r}{hint}; expected one of "
            f"{', '.join(ROLES)}"
        )
    return role


def _parse_links(
    ctx: _Context, name: str, role: str, spec: Mapping, parent: Mapping
) -> tuple[str | None, str | None]:
    """``attribute`` (importance and expectation columns, required) and ``dimension`` (loyalty)."""
    attribute = ctx.optional_str(spec, "attribute", name)
    if attribute is not None and role not in ("importance", "expectation"):
        raise CodebookError(
            f"{ctx.where('attribute', spec, name)}'attribute' applies to importance and "
            f"expectation columns only, not role {role!r}"
        )
    if attribute is None and role in ("importance", "expectation"):
        raise CodebookError(
            f"{ctx.where(name, parent, name)}role {role!r} needs 'attribute: <attribute column>'"
        )
    dimension = ctx.optional_str(spec, "dimension", name)
    if dimension is not None and role != "loyalty":
        raise CodebookError(
            f"{ctx.where('dimension', spec, name)}'dimension' applies to loyalty columns only"
        )
    return attribute, dimension


def _parse_type(ctx: _Context, name: str, role: str, spec: Mapping) -> str | None:
    """``type``: one of ``_TYPES``, for role ``other`` only (other roles have their own)."""
    vtype = ctx.optional_str(spec, "type", name)
    if vtype is not None:
        if vtype not in _TYPES:
            raise CodebookError(
                f"{ctx.where('type', spec, name)}type {vtype!r} unknown; expected one of "
                f"{', '.join(_TYPES)}"
            )
        if role != "other":
            raise CodebookError(
                f"{ctx.where('type', spec, name)}'type' applies to role 'other' only; role "
                f"{role!r} has its own type"
            )
    return vtype


def _parse_bool_values(
    ctx: _Context, name: str, role: str, vtype: str | None, spec: Mapping
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``true_values`` and ``false_values`` of a yes/no column, disjoint (ignoring case)."""
    true_values = ctx.text_list(spec, "true_values", name)
    false_values = ctx.text_list(spec, "false_values", name)
    if (true_values or false_values) and not (role == "contact_ok" or vtype == "bool"):
        raise CodebookError(
            f"{ctx.where('true_values', spec, name)}true_values/false_values apply to contact_ok "
            "columns and type: bool only"
        )
    overlap = {v.casefold() for v in true_values} & {v.casefold() for v in false_values}
    if overlap:
        raise CodebookError(
            f"{ctx.where('true_values', spec, name)}{sorted(overlap)} listed as both true and false"
        )
    return true_values, false_values


def _parse_date_format(
    ctx: _Context, name: str, role: str, vtype: str | None, spec: Mapping
) -> str | None:
    """``format``: a strftime pattern, for date columns only."""
    date_format = ctx.optional_str(spec, "format", name)
    if date_format is not None:
        if not (role == "date" or vtype == "date"):
            raise CodebookError(
                f"{ctx.where('format', spec, name)}'format' applies to date columns only"
            )
        if "%" not in date_format:
            raise CodebookError(
                f"{ctx.where('format', spec, name)}date format {date_format!r} is not a strftime "
                "pattern such as '%d/%m/%Y %H:%M'"
            )
    return date_format


def _parse_scale(ctx: _Context, name: str, role: str, spec: Mapping) -> tuple[int, int] | None:
    scale = spec.get("scale")
    if scale is None:
        if role == "nps":
            return NPS_SCALE
        if role in SCALE_ROLES:
            raise CodebookError(
                f"{ctx.where(name, spec, name)}role {role!r} needs 'scale: [min, max]'"
            )
        return None
    if role not in SCALE_ROLES:
        raise CodebookError(
            f"{ctx.where('scale', spec, name)}'scale' applies to scale roles only "
            f"({', '.join(sorted(SCALE_ROLES))}), not {role!r}"
        )
    if (
        not isinstance(scale, list)
        or len(scale) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in scale)
    ):
        raise CodebookError(
            f"{ctx.where('scale', spec, name)}scale must be [min, max] with two whole numbers, "
            f"found {scale!r}"
        )
    low, high = scale
    if low >= high:
        raise CodebookError(
            f"{ctx.where('scale', spec, name)}scale min {low} must be below max {high}"
        )
    if role == "nps" and (low, high) != NPS_SCALE:
        where = ctx.where("scale", spec).removesuffix(": ")
        raise CodebookError(
            f"{where}, column {name!r} (role nps): the recommend question is 0-10 by definition "
            f"of the Net Promoter Score; codebook says {scale}. Remove the scale (it defaults to "
            "[0, 10]), or give a question on another scale another role (overall, attribute)"
        )
    return (low, high)


def _check_columns(ctx: _Context, columns: dict[str, ColumnSpec], raw: Mapping) -> None:
    by_source: dict[str, str] = {}
    for name, spec in columns.items():
        if spec.source in by_source:
            raise CodebookError(
                f"{ctx.where(name, raw, name)}source {spec.source!r} is already used by column "
                f"{by_source[spec.source]!r}; each export column maps to one canonical column"
            )
        by_source[spec.source] = name
        if spec.attribute is not None:
            target = columns.get(spec.attribute)
            if target is None or target.role != "attribute":
                found = "does not exist" if target is None else f"has role {target.role!r}"
                attributes = [n for n, s in columns.items() if s.role == "attribute"]
                raise CodebookError(
                    f"{ctx.where(name, raw, name)}attribute {spec.attribute!r} {found}; expected "
                    f"one of the attribute columns: {', '.join(attributes) or '(none)'}"
                )
    for role in sorted(_SINGLE_ROLES):
        names = [n for n, s in columns.items() if s.role == role]
        if len(names) > 1:
            raise CodebookError(
                f"{ctx.where(names[1], raw, names[1])}role {role!r} may appear once; columns "
                f"{', '.join(map(repr, names))} all have it"
            )
    for role, fixed in FIXED_NAMES.items():
        names = [n for n, s in columns.items() if s.role == role]
        if names and names[0] != fixed:
            source = columns[names[0]].source
            raise CodebookError(
                f"{ctx.where(names[0], raw, names[0])}the column with role {role!r} must be "
                f"named {fixed!r}, found {names[0]!r}: every report, list and slice finds it by "
                f"that name. Write `{fixed}: {{source: {source}, role: {role}}}` (the export's "
                f"column keeps its name {source!r}; give it a label to show another word)"
            )


def _parse_waves(
    ctx: _Context, content: Mapping, columns: dict[str, ColumnSpec]
) -> WaveSpec | None:
    raw = content.get("waves")
    dates = [n for n, s in columns.items() if s.role == "date"]
    has_wave_column = any(s.role == "wave" for s in columns.values())
    if raw is None:
        if has_wave_column or not dates:
            return None
        source = "date" if "date" in dates else dates[0]
        return WaveSpec(source=source)
    if not isinstance(raw, Mapping):
        raise CodebookError(
            f"{ctx.where('waves', content)}waves must be a mapping such as "
            "{from: date, fiscal_year_start: 1}"
        )
    ctx.unknown_keys(raw, _WAVE_KEYS, "waves")
    if has_wave_column:
        raise CodebookError(
            f"{ctx.where('waves', content)}the codebook has a column with role 'wave' and a "
            "'waves' rule; keep one"
        )
    source = raw.get("from", "date" if "date" in dates else (dates[0] if dates else None))
    if source not in dates:
        raise CodebookError(
            f"{ctx.where('from', raw)}waves.from {source!r} must name a column with role 'date'; "
            f"date columns: {', '.join(dates) or '(none)'}"
        )
    start = raw.get("fiscal_year_start", 1)
    if isinstance(start, bool) or not isinstance(start, int) or not 1 <= start <= 12:
        raise CodebookError(
            f"{ctx.where('fiscal_year_start', raw)}fiscal_year_start must be a month 1-12, "
            f"found {start!r}"
        )
    return WaveSpec(source=source, fiscal_year_start=start)
