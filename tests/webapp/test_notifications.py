"""Notifications in the app, the digest, the calendar feed, `tick`/`worker` on the command line, the calendar admin."""
from __future__ import annotations

import email
import os
import re
import signal
import threading
from datetime import date
from email import policy

import pytest
from factories import open_small_cycle, open_task
from sqlalchemy import select

from webapp.extensions import db
from workflows import collector
from workflows.calendar import WorkingCalendar
from workflows.models import CalendarDay, Notification, User

PASSWORD = "simulation-only"
BASE = "https://cntt.bacninh.gov.vn"


@pytest.fixture
def outbox(tmp_path):
    return tmp_path / "outbox"


@pytest.fixture
def client(app, outbox):
    # Until create_app registers them (see the report of this change), register the two blueprints here.
    from webapp import calendar_admin, notifications

    for module in (notifications, calendar_admin):
        if module.bp.name not in app.blueprints:
            app.register_blueprint(module.bp)
    app.config.update(WTF_CSRF_ENABLED=False, MAIL_OUTBOX_DIR=str(outbox), MAIL_SERVER=None, PUBLIC_BASE_URL=BASE)
    with app.app_context():
        open_small_cycle(db.session, ["STC", "SNV"], year=2025)
    return app.test_client()


def login(client, username: str) -> None:
    client.post("/logout")  # /login only redirects someone already logged in
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def tick(runner, now: str) -> dict[str, int]:
    result = runner.invoke(args=["tick", "--now", now])
    assert result.exit_code == 0, result.output
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", result.output)}


