"""Choosing what to quote: the row that matches the focus, lead-ins with their items, typed units."""

import pytest

from server.answering.compose import Candidate, Composer
from server.answering.question import analyse
from server.answering.retrieve import retrieve
from server.answering.weights import Weights
from tests.conftest import FakeEmbedder
from tests.server.answering.conftest import build_state

# Weights that rank by the focus and the asked kind: what these tests are about, whatever the fitted file holds.
FOCUS_FIRST = Weights(
    unit={"bias": -4.0, "focus": 4.0, "kind": 2.0, "semantic": 1.0, "lexical": 1.0, "leadin": 1.0},
    second_unit_margin=0.5,
)


def ranked(state, linker, text, composer=None):
    """The question, its composer, its candidate units in rank order, and the units chosen from them."""
    question = analyse(text, linker)
    vector = FakeEmbedder().embed([question.text])[0]
    groups = retrieve(state.retriever, question, question.text, vector, 8)
    composer = composer or Composer(state.index, FOCUS_FIRST)
    candidates = composer.candidates(question, vector, groups)
    return question, composer, candidates, composer.choose(question, candidates, len(groups))


def compose(state, linker, text, weights=FOCUS_FIRST):
    question, composer, _, chosen = ranked(state, linker, text, Composer(state.index, weights))
    units, more = composer.with_context(question, chosen)
    return question, composer.render(units, more)


def unit_where(index, test) -> tuple[int, int]:
    """(passage row, unit number) of the first unit whose text passes ``test``."""
    return next((r, n) for r, c in enumerate(index.chunks) for n, u in enumerate(c.units) if test(u.text))


def quoted_alone(index, row, n, question):
    """The answer text when unit ``n`` of passage ``row`` is the one unit chosen for ``question``."""
    unit = index.chunks[row].units[n]
    chosen = [Candidate(row, n, 0, 0.9, {}, unit.text, unit.start, unit.end, True)]
    composer = Composer(index, FOCUS_FIRST)
    units, more = composer.with_context(analyse(question), chosen)
    return composer.render(units, more).text


def test_the_row_matching_the_focus_is_quoted(small_state, linker):
    _, answer = compose(small_state, linker, "What's the final application deadline for Lakeview State's robotics MS?")
    assert "June 1" in answer.text and "March 15" not in answer.text


def test_a_lead_in_is_quoted_with_its_items(small_state, linker):
    _, answer = compose(small_state, linker, "Which core courses does Lakeview State's robotics MS require?")
    assert "following core courses" in answer.text
    for code in ("ROB 510", "ROB 520", "ROB 530"):
        assert code in answer.text
    assert answer.text.rstrip().endswith("[1]")


def test_a_long_list_says_how_many_more_instead_of_cutting_silently(small_state, linker):
    composer = Composer(small_state.index, FOCUS_FIRST)
    composer.config = type(composer.config)(max_list_chars=120)
    text = "Which core courses does Lakeview State's robotics MS require?"
    question, _, _, chosen = ranked(small_state, linker, text, composer)
    units, more = composer.with_context(question, chosen)
    answer = composer.render(units, more)
    assert more and "more in [1]" in answer.text


def test_a_valued_question_only_quotes_units_holding_such_a_value(small_state, linker):
    question, answer = compose(small_state, linker, "How much is tuition at Harbor Institute of Technology?")
    assert question.kind == "money" and "$1,150" in answer.text


def test_an_acronym_is_covered_by_its_spelled_out_words(small_state, linker):
    question, answer = compose(small_state, linker, "What GPA does Harbor Tech want?")
    assert question.acronyms == ("gpa",) and "3.1" in answer.text


def test_every_quote_is_a_span_of_its_cited_passage(small_state, linker):
    _, answer = compose(small_state, linker, "How long do students take to finish Harbor Tech's data science MS?")
    assert answer.citations
    for cite in answer.citations:
        text = small_state.index.chunks[cite.row].text
        for start, end in cite.quote:
            assert text[start:end].strip() and " ".join(text[start:end].split()) in " ".join(answer.text.split())


