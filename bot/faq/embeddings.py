"""Dense sentence embeddings for the FAQ engine (sentence-transformers).

No pretrained model can be downloaded where Madoguchi runs, so the project trains its own
small model offline on its own corpus: a `StaticEmbedding` over the corpus's words,
trained with MultipleNegativesRankingLoss on pairs drawn from the same entry (a question
and a paraphrase, possibly in another language, or a question and its answer), some
questions cut down to a few of their words the way residents type them. Its input is the
text's retrieval terms (lemmas, Korean/Chinese bigrams), so it shares the lexical engine's
spelling normalisation. Training is cached under `var/embeddings/` by a digest of the
corpus and reused until the corpus changes.

A city that has a pretrained model on disk sets `MADOGUCHI_EMBEDDING_MODEL` to its
directory, with the query and passage prefixes that model expects (for example `query: `
and `passage: ` for the E5 family); the engine then uses it on the raw text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bot.faq.corpus import Corpus
from bot.settings import Settings
from bot.text.japanese import CompoundTable, normalize
from bot.text.terms import char_ngrams, retrieval_terms

logger = logging.getLogger(__name__)

# Bump when the training recipe changes, so that cached models are retrained.
RECIPE_VERSION = "static-wordlevel-mnrl-5-answer-sentence-anchors"
META_FILE = "madoguchi-embedding.json"
CHARS = "~"  # marks a character bigram in the model's input
# Character bigrams in the model's input measured no better on the dev set and made
# training four times slower, so they are off; the lexical side has them.
USE_CHARS = False
MAX_CHAR_GRAMS = 64
CURRENT = "current"
# Where a sentence ends, in any of the six languages: 。！？, a line break, or ". " and the
# like before the next sentence.
SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n+|(?<=[.!?])\s+")


@dataclass(frozen=True)
class TrainingPlan:
    """How the project's own model is trained; the defaults take about a minute here."""

    dimensions: int = 256
    steps: int = 1500
    batch_size: int = 64
    learning_rate: float = 0.05
    seed: int = 42
    # Residents often type a few keywords (「水道 引き落とし」) rather than the question the
    # entry was written with: this share of the anchors keeps only some of its words, each
    # with probability `word_keep`. Tuned on tests/eval/dev.jsonl (0.3 beat 0 and 0.5).
    word_dropout: float = 0.3
    word_keep: float = 0.6
    # Models trained with seeds seed, seed+1, … and used together. One model's ranking
    # depends on the pairs its batches happened to draw (Japanese hit@1 on the dev set
    # ranged from 0.91 to 0.94 over seeds); three together beat each of them.
    members: int = 3
    # This share of the batches takes half its entries from whole topics (categories), so
    # that neighbours such as moving in / moving out are each other's negatives; random
    # batches rarely hold both. On the dev set, over two seeds, Japanese hit@1 rose by
    # 0.019 and 0.007.
    same_topic_share: float = 0.5
    # A city's imported FAQ pages give one question per entry: the same question and answer
    # pair would be drawn at every step, and the model would learn only the question's own
    # words. For an entry with fewer than `few_questions` questions, this share of its
    # anchors is a sentence of its answer cut to a few words, as a resident might ask it,
    # whose positive is one of the entry's questions.
    few_questions: int = 3
    answer_anchor_share: float = 0.5


class TrainingGroup(NamedTuple):
    """One entry's prepared texts (or the out-of-scope examples, topic "out_of_scope")."""

    questions: list[str]
    answers: list[str]
    topic: str
    sentences: tuple[str, ...] = ()  # the answers' sentences, for entries with few questions


class Encoder:
    """One or more sentence-transformers models plus the way their inputs are prepared.

    With several models (an ensemble of the project's own, see `TrainingPlan.members`), a
    text's vector is the concatenation of each model's normalised vector divided by the
    square root of their number: still of unit length, and the cosine similarity of two
    texts is the mean of the models' similarities.
    """

    def __init__(
        self,
        models,  # type: ignore[no-untyped-def]  # SentenceTransformer(s), imported lazily
        prepare: Callable[[str], str],
        query_prefix: str = "",
        passage_prefix: str = "",
        name: str = "",
    ) -> None:
        self.models = list(models) if isinstance(models, list | tuple) else [models]
        self.prepare = prepare
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.name = name

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        prepared = [prefix + self.prepare(t) for t in texts]
        parts = [
            model.encode(
                prepared, batch_size=256, normalize_embeddings=True, show_progress_bar=False
            )
            for model in self.models
        ]
        vectors = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        return np.asarray(vectors, dtype=np.float32) / np.sqrt(len(parts), dtype=np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prefix)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prefix)


