"""``csat extract``: a de-identified analysis table of the responses, with its data dictionary.

The table is for analysts who cut the data themselves (:func:`csatlib.stats.crosstab.crosstab`,
``notebooks/explore.ipynb``). What goes in is decided by the codebook roles, never by a sample
column's name, and by a list of what is allowed rather than of what is forbidden: a column whose
content the codebook does not describe is left out.

- Kept: country, wave, segment, region, brand, the organisation's dimensions (business unit,
  function, business process, product), weight, duration, every scale (recommend,
  overall, attributes, importance, expectations, loyalty), typed columns of role ``other``
  (numbers, categories such as a business unit, true/false), and the quality flags and month
  added by ``csat data``; dates to the day only (the time of day is dropped).
- Replaced: the response ID by ``row_id`` (1..n in a random row order: it leads nowhere);
  the account name by ``account_key``, a pseudonymous code (see :func:`analysis_table`).
- Removed, always: contact fields (names, e-mail addresses, phone numbers), the permission to
  contact, the export's file and row, untyped (free-text) ``other`` columns and any column the
  codebook does not describe. Free text (likes, dislikes, complaints, comments) only with
  ``verbatims=True``, and then with e-mail addresses, phone numbers, links and the respondent's
  own name and account name masked.

The result is pseudonymised, not anonymous: anyone holding the raw export can find a row again
by its answers. It is meant for the research team's analysts, not for publication.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from csatlib import config, roles
from csatlib.errors import DataError
from csatlib.ingest.codebook import SCALE_ROLES, TEXT_ROLES
from csatlib.safety import write_csv_safely, write_text_atomic

__all__ = [
    "ROW_ID",
    "ACCOUNT_KEY",
    "DICTIONARY_COLUMNS",
    "ExtractFiles",
    "analysis_table",
    "data_dictionary",
    "removed_columns",
    "dictionary_markdown",
    "write_extract",
]

#: The extract's row number (replaces the export's response ID).
ROW_ID: Final = "row_id"
#: The pseudonymous account code; the name csatlib.report gives the matched account, so the
#: reports' clustering by account finds it in an extract as in a processed table.
ACCOUNT_KEY: Final = "account_key"
#: The columns of the data dictionary, in order.
DICTIONARY_COLUMNS: Final = (
    "column",
    "label",
    "role",
    "type",
    "scale",
    "values",
    "n_missing",
    "note",
)

# Roles kept as they are (scales are range-checked by csat data; dates are cut to the day),
# the organisation's dimensions (business unit, function, business process, product) included.
_KEEP_ROLES: Final = frozenset(
    {
        "country",
        "wave",
        "segment",
        "region",
        "brand",
        "business_unit",
        "function",
        "business_process",
        "product",
        "weight",
        "duration",
        *SCALE_ROLES,
    }
)
# Columns csat data adds (codebook.RESERVED_NAMES) and what the extract does with them.
_DERIVED: Final[dict[str, str | None]] = {
    "month": None,
    "flag_speeder": None,
    "flag_straightliner": None,
    "competitor": None,
    "source": "the export file a row came from: provenance, not an analysis variable",
    "source_row": "the row of the raw export: it leads back to the row and its contact fields",
}
_WHY: Final = {
    "contact": "contact field (a person's name, e-mail or phone): never in an extract",
    "contact_ok": "permission to contact: for the follow-up lists, not for analysis",
    "id": f"the export's response ID leads back to the raw export; replaced by {ROW_ID!r}",
    "account": f"account name; replaced by the pseudonymous {ACCOUNT_KEY!r} (one code per "
    "matched account)",
    "text": "free text may name people and accounts: only with csat extract --verbatims",
    "other": "untyped column of role 'other' (free text, content unknown); declare its type "
    "(category, int, float, bool, date) in the codebook to keep it",
    "unknown": "not described by the codebook: content unknown",
}
_LABELS: Final = {
    ROW_ID: "Row of this extract",
    ACCOUNT_KEY: "Account (pseudonymous code)",
    "month": "Month",
    "flag_speeder": "Speeder (answered far faster than the median; flagged by csat data)",
    "flag_straightliner": "Straight-liner (same answer to every attribute; flagged by csat data)",
}
# Masks of identifiers typed into a verbatim.
_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINK: Final = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# nine digits or more, with the separators of phone numbers (a date has eight)
_PHONE: Final = re.compile(r"\+?\(?\d(?:[\s()./-]{0,2}\d){8,}")
_MIN_NAME: Final = 3  # a shorter "name" (initials) would mask ordinary words


# --------------------------------------------------------------------------- the table


def _decisions(df: pd.DataFrame, verbatims: bool) -> dict[str, str | None]:
    """Each column of ``df`` -> None (kept, maybe transformed) or the reason it is left out."""
    role_of = roles.roles(df)
    out: dict[str, str | None] = {}
    for column in df.columns:
        role = role_of.get(column)
        if column == ACCOUNT_KEY and role is None:
            out[column] = _WHY["account"]  # the matched account, coded like the name
        elif role in _KEEP_ROLES or role == "date":
            out[column] = None
        elif role in TEXT_ROLES:
            out[column] = None if verbatims else _WHY["text"]
        elif role in ("contact", "contact_ok", "id", "account"):
            out[column] = _WHY[role]
        elif role == "other":
            out[column] = _WHY["other"] if _type(df[column]) == "text" else None
        elif column in _DERIVED and role is None:
            out[column] = _DERIVED[column]
        else:
            out[column] = _WHY["unknown"]
    return out


def _account_source(df: pd.DataFrame) -> pd.Series | None:
    """What identifies each row's account: the matched ``account_key`` when the table has one
    (``csat extract`` adds it), else the first ``account`` column's name, case and spaces
    folded (spelling variants then count as different accounts)."""
    if ACCOUNT_KEY in df.columns and roles.roles(df).get(ACCOUNT_KEY) in (None, "account"):
        return df[ACCOUNT_KEY].astype("string")
    names = roles.names(df, "account")
    if not names:
        return None
    folded = df[names[0]].astype("string").str.casefold().str.split().str.join(" ")
    return folded.mask(folded == "")


def _account_codes(source: pd.Series, rng: np.random.Generator) -> pd.Series:
    """One code per account, ``A001``, ``A002``, ...; which account gets which code is drawn at
    random (a permutation from ``rng``), so the codes carry nothing of the names."""
    codes, uniques = pd.factorize(source)  # a missing account: -1
    width = max(3, len(str(len(uniques))))
    labels = np.array([f"A{i + 1:0{width}d}" for i in range(len(uniques))], dtype=object)
    drawn = labels[rng.permutation(len(uniques))]
    values = np.full(len(codes), None, dtype=object)
    values[codes >= 0] = drawn[codes[codes >= 0]]
    return pd.Series(values, index=source.index, dtype="string")


def _mask_own(text: pd.Series, own: list[pd.Series]) -> pd.Series:
    """``text`` with the row's own names (its contact names and account name) masked."""
    if not own:
        return text
    names = pd.concat([s.astype("string") for s in own], axis=1).to_numpy(dtype=object)
    masked = [
        t
        if pd.isna(t)
        else _mask_names(str(t), [n for n in row if isinstance(n, str) and len(n) >= _MIN_NAME])
        for t, row in zip(text.to_numpy(dtype=object), names, strict=True)
    ]
    return pd.Series(masked, index=text.index, dtype="string")


