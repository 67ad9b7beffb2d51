"""The audit trail is tamper-evident: `audit verify` names the first changed or missing event; exports verify alone."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from factories import open_small_cycle, submit_report
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from testdb import TEST_DATABASE_URL

from workflows import audit, runtime
from workflows.messages import Text
from workflows.models import AuditEvent, ProcessInstance

DOCS = Path(__file__).resolve().parents[2] / "docs" / "AUDIT.md"


def _report_events(session, code: str) -> list[AuditEvent]:
    report = session.scalar(select(ProcessInstance.id).where(ProcessInstance.unit_code == code))
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == report).order_by(AuditEvent.id)))


def test_every_event_links_to_the_one_before_in_its_instance(session):
    people = open_small_cycle(session, ["STC", "SNV"])
    submit_report(session, people, "STC")
    events = _report_events(session, "STC")
    assert len(events) >= 4 and events[0].prev_hash == ""
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
    assert audit.verify(session) == (len(session.scalars(select(AuditEvent.id)).all()), [])


def test_verify_names_a_changed_event_then_a_missing_one(session, runner):
    people = open_small_cycle(session, ["STC"])
    submit_report(session, people, "STC")
    intact = runner.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0 and "Audit trail intact" in intact.output

    events = _report_events(session, "STC")
    original = events[2].data
    session.execute(update(AuditEvent).where(AuditEvent.id == events[2].id).values(data={"head_decision": "x"}))
    session.commit()
    changed = runner.invoke(args=["audit", "verify"])
    assert changed.exit_code == 1
    assert f"audit event {events[2].id} " in changed.output and "was changed" in changed.output

    session.execute(update(AuditEvent).where(AuditEvent.id == events[2].id).values(data=original))
    session.execute(delete(AuditEvent).where(AuditEvent.id == events[1].id))
    session.commit()
    missing = runner.invoke(args=["audit", "verify"])
    assert missing.exit_code == 1
    assert f"missing before event {events[2].id} " in missing.output


def test_an_inspector_verifies_an_export_with_the_documented_lines(session, runner, tmp_path):
    people = open_small_cycle(session, ["STC", "SNV"])
    submit_report(session, people, "STC")
    exported = tmp_path / "audit-2025.json"
    result = runner.invoke(args=["audit", "export", "--year", "2025", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    snippet = re.search(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)
    script = tmp_path / "check_audit.py"
    script.write_text(snippet, encoding="utf-8")

    checked = subprocess.run([sys.executable, str(script), str(exported)], capture_output=True, text=True)
    assert checked.returncode == 0 and "intact" in checked.stdout
    chains = json.loads(exported.read_text(encoding="utf-8"))["chains"]
    assert len(chains) == 3  # the year's cycle and its two reports

    target = chains[1]["events"][1]
    target["fields"]["message"] = "Đã sửa"
    exported.write_text(json.dumps({"chains": chains}, ensure_ascii=False), encoding="utf-8")
    tampered = subprocess.run([sys.executable, str(script), str(exported)], capture_output=True, text=True)
    assert tampered.returncode != 0 and f"event {target['id']}" in tampered.stderr


def test_unit_export_holds_only_that_units_chains(session, runner, tmp_path):
    people = open_small_cycle(session, ["STC", "SNV"])
    submit_report(session, people, "STC")
    exported = tmp_path / "stc.json"
    assert runner.invoke(args=["audit", "export", "--unit", "STC", "-o", str(exported)]).exit_code == 0
    chains = json.loads(exported.read_text(encoding="utf-8"))["chains"]
    assert len(chains) == 1 and {e["fields"]["instance_id"] for e in chains[0]["events"]} == {chains[0]["instance_id"]}
    assert chains[0]["head"] == chains[0]["events"][-1]["hash"]


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="concurrent writers need PostgreSQL")
def test_concurrent_appends_to_one_instance_never_fork_its_chain(session, db_engine):
    open_small_cycle(session, ["STC"])
    report = session.scalar(select(ProcessInstance).where(ProcessInstance.unit_code == "STC"))
    start = threading.Barrier(4)

    def append(number: int) -> None:
        with Session(db_engine) as own:
            instance = own.get(ProcessInstance, report.id)
            ctx = runtime.Context.create(own, None)
            runtime.audit(ctx, "note", f"ghi chú {number}", instance)
            start.wait()  # all four read the chain's head at the same moment, unless the row lock orders them
            runtime.commit(ctx)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(append, range(4)))
    events = _report_events(session, "STC")
    assert sum(e.kind == "note" for e in events) == 4
    assert len({e.prev_hash for e in events}) == len(events)  # no two events continue the same head
    assert audit.verify(session)[1] == []


@pytest.mark.parametrize("value", [
    {"year": 2025, "unit_name": "Sở Y tế", "n": [1, 2.5, True, None, {"k": "v"}]},  # JSON's own types: kept as is
    {"a": (1, 2)}, {1: "one"}, {"due": date(2025, 12, 15)}, {"text": Text("Bước '{step}'", step="a")},
    {Text("k"): 1}, [("a",)], {"n": float("inf")},  # everything else goes through JSON, as before
])
def test_canonical_fields_are_the_values_as_json_gives_them_back(value):
    moment = datetime(2025, 11, 2, 8, 0, tzinfo=UTC)
    event = {"instance_id": 1, "at": moment, "kind": "k", "message": Text("m"), "message_text": value, "data": value}
    fields = audit.canonical_fields(event)
    through_json = json.loads(json.dumps(value, ensure_ascii=False, default=str))
    assert fields["data"] == fields["message_text"] == through_json
    assert fields["at"] == "2025-11-02T08:00:00.000000" == audit.canonical_fields({**event, "at": moment.astimezone(
        timezone(timedelta(hours=7)))})["at"]
