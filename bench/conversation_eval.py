"""Multi-turn conversations through the whole assistant.

Starts Rasa, the action server and the gateway (the shared test model) and plays every
conversation of the set through /api/chat, one session per conversation, as a widget
resident who did not choose a language. Prints the share of right replies per kind of turn
(first questions, follow-ups, topic switches, clarifying questions and the replies to them),
per language for first turns and follow-ups, and the reply latency.

    .venv/bin/python bench/conversation_eval.py [--set tests/eval/conversations/test2.jsonl ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.conversation.evaluate import Scores, chat_sender, load, play
from bot.faq.corpus import Corpus
from bot.faq.profile import Profile
from bot.settings import Settings
from tests.stack import running_stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="+", default=["tests/eval/conversations/dev.jsonl"])
    parser.add_argument("--misses", action="store_true", help="print every wrong turn")
    args = parser.parse_args()
    settings = Settings.from_env()
    corpus = Corpus.load(settings.corpus_dir, Profile.load(settings.profile_path))
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp)) as stack,
        httpx.Client() as client,
    ):
        for name in args.set:
            conversations = load(Path(name))
            send = chat_sender(stack.gateway_url, corpus, uuid.uuid4().hex[:8], client)
            report(name, conversations, play(conversations, send, corpus), args.misses)
    return 0


def report(name: str, conversations: list, scores: Scores, misses: bool) -> None:
    summary = scores.summary()
    print(f"{name}: {len(conversations)} conversations, {summary['turns']} turns")
    for kind, rate in summary["accuracy"].items():
        print(f"  {kind:14} {rate:.3f}  (n={summary['count'][kind]})")
    for kind, by_lang in summary["by_language"].items():
        print(f"  {kind:14} " + "  ".join(f"{lang} {r:.3f}" for lang, r in by_lang.items()))
    print(f"  reply latency p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms", flush=True)
    if misses:
        for miss in scores.misses:
            print(json.dumps(miss, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
