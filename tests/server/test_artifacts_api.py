"""Artifacts through the HTTP API on both database backends: versions made once per content, dense
under concurrent creators, aliases, files, diffs, lineage, the registry, and what is refused."""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from typing import Any

import httpx
import pytest

from tests.harness import InProcessServer
from tests.server.conftest import add_team
from wakelog._artifacts import manifest_digest

API = "/api/v1"


def entry(content: bytes) -> dict[str, Any]:
    return {
        "digest": base64.b64encode(hashlib.md5(content).digest()).decode(),
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
        "ref": None,
        "extra": {},
    }


def upload(client: httpx.Client, run: str, content: bytes) -> None:
    sha = hashlib.sha256(content).hexdigest()
    done = client.put(
        f"{API}/runs/{run}/blobs/{sha}", params={"offset": 0, "total": len(content)}, content=content
    )
    assert done.status_code == 200 and done.json()["complete"], done.text


def log_version(
    client: httpx.Client,
    project: str,
    name: str,
    files: dict[str, bytes],
    *,
    run_id: str | None = None,
    aliases: list[str] | None = None,
    type_: str = "dataset",
    refs: dict[str, str] | None = None,
) -> httpx.Response:
    """Upload the files (under the run, or a scratch run) and create the version, as the SDK does."""
    for content in files.values():
        upload(client, f"{project}/{run_id or 'uploader'}", content)
    entries = {path: entry(content) for path, content in files.items()}
    for path, uri in (refs or {}).items():
        entries[path] = {
            "digest": hashlib.md5(uri.encode()).hexdigest(),
            "sha256": None,
            "size": 0,
            "ref": uri,
        }
    body = {
        "name": name,
        "type": type_,
        "aliases": aliases or ["latest"],
        "manifest": {"version": 1, "entries": entries},
        "digest": manifest_digest((p, e["digest"]) for p, e in entries.items()),
        "metadata": {"epoch": 3},
    }
    if run_id:
        body["run_id"] = run_id
    return client.post(f"{API}/projects/{project}/artifacts", json=body)


@pytest.fixture(scope="module")
def client(server: InProcessServer) -> httpx.Client:
    with server.client() as c:
        yield c


def project() -> str:
    return f"admin/p{uuid.uuid4().hex[:8]}"


def test_versions_are_made_once_per_content_and_latest_moves(client: httpx.Client) -> None:
    proj = project()
    first = log_version(client, proj, "data", {"a.txt": b"alpha", "b/c.txt": b"beta"}, run_id="r1")
    assert first.status_code == 201, first.text
    v0 = first.json()
    assert (v0["version"], v0["aliases"], v0["run"], v0["state"]) == ("v0", ["latest"], "r1", "committed")
    assert v0["size"] == 9 and v0["file_count"] == 2 and v0["metadata"] == {"epoch": 3}
    assert v0["created_by"] == "admin" and v0["existing"] is False

    again = log_version(
        client, proj, "data", {"b/c.txt": b"beta", "a.txt": b"alpha"}, run_id="r2", aliases=["best"]
    )
    assert again.status_code == 200 and again.json()["version"] == "v0" and again.json()["existing"] is True
    assert sorted(again.json()["aliases"]) == ["best", "latest"]

    second = log_version(client, proj, "data", {"a.txt": b"alpha2", "d.txt": b"delta"}, run_id="r2")
    assert second.status_code == 201 and second.json()["version"] == "v1"
    assert client.get(f"{API}/artifacts/{proj}/data:latest").json()["version"] == "v1"
    assert client.get(f"{API}/artifacts/{proj}/data:best").json()["version"] == "v0"
    listed = client.get(f"{API}/artifacts/{proj}/data/versions").json()
    assert [v["version"] for v in listed] == ["v1", "v0"]
    collections = client.get(f"{API}/projects/{proj}/artifacts").json()
    assert collections == [
        {
            "name": "data",
            "type": "dataset",
            "versions": 2,
            "latest": "v1",
            "updated_at": listed[0]["created_at"],
            "size": 20,
        }
    ]
    assert client.get(f"{API}/projects/{proj}/artifacts", params={"type": "model"}).json() == []

    diff = client.get(f"{API}/artifacts/{proj}/data:v1/diff", params={"against": "v0"}).json()
    assert diff == {"added": ["d.txt"], "removed": ["b/c.txt"], "changed": ["a.txt"]}
    manifest = client.get(f"{API}/artifacts/{proj}/data:v0/manifest").json()
    assert manifest == {"version": 1, "entries": {"a.txt": entry(b"alpha"), "b/c.txt": entry(b"beta")}}
    assert client.get(f"{API}/artifacts/{proj}/data:v0/files/b/c.txt").content == b"beta"
    ranged = client.get(f"{API}/artifacts/{proj}/data:v1/files/a.txt", headers={"Range": "bytes=1-3"})
    assert ranged.status_code == 206 and ranged.content == b"lph"
    assert client.get(f"{API}/artifacts/{proj}/data:v0/files/nope.txt").status_code == 404

    runs = client.get(f"{API}/runs/{proj}/r2/artifacts").json()
    assert [v["version"] for v in runs["logged"]] == ["v0", "v1"] and runs["used"] == []