def terms_input(terms: CompoundTable | None) -> Callable[[str], str]:
    """The project's own model reads retrieval terms, not raw text."""

    def prepare(text: str) -> str:
        words = retrieval_terms(text, terms)
        if USE_CHARS:
            words += [CHARS + g for g in char_ngrams(text)[:MAX_CHAR_GRAMS]]
        return " ".join(words) or normalize(text)

    return prepare


def corpus_digest(corpus: Corpus, plan: TrainingPlan, out_of_scope: Sequence[str] = ()) -> str:
    digest = hashlib.sha256(f"{RECIPE_VERSION}|{plan}".encode())
    digest.update(json.dumps(list(out_of_scope), ensure_ascii=False).encode())
    for entry in sorted(corpus.entries.values(), key=lambda e: e.id):
        digest.update(
            json.dumps(
                [entry.id, entry.category, entry.questions, entry.answer],
                ensure_ascii=False,
                sort_keys=True,
            ).encode()
        )
    return digest.hexdigest()[:16]


def _training_texts(
    corpus: Corpus, prepare: Callable[[str], str], out_of_scope: Sequence[str] = ()
) -> list[TrainingGroup]:
    """Per entry: its prepared questions and its prepared answers.

    The out-of-scope examples form one more group, so that the words of questions the
    assistant does not answer (天気, 株価, 値段…) learn to point away from every entry.
    """
    groups = []
    for entry in corpus.entries.values():
        questions = [q for q in (prepare(q) for qs in entry.questions.values() for q in qs) if q]
        rendered = [corpus.profile.render(a) for a in entry.answer.values()]
        sentences = [s for s in map(prepare, answer_sentences(rendered)) if len(s.split()) > 1]
        answers = [a for a in map(prepare, rendered) if a]
        groups.append(TrainingGroup(questions, answers, entry.category, tuple(sentences)))
    groups.append(TrainingGroup([q for q in map(prepare, out_of_scope) if q], [], "out_of_scope"))
    return [g for g in groups if g.questions]


def train(
    corpus: Corpus,
    out_dir: Path,
    terms: CompoundTable | None,
    plan: TrainingPlan,
    out_of_scope: Sequence[str] = (),
) -> Path:
    """Train the project's own embedding models on ``corpus`` and save them to ``out_dir``."""
    started = time.monotonic()
    prepare = terms_input(terms)
    groups = _training_texts(corpus, prepare, out_of_scope)
    if len(groups) < 2:
        raise ValueError("the corpus needs at least two entries to train embeddings")
    names = [f"member-{i}" for i in range(plan.members)]
    for number, name in enumerate(names):
        _train_member(groups, out_dir / name, plan, plan.seed + number)
    meta = {"input": "terms", "recipe": RECIPE_VERSION, "members": names}
    (out_dir / META_FILE).write_text(json.dumps(meta))
    logger.info("Embedding models trained in %.1f s: %s", time.monotonic() - started, out_dir)
    return out_dir


