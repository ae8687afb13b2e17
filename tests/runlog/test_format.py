"""The run-log format: round trips, torn tails, corruption, paging, live reading."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wakelog.runlog import RunLogError, RunLogWriter, check_header, iter_records, read_runlog
from wakelog.runlog._format import HEADER_SIZE, encode_frame

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
record_lists = st.lists(st.tuples(st.sampled_from(["history", "config", "output"]), values), max_size=30)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def same(a: object, b: object) -> bool:
    """Equality where NaN equals NaN (the format keeps NaN exactly)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b and type(a) is type(b)


def write(path: Path, items: list[tuple[str, object]], start_seq: int = 0) -> None:
    writer = RunLogWriter(path, start_seq=start_seq)
    for kind, data in items:
        writer.append(kind, data, 1.5)
    writer.close()


@SETTINGS
@given(items=record_lists)
def test_round_trip_keeps_every_value(tmp_path: Path, items: list) -> None:
    path = tmp_path / "run-x.wakelog"
    path.unlink(missing_ok=True)
    write(path, items, start_seq=7)
    result = read_runlog(path)
    assert result.damage == []
    assert [r.seq for r in result.records] == list(range(7, 7 + len(items)))
    assert all(
        same(r.data, data) and r.type == kind for r, (kind, data) in zip(result.records, items, strict=True)
    )


@SETTINGS
@given(items=record_lists.filter(bool), cut=st.integers(min_value=0))
def test_truncation_anywhere_keeps_every_complete_record(tmp_path: Path, items: list, cut: int) -> None:
    path = tmp_path / "run-x.wakelog"
    path.unlink(missing_ok=True)
    write(path, items)
    full = path.read_bytes()
    cut = HEADER_SIZE + cut % (len(full) - HEADER_SIZE + 1)
    path.write_bytes(full[:cut])
    whole = read_runlog(tmp_path / "run-x.wakelog")
    frame_ends = [r.offset for r in read_runlog_bytes(tmp_path, full).records[1:]] + [len(full)]
    expected = sum(1 for end in frame_ends if end <= cut)
    assert len(whole.records) == expected
    torn = cut - (frame_ends[expected - 1] if expected else HEADER_SIZE)
    assert [d.length for d in whole.damage] == ([torn] if torn else [])
    # A live reader waits for the rest instead of calling it damage.
    live = read_runlog(path, final=False)
    assert live.damage == [] and live.incomplete_tail == torn


def read_runlog_bytes(tmp_path: Path, data: bytes):
    other = tmp_path / "copy.wakelog"
    other.write_bytes(data)
    return read_runlog(other)


@SETTINGS
@given(
    items=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=3, max_size=40),
    where=st.integers(min_value=0),
    flip=st.integers(1, 255),
)
def test_corruption_is_reported_and_records_around_it_recovered(
    tmp_path: Path, items: list, where: int, flip: int
) -> None:
    path = tmp_path / "run-x.wakelog"
    path.unlink(missing_ok=True)
    write(path, [("history", {"v": v}) for v in items])
    data = bytearray(path.read_bytes())
    where = HEADER_SIZE + where % (len(data) - HEADER_SIZE)
    data[where] ^= flip
    path.write_bytes(bytes(data))
    result = read_runlog(path)
    assert result.damage, "a flipped byte must be reported"
    damaged = result.damage[0]
    assert damaged.offset <= where < damaged.offset + damaged.length
    recovered = [r.seq for r in result.records]
    # Every record that does not overlap the flipped byte is recovered, in order.
    assert recovered == sorted(recovered)
    assert len(recovered) >= len(items) - 2
    for record in result.records:
        assert record.data == {"v": items[record.seq]}


def test_damage_mid_file_then_more_records(tmp_path: Path) -> None:
    path = tmp_path / "run-x.wakelog"
    write(path, [("history", {"i": i}) for i in range(10)])
    data = bytearray(path.read_bytes())
    fourth = read_runlog(path).records[4]
    data[fourth.offset + 9] ^= 0xFF
    path.write_bytes(bytes(data))
    result = read_runlog(path)
    assert [r.data["i"] for r in result.records] == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert len(result.damage) == 1 and result.damage[0].offset == fourth.offset
    assert "checksum" in result.damage[0].reason


def test_paging_with_max_bytes_reads_everything_once(tmp_path: Path) -> None:
    path = tmp_path / "run-x.wakelog"
    write(path, [("history", {"i": i, "pad": "x" * (i % 50)}) for i in range(500)])
    seen, offset = [], HEADER_SIZE
    while True:
        page = read_runlog(path, offset, max_bytes=1000)
        if not page.records:
            break
        seen.extend(r.data["i"] for r in page.records)
        offset = page.next_offset
    assert seen == list(range(500))


