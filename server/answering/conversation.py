"""Conversation state and slot filling: a follow-up takes what it lacks from what is being discussed.

Each message is analysed on its own first (:func:`server.answering.question.analyse`); then:

- no entity named ("How much does it cost?", "And the deadline?"): the entity in focus is used, as a
  soft default: if its documents cannot answer, the question is tried on its own;
- an entity named but no attribute ("What about at Oregon State?", "And Boston University's?"): the
  previous attribute and answer kind are kept and the entity changes;
- "Going back to Purdue: …": an entity named earlier is named again and simply links again;
- entity and attribute both named: standalone, nothing is taken;
- "that"/"than that" after an answer with a value: the question keeps the previous answer kind.

The state is a small JSON-able dict stored with each turn, so it survives restarts with the session.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from .question import CONTRASTS, Question, acronyms_in, content_tokens, focus_words
from .vocabulary import vocabulary

CONTINUATION = re.compile(r"^\s*(and|also|what about|how about|what if|but|so|then|ok(ay)?|plus|same)\b", re.I)
VALUE_ANAPHOR = re.compile(r"\b(that|this|it)\b", re.I)
INSTEAD = re.compile(r"\binstead\b|\brather\b", re.I)
ENTITY_ANAPHOR = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|there|the program|this program|that program|the degree|this degree|"
    r"the school|the university|the department|the course|the whole thing|the same)\b",
    re.I,
)
EXISTENTIAL = re.compile(r"\b(is|are|was|were|be)\s+there\b|\bthere\s+(is|are|was|were)\b", re.I)
COMMON_HEADS = vocabulary().institution_heads
TRAILING = re.compile(r"[\s?.!]+$")
Mentioned = Callable[[str, frozenset[str]], bool]  # some of these documents use this (stemmed) word
SchoolPages = Callable[[frozenset[str], tuple[str, ...]], frozenset[str]]  # the entity with its school's page


@dataclass
class ConversationState:
    """What is being discussed: the entity in focus, the attribute and answer kind last asked about."""

    entities: list[list[str]] = field(default_factory=list)  # document groups of the entity in focus
    names: list[str] = field(default_factory=list)  # how that entity was named
    focus: list[str] = field(default_factory=list)  # stemmed attribute tokens
    focus_words: str = ""  # the attribute as the user wrote it ("minimum GPA")
    kind: str = ""
    question: str = ""  # the standalone question last searched
    answered: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> ConversationState:
        if not isinstance(data, dict):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:
            return cls()


@dataclass(frozen=True)
class Resolved:
    """A message with its slots filled: the question to answer, the readable query and the text to search."""

    question: Question
    query: str  # shown to the user as "Searched: …"
    search: str = ""  # what retrieval reads (the query plus the attribute carried over, if any)
    inherited_entity: bool = False  # the entity came from the state (a soft default)
    inherited_attribute: bool = False

    @property
    def text(self) -> str:
        return self.search or self.query


def _entity_anaphors(text: str) -> list[re.Match]:
    """The words pointing at the entity being discussed; "is there" / "there are" do not point anywhere."""
    return list(ENTITY_ANAPHOR.finditer(EXISTENTIAL.sub(lambda m: "_" * len(m.group(0)), text)))


def _entity_anaphor(text: str) -> re.Match | None:
    return next(iter(_entity_anaphors(text)), None)


def refers_back(text: str) -> bool:
    """The message points at the entity being discussed ("there", "their", "the program"…) or continues
    the previous question ("And …?", "… instead?")."""
    return _entity_anaphor(text) is not None or bool(CONTINUATION.search(text) or INSTEAD.search(text))


def stands_alone(question: Question) -> bool:
    """The message may be answered without the entity in focus: it does not point back at it, or it only
    continues ("And what do lawyers earn?") while naming a subject of its own (whose pay, which documents)."""
    if _entity_anaphor(question.text) is not None:
        return False
    return not refers_back(question.text) or bool(question.earners or question.entities)


def names_subject(question: Question) -> bool:
    """The message names its own subject: whose pay, or a page by its name (not a term some page's text
    holds, "the LSAT")."""
    return bool(question.earners) or any(m.linked and m.by_name for m in question.mentions)


def named(question: Question) -> list[str]:
    """Names of schools or organisations in the message: the entities it switches to. A name true of more
    documents than another one's ("MS" beside "Harbor Tech") is a broader word, not a name of its own."""
    leads = [m for m in question.mentions if m.linked and m.lead]
    return [
        m.text.title() if m.text.islower() else m.text for m in leads if not any(o.doc_ids < m.doc_ids for o in leads)
    ]


