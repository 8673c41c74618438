"""Grouping near-identical questions for the report and the review queue."""

from __future__ import annotations

from bot.report.grouping import group_texts, normalize_text


def test_same_wording_in_another_width_or_punctuation_is_one_group() -> None:
    texts = [
        "粗大ごみの予約を変更したい",
        "粗大ごみの予約を変更したい。",
        "ＰＣＢの処分",
        "PCBの処分",
    ]
    groups = group_texts(texts)
    assert [g.count for g in groups] == [2, 2]
    assert normalize_text("ＰＣＢの処分！") == normalize_text("pcbの処分")


def test_similar_wordings_are_grouped_and_different_topics_are_not() -> None:
    texts = [
        "犬の登録をしたい",
        "市営プールの営業時間",
        "犬の登録をしたい",
        "ペットの犬の登録",
        "花火大会はいつですか",
        "今年の花火大会の日程",
    ]
    groups = group_texts(texts)
    by_representative = {g.representative: g for g in groups}
    assert by_representative["犬の登録をしたい"].members == [0, 2, 3]
    assert by_representative["犬の登録をしたい"].examples == [
        "犬の登録をしたい",
        "ペットの犬の登録",
    ]
    assert by_representative["花火大会はいつですか"].count == 2
    assert by_representative["市営プールの営業時間"].count == 1
    assert groups[0].representative == "犬の登録をしたい"  # largest first


def test_redacted_personal_data_does_not_split_a_topic() -> None:
    groups = group_texts(["[電話番号]に折り返してください", "[メール]に折り返してください"])
    assert [g.count for g in groups] == [2]


def test_empty_input() -> None:
    assert group_texts([]) == []
