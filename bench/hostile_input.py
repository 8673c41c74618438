"""Benchmark: what the worst inputs the gateway accepts cost, and what they do to residents.

Starts the real stack (Rasa, action server, gateway) with the LINE channel pointed at the HTTP
fake of the Messaging API. A resident asks ordinary questions on /api/chat, one after another,
in three phases:

- quiet: nobody else is talking to the assistant;
- busy: N web senders and N LINE senders ask ordinary questions, each waiting for its answer
  (the comparison: the same load, harmless text);
- hostile: the same senders send the worst texts the gateway accepts: texts that reach the
  1000-character limit only after NFKC (U+FDFA, the U+3300 squares), combining-mark floods,
  400-token messages.

Prints the resident's latency (median, 95th percentile, max) and errors per phase, Rasa's
memory (RSS of its process tree) before and after each phase, and what one of each hostile
message costs on a quiet stack. Figures only, no pass or fail.

    .venv/bin/python bench/hostile_input.py [--questions 40] [--senders 2]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chat_latency import percentile, questions
from bot.gateway.resident_text import MAX_CHARS, MAX_TOKENS, TextRejected, prepare
from tests.fake_line import FakeLine, sign, text_event, webhook_body
from tests.stack import Stack, process_tree_rss

SECRET = "bench-channel-secret"
REPLY, PUSH = "/v2/bot/message/reply", "/v2/bot/message/push"
LINE_TEXT_LIMIT = 5000  # what LINE lets a user type
RESIDENT = ["住民票がほしい", "マイナンバーカードを失くしました", "暗証番号を忘れました"]


def accepted(text: str) -> bool:
    try:
        prepare(text)
    except TextRejected:
        return False
    return True


def longest(make, limit: int = LINE_TEXT_LIMIT) -> str:  # type: ignore[no-untyped-def]
    """``make(n)`` for the largest n (up to ``limit``) that the gateway still accepts."""
    low, high = 1, limit
    while low < high:
        middle = (low + high + 1) // 2
        if accepted(make(middle)):
            low = middle
        else:
            high = middle - 1
    return make(low)


def worst_inputs() -> dict[str, str]:
    """The worst texts of each kind that the gateway lets through to Rasa."""
    squares = [chr(c) for c in range(0x3300, 0x3358)]
    longest_square = max(squares, key=lambda c: len(unicodedata.normalize("NFKC", c)))
    zalgo = "".join(c + "\u0301\u0308" for c in itertools.islice(itertools.cycle("aeiou"), 400))
    return {
        "U+FDFA ligatures": longest(lambda n: "\ufdfa" * n),
        f"U+{ord(longest_square):04X} squares": longest(lambda n: longest_square * n),
        "mixed U+3300 squares": longest(
            lambda n: "".join(itertools.islice(itertools.cycle(squares), n))
        ),
        "a + 4999 accents": "a" + "\u0301" * (LINE_TEXT_LIMIT - 1),
        "Zalgo, 2 marks a letter": longest(lambda n: zalgo[: 3 * n], len(zalgo) // 3),
        f"{MAX_TOKENS} kanji tokens": longest(lambda n: "字" * n, MAX_TOKENS * 2),
        f"{MAX_TOKENS} latin tokens": longest(lambda n: "a " * n, MAX_TOKENS * 2),
        f"{MAX_CHARS}-char word": longest(lambda n: "a" * n, MAX_CHARS * 2),
    }


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    sent: dict[str, int] = field(default_factory=lambda: {"web": 0, "line": 0})
    rss_before: int = 0
    rss_after: int = 0
    rss_peak: int = 0


class Bench:
    def __init__(self, stack: Stack, line: FakeLine) -> None:
        self.stack = stack
        self.line = line
        self.rasa_pid = stack.processes["rasa"].pid  # `madoguchi serve rasa` execs Rasa
        self.cursor = 0
        self.answered: set[str] = set()  # reply tokens and pushed-to users

    def _update(self) -> None:
        received = self.line.received
        while self.cursor < len(received):
            request = received[self.cursor]
            self.cursor += 1
            if request.path == REPLY:
                self.answered.add(str(request.body.get("replyToken")))
            elif request.path == PUSH:
                self.answered.add(str(request.body.get("to")))

    async def line_message(self, client: httpx.AsyncClient, text: str) -> None:
        user = "U" + uuid.uuid4().hex
        event = text_event(text, user=user)
        body = webhook_body(event)
        headers = {"Content-Type": "application/json", "X-Line-Signature": sign(body, SECRET)}
        response = await client.post(
            f"{self.stack.gateway_url}/webhooks/line", content=body, headers=headers
        )
        response.raise_for_status()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            self._update()
            if event["replyToken"] in self.answered or user in self.answered:
                return
            await asyncio.sleep(0.02)
        raise TimeoutError("no LINE answer within 120 s")

    async def web_message(self, client: httpx.AsyncClient, text: str, session: str) -> float:
        started = time.perf_counter()
        response = await client.post(
            f"{self.stack.gateway_url}/api/chat", json={"session_id": session, "text": text}
        )
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        return elapsed

    async def sender(
        self, channel: str, texts: list[str], phase: Phase, stop: asyncio.Event
    ) -> None:
        async with httpx.AsyncClient(timeout=120) as client:
            for number in itertools.count():
                if stop.is_set():
                    return
                text = texts[number % len(texts)]
                try:
                    if channel == "web":
                        await self.web_message(client, text, f"sender-{uuid.uuid4().hex}")
                    else:
                        await self.line_message(client, text)
                except (httpx.HTTPError, TimeoutError):
                    pass  # the senders' own failures are not the figure
                phase.sent[channel] += 1

    async def phase(self, name: str, count: int, senders: int, texts: list[str]) -> Phase:
        phase = Phase(name, rss_before=process_tree_rss(self.rasa_pid))
        stop = asyncio.Event()
        load = [
            asyncio.create_task(self.sender(channel, texts, phase, stop))
            for channel in ("web", "line")
            for _ in range(senders if texts else 0)
        ]
        await asyncio.sleep(3 if load else 0)  # let the load build up
        async with httpx.AsyncClient(timeout=120) as client:
            for number in range(count):
                try:
                    phase.latencies.append(
                        await self.web_message(
                            client, RESIDENT[number % len(RESIDENT)], f"resident-{name}"
                        )
                    )
                except httpx.HTTPError:
                    phase.errors += 1
                phase.rss_peak = max(phase.rss_peak, process_tree_rss(self.rasa_pid))
                await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*load)
        phase.rss_after = process_tree_rss(self.rasa_pid)
        phase.rss_peak = max(phase.rss_peak, phase.rss_after)
        return phase

    async def cost_of_each(self, inputs: dict[str, str], repeat: int) -> dict[str, float]:
        """Median /api/chat latency of each hostile text, sent alone on a quiet stack."""
        costs = {}
        async with httpx.AsyncClient(timeout=120) as client:
            for name, text in inputs.items():
                runs = [
                    await self.web_message(client, text, f"cost-{uuid.uuid4().hex}")
                    for _ in range(repeat)
                ]
                costs[name] = statistics.median(runs)
        return costs


async def measure(
    bench: Bench, count: int, senders: int, inputs: dict[str, str]
) -> tuple[list[Phase], dict[str, float]]:
    async with httpx.AsyncClient(timeout=120) as client:
        for text in RESIDENT:  # warm-up, not counted
            await bench.web_message(client, text, "warm-up")
    quiet = await bench.phase("quiet", count, 0, [])
    costs = await bench.cost_of_each(inputs, 3)
    busy = await bench.phase("busy", count, senders, questions(50))
    hostile = await bench.phase("hostile", count, senders, list(inputs.values()))
    return [quiet, busy, hostile], costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=40, help="resident questions per phase")
    parser.add_argument("--senders", type=int, default=2, help="senders per channel")
    args = parser.parse_args()
    inputs = worst_inputs()
    line = FakeLine().start()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        stack = Stack(workdir=workdir, database_url=f"sqlite:///{workdir / 'bench.db'}")
        stack.configure()
        stack.env.update({**line.gateway_env(SECRET), "MADOGUCHI_RATE_LIMIT": "off"})
        stack.train()
        stack.start()
        try:
            phases, costs = asyncio.run(
                measure(Bench(stack, line), args.questions, args.senders, inputs)
            )
        finally:
            stack.stop()
            line.stop()
    mib = 1024 * 1024
    print("hostile inputs (the longest of each kind the gateway accepts), one at a time:")
    print(f"  {'input':26} {'chars':>6} {'NFKC':>6} {'reply_ms':>9}")
    for name, text in inputs.items():
        normalised = len(unicodedata.normalize("NFKC", text))
        print(f"  {name:26} {len(text):>6} {normalised:>6} {costs[name]:>9.0f}")
    print(
        f"\nresident on /api/chat; {args.senders} web and {args.senders} LINE senders "
        "when busy or hostile:"
    )
    print(
        f"  {'phase':8} {'asked':>5} {'p50_ms':>7} {'p95_ms':>7} {'max_ms':>7} {'errors':>6} "
        f"{'sent_web':>8} {'sent_line':>9} {'rasa_mb_before':>14} {'after':>6} {'peak':>6}"
    )
    for phase in phases:
        values = phase.latencies or [float("nan")]
        print(
            f"  {phase.name:8} {len(phase.latencies) + phase.errors:>5} "
            f"{statistics.median(values):>7.0f} {percentile(values, 0.95):>7.0f} "
            f"{max(values):>7.0f} "
            f"{phase.errors:>6} {phase.sent['web']:>8} {phase.sent['line']:>9} "
            f"{phase.rss_before / mib:>14.0f} {phase.rss_after / mib:>6.0f} "
            f"{phase.rss_peak / mib:>6.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
