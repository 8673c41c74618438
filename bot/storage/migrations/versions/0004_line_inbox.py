"""The LINE inbox: a verified webhook event is kept until it has been answered.

Revision ID: 0004_line_inbox
Revises: 0003_conversation_turns
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_line_inbox"
down_revision: str | None = "0003_conversation_turns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("line_events") as table:
        table.add_column(sa.Column("payload", sa.Text(), nullable=True))
        table.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("owner", sa.String(64), nullable=True))
        table.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        table.create_index("ix_line_events_done_at", ["done_at"])
    # Events taken before the inbox existed were handled then.
    op.execute("UPDATE line_events SET done_at = received_at")


def downgrade() -> None:
    with op.batch_alter_table("line_events") as table:
        table.drop_index("ix_line_events_done_at")
        for column in ("done_at", "owner", "lease_until", "attempts", "payload"):
            table.drop_column(column)
