"""Who may do what: every role set and every permission rule, in one place.

Modules and views ask here; nothing else looks at a user's roles. "May act on a task" exists twice, side by side:
`authority` (Python, for one task, with the rule that grants it) and `actionable` (the same rule as an SQL condition,
for inboxes over the task table). tests/workflows/test_permissions.py checks they agree on every case.

Depends only on the models (and the local calendar date, for "why"), so any module may import it without a cycle.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from workflows.calendar import local_today
from workflows.errors import Conflict, NotAllowed
from workflows.messages import Text
from workflows.models import AuditEvent, DeputyAssignment, HumanTask, Role, TaskState, User
from workflows.vocabulary import ROLE_LABELS, role_label

# --- role sets -----------------------------------------------------------------------------------------------------

# Candidate groups whose tasks belong to one agency: only that agency's holders of the role act on them.
AGENCY_GROUPS = frozenset({Role.AGENCY_OFFICER.value, Role.AGENCY_HEAD.value})
# People of one agency: they see their own agency's instances, reports and evidence, and nothing of others'.
AGENCY_ROLES = frozenset({Role.AGENCY_OFFICER, Role.AGENCY_HEAD, Role.DEPUTY})
# Who reads every agency's instances, reports and evidence: the evaluator, the proposer, the decider, and oversight.
CENTRAL_ROLES = frozenset({Role.DIC_OFFICER, Role.DIC_LEADER, Role.HOME_AFFAIRS, Role.COMMITTEE, Role.SUPERVISOR,
                           Role.PROCESS_OWNER, Role.ADMIN})
# Who reads a year's outcomes (proposed or decided): DIC runs the cycle, Home Affairs and the Committee decide.
RESULT_VIEWERS = frozenset({Role.DIC_OFFICER, Role.DIC_LEADER, Role.HOME_AFFAIRS, Role.COMMITTEE, Role.SUPERVISOR,
                            Role.ADMIN})
# Who reads the statistics over the years (workflows/statistics.py): DIC, Home Affairs, the Committee, oversight.
STATISTICS_VIEWERS = frozenset({Role.DIC_OFFICER, Role.DIC_LEADER, Role.HOME_AFFAIRS, Role.COMMITTEE,
                                Role.SUPERVISOR, Role.ADMIN})
# Who opens a year (DIC runs the cycle).
OPENING_ROLES = frozenset({Role.DIC_LEADER, Role.DIC_OFFICER, Role.ADMIN})
# Who uploads, chooses and migrates process definitions (workflows/versions.py, the definitions pages and API).
DEFINITION_EDITORS = frozenset({Role.PROCESS_OWNER, Role.ADMIN})
# Who reads the process pages (diagrams with counts per step, decision tables, testing a table): the editors, and
# those who run or watch the cycle.
PROCESS_VIEWERS = DEFINITION_EDITORS | {Role.DIC_OFFICER, Role.DIC_LEADER, Role.SUPERVISOR}
# Who reads the supervisors' boards (workflows/boards.py).
BOARD_ROLES = frozenset({Role.SUPERVISOR, Role.DIC_LEADER, Role.COMMITTEE, Role.ADMIN})
# Who edits the working-day calendar.
CALENDAR_ROLES = frozenset({Role.ADMIN})
# Who moves a task's deadline.
DEADLINE_ROLES = frozenset({Role.SUPERVISOR})
# Who manages users, roles and deputy assignments.
USER_ADMINS = frozenset({Role.ADMIN})
# Who replaces the templates of the year's documents (workflows/documents).
TEMPLATE_EDITORS = frozenset({Role.ADMIN})
# Who opens any task's page without acting on it.
TASK_VIEWERS = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.PROCESS_OWNER})
# Candidate group → the role that leads it and may hand its tasks to another member (workflows/assignment.py).
# Supervisors lead every group: chasing late work is their job.
GROUP_LEADERS: dict[str, Role] = {
    Role.AGENCY_OFFICER.value: Role.AGENCY_HEAD,  # the head of the same agency
    Role.DIC_OFFICER.value: Role.DIC_LEADER,
    Role.DIC_LEADER.value: Role.DIC_LEADER,
}


def holds_any(user: User | None, roles: frozenset[Role] | set[Role]) -> bool:
    """Whether USER holds one of ROLES (False for nobody)."""
    return user is not None and bool(user.role_set & roles)


# --- may act on a task: Python and SQL, side by side ----------------------------------------------------------------


@dataclass(frozen=True)
class Authority:
    """Why ACTOR may act on a task: directly, or as a deputy for a head (Điều 2.3)."""

    rule: str
    acting_for: User | None = None


def authority(session: Session, actor: User, task: HumanTask, today: date) -> Authority | None:
    """The rule that lets ACTOR act on TASK today, or None. The same rule as `actionable`, one task at a time.

    - an agency step (officer, head): the role, in the task's own agency;
    - a head's step: also a deputy (holding the deputy role) named in an assignment for that agency, valid today,
      whose scope lists the step;
    - any other step: the role its candidate group names. "deputy" is never a group of its own: a deputy acts only
      for the head, by a written assignment.
    Who holds a claimed task is not part of this rule (see `may_act`).
    """
    group = task.candidate_group
    if group in AGENCY_GROUPS:
        if actor.has_role(Role(group)) and actor.unit_code == task.unit_code:
            if task.unit_code is None:
                return Authority(Text("vai trò {role}", role=role_label(group)))
            return Authority(Text("vai trò {role} của đơn vị {unit}", role=role_label(group),
                                  unit=task.unit_code))
        if group == Role.AGENCY_HEAD.value and task.unit_code is not None and actor.has_role(Role.DEPUTY):
            assignment = _deputy_assignment(session, actor, task, today)
            if assignment is not None:
                return Authority(
                    Text("cấp phó được phân công theo văn bản {document} ({start}–{end})",
                         document=assignment.document_number, start=f"{assignment.valid_from:%d/%m/%Y}",
                         end=f"{assignment.valid_to:%d/%m/%Y}"),
                    acting_for=assignment.head,
                )
        return None
    if group == Role.DEPUTY.value or group not in ROLE_LABELS:
        return None
    return Authority(Text("vai trò {role}", role=role_label(group))) if actor.has_role(Role(group)) else None


def actionable(session: Session, user: User, today: date) -> ColumnElement[bool]:
    """The SQL condition for tasks USER may act on: `authority`'s rule over the task table."""
    conditions: list[ColumnElement[bool]] = []
    for role in user.role_set:
        if role.value in AGENCY_GROUPS:
            same_agency = (HumanTask.unit_code.is_(None) if user.unit_code is None
                           else HumanTask.unit_code == user.unit_code)
            conditions.append(and_(HumanTask.candidate_group == role.value, same_agency))
        elif role is not Role.DEPUTY:
            conditions.append(HumanTask.candidate_group == role.value)
    if user.has_role(Role.DEPUTY):
        for assignment in session.scalars(select(DeputyAssignment).where(
                DeputyAssignment.deputy_id == user.id, DeputyAssignment.valid_from <= today,
                DeputyAssignment.valid_to >= today)):
            conditions.append(and_(HumanTask.candidate_group == Role.AGENCY_HEAD.value,
                                   HumanTask.unit_code == assignment.unit_code,
                                   HumanTask.step_id.in_(assignment.scope or [])))
    return or_(*conditions) if conditions else false()