def test_a_bare_yes_or_no_opens_its_sentence_and_is_never_quoted_alone(small_state, linker):
    question, answer = compose(small_state, linker, "Is Lakeview State's robotics MS accredited?")
    assert question.kind == "yesno"
    assert answer.text.startswith("Yes. The MS in Robotics is accredited") and "No." not in answer.text
    _, who = compose(small_state, linker, "Who accredits Lakeview State's robotics MS?")
    assert "ABET" in who.text and not who.text.startswith("Yes")


def test_a_second_unit_must_touch_what_is_asked(small_state, linker):
    generous = Weights(unit=FOCUS_FIRST.unit, second_unit_margin=50.0)  # any unit would be close enough
    _, answer = compose(small_state, linker, "Who accredits Lakeview State's robotics MS?", generous)
    assert "ABET" in answer.text
    # Close enough by score, but about other things: not quoted (without the rule both of these were).
    assert "full-time" not in answer.text and "30 credits" not in answer.text
    assert "GRE" not in answer.text and "letters of recommendation" not in answer.text


def test_a_unit_naming_the_other_side_of_a_contrast_is_marked(small_state, linker):
    question = analyse("When is the spring application deadline at Lakeview State?", linker)
    vector = FakeEmbedder().embed([question.text])[0]
    groups = retrieve(small_state.retriever, question, question.text, vector, 8)
    by_text = {
        c.text: c.feats["conflict"]
        for c in Composer(small_state.index, FOCUS_FIRST).candidates(question, vector, groups)
    }
    assert by_text["Fall Application Deadline: March 15"] == 1.0  # "fall" answers no spring question
    assert by_text["Spring Application Deadline: October 1"] == 0.0
    assert by_text["Final Application Deadline: June 1"] == 0.0  # names no season: not a conflict


def test_a_row_reads_the_label_that_opens_its_block(small_state, linker):
    # "Domestic applicants: May 20" says no term; the line opening its block ("Fall start: …") does.
    question = analyse("When is the fall deadline for domestic applicants at Harbor Tech?", linker)
    vector = FakeEmbedder().embed([question.text])[0]
    groups = retrieve(small_state.retriever, question, question.text, vector, 8)
    composer = Composer(small_state.index, FOCUS_FIRST)
    feats = {c.text: c.feats for c in composer.candidates(question, vector, groups)}
    assert feats["Domestic applicants: May 20"]["conflict"] == 0.0
    assert feats["Domestic applicants: November 20"]["conflict"] == 1.0  # its block is the spring one
    assert feats["Domestic applicants: May 20"]["focus_near"] > feats["Domestic applicants: November 20"]["focus_near"]


def test_the_context_of_a_unit_is_the_unit_before_it_and_the_first_of_its_passage(small_state):
    index = small_state.index
    row, n = next(
        (r, i)
        for r, chunk in enumerate(index.chunks)
        for i, u in enumerate(chunk.units)
        if u.text == "Domestic applicants: November 20"
    )
    chunk = index.chunks[row]
    texts = {chunk.units[j].text for j in Composer.context_before(chunk, n)}
    assert texts == {"Spring start: international applicants: August 1", chunk.units[0].text}
    assert "Domestic applicants: May 20" not in texts  # the fall block's row is not its context
    assert Composer.context_before(chunk, 0) == set()


def test_within_a_passage_the_best_unit_is_quoted_first(small_state):
    index = small_state.index
    row = next(r for r, chunk in enumerate(index.chunks) if len(chunk.units) >= 3)
    units = index.chunks[row].units

    def cand(n, score):
        return Candidate(row, n, 0, score, {}, units[n].text, units[n].start, units[n].end, True)

    answer = Composer(index, FOCUS_FIRST).render([cand(0, 0.4), cand(2, 0.9), cand(1, 0.9)])
    # The best unit and the context it brought (same score) in document order, then the close second.
    first, second, third = (" ".join(units[n].text.split()) for n in (1, 2, 0))
    assert answer.text.index(first) < answer.text.index(second) < answer.text.index(third)
    assert len(answer.citations) == 1


