"""Apply a batch of run-log records to the database: once, in order, in one transaction.

The uploader sends records with their run-local sequence numbers. A batch is checked whole
before anything is written (``IngestError`` names the first bad record), then applied in one
transaction: records at or below the run's ``last_seq`` are duplicates and skipped, the rest must
continue it without a gap (``SequenceGap`` carries the ack so the client resends from there).
The new ``last_seq`` is the ack. Replays and retries are therefore no-ops.

The stages, one module each: ``_validate`` (the batch's shape) and ``_checks`` (each record's
data) → ``_gather`` (what the batch changes, per table) → ``_series`` (packed points) and
``_summaries`` (per-key statistics) → ``_apply`` (the transaction around them); ``_columns`` says
what the SQL columns can hold.
"""

from wakelog.store.ingest._apply import (
    DEFAULT_ALERT_WAIT,
    IngestHook,
    IngestResult,
    RecordSource,
    apply_batch,
    ensure_project,
    ensure_run,
)
from wakelog.store.ingest._checks import MAX_DEPTH, MAX_KEY_LENGTH
from wakelog.store.ingest._columns import MAX_INT32, MAX_INT64, json_safe
from wakelog.store.ingest._errors import BatchTooLarge, IngestError, InTrash, SequenceGap
from wakelog.store.ingest._gather import Points
from wakelog.store.ingest._series import compact, seal
from wakelog.store.ingest._validate import MAX_KEYS_PER_BATCH, Record, decode_batch, validate

__all__ = [
    "DEFAULT_ALERT_WAIT",
    "MAX_DEPTH",
    "MAX_INT32",
    "MAX_INT64",
    "MAX_KEYS_PER_BATCH",
    "MAX_KEY_LENGTH",
    "BatchTooLarge",
    "InTrash",
    "IngestError",
    "IngestHook",
    "IngestResult",
    "Points",
    "Record",
    "RecordSource",
    "SequenceGap",
    "apply_batch",
    "compact",
    "decode_batch",
    "ensure_project",
    "ensure_run",
    "json_safe",
    "seal",
    "validate",
]
