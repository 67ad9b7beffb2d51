"""Rows written in bulk (opening the year) read exactly as rows written by insert(); the ids taken first stay free."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from workflows import bulk, definitions, opening
from workflows.messages import Text
from workflows.models import AuditEvent, DefinitionVersion, HumanTask, ProcessInstance, TaskState

MOMENT = datetime(2025, 11, 2, 1, 2, 3, 456789, tzinfo=UTC)


def _events(kind: str) -> list[dict]:
    # a Text message, JSON null and a JSON object, Vietnamese text; `at` left out: its default fills it in
    return [{"instance_id": None, "task_id": None, "actor_id": None, "acting_for_id": None, "kind": kind,
             "step_id": step, "message": Text("Bước '{step}' chờ xử lý", step=step),
             "message_text": text, "data": data, "prev_hash": "", "hash": f"{n:064x}"}
            for n, (step, text, data) in enumerate([("a", None, {"đơn vị": "Sở Y tế", "n": [1, 2.5, None]}),
                                                    (None, {"template": "x", "params": {}}, None)])]


def _read(session, kind: str) -> list[tuple]:
    table = AuditEvent.__table__
    return [tuple(row) for row in session.execute(
        select(*(c for c in table.c if c.name not in ("id", "at", "kind")), table.c.message_text.is_(None),
               table.c.data.is_(None), table.c.at.is_(None)).where(table.c.kind == kind).order_by(table.c.id))]


def test_bulk_rows_read_as_rows_inserted_one_by_one(session):
    session.execute(insert(AuditEvent.__table__), _events("one_by_one"))
    bulk.insert_rows(session, AuditEvent.__table__, _events("in_bulk"))
    expected = _read(session, "one_by_one")
    assert "Bước 'a' chờ xử lý" in expected[0]
    assert [(r[-3], r[-2]) for r in expected] == [(False, False), (False, False)]  # JSON null, not SQL NULL
    assert _read(session, "in_bulk") == expected
    bulk.insert_rows(session, AuditEvent.__table__, [])  # nothing to write: no statement


def test_bulk_rows_of_every_column_type_and_with_their_defaults(session):
    version = _version(session)
    ids = bulk.next_ids(session, ProcessInstance.__table__, 2)
    rows = [{"id": i, "version_id": version, "process_key": "p", "business_key": f"bulk/{i}", "year": 2025,
             "status": "running", "state": b'{"x": "\\u00e9"}', "next_timer_at": MOMENT, "created_at": MOMENT,
             "updated_at": MOMENT, "lock_version": 2} for i in ids]
    bulk.insert_rows(session, ProcessInstance.__table__, rows)
    written = session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(ids))
                              .order_by(ProcessInstance.id)).all()
    assert [(i.id, i.state, i.next_timer_at.astimezone(UTC), i.lock_version, i.audit_head, i.status.value)
            for i in written] == [(i, b'{"x": "\\u00e9"}', MOMENT, 2, "", "running") for i in ids]
    tasks = [{"instance_id": ids[0], "task_uuid": str(uuid.uuid4()), "process_key": "p", "step_id": "s",
              "step_name": "Bước", "candidate_group": "g", "year": 2025, "state": TaskState.OPEN,
              "due_on": date(2025, 12, 15), "instance_item": {"variable": "v", "value": 1}, "lock_version": 1}]
    bulk.insert_rows(session, HumanTask.__table__, tasks)
    task = session.scalar(select(HumanTask).where(HumanTask.task_uuid == tasks[0]["task_uuid"]))
    assert (task.state, task.due_on, task.instance_item, task.draft) == (
        TaskState.OPEN, date(2025, 12, 15), {"variable": "v", "value": 1}, None)
    # a JSON column left out is SQL NULL, as insert() leaves it
    assert session.scalar(select(HumanTask.draft.is_(None)).where(HumanTask.id == task.id)) is True


def test_ids_taken_first_are_ascending_and_never_given_again(session):
    version = _version(session)
    taken = bulk.next_ids(session, ProcessInstance.__table__, 3)
    assert taken == sorted(set(taken)) and len(taken) == 3
    assert bulk.next_ids(session, ProcessInstance.__table__, 0) == []
    bulk.insert_rows(session, ProcessInstance.__table__, [
        {"id": i, "version_id": version, "process_key": "p", "business_key": f"taken/{i}", "year": 2025,
         "state": b""} for i in taken])
    later = ProcessInstance(version_id=version, process_key="p", business_key="later", year=2025, state=b"")
    session.add(later)
    session.flush()
    assert later.id > max(taken)
    assert bulk.next_ids(session, ProcessInstance.__table__, 1)[0] > later.id


def test_fresh_task_ids_are_what_uuid4_writes():
    made = opening._uuid4s(2000)
    assert len(set(made)) == 2000 and opening._uuid4s(0) == []
    for text in made:
        parsed = uuid.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 4, uuid.RFC_4122)


def _version(session) -> int:
    definitions.deploy_directory(session)
    return session.scalars(select(DefinitionVersion.id)).first()
