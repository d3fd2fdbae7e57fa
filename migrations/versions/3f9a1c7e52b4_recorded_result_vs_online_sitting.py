"""a recorded exam result vs the online sitting; the pass document's issue and withdrawal

exam_sitting.replaces_result / replace_reason: an administrator let the online result replace a
result already recorded (otherwise such a candidate is not admitted to the online sitting).
exam_result.document_issued_at / document_withdrawn_at / document_withdrawn_reason: the
考试合格证明 printed for the result, and its withdrawal (the QR code then verifies as withdrawn).

Revision ID: 3f9a1c7e52b4
Revises: 685f1bf0aede
Create Date: 2026-12-07 14:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3f9a1c7e52b4'
down_revision = '685f1bf0aede'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('exam_sitting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replaces_result', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('replace_reason', sa.String(length=500), nullable=True))
    with op.batch_alter_table('exam_result', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_issued_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('document_withdrawn_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('document_withdrawn_reason', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('exam_result', schema=None) as batch_op:
        batch_op.drop_column('document_withdrawn_reason')
        batch_op.drop_column('document_withdrawn_at')
        batch_op.drop_column('document_issued_at')
    with op.batch_alter_table('exam_sitting', schema=None) as batch_op:
        batch_op.drop_column('replace_reason')
        batch_op.drop_column('replaces_result')
