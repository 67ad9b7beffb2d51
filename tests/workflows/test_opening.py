"""Opening the year for many units: every unit's report is exactly what a start through the engine gives it."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, submit_report
from sqlalchemy import select

from workflows import audit, cycles, opening, runtime, tasks
from workflows.models import AuditEvent, DefinitionVersion, HumanTask, ProcessInstance, Report, TaskState
from workflows.units import unit_name

CODES = ["STC", "SNV", "SYT", "SXD", "SGTVT"]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CLOCK = re.compile(r'"last_state_change":[-0-9.e+]+')
TASK_COLUMNS = ("process_key", "step_id", "step_name", "lane", "candidate_group", "form_key", "unit_code", "year",
                "state", "due_on", "due_source", "priority", "follow_up_on", "assignee_id", "lock_version")


def _shape(state: bytes) -> str:
    """The state with its task ids numbered in order of appearance and the engine's clocks removed."""
    text = CLOCK.sub("", state.decode())
    ids = list(dict.fromkeys(UUID.findall(text)))
    return UUID.sub(lambda m: f"#{ids.index(m.group(0))}", text)


def _instances(session):
    return {i.unit_code: i for i in session.scalars(
        select(ProcessInstance).where(ProcessInstance.process_key == cycles.REPORT_PROCESS))}


def test_each_unit_gets_what_a_start_through_the_engine_gives_it(session):
    people = open_small_cycle(session, CODES)
    stored = _instances(session)
    assert sorted(stored) == sorted(CODES)
    cycle = cycles.get_cycle(session, 2025)
    version = session.get(DefinitionVersion, cycle.report_version_id)
    for code, instance in stored.items():
        # the same start, through the engine, in a unit of work that is thrown away
        ctx = runtime.Context.create(session, people["dic_leader"], at(date(2025, 11, 2)))
        probe, _ = runtime.start(ctx, version, {"year": 2025, "unit_code": code,
                                                "unit_name": unit_name(session, code, 2025),
                                                "report_due": "2025-12-15"},
                                 business_key=f"probe/{code}", year=2025, unit_code=code, cycle_id=cycle.id)
        assert _shape(instance.state) == _shape(probe.state), code
        assert (instance.status, instance.next_timer_at, instance.lock_version, instance.business_key) == (
            # the probe is not committed: the commit's save (runtime._save_row) moves its counter on once
            probe.status, probe.next_timer_at, probe.lock_version + 1, f"2025/{code}")
        row = session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
        expected = [t for t in ctx._new_tasks if t["instance_id"] == probe.id]
        assert len(expected) == 1
        assert {c: getattr(row, c) for c in TASK_COLUMNS} == {c: expected[0][c] for c in TASK_COLUMNS}
        assert row.task_uuid in instance.state.decode()
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                      .order_by(AuditEvent.id)))
        assert [(e.kind, e.message, e.data, e.task_id) for e in events] == [
            (e["kind"], str(e["message"]), e["data"], row.id if isinstance(e["task"], int) else None)
            for e in ctx._audit if e["instance_id"] == probe.id]
        assert events[0].data["unit_code"] == code
        session.rollback()
    # every report has its own task ids, its own report row, and its own audit chain, and they verify
    uuids = list(session.scalars(select(HumanTask.task_uuid).where(HumanTask.process_key == "agency_report")))
    assert len(set(uuids)) == len(CODES)
    assert {r.unit_code: r.instance_id for r in session.scalars(select(Report))} == {
        c: i.id for c, i in stored.items()}
    assert audit.verify(session)[1] == []


def test_every_copied_report_then_runs_to_acceptance_and_moves_the_year_on(session):
    people = open_small_cycle(session, CODES)
    for code in CODES:
        submit_report(session, people, code)
        tasks.complete_task(session, open_task(session, "review_report", code).id, people["dic"],
                            {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    assert {r.outcome for r in session.scalars(select(Report))} == {"accepted"}
    assert cycles.get_cycle(session, 2025).status.value == "evaluating"
    assert session.scalar(select(HumanTask).where(HumanTask.step_id == "consolidate",
                                                  HumanTask.state == TaskState.OPEN)) is not None
    assert audit.verify(session)[1] == []


def _counting(monkeypatch) -> list[str]:
    started: list[str] = []
    real = runtime.start

    def start(ctx, version, data, **kwargs):
        if kwargs.get("unit_code"):  # not the cycle's own instance
            started.append(kwargs["unit_code"])
        return real(ctx, version, data, **kwargs)

    monkeypatch.setattr(runtime, "start", start)
    return started


def test_the_engine_runs_for_two_units_only_when_the_copy_checks_out(session, monkeypatch):
    started = _counting(monkeypatch)
    open_small_cycle(session, CODES)
    assert len(started) == 2 and set(started) < set(CODES)


@pytest.mark.parametrize("spoil", ["copy", "variable"])
def test_a_copy_that_would_differ_sends_every_unit_through_the_engine(session, monkeypatch, spoil):
    started = _counting(monkeypatch)
    if spoil == "copy":  # the second unit's copy no longer matches what the engine gave it
        real = opening._render
        monkeypatch.setattr(opening, "_render", lambda t, s, u: real(t, s, u).replace("2025-12-15", "2025-12-16"))
        open_small_cycle(session, CODES)
    else:  # a start variable that is not text cannot be cut out of the state safely
        people = open_small_cycle(session, CODES[:1])
        version = session.get(DefinitionVersion, cycles.get_cycle(session, 2025).report_version_id)
        ctx = runtime.Context.create(session, people["dic_leader"], at(date(2025, 11, 2)))
        started.clear()
        starts = [opening.Start({"year": 2025, "unit_code": c, "report_due": "2025-12-15", "n": n}, f"x/{c}", c)
                  for n, c in enumerate(CODES[1:])]
        opening.start_many(ctx, version, starts, year=2025)
        assert started == CODES[1:]
        session.rollback()
        return
    assert len(started) == len(CODES)
    assert sorted(_instances(session)) == sorted(CODES)
    assert audit.verify(session)[1] == []
    assert len({t for t in session.scalars(select(HumanTask.task_uuid))}) == len(CODES)


def test_the_check_unit_differs_from_the_first_in_every_variable_and_ids_keep_the_order(session, monkeypatch):
    people = open_small_cycle(session, CODES[:1])
    version = session.get(DefinitionVersion, cycles.get_cycle(session, 2025).report_version_id)
    ctx = runtime.Context.create(session, people["dic_leader"], at(date(2025, 11, 2)))
    started = _counting(monkeypatch)
    names = ["Sở A", "Sở A", "Sở B", "Sở C"]  # the second unit shares the first one's name: it cannot be the check
    codes = CODES[1:]
    starts = [opening.Start({"year": 2025, "unit_code": c, "unit_name": n, "report_due": "2025-12-15"}, f"x/{c}", c)
              for c, n in zip(codes, names, strict=True)]
    ids = opening.start_many(ctx, version, starts, year=2025)
    assert started == [codes[0], codes[2]]
    runtime.commit(ctx)
    by_id = {i.id: i for i in session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(ids)))}
    assert [by_id[i].business_key for i in ids] == [f"x/{c}" for c in codes]
    assert [json.loads(by_id[i].state)["data"]["unit_name"] for i in ids] == names
    assert audit.verify(session)[1] == []
