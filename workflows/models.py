"""Database tables, as SQLAlchemy 2 typed mappings on one plain Base (no Flask here; webapp wraps this Base)."""
from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    or_,
)
from sqlalchemy import event as sql_event
from sqlalchemy import text as text_clause
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    # Stable constraint names so Alembic migrations diff cleanly on SQLite and PostgreSQL alike; the type map is on
    # the registry because Flask-SQLAlchemy copies this class body and refuses a per-class type_annotation_map.
    registry = registry(
        metadata=MetaData(
            naming_convention={
                "ix": "ix_%(column_0_label)s",
                "uq": "uq_%(table_name)s_%(column_0_name)s",
                "ck": "ck_%(table_name)s_%(constraint_name)s",
                "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
                "pk": "pk_%(table_name)s",
            }
        ),
        type_annotation_map={datetime: DateTime(timezone=True), dict[str, Any]: JSON, list[Any]: JSON},
    )


def _enum(cls: type[enum.Enum]) -> Enum:
    # Store the readable value, not the member name, and avoid native PG enums so adding a member is a plain migration.
    return Enum(cls, native_enum=False, length=40, values_callable=lambda e: [m.value for m in e])


# --- organisation -----------------------------------------------------------------------------------------------


class Block(enum.StrEnum):
    DEPARTMENT = "department"
    DISTRICT = "district"


class Unit(Base):
    """A unit evaluated under the Decision: a provincial department or a district-level People's Committee."""

    __tablename__ = "unit"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    history: Mapped[list[UnitHistory]] = relationship(
        back_populates="unit", order_by="UnitHistory.valid_from", cascade="all, delete-orphan"
    )


class UnitHistory(Base):
    """Effective-dated facts about a unit (A26): names, block and existence change with mergers and upgrades."""

    __tablename__ = "unit_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(ForeignKey("unit.code"), index=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    block: Mapped[Block] = mapped_column(_enum(Block))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    successor_code: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[Unit] = relationship(back_populates="history")


class Role(enum.StrEnum):
    AGENCY_OFFICER = "agency_officer"
    AGENCY_HEAD = "agency_head"
    DEPUTY = "deputy"
    DIC_OFFICER = "dic_officer"
    DIC_LEADER = "dic_leader"
    HOME_AFFAIRS = "home_affairs"
    COMMITTEE = "committee"
    SUPERVISOR = "supervisor"
    PROCESS_OWNER = "process_owner"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_digest: Mapped[bool] = mapped_column(Boolean, default=True)  # opt-out of the daily e-mail digest
    # Part of every session and remember cookie (get_id): bumping it ends every session of the account at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Part of every calendar-feed URL: moves on with a new password or "sign out everywhere", not with a plain logout
    # (which moves session_version), so signing out of a browser keeps the person's calendar subscription working.
    credentials_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    # Flask-Login's protocol, written out so this module needs no Flask import.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        # Flask-Login's "alternative id": a cookie made before the version changed no longer loads the user.
        return f"{self.id}:{self.session_version}"

    @property
    def role_set(self) -> set[Role]:
        return {r.role for r in self.roles}

    def has_role(self, role: Role) -> bool:
        return role in self.role_set

    def has_any_role(self, *names: str) -> bool:
        return any(Role(name) in self.role_set for name in names)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserRole(Base):
    __tablename__ = "user_role"
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(_enum(Role), primary_key=True)


class DeputyAssignment(Base):
    """A head's written assignment of a deputy to answer for IT application (Điều 2.3)."""

    __tablename__ = "deputy_assignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    head_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"))
    document_number: Mapped[str] = mapped_column(String(100))
    document_date: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    # Step ids of the process the deputy may act on; the head's approval step by default.
    scope: Mapped[list[Any]] = mapped_column(JSON, default=lambda: ["approve_report"])
    deputy: Mapped[User] = relationship(foreign_keys=[deputy_id])
    head: Mapped[User] = relationship(foreign_keys=[head_id])


# --- process definitions and instances --------------------------------------------------------------------------


class ProcessDefinition(Base):
    __tablename__ = "process_definition"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # the BPMN process id
    name: Mapped[str] = mapped_column(String(300))
    # The version new cycles start on, chosen by the process owner; None means the newest.
    current_version_id: Mapped[int | None] = mapped_column(ForeignKey("definition_version.id", use_alter=True))
    versions: Mapped[list[DefinitionVersion]] = relationship(
        back_populates="definition", order_by="DefinitionVersion.version",
        foreign_keys="DefinitionVersion.definition_id",
    )


