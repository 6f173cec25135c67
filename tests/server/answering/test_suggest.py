"""Suggested questions: phrased as a student asks, drawn from the facts each page states, kept only when answered."""

from __future__ import annotations

from server.answering.suggest import _role, candidates, verified


def test_candidates_ask_about_the_facts_each_page_states(small_index):
    found = {(c.doc_id, c.kind): c.question for c in candidates(small_index)}
    assert found[("harbor-tech-data-science", "credits")] == (
        "How many credits does the Harbor Institute of Technology program require?"
    )
    assert found[("welding-engineers-career", "pay")] == "How much does a welding engineer earn?"
    assert ("lakeview-robotics", "deadline") in found
    # A career page never gets program questions, and no question is machine-made.
    assert not any(doc == "welding-engineers-career" and kind in ("gre", "credits") for doc, kind in found)
    assert not any("“" in q or "say about" in q for q in found.values())


def test_role_names_a_job_not_a_page():
    assert _role("Industrial Engineers") == "an industrial engineer"
    assert _role("AI/ML Engineer") == "an AI/ML engineer"
    assert _role("Robotics Engineering Career Guide") is None
    assert _role("") is None


def test_only_questions_answered_from_their_own_page_are_kept(small_index):
    pool = candidates(small_index)
    by_question = {c.question: c.doc_id for c in pool}
    asked: list[str] = []

    def answers(question: str) -> list[str] | None:
        asked.append(question)
        if "credits" in question:
            return None  # refused
        if "earn" in question:
            return ["lakeview-robotics"]  # answered, but from another page
        return [by_question[question]]

    kept = verified(small_index, answers, limit=4)
    # The refused and the misattributed questions were tried, and dropped.
    assert any("credits" in q for q in asked) and any("earn" in q for q in asked)
    assert kept and all("credits" not in q and "earn" not in q for q in kept)
    assert len(kept) <= 4 and len(set(kept)) == len(kept)
    assert all(q in asked for q in kept)
