"""one row per running daemon, and Zalo pushes stored for the chat leader

`dondoc status` lists every daemon on the store, not only the one that published last
(the single `daemon` key of daemonstate, dropped here). Zalo webhook pushes are stored by
whichever daemon receives them, once per event, and answered by the chat leader.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 21:50:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import dondoc.models


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('daemon_instance',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', dondoc.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', dondoc.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stale_after', sa.Float(), nullable=False),
    sa.Column('stopped_at', dondoc.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('zalo_push',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('received_at', dondoc.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_by', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True),
    sa.Column('claimed_at', dondoc.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('done_at', dondoc.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_key')
    )
    op.create_index('ix_zalo_push_status_id', 'zalo_push', ['status', 'id'], unique=False)
    op.create_index('ix_zalo_push_chat_id_id', 'zalo_push', ['chat_id', 'id'], unique=False)
    # The one row every daemon overwrote; each daemon now has a row of its own.
    op.execute("DELETE FROM daemonstate WHERE key = 'daemon'")


def downgrade() -> None:
    op.drop_index('ix_zalo_push_chat_id_id', table_name='zalo_push')
    op.drop_index('ix_zalo_push_status_id', table_name='zalo_push')
    op.drop_table('zalo_push')
    op.drop_table('daemon_instance')
