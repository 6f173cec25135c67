"""Splitting sorted texts into batches: the cheapest split, within the batch limits, covering every text once."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.onnx_model import plan_batches


def cost(plan, widths, call_tokens):
    return sum(call_tokens + len(r) * widths[r.start] for r in plan)


def every_split(n):
    """Every way to cut 0..n-1 into consecutive runs."""
    for cuts in itertools.product((False, True), repeat=max(n - 1, 0)):
        plan, start = [], 0
        for i, cut in enumerate(cuts, start=1):
            if cut:
                plan.append(range(start, i))
                start = i
        plan.append(range(start, n))
        yield plan


def allowed(plan, widths, most, budget):
    return all(len(r) == 1 or (len(r) <= most and len(r) * widths[r.start] <= budget) for r in plan)


@settings(max_examples=300, deadline=None)
@given(
    widths=st.lists(st.integers(1, 80), min_size=1, max_size=9).map(lambda w: sorted(w, reverse=True)),
    most=st.integers(1, 6),
    budget=st.integers(1, 300),
    call_tokens=st.sampled_from([0.0, 3.0, 8.0, 40.0]),
)
def test_the_plan_is_the_cheapest_allowed_split(widths, most, budget, call_tokens):
    plan = plan_batches(widths, most=most, budget=budget, call_tokens=call_tokens)
    assert [i for r in plan for i in r] == list(range(len(widths)))  # every text once, in order
    assert allowed(plan, widths, most, budget)
    best = min(cost(p, widths, call_tokens) for p in every_split(len(widths)) if allowed(p, widths, most, budget))
    assert abs(cost(plan, widths, call_tokens) - best) < 1e-9


def test_queries_of_similar_length_share_a_call_and_a_long_one_goes_alone():
    # Seven short queries and one long one: padding the short ones to 60 tokens costs far more than a call,
    # one token of padding on four of them less.
    widths = [60, 12, 12, 12, 11, 11, 11, 11]
    assert plan_batches(widths, most=64, budget=256, call_tokens=8.0) == [range(0, 1), range(1, 8)]
    # Calls that cost nothing: no padding at all; calls that cost a lot: one batch.
    free = plan_batches(widths, most=64, budget=1000, call_tokens=0.0)
    assert all(len({widths[i] for i in r}) == 1 for r in free)
    assert plan_batches(widths, most=64, budget=1000, call_tokens=1000.0) == [range(0, 8)]
    # The limits hold: at most 3 texts and 30 padded tokens a batch, so the seven short ones go in pairs.
    limited = plan_batches(widths, most=3, budget=30, call_tokens=1000.0)
    assert len(limited) == 5 and allowed(limited, widths, 3, 30)
