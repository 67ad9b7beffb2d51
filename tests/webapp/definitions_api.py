"""What the tests of uploaded definitions share (test_definitions.py, test_modeler_round_two.py): the app with the
definitions pages and API, a bearer token, and one upload through POST /api/v1/definitions."""
from __future__ import annotations

import io
from typing import Any

import pytest
from factories import setup_people

from webapp.extensions import csrf, db

PASSWORD = "simulation-only"


@pytest.fixture
def app(app):
    """The app with the definitions pages and API registered (if create_app has not), STC's people, no CSRF."""
    from webapp import definitions as definition_pages
    from webapp.api import definitions as api_definitions

    if "definitions" not in app.blueprints:
        app.register_blueprint(definition_pages.bp)
    if "api_definitions" not in app.blueprints:
        csrf.exempt(api_definitions.bp)
        app.extensions["api_v1"].register_blueprint(api_definitions.bp)
    with app.app_context():
        setup_people(db.session, ["STC"])
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def token(app, username: str) -> dict[str, str]:
    response = app.test_client().post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def upload(app, files: dict[str, bytes], username: str = "owner", comment: str | None = "qua API",
           language: str = "vi") -> Any:
    """FILES (name → content) uploaded by USERNAME through the API, with COMMENT (None: without one)."""
    data: dict[str, Any] = {"files": [(io.BytesIO(content), name) for name, content in files.items()]}
    if comment is not None:
        data["comment"] = comment
    headers = {**token(app, username), "Accept-Language": language}
    return app.test_client().post("/api/v1/definitions", data=data, content_type="multipart/form-data",
                                  headers=headers)
