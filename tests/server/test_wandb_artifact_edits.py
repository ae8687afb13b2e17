"""What the stock wandb client sends after logging an artifact (alias edits, ``artifact.save()``,
links into the registry) and its big uploads, driven as it drives them, on both database
backends (and a bucket). The real client is tests/integration/test_wandb_client.py."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.harness import InProcessServer
from tests.server.conftest import add_team, start_backend_server
from tests.server.test_wandb_compat import (
    ADD_ALIASES,
    COLLECTION,
    COMMIT,
    CREATE_FILES,
    CREATE_RUN_FILES,
    DELETE_ALIASES,
    DELETE_ARTIFACT,
    LINK_ARTIFACT,
    UNLINK_ARTIFACT,
    UPDATE_ARTIFACT,
    UPSERT,
    _md5,
    _pending,
    _upload_manifest,
    _wandb_manifest,
    gql,
    upsert,
    wandb_client,
)
from wakelog.server.expiry import collect

API = "/api/v1"
TAGS_TTL = """
mutation UpdateArtifact($input: UpdateArtifactInput!) {
  result: updateArtifact(input: $input) {
    artifact { id ttlDurationSeconds ttlIsInherited tags { __typename id name } }
  }
}
"""


def _log(
    server: InProcessServer,
    client: httpx.Client,
    name: str,
    files: dict[str, bytes],
    entity: str = "admin",
    type_: str = "dataset",
) -> str:
    """Log a version as the client does; returns the id the client keeps using (the pending one)."""
    assert gql(client, UPSERT, entity=entity, project="wb", name="arts").status_code == 200
    node = _pending(client, name, files, entity=entity, type_=type_)
    asked = [
        {"artifactID": node, "artifactManifestID": node, "name": p, "md5": _md5(d)} for p, d in files.items()
    ]
    edges = gql(client, CREATE_FILES, input={"artifactFiles": asked}).json()["data"]["createArtifactFiles"]
    with server.anonymous() as anonymous:
        for edge, content in zip(edges["files"]["edges"], files.values(), strict=True):
            if edge["node"]["uploadUrl"]:
                assert (
                    anonymous.put(urlsplit(edge["node"]["uploadUrl"]).path, content=content).status_code
                    == 200
                )
    _upload_manifest(client, node, _wandb_manifest(files))
    committed = gql(client, COMMIT, artifactID=node)
    assert committed.status_code == 200, committed.text
    return node


def _alias_input(node: str, collection: str, *aliases: str, entity: str = "admin") -> dict[str, Any]:
    targets = {"entityName": entity, "projectName": "wb", "artifactCollectionName": collection}
    return {"artifactID": node, "aliases": [{**targets, "alias": a} for a in aliases]}


def _version(client: httpx.Client, label: str) -> dict[str, Any]:
    answer = client.get(f"{API}/artifacts/admin/wb/{label}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _error(answer: httpx.Response, status: int, *words: str) -> None:
    assert answer.status_code == status, answer.text
    message = answer.json()["errors"][0]["message"]
    assert all(word in message for word in words), message


def test_aliases_description_and_metadata_change_after_logging(server: InProcessServer) -> None:
    """``aliases.append/remove`` + ``save()`` by the id the client kept (its pending one) or the
    version's: aliases move from the version that held them, description and metadata change;
    bad input is refused whole, by name."""
    with wandb_client(server) as client:
        node = _log(server, client, "edited", {"a.txt": b"one"})
        added = gql(client, ADD_ALIASES, input=_alias_input(node, "edited", "best", "keep"))
        assert added.status_code == 200 and added.json() == {"data": {"result": {"success": True}}}
        update = {"artifactID": node, "description": "the data", "metadata": json.dumps({"rows": 3}),
                  "ttlDurationSeconds": None, "tagsToAdd": [], "tagsToDelete": []}  # fmt: skip
        updated = gql(client, UPDATE_ARTIFACT, input=update)
        assert updated.status_code == 200, updated.text
        artifact = updated.json()["data"]["result"]["artifact"]
        assert (artifact["description"], json.loads(artifact["metadata"])) == ("the data", {"rows": 3})
        assert sorted(a["alias"] for a in artifact["aliases"]) == ["best", "keep", "latest"]
        v0 = _version(client, "edited:v0")
        assert (v0["aliases"], v0["description"], v0["metadata"]) == (["best", "keep", "latest"], "the data",
                                                                      {"rows": 3})  # fmt: skip
        # a second version takes "best" (by the version's own id this time); "keep" goes
        second = _log(server, client, "edited", {"a.txt": b"two"})
        v1_id = gql(client, UPDATE_ARTIFACT, input={"artifactID": second}).json()["data"]["result"][
            "artifact"
        ]["id"]
        assert gql(client, ADD_ALIASES, input=_alias_input(v1_id, "edited", "best")).status_code == 200
        assert gql(client, DELETE_ALIASES, input=_alias_input(node, "edited", "keep")).status_code == 200
        assert _version(client, "edited:v0")["aliases"] == []
        assert _version(client, "edited:v1")["aliases"] == ["best", "latest"]
        assert _version(client, "edited:v0")["description"] == "the data", (
            "an update without fields keeps them"
        )
        # refused whole: nothing of the request is applied
        _error(gql(client, ADD_ALIASES, input=_alias_input(node, "edited", "fine", "latest")), 400, "latest")
        _error(gql(client, DELETE_ALIASES, input=_alias_input(v1_id, "edited", "latest")), 400, "latest")
        _error(gql(client, ADD_ALIASES, input=_alias_input(node, "other", "x")), 400, "other")
        _error(gql(client, ADD_ALIASES, input=_alias_input(node, "edited", "bad alias/")), 400)
        _error(gql(client, ADD_ALIASES, input={"artifactID": node, "aliases": []}), 400, "aliases")
        _error(gql(client, UPDATE_ARTIFACT, input={**update, "tagsToAdd": [{"tagName": "a/b"}]}), 400, "tag")
        _error(gql(client, UPDATE_ARTIFACT, input={**update, "tagsToAdd": "t"}), 400, "tags")
        for ttl in (0, -3, 1.5, True, "3600"):
            _error(gql(client, UPDATE_ARTIFACT, input={**update, "ttlDurationSeconds": ttl}), 400, "TTL")
        _error(gql(client, UPDATE_ARTIFACT, input={**update, "metadata": "{not json"}), 400, "metadata")
        _error(gql(client, UPDATE_ARTIFACT, input={**update, "metadata": "[1]"}), 400, "metadata")
        _error(
            gql(client, UPDATE_ARTIFACT, input={**update, "artifactID": "garbage"}), 400, "artifact version"
        )
        missing = base64.b64encode(b"Artifact:999999").decode()
        _error(gql(client, UPDATE_ARTIFACT, input={**update, "artifactID": missing}), 404, "not found")
        assert _version(client, "edited:v0")["aliases"] == [], "nothing half-applied"
        assert _version(client, "edited:v0")["metadata"] == {"rows": 3}


def _link(
    client: httpx.Client, node: str, portfolio: str, *aliases: str, entity: str = "admin"
) -> httpx.Response:
    given = {"artifactID": node, "artifactPortfolioName": portfolio, "entityName": entity,
             "projectName": "wb",
             "aliases": [{"artifactCollectionName": portfolio, "alias": a} for a in aliases]}  # fmt: skip
    return gql(client, LINK_ARTIFACT, input=given)


def test_link_artifact_links_into_the_registry_with_its_aliases(server: InProcessServer) -> None:
    """``run.link_artifact(artifact, "models")``: the entity's registry collection ``models``
    (made on first use), the link's aliases the collection's (moving between its versions), the
    answer the link as the client reads it; alias edits of the link change the registry's."""
    with wandb_client(server) as client:
        first = _log(server, client, "model", {"w.bin": b"weights 1"})
        linked = _link(client, first, "models", "prod", "latest")
        assert linked.status_code == 200, linked.text
        result = linked.json()["data"]["result"]
        membership = result["artifactMembership"]
        assert result["versionIndex"] == membership["versionIndex"] == 0
        assert [a["alias"] for a in membership["aliases"]] == ["prod"]
        collection = membership["artifactCollection"]
        project = collection["project"]
        assert (collection["name"], project["name"], project["entity"]["name"]) == ("models", "wb", "admin")
        assert membership["artifact"]["digest"] == _version(client, "model:v0")["digest"]
        second = _log(server, client, "model", {"w.bin": b"weights 2"})
        again = _link(client, second, "models", "prod")
        assert again.json()["data"]["result"]["versionIndex"] == 1
        assert _link(client, first, "models").json()["data"]["result"]["versionIndex"] == 0, "linked once"
        # alias edits on the link (its collection is the portfolio)
        staged = _alias_input(first, "models", "staging")
        assert gql(client, ADD_ALIASES, input=staged).status_code == 200
        listed = client.get(f"{API}/registry/admin/models").json()
        assert [(v["version"], v["registry_aliases"]) for v in listed] == [
            ("v1", ["prod"]),
            ("v0", ["staging"]),
        ]
        # the version read back (updateArtifact's answer, as after save()) holds its links' aliases
        read = gql(client, UPDATE_ARTIFACT, input={"artifactID": first}).json()["data"]["result"]["artifact"]
        held = sorted((a["artifactCollection"]["name"], a["alias"]) for a in read["aliases"])
        assert held == [("models", "staging")], "v0's own: none (latest moved to v1)"
        assert gql(client, DELETE_ALIASES, input=_alias_input(second, "models", "prod")).status_code == 200
        listed = client.get(f"{API}/registry/admin/models").json()
        assert [(v["version"], v["registry_aliases"]) for v in listed] == [("v1", []), ("v0", ["staging"])]
        assert _version(client, "model:v0")["aliases"] == [], "the version's own aliases stay as they were"
        # bad input: refused by name, nothing linked
        _error(_link(client, first, "bad name/"), 400)
        _error(_link(client, first, "models2", "latest", "bad alias/"), 400)
        unlinked = _alias_input(first, "nowhere", "x")
        _error(gql(client, ADD_ALIASES, input=unlinked), 400, "nowhere")
        no_id = {"artifactPortfolioName": "models", "entityName": "admin", "projectName": "wb"}
        _error(gql(client, LINK_ARTIFACT, input=no_id), 400, "artifactID")
        assert client.get(f"{API}/registry/admin/models2").status_code == 404


