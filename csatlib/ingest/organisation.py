"""The organisation mapping: which business unit owns each account, which function each product and
which business process each rated attribute, and who is responsible for them.

``organisation.yaml`` sits in the raw folder beside the codebooks (``docs/organisation.md`` is the
reference). :func:`load_organisation` validates it as a codebook is validated (unknown keys,
duplicates, undeclared codes, attributes the survey does not rate: errors naming file, line and
key). ``csat data`` (:func:`~csatlib.ingest.clean.build_processed`) writes it as the processed
tables of :data:`ORGANISATION_TABLES`, checks it against the data (:func:`check_organisation`:
warnings in the cleaning log) and gives every table with a product column a ``function`` column
(:func:`with_functions`). :func:`read_organisation` reads it back from the processed folder.

An account may belong to several business units, so a response cannot carry one unit in a column
(and is never duplicated in ``responses.parquet``): :func:`unit_membership` is the long table,
one row per response (or ticket) and unit, from which a business unit's slice is built.

Account names are matched after :func:`account_key` (the trimming and Unicode NFC that cleaning
applies to text, then case and repeated spaces ignored), with the study's alias file applied
first. The account lists match spellings more loosely (legal forms, transliteration:
``csatlib.loop.accounts.normalize_account_name``); pass that function as ``key=`` to
:func:`unit_membership` to count respondents the way they do (ingest does not import loop).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from csatlib import roles
from csatlib.errors import CodebookError, DataError, ExportError, require_columns
from csatlib.ingest.codebook import read_yaml

__all__ = [
    "ORGANISATION_TABLES",
    "OrganisationError",
    "AccountEntry",
    "ProductEntry",
    "AttributeEntry",
    "Organisation",
    "load_organisation",
    "parse_organisation",
    "read_organisation",
    "read_aliases",
    "account_key",
    "organisation_accounts",
    "unit_membership",
    "product_column",
    "with_functions",
    "check_organisation",
    "checked_spellings",
    "ROWS_COLUMN",
]

#: The processed tables written from the mapping (``<name>.parquet``), in this order.
ORGANISATION_TABLES: tuple[str, ...] = (
    "organisation_codes",
    "organisation_accounts",
    "organisation_products",
    "organisation_attributes",
)
#: Code lists of the mapping: top-level key -> the column name of its codes.
_CODE_LISTS: Mapping[str, str] = MappingProxyType(
    {
        "business_units": "business_unit",
        "functions": "function",
        "business_processes": "business_process",
    }
)
_TOP_KEYS = frozenset({*_CODE_LISTS, "accounts", "products", "attributes", "description"})
_ACCOUNT_KEYS = frozenset({"business_units", "account_manager", "manager_email"})
_PRODUCT_KEYS = frozenset({"function", "owner", "owner_email"})
_ATTRIBUTE_KEYS = frozenset({"business_process", "owner", "owner_email"})
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Key = Callable[[pd.Series], pd.Series]


class OrganisationError(CodebookError):
    """The organisation mapping is malformed, or does not fit the study's codebooks."""


