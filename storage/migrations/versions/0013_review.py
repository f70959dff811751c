"""review: coordinators accept or return reports; difficulties get answers

Plans get "reports need review" (on by default). Every report gets a review status: reports
already in the database were submitted before review existed and count as accepted.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("plan") as batch:
        batch.add_column(
            sa.Column("review_reports", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("status_report") as batch:
        # server default "accepted": every report filed before this migration counts as accepted
        batch.add_column(
            sa.Column("review", _S(length=16), nullable=False, server_default="accepted")
        )
        batch.add_column(sa.Column("review_reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("reviewed_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reviewed_at", _T(), nullable=True))
        batch.add_column(sa.Column("answer", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("answered_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("answered_at", _T(), nullable=True))
        batch.create_foreign_key("fk_status_report_reviewed_by", "contact", ["reviewed_by"], ["id"])
        batch.create_foreign_key("fk_status_report_answered_by", "contact", ["answered_by"], ["id"])
        batch.create_index("ix_status_report_review", ["review", "submitted_at"])


def downgrade() -> None:
    with op.batch_alter_table("status_report") as batch:
        batch.drop_index("ix_status_report_review")
        batch.drop_constraint("fk_status_report_answered_by", type_="foreignkey")
        batch.drop_constraint("fk_status_report_reviewed_by", type_="foreignkey")
        for column in (
            "answered_at",
            "answered_by",
            "answer",
            "reviewed_at",
            "reviewed_by",
            "review_reason",
            "review",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("plan") as batch:
        batch.drop_column("review_reports")
