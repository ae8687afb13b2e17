"""Auth against a real server process: keys, sessions, CSRF, users, the CLI and the SDK's key lookup."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import wakelog
from tests.harness import FakeClock, InProcessServer
from tests.server.conftest import free_port
from wakelog.cli import main
from wakelog.sdk._login import api_key_for, credentials_file
from wakelog.server.keycache import KEY_CACHE_SECONDS, KeyCache

API = "/api/v1"
DENIED = {"detail": "authentication required", "code": "unauthorized"}


def anonymous(server: InProcessServer) -> httpx.Client:
    return server.anonymous()


def admin_password(server: InProcessServer) -> str:
    text = (server.data_dir / "admin-credentials.txt").read_text()
    return next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("password: "))


def make_user(server: InProcessServer, name: str, *, admin: bool = False) -> tuple[str, str]:
    """A new user through the API: ``(password, api key)``."""
    with server.client() as client:
        made = client.post(f"{API}/users", json={"username": name, "is_admin": admin})
        assert made.status_code == 201, made.text
        key = client.post(f"{API}/keys", json={"user": name, "name": "test"})
        assert key.status_code == 201, key.text
    return made.json()["password"], key.json()["key"]


@contextlib.contextmanager
def signed_in(server: InProcessServer, **credentials: str) -> Iterator[tuple[httpx.Client, str]]:
    """A client holding a session cookie, and the session's CSRF token."""
    with anonymous(server) as client:
        answer = client.post(f"{API}/auth/login", json=credentials)
        assert answer.status_code == 200, answer.text
        yield client, answer.json()["csrf_token"]


