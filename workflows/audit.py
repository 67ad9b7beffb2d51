"""The tamper-evident audit trail: every audit event carries the hash of the one before it in its chain.

A chain is one process instance's events (instance_id), plus one chain for the events that belong to no instance
(instance_id NULL: administration). Per instance because an instance's writes are already serialized, so appending
never waits on unrelated work: the chain's head (the latest hash) lives on the instance row (audit_head) and moves
on in the same UPDATE that saves the engine state, conditional on the lock_version and the head read with the row;
an event without an engine step locks the row, reads the head and moves it on. The administrative chain is
serialized by a transaction-scoped advisory lock on PostgreSQL.

hash = sha256(prev_hash + canonical JSON of the event's fields); the first event of a chain has prev_hash "".
The canonical form is a contract with inspectors (docs/AUDIT.md shows the few lines that check an export): never
change it without a new chain version.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from workflows.models import AuditEvent, ProcessInstance

GENESIS = ""
FIELDS = ("instance_id", "task_id", "at", "actor_id", "acting_for_id", "kind", "step_id", "message", "message_text",
          "data")
ADMIN_CHAIN_LOCK = 358_2013  # advisory lock key for the chain of events without an instance


@lru_cache(maxsize=64)  # one unit of work's events share their moment: opening a year formats it 5,600 times
def _iso(value: datetime) -> str:
    """UTC wall clock with microseconds: what both SQLite (naive) and PostgreSQL (timestamp) give back."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def canonical_fields(event: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a hash covers, as JSON values (the export carries exactly these)."""
    fields = {name: event.get(name) for name in FIELDS}
    fields["at"] = _iso(fields["at"]) if isinstance(fields["at"], datetime) else fields["at"]
    fields["message"] = str(fields["message"] or "")
    # through JSON once, as the database's JSON columns store them (tuples become lists, keys become strings); a
    # value already made of JSON's own types would come back unchanged, so it is not sent through (opening a year
    # hashes 5,600 events: the round trips were a third of that)
    for name in ("message_text", "data"):
        if fields[name] is not None and not _is_json(fields[name]):
            fields[name] = json.loads(json.dumps(fields[name], ensure_ascii=False, default=str))
    return fields


_JSON_SCALARS = (str, int, float, bool, type(None))


