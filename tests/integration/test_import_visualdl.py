"""`wakelog import visualdl`: logs written by VisualDL's LogWriter arrive with every value, step and
wall time VisualDL's own reader sees; importing again adds only what is new; damage is reported."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.import_helpers import Target, target

visualdl = pytest.importorskip("visualdl")
from visualdl import LogReader, LogWriter  # noqa: E402
from visualdl.proto.record_pb2 import Record  # noqa: E402

from wakelog.integration.importing import _visualdl  # noqa: E402

T0 = 1_700_000_000_000  # ms, as VisualDL keeps wall times


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Target]:
    yield from target(tmp_path)


def _write_scalars(writer: Any, steps: range, tags: tuple[str, ...] = ("train/loss", "train/acc")) -> None:
    for step in steps:
        for index, tag in enumerate(tags):
            writer.add_scalar(tag, 1.0 / (step + 1 + index), step, walltime=T0 + step * 1000)


def _vdl_scalars(path: Path) -> dict[str, list[tuple[int, float, float]]]:
    """What VisualDL's own reader finds: tag → [(step, wall seconds, value)]."""
    found: dict[str, list[tuple[int, float, float]]] = {}
    for log in sorted(path.glob("vdlrecords*")):
        reader = LogReader(file_path=str(log))
        for tag in reader.get_tags().get("scalar", []):
            points = found.setdefault(tag, [])
            points += [(r.id, r.timestamp / 1000.0, r.value) for r in reader.get_data("scalar", tag)]
    return found


def _sources(logdir: Path, **options: Any) -> Any:
    return _visualdl.sources(logdir, "vdl", **options)


def test_every_kind_of_value_round_trips(tmp_path: Path, server: Target) -> None:
    logdir = tmp_path / "log"
    with LogWriter(logdir=str(logdir / "run1"), display_name="baseline") as writer:
        writer.add_hparams({"lr": 0.01, "optimizer": "adam", "layers": 3}, ["train/loss"], walltime=T0)
        _write_scalars(writer, range(20))
        writer.add_scalars("lr", {"head": 0.1, "body": 0.01}, 3, walltime=T0 + 3000)
        writer.add_image("sample", np.full((4, 6, 3), 200, dtype=np.uint8), 5, walltime=T0 + 5000)
        writer.add_text("note", "训练 ok", 6, walltime=T0 + 6000)
        writer.add_histogram("weights", np.arange(50, dtype=np.float64), 7, walltime=T0 + 7000, buckets=5)
        writer.add_audio("sound", np.zeros(80, dtype=np.float32), 8, sample_rate=8000, walltime=T0 + 8000)
        writer.add_embeddings("emb", mat=[[1.0, 2.0], [3.0, 4.0]], metadata=["a", "b"], walltime=T0 + 9000)
        curve = Record.PRCurve(
            TP=[3, 1], FP=[1, 0], TN=[0, 1], FN=[0, 2], precision=[0.75, 1.0], recall=[1.0, 1 / 3]
        )
        pr = Record.Value(id=9, tag="pr", timestamp=T0 + 9000, pr_curve=curve)
        writer._get_file_writer().add_record(
            Record(values=[pr])
        )  # VisualDL 2.5's add_pr_curve needs numpy < 2
    [report] = server.run_import(_sources(logdir))
    assert not report.damage and not report.skipped

    run = server.api.run(report.run_path)
    assert run.name == "baseline"  # VisualDL's display name
    assert run.state == "finished"
    assert {k: run.config[k] for k in ("lr", "optimizer", "layers")} == {
        "lr": 0.01,
        "optimizer": "adam",
        "layers": 3,
    }
    rows = {row["_step"]: row for row in run.scan_history()}
    for tag, points in _vdl_scalars(logdir / "run1").items():
        for step, wall, value in points:
            assert rows[step][tag] == value
            assert rows[step]["_timestamp"] == wall
    assert rows[3]["lr/head"] == np.float32(0.1) and rows[3]["lr/body"] == np.float32(0.01)
    assert rows[5]["sample"]["_type"] == "image-file" and (
        rows[5]["sample"]["width"],
        rows[5]["sample"]["height"],
    ) == (6, 4)
    assert rows[6]["note"] == "训练 ok"
    assert rows[7]["weights"]["_type"] == "histogram" and sum(rows[7]["weights"]["values"]) == 50
    assert rows[8]["sound"]["_type"] == "audio-file"
    assert rows[9]["pr"]["_type"] == "custom-chart" and rows[9]["pr_table"]["_type"] == "table-file"
    assert any(f.name == rows[5]["sample"]["path"] for f in run.files())


