"""Benchmark: webhook-to-reply latency on LINE, with concurrent users.

Starts the real stack (Rasa, action server, gateway) with the LINE channel pointed at the
HTTP fake of the Messaging API, then has N users (20 by default) each send M questions in
turn, every user waiting for the reply to its previous question, as people in a chat do.
Latency is measured from sending the signed webhook to the fake API receiving the reply.
Prints the median and 95th percentile.

    .venv/bin/python bench/line_latency.py [--users 20] [--questions 10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chat_latency import percentile, questions
from tests.fake_line import FakeLine, sign, text_event, webhook_body
from tests.stack import Stack

SECRET = "bench-channel-secret"
REPLY = "/v2/bot/message/reply"


async def wait_for_reply(line: FakeLine, token: str, timeout: float = 120.0) -> float:
    """The time the fake API received the reply that carries ``token``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for request in list(line.received):
            if request.path == REPLY and request.body.get("replyToken") == token:
                return request.at
        await asyncio.sleep(0.005)
    raise TimeoutError(f"no reply for token {token}")


async def one_user(
    client: httpx.AsyncClient, url: str, line: FakeLine, texts: list[str]
) -> list[float]:
    user = "U" + uuid.uuid4().hex
    latencies = []
    for text in texts:
        event = text_event(text, user=user)
        body = webhook_body(event)
        headers = {"Content-Type": "application/json", "X-Line-Signature": sign(body, SECRET)}
        started = time.time()
        response = await client.post(url, content=body, headers=headers)
        response.raise_for_status()
        received = await wait_for_reply(line, event["replyToken"])
        latencies.append((received - started) * 1000)
    return latencies


async def run_users(url: str, line: FakeLine, users: int, per_user: int) -> list[float]:
    pool = itertools.cycle(questions(users * per_user))
    plans = [[next(pool) for _ in range(per_user)] for _ in range(users)]
    async with httpx.AsyncClient(timeout=60) as client:
        results = await asyncio.gather(*(one_user(client, url, line, p) for p in plans))
    return [latency for user in results for latency in user]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="questions per user")
    args = parser.parse_args()
    line = FakeLine().start()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        stack = Stack(workdir=workdir, database_url=f"sqlite:///{workdir / 'bench.db'}")
        stack.configure()
        stack.env.update(
            {
                "LINE_CHANNEL_SECRET": SECRET,
                "LINE_CHANNEL_ACCESS_TOKEN": "bench-token",
                "LINE_API_BASE_URL": line.url,
            }
        )
        stack.train()
        stack.start()
        try:
            url = f"{stack.gateway_url}/webhooks/line"
            asyncio.run(run_users(url, line, 2, 2))  # warm-up, not counted
            line.received.clear()
            started = time.monotonic()
            latencies = asyncio.run(run_users(url, line, args.users, args.questions))
            elapsed = time.monotonic() - started
        finally:
            stack.stop()
            line.stop()
    print(f"users: {args.users}  questions: {len(latencies)}  wall_seconds: {elapsed:.1f}")
    print(f"webhook_to_reply_ms_p50: {statistics.median(latencies):.0f}")
    print(f"webhook_to_reply_ms_p95: {percentile(latencies, 0.95):.0f}")
    print(f"webhook_to_reply_ms_max: {max(latencies):.0f}")
    print(f"replies_per_second: {len(latencies) / elapsed:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
