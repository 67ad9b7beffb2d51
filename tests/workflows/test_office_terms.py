"""Issue 9 item 8: the persons evaluated come from the heads' dates of office (A15), with a fallback that says so,
and more than one head in the year is settled by Home Affairs with a reason (A14, A15)."""
from __future__ import annotations

from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, submit_report
from sqlalchemy import select

from workflows import cycles, office_terms, settings, subjects, tasks
from workflows.errors import InvalidInput, NotAllowed
from workflows.models import AuditEvent, OfficeTerm, User


def term(session, code: str, name: str, start: date, end: date | None, user: User | None = None) -> None:
    session.add(OfficeTerm(unit_code=code, person_name=name, user_id=user.id if user else None, valid_from=start,
                           valid_to=end, document=f"QĐ bổ nhiệm {name}"))
    session.flush()


def heads(session, code: str = "STC", year: int = 2025) -> list[tuple[str, str]]:
    return [(s["name"], s.get("why") or s["basis"]) for s in subjects.subjects_of_year(session, year).get(code, [])
            if s["role"] == "head"]


def test_exactly_six_months_in_office_makes_a_former_head_a_subject_one_day_less_does_not(session):
    people = open_small_cycle(session, ["STC", "SNV"])
    term(session, "STC", "Bà Sáu Tháng", date(2020, 3, 1), date(2025, 6, 30))  # 01/01–30/06/2025: six months
    term(session, "STC", "Ông Hiện Tại", date(2025, 7, 1), None, people["stc_head"])
    term(session, "SNV", "Bà Thiếu Một Ngày", date(2025, 1, 2), date(2025, 6, 30))  # 02/01–30/06: not six
    term(session, "SNV", "Ông Mới", date(2025, 7, 1), None)
    assert heads(session, "STC") == [("Ông Hiện Tại", "in_office_31_12"), ("Bà Sáu Tháng", "served_6_months")]
    assert heads(session, "SNV") == [("Ông Mới", "in_office_31_12")]
    assert office_terms.served_months(date(2025, 1, 31), date(2025, 7, 30), 6)  # 31/01 + 6 months = 31/07
    assert not office_terms.served_months(date(2025, 1, 31), date(2025, 7, 29), 6)


def test_the_number_of_months_is_a_setting_of_the_year(session):
    open_small_cycle(session, ["STC"])
    term(session, "STC", "Ông Cũ", date(2020, 1, 1), date(2025, 4, 30))  # four months in 2025
    term(session, "STC", "Bà Mới", date(2025, 5, 1), None)
    assert [n for n, _ in heads(session)] == ["Bà Mới"]
    settings.set_setting(session, 2025, "head_min_months", 4)
    assert [n for n, _ in heads(session)] == ["Bà Mới", "Ông Cũ"]
    with pytest.raises(InvalidInput) as refused:
        settings.set_setting(session, 2025, "head_min_months", 13)
    assert "head_min_months" in refused.value.fields


def test_a_term_ending_on_31_12_is_the_head_at_year_end_and_a_short_term_before_it_is_not(session):
    open_small_cycle(session, ["STC"])
    term(session, "STC", "Ông Ngắn", date(2025, 1, 1), date(2025, 3, 31))  # three months, gone before 31/12
    term(session, "STC", "Bà Cuối Năm", date(2025, 10, 1), date(2025, 12, 31))  # ends on 31/12: in office then
    assert heads(session) == [("Bà Cuối Năm", "in_office_31_12")]
    # 2026 has no term: the head on record stands in, and says so (no date is invented)
    assert heads(session, year=2026) == [("Thủ trưởng STC", "no_office_terms")]
    assert heads(session, year=2024) == [("Thủ trưởng STC", "no_office_terms")]


def test_a_unit_without_terms_falls_back_to_the_heads_on_record_and_says_so(session):
    people = open_small_cycle(session, ["STC"])
    submit_report(session, people, "STC")
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    tasks.complete_task(session, open_task(session, "consolidate").id, people["dic"],
                        {"units": {"STC": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False}}},
                        at(date(2026, 1, 5)))
    row = cycles.results(session, 2025)[0]
    assert [(s["username"], s["basis"]) for s in row["subjects"]] == [("stc_head", "no_office_terms"),
                                                                      ("stc_deputy", "deputy_assignment")]
    assert row["no_office_terms"] is True and row["needs_subject_choice"] is False
    assert row["persons_evaluated"] == [people["stc_head"].full_name, people["stc_deputy"].full_name]
    assert "SUBJECT_AMBIGUOUS" not in row["reasons"]  # no sanction: one head and a deputy are not ambiguous
    assert any("Chưa có ngày giữ chức vụ" in note for note in subjects.person_notes(row))


