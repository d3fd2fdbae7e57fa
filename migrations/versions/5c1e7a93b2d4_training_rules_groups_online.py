"""training rules per year (training_rule), 线上/线下 sessions (training_session.online), counted
hours (training_hours.counted / online / online_counted) and counted hours per content group
(training_group_hours)

Revision ID: 5c1e7a93b2d4
Revises: 7c1d9e4a2b60
Create Date: 2026-12-07 15:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5c1e7a93b2d4'
down_revision = '7c1d9e4a2b60'
branch_labels = None
depends_on = None

# the default content group of each session category (app/settings/services.py DEFAULT_GROUPS)
GROUPS = {
    "general_law": "公共法律知识", "lecture": "公共法律知识", "court_observation": "公共法律知识",
    "political": "公共法律知识", "specialist_law": "专门法律知识", "refresher": "专门法律知识",
    "off_post": "执法技能",
}


def upgrade():
    op.create_table(
        'training_rule',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('total', sa.Float(), nullable=False),
        sa.Column('minimums', sa.JSON(), nullable=False),
        sa.Column('online_max', sa.Float(), nullable=True),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('closes_on', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_training_rule')),
    )
    op.create_table(
        'training_group_hours',
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('grp', sa.String(length=50), nullable=False),
        sa.Column('hours', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['officer_id'], ['officer.id'],
                                name=op.f('fk_training_group_hours_officer_id_officer')),
        sa.PrimaryKeyConstraint('officer_id', 'year', 'grp', name=op.f('pk_training_group_hours')),
    )
    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('online', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('training_hours', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counted', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('online', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('online_counted', sa.Float(), server_default='0', nullable=False))
    # no rule and no online session yet: every credited hour counts
    op.execute("UPDATE training_hours SET counted = hours")
    whens = " ".join(f"WHEN '{c}' THEN '{g}'" for c, g in GROUPS.items())
    year = ("CAST(strftime('%Y', s.held_on) AS INTEGER)" if op.get_bind().dialect.name == "sqlite"
            else "CAST(EXTRACT(YEAR FROM s.held_on) AS INTEGER)")
    op.execute(
        "INSERT INTO training_group_hours (officer_id, year, grp, hours) "
        f"SELECT a.officer_id, {year}, CASE s.category {whens} ELSE s.category END, SUM(a.credited_hours) "
        "FROM attendance a JOIN training_session s ON s.id = a.session_id WHERE a.status = 'attended' "
        f"GROUP BY a.officer_id, {year}, CASE s.category {whens} ELSE s.category END")


def downgrade():
    with op.batch_alter_table('training_hours', schema=None) as batch_op:
        batch_op.drop_column('online_counted')
        batch_op.drop_column('online')
        batch_op.drop_column('counted')
    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.drop_column('online')
    op.drop_table('training_group_hours')
    op.drop_table('training_rule')
