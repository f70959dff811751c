"""dashboard: stored evaluations counted per view and task (Tổng quan reads these); one pair's
rows found by (task, agency), as a report's transaction needs

Revision ID: 0018
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "assignment_evaluation_tally",
        sa.Column("round_key", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("lead", sa.Boolean(), nullable=False),
        sa.Column("agency_kind", _S(length=32), nullable=False),
        sa.Column("verdict", _S(length=16), nullable=False),
        sa.Column("reported", sa.Boolean(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"]),
        sa.PrimaryKeyConstraint(
            "round_key", "task_id", "lead", "agency_kind", "verdict", "reported"
        ),
    )
    op.create_index(
        "ix_assignment_evaluation_tally_plan_id", "assignment_evaluation_tally", ["plan_id"]
    )
    op.create_index(
        "ix_assignment_evaluation_pair", "assignment_evaluation", ["task_id", "agency_id"]
    )
    # evaluations stored before this revision, counted once
    op.execute(
        "INSERT INTO assignment_evaluation_tally (round_key, task_id, lead, agency_kind, "
        "verdict, reported, plan_id, area_id, pairs) "
        "SELECT round_key, task_id, lead, agency_kind, verdict, report_id IS NOT NULL, "
        "MIN(plan_id), MIN(area_id), COUNT(*) FROM assignment_evaluation "
        "GROUP BY round_key, task_id, lead, agency_kind, verdict, report_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_assignment_evaluation_pair", table_name="assignment_evaluation")
    op.drop_index(
        "ix_assignment_evaluation_tally_plan_id", table_name="assignment_evaluation_tally"
    )
    op.drop_table("assignment_evaluation_tally")
