"""App servers and the timer worker set Python's garbage collector for a long-running process (workflows/collector.py).

Measured at 2,800 units, a third of consolidation's click went to collections that freed nothing. Each check runs
in a fresh interpreter: the setting is process-wide and this test process keeps its own.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from workflows import collector

ROOT = Path(__file__).resolve().parents[1]


def in_a_fresh_process(code: str) -> list[int]:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return [int(n) for n in done.stdout.split()]


def test_a_gunicorn_worker_freezes_what_start_up_made_and_collects_less_often():
    default, tuned, frozen = in_a_fresh_process(
        "import gc, runpy\n"
        "hooks = runpy.run_path('gunicorn.conf.py')\n"
        "default = gc.get_threshold()[0]\n"
        "hooks['post_worker_init'](None)\n"
        "print(default, gc.get_threshold()[0], gc.get_freeze_count())\n")
    assert default == 700  # Python's own: a collection every 700 new objects
    assert tuned == collector.YOUNG_OBJECTS
    assert frozen > 5_000  # the modules gunicorn.conf.py and the hook imported, left out of every later walk


def test_the_frozen_objects_stay_out_of_later_collections_and_new_garbage_is_still_freed():
    collected, still_frozen = in_a_fresh_process(
        "import gc\n"
        "from workflows import collector\n"
        "collector.tune_for_server()\n"
        "frozen = gc.get_freeze_count()\n"
        "class Node:\n"
        "    pass\n"
        "for _ in range(1000):\n"
        "    a, b = Node(), Node()\n"
        "    a.other, b.other = b, a\n"  # a cycle only the collector can free
        "print(gc.collect(), int(gc.get_freeze_count() == frozen))\n")
    assert collected >= 1990 and still_frozen == 1  # the last pair is still named by a and b
