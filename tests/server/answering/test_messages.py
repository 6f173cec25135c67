"""The one check of message text: the same rules and errors for every entry point."""

from __future__ import annotations

import pytest

from server.answering.messages import clean_message
from server.errors import InvalidRequest


def test_invisible_characters_and_compatibility_forms_are_normalised():
    assert clean_message("Tuition at Red\u200bfield\u2060?", 100) == "Tuition at Redfield?"
    assert clean_message("Ｒｅｄｆｉｅｌｄ ＧＲＥ?", 100) == "Redfield GRE?"
    assert clean_message("\ufeff  What is the ﬁnal deadline? ", 100) == "What is the final deadline?"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("cost \ud800 ?", "message is not valid Unicode text (it holds a lone surrogate)"),
        ("   \u200b ", "message is empty"),
        ("x" * 30, "message is 30 characters; the limit is 20"),
    ],
)
def test_bad_messages_get_one_clear_error(text, error):
    with pytest.raises(InvalidRequest) as caught:
        clean_message(text, 20)
    assert str(caught.value) == error
