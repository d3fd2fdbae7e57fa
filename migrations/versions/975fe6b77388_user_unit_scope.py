"""user_account.unit_id: the unit whose subtree a user works in (NULL: the whole organisation);
audit_event.scope_unit_id: the acting user's unit when the row was written

Revision ID: 975fe6b77388
Revises: d1fa4d9e5c91
Create Date: 2026-12-07 14:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '975fe6b77388'
down_revision = 'd1fa4d9e5c91'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_account_unit_id'), ['unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_user_account_unit_id_unit'), 'unit', ['unit_id'], ['id'])
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_scope_unit_id'), ['scope_unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_scope_unit_id'))
        batch_op.drop_column('scope_unit_id')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_account_unit_id_unit'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_user_account_unit_id'))
        batch_op.drop_column('unit_id')
