"""Error answers: one body shape ``{"detail", "code"}`` for every kind, codes the schema publishes,
and async routes that leave database and blob work to the thread pool.

In process: the app from ``create_app`` driven by Starlette's ``TestClient``.
"""

from __future__ import annotations

import asyncio
import builtins
import errno
import hashlib
import inspect
import io
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path

with warnings.catch_warnings():  # this Starlette would rather have httpx2, which we do not use
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from wakelog.server.app import create_app
from wakelog.server.config import ServerConfig
from wakelog.server.errors import ErrorCode, InternalError, ServerError
from wakelog.server.handlers import translate
from wakelog.server.serve import prepare
from wakelog.store.database import SchemaError

MAX_BODY = 4096
RUN = "admin/proj/run1"
CODES = {code.value for code in ErrorCode}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    config = ServerConfig(data_dir=tmp_path_factory.mktemp("server"), max_body_bytes=MAX_BODY)
    prepare(config)
    app = create_app(config)

    def boom() -> None:
        raise RuntimeError("secret internals")

    app.router.routes.insert(0, APIRoute("/api/v1/boom", boom, include_in_schema=False))
    return app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    key = (app.state.config.data_dir / "admin.key").read_text().strip()
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        pack = msgspec.msgpack.encode
        files = [[0, "run", 1.0, {}], [1, "files", 1.0, {"files": [{"name": "later.txt"}]}]]
        assert client.post(f"/api/v1/runs/{RUN}/records", content=pack(files)).status_code == 200
        yield client


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: (what, method, path, request keyword arguments, status, code): one failing request of each kind.
CASES: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    ("no credentials", "GET", "/api/v1/projects", {"headers": {"Authorization": ""}}, 401, "unauthorized"),
    ("wrong sign-in", "POST", "/api/v1/auth/login", {"json": {"api_key": "wk_nope"}}, 401, "bad_credentials"),
    ("sign-in not JSON", "POST", "/api/v1/auth/login", {"content": b"x"}, 415, "unsupported_media_type"),
    ("sign-in shape", "POST", "/api/v1/auth/login", {"json": {}}, 422, "validation_failed"),
    ("body shape", "POST", "/api/v1/keys", {"json": {"name": 5}}, 422, "validation_failed"),
    (
        "query type",
        "GET",
        "/api/v1/projects/admin/proj/runs",
        {"params": {"limit": "x"}},
        422,
        "validation_failed",
    ),
    ("unknown project", "GET", "/api/v1/projects/admin/nope", {}, 404, "not_found"),
    ("unknown API path", "GET", "/api/v1/nope", {}, 404, "not_found"),
    ("file not uploaded", "GET", f"/api/v1/runs/{RUN}/files/later.txt", {}, 404, "not_uploaded"),
    ("wrong method", "POST", "/somewhere", {}, 405, "method_not_allowed"),
    ("bad path part", "GET", "/api/v1/projects/admin/a%20b", {}, 400, "invalid_request"),
    (
        "bad run id to ingest",
        "POST",
        "/api/v1/runs/admin/p/a%20b/records",
        {"content": b"\x90"},
        400,
        "invalid_request",
    ),
    ("NUL in the URL", "GET", "/api/v1/projects", {"params": {"entity": "\x00"}}, 400, "invalid_request"),
    (
        "bad format",
        "GET",
        f"/api/v1/runs/{RUN}/history",
        {"params": {"format": "xml"}},
        400,
        "invalid_request",
    ),
    (
        "bad history axis",
        "GET",
        f"/api/v1/runs/{RUN}/system",
        {"params": {"x_axis": "loss"}},
        400,
        "invalid_request",
    ),
    ("bad blob address", "GET", f"/api/v1/runs/{RUN}/blobs/xyz", {}, 400, "invalid_request"),
    ("malformed batch", "POST", f"/api/v1/runs/{RUN}/records", {"content": b"\xc1"}, 400, "invalid_request"),
    (
        "batch too large",
        "POST",
        f"/api/v1/runs/{RUN}/records",
        {"content": b"0" * (MAX_BODY + 1)},
        413,
        "payload_too_large",
    ),
    (
        "sequence gap",
        "POST",
        f"/api/v1/runs/{RUN}/records",
        {"content": msgspec.msgpack.encode([[9, "config", 1.0, {}]])},
        409,
        "sequence_gap",
    ),
    (
        "chunk at the wrong offset",
        "PUT",
        f"/api/v1/runs/{RUN}/blobs/{_sha(b'abcd')}",
        {"params": {"offset": 2, "total": 4}, "content": b"cd"},
        409,
        "chunk_rejected",
    ),
    (
        "content not uploaded",
        "POST",
        f"/api/v1/runs/{RUN}/files",
        {"json": {"files": [{"name": "a.txt", "sha256": _sha(b"never"), "size": 5}]}},
        409,
        "blob_missing",
    ),
    (
        "bad filter",
        "GET",
        "/api/v1/projects/admin/proj/runs",
        {"params": {"filter": "config.lr <"}},
        400,
        "invalid_filter",
    ),
    (
        "bad order",
        "GET",
        "/api/v1/projects/admin/proj/runs",
        {"params": {"order": "-nope"}},
        400,
        "invalid_filter",
    ),
    ("delete yourself", "DELETE", "/api/v1/users/admin", {}, 409, "conflict"),
    ("user exists", "POST", "/api/v1/users", {"json": {"username": "admin"}}, 409, "conflict"),
    ("unknown user", "DELETE", "/api/v1/users/nobody", {}, 404, "not_found"),
    ("bad username", "POST", "/api/v1/users", {"json": {"username": "A B"}}, 400, "invalid_request"),
    ("a bug", "GET", "/api/v1/boom", {}, 500, "internal_error"),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_kind_of_error_answers_its_status_and_code(
    client: TestClient, method: str, path: str, kwargs: dict[str, Any], status: int, code: str
) -> None:
    response = client.request(method, path, **kwargs)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert response.json()["detail"]


