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
from linebot.v3.exceptions import InvalidSignatureError
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
from bot.gateway.conversation_log import Outcome, log_turn, outcome_of
from bot.gateway.line.api import LineApi, LineApiError
from bot.gateway.line.messages import (
    MAX_MESSAGES_PER_REQUEST,
    build_reply,
    language_items,
    text_message,
)
from bot.gateway.rasa_client import ChatMessage, RasaClient, RasaUnavailable
from bot.messages import say
from bot.privacy.hashing import hash_id
from bot.privacy.redact import redact
from bot.storage.db import Store
from bot.text.language import SUPPORTED, detect_language

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
MAX_TEXT_CHARS = 5000
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
        signature = request.headers.get("X-Line-Signature")
        if not signature:
            return JSONResponse({"error": "missing X-Line-Signature"}, status_code=400)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return JSONResponse({"error": "body is not UTF-8"}, status_code=400)
        try:
            events = self.parser.parse(text, signature)
        except InvalidSignatureError:
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        except Exception:  # signed but malformed: nothing to do, and not LINE's fault to retry
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

    async def _handle(self, event: Event) -> None:
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
        text = (event.message.text or "").strip()[:MAX_TEXT_CHARS]
        if not text:
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
        metadata = {"channel": "line", **({"lang": chosen} if chosen else {})}
        try:
            chats = await self.rasa.send(user_hash, text, metadata)
            outcome = outcome_of(chats)
        except RasaUnavailable as exc:
            logger.warning("Rasa unavailable for a LINE message (%s): %s", exc, redact(text))
            chats = [ChatMessage(text=say("unavailable", chosen or detect_language(text)))]
            outcome = Outcome("error")
        await loading
        lang = next((c.lang for c in chats if c.lang), None) or chosen or detect_language(text)
        await log_turn(
            self.store,
            text=text,
            channel="line",
            lang=lang,
            session_hash=user_hash,
            outcome=outcome,
        )
        delivered = await self._reply_or_push(event, user_id, build_reply(chats, lang))
        if not delivered:
            logger.error("LINE answer not delivered; the question was: %s", redact(text))

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
        if data.get("lang") in SUPPORTED:
            lang = data["lang"]
            await asyncio.to_thread(self.store.set_user_language, user_hash, lang)
            await self._reply_or_push(event, user_id, [text_message(say("language_set", lang))])
            return
        if data.get("feedback") in ("yes", "no") and data.get("faq"):
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
        age = time.time() - (getattr(event, "timestamp", 0) or 0) / 1000
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
