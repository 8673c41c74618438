"""Logs every resident message with what became of it, for staff and the monthly report.

The gateway sees every channel's messages and what the action decided, so it writes the log:
one row per turn (its outcome, the kind of turn and the topic it was read against), and for a
question that went unanswered a row in the review queue with the engine's candidates. The
action server writes nothing. A failure to write is logged and never stops the answer, and
the write runs in a worker thread so that the event loop keeps serving other residents.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.gateway.rasa_client import ChatMessage
from bot.storage.db import Store
from bot.storage.models import OUTCOMES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    outcome: str
    faq_id: str | None = None
    score: float | None = None
    turn: str | None = None
    topic: str | None = None
    reason: str | None = None
    candidates: tuple[str, ...] = field(default=())


def outcome_of(messages: Sequence[ChatMessage]) -> Outcome:
    """What Rasa's reply amounts to: an FAQ answer wins over anything else it said."""
    decided = next((m for m in messages if m.faq_id), None) or next(
        (m for m in messages if m.outcome in OUTCOMES), None
    )
    if decided is None:
        return Outcome("other")
    return Outcome(
        "answered" if decided.faq_id else str(decided.outcome),
        decided.faq_id,
        decided.score if decided.faq_id else None,
        decided.turn,
        decided.topic,
        decided.reason,
        tuple(decided.candidates),
    )


def _write(
    store: Store, text: str, channel: str, lang: str, session_hash: str, outcome: Outcome
) -> None:
    store.log_message(
        text=text,
        channel=channel,
        lang=lang,
        session_hash=session_hash,
        outcome=outcome.outcome,
        faq_id=outcome.faq_id,
        score=outcome.score,
        turn=outcome.turn,
        topic_faq_id=outcome.topic,
    )
    if outcome.outcome == "unanswered":
        store.log_unanswered(
            text=text,
            channel=channel,
            lang=lang,
            session_hash=session_hash,
            reason=outcome.reason or "no_match",
            candidate_ids=outcome.candidates,
        )


async def log_turn(
    store: Store | None,
    *,
    text: str,
    channel: str,
    lang: str,
    session_hash: str,
    outcome: Outcome,
) -> None:
    """Write the turn's rows (the store redacts the text); never raises."""
    if store is None:
        return
    try:
        await asyncio.to_thread(_write, store, text, channel, lang, session_hash, outcome)
    except Exception:
        logger.exception("Could not write the conversation log")
