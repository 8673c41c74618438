"""The conversation log through a database outage, on the real PostgreSQL server: turns
wait in the spool on disk, redacted, and reach the database in order once it is back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.storage.db import Store
from bot.storage.turn_log import TurnLog, TurnRecord, spool_dir_for
from tests.conftest import database_refusing_connections

PHONE = "090-1234-5678"


def _turn(text: str, minute: int, outcome: str = "answered") -> TurnRecord:
    return TurnRecord.of(
        text,
        channel="web",
        lang="ja",
        session_hash="s" * 32,
        outcome=outcome,
        faq_id="juminhyo-copy" if outcome == "answered" else None,
        reason="no_match" if outcome == "unanswered" else None,
        candidate_ids=("a", "b") if outcome == "unanswered" else (),
        created_at=dt.datetime(2026, 12, 1, 9, minute, tzinfo=dt.timezone.utc),
    )


def test_turns_wait_in_the_spool_while_the_database_is_down(
    postgres_url: str, tmp_path: Path
) -> None:
    store = Store(postgres_url)
    log = TurnLog(store, spool_dir_for(tmp_path, postgres_url))
    log.write(_turn("住民票がほしい", 0))
    assert log.pending() == 0 and len(store.messages()) == 1

    with database_refusing_connections(postgres_url):
        log.write(_turn(f"電話は{PHONE}です。保険証は?", 1, "unanswered"))
        log.write(_turn("印鑑登録は?", 2))
        assert log.pending() == 2
        assert log.flush() == 0 and log.pending() == 2  # still down: nothing lost, nothing written
        spooled = "".join(p.read_text() for p in log.spool.glob("*.json"))
        assert PHONE not in spooled and "[電話番号]" in spooled

    # Back: a new turn waits behind the spooled ones, so the log keeps their order.
    log.write(_turn("ごみの日は?", 3))
    assert log.pending() == 3
    assert log.flush() == 3 and log.pending() == 0
    rows = store.messages()
    assert [r.text for r in rows] == [
        "住民票がほしい",
        "電話は[電話番号]です。保険証は?",
        "印鑑登録は?",
        "ごみの日は?",
    ]
    assert [r.created_at.minute for r in rows] == [0, 1, 2, 3]
    [queued] = store.unanswered()
    assert queued.text == rows[1].text and queued.candidate_ids == ["a", "b"]


def test_a_turn_the_database_refuses_is_set_aside_not_retried_for_ever(
    postgres_url: str, tmp_path: Path
) -> None:
    store = Store(postgres_url)
    log = TurnLog(store, spool_dir_for(tmp_path, postgres_url))
    with database_refusing_connections(postgres_url):
        log.write(_turn("住民票がほしい", 0))
        log.write(_turn("印鑑登録は?", 1))
    broken = sorted(log.spool.glob("*.json"))[0]
    broken.write_bytes(b"\x00not a turn")
    assert log.flush() == 1
    assert log.pending() == 0
    assert [p.name for p in log.failed.iterdir()] == [broken.name]
    assert [r.text for r in store.messages()] == ["印鑑登録は?"]


def test_a_spool_belongs_to_one_database(tmp_path: Path) -> None:
    one = spool_dir_for(tmp_path, "postgresql://app:secret@db1:5432/madoguchi")
    assert one == spool_dir_for(tmp_path, "postgresql://app:rotated@db1:5432/madoguchi")
    assert one != spool_dir_for(tmp_path, "postgresql://app:secret@db2:5432/madoguchi")
    assert "secret" not in str(one)
