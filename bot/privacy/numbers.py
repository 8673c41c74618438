"""Numbers that identify a person: My Number, phones, accounts, insurance, pension, passport,
residence-card and licence numbers, card numbers, postal codes and birth dates.

Residents type digits in every shape: full-width, spaced, in parentheses, split by slashes,
underscores or any kind of dash, even in kanji numerals. A run of digit groups joined by such
separators is read as one number, and any number of six digits or more is personal data
whatever its shape; words before it only choose the label staff see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.privacy.spans import Span

DIGIT = "0-9〇零一二三四五六七八九"
# What residents put between digit groups (after NFKC): spaces, dashes, dots, slashes,
# underscores, parentheses. Not ':' (9:00-17:00) and not ',' (1,500円).
_SEP = rf"(?:[\s\-_/\\.・･()\[\]]|(?<=[{DIGIT}])の(?=[{DIGIT}]))"
# One group may stand alone in parentheses: (03)7220-8083, (3720)(5178)(2923).
_GROUP = rf"\(?[{DIGIT}]+\)?"
DIGIT_RUN = re.compile(
    rf"(?<![{DIGIT}A-Za-z])\+?{_GROUP}(?:(?:{_SEP}){{1,3}}{_GROUP})*(?![{DIGIT}A-Za-z])"
)
_KANJI_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
# Amounts and quantities stay: 150000円, 1500000 yen.
_AMOUNT_AFTER = re.compile(r"\s*(?:円|yen|万|千|ドル|元|원|đồng|reais|%)", re.IGNORECASE)

# Words that say what a number is, in the six languages, checked just before it.
CONTEXT_LABELS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(words, re.IGNORECASE))
    for label, words in (
        ("[郵便番号]", r"〒|郵便|postal|post code|zip|CEP|bưu|우편|邮编|郵編"),
        ("[口座番号]", r"口座|account|conta|tài khoản|계좌|账号|账户|帳號|普通|当座|支店"),
        ("[保険証番号]", r"保険|insurance|seguro|bảo hiểm|보험|保险|記号"),
        ("[年金番号]", r"年金|pension|aposentadoria|lương hưu|연금|养老"),
        ("[免許証番号]", r"免許|licen[cs]e|habilita|CNH|bằng lái|면허|驾|駕"),
        ("[旅券番号]", r"パスポート|旅券|passport|passaporte|hộ chiếu|여권|护照|護照"),
        ("[在留カード番号]", r"在留カード|在留|zairyu|residence card|residente|cư trú|재류|居留"),
        (
            "[個人番号]",
            r"マイナンバーカード|マイナ|個人番号|my ?number|định danh|마이넘버|个人编号|個人編號",
        ),
        (
            "[電話番号]",
            r"電話|携帯|tel|phone|call|ligar|telefone|celular|điện thoại|전화|电话|手机",
        ),
        ("[カード番号]", r"カード|card|cartão|thẻ|카드|卡"),
    )
)
# Labelled short numbers: 記号 12-34 番号 567, 口座番号 1234567, No. 4455.
LABELLED = re.compile(
    r"(?P<label>記号|番号|保険者番号|口座番号|支店番号|No\.?|number|número|số|번호|기호|号码|號碼|记号|"
    r"kigou?|bangou?|kí hiệu|ký hiệu|mã số|mã|symbol|símbolo|simbolo)"
    r"\s*(?:は|:|is|é|là|是|은|는|为)?\s*"
    rf"(?P<value>(?:[A-Za-z]{{1,3}}|[\u4e00-\u9fffぁ-ゖ]{{1,3}})?[{DIGIT}](?:[{DIGIT}]|{_SEP}(?=[{DIGIT}])){{1,20}}"
    r"[A-Za-z]{0,2})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# A card's expiry date: 有効期限 08/27.
EXPIRY = re.compile(
    r"(?:有効期限|期限|expir\w*|exp\.?|validade|vencimento|hạn|유효기간|有效期)\s*[:：]?\s*"
    r"(?P<value>\d{1,2}\s*/\s*\d{2,4})",
    re.IGNORECASE,
)
# Passports (TK1234567, C1234567), residence cards (AB12345678CD) and similar identifiers.
ALPHANUMERIC_ID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,2}\d{6,9}[A-Za-z]{0,2}(?![A-Za-z0-9])")

# Dates. A full date is personal (a birth date) when the message speaks of birth, or when
# it lies far enough back that it is no deadline or office date.
BIRTH = re.compile(
    r"生年月日|生まれ|うまれ|誕生|出生|生日|日生|born|birth|DOB|nasc|sinh|생년월일|태어|\d\s*생|일\s*생",
    re.IGNORECASE,
)
_MONTHS_EN = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_MONTHS_PT = (
    "janeiro|fevereiro|março|marco|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro"
)
DATES = (
    # 1985年3月4日, 1985年3月4日生, 1985년 3월 4일, 1985/03/04, 1985-3-4, 1985.3.4
    re.compile(
        r"(?P<year>(?:19|20)\d\d)\s*[年년/.\-]\s*\d{1,2}\s*[月월/.\-]\s*\d{1,2}\s*[日일号]?"
    ),
    # 04/03/1985, 4.3.1985
    re.compile(r"(?<!\d)\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*(?P<year>(?:19|20)\d\d)(?!\d)"),
    # 昭和60年3月4日, S60.3.4, H1/2/3
    re.compile(
        r"(?P<era>明治|大正|昭和|平成|令和|[MTSHR](?=\s*\d))\s*(?:\d{1,2}|元)\s*[年./\-]"
        r"\s*\d{1,2}\s*[月./\-]\s*\d{1,2}\s*日?"
    ),
    # 1960年(昭和35年)6月10日
    re.compile(r"(?P<year>(?:19|20)\d\d)年\s*\([^)]{1,10}\)\s*\d{1,2}\s*月\s*\d{1,2}\s*日?"),
    # 昭和十五年二月十一日, しょうわ二十二年 八月 十日
    re.compile(
        r"(?P<era>明治|大正|昭和|平成|令和|めいじ|たいしょう|しょうわ|へいせい|れいわ)\s*"
        r"[元〇一二三四五六七八九十0-9]{1,3}\s*年\s*[〇一二三四五六七八九十0-9]{1,3}\s*月\s*"
        r"[〇一二三四五六七八九十0-9]{1,3}\s*日?"
    ),
    # 4 March 1985, March 4, 1985, 4 de março de 1985
    re.compile(
        rf"\d{{1,2}}\s*(?:de\s+)?(?:{_MONTHS_EN}|{_MONTHS_PT})[a-z]*\.?,?\s*(?:de\s+)?"
        r"(?P<year>(?:19|20)\d\d)",
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?:{_MONTHS_EN})[a-z]*\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)",
        re.IGNORECASE,
    ),
    # ngày 4 tháng 3 năm 1985
    re.compile(r"ngày\s*\d{1,2}\s*tháng\s*\d{1,2}\s*năm\s*(?P<year>(?:19|20)\d\d)", re.IGNORECASE),
)
OLDEST_ORDINARY_YEAR = (
    2015  # full dates before this are a person's (birth, marriage), not a deadline
)


# Numbers read aloud into voice input: ゼロハチゼロ イチニサンヨン ゴロクナナハチ.
KATAKANA_DIGITS = re.compile(
    r"(?:(?:ゼロ|レイ|マル|イチ|ニー|ニ|サン|ヨン|ゴー|ゴ|ロク|ナナ|シチ|ハチ|キュウ|キュー|ク)[\s、ー-]*){6,}"
)


def number_spans(text: str) -> Iterator[Span]:
    for match in KATAKANA_DIGITS.finditer(text):
        yield Span(match.start(), match.end(), _label_before(text, match.start()))
    yield from _date_spans(text)
    yield from _run_spans(text)
    for match in EXPIRY.finditer(text):
        yield Span(match.start("value"), match.end("value"), "[有効期限]")
    for match in LABELLED.finditer(text):
        if sum(ch.isdigit() for ch in match.group("value")) >= 2:
            yield Span(match.start("value"), match.end("value"), _label_before(text, match.start()))
    for match in ALPHANUMERIC_ID.finditer(text):
        label = _label_before(text, match.start(), default="")
        if not label:
            label = "[在留カード番号]" if match.group(0)[-1].isalpha() else "[旅券番号]"
        yield Span(match.start(), match.end(), label)


def _run_spans(text: str) -> Iterator[Span]:
    for match in DIGIT_RUN.finditer(text):
        start, end = match.span()
        raw = match.group(0)
        # A closing parenthesis that opened before the run belongs to the sentence.
        if raw.endswith(")") and raw.count(")") > raw.count("("):
            end -= 1
            raw = raw[:-1]
        digits = re.sub(rf"[^{DIGIT}]", "", raw).translate(_KANJI_DIGITS)
        if len(digits) < 6 or _AMOUNT_AFTER.match(text, end) or _ordinary_date(raw, text):
            continue
        yield Span(start, end, _label_before(text, start, default=_label_by_shape(raw, digits)))


_DATE_SHAPE = re.compile(
    r"(?:(?P<y1>(?:19|20)\d\d)[/.-]\d{1,2}[/.-]\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-](?P<y2>(?:19|20)\d\d))"
)


def _ordinary_date(raw: str, text: str) -> bool:
    """A recent date that is no birth date (a deadline: 31/3/2026) is not personal."""
    match = _DATE_SHAPE.fullmatch(raw.strip())
    if not match or BIRTH.search(text):
        return False
    return int(match.group("y1") or match.group("y2")) >= OLDEST_ORDINARY_YEAR


def _label_by_shape(raw: str, digits: str) -> str:
    if raw.startswith("+") or (digits.startswith("0") and len(digits) in (10, 11)):
        return "[電話番号]"
    if len(digits) == 12:
        return "[個人番号]"
    if 13 <= len(digits) <= 19:
        return "[カード番号]"
    if re.fullmatch(r"\d{3}-\d{4}", raw):
        return "[郵便番号]"
    return "[番号]"


def _label_before(text: str, start: int, default: str = "[番号]", window: int = 16) -> str:
    """The label that the words just before a number call for."""
    before = text[max(0, start - window) : start]
    best, best_at = default, -1
    for label, words in CONTEXT_LABELS:
        for match in words.finditer(before):
            if match.end() > best_at:
                best, best_at = label, match.end()
    return best


def _date_spans(text: str) -> Iterator[Span]:
    about_birth = bool(BIRTH.search(text))
    for pattern in DATES:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            if groups.get("era"):
                old = groups["era"] not in ("令和", "れいわ", "R")
            else:
                old = int(groups["year"]) < OLDEST_ORDINARY_YEAR
            if about_birth or old:
                yield Span(match.start(), match.end(), "[生年月日]")
