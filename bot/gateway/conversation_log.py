"""Logs every resident message with what became of it, for the monthly report.

The gateway sees every channel's messages and Rasa's replies, so it writes the log. A failure
to write is logged and never stops the answer, and the write runs in a worker thread so that
the event loop keeps serving other residents meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.gateway.rasa_client import ChatMessage
from bot.storage.db import Store
from bot.storage.models import OUTCOMES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    outcome: str
    faq_id: str | None = None
    score: float | None = None


def outcome_of(messages: Sequence[ChatMessage]) -> Outcome:
    """What Rasa's reply amounts to: an FAQ answer wins over anything else it said."""
    for message in messages:
        if message.faq_id:
            return Outcome("answered", message.faq_id, message.score)
    for message in messages:
        if message.outcome in OUTCOMES:
            return Outcome(message.outcome)
    return Outcome("other")


async def log_turn(
    store: Store | None,
    *,
    text: str,
    channel: str,
    lang: str,
    session_hash: str,
    outcome: Outcome,
) -> None:
    """Write one log row (the store redacts the text); never raises."""
    if store is None:
        return
    try:
        await asyncio.to_thread(
            store.log_message,
            text=text,
            channel=channel,
            lang=lang,
            session_hash=session_hash,
            outcome=outcome.outcome,
            faq_id=outcome.faq_id,
            score=outcome.score,
        )
    except Exception:
        logger.exception("Could not write the conversation log")
