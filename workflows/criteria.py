"""The checklist (docs/RULES.md, Criteria and violated sections): criteria M1.5.1–M4.14.4 in Mục (section) 1–4."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workflows.messages import Text


@dataclass(frozen=True)
class Criterion:
    id: str
    section: int
    article: str
    title_vi: Text  # a Text, so pybabel puts it in the catalogue


CRITERIA: tuple[Criterion, ...] = (
    Criterion("M1.5.1", 1, "5.1", Text("Đầu tư, sử dụng, duy trì, nâng cấp hạ tầng kỹ thuật theo tiêu chuẩn")),
    Criterion("M1.5.2", 1, "5.2", Text("Xây dựng cơ sở dữ liệu theo danh mục cơ sở dữ liệu của tỉnh")),
    Criterion("M1.6.1", 1, "6", Text("Cơ sở dữ liệu sẵn sàng chia sẻ, kết nối liên thông")),
    Criterion("M2.7.1", 2, "7.1", Text("Cổng/trang thông tin điện tử có đủ thông tin bắt buộc")),
    Criterion("M2.7.2", 2, "7.2", Text("Thông tin dễ tiếp cận, không yêu cầu cung cấp lại")),
    Criterion("M2.7.3", 2, "7.3", Text("Thông tin chính xác, kịp thời, tuân thủ quy định")),
    Criterion("M2.8.1", 2, "8.1", Text("Công bố danh mục, lộ trình dịch vụ công trực tuyến")),
    Criterion("M2.8.2", 2, "8.2", Text("Hướng dẫn giao dịch trực tuyến")),
    Criterion("M2.8.3", 2, "8.3", Text("Tuyên truyền, thu hút giao dịch trực tuyến")),
    Criterion("M2.9.1", 2, "9.1", Text("Ban hành quy chế an toàn thông tin của đơn vị")),
    Criterion("M2.9.2", 2, "9.2", Text("Phân công cán bộ phụ trách an toàn thông tin")),
    Criterion("M2.9.3", 2, "9.3", Text("Áp dụng, hướng dẫn, kiểm tra định kỳ biện pháp an toàn thông tin")),
    Criterion("M3.10.1", 3, "10.1", Text("Chính sách phát triển quy mô, chất lượng đào tạo CNTT")),
    Criterion("M3.10.2", 3, "10.2", Text("Tạo điều kiện cho lãnh đạo, cán bộ chuyên trách học tập")),
    Criterion("M3.10.3", 3, "10.3", Text("Đào tạo kỹ năng CNTT; tuyển dụng đúng tiêu chuẩn")),
    Criterion("M3.11.1", 3, "11", Text("Đủ cán bộ chuyên trách CNTT đạt chuẩn")),
    Criterion("M4.12.1", 4, "12", Text("Kế hoạch ứng dụng CNTT hằng năm")),
    Criterion("M4.12.2", 4, "12", Text("Tổ chức thực hiện kế hoạch, phối hợp các đơn vị")),
    Criterion("M4.13.1", 4, "13.1", Text("Xác định nguồn kinh phí")),
    Criterion("M4.13.2", 4, "13.2", Text("Chi theo nội dung (Luật CNTT Điều 63.1)")),
    Criterion("M4.14.1", 4, "14.1", Text("Gắn CNTT với hiệu quả, chống lãng phí")),
    Criterion("M4.14.2", 4, "14.2", Text("Gắn CNTT với cải cách hành chính")),
    Criterion("M4.14.3", 4, "14.3", Text("Ưu tiên phần mềm nguồn mở")),
    Criterion("M4.14.4", 4, "14.4", Text("Phối hợp với Sở TT&TT, không đầu tư trùng lặp")),
)
CRITERIA_BY_ID = {c.id: c for c in CRITERIA}
SECTION_TITLES: dict[int, Text] = {
    1: Text("Mục 1. Xây dựng và sử dụng cơ sở hạ tầng thông tin"),
    2: Text("Mục 2. Cung cấp thông tin và dịch vụ công trực tuyến"),
    3: Text("Mục 3. Phát triển và sử dụng nguồn nhân lực CNTT"),
    4: Text("Mục 4. Triển khai ứng dụng CNTT"),
}
STATUSES: dict[str, Text] = {"pass": Text("Đạt"), "fail": Text("Vi phạm"), "na": Text("Không áp dụng")}
BUDGET_CATEGORIES: dict[str, Text] = {
    "infrastructure": Text("Hạ tầng kỹ thuật"),
    "software": Text("Phần mềm"),
    "databases": Text("Cơ sở dữ liệu, sao lưu"),
    "integration": Text("Tích hợp, liên thông"),
    "security": Text("An toàn thông tin"),
    "website": Text("Cổng/trang thông tin điện tử"),
    "online_services": Text("Dịch vụ công trực tuyến"),
    "regulations": Text("Xây dựng quy chế, quy định"),
    "training": Text("Đào tạo"),
    "other": Text("Khác"),
}


def violated_sections(statuses: Mapping[str, str], critical: set[str] | None = None) -> list[int]:
    """Mục k is violated when a critical criterion of k is marked 'fail' ([PROP]: every criterion is critical)."""
    critical_ids = critical if critical is not None else set(CRITERIA_BY_ID)
    return sorted({CRITERIA_BY_ID[cid].section for cid, status in statuses.items()
                   if status == "fail" and cid in critical_ids and cid in CRITERIA_BY_ID})
