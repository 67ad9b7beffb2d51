"""Issue 12, web side: signing key, sessions that end, revocable tokens, bounded numbers, headers, exports."""
from __future__ import annotations

import json
import re
import stat

import pytest
from factories import open_small_cycle
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from config import DevelopmentConfig, ProductionConfig
from webapp import create_app
from webapp.extensions import db
from workflows import accounts, users
from workflows.models import Role

PASSWORD = "simulation-only"


@pytest.fixture
def client(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        open_small_cycle(db.session, ["STC"], year=2025)
        users.create_user(db.session, "quan_tri", PASSWORD, "Quản trị", [Role.ADMIN])
        db.session.commit()
    return app.test_client()


def login(client, username: str, password: str = PASSWORD, remember: bool = False):
    return client.post("/login", data={"username": username, "password": password, **({"remember": "1"} if remember
                                                                                       else {})})


def token(client, username: str = "stc_officer", **extra) -> str:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


# --- 1. the signing key ----------------------------------------------------------------------------------------


class _NoKey(DevelopmentConfig):
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = "sqlite://"


def test_without_secret_key_the_app_makes_a_private_random_key_and_keeps_it(tmp_path):
    first = create_app(_NoKey, instance_path=str(tmp_path))
    key = first.config["SECRET_KEY"]
    assert key and key != "dev-only-change-me" and len(key) >= 32
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert create_app(_NoKey, instance_path=str(tmp_path)).config["SECRET_KEY"] == key  # sessions survive restarts
    assert create_app(_NoKey, instance_path=str(tmp_path / "other")).config["SECRET_KEY"] != key


def test_production_refuses_to_start_without_secret_key(tmp_path):
    class Prod(ProductionConfig):
        SECRET_KEY = None
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Prod, instance_path=str(tmp_path))


def test_a_cookie_signed_with_the_old_published_key_opens_nothing(tmp_path):
    app = create_app(_NoKey, instance_path=str(tmp_path))

    forger = Flask("forger")  # signs with what anyone who read config.py knew
    forger.secret_key = "dev-only-change-me"
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    forged = serializer.dumps({"_user_id": "1", "_fresh": True})
    client = app.test_client()
    client.set_cookie("session", forged)
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.location


# --- 3. sessions and tokens end --------------------------------------------------------------------------------


def test_after_logout_the_old_session_and_remember_cookies_open_nothing(client):
    login(client, "stc_officer", remember=True)
    session_cookie = client.get_cookie("session").value
    remember_cookie = client.get_cookie("remember_token").value
    assert client.get("/tasks/").status_code == 200
    client.post("/logout")
    for name, value in (("session", session_cookie), ("remember_token", remember_cookie)):
        replay = client.application.test_client()
        replay.set_cookie(name, value)
        assert replay.get("/tasks/").status_code == 302, name


def test_an_admin_password_reset_ends_sessions_remember_cookies_and_api_tokens(client):
    victim = client.application.test_client()
    login(victim, "stc_officer", remember=True)
    remember_cookie = victim.get_cookie("remember_token").value
    api_token = token(client)
    assert client.get("/api/v1/tasks", headers=bearer(api_token)).status_code == 200
    with client.application.app_context():
        target = users.get_by_username(db.session, "stc_officer")
        accounts.reset_password(db.session, target, "mot-cau-rat-dai-moi")
        db.session.commit()
    assert victim.get("/tasks/").status_code == 302
    replay = client.application.test_client()
    replay.set_cookie("remember_token", remember_cookie)
    assert replay.get("/tasks/").status_code == 302
    assert client.get("/api/v1/tasks", headers=bearer(api_token)).status_code == 401


