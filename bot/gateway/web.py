"""The website widget's side of the gateway: feedback, the contact card, the demo page, and
the cross-origin rules that let a city's own pages embed the widget.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.faq.directory import FaqDirectory
from bot.faq.office_hours import OfficeHours
from bot.faq.profile import PLACEHOLDER, Profile, pick
from bot.gateway.bodies import MAX_FAQ_ID_CHARS, FeedbackBody, Language, json_body
from bot.gateway.deps import DirectoryDep, SaltDep, StoreDep
from bot.gateway.json_body import BadRequest
from bot.messages import say
from bot.privacy.hashing import hash_id

STATIC_DIR = Path(__file__).parent / "static"
MAX_FEEDBACK_BYTES = 4 * 1024
# Files a city's page loads from the gateway with a plain <script>/<link> tag.
WIDGET_ASSETS = ("/static/widget.js", "/static/widget.css")


router = APIRouter()


def _known_faq_id(value: str, directory: FaqDirectory) -> str:
    if value not in directory.corpus().entries:
        raise BadRequest(f"'faq_id' {value!r} is not an entry of the FAQ", 404)
    return value


@router.post("/api/feedback")
async def feedback(
    body: Annotated[FeedbackBody, Depends(json_body(FeedbackBody, MAX_FEEDBACK_BYTES))],
    store: StoreDep,
    salt: SaltDep,
    directory: DirectoryDep,
) -> JSONResponse:
    """役に立ちましたか？ from the widget, stored like LINE's (the session id hashed)."""
    faq_id = await run_in_threadpool(_known_faq_id, body.faq_id, directory)
    await run_in_threadpool(
        store.record_feedback,
        channel="web",
        lang=body.lang,
        session_hash=hash_id(body.session_id, salt),
        faq_id=faq_id,
        helpful=body.helpful,
    )
    result: dict[str, Any] = {"status": "recorded"}
    if not body.helpful:
        contact = await run_in_threadpool(directory.contact_for, faq_id, body.lang)
        result["message"] = say("not_helpful", body.lang, contact=contact)
    return JSONResponse(result)


@router.get("/api/contact")
async def contact(
    directory: DirectoryDep,
    lang: Language = "ja",
    faq_id: Annotated[str | None, Query(min_length=1, max_length=MAX_FAQ_ID_CHARS)] = None,
) -> JSONResponse:
    """Who to call (for an answer's department, or the general desk) and whether the
    office is open now."""
    if faq_id is not None:
        faq_id = await run_in_threadpool(_known_faq_id, faq_id, directory)
    corpus = await run_in_threadpool(directory.corpus)
    profile = corpus.profile
    department = corpus.entries[faq_id].department if faq_id else None
    dept = profile.departments.get(department or "") or profile.departments.get("soumu")
    return JSONResponse(
        {
            "lang": lang,
            "text": profile.contact(department, lang),
            "phone": dept.phone if dept else profile.main_phone or "",
            "hours": pick(profile.office_hours, lang),
            "open_now": open_now(profile),
        }
    )


@router.get("/", response_class=HTMLResponse)
async def demo_page(directory: DirectoryDep) -> HTMLResponse:
    """A sample city page with the widget embedded by one script tag."""
    profile = (await run_in_threadpool(directory.corpus)).profile
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(fill_page(page, profile))


def open_now(profile: Profile, moment: datetime | None = None) -> bool | None:
    """True or False from the profile's ``hours``; None when the profile does not say."""
    if profile.hours is None:
        return None
    return OfficeHours.from_profile(profile.hours).is_open(moment or datetime.now().astimezone())


def fill_page(page: str, profile: Profile, lang: str = "ja") -> str:
    """Fill the page's ``{city.name}``-style placeholders from the profile, HTML-escaped."""

    def fill(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]
        value = profile.lookup(match.group(1), lang)
        return match.group(0) if value is None else html.escape(value)

    return PLACEHOLDER.sub(fill, page)


class WidgetAssetsMiddleware:
    """The widget's script and stylesheet may be loaded by any page (they are public files),
    also with ``crossorigin`` or from a page that sets Cross-Origin-Embedder-Policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in WIDGET_ASSETS:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"access-control-allow-origin"
                ]
                headers += [
                    (b"access-control-allow-origin", b"*"),
                    (b"cross-origin-resource-policy", b"cross-origin"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_cross_origin_rules(app: FastAPI, origins: list[str]) -> None:
    """Only the configured city origins may call the API from the browser."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        max_age=600,
    )
    app.add_middleware(WidgetAssetsMiddleware)  # outermost: overrides CORS for the assets
