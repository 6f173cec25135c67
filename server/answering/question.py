"""One analysis of a message: the typed ``Question`` that retrieval, composition and refusal all read.

Nothing downstream re-parses the message. A ``Question`` holds:

- ``kind``: the kind of answer wanted (money, date, duration, percent, score, count, person, place,
  yesno, list, description), which decides what an answering sentence must contain;
- ``focus``: the attribute asked about ("acceptance rate", "thesis credits", "deadline spring") as
  stemmed tokens, with the names of the entities and filler words taken out;
- ``mentions``: the names it uses (schools, programs, organisations, acronyms), each linked to the
  documents it names by :class:`server.answering.entities.EntityLinker`;
- ``small_talk``: greetings, thanks and "what can you do?", answered without a search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from indexer.lexical import tokenize, tokenize_query

from .vocabulary import vocabulary

VOCAB = vocabulary()
MONTHS = "(" + "|".join(VOCAB.months + VOCAB.month_abbreviations) + ")"
NUMBER_WORDS = "(" + "|".join(VOCAB.number_words) + ")"
SEASONS = "(" + "|".join(VOCAB.seasons) + ")"

# How each kind of question is asked, in priority order (the first that matches wins).
ASK: list[tuple[str, re.Pattern]] = [
    # A change asked "by how much" is stated as a sum or a share ("cut costs by up to 30%", "by $5,000").
    ("amount", re.compile(r"\bby how much\b|\bhow much .*\b(reduc|cut|lower|sav|decreas|drop|shrink)\w*", re.I)),
    (
        "percent",
        re.compile(
            r"\bpercent(?!ile)|\bproportion|\bwhat share\b|\b(acceptance|admission|growth|placement|"
            r"completion|graduation|employment|success|retention|pass) rate\b|\bhow (fast|quickly) .*\b(grow|increase|rise)"
            r"|\bhow much .*\b(grow|increase|rise|boost|more|premium)\w*|\bpremium\b",
            re.I,
        ),
    ),
    (
        "money",
        re.compile(
            r"\bhow much (does|do|is|are|will|would|did|can|should)\b|\bcosts?\b|\btuition\b|\bprice|\bfees?\b|"
            r"\bsalar|\bearn|\bpaid\b|\bpay\b|\bwages?\b|\bafford|\bexpensive|\bincome|\bcharge|\bstipend",
            re.I,
        ),
    ),
    (
        "duration",
        re.compile(
            r"\bhow long\b|\bduration\b|\bhow many (years|months|semesters|weeks|terms|quarters|hours)\b|"
            r"\bhow quickly\b|\bhow soon\b|\btime to (complete|finish)\b|\bhow (are|is) .* paced\b|\bpace\b",
            re.I,
        ),
    ),
    ("date", re.compile(r"\bwhen\b|\bdeadlines?\b|\bdates?\b|\bby what day\b|\bdue\b|\bwhat day\b", re.I)),
    (
        "score",
        re.compile(
            r"\b(what|which|minimum|min|lowest|required|average|typical)\b.*\b(score|scores|gpa|grade point)\b|"
            r"\b(what|which|minimum)\b.*\b(toefl|ielts|gre|gmat|duolingo|det|sat|pte)\b(?!.*\brequired\?)",
            re.I,
        ),
    ),
    (
        "count",
        re.compile(
            r"\bhow many\b|\bnumber of\b|\b(more|fewer|most|least|minimum|maximum)\b.{0,20}\b(credits?|credit hours|"
            r"courses|classes|letters|units)\b",
            re.I,
        ),
    ),
    (
        "person",
        re.compile(
            r"\bwho (is|are|was)? ?(the )?(director|chair|head|dean|coordinator|advis|contact|professor|instructor|"
            r"faculty|lead)|\bwho (directs|leads|heads|chairs|runs|teaches|coordinates|advises|manages)\b|"
            r"\bwhom? (should|do|can) i (contact|email|ask)\b",
            re.I,
        ),
    ),
    (
        "place",
        re.compile(
            r"\bwhere\b(?!.*\b(work|works|working|employed|hired|end up|go on)\b)|\blocated\b|\blocation\b|"
            r"\bwhich (city|campus|state|country)\b",
            re.I,
        ),
    ),
    (
        "list",
        re.compile(
            r"^\s*(which|what)\b.*\b(jobs|roles|careers|courses|skills|companies|tracks|options|tests|electives|"
            r"certifications|languages|centers|centres|requirements|sectors|industries|topics|positions|employers|"
            r"concentrations|specializations|areas|documents|materials|prerequisites|subjects|modules|steps)\b|\blist\b",
            re.I,
        ),
    ),
    (
        "yesno",
        re.compile(
            r"^\s*(is|are|do|does|did|can|could|will|would|should|must|has|have|may|am)\b|,\s*(is|are|do|does|can)\b",
            re.I,
        ),
    ),
]

# What an answering sentence holds for each kind (kinds without an entry take any sentence).
MONEY = r"\$\s?\d|\b\d[\d,.]*\s?(USD|dollars|euros?|EUR|GBP|£|€)|[£€]\s?\d"
PERCENT = r"\d\s?%|\bpercent\b|\b\d+ (out of|in) \d+\b"
VALUE: dict[str, re.Pattern] = {
    # A sum asked "how much" may be stated as a share of another ("175% of the resident rate", "rises about 4% a year").
    "money": re.compile(f"{MONEY}|{PERCENT}", re.I),
    "percent": re.compile(PERCENT, re.I),
    "amount": re.compile(f"{MONEY}|{PERCENT}", re.I),
    "date": re.compile(
        # A day written with slashes is not a fraction or a ratio ("3.00/4.00", "24/7" are no dates).
        rf"\b{MONTHS}\b\.?\s*\d{{0,2}}|(?<![\d.])\d{{1,2}}/\d{{1,2}}(/\d{{2,4}})?(?![\d.])|\b(rolling|anytime|any time)\b"
        # A term answers "when" too ("Cohorts begin in the summer II", "admitted in the fall semester").
        rf"|\b(?i:{SEASONS})\s+(semesters?|terms?|quarters?|sessions?|II?I?\b|\d{{4}})|\b{SEASONS.title()}\b"
    ),
    "duration": re.compile(
        rf"\b(\d+(\.\d+)?|{NUMBER_WORDS})([\s-]*(to|-|–|or)[\s-]*(\d+(\.\d+)?|{NUMBER_WORDS}))?[\s-]*"
        r"(years?|months?|weeks?|semesters?|terms?|quarters?|days?|hours?|minutes?|Year\(s\))\b",
        re.I,
    ),
    "score": re.compile(r"\b\d+(\.\d+)?(st|nd|rd|th)?\b|\bpercentile\b"),
    "count": re.compile(rf"\b\d+\b|\b{NUMBER_WORDS}(-\w+)?\b", re.I),
    "measure": re.compile(rf"\d|\b{NUMBER_WORDS}\b", re.I),  # a size, distance, age or sum: any number
    "person": re.compile(
        r"\b(Dr|Prof|Professor|Mr|Mrs)\.?\s+[A-Z][a-z]|\b[A-Z][a-z]+ ([A-Z]\. )?[A-Z][a-z]+,? (is )?(the )?"
        r"(?i:director|chair|head|dean|coordinator|advisor|professor)"
    ),
    "place": re.compile(r"\b(campus|located|online|in [A-Z][a-z]+|[A-Z][a-z]+, [A-Z]{2}\b|Location)\b"),
}
VALUED = frozenset(VALUE)

COMPARE = re.compile(
    r"\bcompare[sd]?\b|\bcomparison\b|\bversus\b|\bvs\.?\b|\bdifference between\b|\bstack up\b|"
    r"\b(more|fewer|less|higher|lower|cheaper|longer|shorter|faster|slower|bigger|smaller|larger|greater|better|"
    r"earlier|later|sooner)\b.*\b(or|than)\b",
    re.I,
)

# Words that say how a question is asked rather than what about (stemmed, as content_tokens returns them).
FILLER = frozenset(tokenize([" ".join(VOCAB.filler)])[0])

# Words that only restate what a duration is ("how long to finish / complete / last"): the kind asks that
# already, and as focus they would favour a sentence that repeats the verb over one that states the time.
KIND_FILLER = {kind: frozenset(tokenize_query(" ".join(words))) for kind, words in VOCAB.kind_filler.items()}

GREETING = re.compile(r"^(hi|hello|hey|hiya|howdy|greetings|good (morning|afternoon|evening)|yo)( there)?( bot)?$")
THANKS = re.compile(
    r"^(thanks?( you)?|thank you( so much| very much)?|thx|cheers|great|perfect|awesome|ok thanks|got it)( a lot)?$"
)
BYE = re.compile(r"^(bye|goodbye|see you|see ya|that's all|that is all)$")
HELP = re.compile(
    r"^(help|what can you do|what do you do|who are you|what are you|how does this work|what can i ask( you)?|"
    r"what do you know( about)?|what topics do you cover)$"
)

# A name: a capitalised word or an acronym, with the connecting words that names use.
TOKEN = re.compile(r"[A-Za-z0-9][\w&.\-]*(?:['’]s?)?")
CONNECTORS = VOCAB.connectors  # inside a name: "University of X", "Texas A&M"
# Words before a name that make it the subject of the question ("tuition at X", "does X", "X's").
SUBJECT_MARKERS = VOCAB.subject_markers
ARTICLES = VOCAB.articles
PLAIN_NAME = re.compile(r"[A-Z][a-z]+['’]?s?$")
OPENERS = VOCAB.openers
ACRONYM = re.compile(r"[A-Z]{2,5}s?")
CALENDAR = re.compile(
    rf"^({MONTHS}|spring|summer|fall|autumn|winter|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\.?$", re.I
)
# A sentence ends at ".", "!" or "?" before a capital, but not after an abbreviation such as "St." or "Dr."
SENTENCE = re.compile(r"(?<=[.!?])(?<!\b[A-Z][a-z]\.)\s+(?=[A-Z0-9\"“])")


@dataclass(frozen=True)
class Mention:
    """A name used in the message, and the documents it was linked to."""

    text: str
    subject: bool  # the question is about it (not an aside such as "I studied in Brazil.")
    doc_ids: frozenset[str] = frozenset()
    by_name: bool = False  # matched a document's title, aliases or source (not only its text)
    known: bool = True  # the corpus uses the word somewhere
    lead: bool = False  # names the subject of its documents (a school), not a program or page word
    loose: bool = False  # linked by a loose match (initials, a short form): starts an entity only if no name does
    asked: bool = True  # used in a sentence that asks (not in an aside such as "I live outside the US.")

    @property
    def linked(self) -> bool:
        return bool(self.doc_ids)


@dataclass(frozen=True)
class Question:
    """A message analysed once: what it asks, about what, and what kind of answer it wants."""

    text: str
    kind: str = "description"
    focus: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    compare: bool = False
    small_talk: str | None = None  # greeting | thanks | bye | help
    entities: tuple[frozenset[str], ...] = ()  # linked document groups, one per entity
    acronyms: tuple[str, ...] = ()  # focus words written in capitals ("GPA"): also match "grade point average"
    earners: tuple[str, ...] = ()  # whose pay or outlook is asked, as written ("urban planners"), names left out
    asked_of_earners: str = "pay"  # what is asked of them: "pay" or "job outlook"
    programs: tuple[str, ...] = ()  # program names too common to link ("Computer Science"), as written
    parts: tuple[Question, ...] = ()  # the two questions of a two-part one ("What's X, and what can Y earn?")
    condition: tuple[str, ...] = ()  # what the sentences before the question say of the asker ("I have a PharmD.")

    @property
    def valued(self) -> bool:
        """The answer must hold a value of the asked kind (a date, an amount, a number…)."""
        return self.kind in VALUED

    @property
    def unknown_subjects(self) -> list[str]:
        return [m.text for m in self.mentions if m.subject and not m.known]

    @property
    def doc_ids(self) -> frozenset[str]:
        return frozenset().union(*self.entities) if self.entities else frozenset()

    def with_(self, **changes) -> Question:
        return replace(self, **changes)


# Who a question about an occupation's pay or outlook is about: "How much do urban planners earn?", "What is
# the salary of a school counselor?", "the job outlook for chemists". The words after it that start a detail,
# not part of who: "logisticians in manufacturing".
AFTER_WHO = "|".join(VOCAB.after_who)
ATTRIBUTE_OF = {w: topic for topic, words in VOCAB.occupation_attributes.items() for w in words}
PAY_SUBJECT = (
    re.compile(
        r"\b(?:how much|what)\s+(?:do|does|did|can|could|will|would)\s+(?P<who>[\w'’&-]+(?:\s+[\w'’&-]+){0,4}?)\s+"
        r"(?:earn|make|get paid|take home)\b",
        re.I,
    ),
    re.compile(
        rf"\b(?P<attribute>{'|'.join(map(re.escape, ATTRIBUTE_OF))})\s+(?:of|for)\s+(?:an?\s+|the\s+)?"
        rf"(?P<who>[\w'’&-]+(?:\s+[\w'’&-]+){{0,4}}?)\s*(?=\b(?:{AFTER_WHO}|earn)\b|[?.!,;]|$)",
        re.I,
    ),
)
# Words for people in general, not an occupation: "graduates" of any program earn something.
GENERIC_EARNERS = frozenset(tokenize_query(" ".join(VOCAB.generic_earners)))
DETAIL = re.compile(rf"\s+(?:{AFTER_WHO})\s+.*$", re.I)


def pay_subject(clause: str, names: set[str]) -> tuple[tuple[str, ...], str]:
    """The words naming who a question on an occupation is about, leaving out names, degree words, initials and
    people in general ("What do Harwick cybersecurity graduates make?" -> "cybersecurity"), and what is asked
    of them ("pay", "job outlook")."""
    for pattern in PAY_SUBJECT:
        found = pattern.search(clause)
        if found:
            who = DETAIL.sub("", found["who"])
            words = [
                w
                for w in re.findall(r"[\w&-]+", who)
                if (tokens := content_tokens(w))
                and not ACRONYM.fullmatch(w)  # a page may spell it out ("HR managers": "human resources managers")
                and not any(t in names or t in FILLER or t in GENERIC_EARNERS for t in tokens)
            ]
            attribute = found.groupdict().get("attribute")
            return tuple(words), ATTRIBUTE_OF[attribute.lower()] if attribute else "pay"
    return (), "pay"


def _plural(word: str) -> str:
    """A word as a pattern that also matches its plural or singular."""
    stem = re.escape(word[:-1] if word.lower().endswith("s") and len(word) > 3 else word)
    return rf"{stem}(?:s|es)?"


def side_by_side(words: tuple[str, ...]) -> re.Pattern:
    """The words in order, side by side or with one short word between ("medical and health services
    managers"), each singular or plural: how a page names who a pay question is about."""
    return re.compile(r"\b" + r"\W+(?:\w{1,4}\W+)?".join(_plural(w) for w in words) + r"\b", re.I)


def content_tokens(text: str) -> list[str]:
    """Stemmed content words (English stop words removed), as BM25 sees them."""
    return tokenize_query(text)


WRITTEN_WORD = re.compile(r"[\w'’]+")  # a word as written, its possessive included


def word_forms(text: str) -> set[str]:
    """The words of a text as written, in lower case, a plural read as its singular ("admissions" →
    "admission"): "employed" is not "Employment" here, though both stem to "employ"."""
    words = (w.lower().removesuffix("'s").removesuffix("’s") for w in WRITTEN_WORD.findall(text))
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "is", "us")) else w for w in words}


