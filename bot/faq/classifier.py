"""Which entry a question asks for: a classifier over the entries' own questions.

BM25 and the embeddings score each entry against the question on its own. This model
looks at all the entries at once: a logistic regression over the TF-IDF of the questions'
words and character bigrams, with one class per entry, learns which words tell
neighbouring entries apart (転入 for moving in and 転出 for moving out, although both
mention 転出証明書) and which words every entry of a topic shares. The engine uses its
probabilities to order the entries, not to decide whether any of them answers.

It is trained, in a few seconds, each time the index is built, so that an entry edited
by staff is classified at once. It needs paraphrases to learn from: the engine trains it
only for a corpus that has them (not for a city's imported FAQ pages, one question each).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.sparse import hstack
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

logger = logging.getLogger(__name__)

# Trained only for at most this many entries: the model keeps one weight per word and
# entry, and its training time grows with both. At 1,000 entries of 4 questions the index
# builds in about 18 s here (bench/engine_speed.py --entries 1000 --paraphrases 4).
MAX_ENTRIES = 1000
# Inverse regularisation strength. Tuned on tests/eval/dev.jsonl (10, 30 and 100 tried).
REGULARISATION_C = 30.0


def _tokens(doc: Sequence[str]) -> Sequence[str]:
    """The documents come already split (the lexical index's words and bigrams)."""
    return doc


class EntryClassifier:
    """Per-entry probabilities for a question, from the question's words and bigrams."""

    def __init__(
        self,
        vectorizers: Sequence[TfidfVectorizer],
        model: LogisticRegression,
        n_entries: int,
    ) -> None:
        self.vectorizers = tuple(vectorizers)
        self.model = model
        self.n_entries = n_entries
        # Scoring one short question through sklearn's transform and predict_proba takes
        # about 1.5 ms, mostly overhead; the same arithmetic on these arrays, a few µs.
        # Where each vectorizer's features start among the model's.
        self._offsets = np.cumsum([0] + [len(v.vocabulary_) for v in self.vectorizers[:-1]])
        self._weights = np.ascontiguousarray(model.coef_.T)  # one row per feature
        self._bias = model.intercept_

    @classmethod
    def train(
        cls,
        words: Sequence[Sequence[str]],
        grams: Sequence[Sequence[str]],
        owners: Sequence[int],
        n_entries: int,
    ) -> EntryClassifier | None:
        """Train on each question's ``words`` and character ``grams``, labelled with the
        number of the entry that ``owners`` gives it; None for fewer than two entries or
        more than `MAX_ENTRIES`."""
        if n_entries < 2 or n_entries > MAX_ENTRIES:
            return None
        started = time.monotonic()
        vectorizers = [TfidfVectorizer(analyzer=_tokens, sublinear_tf=True) for _ in range(2)]
        features = hstack(
            [v.fit_transform(docs) for v, docs in zip(vectorizers, (words, grams), strict=True)]
        ).tocsr()
        # SAG over the samples: L-BFGS needs about 15 s here, since it works on one vector
        # of every word–entry weight. 30 passes rank the dev set as well as a model
        # trained to convergence; a fixed seed keeps the model reproducible.
        model = LogisticRegression(
            C=REGULARISATION_C, solver="sag", max_iter=30, tol=1e-3, random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(features, np.asarray(owners))
        logger.info(
            "Entry classifier trained in %.1f s on %d questions",
            time.monotonic() - started,
            len(owners),
        )
        return cls(vectorizers, model, n_entries)

    def probabilities(self, words: Sequence[str], grams: Sequence[str]) -> np.ndarray:
        """The probability of each entry, by number (what ``model.predict_proba`` gives)."""
        logits = self._bias.copy()
        for vectorizer, offset, tokens in zip(
            self.vectorizers, self._offsets, (words, grams), strict=True
        ):
            indices, values = _tfidf(vectorizer, tokens)
            if len(indices):
                logits += values @ self._weights[indices + offset]
        logits = np.exp(logits - logits.max())
        out = np.zeros(self.n_entries, dtype=np.float64)
        out[self.model.classes_] = logits / logits.sum()
        return out


def _tfidf(vectorizer: TfidfVectorizer, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The non-zero features of one document as ``vectorizer.transform`` computes them:
    sublinear term frequency times idf, normalised to unit length."""
    vocabulary = vectorizer.vocabulary_
    counts = Counter(vocabulary[t] for t in tokens if t in vocabulary)
    indices = np.fromiter(counts, dtype=np.int64, count=len(counts))
    tf = np.fromiter((1 + math.log(c) for c in counts.values()), np.float64, len(counts))
    values = tf * vectorizer.idf_[indices]
    norm = np.linalg.norm(values)
    return indices, values / norm if norm else values
