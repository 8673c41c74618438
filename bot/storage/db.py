"""Database access: SQLite by default, PostgreSQL (or any SQLAlchemy URL) by setting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, delete, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.privacy.redact import redact
from bot.storage.migrate import upgrade
from bot.storage.models import (
    OUTCOMES,
    TURNS,
    ConversationMessage,
    Feedback,
    LineEvent,
    LineUser,
    UnansweredQuestion,
    utcnow,
)

if TYPE_CHECKING:
    from bot.storage.turn_log import TurnRecord

DEFAULT_RETENTION_DAYS = 365


def as_utc(moment: dt.datetime | None) -> dt.datetime:
    """``moment`` in UTC (now when None; naive means UTC already). SQLite keeps no time zone,
    so every stored time and every bound in a query is UTC."""
    if moment is None:
        return utcnow()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


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
    # A server that does not answer must not hold a resident's turn for long: the turn
    # log then spools it (bot.storage.turn_log).
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
    engine = create_engine(url, pool_pre_ping=True, pool_timeout=10, connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        # Several processes (gateway, action server) write the same file.
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):  # type: ignore[no-untyped-def]
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA busy_timeout=5000")

    upgrade(engine)
    return engine


def storable(text: str) -> str:
    """``text`` as every database takes it: PostgreSQL refuses NUL in text, and a lone
    surrogate cannot be encoded at all. Each such character becomes one the text can keep,
    so that the message is logged rather than lost."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")


def prepared(text: str) -> str:
    """``text`` as the log keeps it: storable, redacted, at most 5,000 characters."""
    return redact(storable(text))[:5000]


def _message_row(
    *,
    text: str,
    channel: str,
    lang: str,
    session_hash: str,
    outcome: str,
    created_at: dt.datetime,
    faq_id: str | None = None,
    score: float | None = None,
    turn: str | None = None,
    topic_faq_id: str | None = None,
) -> ConversationMessage:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of {OUTCOMES}")
    return ConversationMessage(
        text=text,
        channel=channel[:32],
        lang=(lang or "")[:8],
        session_hash=session_hash[:64],
        outcome=outcome,
        faq_id=faq_id[:128] if faq_id else None,
        score=None if score is None else float(score),
        turn=turn if turn in TURNS else None,
        topic_faq_id=topic_faq_id[:128] if topic_faq_id else None,
        created_at=created_at,
    )