def _deputy_assignment(session: Session, actor: User, task: HumanTask, today: date) -> DeputyAssignment | None:
    for assignment in session.scalars(
        select(DeputyAssignment).where(
            DeputyAssignment.deputy_id == actor.id,
            DeputyAssignment.unit_code == task.unit_code,
            DeputyAssignment.valid_from <= today,
            DeputyAssignment.valid_to >= today,
        )
    ):
        if task.step_id in (assignment.scope or []):
            return assignment
    return None


def may_act(granted: Authority | None, actor: User, task: HumanTask) -> bool:
    """Whether ACTOR, granted GRANTED, may act on TASK now: it is open and unclaimed, or claimed by them."""
    return granted is not None and task.state == TaskState.OPEN and task.assignee_id in (None, actor.id)


def authority_to_work(session: Session, actor: User, task: HumanTask, today: date, drafting: bool = False) -> Authority:
    """The checks before ACTOR completes TASK, claims it or saves a draft on it (tasks.py, unit_drafts.py): a rule lets
    ACTOR act, nobody else holds it, and it is still open. Returns the rule; raises NotAllowed, or Conflict naming who
    completed it and when (DRAFTING: the refused action was saving a draft, not sending)."""
    found = authority(session, actor, task, today)
    if found is None:
        raise NotAllowed(Text("Bạn không có quyền xử lý công việc '{step}'.", step=task.step_name))
    if task.assignee_id is not None and task.assignee_id != actor.id:
        holder = task.assignee.full_name if task.assignee else Text("người khác")
        raise NotAllowed(Text("Công việc đã được {name} nhận xử lý.", name=holder))
    if task.state != TaskState.OPEN:
        who = task.completed_by.full_name if task.completed_by else Text("người khác")
        when = Text(" lúc {at}", at=f"{task.completed_at:%H:%M %d/%m/%Y}") if task.completed_at else ""
        if drafting:
            raise Conflict(Text("Công việc '{step}' đã được {who} xử lý{when}; không thể lưu nháp.",
                                step=task.step_name, who=who, when=when))
        raise Conflict(Text("Công việc '{step}' đã được {who} xử lý{when}; không thể gửi lại.", step=task.step_name,
                            who=who, when=when))
    return found


