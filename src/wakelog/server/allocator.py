"""The C allocator's settings for the server process: freed memory is kept for the next request.

A chart of 100 runs works through some hundred MB of numpy temporaries of a few MB each. With
glibc's defaults each thread of the pool gets an arena of its own, whose heaps are trimmed back to
the kernel as soon as a request frees its arrays, so the next request's arrays start on fresh pages
and the page faults of touching them cost as much as the arithmetic (that chart: 78 → 57 ms in a
pool thread). Here every thread shares the main heap (one arena: the GIL serialises the threads'
Python work anyway), arrays under 32 MiB come from it, and up to 128 MiB of freed memory stays
mapped for reuse. A replica's resident memory therefore stays near its busiest request's.

glibc only (``mallopt``); elsewhere, or where the operator set ``MALLOC_*`` or ``GLIBC_TUNABLES``
variables of their own, nothing changes.
"""

from __future__ import annotations

import ctypes
import os

#: ``mallopt`` parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

SETTINGS = {
    M_ARENA_MAX: 1,
    M_MMAP_THRESHOLD: 32 * 2**20,  # the largest glibc accepts on 64-bit (half a thread heap)
    M_TRIM_THRESHOLD: 128 * 2**20,
}


def operator_tuned() -> bool:
    """Whether the environment already tunes glibc's allocator (then it is left as set)."""
    return "GLIBC_TUNABLES" in os.environ or any(name.startswith("MALLOC_") for name in os.environ)


def keep_freed_memory() -> bool:
    """Apply ``SETTINGS`` to this process's allocator; whether they were applied. Call it before
    the server starts its threads: a thread keeps the arena it was given."""
    if not _glibc() or operator_tuned():
        return False
    mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    return all(mallopt(parameter, value) == 1 for parameter, value in SETTINGS.items())


def _glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # not POSIX, or a C library that does not say
        return False
