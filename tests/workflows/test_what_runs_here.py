"""bpmn/README.md's "What runs here" table says what the engine's construct table (workflows/engine/constructs.py)
does: every construct the engine runs is listed as supported, every refused one as refused."""
from __future__ import annotations

import re

from workflows import definitions
from workflows.engine import constructs


def table() -> dict[str, str]:
    text = (definitions.BPMN_DIR / "README.md").read_text(encoding="utf-8")
    section = text.split("## What runs here", 1)[1]
    rows = re.findall(r"^\| `([^`]+)` \| ([a-z ]+) \|", section, flags=re.MULTILINE)
    return dict(rows)


def test_every_element_the_engine_runs_is_listed_as_supported():
    listed = table()
    for element in constructs.FLOW_NODES:
        assert listed.get(element, "").startswith("supported"), element
    assert listed["multiInstanceLoopCharacteristics"].startswith("supported")
    for name in ("inputOutput", "inputParameter", "outputParameter"):
        assert name in constructs.CAMUNDA_ELEMENTS_OK and listed[f"camunda:{name}"].startswith("supported"), name


def test_every_refused_construct_is_listed_as_refused():
    listed = table()
    refused = [*constructs.UNSUPPORTED, *(f"camunda:{name}" for name in constructs.CAMUNDA_ELEMENTS_REFUSED),
               *(f"camunda:{name}" for name in constructs.CAMUNDA_ATTRIBUTES_REFUSED)]
    for construct in refused:
        assert listed.get(construct) == "refused", construct


def test_the_table_lists_nothing_the_construct_table_does_not_know():
    known = {*constructs.FLOW_NODES, "multiInstanceLoopCharacteristics", *constructs.UNSUPPORTED,
             *(f"camunda:{name}" for name in constructs.CAMUNDA_ELEMENTS_OK),
             *(f"camunda:{name}" for name in constructs.CAMUNDA_ELEMENTS_REFUSED),
             *(f"camunda:{name}" for name in constructs.CAMUNDA_ATTRIBUTES_REFUSED)}
    assert set(table()) <= known
