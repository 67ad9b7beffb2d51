"""Evidence files reach the people who judge them; the outcome pages explain each unit (codes only as tooltips)."""
from __future__ import annotations

import io

from sqlalchemy import select
from test_task_pages import CODES, PDF, client, fragment, login, report_form, task_id, to_home_affairs  # noqa: F401 (client: the fixture)

from webapp.extensions import db
from workflows.models import Evidence, ProcessInstance


def test_the_head_sees_and_downloads_the_officers_evidence_and_others_by_role(app, client):  # noqa: F811
    draft = task_id(app, "draft_report", "STC")
    login(client, "stc_officer")
    response = client.post(f"/tasks/{draft}", data=report_form("submit", **{
        "files-M1.5.1": (io.BytesIO(PDF), "kiem-ke-ha-tang.pdf")}), content_type="multipart/form-data")
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:500]
    with app.app_context():
        evidence_id = db.session.scalar(select(Evidence.id))
        instance_id = db.session.scalar(select(ProcessInstance.id).where(ProcessInstance.unit_code == "STC"))
    link = f"/tasks/evidence/{evidence_id}"
    client.post("/logout")

    approve = task_id(app, "approve_report", "STC")
    login(client, "stc_head")
    page = client.get(f"/tasks/{approve}").get_data(as_text=True)
    assert f'<a href="{link}">kiem-ke-ha-tang.pdf</a>' in page
    download = client.get(link)
    assert download.status_code == 200 and download.data == PDF
    download.close()  # send_file streams from the open file
    client.post("/logout")

    login(client, "dic")  # DIC sees it on the instance page too
    assert link in client.get(f"/cycles/instances/{instance_id}").get_data(as_text=True)
    client.post("/logout")

    other = CODES[1].lower()
    login(client, f"{other}_officer")  # another agency sees neither the page nor the file
    assert client.get(f"/cycles/instances/{instance_id}").status_code == 403
    assert client.get(link).status_code == 403


def test_home_affairs_task_page_explains_each_unit_and_shows_codes_only_as_tooltips(app, client):  # noqa: F811
    to_home_affairs(app)
    login(client, "home_affairs")
    page = client.get(f"/tasks/{task_id(app, 'home_affairs_proposal')}").get_data(as_text=True)
    table = fragment(page, '<table class="responsive outcomes">', "</table>")
    assert "Thủ trưởng Sở Nội vụ: Không hoàn thành nhiệm vụ vì vi phạm Mục 2 (Điều 15.3)" in table
    assert "<code>" not in table and 'title="LATE_REPORT"' in table
