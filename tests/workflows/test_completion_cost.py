"""What one completion costs a request: the statements it sends, and the audit chain head read and moved with them."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, report_payload
from sqlalchemy import create_engine, delete, event, func, select, text
from sqlalchemy.orm import Session
from testdb import TEST_DATABASE_URL, make_engine

from workflows import accounts, audit, row_writes, runtime, tasks, topics
from workflows.errors import Conflict
from workflows.models import (
    EVENT_COLUMNS,
    AuditEvent,
    Base,
    Cycle,
    CycleStatus,
    HumanTask,
    ProcessInstance,
    TaskState,
    User,
)

DAY = date(2025, 11, 10)


@pytest.fixture
def shared_engine(tmp_path):
    """A database two threads can really share: the PostgreSQL test database, or an SQLite file in WAL mode."""
    if TEST_DATABASE_URL:
        engine = make_engine()
    else:
        engine = create_engine(f"sqlite:///{tmp_path / 'race.sqlite'}", connect_args={"timeout": 10})
        event.listen(engine, "connect", lambda conn, _: (conn.execute("PRAGMA journal_mode=WAL"),
                                                         conn.execute("PRAGMA foreign_keys=ON")))
        Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@contextmanager
def statements(engine) -> Iterator[list[str]]:
    sent: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        sent.append(" ".join(statement.split())[:60])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def _tokens(engine, people) -> dict[str, str]:
    with Session(engine) as setup:
        found = {name: accounts.issue_token(setup, setup.get(User, person.id)) for name, person in people.items()
                 if name in ("stc_officer", "stc_head", "snv_officer", "dic")}
        for token in found.values():
            accounts.user_for_token(setup, token)  # used once: no last_used_at write in what follows
        return found


def _head_of(session: Session, instance_id: int) -> tuple[str, str]:
    """The head recorded on the instance and the hash of its chain's latest event."""
    head = session.scalar(select(ProcessInstance.audit_head).where(ProcessInstance.id == instance_id))
    last = session.scalar(select(AuditEvent.hash).where(AuditEvent.instance_id == instance_id)
                          .order_by(AuditEvent.id.desc()).limit(1))
    return head, last


def test_a_request_loads_its_user_and_roles_in_one_statement(db_engine):
    with Session(db_engine, expire_on_commit=False) as setup:
        people = open_small_cycle(setup, ["STC"])
    token = _tokens(db_engine, people)["stc_head"]
    with Session(db_engine) as request, statements(db_engine) as sent:
        user = accounts.user_for_token(request, token)
        assert user is not None and user.has_role("agency_head")
    assert len(sent) == 1
    with Session(db_engine) as request, statements(db_engine) as sent:
        user = accounts.user_for_session(request, people["stc_head"].get_id())
        assert user is not None and user.has_role("agency_head")
    assert len(sent) == 1


def test_a_completion_sends_at_most_five_statements_more_where_the_report_is_written(db_engine):
    """Token + user + roles, the task with its instance, the task rows (completed and new), the instance with its
    audit head, the audit events (with the instance's UPDATE on PostgreSQL). The drafting step also writes the
    report's content; an acceptance writes the report's outcome, which also counts the other reports of the year not
    in yet (RETURNING a count): an acceptance with another report still out reads nothing more, also when it is one
    of the year's last, which on PostgreSQL take their turns on the cycle row in the task lookup."""
    with Session(db_engine, expire_on_commit=False) as setup:
        people = open_small_cycle(setup, ["STC", "SNV"])
    tokens = _tokens(db_engine, people)
    with Session(db_engine) as earlier:  # a process's files are read once per version and process, then cached
        runtime.version_files(earlier, open_task(earlier, "draft_report", "STC").instance.version_id)
    counts = {}
    for step, who, data in (("draft_report", "stc_officer", report_payload()),
                            ("approve_report", "stc_head", {"head_decision": "approve"}),
                            ("review_report", "dic", {"dic_decision": "accept"})):
        with Session(db_engine) as lookup:
            task_id = open_task(lookup, step, "STC").id
        with Session(db_engine) as request, statements(db_engine) as sent:
            tasks.complete_task(request, task_id, accounts.user_for_token(request, tokens[who]), data, at(DAY))
        counts[step] = len([s for s in sent if not s.startswith(("SAVEPOINT", "RELEASE"))])
        if step == "approve_report":
            with Session(db_engine) as check:
                task = check.get(HumanTask, task_id)
                assert task.state == TaskState.COMPLETED and task.completed_by_id == people["stc_head"].id
                assert task.lock_version == 2 and task.draft is None
                assert open_task(check, "review_report", "STC").instance_id == task.instance_id
    # The instance's UPDATE and the audit events' INSERT are one statement: a writable CTE on PostgreSQL, a trigger
    # fired by the UPDATE on SQLite.
    assert counts == {"draft_report": 5, "approve_report": 4, "review_report": 5}
    with Session(db_engine) as check:
        report = check.get(HumanTask, task_id).instance
        assert report.status == "completed" and report.lock_version == 5  # opened, drafted, approved, accepted
        head, last = _head_of(check, report.id)
        assert head == last and audit.verify(check)[1] == []


