"""Issue 12, domain side: sign-in throttling that parallel guesses cannot outrun, and the password policy."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from factories import setup_people
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from testdb import make_engine

from workflows import accounts, passwords, users
from workflows.errors import InvalidInput
from workflows.models import Base, LoginThrottle, User, utcnow

PASSWORD = "simulation-only"


@pytest.fixture
def shared_engine(tmp_path):
    """A database several connections share: a file on SQLite, TEST_DATABASE_URL's database on PostgreSQL."""
    engine = make_engine()
    if engine.url.get_backend_name() == "sqlite":
        engine.dispose()
        from sqlalchemy import create_engine

        engine = create_engine(f"sqlite:///{tmp_path / 'shared.sqlite'}", connect_args={"timeout": 30})
        event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA journal_mode=WAL"))
        Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _count_checks(monkeypatch) -> list[str]:
    checked: list[str] = []
    real = users.check_password

    def counting(stored: str, password: str) -> bool:
        checked.append(password)
        return real(stored, password)

    monkeypatch.setattr(users, "check_password", counting)
    return checked


def test_forty_parallel_wrong_passwords_get_at_most_five_checks(shared_engine, monkeypatch):
    with Session(shared_engine) as setup:
        setup_people(setup, ["STC"])
    checked = _count_checks(monkeypatch)
    now = utcnow()
    barrier = threading.Barrier(40)
    answers: list[str] = []

    def guess(n: int) -> None:
        with Session(shared_engine) as own:
            barrier.wait()
            try:
                accounts.authenticate(own, "stc_officer", f"doan-sai-{n}", f"10.0.0.{n}", now=now)
            except InvalidInput as error:
                answers.append(str(error.message))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 40 and set(answers) == {"Tên đăng nhập hoặc mật khẩu không đúng."}
    assert len(checked) <= accounts.FREE_ATTEMPTS


def test_one_address_guessing_many_names_is_slowed_down_too(session, monkeypatch):
    setup_people(session, ["STC"])
    checked = _count_checks(monkeypatch)
    now = utcnow()
    for n in range(20):
        with pytest.raises(InvalidInput):
            accounts.authenticate(session, f"nguoi_{n}", "doan-sai", "10.9.9.9", now=now)
    assert len(checked) == accounts.FREE_ATTEMPTS
    # another address is not affected, and the wait passes
    assert accounts.authenticate(session, "stc_officer", PASSWORD, "10.1.1.1", now=now).username == "stc_officer"
    later = now + timedelta(seconds=2)
    assert accounts.authenticate(session, "stc_officer", PASSWORD, "10.9.9.9", now=later).username == "stc_officer"


def test_five_wrong_passwords_cost_the_owner_a_second_not_a_quarter_hour(session):
    setup_people(session, ["STC"])
    now = utcnow()
    for n in range(5):
        with pytest.raises(InvalidInput):
            accounts.authenticate(session, "stc_officer", "doan-sai", f"10.6.6.{n}", now=now)
    with pytest.raises(InvalidInput):
        accounts.authenticate(session, "stc_officer", PASSWORD, "10.1.1.1", now=now)
    user = accounts.authenticate(session, "stc_officer", PASSWORD, "10.1.1.1", now=now + timedelta(seconds=1))
    assert user.username == "stc_officer"
    assert session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == "user:stc_officer")) == 0


def test_the_wait_doubles_with_each_further_failure_up_to_fifteen_minutes():
    assert [accounts._delay(n).total_seconds() for n in (4, 5, 6, 7, 8)] == [0, 1, 2, 4, 8]
    assert accounts._delay(40) == timedelta(minutes=15)


def test_unknown_names_cost_a_password_hash_and_get_the_same_answer(session, monkeypatch):
    setup_people(session, ["STC"])
    checked = _count_checks(monkeypatch)
    answers = []
    for name in ("stc_officer", "khong_ton_tai"):
        with pytest.raises(InvalidInput) as caught:
            accounts.authenticate(session, name, "doan-sai", "10.2.2.2")
        answers.append((str(caught.value.message), caught.value.fields.keys()))
    assert len(checked) == 2 and answers[0] == answers[1]


def test_an_inactive_account_gets_the_same_answer_even_with_its_password(session):
    people = setup_people(session, ["STC"])
    people["stc_officer"].is_active = False
    session.commit()
    with pytest.raises(InvalidInput, match="Tên đăng nhập hoặc mật khẩu không đúng."):
        accounts.authenticate(session, "stc_officer", PASSWORD, "10.3.3.3")


def test_a_password_change_moves_the_session_version_on(session):
    people = setup_people(session, ["STC"])
    user = people["stc_officer"]
    old_id = user.get_id()
    assert accounts.user_for_session(session, old_id) is user
    accounts.reset_password(session, user, "mot-cau-that-dai")
    assert user.get_id() != old_id
    assert accounts.user_for_session(session, old_id) is None
    assert accounts.user_for_session(session, user.get_id()) is user
    assert accounts.user_for_session(session, "1") is None and accounts.user_for_session(session, "x:y") is None


@pytest.mark.parametrize(("password", "problem"), [
    ("ngan-qua", "ít nhất 10 ký tự"),
    ("password123", "quá phổ biến"),
    ("Qwertyuiop!", "quá phổ biến"),
    ("1234567890", "quá phổ biến"),
    ("aaaaaaaaaaaa", "quá phổ biến"),
    ("stc_officer-2025", "tên đăng nhập"),
    ("nguyenvanan-2025", "tên đăng nhập, họ tên"),
    ("bacninh@2025xyz", "tên cơ quan"),
])
def test_the_password_policy_names_what_is_wrong(password, problem):
    found = passwords.password_problem(password, "stc_officer", "Nguyễn Văn An")
    assert found is not None and problem in str(found)


def test_a_long_uncommon_password_passes_and_users_are_created_with_the_policy(session):
    assert passwords.password_problem("ngựa-ô-qua-cầu-tre", "stc_officer", "Nguyễn Văn An") is None
    with pytest.raises(InvalidInput) as caught:
        users.create_user(session, "tran_thi_b", "tranthib-123", "Trần Thị B", [])
    assert "password" in caught.value.fields
    assert session.scalar(select(User).where(User.username == "tran_thi_b")) is None


def test_demo_accounts_keep_the_published_demo_password(session):
    from workflows import demo

    demo.seed(session, password="demo12345")
    assert accounts.authenticate(session, "stc_officer", "demo12345", "10.4.4.4").username == "stc_officer"


@pytest.mark.parametrize("raw", [2**70, str(2**70), -(2**64), "99999999999999999999"])
def test_a_long_form_field_refuses_numbers_beyond_a_java_long(raw):
    from workflows import engine, forms

    field = engine.FormFieldSpec("it_staff_count", "Số cán bộ", "long", None, {}, {}, [])
    with pytest.raises(InvalidInput) as caught:
        forms.validate([field], {"it_staff_count": raw}, {})
    assert "Số quá lớn" in str(caught.value.fields["it_staff_count"])
    assert forms.validate([field], {"it_staff_count": str(2**63 - 1)}, {}) == {"it_staff_count": 2**63 - 1}
