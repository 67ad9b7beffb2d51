"""Process definitions: upload .bpmn/.dmn files as one set (new versions or a validation report), list versions."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import force_locale
from flask_smorest.fields import Upload
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from webapp.api.base import caller, handle_http_exception, make_blueprint, require
from webapp.api.schemas import UtcDateTime
from webapp.extensions import db
from webapp.i18n import localize, localize_fields
from workflows import permissions, validation, versions
from workflows.errors import DefinitionInvalid, InvalidInput

bp = make_blueprint("definitions", "/definitions", "Process definitions: upload, validation report, versions")
MAX_REQUEST_BYTES = validation.MAX_TOTAL_BYTES + 1_000_000


@bp.before_request
def _limit_upload_size() -> None:
    request.max_content_length = MAX_REQUEST_BYTES


class UploadSchema(Schema):
    # The files are read from request.files: webargs reads one location per schema, and OpenAPI allows one request
    # body, so this schema documents the whole multipart body and loads only its form fields.
    files = fields.List(Upload(), load_default=list,
                        metadata={"description": "One or more .bpmn/.dmn files saved by Camunda Modeler (Camunda 7)"})
    comment = fields.String(load_default="", metadata={
        "description": "What changed and why (kept with the version); required unless dry_run"})
    make_current = fields.Boolean(load_default=True,
                                  metadata={"description": "Use the new versions for cycles opened from now on"})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Only check: answer 200 with the versions an upload would create, storing nothing"})


class ProblemSchema(Schema):
    code = fields.String(metadata={"description": "Stable code of the check, e.g. script_task, unique_overlap"})
    severity = fields.String(metadata={"description": "error (blocks the upload) or warning"})
    file = fields.String(allow_none=True)
    element = fields.String(allow_none=True, metadata={"description": "The BPMN/DMN element id"})
    name = fields.String(allow_none=True, metadata={"description": "The element's name as drawn"})
    line = fields.Integer(allow_none=True)
    message = fields.String(metadata={"description": "The problem in Vietnamese"})
    message_en = fields.String(metadata={"description": "The problem in English"})


class DeploymentSchema(Schema):
    process = fields.String(attribute="process_key")
    version = fields.Integer()
    created = fields.Boolean(metadata={"description": "False when the files equal the latest version's"})


class UploadResultSchema(Schema):
    dry_run = fields.Boolean(metadata={"description": "True when nothing was stored (a check only)"})
    versions = fields.List(fields.Nested(DeploymentSchema), attribute="deployments")
    warnings = fields.List(fields.Nested(ProblemSchema))
    completed_from = fields.Dict(keys=fields.String(), values=fields.String(),
                                 metadata={"description": "Files not uploaded, taken from the current version"})


def _refused_form(error: HTTPException) -> Any:
    """A refused form (unknown or wrong field) answers in the 422 shape documented for upload: with `problems`."""
    answer = handle_http_exception(error)
    if isinstance(answer, tuple) and answer[1] == 422:
        body, status, headers = answer
        problems = [{"code": "invalid_field", "severity": "error", "file": None, "element": field, "name": None,
                     "line": None, "message": message, "message_en": message}
                    for field, message in body["error"]["fields"].items()]
        return {**body, "problems": problems}, status, headers
    return answer


bp.register_error_handler(HTTPException, _refused_form)


class ReportErrorSchema(Schema):
    error = fields.Dict(required=True, metadata={"description": '{"code": "definition_invalid", "message", "fields"}'})
    problems = fields.List(fields.Nested(ProblemSchema), required=True)


class VersionSchema(Schema):
    version = fields.Integer()
    created_at = UtcDateTime()
    created_by = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    sha256 = fields.String()
    files = fields.List(fields.String())
    is_current = fields.Boolean(metadata={"description": "The version new cycles start on"})
    running = fields.Integer()


def with_english(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each problem with its sentence in English too (`message` stays as the request's language has it)."""
    with force_locale("en"):
        return [{**p, "message_en": localize(p["message"])} for p in problems]


@bp.post("")
@bp.arguments(UploadSchema, location="form", content_type="multipart/form-data")
@bp.response(201, UploadResultSchema)
@bp.alt_response(200, schema=UploadResultSchema, description="dry_run: what an upload would create; nothing stored")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(422, schema=ReportErrorSchema, description="The files were refused; `problems` lists every one")
def upload(form: dict[str, Any]) -> Any:
    """Check the files as one set; deploy each process they change as a new version, or return the report."""
    require(permissions.may_edit_definitions, caller(),
            "Chỉ chủ quy trình hoặc quản trị hệ thống được tải lên quy trình.")
    contents: dict[str, bytes] = {}
    for storage in request.files.getlist("files"):
        if storage and storage.filename:
            contents[storage.filename.replace("\\", "/").rsplit("/", 1)[-1]] = storage.read(
                validation.MAX_TOTAL_BYTES + 1)
    try:
        if form["dry_run"]:
            result = versions.check_upload(db.session, contents, caller())
        else:
            result = versions.upload(db.session, contents, caller(), form["comment"],
                                     make_current=form["make_current"])
    except DefinitionInvalid as error:
        response = jsonify({"error": {"code": error.code, "message": error.message, "fields": {}},
                            "problems": with_english(error.problems)})
        response.status_code = 422
        return response
    except InvalidInput as error:  # e.g. no comment: the same documented shape, with no file problems
        response = jsonify({"error": {"code": error.code, "message": localize(error.message),
                                      "fields": localize_fields(error.fields)}, "problems": []})
        response.status_code = 422
        return response
    body = {"dry_run": form["dry_run"], "deployments": result.deployments, "completed_from": result.completed_from,
            "warnings": with_english([p.as_dict() for p in result.report.warnings])}
    return (body, 200) if form["dry_run"] else body


@bp.get("/<key>/versions")
@bp.response(200, VersionSchema(many=True))
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def list_versions(key: str) -> list[versions.VersionRow]:
    """The versions of a process, newest first: who, when, comment, content hash, running instances."""
    require(permissions.may_edit_definitions, caller(),
            "Chỉ chủ quy trình hoặc quản trị hệ thống xem các phiên bản quy trình.")
    return versions.list_versions(db.session, key)
