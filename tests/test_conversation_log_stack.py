"""The conversation log on the real stack (gateway, Rasa, action server) and the real
PostgreSQL server: each message's row carries the outcome Rasa's actions reported."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot.clock import JAPAN
from bot.gateway.line.channel import SWEEP_SECONDS
from bot.privacy.hashing import hash_id
from bot.report.figures import Month
from bot.report.render import ReportContext, figures_for
from bot.settings import Settings
from bot.storage.db import Store
from tests.conftest import database_refusing_connections, fresh_postgres_database
from tests.fake_line import FakeLine, postback_event, sign, text_event, webhook_body
from tests.stack import Stack, running_stack

pytestmark = pytest.mark.rasa

LINE_SECRET = "test-channel-secret"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, line: FakeLine) -> Iterator[Stack]:
    with (
        fresh_postgres_database() as database_url,
        running_stack(
            tmp_path_factory.mktemp("stack"), database_url, **line.gateway_env(LINE_SECRET)
        ) as stack,
    ):
        yield stack


def test_every_message_is_logged_with_its_outcome(stack: Stack) -> None:
    session = uuid.uuid4().hex
    answer = stack.chat("マイナンバーカードを失くしました", session_id=session)
    assert answer["messages"][0]["faq_id"] == "mynumber-card-lost"
    assert "score" not in answer["messages"][0]
    stack.chat("こんにちは", session_id=session)
    stack.chat("私は山田太郎です。今日の夕飯のおすすめは？ 090-1234-5678", session_id=session)
    feedback = httpx.post(
        f"{stack.gateway_url}/api/feedback",
        json={"session_id": session, "faq_id": "mynumber-card-lost", "helpful": True},
        timeout=30,
    )
    assert feedback.status_code == 200, feedback.text

    rows = Store(stack.database_url).messages()
    assert len(rows) == 3
    assert len({r.session_hash for r in rows}) == 1 and session not in rows[0].session_hash
    answered, greeting, declined = rows
    assert (answered.outcome, answered.faq_id, answered.channel) == (
        "answered",
        "mynumber-card-lost",
        "web",
    )
    assert answered.score is not None and 0 < answered.score <= 1
    assert answered.helpful is True
    assert greeting.outcome == "small_talk"
    assert declined.outcome in ("unanswered", "suggestions")
    assert "山田太郎" not in declined.text and "090-1234-5678" not in declined.text
    assert "[氏名]" in declined.text and "[電話番号]" in declined.text


def _post_line(stack: Stack, body: bytes) -> None:
    headers = {"Content-Type": "application/json", "X-Line-Signature": sign(body, LINE_SECRET)}
    response = httpx.post(
        f"{stack.gateway_url}/webhooks/line", content=body, headers=headers, timeout=30
    )
    assert response.status_code == 200


def _line_rows(stack: Stack, count: int, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [r for r in Store(stack.database_url).messages() if r.channel == "line"]
        if len(rows) >= count:
            return rows
        time.sleep(0.3)
    raise AssertionError(f"expected {count} LINE rows, got {len(rows)}")


def test_line_messages_and_feedback_are_logged(stack: Stack, line: FakeLine) -> None:
    uid = "U" + uuid.uuid4().hex
    _post_line(stack, webhook_body(text_event("マイナンバーカードを失くしました", user=uid)))
    items = line.wait_for("/v2/bot/message/reply")[0].body["messages"][-1]["quickReply"]["items"]
    _post_line(stack, webhook_body(text_event("言語を選ぶ", user=uid)))
    _post_line(
        stack, webhook_body(text_event("メールは taro@example.com、〒123-4567 中央1-2-3", user=uid))
    )
    rows = _line_rows(stack, 3)
    answered = next(r for r in rows if r.outcome == "answered")
    assert answered.faq_id == "mynumber-card-lost" and answered.score
    assert uid not in answered.session_hash
    assert any(r.outcome == "other" and r.text == "言語を選ぶ" for r in rows)
    personal = next(r for r in rows if "[メール]" in r.text)
    assert "taro" not in personal.text and "123-4567" not in personal.text

    no = items[1]["action"]["data"]
    _post_line(stack, webhook_body(postback_event(uid, no)))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = next(r for r in Store(stack.database_url).messages() if r.id == answered.id)
        if row.helpful is not None:
            break
        time.sleep(0.3)
    assert row.helpful is False


def test_an_action_server_outage_is_said_honestly_and_logged_as_error(
    stack: Stack, line: FakeLine
) -> None:
    """Rasa up, its action server down: Rasa replies with nothing. Residents are told the
    assistant cannot answer and whom to ask; the report sees the outage."""
    session, uid = uuid.uuid4().hex, "U" + uuid.uuid4().hex
    before = len(line.requests("/v2/bot/message/reply"))
    stack.stop(("actions",))
    try:
        response = httpx.post(
            f"{stack.gateway_url}/api/chat",
            json={"session_id": session, "text": "住民票がほしい"},
            timeout=60,
        )
        _post_line(stack, webhook_body(text_event("住民票がほしい", user=uid)))
        reply = line.wait_for("/v2/bot/message/reply", before + 1)[-1]
    finally:
        stack.start(names=("actions",))
    assert response.status_code == 503
    said = response.json()["messages"][0]["text"]
    assert "お答えできません" in said and "000-000-0000" in said
    line_text = reply.body["messages"][0]["text"]
    assert "お答えできません" in line_text and "000-000-0000" in line_text
    rows = [r for r in Store(stack.database_url).messages() if r.created_at is not None]
    ours = [r for r in rows if r.text == "住民票がほしい" and r.outcome == "error"]
    assert {r.channel for r in ours} == {"web", "line"}
    # Once the action server is back, the same question is answered.
    assert stack.chat("住民票がほしい", session_id=session)["messages"][0].get("faq_id")


def test_line_events_in_flight_when_the_gateway_is_killed_are_answered_once(
    stack: Stack, line: FakeLine
) -> None:
    """20 residents write at once; the gateway is killed (SIGKILL) as soon as LINE has its
    200s, and started again. Every resident gets the answer, and no one gets it twice."""
    users = ["U" + uuid.uuid4().hex for _ in range(20)]
    events = [text_event("住民票がほしい", user=u) for u in users]
    owner = {e["replyToken"]: e["source"]["userId"] for e in events}
    before = len(line.delivered)
    with ThreadPoolExecutor(len(events)) as pool:
        list(pool.map(lambda e: _post_line(stack, webhook_body(e)), events))
    gateway = stack.processes["gateway"]
    os.killpg(gateway.pid, signal.SIGKILL)
    gateway.wait(30)
    answered_before_the_kill = len(line.delivered) - before
    stack.start(names=("gateway",))

    def texts_per_user() -> dict[str, list[str]]:
        seen: dict[str, list[str]] = {u: [] for u in users}
        for delivery in line.delivered[before:]:
            user = delivery.body.get("to") or owner.get(delivery.body.get("replyToken"))
            if user in seen:
                seen[user] += [m.get("text", "") for m in delivery.body["messages"]]
        return seen

    deadline = time.monotonic() + 240
    while not all(texts_per_user().values()):
        assert time.monotonic() < deadline, texts_per_user()
        time.sleep(0.5)
    time.sleep(SWEEP_SECONDS * 2)  # long enough for a second answer, were one coming
    for user, texts in texts_per_user().items():
        assert texts and len(texts) == len(set(texts)), (user, texts)
    assert answered_before_the_kill < len(users)  # the kill did leave events in flight


def test_a_database_outage_loses_no_turn_and_no_resident_waits_for_it(
    stack: Stack, line: FakeLine
) -> None:
    """Residents chat before, during and after 30 s in which PostgreSQL refuses the
    gateway's connections. Every message is answered; afterwards the log, and so the
    report, holds every one of them. A LINE webhook during the outage is not acknowledged,
    so that LINE delivers it again; delivered again, it is answered once."""
    salt = stack.env["MADOGUCHI_HASH_SALT"]
    residents = [uuid.uuid4().hex for _ in range(4)]
    questions = ["住民票がほしい", "ごみの出し方", "マイナンバーカードを失くしました", "こんにちは"]
    month = Month.parse(dt.datetime.now(JAPAN).strftime("%Y-%m"))
    context = ReportContext.from_settings(Settings(database_url=stack.database_url))
    reported_before = figures_for(Store(stack.database_url), month, context).summary.messages
    statuses: list[int] = []

    def chat_for(seconds: float, resident: str) -> None:
        deadline = time.monotonic() + seconds
        for n in itertools.count():
            if time.monotonic() > deadline:
                return
            response = httpx.post(
                f"{stack.gateway_url}/api/chat",
                json={"session_id": resident, "text": questions[n % len(questions)]},
                timeout=60,
            )
            statuses.append(response.status_code)

    uid = "U" + uuid.uuid4().hex
    body = webhook_body(text_event("住民票がほしい", user=uid))
    headers = {"Content-Type": "application/json", "X-Line-Signature": sign(body, LINE_SECRET)}
    before = len(line.delivered)
    with ThreadPoolExecutor(len(residents)) as pool:
        chatting = [pool.submit(chat_for, 45, r) for r in residents]
        time.sleep(5)
        with database_refusing_connections(stack.database_url):
            time.sleep(2)
            during = httpx.post(
                f"{stack.gateway_url}/webhooks/line", content=body, headers=headers, timeout=30
            )
            time.sleep(28)
        for future in chatting:
            future.result()
    assert during.status_code == 503  # not acknowledged: LINE keeps it and delivers it again
    assert statuses and set(statuses) == {200}, Counter(statuses)
    _post_line(stack, body)  # LINE's redelivery

    hashes = {hash_id(r, salt) for r in residents}
    deadline = time.monotonic() + 60
    while True:
        logged = [r for r in Store(stack.database_url).messages() if r.session_hash in hashes]
        if len(logged) >= len(statuses) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(logged) == len(statuses)
    assert not list((stack.workdir / "spool").rglob("*.json"))
    time.sleep(SWEEP_SECONDS * 2)
    token = json.loads(body)["events"][0]["replyToken"]
    answers = [
        d
        for d in line.delivered[before:]
        if d.body.get("to") == uid or d.body.get("replyToken") == token
    ]
    assert len(answers) == 1
    reported = figures_for(Store(stack.database_url), month, context).summary.messages
    assert reported - reported_before == len(statuses) + 1  # and the LINE message
