"""Series chunks are found through the primary key, never by a scan, on both backends; the project
list, the column picker and the run table's page rows read no project's runs one by one.

The statements the server runs on ``series_chunks`` — ingest's tail lookup, a chart, a zoom, a CSV
export — are captured as they execute, then the database's own planner is asked about each with its
parameters (EXPLAIN QUERY PLAN on SQLite; EXPLAIN on PostgreSQL with sequential scans priced out, so
a plan that can use the index does). On PostgreSQL, every statement that reads a chunk's ``sketch`` or
``data`` gets its results in binary format (a ``bytea`` in text travels hex-encoded, twice its size).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.harness import InProcessServer
from tests.server.conftest import post_records
from wakelog.server.sweeps.store import metric_histories
from wakelog.store.ingest._series import (
    EARLIER_UNNESTED,
    OPEN_ROWS_UNNESTED,
    TAILS_UNNESTED,
    UNION_EARLIER,
    UNION_OPEN_ROWS,
    UNION_TAILS,
    earlier_query,
    open_rows_query,
    tails_query,
)
from wakelog.store.series import CHUNK_POINTS

API = "/api/v1"
STEPS = 3 * CHUNK_POINTS  # several chunks per key: a full chart reads sketches, a zoom decodes chunks


@pytest.fixture(scope="module")
def run(server: InProcessServer) -> str:
    rows: list[Any] = [[0, "run", 1.0, {"id": "plans"}]]
    for start in range(0, STEPS, CHUNK_POINTS):
        rows += [
            [1 + s, "history", 1.0, {"a": float(s), "b": 2.0, "_step": s}]
            for s in range(start, start + CHUNK_POINTS)
        ]
    with server.client() as client:
        for start in range(0, len(rows), 5000):
            assert post_records(client, "admin/plans/plans", rows[start : start + 5000]).status_code == 200
    return "admin/plans/plans"


@contextlib.contextmanager
def captured(server: InProcessServer, table: str = "series_chunks") -> Iterator[list[tuple[str, Any]]]:
    """The statements on ``table`` the server runs meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if table in statement and not many:
            seen.append((statement, parameters))

    engine = server.app.state.db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


@contextlib.contextmanager
def result_formats(server: InProcessServer) -> Iterator[list[tuple[str, dict[str, int]]]]:
    """The statements on ``series_chunks`` the server runs meanwhile, each with the format its
    result columns came back in (psycopg's ``pgresult``: 0 text, 1 binary)."""
    seen: list[tuple[str, dict[str, int]]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "series_chunks" in statement and cursor.description:
            names = [column.name for column in cursor.description]
            seen.append((statement, {name: cursor.pgresult.fformat(i) for i, name in enumerate(names)}))

    engine = server.app.state.db.engine
    sa.event.listen(engine, "after_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "after_cursor_execute", note)


def plan(server: InProcessServer, statement: str, parameters: Any) -> str:
    with server.app.state.db.read() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(row.detail for row in rows)
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))


def assert_searches_the_key(server: InProcessServer, statement: str, parameters: Any) -> None:
    explained = plan(server, statement, parameters)
    if server.backend == "sqlite":
        assert "SCAN series_chunks" not in explained, (statement, explained)
        assert "INDEX sqlite_autoindex_series_chunks_1 (run_pk=?" in explained, (statement, explained)
    else:
        assert "Seq Scan" not in explained, (statement, explained)
        assert "using pk_series_chunks" in explained, (statement, explained)


