"""Alerts and notifications end to end: ingest makes them, the dispatcher delivers them to real
protocol servers on loopback (an SMTP sink, an HTTP webhook receiver), with retries and backoff.

The server runs without its background dispatcher (``delivery_poll_seconds=0``) and with a fake
clock, so each test steps ``app.state.dispatcher`` itself and moves time on by hand.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tests._env import child_env
from tests.harness import EventStream, FakeClock, InProcessServer
from tests.server.conftest import BACKENDS, free_port, post_records, start_backend_server
from wakelog.server.config import ServerConfig
from wakelog.server.notify import senders
from wakelog.server.notify.dispatcher import CRASH_LOOKBACK
from wakelog.store.schema import outbox, runs

API = "/api/v1"


# -- the receivers ----------------------------------------------------------------------------------
@dataclass
class Receiver:
    """A loopback HTTP server: ``/ok`` takes every call, ``/fail`` answers 500 ``failures`` times
    first, ``/hang`` holds each call until ``release`` is set; ``calls`` has (path, query, body)."""

    calls: list[tuple[str, dict[str, list[str]], Any]] = field(default_factory=list)
    failures: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    hanging: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def of(self, path: str) -> list[Any]:
        return [body for where, _, body in self.calls if where == path]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            receiver.calls.append((parts.path, parse_qs(parts.query), body))
            if parts.path == "/hang":
                receiver.hanging.set()
                receiver.release.wait(60)
                return
            if parts.path == "/fail" and receiver.failures > 0:
                receiver.failures -= 1
                self.send_response(500)
                self.end_headers()
                return
            answer = b'{"code": 0, "errcode": 0}'
            self.send_response(200)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def listening() -> Iterator[Receiver]:
    """The receiver's loopback server, one for the module (both backends' tests)."""
    found = Receiver()
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    http.daemon_threads = True
    found.url = f"http://127.0.0.1:{http.server_address[1]}"
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield found
    found.release.set()
    http.shutdown()
    http.server_close()


@pytest.fixture
def receiver(listening: Receiver) -> Receiver:
    """The receiver as a test starts: no calls yet, nothing failing, nothing held."""
    listening.release.set()  # a call still held by an earlier test goes
    listening.calls.clear()
    listening.failures = 0
    listening.release.clear()
    listening.hanging.clear()
    return listening


class Sink:
    def __init__(self) -> None:
        self.mails: list[Any] = []
        self.greetings: list[str] = []  # the name each mail's sender gave in its EHLO

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope)
        self.greetings.append(session.host_name)
        return "250 OK"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    # a name of its own: else each connection looks the machine's name up (DNS) before greeting,
    # and a slow resolver outlasts the sender's timeout
    controller = Controller(sink, hostname="127.0.0.1", port=port, server_hostname="sink.test")
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def notifying(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp: tuple[Sink, int]
) -> Iterator[InProcessServer]:
    config = {
        "delivery_poll_seconds": 0,
        "webhook_timeout": 2.0,
        "delivery_backoff": 30.0,
        "delivery_max_attempts": 3,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp[1],
        "public_url": "https://wakelog.example",
    }
    with start_backend_server(request, tmp_path_factory.mktemp("notify"), request.param, **config) as running:
        running.app.state.clock = FakeClock()
        running.app.state.clock.now = time.time()
        yield running


def step(server: InProcessServer) -> Any:
    return server.app.state.dispatcher.step()


def settle(server: InProcessServer) -> None:
    """Send everything that is due now (rows left pending are due later)."""
    step(server)


def outbox_errors(server: InProcessServer) -> list[tuple[str, str | None]]:
    with server.app.state.db.read() as conn:
        return [(row.channel, row.last_error) for row in conn.execute(sa.select(outbox)).all()]


def notes(client: httpx.Client, **params: Any) -> dict[str, Any]:
    answer = client.get(f"{API}/notifications", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def alert(seq: int, when: float, title: str, wait: float | None = None) -> list[Any]:
    return [
        seq,
        "alert",
        when,
        {"title": title, "text": f"{title} text", "level": "WARN", "wait_duration": wait},
    ]


# -- alerts -----------------------------------------------------------------------------------------
def test_alerts_reach_the_bell_once_per_wait_duration(notifying: InProcessServer) -> None:
    with notifying.client() as admin:
        admin.post(f"{API}/notifications/read", json={"all": True})
        records = [
            [0, "run", 100.0, {"name": "a"}],
            alert(1, 100.0, "loss is nan"),
            alert(2, 130.0, "loss is nan"),  # within wandb's default minute: kept, not delivered
            alert(3, 161.0, "loss is nan"),
            alert(4, 162.0, "slow", wait=5),
            alert(5, 166.0, "slow", wait=5),
            alert(6, 167.0, "slow", wait=5),  # 5 s after the last delivered one
        ]
        assert post_records(admin, "admin/p/alerts", records).status_code == 200
        got = notes(admin, unread=True)
        assert [n["title"] for n in got["notifications"]] == ["slow", "slow", "loss is nan", "loss is nan"]
        assert got["unread"] == 4
        first = got["notifications"][-1]
        assert first["event"] == "alert" and first["level"] == "WARN" and first["text"] == "loss is nan text"
        assert first["run"] == {"entity": "admin", "project": "p", "run_id": "alerts", "name": "a"}
        replay = post_records(admin, "admin/p/alerts", records)  # a retry of the same batch
        assert replay.json()["applied"] == 0 and notes(admin)["unread"] == 4
        read = admin.post(f"{API}/notifications/read", json={"ids": [first["id"]]})
        assert read.json() == {"unread": 3}
        assert admin.get(f"{API}/notifications/unread").json() == {"unread": 3}
        assert admin.post(f"{API}/notifications/read", json={"all": True}).json() == {"unread": 0}
        assert admin.post(f"{API}/notifications/read", json={}).status_code == 400


def test_new_notifications_are_pushed_on_the_users_event_stream(notifying: InProcessServer) -> None:
    with httpx.Client(base_url=notifying.url, auth=("api", notifying.key), timeout=30) as live:
        stream = EventStream(live, f"{API}/notifications/events")
        assert stream.next() == ("status", 200)
        assert stream.next()[0] == "ready"
        with notifying.client() as admin:
            assert post_records(admin, "admin/p/live", [alert(0, 10.0, "hello")]).status_code == 200
            newest = notes(admin)["notifications"][0]
        assert stream.next() == ("notification", {"ids": [newest["id"]]})


# -- channels ---------------------------------------------------------------------------------------
def _targets(receiver: Receiver, address: str) -> list[dict[str, Any]]:
    hooks = [
        {"channel": "webhook", "url": f"{receiver.url}/ok", "format": kind}
        for kind in ("json", "slack", "wecom")
    ]
    hooks += [
        {
            "channel": "webhook",
            "url": f"{receiver.url}/ok?access_token=t",
            "format": "dingtalk",
            "secret": "SEC1",
        },
        {"channel": "webhook", "url": f"{receiver.url}/ok", "format": "feishu", "secret": "s2"},
    ]
    return [{"channel": "inapp"}, {"channel": "email", "address": address, "events": ["failed"]}, *hooks]


def test_a_failed_run_is_mailed_and_posted_in_every_format(
    notifying: InProcessServer, receiver: Receiver, smtp: tuple[Sink, int]
) -> None:
    sink = smtp[0]
    with notifying.client() as admin:
        saved = admin.put(
            f"{API}/notifications/settings", json={"targets": _targets(receiver, "ops@lab.example")}
        )
        assert saved.status_code == 200, saved.text
        before = len(receiver.calls)
        traceback = 'Traceback (most recent call last):\n  File "t.py", line 1\nValueError: lr too high\n'
        records = [
            [0, "run", 1.0, {"name": "bad"}],
            [1, "exit", 2.0, {"exit_code": 1, "state": "failed", "traceback": traceback}],
        ]
        assert post_records(admin, "admin/p/failing", records).status_code == 200
        newest = notes(admin)["notifications"][0]
        assert newest["event"] == "failed" and newest["text"].endswith(": ValueError: lr too high")
        settle(notifying)
        bodies = [body for _, _, body in receiver.calls[before:]]
        assert len(bodies) == 5
        generic = next(b for b in bodies if "event" in b)
        assert generic["event"] == "failed" and generic["error"] == "ValueError: lr too high"
        assert generic["url"] == "https://wakelog.example/admin/p/failing"
        assert any("ValueError: lr too high" in b.get("text", "") for b in bodies), "slack"
        wecom = next(b for b in bodies if b.get("msgtype") == "markdown" and "content" in b["markdown"])
        assert "ValueError" in wecom["markdown"]["content"]
        feishu = next(b for b in bodies if b.get("msg_type") == "text")
        assert "ValueError" in feishu["content"]["text"] and feishu["sign"] and feishu["timestamp"]
        query = next(q for _, q, b in receiver.calls[before:] if "title" in b.get("markdown", {}))
        assert query["access_token"] == ["t"] and query["sign"] and query["timestamp"], (
            "dingtalk signs the URL"
        )
        assert sink.mails, f"no e-mail; the outbox says: {outbox_errors(notifying)}"
        mail = sink.mails[-1]
        assert mail.rcpt_tos == ["ops@lab.example"]
        assert (
            b"ValueError: lr too high" in mail.content
            and b"Subject: [wakelog] Run bad failed" in mail.content
        )
        admin.put(f"{API}/notifications/settings", json={"targets": [{"channel": "inapp"}]})


def test_a_failing_webhook_is_retried_with_backoff_and_a_hanging_one_blocks_nothing(
    notifying: InProcessServer, receiver: Receiver
) -> None:
    clock: FakeClock = notifying.app.state.clock
    targets = [
        {"channel": "webhook", "url": f"{receiver.url}/fail", "events": ["finished"]},
        {"channel": "webhook", "url": f"{receiver.url}/hang", "events": ["finished"]},
    ]
    with notifying.client() as admin:
        assert admin.put(f"{API}/notifications/settings", json={"targets": targets}).status_code == 200
        receiver.failures = 2
        done = [[0, "exit", 5.0, {"exit_code": 0, "state": "finished"}]]
        assert post_records(admin, "admin/p/retried", done).status_code == 200
        stepping = threading.Thread(target=step, args=(notifying,))
        stepping.start()
        receiver.hanging.wait(30)
        # the dispatcher is stuck on /hang; ingest goes on regardless
        assert post_records(admin, "admin/p/meanwhile", [[0, "run", 1.0, {}]]).status_code == 200
        stepping.join(60)
        assert not stepping.is_alive(), "the hanging call timed out"
        assert len(receiver.of("/fail")) == 1 and len(receiver.of("/hang")) == 1
        step(notifying)
        assert len(receiver.of("/fail")) == 1, "not due again before the backoff"
        clock.now += 30
        step(notifying)
        assert len(receiver.of("/fail")) == 2 and len(receiver.of("/hang")) == 2
        clock.now += 59
        step(notifying)
        assert len(receiver.of("/fail")) == 2, "the second wait is twice the first"
        clock.now += 1
        receiver.release.set()
        step(notifying)
        assert len(receiver.of("/fail")) == 3 and receiver.failures == 0
        clock.now += 3600
        step(notifying)
        assert len(receiver.of("/fail")) == 3, "delivered: never sent again"
        assert len(receiver.of("/hang")) == 3, "three attempts, then given up"
        admin.put(f"{API}/notifications/settings", json={"targets": [{"channel": "inapp"}]})


def test_the_server_looks_its_own_name_up_once_not_for_every_mail(
    smtp: tuple[Sink, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, port = smtp
    lookups: list[str] = []

    def slow_resolver(name: str = "") -> str:
        lookups.append(name)
        return "trainer-01.example.org"

    monkeypatch.setattr(socket, "getfqdn", slow_resolver)
    senders.helo_name.cache_clear()
    config = ServerConfig(data_dir=Path("unused"), smtp_host="127.0.0.1", smtp_port=port)
    before = len(sink.mails)
    try:
        for title in ("first", "second", "third"):
            message = {
                "level": "INFO",
                "title": title,
                "text": "",
                "run": {"entity": "e", "project": "p", "run_id": "r"},
            }
            senders.send_email(config, {"address": "ops@example.org"}, message, 0.0)
    finally:
        senders.helo_name.cache_clear()  # the next test's mails look the real name up again
    assert len(sink.mails) == before + 3
    assert sink.greetings[-3:] == ["trainer-01.example.org"] * 3
    assert len(lookups) == 1


def test_settings_are_checked(notifying: InProcessServer) -> None:
    with notifying.client() as admin:
        for target, message in (
            ({"channel": "email", "address": "not-an-address"}, "not an e-mail address"),
            ({"channel": "webhook", "url": "file:///etc/passwd"}, "http:// or https://"),
        ):
            refused = admin.put(f"{API}/notifications/settings", json={"targets": [target]})
            assert refused.status_code == 400 and message in refused.json()["detail"], refused.text
        unknown = admin.put(f"{API}/notifications/settings", json={"targets": [{"channel": "sms"}]})
        assert unknown.status_code == 422
        post_records(admin, "admin/p/exists", [[0, "run", 1.0, {}]])
        inapp = admin.put(
            f"{API}/projects/admin/p/notification-settings", json={"targets": [{"channel": "inapp"}]}
        )
        assert inapp.status_code == 400 and "belong to users" in inapp.json()["detail"]
        assert admin.get(f"{API}/notifications/settings").json()["targets"][0]["channel"] == "inapp"


# -- built-in events ----------------------------------------------------------------------------------
def test_a_threshold_rule_fires_once_per_run(notifying: InProcessServer) -> None:
    with notifying.client() as admin:
        post_records(admin, "admin/rules/r1", [[0, "run", 1.0, {}]])
        made = admin.post(
            f"{API}/projects/admin/rules/alert-rules",
            json={"key": "eval/acc", "op": "<", "value": 0.5, "after_step": 1000},
        )
        assert made.status_code == 201, made.text
        assert made.json()["description"] == "eval/acc < 0.5 after step 1000"
        history = [
            [i + 1, "history", 2.0, {"_step": step, "eval/acc": acc}]
            for i, (step, acc) in enumerate([(500, 0.1), (1000, 0.2), (1500, 0.7), (2000, 0.4), (2500, 0.3)])
        ]
        admin.post(f"{API}/notifications/read", json={"all": True})
        assert post_records(admin, "admin/rules/r1", history).status_code == 200
        fired = notes(admin, unread=True)["notifications"]
        assert [n["event"] for n in fired] == ["threshold"]
        assert "eval/acc = 0.4 at step 2000" in fired[0]["text"]
        more = [[6, "history", 3.0, {"_step": 3000, "eval/acc": 0.1}]]
        assert post_records(admin, "admin/rules/r1", more).status_code == 200
        assert notes(admin)["unread"] == 1, "once per run"
        listed = admin.get(f"{API}/projects/admin/rules/alert-rules").json()["rules"]
        assert [r["key"] for r in listed] == ["eval/acc"]
        rule = listed[0]["id"]
        assert admin.delete(f"{API}/projects/admin/rules/alert-rules/{rule}").status_code == 204
        assert admin.delete(f"{API}/projects/admin/rules/alert-rules/{rule}").status_code == 404
        bad = admin.post(f"{API}/projects/admin/rules/alert-rules", json={"key": "x", "op": "!=", "value": 1})
        assert bad.status_code == 422


def test_a_run_whose_heartbeat_stops_is_reported_crashed_once(notifying: InProcessServer) -> None:
    clock: FakeClock = notifying.app.state.clock
    with notifying.client() as admin:
        admin.post(f"{API}/notifications/read", json={"all": True})
        clock.now = time.time()
        assert post_records(admin, "admin/p/quiet", [[0, "run", 1.0, {"name": "quiet"}]]).status_code == 200
        step(notifying)
        assert notes(admin)["unread"] == 0
        clock.now += 11 * 60  # past the 10 minutes without a heartbeat
        step(notifying)

        def quiet() -> list[tuple[str, str]]:  # the module's other runs went quiet too
            listed = notes(admin, limit=200)["notifications"]
            return [(n["event"], n["title"]) for n in listed if n["run"]["run_id"] == "quiet"]

        assert quiet() == [("crashed", "Run quiet crashed")]
        step(notifying)
        assert quiet() == [("crashed", "Run quiet crashed")], "told once"


def test_a_run_quiet_for_longer_than_a_day_is_not_told_about(notifying: InProcessServer) -> None:
    """A server that looks again after more than a day (it was down) does not announce the crashes
    it missed; a run whose heartbeat went stale within the day is told about as ever."""
    clock: FakeClock = notifying.app.state.clock
    with notifying.client() as admin:
        assert (
            post_records(admin, "admin/p/ancient", [[0, "run", 1.0, {"name": "ancient"}]]).status_code == 200
        )
        assert post_records(admin, "admin/p/recent", [[0, "run", 1.0, {"name": "recent"}]]).status_code == 200
        now = time.time() + CRASH_LOOKBACK + 3600
        with notifying.app.state.db.write() as conn:
            conn.execute(runs.update().where(runs.c.run_id == "recent").values(heartbeat_at=now - 20 * 60))
        clock.now = now
        try:
            step(notifying)
        finally:
            clock.now = time.time()
        listed = notes(admin, limit=200)["notifications"]
        told = {n["run"]["run_id"] for n in listed if n["event"] == "crashed"}
        assert "recent" in told and "ancient" not in told


def test_subscribers_to_a_project_hear_of_others_runs(notifying: InProcessServer, tmp_path: Path) -> None:
    with notifying.client() as admin:
        assert admin.post(f"{API}/users", json={"username": "watcher"}).status_code == 201
        key = admin.post(f"{API}/keys", json={"user": "watcher"}).json()["key"]
        post_records(admin, "admin/shared/r0", [[0, "run", 1.0, {}]])
    with notifying.client(key) as watcher:
        assert (
            watcher.put(f"{API}/projects/admin/shared/subscription", json={"targets": []}).status_code == 404
        )
    with notifying.client() as admin:
        assert admin.put(f"{API}/entities/admin/members/watcher", json={"role": "viewer"}).status_code == 200
    with notifying.client(key) as watcher:
        subscribed = watcher.put(
            f"{API}/projects/admin/shared/subscription",
            json={"targets": [{"channel": "inapp", "events": ["finished"]}]},
        )
        assert subscribed.status_code == 200, subscribed.text
        with notifying.client() as admin:
            post_records(admin, "admin/shared/r1", [[0, "exit", 1.0, {"exit_code": 0, "state": "finished"}]])
            post_records(admin, "admin/shared/r2", [alert(0, 1.0, "not subscribed")])
        assert [n["event"] for n in notes(watcher)["notifications"]] == ["finished"]
    with notifying.client() as admin:
        assert admin.delete(f"{API}/entities/admin/members/watcher").status_code == 204
        post_records(admin, "admin/shared/r3", [[0, "exit", 1.0, {"exit_code": 0, "state": "finished"}]])
    with notifying.client(key) as watcher:
        assert len(notes(watcher)["notifications"]) == 1, "a subscriber who left hears nothing more"


def test_the_docs_curl_examples_run(notifying: InProcessServer) -> None:
    """docs/collaboration.md's curl examples (a project's team channel, a metric rule), run with
    the real curl against this server."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "collaboration.md").read_text()
    blocks = re.findall(r"```\n(curl .*?)\n```", text, re.DOTALL)
    assert len(blocks) == 2
    with notifying.client() as admin:
        if admin.get(f"{API}/entities/vision/members").status_code == 404:
            assert admin.post(f"{API}/entities", json={"name": "vision"}).status_code == 201
        ended = [[0, "run", 1.0, {}], [1, "exit", 2.0, {"exit_code": 0}]]  # never "crashed" later
        assert post_records(admin, "vision/detector/r1", ended).status_code == 200
        env = child_env(URL=notifying.url, KEY=notifying.key)
        for block in blocks:
            done = subprocess.run(
                ["bash", "-c", f"{block} --fail-with-body -sS"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, (block, done.stdout, done.stderr)
        channels = admin.get(f"{API}/projects/vision/detector/notification-settings").json()["targets"]
        assert [(t["channel"], t["format"], t["events"]) for t in channels] == [
            ("webhook", "feishu", ["failed", "crashed", "threshold"])
        ]
        rules = admin.get(f"{API}/projects/vision/detector/alert-rules").json()["rules"]
        assert [(r["key"], r["op"], r["value"], r["after_step"]) for r in rules] == [
            ("eval/acc", "<", 0.5, 1000)
        ]
