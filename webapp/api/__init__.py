"""The JSON API under /api/v1 (flask-smorest): bearer tokens, thin views over workflows/, OpenAPI from the code.

Errors always have the shape {"error": {"code", "message", "fields"}}: domain errors through webapp/errors.py,
HTTP errors (no token, unknown URL, marshmallow validation) through base.handle_http_exception.
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from webapp.api import auth, boards, cycles, definitions, documents, instances, tasks
from webapp.api.base import PREFIX, handle_http_exception
from webapp.api.schemas import ErrorSchema
from webapp.extensions import csrf

BLUEPRINTS = (auth.bp, auth.tokens_bp, tasks.bp, cycles.bp, instances.bp, boards.bp, definitions.bp, documents.bp)
BEARER = "bearerAuth"


class ApiV1(Api):
    ERROR_SCHEMA = ErrorSchema  # what the OpenAPI document shows for every error response

    def _register_error_handlers(self) -> None:
        # flask-smorest's own handler would answer every HTTP error of the whole app (pages too) in its JSON shape;
        # ours answers only under /api/ (unknown URLs, wrong methods) and hands other paths back to Flask.
        self._app.register_error_handler(HTTPException, self.handle_http_exception)

    def handle_http_exception(self, error: HTTPException) -> Any:
        return handle_http_exception(error)


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Bắc Ninh IT accountability (Quyết định 358/2013/QĐ-UBND)")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = ApiV1(app, spec_kwargs={
        "security": [{BEARER: []}],
        "info": {"description": "Every endpoint but POST /api/v1/auth/token needs `Authorization: Bearer <token>`; "
                                "session cookies are not accepted. Every error is "
                                '`{"error": {"code", "message", "fields"}}`.'},
    })
    api.spec.components.security_scheme(BEARER, {
        "type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/auth/token (valid 12 hours)",
    })
    for blueprint in BLUEPRINTS:
        # Bearer tokens, never cookies: a cross-site request carries no token, so it needs no CSRF token either.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.extensions["api_v1"] = api