def forms_of(text: str) -> dict[str, set[str]]:
    """Each content token of a text with the word forms that give it (``word_forms``)."""
    out: dict[str, set[str]] = {}
    for word in WRITTEN_WORD.findall(text):
        for token in content_tokens(word):
            out.setdefault(token, set()).update(word_forms(word))
    return out


def focus_words(text: str, focus: tuple[str, ...] | list[str]) -> str:
    """The words of ``text`` whose stems are in ``focus``, in order: the attribute as written."""
    wanted = set(focus)
    words = [w for w in re.findall(r"[\w.&'’-]+", text) if wanted & set(content_tokens(w))]
    return " ".join(dict.fromkeys(words))


WH = re.compile(r"\b(what|which|when|where|who|whom|how|why)\b|\bwhat's\b", re.I)
AUX_START = re.compile(r"^\s*(is|are|do|does|did|can|could|will|would|should|must|has|have|may|am|was|were)\b", re.I)


# Words that program and career pages use for the same thing: a question's word is covered by any word
# of its group ("earn" by "salary", "skip" by "waived"). General vocabulary of the domain, no names.
SYNONYM_GROUPS = tuple(" ".join(group) for group in VOCAB.synonym_groups)
# Words that exclude each other: a unit naming "fall" and not "spring" does not answer a spring question.
CONTRAST_GROUPS = tuple(" ".join(group) for group in VOCAB.contrast_groups)
_CONTRAST_STEMS = [frozenset(tokenize_query(group)) for group in CONTRAST_GROUPS]
CONTRASTS: dict[str, frozenset[str]] = {stem: group - {stem} for group in _CONTRAST_STEMS for stem in group}
SYNONYMS: dict[str, frozenset[str]] = {}
for _group in map(frozenset, map(tokenize_query, SYNONYM_GROUPS)):
    for _stem in _group:
        SYNONYMS[_stem] = SYNONYMS.get(_stem, frozenset()) | _group  # a word in two groups gets both


