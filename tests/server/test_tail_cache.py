"""The tails a process keeps of the runs it wrote (``store/ingest/_tail_cache.py``): used only while
the run's row is as its last batch left it, and bounded in series, not runs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from wakelog.store.ingest._series import Tail
from wakelog.store.ingest._tail_cache import TailCache, pending


def run(pk: int, last_seq: int = 9, updated_at: float = 100.0) -> Any:
    return SimpleNamespace(id=pk, created_at=1.0, project_id=1, last_seq=last_seq, updated_at=updated_at)


def tails(count: int) -> dict[Any, Tail]:
    return {(0, f"k{i}"): Tail(i, 10 * i, 3) for i in range(count)}


def written(cache: TailCache, pk: int, count: int) -> dict[Any, Tail]:
    """Note a batch of run ``pk`` that left ``count`` series' tails (its row at seq 9, time 100)."""
    left = tails(count)
    cache.remember(pending(run(pk), {"last_seq": 9, "updated_at": 100.0}, left))
    return left


def test_tails_hold_only_while_the_run_row_is_as_the_batch_left_it() -> None:
    cache = TailCache()
    left = written(cache, 1, 3)
    assert cache.known(run(1)) == left
    assert cache.known(run(1, last_seq=10)) == {}, "another process's batch"
    assert cache.known(run(1, updated_at=101.0)) == {}, "a rewind, or a seal"
    assert cache.known(run(2)) == {}, "another run"
    cache.remember(None)  # a batch that noted nothing (sealed, a fork's first)
    assert cache.known(run(1)) == left


def test_the_least_recently_written_runs_are_forgotten_past_the_series_kept() -> None:
    cache = TailCache(kept=100)
    written(cache, 1, 40)
    written(cache, 2, 40)
    written(cache, 1, 40)  # run 1 again: now the most recent, counted once
    written(cache, 3, 40)  # 120 series: run 2 goes
    assert [bool(cache.known(run(pk))) for pk in (1, 2, 3)] == [True, False, True]
    written(cache, 4, 150)  # more than is kept: not kept, nor anything forgotten for it
    assert [bool(cache.known(run(pk))) for pk in (1, 3, 4)] == [True, True, False]
    written(cache, 1, 150)  # run 1 grew past it: its old tails go too
    assert [bool(cache.known(run(pk))) for pk in (1, 3)] == [False, True]
