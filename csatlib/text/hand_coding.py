"""Hand coding: write the coding sheet for people, read their codes back, validated.

:func:`export_for_coding` writes the incidents no rule or person has coded (with the
assistant's suggestions) plus a blind audit sample of rule-coded ones to a formula-safe CSV;
:func:`import_hand_codes` reads the filled sheet (or a long file ``incident_id, coder,
attribute``) back as a code table of :mod:`csatlib.text.code_tables`, ``method="hand"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from csatlib.errors import DataError, require_columns
from csatlib.safety import write_csv_safely
from csatlib.text.cit_codebook import CitCodebook
from csatlib.text.code_tables import _standardize_codes

__all__ = ["export_for_coding", "import_hand_codes"]


def export_for_coding(
    incidents: pd.DataFrame,
    codes: pd.DataFrame,
    path: str | Path,
    *,
    audit_share: float = 0.05,
    seed: int = 0,
    blind_audit: bool = True,
) -> pd.DataFrame:
    """Write the coding sheet: uncoded incidents plus a random audit sample of rule-coded ones.

    Parameters
    ----------
    incidents
        From :func:`~csatlib.text.coding.split_incidents`.
    codes
        Rule codes, or merged codes (hand, rule, model). Incidents with a rule or hand code
        count as coded; model suggestions do not.
    path
        CSV file to write (UTF-8 with BOM so that Excel shows accents and Japanese).
    audit_share
        Share of the rule-coded incidents drawn (without replacement, at least one if any)
        for a blind re-coding that measures the rule coder's accuracy.
    seed
        Seed of the audit draw.
    blind_audit
        If True (default) the coder does not see the rule codes of audit rows (seeing them
        anchors the coder and inflates agreement).

    Returns
    -------
    pandas.DataFrame
        The sheet as the coder sees it: ``incident_id, valence, text, suggested, attribute,
        audit``. ``suggested`` lists model suggestions (uncoded rows) or, if not blind, rule
        codes (audit rows), separated by ``"; "``. ``attribute`` is blank for the coder, who
        writes one or more attribute ids (or labels) separated by ``;``, or ``none``.

    Notes
    -----
    The file is written with :func:`csatlib.safety.write_csv_safely`: any cell starting with
    ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading apostrophe (OWASP, CSV injection), so a
    verbatim such as ``=HYPERLINK(...)`` cannot run when the sheet is opened in Excel.
    """
    if not 0 <= audit_share <= 1:
        raise DataError(f"export_for_coding: audit_share must be in [0, 1], found {audit_share}")
    require_columns(incidents, ["incident_id", "valence", "text"], "export_for_coding")
    codes = _standardize_codes(codes)
    ids = incidents["incident_id"].astype("string")
    firm = codes[codes["method"].isin(["rule", "hand"])]
    coded = ids.isin(firm["incident_id"])
    rule_ids = ids[ids.isin(firm.loc[firm["method"] == "rule", "incident_id"])].to_numpy()
    n_audit = int(np.ceil(audit_share * len(rule_ids))) if audit_share > 0 else 0
    rng = np.random.default_rng(seed)
    audit_ids = set(rng.choice(rule_ids, size=min(n_audit, len(rule_ids)), replace=False))
    audit = ids.isin(audit_ids).to_numpy()
    take = (~coded.to_numpy()) | audit
    sheet = incidents.loc[take, ["incident_id", "valence", "text"]].reset_index(drop=True)
    sheet["audit"] = audit[take]

    model = codes[codes["method"] == "model"].sort_values("score", ascending=False)
    model_text = model.groupby("incident_id")["attribute"].agg("; ".join)
    rule_text = (
        firm[firm["method"] == "rule"]
        .dropna(subset=["attribute"])
        .groupby("incident_id")["attribute"]
    ).agg("; ".join)
    suggested = sheet["incident_id"].map(model_text).astype(object)
    if not blind_audit:
        rule_suggested = sheet["incident_id"].map(rule_text).astype(object)
        suggested = suggested.where(~sheet["audit"], rule_suggested)
    else:
        suggested = suggested.where(~sheet["audit"], pd.NA)
    sheet["suggested"] = suggested.fillna("").astype("string")
    sheet["attribute"] = ""
    sheet = sheet[["incident_id", "valence", "text", "suggested", "attribute", "audit"]]
    write_csv_safely(sheet, path)
    return sheet


_NONE_VALUES = {"", "none", "-", "n/a", "na", "keine", "aucun", "なし"}


def import_hand_codes(
    path_or_df: str | Path | pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    codebook: CitCodebook,
    coder: str = "hand",
    blank_means: Literal["none", "uncoded"] = "none",
) -> pd.DataFrame:
    """Read hand codes (the filled coding sheet or a long file) and validate them.

    Parameters
    ----------
    path_or_df
        CSV file or DataFrame with ``incident_id`` and ``attribute`` and optionally ``coder``
        and ``valence``. One row per incident (and coder); ``attribute`` may hold several ids or
        labels separated by ``;``, ``,`` or ``|``; ``""`` or ``none`` = no attribute applies.
    incidents
        From :func:`~csatlib.text.coding.split_incidents`; every ``incident_id`` must be among them.
    codebook
        Attributes allowed (ids or labels, case-insensitive).
    coder
        Coder name used when the file has no ``coder`` column.
    blank_means
        ``"none"`` (default; the long-file convention): a blank attribute means "no attribute
        applies". ``"uncoded"``: blank rows are skipped (a sheet coded half-way).

    Returns
    -------
    pandas.DataFrame
        :data:`~csatlib.text.code_tables.CODE_COLUMNS` with ``method="hand"``; ``attribute`` is
        ``<NA>`` on "none" rows; ``valence`` from the file if given, else from the incident.
        Duplicates removed.

    Raises
    ------
    DataError
        Missing columns; an incident id not among the incidents; an unknown attribute; a
        valence other than positive/negative. The message names the file and the spreadsheet
        row (header = row 1) and the value found.
    """
    where, raw = _read_sheet(path_or_df)
    require_columns(raw, ["incident_id", "attribute"], where)
    long = _sheet_rows(raw.reset_index(drop=True), where, incidents, coder)
    if blank_means == "uncoded":
        long = long[long["cell"] != ""]
    long = _one_row_per_attribute(long, where, codebook)
    incident_valence = incidents.set_index(incidents["incident_id"].astype(str))["valence"]
    long["valence"] = long["file_valence"].where(
        long["file_valence"] != "", long["incident_id"].map(incident_valence)
    )
    long["benefit"] = long["attribute"].map(codebook.benefit_of())
    long["method"] = "hand"
    long = long.drop_duplicates(["incident_id", "coder", "attribute"])
    return _standardize_codes(long)


def _read_sheet(path_or_df: str | Path | pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Return where the hand codes come from (for messages) and their cells as strings."""
    if isinstance(path_or_df, pd.DataFrame):
        return "hand codes", path_or_df.astype("string").fillna("")
    where = str(path_or_df)
    try:
        raw = pd.read_csv(path_or_df, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{where}: cannot read the hand codes ({exc})") from None
    return where, raw


def _clean_column(raw: pd.DataFrame, column: str) -> pd.Series:
    s = raw[column].astype(object).where(raw[column].notna(), "").astype(str).str.strip()
    # Undo the formula neutralization of the export ("'-1|like|1" -> "-1|like|1").
    return s.str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True)


