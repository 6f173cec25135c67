"""Link the names a question uses to the documents they name.

Built once per index version from what a corpus owner already has: each document's title, its
``aliases:`` front matter, the host of its source URL and acronyms derived from capitalised runs of
its title ("Oregon State University" → OSU, "University of Kentucky" → UK). Several documents may
share a name. A name found in no document's names but used in the text of a few documents links to
those ("MSCM", "MS-AAI"); a name the corpus never uses is unknown, and the question is refused only
when that name is its subject.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from urllib.parse import urlparse

from indexer.store import LoadedIndex

from .names import LooseNames
from .question import CALENDAR, CONTRASTS, FILLER, SYNONYMS, Mention, content_tokens, covers, follows_marker, word_forms
from .vocabulary import vocabulary

TITLE_SEPARATORS = re.compile(r"\s+[-–—|]\s+|:\s+|\s*[()]\s*")
# "in" joins a degree to its field ("Master of Science in Finance", "MS in Finance": MSF).
CAPITAL_RUN = re.compile(r"[A-Z][\w&.'’-]*(?:\s+(?:of|and|&|de|the|in)?\s*[A-Z][\w&.'’-]*)*")
HOST_NOISE = vocabulary().host_noise
INSTITUTION_HEADS = vocabulary().institution_heads
POSSESSIVE = re.compile(r"['’]s?$")
ACRONYM_NAME = re.compile(r"[A-Z]{2,7}")
MAX_GENERIC_SHARE = 0.2  # a name matching more than this share of documents (and > 3) says nothing


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9&]", "", text.lower())


def acronyms(title: str) -> set[str]:
    """Acronyms of the capitalised runs of a title: "University of San Diego" → usd, plus (MnRI)."""
    out: set[str] = set()
    for segment in TITLE_SEPARATORS.split(title):
        segment = segment.strip()
        if not segment:
            continue
        if re.fullmatch(r"[A-Za-z&]{2,8}", segment) and sum(ch.isupper() for ch in segment) >= 2:
            out.add(_norm(segment))  # a parenthesised or separate acronym: (MnRI)
        for run in CAPITAL_RUN.findall(segment):
            words = [w for w in run.split() if w[:1].isupper()]
            if len(words) >= 2:
                out.add(_initials(words))
    # A program's initials inside a longer run, a hyphen parting two words: "MSN Night-Shift Care Nursing" → nscn.
    for initials in _run_initials(title):
        out |= {initials[i:j] for i in range(len(initials)) for j in range(i + 3, len(initials) + 1)}
    return out


def _run_initials(title: str) -> list[str]:
    """The initials of each capitalised run of a title, a hyphen parting two words ("MSN Night-Shift Care")."""
    out = []
    for segment in TITLE_SEPARATORS.split(title):
        for run in CAPITAL_RUN.findall(segment):
            parts = [p for w in run.split() if w[:1].isupper() for p in w.split("-") if p[:1].isupper()]
            out.append(_initials(parts))
    return out


def _initials(words: list[str]) -> str:
    """The initials of capitalised words, an acronym among them giving all its letters ("MS Finance" → msf)."""
    return "".join(w if ACRONYM_NAME.fullmatch(w) else w[0] for w in words).lower()


def _site_name(source: str) -> set[str]:
    """The registrable label of a source URL's host: cse.umn.edu → umn, robotics.oregonstate.edu → oregonstate."""
    host = urlparse(source).hostname or ""
    labels = [label for label in host.lower().split(".") if label]
    while labels and labels[-1] in HOST_NOISE:
        labels.pop()
    return {_norm(labels[-1])} if labels else set()


