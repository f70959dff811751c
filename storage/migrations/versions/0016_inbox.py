"""scale-out: the durable inbox of webhook updates

Revision ID: 0016
Revises: 0012
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "inbox_update",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("channel", _S(length=16), nullable=False),
        sa.Column("update_key", _S(length=128), nullable=False),
        sa.Column("chat_key", _S(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", _T(), nullable=False),
        sa.Column("processed_at", _T(), nullable=True),
        sa.Column("error", _S(length=200), nullable=True),
        sa.UniqueConstraint("channel", "update_key"),
    )
    op.create_index(
        "ix_inbox_update_pending",
        "inbox_update",
        ["processed_at", "channel", "chat_key", "seq"],
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_update_pending", table_name="inbox_update")
    op.drop_table("inbox_update")
