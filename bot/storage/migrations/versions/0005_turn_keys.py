"""A logged turn's key: the LINE event it answered, so that a retried event is logged once.

Revision ID: 0005_turn_keys
Revises: 0004_line_inbox
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_turn_keys"
down_revision: str | None = "0004_line_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_log") as table:
        table.add_column(sa.Column("turn_key", sa.String(64), nullable=True))
        table.create_index("ix_conversation_log_turn_key", ["turn_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("conversation_log") as table:
        table.drop_index("ix_conversation_log_turn_key")
        table.drop_column("turn_key")
