"""`madoguchi ask --json` and the command's help."""

from __future__ import annotations

import json
import subprocess
import sys

from bot.settings import PROJECT_ROOT


def madoguchi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=PROJECT_ROOT,
        text=True,
        capture_output=True,
        # Loading the engine takes seconds, or minutes on a busy machine.
        timeout=600,
    )


def test_ask_json_answers_a_lost_card() -> None:
    result = madoguchi("ask", "マイナンバーカードをなくした", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["answered"] is True and out["lang"] == "ja"
    first = out["results"][0]
    assert set(first) == {"id", "score", "question", "answer"}
    assert first["id"] == "mynumber-card-lost"
    assert "{" not in first["answer"] and "0120-95-0178" in first["answer"]


def test_ask_json_declines_the_weather() -> None:
    out = json.loads(madoguchi("ask", "明日の天気は？", "--json").stdout)
    assert out["answered"] is False


def test_ask_in_english() -> None:
    out = json.loads(madoguchi("ask", "I lost my My Number card", "--json").stdout)
    assert out["lang"] == "en" and out["results"][0]["id"] == "mynumber-card-lost"
    assert (
        "lost" in out["results"][0]["answer"].lower()
        or "suspend" in out["results"][0]["answer"].lower()
    )


def test_no_command_prints_help() -> None:
    result = madoguchi()
    assert result.returncode == 2 and "faq" in result.stdout
