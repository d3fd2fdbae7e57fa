"""officer.retirement_basis (原法定退休年龄)

A woman's statutory retirement age before the 2025 law (55, the default when empty, or 50): the
law raises each basis by its own steps (app/retirement.py).

Revision ID: 4b7e2c9a1f03
Revises: f02dfe03b6ce
Create Date: 2026-12-07 15:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b7e2c9a1f03'
down_revision = 'f02dfe03b6ce'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retirement_basis', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_column('retirement_basis')