def test_tokens_are_listed_and_revoked_by_their_owner_and_by_an_admin(client):
    mine, other = token(client, name="máy chủ báo cáo", days=30), token(client, name="thử")
    listed = client.get("/api/v1/tokens", headers=bearer(mine)).get_json()
    assert [t["name"] for t in listed] == ["thử", "máy chủ báo cáo"]
    assert all("token" not in t and t["active"] for t in listed)
    assert all(t["created_at"].endswith("+00:00") and t["expires_at"].endswith("+00:00") for t in listed)
    other_id = listed[0]["id"]
    assert client.delete(f"/api/v1/tokens/{other_id}", headers=bearer(mine)).status_code == 204
    assert client.get("/api/v1/tasks", headers=bearer(other)).status_code == 401
    # someone else cannot revoke it (it is "not found" for them); an administrator can
    stranger = token(client, "dic_leader")
    mine_id = listed[1]["id"]
    assert client.delete(f"/api/v1/tokens/{mine_id}", headers=bearer(stranger)).status_code == 404
    admin = token(client, "quan_tri")
    assert client.delete(f"/api/v1/tokens/{mine_id}", headers=bearer(admin)).status_code == 204
    assert client.get("/api/v1/tasks", headers=bearer(mine)).status_code == 401


def test_tokens_are_stored_hashed(client):
    value = token(client)
    with client.application.app_context():
        from sqlalchemy import text

        stored = db.session.execute(text("SELECT token_hash FROM api_token")).scalars().all()
    assert value not in stored and all(len(h) == 64 for h in stored)


# --- 4. numbers beyond what the database holds -----------------------------------------------------------------

HUGE = [2**31, 2**63, 2**70]


