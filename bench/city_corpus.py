"""A city's FAQ as the benchmarks use it: imported from JSONL lines, then measured with
`madoguchi eval --corpus`, as a city would run it (in its own process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.faq.exchange import import_jsonl
from bot.faq.profile import Profile


def _jsonl(lines: list[dict]) -> str:
    return "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)


def import_city(lines: list[dict], corpus_dir: Path, profile: Profile) -> None:
    """Build a corpus in ``corpus_dir`` from lines ``{"id", "question", "answer"}``."""
    import_jsonl(_jsonl(lines).encode(), corpus_dir, profile)


def eval_command(
    query_lines: list[dict], corpus_dir: Path, work: Path, train: bool = False
) -> dict:
    """The figures `madoguchi eval --corpus corpus_dir --json` prints for these queries
    (with ``train``, using an embedding model trained for that corpus)."""
    queries_file = work / "queries.jsonl"
    queries_file.write_text(_jsonl(query_lines), encoding="utf-8")
    command = [sys.executable, "-m", "bot.cli", "eval", "--json"]
    command += ["--queries", str(queries_file), "--corpus", str(corpus_dir)]
    command += ["--train"] if train else []
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)
