"""Which of the supported languages a message is written in, from its script and words.

Japanese is recognised by kana (or kanji with no Hangul), Korean by Hangul, Chinese by Han
characters without kana; Latin-script text is Vietnamese when it uses Vietnamese-only
letters, Portuguese when it uses Portuguese letters or common words, English otherwise.
"""

from __future__ import annotations

import re
import unicodedata

SUPPORTED = ("ja", "en", "zh", "ko", "vi", "pt")

_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_VIETNAMESE = re.compile(r"[ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
_PORTUGUESE_LETTERS = re.compile(r"[ãõç]", re.I)
_PORTUGUESE_WORDS = frozenset(
    (
        "como onde quero preciso posso para meu minha não nao obrigado obrigada olá ola bom dia "
        "cartão cartao mudança mudanca você voce fazer tirar perdi"
    ).split()
)
# Characters used in Simplified Chinese but not in Japanese.
_SIMPLIFIED_ONLY = re.compile(r"[们这说么吗为个们请办证码丢补续领]")


def detect_language(text: str, default: str = "ja") -> str:
    text = unicodedata.normalize("NFKC", text)
    if _HANGUL.search(text):
        return "ko"
    if _KANA.search(text):
        return "ja"
    if _HAN.search(text):
        return "zh" if _SIMPLIFIED_ONLY.search(text) else "ja"
    if not re.search(r"[A-Za-zÀ-ỹ]", text):
        return default
    if _VIETNAMESE.search(text):
        return "vi"
    words = set(re.findall(r"[a-zà-ỹ]+", text.lower()))
    if _PORTUGUESE_LETTERS.search(text) or words & _PORTUGUESE_WORDS:
        return "pt"
    return "en"
