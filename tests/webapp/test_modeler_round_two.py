"""Issue 11, "Camunda Modeler, round two": Modeler-style files uploaded through POST /api/v1/definitions, then run as
far as the application allows (start, complete tasks through the API, fire timers), or refused naming the element.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import definitions_api
import pytest
from definitions_api import token, upload
from factories import at
from sqlalchemy import select

from webapp.extensions import db
from workflows import cycles, definitions, rules, runtime
from workflows.errors import EngineError
from workflows.models import HumanTask, ProcessInstance

# What Camunda Modeler 5 writes at the top of a Camunda 7 diagram.
MODELER_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:modeler="http://camunda.org/schema/modeler/1.0"
    id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler"
    exporterVersion="5.17.0" modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.20.0">
  <bpmn:process id="{process}" name="{name}" isExecutable="true" camunda:historyTimeToLive="180">
"""
MODELER_TAIL = """  </bpmn:process>
</bpmn:definitions>
"""


def modeler_bpmn(process: str, body: str, name: str = "Quy trình thử") -> bytes:
    return (MODELER_HEAD.format(process=process, name=name) + body + MODELER_TAIL).encode()


def chain(*ids: str) -> str:
    """Sequence flows through IDS in order, as the Modeler writes them (after the elements)."""
    return "".join(f'    <bpmn:sequenceFlow id="Flow_{a}_{b}" sourceRef="{a}" targetRef="{b}" />\n'
                   for a, b in zip(ids, ids[1:], strict=False))


def modeler_dmn(decision: str, hit_policy: str, inputs: list[tuple[str, str]], outputs: list[str],
                rules: list[tuple[list[str], list[str]]], definitions_id: str = "Definitions_dmn") -> bytes:
    """A DMN 1.3 file as Camunda Modeler 5 saves it: INPUTS (label, expression), OUTPUTS (names), RULES of cells."""
    columns = "".join(f'<input id="Input_{i}" label="{label}"><inputExpression id="InputExpression_{i}" '
                      f'typeRef="string"><text>{expr}</text></inputExpression></input>'
                      for i, (label, expr) in enumerate(inputs))
    columns += "".join(f'<output id="Output_{i}" name="{name}" typeRef="string" />' for i, name in enumerate(outputs))
    rows = "".join(
        f'<rule id="Rule_{r}">'
        + "".join(f'<inputEntry id="In_{r}_{i}"><text>{cell}</text></inputEntry>' for i, cell in enumerate(ins))
        + "".join(f'<outputEntry id="Out_{r}_{i}"><text>{cell}</text></outputEntry>' for i, cell in enumerate(outs))
        + "</rule>" for r, (ins, outs) in enumerate(rules))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" '
            f'id="{definitions_id}" name="DRD" namespace="http://camunda.org/schema/1.0/dmn" '
            f'exporter="Camunda Modeler" exporterVersion="5.17.0"><decision id="{decision}" name="Bảng {decision}">'
            f'<decisionTable id="DecisionTable_{decision}" hitPolicy="{hit_policy}">{columns}{rows}</decisionTable>'
            "</decision></definitions>").encode()


app = definitions_api.app  # the fixture (tests/webapp/definitions_api.py, shared with test_definitions.py)


def problems(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["problems"]


def start(app, process: str, data: dict[str, Any], now: datetime | None = None) -> tuple[int, dict[str, Any]]:
    """Start the latest version of PROCESS as the owner; the instance id and its data after the first wait state."""
    with app.app_context():
        people = {u.username: u for u in db.session.scalars(select(runtime.User))}
        ctx = runtime.Context.create(db.session, people["owner"], now)
        instance, run = runtime.start(ctx, definitions.latest_version(db.session, process), data, "thử", 2026)
        runtime.commit(ctx)
        return instance.id, dict(run.data)


def open_tasks(app, instance_id: int) -> list[HumanTask]:
    with app.app_context():
        rows = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.completed_at.is_(None))).all()
        db.session.expunge_all()
        return list(rows)


def instance_data(app, instance_id: int) -> dict[str, Any]:
    with app.app_context():
        instance = db.session.get(ProcessInstance, instance_id)
        ctx = runtime.Context.create(db.session, None)
        return dict(runtime.load(ctx, instance).data)


# --- 1. a decision table's hit policy and the task's camunda:mapDecisionResult -----------------------------------

