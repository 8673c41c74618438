"""Language detection on the short messages residents actually send."""

from __future__ import annotations

import pytest

from bot.text.language import detect, detect_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # one word
        ("ゴミ", "ja"),
        ("こんにちは", "ja"),
        ("hello", "en"),
        ("thanks", "en"),
        ("obrigado", "pt"),
        ("cảm ơn", "vi"),
        ("카드", "ko"),
        ("你好", "zh"),
        # short sentences
        ("マイナンバーカードなくした", "ja"),
        ("地震 避難場所", "ja"),
        ("I lost my card", "en"),
        ("Onde fica a prefeitura?", "pt"),
        ("Perdi meu cartão", "pt"),
        ("Tôi muốn đăng ký", "vi"),
        ("xin chao", "vi"),
        ("我丢了卡", "zh"),
        ("请问在哪里办住民票", "zh"),
        ("마이넘버카드를 잃어버렸어요", "ko"),
        # mixed Japanese and English: the script with more words wins
        ("Where can I get a 住民票?", "en"),
        ("I lost my マイナンバーカード yesterday", "en"),
        ("マイナンバーカードをなくした card", "ja"),
        ("マイナンバーカード lost", "ja"),
    ],
)
def test_detects_short_messages(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["ok", "住民票", "12345", "？", "help"])
def test_ambiguous_messages_are_not_confident(text: str) -> None:
    assert not detect(text).confident


def test_clear_messages_are_confident() -> None:
    assert detect("How do I register my new address?").confident
    assert detect("転入届はどこで出しますか").confident
