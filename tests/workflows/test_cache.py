"""The process-wide cache helper: one table per database, bounded, expiring, and emptied by clear_all()."""
from __future__ import annotations

import time

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from workflows import cache


def test_an_entry_read_from_one_database_never_answers_for_another():
    first, second = create_engine("sqlite://"), create_engine("sqlite://")
    names = cache.DatabaseCache[str]("test-names")
    assert names.get(first, 1, lambda: "from first") == "from first"
    assert names.get(second, 1, lambda: "from second") == "from second"
    with Session(first) as session:  # a session finds its engine's table
        assert names.get(session, 1, lambda: "reloaded") == "from first"


def test_the_least_recently_used_entry_goes_when_the_table_is_full():
    engine = create_engine("sqlite://")
    loads: list[int] = []
    small = cache.DatabaseCache[int]("test-small", max_entries=2)

    def load(n: int) -> int:
        loads.append(n)
        return n

    small.get(engine, 1, lambda: load(1))
    small.get(engine, 2, lambda: load(2))
    small.get(engine, 1, lambda: load(1))  # 1 is now the most recent
    small.get(engine, 3, lambda: load(3))  # 2 goes
    small.get(engine, 1, lambda: load(1))
    small.get(engine, 2, lambda: load(2))
    assert loads == [1, 2, 3, 2]


def test_an_entry_older_than_its_maximum_age_is_read_again(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    engine = create_engine("sqlite://")
    ageing = cache.DatabaseCache[str]("test-ageing", max_age_seconds=300)
    assert ageing.get(engine, "k", lambda: "old") == "old"
    clock[0] += 299
    assert ageing.get(engine, "k", lambda: "new") == "old"
    clock[0] += 2
    assert ageing.get(engine, "k", lambda: "new") == "new"


def test_clear_all_and_forget_empty_what_they_name():
    engine = create_engine("sqlite://")
    one, two = cache.DatabaseCache[str]("test-one"), cache.DatabaseCache[str]("test-two")
    one.get(engine, "a", lambda: "1a")
    one.get(engine, "b", lambda: "1b")
    two.get(None, "a", lambda: "2a")
    one.forget(engine, "a")
    assert one.get(engine, "a", lambda: "again") == "again"
    assert one.get(engine, "b", lambda: "again") == "1b"
    cache.clear_all()
    assert one.get(engine, "b", lambda: "after clear") == "after clear"
    assert two.get(None, "a", lambda: "after clear") == "after clear"