RATING_TASK = """    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:businessRuleTask id="Activity_rate" name="Xếp loại" camunda:decisionRef="rating"
        camunda:mapDecisionResult="singleResult" />
    <bpmn:endEvent id="EndEvent_1" />
""" + chain("StartEvent_1", "Activity_rate", "EndEvent_1")


def collect_table(overlapping: bool) -> bytes:
    second = '"middle","top20"' if overlapping else '"middle"'
    return modeler_dmn("rating", "COLLECT", [("Nhóm", "ict_class")], ["rating"],
                       [(['"top20"'], ['"excellent"']), ([second], ['"manual_review"'])])


def test_a_collect_table_that_can_hit_twice_behind_a_single_result_is_refused_naming_table_task_and_rows(app):
    found = problems(upload(app, {"rate.bpmn": modeler_bpmn("rate", RATING_TASK),
                                  "rating.dmn": collect_table(overlapping=True)}))
    several_hits = {p["element"]: p for p in found if p["code"] == "decision_several"}
    # The changed table is also the one the current evaluation process uses: its task is named too.
    assert set(several_hits) == {"Activity_rate", "rate_head"}
    several = several_hits["Activity_rate"]
    assert several["file"] == "rate.bpmn" and several_hits["rate_head"]["file"] == "unit_evaluation.bpmn"
    assert "'rating'" in several["message"] and "quy tắc 1 và 2" in several["message"]
    assert 'Nhóm = "top20"' in several["message"] and "singleResult" in several["message"]
    assert "rules 1 and 2 both match" in several["message_en"]


def test_a_collect_table_with_one_hit_behind_a_single_result_gives_plain_values(app):
    response = upload(app, {"rate.bpmn": modeler_bpmn("rate", RATING_TASK),
                            "rating.dmn": collect_table(overlapping=False)})
    assert response.status_code == 201, response.get_json()
    _, data = start(app, "rate", {"ict_class": "middle"})
    assert data["rating"] == "manual_review"  # not ['manual_review']
    _, data = start(app, "rate", {"ict_class": "bot15"})
    assert data["rating"] is None


def test_a_single_result_over_several_hits_fails_clearly_at_run_time_when_the_upload_cannot_see_it(app):
    table = modeler_dmn("rating", "RULE ORDER", [("Nhóm", "ict_class")], ["rating"],
                        [(["limit"], ['"excellent"']), (['"middle"'], ['"manual_review"'])])
    assert upload(app, {"rate.bpmn": modeler_bpmn("rate", RATING_TASK), "rating.dmn": table}).status_code == 201
    with pytest.raises(EngineError, match=r"matched 2 rules \(1, 2\).*Xếp loại.*singleResult"):
        start(app, "rate", {"ict_class": "middle", "limit": "middle"})


# --- 3. form defaults ------------------------------------------------------------------------------------------------

FORM_TASK = """    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Activity_fill" name="Điền số liệu" camunda:candidateGroups="dic_officer">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="copies" label="Số bản" type="long" defaultValue="3">
            <camunda:validation><camunda:constraint name="required" /></camunda:validation>
          </camunda:formField>
          <camunda:formField id="channel" label="Kênh" type="string" defaultValue="Bưu điện" />
          <camunda:formField id="total" label="Tổng" type="long" defaultValue="${base * 2}" />
          <camunda:formField id="note" label="Ghi chú" type="string" />
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1" />
""" + chain("StartEvent_1", "Activity_fill", "EndEvent_1")


def api(app, method: str, path: str, user: str, **kwargs: Any) -> Any:
    return app.test_client().open("/api/v1" + path, method=method, headers=token(app, user), **kwargs)


def test_form_defaults_prefill_the_page_and_stand_in_for_fields_a_client_leaves_out(app):
    assert upload(app, {"fill.bpmn": modeler_bpmn("fill", FORM_TASK)}).status_code == 201
    instance_id, _ = start(app, "fill", {"base": 21})
    [task] = open_tasks(app, instance_id)
    page = api(app, "GET", f"/tasks/{task.id}", "dic").get_json()
    assert {f["id"]: f["value"] for f in page["fields"]} == {"copies": "3", "channel": "Bưu điện", "total": 42,
                                                              "note": None}
    done = api(app, "POST", f"/tasks/{task.id}/complete", "dic", json={"data": {"note": "xong"}})
    assert done.status_code == 200, done.get_json()
    data = instance_data(app, instance_id)
    assert (data["copies"], data["channel"], data["total"], data["note"]) == (3, "Bưu điện", 42, "xong")


