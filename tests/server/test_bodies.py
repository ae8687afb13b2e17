"""Request bodies under attack: nothing of a body is read before its sender is known, every body
is capped while it streams in, gzip is verified whole, ingest batches stay near what the uploader
sends (and the uploader never sends more), and API answers are neither sniffed nor cached.

The unauthenticated large-body check walks the app's route table, so a new route is covered
without being listed; it drives the ASGI app directly with a body that counts what was pulled.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from tests.harness import InProcessServer, record_offline_run, upload
from tests.server.conftest import hang_up_mid_body, http_scope
from wakelog._limits import MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_RECORD_BYTES, UPLOAD_BATCH_BYTES
from wakelog.runlog import RunLogWriter, read_runlog
from wakelog.runlog._format import HEADER_SIZE
from wakelog.runlog.writer import RecordTooLarge
from wakelog.server import body as body_module
from wakelog.server.body import UNAUTHENTICATED_BODY, gunzip
from wakelog.store.ingest import IngestError, decode_batch
from wakelog.transport.uploader import batch

RUN = "/api/v1/runs/admin/proj/run1"
CHUNK = 64 * 1024
HOSTILE_BODY = 50 * 1024 * 1024
#: Routes open to anyone, and what they answer a large body without credentials.
PUBLIC = {
    ("POST", "/api/v1/auth/login"): 413,
    ("GET", "/api/v1/health"): 200,
    ("GET", "/api/v1/shared/x"): 404,  # a report's share link: the token in the path is the key
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    server = InProcessServer(tmp_path_factory.mktemp("bodies") / "data")
    with server.client() as client:
        batch = [[0, "run", 1.0, {}], [1, "files", 1.0, {"files": [{"name": "page.html"}]}]]
        assert client.post(f"{RUN}/records", content=msgspec.msgpack.encode(batch)).status_code == 200
    yield server
    server.close()


# -- H1: nothing of an unauthenticated body is read, on any route ---------------------------
def _route_table(app: Any) -> list[tuple[str, str]]:
    """(method, path) for every route of the app, path parameters filled in; the web app's mount
    with the methods that may carry a body."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            path = re.sub(r"\{([^}:]+)(:[^}]+)?\}", "x", context.path or route.path)
            found += [(method, path) for method in sorted(route.methods) if method != "HEAD"]
        elif isinstance(route, Mount):
            found += [(method, route.path + "/index.html") for method in ("GET", "POST", "PUT")]
    return found


async def _send_hostile_body(app: Any, method: str, path: str) -> tuple[int, int]:
    """``method path`` with a 50 MB body streamed in chunks (no Content-Length) and no credentials;
    (status, bytes of the body the app pulled)."""
    pulled, status = 0, 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled >= HOSTILE_BODY:
            return {"type": "http.disconnect"}
        pulled += CHUNK
        return {"type": "http.request", "body": b"{" * CHUNK, "more_body": pulled < HOSTILE_BODY}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    headers = {"content-type": "application/json", "transfer-encoding": "chunked"}  # as HTTP/1.1 says it
    scope = http_scope(method, path, headers)
    await asyncio.wait_for(app(scope, receive, send), timeout=60)
    return status, pulled


def test_no_route_reads_an_unauthenticated_body(server: InProcessServer) -> None:
    """Every route of the route table answers a 50 MB body without credentials with 401 (public
    ones with their documented answer) having pulled at most what sign-in needs."""
    routes = _route_table(server.app)
    assert ("POST", "/api/v1/runs/x/x/x/files") in routes and (
        "POST",
        "/api/v1/projects/x/x/history",
    ) in routes

    async def all_routes() -> list[str]:
        problems = []
        for method, path in routes:
            expected = PUBLIC.get((method, path), 401 if path.startswith("/api/") else None)
            status, pulled = await _send_hostile_body(server.app, method, path)
            if (expected is not None and status != expected) or pulled > UNAUTHENTICATED_BODY + CHUNK:
                problems.append(f"{method} {path}: {status} after reading {pulled} bytes")
        return problems

    assert asyncio.run(all_routes()) == []


@pytest.mark.parametrize(
    "path",
    [f"{RUN}/records", "/graphql", "/files/admin/proj/run1/file_stream"],
    ids=["records", "graphql", "file_stream"],
)
def test_a_client_that_goes_away_mid_body_is_no_server_error(server: InProcessServer, path: str) -> None:
    """A client that hangs up halfway through its body (its own timeout, on a busy server) gets a
    4xx it will not read, and the app raises nothing: no 500, no traceback in the server's log."""
    credentials = httpx.BasicAuth("api", server.key).auth_flow(httpx.Request("POST", "http://test"))
    authorization = next(credentials).headers["authorization"]
    headers = {"content-type": "application/json", "authorization": authorization}
    assert hang_up_mid_body(server, "POST", path, headers) == 400