def covers(token: str, tokens: set[str] | frozenset[str]) -> bool:
    """A stemmed token, a word of its family ("decis"/"decid", "applic"/"appli") or a synonym is among ``tokens``."""
    if token in tokens:
        return True
    synonyms = SYNONYMS.get(token)
    if synonyms is not None and not synonyms.isdisjoint(tokens):
        return True
    if len(token) < 5:
        return False
    for other in tokens:
        if len(other) >= 5 and other[0] == token[0]:
            n = min(len(token), len(other)) - 1
            if n >= 4 and token[:n] == other[:n]:
                return True
    return False


# "How big / large / far ...": the adjective names the measure asked for, stated as a number ("a 600-acre
# preserve", "about 75 students"), not a word the answer repeats.
# "How long should the essay be?" asks for pages or words, not a duration.
MEASURE = re.compile(
    r"\bhow (big|large|small|wide|tall|far|deep|heavy|old)\b|\bhow long (should|must|can|may|is|are|does|do) "
    r"(the |my |your |a |an |each |one )?(personal |research |writing |application )?(portfolio|essay|statement|"
    r"r[ée]sum[ée]|cv|writing sample|sample|letter|paper|abstract|proposal)s?\b",
    re.I,
)
MEASURE_WORDS = frozenset(tokenize_query(" ".join(VOCAB.measure_words)))

