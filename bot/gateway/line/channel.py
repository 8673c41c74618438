"""The LINE webhook: residents' LINE messages in, the assistant's answers out.

The webhook checks the signature before it looks at anything else, answers LINE at once,
and handles the events in the background; each webhook event id is handled once, however
often LINE redelivers it. LINE user ids are hashed before they are stored or sent to Rasa.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import JSONResponse
from linebot.v3 import WebhookParser
from linebot.v3.messaging import Message
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    JoinEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)

from bot.faq.directory import FaqDirectory
from bot.gateway.conversation_log import Outcome, log_turn
from bot.gateway.line.api import LineApi, LineApiError
from bot.gateway.line.events import MalformedBody, Unparsed, parse_events
from bot.gateway.line.messages import (
    MAX_MESSAGES_PER_REQUEST,
    build_reply,
    language_items,
    text_message,
)
from bot.gateway.rasa_client import RasaClient
from bot.gateway.resident_text import MAX_CHARS, TextRejected, clean, prepare
from bot.gateway.turn import outage_reply, take_turn
from bot.messages import say
from bot.privacy.hashing import hash_id
from bot.privacy.redact import redact
from bot.storage.db import Store
from bot.text.language import LANGUAGES, detect_language

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
LANGUAGE_REQUESTS = frozenset({"言語", "言語を選ぶ", "言語変更", "language", "languages"})


@dataclass
class LineSettings:
    channel_secret: str
    access_token: str
    api_base_url: str | None = None
    # LINE accepts a reply token for about a minute; after this many seconds, push instead.
    reply_window: float = 50.0


class LineChannel:
    def __init__(
        self,
        settings: LineSettings,
        api: LineApi,
        rasa: RasaClient,
        store: Store,
        directory: FaqDirectory,
        salt: str,
    ) -> None:
        self.settings = settings
        self.parser = WebhookParser(settings.channel_secret)
        self.api = api
        self.rasa = rasa
        self.store = store
        self.directory = directory
        self.salt = salt
        self._tasks: set[asyncio.Task[None]] = set()

    # -- the webhook -----------------------------------------------------------------------

    async def webhook(self, request: Request) -> JSONResponse:
        # Answered before the body is read: "Connection: close" makes the server drop the
        # connection rather than read (and discard) the rest of the body to keep it alive.
        unread = {"Connection": "close"}
        signature = request.headers.get("X-Line-Signature")
        if not signature:
            return JSONResponse({"error": "missing X-Line-Signature"}, 400, unread)
        too_large = JSONResponse({"error": "body too large"}, 413, unread)
        declared = request.headers.get("Content-Length")
        if declared is not None and not declared.isdigit():
            return JSONResponse({"error": "bad Content-Length"}, 400, unread)
        if declared is not None and int(declared) > MAX_BODY_BYTES:
            return too_large
        # Read as it streams in: a chunked body has no Content-Length to refuse it by.
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return too_large
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return JSONResponse({"error": "body is not UTF-8"}, status_code=400)
        if not self.parser.signature_validator.validate(text, signature):
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        try:
            # Parsed here rather than by WebhookParser.parse, so that older payload formats
            # can be completed before the SDK reads them.
            events = parse_events(text)
        except MalformedBody:  # signed but malformed: nothing to do, and not LINE's to retry
            logger.info("Signed LINE webhook with a malformed body ignored")
            return JSONResponse({"error": "malformed webhook body"}, status_code=400)
        for event in events:
            task = asyncio.create_task(self._handle(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return JSONResponse({})

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for events still being handled (on shutdown, and in tests)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    # -- events ------------------------------------------------------------------------------

    async def _handle(self, event: Event | Unparsed) -> None:
        handled = (MessageEvent, PostbackEvent, FollowEvent, UnfollowEvent, JoinEvent)
        if not isinstance(event, handled):
            # Logged so that a new or changed event format shows up, and not claimed, so
            # that a redelivery can still be handled once the gateway understands it.
            kind = event.kind if isinstance(event, Unparsed) else str(event.type)[:40]
            logger.warning("LINE event of type %r not handled", kind)
            return
        try:
            event_id = getattr(event, "webhook_event_id", None)
            if event_id and not await asyncio.to_thread(self.store.claim_event, event_id):
                return
            if isinstance(event, MessageEvent):
                await self._message(event)
            elif isinstance(event, PostbackEvent):
                await self._postback(event)
            elif isinstance(event, FollowEvent):
                await self._follow(event)
            elif isinstance(event, UnfollowEvent):
                await self._unfollow(event)
            elif isinstance(event, JoinEvent):
                await self._reply_or_push(event, None, [text_message(say("one_to_one_only", "ja"))])
        except Exception:
            logger.exception("A LINE event could not be handled")

    def _user(self, event: Event) -> tuple[str, str] | None:
        source = getattr(event, "source", None)
        if not isinstance(source, UserSource) or not source.user_id:
            return None
        return source.user_id, hash_id(source.user_id, self.salt)

    async def _message(self, event: MessageEvent) -> None:
        user = self._user(event)
        if user is None:  # groups and rooms: declined once, when the account joins
            return
        user_id, user_hash = user
        chosen = await asyncio.to_thread(self.store.user_language, user_hash)
        if not isinstance(event.message, TextMessageContent):
            lang = chosen or "ja"
            await self._reply_or_push(event, user_id, [text_message(say("text_only", lang))])
            return
        try:
            # From here on only the normalised, redacted text exists (see resident_text).
            text = await asyncio.to_thread(prepare, event.message.text or "")
        except TextRejected as exc:
            if exc.reason == "too_long":
                await self._too_long(event, user_id, user_hash, chosen)
            return
        if text.casefold() in LANGUAGE_REQUESTS:  # e.g. from the rich menu's language tile
            picker = text_message(say("choose_language", chosen or "ja"), language_items())
            await self._reply_or_push(event, user_id, [picker])
            await log_turn(
                self.store,
                text=text,
                channel="line",
                lang=chosen or "ja",
                session_hash=user_hash,
                outcome=Outcome("other"),
            )
            return
        loading = asyncio.create_task(self._show_loading(user_id))
        turn = await take_turn(
            self.rasa, self.store, text=text, channel="line", session_hash=user_hash, lang=chosen
        )
        await loading
        chats = turn.messages or [await asyncio.to_thread(outage_reply, self.directory, turn.lang)]
        delivered = await self._reply_or_push(event, user_id, build_reply(chats, turn.lang))
        if not delivered:
            logger.error("LINE answer not delivered; the question was: %s", text)

    async def _too_long(
        self, event: MessageEvent, user_id: str, user_hash: str, chosen: str | None
    ) -> None:
        """Asks for a shorter question; the log keeps the start of it, redacted."""
        start = await asyncio.to_thread(lambda: clean((event.message.text or "")[:MAX_CHARS]))
        lang = chosen or detect_language(start)
        reply = text_message(say("too_long", lang, limit=str(MAX_CHARS)))
        await self._reply_or_push(event, user_id, [reply])
        await log_turn(
            self.store,
            text=await asyncio.to_thread(redact, start),
            channel="line",
            lang=lang,
            session_hash=user_hash,
            outcome=Outcome("other"),
        )

    async def _show_loading(self, user_id: str) -> None:
        try:
            await self.api.show_loading(user_id)
        except LineApiError as exc:  # cosmetic: never let it stop the answer
            logger.info("Loading animation not shown: %s", exc)

    async def _postback(self, event: PostbackEvent) -> None:
        user = self._user(event)
        if user is None:
            return
        user_id, user_hash = user
        data = {k: v[0] for k, v in parse_qs(event.postback.data or "").items()}
        if data.get("lang") in LANGUAGES:
            lang = data["lang"]
            await asyncio.to_thread(self.store.set_user_language, user_hash, lang)
            await self._reply_or_push(event, user_id, [text_message(say("language_set", lang))])
            return
        if data.get("feedback") in ("yes", "no") and data.get("faq"):
            corpus = await asyncio.to_thread(self.directory.corpus)
            if data["faq"] not in corpus.entries:  # not ours, or since removed: not stored
                logger.warning("LINE feedback postback for an FAQ id not in the corpus ignored")
                return
            lang = await asyncio.to_thread(self.store.user_language, user_hash) or "ja"
            helpful = data["feedback"] == "yes"
            await asyncio.to_thread(
                lambda: self.store.record_feedback(
                    channel="line",
                    lang=lang,
                    session_hash=user_hash,
                    faq_id=data["faq"],
                    helpful=helpful,
                )
            )
            if helpful:
                reply = say("thanks_for_feedback", lang)
            else:
                contact = self.directory.contact_for(data["faq"], lang)
                reply = say("not_helpful", lang, contact=contact)
            await self._reply_or_push(event, user_id, [text_message(reply)])
            return
        logger.warning("LINE postback with data not understood ignored")

    async def _follow(self, event: FollowEvent) -> None:
        user = self._user(event)
        if user is None:
            return
        city = self.directory.corpus().profile.city_name("ja")
        greeting = text_message(say("welcome", "ja", city=city), language_items())
        await self._reply_or_push(event, user[0], [greeting])

    async def _unfollow(self, event: UnfollowEvent) -> None:
        user = self._user(event)
        if user is not None:
            await asyncio.to_thread(self.store.forget_user, user[1])

    # -- delivery ------------------------------------------------------------------------------

    async def _reply_or_push(
        self, event: Event, user_id: str | None, messages: list[Message]
    ) -> bool:
        """Reply with the event's token while it is fresh; otherwise, or if LINE refuses the
        token, push. Returns whether everything was delivered."""
        pending = list(messages)
        token = getattr(event, "reply_token", None)
        try:
            age = time.time() - (getattr(event, "timestamp", 0) or 0) / 1000
        except OverflowError:  # a timestamp no clock can read: the token is no use either
            age = float("inf")
        if token and age < self.settings.reply_window:
            try:
                await self.api.reply(token, pending[:MAX_MESSAGES_PER_REQUEST])
                pending = pending[MAX_MESSAGES_PER_REQUEST:]
            except LineApiError as exc:
                logger.info("Reply failed (%s); pushing instead", exc)
        if not pending:
            return True
        if user_id is None:
            return False
        try:
            for start in range(0, len(pending), MAX_MESSAGES_PER_REQUEST):
                await self.api.push(user_id, pending[start : start + MAX_MESSAGES_PER_REQUEST])
        except LineApiError as exc:
            logger.error("Push to LINE failed: %s", exc)
            return False
        return True
