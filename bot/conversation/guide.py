"""What staff wrote in faq/conversation.yml: facets, relations, switch markers, generic
words and the clarifying questions. Read again whenever the file changes.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.faq.corpus import Corpus, Entry
from bot.text.japanese import analyze, normalize
from bot.text.language import LANGUAGES

logger = logging.getLogger(__name__)

HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Languages whose generic words are removed as written rather than word by word.
UNSPLIT = ("zh", "ko")


class GuideError(ValueError):
    """faq/conversation.yml is malformed or names entries the corpus does not have."""


def _phrase_pattern(phrases: Iterable[str], endings: bool = False) -> re.Pattern[str] | None:
    """One pattern for all ``phrases``; a Latin phrase matches only as whole words and, with
    ``endings``, a Korean one with the particles and endings written on to it (요금은요)."""
    parts = []
    for phrase in sorted({normalize(p).lower() for p in phrases if p}, key=len, reverse=True):
        escaped = re.escape(phrase)
        if phrase.isascii():
            escaped = rf"(?<!\w){escaped}(?!\w)"
        elif endings and HANGUL.search(phrase[-1]):
            escaped += r"[\uac00-\ud7a3]*"
        parts.append(escaped)
    return re.compile("|".join(parts)) if parts else None


def folded(text: str) -> str:
    return normalize(text).lower()


@dataclass(frozen=True)
class Clarification:
    """One ambiguous subject: the entries it may mean and the words that make it ambiguous."""

    key: str
    entries: tuple[str, ...]
    # Each group: words that must all appear for a message to be this ambiguous.
    groups: tuple[tuple[str, ...], ...]

    def matched_words(self, text: str) -> tuple[str, ...] | None:
        """The words of the first group that ``text`` (folded) contains, or None."""
        for group in self.groups:
            if all(word in text for word in group):
                return group
        return None


@dataclass
class Guide:
    facets: dict[str, re.Pattern[str]] = field(default_factory=dict)
    facet_order: tuple[str, ...] = ()
    by_category: dict[str, dict[str, str]] = field(default_factory=dict)
    by_entry: dict[str, dict[str, str]] = field(default_factory=dict)
    switch: re.Pattern[str] | None = None
    generic: frozenset[str] = frozenset()
    # Words that say what to do but not for which procedure (申請, pay): generic for a
    # follow-up, telling for a clarifying question's options.
    procedure: frozenset[str] = frozenset()
    # Generic words of languages written without spaces that fugashi does not split (zh,
    # ko): removed as they are written.
    generic_phrases: re.Pattern[str] | None = None
    clarifications: tuple[Clarification, ...] = ()

    # -- reading messages -------------------------------------------------------------------

    def facets_in(self, text: str) -> list[str]:
        """The facets a message asks about, in the file's order. Words inside a longer
        facet phrase do not count on their own: "bao nhiêu ngày" asks how many days, not
        how much."""
        low = folded(text)
        spans = {
            name: [m.span() for m in self.facets[name].finditer(low) if m.group()]
            for name in self.facet_order
        }
        every = [span for found in spans.values() for span in found]

        def inside_longer(span: tuple[int, int]) -> bool:
            start, end = span
            return any(s <= start and end <= e and e - s > end - start for s, e in every)

        return [
            name
            for name in self.facet_order
            if any(not inside_longer(span) for span in spans[name])
        ]

    def has_switch_marker(self, text: str) -> bool:
        return bool(self.switch and self.switch.search(folded(text)))

    def remainder(self, text: str, also: Iterable[str] = (), keep_details: bool = False) -> str:
        """What is left of ``text`` without switch markers, ``also``, generic words and,
        unless ``keep_details``, facet and procedure words: the words that could name a
        procedure (or, with ``keep_details``, choose among procedures). Empty when none are
        left."""
        low = folded(text)
        patterns = [self.switch] if keep_details else [*self.facets.values(), self.switch]
        ignored = self.generic if keep_details else self.generic | self.procedure
        for pattern in patterns:
            if pattern is not None:
                low = pattern.sub(" ", low)
        for word in also:
            low = low.replace(word, " ")
        if self.generic_phrases is not None:
            low = self.generic_phrases.sub(" ", low)
        words = [
            m.text
            for m in analyze(low)
            # unidic tags Hangul as symbols: a Korean word counts as a word here
            if (m.is_content or HANGUL.search(m.text))
            and m.text not in ignored
            and m.lemma.lower() not in ignored
        ]
        return " ".join(words)

    def related(self, entry: Entry, facet: str) -> str | None:
        """The entry that answers ``facet`` for ``entry``'s procedure, if staff named one."""
        own = self.by_entry.get(entry.id, {})
        if facet in own:
            return own[facet]
        return self.by_category.get(entry.category, {}).get(facet)

    def is_related(self, topic: Entry, other: Entry) -> bool:
        """Whether ``other`` belongs to the conversation about ``topic``."""
        if other.id == topic.id or other.category == topic.category:
            return True
        relations = {**self.by_category.get(topic.category, {}), **self.by_entry.get(topic.id, {})}
        return other.id in relations.values()

    def ambiguous(self, text: str) -> tuple[Clarification, tuple[str, ...]] | None:
        low = folded(text)
        for clarification in self.clarifications:
            words = clarification.matched_words(low)
            if words is not None:
                return clarification, words
        return None

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def from_data(cls, data: Any, corpus: Corpus | None = None) -> Guide:
        if not isinstance(data, dict):
            raise GuideError("conversation.yml must be a mapping")
        facets_data = _mapping(data.get("facets", {}), "facets")
        facets: dict[str, re.Pattern[str]] = {}
        for name, by_lang in facets_data.items():
            pattern = _phrase_pattern(_phrases(by_lang, f"facets.{name}"), endings=True)
            if pattern is not None:
                facets[str(name)] = pattern
        relations = _mapping(data.get("relations", {}), "relations")
        by_category = _relations(relations.get("categories", {}), "relations.categories", facets)
        by_entry = _relations(relations.get("entries", {}), "relations.entries", facets)
        clarifications = []
        for key, spec in _mapping(data.get("clarify", {}), "clarify").items():
            spec = _mapping(spec, f"clarify.{key}")
            entries = tuple(str(e) for e in spec.get("entries") or [])
            if len(entries) < 2:
                raise GuideError(f"clarify.{key}: name at least two entries")
            groups = []
            for lang_groups in _mapping(spec.get("when", {}), f"clarify.{key}.when").values():
                for group in lang_groups or []:
                    words = tuple(folded(str(w)) for w in (group or []) if str(w).strip())
                    if words:
                        groups.append(words)
            # Longer groups first, so that "taxes" is taken whole rather than as "tax" + "es".
            groups.sort(key=lambda g: -sum(len(w) for w in g))
            clarifications.append(Clarification(str(key), entries, tuple(groups)))
        generic = _mapping(data.get("generic_words", {}), "generic_words")
        # Chinese has no spaces: its words are removed as written. Korean words are spaced
        # but carry particles: phrases of three letters or more are removed as written, and
        # every item also as a whole word (a particle left alone, 「에도」).
        unsplit = {
            lang: [w for w in words if lang == "zh" or len(str(w)) >= 3]
            for lang, words in generic.items()
            if lang in UNSPLIT
        }
        generic = {lang: words for lang, words in generic.items() if lang != "zh"}
        guide = cls(
            facets=facets,
            facet_order=tuple(facets),
            by_category=by_category,
            by_entry=by_entry,
            switch=_phrase_pattern(_phrases(data.get("switch_markers", {}), "switch_markers")),
            generic=frozenset(folded(w) for w in _phrases(generic, "generic_words")),
            procedure=frozenset(
                folded(w) for w in _phrases(data.get("procedure_words", {}), "procedure_words")
            ),
            generic_phrases=_phrase_pattern(_phrases(unsplit, "generic_words")),
            clarifications=tuple(clarifications),
        )
        if corpus is not None:
            guide.check(corpus)
        return guide

    def check(self, corpus: Corpus) -> None:
        """Every entry id the guide names must exist; every category must be the corpus's."""
        problems = []
        categories = {e.category for e in corpus.entries.values()}
        for category, facets in self.by_category.items():
            if category not in categories:
                problems.append(f"relations.categories: unknown category {category!r}")
            problems += _unknown(facets.values(), corpus, f"relations.categories.{category}")
        for entry_id, facets in self.by_entry.items():
            problems += _unknown([entry_id, *facets.values()], corpus, "relations.entries")
        for clarification in self.clarifications:
            problems += _unknown(clarification.entries, corpus, f"clarify.{clarification.key}")
        if problems:
            raise GuideError("; ".join(problems))