# The question phrase decides before any noun does: "How quickly do graduates recoup the cost?" wants a duration.
WH_KIND: list[tuple[str, re.Pattern]] = [
    ("measure", MEASURE),
    ("duration", re.compile(r"\bhow (long|quickly|soon|fast|recent)\b(?!.*\b(grow|increase|rise)\w*)", re.I)),
    ("count", re.compile(r"\bhow many\b(?! (years|months|semesters|weeks|terms|quarters)\b)", re.I)),
    ("date", re.compile(r"^\s*(when|by when|by what date)\b", re.I)),
]


# "What if …?" / "What happens if …?" asks what follows, whatever value the condition names.
WHAT_IF = re.compile(r"^\s*what(\s+happens|\s+would\s+happen|\s+will\s+happen)?\s+if\b", re.I)
# A clause that sets the asker's case before the question proper ("If I miss the deadline, will they …?",
# "Once I graduate, what …?"): the kind of answer is the main clause's.
CONDITION_FIRST = re.compile(
    r"^\s*(if|once|assuming|suppos(e|ing)|(when|after|before|since)\s+(i|i'm|i’m|we|my))\b[^,?]*,\s*(?=\w+\s+\w+\s+\w+)",
    re.I,
)


def answer_kind(text: str) -> str:
    """The kind of answer wanted; a yes/no question with no wh-word is yes/no whatever it mentions."""
    text = CONDITION_FIRST.sub("", text, count=1)
    if WHAT_IF.search(text):
        return "description"
    if AUX_START.search(text) and not WH.search(text):
        return "yesno"
    for kind, pattern in WH_KIND:
        if pattern.search(text):
            return kind
    for kind, pattern in ASK:
        if pattern.search(text):
            return kind
    return "description"


