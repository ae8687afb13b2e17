"""Comments on runs: threads, replies, edits, deletes, resolving, @mentions and their
notifications, the audit entries, and what each role may do."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from tests.harness import EventStream, InProcessServer
from tests.server.conftest import Team as BaseTeam
from tests.server.conftest import add_team, post_records
from wakelog.server.expiry import collect
from wakelog.store.schema import comment_threads

API = "/api/v1"
DAY = 24 * 3600.0


class Team(BaseTeam):
    @property
    def run(self) -> str:
        return f"{self.entity}/proj/r1"


@pytest.fixture
def team(server: InProcessServer) -> Iterator[Team]:
    """A fresh team entity with a writer, a reader, a boss (its admin) and an outsider, and a run."""
    entity = f"c{uuid.uuid4().hex[:8]}"
    roles = {"writer": "member", "reader": "viewer", "boss": "admin", "outsider": None}
    with server.client() as admin:
        keys = add_team(admin, entity, roles)
        records = [[0, "run", 1.0, {"name": "baseline"}], [1, "exit", 2.0, {"exit_code": 0}]]
        assert post_records(admin, f"{entity}/proj/r1", records).status_code == 200
    yield Team(server, entity, keys)


def _threads(client: httpx.Client, run: str) -> list[dict]:
    answer = client.get(f"{API}/runs/{run}/threads")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _mentions(client: httpx.Client) -> list[dict]:
    got = client.get(f"{API}/notifications").json()["notifications"]
    return [n for n in got if n["event"] == "mention"]


def test_members_discuss_a_run_and_viewers_read_along(team: Team) -> None:
    run = team.run
    with team.client("writer") as writer, team.client("reader") as reader, team.client("boss") as boss:
        started = writer.post(
            f"{API}/runs/{run}/threads", json={"body": "lr too high?\n```py\nlr = 3e-4\n```"}
        )
        assert started.status_code == 201, started.text
        thread = started.json()
        first = thread["comments"][0]
        assert thread["target"] == {"kind": "run", "run_id": "r1"} and thread["resolved_at"] is None
        assert (first["author"], first["can_edit"], first["can_delete"]) == (team.name("writer"), True, True)
        tid = thread["id"]
        # a viewer reads but writes nothing
        seen = _threads(reader, run)
        assert [c["body"] for c in seen[0]["comments"]] == [first["body"]]
        assert seen[0]["comments"][0]["can_edit"] is False and seen[0]["comments"][0]["can_delete"] is False
        assert reader.post(f"{API}/runs/{run}/threads", json={"body": "me too"}).status_code == 403
        assert reader.post(f"{API}/runs/{run}/threads/{tid}/comments", json={"body": "x"}).status_code == 403
        # replies, edits of your own only
        reply = boss.post(f"{API}/runs/{run}/threads/{tid}/comments", json={"body": "try **1e-4**"})
        assert reply.status_code == 201, reply.text
        cid = reply.json()["id"]
        assert writer.patch(f"{API}/runs/{run}/comments/{cid}", json={"body": "hijacked"}).status_code == 403
        assert writer.delete(f"{API}/runs/{run}/comments/{cid}").status_code == 403
        edited = boss.patch(f"{API}/runs/{run}/comments/{cid}", json={"body": "try *1e-4*"})
        assert edited.json()["body"] == "try *1e-4*" and edited.json()["edited_at"] is not None
        # resolve and reopen
        resolved = writer.patch(f"{API}/runs/{run}/threads/{tid}", json={"resolved": True}).json()
        assert resolved["resolved_at"] is not None and resolved["resolved_by"] == team.name("writer")
        assert reader.patch(f"{API}/runs/{run}/threads/{tid}", json={"resolved": False}).status_code == 403
        reopened = boss.patch(f"{API}/runs/{run}/threads/{tid}", json={"resolved": False}).json()
        assert reopened["resolved_at"] is None and reopened["resolved_by"] is None
        # the entity's admin deletes anyone's comment; the thread goes with its last one
        assert boss.delete(f"{API}/runs/{run}/comments/{first['id']}").status_code == 204
        assert [c["id"] for c in _threads(reader, run)[0]["comments"]] == [cid]
        assert boss.delete(f"{API}/runs/{run}/comments/{cid}").status_code == 204
        assert _threads(reader, run) == []


def test_bad_requests_and_missing_things(team: Team) -> None:
    run = team.run
    with team.client("writer") as writer, team.client("outsider") as outsider:
        tid = writer.post(f"{API}/runs/{run}/threads", json={"body": "hi"}).json()["id"]
        assert writer.post(f"{API}/runs/{run}/threads", json={"body": "  \n"}).status_code == 400
        assert writer.post(f"{API}/runs/{run}/threads", json={"body": ""}).status_code == 422
        assert writer.post(f"{API}/runs/{run}/threads", json={"body": "x" * 70000}).status_code == 422
        assert writer.post(f"{API}/runs/{run}/threads/999999/comments", json={"body": "x"}).status_code == 404
        assert writer.patch(f"{API}/runs/{run}/comments/999999", json={"body": "x"}).status_code == 404
        assert writer.delete(f"{API}/runs/{run}/comments/{2**40}").status_code == 422
        assert writer.get(f"{API}/runs/{team.entity}/proj/nope/threads").status_code == 404
        # a thread is addressed through its own run only
        post_records(writer, f"{team.entity}/proj/r2", [[0, "run", 1.0, {}]])
        assert (
            writer.patch(
                f"{API}/runs/{team.entity}/proj/r2/threads/{tid}", json={"resolved": True}
            ).status_code
            == 404
        )
        assert outsider.get(f"{API}/runs/{run}/threads").status_code == 404


def test_comments_are_audited(team: Team) -> None:
    run = team.run
    with team.client("writer") as writer, team.client("boss") as boss:
        tid = writer.post(f"{API}/runs/{run}/threads", json={"body": "one"}).json()["id"]
        cid = _threads(writer, run)[0]["comments"][0]["id"]
        writer.patch(f"{API}/runs/{run}/comments/{cid}", json={"body": "two"})
        writer.patch(f"{API}/runs/{run}/threads/{tid}", json={"resolved": True})
        writer.delete(f"{API}/runs/{run}/comments/{cid}")
        entries = boss.get(f"{API}/entities/{team.entity}/audit").json()["entries"]
    mine = [
        (e["action"], e["before"], e["after"])
        for e in entries
        if e["action"].startswith(("comment", "thread"))
    ]
    assert mine == [
        (
            "comment.delete",
            {"thread": tid, "comment": cid, "author": team.name("writer"), "body": "two"},
            None,
        ),
        ("thread.resolve", None, {"thread": tid}),
        ("comment.edit", {"comment": cid, "body": "one"}, {"comment": cid, "body": "two"}),
        ("comment.create", None, {"thread": tid, "comment": cid, "body": "one"}),
    ]
    assert all(e["target"] == run and e["actor"] == team.name("writer") for e in entries[:4])


def test_mentions_notify_readers_of_the_project_only(team: Team) -> None:
    run = team.run
    w, r, b, o = (team.name(x) for x in ("writer", "reader", "boss", "outsider"))
    text = f"@{r}, see this. @{o} @ghost-{team.entity} @{w} `@{b}` mail {b}@lab.example\n```\n@{b}\n```"
    with team.client("writer") as writer:
        tid = writer.post(f"{API}/runs/{run}/threads", json={"body": text}).json()["id"]
        assert _mentions(writer) == []  # mentioning yourself tells nobody
    with team.client("reader") as reader:
        got = _mentions(reader)
        assert len(got) == 1
        assert got[0]["title"] == f"{w} mentioned you on run baseline" and got[0]["text"] == text
        assert got[0]["run"] == {"entity": team.entity, "project": "proj", "run_id": "r1", "name": "baseline"}
    for who in ("boss", "outsider"):
        with team.client(who) as client:
            assert _mentions(client) == []
    with team.client("writer") as writer:
        cid = writer.post(f"{API}/runs/{run}/threads/{tid}/comments", json={"body": f"cc @{r}"}).json()["id"]
        writer.patch(f"{API}/runs/{run}/comments/{cid}", json={"body": f"cc @{r} and @{b}."})
    with team.client("reader") as reader, team.client("boss") as boss:
        assert len(_mentions(reader)) == 2  # the edit did not mention them again
        assert [n["text"] for n in _mentions(boss)] == [f"cc @{r} and @{b}."]


def test_mentionable_lists_members_by_prefix(team: Team) -> None:
    with team.client("reader") as reader, team.client("outsider") as outsider:
        found = reader.get(f"{API}/entities/{team.entity}/mentionable", params={"q": "B"}).json()
        assert found == {"users": [team.name("boss")]}
        everyone = reader.get(f"{API}/entities/{team.entity}/mentionable").json()["users"]
        assert set(everyone) == {team.name(x) for x in ("writer", "reader", "boss")}
        assert reader.get(f"{API}/entities/{team.entity}/mentionable", params={"q": "%"}).json() == {
            "users": []
        }
        assert reader.get(f"{API}/entities/{team.entity}/mentionable", params={"q": "_"}).json() == {
            "users": []
        }
        assert outsider.get(f"{API}/entities/{team.entity}/mentionable").status_code == 404


def test_threads_go_when_their_run_is_purged(team: Team) -> None:
    with team.client("writer") as writer:
        writer.post(f"{API}/runs/{team.run}/threads", json={"body": "bye"})
        assert writer.delete(f"{API}/runs/{team.run}").status_code == 204
    db = team.server.app.state.db

    def kept() -> int:
        with db.read() as conn:
            return len(conn.execute(sa.select(comment_threads.c.id)).all())

    before, state = kept(), team.server.app.state
    collect(db, state.blobs, state.config, now=time.time() + state.config.run_trash_max_age + DAY)
    assert kept() == before - 1


def test_a_mention_is_pushed_on_the_mentioned_users_event_stream(team: Team) -> None:
    key = team.keys["reader"]
    with httpx.Client(base_url=team.server.url, auth=("api", key), timeout=30) as live:
        stream = EventStream(live, f"{API}/notifications/events")
        assert stream.next() == ("status", 200)
        assert stream.next()[0] == "ready"
        with team.client("writer") as writer:
            body = {"body": f"@{team.name('reader')} look"}
            assert writer.post(f"{API}/runs/{team.run}/threads", json=body).status_code == 201
        with team.client("reader") as reader:
            newest = _mentions(reader)[0]
        assert stream.next() == ("notification", {"ids": [newest["id"]]})


def test_threads_go_with_a_deleted_users_entity(team: Team) -> None:
    owner = team.name("writer")
    with team.client("writer") as writer:
        post_records(writer, f"{owner}/mine/r1", [[0, "run", 1.0, {}]])
        assert (
            writer.post(f"{API}/runs/{owner}/mine/r1/threads", json={"body": "note to self"}).status_code
            == 201
        )
    db = team.server.app.state.db
    with db.read() as conn:
        before = len(conn.execute(sa.select(comment_threads.c.id)).all())
    with team.server.client() as admin:
        gone = admin.delete(f"{API}/users/{owner}", params={"delete_runs": "true"})
        assert gone.status_code == 204, gone.text
    with db.read() as conn:
        assert len(conn.execute(sa.select(comment_threads.c.id)).all()) == before - 1
