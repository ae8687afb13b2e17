"""`wakelog import tensorboard`: event files written by tensorboardX arrive with every value, step and
wall time TensorBoard's own loader sees; importing again adds only what is new; damage is reported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.import_helpers import Target, target

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
from tensorboardX import SummaryWriter

from wakelog.integration.importing import _tensorboard

T0 = 1_700_000_000.25


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Target]:
    yield from target(tmp_path)


def _write(writer: Any, steps: range) -> None:
    for step in steps:
        writer.add_scalar("loss", 1.0 / (step + 1), step, walltime=T0 + step)
        writer.add_scalar("eval/acc", step / 100, step, walltime=T0 + step)


def _tb_scalars(run: Path) -> dict[str, list[tuple[int, float, float]]]:
    found: dict[str, list[tuple[int, float, float]]] = {}
    for path in sorted(run.glob("*tfevents*")):
        for event in LegacyEventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.WhichOneof("value") == "simple_value":
                    found.setdefault(value.tag, []).append((event.step, event.wall_time, value.simple_value))
    return found


def _sources(logdir: Path) -> Any:
    return _tensorboard.sources(logdir, "tb")


def test_scalars_histograms_images_text_and_hparams_round_trip(tmp_path: Path, server: Target) -> None:
    logdir = tmp_path / "runs"
    writer = SummaryWriter(str(logdir / "train"))
    _write(writer, range(15))
    writer.add_histogram("weights", np.arange(40, dtype=np.float64), 3, walltime=T0 + 3)
    writer.add_image("sample", np.zeros((3, 4, 5), dtype=np.uint8), 4, walltime=T0 + 4)
    writer.add_text("note", "hello", 5, walltime=T0 + 5)
    writer.add_hparams(
        {"lr": 0.1, "optimizer": "sgd"}, {"hparam/acc": 0.9}
    )  # a run of its own, as TensorBoard shows it
    writer.close()
    reports = server.run_import(_sources(logdir))
    assert len(reports) == 2 and not any(r.damage or r.skipped for r in reports)
    train = next(r for r in reports if r.name == "train")
    rows = {row["_step"]: row for row in server.history(train)}
    for tag, points in _tb_scalars(logdir / "train").items():
        for step, wall, value in points:
            assert rows[step][tag] == value
            assert rows[step]["_timestamp"] == wall
    assert rows[3]["weights"]["_type"] == "histogram" and sum(rows[3]["weights"]["values"]) == 40
    assert rows[4]["sample"]["_type"] == "image-file"
    assert rows[5]["note/text_summary"] == "hello"
    hparams = next(r for r in reports if r is not train)
    assert server.api.run(hparams.run_path).config == {"lr": 0.1, "optimizer": "sgd"}


def test_importing_again_adds_only_what_is_new(tmp_path: Path, server: Target) -> None:
    logdir = tmp_path / "runs"
    writer = SummaryWriter(str(logdir))
    _write(writer, range(10))
    writer.flush()
    [first] = server.run_import(_sources(logdir))
    [again] = server.run_import(_sources(logdir))
    assert again.records == 0 and again.run_path == first.run_path
    _write(writer, range(10, 20))
    writer.close()
    [grown] = server.run_import(_sources(logdir))
    assert first.points + grown.points == 40  # each value once, whatever the writer had flushed
    assert [row["_step"] for row in server.history(first)] == list(range(20))


def test_a_damaged_file_is_read_up_to_the_damage(tmp_path: Path, server: Target) -> None:
    logdir = tmp_path / "runs"
    writer = SummaryWriter(str(logdir))
    _write(writer, range(40))
    writer.close()
    [path] = logdir.glob("*tfevents*")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    [report] = server.run_import(_sources(logdir))
    assert report.damage and "damaged" in report.damage[0]
    steps = [row["_step"] for row in server.history(report)]
    assert steps == list(range(len(steps))) and 5 < len(steps) < 40


def test_unknown_plugins_are_skipped_with_a_count(tmp_path: Path, server: Target) -> None:
    logdir = tmp_path / "runs"
    writer = SummaryWriter(str(logdir))
    writer.add_scalar("损失 🚀", 0.5, 1, walltime=T0)
    writer.add_pr_curve("pr", np.array([1, 0, 1]), np.array([0.9, 0.2, 0.6]), 1, walltime=T0)
    writer.close()
    [report] = server.run_import(_sources(logdir))
    assert report.skipped == {"TensorBoard values of plugin 'pr_curves'": 1}
    [row] = server.history(report)
    [tag] = _tb_scalars(logdir)  # tensorboardX cleans a tag's characters as TensorBoard's rules say
    assert row[tag] == 0.5 and tag.startswith("损失")