# Numbers that are not a count or a score: sums, years and year ranges ("2026-2027"), calendar days. (A share
# may answer "how many": "How many students are international?" - "34%".)
NOT_A_NUMBER = re.compile(
    rf"({MONEY})[\d,.]*|\b(19|20)\d\d(\s?[-–/]\s?(\d\d){{1,2}})?\b|\b{MONTHS}\b\.?\s*\d{{1,2}}\b",
    re.I,
)


def matches_kind(text: str, kind: str) -> bool:
    pattern = VALUE.get(kind)
    if pattern is None:
        return True
    if kind in ("count", "score"):
        text = NOT_A_NUMBER.sub(" ", text)
    return bool(pattern.search(text))


def small_talk_kind(message: str) -> str | None:
    text = re.sub(r"[^\w\s']", " ", message.lower())
    text = re.sub(r"\s+", " ", text).strip()
    for name, pattern in (("greeting", GREETING), ("thanks", THANKS), ("bye", BYE), ("help", HELP)):
        if pattern.match(text):
            return name
    return None


def asking_sentences(message: str) -> list[str]:
    """The sentences that ask (end with "?"); without any, the last sentence."""
    sentences = [s.strip() for s in SENTENCE.split(message.strip()) if s.strip()]
    asking = [s for s in sentences if s.endswith("?")]
    return asking or sentences[-1:]


