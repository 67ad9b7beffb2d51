"""What the cycle and instance pages show: who sees what, an instance's data and open steps, its timeline
(audit events merged with comments), and adding a comment. Read side only, apart from add_comment."""
from __future__ import annotations

import json
import re
import weakref
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import cycles, engine, instances, runtime
from workflows.calendar import LOCAL_TZ, local_today
from workflows.criteria import BUDGET_CATEGORIES, CRITERIA, CRITERIA_BY_ID, SECTION_TITLES_VI, STATUSES
from workflows.definitions import latest_version
from workflows.errors import InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import (
    AuditEvent,
    Comment,
    Cycle,
    DefinitionVersion,
    HumanTask,
    ProcessInstance,
    Report,
    Role,
    TaskState,
    User,
)
from workflows.rules import RATING_VI, REASONS_VI, REWARD_VI, SANCTION_VI
from workflows.tasks import may_view
from workflows.units import all_unit_names, unit_name

ROLE_VI = {
    Role.AGENCY_OFFICER: "Cán bộ chuyên trách CNTT của cơ quan",
    Role.AGENCY_HEAD: "Thủ trưởng cơ quan",
    Role.DEPUTY: "Cấp phó được phân công",
    Role.DIC_OFFICER: "Chuyên viên Sở TT&TT",
    Role.DIC_LEADER: "Lãnh đạo Sở TT&TT",
    Role.HOME_AFFAIRS: "Sở Nội vụ",
    Role.COMMITTEE: "UBND tỉnh",
    Role.SUPERVISOR: "Giám sát",
    Role.PROCESS_OWNER: "Chủ quy trình",
    Role.ADMIN: "Quản trị hệ thống",
}
CYCLE_STATUS_VI = {"reporting": "Đang nhận báo cáo", "evaluating": "Đang đánh giá", "decided": "Đã có quyết định"}
INSTANCE_STATUS_VI = {"running": "Đang xử lý", "completed": "Đã kết thúc", "cancelled": "Đã hủy"}
STAGE_VI = {"drafting": "Cơ quan đang lập báo cáo", "awaiting_head": "Chờ thủ trưởng phê duyệt",
            "awaiting_dic": "Chờ Sở TT&TT thẩm định", "accepted": "Đã tiếp nhận", "running": "Đang xử lý",
            "cancelled": "Đã hủy"}
OVERRIDE_STAGE_VI = {"evaluate": "Sở TT&TT đánh giá", "dic_self_review": "Thẩm định kết quả của Sở TT&TT",
                     "home_affairs": "Sở Nội vụ đề xuất", "committee": "UBND tỉnh quyết định"}
OUTCOME_FIELD_VI = {"rating": ("Xếp loại", RATING_VI), "sanction": ("Hình thức xử lý", SANCTION_VI),
                    "reward": ("Khen thưởng", REWARD_VI)}
# Keys of submitted data that are not camunda:formData fields (those take their label from the diagram).
KEY_VI = {
    "_authority": "Căn cứ giao việc", "criteria": "Tự đánh giá theo tiêu chí", "budget": "Kinh phí ứng dụng CNTT",
    "year": "Năm đánh giá", "report_due": "Hạn nộp báo cáo", "report_due_at": "Thời hạn nộp báo cáo",
    "unit_codes": "Các cơ quan", "unit_code": "Cơ quan", "unit_name": "Tên cơ quan",
    "reports_started": "Số báo cáo đã khởi tạo", "late_reports": "Số báo cáo nộp muộn hoặc không nộp",
    "proposals": "Số đề xuất", "manual_reviews": "Số trường hợp cần xem xét thủ công",
    "results_recorded": "Đã ghi nhận kết quả", "units": "Số liệu từng cơ quan", "overrides": "Điều chỉnh kết quả",
    "ict_rank": "Thứ hạng ICT Index", "ict_units": "Số đơn vị của khối", "appraisal": "Thẩm định theo tiêu chí",
    "slow_conclusions": "Chậm triển khai kết luận của UBND tỉnh",
    "superior_requires_review": "Cấp trên yêu cầu kiểm điểm",
    "lacks_responsibility": "Thiếu trách nhiệm", "special_achievement": "Thành tích đặc biệt xuất sắc",
    "reason": "Lý do", "body": "Nội dung", "status": "Kết quả", "note": "Ghi chú", "evidence": "Minh chứng",
}
ALL_SEEING = instances.READ_ALL_ROLES  # one rule for the pages and the API
RESULT_VIEWERS = {Role.DIC_OFFICER, Role.DIC_LEADER, Role.HOME_AFFAIRS, Role.COMMITTEE, Role.SUPERVISOR, Role.ADMIN}
AGENCY_ROLES = {Role.AGENCY_OFFICER, Role.AGENCY_HEAD, Role.DEPUTY}
COMMENT_MAX = 4000
SYSTEM = "Hệ thống"