def test_a_task_and_its_instance_of_a_year_without_a_cycle_show_their_pages(app):
    """An uploaded process runs in a year whose evaluation cycle is not open: its pages have no year documents to
    link, and answered 404 ("no cycle for 2026") while looking for them."""
    assert upload(app, {"fill.bpmn": modeler_bpmn("fill", FORM_TASK)}).status_code == 201
    instance_id, _ = start(app, "fill", {"base": 21})
    [task] = open_tasks(app, instance_id)
    client = app.test_client()
    assert client.post("/login", data={"username": "dic", "password": definitions_api.PASSWORD}).status_code == 302
    page = client.get(f"/tasks/{task.id}")
    assert page.status_code == 200 and "Điền số liệu" in page.get_data(as_text=True)
    instance = client.get(f"/cycles/instances/{instance_id}")
    assert instance.status_code == 200 and "Quy trình thử" in instance.get_data(as_text=True)


def test_a_field_sent_empty_on_purpose_is_still_required_checked(app):
    assert upload(app, {"fill.bpmn": modeler_bpmn("fill", FORM_TASK)}).status_code == 201
    instance_id, _ = start(app, "fill", {"base": 1})
    [task] = open_tasks(app, instance_id)
    refused = api(app, "POST", f"/tasks/{task.id}/complete", "dic", json={"data": {"copies": ""}})
    assert refused.status_code == 422 and "copies" in refused.get_json()["error"]["fields"]


# --- 10. the XML parser's own message in the page's language -----------------------------------------------------


def test_the_xml_parsers_complaint_is_a_vietnamese_sentence_with_line_and_column(app):
    broken = modeler_bpmn("broken", '    <bpmn:startEvent id="StartEvent_1">\n    <bpmn:endEvent id="EndEvent_1" />\n')
    [vietnamese] = problems(upload(app, {"broken.bpmn": broken}))
    assert vietnamese["code"] == "not_xml" and vietnamese["line"] == 10
    assert vietnamese["message"] == ("Tệp không phải XML hợp lệ: thẻ mở <startEvent> (dòng 8) lại được đóng "
                                     "bằng </process> (dòng 10, cột 18).")
    assert "Opening" not in vietnamese["message"]
    assert vietnamese["message_en"] == ("The file is not well-formed XML: the opening tag <startEvent> (line 8) "
                                        "is closed by </process> (line 10, column 18).")
    [other] = problems(upload(app, {"bad.bpmn": b"<a><</a>"}))
    assert other["message"] == "Tệp không phải XML hợp lệ: tên thẻ không hợp lệ (dòng 1, cột 5)."


# --- 7. a decision table is matched by its decision id, not its file name ---------------------------------------


def renamed_rating_table() -> bytes:
    """bpmn/rating.dmn with its table renamed, as an owner saves a changed copy under a new file name."""
    text = (definitions.BPMN_DIR / "rating.dmn").read_text(encoding="utf-8")
    return text.replace('<decision id="rating" name="', '<decision id="rating" name="2026: ', 1).encode()


@pytest.mark.parametrize("with_process", [False, True], ids=["table alone", "with its process"])
def test_a_changed_table_under_a_new_file_name_replaces_the_one_with_its_decision_id(app, with_process):
    files = {"rating_2026.dmn": renamed_rating_table()}
    assert b'name="2026: ' in files["rating_2026.dmn"]
    if with_process:
        files["unit_evaluation.bpmn"] = (definitions.BPMN_DIR / "unit_evaluation.bpmn").read_bytes()
    response = upload(app, files)
    assert response.status_code == 201, response.get_json()
    assert {"process": "unit_evaluation", "version": 2, "created": True} in response.get_json()["versions"]
    with app.app_context():
        version = definitions.latest_version(db.session, "unit_evaluation")
        assert "rating_2026.dmn" in version.files and "rating.dmn" not in version.files
        assert "sanction.dmn" in version.files  # the tables the owner did not send come from the current version
        case = {"block": "department", "sections_violated": [], "ict_rank": 2, "ict_units": 20, "prev_ict_rank": 9,
                "prev_ict_units": 20, "slow_conclusions": False, "superior_requires_review": False,
                "lacks_responsibility": False, "special_achievement": False}
        assert rules.evaluate(db.session, case)["rating"] in rules.RATINGS


# --- 2. end events the application reads an outcome from -------------------------------------------------------

