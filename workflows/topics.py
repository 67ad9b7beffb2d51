"""The application's side of external service tasks (camunda:topic), and what follows a save of an instance."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, insert, select, update

from workflows import bulk, engine, opening, outcome_articles, report_outcome, rules, runtime
from workflows.calendar import end_of_day
from workflows.criteria import violated_sections
from workflows.errors import EngineError
from workflows.messages import Text
from workflows.models import (
    Cycle,
    CycleStatus,
    DefinitionVersion,
    Evaluation,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    Report,
    report_not_in,
)
from workflows.results import evaluations_of_year, make_final, rank_ties
from workflows.settings import settings_of_year
from workflows.subjects import flag_subjects, subjects_of_year
from workflows.unit_changes import prior_ranks_for
from workflows.units import dic_of_year, units_of_year

ALL_REPORTS_ACCEPTED = "AllReportsAccepted"
REPORTING_CLOSED = "ReportingClosed"
DELIVERED_MESSAGES = (ALL_REPORTS_ACCEPTED, REPORTING_CLOSED)  # what the application sends (validation warns on others)


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
    chosen = None if wanted is None else set(wanted)  # not the list: searched once per unit, 40 ms at 2,800 units
    units = [u for u in units_of_year(ctx.session, cycle.year) if chosen is None or u.code in chosen]
    # A late opening gives no deadline that has already passed: reporting runs until DIC closes it.
    due = "" if opened_late(cycle) else cycle.report_due.isoformat()
    ids = opening.start_many(ctx, version, [
        opening.Start({"year": cycle.year, "unit_code": u.code, "unit_name": u.name_vi, "report_due": due},
                      business_key=f"{cycle.year}/{u.code}", unit_code=u.code) for u in units],
        year=cycle.year, cycle_id=cycle.id)
    if ids:
        bulk.insert_rows(ctx.session, Report.__table__, [{"year": cycle.year, "unit_code": u.code, "instance_id": i}
                                                         for u, i in zip(units, ids, strict=True)])
    started = len(ids)
    if started == 0:
        raise EngineError(f"No unit exists in {cycle.year}; nothing to report")
    if opened_late(cycle):  # the timer keeps the stand-in the opening set: reporting runs until DIC closes it
        return {"reports_started": started}
    return {"reports_started": started, "report_due_at": end_of_day(cycle.report_due).isoformat()}


def opened_late(cycle: Cycle) -> bool:
    """The opener confirmed a late opening: the report deadline had passed when the cycle opened."""
    opened = cycle.opened_at if cycle.opened_at.tzinfo else cycle.opened_at.replace(tzinfo=UTC)
    return opened > end_of_day(cycle.report_due)


def report_status(cycle: Cycle, outcome: str | None, accepted_at: Any, revision_due: date | None = None) -> str:
    """accepted (in by the deadline, or by the revision period after a return), late (after both) or missing (A24)."""
    if outcome != "accepted" or accepted_at is None:
        return "missing"
    moment = accepted_at if accepted_at.tzinfo else accepted_at.replace(tzinfo=UTC)
    due = max(cycle.report_due, revision_due) if revision_due else cycle.report_due
    return "accepted" if opened_late(cycle) or moment <= end_of_day(due) else "late"


def revision_deadline(ctx: runtime.Context, view: engine.TaskView) -> dict[str, Any]:
    """A returned report gets the year's revision period (revision.wd working days from today) to come back."""
    year = int(view.data["year"])
    due = ctx.calendar.add_working_days(ctx.today, settings_of_year(ctx.session, year).revision_wd)
    ctx.session.execute(update(Report).where(Report.year == year, Report.unit_code == view.data["unit_code"])
                        .values(revision_due=due).execution_options(synchronize_session=False))
    return {"report_due": due.isoformat()}


