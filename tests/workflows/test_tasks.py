"""Completing tasks: permissions, validation that loses nothing, return loops, deputies, the lost-update race."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, report_payload, submit_report
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session
from testdb import TEST_DATABASE_URL, make_engine

from workflows import tasks, users
from workflows.errors import Conflict, InvalidInput, NotAllowed, NotFound
from workflows.models import (
    AuditEvent,
    Base,
    DeputyAssignment,
    HumanTask,
    ProcessInstance,
    Report,
    Role,
    TaskState,
    User,
)

DAY = date(2025, 11, 10)


@pytest.fixture
def people(session):
    return open_small_cycle(session, ["STC", "SNV", "STTTT"])


def test_opening_a_cycle_gives_each_unit_a_drafting_task_due_on_the_report_deadline(session, people):
    drafts = session.scalars(select(HumanTask).where(HumanTask.step_id == "draft_report")).all()
    assert sorted(t.unit_code for t in drafts) == ["SNV", "STC", "STTTT"]
    assert {t.due_on for t in drafts} == {date(2025, 12, 15)}
    assert {t.due_source for t in drafts} == {"camunda:dueDate ${report_due}"}
    assert {t.candidate_group for t in drafts} == {"agency_officer"}
    assert {t.lane for t in drafts} == {"Cán bộ chuyên trách CNTT"}


def test_officer_of_another_agency_may_not_complete_the_report(session, people):
    task = open_task(session, "draft_report", "STC")
    with pytest.raises(NotAllowed):
        tasks.complete_task(session, task.id, people["snv_officer"], report_payload(), at(DAY))
    session.refresh(task)
    assert task.state == TaskState.OPEN


def test_a_head_may_not_do_the_officers_step(session, people):
    task = open_task(session, "draft_report", "STC")
    with pytest.raises(NotAllowed):
        tasks.complete_task(session, task.id, people["stc_head"], report_payload(), at(DAY))


def test_invalid_report_is_refused_naming_each_field_and_nothing_is_saved(session, people):
    task = open_task(session, "draft_report", "STC")
    payload = report_payload()
    payload["edoc_sent_pct"] = 140
    payload["criteria"]["M2.7.1"] = {"status": "na", "note": "", "evidence": []}
    del payload["criteria"]["M4.14.4"]
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, task.id, people["stc_officer"], payload, at(DAY))
    # the drawn field's error and the checklist's errors come back together, so one correction is enough
    assert error.value.fields["edoc_sent_pct"] == "Giá trị lớn nhất là 100."
    assert {"criteria.M2.7.1", "criteria.M4.14.4"} <= set(error.value.fields)
    payload["edoc_sent_pct"] = 90
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, task.id, people["stc_officer"], payload, at(DAY))
    assert set(error.value.fields) == {"criteria.M2.7.1", "criteria.M4.14.4"}
    session.rollback()
    assert session.get(HumanTask, task.id).state == TaskState.OPEN
    assert session.scalar(select(Report).where(Report.unit_code == "STC")).submitted_at is None


def test_a_missing_required_field_is_named(session, people):
    task = open_task(session, "draft_report", "STC")
    payload = report_payload()
    del payload["it_staff_count"]
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, task.id, people["stc_officer"], payload, at(DAY))
    assert error.value.fields == {"it_staff_count": "Trường này là bắt buộc."}


def test_unknown_fields_are_refused(session, people):
    task = open_task(session, "draft_report", "STC")
    tasks.complete_task(session, task.id, people["stc_officer"], report_payload(), at(DAY))
    approve = open_task(session, "approve_report", "STC")
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, approve.id, people["stc_head"], {"head_decision": "approve", "salary": 1}, at(DAY))
    assert "salary" in error.value.fields


def test_return_needs_a_reason_and_the_reason_reaches_the_reopened_task(session, people):
    tasks.complete_task(session, open_task(session, "draft_report", "STC").id, people["stc_officer"],
                        report_payload(), at(DAY))
    approve = open_task(session, "approve_report", "STC")
    with pytest.raises(InvalidInput) as error:
        tasks.complete_task(session, approve.id, people["stc_head"], {"head_decision": "return"}, at(DAY))
    assert error.value.fields == {"head_comment": "Trường này là bắt buộc."}
    tasks.complete_task(session, approve.id, people["stc_head"],
                        {"head_decision": "return", "head_comment": "Thiếu minh chứng Mục 2"}, at(DAY))
    reopened = open_task(session, "draft_report", "STC")
    assert reopened.return_reason == "Thiếu minh chứng Mục 2"


def test_dic_returns_a_report_and_the_agency_resubmits(session, people):
    submit_report(session, people, "STC")
    review = open_task(session, "review_report", "STC")
    tasks.complete_task(session, review.id, people["dic"],
                        {"dic_decision": "return", "dic_comment": "Bổ sung kinh phí"}, at(DAY))
    assert open_task(session, "draft_report", "STC").return_reason == "Bổ sung kinh phí"
    submit_report(session, people, "STC")
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "accept"}, at(DAY))
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.unit_code == "STC"))
    assert instance.status.value == "completed"


def test_deputy_acts_for_the_head_only_inside_the_assignment_period(session, people):
    tasks.complete_task(session, open_task(session, "draft_report", "STC").id, people["stc_officer"],
                        report_payload(), at(DAY))
    approve = open_task(session, "approve_report", "STC")
    assignment = session.scalar(select(DeputyAssignment).where(DeputyAssignment.deputy_id == people["stc_deputy"].id))
    assignment.valid_from, assignment.valid_to = date(2026, 1, 1), date(2026, 12, 31)
    session.commit()
    with pytest.raises(NotAllowed):
        tasks.complete_task(session, approve.id, people["stc_deputy"], {"head_decision": "approve"}, at(DAY))
    assignment.valid_from = date(2025, 1, 1)
    session.commit()
    done = tasks.complete_task(session, approve.id, people["stc_deputy"], {"head_decision": "approve"}, at(DAY))
    assert done.acting_for_id == people["stc_head"].id and done.completed_by_id == people["stc_deputy"].id
    event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "task_completed", AuditEvent.task_id == done.id))
    assert event.acting_for_id == people["stc_head"].id
    assert "thay mặt" in event.message


def test_deputy_may_not_act_outside_the_assigned_scope(session, people):
    task = open_task(session, "draft_report", "STC")
    with pytest.raises(NotAllowed):
        tasks.complete_task(session, task.id, people["stc_deputy"], report_payload(), at(DAY))


def test_completing_a_completed_task_is_a_clear_conflict(session, people):
    task = open_task(session, "draft_report", "STC")
    tasks.complete_task(session, task.id, people["stc_officer"], report_payload(), at(DAY))
    with pytest.raises(Conflict) as error:
        tasks.complete_task(session, task.id, people["stc_officer"], report_payload(), at(DAY))
    assert "đã được" in error.value.message


def test_unknown_task_is_not_found(session, people):
    with pytest.raises(NotFound):
        tasks.complete_task(session, 999_999, people["stc_officer"], {}, at(DAY))


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


def test_two_concurrent_completions_one_wins_the_other_gets_a_conflict(shared_engine):
    """Two people submit the same task at the same moment: exactly one completion, one Conflict, nothing lost."""
    with Session(shared_engine, expire_on_commit=False) as setup:
        people = open_small_cycle(setup, ["STC"])
        tasks.complete_task(setup, open_task(setup, "draft_report", "STC").id, people["stc_officer"],
                            report_payload(), at(DAY))
        task_id = open_task(setup, "approve_report", "STC").id
        head_id, deputy_id = people["stc_head"].id, people["stc_deputy"].id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(user_id: int, decision: dict) -> None:
        with Session(shared_engine, expire_on_commit=False) as own:
            user = own.get(User, user_id)
            tasks.get_task(own, task_id)  # both have loaded the open task before either writes
            own.commit()
            barrier.wait()
            try:
                tasks.complete_task(own, task_id, user, decision, at(DAY))
                result = "ok"
            except Conflict:
                result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=submit, args=(head_id, {"head_decision": "approve"})),
        threading.Thread(target=submit, args=(deputy_id, {"head_decision": "return", "head_comment": "Sửa lại"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with Session(shared_engine) as check:
        completions = check.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.kind == "task_completed", AuditEvent.task_id == task_id))
        open_after = check.scalars(select(HumanTask).where(
            HumanTask.unit_code == "STC", HumanTask.state == TaskState.OPEN)).all()
    assert completions == 1
    assert len(open_after) == 1 and open_after[0].step_id in ("review_report", "draft_report")


def test_claim_keeps_a_group_task_to_one_person_until_unclaimed(session, people):
    task = open_task(session, "draft_report", "STC")
    second = users.create_user(session, "stc_officer2", "mật-khẩu-dài", "Cán bộ 2", [Role.AGENCY_OFFICER], "STC")
    session.commit()
    tasks.claim(session, task.id, people["stc_officer"], reason="Tôi phụ trách")
    with pytest.raises(NotAllowed):
        tasks.complete_task(session, task.id, second, report_payload(), at(DAY))
    assert tasks.inbox(session, second, DAY) == []
    tasks.unclaim(session, task.id, people["stc_officer"])
    assert [t.id for t in tasks.inbox(session, second, DAY)] == [task.id]
    kinds = session.scalars(select(AuditEvent.kind).where(AuditEvent.task_id == task.id)).all()
    assert "task_claimed" in kinds and "task_unclaimed" in kinds


def test_inbox_shows_agency_users_only_their_agency(session, people):
    inbox = tasks.inbox(session, people["stc_officer"], DAY)
    assert [t.unit_code for t in inbox] == ["STC"]
    assert tasks.inbox(session, people["dic"], DAY) == []
