"""A training whose disk fills up: it goes on, is told once, and finish() says where every record is.

The writer's file layer (``open_file``) puts a small disk under it for the fast tests; one test
mounts a real 1 MiB tmpfs where the system allows it.
"""

from __future__ import annotations

import json
import re
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests._disk import SmallDisk, tmpfs
from tests.chaos.conftest import ENTITY, PROJECT, assert_exactly_once
from tests.harness import InProcessServer, upload
from wakelog.cli import main
from wakelog.runlog import find_runlog, read_runlog
from wakelog.runlog.syncstate import SyncState
from wakelog.sdk._metrics import SummaryTracker
from wakelog.sdk._writer import RunWriter, spill_dir_for
from wakelog.transport.sync import describe

TOTAL = 60_005  # the review's run: 60,004 rows and the exit record


def intact(path: Path) -> list[int]:
    result = read_runlog(path)
    assert not result.damage, result.damage
    return [r.seq for r in result.records]


def train(
    run_dir: Path,
    spill_dir: Path,
    disk: SmallDisk,
    fallback: SmallDisk,
    meanwhile: tuple[int, Callable[[], None]] | None = None,
) -> tuple[RunWriter, list[str]]:
    """What Run does: identity, many rows, the exit record; returns the writer and its warnings.
    ``meanwhile``: (step, what): ``what()`` is done once the rows before that step are written."""
    run_dir.mkdir(parents=True)
    log = run_dir / "run-dfull01.wakelog"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        writer = RunWriter(
            run_dir,
            log,
            tracker=SummaryTracker(),
            spill_dir=spill_dir,
            max_pending=256 * 1024,
            open_file=lambda path: (disk if path == log else fallback).open(path),
        )
        writer.put("run", {"id": "dfull01", "project": "diskfull", "entity": None, "start_time": 0.0})
        for step in range(TOTAL - 2):
            if meanwhile is not None and step == meanwhile[0]:
                writer.barrier(timeout=120)  # False: the disks are full, so the writer warns
                meanwhile[1]()
            writer.put("history", {"loss": 1 / (step + 1), "_step": step, "_runtime": 0.0, "_timestamp": 0.0})
        assert writer.barrier(timeout=120)
        during = [str(w.message) for w in caught]
        writer.put("exit", {"exit_code": 0, "state": "finished", "runtime": 1.0, "summary": {}})
        assert writer.close(timeout=120)
    return writer, during + ["-- close --"] + [str(w.message) for w in caught[len(during) :]]


def test_a_full_disk_spills_the_rest_and_finish_says_where_every_record_is(tmp_path: Path) -> None:
    run_dir, spill_dir = tmp_path / "wakelog" / "run-20260101_000000-dfull01", tmp_path / "fallback"
    writer, messages = train(run_dir, spill_dir, SmallDisk(free=200_000), SmallDisk(free=10**8))
    split = messages.index("-- close --")
    during, at_close = messages[:split], messages[split + 1 :]
    assert len(during) == 1 and "cannot take more records" in during[0] and str(spill_dir) in during[0]
    in_log = intact(find_runlog(run_dir))
    spill_log = spill_dir / "run-dfull01.wakelog"
    in_spill = intact(spill_log)[1:]  # after the copy of the identity record
    assert in_log == list(range(len(in_log))) and in_spill == list(range(len(in_log), TOTAL)), "nothing lost"
    assert writer.shortfall is not None and writer.shortfall.lost == []
    (summary,) = at_close
    assert f"{len(in_log):,} records are in it" in summary
    assert f"{len(in_spill):,} (seq {len(in_log)}-{TOTAL - 1})" in summary
    assert f"wakelog sync {run_dir} {spill_dir}" in summary


def test_the_records_that_fit_nowhere_are_counted_exactly(tmp_path: Path) -> None:
    run_dir, spill_dir = tmp_path / "run-20260101_000000-dfull01", tmp_path / "fallback"
    writer, messages = train(run_dir, spill_dir, SmallDisk(free=200_000), SmallDisk(free=300_000))
    shortfall = writer.shortfall
    assert shortfall is not None and shortfall.lost
    in_log = intact(find_runlog(run_dir))
    in_spill = intact(spill_dir / "run-dfull01.wakelog")[1:]
    lost = [seq for first, last in shortfall.lost for seq in range(first, last + 1)]
    assert sorted(in_log + in_spill + lost) == list(range(TOTAL))
    assert any(f"{len(lost):,} (seq " in m and "lost" in m for m in messages[messages.index("-- close --") :])


