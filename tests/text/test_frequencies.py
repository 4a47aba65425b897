"""Tests of csatlib.text.frequencies: counts, shares and small-cell suppression, negated likes
counted as negative, the share table of the CIT notebook, and the top incidents with quotes."""

from __future__ import annotations

import pandas as pd
import pytest

from csatlib.errors import DataError
from csatlib.text import coding, frequencies


@pytest.fixture
def result_data(make_incidents, codebook) -> tuple[pd.DataFrame, pd.DataFrame]:
    de = make_incidents(
        ["fast delivery"] * 20 + ["fair prices"] * 10 + ["lunch"] * 10, country="DE"
    )
    de_neg = make_incidents(["too expensive"] * 5, "negative", country="DE")
    na = make_incidents(["fast delivery"] * 4, country="NA")
    incidents = pd.concat([de, de_neg, na], ignore_index=True)
    incidents["incident_id"] = [f"i{i}" for i in range(len(incidents))]
    return incidents, coding.code_incidents(incidents, codebook)


def test_frequencies_counts_shares_and_suppression(result_data, codebook) -> None:
    incidents, codes = result_data
    freq = frequencies.cit_frequencies(incidents, codes, min_n=30, codebook=codebook)
    got = freq.set_index(["country", "valence", "benefit"])
    row = got.loc[("DE", "positive", "easy_to_do_business_with")]
    assert (row["n"], row["count"], row["share"], row["label"]) == (
        40,
        20,
        0.5,
        "Easy to do business with",
    )
    assert got.loc[("DE", "positive", "good_value"), "count"] == 10
    assert got.loc[("DE", "positive", "partnership"), "count"] == 0  # zeros are listed
    small = freq[freq["country"].isin(["NA"]) | (freq["valence"] == "negative")]
    assert small["suppressed"].all() and small["share"].isna().all() and small["count"].isna().all()
    assert set(small["n"]) == {4, 5}
    attr = frequencies.cit_frequencies(incidents, codes, by=(), level="attribute", min_n=5)
    pricing = attr.set_index(["valence", "attribute"]).loc[("positive", "pricing")]
    assert (pricing["benefit"], pricing["n"], pricing["count"]) == ("good_value", 44, 10)


def test_frequencies_count_negated_likes_as_negative(make_incidents, codebook) -> None:
    incidents = make_incidents(["not on time"] + ["fast delivery"] * 3)
    codes = coding.code_incidents(incidents, codebook)
    freq = frequencies.cit_frequencies(incidents, codes, by=(), min_n=1)
    got = freq.set_index(["valence", "benefit"])
    assert got.loc[("negative", "easy_to_do_business_with"), ["n", "count"]].tolist() == [1, 1]
    assert got.loc[("positive", "easy_to_do_business_with"), ["n", "count"]].tolist() == [4, 3]


def test_frequencies_with_no_coded_incident_are_empty(make_incidents, codebook) -> None:
    # a small survey whose few verbatims match no attribute: with the codebook every benefit
    # is listed with 0; without one there is nothing to list (an empty text column once made
    # the merge with the counts fail)
    incidents = make_incidents(["lunch", "the weather"], country="FR")
    codes = coding.code_incidents(incidents, codebook)
    assert codes.empty
    freq = frequencies.cit_frequencies(incidents, codes, min_n=1, codebook=codebook)
    assert len(freq) == len(codebook.benefits) and (freq["count"] == 0).all()
    assert (freq["n"] == 2).all()
    assert frequencies.cit_frequencies(incidents, codes, min_n=1).empty


def test_share_table_is_percent_by_group_and_valence(result_data, codebook) -> None:
    incidents, codes = result_data
    table = frequencies.share_table(incidents, codes, min_n=30, codebook=codebook)
    assert table.index.names == ["country", "valence", "n"]
    assert table.index.tolist() == [
        ("DE", "negative", 5),
        ("DE", "positive", 40),
        ("NA", "positive", 4),
    ]
    assert list(table.columns) == sorted(codebook.benefits["label"])  # every benefit, by label
    de = table.loc[("DE", "positive", 40)]
    assert (de["Easy to do business with"], de["Good value"], de["Partnership"]) == (50, 25, 0)
    assert table.loc[[("DE", "negative", 5), ("NA", "positive", 4)]].isna().all().all()  # n < 30


def test_share_table_counts_only_the_respondents_given(result_data) -> None:
    incidents, codes = result_data
    incidents = incidents.assign(response_id=[f"R{i}" for i in range(len(incidents))])
    # the 20 DE likes about prices and lunch (rows 20-39); the deliveries and NA left out
    respondents = pd.DataFrame({"response_id": [f"R{i}" for i in range(20, 40)]})
    table = frequencies.share_table(
        incidents, codes, level="attribute", min_n=10, respondents=respondents
    )
    assert table.index.tolist() == [("DE", "positive", 20)]
    assert table.loc[("DE", "positive", 20), "pricing"] == 50  # 10 of 20, by attribute id


