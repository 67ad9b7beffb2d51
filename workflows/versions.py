"""Definition versions for process owners: upload, list, download as uploaded, compare, choose, migrate.

Every accepted upload is a new numbered, immutable version (workflows.definitions) with who, when, a comment and a
content hash. Files are kept exactly as uploaded so an owner can open them again in Camunda Modeler. New cycles start
on the version the owner chose (ProcessDefinition.current_version_id); running instances stay on theirs unless an
owner migrates one, which is allowed only where every step the instance stands at survives the change.
"""
from __future__ import annotations

import difflib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import definitions, engine, runtime, validation
from workflows.errors import Conflict, DefinitionInvalid, InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import (
    DefinitionVersion,
    HumanTask,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    Role,
    TaskState,
    User,
)

OWNER_ROLES = {Role.PROCESS_OWNER, Role.ADMIN}
MAX_COMMENT = 500
MAX_REASON = 2000
MAX_TEXT_DIFF_LINES = 400


def _require_owner(actor: User | None) -> None:
    if actor is None or not actor.role_set & OWNER_ROLES:
        raise NotAllowed(Text("Chỉ chủ quy trình hoặc quản trị hệ thống được thay đổi quy trình."))


# --- listing -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessSummary:
    key: str
    name: str
    versions: int
    newest: int
    current: int  # the version new cycles start on
    chosen: bool  # the owner chose it explicitly (else it is simply the newest)
    running: int  # running instances, any version


@dataclass(frozen=True)
class VersionRow:
    id: int
    version: int
    created_at: datetime
    created_by: str | None
    comment: str | None
    sha256: str
    files: list[str]
    is_current: bool
    running: int
    instances: int


def list_processes(session: Session) -> list[ProcessSummary]:
    """Every deployed process with its newest and current version and how many instances run."""
    newest = dict(session.execute(select(DefinitionVersion.definition_id, func.max(DefinitionVersion.version))
                                  .group_by(DefinitionVersion.definition_id)).all())
    counts = dict(session.execute(select(DefinitionVersion.definition_id, func.count(DefinitionVersion.id))
                                  .group_by(DefinitionVersion.definition_id)).all())
    running = dict(session.execute(select(ProcessInstance.process_key, func.count(ProcessInstance.id))
                                   .where(ProcessInstance.status == InstanceStatus.RUNNING)
                                   .group_by(ProcessInstance.process_key)).all())
    rows = []
    for definition in session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key)):
        if definition.id not in newest:
            continue
        current = definitions.latest_version(session, definition.key)
        rows.append(ProcessSummary(definition.key, definition.name, counts[definition.id], newest[definition.id],
                                   current.version, definition.current_version_id is not None,
                                   running.get(definition.key, 0)))
    return rows


def get_process(session: Session, key: str) -> ProcessDefinition:
    definition = session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key))
    if definition is None:
        raise NotFound(Text("Không có quy trình '{key}'.", key=key))
    return definition


def list_versions(session: Session, key: str) -> list[VersionRow]:
    """The versions of process KEY, newest first, with who deployed each, when, why, and its instances."""
    definition = get_process(session, key)
    current = definitions.latest_version(session, key)
    instance_counts: dict[tuple[int, bool], int] = {}
    for version_id, status, count in session.execute(
            select(ProcessInstance.version_id, ProcessInstance.status, func.count(ProcessInstance.id))
            .where(ProcessInstance.process_key == key).group_by(ProcessInstance.version_id, ProcessInstance.status)):
        running = status == InstanceStatus.RUNNING
        instance_counts[(version_id, running)] = instance_counts.get((version_id, running), 0) + count
    authors = {u.id: u.full_name for u in session.scalars(
        select(User).where(User.id.in_(select(DefinitionVersion.created_by_id)
                                       .where(DefinitionVersion.definition_id == definition.id))))}
    versions = session.scalars(select(DefinitionVersion).where(DefinitionVersion.definition_id == definition.id)
                               .order_by(DefinitionVersion.version.desc()))
    return [
        VersionRow(v.id, v.version, v.created_at, authors.get(v.created_by_id) if v.created_by_id else None,
                   v.comment, v.sha256, sorted(v.files), v.id == current.id,
                   instance_counts.get((v.id, True), 0),
                   instance_counts.get((v.id, True), 0) + instance_counts.get((v.id, False), 0))
        for v in versions
    ]


