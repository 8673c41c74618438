"""The production layout on one host: `madoguchi run --instances 2` behind a real HAProxy,
on the real PostgreSQL (log and Rasa's tracker store) and Redis (Rasa's lock). Any one
instance of each service can die while residents keep being answered; the supervisor starts
it again; a conversation outlives the Rasa servers it was held by."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.layout import LayoutError, several
from bot.privacy.hashing import hash_id
from bot.settings import Settings
from bot.storage.db import Store
from tests.conftest import fresh_postgres_database
from tests.stack import Layout, running_layout

pytestmark = pytest.mark.rasa

REDIS_URL = "redis://127.0.0.1:6379/3"


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layout]:
    with (
        fresh_postgres_database() as database_url,
        fresh_postgres_database() as tracker_url,
        running_layout(
            tmp_path_factory.mktemp("layout"),
            2,
            MADOGUCHI_DATABASE_URL=database_url,
            MADOGUCHI_TRACKER_URL=tracker_url,
            MADOGUCHI_REDIS_URL=REDIS_URL,
        ) as running,
    ):
        yield running


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
            layout.chat(session, question, tries=300)
            answered += 1
        return answered

    layout.wait_until_up(2)  # the instances the tests before restarted included
    before = len(layout.output())
    with ThreadPoolExecutor(len(residents)) as pool:
        talking = [pool.submit(resident, r) for r in residents]
        time.sleep(3)
        layout.kill("gateway", 1)
        layout.kill("rasa", 1)
        layout.kill("actions", 1)
        answered = [t.result() for t in talking]
    assert answered == [len(questions) * 3] * len(residents)
    restarts = [f"Restarting the {n} service." for n in ("gateway-1", "rasa-1", "actions-1")]
    deadline = time.monotonic() + 60
    while not all(r in layout.output()[before:] for r in restarts):
        assert time.monotonic() < deadline, layout.output()[before:][-3000:]
        time.sleep(0.5)
    # Every message each resident got an answer to is in the log once.
    store = Store(layout.env["MADOGUCHI_DATABASE_URL"])
    hashes = {hash_id(r, layout.env["MADOGUCHI_HASH_SALT"]) for r in residents}
    logged = [m for m in store.messages() if m.session_hash in hashes and m.outcome != "error"]
    assert len(logged) >= len(residents) * len(questions) * 3


def test_the_haproxy_configuration_balances_across_hosts(tmp_path: Path) -> None:
    """Each host runs the same layout; with --hosts, its HAProxy sends requests to every
    host's instances. HAProxy itself checks the configuration."""
    settings = Settings(
        host="10.0.0.5",
        redis_url=REDIS_URL,
        tracker_url_setting="postgresql://madoguchi@10.0.0.9/madoguchi_tracker",
    )
    config = tmp_path / "haproxy.cfg"
    processes = several(settings, 2, config, ["10.0.0.5", "10.0.0.6"])
    assert [p.name for p in processes] == [
        *(f"{s}-{i}" for s in ("actions", "rasa", "gateway") for i in (1, 2)),
        "haproxy",
    ]
    text = config.read_text()
    for host in ("10.0.0.5", "10.0.0.6"):
        for port in (8001, 8002, 5006, 5007, 5056, 5057):
            assert f" {host}:{port}\n" in text
    assert "bind 10.0.0.5:8000" in text and "bind 10.0.0.5:5005" in text
    checked = subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with pytest.raises(LayoutError, match=r"10\.0\.0\.5"):
        several(settings, 2, config, ["10.0.0.6"])
