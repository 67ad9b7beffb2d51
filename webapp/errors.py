"""Domain errors → HTTP responses: JSON for /api/, a page otherwise."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import NotFound as UnknownAddress
from werkzeug.exceptions import RequestEntityTooLarge

from webapp.extensions import db
from webapp.i18n import localize, localize_fields
from workflows.errors import Conflict, InvalidInput, NotAllowed, NotFound, WorkflowError
from workflows.messages import Text


class PayloadTooLarge(WorkflowError):
    code = "too_large"


STATUS = {NotFound: 404, NotAllowed: 403, Conflict: 409, InvalidInput: 422, PayloadTooLarge: 413}


def _status(error: WorkflowError) -> int:
    for cls, status in STATUS.items():
        if isinstance(error, cls):
            return status
    return 400


def handle_workflow_error(error: WorkflowError):
    status = _status(error)
    if request.path.startswith("/api/"):
        # In the caller's language like the pages: Vietnamese unless ?lang=en (or the session) chose English.
        body = {"error": {"code": error.code, "message": localize(error.message),
                          "fields": localize_fields(error.fields)}}
        return jsonify(body), status
    return render_template("errors/error.html", error=error, status=status), status


def handle_too_large(error: RequestEntityTooLarge):
    message = Text("Dữ liệu gửi lên quá lớn (tối đa 50 MB mỗi lần, 10 MB mỗi tệp). "
                   "Hãy tải tệp lên nhiều lần bằng nút Lưu nháp.")
    return handle_workflow_error(PayloadTooLarge(message))


def handle_number_out_of_range(error: Exception):
    """The last line of defence behind the bounded URL converter and the API's Range checks: a number the database
    cannot hold (PostgreSQL integer, SQLite's 64 bits) in some query parameter is the caller's mistake, not a 500."""
    db.session.rollback()
    return handle_workflow_error(InvalidInput(Text("Số quá lớn hoặc không hợp lệ.")))


def handle_unknown_address(error: UnknownAddress):
    # An address no view answers: the application's own page (or JSON under /api/), not Flask's bare English one.
    return handle_workflow_error(NotFound(Text("Không tìm thấy trang {path}.", path=request.path)))


def register(app: Flask) -> None:
    app.register_error_handler(DataError, handle_number_out_of_range)
    app.register_error_handler(OverflowError, handle_number_out_of_range)
    app.register_error_handler(UnknownAddress, handle_unknown_address)
    app.register_error_handler(WorkflowError, handle_workflow_error)
    app.register_error_handler(RequestEntityTooLarge, handle_too_large)
