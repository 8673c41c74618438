"""Retrieval through the whole assistant: an evaluation set sent to /api/chat.

Starts Rasa, the action server and the gateway (the shared test model), sends every query
of the set as the first message of its own conversation, and prints, per language, the
share answered outright with a relevant entry (first-answer accuracy), the share of
must-not-answer queries declined, and the engine's own figures on the same queries for
comparison: its first-answer accuracy (answered outright, in process, on the same redacted
text) and its hit@1. The gateway redacts each message first, as it does for residents.

    .venv/bin/python bench/chat_eval.py [--queries tests/eval/test.jsonl]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import uuid
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cli import main as madoguchi
from bot.faq.engine import build_engine
from bot.gateway.resident_text import prepare
from bot.settings import Settings
from tests.stack import running_stack


def relevant_ids(row: dict) -> set[str]:
    relevant = row["relevant"]
    if isinstance(relevant, dict):
        best = max(relevant.values(), default=0)
        return {k for k, grade in relevant.items() if grade == best}
    return set(relevant)


def engine_figures(path: Path) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert madoguchi(["eval", "--queries", str(path), "--json"]) == 0
    return json.loads(out.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", default="tests/eval/test.jsonl")
    args = parser.parse_args()
    path = Path(args.queries)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp)) as stack:
        for row in rows:
            lang = row.get("lang", "ja")
            reply = stack.chat(row["query"], session_id=uuid.uuid4().hex)
            first = next((m.get("faq_id") for m in reply["messages"] if m.get("faq_id")), None)
            relevant = relevant_ids(row)
            for key in (lang, "all"):
                if relevant:
                    counts[key]["answerable"] += 1
                    counts[key]["right_first"] += first in relevant
                else:
                    counts[key]["oos"] += 1
                    counts[key]["declined"] += first is None
    faq = build_engine(Settings.from_env())
    for row in rows:
        relevant = relevant_ids(row)
        if not relevant:
            continue
        reply = faq.search(prepare(row["query"]))
        right = reply.answered and reply.results[0].entry.id in relevant
        for key in (row.get("lang", "ja"), "all"):
            counts[key]["engine_first"] += right
    engine = engine_figures(path)
    print(
        f"{'lang':5} {'n':>4} {'chat first-answer':>18} {'engine first-answer':>20} "
        f"{'engine hit@1':>13} {'oos declined':>13}"
    )
    for lang, c in sorted(counts.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        figures = engine if lang == "all" else engine["by_lang"].get(lang, {})
        n = c["answerable"] or 1
        declined = c["declined"] / c["oos"] if c["oos"] else float("nan")
        print(
            f"{lang:5} {c['answerable'] + c['oos']:>4} {c['right_first'] / n:>18.3f} "
            f"{c['engine_first'] / n:>20.3f} {figures.get('hit@1', float('nan')):>13.3f} "
            f"{declined:>13.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
