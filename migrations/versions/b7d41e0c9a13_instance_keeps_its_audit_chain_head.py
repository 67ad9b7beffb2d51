"""the process instance keeps its audit chain's head

Revision ID: b7d41e0c9a13
Revises: a2ffc476d822
Create Date: 2026-12-04 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41e0c9a13'
down_revision = 'a2ffc476d822'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_head', sa.String(length=64), server_default='', nullable=False))
    # Each instance's head is the hash of its chain's latest event (Core over explicit columns, not the models).
    event = sa.table("audit_event", sa.column("id", sa.Integer), sa.column("instance_id", sa.Integer),
                     sa.column("hash", sa.String))
    instance = sa.table("process_instance", sa.column("id", sa.Integer), sa.column("audit_head", sa.String))
    latest = (sa.select(event.c.hash).where(event.c.instance_id == instance.c.id)
              .order_by(event.c.id.desc()).limit(1).scalar_subquery())
    op.get_bind().execute(instance.update().values(audit_head=sa.func.coalesce(latest, "")))


def downgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('audit_head')
