"""invite throttle: wrong invite codes counted across accounts

Revision ID: 0006
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0006'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_invite_throttle',
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('not_before', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('trips', sa.Integer(), nullable=False),
    sa.Column('tripped_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('scope')
    )
    # The one row every wrong code updates (under a row lock): present from the start, so
    # concurrent first failures never race to insert it.
    op.execute(
        "INSERT INTO chat_invite_throttle (scope, failures, window_start, trips) "
        "VALUES ('global', 0, CURRENT_TIMESTAMP, 0)"
    )


def downgrade() -> None:
    op.drop_table('chat_invite_throttle')