def get_version(session: Session, key: str, number: int) -> DefinitionVersion:
    version = session.scalar(
        select(DefinitionVersion).join(ProcessDefinition, DefinitionVersion.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.key == key, DefinitionVersion.version == number))
    if version is None:
        raise NotFound(Text("Quy trình '{key}' không có phiên bản {number}.", key=key, number=number))
    return version


def version_file(session: Session, key: str, number: int, filename: str) -> bytes:
    """One file of a version, byte for byte as it was uploaded."""
    version = get_version(session, key, number)
    if filename not in version.files:
        raise NotFound(Text("Phiên bản {number} của '{key}' không có tệp '{filename}'.", number=number, key=key,
                            filename=filename))
    return version.files[filename].encode("utf-8")


def version_zip(session: Session, key: str, number: int) -> bytes:
    """Every file of a version in one zip, as uploaded, ready to open in Camunda Modeler."""
    version = get_version(session, key, number)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(version.files):
            archive.writestr(name, version.files[name].encode("utf-8"))
    return buffer.getvalue()


# --- upload ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadResult:
    deployments: list[definitions.Deployment]
    report: validation.Report
    completed_from: dict[str, str]  # file the owner did not upload -> "process vN" it was taken from

    @property
    def created(self) -> list[definitions.Deployment]:
        return [d for d in self.deployments if d.created]


def complete_set(session: Session, files: Mapping[str, bytes]) -> tuple[dict[str, bytes], dict[str, str]]:
    """FILES plus the other files of every current version that contains one of them.

    An owner who changed only rating.dmn uploads only rating.dmn; the process that uses it and its other tables come
    from the version new cycles use now, so the set compiles and the process gets a new version.
    """
    complete = dict(files)
    origin: dict[str, str] = {}
    for definition in session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key)):
        try:
            current = definitions.latest_version(session, definition.key)
        except NotFound:
            continue
        if not set(current.files) & set(files):
            continue
        for name, text in current.files.items():
            if name not in complete:
                complete[name] = text.encode("utf-8")
                origin[name] = f"{definition.key} v{current.version}"
    return complete, origin


def check_upload(session: Session, files: Mapping[str, bytes], actor: User) -> UploadResult:
    """What upload() would do with FILES, storing nothing: the same checks, and the version each process would get.

    Raises DefinitionInvalid with every problem, as upload() does. The owner can try a file before deploying it.
    """
    _require_owner(actor)
    complete, origin = complete_set(session, files) if files else ({}, {})
    report = validation.check(complete)
    deployments = definitions.preview_files(session, complete)
    if not deployments:
        raise DefinitionInvalid(Text("Bộ tệp không có quy trình nào chạy được."),
                                [validation.Problem("no_process", *validation.MESSAGES["no_process"]).as_dict()])
    return UploadResult(deployments, report, origin)