def test_artifact_edits_check_the_entity_role(server: InProcessServer) -> None:
    """Alias edits and updates need the member role under the version's entity, a link the
    member role where it links to and the viewer role of the version (one of an entity the
    caller is not in is refused, or not found where only reading is asked)."""
    team = f"editteam-{server.backend}"
    with server.client() as admin:
        key = add_team(admin, team, {"viewer": "viewer"})["viewer"]
    name = f"viewer-{team}"
    with wandb_client(server) as client:
        theirs = _log(server, client, "guarded", {"g.txt": b"guarded"}, entity=team)
        private = _log(server, client, "private", {"p.txt": b"private"})
    with wandb_client(server, key) as viewer:
        _error(
            gql(viewer, ADD_ALIASES, input=_alias_input(theirs, "guarded", "mine", entity=team)),
            403,
            "member",
        )
        _error(gql(viewer, DELETE_ALIASES, input=_alias_input(theirs, "guarded", "x", entity=team)), 403)
        _error(gql(viewer, UPDATE_ARTIFACT, input={"artifactID": theirs, "description": "x"}), 403, "member")
        _error(_link(viewer, theirs, "models", entity=team), 403, "member")
        assert _link(viewer, theirs, "models", "mine", entity=name).status_code == 200, "into their own"
        _error(
            gql(viewer, UPDATE_ARTIFACT, input={"artifactID": private, "description": "x"}),
            403,
            "not a member",
        )
        _error(_link(viewer, private, "models", entity=name), 404)
    with server.client() as admin:
        found = admin.get(f"{API}/artifacts/{team}/wb/guarded:v0").json()
        assert (found["aliases"], found["description"]) == (["latest"], None)
        assert [v["registry_aliases"] for v in admin.get(f"{API}/registry/{name}/models").json()] == [
            ["mine"]
        ]