def test_every_statement_of_a_completion_is_compiled_once_per_process(db_engine):
    """SQLAlchemy compiles a statement once and reuses it when it can key it; one it cannot key (a VALUES list, once
    the save with its audit events on PostgreSQL) was compiled again on every completion, about 2 ms of CPU each."""
    with Session(db_engine, expire_on_commit=False) as setup:
        people = open_small_cycle(setup, ["STC", "SNV"])
    tokens = _tokens(db_engine, people)
    seen: list[tuple[str, str]] = []

    def record(_conn, _cursor, statement, _parameters, context, _many) -> None:
        seen.append((" ".join(statement.split())[:40], str(context.cache_hit)))

    for code in ("STC", "SNV"):  # the second unit's draft: every statement has been seen once before
        with Session(db_engine) as lookup:
            task_id = open_task(lookup, "draft_report", code).id
        seen.clear()
        event.listen(db_engine, "before_cursor_execute", record)
        try:
            with Session(db_engine) as request:
                user = accounts.user_for_token(request, tokens[f"{code.lower()}_officer"])
                tasks.complete_task(request, task_id, user, report_payload(), at(DAY))
        finally:
            event.remove(db_engine, "before_cursor_execute", record)
    compiled_again = [statement for statement, hit in seen if not hit.endswith("CACHE_HIT")
                      and not statement.startswith(("SAVEPOINT", "RELEASE"))]
    assert len(seen) >= 5 and compiled_again == []


def test_a_completion_continues_a_chain_another_action_moved_meanwhile(db_engine):
    """A claim, a comment or a note appends to the instance's chain without an engine step; a completion that read
    the head before it still appends after it, and the chain does not fork."""
    with Session(db_engine, expire_on_commit=False) as setup:
        people = open_small_cycle(setup, ["STC"])
    with Session(db_engine, expire_on_commit=False) as request:
        task = tasks.get_task(request, open_task(request, "draft_report", "STC").id)
        read_head = task.instance.audit_head
        request.commit()  # the request has read the instance (and its head) and goes on from it
        with Session(db_engine) as other:
            ctx = runtime.Context.create(other, None)
            runtime.audit(ctx, "note", "ghi chú trong lúc soạn", other.get(ProcessInstance, task.instance_id))
            runtime.commit(ctx)
        tasks.complete_task(request, task.id, people["stc_officer"], report_payload(), at(DAY))
    with Session(db_engine) as check:
        events = list(check.scalars(select(AuditEvent).where(AuditEvent.instance_id == task.instance_id)
                                    .order_by(AuditEvent.id)))
        kinds = [e.kind for e in events]
        assert kinds.index("note") < kinds.index("task_completed")
        assert events[kinds.index("note")].prev_hash == read_head
        assert len({e.prev_hash for e in events}) == len(events)  # no two events continue the same head
        head, last = _head_of(check, task.instance_id)
        assert head == last and audit.verify(check)[1] == []


