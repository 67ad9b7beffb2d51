"""An instance's history in the page's language: each event's message is rebuilt from its stored template.

The audit log keeps the Vietnamese text as written; events since message_text exist also keep their template and
parameters, so the English page says them in English while names, reasons and comments stay as the users typed them.
Events written before (message_text NULL) show their stored text on every page.
"""
from __future__ import annotations

import html
import re
from datetime import UTC, date

import pytest
from factories import at, open_small_cycle, open_task, report_payload
from sqlalchemy import select
from test_english import compiled_catalogue  # noqa: F401 - the fixture: the .mo built from the .po

from webapp.extensions import db
from workflows import assignment, history, tasks, users
from workflows.models import AuditEvent, ProcessInstance, Role

PASSWORD = "simulation-only"
DAY = date(2025, 11, 10)
DRAFT_VI, DRAFT_EN = "Lập báo cáo và tự đánh giá", "Draft the report and self-assessment"
APPROVE_VI, APPROVE_EN = "Phê duyệt báo cáo", "Approve the report"
REASSIGN_REASON = "Chị An nghỉ phép: {không} có ở cơ quan"  # braces as typed: the text is not a template
RETURN_REASON = "Thiếu số liệu Mục 3, đề nghị bổ sung"
COMMENT = "Đã bổ sung số liệu Mục 3.\nNhờ anh xem lại."
OLD_MESSAGE = f"Bước '{DRAFT_VI}' chờ xử lý (ghi trước khi có bản dịch)"


@pytest.fixture
def instance(app, compiled_catalogue) -> int:  # noqa: F811
    """STC's report: reassigned, drafted, claimed by the head, returned with a reason, commented on, approved by
    the deputy; plus one event written before message_text existed."""
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        session = db.session
        people = open_small_cycle(session, ["STC"], year=2025)
        binh = users.create_user(session, "stc_officer2", PASSWORD, "Đỗ Thị Bình", [Role.AGENCY_OFFICER], "STC")
        session.commit()
        report = session.scalar(select(ProcessInstance.id).where(ProcessInstance.unit_code == "STC"))
        assignment.reassign(session, open_task(session, "draft_report", "STC").id, people["stc_head"],
                            "stc_officer2", REASSIGN_REASON, now=at(DAY, 8))
        tasks.complete_task(session, open_task(session, "draft_report", "STC").id, binh, report_payload(), at(DAY))
        tasks.claim(session, open_task(session, "approve_report", "STC").id, people["stc_head"])
        tasks.complete_task(session, open_task(session, "approve_report", "STC").id, people["stc_head"],
                            {"head_decision": "return", "head_comment": RETURN_REASON}, at(DAY, 10))
        history.add_comment(session, report, people["stc_officer"], COMMENT, now=at(DAY, 11))
        tasks.complete_task(session, open_task(session, "draft_report", "STC").id, people["stc_officer"],
                            report_payload(), at(DAY, 12))
        tasks.complete_task(session, open_task(session, "approve_report", "STC").id, people["stc_deputy"],
                            {"head_decision": "approve"}, at(DAY, 13))
        session.add(AuditEvent(instance_id=report, kind="task_created", message=OLD_MESSAGE,
                               at=at(DAY, 7).astimezone(UTC)))  # as runtime writes it: UTC
        session.commit()
        assert session.scalar(select(AuditEvent.message_text).where(AuditEvent.message == OLD_MESSAGE)) is None
    return report