@pytest.mark.parametrize("form", ["union", "arrays"])
@pytest.mark.parametrize("lookup", ["tails", "open rows", "earlier rows"])
def test_the_ingest_lookups_search_the_primary_key(
    server: InProcessServer, run: str, lookup: str, form: str
) -> None:
    """Ingest's statements (on the driver, so built here as ``store/ingest/_series.py`` runs them):
    each series' last chunk, found from the end of its key range, a join's open rows, and the rows
    before a closed chunk (from the end of their range); a ``UNION ALL`` of a branch per series, or
    on PostgreSQL for many series one statement over arrays."""
    if form == "arrays" and server.backend == "sqlite":
        pytest.skip("the arrays' statement is PostgreSQL's")
    with server.app.state.db.read() as conn:
        run_pk = conn.execute(sa.text("SELECT id FROM runs WHERE run_id = 'plans'")).scalar_one()
        dialect = conn.dialect
    builds = {"tails": tails_query, "open rows": open_rows_query, "earlier rows": earlier_query}
    arrays = {"tails": TAILS_UNNESTED, "open rows": OPEN_ROWS_UNNESTED, "earlier rows": EARLIER_UNNESTED}
    if form == "union":
        statement = builds[lookup](2)
        parameters = {
            "run": run_pk,
            "s0": 0,
            "k0": "a",
            "s1": 0,
            "k1": "b",
            "lo0": 0,
            "hi0": 15,
            "lo1": 0,
            "hi1": 15,
            "c0": 48,
            "c1": 48,
            "n": 3,
        }
    else:
        statement = arrays[lookup]
        parameters = {"run": run_pk, "s": [0, 0], "k": ["a", "b"], "lo": [0, 0], "hi": [15, 15]}
        parameters |= {"c": [48, 48], "n": 3}
    compiled = statement.compile(dialect=dialect)
    names = compiled.positiontup  # SQLite's ``?`` take them in order, psycopg's by name
    arguments = tuple(parameters[name] for name in names) if names else parameters
    explained = plan(server, compiled.string, arguments)
    assert_searches_the_key(server, compiled.string, arguments)
    if server.backend == "sqlite":
        assert explained.count("SEARCH series_chunks") == 2, explained
    elif lookup != "open rows":
        backward = explained.count("Index Scan Backward using pk_series_chunks")
        assert backward == (2 if form == "union" else 1), explained  # the arrays': once per element


@pytest.mark.parametrize(
    ("build", "most"),
    [(tails_query, UNION_TAILS), (open_rows_query, UNION_OPEN_ROWS), (earlier_query, UNION_EARLIER)],
)
def test_the_largest_union_psycopg_keeps_parsed_is_where_the_arrays_take_over(build: Any, most: int) -> None:
    """Up to ``most`` series the ``UNION ALL`` stays within psycopg's cache of parsed statements
    (its text at most 4 kB, its parameters at most 50); one more would be parsed at every batch."""
    from psycopg import _queries
    from sqlalchemy.dialects import postgresql

    def cached(count: int) -> bool:
        compiled = build(count).compile(dialect=postgresql.psycopg.dialect())
        return (
            len(compiled.string) <= _queries.MAX_CACHED_STATEMENT_LENGTH
            and len(compiled.params) <= _queries.MAX_CACHED_STATEMENT_PARAMS
        )

    assert cached(most) and not cached(most + 1)


@pytest.mark.parametrize(
    ("what", "path", "params"),
    [
        ("chart", "history", {"keys": ["a"], "points": 1000}),
        ("zoom", "history", {"keys": ["a", "b"], "points": 1000, "min_step": 100, "max_step": 9000}),
        ("export", "history/export", {"format": "csv"}),
    ],
)
def test_reads_search_the_primary_key(
    server: InProcessServer, run: str, what: str, path: str, params: dict[str, Any]
) -> None:
    with captured(server) as seen, server.client() as client:
        assert client.get(f"{API}/runs/{run}/{path}", params=params).status_code == 200
    assert seen, f"the {what} read no chunks"
    for statement, parameters in seen:
        assert_searches_the_key(server, statement, parameters)


def test_chunk_reads_come_back_in_binary_on_postgresql(server: InProcessServer, run: str) -> None:
    """A chart (sketches), a zoom and an export (data), an x axis zoom (the x key's sketches),
    ingest's tail lookup and a sweep's metric histories: each statement that reads ``sketch`` or
    ``data`` gets it in binary; the other columns and statements keep the text format."""
    if server.backend != "postgres":
        pytest.skip("binary results are PostgreSQL's")
    with result_formats(server) as seen, server.client() as client:
        for path, params in [
            ("history", {"keys": ["a"], "points": 1000}),
            ("history", {"keys": ["a", "b"], "points": 1000, "min_step": 100, "max_step": 9000}),
            ("history", {"keys": ["b"], "points": 100, "x_axis": "a", "x_min": 10.0, "x_max": 20.0}),
            ("history/export", {"format": "csv"}),
        ]:
            assert client.get(f"{API}/runs/{run}/{path}", params=params).status_code == 200
        batches = [[[0, "run", 1.0, {"id": "binary"}]]] + [
            [[seq, "history", 1.0, {"a": float(seq), "_step": seq}]] for seq in (1, 2)
        ]  # the second point's batch looks up (and rewrites) the open tail chunk
        for batch in batches:
            assert post_records(client, "admin/binary/binary", batch).status_code == 200
        with server.app.state.db.read() as conn:
            run_pk = conn.execute(sa.text("SELECT id FROM runs WHERE run_id = 'binary'")).scalar_one()
            assert metric_histories(conn, [run_pk], "a") == {run_pk: [1.0, 2.0]}
    packed = [(statement, formats) for statement, formats in seen if {"sketch", "data"} & set(formats)]
    assert {column for _, formats in packed for column in formats} >= {"sketch", "data"}
    assert len(packed) >= 6, [statement for statement, _ in packed]
    for statement, formats in packed:
        assert set(formats.values()) == {1}, (statement, formats)
    assert any(set(formats.values()) == {0} for _, formats in seen), "other reads stay in text"


