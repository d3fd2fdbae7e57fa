"""officer photo in its own table

The photo (up to 2 MB) and its type move from the officer row to officer_photo, one row per
officer with a photo: SQLite stored the bytes inline, with the columns behind them on overflow
pages, so every query reading officer rows paid for them (issue 8). Existing photos are copied
across (a photo without a type keeps a generic one; a type without a photo was no photo).

Revision ID: da9c45bcc348
Revises: 862f12319ec7
Create Date: 2026-11-30 05:14:04.967115

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'da9c45bcc348'
down_revision = '862f12319ec7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('officer_photo',
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('mime', sa.String(length=30), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_officer_photo_officer_id_officer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('officer_id', name=op.f('pk_officer_photo'))
    )
    op.execute(
        "INSERT INTO officer_photo (officer_id, mime, data, updated_at) "
        "SELECT id, COALESCE(photo_mime, 'application/octet-stream'), photo, updated_at "
        "FROM officer WHERE photo IS NOT NULL"
    )
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_column('photo_mime')
        batch_op.drop_column('photo')


def downgrade():
    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('photo_mime', sa.String(length=30), nullable=True))
    op.execute(
        "UPDATE officer SET "
        "photo = (SELECT p.data FROM officer_photo p WHERE p.officer_id = officer.id), "
        "photo_mime = (SELECT p.mime FROM officer_photo p WHERE p.officer_id = officer.id) "
        "WHERE id IN (SELECT officer_id FROM officer_photo)"
    )
    op.drop_table('officer_photo')
