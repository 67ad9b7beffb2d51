"""The annual cycle: opening a year, its progress, its results; and the timer pass that moves waiting cycles on."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows import explanations, runtime, topics
from workflows.calendar import end_of_day
from workflows.definitions import latest_version
from workflows.errors import Conflict, InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import (
    Cycle,
    CycleStatus,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    Report,
    TaskState,
    User,
)
from workflows.permissions import may_open_cycle
from workflows.subjects import persons_evaluated
from workflows.units import units_of_year
from workflows.vocabulary import RATING_LABELS, REWARD_LABELS, SANCTION_LABELS

CYCLE_PROCESS, REPORT_PROCESS, EVALUATION_PROCESS = "annual_cycle", "agency_report", "unit_evaluation"


@runtime.atomic
def open_cycle(
    session: Session,
    year: Any,
    report_due: Any,
    actor: User | None,
    now: datetime | None = None,
    unit_codes: list[str] | None = None,
    confirm_late: bool = False,
) -> Cycle:
    """DIC opens YEAR: start the cycle and one agency report per unit; versions are pinned for the whole year.

    A report deadline already past is refused unless the opener confirms a late opening (CONFIRM_LATE): then no
    deadline timer is armed, and reporting runs until every report is accepted or DIC closes it (close_reporting).
    """
    if actor is not None and not may_open_cycle(actor):
        raise NotAllowed(Text("Chỉ Sở Thông tin và Truyền thông mở kỳ đánh giá."))
    errors = {}
    if not isinstance(year, int) or isinstance(year, bool) or not 2013 <= year <= 2100:
        errors["year"] = Text("Năm đánh giá phải là số từ 2013 đến 2100.")
    if isinstance(report_due, str):
        try:
            report_due = date.fromisoformat(report_due)
        except ValueError:
            errors["report_due"] = Text("Hạn nộp báo cáo phải là ngày (yyyy-mm-dd).")
    elif not isinstance(report_due, date):
        errors["report_due"] = Text("Hạn nộp báo cáo phải là ngày (yyyy-mm-dd).")
    if not errors and not date(year, 1, 1) <= report_due <= date(year + 1, 12, 31):
        errors["report_due"] = Text("Hạn nộp báo cáo phải trong năm {year} hoặc {next_year}.", year=year,
                                     next_year=year + 1)
    if unit_codes is not None and "year" not in errors:
        problem = _unit_codes_problem(session, year, unit_codes)
        if problem:
            errors["unit_codes"] = problem
    ctx = runtime.Context.create(session, actor, now)
    if not errors:
        report_due = ctx.calendar.roll_forward(report_due)
        if end_of_day(report_due) < ctx.now and confirm_late is not True:
            errors["report_due"] = Text(
                "Hạn nộp báo cáo {due} đã qua. Chọn hạn khác, hoặc xác nhận mở kỳ muộn (confirm_late): khi đó kỳ nhận "
                "báo cáo đến khi đủ báo cáo hoặc Sở TT&TT kết thúc nhận báo cáo.", due=report_due.strftime("%d/%m/%Y"))
    if errors:
        raise InvalidInput(Text("Không mở được kỳ đánh giá."), errors)
    if session.scalar(select(Cycle.id).where(Cycle.year == year)):
        raise Conflict(Text("Kỳ đánh giá năm {year} đã được mở.", year=year))
    late = end_of_day(report_due) < ctx.now
    cycle = Cycle(
        year=year,
        report_due=report_due,
        report_version_id=latest_version(session, REPORT_PROCESS).id,
        evaluation_version_id=latest_version(session, EVALUATION_PROCESS).id,
        opened_by_id=actor.id if actor else None,
        opened_at=ctx.now,
    )
    session.add(cycle)
    try:
        session.flush()
    except IntegrityError:  # two people opened the same year at the same moment: the unique year caught it
        session.rollback()
        raise Conflict(Text("Kỳ đánh giá năm {year} đã được mở.", year=year)) from None
    data: dict[str, Any] = {
        "year": year,
        "report_due": report_due.isoformat(),
        # A late opening arms no timer that has already fired: the latest date the form allows stands in for "none",
        # and DIC closes reporting by hand (close_reporting) or the last accepted report does.
        "report_due_at": end_of_day(date(year + 1, 12, 31) if late else report_due).isoformat(),
        "late_opening": late,
    }
    if unit_codes is not None:
        data["unit_codes"] = sorted(unit_codes)
    instance, _ = runtime.start(
        ctx, latest_version(session, CYCLE_PROCESS), data, business_key=str(year), year=year, cycle_id=cycle.id,
        handler=lambda started: topics.dispatcher(ctx, started),
    )
    cycle.instance_id = instance.id
    runtime.commit(ctx)
    return cycle


@runtime.atomic
def close_reporting(session: Session, year: int, actor: User | None, now: datetime | None = None) -> Cycle:
    """DIC ends the reporting period of YEAR by hand: consolidation opens with the reports accepted so far."""
    if actor is not None and not may_open_cycle(actor):
        raise NotAllowed(Text("Chỉ Sở Thông tin và Truyền thông kết thúc nhận báo cáo."))
    cycle = get_cycle(session, year)
    if cycle.status != CycleStatus.REPORTING or cycle.instance_id is None:
        raise Conflict(Text("Kỳ đánh giá năm {year} không còn ở giai đoạn nhận báo cáo.", year=year))
    ctx = runtime.Context.create(session, actor, now)
    instance = session.get(ProcessInstance, cycle.instance_id)
    run = runtime.load(ctx, instance)
    if not run.send_message(topics.REPORTING_CLOSED):
        raise Conflict(Text("Quy trình của kỳ đánh giá năm {year} không chờ lệnh kết thúc nhận báo cáo.", year=year))
    runtime.audit(ctx, "reporting_closed", Text("Sở TT&TT kết thúc nhận báo cáo"), instance)
    run.advance(topics.dispatcher(ctx, instance), ctx.now)
    runtime.save(ctx, instance, run)
    runtime.commit(ctx)
    return cycle


def _unit_codes_problem(session: Session, year: int, unit_codes: Any) -> str | None:
    """Why a pilot's unit list cannot be used, or None: a unit that did not exist that year would get no report."""
    if not isinstance(unit_codes, list | tuple) or not all(isinstance(c, str) for c in unit_codes):
        return Text("Danh sách đơn vị phải là các mã đơn vị.")
    if not unit_codes:
        return Text("Chọn ít nhất một đơn vị.")
    known = {u.code for u in units_of_year(session, year)}
    unknown = sorted(set(unit_codes) - known)
    if unknown:
        return Text("Không có đơn vị mã {codes} trong năm {year}.", codes=", ".join(unknown), year=year)
    return None


