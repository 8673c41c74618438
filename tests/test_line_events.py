"""The LINE webhook in process, against the HTTP fake of the Messaging API and a stand-in for
Rasa: older event formats, events it does not handle, feedback ids, and body size limits.

In process, so that the log can be read (caplog) and a streamed body's chunks counted."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.faq.directory import FaqDirectory
from bot.gateway.line.api import LineApi
from bot.gateway.line.channel import MAX_BODY_BYTES, LineChannel, LineSettings
from bot.gateway.rasa_client import ChatMessage, RasaClient
from bot.settings import PROJECT_ROOT
from bot.storage.db import Store
from bot.storage.turn_log import TurnLog
from tests.fake_line import (
    FakeLine,
    older_format,
    postback_event,
    sign,
    text_event,
    user_event,
    webhook_body,
)

SECRET = "test-channel-secret"
REPLY = "/v2/bot/message/reply"
FAQ_ID = "mynumber-card-lost"
CHUNK = 64 * 1024
LOGGER = "bot.gateway.line.channel"


class StandInRasa(RasaClient):
    """Answers every question with the same FAQ answer, without a Rasa server."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9")  # never called
        self.questions: list[str] = []

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[ChatMessage]:
        self.questions.append(text)
        return [ChatMessage(text="マイナンバーカードの答え", faq_id=FAQ_ID, lang="ja")]


@dataclass
class Gateway:
    channel: LineChannel
    client: httpx.AsyncClient
    store: Store
    rasa: StandInRasa

    async def post(self, body: bytes, signature: str | None = "sign") -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Line-Signature"] = sign(body, SECRET) if signature == "sign" else signature
        response = await self.client.post("/webhooks/line", content=body, headers=headers)
        await self.channel.drain()  # the events are handled in the background
        return response


@asynccontextmanager
async def gateway(tmp_path: Path, line: FakeLine) -> AsyncIterator[Gateway]:
    store = Store(f"sqlite:///{tmp_path / 'madoguchi.db'}")
    rasa = StandInRasa()
    faq = PROJECT_ROOT / "faq"
    channel = LineChannel(
        LineSettings(SECRET, "test-token", line.url),
        LineApi("test-token", line.url, backoff=0.01),
        rasa,
        store,
        TurnLog(store, tmp_path / "spool"),
        FaqDirectory(faq / "corpus", faq / "municipality.yml"),
        "test-salt",
    )
    app = FastAPI()
    app.post("/webhooks/line")(channel.webhook)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        try:
            yield Gateway(channel, client, store, rasa)
        finally:
            await channel.drain()
            await channel.api.close()
            await rasa.close()


def run(tmp_path: Path, line: FakeLine, scenario: Callable[[Gateway], Awaitable[None]]) -> None:
    async def main() -> None:
        async with gateway(tmp_path, line) as gw:
            await scenario(gw)

    asyncio.run(main())


@pytest.fixture(autouse=True)
def clean(line: FakeLine) -> None:
    line.received.clear()
    line.failures.clear()
    line.delivered.clear()


def user() -> str:
    return "U" + uuid.uuid4().hex


