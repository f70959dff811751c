"""rounds that ask for a document: reporting_round.asks and round_submission

Revision ID: 0015
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("reporting_round") as batch:
        batch.add_column(sa.Column("asks", _S(length=16), nullable=False, server_default="status"))
    op.create_table(
        "round_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt", _S(length=32), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("period_deadline", sa.Date(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("number", _S(length=80), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("file_name", _S(length=255), nullable=False),
        sa.Column("mime_type", _S(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", _S(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("status", _S(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("status_by", sa.Integer(), nullable=True),
        sa.Column("status_at", _T(), nullable=True),
        sa.Column("submitted_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["reporting_round.id"]),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["reporter_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["status_by"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt"),
        sa.UniqueConstraint("round_id", "agency_id", "period_deadline", "version"),
    )
    op.create_index(
        "ix_round_submission_round_agency", "round_submission", ["round_id", "agency_id"]
    )
    op.create_index("ix_round_submission_submitted_at", "round_submission", ["submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_round_submission_submitted_at", table_name="round_submission")
    op.drop_index("ix_round_submission_round_agency", table_name="round_submission")
    op.drop_table("round_submission")
    with op.batch_alter_table("reporting_round") as batch:
        batch.drop_column("asks")
