"""``wandb.Api()``'s artifact listings (types, collections, a collection's versions and aliases, a
run's logged and used artifacts), sent as wandb 0.31 sends them, on both database backends. The
real client is tests/integration/test_wandb_client.py."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from tests.harness import InProcessServer
from tests.server.conftest import add_team
from tests.server.test_wandb_artifact_edits import _alias_input, _error, _log
from tests.server.test_wandb_compat import ADD_ALIASES, COLLECTION, DELETE_ARTIFACT, UPSERT, gql, wandb_client

API = "/api/v1"
PAGE_INFO = "pageInfo { __typename endCursor hasNextPage }"
#: The client's ``ArtifactFragment`` (what each listed version is read as).
ARTIFACT = """
fragment ArtifactFragment on Artifact {
  __typename id artifactSequence { __typename name project { id internalId name entity { name } } }
  versionIndex artifactType { name } description metadata ttlDurationSeconds ttlIsInherited
  tags { __typename id name } historyStep state size digest digestAlgorithm @include(if: true)
  commitHash fileCount createdAt updatedAt
  aliases @include(if: $includeAliases) {
    artifactCollection { __typename name project { id internalId name entity { name } } }
    __typename id alias
  }
}
"""
COLLECTION_FIELDS = """
fragment ArtifactCollectionFragment on ArtifactCollection {
  __typename id name description createdAt updatedAt project { id internalId name entity { name } }
  type: defaultArtifactType { name } tags { edges { node { __typename id name } } }
}
"""
TYPES = f"""
query ProjectArtifactTypes($entity: String!, $project: String!, $cursor: String, $perPage: Int) {{
  project(name: $project, entityName: $entity) {{
    artifactTypes(after: $cursor, first: $perPage) {{
      edges {{ node {{ __typename id name description createdAt }} }} {PAGE_INFO}
    }}
  }}
}}
"""
TYPE = """
query ProjectArtifactType($entity: String!, $project: String!, $type: String!) {
  project(entityName: $entity, name: $project) {
    artifactType(name: $type) { __typename id name description createdAt }
  }
}
"""
TYPE_COLLECTIONS = f"""
query ArtifactTypeArtifactCollections($entity: String!, $project: String!, $type: String!, $cursor: String,
    $perPage: Int, $filters: JSONString, $order: String) {{
  project(entityName: $entity, name: $project) {{
    artifactType(name: $type) {{
      artifactCollections(after: $cursor, first: $perPage, filters: $filters, order: $order) {{
        totalCount {PAGE_INFO} edges {{ node {{ __typename ...ArtifactCollectionFragment }} }}
      }}
    }}
  }}
}}
{COLLECTION_FIELDS}
"""
PROJECT_COLLECTIONS = f"""
query ProjectArtifactCollections($entity: String!, $project: String!, $cursor: String, $perPage: Int,
    $filters: JSONString, $order: String) {{
  project(entityName: $entity, name: $project) {{
    artifactCollections(after: $cursor, first: $perPage, filters: $filters, order: $order) {{
      totalCount @include(if: true) {PAGE_INFO}
      edges {{ node {{ __typename ...ArtifactCollectionFragment }} }}
    }}
  }}
}}
{COLLECTION_FIELDS}
"""
VERSIONS = f"""
query ProjectArtifacts($entity: String!, $project: String!, $type: String!, $collection: String!,
    $cursor: String, $perPage: Int = 50, $order: String, $filters: JSONString,
    $includeAliases: Boolean = true) {{
  project(entityName: $entity, name: $project) {{
    artifactType(name: $type) {{
      artifactCollection(name: $collection) {{
        __typename
        artifacts(after: $cursor, first: $perPage, order: $order, filters: $filters) {{
          totalCount {PAGE_INFO} edges {{ version node {{ ...ArtifactFragment }} }}
        }}
      }}
    }}
  }}
}}
{ARTIFACT}
"""
ALIASES = f"""
query ArtifactCollectionAliases($id: ID!, $cursor: String, $perPage: Int = 1000) {{
  artifactCollection(id: $id) {{
    __typename
    aliases(after: $cursor, first: $perPage) {{ {PAGE_INFO} edges {{ node {{ __typename id alias }} }} }}
  }}
}}
"""


def _run_artifacts(field: str) -> str:
    return f"""
query RunArtifacts($entity: String!, $project: String!, $run: String!, $cursor: String, $perPage: Int,
    $includeAliases: Boolean = true) {{
  project(entityName: $entity, name: $project) {{
    run(name: $run) {{
      artifacts: {field}(after: $cursor, first: $perPage) {{
        totalCount {PAGE_INFO} edges {{ node {{ ...ArtifactFragment }} }}
      }}
    }}
  }}
}}
{ARTIFACT}
"""


OUTPUTS, INPUTS = _run_artifacts("outputArtifacts"), _run_artifacts("inputArtifacts")
USE = """
mutation UseArtifact($input: UseArtifactInput!) { useArtifact(input: $input) { artifact { id } } }
"""


def _ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    assert "errors" not in answer.json(), answer.text
    return answer.json()["data"]


def _all_pages(client: httpx.Client, query: str, path: list[str], per_page: int, **variables: Any) -> Any:
    """Every page of a listing, as the client's paginator reads them: (pages, edges)."""
    pages: list[Any] = []
    cursor = None
    while True:
        found = _ok(gql(client, query, perPage=per_page, cursor=cursor, **variables))
        for name in path:
            found = found[name]
        pages.append(found)
        cursor = found["pageInfo"]["endCursor"]
        if not found["pageInfo"]["hasNextPage"]:
            return pages, [e for page in pages for e in page["edges"]]


