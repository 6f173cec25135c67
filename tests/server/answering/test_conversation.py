"""Slot filling on hand-written conversations: entity switch, attribute switch, return, standalone, pronouns."""

from server.answering.conversation import ConversationState, resolve, update
from server.answering.question import analyse

LAKEVIEW = frozenset({"lakeview-robotics"})
HARBOR = frozenset({"harbor-tech-data-science"})


def talk(linker, *messages):
    """Resolve each message in turn as the engine does; return the resolved turns."""
    state = ConversationState()
    out = []
    for message in messages:
        resolved = resolve(analyse(message, linker), state)
        state = update(state, resolved, True)
        out.append(resolved)
    return out, state


def test_attribute_switch_keeps_the_entity(linker):
    turns, _ = talk(linker, "How many credits is Lakeview State's robotics MS?", "Is the GRE required there?")
    second = turns[1]
    assert second.question.entities == (LAKEVIEW,) and second.inherited_entity
    assert second.question.kind == "yesno" and "gre" in second.question.focus
    assert second.query == "Is the GRE required at Lakeview State?"


def test_entity_switch_keeps_the_question(linker):
    turns, _ = talk(linker, "How many credits is Lakeview State's robotics MS?", "What about at Harbor Tech?")
    second = turns[1]
    assert second.question.entities == (HARBOR,) and second.inherited_attribute
    assert second.question.kind == "count" and "credit" in second.question.focus
    assert second.query == "How many credits is Harbor Tech's robotics MS?"  # readable, no bracketed words


def test_the_article_of_the_old_name_is_dropped_for_a_proper_name(linker):
    turns, _ = talk(
        linker, "How many credits is the Harbor Institute of Technology's data science MS?", "And Lakeview State's?"
    )
    assert turns[1].query == "How many credits is Lakeview State's data science MS?"


def test_return_to_an_earlier_entity(linker):
    turns, state = talk(
        linker,
        "What GPA does Harbor Tech want?",
        "What about at Lakeview State?",
        "Going back to Harbor Tech: how much is tuition?",
    )
    last = turns[2]
    assert last.question.entities == (HARBOR,) and last.question.kind == "money"
    assert not last.inherited_entity and state.names == ["Harbor Tech"]


def test_a_standalone_question_takes_nothing(linker):
    turns, _ = talk(
        linker, "How many credits is Lakeview State's robotics MS?", "What TOEFL score does Harbor Tech require?"
    )
    second = turns[1]
    assert second.question.entities == (HARBOR,) and not second.inherited_entity and not second.inherited_attribute
    assert second.query == "What TOEFL score does Harbor Tech require?"


def test_that_refers_to_the_previous_attribute(linker):
    turns, _ = talk(linker, "Is the GRE required for Lakeview State's robotics MS?", "Can that requirement be waived?")
    second = turns[1]
    assert second.question.entities == (LAKEVIEW,)
    assert "GRE" in second.search  # what "that" stands for is searched too
    assert second.query == "Can that requirement be waived, for Lakeview State?"


def test_a_refusal_keeps_the_entity_in_focus(linker):
    state = ConversationState()
    first = resolve(analyse("How many credits is Lakeview State's robotics MS?", linker), state)
    state = update(state, first, True)
    refused = resolve(analyse("What is the acceptance rate?", linker), state)
    state = update(state, refused, False)
    assert state.entities == [sorted(LAKEVIEW)] and not state.answered
    after = resolve(analyse("And the deadline?", linker), state)
    assert after.question.entities == (LAKEVIEW,)


def test_state_round_trips_through_json():
    state = ConversationState(entities=[["a"]], names=["A"], focus=["cost"], focus_words="cost", kind="money")
    assert ConversationState.from_dict(state.to_dict()) == state
    assert ConversationState.from_dict({"bogus": 1}) == ConversationState()
    assert ConversationState.from_dict(None) == ConversationState()


def test_a_detail_changed_instead_keeps_the_question(linker):
    turns, _ = talk(
        linker, "When is the fall application deadline at Lakeview State?", "What if I start in spring instead?"
    )
    second = turns[1]
    assert second.question.entities == (LAKEVIEW,) and second.inherited_entity
    assert second.question.kind == "date"  # still a deadline question, now about spring
    assert {"applic", "spring"} <= set(second.question.focus)  # "deadline" is said by the date kind


def test_a_continuation_is_not_retried_as_a_fresh_question():
    from server.answering.conversation import refers_back

    assert refers_back("And if I wanted to start in spring instead?")
    assert refers_back("What about the thesis option?")
    assert not refers_back("Who teaches robotics?")


def test_it_pointing_at_the_program_scores_units_on_the_message_own_words(linker):
    turns, _ = talk(linker, "Is the GRE required for Lakeview State's robotics MS?", "is it accredited?")
    second = turns[1]
    assert second.question.entities == (LAKEVIEW,)
    assert "gre" in second.text.lower()  # the previous attribute still steers retrieval…
    assert "gre" not in second.question.tokens and second.question.focus == ("accredit",)  # …but not the choice


def test_a_name_typed_in_lower_case_is_shown_capitalised(linker):
    turns, _ = talk(linker, "How many credits is lakeview state's robotics MS?", "And the GRE?")
    assert turns[1].query == "And the GRE, for Lakeview State?"


