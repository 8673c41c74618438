"""The FAQ engine: paraphrases find their entry, unrelated questions find none, edits go live."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from bot.faq.engine import FaqEngine
from bot.settings import PROJECT_ROOT

FAQ = PROJECT_ROOT / "faq"

# Paraphrases written for this test, not copied from the corpus.
PARAPHRASES = [
    ("マイナンバーカードを失くしました", "mynumber-card-lost"),
    ("財布ごとマイナカードを盗まれた", "mynumber-card-lost"),
    ("マイナンバーカードを作りたいんですが", "mynumber-card-apply"),
    ("交付通知書が届いたけど受け取りには何がいる？", "mynumber-card-pickup"),
    ("電子証明書の更新", "mynumber-card-renew"),
    ("暗証番号を3回間違えてロックされた", "mynumber-card-pin-forgot"),
    ("自分の個人番号がわからない", "mynumber-number-lookup"),
    ("赤ちゃんのマイナンバーカード", "mynumber-card-child"),
    ("再発行の手数料はいくら", "mynumber-card-fee"),
    ("マイナポータルにログインできない", "mynumber-mynaportal"),
    ("マイナンバーカードは情報漏えいが心配", "mynumber-card-security"),
    ("市内で引越しした", "moving-within-city"),
    ("オンラインで転出届を出したい", "moving-onestop-online"),
    ("コンビニで住民票を取りたい", "certificate-convenience-store"),
    ("I lost my My Number card", "mynumber-card-lost"),
    ("Can I get a certificate at a convenience store?", "certificate-convenience-store"),
]
UNRELATED = [
    "明日の天気は？",
    "おすすめのラーメン屋",
    "今日の野球の結果",
    "株価を教えて",
    "What's the weather tomorrow?",
]


@pytest.fixture(scope="module")
def engine() -> FaqEngine:
    return FaqEngine(FAQ / "corpus", FAQ / "municipality.yml", FAQ / "terms.yml")


def test_paraphrases_find_their_entry(engine: FaqEngine) -> None:
    misses = []
    for question, expected in PARAPHRASES:
        reply = engine.search(question)
        top = reply.results[0].entry.id if reply.results else None
        if not (reply.answered and top == expected):
            misses.append((question, expected, top))
    assert len(misses) <= 1, misses


def test_unrelated_questions_are_not_answered(engine: FaqEngine) -> None:
    for question in UNRELATED:
        reply = engine.search(question)
        assert not reply.answered, (question, reply.results[:1])


def test_results_are_distinct_entries_with_confidences(engine: FaqEngine) -> None:
    reply = engine.search("マイナンバーカード 紛失 再発行", limit=5)
    ids = [r.entry.id for r in reply.results]
    assert ids[0] == "mynumber-card-lost"
    assert len(set(ids)) == len(ids) <= 5
    assert all(0.0 < r.confidence <= 1.0 for r in reply.results)


def test_answers_are_filled_from_the_profile(engine: FaqEngine) -> None:
    entry = engine.search("マイナンバーカードを失くしました").results[0].entry
    text, lang = engine.render_answer(entry, "ja")
    assert lang == "ja"
    assert "{" not in text
    assert "0120-95-0178" in text
    english, lang = engine.render_answer(entry, "en")
    assert lang == "en" and "{" not in english


def test_missing_translation_falls_back_to_japanese(engine: FaqEngine) -> None:
    entry = engine.search("マイナンバーカードを失くしました").results[0].entry
    _text, lang = engine.render_answer(entry, "vi" if "vi" not in entry.answer else "xx")
    assert lang == "ja"


def engine_over(faq: Path, reload_interval: float) -> FaqEngine:
    return FaqEngine(
        faq / "corpus", faq / "municipality.yml", faq / "terms.yml", reload_interval=reload_interval
    )


def test_an_added_entry_answers_within_seconds(faq_copy: Path) -> None:
    engine = engine_over(faq_copy, reload_interval=0.5)
    question = "屋根裏にハクビシンが住み着いて困っています"
    assert not engine.search(question).answered
    entry = {
        "id": "wildlife-masked-palm-civet",
        "category": "pets",
        "department": "kankyo",
        "questions": {
            "ja": [
                "ハクビシンの被害はどこに相談すればいいですか",
                "ハクビシン 駆除",
                "屋根裏 ハクビシン",
            ]
        },
        "answer": {
            "ja": "ハクビシンの捕獲には許可が必要です。{dept.kankyo.name}にご相談ください。"
        },
        "source": "https://www.mhlw.go.jp/",
        "reviewed": "2026-11-20",
    }
    (faq_copy / "corpus" / "pets.yml").write_text(
        yaml.safe_dump({"entries": [entry]}, allow_unicode=True), encoding="utf-8"
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        reply = engine.search(question)
        if reply.answered:
            break
        time.sleep(0.1)
    assert reply.answered and reply.results[0].entry.id == "wildlife-masked-palm-civet"


def test_a_broken_edit_keeps_the_last_good_index(faq_copy: Path) -> None:
    engine = engine_over(faq_copy, reload_interval=0.0)
    before = len(engine.corpus)
    (faq_copy / "corpus" / "moving.yml").write_text("entries: [broken", encoding="utf-8")
    assert engine.reload() is False
    assert len(engine.corpus) == before
    assert engine.search("市内で引越しした").answered
