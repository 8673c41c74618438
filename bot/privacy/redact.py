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

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
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
    return POSTAL_WITH_ADDRESS.sub(_postal_label, text)


def _postal_label(match: re.Match[str]) -> str:
    return "[郵便番号][住所]" if match.group("address") else "[郵便番号]"
