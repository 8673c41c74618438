"""Rasa's tracker store as the retention rule sees it: conversation events (redacted text,
slots) older than the retention period are deleted, like the conversation log's rows.

Rasa owns the table (``events``, one row per event, ``timestamp`` in seconds since the
epoch); this module only deletes from it, through its own connection, so that the gateway
can purge it without Rasa's libraries.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, inspect, text

from bot.storage.db import as_utc, normalize_url


def purge_tracker(url: str, retention_days: int, *, now: dt.datetime | None = None) -> int:
    """Delete tracker events older than ``retention_days``; returns how many. A tracker store
    Rasa has not created yet has nothing to purge."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff = as_utc(now) - dt.timedelta(days=retention_days)
    engine = create_engine(normalize_url(url))
    try:
        if not inspect(engine).has_table("events"):
            return 0
        with engine.begin() as connection:
            result = connection.execute(
                text("DELETE FROM events WHERE timestamp < :cutoff"),
                {"cutoff": cutoff.timestamp()},
            )
            return result.rowcount or 0
    finally:
        engine.dispose()
