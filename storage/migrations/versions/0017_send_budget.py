"""scale-out: the send budget of each channel, shared by every worker process

Revision ID: 0017
Revises: 0012
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "send_budget",
        sa.Column("channel", _S(length=16), nullable=False),
        sa.Column("holder", _S(length=120), nullable=True),
        sa.Column("held_since", _T(), nullable=True),
        sa.Column("paused_until", _T(), nullable=True),
        sa.Column("rate_limited", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("channel"),
    )


def downgrade() -> None:
    op.drop_table("send_budget")
