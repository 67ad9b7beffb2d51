"""SpiffWorkflow behind a small API; the only package that imports SpiffWorkflow (tests/test_layers.py).

- `constructs`: the one table of supported and refused diagram constructs, read by the parser and the validator.
- `xml`: safe parsing of uploads and the BPMN/DMN schemas; `parser` and `compile`: Camunda 7 files into specs.
- `expression_syntax`, `expressions`, `feel`, `sandbox`: the sandboxed expression language, FEEL, and the script
  engine that routes every diagram expression through them; `dmn`: decision tables with real hit policies.
- `serializer`, `run`, `migration`, `clock`: stored specs and instance state, one instance at work, moving an
  instance to a new version, and the clock a run reads; `straight_through`: a process with no wait states run to
  its end (a chain of decision tables applied without building an instance).

docs/ENGINE.md says what SpiffWorkflow 3.2.0 does that these modules work around.
"""
import workflows.engine.clock as clock
import workflows.engine.dates as dates
from workflows.engine.compile import CompiledProcess, compile_files, evaluate_decision, plain_collection
from workflows.engine.constructs import (
    AGGREGATIONS,
    ASSIGNMENT_ATTRIBUTES,
    DECISION_RESULT_MAPPINGS,
    HIT_POLICIES,
    KNOWN_ROLES,
)
from workflows.engine.dmn import MatchedRule
from workflows.engine.migration import MigrationPlan, StepMigration
from workflows.engine.parser import (
    TIMER_LITERALS,
    ExternalTask,
    PassThroughTask,
    captured_form,
    lane_of,
    lane_role,
    timer_expression,
    timer_literal_error,
    timer_literal_kind,
)
from workflows.engine.run import FormFieldSpec, Run, TaskView, TopicHandler
from workflows.engine.sandbox import evaluate_expression
from workflows.engine.serializer import user_steps
from workflows.engine.straight_through import run_straight_through
from workflows.engine.xml import BPMN_MODEL_NS, MAX_FILE_BYTES, parse_xml, schema_errors
from workflows.errors import EngineError

__all__ = [
    "AGGREGATIONS", "ASSIGNMENT_ATTRIBUTES", "BPMN_MODEL_NS", "DECISION_RESULT_MAPPINGS", "HIT_POLICIES", "KNOWN_ROLES",
    "MAX_FILE_BYTES", "TIMER_LITERALS", "CompiledProcess", "EngineError", "ExternalTask", "FormFieldSpec",
    "MatchedRule", "MigrationPlan", "PassThroughTask", "Run", "StepMigration", "TaskView", "TopicHandler",
    "captured_form",
    "clock", "compile_files", "dates", "evaluate_decision", "evaluate_expression", "lane_of", "lane_role", "parse_xml",
    "plain_collection", "run_straight_through", "schema_errors", "timer_expression", "timer_literal_error",
    "timer_literal_kind", "user_steps",
]
