"""SQLite: an instance's save writes its audit events in the same statement (pending_events and a trigger)

Revision ID: 0b3c5e7a9d21
Revises: a272cd6f1f01
Create Date: 2026-12-06 00:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0b3c5e7a9d21'
down_revision = 'a272cd6f1f01'
branch_labels = None
depends_on = None

# The trigger as this revision defines it (workflows/models.py builds the same text for a new database).
_COLUMNS = ("instance_id", "task_id", "at", "actor_id", "acting_for_id", "kind", "step_id", "message",
            "message_text", "data", "prev_hash", "hash")
_EACH_COLUMN = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(_COLUMNS)))
TRIGGER = (
    "CREATE TRIGGER process_instance_events AFTER UPDATE OF pending_events ON process_instance "
    "FOR EACH ROW WHEN NEW.pending_events IS NOT NULL BEGIN "
    f"INSERT INTO audit_event ({', '.join(_COLUMNS)}) SELECT {_EACH_COLUMN} "
    "FROM json_each(NEW.pending_events) ORDER BY key; "
    "UPDATE process_instance SET pending_events = NULL WHERE id = NEW.id; END"
)


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_events', sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS process_instance_events")
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('pending_events')
