"""Hostile input on both residents' channels of the real stack, while a resident keeps asking.

Ten thousand bodies from a seeded generator go to ``POST /api/chat`` and to the LINE webhook
(about half each), sixteen at a time: valid and broken JSON, nesting 10^5 deep, integers of
thousands of digits, lone surrogates (escaped and as raw bytes), every field with the wrong
type, NUL and control characters, combining-mark floods, characters that NFKC makes up to
eighteen times longer (U+FDFA, the U+3300 squares...) at, just past and far past the limits,
very long texts, bytes that are not UTF-8, empty bodies, 200 MB bodies streamed from an async
generator (chunked, or with their length declared), LINE bodies signed but malformed, with
odd fields or of unknown event types, replayed LINE bodies, and LINE bodies with bad
signatures. Meanwhile a resident asks an ordinary question every second on the website.

Bodies whose text reaches Rasa are sent four at a time, each waiting for its answer as a
resident would: the run measures what a message costs, not how many a second one Rasa process
takes. The others keep the other twelve senders busy.

What must hold (outcomes, never timings):

- all the bodies are sent within ``RUN_SECONDS``;
- no response has a status of 500 or more, and no request goes without a response;
- a body past the size limit gets 413 (or 400 for a LINE body without a signature) while
  at most the limit and what the sockets buffer has been sent: the server answers without
  reading it all;
- a LINE body with a bad signature is refused, and none of its events is ever answered;
- a web text that the gateway's own checks accept is answered (200), one they refuse is not;
- every text event from a user in a signed LINE body, as the gateway's own parser reads it,
  is answered through the fake Messaging API (an answer, or "please make it shorter"), and
  no event is answered twice;
- every question of the resident gets a real FAQ answer within ``RESIDENT_WAIT_BOUND``
  seconds (past it the gateway answers 503): the assistant stays available;
- afterwards Rasa still answers 住民票がほしい with the FAQ entry;
- Rasa's memory (the RSS of its process tree) never grows by ``RSS_GROWTH_LIMIT`` or more;
- the three services are still running.

The resident's latencies and Rasa's memory before and after are printed (``-s``), with the
statuses per kind of body. ``MADOGUCHI_FUZZ_SEED`` replays another sequence.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import random
import re
import socket
import statistics
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from linebot.v3.webhooks import MessageEvent, TextMessageContent, UserSource

from bot.gateway.line.events import parse_events
from bot.gateway.resident_text import MAX_CHARS, MAX_TOKENS, TextRejected, check
from tests.fake_line import (
    FakeLine,
    older_format,
    postback_event,
    sign,
    text_event,
    user_event,
)
from tests.stack import Stack, process_tree_rss, running_stack

pytestmark = pytest.mark.rasa

SECRET = "fuzz-channel-secret"
SEED = int(os.environ.get("MADOGUCHI_FUZZ_SEED", "20240611"))
BODIES = 10_000
CONCURRENCY = 16
# Of the sixteen, how many send bodies whose text reaches Rasa. Each of those waits for its
# answer, as a resident does, so that the run tests what a message costs and not how many
# messages a second one Rasa process can take.
RASA_CONCURRENCY = 4
RUN_SECONDS = 1500.0  # the fuzz run stops sending after this, and then fails
REPLY_WAIT = 240.0  # for the answer to one LINE event
RESIDENT_WAIT_BOUND = 10  # seconds: see the stack's MADOGUCHI_RASA_TIMEOUT below
RSS_GROWTH_LIMIT = 1024 * 1024 * 1024  # 1 GiB over the run, at its peak (about 0.2 seen)
CHUNKED_BYTES = 200 * 1024 * 1024
CHUNK = 64 * 1024
# What the sockets may have buffered before the gateway stopped reading (as in test_line).
STREAM_SLACK = 32 * 1024 * 1024
WEB_MAX_BYTES = 64 * 1024
LINE_MAX_BYTES = 1_000_000
LINE_TEXT_LIMIT = 5000  # what LINE itself lets a user type
REPLY = "/v2/bot/message/reply"
PUSH = "/v2/bot/message/push"

RESIDENT_QUESTIONS = [
    "住民票がほしい",
    "マイナンバーカードを失くしました",
    "暗証番号を忘れました",
    "I lost my My Number card. What should I do?",
]

# -- what the generator draws from -----------------------------------------------------------

QUESTIONS = [
    "住民票がほしい",
    "マイナンバーカードを失くしました",
    "引っ越しの手続きを教えて",
    "粗大ごみを出したい",
    "こんにちは",
    "ありがとう",
    "担当者と話したい",
    "明日の天気は？",
    "I lost my card",
    "How do I get a residence certificate?",
    "我想办理住民票",
    "주민표를 발급받고 싶어요",
    "Tôi muốn làm thẻ My Number",
    "言語",
    "住所は桜町1-2-3、電話は090-1234-5678です",
]
SLASH_COMMANDS = [
    "/restart",
    "/session_start",
    "/ask_human",
    "/greet",
    "/nlu_fallback",
    '/faq{"faq_id": "x"}',
    '/greet{"lang": [1]}',
    "/action_answer_faq",
    "/",
    "//",
    "/EXTERNAL_x",
    "/faq{",
    "/greet@0.5",
]
COMBINING_RANGES = [
    (0x0300, 0x036F),
    (0x0483, 0x0489),
    (0x0591, 0x05BD),
    (0x0610, 0x061A),
    (0x1AB0, 0x1ABE),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20F0),
    (0xFE20, 0xFE2F),
    (0x3099, 0x309A),
]
CONTROLS = (
    [chr(c) for c in range(0x20)]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + list("\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202e\u2060\u2066\ufeff\ufffe\uffff")
)
RANDOM_RANGES = [
    (0x20, 0x7E),
    (0xA0, 0x24F),
    (0x370, 0x52F),
    (0x600, 0x6FF),
    (0x3000, 0x30FF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0xE000, 0xF8FF),  # private use
    (0xF900, 0xFFFD),
    (0x1F300, 0x1FAFF),
    (0x20000, 0x2A6DF),
    (0xF0000, 0x10FFFF),
]
UNKNOWN_EVENT_TYPES = [
    "futureThing",
    "beacon",
    "memberJoined",
    "memberLeft",
    "accountLink",
    "things",
    "videoPlayComplete",
    "activated",
    "deactivated",
    "botSuspended",
    "botResumed",
    "membership",
    "leave",
    "unsend",
    "",
    "MESSAGE",
    "\u0000",
    "x" * 5000,
]
NON_TEXT_MESSAGES: dict[str, dict[str, Any]] = {
    "sticker": {"packageId": "1", "stickerId": "1", "stickerResourceType": "STATIC"},
    "image": {"contentProvider": {"type": "line"}},
    "video": {"contentProvider": {"type": "line"}, "duration": 1000},
    "audio": {"contentProvider": {"type": "line"}, "duration": 1000},
    "location": {"title": "t", "address": "a", "latitude": 35.0, "longitude": 139.0},
    "file": {"fileName": "a.pdf", "fileSize": 10},
}
CONTENT_TYPES = [
    "application/json",
    "application/json",
    "application/json",
    "application/json; charset=shift_jis",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    None,
]


def _expanders() -> list[tuple[str, int]]:
    """Every character that NFKC makes three or more characters long, longest first."""
    found = []
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        length = len(unicodedata.normalize("NFKC", chr(code)))
        if length >= 3:
            found.append((chr(code), length))
    return sorted(found, key=lambda item: -item[1])


EXPANDERS = _expanders()
SQUARES = [(chr(c), len(unicodedata.normalize("NFKC", chr(c)))) for c in range(0x3300, 0x3400)]


def wrong_values(rng: random.Random) -> list[Any]:
    """Values of every JSON type but the right one, and some strings that are not right
    either."""
    return [
        None,
        True,
        False,
        0,
        -1,
        2**64,
        10 ** rng.randint(20, 4000),
        1.5,
        1e308,
        -0.0,
        [],
        ["住民票"],
        {},
        {"text": "住民票"},
        "",
        " ",
        "\u0000",
        "x" * rng.choice([129, 1000, 20_000]),
        [[[[["deep"]]]]],
    ]


# -- cases ---------------------------------------------------------------------------------


@dataclass
class Case:
    number: int
    channel: str  # "web" or "line"
    kind: str
    body: bytes = b""
    headers: dict[str, Any] = field(default_factory=dict)
    stream_bytes: int = 0  # > 0: this many bytes, streamed in chunks, instead of body
    heavy: bool = False  # near or past a size limit: sent one at a time
    verdict: str | None = None  # web: what the gateway should do with the text
    # LINE: (reply token, user) of the text events that must be answered, and of those
    # that reach Rasa (the others are answered "please make it shorter").
    answer: list[tuple[str, str]] = field(default_factory=list)
    rasa: list[tuple[str, str]] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)  # tokens never to be answered


@dataclass
class Result:
    case: Case
    status: int | None
    error: str | None = None
    pulled: int = 0  # streamed bodies: bytes sent when the answer came


def verdict(text: str) -> str:
    """What the gateway does with a text that reaches it: "ok" (on to Rasa), "too_long" or
    "empty": the checks of resident_text.prepare, without its redaction (which changes
    nothing about them and would make generating the bodies slow)."""
    try:
        check(text)
    except TextRejected as refused:
        return refused.reason
    return "ok"


def has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def line_text_events(body: bytes) -> list[tuple[MessageEvent, str]]:
    """The text messages from users in a LINE webhook body, as the gateway reads it (with
    its own parser), each with what the gateway does with its text (see ``verdict``)."""
    try:
        events = parse_events(body.decode("utf-8"))
    except Exception:  # not UTF-8, not a webhook body: refused as a whole
        return []
    found = []
    for event in events:
        if (
            isinstance(event, MessageEvent)
            and isinstance(event.message, TextMessageContent)
            and isinstance(event.source, UserSource)
            and isinstance(event.source.user_id, str)
            and event.source.user_id
        ):
            found.append((event, verdict(event.message.text or "")))
    return found


FRESH_EVENT_ID = re.compile(r"[0-9a-f]{32}|older-[0-9a-f]{40}")
FRESH_TOKEN = re.compile(r"[0-9a-f]{32}")  # as tests.fake_line makes them, one per event


def ordinary(event: MessageEvent) -> bool:
    """Whether a text event is one LINE could send, apart from its text: the fuzz's odd
    fields (lone surrogates in ids, shared or made-up event ids, a timestamp of 4,000
    digits, standby mode) make others that the gateway may drop, which is not checked."""
    ids = event.source.user_id + (event.reply_token or "") + (event.webhook_event_id or "")
    return (
        not has_surrogate(ids)
        and FRESH_EVENT_ID.fullmatch(event.webhook_event_id or "") is not None
        and type(event.timestamp) is int
        and abs(event.timestamp) < 10**15
        and str(getattr(event.mode, "value", event.mode)) == "active"
    )


class Fuzzer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.signed_text_bodies: list[bytes] = []

    # -- texts ---------------------------------------------------------------------------

    def text(self, max_chars: int) -> str:
        makers: list[tuple[Callable[[int], str], float]] = [
            (self.question, 1),
            (self.ligatures, 4),
            (self.combining, 3),
            (self.tokens, 3),
            (self.controls, 1.5),
            (self.surrogates, 1),
            (self.long_text, 2),
            (self.random_text, 2),
            (self.slash, 0.5),
            (self.blank, 0.5),
        ]
        maker = self.rng.choices([m for m, _ in makers], [w for _, w in makers])[0]
        text = maker(max_chars)
        if self.rng.random() < 0.1:
            text = self.question(max_chars) + self.rng.choice(["", " ", "\n"]) + text
        return text

    def question(self, max_chars: int) -> str:
        return self.rng.choice(QUESTIONS)

    def ligatures(self, max_chars: int) -> str:
        """Characters NFKC makes long, as many as just fit the limits, one or two more, or
        far more."""
        r = self.rng
        char, length = r.choice(
            [r.choice(EXPANDERS[:12]), r.choice(EXPANDERS), r.choice(SQUARES), ("\ufdfa", 18)]
        )
        fits = max(1, MAX_CHARS // length)
        count = r.choice(
            [
                fits,
                fits + 1,
                fits - 1,
                r.randint(1, fits),
                r.randint(fits, 3 * fits),
                r.randint(1, max_chars),
                MAX_TOKENS // max(1, len(unicodedata.normalize("NFKC", char).split())),
            ]
        )
        count = max(1, min(count, max_chars))
        if r.random() < 0.3:  # mixed with ordinary words
            return "".join(r.choice([char, char, "住民票", " ", "a"]) for _ in range(count))
        return char * count

    def combining(self, max_chars: int) -> str:
        r = self.rng
        mode = r.randrange(5)
        if mode == 0:  # one letter, thousands of accents
            return r.choice(["a", "e", "あ", "住", "Z"]) + r.choice(
                ["\u0301", "\u0300", "\u3099", "\u20dd"]
            ) * r.randint(1, max_chars - 1)
        if mode == 1:  # Zalgo: every letter with a random pile of marks
            out = []
            while len(out) < max_chars:
                out.append(r.choice("住民票がほしいabcxyz"))
                out.extend(self._mark() for _ in range(r.choice([0, 1, 2, 3, 10, 50, 300])))
            return "".join(out[:max_chars])
        if mode == 2:  # marks with nothing to sit on
            return "".join(self._mark() for _ in range(r.randint(1, max_chars)))
        if mode == 3:  # half-width kana and sound marks, which NFKC composes
            return ("ｶ" + "ﾞ" * r.randint(1, 40)) * r.randint(1, max(1, max_chars // 41))
        # just at the limit: letters with at most two marks each
        letters = r.randint(MAX_CHARS // 3 - 5, MAX_CHARS // 3 + 5)
        return "".join(
            r.choice("aeiou") + "".join(self._mark() for _ in range(r.randint(1, 2)))
            for _ in range(letters)
        )[:max_chars]

    def _mark(self) -> str:
        low, high = self.rng.choice(COMBINING_RANGES)
        return chr(self.rng.randint(low, high))

    def tokens(self, max_chars: int) -> str:
        """About as many words as the token limit allows, in several scripts."""
        r = self.rng
        count = r.choice(
            [MAX_TOKENS, MAX_TOKENS - 1, MAX_TOKENS + 1, r.randint(MAX_TOKENS - 50, 2 * MAX_TOKENS)]
        )
        unit = r.choice(["字", "ab ", "1 ", "가 ", "🍣", "。", "ｱ", "x", "Ab1 ", "é ", "ﾞ"])
        if r.random() < 0.3:
            return "".join(r.choice(["字", "ab ", "1 ", "가 ", "🍣", "。"]) for _ in range(count))
        return (unit * count)[:max_chars]

    def controls(self, max_chars: int) -> str:
        r = self.rng
        out = [r.choice(CONTROLS) for _ in range(r.randint(1, 200))]
        if r.random() < 0.7:
            words = list(r.choice(QUESTIONS))
            for char in out:
                words.insert(r.randint(0, len(words)), char)
            out = words
        return "".join(out)[:max_chars]

    def surrogates(self, max_chars: int) -> str:
        r = self.rng
        text = list(r.choice(QUESTIONS))
        for _ in range(r.randint(1, 5)):
            text.insert(r.randint(0, len(text)), chr(r.randint(0xD800, 0xDFFF)))
        return "".join(text)

    def long_text(self, max_chars: int) -> str:
        r = self.rng
        count = r.choice(
            [MAX_CHARS, MAX_CHARS + 1, r.randint(MAX_CHARS, max(MAX_CHARS, max_chars))]
        )
        unit = r.choice(["あ", "住民票がほしい。", "a", "🍣", " ", "\u3000", "あ\n"])
        return (unit * count)[: min(count, max_chars)]

    def random_text(self, max_chars: int) -> str:
        r = self.rng
        length = r.choice([1, 10, 100, r.randint(1, max_chars)])
        out = []
        for _ in range(length):
            low, high = r.choice(RANDOM_RANGES)
            out.append(chr(r.randint(low, high)))
        return "".join(out)

    def slash(self, max_chars: int) -> str:
        return self.rng.choice(SLASH_COMMANDS)

    def blank(self, max_chars: int) -> str:
        return self.rng.choice(["", " ", "\u3000" * 50, "\n\t", "\u200b", "\u0000", " " * 3000])

    # -- encodings -----------------------------------------------------------------------

    def encode(self, value: Any) -> bytes:
        """JSON, escaped or raw UTF-8; lone surrogates then become raw (invalid) bytes."""
        if self.rng.random() < 0.5:
            return json.dumps(value).encode()
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")

    def nested(self) -> bytes:
        r = self.rng
        depth = r.choice([10, 500, 990, 2000, 10_000, 60_000, 100_000])
        shape = r.randrange(4)
        if shape == 0:
            return b"[" * depth + b"]" * depth
        if shape == 1:
            return b'{"a":' * depth + b"1" + b"}" * depth
        if shape == 2:
            return b"[" * depth  # never closed
        inner = b"[" * depth + b"]" * depth
        return b'{"session_id":"s","text":' + inner + b',"events":' + inner + b"}"

    def number(self) -> bytes:
        r = self.rng
        return r.choice(
            [
                b"9" * r.randint(4000, 60_000),
                b"-" + b"1" * r.randint(4300, 5000),
                b"1e400",
                b"-1e400",
                b"1e-400",
                b"NaN",
                b"Infinity",
                b"-Infinity",
                b"1" + b"0" * r.randint(100, 20_000) + b".5",
                b"0." + b"1" * r.randint(1000, 20_000),
                b"1e99999999999999999999",
            ]
        )

    def mutate(self, body: bytes) -> bytes:
        r = self.rng
        data = bytearray(body)
        for _ in range(r.randint(1, 8)):
            how = r.randrange(5)
            if how == 0 and data:
                data[r.randrange(len(data))] = r.getrandbits(8)
            elif how == 1:
                del data[r.randrange(len(data) + 1) :]
            elif how == 2:
                at = r.randrange(len(data) + 1)
                data[at:at] = bytes(r.getrandbits(8) for _ in range(r.randint(1, 8)))
            elif how == 3:
                at = r.randrange(len(data) + 1)
                data[at:at] = r.choice(
                    [b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xff", b"\x00", b"\\u"]
                )
            else:
                data += r.choice([b"}", b"]", b",", b"garbage", b"\x00", b" " * 10])
        return bytes(data)

    def raw_bytes(self, value: Any) -> bytes:
        """Bytes that are not the UTF-8 JSON the endpoint wants."""
        r = self.rng
        text = json.dumps(value, ensure_ascii=False)
        choice = r.randrange(7)
        if choice == 0:
            return bytes(r.getrandbits(8) for _ in range(r.randint(0, 300)))
        if choice == 1:
            return text.encode("utf-16", "surrogatepass")
        if choice == 2:
            return text.encode("cp932", "replace")
        if choice == 3:
            return text.encode("latin-1", "replace") + b"\xe9\xff"
        if choice == 4:
            return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
        if choice == 5:
            return text.encode("utf-32", "surrogatepass")
        return self.mutate(text.encode("utf-8", "surrogatepass"))

    # -- web bodies ----------------------------------------------------------------------

    def session_id(self) -> str:
        r = self.rng
        return r.choice(
            [
                "fuzz-" + uuid.UUID(int=r.getrandbits(128)).hex,
                "s" * 128,
                "\u0000",
                "住民" * 64,
                "🍣" * 100,
            ]
        )

    def web(self, number: int) -> Case:
        r = self.rng
        case = Case(number, "web", "", headers={"Content-Type": "application/json"})
        kind = r.choices(
            ["valid", "types", "nesting", "numbers", "bytes", "empty", "not_object", "big"],
            [10, 20, 8, 8, 16, 4, 6, 3],
        )[0]
        case.kind = kind
        if kind == "valid":
            text = self.text(20_000)
            body: dict[str, Any] = {"session_id": self.session_id(), "text": text}
            if r.random() < 0.4:
                body["lang"] = r.choice(["ja", "en", "zh", "ko", "vi", "pt", None])
            case.body = self.encode(body)
            if has_surrogate(text):
                case.verdict = "refused"  # escaped: the JSON parser refuses; raw: not UTF-8
            elif len(case.body) > WEB_MAX_BYTES:
                case.verdict = "too_long"
            else:
                case.verdict = verdict(text)
        elif kind == "types":
            fields: dict[str, Any] = {"session_id": "fuzz", "text": "住民票がほしい", "lang": "ja"}
            for name in r.sample(list(fields), r.randint(1, 3)):
                if r.random() < 0.2:
                    del fields[name]
                else:
                    fields[name] = r.choice(wrong_values(r))
            if r.random() < 0.2:
                fields[r.choice(["extra", "", "\u0000", "text "])] = r.choice(wrong_values(r))
            case.body = self.encode(fields)
            if r.random() < 0.2:  # the same key twice
                case.body = case.body[:-1] + b', "text": ' + self.encode(self.text(100)) + b"}"
        elif kind == "nesting":
            case.body = self.nested()
        elif kind == "numbers":
            number_bytes = self.number()
            place = r.randrange(4)
            if place == 0:
                case.body = number_bytes
            else:
                name = ["session_id", "text", "lang"][place - 1]
                case.body = (
                    b'{"session_id":"s","text":"t",'
                    + b'"'
                    + name.encode()
                    + b'":'
                    + number_bytes
                    + b"}"
                )
        elif kind == "bytes":
            case.body = self.raw_bytes({"session_id": "s", "text": self.text(500)})
        elif kind == "empty":
            case.body = r.choice([b"", b" ", b"null", b"{}", b'""', b"0", b"\n"])
        elif kind == "not_object":
            case.body = self.encode(
                r.choice([[1, 2], "住民票", 5, True, None, [{"session_id": "s", "text": "t"}]])
            )
        else:  # big: just under and just over the size limit
            case.heavy = True
            filler = r.choice(["\ufdfa", "あ", "a", "\u0301", "𠀋"])
            room = (WEB_MAX_BYTES - 40) // len(filler.encode()) + r.choice([-2, 0, 2, 100])
            text = "a" + filler * room if filler == "\u0301" else filler * room
            case.body = json.dumps({"session_id": "s", "text": text}, ensure_ascii=False).encode()
        if r.random() < 0.08:
            content_type = r.choice(CONTENT_TYPES)
            if content_type is None:
                case.headers.pop("Content-Type")
            else:
                case.headers["Content-Type"] = content_type
        if r.random() < 0.04 and kind not in ("valid", "big"):
            case.body = self.mutate(case.body)
        return case

    # -- LINE bodies -----------------------------------------------------------------------

    def user(self) -> str:
        return "U" + uuid.UUID(int=self.rng.getrandbits(128)).hex

    def line_text_event(self, text: str) -> dict[str, Any]:
        r = self.rng
        user = self.user()
        options: dict[str, Any] = {}
        if r.random() < 0.05:
            options["age_seconds"] = 120  # too old to reply to: pushed instead
        if r.random() < 0.05:
            options["redelivery"] = True
        group = r.random() < 0.04
        if group:
            options["source_type"] = "group"
        event = text_event(text, user=user, **options)
        if r.random() < 0.15:
            event = older_format(event)
        return event

    def other_event(self) -> dict[str, Any]:
        r = self.rng
        user = self.user()
        choice = r.randrange(7)
        if choice == 0:
            return user_event(r.choice(UNKNOWN_EVENT_TYPES), user, {"futureThing": {"x": 1}})
        if choice == 1:
            kind = r.choice(list(NON_TEXT_MESSAGES))
            message = {"type": kind, "id": uuid.uuid4().hex, **NON_TEXT_MESSAGES[kind]}
            return user_event("message", user, {"message": message})
        if choice == 2:
            message = {"type": r.choice(["text2", "", "flex", "TEXT"]), "id": "1", "text": "x"}
            return user_event("message", user, {"message": message})
        if choice == 3:
            data = r.choice(
                [
                    "feedback=yes&faq=no-such",
                    "lang=xx",
                    "lang=en",
                    "%%%",
                    "a=" + "b" * 5000,
                    "feedback=no&faq=" + "\u0000",
                    "",
                ]
            )
            return postback_event(user, data)
        if choice == 4:
            return user_event(r.choice(["follow", "unfollow", "join"]), user)
        if choice == 5:
            return user_event("follow", user, source_type="group")
        return {"type": "message"}  # nothing else at all

    def mutated_event(self) -> dict[str, Any]:
        r = self.rng
        event: dict[str, Any] = text_event(self.text(200), user=self.user())
        for _ in range(r.randint(1, 3)):
            name = r.choice(
                [
                    "timestamp",
                    "source",
                    "message",
                    "replyToken",
                    "webhookEventId",
                    "deliveryContext",
                    "mode",
                    "type",
                    "message.text",
                    "message.type",
                    "message.id",
                    "source.userId",
                    "source.type",
                ]
            )
            value = r.choice(
                [
                    *wrong_values(r),
                    "x",
                    "standby",
                    -(2**70),
                    float("nan"),
                    float("inf"),
                    {"isRedelivery": "yes"},
                    {"type": "user"},
                    {"type": "text"},
                ]
            )
            if "." in name:
                outer, inner = name.split(".")
                if isinstance(event.get(outer), dict):
                    event[outer][inner] = value
            elif r.random() < 0.15:
                event.pop(name, None)
            else:
                event[name] = value
        return event

    def line_body(self, case: Case) -> bytes:
        r = self.rng
        kind = r.choices(
            [
                "text",
                "other_events",
                "wrong_types",
                "malformed",
                "nesting",
                "numbers",
                "bytes",
                "surrogates",
                "big",
            ],
            [8, 14, 8, 8, 4, 4, 8, 4, 0.4],
        )[0]
        case.kind = kind
        destination = "U" + "f" * 32
        if kind == "text":
            count = r.choices([1, 2, 3, 5], [80, 12, 6, 2])[0]
            limit = r.choice([LINE_TEXT_LIMIT] * 9 + [50_000])
            events = [self.line_text_event(self.text(limit)) for _ in range(count)]
            if r.random() < 0.1:
                events.append(self.other_event())
            return self.encode({"destination": destination, "events": events})
        if kind == "other_events":
            events = [self.other_event() for _ in range(r.randint(1, 5))]
            return self.encode({"destination": destination, "events": events})
        if kind == "wrong_types":
            events = [self.mutated_event() for _ in range(r.randint(1, 3))]
            return self.encode({"destination": destination, "events": events})
        if kind == "malformed":
            return self.encode(
                r.choice(
                    [
                        {"destination": destination},
                        {"events": None},
                        {"events": 5},
                        {"events": "x"},
                        {"events": {"0": {}}},
                        {"events": [1, "x", None, [], True]},
                        {"events": [{}]},
                        [],
                        "events",
                        None,
                        {"destination": destination, "events": [{"type": "message"}] * 50},
                    ]
                )
            )
        if kind == "nesting":
            return self.nested()
        if kind == "numbers":
            event = text_event("住民票", user=self.user())
            raw = json.dumps({"destination": destination, "events": [event]}).encode()
            where = r.choice([b'"timestamp": ', b'"destination": '])
            head, _, tail = raw.partition(where)
            rest = tail.split(b",", 1)[1] if b"," in tail else b"}"
            return head + where + self.number() + b"," + rest
        if kind == "bytes":
            event = text_event(self.text(200), user=self.user())
            return self.raw_bytes({"destination": destination, "events": [event]})
        if kind == "surrogates":
            event = text_event("住民票がほしい", user=self.user())
            field_name = r.choice(["text", "userId", "replyToken", "type", "webhookEventId"])
            lone = chr(r.randint(0xD800, 0xDFFF))
            if field_name == "text":
                event["message"]["text"] += lone
            elif field_name == "userId":
                event["source"]["userId"] += lone
            else:
                event[field_name] = str(event.get(field_name, "")) + lone
            return self.encode({"destination": destination, "events": [event]})
        # big: texts far past what LINE lets anyone type, up to the body limit and past it
        case.heavy = True
        filler = r.choice(["\ufdfa", "あ", "\u0301", "\u3300", "a"])
        size = r.choice([20_000, 100_000, (LINE_MAX_BYTES - 400) // len(filler.encode())])
        size += r.choice([0, 0, 1000])
        text = filler * size
        event = self.line_text_event(text)
        return json.dumps(
            {"destination": destination, "events": [event]}, ensure_ascii=False
        ).encode()

    def line(self, number: int) -> Case:
        r = self.rng
        case = Case(number, "line", "")
        if self.signed_text_bodies and r.random() < 0.02:
            case.kind = "replay"
            case.body = r.choice(self.signed_text_bodies)
            case.headers = {
                "Content-Type": "application/json",
                "X-Line-Signature": sign(case.body, SECRET),
            }
            return case
        case.body = self.line_body(case)
        case.headers = {"Content-Type": "application/json"}
        signature = r.choices(["good", "bad"], [78, 22])[0]
        text_events = line_text_events(case.body)
        if signature == "good":
            case.headers["X-Line-Signature"] = sign(case.body, SECRET)
            if case.kind == "text" and len(self.signed_text_bodies) < 100:
                self.signed_text_bodies.append(case.body)
            for event, outcome in text_events:
                pair = (event.reply_token or "", event.source.user_id)
                if outcome != "empty" and ordinary(event):
                    case.answer.append(pair)
                    if outcome == "ok":
                        case.rasa.append(pair)
        else:
            case.kind = "bad_signature/" + case.kind
            case.forbidden = [
                e.reply_token for e, _ in text_events if FRESH_TOKEN.fullmatch(e.reply_token or "")
            ]
            case.headers["X-Line-Signature"] = r.choice(
                [
                    "",
                    "bm90IHRoZSBzaWduYXR1cmU=",
                    base64.b64encode(r.randbytes(32)).decode(),
                    sign(case.body, "another-secret"),
                    sign(case.body + b" ", SECRET),
                    sign(b"{}", SECRET),
                    "not base64 !!!",
                    "=" * 44,
                    b"\xff\xfe",
                    sign(case.body, SECRET) + "=",
                ]
            )
            if r.random() < 0.1:
                del case.headers["X-Line-Signature"]
        return case

    # -- the sequence --------------------------------------------------------------------

    def chunked(self, number: int) -> Case:
        channel = "web" if number % 2 else "line"
        case = Case(number, channel, "chunked", stream_bytes=CHUNKED_BYTES, heavy=True)
        if channel == "line":
            case.headers = {"X-Line-Signature": self.rng.choice(["c2ln", sign(b"x", SECRET)])}
        if number % 4 >= 2:  # declared, rather than chunked
            case.kind = "declared_huge"
            case.headers["Content-Length"] = str(CHUNKED_BYTES)
        return case

    def cases(self, total: int) -> Iterator[Case]:
        chunked_at = set(self.rng.sample(range(100, total - 100), 6))
        for number in range(total):
            if number in chunked_at:
                yield self.chunked(number)
            elif self.rng.random() < 0.5:
                yield self.web(number)
            else:
                yield self.line(number)


# -- measuring -------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Replies:
    """What the fake Messaging API received, indexed by reply token and pushed-to user."""

    def __init__(self, line: FakeLine) -> None:
        self.line = line
        self.cursor = 0
        self.tokens: Counter[str] = Counter()
        self.pushed: set[str] = set()

    def update(self) -> None:
        received = self.line.received
        while self.cursor < len(received):
            request = received[self.cursor]
            self.cursor += 1
            if request.path == REPLY:
                self.tokens[str(request.body.get("replyToken"))] += 1
            elif request.path == PUSH:
                self.pushed.add(str(request.body.get("to")))

    def answered(self, token: str, user: str) -> bool:
        self.update()
        return self.tokens[token] > 0 or user in self.pushed

    async def wait(self, pairs: list[tuple[str, str]], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(self.answered(t, u) for t, u in pairs):
            await asyncio.sleep(0.1)


@dataclass
class Resident:
    """Asks an ordinary question every second on the website and keeps what it got."""

    url: str
    turns: list[tuple[str, int | None, float, bool, str]] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=120) as client:
            number = 0
            while not stop.is_set():
                question = RESIDENT_QUESTIONS[number % len(RESIDENT_QUESTIONS)]
                session = f"resident-{number // 10}"
                number += 1
                started = time.perf_counter()
                status, real, detail = None, False, ""
                try:
                    response = await client.post(
                        f"{self.url}/api/chat", json={"session_id": session, "text": question}
                    )
                    status, detail = response.status_code, response.text[:200]
                    if status == 200:
                        real = any(m.get("faq_id") for m in response.json()["messages"])
                except httpx.HTTPError as exc:
                    detail = repr(exc)
                self.turns.append((question, status, time.perf_counter() - started, real, detail))
                with_pause = asyncio.create_task(stop.wait())
                await asyncio.wait({with_pause}, timeout=1.0)
                with_pause.cancel()


def oversized(case: Case) -> bool:
    limit = WEB_MAX_BYTES if case.channel == "web" else LINE_MAX_BYTES
    return case.stream_bytes > 0 or len(case.body) > limit


async def send(client: httpx.AsyncClient, gateway: str, case: Case) -> Result:
    if oversized(case):  # refused before it is read
        return await stream(gateway, case)
    url = gateway + ("/api/chat" if case.channel == "web" else "/webhooks/line")
    try:
        response = await client.post(url, content=case.body, headers=case.headers)
    except httpx.HTTPError as exc:
        return Result(case, None, f"{type(exc).__name__}: {exc}")
    return Result(case, response.status_code)


async def stream(gateway: str, case: Case) -> Result:
    """Send a body past the size limit from an async generator, on a socket of its own,
    reading the answer while still sending: the server must answer before it has it all.
    ``Result.pulled`` is how much was sent when the answer came.

    (httpx reads the answer only once it has sent everything; when the server refuses and
    closes the connection early, as it should, the unread answer is lost with it.)
    """
    url = httpx.URL(gateway)
    path = "/api/chat" if case.channel == "web" else "/webhooks/line"
    total = case.stream_bytes or len(case.body)
    chunked = bool(case.stream_bytes) and "Content-Length" not in case.headers
    headers = {"Host": f"{url.host}:{url.port}", "Content-Type": "application/json"}
    headers.update(case.headers)
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers.setdefault("Content-Length", str(total))
    head = f"POST {path} HTTP/1.1\r\n".encode()
    for name, value in headers.items():
        head += name.encode() + b": " + (value if isinstance(value, bytes) else value.encode())
        head += b"\r\n"

    async def blocks() -> AsyncIterator[bytes]:
        for start in range(0, total, CHUNK):
            size = min(CHUNK, total - start)
            block = case.body[start : start + size] if case.body else b"x" * size
            yield b"%x\r\n%s\r\n" % (size, block) if chunked else block
        if chunked:
            yield b"0\r\n\r\n"

    loop = asyncio.get_running_loop()
    sock = socket.create_connection((url.host, url.port))
    sock.setblocking(False)
    received = b""

    async def read_answer() -> None:
        nonlocal received
        with contextlib.suppress(OSError):  # a reset after the answer: the answer counts
            while b"\r\n" not in received:
                data = await loop.sock_recv(sock, 65536)
                if not data:
                    return
                received += data

    reading = asyncio.ensure_future(read_answer())
    sent = 0
    try:
        await loop.sock_sendall(sock, head + b"\r\n")
        async for block in blocks():
            if reading.done():
                break
            await loop.sock_sendall(sock, block)
            sent += len(block)
    except OSError:  # the server closed the connection; its answer may have come first
        pass
    try:
        await asyncio.wait_for(reading, 120)
        return Result(case, int(received.split(b"\r\n", 1)[0].split()[1]), pulled=sent)
    except (asyncio.TimeoutError, ValueError, IndexError):
        return Result(case, None, f"no answer: {received[:80]!r}", sent)
    finally:
        reading.cancel()
        sock.close()


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    started: float = 0.0
    seconds: float = 0.0
    sent: int = 0
    rss_peak: int = 0


async def fuzz(stack: Stack, replies: Replies, resident: Resident, rasa_pid: int) -> Run:
    run = Run(started=time.monotonic())
    fuzzer = Fuzzer(SEED)
    cases = fuzzer.cases(BODIES)
    fast: asyncio.Queue[Case | None] = asyncio.Queue(maxsize=64)
    slow: asyncio.Queue[Case | None] = asyncio.Queue(maxsize=8)
    heavy = asyncio.Semaphore(1)
    stop = asyncio.Event()

    async def worker(queue: asyncio.Queue[Case | None], client: httpx.AsyncClient) -> None:
        while (case := await queue.get()) is not None:
            if case.heavy:
                async with heavy:
                    result = await send(client, stack.gateway_url, case)
            else:
                result = await send(client, stack.gateway_url, case)
            run.results.append(result)
            if case.rasa and result.status == 200:  # wait for the answers, as residents do
                await replies.wait(case.rasa, REPLY_WAIT)

    async def dispatch() -> None:
        deadline = run.started + RUN_SECONDS
        while time.monotonic() < deadline:
            case = await asyncio.to_thread(next, cases, None)
            if case is None:
                break
            reaches_rasa = bool(case.rasa) or case.verdict == "ok"
            await (slow if reaches_rasa else fast).put(case)
            run.sent += 1
        for _ in range(CONCURRENCY - RASA_CONCURRENCY):
            await fast.put(None)
        for _ in range(RASA_CONCURRENCY):
            await slow.put(None)

    async def watch_memory() -> None:
        for second in itertools.count():
            if stop.is_set():
                return
            run.rss_peak = max(run.rss_peak, process_tree_rss(rasa_pid))
            if second % 30 == 29:  # progress, for -s
                print(
                    f"  {second + 1} s: {len(run.results)} bodies answered, "
                    f"resident asked {len(resident.turns)}, "
                    f"Rasa RSS peak {run.rss_peak / 2**20:.0f} MiB",
                    flush=True,
                )
            await asyncio.sleep(1.0)

    # A connection idle for 2 s is not reused: the gateway closes idle ones after 5 s, and
    # a request crossing that close is lost. One lost otherwise means the gateway was stuck.
    limits = httpx.Limits(max_connections=CONCURRENCY * 2, keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(120, connect=30), limits=limits) as client:
        resident_task = asyncio.create_task(resident.run(stop))
        memory_task = asyncio.create_task(watch_memory())
        workers = [
            *(worker(fast, client) for _ in range(CONCURRENCY - RASA_CONCURRENCY)),
            *(worker(slow, client) for _ in range(RASA_CONCURRENCY)),
        ]
        await asyncio.gather(dispatch(), *workers)
        run.seconds = time.monotonic() - run.started
        # The resident keeps asking while the last LINE events are handled.
        expected = [pair for r in run.results if r.status == 200 for pair in r.case.answer]
        await replies.wait(expected, REPLY_WAIT)
        stop.set()
        await asyncio.gather(resident_task, memory_task)
    return run


# -- the test --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, line: FakeLine) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("fuzz-stack")
    # The bound on a resident's wait: the gateway gives up on Rasa after this many seconds
    # and answers 503, which fails the run. Usually a reply takes 0.15 s.
    env = {
        **line.gateway_env(SECRET),
        "MADOGUCHI_RATE_LIMIT": "off",
        "MADOGUCHI_RASA_TIMEOUT": str(RESIDENT_WAIT_BOUND),
    }
    with running_stack(workdir, **env) as stack:
        yield stack


def quiet(line: FakeLine, seconds: float = 5.0, timeout: float = 120.0) -> None:
    """Wait until the fake Messaging API has received nothing for ``seconds``."""
    deadline = time.monotonic() + timeout
    count, since = len(line.received), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if len(line.received) != count:
            count, since = len(line.received), time.monotonic()
        elif time.monotonic() - since >= seconds:
            return


def describe(result: Result) -> str:
    case = result.case
    shown = f"{case.stream_bytes} streamed bytes" if case.stream_bytes else repr(case.body[:160])
    outcome = result.error or result.status
    return f"#{case.number} {case.channel}/{case.kind} -> {outcome}: {shown}"


@pytest.mark.timeout(3600)
def test_hostile_input_on_both_channels_leaves_the_assistant_available(
    stack: Stack, line: FakeLine
) -> None:
    rasa_pid = stack.processes["rasa"].pid  # `madoguchi serve rasa` execs Rasa
    for question in RESIDENT_QUESTIONS:  # warm up: everything loaded before measuring
        stack.chat(question, session_id="warm-up")
    rss_before = process_tree_rss(rasa_pid)

    replies = Replies(line)
    resident = Resident(stack.gateway_url)
    run = asyncio.run(fuzz(stack, replies, resident, rasa_pid))
    quiet(line)
    replies.update()
    rss_after = process_tree_rss(rasa_pid)
    run.rss_peak = max(run.rss_peak, rss_after)

    final = httpx.post(
        f"{stack.gateway_url}/api/chat",
        json={"session_id": "after-the-fuzz", "text": "住民票がほしい"},
        timeout=120,
    )

    # -- what happened ------------------------------------------------------------------
    results = run.results
    statuses = Counter((r.case.channel, r.case.kind.split("/")[0], r.status) for r in results)
    latencies = [turn[2] * 1000 for turn in resident.turns]
    mib = 1024 * 1024
    print(f"\nseed {SEED}: {len(results)} bodies in {run.seconds:.0f} s")
    for (channel, kind, status), count in sorted(statuses.items(), key=str):
        print(f"  {channel:4} {kind:16} {status!s:>5} x {count}")
    print(
        f"resident: {len(resident.turns)} questions, p50 {statistics.median(latencies):.0f} ms, "
        f"p95 {percentile(latencies, 0.95):.0f} ms, max {max(latencies):.0f} ms"
    )
    print(
        f"Rasa RSS: before {rss_before / mib:.0f} MiB, peak {run.rss_peak / mib:.0f} MiB, "
        f"after {rss_after / mib:.0f} MiB"
    )
    expected = [(r.case, pair) for r in results if r.status == 200 for pair in r.case.answer]
    print(
        f"LINE: {len(expected)} text events to answer, "
        f"{sum(len(r.case.rasa) for r in results if r.status == 200)} of them through Rasa; "
        f"the fake API received {len(line.received)} requests"
    )

    # -- what must hold -----------------------------------------------------------------
    problems: list[str] = []

    def check(failures: list[str], what: str) -> None:
        if failures:
            problems.append(f"{what} ({len(failures)}):\n    " + "\n    ".join(failures[:12]))

    check(
        [f"sent {run.sent} of {BODIES} bodies in {RUN_SECONDS:.0f} s"] if run.sent < BODIES else [],
        "the run did not finish",
    )
    check([describe(r) for r in results if r.status and r.status >= 500], "server errors")
    check(
        [describe(r) for r in results if r.status is None and not oversized(r.case)],
        "requests without a response (connection reset or closed)",
    )
    check(
        [
            describe(r) + f" after {r.pulled} bytes"
            for r in results
            if oversized(r.case)
            and (
                r.pulled > LINE_MAX_BYTES + STREAM_SLACK
                # 413; a LINE body without a signature may be refused for that first
                or (r.status != 413 and not (r.status == 400 and r.case.kind.startswith("bad")))
            )
        ],
        "bodies past the size limit not refused with 413 before being read",
    )
    check(
        [
            describe(r)
            for r in results
            if r.case.kind.startswith("bad_signature") and r.status == 200
        ],
        "bodies with a bad signature accepted",
    )
    check(
        [token for r in results for token in r.case.forbidden if replies.tokens[token]],
        "events of bodies with a bad signature answered",
    )
    check(
        [
            describe(r) + f" (the gateway's own check says {r.case.verdict})"
            for r in results
            if r.case.verdict
            and r.status is not None
            and (r.status == 200) != (r.case.verdict == "ok")
        ],
        "web texts not handled as the gateway's limits say",
    )
    check(
        [
            f"#{case.number} line/{case.kind} token {token} ({len(case.body)} bytes)"
            for case, (token, user) in expected
            if not replies.answered(token, user)
        ],
        "signed LINE text events never answered",
    )
    check(
        [
            f"token {token} answered {n} times"
            for token, n in replies.tokens.items()
            if n > 1 and FRESH_TOKEN.fullmatch(token)  # the fuzz makes up tokens like "x"
        ],
        "LINE events answered more than once",
    )
    check(
        [
            f"{question!r} -> {status}: {detail}"
            for question, status, _, real, detail in resident.turns
            if status != 200 or not real
        ],
        "resident questions without a real answer",
    )
    check(
        []
        if final.status_code == 200
        and any(m.get("faq_id") for m in final.json()["messages"])
        and "住民票" in final.text
        else [f"{final.status_code}: {final.text[:300]}"],
        "住民票がほしい not answered with the FAQ after the run",
    )
    check(
        [
            f"grew by {(run.rss_peak - rss_before) / mib:.0f} MiB "
            f"(limit {RSS_GROWTH_LIMIT / mib:.0f} MiB)"
        ]
        if run.rss_peak - rss_before >= RSS_GROWTH_LIMIT
        else [],
        "Rasa's memory",
    )
    check(
        [name for name, process in stack.processes.items() if process.poll() is not None],
        "services that exited",
    )
    assert not problems, "\n".join(problems) + "\n\ngateway log:\n" + stack.log("gateway")[-3000:]
