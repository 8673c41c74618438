"""The initial tables: unanswered questions, feedback, LINE users and events, conversation log.

Databases made before migrations existed already hold some of these tables; each table is
created only when it is missing, so such a database is adopted as it is.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tables() -> list[tuple[str, list[sa.Column], list[tuple[str, list[str]]]]]:
    """(name, columns, indexes) of every table; columns are built fresh for each call."""
    return [
        (
            "unanswered_questions",
            [
                sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("channel", sa.String(32), nullable=False),
                sa.Column("lang", sa.String(8), nullable=False),
                sa.Column("text", sa.Text(), nullable=False),
                sa.Column("session_hash", sa.String(64), nullable=False),
                sa.Column("reason", sa.String(32), nullable=False),
                sa.Column("candidate_ids", sa.JSON(), nullable=False),
            ],
            [("created_at", ["created_at"]), ("session_hash", ["session_hash"])],
        ),
        (
            "feedback",
            [
                sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("channel", sa.String(32), nullable=False),
                sa.Column("lang", sa.String(8), nullable=False),
                sa.Column("session_hash", sa.String(64), nullable=False),
                sa.Column("faq_id", sa.String(128), nullable=False),
                sa.Column("helpful", sa.Boolean(), nullable=False),
            ],
            [
                ("created_at", ["created_at"]),
                ("session_hash", ["session_hash"]),
                ("faq_id", ["faq_id"]),
            ],
        ),
        (
            "line_users",
            [
                sa.Column("user_hash", sa.String(64), primary_key=True),
                sa.Column("lang", sa.String(8), nullable=False),
                sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            ],
            [],
        ),
        (
            "line_events",
            [
                sa.Column("event_id", sa.String(64), primary_key=True),
                sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            ],
            [("received_at", ["received_at"])],
        ),
        (
            "conversation_log",
            [
                sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
                sa.Column("channel", sa.String(32), nullable=False),
                sa.Column("lang", sa.String(8), nullable=False),
                sa.Column("text", sa.Text(), nullable=False),
                sa.Column("session_hash", sa.String(64), nullable=False),
                sa.Column("outcome", sa.String(32), nullable=False),
                sa.Column("faq_id", sa.String(128), nullable=True),
                sa.Column("score", sa.Float(), nullable=True),
                sa.Column("helpful", sa.Boolean(), nullable=True),
            ],
            [
                ("created_at", ["created_at"]),
                ("session_hash", ["session_hash"]),
                ("outcome", ["outcome"]),
                ("faq_id", ["faq_id"]),
            ],
        ),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns, indexes in _tables():
        if name in existing:
            continue
        op.create_table(name, *columns)
        for column, fields in indexes:
            op.create_index(f"ix_{name}_{column}", name, fields)


def downgrade() -> None:
    for name, _columns, _indexes in reversed(_tables()):
        op.drop_table(name)
