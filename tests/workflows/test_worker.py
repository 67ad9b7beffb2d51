"""The timer worker driven with `now`: reminders, overdue notices, escalation, races, crashes, deadline changes."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from factories import at, open_small_cycle, open_task, report_payload, submit_report
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session

from workflows import cycles, deadlines, notifications, tasks, users, worker
from workflows.errors import Conflict, EngineError, InvalidInput, NotAllowed
from workflows.models import AuditEvent, Base, HumanTask, Notification, Role, TaskState, User

DUE = date(2025, 12, 15)  # the reports' deadline in open_small_cycle (a Monday)


@pytest.fixture
def settings(tmp_path):
    return {"MAIL_OUTBOX_DIR": str(tmp_path / "outbox"), "PUBLIC_BASE_URL": "https://cntt.bacninh.gov.vn"}


def received(session: Session, task: HumanTask | None = None) -> Counter:
    """(username, kind) → how many notifications, for one task or all."""
    query = select(User.username, Notification.kind).join(User, User.id == Notification.user_id)
    if task is not None:
        query = query.where(Notification.task_id == task.id)
    return Counter(tuple(row) for row in session.execute(query))


def test_each_person_gets_each_reminder_overdue_notice_and_escalation_exactly_once(session, settings):
    open_small_cycle(session, ["STC", "SNV"])
    draft = open_task(session, "draft_report", "STC")
    assert draft.due_on == DUE
    timeline = [  # (day, hour, what the STC draft has received by then)
        (date(2025, 12, 5), 9, {}),  # T−6 working days: nothing yet
        (date(2025, 12, 8), 9, {("stc_officer", "remind_5"): 1}),  # T−5
        (date(2025, 12, 11), 9, {("stc_officer", "remind_5"): 1}),
        (date(2025, 12, 12), 9, {("stc_officer", "remind_5"): 1, ("stc_officer", "remind_1"): 1}),  # T−1
        (date(2025, 12, 15), 23, {("stc_officer", "remind_5"): 1, ("stc_officer", "remind_1"): 1}),  # not late yet
    ]
    for day, hour, expected in timeline:
        for _ in range(3):
            worker.run_pass(session, at(day, hour), settings)
        assert received(session, draft) == Counter(expected), day
    late = {("stc_officer", "remind_5"): 1, ("stc_officer", "remind_1"): 1, ("stc_officer", "overdue"): 1,
            ("stc_head", "escalate_head"): 1}
    for day in (date(2025, 12, 16), date(2025, 12, 16), date(2025, 12, 19)):  # T+1; 4 working days late
        worker.run_pass(session, at(day, 0), settings)
        assert received(session, draft) == Counter(late), day
    for day in (date(2025, 12, 22), date(2025, 12, 22), date(2025, 12, 23), date(2026, 1, 5)):  # 5 late and on
        worker.run_pass(session, at(day, 10), settings)
        assert received(session, draft) == Counter({**late, ("supervisor", "escalate_supervisor"): 1}), day
    kinds = Counter(session.scalars(select(AuditEvent.kind).where(AuditEvent.task_id == draft.id)))
    assert kinds["task_overdue"] == 1 and kinds["task_escalated"] == 2


def test_a_pass_reports_what_it_did_and_a_repeat_does_nothing(session, settings):
    open_small_cycle(session, ["STC", "SNV"])
    first = worker.run_pass(session, at(date(2025, 12, 8)), settings)
    assert (first.reminders, first.overdue, first.escalations, first.tasks) == (2, 0, 0, 2)
    assert worker.run_pass(session, at(date(2025, 12, 8), 15), settings).reminders == 0
    late = worker.run_pass(session, at(date(2025, 12, 16), 1), settings)
    assert (late.timers, late.reminders, late.overdue, late.escalations) == (1, 0, 2, 2)  # the report-deadline timer
    assert open_task(session, "consolidate").due_on is not None
    again = worker.run_pass(session, at(date(2025, 12, 16), 1), settings)
    assert (again.timers, again.overdue, again.escalations) == (0, 0, 0)


def test_reminders_name_the_deadline_its_source_and_link_to_the_task(session, settings):
    open_small_cycle(session, ["STC"])
    worker.run_pass(session, at(date(2025, 12, 8)), settings)
    note = session.scalar(select(Notification))
    assert note.title == "Sắp đến hạn: Lập báo cáo và tự đánh giá – Sở Tài chính"
    assert "Còn 5 ngày làm việc, hạn cuối 23:59 ngày 15/12/2025" in note.body
    assert "hạn theo hạn nộp báo cáo của kỳ đánh giá" in note.body and "camunda" not in note.body  # words, no jargon
    assert note.link == f"/tasks/{open_task(session, 'draft_report', 'STC').id}" and note.due_on == DUE


def test_a_step_received_inside_the_window_gets_only_the_later_reminder_and_deputies_get_it(session, settings):
    people = open_small_cycle(session, ["SNV"])
    tasks.complete_task(session, open_task(session, "draft_report", "SNV").id, people["snv_officer"],
                        report_payload(), at(date(2025, 11, 10)))
    approve = open_task(session, "approve_report", "SNV")
    assert approve.due_on == date(2025, 11, 13)  # 3 working days
    for day in (date(2025, 11, 10), date(2025, 11, 11), date(2025, 11, 12), date(2025, 11, 13)):
        worker.run_pass(session, at(day, 10), settings)
    assert received(session, approve) == Counter({("snv_head", "remind_1"): 1, ("snv_deputy", "remind_1"): 1})


def test_a_claimed_task_reminds_only_its_assignee(session, settings):
    people = open_small_cycle(session, ["STC"])
    other = users.create_user(session, "stc_officer2", "simulation-only", "Cán bộ thứ hai", [Role.AGENCY_OFFICER],
                              "STC")
    session.commit()
    draft = open_task(session, "draft_report", "STC")
    worker.run_pass(session, at(date(2025, 12, 8)), settings)
    assert received(session, draft) == Counter({("stc_officer", "remind_5"): 1, ("stc_officer2", "remind_5"): 1})
    tasks.claim(session, draft.id, other)
    worker.run_pass(session, at(date(2025, 12, 12)), settings)
    assert received(session, draft)[("stc_officer2", "remind_1")] == 1
    assert received(session, draft)[("stc_officer", "remind_1")] == 0
    assert people["stc_head"].id not in {n.user_id for n in session.scalars(select(Notification))}


def test_a_late_dic_step_escalates_to_the_head_of_dic_not_of_the_reporting_agency(session, settings):
    people = open_small_cycle(session, ["SNV", "STTTT"])
    submit_report(session, people, "SNV", date(2025, 11, 10))
    review = open_task(session, "review_report", "SNV")
    assert review.candidate_group == "dic_officer" and review.due_on == date(2025, 11, 17)
    worker.run_pass(session, at(date(2025, 11, 18)), settings)
    assert received(session, review) == Counter({("dic", "overdue"): 1, ("stttt_head", "escalate_head"): 1})


def test_a_worker_killed_mid_pass_loses_nothing_and_the_next_pass_finishes(session, settings, monkeypatch):
    open_small_cycle(session, ["STC", "SNV", "SCT"])
    real_create, calls = notifications.create, []

    def dies_on_the_second_batch(s, rows):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("worker killed")
        return real_create(s, rows)

    monkeypatch.setattr(notifications, "create", dies_on_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        worker.run_pass(session, at(date(2025, 12, 16)), {**settings, "WORKER_BATCH_SIZE": 1})
    session.rollback()
    assert sum(received(session).values()) == 2  # the first batch (one task: overdue + head) committed
    monkeypatch.undo()
    counts = worker.run_pass(session, at(date(2025, 12, 16)), {**settings, "WORKER_BATCH_SIZE": 1})
    assert (counts.overdue, counts.escalations) == (2, 2)
    assert set(received(session).values()) == {1} and len(received(session)) == 6
    assert session.scalar(select(func.count()).where(AuditEvent.kind == "task_overdue")) == 3


def test_a_timer_the_engine_cannot_fire_does_not_silence_the_reminders(session, settings, monkeypatch):
    open_small_cycle(session, ["STC"])

    def broken(_session, _now):
        raise EngineError("Biểu thức hạn không hợp lệ")

    monkeypatch.setattr(cycles, "fire_due", broken)
    counts = worker.run_pass(session, at(date(2025, 12, 8)), settings)
    assert counts.reminders == 1 and counts.errors == ["timers: Biểu thức hạn không hợp lệ"]


class FakeSMTP:
    """Records what would have gone to the mail server; `fail` makes sending raise, as a server that is down."""

    sent: list = []
    fail = False

    def __init__(self, host, port, timeout):
        self.log = [("connect", host, port)]

    def starttls(self):
        self.log.append(("starttls",))

    def login(self, username, password):
        self.log.append(("login", username))

    def send_message(self, message):
        if FakeSMTP.fail:
            raise notifications.smtplib.SMTPServerDisconnected("down")
        FakeSMTP.sent.append((self.log, message))

    def quit(self):
        pass


def test_the_digest_goes_through_smtp_when_a_server_is_set_and_waits_when_it_is_down(session, settings,
                                                                                     monkeypatch):
    people = open_small_cycle(session, ["STC", "SNV"])
    people["stc_officer"].email, people["snv_officer"].email = "stc@bacninh.gov.vn", "snv@bacninh.gov.vn"
    session.commit()
    monkeypatch.setattr(notifications.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(FakeSMTP, "sent", [])
    smtp = {**settings, "MAIL_SERVER": "smtp.bacninh.gov.vn", "MAIL_PORT": 587, "MAIL_USE_TLS": True,
            "MAIL_USERNAME": "worker", "MAIL_PASSWORD": "secret"}

    monkeypatch.setattr(FakeSMTP, "fail", True)
    assert worker.run_pass(session, at(date(2025, 12, 8)), smtp).digests == 0
    assert session.scalar(select(func.count()).where(Notification.emailed_at.is_not(None))) == 0  # kept
    monkeypatch.setattr(FakeSMTP, "fail", False)
    assert worker.run_pass(session, at(date(2025, 12, 8), 10), smtp).digests == 2
    assert worker.run_pass(session, at(date(2025, 12, 8), 11), smtp).digests == 0
    assert sorted(m["To"].addresses[0].addr_spec for _log, m in FakeSMTP.sent) == ["snv@bacninh.gov.vn",
                                                                                   "stc@bacninh.gov.vn"]
    log, message = FakeSMTP.sent[0]
    assert log[:3] == [("connect", "smtp.bacninh.gov.vn", 587), ("starttls",), ("login", "worker")]
    assert "https://cntt.bacninh.gov.vn/tasks/" in message.get_content()
    assert not Path(settings["MAIL_OUTBOX_DIR"]).exists()  # sent, not written to the development outbox


@pytest.fixture
def shared_engine(db_engine, tmp_path):
    """A database two threads really share: PostgreSQL when configured, else a SQLite file (not the in-memory one)."""
    if db_engine.url.get_backend_name() == "postgresql":
        yield db_engine
        return
    engine = create_engine(f"sqlite:///{tmp_path / 'race.sqlite'}", connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record):
        cursor = connection.cursor()
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def race(engine, now, settings, workers: int = 2) -> list[worker.PassCounts]:
    """Run WORKERS passes at the same moment, each in its own thread and session; re-raise what any raised."""
    barrier, results, errors = threading.Barrier(workers), [], []

    def work():
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                results.append(worker.run_pass(own, now, settings))
            except BaseException as error:  # noqa: BLE001 - reported below, in the test's thread
                errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert len(results) == workers
    return results


def test_two_workers_racing_never_send_the_same_notification_or_digest_twice(shared_engine, settings):
    codes = ["STC", "SNV", "SCT", "STP", "SYT", "SXD"]
    with Session(shared_engine, expire_on_commit=False) as setup:
        people = open_small_cycle(setup, codes)
        for code in codes:
            for role in ("officer", "head"):
                people[f"{code.lower()}_{role}"].email = f"{code.lower()}_{role}@bacninh.gov.vn"
        setup.commit()
    racing = {**settings, "WORKER_BATCH_SIZE": 1}

    early = race(shared_engine, at(date(2025, 12, 8)), racing)
    assert sum(r.reminders for r in early) == 6
    assert sum(r.digests for r in early) == 6  # one e-mail per officer, from one worker or the other
    late = race(shared_engine, at(date(2025, 12, 16), 9), racing)
    assert sum(r.timers for r in late) == 1  # the report-deadline timer fired once
    assert sum(r.overdue for r in late) == 6 and sum(r.escalations for r in late) == 6
    assert sum(r.digests for r in late) == 12  # a new day: officers (overdue) and heads (escalation)

    with Session(shared_engine) as check:
        got = received(check)
        assert set(got.values()) == {1} and len(got) == 18
        assert sum(r.reminders + r.overdue + r.escalations for r in early + late) == sum(got.values())
        assert check.scalar(select(func.count()).where(AuditEvent.kind == "task_overdue")) == 6
        assert check.scalar(select(func.count()).where(AuditEvent.kind == "timer_fired")) == 1
        assert check.scalar(select(func.count()).where(HumanTask.step_id == "consolidate")) == 1
        assert check.scalar(select(func.count()).where(Notification.emailed_at.is_(None))) == 0


# --- a supervisor moves a deadline -----------------------------------------------------------------------------------


def test_a_supervisor_moves_a_deadline_with_a_reason_it_is_audited_and_reminders_follow(session, settings):
    people = open_small_cycle(session, ["STC", "SNV"])
    draft = open_task(session, "draft_report", "STC")
    moved = deadlines.change_due_date(session, draft.id, date(2025, 12, 21), "Đơn vị sáp nhập, cần thêm thời gian",
                                      people["supervisor"], at(date(2025, 12, 1)))
    assert moved.due_on == date(2025, 12, 22)  # Sunday 21/12 rolls to Monday
    assert moved.due_source.startswith("điều chỉnh bởi Giám sát tiến độ")
    change = session.scalar(select(AuditEvent).where(AuditEvent.kind == "due_date_changed"))
    assert change.actor_id == people["supervisor"].id and change.task_id == draft.id
    assert change.data == {"from": "2025-12-15", "to": "2025-12-22", "requested": "2025-12-21",
                           "reason": "Đơn vị sáp nhập, cần thêm thời gian"}
    assert received(session, draft) == Counter({("stc_officer", "due_changed"): 1})

    worker.run_pass(session, at(date(2025, 12, 8)), settings)  # T−5 of the old date: nothing for STC any more
    assert ("stc_officer", "remind_5") not in received(session, draft)
    worker.run_pass(session, at(date(2025, 12, 16)), settings)  # T−5 of the new date; SNV is late, STC is not
    assert received(session, draft) == Counter({("stc_officer", "due_changed"): 1, ("stc_officer", "remind_5"): 1})
    assert session.scalar(select(Notification.due_on).where(Notification.task_id == draft.id,
                                                            Notification.kind == "remind_5")) == date(2025, 12, 22)
    snv = open_task(session, "draft_report", "SNV")
    assert received(session, snv)[("snv_officer", "overdue")] == 1


def test_a_deadline_change_needs_a_reason_and_a_date_not_in_the_past(session):
    people = open_small_cycle(session, ["STC"])
    draft = open_task(session, "draft_report", "STC")
    with pytest.raises(InvalidInput) as error:
        deadlines.change_due_date(session, draft.id, date(2025, 12, 22), "  ", people["supervisor"],
                                  at(date(2025, 12, 1)))
    assert set(error.value.fields) == {"reason"}
    with pytest.raises(InvalidInput) as error:
        deadlines.change_due_date(session, draft.id, date(2025, 11, 30), "lý do", people["supervisor"],
                                  at(date(2025, 12, 1)))
    assert set(error.value.fields) == {"due_on"}
    session.refresh(draft)
    assert draft.due_on == DUE
    assert session.scalar(select(func.count()).where(AuditEvent.kind == "due_date_changed")) == 0


def test_an_agency_user_cannot_change_a_deadline(session):
    people = open_small_cycle(session, ["STC"])
    draft = open_task(session, "draft_report", "STC")
    for username in ("stc_officer", "stc_head", "dic"):
        with pytest.raises(NotAllowed):
            deadlines.change_due_date(session, draft.id, date(2025, 12, 22), "lý do", people[username])
    session.refresh(draft)
    assert draft.due_on == DUE


def test_the_deadline_of_a_finished_task_cannot_change(session):
    people = open_small_cycle(session, ["STC"])
    submit_report(session, people, "STC")
    done = session.scalar(select(HumanTask).where(HumanTask.step_id == "draft_report"))
    assert done.state == TaskState.COMPLETED
    with pytest.raises(Conflict):
        deadlines.change_due_date(session, done.id, date(2025, 12, 22), "lý do", people["supervisor"])
