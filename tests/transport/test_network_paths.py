"""What stands between the SDK's clients (the uploader's, ``Api``, the sweep agent's, login) and
the server, with nginx as installed playing each part:

* TLS with a certificate an internal CA signed: trusted through ``REQUESTS_CA_BUNDLE`` or
  ``CURL_CA_BUNDLE`` (what requests and curl read, and so what such teams have set) as through
  httpx's own ``SSL_CERT_FILE``; refused with a certificate error without any; a variable naming
  no bundle is an error naming it.
* A redirect (http to https, an old address): followed by none (the API key would go along),
  refused saying where it points.
* A page that is not the server's (a proxy asking to sign in): an error that says so, tried again
  by the uploader, never taken for an answer.
* A proxy the environment names: the way to other hosts, never to this machine's own server
  (``wakelog/_http.py``).
"""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from click.testing import CliRunner

import wakelog
from tests.harness import InProcessServer, nginx_in_front, record_offline_run
from wakelog.api import Api
from wakelog.cli import main
from wakelog.runlog import find_runlog
from wakelog.sdk._login import verify_key
from wakelog.sdk.artifacts import ArtifactError
from wakelog.server.config import ServerConfig
from wakelog.server.notify import senders
from wakelog.sweeps._client import SweepClient
from wakelog.transport.client import RejectedError, RetryableError, ServerClient

PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", *PROXIES)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    """An internal CA, and its certificate as a PEM file."""
    authority = trustme.CA()
    pem = tmp_path_factory.mktemp("ca") / "internal-ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    return authority, pem


@pytest.fixture(scope="module")
def https(ca: tuple[trustme.CA, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """nginx serving HTTPS with a certificate of the internal CA, in front of a server; its URL
    and the admin's key."""
    folder = tmp_path_factory.mktemp("https")
    leaf = ca[0].issue_cert("127.0.0.1", "localhost")
    cert, key = folder / "server.pem", folder / "server.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    with (
        InProcessServer(folder / "server") as server,
        nginx_in_front(server, folder / "nginx", (cert, key)) as url,
    ):
        yield url, server.key


@pytest.fixture(autouse=True)
def no_ca_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _ack(url: str, key: str) -> Any:
    client = ServerClient(url, key)
    try:
        return client.ack("team/tls/r1")
    finally:
        client.close()


def _viewer(url: str, key: str) -> Any:
    api = Api(api_key=key, overrides={"base_url": url})
    try:
        return api.viewer.username
    finally:
        api.close()


def _sweeps_user(url: str, key: str) -> Any:
    client = SweepClient(url, key)
    try:
        return client.username()
    finally:
        client.close()


CLIENTS: dict[str, Callable[[str, str], Any]] = {"uploader": _ack, "api": _viewer, "sweeps": _sweeps_user}


def _hashed_folder(pem: Path, folder: Path) -> Path:
    """A CA folder as OpenSSL reads one (``SSL_CERT_DIR``, a ``capath``): the certificate under its
    subject hash."""
    subject = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(pem)], check=True, capture_output=True, text=True
    ).stdout.strip()
    folder.mkdir(exist_ok=True)
    (folder / f"{subject}.0").write_bytes(pem.read_bytes())
    return folder


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "a folder"])
def test_an_internal_ca_is_trusted_as_the_environment_says(
    https: tuple[str, str],
    ca: tuple[trustme.CA, Path],
    client: str,
    variable: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url, key = https
    if variable == "a folder":
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(_hashed_folder(ca[1], tmp_path / "certs")))
    else:
        monkeypatch.setenv(variable, str(ca[1]))
    assert CLIENTS[client](url, key) in (-1, "admin")


def test_the_first_variable_set_is_the_bundle(
    https: tuple[str, str], ca: tuple[trustme.CA, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca[1]))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")  # not read: httpx's own is set
    assert _ack(*https) == -1


