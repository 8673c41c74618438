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
from bot.text.japanese import CompoundTable
from bot.text.language import detect_language
from bot.text.terms import BIGRAM, char_ngrams, retrieval_terms

logger = logging.getLogger(__name__)

# How much each field of an entry counts: each question on its own (the closest one wins),
# all its questions together, its answers, and the character bigrams of its questions
# (which still match a misspelt or kana-only question). Tuned on tests/eval/dev.jsonl.
FIELD_WEIGHTS = {"question": 1.0, "entry": 0.3, "answer": 0.3, "chars": 0.2}
UNKNOWN_BIGRAM_SHARE = 0.25


@dataclass(frozen=True)
class Thresholds:
    """Confidence levels for answering outright and for offering suggestions.

    Chosen on tests/eval/dev.jsonl (never on the test set): the lowest answer level that
    declines at least 90% of the dev set's out-of-scope questions.
    """

    answer: float = 0.35
    suggest: float = 0.2
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
    # The best-ranked entries whatever their confidence (for logging, routing, evaluation).
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

    def __init__(self, docs: list[list[str]], owners: list[int], ngrams: bool = False) -> None:
        self.ngrams = ngrams
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
        return sum(self.word_ceiling.get(w, self._unknown(w)) for w in words)

    def _unknown(self, word: str) -> float:
        # An unknown word is evidence the question is about something else. An unknown
        # character bigram often just spans a word boundary, so it counts for less.
        if self.ngrams or word.startswith(BIGRAM):
            return UNKNOWN_BIGRAM_SHARE * self.unknown_ceiling
        return self.unknown_ceiling


class FaqEngine:
    """Ranks FAQ entries for a question and reloads itself when the corpus files change."""

    def __init__(
        self,
        corpus_dir: str | Path,
        profile_path: str | Path,
        terms_path: str | Path | None = None,
        thresholds: Thresholds | None = None,
        reload_interval: float = 2.0,
        strict: bool = True,
    ) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.profile_path = Path(profile_path)
        self.terms_path = Path(terms_path) if terms_path else None
        self.thresholds = thresholds or Thresholds()
        self.reload_interval = reload_interval
        self.strict = strict
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
            state = _State.build(self.corpus_dir, self.profile_path, self.terms_path, self.strict)
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
            candidates=tuple(ranked),
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
    """One built index: the corpus and one BM25 index per field of its entries."""

    corpus: Corpus
    terms: CompoundTable | None
    entries: list[Entry]
    fields: list[tuple[str, _Index, float]]

    @classmethod
    def build(
        cls, corpus_dir: Path, profile_path: Path, terms_path: Path | None, strict: bool = True
    ) -> _State:
        profile = Profile.load(profile_path)
        corpus = Corpus.load(corpus_dir, profile, strict=strict)
        terms = CompoundTable.from_file(terms_path) if terms_path else None
        entries = list(corpus.entries.values())
        docs: dict[str, tuple[list[list[str]], list[int]]] = {f: ([], []) for f in FIELD_WEIGHTS}

        def add(field: str, words: list[str], owner: int) -> None:
            docs[field][0].append(words)
            docs[field][1].append(owner)

        for number, entry in enumerate(entries):
            all_questions: list[str] = []
            for questions in entry.questions.values():
                for question in questions:
                    words = _words(question, terms)
                    add("question", words, number)
                    add("chars", char_ngrams(question), number)
                    all_questions += words
            add("entry", all_questions, number)
            for answer in entry.answer.values():
                add("answer", _words(profile.render(answer), terms), number)
        fields = [
            (f, _Index(*docs[f], ngrams=f == "chars"), weight)
            for f, weight in FIELD_WEIGHTS.items()
            if weight
        ]
        return cls(corpus, terms, entries, fields)

    def words(self, text: str) -> dict[str, list[str]]:
        """The query's terms for each field."""
        words = _words(text, self.terms)
        return {"question": words, "entry": words, "answer": words, "chars": char_ngrams(text)}

    def rank(self, words: dict[str, list[str]], limit: int) -> list[Result]:
        if not any(words.values()) or not self.entries:
            return []
        n = len(self.entries)
        scores = sum(weight * index.entry_scores(words[f], n) for f, index, weight in self.fields)
        ceiling = sum(weight * index.ceiling(words[f]) for f, index, weight in self.fields)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [
            Result(self.entries[i], float(scores[i]), min(1.0, float(scores[i]) / ceiling))
            for i in order
            if scores[i] > 0
        ]


def _words(text: str, terms: CompoundTable | None) -> list[str]:
    return retrieval_terms(text, terms)
