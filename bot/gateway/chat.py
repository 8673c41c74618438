"""POST /api/chat: a resident's message from the widget, answered through Rasa."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.gateway.bodies import ChatBody, json_body
from bot.gateway.deps import DirectoryDep, RasaDep, SaltDep, TurnLogDep
from bot.gateway.json_body import BadRequest
from bot.gateway.resident_text import TextRejected, prepare
from bot.gateway.turn import outage_reply, take_turn
from bot.privacy.hashing import hash_id

MAX_BODY_BYTES = 64 * 1024

router = APIRouter()
# One dependency object, so that FastAPI reads the body once however many use it.
ChatBodyDep = Annotated[ChatBody, Depends(json_body(ChatBody, MAX_BODY_BYTES))]


async def resident_text(body: ChatBodyDep) -> str:
    """The message's text, normalised and redacted (see resident_text) before anything
    else sees it."""
    try:
        return await asyncio.to_thread(prepare, body.text)
    except TextRejected as exc:
        raise BadRequest(str(exc), 413 if exc.reason == "too_long" else 400) from exc


@router.post("/api/chat")
async def chat(
    body: ChatBodyDep,
    text: Annotated[str, Depends(resident_text)],
    rasa: RasaDep,
    turn_log: TurnLogDep,
    salt: SaltDep,
    directory: DirectoryDep,
) -> JSONResponse:
    session_hash = hash_id(body.session_id, salt)
    turn = await take_turn(
        rasa, turn_log, text=text, channel="web", session_hash=session_hash, lang=body.lang
    )
    if not turn.available:
        # A 503 the widget retries from, with what the resident is told meanwhile.
        reply = await run_in_threadpool(outage_reply, directory, turn.lang)
        return JSONResponse(
            {
                "error": "the assistant is not available right now; please try again",
                "messages": [reply.public()],
                "lang": turn.lang,
                "outcome": "error",
            },
            status_code=503,
        )
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
