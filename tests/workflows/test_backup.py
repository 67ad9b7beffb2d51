"""Backup mid-cycle, restore into a fresh database, and finish the cycle there."""
from __future__ import annotations

from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, submit_report
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from testdb import TEST_DATABASE_URL, make_engine

from config import database_url
from workflows import audit, backup, tasks
from workflows.models import Cycle, CycleStatus, HumanTask, TaskState, User


def test_a_backup_taken_mid_cycle_restores_into_a_new_database_that_finishes_the_cycle(tmp_path):
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'live.sqlite'}"
    engine = make_engine(url)
    evidence_dir = tmp_path / "evidence"
    (evidence_dir / "ab").mkdir(parents=True)
    (evidence_dir / "ab" / "ab12.pdf").write_bytes(b"%PDF-1.4 minh chung")
    with Session(engine, expire_on_commit=False) as session:
        people = open_small_cycle(session, ["STC", "STTTT"])
        submit_report(session, people, "STC")
        tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                            {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    archive = tmp_path / "mid-cycle.tar.gz"
    manifest = backup.backup(engine.url.render_as_string(hide_password=False), evidence_dir, archive)
    assert manifest["evidence_files"] == 1

    if TEST_DATABASE_URL:  # PostgreSQL: a new, empty schema stands for the new database
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        target_url = engine.url.render_as_string(hide_password=False)
    else:
        target_url = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    engine.dispose()
    restored_evidence = tmp_path / "restored-evidence"
    backup.restore(archive, target_url, restored_evidence)
    assert (restored_evidence / "ab" / "ab12.pdf").read_bytes() == b"%PDF-1.4 minh chung"

    restored = make_engine_without_reset(target_url)
    with Session(restored, expire_on_commit=False) as session:
        people = {u.username: u for u in session.scalars(select(User))}
        reviewed = select(HumanTask.state).where(HumanTask.unit_code == "STC", HumanTask.step_id == "review_report")
        assert session.scalar(reviewed) == TaskState.COMPLETED
        submit_report(session, people, "STTTT")
        tasks.complete_task(session, open_task(session, "review_report", "STTTT").id, people["dic"],
                            {"dic_decision": "accept"}, at(date(2025, 11, 12)))
        units = {code: {"ict_rank": rank, "ict_units": 2, "slow_conclusions": False}
                 for code, rank in (("STC", 1), ("STTTT", 2))}
        tasks.complete_task(session, open_task(session, "consolidate").id, people["dic"], {"units": units},
                            at(date(2026, 1, 5)))
        tasks.complete_task(session, open_task(session, "evaluate").id, people["dic_leader"], {}, at(date(2026, 1, 6)))
        tasks.complete_task(session, open_task(session, "review_dic_self_evaluation").id, people["home_affairs"], {},
                            at(date(2026, 1, 7)))
        tasks.complete_task(session, open_task(session, "home_affairs_proposal").id, people["home_affairs"],
                            {"ha_decision": "propose"}, at(date(2026, 1, 8)))
        tasks.complete_task(session, open_task(session, "committee_decision").id, people["committee"],
                            {"committee_action": "decide", "decision_number": "123/QĐ-UBND",
                             "decision_date": "2026-04-20"}, at(date(2026, 4, 20)))
        assert session.scalar(select(Cycle.status).where(Cycle.year == 2025)) == CycleStatus.DECIDED
        assert session.scalars(select(HumanTask.step_id).where(HumanTask.state == TaskState.OPEN,
                                                               HumanTask.unit_code.is_not(None))).all() == []
        checked, breaks = audit.verify(session)
        assert checked > 20 and breaks == []  # the chains continue across the restore
    restored.dispose()


def make_engine_without_reset(url: str) -> Engine:
    return create_engine(database_url(url))


def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    source = f"sqlite:///{tmp_path / 'a.sqlite'}"
    make_engine(source).dispose()
    archive = tmp_path / "a.tar.gz"
    backup.backup(source, tmp_path / "no-evidence-yet", archive)
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(archive, source, tmp_path / "evidence")
    with pytest.raises(backup.BackupError, match="in-memory"):
        backup.backup("sqlite://", tmp_path, tmp_path / "b.tar.gz")
