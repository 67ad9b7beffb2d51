"""Deadlines: the calendar's per-year overrides (the Government's annual notice) and supervisors' deadline changes.

Both are audited. A calendar change applies to deadline arithmetic from then on (new tasks, lateness, reminders);
the due dates already stored on open tasks stay as they were announced; a supervisor moves one with a reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import calendar, notifications, permissions, runtime
from workflows.calendar import WorkingCalendar
from workflows.errors import Conflict, InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import CalendarDay, HumanTask, TaskState, User
from workflows.tasks import get_task
from workflows.worker import Directory

OVERRIDE_KINDS = {  # Texts, so that the audit message naming the kind can be translated
    "holiday": Text("Ngày lễ, nghỉ bổ sung"),
    "compensatory": Text("Nghỉ bù"),
    "swap_off": Text("Nghỉ do hoán đổi ngày làm việc"),
    "swap_workday": Text("Làm việc bù (hoán đổi)"),
}


# --- the calendar --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    """A day of a year that is not an ordinary weekday or weekend: a day off, or a Saturday/Sunday worked."""

    day: date
    kind: str  # "statutory" (the Labour Code, via the holidays package) or an override kind
    name: str
    source: str | None
    is_override: bool
    working: bool  # whether the day counts as a working day, all things considered


@dataclass(frozen=True)
class YearCalendar:
    year: int
    entries: list[CalendarEntry]
    working_days: int
    confirmed: bool  # the year's notice has been entered (at least one override recorded for the year)


def year_calendar(session: Session, year: int) -> YearCalendar:
    """YEAR's days off and swapped working days: the statutory holidays and the overrides, with their sources."""
    work = WorkingCalendar.load(session)  # not the cached one: an administrator is looking at what they changed
    overrides = {
        row.day: row for row in session.scalars(
            select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))
    }
    entries = [
        CalendarEntry(row.day, row.kind, row.name_vi, row.source_doc, True, work.is_working_day(row.day))
        for row in overrides.values()
    ]
    statutory = holidays.country_holidays("VN", years=year, language="vi")
    entries += [
        CalendarEntry(day, "statutory", name, "Bộ luật Lao động 2019, Điều 112", False, work.is_working_day(day))
        for day, name in statutory.items() if day not in overrides
    ]
    first = date(year, 1, 1)
    days_in_year = (date(year + 1, 1, 1) - first).days
    return YearCalendar(
        year=year,
        entries=sorted(entries, key=lambda e: e.day),
        working_days=sum(1 for n in range(days_in_year) if work.is_working_day(first + timedelta(days=n))),
        confirmed=bool(overrides),
    )


@runtime.atomic
def add_override(session: Session, day: Any, kind: str, name_vi: str, source_doc: str, actor: User,
                 now: datetime | None = None) -> CalendarDay:
    """Record one day of the Government's annual notice: an extra holiday, a day off in lieu, or a swap."""
    _require(permissions.may_edit_calendar(actor), Text("Chỉ quản trị hệ thống được sửa lịch ngày làm việc."))
    name_vi, source_doc = (name_vi or "").strip(), (source_doc or "").strip()
    errors: dict[str, str] = {}
    if not isinstance(day, date) or isinstance(day, datetime):
        errors["day"] = Text("Nhập ngày dạng dd/mm/yyyy.")
    if kind not in OVERRIDE_KINDS:
        errors["kind"] = Text("Chọn loại ngày.")
    if not name_vi:
        errors["name_vi"] = Text("Nhập tên ngày (ví dụ: Nghỉ bù Quốc khánh).")
    elif len(name_vi) > 200:
        errors["name_vi"] = Text("Tên ngày tối đa 200 ký tự.")
    if not source_doc:
        errors["source_doc"] = Text("Nhập văn bản làm căn cứ (ví dụ: Thông báo số …/TB-BLĐTBXH).")
    elif len(source_doc) > 200:
        errors["source_doc"] = Text("Văn bản căn cứ tối đa 200 ký tự.")
    if "day" not in errors and "kind" not in errors:
        if session.get(CalendarDay, day) is not None:
            errors["day"] = Text("Ngày này đã có điều chỉnh; xóa điều chỉnh cũ trước khi nhập lại.")
        else:
            ordinary = WorkingCalendar.load(session).is_working_day(day)
            if kind == "swap_workday" and ordinary:
                errors["day"] = Text(
                    "Ngày này vốn là ngày làm việc; chỉ thứ Bảy, Chủ nhật hoặc ngày nghỉ mới làm bù được.")
            elif kind != "swap_workday" and not ordinary:
                errors["day"] = Text("Ngày này vốn đã là ngày nghỉ.")
    if errors:
        raise InvalidInput(Text("Chưa ghi nhận được ngày điều chỉnh."), errors)
    ctx = runtime.Context.create(session, actor, now)
    row = CalendarDay(day=day, kind=kind, name_vi=name_vi, source_doc=source_doc)
    session.add(row)
    runtime.audit(ctx, "calendar_day_added", Text("Lịch làm việc: {kind} ngày {day} ({name})",
                                                  kind=OVERRIDE_KINDS[kind], day=f"{day:%d/%m/%Y}", name=name_vi),
                  data={"day": day, "kind": kind, "name_vi": name_vi, "source_doc": source_doc})
    runtime.commit(ctx)
    calendar.forget_cached(session)  # this process applies it at once; others within WorkingCalendar.cached's max age
    return row