def test_uploads_stream_past_the_body_limit_to_local_blobs(tmp_path: Any) -> None:
    """A signed upload is checked before its body is read, then streams to disk: bigger than the
    server's body limit (the client sends an artifact file of any size in one PUT), bounded by
    the quota (refused before the body is read) and only as sent (no Content-Encoding)."""
    with InProcessServer(tmp_path / "data", max_body_bytes=2**20) as server:
        _upload_past_the_limit(server, "big")


def test_uploads_stream_past_the_body_limit_to_a_bucket(
    request: pytest.FixtureRequest, tmp_path: Any, s3_server: Any
) -> None:
    with start_backend_server(request, tmp_path, "sqlite", s3=s3_server, max_body_bytes=2**20) as server:
        _upload_past_the_limit(server, "bucket")


def _upload_past_the_limit(server: InProcessServer, run: str) -> None:
    content = os.urandom(3 * 2**20 + 1)  # three times the body limit, and not a whole block
    with wandb_client(server) as client:
        upsert(client, run)
        made = gql(
            client, CREATE_RUN_FILES, entity="admin", project="wb", run=run, files=["big.bin", "gz.bin"]
        )
        urls = {
            f["name"]: urlsplit(f["uploadUrl"]).path for f in made.json()["data"]["createRunFiles"]["files"]
        }
        with server.anonymous() as anonymous:
            stored = anonymous.put(urls["big.bin"], content=content)
            assert stored.status_code == 200 and stored.json()["size"] == len(content), stored.text
            packed = anonymous.put(urls["gz.bin"], content=b"x", headers={"Content-Encoding": "gzip"})
            assert packed.status_code == 415 and "Content-Encoding" in packed.text
            assert anonymous.put("/wandb/uploads/garbage", content=content).status_code == 403
        back = client.get(f"{API}/runs/admin/wb/{run}/files/big.bin")
        assert hashlib.sha256(back.content).hexdigest() == hashlib.sha256(content).hexdigest()
        assert client.put(f"{API}/users/admin/quota", json={"max_bytes": 2**20}).status_code == 200
        with server.anonymous() as anonymous:
            over = anonymous.put(urls["gz.bin"], content=content)
            assert over.status_code == 507 and "quota" in over.text
        assert client.put(f"{API}/users/admin/quota", json={"max_bytes": None}).status_code == 200
        names = {f["name"] for f in client.get(f"{API}/runs/admin/wb/{run}/files").json()["files"]}
        assert "gz.bin" not in names, "nothing stored of a refused upload"


