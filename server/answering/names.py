"""Names as students write them: a loose match of a name against what a document calls itself.

Used when a name links to no document exactly (title, aliases, the source's site, title acronyms). Each word
of the name must be explained by one document's names (its title words, aliases and the labels of its source's
host):

- the same word ("Boulder"), or a host label ("uchicago");
- initials of a run of a title segment's words from its start, function words skipped ("UL" and "ULL" for
  "University of Louisiana at Lafayette", "UB" for "University at Buffalo"), in any order when another word of the name matched whole
  ("CU Boulder" for "University of Colorado Boulder");
- initials joined to a word ("UChicago", "UConn");
- for a word the corpus never uses: the start of a name word ("Cal" for "California"), a part of a host
  label ("Nova" of villanova.edu), or one letter off ("Pittsburg").

Words that most documents' titles share ("University", "College", "School") are generic and need no
explaining; they are found from the titles, not listed. A name whose words are only generic explains
nothing. No rule here names a school.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from .vocabulary import vocabulary

TITLE_SEPARATORS = re.compile(r"\s+[-–—|]\s+|:\s+|\s*[()]\s*|,\s+")

WORD = re.compile(r"[A-Za-z0-9&]+(?:\.[A-Za-z]\.?)*")
HOST_NOISE = vocabulary().host_noise
STRONG = 3
FUNCTION_WORDS = vocabulary().function_words  # skipped inside initials
GENERIC_SHARE = 0.15  # a title word in more than this share of titles (and at least 3) is generic


def words_of(text: str) -> list[str]:
    """Lower-case words with dots and possessives dropped ("LL.M." -> "llm", "UB's" -> "ub")."""
    text = re.sub(r"['’]s\b", "", text)
    return [w.replace(".", "").lower() for w in WORD.findall(text) if w.replace(".", "")]


@dataclass(frozen=True)
class Token:
    """One word of a name: lower-cased, whether it was written with two capitals or more ("UL", "UChicago"), and
    whether the corpus uses it."""

    text: str
    capitals: bool
    known: bool


@dataclass(frozen=True)
class NameForms:
    """What one document calls itself, as words."""

    doc_id: str
    words: tuple[str, ...]  # title and alias words, in order
    segments: tuple[tuple[str, ...], ...]  # the words of each title segment and alias ("X University - MS in Y")
    hosts: tuple[str, ...]  # labels of the source URL's host

    @classmethod
    def of(cls, doc: dict, lead_only: bool = False) -> NameForms:
        source = doc.get("source") or ""
        parsed = urlparse(source) if "://" in source else None
        hosts = [h for h in (parsed.hostname or "").lower().split(".") if h and h not in HOST_NOISE] if parsed else []
        title = [p for p in TITLE_SEPARATORS.split(doc.get("title") or "") if words_of(p)]
        if lead_only:  # what names the subject: the title's first segment, the aliases, the site
            title = title[:1]
        segments = tuple(tuple(words_of(p)) for p in [*title, *(doc.get("aliases") or [])] if words_of(p))
        words = tuple(w for seg in segments for w in seg)
        return cls(doc["doc_id"], words, segments, tuple(hosts))


def _initials(token: str, segment: tuple[str, ...]) -> int:
    """How the token's letters spell first letters of a run of one segment's words from its start, in order,
    function words skippable: 2 when they spell the whole segment ("ULL": University of Louisiana at
    Lafayette), 1 for a run of it ("UL"), 0 when they do not. A run from the middle of a segment is not read:
    "UCSD" would be "University Computer Science Department" in the middle of another school's name."""
    if not 2 <= len(token) <= 6 or not token.isalpha():
        return 0
    best = 0
    states = {(0, 0)}  # (letters matched, next word)
    while states:
        done, j = states.pop()
        if done == len(token):
            best = max(best, 2 if all(w in FUNCTION_WORDS for w in segment[j:]) else 1)
            continue
        if j < len(segment) and segment[j][:1] == token[done]:
            states.add((done + 1, j + 1))
        if j < len(segment) and segment[j] in FUNCTION_WORDS and done:
            states.add((done, j + 1))
    return best


def _any_order(token: str, words: tuple[str, ...]) -> bool:
    """The token's letters are first letters of distinct name words, in any order ("CU" for "University of
    Colorado")."""
    need, have = Counter(token), Counter(w[0] for w in words if w[:1].isalpha())
    return token.isalpha() and all(have[letter] >= n for letter, n in need.items())


def _one_off(a: str, b: str) -> bool:
    """One letter added, dropped or changed (words of five letters or more)."""
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


