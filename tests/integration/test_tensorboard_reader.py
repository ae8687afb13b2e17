"""TensorBoard's own record reader as wakelog uses it: a growing file read as it is written, a
cut-off last record read once whole, a damaged one refused, the C CRC-32C the same function."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
from tensorboardX import SummaryWriter

from wakelog.integration.tensorboard._reader import DamagedRecord, EventFile, library


def _event_file(tmp_path: Path, steps: int) -> tuple[bytes, list[bytes]]:
    """A real event file's bytes (tensorboardX writes it) and its records as TensorBoard reads them."""
    writer = SummaryWriter(str(tmp_path / "tb"))
    for step in range(steps):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
    writer.close()
    [path] = (tmp_path / "tb").glob("*tfevents*")
    return path.read_bytes(), list(RawEventFileLoader(str(path)).Load())


def _all(events: EventFile) -> list[bytes]:
    found = []
    while (data := events.next()) is not None:
        found.append(data)
    return found


def test_a_growing_file_is_read_as_written_and_a_cut_off_record_once_whole(tmp_path: Path) -> None:
    content, expected = _event_file(tmp_path, 5)
    path = tmp_path / "growing.tfevents"
    cut = len(content) - 7  # inside the last record
    path.write_bytes(content[:cut])
    with EventFile(path) as events:
        assert _all(events) == expected[:-1] and events.cut_off
        with open(path, "ab") as f:
            f.write(content[cut:])
        assert _all(events) == expected[-1:] and not events.cut_off
        assert events.count == len(expected)


def test_a_damaged_record_is_refused(tmp_path: Path) -> None:
    content, expected = _event_file(tmp_path, 5)
    damaged = bytearray(content)
    damaged[-10] ^= 0xFF  # in the last record's data
    path = tmp_path / "damaged.tfevents"
    path.write_bytes(bytes(damaged))
    with EventFile(path) as events:
        found = [events.next() for _ in expected[:-1]]
        assert found == expected[:-1]
        with pytest.raises(DamagedRecord, match=f"record {len(expected)} is damaged"):
            events.next()


def test_the_crc32c_tensorboard_reads_with_is_the_standard_one() -> None:
    assert library().records.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