# --- seeing and leading ----------------------------------------------------------------------------------------------


def shows_codes(viewer: User) -> bool:
    """Process owners (and administrators) see the engine's own terms beside the words: dueDate, reason codes."""
    return holds_any(viewer, frozenset({Role.PROCESS_OWNER, Role.ADMIN}))


def leads_group(actor: User, group: str, unit_code: str | None) -> bool:
    """A supervisor leads every group; otherwise the group's leader (of the same agency, for agency work)."""
    if actor.has_role(Role.SUPERVISOR):
        return True
    leader = GROUP_LEADERS.get(group)
    if leader is None or not actor.has_role(leader):
        return False
    return group not in AGENCY_GROUPS or actor.unit_code == unit_code


def may_reassign(actor: User, task: HumanTask) -> bool:
    """Whether ACTOR may hand TASK to someone else: it is open and ACTOR leads its group."""
    return task.state == TaskState.OPEN and leads_group(actor, task.candidate_group, task.unit_code)


def may_view(session: Session, viewer: User, task: HumanTask, today: date, granted: Authority | None = None) -> bool:
    """Who may open a task's page: those who may act on it, hold or completed it, lead its group, or supervise."""
    return (granted is not None or authority(session, viewer, task, today) is not None
            or viewer.id in (task.completed_by_id, task.assignee_id)
            or holds_any(viewer, TASK_VIEWERS) or may_reassign(viewer, task))


def sees_every_agency(viewer: User) -> bool:
    """Central roles see every agency's instances, reports, evidence and progress."""
    return holds_any(viewer, CENTRAL_ROLES)


def may_read_instance(viewer: User, unit_code: str | None) -> bool:
    """Central roles read every instance; an agency's people read their own agency's instances only."""
    if sees_every_agency(viewer):
        return True
    return unit_code is not None and viewer.unit_code == unit_code and bool(viewer.role_set)


def may_read_report(viewer: User, unit_code: str) -> bool:
    """A report and its evidence: users of the reporting unit, and the central roles."""
    return sees_every_agency(viewer) or (holds_any(viewer, AGENCY_ROLES) and viewer.unit_code == unit_code)


def may_follow_cycle(viewer: User) -> bool:
    """A year's progress page: central roles (every agency) and an agency's people (their own row)."""
    return sees_every_agency(viewer) or (holds_any(viewer, AGENCY_ROLES) and viewer.unit_code is not None)


def may_see_results(viewer: User) -> bool:
    return holds_any(viewer, RESULT_VIEWERS)


