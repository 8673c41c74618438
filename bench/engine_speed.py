"""Benchmark: the FAQ engine at city scale (2,000+ entries).

Builds a 2,000-entry corpus in the JSONL import format from the project's own questions
(each question becomes an entry with its entry's answer), imports it, then measures:

- index build time (import-to-ready),
- per-query latency p50/p95 over 800 queries drawn from the other questions,
- the wall time of `madoguchi eval --corpus` over that corpus and those queries.

    .venv/bin/python bench/engine_speed.py [--entries 2000] [--queries 800]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.faq.corpus import Corpus
from bot.faq.engine import FaqEngine
from bot.faq.exchange import import_jsonl
from bot.faq.profile import Profile
from bot.settings import Settings


def synthetic_city(entries: int, queries: int, seed: int = 7) -> tuple[list[dict], list[dict]]:
    settings = Settings.from_env()
    profile = Profile.load(settings.profile_path)
    corpus = Corpus.load(settings.corpus_dir, profile)
    pairs = [
        (entry, question)
        for entry in corpus.entries.values()
        for questions in entry.questions.values()
        for question in questions
    ]
    random.Random(seed).shuffle(pairs)
    indexed, held_out = pairs[:entries], pairs[entries:]
    lines, owners = [], {}
    for number, (entry, question) in enumerate(indexed):
        entry_id = f"q{number:05d}"
        owners.setdefault(entry.id, []).append(entry_id)
        lines.append({"id": entry_id, "question": question, "answer": entry.answer["ja"]})
    query_lines = [
        {"query": question, "relevant": owners[entry.id]}
        for entry, question in held_out
        if entry.id in owners
    ][:queries]
    return lines, query_lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=800)
    args = parser.parse_args()
    settings = Settings.from_env()
    lines, query_lines = synthetic_city(args.entries, args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "city.jsonl"
        source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
        corpus_dir = work / "corpus"
        import_jsonl(source.read_bytes(), corpus_dir, Profile.load(settings.profile_path))
        started = time.perf_counter()
        engine = FaqEngine(corpus_dir, settings.profile_path, settings.terms_path, strict=False)
        build_seconds = time.perf_counter() - started
        latencies = []
        for query in query_lines:
            started = time.perf_counter()
            engine.search(query["query"])
            latencies.append((time.perf_counter() - started) * 1000)
        queries_file = work / "queries.jsonl"
        queries_file.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in query_lines))
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "eval",
                "--queries",
                str(queries_file),
                "--corpus",
                str(corpus_dir),
                "--json",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        eval_seconds = time.perf_counter() - started
        figures = json.loads(result.stdout)
    latencies.sort()
    print(f"entries: {len(engine.corpus)}")
    print(f"index_build_seconds: {build_seconds:.2f}")
    print(f"queries: {len(latencies)}")
    print(f"query_ms_p50: {statistics.median(latencies):.2f}")
    print(f"query_ms_p95: {latencies[int(0.95 * (len(latencies) - 1))]:.2f}")
    print(
        f"eval_command_seconds: {eval_seconds:.1f} (n={figures['n']} queries over "
        f"{figures['entries']} entries)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