def test_top_incidents(result_data, codebook) -> None:
    incidents, codes = result_data
    top = frequencies.top_incidents(
        incidents, codes, country="DE", valence="positive", k=1, quotes=2, min_n=30,
        codebook=codebook,
    )  # fmt: skip
    # 40 respondents liked something; 20 of them the top benefit: below 30, so no quote of it
    assert top["benefit"].tolist() == ["easy_to_do_business_with"]
    assert top["count"].tolist() == [20] and top["quote"].isna().all()
    assert not top["suppressed"].any()
    quoted = frequencies.top_incidents(
        incidents, codes, country="DE", valence="positive", k=1, quotes=2, min_n=20,
        codebook=codebook,
    )  # fmt: skip
    assert quoted["quote"].tolist() == ["fast delivery", "fast delivery"]
    assert not {"incident_id", "response_id", "account"} & set(quoted.columns)
    small = frequencies.top_incidents(incidents, codes, country="NA", valence="positive", min_n=30)
    assert len(small) == 1 and bool(small["suppressed"].iloc[0]) and small["n"].iloc[0] == 4
    assert small["quote"].isna().all() and small["benefit"].isna().all()


def test_small_cells_count_respondents_not_the_items_they_list(make_incidents, codebook) -> None:
    """20 respondents who list 3 likes each are 60 items but 20 people: below 30, suppressed
    (the CIT tables once counted items, and showed a 20-respondent unit's quotes)."""
    incidents = make_incidents(["fast delivery", "fair prices", "lunch"] * 20)
    incidents["response_id"] = [f"r{i // 3}" for i in range(60)]
    incidents["incident_id"] = [f"r{i // 3}|like|{i % 3 + 1}" for i in range(60)]
    codes = coding.code_incidents(incidents, codebook)
    freq = frequencies.cit_frequencies(incidents, codes, min_n=30, codebook=codebook)
    assert (freq["n"] == 60).all() and (freq["respondents"] == 20).all()
    assert freq["suppressed"].all() and freq["count"].isna().all()
    top = frequencies.top_incidents(incidents, codes, country="DE", valence="positive", min_n=30)
    assert len(top) == 1 and bool(top["suppressed"].iloc[0]) and top["n"].iloc[0] == 20
    assert top["quote"].isna().all()
    # without a response_id column, the respondent is read from the incident id
    bare = incidents.drop(columns="response_id")
    assert frequencies.cit_frequencies(bare, codes, min_n=30)["respondents"].eq(20).all()


def test_top_dislikes_say_what_went_wrong(make_incidents, codebook) -> None:
    # Dislikes of good value: 12 about prices, 6 about licences; of easy to do business with:
    # 8 late deliveries, 4 wrong invoices, 1 hard ordering (third: left out with problems=2).
    texts = (
        ["too expensive"] * 12 + ["complicated licensing"] * 6 + ["late delivery"] * 8
        + ["wrong invoices"] * 4 + ["ordering is a pain"]
    )  # fmt: skip
    incidents = make_incidents(texts, "negative")
    incidents["incident_id"] = [f"i{i}" for i in range(len(incidents))]
    codes = coding.code_incidents(incidents, codebook)
    top = frequencies.top_incidents(
        incidents, codes, country="DE", valence="negative", quotes=1, min_n=30, codebook=codebook
    ).set_index("benefit")
    assert top.loc["good_value", "problem"] == "too expensive, unfair or complicated licence terms"
    assert top.loc["easy_to_do_business_with", "problem"] == (
        "late or incomplete deliveries, wrong or incomplete invoices"
    )
    one = frequencies.top_incidents(
        incidents, codes, country="DE", valence="negative", quotes=1, problems=1, min_n=30,
        codebook=codebook,
    ).set_index("benefit")  # fmt: skip
    assert one.loc["good_value", "problem"] == "too expensive"
    # without a codebook every attribute is worded from its id
    bare = frequencies.top_incidents(
        incidents, codes, country="DE", valence="negative", quotes=1, min_n=30
    ).set_index("benefit")
    assert bare.loc["good_value", "problem"] == (
        "problems with pricing, problems with licensing terms"
    )


def test_top_likes_have_no_problem(result_data, codebook) -> None:
    incidents, codes = result_data
    top = frequencies.top_incidents(
        incidents, codes, country="DE", valence="positive", min_n=30, codebook=codebook
    )
    assert top["problem"].isna().all()
    with pytest.raises(DataError, match="'problems' parameter of top_incidents"):
        frequencies.top_incidents(
            incidents, codes, country="DE", valence="positive", problems=0, min_n=30
        )
