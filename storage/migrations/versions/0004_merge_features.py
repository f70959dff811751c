"""One head: the chat (0002) and scheduling (0003) branches joined.

Revision ID: 0004
Revises: 0002, 0003
"""

from __future__ import annotations

revision = "0004"
down_revision = ("0002", "0003")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the merge only gives later migrations one parent."""


def downgrade() -> None:
    """Nothing to undo."""
