"""How ``wakelog server`` serves the web app: the bundle, the client-side routes, never /api/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import ServerProcess, start_server
from wakelog.server.routes.web import STATIC_DIR


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    running = start_server(tmp_path_factory.mktemp("static"))
    yield running
    running.stop()


def test_the_bundle_is_built_into_the_package() -> None:
    assert (STATIC_DIR / "index.html").is_file()
    assert (STATIC_DIR / "assets" / "app.js").is_file()


CLIENT_ROUTES = ["/", "/team/proj", "/team/proj/runs/abc123", "/settings", "/team/proj/compare"]


@pytest.mark.parametrize("path", CLIENT_ROUTES)
def test_client_routes_get_the_app(server: ServerProcess, path: str) -> None:
    answer = httpx.get(server.url + path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert '<div id="root">' in answer.text
    assert answer.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_assets_are_served_with_validators(server: ServerProcess) -> None:
    answer = httpx.get(server.url + "/assets/app.js")
    assert answer.status_code == 200
    assert "javascript" in answer.headers["content-type"]
    assert answer.headers["cache-control"] == "no-cache"
    again = httpx.get(server.url + "/assets/app.js", headers={"if-none-match": answer.headers["etag"]})
    assert again.status_code == 304


def test_a_missing_asset_is_a_404_not_the_app(server: ServerProcess) -> None:
    answer = httpx.get(server.url + "/assets/nope.js")
    assert answer.status_code == 404
    assert '<div id="root">' not in answer.text


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api", "/api/v2/projects"])
def test_unknown_api_paths_stay_json_404s(server: ServerProcess, path: str) -> None:
    answer = httpx.get(server.url + path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"


def test_api_routes_are_not_shadowed(server: ServerProcess) -> None:
    assert httpx.get(server.url + "/api/v1/health").json()["status"] == "ok"
    with server.client() as http:
        assert http.get("/api/v1/openapi.json").status_code == 200
    assert httpx.get(server.url + "/api/v1/projects").status_code == 401


def test_writes_to_app_paths_are_refused(server: ServerProcess) -> None:
    assert httpx.post(server.url + "/team/proj").status_code == 405


def test_the_web_apps_requests_get_no_basic_auth_challenge(server: ServerProcess) -> None:
    # A Basic challenge would make the browser show its own password dialog over the sign-in page.
    assert "www-authenticate" in httpx.get(server.url + "/api/v1/auth/me").headers
    quiet = httpx.get(server.url + "/api/v1/auth/me", headers={"X-Requested-With": "wakelog-web"})
    assert quiet.status_code == 401
    assert "www-authenticate" not in quiet.headers


def test_the_committed_bundle_names_only_files_that_exist() -> None:
    index = (STATIC_DIR / "index.html").read_text()
    for name in ("/assets/app.js", "/assets/index.css"):
        assert name in index
        assert (STATIC_DIR / Path(name).relative_to("/")).is_file()
