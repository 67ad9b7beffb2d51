"""Python's cyclic garbage collector, set for a long-running server process (an app server, the timer worker).

With the default thresholds the collector ran every 700 new container objects and, every hundred runs, walked
every object alive: the modules, the parsed specs and the caches of a warm process included. A request that loads
thousands of rows (a province-wide click) paid for that several times over: at 2,800 units a third of consolidation's
time went to collections that found nothing to free. So: what start-up made is frozen out of the collector's walks
for good, and a collection runs every YOUNG_OBJECTS new objects. Reference counting still frees almost everything
at once; the collector is only for cycles, which this code rarely makes.
"""
from __future__ import annotations

import gc

YOUNG_OBJECTS = 20_000


def tune_for_server() -> None:
    """Freeze what is alive now (call once start-up is done) and collect less often from here on."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)