def _is_name_word(word: str, first: bool) -> bool:
    bare = re.sub(r"['’]s?$", "", word)
    if len(bare) < 2 and bare not in {"&"}:
        return False
    has_upper = any(ch.isupper() for ch in bare)
    if not has_upper:
        return False
    if first and bare.lower() in OPENERS:
        return False
    return bare.lower() not in {"i", "i'm", "i'd", "i've", "i'll"}


def follows_marker(before: list[str], markers: frozenset[str] = SUBJECT_MARKERS, through_article: bool = True) -> bool:
    """The words before a name end with a subject marker ("at", "for", "does"), an article between them
    allowed ("for the X") unless ``through_article`` is false."""
    words = [w.lower() for w in before[-2:]]
    if through_article and words and words[-1] in ARTICLES:
        words.pop()
    return bool(words) and words[-1] in markers


def name_spans(sentence: str) -> list[tuple[str, bool]]:
    """Runs of capitalised words and acronyms in one sentence, each with whether it is the subject.

    Returns (name, subject) pairs; a name is the subject when it is possessive or follows a word such
    as "at", "for", "does", with or without an article ("tuition at X", "does the X require", "X's deadline").
    """
    words = TOKEN.findall(sentence)
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(words):
        if not _is_name_word(words[i], first=i == 0):
            i += 1
            continue
        j = i + 1
        while j < len(words):
            if (
                _is_name_word(words[j], first=False)
                and not re.search(r"['’]s?$", words[j - 1])
                and not CALENDAR.match(words[j])  # "the BLS May 2024 data": a month ends the name
            ):
                j += 1
            elif (
                words[j].lower() in CONNECTORS
                and j + 1 < len(words)
                and _is_name_word(words[j + 1], first=False)
                and not re.search(r"['’]s?$", words[j - 1])
            ):
                j += 2
            else:
                break
        run = words[i:j]
        possessive = bool(re.search(r"['’]s?$", run[-1]))
        text = " ".join(run)
        text = re.sub(r"['’]s?$", "", text).strip(" .,-")
        # "for the Kessler MBA" as "for Kessler", but not "to the PhD level" nor "is the 1L budget": after an
        # article, a name with a word written as names are ("Kessler"), not only initials or terms.
        subject = possessive or follows_marker(words[:i], through_article=any(map(PLAIN_NAME.match, run)))
        out.append((text, subject))
        i = j
    return out


