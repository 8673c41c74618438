"""The dense side of the engine: the project's own model, its cache, and a pretrained path."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.faq import embeddings
from bot.faq.corpus import Corpus
from bot.faq.engine import FaqEngine, build_engine
from bot.faq.profile import Profile
from bot.settings import Settings
from bot.text.japanese import CompoundTable

QUICK = embeddings.TrainingPlan(dimensions=32, steps=30, batch_size=16, members=1)


def corpus_of(faq: Path) -> Corpus:
    return Corpus.load(faq / "corpus", Profile.load(faq / "municipality.yml"))


def test_trained_model_is_reused_until_the_corpus_changes(faq_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "embeddings"
    terms = CompoundTable.from_file(faq_copy / "terms.yml")
    first, trained = embeddings.train_if_needed(corpus_of(faq_copy), cache, terms, QUICK)
    assert trained and (first / embeddings.META_FILE).exists()
    again, trained = embeddings.train_if_needed(corpus_of(faq_copy), cache, terms, QUICK)
    assert again == first and not trained

    moving = faq_copy / "corpus" / "moving.yml"
    data = yaml.safe_load(moving.read_text(encoding="utf-8"))
    data["entries"][0]["questions"]["ja"].append("転入の手続きを知りたいです")
    moving.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    changed, trained = embeddings.train_if_needed(corpus_of(faq_copy), cache, terms, QUICK)
    assert trained and changed != first
    assert (cache / embeddings.CURRENT).read_text() == changed.name


def test_engine_uses_the_trained_model(faq_copy: Path, tmp_path: Path) -> None:
    terms = CompoundTable.from_file(faq_copy / "terms.yml")
    path, _ = embeddings.train_if_needed(corpus_of(faq_copy), tmp_path, terms, QUICK)
    encoder = embeddings.load(path, terms)
    vectors = encoder.queries(["マイナンバーカードをなくした", "引っ越してきました"])
    assert vectors.shape == (2, 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    files = (faq_copy / "corpus", faq_copy / "municipality.yml", faq_copy / "terms.yml")
    hybrid = FaqEngine(*files, encoder=encoder)
    lexical = FaqEngine(*files)
    question = "マイナンバーカードをなくしました"
    ranked = [r.entry.id for r in hybrid.search(question).candidates[:5]]
    assert "mynumber-card-lost" in ranked
    # The dense side changes the confidences: the model is really used.
    assert hybrid.search(question).candidates[0].confidence != pytest.approx(
        lexical.search(question).candidates[0].confidence
    )


def build_tiny_pretrained_model(directory: Path) -> Path:
    """A stand-in for a city's pretrained model: a real sentence-transformers model saved
    to disk (a word-level static embedding over a small vocabulary)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {
        "[UNK]": 0,
        "[PAD]": 1,
        "query": 2,
        "passage": 3,
        "card": 4,
        "lost": 5,
        "move": 6,
        "tax": 7,
    }
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    weights = np.eye(len(vocab), dtype=np.float32)
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)])
    model.save(str(directory))
    return directory


