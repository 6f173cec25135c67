"""Typed answerability: refuse when the entity's pages hold no unit of the asked kind, naming what they cover."""

from server.answering.question import analyse
from server.answering.retrieve import interleave, retrieve
from tests.conftest import FakeEmbedder


def decide(state, linker, text):
    question = analyse(text, linker)
    refusal = state.refuser.before_retrieval(question)
    if refusal:
        return refusal
    vector = FakeEmbedder().embed([question.text])[0]
    groups = retrieve(state.retriever, question, question.text, vector, 8)
    candidates = state.composer.candidates(question, vector, groups)
    chosen = state.composer.choose(question, candidates, len(groups))
    refusal, _ = state.refuser.after_composition(question, interleave(groups), candidates, chosen)
    return refusal


def test_no_unit_of_the_asked_kind_is_refused_with_what_the_pages_cover(small_state, linker):
    # Lakeview's page states deadlines and credits but no percentage at all.
    refusal = decide(small_state, linker, "What is the acceptance rate for Lakeview State's robotics MS?")
    assert refusal is not None and refusal.reason.startswith("no unit states a percentage")
    text = refusal.text("the whole corpus")
    assert "Lakeview State University" in text and "They cover: Admissions" in text and "whole corpus" not in text


def test_a_person_question_without_a_name_in_the_pages_is_refused(small_state, linker):
    refusal = decide(small_state, linker, "Who directs the robotics MS at Lakeview State?")
    assert refusal is not None and "person" in refusal.reason


def test_an_unknown_subject_is_refused_by_name(small_state, linker):
    refusal = decide(small_state, linker, "What is the tuition for Stanford's data science master's?")
    assert refusal is not None and refusal.message.startswith("The documents I have don't mention Stanford")
    refusal = decide(small_state, linker, "What's the application deadline for the Thornbury MBA?")
    assert refusal is not None and refusal.message.startswith("The documents I have don't mention Thornbury MBA")
    refusal = decide(small_state, linker, "how much is tuition at the university of thornbury")
    assert refusal is not None and refusal.message.startswith(
        "The documents I have don't mention university of thornbury"
    )


def test_a_program_the_schools_pages_never_name_is_refused_with_what_they_cover(small_state, linker):
    # "Data Science" is another school's program: Lakeview's page never says it.
    question = analyse("What does Lakeview State's MS in Data Science cost?", linker)
    assert question.programs == ("Data Science",)
    refusal = small_state.refuser.before_retrieval(question)
    assert refusal is not None and refusal.message.endswith("don't mention Data Science.")
    assert "Lakeview State University" in refusal.message and refusal.covers.startswith("Admissions")
    # The school whose pages name it, and names written in capitals ("GPA and GRE"), are not refused so.
    assert (
        small_state.refuser.before_retrieval(analyse("What does Harbor Tech's MS in Data Science cost?", linker))
        is None
    )
    assert analyse("What GPA and GRE does Lakeview State's MS in Robotics want?", linker).programs == ()


def test_a_question_of_no_words_is_refused(small_state):
    refusal = small_state.refuser.before_retrieval(analyse("?!?"))
    assert refusal is not None and refusal.reason == "no content words"


def test_decision_features_read_the_chosen_unit_and_the_best_of_the_asked_kind():
    from server.answering.refuse import decision_features
    from server.answering.weights import DECISION_FEATURES

    chosen = {"focus": 0.5, "semantic": 0.4, "focus_semantic": 0.3, "focus_near": 0.9, "near_semantic": 0.7}
    chosen["condition"] = 1.0
    others = [chosen, {"focus": 1.0, "semantic": 0.2, "focus_semantic": 0.6, "focus_near": 1.0, "near_semantic": 0.8}]
    feats = decision_features(0.55, chosen, 0.8, others, doc_focus=0.5, doc_missing=1.0)
    assert set(feats) == set(DECISION_FEATURES)
    assert feats["score"] == 0.8 and feats["focus"] == 0.5 and feats["focus_semantic"] == 0.3
    assert feats["focus_near"] == 0.9 and feats["near_semantic"] == 0.7  # the chosen unit's, with its context
    assert feats["condition"] == 1.0  # the chosen unit names the asker's case
    assert feats["max_focus"] == 1.0 and feats["max_semantic"] == 0.4 and feats["max_focus_semantic"] == 0.6
    assert feats["doc_gap"] == 1.0 and feats["doc_missing"] == 1.0  # a word asked about is in none of the pages
    assert feats["acronym_missing"] == 0.0  # none written in capitals is missing (the default)
    nothing = decision_features(0.55, None, 0.0, [], doc_focus=1.0, doc_missing=0.0)
    assert nothing["score"] == 0.0 and nothing["doc_gap"] == 0.0 and nothing["max_focus"] == 0.0
    assert nothing["condition"] == 0.0


def test_a_test_asked_about_by_its_capitals_and_missing_from_the_entitys_pages_is_a_feature(small_state, linker):
    # Lakeview's page names the GRE and no English test; Harbor Tech's page names the TOEFL.
    def acronym_missing(text):
        question = analyse(text, linker)
        return small_state.refuser.doc_focus(question, [])[2]

    assert acronym_missing("What TOEFL score does Lakeview State's robotics MS want?") == 1.0
    assert acronym_missing("Is the GRE required for Lakeview State's robotics MS?") == 0.0
    assert acronym_missing("What TOEFL score does Harbor Tech's data science program want?") == 0.0


def test_a_school_named_by_words_no_page_writes_together_is_refused_offering_the_nearest(tmp_path):
    from tests.server.answering.conftest import build_state

    # "State" opens two titles and is written in most pages (a word, no name alone); "Dunmore" and "State" are
    # never written together.
    others = ["Kessler", "Harwick", "Tamar", "Lenox", "Corwin", "Bexley", "Ardent", "Morrow", "Quill", "Selby"]
    pages = {f"{s.lower()}-art": (f"{s} College - Studio Art MFA", "State residents pay less.") for s in others}
    states = ["Pemberton", "Ruxton"]
    pages |= {
        f"{s.lower()}-state-art": (f"{s} State University - Studio Art MFA", "State residents pay less.")
        for s in states
    }
    pages["dunmore-geology"] = ("Dunmore University (Geology) - MS admission", "Applications close March 3.")
    state = build_state(tmp_path, pages)
    refusal = decide(state, state.linker, "What's the application deadline for Dunmore State's geology MS?")
    assert refusal is not None and refusal.message.startswith("The documents I have don't mention Dunmore State.")
    assert "Did you mean “Dunmore University (Geology) - MS admission”" in refusal.message  # the rarer word first
    assert decide(state, state.linker, "When do applications close for Dunmore University's geology MS?") is None
