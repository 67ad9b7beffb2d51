"""workflows/permissions.py: "may act" as Python (authority) and as SQL (actionable) agree on every case, and the
cases where the two copies used to disagree are decided one way."""
from __future__ import annotations

import itertools
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import permissions, tasks, users
from workflows.models import (
    DefinitionVersion,
    DeputyAssignment,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    Role,
    TaskState,
    User,
)
from workflows.units import load_units

TODAY = date(2025, 11, 10)
HOME, OTHER = "STC", "SNV"
# Every candidate group a diagram may name (the roles), and one no role answers to.
GROUPS = [role.value for role in Role] + ["nobody_group"]
TASK_UNITS = [HOME, OTHER, None]
STEPS = ["approve_report", "review_report"]  # in a deputy's scope, and not


def _tasks(session: Session, claimant: User) -> list[HumanTask]:
    """One open task per group × unit × step × (unclaimed, claimed by CLAIMANT)."""
    definition = ProcessDefinition(key="p", name="p")
    session.add(definition)
    session.flush()
    version = DefinitionVersion(definition_id=definition.id, version=1, sha256="0" * 64, files={}, spec_json="{}")
    session.add(version)
    session.flush()
    instances = {}
    for unit in TASK_UNITS:
        instances[unit] = ProcessInstance(version_id=version.id, process_key="p", business_key=str(unit), year=2025,
                                          unit_code=unit, state=b"")
        session.add(instances[unit])
    session.flush()
    rows = []
    for number, (group, unit, step, claimed) in enumerate(itertools.product(GROUPS, TASK_UNITS, STEPS, (False, True))):
        rows.append(HumanTask(instance_id=instances[unit].id, task_uuid=f"t{number}", process_key="p", step_id=step,
                              step_name=step, candidate_group=group, unit_code=unit, year=2025,
                              state=TaskState.OPEN, assignee_id=claimant.id if claimed else None))
    session.add_all(rows)
    session.flush()
    return rows


def _people(session: Session) -> list[User]:
    """Every role in the home agency and with no agency, a role pair, and deputies with every kind of assignment."""
    made: list[User] = []

    def person(name: str, roles: list[Role], unit: str | None) -> User:
        made.append(users.create_user(session, name, "ngua-o-qua-cau-tre", name, roles, unit))
        return made[-1]

    for role in Role:
        person(f"{role.value}_home", [role], HOME)
        person(f"{role.value}_other", [role], OTHER)
        person(f"{role.value}_none", [role], None)
    person("officer_and_deputy", [Role.AGENCY_OFFICER, Role.DEPUTY], HOME)
    head = next(u for u in made if u.username == "agency_head_home")

    def assign(deputy: User, unit: str, scope: list[str], start: date, end: date) -> None:
        session.add(DeputyAssignment(deputy_id=deputy.id, head_id=head.id, unit_code=unit, document_number="12/QĐ",
                                     document_date=start, valid_from=start, valid_to=end, scope=scope))

    week = timedelta(days=7)
    assign(person("deputy_in_scope", [Role.DEPUTY], HOME), HOME, ["approve_report"], TODAY - week, TODAY + week)
    assign(person("deputy_out_of_scope", [Role.DEPUTY], HOME), HOME, ["draft_report"], TODAY - week, TODAY + week)
    assign(person("deputy_expired", [Role.DEPUTY], HOME), HOME, ["approve_report"], TODAY - 2 * week, TODAY - week)
    assign(person("deputy_not_yet", [Role.DEPUTY], HOME), HOME, ["approve_report"], TODAY + week, TODAY + 2 * week)
    assign(person("deputy_first_day", [Role.DEPUTY], HOME), HOME, ["approve_report"], TODAY, TODAY)
    # An assignment outlives the role: whoever no longer holds the deputy role acts for nobody.
    assign(person("former_deputy", [Role.AGENCY_OFFICER], HOME), HOME, ["approve_report"], TODAY - week, TODAY + week)
    assign(person("deputy_other_unit", [Role.DEPUTY], HOME), OTHER, ["approve_report"], TODAY - week, TODAY + week)
    assign(next(u for u in made if u.username == "officer_and_deputy"), HOME, ["approve_report", "review_report"],
           TODAY - week, TODAY + week)
    session.flush()
    return made


