"""audit_event.subject_unit_id: the unit of what the row is about (a unit itself, an officer's unit,
a certificate's officer's unit, a user's scope unit), for the unit scope's audit rows

Revision ID: 2c1532cb20f9
Revises: 11ab0df8937c
Create Date: 2026-12-07 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '2c1532cb20f9'
down_revision = '11ab0df8937c'
branch_labels = None
depends_on = None

# set-wise backfill of the existing rows (the same SQL on SQLite and PostgreSQL)
BACKFILL = (
    "UPDATE audit_event SET subject_unit_id = entity_id WHERE entity_type = 'unit'",
    "UPDATE audit_event SET subject_unit_id = (SELECT officer.unit_id FROM officer"
    " WHERE officer.id = audit_event.entity_id) WHERE entity_type = 'officer'",
    "UPDATE audit_event SET subject_unit_id = (SELECT officer.unit_id FROM certificate"
    " JOIN officer ON officer.id = certificate.officer_id"
    " WHERE certificate.id = audit_event.entity_id) WHERE entity_type = 'certificate'",
    "UPDATE audit_event SET subject_unit_id = (SELECT user_account.unit_id FROM user_account"
    " WHERE user_account.id = audit_event.entity_id) WHERE entity_type = 'user'",
)


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_subject_unit_id'), ['subject_unit_id'], unique=False)
    for statement in BACKFILL:
        op.execute(statement)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_subject_unit_id'))
        batch_op.drop_column('subject_unit_id')