class DefinitionVersion(Base):
    """An immutable, numbered deployment of one process with the files it needs; instances stay on their version."""

    __tablename__ = "definition_version"
    __table_args__ = (UniqueConstraint("definition_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    files: Mapped[dict[str, Any]] = mapped_column(JSON)  # file name -> text exactly as deployed
    spec_json: Mapped[str] = mapped_column(Text)  # serialized SpiffWorkflow spec + subprocess specs
    comment: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    definition: Mapped[ProcessDefinition] = relationship(back_populates="versions", lazy="joined",
                                                         foreign_keys=[definition_id])


class InstanceStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_instance_cycle_status", "cycle_id", "process_key", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    process_key: Mapped[str] = mapped_column(String(100))
    business_key: Mapped[str] = mapped_column(String(100), index=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycle.id", use_alter=True))
    year: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"))
    status: Mapped[InstanceStatus] = mapped_column(_enum(InstanceStatus), default=InstanceStatus.RUNNING)
    state: Mapped[bytes] = mapped_column(LargeBinary)  # engine state, JSON bytes; the spec lives on the version
    next_timer_at: Mapped[datetime | None] = mapped_column(index=True)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The hash of this instance's latest audit event ("" before the first): its chain's head, read with the row and
    # moved on in the same UPDATE that saves the engine state (workflows/audit.py), so appending costs no extra query.
    audit_head: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # SQLite only, and only inside one statement: the audit events of this save (a JSON array of rows), which the
    # trigger below inserts and clears again, so the UPDATE writes its events as PostgreSQL's writable CTE does.
    pending_events: Mapped[str | None] = mapped_column(Text, deferred=True)
    version: Mapped[DefinitionVersion] = relationship()

    # Optimistic lock: two transactions that loaded the same state cannot both save it (StaleDataError).
    __mapper_args__ = {"version_id_col": lock_version}


class TaskState(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class HumanTask(Base):
    """One row per human task: what inboxes query, without loading engine state."""

    __tablename__ = "human_task"
    __table_args__ = (
        # Covering the inbox filters, so counting a group's 10,000 open tasks reads the index alone.
        Index("ix_task_inbox", "state", "candidate_group", "unit_code", "assignee_id", "due_on"),
        Index("ix_task_assignee", "assignee_id", "state"),
        Index("ix_task_done", "completed_by_id", "state"),
        Index("ix_task_instance", "instance_id", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    task_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    process_key: Mapped[str] = mapped_column(String(100))
    step_id: Mapped[str] = mapped_column(String(100))
    step_name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200))
    candidate_group: Mapped[str] = mapped_column(String(100))
    form_key: Mapped[str | None] = mapped_column(String(200))
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"))
    year: Mapped[int] = mapped_column(Integer)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    state: Mapped[TaskState] = mapped_column(_enum(TaskState), default=TaskState.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date | None] = mapped_column(Date)
    due_source: Mapped[str | None] = mapped_column(String(200))  # where the deadline came from
    # camunda:priority (Camunda's default is 50) and camunda:followUpDate, as the modeller set them; None if unset.
    priority: Mapped[int | None] = mapped_column(Integer)
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    acting_for_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # the head a deputy acted for
    return_reason: Mapped[str | None] = mapped_column(Text)  # shown on top of a task re-opened after a return
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # One instance of a multi-instance task: {"variable": its camunda:elementVariable, "value": this instance's item}.
    instance_item: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    instance: Mapped[ProcessInstance] = relationship()
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    __mapper_args__ = {"version_id_col": lock_version}


class UnitDraft(Base):
    """What was typed for one unit on a province-wide task (consolidation, evaluation), saved as it is typed.

    A row per (task, unit), apart from the task row: saving one unit rewrites only that unit's row and never bumps
    the task's lock_version, so saving as one types does not collide with another person's completion or claim.
    """

    __tablename__ = "unit_draft"
    __table_args__ = (UniqueConstraint("task_id", "unit_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id"))
    unit_code: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class AuditEvent(Base):
    """Append-only history: who did what, when, with the data submitted."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    acting_for_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(50))
    step_id: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text, default="")  # in Vietnamese, as written: what search and exports read
    # The message's template and parameters (workflows.messages.Text.to_json), so pages show it in their language;
    # None for a message written as a plain str (JSON null, like `data`: a SQL NULL in some rows of the bulk INSERT
    # would make the ORM split it in two), and NULL for events written before the column existed.
    message_text: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The tamper-evident chain (workflows/audit.py): the hash of the chain's previous event ("" for the first) and
    # sha256 over that and this event's fields. Written by runtime.commit() through audit.chain(), never by hand.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


# SQLite has no writable CTE: an instance's UPDATE that sets pending_events inserts those audit events (each a JSON
# array of the columns below, in order, as the SQLite driver would bind them) and empties the column again. An
# UPDATE that matches no row (a stale lock_version) fires nothing, so the events go in only with the save, as on
# PostgreSQL (workflows/row_writes.save_with_events). Migration 0b3c5e7a9d21 creates the same trigger.
EVENT_COLUMNS = ("instance_id", "task_id", "at", "actor_id", "acting_for_id", "kind", "step_id", "message",
                 "message_text", "data", "prev_hash", "hash")
_EACH_COLUMN = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(EVENT_COLUMNS)))
SQLITE_EVENTS_TRIGGER = (
    "CREATE TRIGGER process_instance_events AFTER UPDATE OF pending_events ON process_instance "
    "FOR EACH ROW WHEN NEW.pending_events IS NOT NULL BEGIN "
    f"INSERT INTO audit_event ({', '.join(EVENT_COLUMNS)}) SELECT {_EACH_COLUMN} "
    "FROM json_each(NEW.pending_events) ORDER BY key; "
    "UPDATE process_instance SET pending_events = NULL WHERE id = NEW.id; END"
)


class Comment(Base):
    """A comment on a task, visible to everyone who can see its instance."""

    __tablename__ = "comment"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    author: Mapped[User] = relationship()


class Evidence(Base):
    """A file uploaded as evidence for a criterion of an agency's report; stored outside the database."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    criterion_id: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))  # as the user named it, for display only
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)  # random, what is on disk
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """A message to one person (reminder, overdue, escalation, return…), shown in the app and sent in the digest.

    The unique key makes sending idempotent: however many workers run, a person gets one reminder of a kind for a
    task and deadline.
    """

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("user_id", "task_id", "kind", "due_on"),
        Index("ix_notification_unread", "user_id", "read_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    kind: Mapped[str] = mapped_column(String(40))  # remind_5, remind_1, overdue, escalate_head, escalate_supervisor…
    due_on: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]


class ApiToken(Base):
    """A bearer token for the JSON API; only its hash is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user: Mapped[User] = relationship(lazy="joined")


class LoginThrottle(Base):
    """Failed sign-ins per client address ("addr:…") and per username ("user:…"), shared by every app server.

    `failures` and `next_allowed_at` change only in single conditional UPDATEs (workflows/accounts.py), so parallel
    guesses cannot all read the same count.
    """

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_allowed_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# --- the annual cycle and its results ---------------------------------------------------------------------------


class CycleStatus(enum.StrEnum):
    REPORTING = "reporting"
    EVALUATING = "evaluating"
    DECIDED = "decided"


class Cycle(Base):
    __tablename__ = "cycle"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[CycleStatus] = mapped_column(_enum(CycleStatus), default=CycleStatus.REPORTING)
    report_due: Mapped[date] = mapped_column(Date)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", use_alter=True))
    # Versions pinned at opening, so a deployment mid-year never changes this year's agency reports or rules.
    report_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    evaluation_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision_number: Mapped[str | None] = mapped_column(String(50))
    decision_date: Mapped[date | None] = mapped_column(Date)
    report_version: Mapped[DefinitionVersion] = relationship(foreign_keys=[report_version_id])
    evaluation_version: Mapped[DefinitionVersion] = relationship(foreign_keys=[evaluation_version_id])


REPORT_NOT_IN_SQL = "outcome IS NULL OR outcome != 'accepted'"


def report_not_in(table: Any) -> Any:
    """TABLE's report (the Report table or an alias of it) is not in: running, returned for good, or unclassified.
    Written as ix_report_not_in's condition, the literal inline, so that both databases can use that index."""
    return or_(table.c.outcome.is_(None), table.c.outcome != literal_column("'accepted'"))


class Report(Base):
    """An agency's annual IT-application report and self-assessment (Điều 19).

    Where the report stands (drafting, with the head, with DIC, accepted) is not stored here: the task table and
    the instance status already say it.
    """

    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("year", "unit_code"),
        # The reports of a year not in yet, and only those: "is another report still out?", asked at every
        # acceptance, reads a few index entries at the year's end instead of every accepted report before them.
        # A query uses it when its WHERE repeats this condition word for word, with the literal (report_not_in).
        Index("ix_report_not_in", "year", sqlite_where=text_clause(REPORT_NOT_IN_SQL),
              postgresql_where=text_clause(REPORT_NOT_IN_SQL)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # id -> {status, note, evidence}
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # staff, e-document rates, difficulties
    budget: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # category -> amount (VND)
    submitted_at: Mapped[datetime | None]
    # Which end the report reached, from the end event's `outcome` property: accepted, rejected, or NULL (running,
    # cancelled, or an end the application cannot classify). Only 'accepted' counts as a report that came in.
    outcome: Mapped[str | None] = mapped_column(String(20))
    accepted_at: Mapped[datetime | None]
    revision_due: Mapped[date | None] = mapped_column(Date)  # the deadline of the last return for revision
    instance: Mapped[ProcessInstance] = relationship()


class Evaluation(Base):
    """Per year and unit: the inputs, the proposal of the decision tables, and the final outcome."""

    __tablename__ = "evaluation"
    __table_args__ = (UniqueConstraint("year", "unit_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"))
    block: Mapped[Block] = mapped_column(_enum(Block))
    ict_rank: Mapped[int | None] = mapped_column(Integer)
    ict_units: Mapped[int | None] = mapped_column(Integer)  # the size of the unit's ranking block
    sections_violated: Mapped[list[Any]] = mapped_column(JSON, default=list)
    appraisal: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # DIC's verdict per criterion
    late_report: Mapped[bool] = mapped_column(Boolean, default=False)
    report_status: Mapped[str | None] = mapped_column(String(10))  # accepted, late or missing (A24)
    slow_conclusions: Mapped[bool | None] = mapped_column(Boolean)
    superior_requires_review: Mapped[bool] = mapped_column(Boolean, default=False)
    lacks_responsibility: Mapped[bool] = mapped_column(Boolean, default=False)
    special_achievement: Mapped[bool] = mapped_column(Boolean, default=False)
    proposed: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # decision-table output
    rating: Mapped[str | None] = mapped_column(String(30))
    sanction: Mapped[str | None] = mapped_column(String(30))
    reward: Mapped[str | None] = mapped_column(String(30))
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    articles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    imported: Mapped[bool] = mapped_column(Boolean, default=False)  # a prior year's rank brought in from CSV
    decision_number: Mapped[str | None] = mapped_column(String(50))
    decision_date: Mapped[date | None] = mapped_column(Date)
    # In the order made; the id breaks ties (several overrides of one action share its moment).
    overrides: Mapped[list[Override]] = relationship(order_by="(Override.at, Override.id)",
                                                     cascade="all, delete-orphan")


class Override(Base):
    """A change a human made to a proposed outcome, always with a reason."""

    __tablename__ = "override"
    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), index=True)
    stage: Mapped[str] = mapped_column(String(40))  # evaluate, dic_self_review, home_affairs, committee
    field: Mapped[str] = mapped_column(String(30))
    old_value: Mapped[str | None] = mapped_column(String(30))
    new_value: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    article: Mapped[str | None] = mapped_column(String(40))  # the clause the changed outcome rests on
    by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by: Mapped[User] = relationship()


class CalendarDay(Base):
    """A per-year override of the working-day calendar, from the Government's annual notice."""

    __tablename__ = "calendar_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # holiday, compensatory, swap_off, swap_workday
    name_vi: Mapped[str] = mapped_column(String(200))
    source_doc: Mapped[str | None] = mapped_column(String(200))


class DocumentTemplate(Base):
    """An administrator's replacement for one of the DOCX templates shipped in workflows/documents/templates."""

    __tablename__ = "document_template"
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)  # dic_report, ha_proposal, decision, unit_notice
    content: Mapped[bytes] = mapped_column(LargeBinary)
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class YearSetting(Base):
    """A per-year setting of the rules (docs/RULES.md, "per year"): rank shares, critical criteria, periods."""

    __tablename__ = "year_setting"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class UnitChange(Base):
    """A change of the unit list with its legal basis: rename, merge, split, dissolve or establish (A26).

    The effective-dated rows of unit_history say what existed when; this says why, on which document, and which units
    came from which, for the two-consecutive-years rule (A9) and for the administrator's history of changes.
    """

    __tablename__ = "unit_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # rename, merge, split, dissolve, establish
    effective_on: Mapped[date] = mapped_column(Date)
    document: Mapped[str] = mapped_column(String(300))  # the decision or source it rests on
    from_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    to_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfficeTerm(Base):
    """A head's term of office in a unit (A15): who (a login if they have one, else a name), from, to, on which act.

    The persons evaluated for a year are read from these terms (workflows/subjects.py); a unit without any term falls
    back to the heads on record and says so.
    """

    __tablename__ = "office_term"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    person_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="head")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)  # None: still in office
    document: Mapped[str] = mapped_column(String(300))  # the appointment decision
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class SubjectChoice(Base):
    """Home Affairs' choice of the person(s) evaluated for a unit and year when more than one could be (A14, A15)."""

    __tablename__ = "subject_choice"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    subjects: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the names chosen, as the candidates list them
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


sql_event.listen(Base.metadata, "after_create", DDL(SQLITE_EVENTS_TRIGGER).execute_if(dialect="sqlite"))