def resolve(
    question: Question,
    state: ConversationState,
    mentioned: Mentioned | None = None,
    same_school: Callable[[frozenset[str], frozenset[str]], frozenset[str]] | None = None,
    school_pages: SchoolPages | None = None,
) -> Resolved:
    """Fill the question's missing slots from the state. ``mentioned(token, docs)`` tells whether some of the
    documents use a word (a program named in the message that the entity in focus never mentions switches);
    ``same_school(docs, of)`` keeps those of a school's (a switch within a school stays there);
    ``school_pages(docs, words)`` adds the school's page whose title the words match better."""
    text = question.text
    if not state.question or question.small_talk or question.unknown_subjects:
        # A question naming its own subject, even one the documents lack ("What is the tuition at <a school
        # not in them>?"), takes nothing from the conversation: its refusal names that subject alone.
        return Resolved(question, text)
    switch = named(question)
    if switch and _points_before_names(question) and not any(m.subject for m in question.mentions if m.lead):
        switch = []  # "I'm also looking at their geology MS": a program of the school in focus, not a school
    # A kind of value of its own ("When is the deadline?" after a GRE question: a date) is an attribute too.
    own_focus = bool(question.focus) or (question.valued and question.kind != state.kind)
    inherited = frozenset().union(*map(frozenset, state.entities))
    if not switch and inherited and mentioned and _switches_program(question, inherited, mentioned):
        # "Switching to their LL.M.: …", "What about their MA in History?": a program named by its title words,
        # none of the entity in focus: the question's own entity replaces it, at the same school when the
        # documents of that program include some there.
        if same_school is not None:
            at_school = tuple(same_school(group, inherited) for group in question.entities)
            if not any(at_school) and _points_before_names(question):
                # "I'm also looking at their geology MS. …": no page of that school is the program's, and the
                # message points at the school in focus; its pages are searched, the program's title first.
                return _with_state(question.with_(entities=()), state, own_focus, school_pages)
            question = question.with_(entities=tuple(k or g for k, g in zip(at_school, question.entities, strict=True)))
        switch = [] if own_focus else [m.text for m in question.mentions if m.linked and m.by_name]
        if own_focus:
            return Resolved(question, text)
    if switch and own_focus:
        return Resolved(question, text)  # standalone
    if switch:
        return _switched(question, state, switch)
    return _with_state(question, state, own_focus, school_pages)


def _switched(question: Question, state: ConversationState, switch: list[str]) -> Resolved:
    """The entity changes, the question stays: previous attribute and kind, new entity."""
    query = _with_entity(state.question, state.names, " and ".join(switch))
    q = question.with_(
        focus=tuple(state.focus),
        acronyms=_with_carried_acronyms(question, state, tuple(state.focus)),
        kind=state.kind or question.kind,
        tokens=tuple(dict.fromkeys(question.tokens + tuple(content_tokens(query)))),
        entities=question.entities,
    )
    return Resolved(q, query, query, inherited_attribute=True)


