"""Starting many instances of one version in one unit of work: opening the year starts one agency_report per unit.

Every unit's report starts from the same spec at the same moment and stops at the same first step; only the start
variables that name the unit (unit_code, unit_name) and the engine's task ids differ. So the first two units go
through the engine as any start does (runtime.start); the first one's engine state, task rows and audit events
become a template, and every further unit gets a copy with its own variables, fresh task ids and its own audit
chain (a new chain per instance, hashed by audit.link as at commit); the rows go in with one INSERT per table.

The second unit is the check: its copy made from the template must equal what the engine produced for it (task ids
and the engine's state-change clocks aside). If anything differs (a step that reads the unit's name, a service task
at the start, a variable that is not text) every unit goes through the engine one by one, as before.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workflows import audit, bulk, runtime
from workflows.models import AuditEvent, DefinitionVersion, HumanTask, ProcessInstance

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_QUOTED_UUID = re.compile(f'"({_UUID})"')
_CLOCK = re.compile(r'"last_state_change":[-0-9.e+]+')  # when the engine last moved each task: differs by design
# The instance columns a start writes; others (added later, e.g. a chain head) keep their defaults, as on a new row.
_COLUMNS = ("version_id", "process_key", "status", "state", "next_timer_at", "lock_version", "created_at",
            "updated_at", "started_by_id")
TEMPLATE_FROM = 3  # fewer starts than this go through the engine one by one (the check needs a second unit)


@dataclass
class Start:
    """One instance to start: its start variables, business key and unit."""

    data: dict[str, Any]
    business_key: str
    unit_code: str | None = None


@dataclass
class _Started:
    """What runtime.start did for one start: the instance, and the task rows and audit events it queued."""

    instance: ProcessInstance
    tasks: list[dict[str, Any]]
    task_base: int
    events: list[dict[str, Any]]


@dataclass
class _Template:
    parts: list[str]
    slots: list[tuple[int, str]]  # (position in parts, "uuid:<n>" or the start variable's name)
    uuids: list[str]
    first: _Started
    start: Start
    varying: tuple[str, ...]
    values: dict[str, Any] = field(default_factory=dict)
    touched: list[set[str]] | None = None  # per task row, then per event: the fields _substitute may change


def start_many(ctx: runtime.Context, version: DefinitionVersion, starts: Sequence[Start], year: int,
               cycle_id: int | None = None) -> list[int]:
    """Start one instance of VERSION per START, each to its first wait state (not committed); their ids, in order.

    Only for starts that need no topic handler (nothing outside the instance happens on the way to its first step).
    """
    varying = _varying(starts)
    # The check unit differs from the first in every varying variable, so that a value of the first unit that also
    # occurs elsewhere in its state or rows (and would be wrongly replaced in the copies) shows in the check.
    check = next((i for i, s in enumerate(starts) if i and varying is not None
                  and all(s.data[k] != starts[0].data[k] for k in varying)), None)
    if len(starts) < TEMPLATE_FROM or check is None or len({s.business_key for s in starts}) < len(starts):
        return [_start(ctx, version, s, year, cycle_id).instance.id for s in starts]
    first, second = (_start(ctx, version, starts[i], year, cycle_id) for i in (0, check))
    rest = [s for i, s in enumerate(starts) if i not in (0, check)]
    template = _template(first, starts[0], varying or ())
    if template is None or not _copies_faithfully(template, second, starts[check]):
        rest_ids = [_start(ctx, version, s, year, cycle_id).instance.id for s in rest]
    else:
        rest_ids = _write_copies(ctx, template, rest, year, cycle_id)
    ids = iter(rest_ids)
    return [first.instance.id if i == 0 else second.instance.id if i == check else next(ids)
            for i in range(len(starts))]


def _varying(starts: Sequence[Start]) -> tuple[str, ...] | None:
    """The start variables that differ between starts; None if they are not all text (no safe copy then)."""
    if not starts:
        return ()
    keys = set(starts[0].data)
    if any(set(s.data) != keys for s in starts):
        return None
    varying = tuple(sorted(k for k in keys if len({json.dumps(s.data[k], sort_keys=True) for s in starts}) > 1))
    if any(not isinstance(s.data[k], str) or not s.data[k] for s in starts for k in varying):
        return None
    return varying


def _start(ctx: runtime.Context, version: DefinitionVersion, start: Start, year: int,
           cycle_id: int | None) -> _Started:
    task_base, event_base = len(ctx._new_tasks), len(ctx._audit)
    instance, _ = runtime.start(ctx, version, start.data, business_key=start.business_key, year=year,
                                unit_code=start.unit_code, cycle_id=cycle_id)
    return _Started(instance, [dict(t) for t in ctx._new_tasks[task_base:]], task_base,
                    [dict(e) for e in ctx._audit[event_base:]])


def _template(first: _Started, start: Start, varying: tuple[str, ...]) -> _Template | None:
    """The first instance's state cut at its task ids and at the JSON of each varying start variable."""
    if any(e["kind"] == "external_task" or not isinstance(e["task"], int | None) for e in first.events):
        return None  # something outside the instance ran, or an existing task row was touched: not a copy
    text = first.instance.state.decode()
    tokens = {json.dumps(start.data[k]): k for k in varying}
    if len(tokens) != len(varying):
        return None
    pattern = re.compile("|".join([_QUOTED_UUID.pattern, *(re.escape(t) for t in tokens)]))
    parts, slots, uuids, last = [], [], [], 0
    for match in pattern.finditer(text):
        parts.append(text[last:match.start()])
        if match.group(1):
            if match.group(1) not in uuids:
                uuids.append(match.group(1))
            slots.append((len(parts), f"uuid:{uuids.index(match.group(1))}"))
        else:
            slots.append((len(parts), tokens[match.group(0)]))
        parts.append("")
        last = match.end()
    parts.append(text[last:])
    return _Template(parts, slots, uuids, first, start, varying,
                     {c: getattr(first.instance, c) for c in _COLUMNS})


