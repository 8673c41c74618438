"""The gateway: the only process residents' channels talk to, and its composition root.

It checks and limits what comes in, pseudonymises the session id, forwards the message to
Rasa's REST channel with the channel name in the metadata, and returns Rasa's replies in a
small, stable JSON format. `create_app` builds what the routes share (settings, one store,
the FAQ lookups; Rasa and LINE clients when it starts) into ``app.state``; the routes, one
module per area (chat, line.webhook, web, the staff pages), read it through bot.gateway.deps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.admin.routes import AdminContext
from bot.admin.routes import router as admin_router
from bot.faq.directory import FaqDirectory
from bot.gateway import chat, web
from bot.gateway.body_limit import BodySizeLimitMiddleware
from bot.gateway.conversation_log import flush_spool
from bot.gateway.errors import add_error_handlers
from bot.gateway.line import webhook as line_webhook
from bot.gateway.line.api import LineApi
from bot.gateway.line.channel import LineChannel, LineSettings
from bot.gateway.rasa_client import RasaClient
from bot.gateway.ratelimit import Rate, RateLimitMiddleware, buckets_for
from bot.gateway.web import add_cross_origin_rules
from bot.privacy.hashing import load_salt
from bot.settings import Settings
from bot.storage.db import Store
from bot.storage.retention import purge_daily
from bot.storage.turn_log import TurnLog, spool_dir_for

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


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
    """The gateway, assembled: settings, one store, the FAQ lookups, the routers."""
    settings = settings or Settings.from_env()
    line_settings = line_settings_from(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        state = app.state
        background = [
            asyncio.create_task(
                purge_daily(state.store, settings.retention_days, settings.tracker_url)
            ),
            asyncio.create_task(flush_spool(state.turn_log)),
        ]
        state.rasa = RasaClient(settings.rasa_url, timeout=settings.rasa_timeout)
        state.line = None
        if line_settings is not None:
            state.line = LineChannel(
                line_settings,
                LineApi(line_settings.access_token, line_settings.api_base_url),
                state.rasa,
                state.store,
                state.turn_log,
                state.directory,
                state.salt,
                instance=f"{socket.gethostname()}:{settings.gateway_port}",
            )
            state.line.start()
        yield
        if state.line is not None:
            await state.line.drain()
            await state.line.api.close()
        await state.rasa.close()
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="Madoguchi gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.salt = load_salt(settings.hash_salt, settings.root / "var")
    # One corpus: the lookups, the staff editor and the review engine's index all read it.
    app.state.directory = FaqDirectory(settings.corpus_dir, settings.profile_path)
    # One store (one database engine and its pool) for the residents' API, LINE and the
    # staff pages. Opening it upgrades the schema: done here, before serving starts.
    app.state.store = Store(settings.database_url)
    # The conversation log: to the store, or to a spool on disk while it is unreachable.
    app.state.turn_log = TurnLog(
        app.state.store, spool_dir_for(settings.spool_dir, settings.database_url)
    )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """200 while the gateway serves: a load balancer's health check (every few
        seconds, so kept out of the access log)."""
        return {"status": "ok"}

    logging.getLogger("uvicorn.access").addFilter(_not_health_checks)

    app.include_router(chat.router)  # /api/chat
    app.include_router(line_webhook.router)  # /webhooks/line
    app.include_router(web.router)  # /api/feedback, /api/contact, /
    app.state.admin = AdminContext(settings, app.state.store, app.state.directory)
    app.include_router(admin_router)  # /admin: staff pages
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    add_error_handlers(app)
    add_middleware(app, settings)
    return app


def _not_health_checks(record: logging.LogRecord) -> bool:
    return "/healthz" not in record.getMessage()


def add_middleware(app: FastAPI, settings: Settings) -> None:
    """Rate limit, cross-origin rules, security headers, body size, trusted proxies."""
    rate = Rate.parse(settings.rate_limit)
    if rate is not None:
        app.add_middleware(RateLimitMiddleware, buckets=buckets_for(rate, settings.redis_url))
    add_cross_origin_rules(app, list(settings.allowed_origins))
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(BodySizeLimitMiddleware)  # every route, the staff forms included
    if settings.trusted_proxies:
        # Added last, so it runs first: the rate limit and the sign-in throttle then see the
        # client named by a trusted proxy. X-Forwarded-For from anyone else is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))


class SecurityHeadersMiddleware(BaseHTTPMiddleware):
    """What every page may load and do: its own scripts and styles only, no framing."""

    async def dispatch(self, request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response
