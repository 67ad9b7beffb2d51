"""the reports of a year not in yet have their own (partial) index

Revision ID: 5d8e2f1c4b37
Revises: 0b3c5e7a9d21
Create Date: 2026-12-06 00:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d8e2f1c4b37'
down_revision = '0b3c5e7a9d21'
branch_labels = None
depends_on = None

NOT_IN = sa.text("outcome IS NULL OR outcome != 'accepted'")


def upgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_not_in', ['year'], unique=False, sqlite_where=NOT_IN, postgresql_where=NOT_IN)


def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_not_in', sqlite_where=NOT_IN, postgresql_where=NOT_IN)
