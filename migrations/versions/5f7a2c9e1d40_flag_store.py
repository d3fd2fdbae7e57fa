"""flag_row, flag_meta: the stored flags (one day's output of the compliance engine, kept current by
every write; app/rules/flagstore.py). Created empty: the first read of the day (or the worker's
`maintain`) fills them, set-wise, from the engine.

Revision ID: 5f7a2c9e1d40
Revises: 8d3f1b6a2c47
Create Date: 2026-12-08 01:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5f7a2c9e1d40'
down_revision = '8d3f1b6a2c47'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'flag_row',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('flag', sa.String(length=24), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.Column('officer_id', sa.Integer(), nullable=True),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('certificate_id', sa.Integer(), nullable=True),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_flag_row')),
    )
    op.create_index('ix_flag_row_flag_reason_unit', 'flag_row', ['flag', 'reason', 'unit_id'], unique=False)
    op.create_index('ix_flag_row_unit_flag', 'flag_row', ['unit_id', 'flag'], unique=False)
    op.create_index('ix_flag_row_flag_expires', 'flag_row', ['flag', 'expires_on'], unique=False)
    op.create_index(op.f('ix_flag_row_officer_id'), 'flag_row', ['officer_id'], unique=False)
    op.create_table(
        'flag_meta',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=True),
        sa.Column('within', sa.Integer(), nullable=False),
        sa.Column('eligible_fp', sa.String(length=64), nullable=False),
        sa.Column('training_fp', sa.String(length=64), nullable=False),
        sa.Column('built_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_flag_meta')),
    )


def downgrade():
    op.drop_table('flag_meta')
    op.drop_index(op.f('ix_flag_row_officer_id'), table_name='flag_row')
    op.drop_index('ix_flag_row_flag_expires', table_name='flag_row')
    op.drop_index('ix_flag_row_unit_flag', table_name='flag_row')
    op.drop_index('ix_flag_row_flag_reason_unit', table_name='flag_row')
    op.drop_table('flag_row')
