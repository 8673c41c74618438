"""A realistic month of made-up traffic, for trying the report and for its tests.

Messages follow a day and hour pattern with many evening and weekend messages, mostly in
Japanese, over LINE and the website. Answered ones ask real corpus questions; some declined
ones carry personal data (made-up numbers and names), which must come out redacted. Everything
is written through the same Store methods the gateway and the action server use.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.clock import JAPAN
from bot.faq.corpus import Entry
from bot.privacy.hashing import hash_id
from bot.report.figures import Month
from bot.storage.db import Store

LANGS = {"ja": 70, "en": 9, "zh": 6, "ko": 4, "vi": 7, "pt": 4}
CHANNELS = {"line": 60, "web": 40}
OUTCOMES = {
    "answered": 60,
    "suggestions": 10,
    "unanswered": 14,
    "small_talk": 8,
    "contact": 5,
    "error": 3,
}
# Relative messages per hour of the day (Japan time): a lunch bump and a long evening.
HOURS = [3, 2, 1, 1, 1, 2, 4, 7, 9, 8, 8, 8, 11, 9, 8, 8, 8, 9, 11, 13, 14, 13, 10, 6]
WEEKEND_FACTOR = 1.3
FEEDBACK_SHARE = 0.35
HELPFUL_SHARE = 0.8
PERSONAL_DATA_SHARE = 0.2  # of the declined questions
FEEDBACK_DELAY = dt.timedelta(seconds=40)

SMALL_TALK = {
    "ja": ["こんにちは", "ありがとうございます", "おはようございます", "さようなら"],
    "en": ["hello", "thank you", "hi", "bye"],
    "zh": ["你好", "谢谢"],
    "ko": ["안녕하세요", "감사합니다"],
    "vi": ["xin chào", "cảm ơn"],
    "pt": ["olá", "obrigado"],
}
CONTACT = {
    "ja": ["担当者と話したい", "電話で問い合わせたい", "人と話せますか"],
    "en": ["I want to talk to a person", "who can I call?"],
    "zh": ["我想和工作人员说话"],
    "ko": ["담당자와 이야기하고 싶어요"],
    "vi": ["tôi muốn nói chuyện với nhân viên"],
    "pt": ["quero falar com um atendente"],
}
VAGUE = {
    "ja": ["証明書", "手続き", "カード", "届け出", "申請", "窓口"],
    "en": ["certificate", "card", "application"],
    "zh": ["证明", "手续"],
    "ko": ["증명서", "신청"],
    "vi": ["giấy tờ", "thủ tục"],
    "pt": ["certidão", "cartão"],
}
# Questions outside the corpus, each in a few wordings, so that grouping has work to do.
UNANSWERED = {
    "ja": [
        ["市営プールの営業時間を知りたい", "市営プールは何時まで開いていますか"],
        ["図書館の本の返却ポストはどこ", "図書館の返却ポストの場所を教えて"],
        ["駅前の駐輪場の定期券を買いたい", "駐輪場の定期券はどこで買えますか"],
        ["花火大会はいつですか", "今年の花火大会の日程"],
        ["市役所の食堂のメニュー", "市役所の食堂は一般の人も使えますか"],
        ["公園でバーベキューをしてもいいですか", "公園のバーベキュー許可"],
    ],
    "en": [
        ["what time does the city pool close", "city pool opening hours"],
        ["where is the library return box", "library book return box location"],
    ],
    "zh": [["市营游泳池几点关门", "游泳池的营业时间"]],
    "ko": [["시영 수영장 영업시간", "수영장은 몇 시까지 해요"]],
    "vi": [["hồ bơi thành phố mở cửa đến mấy giờ"]],
    "pt": [["que horas fecha a piscina municipal"]],
}
SURNAMES = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤"]
GIVEN_NAMES = ["太郎", "花子", "一郎", "美咲", "健太", "陽子", "翔", "由美"]
TOWNS = ["中央", "桜町", "本町", "緑が丘", "東町", "西原"]


@dataclass(frozen=True)
class SeededMessage:
    at: dt.datetime  # Japan time
    channel: str
    lang: str
    outcome: str
    text: str
    session: str
    faq_id: str | None = None
    score: float | None = None
    helpful: bool | None = None  # the feedback given on this answer, if any

    @property
    def feedback_at(self) -> dt.datetime:
        return self.at + FEEDBACK_DELAY


@dataclass
class Manifest:
    """What was seeded, so that a test can compute the expected figures on its own."""

    month: Month
    messages: list[SeededMessage] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # personal data put into texts


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _personal_text(rng: random.Random) -> tuple[str, list[str]]:
    """A declined question carrying made-up personal data, and the data itself."""
    my_number = "".join(rng.choice("0123456789") for _ in range(12))
    phone = f"090-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
    email = f"user{rng.randint(10000, 99999)}@mail.example.jp"
    postal = f"{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    town = rng.choice(TOWNS)
    block = f"{rng.randint(1, 9)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}"
    name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
    spaced = f"{my_number[:4]} {my_number[4:8]} {my_number[8:]}"
    choices = [
        (f"マイナンバー{spaced}の通知を失くしたので再発行できますか", [my_number, spaced]),
        (f"{phone}に折り返し電話をください", [phone, phone.replace("-", "")]),
        (f"返事は{email}にお願いします", [email]),
        (f"〒{postal} さくらの市{town}{block}に住んでいる者です", [postal, f"{town}{block}"]),
        (f"私は{name}です。担当の人から連絡がほしい", [name]),
        (f"さくらの市{town}{block}の家の前の道路が壊れています", [f"{town}{block}"]),
    ]
    text, secrets = rng.choice(choices)
    return text, secrets


def _moment(rng: random.Random, month: Month) -> dt.datetime:
    days = month.days()
    day = rng.choices(days, weights=[WEEKEND_FACTOR if d.weekday() >= 5 else 1 for d in days])[0]
    hour = rng.choices(range(24), weights=HOURS)[0]
    return dt.datetime.combine(
        day, dt.time(hour, rng.randrange(60), rng.randrange(60), rng.randrange(1_000_000)), JAPAN
    )


def plan_traffic(
    month: Month, entries: Sequence[Entry], messages: int = 3000, seed: int = 0
) -> Manifest:
    """Decide every message without writing anything (deterministic for a seed)."""
    rng = random.Random(seed)
    ordered = sorted(entries, key=lambda e: e.id)
    rng.shuffle(ordered)
    # A few entries are asked far more often than the rest, as in real traffic.
    popularity = [1 / (rank + 1) ** 0.9 for rank in range(len(ordered))]
    manifest = Manifest(month)
    for number in range(messages):
        lang, channel, outcome = _pick(rng, LANGS), _pick(rng, CHANNELS), _pick(rng, OUTCOMES)
        session = f"seed-{seed}-{number // 3}"
        faq_id, helpful, score = None, None, None
        if outcome in ("answered", "error") and ordered:
            entry = rng.choices(ordered, weights=popularity)[0]
            text = rng.choice(entry.questions.get(lang) or entry.questions["ja"])
            if outcome == "answered":
                faq_id = entry.id
                score = round(rng.uniform(0.55, 0.98), 3)
                if rng.random() < FEEDBACK_SHARE:
                    helpful = rng.random() < HELPFUL_SHARE
        elif outcome == "unanswered":
            if rng.random() < PERSONAL_DATA_SHARE:
                lang = "ja"
                text, secrets = _personal_text(rng)
                manifest.secrets.extend(secrets)
            else:
                text = rng.choice(rng.choice(UNANSWERED[lang]))
        elif outcome == "small_talk":
            text = rng.choice(SMALL_TALK[lang])
        elif outcome == "contact":
            text = rng.choice(CONTACT[lang])
        else:
            text = rng.choice(VAGUE[lang])
        manifest.messages.append(
            SeededMessage(
                at=_moment(rng, month),
                channel=channel,
                lang=lang,
                outcome=outcome,
                text=text,
                session=session,
                faq_id=faq_id,
                score=score,
                helpful=helpful,
            )
        )
    return manifest


def seed_traffic(
    store: Store,
    month: Month,
    entries: Sequence[Entry],
    messages: int = 3000,
    seed: int = 0,
) -> Manifest:
    """Write a month of traffic into ``store``; returns what was written."""
    manifest = plan_traffic(month, entries, messages, seed)
    for message in manifest.messages:
        session_hash = hash_id(message.session, "seed-traffic")
        store.log_message(
            text=message.text,
            channel=message.channel,
            lang=message.lang,
            session_hash=session_hash,
            outcome=message.outcome,
            faq_id=message.faq_id,
            score=message.score,
            created_at=message.at,
        )
        if message.outcome == "unanswered":
            store.log_unanswered(
                text=message.text,
                channel=message.channel,
                lang=message.lang,
                session_hash=session_hash,
                reason="no_match",
                created_at=message.at,
            )
        if message.helpful is not None and message.faq_id:
            store.record_feedback(
                channel=message.channel,
                lang=message.lang,
                session_hash=session_hash,
                faq_id=message.faq_id,
                helpful=message.helpful,
                created_at=message.feedback_at,
            )
    return manifest
