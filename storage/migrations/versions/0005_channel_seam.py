"""Channels as equals: string de-duplication keys, numbered choices per chat, prompts sent.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Zalo's message ids are strings: the de-duplication key becomes text (ids kept).
    with op.batch_alter_table("chat_update") as batch:
        batch.alter_column(
            "update_id",
            existing_type=sa.BigInteger(),
            type_=sa.String(128),
            existing_nullable=False,
            postgresql_using="update_id::text",
        )
    op.create_table(
        "chat_choice",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("buttons", sa.Text(), nullable=False),
        sa.Column("offered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id"),
    )
    with op.batch_alter_table("chat_flow") as batch:
        batch.add_column(sa.Column("prompt_sent_seq", sa.Integer(), nullable=True))
    # Flows open before this revision: their prompts were answered live, count them as sent.
    op.execute("UPDATE chat_flow SET prompt_sent_seq = seq")


def downgrade() -> None:
    with op.batch_alter_table("chat_flow") as batch:
        batch.drop_column("prompt_sent_seq")
    op.drop_table("chat_choice")
    with op.batch_alter_table("chat_update") as batch:
        batch.alter_column(
            "update_id",
            existing_type=sa.String(128),
            type_=sa.BigInteger(),
            existing_nullable=False,
            postgresql_using="update_id::bigint",
        )
