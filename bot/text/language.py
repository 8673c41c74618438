"""Which of the six supported languages a resident's message is written in.

Scripts decide most cases on their own: Hangul is Korean, kana is Japanese, and kanji that
Japanese cannot write (characters outside JIS X 0208, such as 们 or 丢) are Chinese.
Latin-script text goes to lingua (offline, limited to English, Portuguese and Vietnamese),
after a check for letters only Vietnamese uses. Messages that mix scripts are judged by
the script with more words, so "I lost my マイナンバーカード" is English. Short, ambiguous
messages ("ok", "住民票") are reported as not confident, so that a conversation keeps the
language it already has.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.privacy.spans import LABEL

# The languages residents are answered in, Japanese first (the corpus's base text).
LANGUAGES = ("ja", "en", "zh", "ko", "vi", "pt")

_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_KANA_RUN = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]+")
_JAPANESE_RUN = re.compile(r"[\u3040-\u30ff\uff66-\uff9f\u4e00-\u9fff\u3400-\u4dbf々〆ー]+")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_LATIN_WORD = re.compile(r"[A-Za-zÀ-ɏḀ-ỿ]{2,}")
_VIETNAMESE = re.compile(r"[ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
# Below this many letters a Latin-script guess is too weak to switch a conversation.
_CONFIDENT_LETTERS = 8


@dataclass(frozen=True)
class Detection:
    lang: str
    confident: bool


def detect(text: str, default: str = "ja") -> Detection:
    # A redaction label ([氏名]) is the assistant's Japanese, not the resident's.
    text = LABEL.sub(" ", unicodedata.normalize("NFKC", text))
    if _HANGUL.search(text):
        return Detection("ko", True)
    latin_words = _LATIN_WORD.findall(text)
    japanese_runs = _JAPANESE_RUN.findall(text)
    if japanese_runs and len(latin_words) <= len(japanese_runs):
        return _cjk(text)
    if latin_words:
        return _latin(" ".join(latin_words))
    return Detection(default, False)


def detect_language(text: str, default: str = "ja") -> str:
    return detect(text, default).lang


def _cjk(text: str) -> Detection:
    if _KANA_RUN.search(text):
        return Detection("ja", True)
    han = "".join(_HAN.findall(text))
    if any(not _writable_in_japanese(ch) for ch in han):
        return Detection("zh", True)
    # Only characters both languages share: in a Japanese city, Japanese is the safer guess.
    return Detection("ja", len(han) >= 4)


def _writable_in_japanese(char: str) -> bool:
    try:
        char.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def _latin(text: str) -> Detection:
    confident = sum(ch.isalpha() for ch in text) >= _CONFIDENT_LETTERS
    if _VIETNAMESE.search(text):
        return Detection("vi", True)
    # Romaji terms (juminhyo, hoikuen) read as Portuguese to lingua; a sentence's own small
    # words are the surer sign where they all point one way.
    words = {w.lower() for w in text.split()}
    english, portuguese = len(words & _ENGLISH_WORDS), len(words & _PORTUGUESE_WORDS)
    if english >= 2 and not portuguese:
        return Detection("en", confident)
    if portuguese >= 2 and not english:
        return Detection("pt", confident)
    language = _detector().detect_language_of(text)
    code = _LINGUA_CODES.get(language.name if language else "", "en")
    return Detection(code, confident)


# Function words of one language and not the other (so not "a", "do", "no").
_ENGLISH_WORDS = frozenset(
    "i how what where when can the my is get to for much need it you of in and have with "
    "does did should will there this that which".split()
)
_PORTUGUESE_WORDS = frozenset(
    "o os as de da que como para pra eu meu minha é um uma não tem posso onde quanto com na "
    "e preciso quero fazer".split()
)
_LINGUA_CODES = {"ENGLISH": "en", "PORTUGUESE": "pt", "VIETNAMESE": "vi"}


@lru_cache(maxsize=1)
def _detector():  # type: ignore[no-untyped-def]
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        Language.ENGLISH, Language.PORTUGUESE, Language.VIETNAMESE
    ).build()


def warm_up() -> None:
    """Load lingua's models now rather than on the first resident's message."""
    _detector().detect_language_of("warm up")
