"""A database fixture run once on SQLite and once on the machine's real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'madoguchi.db'}"
    return request.getfixturevalue("postgres_url")


def dump_text_cells(engine: Engine) -> list[tuple[str, str, str]]:
    """(table, column, value) for every non-empty cell of every table, as text."""
    cells = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            result = connection.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        cells.append((table, column, str(value)))
    return cells