def fallback_for(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The spill folder the writer picks for ``run_dir`` (``spill_dir_for``), in the test's temp folder."""
    monkeypatch.setattr(tempfile, "tempdir", str(run_dir.parent.parent / "tmp"))
    spill_dir = spill_dir_for(run_dir)
    assert spill_dir is not None
    return spill_dir


def on_server(server: InProcessServer, state: SyncState) -> tuple[str, int, int]:
    with server.client() as http:
        run = http.get(f"/api/v1/runs/{state.run_path}").json()
    return run["state"], run["last_seq"], run["last_step"]


def test_the_uploader_goes_on_from_the_spill_log_and_the_run_arrives_whole_and_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "wakelog" / "run-20260101_000000-dfull01"
    train(run_dir, fallback_for(run_dir, monkeypatch), SmallDisk(free=200_000), SmallDisk(free=10**8))
    assert len(intact(find_runlog(run_dir))) < TOTAL // 4, "most records are in the spill log"
    with InProcessServer(tmp_path / "server") as server:
        state = upload(server, run_dir, entity=ENTITY, project=PROJECT)
        assert state.complete and state.acked_seq == TOTAL - 1 and state.last_seq == TOTAL - 1
        assert on_server(server, state) == ("finished", TOTAL - 1, TOTAL - 3)
        assert_exactly_once(server, "dfull01", {"loss": lambda step: 1 / (step + 1)}, TOTAL - 2)


def test_records_lost_between_the_logs_are_declared_and_the_run_still_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback disk filled too for a while: the records that fit nowhere in between are a
    declared gap, and everything after them (the exit record too) still arrives."""
    run_dir = tmp_path / "wakelog" / "run-20260101_000000-dfull01"
    disk, fallback = SmallDisk(free=200_000), SmallDisk(free=100_000)

    def room() -> None:
        fallback.free = 10**8

    writer, _ = train(
        run_dir, fallback_for(run_dir, monkeypatch), disk, fallback, meanwhile=(TOTAL // 2, room)
    )
    shortfall = writer.shortfall
    assert shortfall is not None and shortfall.lost and shortfall.lost[-1][1] < TOTAL - 1, "a gap, then more"
    lost = {seq for first, last in shortfall.lost for seq in range(first, last + 1)}
    with InProcessServer(tmp_path / "server") as server:
        state = upload(server, run_dir, entity=ENTITY, project=PROJECT)
        assert state.complete and state.acked_seq == TOTAL - 1
        assert on_server(server, state) == ("finished", TOTAL - 1, TOTAL - 3)
        kept = [seq - 1 for seq in range(1, TOTAL - 1) if seq not in lost]  # history seq n is step n - 1
        with server.client() as http:
            rows = http.get(
                f"/api/v1/runs/{state.run_path}/history/export", params={"format": "jsonl", "keys": "loss"}
            ).text.splitlines()
    assert [json.loads(row)["_step"] for row in rows] == kept, "every written point once, the lost ones not"


@pytest.mark.parametrize("folders", ["the run folder alone", "both folders"])
def test_wakelog_sync_uploads_the_spill_log_too_and_the_server_shows_the_run_finished_and_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folders: str
) -> None:
    run_dir = tmp_path / "wakelog" / "run-20260101_000000-dfull01"
    spill_dir = fallback_for(run_dir, monkeypatch)
    train(run_dir, spill_dir, SmallDisk(free=200_000), SmallDisk(free=10**8))
    local = describe(run_dir)
    assert (local.records, local.ended, local.run_id) == (TOTAL, True, "dfull01"), "sync sees the spill"
    with InProcessServer(tmp_path / "server") as server:
        monkeypatch.setenv("WAKELOG_API_KEY", server.key)
        monkeypatch.setenv("WAKELOG_BASE_URL", server.url)
        paths = [str(run_dir)] + ([str(spill_dir)] if folders == "both folders" else [])
        synced = CliRunner().invoke(main, ["sync", "--entity", ENTITY, "--project", PROJECT, *paths])
        assert synced.exit_code == 0, synced.output
        state = SyncState.load(run_dir)
        assert state.complete and state.acked_seq == TOTAL - 1
        assert on_server(server, state) == ("finished", TOTAL - 1, TOTAL - 3)
        assert_exactly_once(server, "dfull01", {"loss": lambda step: 1 / (step + 1)}, TOTAL - 2)


def test_a_run_on_a_real_full_tmpfs_goes_on_and_finish_reports_the_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wakelog

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with tmpfs(tmp_path / "disk", "1m") as disk:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = wakelog.init(dir=str(disk), mode="offline", project="diskfull")
            for step in range(TOTAL - 2):
                run.log({"loss": 1 / (step + 1)})
            run_dir = run.run_dir
            run.finish()
        messages = [str(w.message) for w in caught]
        in_log = intact(find_runlog(run_dir))
        spill_dir = tmp_path / "tmp" / "wakelog-fallback" / "wakelog" / Path(run_dir).name
        spilled = read_runlog(find_runlog(spill_dir))
        assert not spilled.damage
        assert spilled.records[0].type == "run" and spilled.records[-1].type == "exit"
        assert spilled.records[-1].data["state"] == "finished"
        in_spill = [r.seq for r in spilled.records[1:]]
        last = in_spill[-1]
        assert last >= TOTAL - 1 and in_log + in_spill == list(range(last + 1)), "each record once, in order"
        assert sum("cannot take more records" in m for m in messages) == 1
        (summary,) = [m for m in messages if "is incomplete" in m]
        assert re.search(rf"{len(in_spill):,} \(seq {len(in_log)}-{last}\) did not fit", summary)
