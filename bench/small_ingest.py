"""Small-batch ingest: the server's CPU per live (small) ingest request.

    python bench/small_ingest.py [--quick] [--requests N] [--rows R] [--keys K] [--config-keys C]
                                 [--postgres | --backend-store URL]
    python bench/small_ingest.py --profile [--sort tottime] …
    python bench/small_ingest.py --postgres --statements …

``--requests`` ingest requests of ``--rows`` history rows × ``--keys`` keys each (defaults 10 × 5:
one second of a run logging 5 scalars at 10 steps/s, what a coalescing uploader sends; the run's
config set first, of ``--config-keys`` entries, default none) go one after
another to a real `wakelog server` process on loopback (SQLite in a temporary folder unless
``--backend-store`` names a PostgreSQL database, or ``--postgres`` a throwaway cluster). The figure is
the server process's CPU (user + system, /proc) per request: HTTP parsing, auth, permission, decoding
and checks, the transaction, the answer (PostgreSQL's own processes not counted); and how much of it
was the event loop's thread (HTTP, routing, auth, the answer) and how much the others' (the thread
pool's decoding and transaction, SQLite's checkpoints). For scale, the same
for ``GET /api/v1/health`` (the HTTP server's and the middleware's floor) is printed beside it.
``--against SRC`` compares with other code (``SRC``: a checkout's ``src`` folder, say a ``git worktree``
of the commit before): a server of each, fed the same batches in turn, ``BLOCK`` requests to one and
then to the other (which goes first alternates), so that the machine's changing speed falls on both
alike; it prints both figures and their ratio.
``--profile`` runs the app in this process instead (each request handed to it as ASGI, so that no
HTTP client is in the profile) and prints its cProfile (CPU time per thread), sorted by ``--sort``
(default: cumulative). ``--statements`` (with ``--postgres``) also prints PostgreSQL's own CPU per
request, statement by statement, from its ``log_statement_stats`` (which costs PostgreSQL a little
itself: read the shares, not the sum, against the figures without it).

Budget (DESIGN.md §4): ≤ 1 ms of server CPU per small request.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import cProfile
import gzip
import io
import pstats
import re
import tempfile
import threading
import time
from collections import Counter
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import httpx
import msgspec

from server_ingest import KEYS, cpu_seconds, start_server


def key_names(count: int) -> list[str]:
    """The bench's usual five keys, then ``metric_5``, ``metric_6``, … up to ``count``."""
    return [*KEYS, *(f"metric_{i}" for i in range(len(KEYS), count))][:count]


def config_entries(count: int) -> dict[str, Any]:
    """A run's config of ``count`` entries, about 80 bytes each (a detection model's flattened config
    has hundreds)."""
    return {
        f"model.backbone.layer_{i}.param": {"value": i * 0.37, "desc": f"setting {i}"} for i in range(count)
    }


def opening_records(run: dict[str, Any], now: float, config_keys: int) -> list[list[Any]]:
    """A run's first records: the run, then its config of ``config_keys`` entries if any."""
    records: list[list[Any]] = [[0, "run", now, run]]
    if config_keys:
        records.append([1, "config", now, {"update": config_entries(config_keys)}])
    return records


def bodies(requests: int, rows: int, keys: int = len(KEYS), config_keys: int = 0) -> list[bytes]:
    """The run's batches, encoded the way the uploader encodes them (the client's cost, not ours):
    ``opening_records``, then the rows."""
    encoder = msgspec.msgpack.Encoder()
    now = time.time()
    first = opening_records({"id": "small", "project": "bench"}, now, config_keys)
    out = [gzip.compress(encoder.encode(first), 1)]
    seq = len(first)
    for request in range(requests):
        records = []
        for row in range(rows):
            step = request * rows + row
            values = {key: 1.0 / (step + 1 + i) for i, key in enumerate(key_names(keys))}
            records.append([seq, "history", now, {**values, "_step": step, "_runtime": step * 0.1}])
            seq += 1
        out.append(gzip.compress(encoder.encode(records), 1))
    return out


class ThreadProfiles:
    """cProfile in every thread (the app runs sync routes and dependencies in a thread pool)."""

    def __init__(self, order: str) -> None:
        self.order = order
        self.profiles: list[cProfile.Profile] = []
        threading.setprofile(self._start)  # the pool's threads, as they start
        self._start()  # this one (the event loop's)

    def _start(self, *_: object) -> None:
        profile = cProfile.Profile(time.thread_time)  # CPU, not waiting
        self.profiles.append(profile)
        profile.enable()  # replaces this hook in that thread

    def print(self, lines: int) -> None:
        for profile in self.profiles:
            profile.disable()  # the main thread's (the others' end with their threads)
        pstats.Stats(*self.profiles).sort_stats(self.order).print_stats(lines)


HEADERS = {"Content-Encoding": "gzip", "Content-Type": "application/msgpack"}
URL = "/api/v1/runs/admin/bench/small/records"


