"""What the gateway does to a message before anything else sees it (bot.gateway.resident_text)."""

from __future__ import annotations

import threading

import pytest

from bot.gateway.resident_text import MAX_CHARS, TextRejected, clean, prepare
from bot.text.japanese import analyze


def test_limits_hold_after_normalisation() -> None:
    # U+FDFA is one character as typed and eighteen after NFKC.
    with pytest.raises(TextRejected, match="at most 1000 characters"):
        prepare("\ufdfa" * 60)
    with pytest.raises(TextRejected, match="at most 500 words"):
        prepare("a," * 300)
    assert prepare("住民票 " * 200)  # 800 characters, 200 words: a long but fair question


def test_overlong_text_is_refused_before_it_is_normalised() -> None:
    with pytest.raises(TextRejected) as refused:
        prepare("\ufdfa" * 300_000)
    assert refused.value.reason == "too_long"


def test_combining_marks_and_control_characters_are_dropped() -> None:
    zalgo = "a" + "\u0301" * 4999
    assert len(clean(zalgo)) <= 3
    assert clean("住民\x00票\u200bが\x07ほしい") == "住民 票 が ほしい"
    assert clean("\ud800住民票") == "?住民票"  # a lone surrogate cannot reach Rasa
    with pytest.raises(TextRejected, match="empty"):
        prepare("\x00\x01 \u200b")


def test_a_leading_slash_is_no_rasa_command() -> None:
    assert prepare("/restart") == "restart"
    assert prepare("/ask_human") == "ask_human"
    with pytest.raises(TextRejected, match="empty"):
        prepare("///")


def test_personal_data_is_gone_before_the_text_leaves() -> None:
    text = prepare("私は山田太郎です。電話は090-1234-5678、住民票がほしい")
    assert "山田" not in text and "1234" not in text
    assert "[氏名]" in text and "[電話番号]" in text and "住民票" in text
    assert len(prepare("あ" * MAX_CHARS)) == MAX_CHARS


def test_japanese_analysis_is_safe_across_threads() -> None:
    """The gateway redacts in worker threads: each parse must see only its own text."""
    texts = ["母の吉田拓海の代わりに来ました", "マイナンバーカードをなくした", "粗大ごみを出したい"] * 20
    expected = {t: [m.lemma for m in analyze(t)] for t in set(texts)}
    wrong: list[str] = []

    def work() -> None:
        for _ in range(20):
            for text in texts:
                if [m.lemma for m in analyze(text)] != expected[text]:
                    wrong.append(text)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong
