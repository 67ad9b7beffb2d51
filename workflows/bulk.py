"""Thousands of rows into one table in one statement, and their ids taken beforehand (opening the year).

PostgreSQL: psycopg sends an executemany as one statement per row (pipelined), every row's parameters adapted one
by one. One INSERT … SELECT FROM unnest(one array per column) is one statement whatever the number of rows: 5,600
audit events took 210 ms as an executemany and 120 ms so, 2,800 report rows 140 and 50, most of what is left being
the server's own work (foreign-key checks, indexes). SQLite's executemany is already a loop in C over one prepared
statement, so it stays.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

# The sequence named once (per row it cost 3 µs an id), the ids as one array (as rows they cost SQLAlchemy's row
# processing): 3 ms for 5,600 ids, against 18.
_NEXT_IDS = text("SELECT array_agg(nextval(seq)) FROM CAST(pg_get_serial_sequence(:table, 'id') AS regclass) AS seq, "
                 "generate_series(1, :n)")


def next_ids(session: Session, table: Table, count: int) -> list[int]:
    """COUNT ids for new rows of TABLE (its integer primary key `id`), ascending, that no other row has or will get.

    PostgreSQL takes them from the column's sequence (one statement). SQLite gives a new row max(id) + 1, and has one
    writer: once this unit of work has written (opening the year has, when it asks), no other connection inserts
    until it commits, so the ids after the current maximum stay free (a clash would fail the INSERT, not overwrite).
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return sorted(session.scalar(_NEXT_IDS, {"table": table.name, "n": count}))
    top = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(top + 1, top + 1 + count))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ROWS (all with the same keys) into TABLE in one statement, in their order; a column a row leaves out
    gets its default, as with insert(TABLE).

    On PostgreSQL the rows go in as one array per column (unnest): each value through the column type's bind processor,
    as insert() sends it (an enum member becomes its value, a JSON value psycopg's JSON wrapper), cast to that type.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    keys = tuple(rows[0])
    defaults = {c.name: c.default for c in table.c if c.name not in keys and c.default is not None}
    if defaults:  # what insert() would fill in; a callable default once for the statement: the rows go in at once
        if any(not (d.is_scalar or d.is_callable) for d in defaults.values()):  # pragma: no cover - none so far
            raise NotImplementedError(f"{table.name}: a SQL expression as a default is not filled in here")
        fill = {name: default.arg if default.is_scalar else default.arg(None) for name, default in defaults.items()}
        rows = [{**row, **fill} for row in rows]
        keys = (*keys, *fill)
    if session.autoflush:  # as session.execute() would: pending ORM rows first (a copy's row may refer to them)
        session.flush()
    statement, processors = _unnest_insert(dialect, table, keys)
    params = {}
    for n, (key, process) in enumerate(zip(keys, processors, strict=True)):
        values = [row[key] for row in rows]
        params[f"c{n}"] = [process(v) for v in values] if process else values
    session.connection().exec_driver_sql(statement, params)


@lru_cache(maxsize=32)
def _unnest_insert(dialect: Dialect, table: Table, keys: tuple[str, ...]) -> tuple[str, list[Callable | None]]:
    # %(cN)b: psycopg sends the arrays in binary. In text it escapes every element of an array with a regular
    # expression (2,800 engine states: 0.4 s against 0.08 s in binary).
    quote = dialect.identifier_preparer.quote
    arrays = ", ".join(f"CAST(%(c{n})b AS {table.c[k].type.compile(dialect=dialect)}[])" for n, k in enumerate(keys))
    statement = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
                 f"({', '.join(quote(k) for k in keys)}) SELECT * FROM unnest({arrays})")
    return statement, [table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys]
