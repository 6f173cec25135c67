"""Greetings, thanks and "what can you do?": a short friendly reply instead of a search."""

from __future__ import annotations

import re

GREETING = re.compile(r"^(hi|hello|hey|hiya|howdy|greetings|good (morning|afternoon|evening)|yo)( there)?( bot)?$")
THANKS = re.compile(
    r"^(thanks?( you)?|thank you( so much| very much)?|thx|cheers|great|perfect|awesome|ok thanks|got it)( a lot)?$"
)
BYE = re.compile(r"^(bye|goodbye|see you|see ya|that's all|that is all)$")
HELP = re.compile(
    r"^(help|what can you do|what do you do|who are you|what are you|how does this work|what can i ask( you)?|"
    r"what do you know( about)?|what topics do you cover)$"
)


def small_talk(message: str, covers: str) -> str | None:
    text = re.sub(r"[^\w\s']", " ", message.lower())
    text = re.sub(r"\s+", " ", text).strip()
    if GREETING.match(text):
        return f"Hello! Ask me about {covers}. Every answer quotes the documents and cites its sources."
    if THANKS.match(text):
        return "You're welcome! Ask another question whenever you like."
    if BYE.match(text):
        return "Goodbye, and good luck with your plans!"
    if HELP.match(text):
        return (
            f"I answer questions from a small library of documents: {covers}. "
            "I quote the passages I use and number the sources, so you can check every answer."
        )
    return None
