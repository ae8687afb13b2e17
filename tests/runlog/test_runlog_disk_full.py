"""The run log on a full disk: whole records only, a backlog that catches up, a spill log, exact counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._disk import SmallDisk
from wakelog.runlog import RunLogWriter, read_runlog
from wakelog.runlog._format import HEADER_SIZE


def seqs(path: Path) -> list[int]:
    result = read_runlog(path)
    assert not result.damage, result.damage
    return [r.seq for r in result.records]


def fill(writer: RunLogWriter, count: int) -> None:
    writer.append("run", {"id": "abc", "project": "p"}, 0.0)
    for step in range(1, count):
        writer.append("history", {"loss": step / 3, "_step": step}, float(step))


def test_a_full_disk_keeps_whole_records_and_a_backlog_catches_up_as_space_frees(tmp_path: Path) -> None:
    disk = SmallDisk(free=HEADER_SIZE + 1000)
    log = tmp_path / "run.wakelog"
    writer = RunLogWriter(log, open_file=disk.open)
    fill(writer, 500)
    with pytest.raises(OSError):
        writer.flush()
    first = seqs(log)
    assert first == list(range(len(first))) and 0 < len(first) < 500, "what fits is written, whole"
    assert disk.free < 100, "and the space is used, not given back"
    progress = [len(first)]
    while True:  # space frees a little at a time, much less than the backlog
        disk.free += 2000
        try:
            writer.flush()
            break
        except OSError:
            progress.append(len(seqs(log)))
    assert progress == sorted(set(progress)), "every bit of freed space moves the backlog on"
    assert seqs(log) == list(range(500))
    writer.close()


def test_a_backlog_over_the_cap_spills_and_comes_back_when_space_frees(tmp_path: Path) -> None:
    disk, fallback = SmallDisk(free=HEADER_SIZE + 500), SmallDisk(free=10**6)
    log, spill = tmp_path / "run" / "run.wakelog", tmp_path / "spill" / "run.wakelog"
    log.parent.mkdir()
    writer = RunLogWriter(
        log,
        spill_path=spill,
        max_pending=4096,
        open_file=lambda path: (disk if path == log else fallback).open(path),
    )
    fill(writer, 2000)
    with pytest.raises(OSError):
        writer.flush()
    in_log = seqs(log)
    spilled = read_runlog(spill).records
    assert spilled[0].type == "run" and spilled[0].data["id"] == "abc", "the spill log says whose it is"
    assert [r.seq for r in spilled[1:]] == list(range(len(in_log), 2000)), "the rest, in order"
    assert writer.pending_bytes == 0
    disk.free += 10**6
    writer.flush()
    assert seqs(log) == list(range(2000)), "copied back in order once the run log can take it"
    assert not spill.exists() and not spill.parent.exists()
    assert writer.close() is None


def test_close_says_exactly_where_every_record_is(tmp_path: Path) -> None:
    disk, fallback = SmallDisk(free=HEADER_SIZE + 3000), SmallDisk(free=20_000)  # both too small
    log, spill = tmp_path / "run.wakelog", tmp_path / "spill" / "run.wakelog"
    writer = RunLogWriter(
        log,
        spill_path=spill,
        max_pending=2048,
        open_file=lambda path: (disk if path == log else fallback).open(path),
    )
    fill(writer, 5000)
    with pytest.raises(OSError):
        writer.flush()
    writer.append("exit", {"exit_code": 0, "state": "finished"}, 1.0)
    shortfall = writer.close()
    assert shortfall is not None
    in_log = seqs(log)
    in_spill = [r.seq for r in read_runlog(spill).records[1:]]
    assert shortfall.logged == len(in_log)
    assert shortfall.spilled_count == len(in_spill)
    assert [s for a, b in shortfall.spilled for s in range(a, b + 1)] == in_spill
    lost = [s for a, b in shortfall.lost for s in range(a, b + 1)]
    assert sorted(in_log + in_spill + lost) == list(range(5001)), "every record is counted once"
    assert lost, "this disk was too small for all of them"


def test_without_a_fallback_close_counts_the_records_it_lost(tmp_path: Path) -> None:
    disk = SmallDisk(free=HEADER_SIZE + 700)
    log = tmp_path / "run.wakelog"
    writer = RunLogWriter(log, open_file=disk.open)
    fill(writer, 300)
    shortfall = writer.close()
    assert shortfall is not None and shortfall.spill_path is None
    assert shortfall.logged == len(seqs(log)) > 0
    assert shortfall.lost == [(shortfall.logged, 299)]


def test_only_what_still_waits_counts_against_the_cap(tmp_path: Path) -> None:
    """Records written long ago are not pending: a small backlog on a full disk stays in memory,
    however much the writer wrote before."""
    disk, fallback = SmallDisk(free=HEADER_SIZE + 100_000), SmallDisk(free=10**6)
    log, spill = tmp_path / "run" / "run.wakelog", tmp_path / "spill" / "run.wakelog"
    log.parent.mkdir()
    writer = RunLogWriter(
        log,
        spill_path=spill,
        max_pending=4096,
        open_file=lambda path: (disk if path == log else fallback).open(path),
    )
    fill(writer, 1000)  # far more than the cap, written whole
    writer.flush()
    assert writer.pending_bytes == 0
    disk.free = 0
    for step in range(1000, 1010):
        writer.append("history", {"loss": 1.0, "_step": step}, float(step))
    with pytest.raises(OSError):
        writer.flush()
    assert 0 < writer.pending_bytes < 4096 and not spill.exists(), "a backlog under the cap is not spilled"
    disk.free = 10**6
    writer.flush()
    assert seqs(log) == list(range(1010)) and writer.pending_bytes == 0
    assert writer.close() is None
