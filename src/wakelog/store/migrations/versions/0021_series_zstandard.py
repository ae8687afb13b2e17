"""series in Zstandard: a metric chunk's bytes are compressed with Zstandard from this revision on
(``ZSTD_FLAG`` in the point count ahead of them, ``store/series.py``); zlib's chunks stored before
read as they were, so the upgrade rewrites nothing. The revision is there so that a wakelog from
before, which reads zlib's chunks only, refuses the database instead of failing on its charts.

The downgrade rewrites every Zstandard chunk in zlib's format, the only one the code before reads.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 19:00:00.000000
"""

import zlib
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

#: A chunk's point count (4 bytes, little-endian) carries this flag when its bytes are Zstandard's.
ZSTD_FLAG = 1 << 30
#: Chunk rows read and rewritten per statement by the downgrade.
BATCH = 500

_chunks = sa.table(
    "series_chunks",
    sa.column("run_pk", sa.Integer),
    sa.column("stream", sa.SmallInteger),
    sa.column("key", sa.String),
    sa.column("chunk", sa.Integer),
    sa.column("data", sa.LargeBinary),
)


def upgrade() -> None:
    pass  # nothing stored changes: chunks written from now on are Zstandard's


def downgrade() -> None:
    import zstandard

    c = _chunks.c
    key = sa.tuple_(c.run_pk, c.stream, c.key, c.chunk)
    # The flags are in the count's last byte (counts stay far below 2**24): 0x40 for Zstandard.
    zstd = sa.func.substr(c.data, 4, 1) == sa.literal(b"\x40", sa.LargeBinary)
    rewrite = (
        _chunks.update()
        .where(
            c.run_pk == sa.bindparam("at_run"),
            c.stream == sa.bindparam("at_stream"),
            c.key == sa.bindparam("at_key"),
            c.chunk == sa.bindparam("at_chunk"),
        )
        .values(data=sa.bindparam("zlib_data"))
    )
    decompress = zstandard.ZstdDecompressor().decompress
    conn = op.get_bind()
    after: tuple[Any, ...] | None = None
    while True:
        query = sa.select(c.run_pk, c.stream, c.key, c.chunk, c.data).where(zstd)
        if after is not None:
            query = query.where(key > sa.tuple_(*map(sa.literal, after)))
        rows = conn.execute(query.order_by(c.run_pk, c.stream, c.key, c.chunk).limit(BATCH)).all()
        if not rows:
            return
        conn.execute(
            rewrite,
            [
                {
                    "at_run": run_pk,
                    "at_stream": stream,
                    "at_key": name,
                    "at_chunk": chunk,
                    "zlib_data": _as_zlib(bytes(data), decompress),
                }
                for run_pk, stream, name, chunk, data in rows
            ],
        )
        after = tuple(rows[-1][:4])


def _as_zlib(data: bytes, decompress: Callable[[bytes], bytes]) -> bytes:
    """A Zstandard chunk's bytes as zlib's: the count without the flag, then zlib's bytes."""
    count = int.from_bytes(data[:4], "little") & ~ZSTD_FLAG
    return count.to_bytes(4, "little") + zlib.compress(decompress(data[4:]), 1)
