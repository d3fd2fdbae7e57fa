"""audit_subject(audit_id, unit_id): the units an audit row belongs to (the acting user's scope unit,
the unit of what it is about, each unit of a case it is about), for the unit scope's audit rows as
one indexed semi-join

Revision ID: 8d3f1b6a2c47
Revises: 17723a467270
Create Date: 2026-12-07 22:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '8d3f1b6a2c47'
down_revision = '17723a467270'
branch_labels = None
depends_on = None

# set-wise backfill from what the rows are derived from (the same SQL on SQLite and PostgreSQL;
# app/audit/services.py subjects_select)
BACKFILL = (
    "INSERT INTO audit_subject (audit_id, unit_id) "
    "SELECT id, scope_unit_id FROM audit_event WHERE scope_unit_id IS NOT NULL "
    "UNION "
    "SELECT id, subject_unit_id FROM audit_event WHERE subject_unit_id IS NOT NULL "
    "UNION "
    "SELECT a.id, cu.unit_id FROM audit_event a JOIN case_unit cu ON cu.case_id = a.entity_id "
    "WHERE a.entity_type = 'case'"
)


def upgrade():
    op.create_table(
        'audit_subject',
        sa.Column('audit_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['audit_id'], ['audit_event.id'],
                                name=op.f('fk_audit_subject_audit_id_audit_event'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('audit_id', 'unit_id', name=op.f('pk_audit_subject')),
    )
    op.create_index('ix_audit_subject_unit_audit', 'audit_subject', ['unit_id', 'audit_id'], unique=False)
    op.execute(BACKFILL)


def downgrade():
    op.drop_index('ix_audit_subject_unit_audit', table_name='audit_subject')
    op.drop_table('audit_subject')