def _with_state(
    question: Question, state: ConversationState, own_focus: bool, school_pages: SchoolPages | None = None
) -> Resolved:
    """The same entity: the attribute taken from the state where the message has none of its own, and the
    entity in focus (narrowed by names in the message that are not schools)."""
    text = question.text
    focus, kind, search, inherited_attribute, hint_only = _attribute(question, state, own_focus)
    tokens = question.tokens if hint_only else tuple(dict.fromkeys(content_tokens(search)))
    question = question.with_(acronyms=_with_carried_acronyms(question, state, focus))
    if not state.entities:
        anaphoric = bool(VALUE_ANAPHOR.search(text) or ENTITY_ANAPHOR.search(text) or CONTINUATION.search(text))
        if not inherited_attribute and not anaphoric:
            return Resolved(question, text)
        q = question.with_(focus=focus, kind=kind, tokens=tokens)
        return Resolved(q, text, search, inherited_attribute=inherited_attribute)
    entities = tuple(frozenset(g) for g in state.entities)
    if school_pages is not None:
        words = tuple(content_tokens(question.text))  # the whole message: an aside may name the program
        entities = tuple(school_pages(g, words) for g in entities)
    name = " and ".join(state.names) if state.names else ""
    # Names in the message that are not schools (a degree, a test) narrow the entity when they can.
    narrowed = []
    for group in entities:
        extra = [m.doc_ids for m in question.mentions if m.linked and not m.lead and m.doc_ids & group]
        narrowed.append(frozenset.intersection(group, *extra) if extra else group)
    q = question.with_(
        entities=tuple(narrowed),
        focus=focus,
        kind=kind,
        tokens=tokens,
        compare=question.compare or len(narrowed) > 1,
    )
    query = _with_name(text, name) if name else text
    extra = search[len(text) :].strip()  # the attribute carried over, as the follow-up keeps it
    return Resolved(q, query, f"{query} {extra}" if extra else query, True, inherited_attribute)


def _attribute(
    question: Question, state: ConversationState, own_focus: bool
) -> tuple[tuple[str, ...], str, str, bool, bool]:
    """(focus, kind, search text, attribute inherited, attribute only a retrieval hint) of a follow-up."""
    text, carried = question.text, state.focus_words
    kind, focus, search = question.kind, question.focus, text
    if not own_focus:
        return tuple(state.focus), state.kind or kind, f"{text} {carried}", True, False
    if INSTEAD.search(text) and kind in ("description", "yesno") and state.kind:
        # "And if I wanted to start in spring instead?": the same question with a detail changed, so the
        # previous attribute and kind stay and the message's words join them.
        return tuple(dict.fromkeys((*state.focus, *focus))), state.kind, f"{text} {carried}", False, False
    if carried and state.kind and not question.valued and _changes_detail(question):
        # "And for spring?" after a fall 2023 deadline: the same question with a detail changed; the side of
        # a contrast it names replaces the other side in the attribute carried over, with the figures that
        # went with it ("fall 2023" goes).
        drop = frozenset().union(*(CONTRASTS.get(t, frozenset()) for t in focus))
        if drop:
            drop |= {t for t in state.focus if t.isdigit()}
        # The previous question is searched again with the detail swapped ("When was the deadline for entry"),
        # not only its focus words: what the kind of answer restates ("deadline") is part of what it asked.
        previous = TRAILING.sub("", state.question or carried)
        kept = " ".join(w for w in previous.split() if not drop.intersection(content_tokens(w)))
        merged = tuple(dict.fromkeys((*(t for t in state.focus if t not in drop), *focus)))
        return merged, state.kind, f"{text} {kept}", False, False
    anaphor = VALUE_ANAPHOR.search(text)
    if anaphor and carried:
        # "Can that requirement be waived?": the previous attribute is what "that" stands for. "Is it
        # accredited?" points at the program instead, so the attribute only steers retrieval: the units
        # are scored on the message's own words.
        if kind in ("description", "yesno") and state.kind and anaphor.group(0).lower() == "that":
            kind = kind if kind == "yesno" else state.kind
        return focus, kind, f"{text} {carried}", False, True
    return focus, kind, search, False, False


def _with_carried_acronyms(question: Question, state: ConversationState, focus: tuple[str, ...]) -> tuple[str, ...]:
    """The message's acronyms and those of the attribute carried over ("minimum GPA" for "And for their
    Ph.D.?"), which a page may spell out ("grade point average")."""
    carried = (a for a in acronyms_in(state.focus_words) if a in focus)
    return tuple(dict.fromkeys((*question.acronyms, *carried)))


