"""The working-day calendar (docs/RULES.md, Working-day calendar): Tết and Quốc khánh across years, deadlines,
overrides."""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from factories import setup_people
from sqlalchemy import select

from workflows import deadlines
from workflows.calendar import LOCAL_TZ, WorkingCalendar, end_of_day, local_today
from workflows.errors import InvalidInput, NotAllowed, NotFound
from workflows.models import AuditEvent, CalendarDay

PLAIN = WorkingCalendar()


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


@pytest.mark.parametrize(("first", "last", "before", "after"), [
    (date(2024, 2, 8), date(2024, 2, 14), date(2024, 2, 7), date(2024, 2, 15)),  # Tết Giáp Thìn: 10/02/2024
    (date(2025, 1, 27), date(2025, 2, 1), date(2025, 1, 24), date(2025, 2, 3)),  # Tết Ất Tỵ: 29/01/2025
    (date(2026, 2, 16), date(2026, 2, 20), date(2026, 2, 13), date(2026, 2, 23)),  # Tết Bính Ngọ: 17/02/2026
])
def test_tet_is_off_and_the_days_around_it_are_working_days(first, last, before, after):
    assert not any(PLAIN.is_working_day(d) for d in days(first, last))
    assert PLAIN.is_working_day(before) and PLAIN.is_working_day(after)
    assert PLAIN.add_working_days(before, 1) == after
    assert PLAIN.working_days_between(before, after) == 1


@pytest.mark.parametrize(("off", "working"), [
    ([date(2024, 9, 2), date(2024, 9, 3)], [date(2024, 8, 30), date(2024, 9, 4)]),
    ([date(2025, 9, 1), date(2025, 9, 2)], [date(2025, 8, 29), date(2025, 9, 3)]),
    ([date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)], [date(2026, 8, 28), date(2026, 9, 3)]),
])
def test_quoc_khanh_and_its_adjacent_day_are_off(off, working):
    assert [PLAIN.is_working_day(d) for d in off] == [False] * len(off)
    assert all(PLAIN.is_working_day(d) for d in working)


def test_the_other_labour_code_holidays_are_off():
    for day in (date(2025, 1, 1), date(2025, 4, 7), date(2025, 4, 30), date(2025, 5, 1),  # Hùng Kings: 10/3 lunar
                date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1)):  # 26/04/2026 is a Sunday: off on Monday
        assert not PLAIN.is_working_day(day), day


def test_working_days_in_a_year_leave_out_weekends_and_holidays():
    assert len([d for d in days(date(2026, 2, 1), date(2026, 2, 28)) if PLAIN.is_working_day(d)]) == 15


# --- deadline arithmetic ---------------------------------------------------------------------------------------------


def test_n_working_days_start_the_day_after_a_friday_trigger():
    friday = date(2025, 12, 12)
    assert PLAIN.add_working_days(friday, 1) == date(2025, 12, 15)  # Monday
    assert PLAIN.add_working_days(friday, 5) == date(2025, 12, 19)


def test_a_trigger_on_a_holiday_or_a_weekend_counts_from_the_next_working_day():
    assert PLAIN.add_working_days(date(2026, 2, 17), 1) == date(2026, 2, 23)  # Tết
    assert PLAIN.add_working_days(date(2026, 2, 17), 3) == date(2026, 2, 25)
    assert PLAIN.add_working_days(date(2025, 12, 13), 1) == date(2025, 12, 15)  # Saturday


def test_a_period_across_tet_skips_the_whole_holiday():
    assert PLAIN.add_working_days(date(2026, 2, 10), 4) == date(2026, 2, 23)  # Wed 11, Thu 12, Fri 13, Mon 23
    assert PLAIN.add_working_days(date(2026, 2, 10), 5) == date(2026, 2, 24)
    assert PLAIN.working_days_between(date(2026, 2, 10), date(2026, 2, 23)) == 4


def test_zero_working_days_is_the_trigger_day_itself():
    assert PLAIN.add_working_days(date(2025, 12, 15), 0) == date(2025, 12, 15)


