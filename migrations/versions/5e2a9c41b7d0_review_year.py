"""review_year: the annual review's certificates of each year with their officer's unit, kept current
by every write; case_verdict.decided_on beside each verdict (the case list's order and counts per
verdict from one index); an index on certificate.number (issue 21)

Revision ID: 5e2a9c41b7d0
Revises: 8d3f1b6a2c47
Create Date: 2026-12-08 01:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5e2a9c41b7d0'
down_revision = '5f7a2c9e1d40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_certificate_number', 'certificate', ['number'], unique=False)
    with op.batch_alter_table('case_verdict') as batch:
        batch.add_column(sa.Column('decided_on', sa.Date(), nullable=True))
    op.execute("UPDATE case_verdict SET decided_on = (SELECT decided_on FROM penalty_case "
               "WHERE penalty_case.id = case_verdict.case_id)")
    op.create_index('ix_case_verdict_ok_decided', 'case_verdict', ['ok', 'decided_on', 'case_id'], unique=False)
    op.create_table(
        'review_year',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('certificate_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'],
                                name=op.f('fk_review_year_certificate_id_certificate'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('year', 'certificate_id', name=op.f('pk_review_year')),
    )
    op.create_index('ix_review_year_certificate_id', 'review_year', ['certificate_id'], unique=False)
    op.create_index('ix_review_year_year_unit', 'review_year', ['year', 'unit_id', 'certificate_id'], unique=False)

    # every year's certificates, derived by the application's own rule (rules/review_years.py, the
    # review page's reference query), on the migration's connection and transaction
    from sqlalchemy.orm import Session

    from app.rules import review_years

    session = Session(bind=op.get_bind())
    review_years.refresh(session, everything=True)
    session.flush()


def downgrade():
    op.drop_index('ix_review_year_year_unit', table_name='review_year')
    op.drop_index('ix_review_year_certificate_id', table_name='review_year')
    op.drop_table('review_year')
    op.drop_index('ix_case_verdict_ok_decided', table_name='case_verdict')
    with op.batch_alter_table('case_verdict') as batch:
        batch.drop_column('decided_on')
    op.drop_index('ix_certificate_number', table_name='certificate')
