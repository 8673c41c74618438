"""The LINE webhook: residents' LINE messages in, the assistant's answers out.

The webhook checks the signature before it looks at anything else, keeps each event in the
LINE inbox (bot.storage.line_inbox), with its text already redacted, and only then answers
LINE; the events are handled in the background. An event is handled once however often LINE
redelivers it, and an event a crashed gateway left unanswered is taken up again (a retried
event is pushed with a retry key derived from its id, so LINE shows the answer once). LINE
user ids are hashed before they go into the log or to Rasa.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
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
from bot.gateway.resident_text import MAX_CHARS, TextRejected, check, clean, prepare
from bot.gateway.turn import outage_reply, take_turn
from bot.messages import say
from bot.privacy.hashing import hash_id
from bot.privacy.redact import redact
from bot.storage.db import Store
from bot.storage.line_inbox import MAX_ATTEMPTS, LineInbox, Taken
from bot.storage.turn_log import TurnLog
from bot.text.language import LANGUAGES, detect_language

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
HANDLED = (MessageEvent, PostbackEvent, FollowEvent, UnfollowEvent, JoinEvent)
SWEEP_SECONDS = 5.0
# The inbox event being handled in this task, for delivery to know whether it is a retry.
_attempt: ContextVar[Taken | None] = ContextVar("line_event_attempt", default=None)
# Whether its text was too long to answer, as judged on the whole text before it was kept.
_too_long: ContextVar[bool] = ContextVar("line_event_too_long", default=False)
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
        turn_log: TurnLog,
        directory: FaqDirectory,
        salt: str,
        instance: str = "gateway",
    ) -> None:
        self.settings = settings
        self.parser = WebhookParser(settings.channel_secret)
        self.api = api
        self.rasa = rasa
        self.store = store
        self.turn_log = turn_log
        self.directory = directory
        self.salt = salt
        self.inbox = LineInbox(store, instance)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

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
        try:
            kept = await asyncio.to_thread(self._keep, events)
        except Exception:
            # Not kept, so not acknowledged: LINE redelivers the events (when the channel
            # has redelivery on) rather than the gateway losing them.
            logger.exception("LINE events could not be stored; LINE is asked to retry")
            return JSONResponse({"error": "events not stored; retry"}, status_code=503)
        for event_id in kept:
            self._spawn(self._work(event_id))
        return JSONResponse({})

    def _keep(self, events: list[Event | Unparsed]) -> list[str]:
        """Store the events to handle in the inbox; the ids that are new."""
        kept = []
        for event in events:
            if not isinstance(event, HANDLED):
                # Logged so that a new or changed event format shows up, and not kept, so
                # that a redelivery can still be handled once the gateway understands it.
                kind = event.kind if isinstance(event, Unparsed) else str(event.type)[:40]
                logger.warning("LINE event of type %r not handled", kind)
                continue
            event_id = inbox_id(event.webhook_event_id)
            if self.inbox.add(event_id, storable_event(event)):
                kept.append(event_id)
        return kept

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def start(self) -> None:
        """Take up events left unanswered: this gateway's own, given back at once, and any
        whose lease ran out, now and every few seconds."""
        self._sweeper = asyncio.create_task(self._sweep())

    async def _sweep(self) -> None:
        try:
            await asyncio.to_thread(self.inbox.give_back)
        except Exception:
            logger.exception("The LINE inbox could not be read")
        while True:
            try:
                waiting = await asyncio.to_thread(self.inbox.waiting)
            except Exception:
                logger.exception("The LINE inbox could not be read")
                waiting = []
            for event_id in waiting:
                self._spawn(self._work(event_id))
            await asyncio.sleep(SWEEP_SECONDS)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for events still being handled (on shutdown, and in tests)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    # -- events ------------------------------------------------------------------------------

    async def _work(self, event_id: str) -> None:
        """Handle one event of the inbox, if no other gateway has it."""
        try:
            taken = await asyncio.to_thread(self.inbox.take, event_id)
        except Exception:
            logger.exception("A LINE event could not be taken from the inbox")
            return
        if taken is None:
            return
        _attempt.set(taken)
        try:
            # Inside the try: a stored event that no longer reads is given up like one that
            # fails, rather than failing its task on every retry.
            kept = json.loads(taken.payload)
            _too_long.set(bool(kept.get("too_long")))
            await self._handle(Event.from_dict(kept["event"]))
        except Exception:
            if taken.attempt < MAX_ATTEMPTS:
                logger.exception("A LINE event could not be handled; it will be retried")
                return  # its lease runs out, and the sweep takes it up again
            logger.exception("A LINE event could not be handled %d times; given up", MAX_ATTEMPTS)
        try:
            await asyncio.to_thread(self.inbox.done, event_id)
        except Exception:
            # Its lease runs out and it is handled again; the retry key keeps LINE from
            # delivering the same answer twice.
            logger.exception("A handled LINE event could not be marked done")

    async def _handle(self, event: Event) -> None:
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
        if _too_long.get():  # judged when the event was kept; the inbox has only its start
            await self._too_long(event, user_id, user_hash, chosen)
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
                self.turn_log,
                text=text,
                channel="line",
                lang=chosen or "ja",
                session_hash=user_hash,
                outcome=Outcome("other"),
                key=_event_key(),
            )
            return
        loading = asyncio.create_task(self._show_loading(user_id))
        turn = await take_turn(
            self.rasa,
            self.turn_log,
            text=text,
            channel="line",
            session_hash=user_hash,
            lang=chosen,
            key=_event_key(),
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
            self.turn_log,
            text=await asyncio.to_thread(redact, start),
            channel="line",
            lang=lang,
            session_hash=user_hash,
            outcome=Outcome("other"),
            key=_event_key(),
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
        token, push. Returns whether everything was delivered.

        An event taken up again after a gateway stopped mid-way is answered so that the
        resident still sees one answer: a reply token works once, so a second reply with it
        fails if the first got through, and is then not followed by a push; a push carries
        a retry key made from the event's id, which LINE delivers once.
        """
        pending = list(messages)
        taken = _attempt.get()
        retried = taken is not None and taken.attempt > 1
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
                if retried:
                    logger.info("Reply to a retried event refused (%s); answered before", exc)
                    return True
                logger.info("Reply failed (%s); pushing instead", exc)
        if not pending:
            return True
        if user_id is None:
            return False
        try:
            for start in range(0, len(pending), MAX_MESSAGES_PER_REQUEST):
                key = retry_key(taken.event_id, start) if taken is not None else None
                chunk = pending[start : start + MAX_MESSAGES_PER_REQUEST]
                await self.api.push(user_id, chunk, retry_key=key)
        except LineApiError as exc:
            logger.error("Push to LINE failed: %s", exc)
            return False
        return True


