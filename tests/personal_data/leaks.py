"""Reading the personal-data sets and finding what of their secrets a stored text still holds.

Each set (``dev.jsonl`` to tune on, ``test.jsonl`` to check once) was written without looking
at the redactor. A line is ``{"id", "lang", "kinds", "text", "secrets", "keep"}``: the secrets
must never be stored, the keep words must survive so staff can read the question.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−ーｰ﹣－"})
_KANJI_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_SEPARATORS = re.compile(r"[\s\-_/\\.・()\[\]]")


@dataclass(frozen=True)
class Case:
    id: str
    lang: str
    kinds: tuple[str, ...]
    text: str
    secrets: tuple[str, ...]
    keep: tuple[str, ...]


def load(name: str) -> list[Case]:
    cases = []
    for line in (HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            cases.append(
                Case(
                    d["id"],
                    d["lang"],
                    tuple(d["kinds"]),
                    d["text"],
                    tuple(d["secrets"]),
                    tuple(d["keep"]),
                )
            )
    return cases


def _forms(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_DASHES).casefold()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", _forms(text).translate(_KANJI_DIGITS))


def leaked(secret: str, stored: str) -> bool:
    """Whether ``stored`` still holds ``secret``: as typed, normalised, or its digits."""
    form = _forms(secret)
    if re.fullmatch(r"[a-zà-ỹ' -]+", form):  # a romaji or Latin name: whole words only
        if re.search(rf"(?<![a-zà-ỹ]){re.escape(form)}(?![a-zà-ỹ])", _forms(stored)):
            return True
    elif form in _forms(stored):
        return True
    digits = _digits(secret)
    if len(digits) >= 4:
        compact = _SEPARATORS.sub("", _forms(stored).translate(_KANJI_DIGITS))
        # Any four or more of the secret's digits left together count as a leak.
        for run in re.findall(r"\d{4,}", compact):
            if run in digits:
                return True
    return False


def kept(word: str, stored: str) -> bool:
    return _forms(word) in _forms(stored)


def appears(secret: str, text: str) -> bool:
    """Whether ``text`` holds ``secret`` as typed or normalised, without :func:`leaked`'s
    digit rule: for texts full of unrelated numbers, such as log files (timestamps, ports)."""
    form = _forms(secret)
    if re.fullmatch(r"[a-zà-ỹ' -]+", form):  # a romaji or Latin name: whole words only
        return bool(re.search(rf"(?<![a-zà-ỹ]){re.escape(form)}(?![a-zà-ỹ])", _forms(text)))
    return form in _forms(text)
