"""What the gateway does with a resident's message before anything else sees it.

Every channel passes the text through :func:`prepare`: it is normalised (NFKC), cleaned of
control characters and of combining marks piled on one letter, checked against limits that
bound what Rasa and the FAQ engine spend on it, and redacted. Only the prepared text goes on
to Rasa, its tracker store and logs, the action server and the conversation log.

The limits hold after normalisation, because NFKC can make one character into eighteen
(U+FDFA), and they count tokens as well as characters, because Rasa's cost grows with the
number of tokens. A real question is far below both: the longest in the evaluation sets has
about 150 characters.
"""

from __future__ import annotations

import re
import unicodedata

from bot.privacy.redact import redact
from bot.text.japanese import normalize

MAX_CHARS = 1000
MAX_TOKENS = 500
# LINE's own limit on a text message; longer is refused before it is even normalised.
MAX_RAW_CHARS = 5000
# Letters with more marks than this on them are noise (Zalgo text); the rest are dropped.
MAX_COMBINING_MARKS = 2

# Roughly how Rasa's tokenizer counts: a Latin or Hangul word, a number, a piece of
# punctuation, and for kanji and kana, whose words fugashi finds, one word per two characters.
_TOKEN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]+|[0-9]+|[\uac00-\ud7a3]+|\S")
_KANJI_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


class TextRejected(ValueError):
    """The message cannot be handled as it is; the message says why, for the resident."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # "empty" or "too_long"


def clean(text: str) -> str:
    """NFKC, no control characters, no lone surrogates, at most a few marks per letter."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    text = _CONTROL.sub(" ", normalize(text))
    out: list[str] = []
    marks = 0
    for char in text:
        if unicodedata.combining(char):
            marks += 1
            if marks > MAX_COMBINING_MARKS:
                continue
        else:
            marks = 0
        out.append(char)
    return "".join(out).strip()


def prepare(raw: str) -> str:
    """The resident's message, normalised and redacted: the only form that leaves the
    gateway. Raises TextRejected when it is empty or too long."""
    return redact(check(raw))


def check(raw: str) -> str:
    """The message cleaned and within the limits, not yet redacted; or TextRejected."""
    if len(raw) > MAX_RAW_CHARS:  # refused before normalising it costs anything
        raise TextRejected(f"'text' must be at most {MAX_CHARS} characters", "too_long")
    text = clean(raw)
    if not text:
        raise TextRejected("'text' is empty", "empty")
    if len(text) > MAX_CHARS:
        raise TextRejected(f"'text' must be at most {MAX_CHARS} characters", "too_long")
    if token_count(text) > MAX_TOKENS:
        raise TextRejected(f"'text' must be at most {MAX_TOKENS} words", "too_long")
    # Rasa reads a message that starts with "/" as an intent ("/restart"): never a resident's.
    text = text.lstrip("/").strip()
    if not text:
        raise TextRejected("'text' is empty", "empty")
    return text


def token_count(text: str) -> int:
    kanji_kana = len(_KANJI_KANA.findall(text))
    return len(_TOKEN.findall(text)) - kanji_kana + (kanji_kana + 1) // 2