@dataclass(frozen=True)
class AccountEntry:
    """An account of the mapping: its business units (one or more) and its account manager."""

    account: str
    business_units: tuple[str, ...]
    account_manager: str
    manager_email: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class ProductEntry:
    """A product of the mapping: the function it belongs to and its owner."""

    product: str
    function: str
    owner: str
    owner_email: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class AttributeEntry:
    """A rated attribute (canonical name) of the mapping: its business process and owner."""

    attribute: str
    business_process: str
    owner: str
    owner_email: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Organisation:
    """A validated organisation mapping. Build it with :func:`load_organisation`.

    Attributes
    ----------
    business_units, functions, business_processes : Mapping[str, str]
        Code -> label, in the file's order (the order of reports and tables).
    accounts, products, attributes : tuple
        :class:`AccountEntry`, :class:`ProductEntry`, :class:`AttributeEntry`, in file order.
    path : Path or None
        The file it was read from (for messages).
    """

    business_units: Mapping[str, str]
    functions: Mapping[str, str]
    business_processes: Mapping[str, str]
    accounts: tuple[AccountEntry, ...] = ()
    products: tuple[ProductEntry, ...] = ()
    attributes: tuple[AttributeEntry, ...] = ()
    path: Path | None = None

    def accounts_table(self) -> pd.DataFrame:
        """One row per account and business unit (an account in two units has two rows).

        Columns ``account``, ``business_unit`` (code; ordered like :attr:`business_units`),
        ``account_manager``, ``manager_email`` (<NA> when not given).
        """
        rows = [
            (e.account, unit, e.account_manager, e.manager_email)
            for e in self.accounts
            for unit in e.business_units
        ]
        frame = pd.DataFrame(
            rows, columns=["account", "business_unit", "account_manager", "manager_email"]
        )
        return _typed(frame, {"business_unit": list(self.business_units)})

    def products_table(self) -> pd.DataFrame:
        """Columns ``product``, ``function`` (code), ``owner``, ``owner_email``."""
        frame = pd.DataFrame(
            [(e.product, e.function, e.owner, e.owner_email) for e in self.products],
            columns=["product", "function", "owner", "owner_email"],
        )
        return _typed(frame, {"function": list(self.functions)})

    def attributes_table(self) -> pd.DataFrame:
        """Columns ``attribute`` (canonical name), ``business_process`` (code), ``owner``,
        ``owner_email``."""
        frame = pd.DataFrame(
            [(e.attribute, e.business_process, e.owner, e.owner_email) for e in self.attributes],
            columns=["attribute", "business_process", "owner", "owner_email"],
        )
        return _typed(frame, {"business_process": list(self.business_processes)})

    def codes_table(self) -> pd.DataFrame:
        """Every declared code with its label: ``dimension`` (``business_unit``, ``function``,
        ``business_process``), ``code``, ``label``, in file order."""
        rows = [
            (dimension, code, label)
            for key, dimension in _CODE_LISTS.items()
            for code, label in getattr(self, key).items()
        ]
        return _typed(pd.DataFrame(rows, columns=["dimension", "code", "label"]), {})

    def tables(self) -> dict[str, pd.DataFrame]:
        """The processed tables (:data:`ORGANISATION_TABLES` -> frame, with ``attrs``)."""
        frames = {
            "organisation_codes": self.codes_table(),
            "organisation_accounts": self.accounts_table(),
            "organisation_products": self.products_table(),
            "organisation_attributes": self.attributes_table(),
        }
        for name, frame in frames.items():
            labels = {c: c.replace("_", " ").capitalize() for c in frame.columns}
            frame.attrs.update({"kind": name, "roles": {}, "labels": labels})
        return frames


def _typed(frame: pd.DataFrame, categories: Mapping[str, list[str]]) -> pd.DataFrame:
    out = frame.astype("string")
    for column, codes in categories.items():
        out[column] = pd.Categorical(frame[column], categories=codes)
    return out


# --------------------------------------------------------------------------------------------------
# loading and validation


def load_organisation(
    path: str | Path, *, attributes: Collection[str] | None = None
) -> Organisation:
    """Read and validate an organisation mapping (``organisation.yaml``).

    Parameters
    ----------
    path : str or Path
        The YAML file (``docs/organisation.md`` describes it).
    attributes : collection of str, optional
        The canonical names of the study's attribute columns (role ``attribute`` in its
        codebooks); an attribute of the mapping that is not one of them is an error. None skips
        the check.

    Returns
    -------
    Organisation

    Raises
    ------
    OrganisationError
        A :class:`~csatlib.errors.CodebookError`: the file is missing or not valid YAML, a key
        appears twice (also two account or product names that differ only in case or spaces),
        an unknown key, a code that is not a lowercase name, a unit, function or business
        process that is not declared, an attribute the codebooks do not rate. Each message
        names the file, the line and the key.
    """
    path = Path(path)
    content = read_yaml(
        path,
        what="organisation file",
        unique="account, product and attribute names and codes must be unique",
        error=OrganisationError,
    )
    return parse_organisation(content, path=path, attributes=attributes)


def parse_organisation(
    content: Any,
    *,
    path: str | Path | None = None,
    attributes: Collection[str] | None = None,
) -> Organisation:
    """Validate a mapping given as loaded from YAML; see :func:`load_organisation`."""
    ctx = _Where(Path(path) if path is not None else None)
    if not isinstance(content, Mapping):
        raise OrganisationError(
            f"{ctx()}expected a mapping with the keys business_units, accounts, products, "
            f"attributes ... at the top level, found {type(content).__name__}"
        )
    ctx.unknown_keys(content, _TOP_KEYS, "the top level")
    if "business_units" not in content:
        raise OrganisationError(
            f"{ctx()}'business_units' missing: declare the units (code: label) the accounts "
            "belong to, e.g. business_units: {{storage: Enterprise Storage}}"
        )
    codes = {key: _code_list(ctx, content, key) for key in _CODE_LISTS}
    accounts = _entries(ctx, content, "accounts", _ACCOUNT_KEYS, codes, _account)
    products = _entries(ctx, content, "products", _PRODUCT_KEYS, codes, _product)
    attribute_entries = _entries(ctx, content, "attributes", _ATTRIBUTE_KEYS, codes, _attribute)
    _check_same_names(ctx, accounts, "account")
    _check_same_names(ctx, products, "product")
    if attributes is not None:
        _check_attributes(ctx, attribute_entries, list(attributes))
    return Organisation(
        business_units=MappingProxyType(codes["business_units"]),
        functions=MappingProxyType(codes["functions"]),
        business_processes=MappingProxyType(codes["business_processes"]),
        accounts=tuple(accounts),
        products=tuple(products),
        attributes=tuple(attribute_entries),
        path=ctx.path,
    )


