"""What a study holds, read from its codebook roles (kept in a processed table's ``attrs``).

Every part of the workbench that depends on which questions a survey asked asks this module:
which column is the 0-10 recommend question, which columns are attributes, loyalty items,
stated importance or expectations (and of which attribute), each column's scale and label, and
whether the study has competitors' customers. Nothing here names a sample column: the names come
from the codebook (``csat data`` writes them into the Parquet metadata, restored by
``csatlib.ingest.clean.load_processed``). Ground floor: imports only :mod:`csatlib.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from csatlib.errors import DataError

__all__ = [
    "FrozenMeta",
    "frozen",
    "NPS_SCALE",
    "roles",
    "labels",
    "scales",
    "names",
    "nps_column",
    "scale",
    "links",
    "has_role",
    "id_column",
    "has_competitors",
    "email_column",
    "own_customers",
    "label",
    "given_scale",
    "wave_order",
    "previous_wave",
    "shallow_copy",
]

#: The recommend question's scale: 0-10 by the definition of the Net Promoter Score.
NPS_SCALE: tuple[int, int] = (0, 10)

_LINK_PREFIX = {"importance": "importance_", "expectation": "expectation_"}


class FrozenMeta(dict):
    """Read-only codebook metadata (roles, labels, scales ...) kept in ``DataFrame.attrs``.

    pandas deep-copies a frame's ``attrs`` into every frame derived from it (each selection,
    ``assign``, ``groupby`` result ...): with the codebook's dicts that was a sizeable share of a
    report's time. This mapping cannot change, so a copy of it is itself and costs nothing. A
    change raises; build a new mapping instead (``{**meta, key: value}``).
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict) -> FrozenMeta:
        return self

    def __copy__(self) -> FrozenMeta:
        return self

    def __reduce__(self) -> tuple[type, tuple[dict]]:
        return (FrozenMeta, (dict(self),))

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            "codebook metadata in DataFrame.attrs is read-only; build a new mapping "
            "({**meta, key: value}) and assign it"
        )

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _read_only