def _train_member(
    groups: list[TrainingGroup], out_dir: Path, plan: TrainingPlan, seed: int
) -> None:
    """Train one model on prepared texts with MultipleNegativesRankingLoss."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    # One thread and fixed seeds: the same corpus gives the same model on every machine,
    # so the figures measured on it are reproducible. (Hugging Face tokenizers read their
    # threading from the process environment.)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    random.seed(seed)
    torch.manual_seed(seed)
    tokenizer = _word_tokenizer(text for g in groups for text in g.questions + g.answers)
    model = SentenceTransformer(
        modules=[StaticEmbedding(tokenizer, embedding_dim=plan.dimensions)], device="cpu"
    )
    loss = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=plan.learning_rate)
    # The learning rate falls linearly to zero: the last steps only settle the model, so the
    # result depends less on which pairs the final batches happened to draw.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / plan.steps)
    # Each batch takes one pair from each of `batch_size` different entries, so that the
    # in-batch negatives are really other entries.
    batch = min(plan.batch_size, len(groups))
    for _ in range(plan.steps):
        anchors, positives = [], []
        for questions, answers, _, sentences in _draw_batch(groups, batch, plan.same_topic_share):
            few = len(questions) < plan.few_questions and sentences
            if few and random.random() < plan.answer_anchor_share:
                anchors.append(_keep_some_words(random.choice(sentences), plan.word_keep))
                positives.append(random.choice(questions))
                continue
            anchor = random.choice(questions)
            pool = questions + answers + (list(sentences) if few else [])
            others = [t for t in pool if t != anchor] or [anchor]
            positives.append(random.choice(others))
            if random.random() < plan.word_dropout:
                anchor = _keep_some_words(anchor, plan.word_keep)
            anchors.append(anchor)
        value = loss([model.tokenize(anchors), model.tokenize(positives)], None)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        schedule.step()
    torch.set_num_threads(threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))


def _draw_batch(
    groups: list[TrainingGroup], size: int, same_topic_share: float
) -> list[TrainingGroup]:
    """``size`` different groups: at random, or (``same_topic_share`` of the time) half of
    them from whole topics, drawn topic by topic, and the rest at random."""
    if len(groups) <= size or random.random() >= same_topic_share:
        return random.sample(groups, size)
    topics = sorted({g.topic for g in groups})
    chosen: list[int] = []
    for topic in random.sample(topics, len(topics)):
        members = [i for i, g in enumerate(groups) if g.topic == topic]
        if len(members) > size - len(chosen):
            # A topic too big for the batch (an imported FAQ is all one category) gives a
            # sample of its entries, not always its first ones.
            members = random.sample(members, size - len(chosen))
        chosen += members
        if len(chosen) >= size // 2:
            break
    taken = set(chosen)
    rest = [i for i in range(len(groups)) if i not in taken]
    return [groups[i] for i in chosen + random.sample(rest, size - len(chosen))]


def answer_sentences(texts: Iterable[str]) -> list[str]:
    """The sentences (or lines) of ``texts``."""
    return [s.strip() for text in texts for s in SENTENCE_END.split(text) if s.strip()]


def _keep_some_words(text: str, keep: float) -> str:
    """``text`` with each word kept with probability ``keep`` (at least one word)."""
    words = text.split()
    kept = [w for w in words if random.random() < keep] or [random.choice(words)]
    return " ".join(kept)


def _word_tokenizer(texts: Iterable[str]):  # type: ignore[no-untyped-def]
    """A word-level tokenizer over the corpus's retrieval terms, the model's input.

    The vocabulary is built here, in a fixed order, rather than learnt by a tokenizer
    trainer: the same corpus must give the same model on every machine. Unseen words map
    to [UNK]; the character bigrams in the input still carry misspelt or new words.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers

    counts = Counter(term for text in texts for term in text.split())
    vocab = {"[PAD]": 0, "[UNK]": 1}
    for term in sorted(counts):
        vocab[term] = len(vocab)
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return tokenizer


def train_if_needed(
    corpus: Corpus,
    cache_dir: Path,
    terms: CompoundTable | None,
    plan: TrainingPlan | None = None,
    force: bool = False,
    out_of_scope: Sequence[str] = (),
) -> tuple[Path, bool]:
    """The cached model for this corpus, training it first if there is none.

    Returns the model directory and whether it was trained now.
    """
    plan = plan or TrainingPlan()
    target = cache_dir / corpus_digest(corpus, plan, out_of_scope)
    if target.joinpath(META_FILE).exists() and not force:
        _point_current(cache_dir, target)
        return target, False
    scratch = cache_dir / f".{target.name}.training"
    shutil.rmtree(scratch, ignore_errors=True)
    train(corpus, scratch, terms, plan, out_of_scope)
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
    _point_current(cache_dir, target)
    _prune(cache_dir, keep=target)
    return target, True


def _point_current(cache_dir: Path, target: Path) -> None:
    (cache_dir / CURRENT).write_text(target.name, encoding="utf-8")


def _prune(cache_dir: Path, keep: Path, keep_count: int = 3) -> None:
    models = sorted(
        (p for p in cache_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in models[keep_count:]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def load(
    path: Path, terms: CompoundTable | None, query_prefix: str = "", passage_prefix: str = ""
) -> Encoder:
    """Load a model directory: the project's own (reads terms) or a pretrained one (raw text)."""
    from sentence_transformers import SentenceTransformer

    def open_model(directory: Path):  # type: ignore[no-untyped-def]
        return SentenceTransformer(str(directory), device="cpu", local_files_only=True)

    meta_path = path / META_FILE
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if meta.get("input") == "terms":
        members = [open_model(path / name) for name in meta.get("members", [])]
        return Encoder(members or open_model(path), terms_input(terms), name=path.name)
    return Encoder(open_model(path), normalize, query_prefix, passage_prefix, name=path.name)


def load_configured(
    settings: Settings, terms: CompoundTable | None, allow_own: bool = True
) -> Encoder | None:
    """The encoder this installation uses: a configured pretrained model, else (with
    ``allow_own``) the latest model trained on the corpus, else none (BM25 alone)."""
    # huggingface_hub reads this from the process environment: never try the network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    configured = settings.embedding_model
    if configured.lower() == "none":
        return None
    if configured:
        return load(
            Path(configured),
            terms,
            settings.embedding_query_prefix,
            settings.embedding_passage_prefix,
        )
    cache_dir = settings.embeddings_dir
    pointer = cache_dir / CURRENT
    if not allow_own or not pointer.exists():
        return None
    path = cache_dir / pointer.read_text(encoding="utf-8").strip()
    if not path.joinpath(META_FILE).exists():
        return None
    return load(path, terms)