def test_a_question_about_a_school_the_documents_lack_carries_nothing_over(linker):
    from server.answering.conversation import ConversationState, resolve, update
    from server.answering.question import analyse

    first = resolve(analyse("What's the GPA for Lakeview State's robotics MS?", linker), ConversationState())
    state = update(ConversationState(), first, True)
    asked = analyse("What is the tuition at Zanzibar Polytechnic?", linker)
    resolved = resolve(asked, state)
    assert resolved.query == "What is the tuition at Zanzibar Polytechnic?"  # nothing appended
    assert not resolved.inherited_entity and resolved.question.unknown_subjects == ["Zanzibar Polytechnic"]


def test_an_aside_naming_a_program_of_the_school_in_focus_moves_there(school_linker):
    from server.answering.answerer import resolve_with  # with what the corpus knows, as the engine resolves

    state = ConversationState()
    first = resolve_with(
        school_linker,
        analyse("How many observation hours does Marlow College's physical therapy program need?", school_linker),
        state,
    )
    assert first.question.entities == (frozenset({"marlow-dpt-faq"}),)
    state = update(state, first, True)
    message = "I'm also looking at their counselor education MS. How many credits does it take?"
    second = resolve_with(school_linker, analyse(message, school_linker), state)
    assert "marlow-counseling-ms" in set().union(*second.question.entities)
    assert "pinecrest-dpt" not in set().union(*second.question.entities)


def test_a_follow_up_that_only_changes_a_detail_keeps_the_question(linker):
    turns, _ = talk(linker, "When is Harbor Tech's fall 2026 deadline for domestic applicants?", "And for spring?")
    second = turns[1]
    assert second.question.kind == "date"
    assert "spring" in second.question.focus and "domest" in second.question.focus
    # The other side of the contrast and the figure that went with it are not carried over.
    assert "fall" not in second.question.focus and "2026" not in second.question.focus
    assert "fall" not in second.search.lower() and "domestic" in second.search.lower()
    # A follow-up asking another attribute is not a changed detail.
    other, _ = talk(linker, "When is Harbor Tech's fall deadline?", "And the tuition?")
    assert other[1].question.kind == "money"


def test_a_changed_detail_searches_the_previous_question_with_its_kind_word(linker):
    # "deadline" restates the date kind, so it is no focus word; the search still asks for a deadline.
    turns, _ = talk(linker, "When was Harbor Tech's deadline for fall 2026 entry?", "And for spring?")
    search = turns[1].search.lower()
    assert "deadline" in search and "entry" in search and "spring" in search
    assert "fall" not in search and "2026" not in search


def test_a_broader_word_beside_a_school_is_not_kept_as_a_name_in_focus():
    from server.answering.conversation import named
    from server.answering.question import Mention, Question

    school = Mention("Harbor Tech", True, frozenset({"harbor"}), by_name=True, lead=True)
    degree = Mention("MS", False, frozenset({"harbor", "lakeview"}), by_name=True, lead=True)
    assert named(Question("q", mentions=(school, degree))) == ["Harbor Tech"]
    other = Mention("Lakeview State", True, frozenset({"lakeview"}), by_name=True, lead=True)
    assert named(Question("q", mentions=(school, other))) == ["Harbor Tech", "Lakeview State"]


def test_a_pronoun_after_a_program_name_points_at_that_program_not_at_the_school_in_focus():
    from server.answering.conversation import _points_before_names
    from server.answering.question import Mention, Question

    program = Mention("Geology MS", False, frozenset({"kenmore-geology"}), by_name=True)
    before = "I'm also looking at their Geology MS. How long is it?"
    after = "What about the Geology MS: what is its deadline?"
    assert _points_before_names(Question(before, mentions=(program,)))
    assert not _points_before_names(Question(after, mentions=(program,)))


def test_the_university_inside_a_schools_name_points_nowhere():
    from server.answering.conversation import _points_before_names
    from server.answering.question import Mention, Question

    school = Mention("University of Kessler", False, frozenset({"kessler-msw"}), by_name=True, lead=True)
    named = "What about the University of Kessler: how many credits a term do students take?"
    assert not _points_before_names(Question(named, mentions=(school,)))
    # A pointer of its own before the name still points back at the school in focus.
    pointed = "Is the university also offering the University of Kessler MSW?"
    assert _points_before_names(Question(pointed, mentions=(school,)))


def test_a_school_named_before_a_pronoun_that_points_at_it_is_switched_to(linker):
    # "its" follows the name: it points at the school just named, not at the one in focus.
    turns, _ = talk(linker, "What is Harbor Tech's tuition?", "What about the Lakeview State MS: what is its deadline?")
    assert turns[1].question.entities == (frozenset({"lakeview-robotics"}),)
    # Pointing back before naming a program keeps the school in focus.
    kept, _ = talk(
        linker, "What is Harbor Tech's tuition?", "I'm also looking at their Lakeview State MS. Is it online?"
    )
    assert kept[1].question.entities == (frozenset({"harbor-tech-data-science"}),)


def test_the_acronym_of_a_carried_attribute_may_be_spelled_out_in_the_answer(linker):
    # "GPA" is asked in the first turn only; the follow-up's page may say "grade point average".
    turns, _ = talk(linker, "What is the minimum GPA for Harbor Tech's data science MS?", "And for Lakeview State?")
    assert "gpa" in turns[1].question.focus and "gpa" in turns[1].question.acronyms
    same, _ = talk(linker, "What is the minimum GPA for Harbor Tech's data science MS?", "And for their Ph.D.?")
    assert "gpa" in same[1].question.acronyms
