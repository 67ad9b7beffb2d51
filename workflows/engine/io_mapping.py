"""Camunda 7 input/output parameters (`camunda:inputOutput`) on tasks, sub-processes and call activities.

Camunda's scoping: each input parameter is evaluated against the variables around the activity and becomes a
variable local to it (shadowing an outer one of the same name); each output parameter is evaluated against the
activity's variables when it ends and written to the parent. When the activity ends its local variables disappear and
any outer variable they shadowed comes back. Values are text, `${}` expressions (also inside text), lists and maps,
evaluated in the sandbox; script values are refused (docs/ENGINE.md, "Input/output parameters").
The parser keeps the parameters in the task spec's `extensions` (as plain JSON, so the serializer keeps them); the spec
classes below apply them.
"""
from __future__ import annotations

import re
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.specs.defaults import CallActivity as _CallActivity  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS  # type: ignore[import-untyped]
from SpiffWorkflow.camunda.specs.business_rule_task import (  # type: ignore[import-untyped]
    BusinessRuleTask as _BusinessRuleTask,
)
from SpiffWorkflow.camunda.specs.user_task import UserTask as _UserTask  # type: ignore[import-untyped]

import workflows.engine.expressions as expressions

CAMUNDA = "{" + CAMUNDA_MODEL_NS + "}"
EXTENSION = "camunda:inputOutput"
_BPMN_EXTENSIONS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}extensionElements"
# Where a value may hold an expression: ${...} or #{...}, possibly inside text ("Kính gửi ${unit}").
_EXPRESSION = re.compile(r"[$#]\{")


# Camunda 7 runs a multi-instance activity's input parameters once per instance (the element variable is visible to
# them) and has no output parameters there: each instance's outputs would overwrite the previous one's.
MULTI_INSTANCE_OUTPUTS = ("Output parameters on a multi-instance activity are not supported, as in Camunda 7: each "
                          "instance would overwrite the previous one's. Write each instance's result into its element "
                          "variable (it goes back into the collection), or map outputs on an activity after the loop")


class InputOutputError(ValueError):
    pass


# --- reading the XML ---------------------------------------------------------------------------------------------


def read_value(node: etree._Element) -> Any:
    """A parameter's (or list item's, or map entry's) value as JSON: None, {"text"}, {"list"} or {"map"}."""
    inner = [child for child in node if isinstance(child.tag, str)]
    if not inner:
        text = (node.text or "").strip()
        return {"text": text} if text else None
    child = inner[0]
    if child.tag == f"{CAMUNDA}list":
        return {"list": [read_value(item) for item in child if isinstance(item.tag, str)]}
    if child.tag == f"{CAMUNDA}map":
        return {"map": [[entry.get("key") or "", read_value(entry)] for entry in child if isinstance(entry.tag, str)]}
    if child.tag == f"{CAMUNDA}script":
        raise InputOutputError("a script value cannot run here")
    raise InputOutputError(f"<{etree.QName(child).localname}> is not a value (text, list or map)")


def read_parameters(element: etree._Element) -> dict[str, list[list[Any]]] | None:
    """The element's camunda:inputOutput as {"inputs": [[name, value]], "outputs": [...]}, or None without one."""
    found = element.find(f"{_BPMN_EXTENSIONS}/{CAMUNDA}inputOutput")
    if found is None:
        return None
    parameters: dict[str, list[list[Any]]] = {"inputs": [], "outputs": []}
    for kind, tag in (("inputs", "inputParameter"), ("outputs", "outputParameter")):
        for parameter in found.iterfind(f"{CAMUNDA}{tag}"):
            name = (parameter.get("name") or "").strip()
            if not name:
                raise InputOutputError(f"a camunda:{tag} has no name")
            try:
                parameters[kind].append([name, read_value(parameter)])
            except InputOutputError as exc:
                raise InputOutputError(f"camunda:{tag} '{name}': {exc}") from None
    return parameters


# --- evaluating ----------------------------------------------------------------------------------------------------


def _text(text: str, variables: dict[str, Any]) -> Any:
    """Plain text as it is; one `${...}` its value; text around expressions joined as text (JUEL's composite)."""
    if not _EXPRESSION.search(text):
        return text
    if re.fullmatch(r"[$#]\{.*\}", text, re.DOTALL) and text.count("{") == 1:
        return expressions.evaluate(text, variables)
    parts, rest = [], text
    while (start := _EXPRESSION.search(rest)) is not None:
        end = rest.find("}", start.end())
        if end < 0:
            raise expressions.ExpressionError(f"The bracket '{{' is not closed in '{text}'")
        value = expressions.evaluate(rest[start.start():end + 1], variables)
        parts += [rest[:start.start()], "" if value is None else str(value)]
        rest = rest[end + 1:]
    return "".join([*parts, rest])