class DocumentNames:
    """The names one document answers to."""

    def __init__(self, doc: dict):
        self.doc_id = doc["doc_id"]
        title = doc.get("title") or ""
        aliases = list(doc.get("aliases") or [])
        segments = [s for s in TITLE_SEPARATORS.split(title) if s.strip()]
        self.lead = segments[0] if segments else title  # the part of the title that names the subject
        self.tokens = set(content_tokens(" ".join([title, *aliases])))
        self.runs = [content_tokens(name) for name in (title, *aliases)]  # each name's words in order
        # The endings of the initials of the title's capitalised runs: "np" and "cnp" of "… Primary Care Nurse
        # Practitioner", where a program's name ends its run.
        self.title_initials = {r[i:] for r in _run_initials(title) for i in range(len(r) - 1)}
        self.lead_tokens = set(content_tokens(" ".join([self.lead, *aliases])))
        self.forms = word_forms(" ".join([title, *aliases]))  # its words as written (a plural as its singular)
        self.keys = {_norm(a) for a in aliases} | acronyms(title) | {_norm(title), _norm(self.lead)}
        # What a later segment of the title names, of two words or more: "… - Information Security Analysts,
        # May 2019" is the page on information security analysts.
        self.topics = {_norm(p) for s in segments[1:] for p in s.split(",") if len(p.split()) >= 2}
        self.keys |= _site_name(doc.get("source") or "")
        self.keys.discard("")
        # Keys that may be typed in lower case ("kessler", "oregon state"): not the acronyms, which are
        # often English words ("aim", "ci").
        self.plain_keys = {k for k in self.keys - acronyms(title) if len(k) >= 4}


class CorpusTerms:
    """Which documents use which stemmed words: read from the BM25 index the indexer built, not re-tokenized."""

    def __init__(self, index: LoadedIndex):
        self.index = index
        self._doc_of_row = [c.doc_id for c in index.chunks]
        self._vocab = sorted(index.lexical.vocab)
        self._words: dict[str, tuple[list[str], str]] = {}

    def docs_with(self, token: str) -> set[str]:
        return {self._doc_of_row[int(r)] for r in self.index.lexical.rows_with(token)}

    def family(self, token: str) -> list[str]:
        """The corpus's words that ``covers`` counts as this one (itself, "decid" for "decis"…)."""
        if len(token) < 5:
            return [token]
        prefix = token[:4]
        start = bisect.bisect_left(self._vocab, prefix)
        out = []
        for word in self._vocab[start:]:
            if not word.startswith(prefix):
                break
            if covers(token, {word}):
                out.append(word)
        return out or [token]

    def used_in(self, token: str, docs: set[str] | frozenset[str]) -> bool:
        """Some document of ``docs`` uses the token, a word of its family or a synonym."""
        words = {token} | SYNONYMS.get(token, frozenset())
        return any(self.docs_with(w) & docs for word in words for w in self.family(word))

    def spells_out(self, doc_id: str, acronym: str) -> bool:
        """The document writes the acronym's words in full ("grade point average" for gpa), in its title or text."""
        if doc_id not in self._words:
            rows = self.index.doc_rows.get(doc_id, [])
            texts = [self.index.chunks[int(rows[0])].title] if len(rows) else []
            texts += [self.index.chunks[int(r)].text for r in rows]
            words = re.findall(r"[a-z]+", " ".join(texts).lower())
            self._words[doc_id] = (words, "".join(w[0] for w in words))
        words, firsts = self._words[doc_id]
        n = len(acronym)
        start = firsts.find(acronym)
        while start != -1:
            if all(len(w) > 1 for w in words[start : start + n]):
                return True
            start = firsts.find(acronym, start + 1)
        return False


