"""The run log: the crash-safe, append-only record file at the heart of every run."""

from wakelog.runlog._format import FORMAT_VERSION, RecordType
from wakelog.runlog.reader import (
    Damage,
    ReadResult,
    Record,
    RunLogError,
    check_header,
    find_runlog,
    iter_records,
    read_runlog,
)
from wakelog.runlog.writer import RunLogWriter

__all__ = [
    "FORMAT_VERSION",
    "Damage",
    "ReadResult",
    "Record",
    "RecordType",
    "RunLogError",
    "RunLogWriter",
    "check_header",
    "find_runlog",
    "iter_records",
    "read_runlog",
]