@runtime.atomic
def upload(session: Session, files: Mapping[str, bytes], actor: User, comment: str | None,
           make_current: bool = True) -> UploadResult:
    """Check FILES as one set and deploy every process they change as a new version; one transaction.

    Raises DefinitionInvalid with every problem when anything is wrong; nothing is stored then.
    """
    _require_owner(actor)
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput(Text("Hãy ghi vài chữ về thay đổi này."),
                           {"comment": Text("Cần ghi chú cho phiên bản mới.")})
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(Text("Ghi chú quá dài."), {"comment": Text("Tối đa {max} ký tự.", max=MAX_COMMENT)})
    complete, origin = complete_set(session, files) if files else ({}, {})
    report = validation.check(complete)
    deployments = definitions.deploy_files(session, complete, actor, comment)
    if not deployments:
        raise DefinitionInvalid(Text("Bộ tệp không có quy trình nào chạy được."),
                                [validation.Problem("no_process", *validation.MESSAGES["no_process"]).as_dict()])
    ctx = runtime.Context.create(session, actor)
    for deployment in deployments:
        if not deployment.created:
            continue
        version = get_version(session, deployment.process_key, deployment.version)
        if make_current:
            version.definition.current_version_id = version.id
        runtime.audit(ctx, "definition_deployed",
                      Text("Tải lên phiên bản {version} của quy trình '{process}': {comment}", version=version.version,
                           process=deployment.process_key, comment=comment),
                      data={"process": deployment.process_key, "version": version.version, "sha256": version.sha256,
                            "files": sorted(version.files), "uploaded": sorted(files),
                            "completed_from": origin, "current": make_current})
    runtime.commit(ctx)
    return UploadResult(deployments, report, origin)


@runtime.atomic
def choose_current(session: Session, key: str, number: int, actor: User, reason: str | None = None
                   ) -> DefinitionVersion:
    """Make version NUMBER of KEY the one new cycles start on; running instances are not touched."""
    _require_owner(actor)
    version = get_version(session, key, number)
    definition = version.definition
    previous = definitions.latest_version(session, key)
    definition.current_version_id = version.id
    ctx = runtime.Context.create(session, actor)
    if reason:
        chosen = Text("Chọn phiên bản {version} của quy trình '{process}' cho các kỳ mới: {reason}", version=number,
                      process=key, reason=reason)
    else:
        chosen = Text("Chọn phiên bản {version} của quy trình '{process}' cho các kỳ mới", version=number, process=key)
    runtime.audit(ctx, "definition_current_chosen", chosen,
                  data={"process": key, "from": previous.version, "to": number, "reason": reason or None})
    runtime.commit(ctx)
    return version


# --- what changed between two versions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    kind: str  # step, flow, field, decision, rule, file
    key: str
    label: str
    status: str  # added, removed, changed
    details: tuple[tuple[str, str | None, str | None], ...] = ()  # (what, before, after)
    parent: str | None = None  # the step of a field, the decision of a rule


@dataclass
class VersionDiff:
    key: str
    old: int
    new: int
    changes: list[Change] = field(default_factory=list)
    text: dict[str, str] = field(default_factory=dict)  # file -> unified diff of its text

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def empty(self) -> bool:
        return not self.changes


def diff(session: Session, key: str, old: int, new: int) -> VersionDiff:
    """Steps, flows, form fields, decisions and rules added, removed or changed from version OLD to NEW of KEY."""
    before, after = get_version(session, key, old), get_version(session, key, new)
    return diff_files(key, old, new, before.files, after.files)


def diff_files(key: str, old: int, new: int, before: Mapping[str, str], after: Mapping[str, str]) -> VersionDiff:
    result = VersionDiff(key, old, new)
    old_model, new_model = read_model(before), read_model(after)
    for kind in ("step", "field", "flow", "decision", "rule"):
        olds, news = old_model.get(kind, {}), new_model.get(kind, {})
        for item_key in [*olds, *(k for k in news if k not in olds)]:
            a, b = olds.get(item_key), news.get(item_key)
            item = b or a
            assert item is not None
            if a is None:
                result.changes.append(Change(kind, item_key, item.label, "added", parent=item.parent))
            elif b is None:
                result.changes.append(Change(kind, item_key, item.label, "removed", parent=item.parent))
            else:
                details = tuple((name, a.attributes.get(name), b.attributes.get(name))
                                for name in dict.fromkeys([*a.attributes, *b.attributes])
                                if a.attributes.get(name) != b.attributes.get(name))
                if details:
                    result.changes.append(Change(kind, item_key, b.label, "changed", details, parent=b.parent))
    for name in sorted(set(before) | set(after)):
        if before.get(name) == after.get(name):
            continue
        status = "added" if name not in before else "removed" if name not in after else "changed"
        result.changes.append(Change("file", name, name, status))
        lines = list(difflib.unified_diff((before.get(name) or "").splitlines(), (after.get(name) or "").splitlines(),
                                          f"v{old}/{name}", f"v{new}/{name}", lineterm="", n=2))
        if len(lines) > MAX_TEXT_DIFF_LINES:
            lines = [*lines[:MAX_TEXT_DIFF_LINES], f"… ({len(lines) - MAX_TEXT_DIFF_LINES} more lines)"]
        result.text[name] = "\n".join(lines)
    return result