@dataclass(frozen=True)
class Detail:
    """One line of data as people read it: a label and a value, or a label over nested lines."""

    label: str
    value: str = ""
    items: tuple[Detail, ...] = ()


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # UTC
    kind: str  # the audit event's kind, or "comment"
    who: str  # "cấp phó X thay mặt Y" when a deputy acted (a Text)
    message: str  # an event's Text when it kept its template (pages translate it), else as stored; a comment's body
    details: tuple[Detail, ...] = ()
    step_name: str | None = None

    @property
    def is_comment(self) -> bool:
        return self.kind == "comment"


@dataclass(frozen=True)
class OpenStep:
    task_id: int
    step_name: str
    holder: str  # the role, in Vietnamese
    assignee: str | None
    since: datetime
    due_on: date | None
    overdue: bool
    viewer_may_open: bool


@dataclass(frozen=True)
class CriterionRow:
    id: str
    title: str
    status: str
    note: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class ReportView:
    submitted_at: datetime | None
    sections: tuple[tuple[str, tuple[CriterionRow, ...]], ...]
    figures: tuple[Detail, ...]
    budget: tuple[Detail, ...]
    budget_total: str


@dataclass(frozen=True)
class InstancePage:
    instance: ProcessInstance
    process_name: str
    version: int
    status: str
    unit_name: str | None
    report: ReportView | None
    cycle_details: tuple[Detail, ...]
    open_steps: tuple[OpenStep, ...]
    timeline: tuple[TimelineEntry, ...]


def can_view(session: Session, viewer: User, instance: ProcessInstance) -> bool:
    """Central roles see every instance; an agency's people see only their own agency's."""
    return instances.may_read(viewer, instance.unit_code)


def _visible_instance(session: Session, instance_id: int, viewer: User) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(Text("Không tìm thấy hồ sơ #{id}.", id=instance_id))
    if not can_view(session, viewer, instance):
        raise NotAllowed(Text("Bạn không có quyền xem hồ sơ này."))
    return instance


def instance_page(session: Session, instance_id: int, viewer: User, today: date | None = None) -> InstancePage:
    """Everything the instance page shows, for VIEWER (NotAllowed when they may not see it)."""
    instance = _visible_instance(session, instance_id, viewer)
    today = today or local_today()
    version = session.get(DefinitionVersion, instance.version_id)
    assert version is not None
    report = session.scalar(select(Report).where(Report.instance_id == instance.id))
    cycle = session.scalar(select(Cycle).where(Cycle.instance_id == instance.id))
    return InstancePage(
        instance=instance,
        process_name=version.definition.name,
        version=version.version,
        status=INSTANCE_STATUS_VI.get(instance.status.value, instance.status.value),
        unit_name=unit_name(session, instance.unit_code, instance.year) if instance.unit_code else None,
        report=_report_view(session, report) if report is not None else None,
        cycle_details=_cycle_details(session, cycle) if cycle is not None else (),
        open_steps=_open_steps(session, instance, viewer, today),
        timeline=_timeline(session, instance),
    )


def report_view(session: Session, instance_id: int) -> ReportView | None:
    """The agency report of INSTANCE, for the head and DIC to read on their own steps (caller checks permission)."""
    report = session.scalar(select(Report).where(Report.instance_id == instance_id))
    return _report_view(session, report) if report is not None else None