def test_without_the_ca_the_certificate_is_refused(https: tuple[str, str]) -> None:
    with pytest.raises(RetryableError, match="CERTIFICATE_VERIFY_FAILED"):
        _ack(*https)
    assert verify_key(*https)[0] is None


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
@pytest.mark.parametrize("bundle", ["missing", "empty"])
def test_a_variable_naming_no_bundle_is_an_error_naming_it(
    https: tuple[str, str], bundle: str, variable: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "ca.pem"
    if bundle == "empty":
        path.write_text("")
    monkeypatch.setenv(variable, str(path))
    with pytest.raises(ValueError, match=f"{variable}={path} is not a readable CA certificate bundle"):
        ServerClient(https[0], https[1])
    ok, why = verify_key(*https)
    assert ok is None and variable in why
    monkeypatch.setenv("WAKELOG_API_KEY", https[1])
    run_dir = record_offline_run(tmp_path / "runs", steps=2, project="tls")
    result = CliRunner().invoke(main, ["sync", "--host", https[0], str(run_dir)])
    assert result.exit_code != 0 and variable in result.output, result.output


def test_plain_http_reads_no_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A stale variable does not matter to a server on plain HTTP (a loopback one): nothing to
    verify, as requests does not read it there either."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "gone.pem"))
    with InProcessServer(tmp_path / "server") as server:
        assert _ack(server.url, server.key) == -1


def test_a_training_whose_bundle_is_unreadable_records_locally_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "gone.pem"))
    monkeypatch.setenv("WAKELOG_API_KEY", "any")
    with pytest.warns(RuntimeWarning, match=r"REQUESTS_CA_BUNDLE=.*recorded locally only.*wakelog sync"):
        run = wakelog.init(project="tls", mode="online", settings={"base_url": "https://wakelog.internal"})
    assert run._uploader is None
    run.log({"loss": 1.0})
    run.finish()
    assert find_runlog(run.run_dir) is not None


