"""Process definitions for process owners: upload .bpmn/.dmn files, read the report, versions, diff, choose, migrate."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from webapp.extensions import db
from webapp.i18n import localize
from webapp.security import requires
from workflows import instance_migration, permissions, validation, version_diff, versions
from workflows.errors import Conflict, DefinitionInvalid, InvalidInput

bp = Blueprint("definitions", __name__, url_prefix="/definitions")
# The files themselves are limited in workflows/validation/; this bounds the whole request before it is read.
MAX_REQUEST_BYTES = validation.MAX_TOTAL_BYTES + 1_000_000


@bp.before_request
def _limit_upload_size() -> None:
    request.max_content_length = MAX_REQUEST_BYTES


def uploaded_files() -> dict[str, bytes]:
    """The files of the multipart field `files` (several allowed), by their base name."""
    found: dict[str, bytes] = {}
    for storage in request.files.getlist("files"):
        if storage and storage.filename:
            name = storage.filename.replace("\\", "/").rsplit("/", 1)[-1]
            found[name] = storage.read(validation.MAX_TOTAL_BYTES + 1)
    return found


def problem_rows(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Problems ready to show: the sentence in the reader's language."""
    return [{**p, "text": localize(p["message"])} for p in problems]


def _render_index(status: int = 200, **context: Any):
    return render_template("definitions/index.html", processes=versions.list_processes(db.session),
                           limits={"files": validation.MAX_FILES, "mb": validation.MAX_TOTAL_BYTES // 1_000_000},
                           **{"problems": None, "message": None, "errors": {}, "comment": "", "checked": None,
                              "warnings": None, **context}), status


@bp.get("/")
@requires(permissions.may_edit_definitions)
def index():
    """Every process with its current version, and the form to upload changed files."""
    return _render_index()


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge):
    return _render_index(413, message=_("Các tệp quá lớn: tổng cộng tối đa %(mb)s MB.",
                                        mb=validation.MAX_TOTAL_BYTES // 1_000_000))


@bp.post("/upload")
@requires(permissions.may_edit_definitions)
def upload():
    """Check the uploaded files as one set; show the new versions, or every problem found."""
    comment = request.form.get("comment", "")
    files = uploaded_files()
    try:
        if request.form.get("action") == "check":
            checked = versions.check_upload(db.session, files, current_user)
            return _render_index(checked=checked, comment=comment, uploaded=sorted(files),
                                 warnings=problem_rows([p.as_dict() for p in checked.report.warnings]))
        result = versions.upload(db.session, files, current_user, comment,
                                 make_current=request.form.get("make_current") == "1")
    except DefinitionInvalid as error:
        return _render_index(422, problems=problem_rows(error.problems), message=error.message, comment=comment,
                             uploaded=sorted(files))
    except InvalidInput as error:
        return _render_index(422, message=error.message, errors=error.fields, comment=comment)
    return render_template("definitions/uploaded.html", result=result,
                           warnings=problem_rows([p.as_dict() for p in result.report.warnings])), 201


@bp.get("/<key>")
@requires(permissions.may_edit_definitions)
def process(key: str):
    """A process: its versions (who, when, why, hash), downloads, and the running instances on each."""
    definition = versions.get_process(db.session, key)
    rows = versions.list_versions(db.session, key)
    return render_template("definitions/process.html", definition=definition, versions=rows,
                           running=instance_migration.running_instances(db.session, key))


@bp.get("/<key>/v<int:number>/files/<path:filename>")
@requires(permissions.may_edit_definitions)
def download_file(key: str, number: int, filename: str):
    """One file of a version exactly as uploaded, to open again in Camunda Modeler."""
    content = versions.version_file(db.session, key, number, filename)
    return Response(content, mimetype="application/xml",
                    headers={"Content-Disposition": _attachment(filename)})


@bp.get("/<key>/v<int:number>.zip")
@requires(permissions.may_edit_definitions)
def download_zip(key: str, number: int):
    """Every file of a version in one zip."""
    content = versions.version_zip(db.session, key, number)
    return Response(content, mimetype="application/zip",
                    headers={"Content-Disposition": _attachment(f"{key}-v{number}.zip")})


def _attachment(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename)}"


@bp.get("/<key>/diff")
@requires(permissions.may_edit_definitions)
def diff(key: str):
    """What changed between two versions: steps, flows, form fields, decision rules."""
    rows = versions.list_versions(db.session, key)
    newest = rows[0].version if rows else 1
    old = request.args.get("from", type=int) or max(newest - 1, 1)
    new = request.args.get("to", type=int) or newest
    result = version_diff.diff(db.session, key, old, new)
    return render_template("definitions/diff.html", definition=versions.get_process(db.session, key), diff=result,
                           versions=rows)


@bp.post("/<key>/current")
@requires(permissions.may_edit_definitions)
def choose_current(key: str):
    """Choose the version new cycles start on; running instances stay where they are."""
    number = request.form.get("version", type=int)
    if number is None:
        flash(_("Hãy chọn một phiên bản."), "error")
        return redirect(url_for("definitions.process", key=key), code=303)
    versions.choose_current(db.session, key, number, current_user, request.form.get("reason", "").strip() or None)
    flash(_("Các kỳ đánh giá mới sẽ chạy theo phiên bản %(number)s.", number=number))
    return redirect(url_for("definitions.process", key=key), code=303)


@bp.get("/instances/<int:instance_id>/migrate")
@requires(permissions.may_edit_definitions)
def migration(instance_id: int):
    """What moving a running instance to another version would do to the steps it stands at."""
    target = request.args.get("to", type=int)
    if target is None:
        raise InvalidInput(_("Hãy chọn phiên bản đích."), {"to": _("Bắt buộc.")})
    plan = instance_migration.migration_plan(db.session, instance_id, target)
    return render_template("definitions/migrate.html", plan=plan, errors={}, reason="")


@bp.post("/instances/<int:instance_id>/migrate")
@requires(permissions.may_edit_definitions)
def migrate(instance_id: int):
    """Move the instance if the change allows it; a reason is required and recorded in its history."""
    target = request.form.get("to", type=int)
    reason = request.form.get("reason", "")
    if target is None:
        raise InvalidInput(_("Hãy chọn phiên bản đích."), {"to": _("Bắt buộc.")})
    try:
        done = instance_migration.migrate_instance(db.session, instance_id, target, current_user, reason)
    except (InvalidInput, Conflict) as error:
        plan = instance_migration.migration_plan(db.session, instance_id, target)
        status = 422 if isinstance(error, InvalidInput) else 409
        return render_template("definitions/migrate.html", plan=plan, errors=error.fields, reason=reason,
                               message=error.message), status
    flash(_("Hồ sơ #%(id)s đã chuyển sang phiên bản %(number)s.", id=instance_id, number=done.to_version))
    return redirect(url_for("definitions.process", key=done.process_key), code=303)