def _through_dic(session, people) -> None:
    submit_report(session, people, "STC")
    tasks.complete_task(session, open_task(session, "review_report", "STC").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    tasks.complete_task(session, open_task(session, "consolidate").id, people["dic"],
                        {"units": {"STC": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False}}},
                        at(date(2026, 1, 5)))
    tasks.complete_task(session, open_task(session, "evaluate").id, people["dic_leader"], {"overrides": []},
                        at(date(2026, 1, 6)))
    tasks.complete_task(session, open_task(session, "review_dic_self_evaluation").id, people["home_affairs"], {},
                        at(date(2026, 1, 7)))


def _head_changed_on_1_7_through_dic(session) -> dict[str, User]:
    """STC's head changed on 1/7/2025 (Bà Nửa Đầu before, the head on record after); the year up to Home Affairs."""
    people = open_small_cycle(session, ["STC"])
    term(session, "STC", "Bà Nửa Đầu", date(2021, 1, 4), date(2025, 6, 30))
    term(session, "STC", people["stc_head"].full_name, date(2025, 7, 1), None, people["stc_head"])
    session.commit()
    _through_dic(session, people)
    return people


def test_a_head_change_on_1_7_needs_home_affairs_to_choose_the_person_evaluated_with_a_reason(session):
    people = _head_changed_on_1_7_through_dic(session)
    row = cycles.results(session, 2025)[0]
    assert "SUBJECT_AMBIGUOUS" in row["reasons"] and row["needs_subject_choice"] is True
    assert row["persons_evaluated"] == []  # nobody is evaluated by default: a person chooses
    task = open_task(session, "home_affairs_proposal")
    with pytest.raises(InvalidInput) as refused:
        tasks.complete_task(session, task.id, people["home_affairs"], {"ha_decision": "propose"}, at(date(2026, 1, 8)))
    assert set(refused.value.fields) == {"subject_choices.STC"}
    with pytest.raises(InvalidInput) as refused:
        tasks.complete_task(session, task.id, people["home_affairs"], {
            "ha_decision": "propose",
            "subject_choices": [{"unit_code": "STC", "subjects": ["Ai Đó"], "reason": "x"}]}, at(date(2026, 1, 8)))
    assert set(refused.value.fields) == {"subject_choices.STC.subjects"}
    with pytest.raises(InvalidInput) as refused:
        tasks.complete_task(session, task.id, people["home_affairs"], {
            "ha_decision": "propose",
            "subject_choices": [{"unit_code": "STC", "subjects": ["Bà Nửa Đầu"], "reason": " "}]}, at(date(2026, 1, 8)))
    assert set(refused.value.fields) == {"subject_choices.STC.reason"}
    tasks.complete_task(session, task.id, people["home_affairs"], {
        "ha_decision": "propose",
        "subject_choices": [{"unit_code": "STC", "subjects": ["Bà Nửa Đầu"],
                             "reason": "Giữ chức vụ suốt thời gian đơn vị triển khai các nội dung bị đánh giá."}]},
        at(date(2026, 1, 8)))
    row = cycles.results(session, 2025)[0]
    assert row["persons_evaluated"] == ["Bà Nửa Đầu"] and row["needs_subject_choice"] is False
    assert row["subject_choice"]["by"] == "home_affairs" and row["subject_choice"]["reason"].startswith("Giữ chức")
    assert [str(p) for p in subjects.persons_shown(row)] == ["Bà Nửa Đầu (thủ trưởng, 04/01/2021 – 30/06/2025)"]
    event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "subjects_chosen"))
    assert event is not None and event.data["subjects"] == ["Bà Nửa Đầu"]
    assert event.actor_id == people["home_affairs"].id


def test_returning_to_dic_needs_no_choice_yet(session):
    people = open_small_cycle(session, ["STC"])
    term(session, "STC", "Bà Nửa Đầu", date(2021, 1, 4), date(2025, 6, 30))
    term(session, "STC", "Ông Nửa Sau", date(2025, 7, 1), None)
    session.commit()
    _through_dic(session, people)
    tasks.complete_task(session, open_task(session, "home_affairs_proposal").id, people["home_affairs"],
                        {"ha_decision": "return_to_dic", "ha_reason": "Rà soát lại."}, at(date(2026, 1, 8)))
    assert open_task(session, "evaluate") is not None


def test_terms_are_checked_by_field_and_overlaps_are_refused(session):
    people = open_small_cycle(session, ["STC"])
    admin = people["dic_leader"]
    admin_user = session.scalar(select(User).where(User.username == "admin"))
    with pytest.raises(NotAllowed):  # a non-admin may not record terms
        office_terms.add_term(session, admin, "STC", "Ông A", "", date(2025, 1, 1), None, "QĐ 1")
    with pytest.raises(InvalidInput) as refused:
        office_terms.add_term(session, admin_user, "XXX", "", "nobody", None, None, "")
    assert set(refused.value.fields) == {"unit_code", "person_name", "username", "valid_from", "document"}
    office_terms.add_term(session, admin_user, "STC", "", "stc_head", date(2024, 1, 1), None, "QĐ 12/QĐ-UBND")
    with pytest.raises(InvalidInput) as refused:
        office_terms.add_term(session, admin_user, "STC", "Bà B", "", date(2025, 3, 1), None, "QĐ 2")
    assert "valid_from" in refused.value.fields
    saved = office_terms.terms_of(session, "STC")
    assert [(t.person_name, t.user_id) for t in saved] == [(people["stc_head"].full_name, people["stc_head"].id)]
    assert session.scalar(select(AuditEvent).where(AuditEvent.kind == "office_term_added")) is not None


