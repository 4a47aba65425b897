"""Tests of the invitations the sample generator writes (csatlib.sample.synth, invitations.csv).

Read back from the written files with plain pandas, as tests/sample/test_synth.py does.  That the
other raw files stay byte-identical is guaranteed by the invitations' own random stream and
checked by test_synth.py's comparison with data/raw.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from csatlib.config import RAW_DIR
from csatlib.ingest.invitations import load_invitations
from csatlib.sample import synth


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return synth.generate(tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="module")
def invitations(generated: dict[str, Path]) -> pd.DataFrame:
    return load_invitations(generated["invitations.csv"])  # valid: no duplicate, every cell


@pytest.fixture(scope="module")
def respondents(generated: dict[str, Path]) -> pd.DataFrame:
    export = pd.read_csv(generated["relationship_survey.csv"], dtype=str, keep_default_na=False,
                         skiprows=[1, 2], encoding="utf-8-sig")  # fmt: skip
    recorded = pd.to_datetime(export["RecordedDate"], format="%Y-%m-%d %H:%M:%S")
    return pd.DataFrame(
        {
            "wave": recorded.dt.year.astype(str) + "-Q" + recorded.dt.quarter.astype(str),
            "email": export["Q16"].str.strip().str.casefold(),
        }
    )


def test_invitations_match_the_committed_file(generated: dict[str, Path]) -> None:
    assert generated["invitations.csv"].read_bytes() == (RAW_DIR / "invitations.csv").read_bytes()


def test_every_respondent_address_is_invited_in_its_wave(
    invitations: pd.DataFrame, respondents: pd.DataFrame
) -> None:
    assert invitations["wave"].unique().tolist() == [synth.WAVES[-1]]  # the latest list only
    invited = set(zip(invitations["wave"], invitations["email"].str.casefold(), strict=True))
    given = respondents[respondents["email"].ne("") & respondents["wave"].eq(synth.WAVES[-1])]
    assert len(given) > 3000
    missing = [pair for pair in zip(given["wave"], given["email"], strict=True)
               if pair not in invited]  # fmt: skip
    assert missing == []


def test_overall_rate_is_about_a_fifth_and_varies(
    invitations: pd.DataFrame, respondents: pd.DataFrame
) -> None:
    answered = set(zip(respondents["wave"], respondents["email"], strict=True))  # every wave
    hit = pd.Series(
        [pair in answered for pair in zip(invitations["wave"],
                                          invitations["email"].str.casefold(), strict=True)]
    )  # fmt: skip
    assert 0.15 <= hit.mean() <= 0.25
    by_country = hit.groupby(invitations["country"].to_numpy()).mean()
    assert by_country.max() - by_country.min() > 0.05  # not one rate everywhere


def test_invitations_use_the_master_and_never_the_revenue_only_accounts(
    generated: dict[str, Path], invitations: pd.DataFrame
) -> None:
    master = pd.read_csv(generated["contact_master.csv"], dtype=str, keep_default_na=False)
    from_master = invitations[invitations["contact_id"].str.startswith("CT")]
    assert set(from_master["contact_id"]) <= set(master["contact_id"])
    assert not master.set_index("contact_id").loc[from_master["contact_id"], "do_not_survey"].eq(
        "Y").any()  # fmt: skip
    truth = pd.read_json(generated["ground_truth.json"], typ="series")["accounts"]
    never = {name for name, a in truth.items() if not a["in_survey"]}
    assert never and not set(invitations["account"]) & never
    readme = generated["README.md"].read_text(encoding="utf-8")
    assert (
        f"`invitations.csv`: the deployment list of the latest wave ({len(invitations):,}" in readme
    )
