"""Evidence files of an agency's report: checked by extension and content, stored under a random name, served back
only to those who may see the report.

Files live under the application's upload directory (passed in by the caller), in a two-character subfolder of a
random hex name; the user's file name is kept in the database for display and never touches the file system.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import permissions
from workflows.calendar import local_today
from workflows.criteria import CRITERIA_BY_ID
from workflows.errors import InvalidInput, NotAllowed, NotFound
from workflows.messages import Text
from workflows.models import Evidence, HumanTask, Report, TaskState, User
from workflows.tasks import get_task

MAX_BYTES = 10 * 1024 * 1024
REPORT_FORM_KEY = "app:agency_report"
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
ALLOWED_TEXT = "PDF, PNG, JPG, DOCX, XLSX, ODT, ODS"
_STORED_NAME = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Upload:
    """One file as received: which criterion it proves, the name the user gave it, its declared type and bytes."""

    criterion_id: str
    filename: str
    content_type: str
    data: bytes


def check_file(filename: str, data: bytes) -> str:
    """The content type of an acceptable evidence file; raise InvalidInput saying why any other is refused."""
    extension = Path(filename).suffix.lower().lstrip(".")
    if extension not in CONTENT_TYPES:
        raise InvalidInput(Text("Loại tệp không được phép; chỉ nhận {allowed}.", allowed=ALLOWED_TEXT))
    if not data:
        raise InvalidInput(Text("Tệp rỗng."))
    if len(data) > MAX_BYTES:
        raise InvalidInput(Text("Tệp lớn hơn {mb} MB.", mb=MAX_BYTES // (1024 * 1024)))
    if not _content_matches(extension, data):
        raise InvalidInput(Text("Nội dung tệp không phải {kind} (đuôi tệp không khớp nội dung).",
                                kind=extension.upper()))
    return CONTENT_TYPES[extension]


def _content_matches(extension: str, data: bytes) -> bool:
    if extension == "pdf":
        return data.startswith(b"%PDF-")
    if extension == "png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in ("jpg", "jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:  # only the directory and a tiny 'mimetype' member are read: nothing is decompressed wholesale
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return False  # macros hidden in an Office file
            if extension in ("docx", "xlsx"):
                part = "word/document.xml" if extension == "docx" else "xl/workbook.xml"
                return "[Content_Types].xml" in names and part in names
            info = archive.getinfo("mimetype")
            if info.file_size > 100:
                return False
            return archive.read(info).decode("ascii", "replace").strip() == CONTENT_TYPES[extension]
    except (zipfile.BadZipFile, KeyError, ValueError, NotImplementedError, EOFError, OSError):
        return False


def display_name(filename: str) -> str:
    """The user's file name, kept only for display: no folders, no control characters, at most 255 characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: 254 - len(extension)] + dot + extension) if dot and len(extension) < 10 else name[:255]
    return name or "tep-minh-chung"


def stored_path(upload_dir: str | os.PathLike[str], stored_name: str) -> Path:
    """Where a stored file lives; refuses any name that is not one this module made."""
    if not _STORED_NAME.match(stored_name):
        raise NotFound(Text("Không tìm thấy tệp minh chứng."))
    return Path(upload_dir) / stored_name[:2] / stored_name


def _write(upload_dir: str | os.PathLike[str], data: bytes) -> str:
    stored_name = secrets.token_hex(16)
    path = stored_path(upload_dir, stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite (a 128-bit collision would be a bug worth hearing about); 0600: no other local user.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return stored_name


def report_of_task(session: Session, task: HumanTask) -> Report | None:
    return session.scalar(select(Report).where(Report.instance_id == task.instance_id))


def attach(
    session: Session,
    task_id: int,
    uploader: User,
    uploads: list[Upload],
    upload_dir: str | os.PathLike[str],
    today: date | None = None,
) -> tuple[list[Evidence], dict[str, list[str]]]:
    """Store UPLOADS as evidence of the report drafted in TASK; return what was stored and, per criterion, refusals.

    Only someone who may act on the open drafting task may attach files. Acceptable files are kept (and committed)
    even when others are refused or the report itself is not yet valid: the officer must not have to upload twice.
    """
    task = get_task(session, task_id)
    if task.form_key != REPORT_FORM_KEY or task.state != TaskState.OPEN:
        raise NotAllowed(Text("Chỉ đính kèm được tài liệu minh chứng khi đang lập báo cáo."))
    granted = permissions.authority(session, uploader, task, today or local_today())
    if not permissions.may_act(granted, uploader, task):
        raise NotAllowed(Text("Bạn không có quyền đính kèm tài liệu cho công việc '{step}'.", step=task.step_name))
    report = report_of_task(session, task)
    if report is None:
        raise NotFound(Text("Không tìm thấy hồ sơ báo cáo của cơ quan."))
    refused: dict[str, list[str]] = {}
    rows: list[Evidence] = []
    written: list[Path] = []
    try:
        for upload in uploads:
            name = display_name(upload.filename)
            if upload.criterion_id not in CRITERIA_BY_ID:
                refused.setdefault(upload.criterion_id, []).append(Text("{name}: tiêu chí không tồn tại.", name=name))
                continue
            try:
                content_type = check_file(name, upload.data)
            except InvalidInput as error:
                refused.setdefault(upload.criterion_id, []).append(
                    Text("{name}: {problem}", name=name, problem=error.message))
                continue
            stored_name = _write(upload_dir, upload.data)
            written.append(stored_path(upload_dir, stored_name))
            row = Evidence(report_id=report.id, criterion_id=upload.criterion_id, filename=name,
                           stored_name=stored_name, content_type=content_type, size=len(upload.data),
                           sha256=hashlib.sha256(upload.data).hexdigest(), uploaded_by_id=uploader.id)
            session.add(row)
            rows.append(row)
        session.commit()
    except BaseException:
        session.rollback()
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return rows, refused


def files_of_report(session: Session, report_id: int) -> dict[str, list[Evidence]]:
    """A report's evidence files per criterion, oldest first."""
    found: dict[str, list[Evidence]] = {}
    for row in session.scalars(select(Evidence).where(Evidence.report_id == report_id)
                               .order_by(Evidence.uploaded_at, Evidence.id)):
        found.setdefault(row.criterion_id, []).append(row)
    return found


def files_of_instance(session: Session, viewer: User, instance_id: int) -> dict[str, list[Evidence]]:
    """The evidence of the report an instance carries, per criterion; nothing when VIEWER may not read that report."""
    report = session.scalar(select(Report).where(Report.instance_id == instance_id))
    if report is None or not permissions.may_read_report(viewer, report.unit_code):
        return {}
    return files_of_report(session, report.id)


def open_for_download(
    session: Session, evidence_id: int, viewer: User, upload_dir: str | os.PathLike[str]
) -> tuple[Path, str, str]:
    """The path, display name and content type of an evidence file VIEWER may download."""
    row = session.get(Evidence, evidence_id)
    report = session.get(Report, row.report_id) if row is not None else None
    if row is None or report is None:
        raise NotFound(Text("Không tìm thấy tệp minh chứng."))
    if not permissions.may_read_report(viewer, report.unit_code):
        raise NotAllowed(Text("Bạn không có quyền xem tài liệu minh chứng của đơn vị này."))
    path = stored_path(upload_dir, row.stored_name)
    if not path.is_file():
        raise NotFound(Text("Tệp minh chứng không còn trên máy chủ; vui lòng báo quản trị hệ thống."))
    return path, row.filename, row.content_type