def test_an_import_is_all_or_nothing_and_names_each_bad_line(session):
    open_small_cycle(session, ["STC"])
    admin_user = session.scalar(select(User).where(User.username == "admin"))
    bad = ("unit_code,person_name,username,valid_from,valid_to,document\n"
           "STC,Ông A,,01/01/2020,30/06/2025,QĐ 1\n"
           "STC,Bà B,,01/06/2025,,QĐ 2\n"  # overlaps line 2
           "ZZZ,Ông C,,2025-01-01,,QĐ 3\n"
           "STC,Ông D,,31/02/2025,,QĐ 4\n")
    with pytest.raises(InvalidInput) as refused:
        office_terms.import_terms(session, admin_user, bad)
    assert set(refused.value.fields) == {"line 3", "line 4", "line 5"}
    assert office_terms.terms_of(session, "STC") == []
    good = "STC,Ông A,,01/01/2020,30/06/2025,QĐ 1\nSTC,Bà B,,2025-07-01,,QĐ 2\n"
    assert office_terms.import_terms(session, admin_user, good) == 2
    assert [n for n, _ in heads(session)] == ["Bà B", "Ông A"]


def test_the_demo_changes_a_head_on_1_7_2025_and_its_simulation_has_home_affairs_choose(session):
    from workflows import demo

    demo.seed(session, password="demo12345")
    demo.seed(session, password="demo12345")  # idempotent: no second set of terms
    assert [(t.person_name, t.valid_to) for t in office_terms.terms_of(session, "SYT")] == [
        ("Nguyễn Văn Hòa", date(2025, 6, 30)), ("Thủ trưởng Sở Y tế", None)]
    result = demo.simulate(session, 2025, 28)
    rows = {r["unit_code"]: r for r in result.results}
    assert rows["SYT"]["persons_evaluated"] == ["Thủ trưởng Sở Y tế"] and "SUBJECT_AMBIGUOUS" in rows["SYT"]["reasons"]
    assert rows["SYT"]["subject_choice"]["by"] == "home_affairs"
    assert rows["STC"]["subject_choice"] is None and rows["STC"]["no_office_terms"] is False
    assert rows["STC"]["persons_evaluated"][0] == "Thủ trưởng Sở Tài chính"


def test_a_choice_the_dates_of_office_no_longer_support_holds_the_committee_until_home_affairs_chooses_again(session):
    people = _head_changed_on_1_7_through_dic(session)
    tasks.complete_task(session, open_task(session, "home_affairs_proposal").id, people["home_affairs"], {
        "ha_decision": "propose",
        "subject_choices": [{"unit_code": "STC", "subjects": ["Bà Nửa Đầu"], "reason": "Giữ chức vụ lâu hơn."}]},
        at(date(2026, 1, 8)))
    # The dates of office are corrected afterwards: the earlier head left in May, under six months in 2025.
    corrected = session.scalar(select(OfficeTerm).where(OfficeTerm.person_name == "Bà Nửa Đầu"))
    corrected.valid_to = date(2025, 5, 31)
    session.commit()
    decision = open_task(session, "committee_decision")
    decide = {"committee_action": "decide", "decision_number": "12/QĐ-UBND", "decision_date": "2026-04-20"}
    with pytest.raises(InvalidInput) as held:
        tasks.complete_task(session, decision.id, people["committee"], decide, at(date(2026, 4, 20)))
    assert set(held.value.fields) == {"subject_choices.STC"} and "STC" in held.value.message
    assert open_task(session, "committee_decision").id == decision.id  # nothing decided, the task still open
    tasks.complete_task(session, decision.id, people["committee"], {
        "committee_action": "return_to_home_affairs", "committee_reason": "Ngày giữ chức vụ đã được đính chính."},
        at(date(2026, 4, 21)))
    proposal = open_task(session, "home_affairs_proposal")
    with pytest.raises(InvalidInput) as again:  # the old choice no longer stands for Home Affairs either
        tasks.complete_task(session, proposal.id, people["home_affairs"], {"ha_decision": "propose"},
                            at(date(2026, 4, 22)))
    assert set(again.value.fields) == {"subject_choices.STC"}
    tasks.complete_task(session, proposal.id, people["home_affairs"], {
        "ha_decision": "propose",
        "subject_choices": [{"unit_code": "STC", "subjects": [people["stc_head"].full_name],
                             "reason": "Người giữ chức vụ duy nhất đủ sáu tháng."}]}, at(date(2026, 4, 22)))
    tasks.complete_task(session, open_task(session, "committee_decision").id, people["committee"], decide,
                        at(date(2026, 4, 23)))
    assert cycles.results(session, 2025)[0]["final"] is True
