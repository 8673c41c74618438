"""The conversation log's writer: a turn goes to the database, or, while the database
cannot be reached, to a spool on disk from which it is written once the database is back.

Residents keep being answered during a database outage, and the log (so the monthly report)
loses none of their turns. The spool holds only what the log would: redacted text and a
pseudonymous session. It is one JSON file per turn, written atomically; one process at a
time (a file lock) moves them into the database, oldest first, each file deleted only
after its rows are committed. A spool belongs to one database: its directory is named after
the database's address, so a gateway started on another database never pours into it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import uuid
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.storage.db import Store, as_utc, prepared

logger = logging.getLogger(__name__)


class TurnRecord(BaseModel):
    """One resident message and what became of it, as the log keeps it (text redacted)."""

    model_config = ConfigDict(frozen=True)

    text: str
    channel: str
    lang: str
    session_hash: str
    outcome: str
    created_at: dt.datetime
    faq_id: str | None = None
    score: float | None = None
    turn: str | None = None
    topic_faq_id: str | None = None
    # For a question that went unanswered: why, and the engine's candidates.
    reason: str | None = None
    candidate_ids: tuple[str, ...] = Field(default=())
    # Set when the same turn may be written twice (a retried LINE event): logged once.
    key: str | None = None

    @classmethod
    def of(cls, text: str, **fields: object) -> TurnRecord:
        """A record of ``text``, redacted here so that no copy of it, on disk or in the
        database, ever holds the resident's personal data."""
        created_at = as_utc(fields.pop("created_at", None))  # type: ignore[arg-type]
        return cls(text=prepared(text), created_at=created_at, **fields)


# The database cannot be reached now (rather than refusing what it was given): a lost or
# refused connection, or no connection free in time.
UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout)


def spool_dir_for(root: Path, database_url: str) -> Path:
    """The spool of the database at ``database_url`` (its password left out of the name)."""
    address = make_url(database_url).render_as_string(hide_password=True)
    return root / hashlib.sha256(address.encode()).hexdigest()[:16]


class TurnLog:
    """Writes turns to ``store``, spooling them in ``spool`` while it is unreachable."""

    def __init__(self, store: Store, spool: Path) -> None:
        self.store = store
        self.spool = spool
        self.failed = spool / "failed"
        self._lock = FileLock(spool.with_name(spool.name + ".lock"))

    def write(self, record: TurnRecord) -> None:
        """Log one turn. Never raises for the database: what it cannot take now is spooled.
        While turns wait in the spool, new ones join them, so the log keeps their order
        and a resident's turn never waits for a database that is down."""
        if not self.pending():
            try:
                self.store.log_turn(record)
                return
            except SQLAlchemyError as exc:
                logger.warning("The database could not log a turn; spooled on disk: %s", exc)
        self._keep(record)

    def pending(self) -> int:
        """How many turns wait in the spool."""
        if not self.spool.is_dir():
            return 0
        return sum(1 for path in self.spool.glob("*.json"))

    def flush(self) -> int:
        """Move spooled turns into the database, oldest first; returns how many. Stops at
        the first sign the database is still unreachable. A turn the database refuses for
        another reason is set aside in ``failed/`` (and logged) rather than retried for
        ever."""
        try:
            self._lock.acquire(timeout=0)  # another process is flushing: leave it to it
        except Timeout:
            return 0
        written = 0
        try:
            for path in sorted(self.spool.glob("*.json")):
                try:
                    self.store.log_turn(TurnRecord.model_validate_json(path.read_bytes()))
                except SQLAlchemyError as exc:
                    if isinstance(exc, UNREACHABLE):
                        break
                    self._set_aside(path, exc)
                    continue
                except (ValidationError, OSError) as exc:
                    self._set_aside(path, exc)
                    continue
                path.unlink(missing_ok=True)
                written += 1
        finally:
            self._lock.release()
        if written:
            logger.info("%d spooled turns written to the database", written)
        return written

    def _keep(self, record: TurnRecord) -> None:
        self.spool.mkdir(parents=True, exist_ok=True)
        # Named by time, so that a sorted listing is the turns' order.
        name = f"{record.created_at.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:12]}"
        temporary = self.spool / f".{name}.tmp"
        with temporary.open("wb") as file:
            file.write(record.model_dump_json().encode())
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(self.spool / f"{name}.json")

    def _set_aside(self, path: Path, error: BaseException) -> None:
        logger.error(
            "A spooled turn was refused by the database; kept in %s: %s", self.failed, error
        )
        self.failed.mkdir(parents=True, exist_ok=True)
        path.replace(self.failed / path.name)