def test_authority_and_actionable_agree_on_every_role_step_unit_deputy_and_claim(session):
    load_units(session)
    people = _people(session)
    claimant = people[0]
    rows = _tasks(session, claimant)
    session.commit()
    disagreements = []
    for person in people:
        in_sql = set(session.scalars(select(HumanTask.id).where(permissions.actionable(session, person, TODAY))))
        may_act_now = set()
        for task in rows:
            granted = permissions.authority(session, person, task, TODAY)
            if (granted is not None) != (task.id in in_sql):
                disagreements.append((person.username, task.candidate_group, task.unit_code, task.step_id,
                                      "python" if granted else "sql"))
            if permissions.may_act(granted, person, task):
                may_act_now.add(task.id)
        # The short inbox (worker, feed) is the SQL rule plus "unclaimed, or claimed by me": the same as may_act.
        assert {t.id for t in tasks.inbox(session, person, TODAY, limit=10_000)} == may_act_now, person.username
    assert disagreements == []


def test_the_cases_where_the_two_copies_disagreed_are_decided(session):
    load_units(session)
    people = {u.username: u for u in _people(session)}
    rows = _tasks(session, people["admin_home"])
    session.commit()

    def allowed(username: str, group: str, unit: str | None, step: str = "approve_report") -> bool:
        task = next(t for t in rows if (t.candidate_group, t.unit_code, t.step_id, t.assignee_id)
                    == (group, unit, step, None))
        return permissions.authority(session, people[username], task, TODAY) is not None

    # A deputy acts only for the head, by a written assignment, and only while holding the deputy role.
    assert allowed("deputy_in_scope", "agency_head", HOME)
    assert not allowed("former_deputy", "agency_head", HOME)
    # "deputy" is not a group of its own: no deputy anywhere picks up a step drawn for it.
    assert not any(allowed(name, "deputy", unit) for name in people for unit in TASK_UNITS)
    # An agency step of a process without an agency belongs to no agency's officer.
    assert not allowed("agency_officer_home", "agency_officer", None)
    assert allowed("agency_officer_home", "agency_officer", HOME)
    assert not allowed("agency_officer_home", "agency_officer", OTHER)


@pytest.mark.parametrize(("username", "rule"), [
    ("agency_head_home", "vai trò Thủ trưởng cơ quan của đơn vị STC"),
    ("deputy_in_scope", "cấp phó được phân công theo văn bản 12/QĐ (03/11/2025–17/11/2025)"),
])
def test_why_names_the_rule_that_routed_the_task(session, username, rule):
    load_units(session)
    people = {u.username: u for u in _people(session)}
    rows = _tasks(session, people["admin_home"])
    task = next(t for t in rows if (t.candidate_group, t.unit_code, t.step_id, t.assignee_id)
                == ("agency_head", HOME, "approve_report", None))
    assert permissions.why(session, people[username], task, TODAY) == (
        f"Bước thuộc nhóm 'agency_head', cơ quan STC; bạn được giao theo {rule}.")
    assert permissions.why(session, people["agency_officer_home"], task, TODAY) == (
        "Bước thuộc nhóm 'agency_head', cơ quan STC; bạn không có quyền xử lý.")


def test_each_role_set_is_defined_once_in_permissions():
    root = Path(__file__).resolve().parents[2]
    for name in ("AGENCY_GROUPS", "AGENCY_ROLES", "CENTRAL_ROLES", "RESULT_VIEWERS", "OPENING_ROLES",
                 "DEFINITION_EDITORS", "PROCESS_VIEWERS", "CALENDAR_ROLES", "DEADLINE_ROLES", "USER_ADMINS",
                 "TASK_VIEWERS", "GROUP_LEADERS"):
        found = subprocess.run(["git", "grep", "-n", "-E", rf"^\s*{name}(: [^=]+)? = ", "--", "*.py"], cwd=root,
                               capture_output=True, text=True).stdout.splitlines()
        assert [line.split(":")[0] for line in found] == ["workflows/permissions.py"], (name, found)