def frozen(value: Any) -> Any:
    """``value`` with every dict in it made a :class:`FrozenMeta` (lists and scalars kept)."""
    if isinstance(value, Mapping):
        return FrozenMeta({k: frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return [frozen(v) for v in value]
    return value


def _attrs(df: pd.DataFrame | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(df, pd.DataFrame):
        return df.attrs if isinstance(df.attrs, dict) else {}
    return df


def roles(df: pd.DataFrame | Mapping[str, Any]) -> dict[str, str]:
    """Canonical column name -> codebook role (``"nps"``, ``"attribute"``, ``"loyalty"`` ...)."""
    return dict(_attrs(df).get("roles", {}))


def labels(df: pd.DataFrame | Mapping[str, Any]) -> dict[str, str]:
    """Canonical column name -> the codebook's label."""
    return dict(_attrs(df).get("labels", {}))


def scales(df: pd.DataFrame | Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """Canonical column name -> (min, max) of every scale column."""
    return {k: (int(v[0]), int(v[1])) for k, v in _attrs(df).get("scales", {}).items()}


def names(df: pd.DataFrame | Mapping[str, Any], role: str) -> list[str]:
    """Columns with a codebook role, in codebook order (of a frame: only those it has)."""
    present = set(df.columns) if isinstance(df, pd.DataFrame) else None
    return [n for n, r in roles(df).items() if r == role and (present is None or n in present)]


def id_column(df: pd.DataFrame, default: str = "response_id") -> str:
    """The respondent id column of ``df``: the one with codebook role ``id`` (a codebook may
    call it anything, e.g. ``rid``), else ``default``."""
    found = names(df, "id")
    return found[0] if found else default


def has_role(df: pd.DataFrame | Mapping[str, Any], role: str) -> bool:
    """True when at least one column has ``role``."""
    return bool(names(df, role))


def nps_column(df: pd.DataFrame | Mapping[str, Any]) -> str:
    """The study's recommend question (role ``nps``).

    Raises
    ------
    DataError
        No column has the role (every study needs one: it is what an NPS is computed from).
    """
    found = names(df, "nps")
    if not found:
        raise DataError(
            "the study has no column with role 'nps' (the 0-10 'how likely are you to recommend "
            "us' question); add one to the codebook and run `csat data`"
        )
    return found[0]


def scale(df: pd.DataFrame | Mapping[str, Any], column: str) -> tuple[int, int]:
    """(min, max) of a scale column; the ``nps`` column is 0-10 whatever else is known."""
    if roles(df).get(column) == "nps":
        return NPS_SCALE
    known = scales(df)
    if column not in known:
        raise DataError(f"column {column!r} has no scale in the codebook (roles: {roles(df)})")
    return known[column]


def links(df: pd.DataFrame | Mapping[str, Any], role: str) -> dict[str, str]:
    """Attribute -> its ``importance`` or ``expectation`` item, in codebook order.

    Read from ``attrs["links"]`` (item -> attribute, written by ``csat data`` from the codebook's
    ``attribute`` key); tables written before that key existed fall back to the naming
    convention ``<role>_<attribute>``.
    """
    if role not in _LINK_PREFIX:
        raise DataError(f"links: role must be 'importance' or 'expectation', found {role!r}")
    attributes = set(names(df, "attribute"))
    declared = dict(_attrs(df).get("links", {}))
    out: dict[str, str] = {}
    for item in names(df, role):
        target = declared.get(item)
        if target is None and item.startswith(_LINK_PREFIX[role]):
            target = item[len(_LINK_PREFIX[role]) :]
        if target in attributes:
            out[target] = item
    return out


def has_competitors(df: pd.DataFrame) -> bool:
    """True when the study has a brand column and some respondents are competitors' customers."""
    return "competitor" in df.columns and bool(df["competitor"].fillna(False).astype(bool).any())


def email_column(df: pd.DataFrame) -> str | None:
    """The respondent's e-mail column, or None when the survey has none.

    A column with role ``contact`` whose name says e-mail (``contact_email``, ``Email``,
    ``e_mail_address``); else the ``contact`` column whose filled cells are mostly addresses
    (an ``@`` with text on both sides and a dot after it); and, for a frame that carries no
    roles (a hand-made table), a column named ``contact_email``.
    """
    contacts = names(df, "contact")
    if not contacts:
        return "contact_email" if not roles(df) and "contact_email" in df.columns else None
    for column in contacts:
        if "mail" in column.lower().replace("-", "").replace("_", ""):
            return column
    for column in contacts:
        filled = df[column].dropna().astype(str).str.strip()
        filled = filled.loc[filled != ""]
        if len(filled) and filled.str.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+").mean() > 0.5:
            return column
    return None


def own_customers(df: pd.DataFrame) -> pd.DataFrame:
    """Own-brand respondents; every respondent when the study has no brand column."""
    if "competitor" not in df.columns:
        return df
    return df.loc[~df["competitor"].fillna(False).astype(bool)]


def label(df: pd.DataFrame | Mapping[str, Any], column: str) -> str:
    """The codebook's label of a column, else the name with underscores as spaces."""
    return labels(df).get(column) or column.replace("_", " ").capitalize()


def given_scale(df: pd.DataFrame, column: str, scale: Any = None, *, what: str = "scale") -> Any:
    """The scale a caller asked for ``column``: ``scale`` itself, its entry when it is a mapping
    column -> scale, or (``scale=None``) the codebook's scale in ``df.attrs["scales"]``.

    The value is returned as given; each caller checks its form. The one rule for "which scale",
    shared by the functions that take ``scale=`` (scores, loyalty, the Pareto of drivers).

    Raises
    ------
    DataError
        No scale for ``column``: neither in the mapping nor in the table's codebook attrs.
    """
    if scale is None:
        known = _attrs(df).get("scales", {})
        if column not in known:
            raise DataError(
                f"{what}: column {column!r} has no scale known; pass scale=(min, max) or a "
                "mapping column -> (min, max), or a table whose attrs['scales'] names it (as "
                "csatlib's processed tables do)"
            )
        return known[column]
    if isinstance(scale, Mapping):
        if column not in scale:
            raise DataError(
                f"{what}: scale has no entry for column {column!r}; found {sorted(scale)}"
            )
        return scale[column]
    return scale


def wave_order(waves: pd.Series) -> list[str]:
    """The waves present in a column, oldest first: an ordered category's order (``csat data``
    writes waves so), else sorted as text ("2026-Q1" < "2026-Q2"). The one wave order of the
    workbench (reports, screens, trends)."""
    if isinstance(waves.dtype, pd.CategoricalDtype) and waves.cat.ordered:
        codes = np.unique(waves.cat.codes.to_numpy())  # the categories present, by position
        categories = waves.cat.categories
        return [str(categories[c]) for c in codes if c >= 0]
    return sorted({str(w) for w in pd.unique(waves.dropna())})


def previous_wave(order: list[str], wave: str) -> str | None:
    """The wave before ``wave`` in ``order`` (:func:`wave_order`), or None for the first.

    The previous wave is the one before in the whole study, even when a country skipped it (its
    comparison is then empty and says so), so that the headline, the screens and the trends all
    compare with the same wave.
    """
    position = order.index(wave)
    return order[position - 1] if position > 0 else None


def shallow_copy(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` that its user may change without changing ``frame``: shallow (and
    free) where pandas copies on write (always from pandas 3; an option in pandas 2), else
    deep. How a table kept in memory is handed out (processed tables, shared study results)."""
    cow = int(pd.__version__.split(".")[0]) >= 3 or pd.get_option("mode.copy_on_write") is True
    return frame.copy(deep=not cow)
