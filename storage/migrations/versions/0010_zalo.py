"""zalo: OA tokens, pending OAuth consents, monthly quota, messaging window per contact

Revision ID: 0010
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0004"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "zalo_oa_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("oa_id", _S(length=64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("access_expires_at", _T(), nullable=False),
        sa.Column("state", _S(length=16), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _T(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "zalo_oauth_pending",
        sa.Column("state", _S(length=64), nullable=False),
        sa.Column("code_verifier", _S(length=128), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.PrimaryKeyConstraint("state"),
    )
    op.create_table(
        "zalo_quota",
        sa.Column("channel", _S(length=16), nullable=False),
        sa.Column("month", _S(length=7), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "month"),
    )
    op.create_table(
        "zalo_contact_window",
        sa.Column("channel", _S(length=16), nullable=False),
        sa.Column("user_id", _S(length=64), nullable=False),
        sa.Column("last_inbound_at", _T(), nullable=True),
        sa.Column("phone", _S(length=20), nullable=True),
        sa.PrimaryKeyConstraint("channel", "user_id"),
    )


def downgrade() -> None:
    for table in ("zalo_contact_window", "zalo_quota", "zalo_oauth_pending", "zalo_oa_token"):
        op.drop_table(table)
