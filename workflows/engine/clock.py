"""The engine's clock: the real time, or the moment the current run was asked to act at (tests, `flask tick --now`).

SpiffWorkflow reads the wall clock through the `datetime` name of its timer module. That name is replaced once, at
import, by a class whose `now()` reads a context variable; `at(moment)` sets the variable for the span of one run.
Context variables belong to the thread (and task) that sets them, so overlapping requests on a threaded server each
see their own time, and leaving the block always restores the real clock: nothing is patched per call.
Replacing that module attribute relies on a private detail of SpiffWorkflow 3.2.0 (docs/ENGINE.md, "Private
internals"; tests/workflows/test_spiff_version.py).
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _timer_module  # type: ignore[import-untyped]

_moment: ContextVar[_dt.datetime | None] = ContextVar("engine_moment", default=None)


class ContextDateTime(_dt.datetime):
    """`datetime` as the timer module sees it: `now()` answers the current run's moment when one is set."""

    @classmethod
    def now(cls, tz: Any = None) -> _dt.datetime:  # type: ignore[override]
        moment = _moment.get()
        if moment is None:
            return _dt.datetime.now(tz)
        return moment.astimezone(tz) if tz else moment


_timer_module.datetime = ContextDateTime


def now(tz: Any = _dt.UTC) -> _dt.datetime:
    """What the engine takes the time to be here and now."""
    return ContextDateTime.now(tz)


@contextmanager
def at(moment: _dt.datetime | None) -> Iterator[None]:
    """Run the block with the engine's clock at MOMENT (the real clock when None), in this context only."""
    if moment is None:
        yield
        return
    token = _moment.set(moment)
    try:
        yield
    finally:
        _moment.reset(token)