def test_aliases_move_and_latest_is_the_servers(client: httpx.Client) -> None:
    proj = project()
    log_version(client, proj, "m", {"w": b"1"}, type_="model")
    log_version(client, proj, "m", {"w": b"2"}, type_="model")
    put = client.put(f"{API}/artifacts/{proj}/m:v0/aliases", json={"aliases": ["production", "best"]})
    assert put.status_code == 200 and put.json()["aliases"] == ["best", "production"]
    moved = client.put(f"{API}/artifacts/{proj}/m:v1/aliases", json={"aliases": ["production"]}).json()
    assert sorted(moved["aliases"]) == ["latest", "production"]
    assert client.get(f"{API}/artifacts/{proj}/m:v0").json()["aliases"] == ["best"]
    for bad in (["latest"], ["v3"], ["a/b"], ["a:b"], [""]):
        refused = client.put(f"{API}/artifacts/{proj}/m:v0/aliases", json={"aliases": bad})
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_artifact", bad
    assert client.get(f"{API}/artifacts/{proj}/m:v7").status_code == 404
    assert client.get(f"{API}/artifacts/{proj}/m:nothing").status_code == 404
    assert client.put(f"{API}/artifacts/{proj}/m:v9/aliases", json={"aliases": []}).status_code == 404
    wrong_type = log_version(client, proj, "m", {"w": b"3"}, type_="dataset")
    assert wrong_type.status_code == 400 and "type 'model'" in wrong_type.json()["detail"]


def test_a_deleted_version_disappears_and_latest_moves_back(client: httpx.Client) -> None:
    proj = project()
    log_version(client, proj, "d", {"x": b"x1"})
    log_version(client, proj, "d", {"x": b"x2"}, aliases=["keep"])
    assert client.delete(f"{API}/artifacts/{proj}/d:v1").status_code == 204
    assert client.get(f"{API}/artifacts/{proj}/d:v1").status_code == 404
    assert client.get(f"{API}/artifacts/{proj}/d:keep").status_code == 404
    assert client.get(f"{API}/artifacts/{proj}/d:latest").json()["version"] == "v0"
    again = log_version(client, proj, "d", {"x": b"x2"})
    assert again.status_code == 201 and again.json()["version"] == "v2", "numbers are never reused"


def test_tags_and_a_ttl_given_at_creation_are_kept(client: httpx.Client) -> None:
    """``tags`` and ``ttl`` in the create body (what the wandb client sends at log time): kept on
    the version, merged into the existing version's tags when the content is the same again;
    bad ones refused by name, nothing made."""
    proj = project()
    upload(client, f"{proj}/uploader", b"t")
    body = {"name": "t", "type": "dataset", "manifest": {"version": 1, "entries": {"t": entry(b"t")}}}
    made = client.post(f"{API}/projects/{proj}/artifacts", json={**body, "tags": ["raw", "raw"], "ttl": 60})
    assert made.status_code == 201, made.text
    assert (made.json()["tags"], made.json()["ttl"]) == (["raw"], 60)
    again = client.post(f"{API}/projects/{proj}/artifacts", json={**body, "tags": ["more"], "ttl": 5})
    assert again.status_code == 200 and (again.json()["tags"], again.json()["ttl"]) == (["raw", "more"], 60)
    for bad in ({"tags": "raw"}, {"tags": ["a/b"]}, {"tags": [1]}, {"ttl": 0}, {"ttl": "60"}, {"ttl": True}):
        answer = client.post(f"{API}/projects/{proj}/artifacts", json={**body, "name": "u", **bad})
        assert answer.status_code == 400, (bad, answer.text)
        assert answer.json()["code"] == "invalid_artifact", answer.text
    assert client.get(f"{API}/artifacts/{proj}/u/versions").status_code == 404


