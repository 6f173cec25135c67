"""Small text helpers shared by the answering modules: tokens, question types, value patterns."""

from __future__ import annotations

import re

from indexer.lexical import tokenize

MONTHS = r"(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"

# What kind of value a question asks for, and how that value looks in a sentence.
QUESTION_TYPES: dict[str, tuple[re.Pattern, re.Pattern]] = {
    "money": (
        re.compile(
            r"\bhow much (does|do|is|are|will|would|did)\b(?!.*\b(increase|grow|rise|boost)\w*)|\bcost|\btuition|\bprice|\bfees?\b|\bsalar|\bearn|\bpaid\b|\bpay\b|\bwages?\b|\bafford|\bexpensive|\bincome",
            re.I,
        ),
        re.compile(r"\$\s?\d[\d,]*(\.\d+)?\s?(k|K|million|billion)?|\b\d[\d,]*\s?(USD|dollars)\b"),
    ),
    "percent": (
        re.compile(
            r"\bpercent|\bpercentage|\bshare\b|\bproportion|\bfraction|\brate\b|\bhow (fast|quickly)\b.*\b(grow|increase|rise)|\bhow much\b.*\b(increase|grow|rise|boost|more|premium)\w*|\bpremium|\bgrowth",
            re.I,
        ),
        re.compile(r"\d+(\.\d+)?\s?%|\bpercent\b"),
    ),
    "date": (
        re.compile(r"\bwhen\b|\bdeadlines?\b|\bdates?\b|\bby what day\b|\bdue\b", re.I),
        re.compile(rf"\b{MONTHS}\b\.?\s*\d{{0,2}}|\b\d{{1,2}}/\d{{1,2}}(/\d{{2,4}})?\b"),
    ),
    "duration": (
        re.compile(
            r"\bhow long\b|\bduration\b|\bhow many (years|months|semesters|weeks)\b|\bhow quickly\b|\bhow soon\b|\btime to\b",
            re.I,
        ),
        re.compile(r"\b\d+(\.\d+)?(\s*(to|-|–)\s*\d+(\.\d+)?)?\s*(years?|months?|weeks?|semesters?|Year\(s\))", re.I),
    ),
    "count": (
        re.compile(r"\bhow many\b", re.I),
        re.compile(r"\b\d+\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen)\b", re.I),
    ),
    "list": (
        re.compile(
            r"^\s*(which|what)\b.*\b(jobs|roles|careers|courses|skills|companies|tracks|options|tests|electives|certifications|languages|centers|centres|requirements|sectors|industries|topics|positions|employers)\b|\blist\b",
            re.I,
        ),
        re.compile(r"\b(include|includes|including|such as|like|namely)\b|:\s|([^,]+,){3,}"),
    ),
    "location": (
        re.compile(r"\bwhere\b|\blocated\b|\blocation\b|\bcampus\b", re.I),
        re.compile(r"\b(Location|Campus|[A-Z][a-z]+, [A-Z]{2})\b"),
    ),
}

COMPARE = re.compile(
    r"\bcompare[sd]?\b|\bcomparison\b|\bversus\b|\bvs\.?\b|\bdifference between\b|\bhow does .* stack up\b", re.I
)
WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*|\d[\d,.]*")


def question_types(question: str) -> list[str]:
    return [name for name, (ask, _) in QUESTION_TYPES.items() if ask.search(question)]


def matches_type(text: str, types: list[str]) -> bool:
    return any(QUESTION_TYPES[t][1].search(text) for t in types)


def content_tokens(text: str) -> list[str]:
    """Stemmed content words (English stop words removed), as BM25 sees them."""
    return tokenize([text])[0]
