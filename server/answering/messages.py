"""The one check and normalisation of message text, for every entry point (API, OpenAI endpoint, page, CLI).

A message is NFKC-normalised (full-width letters, ligatures and compatibility forms become plain ones) and
stripped of zero-width and other invisible format characters, so "Nor\u200btheastern" and "Ｎｏｒｔｈｅａｓｔｅｒｎ"
name the school as "Northeastern" does. Text that is not valid Unicode (a lone surrogate, which JSON
allows and the tokenizer rejects) is refused with a clear message before it reaches the encoder.
"""

from __future__ import annotations

import re
import unicodedata

from ..errors import InvalidRequest

# Zero-width and other invisible format characters (Unicode category Cf), and the BOM.
INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\u180e]")


def clean_message(message: str | None, limit: int, what: str = "message") -> str:
    """The message as the answering pipeline reads it; raises ``InvalidRequest`` with the reason."""
    text = message or ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(f"{what} is not valid Unicode text (it holds a lone surrogate)") from None
    text = INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).strip()
    if not text:
        raise InvalidRequest(f"{what} is empty")
    if len(text) > limit:
        raise InvalidRequest(f"{what} is {len(text)} characters; the limit is {limit}")
    return text
