"""Reassigning a task within its role: who may, to whom, the mandatory reason, the audit trail and the notices."""
from __future__ import annotations

from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, report_payload, submit_report
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import assignment, tasks, users
from workflows.errors import Conflict, InvalidInput, NotAllowed
from workflows.models import AuditEvent, HumanTask, Notification, Role, TaskState, User

DAY = date(2025, 11, 10)


@pytest.fixture
def people(session):
    found = open_small_cycle(session, ["STC", "SNV"])
    found["stc_officer2"] = users.create_user(session, "stc_officer2", "mật-khẩu-dài", "Nguyễn Văn An",
                                              [Role.AGENCY_OFFICER], "STC")
    found["dic2"] = users.create_user(session, "dic2", "mật-khẩu-dài", "Chuyên viên hai", [Role.DIC_OFFICER], "STTTT")
    session.commit()
    return found


def test_a_head_hands_an_officers_task_to_another_officer_who_then_completes_it(session, people):
    task = open_task(session, "draft_report", "STC")
    tasks.claim(session, task.id, people["stc_officer"], reason="Tôi phụ trách")

    assignment.reassign(session, task.id, people["stc_head"], "stc_officer2", "Anh Bình nghỉ phép", at(DAY))

    session.refresh(task)
    assert task.assignee_id == people["stc_officer2"].id
    with pytest.raises(NotAllowed):  # the previous holder no longer holds it
        tasks.complete_task(session, task.id, people["stc_officer"], report_payload(), at(DAY))
    tasks.complete_task(session, task.id, people["stc_officer2"], report_payload(), at(DAY))
    session.refresh(task)
    assert task.state == TaskState.COMPLETED and task.completed_by_id == people["stc_officer2"].id


def test_reassignment_is_audited_with_reason_from_and_to(session, people):
    task = open_task(session, "draft_report", "STC")
    tasks.claim(session, task.id, people["stc_officer"])
    assignment.reassign(session, task.id, people["stc_head"], "stc_officer2", "  Anh Bình nghỉ phép ", at(DAY))
    event = session.scalar(select(AuditEvent).where(AuditEvent.task_id == task.id,
                                                    AuditEvent.kind == "task_reassigned"))
    assert event is not None
    assert event.actor_id == people["stc_head"].id
    assert event.data == {"reason": "Anh Bình nghỉ phép", "from": "stc_officer", "to": "stc_officer2"}
    assert "Anh Bình nghỉ phép" in event.message and "Nguyễn Văn An" in event.message


def test_new_and_previous_holder_are_told(session, people):
    task = open_task(session, "draft_report", "STC")
    tasks.claim(session, task.id, people["stc_officer"])
    assignment.reassign(session, task.id, people["stc_head"], "stc_officer2", "Cân đối công việc", at(DAY))
    told = {n.user_id: n for n in session.scalars(select(Notification).where(Notification.task_id == task.id))}
    assert told[people["stc_officer2"].id].kind == "reassigned"
    assert "Cân đối công việc" in told[people["stc_officer2"].id].body
    assert told[people["stc_officer"].id].kind == "reassigned_away"
    assert "Nguyễn Văn An" in told[people["stc_officer"].id].body


def test_why_tells_the_new_holder_who_handed_it_over_and_why(session, people):
    task = open_task(session, "draft_report", "STC")
    assignment.reassign(session, task.id, people["stc_head"], "stc_officer2", "Anh Bình nghỉ phép", at(DAY))
    text = tasks.task_page(session, task.id, people["stc_officer2"], DAY).why
    assert "Thủ trưởng STC đã giao lại việc này cho bạn ngày 10/11/2025: Anh Bình nghỉ phép" in text


def test_the_task_moves_to_the_new_holders_inbox(session, people):
    task = open_task(session, "draft_report", "STC")
    assert [t.id for t in tasks.inbox(session, people["stc_officer"], DAY)] == [task.id]
    assignment.reassign(session, task.id, people["stc_head"], "stc_officer2", "Giao cho An", at(DAY))
    assert tasks.inbox(session, people["stc_officer"], DAY) == []
    assert [t.id for t in tasks.inbox(session, people["stc_officer2"], DAY)] == [task.id]


@pytest.mark.parametrize("actor", ["stc_officer", "snv_head", "stc_deputy", "dic", "home_affairs", "committee"])
def test_only_leaders_of_the_role_may_reassign_and_nothing_changes_otherwise(session, people, actor):
    task = open_task(session, "draft_report", "STC")
    with pytest.raises(NotAllowed):
        assignment.reassign(session, task.id, people[actor], "stc_officer2", "Lý do", at(DAY))
    session.refresh(task)
    assert task.assignee_id is None
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.kind == "task_reassigned")) is None


def test_a_supervisor_may_reassign_any_step(session, people):
    submit_report(session, people, "STC")
    review = open_task(session, "review_report", "STC")
    assignment.reassign(session, review.id, people["supervisor"], "dic2", "Quá hạn, chuyển người khác", at(DAY))
    session.refresh(review)
    assert review.assignee_id == people["dic2"].id


def test_a_dic_leader_reassigns_dic_work_but_not_an_agencys(session, people):
    submit_report(session, people, "STC")
    review = open_task(session, "review_report", "STC")
    assignment.reassign(session, review.id, people["dic_leader"], "dic2", "Chia việc", at(DAY))
    draft = open_task(session, "draft_report", "SNV")
    with pytest.raises(NotAllowed):
        assignment.reassign(session, draft.id, people["dic_leader"], "snv_officer", "Chia việc", at(DAY))


