"""The domain's words, each defined once: roles, outcomes, reasons, statuses, stages, notification kinds, the words of
the diagrams in bpmn/, and the labels of submitted data.

Every word is a `Text` (the Vietnamese str itself), so `pybabel extract -k Text` puts it in the catalogue and the web
layer shows it in the reader's language through the one translation path (webapp/i18n.py `localize`, and the `term`
filter for a word that arrives as a plain str, e.g. from a diagram). Modules that show a word import it from here;
none keeps a dictionary of labels of its own. tests/webapp/test_terms.py checks that every word here has an English
translation and that every name drawn in bpmn/ is here.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from workflows.criteria import BUDGET_CATEGORIES, CRITERIA, SECTION_TITLES, STATUSES
from workflows.messages import Text
from workflows.models import Role

ROLE_LABELS: dict[Role, Text] = {
    Role.AGENCY_OFFICER: Text("Cán bộ chuyên trách CNTT"),
    Role.AGENCY_HEAD: Text("Thủ trưởng cơ quan"),
    Role.DEPUTY: Text("Cấp phó được phân công"),
    Role.DIC_OFFICER: Text("Chuyên viên Sở TT&TT"),
    Role.DIC_LEADER: Text("Lãnh đạo Sở TT&TT"),
    Role.HOME_AFFAIRS: Text("Sở Nội vụ"),
    Role.COMMITTEE: Text("UBND tỉnh"),
    Role.SUPERVISOR: Text("Giám sát"),
    Role.PROCESS_OWNER: Text("Chủ quy trình"),
    Role.ADMIN: Text("Quản trị hệ thống"),
}
SYSTEM = Text("Hệ thống")  # the actor of what no person did (timers, the engine)


def role_label(group: str) -> str:
    """The label of a role or candidate group; a group the application does not know shows as drawn."""
    try:
        return ROLE_LABELS[Role(group)]
    except ValueError:
        return group


def deputy_for(deputy: str, head: str) -> Text:
    """'cấp phó X thay mặt Y': who acted when a deputy did; a name that already says 'Cấp phó …' is not repeated."""
    if deputy.casefold().startswith("cấp phó"):
        return Text("{deputy} thay mặt {head}", deputy=deputy, head=head)
    return Text("cấp phó {deputy} thay mặt {head}", deputy=deputy, head=head)


# Where a deadline comes from, as the task row stores it (runtime._due_date): "camunda:dueDate ${…}" or
# "dueInWorkingDays=N". People read it in words; the stored form stays for process owners and the API.
_DUE_VARIABLES: dict[str, Text] = {"report_due": Text("hạn nộp báo cáo của kỳ đánh giá")}


def due_source_text(source: str | None) -> str | None:
    """SOURCE of a deadline in words: 'hạn nộp báo cáo của kỳ đánh giá', '3 ngày làm việc kể từ khi nhận'."""
    if not source:
        return source
    if source.startswith("dueInWorkingDays="):
        return Text("{days} ngày làm việc kể từ khi nhận", days=source.split("=", 1)[1])
    if source.startswith("camunda:dueDate "):
        expression = source.split(" ", 1)[1].strip()
        name = expression.removeprefix("${").removesuffix("}").strip()
        return _DUE_VARIABLES.get(name) or Text("hạn đặt trong sơ đồ quy trình")
    return source  # a supervisor's change: already a sentence ("điều chỉnh bởi … ngày …")


RATING_LABELS: dict[str, Text] = {
    "excellent": Text("Hoàn thành xuất sắc nhiệm vụ"),
    "complete": Text("Hoàn thành nhiệm vụ"),
    "incomplete": Text("Không hoàn thành nhiệm vụ"),
    "manual_review": Text("Cần xem xét thủ công"),
}
SANCTION_LABELS: dict[str, Text] = {
    "none": Text("Không xử lý"),
    "criticism": Text("Phê bình"),
    "reprimand": Text("Khiển trách"),
    "warning": Text("Cảnh cáo"),
    "manual_review": Text("Cần xem xét thủ công"),
}
REWARD_LABELS: dict[str, Text] = {
    "eligible": Text("Đủ điều kiện đề nghị khen thưởng"),
    "ad_hoc_eligible": Text("Đề nghị khen thưởng đột xuất"),
    "none": Text("Không đề nghị"),
}
# The ICT Index rank class of a year, as the decision tables ict_rank_class / prev_ict_rank_class give it.
RANK_CLASS_LABELS: dict[str, Text] = {
    "top20": Text("Nhóm 20% cao nhất"),
    "middle": Text("Nhóm giữa"),
    "bot15": Text("Nhóm 15% thấp nhất"),
    "not_ranked": Text("Không có xếp hạng"),
}
# Whether a year's report came in on time (an agency's history, the statistics).
REPORT_TIMELINESS_LABELS: dict[str, Text] = {
    "on_time": Text("Nộp đúng hạn"),
    "late": Text("Nộp sau hạn"),
    "missing": Text("Không nộp"),
    "pending": Text("Chưa nộp, còn hạn"),
    "none": Text("Không có báo cáo trong hệ thống"),
}
# An outcome field and the labels of its values.
OUTCOME_FIELDS: dict[str, tuple[Text, dict[str, Text]]] = {
    "rating": (Text("Xếp loại"), RATING_LABELS),
    "sanction": (Text("Hình thức xử lý"), SANCTION_LABELS),
    "reward": (Text("Khen thưởng"), REWARD_LABELS),
}
REASON_LABELS: dict[str, Text] = {
    "BOT15_BUT_NO_VIOLATION": Text("Thuộc nhóm 15% thấp nhất nhưng không vi phạm mục nào"),
    "NOT_RANKED": Text("Đơn vị không có xếp hạng ICT Index"),
    "RANK_TIE": Text("Đồng hạng tại ranh giới nhóm xếp hạng"),
    "TOP20_BUT_VIOLATION": Text("Thuộc nhóm 20% cao nhất nhưng có vi phạm"),
    "OR_READING_ONLY": Text("Chỉ thỏa Điều 17.1a nếu hiểu điều kiện theo nghĩa 'hoặc'"),
    "MISSING_INPUT:slow_conclusions": Text("Thiếu dữ liệu: chậm triển khai kết luận của UBND tỉnh"),
    "MISSING_INPUT:ict_rank": Text("Thiếu dữ liệu: xếp hạng ICT Index năm đánh giá"),
    "MISSING_INPUT:prev_ict_rank": Text("Thiếu dữ liệu: xếp hạng ICT Index năm trước"),
    "KHT_NO_SANCTION_RULE": Text("Không hoàn thành nhiệm vụ nhưng không có quy định xử lý tương ứng"),
    "BOT15_2Y_NOT_USED": Text(
        "Hai năm liền thuộc nhóm 15% thấp nhất nhưng không vi phạm đúng hai mục (Điều 17.1b không áp dụng)"),
    "OVERLAP_A_B": Text("Điều 17.1a và 17.1b chồng lấn; áp dụng quy định cụ thể hơn"),
    "GAP_THREE_SECTIONS": Text("Vi phạm 3 mục: Quy định không có hình thức xử lý"),
    "N4_NO_SUPERIOR_REQUEST": Text("Vi phạm cả 4 mục nhưng cấp trên chưa yêu cầu kiểm điểm"),
    "SPECIAL_ACHIEVEMENT": Text("Có thành tích đặc biệt xuất sắc"),
    "RATING_PENDING_REVIEW": Text("Xếp loại đang chờ xem xét"),
    "LATE_REPORT": Text("Báo cáo nộp muộn hoặc không nộp (Điều 19)"),
    "NO_REPORT": Text("Không có báo cáo được tiếp nhận: Sở TT&TT quyết định (A24)"),
    "CONFLICT_OF_INTEREST": Text("Sở TT&TT tự đánh giá: kết quả do người ngoài Sở thẩm định (A23)"),
    "SUBJECT_AMBIGUOUS": Text("Có nhiều người được đánh giá (thủ trưởng thay đổi trong năm, hoặc cấp phó được "
                              "phân công): Sở Nội vụ chọn người (A14, A15)"),
    "CANBO_NOT_CONGCHUC": Text("Chủ tịch UBND cấp huyện là cán bộ, không phải công chức: cần rà soát pháp lý (A17)"),
}
CYCLE_STATUS_LABELS: dict[str, Text] = {
    "reporting": Text("Đang nhận báo cáo"), "evaluating": Text("Đang đánh giá"), "decided": Text("Đã có quyết định")}
INSTANCE_STATUS_LABELS: dict[str, Text] = {
    "running": Text("Đang xử lý"), "completed": Text("Đã kết thúc"), "cancelled": Text("Đã hủy")}
# Where an agency's report stands in a year (the cycle page's progress).
REPORT_STAGE_LABELS: dict[str, Text] = {
    "drafting": Text("Cơ quan đang lập báo cáo"), "awaiting_head": Text("Chờ thủ trưởng phê duyệt"),
    "awaiting_dic": Text("Chờ Sở TT&TT thẩm định"), "accepted": Text("Đã tiếp nhận"), "running": Text("Đang xử lý"),
    "cancelled": Text("Đã hủy")}
# The stage of the cycle at which an outcome was overridden.
OVERRIDE_STAGE_LABELS: dict[str, Text] = {
    "evaluate": Text("Sở TT&TT đánh giá"), "dic_self_review": Text("Thẩm định kết quả của Sở TT&TT"),
    "home_affairs": Text("Sở Nội vụ đề xuất"), "committee": Text("UBND tỉnh quyết định")}
NOTIFICATION_KIND_LABELS: dict[str, Text] = {
    "remind": Text("Nhắc hạn"),
    "overdue": Text("Quá hạn"),
    "escalate": Text("Báo cáo quá hạn"),
    "due_changed": Text("Điều chỉnh hạn"),
    "returned": Text("Công việc bị trả lại"),
    "reassigned": Text("Được giao việc"),
    "reassigned_away": Text("Việc đã giao người khác"),
    "handover_requested": Text("Đề nghị trả việc về nhóm"),
}


def notification_kind_label(kind: str) -> str:
    """The label of a notification kind (remind_5 → Nhắc hạn)."""
    return NOTIFICATION_KIND_LABELS.get(kind) or NOTIFICATION_KIND_LABELS.get(kind.split("_")[0], kind)


# Keys of submitted data that are not camunda:formData fields (those take their label from the diagram).
DATA_KEY_LABELS: dict[str, Text] = {
    "_authority": Text("Căn cứ giao việc"), "criteria": Text("Tự đánh giá theo tiêu chí"),
    "budget": Text("Kinh phí ứng dụng CNTT"), "year": Text("Năm đánh giá"), "report_due": Text("Hạn nộp báo cáo"),
    "report_due_at": Text("Thời hạn nộp báo cáo"), "unit_codes": Text("Các cơ quan"), "unit_code": Text("Cơ quan"),
    "unit_name": Text("Tên cơ quan"), "reports_started": Text("Số báo cáo đã khởi tạo"),
    "late_reports": Text("Số báo cáo nộp muộn hoặc không nộp"), "proposals": Text("Số đề xuất"),
    "manual_reviews": Text("Số trường hợp cần xem xét thủ công"), "results_recorded": Text("Đã ghi nhận kết quả"),
    "units": Text("Số liệu từng cơ quan"), "overrides": Text("Điều chỉnh kết quả"),
    "ict_rank": Text("Thứ hạng ICT Index"), "ict_units": Text("Số đơn vị của khối"),
    "appraisal": Text("Thẩm định theo tiêu chí"), "slow_conclusions": Text("Chậm triển khai kết luận của UBND tỉnh"),
    "sections_violated": Text("Các mục vi phạm"), "superior_requires_review": Text("Cấp trên yêu cầu kiểm điểm"),
    "lacks_responsibility": Text("Thiếu trách nhiệm"),
    "special_achievement": Text("Thành tích đặc biệt xuất sắc"), "reason": Text("Lý do"), "body": Text("Nội dung"),
    "status": Text("Kết quả"), "note": Text("Ghi chú"), "evidence": Text("Minh chứng"),
}
# The details of a cycle (the cycle page's header).
CYCLE_DETAIL_LABELS: dict[str, Text] = {
    "year": Text("Năm đánh giá"), "status": Text("Trạng thái"), "report_due": Text("Hạn nộp báo cáo"),
    "units": Text("Số cơ quan"), "opened_by": Text("Người mở kỳ"), "opened_at": Text("Thời điểm mở"),
    "report_version": Text("Phiên bản quy trình báo cáo"), "evaluation_version": Text("Phiên bản bộ quy tắc đánh giá"),
    "decision_number": Text("Số quyết định"), "decision_date": Text("Ngày quyết định"),
}
YES, NO = Text("Có"), Text("Không")
NOT_ASSESSED = Text("Chưa đánh giá")  # a criterion the agency left without a self-assessment
ARTICLE = Text("Điều")  # the word before an article's number in an outcome's grounds: "Điều 15.1"
# The two blocks of units ranked apart by the ICT Index (Block in workflows/models.py).
BLOCK_LABELS: dict[str, Text] = {
    "department": Text("Khối sở, ban, ngành"), "district": Text("Khối huyện, thị xã, thành phố")}
# The year's documents (workflows/documents).
DOCUMENT_TITLES: dict[str, Text] = {
    "dic_report": Text("Báo cáo tổng hợp kết quả đánh giá (Sở TT&TT)"),
    "ha_proposal": Text("Tờ trình khen thưởng, xử lý (Sở Nội vụ)"),
    "decision": Text("Dự thảo Quyết định của UBND tỉnh"),
    "unit_notice": Text("Mẫu thông báo kết quả cho đơn vị")}

# Moving a running instance to another version (workflows/instance_migration.py): where each step it stands at is,
# what becomes of it, and what changed in it (keys of workflows/engine/migration.py's step comparison).
MIGRATION_STATE_LABELS: dict[str, Text] = {
    "ready": Text("đang chờ xử lý"), "waiting": Text("đang chờ sự kiện (hẹn giờ, message)"),
    "running": Text("đang chạy")}
MIGRATION_OUTCOME_LABELS: dict[str, Text] = {
    "kept": Text("giữ nguyên"), "changed": Text("giữ, áp dụng thay đổi"),
    "removed": Text("không còn trong phiên bản mới")}
MIGRATION_CHANGE_LABELS: dict[str, Text] = {
    "name": Text("tên bước"), "id": Text("mã bước"), "formData": Text("trường biểu mẫu"),
    "form": Text("trường biểu mẫu"), "candidateGroups": Text("vai trò"), "role": Text("vai trò (theo lane)"),
    "dueDate": Text("hạn xử lý"), "followUpDate": Text("ngày nhắc"), "priority": Text("độ ưu tiên"),
    "assignee": Text("người xử lý"), "candidateUsers": Text("người được giao"), "formKey": Text("trang nghiệp vụ"),
    "flows": Text("luồng đi tiếp"), "lane": Text("lane"), "dueInWorkingDays": Text("số ngày làm việc"),
    "documentation": Text("mô tả")}
# A comparison in a decision table's input cell, in words (workflows/dmn_tables.py describe_words).
COMPARISON_LABELS: dict[str, Text] = {
    "<=": Text("nhỏ hơn hoặc bằng"), ">=": Text("lớn hơn hoặc bằng"), "<": Text("nhỏ hơn"), ">": Text("lớn hơn")}

# Names drawn in bpmn/: processes, steps, lanes, form fields and their options, decision tables and their columns.
# A diagram an owner uploads later may bring new names; they show as drawn until the catalogue learns them.
DIAGRAM_WORDS: tuple[Text, ...] = (
    Text("Báo cáo kết quả ứng dụng CNTT hằng năm"),
    Text("Kỳ đánh giá trách nhiệm người đứng đầu về ứng dụng CNTT"),
    Text("Đề xuất xếp loại, khen thưởng, xử lý trách nhiệm của một đơn vị"),
    Text("Lập báo cáo và tự đánh giá"),
    Text("Phê duyệt báo cáo"),
    Text("Thẩm định, tiếp nhận báo cáo"),
    Text("Tổng hợp, thẩm định tiêu chí và xếp hạng ICT Index"),
    Text("Đánh giá trách nhiệm người đứng đầu (Điều 15)"),
    Text("Thẩm định kết quả đánh giá của chính Sở TT&TT (bốn mắt)"),
    Text("Đề xuất khen thưởng, xử lý trách nhiệm (tờ trình)"),
    Text("Quyết định khen thưởng, xử lý trách nhiệm"),
    Text("Số cán bộ chuyên trách CNTT"),
    Text("Tỷ lệ văn bản đi gửi điện tử (%)"),
    Text("Tỷ lệ văn bản đến xử lý trên hệ thống (%)"),
    Text("Khó khăn, vướng mắc kiến nghị Sở TT&TT (Điều 19)"),
    Text("Quyết định"),
    Text("Ý kiến / lý do trả lại"),
    Text("Kết quả thẩm định"),
    Text("Ý kiến thẩm định / lý do trả lại"),
    Text("Quyết định của Sở Nội vụ"),
    Text("Lý do trả lại / ghi chú"),
    Text("Ý kiến của UBND tỉnh"),
    Text("Số quyết định"),
    Text("Ngày quyết định"),
    Text("Lý do"),
    Text("Năm đánh giá"),
    Text("Hạn nộp báo cáo"),
    Text("Phê duyệt, gửi Sở TT&TT"),
    Text("Trả lại để chỉnh sửa, bổ sung"),
    Text("Tiếp nhận báo cáo"),
    Text("Trả lại để bổ sung"),
    Text("Trình UBND tỉnh"),
    Text("Trả lại Sở TT&TT"),
    Text("Trả lại Sở TT&TT (bước đánh giá)"),
    Text("Trả lại Sở TT&TT (bước tổng hợp)"),
    Text("Ban hành quyết định"),
    Text("Trả lại Sở Nội vụ"),
    Text("Phân nhóm xếp hạng ICT Index năm đánh giá"),
    Text("Phân nhóm xếp hạng ICT Index năm trước"),
    Text("Xếp loại người đứng đầu (Điều 15)"),
    Text("Đề xuất khen thưởng (Điều 16)"),
    Text("Đề xuất hình thức xử lý trách nhiệm (Điều 17)"),
    Text("Có xếp hạng"),
    Text("Thuộc nhóm 20% cao nhất"),
    Text("Thuộc nhóm 15% thấp nhất"),
    Text("Nhóm xếp hạng ICT Index năm đánh giá"),
    Text("Nhóm xếp hạng ICT Index năm trước"),
    Text("Nhóm xếp hạng ICT Index"),
    Text("Số mục vi phạm"),
    Text("Đồng hạng tại ranh giới nhóm"),
    Text("Mức xếp loại"),
    Text("Mã lý do"),
    Text("Điều khoản áp dụng"),
    Text("Có thành tích đặc biệt xuất sắc"),
    Text("Đề xuất khen thưởng"),
    Text("Chậm triển khai kết luận của UBND tỉnh về CNTT"),
    Text("Cấp trên yêu cầu kiểm điểm và thiếu trách nhiệm"),
    Text("Hình thức xử lý đề xuất"),
    Text("Quy tắc áp dụng"),
    # lanes that are not role labels
    Text("Sở TT&TT – Chuyên viên thẩm định"),
    Text("Sở TT&TT – Lãnh đạo Sở"),
    Text("Sở Thông tin và Truyền thông"),
    Text("Thủ trưởng cơ quan (hoặc cấp phó được phân công)"),
)


def _values(*tables: Mapping[object, str] | Iterable[str]) -> Iterable[str]:
    for table in tables:
        yield from (table.values() if isinstance(table, Mapping) else table)


# Every word above plus the checklist's (workflows/criteria.py): what the `term` filter translates.
ALL_WORDS: frozenset[str] = frozenset(_values(
    ROLE_LABELS, [SYSTEM], RATING_LABELS, SANCTION_LABELS, REWARD_LABELS, RANK_CLASS_LABELS, REPORT_TIMELINESS_LABELS,
    [label for label, _ in OUTCOME_FIELDS.values()], REASON_LABELS, CYCLE_STATUS_LABELS, INSTANCE_STATUS_LABELS,
    REPORT_STAGE_LABELS, OVERRIDE_STAGE_LABELS,
    NOTIFICATION_KIND_LABELS, DATA_KEY_LABELS, CYCLE_DETAIL_LABELS, [YES, NO, NOT_ASSESSED, ARTICLE], BLOCK_LABELS,
    DOCUMENT_TITLES, MIGRATION_STATE_LABELS, MIGRATION_OUTCOME_LABELS, MIGRATION_CHANGE_LABELS, COMPARISON_LABELS,
    DIAGRAM_WORDS, SECTION_TITLES, STATUSES, BUDGET_CATEGORIES, [c.title_vi for c in CRITERIA],
))