def _unknown(ids: Iterable[str], corpus: Corpus, where: str) -> list[str]:
    return [f"{where}: no entry {i!r}" for i in ids if i not in corpus.entries]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise GuideError(f"{where} must be a mapping")
    return value


def _phrases(by_lang: Any, where: str) -> list[str]:
    phrases: list[str] = []
    for lang, items in _mapping(by_lang, where).items():
        if lang not in LANGUAGES:
            raise GuideError(f"{where}: unknown language {lang!r}")
        if not isinstance(items, list):
            raise GuideError(f"{where}.{lang} must be a list")
        phrases += [str(item) for item in items if str(item).strip()]
    return phrases


def _relations(value: Any, where: str, facets: dict[str, Any]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for key, mapping in _mapping(value, where).items():
        row = _mapping(mapping, f"{where}.{key}")
        for facet in row:
            if facet not in facets:
                raise GuideError(f"{where}.{key}: unknown facet {facet!r}")
        out[str(key)] = {str(f): str(e) for f, e in row.items()}
    return out


class GuideFile:
    """The guide at ``path``, read again when the file changes (checked on each use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._guide = Guide()

    def get(self, corpus: Corpus | None = None) -> Guide:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            return Guide()
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
                    self._guide = Guide.from_data(data, corpus)
                except (GuideError, yaml.YAMLError, UnicodeDecodeError) as exc:
                    # A broken edit keeps the previous guide: residents keep their follow-ups,
                    # and `madoguchi faq validate` tells staff what is wrong.
                    logger.error("%s not reloaded: %s", self.path, exc)
            return self._guide
