"""How the engine ranks a corpus shaped like a city's imported FAQ pages.

A city's FAQ pages have one question and one answer per entry, and no paraphrases. This
script cuts the project's corpus to that shape (each entry's first Japanese question and
its Japanese answer), imports it as `madoguchi faq import --format jsonl` does, and asks it
the Japanese queries of tests/eval/dev.jsonl through `madoguchi eval --corpus`, which
serves another corpus without the installation's own embedding models: first lexical
only, then with a model trained for that corpus (`--train`, cached by its digest under
var/embeddings-evaluated/, so a second run does not train again).

    .venv/bin/python bench/one_question_corpus.py
    .venv/bin/python bench/one_question_corpus.py --queries tests/eval/test.jsonl

The levels for such a corpus were chosen on the dev set; the test set is for checking.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.city_corpus import eval_command, import_city
from bot.faq.corpus import Corpus
from bot.faq.profile import Profile
from bot.settings import PROJECT_ROOT, Settings

DEV_SET = PROJECT_ROOT / "tests" / "eval" / "dev.jsonl"
KEYS = (
    "hit@1",
    "hit@3",
    "mrr@10",
    "ndcg@10",
    "answered_correct",
    "false_rejection",
    "oos_rejection",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=DEV_SET, help="JSONL evaluation set")
    args = parser.parse_args()
    settings = Settings.from_env()
    profile = Profile.load(settings.profile_path)
    corpus = Corpus.load(settings.corpus_dir, profile)
    lines = [
        {"id": e.id, "question": e.questions["ja"][0], "answer": profile.render(e.answer["ja"])}
        for e in corpus.entries.values()
    ]
    queries = [
        line
        for line in map(json.loads, args.queries.read_text(encoding="utf-8").splitlines())
        if line.get("lang", "ja") == "ja"
    ]
    with tempfile.TemporaryDirectory() as tmp:
        corpus_dir = Path(tmp) / "corpus"
        import_city(lines, corpus_dir, profile)
        runs = {
            "lexical": eval_command(queries, corpus_dir, Path(tmp)),
            "trained model": eval_command(queries, corpus_dir, Path(tmp), train=True),
        }
    first = next(iter(runs.values()))
    print(f"entries: {first['entries']} (one question each)")
    print(f"queries: {first['n']} ({first['n_oos']} out-of-scope)")
    print(f"{'':>16} " + " ".join(f"{name:>14}" for name in runs))
    for key in KEYS:
        print(f"{key:>16} " + " ".join(f"{figures[key]:>14}" for figures in runs.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
