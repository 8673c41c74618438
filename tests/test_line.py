"""The LINE channel against the real stack and a real HTTP fake of the Messaging API."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from bot.gateway.line.channel import MAX_BODY_BYTES
from bot.storage.db import Store
from tests.fake_line import (
    FakeLine,
    older_format,
    postback_event,
    sign,
    text_event,
    user_event,
    webhook_body,
)
from tests.stack import Stack, running_stack

pytestmark = pytest.mark.rasa

SECRET = "test-channel-secret"
REPLY = "/v2/bot/message/reply"
PUSH = "/v2/bot/message/push"
LOADING = "/v2/bot/chat/loading/start"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, line: FakeLine) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("line-stack"), **line.gateway_env(SECRET)) as stack:
        yield stack


@pytest.fixture(autouse=True)
def clean(line: FakeLine) -> None:
    line.received.clear()
    line.failures.clear()
    line.delay = 0.0


def post(stack: Stack, body: bytes, signature: str | None = "sign") -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Line-Signature"] = sign(body, SECRET)
    elif signature is not None:
        headers["X-Line-Signature"] = signature
    return httpx.post(
        f"{stack.gateway_url}/webhooks/line", content=body, headers=headers, timeout=30
    )


def user() -> str:
    return "U" + uuid.uuid4().hex


def texts(request) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["text"] for m in request.body["messages"]]


def test_japanese_question_is_answered_by_reply_with_feedback_buttons(stack, line) -> None:  # type: ignore[no-untyped-def]
    event = text_event("マイナンバーカードを失くしました", user=user())
    response = post(stack, webhook_body(event))
    responded = time.time()
    assert response.status_code == 200
    reply = line.wait_for(REPLY)[0]
    # Answered at once: the work happens afterwards, so the reply reaches LINE after the
    # webhook's 200 (an order, not a duration: a busy machine cannot fail it).
    assert reply.at >= responded
    assert reply.body["replyToken"] == event["replyToken"]
    assert reply.headers["authorization"] == "Bearer test-token"
    joined = "\n".join(texts(reply))
    assert "0120-95-0178" in joined
    last = reply.body["messages"][-1]
    assert last["text"] == "役に立ちましたか？"
    actions = [i["action"] for i in last["quickReply"]["items"]]
    assert actions[0]["type"] == "postback" and actions[0]["label"] == "はい"
    assert "faq=mynumber-card-lost" in actions[0]["data"]
    loading = line.wait_for(LOADING)[0]
    assert loading.body["chatId"] == event["source"]["userId"]


def test_english_question_is_answered_in_english(stack, line) -> None:  # type: ignore[no-untyped-def]
    post(
        stack, webhook_body(text_event("I lost my My Number card. What should I do?", user=user()))
    )
    reply = line.wait_for(REPLY)[0]
    assert "0120-95-0178" in texts(reply)[0]
    assert texts(reply)[-1] == "Was this helpful?"


@pytest.mark.parametrize(
    ("signature", "status"), [(None, 400), ("", 400), ("bm90IHRoZSBzaWduYXR1cmU=", 401)]
)
def test_missing_or_forged_signatures_are_rejected(stack, line, signature, status) -> None:  # type: ignore[no-untyped-def]
    response = post(stack, webhook_body(text_event("こんにちは", user=user())), signature)
    assert response.status_code == status
    time.sleep(1)
    assert line.received == []


def test_a_signature_for_another_body_is_rejected(stack, line) -> None:  # type: ignore[no-untyped-def]
    signed = webhook_body(text_event("こんにちは", user=user()))
    tampered = webhook_body(text_event("マイナンバーカード", user=user()))
    response = post(stack, tampered, sign(signed, SECRET))
    assert response.status_code == 401
    assert post(stack, signed, sign(signed, "another-secret")).status_code == 401


def test_redelivered_events_are_answered_once(stack, line) -> None:  # type: ignore[no-untyped-def]
    event = text_event("暗証番号を忘れてしまいました", user=user())
    assert post(stack, webhook_body(event)).status_code == 200
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    assert post(stack, webhook_body(redelivered)).status_code == 200
    assert post(stack, webhook_body(event)).status_code == 200  # replayed as is
    line.wait_for(REPLY)
    time.sleep(3)
    assert len(line.requests(REPLY)) == 1


def test_expired_reply_token_falls_back_to_push(stack, line) -> None:  # type: ignore[no-untyped-def]
    event = text_event("マイナンバーカードを失くしました", user=user())
    line.expired_tokens.add(event["replyToken"])
    post(stack, webhook_body(event))
    push = line.wait_for(PUSH)[0]
    assert push.body["to"] == event["source"]["userId"]
    assert uuid.UUID(push.headers["x-line-retry-key"])
    assert "0120-95-0178" in "\n".join(texts(push))


def test_an_old_event_is_answered_by_push(stack, line) -> None:  # type: ignore[no-untyped-def]
    post(stack, webhook_body(text_event("暗証番号を忘れました", user=user(), age_seconds=120)))
    line.wait_for(PUSH)
    assert line.requests(REPLY) == []


def test_rate_limits_and_server_errors_are_retried(stack, line) -> None:  # type: ignore[no-untyped-def]
    line.fail(REPLY, 429, 500)
    post(stack, webhook_body(text_event("マイナンバーカードを失くしました", user=user())))
    replies = line.wait_for(REPLY, count=3)
    assert len(replies) == 3  # two failures, then the answer


def test_push_keeps_one_retry_key_across_retries(stack, line) -> None:  # type: ignore[no-untyped-def]
    line.fail(PUSH, 503)
    post(stack, webhook_body(text_event("暗証番号を忘れました", user=user(), age_seconds=120)))
    pushes = line.wait_for(PUSH, count=2)
    assert pushes[0].headers["x-line-retry-key"] == pushes[1].headers["x-line-retry-key"]


def test_follow_greets_with_language_choices_and_the_choice_is_kept(stack, line) -> None:  # type: ignore[no-untyped-def]
    uid = user()
    follow = user_event("follow", uid, {"follow": {"isUnblocked": False}})
    post(stack, webhook_body(follow))
    greeting = line.wait_for(REPLY)[0].body["messages"][0]
    labels = [i["action"]["label"] for i in greeting["quickReply"]["items"]]
    assert labels == ["日本語", "English", "中文", "한국어", "Tiếng Việt", "Português"]
    choose_en = greeting["quickReply"]["items"][1]["action"]["data"]
    line.received.clear()
    post(stack, webhook_body(postback_event(uid, choose_en)))
    assert "English" in line.wait_for(REPLY)[0].body["messages"][0]["text"]
    line.received.clear()
    post(stack, webhook_body(text_event("マイナンバーカードを失くしました", user=uid)))
    answer = line.wait_for(REPLY)[0]
    assert texts(answer)[-1] == "Was this helpful?"  # Japanese question, English chosen
    line.received.clear()
    unfollow = user_event("unfollow", uid, replyable=False)
    post(stack, webhook_body(unfollow))
    time.sleep(2)
    from bot.privacy.hashing import hash_id

    assert Store(stack.database_url).user_language(hash_id(uid, "test-salt")) is None


def test_language_tile_shows_the_language_buttons(stack, line) -> None:  # type: ignore[no-untyped-def]
    post(stack, webhook_body(text_event("言語を選ぶ", user=user())))
    message = line.wait_for(REPLY)[0].body["messages"][0]
    assert len(message["quickReply"]["items"]) == 6


def test_feedback_postbacks_round_trip(stack, line) -> None:  # type: ignore[no-untyped-def]
    uid = user()
    post(stack, webhook_body(text_event("マイナンバーカードを失くしました", user=uid)))
    items = line.wait_for(REPLY)[0].body["messages"][-1]["quickReply"]["items"]
    yes, no = items[0]["action"]["data"], items[1]["action"]["data"]
    line.received.clear()
    post(stack, webhook_body(postback_event(uid, no)))
    reply = line.wait_for(REPLY)[0]
    assert "000-000-1002" in reply.body["messages"][0]["text"]  # the department's contact
    post(stack, webhook_body(postback_event(uid, yes)))
    time.sleep(2)
    stored = Store(stack.database_url).feedback("mynumber-card-lost")
    assert [f.helpful for f in stored][-2:] == [False, True]
    assert all(f.channel == "line" and uid not in f.session_hash for f in stored)


def test_older_format_events_are_handled_like_current_ones(stack, line) -> None:  # type: ignore[no-untyped-def]
    uid = user()
    follow = older_format(user_event("follow", uid, {"follow": {"isUnblocked": False}}))
    post(stack, webhook_body(follow))
    greeting = line.wait_for(REPLY)[0].body["messages"][0]
    assert len(greeting["quickReply"]["items"]) == 6
    line.received.clear()
    question = older_format(text_event("マイナンバーカードを失くしました", user=uid))
    assert "quoteToken" not in question["message"] and "webhookEventId" not in question
    assert post(stack, webhook_body(question)).status_code == 200
    reply = line.wait_for(REPLY)[0]
    assert reply.body["replyToken"] == question["replyToken"]
    assert "0120-95-0178" in "\n".join(texts(reply))


def test_an_unknown_event_is_logged_and_its_id_stays_unclaimed(stack, line) -> None:  # type: ignore[no-untyped-def]
    uid, event_id = user(), uuid.uuid4().hex
    unknown = user_event("futureThing", uid, {"futureThing": {"text": "住所は桜町1-2-3"}})
    unknown["webhookEventId"] = event_id
    assert post(stack, webhook_body(unknown)).status_code == 200
    deadline = time.monotonic() + 10
    while "futureThing" not in stack.log("gateway") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "LINE event of type 'futureThing' not handled" in stack.log("gateway")
    assert "桜町" not in stack.log("gateway") and uid not in stack.log("gateway")
    assert line.received == []
    understood = text_event("マイナンバーカードを失くしました", user=uid, event_id=event_id)
    post(stack, webhook_body(understood))  # the same id, now understood: still handled
    assert "0120-95-0178" in "\n".join(texts(line.wait_for(REPLY)[0]))


def test_feedback_for_an_faq_id_not_in_the_corpus_is_not_stored(stack, line) -> None:  # type: ignore[no-untyped-def]
    post(stack, webhook_body(postback_event(user(), "feedback=no&faq=no-such-entry")))
    time.sleep(2)
    assert Store(stack.database_url).feedback("no-such-entry") == []
    assert line.received == []


def test_a_chunked_body_over_the_limit_gets_413_without_being_read(stack, line) -> None:  # type: ignore[no-untyped-def]
    chunk, total = 64 * 1024, 200 * 1024 * 1024
    pulled = 0

    def body() -> Iterator[bytes]:
        nonlocal pulled
        for _ in range(total // chunk):
            pulled += 1
            yield b"x" * chunk

    response = httpx.post(
        f"{stack.gateway_url}/webhooks/line",
        content=body(),
        headers={"X-Line-Signature": "c2ln"},
        timeout=30,
    )
    assert response.status_code == 413
    # The limit plus what the sockets' buffers took before the gateway closed the
    # connection (a few MB), not the 200 MB.
    assert pulled * chunk < MAX_BODY_BYTES + 32 * 1024 * 1024, pulled


NON_TEXT = {
    "sticker": {
        "packageId": "1",
        "stickerId": "1",
        "stickerResourceType": "STATIC",
        "quoteToken": "q",
    },
    "image": {"contentProvider": {"type": "line"}, "quoteToken": "q"},
    "video": {"contentProvider": {"type": "line"}, "duration": 1000, "quoteToken": "q"},
    "audio": {"contentProvider": {"type": "line"}, "duration": 1000},
    "location": {"title": "t", "address": "a", "latitude": 35.0, "longitude": 139.0},
    "file": {"fileName": "a.pdf", "fileSize": 10},
}


@pytest.mark.parametrize("kind", list(NON_TEXT))
def test_non_text_messages_get_a_polite_reply(stack, line, kind) -> None:  # type: ignore[no-untyped-def]
    event = text_event("x", user=user())
    event["message"] = {"type": kind, "id": uuid.uuid4().hex, **NON_TEXT[kind]}
    assert post(stack, webhook_body(event)).status_code == 200
    assert "文字" in line.wait_for(REPLY)[0].body["messages"][0]["text"]


def test_group_messages_are_not_answered(stack, line) -> None:  # type: ignore[no-untyped-def]
    post(stack, webhook_body(text_event("マイナンバーカード", user=user(), source_type="group")))
    time.sleep(2)
    assert line.received == []


def test_long_answers_and_suggestions_fit_line_limits(stack, line) -> None:  # type: ignore[no-untyped-def]
    post(stack, webhook_body(text_event("マイナンバーカード", user=user())))
    for message in line.wait_for(REPLY)[0].body["messages"]:
        assert len(message["text"].encode("utf-16-le")) // 2 <= 5000
        for item in (message.get("quickReply") or {}).get("items", []):
            assert len(item["action"]["label"]) <= 20
        assert len((message.get("quickReply") or {}).get("items", [])) <= 13


def test_fuzzed_webhook_bodies_never_cause_a_server_error(stack, line) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(1234)
    odd = [
        "",
        "\u0000",
        "\ud7ff",
        "🍣" * 300,
        "あ" * 6000,
        "\u202e逆",
        "%s%n",
        "{}",
        "null",
        "<script>alert(1)</script>",
        "\U0010ffff",
    ]
    statuses = []
    with httpx.Client(timeout=30) as client:
        for number in range(1000):
            choice = rng.random()
            if choice < 0.25:
                body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
            elif choice < 0.45:
                body = json.dumps(
                    {
                        "destination": "x",
                        "events": [
                            {
                                "type": rng.choice(
                                    ["unknown", "beacon", "memberJoined", "things", "message"]
                                ),
                                "timestamp": rng.randint(-1, 2**40),
                                "mode": "active",
                                "webhookEventId": uuid.uuid4().hex,
                                "source": rng.choice(
                                    [{"type": "user", "userId": "Ux"}, {}, None, "x"]
                                ),
                            }
                        ],
                    }
                ).encode()
            elif choice < 0.55:
                body = json.dumps({"events": rng.choice([None, 5, "x", [1, 2], [{}]])}).encode()
            else:
                text = rng.choice(odd) + rng.choice(["住民票", "card", ""]) * rng.randint(0, 3)
                body = webhook_body(text_event(text, user=user()))
            headers = {"X-Line-Signature": sign(body, SECRET), "Content-Type": "application/json"}
            response = client.post(
                f"{stack.gateway_url}/webhooks/line", content=body, headers=headers
            )
            statuses.append(response.status_code)
            assert response.status_code < 500, (number, body[:200], response.text)
    assert httpx.get(f"{stack.gateway_url}/healthz").status_code == 200
    assert statuses.count(200) > 400


def _answered_faq(request) -> str | None:  # type: ignore[no-untyped-def]
    """The entry a LINE reply answered, from its 役に立ちましたか？ postback."""
    items = (request.body["messages"][-1].get("quickReply") or {}).get("items", [])
    for item in items:
        data = item["action"].get("data", "")
        if "faq=" in data:
            return data.split("faq=")[1].split("&")[0]
    return None


def _say(stack: Stack, line: FakeLine, someone: str, message: str):  # type: ignore[no-untyped-def]
    """The reply to this message (a late reply to an earlier test's event is skipped)."""
    event = text_event(message, user=someone)
    assert post(stack, webhook_body(event)).status_code == 200
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for request in line.requests(REPLY):
            if request.body["replyToken"] == event["replyToken"]:
                return request
        time.sleep(0.05)
    raise AssertionError(f"no reply to {message!r}")


def test_follow_up_and_clarifying_question_over_line(stack, line) -> None:  # type: ignore[no-untyped-def]
    someone = user()
    assert _answered_faq(_say(stack, line, someone, "住民票がほしい")) == "certificate-residence"
    assert _answered_faq(_say(stack, line, someone, "いくらかかる？")) == "certificate-fees"
    assert _answered_faq(_say(stack, line, someone, "代理人でもいい？")) == "certificate-proxy"
    clarify = _say(stack, line, someone, "引っ越します")
    assert _answered_faq(clarify) is None
    items = clarify.body["messages"][-1]["quickReply"]["items"]
    tap = next(i["action"] for i in items if "転出" in i["action"]["text"])
    assert _answered_faq(_say(stack, line, someone, tap["text"])) == "moving-out"
