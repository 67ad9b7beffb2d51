"""What each problem of an upload says, in Vietnamese: problem code -> template, and the words filled into them.

{label} is the element ("'Name' (id)"); the other placeholders are the problem's parameters. The templates become
`workflows.messages.Text`, so the web layer shows them in the reader's language through the one catalogue
(webapp/translations); `N_` only marks them for `pybabel extract`.
"""
from __future__ import annotations


def N_(template: str) -> str:  # noqa: N802 - the name pybabel extract knows
    """Mark TEMPLATE for the catalogue; it is translated when shown."""
    return template


MESSAGES: dict[str, str] = {
    "empty_upload": N_("Chưa chọn tệp nào để tải lên."),
    "too_many_files": N_("Mỗi lần chỉ tải lên tối đa {limit} tệp."),
    "total_too_large": N_("Tổng dung lượng các tệp vượt quá {limit} MB."),
    "bad_name": N_("Tên tệp '{file}' không hợp lệ: chỉ dùng chữ, số, dấu chấm, dấu gạch ngang và gạch dưới."),
    "file_type": N_("Tệp '{file}' không phải sơ đồ .bpmn hay bảng quyết định .dmn nên không được đọc."),
    "camunda_form": N_("Biểu mẫu Camunda Forms (tệp .form) chưa được hỗ trợ. Hãy khai báo các trường trong mục 'Form "
                       "fields' (Generated task form) của bước trong Camunda Modeler."),
    "too_large": N_("Tệp lớn hơn {limit} MB."),
    "not_utf8": N_("Tệp không phải văn bản UTF-8. Hãy lưu lại tệp từ Camunda Modeler."),
    "doctype": N_("Tệp có khai báo DOCTYPE hoặc ENTITY. Vì an toàn, hệ thống không đọc các khai báo này; Camunda "
                  "Modeler không bao giờ ghi chúng."),
    "not_xml": N_("Tệp không phải XML hợp lệ: {detail}"),
    "xml_syntax": N_("Tệp không phải XML hợp lệ: {detail} (dòng {row}, cột {column})."),
    "not_bpmn": N_("Tệp không phải sơ đồ BPMN 2.0 hay bảng quyết định DMN (thẻ gốc '{tag}')."),
    "wrong_extension": N_("Tệp '{file}' chứa {kind} nhưng có đuôi '{ext}'. Hãy đổi tên cho đúng."),
    "camunda8": N_("Tệp được vẽ cho Camunda 8 (Zeebe), còn hệ thống chạy sơ đồ Camunda 7. Trong Camunda Modeler hãy "
                   "tạo sơ đồ 'Camunda 7' (Camunda Platform) và vẽ lại."),
    "zeebe": N_("Phần mở rộng Camunda 8 '{what}' của {label} không chạy được ở đây."),
    "schema": N_("Sơ đồ không đúng chuẩn BPMN/DMN: {detail}"),
    "duplicate_process": N_("Mã quy trình '{id}' có ở cả '{other}' và '{file}'."),
    "duplicate_decision": N_("Mã quyết định '{id}' có ở cả '{other}' và '{file}'."),
    "no_process": N_("Bộ tệp không có quy trình nào chạy được (đánh dấu Executable). Bảng quyết định phải được tải "
                     "lên cùng quy trình dùng nó."),
    "process_no_id": N_("Quy trình {label} chưa có mã (Process ID)."),
    "not_executable": N_("Quy trình {label} không được đánh dấu Executable nên sẽ không chạy."),
    "no_start": N_("Quy trình {label} cần đúng một sự kiện bắt đầu không điều kiện; hiện có {count}."),
    "script_task": N_("Bước script {label} không được phép: script có thể chạy mã trên máy chủ. Hãy dùng bước người "
                      "dùng, bảng quyết định hoặc External task."),
    "script": N_("Đoạn script ({what}) trong {label} không được phép: script có thể chạy mã trên máy chủ."),
    "java_code": N_("{label} gọi mã Java ({what}); hệ thống không chạy mã Java. Hãy đặt Implementation là 'External' "
                    "với một topic hệ thống biết: {topics}."),
    "not_external": N_("{label} cần Implementation 'External' và một topic; hệ thống biết các topic: {topics}."),
    "unknown_topic": N_("Topic '{topic}' của {label} không có chương trình xử lý; các topic hệ thống biết: {topics}."),
    "listener": N_("{label} có {what}; listener chạy mã Java hoặc script nên không được hỗ trợ."),
    "input_output": N_("Tham số Input/Output của {label} không chạy được ở đây: {detail}."),
    "unsupported_element": N_("Thành phần '{what}' ({label}) chưa được hỗ trợ."),
    "unsupported_event": N_("Sự kiện loại '{what}' của {label} chưa được hỗ trợ."),
    "camunda_extension": N_("Phần mở rộng camunda:{what} trong {label} chưa được hỗ trợ."),
    "camunda_attribute": N_("Thuộc tính camunda:{what} của {label} chưa được hỗ trợ: {why}"),
    "ignored_extension": N_("Phần mở rộng '{what}' trong {label} bị bỏ qua."),
    "spiff_extension": N_("Phần mở rộng spiffworkflow:{what} trong {label} không được đọc ở đây (chỉ đọc Camunda 7)."),
    "no_role": N_("Bước {label} chưa có vai trò xử lý. Hãy ghi Candidate groups là một trong: {roles}; hoặc đặt bước "
                  "vào một lane mang tên vai trò (ví dụ mã lane 'lane_dic_officer').{assignee}"),
    "unknown_group": N_("Nhóm '{group}' trong Candidate groups của {label} không phải vai trò của hệ thống ({roles})."),
    "group_expression": N_("Candidate groups của {label} phải ghi tên vai trò, không dùng biểu thức."),
    "unknown_lane_role": N_("Lane {label} ghi vai trò '{role}' không có trong hệ thống ({roles})."),
    "expression": N_("Biểu thức {where} của {label} không dùng được: {detail}"),
    "timer": N_("Thời gian của sự kiện hẹn giờ {label} không đọc được: {detail}"),
    "timer_cron": N_("Biểu thức cron '{value}' của {label} chưa được hỗ trợ; hãy dùng ISO 8601, ví dụ R/P1D."),
    "timer_missing": N_("Sự kiện hẹn giờ {label} cần đúng một giá trị thời gian (Date, Duration hoặc Cycle)."),
    "task_date": N_("{what} của {label} phải là một ngày (ví dụ 2025-12-15) hoặc biểu thức cho ra ngày, không phải "
                    "'{value}'. Để tính theo ngày làm việc, dùng thuộc tính dueInWorkingDays."),
    "candidate_users_ignored": N_("camunda:candidateUsers của {label} không được dùng: hệ thống giao việc theo vai "
                                  "trò ({group}); muốn giao cho một người cụ thể trong vai trò, dùng camunda:assignee "
                                  "hoặc để lãnh đạo giao lại."),
    "priority": N_("Priority của {label} phải là số nguyên hoặc biểu thức, không phải '{value}'."),
    "property_number": N_("Thuộc tính {what} của {label} phải là số nguyên không âm, không phải '{value}'."),
    "form_key": N_("Biểu mẫu '{key}' của {label} nằm ngoài sơ đồ (HTML hoặc Camunda Forms) nên hệ thống không hiển "
                   "thị được. Hãy khai báo các trường trong mục Form fields."),
    "unknown_step_form": N_("Form key '{key}' của {label} không phải trang nghiệp vụ nào của hệ thống ({known})."),
    "form_field": N_("Trường '{field}' của biểu mẫu {label}: {detail}"),
    "boundary_on_task": N_("Sự kiện biên {what} {label} gắn vào '{task}' sẽ không bao giờ xảy ra: biểu mẫu và tác vụ "
                           "của hệ thống không phát sinh lỗi hay escalation BPMN. Chỉ gắn các sự kiện này vào "
                           "sub-process hoặc call activity."),
    "message_throw": N_("{label} gửi một message; hệ thống không gửi message từ sơ đồ. Hãy dùng External task."),
    "message_unknown": N_("Message '{name}' mà {label} chờ không bao giờ được hệ thống gửi (hệ thống gửi: {known}), "
                          "nên quy trình sẽ chờ mãi."),
    "signal_unmatched": N_("Tín hiệu '{name}' mà {label} chờ không được bước nào trong bộ tệp phát ra."),
    "signal_throw": N_("Tín hiệu '{name}' của {label} chỉ đến được các bước trong cùng một lần chạy quy trình, không "
                       "đến các quy trình khác như trong Camunda."),
    "ref_missing": N_("{label} tham chiếu {what} '{ref}' nhưng tệp không khai báo {what} đó."),
    "called_missing": N_("{label} gọi quy trình '{ref}' nhưng quy trình này không có trong bộ tệp tải lên."),
    "decision_missing": N_("{label} dùng bảng quyết định '{ref}' nhưng bảng này không có trong bộ tệp tải lên."),
    "decision_outputs": N_("{label} lấy kết quả kiểu {mapping}, cần bảng '{ref}' có đúng một cột kết quả (đang có "
                           "{count})."),
    "outcome_missing": N_("{label} kết thúc quy trình '{process}', mà hệ thống đọc kết quả từ đó, nhưng không nói "
                          "kết quả là gì: hãy thêm thuộc tính mở rộng outcome ({values}) trong Properties của sự kiện "
                          "kết thúc (xem bpmn/README.md); nếu không, kết thúc này không được tính là chấp nhận."),
    "outcome_value": N_("{label}: thuộc tính outcome là '{value}', hệ thống chỉ hiểu một giá trị {values}."),
    "decision_several": N_("{label} lấy kết quả kiểu {mapping} (một kết quả) từ bảng '{ref}', nhưng quy tắc {first} "
                           "và {second} của bảng cùng khớp, ví dụ khi {example}; khi đó Camunda dừng với lỗi. Hãy "
                           "sửa ô điều kiện, đổi hit policy (ví dụ FIRST hoặc UNIQUE) hoặc lấy kết quả kiểu "
                           "resultList vào camunda:resultVariable."),
    "binding": N_("{label} chọn phiên bản cụ thể ({what}={value}); hệ thống luôn dùng phiên bản trong cùng bộ tệp."),
    "call_mapping": N_("Ánh xạ biến {detail} của {label} chưa được hỗ trợ: quy trình con luôn nhận và trả lại mọi "
                       "biến cùng tên."),
    "gateway_no_condition": N_("Luồng {flow} ra khỏi cổng {label} không có điều kiện và không phải luồng mặc định: "
                               "như Camunda 7, luồng này được chọn ngay khi được xét tới (theo thứ tự trong sơ đồ). "
                               "Hãy thêm điều kiện hoặc đặt nó làm luồng mặc định."),
    "condition_ignored": N_("Luồng {flow} có điều kiện nhưng không đi ra từ cổng Exclusive/Inclusive; điều kiện đó "
                            "sẽ không được xét."),
    "condition_language": N_("Điều kiện của luồng {label} viết bằng script ({what}); chỉ dùng biểu thức như "
                             "${{approved}} hoặc ${{amount > 1000}}."),
    "start_trigger": N_("Sự kiện bắt đầu {label} là loại '{what}'; quy trình chỉ được khởi động bởi hệ thống."),
    "start_timer": N_("Sự kiện bắt đầu {label} là sự kiện hẹn giờ: ở đây quy trình không tự khởi động theo lịch "
                      "(timeCycle/timeDate). Hãy dùng một sự kiện bắt đầu thường; kỳ hằng năm do Sở TT&TT mở "
                      "khi mở kỳ đánh giá; bộ hẹn giờ đặt bên trong quy trình."),
    "start_form": N_("Các trường của biểu mẫu bắt đầu {label} là dữ liệu hệ thống truyền vào khi khởi động quy trình."),
    "mi_collection": N_("Collection '{value}' của {label} phải là một biến danh sách, viết agencies hoặc "
                        "${{agencies}}; biểu thức phức tạp hơn chưa được hỗ trợ: hãy tính danh sách ở bước trước."),
    "mi_output": N_("Tham số đầu ra '{parameter}' của {label} không dùng được trên hoạt động multi-instance, như trong "
                    "Camunda 7: mỗi lượt sẽ ghi đè kết quả của lượt trước. Hãy ghi kết quả của mỗi lượt vào Element "
                    "variable (nó được ghi lại vào Collection), hoặc đặt tham số đầu ra ở một bước sau vòng lặp."),
    "mi_standard": N_("Multi-instance của {label} phải khai báo Collection và Element variable như Camunda 7."),
    "event_subprocess": N_("Event sub-process {label} chưa được hỗ trợ."),
    "dmn_many_decisions": N_("Tệp có {count} quyết định ({ids}); hệ thống đọc một quyết định mỗi tệp. Hãy tách mỗi "
                             "bảng ra một tệp .dmn."),
    "dmn_drg": N_("Quyết định {label} phụ thuộc quyết định '{ref}' (decision requirements graph); hệ thống chưa chạy "
                  "chuỗi quyết định. Hãy gọi từng bảng bằng một bước Business rule, lần lượt."),
    "dmn_not_table": N_("Quyết định {label} không phải bảng quyết định ({what}); chỉ chạy được bảng."),
    "dmn_bkm": N_("Business knowledge model {label} chưa được hỗ trợ."),
    "hit_policy": N_("Hit policy {policy} của bảng {label} chưa được hỗ trợ; dùng UNIQUE, FIRST, ANY, RULE ORDER "
                     "hoặc COLLECT."),
    "aggregation": N_("Phép gộp {what} của bảng {label} chỉ dùng với hit policy COLLECT, một cột kết quả, và là SUM, "
                      "MIN, MAX hoặc COUNT."),
    "dmn_language": N_("{label} viết bằng ngôn ngữ '{what}'; chỉ dùng FEEL."),
    "dmn_input": N_("Cột điều kiện {label}: {detail}"),
    "dmn_input_variable": N_("Cột {label} đặt Input variable '{what}'; hãy để trống và dùng giá trị trực tiếp trong "
                             "ô."),
    "dmn_output_name": N_("Cột kết quả {label} cần tên (Output name) là một tên biến, không trùng cột khác."),
    "dmn_cell": N_("Ô '{cell}' (quy tắc {row}, cột '{column}') của bảng {label} không đọc được: {detail}"),
    "unique_overlap": N_("Bảng {label} có hit policy UNIQUE nhưng quy tắc {first} và {second} cùng khớp, ví dụ khi "
                         "{example}. Hãy sửa ô điều kiện hoặc đổi hit policy (ví dụ FIRST)."),
    "any_disagree": N_("Bảng {label} có hit policy ANY nhưng quy tắc {first} và {second} cùng khớp mà cho kết quả "
                       "khác nhau, ví dụ khi {example}."),
    "decision_unused": N_("Bảng quyết định {label} không được bước nào trong bộ tệp dùng."),
    "engine": N_("Bộ máy quy trình không đọc được sơ đồ: {detail}"),
    "dmn_entries_input": N_("Quy tắc {row} của bảng {label} có {got} ô điều kiện, bảng có {expected} cột."),
    "dmn_entries_output": N_("Quy tắc {row} của bảng {label} có {got} ô kết quả, bảng có {expected} cột."),
}

