"""What each problem of an upload says: code -> (Vietnamese, English), and what an expression is for.

{label} is the element ("'Name' (id)"); the other placeholders are the problem's parameters.
"""
from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "empty_upload": ("Chưa chọn tệp nào để tải lên.", "No file was chosen."),
    "too_many_files": ("Mỗi lần chỉ tải lên tối đa {limit} tệp.", "Upload at most {limit} files at a time."),
    "total_too_large": ("Tổng dung lượng các tệp vượt quá {limit} MB.", "The files together exceed {limit} MB."),
    "bad_name": ("Tên tệp '{file}' không hợp lệ: chỉ dùng chữ, số, dấu chấm, dấu gạch ngang và gạch dưới.",
                 "The file name '{file}' is not allowed: use letters, digits, dots, dashes and underscores."),
    "file_type": ("Tệp '{file}' không phải sơ đồ .bpmn hay bảng quyết định .dmn nên không được đọc.",
                  "'{file}' is neither a .bpmn diagram nor a .dmn decision table, so it was not read."),
    "camunda_form": ("Biểu mẫu Camunda Forms (tệp .form) chưa được hỗ trợ. Hãy khai báo các trường trong mục "
                     "'Form fields' (Generated task form) của bước trong Camunda Modeler.",
                     "Camunda Forms (.form files) are not supported. Declare the fields under 'Form fields' "
                     "(generated task form) of the step in Camunda Modeler."),
    "too_large": ("Tệp lớn hơn {limit} MB.", "The file is larger than {limit} MB."),
    "not_utf8": ("Tệp không phải văn bản UTF-8. Hãy lưu lại tệp từ Camunda Modeler.",
                 "The file is not UTF-8 text. Save it again from Camunda Modeler."),
    "doctype": ("Tệp có khai báo DOCTYPE hoặc ENTITY. Vì an toàn, hệ thống không đọc các khai báo này; Camunda "
                "Modeler không bao giờ ghi chúng.",
                "The file declares a DOCTYPE or ENTITY. For safety these are never read; Camunda Modeler does not "
                "write them."),
    "not_xml": ("Tệp không phải XML hợp lệ: {detail}", "The file is not well-formed XML: {detail}"),
    "not_bpmn": ("Tệp không phải sơ đồ BPMN 2.0 hay bảng quyết định DMN (thẻ gốc '{tag}').",
                 "The file is neither a BPMN 2.0 diagram nor a DMN decision (root element '{tag}')."),
    "wrong_extension": ("Tệp '{file}' chứa {kind} nhưng có đuôi '{ext}'. Hãy đổi tên cho đúng.",
                        "'{file}' holds {kind_en} but is named '{ext}'. Rename it."),
    "camunda8": ("Tệp được vẽ cho Camunda 8 (Zeebe), còn hệ thống chạy sơ đồ Camunda 7. Trong Camunda Modeler hãy "
                 "tạo sơ đồ 'Camunda 7' (Camunda Platform) và vẽ lại.",
                 "The file is made for Camunda 8 (Zeebe); this system runs Camunda 7 diagrams. Create a "
                 "'Camunda 7' (Camunda Platform) diagram in Camunda Modeler and draw it again."),
    "zeebe": ("Phần mở rộng Camunda 8 '{what}' của {label} không chạy được ở đây.",
              "The Camunda 8 extension '{what}' on {label} cannot run here."),
    "schema": ("Sơ đồ không đúng chuẩn BPMN/DMN: {detail}", "The file breaks the BPMN/DMN schema: {detail}"),
    "duplicate_process": ("Mã quy trình '{id}' có ở cả '{other}' và '{file}'.",
                          "The process id '{id}' is in both '{other}' and '{file}'."),
    "duplicate_decision": ("Mã quyết định '{id}' có ở cả '{other}' và '{file}'.",
                           "The decision id '{id}' is in both '{other}' and '{file}'."),
    "no_process": ("Bộ tệp không có quy trình nào chạy được (đánh dấu Executable). Bảng quyết định phải được tải lên "
                   "cùng quy trình dùng nó.",
                   "The files contain no executable process. A decision table must be uploaded with the process "
                   "that uses it."),
    "process_no_id": ("Quy trình {label} chưa có mã (Process ID).", "Process {label} has no id (Process ID)."),
    "not_executable": ("Quy trình {label} không được đánh dấu Executable nên sẽ không chạy.",
                       "Process {label} is not marked executable, so it will not run."),
    "no_start": ("Quy trình {label} cần đúng một sự kiện bắt đầu không điều kiện; hiện có {count}.",
                 "Process {label} needs exactly one plain start event; it has {count}."),
    "script_task": ("Bước script {label} không được phép: script có thể chạy mã trên máy chủ. Hãy dùng bước người "
                    "dùng, bảng quyết định hoặc External task.",
                    "Script task {label} is not allowed: scripts could run code on the server. Use a user task, a "
                    "decision table or an external task."),
    "script": ("Đoạn script ({what}) trong {label} không được phép: script có thể chạy mã trên máy chủ.",
               "The script ({what}) in {label} is not allowed: scripts could run code on the server."),
    "java_code": ("{label} gọi mã Java ({what}); hệ thống không chạy mã Java. Hãy đặt Implementation là 'External' "
                  "với một topic hệ thống biết: {topics}.",
                  "{label} calls Java code ({what}); this system runs no Java. Set its implementation to 'External' "
                  "with a topic the system knows: {topics}."),
    "not_external": ("{label} cần Implementation 'External' và một topic; hệ thống biết các topic: {topics}.",
                     "{label} needs implementation 'External' with a topic; the system knows: {topics}."),
    "unknown_topic": ("Topic '{topic}' của {label} không có chương trình xử lý; các topic hệ thống biết: {topics}.",
                      "No part of the system handles topic '{topic}' of {label}; known topics: {topics}."),
    "listener": ("{label} có {what}; listener chạy mã Java hoặc script nên không được hỗ trợ.",
                 "{label} has a {what}; listeners run Java code or scripts, so they are not supported."),
    "input_output": ("Tham số Input/Output của {label} chưa được hỗ trợ: biến sẽ không được ánh xạ như Camunda làm.",
                     "The input/output parameters of {label} are not supported: variables would not be mapped as "
                     "Camunda maps them."),
    "unsupported_element": ("Thành phần '{what}' ({label}) chưa được hỗ trợ.",
                            "The element '{what}' ({label}) is not supported."),
    "unsupported_event": ("Sự kiện loại '{what}' của {label} chưa được hỗ trợ.",
                          "The '{what}' event of {label} is not supported."),
    "camunda_extension": ("Phần mở rộng camunda:{what} trong {label} chưa được hỗ trợ.",
                          "The camunda:{what} extension in {label} is not supported."),
    "camunda_attribute": ("Thuộc tính camunda:{what} của {label} chưa được hỗ trợ: {why}",
                          "The camunda:{what} attribute of {label} is not supported: {why}"),
    "ignored_extension": ("Phần mở rộng '{what}' trong {label} bị bỏ qua.",
                          "The extension '{what}' in {label} is ignored."),
    "spiff_extension": ("Phần mở rộng spiffworkflow:{what} trong {label} không được đọc ở đây (chỉ đọc Camunda 7).",
                        "The spiffworkflow:{what} extension in {label} is not read here (only Camunda 7 is)."),
    "no_role": ("Bước {label} chưa có vai trò xử lý. Hãy ghi Candidate groups là một trong: {roles}; hoặc đặt bước "
                "vào một lane mang tên vai trò (ví dụ mã lane 'lane_dic_officer').{assignee}",
                "Step {label} reaches no role. Set Candidate groups to one of: {roles}; or put the step in a lane "
                "named after a role (e.g. lane id 'lane_dic_officer').{assignee_en}"),
    "unknown_group": ("Nhóm '{group}' trong Candidate groups của {label} không phải vai trò của hệ thống ({roles}).",
                      "The group '{group}' in the candidate groups of {label} is not a role of the system "
                      "({roles})."),
    "group_expression": ("Candidate groups của {label} phải ghi tên vai trò, không dùng biểu thức.",
                         "The candidate groups of {label} must name roles, not an expression."),
    "unknown_lane_role": ("Lane {label} ghi vai trò '{role}' không có trong hệ thống ({roles}).",
                          "Lane {label} names the role '{role}', which the system does not have ({roles})."),
    "expression": ("Biểu thức {where} của {label} không dùng được: {detail}",
                   "The {where_en} expression of {label} cannot be used: {detail}"),
    "timer": ("Thời gian của sự kiện hẹn giờ {label} không đọc được: {detail}",
              "The timer value of {label} cannot be read: {detail}"),
    "timer_cron": ("Biểu thức cron '{value}' của {label} chưa được hỗ trợ; hãy dùng ISO 8601, ví dụ R/P1D.",
                   "The cron expression '{value}' of {label} is not supported; use ISO 8601, e.g. R/P1D."),
    "timer_missing": ("Sự kiện hẹn giờ {label} cần đúng một giá trị thời gian (Date, Duration hoặc Cycle).",
                      "Timer {label} needs exactly one time value (date, duration or cycle)."),
    "task_date": ("{what} của {label} phải là một ngày (ví dụ 2025-12-15) hoặc biểu thức cho ra ngày, không phải "
                  "'{value}'. Để tính theo ngày làm việc, dùng thuộc tính dueInWorkingDays.",
                  "The {what_en} of {label} must be a date (e.g. 2025-12-15) or an expression giving one, not "
                  "'{value}'. For working days, use the dueInWorkingDays property."),
    "candidate_users_ignored": (
        "camunda:candidateUsers của {label} không được dùng: hệ thống giao việc theo vai trò ({group}); muốn giao "
        "cho một người cụ thể trong vai trò, dùng camunda:assignee hoặc để lãnh đạo giao lại.",
        "camunda:candidateUsers of {label} is not used: this system routes tasks by role ({group_en}); to give the "
        "task to one person of that role, use camunda:assignee, or let a leader reassign it."),
    "priority": ("Priority của {label} phải là số nguyên hoặc biểu thức, không phải '{value}'.",
                 "The priority of {label} must be a whole number or an expression, not '{value}'."),
    "property_number": ("Thuộc tính {what} của {label} phải là số nguyên không âm, không phải '{value}'.",
                        "The {what} property of {label} must be a whole number of at least 0, not '{value}'."),
    "form_key": ("Biểu mẫu '{key}' của {label} nằm ngoài sơ đồ (HTML hoặc Camunda Forms) nên hệ thống không hiển "
                 "thị được. Hãy khai báo các trường trong mục Form fields.",
                 "The form '{key}' of {label} lives outside the diagram (HTML or Camunda Forms), so it cannot be "
                 "shown. Declare the fields under Form fields instead."),
    "unknown_step_form": ("Form key '{key}' của {label} không phải trang nghiệp vụ nào của hệ thống ({known}).",
                          "The form key '{key}' of {label} is none of the system's purpose-built pages ({known})."),
    "form_field": ("Trường '{field}' của biểu mẫu {label}: {detail}",
                   "Field '{field}' of the form of {label}: {detail_en}"),
    "boundary_on_task": ("Sự kiện biên {what} {label} gắn vào '{task}' sẽ không bao giờ xảy ra: biểu mẫu và tác vụ "
                         "của hệ thống không phát sinh lỗi hay escalation BPMN. Chỉ gắn các sự kiện này vào "
                         "sub-process hoặc call activity.",
                         "The {what} boundary event {label} on '{task}' can never happen: the system's forms and "
                         "tasks do not throw BPMN errors or escalations. Attach it to a sub-process or call activity."),
    "message_throw": ("{label} gửi một message; hệ thống không gửi message từ sơ đồ. Hãy dùng External task.",
                      "{label} sends a message; this system sends no messages from diagrams. Use an external task."),
    "message_unknown": ("Message '{name}' mà {label} chờ không bao giờ được hệ thống gửi (hệ thống gửi: {known}), "
                        "nên quy trình sẽ chờ mãi.",
                        "The message '{name}' that {label} waits for is never sent by the system (it sends: "
                        "{known}), so the process would wait for ever."),
    "signal_unmatched": ("Tín hiệu '{name}' mà {label} chờ không được bước nào trong bộ tệp phát ra.",
                         "No step in these files throws the signal '{name}' that {label} waits for."),
    "signal_throw": ("Tín hiệu '{name}' của {label} chỉ đến được các bước trong cùng một lần chạy quy trình, không "
                     "đến các quy trình khác như trong Camunda.",
                     "The signal '{name}' of {label} reaches only the same running instance, not other instances as "
                     "in Camunda."),
    "ref_missing": ("{label} tham chiếu {what} '{ref}' nhưng tệp không khai báo {what} đó.",
                    "{label} refers to {what} '{ref}', which the file does not declare."),
    "called_missing": ("{label} gọi quy trình '{ref}' nhưng quy trình này không có trong bộ tệp tải lên.",
                       "{label} calls process '{ref}', which is not in the uploaded files."),
    "decision_missing": ("{label} dùng bảng quyết định '{ref}' nhưng bảng này không có trong bộ tệp tải lên.",
                         "{label} uses decision '{ref}', which is not in the uploaded files."),
    "decision_outputs": ("{label} lấy kết quả kiểu {mapping}, cần bảng '{ref}' có đúng một cột kết quả (đang có "
                         "{count}).",
                         "{label} maps the result as {mapping}, which needs decision '{ref}' to have one output (it "
                         "has {count})."),
    "binding": ("{label} chọn phiên bản cụ thể ({what}={value}); hệ thống luôn dùng phiên bản trong cùng bộ tệp.",
                "{label} binds to a specific version ({what}={value}); the system always uses the one in the same "
                "set of files."),
    "call_mapping": ("Ánh xạ biến {detail} của {label} chưa được hỗ trợ: quy trình con luôn nhận và trả lại mọi biến "
                     "cùng tên.",
                     "The variable mapping {detail} of {label} is not supported: the called process always receives "
                     "and returns every variable under the same name."),
    "gateway_no_condition": ("Luồng {flow} ra khỏi cổng {label} không có điều kiện và không phải luồng mặc định.",
                             "Flow {flow} leaving gateway {label} has no condition and is not the default flow."),
    "condition_ignored": ("Luồng {flow} có điều kiện nhưng không đi ra từ cổng Exclusive/Inclusive; điều kiện đó "
                          "sẽ không được xét.",
                          "Flow {flow} has a condition but does not leave an exclusive or inclusive gateway; the "
                          "condition would never be checked."),
    "condition_language": ("Điều kiện của luồng {label} viết bằng script ({what}); chỉ dùng biểu thức như "
                           "${{approved}} hoặc ${{amount > 1000}}.",
                           "The condition of flow {label} is a script ({what}); write an expression such as "
                           "${{approved}} or ${{amount > 1000}}."),
    "start_trigger": ("Sự kiện bắt đầu {label} là loại '{what}'; quy trình chỉ được khởi động bởi hệ thống.",
                      "Start event {label} is a '{what}' start; processes here are started by the system only."),
    "start_form": ("Các trường của biểu mẫu bắt đầu {label} là dữ liệu hệ thống truyền vào khi khởi động quy trình.",
                   "The fields of start form {label} are the data the system passes in when it starts the process."),
    "mi_collection": ("Collection '{value}' của {label} phải là tên một biến (ví dụ agencies), không phải biểu thức.",
                      "The collection '{value}' of {label} must name a variable (e.g. agencies), not an expression."),
    "mi_standard": ("Multi-instance của {label} phải khai báo Collection và Element variable như Camunda 7.",
                    "The multi-instance of {label} must use Camunda 7's collection and element variable."),
    "event_subprocess": ("Event sub-process {label} chưa được hỗ trợ.", "Event sub-process {label} is not supported."),
    "dmn_many_decisions": ("Tệp có {count} quyết định ({ids}); hệ thống đọc một quyết định mỗi tệp. Hãy tách mỗi "
                           "bảng ra một tệp .dmn.",
                           "The file has {count} decisions ({ids}); the system reads one decision per file. Put each "
                           "table in its own .dmn file."),
    "dmn_drg": ("Quyết định {label} phụ thuộc quyết định '{ref}' (decision requirements graph); hệ thống chưa chạy "
                "chuỗi quyết định. Hãy gọi từng bảng bằng một bước Business rule, lần lượt.",
                "Decision {label} requires decision '{ref}' (a decision requirements graph), which the system does "
                "not run. Call each table from its own business rule task, one after the other."),
    "dmn_not_table": ("Quyết định {label} không phải bảng quyết định ({what}); chỉ chạy được bảng.",
                      "Decision {label} is not a decision table ({what}); only tables can run."),
    "dmn_bkm": ("Business knowledge model {label} chưa được hỗ trợ.",
                "The business knowledge model {label} is not supported."),
    "hit_policy": ("Hit policy {policy} của bảng {label} chưa được hỗ trợ; dùng UNIQUE, FIRST, ANY, RULE ORDER "
                   "hoặc COLLECT.",
                   "Hit policy {policy} of table {label} is not supported; use UNIQUE, FIRST, ANY, RULE ORDER or "
                   "COLLECT."),
    "aggregation": ("Phép gộp {what} của bảng {label} chỉ dùng với hit policy COLLECT, một cột kết quả, và là SUM, "
                    "MIN, MAX hoặc COUNT.",
                    "Aggregation {what} of table {label} needs hit policy COLLECT, one output, and SUM, MIN, MAX or "
                    "COUNT."),
    "dmn_language": ("{label} viết bằng ngôn ngữ '{what}'; chỉ dùng FEEL.",
                     "{label} is written in '{what}'; use FEEL only."),
    "dmn_input": ("Cột điều kiện {label}: {detail}", "Input column {label}: {detail}"),
    "dmn_input_variable": ("Cột {label} đặt Input variable '{what}'; hãy để trống và dùng giá trị trực tiếp trong ô.",
                           "Column {label} sets the input variable '{what}'; leave it empty and compare values "
                           "directly in the cells."),
    "dmn_output_name": ("Cột kết quả {label} cần tên (Output name) là một tên biến, không trùng cột khác.",
                        "Output column {label} needs an output name that is a variable name, unlike the others."),
    "dmn_entries": ("Quy tắc {row} của bảng {label} có {got} ô {what}, bảng có {expected} cột.",
                    "Rule {row} of table {label} has {got} {what_en} cells; the table has {expected} columns."),
    "dmn_cell": ("Ô '{cell}' (quy tắc {row}, cột '{column}') của bảng {label} không đọc được: {detail}",
                 "Cell '{cell}' (rule {row}, column '{column}') of table {label} cannot be read: {detail}"),
    "unique_overlap": ("Bảng {label} có hit policy UNIQUE nhưng quy tắc {first} và {second} cùng khớp, ví dụ khi "
                       "{example}. Hãy sửa ô điều kiện hoặc đổi hit policy (ví dụ FIRST).",
                       "Table {label} has hit policy UNIQUE but rules {first} and {second} both match, e.g. when "
                       "{example}. Change their cells or the hit policy (e.g. FIRST)."),
    "any_disagree": ("Bảng {label} có hit policy ANY nhưng quy tắc {first} và {second} cùng khớp mà cho kết quả khác "
                     "nhau, ví dụ khi {example}.",
                     "Table {label} has hit policy ANY but rules {first} and {second} both match with different "
                     "results, e.g. when {example}."),
    "decision_unused": ("Bảng quyết định {label} không được bước nào trong bộ tệp dùng.",
                        "No step in these files uses decision {label}."),
    "engine": ("Bộ máy quy trình không đọc được sơ đồ: {detail}",
               "The workflow engine cannot read the files: {detail}"),
}

# What an expression is for, for the "expression" message.
WHERE = {"condition": ("điều kiện", "condition"), "dueDate": ("hạn xử lý (dueDate)", "due date"),
         "followUpDate": ("ngày nhắc (followUpDate)", "follow-up date"), "assignee": ("người xử lý", "assignee"),
         "candidateUsers": ("người được giao", "candidate users"), "priority": ("độ ưu tiên", "priority"),
         "requiredWhen": ("bắt buộc khi (requiredWhen)", "requiredWhen"),
         "defaultValue": ("giá trị mặc định", "default value"),
         "loopCardinality": ("số lần lặp", "loop cardinality"),
         "completionCondition": ("điều kiện hoàn thành", "completion condition"),
         "correlation": ("tương quan message", "message correlation")}