def test_missing_content_is_listed_and_nothing_is_made(client: httpx.Client, server: InProcessServer) -> None:
    proj = project()
    absent = b"never uploaded " + uuid.uuid4().bytes
    entries = {"here.txt": entry(b"here"), "absent.bin": entry(absent)}
    upload(client, f"{proj}/r", b"here")
    body = {"name": "inc", "type": "dataset", "manifest": {"version": 1, "entries": entries}}
    refused = client.post(f"{API}/projects/{proj}/artifacts", json=body)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "artifact_incomplete"
    assert refused.json()["details"] == {"missing": [hashlib.sha256(absent).hexdigest()]}
    assert client.get(f"{API}/artifacts/{proj}/inc/versions").status_code == 404, "nothing half-made"
    upload(client, f"{proj}/r", absent)
    assert client.post(f"{API}/projects/{proj}/artifacts", json=body).status_code == 201


def test_a_manifest_may_not_name_content_its_uploader_cannot_read(server: InProcessServer) -> None:
    secret = b"someone else's weights " + uuid.uuid4().bytes
    with server.client() as admin:
        made = admin.post(f"{API}/users", json={"username": f"u{uuid.uuid4().hex[:6]}"}).json()
        user = made["username"]
        key = admin.post(f"{API}/keys", json={"user": user}).json()["key"]
        assert log_version(admin, "admin/private", "w", {"secret.bin": secret}).status_code == 201
    with server.client(key) as other:
        body = {
            "name": "stolen",
            "type": "model",
            "manifest": {"version": 1, "entries": {"s.bin": entry(secret)}},
        }
        refused = other.post(f"{API}/projects/{user}/p/artifacts", json=body)
        assert refused.status_code == 409 and refused.json()["details"]["missing"] == [
            hashlib.sha256(secret).hexdigest()
        ]
        upload(other, f"{user}/p/r", secret)  # holding it is proof enough
        assert other.post(f"{API}/projects/{user}/p/artifacts", json=body).status_code == 201


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../up.txt", "'..'"),
        ("/etc/passwd", "absolute"),
        ("a\\b.txt", "backslash"),
        ("a\x00b", "NUL"),
        ("a//b", "empty"),
    ],
)
def test_entry_paths_that_could_escape_are_refused_by_name(
    client: httpx.Client, path: str, problem: str
) -> None:
    body = {"name": "bad", "type": "dataset", "manifest": {"version": 1, "entries": {path: entry(b"x")}}}
    refused = client.post(f"{API}/projects/{project()}/artifacts", json=body)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_artifact", refused.text
    assert problem in refused.json()["detail"] and repr(path) in refused.json()["detail"]


def test_bad_bodies_are_refused(client: httpx.Client) -> None:
    proj = project()
    good = {"version": 1, "entries": {"a": entry(b"a")}}
    for body, words in (
        ({"name": "x", "type": "t", "manifest": good, "digest": "0" * 32}, "digest"),
        ({"name": "no/slash", "type": "t", "manifest": good}, "artifact name"),
        ({"name": "x", "type": "", "manifest": good}, "artifact type"),
        ({"name": "x", "type": "t", "manifest": {"version": 2, "entries": {}}}, "version"),
        (
            {"name": "x", "type": "t", "manifest": {"version": 1, "entries": {"a": {"digest": "d"}}}},
            "exactly one",
        ),
        (
            {
                "name": "x",
                "type": "t",
                "manifest": {"version": 1, "entries": {"a": {**entry(b"a"), "sha256": "zz"}}},
            },
            "sha256",
        ),
        (
            {
                "name": "x",
                "type": "t",
                "manifest": {"version": 1, "entries": {"a": {**entry(b"a"), "size": -1}}},
            },
            "size",
        ),
        ({"name": "x", "type": "t", "manifest": good, "aliases": ["v1"]}, "version"),
    ):
        refused = client.post(f"{API}/projects/{proj}/artifacts", json=body)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_artifact", (
            body,
            refused.text,
        )
        assert words in refused.json()["detail"], (words, refused.json()["detail"])