# What an expression is for, in the "expression" message.
WHERE = {
    "condition": N_("điều kiện"),
    "dueDate": N_("hạn xử lý (dueDate)"),
    "followUpDate": N_("ngày nhắc (followUpDate)"),
    "assignee": N_("người xử lý"),
    "candidateUsers": N_("người được giao"),
    "priority": N_("độ ưu tiên"),
    "requiredWhen": N_("bắt buộc khi (requiredWhen)"),
    "defaultValue": N_("giá trị mặc định"),
    "loopCardinality": N_("số lần lặp"),
    "completionCondition": N_("điều kiện hoàn thành"),
    "correlation": N_("tương quan message"),
}

# Words filled into templates, translated with them.
KIND_BPMN = N_("một sơ đồ BPMN")
KIND_DMN = N_("một bảng quyết định DMN")
DUE_DATE = N_("Hạn xử lý (dueDate)")
FOLLOW_UP_DATE = N_("Ngày nhắc (followUpDate)")
LANE_ROLE = N_("vai trò của lane")
ASSIGNEE_IS_ONE_PERSON = N_(" camunda:assignee '{assignee}' chỉ định một người, còn hệ thống giao việc theo vai trò.")


# libxml2's own sentences, by error code (lxml's XMLSyntaxError.code), in the page's language; any other code is
# described by the generic sentence, the line and the column, so no English sentence reaches a Vietnamese page.
XML_ERRORS = {
    76: N_("thẻ mở <{first}> (dòng {first_line}) lại được đóng bằng </{second}>"),
    77: N_("tệp kết thúc khi thẻ <{first}> chưa đóng"),
    39: N_("giá trị thuộc tính phải nằm trong dấu nháy \" hoặc '"),
    26: N_("thực thể '{first}' không được định nghĩa"),
    5: N_("có nội dung sau thẻ gốc"),
    42: N_("thuộc tính {first} được khai báo hai lần"),
    4: N_("tệp rỗng"),
    68: N_("tên thẻ không hợp lệ"),
    201: N_("tiền tố namespace '{first}' của thẻ {second} chưa được khai báo"),
}
XML_ERROR_OTHER = N_("lỗi cú pháp XML")