def timeline(session: Session, instance_id: int, viewer: User) -> list[TimelineEntry]:
    """The instance's history, oldest first: every audit event and every comment."""
    return list(_timeline(session, _visible_instance(session, instance_id, viewer)))


def _timeline(session: Session, instance: ProcessInstance) -> tuple[TimelineEntry, ...]:
    events = list(session.scalars(
        select(AuditEvent).where(AuditEvent.instance_id == instance.id, AuditEvent.kind != "comment_added")
        .order_by(AuditEvent.at, AuditEvent.id)))
    comments = list(session.scalars(
        select(Comment).where(Comment.instance_id == instance.id).order_by(Comment.at, Comment.id)))
    user_ids = {e.actor_id for e in events} | {e.acting_for_id for e in events} | {c.author_id for c in comments}
    names = _user_names(session, {i for i in user_ids if i is not None})
    task_ids = {e.task_id for e in events} | {c.task_id for c in comments}
    steps = dict(session.execute(select(HumanTask.id, HumanTask.step_name)
                                 .where(HumanTask.id.in_({i for i in task_ids if i is not None}))).all())
    words = _vocabulary(session, instance.version_id)
    rows: list[tuple[datetime, int, int, TimelineEntry]] = []
    for e in events:
        who = _who(names, e.actor_id, e.acting_for_id)
        details = words.details(e.data) if e.data else ()
        rows.append((_utc(e.at), 0, e.id, TimelineEntry(_utc(e.at), e.kind, who, _event_message(e), details,
                                                        steps.get(e.task_id))))
    for c in comments:
        rows.append((_utc(c.at), 1, c.id, TimelineEntry(_utc(c.at), "comment", names.get(c.author_id, "?"), c.body,
                                                        step_name=steps.get(c.task_id))))
    return tuple(row[3] for row in sorted(rows, key=lambda r: r[:3]))


def _who(names: Mapping[int, str], actor_id: int | None, acting_for_id: int | None) -> str:
    if actor_id is None:
        return SYSTEM
    if acting_for_id is not None:
        return Text("cấp phó {deputy} thay mặt {head}", deputy=names.get(actor_id, "?"),
                    head=names.get(acting_for_id, "?"))
    return names.get(actor_id, "?")


def _event_message(event: AuditEvent) -> str:
    """EVENT's message: the Text it was written with, rebuilt from message_text, else the stored str (older events)."""
    if event.message_text:
        try:
            text = Text.from_json(event.message_text)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            return event.message
        if text == event.message:  # the stored Vietnamese stays the record
            return text
    return event.message


@runtime.atomic
def add_comment(session: Session, instance_id: int, viewer: User, body: str, task_id: int | None = None,
                now: datetime | None = None) -> Comment:
    """Add VIEWER's comment to an instance they can see (optionally about one of its tasks); audited."""
    instance = _visible_instance(session, instance_id, viewer)
    body = (body or "").strip()
    if not body:
        raise InvalidInput(Text("Chưa nhập nội dung bình luận."), {"body": Text("Nhập nội dung bình luận.")})
    if len(body) > COMMENT_MAX:
        raise InvalidInput(Text("Bình luận quá dài."), {"body": Text("Bình luận tối đa {max} ký tự.", max=COMMENT_MAX)})
    task = None
    if task_id is not None:
        task = session.get(HumanTask, task_id)
        if task is None or task.instance_id != instance.id:
            raise InvalidInput(Text("Bước được chọn không thuộc hồ sơ này."),
                               {"task_id": Text("Chọn một bước của hồ sơ này.")})
    ctx = runtime.Context.create(session, viewer, now)
    comment = Comment(instance_id=instance.id, task_id=task.id if task else None, author_id=viewer.id, body=body,
                      at=ctx.now)
    session.add(comment)
    session.flush()
    runtime.audit(ctx, "comment_added", Text("{name} bình luận", name=viewer.full_name), instance, task,
                  data={"comment_id": comment.id, "body": body})
    runtime.commit(ctx)
    return comment


# --- the data as it stands ----------------------------------------------------------------------------------------