# A school typed in lower case that the corpus may not hold ("at the university of michigan"): an institution's
# head word, "of", and one or two words that are neither stop words nor question fillers.
INSTITUTION = re.compile(rf"\b(?:{'|'.join(sorted(VOCAB.institution_heads))}) of ([a-z]+)(?: ([a-z]+))?")


def lowercase_institutions(sentence: str) -> list[tuple[str, bool]]:
    """``name_spans`` for schools written in lower case as "university of X"; a subject after "at (the)"."""

    def asking(word: str) -> bool:  # a stop word or a question filler ("how", "much"), not part of a name
        tokens = tokenize_query(word)  # stop words leave no token
        return not tokens or tokens[0] in FILLER

    out = []
    for m in INSTITUTION.finditer(sentence):
        words = [w for w in m.groups() if w]
        while words and asking(words[-1]):
            words.pop()
        if not words:
            continue
        name = " ".join([sentence[m.start() : m.start(1)].rstrip(), *words])
        out.append((name, follows_marker(sentence[: m.start()].split())))
    return out


def _program_name(name: str) -> bool:
    """Capitalised words, two or more, none of them initials: "Computer Science", not "GPA and LSAT"."""
    words = [w for w in name.split() if w.lower() not in CONNECTORS]
    return len(words) >= 2 and all(w[:1].isupper() and not w.isupper() for w in words)


def _link(linker, name: str, subject: bool) -> list:
    """Link a name; "Redfield and Kessler" that names nothing as a whole is two names, and so is a run of
    words that names nothing as a whole but whose words each name something ("FDU PharmD", "UC Irvine")
    and none of which the corpus lacks ("Glenmoor Ridge MPH" stays one unknown name)."""
    mention = linker.link(name, subject)
    if mention is not None and mention.linked:
        return [mention]
    if " and " in name:
        parts = [linker.link(part, subject) for part in name.split(" and ")]
        if all(p is not None and p.linked for p in parts):
            return parts
    words = [w for w in name.split() if w.lower() not in CONNECTORS]
    if len(words) > 1:
        parts = [linker.link(w, subject) for w in words]
        # A word the corpus lacks may be a degree's abbreviation ("PharmD" where pages write "Pharm.D."),
        # not a capitalised word of a name ("Glenmoor").
        # Every word must name something: "Ohio State" is not "Ohio" where "State" is a word of every page.
        lacking = [w for w, p in zip(words, parts, strict=True) if p is None or not p.linked]
        abbreviations = all(sum(ch.isupper() for ch in w) >= 2 for w in lacking)
        if abbreviations and any(p is not None and p.linked and p.lead for p in parts):
            return [p for p in parts if p is not None and p.linked]
    return [mention]


def acronyms_in(text: str) -> tuple[str, ...]:
    """The words written in capitals ("GPA", "TAs"), stemmed: each may be spelled out in a page."""
    return tuple(dict.fromkeys(t for w in re.findall(r"\b[A-Z]{2,5}s?\b", text) for t in content_tokens(w.rstrip("s"))))


