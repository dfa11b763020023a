"""assignment overview index: the web overview counts and ranks from one covering index

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-01 18:20:00
"""

from alembic import op


revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = [
    "task_id",
    "status",
    "due_override",
    "done_through",
    "done_at",
    "created_at",
    "agency_id",
    "active",
]


def upgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index("ix_assignment_overview", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_overview")
