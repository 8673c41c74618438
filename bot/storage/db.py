"""Database access: SQLite by default, PostgreSQL (or any SQLAlchemy URL) by setting."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.privacy.redact import redact
from bot.storage.models import Base, Feedback, LineEvent, LineUser, UnansweredQuestion, utcnow


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        # Several processes (gateway, action server) write the same file.
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):  # type: ignore[no-untyped-def]
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA busy_timeout=5000")

    Base.metadata.create_all(engine)
    return engine


class Store:
    """The operations the assistant needs from its database."""

    def __init__(self, url: str) -> None:
        self.engine = get_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    def log_unanswered(
        self,
        *,
        text: str,
        channel: str,
        lang: str,
        session_hash: str,
        reason: str,
        candidate_ids: Sequence[str] = (),
    ) -> UnansweredQuestion:
        """Store a question the assistant could not answer, after redacting it."""
        row = UnansweredQuestion(
            text=redact(text)[:5000],
            channel=channel[:32],
            lang=lang[:8],
            session_hash=session_hash[:64],
            reason=reason[:32],
            candidate_ids=list(candidate_ids)[:10],
        )
        with self.session() as session, session.begin():
            session.add(row)
        return row

    def unanswered(self, limit: int = 100) -> list[UnansweredQuestion]:
        with self.session() as session:
            query = select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc()).limit(limit)
            return list(session.scalars(query))

    def record_feedback(
        self, *, channel: str, lang: str, session_hash: str, faq_id: str, helpful: bool
    ) -> None:
        with self.session() as session, session.begin():
            session.add(
                Feedback(
                    channel=channel[:32],
                    lang=lang[:8],
                    session_hash=session_hash[:64],
                    faq_id=faq_id[:128],
                    helpful=helpful,
                )
            )

    def feedback(self, faq_id: str | None = None) -> list[Feedback]:
        with self.session() as session:
            query = select(Feedback).order_by(Feedback.id)
            if faq_id is not None:
                query = query.where(Feedback.faq_id == faq_id)
            return list(session.scalars(query))

    def claim_event(self, event_id: str) -> bool:
        """True the first time an event id is seen, False for a redelivery."""
        try:
            with self.session() as session, session.begin():
                session.add(LineEvent(event_id=event_id[:64]))
        except IntegrityError:
            return False
        return True

    def user_language(self, user_hash: str) -> str | None:
        with self.session() as session:
            user = session.get(LineUser, user_hash)
            return user.lang if user else None

    def set_user_language(self, user_hash: str, lang: str) -> None:
        with self.session() as session, session.begin():
            user = session.get(LineUser, user_hash)
            if user is None:
                session.add(LineUser(user_hash=user_hash, lang=lang))
            else:
                user.lang, user.updated_at = lang, utcnow()

    def forget_user(self, user_hash: str) -> None:
        with self.session() as session, session.begin():
            session.execute(delete(LineUser).where(LineUser.user_hash == user_hash))
