"""The entry classifier: what it learns, when it is trained, and what it may not decide."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import hstack

from bot.faq.classifier import MAX_ENTRIES, EntryClassifier
from bot.faq.engine import FIELD_WEIGHTS, UNPARAPHRASED_FIELD_WEIGHTS, FaqEngine
from bot.faq.exchange import import_jsonl
from bot.faq.profile import Profile
from bot.settings import PROJECT_ROOT
from bot.text.terms import char_ngrams, retrieval_terms

FAQ = PROJECT_ROOT / "faq"

# Two neighbouring entries that share most of their words (引っ越し, 届け, 転出証明書):
# only 転入 / 転出 and 来る / 出る tell them apart.
QUESTIONS = {
    0: [
        "市外から引っ越してきた 届け",
        "転入届 引っ越し 持ち物",
        "引っ越してきたら転出証明書を持っていく",
        "よその市から来た 住民票",
    ],
    1: [
        "市外へ引っ越す 届け",
        "転出届 引っ越し いつまで",
        "引っ越す前に転出証明書をもらう",
        "よその市へ出る 住民票",
    ],
    2: ["粗大ごみの出し方", "ソファを捨てたい", "大きなごみ 回収 申し込み", "タンス 処分"],
}


def train(questions: dict[int, list[str]]) -> EntryClassifier | None:
    texts = [(owner, q) for owner, qs in questions.items() for q in qs]
    return EntryClassifier.train(
        [retrieval_terms(q) for _, q in texts],
        [char_ngrams(q) for _, q in texts],
        [owner for owner, _ in texts],
        len(questions),
    )


def probabilities(classifier: EntryClassifier, text: str) -> np.ndarray:
    return classifier.probabilities(retrieval_terms(text), char_ngrams(text))


@pytest.fixture(scope="module")
def classifier() -> EntryClassifier:
    trained = train(QUESTIONS)
    assert trained is not None
    return trained


def test_the_distinguishing_word_decides_between_neighbours(classifier: EntryClassifier) -> None:
    moving_in = probabilities(classifier, "転入の手続き 転出証明書")
    moving_out = probabilities(classifier, "転出の手続き 転出証明書")
    assert moving_in.argmax() == 0 and moving_out.argmax() == 1
    assert probabilities(classifier, "古い冷蔵庫 ソファ 処分").argmax() == 2


def test_probabilities_are_what_sklearn_computes(classifier: EntryClassifier) -> None:
    for text in ["転入の手続き", "ソファ", "", "zzzz 未知の言葉だけ", "転出 転出 転出 届け"]:
        words, grams = retrieval_terms(text), char_ngrams(text)
        features = hstack(
            [v.transform([d]) for v, d in zip(classifier.vectorizers, (words, grams), strict=True)]
        ).tocsr()
        expected = classifier.model.predict_proba(features)[0]
        got = classifier.probabilities(words, grams)
        assert got.shape == (3,)
        assert np.allclose(got, expected, atol=1e-12), text
        assert got.sum() == pytest.approx(1.0)


def test_it_is_not_trained_for_one_entry_or_too_many() -> None:
    assert train({0: QUESTIONS[0]}) is None
    assert EntryClassifier.train([["a"]] * 3, [["#a"]] * 3, [0, 0, 0], MAX_ENTRIES + 1) is None


def test_imported_faq_pages_get_no_classifier_and_weightier_answers(tmp_path: Path) -> None:
    # One question per entry, as a city's FAQ pages have: nothing to learn from.
    lines = [
        {
            "id": f"page-{owner}",
            "question": questions[0],
            "answer": f"{questions[1]}。{questions[2]}",
        }
        for owner, questions in QUESTIONS.items()
    ]
    data = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()
    import_jsonl(data, tmp_path / "corpus", Profile.load(FAQ / "municipality.yml"))
    engine = FaqEngine(tmp_path / "corpus", FAQ / "municipality.yml", strict=False)
    state = engine._state
    assert state is not None and state.classifier is None
    weights = {name: weight for name, _, weight in state.fields}
    assert weights == UNPARAPHRASED_FIELD_WEIGHTS
    assert weights["answer"] > FIELD_WEIGHTS["answer"]
    # Words found only in an answer find its entry.
    assert engine.search("ソファ 回収").candidates[0].entry.id == "page-2"


def test_it_orders_the_entries_but_does_not_decide_to_answer() -> None:
    engine = FaqEngine(FAQ / "corpus", FAQ / "municipality.yml", FAQ / "terms.yml")
    state = engine._state
    assert state is not None and state.classifier is not None
    assert {name: weight for name, _, weight in state.fields} == FIELD_WEIGHTS
    # A softmax gives its probability to some entry whatever the question: here the dog
    # registration entry takes most of it for a question about training a dog.
    question = "犬のしつけ方法を教えて"
    words = retrieval_terms(question, state.terms)
    chosen = state.classifier.probabilities(words, char_ngrams(question))
    assert chosen.max() > 0.5
    assert not engine.search(question).answered
    # Questions that BM25 alone gives to a neighbouring entry (changing schools, the
    # child's card, kindergarten).
    for question, expected in [
        ("市内で家を替わった", "moving-within-city"),
        ("マイナカードまだ持ってない 作りたい", "mynumber-card-apply"),
        ("保育園 途中から入れる？", "nursery-application"),
    ]:
        assert engine.search(question).candidates[0].entry.id == expected, question
