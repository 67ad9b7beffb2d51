"""A return tells whoever can act on the re-opened step: which step, who returned it, and the reason in full."""
from __future__ import annotations

from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, submit_report
from sqlalchemy import select

from workflows import notifications, tasks
from workflows.models import Notification
from workflows.vocabulary import notification_kind_label

DAY = date(2025, 11, 10)
LONG_REASON = "Thiếu minh chứng Mục 2; " + "bổ sung quyết định phê duyệt kinh phí và biên bản nghiệm thu. " * 8


@pytest.fixture
def people(session):
    return open_small_cycle(session, ["STC", "SNV", "STTTT"])


def test_the_dic_returning_a_report_tells_the_agency_officers_with_the_step_the_reviewer_and_the_full_reason(
        session, people):
    submit_report(session, people, "STC")
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "return", "dic_comment": LONG_REASON}, at(DAY))
    reopened = open_task(session, "draft_report", "STC")
    notes = session.scalars(select(Notification).where(Notification.kind == "returned")).all()
    assert {n.user_id for n in notes} == {people["stc_officer"].id}  # the agency's officer, nobody elsewhere
    note = notes[0]
    assert note.task_id == reopened.id and note.link == notifications.task_link(reopened.id)
    assert reopened.step_name in note.title and "trả lại" in note.title
    assert people["dic"].full_name in note.body
    assert note.body.endswith(LONG_REASON.strip()) or LONG_REASON in note.body
    assert notification_kind_label("returned") == "Công việc bị trả lại"


def test_approving_tells_nobody_of_a_return(session, people):
    submit_report(session, people, "STC")
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "accept"}, at(DAY))
    assert session.scalars(select(Notification).where(Notification.kind == "returned")).all() == []