def _report_view(session: Session, report: Report) -> ReportView:
    sections = []
    for number, title in SECTION_TITLES_VI.items():
        rows = []
        for c in (c for c in CRITERIA if c.section == number):
            entry = (report.criteria or {}).get(c.id) or {}
            rows.append(CriterionRow(c.id, c.title_vi, STATUSES.get(entry.get("status", ""), "Chưa đánh giá"),
                                     str(entry.get("note") or ""), tuple(str(e) for e in entry.get("evidence") or ())))
        sections.append((title, tuple(rows)))
    words = _vocabulary(session, report.instance.version_id)
    figures = tuple(Detail(words.label(k), words.scalar(k, v)) for k, v in (report.figures or {}).items())
    budget = tuple(Detail(BUDGET_CATEGORIES.get(k, k), _money(v)) for k, v in (report.budget or {}).items())
    total = sum(v for v in (report.budget or {}).values() if isinstance(v, int))
    return ReportView(report.submitted_at and _utc(report.submitted_at), tuple(sections), figures, budget,
                      _money(total))


def _cycle_details(session: Session, cycle: Cycle) -> tuple[Detail, ...]:
    units = session.scalar(select(func.count(Report.id)).where(Report.year == cycle.year)) or 0
    opened_by = session.get(User, cycle.opened_by_id) if cycle.opened_by_id else None
    versions = dict(session.execute(select(DefinitionVersion.id, DefinitionVersion.version).where(
        DefinitionVersion.id.in_((cycle.report_version_id, cycle.evaluation_version_id)))).all())
    return (
        Detail("Năm đánh giá", str(cycle.year)),
        Detail("Trạng thái", CYCLE_STATUS_VI.get(cycle.status.value, cycle.status.value)),
        Detail("Hạn nộp báo cáo", f"{cycle.report_due:%d/%m/%Y}"),
        Detail("Số cơ quan", str(units)),
        Detail("Người mở kỳ", opened_by.full_name if opened_by else SYSTEM),
        Detail("Thời điểm mở", _local(cycle.opened_at)),
        Detail("Phiên bản quy trình báo cáo", str(versions.get(cycle.report_version_id, "—"))),
        Detail("Phiên bản bộ quy tắc đánh giá", str(versions.get(cycle.evaluation_version_id, "—"))),
        Detail("Số quyết định", cycle.decision_number or "—"),
        Detail("Ngày quyết định", f"{cycle.decision_date:%d/%m/%Y}" if cycle.decision_date else "—"),
    )


def _open_steps(session: Session, instance: ProcessInstance, viewer: User, today: date) -> tuple[OpenStep, ...]:
    rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.state == TaskState.OPEN).order_by(HumanTask.id)))
    names = _user_names(session, {t.assignee_id for t in rows if t.assignee_id is not None})
    return tuple(
        OpenStep(t.id, t.step_name, _role_label(t.candidate_group), names.get(t.assignee_id) if t.assignee_id else None,
                 _utc(t.created_at), t.due_on, t.due_on is not None and t.due_on < today,
                 may_view(session, viewer, t, today))
        for t in rows
    )


# --- cycles -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleRow:
    year: int
    status: str
    report_due: date
    units: int
    decision_number: str | None
    decision_date: date | None


@dataclass(frozen=True)
class ProgressRow:
    unit_code: str
    unit_name: str
    status: str
    step: str | None
    since: datetime
    holder: str | None
    revisions: int
    instance_id: int


@dataclass(frozen=True)
class OverrideRow:
    stage: str
    field: str
    change: str
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ResultRow:
    unit_code: str
    unit_name: str
    rating: str
    sanction: str
    reward: str
    reasons: tuple[str, ...]
    articles: tuple[str, ...]
    final: bool
    overrides: tuple[OverrideRow, ...]


@dataclass(frozen=True)
class CyclePage:
    cycle: Cycle
    status: str
    sees_all: bool
    rows: tuple[ProgressRow, ...]
    counts: tuple[tuple[str, int], ...]  # (status in Vietnamese, how many), in STAGE_VI order
    results: tuple[ResultRow, ...] | None  # None: VIEWER may not see results, or there are none yet


