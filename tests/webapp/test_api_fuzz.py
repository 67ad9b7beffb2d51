"""A short fuzz of the JSON API: schemathesis generates requests for every operation of the app's own OpenAPI
document, sent in-process (WSGI) with three roles' tokens; no answer may be a server error or break the document.

The long run, every role and many more cases: `python scripts/fuzz_api.py` (see the README).
"""
from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from factories import open_small_cycle
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from webapp.extensions import db
from workflows import accounts, users

ROLES = ["dic_leader", "stc_officer", "admin"]


@pytest.fixture
def bearers(app: Any) -> list[dict[str, str]]:
    """Each role's Authorization header, on a database with an open cycle (tasks and instances for ids to find)."""
    with app.app_context():
        open_small_cycle(db.session, ["STC", "SNV"])
        tokens = [accounts.issue_token(db.session, users.get_by_username(db.session, role), name="fuzz")
                  for role in ROLES]
    return [{"Authorization": f"Bearer {token}"} for token in tokens]


def openapi_document() -> dict[str, Any]:
    """The document as the app serves it; the app that answers the cases is each test's own (its own database)."""
    from config import TestConfig
    from webapp import create_app

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    return create_app(Config).test_client().get("/api/v1/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(max_examples=4, deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_request_makes_a_server_error_or_an_undocumented_answer(case: Any, app: Any,
                                                                   bearers: list[dict[str, str]]) -> None:
    for headers in bearers:  # the same request from each role: one database set up per operation, not per role
        case.call_and_validate(app=app, headers=headers, checks=[not_a_server_error, response_schema_conformance])
