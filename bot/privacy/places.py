"""Where a resident can be reached: e-mail addresses (also written "at … dot …"), street
addresses with their block numbers, buildings and rooms, and postal codes.

A prefecture, city or district name alone is not personal and stays: staff need it to read
the question. The block numbers, building and room after it are what identify a home.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.privacy.spans import Span

# -- e-mail ----------------------------------------------------------------------------------
_AT = (
    r"(?:\s*@\s*|\s*[(\[{<]\s*(?:at|a|arroba|あっと|アット)\s*[)\]}>]\s*|\s+(?:at|arroba|a còng)\s+"
    r"|\s*(?:アットマーク|あっとまーく|アット|あっと|골뱅이|艾特)\s*)"
)
_DOT = (
    r"(?:\.|\s*[(\[{<]\s*(?:dot|ponto|ドット|どっと)\s*[)\]}>]\s*|\s+(?:dot|ponto|chấm|점|点)\s+"
    r"|\s*(?:ドット|どっと)\s*)"
)
# ASCII only: \w would swallow the Japanese text around an address (…はtaro@example.jpです).
EMAIL = re.compile(
    # Starting only where a word starts, and never giving back the local part, the search
    # stays linear in a long message ("1-1-1-…").
    rf"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*+{_AT}[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*{_DOT}[A-Za-z]{{2,6}}"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)

# -- street addresses ----------------------------------------------------------------------
_NUM = "0-9〇一二三四五六七八九十百"
_N = rf"[{_NUM}]{{1,5}}"
# Block numbers: 1-25-36, 3丁目12番5号, 5番地の2, 123番地, 3丁目.
_BLOCK = (
    rf"{_N}(?:\s*の\s*{_N}){{2}}"
    rf"|{_N}\s*丁目(?:\s*{_N}\s*(?:番地?|-|の)(?:\s*{_N}\s*号?)?)?"
    rf"|{_N}\s*番地(?:\s*の\s*{_N}|\s*-\s*{_N})?"
    rf"|{_N}\s*番\s*{_N}\s*号?"
    rf"|{_N}(?:\s*-\s*{_N}){{1,3}}\s*号?"
)
_PLACE = r"[\u4e00-\u9fff々ヶケァ-ヺー]"
# Numbers that are quantities, not block numbers: 2-3日, 1-2歳, 3番窓口.
_NOT_AFTER = r"(?!\s*(?:日|歳|才|ヶ月|か月|カ月|年|回|人|枚|時|分|円|%|週|番窓口|番線|番目|月))"
ADDRESS = re.compile(
    rf"(?:大?字\s*)?(?:{_PLACE}|[0-9]{{1,2}}条|通り){{1,14}}\s*(?:{_BLOCK}){_NOT_AFTER}"
    # 山手町45: a town and a lot number.
    rf"|{_PLACE}{{1,10}}[町丁]\s*[0-9]{{1,4}}(?![0-9]){_NOT_AFTER}"
    rf"|(?<![{_NUM}\-])[0-9]{{1,4}}(?:-[0-9]{{1,4}}){{2}}(?![0-9\-])"  # 1-25-36 on its own
)
# Romaji addresses: "2-3-4 Chuo", "Chuo 2-3-4", "Sakurano-shi".
ROMAJI_ADDRESS = re.compile(
    r"(?<![\w-])\d{1,4}(?:-\d{1,4}){1,2}\s*,?\s*[A-Z][a-z]+(?:[- ][A-Z]?[a-z]+)?"
    r"|(?<![\w-])[A-Z][a-z]+(?:-(?:cho|machi|chome))?\s*,?\s*\d{1,4}(?:-\d{1,4}){1,2}(?![\w-])"
)
# Buildings and rooms: コーポ桜101号室, さくらマンション3階302, Room 405, apto 12, 302호.
# A named apartment house is a home (さくらハイツ, コーポ桜); other building words are one only
# with a floor or room number after them (さくらタワー1205, not テニスコート or 市営住宅).
_HOME_WORD = r"マンション|ハイツ|コーポ|アパート|レジデンス|ハイム|メゾン|荘"
_BUILDING_WORD = r"コート|タワー|ビル|館|寮|住宅|テラス|ヴィラ|シャトー|団地|ヒルズ|パレス|ハウス"
_ROOM_NUMBERS = rf"(?:\s*[A-Z]?-?\s*[{_NUM}]+\s*(?:号棟|棟|階|F|号室|号|-)?)"
_NAME = r"[\u4e00-\u9fffァ-ヺー]"
BUILDING = re.compile(
    rf"(?:コーポ|メゾン|ハイツ|ハイム|パレス|グラン|シャトー|ヴィラ){_NAME}{{1,10}}{_ROOM_NUMBERS}*"
    # すみれ荘, but not 「入っていないマンション」.
    rf"|(?<![ぁ-ゖ])(?![ぁ-ゖ]*(?:っ|ない|てい|たい|した))[ぁ-ゖ]{{2,6}}(?:{_HOME_WORD}){_ROOM_NUMBERS}*"
    rf"|(?<!{_NAME}){_NAME}{{2,12}}?(?:{_HOME_WORD}){_ROOM_NUMBERS}*"
    rf"|(?<!{_NAME}){_NAME}{{2,12}}?(?:{_BUILDING_WORD}){_ROOM_NUMBERS}+"
)
ROOM = re.compile(
    rf"[{_NUM}]{{1,5}}\s*(?:号室|号棟|호실|호|室)"
    r"|(?i:\b(?:room|rm\.?|apt\.?|apto\.?|apartamento|phòng|unit|flat)\s*#?\s*\d{1,5}[A-Za-z]?\b)"
    rf"|[{_NUM}]{{1,2}}\s*階\s*[{_NUM}]{{2,4}}"
)
POSTAL = re.compile(r"〒\s*\d{3}\s*-?\s*\d{4}|(?<![\d-])\d{3}-\d{4}(?![\d-])")
NUMBER_WORDS = re.compile(r"番号|記号")
# Building words that are public places residents ask about, not homes.
PUBLIC_BUILDINGS = re.compile(
    r"市役所|役所|役場|支所|公民館|図書館|体育館|会館|美術館|博物館|市民|市営|県営|都営|町営|村営|公営|賃貸|社宅"
)


# After an address, the building and room often follow: 「… 1-2-3 ロイヤル博多 5階」.
_CHUNK = re.compile(r"[ \t\u3000]*(?P<chunk>[\u4e00-\u9fffァ-ヺーA-Za-z0-9가-힣#\-]+)")
_BUILDING_ANY = re.compile(
    rf"{_HOME_WORD}|{_BUILDING_WORD}|ホーム|公寓|大厦|大廈|小区|楼|맨션|아파트|빌라|하이츠|빌딩|"
    r"Heights|Mansion|Manshon|Apartments?|Residence|House|Court|Tower|Villa|Palace|Building|"
    r"Bldg|Haitsu|Kopo|Corpo|Haimu|Maison",
    re.IGNORECASE,
)
LATIN_BUILDING = re.compile(
    r"(?:[A-Z][a-z]+\s+){1,3}(?:Heights|Mansion|Manshon|Apartments?|Residence|Court|Tower|Villa|"
    r"Palace|Building|Bldg|Haitsu|Kopo|Corpo|Haimu|Maison)\b"
    r"|\b(?:Maison|Casa|Residencial|Residence|Villa|Heights|Mansion|Corpo|Kopo|Haitsu|Edifício|"
    r"Edificio|Condomínio)\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"
)
ROOM_FLOOR_EN = re.compile(r"(?<![A-Za-z0-9])\d{1,2}F(?=[\s,.]|$)")


def _tail(text: str, end: int, chunks: int = 3) -> int:
    """Where an address ends once the building and room after it are included."""
    position = best = end
    for _ in range(chunks):
        match = _CHUNK.match(text, position)
        if not match:
            break
        position = match.end()
        chunk = match.group("chunk")
        if re.search(r"\d", chunk) or _BUILDING_ANY.search(chunk):
            best = position
    return best


# An e-mail address described in words: 「@の前はtakeshi1980で、gmailです」.
MAIL_TALK = re.compile(
    r"@|メール|mail|gmail|yahoo|icloud|docomo|outlook|hotmail|ezweb|softbank", re.I
)
USER_NAME = re.compile(r"(?<![A-Za-z0-9._-])[A-Za-z][A-Za-z._-]*\d[A-Za-z0-9._-]*(?![A-Za-z0-9])")


def place_spans(text: str) -> Iterator[Span]:
    for match in EMAIL.finditer(text):
        yield Span(match.start(), match.end(), "[メール]")
    if MAIL_TALK.search(text):
        for match in USER_NAME.finditer(text):
            if len(match.group(0)) >= 5:
                yield Span(match.start(), match.end(), "[メール]")
    for match in POSTAL.finditer(text):
        yield Span(match.start(), match.end(), "[郵便番号]")
    for pattern in (ADDRESS, ROMAJI_ADDRESS):
        for match in pattern.finditer(text):
            if not NUMBER_WORDS.search(match.group(0)):  # 記号 12-34: see numbers
                yield Span(match.start(), _tail(text, match.end()), "[住所]")
    for pattern in (ROOM, ROOM_FLOOR_EN, LATIN_BUILDING):
        for match in pattern.finditer(text):
            yield Span(match.start(), match.end(), "[住所]")
    for match in BUILDING.finditer(text):
        if not PUBLIC_BUILDINGS.search(match.group(0)):
            yield Span(match.start(), match.end(), "[住所]")
