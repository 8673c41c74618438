"""Plays multi-turn conversations (tests/eval/conversations/*.jsonl) and scores each turn.

A conversation is ``{"id", "lang", "turns": [{"kind", "text" | "tap", "expect"}]}``; see
tests/eval/conversations/README.md. Turns are scored by kind: first turns and follow-ups
by the entry answered, ambiguous first messages by the clarifying question's options.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.faq.corpus import Corpus

KINDS = ("first", "ambiguous", "clarify_reply", "tap", "follow_up", "switch")


@dataclass
class Reply:
    """What the assistant did with one turn, as the runner sees it."""

    outcome: str
    faq_id: str | None = None
    options: list[str] = field(default_factory=list)  # entry ids behind the buttons
    buttons: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0


# Sends (conversation id, text, lang) and returns the assistant's reply.
Send = Callable[[str, str, str], Reply]


def load(path: Path) -> list[dict[str, Any]]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def correct(turn: dict[str, Any], reply: Reply) -> bool:
    expect = turn.get("expect") or {}
    if expect.get("decline"):
        return reply.outcome == "unanswered"
    if "clarify" in expect:
        wanted = set(expect["clarify"])
        return reply.outcome == "clarify" and len(wanted & set(reply.options)) >= min(
            2, len(wanted)
        )
    return reply.outcome == "answered" and reply.faq_id in (expect.get("answer") or [])


def tap_text(corpus: Corpus, previous: Reply | None, entry_id: str, lang: str) -> tuple[str, bool]:
    """The text a tapped button sends, and whether the last reply offered that button. A
    button not offered cannot be tapped: the turn fails, and the resident types the entry's
    question instead so that the conversation goes on."""
    if previous is not None and entry_id in previous.options:
        return previous.buttons[previous.options.index(entry_id)]["payload"], True
    entry = corpus.entries.get(entry_id)
    return (entry.canonical_question(lang) if entry else entry_id), False


@dataclass
class Scores:
    by_kind: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    by_lang: dict[tuple[str, str], list[bool]] = field(default_factory=lambda: defaultdict(list))
    seconds: list[float] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        conversation: dict[str, Any],
        turn: dict[str, Any],
        text: str,
        reply: Reply,
        possible: bool = True,
    ) -> None:
        ok = possible and correct(turn, reply)
        kind = turn["kind"]
        self.by_kind[kind].append(ok)
        self.by_lang[(kind, conversation["lang"])].append(ok)
        self.seconds.append(reply.seconds)
        if not ok:
            self.misses.append(
                {
                    "id": conversation["id"],
                    "kind": kind,
                    "text": text,
                    "expect": turn.get("expect"),
                    "got": {
                        "outcome": reply.outcome,
                        "faq_id": reply.faq_id,
                        "options": reply.options,
                    },
                }
            )

    def summary(self) -> dict[str, Any]:
        def rate(values: list[bool]) -> float | None:
            return round(sum(values) / len(values), 3) if values else None

        langs = sorted({lang for _, lang in self.by_lang})
        ordered = sorted(self.seconds)
        return {
            "turns": sum(len(v) for v in self.by_kind.values()),
            "accuracy": {k: rate(self.by_kind[k]) for k in KINDS if self.by_kind.get(k)},
            "count": {k: len(self.by_kind[k]) for k in KINDS if self.by_kind.get(k)},
            "by_language": {
                kind: {
                    lang: rate(self.by_lang[(kind, lang)])
                    for lang in langs
                    if self.by_lang.get((kind, lang))
                }
                for kind in ("first", "follow_up", "switch")
            },
            "p50_ms": round(1000 * ordered[len(ordered) // 2]) if ordered else None,
            "p95_ms": round(1000 * ordered[int(len(ordered) * 0.95)]) if ordered else None,
        }


def play(conversations: Iterable[dict[str, Any]], send: Send, corpus: Corpus) -> Scores:
    scores = Scores()
    for conversation in conversations:
        previous: Reply | None = None
        for turn in conversation["turns"]:
            lang = conversation["lang"]
            text, possible = turn.get("text", ""), True
            if turn["kind"] == "tap":
                text, possible = tap_text(corpus, previous, turn["tap"], lang)
            started = time.perf_counter()
            reply = send(conversation["id"], text, lang)
            reply.seconds = reply.seconds or time.perf_counter() - started
            scores.add(conversation, turn, text, reply, possible)
            previous = reply
    return scores


def chat_sender(base_url: str, corpus: Corpus, run: str, client: Any) -> Send:
    """Plays turns through the gateway's /api/chat (``client``: an httpx.Client), one session
    per conversation, as a resident of the widget who did not choose a language."""
    by_question = {
        question: entry.id
        for entry in corpus.entries.values()
        for questions in entry.questions.values()
        for question in questions[:1]
    }

    def send(conversation_id: str, text: str, lang: str) -> Reply:
        started = time.perf_counter()
        response = client.post(
            f"{base_url}/api/chat",
            json={"session_id": f"{run}-{conversation_id}", "text": text},
            timeout=60,
        )
        seconds = time.perf_counter() - started
        response.raise_for_status()
        body = response.json()
        messages = body.get("messages") or []
        buttons = [q for m in messages for q in m.get("quick_replies") or []]
        return Reply(
            outcome=body.get("outcome") or "other",
            faq_id=next((m["faq_id"] for m in messages if m.get("faq_id")), None),
            options=[by_question.get(b["payload"], "") for b in buttons],
            buttons=buttons,
            seconds=seconds,
        )

    return send
