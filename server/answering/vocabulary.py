"""The vocabulary of question analysis, read once from ``vocabulary.json`` beside this module.

General English and words of the domain (question fillers, month names, number words, synonym and contrast
groups, function words): data, not code. Adding a word changes this file and, through its fingerprint, asks
for the weights to be fitted again (``python -m server calibrate --write``). No entry names a school or page.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

VOCABULARY_FILE = Path(__file__).with_name("vocabulary.json")


@dataclass(frozen=True)
class Vocabulary:
    months: tuple[str, ...]
    month_abbreviations: tuple[str, ...]
    seasons: tuple[str, ...]  # lower case: a term is a date too ("admitted in the fall semester")
    number_words: tuple[str, ...]
    filler: tuple[str, ...]  # how a question is asked rather than what about
    kind_filler: dict[str, tuple[str, ...]]  # words a kind of answer already says ("deadline" of a date)
    connectors: frozenset[str]  # inside a name: "University of X", "Texas A&M"
    articles: frozenset[str]  # skipped between a subject marker and the name ("for the X MBA")
    subject_markers: frozenset[str]  # before a name that is the question's subject ("tuition at X")
    openers: frozenset[str]  # capitalised at the start of a question without being a name
    after_who: tuple[str, ...]  # words that end who a pay question is about ("… according to")
    generic_earners: tuple[str, ...]  # people in general, not an occupation ("graduates")
    occupation_attributes: dict[str, tuple[str, ...]]  # what is asked of an occupation: "pay" ("salary of X") …
    synonym_groups: tuple[tuple[str, ...], ...]
    contrast_groups: tuple[tuple[str, ...], ...]  # words that exclude each other ("spring" / "fall")
    measure_words: tuple[str, ...]  # "how big / far / old": the adjective names a measure, not a topic
    function_words: frozenset[str]  # skipped inside initials ("University of Louisiana at Lafayette")
    institution_heads: frozenset[str]  # words a school's name starts with ("the University of X")
    host_noise: frozenset[str]  # labels of a web address that name no site ("www", "edu")
    fingerprint: str

    @classmethod
    def read(cls, path: Path = VOCABULARY_FILE) -> Vocabulary:
        raw = path.read_bytes()
        data = json.loads(raw)
        data.pop("_about", None)
        # Each entry takes the shape its field declares: a set, groups of words, words per key, or words.
        shapes = {f.name: f.type for f in fields(cls)}
        values = {}
        for name, value in data.items():
            shape = shapes[name]
            if shape.startswith("dict"):
                values[name] = {k: tuple(v) for k, v in value.items()}
            elif shape.startswith("tuple[tuple"):
                values[name] = tuple(tuple(group) for group in value)
            else:
                values[name] = frozenset(value) if shape.startswith("frozenset") else tuple(value)
        return cls(**values, fingerprint=hashlib.sha256(raw).hexdigest()[:16])


@cache
def vocabulary() -> Vocabulary:
    """The vocabulary in use (read once)."""
    return Vocabulary.read()
