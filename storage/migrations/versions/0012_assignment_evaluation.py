"""dashboard: the stored evaluation of every assignment

Revision ID: 0012
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "assignment_evaluation",
        sa.Column("round_key", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("agency_code", _S(length=64), nullable=False),
        sa.Column("agency_kind", _S(length=32), nullable=False),
        sa.Column("lead", sa.Boolean(), nullable=False),
        sa.Column("verdict", _S(length=16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", _T(), nullable=True),
        sa.Column("done_at", _T(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("refreshed_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"]),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("round_key", "task_id", "agency_id"),
    )
    op.create_index(
        "ix_assignment_evaluation_tally",
        "assignment_evaluation",
        ["round_key", "plan_id", "task_id", "lead", "area_id", "agency_kind", "verdict"],
    )
    op.create_index(
        "ix_assignment_evaluation_agency_id",
        "assignment_evaluation",
        ["round_key", "plan_id", "agency_id"],
    )
    op.create_index(
        "ix_assignment_evaluation_agency",
        "assignment_evaluation",
        ["round_key", "plan_id", "agency_code", "agency_id", "verdict", "area_id"],
    )


    op.create_table(
        "assignment_evaluation_generation",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint("plan_id"),
    )


def downgrade() -> None:
    op.drop_table("assignment_evaluation_generation")
    op.drop_index("ix_assignment_evaluation_agency", table_name="assignment_evaluation")
    op.drop_index("ix_assignment_evaluation_agency_id", table_name="assignment_evaluation")
    op.drop_index("ix_assignment_evaluation_tally", table_name="assignment_evaluation")
    op.drop_table("assignment_evaluation")