def prepare_consolidation(ctx: runtime.Context, view: engine.TaskView) -> dict[str, Any]:
    """Open an evaluation row per unit of the cycle, with its report status: accepted, late or missing (A24)."""
    cycle = _cycle(ctx, view)
    cycle.status = CycleStatus.EVALUATING
    blocks = {u.code: u.block for u in units_of_year(ctx.session, cycle.year)}
    existing = evaluations_of_year(ctx.session, cycle.year)
    # Ranks imported for this year before it was evaluated here become the year's rows (one row per year and unit).
    imported = {e.unit_code: e for e in ctx.session.scalars(
        select(Evaluation).where(Evaluation.year == cycle.year, Evaluation.imported.is_(True)))}
    counts = {"accepted": 0, "late": 0, "missing": 0}
    reports = ctx.session.execute(
        select(Report.unit_code, Report.outcome, Report.accepted_at, Report.revision_due)
        .where(Report.year == cycle.year))
    new_rows = []
    for unit_code, outcome, accepted_at, revision_due in reports:
        status = report_status(cycle, outcome, accepted_at, revision_due)
        counts[status] += 1
        evaluation = existing.get(unit_code)
        if evaluation is None and unit_code in imported:
            evaluation = imported[unit_code]
            evaluation.imported, evaluation.ict_rank, evaluation.ict_units = False, None, None
        if evaluation is None:  # the usual case: one INSERT for all of them (the ORM sends one per row on SQLite)
            new_rows.append({"year": cycle.year, "unit_code": unit_code, "block": blocks[unit_code],
                             "report_status": status, "late_report": status != "accepted"})
            continue
        evaluation.report_status = status
        evaluation.late_report = status != "accepted"
    if new_rows:
        ctx.session.execute(insert(Evaluation.__table__), new_rows)
    return {"late_reports": counts["late"] + counts["missing"], "missing_reports": counts["missing"]}


def _report_rule(evaluation: Evaluation, outcome: dict[str, Any]) -> None:
    """A unit without an accepted report, or with a late one, is not rated by the tables: DIC decides (A24)."""
    status = evaluation.report_status or ("missing" if evaluation.late_report else "accepted")
    if status == "accepted":
        return
    if status == "missing":
        outcome["reasons"].append("NO_REPORT")
    outcome["reasons"].append("LATE_REPORT")
    outcome["articles"].append("Điều 19")
    outcome["rating"] = "manual_review"
    if outcome["sanction"] != "none" or status == "missing":
        outcome["sanction"] = "manual_review"
    if outcome["reward"] == "eligible":
        outcome["reward"] = "none"
    if "RATING_PENDING_REVIEW" not in outcome["reasons"]:
        outcome["reasons"].append("RATING_PENDING_REVIEW")


def propose_outcomes(ctx: runtime.Context, view: engine.TaskView) -> dict[str, Any]:
    """Run each unit through the unit_evaluation decision tables pinned to this cycle, with the year's settings."""
    # Consolidation has just changed every evaluation row in this unit of work; nothing read here depends on those
    # changes in SQL, so they are written once, together with the proposals, rather than flushed by the first query.
    with ctx.session.no_autoflush:
        return _propose_outcomes(ctx, view)


def _propose_outcomes(ctx: runtime.Context, view: engine.TaskView) -> dict[str, Any]:
    cycle = _cycle(ctx, view)
    settings = settings_of_year(ctx.session, cycle.year)
    top, bottom = settings.top_share, settings.bottom_share
    spec = runtime.spec_json(ctx.session, cycle.evaluation_version_id)
    previous = prior_ranks_for(ctx.session, cycle.year)
    prev_ties = rank_ties(previous, top, bottom)
    evaluations = evaluations_of_year(ctx.session, cycle.year)
    ties = rank_ties({c: (e.ict_rank, e.ict_units) for c, e in evaluations.items()}, top, bottom)
    dic = dic_of_year(ctx.session, cycle.year)
    subjects = subjects_of_year(ctx.session, cycle.year)
    manual = 0
    for code, evaluation in sorted(evaluations.items()):
        if evaluation.appraisal:
            evaluation.sections_violated = violated_sections(
                evaluation.appraisal, set(settings.critical_criteria) if settings.critical_criteria else None)
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
            "prev_rank_tie": code in prev_ties,
        }
        data = engine.run_straight_through(spec, rules.with_shares(rules.validate_case(case), top, bottom))
        outcome = rules.outcome_from(data)
        _report_rule(evaluation, outcome)
        if code == dic:
            outcome["reasons"].append("CONFLICT_OF_INTEREST")  # DIC evaluates itself: four eyes follow (A23)
        evaluation.proposed = {**outcome, "case": case}
        evaluation.rating, evaluation.sanction, evaluation.reward = (
            outcome["rating"], outcome["sanction"], outcome["reward"])
        evaluation.reasons, evaluation.articles = outcome["reasons"], outcome["articles"]
        outcome_articles.settle(evaluation)
        flag_subjects(evaluation, subjects.get(code, []))
        manual += "manual_review" in (outcome["rating"], outcome["sanction"])
    return {"proposals": len(evaluations), "manual_reviews": manual}


def record_results(ctx: runtime.Context, view: engine.TaskView) -> dict[str, Any]:
    """The Committee has decided: the year's outcomes become final."""
    cycle = _cycle(ctx, view)
    number = view.data.get("decision_number")
    decided_on = date.fromisoformat(view.data["decision_date"]) if view.data.get("decision_date") else None
    make_final(ctx.session, cycle.year, number, decided_on, subjects_of_year(ctx.session, cycle.year))
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
    "revision-deadline": revision_deadline,
}


