"""Deleting old rows after the retention period (MADOGUCHI_RETENTION_DAYS)."""

from __future__ import annotations

import asyncio
import logging

from bot.storage.db import Store
from bot.storage.tracker import purge_tracker

logger = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 24 * 60 * 60


async def purge_daily(
    store: Store,
    retention_days: int,
    tracker_url: str | None = None,
    interval: float = PURGE_INTERVAL_SECONDS,
) -> None:
    """Purge now and then once per ``interval`` until cancelled: the log's tables and, with
    ``tracker_url``, Rasa's tracker store. A failed purge is logged and retried at the next
    turn."""
    while True:
        try:
            deleted = await asyncio.to_thread(store.purge, retention_days)
            if tracker_url:
                deleted["rasa_events"] = await asyncio.to_thread(
                    purge_tracker, tracker_url, retention_days
                )
            if any(deleted.values()):
                logger.info("Purged rows older than %d days: %s", retention_days, deleted)
        except Exception:
            logger.exception("Purging old rows failed")
        await asyncio.sleep(interval)
