"""The dispatcher: sends the outbox off the request path, and notices crashed runs.

One ``step()`` (run every ``delivery_poll_seconds`` by ``run()``, at once when ingest queued
something, or by a test with its own clock):

1. crashed runs: running runs whose heartbeat went stale (``server/query/runs.py``'s timeout) in
   the last day, not told about since that heartbeat, get a ``crashed`` event, and their series'
   staged rows are joined as a run's exit joins them (no later batch would; a run that comes back
   appends after them). Runs quiet for longer are joined too, untold;
2. due outbox rows are claimed (a conditional UPDATE moves ``due_at`` a lease ahead, so two
   replicas never send one row twice at once, and a dispatcher that dies gives it back) and sent
   side by side in worker threads, each bounded by ``webhook_timeout``;
3. a failed send is due again after ``delivery_backoff`` × 2^(attempts − 1) (at most an hour)
   until ``delivery_max_attempts``, then ``failed`` with the last error; done rows go after a week.

Sending happens in these threads only: a webhook that hangs or answers 500 delays its own retries,
never an ingest request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from wakelog.server.config import ServerConfig
from wakelog.server.notify.events import RunRef, crash_event
from wakelog.server.notify.fanout import Delivered, fan_out
from wakelog.server.notify.senders import SENDERS, DeliveryFailed
from wakelog.server.query.runs import crashed_before
from wakelog.store.database import Database
from wakelog.store.ingest import seal
from wakelog.store.schema import entities, outbox, projects, run_notices, runs
from wakelog.store.upsert import insert_missing

_log = logging.getLogger(__name__)
BATCH = 50
MAX_BACKOFF = 3600.0
#: Runs that went quiet longer ago than this before the crash timeout are not told about (a
#: server started on an old database does not announce every crash of its past); their staged rows
#: are joined all the same.
CRASH_LOOKBACK = 24 * 3600.0
KEEP_DONE = 7 * 24 * 3600.0
#: Running runs not noted as crashed since their last heartbeat (the crash notices' candidates).
_QUIET_RUNS = (
    sa.select(
        runs.c.id,
        runs.c.project_id,
        runs.c.created_by,
        runs.c.run_id,
        runs.c.name,
        runs.c.heartbeat_at,
        entities.c.name.label("entity"),
        projects.c.name.label("project"),
    )
    .join(projects, projects.c.id == runs.c.project_id)
    .join(entities, entities.c.id == projects.c.entity_id)
    .where(
        runs.c.state == "running",
        ~sa.exists().where(
            run_notices.c.run_pk == runs.c.id,
            run_notices.c.kind == "crashed",
            run_notices.c.created_at > runs.c.heartbeat_at,
        ),
    )
    .limit(BATCH)
)
Sender = Callable[[ServerConfig, dict[str, Any], dict[str, Any], float], None]


class Dispatcher:
    def __init__(
        self,
        db: Database,
        config: ServerConfig,
        clock: Callable[[], float] = time.time,
        senders: dict[str, Sender] | None = None,
    ) -> None:
        self.db, self.config, self.clock = db, config, clock
        self.senders = senders or SENDERS
        self._wake: asyncio.Event | None = None
        #: Where ``_join_long_quiet`` goes on from: (heartbeat, run's primary key) of the last run seen.
        self._long_quiet_after: tuple[float, int] = (-1.0, 0)

    # -- one round ---------------------------------------------------------------------------------
    def step(self) -> Delivered:
        """Notice crashes and send what is due; returns the in-app notifications made (to push live)."""
        delivered = self.notice_crashes()
        claimed = self._claim()
        if claimed:
            with ThreadPoolExecutor(max_workers=min(8, len(claimed))) as pool:
                list(pool.map(self._send, claimed))
        self._forget_done()
        return delivered

    def backoff(self, attempts: int) -> float:
        return float(min(MAX_BACKOFF, self.config.delivery_backoff * 2 ** max(0, attempts - 1)))

    def notice_crashes(self) -> Delivered:
        """Tell about the runs whose heartbeat went stale within ``CRASH_LOOKBACK``, and join their
        staged rows; join those of runs quiet for longer too, untold (``_join_long_quiet``)."""
        now = self.clock()
        cutoff = crashed_before(self.config, now)
        recent = sa.and_(runs.c.heartbeat_at < cutoff, runs.c.heartbeat_at >= cutoff - CRASH_LOOKBACK)
        with self.db.read() as conn:
            stale = conn.execute(_QUIET_RUNS.where(recent)).all()
        delivered = Delivered()
        for row in stale:
            self._note_crashed(row, now, delivered)
        self._join_long_quiet(cutoff - CRASH_LOOKBACK, now)
        return delivered

    def _join_long_quiet(self, bound: float, now: float) -> None:
        """The runs quiet since before ``bound`` that were never noted (the server was down when
        they crossed the lookback, or they are older than the database's first server), noted
        without telling anyone, and their staged rows joined: a batch a round, in heartbeat order
        from where the last round stopped. A process starts from the first (one walk over the old
        stale runs); later rounds walk only the runs that crossed ``bound`` since."""
        heartbeat, pk = self._long_quiet_after
        after = sa.and_(
            runs.c.heartbeat_at >= heartbeat,
            sa.or_(runs.c.heartbeat_at > heartbeat, runs.c.id > pk),
            runs.c.heartbeat_at < bound,
        )
        with self.db.read() as conn:
            quiet = conn.execute(_QUIET_RUNS.where(after).order_by(runs.c.heartbeat_at, runs.c.id)).all()
        for row in quiet:
            self._note_crashed(row, now, None)
        self._long_quiet_after = (quiet[-1].heartbeat_at, quiet[-1].id) if len(quiet) == BATCH else (bound, 0)

    def _note_crashed(self, row: Any, now: float, delivered: Delivered | None) -> None:
        """Note that run ``row`` crashed (unless a batch came in since it was read) and join its
        staged rows; tell its event's targets too, unless ``delivered`` is None."""
        notice = {"run_pk": row.id, "kind": "crashed", "key": f"{row.heartbeat_at:.6f}", "created_at": now}
        with self.db.write() as conn:
            if not _still_quiet(conn, row.id, row.heartbeat_at):
                return  # a batch came in since the read: the run is alive
            if not insert_missing(conn, run_notices, notice, ["run_pk", "kind", "key"]):
                return
            if delivered is not None:
                ref = RunRef(
                    row.id, row.project_id, row.created_by, row.entity, row.project, row.run_id, row.name
                )
                event = crash_event(ref, row.heartbeat_at, now)
                delivered.merge(fan_out(conn, event, now, self.config.public_url))
            seal(conn, row.id)

    def _claim(self) -> list[Any]:
        now = self.clock()
        lease = now + 2 * self.config.webhook_timeout + 60
        with self.db.read() as conn:
            due = conn.execute(
                sa.select(outbox.c.id, outbox.c.due_at)
                .where(outbox.c.state == "pending", outbox.c.due_at <= now)
                .order_by(outbox.c.due_at)
                .limit(BATCH)
            ).all()
        claimed = []
        for row in due:
            with self.db.write() as conn:
                taken = conn.execute(
                    outbox.update()
                    .where(outbox.c.id == row.id, outbox.c.state == "pending", outbox.c.due_at == row.due_at)
                    .values(due_at=lease, attempts=outbox.c.attempts + 1)
                )
                if taken.rowcount == 1:
                    claimed.append(conn.execute(sa.select(outbox).where(outbox.c.id == row.id)).one())
        return claimed

    def _send(self, row: Any) -> None:
        try:
            self.senders[row.channel](self.config, row.target, row.message, self.clock())
        except DeliveryFailed as exc:
            self._failed(row, str(exc))
        except Exception as exc:  # a bug in a sender must not stop the others, nor retry forever
            _log.exception("sending outbox row %s failed", row.id)
            self._failed(row, f"{type(exc).__name__}: {exc}"[:1000])
        else:
            with self.db.write() as conn:
                conn.execute(
                    outbox.update()
                    .where(outbox.c.id == row.id)
                    .values(state="sent", sent_at=self.clock(), last_error=None)
                )

    def _failed(self, row: Any, reason: str) -> None:
        now = self.clock()
        done = row.attempts >= self.config.delivery_max_attempts
        values: dict[str, Any] = {"last_error": reason}
        if done:
            values["state"] = "failed"
        else:
            values["due_at"] = now + self.backoff(row.attempts)
        with self.db.write() as conn:
            conn.execute(outbox.update().where(outbox.c.id == row.id).values(**values))

    def _forget_done(self) -> None:
        old = self.clock() - KEEP_DONE
        with self.db.write() as conn:
            conn.execute(outbox.delete().where(outbox.c.state != "pending", outbox.c.due_at < old))

    # -- in the background -------------------------------------------------------------------------
    def wake(self) -> None:
        """Look for due sends now (called on the event loop, after ingest queued some)."""
        if self._wake is not None:
            self._wake.set()

    async def run(self, tell: Callable[[Delivered], None]) -> None:
        """Step every ``delivery_poll_seconds`` or when woken; ``tell`` pushes in-app notifications."""
        from starlette.concurrency import run_in_threadpool

        self._wake = asyncio.Event()
        while True:
            self._wake.clear()
            try:
                tell(await run_in_threadpool(self.step))
            except Exception:  # a failed round is logged and tried again next time
                _log.exception("delivering notifications failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.delivery_poll_seconds)


def _still_quiet(conn: sa.Connection, run_pk: int, heartbeat_at: float) -> bool:
    """Whether run ``run_pk`` is still running with the stale heartbeat read before, its row locked
    (on PostgreSQL) for the rest of the transaction, as an ingest batch locks it: no batch of the
    run is applied while its staged rows are joined."""
    query = (
        sa.select(runs.c.id)
        .where(runs.c.id == run_pk, runs.c.state == "running", runs.c.heartbeat_at == heartbeat_at)
        .with_for_update()
    )
    return conn.execute(query).first() is not None