def test_a_pretrained_model_on_disk_is_loaded_with_its_prefixes(
    faq_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = build_tiny_pretrained_model(tmp_path / "pretrained")
    monkeypatch.setenv("MADOGUCHI_EMBEDDING_MODEL", str(path))
    monkeypatch.setenv("MADOGUCHI_EMBEDDING_QUERY_PREFIX", "query: ")
    monkeypatch.setenv("MADOGUCHI_EMBEDDING_PASSAGE_PREFIX", "passage: ")
    settings = Settings(root=tmp_path, faq_dir=faq_copy)
    encoder = embeddings.load_configured(settings, None)
    assert encoder is not None and encoder.query_prefix == "query: "
    # The prefix is part of what the model reads: "query" has its own vector here.
    query, passage = encoder.queries(["card lost"])[0], encoder.passages(["card lost"])[0]
    assert not np.allclose(query, passage)
    assert float(encoder.queries(["card"])[0] @ encoder.passages(["card lost"])[0]) > float(
        encoder.queries(["tax"])[0] @ encoder.passages(["card lost"])[0]
    )
    engine = build_engine(settings)
    assert engine.encoder is not None and engine.encoder.name == "pretrained"
    assert engine.search("マイナンバーカードをなくしました").results


def test_no_model_means_lexical_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MADOGUCHI_EMBEDDING_MODEL", raising=False)
    assert embeddings.load_configured(Settings(root=tmp_path), None) is None
    monkeypatch.setenv("MADOGUCHI_EMBEDDING_MODEL", "none")
    assert embeddings.load_configured(Settings(root=tmp_path), None) is None


def test_meta_file_marks_the_projects_own_models(faq_copy: Path, tmp_path: Path) -> None:
    terms = CompoundTable.from_file(faq_copy / "terms.yml")
    path, _ = embeddings.train_if_needed(corpus_of(faq_copy), tmp_path, terms, QUICK)
    meta = json.loads((path / embeddings.META_FILE).read_text())
    assert meta["input"] == "terms" and meta["recipe"] == embeddings.RECIPE_VERSION


def test_an_ensemble_is_trained_saved_and_used_together(faq_copy: Path, tmp_path: Path) -> None:
    terms = CompoundTable.from_file(faq_copy / "terms.yml")
    plan = dataclasses.replace(QUICK, members=2)
    path, _ = embeddings.train_if_needed(corpus_of(faq_copy), tmp_path, terms, plan)
    meta = json.loads((path / embeddings.META_FILE).read_text())
    assert meta["members"] == ["member-0", "member-1"]
    encoder = embeddings.load(path, terms)
    assert len(encoder.models) == 2
    vectors = encoder.queries(["マイナンバーカードをなくした", "粗大ごみの出し方"])
    # Two 32-dimension models side by side, still of unit length.
    assert vectors.shape == (2, 64)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # Different seeds give different members.
    first = encoder.models[0].encode(["粗大ごみの出し方"])
    second = encoder.models[1].encode(["粗大ごみの出し方"])
    assert not np.allclose(first, second)


def test_out_of_scope_examples_are_part_of_the_trained_model(
    faq_copy: Path, tmp_path: Path
) -> None:
    terms = CompoundTable.from_file(faq_copy / "terms.yml")
    corpus = corpus_of(faq_copy)
    plain, _ = embeddings.train_if_needed(corpus, tmp_path, terms, QUICK)
    examples = ("明日の天気は？", "金の値段は上がってる？")
    with_examples, trained = embeddings.train_if_needed(
        corpus, tmp_path, terms, QUICK, out_of_scope=examples
    )
    assert trained and with_examples != plain
    # The examples' words are in the model's vocabulary: they have learnt vectors.
    encoder = embeddings.load(with_examples, terms)
    tokenizer = encoder.models[0][0].tokenizer
    assert tokenizer.token_to_id("値段") is not None


def test_topic_batches_hold_whole_topics_of_different_entries() -> None:
    import random

    groups = [
        embeddings.TrainingGroup([f"q{i}"], [], topic)
        for i, topic in enumerate(["moving"] * 4 + ["tax"] * 3 + ["garbage"] * 5 + ["care"] * 8)
    ]
    random.seed(7)
    for _ in range(50):
        batch = embeddings._draw_batch(groups, 10, same_topic_share=1.0)
        assert len(batch) == 10 and len({g.questions[0] for g in batch}) == 10
        # The first topic drawn is there whole: every neighbour of the first entry.
        first = batch[0].topic
        assert sum(g.topic == first for g in batch) == sum(g.topic == first for g in groups)
    random.seed(7)
    plain = embeddings._draw_batch(groups, 10, same_topic_share=0.0)
    assert len({g.questions[0] for g in plain}) == 10


def test_a_topic_bigger_than_a_batch_gives_samples_of_its_entries() -> None:
    import random

    # An imported FAQ: every entry has the category "imported".
    groups = [embeddings.TrainingGroup([f"q{i}"], [], "imported") for i in range(200)]
    random.seed(7)
    seen: set[str] = set()
    for _ in range(20):
        batch = embeddings._draw_batch(groups, 16, same_topic_share=1.0)
        assert len(batch) == 16 and len({g.questions[0] for g in batch}) == 16
        seen |= {g.questions[0] for g in batch}
    assert len(seen) > 100


def test_answers_are_cut_into_sentences_in_any_language() -> None:
    texts = ["転入届を出します。本人確認書類が必要です！\n窓口へどうぞ", "Bring your ID. Then pay."]
    assert embeddings.answer_sentences(texts) == [
        "転入届を出します。",
        "本人確認書類が必要です！",
        "窓口へどうぞ",
        "Bring your ID.",
        "Then pay.",
    ]


ONE_QUESTION_FAQ = [
    (
        "pool",
        "市民プールについて",
        "屋内プールは水着と水泳帽を持参してください。更衣室にコインロッカーがあります。",
    ),
    (
        "library",
        "図書館の利用について",
        "本は一人十冊まで二週間借りられます。返却ポストは夜間も使えます。",
    ),
    (
        "bicycle",
        "放置自転車について",
        "駅前に置かれた自転車は撤去して保管所で預かります。引き取りには鍵が必要です。",
    ),
    (
        "dog",
        "犬の登録について",
        "生後九十日を過ぎた犬は狂犬病の予防注射を毎年受けさせてください。鑑札を首輪に付けます。",
    ),
    (
        "water",
        "水道の開始について",
        "入居したら水道の使用開始を申し込んでください。検針票に水道番号があります。",
    ),
    (
        "park",
        "公園の使用について",
        "公園でイベントを開くときは許可が必要です。テントの設置は届け出てください。",
    ),
]


def one_question_corpus(tmp_path: Path) -> Corpus:
    from bot.faq.exchange import import_jsonl
    from bot.settings import PROJECT_ROOT

    profile = Profile.load(PROJECT_ROOT / "faq" / "municipality.yml")
    lines = [
        json.dumps({"id": i, "question": q, "answer": a}, ensure_ascii=False)
        for i, q, a in ONE_QUESTION_FAQ
    ]
    import_jsonl("\n".join(lines).encode(), tmp_path / "corpus", profile)
    return Corpus.load(tmp_path / "corpus", profile, strict=False)


def test_a_one_question_corpus_learns_from_its_answers(tmp_path: Path) -> None:
    """An imported FAQ page has one question: residents ask with the answer's words."""
    from bot.settings import PROJECT_ROOT

    corpus = one_question_corpus(tmp_path)
    terms = CompoundTable.from_file(PROJECT_ROOT / "faq" / "terms.yml")
    groups = embeddings._training_texts(corpus, embeddings.terms_input(terms))
    assert all(len(g.questions) == 1 and len(g.sentences) == 2 for g in groups)
    plan = dataclasses.replace(QUICK, steps=600, batch_size=6)
    path, _ = embeddings.train_if_needed(corpus, tmp_path / "cache", terms, plan)
    encoder = embeddings.load(path, terms)
    questions = encoder.passages([q for _, q, _ in ONE_QUESTION_FAQ])
    asked = {
        "pool": "水泳帽はいりますか",
        "library": "何冊まで借りられる？",
        "bicycle": "自転車が撤去された 保管所はどこ",
        "dog": "狂犬病の注射",
        "water": "検針票の番号",
        "park": "テントを立てたい",
    }
    nearest = encoder.queries(list(asked.values())) @ questions.T
    ids = [i for i, _, _ in ONE_QUESTION_FAQ]
    assert [ids[row.argmax()] for row in nearest] == list(asked)


def test_levels_follow_the_kind_of_corpus(faq_copy: Path, tmp_path: Path) -> None:
    from bot.faq.engine import LEXICAL_THRESHOLDS, UNPARAPHRASED_THRESHOLDS, Thresholds
    from bot.settings import PROJECT_ROOT

    corpus = one_question_corpus(tmp_path)
    terms_path = PROJECT_ROOT / "faq" / "terms.yml"
    terms = CompoundTable.from_file(terms_path)
    path, _ = embeddings.train_if_needed(corpus, tmp_path / "cache", terms, QUICK)
    encoder = embeddings.load(path, terms)
    profile_path = PROJECT_ROOT / "faq" / "municipality.yml"
    imported = FaqEngine(
        tmp_path / "corpus", profile_path, terms_path, strict=False, encoder=encoder
    )
    assert imported.thresholds == UNPARAPHRASED_THRESHOLDS
    # The dense side matches each question and each sentence of the answers.
    assert imported._state is not None and imported._state.vectors is not None
    assert len(imported._state.vectors) == len(ONE_QUESTION_FAQ) * 3
    lexical = FaqEngine(tmp_path / "corpus", profile_path, terms_path, strict=False)
    assert lexical.thresholds == LEXICAL_THRESHOLDS
    files = (faq_copy / "corpus", faq_copy / "municipality.yml", faq_copy / "terms.yml")
    assert FaqEngine(*files, encoder=encoder).thresholds == Thresholds()


def test_the_digest_follows_what_training_reads(faq_copy: Path) -> None:
    corpus = corpus_of(faq_copy)
    before = embeddings.corpus_digest(corpus, QUICK)
    first = next(iter(corpus.entries))
    # Categories make the same-topic batches: moving an entry to another one retrains.
    corpus.entries[first] = corpus.entries[first].model_copy(update={"category": "other"})
    assert embeddings.corpus_digest(corpus, QUICK) != before
    assert embeddings.corpus_digest(corpus, dataclasses.replace(QUICK, steps=31)) != before
