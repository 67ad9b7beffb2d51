"""An instance's history and the cycle pages' read side: who sees what, readable data, deputies, comments."""
from __future__ import annotations

from datetime import date

import pytest
from factories import at, open_small_cycle, open_task, report_payload, submit_report
from sqlalchemy import func, select

from workflows import cycle_view, history, tasks, users
from workflows.errors import InvalidInput, NotAllowed
from workflows.models import AuditEvent, Block, Comment, Cycle, Evaluation, Override, ProcessInstance, Role

DAY = date(2025, 11, 10)


@pytest.fixture
def people(session):
    return open_small_cycle(session, ["STC", "TTT"])


def report_instance(session, code: str) -> ProcessInstance:
    return session.scalar(select(ProcessInstance).where(ProcessInstance.unit_code == code))


def flatten(details) -> dict[str, str]:
    out = {}
    for d in details:
        out[d.label] = d.value
        out.update(flatten(d.items))
    return out


def submit_with_deputy(session, people, code: str = "TTT") -> None:
    tasks.complete_task(session, open_task(session, "draft_report", code).id, people[f"{code.lower()}_officer"],
                        report_payload(violations=(2,)), at(DAY))
    tasks.complete_task(session, open_task(session, "approve_report", code).id, people[f"{code.lower()}_deputy"],
                        {"head_decision": "approve"}, at(DAY, 10))


def test_an_agency_sees_only_its_own_instances(session, people):
    stc, ttt = report_instance(session, "STC"), report_instance(session, "TTT")
    assert history.can_view(session, people["stc_officer"], stc)
    assert history.can_view(session, people["stc_deputy"], stc)
    assert not history.can_view(session, people["stc_head"], ttt)
    with pytest.raises(NotAllowed):
        history.timeline(session, ttt.id, people["stc_officer"])


def test_central_roles_see_every_instance_and_someone_without_a_role_sees_none(session, people):
    cycle_instance = session.get(ProcessInstance, session.scalar(select(Cycle.instance_id)))
    for name in ("dic", "dic_leader", "home_affairs", "committee", "supervisor", "admin", "owner"):
        assert history.can_view(session, people[name], cycle_instance), name
    assert not history.can_view(session, people["stc_officer"], cycle_instance)
    nobody = users.create_user(session, "khach", "mat-khau-dai", "Khách", [])
    assert not history.can_view(session, nobody, report_instance(session, "STC"))


def test_the_timeline_shows_a_deputy_acting_for_the_head(session, people):
    submit_with_deputy(session, people)
    entries = history.timeline(session, report_instance(session, "TTT").id, people["ttt_officer"])
    approval = next(e for e in entries if e.kind == "task_completed" and "Phê duyệt" in e.message)
    assert approval.who == "Cấp phó TTT thay mặt Thủ trưởng TTT"
    assert flatten(approval.details)["Quyết định"] == "Phê duyệt, gửi Sở TT&TT"  # the option's name, not 'approve'
    draft = next(e for e in entries if e.kind == "task_completed" and "Lập báo cáo" in e.message)
    assert draft.who == "Cán bộ chuyên trách CNTT TTT"


def test_submitted_data_reads_as_labelled_values_not_json(session, people):
    submit_with_deputy(session, people)
    entries = history.timeline(session, report_instance(session, "TTT").id, people["dic"])
    started = entries[0]
    assert started.kind == "instance_started" and started.who == "Lãnh đạo Sở TT&TT"
    assert flatten(started.details)["Hạn nộp báo cáo"] == "15/12/2025"
    values = flatten(next(e for e in entries if e.kind == "task_completed").details)
    assert values["Số cán bộ chuyên trách CNTT"] == "3"
    assert values["M2.7.1 Cổng/trang thông tin điện tử có đủ thông tin bắt buộc"] == "Vi phạm"
    assert values["M1.5.1 Đầu tư, sử dụng, duy trì, nâng cấp hạ tầng kỹ thuật theo tiêu chuẩn"] == "Đạt"
    assert values["Phần mềm"] == "100.000.000 đồng"
    assert values["Khó khăn, vướng mắc kiến nghị Sở TT&TT (Điều 19)"] == "—"


def test_comments_join_the_timeline_in_time_order_and_are_audited(session, people):
    instance = report_instance(session, "STC")
    history.add_comment(session, instance.id, people["stc_officer"], "  Xin gia hạn thêm 2 ngày.  ",
                        now=at(date(2025, 11, 5)))
    submit_report(session, people, "STC", when=DAY)
    task = open_task(session, "review_report", "STC")
    history.add_comment(session, instance.id, people["dic"], "Đã nhận, đang thẩm định.", task_id=task.id,
                        now=at(date(2025, 11, 12)))
    entries = history.timeline(session, instance.id, people["stc_head"])
    kinds = [e.kind for e in entries]
    first, second = kinds.index("comment"), len(kinds) - 1 - kinds[::-1].index("comment")
    assert entries[first].message == "Xin gia hạn thêm 2 ngày." and entries[first].who == "Cán bộ chuyên trách CNTT STC"
    assert kinds.index("task_completed") > first and second == len(kinds) - 1
    assert entries[second].step_name == "Thẩm định, tiếp nhận báo cáo"
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    audited = session.scalars(select(AuditEvent).where(AuditEvent.kind == "comment_added")).all()
    assert len(audited) == 2 and audited[1].task_id == task.id and audited[1].actor_id == people["dic"].id