def _mask_names(text: str, names: list[str]) -> str:
    for name in names:
        if name.casefold() in text.casefold():
            text = re.sub(re.escape(name), "[name]", text, flags=re.IGNORECASE)
    return text


def _verbatim(text: pd.Series, own: list[pd.Series]) -> pd.Series:
    """A free-text column as the extract shows it: identifiers masked."""
    s = text.astype("string")
    s = s.str.replace(_EMAIL, "[e-mail]", regex=True)
    s = s.str.replace(_LINK, "[link]", regex=True)
    s = s.str.replace(_PHONE, "[phone]", regex=True)
    return _mask_own(s, own)


def _extract_attrs(
    df: pd.DataFrame, table: pd.DataFrame, removed: dict[str, str], verbatims: bool
) -> dict[str, Any]:
    """The codebook attrs of the kept columns, and what the extract removed."""
    kept = set(table.columns)
    role_of = {c: r for c, r in roles.roles(df).items() if c in kept}
    labels = {c: label for c, label in roles.labels(df).items() if c in kept}
    for column, label in _LABELS.items():
        if column in kept:
            labels.setdefault(column, label)
    labels.update({c: _LABELS[c] for c in (ROW_ID, ACCOUNT_KEY) if c in kept})
    role_of.update({c: r for c, r in ((ROW_ID, "id"), (ACCOUNT_KEY, "account")) if c in kept})
    links = {i: a for i, a in dict(df.attrs.get("links", {})).items() if i in kept and a in kept}
    return {
        "roles": role_of,
        "labels": labels,
        "scales": {c: s for c, s in dict(df.attrs.get("scales", {})).items() if c in kept},
        "links": links,
        "dimensions": {c: d for c, d in dict(df.attrs.get("dimensions", {})).items() if c in kept},
        "own_brand": df.attrs.get("own_brand"),
        "kind": df.attrs.get("kind", "responses"),
        "extract": {
            "verbatims": bool(verbatims),
            "removed": [
                {
                    "column": c,
                    "label": roles.label(df, c),
                    "role": roles.roles(df).get(c, ""),
                    "reason": why,
                }
                for c, why in removed.items()
            ],
        },
    }


