"""The one table of what an uploaded diagram may contain: what the engine runs, and what it refuses and why.

The parser (workflows/engine/parser.py) refuses the refused constructs when it compiles a set of files, and the
validator (workflows/validation/) reports each of them, with the file and line, before compiling; both read these
tables, so the two can never disagree. docs/ENGINE.md explains each entry.
"""
from __future__ import annotations

from workflows.models import Role

# Roles a candidate group or a lane may name.
KNOWN_ROLES = frozenset(role.value for role in Role)

# --- decision tables ---------------------------------------------------------------------------------------------

HIT_POLICIES = ("UNIQUE", "FIRST", "ANY", "RULE ORDER", "COLLECT")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")  # only with COLLECT
DECISION_RESULT_MAPPINGS = ("singleEntry", "singleResult", "collectEntries", "resultList")

# --- tasks -------------------------------------------------------------------------------------------------------

# Camunda attributes of a user task the engine reads for routing, dates and priority.
ASSIGNMENT_ATTRIBUTES = ("assignee", "candidateUsers", "candidateGroups", "dueDate", "followUpDate", "priority")
# Why the engine refuses a script task, and a service task that is not an external task with a topic.
SCRIPT_TASK_REFUSAL = "Script tasks are not allowed: scripts could run code on the server"
SERVICE_TASK_REFUSAL = ("Service tasks must be external tasks (camunda:type=\"external\" with a topic); "
                        "Java classes, expressions and connectors cannot run here")
# camunda: attributes of a service or send task naming code to run instead of a topic.
JAVA_ATTRIBUTES = ("class", "expression", "delegateExpression")

# --- BPMN elements -----------------------------------------------------------------------------------------------

# BPMN elements the engine runs, and the ones that only carry structure or documentation.
FLOW_NODES = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "userTask",
    "serviceTask", "sendTask", "receiveTask", "businessRuleTask", "callActivity", "subProcess", "task", "manualTask",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway"})
STRUCTURE = frozenset({
    "sequenceFlow", "laneSet", "lane", "childLaneSet", "flowNodeRef", "documentation", "extensionElements",
    "incoming", "outgoing", "conditionExpression", "dataObject", "dataObjectReference", "dataState",
    "dataInputAssociation", "dataOutputAssociation", "sourceRef", "targetRef", "ioSpecification", "dataInput",
    "dataOutput", "inputSet", "outputSet", "dataInputRefs", "dataOutputRefs", "property", "textAnnotation", "text",
    "association", "group", "multiInstanceLoopCharacteristics", "loopCardinality", "completionCondition",
    "loopDataInputRef", "loopDataOutputRef", "inputDataItem", "outputDataItem", "timerEventDefinition", "timeDate",
    "timeDuration", "timeCycle", "messageEventDefinition", "signalEventDefinition", "errorEventDefinition",
    "escalationEventDefinition", "terminateEventDefinition", "assignment", "from", "to", "transformation"})
# Refused BPMN elements -> what the report calls them. scriptTask is refused by the parser as well.
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
UNSUPPORTED_EVENTS = frozenset({"cancel", "compensation", "conditional", "link"})

# --- Camunda 7 extensions ----------------------------------------------------------------------------------------

CAMUNDA_ELEMENTS_OK = frozenset({"properties", "property", "formData", "formField", "validation", "constraint",
                                 "value", "in", "out", "failedJobRetryTimeCycle", "potentialStarter",
                                 *("inputOutput", "inputParameter", "outputParameter", "list", "map", "entry")})
# Elements whose camunda:inputOutput the engine applies (workflows/engine/io_mapping.py); elsewhere it is refused,
# and so are script values and output parameters on a multi-instance activity (Camunda 7 has none there).
INPUT_OUTPUT_OWNERS = frozenset({"userTask", "serviceTask", "sendTask", "businessRuleTask", "task", "manualTask",
                                 "subProcess", "callActivity"})
# camunda: elements refused -> the report's problem code.
CAMUNDA_ELEMENTS_REFUSED = {"executionListener": "listener", "taskListener": "listener", "connector": "java_code",
                            "field": "java_code", "script": "script",
                            "errorEventDefinition": "camunda_extension", "formProperty": "camunda_extension"}
# camunda: attributes with no effect here, as in Camunda itself (jobs, history, modeler bookkeeping).
CAMUNDA_HARMLESS = frozenset({
    "asyncBefore", "asyncAfter", "async", "exclusive", "jobPriority", "taskPriority", "historyTimeToLive",
    "versionTag", "isStartableInTasklist", "candidateStarterGroups", "candidateStarterUsers", "modelerTemplate",
    "modelerTemplateVersion", "calledElementTenantId", "decisionRefTenantId", "caseTenantId", "formRefBinding",
    "formRefVersion", "inputVariable"})
# camunda: attributes the engine reads, per BPMN element.
CAMUNDA_ATTRIBUTES = {
    "userTask": {*ASSIGNMENT_ATTRIBUTES, "formKey"},
    "startEvent": {"formKey"},
    "serviceTask": {"type", "topic", "resultVariable"},
    "sendTask": {"type", "topic", "resultVariable"},
    "businessRuleTask": {"decisionRef", "decisionRefBinding", "decisionRefVersion", "decisionRefVersionTag",
                         "mapDecisionResult", "resultVariable"},
    "callActivity": {"calledElementBinding", "calledElementVersion", "calledElementVersionTag"},
    "multiInstanceLoopCharacteristics": {"collection", "elementVariable"},
}
# camunda: attributes refused -> (the report's problem code, what it says).
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

# --- outcomes ------------------------------------------------------------------------------------------------------

# Processes whose end tells the application something: an agency report ends accepted or rejected (the cycle
# counts it). Each of their end events says which with an extension property (bpmn/README.md):
# <camunda:properties><camunda:property name="outcome" value="accepted"/></camunda:properties>.
OUTCOME_PROCESSES = frozenset({"agency_report"})
OUTCOME_PROPERTY = "outcome"
OUTCOME_VALUES = ("accepted", "rejected")
