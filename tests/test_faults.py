"""All or nothing when a process dies between the engine step and the commit (FAULT_AFTER_ENGINE_STEP).

A subprocess completes one report with the fault hook at probability 1: it is SIGKILLed after the engine ran and
every row was written, before the transaction commits. The database must show nothing of that completion; the same
completion then goes through normally. bench/faults.py does the same with servers and workers under load.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import testdb
from factories import at, open_small_cycle, open_task, report_payload
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import audit, tasks
from workflows.errors import Conflict
from workflows.models import AuditEvent, HumanTask, Notification, ProcessInstance, TaskState

ROOT = Path(__file__).resolve().parent.parent

COMPLETE_ONE = """
import json, sys
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from workflows import tasks
from workflows.models import User
url, task_id, actor_id, payload, now = sys.argv[1:6]
from datetime import datetime
with Session(create_engine(url), expire_on_commit=False) as session:
    tasks.complete_task(session, int(task_id), session.get(User, int(actor_id)), json.loads(payload),
                        datetime.fromisoformat(now))
print("committed")
"""


def _snapshot(session: Session, instance_id: int) -> tuple:
    session.expire_all()
    instance = session.get(ProcessInstance, instance_id)
    return (
        instance.state, instance.lock_version,
        session.scalar(select(func.count()).select_from(AuditEvent)),
        tuple(session.execute(select(HumanTask.id, HumanTask.state, HumanTask.lock_version).order_by(HumanTask.id))),
        session.scalar(select(func.count()).select_from(Notification)),
    )


def test_a_completion_killed_before_its_commit_leaves_nothing_then_completes(tmp_path: Path) -> None:
    if testdb.ON_POSTGRES:
        url = testdb.database_url(testdb.TEST_DATABASE_URL)
        engine = testdb.make_engine()
    else:
        url = f"sqlite:///{tmp_path / 'fault.sqlite'}"
        engine = testdb.make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            people = open_small_cycle(session, ["STC"])
            session.commit()
            task = open_task(session, "draft_report", "STC")
            officer = people["stc_officer"]
            before = _snapshot(session, task.instance_id)
            args = [sys.executable, "-c", COMPLETE_ONE, url, str(task.id), str(officer.id),
                    json.dumps(report_payload()), at(date(2025, 11, 10)).isoformat()]
            env = {**os.environ, "FAULT_AFTER_ENGINE_STEP": "1", "PYTHONPATH": str(ROOT)}
            died = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
            assert died.returncode == -signal.SIGKILL, died.stderr
            assert "committed" not in died.stdout

            # Nothing of it: the same state, lock versions, task rows, audit events and notifications.
            assert _snapshot(session, task.instance_id) == before
            assert open_task(session, "draft_report", "STC").id == task.id

            # The officer sends it again, this time without a fault: it completes, once, audited once.
            env.pop("FAULT_AFTER_ENGINE_STEP")
            done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            session.expire_all()
            assert session.get(HumanTask, task.id).state == TaskState.COMPLETED
            assert open_task(session, "approve_report", "STC") is not None
            assert session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.kind == "task_completed", AuditEvent.task_id == task.id)) == 1
            checked, breaks = audit.verify(session)
            assert checked > 0 and breaks == []
            # and a second sending is refused, not applied twice
            with pytest.raises(Conflict):
                tasks.complete_task(session, task.id, officer, report_payload(), at(date(2025, 11, 10)))
    finally:
        engine.dispose()