def test_a_file_the_client_would_send_in_parts_gets_one_url(server: InProcessServer) -> None:
    """wandb-core asks for multipart URLs from 2 GiB on (``uploadPartsInput``: each part's md5):
    the server hands out one plain URL and no ``uploadMultipartUrls``, and the client then sends
    the file in one PUT, as to W&B's own local storage."""
    files = {"huge.bin": b"pretend this is 2 GiB"}
    with wandb_client(server) as client:
        upsert(client, "arts")
        node = _pending(client, "parts", files)
        parts = [{"partNumber": 1, "hexMD5": hashlib.md5(files["huge.bin"]).hexdigest()}]
        asked = [{"artifactID": node, "artifactManifestID": node, "name": "huge.bin",
                  "md5": _md5(files["huge.bin"]), "uploadPartsInput": parts}]  # fmt: skip
        made = gql(client, CREATE_FILES, input={"artifactFiles": asked, "storageLayout": "V2"})
        (edge,) = made.json()["data"]["createArtifactFiles"]["files"]["edges"]
        assert edge["node"]["uploadMultipartUrls"] is None and edge["node"]["uploadUrl"]
        with server.anonymous() as anonymous:
            assert (
                anonymous.put(urlsplit(edge["node"]["uploadUrl"]).path, content=files["huge.bin"]).status_code
                == 200
            )
        _upload_manifest(client, node, _wandb_manifest(files))
        assert gql(client, COMMIT, artifactID=node).status_code == 200
        assert _version(client, "parts:v0")["size"] == len(files["huge.bin"])


