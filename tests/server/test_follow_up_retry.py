"""A follow-up the school in focus cannot answer is tried on its own, but not answered from another school's
pages unless it names a subject of its own; a page of no school (a careers article) may answer it."""

import pytest

from tests.conftest import engine_over

pytestmark = pytest.mark.integration

PAGES = {
    "kessler-law-dates.md": (
        "Kessler University School of Law - JD application dates",
        "The JD application deadline is March 1. Admission decisions are released by April 15.",
    ),
    "harwell-law-faq.md": (
        "Harwell College of Law - JD admissions FAQ",
        "Is the LSAT required? Yes: every JD applicant must submit an LSAT score.",
    ),
    "law-careers.md": (
        "Careers in Law (2031) - what new lawyers earn",
        "The average starting salary for new lawyers was $92,000 in 2031.",
    ),
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory, real_embedder):
    pages = tmp_path_factory.mktemp("pages")
    for name, (title, text) in PAGES.items():
        (pages / name).write_text(f'---\ntitle: "{title}"\n---\n{text}\n', encoding="utf-8")
    made = engine_over(tmp_path_factory.mktemp("retry"), pages, real_embedder)
    yield made
    made.close()


def test_a_bare_follow_up_is_not_answered_from_another_schools_pages(engine):
    first = engine.chat("When is the JD application deadline at Kessler?")
    assert first.answered and "March 1" in first.answer
    lsat = engine.chat("Is the LSAT required?", first.session_id)
    assert "harwell-law-faq" not in {c["doc_id"] for c in lsat.citations}
    assert not lsat.answered and "Kessler" in lsat.answer  # refused about the school asked of


def test_a_bare_follow_up_may_be_answered_from_a_page_of_no_school(engine):
    first = engine.chat("When is the JD application deadline at Kessler?")
    salary = engine.chat("What's the average starting salary?", first.session_id)
    assert salary.answered and "$92,000" in salary.answer
    cited = {c["doc_id"] for c in salary.citations}
    assert "law-careers" in cited and not cited & {"harwell-law-faq", "kessler-law-dates"}


def test_a_follow_up_naming_its_own_school_switches(engine):
    first = engine.chat("When is the JD application deadline at Kessler?")
    lsat = engine.chat("And is the LSAT required at Harwell?", first.session_id)
    assert lsat.answered and {c["doc_id"] for c in lsat.citations} == {"harwell-law-faq"}
