"""Tests of csatlib.roles' shared metadata: frames derived from a processed table share its
codebook metadata instead of deep-copying it, and nobody can change it by accident."""

from __future__ import annotations

import copy
import json
import pickle

import pandas as pd
import pytest

from csatlib.roles import FrozenMeta, frozen


def test_copies_are_the_object_itself_and_changes_raise() -> None:
    meta = frozen({"roles": {"ltr": "nps"}, "scales": {"ltr": [0, 10]}, "study": "s"})
    assert isinstance(meta, FrozenMeta) and isinstance(meta["roles"], FrozenMeta)
    assert copy.deepcopy(meta) is meta and copy.copy(meta["roles"]) is meta["roles"]
    assert meta["scales"]["ltr"] == [0, 10] and meta["study"] == "s"
    for change in (
        lambda: meta.__setitem__("x", 1),
        lambda: meta["roles"].update(a="b"),
        lambda: meta.pop("study"),
        lambda: meta.setdefault("y", 2),
        lambda: meta.clear(),
    ):
        with pytest.raises(TypeError, match="read-only; build a new mapping"):
            change()
    assert {**meta["roles"], "account": "account"} == {"ltr": "nps", "account": "account"}


def test_it_pickles_and_writes_as_json() -> None:
    meta = frozen({"labels": {"ltr": "Likelihood to recommend"}})
    back = pickle.loads(pickle.dumps(meta))
    assert back == meta and isinstance(back["labels"], FrozenMeta)
    assert json.loads(json.dumps(meta)) == {"labels": {"ltr": "Likelihood to recommend"}}


def test_derived_frames_share_the_metadata_of_the_table() -> None:
    df = pd.DataFrame({"ltr": [9, 3, 7], "country": ["DE", "DE", "FR"]})
    df.attrs.update({"roles": frozen({"ltr": "nps"})})
    derived = df.loc[df["country"] == "DE"].assign(x=1).groupby("country").head(1)
    assert derived.attrs["roles"] is df.attrs["roles"]  # shared, not deep-copied


def _with_roles(frame: pd.DataFrame, role_of: dict[str, str]) -> pd.DataFrame:
    frame.attrs = {"roles": FrozenMeta(role_of)}
    return frame


def test_email_column_is_found_by_role_name_or_content() -> None:
    from csatlib.roles import email_column

    named = _with_roles(
        pd.DataFrame({"respondent": ["Ann"], "Respondent_E-Mail": ["x"]}),
        {"respondent": "contact", "Respondent_E-Mail": "contact"},
    )
    assert email_column(named) == "Respondent_E-Mail"
    by_content = _with_roles(
        pd.DataFrame({"who": ["Ann Lee", "Bo"], "reach": ["ann@x.com", " bo@y.org "]}),
        {"who": "contact", "reach": "contact"},
    )
    assert email_column(by_content) == "reach"
    no_address = _with_roles(pd.DataFrame({"who": ["Ann Lee"]}), {"who": "contact"})
    assert email_column(no_address) is None
    # a column named contact_email without the role does not count in a study with roles
    unroled = _with_roles(pd.DataFrame({"contact_email": ["a@b.co"], "q": [1]}), {"q": "nps"})
    assert email_column(unroled) is None
    assert email_column(pd.DataFrame({"contact_email": ["a@b.co"]})) == "contact_email"
