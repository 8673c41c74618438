"""`madoguchi eval`: the metrics on hand-computed cases, and the command on a real corpus."""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import pytest

from bot.cli import main
from bot.faq.evaluate import Outcome, Query, ndcg, reciprocal_rank, summarize


def outcome(
    ranking: list[str], grades: dict[str, int], answered: bool, lang: str = "ja"
) -> Outcome:
    return Outcome(Query("q", lang, grades), tuple(ranking), answered, 1.0)


def test_ndcg_with_grades() -> None:
    grades = {"a": 2, "b": 1}
    assert ndcg(("a", "b", "c"), grades) == pytest.approx(1.0)
    # b first, a second: (1/log2(2) + 2/log2(3)) / (2/log2(2) + 1/log2(3))
    expected = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert ndcg(("b", "a"), grades) == pytest.approx(expected)
    assert ndcg(("x", "y"), grades) == 0.0


def test_reciprocal_rank() -> None:
    assert reciprocal_rank(("x", "a"), {"a": 2}) == 0.5
    assert reciprocal_rank(("x",) * 10 + ("a",), {"a": 2}) == 0.0  # beyond depth 10


def test_summary_figures() -> None:
    outcomes = [
        outcome(["a", "b"], {"a": 2}, answered=True),
        outcome(["b", "a"], {"a": 2}, answered=True),
        outcome(["c", "d", "e", "f"], {"f": 2}, answered=False),
        outcome(["a"], {}, answered=False),
        outcome(["a"], {}, answered=True),
    ]
    s = summarize(outcomes)
    assert s["n"] == 5 and s["n_answerable"] == 3 and s["n_oos"] == 2
    assert s["hit@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["hit@3"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["hit@5"] == pytest.approx(1.0)
    assert s["mrr@10"] == pytest.approx((1 + 0.5 + 0.25) / 3, abs=1e-4)
    assert s["oos_rejection"] == 0.5
    assert s["false_rejection"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["answered_correct"] == pytest.approx(1 / 3, abs=1e-4)


def test_partly_relevant_entries_are_not_hits() -> None:
    # "b" only partly answers: ranked first it earns nDCG credit, but no hit and no MRR.
    s = summarize([outcome(["b", "x", "a"], {"a": 2, "b": 1}, answered=True)])
    assert s["hit@1"] == 0.0
    assert s["hit@3"] == 1.0
    assert s["mrr@10"] == pytest.approx(1 / 3, abs=1e-4)
    assert 0.0 < s["ndcg@10"] < 1.0
    assert s["answered_correct"] == 0.0


def test_eval_command_on_an_imported_corpus(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    faq = [
        {
            "id": "G_1",
            "question": "燃えるごみの日はいつですか",
            "answer": "地区ごとに決まっています。",
        },
        {"id": "G_2", "question": "粗大ごみの出し方", "answer": "予約してください。"},
        {"id": "L_1", "question": "図書館カードの作り方", "answer": "身分証を持って図書館へ。"},
    ]
    source = tmp_path / "city.jsonl"
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in faq), encoding="utf-8")
    assert main(["faq", "import", str(source), "--out", str(tmp_path / "corpus")]) == 0
    queries = [
        {"query": "燃えるゴミはいつ出せばいい？", "relevant": ["G_1"]},
        {"query": "ソファを捨てたい 粗大ごみ", "relevant": {"G_2": 2, "G_1": 1}},
        {"query": "図書館のカードがほしい", "lang": "ja", "relevant": ["L_1"]},
        {"query": "明日の天気は？", "relevant": []},
    ]
    qfile = tmp_path / "queries.jsonl"
    qfile.write_text(
        "\n".join(json.dumps(q, ensure_ascii=False) for q in queries), encoding="utf-8"
    )
    capsys.readouterr()
    code = main(["eval", "--queries", str(qfile), "--corpus", str(tmp_path / "corpus"), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 4 and result["entries"] == 3
    assert result["hit@1"] == 1.0 and result["oos_rejection"] == 1.0
    for key in (
        "hit@3",
        "hit@5",
        "mrr@10",
        "ndcg@10",
        "false_rejection",
        "latency_ms_p50",
        "latency_ms_p95",
    ):
        assert key in result
    assert result["by_lang"]["ja"]["n"] == 4


def test_eval_rejects_a_bad_queries_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"query": "x", "relevant": ["a"]}\n{"query": "", "relevant": []}\nnope\n')
    assert main(["eval", "--queries", str(qfile)]) == 1
    err = capsys.readouterr().err
    assert "line 2" in err and "line 3" in err


def test_eval_trains_a_model_for_the_corpus_it_evaluates(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # A word unique to this run: the model is cached (in var/) by the corpus's digest, and
    # tmp_path's name is the same in every run.
    marker = uuid.uuid4().hex
    faq = [
        {
            "id": "pool",
            "question": "市民プールについて",
            "answer": "水着と水泳帽を持参してください。",
        },
        {
            "id": "library",
            "question": "図書館について",
            "answer": f"本は十冊まで借りられます。{marker}",
        },
        {
            "id": "dog",
            "question": "犬の登録について",
            "answer": "狂犬病の予防注射を受けてください。",
        },
    ]
    source = tmp_path / "city.jsonl"
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in faq), encoding="utf-8")
    assert main(["faq", "import", str(source), "--out", str(tmp_path / "corpus")]) == 0
    qfile = tmp_path / "queries.jsonl"
    qfile.write_text(
        json.dumps({"query": "水泳帽はいる？", "relevant": ["pool"]}, ensure_ascii=False)
    )
    command = ["eval", "--queries", str(qfile), "--corpus", str(tmp_path / "corpus"), "--json"]
    capsys.readouterr()
    assert main(command) == 0
    assert json.loads(capsys.readouterr().out)["embedding_model"] is None

    assert main([*command, "--train"]) == 0
    out, err = capsys.readouterr()
    trained = json.loads(out)
    assert "embedding model trained" in err and trained["embedding_model"]
    assert main([*command, "--train"]) == 0
    out, err = capsys.readouterr()
    assert "embedding model reused" in err
    assert json.loads(out)["embedding_model"] == trained["embedding_model"]


def test_train_is_for_another_corpus(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"query": "x", "relevant": ["a"]}\n')
    assert main(["eval", "--queries", str(qfile), "--train"]) == 2
    assert "--corpus" in capsys.readouterr().err