def agency_report_with_two_ends(first: str, second: str) -> bytes:
    """A Modeler-style agency_report whose review ends accepted or returned; FIRST/SECOND: each end's extensions."""
    return modeler_bpmn("agency_report", f"""    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="review_report" name="Thẩm định" camunda:candidateGroups="dic_officer">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="ok" label="Đạt" type="boolean" />
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Gateway_ok" default="Flow_no" />
    <bpmn:endEvent id="Event_accepted" name="Tiếp nhận">{first}</bpmn:endEvent>
    <bpmn:endEvent id="Event_returned" name="Trả lại">{second}</bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_yes" sourceRef="Gateway_ok" targetRef="Event_accepted">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${{ok}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_no" sourceRef="Gateway_ok" targetRef="Event_returned" />
""" + chain("StartEvent_1", "review_report", "Gateway_ok"), name="Báo cáo của cơ quan")


def outcome(value: str) -> str:
    return (f'<bpmn:extensionElements><camunda:properties><camunda:property name="outcome" value="{value}" />'
            "</camunda:properties></bpmn:extensionElements>")


def test_an_end_event_of_the_report_that_does_not_say_its_outcome_is_warned_about(app):
    response = upload(app, {"agency_report.bpmn": agency_report_with_two_ends(outcome("accepted"), "")})
    assert response.status_code == 201, response.get_json()
    warnings = [p for p in response.get_json()["warnings"] if p["code"].startswith("outcome")]
    assert [(w["element"], w["code"]) for w in warnings] == [("Event_returned", "outcome_missing")]
    assert "outcome (accepted | rejected)" in warnings[0]["message"] and "'agency_report'" in warnings[0]["message"]
    assert "does not count as accepted" in warnings[0]["message_en"]
    instance_id, _ = start(app, "agency_report", {})
    [task] = open_tasks(app, instance_id)
    assert api(app, "POST", f"/tasks/{task.id}/complete", "dic", json={"data": {"ok": False}}).status_code == 200
    with app.app_context():
        assert db.session.get(ProcessInstance, instance_id).status.value == "completed"


def test_end_events_that_say_their_outcome_raise_no_warning_and_a_wrong_value_does(app):
    clean = upload(app, {"agency_report.bpmn": agency_report_with_two_ends(outcome("accepted"), outcome("rejected"))})
    assert clean.status_code == 201 and not [p for p in clean.get_json()["warnings"] if p["code"].startswith("outc")]
    odd = upload(app, {"agency_report.bpmn": agency_report_with_two_ends(outcome("accepted"), outcome("returned"))})
    [warning] = [p for p in odd.get_json()["warnings"] if p["code"].startswith("outcome")]
    assert warning["code"] == "outcome_value" and "'returned'" in warning["message"]


# --- 6. due, follow-up and timer dates written the Camunda way ---------------------------------------------------

DATES = """    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Activity_a" name="Bước A" camunda:candidateGroups="dic_officer"
        camunda:dueDate="${dateTime().plusDays(5).toDate()}" camunda:followUpDate="${dateTime().plusWeeks(1)}" />
    <bpmn:intermediateCatchEvent id="Event_wait" name="Chờ hai ngày">
      <bpmn:timerEventDefinition id="TimerEventDefinition_1">
        <bpmn:timeDate xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
            >${dateTime().plusDays(2).withTimeAtStartOfDay()}</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="Activity_b" name="Bước B" camunda:candidateGroups="dic_officer" camunda:dueDate="P10D"
        camunda:followUpDate="${now()}" />
    <bpmn:endEvent id="EndEvent_1" />
""" + chain("StartEvent_1", "Activity_a", "Event_wait", "Activity_b", "EndEvent_1")


def test_camunda_date_idioms_set_due_and_follow_up_dates_and_time_a_timer(app):
    assert upload(app, {"dates.bpmn": modeler_bpmn("dates", DATES)}).status_code == 201
    monday = at(date(2026, 3, 2))
    instance_id, _ = start(app, "dates", {}, monday)
    [first] = open_tasks(app, instance_id)
    assert (first.due_on, first.follow_up_on) == (date(2026, 3, 9), date(2026, 3, 9))  # Sat 7th rolls to Mon 9th
    with app.app_context():
        ctx = runtime.Context.create(db.session, db.session.scalar(select(runtime.User).filter_by(username="dic")),
                                     monday)
        from workflows import tasks

        tasks.complete_task(db.session, first.id, ctx.actor, {}, monday)
        assert open_tasks(app, instance_id) == []
        assert cycles.fire_due(db.session, monday + timedelta(days=1)) == 0  # due at midnight on the 4th
        assert cycles.fire_due(db.session, at(date(2026, 3, 4), 0) + timedelta(minutes=1)) == 1
    [second] = open_tasks(app, instance_id)
    assert (second.step_id, second.due_on, second.follow_up_on) == ("Activity_b", date(2026, 3, 16), date(2026, 3, 4))