class _Where:
    """Builds "organisation file 'organisation.yaml', line N, <what> 'key': " prefixes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def __call__(
        self, key: Any = None, mapping: Any = None, what: str | None = None, line: int | None = None
    ) -> str:
        """The prefix naming the line of ``key`` in ``mapping`` (else ``line``) and ``what``."""
        found = getattr(mapping, "lines", {}).get(key) if key is not None else None
        return self.at(found if found is not None else line, what)

    def at(self, line: int | None, what: str | None = None) -> str:
        name = f"organisation file {self.path.name!r}" if self.path else "organisation file"
        parts = [name]
        if line is not None:
            parts.append(f"line {line}")
        if what is not None:
            parts.append(what)
        return ", ".join(parts) + ": "

    def unknown_keys(
        self, mapping: Mapping, allowed: frozenset[str], what: str, entry: str | None = None
    ) -> None:
        for key in mapping:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                at = f" at {what}" if entry is None else ""
                raise OrganisationError(
                    f"{self(key, mapping, entry)}unknown key {key!r}{at}{hint}; allowed: "
                    f"{', '.join(sorted(allowed))}"
                )

    def text(self, mapping: Mapping, key: str, entry: str, line: int | None = None) -> str:
        """The text under ``key`` (a number is taken as its text); missing or blank: an error
        on the key's line, else ``line`` (the entry's)."""
        value = mapping.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            found = "nothing" if value is None else repr(value)
            raise OrganisationError(
                f"{self(key, mapping, entry, line)}{key!r} must be a non-empty text, found {found}"
            )
        return value.strip()

    def email(self, mapping: Mapping, key: str, entry: str) -> str | None:
        """The e-mail address under ``key``, None when not given; a malformed one: an error."""
        if mapping.get(key) is None:
            return None
        value = self.text(mapping, key, entry)
        if not _EMAIL.match(value):
            raise OrganisationError(
                f"{self(key, mapping, entry)}{key!r} must be an e-mail address such as "
                f"name@example.org, found {value!r}"
            )
        return value


def _code_list(ctx: _Where, content: Mapping, key: str) -> dict[str, str]:
    """``business_units`` / ``functions`` / ``business_processes``: code -> label."""
    raw = content.get(key)
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not raw:
        raise OrganisationError(
            f"{ctx(key, content)}{key!r} must be a non-empty mapping of code -> label, e.g. "
            "{storage: Enterprise Storage}"
        )
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for code in raw:
        what = f"{key} code {code!r}"
        if not isinstance(code, str) or not _CODE.match(code):
            raise OrganisationError(
                f"{ctx(code, raw)}{key} code {code!r} must be a lowercase name (letters, "
                "digits, underscores, starting with a letter), e.g. enterprise_storage"
            )
        text = ctx.text(raw, code, what)
        if text.casefold() in seen:
            raise OrganisationError(
                f"{ctx(code, raw, what)}label {text!r} is also the label of "
                f"{seen[text.casefold()]!r}; each {_CODE_LISTS[key].replace('_', ' ')} needs "
                "its own label"
            )
        seen[text.casefold()] = code
        out[code] = text
    return out


def _entries(
    ctx: _Where,
    content: Mapping,
    key: str,
    allowed: frozenset[str],
    codes: Mapping[str, dict[str, str]],
    build: Callable[..., Any],
) -> list[Any]:
    """The entries of ``accounts`` / ``products`` / ``attributes``: name -> {keys}."""
    raw = content.get(key)
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        keys = ", ".join(sorted(allowed))
        raise OrganisationError(
            f"{ctx(key, content)}{key!r} must be a mapping of name -> {{{keys}}}"
        )
    out = []
    singular = key[:-1]
    for name, spec in raw.items():
        if isinstance(name, int | float) and not isinstance(name, bool):
            name = str(name)
        if not isinstance(name, str) or not name.strip():
            raise OrganisationError(f"{ctx(name, raw)}{singular} name {name!r} must be a text")
        what = f"{singular} {name.strip()!r}"
        if not isinstance(spec, Mapping):
            raise OrganisationError(
                f"{ctx(name, raw, what)}expected a mapping {{{', '.join(sorted(allowed))}}}, "
                f"found {spec!r}"
            )
        ctx.unknown_keys(spec, allowed, what, what)
        line = getattr(raw, "lines", {}).get(name)
        out.append(build(ctx, name.strip(), spec, codes, what, line))
    return out


#: Key of an entry -> (what its code is, the top-level key declaring the codes).
_DECLARED_IN: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "business_units": ("business unit", "business_units"),
        "function": ("function", "functions"),
        "business_process": ("business process", "business_processes"),
    }
)


def _declared(
    ctx: _Where, spec: Mapping, key: str, code: str, declared: Mapping[str, str], what: str
) -> str:
    """``code`` if the mapping declares it; else an error naming the line and the codes."""
    if code not in declared:
        noun, top = _DECLARED_IN[key]
        close = difflib.get_close_matches(code, list(declared), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise OrganisationError(
            f"{ctx(key, spec, what)}{noun} {code!r} is not declared under {top}{hint}; "
            f"declared: {', '.join(declared) or '(none)'}"
        )
    return code


def _account(
    ctx: _Where, name: str, spec: Mapping, codes: Mapping, what: str, line: int | None
) -> AccountEntry:
    units = spec.get("business_units")
    if isinstance(units, str):
        units = [units]
    if not isinstance(units, list) or not units or not all(isinstance(u, str) for u in units):
        raise OrganisationError(
            f"{ctx('business_units', spec, what, line)}'business_units' must list one or more "
            f"business unit codes, e.g. business_units: [storage], found {units!r}"
        )
    for unit in units:
        _declared(ctx, spec, "business_units", unit, codes["business_units"], what)
    if len(set(units)) != len(units):
        raise OrganisationError(
            f"{ctx('business_units', spec, what)}business unit listed twice: {units}"
        )
    return AccountEntry(
        account=name,
        business_units=tuple(units),
        account_manager=ctx.text(spec, "account_manager", what, line),
        manager_email=ctx.email(spec, "manager_email", what),
        line=line,
    )


def _product(
    ctx: _Where, name: str, spec: Mapping, codes: Mapping, what: str, line: int | None
) -> ProductEntry:
    function = ctx.text(spec, "function", what, line)
    return ProductEntry(
        product=name,
        function=_declared(ctx, spec, "function", function, codes["functions"], what),
        owner=ctx.text(spec, "owner", what, line),
        owner_email=ctx.email(spec, "owner_email", what),
        line=line,
    )


def _attribute(
    ctx: _Where, name: str, spec: Mapping, codes: Mapping, what: str, line: int | None
) -> AttributeEntry:
    process = ctx.text(spec, "business_process", what, line)
    return AttributeEntry(
        attribute=name,
        business_process=_declared(
            ctx, spec, "business_process", process, codes["business_processes"], what
        ),
        owner=ctx.text(spec, "owner", what, line),
        owner_email=ctx.email(spec, "owner_email", what),
        line=line,
    )


def _check_same_names(ctx: _Where, entries: list[Any], what: str) -> None:
    """Two names that are one account (or product) after :func:`account_key` are an error."""
    if not entries:
        return
    names = pd.Series([getattr(e, what) for e in entries], dtype="string")
    keys = account_key(names)
    repeated = keys.duplicated(keep="first")
    if repeated.any():
        i = int(np.flatnonzero(repeated.to_numpy())[0])
        first = int(np.flatnonzero((keys == keys.iloc[i]).to_numpy())[0])
        raise OrganisationError(
            f"{ctx.at(entries[i].line, f'{what} {names.iloc[i]!r}')}the same {what} as "
            f"{names.iloc[first]!r} (line {entries[first].line}) once case and spaces are "
            f"ignored; list each {what} once"
        )


def _check_attributes(ctx: _Where, entries: list[AttributeEntry], attributes: list[str]) -> None:
    """Every attribute of the mapping is an attribute column (role ``attribute``) of the study."""
    for entry in entries:
        if entry.attribute in attributes:
            continue
        close = difflib.get_close_matches(entry.attribute, attributes, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise OrganisationError(
            f"{ctx.at(entry.line, f'attribute {entry.attribute!r}')}expected the canonical name "
            f"of an attribute column of the study's codebooks{hint}; their attributes: "
            f"{', '.join(attributes) or '(none: no column has role attribute)'}"
        )


# --------------------------------------------------------------------------------------------------
# the processed tables and the alias file


def read_organisation(processed_dir: str | Path) -> Organisation | None:
    """The organisation written by ``csat data`` into ``processed_dir``; None without one.

    Reads the tables of :data:`ORGANISATION_TABLES` (line numbers are not kept). This is what
    the report and the lists read: the raw ``organisation.yaml`` is read only by ``csat data``.

    Raises
    ------
    DataError
        Some of the tables are there and others are not (an interrupted copy of the folder).
    """
    folder = Path(processed_dir)
    paths = {name: folder / f"{name}.parquet" for name in ORGANISATION_TABLES}
    present = [name for name, path in paths.items() if path.is_file()]
    if not present:
        return None
    if len(present) != len(paths):
        missing = sorted(set(paths) - set(present))
        raise DataError(
            f"{folder}: organisation tables {', '.join(missing)} missing while "
            f"{', '.join(present)} are there; run `csat data` again"
        )
    frames = {name: pd.read_parquet(path).astype("string") for name, path in paths.items()}
    codes = frames["organisation_codes"]
    declared = {
        key: dict(
            codes.loc[codes["dimension"] == dimension, ["code", "label"]].itertuples(index=False)
        )
        for key, dimension in _CODE_LISTS.items()
    }
    accounts = frames["organisation_accounts"]
    units = accounts.groupby("account", sort=False)["business_unit"].agg(tuple)
    first = accounts.drop_duplicates("account").set_index("account")
    return Organisation(
        business_units=MappingProxyType(declared["business_units"]),
        functions=MappingProxyType(declared["functions"]),
        business_processes=MappingProxyType(declared["business_processes"]),
        accounts=tuple(
            AccountEntry(a, units[a], m, _none(e))
            for a, m, e in first[["account_manager", "manager_email"]].itertuples()
        ),
        products=tuple(
            ProductEntry(p, f, o, _none(e))
            for p, f, o, e in frames["organisation_products"].itertuples(index=False)
        ),
        attributes=tuple(
            AttributeEntry(a, b, o, _none(e))
            for a, b, o, e in frames["organisation_attributes"].itertuples(index=False)
        ),
    )


def _none(value: Any) -> str | None:
    return None if value is None or value is pd.NA else str(value)


def read_aliases(path: str | Path) -> pd.DataFrame | None:
    """The alias file (``account_aliases.csv``: ``alias, canonical``), or None without one.

    Raises
    ------
    ExportError
        The file lacks the ``alias`` or ``canonical`` column.
    """
    path = Path(path)
    if not path.is_file():
        return None
    aliases = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in ("alias", "canonical") if c not in aliases.columns]
    if missing:
        raise ExportError(
            f"{path.name}: expected the columns 'alias' and 'canonical', found "
            f"{list(aliases.columns)} (missing {missing})"
        )
    return aliases[["alias", "canonical"]]


# --------------------------------------------------------------------------------------------------
# matching account names and products


def account_key(names: pd.Series) -> pd.Series:
    """The key on which the mapping matches names: what cleaning does to text (trim, Unicode
    NFC), then inner runs of spaces made one and case folded; blank names have no key (<NA>).

    Parameters
    ----------
    names : pandas.Series
        Account or product names as given.

    Returns
    -------
    pandas.Series
        ``string`` dtype, same index.
    """
    text = names.astype("string").str.normalize("NFC").str.strip()
    key = text.str.replace(r"\s+", " ", regex=True).str.casefold()
    return key.mask(key.fillna("").eq(""))


def _per_distinct(values: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``func`` (a ``string`` Series of distinct values -> a Series of as many results)
    applied once per distinct value of ``values`` and spread back to its rows: a ``string``
    Series on ``values``'s index, <NA> where ``values`` is missing. The rows' results are made
    by Arrow, without a Python string per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    results = func(pd.Series(uniques, dtype="string")).astype("string")
    distinct = pa.array(results.to_numpy(dtype=object, na_value=None), type=pa.string())
    taken = pc.take(distinct, pa.array(codes, mask=codes < 0))
    return pd.Series(pd.array(taken, dtype=pd.StringDtype()), index=values.index)


def _keys(names: pd.Series, key: Key) -> pd.Series:
    """``key`` of each name, computed once per distinct name."""
    return _per_distinct(names, key)


def organisation_accounts(
    names: pd.Series,
    organisation: Organisation,
    *,
    key: Key | None = None,
    aliases: pd.DataFrame | None = None,
) -> pd.Series:
    """The mapping's account name for each name: an alias first, then equal keys.

    Parameters
    ----------
    names : pandas.Series
        Account names as the exports spell them.
    organisation : Organisation
    key : callable, optional
        Series of names -> Series of matching keys; default :func:`account_key`. Pass
        ``csatlib.loop.accounts.normalize_account_name`` to match the way the account lists do.
    aliases : DataFrame, optional
        ``alias, canonical`` (:func:`read_aliases`): a name whose key is an alias's key is taken
        as its canonical name before matching.

    Returns
    -------
    pandas.Series
        ``string``, same index: the account as the mapping names it, <NA> when none matches.

    Raises
    ------
    DataError
        Two accounts of the mapping, or one alias, share a key under ``key`` (the match would
        be ambiguous).
    """
    key = account_key if key is None else key
    by_alias: dict[str, str] = {}
    if aliases is not None and len(aliases):
        require_columns(aliases, ["alias", "canonical"], "aliases")
        alias_keys = _keys(aliases["alias"], key)
        canonical = pd.Series(aliases["canonical"].astype("string").to_numpy(), index=alias_keys)
        by_alias = _lookup(canonical, "alias", key)
    own = pd.Series([e.account for e in organisation.accounts], dtype="string")
    by_key = _lookup(
        pd.Series(own.to_numpy(), index=_keys(own, key)), "accounts of the mapping", key
    )

    def match(distinct: pd.Series) -> pd.Series:
        if by_alias:
            distinct = key(distinct).map(by_alias).astype("string").fillna(distinct)
        return key(distinct).map(by_key)

    return _per_distinct(names, match)


def _lookup(by_key: pd.Series, what: str, key: Key) -> dict[str, str]:
    """Key -> name, without keyless names; two different names on one key are refused."""
    by_key = by_key[by_key.index.notna()]
    names_per_key = by_key.groupby(level=0, sort=False).nunique()
    shared = names_per_key[names_per_key > 1]
    if len(shared):
        first = shared.index[0]
        raise DataError(
            f"names {sorted(map(str, by_key[by_key.index == first].unique()))} ({what}) share "
            f"the key {first!r} under {getattr(key, '__name__', 'the key')}; matching them "
            "would be ambiguous: rename one, or match with account_key"
        )
    return by_key[~by_key.index.duplicated()].to_dict()


def unit_membership(
    table: pd.DataFrame,
    organisation: Organisation,
    *,
    account: str | None = None,
    id_column: str | None = None,
    key: Key | None = None,
    aliases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Which business units each response (or ticket) belongs to, through its account.

    An account may belong to several units, so this is a long table: a response of an account
    in two units has two rows. Build a unit's slice from it (``table[id in membership of the
    unit]``); ``responses.parquet`` itself never repeats a row.

    Parameters
    ----------
    table : DataFrame
        Processed responses or transactions.
    organisation : Organisation
        From :func:`load_organisation` or :func:`read_organisation`.
    account, id_column : str, optional
        The account and id columns; default: the columns with role ``account`` and ``id``
        (``table.attrs``), else ``account`` and ``response_id``.
    key, aliases
        How names are matched (:func:`organisation_accounts`).

    Returns
    -------
    DataFrame
        Columns ``<id_column>`` (``string``), ``account`` (the mapping's name, ``string``),
        ``business_unit`` (code, ``category`` in the mapping's order), in table order and then
        the account's order of units. Rows whose account is in no unit are absent.

    Raises
    ------
    DataError
        A column is missing, or names share a key (:func:`organisation_accounts`).
    """
    account = account or _role_column(table, "account", "account")
    id_column = id_column or _role_column(table, "id", "response_id")
    require_columns(table, [id_column, account], "unit_membership")
    matched = organisation_accounts(table[account], organisation, key=key, aliases=aliases)
    rows = pd.DataFrame(
        {id_column: table[id_column].astype("string").to_numpy(), "account": matched.to_numpy()}
    )
    units = organisation.accounts_table()[["account", "business_unit"]]
    out = rows.dropna(subset=["account"]).merge(units, on="account", how="inner", sort=False)
    return out.reset_index(drop=True)