def _sheet_rows(raw: pd.DataFrame, where: str, incidents: pd.DataFrame, coder: str) -> pd.DataFrame:
    """``_row, incident_id, coder, cell, file_valence`` per sheet row, ids and valence checked."""
    row = pd.Series(np.arange(len(raw)) + 2, index=raw.index)
    incident_id = _clean_column(raw, "incident_id")
    known = set(incidents["incident_id"].astype(str))
    bad = ~incident_id.isin(known)
    if bad.any():
        first = bad.idxmax()
        raise DataError(
            f"{where}, row {row[first]}: incident_id {incident_id[first]!r} is not among the "
            f"{len(known):,} incidents ({int(bad.sum())} row(s) like this); were the incidents "
            "split from the same responses?"
        )
    coders = (
        _clean_column(raw, "coder") if "coder" in raw.columns else pd.Series(coder, index=raw.index)
    )
    coders = coders.where(coders != "", coder)
    cells = _clean_column(raw, "attribute")
    long = pd.DataFrame({"_row": row, "incident_id": incident_id, "coder": coders, "cell": cells})
    if "valence" in raw.columns:
        long["file_valence"] = _clean_column(raw, "valence").str.casefold()
        bad_v = ~long["file_valence"].isin(["", "positive", "negative"])
        if bad_v.any():
            first = bad_v.idxmax()
            raise DataError(
                f"{where}, row {long.loc[first, '_row']}: valence "
                f"{raw['valence'][first]!r}; expected positive or negative"
            )
    else:
        long["file_valence"] = ""
    return long


def _one_row_per_attribute(long: pd.DataFrame, where: str, codebook: CitCodebook) -> pd.DataFrame:
    """Split each cell into attribute ids (ids or labels; "none" = ``<NA>``), checked."""
    lookup = {a.casefold(): a for a in codebook.attribute_ids}
    lookup.update(
        {
            lab.casefold(): a
            for a, lab in zip(
                codebook.attributes["attribute"], codebook.attributes["label"], strict=True
            )
        }
    )
    long = long.assign(attribute=long["cell"].str.split(r"\s*[;,|]\s*", regex=True))
    long = long.explode("attribute")
    token = long["attribute"].fillna("").str.strip()
    is_none = token.str.casefold().isin(_NONE_VALUES)
    mapped = token.str.casefold().map(lookup)
    bad_a = ~is_none & mapped.isna()
    if bad_a.any():
        first = np.flatnonzero(bad_a.to_numpy())[0]
        raise DataError(
            f"{where}, row {long['_row'].iloc[first]}: unknown attribute "
            f"{token.iloc[first]!r}; expected one of {', '.join(codebook.attribute_ids)} "
            "(or their labels), or 'none'"
        )
    long["attribute"] = mapped.where(~is_none, pd.NA)
    # A cell "none; pricing" is pricing: drop "none" rows of incidents that also have a code.
    has_code = (
        long.assign(_coded=long["attribute"].notna())
        .groupby(["incident_id", "coder"])["_coded"]
        .transform("any")
    )
    return long[long["attribute"].notna() | ~has_code]
