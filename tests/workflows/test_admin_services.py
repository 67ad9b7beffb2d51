"""Administration use cases (workflows.admin): all-or-nothing, audited, for administrators only."""
from __future__ import annotations

import pytest
from factories import setup_people
from sqlalchemy import select

from workflows import admin
from workflows.errors import InvalidInput, NotAllowed, NotFound
from workflows.models import AuditEvent, User


@pytest.fixture
def people(session):
    return setup_people(session, ["STC"])


def test_creating_a_user_is_audited_and_a_bad_form_leaves_nothing(session, people):
    boss = people["admin"]
    with pytest.raises(InvalidInput) as error:
        admin.create_user(session, boss, "nv.moi", "short", "", "not-an-email", ["nonsense"], None)
    assert set(error.value.fields) == {"password", "full_name", "email", "roles"}
    assert session.scalar(select(User).where(User.username == "nv.moi")) is None

    user = admin.create_user(session, boss, "nv.moi", "mat-khau-dai", "Nhân viên Mới", "", ["agency_officer"],
                             "STC")
    event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "user_created"))
    assert event.actor_id == boss.id and event.data["user"] == "nv.moi" and event.data["unit_code"] == "STC"
    assert admin.get_user(session, user.id).unit_code == "STC"


def test_only_administrators_change_users_and_unknown_ids_are_not_found(session, people):
    officer = next(u for u in people.values() if "admin" not in {r.value for r in u.role_set})
    with pytest.raises(NotAllowed):
        admin.set_active(session, officer, people["admin"], False)
    with pytest.raises(InvalidInput):
        admin.set_active(session, people["admin"], people["admin"], False)  # never lock oneself out
    with pytest.raises(NotFound):
        admin.get_user(session, 987654)
