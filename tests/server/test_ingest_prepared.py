"""A batch is prepared before its write transaction (``store/ingest/_apply.Prepared``): gathered,
its staged appends encoded and its summaries' statistics worked out while no write lock is held
(SQLite has one, which the server's ``--workers`` queue on). What it writes is the same: a resent
batch, part of it applied before, is prepared again from its new records alone."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.server.test_rewind_store import Log, stored
from wakelog.store import series as codec
from wakelog.store.database import Database
from wakelog.store.ingest import _apply, apply_batch, validate
from wakelog.store.schema import runs, summaries


@contextlib.contextmanager
def calls_in_transaction(
    db: Database, monkeypatch: pytest.MonkeyPatch, targets: list[tuple[Any, str]]
) -> Iterator[dict[str, list[bool]]]:
    """For each of ``targets`` ((module, name) pairs): whether each call of it came inside one of
    ``db``'s write transactions."""
    inside = [False]
    calls: dict[str, list[bool]] = {name: [] for _, name in targets}
    write = db.write

    @contextlib.contextmanager
    def noted_write() -> Iterator[sa.Connection]:
        with write() as conn:
            inside[0] = True
            try:
                yield conn
            finally:
                inside[0] = False

    def noting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def noted(*args: Any, **kwargs: Any) -> Any:
            calls[name].append(inside[0])
            return function(*args, **kwargs)

        return noted

    monkeypatch.setattr(db, "write", noted_write)
    for module, name in targets:
        monkeypatch.setattr(module, name, noting(name, getattr(module, name)))
    yield calls


PREPARATION = [
    (_apply, "gather"),
    (_apply, "batch_statistics"),
    (codec, "encode_many"),
    (codec, "sketch_many"),
]


def test_a_live_batch_is_gathered_encoded_and_summed_up_before_its_transaction(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = Log(db)
    log.send(("run", {}))
    log.rows(range(10))  # the open chunk
    with calls_in_transaction(db, monkeypatch, PREPARATION) as calls:
        log.rows(range(10, 20))  # a live run's next second: staged after it
    assert calls == {name: [False] for _, name in PREPARATION}, "each once, none in the transaction"
    assert stored(db, "loss") == [(s, 100.0 - s) for s in range(20)]


def test_a_joining_batch_encodes_what_it_joins_in_its_transaction(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch after ``STRIDE - 1`` staged rows joins them with the open chunk: what it stores is
    read in the transaction, so it is encoded there (its own points were encoded ahead for nothing)."""
    log = Log(db)
    log.send(("run", {}))
    for first in range(0, 3 * codec.STRIDE, 3):
        log.rows(range(first, first + 3))
    with calls_in_transaction(db, monkeypatch, PREPARATION) as calls:
        log.rows(range(3 * codec.STRIDE, 3 * codec.STRIDE + 3))
    assert calls["gather"] == calls["batch_statistics"] == [False]
    assert calls["encode_many"] == [False, True]
    assert stored(db, "loss") == [(s, 100.0 - s) for s in range(3 * codec.STRIDE + 3)]


def summary(db: Database, key: str) -> tuple[Any, ...]:
    c = summaries.c
    with db.read() as conn:
        return tuple(
            conn.execute(sa.select(c.count, c.first, c.last, c.min, c.max, c.total).where(c.key == key)).one()
        )


def test_a_batch_resent_with_records_applied_before_is_prepared_from_its_new_records(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An uploader that lost an answer sends its batch again with more after it: only the records
    past the ack count (the summaries' count and total too), and they are prepared in the
    transaction, from the run's ack read there."""

    def rows(steps: range) -> list[list[Any]]:
        return [[s, "history", float(s), {"_step": s, "loss": float(s)}] for s in steps]

    apply_batch(db, "team", "proj", "r", validate(rows(range(10))))
    with calls_in_transaction(db, monkeypatch, PREPARATION) as calls:
        ack = apply_batch(db, "team", "proj", "r", validate(rows(range(5, 20)))).ack
    assert ack == 19
    assert calls["gather"] == calls["batch_statistics"] == [False, True]  # ahead, then for the new ones
    assert summary(db, "loss") == (20, 0.0, 19.0, 0.0, 19.0, float(sum(range(20))))
    assert stored(db, "loss") == [(s, float(s)) for s in range(20)]
    with db.read() as conn:
        assert conn.execute(sa.select(runs.c.last_seq)).scalar_one() == 19