def user(app, username: str) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def unread(client) -> int:
    response = client.get("/notifications/unread.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()["unread"]


# --- the command line ------------------------------------------------------------------------------------------------


def test_tick_runs_one_pass_at_the_given_time_and_prints_its_counts(client, runner):
    assert tick(runner, "2025-12-05T09:00")["reminders"] == 0
    first = tick(runner, "2025-12-08T09:00")  # T−5 working days, local time
    assert first["reminders"] == 2 and first["overdue"] == 0
    assert tick(runner, "2025-12-08T09:30")["reminders"] == 0
    late = tick(runner, "2025-12-16T00:30+07:00")
    assert (late["timers"], late["overdue"], late["escalations"]) == (1, 2, 2)
    result = runner.invoke(args=["tick", "--now", "yesterday"])
    assert result.exit_code == 2 and "ISO" in result.output


@pytest.fixture
def collector_tuned(monkeypatch):
    """The worker sets the garbage collector for a long-running process; not this test process's."""
    calls = []
    monkeypatch.setattr(collector, "tune_for_server", lambda: calls.append("tuned"))
    return calls


def test_worker_runs_passes_until_stopped(client, runner, collector_tuned):
    result = runner.invoke(args=["worker", "--passes", "2", "--interval", "0"])
    assert result.exit_code == 0, result.output
    assert collector_tuned == ["tuned"]
    assert "Worker started" in result.output and "Worker stopped." in result.output
    assert "overdue=2" in result.output  # the 2025 reports are late by the real clock


def test_worker_stops_cleanly_on_sigterm(client, runner, collector_tuned):
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        result = runner.invoke(args=["worker", "--interval", "1"])
    finally:
        timer.cancel()
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("Worker stopped.")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


# --- the list, marking read, the bell -------------------------------------------------------------------------------


def test_the_list_shows_unread_first_and_marking_read_updates_the_count(app, client, runner):
    tick(runner, "2025-12-08T09:00")
    tick(runner, "2025-12-12T09:00")
    login(client, "stc_officer")
    assert unread(client) == 2
    with app.app_context():
        first, second = db.session.scalars(
            select(Notification).join(User).where(User.username == "stc_officer").order_by(Notification.id)).all()
    response = client.post(f"/notifications/{first.id}/read")
    assert response.status_code == 303 and response.location.endswith("/notifications/")
    assert unread(client) == 1
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Sắp đến hạn: Lập báo cáo và tự đánh giá – Sở Tài chính" in page
    assert page.index("Còn 1 ngày làm việc") < page.index("Còn 5 ngày làm việc")  # the unread one on top
    response = client.post(f"/notifications/{second.id}/read", data={"go": "1"})
    assert response.status_code == 303 and response.location.endswith(f"/tasks/{second.task_id}")
    assert unread(client) == 0


def test_mark_all_read_and_nobody_marks_another_persons_notification(app, client, runner):
    tick(runner, "2025-12-16T09:00")  # overdue notices and escalations to the heads
    login(client, "stc_head")
    assert unread(client) == 1
    with app.app_context():
        officers = db.session.scalar(select(Notification.id).join(User).where(User.username == "stc_officer"))
    assert client.post(f"/notifications/{officers}/read").status_code == 404
    response = client.post("/notifications/read-all", follow_redirects=True)
    assert "Đã đánh dấu 1 thông báo là đã đọc." in response.get_data(as_text=True)
    assert unread(client) == 0
    login(client, "stc_officer")
    assert unread(client) == 1


def test_the_notification_pages_need_a_login_and_their_forms_csrf(app, client):
    assert client.get("/notifications/").status_code == 302
    assert client.get("/notifications/unread.json").status_code == 302
    login(client, "stc_officer")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/notifications/read-all").status_code == 400
    assert client.post("/notifications/preferences", data={"email_digest": "1"}).status_code == 400


def test_the_bell_count_is_offered_to_every_template(app, client, runner):
    tick(runner, "2025-12-08T09:00")
    login(client, "stc_officer")
    with app.test_request_context():
        from flask_login import login_user

        login_user(user(app, "stc_officer"))
        context = {}
        app.update_template_context(context)
        assert context["unread_notifications"]() == 1


# --- the digest ------------------------------------------------------------------------------------------------------


def test_the_daily_digest_is_written_once_in_vietnamese_with_links_and_not_for_who_opted_out(app, client, runner,
                                                                                            outbox):
    with app.app_context():
        for username in ("stc_officer", "snv_officer"):
            db.session.scalar(select(User).where(User.username == username)).email = f"{username}@bacninh.gov.vn"
        db.session.commit()
    login(client, "snv_officer")
    assert client.get("/notifications/preferences").status_code == 200
    response = client.post("/notifications/preferences", data={})  # the box unticked: opt out
    assert response.status_code == 303
    assert user(app, "snv_officer").email_digest is False

    assert tick(runner, "2025-12-08T06:30")["digests"] == 0  # before the digest hour (07:00)
    assert tick(runner, "2025-12-08T09:00")["digests"] == 1
    assert tick(runner, "2025-12-08T09:00")["digests"] == 0
    assert tick(runner, "2025-12-08T17:00")["digests"] == 0
    files = sorted(outbox.iterdir())
    assert [f.name for f in files] == [f"digest-2025-12-08-user{user(app, 'stc_officer').id}.eml"]

    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"].addresses[0].addr_spec == "stc_officer@bacninh.gov.vn"
    assert message["Subject"] == "[Đánh giá CNTT Bắc Ninh] 1 thông báo mới ngày 08/12/2025"
    text = message.get_content()
    with app.app_context():
        task_id = open_task(db.session, "draft_report", "STC").id
    assert "Kính gửi Cán bộ chuyên trách CNTT STC," in text
    assert "[Nhắc hạn] Sắp đến hạn: Lập báo cáo và tự đánh giá – Sở Tài chính" in text
    assert f"Xem công việc: {BASE}/tasks/{task_id}" in text
    assert f"{BASE}/notifications/preferences" in text

    assert tick(runner, "2025-12-12T09:00")["digests"] == 1  # a new day, a new reminder
    assert len(list(outbox.iterdir())) == 2
    login(client, "stc_officer")
    client.post("/notifications/read-all")
    assert tick(runner, "2025-12-16T09:00")["digests"] == 1  # the overdue notice only: read ones are not sent
    newest = email.message_from_bytes(sorted(outbox.iterdir())[-1].read_bytes(), policy=policy.default)
    assert "Quá hạn: Lập báo cáo và tự đánh giá – Sở Tài chính" in newest.get_content()
    assert "Sắp đến hạn" not in newest.get_content()


# --- the calendar feed -----------------------------------------------------------------------------------------------


def feed_url(client, username: str) -> str:
    login(client, username)
    page = client.get("/notifications/preferences").get_data(as_text=True)  # the tab "Thư tóm tắt và lịch"
    found = re.search(r'value="https?://[^/"]+(/notifications/calendar\.ics\?token=[^"]+)"', page)
    assert found, page
    client.post("/logout")
    return found.group(1)


def test_the_calendar_feed_lists_the_persons_deadlines_and_refuses_a_bad_token(app, client):
    mine, theirs = feed_url(client, "stc_officer"), feed_url(client, "snv_officer")
    response = client.get(mine, base_url=BASE)  # logged out: the token is the credential; links to where it came from
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    body = response.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.rstrip().endswith("END:VCALENDAR")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    unfolded = body.replace("\r\n ", "")
    with app.app_context():
        task_id = open_task(db.session, "draft_report", "STC").id
    assert "DTSTART;VALUE=DATE:20251215" in unfolded and "DTEND;VALUE=DATE:20251216" in unfolded
    assert "SUMMARY:Hạn: Lập báo cáo và tự đánh giá – Sở Tài chính" in unfolded
    assert f"URL:{BASE}/tasks/{task_id}" in unfolded
    assert "Sở Nội vụ" not in unfolded and "Sở Nội vụ" in client.get(theirs).get_data(as_text=True).replace("\r\n ",
                                                                                                            "")
    tampered = mine[:-3] + ("AAA" if not mine.endswith("AAA") else "BBB")
    for bad in (tampered, "/notifications/calendar.ics?token=MQ.forged", "/notifications/calendar.ics"):
        assert client.get(bad).status_code == 403, bad


def test_the_calendar_feed_parses_as_icalendar_with_one_event_on_each_tasks_due_date(app, client):
    import icalendar

    from workflows import tasks, users
    from workflows.calendar import local_today

    body = client.get(feed_url(client, "stc_officer"), base_url=BASE).get_data()
    feed = icalendar.Calendar.from_ical(body)
    events = {str(e["UID"]): e for e in feed.walk("VEVENT")}
    with app.app_context():
        officer = users.get_by_username(db.session, "stc_officer")
        due = [t for t in tasks.inbox(db.session, officer, local_today(), limit=500) if t.due_on is not None]
    assert due and set(events) == {f"task-{t.id}@bacninh-cntt" for t in due}
    for task in due:
        event = events[f"task-{task.id}@bacninh-cntt"]
        assert event.decoded("DTSTART") == task.due_on
        assert event.decoded("DTEND") == date.fromordinal(task.due_on.toordinal() + 1)
        assert str(event["SUMMARY"]).startswith(f"Hạn: {task.step_name}")
        assert str(event["URL"]) == f"{BASE}/tasks/{task.id}"


# --- the calendar administration -------------------------------------------------------------------------------------


def test_the_calendar_admin_page_lists_a_years_days_off(client):
    login(client, "admin")
    page = client.get("/admin/calendar/?year=2026").get_data(as_text=True)
    for day in ("16/02/2026", "17/02/2026", "20/02/2026", "01/09/2026", "02/09/2026"):
        assert day in page
    assert "Tết Nguyên Đán" in page and "chưa xác nhận" in page


def test_an_override_added_on_the_admin_page_takes_effect_on_reminders(app, client, runner):
    login(client, "admin")
    response = client.post("/admin/calendar/", data={"day": "12/12/2025", "kind": "holiday",
                                                     "name_vi": "Nghỉ thêm (thử nghiệm)", "source_doc": "TB 99/TB"})
    assert response.status_code == 303 and response.location.endswith("/admin/calendar/?year=2025")
    page = client.get("/admin/calendar/?year=2025").get_data(as_text=True)
    assert "Nghỉ thêm (thử nghiệm)" in page and "TB 99/TB" in page
    with app.app_context():
        assert not WorkingCalendar.cached(db.session).is_working_day(date(2025, 12, 12))
    # Friday 12/12 is now off, so Thursday 11/12 is one working day before the deadline of Monday 15/12.
    assert tick(runner, "2025-12-11T09:00")["reminders"] == 2
    with app.app_context():
        kinds = set(db.session.scalars(select(Notification.kind)))
    assert kinds == {"remind_1"}

    response = client.post("/admin/calendar/2025-12-12/delete")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(CalendarDay, date(2025, 12, 12)) is None
        assert WorkingCalendar.cached(db.session).is_working_day(date(2025, 12, 12))


def test_the_admin_page_explains_a_bad_override_and_is_for_administrators_only(client):
    login(client, "admin")
    response = client.post("/admin/calendar/", data={"day": "13/12/2025", "kind": "swap_workday", "name_vi": "",
                                                     "source_doc": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nhập tên ngày" in page and "Nhập văn bản làm căn cứ" in page
    assert client.post("/admin/calendar/2025-12-13/delete").status_code == 404
    login(client, "supervisor")
    assert client.get("/admin/calendar/").status_code == 403
    assert client.post("/admin/calendar/", data={"day": "12/12/2025", "kind": "holiday", "name_vi": "x",
                                                 "source_doc": "y"}).status_code == 403


def test_the_calendar_links_point_to_the_address_the_feed_was_fetched_from(app, client):
    mine = feed_url(client, "stc_officer")
    body = client.get(mine, base_url="https://cntt.bacninh.example").get_data(as_text=True).replace("\r\n ", "")
    assert "URL:https://cntt.bacninh.example/tasks/" in body and "127.0.0.1" not in body
