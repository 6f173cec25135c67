"""Retrieval steered by entities: each entity searched within its own documents, then interleaved."""

from indexer.search import Hit
from server.answering.question import analyse
from server.answering.retrieve import interleave, lexical_query, retrieve
from tests.conftest import FakeEmbedder


def test_interleave_takes_the_first_of_each_entity_first():
    a = [Hit(1, 0.9, 0.9, 0), Hit(2, 0.8, 0.8, 0)]
    b = [Hit(5, 0.5, 0.5, 0), Hit(1, 0.4, 0.4, 0)]
    assert [h.row for h in interleave([a, b])] == [1, 5, 2]


def test_a_named_school_is_searched_within_its_documents(small_state, linker):
    question = analyse("What is the tuition at Lakeview State?", linker)
    vector = FakeEmbedder().embed([question.text])[0]
    groups = retrieve(small_state.retriever, question, question.text, vector, 8)
    docs = {small_state.index.chunks[h.row].doc_id for h in groups[0]}
    assert docs == {"lakeview-robotics"}  # never the tuition sentence of another school


def test_the_callers_restriction_narrows_each_entity(small_state, linker):
    question = analyse("What is the tuition at Lakeview State?", linker)
    vector = FakeEmbedder().embed([question.text])[0]
    groups = retrieve(small_state.retriever, question, question.text, vector, 8, doc_ids=["harbor-tech-data-science"])
    assert groups == [[]]  # the entity asked about is outside the documents allowed


def test_a_yes_no_question_on_one_side_of_a_contrast_also_searches_the_other_side(linker):
    asked = analyse("Can I take the Lakeview State robotics MS online?", linker)
    query = lexical_query(asked, asked.text)
    assert query.startswith(asked.text) and {"campus", "ground"} <= set(query.split())
    # Other questions search their own words only.
    wanting = analyse("What is the online tuition at Lakeview State?", linker)
    assert lexical_query(wanting, wanting.text) == wanting.text
    plain = analyse("Does Lakeview State require the GRE?", linker)
    assert lexical_query(plain, plain.text) == plain.text
