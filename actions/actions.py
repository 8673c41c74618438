"""The one custom action: every resident message is decided in bot.conversation.decide.

Every reply is in the resident's language, which comes from the channel's metadata (a
language chosen in the widget or on LINE), else from the message itself, else from the
conversation so far. The action writes nothing: it says in the reply what happened (the
outcome, the entry, the candidates) and the gateway logs it.
"""

from __future__ import annotations

import os
import threading
import time
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.conversation.context import Context, slot_values
from bot.conversation.decide import Decision, Turn, decide
from bot.conversation.guide import GuideFile
from bot.faq.corpus import Entry
from bot.faq.engine import FaqEngine, build_engine
from bot.messages import say
from bot.settings import Settings
from bot.text.language import LANGUAGES, detect
from bot.text.language import warm_up as warm_up_language_detection

# Below this confidence a candidate says nothing about which department to point to.
ROUTING_CONFIDENCE = 0.15
# Candidate ids the reply carries for the log and the review queue.
MAX_CANDIDATES = 5


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


_engine_lock = threading.Lock()


def engine() -> FaqEngine:
    with _engine_lock:  # the warm-up thread and a first request must not both build it
        return _build_engine()


@lru_cache(maxsize=1)
def _build_engine() -> FaqEngine:
    return build_engine(settings())


@lru_cache(maxsize=1)
def guide_file() -> GuideFile:
    return GuideFile(settings().conversation_path)


def _metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = tracker.latest_message.get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def conversation_language(tracker: Tracker) -> str:
    """The language to answer in.

    A language the resident chose (sent by the channel) wins. Otherwise a message clearly in
    one language switches to it; a short or ambiguous one ("ok", 「住民票」) keeps the
    language the conversation already has.
    """
    chosen = _metadata(tracker).get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    detection = detect(tracker.latest_message.get("text") or "")
    if detection.confident:
        return detection.lang
    slot = tracker.get_slot("language")
    return slot if slot in LANGUAGES else detection.lang


def _buttons(entries: list[Entry], lang: str) -> list[dict[str, str]]:
    return [
        {"title": e.canonical_question(lang), "payload": e.canonical_question(lang)}
        for e in entries
    ]


def _answer_text(faq: FaqEngine, entry: Entry, lang: str) -> tuple[str, str]:
    text, answer_lang = faq.render_answer(entry, lang)
    if answer_lang != lang:
        text = f"{say('untranslated', lang)}\n{text}".strip()
    links = [
        f"{entry.link_title(link, lang)}: {faq.profile.render(link.url, lang)}"
        for link in entry.links
    ]
    return ("\n\n".join([text, "\n".join(links)]) if links else text), answer_lang


def _reply(faq: FaqEngine, decision: Decision) -> tuple[str, list[Entry], str]:
    """The text, the buttons and the language of the reply to ``decision``."""
    lang = decision.lang
    profile = faq.profile
    if decision.outcome == "answered" and decision.entry is not None:
        text, answer_lang = _answer_text(faq, decision.entry, lang)
        return text, decision.options, answer_lang
    if decision.outcome == "clarify":
        return say("which_one", lang), decision.options, lang
    if decision.outcome == "suggestions":
        return say("did_you_mean", lang), decision.options, lang
    if decision.outcome == "small_talk":
        return say(decision.small_talk or "greet", lang, city=profile.city_name(lang)), [], lang
    if decision.outcome == "contact":
        return say("contact_human", lang, contact=profile.contact(None, lang)), [], lang
    routed = [c for c in decision.candidates if c.confidence >= ROUTING_CONFIDENCE]
    department = routed[0].entry.department if routed else None
    return say("cannot_answer", lang, contact=profile.contact(department, lang)), [], lang


class ActionRespond(Action):
    def name(self) -> str:
        return "action_respond"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        faq = engine()
        now = time.time()
        lang = conversation_language(tracker)
        intent = tracker.latest_message.get("intent") or {}
        context = Context.from_slots(
            tracker.current_slot_values(), now, settings().conversation_idle_minutes
        )
        turn = Turn(
            text=tracker.latest_message.get("text") or "",
            lang=lang,
            intent=intent.get("name"),
            intent_confidence=float(intent.get("confidence") or 0.0),
        )
        decision = decide(faq, guide_file().get(faq.corpus), turn, context)
        if decision.outcome == "answered" and decision.kind in ("first", "switch"):
            # Runners-up close to the answer ride along as "did you mean" buttons.
            decision.options = [
                r.entry
                for r in decision.candidates[1:4]
                if r.confidence >= 0.85 * (decision.confidence or 0)
            ]
        text, buttons, reply_lang = _reply(faq, decision)
        dispatcher.utter_message(
            text=text,
            buttons=_buttons(buttons, lang) or None,
            json_message={
                "madoguchi": True,
                "outcome": decision.outcome,
                "turn": decision.kind,
                "faq_id": decision.entry.id if decision.entry else None,
                "lang": reply_lang,
                "confidence": None
                if decision.confidence is None
                else round(decision.confidence, 3),
                "candidates": [c.entry.id for c in decision.candidates[:MAX_CANDIDATES]],
                "options": [e.id for e in buttons],
                "reason": decision.reason,
                "topic": context.topic,
            },
        )
        answered = decision.subject if decision.outcome == "answered" else None
        slots = slot_values(
            answered=answered,
            options=buttons if decision.outcome == "clarify" else [],
            keep_topic=decision.outcome in ("small_talk", "contact", "clarify"),
            now=now,
        )
        return [SlotSet("language", lang)] + [SlotSet(k, v) for k, v in slots.items()]


# Set once the warm-up is over; the action server's /health answers 503 until then.
READY = threading.Event()


def _warm_up() -> None:
    """Build the FAQ index and load the models before the first resident asks, so that
    nobody waits several seconds for them."""
    try:
        faq = engine()
        guide_file().get(faq.corpus)
        warm_up_language_detection()
    finally:
        READY.set()  # a failed warm-up is retried by the first question, not waited for


# rasa-sdk serves from a Sanic worker process that it starts with the 'spawn' method, and
# Sanic refuses to start once the main process has fixed another method (loading the
# models does). So the warm-up runs only in the worker, which imports this module again.
# It runs in a thread: Sanic gives a worker 30 s to report that it started, and on a busy
# machine loading the models can take longer than that. (Sanic names its worker in the
# process environment: a fact about this process, not a setting.)
if os.environ.get("SANIC_WORKER_NAME"):
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
else:
    READY.set()  # no worker, no warm-up: nothing to wait for
