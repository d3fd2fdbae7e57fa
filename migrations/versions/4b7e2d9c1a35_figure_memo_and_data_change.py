"""figure_memo and data_change: figures over the whole register kept under the write stamp
(app/training/memo.py): the year's statistics, the ledger's counts per unit and status, the
session list's attendance counts

Revision ID: 4b7e2d9c1a35
Revises: 8d3f1b6a2c47
Create Date: 2026-12-08 01:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '4b7e2d9c1a35'
down_revision = '5e2a9c41b7d0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_change')),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'figure_memo',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('stamp', sa.String(length=100), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_figure_memo')),
    )


def downgrade():
    op.drop_table('figure_memo')
    op.drop_table('data_change')
