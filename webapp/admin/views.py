"""Administration: users, roles, agencies and deputy assignments. (Filled in by the admin pages work.)"""
from __future__ import annotations

from flask import Blueprint, render_template

from webapp.security import roles_required
from workflows.models import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles_required(Role.ADMIN)
def users():
    return render_template("admin/users.html")
