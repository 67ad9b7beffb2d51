"""POST /api/v1/auth/token: a bearer token for a username and password."""
from __future__ import annotations

from typing import Any

from flask_smorest import abort

from webapp.api.base import make_blueprint
from webapp.api.schemas import TokenRequestSchema, TokenSchema
from webapp.extensions import db
from workflows import users
from workflows.errors import InvalidInput

bp = make_blueprint("auth", "/auth", "Bearer tokens", protected=False)


@bp.post("/token")
@bp.arguments(TokenRequestSchema)
@bp.response(200, TokenSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.doc(security=[])
def token(credentials: dict[str, Any]) -> dict[str, Any]:
    """Issue a token valid 12 hours; repeated failures lock the account as the login page does."""
    try:
        user = users.authenticate(db.session, credentials["username"], credentials["password"])
    except InvalidInput as error:
        abort(401, message=error.message, errors=error.fields)
    return {"token": users.issue_token(db.session, user), "token_type": "Bearer"}