@pytest.mark.parametrize("body", ["", "   \n ", "x" * 4001])
def test_an_empty_or_overlong_comment_is_refused_and_nothing_is_written(session, people, body):
    with pytest.raises(InvalidInput) as error:
        history.add_comment(session, report_instance(session, "STC").id, people["stc_officer"], body)
    assert "body" in error.value.fields
    assert session.scalar(select(func.count(Comment.id))) == 0
    assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "comment_added")) == 0


def test_a_comment_of_4000_characters_is_accepted(session, people):
    comment = history.add_comment(session, report_instance(session, "STC").id, people["stc_officer"], "x" * 4000)
    assert len(comment.body) == 4000


def test_another_agency_may_not_comment_and_nothing_is_written(session, people):
    with pytest.raises(NotAllowed):
        history.add_comment(session, report_instance(session, "TTT").id, people["stc_officer"], "Xin chào")
    assert session.scalar(select(func.count(Comment.id))) == 0


def test_a_comment_about_a_task_of_another_instance_is_refused(session, people):
    other_task = open_task(session, "draft_report", "TTT")
    with pytest.raises(InvalidInput) as error:
        history.add_comment(session, report_instance(session, "STC").id, people["dic"], "Nhầm bước", other_task.id)
    assert "task_id" in error.value.fields


def test_the_instance_page_shows_the_report_as_it_stands_and_the_open_step(session, people):
    submit_with_deputy(session, people)
    page = history.instance_page(session, report_instance(session, "TTT").id, people["ttt_head"], DAY)
    assert page.process_name == "Báo cáo kết quả ứng dụng CNTT hằng năm" and page.version == 1
    assert page.status == "Đang xử lý" and page.unit_name == "Thanh tra tỉnh"
    assert [(s.step_name, s.holder, s.due_on is not None) for s in page.open_steps] == [
        ("Thẩm định, tiếp nhận báo cáo", "Chuyên viên Sở TT&TT", True)]
    assert not page.open_steps[0].viewer_may_open  # the head cannot act on DIC's step
    sections = dict(page.report.sections)
    assert sections["Mục 2. Cung cấp thông tin và dịch vụ công trực tuyến"][0].status == "Vi phạm"
    assert page.report.budget_total == "100.000.000 đồng"
    assert flatten(page.report.figures)["Tỷ lệ văn bản đi gửi điện tử (%)"] == "80"


def test_the_cycle_instance_shows_the_cycles_fields(session, people):
    cycle = session.scalar(select(Cycle))
    page = history.instance_page(session, cycle.instance_id, people["supervisor"])
    fields = flatten(page.cycle_details)
    assert fields["Năm đánh giá"] == "2025" and fields["Trạng thái"] == "Đang nhận báo cáo"
    assert fields["Hạn nộp báo cáo"] == "15/12/2025" and fields["Số cơ quan"] == "2"
    assert page.report is None


def test_an_agency_sees_only_its_own_row_of_the_cycle_and_no_results(session, people):
    add_result(session, people)
    page = cycle_view.cycle_page(session, 2025, people["stc_officer"])
    assert [r.unit_code for r in page.rows] == ["STC"] and not page.sees_all
    assert page.rows[0].status == "Cơ quan đang lập báo cáo"
    assert page.rows[0].holder == "Cán bộ chuyên trách CNTT"
    assert page.results is None
    with pytest.raises(NotAllowed):
        cycle_view.cycle_page(session, 2025, users.create_user(session, "khach", "mat-khau-dai", "Khách", []))


def test_central_roles_see_every_row_counts_and_results_with_overrides(session, people):
    submit_report(session, people, "TTT")
    add_result(session, people)
    page = cycle_view.cycle_page(session, 2025, people["home_affairs"])
    assert [r.unit_code for r in page.rows] == ["STC", "TTT"]
    assert dict(page.counts) == {"Cơ quan đang lập báo cáo": 1, "Chờ Sở TT&TT thẩm định": 1}
    (result,) = page.results
    assert (result.rating, result.sanction, result.reward) == ("Không hoàn thành nhiệm vụ", "Phê bình",
                                                               "Không đề nghị")
    assert result.reasons == ("Thuộc nhóm 20% cao nhất nhưng có vi phạm",)
    (override,) = result.overrides
    assert (override.stage, override.field, override.change, override.by) == (
        "UBND tỉnh quyết định", "Hình thức xử lý", "Khiển trách → Phê bình", "Lãnh đạo UBND tỉnh")
    assert cycle_view.cycle_page(session, 2025, people["owner"]).results is None  # the process owner sees progress only


def test_the_list_of_cycles_counts_units(session, people):
    (row,) = cycle_view.cycle_list(session)
    assert (row.year, row.status, row.report_due, row.units) == (2025, "Đang nhận báo cáo", date(2025, 12, 15), 2)


def test_a_heads_steps_are_read_from_the_deployed_diagram(session, people):
    steps = history.user_steps(session, "agency_report")
    assert ("approve_report", "Phê duyệt báo cáo", "agency_head") in steps
    assert {group for _, _, group in steps} == {"agency_officer", "agency_head", "dic_officer"}


def add_result(session, people) -> Evaluation:
    """A proposed-then-overridden outcome for STC, as the evaluation steps would leave it."""
    evaluation = Evaluation(year=2025, unit_code="STC", block=Block.DEPARTMENT, rating="incomplete",
                            sanction="criticism", reward="none", reasons=["TOP20_BUT_VIOLATION"],
                            articles=["Điều 15.3", "Điều 17.1a"])
    evaluation.overrides.append(Override(stage="committee", field="sanction", old_value="reprimand",
                                         new_value="criticism", reason="Vi phạm lần đầu, đã khắc phục.",
                                         by_id=people["committee"].id))
    session.add(evaluation)
    session.commit()
    assert Role.COMMITTEE in people["committee"].role_set
    return evaluation
