"""The gateway's website pieces without a browser: feedback, contact card, CORS, rate limit,
CSP, office hours. The app runs in-process over Starlette's test client with a real SQLite
database; Rasa is not needed for any of these routes."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from bot.clock import JAPAN
from bot.faq.office_hours import OfficeHours
from bot.faq.profile import Profile
from bot.gateway.app import create_app
from bot.gateway.bodies import EXPECTED
from bot.gateway.ratelimit import Rate, RedisTokenBuckets, TokenBuckets
from bot.gateway.web import fill_page
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.db import Store

CITY = "https://www.city.sakurano.example"
OTHER = "https://evil.example"


def make_client(tmp_path: Path, rate: str, redis_url: str = "") -> TestClient:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'widget.db'}",
        hash_salt="test-salt",
        rasa_url="http://127.0.0.1:9",  # nothing listens there
        rasa_timeout=2,
        rate_limit=rate,
        allowed_origins=f"{CITY}/, http://localhost:8080",
        redis_url=redis_url,
    )
    return TestClient(create_app(settings))


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path, "1000/minute") as test_client:
        yield test_client


def feedback_rows(client: TestClient) -> list:
    return Store(client.app.state.settings.database_url).feedback()  # type: ignore[attr-defined]


# ---- feedback ------------------------------------------------------------------------------


def test_feedback_is_stored_with_a_hashed_session(client: TestClient) -> None:
    response = client.post(
        "/api/feedback",
        json={"session_id": "tab-1", "faq_id": "mynumber-card-lost", "helpful": True, "lang": "en"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "recorded"}
    [row] = feedback_rows(client)
    assert (row.channel, row.lang, row.faq_id, row.helpful) == (
        "web",
        "en",
        "mynumber-card-lost",
        True,
    )
    assert row.session_hash and "tab-1" not in row.session_hash


def test_unhelpful_feedback_brings_the_department_contact(client: TestClient) -> None:
    response = client.post(
        "/api/feedback",
        json={"session_id": "tab-1", "faq_id": "mynumber-card-lost", "helpful": False},
    )
    assert response.status_code == 200
    message = response.json()["message"]
    assert "お役に立てず" in message and "000-000-1002" in message  # the My Number desk
    assert feedback_rows(client)[0].helpful is False


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 400, "not valid JSON"),
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe\x00", 400, "not UTF-8"),
        (b"[]", 400, "must be a JSON object"),
        (b'{"faq_id": "mynumber-card-lost", "helpful": true}', 400, "'session_id' is required"),
        (b'{"session_id": "s", "helpful": true}', 400, "'faq_id' is required"),
        (b'{"session_id": "s", "faq_id": 3, "helpful": true}', 400, "'faq_id' is required"),
        (b'{"session_id": "s", "faq_id": "no-such-entry", "helpful": true}', 404, "not an entry"),
        (b'{"session_id": "s", "faq_id": "mynumber-card-lost", "helpful": 1}', 400, "'helpful'"),
        (b'{"session_id": "s", "faq_id": "mynumber-card-lost"}', 400, "'helpful'"),
        (
            b'{"session_id": "s", "faq_id": "mynumber-card-lost", "helpful": true, "lang": "fr"}',
            400,
            "'lang' must be one of",
        ),
        (
            b'{"session_id": "' + b"s" * 129 + b'", "faq_id": "x", "helpful": true}',
            400,
            "at most 128",
        ),
        (b'{"session_id": "s", "pad": "' + b"x" * 10_000 + b'"}', 413, "larger than"),
    ],
)
def test_bad_feedback_gets_a_clear_error_and_stores_nothing(
    client: TestClient, body: bytes, status: int, message: str
) -> None:
    response = client.post(
        "/api/feedback", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert feedback_rows(client) == []


def test_huge_streamed_feedback_body_is_refused_without_reading_it_all(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"session_id": "s", "pad": "'
        for _ in range(1000):
            yield b"x" * 1024

    response = client.post(
        "/api/feedback", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


# ---- contact card --------------------------------------------------------------------------


def test_contact_gives_the_general_desk_and_whether_it_is_open(client: TestClient) -> None:
    body = client.get("/api/contact", params={"lang": "en"}).json()
    assert body["phone"] == "000-000-0000"
    assert "General Information" in body["text"] and "8:30" in body["hours"]
    assert isinstance(body["open_now"], bool)


def test_contact_for_an_answer_gives_its_department(client: TestClient) -> None:
    body = client.get("/api/contact", params={"lang": "ja", "faq_id": "mynumber-card-lost"}).json()
    assert body["phone"] == "000-000-1002" and "マイナンバーカード窓口" in body["text"]


@pytest.mark.parametrize(
    ("params", "status"), [({"lang": "xx"}, 400), ({"lang": "ja", "faq_id": "nope"}, 404)]
)
def test_contact_rejects_unknown_values(client: TestClient, params: dict, status: int) -> None:
    assert client.get("/api/contact", params=params).status_code == status


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"lang": "xx"}, EXPECTED["lang"]),
        ({"faq_id": ""}, EXPECTED["faq_id"]),
        ({"faq_id": "x" * 200}, EXPECTED["faq_id"]),
    ],
)
def test_typed_query_parameters_are_refused_in_the_gateways_words(
    client: TestClient, params: dict, expected: str
) -> None:
    """FastAPI checks the parameters; the refusal is the gateway's 400 {"error": ...}."""
    response = client.get("/api/contact", params=params)
    assert response.status_code == 400
    assert response.json() == {"error": expected}