class LooseNames:
    """Loose matching of names to documents for one index version."""

    def __init__(self, documents: list[dict], known: Callable[[str], bool]):
        self.forms = [NameForms.of(d) for d in documents]
        self.leads = [NameForms.of(d, lead_only=True) for d in documents]
        counts = Counter(w for f in self.forms for w in set(f.words))
        self._titles_with = counts  # how many documents' names hold each word
        floor = max(3, int(GENERIC_SHARE * len(self.forms)))
        self.generic = frozenset(w for w, n in counts.items() if n > floor) | FUNCTION_WORDS
        self._known = known  # the corpus uses this word

    def explains(self, token: Token, form: NameForms, whole_word_elsewhere: bool) -> int:
        """How strongly the document's names explain one word of a name: 3 the same word (or a host label, or
        initials spelling a whole title segment), 1 a looser form, 0 not at all."""
        text, known = token.text, token.known
        if text in form.words or text in form.hosts:
            return STRONG
        if whole_word_elsewhere and len(text) >= 3 and any(w.startswith(text) for w in form.words):
            return 1  # a short form beside a whole name word ("Cal State San Bernardino")
        if token.known and not token.capitals:
            return 0  # an English word written as one ("Dean", "Data") is not read as initials
        spelled = max((_initials(text, seg) for seg in form.segments), default=0)
        if spelled:
            return STRONG if spelled == 2 else 1
        if whole_word_elsewhere and len(text) <= 3 and _any_order(text, form.words):
            return 1
        names = set(form.words) | set(form.hosts)
        for cut in range(1, 4):  # initials joined to a word: "uchicago", "uconn"
            head, rest = text[:cut], text[cut:]
            joined = len(rest) >= 4 and any(rest == w or (len(rest) >= 5 and w.startswith(rest)) for w in names)
            if joined and (len(head) == 1 or any(_initials(head, seg) for seg in form.segments)):
                return STRONG
        if len(text) < 3 or not text.isalpha():
            return 0
        if known:
            return 0  # the loose forms below are for words the corpus never uses
        if any(w.startswith(text) for w in form.words) or any(len(text) >= 4 and text in h for h in form.hosts):
            return 1
        if any(_one_off(text, w) for w in names):
            return 1
        return 0

    def match(self, name: str) -> tuple[frozenset[str], bool]:
        """The documents whose names explain every specific word of ``name`` best, and whether some word of it is
        one of their names whole (a strong link); (nothing, False) when no document explains every word."""
        tokens = [t for t in self.tokens(name) if t.text not in self.generic]
        if not tokens:
            return frozenset(), False
        scores: dict[str, int] = {}
        whole_words: dict[str, bool] = {}
        for form, lead in zip(self.forms, self.leads, strict=True):
            whole = {t.text for t in tokens if t.text in form.words or t.text in form.hosts}
            got = [self.explains(t, form, bool(whole - {t.text})) for t in tokens]
            # Some word must name the subject itself: the title's lead, an alias or the site, or initials of a
            # title segment ("HR" for "… - Human Resources Managers"); a degree word of a program title ("PhD")
            # names nothing.
            anchored = any(
                self.explains(t, lead, bool(whole - {t.text}))
                or (t.capitals and any(_initials(t.text, seg) for seg in form.segments))
                for t in tokens
            )
            if all(got) and anchored:
                scores[form.doc_id] = sum(got)
                whole_words[form.doc_id] = bool(whole)
        if not scores:
            return frozenset(), False
        top = max(scores.values())
        docs = frozenset(d for d, v in scores.items() if v == top)
        return docs, any(whole_words[d] for d in docs)

    def near(self, name: str, limit: int = 3) -> list[str]:
        """Documents sharing a specific word with the name, the rarest shared first (for "Did you mean …?":
        "Ohio State" offers Ohio University's pages before every "… State University")."""
        tokens = {t.text for t in self.tokens(name)} - self.generic
        shared = {
            f.doc_id: sum(1 / max(self._titles_with[w], 1) for w in tokens & (set(f.words) | set(f.hosts)))
            for f in self.forms
        }
        ranked = sorted((d for d, n in shared.items() if n), key=lambda d: -shared[d])
        return ranked[:limit]

    def tokens(self, name: str) -> list[Token]:
        raw = re.sub(r"['’]s\b", "", name)
        out = []
        for word in WORD.findall(raw):
            text = word.replace(".", "").lower()
            if text:
                out.append(Token(text, sum(ch.isupper() for ch in word) >= 2, self._known(text)))
        return out
