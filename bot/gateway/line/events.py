"""Reading the events of a signed LINE webhook body, older payload formats included.

line-bot-sdk v3 models the current webhook format and requires fields that LINE added over
the years (an event's ``webhookEventId`` and ``deliveryContext``, a text message's
``quoteToken``, a follow event's ``follow``...). Without them the SDK turns the event into an
``UnknownEvent``, which carries nothing to answer. Filling in what an older payload implies
before the SDK reads it lets such an event be handled like a current one.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pydantic_core
from linebot.v3.webhooks import Event

# What LINE added to every event, with the value an older event implies.
EVENT_DEFAULTS: dict[str, Any] = {"mode": "active", "deliveryContext": {"isRedelivery": False}}
# Per event type: fields added later. Before `follow`, a follow was always a new friend.
EVENT_TYPE_DEFAULTS: dict[str, dict[str, Any]] = {"follow": {"follow": {"isUnblocked": False}}}
# Per message type: fields added later. Before `contentProvider`, content was always LINE's;
# the sticker type only has to be one the SDK accepts (stickers just get "please type").
MESSAGE_DEFAULTS: dict[str, dict[str, Any]] = {
    "text": {"quoteToken": ""},
    "image": {"quoteToken": "", "contentProvider": {"type": "line"}},
    "video": {"quoteToken": "", "contentProvider": {"type": "line"}},
    "audio": {"contentProvider": {"type": "line"}},
    "sticker": {"quoteToken": "", "stickerResourceType": "STATIC"},
}
MAX_KIND_CHARS = 40


@dataclass(frozen=True)
class Unparsed:
    """An event the SDK cannot read even with the older format's fields filled in."""

    kind: str  # its type, for the log: never its text or user id


class MalformedBody(ValueError):
    """The body is not a LINE webhook body at all (not an object with an ``events`` list)."""


def parse_events(text: str) -> list[Event | Unparsed]:
    """The events of a webhook body whose signature has been checked."""
    try:
        # pydantic's parser refuses deep nesting and huge numbers with a ValueError, where
        # the standard library would raise RecursionError or build a huge integer.
        data = pydantic_core.from_json(text)
    except ValueError as exc:
        raise MalformedBody("not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise MalformedBody("no 'events' list")
    events: list[Event | Unparsed] = []
    for raw in data["events"]:
        if not isinstance(raw, dict):
            events.append(Unparsed(kind_of(raw)))
            continue
        try:
            events.append(Event.from_dict(with_current_fields(raw)))
        except Exception:  # the generated models raise all sorts of errors on odd input
            events.append(Unparsed(kind_of(raw)))
    return events


def with_current_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``raw`` with the fields of the current format that it lacks filled in.
    Fields that are present are never changed."""
    event = copy.deepcopy(raw)
    if "webhookEventId" not in event:
        # Derived from the content, so that a replay of the same older event is still
        # handled only once (an event's reply token and timestamp make it unique).
        digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
        event["webhookEventId"] = "older-" + digest[:40]
    _fill(event, EVENT_DEFAULTS)
    if isinstance(event.get("type"), str):
        _fill(event, EVENT_TYPE_DEFAULTS.get(event["type"], {}))
    message = event.get("message")
    if isinstance(message, dict) and isinstance(message.get("type"), str):
        _fill(message, MESSAGE_DEFAULTS.get(message["type"], {}))
    return event


def kind_of(event: Any) -> str:
    """An event's type for the log, e.g. ``message/text``; nothing else from the event."""
    kind = event.get("type") if isinstance(event, dict) else None
    if not isinstance(kind, str):
        return "(no type)"
    message = event.get("message")
    if kind == "message" and isinstance(message, dict) and isinstance(message.get("type"), str):
        kind += "/" + message["type"]
    return kind[:MAX_KIND_CHARS]


def _fill(target: dict[str, Any], defaults: dict[str, Any]) -> None:
    for key, value in defaults.items():
        target.setdefault(key, copy.deepcopy(value))
