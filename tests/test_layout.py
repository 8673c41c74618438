"""The production layout on one host: `madoguchi run --instances 2` behind a real HAProxy,
on the real PostgreSQL (log and Rasa's tracker store) and Redis (Rasa's lock). Any one
instance of each service can die while residents keep being answered; the supervisor starts
it again; a conversation outlives the Rasa servers it was held by."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bot.layout import LayoutError, several
from bot.privacy.hashing import hash_id
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.db import Store
from tests.conftest import fresh_postgres_database
from tests.stack import Stack, free_port

pytestmark = pytest.mark.rasa

REDIS_URL = "redis://127.0.0.1:6379/3"


def _free_block(size: int = 3) -> int:
    """A port p with p, p+1 … p+size-1 all free."""
    while True:
        base = free_port()
        if base + size < 65535 and all(_free(base + i) for i in range(1, size)):
            return base


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Layout:
    def __init__(self, process: subprocess.Popen[bytes], env: dict[str, str], log: Path) -> None:
        self.process, self.env, self.log = process, env, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['MADOGUCHI_GATEWAY_PORT']}"

    def port(self, service: str, instance: int) -> int:
        base = {"gateway": "GATEWAY", "rasa": "RASA", "actions": "ACTIONS"}[service]
        return int(self.env[f"MADOGUCHI_{base}_PORT"]) + instance

    def kill(self, service: str, instance: int) -> None:
        """SIGKILL one instance's whole process group, as a crash would."""
        listing = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True)
        needle = f"--port {self.port(service, instance)}"
        pids = [int(line.split()[0]) for line in listing.stdout.splitlines() if needle in line]
        assert pids, f"no {service}-{instance} running"
        for pid in pids:
            os.killpg(pid, signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def chat(self, session: str, text: str, lang: str | None = None, tries: int = 20) -> dict:
        """What a resident's widget does: send, and on a 5xx or no connection, try again
        (it keeps the question for that)."""
        body = {"session_id": session, "text": text, **({"lang": lang} if lang else {})}
        for _ in range(tries):
            try:
                response = httpx.post(f"{self.url}/api/chat", json=body, timeout=60)
                if response.status_code == 200:
                    return response.json()
                assert response.status_code >= 500, response.text
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise AssertionError(f"not answered after {tries} tries: {text}")


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layout]:
    workdir = tmp_path_factory.mktemp("layout")
    stack = Stack(workdir=workdir, database_url="")
    stack.configure()
    stack.train()  # the shared test model, as the other stack tests use
    with fresh_postgres_database() as database_url, fresh_postgres_database() as tracker_url:
        env = {
            **stack.env,
            "MADOGUCHI_DATABASE_URL": database_url,
            "MADOGUCHI_TRACKER_URL": tracker_url,
            "MADOGUCHI_REDIS_URL": REDIS_URL,
            "MADOGUCHI_GATEWAY_PORT": str(_free_block()),
            "MADOGUCHI_RASA_PORT": str(_free_block()),
            "MADOGUCHI_ACTIONS_PORT": str(_free_block()),
        }
        log = workdir / "run.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--instances", "2"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        running = Layout(process, env, log)
        deadline = time.monotonic() + 600
        while "Madoguchi is running" not in running.output():
            assert process.poll() is None, running.output()[-5000:]
            assert time.monotonic() < deadline, running.output()[-5000:]
            time.sleep(1)
        try:
            yield running
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(120)


def test_several_instances_need_shared_state(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="MADOGUCHI_REDIS_URL"):
        several(Settings(), 2, tmp_path / "haproxy.cfg")
    with pytest.raises(LayoutError, match="MADOGUCHI_TRACKER_URL"):
        several(Settings(redis_url=REDIS_URL), 2, tmp_path / "haproxy.cfg")


def test_residents_are_answered_through_the_load_balancer(layout: Layout) -> None:
    answer = layout.chat(uuid.uuid4().hex, "住民票がほしい", tries=1)
    assert answer["outcome"] == "answered"


def test_a_conversation_outlives_its_rasa_servers(layout: Layout) -> None:
    """The topic and the chosen language are in the shared tracker store: both Rasa servers
    killed and started again between two messages, the follow-up is still read against the
    first question, in the resident's language."""
    session = uuid.uuid4().hex
    first = layout.chat(session, "住民票がほしい", lang="en")
    assert first["outcome"] == "answered" and first["lang"] == "en"
    layout.kill("rasa", 1)
    layout.kill("rasa", 2)
    # A message in no clear language is answered in the one the conversation has.
    assert layout.chat(session, "ok", tries=240)["lang"] == "en"
    follow_up = layout.chat(session, "必要なものは？")
    assert follow_up["turn"] == "follow_up", follow_up


def test_one_of_each_service_dies_under_load_and_no_resident_is_left_unanswered(
    layout: Layout,
) -> None:
    questions = [
        "住民票がほしい",
        "ごみの出し方",
        "マイナンバーカードを失くしました",
        "印鑑登録したい",
    ]
    residents = [uuid.uuid4().hex for _ in range(8)]

    def resident(session: str) -> int:
        answered = 0
        for question in questions * 3:
            layout.chat(session, question, tries=120)
            answered += 1
        return answered

    with ThreadPoolExecutor(len(residents)) as pool:
        talking = [pool.submit(resident, r) for r in residents]
        time.sleep(3)
        layout.kill("gateway", 1)
        layout.kill("rasa", 1)
        layout.kill("actions", 1)
        answered = [t.result() for t in talking]
    assert answered == [len(questions) * 3] * len(residents)
    output = layout.output()
    for name in ("gateway-1", "rasa-1", "actions-1"):
        assert f"Restarting the {name} service." in output
    # Every message each resident got an answer to is in the log once.
    store = Store(layout.env["MADOGUCHI_DATABASE_URL"])
    hashes = {hash_id(r, layout.env["MADOGUCHI_HASH_SALT"]) for r in residents}
    logged = [m for m in store.messages() if m.session_hash in hashes and m.outcome != "error"]
    assert len(logged) >= len(residents) * len(questions) * 3
