"""Database tables. Every text column holds redacted text only (see bot.privacy). The one
identifier kept as it is: a LINE event's user id and reply token, in the LINE inbox until
the event is answered (`LineEvent.payload`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class ResidentRecord:
    """The columns of every row about something a resident said: when, where, in which
    language, and from which (hashed) session."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(8))
    session_hash: Mapped[str] = mapped_column(String(64), index=True)


class UnansweredQuestion(ResidentRecord, Base):
    """A question the assistant could not answer, kept for staff to review."""

    __tablename__ = "unanswered_questions"

    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(32))
    candidate_ids: Mapped[list[str]] = mapped_column(JSON, default=list)


class Feedback(ResidentRecord, Base):
    """A resident's 役に立ちましたか？ answer for one FAQ answer."""

    __tablename__ = "feedback"

    faq_id: Mapped[str] = mapped_column(String(128), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)


class LineUser(Base):
    """What the assistant remembers of a LINE user: only the chosen language."""

    __tablename__ = "line_users"

    user_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LineEvent(Base):
    """The LINE inbox: each verified webhook event, kept from before the webhook answers
    LINE until the resident has been answered (see bot.storage.line_inbox).

    ``payload`` is the event with its text already redacted; it also holds the LINE user id
    and reply token needed to answer, and is emptied once the event is done. The row itself
    stays (until the retention period ends) so that a redelivered event is handled once.
    """

    __tablename__ = "line_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    payload: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    owner: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class ConversationMessage(ResidentRecord, Base):
    """One resident message and what the assistant did with it, for the monthly report.

    ``outcome`` is one of :data:`OUTCOMES`; ``faq_id`` and ``score`` are set for answers,
    ``helpful`` once the resident has said whether the answer helped. ``turn`` is one of
    :data:`TURNS`, and ``topic_faq_id`` the entry the conversation was about before this
    message. A session's rows in id order are its conversation.
    """

    __tablename__ = "conversation_log"

    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32), index=True)
    faq_id: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    helpful: Mapped[bool | None] = mapped_column(Boolean, default=None)
    turn: Mapped[str | None] = mapped_column(String(16), default=None)
    topic_faq_id: Mapped[str | None] = mapped_column(String(128), default=None)
    # The LINE event the turn answered: a retried event is logged once.
    turn_key: Mapped[str | None] = mapped_column(String(64), index=True, unique=True, default=None)


# What became of a resident message: answered from the FAQ, "did you mean" suggestions,
# a clarifying question, declined, small talk, the contact desk given, or not processed
# because Rasa was down.
OUTCOMES = (
    "answered",
    "suggestions",
    "clarify",
    "unanswered",
    "small_talk",
    "contact",
    "error",
    "other",
)
# What a message was to its conversation: the first question, a follow-up on the topic, a
# new question mid-conversation, a message that got a clarifying question, the reply that
# resolved one, or something else (small talk, a request for a person).
TURNS = ("first", "follow_up", "switch", "clarify", "clarified", "other")


# -- Staff pages (/admin): accounts, sessions, audit trail, review decisions -------------------


class StaffAccount(Base):
    """A city employee who may sign in to /admin. ``role`` is "editor" or "viewer"."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StaffSession(Base):
    """A signed-in browser. Only a hash of the cookie's token is stored."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuditRecord(Base):
    """Who changed what: one row per change, with the state before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(160), index=True)
    before: Mapped[dict | None] = mapped_column(JSON, default=None)
    after: Mapped[dict | None] = mapped_column(JSON, default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class ReviewDecision(Base):
    """What staff did with a question in the review queue; decided questions leave it.

    ``source`` is "unanswered" (unanswered_questions) or "not_helpful" (conversation_log).
    """

    __tablename__ = "review_decisions"
    __table_args__ = (UniqueConstraint("source", "item_id", name="uq_review_decisions_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str | None] = mapped_column(String(128), default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
