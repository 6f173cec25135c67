"""Property tests: chunk offsets map back exactly, no content sentence is lost, chunking is deterministic."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.blocks import ParsedDocument
from indexer.chunking import ChunkerConfig, chunk_document, clean_document
from indexer.textclean import parse_text

WORDS = st.sampled_from(
    [
        "tuition",
        "program",
        "students",
        "deadline",
        "Boston",
        "engineering",
        "costs",
        "$61,728",
        "years",
        "AI",
        "the",
        "of",
        "and",
        "in",
        "manufacturing",
        "research",
        "December",
        "1",
        "GRE",
        "required",
        "co-op",
        "5%",
    ]
)
SENTENCE = st.lists(WORDS, min_size=4, max_size=25).map(lambda ws: " ".join(ws).capitalize() + ".")
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=8).map(" ".join)
HEADING = st.lists(WORDS, min_size=1, max_size=5).map(lambda ws: "## " + " ".join(ws).title())
ROW = st.tuples(WORDS, WORDS).map(lambda t: f"{t[0]} | {t[1]}")
ITEM = SENTENCE.map(lambda s: "* " + s)
LINE = st.one_of(PARAGRAPH, HEADING, ROW, ITEM, st.just(""))
DOCUMENT = st.lists(LINE, min_size=1, max_size=40).map("\n".join)
CONFIGS = st.builds(
    ChunkerConfig,
    target_words=st.integers(20, 200),
    max_words=st.integers(30, 300),
    min_words=st.integers(0, 60),
    overlap_sentences=st.integers(0, 2),
).filter(lambda c: c.max_words >= c.target_words)


def chunks_of(text: str, config: ChunkerConfig):
    doc = ParsedDocument("d", "d.md", "Doc", "d.md", "md", "h", parse_text(text))
    return chunk_document(doc, config)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT, CONFIGS)
def test_offsets_map_back_to_the_cleaned_text(text, config):
    cleaned, chunks = chunks_of(text, config)
    for chunk in chunks:
        assert cleaned[chunk.start : chunk.end] == chunk.text
        for unit in chunk.units:
            assert chunk.text[unit.start : unit.end].strip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT, CONFIGS)
def test_no_content_sentence_is_lost(text, config):
    doc = ParsedDocument("d", "d.md", "Doc", "d.md", "md", "h", parse_text(text))
    cleaned = clean_document(doc.blocks, config.max_words // 2)  # the pieces chunk_document cuts
    _, chunks = chunk_document(doc, config)
    covered = [False] * len(cleaned.text)
    for chunk in chunks:
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    for section in cleaned.sections:
        for piece in section.pieces:
            assert all(covered[piece.start : piece.end]), cleaned.text[piece.start : piece.end]


@settings(max_examples=80, deadline=None)
@given(DOCUMENT, CONFIGS)
def test_chunking_is_deterministic(text, config):
    a = chunks_of(text, config)[1]
    b = chunks_of(text, config)[1]
    assert [c.to_dict() for c in a] == [c.to_dict() for c in b]


@settings(max_examples=80, deadline=None)
@given(st.lists(SENTENCE, min_size=1, max_size=30))
def test_every_sentence_of_a_plain_paragraph_survives(sentences):
    text = " ".join(sentences)
    cleaned, chunks = chunks_of(text, ChunkerConfig())
    joined = " ".join(c.text for c in chunks)
    for sentence in sentences:
        assert re.sub(r"\s+", " ", sentence) in re.sub(r"\s+", " ", joined)
