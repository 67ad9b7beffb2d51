"""Helpers that build the state tests start from; each returns plain objects, none asserts anything."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import cycles, definitions, demo, tasks
from workflows.calendar import LOCAL_TZ
from workflows.criteria import CRITERIA
from workflows.models import HumanTask, TaskState, User
from workflows.units import load_units


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ)


def setup_people(session: Session, codes: list[str]) -> dict[str, User]:
    """Units, definitions and the simulation's logins for CODES (usernames as seed-demo names them)."""
    load_units(session)
    definitions.deploy_directory(session)
    people = demo._ensure_people(session, codes)
    session.commit()
    return people


def open_small_cycle(session: Session, codes: list[str], year: int = 2025) -> dict[str, User]:
    people = setup_people(session, codes)
    cycles.open_cycle(session, year, date(year, 12, 15), people["dic_leader"], now=at(date(year, 11, 2)),
                      unit_codes=codes)
    return people


def open_task(session: Session, step: str, unit_code: str | None = None) -> HumanTask:
    query = select(HumanTask).where(HumanTask.state == TaskState.OPEN, HumanTask.step_id == step)
    if unit_code:
        query = query.where(HumanTask.unit_code == unit_code)
    found = session.scalar(query)
    assert found is not None, f"no open {step} task for {unit_code}"
    return found


def report_payload(violations: tuple[int, ...] = ()) -> dict[str, Any]:
    return {
        "it_staff_count": 3,
        "edoc_sent_pct": 80,
        "edoc_received_pct": 75,
        "difficulties": "",
        "criteria": {c.id: {"status": "fail" if c.section in violations else "pass", "note": "", "evidence": []}
                     for c in CRITERIA},
        "budget": {"software": 100_000_000},
    }


def submit_report(session: Session, people: dict[str, User], code: str, when: date = date(2025, 11, 10)) -> None:
    officer, head = people[f"{code.lower()}_officer"], people[f"{code.lower()}_head"]
    tasks.complete_task(session, open_task(session, "draft_report", code).id, officer, report_payload(), at(when))
    tasks.complete_task(session, open_task(session, "approve_report", code).id, head, {"head_decision": "approve"},
                        at(when))
