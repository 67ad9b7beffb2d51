"""Administration: users (search, create, roles and agency, password, activation) and deputy assignments."""
from __future__ import annotations

import pytest
from factories import setup_people
from sqlalchemy import func, select

from webapp.extensions import db
from workflows import users
from workflows.models import AuditEvent, DeputyAssignment, Role, User

PASSWORD = "simulation-only"


@pytest.fixture
def admin_app(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        setup_people(db.session, ["STC", "TTT"])
    return app


def client_for(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, f"{username} could not log in"
    return client


def user_named(app, username: str) -> User | None:
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))  # roles load eagerly


def audit_kinds(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id.is_(None))
                                       .where(AuditEvent.kind != "external_task").order_by(AuditEvent.id)))


NEW_USER = {"username": "nv.an", "full_name": "Nguyễn Văn An", "email": "an@bacninh.gov.vn",
            "password": "mat-khau-moi-1", "roles": ["agency_officer"], "unit_code": "STC"}


# --- who may use these pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["dic_leader", "supervisor", "owner", "stc_head"])
def test_administration_pages_are_403_for_everyone_but_admins(admin_app, username):
    client = client_for(admin_app, username)
    target = user_named(admin_app, "stc_officer").id
    for url in ("/admin/users", f"/admin/users/{target}", "/admin/deputies"):
        assert client.get(url).status_code == 403, url


def test_a_non_admin_post_is_403_and_changes_nothing(admin_app):
    client = client_for(admin_app, "dic_leader")
    target = user_named(admin_app, "stc_officer")
    head, deputy = user_named(admin_app, "stc_head"), user_named(admin_app, "stc_deputy")
    with admin_app.app_context():
        assignments = db.session.scalar(select(func.count(DeputyAssignment.id)))
    posts = {
        "/admin/users": NEW_USER,
        f"/admin/users/{target.id}/roles": {"roles": ["admin"], "unit_code": ""},
        f"/admin/users/{target.id}/password": {"password": "bi-chiem-quyen", "password_confirm": "bi-chiem-quyen"},
        f"/admin/users/{target.id}/active": {"active": "0"},
        "/admin/deputies": {"head_id": head.id, "deputy_id": deputy.id, "document_number": "99/QĐ",
                            "document_date": "01/01/2025", "valid_from": "01/01/2025", "valid_to": "31/12/2025",
                            "scope": "approve_report"},
    }
    for url, data in posts.items():
        assert client.post(url, data=data).status_code == 403, url
    after = user_named(admin_app, "stc_officer")
    assert after.role_set == {Role.AGENCY_OFFICER} and after.is_active and after.password_hash == target.password_hash
    assert user_named(admin_app, "nv.an") is None
    with admin_app.app_context():
        assert db.session.scalar(select(func.count(DeputyAssignment.id))) == assignments
    assert audit_kinds(admin_app) == []
    client_for(admin_app, "stc_officer")  # the password still works


def test_a_post_without_a_csrf_token_is_refused(admin_app):
    client = client_for(admin_app, "admin")
    admin_app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/admin/users", data=NEW_USER).status_code == 400
    assert user_named(admin_app, "nv.an") is None


# --- users --------------------------------------------------------------------------------------------------------


def test_the_user_list_shows_roles_and_agencies_in_vietnamese(admin_app):
    page = client_for(admin_app, "admin").get("/admin/users").get_data(as_text=True)
    for text in ("stc_officer", "Cán bộ chuyên trách CNTT", "Sở Tài chính", "Đang hoạt động",
                 "Tạo người dùng", 'for="username"', 'for="unit_code"', "<legend>Vai trò"):
        assert text in page, text


def test_search_ignores_case_and_diacritics(admin_app):
    client = client_for(admin_app, "admin")
    client.post("/admin/users", data=NEW_USER)
    page = client.get("/admin/users?q=nguyen van").get_data(as_text=True)
    assert "Nguyễn Văn An" in page and "stc_officer" not in page
    page = client.get("/admin/users?q=THỦ TRƯỞNG ttt").get_data(as_text=True)
    assert "ttt_head" in page and "stc_head" not in page
    assert "Không tìm thấy người dùng nào." in client.get("/admin/users?q=khong-co-ai").get_data(as_text=True)


