"""One file per recipient: a list split by who gets each row, the rows nobody gets kept apart.

:func:`write_by_recipient` writes a list (already under people's headers) once per recipient
(an account manager, a product owner, a business unit) and the rows without a recipient to an
``unrouted`` file, so that every row of the list is in exactly one file per folder.
:func:`file_stems` turns people's names into file names; :class:`Routing` says how a follow-up
list is routed (:func:`csatlib.loop.followup.write_followup_lists`). Who the recipient of a row
is comes from the organisation mapping (:mod:`csatlib.loop.routing`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from csatlib.errors import DataError
from csatlib.safety import write_csv_safely

__all__ = ["UNROUTED", "Routing", "file_stems", "write_by_recipient"]

#: The stem of the file holding the rows nobody is named for (never a recipient's stem).
UNROUTED: str = "unrouted"


def _slug(name: str) -> str:
    """``"Julien Lévêque"`` -> ``"julien-leveque"``: accents folded, lower case, words joined by
    hyphens; letters of other scripts are kept (a file name may hold them)."""
    folded = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "-", folded.casefold()).strip("-") or "unnamed"


def file_stems(names: Iterable[str]) -> dict[str, str]:
    """A file stem for each distinct name, unique among them and never :data:`UNROUTED`.

    Parameters
    ----------
    names : iterable of str
        People's names (account managers, product owners); repeats and blanks are ignored.

    Returns
    -------
    dict of str to str
        Name -> stem, in the order of the stems: ``"Anna Fischer"`` -> ``"anna-fischer"``,
        ``"Élodie Lefèvre"`` -> ``"elodie-lefevre"``.  Two names with one slug ("Ann Lee" /
        "ann  lee") get ``-2``, ``-3`` ... in sorted order of the names, so the stems do not
        depend on the order the names come in.
    """
    distinct = list(
        dict.fromkeys(str(n).strip() for n in names if n is not None and str(n).strip())
    )
    stems: dict[str, str] = {}
    taken = {UNROUTED}
    for name in sorted(distinct, key=lambda n: (_slug(n), n)):  # a few dozen people
        base = stem = _slug(name)
        n = 1
        while stem in taken:
            n += 1
            stem = f"{base}-{n}"
        taken.add(stem)
        stems[name] = stem
    return dict(sorted(stems.items(), key=lambda item: item[1]))


@dataclass(frozen=True)
class Routing:
    """How the rows of a follow-up list reach people.

    Attributes
    ----------
    columns : pandas.DataFrame
        Indexed by the list's row id (the ticket or response id, as text); the columns appended
        to every file of the list, under people's headers (e.g. ``Function``, ``Owner``,
        ``Owner e-mail``).  An id it does not hold gets empty cells.
    recipient : str
        The column of ``columns`` naming who gets the row (<NA>: nobody, the row is unrouted).
    folder : str
        Sub-folder of the per-recipient files (``by_owner``, ``by_manager``).
    stems : Mapping[str, str]
        Every recipient of the mapping -> file stem (:func:`file_stems`); each gets a file, header
        only when no row is theirs.
    unrouted_reason : str
        Why a row has no recipient, for README.txt ("its product is not in the organisation
        mapping").
    """

    columns: pd.DataFrame
    recipient: str
    folder: str
    stems: Mapping[str, str] = field(default_factory=dict)
    unrouted_reason: str = "not in the organisation mapping"

    def appended(self, people: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
        """``people`` with :attr:`columns` appended, row ``i`` taking the columns of ``ids[i]``."""
        extra = self.columns[~self.columns.index.duplicated()]
        clash = [c for c in extra.columns if c in people.columns]
        if clash:
            raise DataError(
                f"Routing: the list already has the column(s) {clash}; rename them in the "
                "codebook (label) to route the list"
            )
        found = extra.reindex(pd.Index(ids.astype("string").to_numpy()))
        out = people.copy()
        for column in extra.columns:  # three columns at most
            out[column] = found[column].to_numpy()
        return out


def write_by_recipient(
    people: pd.DataFrame,
    recipient: pd.Series,
    folder: Path,
    *,
    files: Mapping[str, str],
    unrouted: str = f"{UNROUTED}.csv",
) -> tuple[Path, ...]:
    """Write each recipient's rows of ``people`` to its file, the others to ``unrouted``.

    Parameters
    ----------
    people : pandas.DataFrame
        The list as written for people.  A row may appear several times (an account in two
        business units), once per recipient.
    recipient : pandas.Series
        Who gets each row of ``people`` (same length, by position); <NA> for nobody.
    folder : pathlib.Path
        Created if missing.
    files : Mapping[str, str]
        Recipient -> file name (``"anna-fischer.csv"``), in the order to write them; every
        recipient gets its file, header only when no row is theirs.
    unrouted : str
        File name of the rows without a recipient (written even when there are none).

    Returns
    -------
    tuple of pathlib.Path
        The recipients' files in the order of ``files``, then the unrouted file.

    Raises
    ------
    DataError
        ``recipient`` has another length than ``people``, names a recipient ``files`` lacks,
        or ``unrouted`` is also a recipient's file.
    """
    if len(recipient) != len(people):
        raise DataError(
            f"write_by_recipient: expected one recipient per row ({len(people)}), found "
            f"{len(recipient)}"
        )
    if unrouted in set(files.values()):
        raise DataError(f"write_by_recipient: {unrouted!r} is also a recipient's file name")
    who = recipient.astype("string").reset_index(drop=True)
    named = who.notna().to_numpy()
    unknown = sorted(set(who[named]) - set(files))
    if unknown:
        raise DataError(
            f"write_by_recipient: no file name for recipient(s) {unknown}; expected one of "
            f"{sorted(files)}"
        )
    rows = people.reset_index(drop=True)
    paths = [
        write_csv_safely(rows[who.eq(name).fillna(False).to_numpy(dtype=bool)], Path(folder) / file)
        for name, file in files.items()  # one file per person, a few dozen
    ]
    paths.append(write_csv_safely(rows[~named], Path(folder) / unrouted))
    return tuple(paths)
