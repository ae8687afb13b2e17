"""The uploader: tails a run log and sends it to the server, outliving the training process.

One uploader runs per online run, as its own process (``python -m wakelog.transport.uploader``),
so a ``kill -9`` of the training loses nothing that reached the run log. It sends records in
sequence order, in batches, and advances only on the server's ack; any error is retried with
jittered exponential backoff (network trouble, a server that is down or restarting, or one that
appears mid-run). Records the log lost to damage are declared to the server as a gap (a ``lost``
record), so the intact ones after them still arrive. When the training's disk was full, the run
log ends early and the rest is in its spill log (``RunWriter``): the uploader goes on from there, so
the run still arrives whole, with its exit record, and without the user's help. Saved files and
media are uploaded by content hash, resumably; a file whose name the server refuses is skipped with
a warning. Artifact records are acted on after the records around them are sent
(``_artifact_upload.py``): blobs through the run's blob routes, then the version. A live run's
records are coalesced: the first batch after a quiet spell goes at once, then at most one batch
per ``SEND_INTERVAL`` while the training keeps logging (each small request costs the server more
than its points do), or per the longer interval a busy server asks for in its answers
(``server/pacing.py``), unless a full batch is waiting or the run's exit record is among them
(``finish()`` waits on it). It stops when the run's exit record and files are on the server, or —
once the training process is gone — when the whole log is sent or ``linger`` seconds have passed;
``wakelog sync`` finishes whatever is left.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from wakelog._backoff import Backoff
from wakelog._limits import MAX_BATCH_BYTES, MAX_BATCH_RECORDS, UPLOAD_BATCH_BYTES
from wakelog._names import check_file_name
from wakelog._warn import warn
from wakelog.errors import Error
from wakelog.runlog import RecordType, RunLogError, find_runlog, iter_records, read_runlog
from wakelog.runlog._format import FRAME_SIZE, HEADER_SIZE
from wakelog.runlog.reader import ReadResult, Record
from wakelog.runlog.syncstate import SyncState, upload_lock
from wakelog.sdk._writer import spill_dir_for
from wakelog.transport._artifact_upload import ArtifactActions
from wakelog.transport.client import RejectedError, RetryableError, SequenceGap, ServerClient

POLL_SECONDS = 0.2
#: While a live run logs, its records go at most this often (the first after a quiet spell: at
#: once); a new point reaches the server within about this plus ``POLL_SECONDS``.
SEND_INTERVAL = 1.0
FILE_SCAN_SECONDS = 5.0
MAX_BACKOFF = 30.0
#: A gap the server reports again right after a rescan is retried with backoff this many times,
#: then counts as a failure (the log lacks records the server expects, with no damage to declare).
GAP_RETRIES = 5
#: An idle but alive run still tells the server so every this many seconds (else: "crashed").
HEARTBEAT_SECONDS = 30.0
#: Files from this size on report their upload progress chunk by chunk.
LARGE_FILE = 16 * 1024 * 1024
#: Why sequence numbers missing from a spill log are declared lost.
SPILL_SKIPPED = "the training's disk was full: written neither to the run log nor to its spill log"


def batch(records: list[Record], end: int) -> list[Record]:
    """The first of ``records`` (consecutive in the log, the last ending at ``end``) that make one
    batch within the server's caps: its MessagePack body is the records' payloads and an array
    header. Always at least one record (the run log writer keeps each one small enough)."""
    size = 5  # the largest MessagePack array header
    for index, record in enumerate(records[:MAX_BATCH_RECORDS]):
        following = records[index + 1].offset if index + 1 < len(records) else end
        size += following - record.offset - FRAME_SIZE
        if size > MAX_BATCH_BYTES and index:
            return records[:index]
    return records[:MAX_BATCH_RECORDS]


def spill_log(run_dir: Path, log_path: Path) -> Path | None:
    """Where the training spilled the records its run folder's disk could not take: the spill log in
    the fallback folder (``RunWriter``), found the way the writer chose it; None for a run folder
    that is itself in the fallback folder."""
    spill_dir = spill_dir_for(run_dir)
    return None if spill_dir is None else spill_dir / log_path.name


class UploadStopped(Error):
    """The server refused the run for good (bad key, invalid data); the reason is in sync.json."""


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def paced(own: float, asked: float | None, rng: random.Random) -> float:
    """The seconds before a live run's next batch: the uploader's ``own`` interval, or the longer one
    the server ``asked`` for (0, no coalescing, stays 0). An asked interval is shortened by up to a
    fifth at random: runs that heard it in the same second would otherwise keep sending in the same
    second, in bursts a busy server queues."""
    if not own or asked is None or asked <= own:
        return own
    return max(own, asked * rng.uniform(0.8, 1.0))


class Uploader:
    """Sends one run folder to one server. ``run()`` returns when there is nothing left to do."""

    def __init__(
        self,
        run_dir: Path,
        client: ServerClient,
        project: str,
        run_id: str,
        *,
        entity: str | None = None,
        parent_pid: int | None = None,
        linger: float = 600.0,
        progress: Callable[[SyncState], None] | None = None,
        send_interval: float = SEND_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.run_dir = run_dir
        self.client = client
        self.log_path = find_runlog(run_dir)
        #: Where the records went that the training's full disk could not take (None: nowhere).
        self.spill_path = spill_log(run_dir, self.log_path)
        self._spill_file: tuple[int, int] | None = None  # (inode, device) of the spill log read
        self._spill_offset = HEADER_SIZE
        self._spill_sent = False  # some of the spill log's records were acked
        self.parent_pid = parent_pid
        self.linger = linger
        self.progress = progress
        self.entity, self.project, self.run_id = entity, project, run_id
        self.state = SyncState.load(run_dir)
        self.state.pid = os.getpid()
        self.state.error = None
        self.state.refused = False
        self._exit_seen = False
        self._backoff = Backoff(0.5, MAX_BACKOFF)
        self._gap_ack: int | None = None  # the ack of the last gap answer, while it repeats
        self._gap_repeats = 0
        self._batch_records = MAX_BATCH_RECORDS  # halved whenever the server says a batch is too large
        self._next_file_scan = 0.0
        # Injectable so tests drive the loop in simulated time (backoff, heartbeats, linger).
        self._clock, self._pause = clock, sleep
        self._last_contact = clock()
        self.send_interval = send_interval  # 0: every batch at once (benchmarks compare)
        self._last_batch = float("-inf")  # when records were last sent (coalescing, ``_hold``)
        self._wait = send_interval  # how long after it the next live batch goes (``paced``)
        self._random = random.Random()
        self._synced = False  # learned the server's ack since this uploader started
        self._parent_gone_at: float | None = None
        self._artifacts = ArtifactActions(run_dir, client, lambda: self.state)
        # Once the log is complete, the next piece is read while a batch is on its way (``_read``).
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wakelog-read-ahead")
        self._ahead: tuple[int, Future[ReadResult]] | None = None

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> SyncState:
        try:
            return self._loop()
        finally:
            self._reader.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> SyncState:
        while True:
            live = _alive(self.parent_pid)
            if not live and self._parent_gone_at is None:
                self._parent_gone_at = self._clock()
            try:
                sent = self.step(live=live)
            except (RetryableError, OSError) as exc:
                if self._failed(exc, parent_alive=live):
                    return self.state
                continue
            except SequenceGap as gap:
                self._reset_to(gap.ack)
                if self._gap_repeated(gap) and self._failed(gap, parent_alive=live):
                    return self.state
                continue
            except RejectedError as exc:
                self.state.error = self._refusal(exc)
                self.state.refused = True
                self._save()
                raise UploadStopped(self.state.error) from exc
            self.state.error = None
            done = self._exit_seen or not live
            if done and not sent and not self.state.artifact_queue and self._log_fully_acked():
                self.state.complete = True
                self._save()
                self._artifacts.clean()
                return self.state
            if not sent:
                self._pause(POLL_SECONDS)

    def step(self, *, live: bool) -> int:
        """One pass: send what the log holds past the ack (or a heartbeat), then new files; returns
        how many records the server acknowledged. ``live``: the training process still runs."""
        if not self._synced:
            # Start from what the server already has: it survives our restarts, and its own.
            self._resolve_run_path()
            ack = self.client.ack(self.state.run_path)
            if ack != self.state.acked_seq:
                self._reset_to(ack)
            self._synced = True
        sent = self._send_available(final=not live)
        if sent:
            self._last_contact = self._clock()
            self._gap_ack, self._gap_repeats = None, 0
        elif live and self._clock() - self._last_contact > HEARTBEAT_SECONDS:
            self.client.send_records(self.state.run_path, [])  # an empty batch: a heartbeat
            self._last_contact = self._clock()
        if self._clock() >= self._next_file_scan or self._exit_seen or not live:
            self._upload_files()
            self._next_file_scan = self._clock() + FILE_SCAN_SECONDS
        self._artifacts.process(self._save)
        if self.client.stop_requested and not self.state.stop_requested:
            self.state.stop_requested = True  # the training reads it (sdk/_stop_watch.py)
            self._save()
        self._backoff.reset()
        return sent

    def _failed(self, exc: Exception, *, parent_alive: bool) -> bool:
        """Note a failed pass and back off; True (give up for now) once the training is gone and
        ``linger`` has passed since."""
        self.state.error = str(exc)
        self._save()
        gone_at = self._parent_gone_at
        if gone_at is not None and self._clock() - gone_at > self.linger:
            return True
        wait = self._backoff.next()
        if isinstance(exc, RetryableError) and exc.retry_after is not None:
            wait = max(wait, exc.retry_after)  # the server said how long it needs (429, 503)
        self._sleep(wait, parent_alive=parent_alive)
        return False

    def _gap_repeated(self, gap: SequenceGap) -> bool:
        """True when the server asks again for what a rescan just could not give it: the first
        answer only means our position was stale (a server restored from a backup, say)."""
        if gap.ack != self._gap_ack:
            self._gap_ack, self._gap_repeats = gap.ack, 0
            return False
        self._gap_repeats += 1
        return self._gap_repeats >= GAP_RETRIES

    def _refusal(self, exc: RejectedError) -> str:
        """What to tell the user when the server refuses the run; for a missing permission (403)
        the server says who can help, and this how to upload the run elsewhere instead."""
        if exc.status != 403:
            return (
                f"{exc}; the run stays in {self.run_dir}: upload it with `wakelog sync {self.run_dir}` "
                "once that is fixed"
            )
        return (
            f"the server refused it: {exc.detail}; or upload the run to an entity of yours later "
            f"with `wakelog sync --entity <yours> {self.run_dir}`"
        )

    def _sleep(self, seconds: float, *, parent_alive: bool) -> None:
        """Back off, but wake up at once when the training process ends (linger starts then)."""
        deadline = self._clock() + seconds
        while self._clock() < deadline:
            self._pause(min(POLL_SECONDS, deadline - self._clock()))
            if parent_alive and not _alive(self.parent_pid):
                return

    def _resolve_run_path(self) -> None:
        """entity/project/run_id; without an entity, the key's user is the entity (like wandb)."""
        entity = self.entity or self.client.whoami() or "default"
        run_path = f"{entity}/{self.project}/{self.run_id}"
        if self.state.run_path != run_path or self.state.base_url != self.client.base_url:
            pid = self.state.pid
            self.state = SyncState(base_url=self.client.base_url, run_path=run_path, pid=pid)
            self._save()  # the training reads its entity here (``Run.entity``) before any ack

    def _reset_to(self, ack: int) -> None:
        self.state.acked_seq = ack
        self.state.log_offset = 0  # rescan: find where seq ack + 1 starts
        self._spill_offset = HEADER_SIZE

    def _send_available(self, *, final: bool) -> int:
        """Send what the log holds past the ack; once the run log has nothing more, what its spill
        log holds. Returns how many records were acked."""
        offset = self.state.log_offset or HEADER_SIZE
        while True:
            result = self._read(offset, final=final)
            size = self.log_path.stat().st_size
            outcome = self._send(result, offset, hold=not final, read_ahead=final)
            if outcome is not None:
                sent, self.state.log_offset = outcome
                if sent:
                    self._save()
                return sent
            self.state.log_offset = offset = max(result.next_offset, offset)
            if not result.records or offset >= size:
                break  # else every record read was acked already (a rescan): read on at once
        if result.next_offset < size or self.spill_path is None:
            return 0  # the run log has more to come (an incomplete record): it goes first
        return self._send_spilled(self.spill_path, final=final, log_size=size)

    @property
    def _page(self) -> int:
        """How many records a read takes: the acked one it starts at, a batch, and one more (it
        tells that more than a batch is waiting, so a full batch is not held back): no record is
        parsed twice."""
        return self._batch_records + 2

    def _read(self, offset: int, *, final: bool) -> ReadResult:
        """The run log's next piece from ``offset``: the one read ahead if it starts there."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == offset and final:
            return ahead[1].result()
        return read_runlog(
            self.log_path, offset, final=final, max_bytes=UPLOAD_BATCH_BYTES, max_records=self._page
        )

    def _read_ahead(self, offset: int) -> None:
        """Start reading the complete log's next piece from ``offset`` (where the next pass reads
        when the batch now sent is acked whole), so reading and sending overlap (``wakelog sync``)."""
        self._ahead = (
            offset,
            self._reader.submit(
                read_runlog, self.log_path, offset, max_bytes=UPLOAD_BATCH_BYTES, max_records=self._page
            ),
        )

    def _send_spilled(self, path: Path, *, final: bool, log_size: int) -> int:
        """Send what the spill log holds past the ack (records the training's full disk could not
        take, ``RunLogWriter``). Its records follow the run log's, so a sequence number missing
        between them is lost for good (it fit nowhere) and is declared so; unless the run log grew
        meanwhile (the writer copied records back into it): then it goes first again."""
        try:
            info = path.stat()
            if (info.st_ino, info.st_dev) != self._spill_file or info.st_size < self._spill_offset:
                self._spill_file, self._spill_offset = (info.st_ino, info.st_dev), HEADER_SIZE  # a new one
            result = read_runlog(path, self._spill_offset, final=final, max_bytes=UPLOAD_BATCH_BYTES)
        except (FileNotFoundError, RunLogError):
            return 0  # none, or one being created, or removed once copied back into the run log
        if self.log_path.stat().st_size != log_size:
            return 0
        outcome = self._send(result, self._spill_offset, skipped=SPILL_SKIPPED, hold=not final)
        if outcome is None:
            self._spill_offset = max(result.next_offset, self._spill_offset)
            return 0
        sent, self._spill_offset = outcome
        if sent:
            self._spill_sent = True
            self._save()
        return sent

    def _send(
        self,
        result: ReadResult,
        offset: int,
        *,
        skipped: str | None = None,
        hold: bool = False,
        read_ahead: bool = False,
    ) -> tuple[int, int] | None:
        """Send the next batch of ``result`` (read from ``offset``) past the ack; returns how many
        records were acked and where the next read starts, or None when it has none past the ack.
        ``skipped``: declare sequence numbers the log skips lost, for this reason. ``hold``: the
        training still logs, so a small batch may wait to be coalesced (``_hold``). ``read_ahead``:
        the run log is complete, so its next piece may be read while this batch is sent."""
        pending = [r for r in result.records if r.seq > self.state.acked_seq]
        if not pending:
            return None
        records = batch(pending, result.next_offset)[: self._batch_records]
        if hold and self._hold(records, pending, result.next_offset):
            return 0, offset  # read again next pass, with what the training adds meanwhile
        if self._artifacts.note(records):
            self._save()  # queued before sent: acked records are never read again
        if read_ahead:
            self._read_ahead(records[-1].offset)
        try:
            # Declared gaps add records: what goes past the cap is sent next time (not acked now).
            payload = self._with_declared_gaps(records, result, offset, skipped)[:MAX_BATCH_RECORDS]
            ack = self.client.send_records(self.state.run_path, payload)
        except RejectedError as exc:
            if exc.status != 413 or len(records) == 1:
                raise
            self._batch_records = len(records) // 2  # over a server limit (keys, size): send less at a time
            return 0, offset
        self._last_batch = self._clock()
        self._wait = paced(self.send_interval, self.client.send_interval, self._random)
        sent = [r for r in records if r.seq <= ack]
        if any(r.type == RecordType.EXIT for r in sent):
            self._exit_seen = True
            self.state.last_seq = sent[-1].seq
        self.state.acked_seq = ack
        # The next read starts at the last acked record (read again, skipped): damage right after
        # it is then in that read, to be declared.
        acked = [r for r in result.records if r.seq <= ack]
        return len(sent), acked[-1].offset if acked else offset

    def _hold(self, records: list[Record], pending: list[Record], end: int) -> bool:
        """Whether a live run's batch waits to be coalesced with the next records: yes within
        ``_wait`` of the last batch, unless more than a batch is waiting, half a read's worth
        is, or the run's exit record is there (``finish()`` waits for it)."""
        if self._clock() - self._last_batch >= self._wait:
            return False  # the first batch after a quiet spell, or the next one while busy
        if len(records) < len(pending) or end - pending[0].offset >= UPLOAD_BATCH_BYTES // 2:
            return False
        return not any(r.type == RecordType.EXIT for r in records)

    def _with_declared_gaps(
        self, records: list[Record], result: ReadResult, start: int, skipped: str | None
    ) -> list[list[Any]]:
        """The records to send, with a declared gap (``lost``) where the log lost records to
        damage: wherever the next intact record skips sequence numbers and the reader reported
        damage just before it. (A skip without damage is not declared, unless ``skipped`` says why
        it is lost: the server's answer says what it misses.)"""
        previous = start  # where the last record at or below the ack starts (else: the read)
        for record in result.records:
            if record.seq <= self.state.acked_seq:
                previous = record.offset
        batch: list[list[Any]] = []
        expected = self.state.acked_seq + 1
        for record in records:
            damage = (
                [d for d in result.damage if previous <= d.offset < record.offset] if result.damage else []
            )
            if record.seq > expected and (damage or skipped):
                reason = "; ".join(map(str, damage)) or str(skipped)
                batch.append(
                    [expected, RecordType.LOST, record.time, {"last": record.seq - 1, "reason": reason}]
                )
            batch.append([record.seq, record.type, record.time, record.data])
            expected, previous = record.seq + 1, record.offset
        return batch

    def _log_fully_acked(self) -> bool:
        """Whether nothing past the ack is left in the run log or its spill log (read streaming,
        stopping at the first such record)."""
        acked = self.state.acked_seq
        if any(r.seq > acked for r in iter_records(self.log_path, self.state.log_offset or HEADER_SIZE)):
            return False
        if self.spill_path is None:
            return True
        try:
            return not any(r.seq > acked for r in iter_records(self.spill_path, self._spill_offset))
        except (FileNotFoundError, RunLogError):
            return True

    def _upload_files(self) -> None:
        """Upload saved files and media that are new or changed since their last upload."""
        files_dir = self.run_dir / "files"
        if not files_dir.is_dir():
            return
        attach, uploaded, skipped = [], {}, False
        for path in sorted(files_dir.rglob("*")):
            if not path.is_file() or (path.is_symlink() and not self._exit_seen):
                continue  # a live link is uploaded once finish() turned it into a copy
            name = path.relative_to(files_dir).as_posix()
            info = path.stat()
            known = self.state.files.get(name)
            if known and known[0] == info.st_size and known[1] == info.st_mtime:
                continue
            try:
                check_file_name(name)
            except ValueError as exc:
                self._skip_file(name, str(exc))
                self.state.files[name] = [info.st_size, info.st_mtime, None]  # not again until it changes
                skipped = True
                continue
            progress = self._file_progress(name, info.st_size)
            sha256, size = self.client.upload_file(self.state.run_path, path, progress=progress)
            self.state.uploading = None
            attach.append({"name": name, "sha256": sha256, "size": size})
            uploaded[name] = [info.st_size, info.st_mtime, sha256]
        if attach:
            self._attach(attach)
        if attach or skipped:
            self.state.files.update(uploaded)  # only once attached: a failed attach is retried
            self._save()

    def _attach(self, files: list[dict[str, Any]]) -> None:
        """Point the run's file names at their uploaded content; names the server refuses are
        skipped. Content that went between its upload and the attach (the server's expiry took it
        as unattached: 409 ``blob_missing``) is uploaded again on the next pass, not a refusal."""
        try:
            refused_files = self.client.attach_files(self.state.run_path, files)
        except RejectedError as exc:
            if exc.code != "blob_missing":
                raise
            raise RetryableError(f"{exc}; uploading it again") from exc
        for refused in refused_files:
            self._skip_file(str(refused.get("name")), str(refused.get("detail", "refused")))

    def _skip_file(self, name: str, reason: str) -> None:
        """A file the server does not take (its name): one warning; it is not tried again until it
        changes (``state.files`` has it), and the rest of the run goes on."""
        warn(f"wakelog: {self.run_dir}: not uploading file {name!r}: {reason}")

    def _file_progress(self, name: str, size: int) -> Callable[[int], None] | None:
        """For a large file, report its bytes as they go (finish() and `wakelog sync` show them)."""
        if size < LARGE_FILE:
            return None
        self.state.uploading = [name, 0, size]

        def advance(sent: int) -> None:
            assert self.state.uploading is not None
            self.state.uploading[1] += sent
            self._save()

        return advance

    def _save(self) -> None:
        self.state.save(self.run_dir)
        if self._exit_seen and self._spill_sent and self.spill_path is not None:
            # The run ended in its spill log, so the run folder's disk is full and may not take
            # sync.json: the spill folder gets it too (finish() looks there), once the writer is done.
            self.state.save(self.spill_path.parent)
        if self.progress:
            self.progress(self.state)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wakelog.transport.uploader")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--entity")
    parser.add_argument("--project", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--parent", type=int, help="the training process to outlive")
    parser.add_argument("--linger", type=float, default=600.0)
    args = parser.parse_args(argv)
    key = os.environ.get("WAKELOG_API_KEY", "")
    client = ServerClient(args.base_url, key)
    with upload_lock(args.run_dir) as mine:
        if not mine:
            print("wakelog uploader: another uploader holds this run; exiting", file=sys.stderr)
            return 0
        try:
            Uploader(
                args.run_dir,
                client,
                args.project,
                args.run_id,
                entity=args.entity,
                parent_pid=args.parent,
                linger=args.linger,
            ).run()
        except UploadStopped as exc:
            print(f"wakelog uploader: stopped: {exc}", file=sys.stderr)
            return 1
        finally:
            client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
