"""extension requests (gia hạn), focal points' seats (deputies, absences), deputy invites

Revision ID: 0014
Revises: 0012

Agencies that already have several focal points: the one linked first (lowest contact id)
stays the main focal point and keeps receiving reminders and nudges; the others become
deputies, who receive them while the main one is away (or unreachable).
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "extension_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_at", _T(), nullable=False),
        sa.Column("original_date", sa.Date(), nullable=True),
        sa.Column("new_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", _S(length=16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", _T(), nullable=True),
        sa.Column("refusal", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"]),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["contact.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_extension_request_pair", "extension_request", ["task_id", "agency_id", "status"]
    )
    op.create_index(
        "ix_extension_request_status", "extension_request", ["status", "requested_at"]
    )
    op.create_table(
        "focal_seat",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("deputy", sa.Boolean(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("away_from", sa.Date(), nullable=True),
        sa.Column("away_until", sa.Date(), nullable=True),
        sa.Column("updated_at", _T(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["invited_by"], ["contact.id"]),
        sa.PrimaryKeyConstraint("contact_id"),
    )
    with op.batch_alter_table("chat_invite") as batch:
        batch.add_column(
            sa.Column("deputy", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("assignment_evaluation") as batch:
        batch.add_column(sa.Column("extended_from", sa.Date(), nullable=True))
    # the main focal point of agencies that have several: the one linked first
    op.execute(
        sa.text(
            "INSERT INTO focal_seat (contact_id, deputy, updated_at) "
            "SELECT c.id, :yes, CURRENT_TIMESTAMP FROM contact c "
            "WHERE c.role = 'focal' AND c.agency_id IS NOT NULL AND c.id > ("
            "  SELECT MIN(f.id) FROM contact f WHERE f.role = 'focal' AND f.agency_id = c.agency_id"
            ")"
        ).bindparams(sa.bindparam("yes", True, type_=sa.Boolean()))
    )


def downgrade() -> None:
    with op.batch_alter_table("assignment_evaluation") as batch:
        batch.drop_column("extended_from")
    with op.batch_alter_table("chat_invite") as batch:
        batch.drop_column("deputy")
    op.drop_table("focal_seat")
    op.drop_index("ix_extension_request_status", table_name="extension_request")
    op.drop_index("ix_extension_request_pair", table_name="extension_request")
    op.drop_table("extension_request")
