"""card_cancel_task: 注销 a departed officer's card within card_cancel_days

Revision ID: 7c1d9e4a2b60
Revises: 5b8e2c7d4f1a
Create Date: 2026-12-07 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1d9e4a2b60'
down_revision = '5b8e2c7d4f1a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'card_cancel_task',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('certificate_id', sa.Integer(), nullable=False),
        sa.Column('departure', sa.String(length=20), nullable=False),
        sa.Column('left_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_card_cancel_task_certificate_id_certificate')),
        sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_card_cancel_task_officer_id_officer')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_cancel_task')),
    )
    with op.batch_alter_table('card_cancel_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_cancel_task_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_cancel_task_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_cancel_task_officer_id'), ['officer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('card_cancel_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_cancel_task_officer_id'))
        batch_op.drop_index(batch_op.f('ix_card_cancel_task_due_on'))
        batch_op.drop_index(batch_op.f('ix_card_cancel_task_certificate_id'))
    op.drop_table('card_cancel_task')
