"""A batch naming more metric keys than a statement may have bind parameters is stored whole, on
SQLite and on PostgreSQL; one over the documented per-batch limit is refused as too large (413)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa

from tests.harness import InProcessServer, upload
from wakelog.store.database import Database
from wakelog.store.ingest import MAX_KEYS_PER_BATCH, BatchTooLarge, apply_batch, validate
from wakelog.store.schema import series_chunks, summaries

KEYS = 65_536 + 100  # just over PostgreSQL's 65,535 bind parameters (and SQLite's 32,766)


def row(step: int) -> dict[str, float | int]:
    return {**{f"layer{i}/grad_norm": float(i + step) for i in range(KEYS)}, "_step": step}


def test_a_batch_with_more_keys_than_bind_parameters_is_stored_whole(db: Database) -> None:
    first = validate([[0, "run", 0.0, {"id": "wide"}], [1, "history", 1.0, row(0)]])
    assert apply_batch(db, "team", "wide", "wide", first).ack == 1
    assert stored(db) == (KEYS, KEYS, {1})


def test_later_wide_batches_find_and_remove_what_is_stored(db: Database) -> None:
    """On PostgreSQL the second batch looks its 65,636 tails up over arrays (``store/ingest/_series.py``):
    a ``UNION ALL`` of them took minutes on a fresh (not yet analysed) table; 3 s this way."""
    apply_batch(db, "team", "wide", "wide", validate([[0, "history", 0.0, row(0)]]))
    apply_batch(db, "team", "wide", "wide", validate([[1, "history", 1.0, row(1)]]))
    removed = [f"layer{i}/grad_norm" for i in range(KEYS // 2)]
    apply_batch(db, "team", "wide", "wide", validate([[2, "summary", 2.0, {"remove": removed}]]))
    assert stored(db) == (2 * KEYS, KEYS - len(removed), {2}), "every point once; removed ones gone"


def stored(db: Database) -> tuple[int, int, set[int]]:
    """(points in series chunks, summaries, the summaries' distinct counts)."""
    with db.read() as conn:
        points = conn.execute(sa.select(sa.func.sum(series_chunks.c.count))).scalar_one()
        kept = conn.execute(sa.select(sa.func.count()).select_from(summaries)).scalar_one()
        counts = set(conn.execute(sa.select(summaries.c.count)).scalars())
    return int(points), int(kept), counts


def test_a_batch_over_the_documented_key_limit_is_refused_as_too_large() -> None:
    wide = {**{f"k{i}": 1.0 for i in range(MAX_KEYS_PER_BATCH + 1)}, "_step": 0}
    with pytest.raises(BatchTooLarge, match="distinct metric keys"):
        validate([[0, "history", 0.0, wide]])
    split = [
        [i, "history", 0.0, {f"k{j}": 1.0 for j in range(i, MAX_KEYS_PER_BATCH + 1, 2)} | {"_step": i}]
        for i in (0, 1)
    ]
    assert len(validate(split[:1])) == len(validate(split[1:])) == 1, "each half passes"


def test_the_server_answers_413_and_the_uploader_splits_until_each_batch_fits(tmp_path: Path) -> None:
    # Two steps of 60,000 keys each, different ones: one batch carries 120,000 distinct keys, over the
    # limit; the
    # server says 413 payload_too_large and the real uploader halves its batches until they pass.
    import wakelog

    width = 60_000
    run = wakelog.init(mode="offline", dir=str(tmp_path), project="wide")
    for step in range(2):
        run.log({f"s{step}/k{i}": float(step) for i in range(width)})
    run_dir = Path(run.run_dir)
    run.finish()
    with InProcessServer(tmp_path / "data") as server:
        with server.client() as http:
            rows = [[0, "run", 0.0, {"id": "direct"}]] + [
                [seq, "history", 0.0, {f"s{seq}/k{i}": 1.0 for i in range(width)} | {"_step": seq}]
                for seq in (1, 2)
            ]
            answer = http.post(
                "/api/v1/runs/admin/wide/direct/records",
                content=msgspec.msgpack.encode(rows),
                headers={"Content-Type": "application/msgpack"},
            )
            assert (answer.status_code, answer.json().get("code")) == (413, "payload_too_large"), answer.text
        state = upload(server, run_dir, entity="admin")
        assert state.complete
        with server.client() as http:
            summary = http.get(f"/api/v1/runs/admin/wide/{run.id}").json()["summary"]
    assert len([k for k in summary if k.startswith(("s0/", "s1/"))]) == 2 * width
