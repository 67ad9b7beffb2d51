"""Structured logs: one JSON object a line, with the request's id, so one request can be followed across servers.

LOG_FORMAT=json (the default outside debug and tests) or text. Every request is logged once when it ends (method,
path, status, duration); the request id comes from a sane X-Request-ID header (the proxy sets one) or is generated,
and is echoed in the response's X-Request-ID header.
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # no spaces, quotes or newlines that could forge a log line
request_log = logging.getLogger("webapp.request")


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id and whatever request fields the record carries."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "remote_addr")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Stamp every record logged while a request is served with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and has_request_context():
            record.request_id = g.get("request_id")
        return True


def request_id_from(header: str | None) -> str:
    return header if header and _SANE_ID.match(header) else uuid.uuid4().hex


def init_app(app: Flask) -> None:
    log_format = app.config.get("LOG_FORMAT") or os.environ.get("LOG_FORMAT") or (
        "text" if app.debug or app.testing else "json")
    if log_format == "json" and not app.testing:
        _install_json_handler(app.config.get("LOG_LEVEL") or os.environ.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def _start() -> None:
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):  # noqa: ANN001, ANN202 - Flask response object
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
            request_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "request_id": request_id, "method": request.method, "path": request.path,
                "status": response.status_code, "remote_addr": request.remote_addr,
                "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 1)})
        return response


def _install_json_handler(level: str) -> None:
    """One JSON handler on the root logger to stderr (gunicorn's and ours alike); idempotent across create_app()."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_bacninh_json", False):
            root.removeHandler(handler)
        elif isinstance(handler.formatter, JsonFormatter):  # gunicorn.conf.py's: only add the request ids
            handler.addFilter(RequestIdFilter())
            return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler._bacninh_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
