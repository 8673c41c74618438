from bot.settings import PROJECT_ROOT
from bot.text.japanese import CompoundTable, analyze, content_lemmas, normalize

TERMS = CompoundTable.from_file(PROJECT_ROOT / "faq" / "terms.yml")


def lemmas(text: str) -> list[str]:
    return [m.lemma for m in analyze(text)]


def test_spelling_variants_share_a_lemma() -> None:
    assert lemmas("引越し")[0] == lemmas("引っ越し")[0]
    assert lemmas("子供")[0] == lemmas("子ども")[0]
    assert lemmas("失くした")[0] == lemmas("なくした")[0]


def test_loanword_lemmas_drop_the_gloss() -> None:
    assert "カード" in lemmas("カードを落とした")
    assert all("-" not in lemma for lemma in lemmas("マイナンバーカード コンビニ"))


def test_offsets_point_into_the_original_text() -> None:
    text = "ｶﾞｽ料金、　ｶｰﾄﾞで払いたい"
    morphemes = analyze(text)
    assert [m.text for m in morphemes[:2]] == ["ガス", "料金"]
    for m in morphemes:
        assert normalize(text[m.start : m.end]) == m.text
    assert morphemes[0].start == 0 and morphemes[0].end == 3  # ｶ + ﾞ + ｽ


def test_offsets_survive_characters_that_expand() -> None:
    text = "㍻の引越し"
    morphemes = analyze(text)
    assert morphemes[0].text == "平成"
    assert (morphemes[0].start, morphemes[0].end) == (0, 1)
    last = morphemes[-1]
    assert text[last.start : last.end] == "引越し"


def test_latin_words_are_case_folded() -> None:
    assert [m.lemma for m in analyze("My Number CARD")] == ["my", "number", "card"]


def test_compound_table_keeps_municipal_terms_whole() -> None:
    joined = analyze("マイナ保険証を使いたい", TERMS)
    assert joined[0].text == "マイナ保険証"
    assert (joined[0].start, joined[0].end) == (0, 6)
    assert analyze("書かない窓口はどこ", TERMS)[0].lemma == "書かない窓口"


def test_compound_table_matches_hiragana_and_synonyms() -> None:
    assert analyze("まいなんばーかーど なくした", TERMS)[0].lemma == "マイナンバーカード"
    assert analyze("マイナカード", TERMS)[0].lemma == "マイナンバーカード"


def test_content_lemmas_drop_particles_and_keep_parts() -> None:
    words = content_lemmas("マイナンバーカードを失くしました", TERMS)
    assert "を" not in words and "ます" not in words
    assert "マイナンバーカード" in words and "カード" in words and "無くす" in words


def test_compound_table_rejects_malformed_lines(tmp_path) -> None:
    path = tmp_path / "terms.yml"
    path.write_text("マイナ保険証 マイナ保険証\n", encoding="utf-8")
    try:
        CompoundTable.from_file(path)
    except ValueError as exc:
        assert "terms.yml:1" in str(exc)
    else:
        raise AssertionError("a line without ':' must be rejected")