def test_the_servers_webhooks_trust_the_internal_ca_too(
    https: tuple[str, str], ca: tuple[trustme.CA, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A webhook to an internal HTTPS endpoint: with the bundle set, TLS holds and the endpoint's
    own answer decides (here a 404: no route takes a POST there); without it, the certificate."""
    message = {
        "level": "INFO",
        "title": "t",
        "text": "x",
        "run": {"entity": "e", "project": "p", "run_id": "r"},
    }
    target = {"url": f"{https[0]}/api/v1/health", "format": "json"}
    config = ServerConfig(data_dir=tmp_path)
    with pytest.raises(senders.DeliveryFailed, match="CERTIFICATE_VERIFY_FAILED"):
        senders.send_webhook(config, target, message, 0.0)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca[1]))
    with pytest.raises(senders.DeliveryFailed, match="HTTP 404"):
        senders.send_webhook(config, target, message, 0.0)


REDIRECT = "return 301 https://wakelog.example.invalid$request_uri;"
PORTAL = "default_type text/html; return 200 '<html><body>Sign in to continue</body></html>';"


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path_factory.mktemp("plain") / "server") as server:
        yield server


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize(
    ("location", "said", "passes"),
    [
        (
            REDIRECT,
            r"answered 301, redirecting to https://wakelog\.example\.invalid/.*set the server URL",
            False,
        ),
        (PORTAL, "answered 200 with text/html, not the wakelog server's JSON.*sign in", True),
    ],
    ids=["redirect", "sign-in page"],
)
def test_an_answer_that_is_not_the_servers_is_an_error_saying_what_it_was(
    plain_server: InProcessServer, client: str, location: str, said: str, passes: bool, tmp_path: Path
) -> None:
    """Never taken for the server's answer, nor a login for a verified key. The uploader tries
    again after a page (a sign-in passes), not after a redirect (a setting to fix)."""
    with nginx_in_front(plain_server, tmp_path / "nginx", location=location) as url:
        with pytest.raises(Exception, match=said) as caught:
            CLIENTS[client](url, plain_server.key)
        ok, why = verify_key(url, plain_server.key)
    assert ok is None and re.search(said, why)
    if client == "uploader":
        assert isinstance(caught.value, RetryableError) is passes


def test_another_json_service_at_the_server_url_stops_the_upload_saying_so(
    plain_server: InProcessServer, tmp_path: Path
) -> None:
    """A JSON answer without what the uploader reads (another service on the port) is a refusal
    that says so, not a ``KeyError`` that ended the uploader."""
    other = 'default_type application/json; return 200 \'{"status": "ok"}\';'
    (tmp_path / "notes.txt").write_text("kept")
    with nginx_in_front(plain_server, tmp_path / "nginx", location=other) as url:
        client = ServerClient(url, plain_server.key)
        try:
            for call in (
                lambda: client.ack("team/other/r1"),
                lambda: client.send_records("team/other/r1", []),
                lambda: client.upload_file("team/other/r1", tmp_path / "notes.txt"),
            ):
                with pytest.raises(
                    RejectedError, match="answered without (ack|received): is it a wakelog server"
                ):
                    call()
        finally:
            client.close()


def test_sync_through_a_redirect_says_which_url_to_use(
    plain_server: InProcessServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WAKELOG_API_KEY", plain_server.key)
    monkeypatch.setenv("COLUMNS", "400")  # the message on one line
    run_dir = record_offline_run(tmp_path / "runs", steps=2, project="moved")
    with nginx_in_front(plain_server, tmp_path / "nginx", location=REDIRECT) as url:
        result = CliRunner().invoke(main, ["sync", "--host", url, str(run_dir)])
    assert result.exit_code == 1, result.output
    assert "redirecting to https://wakelog.example.invalid/" in result.output
    assert "wakelog sync" in result.output  # the run stays, to sync once the URL is right


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again: nothing listens there


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_this_machines_server_is_reached_past_a_proxy_set_for_elsewhere(
    plain_server: InProcessServer, client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine that reaches the internet through a proxy (``http_proxy`` in the environment, as
    many have) still talks to its own ``wakelog server``: a proxy elsewhere cannot reach it."""
    proxy = f"http://127.0.0.1:{_dead_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):
        monkeypatch.setenv(name, proxy)
    for url in (plain_server.url, plain_server.url.replace("127.0.0.1", "localhost")):
        assert CLIENTS[client](url, plain_server.key) in (-1, "admin")
        assert verify_key(url, plain_server.key)[0] is True


def test_other_hosts_are_reached_through_the_proxy_the_environment_names(
    plain_server: InProcessServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """nginx as the forward proxy of plain HTTP: ``wakelog.test`` resolves nowhere, so only the
    proxy can take the requests there (to the server)."""
    with nginx_in_front(plain_server, tmp_path / "nginx") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)
        assert _ack("http://wakelog.test", plain_server.key) == -1
        monkeypatch.setenv("NO_PROXY", "wakelog.test")
        with pytest.raises(RetryableError, match="cannot reach http://wakelog.test"):
            _ack("http://wakelog.test", plain_server.key)


def test_an_artifact_reference_on_an_internal_https_host_trusts_its_ca(
    https: tuple[str, str], ca: tuple[trustme.CA, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"{https[0]}/api/v1/health"
    with pytest.raises(ArtifactError, match="CERTIFICATE_VERIFY_FAILED"):
        wakelog.Artifact("refs", "dataset").add_reference(uri)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca[1]))
    (entry,) = wakelog.Artifact("refs", "dataset").add_reference(uri)
    assert entry.ref == uri and entry.size  # reached and read (its size)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    with pytest.raises(ArtifactError, match="REQUESTS_CA_BUNDLE=/nonexistent/ca.pem"):
        wakelog.Artifact("refs", "dataset").add_reference(uri)