def test_routes_read_bodies_themselves_after_authentication(server: InProcessServer) -> None:
    """FastAPI reads a declared body parameter before any dependency runs (authentication
    included): no route declares one; bodies are read in the handler (server/body.py)."""
    routes = [context.original_route for context in iter_route_contexts(server.app.routes)]
    declared = [route.path for route in routes if isinstance(route, APIRoute) and route.body_field]
    assert declared == []


def test_json_bodies_are_still_documented_and_read(server: InProcessServer) -> None:
    with server.client() as client:
        schema = client.get("/api/v1/openapi.json").json()
        for path in (
            "/api/v1/runs/{entity}/{project}/{run_id}/files",
            "/api/v1/projects/{entity}/{project}/history",
        ):
            assert "application/json" in schema["paths"][path]["post"]["requestBody"]["content"]
        query = {"runs": ["run1"], "keys": ["loss"]}
        assert client.post("/api/v1/projects/admin/proj/history", json=query).status_code == 200
        answer = client.post(
            f"{RUN}/files", json={"files": [{"name": "a.txt", "sha256": "0" * 64, "size": 1}]}
        )
        assert answer.json()["code"] == "blob_missing"
        padded = b'{"files": [' + b" " * (2 * 1024 * 1024) + b"]}"
        answer = client.post(f"{RUN}/files", content=padded, headers={"Content-Type": "application/json"})
        assert (answer.status_code, answer.json()["code"]) == (413, "payload_too_large")


# -- M7: batches are capped near what the uploader sends ------------------------------------
def test_a_batch_over_the_cap_is_refused_before_it_is_decoded(server: InProcessServer) -> None:
    big = msgspec.msgpack.encode([[2, "config", 2.0, {"update": {"x": "y" * MAX_BATCH_BYTES}}]])
    with server.client() as client:
        for body, headers in ((big, {}), (gzip.compress(big, 1), {"Content-Encoding": "gzip"})):
            answer = client.post(f"{RUN}/records", content=body, headers=headers)
            assert (answer.status_code, answer.json()["code"]) == (413, "payload_too_large")
        many = msgspec.msgpack.encode([[2 + i, "config", 2.0, {}] for i in range(MAX_BATCH_RECORDS + 1)])
        answer = client.post(f"{RUN}/records", content=many)
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request")
        assert str(MAX_BATCH_RECORDS) in answer.json()["detail"]


def test_bodies_are_unpacked_and_parsed_off_the_event_loop(server: InProcessServer) -> None:
    """A large body costs CPU; that cost stays in the thread pool, where it stalls nobody else."""
    watched = {
        f.__code__: f.__qualname__
        for f in (decode_batch, gunzip, body_module.parse_json, body_module._json_object)
    }
    on_loop: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in watched and _on_event_loop():
            on_loop.append(watched[frame.f_code])

    records = msgspec.msgpack.encode([[2, "config", 2.0, {"update": {"w": 1}}]])

    async def requests() -> int:  # the app on an event loop in this thread, which is profiled
        transport = httpx.ASGITransport(app=server.app)
        auth = ("api", server.key)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", auth=auth) as client:
            gzipped = gzip.compress(records)
            await client.post(f"{RUN}/records", content=gzipped, headers={"Content-Encoding": "gzip"})
            await client.post("/api/v1/projects/admin/proj/history", json={"runs": ["run1"], "keys": ["w"]})
            await client.put("/api/v1/projects/admin/proj/workspace", json={"panels": []})
            return int((await client.get(f"{RUN}/ack")).json()["ack"])

    sys.setprofile(profile)
    try:
        ack = asyncio.run(requests())
    finally:
        sys.setprofile(None)
    assert ack == 2
    assert on_loop == []


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_the_run_log_refuses_a_record_no_batch_could_carry(tmp_path: Path) -> None:
    writer = RunLogWriter(tmp_path / "run.wakelog")
    writer.append("config", {"update": {"fits": "x" * (MAX_RECORD_BYTES - 100)}}, 1.0)
    with pytest.raises(RecordTooLarge):
        writer.append("config", {"update": {"x": "x" * MAX_RECORD_BYTES}}, 1.0)
    assert writer.append("config", {}, 1.0) == 1  # the refused record took no sequence number
    writer.close()


