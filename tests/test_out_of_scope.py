"""Out-of-scope examples: read from Rasa's training data and used by the engine."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.faq import embeddings
from bot.faq.corpus import Corpus
from bot.faq.engine import FaqEngine, build_engine
from bot.faq.out_of_scope import engine_examples, load_examples, load_near_misses
from bot.faq.profile import Profile
from bot.settings import Settings
from bot.text.japanese import CompoundTable


def test_the_projects_examples_are_read_from_rasas_training_data() -> None:
    examples = load_examples(Settings.from_env().out_of_scope_path)
    assert len(examples) > 100
    assert "今日って雨降る？" in examples and "tell me a joke" in examples
    assert all(e and not e.startswith("-") for e in examples)


def test_broken_or_missing_files_give_no_examples(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert load_examples(tmp_path / "missing.yml") == ()
    broken = tmp_path / "broken.yml"
    broken.write_text("nlu: [\n  - intent: out_of_scope", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert load_examples(broken) == ()
    assert "Ignoring out-of-scope examples" in caplog.text
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert load_examples(binary) == ()
    other = tmp_path / "other.yml"
    other.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - こんにちは\n'
        "- intent: out_of_scope\n  examples: |\n    - 天気は？\n    - 天気は？\n    - 株価\n",
        encoding="utf-8",
    )
    assert load_examples(other) == ("天気は？", "株価")


def test_near_misses_teach_the_engine_but_not_rasa() -> None:
    settings = Settings.from_env()
    rasa = load_examples(settings.out_of_scope_path)
    near = load_near_misses(settings.near_misses_path)
    assert len(near) >= 100 and "引っ越し 単身パック いくら" in near
    # Rasa's classifier would learn that the FAQ's own words (引っ越し) mean "decline".
    assert not set(near) & set(rasa)
    assert engine_examples(settings) == rasa + near


def test_broken_near_miss_files_give_no_examples(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert load_near_misses(tmp_path / "missing.yml") == ()
    cases = {
        "broken.yml": "examples: [\n  - 天気".encode(),
        "binary.yml": b"\xff\xfe\x00garbage",
        "not-a-list.yml": "examples: 天気は？".encode(),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with caplog.at_level(logging.WARNING):
            assert load_near_misses(tmp_path / name) == (), name
    assert caplog.text.count("Ignoring near-miss examples") == len(cases)
    good = tmp_path / "good.yml"
    good.write_text("examples:\n  - 株価\n  - 株価\n  - ' 金の値段 '\n  - ''\n", encoding="utf-8")
    assert load_near_misses(good) == ("株価", "金の値段")


def test_a_question_nearer_an_out_of_scope_example_is_not_answered(
    faq_copy: Path, tmp_path: Path
) -> None:
    """The same engine answers a question without the examples and declines it with them."""
    terms = CompoundTable.from_file(faq_copy / "terms.yml")
    corpus = Corpus.load(faq_copy / "corpus", Profile.load(faq_copy / "municipality.yml"))
    examples = load_examples(Settings.from_env().out_of_scope_path)
    plan = embeddings.TrainingPlan(members=1, steps=600)
    path, _ = embeddings.train_if_needed(corpus, tmp_path, terms, plan, out_of_scope=examples)
    encoder = embeddings.load(path, terms)
    files = (faq_copy / "corpus", faq_copy / "municipality.yml", faq_copy / "terms.yml")
    plain = FaqEngine(*files, encoder=encoder)
    guarded = FaqEngine(*files, encoder=encoder, out_of_scope=examples)
    # Examples that share words with entries get an answer from the engine without them,
    # and none with them.
    answered_plainly = [e for e in examples if plain.search(e).answered]
    assert answered_plainly
    assert not [e for e in answered_plainly if guarded.search(e).answered]
    # A real FAQ question is still answered.
    assert guarded.search("マイナンバーカードをなくしました").answered
    assert plain.search("マイナンバーカードをなくしました").answered


def test_the_installed_engine_uses_the_projects_examples() -> None:
    engine = build_engine(Settings.from_env())
    assert "今日って雨降る？" in engine.out_of_scope


def test_the_entry_classifier_learns_the_examples_as_a_class_of_their_own(
    faq_copy: Path,
) -> None:
    """Without any model: words that only out-of-scope questions use (a supermarket, a
    bank app) put a question in their class, while the entries keep their order."""
    files = (faq_copy / "corpus", faq_copy / "municipality.yml", faq_copy / "terms.yml")
    examples = (
        "スーパーのポイントカード 期限",
        "ドラッグストアのポイント いつまで",
        "スーパーのポイント 何倍デー",
        "銀行アプリ 暗証番号 忘れた",
        "ネットバンキングのパスワード 再設定",
        "銀行のアプリにログインできない",
    )
    plain = FaqEngine(*files)
    guarded = FaqEngine(*files, out_of_scope=examples)
    assert guarded._state is not None and guarded._state.classifier is not None
    assert guarded._state.classifier.n_entries == len(guarded.corpus) + 1
    for question in ("スーパーのポイントって期限ある？", "銀行アプリの暗証番号を忘れた"):
        assert plain.search(question).candidates, question
        assert guarded.search(question).off_topic and not guarded.search(question).answered
    for question in ("マイナポイントの申込期限は？", "マイナンバーカードの暗証番号を忘れた"):
        reply, before = guarded.search(question), plain.search(question)
        assert reply.answered and not reply.off_topic, question
        assert reply.candidates[0].entry.id == before.candidates[0].entry.id
