"""Unanswered questions are stored redacted, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage.db import Store

SECRET_MESSAGES = [
    "マイナンバー 1234-5678-9012 のカードをなくした",
    "電話 090-1234-5678 に折り返してください",
    "メールは yamada.taro@example.com です",
    "〒123-4567 さくらの市中央1-2-3 に住んでいます",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return Store(f"sqlite:///{tmp_path / 'test.db'}")
    return Store(request.getfixturevalue("postgres_url"))


def test_unanswered_questions_are_stored_redacted(store: Store) -> None:
    for message in SECRET_MESSAGES:
        store.log_unanswered(
            text=message,
            channel="web",
            lang="ja",
            session_hash="abc",
            reason="no_match",
            candidate_ids=["mynumber-card-lost"],
        )
    rows = store.unanswered()
    assert len(rows) == len(SECRET_MESSAGES)
    with store.engine.connect() as connection:
        dump = " ".join(
            str(v)
            for row in connection.execute(text("SELECT * FROM unanswered_questions"))
            for v in row
        )
    for secret in ("1234-5678-9012", "090-1234-5678", "yamada.taro", "123-4567", "中央1-2-3"):
        assert secret not in dump
    assert rows[0].candidate_ids == ["mynumber-card-lost"]
    assert rows[0].created_at is not None


def test_postgres_is_really_postgres(postgres_url: str) -> None:
    store = Store(postgres_url)
    assert store.engine.dialect.name == "postgresql"


# Every character a database may refuse in text: the C0 and C1 controls (NUL among them),
# DEL, the lone surrogates, the non-characters and the byte-order mark.
HOSTILE = [
    *map(chr, range(0x00, 0x20)),
    *map(chr, range(0x7F, 0xA0)),
    "".join(map(chr, range(0xD800, 0xE000))),
    "\ufffe\uffff\ufeff",
]


def test_every_character_a_database_refuses_is_logged_not_lost(store: Store) -> None:
    for number, hostile in enumerate(HOSTILE):
        store.log_message(
            text=f"住民票{hostile}がほしい {number}",
            channel="web",
            lang="ja",
            session_hash="s",
            outcome="answered",
        )
        store.log_unanswered(
            text=f"職員採用{hostile} {number}",
            channel="web",
            lang="ja",
            session_hash="s",
            reason="no_match",
        )
    logged = [m.text for m in store.messages()]
    assert len(logged) == len(HOSTILE)
    assert all(t.startswith("住民票") and t.endswith(f" {n}") for n, t in enumerate(logged))
    assert "\x00" not in "".join(logged)
    assert len(store.unanswered(limit=1000)) == len(HOSTILE)