@dataclass(frozen=True)
class _Item:
    label: str
    attributes: dict[str, str]
    parent: str | None = None


BPMN_NS = {"bpmn": engine.BPMN_MODEL_NS, "camunda": validation.CAMUNDA}
_C = "{" + validation.CAMUNDA + "}"


def read_model(files: Mapping[str, str]) -> dict[str, dict[str, _Item]]:
    """What a set of files says, flattened for comparison: steps, form fields, flows, decisions and rules."""
    model: dict[str, dict[str, _Item]] = {"step": {}, "field": {}, "flow": {}, "decision": {}, "rule": {}}
    for name, text in sorted(files.items()):
        try:
            root = engine.parse_xml(name, text.encode("utf-8"))
        except Exception:  # noqa: BLE001 - a stored file always parsed once; show what can be read
            continue
        if name.endswith(".bpmn"):
            _read_bpmn(root, model)
        elif name.endswith(".dmn"):
            _read_dmn(root, model)
    return model


def _label(element: Any) -> str:
    name = (element.get("name") or "").strip().replace("\n", " ")
    return f"{name} ({element.get('id')})" if name else str(element.get("id"))


def _read_bpmn(root: Any, model: dict[str, dict[str, _Item]]) -> None:
    for process in root.iterfind("bpmn:process", BPMN_NS):
        by_id = {el.get("id"): el for el in process.iter() if isinstance(el.tag, str) and el.get("id")}
        for element in process.iter():
            if not isinstance(element.tag, str) or etree.QName(element).namespace != engine.BPMN_MODEL_NS:
                continue
            tag = etree.QName(element).localname
            ident = element.get("id")
            if tag in validation.FLOW_NODES and ident:
                model["step"][ident] = _Item(_label(element), _step_attributes(element, tag))
                for form_field in element.iterfind("bpmn:extensionElements/camunda:formData/camunda:formField",
                                                   BPMN_NS):
                    field_id = form_field.get("id") or "?"
                    model["field"][f"{ident}.{field_id}"] = _Item(
                        f"{form_field.get('label') or field_id} ({field_id})", _field_attributes(form_field),
                        parent=_label(element))
            elif tag == "sequenceFlow" and ident:
                condition = element.find("bpmn:conditionExpression", BPMN_NS)
                source = by_id.get(element.get("sourceRef"))
                attributes = {"from": element.get("sourceRef"), "to": element.get("targetRef"),
                              "name": element.get("name"),
                              "condition": "".join(condition.itertext()).strip() if condition is not None else None,
                              "default": "yes" if source is not None and source.get("default") == ident else None}
                model["flow"][ident] = _Item(_label(element), _clean(attributes))


def _step_attributes(element: Any, tag: str) -> dict[str, str]:
    lane = engine.lane_of(element)
    attributes: dict[str, Any] = {
        "name": (element.get("name") or "").strip() or None,
        "type": tag,
        "lane": (lane.get("name") or lane.get("id")) if lane is not None else None,
        "role": element.get(f"{_C}candidateGroups") or (engine.lane_role(lane) if lane is not None else None),
        "documentation": (element.findtext("bpmn:documentation", "", BPMN_NS) or "").strip() or None,
        "calledElement": element.get("calledElement"),
        "default flow": element.get("default"),
    }
    for name in ("assignee", "candidateUsers", "dueDate", "followUpDate", "priority", "formKey", "decisionRef",
                 "resultVariable", "mapDecisionResult", "topic", "type", "collection", "elementVariable"):
        value = element.get(f"{_C}{name}")
        if value is not None:
            attributes["implementation" if name == "type" else name] = value
    for prop in element.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", BPMN_NS):
        attributes[f"property {prop.get('name')}"] = prop.get("value")
    for definition in element:
        if not isinstance(definition.tag, str):
            continue
        local = etree.QName(definition).localname
        if local == "timerEventDefinition":
            for value in definition:
                if isinstance(value.tag, str):
                    attributes[f"timer {etree.QName(value).localname}"] = "".join(value.itertext()).strip()
        elif local.endswith("EventDefinition"):
            ref = next((v for k, v in definition.attrib.items() if k.endswith("Ref")), None)
            attributes["event"] = local.replace("EventDefinition", "") + (f" {ref}" if ref else "")
    if element.get("attachedToRef"):
        attributes["attached to"] = element.get("attachedToRef")
    return _clean(attributes)


