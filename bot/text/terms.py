"""The terms a text is indexed and searched by.

Japanese and Latin-script text is represented by the lemmas of its content words, minus
words too common in questions to tell entries apart. Korean and Chinese are represented by
character bigrams instead: MeCab's Japanese dictionary leaves a Korean word with its
particle attached (마이넘버카드를) and splits Chinese at odd places. Bigrams carry a `#`
so that they never collide with a Japanese word.
"""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_KOREAN, STOPWORDS_PORTUGUESE

from bot.text.japanese import STOP_POS, CompoundTable, Morpheme, analyze, normalize, to_katakana
from bot.text.language import detect_language

_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7af]+")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]+")
_KANA = re.compile(r"[\u3040-\u30ff]")

_VIETNAMESE = (
    "tôi của là có không thì được và cho làm thế nào gì ở đâu muốn cần bị em anh chị ạ ơi "
    "mình những các một này đó khi nếu với phải sao vậy hả nhé giúp xin hỏi bạn"
)
_JAPANESE = (
    "為る 有る 居る 成る 出来る 下さる 教える 良い 事 物 此れ 其れ 何 如何 私 方法 ください "
    "御 さん"  # the honorific prefix of お手続き/ご相談, and the suffix of ヘルパーさん
)
# Verbs that after て/で only add a nuance to the verb before them: してもらえますか,
# 教えてくれる, 持ってきた, 出しておく. Elsewhere (取りに行く, 日本に来る) they keep their meaning.
_AUXILIARY_VERBS = frozenset(
    "貰う 貰える 呉れる 頂く 頂ける 下さる 来る 行く 見る 置く 居る 有る 仕舞う 上げる 遣る".split()
)
_ENGLISH_EXTRA = "please tell want need get know like would could"
BIGRAM = "#"

STOPWORDS = (
    frozenset(STOPWORDS_EN)
    | frozenset(STOPWORDS_PORTUGUESE)
    | frozenset(STOPWORDS_KOREAN)
    | frozenset(f"{_VIETNAMESE} {_JAPANESE} {_ENGLISH_EXTRA}".split())
)


def retrieval_terms(text: str, compounds: CompoundTable | None = None) -> list[str]:
    # Kanji without kana may be Chinese or terse Japanese (「地震 避難場所」): such text gets
    # both its words and its bigrams, unless it is clearly Simplified Chinese.
    chinese = bool(_HAN.search(text)) and not _KANA.search(text)
    simplified = chinese and detect_language(text) == "zh"
    plain = analyze(text)
    terms = [
        m.lemma
        for i, m in enumerate(plain)
        if _is_word(m, simplified) and not (i and _is_auxiliary(plain[i - 1], m))
    ]
    if compounds:
        # The compounds, i.e. the morphemes that joining created (a set: answers are long).
        unjoined = set(plain)
        terms += [m.lemma for m in compounds.join(plain) if m not in unjoined]
    for run in _HANGUL_RUN.findall(text):
        terms += _bigrams(run)
    if chinese:
        for run in _HAN_RUN.findall(text):
            terms += _bigrams(run)
    return [t for t in terms if t not in STOPWORDS]


def _is_word(m: Morpheme, chinese: bool) -> bool:
    if _HANGUL.search(m.text) or (chinese and _HAN.search(m.text)):
        return False  # represented by bigrams
    return m.pos not in STOP_POS


def _is_auxiliary(previous: Morpheme, m: Morpheme) -> bool:
    return m.lemma in _AUXILIARY_VERBS and previous.pos == "助詞" and previous.text in ("て", "で")


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [BIGRAM + run]
    return [BIGRAM + run[i : i + 2] for i in range(len(run) - 1)]


def char_ngrams(text: str, n: int = 2) -> list[str]:
    """Character n-grams of the normalised, katakana-folded text, ignoring spaces and
    punctuation: they still match when a word is misspelt or written in kana."""
    letters = "".join(ch for ch in to_katakana(normalize(text).lower()) if ch.isalnum())
    return [letters[i : i + n] for i in range(max(0, len(letters) - n + 1))] or (
        [letters] if letters else []
    )
