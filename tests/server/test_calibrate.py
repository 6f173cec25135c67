"""The fitting behind ``python -m server calibrate`` on hand-made cases (no model, no index)."""

import numpy as np

from server.answering.weights import UNIT_FEATURES
from server.calibrate import (
    SECOND_MARGINS,
    WRONG_UNIT_WEIGHTS,
    Case,
    _mildest,
    choose_decision_settings,
    decision_shares,
    fit,
    score,
    stated_refusal_weight,
)


def _units(*rows: dict[str, float]) -> np.ndarray:
    return np.asarray([[row.get(f, 0.0) for f in UNIT_FEATURES] for row in rows], dtype=float)


def _answerable(set_name: str, i: int, rng: np.random.Generator) -> Case:
    # The answering unit covers the focus; a distractor is semantically close but covers nothing.
    good = {"focus": 1.0, "semantic": 0.5 + rng.uniform(0, 0.2), "passage": 0.6, "kind": 1.0}
    bad = {"focus": 0.1, "semantic": 0.6 + rng.uniform(0, 0.2), "passage": 0.6, "kind": 1.0}
    units = _units(bad, good) if i % 2 else _units(good, bad)
    labels = np.asarray([0.0, 1.0] if i % 2 else [1.0, 0.0])
    return Case(set_name, f"{set_name}{i}", True, True, units, labels, np.ones(2, bool), dense=0.6, doc_focus=1.0)


def _out_of_scope(set_name: str, i: int, rng: np.random.Generator) -> Case:
    # A question on a fact the pages lack: no unit covers its focus, and part of the focus is nowhere.
    bad = {"focus": 0.1 + rng.uniform(0, 0.1), "semantic": 0.4, "passage": 0.5, "kind": 1.0}
    units = _units(bad, bad)
    return Case(
        set_name, f"{set_name}o{i}", False, True, units, np.zeros(2), np.ones(2, bool), dense=0.5, doc_focus=0.3
    )


def _cases() -> list[Case]:
    rng = np.random.default_rng(7)
    cases = []
    for name in ("a", "b", "c"):
        cases += [_answerable(name, i, rng) for i in range(12)]
        cases += [_out_of_scope(name, i, rng) for i in range(3)]
    return cases


def test_the_ranker_learns_that_the_focus_decides_not_the_similarity():
    weights = fit(_cases())
    assert weights.unit["focus"] > 0 > weights.unit["semantic"]
    figures = score(_cases(), weights)
    assert figures["top1_unit"] == 1.0
    assert figures["refused_right"] == 1.0 and figures["answered_right"] == 1.0


def test_the_margin_and_the_weights_are_chosen_by_leaving_each_set_out():
    cases = _cases()
    chosen, figures = choose_decision_settings(cases, ["a", "b", "c"])
    by = figures["held_out_by_margin"]
    assert chosen.margin in SECOND_MARGINS and set(by) == set(SECOND_MARGINS)
    assert chosen.margin == _mildest(by, SECOND_MARGINS)
    by_wrong = figures["held_out_by_wrong_unit_weight"]
    assert set(by_wrong) == set(WRONG_UNIT_WEIGHTS) and chosen.wrong_weight == _mildest(by_wrong, WRONG_UNIT_WEIGHTS)
    assert chosen.refusal_weight == stated_refusal_weight(cases)
    weights = fit(cases, chosen.refusal_weight, margin=chosen.margin, wrong_weight=chosen.wrong_weight)
    answered, refused = decision_shares(cases, weights)
    assert answered == 1.0 and refused == 1.0


def test_the_refusal_weight_is_the_ratio_of_answerable_to_out_of_scope_questions():
    # Eight single answerable questions and two out-of-scope ones: an out-of-scope question answered costs
    # four answerable ones refused; the turns of a conversation are scored apart and do not count.
    cases = [Case("a", f"q{i}", True) for i in range(8)] + [Case("a", "t1.0", True), Case("a", "t1.1", True)]
    cases += [Case("a", "o1", False), Case("a", "o2", False)]
    assert stated_refusal_weight(cases) == 4.0
    assert stated_refusal_weight([Case("a", "o1", False), Case("a", "q1", True)]) == 1.0  # never below 1
    assert stated_refusal_weight([Case("a", "q1", True)]) == 1.0  # no out-of-scope question to weigh


def test_the_margin_is_the_best_neighbourhood_of_its_curve_not_its_best_point():
    spike = {0.5: 0.80, 1.0: 0.95, 1.5: 0.80, 2.0: 0.91, 3.0: 0.92, 4.0: 0.89}
    assert _mildest(spike, tuple(spike)) == 3.0  # a plateau beats a lone spike
    assert _mildest(dict.fromkeys(spike, 0.9), tuple(spike)) == 0.5  # on a flat curve the mildest wins


def _lookalike(set_name: str, i: int, answerable: bool) -> Case:
    # Every question's best unit looks alike; a third of the answerable ones lack an answering unit.
    units = _units({"focus": 0.5, "semantic": 0.5, "passage": 0.5, "kind": 1.0}, {"semantic": 0.2})
    right = answerable and i % 3 != 0
    labels = np.asarray([1.0 if right else 0.0, 0.0])
    return Case(set_name, f"{set_name}{i}", answerable, True, units, labels, np.ones(2, bool), dense=0.5, doc_focus=1)


def test_a_wrong_unit_is_weighed_apart_from_an_out_of_scope_question():
    # Answering is right for 2 of 3 answerable questions: worth it while a wrong unit weighs less than twice a
    # wrong refusal, and no longer when it weighs more.
    cases = [_lookalike("a", i, True) for i in range(30)]
    assert decision_shares(cases, fit(cases, 3.0, wrong_weight=1.5))[0] > 0.6
    assert decision_shares(cases, fit(cases, 3.0, wrong_weight=3.0))[0] == 0.0


def test_a_question_refused_before_retrieval_is_never_answered():
    case = Case("a", "x", False, hard_refusal=True)
    assert decision_shares([case], fit(_cases()))[1] == 1.0