def test_admin_creates_a_user_who_can_then_log_in(admin_app):
    response = client_for(admin_app, "admin").post("/admin/users", data=NEW_USER)
    assert response.status_code == 303
    created = user_named(admin_app, "nv.an")
    assert created.full_name == "Nguyễn Văn An" and created.unit_code == "STC"
    assert created.role_set == {Role.AGENCY_OFFICER} and created.email == "an@bacninh.gov.vn"
    client = client_for(admin_app, "nv.an", "mat-khau-moi-1")
    assert client.get("/tasks/").status_code == 200
    with admin_app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "user_created"))
        assert event.instance_id is None and event.data["user"] == "nv.an"
        assert "mat-khau-moi-1" not in str(event.data)


def test_creating_a_user_shows_each_problem_next_to_its_field(admin_app):
    client = client_for(admin_app, "admin")
    response = client.post("/admin/users", data={**NEW_USER, "username": "stc_officer", "full_name": "",
                                                  "password": "ngan", "email": "khong-phai-email", "roles": []})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field, message in (("username", "Tên đăng nhập đã tồn tại."), ("full_name", "Nhập họ và tên."),
                           ("password", "Mật khẩu cần ít nhất 10 ký tự."),
                           ("email", "Địa chỉ thư điện tử không hợp lệ."), ("roles", "Chọn ít nhất một vai trò.")):
        assert f'<p class="field-error" id="e-{field}">{message}</p>' in page, field
    assert 'value="khong-phai-email"' in page
    response = client.post("/admin/users", data={**NEW_USER, "unit_code": ""})
    assert response.status_code == 422 and '<p class="field-error" id="e-unit_code">Chọn cơ quan.</p>' in \
        response.get_data(as_text=True)
    assert user_named(admin_app, "nv.an") is None
    assert audit_kinds(admin_app) == []


def test_admin_changes_roles_and_agency_and_it_is_audited(admin_app):
    client = client_for(admin_app, "admin")
    target = user_named(admin_app, "stc_officer")
    response = client.post(f"/admin/users/{target.id}/roles", data={"roles": ["agency_head", "deputy"],
                                                                    "unit_code": "TTT"})
    assert response.status_code == 303
    changed = user_named(admin_app, "stc_officer")
    assert changed.role_set == {Role.AGENCY_HEAD, Role.DEPUTY} and changed.unit_code == "TTT"
    with admin_app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "user_changed"))
        assert event.data["before"] == {"roles": ["agency_officer"], "unit_code": "STC"}
        assert event.data["after"] == {"roles": ["agency_head", "deputy"], "unit_code": "TTT"}
        assert event.actor_id == user_named(admin_app, "admin").id


def test_an_admin_cannot_remove_their_own_admin_role(admin_app):
    admin = user_named(admin_app, "admin")
    response = client_for(admin_app, "admin").post(f"/admin/users/{admin.id}/roles",
                                                   data={"roles": ["supervisor"], "unit_code": ""})
    assert response.status_code == 422 and "tự bỏ vai trò quản trị" in response.get_data(as_text=True)
    assert user_named(admin_app, "admin").role_set == {Role.ADMIN}


def test_admin_resets_a_password_and_the_old_one_stops_working(admin_app):
    client = client_for(admin_app, "admin")
    target = user_named(admin_app, "stc_head")
    mismatch = client.post(f"/admin/users/{target.id}/password",
                           data={"password": "mat-khau-moi-2", "password_confirm": "khac"})
    assert mismatch.status_code == 422 and "không khớp" in mismatch.get_data(as_text=True)
    short = client.post(f"/admin/users/{target.id}/password", data={"password": "ngan", "password_confirm": "ngan"})
    assert short.status_code == 422 and "Mật khẩu cần ít nhất 10 ký tự." in short.get_data(as_text=True)
    response = client.post(f"/admin/users/{target.id}/password",
                           data={"password": "mat-khau-moi-2", "password_confirm": "mat-khau-moi-2"})
    assert response.status_code == 303
    old = admin_app.test_client().post("/login", data={"username": "stc_head", "password": PASSWORD})
    assert old.status_code == 401
    client_for(admin_app, "stc_head", "mat-khau-moi-2")
    assert audit_kinds(admin_app) == ["password_reset"]


