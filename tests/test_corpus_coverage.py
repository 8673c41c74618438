"""The corpus covers every required topic, in six languages, the way the project promises."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
import yaml

from bot.faq.corpus import LANGUAGES, Corpus
from bot.faq.out_of_scope import load_near_misses
from bot.faq.profile import Profile
from bot.settings import PROJECT_ROOT, Settings

FAQ = PROJECT_ROOT / "faq"
TOPICS_COPY = PROJECT_ROOT / "tests" / "eval" / "faq-topics.yml"
TOPICS_SHARED = PROJECT_ROOT.parent / "shared" / "spec" / "faq-topics.yml"
EVAL = PROJECT_ROOT / "tests" / "eval"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    corpus = Corpus.load(FAQ / "corpus", Profile.load(FAQ / "municipality.yml"))
    assert not corpus.problems, corpus.problems
    return corpus


def topics() -> list[str]:
    return list(yaml.safe_load(TOPICS_COPY.read_text(encoding="utf-8")))


def test_topic_list_copy_is_current() -> None:
    if not TOPICS_SHARED.exists():
        pytest.skip("the shared spec is not beside this checkout")
    assert yaml.safe_load(TOPICS_SHARED.read_text(encoding="utf-8")) == yaml.safe_load(
        TOPICS_COPY.read_text(encoding="utf-8")
    )


def test_corpus_size(corpus: Corpus) -> None:
    assert len(corpus) >= 150


@pytest.mark.parametrize("topic", topics())
def test_every_required_topic_in_six_languages(corpus: Corpus, topic: str) -> None:
    entry = corpus.entries.get(topic)
    assert entry is not None, f"missing required topic {topic}"
    assert set(entry.answer) == set(LANGUAGES)
    for lang in LANGUAGES:
        assert len(entry.questions.get(lang, ())) >= 2, (topic, lang)


def test_every_entry_has_enough_questions(corpus: Corpus) -> None:
    thin = [
        e.id
        for e in corpus.entries.values()
        if len(e.questions["ja"]) < 6 or len(e.questions.get("en", ())) < 2 or "en" not in e.answer
    ]
    assert not thin


def test_no_question_is_used_twice(corpus: Corpus) -> None:
    counts = Counter(q for e in corpus.entries.values() for qs in e.questions.values() for q in qs)
    assert [q for q, n in counts.items() if n > 1] == []


def test_japanese_answers_fit_a_phone_screen(corpus: Corpus) -> None:
    long = [
        (e.id, len(corpus.profile.render(e.answer["ja"])))
        for e in corpus.entries.values()
        if len(corpus.profile.render(e.answer["ja"])) > 400
    ]
    assert not long


def test_sources_are_official_and_reviews_are_dated(corpus: Corpus) -> None:
    today = dt.date.today()
    for entry in corpus.entries.values():
        assert entry.source.startswith("https://"), entry.id
        assert ".go.jp" in entry.source or ".lg.jp" in entry.source, (entry.id, entry.source)
        assert entry.reviewed <= today, entry.id


@pytest.mark.parametrize("name", ["test.jsonl", "dev.jsonl"])
def test_evaluation_queries_are_held_out(corpus: Corpus, name: str) -> None:
    """No evaluation query is a FAQ question, an NLU training example or a near miss."""
    questions = {q for e in corpus.entries.values() for qs in e.questions.values() for q in qs}
    nlu = set()
    for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            nlu |= {line[2:].strip() for line in block["examples"].splitlines() if line.strip()}
    nlu |= set(load_near_misses(Settings.from_env().near_misses_path))
    queries = [json.loads(line)["query"] for line in (EVAL / name).read_text().splitlines() if line]
    leaked = [q for q in queries if q in questions or q in nlu]
    assert not leaked


def test_test_and_dev_sets_do_not_overlap() -> None:
    def read(name: str) -> set[str]:
        return {json.loads(x)["query"] for x in (EVAL / name).read_text().splitlines() if x}

    assert not read("test.jsonl") & read("dev.jsonl")


def test_evaluation_ids_exist(corpus: Corpus) -> None:
    for name in ("test.jsonl", "dev.jsonl"):
        for line in (EVAL / name).read_text().splitlines():
            relevant = json.loads(line)["relevant"]
            for entry_id in relevant:
                assert entry_id in corpus.entries, (name, entry_id)
