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

    limit = len(pool) - 2  # room for every question but the two that must be dropped
    kept = verified(small_index, answers, limit=limit)
    # The refused and the misattributed questions were tried, and dropped.
    assert any("credits" in q for q in asked) and any("earn" in q for q in asked)
    assert kept and all("credits" not in q and "earn" not in q for q in kept)
    assert len(kept) <= limit and len(set(kept)) == len(kept)
    assert all(q in asked for q in kept)


class CountingPattern:
    """A compiled pattern that counts the characters handed to the regex engine."""

    def __init__(self, pattern, counter):
        self.pattern, self.counter = pattern, counter

    def search(self, text, pos=0):
        self.counter[0] += len(text) - pos
        return self.pattern.search(text, pos)


def test_fact_checks_read_a_long_adversarial_passage_a_bounded_number_of_times(monkeypatch):
    from server.answering import suggest

    counter = [0]
    wrap = lambda p: CountingPattern(p, counter)  # noqa: E731
    for name in ("PROGRAM_FACTS", "CAREER_FACTS"):
        facts = [
            (kind, tuple(map(wrap, anywhere)), wrap(pattern), template, *map(wrap, later))
            for kind, anywhere, pattern, template, *later in getattr(suggest, name)
        ]
        monkeypatch.setattr(suggest, name, facts)
    # A long list with "tuition" near its end and no dollar figure, "5 years" early and "finish" late: the
    # shapes that made a lookahead over the rest of the text cost its square.
    text = "tuition " * 2 + "Course 101 lab work 5 years " * 2000 + " tuition finish"
    checks = [f for f in suggest.PROGRAM_FACTS + suggest.CAREER_FACTS]
    found = {f[0] for f in checks if suggest.states(text, f[1], f[2], f[4:])}
    assert found == {"duration"}  # the duration is stated ("5 years" ... "finish"), the cost is not ($)
    # Every pattern reads the text at most once: the work is linear in its length.
    assert counter[0] <= len(text) * sum(1 + len(f[1]) + len(f[4:]) for f in checks)
    # No pattern looks ahead over the rest of the text or repeats "anything" without a bound.
    for f in checks:
        for p in (*f[1], f[2], *f[4:]):
            assert "(?=" not in p.pattern.pattern and "[\\s\\S]*" not in p.pattern.pattern


def test_suggestions_under_a_refusal_are_the_nearest_to_what_was_asked(linker):
    from server.answering.answerer import nearest_suggestions
    from server.answering.question import analyse

    offered = [
        "How much does a welding engineer earn?",
        "What GPA does the Harbor Institute of Technology program require?",
        "When is the application deadline at the Lakeview State program?",
        "How many credits does the Harbor Institute of Technology program require?",
    ]
    docs = {offered[0]: "welding-engineers-career", offered[1]: "harbor-tech-data-science"}
    docs |= {offered[2]: "lakeview-robotics", offered[3]: "harbor-tech-data-science"}
    about_lakeview = analyse("What is the application fee at Lakeview State?", linker)
    assert nearest_suggestions(offered, about_lakeview, docs)[0] == offered[2]  # its own documents first
    unnamed = analyse("What do welding engineers earn at the start?", linker)
    assert nearest_suggestions(offered, unnamed, docs)[0] == offered[0]  # most words in common
    assert sorted(nearest_suggestions(offered, unnamed, docs)) == sorted(offered)  # nothing lost
