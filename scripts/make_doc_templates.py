"""Write the four DOCX templates of workflows/documents/templates/ (run once; offices may then edit them in Word).

Layout after Nghị định 30/2020/NĐ-CP, Phụ lục I: issuing body (left) and national motto (right) in a borderless
table, number and symbol, place and date, the document's name and summary, body, recipients (left) and signature
block (right), then the annex table. The Jinja tags are docxtpl's: `{{ … }}` values, `{%tr for … %}` repeats a table
row, `{%p for … %}` repeats paragraphs (and the tables between them). Each tag is written as one run so Word's run
splitting never cuts it.

    .venv/bin/python scripts/make_doc_templates.py
"""
from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

OUT = Path(__file__).resolve().parent.parent / "workflows" / "documents" / "templates"
CENTER, LEFT, JUSTIFY = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.JUSTIFY


def _no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _para(container, text: str = "", *, bold=False, italic=False, size=13, align=JUSTIFY, indent=False):
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(3)
    if indent:
        paragraph.paragraph_format.first_line_indent = Cm(1)
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic, run.font.size = bold, italic, Pt(size)
    return paragraph


def _cell_para(cell, text, **kwargs):
    paragraph = cell.paragraphs[0] if not cell.paragraphs[0].text and len(cell.paragraphs) == 1 and not getattr(
        cell, "_used", False) else cell.add_paragraph()
    cell._used = True
    paragraph.alignment = kwargs.pop("align", CENTER)
    run = paragraph.add_run(text)
    run.bold, run.italic, run.font.size = kwargs.get("bold", False), kwargs.get("italic", False), Pt(
        kwargs.get("size", 13))
    return paragraph


def _document() -> Document:
    document = Document()
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(13)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Times New Roman")
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    return document


def _header(document, body_parent: str, body: str, number: str) -> None:
    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(10)
    if body_parent:
        _cell_para(left, body_parent, size=12)
    _cell_para(left, body, bold=True, size=12)
    _cell_para(left, "―――――", size=10)
    _cell_para(left, number, size=13)
    _cell_para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=12)
    _cell_para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=13)
    _cell_para(right, "―――――――――――", size=10)
    _cell_para(right, "{{ place_date }}", italic=True, size=13)


def _footer(document, recipients: list[str], signature: list[str]) -> None:
    table = document.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    _cell_para(left, "Nơi nhận:", bold=True, italic=True, size=12, align=LEFT)
    for line in recipients:
        _cell_para(left, line, size=11, align=LEFT)
    for line in signature:
        _cell_para(right, line, bold=True, size=13)
    _cell_para(right, "(Ký, ghi rõ họ tên, đóng dấu)", italic=True, size=12)


def _results_table(document, columns: list[tuple[str, str, float]], rows: str) -> None:
    table = document.add_table(rows=4, cols=len(columns))
    table.style = "Table Grid"
    table.autofit = False
    for column, (_, _, width) in zip(table.columns, columns, strict=True):
        column.width = Cm(width)  # the grid, which LibreOffice and Word lay out by
    for cell, (title, _, width) in zip(table.rows[0].cells, columns, strict=True):
        cell.width = Cm(width)
        _cell_para(cell, title, bold=True, size=11)
    _cell_para(table.rows[1].cells[0], "{%tr for r in " + rows + " %}", size=10)
    for cell, (_, field, width) in zip(table.rows[2].cells, columns, strict=True):
        cell.width = Cm(width)
        _cell_para(cell, "{{ r." + field + " }}", size=10, align=LEFT if field == "explanation" else CENTER)
    _cell_para(table.rows[3].cells[0], "{%tr endfor %}", size=10)


# Widths fill the landscape annex page: 29.7 cm less 3 + 1.5 cm of margins.
ALL_COLUMNS = [("TT", "no", 1), ("Cơ quan, đơn vị", "unit_name", 4.2), ("Xếp hạng ICT", "rank", 1.9),
               ("Mục vi phạm", "sections", 2.1), ("Xếp loại", "rating", 3), ("Khen thưởng / Xử lý", "outcome", 3.2),
               ("Giải thích", "explanation", 9.8)]


def _annex(document, title: str, ref: str) -> None:
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    _para(document, "Phụ lục", bold=True, align=CENTER)
    _para(document, title, bold=True, align=CENTER)
    _para(document, f"(Kèm theo {ref})", italic=True, align=CENTER)