def measure(url: str, key: str, pid: int, payloads: list[bytes], log: Path | None = None) -> dict[str, Any]:
    """The server process's CPU per ingest request, and per health check; with PostgreSQL's ``log``
    (its statement statistics on), PostgreSQL's CPU per request by statement too."""
    with httpx.Client(base_url=url, auth=("api", key), timeout=60) as http:
        http.post(URL, content=payloads[0], headers=HEADERS).raise_for_status()
        for _ in range(20):  # warm-up: connections, caches, the thread pool
            http.get("/api/v1/health").raise_for_status()
        start = cpu_seconds(pid)
        for _ in payloads[1:]:
            http.get("/api/v1/health").raise_for_status()
        health = (cpu_seconds(pid) - start) / (len(payloads) - 1)
        start, logged = cpu_seconds(pid), log.stat().st_size if log else 0
        loop_start = cpu_seconds(pid, pid)
        for body in payloads[1:]:
            http.post(URL, content=body, headers=HEADERS).raise_for_status()
        ingest = (cpu_seconds(pid) - start) / (len(payloads) - 1)
        loop = (cpu_seconds(pid, pid) - loop_start) / (len(payloads) - 1)
    result: dict[str, Any] = {"server_ms": 1000 * ingest, "loop_ms": 1000 * loop, "health_ms": 1000 * health}
    if log is not None:
        with log.open("rb") as file:
            file.seek(logged)
            result["statements"] = statement_cpu(file.read().decode(errors="replace"), len(payloads) - 1)
    return result


#: The line of PostgreSQL's log that starts an entry: a ``LOG`` line (its ``DETAIL`` and
#: ``STATEMENT`` lines follow it, each with a time stamp of its own).
_ENTRY = re.compile(r"^(?=\d{4}-\d\d-\d\d [^\n]*\] LOG:  )", re.M)
#: A statistics entry (``log_statement_stats``): its user and system CPU in seconds, and the
#: statement it was for (from the entry's STATEMENT line to its end).
_STATS = re.compile(r"LOG:  \w+(?: MESSAGE)? STATISTICS\n.*?!\s+([\d.]+) s user, ([\d.]+) s system", re.S)
_STATEMENT = re.compile(r"STATEMENT:  (.*)", re.S)


def statement_cpu(log: str, requests: int) -> dict[str, float]:
    """PostgreSQL's CPU per request (ms) by statement (its first 100 characters), from the log's
    statistics entries, most first; one without a statement is counted as "?"."""
    spent: Counter[str] = Counter()
    for entry in _ENTRY.split(log):
        stats = _STATS.search(entry.split("STATEMENT:  ", 1)[0]) if "STATISTICS" in entry else None
        if stats is None:
            continue
        statement = _STATEMENT.search(entry)
        text = " ".join(statement.group(1).split())[:100] if statement else "?"
        spent[text] += float(stats.group(1)) + float(stats.group(2))
    return {statement: 1000 * cpu / requests for statement, cpu in spent.most_common()}


def profile(backend_store: str | None, payloads: list[bytes], order: str) -> None:
    """The requests through the app in this process, profiled: each is handed to the app as ASGI
    (no HTTP client: the profile holds the server's work alone)."""
    from wakelog.server.app import create_app
    from wakelog.server.config import ServerConfig
    from wakelog.server.serve import prepare

    with tempfile.TemporaryDirectory() as tmp:
        config = ServerConfig(data_dir=Path(tmp), backend_store=backend_store, min_free_bytes=0)
        with redirect_stderr(io.StringIO()):
            prepare(config)
        key = (Path(tmp) / "admin.key").read_text().strip()
        profiles = ThreadProfiles(order)
        app = create_app(config)

        async def run() -> None:
            async with app.router.lifespan_context(app):
                for body in payloads:
                    await post(app, key, body)

        asyncio.run(run())
        profiles.print(60)


