"""Japanese terms spelt in romaji or in hiragana alone: the spellings learnt from the corpus,
and the engine answering them like the same question in kanji (lexical engine, no model)."""

from __future__ import annotations

import pytest

from bot.faq.engine import FaqEngine
from bot.settings import PROJECT_ROOT
from bot.text.spellings import Spellings, romaji_key

FAQ = PROJECT_ROOT / "faq"


@pytest.fixture(scope="module")
def engine() -> FaqEngine:
    return FaqEngine(FAQ / "corpus", FAQ / "municipality.yml", FAQ / "terms.yml")


@pytest.mark.parametrize(
    "spelt", ["juminhyo", "jūminhyō", "juuminhyou", "JUMINHYOU", "juminhyou", "zyuuminhyou"]
)
def test_long_vowels_diacritics_and_kunrei_fold_to_one_key(spelt: str) -> None:
    assert romaji_key(spelt) == "juminhyo"


def test_terms_are_learnt_with_their_readings() -> None:
    spellings = Spellings.learn(
        {
            "a": ["住民票がほしい", "児童手当の申請"],
            "b": ["国民健康保険に入りたい"],
        },
        # "taken" is an English word wherever it appears, not a spelling of 他県.
        {"c": ["it was taken", "taken away"], "d": ["not taken"]},
    )
    assert spellings.expand("Where can I get juminhyo?").endswith("住民票")
    assert spellings.expand("Como pedir o jidou teate?").endswith("児童手当")
    assert spellings.expand("kokumin kenko hoken").endswith("国民健康保険")
    assert spellings.expand("じゅうみんひょう ほしい").endswith("住民票")
    # Words apart across punctuation are not one term.
    assert "児童手当" not in spellings.expand("jidou, teate")
    # Hiragana written on to kanji is an ending, not a word.
    assert spellings.expand("相談したい") == "相談したい"
    assert spellings.expand("nothing here") == "nothing here"


def test_a_foreign_word_is_not_taken_for_a_term() -> None:
    spellings = Spellings.learn(
        {"a": ["他県から来ました"]},
        {"a": ["from another prefecture"], "b": ["it was taken"], "c": ["taken away"]},
    )
    assert spellings.expand("it was taken") == "it was taken"


@pytest.mark.parametrize(
    ("query", "lang", "expected"),
    [
        ("Where can I get juminhyo?", "en", "certificate-residence"),
        ("O que é o juminzei?", "pt", "tax-resident"),
        ("Como pedir o jidou teate?", "pt", "child-allowance"),
        ("こせきとうほん とりたい", "ja", "certificate-family-register"),
        ("じどうてあて しんせい", "ja", "child-allowance"),
        ("sodai gomi dashitai", "ja", "garbage-oversized"),
    ],
)
def test_the_engine_reads_romaji_and_kana(
    engine: FaqEngine, query: str, lang: str, expected: str
) -> None:
    reply = engine.search(query, lang)
    assert reply.candidates[0].entry.id == expected