def dic_report() -> Document:
    document = _document()
    _header(document, "UBND TỈNH BẮC NINH", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Số:        /BC-STTTT")
    _para(document, "BÁO CÁO", bold=True, size=14, align=CENTER)
    _para(document, "Tổng hợp kết quả đánh giá trách nhiệm của người đứng đầu cơ quan, đơn vị về ứng dụng công nghệ "
                    "thông tin năm {{ year }}", bold=True, align=CENTER)
    _para(document, "Kính gửi: Ủy ban nhân dân tỉnh Bắc Ninh.", align=CENTER)
    _para(document, "Thực hiện Quyết định số 358/2013/QĐ-UBND ngày 30/9/2013 của UBND tỉnh (Điều 18.2, Điều 19), Sở "
                    "Thông tin và Truyền thông tổng hợp báo cáo của {{ unit_count }} cơ quan, đơn vị, thẩm định theo "
                    "từng tiêu chí, xếp hạng Chỉ số ứng dụng CNTT (ICT Index) theo khối và đề xuất kết quả như sau:",
          indent=True)
    _para(document, "{{ summary }}", indent=True)
    _para(document, "Xếp hạng ICT Index theo khối và kết quả đề xuất của từng cơ quan, đơn vị tại Phụ lục kèm theo. "
                    "Sở Thông tin và Truyền thông kính báo cáo UBND tỉnh xem xét, chỉ đạo./.", indent=True)
    _footer(document, ["- Như trên;", "- Sở Nội vụ;", "- Lưu: VT, CNTT."], ["GIÁM ĐỐC"])
    _annex(document, "XẾP HẠNG ICT INDEX VÀ KẾT QUẢ ĐỀ XUẤT NĂM {{ year }}",
           "Báo cáo số        /BC-STTTT của Sở Thông tin và Truyền thông")
    _para(document, "{%p for b in blocks %}")
    _para(document, "{{ b.name }}", bold=True)
    _results_table(document, ALL_COLUMNS, "b.rows")
    _para(document, "{%p endfor %}")
    return document


def ha_proposal() -> Document:
    document = _document()
    _header(document, "UBND TỈNH BẮC NINH", "SỞ NỘI VỤ", "Số:        /TTr-SNV")
    _para(document, "TỜ TRÌNH", bold=True, size=14, align=CENTER)
    _para(document, "Về việc khen thưởng, xử lý trách nhiệm người đứng đầu cơ quan, đơn vị về ứng dụng công nghệ "
                    "thông tin năm {{ year }}", bold=True, align=CENTER)
    _para(document, "Kính gửi: Ủy ban nhân dân tỉnh Bắc Ninh.", align=CENTER)
    _para(document, "Căn cứ Quyết định số 358/2013/QĐ-UBND ngày 30/9/2013 của UBND tỉnh (Điều 15, 16, 17 và Điều "
                    "18.3); căn cứ kết quả đánh giá của Sở Thông tin và Truyền thông, Sở Nội vụ kính trình UBND tỉnh:",
          indent=True)
    _para(document, "1. Khen thưởng: {{ reward_count }} người đứng đầu (danh sách tại Phụ lục, mục I).", indent=True)
    _para(document, "2. Xử lý trách nhiệm: {{ sanction_count }} người đứng đầu (danh sách tại Phụ lục, mục II).",
          indent=True)
    _para(document, "{{ summary }}", indent=True)
    _para(document, "Sở Nội vụ kính trình UBND tỉnh xem xét, quyết định./.", indent=True)
    _footer(document, ["- Như trên;", "- Sở Thông tin và Truyền thông;", "- Lưu: VT, TĐKT."], ["GIÁM ĐỐC"])
    _annex(document, "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG, XỬ LÝ NĂM {{ year }}", "Tờ trình số        /TTr-SNV của Sở Nội vụ")
    _para(document, "I. Đề nghị khen thưởng", bold=True, align=LEFT)
    _results_table(document, ALL_COLUMNS, "rewards")
    _para(document, "II. Đề nghị xử lý trách nhiệm", bold=True, align=LEFT)
    _results_table(document, ALL_COLUMNS, "sanctions")
    _para(document, "III. Kết quả của tất cả cơ quan, đơn vị", bold=True, align=LEFT)
    _results_table(document, ALL_COLUMNS, "rows")
    return document


def decision() -> Document:
    document = _document()
    _header(document, "", "ỦY BAN NHÂN DÂN\nTỈNH BẮC NINH", "Số: {{ decision_number }}")
    _para(document, "DỰ THẢO", bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(document, "QUYẾT ĐỊNH", bold=True, size=14, align=CENTER)
    _para(document, "Về việc khen thưởng, xử lý trách nhiệm người đứng đầu cơ quan, đơn vị về ứng dụng công nghệ "
                    "thông tin năm {{ year }}", bold=True, align=CENTER)
    _para(document, "ỦY BAN NHÂN DÂN TỈNH BẮC NINH", bold=True, align=CENTER)
    _para(document, "Căn cứ Luật Tổ chức chính quyền địa phương;", italic=True, indent=True)
    _para(document, "Căn cứ Quyết định số 358/2013/QĐ-UBND ngày 30/9/2013 của UBND tỉnh ban hành Quy định trách nhiệm "
                    "của người đứng đầu cơ quan, đơn vị về ứng dụng công nghệ thông tin;", italic=True, indent=True)
    _para(document, "Theo đề nghị của Giám đốc Sở Nội vụ tại Tờ trình số        /TTr-SNV và báo cáo của Sở Thông "
                    "tin và Truyền thông,", italic=True, indent=True)
    _para(document, "QUYẾT ĐỊNH:", bold=True, align=CENTER)
    _para(document, "Điều 1. Khen thưởng {{ reward_count }} và xử lý trách nhiệm {{ sanction_count }} người đứng đầu "
                    "cơ quan, đơn vị về ứng dụng công nghệ thông tin năm {{ year }} theo danh sách tại Phụ lục kèm "
                    "theo (Điều 16, Điều 17).", indent=True)
    _para(document, "Điều 2. Sở Nội vụ hướng dẫn thủ tục khen thưởng; hình thức Khiển trách, Cảnh cáo thực hiện theo "
                    "quy định về xử lý kỷ luật (Điều 17.2).", indent=True)
    _para(document, "Điều 3. Quyết định này có hiệu lực kể từ ngày ký. Chánh Văn phòng UBND tỉnh, Giám đốc các Sở: Nội "
                    "vụ, Thông tin và Truyền thông và các cơ quan, đơn vị có tên tại Phụ lục chịu trách nhiệm thi "
                    "hành./.", indent=True)
    _footer(document, ["- Như Điều 3;", "- Chủ tịch, các PCT UBND tỉnh;", "- Lưu: VT, NC."],
            ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"])
    _annex(document, "DANH SÁCH KHEN THƯỞNG, XỬ LÝ TRÁCH NHIỆM NĂM {{ year }}",
           "Quyết định số {{ decision_number }} của UBND tỉnh Bắc Ninh")
    _para(document, "I. Khen thưởng", bold=True, align=LEFT)
    _results_table(document, ALL_COLUMNS, "rewards")
    _para(document, "II. Xử lý trách nhiệm", bold=True, align=LEFT)
    _results_table(document, ALL_COLUMNS, "sanctions")
    _para(document, "III. Kết quả đánh giá của tất cả cơ quan, đơn vị", bold=True, align=LEFT)
    _results_table(document, ALL_COLUMNS, "rows")
    return document


def unit_notice() -> Document:
    document = _document()
    _header(document, "", "ỦY BAN NHÂN DÂN\nTỈNH BẮC NINH", "Số:        /TB-UBND")
    _para(document, "THÔNG BÁO", bold=True, size=14, align=CENTER)
    _para(document, "Kết quả đánh giá trách nhiệm người đứng đầu về ứng dụng công nghệ thông tin năm {{ year }}",
          bold=True, align=CENTER)
    _para(document, "Kính gửi: {{ unit.unit_name }}.", align=CENTER)
    _para(document, "Căn cứ Quyết định số 358/2013/QĐ-UBND ngày 30/9/2013 của UBND tỉnh và {{ decision_ref }}, UBND "
                    "tỉnh thông báo kết quả đánh giá năm {{ year }} của cơ quan, đơn vị như sau:", indent=True)
    _para(document, "Xếp hạng Chỉ số ICT: {{ unit.rank }}; mục vi phạm: {{ unit.sections }}.", indent=True)
    _para(document, "Người được đánh giá: {{ unit.persons }}.", indent=True)
    _para(document, "Xếp loại: {{ unit.rating }}. Khen thưởng / xử lý: {{ unit.outcome }}.", indent=True)
    _para(document, "{{ unit.explanation }}", indent=True)
    _para(document, "Đề nghị cơ quan, đơn vị tổ chức thực hiện./.", indent=True)
    _footer(document, ["- Như trên;", "- Sở Thông tin và Truyền thông;", "- Sở Nội vụ;", "- Lưu: VT."],
            ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"])
    return document


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in (("dic_report", dic_report), ("ha_proposal", ha_proposal), ("decision", decision),
                        ("unit_notice", unit_notice)):
        document = build()
        document.core_properties.author = "Sở Thông tin và Truyền thông Bắc Ninh"
        document.save(OUT / f"{name}.docx")
        print(OUT / f"{name}.docx")


if __name__ == "__main__":
    main()