def test_a_date_method_outside_the_documented_subset_is_refused_naming_it(app):
    body = DATES.replace("plusWeeks(1)", "plusCenturies(1)")
    [refused] = [p for p in problems(upload(app, {"dates.bpmn": modeler_bpmn("dates", body)}))
                 if p["element"] == "Activity_a"]
    assert "plusCenturies" in refused["message"] and "plusWeeks" in refused["message"]


# --- 8. a timer start event with a cycle: one clear message -----------------------------------------------------


@pytest.mark.parametrize("cycle", ["R/P1Y", "R5/2026-01-01T00:00/P1Y"])
def test_a_yearly_timer_start_is_refused_with_one_message_naming_it(app, cycle):
    body = f"""    <bpmn:startEvent id="StartEvent_1" name="Mỗi năm">
      <bpmn:timerEventDefinition id="TimerEventDefinition_1">
        <bpmn:timeCycle xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
            >{cycle}</bpmn:timeCycle>
      </bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:userTask id="Activity_1" name="Việc" camunda:candidateGroups="dic_officer" />
    <bpmn:endEvent id="EndEvent_1" />
""" + chain("StartEvent_1", "Activity_1", "EndEvent_1")
    [refused] = problems(upload(app, {"yearly.bpmn": modeler_bpmn("yearly", body)}))
    assert (refused["code"], refused["element"]) == ("start_trigger", "StartEvent_1")
    assert "'Mỗi năm'" in refused["message"] and "không tự khởi động theo lịch" in refused["message"]
    assert "do not start themselves on a schedule" in refused["message_en"]


# --- 9. where Camunda 7 is lenient: an exclusive-gateway flow without a condition --------------------------------

GATEWAY = """    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:exclusiveGateway id="Gateway_1" name="Loại hồ sơ" />
    <bpmn:userTask id="Activity_special" name="Hồ sơ đặc biệt" camunda:candidateGroups="dic_officer" />
    <bpmn:userTask id="Activity_normal" name="Hồ sơ thường" camunda:candidateGroups="dic_officer" />
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_2" />
    <bpmn:sequenceFlow id="Flow_special" sourceRef="Gateway_1" targetRef="Activity_special">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          >${kind == "special"}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_normal" name="Còn lại" sourceRef="Gateway_1" targetRef="Activity_normal" />
""" + chain("StartEvent_1", "Gateway_1") + chain("Activity_special", "EndEvent_1") + chain("Activity_normal",
                                                                                            "EndEvent_2")


def test_a_gateway_flow_without_condition_is_a_warning_and_runs_as_camunda_takes_it(app):
    response = upload(app, {"gw.bpmn": modeler_bpmn("gw", GATEWAY)})
    assert response.status_code == 201, response.get_json()
    [warning] = [p for p in response.get_json()["warnings"] if p["code"] == "gateway_no_condition"]
    assert warning["element"] == "Gateway_1" and "Camunda 7" in warning["message"]
    assert "taken as soon as it is considered" in warning["message_en"]
    special, _ = start(app, "gw", {"kind": "special"})
    normal, _ = start(app, "gw", {"kind": "other"})
    assert [t.step_id for t in open_tasks(app, special)] == ["Activity_special"]
    assert [t.step_id for t in open_tasks(app, normal)] == ["Activity_normal"]


# --- 4. constructs the engine accepts, run after upload the way an owner draws them ------------------------------

CONSTRUCTS = """    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:parallelGateway id="Gateway_split" />
    <bpmn:userTask id="Activity_each" name="Xem từng đơn vị" camunda:candidateGroups="dic_officer">
      <bpmn:multiInstanceLoopCharacteristics camunda:collection="units" camunda:elementVariable="unit" />
    </bpmn:userTask>
    <bpmn:callActivity id="Activity_call" name="Gọi quy trình con" calledElement="child" />
    <bpmn:parallelGateway id="Gateway_join" />
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:sequenceFlow id="Flow_a" sourceRef="Gateway_split" targetRef="Activity_each" />
    <bpmn:sequenceFlow id="Flow_b" sourceRef="Gateway_split" targetRef="Activity_call" />
    <bpmn:sequenceFlow id="Flow_c" sourceRef="Activity_each" targetRef="Gateway_join" />
    <bpmn:sequenceFlow id="Flow_d" sourceRef="Activity_call" targetRef="Gateway_join" />
""" + chain("StartEvent_1", "Gateway_split") + chain("Gateway_join", "EndEvent_1")
CHILD = """    <bpmn:startEvent id="StartEvent_c" />
    <bpmn:userTask id="Activity_child" name="Việc của quy trình con" camunda:candidateGroups="dic_officer" />
    <bpmn:endEvent id="EndEvent_c" />
""" + chain("StartEvent_c", "Activity_child", "EndEvent_c")


