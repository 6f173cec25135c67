"""The query tokeniser of the serving path gives exactly the tokens the BM25 index was built with."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.lexical import tokenize, tokenize_query

TEXTS = [
    "How much does the program cost, and is the GRE required?",
    "F-1 visa holders and H-1B workers: OPT/STEM extension",
    "Graduates' median pay was $88,500 (2023); the field grows 11% a year.",
    "THE the The — über-café naïve résumés",
    "",
    "a an of to in",  # stop words and one-letter words only
    "Master’s degrees in AI/ML; 30 credits — 3 semesters",
    "Non-Resident fees; the non-thesis track (nonthesis); a non-refundable deposit",
]


def test_a_negated_word_is_one_word_as_well_as_its_parts():
    # "non-thesis" differs from "thesis" as "nonthesis" does, yet "refundable" still finds "non-refundable".
    assert tokenize_query("the non-thesis option") == ["non", "thesi", "nonthesi", "option"]
    assert tokenize_query("Non-Resident tuition") == ["non", "resid", "nonresid", "tuition"]
    assert "nonthesi" in tokenize_query("the nonthesis option")


def test_query_tokens_are_the_index_tokens():
    for text in TEXTS:
        assert tokenize_query(text) == tokenize([text])[0], text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_query_tokens_match_bm25s_on_any_text(text):
    assert tokenize_query(text) == tokenize([text])[0]