def _logged(server: InProcessServer, client: httpx.Client, team: str) -> dict[str, str]:
    """In ``team/wb``: ``ds`` v0-v3 (v1 trashed, ``best`` on v0) and ``weights`` (a model), logged
    by run ``arts``; run ``reader`` used ``ds:v0`` and ``weights:v0``. The query variables."""
    with server.client() as admin:
        add_team(admin, team, {})
    ids = [_log(server, client, "ds", {"d.txt": f"data {i}".encode()}, entity=team) for i in range(4)]
    weights = _log(server, client, "weights", {"w.bin": b"w"}, entity=team, type_="model")
    best = _alias_input(ids[0], "ds", "best", entity=team)
    assert gql(client, ADD_ALIASES, input=best).status_code == 200
    trashed = gql(client, DELETE_ARTIFACT, input={"artifactID": ids[1], "deleteAliases": True})
    assert trashed.status_code == 200, trashed.text
    assert gql(client, UPSERT, entity=team, project="wb", name="reader").status_code == 200
    use = {"entityName": team, "projectName": "wb", "runName": "reader"}
    for node in (ids[0], weights):
        assert gql(client, USE, input={**use, "artifactID": node}).status_code == 200
    return {"entity": team, "project": "wb"}


def test_types_and_collections_list_and_page(server: InProcessServer) -> None:
    """``artifact_types``/``artifact_type`` and ``artifact_collections`` (of a type, and the
    project's), across pages: one collection as ``artifact_collection`` reads it."""
    with wandb_client(server) as client:
        where = _logged(server, client, f"lists-{server.backend}")
        pages, edges = _all_pages(client, TYPES, ["project", "artifactTypes"], 1, **where)
        assert [e["node"]["name"] for e in edges] == ["dataset", "model"] and len(pages) == 2
        assert all(e["node"]["id"] and e["node"]["createdAt"] for e in edges)
        one = _ok(gql(client, TYPE, type="model", **where))["project"]["artifactType"]
        assert (one["name"], one["id"]) == ("model", edges[1]["node"]["id"])
        assert _ok(gql(client, TYPE, type="nope", **where))["project"]["artifactType"] is None

        pages, edges = _all_pages(client, PROJECT_COLLECTIONS, ["project", "artifactCollections"], 1, **where)
        named = [(e["node"]["name"], e["node"]["type"]["name"]) for e in edges]
        assert named == [("ds", "dataset"), ("weights", "model")]
        assert [p["totalCount"] for p in pages] == [2, 2]
        typed = _ok(gql(client, TYPE_COLLECTIONS, type="dataset", **where))["project"]["artifactType"]
        listed = typed["artifactCollections"]
        assert [e["node"]["name"] for e in listed["edges"]] == ["ds"] and listed["totalCount"] == 1
        node = listed["edges"][0]["node"]
        alone = _ok(gql(client, COLLECTION, type="dataset", name="ds", **where))
        assert node == alone["project"]["artifactType"]["artifactCollection"], (
            "as artifact_collection reads it"
        )
        assert (node["__typename"], node["project"]["entity"]["name"]) == (
            "ArtifactSequence",
            where["entity"],
        )
        _error(gql(client, TYPE_COLLECTIONS, type="dataset", order="name", **where), 400, "order")


