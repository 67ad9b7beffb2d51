"""One process instance: its state, the steps waiting now, its history."""
from __future__ import annotations

from webapp.api.base import caller, make_blueprint
from webapp.api.schemas import InstanceSchema
from webapp.extensions import db
from workflows import instances

bp = make_blueprint("instances", "/instances", "Process instances and their history")


@bp.get("/<int:instance_id>")
@bp.response(200, InstanceSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def get_instance(instance_id: int) -> instances.InstanceView:
    """An instance's state, open steps and audit history; an agency reads only its own instances."""
    return instances.instance_view(db.session, instance_id, caller())
