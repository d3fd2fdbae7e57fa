"""applications for a card (申领/换证/补证/注销): application, application_action (the timeline),
notification (in-app messages) and calendar_day (holidays and worked weekend days entered for a year)

Revision ID: 11ab0df8937c
Revises: 3becc06de70a
Create Date: 2026-12-07 17:48:23.502883

"""
from alembic import op
import sqlalchemy as sa


revision = '11ab0df8937c'
down_revision = '3becc06de70a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('workday', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=50), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_day'))
    )
    op.create_table('application',
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=True),
    sa.Column('step_since', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('due_estimated', sa.Boolean(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('exam_since', sa.Date(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by', sa.String(length=100), nullable=False),
    sa.Column('submitted_unit_id', sa.Integer(), nullable=True),
    sa.Column('old_certificate_id', sa.Integer(), nullable=True),
    sa.Column('new_certificate_id', sa.Integer(), nullable=True),
    sa.Column('finished_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['new_certificate_id'], ['certificate.id'], name=op.f('fk_application_new_certificate_id_certificate')),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_application_officer_id_officer')),
    sa.ForeignKeyConstraint(['old_certificate_id'], ['certificate.id'], name=op.f('fk_application_old_certificate_id_certificate')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user_account.id'], name=op.f('fk_application_submitted_by_id_user_account')),
    sa.ForeignKeyConstraint(['submitted_unit_id'], ['unit.id'], name=op.f('fk_application_submitted_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application')),
    sa.UniqueConstraint('number', name=op.f('uq_application_number'))
    )
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_officer_id'), ['officer_id'], unique=False)
        batch_op.create_index('ix_application_officer_kind_state', ['officer_id', 'kind', 'state'], unique=False)
        batch_op.create_index('ix_application_state_due', ['state', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_submitted_on'), ['submitted_on'], unique=False)

    op.create_table('application_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('acted_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_application_action_application_id_application')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_application_action_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_action'))
    )
    with op.batch_alter_table('application_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_action_application_id'), ['application_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_notification_application_id_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_read', ['user_id', 'read_at'], unique=False)



def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_read')

    op.drop_table('notification')
    with op.batch_alter_table('application_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_action_application_id'))

    op.drop_table('application_action')
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_submitted_on'))
        batch_op.drop_index('ix_application_state_due')
        batch_op.drop_index('ix_application_officer_kind_state')
        batch_op.drop_index(batch_op.f('ix_application_officer_id'))

    op.drop_table('application')
    op.drop_table('calendar_day')
