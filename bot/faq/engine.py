"""The FAQ engine: finds the entries that answer a question, and says when none does.

Two retrievers are fused:

- lexical: BM25 (bm25s) over the lemmas of the entries' questions, all questions together,
  answers, and character bigrams. Its score is turned into a *lexical confidence* in
  [0, 1]: the score divided by the best score the query's words could reach in this
  corpus, where a word the corpus never uses counts as an unmatched, informative word.
  「明日の天気は？」 thus gets 0 whatever the other words score.
- dense (optional): cosine similarity between sentence-transformers embeddings of the
  query and of each question (see bot.faq.embeddings), and in a corpus without
  paraphrases of each sentence of the answers.

An entry's confidence is a weighted sum of the two, and the answer/suggest/decline
decision compares the first entry's confidence with thresholds tuned on the dev set.
Which entry comes first is also a classifier's call where the corpus has paraphrases to
train one (bot.faq.classifier): it knows which words tell neighbouring entries apart but,
like any softmax, picks some entry for every question, so it orders without deciding.
With a model, examples of what the assistant does not answer (bot.faq.out_of_scope) are
embedded too: a question closer to one of them than to every FAQ question is never
answered outright.

The engine watches its files: an edited or added entry is served within seconds, with no
restart and no Rasa training.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from bot.faq.classifier import EntryClassifier
from bot.faq.corpus import Corpus, Entry, Problem, fingerprint
from bot.faq.directory import FaqDirectory
from bot.faq.embeddings import Encoder, answer_sentences
from bot.faq.profile import Profile
from bot.privacy.redact import without_labels
from bot.settings import Settings
from bot.text.japanese import CompoundTable
from bot.text.language import detect_language
from bot.text.spellings import Spellings
from bot.text.terms import BIGRAM, char_ngrams, retrieval_terms

logger = logging.getLogger(__name__)

# How much each field of an entry counts: each question on its own (the closest one wins),
# all its questions together, its answers, and the character bigrams of its questions
# (which still match a misspelt or kana-only question). Tuned on tests/eval/dev.jsonl.
FIELD_WEIGHTS = {"question": 1.0, "entry": 0.3, "answer": 0.3, "chars": 0.2}
# A corpus has paraphrases when its entries have this many questions on average, as a
# curated one does. A city's imported FAQ pages have one question per entry, and their
# answers carry most of their words: the answers then count for more, and there is no
# entry classifier to train. The weight was tuned on the project's corpus cut to one
# Japanese question and answer per entry, with the dev set's Japanese queries: nDCG@10
# rose from 0.718 to 0.763 (weights 0.3 to 3 tried).
PARAPHRASED = 3.0
UNPARAPHRASED_FIELD_WEIGHTS = {**FIELD_WEIGHTS, "answer": 1.5}
UNKNOWN_BIGRAM_SHARE = 0.25
# Share of the dense similarity in the fused confidence (the lexical confidence has the
# rest), and how steeply the dense similarity falls with the share of the query's words the
# corpus does not know (coverage ** power). Tuned on tests/eval/dev.jsonl and the NLU
# out-of-scope examples, averaged over models trained with three seeds, before those
# examples became the engine's own (bot.faq.out_of_scope).
DENSE_WEIGHT = 0.7
COVERAGE_POWER = 2.0
# A question is out of scope when its nearest out-of-scope example is at least this much
# more similar than its nearest FAQ question. Tuned on tests/eval/dev.jsonl.
OUT_OF_SCOPE_MARGIN = -0.04
# A question is out of scope when the entry classifier gives the out-of-scope examples'
# class at least this probability. Tuned on the dev sets (tests/eval/dev*.jsonl): the
# lowest level that raised no set's false rejection by more than 0.005 (0.2 to 0.5 tried).
OUT_OF_SCOPE_PROBABILITY = 0.3
# Share of the entry classifier's probability in the score that orders the entries (the
# confidence has the rest), where the corpus has a classifier (bot.faq.classifier). Tuned
# on tests/eval/dev.jsonl: 0.3 to 0.5 all did well, 0.4 best.
CLASSIFIER_WEIGHT = 0.4


@dataclass(frozen=True)
class Thresholds:
    """Confidence levels for answering outright and for offering suggestions.

    Chosen on tests/eval/dev.jsonl (never on the test set): of the answer levels that keep
    false rejections on the dev set under 5%, the one that declines the most out-of-scope
    questions, and the lowest of those. Suggestions start at two thirds of it. The
    lexical-only levels apply when no embedding model is available.
    """

    answer: float = 0.21
    suggest: float = 0.14
    # A runner-up within this share of the top confidence is worth a "did you mean".
    close_ratio: float = 0.85
    max_suggestions: int = 3


LEXICAL_THRESHOLDS = Thresholds(answer=0.35, suggest=0.2)
# A corpus without paraphrases (a city's imported FAQ pages) with a model trained for it
# keeps false rejections under 5% at no level. On the project's corpus cut to one question
# and answer per entry, with the dev set's Japanese queries, this is the lowest level that
# still declines 95% of the out-of-scope questions (0.979; 0.10 declined 0.938). Without a
# model the lexical levels already decline 0.958.
UNPARAPHRASED_THRESHOLDS = Thresholds(answer=0.12, suggest=0.08)


@dataclass(frozen=True)
class Result:
    entry: Entry
    score: float  # raw BM25 score
    confidence: float  # fused confidence in [0, 1], what decisions are made on


@dataclass(frozen=True)
class Reply:
    """What the engine makes of one question."""

    lang: str
    results: tuple[Result, ...]
    answered: bool
    # The best-ranked entries whatever their confidence (for logging, routing, evaluation).
    candidates: tuple[Result, ...] = ()
    # Out of scope: closer to an out-of-scope example than to any FAQ question, or put in
    # their class by the entry classifier.
    off_topic: bool = False

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

    def coverage(self, words: list[str]) -> float:
        """Share of the query's weight that falls on words this corpus knows."""
        total = self.ceiling(words)
        known = sum(self.word_ceiling.get(w, 0.0) for w in words)
        return known / total if total > 0 else 0.0

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
        encoder: Encoder | None = None,
        out_of_scope: Sequence[str] = (),
        directory: FaqDirectory | None = None,
    ) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.profile_path = Path(profile_path)
        # The files are read through ``directory``: given one, the engine indexes the very
        # corpus the rest of the process looks entries up in.
        self.directory = directory or FaqDirectory(self.corpus_dir, self.profile_path, strict)
        self.terms_path = Path(terms_path) if terms_path else None
        self._thresholds = thresholds
        self.reload_interval = reload_interval
        self.strict = strict
        self.encoder = encoder
        self.out_of_scope = tuple(out_of_scope)
        # The examples do not change when the corpus does: embedded once, not per reload.
        self._off_topic_vectors = (
            encoder.queries(list(self.out_of_scope))
            if encoder is not None and self.out_of_scope
            else None
        )
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
    def thresholds(self) -> Thresholds:
        """The levels given, else those for the kind of corpus and whether a model serves."""
        return self._levels(self._state)

    def _levels(self, state: _State | None) -> Thresholds:
        if self._thresholds is not None:
            return self._thresholds
        if self.encoder is None:
            return LEXICAL_THRESHOLDS
        return Thresholds() if state is None or state.paraphrased else UNPARAPHRASED_THRESHOLDS

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
            state = _State.build(
                self.directory.corpus(),
                self.terms_path,
                self.encoder,
                self._off_topic_vectors,
                self.out_of_scope,
            )
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
        # A redacted message's labels ([電話番号]) say nothing about the question.
        ranked, off_topic = state.rank(without_labels(text), limit)
        t = self._levels(state)
        results = tuple(r for r in ranked if r.confidence >= t.suggest)
        answered = bool(results) and results[0].confidence >= t.answer and not off_topic
        return Reply(
            lang=lang or detect_language(text),
            results=results if answered else results[: t.max_suggestions],
            answered=answered,
            candidates=tuple(ranked),
            off_topic=off_topic,
        )

    def suggestions(self, reply: Reply) -> list[Result]:
        """Runners-up close enough to the top result to offer as "did you mean"."""
        if not reply.results:
            return []
        top = reply.results[0].confidence
        close = [r for r in reply.results[1:] if r.confidence >= self.thresholds.close_ratio * top]
        return close[: self.thresholds.max_suggestions]

    def render_answer(self, entry: Entry, lang: str) -> tuple[str, str]:
        """The entry's answer with the profile's facts filled in, and its language."""
        text, answer_lang = entry.answer_in(lang)
        return self.profile.render(text, answer_lang), answer_lang


