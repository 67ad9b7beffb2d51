"""Issue 11: multi-instance tasks uploaded from Camunda Modeler show which item of their loop each instance works on
(inbox, task page, API), and run their camunda:inputOutput input parameters once per instance, as Camunda 7 does.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from factories import at
from sqlalchemy import select
from test_english import compiled_catalogue  # noqa: F401 - the fixture
from test_modeler_round_two import (  # noqa: F401 - the app fixture and the upload helpers
    api,
    app,
    chain,
    instance_data,
    modeler_bpmn,
    open_tasks,
    problems,
    start,
    upload,
)

from webapp.extensions import db
from workflows import cycles
from workflows.models import HumanTask, User

PASSWORD = "simulation-only"

# A parallel loop over units, then a sequential loop over sections, each with an input computed from its item.
LOOPS = """    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Activity_unit" name="Xem đơn vị" camunda:candidateGroups="dic_officer">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="heading" label="Tiêu đề" type="string" defaultValue="${heading}" />
        </camunda:formData>
        <camunda:inputOutput>
          <camunda:inputParameter name="heading">Đơn vị ${unit}</camunda:inputParameter>
          <camunda:inputParameter name="note">bên trong</camunda:inputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
      <bpmn:multiInstanceLoopCharacteristics camunda:collection="${units}" camunda:elementVariable="unit" />
    </bpmn:userTask>
    <bpmn:userTask id="Activity_section" name="Xem mục" camunda:candidateGroups="dic_officer">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="heading" label="Tiêu đề" type="string" defaultValue="${heading}" />
        </camunda:formData>
        <camunda:inputOutput>
          <camunda:inputParameter name="heading">${section} (${year})</camunda:inputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
      <bpmn:multiInstanceLoopCharacteristics isSequential="true" camunda:collection="sections"
          camunda:elementVariable="section" />
    </bpmn:userTask>
    <bpmn:userTask id="Activity_after" name="Tổng hợp" camunda:candidateGroups="dic_officer" />
    <bpmn:endEvent id="EndEvent_1" />
""" + chain("StartEvent_1", "Activity_unit", "Activity_section", "Activity_after", "EndEvent_1")
DATA = {"units": ["STC", "SYT"], "sections": ["Mục 1", "Mục 2"], "year": 2026, "note": "bên ngoài"}


def login(client, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[-600:])
    return response.get_data(as_text=True)


def items(tasks: list[HumanTask]) -> list[tuple[str, Any]]:
    return sorted((t.step_id, t.instance_item and t.instance_item["value"]) for t in tasks)


@pytest.fixture
def loops(app):  # noqa: F811 - the fixture
    with app.app_context():  # a task page links the year's documents, so the year's cycle must exist
        leader = db.session.scalar(select(User).where(User.username == "dic_leader"))
        cycles.open_cycle(db.session, 2026, date(2026, 12, 15), leader, now=at(date(2026, 11, 2)), unit_codes=["STC"])
    response = upload(app, {"loops.bpmn": modeler_bpmn("loops", LOOPS)})
    assert response.status_code == 201, response.get_json()
    instance_id, _ = start(app, "loops", DATA)
    return instance_id


def complete(app, task: HumanTask, data: dict[str, Any] | None = None) -> None:  # noqa: F811
    done = api(app, "POST", f"/tasks/{task.id}/complete", "dic", json={"data": data or {}})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["instance_item"] == (task.instance_item and {**task.instance_item, **readable(task)})


def readable(task: HumanTask) -> dict[str, Any]:
    value = task.instance_item["value"]
    names = {"STC": "Sở Tài chính", "SYT": "Sở Y tế"}
    return {"text": names.get(value, value), "is_unit": value in names}


def test_each_instance_of_a_parallel_loop_shows_its_unit_in_the_api_inbox_and_task_page(app, loops,  # noqa: F811
                                                                                        compiled_catalogue):  # noqa: F811
    tasks = open_tasks(app, loops)
    assert items(tasks) == [("Activity_unit", "STC"), ("Activity_unit", "SYT")]
    # The API: the inbox rows and each task say which unit, by name.
    listed = api(app, "GET", "/tasks?tab=group&per_page=100", "dic").get_json()["items"]
    shown = {row["id"]: row["instance_item"] for row in listed if row["instance_id"] == loops}
    for task in tasks:
        expected = {"variable": "unit", "value": task.instance_item["value"], **readable(task)}
        assert shown[task.id] == expected
        detail = api(app, "GET", f"/tasks/{task.id}", "dic").get_json()
        assert detail["instance_item"] == expected
        # The input parameter was computed per instance, from that instance's element variable.
        assert {f["id"]: f["value"] for f in detail["fields"]}["heading"] == f"Đơn vị {task.instance_item['value']}"
    # The pages: a line in the inbox and the task page's header, in Vietnamese and in English.
    client = app.test_client()
    login(client, "dic")
    inbox = html(client, "/tasks/?tab=group&per_page=100")
    assert "Mục trong vòng lặp (unit): Sở Tài chính" in inbox and "Mục trong vòng lặp (unit): Sở Y tế" in inbox
    english = html(client, "/tasks/?tab=group&per_page=100&lang=en")
    assert "Loop item (unit): Department of Finance" in english and "Loop item (unit): Department of Health" in english
    stc = next(t for t in tasks if t.instance_item["value"] == "STC")
    page = html(client, f"/tasks/{stc.id}?lang=vi")
    assert re.search(r'Mục trong vòng lặp \(<code>unit</code>\): <strong class="instance-item" title="STC">'
                     r"Sở Tài chính</strong>", page)
    assert 'title="STC">Department of Finance</strong>' in html(client, f"/tasks/{stc.id}?lang=en")


def test_a_sequential_loop_shows_each_item_as_text_one_instance_after_the_other(app, loops):  # noqa: F811
    for task in open_tasks(app, loops):
        complete(app, task)
    seen = []
    for _ in range(2):
        [task] = open_tasks(app, loops)
        detail = api(app, "GET", f"/tasks/{task.id}", "dic").get_json()
        assert detail["instance_item"]["is_unit"] is False
        seen.append((detail["instance_item"]["text"], {f["id"]: f["value"] for f in detail["fields"]}["heading"]))
        complete(app, task)
    assert seen == [("Mục 1", "Mục 1 (2026)"), ("Mục 2", "Mục 2 (2026)")]
    # After the loops: a task of no loop has no item, and the inputs stayed inside the instances that had them.
    [after] = open_tasks(app, loops)
    assert after.step_id == "Activity_after" and after.instance_item is None
    assert api(app, "GET", f"/tasks/{after.id}", "dic").get_json()["instance_item"] is None
    complete(app, after)
    data = instance_data(app, loops)
    assert data["note"] == "bên ngoài" and "heading" not in data
    assert (data["units"], data["sections"]) == (DATA["units"], DATA["sections"])  # each item written back in place


def test_an_output_parameter_on_a_multi_instance_task_is_refused_saying_why(app):  # noqa: F811
    body = LOOPS.replace('<camunda:inputParameter name="note">bên trong</camunda:inputParameter>',
                         '<camunda:outputParameter name="seen">${heading}</camunda:outputParameter>')
    found = problems(upload(app, {"loops.bpmn": modeler_bpmn("loops", body)}))
    [refused] = [p for p in found if p["element"] == "Activity_unit"]
    assert refused["code"] == "mi_output" and "'seen'" in refused["message"] and "Camunda 7" in refused["message"]
    assert refused["message_en"].startswith("The output parameter 'seen' of 'Xem đơn vị' (Activity_unit) cannot be "
                                             "used on a multi-instance activity, as in Camunda 7")
