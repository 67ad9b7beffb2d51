"""The versioned row writes of a unit of work: conditional UPDATEs, and the task rows written at commit.

Core statements, not the ORM's flush: on the completion path the unit-of-work bookkeeping cost more than the SQL.
Every UPDATE here is conditional on the lock_version the row was loaded with, so of two actions that loaded the same
row the second to write finds no row and gets a Conflict (runtime.atomic rolls everything back).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, cast, exists, insert, null, select, union_all, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflows import dialects
from workflows.errors import Conflict, EngineError
from workflows.messages import Text
from workflows.models import EVENT_COLUMNS, AuditEvent, HumanTask, ProcessInstance, TaskState

CONFLICT_MESSAGE = Text("Công việc vừa được người khác xử lý; dữ liệu của bạn chưa được lưu, vui lòng tải lại.")


@lru_cache(maxsize=64)
def update_statement(table: Any, columns: tuple[str, ...], only_if_open: bool, same_head: bool = False) -> Any:
    """UPDATE one row of TABLE, conditional on its id and lock_version (`_id`, `_version`), optionally on its being
    open (`_open`) or on its audit chain head (`_head`). Built once per shape: building it cost as much as running it.
    """
    condition = (table.c.id == bindparam("_id")) & (table.c.lock_version == bindparam("_version"))
    if only_if_open:
        condition = condition & (table.c.state == bindparam("_open"))
    if same_head:
        condition = condition & (table.c.audit_head == bindparam("_head"))
    return update(table).where(condition).values({c: bindparam(c) for c in (*columns, "lock_version")})


def update_row(session: Session, obj: Any, values: dict[str, Any], only_if_open: bool = False) -> None:
    """UPDATE OBJ's row with VALUES (and lock_version + 1), keeping the loaded object in step; Conflict if it moved."""
    version = obj.lock_version
    statement = update_statement(type(obj).__table__, tuple(sorted(values)), only_if_open)
    params = {**values, "_id": obj.id, "_version": version, "lock_version": version + 1}
    if only_if_open:
        params["_open"] = TaskState.OPEN
    if session.execute(statement, params).rowcount != 1:
        raise Conflict(CONFLICT_MESSAGE)
    for key in (*values, "lock_version"):
        set_committed_value(obj, key, params[key])


def write_tasks(session: Session, completed: Sequence[tuple[HumanTask, dict[str, Any]]],
                new_rows: Sequence[dict[str, Any]]) -> list[int]:
    """Complete the COMPLETED task rows and insert NEW_ROWS (all with the same keys); the new rows' ids, in order.

    One completed row and new rows (a step followed by the next: most completions) are ONE statement: an INSERT of
    the new rows and the completed one, whose task_uuid exists, so ON CONFLICT turns it into the conditional UPDATE
    (same lock_version, still open); RETURNING names the rows written, and the completed one missing is a Conflict.
    """
    if len(completed) == 1 and new_rows:
        return _complete_and_insert(session, *completed[0], new_rows)
    for task, values in completed:
        update_row(session, task, values, only_if_open=True)
    if not new_rows:
        return []
    return list(session.scalars(insert(HumanTask).returning(HumanTask.id, sort_by_parameter_order=True), new_rows))


_COMPLETION = ("state", "completed_at", "completed_by_id", "acting_for_id")
_UPSERTS: dict[tuple[str, tuple[str, ...]], Any] = {}


def _upsert(session: Session, keys: tuple[str, ...]) -> Any:
    """The INSERT … ON CONFLICT that completes one task row and inserts the new ones, built once per shape: run with
    one parameter set per row, SQLAlchemy sends it as ONE multi-row statement ("insertmanyvalues") compiled once."""
    shape = (session.get_bind().dialect.name, keys)
    if shape not in _UPSERTS:
        table = HumanTask.__table__
        statement = dialects.insert(session, table)
        _UPSERTS[shape] = statement.on_conflict_do_update(
            index_elements=["task_uuid"],
            set_={**{k: statement.excluded[k] for k in _COMPLETION}, "draft": null(),
                  "lock_version": table.c.lock_version + 1},
            where=(table.c.id == bindparam("_id")) & (table.c.lock_version == bindparam("_version"))
            & (table.c.state == bindparam("_open")),
        ).returning(table.c.id, table.c.task_uuid)  # matched by uuid: any order
    return _UPSERTS[shape]