def test_uploader_batches_stay_under_the_cap(tmp_path: Path) -> None:
    """A record larger than the uploader's read size, then more: each batch it would send fits."""
    path = tmp_path / "run.wakelog"
    writer = RunLogWriter(path)
    writer.append("config", {"update": {"big": "x" * (MAX_RECORD_BYTES - 100)}}, 1.0)
    for i in range(40):
        writer.append("summary", {"update": {f"s{i}": "y" * 200_000}}, 1.0)
    writer.close()
    offset, sent = HEADER_SIZE, 0
    while True:
        result = read_runlog(path, offset, max_bytes=UPLOAD_BATCH_BYTES)
        if not result.records:
            break
        records = batch(result.records, result.next_offset)
        body = msgspec.msgpack.encode([[r.seq, r.type, r.time, r.data] for r in records])
        assert len(body) <= MAX_BATCH_BYTES
        sent += len(records)
        following = result.records[len(records) :]
        offset = following[0].offset if following else result.next_offset
    assert sent == 41


def test_a_run_with_large_records_uploads_whole(server: InProcessServer, tmp_path: Path) -> None:
    """End to end: the real uploader's batches are all accepted by the capped server."""
    config = {f"part{i}": "x" * 1_000_000 for i in range(7)}  # one config record of 7 MB
    run_dir = record_offline_run(tmp_path, steps=3, project="big", config=config)
    state = upload(server, run_dir)
    with server.client() as client:
        run = client.get(f"/api/v1/runs/{state.run_path}").json()
    assert run["config"]["part6"] == config["part6"]
    assert state.acked_seq == state.last_seq


# -- L8: gzip is verified whole ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("damage", "detail"),
    [
        (lambda body: body[:-8], "cut off"),  # no CRC and length
        (lambda body: body[:-4], "cut off"),  # no length
        (lambda body: body[:-8] + b"\0" * 8, "not valid gzip"),  # wrong CRC
        (lambda body: body + b"more", "goes on"),
    ],
)
def test_damaged_gzip_is_refused(server: InProcessServer, damage: Any, detail: str) -> None:
    with server.client() as client:
        ack = client.get(f"{RUN}/ack").json()["ack"]
        body = gzip.compress(msgspec.msgpack.encode([[ack + 1, "config", 2.0, {"update": {"z": 1}}]]))
        answer = client.post(f"{RUN}/records", content=damage(body), headers={"Content-Encoding": "gzip"})
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request")
        assert detail in answer.json()["detail"]
        assert client.get(f"{RUN}/ack").json()["ack"] == ack  # nothing of it applied


# -- L7: API answers are neither sniffed nor cached -------------------------------------------
def test_api_answers_are_not_sniffed_or_cached(server: InProcessServer) -> None:
    with server.client() as client, server.anonymous() as anonymous:
        answers = [
            client.get("/api/v1/projects"),
            client.get(f"{RUN}/files"),
            client.get("/api/v1/runs/admin/proj/nope"),  # an error answer
            anonymous.get("/api/v1/projects"),  # 401
            anonymous.get("/api/v1/health"),
        ]
        for answer in answers:
            assert answer.headers["x-content-type-options"] == "nosniff", answer.url
            assert answer.headers["cache-control"] == "no-store", answer.url
        bundle = anonymous.get("/assets/none.js")
        assert bundle.headers.get("cache-control") != "no-store"


def test_downloads_keep_their_type_and_caching(server: InProcessServer) -> None:
    import hashlib

    data = b"<script>alert(1)</script>"
    sha = hashlib.sha256(data).hexdigest()
    with server.client() as client:
        client.put(f"{RUN}/blobs/{sha}", params={"offset": 0, "total": len(data)}, content=data)
        client.post(f"{RUN}/files", json={"files": [{"name": "page.html", "sha256": sha, "size": len(data)}]})
        answer = client.get(f"{RUN}/files/page.html")
    assert answer.content == data
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"].startswith("private")


def test_decoding_a_batch_leaves_the_garbage_collector_as_it_found_it() -> None:
    """The collector is paused while a batch decodes (it would cost more than the decoding), and
    running again afterwards, whether the batch was good or refused."""
    good = msgspec.msgpack.encode([[0, "run", 1.0, {}], [1, "history", 1.0, {"_step": 0, "x": 1.0}]])
    assert len(decode_batch(good)) == 2 and gc.isenabled()
    with pytest.raises(IngestError):
        decode_batch(b"\x93not a batch")
    assert gc.isenabled()
    gc.disable()
    try:
        decode_batch(good)
        assert not gc.isenabled(), "a collector someone else paused stays paused"
    finally:
        gc.enable()