def get_cycle(session: Session, year: int) -> Cycle:
    cycle = session.scalar(select(Cycle).where(Cycle.year == year))
    if cycle is None:
        raise NotFound(Text("Chưa mở kỳ đánh giá năm {year}.", year=year))
    return cycle


def fire_due(session: Session, now: datetime | None = None) -> int:
    """One timer pass: fire due BPMN timers, and wake cycles whose reports are all in. Returns instances moved.

    Each instance is its own transaction; on PostgreSQL, SKIP LOCKED lets several workers share the work.
    """
    ctx = runtime.Context.create(session, None, now)
    moved = 0
    query = (
        select(ProcessInstance.id)
        .where(ProcessInstance.status == InstanceStatus.RUNNING, ProcessInstance.next_timer_at <= ctx.now)
        .order_by(ProcessInstance.next_timer_at)
    )
    for instance_id in list(session.scalars(query)):
        instance = session.scalar(
            select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update(skip_locked=True)
        )
        if instance is None or instance.next_timer_at is None or _aware(instance.next_timer_at) > ctx.now:
            session.rollback()
            continue
        run = runtime.load(ctx, instance)
        runtime.audit(ctx, "timer_fired", Text("Đến hạn theo lịch của quy trình"), instance)
        run.advance(topics.dispatcher(ctx, instance), ctx.now)
        runtime.save(ctx, instance, run)
        runtime.commit(ctx)
        moved += 1
    for cycle_id in list(session.scalars(select(Cycle.id).where(Cycle.status == CycleStatus.REPORTING))):
        if topics.notify_cycle_if_all_accepted(ctx, cycle_id):
            runtime.commit(ctx)
            moved += 1
    return moved


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.

    return value if value.tzinfo else value.replace(tzinfo=UTC)