def _field_attributes(form_field: Any) -> dict[str, str]:
    constraints = [c.get("name") + (f"={c.get('config')}" if c.get("config") is not None else "")
                   for c in form_field.iterfind("camunda:validation/camunda:constraint", BPMN_NS)]
    options = [f"{v.get('id')}={v.get('name') or v.get('id')}" for v in form_field.iterfind("camunda:value", BPMN_NS)]
    properties = [f"{p.get('id')}={p.get('value')}"
                  for p in form_field.iterfind("camunda:properties/camunda:property", BPMN_NS)]
    return _clean({"label": form_field.get("label"), "type": form_field.get("type") or "string",
                   "default": form_field.get("defaultValue"), "constraints": ", ".join(constraints) or None,
                   "values": "; ".join(options) or None, "properties": "; ".join(properties) or None})


def _read_dmn(root: Any, model: dict[str, dict[str, _Item]]) -> None:
    ns = {"dmn": etree.QName(root).namespace}
    for decision in root.iterfind("dmn:decision", ns):
        ident = decision.get("id") or "?"
        table = decision.find("dmn:decisionTable", ns)
        if table is None:
            model["decision"][ident] = _Item(_label(decision), {"name": decision.get("name") or ""})
            continue
        inputs = table.findall("dmn:input", ns)
        outputs = table.findall("dmn:output", ns)
        columns = [i.get("label") or i.get("id") or "?" for i in inputs]
        model["decision"][ident] = _Item(_label(decision), _clean({
            "name": decision.get("name"),
            "hit policy": (table.get("hitPolicy") or "UNIQUE") + (f" {table.get('aggregation')}"
                                                                  if table.get("aggregation") else ""),
            "inputs": "; ".join(f"{c}: {(i.findtext('dmn:inputExpression/dmn:text', '', ns) or '').strip()}"
                                for c, i in zip(columns, inputs, strict=True)),
            "outputs": ", ".join(o.get("name") or o.get("label") or "?" for o in outputs),
        }))
        for row, rule in enumerate(table.findall("dmn:rule", ns), start=1):
            cells = [(e.findtext("dmn:text", "", ns) or "").strip() or "-" for e in rule.findall("dmn:inputEntry", ns)]
            results = [(e.findtext("dmn:text", "", ns) or "").strip() for e in rule.findall("dmn:outputEntry", ns)]
            description = (rule.findtext("dmn:description", "", ns) or "").strip()
            attributes = {"row": str(row), "description": description or None}
            attributes.update({f"if {c}": cell for c, cell in zip(columns, cells, strict=False)})
            attributes.update({f"then {o.get('name') or o.get('label')}": value
                               for o, value in zip(outputs, results, strict=False)})
            model["rule"][f"{ident}.{rule.get('id')}"] = _Item(
                f"{row}. {description or rule.get('id')}", _clean(attributes), parent=_label(decision))


def _clean(attributes: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in attributes.items() if v not in (None, "")}


# --- migrating a running instance --------------------------------------------------------------------------------

