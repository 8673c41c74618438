"""Japanese text analysis shared by the Rasa tokenizer and the FAQ engine.

Only the standard library and fugashi (with unidic-lite) are imported here, so the module
works in both the Rasa environment and the app environment.

The analysis keeps offsets into the *original* text although MeCab sees the NFKC-normalised
text: NFKC may change lengths (half-width ｶﾞ becomes one ガ, ㍻ becomes 平成), and Rasa needs
offsets that point into the message the resident typed.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# CJK radicals that PDFs and some IMEs emit in place of the real ideographs and that NFKC
# leaves alone (NFKC already maps the Kangxi radicals U+2F00..U+2FD5).
_RADICAL_FIXES = str.maketrans({"\u2ea0": "民", "\u2ed1": "長", "\u2ee9": "黄", "\u2ec4": "西"})

# Parts of speech that carry no meaning for retrieval (unidic pos1).
STOP_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白", "感動詞"})


@dataclass(frozen=True)
class Morpheme:
    """One unit of analysed text: normalised surface, lemma and offsets in the original text."""

    text: str
    lemma: str
    pos: str
    start: int
    end: int

    @property
    def is_content(self) -> bool:
        return self.pos not in STOP_POS


def normalize(text: str) -> str:
    """NFKC plus the radical fixes NFKC does not make; lower-cases nothing."""
    return unicodedata.normalize("NFKC", text).translate(_RADICAL_FIXES)


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalise ``text`` and map every normalised character back to its original index.

    Returns the normalised string and a list ``origin`` with ``len(normalised) + 1`` items:
    ``origin[i]`` is the index in ``text`` where normalised character ``i`` comes from, and
    the last item is ``len(text)``. Normalisation runs per cluster (a base character and the
    combining or half-width sound marks after it) so that composition still happens.
    """
    out: list[str] = []
    origin: list[int] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and _attaches_to_previous(text[j]):
            j += 1
        piece = normalize(text[i:j])
        out.append(piece)
        origin.extend([i] * len(piece))
        i = j
    origin.append(len(text))
    return "".join(out), origin


def _attaches_to_previous(char: str) -> bool:
    # Combining marks, and the half-width dakuten/handakuten that NFKC composes into the kana.
    return unicodedata.combining(char) != 0 or char in "\uff9e\uff9f"


def _original_end(origin: list[int], end: int) -> int:
    """Original index just past normalised character ``end - 1``.

    When one original character expanded into several (㍻ -> 平成) and a morpheme ends inside
    the expansion, the end is pushed to the end of that original character.
    """
    last = origin[end - 1]
    return next(o for o in origin[end:] if o > last)


def to_katakana(text: str) -> str:
    """Fold hiragana to katakana, so that ひっこし and ヒッコシ compare equal."""
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)


def _lemma_of(surface: str, lemma: str | None) -> str:
    if not lemma or lemma == "*":
        # Unknown words (Latin script, new coinages): the surface itself, case-folded.
        return surface.casefold()
    # unidic glosses loanwords as "カード-card"; keep the Japanese part.
    return lemma.split("-", 1)[0] if "-" in lemma[1:] else lemma