def timeline(app, instance: int, lang: str) -> list[tuple[str, str]]:
    """(who, what) of each timeline entry on the instance page, as a reader sees them; a comment's who ends with
    what the heading says after the time ("· commented")."""
    client = app.test_client()
    assert client.post("/login", data={"username": "stc_officer", "password": PASSWORD}).status_code == 302
    response = client.get(f"/cycles/instances/{instance}?lang={lang}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    section = page[page.index('id="lich-su"'):]
    section = section[:section.index("</ol>")]
    entries = re.findall(r'<li class="card">\s*<p><strong>(.*?)</strong>.*?</time>(.*?)</p>\s*'
                         r'(?:<blockquote>(.*?)</blockquote>|<p>(.*?)</p>)', section, re.S)
    assert entries, section
    return [(html.unescape(" ".join([who, *heading.split()])), html.unescape(quote.replace("<br>", "\n") or said))
            for who, heading, quote, said in entries]


def test_the_history_reads_in_english_with_names_reasons_and_comments_as_typed(app, instance):
    entries = timeline(app, instance, "en")
    said = [what for _who, what in entries]
    for line in (
        f"Thủ trưởng STC reassigned '{DRAFT_EN}' from the group to Đỗ Thị Bình: {REASSIGN_REASON}",
        f"Completed '{DRAFT_EN}'",
        f"Step '{APPROVE_EN}' is waiting to be handled",
        f"Thủ trưởng STC claimed '{APPROVE_EN}'",
        f"Returned '{APPROVE_EN}'. Reason: {RETURN_REASON}",  # a return reads as a return, with its reason
        f"Step '{DRAFT_EN}' is waiting to be handled",
        f"Completed '{APPROVE_EN}' (Cấp phó STC on behalf of Thủ trưởng STC)",
        "Started Annual IT-application report (version 1)",
    ):
        assert line in said, (line, said)
    assert ("Cán bộ chuyên trách CNTT STC · commented", COMMENT) in entries  # as typed, line breaks kept
    assert ("Đỗ Thị Bình", f"Completed '{DRAFT_EN}'") in entries
    assert ("Cấp phó STC on behalf of Thủ trưởng STC",
            f"Completed '{APPROVE_EN}' (Cấp phó STC on behalf of Thủ trưởng STC)") in entries
    # the event written before templates were kept: its stored text, the only Vietnamese sentence left
    assert OLD_MESSAGE in said
    vietnamese = [what for what in said if re.search(r"Bước|Hoàn thành|Trả lại|nhận xử lý|giao lại|Bắt đầu", what)]
    assert vietnamese == [OLD_MESSAGE], vietnamese


def test_the_return_shows_its_reason_as_typed_under_the_english_decision(app, instance):
    client = app.test_client()
    assert client.post("/login", data={"username": "stc_officer", "password": PASSWORD}).status_code == 302
    page = html.unescape(client.get(f"/cycles/instances/{instance}?lang=en").get_data(as_text=True))
    returned = page[page.index(f"<p>Returned '{APPROVE_EN}'. Reason: {RETURN_REASON}</p>"):]
    returned = returned[:returned.index("</li>")]
    assert "<dt>Decision</dt>" in returned and "<dd>Return for revision</dd>" in returned
    assert f"<dd>{RETURN_REASON}</dd>" in returned


def test_the_vietnamese_history_is_the_text_as_written(app, instance):
    entries = timeline(app, instance, "vi")
    said = [what for _who, what in entries]
    for line in (
        f"Thủ trưởng STC giao lại '{DRAFT_VI}' từ nhóm cho Đỗ Thị Bình: {REASSIGN_REASON}",
        f"Hoàn thành '{DRAFT_VI}'",
        f"Bước '{APPROVE_VI}' chờ xử lý",
        f"Thủ trưởng STC nhận xử lý '{APPROVE_VI}'",
        f"Trả lại '{APPROVE_VI}'. Lý do: {RETURN_REASON}",
        f"Bước '{DRAFT_VI}' chờ xử lý",
        "Bắt đầu Báo cáo kết quả ứng dụng CNTT hằng năm (phiên bản 1)",
        OLD_MESSAGE,
    ):
        assert line in said, (line, said)
    assert ("Cán bộ chuyên trách CNTT STC · bình luận", COMMENT) in entries
    assert ("Cấp phó STC thay mặt Thủ trưởng STC",
            f"Hoàn thành '{APPROVE_VI}' (Cấp phó STC thay mặt Thủ trưởng STC)") in entries
    # each message on the page is the one stored in the audit log, byte for byte
    with app.app_context():
        stored = set(db.session.scalars(select(AuditEvent.message).where(AuditEvent.instance_id == instance,
                                                                         AuditEvent.kind != "comment_added")))
    assert set(said) - {COMMENT} == stored
    assert not any(re.search(r"Completed|Returned|Step '|claimed|reassigned|Started", what) for what in said)