class EntityLinker:
    """Links names to documents for one index version."""

    def __init__(self, index: LoadedIndex, terms: CorpusTerms):
        self.names = [DocumentNames(d) for d in index.documents]
        self._by_id = {n.doc_id: n for n in self.names}
        self._plain_keys = set().union(*(n.plain_keys for n in self.names)) if self.names else set()
        self._topics = set().union(*(n.topics for n in self.names)) if self.names else set()
        # Initials and short site names ("uw", "asu"), typed in lower case: names only as the subject ("for uw"),
        # as they are often words too.
        self._short_keys = set().union(*(n.keys - n.plain_keys for n in self.names)) if self.names else set()
        # Once per word of one index version (bounded).
        self._leads_with = functools.lru_cache(maxsize=65536)(self._starts_every_name)
        self.terms = terms
        self._vocab = index.lexical.vocab
        self._idf = index.lexical.idf
        self._generic = max(3, int(MAX_GENERIC_SHARE * len(self.names)))
        self._writers: dict[str, frozenset[str]] = {}  # a name or word as written: the pages writing it
        self._lead_use = Counter(t for n in self.names for t in n.lead_tokens)  # how many titles' names use a word
        self._rare = max(3, int(0.1 * len(self.names)))  # a name found only in text must be this rare
        self.loose = LooseNames(index.documents, lambda word: all(t in self._vocab for t in content_tokens(word)))

    def lowercase_names(self, sentence: str, subject_markers: frozenset[str]) -> list[tuple[str, bool]]:
        """Names typed in lower case ("how much is it at kessler?"): runs of up to three words that spell a
        document's name, site name or alias. Returns (name, subject) pairs like ``question.name_spans``."""
        words = re.findall(r"[\w&'’.-]+", sentence)
        bare = [POSSESSIVE.sub("", w).strip(".") for w in words]
        out: list[tuple[str, bool]] = []
        i = 0
        while i < len(words):
            for n in (3, 2, 1):
                run = bare[i : i + n]
                if len(run) < n or any(not w or not w.islower() for w in run):
                    continue
                key = _norm("".join(run))
                named = key in self._plain_keys or (n > 1 and key + "university" in self._plain_keys)
                # "for the sva mfa" as "for sva"
                subject = bool(POSSESSIVE.search(words[i + n - 1])) or follows_marker(words[:i], subject_markers)
                if named or (subject and self._names_as_subject(key, run)):
                    out.append((" ".join(run), subject))
                    i += n
                    break
            else:
                i += 1
        return out

    def _names_as_subject(self, key: str, run: list[str]) -> bool:
        """Initials or a school's first name (one word), what a later title segment names (more): names in lower
        case only as the question's subject, as they are often words too."""
        if len(run) > 1:
            return key in self._topics
        return key in self._short_keys or self._leads_with(run[0])

    def names_school(self, doc_id: str) -> bool:
        """The page's name is a school's ("… University (Law School)"), not a careers article's or an agency's."""
        names = self._by_id.get(doc_id)
        return names is not None and not INSTITUTION_HEADS.isdisjoint(re.findall(r"[a-z]+", names.lead.lower()))

    def _starts_every_name(self, word: str) -> bool:
        """Whether a word, typed in lower case, is the first word of the name of every page it links to
        ("quinnipiac" of "Quinnipiac University (School of Nursing)"; not "nursing")."""
        if len(word) < 4:
            return False
        mention = self.link(word.capitalize(), True)
        if mention is None or not mention.linked or not mention.by_name or mention.loose:
            return False
        return all(self._by_id[d].lead.split()[:1] == [word.capitalize()] for d in mention.doc_ids)

    def same_school(self, docs: frozenset[str], of: frozenset[str]) -> frozenset[str]:
        """Those of ``docs`` whose title names the same subject (its first segment) as one of ``of``: a
        program switch within a school ("Same university, different program: …") stays at that school."""
        leads = {_norm(self._by_id[d].lead) for d in of if d in self._by_id}
        return frozenset(d for d in docs if d in self._by_id and _norm(self._by_id[d].lead) in leads)

    def school_pages(self, group: frozenset[str], words: tuple[str, ...]) -> frozenset[str]:
        """The entity in focus with the page of the same school whose title matches the question's words
        better than its own pages' titles ("… the counselor education M.S.?" while a nursing page of that
        school is in focus): a follow-up may move to another program of the school without naming it."""
        others = self.same_school(frozenset(self._by_id), group) - group
        if not others or not words:
            return group

        def match(d: str) -> float:
            return sum(self._idf(t) for t in set(words) & self._by_id[d].tokens)

        own = max(match(d) for d in group if d in self._by_id) if group & self._by_id.keys() else 0.0
        best = max(match(d) for d in others)
        if best <= own:
            return group
        return group | {d for d in others if match(d) == best}

    def titles_spell(self, docs: frozenset[str], acronym: str) -> bool:
        """Every one of the documents' titles writes the acronym's words in full, a hyphen parting two words."""
        return all(d in self._by_id and acronym in self._by_id[d].title_initials for d in docs)

    def one_school(self, docs: frozenset[str]) -> bool:
        """The documents are one subject's pages: the names their titles open with share a word that few
        titles' names use ("Kenmore" of "Kenmore State University" and "Kenmore Business School"; not
        "University")."""
        leads = [self._by_id[d].lead_tokens for d in docs if d in self._by_id]
        shared = set.intersection(*leads) if leads else set()
        return any(self._lead_use[t] <= self._generic for t in shared)

    def name_tokens(self, doc_ids: Iterable[str]) -> set[str]:
        """Tokens of the names of these documents (not of their whole titles)."""
        out: set[str] = set()
        for d in doc_ids:
            if d in self._by_id:
                out |= self._by_id[d].lead_tokens
        return out

    def _writers_of(self, name: str) -> frozenset[str]:
        """The pages that write the name, as written, in their text; only passages holding its indexed words
        are read (all of them for a name with none, "U.S.")."""
        writers = self._writers.get(name)
        if writers is None:
            chunks = self.terms.index.chunks
            tokens = content_tokens(name)
            if tokens and all(t in self._vocab for t in tokens):
                rows = set.intersection(*(set(self.terms.index.lexical.rows_with(t).tolist()) for t in tokens))
            else:
                rows = range(len(chunks))
            pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
            writers = frozenset(chunks[r].doc_id for r in rows if pattern.search(chunks[r].text))
            if len(self._writers) < 4096:  # bounded: names are what users type
                self._writers[name] = writers
        return writers

    def _written_elsewhere(self, name: str, named: frozenset[str] | set[str]) -> bool:
        """Pages write the name in their text, none of them a page it would name ("U.S." in the text of
        program pages, while only the titles of the pages it matches open with it): a word, not a name."""
        writers = self._writers_of(name)
        return bool(writers) and not writers & named

    def _written_mostly_elsewhere(self, word: str, named: frozenset[str] | set[str]) -> bool:
        """More pages write the word in their text outside the pages it would name than inside them."""
        writers = self._writers_of(word)
        return len(writers - named) > len(writers & named)

    def link(self, name: str, subject: bool) -> Mention | None:
        key = _norm(name)
        tokens = content_tokens(name)
        if not key or CALENDAR.match(name):
            return None
        if not tokens:  # no word a search reads ("A&M"): only a document's own name can tell what it means
            loose, strong = self.loose.match(name)
            if loose and len(loose) <= self._generic and not self._written_elsewhere(name, loose):
                return Mention(name, subject, loose, by_name=True, lead=True, loose=not strong)
            return None
        known = all(t in self._vocab for t in tokens)
        by_key = {n.doc_id for n in self.names if key in n.keys}
        if by_key and key not in self._vocab and len(by_key) <= self._generic:
            # A document's own short name that is no word of the corpus ("K-State" of k-state.edu), even
            # when its words are everywhere ("state").
            return Mention(name, subject, frozenset(by_key), by_name=True, lead=True)
        in_text = set.intersection(*(self.terms.docs_with(t) for t in tokens)) if known else set()
        if len(in_text) > self._generic:
            return None  # a term used all over the corpus ("MS", "GPA", "TOEFL"), not a name
        if not by_key:
            # "MS-AAI": a degree prefix joined to the program's acronym; the acronym part is the name.
            parts = {_norm(p) for p in re.split(r"[-/]", name) if re.fullmatch(r"[A-Z][A-Za-z]{1,5}", p.strip())}
            parts = {p for p in parts if len(p) >= 3}
            by_key = {n.doc_id for n in self.names if parts & n.keys} if parts else set()
        # The subject's own name, a degree word beside it or not ("Kenmore MS" names Kenmore as "Kenmore" does).
        named = set(tokens) - FILLER or set(tokens)
        by_lead = {n.doc_id for n in self.names if named <= n.lead_tokens}
        by_words = self._in_order(tokens, {n.doc_id for n in self.names if set(tokens) <= n.tokens})
        docs = by_key | by_words
        if docs:
            if len(docs) > self._generic:
                return None  # "University", "Master", "MS": true of too many documents to mean anything
            if not subject and all(self._written_mostly_elsewhere(w, docs) for w in name.split()):
                # "… differ on GMAT scores": in one page's title, written in more other pages' text: a word
                return None
            lead = bool(by_key | by_lead)
            return Mention(name, subject, frozenset(docs), by_name=True, lead=lead)
        loose, strong = self.loose.match(name)
        if len(loose) > self._generic:
            return None  # loosely true of many documents ("TA"): not a name the corpus lacks
        if loose and (subject or not self._written_mostly_elsewhere(name, loose)):
            # "in the US" where "U.S." opens one page's title and more other pages write "US": a word
            return Mention(name, subject, loose, by_name=True, lead=True, loose=not strong)
        if not known and subject and ACRONYM_NAME.fullmatch(name):
            # A subject written as initials that some pages spell out in their text ("tuition at the SLPA"
            # where a page says "speech-language pathology assistant"): about those pages, not a name the
            # corpus lacks (refusing it would be wrong).
            spelled = {n.doc_id for n in self.names if self.terms.spells_out(n.doc_id, name.lower())}
            if len(spelled) > self._rare:
                return None
            if spelled:
                return Mention(name, subject, frozenset(spelled), by_name=False)
        if not known:
            return Mention(name, subject, known=False)
        if not in_text and subject and len(tokens) > 1:
            # Words the pages write, but never together, as the subject's name ("Ohio State's deadline" where
            # a page is Ohio University's): a school the documents lack, refused by name ("Did you mean …?").
            return Mention(name, subject, known=False)
        if not in_text or len(in_text) > self._rare:
            return None  # a common term, not a name
        return Mention(name, subject, frozenset(in_text), by_name=False)

    def _in_order(self, tokens: list[str], docs: set[str]) -> set[str]:
        """Of the documents whose names hold all these words, those whose title or alias writes them in this
        order, side by side ("University of Utah" is not "Utah State University"); all of them when none does."""
        n = len(tokens)
        ordered = {
            d
            for d in docs
            if any(run[i : i + n] == tokens for run in self._by_id[d].runs for i in range(len(run) - n + 1))
        }
        return ordered or docs

    def entities(
        self,
        mentions: tuple[Mention, ...],
        words: list[str],
        compare: bool = False,
        forms: dict[str, set[str]] | None = None,
    ) -> tuple[tuple[frozenset[str], ...], set[str]]:
        """The question's entities (document groups) and the question words that describe them.

        Linked names whose documents overlap are one entity (their common documents); names found only
        in the text narrow an entity but start one only when no name does. Within an entity, other words
        of the question that appear in some of its documents' titles ("construction management" when
        "Purdue" names four pages) narrow it to those documents. In a comparison every name is a side.
        """
        mentions = _without_asides(mentions)
        named = [m for m in mentions if m.linked and m.by_name and not m.loose]
        loose = [m.doc_ids for m in mentions if m.linked and m.loose]
        if not named:
            named, loose = [m for m in mentions if m.linked and m.loose], []
        textual = [m.doc_ids for m in mentions if m.linked and not m.by_name] + loose
        subjects = [m.doc_ids for m in mentions if m.linked and m.subject]
        groups = _named_groups(named, subjects, compare, self.one_school)
        for docs in textual:
            if not groups:
                groups.append(docs)
                continue
            for i, group in enumerate(groups):
                if group & docs:
                    groups[i] = group & docs
        described: set[str] = set()
        narrowed = []
        for group in dict.fromkeys(groups):
            group, used = self._narrow(group, words)
            described |= used
            # Words every title of the entity shares describe it ("robotics master's" of a robotics page).
            described |= set.intersection(*(self._by_id[d].tokens for d in group)) & set(words)
            narrowed.append(group)
        if compare and len(narrowed) == 1:
            other, used = self._other_program(narrowed[0], words)
            if other:
                narrowed.append(other)
                described |= used
        docs = frozenset().union(*narrowed) if narrowed else frozenset()
        described |= self.name_tokens(docs)
        # Titles naming both sides of a contrast ("thesis and non-thesis requirements") leave the side asked
        # for in the focus: it tells the page's units apart rather than naming the page.
        titled = set().union(*(self._by_id[d].tokens for d in docs if d in self._by_id))
        described = {t for t in described if CONTRASTS.get(t, frozenset()).isdisjoint(titled)}
        if forms is not None:
            # A word describes the entity as its titles write it: "employed" asks about the "Employment" a
            # title names, though both stem to "employ".
            written = set().union(*(self._by_id[d].forms for d in docs if d in self._by_id))
            described = {t for t in described if t not in forms or forms[t] & written}
        return tuple(dict.fromkeys(narrowed)), described

    def _other_program(self, group: frozenset[str], words: list[str]) -> tuple[frozenset[str], set[str]]:
        """In a comparison within one school ("Which Kenmore master's costs more: Finance or Nursing?"), the
        school's other pages whose titles hold question words that the entity's titles do not: the other side."""
        school = self.same_school(frozenset(self._by_id), group) - group
        if not school:
            return frozenset(), set()
        own = set().union(*(self._by_id[d].tokens for d in group if d in self._by_id))
        wanted = set(words) - own
        scores = {d: sum(self._idf(t) for t in wanted & self._by_id[d].tokens) for d in school}
        best = max(scores.values())
        if best <= 0:
            return frozenset(), set()
        other = frozenset(d for d, v in scores.items() if v == best)
        return other, wanted.intersection(*(self._by_id[d].tokens for d in other))

    def _narrow(self, group: frozenset[str], words: list[str]) -> tuple[frozenset[str], set[str]]:
        if len(group) < 2 or not words:
            return group, set()
        scores = {}
        for d in group:
            title = self._by_id[d].tokens if d in self._by_id else set()
            scores[d] = sum(self._idf(t) for t in set(words) & title)
        best = max(scores.values())
        if best <= 0:
            return group, set()
        keep = frozenset(d for d, v in scores.items() if v >= 0.6 * best)
        used = set(words).intersection(*(self._by_id[d].tokens for d in keep))
        return keep, used


