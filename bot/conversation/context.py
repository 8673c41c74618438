"""What a conversation remembers between turns, kept in Rasa's tracker as slots.

- ``topic``, ``topic_category``, ``topic_department``: the entry last answered;
- ``clarify_options``: the entries a clarifying question offered, until the next message;
- ``last_turn_at``: when the assistant last answered (seconds since the epoch).

After ``idle_minutes`` without a message the conversation starts afresh: the topic and an
open clarifying question are forgotten (the language is kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.faq.corpus import Entry

TOPIC_SLOTS = ("topic", "topic_category", "topic_department")


@dataclass(frozen=True)
class Context:
    topic: str | None = None
    options: tuple[str, ...] = ()

    @classmethod
    def from_slots(cls, slots: dict[str, Any], now: float, idle_minutes: float) -> Context:
        at = slots.get("last_turn_at")
        if not isinstance(at, (int, float)) or now - float(at) > idle_minutes * 60:
            return cls()
        topic = slots.get("topic")
        options = slots.get("clarify_options") or []
        return cls(
            topic=topic if isinstance(topic, str) and topic else None,
            options=tuple(str(o) for o in options if isinstance(o, str)),
        )


def slot_values(
    *, answered: Entry | None, options: list[Entry], keep_topic: bool, now: float
) -> dict[str, Any]:
    """The slots to set after a turn: a new topic when an entry was answered, the options of
    a clarifying question (or none), and the time."""
    values: dict[str, Any] = {
        "clarify_options": [e.id for e in options] or None,
        "last_turn_at": now,
    }
    if answered is not None:
        values.update(
            topic=answered.id,
            topic_category=answered.category,
            topic_department=answered.department,
        )
    elif not keep_topic:
        values.update(dict.fromkeys(TOPIC_SLOTS))
    return values
