"""Turning the assistant's replies into LINE messages within LINE's limits."""

from __future__ import annotations

from urllib.parse import urlencode

from linebot.v3.messaging import (
    Message,
    MessageAction,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
)

from bot.gateway.rasa_client import ChatMessage
from bot.messages import LANGUAGE_NAMES, say

MAX_MESSAGES_PER_REQUEST = 5
MAX_TEXT_UNITS = 5000  # UTF-16 code units
MAX_QUICK_REPLIES = 13
MAX_LABEL_CHARS = 20


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-16 units, at line breaks where
    possible, never inside a surrogate pair."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while utf16_units(line) > limit:  # a single line longer than the limit
            cut = _cut(line, limit - utf16_units(current)) if current else _cut(line, limit)
            pieces.append(current + line[:cut])
            current, line = "", line[cut:]
        if utf16_units(current + line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current or not pieces:
        pieces.append(current)
    return [p.rstrip("\n") or p for p in pieces if p.strip()] or [text[:1] or " "]


def _cut(text: str, units: int) -> int:
    """The largest number of characters of ``text`` that fit in ``units`` UTF-16 units."""
    total = 0
    for index, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > units:
            return max(index, 1)
    return len(text)


def label(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def text_message(text: str, quick_replies: list[QuickReplyItem] | None = None) -> TextMessage:
    items = (quick_replies or [])[:MAX_QUICK_REPLIES]
    return TextMessage(text=text, quickReply=QuickReply(items=items) if items else None)


def suggestion_items(chat: ChatMessage) -> list[QuickReplyItem]:
    """The assistant's "did you mean" choices, sent back as the resident's next message."""
    return [
        QuickReplyItem(action=MessageAction(label=label(q["title"]), text=q["payload"][:300]))
        for q in chat.quick_replies
        if q.get("title") and q.get("payload")
    ]


def feedback_items(faq_id: str, lang: str) -> list[QuickReplyItem]:
    return [
        QuickReplyItem(
            action=PostbackAction(
                label=label(say(answer, lang)),
                data=urlencode({"feedback": answer, "faq": faq_id}),
                displayText=say(answer, lang),
            )
        )
        for answer in ("yes", "no")
    ]


def language_items() -> list[QuickReplyItem]:
    return [
        QuickReplyItem(
            action=PostbackAction(label=name, data=urlencode({"lang": code}), displayText=name)
        )
        for code, name in LANGUAGE_NAMES.items()
    ]


def build_reply(chats: list[ChatMessage], lang: str) -> list[Message]:
    """LINE messages for one turn of the assistant, ending with the feedback question after
    an FAQ answer. Suggestions and feedback ride on the last message as quick replies."""
    texts: list[str] = []
    for chat in chats:
        texts.extend(split_text(chat.text))
    faq_id = next((c.faq_id for c in chats if c.faq_id), None)
    items = [item for chat in chats for item in suggestion_items(chat)]
    if faq_id:
        texts.append(say("helpful_prompt", lang))
        items = feedback_items(faq_id, lang) + items
    texts = _pack(texts)
    messages: list[Message] = [text_message(t) for t in texts[:-1]]
    messages.append(text_message(texts[-1], items))
    return messages


def _pack(texts: list[str]) -> list[str]:
    """Join short texts so that a turn needs as few LINE messages as possible."""
    packed: list[str] = []
    for text in texts:
        if (
            packed
            and utf16_units(packed[-1] + "\n\n" + text) <= MAX_TEXT_UNITS
            and len(packed) >= MAX_MESSAGES_PER_REQUEST - 1
        ):
            packed[-1] += "\n\n" + text
        else:
            packed.append(text)
    return packed or [" "]
