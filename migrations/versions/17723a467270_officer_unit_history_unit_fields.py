"""officer_unit_history (dated transfers) and unit.enforcement_fields

Revision ID: 17723a467270
Revises: 2c1532cb20f9
Create Date: 2026-12-07 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '17723a467270'
down_revision = '2c1532cb20f9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'officer_unit_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('from_on', sa.Date(), nullable=False),
        sa.Column('to_on', sa.Date(), nullable=True),
        sa.Column('document_no', sa.String(length=100), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_officer_unit_history_officer_id_officer'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_officer_unit_history_unit_id_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_unit_history')),
    )
    with op.batch_alter_table('officer_unit_history', schema=None) as batch_op:
        batch_op.create_index('ix_officer_unit_history_officer_from', ['officer_id', 'from_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_officer_unit_history_unit_id'), ['unit_id'], unique=False)
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enforcement_fields', sa.String(length=200), server_default='', nullable=False))
    # every officer: one open interval in the current unit, since the post began (or since ever)
    op.execute(
        "INSERT INTO officer_unit_history (officer_id, unit_id, from_on, to_on, document_no, reason, created_by,"
        " created_at, updated_at)"
        " SELECT id, unit_id, COALESCE(post_since, DATE '1900-01-01'), NULL, '', '', '', CURRENT_TIMESTAMP,"
        " CURRENT_TIMESTAMP FROM officer"
        if op.get_bind().dialect.name != 'sqlite' else
        "INSERT INTO officer_unit_history (officer_id, unit_id, from_on, to_on, document_no, reason, created_by,"
        " created_at, updated_at)"
        " SELECT id, unit_id, COALESCE(post_since, '1900-01-01'), NULL, '', '', '', CURRENT_TIMESTAMP,"
        " CURRENT_TIMESTAMP FROM officer"
    )


def downgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('enforcement_fields')
    with op.batch_alter_table('officer_unit_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officer_unit_history_unit_id'))
        batch_op.drop_index('ix_officer_unit_history_officer_from')
    op.drop_table('officer_unit_history')