def test_events_saved_with_their_instance_are_stored_as_a_plain_insert_stores_them(db_engine):
    """The one-statement save (PostgreSQL's CTE, SQLite's trigger) stores every column as the plain INSERT does: the
    same text, numbers, times and JSON, Vietnamese included; a save whose UPDATE matches no row writes no event."""
    # the trigger names every column of the table, so a new one cannot be left out of it unnoticed
    assert EVENT_COLUMNS == tuple(c.name for c in AuditEvent.__table__.c if c.name != "id")
    with Session(db_engine, expire_on_commit=False) as setup:
        people = open_small_cycle(setup, ["STC", "SNV"])
        first, second = (setup.scalar(select(ProcessInstance).where(ProcessInstance.unit_code == code))
                         for code in ("STC", "SNV"))
        task_id = open_task(setup, "draft_report", "STC").id
    when = at(DAY)
    rows = [{"instance_id": None, "task_id": task_id, "at": when, "actor_id": people["dic"].id, "acting_for_id": None,
             "kind": "task_completed", "step_id": "draft_report", "message": "Đã hoàn thành 'Soạn báo cáo' — \"x\"",
             "message_text": {"template": "Đã hoàn thành '{step}'", "params": {"step": "Soạn báo cáo"}},
             "data": {"criteria": {"1.1": True}, "budget": 12.5, "ghi_chú": "dòng 1\ndòng 2", "none": None},
             "prev_hash": "a" * 64, "hash": "b" * 64},
            {"instance_id": None, "task_id": None, "at": when, "actor_id": None, "acting_for_id": None,
             "kind": "instance_completed", "step_id": None, "message": "", "message_text": None, "data": None,
             "prev_hash": "b" * 64, "hash": "c" * 64}]
    columns = ("audit_head", "updated_at")  # as runtime.commit names them: sorted
    with Session(db_engine) as work:
        def save(instance, version):
            params = {"updated_at": when, "_id": instance.id, "_version": version, "lock_version": version + 1,
                      "_head": instance.audit_head, "audit_head": "c" * 64}
            return row_writes.save_with_events(work, columns, params, [{**r, "instance_id": instance.id} for r in rows])

        assert save(first, first.lock_version + 5) is False  # a stale lock_version: nothing written
        assert save(first, first.lock_version) is True
        work.execute(row_writes.AUDIT_INSERT, [{**r, "instance_id": second.id} for r in rows])
        work.commit()
        names = ", ".join(c for c in EVENT_COLUMNS if c != "instance_id")
        stored = {i: work.execute(text(f"SELECT {names} FROM audit_event WHERE instance_id = :i AND hash IS NOT NULL "
                                       f"AND prev_hash IN ('{'a' * 64}', '{'b' * 64}') ORDER BY id"), {"i": i}).all()
                  for i in (first.id, second.id)}
        assert len(stored[first.id]) == 2 and stored[first.id] == stored[second.id]
        assert work.execute(text("SELECT pending_events FROM process_instance WHERE id = :i"),
                            {"i": first.id}).scalar() is None  # the trigger leaves nothing behind on the row
        loaded = work.scalars(select(AuditEvent).where(AuditEvent.instance_id == first.id, AuditEvent.hash == "b" * 64))
        assert next(iter(loaded)).data["ghi_chú"] == "dòng 1\ndòng 2"


@pytest.mark.parametrize("question", ["the outcome's count", "the turn's count"])
def test_is_another_report_out_reads_only_the_reports_not_in(db_engine, question):
    """Every acceptance asks whether another report of the year is still out; at the year's end nearly all are in,
    and the answer must not read them all (at 2,800 units an acceptance cost 2.5 ms instead of 1.7 on SQLite): the
    partial index of the reports not in serves the question on both databases."""
    if question == "the outcome's count":
        asked = select(func.count()).select_from(topics._OTHERS_OUT).params(_year=2025, _instance=1)
    else:
        asked = select(topics.cycle_turn()).select_from(HumanTask).where(HumanTask.id == 1)
    # the condition's value written in the statement, as in the index: a bound parameter would hide the match from
    # SQLite's planner and from PostgreSQL's generic plans of prepared statements
    assert "'accepted'" in str(asked.compile(db_engine))
    sql = str(asked.compile(db_engine, compile_kwargs={"literal_binds": True}))
    with db_engine.connect() as connection:
        if TEST_DATABASE_URL:  # an empty table: ask whether the index can serve, not whether it is worth it yet
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in connection.execute(text(f"EXPLAIN {sql}")))
        else:
            plan = " ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_report_not_in" in plan, plan


