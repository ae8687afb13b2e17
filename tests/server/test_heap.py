"""The server's startup heap frozen out of the cyclic collector's sight (``server/heap.py``)."""

from __future__ import annotations

import gc
import weakref

from wakelog.server.heap import freeze_startup


class _Node:
    other: _Node


def test_the_startup_heap_is_frozen_and_cycles_made_afterwards_are_still_collected() -> None:
    built = [_Node()]  # a tracked object of the app, made before the freeze
    try:
        assert freeze_startup() > 0
        assert not any(found is built for found in gc.get_objects())  # out of every generation
        first, second = _Node(), _Node()
        first.other, second.other = second, first  # a request's garbage: a cycle, after the freeze
        gone = weakref.ref(first)
        del first, second
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()  # the rest of the tests' process as it was
    assert any(found is built for found in gc.get_objects())
