"""Each task's JSON Schema (GET /api/v1/tasks/{id} → schema) describes the data `complete` accepts: a client that
builds its payload from the schema alone completes every step of a whole cycle."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from factories import open_small_cycle
from sqlalchemy import select
from test_api import PASSWORD, YEAR, Api

from webapp.extensions import db
from workflows.criteria import CRITERIA
from workflows.models import HumanTask, TaskState

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from api_cycle import Client, drive, example  # noqa: E402 - the script's own builder: what a schema-only client sends

CODES = ["STC", "SNV"]
CENTRAL = {"dic_officer": "dic", "dic_leader": "dic_leader", "home_affairs": "home_affairs", "committee": "committee"}


def test_a_whole_cycle_completes_through_the_api_from_each_tasks_schema(app):
    with app.app_context():
        open_small_cycle(db.session, CODES, year=YEAR)
    api = Api(app.test_client())
    done: list[str] = []
    for _ in range(40):
        with app.app_context():
            task = db.session.scalar(select(HumanTask).where(HumanTask.state == TaskState.OPEN)
                                     .order_by(HumanTask.id))
            if task is None:
                break
            group, unit, step, task_id = task.candidate_group, task.unit_code, task.step_id, task.id
        user = CENTRAL.get(group) or f"{unit.lower()}_{'officer' if group == 'agency_officer' else 'head'}"
        if step == "review_dic_self_evaluation":
            user = "home_affairs"
        page = api.get(f"/tasks/{task_id}", user).get_json()
        schema = page["schema"]
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        data = example(schema)
        response = api.post(f"/tasks/{task_id}/complete", user, {"data": data})
        assert response.status_code == 200, (step, data, response.get_json())
        done.append(step)
    assert {"draft_report", "approve_report", "review_report", "consolidate", "evaluate",
            "home_affairs_proposal", "committee_decision"} <= set(done), done
    with app.app_context():
        assert db.session.scalar(select(HumanTask).where(HumanTask.state == TaskState.OPEN)) is None


def test_the_report_schema_lists_every_criterion_with_its_statuses_and_labels(app):
    with app.app_context():
        open_small_cycle(db.session, CODES, year=YEAR)
        task_id = db.session.scalar(select(HumanTask.id).where(HumanTask.step_id == "draft_report",
                                                                HumanTask.unit_code == "STC"))
    schema = Api(app.test_client()).get(f"/tasks/{task_id}", "stc_officer").get_json()["schema"]
    criteria = schema["properties"]["criteria"]
    assert criteria["required"] == [c.id for c in CRITERIA] and schema["required"][-1] == "criteria"
    status = criteria["properties"]["M1.5.1"]["properties"]["status"]
    assert status["enum"] == ["pass", "fail", "na"] and {"const": "pass", "title": "Đạt"} in status["oneOf"]
    assert schema["properties"]["it_staff_count"]["type"] == "integer"
    assert schema["properties"]["budget"]["properties"]["software"] == {"type": "integer", "minimum": 0,
                                                                         "title": "Phần mềm"}


def test_the_actionable_tab_lists_mine_and_my_groups_tasks(app):
    with app.app_context():
        open_small_cycle(db.session, CODES, year=YEAR)
    api = Api(app.test_client())
    assert api.get("/tasks", "stc_officer").get_json()["items"] == []  # "mine" is the default: nothing claimed yet
    actionable = api.get("/tasks", "stc_officer", query_string={"tab": "actionable"}).get_json()
    assert [(i["step_id"], i["unit_code"]) for i in actionable["items"]] == [("draft_report", "STC")]
    assert actionable["total"] == 1


class _TestClient(Client):
    """The script's client over Flask's test client instead of HTTP."""

    def __init__(self, app: Any) -> None:
        self.client = app.test_client()

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.client.open("/api/v1" + path, method=method, json=body, headers=headers)
        assert response.status_code == 200, (path, body, response.get_json())
        return response.get_json()


def test_the_script_drives_a_whole_cycle_as_its_users(app):
    with app.app_context():
        open_small_cycle(db.session, CODES, year=YEAR)
    client = _TestClient(app)
    names = ["stc_officer", "snv_officer", "stc_head", "snv_head", "dic", "dic_leader", "home_affairs", "committee"]
    tokens = {u: client.call("POST", "/auth/token", body={"username": u, "password": PASSWORD})["token"] for u in names}
    done = drive(client, tokens)
    assert ("committee", "committee_decision", None) in done
    with app.app_context():
        assert db.session.scalar(select(HumanTask).where(HumanTask.state == TaskState.OPEN)) is None