STATE_VI = {"ready": "đang chờ xử lý", "waiting": "đang chờ sự kiện (hẹn giờ, message)", "running": "đang chạy"}
OUTCOME_VI = {"kept": "giữ nguyên", "changed": "giữ, áp dụng thay đổi", "removed": "không còn trong phiên bản mới"}
CHANGE_VI = {"name": "tên bước", "id": "mã bước", "formData": "trường biểu mẫu", "form": "trường biểu mẫu",
             "candidateGroups": "vai trò", "role": "vai trò (theo lane)", "dueDate": "hạn xử lý",
             "followUpDate": "ngày nhắc", "priority": "độ ưu tiên", "assignee": "người xử lý",
             "candidateUsers": "người được giao", "formKey": "trang nghiệp vụ", "flows": "luồng đi tiếp",
             "lane": "lane", "dueInWorkingDays": "số ngày làm việc", "documentation": "mô tả"}
BLOCKER_TEXT = {
    "step_removed": ("Bước '{step}' mà hồ sơ đang dừng ở đó không còn trong phiên bản {to}.",
                     "Step '{step}', where the instance stands now, is not in version {to}."),
    "step_type_changed": ("Bước '{step}' đổi loại trong phiên bản {to}.",
                          "Step '{step}' changes type in version {to}."),
    "waiting_step_changed": ("Bước '{step}' đang chờ hẹn giờ hoặc message và đã thay đổi; chuyển lúc này sẽ làm sai "
                             "thời điểm chờ.",
                             "Step '{step}' waits for a timer or message and has changed; moving now would upset "
                             "what it waits for."),
    "multi_instance": ("Bước '{step}' chạy nhiều lần song song; chưa hỗ trợ chuyển phiên bản khi đang ở bước này.",
                       "Step '{step}' runs as several parallel instances; moving is not supported while it runs."),
    "subprocess_removed": ("Quy trình con '{step}' đang chạy không còn trong phiên bản {to}.",
                           "The running sub-process '{step}' is not in version {to}."),
    "not_started": ("Hồ sơ chưa bắt đầu chạy.", "The instance has not started yet."),
    "not_comparable": ("Không so sánh được hai phiên bản: {step}", "The two versions cannot be compared: {step}"),
    "not_running": ("Hồ sơ đã kết thúc hoặc bị hủy; chỉ chuyển được hồ sơ đang chạy.",
                    "The instance has ended or was cancelled; only running instances can move."),
    "same_version": ("Hồ sơ đã ở phiên bản {to}.", "The instance is already on version {to}."),
}


@dataclass(frozen=True)
class StepRow:
    step_id: str
    old_name: str
    new_name: str | None
    state: str
    state_vi: str
    outcome: str
    outcome_vi: str
    changes: list[str]


@dataclass(frozen=True)
class Migration:
    instance_id: int
    process_key: str
    business_key: str
    from_version: int
    to_version: int
    allowed: bool
    reasons: list[str]
    reasons_en: list[str]
    steps: list[StepRow]


