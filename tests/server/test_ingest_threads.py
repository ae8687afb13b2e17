"""The threads ingest batches are applied in (``server/ingest_threads.py``): answers and errors reach
the caller, batches run side by side, the thread idle the shortest takes the next batch, a batch
waits while every thread is busy, a cancelled caller does not cut its work short, and the threads
end at ``stop`` (after the work asked for before it) or with their pool."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Iterator

import pytest

from tests.harness import wait_until
from wakelog.server.ingest_threads import IngestThreads

DEADLINE = 10.0


def ingest_threads(besides: frozenset[threading.Thread] = frozenset()) -> set[threading.Thread]:
    """The live ingest threads of this process, but ``besides`` (those of apps other tests made)."""
    return {t for t in threading.enumerate() if t.name.startswith("wakelog-ingest-")} - besides


@pytest.fixture
def pool() -> Iterator[IngestThreads]:
    threads = IngestThreads(size=2)
    yield threads
    threads.stop()


def test_the_answer_and_the_error_reach_the_caller(pool: IngestThreads) -> None:
    def fail() -> None:
        raise ValueError("batch refused")

    async def main() -> None:
        total, thread = await pool.run(lambda a, b: (a + b, threading.current_thread().name), 2, 3)
        assert total == 5 and thread.startswith("wakelog-ingest-")
        with pytest.raises(ValueError, match="batch refused"):
            await pool.run(fail)

    asyncio.run(main())


def test_batches_run_side_by_side(pool: IngestThreads) -> None:
    """Two batches that each wait for the other both end: neither waits for the other's thread."""
    both = threading.Barrier(2, timeout=DEADLINE)

    async def main() -> list[int]:
        return list(await asyncio.gather(pool.run(both.wait), pool.run(both.wait)))

    assert sorted(asyncio.run(main())) == [0, 1]


def test_the_thread_idle_the_shortest_takes_the_next_batch(pool: IngestThreads) -> None:
    """Batches one after another go to one thread (its caches warm), even after a second started."""
    both = threading.Barrier(2, timeout=DEADLINE)

    def thread_name() -> str:
        return threading.current_thread().name

    async def main() -> set[str]:
        await asyncio.gather(pool.run(both.wait), pool.run(both.wait))  # two threads started
        return {await pool.run(thread_name) for _ in range(20)}

    before = frozenset(ingest_threads())
    assert len(asyncio.run(main())) == 1
    assert len(ingest_threads(before)) == 2


def test_a_batch_waits_while_every_thread_is_busy() -> None:
    pool = IngestThreads(size=1)
    release = threading.Event()
    order: list[str] = []

    def batch(name: str) -> str:
        if name == "first":
            release.wait(DEADLINE)
        order.append(name)
        return threading.current_thread().name

    async def main() -> list[str]:
        batches = [asyncio.ensure_future(pool.run(batch, name)) for name in ("first", "second", "third")]
        await asyncio.sleep(0.05)
        assert order == []  # the second and third wait for the one thread
        release.set()
        return list(await asyncio.gather(*batches))

    try:
        assert asyncio.run(main()) == ["wakelog-ingest-0"] * 3
        assert order == ["first", "second", "third"]
    finally:
        pool.stop()


def test_a_cancelled_caller_leaves_its_batch_to_end(pool: IngestThreads) -> None:
    started, release, ended = threading.Event(), threading.Event(), threading.Event()

    def batch() -> None:
        started.set()
        release.wait(DEADLINE)
        ended.set()

    async def main() -> None:
        task = asyncio.create_task(pool.run(batch))
        await asyncio.to_thread(started.wait, DEADLINE)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not ended.is_set()
        release.set()
        assert await pool.run(lambda: "next") == "next"  # the threads serve on

    asyncio.run(main())
    assert ended.wait(DEADLINE)  # its own thread finishes it (the next batch may have gone to the other)


def test_stop_ends_the_threads_after_the_work_queued_before_it() -> None:
    before = frozenset(ingest_threads())
    pool = IngestThreads(size=2)
    done: list[int] = []

    def batch(number: int) -> None:
        time.sleep(0.05)
        done.append(number)

    async def main() -> None:
        batches = [asyncio.ensure_future(pool.run(batch, number)) for number in range(4)]
        await asyncio.sleep(0)  # each has queued its batch
        await asyncio.to_thread(pool.stop)
        await asyncio.gather(*batches)

    asyncio.run(main())
    assert sorted(done) == [0, 1, 2, 3]
    assert not ingest_threads(before)
    with pytest.raises(RuntimeError, match="stopped"):
        asyncio.run(pool.run(lambda: None))


def test_the_threads_end_with_their_pool() -> None:
    """An app that was never started (no ``stop``) leaves no threads behind once it is collected."""
    before = frozenset(ingest_threads())
    pool = IngestThreads(size=2)
    both = threading.Barrier(2, timeout=DEADLINE)

    async def start_two(threads: IngestThreads) -> None:
        await asyncio.gather(threads.run(both.wait), threads.run(both.wait))

    asyncio.run(start_two(pool))
    assert len(ingest_threads(before)) == 2
    del pool
    gc.collect()
    wait_until(lambda: not ingest_threads(before), DEADLINE, what="the threads to end with their pool")


def test_a_closed_loop_does_not_stop_a_thread(pool: IngestThreads) -> None:
    """The caller's loop ends before its batch does: the answer has nowhere to go, the thread goes on."""
    release = threading.Event()

    async def leave_early() -> None:
        waiting = asyncio.ensure_future(pool.run(release.wait, DEADLINE))
        await asyncio.sleep(0)
        assert not waiting.done()  # asyncio.run cancels it, then closes the loop

    asyncio.run(leave_early())
    release.set()

    async def again() -> list[str]:
        return list(await asyncio.gather(*(pool.run(lambda: "served") for _ in range(4))))

    assert asyncio.run(again()) == ["served"] * 4
