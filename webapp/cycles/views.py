"""Cycles and instances: progress of a year, an instance's history. (Filled in by the cycle pages work.)"""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("cycles", __name__, url_prefix="/cycles")


@bp.get("/")
@login_required
def index():
    return render_template("cycles/index.html")


@bp.get("/instances/<int:instance_id>")
@login_required
def instance(instance_id: int):
    return render_template("cycles/index.html")
