"""The TFRecord framing of tfevents files: whole records are read, a torn last one is waited on."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wakelog.integration.tensorboard import CorruptRecord, RecordReader, encode_record, split_records
from wakelog.integration.tensorboard._crc32c import _crc32c_python, masked_crc32c

payloads = st.lists(st.binary(max_size=300), max_size=8)


def test_crc32c_check_value() -> None:
    assert _crc32c_python(b"123456789") == 0xE3069283  # the standard CRC-32C check value
    assert masked_crc32c(b"") == 0xA282EAD8


@given(payloads, st.data())
def test_a_prefix_yields_the_whole_records_before_the_cut(records: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(encode_record(r) for r in records)
    cut = data.draw(st.integers(0, len(stream)))
    found, used = split_records(stream[:cut])
    ends = [sum(len(encode_record(r)) for r in records[: i + 1]) for i in range(len(records))]
    whole = [r for r, end in zip(records, ends, strict=True) if end <= cut]
    assert found == whole
    assert used == (ends[len(whole) - 1] if whole else 0)


@given(st.lists(st.binary(min_size=1, max_size=100), min_size=1, max_size=4), st.data())
def test_a_damaged_whole_record_is_reported(records: list[bytes], data: st.DataObject) -> None:
    stream = bytearray(b"".join(encode_record(r) for r in records))
    index = data.draw(st.integers(0, len(records) - 1))
    start = sum(len(encode_record(r)) for r in records[:index]) + 12  # the record's data
    stream[start + data.draw(st.integers(0, len(records[index]) - 1))] ^= 0x01
    with pytest.raises(CorruptRecord, match="data checksum"):
        split_records(bytes(stream))


def test_reader_follows_a_growing_file_and_waits_at_a_torn_record(tmp_path: Path) -> None:
    path = tmp_path / "events.out.tfevents.1.host"
    reader = RecordReader(path)
    assert reader.read() == []  # not there yet
    first, second = encode_record(b"first"), encode_record(b"second" * 10)
    path.write_bytes(first + second[:7])  # a torn header
    assert reader.read() == [b"first"]
    with open(path, "ab") as f:
        f.write(second[7:20])  # header whole, data partial
    assert reader.read() == []
    with open(path, "ab") as f:
        f.write(second[20:])
    assert reader.read() == [b"second" * 10]
    assert reader.offset == len(first + second)