@dataclass
class _State:
    """One built index: the corpus, a BM25 index per field, and the question embeddings."""

    corpus: Corpus
    terms: CompoundTable | None
    entries: list[Entry]
    fields: list[tuple[str, _Index, float]]
    paraphrased: bool = True
    encoder: Encoder | None = None
    vectors: np.ndarray | None = None  # one row per question, normalised
    vector_owners: np.ndarray | None = None
    off_topic_vectors: np.ndarray | None = None  # one row per out-of-scope example
    classifier: EntryClassifier | None = None
    spellings: Spellings | None = None

    @classmethod
    def build(
        cls,
        corpus: Corpus,
        terms_path: Path | None,
        encoder: Encoder | None = None,
        off_topic_vectors: np.ndarray | None = None,
        out_of_scope: Sequence[str] = (),
    ) -> _State:
        profile = corpus.profile
        terms = CompoundTable.from_file(terms_path) if terms_path else None
        entries = list(corpus.entries.values())
        docs: dict[str, tuple[list[list[str]], list[int]]] = {f: ([], []) for f in FIELD_WEIGHTS}
        questions: list[str] = []
        owners: list[int] = []

        def add(field: str, words: list[str], owner: int) -> None:
            docs[field][0].append(words)
            docs[field][1].append(owner)

        for number, entry in enumerate(entries):
            all_questions: list[str] = []
            for question in (q for qs in entry.questions.values() for q in qs):
                words = _words(question, terms)
                add("question", words, number)
                add("chars", char_ngrams(question), number)
                all_questions += words
                questions.append(question)
                owners.append(number)
            add("entry", all_questions, number)
            for answer in entry.answer.values():
                add("answer", _words(profile.render(answer), terms), number)
        paraphrased = len(questions) >= PARAPHRASED * len(entries)
        weights = FIELD_WEIGHTS if paraphrased else UNPARAPHRASED_FIELD_WEIGHTS
        fields = [
            (f, _Index(*docs[f], ngrams=f == "chars"), weight)
            for f, weight in weights.items()
            if weight
        ]
        classifier = (
            EntryClassifier.train(
                docs["question"][0] + [_words(x, terms) for x in out_of_scope],
                docs["chars"][0] + [char_ngrams(x) for x in out_of_scope],
                owners + [len(entries)] * len(out_of_scope),
                len(entries) + bool(out_of_scope),
            )
            if paraphrased
            else None
        )
        spellings = Spellings.learn(
            {
                e.id: [*e.questions.get("ja", ()), profile.render(e.answer.get("ja", ""))]
                for e in entries
            },
            {
                e.id: [q for lang, qs in e.questions.items() if lang != "ja" for q in qs]
                for e in entries
            },
        )
        state = cls(
            corpus, terms, entries, fields, paraphrased, classifier=classifier, spellings=spellings
        )
        if encoder is not None and not paraphrased:
            # One question per entry is little for the dense side to match: the answer's
            # sentences are matched too (on the one-question corpus, nDCG@10 0.778 to 0.782).
            for number, entry in enumerate(entries):
                for sentence in answer_sentences(profile.render(a) for a in entry.answer.values()):
                    questions.append(sentence)
                    owners.append(number)
        if encoder is not None and questions:
            state.encoder = encoder
            state.vectors = encoder.passages(questions)
            state.vector_owners = np.asarray(owners, dtype=np.int64)
            state.off_topic_vectors = off_topic_vectors
        return state

    def rank(self, text: str, limit: int) -> tuple[list[Result], bool]:
        """The best entries for ``text``, and whether it is closer to an out-of-scope example."""
        if not self.entries:
            return [], False
        n = len(self.entries)
        if self.spellings is not None:
            # "juminhyo", 「こせきとうほん」 read with 住民票, 戸籍謄本 added.
            text = self.spellings.expand(text)
        words = _words(text, self.terms)
        query = {"question": words, "entry": words, "answer": words, "chars": char_ngrams(text)}
        if not any(query.values()):
            return [], False
        scores = sum(weight * index.entry_scores(query[f], n) for f, index, weight in self.fields)
        ceiling = sum(weight * index.ceiling(query[f]) for f, index, weight in self.fields)
        confidence = np.minimum(1.0, scores / ceiling) if ceiling > 0 else np.zeros(n)
        dense, off_topic = self._dense(text, n)
        if dense is not None:
            # The dense side counts only as far as the corpus knows the query's words: a
            # question about a credit card may embed close to one about the My Number card.
            coverage = self.fields[0][1].coverage(words) ** COVERAGE_POWER
            dense_part = np.maximum(dense, 0.0) * coverage
            confidence = (1 - DENSE_WEIGHT) * confidence + DENSE_WEIGHT * dense_part
        order_by = confidence
        if self.classifier is not None:
            # The classifier helps choose the entry. Among the entries alone it cannot say
            # whether any answers (it would give a question about dog training to dog
            # registration), but the out-of-scope examples are one more class of its own.
            chosen = self.classifier.probabilities(words, query["chars"])
            if len(chosen) > n:
                off_topic = off_topic or chosen[n] >= OUT_OF_SCOPE_PROBABILITY
                chosen = chosen[:n] / max(chosen[:n].sum(), 1e-12)
            order_by = (1 - CLASSIFIER_WEIGHT) * confidence + CLASSIFIER_WEIGHT * chosen
        order = np.argsort(-order_by, kind="stable")[:limit]
        results = [
            Result(self.entries[i], float(scores[i]), float(confidence[i]))
            for i in order
            if confidence[i] > 0 and (scores[i] > 0 or dense is not None)
        ]
        return results, off_topic

    def _dense(self, text: str, n: int) -> tuple[np.ndarray | None, bool]:
        """Each entry's best cosine similarity between the query and one of its questions
        (or answer sentences), and whether an out-of-scope example is closer than all."""
        if self.encoder is None or self.vectors is None or self.vector_owners is None:
            return None, False
        query = self.encoder.queries([text])[0]
        # einsum rather than `@`: a BLAS matrix-vector product wakes BLAS threads that fight
        # torch's for the cores right after encoding, which made a query take milliseconds.
        similarity = np.einsum("ij,j->i", self.vectors, query)
        best = np.full(n, -1.0, dtype=np.float64)
        np.maximum.at(best, self.vector_owners, similarity)
        off_topic = False
        if self.off_topic_vectors is not None and len(similarity):
            nearest = float(np.einsum("ij,j->i", self.off_topic_vectors, query).max())
            off_topic = nearest >= float(similarity.max()) + OUT_OF_SCOPE_MARGIN
        return best, off_topic


