"""The gateway: the only process residents' channels talk to.

It checks and limits what comes in, pseudonymises the session id, forwards the message to
Rasa's REST channel with the channel name in the metadata, and returns Rasa's replies in a
small, stable JSON format.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.admin.routes import create_admin_router
from bot.faq.directory import FaqDirectory
from bot.gateway.body_limit import BodySizeLimitMiddleware
from bot.gateway.json_body import (
    BadRequest,
    json_error,
    lang_of,
    read_json_object,
    session_id_of,
)
from bot.gateway.line.api import LineApi
from bot.gateway.line.channel import LineChannel, LineSettings
from bot.gateway.rasa_client import RasaClient
from bot.gateway.ratelimit import Rate, RateLimitMiddleware, buckets_for
from bot.gateway.resident_text import TextRejected, prepare
from bot.gateway.turn import take_turn
from bot.gateway.web import add_cross_origin_rules, widget_router
from bot.privacy.hashing import hash_id, load_salt
from bot.settings import Settings
from bot.storage.db import Store
from bot.storage.retention import purge_daily

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
STATIC_DIR = Path(__file__).parent / "static"


async def _read_chat_request(request: Request) -> tuple[str, str, str | None]:
    """Validate a /api/chat body; raise BadRequest with a message a developer can act on.
    The text returned is already normalised and redacted (see resident_text)."""
    data = await read_json_object(request, MAX_BODY_BYTES)
    session_id, text = session_id_of(data), data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("'text' is required and must be a non-empty string")
    try:
        text = await asyncio.to_thread(prepare, text)
    except TextRejected as exc:
        raise BadRequest(str(exc), 413 if exc.reason == "too_long" else 400) from exc
    lang = None if data.get("lang") is None else lang_of(data["lang"])
    return session_id, text, lang


def line_settings_from(settings: Settings) -> LineSettings | None:
    if not settings.line_enabled:
        return None
    return LineSettings(
        channel_secret=settings.line_channel_secret,
        access_token=settings.line_channel_access_token,
        api_base_url=settings.line_api_base_url or None,
        reply_window=settings.line_reply_window,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    salt = load_salt(settings.hash_salt, settings.root / "var")

    line_settings = line_settings_from(settings)
    directory = FaqDirectory(settings.corpus_dir, settings.profile_path)  # shared lookups
    # One store (one database engine and its pool) for the residents' API, LINE and the
    # staff pages. Opening it upgrades the schema: done here, before serving starts.
    store = Store(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        app.state.store = store
        purging = asyncio.create_task(
            purge_daily(app.state.store, settings.retention_days, settings.tracker_url)
        )
        app.state.rasa = RasaClient(settings.rasa_url, timeout=settings.rasa_timeout)
        app.state.line = None
        if line_settings is not None:
            app.state.line = LineChannel(
                line_settings,
                LineApi(line_settings.access_token, line_settings.api_base_url),
                app.state.rasa,
                app.state.store,
                directory,
                salt,
            )
        yield
        if app.state.line is not None:
            await app.state.line.drain()
            await app.state.line.api.close()
        await app.state.rasa.close()
        purging.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purging

    app = FastAPI(title="Madoguchi gateway", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/chat")
    async def chat(request: Request) -> JSONResponse:
        try:
            session_id, text, lang = await _read_chat_request(request)
        except BadRequest as exc:
            return json_error(str(exc), exc.status)
        turn = await take_turn(
            app.state.rasa,
            app.state.store,
            text=text,
            channel="web",
            session_hash=hash_id(session_id, salt),
            lang=lang,
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

    @app.post("/webhooks/line")
    async def line_webhook(request: Request) -> JSONResponse:
        if app.state.line is None:
            return json_error(
                "LINE is not configured (set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN)",
                404,
            )
        return await app.state.line.webhook(request)

    app.include_router(widget_router(settings, salt, directory))  # /api/feedback, /api/contact, /
    app.include_router(create_admin_router(settings, store))  # /admin: staff pages
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    rate = Rate.parse(settings.rate_limit)
    if rate is not None:
        app.add_middleware(RateLimitMiddleware, buckets=buckets_for(rate, settings.redis_url))
    add_cross_origin_rules(app, list(settings.allowed_origins))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    app.add_middleware(BodySizeLimitMiddleware)  # every route, the staff forms included

    if settings.trusted_proxies:
        # Added last, so it runs first: the rate limit and the sign-in throttle then see the
        # client named by a trusted proxy. X-Forwarded-For from anyone else is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))

    return app