def test_verify_names_a_chain_whose_latest_events_were_deleted(db_engine):
    with Session(db_engine) as session:
        people = open_small_cycle(session, ["STC"])
        tasks.complete_task(session, open_task(session, "draft_report", "STC").id, people["stc_officer"],
                            report_payload(), at(DAY))
        report = session.scalar(select(ProcessInstance.id).where(ProcessInstance.unit_code == "STC"))
        ids = list(session.scalars(select(AuditEvent.id).where(AuditEvent.instance_id == report)
                                   .order_by(AuditEvent.id)))
        assert audit.verify(session)[1] == []
        session.execute(delete(AuditEvent).where(AuditEvent.id == ids[-1]))
        session.commit()
        checked, breaks = audit.verify(session)
    assert [(b.chain, b.event_id, b.problem) for b in breaks] == [(report, ids[-2], "truncated")]
    assert f"ends at event {ids[-2]}" in breaks[0].describe()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="concurrent writers need PostgreSQL")
def test_notes_racing_a_completion_never_fork_the_chain(shared_engine):
    """Four actions append to an instance's chain while its task is completed: all are kept, in one chain."""
    with Session(shared_engine, expire_on_commit=False) as setup:
        people = open_small_cycle(setup, ["STC"])
        task_id = open_task(setup, "draft_report", "STC").id
        officer_id = people["stc_officer"].id
    start = threading.Barrier(5)
    errors: list[BaseException] = []

    def note(number: int) -> None:
        with Session(shared_engine) as own:
            instance = own.get(HumanTask, task_id).instance
            ctx = runtime.Context.create(own, None)
            runtime.audit(ctx, "note", f"ghi chú {number}", instance)
            start.wait()
            runtime.commit(ctx)

    def complete() -> None:
        with Session(shared_engine) as own:
            user = own.get(User, officer_id)
            tasks.get_task(own, task_id)
            start.wait()
            try:
                tasks.complete_task(own, task_id, user, report_payload(), at(DAY))
            except Conflict as error:  # pragma: no cover - the assertion below says so
                errors.append(error)

    threads = [threading.Thread(target=note, args=(n,)) for n in range(4)] + [threading.Thread(target=complete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(shared_engine) as check:
        instance_id = check.get(HumanTask, task_id).instance_id
        events = list(check.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)))
        assert sum(e.kind == "note" for e in events) == 4 and sum(e.kind == "task_completed" for e in events) == 1
        assert len({e.prev_hash for e in events}) == len(events)
        head, last = _head_of(check, instance_id)
        assert head == last and audit.verify(check)[1] == []


def test_cancelling_an_instance_writes_its_row_once_and_withdraws_its_task(db_engine):
    """The decision cancels every report still open: its status, state and chain head go in one UPDATE each."""
    with Session(db_engine, expire_on_commit=False) as setup:
        open_small_cycle(setup, ["STC"])
        task_id = open_task(setup, "draft_report", "STC").id
    with Session(db_engine) as work, statements(db_engine) as sent:
        instance = tasks.get_task(work, task_id).instance
        ctx = runtime.Context.create(work, None)
        runtime.cancel(ctx, instance, "thử")
        runtime.commit(ctx)
    assert sum("UPDATE process_instance" in s for s in sent) == 1
    with Session(db_engine) as check:
        instance = check.get(HumanTask, task_id).instance
        assert instance.status == "cancelled" and instance.lock_version == 3  # inserted, started, cancelled
        assert check.get(HumanTask, task_id).state == TaskState.CANCELLED
        kinds = list(check.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id == instance.id)
                                   .order_by(AuditEvent.id)))
        assert kinds[-2:] == ["instance_cancelled", "task_cancelled"]
        head, last = _head_of(check, instance.id)
        assert head == last and audit.verify(check)[1] == []