def _instance(session: Session, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(Text("Không có hồ sơ #{id}.", id=instance_id))
    return instance


def _plan(session: Session, instance: ProcessInstance, target: DefinitionVersion,
          ctx: runtime.Context) -> tuple[Migration, engine.Run | None]:
    current = session.get(DefinitionVersion, instance.version_id)
    assert current is not None
    blockers: list[tuple[str, str]] = []
    run = None
    plan = engine.MigrationPlan((), ())
    if instance.status != InstanceStatus.RUNNING:
        blockers.append(("not_running", ""))
    elif target.id == current.id:
        blockers.append(("same_version", ""))
    else:
        run = runtime.load(ctx, instance)
        plan = run.migration_plan(runtime.spec_json(session, target.id))
        blockers += list(plan.blockers)
    names = {s.step_id: s.old_name for s in plan.steps}
    reasons = [BLOCKER_TEXT[code][0].format(step=names.get(step, step), to=target.version) for code, step in blockers]
    reasons_en = [BLOCKER_TEXT[code][1].format(step=names.get(step, step), to=target.version)
                  for code, step in blockers]
    steps = [StepRow(s.step_id, s.old_name, s.new_name, s.state, STATE_VI.get(s.state, s.state), s.outcome,
                     OUTCOME_VI.get(s.outcome, s.outcome),
                     list(dict.fromkeys(CHANGE_VI.get(c, c) for c in s.changes)))
             for s in plan.steps]
    migration = Migration(instance.id, instance.process_key, instance.business_key, current.version, target.version,
                          not blockers, reasons, reasons_en, steps)
    return migration, run


def migration_plan(session: Session, instance_id: int, target_number: int) -> Migration:
    """Whether instance INSTANCE_ID can move to version TARGET_NUMBER of its process, and what would happen."""
    instance = _instance(session, instance_id)
    target = get_version(session, instance.process_key, target_number)
    ctx = runtime.Context.create(session, None)
    return _plan(session, instance, target, ctx)[0]


@runtime.atomic
def migrate_instance(session: Session, instance_id: int, target_number: int, actor: User, reason: str) -> Migration:
    """Move a running instance to version TARGET_NUMBER where the change allows it; needs and records a reason."""
    _require_owner(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(Text("Cần ghi lý do chuyển phiên bản."),
                           {"reason": Text("Ghi lý do chuyển hồ sơ sang phiên bản mới.")})
    if len(reason) > MAX_REASON:
        raise InvalidInput(Text("Lý do quá dài."), {"reason": Text("Tối đa {max} ký tự.", max=MAX_REASON)})
    instance = _instance(session, instance_id)
    target = get_version(session, instance.process_key, target_number)
    ctx = runtime.Context.create(session, actor)
    migration, run = _plan(session, instance, target, ctx)
    if not migration.allowed or run is None:
        raise Conflict(Text("Không chuyển được hồ sơ sang phiên bản mới: {reasons}",
                            reasons=" ".join(migration.reasons)))
    run.migrate(runtime.spec_json(session, target.id))
    runtime.write_row(ctx, instance, {"version_id": target.id})
    views = {view.uuid: view for view in run.ready_user_tasks()}
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.state == TaskState.OPEN)):
        view = views.get(row.task_uuid)
        if view is None:
            continue
        values = {"step_id": view.step_id, "step_name": view.step_name, "lane": view.lane,
                  "candidate_group": (view.candidate_groups or [row.candidate_group])[0], "form_key": view.form_key}
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if changed:
            runtime.write_row(ctx, row, changed)
    runtime.audit(ctx, "instance_migrated",
                  Text("Chuyển hồ sơ từ phiên bản {old} sang {new}: {reason}", old=migration.from_version,
                       new=migration.to_version, reason=reason), instance,
                  data={"from": migration.from_version, "to": migration.to_version, "reason": reason,
                        "steps": [{"step": s.step_id, "state": s.state, "outcome": s.outcome, "changes": s.changes}
                                  for s in migration.steps]})
    runtime.save(ctx, instance, run)
    runtime.commit(ctx)
    return migration


@dataclass(frozen=True)
class RunningInstance:
    id: int
    business_key: str
    unit_code: str | None
    year: int
    version: int
    steps: list[str]


def running_instances(session: Session, key: str, limit: int = 200) -> list[RunningInstance]:
    """Running instances of KEY with their version and the steps open now (for the migration links)."""
    rows = session.execute(
        select(ProcessInstance, DefinitionVersion.version)
        .join(DefinitionVersion, ProcessInstance.version_id == DefinitionVersion.id)
        .where(ProcessInstance.process_key == key, ProcessInstance.status == InstanceStatus.RUNNING)
        .order_by(ProcessInstance.id).limit(limit)).all()
    open_steps: dict[int, list[str]] = {}
    for instance_id, step_name in session.execute(
            select(HumanTask.instance_id, HumanTask.step_name)
            .where(HumanTask.instance_id.in_([r[0].id for r in rows]), HumanTask.state == TaskState.OPEN)):
        open_steps.setdefault(instance_id, []).append(step_name)
    return [RunningInstance(i.id, i.business_key, i.unit_code, i.year, number, open_steps.get(i.id, []))
            for i, number in rows]
