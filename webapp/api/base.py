"""What every API blueprint shares: bearer-token authentication, the caller, and the JSON error shape."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import g, request
from flask_smorest import Blueprint, abort
from werkzeug.exceptions import HTTPException

from webapp.extensions import db
from workflows import accounts
from workflows.errors import NotAllowed
from workflows.models import User

PREFIX = "/api/v1"
# Codes of the error shape for HTTP errors; domain errors bring their own (workflows/errors.py).
CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 415: "unsupported_media_type", 422: "invalid", 500: "server_error"}
LOCATIONS = {"json", "query", "form", "headers", "path", "files", "cookies", "json_or_form"}
INVALID_MESSAGE = "Dữ liệu chưa hợp lệ, vui lòng kiểm tra các trường được đánh dấu."


def make_blueprint(name: str, url_prefix: str, description: str, protected: bool = True) -> Blueprint:
    """A flask-smorest blueprint under /api/v1 answering errors in the API's shape; PROTECTED ones need a token."""
    bp = Blueprint(f"api_{name}", __name__, url_prefix=PREFIX + url_prefix, description=description)
    bp.register_error_handler(HTTPException, handle_http_exception)
    bp.before_request(refuse_deep_json)
    if protected:
        bp.before_request(authenticate)
    return bp


MAX_JSON_DEPTH = 64  # the deepest body the API takes (a task's payload is 4 levels); Python's parser recurses
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def refuse_deep_json() -> None:
    """400 for a JSON body nested deeper than MAX_JSON_DEPTH, before any parser recurses into it (RecursionError)."""
    if not request.is_json:
        return
    data = request.get_data(cache=True)
    if data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH:
        return
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b"", data)):
        depth += 1 if bracket in (b"[", b"{") else -1
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            abort(400, message=f"Dữ liệu JSON lồng quá sâu (tối đa {MAX_JSON_DEPTH} cấp).")


def authenticate() -> None:
    """The caller from `Authorization: Bearer <token>`, one query; a session cookie counts for nothing here."""
    if request.method == "OPTIONS":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, message="Cần đăng nhập: gửi mã truy cập trong tiêu đề Authorization: Bearer <token>.")
    user = accounts.user_for_token(db.session, token.strip())
    if user is None:
        abort(401, message="Mã truy cập không hợp lệ hoặc đã hết hạn.")
    g.api_user = user
    # A view serializes what its service just committed, and the services keep the objects they write in step with
    # the database (runtime.write_row); reloading them after the commit would cost a SELECT per write request.
    db.session().expire_on_commit = False


def caller() -> User:
    return g.api_user


def require(rule: Callable[[User], bool], user: User, message: str) -> None:
    """403 with MESSAGE unless RULE (a workflows.permissions predicate) allows USER."""
    if not rule(user):
        raise NotAllowed(message)


def flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """Marshmallow's nested messages as {dotted.path: "message"}, the shape InvalidInput.fields has."""
    if isinstance(messages, dict):
        flat: dict[str, str] = {}
        for key, value in messages.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": " ".join(messages)}
    if isinstance(messages, list):
        flat = {}
        for index, value in enumerate(messages):
            flat.update(flatten(value, f"{prefix}[{index}]"))
        return flat
    return {prefix or "_schema": str(messages)}


def handle_http_exception(error: HTTPException) -> Any:
    """HTTP errors under /api/ in the shape of domain errors; other paths keep Flask's own pages."""
    if not request.path.startswith("/api/") or error.code is None:
        return error
    status = error.code
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages") or {}
    if isinstance(messages, dict) and set(messages) <= LOCATIONS:
        # webargs keys marshmallow's messages by where they came from (json, query): the field names are enough.
        fields = {k: v for location in messages.values() for k, v in flatten(location).items()}
    else:
        fields = flatten(messages) if messages else {}
    message = data.get("message") or (INVALID_MESSAGE if status == 422 else error.description or error.name)
    body = {"error": {"code": CODES.get(status, error.name.lower().replace(" ", "_")), "message": message,
                      "fields": fields}}
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}  # e.g. Allow on a 405
    headers.update(data.get("headers") or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return body, status, headers
