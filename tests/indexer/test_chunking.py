from pathlib import Path

import pytest

from indexer.chunking import ChunkerConfig, chunk_document
from indexer.loaders import load_document

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


@pytest.fixture(scope="module")
def northeastern():
    doc = load_document(CORPUS / "northeastern-ms-advanced-intelligent-manufacturing.txt", CORPUS)
    return doc, *chunk_document(doc, ChunkerConfig())


def test_offsets_map_back_to_text(northeastern):
    _, text, chunks = northeastern
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        for unit in chunk.units:
            assert 0 <= unit.start < unit.end <= len(chunk.text)


def test_tables_stay_with_their_heading_and_sections_have_trails(northeastern):
    _, _, chunks = northeastern
    spring = [c for c in chunks if "Spring Semester Entry" in c.text]
    assert len(spring) == 1
    chunk = spring[0]
    assert "Domestic Applicants | December 1" in chunk.text
    assert chunk.section.startswith("Admissions › ")
    labels = [u.text for u in chunk.units]
    assert "Spring Semester Entry — Domestic Applicants: December 1" in labels


def test_tuition_figure_is_a_quotable_unit(northeastern):
    _, _, chunks = northeastern
    units = [u.text for c in chunks for u in c.units]
    assert any("$61,728" in u for u in units)
    kv = [u.text for c in chunks for u in c.units if u.kind == "kv"]
    assert "Duration: 2 Year(s)" in kv


def test_chunk_sizes_and_stable_ids(northeastern):
    doc, _, chunks = northeastern
    assert all(len(c.text.split()) <= ChunkerConfig().max_words + 40 for c in chunks)
    _, again = chunk_document(doc, ChunkerConfig())
    assert [c.chunk_id for c in chunks] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_long_sections_split_at_sentences_with_overlap():
    from indexer.blocks import Block

    sentences = [f"Sentence number {i} talks about topic {i} in some detail here." for i in range(60)]
    blocks = [Block("heading", "Long section", level=1), Block("para", " ".join(sentences))]
    from indexer.blocks import ParsedDocument

    doc = ParsedDocument("d", "d.txt", "D", "d.txt", "txt", "h", blocks)
    _, chunks = chunk_document(doc, ChunkerConfig(target_words=100, max_words=150, min_words=20))
    assert len(chunks) >= 4
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.text.split(". ")[-1].rstrip(".") in b.text  # one sentence of overlap
        assert b.text.startswith("Sentence number")


def test_a_heading_guessed_from_a_short_line_is_quotable_too():
    from indexer.textclean import parse_text

    text = (
        "Field Work\n\nStudents complete supervised hours in a partner clinic.\n\n"
        "Clinical Hours\n220-hour residency\n\nThe residency is completed in the final year.\n"
    )
    blocks = parse_text(text)
    assert ("heading", "220-hour residency") in [(b.kind, b.text) for b in blocks]
    from indexer.blocks import ParsedDocument

    doc = ParsedDocument("d", "d.txt", "D", "d.txt", "txt", "h", blocks)
    _, chunks = chunk_document(doc, ChunkerConfig())
    units = [(u.kind, u.text) for c in chunks for u in c.units]
    assert ("heading", "220-hour residency") in units
    # It comes just before the sentence it heads, so that sentence's context is still its heading.
    texts = [u.text for c in chunks for u in c.units]
    assert texts.index("The residency is completed in the final year.") == texts.index("220-hour residency") + 1


def test_a_row_under_column_names_is_quoted_with_them():
    from indexer.blocks import Block, ParsedDocument

    header = ("Headcount", "Mean hourly pay", "Mean yearly pay")
    blocks = [Block("heading", "Wages", level=1), Block("row", "48,210 | $31.20 | $64,900", header=header)]
    _, chunks = chunk_document(ParsedDocument("d", "d.txt", "D", "d.txt", "txt", "h", blocks), ChunkerConfig())
    units = [u.text for c in chunks for u in c.units]
    assert "Headcount: 48,210; Mean hourly pay: $31.20; Mean yearly pay: $64,900" in units