def after_save(ctx: runtime.Context, instance: ProcessInstance, run: engine.Run) -> None:
    """Record which end an agency report reached; wake the cycle when the last report is accepted.

    The outcome's UPDATE also answers "is another report of the year not in?" (RETURNING a count capped at one,
    that leaves this report out, so it reads the same whether the database shows the statement's own change or not):
    an acceptance with others still out sends that one statement; only the year's last reads the cycle.
    """
    if instance.process_key == "agency_report" and run.is_completed:
        outcome = report_outcome.reached_outcome(run, runtime.version_files(ctx.session, instance.version_id))
        written = ctx.session.execute(_RECORD_OUTCOME, {
            "_instance": instance.id, "_year": instance.year, "outcome": outcome,
            "accepted_at": ctx.now if outcome == "accepted" else None}).first()
        if outcome != "accepted" or instance.cycle_id is None:
            return
        if written is not None and written.others_out == 0:
            notify_cycle_if_all_accepted(ctx, instance.cycle_id)


# Two last acceptances at once would each count the other's report as out (not yet committed) and neither wake the
# cycle (bench/load.py, 8 clients). So on PostgreSQL the review of one of the year's last reports takes its turn on
# the cycle row in the completion's first statement (`cycle_turn`, in tasks.complete_task's task lookup); the
# outcome's UPDATE, statements later, counts with a snapshot taken after the turn, so it sees what the one before
# committed. SQLite's one writer already orders them. More acceptances than this finishing at the same instant as the
# year's last could still each count another as out; the timer worker's reconciliation pass (cycles.fire_due) wakes
# the cycle then, as it did before the turns.
TAKE_TURNS_WITHIN = 32
REVIEW_STEP = "review_report"  # the agency_report step that accepts or returns a report (bpmn/agency_report.bpmn)


def cycle_turn() -> Any:
    """A column for a completion's task lookup (PostgreSQL): the cycle row locked (FOR UPDATE) when the task is the
    review of one of its year's last TAKE_TURNS_WITHIN + 1 reports still out, NULL (no lock) otherwise.

    Built per call so that a test may change TAKE_TURNS_WITHIN; tasks.py builds its statement once per value.
    """
    out = (select(_REPORTS.c.id).where(_REPORTS.c.year == HumanTask.year, report_not_in(_REPORTS))
           .limit(TAKE_TURNS_WITHIN + 2).correlate(HumanTask).subquery())
    near_last = select(func.count()).select_from(out).scalar_subquery() <= TAKE_TURNS_WITHIN + 1
    turn = select(Cycle.id).where(Cycle.year == HumanTask.year).with_for_update().correlate(HumanTask)
    return case((and_(HumanTask.process_key == "agency_report", HumanTask.step_id == REVIEW_STEP, near_last),
                 turn.scalar_subquery())).label("cycle_turn")


_REPORTS = Report.__table__  # the table, not the ORM entity: its UPDATE path cost 24 µs more a run
_OTHER = _REPORTS.alias()  # the instance's year and id as parameters, not correlation: SQLite's RETURNING drops them
_OTHERS_OUT = (select(_OTHER.c.id).where(_OTHER.c.year == bindparam("_year"),
                                         _OTHER.c.instance_id != bindparam("_instance"), report_not_in(_OTHER))
               .limit(1).subquery())  # one is enough to know: flat in the units
_RECORD_OUTCOME = (  # built once: building it cost as much as running it
    update(_REPORTS).where(_REPORTS.c.instance_id == bindparam("_instance"))
    .values(outcome=bindparam("outcome"), accepted_at=bindparam("accepted_at"))
    .returning(select(func.count()).select_from(_OTHERS_OUT).scalar_subquery().label("others_out")))


def notify_cycle_if_all_accepted(ctx: runtime.Context, cycle_id: int | None) -> bool:
    """Send AllReportsAccepted to the cycle when no report of it is still running; return whether it was sent.

    An EXISTS on an index costs the same for 28 or 2,800 units; a race between the last two acceptances is
    caught by the timer worker's reconciliation pass (cycles.fire_due).
    """
    if cycle_id is None:
        return False
    # Only an accepted report counts: a running one, or one that ended rejected or unclassified, is not "in".
    found = ctx.session.execute(select(Cycle, exists().where(
        Report.year == Cycle.year, report_not_in(_REPORTS)))
        .where(Cycle.id == cycle_id)).first()  # the cycle and the EXISTS in one statement
    if found is None:
        return False
    cycle, not_in = found
    if not_in:
        return False
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
