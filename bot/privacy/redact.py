"""Removes personal data from residents' messages before anything is written or sent on.

The gateway redacts every message as it arrives, so Rasa, its tracker store and logs, the
action server, the review queue and the report only ever see the redacted text; the store
redacts again before it writes. Each kind of personal data has its recognizer:

- ``numbers``: My Number, phones, accounts, insurance, pension, passport, residence-card,
  licence and card numbers, postal codes, birth dates;
- ``places``: e-mail addresses, street addresses, buildings and rooms;
- ``names``: names residents introduce themselves or their family with.

Each finds spans, and every span is replaced by a label staff can read ([電話番号], [氏名]),
so the rest of the question stays as it was. The text is normalised first (NFKC, and every
kind of dash between digits becomes "-"): the stored text is the normalised, redacted one.
"""

from __future__ import annotations

import re

from bot.privacy.names import name_spans, readings_next_to_names
from bot.privacy.numbers import DIGIT, number_spans
from bot.privacy.places import place_spans
from bot.privacy.spans import LABEL, replace_spans
from bot.text.japanese import normalize

__all__ = ["LABEL", "redact", "without_labels"]

# Dashes residents put between digits that NFKC leaves alone: ‐ ‑ ‒ – — ― − ー ｰ ﹣.
_DASH_BETWEEN_DIGITS = re.compile(rf"(?<=[{DIGIT}])\s*[‐‑‒–—―−ーｰ﹣~〜-]\s*(?=[{DIGIT}])")


def redact(text: str) -> str:
    """Return ``text`` normalised, with personal data replaced by bracketed labels."""
    text = _DASH_BETWEEN_DIGITS.sub("-", normalize(text))
    spans = [*number_spans(text), *place_spans(text), *name_spans(text)]
    return readings_next_to_names(replace_spans(text, spans))


# What a label becomes for the engine: a word no FAQ entry uses. Like the digits it stands
# for, it counts against every entry, so 「天気は？マイナンバーは[個人番号]です」 is no more
# answerable than it was with the number in it.
UNKNOWN_WORD = " redacted "


def without_labels(text: str) -> str:
    """The text with each redaction label replaced by a word the corpus does not know: the
    label's own words (個人番号, 電話番号) say nothing about the question."""
    return LABEL.sub(UNKNOWN_WORD, text)
