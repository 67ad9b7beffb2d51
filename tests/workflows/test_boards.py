"""The supervisors' boards against simulated cycles whose late steps are known, counted by hand in working days."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from factories import at, open_small_cycle, open_task, report_payload

from workflows import boards, cycles, demo, permissions, settings, tasks, users, year_board
from workflows.boards import OverdueQuery
from workflows.calendar import LOCAL_TZ, WorkingCalendar
from workflows.errors import NotAllowed, NotFound
from workflows.models import Role, User
from workflows.year_board import CellState

CODES = ["SNV", "STC", "SYT", "TTT"]
# December 2025: Mon 15 (report deadline), Tue 16, Wed 17, Thu 18, Fri 19, Sat 20, Sun 21, Mon 22, Tue 23, Wed 24.
TODAY = date(2025, 12, 24)
APPROVE = {"head_decision": "approve"}
ACCEPT = {"dic_decision": "accept"}


def _do(session, people: dict[str, User], who: str, step: str, unit: str | None, data: dict, day: date) -> None:
    tasks.complete_task(session, open_task(session, step, unit).id, people[who], data, at(day))


def known_late_cycle(session) -> dict[str, User]:
    """2024 for STC and TTT, then 2025 for four agencies, with every late step known in advance.

    2024 (reports due Mon 16/12/2024, the 15th being a Sunday): STC on time throughout; TTT drafts one working day
    late (Tue 17/12) and is approved and accepted on time. The timer pass of 17/12 opened consolidation, left open
    (very late by December 2025).

    2025 (opened Sun 02/11/2025, reports due Mon 15/12/2025):
    - STC: drafted and approved on Mon 10/11; DIC's review, due Mon 17/11, is done Tue 18/11: one working day late.
    - SNV: drafted Fri 12/12, returned by the head the same day with the year's revision period set to one working
      day (due Mon 15/12); redrafted Tue 16/12 (one day late, second round);
      the second approval, due Fri 19/12, is left open.
    - TTT: drafted Wed 17/12 (two days late); the approval, due Mon 22/12, is claimed by the head and left open.
    - SYT: nothing at all; its draft has waited since the opening.
    - The report deadline passes (timer pass at 01:00 on Tue 16/12): consolidation opens for the province.
    """
    people = open_small_cycle(session, ["STC", "TTT"], year=2024)
    _do(session, people, "stc_officer", "draft_report", "STC", report_payload(), date(2024, 11, 11))
    _do(session, people, "stc_head", "approve_report", "STC", APPROVE, date(2024, 11, 11))
    _do(session, people, "dic", "review_report", "STC", ACCEPT, date(2024, 11, 12))
    cycles.fire_due(session, at(date(2024, 12, 17), 1))  # the worker's pass after the deadline: consolidation opens
    _do(session, people, "ttt_officer", "draft_report", "TTT", report_payload(), date(2024, 12, 17))
    _do(session, people, "ttt_head", "approve_report", "TTT", APPROVE, date(2024, 12, 17))
    _do(session, people, "dic", "review_report", "TTT", ACCEPT, date(2024, 12, 18))

    people = open_small_cycle(session, CODES, year=2025)
    _do(session, people, "stc_officer", "draft_report", "STC", report_payload(), date(2025, 11, 10))
    _do(session, people, "stc_head", "approve_report", "STC", APPROVE, date(2025, 11, 10))
    _do(session, people, "dic", "review_report", "STC", ACCEPT, date(2025, 11, 18))
    _do(session, people, "snv_officer", "draft_report", "SNV", report_payload(), date(2025, 12, 12))
    settings.set_setting(session, 2025, "revision_wd", 1)
    session.commit()
    _do(session, people, "snv_head", "approve_report", "SNV",
        {"head_decision": "return", "head_comment": "Bổ sung minh chứng Mục 2."}, date(2025, 12, 12))
    cycles.fire_due(session, at(date(2025, 12, 16), 1))
    _do(session, people, "snv_officer", "draft_report", "SNV", report_payload(), date(2025, 12, 16))
    _do(session, people, "ttt_officer", "draft_report", "TTT", report_payload(), date(2025, 12, 17))
    tasks.claim(session, open_task(session, "approve_report", "TTT").id, people["ttt_head"])
    return people


@pytest.fixture
def people(session):
    return known_late_cycle(session)


def overdue(session, viewer: User, today: date = TODAY, **filters) -> list[tuple]:
    rows = boards.overdue_rows(session, viewer, OverdueQuery(**filters), today)
    return [(r.year, r.unit_code, r.step_id, r.days_late) for r in rows]


# --- the overdue board ----------------------------------------------------------------------------------------------


def test_the_overdue_board_counts_working_days_late_and_sorts_the_most_late_first(session, people):
    supervisor = people["supervisor"]
    assert overdue(session, supervisor, year=2025) == [
        (2025, "SYT", "draft_report", 7),  # due Mon 15/12: Tue 16 … Wed 24, less the weekend
        (2025, "SNV", "approve_report", 3),  # due Fri 19/12: Mon 22, Tue 23, Wed 24
        (2025, "TTT", "approve_report", 2),  # due Mon 22/12: Tue 23, Wed 24
    ]
    everything = overdue(session, supervisor)
    # 2024's consolidation, never done, is the most late of all; the province's 2025 consolidation is not due yet
    assert everything[0][:3] == (2024, None, "consolidate") and everything[0][3] > 200
    assert everything[1:] == overdue(session, supervisor, year=2025)


def test_a_weekend_adds_no_working_day_of_lateness(session, people):
    supervisor = people["supervisor"]
    friday, saturday, sunday, monday = (date(2025, 12, d) for d in (19, 20, 21, 22))
    assert overdue(session, supervisor, friday, year=2025) == [(2025, "SYT", "draft_report", 4)]
    # SNV's approval was due on Friday: past its deadline on Saturday, but no working day late yet
    weekend = [(2025, "SYT", "draft_report", 4), (2025, "SNV", "approve_report", 0)]
    assert overdue(session, supervisor, saturday, year=2025) == weekend
    assert overdue(session, supervisor, sunday, year=2025) == weekend
    # TTT's approval is due on Monday itself, so it is not late until Tuesday
    assert overdue(session, supervisor, monday, year=2025) == [(2025, "SYT", "draft_report", 5),
                                                               (2025, "SNV", "approve_report", 1)]
    assert overdue(session, supervisor, saturday, year=2025, min_days_late=1) == [(2025, "SYT", "draft_report", 4)]


def test_the_overdue_filters_narrow_by_step_agency_role_and_lateness(session, people):
    supervisor = people["supervisor"]
    assert overdue(session, supervisor, year=2025, min_days_late=3) == [(2025, "SYT", "draft_report", 7),
                                                                       (2025, "SNV", "approve_report", 3)]
    assert overdue(session, supervisor, year=2025, min_days_late=4) == [(2025, "SYT", "draft_report", 7)]
    assert overdue(session, supervisor, year=2025, min_days_late=8) == []
    assert overdue(session, supervisor, step="draft_report") == [(2025, "SYT", "draft_report", 7)]
    assert overdue(session, supervisor, unit_code="TTT") == [(2025, "TTT", "approve_report", 2)]
    assert [r[:3] for r in overdue(session, supervisor, role="dic_officer")] == [(2024, None, "consolidate")]
    assert overdue(session, supervisor, role="agency_head") == [(2025, "SNV", "approve_report", 3),
                                                                (2025, "TTT", "approve_report", 2)]
    assert overdue(session, supervisor, year=2024, role="agency_head") == []


def test_the_overdue_board_says_who_holds_each_task_and_since_when(session, people):
    rows = {r.unit_code: r for r in boards.overdue_rows(session, people["dic_leader"], OverdueQuery(year=2025), TODAY)}
    assert rows["TTT"].holder == people["ttt_head"].full_name  # claimed by the head
    assert rows["SNV"].holder == "Thủ trưởng cơ quan" and rows["SNV"].assignee is None  # waits for the role
    assert rows["SYT"].holder == "Cán bộ chuyên trách CNTT"
    assert rows["SYT"].unit_name == "Sở Y tế" and rows["SYT"].step_name == "Lập báo cáo và tự đánh giá"
    assert boards.local_date(rows["SYT"].created_at) == date(2025, 11, 2)  # waiting since the opening
    assert boards.local_date(rows["SNV"].created_at) == date(2025, 12, 16)  # the second round
    assert rows["SNV"].due_on == date(2025, 12, 19)


def test_the_overdue_board_pages_without_changing_the_order(session, people):
    supervisor = people["supervisor"]
    first = boards.overdue_page(session, supervisor, OverdueQuery(per_page=2), TODAY)
    second = boards.overdue_page(session, supervisor, OverdueQuery(per_page=2, page=2), TODAY)
    assert (first.total, first.pages, second.page) == (4, 2, 2)
    paged = [(r.year, r.unit_code, r.days_late) for r in first.rows + second.rows]
    assert paged == [(r[0], r[1], r[3]) for r in overdue(session, supervisor)]
    beyond = boards.overdue_page(session, supervisor, OverdueQuery(per_page=2, page=99), TODAY)
    assert beyond.page == 2 and beyond.query.page == 2


def test_late_cutoff_is_the_latest_deadline_that_late(session):
    calendar = WorkingCalendar()
    monday = date(2025, 12, 22)
    assert boards.late_cutoff(calendar, monday, 0) == date(2025, 12, 21)
    assert boards.late_cutoff(calendar, monday, 1) == date(2025, 12, 21)  # due Fri, Sat or Sun: one day (Monday)
    assert boards.late_cutoff(calendar, monday, 2) == date(2025, 12, 18)  # due Thu: Fri and Mon
    assert boards.late_cutoff(calendar, date(2025, 12, 20), 1) == date(2025, 12, 18)  # on a Saturday


# --- the cycle board ------------------------------------------------------------------------------------------------


def _matrix(board: year_board.CycleBoard) -> dict[str, list[tuple[str, int]]]:
    return {row.unit_code: [(cell.state.value, cell.rounds) for cell in row.cells] for row in board.rows}


def test_the_cycle_board_shows_each_agency_step_by_its_latest_round(session, people):
    board = year_board.cycle_board(session, people["committee"], 2025, TODAY)
    assert [c.step_id for c in board.agency_columns] == ["draft_report", "approve_report", "review_report"]
    assert [c.step_id for c in board.cycle_columns] == ["consolidate", "evaluate", "review_dic_self_evaluation",
                                                        "home_affairs_proposal", "committee_decision"]
    assert [row.unit_name for row in board.rows] == ["Sở Nội vụ", "Sở Tài chính", "Sở Y tế", "Thanh tra tỉnh"]
    assert _matrix(board) == {
        "SNV": [("done_late", 2), ("open_late", 2), ("not_reached", 0)],
        "STC": [("done_on_time", 1), ("done_on_time", 1), ("done_late", 1)],
        "SYT": [("open_late", 1), ("not_reached", 0), ("not_reached", 0)],
        "TTT": [("done_late", 1), ("open_late", 1), ("not_reached", 0)],
    }
    assert [(c.state.value, c.rounds) for c in board.cycle_cells] == [("open", 1)] + [("not_reached", 0)] * 4
    rows = {row.unit_code: row for row in board.rows}
    assert [c.days_late for c in rows["SNV"].cells] == [1, 3, 0]
    assert [c.days_late for c in rows["TTT"].cells] == [2, 2, 0]
    assert rows["STC"].cells[2].finished_on == date(2025, 11, 18) and rows["STC"].cells[2].due_on == date(2025, 11, 17)
    # every cell leads to its instance: the agency's report, or the cycle itself
    assert {c.instance_id for c in rows["SYT"].cells} == {rows["SYT"].instance_id}
    assert {c.instance_id for c in board.cycle_cells} == {board.cycle_instance_id}


def test_the_cycle_board_counts_each_column_and_its_on_time_rate(session, people):
    board = year_board.cycle_board(session, people["supervisor"], 2025, TODAY)
    zero = {state.value: 0 for state in CellState}
    counts = {c.step_id: {k: v for k, v in c.counts.items() if v} for c in board.columns}
    assert all(set(c.counts) == set(zero) for c in board.columns)
    assert counts == {
        "draft_report": {"done_on_time": 1, "done_late": 2, "open_late": 1},
        "approve_report": {"done_on_time": 1, "open_late": 2, "not_reached": 1},
        "review_report": {"done_late": 1, "not_reached": 3},
        "consolidate": {"open": 1},
        "evaluate": {"not_reached": 1},
        "review_dic_self_evaluation": {"not_reached": 1},
        "home_affairs_proposal": {"not_reached": 1},
        "committee_decision": {"not_reached": 1},
    }
    rates = {c.step_id: c.on_time_rate for c in board.columns}
    assert rates["draft_report"] == pytest.approx(1 / 4)  # STC on time; SNV, TTT late; SYT late and still open
    assert rates["approve_report"] == pytest.approx(1 / 3)  # SYT's has not begun, so it is not counted
    assert rates["review_report"] == 0
    assert rates["consolidate"] is None  # open and within its deadline: nothing known yet


def test_the_charts_figures_days_late_per_agency_progress_and_year_against_year(session, people):
    board = year_board.cycle_board(session, people["supervisor"], 2025, TODAY)
    # SYT 7; SNV 1 + 3 and TTT 2 + 2 tie, in Vietnamese name order; STC 1
    assert [(r.unit_code, r.days_late) for r in board.late_by_agency] == [("SYT", 7), ("SNV", 4), ("TTT", 4),
                                                                         ("STC", 1)]
    # opened on Sunday 02/11 (the week of Monday 27/10); STC accepted on 18/11; reports still out, so up to today
    assert [(p.week_start, p.accepted, p.cumulative) for p in board.progress] == [
        (date(2025, 10, 27), 0, 0), (date(2025, 11, 3), 0, 0), (date(2025, 11, 10), 0, 0),
        (date(2025, 11, 17), 1, 1), (date(2025, 11, 24), 0, 1), (date(2025, 12, 1), 0, 1),
        (date(2025, 12, 8), 0, 1), (date(2025, 12, 15), 0, 1), (date(2025, 12, 22), 0, 1),
    ]
    # 2024: five of six agency steps on time, and consolidation late; 2025: STC's draft and approval only
    assert [(y.year, y.on_time, y.decided) for y in board.years] == [(2024, 5, 7), (2025, 2, 8)]
    assert board.years[1].on_time_rate == pytest.approx(0.25)


def test_the_2024_board_ends_its_progress_line_with_the_last_report(session, people):
    board = year_board.cycle_board(session, people["supervisor"], 2024, TODAY)
    assert _matrix(board) == {"STC": [("done_on_time", 1)] * 3,
                              "TTT": [("done_late", 1), ("done_on_time", 1), ("done_on_time", 1)]}
    assert board.cycle_cells[0].state == CellState.OPEN_LATE
    # opened Saturday 02/11/2024 (week of 28/10); STC accepted 12/11, TTT 18/12: every report is in
    assert board.progress[0].week_start == date(2024, 10, 28)
    assert board.progress[-1].week_start == date(2024, 12, 16) and board.progress[-1].cumulative == 2
    assert sum(p.accepted for p in board.progress) == 2


def test_a_decided_cycle_shows_a_report_never_sent_as_stopped_and_late(session):
    demo.simulate(session, 2025, 28)
    supervisor = users.get_by_username(session, "supervisor")
    board = year_board.cycle_board(session, supervisor, 2025, date(2026, 5, 4))
    rows = {row.unit_code: row for row in board.rows}
    never_sent = rows["SGDDT"].cells[0]  # the simulation's "missing" report, stopped by the Committee's decision
    assert never_sent.state == CellState.CANCELLED and never_sent.late
    assert never_sent.days_late == WorkingCalendar.load(session).working_days_between(date(2025, 12, 15),
                                                                                     date(2026, 4, 20))
    assert [(c.state.value, c.rounds) for c in rows["SYT"].cells] == [("done_on_time", 2), ("done_on_time", 2),
                                                                      ("done_on_time", 2)]  # DIC returned once
    # Home Affairs sent the evaluation back to DIC once. Consolidation opened with the deadline pass on 16/12/2025,
    # due 20 working days later (01/01 off) on Wed 14/01/2026, and was done on the 15th; the decision came in April.
    assert [(c.state.value, c.rounds) for c in board.cycle_cells] == [
        ("done_late", 1), ("done_on_time", 2), ("done_on_time", 2), ("done_on_time", 2), ("done_late", 1)]
    assert (board.cycle_cells[0].due_on, board.cycle_cells[0].days_late) == (date(2026, 1, 14), 1)
    draft = board.columns[0]
    assert draft.counts["done_on_time"] == 27 and draft.counts["cancelled"] == 1
    assert draft.on_time_rate == pytest.approx(27 / 28)
    assert [(r.unit_code, r.days_late) for r in board.late_by_agency] == [("SGDDT", never_sent.days_late)]
    # every report accepted in the week the simulation sent them; SGDDT's was stopped, not awaited
    assert [(p.week_start, p.cumulative) for p in board.progress] == [(date(2025, 10, 27), 0), (date(2025, 11, 3), 27)]
    assert boards.overdue_rows(session, supervisor, OverdueQuery(), date(2026, 5, 4)) == []


def test_only_those_who_watch_deadlines_see_the_boards(session, people):
    for username in ("stc_officer", "stc_head", "dic", "home_affairs", "owner"):
        with pytest.raises(NotAllowed):
            boards.overdue_page(session, people[username], OverdueQuery(), TODAY)
        with pytest.raises(NotAllowed):
            year_board.cycle_board(session, people[username], 2025, TODAY)
    for username in ("supervisor", "dic_leader", "committee", "admin"):
        assert people[username].role_set & permissions.BOARD_ROLES
        year_board.cycle_board(session, people[username], 2025, TODAY)
    with pytest.raises(NotFound):
        year_board.cycle_board(session, people["supervisor"], 2031, TODAY)
    assert {Role(r) for r in permissions.BOARD_ROLES} == {Role.SUPERVISOR, Role.DIC_LEADER, Role.COMMITTEE, Role.ADMIN}


def test_the_filter_choices_come_from_the_diagrams_and_the_opened_years(session, people):
    choices = boards.overdue_choices(session)
    assert choices.years == [2025, 2024]
    assert [s for s, _ in choices.steps][:4] == ["draft_report", "approve_report", "review_report", "consolidate"]
    assert ("agency_head", "Thủ trưởng cơ quan") in choices.roles
    assert len(choices.roles) == len({r for r, _ in choices.roles})
    assert ("STC", "Sở Tài chính") in choices.units


def test_on_time_means_by_the_end_of_the_deadline_day_in_vietnam_in_python_and_in_sql(session):
    people = open_small_cycle(session, ["STC", "TTT"], year=2025)
    just_in_time = datetime(2025, 12, 15, 23, 30, tzinfo=LOCAL_TZ)  # 16:30 UTC on the deadline day
    just_late = datetime(2025, 12, 16, 0, 30, tzinfo=LOCAL_TZ)  # still 15/12 in UTC
    tasks.complete_task(session, open_task(session, "draft_report", "STC").id, people["stc_officer"],
                        report_payload(), just_in_time)
    tasks.complete_task(session, open_task(session, "draft_report", "TTT").id, people["ttt_officer"],
                        report_payload(), just_late)
    board = year_board.cycle_board(session, people["supervisor"], 2025, date(2025, 12, 16))
    assert _matrix(board)["STC"][0] == ("done_on_time", 1) and _matrix(board)["TTT"][0] == ("done_late", 1)
    assert board.rows[1].cells[0].days_late == 1
    # the database counts the year the same way (the approvals are open and within their deadline)
    rates = year_board.year_rates(session, date(2025, 12, 16))
    assert [(y.year, y.on_time, y.decided) for y in rates] == [(2025, 1, 2)]


def test_the_year_rates_counted_in_sql_agree_with_the_board_counted_in_python(session):
    demo.simulate(session, 2025, 28)
    board = year_board.cycle_board(session, users.get_by_username(session, "supervisor"), 2025, date(2026, 5, 4))
    assert (board.years[-1].on_time, board.years[-1].decided) == (sum(c.on_time for c in board.columns),
                                                                  sum(c.decided for c in board.columns))
    # a decided year is counted once, then remembered: its steps can no longer change
    assert year_board._decided_rates[session.get_bind()][2025] is board.years[-1]
    assert year_board.year_rates(session, date(2027, 1, 4))[-1] is board.years[-1]


def test_the_running_count_of_working_days_agrees_with_the_calendar(session):
    calendar = WorkingCalendar.load(session)
    days_late = boards._DaysLate(calendar)
    start = date(2024, 8, 20)  # across 2/9/2024, Tết 2025, 30/4-1/5/2025, 2/9/2025 and Tết 2026
    for offset in range(0, 600, 7):
        due = start + timedelta(days=offset)
        for length in (1, 3, 6, 40, 95):
            on = due + timedelta(days=length)
            assert days_late(due, on) == calendar.working_days_between(due, on), (due, on)
    assert days_late(date(2025, 12, 19), date(2025, 12, 19)) == 0
    assert days_late(date(2025, 12, 22), date(2025, 12, 19)) == 0  # not late at all
