"""Alembic migrations: an empty database reaches the newest schema, which matches the models;
a database made before migrations is adopted; several processes may upgrade at once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, inspect

from bot.settings import PROJECT_ROOT
from bot.storage.db import Store, normalize_url
from bot.storage.migrate import current_revision, head_revision
from bot.storage.models import Base
from tests.db_backends import database_url  # noqa: F401 (fixture)

PRE_MIGRATION_TABLES = ("unanswered_questions", "feedback", "line_users")
# line_events as it was before migrations; the models' table has grown since (the inbox).
OLD = MetaData()
OLD_LINE_EVENTS = Table(
    "line_events",
    OLD,
    Column("event_id", String(64), primary_key=True),
    Column("received_at", DateTime(timezone=True), index=True),
)


def test_empty_database_reaches_head_and_matches_the_models(database_url: str) -> None:  # noqa: F811
    engine = create_engine(normalize_url(database_url))
    assert current_revision(engine) is None
    store = Store(database_url)
    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert set(Base.metadata.tables) <= set(inspect(store.engine).get_table_names())
    engine.dispose()


def test_first_revision_is_the_initial_one() -> None:
    from alembic.script import ScriptDirectory

    from bot.storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    base = script.get_revision("0001_initial")
    assert base is not None and base.down_revision is None
    assert script.get_bases() == ["0001_initial"]


def test_a_database_from_before_migrations_is_adopted(database_url: str) -> None:  # noqa: F811
    engine = create_engine(normalize_url(database_url))
    old = [Base.metadata.tables[name] for name in PRE_MIGRATION_TABLES]
    Base.metadata.create_all(engine, tables=old)
    OLD.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            Base.metadata.tables["line_users"]
            .insert()
            .values(user_hash="u1", lang="vi", updated_at=dt.datetime(2026, 1, 1))
        )
    store = Store(database_url)
    assert store.user_language("u1") == "vi"
    assert current_revision(store.engine) == head_revision()
    assert "conversation_log" in inspect(store.engine).get_table_names()
    store.log_message(text="x", channel="web", lang="ja", session_hash="s", outcome="other")
    engine.dispose()


def test_processes_starting_together_upgrade_once(database_url: str) -> None:  # noqa: F811
    env = {**os.environ, "MADOGUCHI_DATABASE_URL": database_url}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "db", "upgrade"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, outputs
    assert all(f"database at revision {head_revision()}" in out for out in outputs)
    current = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "current"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert current.stdout.startswith(head_revision())