@pytest.mark.parametrize("collection", ["units", "${units}"])
def test_parallel_branches_a_multi_instance_task_and_a_call_activity_run_to_the_end_through_the_api(app, collection):
    body = CONSTRUCTS.replace('camunda:collection="units"', f'camunda:collection="{collection}"')
    response = upload(app, {"main.bpmn": modeler_bpmn("main", body),
                            "child.bpmn": modeler_bpmn("child", CHILD, name="Quy trình con")})
    assert response.status_code == 201, response.get_json()
    instance_id, _ = start(app, "main", {"units": ["STC", "SYT"]})
    steps = sorted(t.step_id for t in open_tasks(app, instance_id))
    assert steps == ["Activity_child", "Activity_each", "Activity_each"]
    for task in open_tasks(app, instance_id):
        done = api(app, "POST", f"/tasks/{task.id}/complete", "dic", json={"data": {}})
        assert done.status_code == 200, done.get_json()
    assert open_tasks(app, instance_id) == []
    with app.app_context():
        assert db.session.get(ProcessInstance, instance_id).status.value == "completed"


BOUNDARY = """    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Activity_wait" name="Chờ phản hồi" camunda:candidateGroups="dic_officer" />
    <bpmn:boundaryEvent id="Event_late" name="Quá ba ngày" attachedToRef="Activity_wait">
      <bpmn:timerEventDefinition id="TimerEventDefinition_late">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
            >P3D</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="Activity_remind" name="Nhắc đơn vị" camunda:candidateGroups="dic_officer" />
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_2" />
""" + chain("StartEvent_1", "Activity_wait", "EndEvent_1") + chain("Event_late", "Activity_remind", "EndEvent_2")


def test_an_interrupting_boundary_timer_fires_on_schedule_and_moves_the_work(app):
    assert upload(app, {"late.bpmn": modeler_bpmn("late", BOUNDARY)}).status_code == 201
    monday = at(date(2026, 3, 2))
    instance_id, _ = start(app, "late", {}, monday)
    assert [t.step_id for t in open_tasks(app, instance_id)] == ["Activity_wait"]
    with app.app_context():
        assert cycles.fire_due(db.session, monday + timedelta(days=2)) == 0
        assert cycles.fire_due(db.session, monday + timedelta(days=3, minutes=1)) == 1
    assert [t.step_id for t in open_tasks(app, instance_id)] == ["Activity_remind"]


def test_a_collection_expression_beyond_a_variable_is_refused_with_one_message_naming_the_task(app):
    body = CONSTRUCTS.replace('camunda:collection="units"', 'camunda:collection="${units.subList(0, 1)}"')
    found = problems(upload(app, {"main.bpmn": modeler_bpmn("main", body),
                                  "child.bpmn": modeler_bpmn("child", CHILD, name="Quy trình con")}))
    [refused] = [p for p in found if p["element"] == "Activity_each"]
    assert refused["code"] == "mi_collection" and "${agencies}" in refused["message"]


# --- 9 (rest). camunda:inputOutput: inputs local to the activity, outputs written to the parent ------------------

