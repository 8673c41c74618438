"""Conversation turns: what each logged message was to the conversation (a first question,
a follow-up, a clarifying question…) and the topic it was read against.

Revision ID: 0003_conversation_turns
Revises: 0002_staff
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_conversation_turns"
down_revision: str | None = "0002_staff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_log") as batch:
        batch.add_column(sa.Column("turn", sa.String(16), nullable=True))
        batch.add_column(sa.Column("topic_faq_id", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation_log") as batch:
        batch.drop_column("topic_faq_id")
        batch.drop_column("turn")
