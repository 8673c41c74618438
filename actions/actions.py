"""Custom actions: answers from the FAQ engine, honest declines, small talk and contacts.

Every reply is in the resident's language, which comes from the channel's metadata (a
language chosen in the widget or on LINE), else from the message itself, else from the
conversation so far. Each action stores that language in the `language` slot.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.faq.engine import FaqEngine, Reply, Result, build_engine
from bot.messages import say
from bot.settings import Settings
from bot.storage.db import Store
from bot.text.language import SUPPORTED, detect
from bot.text.language import warm_up as warm_up_language_detection

logger = logging.getLogger(__name__)

# Below this confidence a candidate says nothing about which department to point to.
ROUTING_CONFIDENCE = 0.15


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
def store() -> Store:
    return Store(settings().database_url)


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
    if chosen in SUPPORTED:
        return str(chosen)
    detection = detect(tracker.latest_message.get("text") or "")
    if detection.confident:
        return detection.lang
    slot = tracker.get_slot("language")
    return slot if slot in SUPPORTED else detection.lang


def conversation_channel(tracker: Tracker) -> str:
    return str(_metadata(tracker).get("channel") or tracker.get_latest_input_channel() or "rest")


def _suggestion_buttons(results: list[Result], lang: str) -> list[dict[str, str]]:
    buttons = []
    for result in results:
        question = result.entry.canonical_question(lang)
        buttons.append({"title": question, "payload": question})
    return buttons


def _answer_text(reply: Reply, lang: str) -> tuple[str, str]:
    faq = engine()
    best = reply.results[0]
    text, answer_lang = faq.render_answer(best.entry, lang)
    if answer_lang != lang:
        text = f"{say('untranslated', lang)}\n{text}".strip()
    links = [
        f"{best.entry.link_title(link, lang)}: {faq.profile.render(link.url, lang)}"
        for link in best.entry.links
    ]
    return ("\n\n".join([text, "\n".join(links)]) if links else text), answer_lang


def answer_from_faq(dispatcher: CollectingDispatcher, tracker: Tracker, lang: str) -> bool:
    """Answers or suggests from the engine. Returns False when it found nothing to say."""
    text = tracker.latest_message.get("text") or ""
    reply = engine().search(text, lang)
    if reply.answered:
        best = reply.results[0]
        answer, answer_lang = _answer_text(reply, lang)
        dispatcher.utter_message(
            text=answer,
            buttons=_suggestion_buttons(engine().suggestions(reply), lang) or None,
            json_message={
                "madoguchi": True,
                "faq_id": best.entry.id,
                "lang": answer_lang,
                "confidence": round(best.confidence, 3),
            },
        )
        return True
    if reply.results:
        dispatcher.utter_message(
            text=say("did_you_mean", lang),
            buttons=_suggestion_buttons(list(reply.results), lang),
            json_message={"madoguchi": True, "lang": lang, "outcome": "suggestions"},
        )
        return True
    return False


def decline(dispatcher: CollectingDispatcher, tracker: Tracker, lang: str, reason: str) -> None:
    """Says honestly that there is no answer, gives the contact, and logs the question."""
    text = tracker.latest_message.get("text") or ""
    candidates = engine().search(text, lang).candidates[:3]
    routed = [c for c in candidates if c.confidence >= ROUTING_CONFIDENCE]
    department = routed[0].entry.department if routed else None
    profile = engine().profile
    dispatcher.utter_message(
        text=say("cannot_answer", lang, contact=profile.contact(department, lang)),
        json_message={"madoguchi": True, "lang": lang, "outcome": "unanswered"},
    )
    try:
        store().log_unanswered(
            text=text,
            channel=conversation_channel(tracker),
            lang=lang,
            session_hash=tracker.sender_id or "",
            reason=reason,
            candidate_ids=[c.entry.id for c in candidates],
        )
    except Exception:  # the resident still gets the reply; staff see the error in the log
        logger.exception("Could not store an unanswered question")


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = conversation_language(tracker)
        if not answer_from_faq(dispatcher, tracker, lang):
            decline(dispatcher, tracker, lang, reason="no_match")
        return [SlotSet("language", lang)]


class ActionCannotAnswer(Action):
    """Out-of-scope messages, and messages whose kind Rasa could not tell.

    When Rasa is merely unsure (a typo-ridden or very short message), the FAQ engine still
    gets a chance: it may recognise the words even where the intent classifier did not.
    """

    def name(self) -> str:
        return "action_cannot_answer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = conversation_language(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "out_of_scope":
            decline(dispatcher, tracker, lang, reason="out_of_scope")
        elif not answer_from_faq(dispatcher, tracker, lang):
            decline(dispatcher, tracker, lang, reason="fallback")
        return [SlotSet("language", lang)]


class ActionSmallTalk(Action):
    def name(self) -> str:
        return "action_small_talk"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = conversation_language(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        key = intent if intent in ("greet", "goodbye", "thanks") else "greet"
        city = engine().profile.city_name(lang)
        dispatcher.utter_message(
            text=say(key, lang, city=city),
            json_message={"madoguchi": True, "lang": lang, "outcome": "small_talk"},
        )
        return [SlotSet("language", lang)]


class ActionContactHuman(Action):
    def name(self) -> str:
        return "action_contact_human"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = conversation_language(tracker)
        contact = engine().profile.contact(None, lang)
        dispatcher.utter_message(
            text=say("contact_human", lang, contact=contact),
            json_message={"madoguchi": True, "lang": lang, "outcome": "contact"},
        )
        return [SlotSet("language", lang)]


def _warm_up() -> None:
    """Build the FAQ index and load the models before the first resident asks, so that
    nobody waits several seconds for them."""
    engine()
    warm_up_language_detection()


# rasa-sdk serves from a Sanic worker process that it starts with the 'spawn' method, and
# Sanic refuses to start once the main process has fixed another method (loading the
# models does). So the warm-up runs only in the worker, which imports this module again.
# It runs in a thread: Sanic gives a worker 30 s to report that it started, and on a busy
# machine loading the models can take longer than that.
if os.environ.get("SANIC_WORKER_NAME"):
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
