"""The FAQ engine: finds the entries that answer a question, and says when none does.

Retrieval is BM25 (bm25s) over the lemmas of the entries' questions and, with a lower
weight, their answers. Besides the raw score each result carries a *confidence* in [0, 1]:
the score divided by the best score the query's words could reach in this corpus, where a
word the corpus never uses counts as an unmatched, informative word. 「明日の天気は？」 thus
gets confidence 0 however the scores of other words fall, and the answer/suggest/decline
decision does not depend on the corpus size.

The engine watches its files: an edited or added entry is served within seconds, with no
restart and no Rasa training.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from bot.faq.corpus import Corpus, Entry, Problem, fingerprint
from bot.faq.profile import Profile
from bot.text.japanese import CompoundTable, content_lemmas
from bot.text.language import detect_language

logger = logging.getLogger(__name__)

# Lemmas too common in questions to tell entries apart ("how do I ... please tell me").
STOP_LEMMAS = frozenset(
    (
        "為る 有る 居る 成る 出来る 下さる 教える 良い 事 物 此れ 其れ 何 如何 私 方法 ください "
        "what how do does did i my me the a an to of for in on is are can should be it this "
        "please tell want need get where when which who"
    ).split()
)
ANSWER_WEIGHT = 0.3


@dataclass(frozen=True)
class Thresholds:
    """Confidence levels for answering outright and for offering suggestions."""

    answer: float = 0.45
    suggest: float = 0.25
    # A runner-up within this share of the top score is worth a "did you mean".
    close_ratio: float = 0.75
    max_suggestions: int = 3


@dataclass(frozen=True)
class Result:
    entry: Entry
    score: float
    confidence: float


@dataclass(frozen=True)
class Reply:
    """What the engine makes of one question."""

    lang: str
    results: tuple[Result, ...]
    answered: bool
    # The best-ranked entries whatever their confidence, for logging and routing.
    candidates: tuple[Result, ...] = ()

    @property
    def best(self) -> Result | None:
        return self.results[0] if self.results else None

    @property
    def outcome(self) -> str:
        if self.answered:
            return "answered"
        return "suggestions" if self.results else "unanswered"


class _Index:
    """BM25 over one kind of text (questions or answers), mapping documents to entries."""

    def __init__(self, docs: list[list[str]], owners: list[int]) -> None:
        self.owners = np.asarray(owners, dtype=np.int64)
        self.bm25 = bm25s.BM25()
        # bm25s cannot index an empty document list; keep a placeholder that owns nothing.
        self.bm25.index(docs or [["\x00"]], show_progress=False)
        scores = self.bm25.scores
        indptr, data = scores["indptr"], scores["data"]
        # The best score each word can contribute, for the confidence's denominator.
        self.word_ceiling = {
            word: float(data[indptr[i] : indptr[i + 1]].max(initial=0.0))
            for word, i in self.bm25.vocab_dict.items()
            if i + 1 < len(indptr)  # bm25s adds an empty word with no column
        }
        self.unknown_ceiling = max(self.word_ceiling.values(), default=1.0) or 1.0

    def entry_scores(self, words: list[str], n_entries: int) -> np.ndarray:
        """Each entry's best document score for ``words``."""
        best = np.zeros(n_entries, dtype=np.float64)
        if not words or not len(self.owners):
            return best
        doc_scores = self.bm25.get_scores(words)[: len(self.owners)]
        np.maximum.at(best, self.owners, doc_scores)
        return best

    def ceiling(self, words: list[str]) -> float:
        return sum(self.word_ceiling.get(w, self.unknown_ceiling) for w in words)


