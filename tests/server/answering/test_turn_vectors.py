"""Every query vector a turn reads is awaited before the turn: none is encoded on the event loop afterwards,
for a retry on its own or for a two-part question either (no hidden channel carries them)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server.answering import engine as engine_module
from tests.conftest import FakeEmbedder, engine_over

PAGES = Path(__file__).resolve().parent / "pages"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    made = engine_over(tmp_path_factory.mktemp("turns"), PAGES, FakeEmbedder())
    yield made
    made.close()


@pytest.fixture
def misses(monkeypatch):
    """The vectors read but not prepared, across the turns of a test."""
    missed: list[int] = []
    original = engine_module.Vectors.__call__

    def counting(self, text):
        before = self.missed
        vector = original(self, text)
        missed.append(self.missed - before)
        return vector

    monkeypatch.setattr(engine_module.Vectors, "__call__", counting)
    return missed


def test_a_conversation_with_a_retry_and_a_two_part_question_encodes_nothing_late(engine, misses):
    async def talk():
        session = (await engine.achat("How many credits is Lakeview State's robotics MS?")).session_id
        # The entity in focus cannot answer this; it is retried on its own (its own subject).
        await engine.achat("And how much do welding engineers earn?", session)
        await engine.achat("What's the median pay for welding engineers, and what do the top ones earn?")
        await engine.acomplete(["How much is tuition at Harbor Tech?", "And the GRE?"])

    asyncio.run(talk())
    assert misses and sum(misses) == 0  # vectors were read, every one of them prepared


def test_a_synchronous_turn_encodes_what_it_reads(engine):
    vectors = engine.vectors()
    first = vectors("GPA")
    assert vectors("GPA") is first and vectors.missed == 0  # encoded once when read, not counted as missed


def test_focus_phrases_are_encoded_once_and_questions_every_time(engine):
    import asyncio

    embedder = engine.embedder
    before = embedder.texts_embedded

    async def ask_twice():
        for _ in range(2):
            await engine.achat("What is the final application deadline at Lakeview State?")

    asyncio.run(ask_twice())
    # First time the question and its focus phrase; second time the question alone (the phrase is cached).
    assert embedder.texts_embedded - before == 3
    assert engine.phrases.get("final application") is not None