def test_references_are_stored_not_fetched(client: httpx.Client) -> None:
    proj = project()
    uri = "http://127.0.0.1:9/never-fetched/data.csv"  # a port nothing listens on
    made = log_version(client, proj, "refs", {}, refs={"data.csv": uri, "s3.bin": "s3://bucket/key"})
    assert made.status_code == 201, made.text
    entries = client.get(f"{API}/artifacts/{proj}/refs:v0/manifest").json()["entries"]
    assert entries["data.csv"]["ref"] == uri and entries["data.csv"]["sha256"] is None
    answer = client.get(f"{API}/artifacts/{proj}/refs:v0/files/data.csv")
    assert answer.status_code == 404 and uri in answer.json()["detail"]


def test_concurrent_creators_get_dense_unique_versions(server: InProcessServer) -> None:
    proj = project()
    contents = [f"content {i}".encode() for i in range(8)]
    with server.client() as c:
        for content in contents:
            upload(c, f"{proj}/r", content)
    answers: list[httpx.Response] = []

    def create(run_id: str, content: bytes) -> None:
        with server.client() as c:
            # each content twice: the second of a pair must find the first's version
            answers.append(log_version(c, proj, "race", {"f": content}, run_id=run_id))

    pairs = list(enumerate(contents + contents))
    threads = [threading.Thread(target=create, args=(f"run{i}", c)) for i, c in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    assert sorted(a.status_code for a in answers) == [200] * 8 + [201] * 8
    with server.client() as c:
        versions = c.get(f"{API}/artifacts/{proj}/race/versions").json()
    assert sorted(v["version"] for v in versions) == sorted(f"v{i}" for i in range(8))
    by_digest = {a.json()["digest"]: a.json()["version"] for a in answers if a.status_code == 201}
    assert all(by_digest[a.json()["digest"]] == a.json()["version"] for a in answers)
    # each version was made by one of the 16 runs, and both runs of a pair logged it
    with server.client() as c:
        logged = [c.get(f"{API}/runs/{proj}/run{i}/artifacts").json()["logged"] for i in range(16)]
    assert all(len(versions) == 1 for versions in logged)
    for i in range(8):
        assert logged[i][0]["version"] == logged[i + 8][0]["version"]


def test_lineage_links_runs_and_versions(client: httpx.Client) -> None:
    proj = project()
    log_version(client, proj, "raw", {"r": b"raw data"}, run_id="collect")
    used = client.post(f"{API}/runs/{proj}/train/artifacts/used", json={"artifact": f"{proj}/raw:latest"})
    assert used.status_code == 200 and used.json()["version"] == "v0"
    log_version(client, proj, "model", {"w": b"weights"}, run_id="train", type_="model")
    client.post(f"{API}/runs/{proj}/evaluate/artifacts/used", json={"artifact": f"{proj}/model:v0"})
    graph = client.get(f"{API}/artifacts/{proj}/model:v0/lineage", params={"depth": 3}).json()
    ids = {n["id"] for n in graph["nodes"]}
    assert ids == {
        f"run:{proj}/collect",
        f"artifact:{proj}/raw:v0",
        f"run:{proj}/train",
        f"artifact:{proj}/model:v0",
        f"run:{proj}/evaluate",
    }
    edges = {(e["from"], e["to"]) for e in graph["edges"]}
    assert (f"run:{proj}/train", f"artifact:{proj}/model:v0") in edges
    assert (f"artifact:{proj}/raw:v0", f"run:{proj}/train") in edges
    assert graph["truncated"] is False
    near = client.get(f"{API}/artifacts/{proj}/model:v0/lineage", params={"depth": 1}).json()
    assert {n["id"] for n in near["nodes"]} == {
        f"run:{proj}/train",
        f"artifact:{proj}/model:v0",
        f"run:{proj}/evaluate",
    }
    capped = client.get(
        f"{API}/artifacts/{proj}/model:v0/lineage", params={"depth": 3, "max_nodes": 2}
    ).json()
    assert len(capped["nodes"]) == 2 and capped["truncated"] is True
    run = client.get(f"{API}/runs/{proj}/train/artifacts").json()
    assert [v["name"] for v in run["used"]] == ["raw"] and [v["name"] for v in run["logged"]] == ["model"]
    assert client.post(f"{API}/runs/{proj}/x/artifacts/used", json={"artifact": "nope"}).status_code == 400
    assert (
        client.post(f"{API}/runs/{proj}/x/artifacts/used", json={"artifact": f"{proj}/raw:v5"}).status_code
        == 404
    )


def test_the_registry_links_versions_with_moving_aliases(client: httpx.Client) -> None:
    proj = project()
    log_version(client, proj, "clf", {"w": b"w1"}, type_="model")
    log_version(client, proj, "clf", {"w": b"w2"}, type_="model")
    linked = client.post(
        f"{API}/registry/admin/classifiers/links",
        json={"artifact": f"{proj}/clf:v0", "aliases": ["production"]},
    )
    assert linked.status_code == 200, linked.text
    client.post(
        f"{API}/registry/admin/classifiers/links", json={"artifact": f"{proj}/clf:v1", "aliases": ["staging"]}
    )
    client.post(
        f"{API}/registry/admin/classifiers/links",
        json={"artifact": f"{proj}/clf:v1", "aliases": ["production"]},
    )
    listed = client.get(f"{API}/registry/admin/classifiers").json()
    assert [(v["version"], v["registry_aliases"]) for v in listed] == [
        ("v1", ["production", "staging"]),
        ("v0", []),
    ]
    names = [c["name"] for c in client.get(f"{API}/registry/admin").json()]
    assert "classifiers" in names
    assert client.get(f"{API}/registry/admin/nothing-here").status_code == 404
    refused = client.post(
        f"{API}/registry/admin/classifiers/links", json={"artifact": f"{proj}/clf:v0", "aliases": ["latest"]}
    )
    assert refused.status_code == 400


def test_alias_edits_links_and_deletes_are_audited(client: httpx.Client) -> None:
    """wakelog's own routes record the same entries as the stock client's edits
    (test_wandb_artifact_edits.py); a refused change records nothing."""
    proj = project()
    log_version(client, proj, "m", {"w": b"1"}, type_="model")
    assert client.put(f"{API}/artifacts/{proj}/m:v0/aliases", json={"aliases": ["best"]}).is_success
    assert client.put(f"{API}/artifacts/{proj}/m:v0/aliases", json={"aliases": ["latest"]}).status_code == 400
    registry = f"r{proj[-8:]}"
    link = {"artifact": f"{proj}/m:v0", "aliases": ["prod"]}
    assert client.post(f"{API}/registry/admin/{registry}/links", json=link).is_success
    digest = client.get(f"{API}/artifacts/{proj}/m:v0").json()["digest"]
    assert client.delete(f"{API}/artifacts/{proj}/m:v0").status_code == 204
    label = f"{proj}/m:v0"
    entries = client.get(f"{API}/audit", params={"limit": 1000}).json()["entries"]
    mine = [
        (e["action"], e["entity"], e["before"], e["after"])
        for e in reversed(entries)
        if e["target"] in (label, f"admin/registry/{registry}")
    ]
    assert mine == [
        ("artifact.edit", "admin", {"aliases": ["latest"]}, {"aliases": ["best", "latest"]}),
        ("artifact.link", "admin", None, {"version": label, "aliases": ["prod"]}),
        (
            "artifact.delete",
            "admin",
            {"aliases": ["best", "latest"], "tags": [], "digest": digest},
            None,
        ),
    ]


def test_a_runs_used_artifacts_from_elsewhere_are_listed_only_to_who_may_read_them(
    client: httpx.Client, server: InProcessServer
) -> None:
    """A run in a team used a version of an entity its viewers are not in: they see the run's
    logged versions, not that one (its name, metadata and digest are the other entity's)."""
    secret, team = f"s{uuid.uuid4().hex[:8]}", f"t{uuid.uuid4().hex[:8]}"
    add_team(client, secret, {})
    key = add_team(client, team, {"viewer": "viewer"})["viewer"]
    assert log_version(client, f"{secret}/p", "hidden", {"h": b"hidden"}).status_code == 201
    assert log_version(client, f"{team}/p", "own", {"o": b"own"}, run_id="r1").status_code == 201
    used = client.post(f"{API}/runs/{team}/p/r1/artifacts/used", json={"artifact": f"{secret}/p/hidden:v0"})
    assert used.status_code == 200, used.text
    listed = client.get(f"{API}/runs/{team}/p/r1/artifacts").json()
    assert [v["name"] for v in listed["used"]] == ["hidden"], "the admin reads both entities"
    with server.client(key) as viewer:
        seen = viewer.get(f"{API}/runs/{team}/p/r1/artifacts").json()
    assert [v["name"] for v in seen["logged"]] == ["own"]
    assert seen["used"] == []