class FaqEngine:
    """Ranks FAQ entries for a question and reloads itself when the corpus files change."""

    def __init__(
        self,
        corpus_dir: str | Path,
        profile_path: str | Path,
        terms_path: str | Path | None = None,
        thresholds: Thresholds | None = None,
        reload_interval: float = 2.0,
    ) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.profile_path = Path(profile_path)
        self.terms_path = Path(terms_path) if terms_path else None
        self.thresholds = thresholds or Thresholds()
        self.reload_interval = reload_interval
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._fingerprint = ""
        self._state: _State | None = None
        self.reload(force=True)

    # -- loading ---------------------------------------------------------------------------

    @property
    def corpus(self) -> Corpus:
        assert self._state is not None
        return self._state.corpus

    @property
    def profile(self) -> Profile:
        return self.corpus.profile

    @property
    def problems(self) -> list[Problem]:
        return self.corpus.problems

    def _watched(self) -> tuple[Path, ...]:
        return (self.profile_path, self.terms_path) if self.terms_path else (self.profile_path,)

    def reload(self, force: bool = False) -> bool:
        """Rebuild the index if the files changed. Returns True when it rebuilt.

        A corpus that no longer loads cleanly does not replace a working one: residents keep
        getting the last good answers while the problems are logged for staff.
        """
        with self._lock:
            self._checked_at = time.monotonic()
            current = fingerprint(self.corpus_dir, self._watched())
            if current == self._fingerprint and not force:
                return False
            self._fingerprint = current
            state = _State.build(self.corpus_dir, self.profile_path, self.terms_path)
            if state.corpus.problems:
                for problem in state.corpus.problems:
                    logger.warning("FAQ corpus problem: %s", problem)
                if self._state is not None:
                    logger.warning("Keeping the previous FAQ index until the problems are fixed.")
                    return False
            self._state = state
            logger.info("FAQ index built: %d entries", len(state.corpus))
            return True

    def _maybe_reload(self) -> None:
        if time.monotonic() - self._checked_at >= self.reload_interval:
            self.reload()

    # -- answering -------------------------------------------------------------------------

    def search(self, text: str, lang: str | None = None, limit: int = 10) -> Reply:
        """Rank entries for ``text``; ``lang`` is the resident's language if known."""
        self._maybe_reload()
        state = self._state
        assert state is not None
        ranked = state.rank(state.words(text), limit)
        t = self.thresholds
        results = tuple(r for r in ranked if r.confidence >= t.suggest)
        answered = bool(results) and results[0].confidence >= t.answer
        return Reply(
            lang=lang or detect_language(text),
            results=results if answered else results[: t.max_suggestions],
            answered=answered,
            candidates=tuple(ranked[:3]),
        )

    def suggestions(self, reply: Reply) -> list[Result]:
        """Runners-up close enough to the top result to offer as "did you mean"."""
        if not reply.results:
            return []
        top = reply.results[0].score
        close = [r for r in reply.results[1:] if r.score >= self.thresholds.close_ratio * top]
        return close[: self.thresholds.max_suggestions]

    def render_answer(self, entry: Entry, lang: str) -> tuple[str, str]:
        """The entry's answer with the profile's facts filled in, and its language."""
        text, answer_lang = entry.answer_in(lang)
        return self.profile.render(text, answer_lang), answer_lang


@dataclass
class _State:
    corpus: Corpus
    terms: CompoundTable | None
    entries: list[Entry]
    questions: _Index
    answers: _Index

    @classmethod
    def build(cls, corpus_dir: Path, profile_path: Path, terms_path: Path | None) -> _State:
        profile = Profile.load(profile_path)
        corpus = Corpus.load(corpus_dir, profile)
        terms = CompoundTable.from_file(terms_path) if terms_path else None
        entries = list(corpus.entries.values())
        q_docs, q_owners, a_docs, a_owners = [], [], [], []
        for number, entry in enumerate(entries):
            for questions in entry.questions.values():
                for question in questions:
                    q_docs.append(_words(question, terms))
                    q_owners.append(number)
            for answer in entry.answer.values():
                a_docs.append(_words(profile.render(answer), terms))
                a_owners.append(number)
        return cls(corpus, terms, entries, _Index(q_docs, q_owners), _Index(a_docs, a_owners))

    def words(self, text: str) -> list[str]:
        return _words(text, self.terms)

    def rank(self, words: list[str], limit: int) -> list[Result]:
        if not words or not self.entries:
            return []
        n = len(self.entries)
        scores = self.questions.entry_scores(words, n) + ANSWER_WEIGHT * self.answers.entry_scores(
            words, n
        )
        ceiling = self.questions.ceiling(words) + ANSWER_WEIGHT * self.answers.ceiling(words)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [
            Result(self.entries[i], float(scores[i]), min(1.0, float(scores[i]) / ceiling))
            for i in order
            if scores[i] > 0
        ]


def _words(text: str, terms: CompoundTable | None) -> list[str]:
    return [w for w in content_lemmas(text, terms) if w not in STOP_LEMMAS]