class CompoundTable:
    """Municipal terms that MeCab splits (マイナ保険証, 書かない窓口) joined into one unit.

    Keys are matched against consecutive morphemes, comparing katakana-folded surfaces so
    that a term typed in hiragana is found too; the value is the lemma of the joined unit,
    which also lets a table list synonyms (マイナカード -> マイナンバーカード).
    """

    MAX_PARTS = 10

    def __init__(self, terms: Mapping[str, str] | None = None) -> None:
        self._terms = {to_katakana(normalize(k)): normalize(v) for k, v in (terms or {}).items()}
        self._longest = max((len(k) for k in self._terms), default=0)

    def __len__(self) -> int:
        return len(self._terms)

    @classmethod
    def from_file(cls, path: str | Path) -> CompoundTable:
        """Read a table of ``term: lemma`` lines (YAML-like, ``#`` comments allowed)."""
        terms: dict[str, str] = {}
        for line_no, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            term, sep, lemma = line.partition(":")
            if not sep or not term.strip():
                raise ValueError(f"{path}:{line_no}: expected 'term: lemma', got {raw!r}")
            terms[term.strip()] = lemma.strip() or term.strip()
        return cls(terms)

    def join(self, morphemes: list[Morpheme]) -> list[Morpheme]:
        """Replace each longest run of morphemes that spells a table term by one morpheme."""
        if not self._terms:
            return morphemes
        joined: list[Morpheme] = []
        i = 0
        while i < len(morphemes):
            match = self._longest_match(morphemes, i)
            if match is None:
                joined.append(morphemes[i])
                i += 1
                continue
            j, lemma = match
            parts = morphemes[i:j]
            joined.append(
                Morpheme(
                    text="".join(m.text for m in parts),
                    lemma=lemma,
                    pos="名詞",
                    start=parts[0].start,
                    end=parts[-1].end,
                )
            )
            i = j
        return joined

    def _longest_match(self, morphemes: list[Morpheme], i: int) -> tuple[int, str] | None:
        best: tuple[int, str] | None = None
        spelled = ""
        for j in range(i, min(len(morphemes), i + self.MAX_PARTS)):
            # Morphemes separated by a space in the original are not one term.
            if j > i and morphemes[j].start != morphemes[j - 1].end:
                break
            spelled += to_katakana(morphemes[j].text)
            if len(spelled) > self._longest:
                break
            lemma = self._terms.get(spelled)
            if lemma is not None:
                best = (j + 1, lemma)
        return best


_per_thread = threading.local()


def tagger():  # type: ignore[no-untyped-def]
    """This thread's fugashi tagger. One per thread: a tagger's nodes are views into its own
    buffer, so a parse in another thread would change them while they are read."""
    found = getattr(_per_thread, "tagger", None)
    if found is None:
        import fugashi  # imported lazily: loading the dictionary takes a moment

        found = _per_thread.tagger = fugashi.Tagger()
    return found


def analyze(text: str, compounds: CompoundTable | None = None) -> list[Morpheme]:
    """Split ``text`` into morphemes with lemmas and original-text offsets (spaces dropped)."""
    normalized, origin = normalize_with_offsets(text)
    morphemes: list[Morpheme] = []
    cursor = 0
    for word in tagger()(normalized):
        surface = word.surface
        start = normalized.find(surface, cursor)
        if start < 0:  # MeCab never rewrites the surface, but stay safe
            continue
        end = start + len(surface)
        cursor = end
        pos = word.feature.pos1 or ""
        if pos == "空白" or not surface.strip():
            continue
        morphemes.append(
            Morpheme(
                text=surface,
                lemma=_lemma_of(surface, word.feature.lemma),
                pos=pos,
                start=origin[start],
                end=_original_end(origin, end),
            )
        )
    return compounds.join(morphemes) if compounds else morphemes


def content_lemmas(
    text: str, compounds: CompoundTable | None = None, *, with_parts: bool = True
) -> list[str]:
    """Lemmas of the meaningful words of ``text``, for retrieval.

    Particles, auxiliaries and symbols are dropped. With ``with_parts`` a joined compound
    contributes both its own lemma and the lemmas of its parts, so that 「カード」 alone still
    meets 「マイナンバーカード」.
    """
    plain = analyze(text)
    lemmas = [m.lemma for m in plain if m.is_content]
    if compounds:
        joined = compounds.join(plain)
        extra = [m.lemma for m in joined if m not in plain]
        lemmas = lemmas + extra if with_parts else _without_parts(joined)
    return lemmas


def _without_parts(morphemes: Iterable[Morpheme]) -> list[str]:
    return [m.lemma for m in morphemes if m.is_content]
