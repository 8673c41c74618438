"""Talks to Rasa's REST channel and turns its replies into the gateway's message format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


class RasaUnavailable(RuntimeError):
    """Rasa did not answer (down, starting, or too slow)."""


@dataclass
class ChatMessage:
    text: str
    quick_replies: list[dict[str, str]] = field(default_factory=list)
    faq_id: str | None = None
    lang: str | None = None
    outcome: str | None = None
    score: float | None = None  # the FAQ engine's confidence in an answer; not shown publicly
    # What the action decided, for the log (never shown publicly): the kind of turn, the
    # topic it was read against, why a question went unanswered, the engine's candidates.
    turn: str | None = None
    topic: str | None = None
    reason: str | None = None
    candidates: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """The message as the API shows it: empty optional fields left out."""
        out: dict[str, Any] = {"text": self.text}
        if self.quick_replies:
            out["quick_replies"] = self.quick_replies
        if self.faq_id:
            out["faq_id"] = self.faq_id
        return out


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.webhook = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self._client = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[ChatMessage]:
        payload = {"sender": sender, "message": text, "metadata": metadata}
        try:
            response = await self._client.post(self.webhook, json=payload)
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc) or type(exc).__name__) from exc
        if not isinstance(replies, list):
            raise RasaUnavailable("unexpected reply from Rasa")
        return to_chat_messages(replies)


def to_chat_messages(replies: list[dict[str, Any]]) -> list[ChatMessage]:
    """Rasa sends an action's ``json_message`` after its text, as a message of its own, and
    splits a text at blank lines into several messages; the metadata applies to all of the
    messages since the previous action's metadata."""
    messages: list[ChatMessage] = []
    group_start = 0
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and custom.get("madoguchi"):
            candidates = custom.get("candidates")
            for target in messages[group_start:]:
                target.faq_id = _text(custom.get("faq_id")) or target.faq_id
                target.lang = _text(custom.get("lang")) or target.lang
                target.outcome = _text(custom.get("outcome")) or target.outcome
                target.turn = _text(custom.get("turn")) or target.turn
                target.topic = _text(custom.get("topic")) or target.topic
                target.reason = _text(custom.get("reason")) or target.reason
                if isinstance(candidates, list):
                    target.candidates = [str(c) for c in candidates if isinstance(c, str)]
                confidence = custom.get("confidence")
                if isinstance(confidence, (int, float)) and not isinstance(confidence, bool):
                    target.score = float(confidence)
            group_start = len(messages)
            continue
        text = reply.get("text")
        if not text:
            continue
        buttons = reply.get("buttons") or []
        messages.append(
            ChatMessage(
                text=str(text),
                quick_replies=[
                    {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                    for b in buttons
                    if isinstance(b, dict)
                ],
            )
        )
    return messages


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