def assert_no_scan_of(server: InProcessServer, table: str, statement: str, parameters: Any) -> str:
    explained = plan(server, statement, parameters)
    scan = f"SCAN {table}" if server.backend == "sqlite" else f"Seq Scan on {table}"
    assert scan not in explained.replace(f"{table}_", ""), (statement, explained)
    return explained


def test_the_project_list_and_the_column_picker_read_no_runs(server: InProcessServer, run: str) -> None:
    """The list's run counts are the maintained ones, its last activity one search of an index; the
    picker reads the project's key registry by its primary key."""
    with captured(server, "projects") as seen, server.client() as client:
        assert client.get(f"{API}/entities/admin/projects").status_code == 200
        assert client.get(f"{API}/projects/admin/plans/keys").status_code == 200
    listing = [(s, p) for s, p in seen if "live_run_count" in s]
    keys = [(s, p) for s, p in seen if "project_keys" in s]
    assert listing and keys
    for statement, parameters in listing:
        assert "count(" not in statement.lower(), statement
        explained = assert_no_scan_of(server, "runs", statement, parameters)
        assert "ix_runs_project_live_updated" in explained, explained
    for statement, parameters in keys:
        assert "runs" not in statement.replace("project_keys", ""), statement
        assert_no_scan_of(server, "project_keys", statement, parameters)


def test_a_run_table_page_reads_whole_rows_of_that_page_only(server: InProcessServer, run: str) -> None:
    """Without a filter nothing counts the runs (the total is maintained); the rows of the page are
    read by primary key."""
    with captured(server, "runs") as seen, server.client() as client:
        page = client.get(f"{API}/projects/admin/plans/runs", params={"order": "-summary.a"})
        assert page.status_code == 200 and page.json()["total"] == 1
    assert not [s for s, _ in seen if "OVER" in s or "count(" in s.lower()], seen
    whole = [(s, p) for s, p in seen if "runs.config" in s]
    assert len(whole) == 1
    explained = assert_no_scan_of(server, "runs", *whole[0])
    if server.backend == "sqlite":
        assert "USING INTEGER PRIMARY KEY" in explained, explained


def test_a_run_table_sorted_by_a_summary_key_walks_the_sort_index(server: InProcessServer) -> None:
    """Once a first sort by ``summary.a`` indexed it, a page sorted by it alone is read off the index
    range of the project's ``a`` rows in order, also after a cursor: no scan of the runs or the
    index, no sort of them (server/query/summary_sort.py)."""
    with server.client() as client:
        for i in range(3):
            records = [[0, "run", 1.0, {}], [1, "history", 1.0, {"a": float(i), "_step": 0}]]
            assert post_records(client, f"admin/walk/r{i}", records).status_code == 200
        assert client.get(f"{API}/projects/admin/walk/runs", params={"order": "summary.a"}).status_code == 200
    with captured(server, "sorted_summaries") as seen, server.client() as client:
        for order, expected in (("-summary.a", ["r2", "r1"]), ("summary.a", ["r0", "r1"])):
            params = {"order": order, "limit": 1}
            first = client.get(f"{API}/projects/admin/walk/runs", params=params).json()
            second = client.get(
                f"{API}/projects/admin/walk/runs", params={**params, "after": first["next_cursor"]}
            )
            assert [r["id"] for r in first["runs"] + second.json()["runs"]] == expected, second.text
    walks = [(s, p) for s, p in seen if "sorted_summaries.last IS NOT NULL" in s]
    assert len(walks) == 4, seen
    for i, (statement, parameters) in enumerate(walks):
        explained = assert_no_scan_of(server, "sorted_summaries", statement, parameters)
        assert_no_scan_of(server, "runs", statement, parameters)
        walk = next(line for line in explained.splitlines() if "ix_sorted_summaries_project_key_last" in line)
        if server.backend == "sqlite":
            assert "TEMP B-TREE" not in explained, explained
            bounds = walk
            assert "SEARCH runs USING INTEGER PRIMARY KEY" in explained, explained
        else:
            assert "Sort" not in explained, explained
            bounds = explained.split(walk, 1)[1].splitlines()[1]  # its Index Cond
        if i % 2:  # a page after a cursor starts the index range there
            assert "(last,run_pk)" in bounds or "ROW(last, run_pk)" in bounds, explained
