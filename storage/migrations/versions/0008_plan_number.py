"""The plan's number and symbol ("số 1234/KH-UBND"), quoted by the Word report.

Revision ID: 0008
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan") as batch:
        batch.add_column(sa.Column("number", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("symbol", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("plan") as batch:
        batch.drop_column("symbol")
        batch.drop_column("number")
