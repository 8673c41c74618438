"""Benchmark: Rasa training time, and reply latency through /api/chat on the real stack.

Trains the model with the project's config.yml from a cold cache, starts Rasa, the action
server and the gateway on free local ports, sends N questions one after another, and prints
the training time and the median and 95th-percentile reply latency.

    .venv/bin/python bench/chat_latency.py [--questions 200] [--epochs N]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.faq.corpus import Corpus
from bot.faq.profile import Profile
from bot.settings import Settings
from tests.stack import Stack

EXTRA = [
    "こんにちは",
    "ありがとう",
    "明日の天気は？",
    "担当者と話したい",
    "I lost my card",
    "粗大ごみ",
]


def questions(n: int) -> list[str]:
    settings = Settings.from_env()
    corpus = Corpus.load(settings.corpus_dir, Profile.load(settings.profile_path))
    pool = [q for e in corpus.entries.values() for q in e.questions["ja"][1:4]] + EXTRA
    return list(itertools.islice(itertools.cycle(pool), n))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=None, help="override DIET epochs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        stack = Stack(workdir=workdir, database_url=f"sqlite:///{workdir / 'bench.db'}")
        if args.epochs is not None:
            stack.epochs = args.epochs
        stack.configure(shared_model=False)  # a cold training is part of the figure
        if args.epochs is None:  # the project's own config, unchanged
            stack.env["MADOGUCHI_RASA_CONFIG"] = str(Settings.from_env().root / "config.yml")
        stack.env["RASA_CACHE_DIRECTORY"] = str(workdir / "rasa-cache")  # cold training
        train_seconds = stack.train()
        stack.start()
        try:
            latencies = []
            with httpx.Client(timeout=60) as client:
                for number, text in enumerate(questions(args.questions)):
                    started = time.perf_counter()
                    response = client.post(
                        f"{stack.gateway_url}/api/chat",
                        json={"session_id": f"bench-{number % 20}", "text": text},
                    )
                    latencies.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
        finally:
            stack.stop()
    print(f"train_seconds: {train_seconds:.1f}")
    print(f"questions: {len(latencies)}")
    print(f"reply_ms_p50: {statistics.median(latencies):.1f}")
    print(f"reply_ms_p95: {percentile(latencies, 0.95):.1f}")
    print(f"reply_ms_max: {max(latencies):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