def _tags_ttl(client: httpx.Client, node: str, **given: Any) -> dict[str, Any]:
    answer = gql(client, TAGS_TTL, input={"artifactID": node, **given})
    assert answer.status_code == 200, answer.text
    artifact = answer.json()["data"]["result"]["artifact"]
    return {"tags": [t["name"] for t in artifact["tags"]], "ttl": artifact["ttlDurationSeconds"],
            "inherited": artifact["ttlIsInherited"]}  # fmt: skip


def _expire(server: InProcessServer, after: float) -> str:
    """Expiry as if ``after`` seconds had passed (the trash kept far longer)."""
    state = server.app.state
    config = dataclasses.replace(state.config, trash_max_age=10**9)
    return str(collect(state.db, state.blobs, config, now=time.time() + after))


def test_tags_and_ttl_are_kept_and_a_ttl_sends_the_version_to_the_trash(server: InProcessServer) -> None:
    """``artifact.tags = […]`` and ``artifact.ttl = timedelta(…)`` then ``save()``: the version's
    tags (added and taken off) and TTL, shown by wakelog's REST API too; expiry moves a version
    past its TTL to the trash as a delete does (``latest`` moves back), and nothing else."""
    with wandb_client(server) as client:
        node = _log(server, client, "kept", {"k.txt": b"kept 1"})
        assert _tags_ttl(client, node) == {"tags": [], "ttl": -1, "inherited": True}
        add = [{"tagName": t} for t in ("raw", "from camera", "raw")]
        assert _tags_ttl(client, node, tagsToAdd=add)["tags"] == ["raw", "from camera"]
        done = _tags_ttl(client, node, tagsToDelete=[{"tagName": "raw"}], ttlDurationSeconds=3600)
        assert done == {"tags": ["from camera"], "ttl": 3600, "inherited": False}
        assert _tags_ttl(client, node, ttlDurationSeconds=None)["ttl"] == 3600, "not sent: unchanged"
        v0 = _version(client, "kept:v0")
        assert (v0["tags"], v0["ttl"]) == (["from camera"], 3600)
        second = _log(server, client, "kept", {"k.txt": b"kept 2"})
        for no_ttl in (-1, -2):  # the client's INHERIT and DISABLED: kept until deleted
            assert _tags_ttl(client, second, ttlDurationSeconds=7200)["ttl"] == 7200
            assert _tags_ttl(client, second, ttlDurationSeconds=no_ttl) == {
                "tags": [], "ttl": -1, "inherited": True,
            }  # fmt: skip
        assert _tags_ttl(client, second, ttlDurationSeconds=7200)["ttl"] == 7200
        assert "moved 0 artifact versions past their TTL" in _expire(server, 1800)
        report = _expire(server, 3700)
        assert "moved 1 artifact versions past their TTL to the trash" in report, report
        assert client.get(f"{API}/artifacts/admin/wb/kept:v0").status_code == 404
        assert _version(client, "kept:v1")["aliases"] == ["latest"]
        assert "moved 1 artifact versions" in _expire(server, 7300)
        assert client.get(f"{API}/artifacts/admin/wb/kept/versions").status_code == 404
        assert "1 artifact versions" not in _expire(server, 7300).split(",")[0], "once"