REPORT_STAGES = {"draft_report": "drafting", "approve_report": "awaiting_head", "review_report": "awaiting_dic"}


def progress(session: Session, year: int) -> list[dict[str, Any]]:
    """Each agency's report: where it stands, the step it waits at, since when, for which role, how often returned."""
    cycle = get_cycle(session, year)
    open_tasks = {
        t.unit_code: t
        for t in session.scalars(
            select(HumanTask).where(HumanTask.year == year, HumanTask.state == TaskState.OPEN,
                                    HumanTask.process_key == REPORT_PROCESS)
        )
    }
    drafts = dict(session.execute(
        select(HumanTask.unit_code, func.count(HumanTask.id))
        .where(HumanTask.year == year, HumanTask.step_id == "draft_report").group_by(HumanTask.unit_code)
    ).all())
    names = {unit.code: unit.name_vi for unit in units_of_year(session, year)}  # one query, not one a row
    rows = []
    query = (select(Report, ProcessInstance).join(ProcessInstance, Report.instance_id == ProcessInstance.id)
             .where(Report.year == cycle.year).order_by(Report.unit_code))
    for report, instance in session.execute(query):
        task = open_tasks.get(report.unit_code)
        if instance.status == InstanceStatus.COMPLETED:
            stage = "accepted"
        elif task is not None:
            stage = REPORT_STAGES.get(task.step_id, task.step_id)
        else:
            stage = instance.status.value
        rows.append({
            "unit_code": report.unit_code,
            "unit_name": names.get(report.unit_code, report.unit_code),
            "status": stage,
            "step": task.step_name if task else None,
            "since": task.created_at if task else instance.updated_at,
            "holder": task.candidate_group if task else None,
            "instance_id": report.instance_id,
            "revisions": max(0, drafts.get(report.unit_code, 0) - 1),
        })
    return rows


NO_PERSONS = {"subjects": [], "persons_evaluated": [], "subject_choice": None, "no_office_terms": False,
              "needs_subject_choice": False}


def results(session: Session, year: int) -> list[dict[str, Any]]:
    """The year's outcome per unit, with the persons evaluated, reasons, articles and every override."""
    persons = persons_evaluated(session, year)
    # Set-based, as every province-wide page: the names, the sentences and the rows with their overrides and who
    # made them in a few queries whatever the number of units (one query per row cost seconds at 2,800 units).
    units = units_of_year(session, year)
    names = {unit.code: unit.name_vi for unit in units}
    rows = explanations.year_rows(session, year)
    sentences = explanations.of_rows(rows, units)
    return [
        {
            "unit_code": e.unit_code,
            "unit_name": names.get(e.unit_code, e.unit_code),
            "block": e.block.value,
            "ict_rank": e.ict_rank,
            "ict_units": e.ict_units,
            "sections_violated": e.sections_violated,
            "late_report": e.late_report,
            "report_status": e.report_status,
            **persons.get(e.unit_code, NO_PERSONS),
            "proposed": {k: (e.proposed or {}).get(k) for k in ("rating", "sanction", "reward", "sanction_rule")},
            "rating": e.rating,
            "rating_vi": RATING_LABELS.get(e.rating or "", ""),
            "sanction": e.sanction,
            "sanction_vi": SANCTION_LABELS.get(e.sanction or "", ""),
            "reward": e.reward,
            "reward_vi": REWARD_LABELS.get(e.reward or "", ""),
            "reasons": e.reasons,
            "articles": e.articles,
            "final": e.final,
            "decision_number": e.decision_number,
            "overrides": [
                {"stage": o.stage, "field": o.field, "from": o.old_value, "to": o.new_value, "reason": o.reason,
                 "by": o.by.username, "at": o.at.isoformat()}
                for o in e.overrides
            ],
            "explanation": sentences[e.unit_code].vi,
            "explanation_en": sentences[e.unit_code].en,
        }
        for e in rows
    ]