@pytest.mark.parametrize(("assignee", "field_text"), [
    ("", "Chọn người nhận"),
    ("nobody", "Không có người dùng"),
    ("snv_officer", "không thuộc nhóm"),  # same role, another agency
    ("stc_head", "không thuộc nhóm"),  # same agency, another role
])
def test_the_new_holder_must_be_able_to_act_on_the_task(session, people, assignee, field_text):
    task = open_task(session, "draft_report", "STC")
    with pytest.raises(InvalidInput) as raised:
        assignment.reassign(session, task.id, people["stc_head"], assignee, "Lý do", at(DAY))
    assert field_text in raised.value.fields["assignee"]
    session.refresh(task)
    assert task.assignee_id is None


def test_an_inactive_person_cannot_receive_a_task(session, people):
    people["stc_officer2"].is_active = False
    session.commit()
    task = open_task(session, "draft_report", "STC")
    with pytest.raises(InvalidInput) as raised:
        assignment.reassign(session, task.id, people["stc_head"], "stc_officer2", "Lý do", at(DAY))
    assert "assignee" in raised.value.fields
    assert [c.username for c in assignment.candidates(session, task, DAY)] == ["stc_officer"]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_reason_is_required_and_bounded(session, people, reason):
    task = open_task(session, "draft_report", "STC")
    with pytest.raises(InvalidInput) as raised:
        assignment.reassign(session, task.id, people["stc_head"], "stc_officer2", reason, at(DAY))
    assert "reason" in raised.value.fields
    session.refresh(task)
    assert task.assignee_id is None


def test_reassigning_to_the_current_holder_is_refused(session, people):
    task = open_task(session, "draft_report", "STC")
    tasks.claim(session, task.id, people["stc_officer"])
    with pytest.raises(InvalidInput) as raised:
        assignment.reassign(session, task.id, people["stc_head"], "stc_officer", "Lý do", at(DAY))
    assert "đang giữ" in raised.value.fields["assignee"]


def test_a_completed_task_cannot_be_reassigned(session, people):
    task = open_task(session, "draft_report", "STC")
    tasks.complete_task(session, task.id, people["stc_officer"], report_payload(), at(DAY))
    with pytest.raises(Conflict):
        assignment.reassign(session, task.id, people["supervisor"], "stc_officer2", "Lý do", at(DAY))


def test_candidates_are_the_people_who_may_act_in_vietnamese_order_holder_excluded(session, people):
    # Đ sorts after D and before H in Vietnamese; by code point it would come after every Latin letter.
    users.create_user(session, "stc_officer3", "mật-khẩu-dài", "Đỗ Thị Bình", [Role.AGENCY_OFFICER], "STC")
    users.create_user(session, "stc_officer4", "mật-khẩu-dài", "Hà Văn Cường", [Role.AGENCY_OFFICER], "STC")
    session.commit()
    task = open_task(session, "draft_report", "STC")
    names = [c.full_name for c in assignment.candidates(session, task, DAY)]
    assert names == ["Cán bộ chuyên trách CNTT STC", "Đỗ Thị Bình", "Hà Văn Cường", "Nguyễn Văn An"]
    tasks.claim(session, task.id, people["stc_officer"])
    session.refresh(task)
    assert [c.username for c in assignment.candidates(session, task, DAY)] == [
        "stc_officer3", "stc_officer4", "stc_officer2"]


def test_a_heads_step_may_go_to_the_deputy_assigned_for_it(session, people):
    draft = open_task(session, "draft_report", "STC")
    tasks.complete_task(session, draft.id, people["stc_officer"], report_payload(), at(DAY))
    approve = open_task(session, "approve_report", "STC")
    found = {c.username: c.rule for c in assignment.candidates(session, approve, DAY)}
    assert set(found) == {"stc_head", "stc_deputy"}
    assert "01/QĐ-STC" in found["stc_deputy"]
    assignment.reassign(session, approve.id, people["supervisor"], "stc_deputy", "Thủ trưởng đi công tác", at(DAY))
    tasks.complete_task(session, approve.id, people["stc_deputy"], {"head_decision": "approve"}, at(DAY))
    session.refresh(approve)
    assert approve.acting_for_id == people["stc_head"].id


def test_a_leader_may_open_the_task_page_of_their_teams_task(session, people):
    task = open_task(session, "draft_report", "STC")
    page = tasks.task_page(session, task.id, people["stc_head"], DAY)
    assert page.may_reassign and not page.may_act
    with pytest.raises(NotAllowed):
        tasks.task_page(session, task.id, people["snv_head"], DAY)


def test_reassignment_loses_to_a_completion_it_did_not_see(session, db_engine, people):
    task = open_task(session, "draft_report", "STC")
    assert task.state == TaskState.OPEN  # loaded here, before the other session completes it
    with Session(db_engine, expire_on_commit=False) as other:
        officer = other.get(User, people["stc_officer"].id)
        tasks.complete_task(other, task.id, officer, report_payload(), at(DAY))
    with pytest.raises(Conflict):
        assignment.reassign(session, task.id, people["supervisor"], "stc_officer2", "Lý do", at(DAY))
    session.expire_all()
    assert session.get(HumanTask, task.id).assignee_id is None
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.kind == "task_reassigned")) is None


def test_only_leaders_may_list_whom_a_task_could_go_to(session, people):
    task = open_task(session, "draft_report", "STC")
    found = assignment.candidates_for(session, task.id, people["stc_head"], DAY)
    assert [c.username for c in found] == ["stc_officer", "stc_officer2"]
    with pytest.raises(NotAllowed):
        assignment.candidates_for(session, task.id, people["stc_officer"], DAY)