def test_a_lead_in_ending_its_passage_is_quoted_with_the_items_opening_the_next(school_state):
    index = school_state.index
    row = next(r for r, c in enumerate(index.chunks) if c.text.rstrip().endswith("laboratory skills:"))
    lead = len(index.chunks[row].units) - 1
    assert index.chunks[row + 1].doc_id == index.chunks[row].doc_id  # the items are in the next passage
    text = quoted_alone(index, row, lead, "Which laboratory skills are needed?")
    # A sub-heading within the list (a short line over an item) does not end it; it labels its item.
    expected = "laboratory skills: [1] Titration; Infrared spectroscopy; Instrument Skills — Gas chromatography. [2]"
    assert expected in text


def test_a_list_answer_quotes_its_items_in_order_without_the_seconds_of_its_passage(small_state):
    index = small_state.index
    row = next(r for r, c in enumerate(index.chunks) if "following core courses" in c.text)
    units = index.chunks[row].units
    lead = next(n for n, u in enumerate(units) if u.text.endswith("core courses:"))
    other = next(n for n, u in enumerate(units) if "thesis credits" in u.text)
    item = next(n for n, u in enumerate(units) if u.text.startswith("ROB 540"))

    def cand(n, score):
        return Candidate(row, n, 0, score, {}, units[n].text, units[n].start, units[n].end, True)

    composer = Composer(index, FOCUS_FIRST)
    question = analyse("Which core courses do students complete?")
    quoted, _ = composer.with_context(question, [cand(lead, 0.9), cand(other, 0.8), cand(item, 0.7)])
    text = composer.render(quoted).text
    assert "thesis credits" not in text
    assert text.index("ROB 530") < text.index("ROB 540") < text.index("ROB 550")


def test_a_list_question_quotes_a_seconds_list_before_other_seconds(small_state):
    # The best unit is a sentence and a second is an item of a list: the list follows the best unit, whole,
    # and another second of its passage gives it room.
    composer = Composer(small_state.index, FOCUS_FIRST)
    composer.config = type(composer.config)(max_list_chars=250)
    index = small_state.index
    row = next(r for r, c in enumerate(index.chunks) if "following core courses" in c.text)
    units = index.chunks[row].units
    credits = next(n for n, u in enumerate(units) if "thesis credits" in u.text)
    electives = next(n for n, u in enumerate(units) if u.text.startswith("Electives"))
    item = next(n for n, u in enumerate(units) if u.text.startswith("ROB 540"))

    def cand(n, score):
        return Candidate(row, n, 0, score, {}, units[n].text, units[n].start, units[n].end, True)

    question = analyse("Which core courses do robotics students complete?")
    assert question.kind == "list"
    quoted, more = composer.with_context(question, [cand(credits, 0.9), cand(electives, 0.85), cand(item, 0.8)])
    text = composer.render(quoted, more).text
    assert "30 credits" in text and "advisor" not in text and not more
    assert text.index("ROB 510") < text.index("ROB 530") < text.index("ROB 550")


def test_one_entity_compared_within_itself_quotes_each_of_its_pages(school_state):
    # Both pages are the one school asked about; the other page's unit is far below the best, yet answers.
    question, answer = compose(
        school_state, school_state.linker, "At Marlow College, which takes longer: the observation hours or credits?"
    )
    assert question.compare and question.entities == (frozenset({"marlow-dpt-faq", "marlow-counseling-ms"}),)
    docs = {school_state.index.chunks[c.row].doc_id for c in answer.citations}
    assert docs == {"marlow-dpt-faq", "marlow-counseling-ms"} and "60 credits" in answer.text


