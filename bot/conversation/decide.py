"""The one place that decides what a resident's message gets: an answer, a clarifying
question, suggestions, small talk, the contact desk, or an honest decline.

It reads the message against the conversation so far (the topic of the last answer and a
clarifying question still open), the FAQ engine's ranking, and Rasa's reading of the kind of
message. Rasa's intent never turns away a question the engine can answer: it only decides
small talk and requests for a person, and only when the engine has no confident answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.conversation.context import Context
from bot.conversation.guide import Guide, folded
from bot.faq.corpus import Entry
from bot.faq.engine import FaqEngine, Reply, Result

SMALL_TALK = ("greet", "goodbye", "thanks")
# Rasa's confidence above which small talk or a request for a person is taken at its word.
INTENT_CONFIDENT = 0.8
# A candidate this close to the best one may be chosen because it belongs to the topic.
TOPIC_TIE = 0.7
# A message that names a procedure is about the topic's family only if an entry of that
# family is this close to the best one for it (「水道は？」 after moving is about tap water).
FAMILY_TIE = 0.85
# The words of a message name a procedure of their own only when the engine is this sure of
# it; below, a short follow-up's leftover words ("nộp đơn", "dele") are read against the topic.
NEW_SUBJECT = 0.5
# ...or when it is at least WEAK_SUBJECT sure of them and the topic's confidence for the
# whole message is under AWAY times that procedure's (a long message about a lost wallet).
WEAK_SUBJECT = 0.2
AWAY = 0.4
# A message that names another procedure stays with the topic when the topic's confidence
# for the whole message is at least this share of that procedure's.
HOLD = 0.7
# A follow-up that names no procedure and asks no facet (「エアコンは？」) gets the entry of the
# topic's family its words point at (at least POINTED sure for the words alone, or within
# TOPIC_WORDS of the best for the whole message) unless the topic's own entry has at least
# PREFER_TOPIC of that entry's confidence: its answer is the one the resident is reading.
POINTED = 0.2
TOPIC_WORDS = 0.5
PREFER_TOPIC = 0.7
MIN_TOPIC_CONFIDENCE = 0.1
# Details choose an option of a clarifying question when the engine's best option for the
# whole message is ahead of the others by more than this share.
CLEAR = 0.85
# A typed reply to a clarifying question picks the option the engine ranks best, if that
# option is at least this share of the engine's best confidence for the message.
OPTION_SHARE = 0.5


@dataclass
class Decision:
    outcome: str  # answered, suggestions, clarify, unanswered, small_talk, contact
    kind: str  # first, follow_up, switch, clarify, clarified, other
    lang: str
    entry: Entry | None = None
    confidence: float | None = None
    options: list[Entry] = field(default_factory=list)  # suggestions or clarifying options
    candidates: list[Result] = field(default_factory=list)
    reason: str | None = None  # why a question went unanswered
    small_talk: str | None = None  # greet, goodbye or thanks
    # What the conversation is about after this turn: the answer, or for a follow-up the
    # procedure it asked about (so that 「手数料は？」 after a 郵送 follow-up is still about
    # 住民票).
    subject: Entry | None = None


@dataclass
class Turn:
    """One message as the decision sees it."""

    text: str
    lang: str
    intent: str | None = None
    intent_confidence: float = 0.0


def decide(engine: FaqEngine, guide: Guide, turn: Turn, context: Context) -> Decision:
    corpus = engine.corpus
    topic = corpus.entries.get(context.topic or "")
    pending = [corpus.entries[i] for i in context.options if i in corpus.entries]
    # A pending clarifying question or a topic needs every entry's confidence, not just
    # the top ten's.
    whole = pending or topic is not None
    reply = engine.search(turn.text, turn.lang, limit=len(corpus.entries) if whole else 10)
    candidates = list(reply.candidates[:5])

    if pending:
        chosen = _resolve(pending, turn.text, reply)
        if chosen is not None:
            return _answer(chosen, turn, "clarified", reply, candidates)

    # Small talk and requests for a person, as Rasa reads them, unless the message is a
    # question the engine can answer, asks about a facet of the topic (「代理人でもいい？」), or
    # names an ambiguous subject.
    if (
        turn.intent_confidence >= INTENT_CONFIDENT
        and not reply.answered
        and not guide.facets_in(turn.text)
        and guide.ambiguous(turn.text) is None
    ):
        if turn.intent in SMALL_TALK:
            return Decision("small_talk", "other", turn.lang, small_talk=turn.intent)
        if turn.intent == "ask_human":
            return Decision("contact", "other", turn.lang, candidates=candidates)

    switched = guide.has_switch_marker(turn.text)
    if topic is not None and not switched:
        followed = _follow_up(engine, guide, turn, topic, reply)
        if followed is not None:
            subject, entry = followed
            return Decision(
                "answered",
                "follow_up",
                turn.lang,
                entry=entry,
                confidence=_confidence(reply, entry),
                candidates=candidates,
                subject=subject,
            )

    kind = "first" if topic is None else "switch"
    options = [] if pending else _ambiguous(engine, guide, turn, reply)  # never twice in a row
    if options:
        # 「手当は？」 after a birth registration: the topic chooses among the options.
        near = (
            [] if topic is None or switched else [e for e in options if guide.is_related(topic, e)]
        )
        if len(near) == 1:
            return _answer(near[0], turn, "follow_up", reply, candidates)
        return Decision("clarify", "clarify", turn.lang, options=options, candidates=candidates)

    if reply.answered:
        return _answer(reply.results[0].entry, turn, kind, reply, candidates)
    if reply.results and turn.intent != "out_of_scope":
        return Decision(
            "suggestions",
            kind,
            turn.lang,
            options=[r.entry for r in reply.results],
            candidates=candidates,
        )
    reason = "out_of_scope" if turn.intent == "out_of_scope" else "no_match"
    return Decision("unanswered", kind, turn.lang, candidates=candidates, reason=reason)


def _answer(
    entry: Entry, turn: Turn, kind: str, reply: Reply, candidates: list[Result]
) -> Decision:
    return Decision(
        "answered",
        kind,
        turn.lang,
        entry=entry,
        confidence=_confidence(reply, entry),
        candidates=candidates,
        subject=entry,
    )


def _confidence(reply: Reply, entry: Entry) -> float | None:
    return next((r.confidence for r in reply.candidates if r.entry.id == entry.id), None)


def _follow_up(
    engine: FaqEngine, guide: Guide, turn: Turn, topic: Entry, reply: Reply
) -> tuple[Entry, Entry] | None:
    """The procedure a follow-up is about and the entry that answers it, or None when the
    message is a question of its own.

    A message that names no procedure is about the topic, unless the engine finds it out of
    scope (「明日の天気は？」). One that names a procedure is about the topic if that
    procedure belongs to it (the same category, or an entry staff related to it), or if the
    whole message fits the topic nearly as well as that procedure (「証人って必要？」 after a
    divorce is not a question about marriage). The facet asked about (fees, documents, a
    proxy…) then picks the entry staff related to that procedure; without one, the topic's
    own entry, unless the message's words clearly point at another entry of its family.
    """
    facets = guide.facets_in(turn.text)
    remainder = guide.remainder(turn.text)
    own = engine.search(remainder, turn.lang) if remainder else None
    if not _names_own(own, topic, reply):
        if reply.off_topic and not facets:
            return None
        subject = topic
    else:
        found = _in_topic(guide, topic, reply, FAMILY_TIE) or _in_topic(
            guide, topic, own, FAMILY_TIE
        )
        if found is None:
            if not _topic_holds(topic, reply, own):
                return None
            found = topic
        subject = found
    for facet in facets:
        related = guide.related(subject, facet)
        if related and related in engine.corpus.entries:
            return subject, engine.corpus.entries[related]
    if subject is not topic:
        return subject, subject  # the subject's own answer covers the facet
    if facets and not remainder:
        return subject, subject  # 「いくら？」: the topic's own answer covers it
    # 「エアコンは？」 after 粗大ごみ, 「午饭要交钱吗？」 after school: the entry of the topic's
    # family the words point at, even where the engine is too unsure of them to answer them
    # alone ("fridge"); the topic itself when it fits about as well.
    pointed = None
    if (
        own is not None
        and own.candidates
        and own.candidates[0].confidence >= POINTED
        and guide.is_related(topic, own.candidates[0].entry)
    ):
        pointed = own.candidates[0].entry
    pointed = pointed or _in_topic(guide, topic, reply, share=TOPIC_WORDS) or topic
    if pointed is not topic and _score(reply, topic) >= PREFER_TOPIC * _score(reply, pointed):
        pointed = topic
    return subject, pointed


def _names_own(own: Reply | None, topic: Entry, reply: Reply) -> bool:
    """Whether the words left without facet and generic words name a procedure: the engine
    is sure of them alone, or fairly sure and the topic fits the whole message far worse
    (a long message about a lost wallet after a question about tap water)."""
    if own is None or not own.candidates:
        return False
    best = own.candidates[0]
    if own.answered and best.confidence >= NEW_SUBJECT:
        return True
    return best.confidence >= WEAK_SUBJECT and _score(reply, topic) < AWAY * _score(
        reply, best.entry
    )


def _score(reply: Reply, entry: Entry) -> float:
    return _confidence(reply, entry) or 0.0


def _topic_holds(topic: Entry, reply: Reply, own: Reply) -> bool:
    """Whether the whole message fits the topic nearly as well as the procedure its words
    name alone."""
    new = own.candidates[0].entry  # as _names_own read it; results may be trimmed
    return _score(reply, topic) >= HOLD * max(_score(reply, new), MIN_TOPIC_CONFIDENCE)


def _in_topic(guide: Guide, topic: Entry, reply: Reply, share: float = TOPIC_TIE) -> Entry | None:
    """The best candidate that belongs to the topic, if it is within ``share`` of the best."""
    if not reply.candidates:
        return None
    top = reply.candidates[0].confidence
    for result in reply.candidates:
        if result.confidence < share * top or result.confidence < MIN_TOPIC_CONFIDENCE:
            break
        if guide.is_related(topic, result.entry):
            return result.entry
    return None


def _ambiguous(engine: FaqEngine, guide: Guide, turn: Turn, reply: Reply) -> list[Entry]:
    """The options of a clarifying question: the message names an ambiguous subject and
    nothing else (「引っ越します」「税金」). Other words that could name a procedure
    (「市外に引っ越します」「大件垃圾」) leave the decision to the engine; so do details
    (「年金 払えない」「子どもの手当」) when the engine, reading the whole message, clearly
    prefers one of the options."""
    found = guide.ambiguous(turn.text)
    if found is None:
        return []
    clarification, words = found
    if guide.remainder(turn.text, also=words):
        return []
    corpus = engine.corpus
    options = [corpus.entries[i] for i in clarification.entries if i in corpus.entries]
    if guide.remainder(turn.text, also=words, keep_details=True) and reply.answered:
        ids = {e.id for e in options}
        best = reply.results[0]
        rivals = [
            r
            for r in reply.candidates[1:]
            if r.entry.id in ids and r.confidence >= CLEAR * best.confidence
        ]
        if best.entry.id not in ids or not rivals:
            return []  # the details point at one procedure (「引っ越します 子ども」)
    return options


def _resolve(options: list[Entry], text: str, reply: Reply) -> Entry | None:
    """The option a reply to a clarifying question chooses: a tapped button (its canonical
    question), the option's number, or the option the engine ranks best for the words."""
    typed = folded(text).strip(" ?？。.!")
    for entry in options:
        if any(
            folded(q).strip(" ?？。.!") == typed for qs in entry.questions.values() for q in qs[:1]
        ):
            return entry
    if typed.isdigit() and 1 <= int(typed) <= len(options):
        return options[int(typed) - 1]
    if not reply.candidates or reply.off_topic:
        return None  # 「明日の天気は？」 answers no clarifying question
    ids = {e.id: e for e in options}
    best = reply.candidates[0].confidence
    for result in reply.candidates:
        if result.entry.id in ids:
            chosen = result.confidence >= max(OPTION_SHARE * best, MIN_TOPIC_CONFIDENCE)
            return ids[result.entry.id] if chosen else None
    return None