def warned(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The channel's warnings."""
    return [
        r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING
    ]


# -- older event formats --------------------------------------------------------------------


def test_an_older_format_text_message_is_answered_once(tmp_path, line) -> None:  # type: ignore[no-untyped-def]
    event = older_format(text_event("マイナンバーカードを失くしました", user=user()))
    assert "quoteToken" not in event["message"] and "webhookEventId" not in event

    async def scenario(gw: Gateway) -> None:
        assert (await gw.post(webhook_body(event))).status_code == 200
        assert (await gw.post(webhook_body(event))).status_code == 200  # replayed as is

    run(tmp_path, line, scenario)
    [reply] = line.requests(REPLY)
    assert reply.body["replyToken"] == event["replyToken"]
    messages = reply.body["messages"]
    assert messages[0]["text"] == "マイナンバーカードの答え"
    assert f"faq={FAQ_ID}" in messages[-1]["quickReply"]["items"][0]["action"]["data"]


def test_an_older_format_follow_gets_the_greeting(tmp_path, line) -> None:  # type: ignore[no-untyped-def]
    follow = older_format(user_event("follow", user(), {"follow": {"isUnblocked": False}}))
    assert "follow" not in follow

    async def scenario(gw: Gateway) -> None:
        await gw.post(webhook_body(follow))

    run(tmp_path, line, scenario)
    [reply] = line.requests(REPLY)
    greeting = reply.body["messages"][0]
    assert "さくらの市" in greeting["text"]
    assert len(greeting["quickReply"]["items"]) == 6  # the language choice


def test_an_older_format_sticker_gets_the_please_type_reply(tmp_path, line) -> None:  # type: ignore[no-untyped-def]
    event = text_event("x", user=user())
    event["message"] = {"type": "sticker", "id": "1", "packageId": "1", "stickerId": "1"}

    async def scenario(gw: Gateway) -> None:
        await gw.post(webhook_body(older_format(event)))

    run(tmp_path, line, scenario)
    assert "文字" in line.requests(REPLY)[0].body["messages"][0]["text"]


# -- events it does not handle --------------------------------------------------------------


def test_an_unknown_event_is_logged_by_type_and_not_claimed(tmp_path, line, caplog) -> None:  # type: ignore[no-untyped-def]
    uid, event_id = user(), uuid.uuid4().hex
    unknown = user_event("futureThing", uid, {"futureThing": {"text": "住所は桜町1-2-3"}})
    unknown["webhookEventId"] = event_id
    understood = text_event("マイナンバーカードを失くしました", user=uid, event_id=event_id)

    async def scenario(gw: Gateway) -> None:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert (await gw.post(webhook_body(unknown))).status_code == 200
        assert line.received == []
        # Redelivered with the same id once understood, it is still handled.
        assert (await gw.post(webhook_body(understood))).status_code == 200

    run(tmp_path, line, scenario)
    assert warned(caplog) == ["LINE event of type 'futureThing' not handled"]
    assert uid not in caplog.text and "桜町" not in caplog.text
    assert len(line.requests(REPLY)) == 1


@pytest.mark.parametrize(
    ("kind", "payload", "logged"),
    [
        ("unsend", {"unsend": {"messageId": "1"}}, "unsend"),
        ("videoPlayComplete", {"videoPlayComplete": {"trackingId": "t"}}, "videoPlayComplete"),
        ("message", {"message": {"type": "hologram", "id": "1"}}, "message/hologram"),
        ("message", {"message": {"type": "text", "id": "1"}}, "message/text"),  # no text
    ],
)
def test_events_it_does_not_handle_are_logged_and_not_claimed(  # type: ignore[no-untyped-def]
    tmp_path, line, caplog, kind, payload, logged
) -> None:
    event = user_event(kind, user(), payload)

    async def scenario(gw: Gateway) -> None:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert (await gw.post(webhook_body(event))).status_code == 200
        assert gw.channel.inbox.add(event["webhookEventId"], "{}")  # True: not kept before

    run(tmp_path, line, scenario)
    assert warned(caplog) == [f"LINE event of type {logged!r} not handled"]
    assert event["source"]["userId"] not in caplog.text
    assert line.received == []


def test_events_without_a_type_are_logged_and_the_rest_handled(tmp_path, line, caplog) -> None:  # type: ignore[no-untyped-def]
    body = webhook_body({}, 5, text_event("マイナンバーカード", user=user()))  # type: ignore[arg-type]

    async def scenario(gw: Gateway) -> None:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert (await gw.post(body)).status_code == 200

    run(tmp_path, line, scenario)
    assert warned(caplog) == ["LINE event of type '(no type)' not handled"] * 2
    assert len(line.requests(REPLY)) == 1


# -- feedback ------------------------------------------------------------------------------


def test_feedback_for_an_faq_id_not_in_the_corpus_stores_nothing(tmp_path, line, caplog) -> None:  # type: ignore[no-untyped-def]
    uid = user()

    async def scenario(gw: Gateway) -> None:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            for answer in ("yes", "no"):
                data = f"feedback={answer}&faq=no-such-entry-{'x' * 200}"
                assert (await gw.post(webhook_body(postback_event(uid, data)))).status_code == 200
        assert gw.store.feedback() == []
        assert line.received == []
        await gw.post(webhook_body(postback_event(uid, f"feedback=yes&faq={FAQ_ID}")))
        assert [f.faq_id for f in gw.store.feedback()] == [FAQ_ID]  # an existing id is kept

    run(tmp_path, line, scenario)
    assert warned(caplog) == ["LINE feedback postback for an FAQ id not in the corpus ignored"] * 2
    assert "no-such-entry" not in caplog.text and uid not in caplog.text


# -- body size -----------------------------------------------------------------------------


@dataclass
class CountingBody:
    """A streamed body of ``total`` bytes that counts how many chunks the server pulled."""

    total: int
    pulled: int = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.total // CHUNK):
            self.pulled += 1
            yield b"x" * CHUNK


async def post_stream(gw: Gateway, body: CountingBody, headers: dict[str, str]) -> int:
    response = await gw.client.post("/webhooks/line", content=body, headers=headers)
    # Otherwise the server would read the rest of the body to keep the connection alive.
    assert response.headers["connection"] == "close"
    return response.status_code


def test_a_chunked_body_over_the_limit_is_refused_without_reading_it_all(tmp_path, line) -> None:  # type: ignore[no-untyped-def]
    body = CountingBody(200 * 1024 * 1024)
    statuses: list[int] = []

    async def scenario(gw: Gateway) -> None:
        statuses.append(await post_stream(gw, body, {"X-Line-Signature": "c2ln"}))

    run(tmp_path, line, scenario)
    assert statuses == [413]
    assert body.pulled <= MAX_BODY_BYTES // CHUNK + 1  # just past the limit, of 3200 chunks


def test_a_declared_length_over_the_limit_is_refused_before_reading(tmp_path, line) -> None:  # type: ignore[no-untyped-def]
    body = CountingBody(200 * 1024 * 1024)
    statuses: list[int] = []
    headers = {"X-Line-Signature": "c2ln", "Content-Length": str(body.total)}

    async def scenario(gw: Gateway) -> None:
        statuses.append(await post_stream(gw, body, headers))

    run(tmp_path, line, scenario)
    assert statuses == [413]
    assert body.pulled == 0


def test_a_missing_signature_is_refused_before_the_size(tmp_path, line) -> None:  # type: ignore[no-untyped-def]
    body = CountingBody(200 * 1024 * 1024)
    statuses: list[int] = []

    async def scenario(gw: Gateway) -> None:
        statuses.append(await post_stream(gw, body, {}))
        big = webhook_body(text_event("あ" * MAX_BODY_BYTES, user=user()))
        statuses.append((await gw.post(big, signature=None)).status_code)

    run(tmp_path, line, scenario)
    assert statuses == [400, 400]
    assert body.pulled == 0


def test_a_body_at_the_limit_is_still_read(tmp_path, line) -> None:  # type: ignore[no-untyped-def]
    event = text_event("マイナンバーカードを失くしました", user=user())
    body = webhook_body(event)
    body = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"
    assert len(body) == MAX_BODY_BYTES

    async def scenario(gw: Gateway) -> None:
        assert (await gw.post(body)).status_code == 200

    run(tmp_path, line, scenario)
    assert len(line.requests(REPLY)) == 1


# ---- the inbox: nothing lost when a gateway stops mid-way, nothing answered twice ----------


def _left_by_a_stopped_gateway(gw: Gateway, event: dict[str, Any]) -> str:
    """Keep ``event`` in the inbox and take it, as a gateway that then died would have."""
    event_id = _keep_only(gw, event)
    assert gw.channel.inbox.take(event_id) is not None
    return event_id


def test_an_event_a_stopped_gateway_held_is_answered_once_when_it_starts_again(
    tmp_path, line
) -> None:  # type: ignore[no-untyped-def]
    event = text_event("マイナンバーカードをなくしました 090-1234-5678", user=user())

    async def scenario(gw: Gateway) -> None:
        event_id = _left_by_a_stopped_gateway(gw, event)
        row = gw.channel.inbox.take(event_id)
        assert row is None  # still leased: no other gateway takes it meanwhile
        gw.channel.start()  # the same gateway again: its leases come back at once
        deadline = asyncio.get_running_loop().time() + 30
        while not line.delivered and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        await gw.channel.drain()
        # Kept and handled redacted: the phone number never reached the inbox or Rasa.
        [asked] = gw.rasa.questions
        assert asked.startswith("マイナンバーカードをなくしました [") and "1234" not in asked
        assert gw.channel.inbox.waiting() == []

    run(tmp_path, line, scenario)
    assert [d.path for d in line.delivered] == [REPLY]  # the token was still unused


def test_an_event_answered_just_before_its_gateway_stopped_is_not_answered_again(
    tmp_path, line
) -> None:  # type: ignore[no-untyped-def]
    event = text_event("マイナンバーカードをなくしました", user=user())
    line.expired_tokens.add(event["replyToken"])  # the first attempt's reply got through

    async def scenario(gw: Gateway) -> None:
        _left_by_a_stopped_gateway(gw, event)
        gw.channel.start()
        deadline = asyncio.get_running_loop().time() + 30
        while gw.channel.inbox.waiting() or gw.channel._tasks:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        await gw.channel.drain()

    run(tmp_path, line, scenario)
    assert [r.path for r in line.received if r.path.endswith("/push")] == []
    assert line.delivered == []


def test_a_late_retry_is_pushed_once_under_its_retry_key(tmp_path, line) -> None:  # type: ignore[no-untyped-def]
    from bot.gateway.line.channel import retry_key

    # Past the reply window: pushed. LINE answers the first push with a 500; the retry
    # carries the same key, so that LINE would not deliver it twice had the first got through.
    event = text_event("マイナンバーカードをなくしました", user=user(), age_seconds=120)
    line.fail("/v2/bot/message/push", 500)

    async def scenario(gw: Gateway) -> None:
        gw.channel._spawn(gw.channel._work(_keep_only(gw, event)))
        await gw.channel.drain()

    run(tmp_path, line, scenario)
    pushes = [r for r in line.received if r.path.endswith("/push")]
    key = retry_key(event["webhookEventId"], 0)
    assert [p.headers["x-line-retry-key"] for p in pushes] == [key, key]
    assert len(line.delivered) == 1


def _keep_only(gw: Gateway, event: dict[str, Any]) -> str:
    """Keep ``event`` in the inbox, as the webhook does."""
    from bot.gateway.line.channel import storable_event
    from bot.gateway.line.events import parse_events

    parsed = parse_events(webhook_body(event).decode())[0]
    assert gw.channel.inbox.add(event["webhookEventId"], storable_event(parsed))
    return event["webhookEventId"]


def test_a_text_too_long_to_answer_is_judged_whole_before_it_is_kept(tmp_path, line) -> None:  # type: ignore[no-untyped-def]
    """The inbox keeps only a long text's start: the verdict is taken on all of it first.
    (Its first 5,000 characters alone are invisible ones, which cleaning removes.)"""
    event = text_event("\u200b" * 6000 + "住民票" * 5000, user=user())

    async def scenario(gw: Gateway) -> None:
        assert (await gw.post(webhook_body(event))).status_code == 200
        assert gw.rasa.questions == []  # not a question for Rasa: asked to shorten it

    run(tmp_path, line, scenario)
    [reply] = [r for r in line.delivered if r.path == REPLY]
    assert reply.body["replyToken"] == event["replyToken"]


def test_an_event_handled_again_after_a_crash_is_logged_once(tmp_path, line) -> None:  # type: ignore[no-untyped-def]
    """The gateway answered and logged the event, then stopped before marking it done: it
    is handled again, and the log (so the report) still counts it once."""
    event = text_event("マイナンバーカードをなくしました", user=user())

    async def scenario(gw: Gateway) -> None:
        event_id = _keep_only(gw, event)
        done, crashed = gw.channel.inbox.done, []

        def crash_before_done(event_id: str) -> None:
            if not crashed:
                crashed.append(event_id)
                raise OSError("the gateway stopped here")
            done(event_id)

        gw.channel.inbox.done = crash_before_done  # type: ignore[method-assign]
        gw.channel._spawn(gw.channel._work(event_id))
        await gw.channel.drain()
        assert crashed and gw.channel.inbox.give_back() == 1
        gw.channel._spawn(gw.channel._work(event_id))
        await gw.channel.drain()
        assert gw.channel.inbox.waiting() == []
        assert len(gw.rasa.questions) == 2  # handled twice…

    run(tmp_path, line, scenario)
    store = Store(f"sqlite:///{tmp_path / 'madoguchi.db'}")
    assert [m.channel for m in store.messages()] == ["line"]  # …logged once
    assert len(line.delivered) == 1