def test_a_row_next_to_a_chosen_row_that_misses_the_focus_too_may_be_quoted(small_state):
    composer = Composer(small_state.index, FOCUS_FIRST)
    row = next(i for i, c in enumerate(small_state.index.chunks) if "Domestic applicants: May 20" in c.text)
    units = small_state.index.chunks[row].units
    kv = [n for n, u in enumerate(units) if u.kind == "kv"]
    assert len(kv) >= 3 and kv[1] == kv[0] + 1 and kv[2] == kv[1] + 1

    def cand(n: int, score: float, touches: bool = False) -> Candidate:
        u = units[n]
        return Candidate(row, n, 0, score, {}, u.text, u.start, u.end, True, touches)

    question = analyse("When is the window to get in?")
    # Rows under a line that says what they are: neither names the focus, so the next one goes with the best…
    chosen = composer.choose(question, [cand(kv[0], 0.6), cand(kv[1], 0.55)], 1)
    assert [c.unit for c in chosen] == [kv[0], kv[1]]
    # …but not a row two away, nor one beside a best row that names the focus (it is another case then).
    assert [c.unit for c in composer.choose(question, [cand(kv[0], 0.6), cand(kv[2], 0.55)], 1)] == [kv[0]]
    beside = composer.choose(question, [cand(kv[0], 0.6, touches=True), cand(kv[1], 0.55)], 1)
    assert [c.unit for c in beside] == [kv[0]]


def test_a_unit_under_a_later_heading_of_its_passage_reads_that_heading(tmp_path):
    # Three short sections in one passage: the spring rows are about spring, not about the first heading.
    text = (
        "# Key dates\n\nSummer 2031\n\n- Part-time start only\n- Priority deadline: February 2, 2031\n\n"
        "Spring 2032\n\n- Priority deadline: October 5, 2031\n- Final deadline: December 3, 2031\n"
    )
    state = build_state(tmp_path, {"kessler-mba-dates": ("Kessler College - MBA key dates", text)})
    chunk = next(c for c in state.index.chunks if "December 3" in c.text)
    units = [u.text for u in chunk.units]
    final = next(n for n, t in enumerate(units) if "December 3" in t)
    spring = units.index("Spring 2032")
    assert Composer.context_before(chunk, final) == {final - 1, spring}
    composer = Composer(state.index, FOCUS_FIRST)
    row = state.index.chunks.index(chunk)
    assert {"spring", "2032"} <= composer.section_tokens(row, final) and "summer" not in composer.section_tokens(
        row, final
    )
    # The final deadline does not name spring, but stands under it: a close second that touches the question.
    question = analyse("When are the spring 2032 deadlines?", state.linker)
    vector = FakeEmbedder().embed([question.text])[0]
    groups = retrieve(state.retriever, question, question.text, vector, 8)
    found = {c.unit: c for c in composer.candidates(question, vector, groups)}
    assert found[final].touches and found[final].feats["focus"] > 0


def test_an_acronym_spelled_out_in_the_heading_above_covers_the_unit(tmp_path):
    # "QRE" is spelled out only in the section heading above the sentence that gives the score.
    page = (
        "Intro\n\nKessler College admits students every fall.\n\n"
        "The Quantum Reasoning Exam\n\nEvery applicant must sit a standard entrance test before March. "
        "To be considered, applicants must score at least 160 in each section."
    )
    feats = _page_feats(
        tmp_path, ("kessler-admit", "Kessler College - Admission", page), "What QRE score do I need for Kessler?"
    )
    score = next(f for text, f in feats.items() if "160" in text)
    assert score["focus_near"] == 1.0 and score["focus_unit"] < 1.0


def test_an_faq_question_line_is_quoted_with_the_answer_under_it(tmp_path):
    page = (
        "Frequently asked questions\n\n"
        "1. May I apply if I already hold a nursing license?\n"
        "    • No, the program prepares students for their first license only.\n"
        "2. Is there an entrance exam?\n"
        "    • No entrance exam is needed."
    )
    index = build_state(tmp_path, {"kessler-faq": ("Kessler College - Nursing FAQ", page)}).index
    row, n = unit_where(index, lambda text: text.endswith("nursing license?"))
    text = quoted_alone(index, row, n, "Can I apply to Kessler if I have a nursing license?")
    assert "first license only" in text and "entrance exam" not in text


