from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.settings import PROJECT_ROOT
from tests.fake_line import FakeLine

POSTGRES_ADMIN_URL = os.environ.get(
    "MADOGUCHI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def faq_copy(tmp_path: Path) -> Path:
    """A writable copy of the project's faq/ directory."""
    target = tmp_path / "faq"
    shutil.copytree(PROJECT_ROOT / "faq", target)
    return target


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new database on the machine's real PostgreSQL server, dropped afterwards."""
    name = f"madoguchi_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        from bot.storage.db import get_engine

        get_engine.cache_clear()  # forget engines bound to the database being dropped
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def database_refusing_connections(url: str) -> Iterator[None]:
    """The real PostgreSQL server refuses every connection to the database at ``url``, and
    drops the ones it has, until the block ends: a database outage as its clients see it."""
    name = url.rsplit("/", 1)[1]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the machine's real PostgreSQL server, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def line() -> Iterator[FakeLine]:
    """The HTTP fake of the LINE Messaging API, for the tests of one module."""
    fake = FakeLine().start()
    yield fake
    fake.stop()
