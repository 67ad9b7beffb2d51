"""the element variable of a multi-instance task on its row (issue 11)

Revision ID: d4e1a7c93b20
Revises: b7d41e0c9a13
Create Date: 2026-12-04 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e1a7c93b20'
down_revision = 'b7d41e0c9a13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instance_item', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('instance_item')
