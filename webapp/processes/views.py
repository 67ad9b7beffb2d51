"""Process pages: each process and version with its diagram, tasks per step and decision tables; one instance's
diagram; testing a decision table. Thin views over workflows.monitoring and workflows.dmn_tables."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.processes import forms
from webapp.security import requires
from workflows import dmn_tables, monitoring, permissions, versions
from workflows.calendar import local_today

bp = Blueprint("processes", __name__, url_prefix="/processes")

# Served XML is data for bpmn-js, never a document to render: a browser opening it directly runs nothing.
# (The diagram pages need no exception to the app-wide policy: bpmn-js 18 styles through the CSSOM, which CSP does
# not restrict; tests/e2e/test_diagram.py fails on any violation.)
XML_CSP = "default-src 'none'; sandbox"


@bp.get("/")
@requires(permissions.may_view_processes)
def index():
    """Every deployed process with its versions."""
    return render_template("processes/index.html", processes=monitoring.processes(db.session))


@bp.get("/<key>/v<int:version>")
@requires(permissions.may_view_processes)
def version(key: str, version: int):
    """One version: its diagram with the open tasks per step in a cycle year, the same as a table, its decisions."""
    year, all_years = forms.year_choice(request.args)
    page = monitoring.version_overview(db.session, key, version, local_today(), year, all_years)
    diagram = {"marks": page.marks, "counts": page.counts}
    xml_url = url_for("processes.xml", key=key, version=version, filename=page.diagram_file)
    return render_template("processes/version.html", page=page, diagram_data=diagram, xml_url=xml_url)


@bp.get("/<key>/v<int:version>/xml/<filename>")
@requires(permissions.may_view_processes)
def xml(key: str, version: int, filename: str):
    """A file of the version exactly as deployed, for bpmn-js (and for opening again in Camunda Modeler)."""
    found = versions.get_version(db.session, key, version)
    return _xml_response(monitoring.version_file(found, filename), filename)


@bp.get("/instances/<int:instance_id>/diagram")
@login_required
def instance_diagram(instance_id: int):
    """The diagram of one instance with its completed, current and late steps marked."""
    steps = monitoring.instance_steps(db.session, instance_id, current_user, local_today())
    diagram = {"marks": steps.marks, "counts": steps.counts}
    xml_url = url_for("processes.instance_xml", instance_id=instance_id)
    return render_template("processes/instance.html", steps=steps, diagram_data=diagram, xml_url=xml_url)


@bp.get("/instances/<int:instance_id>/diagram.xml")
@login_required
def instance_xml(instance_id: int):
    """The diagram file of the instance's version, for whoever may see the instance."""
    steps = monitoring.instance_steps(db.session, instance_id, current_user, local_today())
    return _xml_response(steps.version.files[steps.diagram_file], steps.diagram_file)


def _xml_response(text: str, filename: str) -> Response:
    response = Response(text.encode("utf-8"), content_type="application/xml; charset=utf-8")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response.headers["Content-Security-Policy"] = XML_CSP
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/<key>/v<int:version>/decisions/<decision_id>/test", methods=["GET", "POST"])
@requires(permissions.may_view_processes)
def decision_test(key: str, version: int, decision_id: str):
    """Evaluate one decision table on values the owner types, and show which rule matched and why."""
    found = versions.get_version(db.session, key, version)
    table = dmn_tables.decision_table(found, decision_id)
    variables = dmn_tables.variables(table)
    raw: dict[str, Any] = {v.name: request.form.get(v.name, "") for v in variables}
    result, errors, status = None, {}, 200
    if request.method == "POST":
        values, errors = forms.decision_inputs(variables, request.form)
        if errors:
            status = 422
        else:
            result = monitoring.test_decision(db.session, found.id, decision_id, values)
    return render_template("processes/decision_test.html", version=found, table=table, variables=variables,
                           raw=raw, errors=errors, result=result), status