def test_error_bodies_keep_what_clients_read(client: TestClient) -> None:
    """The uploader reads ``ack`` and ``received``, the web app ``position`` and ``expected``, and
    the headers stay; internals never leak."""
    gap = client.post(f"/api/v1/runs/{RUN}/records", content=msgspec.msgpack.encode([[9, "config", 1.0, {}]]))
    assert gap.json()["detail"].startswith("records must continue from seq")
    assert isinstance(gap.json()["ack"], int)
    chunk = client.put(
        f"/api/v1/runs/{RUN}/blobs/{_sha(b'abcd')}", params={"offset": 2, "total": 4}, content=b"cd"
    )
    assert chunk.json()["received"] == 0
    bad = client.get("/api/v1/projects/admin/proj/runs", params={"order": "-nope"})
    assert bad.json()["detail"].startswith("bad order at position 1: unknown field 'nope'")
    assert bad.json()["position"] == 1 and bad.json()["expected"]
    anonymous = client.get("/api/v1/projects", headers={"Authorization": ""})
    assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="wakelog"'
    assert client.post("/somewhere").headers["Allow"] == "GET, HEAD"
    assert client.get("/api/v1/boom").json() == {"detail": "Internal Server Error", "code": "internal_error"}


def test_repeated_failed_sign_ins_are_rate_limited(client: TestClient) -> None:
    for _ in range(50):
        response = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "wrong-password"})
        if response.status_code == 429:
            break
    assert response.json()["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


def test_a_cookie_write_without_the_csrf_token_is_refused(client: TestClient, app: FastAPI) -> None:
    key = client.headers["Authorization"].split()[1]
    browser = TestClient(app)
    assert browser.post("/api/v1/auth/login", json={"api_key": key}).status_code == 200
    response = browser.post("/api/v1/keys", json={"name": "x"})
    assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), 507, "insufficient_storage"),
        (SchemaError("run `wakelog server upgrade`"), 503, "service_unavailable"),
        (OSError(errno.EACCES, "Permission denied"), 500, "internal_error"),
        (KeyError("secret"), 500, "internal_error"),
    ],
)
def test_lower_layer_errors_translate_to_server_errors(exc: Exception, status: int, code: str) -> None:
    error = translate(exc)
    assert (error.status, error.code.value) == (status, code)
    if isinstance(error, InternalError):
        assert "secret" not in str(error.body())


def test_every_server_error_class_has_a_listed_code() -> None:
    def subclasses(cls: type[ServerError]) -> Iterator[type[ServerError]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    assert {cls.code.value for cls in subclasses(ServerError)} == CODES


def test_every_code_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "server.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \| \d{3} \|", docs, re.MULTILINE))
    assert documented == CODES