def _role_column(table: pd.DataFrame, role: str, default: str) -> str:
    found = [c for c in roles.names(table, role) if c in table.columns]
    return found[0] if found else default


def product_column(table: pd.DataFrame) -> str | None:
    """The table's product column: the one with role ``product``, else one named ``product``
    (a codebook written before the role existed gives it role ``other``); None without one."""
    found = [c for c in roles.names(table, "product") if c in table.columns]
    if found:
        return found[0]
    return "product" if "product" in table.columns else None


def with_functions(table: pd.DataFrame, organisation: Organisation) -> pd.DataFrame:
    """``table`` with a ``function`` column (code) from each row's product, after the product.

    A ticket has one product, so its function is unambiguous. Unchanged when the table has no
    product column, already has a ``function`` column, or the mapping lists no products.
    Products the mapping does not list get <NA> (:func:`check_organisation` logs them).
    The column's role (``function``) and label go into ``attrs``.
    """
    column = product_column(table)
    if column is None or "function" in table.columns or not organisation.products:
        return table
    products = organisation.products_table()
    lookup = pd.Series(
        products["function"].astype("string").to_numpy(), index=account_key(products["product"])
    )
    by_key = lookup.to_dict()
    codes = _per_distinct(table[column], lambda distinct: account_key(distinct).map(by_key))
    values = pd.Categorical(
        codes.astype(object).where(codes.notna(), None), list(organisation.functions)
    )
    out = table.copy()
    out.insert(list(table.columns).index(column) + 1, "function", values)
    attrs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in table.attrs.items()}
    attrs.setdefault("roles", {})["function"] = "function"
    attrs.setdefault("labels", {})["function"] = "Function"
    out.attrs = attrs
    return out