async def post(app: Any, key: str, body: bytes) -> None:
    """POST ``body`` to the run's records as ASGI; raises unless the app answers 200."""
    auth = base64.b64encode(f"api:{key}".encode())
    headers = [(name.lower().encode(), value.encode()) for name, value in HEADERS.items()]
    headers += [(b"authorization", b"Basic " + auth), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": URL,
        "raw_path": URL.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    answer: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client stays until the answer is sent
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        answer.append(message)

    await app(scope, receive, send)
    if answer[0]["status"] != 200:
        raise RuntimeError(f"{answer[0]['status']}: {answer[-1].get('body', b'').decode()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 requests")
    parser.add_argument("--requests", type=int)
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--keys", type=int, default=len(KEYS), help="scalars per row (default 5)")
    parser.add_argument("--config-keys", type=int, default=0, help="entries of the run's config (default 0)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (pstats: tottime, …)")
    parser.add_argument("--backend-store", help="a PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL cluster")
    parser.add_argument(
        "--statements", action="store_true", help="with --postgres: PostgreSQL's CPU per request by statement"
    )
    parser.add_argument("--against", metavar="SRC", help="compare with the code in SRC (a checkout's src)")
    args = parser.parse_args()
    if args.statements and not args.postgres:
        parser.error("--statements reads the throwaway cluster's log: add --postgres")
    if args.against and (args.profile or args.statements or args.backend_store):
        parser.error("--against runs two servers of their own: on SQLite, or on two databases of --postgres")
    requests = args.requests or (200 if args.quick else 1000)
    if args.against and requests < 2 * BLOCK:
        parser.error(f"--against sends {BLOCK} requests at a time to each server: ask for {2 * BLOCK}+")
    payloads = bodies(requests, args.rows, args.keys, args.config_keys)
    cluster, log = None, None
    if args.postgres:
        from load import postgres  # as the tests start one

        cluster, args.backend_store = postgres()
        if args.statements:
            log = log_statements(cluster, args.backend_store)
    try:
        if args.against:
            from load import database

            against = database(cluster, "against") if cluster is not None else None
            compare(args, payloads, [args.backend_store, against])
        else:
            run(args, requests, payloads, log)
    finally:
        if cluster is not None:
            cluster.stop()


def log_statements(cluster: Any, database: str) -> Path:
    """Have PostgreSQL log each statement's CPU in ``database`` (new sessions); returns its log."""
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        name = conn.info.dbname
        conn.execute(f'ALTER DATABASE "{name}" SET log_statement_stats = on')
    return Path(cluster.root) / "postgres.log"


#: Requests in a row to one server of a comparison (``--against``).
BLOCK = 50


def compare(args: argparse.Namespace, payloads: list[bytes], databases: list[str | None]) -> None:
    """This code's server against ``args.against``'s, each on its own database of ``databases``: the
    same batches, in blocks of ``BLOCK`` to one and then the other; each one's CPU per request."""
    servers: list[tuple[str, Any, httpx.Client]] = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        sides = (("this code", None, databases[0]), (args.against, args.against, databases[1]))
        for name, code, database in sides:
            extra = ["--backend-store", database] if database else []
            proc, url, key = start_server(Path(tmp) / f"server{len(servers)}", extra=extra, code=code)
            stack.callback(proc.wait)
            stack.callback(proc.terminate)
            http = stack.enter_context(httpx.Client(base_url=url, auth=("api", key), timeout=60))
            http.post(URL, content=payloads[0], headers=HEADERS).raise_for_status()
            servers.append((name, proc, http))
        spent = {name: [0.0, 0.0] for name, _, _ in servers}  # CPU, the event loop's
        blocks = range(1, len(payloads) - BLOCK + 1, BLOCK)
        for number, start in enumerate(blocks):
            for name, proc, http in servers if number % 2 else servers[::-1]:
                cpu, loop = cpu_seconds(proc.pid), cpu_seconds(proc.pid, proc.pid)
                for body in payloads[start : start + BLOCK]:
                    http.post(URL, content=body, headers=HEADERS).raise_for_status()
                spent[name][0] += cpu_seconds(proc.pid) - cpu
                spent[name][1] += cpu_seconds(proc.pid, proc.pid) - loop
    sent = len(blocks) * BLOCK
    backend = "PostgreSQL" if databases[0] else "SQLite"
    print(f"small ingest, {backend}, {sent} requests × {args.rows} rows × {args.keys} keys to each, in turn:")
    for name, (cpu, loop) in spent.items():
        cpu_ms, loop_ms = 1000 * cpu / sent, 1000 * loop / sent
        print(f"  {name}: {cpu_ms:.2f} ms server CPU per request (event loop {loop_ms:.2f} ms)")
    (mine, mine_loop), (theirs, theirs_loop) = spent.values()
    print(f"  this code / {args.against}: {mine / theirs:.3f}× (event loop {mine_loop / theirs_loop:.3f}×)")


def run(args: argparse.Namespace, requests: int, payloads: list[bytes], log: Path | None = None) -> None:
    if args.profile:
        profile(args.backend_store, payloads, args.sort)
        return
    with tempfile.TemporaryDirectory() as tmp:
        extra = ["--backend-store", args.backend_store] if args.backend_store else []
        proc, url, key = start_server(Path(tmp) / "server", extra=extra)
        try:
            result = measure(url, key, proc.pid, payloads, log)
        finally:
            proc.terminate()
            proc.wait()
    backend = "PostgreSQL" if args.backend_store else "SQLite"
    print(
        f"small ingest, {backend}, {requests} requests × {args.rows} rows × {args.keys} keys"
        f"{f', a config of {args.config_keys} entries' if args.config_keys else ''}: "
        f"{result['server_ms']:.2f} ms server CPU per request — budget ≤ 1 ms "
        f"({result['server_ms']:.2f}× budget); GET /health: {result['health_ms']:.2f} ms"
    )
    threads = result["server_ms"] - result["loop_ms"]
    print(f"  of which the event loop {result['loop_ms']:.2f} ms, the other threads {threads:.2f} ms")
    if "statements" in result:
        spent = result["statements"]
        print(f"PostgreSQL's CPU per request, by statement (total {sum(spent.values()):.3f} ms):")
        for statement, ms in list(spent.items())[:12]:
            print(f"  {ms:7.3f} ms  {statement}")


if __name__ == "__main__":
    main()