@pytest.mark.parametrize("number", HUGE)
def test_huge_ids_in_urls_are_404_not_500(client, number):
    api_token = token(client, "dic_leader")
    for path in (f"/api/v1/tasks/{number}", f"/api/v1/instances/{number}", f"/api/v1/cycles/{number}",
                 f"/api/v1/cycles/{number}/results", f"/api/v1/tokens/{number}"):
        method = "DELETE" if "tokens" in path else "GET"
        response = client.open(path, method=method, headers=bearer(api_token))
        assert response.status_code == 404, (path, response.status_code)
        assert response.get_json()["error"]["code"] == "not_found"
    login(client, "dic_leader")
    for path in (f"/tasks/{number}", f"/cycles/{number}"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("number", HUGE)
def test_huge_numbers_in_api_query_args_are_422(client, number):
    api_token = token(client, "dic_leader")
    for path in ("/api/v1/tasks", "/api/v1/overdue"):
        for query in ({"year": number}, {"page": number}):
            response = client.get(path, headers=bearer(api_token), query_string=query)
            assert response.status_code == 422, (path, query, response.status_code)
            assert set(response.get_json()["error"]["fields"]) == set(query)


@pytest.mark.parametrize("number", HUGE)
def test_huge_numbers_in_page_query_args_never_give_500(client, number):
    login(client, "dic_leader")
    for path in ("/tasks/", "/supervise/"):
        assert client.get(path, query_string={"year": number, "page": number}).status_code < 500, path


def test_a_json_body_nested_100000_levels_is_a_clear_400(client):
    body = "[" * 100_000 + "]" * 100_000
    for path in ("/api/v1/auth/token", "/api/v1/tasks/1/complete"):
        response = client.post(path, data=body, content_type="application/json", headers=bearer(token(client)))
        assert response.status_code == 400, path
        assert "lồng quá sâu" in response.get_json()["error"]["message"]
    # brackets inside strings are text, not nesting
    flat = json.dumps({"username": "[" * 150, "password": "{" * 900})
    assert client.post("/api/v1/auth/token", data=flat, content_type="application/json").status_code == 401


# --- 5. the documented error shape ------------------------------------------------------------------------------


def test_an_upload_with_an_unknown_form_field_answers_422_with_the_documented_problems(client):
    with client.application.app_context():
        users.create_user(db.session, "chu_quy_trinh", PASSWORD, "Chủ quy trình", [Role.PROCESS_OWNER])
        db.session.commit()
    response = client.post("/api/v1/definitions", headers=bearer(token(client, "chu_quy_trinh")),
                           data={"khong_co": "x"}, content_type="multipart/form-data")
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"]["code"] == "invalid" and "khong_co" in body["error"]["fields"]
    assert [p["element"] for p in body["problems"]] == ["khong_co"]


# --- 7. cookies, headers, exports -------------------------------------------------------------------------------


def test_production_cookies_are_secure_same_site_and_hsts_is_sent(tmp_path):
    class Prod(ProductionConfig):
        SECRET_KEY = "x" * 40
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    app = create_app(Prod, instance_path=str(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_remember_cookie_is_same_site_and_lasts_two_weeks_not_a_year(client):
    response = login(client, "stc_officer", remember=True)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    assert client.application.config["REMEMBER_COOKIE_DURATION"].days == 14


def test_exports_neutralise_every_cell_that_starts_like_a_formula(app):
    import csv
    import io
    from datetime import UTC, date, datetime

    from openpyxl import load_workbook

    from webapp.supervise import exports
    from workflows.boards import OverdueRow

    row = OverdueRow(1, 2, 2025, "draft_report", "-2+3", "=1+1", "@SUM(A1)", "agency_officer", "+Cán bộ", None,
                     "=cmd|' /C calc'!A0", datetime(2025, 11, 2, 2, tzinfo=UTC), date(2025, 12, 15), 7)
    with app.test_request_context():
        table = list(csv.reader(io.StringIO(exports.overdue_csv([row]).decode("utf-8-sig"))))
        workbook = load_workbook(io.BytesIO(exports.overdue_xlsx([row], "thử")))
    assert table[1][2:7] == ["'=1+1", "'@SUM(A1)", "'-2+3", "'=cmd|' /C calc'!A0", "'+Cán bộ"]
    cells = workbook.active[2][2:7]
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    workbook.close()


def test_the_account_page_lists_my_tokens_and_revokes_one(client):
    kept, dropped = token(client, name="máy báo cáo"), token(client, name="cũ")
    login(client, "stc_officer")
    page = client.get("/account").get_data(as_text=True)
    assert "máy báo cáo" in page and "cũ" in page and kept not in page and dropped not in page
    with client.application.app_context():
        from workflows import accounts

        ids = {t.name: t.id for t in accounts.list_tokens(db.session, users.get_by_username(db.session,
                                                                                              "stc_officer"))}
    response = client.post(f"/account/tokens/{ids['cũ']}/revoke")
    assert response.status_code == 303
    assert "cũ" not in client.get("/account").get_data(as_text=True)
    assert client.get("/api/v1/tasks", headers=bearer(dropped)).status_code == 401
    assert client.get("/api/v1/tasks", headers=bearer(kept)).status_code == 200
    # someone else's token is not found for me
    other = token(client, "dic_leader")
    with client.application.app_context():
        other_id = accounts.list_tokens(db.session, users.get_by_username(db.session, "dic_leader"))[0].id
    assert client.post(f"/account/tokens/{other_id}/revoke").status_code == 404
    assert client.get("/api/v1/tasks", headers=bearer(other)).status_code == 200


def test_an_admin_ends_a_persons_sessions_and_tokens_from_the_user_page(client):
    victim = client.application.test_client()
    login(victim, "stc_officer")
    api_token = token(client)
    login(client, "quan_tri")
    with client.application.app_context():
        target_id = users.get_by_username(db.session, "stc_officer").id
    assert "Đăng xuất mọi nơi và thu hồi mã truy cập" in client.get(f"/admin/users/{target_id}").get_data(as_text=True)
    response = client.post(f"/admin/users/{target_id}/end-sessions")
    assert response.status_code == 303
    assert "thu hồi 1 mã truy cập" in client.get(response.location).get_data(as_text=True)
    assert victim.get("/tasks/").status_code == 302
    assert client.get("/api/v1/tasks", headers=bearer(api_token)).status_code == 401
    # not for anyone else
    login(victim, "dic_leader")
    assert victim.post(f"/admin/users/{target_id}/end-sessions").status_code == 403


def test_behind_a_proxy_the_client_address_is_the_forwarded_one_so_throttling_is_per_client(tmp_path):
    from flask import request

    class Behind(_NoKey):
        PROXY_FIX_X_FOR = 1

    for config, expected in ((Behind, "203.0.113.7"), (_NoKey, "127.0.0.1")):
        app = create_app(config, instance_path=str(tmp_path))
        app.add_url_rule("/_addr", "addr", lambda: request.remote_addr)
        answer = app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.7"})
        assert answer.get_data(as_text=True) == expected


# --- calendar-feed URLs and one's own password ---------------------------------------------------------------------


def feed_path(client, username: str, password: str = PASSWORD) -> str:
    login(client, username, password)
    page = client.get("/notifications/preferences").get_data(as_text=True)  # the tab "Thư tóm tắt và lịch"
    found = re.search(r'value="https?://[^/"]+(/notifications/calendar\.ics\?token=[^"]+)"', page)
    assert found, page
    client.post("/logout")
    return found.group(1)


def test_a_calendar_feed_url_outlives_a_logout_but_not_a_password_reset_or_sign_out_everywhere(client):
    first = feed_path(client, "stc_officer")  # feed_path logs out after reading the URL
    assert client.get(first).status_code == 200
    with client.application.app_context():
        accounts.reset_password(db.session, users.get_by_username(db.session, "stc_officer"), "mot-cau-rat-dai-moi")
        db.session.commit()
    assert client.get(first).status_code == 403
    second = feed_path(client, "stc_officer", "mot-cau-rat-dai-moi")
    assert second != first and client.get(second).status_code == 200
    login(client, "quan_tri")
    with client.application.app_context():
        target_id = users.get_by_username(db.session, "stc_officer").id
    assert client.post(f"/admin/users/{target_id}/end-sessions").status_code == 303
    assert client.get(second).status_code == 403


def test_i_change_my_own_password_and_stay_signed_in_while_other_devices_are_signed_out(client):
    other_device = client.application.test_client()
    login(other_device, "stc_officer", remember=True)
    api_token = token(client)
    login(client, "stc_officer")
    page = client.get("/account").get_data(as_text=True)
    assert "Mật khẩu hiện tại" in page and "Ít nhất 10 ký tự" in page
    response = client.post("/account/password", data={"current_password": PASSWORD, "password": "mot-cau-rat-dai-moi",
                                                      "password_confirm": "mot-cau-rat-dai-moi"})
    assert response.status_code == 303
    assert "Đã đổi mật khẩu" in client.get(response.location).get_data(as_text=True)
    assert client.get("/tasks/").status_code == 200  # this browser: still signed in
    assert other_device.get("/tasks/").status_code == 302  # the other one, even remembered: signed out
    assert client.get("/api/v1/tasks", headers=bearer(api_token)).status_code == 401
    client.post("/logout")
    assert login(client, "stc_officer").status_code == 401
    assert login(client, "stc_officer", "mot-cau-rat-dai-moi").status_code == 302
    with client.application.app_context():
        from workflows.models import AuditEvent

        assert db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "password_changed")) is not None


@pytest.mark.parametrize("form, field, message", [
    ({"current_password": "sai-mat-khau", "password": "mot-cau-rat-dai-moi", "password_confirm": "mot-cau-rat-dai-moi"},
     "current_password", "Mật khẩu hiện tại không đúng."),
    ({"current_password": PASSWORD, "password": "mot-cau-rat-dai-moi", "password_confirm": "mot-cau-khac-han"},
     "password_confirm", "Hai lần nhập mật khẩu không khớp."),
    ({"current_password": PASSWORD, "password": "ngan", "password_confirm": "ngan"},
     "password", "Mật khẩu cần ít nhất 10 ký tự."),
])
def test_a_refused_password_change_says_why_next_to_the_field_and_changes_nothing(client, form, field, message):
    login(client, "stc_officer")
    response = client.post("/account/password", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="e-{field}"' in page and message in page
    assert client.get("/tasks/").status_code == 200
    client.post("/logout")
    assert login(client, "stc_officer").status_code == 302  # the old password still works


def test_changing_a_password_needs_a_signed_in_person(client):
    response = client.post("/account/password", data={"current_password": PASSWORD, "password": "x" * 12,
                                                      "password_confirm": "x" * 12})
    assert response.status_code == 302 and "/login" in response.location
