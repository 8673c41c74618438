"""POST /webhooks/line: LINE's webhook, handed to the channel (bot.gateway.line.channel)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.gateway.deps import LineDep
from bot.gateway.json_body import json_error

router = APIRouter()


@router.post("/webhooks/line")
async def line_webhook(request: Request, line: LineDep) -> JSONResponse:
    if line is None:
        return json_error(
            "LINE is not configured (set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN)", 404
        )
    return await line.webhook(request)
