"""Logs every resident message with what became of it, for staff and the monthly report.

The gateway sees every channel's messages and what the action decided, so it writes the log:
one row per turn (its outcome, the kind of turn and the topic it was read against), and for a
question that went unanswered a row in the review queue with the engine's candidates. The
action server writes nothing. A failure to write never stops the answer: while the database
is down the turn waits in a spool on disk. The write runs in a worker thread so that the
event loop keeps serving other residents.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.gateway.rasa_client import ChatMessage
from bot.storage.models import OUTCOMES
from bot.storage.turn_log import TurnLog, TurnRecord

logger = logging.getLogger(__name__)

# How often the gateway looks for spooled turns to write.
SPOOL_SECONDS = 5.0


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


async def log_turn(
    turn_log: TurnLog | None,
    *,
    text: str,
    channel: str,
    lang: str,
    session_hash: str,
    outcome: Outcome,
    key: str | None = None,
) -> None:
    """Write the turn's rows (the record redacts the text); never raises. While the
    database cannot be reached the turn waits in the spool (bot.storage.turn_log). A turn
    that may be taken again (a retried LINE event) has a ``key``: it is logged once."""
    if turn_log is None:
        return

    def write() -> None:
        turn_log.write(
            TurnRecord.of(
                text,
                channel=channel,
                lang=lang,
                session_hash=session_hash,
                outcome=outcome.outcome,
                faq_id=outcome.faq_id,
                score=outcome.score,
                turn=outcome.turn,
                topic_faq_id=outcome.topic,
                reason=outcome.reason,
                candidate_ids=outcome.candidates,
                key=key,
            )
        )

    try:
        await asyncio.to_thread(write)
    except Exception:
        logger.exception("Could not write the conversation log")


async def flush_spool(turn_log: TurnLog, every: float = SPOOL_SECONDS) -> None:
    """Write spooled turns to the database as soon as it is back (runs for the gateway's
    life)."""
    while True:
        try:
            if await asyncio.to_thread(turn_log.pending):
                await asyncio.to_thread(turn_log.flush)
        except Exception:
            logger.exception("The conversation log's spool could not be flushed")
        await asyncio.sleep(every)