def _cycle_row_locked_after_the_task_lookup(engine, action) -> bool:
    """Run ACTION; right after its task lookup, ask from another connection whether the cycle row is locked."""
    seen: list[bool] = []

    def probe(_conn, _cursor, statement, *_args) -> None:
        if not seen and statement.lstrip().startswith("SELECT human_task.id"):
            with engine.connect() as other:
                seen.append(other.execute(text("SELECT id FROM cycle FOR UPDATE SKIP LOCKED")).first() is None)
                other.rollback()

    event.listen(engine, "after_cursor_execute", probe)
    try:
        action()
    finally:
        event.remove(engine, "after_cursor_execute", probe)
    assert seen, "the completion never looked its task up"
    return seen[0]


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="concurrent writers need PostgreSQL")
@pytest.mark.parametrize("near_the_end", [True, False])
def test_the_year_s_last_acceptances_take_turns_on_the_cycle_row(db_engine, monkeypatch, near_the_end):
    """The review of one of the year's last reports (PostgreSQL) holds the cycle row from its task lookup, the
    completion's first statement, to its commit, and sends no statement more for it; one with many reports still out
    takes no turn. SQLite's one writer orders acceptances already."""
    if not near_the_end:
        monkeypatch.setattr(topics, "TAKE_TURNS_WITHIN", 0)  # SNV is out: as if it were one of many
    with Session(db_engine, expire_on_commit=False) as setup:
        people = open_small_cycle(setup, ["STC", "SNV"])
    for step, who, data in (("draft_report", "officer", report_payload()),
                            ("approve_report", "head", {"head_decision": "approve"})):
        with Session(db_engine) as own:
            tasks.complete_task(own, open_task(own, step, "STC").id, own.get(User, people[f"stc_{who}"].id), data,
                                at(DAY))
    with Session(db_engine) as own:
        review = open_task(own, "review_report", "STC").id
        runtime.version_files(own, own.get(HumanTask, review).instance.version_id)  # cached, as in a running server
    with Session(db_engine) as own, statements(db_engine) as sent:
        dic = own.get(User, people["dic"].id)
        sent.clear()
        locked = _cycle_row_locked_after_the_task_lookup(db_engine, lambda: tasks.complete_task(
            own, review, dic, {"dic_decision": "accept"}, at(DAY)))
    assert locked is near_the_end
    # the task with its instance, the outcome (and the count of the others out), the task row, the instance and its
    # events (the probe's own statement, also on the list, left out)
    assert len([s for s in sent if not s.startswith("SELECT id FROM cycle FOR UPDATE")]) == 4
    with Session(db_engine) as check:  # SNV is still out: reporting goes on
        assert check.scalar(select(Cycle.status)) == CycleStatus.REPORTING
        assert check.get(HumanTask, review).state == TaskState.COMPLETED


def test_the_last_two_acceptances_at_once_still_move_the_year_on(shared_engine):
    """Two units' last acceptances committed together: one of them sees the other's and wakes the cycle (without
    the turn on the cycle row each saw the other's report as not in, and reporting never closed: bench/load.py)."""
    with Session(shared_engine, expire_on_commit=False) as setup:
        people = open_small_cycle(setup, ["STC", "SNV"])
    for step, who, data in (("draft_report", "officer", report_payload()),
                            ("approve_report", "head", {"head_decision": "approve"})):
        for code in ("STC", "SNV"):
            with Session(shared_engine) as own:
                task = open_task(own, step, code)
                tasks.complete_task(own, task.id, own.get(User, people[f"{code.lower()}_{who}"].id), data, at(DAY))
    with Session(shared_engine) as lookup:
        reviews = [open_task(lookup, "review_report", code).id for code in ("STC", "SNV")]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def accept(task_id: int) -> None:
        with Session(shared_engine) as own:
            user = own.get(User, people["dic"].id)
            tasks.get_task(own, task_id)
            start.wait()
            try:
                tasks.complete_task(own, task_id, user, {"dic_decision": "accept"}, at(DAY))
            except Conflict as error:  # pragma: no cover - the assertion below says so
                errors.append(error)

    threads = [threading.Thread(target=accept, args=(task_id,)) for task_id in reviews]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(shared_engine) as check:
        assert check.scalar(select(Cycle.status)) == CycleStatus.EVALUATING
        assert open_task(check, "consolidate").year == 2025
