"""What a unit stands under, and the text its context vector is encoded from."""

from indexer.chunking import Chunk, Unit
from indexer.context import context_text, labels_rows, leadin_of, opening

TITLE = "Harlow Polytechnic - Marine Robotics MS"


def _chunk(*units: tuple[str, str], section: str = TITLE) -> Chunk:
    """A chunk of the given (kind, text) units, offsets laid end to end."""
    out, start = [], 0
    for kind, text in units:
        out.append(Unit(start, start + len(text), text, kind))
        start += len(text) + 1
    text = " ".join(t for _, t in units)
    return Chunk("harlow#0", "harlow", TITLE, section, "", None, 0, len(text), text, out)


def test_a_row_is_read_with_the_heading_it_stands_under():
    chunk = _chunk(
        ("sentence", "The program admits a small cohort each year."),
        ("heading", "Application Deadlines"),
        ("kv", "Fall: April 15"),
        ("kv", "Spring: October 1"),
    )
    assert opening(chunk, 3) == 1
    assert context_text(chunk, 3) == "Application Deadlines Spring: October 1"


def test_an_item_is_read_with_the_passage_opening_and_its_lead_in():
    chunk = _chunk(
        ("sentence", "Admission is competitive."),
        ("sentence", "Applicants submit the following:"),
        ("item", "a statement of purpose"),
        ("item", "two letters of recommendation"),
    )
    assert leadin_of(chunk, 3) == 1
    assert context_text(chunk, 3) == (
        "Admission is competitive. Applicants submit the following: two letters of recommendation"
    )


def test_a_passages_first_unit_is_read_with_its_section_else_the_title():
    first = ("sentence", "Most students finish in two years.")
    assert context_text(_chunk(first, section=f"{TITLE} › Program length"), 0) == (
        "Program length Most students finish in two years."
    )
    assert context_text(_chunk(first, section=""), 0) == f"{TITLE} Most students finish in two years."
    assert leadin_of(_chunk(first), 0) is None


def test_a_label_line_over_rows_leads_them_in():
    # A saved page flattened "Spring" (a sub-heading) into the rows it labels.
    chunk = _chunk(
        ("sentence", "Auditions are held on campus."),
        ("kv", "Deadlines: Autumn"),
        ("kv", "Application: January 10"),
        ("kv", "Portfolio: January 20"),
        ("kv", "Spring"),
        ("kv", "Application: September 5"),
    )
    assert labels_rows(chunk, 1) and labels_rows(chunk, 4)
    assert not labels_rows(chunk, 2) and not labels_rows(chunk, 0)  # a row with a figure; a sentence
    assert leadin_of(chunk, 3) == 1
    assert leadin_of(chunk, 5) == 4
    assert context_text(chunk, 5) == "Auditions are held on campus. Spring Application: September 5"
