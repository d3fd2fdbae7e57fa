"""officer.post_since (任执法岗位日期)

The date an officer took the enforcement post: the yearly training hours are owed pro rata from
it (docs/domain.md, 年度学时), no longer judged by when the officer's row was created. The flag
engine's covering index on officer carries it in place of created_at.

Revision ID: d1fa4d9e5c91
Revises: 3f9a1c7e52b4
Create Date: 2026-12-07 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1fa4d9e5c91'
down_revision = '3f9a1c7e52b4'
branch_labels = None
depends_on = None

OLD = ['id', 'unit_id', 'employment_status', 'on_enforcement_post', 'establishment', 'created_at']
NEW = ['id', 'unit_id', 'employment_status', 'on_enforcement_post', 'establishment', 'post_since']


def upgrade():
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_since', sa.Date(), nullable=True))
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_index('ix_officer_flag_columns')
        batch_op.create_index('ix_officer_flag_columns', NEW, unique=False)


def downgrade():
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_index('ix_officer_flag_columns')
        batch_op.create_index('ix_officer_flag_columns', OLD, unique=False)
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_column('post_since')
