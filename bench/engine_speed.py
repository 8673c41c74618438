"""Benchmark: the FAQ engine at city scale (2,000+ entries).

Builds a 2,000-entry corpus in the JSONL import format from the project's own questions
(each question becomes an entry with its entry's answer, or with `--paraphrases N` each
entry gets N questions of one of the project's entries), imports it, then measures:

- index build time (import-to-ready) and per-query latency p50/p95 over 800 queries drawn
  from the other questions, for the lexical engine and for the hybrid engine with the
  installation's embedding models and out-of-scope examples (as `madoguchi run` serves),
- the wall time of `madoguchi eval --corpus` over that corpus and those queries.

    .venv/bin/python bench/engine_speed.py [--entries 2000] [--queries 800] [--paraphrases 1]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.city_corpus import eval_command, import_city
from bot.faq.corpus import Corpus
from bot.faq.embeddings import load_configured
from bot.faq.engine import FaqEngine
from bot.faq.out_of_scope import engine_examples
from bot.faq.profile import Profile
from bot.settings import Settings
from bot.text.japanese import CompoundTable


def synthetic_city(
    entries: int, queries: int, paraphrases: int = 1, seed: int = 7
) -> tuple[list[dict], list[dict]]:
    """Entries of ``paraphrases`` questions each, taken from one of the project's entries
    (with its answer), and queries drawn from the questions left over."""
    settings = Settings.from_env()
    profile = Profile.load(settings.profile_path)
    corpus = Corpus.load(settings.corpus_dir, profile)
    pairs = [
        (entry, question)
        for entry in corpus.entries.values()
        for questions in entry.questions.values()
        for question in questions
    ]
    rng = random.Random(seed)
    rng.shuffle(pairs)
    if paraphrases == 1:
        groups = [[pair] for pair in pairs]
    else:  # each entry's questions from one of the project's entries
        by_entry: dict[str, list] = {}
        for pair in pairs:
            by_entry.setdefault(pair[0].id, []).append(pair)
        groups = [
            chunk[i : i + paraphrases]
            for chunk in by_entry.values()
            for i in range(0, len(chunk) - paraphrases + 1, paraphrases)
        ]
        rng.shuffle(groups)
    indexed = groups[:entries]
    taken = {id(pair) for group in indexed for pair in group}
    held_out = [pair for pair in pairs if id(pair) not in taken]
    lines: list[dict] = []
    owners: dict[str, list[str]] = {}  # project entry id -> synthetic entry ids
    for number, group in enumerate(indexed):
        entry_id = f"q{number:05d}"
        owners.setdefault(group[0][0].id, []).append(entry_id)
        for entry, question in group:
            lines.append({"id": entry_id, "question": question, "answer": entry.answer["ja"]})
    query_lines = [
        {"query": question, "relevant": owners[entry.id]}
        for entry, question in held_out
        if entry.id in owners
    ][:queries]
    return lines, query_lines


def measure(
    corpus_dir: Path,
    settings: Settings,
    query_lines: list[dict],
    encoder=None,  # type: ignore[no-untyped-def]
    out_of_scope: tuple[str, ...] = (),
) -> tuple[float, list[float]]:
    """Index build seconds and sorted per-query milliseconds for one engine setup."""
    started = time.perf_counter()
    engine = FaqEngine(
        corpus_dir,
        settings.profile_path,
        settings.terms_path,
        strict=False,
        encoder=encoder,
        out_of_scope=out_of_scope,
    )
    build_seconds = time.perf_counter() - started
    latencies = []
    for query in query_lines:
        started = time.perf_counter()
        engine.search(query["query"])
        latencies.append((time.perf_counter() - started) * 1000)
    return build_seconds, sorted(latencies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=800)
    parser.add_argument(
        "--paraphrases",
        type=int,
        default=1,
        help="questions per entry (3 or more trains the entry classifier, as on a curated corpus)",
    )
    args = parser.parse_args()
    settings = Settings.from_env()
    lines, query_lines = synthetic_city(args.entries, args.queries, args.paraphrases)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus_dir = work / "corpus"
        import_city(lines, corpus_dir, Profile.load(settings.profile_path))
        terms = CompoundTable.from_file(settings.terms_path)
        encoder = load_configured(settings, terms)
        timings = {"lexical": measure(corpus_dir, settings, query_lines)}
        if encoder is not None:
            examples = engine_examples(settings)
            timings["hybrid"] = measure(corpus_dir, settings, query_lines, encoder, examples)
        started = time.perf_counter()
        figures = eval_command(query_lines, corpus_dir, work)
        eval_seconds = time.perf_counter() - started
    print(f"entries: {len({line['id'] for line in lines})} ({len(lines)} questions)")
    print(f"queries: {len(query_lines)}")
    for name, (build_seconds, latencies) in timings.items():
        print(f"{name}_index_build_seconds: {build_seconds:.2f}")
        print(f"{name}_query_ms_p50: {statistics.median(latencies):.2f}")
        print(f"{name}_query_ms_p95: {latencies[int(0.95 * (len(latencies) - 1))]:.2f}")
    print(
        f"eval_command_seconds: {eval_seconds:.1f} (n={figures['n']} queries over "
        f"{figures['entries']} entries)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
