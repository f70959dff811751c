"""web companion: link tokens, sessions, API tokens, kept files, sign-in throttle

Revision ID: 0009
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "web_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _S(length=64), nullable=False),
        sa.Column("kind", _S(length=16), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("expires_at", _T(), nullable=False),
        sa.Column("used_at", _T(), nullable=True),
        sa.Column("revoked_at", _T(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_web_link_contact_id", "web_link", ["contact_id"])
    op.create_index("ix_web_link_expires_at", "web_link", ["expires_at"])
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _S(length=64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("csrf", _S(length=64), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("last_seen_at", _T(), nullable=False),
        sa.Column("expires_at", _T(), nullable=False),
        sa.Column("ended_at", _T(), nullable=True),
        sa.Column("user_agent", _S(length=200), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_web_session_contact_id", "web_session", ["contact_id"])
    op.create_table(
        "web_api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _S(length=64), nullable=False),
        sa.Column("prefix", _S(length=12), nullable=False),
        sa.Column("name", _S(length=120), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_by", _S(length=120), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.Column("last_used_at", _T(), nullable=True),
        sa.Column("revoked_at", _T(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "web_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", _S(length=255), nullable=False),
        sa.Column("mime_type", _S(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _T(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_file_created_at", "web_file", ["created_at"])
    op.create_table(
        "web_throttle",
        sa.Column("client", _S(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", _T(), nullable=False),
        sa.Column("locked_until", _T(), nullable=True),
        sa.PrimaryKeyConstraint("client"),
    )


def downgrade() -> None:
    op.drop_table("web_throttle")
    op.drop_index("ix_web_file_created_at", table_name="web_file")
    op.drop_table("web_file")
    op.drop_table("web_api_token")
    op.drop_index("ix_web_session_contact_id", table_name="web_session")
    op.drop_table("web_session")
    op.drop_index("ix_web_link_expires_at", table_name="web_link")
    op.drop_index("ix_web_link_contact_id", table_name="web_link")
    op.drop_table("web_link")
