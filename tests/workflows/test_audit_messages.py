"""Audit events keep their message's template and parameters (message_text) next to the Vietnamese text, so the
history can rebuild the very Text that was written and a page can say it in its own language."""
from __future__ import annotations

from datetime import UTC, date

from factories import at, open_small_cycle, open_task, report_payload, submit_report
from sqlalchemy import event, select

from workflows import assignment, deadlines, history, runtime, tasks, users, worker
from workflows.messages import Text
from workflows.models import AuditEvent, ProcessInstance, Role

DAY = date(2025, 11, 10)
DRAFT = "Lập báo cáo và tự đánh giá"


def test_a_reassignment_is_stored_as_its_template_and_rebuilt_as_the_same_text(session):
    people = open_small_cycle(session, ["STC"])
    users.create_user(session, "stc_officer2", "mat-khau-dai-1", "Đỗ Thị Bình", [Role.AGENCY_OFFICER], "STC")
    task = open_task(session, "draft_report", "STC")
    reason = "Chị An nghỉ phép {2 tuần}"  # braces as typed
    assignment.reassign(session, task.id, people["stc_head"], "stc_officer2", reason, now=at(DAY))

    row = session.scalar(select(AuditEvent).where(AuditEvent.kind == "task_reassigned"))
    expected = Text("{name} giao lại '{step}' từ {previous} cho {holder}: {reason}", name="Thủ trưởng STC", step=DRAFT,
                    previous=Text("nhóm"), holder="Đỗ Thị Bình", reason=reason)
    assert row.message == f"Thủ trưởng STC giao lại '{DRAFT}' từ nhóm cho Đỗ Thị Bình: {reason}" == expected
    rebuilt = Text.from_json(row.message_text)
    assert (rebuilt, rebuilt.template, rebuilt.params) == (expected, expected.template, expected.params)
    assert isinstance(rebuilt.params["previous"], Text) and rebuilt.params["previous"].template == "nhóm"

    entry = next(e for e in history.timeline(session, task.instance_id, people["stc_head"])
                 if e.kind == "task_reassigned")
    assert isinstance(entry.message, Text) and entry.message.template == expected.template
    assert entry.message == row.message


def test_every_event_of_a_year_rebuilds_to_the_message_stored_with_it(session):
    people = open_small_cycle(session, ["STC", "TTT"])
    report = open_task(session, "draft_report", "STC")
    tasks.save_draft(session, report.id, people["stc_officer"], {"it_staff_count": 2})
    tasks.claim(session, report.id, people["stc_officer"])
    tasks.unclaim(session, report.id, people["stc_officer"])
    deadlines.change_due_date(session, report.id, date(2025, 12, 22), "Chờ số liệu quý IV", people["supervisor"],
                              at(DAY))
    tasks.complete_task(session, report.id, people["stc_officer"], report_payload(), at(DAY))
    tasks.complete_task(session, open_task(session, "approve_report", "STC").id, people["stc_deputy"],
                        {"head_decision": "approve"}, at(DAY, 10))
    history.add_comment(session, report.instance_id, people["dic"], "Đã nhận, đang thẩm định.", now=at(DAY, 11))
    submit_report(session, people, "TTT")
    worker.run_pass(session, at(date(2025, 11, 28)), {})  # DIC's reviews are late: overdue, escalated

    events = list(session.scalars(select(AuditEvent)))
    assert {"instance_started", "external_task", "task_created", "draft_saved", "task_claimed", "task_unclaimed",
            "due_date_changed", "task_completed", "comment_added", "task_overdue", "task_escalated"} <= {
        e.kind for e in events}
    for e in events:
        assert e.message_text is not None, (e.kind, e.message)
        rebuilt = Text.from_json(e.message_text)
        assert rebuilt == e.message and rebuilt.template == e.message_text["template"], e.kind
    started = next(e for e in events if e.kind == "instance_started")
    assert started.message_text["params"]["version"] == 1  # a number stays a number
    moved = next(e for e in events if e.kind == "due_date_changed")
    assert moved.message == f"Điều chỉnh hạn '{DRAFT}' từ 15/12/2025 sang 22/12/2025: Chờ số liệu quý IV"
    assert moved.message_text["params"] == {"step": DRAFT, "old": "15/12/2025", "new": "22/12/2025",
                                            "reason": "Chờ số liệu quý IV"}


def test_texts_and_plain_strings_go_in_one_insert_and_only_texts_keep_a_template(session, db_engine):
    people = open_small_cycle(session, ["STC"])
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.unit_code == "STC"))
    ctx = runtime.Context.create(session, people["admin"], at(DAY).astimezone(UTC))
    runtime.audit(ctx, "note", "Ghi chú viết tay", instance)
    runtime.audit(ctx, "timer_fired", Text("Đến hạn theo lịch của quy trình"), instance)
    inserts: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            inserts.append(statement)

    event.listen(db_engine, "before_cursor_execute", count)
    try:
        runtime.commit(ctx)
    finally:
        event.remove(db_engine, "before_cursor_execute", count)
    assert len(inserts) == 1

    stored = dict(session.execute(select(AuditEvent.kind, AuditEvent.message_text).where(
        AuditEvent.kind.in_(["note", "timer_fired"]))).all())
    assert stored == {"note": None, "timer_fired": {"template": "Đến hạn theo lịch của quy trình", "params": {}}}
    entries = {e.kind: e.message for e in history.timeline(session, instance.id, people["admin"])}
    assert entries["note"] == "Ghi chú viết tay" and not isinstance(entries["note"], Text)
    assert isinstance(entries["timer_fired"], Text) and entries["timer_fired"] == "Đến hạn theo lịch của quy trình"
