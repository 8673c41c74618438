"""The LINE inbox: webhook events stored before LINE gets its 200, and handed out to
gateways under a lease until each is answered.

A gateway takes an event by setting a lease on it; an event whose lease ran out (the gateway
crashed or was killed) is taken again by any gateway. A gateway that starts again first
gives back the leases it held under the same name, so that a restart does not wait for them.
Handling is at least once: the channel answers a retried event so that the resident still
sees one answer (bot.gateway.line.channel).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.db import Store
from bot.storage.models import LineEvent, utcnow

# Long enough for a turn on a busy stack; a crashed gateway's events wait this long at most
# (a restarted one gives its own back at once).
LEASE = dt.timedelta(seconds=120)
# An event that failed this many times is given up (and logged): it is not the outage.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Taken:
    event_id: str
    payload: str
    attempt: int  # 1 for the first time the event is handled


class LineInbox:
    def __init__(self, store: Store, instance: str) -> None:
        """``instance`` names the gateway, the same across its restarts (host and port)."""
        self.store = store
        # Stored as an opaque digest: the rows need to tell gateways apart, not to hold
        # their host names and ports.
        self.owner = hashlib.sha256(instance.encode()).hexdigest()[:32]

    def add(self, event_id: str, payload: str) -> bool:
        """Keep a new event; False when the event is already known (a redelivery)."""
        try:
            with self.store.session() as session, session.begin():
                session.add(LineEvent(event_id=event_id[:64], payload=payload))
        except IntegrityError:
            return False
        return True

    def take(self, event_id: str) -> Taken | None:
        """The event, leased to this gateway; None when it is done or leased to another."""
        now = utcnow()
        with self.store.session() as session, session.begin():
            taken = session.execute(
                update(LineEvent)
                .where(LineEvent.event_id == event_id, *_due(now))
                .values(
                    lease_until=now + LEASE, owner=self.owner, attempts=LineEvent.attempts + 1
                )
            )
            if taken.rowcount != 1:
                return None
            row = session.get(LineEvent, event_id)
            assert row is not None and row.payload is not None
            return Taken(row.event_id, row.payload, row.attempts)

    def done(self, event_id: str) -> None:
        """The event is answered (or given up): its payload goes, its id stays."""
        with self.store.session() as session, session.begin():
            session.execute(
                update(LineEvent)
                .where(LineEvent.event_id == event_id)
                .values(payload=None, done_at=utcnow(), lease_until=None)
            )

    def waiting(self, limit: int = 50) -> list[str]:
        """Events no gateway holds: never taken, or their lease ran out. Oldest first."""
        with self.store.session() as session:
            query = (
                select(LineEvent.event_id)
                .where(*_due(utcnow()))
                .order_by(LineEvent.received_at)
                .limit(limit)
            )
            return list(session.scalars(query))

    def give_back(self) -> int:
        """Release the leases held under this gateway's name (by its previous run)."""
        with self.store.session() as session, session.begin():
            result = session.execute(
                update(LineEvent)
                .where(LineEvent.owner == self.owner, LineEvent.done_at.is_(None))
                .values(lease_until=None)
            )
            return result.rowcount or 0


def _due(now: dt.datetime) -> tuple:
    return (
        LineEvent.done_at.is_(None),
        LineEvent.payload.is_not(None),
        or_(LineEvent.lease_until.is_(None), LineEvent.lease_until < now),
    )