def test_the_schema_publishes_the_error_body_and_every_code(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    assert components["ErrorCode"]["enum"] == [code.value for code in ErrorCode]
    assert components["ErrorBody"]["properties"]["code"]["$ref"] == "#/components/schemas/ErrorCode"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            error = operation["responses"]["default"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)


# -- async routes leave blocking work to the thread pool ----------------------------------------
class _BlockingCalls:
    """Database statements and blob-store file opens made on the event loop's own thread."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.blob_opens = 0  # on any thread: that the watch sees the store's opens at all

    def statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _on_event_loop():
            self.found.append(f"SQL on the event loop: {statement.split(maxsplit=1)[0]} …")

    def watch_opens(self, monkeypatch: pytest.MonkeyPatch, blob_root: str) -> None:
        """Note the files opened under ``blob_root`` (``os.open`` and ``open``, which the blob store
        and fsspec use), for the test's duration. Not an audit hook: one stays for the rest of the
        process, and on CPython 3.11 a thread that starts while another runs an audit hook inside
        ``sys.settrace`` (coverage's, for each new thread) can die: "Cannot install a trace function
        while another trace function is being installed"."""
        for module, name in ((os, "open"), (builtins, "open"), (io, "open")):
            monkeypatch.setattr(module, name, self._noting(getattr(module, name), blob_root))

    def _noting(self, opener: Any, blob_root: str) -> Any:
        def noted(path: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(path, (str, os.PathLike)) and os.fspath(path).startswith(blob_root):
                self.blob_opens += 1
                if _on_event_loop():
                    self.found.append(f"blob file opened on the event loop: {path}")
            return opener(path, *args, **kwargs)

        return noted


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


_blocking = _BlockingCalls()


def _exercise_wandb_routes(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """The stock wandb client's routes (server/routes/wandb.py), called as it calls them."""
    upsert = (
        'mutation U { upsertBucket(input: {name: "wb1", modelName: "proj", entityName: "admin"}) '
        "{ inserted } }"
    )
    files = (
        'mutation F { createRunFiles(input: {entityName: "admin", projectName: "proj", runName: "wb1", '
        'files: ["a.txt"]}) { files { uploadUrl } } }'
    )
    assert client.post("/graphql", json={"query": upsert}).status_code == 200
    made = client.post("/graphql", json={"query": files}).json()["data"]["createRunFiles"]
    history = {"wandb-history.jsonl": {"offset": 0, "content": ['{"_step": 0, "x": 1}']}}
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/graphql", {"json": {"query": upsert}}),
        ("POST", "/files/admin/proj/wb1/file_stream", {"json": {"files": history}}),
        ("PUT", urlsplit(made["files"][0]["uploadUrl"]).path, {"content": b"data"}),
    ]
    for method, path, kwargs in calls:
        assert client.request(method, path, **kwargs).status_code < 400, (method, path)
    return calls


def _exercise_async_routes(client: TestClient, key: str) -> set[str]:
    """Call every async route once, successfully where it can be; the route names called."""
    called: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/api/v1/health", {}),
        (
            "POST",
            f"/api/v1/runs/{RUN}/records",
            {"content": msgspec.msgpack.encode([[2, "config", 2.0, {}]])},
        ),
        ("GET", f"/api/v1/runs/{RUN}/blobs/{_sha(b'data')}", {}),
        (
            "PUT",
            f"/api/v1/runs/{RUN}/blobs/{_sha(b'data')}",
            {"params": {"offset": 0, "total": 4}, "content": b"data"},
        ),
        (
            "POST",
            f"/api/v1/runs/{RUN}/blobs",
            {"content": bytes.fromhex(_sha(b"more")) + (4).to_bytes(8, "big") + b"more"},
        ),
        (
            "POST",
            f"/api/v1/runs/{RUN}/files",
            {"json": {"files": [{"name": "data.txt", "sha256": _sha(b"data"), "size": 4}]}},
        ),
        ("POST", "/api/v1/projects/admin/proj/history", {"json": {"runs": ["run1"], "keys": ["loss"]}}),
        ("PUT", "/api/v1/projects/admin/proj/workspace", {"json": {"panels": []}}),
        ("GET", "/api/v1/keys", {}),
        ("POST", "/api/v1/keys", {"json": {"name": "spare"}}),
        ("GET", "/api/v1/users", {}),
        ("POST", "/api/v1/users", {"json": {"username": "carol", "password": "long-enough-1"}}),
        ("POST", "/api/v1/users/carol/password", {"json": {"password": "long-enough-2"}}),
        ("POST", "/api/v1/entities", {"json": {"name": "team"}}),
        ("PUT", "/api/v1/entities/team/members/carol", {"json": {"role": "member"}}),
        ("GET", "/api/v1/entities/team/members", {}),
        ("PUT", "/api/v1/entities/team/quota", {"json": {"max_bytes": 10**9, "max_rows": None}}),
        ("PUT", "/api/v1/users/carol/quota", {"json": {"max_rows": 10**6}}),
        ("POST", "/api/v1/notifications/read", {"json": {"all": True}}),
        ("PUT", "/api/v1/notifications/settings", {"json": {"targets": [{"channel": "inapp"}]}}),
        ("PUT", "/api/v1/projects/admin/proj/subscription", {"json": {"targets": []}}),
        ("PUT", "/api/v1/projects/admin/proj/notification-settings", {"json": {"targets": []}}),
        ("POST", "/api/v1/projects/admin/proj/alert-rules", {"json": {"key": "loss", "op": ">", "value": 9}}),
        ("DELETE", "/api/v1/entities/team/members/carol", {}),
        ("DELETE", "/api/v1/users/carol", {}),
    ]
    for method, path, kwargs in called:
        assert client.request(method, path, **kwargs).status_code < 400, (method, path)
    config = {"method": "grid", "parameters": {"x": {"values": [1, 2]}}}
    made = client.post("/api/v1/projects/admin/proj/sweeps", json={"config": config})
    sweep = f"/api/v1/sweeps/admin/proj/{made.json()['id']}"
    agent = client.post(f"{sweep}/agents", json={"host": "h", "pid": 1}).json()["agent_id"]
    sweep_calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/v1/sweeps/validate", {"json": {"config": config}}),
        ("POST", f"{sweep}/agents/{agent}/heartbeat", {"json": {"running": []}}),
        ("POST", f"{sweep}/control", {"json": {"action": "pause"}}),
    ]
    for method, path, kwargs in sweep_calls:
        assert client.request(method, path, **kwargs).status_code < 400, (method, path)
    entries = {"data.txt": {"digest": "d", "sha256": _sha(b"data"), "size": 4}}
    artifact = {"name": "ds", "type": "dataset", "manifest": {"version": 1, "entries": entries}}
    artifact_calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/v1/projects/admin/proj/artifacts", {"json": artifact}),
        ("PUT", "/api/v1/artifacts/admin/proj/ds:v0/aliases", {"json": {"aliases": ["best"]}}),
        ("POST", f"/api/v1/runs/{RUN}/artifacts/used", {"json": {"artifact": "admin/proj/ds:best"}}),
        ("POST", "/api/v1/registry/admin/models/links", {"json": {"artifact": "admin/proj/ds:v0"}}),
    ]
    for method, path, kwargs in artifact_calls:
        assert client.request(method, path, **kwargs).status_code < 400, (method, path)
    manage_calls: list[tuple[str, str, dict[str, Any]]] = [
        ("PATCH", f"/api/v1/runs/{RUN}", {"json": {"tags": ["t"]}}),
        ("PATCH", "/api/v1/projects/admin/proj", {"json": {"description": "d"}}),
        (
            "POST",
            "/api/v1/projects/admin/proj/runs/bulk",
            {"json": {"action": "untag", "runs": ["run1"], "tags": ["t"]}},
        ),
        ("DELETE", f"/api/v1/runs/{RUN}", {}),
        ("POST", f"/api/v1/runs/{RUN}/restore", {}),
        ("POST", f"/api/v1/runs/{RUN}/stop", {}),
        (
            "POST",
            f"/api/v1/runs/{RUN}/records",
            {"content": msgspec.msgpack.encode([[3, "history", 3.0, {"_step": 0, "x": 1}]])},
        ),
        ("POST", f"/api/v1/runs/{RUN}/rewind", {"json": {"step": 0}}),
    ]
    for method, path, kwargs in manage_calls:
        assert client.request(method, path, **kwargs).status_code < 400, (method, path)
    thread = client.post(f"/api/v1/runs/{RUN}/threads", json={"body": "first"}).json()["id"]
    comment_calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"/api/v1/runs/{RUN}/threads/{thread}/comments", {"json": {"body": "second"}}),
        ("PATCH", f"/api/v1/runs/{RUN}/threads/{thread}", {"json": {"resolved": True}}),
    ]
    for method, path, kwargs in comment_calls:
        assert client.request(method, path, **kwargs).status_code < 400, (method, path)
    comment = client.get(f"/api/v1/runs/{RUN}/threads").json()[0]["comments"][0]["id"]
    edit = ("PATCH", f"/api/v1/runs/{RUN}/comments/{comment}", {"json": {"body": "edited"}})
    assert client.request(edit[0], edit[1], **edit[2]).status_code < 400
    report = (
        "/api/v1/reports/admin/proj/"
        + client.post("/api/v1/projects/admin/proj/reports", json={"title": "r"}).json()["id"]
    )
    on_report = client.post(f"{report}/threads", json={"body": "on a report"}).json()["id"]
    saved = {"title": "r", "description": "", "spec": {"blocks": []}, "base_version": 1}
    report_calls: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", report, {"json": saved}),
        ("POST", f"{report}/revert", {"json": {"version": 1}}),
        ("POST", f"{report}/duplicate", {"json": {}}),
        ("POST", f"{report}/threads/{on_report}/comments", {"json": {"body": "reply"}}),
        ("PATCH", f"{report}/threads/{on_report}", {"json": {"resolved": True}}),
    ]
    for method, path, kwargs in report_calls:
        assert client.request(method, path, **kwargs).status_code < 400, (method, path)
    report_comment = client.get(f"{report}/threads").json()[0]["comments"][0]["id"]
    report_edit = ("PATCH", f"{report}/comments/{report_comment}", {"json": {"body": "edited"}})
    assert client.request(report_edit[0], report_edit[1], **report_edit[2]).status_code < 400
    made_view = client.post("/api/v1/projects/admin/proj/views", json={"name": "v", "state": {"params": {}}})
    view_calls: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/v1/projects/admin/proj/views", {}),
        ("PATCH", f"/api/v1/projects/admin/proj/views/{made_view.json()['id']}", {"json": {"name": "w"}}),
    ]
    assert made_view.status_code == 201
    assert client.request(*view_calls[1][:2], **view_calls[1][2]).status_code == 200
    # A signed artifact download with a damaged token: refused after the key lookup it makes.
    download = ("GET", "/wandb/downloads/e30.bad", {})
    assert client.get(download[1]).status_code == 403
    called += _exercise_wandb_routes(client)
    called += [*view_calls, download]
    called += [
        *sweep_calls,
        *artifact_calls,
        *manage_calls,
        *comment_calls,
        edit,
        *report_calls,
        report_edit,
        ("POST", "/api/v1/projects/admin/proj/reports", {}),
        ("POST", f"{report}/threads", {}),
        ("POST", f"/api/v1/runs/{RUN}/threads", {}),
        ("POST", "/api/v1/projects/admin/proj/sweeps", {}),
        ("POST", f"{sweep}/agents", {}),
    ]
    prefix = client.get("/api/v1/keys").json()["keys"][-1]["prefix"]
    assert client.delete(f"/api/v1/keys/{prefix}").status_code == 204
    browser = TestClient(client.app)
    csrf = browser.post("/api/v1/auth/login", json={"api_key": key}).json()["csrf_token"]
    assert browser.get("/api/v1/auth/me").status_code == 200
    assert browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    names = {"login", "me", "logout", "revoke_key"}
    routes = _api_routes(client.app)
    for method, path, _ in called:
        names.add(next(name for name, methods, regex in routes if method in methods and regex.match(path)))
    return names