IO_MAIN = """    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Activity_fill" name="Điền mục" camunda:candidateGroups="dic_officer">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="section" label="Mục" type="string" />
          <camunda:formField id="answer" label="Trả lời" type="string" />
        </camunda:formData>
        <camunda:inputOutput>
          <camunda:inputParameter name="section">Mục ${n}</camunda:inputParameter>
          <camunda:inputParameter name="note">bên trong</camunda:inputParameter>
          <camunda:inputParameter name="units">
            <camunda:list><camunda:value>${unit}</camunda:value><camunda:value>SYT</camunda:value></camunda:list>
          </camunda:inputParameter>
          <camunda:inputParameter name="info">
            <camunda:map><camunda:entry key="year">${year}</camunda:entry><camunda:entry key="kind">năm</camunda:entry>
            </camunda:map>
          </camunda:inputParameter>
          <camunda:inputParameter name="nothing" />
          <camunda:outputParameter name="result">${section}: ${answer}</camunda:outputParameter>
          <camunda:outputParameter name="copied">${units}</camunda:outputParameter>
          <camunda:outputParameter name="info_year">${info.year}</camunda:outputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:callActivity id="Activity_call" name="Hỏi đơn vị" calledElement="io_child">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="who">${unit}</camunda:inputParameter>
          <camunda:outputParameter name="child_said">${reply}</camunda:outputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:subProcess id="Activity_sub" name="Bước con">
      <bpmn:extensionElements>
        <camunda:inputOutput>
          <camunda:inputParameter name="level">trong</camunda:inputParameter>
          <camunda:outputParameter name="level_seen">${level_copy}</camunda:outputParameter>
        </camunda:inputOutput>
      </bpmn:extensionElements>
      <bpmn:startEvent id="StartEvent_s" />
      <bpmn:userTask id="Activity_inner" name="Việc bên trong" camunda:candidateGroups="dic_officer">
        <bpmn:extensionElements><camunda:formData>
          <camunda:formField id="level_copy" label="Cấp" type="string" defaultValue="${level}" />
        </camunda:formData></bpmn:extensionElements>
      </bpmn:userTask>
      <bpmn:endEvent id="EndEvent_s" />
""" + chain("StartEvent_s", "Activity_inner", "EndEvent_s") + """    </bpmn:subProcess>
    <bpmn:endEvent id="EndEvent_1" />
""" + chain("StartEvent_1", "Activity_fill", "Activity_call", "Activity_sub", "EndEvent_1")
IO_CHILD = """    <bpmn:startEvent id="StartEvent_c" />
    <bpmn:userTask id="Activity_reply" name="Đơn vị trả lời" camunda:candidateGroups="dic_officer">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="reply" label="Trả lời" type="string" defaultValue="${who}" />
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_c" />
""" + chain("StartEvent_c", "Activity_reply", "EndEvent_c")


