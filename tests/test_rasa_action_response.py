"""Rasa's check of the action server's replies, made cheap (bot.nlu.action_response), still
accepts and refuses exactly what Rasa's own check does, with the same error."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.rasa

SCRIPT = r"""
import json, sys
from rasa.core.actions.action import RemoteAction
rasas_own = RemoteAction._validate_action_result
import bot.nlu  # installs the project's check
assert RemoteAction._validate_action_result is not rasas_own

def outcome(check, reply):
    try:
        return ["accepted", check(RemoteAction("action_respond", None), reply)]
    except Exception as exc:
        return ["refused", type(exc).__name__, str(exc)]

replies = json.loads(sys.argv[1])
print(json.dumps([[outcome(rasas_own, r), outcome(RemoteAction._validate_action_result, r)] for r in replies]))
"""

REPLIES = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "topic", "value": "x"}], "responses": [{"text": "答え"}]},
    {"events": "not a list"},
    {"events": [{"name": "no event type"}]},
    {"responses": [{"text": 1}]},
    {},
]


def test_the_check_of_action_replies_is_rasas_own() -> None:
    result = subprocess.run(
        [str(PROJECT_ROOT / ".venv-rasa" / "bin" / "python"), "-c", SCRIPT, json.dumps(REPLIES)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    pairs = json.loads(result.stdout.strip().splitlines()[-1])
    for reply, (rasas, ours) in zip(REPLIES, pairs, strict=True):
        assert ours == rasas, reply
    assert [rasas[0] for rasas, _ in pairs[:4]] == ["accepted", "accepted", "refused", "refused"]
