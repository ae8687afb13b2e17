"""Limits the uploader and the server share, so that what one sends the other accepts.

An ingest batch (``POST …/records``) is capped by the server (``413``, checked while the body
streams in and again after gunzip; ``400`` for too many records); the uploader sends at most
``UPLOAD_BATCH_BYTES`` of records per batch, and the run log writer refuses a single record
that could never fit into one. ``docs/server.md`` ("Limits") lists them.
"""

from __future__ import annotations

#: The largest ingest batch the server accepts: its MessagePack body, after gunzip.
MAX_BATCH_BYTES = 8 * 1024 * 1024
#: The most records one ingest batch may hold.
MAX_BATCH_RECORDS = 20_000
#: What the uploader reads of the run log for one batch (a single larger record goes alone).
UPLOAD_BATCH_BYTES = 4 * 1024 * 1024
#: The largest record (its MessagePack payload) a run log takes: it must fit a batch by itself,
#: with room for the batch's own array header.
MAX_RECORD_BYTES = MAX_BATCH_BYTES - 16
