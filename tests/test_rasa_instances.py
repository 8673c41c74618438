"""Two Rasa servers serve the same residents: conversations live in the shared tracker store
(PostgreSQL) and each conversation's messages are taken one at a time through Redis's lock
store, whichever server a message reaches. Real Rasa, PostgreSQL and Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from unicodedata import normalize

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text

from bot.services import lock_store_environment
from bot.settings import PROJECT_ROOT
from tests.conftest import fresh_postgres_database
from tests.stack import Stack, free_port, running_stack

REDIS_URL = os.environ.get("MADOGUCHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_the_lock_store_follows_the_redis_setting() -> None:
    assert lock_store_environment("")["MADOGUCHI_LOCK_STORE"] == "in_memory"
    env = lock_store_environment("redis://:p%40ss@cache.internal:6380/3")
    assert env == {
        "MADOGUCHI_LOCK_STORE": "bot.nlu.lock_store.AtomicRedisLockStore",
        "MADOGUCHI_LOCK_STORE_HOST": "cache.internal",
        "MADOGUCHI_LOCK_STORE_PORT": "6380",
        "MADOGUCHI_LOCK_STORE_DB": "3",
        "MADOGUCHI_LOCK_STORE_PASSWORD": "p@ss",
    }
    with pytest.raises(ValueError, match="redis://"):
        lock_store_environment("rediss://cache.internal:6380/0")


@contextmanager
def second_instance(stack: Stack) -> Iterator[str]:
    """Another Rasa server and a gateway in front of it, on the first one's stores; the
    gateway's URL."""
    env = {
        **stack.env,
        "MADOGUCHI_RASA_PORT": str(free_port()),
        "MADOGUCHI_GATEWAY_PORT": str(free_port()),
    }
    logs = stack.workdir / "logs"
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", name],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=(logs / f"{name}-2.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name in ("rasa", "gateway")
    ]
    checks = (
        f"http://127.0.0.1:{env['MADOGUCHI_RASA_PORT']}/",
        f"http://127.0.0.1:{env['MADOGUCHI_GATEWAY_PORT']}/healthz",
    )
    try:
        for process, url in zip(processes, checks, strict=True):
            _wait_until_up(process, url, logs)
        yield f"http://127.0.0.1:{env['MADOGUCHI_GATEWAY_PORT']}"
    finally:
        from bot.services import terminate

        terminate(processes)


def _wait_until_up(process: subprocess.Popen[bytes], url: str, logs: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited:\n" + (logs / "rasa-2.log").read_text()[-3000:])
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not start")


class LockWatch:
    """Redis's MONITOR: which connections touched the conversation lock keys."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.connections: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        with self.client.monitor() as monitor:
            for command in monitor.listen():
                if self._stop.is_set():
                    return
                if "madoguchi:lock:" in command.get("command", ""):
                    self.connections.add(
                        str(command.get("client_address", ""))
                        + ":"
                        + str(command.get("client_port", ""))
                    )

    def __enter__(self) -> LockWatch:
        self._thread.start()
        time.sleep(0.5)  # MONITOR is on before the first message
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.client.ping()  # wakes the monitor up to see the flag
        self._thread.join(10)
        self.client.close()


def chat(gateway: str, session_id: str, message: str) -> dict:
    response = httpx.post(
        f"{gateway}/api/chat", json={"session_id": session_id, "text": message}, timeout=120
    )
    assert response.status_code == 200, response.text
    return response.json()


def answered(reply: dict) -> str | None:
    return next((m.get("faq_id") for m in reply["messages"] if m.get("faq_id")), None)


def test_two_rasa_servers_serve_one_conversation_in_order(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with fresh_postgres_database() as tracker_url:
        workdir = tmp_path_factory.mktemp("rasa-instances")
        shared = {"MADOGUCHI_TRACKER_URL": tracker_url, "MADOGUCHI_REDIS_URL": REDIS_URL}
        with running_stack(workdir, **shared) as stack, second_instance(stack) as other:
            first = stack.gateway_url
            # A follow-up reaches the other server, which knows the topic.
            assert answered(chat(first, "resident-1", "粗大ごみを出したい")) == "garbage-oversized"
            assert answered(chat(other, "resident-1", "エアコンは？")) == "garbage-home-appliances"

            # Messages of one conversation sent at once to both servers are taken one at a
            # time: every message is in the tracker, each followed by its own reply.
            messages = [
                "住民票がほしい",
                "いくら？",
                "印鑑登録は？",
                "必要なものは？",
                "ありがとう",
                "戸籍謄本",
            ]
            with LockWatch(REDIS_URL) as watch, ThreadPoolExecutor(len(messages)) as pool:
                replies = list(
                    pool.map(
                        lambda pair: chat((first, other)[pair[0] % 2], "resident-2", pair[1]),
                        enumerate(messages),
                    )
                )
            assert all(r["messages"] for r in replies)
            assert len(watch.connections) >= 2, watch.connections

            engine = create_engine(tracker_url)
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT sender_id, type_name, data FROM events ORDER BY id")
                ).all()
            engine.dispose()
    senders = list(dict.fromkeys(sender for sender, _, _ in rows))
    assert len(senders) == 2  # two residents, pseudonymised
    second = [(kind, json.loads(data)) for sender, kind, data in rows if sender == senders[1]]
    users = [data["text"] for kind, data in second if kind == "user"]
    assert sorted(users) == sorted(normalize("NFKC", m) for m in messages)
    # Between two of the resident's messages, the assistant replied: no message was taken
    # while another one of the same conversation was being answered.
    kinds = [kind for kind, _ in second if kind in ("user", "bot")]
    assert kinds[0] == "user"
    assert ("user", "user") not in set(pairwise(kinds)), kinds