def evaluate(value: Any, variables: dict[str, Any]) -> Any:
    """A value read by read_value(), computed from VARIABLES in the sandbox."""
    if value is None:
        return None
    if "text" in value:
        return _text(value["text"], variables)
    if "list" in value:
        return [evaluate(item, variables) for item in value["list"]]
    return {key: evaluate(item, variables) for key, item in value["map"]}


def check(value: Any) -> None:
    """Raise ExpressionError if an expression in VALUE (read by read_value) is not one the sandbox runs."""
    if value is None:
        return
    if "list" in value or "map" in value:
        for item in value.get("list") or [item for _, item in value["map"]]:
            check(item)
        return
    text = value["text"]
    if re.fullmatch(r"[$#]\{.*\}", text, re.DOTALL) and text.count("{") == 1:
        expressions.check(text)
        return
    rest = text
    while (start := _EXPRESSION.search(rest)) is not None:
        end = rest.find("}", start.end())
        if end < 0:
            raise expressions.ExpressionError(f"The bracket '{{' is not closed in '{text}'")
        expressions.check(rest[start.start():end + 1])
        rest = rest[end + 1:]


# --- applying them while a task runs -----------------------------------------------------------------------------

_ENTERED = "camunda:io_entered"  # internal data: the input names, and the outer values they shadow


class InputOutputMapping:
    """Mixed into each task spec class that may carry camunda:inputOutput (see parser.Parser)."""

    def _io(self) -> dict[str, list[list[Any]]] | None:
        return (getattr(self, "extensions", None) or {}).get(EXTENSION)

    def _io_fail(self, my_task: Any, kind: str, name: str, exc: Exception) -> None:
        label = f"'{self.bpmn_name}' ({self.bpmn_id})" if self.bpmn_name else f"'{self.bpmn_id}'"  # type: ignore
        raise WorkflowTaskException(f"The {kind} parameter '{name}' of {label} cannot be computed: {exc}",
                                    task=my_task) from exc

    def _io_enter(self, my_task: Any) -> None:
        io = self._io()
        if not io or _ENTERED in my_task.internal_data:
            return
        outer = dict(my_task.data)
        values = {}
        for name, value in io["inputs"]:
            try:
                values[name] = evaluate(value, outer)  # every input is computed from the outer variables
            except (ValueError, TypeError, KeyError) as exc:
                self._io_fail(my_task, "input", name, exc)
        my_task.internal_data[_ENTERED] = {"names": list(values),
                                           "shadowed": {n: outer[n] for n in values if n in outer}}
        my_task.data.update(values)

    def _io_leave(self, my_task: Any) -> None:
        io = self._io()
        if not io:
            return
        inner = dict(my_task.data)
        outputs = {}
        for name, value in io["outputs"]:
            try:
                outputs[name] = evaluate(value, inner)
            except (ValueError, TypeError, KeyError) as exc:
                self._io_fail(my_task, "output", name, exc)
        entered = my_task.internal_data.get(_ENTERED) or {"names": [], "shadowed": {}}
        for name in entered["names"]:
            my_task.data.pop(name, None)
        my_task.data.update(entered["shadowed"])
        my_task.data.update(outputs)

    def _update_hook(self, my_task: Any) -> Any:
        ready = super()._update_hook(my_task)  # type: ignore[misc]
        if ready:
            self._io_enter(my_task)
        return ready

    def _on_complete_hook(self, my_task: Any) -> None:
        self._io_leave(my_task)
        super()._on_complete_hook(my_task)  # type: ignore[misc]


# Spiff's classes with the mapping. They keep their class names, so specs stored before (without parameters) load
# as these classes too and a migration sees the same step types.


class UserTask(InputOutputMapping, _UserTask):
    pass


class BusinessRuleTask(InputOutputMapping, _BusinessRuleTask):
    pass


class CallActivity(InputOutputMapping, _CallActivity):
    """A call activity or an embedded sub-process: inputs are set before the data is copied into it."""

    def copy_data(self, my_task: Any, subworkflow: Any) -> None:
        self._io_enter(my_task)
        super().copy_data(my_task, subworkflow)
