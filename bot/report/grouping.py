"""Groups near-identical questions, so that staff read one line per topic, not per message.

Texts are compared by their retrieval terms (the words the FAQ engine searches by): two texts
belong together when their term sets overlap enough (Jaccard similarity). Texts with the same
normalised wording always belong together. Greedy and order-dependent, which is good enough
for a few thousand unanswered questions a month and keeps the result easy to explain.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.text.terms import retrieval_terms

# Labels redaction put in place of personal data ([電話番号], [name]) say nothing about the topic.
_LABEL = re.compile(r"\[[^\[\]]{1,12}\]")
DEFAULT_THRESHOLD = 0.4


@dataclass
class Group:
    """Texts about the same thing. ``members`` are indices into the grouped sequence."""

    representative: str
    members: list[int] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    terms: frozenset[str] = frozenset()

    @property
    def count(self) -> int:
        return len(self.members)


def normalize_text(text: str) -> str:
    """Case-, width- and punctuation-insensitive form of a text."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZC")


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def group_texts(
    texts: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
    max_examples: int = 3,
    terms: Callable[[str], list[str]] = retrieval_terms,
) -> list[Group]:
    """Group ``texts``; the largest groups first. Each group's representative is its most
    frequent wording, and ``examples`` are distinct wordings, most frequent first."""
    by_key: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        by_key.setdefault(normalize_text(_LABEL.sub(" ", text)) or text, []).append(index)
    # Most frequent wordings first, so that they become the representatives.
    keys = sorted(by_key, key=lambda k: (-len(by_key[k]), by_key[k][0]))
    groups: list[Group] = []
    for key in keys:
        indices = by_key[key]
        text = texts[indices[0]]
        key_terms = frozenset(terms(_LABEL.sub(" ", text)))
        best, best_score = None, 0.0
        for group in groups:
            score = jaccard(key_terms, group.terms)
            if score > best_score:
                best, best_score = group, score
        if best is None or best_score < threshold:
            best = Group(representative=text, terms=key_terms)
            groups.append(best)
        best.members.extend(indices)
        if len(best.examples) < max_examples and text not in best.examples:
            best.examples.append(text)
    groups.sort(key=lambda g: (-g.count, min(g.members)))
    return groups