def _api_routes(app: Any, *, only_async: bool = False) -> list[tuple[str, set[str], re.Pattern[str]]]:
    """(name, methods, path pattern) of the app's API routes (of its async ones)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and (not only_async or inspect.iscoroutinefunction(route.endpoint)):
            found.append((route.name, route.methods, compile_path(context.path or route.path)[0]))
    return found


def test_async_routes_do_not_block_the_event_loop(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blocking call on the event loop stalls every other request; SQL and blob I/O belong in
    the thread pool (plain ``def`` routes and dependencies run there)."""
    _blocking.watch_opens(monkeypatch, str(Path(app.state.config.blob_root).resolve()))
    # The reader and the writer, each on its own: a listener on the Engine class would leave the
    # class's event flag set for every engine this process makes afterwards.
    engines = (app.state.db.engine, app.state.db._writer)
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", _blocking.statement)
    try:
        called = _exercise_async_routes(client, client.headers["Authorization"].split()[1])
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", _blocking.statement)
        monkeypatch.undo()
    assert _blocking.found == []
    assert _blocking.blob_opens, "the routes opened blob files, and the watch saw them"
    # Server-sent events only subscribe to the live hub; their access check is a plain def.
    streams = {"project_events", "run_events", "notification_events"}
    async_routes = {name for name, _, _ in _api_routes(app, only_async=True)}
    assert async_routes - streams <= called