def cycle_list(session: Session) -> list[CycleRow]:
    """Every opened year, newest first, with how many agencies report in it."""
    units = dict(session.execute(select(Report.year, func.count(Report.id)).group_by(Report.year)).all())
    return [CycleRow(c.year, CYCLE_STATUS_VI.get(c.status.value, c.status.value), c.report_due, units.get(c.year, 0),
                     c.decision_number, c.decision_date)
            for c in session.scalars(select(Cycle).order_by(Cycle.year.desc()))]


def cycle_page(session: Session, year: int, viewer: User) -> CyclePage:
    """YEAR's progress for VIEWER: central roles see every agency, an agency only its own row; results to some."""
    cycle = cycles.get_cycle(session, year)
    sees_all = bool(viewer.role_set & ALL_SEEING)
    if not sees_all and not (viewer.role_set & AGENCY_ROLES and viewer.unit_code):
        raise NotAllowed(Text("Bạn không có quyền xem tiến độ kỳ đánh giá."))
    rows = [
        ProgressRow(r["unit_code"], r["unit_name"], STAGE_VI.get(r["status"], r["status"]), r["step"],
                    _utc(r["since"]), _role_label(r["holder"]) if r["holder"] else None, r["revisions"],
                    r["instance_id"])
        for r in cycles.progress(session, year) if sees_all or r["unit_code"] == viewer.unit_code
    ]
    tally = Counter(r.status for r in rows)
    counts = tuple((label, tally[label]) for label in dict.fromkeys(STAGE_VI.values()) if tally[label])
    results = None
    if viewer.role_set & RESULT_VIEWERS:
        raw = [r for r in cycles.results(session, year) if r["rating"]]
        results = tuple(_result_row(session, r) for r in raw) or None
    return CyclePage(cycle, CYCLE_STATUS_VI.get(cycle.status.value, cycle.status.value), sees_all, tuple(rows),
                     counts, results)


def _result_row(session: Session, r: Mapping[str, Any]) -> ResultRow:
    by_names = dict(session.execute(select(User.username, User.full_name).where(
        User.username.in_({o["by"] for o in r["overrides"]}))).all()) if r["overrides"] else {}
    overrides = []
    for o in r["overrides"]:
        field, values = OUTCOME_FIELD_VI.get(o["field"], (o["field"], {}))
        change = f"{values.get(o['from'] or '', o['from'] or '—')} → {values.get(o['to'], o['to'])}"
        overrides.append(OverrideRow(OVERRIDE_STAGE_VI.get(o["stage"], o["stage"]), field, change, o["reason"],
                                     by_names.get(o["by"], o["by"]), _utc(datetime.fromisoformat(o["at"]))))
    return ResultRow(r["unit_code"], r["unit_name"], r["rating_vi"], r["sanction_vi"], r["reward_vi"],
                     tuple(REASONS_VI.get(code, code) for code in r["reasons"]), tuple(r["articles"]), r["final"],
                     tuple(overrides))


def user_steps(session: Session, process_key: str) -> list[tuple[str, str, str]]:
    """(step id, name, candidate group) of each user task in the latest version of PROCESS_KEY, as drawn."""
    spec = runtime.spec_json(session, latest_version(session, process_key).id)
    return [(step_id, name, groups[0]) for step_id, name, groups in engine.user_steps(spec)]


# --- labels and readable values -----------------------------------------------------------------------------------


def _role_label(group: str) -> str:
    try:
        return ROLE_VI[Role(group)]
    except ValueError:
        return group


def _user_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())


# Per database, like runtime's spec cache: version ids are only unique within one database.
_labels_cache: weakref.WeakKeyDictionary[Any, dict[int, tuple[dict[str, str], dict[str, dict[str, str]]]]] = (
    weakref.WeakKeyDictionary())


def _vocabulary(session: Session, version_id: int) -> _Vocabulary:
    """Field labels and enum option names of a version's forms as drawn (camunda:formData), and unit names."""
    cache = _labels_cache.setdefault(session.get_bind(), {})
    if version_id not in cache:
        labels: dict[str, str] = {}
        options: dict[str, dict[str, str]] = {}

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for f in node.get("camunda:formData") or ():
                    labels[f["id"]] = f.get("label") or f["id"]
                    if f.get("options"):
                        options[f["id"]] = {o[0]: o[1] for o in f["options"]}
                for child in node.values():
                    walk(child)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        # Versions never change, so neither do their forms: read the spec once per process.
        walk(json.loads(runtime.spec_json(session, version_id)))
        cache[version_id] = (labels, options)
    labels, options = cache[version_id]
    return _Vocabulary(labels, options, all_unit_names(session))