@runtime.atomic
def remove_override(session: Session, day: date, actor: User, now: datetime | None = None) -> None:
    """Remove the override of DAY; the day goes back to what the weekend and the Labour Code make it."""
    _require(permissions.may_edit_calendar(actor), Text("Chỉ quản trị hệ thống được sửa lịch ngày làm việc."))
    row = session.get(CalendarDay, day)
    if row is None:
        raise NotFound(Text("Ngày {day} không có điều chỉnh nào.", day=f"{day:%d/%m/%Y}"))
    ctx = runtime.Context.create(session, actor, now)
    runtime.audit(ctx, "calendar_day_removed", Text("Lịch làm việc: bỏ điều chỉnh ngày {day} ({name})",
                                                    day=f"{day:%d/%m/%Y}", name=row.name_vi),
                  data={"day": day, "kind": row.kind, "name_vi": row.name_vi, "source_doc": row.source_doc})
    session.delete(row)
    runtime.commit(ctx)
    calendar.forget_cached(session)


# --- a supervisor moves a deadline -----------------------------------------------------------------------------------


@runtime.atomic
def change_due_date(session: Session, task_id: int, due_on: Any, reason: str, actor: User,
                    now: datetime | None = None) -> HumanTask:
    """Move the deadline of an open task; supervisors only, with a reason, audited, the task's people told.

    A date that falls on a day off moves to the next working day. Reminders follow the new date: notifications
    are keyed by deadline, so the reminders and escalations of the new date are new ones.
    """
    _require(permissions.may_change_deadlines(actor), Text("Chỉ người giám sát được điều chỉnh hạn xử lý."))
    ctx = runtime.Context.create(session, actor, now)
    task = get_task(session, task_id)
    if task.state != TaskState.OPEN:
        raise Conflict(Text("Công việc '{step}' đã kết thúc; không điều chỉnh hạn được nữa.", step=task.step_name))
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = Text("Nhập lý do điều chỉnh hạn.")
    elif len(reason) > 2000:
        errors["reason"] = Text("Lý do tối đa 2000 ký tự.")
    new_due = None
    if not isinstance(due_on, date) or isinstance(due_on, datetime):
        errors["due_on"] = Text("Nhập hạn mới dạng dd/mm/yyyy.")
    elif due_on < ctx.today:
        errors["due_on"] = Text("Hạn mới không được trước ngày hôm nay.")
    else:
        new_due = ctx.calendar.roll_forward(due_on)
        if new_due == task.due_on:
            errors["due_on"] = Text("Hạn mới trùng với hạn hiện tại.")
    if errors or new_due is None:
        raise InvalidInput(Text("Chưa điều chỉnh được hạn xử lý."), errors)
    old_due = task.due_on
    source = f"điều chỉnh bởi {actor.full_name} ngày {ctx.today:%d/%m/%Y}"
    runtime.write_row(ctx, task, {"due_on": new_due, "due_source": source[:200]}, only_if_open=True)
    old_text = f"{old_due:%d/%m/%Y}" if old_due else Text("không đặt hạn")
    runtime.audit(ctx, "due_date_changed",
                  Text("Điều chỉnh hạn '{step}' từ {old} sang {new}: {reason}", step=task.step_name, old=old_text,
                       new=f"{new_due:%d/%m/%Y}", reason=reason),
                  task.instance, task,
                  data={"from": old_due, "to": new_due, "requested": due_on, "reason": reason})
    _tell_holders(ctx, task, old_text, reason)
    runtime.commit(ctx)
    return task


def _tell_holders(ctx: runtime.Context, task: HumanTask, old_text: str, reason: str) -> None:
    assert task.due_on is not None
    people = Directory.load(ctx.session, ctx.today).actors(task)
    notifications.create(ctx.session, [
        {"user_id": p.id, "task_id": task.id, "kind": "due_changed", "due_on": task.due_on,
         "title": f"Hạn xử lý được điều chỉnh: {task.step_name}"[:300],
         "body": f"Hạn mới: 23:59 ngày {task.due_on:%d/%m/%Y} (trước đây: {old_text}). Lý do: {reason}",
         "link": notifications.task_link(task.id), "created_at": ctx.now}
        for p in people
    ])


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)
