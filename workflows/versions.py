"""Definition versions for process owners: upload, list, download as uploaded, compare, choose, migrate.

Every accepted upload is a new numbered, immutable version (workflows.definitions) with who, when, a comment and a
content hash. Files are kept exactly as uploaded so an owner can open them again in Camunda Modeler. New cycles start
on the version the owner chose (ProcessDefinition.current_version_id); running instances stay on theirs unless an
owner migrates one (workflows.instance_migration). What changed between two versions: workflows.version_diff.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import definitions, permissions, runtime, validation
from workflows.engine import parse_xml
from workflows.errors import DefinitionInvalid, InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import (
    DefinitionVersion,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    User,
)

MAX_COMMENT = 500
MAX_REASON = 2000


def require_owner(actor: User | None) -> None:
    if not permissions.may_edit_definitions(actor):
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
    """FILES plus the other files of every current version that shares a process or a decision with them.

    An owner who changed only rating.dmn uploads only rating.dmn; the process that uses it and its other tables come
    from the version new cycles use now, so the set compiles and the process gets a new version. Files are matched
    by what they define (process ids, decision ids), not by name: a table saved as rating_2026.dmn with the decision
    id `rating` replaces the current rating.dmn, which is then left out, and is stored under the owner's name.
    """
    complete = dict(files)
    origin: dict[str, str] = {}
    uploaded = set().union(*(defined_ids(name, content) for name, content in files.items()))
    for definition in session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key)):
        try:
            current = definitions.latest_version(session, definition.key)
        except NotFound:
            continue
        defined = {name: defined_ids(name, text.encode("utf-8")) for name, text in current.files.items()}
        if not set(current.files) & set(files) and not uploaded & set().union(*defined.values()):
            continue
        for name, text in current.files.items():
            replaced = bool(defined[name]) and defined[name] <= uploaded
            if name not in complete and not replaced:
                complete[name] = text.encode("utf-8")
                origin[name] = f"{definition.key} v{current.version}"
    return complete, origin


def defined_ids(name: str, content: bytes) -> set[tuple[str, str]]:
    """("process", id) and ("decision", id) for what the file NAME defines; empty when it cannot be read."""
    try:
        root = parse_xml(name, content)
    except DefinitionInvalid:
        return set()
    found = {("process", el.get("id")) for el in root.iterfind("{*}process") if el.get("id")}
    return found | {("decision", el.get("id")) for el in root.iterfind("{*}decision") if el.get("id")}


def check_upload(session: Session, files: Mapping[str, bytes], actor: User) -> UploadResult:
    """What upload() would do with FILES, storing nothing: the same checks, and the version each process would get.

    Raises DefinitionInvalid with every problem, as upload() does. The owner can try a file before deploying it.
    """
    require_owner(actor)
    complete, origin = complete_set(session, files) if files else ({}, {})
    report = validation.check(complete)
    deployments = definitions.preview_files(session, complete)
    if not deployments:
        raise DefinitionInvalid(Text("Bộ tệp không có quy trình nào chạy được."),
                                [validation.problem("no_process").as_dict()])
    return UploadResult(deployments, report, origin)


@runtime.atomic
def upload(session: Session, files: Mapping[str, bytes], actor: User, comment: str | None,
           make_current: bool = True) -> UploadResult:
    """Check FILES as one set and deploy every process they change as a new version; one transaction.

    Raises DefinitionInvalid with every problem when anything is wrong; nothing is stored then.
    """
    require_owner(actor)
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
                                [validation.problem("no_process").as_dict()])
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
    require_owner(actor)
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