@SETTINGS
@given(
    items=st.lists(st.integers(0, 300), min_size=1, max_size=40),
    where=st.integers(min_value=0),
    flip=st.integers(0, 255),
    cut=st.integers(0, 40),
    piece=st.integers(1, 2000),
)
@example(items=[0], where=0, flip=0, cut=40, piece=1)  # found in a rehearsal: the cut reaches the header
def test_iter_records_streams_in_pieces_what_a_whole_read_finds(
    tmp_path: Path, items: list, where: int, flip: int, cut: int, piece: int
) -> None:
    """Piece by piece (smaller than a record, too), past damage and up to a torn tail: the same
    records as reading the whole log at once."""
    path = tmp_path / "run-x.wakelog"
    path.unlink(missing_ok=True)
    write(path, [("history", {"pad": "x" * n}) for n in items])
    data = bytearray(path.read_bytes())
    data[HEADER_SIZE + where % (len(data) - HEADER_SIZE)] ^= flip
    path.write_bytes(bytes(data[: len(data) - cut]))
    if len(data) - cut < HEADER_SIZE:  # cut into the header (a log of one tiny record): neither reads it
        with pytest.raises(RunLogError, match="too short"):
            read_runlog(path)
        with pytest.raises(RunLogError, match="too short"):
            list(iter_records(path, piece=piece))
        return
    whole = [(r.seq, r.offset) for r in read_runlog(path).records]
    assert [(r.seq, r.offset) for r in iter_records(path, piece=piece)] == whole


def test_paging_with_max_records_parses_each_record_once(tmp_path: Path) -> None:
    path = tmp_path / "run-x.wakelog"
    write(path, [("history", {"i": i}) for i in range(500)])
    seen, offset = [], HEADER_SIZE
    while True:
        page = read_runlog(path, offset, max_records=64)
        assert len(page.records) <= 64 and not page.damage, "what is left unread is no torn tail"
        if not page.records:
            break
        seen.extend(r.data["i"] for r in page.records)
        offset = page.next_offset
    assert seen == list(range(500))


def test_reader_follows_a_log_being_written(tmp_path: Path) -> None:
    path = tmp_path / "run-x.wakelog"
    writer = RunLogWriter(path)
    writer.append("history", {"a": 1}, 0.0)
    writer.flush()
    first = read_runlog(path, final=False)
    frame = encode_frame(1, "history", 0.0, {"a": 2})
    with open(path, "ab") as f:
        f.write(frame[:5])  # the writer is mid-record
    middle = read_runlog(path, first.next_offset, final=False)
    assert middle.records == [] and middle.incomplete_tail == 5 and middle.damage == []
    with open(path, "ab") as f:
        f.write(frame[5:])
    last = read_runlog(path, middle.next_offset, final=False)
    writer.close()
    assert [r.data for r in last.records] == [{"a": 2}]


def test_a_reopened_writer_continues_the_log(tmp_path: Path) -> None:
    path = tmp_path / "run-x.wakelog"
    write(path, [("history", {"i": 0})])
    write(path, [("history", {"i": 1})], start_seq=1)
    assert [r.seq for r in read_runlog(path).records] == [0, 1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "too short"),
        (b"NOTALOG!", "not a wakelog run log"),
        (struct.pack("<4sHH", b"WKLG", 99, 0), "newer"),
    ],
)
def test_bad_headers_are_refused_with_a_reason(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.wakelog"
    path.write_bytes(content)
    with pytest.raises(RunLogError, match=message):
        check_header(path)


def test_implausible_length_is_damage_not_a_huge_allocation(tmp_path: Path) -> None:
    path = tmp_path / "run-x.wakelog"
    write(path, [("history", {"i": 0})])
    with open(path, "ab") as f:
        f.write(struct.pack("<II", 0xFFFFFFF0, 0) + b"junk")
    result = read_runlog(path)
    assert [r.data for r in result.records] == [{"i": 0}]
    assert "implausible" in result.damage[0].reason


def test_damage_before_a_record_still_being_written_does_not_swallow_it(tmp_path: Path) -> None:
    """A live log: a damaged record, then one the writer has only half written. The half is no
    damage: the reader waits for it (final=False) and finds it whole on the next read."""
    from wakelog.runlog._format import encode_header

    frames = [encode_frame(seq, "history", 1.0, {"_step": seq, "x": "y" * 50}) for seq in range(4)]
    damaged = bytearray(frames[2])
    damaged[12] ^= 0xFF
    path = tmp_path / "run-live.wakelog"
    path.write_bytes(encode_header() + frames[0] + frames[1] + bytes(damaged) + frames[3][:20])
    first = read_runlog(path, final=False)
    assert [r.seq for r in first.records] == [0, 1]
    with open(path, "ab") as f:
        f.write(frames[3][20:])
    second = read_runlog(path, first.next_offset, final=False)
    assert [r.seq for r in second.records] == [3], "the record after the damage is read whole"
    assert [d.reason for d in second.damage] == ["checksum mismatch"]


def test_damage_ending_where_a_bounded_read_stops_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    from wakelog.runlog._format import encode_header

    frames = [encode_frame(seq, "history", 1.0, {"_step": seq, "x": "y" * 200}) for seq in range(4)]
    damaged = bytearray(frames[1])
    damaged[12] ^= 0xFF
    path = tmp_path / "run-paged.wakelog"
    path.write_bytes(encode_header() + b"".join([frames[0], bytes(damaged), frames[2], frames[3]]))
    limit = len(frames[0]) + len(frames[1]) + len(frames[2]) // 2  # the read ends inside record 2
    seqs, offset = [], HEADER_SIZE
    while True:
        result = read_runlog(path, offset, max_bytes=limit)
        seqs += [r.seq for r in result.records]
        if result.next_offset == offset:
            break
        offset = result.next_offset
    assert seqs == [0, 2, 3]