def test_a_short_row_reads_the_meaning_of_the_heading_it_stands_under(tmp_path):
    # "Autumn: April 2" shares no word with the question; the heading over it does.
    page = (
        "Ridgeway Institute graduate study\n\nThe institute offers a research master's in soil science.\n\n"
        "Application Deadlines\n\nAutumn: April 2\n\nWinter: October 9\n\n"
        "Housing\n\nMost students rent rooms near the campus."
    )
    question = "What are the application deadlines at Ridgeway Institute?"
    feats = _page_feats(tmp_path, ("ridgeway-dates", "Ridgeway Institute - Soil Science MS", page), question)
    row, heading, other = (
        feats["Autumn: April 2"],
        feats["Application Deadlines"],
        feats["Most students rent rooms near the campus."],
    )
    assert row["near_semantic"] == heading["semantic"] > row["semantic"]
    # Under another heading, a unit keeps about its own meaning and its heading's, not the deadlines'.
    assert other["near_semantic"] < row["near_semantic"]


def _page_feats(tmp_path, page: tuple[str, str, str], text: str) -> dict[str, dict[str, float]]:
    """Each candidate unit's features for a question over one page written for the test (id, title, text)."""
    doc_id, title, body = page
    return _unit_feats(build_state(tmp_path, {doc_id: (title, body)}), text)


def _unit_feats(state, text: str) -> dict[str, dict[str, float]]:
    """Each candidate unit's features for a question, by the unit's text."""
    return {c.text: c.feats for c in ranked(state, state.linker, text)[2]}


@pytest.mark.parametrize(
    ("feature", "body", "question", "marked", "unmarked", "other_question"),
    [
        # A yes/no question: the unit takes a side (what a yes/no answer states).
        (
            "polar",
            "GRE scores are not required for the soil science program. "
            "Applicants submit a statement of purpose and two letters.",
            "Does Ridgeway Institute require the GRE?",
            "GRE scores are not required for the soil science program.",
            "Applicants submit a statement of purpose and two letters.",
            "Which scores does Ridgeway Institute want?",
        ),
        # The unit names the asker's case, stated before the question.
        (
            "condition",
            "Applicants must submit GRE scores. Applicants who already hold a veterinary degree are exempt from the GRE.",
            "I hold a veterinary degree. Does Ridgeway Institute want GRE scores?",
            "Applicants who already hold a veterinary degree are exempt from the GRE.",
            "Applicants must submit GRE scores.",
            "Does Ridgeway Institute want GRE scores?",
        ),
        # A how-many question, and the unit states a whole.
        (
            "total",
            "Core courses: 12 credits. Students complete a total of 34 credits, including a research project.",
            "How many credits is the Ridgeway Institute soil science MS?",
            "Students complete a total of 34 credits, including a research project.",
            "Core courses: 12 credits.",
            "Does the Ridgeway Institute soil science MS include a research project?",
        ),
    ],
)
def test_a_unit_feature_marks_the_unit_it_describes_for_the_questions_it_serves(
    tmp_path, feature, body, question, marked, unmarked, other_question
):
    page = f"Ridgeway Institute soil science MS\n\n{body}"
    state = build_state(tmp_path, {"ridgeway": ("Ridgeway Institute - Soil Science MS", page)})
    asked = _unit_feats(state, question)
    assert asked[marked][feature] == 1.0
    assert asked[unmarked][feature] == 0.0
    assert _unit_feats(state, other_question)[marked][feature] == 0.0


def test_a_heading_over_list_items_is_quoted_with_its_items(tmp_path):
    # "Studio courses" is a heading, not a sentence ending in a colon, yet it introduces the courses under it.
    page = (
        "Degree requirements for the MFA take three years.\n\n"
        "Studio courses (12 credits)\n\n"
        "- ART 601 Studio Practice (3)\n- ART 602 Critique Seminar (3)\n- ART 610 Thesis Exhibition (6)\n\n"
        "Elective courses (18 credits)\n\n"
        "Students choose electives with their advisor from any graduate department."
    )
    index = build_state(tmp_path, {"dunmore-mfa": ("Dunmore Institute - MFA requirements", page)}).index
    row, lead = unit_where(index, lambda text: text.startswith("Studio courses"))
    assert index.chunks[row].units[lead].kind == "heading"
    text = quoted_alone(index, row, lead, "Which studio courses does the MFA require?")
    assert text.index("Studio courses") < text.index("ART 601") < text.index("ART 602") < text.index("ART 610")
    assert "advisor" not in text


