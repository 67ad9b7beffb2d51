"""Domain errors → HTTP responses: JSON for /api/, a page otherwise."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request

from workflows.errors import Conflict, InvalidInput, NotAllowed, NotFound, WorkflowError

STATUS = {NotFound: 404, NotAllowed: 403, Conflict: 409, InvalidInput: 422}


def _status(error: WorkflowError) -> int:
    for cls, status in STATUS.items():
        if isinstance(error, cls):
            return status
    return 400


def handle_workflow_error(error: WorkflowError):
    status = _status(error)
    if request.path.startswith("/api/"):
        body = {"error": {"code": error.code, "message": error.message, "fields": error.fields}}
        return jsonify(body), status
    return render_template("errors/error.html", error=error, status=status), status


def register(app: Flask) -> None:
    app.register_error_handler(WorkflowError, handle_workflow_error)