def may_see_agency_history(viewer: User | None, unit_code: str) -> bool:
    """An agency's history over the years: those who read results see every agency's, its own people their own."""
    if viewer is None:
        return False
    return may_see_results(viewer) or (holds_any(viewer, AGENCY_ROLES) and viewer.unit_code == unit_code)


def may_see_statistics(viewer: User | None) -> bool:
    return holds_any(viewer, STATISTICS_VIEWERS)


def may_read_document(viewer: User, kind: str, unit_code: str | None = None) -> bool:
    """Those who read the year's results read every document; a unit's own people read their unit's notice."""
    if may_see_results(viewer):
        return True
    return kind == "unit_notice" and holds_any(viewer, AGENCY_ROLES) and viewer.unit_code == unit_code


def may_replace_document_templates(actor: User | None) -> bool:
    return holds_any(actor, TEMPLATE_EDITORS)


def may_open_cycle(actor: User | None) -> bool:
    return holds_any(actor, OPENING_ROLES)


def may_edit_definitions(actor: User | None) -> bool:
    """Upload, choose the current version, migrate instances."""
    return holds_any(actor, DEFINITION_EDITORS)


def may_view_processes(viewer: User | None) -> bool:
    return holds_any(viewer, PROCESS_VIEWERS)


def may_see_boards(viewer: User | None) -> bool:
    return holds_any(viewer, BOARD_ROLES)


def may_edit_calendar(actor: User | None) -> bool:
    return holds_any(actor, CALENDAR_ROLES)


def may_change_deadlines(actor: User | None) -> bool:
    return holds_any(actor, DEADLINE_ROLES)


def may_manage_users(actor: User | None) -> bool:
    return holds_any(actor, USER_ADMINS)


def needs_agency(roles: set[Role] | list[Role]) -> bool:
    """Agency roles need an agency (users.set_roles)."""
    return bool(set(roles) & AGENCY_ROLES)


def inbox_groups(user: User) -> set[str]:
    """The candidate groups whose steps USER's inbox filter offers: their roles, and a deputy the head's."""
    groups = {r.value for r in user.role_set}
    return groups | {Role.AGENCY_HEAD.value} if user.has_role(Role.DEPUTY) else groups


# --- why is this in my inbox ---------------------------------------------------------------------------------------


def why(session: Session, user: User, task: HumanTask, today: date) -> str:
    """Why TASK is in USER's inbox: the lane and role, the agency, and the assignment rule that routed it."""
    granted = authority(session, user, task, today)
    # Whole sentences per case, so that a translator never has to guess what a fragment attaches to.
    agency = Text(", cơ quan {unit}", unit=task.unit_code) if task.unit_code else ""
    group, lane = task.candidate_group, task.lane
    if granted is None:
        if lane:
            return Text("Bước thuộc làn '{lane}', nhóm '{group}'{agency}; bạn không có quyền xử lý.", lane=lane,
                        group=group, agency=agency)
        return Text("Bước thuộc nhóm '{group}'{agency}; bạn không có quyền xử lý.", group=group, agency=agency)
    if lane:
        routed = Text("Bước thuộc làn '{lane}', nhóm '{group}'{agency}; bạn được giao theo {rule}.", lane=lane,
                      group=group, agency=agency, rule=granted.rule)
    else:
        routed = Text("Bước thuộc nhóm '{group}'{agency}; bạn được giao theo {rule}.", group=group,
                      agency=agency, rule=granted.rule)
    if task.assignee_id == user.id:
        handed = session.execute(
            select(AuditEvent.at, User.full_name, AuditEvent.data).join(User, User.id == AuditEvent.actor_id)
            .where(AuditEvent.task_id == task.id, AuditEvent.kind == "task_reassigned")
            .order_by(AuditEvent.id.desc()).limit(1)).first()
        if handed is not None:
            reason = (handed.data or {}).get("reason", "")
            day = local_today(handed.at if handed.at.tzinfo else handed.at.replace(tzinfo=UTC))
            routed = Text("{routed} {name} đã giao lại việc này cho bạn ngày {day}: {reason}", routed=routed,
                          name=handed.full_name, day=f"{day:%d/%m/%Y}", reason=reason)
    return routed
