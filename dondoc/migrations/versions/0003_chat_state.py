"""chat state: open questions, spent button nonces, members who may answer, migrated groups

Revision ID: 0003
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import dondoc.models


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chatprompt',
    sa.Column('asked_at', dondoc.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', dondoc.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', dondoc.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_id', 'message_id')
    )
    with op.batch_alter_table('chatprompt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chatprompt_chat_id'), ['chat_id'], unique=False)

    op.create_table('chatbuttonuse',
    sa.Column('used_at', dondoc.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('nonce')
    )
    op.create_table('chatmember',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('added_at', dondoc.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency_id', 'user_id')
    )
    with op.batch_alter_table('chatmember', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chatmember_agency_id'), ['agency_id'], unique=False)


    op.create_table('chatmigration',
    sa.Column('at', dondoc.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('old_chat_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('new_chat_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('old_chat_id')
    )
    with op.batch_alter_table('chatmigration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chatmigration_new_chat_id'), ['new_chat_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chatmigration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chatmigration_new_chat_id'))
    op.drop_table('chatmigration')
    with op.batch_alter_table('chatmember', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chatmember_agency_id'))
    op.drop_table('chatmember')
    op.drop_table('chatbuttonuse')
    with op.batch_alter_table('chatprompt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chatprompt_chat_id'))
    op.drop_table('chatprompt')