def analyse(message: str, linker=None, *, split: bool = True) -> Question:
    """Turn a message into a :class:`Question`; ``linker`` links the names it uses to documents. A two-part
    question's parts are analysed too (``split``), each on its own."""
    text = " ".join((message or "").split())
    talk = small_talk_kind(text)
    if talk:
        return Question(text=text, small_talk=talk)
    asking = asking_sentences(text)
    clause = " ".join(asking)
    # "Going back to Purdue: what GPA do they want?": the part after the colon is the question, unless it only
    # lists what the question before it is about ("… the earlier deadline: Rutgers's or Kansas State's?").
    head, colon, tail = clause.rpartition(": ")
    asks = len(tail.split()) >= 2 and (WH.search(tail) or AUX_START.search(tail))
    kind = answer_kind(tail if colon and asks else clause)
    spans: list[tuple[str, bool]] = []
    stated: list[str] = []  # the sentences that state rather than ask: the asker's case
    for sentence in SENTENCE.split(text):
        in_question = sentence.strip() in asking
        if not in_question and sentence.strip():
            stated.append(sentence)
        found = name_spans(sentence)
        if linker is not None:
            found += linker.lowercase_names(sentence, SUBJECT_MARKERS)
            named = " ".join(name.lower() for name, _ in found)
            found += [(n, subject) for n, subject in lowercase_institutions(sentence) if n not in named]
        spans.extend((name, subject and in_question, in_question) for name, subject in found)
    links = [(name, asked, _link(linker, name, subject)) for name, subject, asked in spans] if linker else []
    mentions = tuple(replace(m, asked=asked) for _, asked, found in links for m in found if m is not None)
    tokens = tuple(dict.fromkeys(content_tokens(clause)))
    entities: tuple[frozenset[str], ...] = ()
    name_tokens: set[str] = set()
    for m in mentions:
        # An unknown acronym ("GPA" in a corpus that writes "grade point average") is still asked about.
        if m.by_name or (not m.known and not ACRONYM.fullmatch(m.text)):
            name_tokens.update(content_tokens(m.text))
    if linker is not None:
        words = [t for t in content_tokens(text) if t not in name_tokens and t not in FILLER]
        entities, described = linker.entities(
            mentions, words, compare=bool(COMPARE.search(clause)), forms=forms_of(text)
        )
        name_tokens |= described
    # A program's name that links to no page of the entity (too common to link, or only other schools' pages
    # use it): whether the entity's pages use it is checked against them.
    in_focus = frozenset().union(*entities) if entities else frozenset()
    programs = tuple(
        name
        for name, asked, found in links
        if asked and _program_name(name) and all(m is None or not m.doc_ids & in_focus for m in found)
    )
    restated = KIND_FILLER.get(kind, frozenset()) | (MEASURE_WORDS if MEASURE.search(clause) else frozenset())
    earners, asked_of = pay_subject(clause, set().union(*(content_tokens(m.text) for m in mentions)))  # no titles
    acronyms = acronyms_in(clause)
    if linker is not None and in_focus:
        # Initials the entity's titles spell out ("NP" of "… Nurse Practitioner") name the program, as its
        # title words do: they describe what is asked about, not what is asked.
        name_tokens |= {a for a in acronyms if linker.titles_spell(in_focus, a)}
    focus = tuple(t for t in tokens if t not in name_tokens and t not in FILLER and t not in restated)
    condition = _condition(stated, {*tokens, *name_tokens})
    pieces = compound_parts(text) if split else [text]
    parts = tuple(analyse(p, linker, split=False) for p in pieces) if len(pieces) > 1 else ()
    return Question(
        text=text,
        parts=parts,
        acronyms=acronyms,
        earners=earners,
        asked_of_earners=asked_of,
        programs=programs,
        kind=kind,
        focus=focus,
        tokens=tokens,
        mentions=mentions,
        compare=bool(COMPARE.search(clause)) or len(entities) > 1,
        entities=entities,
        condition=condition,
    )


def _condition(stated: list[str], known: set[str]) -> tuple[str, ...]:
    """The content words of the sentences that state rather than ask ("My bachelor's is in biology. Will I …?"):
    the asker's case, which the answering unit often names ("applicants with a degree in biology …")."""
    return tuple(dict.fromkeys(t for t in content_tokens(" ".join(stated)) if t not in known and t not in FILLER))


COMPOUND = re.compile(r",?\s+and\s+(?=(what|how|when|where|who|which|is|are|do|does|can|will|would)\b)", re.I)


def compound_parts(text: str) -> list[str]:
    """A question that asks two things ("What's X, and what can Y earn?") as its two questions; else itself."""
    pieces = COMPOUND.split(text, maxsplit=1)
    if len(pieces) != 3:
        return [text]
    first, _, second = pieces
    parts = [first.strip(" ,") + "?", second.strip()]
    return parts if all(len(p.split()) >= 3 for p in parts) else [text]
