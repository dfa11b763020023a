"""delivery workers: per-address outcomes and a per-channel claim index

Revision ID: 0004
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0002'  # after main's 0003 → 0002 chain
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('delivered_to', sa.JSON(), nullable=False, server_default='[]')
        )
        batch_op.create_index(
            'ix_outbox_channel_status_next', ['channel', 'status', 'next_attempt_at'], unique=False
        )
    # The default only fills existing rows; the models always write the column.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('delivered_to', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_channel_status_next')
        batch_op.drop_column('delivered_to')
