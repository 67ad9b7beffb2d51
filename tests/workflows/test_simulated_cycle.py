"""A whole cycle for the 28 units of Bắc Ninh, driven through the services as each role would."""
from __future__ import annotations

from sqlalchemy import select

from workflows import demo
from workflows.models import AuditEvent, Cycle, CycleStatus, HumanTask, Override, TaskState


def test_whole_cycle_for_all_28_units_reaches_every_rule(session):
    result = demo.simulate(session, 2025, 28)
    by_code = {row["unit_code"]: row for row in result.results}
    assert len(by_code) == 28
    proposed_rules = {row["proposed"]["sanction_rule"] for row in result.results}
    assert {"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9"} <= proposed_rules
    assert by_code["SKHDT"]["sanction"] == "reprimand" and "OVERLAP_A_B" in by_code["SKHDT"]["reasons"]
    assert by_code["SNNPTNT"]["sanction"] == "warning" and "Điều 17.1c" in by_code["SNNPTNT"]["articles"]
    assert by_code["VPUB"]["rating"] == "excellent" and by_code["VPUB"]["reward"] == "eligible"
    assert "LATE_REPORT" in by_code["SGDDT"]["reasons"]
    assert "RANK_TIE" in by_code["BNI"]["reasons"] and "RANK_TIE" in by_code["TSO"]["reasons"]
    assert "NOT_RANKED" in by_code["BQLKCN"]["reasons"]
    assert all(row["final"] and row["decision_number"] for row in result.results)
    assert session.scalar(select(Cycle).where(Cycle.year == 2025)).status == CycleStatus.DECIDED
    assert session.scalars(select(HumanTask).where(HumanTask.state == TaskState.OPEN)).all() == []
    # every manual outcome was settled by an override carrying a written reason
    overrides = session.scalars(select(Override)).all()
    assert overrides and all(o.reason.strip() for o in overrides)
    # a deputy approved, recorded as acting for the head
    deputy_approvals = session.scalars(select(HumanTask).where(HumanTask.acting_for_id.is_not(None))).all()
    assert {t.unit_code for t in deputy_approvals} == {"TTT", "TDU"}
    kinds = set(session.scalars(select(AuditEvent.kind)))
    assert {"instance_started", "task_completed", "task_created", "timer_fired", "instance_completed"} <= kinds