def _render(template: _Template, start: Start, uuids: Sequence[str]) -> str:
    values = {f"uuid:{n}": f'"{u}"' for n, u in enumerate(uuids)}
    values.update((name, json.dumps(start.data[name])) for name in template.varying)
    out = list(template.parts)
    for position, slot in template.slots:
        out[position] = values[slot]
    return "".join(out)


def _substitute(value: Any, strings: Mapping[str, str]) -> Any:
    if type(value) is str:
        return strings.get(value, value)
    if isinstance(value, dict):
        return {k: _substitute(v, strings) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, strings) for v in value]
    return value


def _mentions(value: Any, strings: Collection[str]) -> bool:
    """Whether _substitute would find one of STRINGS in VALUE."""
    if type(value) is str:
        return value in strings
    if isinstance(value, dict):
        return any(_mentions(v, strings) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, strings) for v in value)
    return False


def _copy(row: dict[str, Any], strings: Mapping[str, str], touched: Collection[str]) -> dict[str, Any]:
    # Only the fields that name a task id or a varying variable go through _substitute: walking every field of
    # 8,400 rows was 60 ms of an opening. The others are the template's own values, shared, and never modified.
    return {k: _substitute(v, strings) if k in touched else v for k, v in row.items()}


def _rows_for(template: _Template, start: Start, uuids: Sequence[str], instance_id: int,
              task_base: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The template's task rows and audit events for another instance (not yet its chain)."""
    strings = dict(zip(template.uuids, uuids, strict=True))
    strings.update({template.start.data[k]: start.data[k] for k in template.varying})
    if template.touched is None:
        template.touched = [{k for k, v in row.items() if _mentions(v, strings)}
                            for row in (*template.first.tasks, *template.first.events)]
    touched = iter(template.touched)
    tasks = [{**_copy(row, strings, next(touched)), "instance_id": instance_id, "unit_code": start.unit_code}
             for row in template.first.tasks]
    events = []
    for event in template.first.events:
        copy = {**_copy(event, strings, next(touched)), "instance_id": instance_id}
        if isinstance(event["task"], int):
            copy["task"] = event["task"] - template.first.task_base + task_base
        events.append(copy)
    return tasks, events


def _copies_faithfully(template: _Template, second: _Started, start: Start) -> bool:
    """Whether the template, given the second start, gives exactly what the engine gave for it."""
    text = second.instance.state.decode()
    uuids = list(dict.fromkeys(_QUOTED_UUID.findall(text)))
    if len(uuids) != len(template.uuids):
        return False
    if _CLOCK.sub("", _render(template, start, uuids)) != _CLOCK.sub("", text):
        return False
    if any(getattr(second.instance, c) != template.values[c] for c in _COLUMNS if c != "state"):
        return False
    tasks, events = _rows_for(template, start, uuids, second.instance.id, second.task_base)
    return tasks == second.tasks and events == second.events


def _write_copies(ctx: runtime.Context, template: _Template, starts: Sequence[Start], year: int,
                  cycle_id: int | None) -> list[int]:
    """The copies' instances, task rows and audit events, one INSERT per table (bulk.insert_rows), ids taken first.

    Each copy's audit chain is new (its instance row is written here), so it is chained here from the start, and the
    instance row goes in with its head: the chain needs no lock, no read and no second write of 2,800 rows at
    commit. With the ids known beforehand, no SELECT reads them back. Core on the tables: the ORM's bulk INSERT
    would reset the version counter (lock_version) to its first value.
    """
    session = ctx.session
    instance_table, task_table, event_table = (ProcessInstance.__table__, HumanTask.__table__,
                                               AuditEvent.__table__)
    ids = bulk.next_ids(session, instance_table, len(starts))
    task_ids = iter(bulk.next_ids(session, task_table, len(starts) * len(template.first.tasks)))
    event_ids = iter(bulk.next_ids(session, event_table, len(starts) * len(template.first.events)))
    instances, tasks, events = [], [], []
    every = _uuid4s(len(starts) * len(template.uuids))
    fresh = (every[n:n + len(template.uuids)] for n in range(0, len(every), len(template.uuids)))
    for start, instance_id in zip(starts, ids, strict=True):
        uuids = next(fresh)
        made, chain = _rows_for(template, start, uuids, instance_id, 0)
        for task in made:
            task["id"] = next(task_ids)
        for event in chain:
            task = event.pop("task")
            event["id"], event["task_id"] = next(event_ids), made[task]["id"] if isinstance(task, int) else None
        # lock_version + 1: a start's instance is saved at commit (runtime._save_row moves its counter on once);
        # a copy is written already saved, so it must read as a start does after that commit.
        instances.append({**template.values, "id": instance_id, "lock_version": template.values["lock_version"] + 1,
                          "state": _render(template, start, uuids).encode(), "business_key": start.business_key,
                          "unit_code": start.unit_code, "year": year, "cycle_id": cycle_id,
                          "audit_head": audit.link(chain, {instance_id: audit.GENESIS})[instance_id]})
        tasks.extend(made)
        events.extend(chain)
    bulk.insert_rows(session, instance_table, instances)
    bulk.insert_rows(session, task_table, tasks)
    bulk.insert_rows(session, event_table, events)
    return ids


def _uuid4s(count: int) -> list[str]:
    """COUNT random (version 4) UUIDs as str(uuid.uuid4()) writes them: one call for the random bytes, since
    uuid.uuid4() one by one cost 60 ms for the 25,000 task ids of 2,800 copies."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])  # the RFC 4122 variant
    h = raw.hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
            for i in range(0, 32 * count, 32)]