def _complete_and_insert(session: Session, task: HumanTask, values: dict[str, Any],
                         new_rows: Sequence[dict[str, Any]]) -> list[int]:
    unknown = set(values) - {*_COMPLETION, "draft"}
    if unknown:  # pragma: no cover - a programming error, not a user's
        raise EngineError(f"A completion cannot write {sorted(unknown)} in one statement with the new rows")
    keys = tuple(dict.fromkeys((*new_rows[0], *_COMPLETION)))
    done = {**{k: getattr(task, k) for k in keys}, **{k: values.get(k) for k in _COMPLETION}}
    same = {"_id": task.id, "_version": task.lock_version, "_open": TaskState.OPEN}
    rows = [{**done, **same}, *({**dict.fromkeys(_COMPLETION), **row, **same} for row in new_rows)]
    written = {uuid: key for key, uuid in session.execute(_upsert(session, keys), rows)}
    if written.get(task.task_uuid) != task.id:
        raise Conflict(CONFLICT_MESSAGE)
    for key in (*_COMPLETION, "draft"):
        set_committed_value(task, key, values.get(key))
    set_committed_value(task, "lock_version", task.lock_version + 1)
    try:
        return [written[row["task_uuid"]] for row in new_rows]
    except KeyError:  # pragma: no cover - an engine uuid that is already a task row's
        raise EngineError("A new task's uuid is already a task row's") from None


AUDIT_INSERT = insert(AuditEvent.__table__)
_EVENT_COLUMNS = tuple(c for c in AuditEvent.__table__.c if c.name != "id")
_SAVES_WITH_EVENTS: dict[tuple[str, tuple[str, ...], int], Any] = {}


def save_with_events(session: Session, columns: tuple[str, ...], params: dict[str, Any],
                     rows: Sequence[dict[str, Any]]) -> bool:
    """An instance's conditional UPDATE (update_statement with its audit head) and the INSERT of ROWS, its audit
    events, in ONE statement; False, nothing written, when the UPDATE matched no row.

    PostgreSQL: a writable CTE; the events go in only if the UPDATE matched (`WHERE EXISTS (SELECT … FROM saved)`),
    so events chained from a head that moved are never written. Built once per shape (the columns saved, the number
    of events), compiled once. SQLite: the UPDATE also sets `pending_events`, and the database's trigger
    (models.SQLITE_EVENTS_TRIGGER) inserts them for the row it matched, and for no other.
    """
    if session.get_bind().dialect.name == "sqlite":
        return _save_with_events_sqlite(session, columns, params, rows)
    shape = (session.get_bind().dialect.name, columns, len(rows))
    if shape not in _SAVES_WITH_EVENTS:
        instances = ProcessInstance.__table__
        saved = update_statement(instances, columns, False, True).returning(instances.c.id).cte("saved")
        names = [c.name for c in _EVENT_COLUMNS]
        # The events as SELECTs of typed parameters joined by UNION ALL, not a VALUES list: SQLAlchemy cannot key a
        # VALUES construct in its compiled cache, and compiled this statement anew on every completion.
        each = [select(*(cast(bindparam(f"e{i}_{c.name}", type_=c.type), c.type).label(c.name)
                         for c in _EVENT_COLUMNS)) for i in range(len(rows))]
        events = (union_all(*each) if len(each) > 1 else each[0]).subquery("events")
        _SAVES_WITH_EVENTS[shape] = (insert(AuditEvent.__table__).add_cte(saved)
                                     .from_select(names, select(events).where(exists(select(saved.c.id))))
                                     .returning(AuditEvent.__table__.c.id))  # counted: rowcount is not reliable
    flat = {**params, **{f"e{i}_{c.name}": row.get(c.name) for i, row in enumerate(rows) for c in _EVENT_COLUMNS}}
    return len(session.execute(_SAVES_WITH_EVENTS[shape], flat).all()) == len(rows)


def _save_with_events_sqlite(session: Session, columns: tuple[str, ...], params: dict[str, Any],
                             rows: Sequence[dict[str, Any]]) -> bool:
    dialect = session.get_bind().dialect
    if dialect not in _BINDERS:  # each column's value as the driver would bind it: what the trigger stores
        _BINDERS.clear()
        _BINDERS[dialect] = [(name, AuditEvent.__table__.c[name].type.dialect_impl(dialect).bind_processor(dialect))
                             for name in EVENT_COLUMNS]  # the trigger's order
    binders = _BINDERS[dialect]
    events = json.dumps([[bind(row.get(name)) if bind else row.get(name) for name, bind in binders] for row in rows],
                        ensure_ascii=False, separators=(",", ":"))
    statement = update_statement(ProcessInstance.__table__, (*columns, "pending_events"), False, True)
    return session.execute(statement, {**params, "pending_events": events}).rowcount == 1


_BINDERS: dict[Any, list[tuple[str, Any]]] = {}
