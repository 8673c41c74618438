"""Removes personal data from residents' messages before anything is written.

Residents type their My Number, phone numbers, e-mail addresses and home addresses into a
chat. Every text that is logged or stored passes through :func:`redact` first. The text is
NFKC-normalised so that full-width digits (０９０…) and full-width hyphens are caught too;
the stored text is the normalised, redacted one.
"""

from __future__ import annotations

import re
import unicodedata

# Separators residents put between digit groups: spaces, hyphens of every width, the long
# vowel mark and dots.
_SEP = r"[\s\-‐‑‒–—―−ー－.・]"
_NO_DIGIT_BEFORE = rf"(?<!\d)(?<!\d{_SEP})"
_NO_DIGIT_AFTER = rf"(?!{_SEP}?\d)"

# ASCII only: \w would swallow the Japanese text around an address (…はtaro@example.jpです).
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.ASCII)
# Card numbers (13–19 digits) before My Numbers (12), so that a card is not cut in two.
CARD = re.compile(rf"(?<!\+){_NO_DIGIT_BEFORE}(?:\d{_SEP}?){{12,18}}\d{_NO_DIGIT_AFTER}")
MY_NUMBER = re.compile(rf"(?<!\+){_NO_DIGIT_BEFORE}(?:\d{_SEP}?){{11}}\d{_NO_DIGIT_AFTER}")
PHONE = re.compile(
    rf"{_NO_DIGIT_BEFORE}(?:\+81{_SEP}?\(?0?\)?|0)\d{{1,4}}{_SEP}?\(?\d{{1,4}}\)?{_SEP}?\d{{3,4}}"
    rf"{_NO_DIGIT_AFTER}"
)
# A postal code (〒 optional when hyphenated) and the street address written after it.
POSTAL_WITH_ADDRESS = re.compile(
    rf"(?:〒\s*\d{{3}}{_SEP}?\d{{4}}|{_NO_DIGIT_BEFORE}\d{{3}}-\d{{4}}{_NO_DIGIT_AFTER})"
    r"(?P<address>\s*[\w\u3000-\u30ff\u4e00-\u9fff\-ー－丁目番地号の]{2,60})?"
)

# Addresses without a postal code: place names ending in 都道府県市区町村郡 and a block number
# (中央1丁目2番3号, 本町2-3-4, 3番地). Plain place names without a number are left alone.
_KANJI_NUM = "0-9〇一二三四五六七八九十"
_PLACE = r"[\u4e00-\u9fffぁ-んァ-ヶー々ヶ]"
_BLOCK = (
    rf"[{_KANJI_NUM}]{{1,4}}\s*(?:丁目|番地|番|-|の)\s*[0-9]{{1,4}}"
    rf"(?:\s*(?:番地|番|号|-|の)\s*[0-9]{{1,4}})?\s*(?:号|番地)?"
    rf"|[{_KANJI_NUM}]{{1,4}}\s*(?:丁目|番地)"
)
ADDRESS = re.compile(
    rf"(?:{_PLACE}{{1,8}}?[都道府県])?(?:{_PLACE}{{1,10}}?[市区町村郡])+{_PLACE}{{0,10}}?"
    rf"\s*(?:{_BLOCK})(?![0-9])"
    rf"|{_PLACE}{{1,8}}?[{_KANJI_NUM}]{{1,3}}丁目(?:\s*[0-9]{{1,4}}\s*(?:番地?|-)"
    rf"(?:\s*[0-9]{{1,4}}\s*号?)?)?"
)

# Names a resident introduces: 「私は山田太郎です」「名前は山田 太郎」「山田と申します」
# "my name is ...". After 私は, a word ending like an occupation or status (会社員, 学生,
# 外国人) is not a name.
_NAME_CHAR = r"\u4e00-\u9fff々ァ-ヶー"
_NAME = rf"[{_NAME_CHAR}][{_NAME_CHAR}・]{{0,11}}(?:\s[{_NAME_CHAR}]{{1,6}})?"
_NOT_NAME_END = "人員者生婦夫妻民主親族様家中国"
NAME_AFTER_LABEL = re.compile(
    rf"(?P<label>(?:私の|僕の|わたしの|ぼくの|お)?名前(?:は|:)|氏名(?:は|:)?)\s*(?P<name>{_NAME})"
    r"(?=\s*(?:です|でした|と申|とい|と言|で[、,]|[。、,.!！?？\s]|$))"
)
NAME_INTRODUCED = re.compile(
    rf"(?P<label>(?:私|わたし|僕|ぼく|わたくし)は)\s*(?P<name>{_NAME})"
    r"(?=\s*(?:です|と申します|といいます|と言います|でございます))"
)
NAME_BEFORE_MOSHIMASU = re.compile(
    rf"(?<![\u4e00-\u9fff々ァ-ヶーぁ-ん])(?P<name>{_NAME})(?P<label>と申します|と申しま|といいます)"
)
NAME_ENGLISH = re.compile(
    r"(?i:\b(?P<label>my name is|name:|i am called)\s+)"
    r"(?P<name>[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+){0,2})"
)

REPLACEMENTS = (
    (EMAIL, "[メール]"),
    (CARD, "[カード番号]"),
    (MY_NUMBER, "[個人番号]"),
    (PHONE, "[電話番号]"),
)


def redact(text: str) -> str:
    """Return ``text`` with personal data replaced by bracketed labels."""
    text = unicodedata.normalize("NFKC", text)
    for pattern, label in REPLACEMENTS:
        text = pattern.sub(label, text)
    text = POSTAL_WITH_ADDRESS.sub(_postal_label, text)
    text = ADDRESS.sub("[住所]", text)
    return redact_names(text)


def redact_names(text: str) -> str:
    """Replace names a resident introduces themselves with (see the patterns above)."""
    text = NAME_AFTER_LABEL.sub(lambda m: m.group("label") + "[氏名]", text)
    text = NAME_INTRODUCED.sub(_introduced_name, text)
    text = NAME_BEFORE_MOSHIMASU.sub(lambda m: "[氏名]" + m.group("label"), text)
    return NAME_ENGLISH.sub(lambda m: m.group(0)[: m.start("name") - m.start()] + "[name]", text)


def _introduced_name(match: re.Match[str]) -> str:
    name = match.group("name").strip()
    if name[-1] in _NOT_NAME_END or len(name) < 2:
        return match.group(0)
    return match.group("label") + "[氏名]"


def _postal_label(match: re.Match[str]) -> str:
    return "[郵便番号][住所]" if match.group("address") else "[郵便番号]"