def test_a_calendar_date_on_a_day_off_rolls_to_the_next_working_day():
    assert PLAIN.roll_forward(date(2025, 12, 14)) == date(2025, 12, 15)  # Sunday → Monday
    assert PLAIN.roll_forward(date(2026, 2, 15)) == date(2026, 2, 23)  # Sunday before Tết → after Tết
    assert PLAIN.roll_forward(date(2026, 4, 30)) == date(2026, 5, 4)  # 30/4 and 1/5 fall on Thu, Fri
    assert PLAIN.roll_forward(date(2025, 12, 15)) == date(2025, 12, 15)  # a working day stays


def test_working_days_between_counts_after_start_up_to_end_and_is_signed():
    assert PLAIN.working_days_between(date(2025, 12, 15), date(2025, 12, 15)) == 0
    assert PLAIN.working_days_between(date(2025, 12, 15), date(2025, 12, 22)) == 5
    assert PLAIN.working_days_between(date(2025, 12, 22), date(2025, 12, 15)) == -5
    assert PLAIN.working_days_between(date(2025, 12, 12), date(2025, 12, 14)) == 0  # Friday → Sunday


def test_a_deadline_ends_at_midnight_local_time():
    due = date(2025, 12, 15)
    assert end_of_day(due) == datetime(2025, 12, 15, 23, 59, 59, tzinfo=LOCAL_TZ)
    assert local_today(datetime(2025, 12, 15, 16, 59, tzinfo=UTC)) == due  # 23:59 in Hà Nội
    assert local_today(datetime(2025, 12, 15, 17, 0, tzinfo=UTC)) == date(2025, 12, 16)


# --- overrides -------------------------------------------------------------------------------------------------------


def test_a_swapped_working_saturday_counts_and_a_compensatory_day_does_not():
    work = WorkingCalendar(days_off={date(2026, 1, 5)}, extra_workdays={date(2025, 4, 26)})
    assert work.is_working_day(date(2025, 4, 26))  # Saturday worked in exchange for Friday 2/5/2025
    assert work.add_working_days(date(2025, 4, 25), 1) == date(2025, 4, 26)
    assert not work.is_working_day(date(2026, 1, 5))
    assert work.add_working_days(date(2026, 1, 2), 1) == date(2026, 1, 6)


@pytest.fixture
def people(session):
    return setup_people(session, ["STC"])


def test_an_administrators_override_applies_at_once_and_is_audited(session, people):
    admin = people["admin"]
    saturday, monday = date(2026, 10, 10), date(2026, 10, 12)
    assert not WorkingCalendar.cached(session).is_working_day(saturday)
    deadlines.add_override(session, saturday, "swap_workday", "Làm bù cho ngày 12/10", "Thông báo 1/TB-TEST", admin)
    deadlines.add_override(session, monday, "swap_off", "Nghỉ hoán đổi", "Thông báo 1/TB-TEST", admin)
    work = WorkingCalendar.cached(session)
    assert work.is_working_day(saturday) and not work.is_working_day(monday)
    assert work.add_working_days(date(2026, 10, 9), 2) == date(2026, 10, 13)  # Sat 10, (Mon 12 off), Tue 13
    events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "calendar_day_added")).all()
    assert [e.data["day"] for e in events] == ["2026-10-10", "2026-10-12"]
    assert events[0].actor_id == admin.id and "Thông báo 1/TB-TEST" in events[0].data["source_doc"]

    deadlines.remove_override(session, monday, admin)
    assert WorkingCalendar.cached(session).is_working_day(monday)
    assert session.scalar(select(AuditEvent.message).where(AuditEvent.kind == "calendar_day_removed"))


