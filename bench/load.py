"""Benchmark: simulated residents against the production layout, through HAProxy.

Starts `madoguchi run --instances N` (N gateways, Rasa servers and action servers behind
HAProxy, on the real PostgreSQL and Redis) with the LINE channel pointed at the HTTP fake
of the Messaging API. R residents (a share of them on LINE, the rest in the widget) each
ask a question, wait for the answer, and ask the next, for the given minutes (after 5
questions another resident takes the place). Prints the
replies per second, the median and 95th-percentile time to an answer, and the errors (any
answer that is not a 200, and any LINE message never answered).

    .venv/bin/python bench/load.py [--instances 2] [--residents 50] [--minutes 5]
        [--kill] [--db-outage]

With --kill, errors are the answers residents did not get at the first try (a widget sends
the question again). A LINE event the gateway does not acknowledge is delivered again, as
LINE does, and counted in the statuses. With --db-outage, the log is then compared with
what was answered.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chat_latency import percentile, questions
from bot.storage.db import Store
from tests.conftest import database_refusing_connections, fresh_postgres_database
from tests.fake_line import FakeLine, sign, text_event, webhook_body
from tests.stack import Layout, running_layout

SECRET = "bench-channel-secret"
REDIS_URL = "redis://127.0.0.1:6379/4"
# Each simulated resident asks this many questions, then another resident takes its place:
# a conversation of a few questions, as residents have them.
QUESTIONS_PER_CONVERSATION = 5
# How often the simulated LINE platform delivers an event the gateway did not acknowledge.
REDELIVERIES = 60


class Replies:
    """When the fake LINE API received each reply, by reply token (read as they arrive)."""

    def __init__(self, line: FakeLine) -> None:
        self.line, self.seen, self.at = line, 0, {}

    async def watch(self, until: float) -> None:
        while time.monotonic() < until + 60:
            received = self.line.received
            for request in received[self.seen : len(received)]:
                token = request.body.get("replyToken")
                if request.path == "/v2/bot/message/reply" and token:
                    self.at[token] = request.at
            self.seen = len(received)
            await asyncio.sleep(0.01)

    async def wait(self, token: str, timeout: float = 60.0) -> float:
        deadline = time.monotonic() + timeout
        while token not in self.at:
            if time.monotonic() > deadline:
                raise TimeoutError(token)
            await asyncio.sleep(0.02)
        return self.at.pop(token)


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.by_channel: dict[str, list[float]] = {"web": [], "line": []}
        self.statuses: Counter[str] = Counter()
        # Messages the gateway answered in any way, each of which the log must hold once.
        self.to_log = 0


async def web_resident(
    client: httpx.AsyncClient, url: str, texts: list[str], until: float, tally: Tally
) -> None:
    session = uuid.uuid4().hex
    n = 0
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            response = await client.post(
                f"{url}/api/chat", json={"session_id": session, "text": texts[n % len(texts)]}
            )
            tally.statuses[f"web {response.status_code}"] += 1
            tally.to_log += 1
            if response.status_code == 200:
                tally.latencies.append(time.monotonic() - started)
                tally.by_channel["web"].append(tally.latencies[-1])
        except httpx.HTTPError as exc:
            tally.statuses[f"web {type(exc).__name__}"] += 1
        n += 1
        if n % QUESTIONS_PER_CONVERSATION == 0:  # the next resident
            session = uuid.uuid4().hex


async def line_resident(
    client: httpx.AsyncClient,
    url: str,
    replies: Replies,
    texts: list[str],
    until: float,
    tally: Tally,
) -> None:
    user = "U" + uuid.uuid4().hex
    n = 0
    while time.monotonic() < until:
        event = text_event(texts[n % len(texts)], user=user)
        body = webhook_body(event)
        headers = {"Content-Type": "application/json", "X-Line-Signature": sign(body, SECRET)}
        started = time.time()  # the fake API stamps what it receives with time.time()
        try:
            for _ in range(REDELIVERIES):
                response = await client.post(f"{url}/webhooks/line", content=body, headers=headers)
                tally.statuses[f"line {response.status_code}"] += 1
                if response.status_code < 500:
                    break
                await asyncio.sleep(1)  # not acknowledged: LINE delivers the event again
            if response.status_code == 200:
                tally.to_log += 1
                answered = await replies.wait(event["replyToken"])
                tally.latencies.append(answered - started)
                tally.by_channel["line"].append(tally.latencies[-1])
        except (httpx.HTTPError, TimeoutError) as exc:
            tally.statuses[f"line {type(exc).__name__}"] += 1
        n += 1
        if n % QUESTIONS_PER_CONVERSATION == 0:
            user = "U" + uuid.uuid4().hex


async def load(
    url: str, line: FakeLine, residents: int, line_share: float, seconds: float
) -> Tally:
    pool = questions(400)
    tally = Tally()
    on_line = round(residents * line_share)
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=residents + 10)
    replies = Replies(line)
    watching = asyncio.create_task(replies.watch(until))
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(
            *(
                line_resident(client, url, replies, pool[i::residents], until, tally)
                if i < on_line
                else web_resident(client, url, pool[i::residents], until, tally)
                for i in range(residents)
            )
        )
    watching.cancel()
    return tally


def kill_one_of_each(layout: Layout) -> None:
    for service in ("gateway", "rasa", "actions"):
        layout.kill(service, 1)
    print("killed gateway-1, rasa-1 and actions-1", flush=True)


def database_outage(database_url: str, seconds: float = 30) -> None:
    with database_refusing_connections(database_url):
        print(f"PostgreSQL refuses the log's connections for {seconds:g} s", flush=True)
        time.sleep(seconds)


def logged_after(database_url: str, spool: Path, timeout: float = 120) -> int:
    """The log's rows once every spooled turn is written."""
    deadline = time.monotonic() + timeout
    while any(spool.rglob("*.json")) and time.monotonic() < deadline:
        time.sleep(1)
    return len(Store(database_url).messages())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--line-share", type=float, default=0.2, help="share of residents on LINE")
    parser.add_argument(
        "--db-outage",
        action="store_true",
        help="a third of the way in, PostgreSQL refuses the log's connections for 30 s; "
        "afterwards, the log is checked against what the residents were answered",
    )
    parser.add_argument(
        "--kill",
        action="store_true",
        help="a third of the way in, kill (SIGKILL) one gateway, one Rasa server and one "
        "action server; `madoguchi run` restarts them",
    )
    args = parser.parse_args()
    line = FakeLine().start()
    env = {
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": "bench-token",
        "LINE_API_BASE_URL": line.url,
        "MADOGUCHI_REDIS_URL": REDIS_URL,
        "MADOGUCHI_RATE_LIMIT": "off",
    }
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            fresh_postgres_database() as database_url,
            fresh_postgres_database() as tracker_url,
            running_layout(
                Path(tmp),
                args.instances,
                MADOGUCHI_DATABASE_URL=database_url,
                MADOGUCHI_TRACKER_URL=tracker_url,
                **env,
            ) as layout,
        ):
            asyncio.run(load(layout.url, line, 4, 0.5, 10))  # warm-up, not counted
            seconds = args.minutes * 60
            if args.kill:
                threading.Timer(seconds / 3, kill_one_of_each, [layout]).start()
            if args.db_outage:
                threading.Timer(seconds / 3, database_outage, [database_url]).start()
            logged_before = len(Store(database_url).messages())
            started = time.monotonic()
            tally = asyncio.run(load(layout.url, line, args.residents, args.line_share, seconds))
            elapsed = time.monotonic() - started
            logged = logged_after(database_url, Path(tmp) / "spool") - logged_before
    finally:
        line.stop()
    replies = len(tally.latencies)
    errors = sum(n for key, n in tally.statuses.items() if not key.endswith(" 200"))
    print(
        f"instances: {args.instances}  residents: {args.residents} "
        f"({round(args.residents * args.line_share)} on LINE)  seconds: {elapsed:.0f}"
        + ("  (one of each service killed a third of the way in)" if args.kill else "")
    )
    print(f"replies: {replies}  replies_per_second: {replies / elapsed:.1f}")
    print(f"reply_seconds_p50: {statistics.median(tally.latencies):.2f}")
    print(f"reply_seconds_p95: {percentile(tally.latencies, 0.95):.2f}")
    for channel, latencies in tally.by_channel.items():
        if latencies:
            print(
                f"  {channel}: p50 {statistics.median(latencies):.2f}  "
                f"p95 {percentile(latencies, 0.95):.2f}"
            )
    print(f"errors: {errors}  statuses: {dict(sorted(tally.statuses.items()))}")
    print(f"log_rows: {logged} of the {tally.to_log} messages answered")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