def analysis_table(
    responses: pd.DataFrame, *, verbatims: bool = False, seed: int | None = None
) -> pd.DataFrame:
    """The de-identified analysis table of a processed ``responses`` table.

    Parameters
    ----------
    responses : pandas.DataFrame
        The processed responses (:func:`csatlib.ingest.clean.load_processed`), codebook roles
        and labels in ``attrs``; optionally with ``account_key``, each row's matched account
        (:func:`csatlib.report.context.with_account_key`, as ``csat extract`` adds it).
    verbatims : bool, keyword-only
        Keep the free-text answers (roles ``text_like``, ``text_dislike``, ``complaint``,
        ``comment``), identifiers masked. Contact fields are never kept.
    seed : int, optional, keyword-only
        Seed of the row order and of the account codes, for tests only. Default: fresh entropy
        from the operating system, used once and kept nowhere.

    Returns
    -------
    pandas.DataFrame
        One row per processed row, in random order: ``row_id`` (1..n), ``account_key`` (when
        the study has accounts), then the kept columns in the processed table's order (see the
        module's docstring). ``attrs`` holds the codebook's ``roles``, ``labels``, ``scales``,
        ``links`` and ``dimensions`` of the kept columns and ``extract`` (``verbatims`` and the
        ``removed`` columns with the reason), so :mod:`csatlib.roles` and
        :func:`csatlib.stats.crosstab.crosstab` read it as they read a processed table.

    Raises
    ------
    DataError
        ``responses`` is not a processed table (no codebook roles in ``attrs``).

    Notes
    -----
    *Account codes* are drawn at random for each extract (a random permutation of the
    accounts, the equivalent of a keyed hash whose key is thrown away): a code is the same
    account everywhere in one extract, so analyses can cluster by account, but the same account
    has another code in the next extract. A code stable across extracts would need a project
    secret, which the workbench does not keep (no secrets in a repository), and would let
    extracts be joined into a respondent history the research team never meant to hand out.
    An unkeyed hash of the name would not do: account names are known (the contact master), so
    hashing each of them would reverse it.

    *Verbatims* have e-mail addresses, links and numbers of nine digits or more (phone, order
    and account numbers) replaced by ``[e-mail]``, ``[link]``, ``[phone]``, and the row's own
    contact names and account name (as spelled in its answers, case ignored) by ``[name]``.
    Other names a respondent types (a colleague, a technician) are not found: review
    verbatims before they leave the research team.
    """
    if not isinstance(responses, pd.DataFrame) or not roles.roles(responses):
        found = type(responses).__name__
        raise DataError(
            "analysis_table: expected the processed responses with codebook roles in attrs "
            f"(csatlib.ingest.clean.load_processed), found a {found} without roles"
        )
    decisions = _decisions(responses, verbatims)
    if decisions.get(ROW_ID, "") is None:
        raise DataError(
            f"analysis_table: the table has a column {ROW_ID!r} of its own, and the extract "
            "numbers its rows under that name; rename the column in the codebook"
        )
    rng = np.random.default_rng(seed)
    role_of = roles.roles(responses)
    own = [
        responses[c]
        for c in responses.columns
        if role_of.get(c) in ("contact", "account") or (c == ACCOUNT_KEY and c not in role_of)
    ]
    account = _account_source(responses)
    data: dict[str, pd.Series] = {ROW_ID: pd.Series(np.zeros(len(responses), dtype=np.int64))}
    if account is not None:
        data[ACCOUNT_KEY] = _account_codes(account, rng)
    for column, why in decisions.items():
        if why is not None:
            continue
        s = responses[column]
        if role_of.get(column) in TEXT_ROLES:
            s = _verbatim(s, own)
        elif pd.api.types.is_datetime64_any_dtype(s):
            s = s.dt.normalize()
        data[column] = s
    table = pd.DataFrame({k: v.to_numpy() if k == ROW_ID else v for k, v in data.items()})
    table = table.iloc[rng.permutation(len(table))].reset_index(drop=True)
    table[ROW_ID] = np.arange(1, len(table) + 1, dtype=np.int64)
    # the matched key a caller added is no column of the processed table: not listed
    removed = {
        c: why
        for c, why in decisions.items()
        if why is not None and (c != ACCOUNT_KEY or c in role_of)
    }
    table.attrs = _extract_attrs(responses, table, removed, verbatims)
    return table