# ---- office hours --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-11-20 10:00", True),  # Friday
        ("2026-11-20 08:29", False),  # before opening
        ("2026-11-20 17:15", False),  # closing time
        ("2026-11-21 10:00", False),  # Saturday
        ("2026-11-23 10:00", False),  # Monday, 勤労感謝の日
        ("2026-12-28 10:00", True),  # last working day of the year
        ("2026-12-30 10:00", False),  # year-end closure
        ("2027-01-04 10:00", True),  # first working day
    ],
)
def test_office_hours_follow_the_profile_and_national_holidays(moment: str, is_open: bool) -> None:
    profile = Profile.load(PROJECT_ROOT / "faq" / "municipality.yml")
    hours = OfficeHours.from_profile(profile.hours)
    assert hours.is_open(datetime.fromisoformat(moment).replace(tzinfo=JAPAN)) is is_open


def test_office_hours_use_japan_time() -> None:
    hours = OfficeHours.from_profile({"open": "08:30", "close": "17:15"})
    # 01:00 UTC on a Friday is 10:00 in Tokyo.
    assert hours.is_open(datetime.fromisoformat("2026-11-20T01:00:00+00:00"))
    assert not hours.is_open(datetime.fromisoformat("2026-11-20T10:00:00+00:00"))


# ---- CORS ----------------------------------------------------------------------------------


