"""The JSON API under /api/v1: tokens, permissions, the error shape, the OpenAPI document, a whole cycle."""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from factories import open_small_cycle, report_payload, setup_people
from sqlalchemy import func, select

from webapp.extensions import db
from workflows import accounts, users
from workflows.calendar import local_today
from workflows.models import AuditEvent, HumanTask, ProcessInstance, Role, TaskState, utcnow

PASSWORD = "simulation-only"  # every login that factories create
YEAR = 2025  # the year open_small_cycle opens


class Api:
    """A test client that logs in through POST /auth/token once per user and sends the bearer token."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            response = self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.get_json()
            self.tokens[username] = response.get_json()["token"]
        return self.tokens[username]

    def call(self, method: str, path: str, user: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(user)}"}
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    def get(self, path: str, user: str, **kwargs: Any) -> Any:
        return self.call("GET", path, user, **kwargs)

    def post(self, path: str, user: str, json: Any = None) -> Any:
        return self.call("POST", path, user, json=json)

    def task_id(self, user: str, step: str, unit: str | None = None) -> int:
        """The caller's open task at STEP, as their group inbox lists it."""
        query = {"tab": "group", "step": step, **({"unit": unit} if unit else {})}
        items = self.get("/tasks", user, query_string=query).get_json()["items"]
        assert len(items) == 1, (user, step, unit, items)
        return items[0]["id"]

    def complete(self, user: str, step: str, data: dict[str, Any], unit: str | None = None) -> Any:
        response = self.post(f"/tasks/{self.task_id(user, step, unit)}/complete", user, {"data": data})
        assert response.status_code == 200, (step, unit, response.get_json())
        return response.get_json()


@pytest.fixture
def api(app):
    # CSRF protection stays on, as in production: the API blueprints must be exempt from it, not the test.
    with app.app_context():
        open_small_cycle(db.session, ["STC", "SNV"], year=YEAR)
    return Api(app.test_client())


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


def db_state(app: Any, task_id: int) -> tuple[TaskState, int]:
    with app.app_context():
        task = db.session.get(HumanTask, task_id)
        return task.state, db.session.scalar(select(func.count(AuditEvent.id)))


# --- tokens -----------------------------------------------------------------------------------------------------