def _changes_detail(question: Question) -> bool:
    """The message continues the previous question with a detail only ("And for spring?", "What about fall
    2017?"): all its focus is sides of a contrast and figures, not another attribute ("And the deadline?")."""
    focus = question.focus
    return bool(CONTINUATION.search(question.text) and focus) and all(t in CONTRASTS or t.isdigit() for t in focus)


def _points_before_names(question: Question) -> bool:
    """The message points at the entity in focus before it names a program ("their geology MS"), not after it
    ("the Kenmore MS in Finance: what was its deadline?", where "its" is the program just named)."""
    text = question.text
    spans = [(i, i + len(m.text)) for m in question.mentions if m.linked and m.by_name if (i := text.find(m.text)) >= 0]
    # "the University" of "the University of Utah" is the name's own word, not a pointer.
    pointers = [
        a.start()
        for a in _entity_anaphors(text)
        if not any(a.start() < end and start < a.end() for start, end in spans)
    ]
    if not pointers:
        return False
    return not spans or pointers[0] < min(start for start, _ in spans)


def _switches_program(question: Question, inherited: frozenset[str], mentioned: Mentioned) -> bool:
    """The message names documents by their titles, none of them among the entity in focus (``inherited``),
    whose documents never use the name ("their LL.M." after a budget page; not "their Ph.D." on a page that
    mentions one)."""
    own = [m for m in question.mentions if m.linked and m.by_name]
    return (
        bool(own and question.entities)
        and all(not (m.doc_ids & inherited) for m in own)
        and not any(mentioned(t, inherited) for m in own for t in content_tokens(m.text))
    )


def update(state: ConversationState, resolved: Resolved, answered: bool) -> ConversationState:
    """The state after a turn; a refusal keeps the entity (asking about a missing fact forgets nothing)."""
    q = resolved.question
    if q.small_talk:
        return state
    if q.entities:
        entities = [sorted(g) for g in q.entities]
        # A school named in the message replaces the name in focus; otherwise the name stays.
        names = named(q) or state.names or [m.text for m in q.mentions if m.linked]
    else:
        entities, names = state.entities, state.names
    if q.focus and not resolved.inherited_attribute:
        words = focus_words(resolved.query, q.focus) or " ".join(q.focus)
    else:
        words = state.focus_words
    return ConversationState(
        entities=entities,
        names=names,
        focus=list(q.focus) or state.focus,
        focus_words=words,
        kind=q.kind if q.focus or not state.kind else state.kind,
        question=resolved.query,
        answered=answered,
    )


def _with_name(text: str, name: str) -> str:
    """ "How much does it cost?" → "How much does it cost at Oregon State?" (readable, no brackets)."""
    if name.lower() in text.lower():
        return text
    match = _entity_anaphor(text)
    if match:
        word = match.group(0).lower()
        replacement = {
            "there": f"at {name}",
            "their": f"{name}'s",
            "theirs": f"{name}'s",
            "its": f"{name}'s",
            "they": name,
            "them": name,
        }.get(word, f"the {name} program" if word.startswith(("the ", "this ", "that ")) else None)
        if replacement:
            return text[: match.start()] + replacement + text[match.end() :]
    base = TRAILING.sub("", text)
    end = "?" if text.rstrip().endswith("?") else "."
    return f"{base}, for {name}{end}"


def _with_entity(previous: str, old_names: list[str], new_name: str) -> str:
    """The previous question asked about another entity: "How many credits is X's MS?" → "… is Y's MS?"."""
    for old in sorted(old_names, key=len, reverse=True):
        if old and old.lower() in previous.lower():
            start = previous.lower().index(old.lower())
            before = previous[:start]
            if re.search(r"\bthe $", before, re.I) and new_name.split()[0].lower() not in COMMON_HEADS:
                before = before[:-4]  # "the University of X's" → "Oregon State's", not "the Oregon State's"
            return before + new_name + previous[start + len(old) :]
    base = TRAILING.sub("", previous)
    base = re.sub(r",? for [^,?]+$", "", base) if old_names else base
    return f"{base}, for {new_name}?"
