"""One turn of a conversation, the same for the web chat and LINE: send the (already
redacted) message to Rasa, read what the action decided, choose the reply language, and
write one log record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.faq.directory import FaqDirectory
from bot.gateway.conversation_log import Outcome, log_turn, outcome_of
from bot.gateway.rasa_client import ChatMessage, RasaClient, RasaUnavailable
from bot.messages import say
from bot.storage.turn_log import TurnLog
from bot.text.language import detect_language

logger = logging.getLogger(__name__)


@dataclass
class TurnResult:
    messages: list[ChatMessage]
    lang: str
    outcome: Outcome

    @property
    def available(self) -> bool:
        return self.outcome.outcome != "error"


async def take_turn(
    rasa: RasaClient,
    turn_log: TurnLog | None,
    *,
    text: str,
    channel: str,
    session_hash: str,
    lang: str | None = None,
    key: str | None = None,
) -> TurnResult:
    """``lang`` is the language the resident chose, if any; ``key`` names a turn that may
    be taken again (see log_turn). Never raises for Rasa or the
    action server being down: the result's outcome is then "error" and it has no messages
    (see `outage_reply`)."""
    metadata: dict[str, Any] = {"channel": channel, **({"lang": lang} if lang else {})}
    try:
        messages = [m for m in await rasa.send(session_hash, text, metadata) if m.text.strip()]
        if not messages:
            # Rasa answers with nothing when its action could not run (the action server is
            # down or failed): for the resident and the report that is an outage too.
            raise RasaUnavailable("Rasa's reply was empty (is the action server up?)")
        outcome = outcome_of(messages)
    except RasaUnavailable as exc:
        logger.warning("no answer for a %s message: %s", channel, exc)
        messages, outcome = [], Outcome("error")
    reply_lang = next((m.lang for m in messages if m.lang), None) or lang or detect_language(text)
    await log_turn(
        turn_log,
        text=text,
        channel=channel,
        lang=reply_lang,
        session_hash=session_hash,
        outcome=outcome,
        key=key,
    )
    return TurnResult(messages, reply_lang, outcome)


def outage_reply(directory: FaqDirectory, lang: str) -> ChatMessage:
    """What a resident is told when the assistant cannot answer: to try again, or whom to
    ask (the general desk, its phone and hours)."""
    contact = directory.corpus().profile.contact(None, lang)
    return ChatMessage(text=say("unavailable", lang, contact=contact), lang=lang, outcome="error")
