"""The threads that apply ingest batches: the server's own, beside the thread pool (anyio's) that the
other routes share.

A live run's every batch makes one trip from the event loop to a thread and back. Through
``run_in_threadpool`` the trip costs more than a small batch's decoding and checks together:
anyio's capacity limiter, cancel scope and copied context, and a turn of the loop more, on top of
the hand-over itself. Here it is a queue and a ``call_soon_threadsafe``. The thread idle the shortest
takes the next batch: its caches are warm, where threads taking batches in turn cost a small batch
6 % more of the server's CPU. Threads start as batches come, up to ``SIZE`` (when all are busy a
batch waits for the first to finish), and end at ``stop`` (the app's shutdown), or when their
``IngestThreads`` is garbage collected (an app that was never started, in tests).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")

#: How many batches one server process applies at once. On SQLite they take turns at one write
#: lock anyway (``store/database.py``); on PostgreSQL each holds one of the pool's 20 connections.
SIZE = 8

#: The work, the caller's future and the loop it waits in; None tells a thread to end.
_Job = tuple[Callable[[], Any], "asyncio.Future[Any]", asyncio.AbstractEventLoop]


class IngestThreads:
    """Up to ``size`` threads for a server process's ingest batches (``run``), ended by ``stop``."""

    def __init__(self, size: int = SIZE) -> None:
        self._threads = _Threads(size)
        weakref.finalize(self, self._threads.stop)  # the threads hold ``_Threads``, not this object

    async def run(self, fn: Callable[..., _T], *args: Any) -> _T:
        """``fn(*args)`` in one of the threads: its result, or its exception raised here. A caller
        cancelled meanwhile does not stop the work: it runs to its end (a transaction commits or
        rolls back whole), its answer dropped."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        self._threads.submit((functools.partial(fn, *args), future, loop))
        return await future

    def stop(self) -> None:
        """End the threads once the work asked for before has been done; waits for them. Work
        asked for afterwards is refused (``RuntimeError``)."""
        self._threads.stop(wait=True)


class _Threads:
    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[_Job | None]] = []  # the inboxes of idle threads, a stack
        self._backlog: collections.deque[_Job] = collections.deque()  # while every thread is busy
        self._started: list[threading.Thread] = []
        self._stopped = False

    def submit(self, job: _Job) -> None:
        with self._lock:
            if self._stopped:
                raise RuntimeError("the ingest threads have stopped: the server is shutting down")
            if self._idle:
                inbox = self._idle.pop()
            elif len(self._started) < self._size:
                inbox = queue.SimpleQueue()
                name = f"wakelog-ingest-{len(self._started)}"
                thread = threading.Thread(target=self._serve, args=(inbox,), name=name, daemon=True)
                thread.start()
                self._started.append(thread)
            else:
                self._backlog.append(job)
                return
        inbox.put(job)

    def _serve(self, inbox: queue.SimpleQueue[_Job | None]) -> None:
        job = inbox.get()
        while job is not None:
            outcome = _outcome(job)
            # idle (or on to the backlog) before answering, so that the caller's next batch finds
            # this thread waiting rather than another
            with self._lock:
                after = self._backlog.popleft() if self._backlog else None
                idle = after is None and not self._stopped
                if idle:
                    self._idle.append(inbox)
            _answer(job, *outcome)
            job = outcome = None  # no batch kept alive while the thread waits
            job = inbox.get() if idle else after

    def stop(self, wait: bool = False) -> None:
        with self._lock:
            self._stopped = True
            idle, self._idle = self._idle, []
            started = list(self._started)
        for inbox in idle:
            inbox.put(None)
        if wait:
            for thread in started:
                thread.join()


def _outcome(job: _Job) -> tuple[Any, BaseException | None]:
    try:
        return job[0](), None
    except BaseException as exc:  # whatever it is, the caller gets it
        return None, exc


def _answer(job: _Job, result: Any, exc: BaseException | None) -> None:
    _, future, loop = job
    try:
        loop.call_soon_threadsafe(_settle, future, result, exc)
    except RuntimeError:  # the caller's loop has closed: nobody waits for the answer
        pass


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is None:
        future.set_result(result)
    else:
        future.set_exception(exc)
