"""Moving a running instance onto a new version, with SpiffWorkflow's own diff and migrate utilities.

Only where every step the instance stands at still exists, keeps its type, and (unless it is ready) is unchanged:
restoring an instance against a changed spec crashes (docs/ENGINE.md, "Migration").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow  # type: ignore[import-untyped]
from SpiffWorkflow.util.task import TaskState  # type: ignore[import-untyped]

from workflows.engine.serializer import serializer, specs
from workflows.errors import EngineError


@dataclass(frozen=True)
class StepMigration:
    """What migrating does to one step an instance stands at (ready, waiting or running)."""

    step_id: str
    old_name: str
    new_name: str | None  # None: the step does not exist in the new version
    state: str  # ready, waiting, running
    outcome: str  # kept, changed, removed
    changes: tuple[str, ...] = ()  # what changed: "name", "form", "candidateGroups", "flows", …


@dataclass(frozen=True)
class MigrationPlan:
    """Whether an instance can move to a new version, and what happens to each step it stands at."""

    steps: tuple[StepMigration, ...]
    blockers: tuple[tuple[str, str], ...]  # (reason code, step id): reasons the change does not allow it

    @property
    def allowed(self) -> bool:
        return not self.blockers


_LIVE = {TaskState.READY: "ready", TaskState.WAITING: "waiting", TaskState.STARTED: "running"}


def _spec_changes(registry: Any, old: Any, new: Any) -> tuple[str, ...]:
    """The attributes of a task spec that differ between versions, extensions named one by one."""
    before, after = registry.convert(old), registry.convert(new)
    changes = []
    for key in sorted(set(before) | set(after)):
        if key in ("inputs", "outputs"):
            names = (sorted(before.get(key) or []), sorted(after.get(key) or []))
            if names[0] != names[1]:
                changes.append("flows")
        elif key == "extensions":
            old_ext, new_ext = before.get(key) or {}, after.get(key) or {}
            changes += [name.split(":")[-1] for name in sorted(set(old_ext) | set(new_ext))
                        if old_ext.get(name) != new_ext.get(name)]
        elif key == "bpmn_name" and before.get(key) != after.get(key):
            changes.append("name")
        elif before.get(key) != after.get(key) and key not in ("description", "bpmn_id", "position"):
            changes.append(key)
    return tuple(dict.fromkeys(changes))





def _diffs(workflow: Any, new_spec_json: str) -> tuple[Any, dict[str, Any], Any, dict[str, Any]]:
    new_spec, new_subprocess_specs = specs(new_spec_json)
    top_diff, sub_diffs = diff_workflow(serializer.registry, workflow, new_spec, new_subprocess_specs)
    return new_spec, new_subprocess_specs, top_diff, sub_diffs

def plan(workflow: Any, new_spec_json: str) -> MigrationPlan:
    """What moving this instance onto NEW_SPEC_JSON would do to each step it stands at, and what forbids it."""
    try:
        _, _, top_diff, sub_diffs = _diffs(workflow, new_spec_json)
    except Exception as exc:  # noqa: BLE001 - a spec Spiff cannot align is a reason, not a crash
        return MigrationPlan((), (("not_comparable", str(exc)),))
    steps: list[StepMigration] = []
    blockers: list[tuple[str, str]] = []
    diffs = [(workflow, top_diff)]
    for sp_id, diff in sub_diffs.items():
        subprocess = workflow.subprocesses[sp_id]
        if diff is None:
            blockers.append(("subprocess_removed", subprocess.spec.name))
        else:
            diffs.append((subprocess, diff))
    for part, diff in diffs:
        for task in part.get_tasks(skip_subprocesses=True):
            state = _LIVE.get(task.state)
            spec = task.task_spec
            if state is not None and task.parent is None:
                blockers.append(("not_started", part.spec.name))
            if state is None or getattr(spec, "bpmn_id", None) is None:
                continue  # finished or predicted tasks, and Spiff's own control tasks, follow the new version
            if isinstance(spec, LoopTask) or isinstance(spec.task_spec if hasattr(spec, "task_spec") else None,
                                                        LoopTask):
                blockers.append(("multi_instance", spec.bpmn_id))
            old_name = spec.bpmn_name or spec.bpmn_id
            new = diff.alignment.get(task)
            if task in diff.removed or new is None:
                steps.append(StepMigration(spec.bpmn_id, old_name, None, state, "removed"))
                blockers.append(("step_removed", spec.bpmn_id))
                continue
            changes = _spec_changes(serializer.registry, spec, new) if task in diff.changed else ()
            steps.append(StepMigration(spec.bpmn_id, old_name, new.bpmn_name or new.bpmn_id, state,
                                       "changed" if changes else "kept", changes))
            if type(spec) is not type(new):
                blockers.append(("step_type_changed", spec.bpmn_id))
            elif changes and state != "ready":
                blockers.append(("waiting_step_changed", spec.bpmn_id))
    return MigrationPlan(tuple(steps), tuple(dict.fromkeys(blockers)))

def migrate(workflow: Any, new_spec_json: str) -> MigrationPlan:
    """Move this instance onto NEW_SPEC_JSON in place, if its plan allows it; ready steps keep their ids."""
    found = plan(workflow, new_spec_json)
    if not found.allowed:
        raise EngineError("This instance cannot be moved to the new version: "
                          + "; ".join(f"{code} ({step})" for code, step in found.blockers))
    new_spec, new_subprocess_specs, top_diff, sub_diffs = _diffs(workflow, new_spec_json)
    try:
        # Only ready tasks are reset (re-predicting what follows them); waiting timers keep their due moment.
        migrate_workflow(top_diff, workflow, new_spec, reset_mask=TaskState.READY)
        for sp_id, diff in sub_diffs.items():
            subprocess = workflow.subprocesses[sp_id]
            migrate_workflow(diff, subprocess, new_subprocess_specs[subprocess.spec.name],
                             reset_mask=TaskState.READY)
    except Exception as exc:  # noqa: BLE001 - "brand new" upstream code (docs/ENGINE.md, migration); the caller rolls back
        raise EngineError(f"Moving the instance to the new version failed: {exc}") from exc
    workflow.subprocess_specs = new_subprocess_specs
    return found