# --------------------------------------------------------------------------------------------------
# checks against the data: warnings for the cleaning log


def check_organisation(
    organisation: Organisation,
    tables: Mapping[str, pd.DataFrame],
    *,
    attributes: Collection[str] = (),
    aliases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What the mapping and the data do not agree on, as warning rows of the cleaning log.

    Nothing here stops the build: a product without tickets or an account nobody answered for
    is normal. Rules (``action`` is ``warning``):

    ==============================  ============================================================
    ``account_not_in_organisation``  an account spelling of a table (one row per export and
                                     spelling, ``count`` = its rows) that matches no account of
                                     the mapping: its rows belong to no business unit
    ``account_not_in_data``          an account of the mapping no table names
    ``product_not_in_organisation``  a product of a table (per export, with ``count``) the mapping
                                     does not list: its rows have no function
    ``product_not_in_data``          a product of the mapping with no row (no tickets yet)
    ``attribute_not_in_organisation``  an attribute column of the codebooks the mapping does not
                                     list: it has no business process and no owner
    ``unit_without_accounts``        a declared business unit no account belongs to
    ==============================  ============================================================

    Parameters
    ----------
    organisation : Organisation
    tables : mapping of str to DataFrame
        The processed tables by kind (responses, transactions, revenue ...).
    attributes : collection of str
        The attribute columns of the study's codebooks.
    aliases : DataFrame, optional
        The alias file (:func:`read_aliases`), applied before matching account names.

    Returns
    -------
    DataFrame
        Columns ``source`` (export or mapping file), ``source_row`` (first row of the spelling,
        or the mapping's line), ``column``, ``rule``, ``action``, ``value``, ``count``,
        ``message``.
    """
    name = organisation.path.name if organisation.path is not None else "organisation.yaml"
    rows: list[dict[str, Any]] = []
    seen: dict[str, set[str]] = {"account": set(), "product": set()}
    for kind, table in tables.items():
        rows += _table_warnings(kind, table, organisation, name, seen, aliases=aliases)
    rows += [
        _mapping_row(
            name,
            e.line,
            "accounts",
            "account_not_in_data",
            e.account,
            f"account {e.account!r} of {name} is named in no export (no responses, "
            "tickets or revenue)",
        )
        for e in organisation.accounts
        if e.account not in seen["account"]
    ]
    rows += [
        _mapping_row(
            name,
            e.line,
            "products",
            "product_not_in_data",
            e.product,
            f"product {e.product!r} of {name} has no rows (no tickets name it)",
        )
        for e in organisation.products
        if e.product not in seen["product"]
    ]
    listed = {e.attribute for e in organisation.attributes}
    rows += [
        _mapping_row(
            name,
            None,
            "attributes",
            "attribute_not_in_organisation",
            a,
            f"attribute {a!r} is not in {name}: it has no business process and no owner",
        )
        for a in attributes
        if a not in listed
    ]
    used = {u for e in organisation.accounts for u in e.business_units}
    rows += [
        _mapping_row(
            name,
            None,
            "business_units",
            "unit_without_accounts",
            unit,
            f"business unit {unit!r} ({label}) has no accounts in {name}",
        )
        for unit, label in organisation.business_units.items()
        if unit not in used
    ]
    return pd.DataFrame(
        rows,
        columns=["source", "source_row", "column", "rule", "action", "value", "count", "message"],
    )


def checked_columns(table: pd.DataFrame) -> list[str]:
    """The columns of ``table`` that :func:`check_organisation` reads: account, product,
    ``source`` and ``source_row``, those it has."""
    wanted = [_role_column(table, "account", "account"), product_column(table)]
    return [c for c in dict.fromkeys([*wanted, "source", "source_row"]) if c in table.columns]


#: In a table of spellings (:func:`checked_spellings`), how many rows of the data each row
#: stands for; :func:`check_organisation` counts these instead of rows.
ROWS_COLUMN = "rows_spelled"


def checked_spellings(table: pd.DataFrame) -> pd.DataFrame:
    """What :func:`check_organisation` needs of ``table``, without a row per row: one row per
    export (``source``), account and product spelling, with its first ``source_row`` and how
    many rows spell it (:data:`ROWS_COLUMN`). Tables of spellings concatenate and reduce again
    (the counts summed, the first row kept), so a table written in batches is checked from
    its batches' spellings; the warnings are those of the whole table."""
    keep = checked_columns(table)
    by = [c for c in keep if c != "source_row"]
    work = table[keep]
    if ROWS_COLUMN in table.columns:
        work = work.assign(**{ROWS_COLUMN: table[ROWS_COLUMN]})
    else:
        work = work.assign(**{ROWS_COLUMN: np.ones(len(table), dtype=np.int64)})
    if "source_row" not in work.columns:
        work = work.assign(source_row=pd.array([pd.NA] * len(work), dtype="Int64"))
    if not by:
        return work.iloc[:0]
    groups = work.groupby(by, dropna=False, observed=True, sort=False)
    out = groups.agg(source_row=("source_row", "min"), **{ROWS_COLUMN: (ROWS_COLUMN, "sum")})
    out = out.reset_index()
    out.attrs = table.attrs
    return out


def _table_warnings(
    kind: str,
    table: pd.DataFrame,
    organisation: Organisation,
    mapping: str,
    seen: dict[str, set[str]],
    *,
    aliases: pd.DataFrame | None,
) -> list[dict[str, Any]]:
    """The account and product spellings of one table the mapping does not know; what it does
    know is added to ``seen``."""
    rows: list[dict[str, Any]] = []
    column = _role_column(table, "account", "account")
    if column in table.columns:
        matched = organisation_accounts(table[column], organisation, aliases=aliases)
        seen["account"].update(matched.dropna().tolist())
        rows += _unmatched(table, kind, column, matched, "account", mapping)
    column = product_column(table)
    if column is not None and organisation.products:
        matched = _products(table[column], organisation)
        seen["product"].update(matched.dropna().tolist())
        rows += _unmatched(table, kind, column, matched, "product", mapping)
    return rows


def _products(values: pd.Series, organisation: Organisation) -> pd.Series:
    """The mapping's product name for each value (equal :func:`account_key`), else <NA>."""
    own = pd.Series([e.product for e in organisation.products], dtype="string")
    lookup = pd.Series(own.to_numpy(), index=account_key(own))
    by_key = lookup.to_dict()
    return _per_distinct(values, lambda distinct: account_key(distinct).map(by_key))


def _unmatched(
    table: pd.DataFrame, kind: str, column: str, matched: pd.Series, what: str, mapping: str
) -> list[dict[str, Any]]:
    """One warning per export and distinct value of ``column`` that ``matched`` left <NA>."""
    value = table[column].astype("string")
    missing = (matched.isna() & value.notna()).to_numpy()
    if not missing.any():
        return []
    rows = table.loc[missing]  # the few unmatched rows only
    if "source" in rows.columns:
        source = rows["source"].astype("string")
    else:  # a table not written by csat data: name it by its kind
        source = pd.Series(f"{kind}.parquet", index=rows.index, dtype="string")
    source_row = pd.Series(
        rows["source_row"] if "source_row" in rows.columns else pd.NA,
        index=rows.index,
        dtype="Int64",
    )
    frame = pd.DataFrame(
        {
            "source": source.to_numpy(),
            "value": value[missing].to_numpy(),
            "source_row": source_row.array,
        }
    )
    if ROWS_COLUMN in table.columns:  # a table of spellings: each row counts its rows
        count = table[ROWS_COLUMN].to_numpy(dtype=np.int64)[missing]
    else:
        count = np.ones(int(missing.sum()), dtype=np.int64)
    frame = frame.assign(count=count)
    groups = frame.groupby(["source", "value"], sort=True, dropna=False)
    summary = groups.agg(source_row=("source_row", "min"), count=("count", "sum")).reset_index()
    if what == "account":
        why = (
            f"no account of {mapping} has this name (case and spaces ignored, aliases applied): "
            "these rows are in no business unit"
        )
    else:
        why = f"{mapping} does not list this product: these rows have no function"
    return [
        {
            "source": row.source,
            "source_row": row.source_row,
            "column": column,
            "rule": f"{what}_not_in_organisation",
            "action": "warning",
            "value": row.value,
            "count": int(row.count),
            "message": f"{what} {row.value!r} ({int(row.count):,} rows, first in row "
            f"{row.source_row}): {why}",
        }
        for row in summary.itertuples(index=False)
    ]


def _mapping_row(
    source: str, line: int | None, column: str, rule: str, value: str, message: str
) -> dict[str, Any]:
    return {
        "source": source,
        "source_row": line,
        "column": column,
        "rule": rule,
        "action": "warning",
        "value": value,
        "count": 1,
        "message": message,
    }
