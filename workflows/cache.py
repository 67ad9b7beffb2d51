"""Process-wide caches that know which database their entries came from.

Ids are only unique within one database (tests open a new one for every test; an operator may point a worker at
another), so an entry read from one database must never answer for another. Each cache keeps one small LRU table per
SQLAlchemy engine (held weakly: a disposed engine takes its entries with it), may expire entries after a maximum age,
and is registered so that `clear_all()` empties every cache at once (tests, and after an administrator's change that
must apply in this process at once).
"""
from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

V = TypeVar("V")

_ALL: weakref.WeakSet[DatabaseCache[Any]] = weakref.WeakSet()


class DatabaseCache(Generic[V]):
    """A bounded LRU cache per database, with an optional maximum age per entry."""

    def __init__(self, name: str, max_entries: int = 256, max_age_seconds: float | None = None) -> None:
        self.name = name
        self.max_entries = max_entries
        self.max_age_seconds = max_age_seconds
        self._lock = threading.RLock()
        self._tables: weakref.WeakKeyDictionary[Any, OrderedDict[Hashable, tuple[float, V]]] = (
            weakref.WeakKeyDictionary())
        self._shared: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        _ALL.add(self)

    def get(self, database: Session | Engine | Connection | None, key: Hashable, load: Callable[[], V]) -> V:
        """The entry for KEY in DATABASE's table, loading (and keeping) it when absent or too old.

        DATABASE None is for values that depend only on KEY (a spec compiled from its own JSON, say).
        """
        table = self._table(database)
        now = time.monotonic()
        with self._lock:
            found = table.get(key)
            if found is not None and (self.max_age_seconds is None or now - found[0] <= self.max_age_seconds):
                table.move_to_end(key)
                return found[1]
        value = load()  # outside the lock: a slow load must not block readers of other keys
        with self._lock:
            table[key] = (now, value)
            table.move_to_end(key)
            while len(table) > self.max_entries:
                table.popitem(last=False)
        return value

    def forget(self, database: Session | Engine | Connection | None = None, key: Hashable | None = None) -> None:
        """Drop KEY (or every entry) of DATABASE's table; with no database, of every table."""
        with self._lock:
            tables = [self._table(database)] if database is not None else [self._shared, *self._tables.values()]
            for table in tables:
                if key is None:
                    table.clear()
                else:
                    table.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tables = weakref.WeakKeyDictionary()
            self._shared.clear()

    def _table(self, database: Session | Engine | Connection | None) -> OrderedDict[Hashable, tuple[float, V]]:
        if database is None:
            return self._shared
        engine = _engine_of(database)
        with self._lock:
            table = self._tables.get(engine)
            if table is None:
                table = self._tables[engine] = OrderedDict()
            return table


def _engine_of(database: Session | Engine | Connection) -> Engine:
    if isinstance(database, Session):
        bind = database.get_bind()
        return bind.engine if isinstance(bind, Connection) else bind
    if isinstance(database, Connection):
        return database.engine
    return database


def clear_all() -> None:
    """Empty every cache of this process."""
    for cache in list(_ALL):
        cache.clear()