def complete_only_task(app, instance_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Complete the one open task of the instance through the API; the page's fields as it showed them."""
    [task] = open_tasks(app, instance_id)
    page = api(app, "GET", f"/tasks/{task.id}", "dic").get_json()
    done = api(app, "POST", f"/tasks/{task.id}/complete", "dic", json={"data": data})
    assert done.status_code == 200, done.get_json()
    return {f["id"]: f["value"] for f in page["fields"]}


def waiting_data(app, instance_id: int) -> dict[str, Any]:
    """The variables the instance's one waiting task sees (an instance's own data is only filled when it ends)."""
    with app.app_context():
        instance = db.session.get(ProcessInstance, instance_id)
        [view] = runtime.load(runtime.Context.create(db.session, None), instance).ready_user_tasks()
        return dict(view.data)


def test_input_and_output_parameters_run_with_camundas_scoping_through_the_api(app):
    response = upload(app, {"io.bpmn": modeler_bpmn("io", IO_MAIN),
                            "io_child.bpmn": modeler_bpmn("io_child", IO_CHILD, name="Quy trình con")})
    assert response.status_code == 201, response.get_json()
    instance_id, _ = start(app, "io", {"n": 3, "unit": "STC", "year": 2026, "note": "bên ngoài"})
    # The inputs are computed from the variables around the task and seen by it (here: a form field's value).
    assert complete_only_task(app, instance_id, {"answer": "xong"})["section"] == "Mục 3"
    data = waiting_data(app, instance_id)
    assert (data["result"], data["copied"], data["info_year"]) == ("Mục 3: xong", ["STC", "SYT"], 2026)
    assert data["answer"] == "xong"  # what the form sent is written to the parent, as in Camunda
    assert data["note"] == "bên ngoài"  # the local input hid the outer variable only inside the task
    assert not {"section", "units", "info", "nothing"} & set(data)
    # The call activity's input reaches the called process; its output comes back, the input does not.
    assert complete_only_task(app, instance_id, {})["reply"] == "STC"
    data = waiting_data(app, instance_id)
    assert data["child_said"] == "STC" and "who" not in data
    # A sub-process's input is seen by the tasks inside it.
    assert complete_only_task(app, instance_id, {})["level_copy"] == "trong"
    with app.app_context():
        instance = db.session.get(ProcessInstance, instance_id)
        assert instance.status.value == "completed"
    data = instance_data(app, instance_id)
    assert data["level_seen"] == "trong" and "level" not in data


def test_an_input_naming_an_unknown_variable_fails_naming_the_parameter_and_the_task(app):
    body = IO_MAIN.replace("Mục ${n}", "Mục ${missing}")
    assert upload(app, {"io.bpmn": modeler_bpmn("io", body),
                        "io_child.bpmn": modeler_bpmn("io_child", IO_CHILD, name="Quy trình con")}).status_code == 201
    with pytest.raises(EngineError, match=r"input parameter 'section' of 'Điền mục' \(Activity_fill\).*missing"):
        start(app, "io", {"n": 3, "unit": "STC", "year": 2026})


@pytest.mark.parametrize(("value", "code", "words"), [
    ('<camunda:script scriptFormat="groovy">return 1</camunda:script>', "script", "camunda:script"),
    ("${a +}", "expression", "section"),
], ids=["script value", "bad expression"])
def test_a_parameter_the_engine_cannot_compute_is_refused_naming_the_element(app, value, code, words):
    body = IO_MAIN.replace("Mục ${n}", value)
    found = problems(upload(app, {"io.bpmn": modeler_bpmn("io", body),
                                  "io_child.bpmn": modeler_bpmn("io_child", IO_CHILD, name="Quy trình con")}))
    [refused] = [p for p in found if p["element"] == "Activity_fill"]
    assert refused["code"] == code and words in refused["message"]


def test_input_parameters_on_a_multi_instance_task_are_accepted_and_outputs_refused_naming_it(app):
    inputs = ('<bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="x">1'
              "</camunda:inputParameter>{output}</camunda:inputOutput></bpmn:extensionElements>")
    files = {"child.bpmn": modeler_bpmn("child", CHILD, name="Quy trình con")}
    loop = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="units"'
    body = CONSTRUCTS.replace(loop, inputs.format(output="") + loop)
    response = upload(app, {"main.bpmn": modeler_bpmn("main", body), **files})
    assert response.status_code == 201, response.get_json()
    output = '<camunda:outputParameter name="y">${x}</camunda:outputParameter>'
    body = CONSTRUCTS.replace(loop, inputs.format(output=output) + loop)
    found = problems(upload(app, {"main.bpmn": modeler_bpmn("main", body), **files}))
    [refused] = [p for p in found if p["element"] == "Activity_each"]
    assert refused["code"] == "mi_output" and "multi-instance" in refused["message"]


# --- 6 (rest). dueInWorkingDays=true beside a dueDate: its whole days are working days ---------------------------

WORKING_DUE = """    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Activity_a" name="Bước A" camunda:candidateGroups="dic_officer"
        camunda:dueDate="${dateTime().plusDays(5)}">{props}</bpmn:userTask>
    <bpmn:userTask id="Activity_b" name="Bước B" camunda:candidateGroups="dic_officer" camunda:dueDate="P3D">{props}
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1" />
""" + chain("StartEvent_1", "Activity_a", "Activity_b", "EndEvent_1")
WORKING = ('<bpmn:extensionElements><camunda:properties><camunda:property name="dueInWorkingDays" value="true" />'
           "</camunda:properties></bpmn:extensionElements>")


@pytest.mark.parametrize(("props", "first_due", "second_due"), [
    (WORKING, date(2026, 3, 12), date(2026, 3, 10)),  # Fri 6, Mon 9 … Thu 12; then Fri 6, Mon 9, Tue 10
    ("", date(2026, 3, 10), date(2026, 3, 9)),  # calendar days: Tue 10; Sun 8 rolls to Mon 9
], ids=["working days", "calendar days"])
def test_due_in_working_days_true_makes_a_due_dates_days_working_days(app, props, first_due, second_due):
    assert upload(app, {"wd.bpmn": modeler_bpmn("wd", WORKING_DUE.replace("{props}", props))}).status_code == 201
    thursday = at(date(2026, 3, 5))
    instance_id, _ = start(app, "wd", {}, thursday)
    [first] = open_tasks(app, instance_id)
    assert first.due_on == first_due
    with app.app_context():
        from workflows import tasks

        dic = db.session.scalar(select(runtime.User).filter_by(username="dic"))
        tasks.complete_task(db.session, first.id, dic, {}, thursday)
    [second] = open_tasks(app, instance_id)
    assert second.due_on == second_due


def test_due_in_working_days_true_without_a_due_date_is_refused(app):
    body = WORKING_DUE.replace("{props}", WORKING).replace(' camunda:dueDate="P3D"', "")
    [refused] = problems(upload(app, {"wd.bpmn": modeler_bpmn("wd", body)}))
    assert (refused["code"], refused["element"]) == ("property_number", "Activity_b")
