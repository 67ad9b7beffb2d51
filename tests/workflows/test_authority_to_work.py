"""One set of checks before acting on a task (permissions.authority_to_work): completing, claiming, drafting the
whole task or one unit of a province-wide task are refused alike, with the same words."""
from __future__ import annotations

from datetime import date

import pytest

from tests.factories import at, open_small_cycle, open_task, submit_report
from workflows import permissions, tasks, unit_drafts, users
from workflows.errors import Conflict, NotAllowed
from workflows.messages import Text
from workflows.models import Role

DAY = at(date(2026, 1, 5))


def _consolidation(session):
    people = open_small_cycle(session, ["STC"])
    people["dic2"] = users.create_user(session, "dic2", "mật-khẩu-dài", "Chuyên viên hai", [Role.DIC_OFFICER],
                                       "STTTT")
    submit_report(session, people, "STC")
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    return people, open_task(session, "consolidate")


def _refusal(action) -> tuple[type, str]:
    with pytest.raises((NotAllowed, Conflict)) as error:
        action()
    message = error.value.message
    return type(error.value), message.template if isinstance(message, Text) else str(message)


def test_held_by_another_no_authority_and_already_done_read_the_same_for_every_action(session):
    people, task = _consolidation(session)
    tasks.save_draft(session, task.id, people["dic"], {"confirmed": False})  # the draft claims the task
    unit = {"STC": {"ict_rank": 1, "ict_units": 1}}
    held = {_refusal(lambda: tasks.complete_task(session, task.id, people["dic2"], {"units": unit}, DAY)),
            _refusal(lambda: tasks.save_draft(session, task.id, people["dic2"], {})),
            _refusal(lambda: tasks.claim(session, task.id, people["dic2"])),
            _refusal(lambda: unit_drafts.save_unit_drafts(session, task.id, people["dic2"], unit))}
    assert held == {(NotAllowed, "Công việc đã được {name} nhận xử lý.")}
    outsider = {_refusal(lambda: tasks.complete_task(session, task.id, people["stc_officer"], {}, DAY)),
                _refusal(lambda: unit_drafts.save_unit_drafts(session, task.id, people["stc_officer"], unit))}
    assert outsider == {(NotAllowed, "Bạn không có quyền xử lý công việc '{step}'.")}

    unit_drafts.save_unit_drafts(session, task.id, people["dic"], unit)
    tasks.complete_task(session, task.id, people["dic"], {"confirmed": True}, DAY)
    kind, sent = _refusal(lambda: tasks.complete_task(session, task.id, people["dic"], {"confirmed": True}, DAY))
    assert (kind, sent) == (Conflict, "Công việc '{step}' đã được {who} xử lý{when}; không thể gửi lại.")
    drafted = {_refusal(lambda: unit_drafts.save_unit_drafts(session, task.id, people["dic"], unit)),
               _refusal(lambda: tasks.save_draft(session, task.id, people["dic"], {}))}
    assert drafted == {(Conflict, "Công việc '{step}' đã được {who} xử lý{when}; không thể lưu nháp.")}
    with pytest.raises(Conflict) as error:
        permissions.authority_to_work(session, people["dic"], task, DAY.date(), drafting=True)
    assert str(error.value.message).startswith(f"Công việc '{task.step_name}' đã được ")
    assert "lúc " in str(error.value.message)  # who and when it was completed


def test_the_holder_and_the_group_before_anyone_holds_it_may_work(session):
    people, task = _consolidation(session)
    assert permissions.authority_to_work(session, people["dic2"], task, DAY.date()) is not None
    tasks.claim(session, task.id, people["dic"])
    assert permissions.authority_to_work(session, people["dic"], task, DAY.date(), drafting=True) is not None
