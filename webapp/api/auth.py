"""POST /api/v1/auth/token: a bearer token for a username and password; GET/DELETE /api/v1/tokens."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import request
from flask_smorest import abort

from webapp.api.base import caller, make_blueprint
from webapp.api.schemas import TokenInfoSchema, TokenRequestSchema, TokenSchema
from webapp.extensions import db
from workflows import accounts
from workflows.errors import InvalidInput

bp = make_blueprint("auth", "/auth", "Bearer tokens", protected=False)
tokens_bp = make_blueprint("tokens", "/tokens", "The caller's bearer tokens: list and revoke")


@bp.post("/token")
@bp.arguments(TokenRequestSchema)
@bp.response(200, TokenSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.doc(security=[])
def token(credentials: dict[str, Any]) -> dict[str, Any]:
    """Issue a token valid 12 hours; repeated failures make the next try wait, as on the login page."""
    try:
        user = accounts.authenticate(db.session, credentials["username"], credentials["password"],
                                     request.remote_addr)
    except InvalidInput as error:
        abort(401, message=error.message, errors=error.fields)
    lifetime = timedelta(days=credentials["days"]) if "days" in credentials else accounts.TOKEN_LIFETIME
    return {"token": accounts.issue_token(db.session, user, name=credentials.get("name") or "", lifetime=lifetime),
            "token_type": "Bearer"}


@tokens_bp.get("")
@tokens_bp.response(200, TokenInfoSchema(many=True))
@tokens_bp.alt_response(401, response="UNAUTHORIZED")
def list_tokens() -> list[accounts.TokenView]:
    """The caller's tokens that are not revoked (expired ones too, marked inactive); never the tokens themselves."""
    return accounts.list_tokens(db.session, caller())


@tokens_bp.delete("/<int:token_id>")
@tokens_bp.response(204)
@tokens_bp.alt_response(401, response="UNAUTHORIZED")
@tokens_bp.alt_response(404, response="NOT_FOUND")
def revoke_token(token_id: int) -> None:
    """Revoke one of the caller's tokens (an administrator: anyone's); it stops working at once."""
    accounts.revoke_token(db.session, token_id, caller())
    db.session.commit()