def test_a_token_is_issued_for_the_right_password(api):
    response = api.client.post("/api/v1/auth/token", json={"username": "stc_officer", "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and len(body["token"]) >= 32


def test_a_wrong_password_is_refused_with_401_in_the_error_shape(api):
    response = api.client.post("/api/v1/auth/token", json={"username": "stc_officer", "password": "sai-mat-khau"})
    error = error_of(response, 401)
    assert error["code"] == "unauthenticated"
    assert error["message"] == "Tên đăng nhập hoặc mật khẩu không đúng."
    assert set(error["fields"]) == {"password"}


def test_a_throttled_account_gets_the_same_401_even_with_the_right_password(api):
    for _ in range(accounts.FREE_ATTEMPTS):
        api.client.post("/api/v1/auth/token", json={"username": "stc_officer", "password": "sai-mat-khau"})
    response = api.client.post("/api/v1/auth/token", json={"username": "stc_officer", "password": PASSWORD})
    error = error_of(response, 401)
    assert error["code"] == "unauthenticated" and error["message"] == "Tên đăng nhập hoặc mật khẩu không đúng."


def test_a_token_request_without_a_password_names_the_field(api):
    error = error_of(api.client.post("/api/v1/auth/token", json={"username": "stc_officer"}), 422)
    assert error["code"] == "invalid"
    assert error["fields"] == {"password": "Missing data for required field."}


PROTECTED = [
    ("GET", "/api/v1/tasks"),
    ("GET", "/api/v1/tasks/1"),
    ("POST", "/api/v1/tasks/1/claim"),
    ("POST", "/api/v1/tasks/1/unclaim"),
    ("POST", "/api/v1/tasks/1/complete"),
    ("GET", "/api/v1/tasks/1/candidates"),
    ("POST", "/api/v1/tasks/1/reassign"),
    ("POST", "/api/v1/cycles"),
    ("GET", "/api/v1/cycles/2025"),
    ("GET", "/api/v1/cycles/2025/results"),
    ("GET", "/api/v1/instances/1"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_endpoint_but_the_token_answers_401_without_a_valid_token(api, method, path):
    with api.client.application.app_context():
        user = users.get_by_username(db.session, "dic_leader")
        expired = accounts.issue_token(db.session, user, now=utcnow() - accounts.TOKEN_LIFETIME - timedelta(minutes=1))
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": f"Bearer {expired}"},
                    {"Authorization": f"Basic {expired}"}):
        response = api.client.open(path, method=method, headers=headers, json={})
        error = error_of(response, 401)
        assert error["code"] == "unauthenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_logged_in_session_cookie_is_not_accepted_by_the_api(api):
    page = api.client.get("/login").get_data(as_text=True)
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = api.client.post("/login", data={"username": "dic_leader", "password": PASSWORD, "remember": "1",
                                               "csrf_token": csrf_token})
    assert response.status_code == 302
    assert api.client.get("/").location.endswith("/tasks/")  # the cookie logs the pages in…
    assert error_of(api.client.get("/api/v1/tasks"), 401)["code"] == "unauthenticated"  # …and not for the API
    response = api.client.post("/api/v1/cycles", json={"year": 2030})
    assert error_of(response, 401)["code"] == "unauthenticated"


# --- tasks ------------------------------------------------------------------------------------------------------


def test_an_agency_officer_sees_only_their_agencys_tasks(api):
    body = api.get("/tasks", "stc_officer", query_string={"tab": "group"}).get_json()
    assert [(i["step_id"], i["unit_code"]) for i in body["items"]] == [("draft_report", "STC")]
    assert body["total"] == 1 and body["counts"] == {"mine": 0, "group": 1, "done": 0}
    assert body["page"] == 1 and body["pages"] == 1 and body["tab"] == "group"
    assert body["items"][0]["due_on"] == "2025-12-15"
    other = api.get("/tasks", "snv_officer", query_string={"tab": "group", "unit": "STC"}).get_json()
    assert other["items"] == [] and other["total"] == 0


def test_inbox_filters_that_make_no_sense_are_422_naming_the_field(api):
    response = api.get("/tasks", "stc_officer", query_string={"sort": "price", "per_page": 1000, "year": "x"})
    error = error_of(response, 422)
    assert set(error["fields"]) == {"sort", "per_page", "year"}


def test_a_task_shows_why_it_is_there_and_its_form_fields(api):
    task_id = api.task_id("stc_officer", "draft_report", "STC")
    body = api.get(f"/tasks/{task_id}", "stc_officer").get_json()
    assert body["step_id"] == "draft_report" and body["state"] == "open" and body["may_act"] is True
    assert body["form_key"] == "app:agency_report" and body["due"] == "2025-12-15"
    assert "agency_officer" in body["why"] and body["return_reason"] is None
    fields = {f["id"]: f for f in body["fields"]}
    assert list(fields) == ["it_staff_count", "edoc_sent_pct", "edoc_received_pct", "difficulties"]
    assert fields["edoc_sent_pct"]["type"] == "long"
    assert fields["edoc_sent_pct"]["constraints"]["max"] == "100"
    assert set(fields["it_staff_count"]) == {"id", "label", "type", "constraints", "properties", "options", "value"}


def test_another_agencys_officer_may_not_read_the_task(api):
    task_id = api.task_id("stc_officer", "draft_report", "STC")
    assert error_of(api.get(f"/tasks/{task_id}", "snv_officer"), 403)["code"] == "forbidden"


def test_an_unknown_task_is_404(api):
    assert error_of(api.get("/tasks/999999", "stc_officer"), 404)["code"] == "not_found"
    response = api.post("/tasks/999999/complete", "stc_officer", {"data": {}})
    assert error_of(response, 404)["code"] == "not_found"


def test_completing_the_officers_draft_moves_the_report_to_the_head(api):
    task_id = api.task_id("stc_officer", "draft_report", "STC")
    response = api.post(f"/tasks/{task_id}/complete", "stc_officer", {"data": report_payload()})
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == task_id and body["state"] == "completed" and body["completed_at"]
    approve_id = api.task_id("stc_head", "approve_report", "STC")
    approve = api.get(f"/tasks/{approve_id}", "stc_head").get_json()
    decision = next(f for f in approve["fields"] if f["id"] == "head_decision")
    assert decision["type"] == "enum" and {o["id"] for o in decision["options"]} == {"approve", "return"}
    done = api.get("/tasks", "stc_officer", query_string={"tab": "done"}).get_json()
    assert [i["id"] for i in done["items"]] == [task_id]


def test_another_agencys_officer_gets_403_and_nothing_changes(api):
    task_id = api.task_id("stc_officer", "draft_report", "STC")
    before = db_state(api.client.application, task_id)
    error = error_of(api.post(f"/tasks/{task_id}/complete", "snv_officer", {"data": report_payload()}), 403)
    assert error["code"] == "forbidden"
    assert db_state(api.client.application, task_id) == before == (TaskState.OPEN, before[1])


def test_a_second_completion_is_a_409_conflict(api):
    task_id = api.task_id("stc_officer", "draft_report", "STC")
    assert api.post(f"/tasks/{task_id}/complete", "stc_officer", {"data": report_payload()}).status_code == 200
    error = error_of(api.post(f"/tasks/{task_id}/complete", "stc_officer", {"data": report_payload()}), 409)
    assert error["code"] == "conflict" and "không thể gửi lại" in error["message"]


def test_bad_data_is_422_naming_each_field_and_nothing_is_saved(api):
    task_id = api.task_id("stc_officer", "draft_report", "STC")
    before = db_state(api.client.application, task_id)
    payload = report_payload()
    payload["edoc_sent_pct"] = 140
    error = error_of(api.post(f"/tasks/{task_id}/complete", "stc_officer", {"data": payload}), 422)
    assert error["code"] == "invalid" and error["fields"] == {"edoc_sent_pct": "Giá trị lớn nhất là 100."}
    payload = report_payload()
    payload["criteria"]["M2.7.1"] = {"status": "na", "note": "", "evidence": []}
    payload["budget"] = {"software": -1}
    error = error_of(api.post(f"/tasks/{task_id}/complete", "stc_officer", {"data": payload}), 422)
    assert set(error["fields"]) == {"criteria.M2.7.1", "budget.software"}
    assert db_state(api.client.application, task_id) == before


def test_a_completion_without_data_is_422_from_the_schema_in_the_same_shape(api):
    task_id = api.task_id("stc_officer", "draft_report", "STC")
    error = error_of(api.post(f"/tasks/{task_id}/complete", "stc_officer", {"payload": {}}), 422)
    assert error["code"] == "invalid"
    assert error["fields"] == {"data": "Missing data for required field.", "payload": "Unknown field."}
    error = error_of(api.post(f"/tasks/{task_id}/complete", "stc_officer", {"data": [1, 2]}), 422)
    assert set(error["fields"]) == {"data"}


def test_malformed_json_is_400_in_the_same_shape(api):
    task_id = api.task_id("stc_officer", "draft_report", "STC")
    response = api.call("POST", f"/tasks/{task_id}/complete", "stc_officer", data="{oops",
                        content_type="application/json")
    assert error_of(response, 400)["code"] == "bad_request"


def test_claiming_moves_a_group_task_to_mine_and_only_the_claimant_can_unclaim(api):
    task_id = api.task_id("stc_officer", "draft_report", "STC")
    response = api.post(f"/tasks/{task_id}/claim", "stc_officer", {"reason": "Tôi phụ trách"})
    assert response.status_code == 200 and response.get_json()["assignee_id"] is not None
    mine = api.get("/tasks", "stc_officer").get_json()
    assert [i["id"] for i in mine["items"]] == [task_id] and mine["counts"]["group"] == 0
    assert error_of(api.post(f"/tasks/{task_id}/unclaim", "stc_head"), 403)["code"] == "forbidden"
    response = api.post(f"/tasks/{task_id}/unclaim", "stc_officer")
    assert response.status_code == 200 and response.get_json()["assignee_id"] is None
    assert api.get("/tasks", "stc_officer", query_string={"tab": "group"}).get_json()["total"] == 1


# --- cycles and instances ---------------------------------------------------------------------------------------


def test_only_dic_opens_a_cycle_with_15_december_as_the_default_deadline(api):
    year = local_today().year + 1
    error = error_of(api.post("/cycles", "stc_officer", {"year": year, "unit_codes": ["STC"]}), 403)
    assert error["code"] == "forbidden"
    response = api.post("/cycles", "dic_leader", {"year": year, "unit_codes": ["STC"]})
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/cycles/{year}")
    assert body["year"] == year and body["status"] == "reporting" and body["instance_id"]
    # 15/12, or the next working day when it falls on a weekend or holiday
    assert date(year, 12, 15) <= date.fromisoformat(body["report_due"]) <= date(year, 12, 20)
    assert body["versions"]["agency_report"]["version"] == 1 and body["versions"]["unit_evaluation"]["version"] == 1
    assert error_of(api.post("/cycles", "dic_leader", {"year": year}), 409)["code"] == "conflict"


def test_opening_a_cycle_with_bad_input_names_the_fields(api):
    error = error_of(api.post("/cycles", "dic_leader", {"year": 1999}), 422)
    assert set(error["fields"]) == {"year"}
    error = error_of(api.post("/cycles", "dic_leader", {"year": 2031, "report_due": "2040-01-01"}), 422)
    assert set(error["fields"]) == {"report_due"}
    error = error_of(api.post("/cycles", "dic_leader", {"year": "2031", "report_due": "15/12/2031"}), 422)
    assert set(error["fields"]) == {"year", "report_due"}


def test_a_cycle_shows_its_progress_to_dic_home_affairs_committee_and_supervisors_only(api):
    draft_id = api.task_id("stc_officer", "draft_report", "STC")
    api.post(f"/tasks/{draft_id}/complete", "stc_officer", {"data": report_payload()})
    for reader in ("dic", "dic_leader", "home_affairs", "committee", "supervisor", "admin"):
        body = api.get(f"/cycles/{YEAR}", reader).get_json()
        assert body["status"] == "reporting" and body["report_due"] == "2025-12-15", reader
        assert {(r["unit_code"], r["status"]) for r in body["progress"]} == {
            ("STC", "awaiting_head"), ("SNV", "drafting")}
        assert api.get(f"/cycles/{YEAR}/results", reader).get_json() == []
    for outsider in ("stc_officer", "stc_head", "stc_deputy"):
        assert error_of(api.get(f"/cycles/{YEAR}", outsider), 403)["code"] == "forbidden"
        assert error_of(api.get(f"/cycles/{YEAR}/results", outsider), 403)["code"] == "forbidden"
    assert error_of(api.get("/cycles/2019", "dic"), 404)["code"] == "not_found"
    assert error_of(api.get("/cycles/2019/results", "dic"), 404)["code"] == "not_found"


def test_a_process_owner_follows_every_agencys_progress_as_on_the_pages_but_not_the_results(api):
    body = api.get(f"/cycles/{YEAR}", "owner").get_json()
    assert {r["unit_code"] for r in body["progress"]} == {"STC", "SNV"}
    assert error_of(api.get(f"/cycles/{YEAR}/results", "owner"), 403)["code"] == "forbidden"


def test_an_agency_reads_only_its_own_instances(api):
    progress = {r["unit_code"]: r for r in api.get(f"/cycles/{YEAR}", "dic").get_json()["progress"]}
    stc = progress["STC"]["instance_id"]
    body = api.get(f"/instances/{stc}", "stc_officer").get_json()
    assert body["process_key"] == "agency_report" and body["unit_code"] == "STC" and body["status"] == "running"
    assert [s["step_id"] for s in body["current"]] == ["draft_report"]
    assert [h["kind"] for h in body["history"]][:2] == ["instance_started", "task_created"]
    assert api.get(f"/instances/{stc}", "stc_head").status_code == 200
    assert api.get(f"/instances/{stc}", "supervisor").status_code == 200
    assert error_of(api.get(f"/instances/{stc}", "snv_officer"), 403)["code"] == "forbidden"
    with api.client.application.app_context():
        cycle_instance = db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_key
                                                                            == "annual_cycle"))
    assert error_of(api.get(f"/instances/{cycle_instance}", "stc_officer"), 403)["code"] == "forbidden"
    assert api.get(f"/instances/{cycle_instance}", "dic").get_json()["process_key"] == "annual_cycle"
    assert error_of(api.get("/instances/999999", "dic"), 404)["code"] == "not_found"


def test_the_history_of_an_instance_says_who_did_what(api):
    task_id = api.task_id("stc_officer", "draft_report", "STC")
    api.post(f"/tasks/{task_id}/claim", "stc_officer", {"reason": "Tôi phụ trách"})
    api.post(f"/tasks/{task_id}/complete", "stc_officer", {"data": report_payload()})
    instance_id = api.get(f"/tasks/{task_id}", "stc_officer").get_json()["instance_id"]
    body = api.get(f"/instances/{instance_id}", "stc_head").get_json()
    completed = next(h for h in body["history"] if h["kind"] == "task_completed")
    assert completed["actor"] == "stc_officer" and completed["task_id"] == task_id
    assert completed["data"]["criteria"] and completed["at"].endswith("+00:00")
    assert [h["actor"] for h in body["history"] if h["kind"] == "task_claimed"] == ["stc_officer"]
    assert [s["step_id"] for s in body["current"]] == ["approve_report"]


# --- the OpenAPI document ---------------------------------------------------------------------------------------


def test_the_openapi_document_lists_every_endpoint_and_the_bearer_scheme(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.0.3"
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/") and not rule.rule.endswith(".json")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    assert documented == routes
    assert {p for p, _ in routes} >= {
        "/api/v1/auth/token", "/api/v1/tasks", "/api/v1/tasks/{task_id}", "/api/v1/tasks/{task_id}/claim",
        "/api/v1/tasks/{task_id}/unclaim", "/api/v1/tasks/{task_id}/complete", "/api/v1/cycles",
        "/api/v1/cycles/{year}", "/api/v1/cycles/{year}/results", "/api/v1/instances/{instance_id}"}
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/auth/token (valid 12 hours)"}
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert "401" in spec["paths"]["/api/v1/tasks"]["get"]["responses"]
    assert "409" in spec["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]["responses"]
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    assert set(spec["components"]["schemas"]["ErrorDetail"]["properties"]) == {"code", "message", "fields"}


def test_errors_outside_the_api_keep_the_pages_shape(app):
    client = app.test_client()
    assert client.get("/api/v1/no-such-thing").get_json()["error"]["code"] == "not_found"
    response = client.delete("/api/v1/tasks")
    assert response.get_json()["error"]["code"] == "method_not_allowed" and response.headers["Allow"]
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


# --- a whole cycle through the API alone ------------------------------------------------------------------------

UNITS = {  # unit: (sections the officer self-assesses as violated, ICT rank in its block, slow conclusions)
    "SNV": ((2,), 5, True),
    "STC": ((4,), 7, False),
    "STTTT": ((), 2, False),  # DIC itself: Home Affairs must review its result (four eyes)
}


def test_a_whole_cycle_runs_through_the_api_alone_from_opening_to_the_committees_decision(app):
    with app.app_context():
        setup_people(db.session, list(UNITS))
    api = Api(app.test_client())
    year = local_today().year + 1

    response = api.post("/cycles", "dic_leader", {"year": year, "unit_codes": list(UNITS)})
    assert response.status_code == 201, response.get_json()

    for code, (sections, _, _) in UNITS.items():
        officer, head = f"{code.lower()}_officer", f"{code.lower()}_head"
        api.complete(officer, "draft_report", report_payload(sections), code)
        if code == "STC":  # the head sends it back once, then DIC does
            api.complete(head, "approve_report", {"head_decision": "return", "head_comment": "Bổ sung minh chứng."},
                         code)
            redraft = api.task_id(officer, "draft_report", code)
            assert api.get(f"/tasks/{redraft}", officer).get_json()["return_reason"] == "Bổ sung minh chứng."
            api.complete(officer, "draft_report", report_payload(sections), code)
        api.complete(head, "approve_report", {"head_decision": "approve"}, code)
        if code == "STC":
            api.complete("dic", "review_report", {"dic_decision": "return", "dic_comment": "Thiếu số liệu kinh phí."},
                         code)
            api.complete(officer, "draft_report", report_payload(sections), code)
            api.complete(head, "approve_report", {"head_decision": "approve"}, code)
        api.complete("dic", "review_report", {"dic_decision": "accept"}, code)

    cycle = api.get(f"/cycles/{year}", "dic").get_json()
    assert cycle["status"] == "evaluating"
    assert {r["unit_code"]: (r["status"], r["revisions"]) for r in cycle["progress"]} == {
        "SNV": ("accepted", 0), "STC": ("accepted", 2), "STTTT": ("accepted", 0)}

    units = {code: {"ict_rank": rank, "ict_units": 20, "slow_conclusions": slow, "superior_requires_review": False,
                    "lacks_responsibility": False, "special_achievement": False}
             for code, (_, rank, slow) in UNITS.items()}
    api.complete("dic", "consolidate", {"units": units})

    proposed = {r["unit_code"]: r for r in api.get(f"/cycles/{year}/results", "dic_leader").get_json()}
    assert set(proposed) == set(UNITS) and not any(r["final"] for r in proposed.values())
    assert proposed["SNV"]["sections_violated"] == [2] and proposed["STC"]["sections_violated"] == [4]
    overrides = [
        {"unit_code": code, "field": field, "value": "complete" if field == "rating" else "criticism",
         "reason": "Đã xem xét hồ sơ thực tế của đơn vị."}
        for code, row in sorted(proposed.items()) for field in ("rating", "sanction") if row[field] == "manual_review"
    ]
    assert overrides, "STC (R4: section 4 alone) needs DIC's decision"
    api.complete("dic_leader", "evaluate", {"overrides": overrides})

    # Four eyes on DIC's own result: Home Affairs confirms or changes it, with a reason.
    api.complete("home_affairs", "review_dic_self_evaluation", {"overrides": [
        {"unit_code": "STTTT", "field": "reward", "value": "none", "reason": "Giữ nguyên đề xuất của bảng quyết định."}
    ]})
    api.complete("home_affairs", "home_affairs_proposal", {"ha_decision": "propose"})
    decided_on = local_today().isoformat()
    api.complete("committee", "committee_decision", {"committee_action": "decide", "decision_number": "123/QĐ-UBND",
                                                     "decision_date": decided_on})

    results = {r["unit_code"]: r for r in api.get(f"/cycles/{year}/results", "committee").get_json()}
    assert set(results) == set(UNITS)
    assert all(r["final"] and r["decision_number"] == "123/QĐ-UBND" for r in results.values())
    assert not any("manual_review" in (r["rating"], r["sanction"]) for r in results.values())
    assert results["SNV"]["rating"] == proposed["SNV"]["rating"] and "Điều 15" in " ".join(results["SNV"]["articles"])
    for item in overrides:
        row = results[item["unit_code"]]
        assert row[item["field"]] == item["value"]
        assert {"stage": "evaluate", "field": item["field"], "to": item["value"], "by": "dic_leader"}.items() <= \
            next(o for o in row["overrides"] if o["field"] == item["field"]).items()
    cycle = api.get(f"/cycles/{year}", "supervisor").get_json()
    assert cycle["status"] == "decided" and cycle["decision_number"] == "123/QĐ-UBND"
    assert cycle["decision_date"] == decided_on
    assert api.get("/tasks", "committee", query_string={"tab": "group"}).get_json()["total"] == 0
    history = api.get(f"/instances/{cycle['instance_id']}", "supervisor").get_json()
    assert history["status"] == "completed" and history["current"] == []
    assert [h["step_id"] for h in history["history"] if h["kind"] == "task_completed"] == [
        "consolidate", "evaluate", "review_dic_self_evaluation", "home_affairs_proposal", "committee_decision"]


# --- reassigning within the role ----------------------------------------------------------------------------------


def test_a_head_lists_candidates_and_reassigns_an_officers_task_through_the_api(api):
    with api.client.application.app_context():
        users.create_user(db.session, "stc_officer2", PASSWORD, "Đỗ Thị Bình", [Role.AGENCY_OFFICER], "STC")
        db.session.commit()
    task = api.task_id("stc_officer", "draft_report")
    detail = api.get(f"/tasks/{task}", "stc_head").get_json()
    assert detail["may_reassign"] is True and detail["may_act"] is False
    candidates = api.get(f"/tasks/{task}/candidates", "stc_head").get_json()
    assert [c["username"] for c in candidates] == ["stc_officer", "stc_officer2"]
    assert "STC" in candidates[1]["rule"]

    response = api.post(f"/tasks/{task}/reassign", "stc_head", {"assignee": "stc_officer2", "reason": "Phân công lại"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["assignee_id"] is not None
    mine = api.get("/tasks", "stc_officer2", query_string={"tab": "mine"}).get_json()["items"]
    assert [t["id"] for t in mine] == [task]
    assert api.get("/tasks", "stc_officer", query_string={"tab": "group"}).get_json()["items"] == []


def test_reassigning_without_a_reason_or_to_an_outsider_is_422_naming_the_field(api):
    task = api.task_id("stc_officer", "draft_report")
    before = db_state(api.client.application, task)
    missing = error_of(api.post(f"/tasks/{task}/reassign", "stc_head", {"assignee": "stc_officer"}), 422)
    assert "reason" in missing["fields"]
    outsider = error_of(api.post(f"/tasks/{task}/reassign", "stc_head",
                                 {"assignee": "snv_officer", "reason": "Nhờ đơn vị khác"}), 422)
    assert set(outsider["fields"]) == {"assignee"}
    assert db_state(api.client.application, task) == before


@pytest.mark.parametrize("user", ["stc_officer", "snv_head", "dic", "committee"])
def test_someone_who_does_not_lead_the_role_gets_403_and_nothing_changes(api, user):
    task = api.task_id("stc_officer", "draft_report")
    before = db_state(api.client.application, task)
    error_of(api.get(f"/tasks/{task}/candidates", user), 403)
    error_of(api.post(f"/tasks/{task}/reassign", user, {"assignee": "stc_officer", "reason": "Thử"}), 403)
    assert db_state(api.client.application, task) == before


def test_a_past_deadline_is_refused_with_422_unless_confirm_late(api):
    year = 2020  # long past, and not the year the fixture opened
    error = error_of(api.post("/cycles", "dic_leader", {"year": year, "unit_codes": ["STC"]}), 422)
    assert set(error["fields"]) == {"report_due"}
    response = api.post("/cycles", "dic_leader", {"year": year, "unit_codes": ["STC"], "confirm_late": True})
    assert response.status_code == 201


def test_prior_ranks_import_through_the_api_names_bad_lines_and_results_carry_report_status(api):
    bad = api.post("/cycles/2023/prior-ranks", "dic_leader", {"csv": "unit_code,rank,units\nSTC,3,20\nXYZ,1,2\n"})
    assert set(error_of(bad, 422)["fields"]) == {"line 3"}
    assert error_of(api.post("/cycles/2023/prior-ranks", "stc_officer", {"csv": "STC,1,2"}), 403)
    ok = api.post("/cycles/2023/prior-ranks", "dic_leader", {"csv": "unit_code,rank,units\nSTC,3,20\n"})
    assert ok.status_code == 200 and ok.get_json() == {"year": 2023, "imported": 1}
