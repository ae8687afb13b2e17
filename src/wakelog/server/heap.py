"""The server process's Python heap: the objects the app is built of are frozen out of the cyclic
garbage collector's sight (``gc.freeze``) once it is built.

The collector's full passes walk every tracked object of the process, and a built app is some
170,000 of them (modules, classes, routes, SQLAlchemy's tables and compiled statements, pydantic's
models), none of which ever becomes garbage. A request that allocates many objects (a chart of 100
runs: 16,000 chunk rows) sets off full passes; walking the app's objects made such a chart take
up to twice its usual time, one time in three. Frozen, they are never walked again: the objects
requests make are still collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup() -> int:
    """Collect what is garbage now, then freeze the rest; how many objects were frozen. Call it
    once the app is built, before it serves."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