# --------------------------------------------------------------------------- the dictionary


def _type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "true/false"
    if pd.api.types.is_integer_dtype(s):
        return "integer"
    if pd.api.types.is_float_dtype(s):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "category"
    return "text"


def _values(table: pd.DataFrame, column: str, verbatim: bool) -> str:
    """What a column's cells hold: the scale, the categories, the range or a count."""
    s = table[column]
    scales = roles.scales(table)
    kind = _type(s)
    present = s.dropna()
    if column in scales or roles.roles(table).get(column) == "nps":
        low, high = roles.scale(table, column)
        return f"whole numbers {low} to {high}"
    if verbatim:
        return "free text"
    if kind == "category":
        categories = [str(c) for c in s.cat.categories]
        return "; ".join(categories) if len(categories) <= 30 else f"{len(categories)} categories"
    if kind == "true/false":
        return "true; false"
    if present.empty:
        return "none (every cell missing)"
    if kind == "date":
        return f"{present.min():%Y-%m-%d} to {present.max():%Y-%m-%d}"
    if column == ACCOUNT_KEY:
        codes = sorted(present.unique())
        return f"{len(codes)} codes, {codes[0]} to {codes[-1]}"
    if kind in ("integer", "number"):
        return f"{present.min():g} to {present.max():g}"
    return f"{present.nunique()} distinct values"


def _note(table: pd.DataFrame, column: str) -> str:
    """How to read a column, and what the extract did to it."""
    role = roles.roles(table).get(column, "")
    links = dict(table.attrs.get("links", {}))
    dimension = dict(table.attrs.get("dimensions", {})).get(column)
    notes = {
        ROW_ID: "row number of this extract, rows in random order: not the export's response "
        "ID, so it leads back to nothing",
        ACCOUNT_KEY: "pseudonymous account code, drawn at random for this extract: the same "
        "account within this extract only (cluster by it; do not join extracts on it)",
    }
    if column in notes:
        return notes[column]
    if role == "date":
        return "day only: the time of day is removed"
    if role in TEXT_ROLES:
        return (
            "verbatim: e-mail addresses, links, long numbers and the respondent's own name and "
            "account name masked ([e-mail], [link], [phone], [name]); other names are not "
            "found, so review before sharing"
        )
    if role == "nps":
        return "0-10 recommend question: promoters 9-10, detractors 0-6; blank: no answer"
    if role in SCALE_ROLES:
        of = f"; of attribute {links[column]!r}" if column in links else ""
        dim = f"; loyalty dimension {dimension!r}" if dimension else ""
        return f"blank: no answer, don't know or out of range (set missing by csat data){of}{dim}"
    return ""


