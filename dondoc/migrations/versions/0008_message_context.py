"""message context: the render context of a message stored once, shared by its copies

Revision ID: 0008
Revises: 0007
"""
import json

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('message_context',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('digest')
    )
    # Rows written before keep their whole context in their own column: still valid.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('context_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_context_id'), ['context_id'], unique=False)
        batch_op.create_foreign_key(
            'fk_outbox_context_id_message_context', 'message_context', ['context_id'], ['id']
        )


def downgrade() -> None:
    # Shared contexts go back into the rows that use them before the table goes.
    bind = op.get_bind()
    outbox = sa.table(
        'outbox',
        sa.column('id', sa.Integer()),
        sa.column('context', sa.JSON()),
        sa.column('context_id', sa.Integer()),
    )
    shared = sa.table('message_context', sa.column('id', sa.Integer()), sa.column('body', sa.Text()))
    bodies = {i: json.loads(b) for i, b in bind.execute(sa.select(shared.c.id, shared.c.body))}
    rows = bind.execute(
        sa.select(outbox.c.id, outbox.c.context, outbox.c.context_id).where(
            outbox.c.context_id.is_not(None)
        )
    ).all()
    if rows:
        bind.execute(
            outbox.update()
            .where(outbox.c.id == sa.bindparam('o_id'))
            .values(context=sa.bindparam('merged')),
            [
                {'o_id': row_id, 'merged': {**bodies.get(context_id, {}), **(own or {})}}
                for row_id, own, context_id in rows
            ],
        )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_context_id_message_context', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_context_id'))
        batch_op.drop_column('context_id')
    op.drop_table('message_context')