def assert_denied(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="wakelog"'
    assert response.json() == DENIED


def run_cli(*args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


# -- keys over HTTP ------------------------------------------------------------------------------
def test_health_needs_nothing_and_everything_else_needs_a_key(server: InProcessServer) -> None:
    with anonymous(server) as client:
        assert client.get(f"{API}/health").json()["status"] == "ok"
        for method, path in [
            ("GET", "/auth/me"),
            ("GET", "/keys"),
            ("POST", "/keys"),
            ("DELETE", "/keys/wk_abcdefgh"),
            ("GET", "/users"),
            ("POST", "/users"),
            ("POST", "/users/admin/password"),
            ("POST", "/auth/logout"),
            ("GET", "/runs/e/p/r/ack"),
            ("POST", "/runs/e/p/r/records"),
        ]:
            assert_denied(client.request(method, API + path, content=b"{}"))


def test_every_bad_credential_gets_the_same_answer(server: InProcessServer) -> None:
    _, doomed_key = make_user(server, "doomed")
    _, revoked_key = make_user(server, "revoker")
    with server.client(revoked_key) as client:
        assert client.delete(f"{API}/keys/{revoked_key[:11]}").status_code == 204
    with server.client() as admin:
        assert admin.get(f"{API}/auth/me", auth=("api", doomed_key)).status_code == 200
        assert admin.delete(f"{API}/users/doomed").status_code == 204
    with anonymous(server) as client:
        reference = client.get(f"{API}/keys")
        assert_denied(reference)
        headers = [
            {"Authorization": "Bearer wk_" + "x" * 40},  # well-formed, unknown
            {"Authorization": f"Bearer {server.key[:-1]}"},  # one character short
            {"Authorization": f"Bearer {revoked_key}"},
            {"Authorization": f"Bearer {doomed_key}"},  # its user is deleted
            {"Authorization": "Basic not-base64!"},
            {"Authorization": "Basic " + base64.b64encode(b"no colon here").decode()},
            {"Authorization": "Basic " + base64.b64encode(b"api:\xff\xfe").decode()},
            {"Authorization": "Basic"},
            {"Authorization": "Bearer"},
            {"Authorization": f"Token {server.key}"},
            {"Authorization": "Bearer wk_\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9".encode("latin-1")},
        ]
        for header in headers:
            answer = client.get(f"{API}/keys", headers=header)
            assert_denied(answer)
            assert answer.content == reference.content, header
        assert_denied(client.get(f"{API}/keys", auth=("api", doomed_key)))
        assert_denied(client.get(f"{API}/keys", auth=("api", "wk_\x00" + "a" * 40)))  # NUL: PostgreSQL
        assert_denied(client.get(f"{API}/keys", headers={"Cookie": "wakelog_session=forged"}))


def test_basic_and_bearer_both_work_and_use_is_recorded(server: InProcessServer) -> None:
    _, key = make_user(server, "both")
    with anonymous(server) as client:
        basic = client.get(f"{API}/auth/me", auth=("api", key))
        bearer = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {key}"})
    personal = [{"entity": "both", "role": "admin"}]  # every user administers their own entity
    assert basic.json() == bearer.json() == {"username": "both", "is_admin": False, "memberships": personal}
    with server.client(key) as client:
        listing = client.get(f"{API}/keys").json()["keys"]
    assert [k["prefix"] for k in listing] == [key[:11]]
    (entry,) = listing
    assert entry["last_used_at"] is not None and entry["revoked"] is False
    assert set(entry) == {"prefix", "name", "user", "created_at", "last_used_at", "revoked_at", "revoked"}
    assert key not in json.dumps(listing)


# -- the first start, sign-in and sessions ------------------------------------------------------
def test_admin_files_are_private_and_the_admin_password_signs_in(server: InProcessServer) -> None:
    for name in ("admin.key", "admin-credentials.txt"):
        assert stat.S_IMODE((server.data_dir / name).stat().st_mode) == 0o600, name
    assert server.key in (server.data_dir / "admin-credentials.txt").read_text()
    with anonymous(server) as client:
        answer = client.post(
            f"{API}/auth/login", json={"username": "admin", "password": admin_password(server)}
        )
    assert answer.status_code == 200
    assert answer.json()["user"] == {"username": "admin", "is_admin": True}
    cookie = answer.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert cookie.startswith("wakelog_session=")
    assert "httponly" in flags and flags["samesite"].lower() == "samesite=strict"
    assert flags["path"] == "Path=/" and "secure" not in flags  # plain http here
    log = server.log.read_text()
    assert "admin-credentials.txt" in log and admin_password(server) not in log


def test_cookie_writes_need_the_csrf_token(server: InProcessServer) -> None:
    with signed_in(server, api_key=server.key) as (client, csrf):
        me = client.get(f"{API}/auth/me").json()
        assert me == {
            "username": "admin",
            "is_admin": True,
            "memberships": [{"entity": "admin", "role": "admin"}],
            "csrf_token": csrf,
        }
        assert client.get(f"{API}/keys").status_code == 200  # reads need no token
        for headers in ({}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": "\xe9t\xe9".encode("latin-1")}):
            refused = client.post(f"{API}/keys", json={"name": "csrf"}, headers=headers)
            assert refused.status_code == 403, refused.text
        made = client.post(f"{API}/keys", json={"name": "csrf"}, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201 and made.json()["key"].startswith("wk_")
        # JSON only: a cross-site form (or a body without a type) cannot reach the handler
        form = client.post(f"{API}/keys", data={"name": "x"}, headers={"X-CSRF-Token": csrf})
        assert form.status_code == 415


def test_logout_ends_the_session(server: InProcessServer) -> None:
    with signed_in(server, username="admin", password=admin_password(server)) as (client, csrf):
        token = client.cookies["wakelog_session"]
        assert client.post(f"{API}/auth/logout").status_code == 403  # CSRF applies to logout too
        answer = client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 204 and 'wakelog_session=""' in answer.headers["set-cookie"]
    with anonymous(server) as client:
        assert_denied(client.get(f"{API}/auth/me", headers={"Cookie": f"wakelog_session={token}"}))


def test_sign_in_failures_say_nothing_and_slow_down(server: InProcessServer) -> None:
    make_user(server, "target")
    with anonymous(server) as client:
        login = f"{API}/auth/login"
        wrong = client.post(login, json={"username": "target", "password": "not-the-password"})
        unknown = client.post(login, json={"username": "nobody", "password": "not-the-password"})
        bad_key = client.post(login, json={"api_key": "wk_" + "y" * 40})
        assert wrong.status_code == unknown.status_code == bad_key.status_code == 401
        assert wrong.content == unknown.content == bad_key.content
        assert client.post(login, json={"username": "target"}).status_code == 422
        assert client.post(login, json={"api_key": server.key, "username": "admin"}).status_code == 422
        assert client.post(login, data={"api_key": server.key}).status_code == 415
        assert (
            client.post(
                login, content=b"x" * 100_000, headers={"content-type": "application/json"}
            ).status_code
            == 413
        )
        for _ in range(5):
            client.post(login, json={"username": "target", "password": "not-the-password"})
        throttled = client.post(login, json={"username": "target", "password": "not-the-password"})
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
        # other users are not held up
        assert client.post(login, json={"api_key": server.key}).status_code == 200


# -- users and keys ------------------------------------------------------------------------------
def test_only_admins_manage_users_and_others_keys(server: InProcessServer) -> None:
    bob_password, bob_key = make_user(server, "bob")
    admin_prefix = server.key[:11]
    with server.client(bob_key) as bob:
        assert bob.get(f"{API}/users").status_code == 403
        assert bob.post(f"{API}/users", json={"username": "eve"}).status_code == 403
        assert bob.delete(f"{API}/users/admin").status_code == 403
        assert bob.delete(f"{API}/keys/{admin_prefix}").status_code == 403
        assert bob.get(f"{API}/keys", params={"username": "admin"}).status_code == 403
        assert bob.post(f"{API}/keys", json={"user": "admin"}).status_code == 403
        password = f"{API}/users/admin/password"
        assert bob.post(password, json={"password": "hijacked-pass"}).status_code == 403
        # their own password: only with the current one
        own = f"{API}/users/bob/password"
        assert bob.post(own, json={"password": "bobs-new-pass"}).status_code == 403
        changed = bob.post(own, json={"password": "bobs-new-pass", "current_password": bob_password})
        assert changed.status_code == 204
        second = bob.post(f"{API}/keys", json={"name": "second"}).json()
        assert bob.delete(f"{API}/keys/{second['prefix']}").status_code == 204
        assert bob.get(f"{API}/auth/me").status_code == 200
    with server.client() as admin:
        assert admin.get(f"{API}/auth/me", auth=("api", server.key)).status_code == 200
        users = {u["username"]: u for u in admin.get(f"{API}/users").json()["users"]}
        assert users["bob"]["is_admin"] is False and "password" not in users["bob"]
        assert admin.post(f"{API}/users", json={"username": "bob"}).status_code == 409
        assert admin.post(f"{API}/users", json={"username": "Bad Name"}).status_code == 400
        assert admin.delete(f"{API}/users/admin").status_code == 409  # not yourself
        assert admin.delete(f"{API}/keys/{bob_key[:11]}").status_code == 204  # an admin may
        assert admin.delete(f"{API}/keys/wk_nothere").status_code == 404
        # odd characters never reach the database (PostgreSQL refuses NUL: that would be a 500);
        # a NUL anywhere in the URL is refused before routing
        assert admin.delete(f"{API}/keys/wk_%00abc").status_code == 400
        assert admin.delete(f"{API}/users/a%00b").status_code == 400
        assert admin.get(f"{API}/keys", params={"username": "a\x00b"}).status_code == 400
        assert admin.post(f"{API}/users/a%00b/password", json={"password": "long-enough"}).status_code == 400
        assert admin.post(f"{API}/keys", json={"name": "a\x00b"}).status_code == 400
        keys = admin.get(f"{API}/keys", params={"username": "bob"}).json()["keys"]
        assert {k["name"]: k["revoked"] for k in keys} == {"test": True, "second": True}
    with anonymous(server) as client:
        assert_denied(client.get(f"{API}/auth/me", auth=("api", bob_key)))
        ok = client.post(f"{API}/auth/login", json={"username": "bob", "password": "bobs-new-pass"})
        assert ok.status_code == 200


def test_cli_accounts_work_on_the_running_servers_database(server: InProcessServer) -> None:
    clock = FakeClock()
    server.app.state.key_cache = KeyCache(clock=clock)
    data = ["--data-dir", str(server.data_dir), "--backend-store", server.database_url]
    run_cli("user", "add", "dave", "--password-stdin", *data, input="daves-password\n")
    key = run_cli("key", "create", "--user", "dave", "--name", "ci", *data).strip()
    generated = run_cli("user", "add", "erin", "--admin", *data).strip()
    assert "dave" in run_cli("user", "list", *data)
    with anonymous(server) as client:
        assert client.get(f"{API}/auth/me", auth=("api", key)).json()["username"] == "dave"
        erin = client.post(f"{API}/auth/login", json={"username": "erin", "password": generated})
        assert erin.status_code == 200 and erin.json()["user"]["is_admin"] is True
        login = {"username": "dave", "password": "daves-password"}
        assert client.post(f"{API}/auth/login", json=login).status_code == 200
        run_cli("user", "passwd", "dave", "--password-stdin", *data, input="daves-new-password\n")
        assert client.post(f"{API}/auth/login", json=login).status_code == 401
        login["password"] = "daves-new-password"
        assert client.post(f"{API}/auth/login", json=login).status_code == 200
        assert "ci" in run_cli("key", "list", "--user", "dave", *data)
        run_cli("key", "revoke", key[:11], *data)  # beside the server: it learns within the key cache's time
        assert client.get(f"{API}/auth/me", auth=("api", key)).status_code == 200
        clock.sleep(KEY_CACHE_SECONDS)
        assert_denied(client.get(f"{API}/auth/me", auth=("api", key)))
    assert "revoked" in run_cli("key", "list", "--user", "dave", *data)
    for args in (
        ["user", "add", "dave"],
        ["key", "revoke", "wk_nothere"],
        ["key", "create", "--user", "zed"],
    ):
        failed = CliRunner().invoke(main, [*args, *data])
        assert (
            failed.exit_code == 1 and failed.output.startswith("Error: ") and "Traceback" not in failed.output
        )
    if server.backend == "sqlite":
        missing = CliRunner().invoke(main, ["user", "list", "--data-dir", str(server.data_dir / "nowhere")])
        assert missing.exit_code == 1 and "start `wakelog server` once" in missing.output


# -- the SDK side --------------------------------------------------------------------------------
def test_sdk_finds_the_local_admin_key_for_a_loopback_host(
    server: InProcessServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WAKELOG_SERVER_DATA_DIR", str(server.data_dir))
    assert api_key_for(server.url) == server.key
    assert api_key_for(f"http://localhost:{server.port}/") == server.key
    assert api_key_for(f"http://[::1]:{server.port}") == server.key
    assert api_key_for("http://gpu-box:8080") is None  # never sent to another machine
    assert wakelog.login(host=server.url) is True  # nothing to ask: the key is found
    with server.client(api_key_for(server.url)) as client:
        assert client.get(f"{API}/auth/me").json()["username"] == "admin"
    # a key file others can read is ignored
    loose = tmp_path / "loose"
    loose.mkdir()
    shutil.copy(server.data_dir / "admin.key", loose / "admin.key")
    (loose / "admin.key").chmod(0o644)
    monkeypatch.setenv("WAKELOG_SERVER_DATA_DIR", str(loose))
    assert api_key_for(server.url) is None


def test_wakelog_login_checks_the_key_with_the_server(server: InProcessServer) -> None:
    _, key = make_user(server, "frank")
    refused = CliRunner().invoke(main, ["login", "--host", server.url, "wk_" + "z" * 40])
    assert refused.exit_code == 1 and "rejected this API key" in refused.output
    assert not credentials_file().exists()
    stored = CliRunner().invoke(main, ["login", "--host", server.url, key])
    assert stored.exit_code == 0 and "warning" not in stored.output
    assert api_key_for(server.url) == key  # the stored key wins over the local admin key
    nobody = f"http://127.0.0.1:{free_port()}"
    offline = CliRunner().invoke(main, ["login", "--host", nobody, key])
    assert offline.exit_code == 0 and "warning: could not check the API key" in offline.stderr
    assert json.loads(credentials_file().read_text()) == {server.url: key, nobody: key}


def test_the_sign_in_throttle_doubles_caps_and_forgets() -> None:
    from wakelog.server.limits import FailureThrottle

    throttle = FailureThrottle(2, cap=8.0, forget=100.0, max_entries=4)
    for _ in range(2):
        throttle.failure("u", now=0.0)
    assert throttle.retry_after("u", now=0.0) == 0.0  # the free failures
    waits = []
    for _ in range(6):
        throttle.failure("u", now=10.0)
        waits.append(throttle.retry_after("u", now=10.0))
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert throttle.retry_after("u", now=200.0) == 0.0  # forgotten
    throttle.failure("u", now=200.0)
    assert throttle.retry_after("u", now=200.0) == 0.0  # counting again from zero
    for name in "abcdef":
        throttle.failure(name, now=300.0)
    assert len(throttle._state) <= 4
    throttle.success("f")
    assert throttle.retry_after("f", now=300.0) == 0.0


def test_no_route_forgets_authentication(server: InProcessServer) -> None:
    """Every operation in the OpenAPI schema but health, sign-in and a report's share link (its
    token is the key: test_reports.py) answers anonymous callers 401."""
    with server.client() as client:
        schema = client.get(f"{API}/openapi.json").json()
    with anonymous(server) as client:
        assert client.get(f"{API}/openapi.json").status_code == 401, "the schema too"
    checked = 0
    with anonymous(server) as client:
        for path, operations in schema["paths"].items():
            if path in (f"{API}/health", f"{API}/auth/login", f"{API}/shared/{{token}}"):
                continue
            url = re.sub(r"\{[^}]+\}", "x", path)
            for method in operations:
                if method in ("get", "post", "put", "patch", "delete"):
                    answer = client.request(method.upper(), url)
                    assert answer.status_code == 401, (method, path, answer.status_code)
                    assert answer.json() == DENIED
                    checked += 1
    assert checked >= 10