def storable_event(event: Event) -> str:
    """The event as the inbox keeps it, with no unredacted text: a text message's text
    cleaned and redacted (handling does it again, to the same result). A text too long to
    answer is judged on the whole of it here, and only its start is kept."""
    data = event.to_dict()
    message = data.get("message")
    too_long = False
    if isinstance(message, dict) and isinstance(message.get("text"), str):
        raw = message["text"]
        try:
            message["text"] = redact(check(raw))
        except TextRejected as exc:
            too_long = exc.reason == "too_long"
            message["text"] = redact(clean(raw[:MAX_CHARS]))
    # ASCII JSON: a NUL or a lone surrogate anywhere in a forged event is escaped, which
    # every database stores.
    return json.dumps({"event": data, "too_long": too_long})


def _event_key() -> str | None:
    """The key of the turn the event being handled makes: its inbox id (logged once)."""
    taken = _attempt.get()
    return taken.event_id if taken else None


def inbox_id(webhook_event_id: str) -> str:
    """The event's id as the inbox keys it: LINE's own (26 characters) when it is plain,
    else a digest of it, so that a forged id is still one storable key."""
    if re.fullmatch(r"[\x21-\x7e]{1,64}", webhook_event_id):
        return webhook_event_id
    raw = webhook_event_id.encode("utf-8", "surrogatepass")
    return "sha256-" + hashlib.sha256(raw).hexdigest()[:57]


def retry_key(event_id: str, part: int) -> str:
    """The same X-Line-Retry-Key for every attempt at one push of one event."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"madoguchi:line-event:{event_id}:{part}"))
