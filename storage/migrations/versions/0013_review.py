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
    # Columns are added in place (ALTER TABLE … ADD COLUMN), never by rebuilding the table:
    # on SQLite a rebuild drops "plan" and "status_report", which areas, tasks and evidence
    # files reference, and the foreign keys refuse that on any database with data in it.
    op.add_column(
        "plan", sa.Column("review_reports", sa.Boolean(), nullable=False, server_default="1")
    )
    # server default "accepted": every report filed before this migration counts as accepted
    op.add_column(
        "status_report",
        sa.Column("review", _S(length=16), nullable=False, server_default="accepted"),
    )
    op.add_column(
        "status_report", sa.Column("review_reason", sa.Text(), nullable=False, server_default="")
    )
    op.add_column("status_report", sa.Column("reviewed_by", sa.Integer(), nullable=True))
    op.add_column("status_report", sa.Column("reviewed_at", _T(), nullable=True))
    op.add_column(
        "status_report", sa.Column("answer", sa.Text(), nullable=False, server_default="")
    )
    op.add_column("status_report", sa.Column("answered_by", sa.Integer(), nullable=True))
    op.add_column("status_report", sa.Column("answered_at", _T(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":  # SQLite cannot add a constraint in place
        op.create_foreign_key(
            "fk_status_report_reviewed_by", "status_report", "contact", ["reviewed_by"], ["id"]
        )
        op.create_foreign_key(
            "fk_status_report_answered_by", "status_report", "contact", ["answered_by"], ["id"]
        )
    op.create_index("ix_status_report_review", "status_report", ["review", "submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_status_report_review", table_name="status_report")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_status_report_answered_by", "status_report", type_="foreignkey")
        op.drop_constraint("fk_status_report_reviewed_by", "status_report", type_="foreignkey")
    # in place (SQLite ≥ 3.35 drops a column itself), for the same reason as above
    with op.batch_alter_table("status_report", recreate="never") as batch:
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
    with op.batch_alter_table("plan", recreate="never") as batch:
        batch.drop_column("review_reports")