def _is_json(value: Any) -> bool:
    """Whether VALUE is made of dicts with str keys, lists, str, numbers, booleans and None only (no subclasses)."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _is_json(v) for k, v in value.items())
    if kind is list:
        return all(_is_json(v) for v in value)
    return kind in _JSON_SCALARS


def digest(prev_hash: str, fields: Mapping[str, Any]) -> str:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _row_fields(event: AuditEvent) -> dict[str, Any]:
    return canonical_fields({name: getattr(event, name) for name in FIELDS})


def chain(session: Session, rows: list[dict[str, Any]],
          heads: Mapping[int, str] | None = None) -> dict[int | None, str]:
    """Give ROWS (about to be inserted, in order) their prev_hash and hash, continuing each chain's head.

    Each instance keeps its chain's head on its row (process_instance.audit_head). HEADS are the heads of the
    instances the caller read with their rows and moves on itself, in the conditional UPDATE that saves them
    (runtime.commit: that UPDATE fails if the head moved meanwhile). The other instances' rows are locked here, their
    heads read and moved on (two statements). Returns every chain's new head.
    """
    current: dict[int | None, str] = dict(heads or {})
    others = sorted({row["instance_id"] for row in rows if row["instance_id"] is not None} - set(current))
    if others:
        # Row locks in id order (no deadlocks); SQLite ignores FOR UPDATE, its single writer already serializes.
        current.update(session.execute(select(ProcessInstance.id, ProcessInstance.audit_head)
                                       .where(ProcessInstance.id.in_(others))
                                       .order_by(ProcessInstance.id).with_for_update()).all())
    if any(row["instance_id"] is None for row in rows):
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADMIN_CHAIN_LOCK})
        current[None] = session.scalar(select(AuditEvent.hash).where(AuditEvent.instance_id.is_(None))
                                       .order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    link(rows, current)
    if others:
        session.execute(_MOVE_HEAD, [{"_id": i, "audit_head": current[i]} for i in others])
    return current


def link(rows: list[dict[str, Any]], heads: dict[int | None, str]) -> dict[int | None, str]:
    """Chain ROWS in order from HEADS (moved on in place: each chain's head after its last row)."""
    for row in rows:
        prev = heads.get(row["instance_id"]) or GENESIS
        row["prev_hash"] = prev
        row["hash"] = heads[row["instance_id"]] = digest(prev, canonical_fields(row))
    return heads


_INSTANCES = ProcessInstance.__table__
# Only the head moves: an event that is not an engine step (a claim, a draft, a comment) leaves lock_version and
# updated_at as they are, so it never makes a concurrent completion of the same instance fail.
_MOVE_HEAD = (sa.update(_INSTANCES).where(_INSTANCES.c.id == sa.bindparam("_id"))
              .values(audit_head=sa.bindparam("audit_head"), updated_at=_INSTANCES.c.updated_at))


@dataclass
class Break:
    """The first place a chain does not hold: an event changed, or one missing before it."""

    chain: int | None  # instance id, None for the administrative chain
    event_id: int
    problem: str  # "changed", "missing" or "truncated"

    def describe(self) -> str:
        where = f"instance {self.chain}" if self.chain is not None else "administrative chain"
        if self.problem == "changed":
            return f"audit event {self.event_id} ({where}) was changed: its content no longer matches its hash"
        if self.problem == "truncated":
            last = f"event {self.event_id}" if self.event_id else "no event"
            return (f"the latest audit events of {where} are missing: its chain ends at {last}, not at the head "
                    "recorded on the instance")
        return f"an audit event is missing before event {self.event_id} ({where}): the chain link is broken"


def _events(session: Session, where: Any = None) -> Iterator[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.instance_id, AuditEvent.id).execution_options(yield_per=2000)
    if where is not None:
        query = query.where(where)
    yield from session.scalars(query)


def verify(session: Session) -> tuple[int, list[Break]]:
    """Walk every chain; returns the number of events checked and the first break of each broken chain.

    An instance's chain must also end at the head recorded on its row: deleting its latest events is a break too.
    """
    checked, breaks = 0, []
    current: object = object()
    prev, broken = GENESIS, False
    ends: dict[int | None, tuple[int, str]] = {}  # each chain's last event: id and hash
    for event in _events(session):
        if event.instance_id != current:
            current, prev, broken = event.instance_id, GENESIS, False
        checked += 1
        ends[event.instance_id] = (event.id, event.hash or "")
        if broken:
            continue
        if event.prev_hash != prev:
            breaks.append(Break(event.instance_id, event.id, "missing"))
            broken = True
        elif event.hash != digest(prev, _row_fields(event)):
            breaks.append(Break(event.instance_id, event.id, "changed"))
            broken = True
        prev = event.hash or ""
    broken_chains = {b.chain for b in breaks}
    for instance_id, head in session.execute(select(ProcessInstance.id, ProcessInstance.audit_head)):
        last_id, last_hash = ends.get(instance_id, (0, GENESIS))
        if head != last_hash and instance_id not in broken_chains:
            breaks.append(Break(instance_id, last_id, "truncated"))
    breaks.sort(key=lambda b: b.event_id)
    return checked, breaks


def export(session: Session, *, year: int | None = None, unit_code: str | None = None) -> dict[str, Any]:
    """The whole chains of the instances of YEAR and/or UNIT_CODE, as an inspector can verify them without us."""
    query = select(ProcessInstance.id).order_by(ProcessInstance.id)
    if year is not None:
        query = query.where(ProcessInstance.year == year)
    if unit_code is not None:
        query = query.where(ProcessInstance.unit_code == unit_code)
    ids = list(session.scalars(query))
    chains: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        for event in _events(session, AuditEvent.instance_id.in_(ids[start:start + 500])):
            chains[event.instance_id].append(  # type: ignore[index]
                {"id": event.id, "fields": _row_fields(event), "prev_hash": event.prev_hash, "hash": event.hash})
    return {
        "format": "bacninh-audit-chain/1",
        "algorithm": "sha256(prev_hash + canonical JSON of fields), canonical = sorted keys, ',' ':', UTF-8",
        "filter": {"year": year, "unit_code": unit_code},
        "chains": [{"instance_id": i, "head": events[-1]["hash"] if events else GENESIS, "events": events}
                   for i, events in chains.items()],
    }


def rechain_all(connection: Connection) -> int:
    """Compute every chain from scratch over existing events (the migration that introduced the chain).

    Core over an explicit column list, not the model: a later migration may add columns this one must not select.
    """
    table = sa.table("audit_event", sa.column("id", sa.Integer), sa.column("instance_id", sa.Integer),
                     sa.column("task_id", sa.Integer), sa.column("at", sa.DateTime), sa.column("actor_id", sa.Integer),
                     sa.column("acting_for_id", sa.Integer), sa.column("kind", sa.String),
                     sa.column("step_id", sa.String), sa.column("message", sa.Text),
                     sa.column("message_text", sa.JSON), sa.column("data", sa.JSON),
                     sa.column("prev_hash", sa.String), sa.column("hash", sa.String))
    heads: dict[int | None, str] = {}
    updates = []
    rows = connection.execute(sa.select(*(table.c[name] for name in ("id", *FIELDS)))
                              .order_by(table.c.instance_id, table.c.id)).mappings()
    for row in rows:
        prev = heads.get(row["instance_id"], GENESIS)
        heads[row["instance_id"]] = digest(prev, canonical_fields(row))
        updates.append({"key": row["id"], "prev_hash": prev, "hash": heads[row["instance_id"]]})
    if updates:
        connection.execute(table.update().where(table.c.id == sa.bindparam("key"))
                           .values(prev_hash=sa.bindparam("prev_hash"), hash=sa.bindparam("hash")), updates)
    return len(updates)


def iter_chain_heads(session: Session) -> Iterable[tuple[int | None, str]]:
    """Each chain's latest hash: record them elsewhere to detect a truncated chain later."""
    last = select(func.max(AuditEvent.id)).group_by(AuditEvent.instance_id)
    return session.execute(select(AuditEvent.instance_id, AuditEvent.hash).where(AuditEvent.id.in_(last))
                           .order_by(AuditEvent.instance_id))