def _without_asides(mentions: tuple[Mention, ...]) -> tuple[Mention, ...]:
    """The names of a sentence that does not ask ("I'm applying from outside the US.") yield to those of the
    question itself ("… for the Kenmore MSF?") when they share no document: the question says what it is about."""
    asked = [m.doc_ids for m in mentions if m.linked and m.asked]
    if not asked:
        return mentions
    return tuple(m for m in mentions if m.asked or not m.linked or any(m.doc_ids & docs for docs in asked))


def _named_groups(
    named: list, subjects: list[frozenset[str]], compare: bool, one_school: Callable[[frozenset[str]], bool]
) -> list[frozenset[str]]:
    """Entities of the names linked by name: names whose documents overlap are one entity. A name that is
    not the question's subject and shares no document with a linked subject (``subjects``, linked by name or
    by text) starts no entity of its own: it qualifies the subject ("Buffalo's DPT" where only another
    school's page says DPT) or is an aside ("I live outside the US."). In a comparison a school's name is a
    side whatever its place ("…: UC Irvine or Missouri State's?"); a degree's name that several schools'
    titles use ("… or the nursing MS?") is not."""
    groups: list[frozenset[str]] = []
    # Subjects first, then one school's names before names that several schools' pages share ("IE").
    for m in sorted(named, key=lambda m: (not m.subject, not one_school(m.doc_ids))):
        side = m.subject or (compare and m.lead and one_school(m.doc_ids))
        for i, group in enumerate(groups):
            if group & m.doc_ids:
                groups[i] = group & m.doc_ids
                break
        else:
            # With no subject, the first name is the entity and another starts one only if it is a school's.
            alone = not subjects and (not groups or one_school(m.doc_ids))
            if side or alone or any(m.doc_ids & docs for docs in subjects):
                groups.append(m.doc_ids)
    return groups
