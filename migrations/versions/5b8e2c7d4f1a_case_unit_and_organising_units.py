"""case_unit: the units each case belongs to (the unit scope reads it); filled from the cases'
承办单位 and certificate numbers. training_session.unit_id, exam.unit_id: the organising unit
(NULL: the whole organisation). unit.reminder_recipients: a unit's own reminder recipients

Revision ID: 5b8e2c7d4f1a
Revises: 4b7e2c9a1f03
Create Date: 2026-12-07 15:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5b8e2c7d4f1a'
down_revision = '4b7e2c9a1f03'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_unit',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['penalty_case.id'], name=op.f('fk_case_unit_case_id_penalty_case'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_case_unit_unit_id_unit'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', 'unit_id', name=op.f('pk_case_unit')),
    )
    op.create_index('ix_case_unit_unit_case', 'case_unit', ['unit_id', 'case_id'], unique=False)
    op.execute(
        "INSERT INTO case_unit (case_id, unit_id) "
        "SELECT pc.id, u.id FROM penalty_case pc JOIN unit u ON u.name = pc.unit "
        "UNION "
        "SELECT cc.case_id, o.unit_id FROM case_certificate cc "
        "JOIN penalty_case pc ON pc.id = cc.case_id "
        "JOIN certificate c ON c.number = cc.number "
        "JOIN officer o ON o.id = c.officer_id "
        "WHERE NOT EXISTS (SELECT 1 FROM unit u2 WHERE u2.name = pc.unit)")
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_recipients', sa.Text(), server_default='', nullable=False))
    for table in ('training_session', 'exam'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_unit_id'), ['unit_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_unit_id_unit'), 'unit', ['unit_id'], ['id'])


def downgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('reminder_recipients')
    for table in ('exam', 'training_session'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_unit_id_unit'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_unit_id'))
            batch_op.drop_column('unit_id')
    op.drop_index('ix_case_unit_unit_case', table_name='case_unit')
    op.drop_table('case_unit')