def test_an_override_needs_a_name_a_source_and_a_sensible_day(session, people):
    admin = people["admin"]
    with pytest.raises(InvalidInput) as error:
        deadlines.add_override(session, None, "nonsense", " ", "", admin)
    assert set(error.value.fields) == {"day", "kind", "name_vi", "source_doc"}
    with pytest.raises(InvalidInput) as error:
        deadlines.add_override(session, date(2025, 12, 15), "swap_workday", "x", "y", admin)  # already a workday
    assert "day" in error.value.fields
    with pytest.raises(InvalidInput) as error:
        deadlines.add_override(session, date(2026, 2, 17), "holiday", "Tết", "y", admin)  # already off
    assert "day" in error.value.fields
    deadlines.add_override(session, date(2025, 12, 31), "holiday", "Nghỉ thêm", "QĐ 1", admin)
    with pytest.raises(InvalidInput):
        deadlines.add_override(session, date(2025, 12, 31), "holiday", "Nghỉ thêm", "QĐ 1", admin)
    assert session.scalar(select(CalendarDay.kind).where(CalendarDay.day == date(2025, 12, 31))) == "holiday"


def test_only_an_administrator_edits_the_calendar(session, people):
    with pytest.raises(NotAllowed):
        deadlines.add_override(session, date(2025, 12, 31), "holiday", "x", "y", people["supervisor"])
    with pytest.raises(NotAllowed):
        deadlines.remove_override(session, date(2025, 12, 31), people["stc_officer"])
    with pytest.raises(NotFound):
        deadlines.remove_override(session, date(2025, 12, 31), people["admin"])


def test_the_year_view_lists_statutory_days_and_overrides_with_their_source(session, people):
    deadlines.add_override(session, date(2026, 1, 2), "compensatory", "Nghỉ bù Tết Dương lịch", "TB 2/TB",
                           people["admin"])
    year = deadlines.year_calendar(session, 2026)
    by_day = {e.day: e for e in year.entries}
    assert by_day[date(2026, 2, 17)].name == "Tết Nguyên Đán" and by_day[date(2026, 2, 17)].kind == "statutory"
    assert not by_day[date(2026, 9, 2)].working
    assert by_day[date(2026, 1, 2)].is_override and by_day[date(2026, 1, 2)].source == "TB 2/TB"
    assert year.confirmed and not deadlines.year_calendar(session, 2027).confirmed
    assert year.working_days == sum(1 for d in days(date(2026, 1, 1), date(2026, 12, 31))
                                    if WorkingCalendar.load(session).is_working_day(d))


def test_each_database_keeps_its_own_cached_calendar(session, people):
    # The cache is keyed by database: another database's overrides never answer for this one's.
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import StaticPool

    from workflows.models import Base

    saturday = date(2026, 10, 10)
    deadlines.add_override(session, saturday, "swap_workday", "Làm bù", "Thông báo 1/TB-TEST", people["admin"])
    assert WorkingCalendar.cached(session).is_working_day(saturday)
    other_engine = create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(other_engine)
    with Session(other_engine) as other:
        assert not WorkingCalendar.cached(other).is_working_day(saturday)
    other_engine.dispose()


def test_statutory_swaps_come_from_the_holidays_package_public_api():
    work = WorkingCalendar()
    assert work.is_working_day(date(2014, 12, 27))  # worked for the 2015 Tết bridge day, in the year before
    assert work.is_working_day(date(2025, 4, 26))  # worked for Friday 2 May 2025
    assert not work.is_working_day(date(2025, 5, 2))


def test_the_holiday_tables_are_imported_with_the_app_not_on_the_first_deadline():
    # A fresh interpreter: importing the calendar (as a server process does at start) imports Vietnam's holidays, so
    # the first request to compute a deadline does not wait for the package's ~280 country modules (75 ms).
    probe = ("import sys; import workflows.calendar as c; imported = 'holidays.countries.vietnam' in sys.modules; "
             "print(imported, c.WorkingCalendar().add_working_days(__import__('datetime').date(2026, 4, 24), 5))")
    imported, deadline = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                                        cwd=Path(__file__).resolve().parents[2]).stdout.split()
    assert imported == "True"
    # 5 working days after Friday 24 April 2026: Hùng Kings' day (Sunday 26) is off on Monday 27; 30/4 and 1/5 are off
    assert deadline == "2026-05-06"
