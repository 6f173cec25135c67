from server.followup import is_followup, resolve, topic_of
from server.sessions import Turn


def turn(message: str) -> Turn:
    return Turn(message, message, topic_of(message), "answer", True, ["doc"])


def test_topic_strips_question_words():
    assert (
        topic_of("Tell me about Northeastern's advanced manufacturing master's.")
        == "Northeastern's advanced manufacturing master's"
    )


def test_pronoun_follow_up_carries_the_topic():
    query, topic, followup = resolve(
        "How much does it cost?", [turn("Tell me about Northeastern's manufacturing master's")]
    )
    assert followup and "Northeastern's" in query and query.startswith("How much does it cost?")
    assert topic == "Northeastern's manufacturing master's"


def test_standalone_question_is_left_alone():
    history = [turn("Tell me about Northeastern's manufacturing master's")]
    query, _, followup = resolve("What salary can AI master's graduates expect in manufacturing?", history)
    assert not followup and query == "What salary can AI master's graduates expect in manufacturing?"


def test_no_history_means_no_rewrite():
    assert resolve("How much does it cost?", []) == ("How much does it cost?", "does it cost", False)


def test_short_questions_are_follow_ups():
    assert is_followup("Is the GRE required?")
    assert not is_followup("What programming languages should applicants know for an AI master's degree?")