def data_dictionary(table: pd.DataFrame) -> pd.DataFrame:
    """The data dictionary of an analysis table: one row per column, in the table's order.

    Parameters
    ----------
    table : pandas.DataFrame
        A result of :func:`analysis_table` (or any table with codebook attrs).

    Returns
    -------
    pandas.DataFrame
        ``column, label, role, type, scale, values, n_missing, note``: the codebook's label and
        role, the type (``integer``, ``number``, ``category``, ``true/false``, ``date``,
        ``text``), the scale (``"0-10"``; empty if none), what the cells hold (scale range,
        categories, dates, codes), the number of missing cells and how to read the column.
    """
    role_of = roles.roles(table)
    scales = roles.scales(table)
    rows = []
    for column in table.columns:
        role = role_of.get(column, "")
        scale = scales.get(column) or (roles.NPS_SCALE if role == "nps" else None)
        rows.append(
            {
                "column": column,
                "label": roles.label(table, column),
                "role": role,
                "type": _type(table[column]),
                "scale": "" if scale is None else f"{scale[0]}-{scale[1]}",
                "values": _values(table, column, role in TEXT_ROLES),
                "n_missing": int(table[column].isna().sum()),
                "note": _note(table, column),
            }
        )
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


def removed_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The processed columns an analysis table left out: ``column, label, role, reason``."""
    removed = dict(table.attrs.get("extract", {})).get("removed", [])
    return pd.DataFrame(removed, columns=["column", "label", "role", "reason"])


def _md_cell(value: object) -> str:
    """A Markdown table cell: on one line, its ``|`` escaped, and its HTML's ``&``, ``<`` and
    ``>`` written as entities (a Markdown viewer would render a value's ``<script>`` or
    ``<b>`` as HTML)."""
    text = html.escape(" ".join(str(value).split()), quote=False)
    return text.replace("|", "\\|")


def _md_table(frame: pd.DataFrame) -> list[str]:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in frame.to_numpy()]
    return [header, rule, *body]


def dictionary_markdown(table: pd.DataFrame, *, files: Mapping[str, str] | None = None) -> str:
    """The data dictionary as Markdown: what the extract is, its columns, what was removed."""
    extract = dict(table.attrs.get("extract", {}))
    verbatims = bool(extract.get("verbatims"))
    lines = [
        "# Analysis extract: data dictionary",
        "",
        f"{len(table):,} rows (one per cleaned response, in random order) and "
        f"{table.shape[1]} columns, written by `csat extract"
        f"{' --verbatims' if verbatims else ''}`.",
        "",
        "- No contact fields, names or e-mail addresses; the response ID and the export's row "
        f"are replaced by `{ROW_ID}`, the account name by the pseudonymous `{ACCOUNT_KEY}` "
        "(stable within this extract only).",
        "- Verbatims: "
        + (
            "included, identifiers masked (see their note); review before sharing."
            if verbatims
            else "not included (`csat extract --verbatims` adds them)."
        ),
        "- Pseudonymised, not anonymous: whoever holds the raw export can find a row by its "
        "answers. For the research team's analysts; do not publish.",
    ]
    if files:
        lines += ["", "Files: " + ", ".join(f"`{name}` ({what})" for name, what in files.items())]
    lines += ["", "## Columns", "", *_md_table(data_dictionary(table))]
    removed = removed_columns(table)
    if len(removed):
        lines += ["", "## Removed from the processed table", "", *_md_table(removed)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the files


@dataclass(frozen=True)
class ExtractFiles:
    """What :func:`write_extract` wrote.

    Attributes
    ----------
    folder : pathlib.Path
        The output folder.
    parquet, csv, dictionary_csv, dictionary_md : pathlib.Path
        The table (Parquet, readable by :func:`csatlib.ingest.clean.load_processed` with the
        folder as ``processed_dir``; CSV, formula-safe) and the data dictionary (CSV, Markdown).
    n_rows, n_columns : int
        The table's shape.
    removed : tuple of str
        The processed columns left out.
    verbatims : bool
        Whether free-text answers are in.
    """

    folder: Path
    parquet: Path
    csv: Path
    dictionary_csv: Path
    dictionary_md: Path
    n_rows: int
    n_columns: int
    removed: tuple[str, ...]
    verbatims: bool

    def describe(self) -> list[str]:
        """Lines for the command line."""
        text = "with verbatims (identifiers masked)" if self.verbatims else "without verbatims"
        return [
            f"Analysis table: {self.n_rows:,} rows x {self.n_columns} columns, {text}.",
            f"Removed {len(self.removed)} column(s): {', '.join(self.removed) or 'none'}.",
            f"Wrote {self.parquet.name}, {self.csv.name}, {self.dictionary_csv.name} and "
            f"{self.dictionary_md.name} to {self.folder}.",
        ]


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_out_dir(out_dir: Path, kind: str) -> Path:
    """The resolved output folder: never in a raw folder, never over a processed table."""
    target = Path(out_dir).expanduser().resolve()
    for raw in {config.RAW_DIR.resolve(), config.DEFAULT_RAW_DIR.resolve()}:
        if _inside(target, raw):
            raise DataError(
                f"write_extract: the output folder {str(target)!r} is inside the raw data folder "
                f"{str(raw)!r}, which is never written; choose another (default "
                "reports/extract)"
            )
    existing = target / f"{kind}.parquet"
    if existing.is_file():
        import pyarrow.parquet as pq

        meta = (pq.read_schema(existing).metadata or {}).get(b"csatlib", b"")
        if b'"extract"' not in meta:
            raise DataError(
                f"write_extract: {str(existing)!r} is not an extract (a processed table?) and "
                "would be overwritten; choose another output folder (default reports/extract)"
            )
    return target


def write_extract(
    responses: pd.DataFrame,
    out_dir: str | Path,
    *,
    verbatims: bool = False,
    seed: int | None = None,
) -> ExtractFiles:
    """Write the analysis table (Parquet and CSV) and its data dictionary (CSV and Markdown).

    Parameters
    ----------
    responses : pandas.DataFrame
        The processed responses, as for :func:`analysis_table`.
    out_dir : str or pathlib.Path
        The output folder (created if missing), e.g. ``reports/extract``. Refused inside the raw
        data folder, and where it holds a table of the same name that is not an extract.
    verbatims, seed : keyword-only
        As for :func:`analysis_table`.

    Returns
    -------
    ExtractFiles
        ``<kind>.parquet`` and ``<kind>.csv`` (``responses``), ``data_dictionary.csv`` (one row
        per column of the table, :func:`data_dictionary`) and ``data_dictionary.md`` (the same,
        what was removed and why, :func:`dictionary_markdown`).

    Notes
    -----
    The file names do not depend on ``verbatims``, so an extract without verbatims replaces
    one with them. The CSV goes through :func:`csatlib.safety.write_csv_safely` (a cell that
    begins with ``= + - @``, tab or carriage return is prefixed with an apostrophe). The files
    are written into a temporary folder beside the target and moved into place together, so a
    failed extract leaves the previous one as it was.
    """
    from csatlib.ingest.clean import _write_parquet

    table = analysis_table(responses, verbatims=verbatims, seed=seed)
    kind = str(table.attrs["kind"])
    target = _check_out_dir(Path(out_dir), kind)
    names = {
        "parquet": f"{kind}.parquet",
        "csv": f"{kind}.csv",
        "dictionary_csv": "data_dictionary.csv",
        "dictionary_md": "data_dictionary.md",
    }
    stage = target / f".extract-{uuid.uuid4().hex}"
    stage.mkdir(parents=True)
    try:
        _write_parquet(table, stage / names["parquet"])
        write_csv_safely(table, stage / names["csv"])
        write_csv_safely(data_dictionary(table), stage / names["dictionary_csv"])
        described = {
            names["parquet"]: f'the table for Python: load_processed("{kind}", folder)',
            names["csv"]: "the table for spreadsheets, formula-safe",
            names["dictionary_csv"]: "the table of columns below, as CSV",
        }
        write_text_atomic(
            stage / names["dictionary_md"], dictionary_markdown(table, files=described)
        )
        for name in names.values():
            os.replace(stage / name, target / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return ExtractFiles(
        folder=target,
        **{key: target / name for key, name in names.items()},
        n_rows=len(table),
        n_columns=table.shape[1],
        removed=tuple(c["column"] for c in table.attrs["extract"]["removed"]),
        verbatims=bool(verbatims),
    )