def test_delete_and_unlink_as_the_client_sends_them(server: InProcessServer) -> None:
    """``artifact.delete()``: refused (409, the aliases named, nothing changed) while the version
    holds aliases, ``latest`` included as on W&B; with ``delete_aliases=True`` the version goes
    to the trash like wakelog's own delete. ``linked.unlink()``: the link and its aliases go, the
    version stays. Unknown ids and collections are refused by name."""
    with wandb_client(server) as client:
        first = _log(server, client, "gone", {"g.txt": b"gone 1"})
        second = _log(server, client, "gone", {"g.txt": b"gone 2"})
        assert gql(client, ADD_ALIASES, input=_alias_input(first, "gone", "best")).status_code == 200
        _error(gql(client, DELETE_ARTIFACT, input={"artifactID": first}), 409, "best", "delete_aliases")
        _error(
            gql(client, DELETE_ARTIFACT, input={"artifactID": second, "deleteAliases": False}), 409, "latest"
        )
        assert _version(client, "gone:v0")["aliases"] == ["best"], "nothing changed"
        deleted = gql(client, DELETE_ARTIFACT, input={"artifactID": first, "deleteAliases": True})
        assert deleted.status_code == 200, deleted.text
        assert client.get(f"{API}/artifacts/admin/wb/gone:v0").status_code == 404
        assert client.get(f"{API}/artifacts/admin/wb/gone:best").status_code == 404
        _error(gql(client, DELETE_ARTIFACT, input={"artifactID": first, "deleteAliases": True}), 404)
        _error(gql(client, DELETE_ARTIFACT, input={"artifactID": "garbage"}), 400, "artifact version")
        _error(gql(client, DELETE_ARTIFACT, input={"artifactID": second, "deleteAliases": "yes"}), 400)
        deleted = gql(client, DELETE_ARTIFACT, input={"artifactID": second, "deleteAliases": True})
        assert deleted.status_code == 200, deleted.text
        assert client.get(f"{API}/artifacts/admin/wb/gone/versions").status_code == 404

        model = _log(server, client, "net", {"n.bin": b"net"})
        assert _link(client, model, "nets", "prod").status_code == 200
        found = gql(client, COLLECTION, entity="admin", project="wb", type="dataset", name="nets")
        collection = found.json()["data"]["project"]["artifactType"]["artifactCollection"]
        assert (collection["__typename"], collection["name"], collection["type"]) == (
            "ArtifactPortfolio", "nets", {"name": "dataset"},
        )  # fmt: skip
        own = gql(client, COLLECTION, entity="admin", project="wb", type="dataset", name="net")
        assert own.json()["data"]["project"]["artifactType"]["artifactCollection"]["__typename"] == (
            "ArtifactSequence"
        )
        nothing = gql(client, COLLECTION, entity="admin", project="wb", type="dataset", name="nowhere")
        assert nothing.json()["data"]["project"]["artifactType"]["artifactCollection"] is None
        unlink = {"artifactID": model, "artifactPortfolioID": collection["id"]}
        sequence = own.json()["data"]["project"]["artifactType"]["artifactCollection"]["id"]
        _error(
            gql(client, UNLINK_ARTIFACT, input={**unlink, "artifactPortfolioID": sequence}), 400, "collection"
        )
        assert gql(client, UNLINK_ARTIFACT, input=unlink).json() == {"data": {"result": {"success": True}}}
        assert client.get(f"{API}/registry/admin/nets").json() == []
        assert _version(client, "net:v0")["aliases"] == ["latest"], "the version stays"
        _error(gql(client, UNLINK_ARTIFACT, input=unlink), 404, "not linked")
        gone = base64.b64encode(b"ArtifactPortfolio:999999").decode()
        _error(gql(client, UNLINK_ARTIFACT, input={**unlink, "artifactPortfolioID": gone}), 404)


