"""Checks an uploaded set of .bpmn/.dmn files before it may become a version, and says plainly what is wrong.

Process owners bring files from Camunda Modeler. SpiffWorkflow accepts much that it then runs wrongly or not at all
(SPIFFWORKFLOW-NOTES §1.3, §1.4, §6, §9): expressions are only read at run time, Camunda 8 files and Java service
tasks are half-parsed, UNIQUE overlaps are never reported. So every file is read here first, as XML (never
executed), and every problem is reported at once with the file, the element, its line and a sentence in Vietnamese
and English. Only a set without errors goes on to the engine's own compilation, which is the last check.

What runs here: safe XML parsing (no DTD, no entities, size limits), the BPMN/DMN schemas, references between files
and elements, the role of every user task and its form fields, every expression (gateway conditions, timers, task
dates, form conditions, DMN cells) through the sandbox's checker, constructs the engine cannot run (scripts, Java
code, listeners, Camunda 8, external forms, decision graphs, unsupported hit policies), and UNIQUE overlaps that can
be shown from the table alone.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

from lxml import etree

from workflows import engine, expressions, feel, steps, topics
from workflows.errors import DefinitionInvalid
from workflows.messages import Text

MAX_FILES = 30
MAX_TOTAL_BYTES = 10_000_000
ROLES = sorted(engine.KNOWN_ROLES)
KNOWN_MESSAGES = frozenset(topics.DELIVERED_MESSAGES)  # the messages the application itself delivers
KNOWN_TOPICS = frozenset(topics.HANDLERS)
KNOWN_STEP_FORMS = frozenset(steps.HANDLERS)
FORM_FIELD_TYPES = ("string", "long", "boolean", "date", "enum")
CONSTRAINTS = {"required": None, "readonly": None, "min": "long", "max": "long", "minlength": "string",
               "maxlength": "string"}
MAX_STATIC_RULES = 300  # beyond this, UNIQUE overlaps are left to the run-time check

BPMN = engine.BPMN_MODEL_NS
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = ("http://www.omg.org/spec/DMN/20151101/dmn.xsd", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "https://www.omg.org/spec/DMN/20191111/MODEL/")
DMN_CAMUNDA = "http://camunda.org/schema/1.0/dmn"
_NAME = re.compile(r"[\w][\w.\- ]{0,99}")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_WRAPPED = re.compile(r"\s*[$#]\{.*\}\s*", re.DOTALL)


# --- the report --------------------------------------------------------------------------------------------------

# code -> (Vietnamese, English); {label} is the element ("'Name' (id)"), the rest are the problem's parameters.
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


@dataclass(frozen=True)
class Problem:
    """One finding: where it is, and a sentence for a process owner in Vietnamese and in English."""

    code: str
    message: str
    message_en: str
    file: str | None = None
    element: str | None = None
    name: str | None = None
    line: int | None = None
    severity: str = "error"  # "error" blocks the upload; "warning" is shown with the new version

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    """Everything found in one set of files."""

    problems: list[Problem] = field(default_factory=list)
    processes: list[str] = field(default_factory=list)  # executable process ids
    decisions: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def validate(files: Mapping[str, bytes]) -> Report:
    """Check FILES (name -> bytes as uploaded) as one set; never raises for anything in the files themselves."""
    checker = _Checker(files)
    try:
        checker.run()
    except Exception as exc:  # noqa: BLE001 - whatever a file holds, the owner gets a report, not a server error
        checker.add("engine", detail=f"{type(exc).__name__}: {exc}")
    return checker.report


def check(files: Mapping[str, bytes]) -> Report:
    """Validate FILES; raise DefinitionInvalid listing every error, else return the report (warnings only)."""
    report = validate(files)
    if not report.ok:
        count = len(report.errors)
        raise DefinitionInvalid(
            Text("Bộ tệp có {count} lỗi; chưa tạo phiên bản mới.", count=count),
            [p.as_dict() for p in report.errors],
        )
    return report


# --- helpers -------------------------------------------------------------------------------------------------------


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _ns(element: Any) -> str | None:
    return etree.QName(element).namespace if isinstance(element.tag, str) else None


def _label(element: Any) -> str:
    name, ident = (element.get("name") or "").strip(), element.get("id")
    if name and ident:
        return f"'{name}' ({ident})"
    return f"'{name or ident or _local(element)}'"


def _text(element: Any | None) -> str:
    return "" if element is None else "".join(element.itertext()).strip()


def _camunda(element: Any, name: str) -> str | None:
    return element.get(f"{{{CAMUNDA}}}{name}")


def _children(element: Any, tag: str, ns: str = BPMN) -> list[Any]:
    return element.findall(f"{{{ns}}}{tag}")


def _wrapped(value: str) -> bool:
    return bool(_WRAPPED.fullmatch(value))


# BPMN elements the engine runs, and the ones that only carry structure or documentation.
FLOW_NODES = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "userTask", "serviceTask", "sendTask", "receiveTask", "businessRuleTask", "callActivity", "subProcess",
              "task", "manualTask", "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway"}
STRUCTURE = {"sequenceFlow", "laneSet", "lane", "childLaneSet", "flowNodeRef", "documentation", "extensionElements",
             "incoming", "outgoing", "conditionExpression", "dataObject", "dataObjectReference", "dataState",
             "dataInputAssociation", "dataOutputAssociation", "sourceRef", "targetRef", "ioSpecification",
             "dataInput", "dataOutput", "inputSet", "outputSet", "dataInputRefs", "dataOutputRefs", "property",
             "textAnnotation", "text", "association", "group", "multiInstanceLoopCharacteristics", "loopCardinality",
             "completionCondition", "loopDataInputRef", "loopDataOutputRef", "inputDataItem", "outputDataItem",
             "timerEventDefinition", "timeDate", "timeDuration", "timeCycle", "messageEventDefinition",
             "signalEventDefinition", "errorEventDefinition", "escalationEventDefinition",
             "terminateEventDefinition", "assignment", "from", "to", "transformation"}
UNSUPPORTED = {"scriptTask": "script task", "complexGateway": "complex gateway",
               "adHocSubProcess": "ad-hoc sub-process",
               "transaction": "transaction", "dataStoreReference": "data store", "standardLoopCharacteristics": "loop",
               "callChoreography": "choreography", "subChoreography": "choreography",
               "choreographyTask": "choreography", "humanPerformer": "human performer",
               "potentialOwner": "potential owner", "resourceRole": "resource", "performer": "performer",
               "script": "script", "rendering": "rendering"}
EVENT_DEFINITIONS = {"timerEventDefinition": "timer", "messageEventDefinition": "message",
                     "signalEventDefinition": "signal", "errorEventDefinition": "error",
                     "escalationEventDefinition": "escalation", "terminateEventDefinition": "terminate",
                     "cancelEventDefinition": "cancel", "compensateEventDefinition": "compensation",
                     "conditionalEventDefinition": "conditional", "linkEventDefinition": "link"}
UNSUPPORTED_EVENTS = {"cancel", "compensation", "conditional", "link"}
CAMUNDA_ELEMENTS_OK = {"properties", "property", "formData", "formField", "validation", "constraint", "value",
                       "in", "out", "failedJobRetryTimeCycle", "potentialStarter"}
CAMUNDA_ELEMENTS_REFUSED = {"executionListener": "listener", "taskListener": "listener", "inputOutput": "input_output",
                            "inputParameter": "input_output", "outputParameter": "input_output",
                            "connector": "java_code", "field": "java_code", "script": "script",
                            "errorEventDefinition": "camunda_extension", "formProperty": "camunda_extension"}
# camunda: attributes with no effect here, as in Camunda itself (jobs, history, modeler bookkeeping).
CAMUNDA_HARMLESS = {"asyncBefore", "asyncAfter", "async", "exclusive", "jobPriority", "taskPriority",
                    "historyTimeToLive", "versionTag", "isStartableInTasklist", "candidateStarterGroups",
                    "candidateStarterUsers", "modelerTemplate", "modelerTemplateVersion", "calledElementTenantId",
                    "decisionRefTenantId", "caseTenantId", "formRefBinding", "formRefVersion", "inputVariable"}
CAMUNDA_ATTRIBUTES = {
    "userTask": {"assignee", "candidateUsers", "candidateGroups", "dueDate", "followUpDate", "priority", "formKey"},
    "startEvent": {"formKey"},
    "serviceTask": {"type", "topic", "resultVariable"},
    "sendTask": {"type", "topic", "resultVariable"},
    "businessRuleTask": {"decisionRef", "decisionRefBinding", "decisionRefVersion", "decisionRefVersionTag",
                         "mapDecisionResult", "resultVariable"},
    "callActivity": {"calledElementBinding", "calledElementVersion", "calledElementVersionTag"},
    "multiInstanceLoopCharacteristics": {"collection", "elementVariable"},
}
CAMUNDA_ATTRIBUTES_REFUSED = {
    "class": ("java_code", "camunda:class"), "expression": ("java_code", "camunda:expression"),
    "delegateExpression": ("java_code", "camunda:delegateExpression"),
    "initiator": ("camunda_attribute", "the starting user is not passed into the process"),
    "formRef": ("form_key", None), "formHandlerClass": ("java_code", "camunda:formHandlerClass"),
    "errorCodeVariable": ("camunda_attribute", "the error code is not stored in a variable here"),
    "errorMessageVariable": ("camunda_attribute", "the error message is not stored in a variable here"),
    "escalationCodeVariable": ("camunda_attribute", "the escalation code is not stored in a variable here"),
    "variableMappingClass": ("java_code", "camunda:variableMappingClass"),
    "variableMappingDelegateExpression": ("java_code", "camunda:variableMappingDelegateExpression"),
    "caseRef": ("camunda_attribute", "CMMN cases do not exist here"),
    "resource": ("camunda_attribute", "scripts and external resources are not read"),
}


class _Checker:
    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = dict(files)
        self.report = Report()
        self.roots: dict[str, Any] = {}
        self.kinds: dict[str, str] = {}  # file -> "bpmn" | "dmn"
        self.process_file: dict[str, str] = {}
        self.process_elements: dict[str, Any] = {}
        self.decision_file: dict[str, str] = {}
        self.decision_elements: dict[str, Any] = {}
        self.used_decisions: set[str] = set()
        self.thrown_signals: set[str] = set()
        self.caught_signals: list[tuple[str, str, Any]] = []  # (file, signal name, element)
        self.result_mappings: list[tuple[str, Any, str, str]] = []  # (file, task, decision, mapping)
        self.calls: list[tuple[str, Any, str]] = []
        self.unreadable = False  # a file could not be read: do not also claim that no process exists
        self.decision_refs: list[tuple[str, Any, str]] = []

    # -- reporting --

    def add(self, code: str, file: str | None = None, element: Any = None, *, line: int | None = None,
            severity: str = "error", **params: Any) -> None:
        vi, en = MESSAGES[code]
        if element is not None:
            params.setdefault("label", _label(element))
        params.setdefault("file", file)
        where = params.get("where")
        if where in WHERE:
            params["where"], params["where_en"] = WHERE[where]
        params.setdefault("detail_en", params.get("detail", ""))
        values = {k: ("" if v is None else v) for k, v in params.items()}
        self.report.problems.append(Problem(
            code=code, message=vi.format_map(_Defaults(values)), message_en=en.format_map(_Defaults(values)),
            file=file, element=element.get("id") if element is not None else None,
            name=(element.get("name") or None) if element is not None else None,
            line=line if line is not None else (element.sourceline if element is not None else None),
            severity=severity))

    # -- the whole set --

    def run(self) -> None:
        if not self.files:
            self.add("empty_upload")
            return
        if len(self.files) > MAX_FILES:
            self.add("too_many_files", limit=MAX_FILES)
        if sum(len(content) for content in self.files.values()) > MAX_TOTAL_BYTES:
            self.add("total_too_large", limit=MAX_TOTAL_BYTES // 1_000_000)
        for name, content in sorted(self.files.items()):
            self.read_file(name, content)
        for name, root in self.roots.items():
            self.index(name, root)
        for name, root in self.roots.items():
            if self.kinds[name] == "bpmn":
                for process in _children(root, "process"):
                    self.check_process(name, process)
            else:
                self.check_dmn(name, root)
        self.check_references()
        self.report.processes = sorted(p for p, el in self.process_elements.items()
                                       if el.get("isExecutable") == "true")
        self.report.decisions = sorted(self.decision_file)
        if not self.report.errors and self.roots:
            self.compile()

    def read_file(self, name: str, content: bytes) -> None:
        self.unreadable = True  # until the file is indexed below
        if not _NAME.fullmatch(name) or name.startswith(".") or ".." in name:
            self.add("bad_name", name)
            return
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension == "form":
            self.add("camunda_form", name)
            return
        if extension not in ("bpmn", "dmn"):
            self.add("file_type", name)
            return
        if len(content) > engine.MAX_FILE_BYTES:
            self.add("too_large", name, limit=engine.MAX_FILE_BYTES // 1_000_000)
            return
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            self.add("not_utf8", name)
            return
        if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
            self.add("doctype", name, line=content[:content.find(b"<!")].count(b"\n") + 1)
            return
        try:
            root = engine.parse_xml(name, content)
        except DefinitionInvalid as exc:
            cause = exc.__cause__
            line = getattr(cause, "lineno", None)
            detail = getattr(cause, "msg", None) or exc.message
            self.add("not_xml", name, line=line, detail=detail)
            return
        namespace = _ns(root)
        kind = "bpmn" if namespace == BPMN and _local(root) == "definitions" else (
            "dmn" if namespace in DMN_NAMESPACES and _local(root) == "definitions" else None)
        if kind is None:
            self.add("not_bpmn", name, line=root.sourceline, tag=_local(root))
            return
        if kind != extension:
            self.add("wrong_extension", name, ext=f".{extension}",
                     kind="một sơ đồ BPMN" if kind == "bpmn" else "một bảng quyết định DMN",
                     kind_en="a BPMN diagram" if kind == "bpmn" else "a DMN decision")
            return
        if self.camunda8(name, root):
            return
        for line, message in engine.schema_errors(root) or []:
            self.add("schema", name, line=line, detail=_schema_detail(message))
        self.roots[name] = root
        self.kinds[name] = kind
        self.unreadable = False

    def camunda8(self, name: str, root: Any) -> bool:
        platform = root.get("{http://camunda.org/schema/modeler/1.0}executionPlatform") or ""
        zeebe = [el for el in root.iter() if _ns(el) == ZEEBE or any(a.startswith(f"{{{ZEEBE}}}") for a in el.attrib)]
        if not zeebe and platform != "Camunda Cloud" and ZEEBE not in root.nsmap.values():
            return False
        self.add("camunda8", name, line=root.sourceline)
        for element in zeebe:
            owner = element
            while owner is not None and (_ns(owner) == ZEEBE or _local(owner) == "extensionElements"):
                owner = owner.getparent()
            what = (f"zeebe:{_local(element)}" if _ns(element) == ZEEBE else
                    ", ".join(f"zeebe:{etree.QName(a).localname}" for a in element.attrib
                              if a.startswith(f"{{{ZEEBE}}}")))
            self.add("zeebe", name, owner if owner is not None else element, line=element.sourceline, what=what)
        return True

    def index(self, name: str, root: Any) -> None:
        if self.kinds[name] == "bpmn":
            for process in _children(root, "process"):
                ident = process.get("id")
                if not ident:
                    self.add("process_no_id", name, process)
                    continue
                if ident in self.process_file:
                    self.add("duplicate_process", name, process, id=ident, other=self.process_file[ident])
                    continue
                self.process_file[ident] = name
                self.process_elements[ident] = process
                if process.get("isExecutable") != "true" and process.find(f".//{{{BPMN}}}*") is not None:
                    self.add("not_executable", name, process, severity="warning")
            for element in root.iter(f"{{{BPMN}}}signalEventDefinition"):
                parent = element.getparent()
                if _local(parent) in ("intermediateThrowEvent", "endEvent"):
                    self.thrown_signals.add(self.signal_name(root, element) or "")
        else:
            decisions = _children(root, "decision", _ns(root))
            if len(decisions) > 1:
                self.add("dmn_many_decisions", name, line=root.sourceline, count=len(decisions),
                         ids=", ".join(d.get("id") or "?" for d in decisions))
            for decision in decisions[:1]:
                ident = decision.get("id")
                if ident in self.decision_file:
                    self.add("duplicate_decision", name, decision, id=ident, other=self.decision_file[ident])
                elif ident:
                    self.decision_file[ident] = name
                    self.decision_elements[ident] = decision

    # -- BPMN --

    def check_process(self, name: str, process: Any) -> None:
        root = process.getroottree().getroot()
        declared = {kind: {el.get("id"): el for el in _children(root, kind)}
                    for kind in ("message", "signal", "error", "escalation")}
        self.check_lanes(name, process)
        starts = [el for el in _children(process, "startEvent") if not _event_kinds(el)]
        if process.get("isExecutable") == "true" and len(starts) != 1:
            self.add("no_start", name, process, count=len(starts))
        for element in process.iter():
            if not isinstance(element.tag, str) or element is process:
                continue
            namespace, tag = _ns(element), _local(element)
            if namespace == BPMN:
                self.check_bpmn_element(name, element, tag, declared)
            elif namespace == CAMUNDA:
                self.check_camunda_element(name, element, tag)
            elif namespace == SPIFF:
                owner = _owner(element)
                if tag in ("preScript", "postScript", "script"):
                    self.add("script", name, owner, line=element.sourceline, what=f"spiffworkflow:{tag}")
                elif _local(element.getparent()) == "extensionElements":
                    self.add("spiff_extension", name, owner, line=element.sourceline, what=tag)
            elif _local(element.getparent()) == "extensionElements":
                self.add("ignored_extension", name, _owner(element), line=element.sourceline,
                         what=etree.QName(element).text, severity="warning")
            self.check_camunda_attributes(name, element, tag if namespace == BPMN else "")

    def check_lanes(self, name: str, process: Any) -> None:
        for lane in process.iter(f"{{{BPMN}}}lane"):
            role = engine.lane_role(lane)
            if role is not None and role not in engine.KNOWN_ROLES:
                self.add("unknown_lane_role", name, lane, role=role, roles=", ".join(ROLES))

    def check_bpmn_element(self, name: str, element: Any, tag: str, declared: dict[str, dict[str, Any]]) -> None:
        if tag in UNSUPPORTED:
            if tag == "scriptTask":
                self.add("script_task", name, element)
            elif tag == "script":
                if _local(element.getparent()) != "scriptTask":
                    self.add("script", name, _owner(element), line=element.sourceline, what="bpmn:script")
            else:
                owner = element if element.get("id") else element.getparent()
                self.add("unsupported_element", name, owner, line=element.sourceline, what=UNSUPPORTED[tag])
            return
        if element.get("isForCompensation") == "true":
            self.add("unsupported_element", name, element, what="compensation")
        if tag in EVENT_DEFINITIONS and EVENT_DEFINITIONS[tag] in UNSUPPORTED_EVENTS:
            self.add("unsupported_event", name, element.getparent(), line=element.sourceline,
                     what=EVENT_DEFINITIONS[tag])
            return
        if tag not in FLOW_NODES and tag not in STRUCTURE and tag not in EVENT_DEFINITIONS:
            self.add("unsupported_element", name, element, what=f"bpmn:{tag}")
            return
        check = getattr(self, f"check_{tag}", None)
        if check is not None:
            check(name, element)
        if tag in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "startEvent", "endEvent",
                   "receiveTask"):
            self.check_event(name, element, tag, declared)
        if tag in FLOW_NODES and (tag.endswith("Task") or tag in ("callActivity", "subProcess", "task")):
            self.check_loop(name, element)

    def check_camunda_element(self, name: str, element: Any, tag: str) -> None:
        owner = _owner(element)
        if tag in CAMUNDA_ELEMENTS_REFUSED:
            code = CAMUNDA_ELEMENTS_REFUSED[tag]
            if tag in ("inputParameter", "outputParameter", "script") and _local(element.getparent()) != \
                    "extensionElements" and code != "script":
                return  # reported once, on camunda:inputOutput
            what = {"executionListener": "execution listener", "taskListener": "task listener"}.get(tag, tag)
            if code == "java_code":
                self.add(code, name, owner, line=element.sourceline, what=f"camunda:{tag}", topics=_topics())
            elif code == "script":
                self.add(code, name, owner, line=element.sourceline, what="camunda:script")
            else:
                self.add(code, name, owner, line=element.sourceline, what=what)
        elif tag not in CAMUNDA_ELEMENTS_OK:
            self.add("camunda_extension", name, owner, line=element.sourceline, what=tag)
        elif tag in ("in", "out"):
            self.check_mapping(name, element, owner, tag)

    def check_mapping(self, name: str, element: Any, owner: Any, tag: str) -> None:
        if element.get("variables") == "all" or element.get("businessKey") is not None:
            return
        source, target = element.get("source"), element.get("target")
        if element.get("sourceExpression") is not None or not source or source != target or element.get("local"):
            text = " ".join(f'{k}="{v}"' for k, v in element.attrib.items())
            self.add("call_mapping", name, owner, line=element.sourceline, detail=f"camunda:{tag} {text}")

    def check_camunda_attributes(self, name: str, element: Any, tag: str) -> None:
        for attribute, value in element.attrib.items():
            qname = etree.QName(attribute)
            if qname.namespace == ZEEBE:
                continue  # reported with the whole file
            if qname.namespace == SPIFF:
                self.add("spiff_extension", name, element, what=qname.localname)
                continue
            if qname.namespace != CAMUNDA:
                continue
            local = qname.localname
            if local in CAMUNDA_HARMLESS or local in CAMUNDA_ATTRIBUTES.get(tag, ()):
                continue
            if local in CAMUNDA_ATTRIBUTES_REFUSED:
                code, why = CAMUNDA_ATTRIBUTES_REFUSED[local]
                if code == "java_code":
                    self.add(code, name, _owner(element), what=f"{why}=\"{value}\"", topics=_topics())
                elif code == "form_key":
                    self.add(code, name, element, key=f"camunda:formRef {value}")
                else:
                    self.add(code, name, element, what=local, why=why)
            elif tag == "messageEventDefinition" and local in ("type", "topic", "resultVariable"):
                continue  # a message thrown is refused on its own
            else:
                self.add("ignored_extension", name, element, what=f"camunda:{local}", severity="warning")

    # -- flow nodes --

    def check_userTask(self, name: str, task: Any) -> None:
        self.check_role(name, task)
        assignee = _camunda(task, "assignee")
        if assignee and _wrapped(assignee):
            self.check_expression(name, task, assignee, "assignee")
        for user in (_camunda(task, "candidateUsers") or "").split(","):
            if user.strip() and ("{" in user or "(" in user):
                self.check_expression(name, task, _camunda(task, "candidateUsers") or "", "candidateUsers")
                break
        if (_camunda(task, "candidateUsers") or "").strip():
            groups = (_camunda(task, "candidateGroups") or "").strip()
            self.add("candidate_users_ignored", name, task, group=groups or "vai trò của lane",
                     group_en=groups or "the lane's role", severity="warning")
        for attribute in ("dueDate", "followUpDate"):
            value = _camunda(task, attribute)
            if value is not None:
                self.check_task_date(name, task, attribute, value)
        priority = _camunda(task, "priority")
        if priority is not None and not re.fullmatch(r"\s*-?\d+\s*", priority):
            if _wrapped(priority):
                self.check_expression(name, task, priority, "priority")
            else:
                self.add("priority", name, task, value=priority)
        for prop in task.iterfind(f"{{{BPMN}}}extensionElements/{{{CAMUNDA}}}properties/{{{CAMUNDA}}}property"):
            if prop.get("name") == "dueInWorkingDays" and not re.fullmatch(r"\d{1,3}", (prop.get("value") or "")):
                self.add("property_number", name, task, what="dueInWorkingDays", value=prop.get("value"))
        self.check_form(name, task)
        for boundary in task.getparent().iterfind(f"{{{BPMN}}}boundaryEvent"):
            if boundary.get("attachedToRef") == task.get("id"):
                self.check_boundary_target(name, boundary, task)

    def check_role(self, name: str, task: Any) -> None:
        raw = _camunda(task, "candidateGroups")
        if raw is not None and raw.strip():
            if "{" in raw or "(" in raw:
                self.add("group_expression", name, task)
                return
            for group in (g.strip() for g in raw.split(",")):
                if group and group not in engine.KNOWN_ROLES:
                    self.add("unknown_group", name, task, group=group, roles=", ".join(ROLES))
            return
        lane = engine.lane_of(task)
        if lane is not None and engine.lane_role(lane) in engine.KNOWN_ROLES:
            return
        assignee = _camunda(task, "assignee")
        self.add("no_role", name, task, roles=", ".join(ROLES),
                 assignee=f" camunda:assignee '{assignee}' chỉ định một người, còn hệ thống giao việc theo vai trò."
                 if assignee else "",
                 assignee_en=f" camunda:assignee '{assignee}' names one person; this system routes tasks by role."
                 if assignee else "")

    def check_task_date(self, name: str, task: Any, attribute: str, value: str) -> None:
        text = value.strip()
        if engine.timer_literal_kind(text) == "timeDate":
            return
        if engine.timer_literal_kind(text) is not None or not _wrapped(text):
            what = "Hạn xử lý (dueDate)" if attribute == "dueDate" else "Ngày nhắc (followUpDate)"
            self.add("task_date", name, task, what=what, what_en="due date" if attribute == "dueDate"
                     else "follow-up date", value=text)
            return
        self.check_expression(name, task, text, attribute)

    def check_form(self, name: str, element: Any) -> None:
        key = _camunda(element, "formKey")
        if key:
            if key.startswith("app:"):
                if key not in KNOWN_STEP_FORMS:
                    self.add("unknown_step_form", name, element, key=key, known=", ".join(sorted(KNOWN_STEP_FORMS)))
            else:
                self.add("form_key", name, element, key=key)
        fields = element.findall(f"{{{BPMN}}}extensionElements/{{{CAMUNDA}}}formData/{{{CAMUNDA}}}formField")
        seen: set[str] = set()
        for form_field in fields:
            for vi, en in _form_field_problems(form_field, seen):
                self.add("form_field", name, element, line=form_field.sourceline, field=form_field.get("id") or "?",
                         detail=vi, detail_en=en)
            for attribute, where in (("defaultValue", "defaultValue"),):
                value = form_field.get(attribute)
                if value and _wrapped(value):
                    self.check_expression(name, element, value, where, line=form_field.sourceline)
            for prop in form_field.iterfind(f"{{{CAMUNDA}}}properties/{{{CAMUNDA}}}property"):
                if prop.get("id") == "requiredWhen":
                    self.check_expression(name, element, prop.get("value") or "", "requiredWhen",
                                          line=prop.sourceline)
        if fields and _local(element) == "startEvent":
            self.add("start_form", name, element, severity="warning")

    def check_boundary_target(self, name: str, boundary: Any, task: Any) -> None:
        for definition in boundary:
            kind = EVENT_DEFINITIONS.get(_local(definition))
            if kind in ("error", "escalation"):
                self.add("boundary_on_task", name, boundary, what=kind, task=task.get("name") or task.get("id"))

    def check_serviceTask(self, name: str, task: Any) -> None:
        if any(_camunda(task, a) for a in ("class", "expression", "delegateExpression")) or \
                task.find(f".//{{{CAMUNDA}}}connector") is not None:
            return  # reported as Java code with the attribute or element
        if _camunda(task, "type") != "external" or not (_camunda(task, "topic") or "").strip():
            self.add("not_external", name, task, topics=_topics())
        elif _camunda(task, "topic") not in KNOWN_TOPICS:
            self.add("unknown_topic", name, task, topic=_camunda(task, "topic"), topics=_topics())
        for boundary in task.getparent().iterfind(f"{{{BPMN}}}boundaryEvent"):
            if boundary.get("attachedToRef") == task.get("id"):
                self.check_boundary_target(name, boundary, task)

    check_sendTask = check_serviceTask

    def check_businessRuleTask(self, name: str, task: Any) -> None:
        if any(_camunda(task, a) for a in ("class", "expression", "delegateExpression", "type")):
            if _camunda(task, "type"):
                self.add("java_code", name, task, what=f"camunda:type=\"{_camunda(task, 'type')}\"", topics=_topics())
            return
        ref = _camunda(task, "decisionRef")
        if not ref:
            self.add("decision_missing", name, task, ref="")
            return
        if _wrapped(ref):
            self.add("binding", name, task, what="decisionRef", value=ref)
            return
        for attribute in ("decisionRefBinding",):
            if (_camunda(task, attribute) or "deployment") not in ("deployment", "latest"):
                self.add("binding", name, task, what=attribute, value=_camunda(task, attribute))
        result_variable = _camunda(task, "resultVariable")
        mapping = _camunda(task, "mapDecisionResult") or "resultList"
        if mapping not in engine.DECISION_RESULT_MAPPINGS:
            self.add("camunda_attribute", name, task, what="mapDecisionResult",
                     why=f"use one of {', '.join(engine.DECISION_RESULT_MAPPINGS)}")
        if result_variable is not None and not _IDENTIFIER.fullmatch(result_variable):
            self.add("camunda_attribute", name, task, what="resultVariable", why="it must be a variable name")
        self.decision_refs.append((name, task, ref))
        self.used_decisions.add(ref)
        if result_variable and mapping in ("singleEntry", "collectEntries"):
            self.result_mappings.append((name, task, ref, mapping))
        for boundary in task.getparent().iterfind(f"{{{BPMN}}}boundaryEvent"):
            if boundary.get("attachedToRef") == task.get("id"):
                self.check_boundary_target(name, boundary, task)

    def check_callActivity(self, name: str, task: Any) -> None:
        ref = task.get("calledElement")
        if not ref:
            self.add("called_missing", name, task, ref="")
            return
        if _wrapped(ref):
            self.add("binding", name, task, what="calledElement", value=ref)
            return
        binding = _camunda(task, "calledElementBinding") or "latest"
        if binding not in ("latest", "deployment"):
            self.add("binding", name, task, what="calledElementBinding", value=binding)
        self.calls.append((name, task, ref))

    def check_subProcess(self, name: str, element: Any) -> None:
        if element.get("triggeredByEvent") == "true":
            self.add("event_subprocess", name, element)

    def check_exclusiveGateway(self, name: str, gateway: Any) -> None:
        process = gateway.getparent()
        outgoing = [flow for flow in _children(process, "sequenceFlow") if flow.get("sourceRef") == gateway.get("id")]
        if len(outgoing) < 2:
            return
        for flow in outgoing:
            if flow.find(f"{{{BPMN}}}conditionExpression") is None and flow.get("id") != gateway.get("default"):
                self.add("gateway_no_condition", name, gateway, flow=_label(flow))

    check_inclusiveGateway = check_exclusiveGateway

    def check_sequenceFlow(self, name: str, flow: Any) -> None:
        condition = flow.find(f"{{{BPMN}}}conditionExpression")
        if condition is None:
            return
        language = (condition.get("language") or "").strip().lower()
        if language and language not in ("juel", "${}", "http://www.omg.org/spec/bpmn/20100524/model"):
            self.add("condition_language", name, flow, line=condition.sourceline, what=condition.get("language"))
            return
        if _camunda(condition, "resource"):
            return  # reported as an attribute
        source = next((el for el in flow.getparent() if isinstance(el.tag, str) and el.get("id") == flow.get(
            "sourceRef")), None)
        if source is None or _local(source) not in ("exclusiveGateway", "inclusiveGateway"):
            self.add("condition_ignored", name, flow, line=condition.sourceline, flow=_label(flow))
            return
        self.check_expression(name, flow, _text(condition), "condition", line=condition.sourceline)

    def check_timerEventDefinition(self, name: str, definition: Any) -> None:
        owner = definition.getparent()
        values = [child for child in definition if _local(child) in engine.TIMER_LITERALS]
        if len(values) != 1:
            self.add("timer_missing", name, owner, line=definition.sourceline)
            return
        kind, text = _local(values[0]), _text(values[0])
        if not text:
            self.add("timer_missing", name, owner, line=values[0].sourceline)
        elif engine.timer_literal_kind(text) is not None:
            error = engine.timer_literal_error(kind, text)
            if error:
                self.add("timer", name, owner, line=values[0].sourceline, detail=error)
        elif kind == "timeCycle" and re.fullmatch(r"\S+(\s+\S+){4,6}", text) and not _wrapped(text):
            self.add("timer_cron", name, owner, line=values[0].sourceline, value=text)
        elif re.fullmatch(r"(R\d*/)?P[\dYMWDTHS.,]*[A-Z]?|\d{4}-[\d\-T:.+Z]*", text):
            # Looks like an ISO value with a typo (P5X): as an expression it would name a variable that never exists.
            self.add("timer", name, owner, line=values[0].sourceline,
                     detail=f"'{text}' is not a valid ISO-8601 {kind} value")
        else:
            try:
                expressions.check(text)
            except expressions.ExpressionError as exc:
                self.add("timer", name, owner, line=values[0].sourceline, detail=str(exc))

    def check_event(self, name: str, event: Any, tag: str, declared: dict[str, dict[str, Any]]) -> None:
        kinds = _event_kinds(event)
        throwing = tag in ("intermediateThrowEvent", "endEvent")
        if tag == "startEvent":
            self.check_form(name, event)
            if kinds and _local(event.getparent()) == "process":
                self.add("start_trigger", name, event, what=", ".join(kinds))
                return
        definitions = [d for d in event if _local(d) in EVENT_DEFINITIONS]
        if tag == "receiveTask":
            definitions = [event]
            kinds = ["message"]
        for definition, kind in zip(definitions, kinds, strict=False):
            ref_attribute = {"message": "messageRef", "signal": "signalRef", "error": "errorRef",
                             "escalation": "escalationRef"}.get(kind)
            ref = definition.get(ref_attribute) if ref_attribute else None
            if ref is not None and ref not in declared[kind]:
                self.add("ref_missing", name, event, what=kind, ref=ref)
                continue
            if kind == "message":
                if throwing:
                    self.add("message_throw", name, event)
                    continue
                message = declared["message"].get(ref) if ref else None
                message_name = (message.get("name") if message is not None else None) or event.get("name")
                if message_name not in KNOWN_MESSAGES:
                    self.add("message_unknown", name, event, name=message_name or "",
                             known=", ".join(sorted(KNOWN_MESSAGES)))
            elif kind == "signal":
                signal = self.signal_name(event.getroottree().getroot(), definition)
                if throwing:
                    self.add("signal_throw", name, event, name=signal or "", severity="warning")
                else:
                    self.caught_signals.append((name, signal or "", event))

    def check_loop(self, name: str, element: Any) -> None:
        loop = element.find(f"{{{BPMN}}}multiInstanceLoopCharacteristics")
        if loop is None:
            return
        collection = _camunda(loop, "collection")
        cardinality = loop.find(f"{{{BPMN}}}loopCardinality")
        if collection is None and cardinality is None:
            self.add("mi_standard", name, element, line=loop.sourceline)
        if collection is not None and not _IDENTIFIER.fullmatch(collection.strip()):
            self.add("mi_collection", name, element, line=loop.sourceline, value=collection)
        for child, where in ((cardinality, "loopCardinality"),
                             (loop.find(f"{{{BPMN}}}completionCondition"), "completionCondition")):
            if child is not None:
                self.check_expression(name, element, _text(child), where, line=child.sourceline)

    def check_expression(self, name: str, element: Any, text: str, where: str, line: int | None = None) -> None:
        try:
            expressions.check(text)
        except expressions.ExpressionError as exc:
            self.add("expression", name, element, line=line, where=where, detail=str(exc))

    @staticmethod
    def signal_name(root: Any, definition: Any) -> str | None:
        ref = definition.get("signalRef")
        for signal in _children(root, "signal"):
            if signal.get("id") == ref:
                return signal.get("name")
        return definition.getparent().get("name")

    # -- DMN --

    def check_dmn(self, name: str, root: Any) -> None:
        namespace = _ns(root)
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            if _ns(element) == namespace and _local(element) == "businessKnowledgeModel":
                self.add("dmn_bkm", name, element)
        for decision in _children(root, "decision", namespace):
            required: dict[str, Any] = {}
            for requirement in decision.iterfind(f"{{{namespace}}}informationRequirement/{{{namespace}}}"
                                                 "requiredDecision"):
                required.setdefault((requirement.get("href") or "").lstrip("#"), requirement)
            for ref, requirement in required.items():
                self.add("dmn_drg", name, decision, line=requirement.sourceline, ref=ref)
            table = decision.find(f"{{{namespace}}}decisionTable")
            if table is None:
                logic = next((c for c in decision if _local(c) not in (
                    "description", "extensionElements", "informationRequirement", "knowledgeRequirement",
                    "authorityRequirement", "question", "allowedAnswers", "variable")), None)
                self.add("dmn_not_table", name, decision, what=_local(logic) if logic is not None else "—")
                continue
            self.check_table(name, decision, table, namespace)

    def check_table(self, name: str, decision: Any, table: Any, ns: str) -> None:
        policy = (table.get("hitPolicy") or "UNIQUE").strip().upper()
        aggregation = (table.get("aggregation") or "").strip().upper()
        inputs = _children(table, "input", ns)
        outputs = _children(table, "output", ns)
        if policy not in engine.HIT_POLICIES:
            self.add("hit_policy", name, decision, line=table.sourceline, policy=policy)
        if aggregation and (policy != "COLLECT" or aggregation not in engine.AGGREGATIONS or len(outputs) != 1):
            self.add("aggregation", name, decision, line=table.sourceline, what=aggregation)
        for column in inputs:
            self.check_input_column(name, column, ns)
        names: set[str] = set()
        for column in outputs:
            output_name = column.get("name") or column.get("label") or ""
            if not _IDENTIFIER.fullmatch(output_name) or output_name in names or output_name.startswith("_"):
                self.add("dmn_output_name", name, column)
            names.add(output_name)
        parsed_rules = []
        for row, rule in enumerate(_children(table, "rule", ns), start=1):
            parsed_rules.append(self.check_rule(name, decision, rule, row, inputs, outputs, ns))
        rules = [r for r in parsed_rules if r is not None]
        if len(rules) == len(parsed_rules) and policy in ("UNIQUE", "ANY") and len(rules) <= MAX_STATIC_RULES:
            expressions_used = [_text(c.find(f"{{{ns}}}inputExpression/{{{ns}}}text")) for c in inputs]
            whole = [(c.find(f"{{{ns}}}inputExpression").get("typeRef") or "").lower() in ("integer", "long", "int")
                     if c.find(f"{{{ns}}}inputExpression") is not None else False for c in inputs]
            if len(set(expressions_used)) == len(expressions_used):
                self.check_overlaps(name, decision, policy, rules, [_column_label(c) for c in inputs], whole)

    def check_input_column(self, name: str, column: Any, ns: str) -> None:
        expression = column.find(f"{{{ns}}}inputExpression")
        language = (expression.get("expressionLanguage") if expression is not None else None) or ""
        if language and language.lower() not in ("feel", "juel", "https://www.omg.org/spec/dmn/20191111/feel/"):
            self.add("dmn_language", name, column, what=language)
            return
        variable = column.get(f"{{{DMN_CAMUNDA}}}inputVariable")
        if variable and variable != "cellInput":
            self.add("dmn_input_variable", name, column, what=variable)
        text = _text(expression.find(f"{{{ns}}}text")) if expression is not None else ""
        if not text:
            self.add("dmn_input", name, column, detail="the input expression is empty")
            return
        try:
            expressions.check(text, dialect="feel")
        except expressions.ExpressionError as exc:
            self.add("dmn_input", name, column, detail=str(exc))

    def check_rule(self, name: str, decision: Any, rule: Any, row: int, inputs: list[Any], outputs: list[Any],
                   ns: str) -> _Rule | None:
        entries = _children(rule, "inputEntry", ns)
        results = _children(rule, "outputEntry", ns)
        ok = True
        for got, expected, what, what_en in ((entries, inputs, "điều kiện", "input"),
                                             (results, outputs, "kết quả", "output")):
            if len(got) != len(expected):
                self.add("dmn_entries", name, decision, line=rule.sourceline, row=row, got=len(got), what=what,
                         what_en=what_en, expected=len(expected))
                ok = False
        if not ok:
            return None
        tests = []
        for entry, column in zip(entries, inputs, strict=True):
            cell = _text(entry.find(f"{{{ns}}}text"))
            language = entry.get("expressionLanguage")
            if language and language.lower() not in ("feel", "https://www.omg.org/spec/dmn/20191111/feel/"):
                self.add("dmn_language", name, decision, line=entry.sourceline, what=language)
                ok = False
                continue
            try:
                tests.append(feel.parse_unary_tests(cell))
            except feel.FeelError as exc:
                self.add("dmn_cell", name, decision, line=entry.sourceline, cell=cell, row=row,
                         column=_column_label(column), detail=str(exc))
                ok = False
        values = []
        for entry, column in zip(results, outputs, strict=True):
            cell = _text(entry.find(f"{{{ns}}}text"))
            try:
                values.append(feel.parse_output_literal(cell))
            except feel.FeelError as exc:
                self.add("dmn_cell", name, decision, line=entry.sourceline, cell=cell, row=row,
                         column=column.get("name") or column.get("label") or "", detail=str(exc))
                ok = False
        return _Rule(row, tuple(tests), tuple(values)) if ok else None

    def check_overlaps(self, name: str, decision: Any, policy: str, rules: list[_Rule], columns: list[str],
                       whole: list[bool]) -> None:
        reported = 0
        for first, second in combinations(rules, 2):
            if reported >= 10:
                break
            if policy == "ANY" and (any(callable(v) for v in (*first.outputs, *second.outputs))
                                    or first.outputs == second.outputs):
                continue
            example = _overlap(first.tests, second.tests, whole)
            if example is None:
                continue
            described = ", ".join(f"{column} = {feel_value}" for column, feel_value in zip(columns, example,
                                                                                          strict=True))
            self.add("unique_overlap" if policy == "UNIQUE" else "any_disagree", name, decision,
                     line=decision.sourceline, first=first.row, second=second.row, example=described or "—")
            reported += 1

    # -- across files --

    def check_references(self) -> None:
        for name, task, ref in self.calls:
            if ref not in self.process_file:
                self.add("called_missing", name, task, ref=ref)
        for name, task, ref in self.decision_refs:
            if ref not in self.decision_file:
                self.add("decision_missing", name, task, ref=ref)
        for name, task, ref, mapping in self.result_mappings:
            decision = self.decision_elements.get(ref)
            if decision is None:
                continue
            count = len(decision.findall(f".//{{{_ns(decision)}}}output"))
            if count != 1 and decision.find(f"{{{_ns(decision)}}}decisionTable") is not None:
                self.add("decision_outputs", name, task, ref=ref, mapping=mapping, count=count)
        for name, signal, event in self.caught_signals:
            if signal not in self.thrown_signals:
                self.add("signal_unmatched", name, event, name=signal)
        for ident, file in self.decision_file.items():
            if ident not in self.used_decisions:
                self.add("decision_unused", file, self.decision_elements[ident], severity="warning")
        if not self.unreadable and not any(el.get("isExecutable") == "true" for el in self.process_elements.values()):
            self.add("no_process")

    def compile(self) -> None:
        readable = {n: c for n, c in self.files.items() if n in self.roots}
        try:
            engine.compile_files(readable)
        except DefinitionInvalid as exc:
            for found in exc.problems or [{"message": exc.message}]:
                self.report.problems.append(Problem(
                    code="engine", message=MESSAGES["engine"][0].format(detail=found.get("message")),
                    message_en=MESSAGES["engine"][1].format(detail=found.get("message")), file=found.get("file"),
                    element=found.get("element"), name=found.get("name"), line=found.get("line")))


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _topics() -> str:
    return ", ".join(sorted(KNOWN_TOPICS))


def _owner(element: Any) -> Any:
    """The BPMN element an extension belongs to (for the report), not the extension itself."""
    owner = element
    while owner is not None and (_ns(owner) != BPMN or _local(owner) in ("extensionElements",
                                                                         "multiInstanceLoopCharacteristics")):
        owner = owner.getparent()
    return owner if owner is not None else element


def _event_kinds(event: Any) -> list[str]:
    return [EVENT_DEFINITIONS[_local(child)] for child in event if _local(child) in EVENT_DEFINITIONS]


def _schema_detail(message: str) -> str:
    return re.sub(r"\{[^}]*\}", "", message)


def _column_label(column: Any) -> str:
    return column.get("label") or column.get("name") or column.get("id") or "?"


def _form_field_problems(form_field: Any, seen: set[str]) -> Iterable[tuple[str, str]]:
    """What is wrong with one camunda:formField, as (Vietnamese, English) sentences."""
    ident = form_field.get("id") or ""
    kind = form_field.get("type") or "string"
    if not _IDENTIFIER.fullmatch(ident) or ident.startswith("_"):
        yield ("mã trường phải là tên biến (chữ, số, gạch dưới; không bắt đầu bằng số hay '_').",
               "the id must be a variable name (letters, digits, underscores; not starting with a digit or '_').")
    if ident in seen:
        yield "mã trường bị trùng.", "the id is used twice."
    seen.add(ident)
    if kind not in FORM_FIELD_TYPES:
        yield (f"kiểu '{kind}' không được hỗ trợ; dùng {', '.join(FORM_FIELD_TYPES)}.",
               f"the type '{kind}' is not supported; use {', '.join(FORM_FIELD_TYPES)}.")
        return
    options = form_field.findall(f"{{{CAMUNDA}}}value")
    if kind == "enum":
        ids = [o.get("id") or "" for o in options]
        if not ids:
            yield "trường kiểu enum cần ít nhất một giá trị.", "an enum field needs at least one value."
        if len(set(ids)) != len(ids) or "" in ids:
            yield "các giá trị của enum cần mã khác nhau, không để trống.", "enum values need distinct, non-empty ids."
    elif options:
        yield "chỉ trường kiểu enum mới có danh sách giá trị.", "only enum fields have a list of values."
    for constraint in form_field.iterfind(f"{{{CAMUNDA}}}validation/{{{CAMUNDA}}}constraint"):
        cname, config = constraint.get("name") or "", constraint.get("config")
        if cname not in CONSTRAINTS:
            yield (f"ràng buộc '{cname}' không được hỗ trợ; dùng {', '.join(CONSTRAINTS)}.",
                   f"the constraint '{cname}' is not supported; use {', '.join(CONSTRAINTS)}.")
            continue
        needed = CONSTRAINTS[cname]
        if needed is None:
            continue
        if needed != kind:
            yield (f"ràng buộc '{cname}' chỉ dùng cho trường kiểu {needed}.",
                   f"the constraint '{cname}' only applies to {needed} fields.")
        elif config is None or not re.fullmatch(r"-?\d{1,15}", config.strip()):
            yield (f"ràng buộc '{cname}' cần một số nguyên (Config), không phải '{config or ''}'.",
                   f"the constraint '{cname}' needs a whole number as its config, not '{config or ''}'.")
    default = form_field.get("defaultValue")
    if default is not None and default.strip() and not _wrapped(default):
        allowed = {o.get("id") for o in options}
        bad = (kind == "long" and not re.fullmatch(r"\s*-?\d+\s*", default)) or \
              (kind == "boolean" and default.strip().lower() not in ("true", "false")) or \
              (kind == "enum" and default not in allowed) or \
              (kind == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}", default.strip()))
        if bad:
            yield (f"giá trị mặc định '{default}' không hợp với kiểu {kind}.",
                   f"the default value '{default}' does not fit the type {kind}.")


# --- static UNIQUE overlaps --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    row: int
    tests: tuple[feel.UnaryTests, ...]
    outputs: tuple[Any, ...]


def _literals(cell: feel.UnaryTests) -> list[Any] | None:
    """The literal values a cell mentions; None when it reads a variable (then nothing can be shown statically)."""
    found = []
    for test in cell.tests:
        endpoints = [test.low, test.high] if hasattr(test, "low") else [test.endpoint]
        for endpoint in endpoints:
            if not hasattr(endpoint, "value"):
                return None
            found.append(endpoint.value)
    return found


def _candidates(cells: tuple[feel.UnaryTests, feel.UnaryTests], whole: bool) -> list[Any] | None:
    """Values that, between them, hit every region the two cells cut the line into; None if unknowable."""
    values: list[Any] = []
    for cell in cells:
        literals = _literals(cell)
        if literals is None:
            return None
        values += literals
    numbers = sorted({v for v in values if isinstance(v, int | float) and not isinstance(v, bool)})
    extra: list[Any] = []
    if numbers:
        extra += [numbers[0] - 1, numbers[-1] + 1]
        if not whole:  # between two integer bounds of an integer column there may be no value at all
            extra += [(a + b) / 2 for a, b in zip(numbers, numbers[1:], strict=False)]
        extra += [n + d for n in numbers for d in (-1, 1)]
    if any(isinstance(v, str) for v in values) or not values:
        extra.append("\u2063other")  # a text no cell names
    if any(isinstance(v, bool) for v in values):
        extra += [True, False]
    ordered = []
    for value in [*values, *extra]:
        if not any(type(value) is type(o) and value == o for o in ordered):
            ordered.append(value)
    return ordered


def _overlap(first: tuple[feel.UnaryTests, ...], second: tuple[feel.UnaryTests, ...],
             whole: list[bool]) -> list[str] | None:
    """An input, one value per column, matched by both rules; None when none exists or none can be shown."""
    example = []
    for a, b, integer in zip(first, second, whole, strict=True):
        if not a.tests and not b.tests:
            example.append("bất kỳ / any")
            continue
        candidates = _candidates((a, b), integer)
        if candidates is None:
            return None
        hit = next((v for v in candidates if a.matches(v) and b.matches(v)), _MISSING)
        if hit is _MISSING:
            return None
        example.append(feel._format(hit) if not (isinstance(hit, str) and hit.startswith("\u2063")) else
                       "một giá trị khác / another value")
    return example


_MISSING = object()
