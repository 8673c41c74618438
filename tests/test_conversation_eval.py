"""The multi-turn conversation sets played through the real stack (/api/chat), with floors
just under the figures in the README: a change that makes follow-ups, topic switches or
clarifying questions worse fails here."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.conversation.evaluate import chat_sender, load, play
from bot.faq.corpus import Corpus
from bot.faq.profile import Profile
from bot.settings import PROJECT_ROOT, Settings
from tests.stack import Stack, running_stack

pytestmark = pytest.mark.rasa

SETS = PROJECT_ROOT / "tests" / "eval" / "conversations"
# Per set and kind of turn: the share of turns that must be right.
FLOORS = {
    "dev.jsonl": {"first": 0.90, "follow_up": 0.80, "switch": 0.80, "ambiguous": 0.73},
    "dev2.jsonl": {"first": 0.90, "follow_up": 0.74, "switch": 0.68},
    "dev3.jsonl": {"first": 0.88, "follow_up": 0.70, "switch": 0.78},
    "test.jsonl": {"first": 0.88, "follow_up": 0.78, "switch": 0.64, "clarify_reply": 0.85},
    "test2.jsonl": {"first": 0.89, "follow_up": 0.68, "switch": 0.82},
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("conversation-eval")) as stack:
        yield stack


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_conversation_set_through_the_stack(stack: Stack, name: str) -> None:
    settings = Settings.from_env()
    corpus = Corpus.load(settings.corpus_dir, Profile.load(settings.profile_path))
    with httpx.Client() as client:
        send = chat_sender(stack.gateway_url, corpus, uuid.uuid4().hex[:8], client)
        scores = play(load(Path(SETS / name)), send, corpus)
    accuracy = scores.summary()["accuracy"]
    for kind, floor in FLOORS[name].items():
        assert accuracy[kind] >= floor, (kind, accuracy, scores.misses[:10])