def test_importing_again_adds_only_what_is_new(tmp_path: Path, server: Target) -> None:
    logdir = tmp_path / "log"
    writer = LogWriter(logdir=str(logdir / "grow"))
    _write_scalars(writer, range(10))
    writer.flush()
    [first] = server.run_import(_sources(logdir))
    [again] = server.run_import(_sources(logdir))
    assert again.records == 0 and again.points == 0 and again.run_path == first.run_path
    assert len(server.history(first)) == 10

    _write_scalars(writer, range(10, 25))  # the same file grows
    writer.close()
    with LogWriter(logdir=str(logdir / "grow")) as later:  # and a second file appears (a restart)
        _write_scalars(later, range(25, 30))
    [grown] = server.run_import(_sources(logdir))
    assert grown.run_path == first.run_path
    assert grown.points == 2 * 20
    rows = server.history(first)
    assert [row["_step"] for row in rows] == list(range(30))
    assert len(server.api.runs("vdl")) == 1


def test_damaged_records_are_skipped_and_reported(tmp_path: Path, server: Target) -> None:
    logdir = tmp_path / "log"
    with LogWriter(logdir=str(logdir / "bad")) as writer:
        _write_scalars(writer, range(30), tags=("loss",))
    [log] = (logdir / "bad").glob("vdlrecords*")
    data = bytearray(log.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 6] = b"\xff" * 6  # garbage inside one record
    log.write_bytes(bytes(data[:-5]))  # and the last record cut off
    [report] = server.run_import(_sources(logdir))
    assert report.damage and "damaged records skipped" in report.damage[0]
    steps = [row["_step"] for row in server.history(report)]
    assert 0 in steps and 27 in steps and 29 not in steps
    assert 25 <= len(steps) < 30


def test_unknown_values_are_counted_and_odd_names_kept(tmp_path: Path, server: Target) -> None:
    logdir = tmp_path / "log"
    odd = os.fsdecode(bytes(logdir / "run-") + b"\xff\xfe")  # a directory name that is not UTF-8
    with LogWriter(logdir=odd) as writer:
        writer.add_scalar("损失/训练 🚀", 0.5, 1, walltime=T0)
        for step in (2, 3):
            writer._get_file_writer().add_record(
                Record(values=[Record.Value(id=step, tag="x", timestamp=T0)])
            )
    [report] = server.run_import(_sources(logdir))
    assert report.skipped == {_visualdl.UNKNOWN: 2}
    assert report.name == "run-\ufffd\ufffd"
    [row] = server.history(report)
    assert row["损失/训练 🚀"] == 0.5


def test_many_runs_are_streamed_one_at_a_time(tmp_path: Path, server: Target) -> None:
    logdir = tmp_path / "log"
    for index in range(200):
        with LogWriter(logdir=str(logdir / f"trial-{index:03d}")) as writer:
            writer.add_scalar("score", float(index), 0, walltime=T0 + index)
    sources = _sources(logdir)
    assert isinstance(sources, Iterator)  # runs are found as the import goes, not all up front
    reports = server.run_import(sources)
    assert len({r.run_path for r in reports}) == 200
    assert all(r.points == 1 for r in reports)
    assert sum(r.records for r in server.run_import(_sources(logdir))) == 0
