"""The application's side of external service tasks (camunda:topic), and what follows a save of an instance."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date
from typing import Any

from sqlalchemy import exists, select

from workflows import engine, rules, runtime
from workflows.calendar import end_of_day
from workflows.errors import EngineError
from workflows.messages import Text
from workflows.models import (
    Cycle,
    CycleStatus,
    DefinitionVersion,
    Evaluation,
    InstanceStatus,
    ProcessInstance,
    Report,
)
from workflows.results import evaluations_of_year, previous_ranks, rank_ties
from workflows.units import units_of_year

ALL_REPORTS_ACCEPTED = "AllReportsAccepted"
TOP_SHARE, BOTTOM_SHARE = 0.20, 0.15


def dispatcher(ctx: runtime.Context, instance: ProcessInstance | None = None) -> engine.TopicHandler:
    def handle(topic: str, view: engine.TaskView) -> Mapping[str, Any] | None:
        handler = HANDLERS.get(topic)
        if handler is None:
            raise EngineError(f"No application handler for external task topic '{topic}'")
        result = handler(ctx, view)
        runtime.audit(ctx, "external_task", Text("Hệ thống thực hiện '{step}'", step=view.step_name), instance,
                      step_id=view.step_id, data=dict(result or {}))
        return result

    return handle


def _cycle(ctx: runtime.Context, view: engine.TaskView) -> Cycle:
    cycle = ctx.session.scalar(select(Cycle).where(Cycle.year == int(view.data["year"])))
    if cycle is None:
        raise EngineError(f"No cycle for year {view.data['year']}")
    return cycle


def start_agency_reports(ctx: runtime.Context, view: engine.TaskView) -> dict[str, Any]:
    """One agency_report instance for every unit in existence this year (or the cycle's chosen units)."""
    cycle = _cycle(ctx, view)
    version = ctx.session.get(DefinitionVersion, cycle.report_version_id)
    wanted = view.data.get("unit_codes")
    started = 0
    for unit in units_of_year(ctx.session, cycle.year):
        if wanted is not None and unit.code not in wanted:
            continue
        instance, _ = runtime.start(
            ctx, version,
            {"year": cycle.year, "unit_code": unit.code, "unit_name": unit.name_vi,
             "report_due": cycle.report_due.isoformat()},
            business_key=f"{cycle.year}/{unit.code}", year=cycle.year, unit_code=unit.code, cycle_id=cycle.id,
        )
        ctx.session.add(Report(year=cycle.year, unit_code=unit.code, instance_id=instance.id))
        started += 1
    if started == 0:
        raise EngineError(f"No unit exists in {cycle.year}; nothing to report")
    return {"reports_started": started, "report_due_at": end_of_day(cycle.report_due).isoformat()}


def prepare_consolidation(ctx: runtime.Context, view: engine.TaskView) -> dict[str, Any]:
    """Open an evaluation row per reporting unit; a report not accepted by now is flagged LATE_REPORT (A24)."""
    cycle = _cycle(ctx, view)
    cycle.status = CycleStatus.EVALUATING
    blocks = {u.code: u.block for u in units_of_year(ctx.session, cycle.year)}
    existing = evaluations_of_year(ctx.session, cycle.year)
    late = 0
    reports = ctx.session.execute(
        select(Report.unit_code, ProcessInstance.status).join(ProcessInstance, Report.instance_id == ProcessInstance.id)
        .where(Report.year == cycle.year)
    )
    for unit_code, status in reports:
        evaluation = existing.get(unit_code)
        if evaluation is None:
            evaluation = Evaluation(year=cycle.year, unit_code=unit_code, block=blocks[unit_code])
            ctx.session.add(evaluation)
        evaluation.late_report = status != InstanceStatus.COMPLETED
        late += evaluation.late_report
    return {"late_reports": late}


def propose_outcomes(ctx: runtime.Context, view: engine.TaskView) -> dict[str, Any]:
    """Run each unit through the unit_evaluation decision tables pinned to this cycle."""
    cycle = _cycle(ctx, view)
    spec = runtime.spec_json(ctx.session, cycle.evaluation_version_id)
    previous = previous_ranks(ctx.session, cycle.year - 1)
    evaluations = evaluations_of_year(ctx.session, cycle.year)
    ties = rank_ties({c: (e.ict_rank, e.ict_units) for c, e in evaluations.items()}, TOP_SHARE, BOTTOM_SHARE)
    manual = 0
    for code, evaluation in sorted(evaluations.items()):
        prev_rank, prev_units = previous.get(code, (None, None))
        case = {
            "block": evaluation.block.value,
            "sections_violated": list(evaluation.sections_violated or []),
            "ict_rank": evaluation.ict_rank,
            "ict_units": evaluation.ict_units,
            "prev_ict_rank": prev_rank,
            "prev_ict_units": prev_units,
            "slow_conclusions": evaluation.slow_conclusions,
            "superior_requires_review": evaluation.superior_requires_review,
            "lacks_responsibility": evaluation.lacks_responsibility,
            "special_achievement": evaluation.special_achievement,
            "rank_tie": code in ties,
        }
        data = engine.run_straight_through(spec, rules.with_shares(rules.validate_case(case), TOP_SHARE, BOTTOM_SHARE))
        outcome = rules.outcome_from(data)
        if evaluation.late_report:
            outcome["reasons"].append("LATE_REPORT")
            outcome["articles"].append("Điều 19")
        evaluation.proposed = {**outcome, "case": case}
        evaluation.rating, evaluation.sanction, evaluation.reward = (
            outcome["rating"], outcome["sanction"], outcome["reward"])
        evaluation.reasons, evaluation.articles = outcome["reasons"], outcome["articles"]
        manual += "manual_review" in (outcome["rating"], outcome["sanction"])
    return {"proposals": len(evaluations), "manual_reviews": manual}


def record_results(ctx: runtime.Context, view: engine.TaskView) -> dict[str, Any]:
    """The Committee has decided: the year's outcomes become final."""
    cycle = _cycle(ctx, view)
    number = view.data.get("decision_number")
    decided_on = date.fromisoformat(view.data["decision_date"]) if view.data.get("decision_date") else None
    for evaluation in evaluations_of_year(ctx.session, cycle.year).values():
        evaluation.final = True
        evaluation.decision_number, evaluation.decision_date = number, decided_on
    cycle.status = CycleStatus.DECIDED
    cycle.decision_number, cycle.decision_date = number, decided_on
    for report_instance in ctx.session.scalars(select(ProcessInstance).where(
            ProcessInstance.cycle_id == cycle.id, ProcessInstance.process_key == "agency_report",
            ProcessInstance.status == InstanceStatus.RUNNING)):
        runtime.cancel(ctx, report_instance, Text("Kỳ đánh giá {year} đã có quyết định; báo cáo không còn được nhận",
                                                  year=cycle.year))
    return {"results_recorded": True}


HANDLERS: dict[str, Callable[[runtime.Context, engine.TaskView], dict[str, Any]]] = {
    "start-agency-reports": start_agency_reports,
    "prepare-consolidation": prepare_consolidation,
    "propose-outcomes": propose_outcomes,
    "record-results": record_results,
}

def after_save(ctx: runtime.Context, instance: ProcessInstance, run: engine.Run) -> None:
    """Wake the cycle when the last agency report is accepted."""
    if instance.process_key == "agency_report" and run.is_completed:
        notify_cycle_if_all_accepted(ctx, instance.cycle_id)


def notify_cycle_if_all_accepted(ctx: runtime.Context, cycle_id: int | None) -> bool:
    """Send AllReportsAccepted to the cycle when no report of it is still running; return whether it was sent.

    An EXISTS on an index costs the same for 28 or 2,800 units; a race between the last two acceptances is
    caught by the timer worker's reconciliation pass (cycles.fire_due).
    """
    if cycle_id is None:
        return False
    still_running = ctx.session.scalar(
        select(exists().where(ProcessInstance.cycle_id == cycle_id, ProcessInstance.process_key == "agency_report",
                              ProcessInstance.status == InstanceStatus.RUNNING))
    )
    if still_running:
        return False
    cycle = ctx.session.get(Cycle, cycle_id)
    if cycle is None or cycle.instance_id is None or cycle.status != CycleStatus.REPORTING:
        return False
    cycle_instance = ctx.session.get(ProcessInstance, cycle.instance_id)
    run = runtime.load(ctx, cycle_instance)
    deadline = cycle_instance.next_timer_at
    if deadline is not None and (deadline if deadline.tzinfo else deadline.replace(tzinfo=UTC)) <= ctx.now:
        # The deadline passed before the last acceptance: let the timer close reporting, so that only one of the
        # event-based gateway's two paths is ever taken.
        run.advance(dispatcher(ctx, cycle_instance), ctx.now)
        runtime.save(ctx, cycle_instance, run)
        return True
    if not run.send_message(ALL_REPORTS_ACCEPTED, now=ctx.now):
        return False
    runtime.audit(ctx, "message_received", Text("Tất cả báo cáo đã được tiếp nhận"), cycle_instance)
    run.advance(dispatcher(ctx, cycle_instance), ctx.now)
    runtime.save(ctx, cycle_instance, run)
    return True