def test_configured_city_origin_may_call_the_api(client: TestClient) -> None:
    preflight = client.options(
        "/api/chat",
        headers={
            "Origin": CITY,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == CITY
    response = client.get("/api/contact?lang=ja", headers={"Origin": "http://localhost:8080"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:8080"


def test_other_origins_are_refused(client: TestClient) -> None:
    preflight = client.options(
        "/api/feedback",
        headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    response = client.get("/api/contact?lang=ja", headers={"Origin": OTHER})
    assert "access-control-allow-origin" not in response.headers


def test_the_widget_files_load_from_any_origin(client: TestClient) -> None:
    for path in ("/static/widget.js", "/static/widget.css"):
        response = client.get(path, headers={"Origin": OTHER})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["cross-origin-resource-policy"] == "cross-origin"


def test_a_malformed_allowed_origin_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADOGUCHI_ALLOWED_ORIGINS", "www.city.example/path")
    with pytest.raises(ValueError, match="not an origin"):
        Settings()


# ---- rate limit ----------------------------------------------------------------------------


def test_too_many_requests_get_429_with_retry_after(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with make_client(tmp_path, "3/minute") as client:
        for _ in range(3):
            assert client.get("/api/contact?lang=ja").status_code == 200
        refused = client.get("/api/contact?lang=ja", headers={"Origin": CITY})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 20
        assert "too many requests" in refused.json()["error"]
        # The widget on a city page can read the refusal, and pages and health stay reachable.
        assert refused.headers["access-control-allow-origin"] == CITY
        assert client.post("/api/feedback", json={}).status_code == 429
        assert client.get("/healthz").status_code == 200
        assert client.get("/").status_code == 200


def test_token_bucket_refills_over_time() -> None:
    now = [0.0]
    buckets = TokenBuckets(Rate(2, 60.0), clock=lambda: now[0])
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    assert buckets.take("a") == pytest.approx(30.0)
    assert buckets.take("b") == 0  # each client has its own bucket
    now[0] = 30.0
    assert buckets.take("a") == 0


def test_token_bucket_forgets_the_oldest_clients_beyond_its_bound() -> None:
    buckets = TokenBuckets(Rate(1, 60.0), max_keys=2)
    buckets.take("a")
    buckets.take("b")
    buckets.take("c")
    assert buckets.take("c") > 0 and buckets.take("a") == 0


@pytest.mark.parametrize("text", ["30", "30/fortnight", "-1/minute", "x/minute", "/minute"])
def test_bad_rate_setting_is_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="MADOGUCHI_RATE_LIMIT"):
        Rate.parse(text)


def test_rate_setting_forms() -> None:
    assert Rate.parse("30/minute") == Rate(30, 60.0)
    assert Rate.parse("5/seconds") == Rate(5, 1.0)
    assert Rate.parse("off") is None


# ---- the demo page -------------------------------------------------------------------------


def test_demo_page_has_a_strict_csp_and_no_inline_code(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    page = response.text
    assert re.findall(r"<script\b[^>]*>", page) == [
        '<script src="/static/widget.js" data-lang="ja" defer>'
    ]
    assert " style=" not in page and re.search(r"\son[a-z]+=", page) is None
    # The city facts come from the profile.
    assert "さくらの市" in page and "000-000-0000" in page and "{" not in page


def test_page_placeholders_are_html_escaped() -> None:
    profile = Profile(name="<b>&</b>", office_hours="x", website="w", departments={})
    assert fill_page("<p>{city.name}</p>", profile) == "<p>&lt;b&gt;&amp;&lt;/b&gt;</p>"


# ---- rate limit shared through the real Redis ----------------------------------------------

REDIS_URL = os.environ.get("MADOGUCHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_gateways_share_one_bucket_per_client_in_redis() -> None:
    prefix = f"madoguchi-test:{uuid.uuid4().hex}:"
    rate = Rate(3, 60.0)

    async def run() -> list[float]:
        first, second = (
            RedisTokenBuckets(rate, REDIS_URL, prefix),
            RedisTokenBuckets(rate, REDIS_URL, prefix),
        )
        try:
            waits = [
                await first.acquire("203.0.113.7"),
                await second.acquire("203.0.113.7"),
                await first.acquire("203.0.113.7"),
                await second.acquire("203.0.113.7"),  # the fourth, on either gateway
                await second.acquire("198.51.100.1"),  # another client
            ]
        finally:
            await first.close()
            await second.close()
        return waits

    waits = asyncio.run(run())
    assert waits[:3] == [0.0, 0.0, 0.0] and waits[4] == 0.0
    assert 19.0 < waits[3] <= 20.0
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert 0 < client.ttl(prefix + "203.0.113.7") <= 61  # gone once it would be full again
        client.delete(prefix + "203.0.113.7", prefix + "198.51.100.1")
    finally:
        client.close()


def test_redis_bucket_refills() -> None:
    prefix = f"madoguchi-test:{uuid.uuid4().hex}:"

    async def run() -> list[float]:
        buckets = RedisTokenBuckets(Rate(1, 0.5), REDIS_URL, prefix)
        try:
            waits = [await buckets.acquire("a"), await buckets.acquire("a")]
            await asyncio.sleep(0.6)
            waits.append(await buckets.acquire("a"))
        finally:
            await buckets.close()
        return waits

    first, refused, later = asyncio.run(run())
    assert first == 0.0 and refused > 0 and later == 0.0


def test_unreachable_redis_lets_requests_through() -> None:
    async def run() -> float:
        buckets = RedisTokenBuckets(Rate(1, 60.0), "redis://127.0.0.1:1/0")
        try:
            return max([await buckets.acquire("a") for _ in range(3)])
        finally:
            await buckets.close()

    assert asyncio.run(run()) == 0.0


def test_gateway_uses_redis_when_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cleanup = redis.Redis.from_url(REDIS_URL)
    cleanup.delete("madoguchi:ratelimit:testclient")
    try:
        with make_client(tmp_path, "2/minute", REDIS_URL) as client:
            assert [client.get("/api/contact?lang=ja").status_code for _ in range(3)] == [
                200,
                200,
                429,
            ]
        assert cleanup.exists("madoguchi:ratelimit:testclient")
    finally:
        cleanup.delete("madoguchi:ratelimit:testclient")
        cleanup.close()
