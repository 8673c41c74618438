"""Japanese terms as residents spell them without kanji: in romaji inside any language
("Where can I get juminhyo?", "Como pedir o jidou teate?") or in kana only
(「こせきとうほん ひつよう」).

The spellings are learnt from the corpus itself: every run of nouns in a Japanese question
(住民票, 児童手当, 国民健康保険) is keyed by its reading, as kana and as romaji (cutlet,
from fugashi's readings). A message is then read with the terms it spells added in kanji,
so that the lexical index, the classifier and the embedding model all meet the words the
corpus uses. Romaji keys forgive long vowels and diacritics (jūminhyō, juuminhyou and
juminhyo are one key).
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata

from bot.text.japanese import normalize, tagger, to_katakana

# Longest run of nouns taken as one term, and of words looked up as one romaji term.
MAX_RUN = 4
# Shorter keys collide with ordinary words ("ni", "kai", "gomi" stays).
MIN_ROMAJI = 4
MIN_KANA = 3
# Nouns, and the prefixes and suffixes that make terms of them (保育+園, 国+保).
TERM_POS = frozenset({"名詞", "接尾辞", "接頭辞"})
LATIN_WORD = re.compile(r"[a-zA-Z\u00c0-\u024f]+")
HIRAGANA_RUN = re.compile(r"[\u3041-\u3096\u30fc]+")
# Kanji and katakana: hiragana written on to them is okurigana or an ending, not a word of
# its own (相談したい is not 死体).
ATTACHED = re.compile(r"[\u30a1-\u30fa\u4e00-\u9fff]")
KANJI = re.compile(r"[\u4e00-\u9fff]")
# Long vowels as residents write them or not: juuminhyou, jūminhyō -> juminhyo.
_LONG = [("ou", "o"), ("oo", "o"), ("uu", "u"), ("aa", "a"), ("ee", "e"), ("ii", "i")]

_romanizer_lock = threading.Lock()
_romanizer = None


def romaji_key(text: str) -> str:
    """The comparison key of a romaji spelling: ascii letters, lower case, long vowels and
    Kunrei spellings folded."""
    plain = unicodedata.normalize("NFKD", text.lower())
    key = "".join(c for c in plain if "a" <= c <= "z")
    key = re.sub(r"(?<!s)si", "shi", key)
    key = re.sub(r"(?<![cs])ti", "chi", key)
    key = re.sub(r"(?<![ts])tu", "tsu", key)
    key = re.sub(r"(?<![cs])hu", "fu", key)
    key = key.replace("zi", "ji")
    for kunrei, hepburn in (("zy", "j"), ("jy", "j"), ("sy", "sh"), ("ty", "ch")):
        key = key.replace(kunrei, hepburn)
    key = re.sub(r"m(?=[bp])", "n", key)
    for long, short in _LONG:
        key = key.replace(long, short)
    return key


def _romaji(kana: str) -> str:
    global _romanizer
    with _romanizer_lock:
        if _romanizer is None:
            import cutlet  # imported lazily: it builds its own tagger

            _romanizer = cutlet.Cutlet()
            _romanizer.use_foreign_spelling = False  # カード is kaado, as residents write it
        return _romanizer.romaji(kana)


class Spellings:
    """Kana and romaji keys of the corpus's Japanese terms, and the kanji they stand for."""

    def __init__(self, by_kana: dict[str, str], by_romaji: dict[str, str]) -> None:
        self.by_kana = by_kana
        self.by_romaji = by_romaji
        self._longest_kana = max((len(k) for k in by_kana), default=0)

    def __len__(self) -> int:
        return len(self.by_kana)

    @classmethod
    def learn(
        cls, japanese: dict[str, list[str]], foreign: dict[str, list[str]] | None = None
    ) -> Spellings:
        """Learn from each entry's Japanese questions and answer. ``foreign``, each entry's
        questions in the other languages, tells a romaji term from a word of those
        languages: residents write 住民票 as "juminhyo" in the questions of the entries that
        use 住民票, while "taken" (他県) turns up anywhere."""
        terms: dict[str, str] = {}  # kana reading -> surface
        uses: dict[str, set[str]] = {}  # surface -> entries whose Japanese uses it
        for entry, questions in japanese.items():
            for text in questions:
                for surface, reading in _noun_runs(text):
                    if len(reading) >= MIN_KANA and KANJI.search(surface):
                        terms.setdefault(reading, surface)
                        uses.setdefault(surface, set()).add(entry)
        written: dict[str, set[str]] = {}  # romaji key of a foreign word -> entries
        for entry, questions in (foreign or {}).items():
            for text in questions:
                for word in LATIN_WORD.findall(text):
                    written.setdefault(romaji_key(word), set()).add(entry)
        by_romaji: dict[str, str] = {}
        for reading, surface in terms.items():
            key = romaji_key(_romaji(reading))
            elsewhere = written.get(key, set()) - uses.get(surface, set())
            if len(key) >= MIN_ROMAJI and len(elsewhere) <= len(written.get(key, ())) / 2:
                by_romaji.setdefault(key, surface)
        return cls(terms, by_romaji)

    def expand(self, text: str) -> str:
        """``text`` with the kanji of every term it spells in romaji or kana added."""
        normalized = normalize(text)
        found = self._in_romaji(normalized) + self._in_kana(normalized)
        return f"{text} {' '.join(found)}" if found else text

    def _in_romaji(self, text: str) -> list[str]:
        words = [(m.group(), m.start(), m.end()) for m in LATIN_WORD.finditer(text)]
        found: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_RUN, len(words) - i), 0, -1):
                run = words[i : i + n]
                # Words of one term are written together or apart, never across punctuation.
                if any(text[a[2] : b[1]].strip(" -") for a, b in itertools.pairwise(run)):
                    continue
                surface = self.by_romaji.get(romaji_key("".join(w for w, _, _ in run)))
                if surface is not None:
                    found.append(surface)
                    i += n
                    break
            else:
                i += 1
        return found

    def _in_kana(self, text: str) -> list[str]:
        found: list[str] = []
        for match in HIRAGANA_RUN.finditer(text):
            start, end = match.span()
            if (start and ATTACHED.match(text[start - 1])) or ATTACHED.match(text[end : end + 1]):
                continue
            kana = to_katakana(match.group())
            i = 0
            while i <= len(kana) - MIN_KANA:
                for stop in range(min(len(kana), i + self._longest_kana), i + MIN_KANA - 1, -1):
                    surface = self.by_kana.get(kana[i:stop])
                    if surface is not None:
                        found.append(surface)
                        i = stop
                        break
                else:
                    i += 1
        return found


def _noun_runs(text: str) -> list[tuple[str, str]]:
    """Every run of up to MAX_RUN consecutive nouns (with their prefixes and suffixes) in
    ``text``: (surface, kana reading)."""
    words = [
        (w.surface, w.feature.pos1 in TERM_POS, to_katakana(w.feature.kana or ""))
        for w in tagger()(normalize(text))
    ]
    runs: list[tuple[str, str]] = []
    for i in range(len(words)):
        surface, reading = "", ""
        for j in range(i, min(len(words), i + MAX_RUN)):
            word, noun, kana = words[j]
            if not noun or not kana:
                break
            surface, reading = surface + word, reading + kana
            runs.append((surface, reading))
    return runs