def _unanswered_row(
    *,
    text: str,
    channel: str,
    lang: str,
    session_hash: str,
    reason: str,
    candidate_ids: Sequence[str],
    created_at: dt.datetime,
) -> UnansweredQuestion:
    return UnansweredQuestion(
        created_at=created_at,
        text=text,
        channel=channel[:32],
        lang=lang[:8],
        session_hash=session_hash[:64],
        reason=reason[:32],
        candidate_ids=list(candidate_ids)[:10],
    )


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
        created_at: dt.datetime | None = None,
    ) -> UnansweredQuestion:
        """Store a question the assistant could not answer, after redacting it."""
        row = _unanswered_row(
            text=prepared(text),
            channel=channel,
            lang=lang,
            session_hash=session_hash,
            reason=reason,
            candidate_ids=candidate_ids,
            created_at=as_utc(created_at),
        )
        with self.session() as session, session.begin():
            session.add(row)
        return row

    def unanswered(self, limit: int = 100) -> list[UnansweredQuestion]:
        with self.session() as session:
            query = select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc()).limit(limit)
            return list(session.scalars(query))

    def record_feedback(
        self,
        *,
        channel: str,
        lang: str,
        session_hash: str,
        faq_id: str,
        helpful: bool,
        created_at: dt.datetime | None = None,
    ) -> None:
        """Store a 役に立ちましたか？ answer, and mark the session's latest logged answer with
        that FAQ id with it."""
        session_hash, faq_id = session_hash[:64], faq_id[:128]
        with self.session() as session, session.begin():
            session.add(
                Feedback(
                    channel=channel[:32],
                    lang=lang[:8],
                    session_hash=session_hash,
                    faq_id=faq_id,
                    helpful=helpful,
                    created_at=as_utc(created_at),
                )
            )
            latest = (
                select(func.max(ConversationMessage.id))
                .where(ConversationMessage.session_hash == session_hash)
                .where(ConversationMessage.faq_id == faq_id)
                .scalar_subquery()
            )
            session.execute(
                update(ConversationMessage)
                .where(ConversationMessage.id == latest)
                .values(helpful=helpful)
            )

    def log_message(
        self,
        *,
        text: str,
        channel: str,
        lang: str,
        session_hash: str,
        outcome: str,
        faq_id: str | None = None,
        score: float | None = None,
        turn: str | None = None,
        topic_faq_id: str | None = None,
        created_at: dt.datetime | None = None,
    ) -> ConversationMessage:
        """Log one resident message and its outcome (see ``OUTCOMES``), after redacting it."""
        row = _message_row(
            text=prepared(text),
            channel=channel,
            lang=lang,
            session_hash=session_hash,
            outcome=outcome,
            faq_id=faq_id,
            score=score,
            turn=turn,
            topic_faq_id=topic_faq_id,
            created_at=as_utc(created_at),
        )
        with self.session() as session, session.begin():
            session.add(row)
        return row

    def log_turn(self, record: TurnRecord) -> None:
        """Log one turn in one transaction: its message, and for a question that went
        unanswered its place in the review queue (so a spooled turn never half-exists). A
        turn with a key already logged is not logged again. The record's text is already
        prepared (TurnRecord.of), so it is not redacted again here."""
        fields = record.model_dump(exclude={"reason", "candidate_ids", "key"})
        message = _message_row(**fields)
        message.turn_key = record.key
        rows: list[ConversationMessage | UnansweredQuestion] = [message]
        if record.outcome == "unanswered":
            rows.append(
                _unanswered_row(
                    text=record.text,
                    channel=record.channel,
                    lang=record.lang,
                    session_hash=record.session_hash,
                    reason=record.reason or "no_match",
                    candidate_ids=record.candidate_ids,
                    created_at=record.created_at,
                )
            )
        with self.session() as session, session.begin():
            if record.key is not None:
                logged = select(ConversationMessage.id).where(
                    ConversationMessage.turn_key == record.key
                )
                if session.scalar(logged) is not None:
                    return  # a retry of a turn already logged
            session.add_all(rows)

    def messages(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> list[ConversationMessage]:
        """Logged messages with ``start <= created_at < end``, oldest first."""
        query = select(ConversationMessage).order_by(ConversationMessage.id)
        if start is not None:
            query = query.where(ConversationMessage.created_at >= as_utc(start))
        if end is not None:
            query = query.where(ConversationMessage.created_at < as_utc(end))
        with self.session() as session:
            return list(session.scalars(query))

    def purge(
        self, retention_days: int = DEFAULT_RETENTION_DAYS, *, now: dt.datetime | None = None
    ) -> dict[str, int]:
        """Delete what is older than ``retention_days``: logged messages, unanswered
        questions, feedback and handled LINE event ids. Returns the rows deleted per table."""
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        cutoff = as_utc(now) - dt.timedelta(days=retention_days)
        deleted: dict[str, int] = {}
        with self.session() as session, session.begin():
            for model, column in (
                (ConversationMessage, ConversationMessage.created_at),
                (UnansweredQuestion, UnansweredQuestion.created_at),
                (Feedback, Feedback.created_at),
                (LineEvent, LineEvent.received_at),
            ):
                result = session.execute(delete(model).where(column < cutoff))
                deleted[model.__tablename__] = result.rowcount or 0
        return deleted

    def feedback(self, faq_id: str | None = None) -> list[Feedback]:
        with self.session() as session:
            query = select(Feedback).order_by(Feedback.id)
            if faq_id is not None:
                query = query.where(Feedback.faq_id == faq_id)
            return list(session.scalars(query))

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