def test_delete_and_unlink_check_the_entity_role(server: InProcessServer) -> None:
    """Deleting a version needs the member role under its entity, unlinking the member role
    under the collection's; a viewer is refused (403), a stranger finds nothing (404)."""
    team = f"delteam-{server.backend}"
    with server.client() as admin:
        key = add_team(admin, team, {"viewer": "viewer"})["viewer"]
    with wandb_client(server) as client:
        theirs = _log(server, client, "held", {"h.txt": b"held"}, entity=team)
        private = _log(server, client, "mine", {"m.txt": b"mine"})
        assert _link(client, theirs, "models", entity=team).status_code == 200
        found = gql(client, COLLECTION, entity=team, project="wb", type="dataset", name="models")
        portfolio = found.json()["data"]["project"]["artifactType"]["artifactCollection"]["id"]
    with wandb_client(server, key) as viewer:
        delete = {"artifactID": theirs, "deleteAliases": True}
        _error(gql(viewer, DELETE_ARTIFACT, input=delete), 403, "member")
        _error(gql(viewer, DELETE_ARTIFACT, input={**delete, "artifactID": private}), 403, "not a member")
        unlink = {"artifactID": theirs, "artifactPortfolioID": portfolio}
        _error(gql(viewer, UNLINK_ARTIFACT, input=unlink), 403, "member")
        _error(gql(viewer, TAGS_TTL, input={"artifactID": theirs, "ttlDurationSeconds": 60}), 403, "member")
    with server.client() as admin:
        assert admin.get(f"{API}/artifacts/{team}/wb/held:v0").json()["ttl"] is None
        assert len(admin.get(f"{API}/registry/{team}/models").json()) == 1
        assert admin.get(f"{API}/artifacts/admin/wb/mine:v0").status_code == 200


def _artifact_audit(client: httpx.Client, *targets: str) -> list[tuple[str, str, Any, Any]]:
    """(action, actor, before, after) of the audit entries for ``targets``, oldest first."""
    entries = client.get(f"{API}/audit", params={"limit": 1000}).json()["entries"]
    return [
        (e["action"], e["actor"], e["before"], e["after"])
        for e in reversed(entries)
        if e["target"] in targets
    ]


def test_artifact_changes_are_audited_before_and_after(server: InProcessServer) -> None:
    """Aliasing, tagging, linking, unlinking and deleting a version as the client does leave audit
    entries naming who and the fields before → after; a refused change and an edit that changes
    nothing leave none."""
    with wandb_client(server) as client:
        node = _log(server, client, "audited", {"a.txt": b"audited"})
        assert gql(client, ADD_ALIASES, input=_alias_input(node, "audited", "best")).status_code == 200
        _error(gql(client, ADD_ALIASES, input=_alias_input(node, "audited", "fine", "latest")), 400, "latest")
        assert _tags_ttl(client, node, tagsToAdd=[{"tagName": "raw"}], ttlDurationSeconds=3600)["ttl"] == 3600
        assert _tags_ttl(client, node)["tags"] == ["raw"], "a save that changes nothing"
        assert _link(client, node, "audits", "prod").status_code == 200
        assert gql(client, ADD_ALIASES, input=_alias_input(node, "audits", "staging")).status_code == 200
        found = gql(client, COLLECTION, entity="admin", project="wb", type="dataset", name="audits")
        portfolio = found.json()["data"]["project"]["artifactType"]["artifactCollection"]["id"]
        unlink = {"artifactID": node, "artifactPortfolioID": portfolio}
        assert gql(client, UNLINK_ARTIFACT, input=unlink).status_code == 200
        digest = _version(client, "audited:v0")["digest"]
        deleted = gql(client, DELETE_ARTIFACT, input={"artifactID": node, "deleteAliases": True})
        assert deleted.status_code == 200, deleted.text
        label = "admin/wb/audited:v0"
        link = {"version": label, "aliases": ["prod"]}
        assert _artifact_audit(client, label, "admin/registry/audits") == [
            ("artifact.edit", "admin", {"aliases": ["latest"]}, {"aliases": ["best", "latest"]}),
            ("artifact.edit", "admin", {"tags": [], "ttl": None}, {"tags": ["raw"], "ttl": 3600}),
            ("artifact.link", "admin", None, link),
            ("artifact.link", "admin", link, {**link, "aliases": ["prod", "staging"]}),
            ("artifact.unlink", "admin", {**link, "aliases": ["prod", "staging"]}, None),
            (
                "artifact.delete",
                "admin",
                {"aliases": ["best", "latest"], "tags": ["raw"], "digest": digest},
                None,
            ),
        ]
