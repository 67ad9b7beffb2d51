"""`flask --app webapp <command>`: one module per concept, each command defined at module level.

`setup` (init-db, deploy), `demo` (seed-demo, simulate), `cycle` (the `cycle` group), `timers` (tick, worker),
`rules` (the `rules` group). Commands are wrapped in `with_appcontext`, so they run against the app `register` adds
them to.
"""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from webapp.cli import cycle, demo, ranks, rules, setup, timers, units

    for module in (setup, demo, cycle, timers, rules, ranks, units):
        for command in module.COMMANDS:
            app.cli.add_command(command)