@dataclass(frozen=True)
class _Vocabulary:
    """What turns stored keys and codes into words: form labels and options of the version, and unit names."""

    labels: Mapping[str, str]
    options: Mapping[str, Mapping[str, str]]
    units: Mapping[str, str]

    def label(self, key: str) -> str:
        return self.labels.get(key) or KEY_VI.get(key) or CRITERIA_LABEL.get(key) or self.units.get(key) or key

    def details(self, data: Mapping[str, Any]) -> tuple[Detail, ...]:
        return tuple(self.detail(key, value) for key, value in data.items() if key != "comment_id")

    def detail(self, key: str, value: Any) -> Detail:
        label = self.label(key)
        if key == "budget" and isinstance(value, Mapping):
            return Detail(label, items=tuple(Detail(BUDGET_CATEGORIES.get(k, k), _money(v)) for k, v in value.items()))
        if key == "criteria" and isinstance(value, Mapping):
            return Detail(label, items=tuple(_criterion_detail(cid, entry) for cid, entry in value.items()))
        if key == "overrides" and isinstance(value, list):
            return Detail(label, items=tuple(self.override(item) for item in value if isinstance(item, Mapping)))
        if isinstance(value, Mapping):
            return Detail(label, items=self.details(value))
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            return Detail(label, items=tuple(Detail(str(i), items=self.details(v)) for i, v in enumerate(value, 1)))
        return Detail(label, self.scalar(key, value))

    def override(self, item: Mapping[str, Any]) -> Detail:
        field, values = OUTCOME_FIELD_VI.get(str(item.get("field")), (str(item.get("field")), {}))
        code = str(item.get("unit_code") or "").upper()
        value = values.get(str(item.get("value")), str(item.get("value")))
        return Detail(self.units.get(code, code), f"{field}: {value}; lý do: {item.get('reason') or '—'}")

    def scalar(self, key: str, value: Any) -> str:
        if value is None or value == "" or value == []:
            return "—"
        if isinstance(value, bool):
            return "Có" if value else "Không"
        if isinstance(value, list):
            return ", ".join(self.scalar(key, v) for v in value)
        if not isinstance(value, str):
            return str(value)
        if key in self.options and value in self.options[key]:
            return self.options[key][value]
        if key in CRITERIA_BY_ID and value in STATUSES:
            return STATUSES[value]
        if key in ("unit_code", "unit_codes"):
            return self.units.get(value, value)
        if _ISO_DATE.match(value):
            return f"{date.fromisoformat(value):%d/%m/%Y}"
        if _ISO_DATETIME.match(value):
            try:
                return _local(datetime.fromisoformat(value))
            except ValueError:
                return value
        return value


CRITERIA_LABEL = {c.id: f"{c.id} {c.title_vi}" for c in CRITERIA}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _criterion_detail(cid: str, entry: Any) -> Detail:
    label = CRITERIA_LABEL.get(cid, cid)
    if not isinstance(entry, Mapping):
        return Detail(label, STATUSES.get(str(entry), str(entry)))
    parts = [STATUSES.get(entry.get("status", ""), str(entry.get("status") or "—"))]
    if entry.get("note"):
        parts.append(f"ghi chú: {entry['note']}")
    if entry.get("evidence"):
        parts.append("minh chứng: " + ", ".join(str(e) for e in entry["evidence"]))
    return Detail(label, "; ".join(parts))


def _money(amount: Any) -> str:
    if not isinstance(amount, int) or isinstance(amount, bool):
        return str(amount)
    return f"{amount:,}".replace(",", ".") + " đồng"


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _local(value: datetime) -> str:
    return f"{_utc(value).astimezone(LOCAL_TZ):%H:%M %d/%m/%Y}"
