"""POST /api/chat: a resident's message from the widget, answered through Rasa."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.gateway.bodies import ChatBody, parse_body
from bot.gateway.deps import RasaDep, SaltDep, StoreDep
from bot.gateway.json_body import BadRequest, json_error, read_json_object
from bot.gateway.resident_text import TextRejected, prepare
from bot.gateway.turn import take_turn
from bot.privacy.hashing import hash_id

MAX_BODY_BYTES = 64 * 1024

router = APIRouter()


async def _read_chat_request(request: Request) -> tuple[str, str, str | None]:
    """Validate a /api/chat body; raise BadRequest with a message a developer can act on.
    The text returned is already normalised and redacted (see resident_text)."""
    body = parse_body(ChatBody, await read_json_object(request, MAX_BODY_BYTES))
    try:
        text = await asyncio.to_thread(prepare, body.text)
    except TextRejected as exc:
        raise BadRequest(str(exc), 413 if exc.reason == "too_long" else 400) from exc
    return body.session_id, text, body.lang


@router.post("/api/chat")
async def chat(request: Request, rasa: RasaDep, store: StoreDep, salt: SaltDep) -> JSONResponse:
    try:
        session_id, text, lang = await _read_chat_request(request)
    except BadRequest as exc:
        return json_error(str(exc), exc.status)
    turn = await take_turn(
        rasa, store, text=text, channel="web", session_hash=hash_id(session_id, salt), lang=lang
    )
    if not turn.available:
        return json_error("the assistant is not available right now; please try again", 503)
    return JSONResponse(
        {
            "messages": [m.public() for m in turn.messages],
            "lang": turn.lang,
            # What the reply is (answered, clarify, suggestions, unanswered, …) and what
            # the message was to the conversation (first, follow_up, switch, …).
            "outcome": turn.outcome.outcome,
            "turn": turn.outcome.turn,
        }
    )
