"""officer self-service: user_account.officer_id, officer_invite, training_claim,
officer_change_request

Revision ID: 3becc06de70a
Revises: 5c1e7a93b2d4
Create Date: 2026-12-07 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3becc06de70a'
down_revision = '5c1e7a93b2d4'
branch_labels = None
depends_on = None


def _stamps():
    return [sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=False)]


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('officer_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_officer_id'), ['officer_id'])
        batch_op.create_foreign_key(batch_op.f('fk_user_account_officer_id_officer'), 'officer',
                                    ['officer_id'], ['id'], ondelete='SET NULL')
    op.create_table(
        'officer_invite',
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ondelete='CASCADE',
                                name=op.f('fk_officer_invite_officer_id_officer')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_invite')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_officer_invite_code_hash')),
    )
    op.create_index(op.f('ix_officer_invite_officer_id'), 'officer_invite', ['officer_id'])
    op.create_table(
        'training_claim',
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('organiser', sa.String(length=100), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('hours', sa.Float(), nullable=False),
        sa.Column('category', sa.String(length=30), nullable=False),
        sa.Column('online', sa.Boolean(), nullable=False),
        sa.Column('proof_name', sa.String(length=200), nullable=False),
        sa.Column('proof_mime', sa.String(length=30), nullable=False),
        sa.Column('proof', sa.LargeBinary(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('decided_by', sa.String(length=100), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ondelete='CASCADE',
                                name=op.f('fk_training_claim_officer_id_officer')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_training_claim')),
    )
    op.create_index(op.f('ix_training_claim_officer_id'), 'training_claim', ['officer_id'])
    op.create_index(op.f('ix_training_claim_status'), 'training_claim', ['status'])
    op.create_table(
        'officer_change_request',
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=10), nullable=False),
        sa.Column('value', sa.String(length=30), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=True),
        sa.Column('mime', sa.String(length=30), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('decided_by', sa.String(length=100), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], ondelete='CASCADE',
                                name=op.f('fk_officer_change_request_officer_id_officer')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_change_request')),
    )
    op.create_index(op.f('ix_officer_change_request_officer_id'), 'officer_change_request', ['officer_id'])
    op.create_index(op.f('ix_officer_change_request_status'), 'officer_change_request', ['status'])


def downgrade():
    op.drop_index(op.f('ix_officer_change_request_status'), table_name='officer_change_request')
    op.drop_index(op.f('ix_officer_change_request_officer_id'), table_name='officer_change_request')
    op.drop_table('officer_change_request')
    op.drop_index(op.f('ix_training_claim_status'), table_name='training_claim')
    op.drop_index(op.f('ix_training_claim_officer_id'), table_name='training_claim')
    op.drop_table('training_claim')
    op.drop_index(op.f('ix_officer_invite_officer_id'), table_name='officer_invite')
    op.drop_table('officer_invite')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_account_officer_id_officer'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_user_account_officer_id'), type_='unique')
        batch_op.drop_column('officer_id')