def test_a_label_over_rows_is_no_date_and_its_rows_read_it(tmp_path):
    page = (
        "Auditions for the conducting MM are held on campus.\n\n"
        "Deadlines: Autumn\nApplication: January 10\nPortfolio: January 20\n"
        "Spring\nApplication: September 5\nPortfolio: September 15\n"
    )
    state = build_state(tmp_path, {"velden-mm": ("Velden Conservatory - Master of Music applying", page)})
    feats = _unit_feats(state, "What's the autumn application deadline for Velden's Master of Music?")
    assert feats["Deadlines: Autumn"]["kind"] == 0.0  # a season alone labels the rows; it dates nothing
    assert feats["Application: January 10"]["focus"] == 1.0  # "autumn" from the label over it
    assert feats["Application: September 5"]["focus"] < 1.0


def test_a_lead_in_holds_the_value_its_items_hold(tmp_path):
    page = (
        "Quarry Institute publishes its cohort data each year.\n\n"
        "Enrollment and staffing figures for this program:\n\n"
        "Students enrolled: 240 | Faculty: 18\n\n"
        "The program has met accreditation standards since its founding."
    )
    state = build_state(tmp_path, {"quarry-geo": ("Quarry Institute - Geology MS facts", page)})
    feats = _unit_feats(state, "How many students are enrolled in Quarry Institute's geology MS?")
    lead = next(f for text, f in feats.items() if text.startswith("Enrollment and staffing"))
    assert lead["kind"] == 1.0  # quoted with its row, it states the count
    assert feats["The program has met accreditation standards since its founding."]["kind"] == 0.0


def test_the_chosen_item_of_a_long_list_is_quoted_whatever_its_place(tmp_path):
    filler = (
        "Applicants send the form, a fee and a statement of goals written for the committee, with two letters "
        "from teachers who know their work in the field."
    )
    page = (
        "Applicants to the geology MS must meet these conditions:\n\n"
        + "".join(f"{n}. Condition {n}: {filler}\n" for n in range(1, 5))
        + "5. Prior coursework of two semesters of mineralogy and one of field methods.\n"
        + "6. A writing sample.\n"
    )
    index = build_state(tmp_path, {"corrin-geo": ("Corrin University - Geology MS admission", page)}).index
    row, item = unit_where(index, lambda text: "mineralogy" in text)
    unit = index.chunks[row].units[item]
    composer = Composer(index, FOCUS_FIRST)
    chosen = [Candidate(row, item, 0, 0.9, {}, unit.text, unit.start, unit.end, True)]
    units, more = composer.with_context(analyse("Which prior courses does the geology MS expect?"), chosen)
    text = composer.render(units, more).text
    assert "these conditions" in text and "two semesters of mineralogy" in text  # the lead-in and the chosen item
    assert "more in [1]" in text  # the items left out are counted


def test_a_question_line_with_no_answer_under_it_is_never_chosen(tmp_path):
    # The saved page was cut off after its last question: "Th" is all that is left of the answer.
    page = (
        "Is there a thesis requirement?\n\nYes, every student writes and defends a thesis in the second year.\n\n"
        "Is there a language requirement?\n\nTh\n"
    )
    state = build_state(tmp_path, {"alder-hist": ("Alder College - History MA FAQ", page)})
    text = "Does Alder College's history MA have a language requirement?"
    _, _, candidates, chosen = ranked(state, state.linker, text)
    assert candidates[0].text == "Is there a language requirement?"  # the best match by its words
    assert all(c.text != "Is there a language requirement?" for c in chosen)
    thesis, composer, _, chosen = ranked(
        state, state.linker, "Does Alder College's history MA have a thesis requirement?"
    )
    units, more = composer.with_context(thesis, chosen[:1])
    assert "defends a thesis" in composer.render(units, more).text  # a question line with its answer still serves
