"""A live run's uploader coalesces its records: few requests, points still on the server within 2 s.

The training is simulated: it appends rows to a real run log as the uploader's ``FakeClock`` moves
(``Training``), and the uploader sends them to the real app in the same simulated time, so request
counts and delays are exact, with no wall time spent and none asserted.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from tests.harness import FakeClock, InProcessServer, upload
from wakelog.runlog import RecordType, RunLogWriter
from wakelog.server.pacing import Pacing
from wakelog.transport.client import ServerClient
from wakelog.transport.uploader import POLL_SECONDS, SEND_INTERVAL

KEYS = ("loss", "acc", "lr", "grad_norm", "tokens")


class Training:
    """A run that logs ``rate`` rows of ``KEYS`` per simulated second from ``start`` for ``seconds``,
    then ends (its exit record); ``pauses``: (from, to) spans of the clock with nothing logged."""

    def __init__(
        self, run_dir: Path, clock: FakeClock, *, rate: float, seconds: float, pauses: tuple = ()
    ) -> None:
        run_dir.mkdir(parents=True)
        self.writer = RunLogWriter(run_dir / f"run-{run_dir.name.rsplit('-', 1)[1]}.wakelog")
        self.clock, self.rate, self.pauses = clock, rate, pauses
        self.start, self.end = clock(), clock() + seconds
        self.written: dict[int, float] = {}  # seq → the simulated time its row was due
        self.ended_at: float | None = None
        self.step = 0
        self.writer.append(RecordType.RUN, {"id": run_dir.name.rsplit("-", 1)[1], "project": "live"}, 0.0)
        self.writer.flush()
        clock.on_sleep = self.advance

    def advance(self, _: float) -> None:
        """Append every row due by now, then the exit record once the run is over."""
        while (due := self.start + self.step / self.rate) <= min(self.clock(), self.end):
            if not any(a <= due < b for a, b in self.pauses):
                row = {key: float(self.step) for key in KEYS}
                seq = self.writer.append(RecordType.HISTORY, {**row, "_step": self.step}, due)
                self.written[seq] = due
            self.step += 1
        if self.clock() >= self.end and self.ended_at is None:
            self.ended_at = self.clock()
            self.written[self.writer.append(RecordType.EXIT, {"exit_code": 0}, self.end)] = self.end
            self.writer.close()
        elif self.ended_at is None:
            self.writer.flush()


class Recorder(httpx.BaseTransport):
    """The app's transport, noting when (simulated) each ingest batch left and which seqs it held."""

    def __init__(self, server: InProcessServer, clock: FakeClock) -> None:
        self.server, self.clock = server, clock
        self.batches: list[tuple[float, list[int]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/records"):
            records = msgspec.msgpack.decode(gzip.decompress(request.read()))
            if records:
                self.batches.append((self.clock(), [r[0] for r in records]))
        return self.server.transport().handle_request(request)

    def sent_at(self) -> dict[int, float]:
        return {seq: when for when, seqs in self.batches for seq in seqs}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path / "server") as app:
        yield app


def live_upload(
    server: InProcessServer, tmp_path: Path, clock: FakeClock | None = None, **training: float | tuple
) -> tuple[Training, Recorder]:
    """Upload a simulated ``Training`` live; every record reaches the server exactly once."""
    clock = clock or FakeClock()
    run = Training(tmp_path / "run-20261204_000000-live1", clock, **training)  # type: ignore[arg-type]
    recorder = Recorder(server, clock)
    state = upload(server, run.writer.path.parent, parent_pid=os.getpid(), clock=clock, transport=recorder)
    assert state.complete and state.error is None
    assert sorted(recorder.sent_at()) == list(range(run.writer.next_seq)), "every record sent once"
    return run, recorder


def test_a_busy_live_run_sends_at_most_one_batch_a_second_and_each_point_within_two(
    server: InProcessServer, tmp_path: Path
) -> None:
    run, recorder = live_upload(server, tmp_path, rate=10, seconds=60)  # 10 steps/s × 5 keys
    times = [when for when, _ in recorder.batches]
    assert len(times) <= 60 + 2  # the first row, one a second, the exit record
    gaps = [b - a for a, b in itertools.pairwise(times[:-1])]  # the exit record goes at once (below)
    assert min(gaps) >= SEND_INTERVAL
    sent = recorder.sent_at()
    assert max(sent[seq] - due for seq, due in run.written.items()) <= 2.0


def test_the_first_batch_after_a_quiet_spell_goes_at_once(server: InProcessServer, tmp_path: Path) -> None:
    run, recorder = live_upload(server, tmp_path, rate=10, seconds=30, pauses=((1005.0, 1020.0),))
    sent = recorder.sent_at()
    resumed = min(seq for seq, due in run.written.items() if due >= 1020.0)
    assert sent[resumed] - run.written[resumed] <= POLL_SECONDS + 1e-9


def test_the_exit_record_is_sent_at_once_so_finish_need_not_wait(
    server: InProcessServer, tmp_path: Path
) -> None:
    run, recorder = live_upload(server, tmp_path, rate=10, seconds=20.05)
    assert run.ended_at is not None
    exit_seq = run.writer.next_seq - 1
    previous = recorder.batches[-2][0]
    assert run.ended_at - previous < SEND_INTERVAL, "the exit record came while the last batch was fresh"
    assert recorder.sent_at()[exit_seq] == run.ended_at


def test_a_busy_server_gets_fewer_larger_batches_each_point_within_its_bound(
    server: InProcessServer, tmp_path: Path
) -> None:
    """The server's process at a full core the whole time: it asks for longer intervals, up to its
    bound of 3 s within some ten seconds (a quarter more each 2 s window), and the uploader sends as
    asked, each batch 80-100 % of the interval after the one before."""
    clock = FakeClock()
    server.app.state.pacing = Pacing(3.0, clock=clock, process_cpu=clock, machine_cpu=lambda: 0.0, cores=2)
    run, recorder = live_upload(server, tmp_path, clock, rate=10, seconds=60)
    times = [when for when, _ in recorder.batches[:-1]]  # the exit record goes at once
    settled = [b - a for a, b in itertools.pairwise(times) if a >= clock.now - 40]
    assert settled and min(settled) >= 0.8 * 3.0 - POLL_SECONDS and max(settled) <= 3.0 + POLL_SECONDS
    assert len(recorder.batches) <= 15 + 45 / 2.4 + 2  # ≤ 15 as the interval grows, then ≥ 2.4 s apart
    sent = recorder.sent_at()
    assert max(sent[seq] - due for seq, due in run.written.items()) <= 3.0 + POLL_SECONDS + 1e-9
    assert recorder.sent_at()[run.writer.next_seq - 1] == run.ended_at


def test_the_server_asking_for_nothing_again_brings_back_one_batch_a_second(
    server: InProcessServer, tmp_path: Path
) -> None:
    clock = FakeClock()
    busy_until = clock() + 20

    def process_cpu() -> float:  # a full core for 20 s, then idle
        return min(clock(), busy_until)

    server.app.state.pacing = Pacing(
        3.0, clock=clock, process_cpu=process_cpu, machine_cpu=lambda: 0.0, cores=2
    )
    _, recorder = live_upload(server, tmp_path, clock, rate=10, seconds=60)
    pairs = [(a, b - a) for (a, _), (b, _) in itertools.pairwise(recorder.batches[:-1])]
    assert max(gap for at, gap in pairs if at < busy_until) > 1.5 * SEND_INTERVAL  # paced while busy
    assert {round(gap, 1) for at, gap in pairs if at >= busy_until + 15} == {SEND_INTERVAL}


@pytest.mark.parametrize("asked", ["5", True, -1, 0, float("nan"), 61, [2], None])
def test_an_interval_the_client_cannot_use_is_ignored(asked: object) -> None:
    """A server (or something posing as one) answering with a malformed or absurd interval."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps({"ack": 0, "applied": 1, "interval": asked}))

    client = ServerClient("http://server", "key", transport=httpx.MockTransport(answer))
    client.send_records("admin/p/r", [[0, "history", 0.0, {"_step": 0}]])
    assert client.send_interval is None
    client.close()


def test_an_interval_within_bounds_is_taken() -> None:
    answer = {"ack": 0, "applied": 1, "interval": 2.5}
    client = ServerClient(
        "http://server", "key", transport=httpx.MockTransport(lambda _: httpx.Response(200, json=answer))
    )
    client.send_records("admin/p/r", [[0, "history", 0.0, {"_step": 0}]])
    assert client.send_interval == 2.5
    client.close()
