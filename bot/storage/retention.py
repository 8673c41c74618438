"""Deleting old rows after the retention period (MADOGUCHI_RETENTION_DAYS)."""

from __future__ import annotations

import asyncio
import logging

from bot.storage.db import Store

logger = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 24 * 60 * 60


async def purge_daily(
    store: Store, retention_days: int, interval: float = PURGE_INTERVAL_SECONDS
) -> None:
    """Purge now and then once per ``interval`` until cancelled; a failed purge is logged
    and retried at the next turn."""
    while True:
        try:
            deleted = await asyncio.to_thread(store.purge, retention_days)
            if any(deleted.values()):
                logger.info("Purged rows older than %d days: %s", retention_days, deleted)
        except Exception:
            logger.exception("Purging old rows failed")
        await asyncio.sleep(interval)