def test_a_deactivated_user_cannot_log_in_until_activated_again(admin_app):
    client = client_for(admin_app, "admin")
    target = user_named(admin_app, "ttt_officer")
    victim = client_for(admin_app, "ttt_officer")
    assert client.post(f"/admin/users/{target.id}/active", data={"active": "0"}).status_code == 303
    assert "Đã khóa" in client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert victim.get("/tasks/").status_code == 302  # their open session ends too
    assert admin_app.test_client().post("/login", data={"username": "ttt_officer",
                                                        "password": PASSWORD}).status_code == 401
    assert client.post(f"/admin/users/{target.id}/active", data={"active": "1"}).status_code == 303
    client_for(admin_app, "ttt_officer")
    assert audit_kinds(admin_app) == ["user_deactivated", "user_activated"]


def test_an_admin_cannot_deactivate_themselves(admin_app):
    admin = user_named(admin_app, "admin")
    response = client_for(admin_app, "admin").post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    assert response.status_code == 422
    assert user_named(admin_app, "admin").is_active


# --- deputy assignments -------------------------------------------------------------------------------------------


def test_admin_records_a_deputy_assignment_with_dates_as_typed(admin_app):
    client = client_for(admin_app, "admin")
    with admin_app.app_context():
        head = users.get_by_username(db.session, "stc_head")
        second = users.create_user(db.session, "stc_deputy2", "mat-khau-dai", "Phó giám đốc thứ hai",
                                   [Role.DEPUTY], "STC")
        db.session.commit()
        head_id, deputy_id = head.id, second.id
    page = client.get("/admin/deputies").get_data(as_text=True)
    assert "Phê duyệt báo cáo" in page and "01/QĐ-STC" in page and "10/10/2013" in page
    response = client.post("/admin/deputies", data={
        "head_id": head_id, "deputy_id": deputy_id, "document_number": "15/QĐ-STC", "document_date": "02/01/2026",
        "valid_from": "2026-01-02", "valid_to": "31/12/2026", "scope": ["approve_report"]})
    assert response.status_code == 303
    with admin_app.app_context():
        assignment = db.session.scalar(select(DeputyAssignment).where(DeputyAssignment.deputy_id == deputy_id))
        assert (assignment.document_number, f"{assignment.valid_from:%d/%m/%Y}", f"{assignment.valid_to:%d/%m/%Y}",
                assignment.scope, assignment.unit_code) == ("15/QĐ-STC", "02/01/2026", "31/12/2026",
                                                            ["approve_report"], "STC")
    assert "15/QĐ-STC" in client.get("/admin/deputies").get_data(as_text=True)
    assert audit_kinds(admin_app) == ["deputy_assigned"]


def test_a_deputy_assignment_with_bad_input_names_each_field(admin_app):
    client = client_for(admin_app, "admin")
    head, other_unit_deputy = user_named(admin_app, "stc_head"), user_named(admin_app, "ttt_deputy")
    with admin_app.app_context():
        before = db.session.scalar(select(func.count(DeputyAssignment.id)))
    response = client.post("/admin/deputies", data={
        "head_id": head.id, "deputy_id": head.id, "document_number": "", "document_date": "32/01/2026",
        "valid_from": "01/02/2026", "valid_to": "01/01/2026"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Người được chọn không có vai trò cấp phó." in page and "Nhập ngày dạng dd/mm/yyyy." in page
    assert "Chọn ít nhất một bước." in page
    response = client.post("/admin/deputies", data={
        "head_id": head.id, "deputy_id": other_unit_deputy.id, "document_number": "", "document_date": "02/01/2026",
        "valid_from": "01/02/2026", "valid_to": "01/01/2026", "scope": "approve_report"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("Cấp phó phải cùng cơ quan với người đứng đầu.", "Cần số văn bản phân công.",
                    "Ngày kết thúc phải sau ngày bắt đầu."):
        assert message in page, message
    with admin_app.app_context():
        assert db.session.scalar(select(func.count(DeputyAssignment.id))) == before
    assert audit_kinds(admin_app) == []