def _words(text: str, terms: CompoundTable | None) -> list[str]:
    return retrieval_terms(text, terms)


def build_engine(
    settings: Settings,
    corpus_dir: Path | None = None,
    profile_path: Path | None = None,
    strict: bool = True,
    encoder: Encoder | None = None,
    directory: FaqDirectory | None = None,
) -> FaqEngine:
    """The engine as this installation runs it: its corpus, terms and embedding model.

    ``directory`` is the process's corpus, when it already holds one (the gateway does).

    Another corpus (``corpus_dir``, e.g. a city's imported FAQ under evaluation) gets
    ``encoder`` (a model trained for it), else a configured pretrained model if there is
    one, but never the model trained on this installation's own corpus.
    """
    from bot.faq.embeddings import load_configured
    from bot.faq.out_of_scope import engine_examples

    terms = CompoundTable.from_file(settings.terms_path) if settings.terms_path.exists() else None
    own_corpus = corpus_dir is None or Path(corpus_dir) == settings.corpus_dir
    return FaqEngine(
        corpus_dir or settings.corpus_dir,
        profile_path or settings.profile_path,
        settings.terms_path if terms is not None else None,
        strict=strict,
        encoder=encoder or load_configured(settings, terms, allow_own=own_corpus),
        out_of_scope=engine_examples(settings),
        directory=directory,
    )