def test_versions_aliases_and_run_artifacts_leave_trashed_versions_out(server: InProcessServer) -> None:
    """A collection's versions (newest first, each the version the REST API shows) and aliases,
    a run's logged and used versions, across pages; a trashed version shows nowhere; filters
    wakelog does not apply, and cursors it did not hand out, are refused by name."""
    with wandb_client(server) as client:
        where = _logged(server, client, f"versions-{server.backend}")
        team = where["entity"]
        path = ["project", "artifactType", "artifactCollection", "artifacts"]
        filters = json.dumps({"state": "COMMITTED"})  # the client's default
        versions = {"type": "dataset", "collection": "ds", **where}
        pages, edges = _all_pages(client, VERSIONS, path, 2, filters=filters, **versions)
        assert [len(p["edges"]) for p in pages] == [2, 1] and {p["totalCount"] for p in pages} == {3}
        assert [e["version"] for e in edges] == ["v3", "v2", "v0"], "newest first, v1 trashed"
        for edge in edges:
            rest = client.get(f"{API}/artifacts/{team}/wb/ds:{edge['version']}").json()
            artifact = edge["node"]
            assert f"v{artifact['versionIndex']}" == edge["version"]
            assert (artifact["digest"], artifact["size"], json.loads(artifact["metadata"])) == (
                rest["digest"], rest["size"], rest["metadata"],
            )  # fmt: skip
            assert sorted(a["alias"] for a in artifact["aliases"]) == rest["aliases"]

        found = _ok(gql(client, COLLECTION, type="dataset", name="ds", **where))
        collection_id = found["project"]["artifactType"]["artifactCollection"]["id"]
        aliases = _ok(gql(client, ALIASES, id=collection_id))["artifactCollection"]["aliases"]
        assert [e["node"]["alias"] for e in aliases["edges"]] == ["best", "latest"]
        _, edges = _all_pages(client, ALIASES, ["artifactCollection", "aliases"], 1, id=collection_id)
        assert [e["node"]["alias"] for e in edges] == ["best", "latest"]

        pages, edges = _all_pages(client, OUTPUTS, ["project", "run", "artifacts"], 3, run="arts", **where)
        assert [(a["node"]["artifactSequence"]["name"], a["node"]["versionIndex"]) for a in edges] == [
            ("ds", 0), ("ds", 2), ("ds", 3), ("weights", 0),
        ]  # fmt: skip
        assert [p["totalCount"] for p in pages] == [4, 4]
        used = _ok(gql(client, INPUTS, run="reader", **where))["project"]["run"]["artifacts"]
        assert [e["node"]["artifactSequence"]["name"] for e in used["edges"]] == ["ds", "weights"]

        _error(gql(client, VERSIONS, filters=json.dumps({"alias": "best"}), **versions), 400, "filter")
        _error(gql(client, VERSIONS, order="-createdAt", **versions), 400, "order")
        _error(gql(client, VERSIONS, cursor="not a cursor", **versions), 400, "after")
        wrong = base64.b64encode(b'["v1"]').decode()  # a list, but not a version cursor
        _error(gql(client, VERSIONS, cursor=wrong, **versions), 400, "after")
        _error(gql(client, VERSIONS, filters="{not json", **versions), 400, "filters")
        _error(gql(client, VERSIONS, perPage=0, **versions), 400, "first")
        _error(gql(client, ALIASES, id="garbage"), 400, "artifact collection")


def test_listings_need_the_viewer_role(server: InProcessServer) -> None:
    """A viewer of the entity lists its artifacts (and not a used version of an entity they cannot
    read); a stranger finds nothing: the project not found, the collection's aliases null."""
    team = f"listers-{server.backend}"
    with server.client() as admin:
        keys = add_team(admin, team, {"viewer": "viewer", "stranger": None})
    where = {"entity": team, "project": "wb"}
    with wandb_client(server) as client:
        _log(server, client, "shared", {"s.txt": b"shared"}, entity=team)
        private = _log(server, client, "private", {"p.txt": b"private to admin"})
        assert gql(client, UPSERT, entity=team, project="wb", name="user").status_code == 200
        use = {"entityName": team, "projectName": "wb", "runName": "user", "artifactID": private}
        assert gql(client, USE, input=use).status_code == 200
        assert len(_ok(gql(client, INPUTS, run="user", **where))["project"]["run"]["artifacts"]["edges"]) == 1
        collection = _ok(gql(client, COLLECTION, type="dataset", name="shared", **where))
        collection_id = collection["project"]["artifactType"]["artifactCollection"]["id"]
    with wandb_client(server, keys["viewer"]) as viewer:
        types = _ok(gql(viewer, TYPES, **where))["project"]["artifactTypes"]["edges"]
        assert [e["node"]["name"] for e in types] == ["dataset"]
        versions = _ok(gql(viewer, VERSIONS, type="dataset", collection="shared", **where))
        assert [e["version"] for e in versions["project"]["artifactType"]["artifactCollection"]["artifacts"][
            "edges"
        ]] == ["v0"]  # fmt: skip
        assert _ok(gql(viewer, INPUTS, run="user", **where))["project"]["run"]["artifacts"] == {
            "totalCount": 0,
            "pageInfo": {"__typename": "PageInfo", "endCursor": None, "hasNextPage": False},
            "edges": [],
        }, "admin's own version is not theirs to see"
        aliases = _ok(gql(viewer, ALIASES, id=collection_id))["artifactCollection"]["aliases"]["edges"]
        assert [e["node"]["alias"] for e in aliases] == ["latest"]
    with wandb_client(server, keys["stranger"]) as stranger:
        for query, more in (
            (TYPES, {}),
            (TYPE, {"type": "dataset"}),
            (PROJECT_COLLECTIONS, {}),
            (VERSIONS, {"type": "dataset", "collection": "shared"}),
            (OUTPUTS, {"run": "arts"}),
        ):
            _error(gql(stranger, query, **where, **more), 404, "not found")
        assert _ok(gql(stranger, ALIASES, id=collection_id)) == {"artifactCollection": None}
