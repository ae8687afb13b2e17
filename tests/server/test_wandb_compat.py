"""The routes the stock wandb client calls, driven as it drives them (its request shapes, taken from
its traffic): GraphQL operations, the file stream's resends, signed uploads, and hostile bodies.
The real client against a real server is tests/integration/test_wandb_client.py."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import FakeClock, InProcessServer
from tests.server.conftest import add_team, hang_up_mid_body, request_trips
from wakelog._artifacts import manifest_digest
from wakelog.server.errors import InvalidRequest
from wakelog.server.keycache import KeyCache
from wakelog.server.wandb_compat import graphql

UPSERT = """
mutation UpsertBucket($id: String, $name: String, $project: String, $entity: String, $groupName: String,
    $displayName: String, $notes: String, $config: JSONString, $jobType: String, $tags: [String!]) {
  upsertBucket(input: {id: $id, name: $name, modelName: $project, entityName: $entity, groupName: $groupName,
      displayName: $displayName, notes: $notes, config: $config, jobType: $jobType, tags: $tags}) {
    bucket { id name displayName config project { name entity { name } } historyLineCount }
    inserted
  }
}
"""
CREATE_RUN_FILES = """
mutation CreateRunFiles($entity: String!, $project: String!, $run: String!, $files: [String!]!) {
  createRunFiles(input: {entityName: $entity, projectName: $project, runName: $run, files: $files}) {
    runID uploadHeaders files { name uploadUrl }
  }
}
"""
STOPPED = """
query RunStoppedStatus($entityName: String, $projectName: String, $runId: String!) {
  project(name: $projectName, entityName: $entityName) { run(name: $runId) { stopped } }
}
"""
#: What wandb.Api (0.31) sends for ``api.runs(path, filters=…)`` (its lazy fragment), a run's
#: fields, and history (``history()``, ``scan_history()``'s pages), as recorded from its traffic.
RUNS = """
query Runs($project: String!, $entity: String!, $cursor: String, $perPage: Int = 50, $order: String,
    $filters: JSONString) {
  project(name: $project, entityName: $entity) {
    internalId
    runCount(filters: $filters)
    readOnly
    runs(filters: $filters, after: $cursor, first: $perPage, order: $order) {
      edges { node { projectId id tags name displayName sweepName state group jobType commit readOnly
                     createdAt heartbeatAt description notes historyLineCount user { name username } }
              cursor }
      pageInfo { endCursor hasNextPage }
    }
  }
}
"""
RUN = """
query Run($project: String!, $entity: String!, $name: String!, $samples: Int, $specs: [JSONString!]!) {
  project(name: $project, entityName: $entity) {
    run(name: $name) {
      projectId state config summaryMetrics systemMetrics historyKeys
      history(samples: $samples) sampledHistory(specs: $specs)
    }
  }
}
"""
HISTORY_PAGE = """
query HistoryPage($entity: String!, $project: String!, $run: String!, $minStep: Int64!, $maxStep: Int64!,
    $pageSize: Int!) {
  project(name: $project, entityName: $entity) {
    run(name: $run) { history(minStep: $minStep, maxStep: $maxStep, samples: $pageSize) }
  }
}
"""
#: wandb-core's artifact operations (0.31), as its binary holds them, fragments spread in.
CREATE_ARTIFACT = """
mutation CreateArtifact($input: CreateArtifactInput!) {
  createArtifact(input: $input) { artifact { id state artifactSequence { latestArtifact { id } } } }
}
"""
CREATE_MANIFEST = """
mutation CreateArtifactManifest($artifactID: ID!, $baseArtifactID: ID, $name: String!, $digest: String!,
    $entityName: String!, $projectName: String!, $runName: String!, $manifestType: ArtifactManifestType!,
    $includeUpload: Boolean!) {
  createArtifactManifest(input: {artifactID: $artifactID, baseArtifactID: $baseArtifactID, name: $name,
      digest: $digest, entityName: $entityName, projectName: $projectName, runName: $runName,
      type: $manifestType}) {
    artifactManifest { id file { id uploadUrl @include(if: $includeUpload)
                                 uploadHeaders @include(if: $includeUpload) } }
  }
}
"""
CREATE_FILES = """
mutation CreateArtifactFiles($input: CreateArtifactFilesInput!) {
  createArtifactFiles(input: $input) {
    files { edges { node { storagePath uploadUrl uploadHeaders
                           uploadMultipartUrls { uploadID uploadUrlParts { partNumber uploadUrl } }
                           artifact { id } } } }
  }
}
"""
COMMIT = """
mutation CommitArtifact($artifactID: ID!) {
  commitArtifact(input: {artifactID: $artifactID}) { artifact { id digest } }
}
"""
FILE_URLS = """
query GetArtifactMembershipFileUrls($entity: String!, $project: String!, $collection: String!,
    $alias: String!, $cursor: String, $perPage: Int) {
  project(name: $project, entityName: $entity) {
    artifactCollection(name: $collection) {
      __typename
      artifactMembership(aliasName: $alias) {
        files(after: $cursor, first: $perPage) {
          pageInfo { __typename endCursor hasNextPage }
          edges { node { __typename name directUrl } }
        }
      }
    }
  }
}
"""

#: What ``artifact.save()`` of a logged version sends (0.31): alias edits, then the update.
ADD_ALIASES = """
mutation AddAliases($input: AddAliasesInput!) { result: addAliases(input: $input) { success } }
"""
DELETE_ALIASES = """
mutation DeleteAliases($input: DeleteAliasesInput!) { result: deleteAliases(input: $input) { success } }
"""
UPDATE_ARTIFACT = """
mutation UpdateArtifact($input: UpdateArtifactInput!, $includeAliases: Boolean = true) {
  result: updateArtifact(input: $input) {
    artifact { __typename id versionIndex description metadata ttlDurationSeconds state digest
               artifactSequence { __typename name project { id internalId name entity { name } } }
               aliases @include(if: $includeAliases) {
                 __typename id alias
                 artifactCollection { __typename name project { name entity { name } } } } }
  }
}
"""
#: ``artifact.delete(delete_aliases=…)`` and ``linked.unlink()``, as wandb 0.31 sends them.
DELETE_ARTIFACT = """
mutation DeleteArtifact($input: DeleteArtifactInput!) {
  result: deleteArtifact(input: $input) { artifact { id } }
}
"""
UNLINK_ARTIFACT = """
mutation UnlinkArtifact($input: UnlinkArtifactInput!) {
  result: unlinkArtifact(input: $input) { success }
}
"""
#: What the client reads for a linked artifact's ``collection`` (its id is unlink's portfolio id).
COLLECTION = """
query ProjectArtifactCollection($entity: String!, $project: String!, $type: String!, $name: String!) {
  project(entityName: $entity, name: $project) {
    artifactType(name: $type) {
      artifactCollection(name: $name) {
        __typename id name description createdAt updatedAt
        project { id internalId name entity { name } }
        type: defaultArtifactType { name }
        tags { edges { node { __typename id name } } }
      }
    }
  }
}
"""
#: ``run.link_artifact(artifact, "portfolio")`` (with the membership in the answer: serverInfo says so).
LINK_ARTIFACT = """
mutation LinkArtifact($input: LinkArtifactInput!, $includeAliases: Boolean = true) {
  result: linkArtifact(input: $input) {
    versionIndex
    artifactMembership {
      __typename id versionIndex createdAt aliases { __typename id alias }
      artifactCollection { __typename name project { id internalId name entity { name } } }
      artifact { __typename id versionIndex digest
                 aliases @include(if: $includeAliases) { alias artifactCollection { name } } }
    }
  }
}
"""

EXAMPLES = int(os.environ.get("WAKELOG_TEST_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("WAKELOG_TEST_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=list(HealthCheck),
)


def gql(client: httpx.Client, query: str, **variables: Any) -> httpx.Response:
    return client.post("/graphql", json={"query": query, "variables": variables})


def wandb_client(server: InProcessServer, key: str | None = None) -> httpx.Client:
    """Authenticated as the wandb client is: HTTP Basic ``api:local-<key>``."""
    return server.client("local-" + (key or server.key))


def upsert(client: httpx.Client, run: str, **fields: Any) -> dict[str, Any]:
    answer = gql(client, UPSERT, entity="admin", project="wb", name=run, **fields)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["upsertBucket"]


def stream(client: httpx.Client, run: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"/files/admin/wb/{run}/file_stream", json=body)


def history_lines(*rows: dict[str, Any], offset: int) -> dict[str, Any]:
    return {"offset": offset, "content": [json.dumps(row) for row in rows]}


def test_upsert_bucket_creates_then_updates_the_run(server: InProcessServer) -> None:
    with wandb_client(server) as client:
        config = json.dumps({"lr": {"value": 0.1, "desc": None}, "_wandb": {"value": {"t": {}}}})
        first = upsert(
            client, "up1", displayName="first", config=config, tags=["x"], groupName="g", jobType="t"
        )
        assert first["inserted"] is True
        assert first["bucket"]["name"] == "up1" and first["bucket"]["displayName"] == "first"
        assert first["bucket"]["project"] == {"name": "wb", "entity": {"name": "admin"}}
        assert json.loads(first["bucket"]["config"]) == {"lr": {"value": 0.1, "desc": None}}
        again = upsert(client, "up1", notes="later", config=json.dumps({"lr": {"value": 0.2}}))
        assert again["inserted"] is False
        run = client.get("/api/v1/runs/admin/wb/up1").json()
        assert (run["name"], run["notes"], run["tags"], run["group"], run["job_type"]) == (
            "first",
            "later",
            ["x"],
            "g",
            "t",
        )
        assert run["config"] == {"lr": 0.2} and run["state"] == "running"
        stopped = gql(client, STOPPED, entityName="admin", projectName="wb", runId="up1")
        assert stopped.json() == {"data": {"project": {"run": {"stopped": False}}}}


def test_a_run_stopped_through_the_api_is_told_so_until_it_ends(server: InProcessServer) -> None:
    """``POST …/stop`` (the stop button): the run's client reads ``stopped`` from its next
    file-stream answer and from ``RunStoppedStatus``; an ended run has nothing to stop (409), and
    a resumed one is not stopped by what was asked of its last life."""

    def stopped() -> bool:
        answer = gql(client, STOPPED, entityName="admin", projectName="wb", runId="stop1")
        return bool(answer.json()["data"]["project"]["run"]["stopped"])

    with wandb_client(server) as client:
        upsert(client, "stop1")
        assert stream(client, "stop1", {"files": {}}).json()["stopped"] is False and not stopped()
        assert client.post("/api/v1/runs/admin/wb/stop1/stop").status_code == 204
        assert client.post("/api/v1/runs/admin/wb/stop1/stop").status_code == 204  # twice: still once
        assert stream(client, "stop1", {"files": {}}).json()["stopped"] is True and stopped()
        ended = stream(client, "stop1", {"files": {}, "complete": True, "exitcode": 255})
        assert ended.json()["stopped"] is False and not stopped()
        again = client.post("/api/v1/runs/admin/wb/stop1/stop")
        assert again.status_code == 409 and "only a running run" in again.json()["detail"], again.text
        upsert(client, "stop1")  # resumed
        assert stream(client, "stop1", {"files": {}}).json()["stopped"] is False and not stopped()
        missing = client.post("/api/v1/runs/admin/wb/nosuch/stop")
        assert missing.status_code == 404
        audit = client.get("/api/v1/audit").json()["entries"]
        assert [e["target"] for e in audit if e["action"] == "run.stop"] == ["admin/wb/stop1"]


def test_a_fork_copies_its_parents_rows_once_and_bad_fork_points_are_refused(server: InProcessServer) -> None:
    """The fork's first upsert copies the parent's rows up to the step and names the parent in the
    run's metadata; the client's resent upsert copies nothing more. A missing parent is 404, a bad
    point 400, and nothing is made."""

    def fork(run: str, point: Any) -> httpx.Response:
        config = json.dumps({"_wandb": {"value": {"branch_point": point}}})
        return gql(client, UPSERT, entity="admin", project="wb", name=run, config=config)

    with wandb_client(server) as client:
        upsert(client, "parent")
        rows = [{"_step": i, "x": i, "_timestamp": 1.0 + i} for i in range(4)]
        assert stream(client, "parent", {"files": {"wandb-history.jsonl": history_lines(*rows, offset=0)}})
        for _ in range(2):
            assert fork("child", {"run_id": "parent", "step": 1}).status_code == 200
        got = client.get("/api/v1/runs/admin/wb/child/history/rows").json()["rows"]
        assert [(r["_step"], r["x"]) for r in got] == [(0, 0), (1, 1)]
        child = client.get("/api/v1/runs/admin/wb/child").json()
        assert child["metadata"]["forked_from"] == {"run": "parent", "step": 1}
        assert "forked_from" not in client.get("/api/v1/runs/admin/wb/parent").json()["metadata"]
        assert fork("orphan", {"run_id": "nosuch", "step": 1}).status_code == 404
        for bad in (
            {"run_id": "parent", "step": -1},
            {"run_id": "parent", "step": 1.5},
            {"step": 1},
            "x",
            {"run_id": "parent", "step": 2**70},
        ):
            answer = fork("orphan", bad)
            assert answer.status_code == 400 and "branch_point" in answer.json()["errors"][0]["message"]
        assert client.get("/api/v1/runs/admin/wb/orphan").status_code == 404


def test_resent_file_stream_requests_apply_once(server: InProcessServer) -> None:
    """The client resends a request it got no answer for: rows, samples, lines and the exit count once."""
    with wandb_client(server) as client:
        upsert(client, "fs1")
        first = {
            "files": {
                "wandb-history.jsonl": history_lines(
                    {"_step": 0, "loss": 1.0}, {"_step": 1, "loss": 0.5}, offset=0
                ),
                "wandb-events.jsonl": history_lines(
                    {
                        "system.memory_percent": 40.0,
                        "system.gpu.0.gpu": 97.0,
                        "_runtime": 1.0,
                        "_wandb": True,
                    },
                    offset=0,
                ),
                "wandb-summary.json": {
                    "offset": 0,
                    "content": [json.dumps({"loss": 0.5, "_wandb": {"runtime": 1}})],
                },
                "output.log": {
                    "offset": 0,
                    "content": ["2026-01-01T00:00:00.000000 one", "ERROR 2026-01-01T00:00:01.000000 two"],
                },
            }
        }
        second = {
            "files": {
                "wandb-history.jsonl": history_lines({"_step": 2, "loss": 0.25}, offset=2),
                "wandb-events.jsonl": history_lines(
                    {"system.memory_percent": 41.0, "_runtime": 2.0}, offset=1
                ),
                # a progress bar redrawn: the same line again, then a new one
                "output.log": {
                    "offset": 1,
                    "content": [
                        "ERROR 2026-01-01T00:00:02.000000 two, redrawn",
                        "2026-01-01T00:00:03.000000 three",
                    ],
                },
            },
            "complete": True,
            "exitcode": 0,
        }
        for body in (first, first, second, second, first):
            answer = stream(client, "fs1", body)
            assert answer.status_code == 200, answer.text
            assert answer.json()["stopped"] is False
        rows = client.get("/api/v1/runs/admin/wb/fs1/history/rows").json()["rows"]
        assert [(row["_step"], row["loss"]) for row in rows] == [(0, 1.0), (1, 0.5), (2, 0.25)]
        lines = client.get("/api/v1/runs/admin/wb/fs1/console").json()["lines"]
        assert [(line["stream"], line["text"]) for line in lines] == [
            ("stdout", "one"),
            ("stderr", "two, redrawn"),
            ("stdout", "three"),
        ]
        system = client.get("/api/v1/runs/admin/wb/fs1/keys").json()["system"]
        assert {k["key"]: k["count"] for k in system} == {
            "system/memory_percent": 2,
            "system/gpu/0/utilization_percent": 1,  # wandb's gpu.0.gpu, under wakelog's name
        }
        run = client.get("/api/v1/runs/admin/wb/fs1").json()
        assert (run["state"], run["exit_code"]) == ("finished", 0)
        assert run["summary"] == {"loss": 0.5}


def test_a_file_stream_request_whose_key_passed_lately_makes_one_trip_to_the_thread_pool(
    server: InProcessServer, trips: list[tuple[int, str]]
) -> None:
    """The body's check, the records, the transaction and the stop request's read go together: a
    live wandb run sends one of these every few seconds."""
    cache = server.app.state.key_cache
    server.app.state.key_cache = KeyCache(clock=FakeClock())  # what it learns holds for this test
    try:
        with wandb_client(server) as client:
            upsert(client, "trips")
            first = {"files": {"wandb-history.jsonl": history_lines({"_step": 0, "loss": 1.0}, offset=0)}}
            assert stream(client, "trips", first).status_code == 200
            trips.clear()
            more = {"files": {"wandb-history.jsonl": history_lines({"_step": 1, "loss": 0.5}, offset=1)}}
            answer = stream(client, "trips", more)
            assert answer.status_code == 200 and answer.json()["stopped"] is False
            assert request_trips(trips, "_file_stream") == ["_file_stream"]
            assert client.get("/api/v1/runs/admin/wb/trips").json()["summary"]["loss"] == 0.5
    finally:
        server.app.state.key_cache = cache


def test_a_failed_exit_and_bad_lines(server: InProcessServer) -> None:
    with wandb_client(server) as client:
        upsert(client, "fs2")
        bad = stream(
            client, "fs2", {"files": {"wandb-history.jsonl": {"offset": 0, "content": ["{not json"]}}}
        )
        assert bad.status_code == 400 and "wandb-history.jsonl line 0" in bad.json()["errors"][0]["message"]
        no_step = stream(client, "fs2", {"files": {"wandb-history.jsonl": history_lines({"x": 1}, offset=0)}})
        assert no_step.status_code == 400 and "_step" in no_step.json()["detail"]
        assert stream(client, "fs2", {"complete": True, "exitcode": 1}).status_code == 200
        run = client.get("/api/v1/runs/admin/wb/fs2").json()
        assert (run["state"], run["exit_code"]) == ("failed", 1)


def test_lines_strict_json_refuses_are_read_as_before(server: InProcessServer) -> None:
    """History lines are read by a strict JSON parser first; what it refuses and wandb-core
    writes (a diverged loss: ``NaN``, ``Infinity``; a number past a float's range) is read by
    Python's json module, as it always was, and stored."""
    with wandb_client(server) as client:
        upsert(client, "fs3")
        lines = ['{"_step": 0, "loss": NaN, "grad": Infinity}', '{"_step": 1, "loss": 0.5, "grad": -1e400}']
        body = {"files": {"wandb-history.jsonl": {"offset": 0, "content": lines}}}
        assert stream(client, "fs3", body).status_code == 200
        rows = client.get("/api/v1/runs/admin/wb/fs3/history/rows").json()["rows"]
        assert [(row["_step"], row["loss"], row["grad"]) for row in rows] == [
            (0, "NaN", "Infinity"),
            (1, 0.5, "-Infinity"),
        ]


def test_unknown_operations_are_named_and_counted(server: InProcessServer) -> None:
    with wandb_client(server) as client:
        before = graphql.unknown_counts[("SomethingNew", "brandNewField")]
        answer = gql(client, "query SomethingNew { brandNewField { id } }")
        assert answer.status_code == 400
        message = answer.json()["errors"][0]["message"]
        assert "SomethingNew" in message and "'brandNewField'" in message
        assert graphql.unknown_counts[("SomethingNew", "brandNewField")] == before + 1
        for query, expected in (
            ("query {", "not a GraphQL document"),
            ("query A { viewer { id } } query B { viewer { id } }", "one operation"),
            ("subscription S { viewer { id } }", "subscriptions"),
        ):
            refused = gql(client, query)
            assert refused.status_code == 400 and expected in refused.json()["detail"], refused.text
        viewer = gql(
            client, "query Viewer { me: viewer { entity username teams { edges { node { name } } } } }"
        )
        assert viewer.json() == {
            "data": {"me": {"entity": "admin", "username": "admin", "teams": {"edges": []}}}
        }


def _user(server: InProcessServer, name: str) -> str:
    with server.client() as admin:
        assert admin.post("/api/v1/users", json={"username": name}).status_code == 201
        return str(admin.post("/api/v1/keys", json={"user": name}).json()["key"])


def test_operations_check_the_entity_role(server: InProcessServer) -> None:
    with server.client() as admin:
        key = add_team(admin, f"team-{server.backend}", {"viewer": "viewer"})["viewer"]
    with wandb_client(server, key) as viewer:
        refused = gql(viewer, UPSERT, entity=f"team-{server.backend}", project="p", name="r1")
        assert refused.status_code == 403 and "member role" in refused.json()["errors"][0]["message"]
        files = gql(
            viewer, CREATE_RUN_FILES, entity=f"team-{server.backend}", project="p", run="r1", files=["a"]
        )
        assert files.status_code == 403
        elsewhere = gql(viewer, UPSERT, entity="admin", project="p", name="r1")
        assert elsewhere.status_code == 403 and "does not exist or you are not a member" in elsewhere.text


def test_an_upload_whose_client_goes_away_is_no_server_error(server: InProcessServer) -> None:
    """The signed-URL upload streams its body to a temporary file: a client that hangs up midway
    gets a 400, and nothing is stored or left behind."""
    key = _user(server, f"quitter-{server.backend}")
    entity = f"quitter-{server.backend}"
    with wandb_client(server, key) as client:
        upsert = UPSERT.replace('"admin"', "$entity")
        assert gql(client, upsert, entity=entity, project="wb", name="q").is_success
        made = gql(client, CREATE_RUN_FILES, entity=entity, project="wb", run="q", files=["output.log"])
    url = made.json()["data"]["createRunFiles"]["files"][0]["uploadUrl"]
    leftovers = set(server.data_dir.rglob(".upload-*"))
    assert hang_up_mid_body(server, "PUT", urlsplit(url).path, {}) == 400
    assert set(server.data_dir.rglob(".upload-*")) == leftovers, "the partial body's file is removed"
    with server.client() as admin:
        files = admin.get(f"/api/v1/runs/{entity}/wb/q/files").json()
    assert [f for f in files.get("files", files) if f.get("name") == "output.log"] == []


def test_uploads_go_to_signed_urls_only(server: InProcessServer) -> None:
    key = _user(server, f"uploader-{server.backend}")
    entity = f"uploader-{server.backend}"
    with wandb_client(server, key) as client:
        answer = gql(client, UPSERT.replace('"admin"', "$entity"), entity=entity, project="wb", name="up")
        assert answer.status_code == 200, answer.text
        made = gql(
            client,
            CREATE_RUN_FILES,
            entity=entity,
            project="wb",
            run="up",
            files=["media/images/a.png", "wandb-metadata.json", "../escape"],
        ).json()["data"]["createRunFiles"]
    urls = {f["name"]: f["uploadUrl"] for f in made["files"]}
    assert urls["../escape"] is None, "a name wakelog does not take gets no URL"
    metadata = json.dumps({"host": "gpu-1", "startedAt": "2026-01-01T00:00:00Z", "python": "CPython 3.11"})
    with server.anonymous() as anonymous:  # as the client uploads: without its key
        assert (
            anonymous.put(urlsplit(urls["media/images/a.png"]).path, content=b"\x89PNG...").status_code == 200
        )
        assert anonymous.put(urlsplit(urls["wandb-metadata.json"]).path, content=metadata).status_code == 200
        path = urlsplit(urls["media/images/a.png"]).path
        tampered = path[:-1] + ("0" if path[-1] != "0" else "1")
        assert anonymous.put(tampered, content=b"x").status_code == 403
        assert anonymous.put("/wandb/uploads/garbage", content=b"x").status_code == 403
    with server.client(key) as client:
        run = client.get(f"/api/v1/runs/{entity}/wb/up").json()
        assert run["metadata"]["host"] == "gpu-1" and run["metadata"]["started_at"] == "2026-01-01T00:00:00Z"
        content = client.get(f"/api/v1/runs/{entity}/wb/up/files/media/images/a.png")
        assert content.content == b"\x89PNG..."
        prefix = key[:11]
        assert client.delete(f"/api/v1/keys/{prefix}").status_code in (200, 204)
    with server.anonymous() as anonymous:
        revoked = anonymous.put(urlsplit(urls["media/images/a.png"]).path, content=b"again")
        assert revoked.status_code == 403, "a revoked key's URLs stop working"


# -- hostile bodies -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    """On SQLite only, to keep the fuzzing bounded."""
    server = InProcessServer(tmp_path_factory.mktemp("wandb-fuzz") / "data", write_rate_per_user=0)
    try:
        with wandb_client(server) as client:
            upsert(client, "fuzz")
        yield server
    finally:
        server.close()


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
_json = st.recursive(
    _scalars | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_queries = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            UPSERT,
            CREATE_RUN_FILES,
            STOPPED,
            RUNS,
            RUN,
            HISTORY_PAGE,
            CREATE_ARTIFACT,
            CREATE_MANIFEST,
            CREATE_FILES,
            COMMIT,
            FILE_URLS,
            ADD_ALIASES,
            DELETE_ALIASES,
            UPDATE_ARTIFACT,
            LINK_ARTIFACT,
            DELETE_ARTIFACT,
            UNLINK_ARTIFACT,
            COLLECTION,
            "query { viewer { id } }",
            "{ serverInfo { features } }",
        ]
    ),
)


def _no_5xx(answer: httpx.Response) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    if answer.status_code >= 400:
        assert answer.json()["errors"][0]["message"]


@given(
    query=_queries,
    variables=_json,
    name=st.none() | st.text(max_size=10),
    raw=st.none() | st.binary(max_size=50),
)
@FUZZ
def test_fuzzed_graphql_bodies_are_answered_4xx_not_5xx(
    fuzz_server: InProcessServer, query: str, variables: Any, name: str | None, raw: bytes | None
) -> None:
    with wandb_client(fuzz_server) as client:
        if raw is not None:
            answer = client.post("/graphql", content=raw)
        else:
            answer = client.post(
                "/graphql", json={"query": query, "variables": variables, "operationName": name}
            )
    _no_5xx(answer)


_lines = st.lists(st.one_of(st.text(max_size=30), _json.map(json.dumps)), max_size=4)
_chunk = (
    st.fixed_dictionaries({"offset": st.integers(min_value=-2, max_value=2**63), "content": _lines}) | _json
)
_files = st.dictionaries(
    st.sampled_from(
        ["wandb-history.jsonl", "wandb-events.jsonl", "wandb-summary.json", "output.log", "other"]
    ),
    _chunk,
    max_size=4,
)


@given(files=_files, complete=st.none() | st.booleans(), exitcode=st.none() | st.integers(), extra=_json)
@FUZZ
def test_fuzzed_file_stream_bodies_are_answered_4xx_not_5xx(
    fuzz_server: InProcessServer, files: Any, complete: bool | None, exitcode: int | None, extra: Any
) -> None:
    body = {"files": files, "complete": complete, "exitcode": exitcode, "uploaded": extra}
    with wandb_client(fuzz_server) as client:
        _no_5xx(stream(client, "fuzz", body))


@given(filters=_json, order=st.none() | st.text(max_size=30), cursor=st.none() | st.text(max_size=12))
@FUZZ
def test_fuzzed_run_filters_are_answered_4xx_not_5xx(
    fuzz_server: InProcessServer, filters: Any, order: str | None, cursor: str | None
) -> None:
    """wandb.Api's MongoDB-style filters, any JSON: a 4xx naming the problem or an answer."""
    variables = {"entity": "admin", "project": "wb", "cursor": cursor, "order": order}
    with wandb_client(fuzz_server) as client:
        for sent in (filters, json.dumps(filters)):
            _no_5xx(gql(client, RUNS, filters=sent, **variables))


_metric = st.dictionaries(
    st.sampled_from(["1", "2", "4", "5", "6", "7", "8", "10", "x"]),
    _json
    | st.integers(min_value=-2, max_value=9)
    | st.lists(st.integers(min_value=-1, max_value=9), max_size=3),
    max_size=6,
)


@given(
    metrics=st.lists(_metric, max_size=4) | _json,
    branch=_json | st.fixed_dictionaries({"run_id": _json, "step": _json}),
)
@FUZZ
def test_fuzzed_metric_definitions_and_fork_points_are_answered_4xx_not_5xx(
    fuzz_server: InProcessServer, metrics: Any, branch: Any
) -> None:
    """``define_metric`` and ``fork_from`` as the client sends them (``_wandb.m`` and
    ``_wandb.branch_point`` in the config), any shape; a new run each time, so forks copy."""
    config = json.dumps({"_wandb": {"value": {"m": metrics, "branch_point": branch}}})
    with wandb_client(fuzz_server) as client:
        run = f"fuzz-fork-{uuid.uuid4().hex[:8]}"
        _no_5xx(gql(client, UPSERT, entity="admin", project="wb", name=run, config=config))


def test_metric_definitions_are_stored_once_and_bad_ones_refused_whole(server: InProcessServer) -> None:
    """The client sends every definition with each config change: a definition the run holds
    adds no record; a bad one is refused by name and nothing of the upsert is applied."""
    defined = [{"1": "epoch", "6": [3, 2]}, {"1": "loss", "5": 1, "6": [1, 3], "7": [1], "8": 1}]
    config = json.dumps({"lr": {"value": 1}, "_wandb": {"value": {"m": defined}}})
    with wandb_client(server) as client:
        upsert(client, "defs", config=config)
        first = client.get("/api/v1/runs/admin/wb/defs").json()
        assert first["metric_defs"]["loss"] == {
            "name": "loss",
            "step_metric": "epoch",
            "step_sync": True,
            "hidden": False,
            "summary": ["min"],
            "goal": "minimize",
        }
        assert first["metric_defs"]["epoch"]["hidden"] is True
        upsert(client, "defs", config=config)
        assert client.get("/api/v1/runs/admin/wb/defs").json()["last_seq"] == first["last_seq"] + 1
        for bad, says in (
            ([{"1": "loss", "5": 7}], "step metric index 7"),
            ([{"1": "loss", "7": [99]}], "unknown summary"),
            ([{"1": "a*b"}], "trailing"),
            ({"1": "loss"}, "must be a list"),
        ):
            sent = json.dumps({"lr": {"value": 2}, "_wandb": {"value": {"m": bad}}})
            answer = gql(client, UPSERT, entity="admin", project="wb", name="defs", config=sent)
            assert answer.status_code == 400 and says in answer.json()["errors"][0]["message"], answer.text
        assert client.get("/api/v1/runs/admin/wb/defs").json()["config"] == {"lr": 1}


# -- wandb.Api: reading runs ----------------------------------------------------------------------
def _log_rows(client: httpx.Client, run: str, rows: int) -> None:
    lines = [{"_step": i, "loss": 1.0 / (i + 1), **({"acc": i / 10} if i % 2 else {})} for i in range(rows)]
    body = {
        "files": {"wandb-history.jsonl": history_lines(*lines, offset=0)},
        "complete": True,
        "exitcode": 0,
    }
    assert stream(client, run, body).status_code == 200


def test_wandb_api_lists_filters_and_reads_runs(server: InProcessServer) -> None:
    with wandb_client(server) as client:
        upsert(client, "api-a", config=json.dumps({"lr": {"value": 0.1}}), tags=["x"], groupName="g")
        upsert(client, "api-b", config=json.dumps({"lr": {"value": 0.5}}), tags=["y"])
        _log_rows(client, "api-a", 7)
        ours = {"name": {"$in": ["api-a", "api-b"]}}  # the module's server holds other tests' runs

        def ids(filters: Any, **more: Any) -> list[str]:
            mixed = json.dumps({"$and": [filters, ours]})
            answer = gql(client, RUNS, entity="admin", project="wb", filters=mixed, **more)
            assert answer.status_code == 200, answer.text
            edges = answer.json()["data"]["project"]["runs"]["edges"]
            return [edge["node"]["name"] for edge in edges]

        assert ids({"config.lr": 0.1}) == ["api-a"]
        assert ids({"config.lr.value": {"$gt": 0.2}}) == ["api-b"]
        assert ids({"tags": {"$in": ["y", "z"]}}) == ["api-b"]
        assert ids({"$or": [{"group": "g"}, {"tags": "y"}]}, order="-created_at") == [
            "api-b",
            "api-a",
        ]
        assert ids({"state": "finished", "name": {"$nin": ["api-b"]}}) == ["api-a"]
        mine = json.dumps(ours)
        first = gql(client, RUNS, entity="admin", project="wb", filters=mine, perPage=1, order="+created_at")
        page = first.json()["data"]["project"]
        assert page["runCount"] == 2 and page["runs"]["pageInfo"] == {"endCursor": "1", "hasNextPage": True}
        rest = gql(client, RUNS, entity="admin", project="wb", filters=mine, perPage=1, cursor="1")
        assert [e["node"]["name"] for e in rest.json()["data"]["project"]["runs"]["edges"]] == ["api-a"]
        for filters, named in (
            ({"config.lr": {"$regex": "x"}}, "'$regex'"),
            ({"$where": "1"}, "'$where'"),
            ({"heartbeat": 1}, "'heartbeat'"),
            ({"displayName": 3}, "name is text"),
        ):
            refused = gql(client, RUNS, entity="admin", project="wb", filters=json.dumps(filters))
            assert refused.status_code == 400 and named in refused.json()["errors"][0]["message"], (
                refused.text
            )

        spec = json.dumps({"keys": ["_step", "acc"], "samples": 2})
        run = gql(client, RUN, entity="admin", project="wb", name="api-a", samples=3, specs=[spec])
        assert run.status_code == 200, run.text
        got = run.json()["data"]["project"]["run"]
        assert got["state"] == "finished" and json.loads(got["config"]) == {
            "lr": {"value": 0.1, "desc": None}
        }
        assert got["historyKeys"]["lastStep"] == 6 and set(got["historyKeys"]["keys"]) >= {"loss", "acc"}
        assert [json.loads(line)["_step"] for line in got["history"]] == [0, 3, 6]  # sampled, ends kept
        assert got["sampledHistory"] == [[{"_step": 1, "acc": 0.1}, {"_step": 5, "acc": 0.5}]]
        pages = [
            gql(
                client,
                HISTORY_PAGE,
                entity="admin",
                project="wb",
                run="api-a",
                minStep=lo,
                maxStep=lo + 3,
                pageSize=3,
            ).json()["data"]["project"]["run"]["history"]
            for lo in (0, 3, 6)
        ]
        assert [json.loads(line)["_step"] for page in pages for line in page] == list(range(7))

        unknown = gql(
            client,
            'query { project(name: "wb", entityName: "admin") '
            "{ runs { edges { node { name fancyNewField } } } } }",
        )
        assert unknown.status_code == 400
        assert "'fancyNewField' of Run" in unknown.json()["errors"][0]["message"]
        console = gql(
            client,
            RUN.replace("projectId", "projectId logLines { edges { node { line } } }"),
            entity="admin",
            project="wb",
            name="api-a",
            specs=[],
        )
        assert console.status_code == 400 and "'logLines' of Run" in console.json()["errors"][0]["message"]


def test_wandb_api_reads_check_the_entity_role(server: InProcessServer) -> None:
    """Reading runs needs the viewer role under the entity, as the REST routes do."""
    team = f"readers-{server.backend}"
    viewer_key, outsider_key = (
        _user(server, f"reader-{server.backend}"),
        _user(server, f"out-{server.backend}"),
    )
    with server.client() as admin:
        admin.post("/api/v1/entities", json={"name": team})
        assert (
            admin.put(
                f"/api/v1/entities/{team}/members/reader-{server.backend}", json={"role": "viewer"}
            ).status_code
            == 200
        )
    with wandb_client(server) as client:
        assert gql(client, UPSERT, entity=team, project="p", name="r1").status_code == 200
    with wandb_client(server, viewer_key) as viewer:
        listed = gql(viewer, RUNS, entity=team, project="p", filters="{}")
        assert listed.status_code == 200 and listed.json()["data"]["project"]["runCount"] == 1
    with wandb_client(server, outsider_key) as outsider:
        for query, more in ((RUNS, {"filters": "{}"}), (RUN, {"name": "r1", "specs": []})):
            refused = gql(outsider, query, entity=team, project="p", **more)
            assert refused.status_code == 404, refused.text


# -- artifacts --------------------------------------------------------------------------------------
def _md5(content: bytes) -> str:
    return base64.b64encode(hashlib.md5(content).digest()).decode()


def _wandb_manifest(files: dict[str, bytes]) -> dict[str, Any]:
    contents = {path: {"digest": _md5(data), "size": len(data)} for path, data in files.items()}
    return {"version": 1, "storagePolicy": "wandb-storage-policy-v1", "contents": contents}


def _create_input(
    name: str,
    files: dict[str, bytes],
    aliases: tuple[str, ...] = (),
    entity: str = "admin",
    type_: str = "dataset",
) -> dict[str, Any]:
    return {
        "entityName": entity, "projectName": "wb", "runName": "arts", "artifactCollectionName": name,
        "artifactTypeName": type_, "digestAlgorithm": "MANIFEST_MD5",
        "digest": manifest_digest((p, _md5(d)) for p, d in files.items()),
        "aliases": [{"alias": a, "artifactCollectionName": name} for a in ("latest", *aliases)],
    }  # fmt: skip


def _pending(
    client: httpx.Client, name: str, files: dict[str, bytes], entity: str = "admin", type_: str = "dataset"
) -> str:
    created = gql(client, CREATE_ARTIFACT, input=_create_input(name, files, entity=entity, type_=type_))
    assert created.status_code == 200, created.text
    return str(created.json()["data"]["createArtifact"]["artifact"]["id"])


def _upload_manifest(client: httpx.Client, node: str, document: Any) -> None:
    variables = {"artifactID": node, "name": "wandb_manifest.json", "digest": "", "entityName": "admin",
                 "projectName": "wb", "runName": "arts", "manifestType": "FULL",
                 "includeUpload": True}  # fmt: skip
    made = gql(client, CREATE_MANIFEST, **variables).json()["data"]["createArtifactManifest"]
    url = made["artifactManifest"]["file"]["uploadUrl"]
    assert client.put(urlsplit(url).path, content=json.dumps(document)).status_code == 200


def test_an_artifact_as_the_client_logs_it_checked_step_by_step(server: InProcessServer) -> None:
    """Upload URLs only for content the server lacks, a body whose md5 is not the manifest's refused
    (400), the commit refused until the manifest and every file are there, then the version: wakelog's
    own, its entries' digests the client's."""
    files = {"a.txt": b"alpha\n", "dir/b.bin": bytes(range(200))}
    with wandb_client(server) as client:
        upsert(client, "arts")
        node = _pending(client, "checked", files)
        early = gql(client, COMMIT, artifactID=node)
        assert early.status_code == 400 and "manifest was not uploaded" in early.text
        asked = [
            {"artifactID": node, "artifactManifestID": node, "name": p, "md5": _md5(d)}
            for p, d in files.items()
        ]
        edges = gql(client, CREATE_FILES, input={"artifactFiles": asked, "storageLayout": "V2"}).json()
        urls = [e["node"]["uploadUrl"] for e in edges["data"]["createArtifactFiles"]["files"]["edges"]]
        assert all(urls)
        with server.anonymous() as anonymous:  # as the client uploads: the URL is the credential
            wrong = anonymous.put(urlsplit(urls[0]).path, content=b"not alpha\n")
            assert wrong.status_code == 400 and "md5" in wrong.json()["detail"]
            assert anonymous.put(urlsplit(urls[0]).path, content=files["a.txt"]).status_code == 200
        _upload_manifest(client, node, _wandb_manifest(files))
        missing = gql(client, COMMIT, artifactID=node)
        assert missing.status_code == 400 and "'dir/b.bin'" in missing.text and "not uploaded" in missing.text
        with server.anonymous() as anonymous:
            assert anonymous.put(urlsplit(urls[1]).path, content=files["dir/b.bin"]).status_code == 200
        committed = gql(client, COMMIT, artifactID=node)
        assert committed.status_code == 200, committed.text
        version = client.get("/api/v1/artifacts/admin/wb/checked:latest").json()
        assert (version["version"], version["run"], version["file_count"]) == ("v0", "arts", 2)
        entries = client.get("/api/v1/artifacts/admin/wb/checked:v0/manifest").json()["entries"]
        for path, data in files.items():
            assert entries[path]["digest"] == _md5(data)
            assert entries[path]["sha256"] == hashlib.sha256(data).hexdigest()
            assert client.get(f"/api/v1/artifacts/admin/wb/checked:v0/files/{path}").content == data
        run_files = {f["name"] for f in client.get("/api/v1/runs/admin/wb/arts/files").json()["files"]}
        assert not [n for n in run_files if n.startswith("artifacts/staging/")], "staged uploads go"
        # the same content again: COMMITTED at once, nothing to upload; new content that names a
        # known file gets no URL for it
        again = gql(client, CREATE_ARTIFACT, input=_create_input("checked", files, ("best",)))
        assert again.json()["data"]["createArtifact"]["artifact"]["state"] == "COMMITTED"
        assert client.get("/api/v1/artifacts/admin/wb/checked:best").json()["version"] == "v0"
        node2 = _pending(client, "checked", {**files, "c.txt": b"new"})
        asked = [{"artifactID": node2, "artifactManifestID": node2, "name": p, "md5": _md5(d)}
                 for p, d in {**files, "c.txt": b"new"}.items()]  # fmt: skip
        edges = gql(client, CREATE_FILES, input={"artifactFiles": asked, "storageLayout": "V2"}).json()
        urls = [e["node"]["uploadUrl"] for e in edges["data"]["createArtifactFiles"]["files"]["edges"]]
        assert urls[0] is None and urls[1] is None and urls[2] is not None


def test_a_manifest_that_is_not_what_create_artifact_said_is_refused(server: InProcessServer) -> None:
    files = {"x.txt": b"x"}
    with wandb_client(server) as client:
        upsert(client, "arts")
        node = _pending(client, "liar", files)
        _upload_manifest(client, node, _wandb_manifest({"x.txt": b"y"}))
        with server.anonymous() as anonymous:
            asked = [{"artifactID": node, "artifactManifestID": node, "name": "x.txt", "md5": _md5(b"y")}]
            edges = gql(client, CREATE_FILES, input={"artifactFiles": asked}).json()
            url = edges["data"]["createArtifactFiles"]["files"]["edges"][0]["node"]["uploadUrl"]
            assert anonymous.put(urlsplit(url).path, content=b"y").status_code == 200
        refused = gql(client, COMMIT, artifactID=node)
        assert refused.status_code == 400 and "digest" in refused.text
        _upload_manifest(client, node, {"version": 2})
        assert gql(client, COMMIT, artifactID=node).status_code == 400
        assert client.get("/api/v1/artifacts/admin/wb/liar:latest").status_code == 404, "nothing made"
        for bad in ("garbage", base64.b64encode(b"PendingArtifact:[1]").decode(), None):
            answer = gql(client, COMMIT, artifactID=bad)
            assert answer.status_code == 400 and answer.json()["errors"][0]["message"]


def test_artifact_operations_check_the_entity_role(server: InProcessServer) -> None:
    team = f"artteam-{server.backend}"
    with server.client() as admin:
        key = add_team(admin, team, {"viewer": "viewer"})["viewer"]
    with wandb_client(server, key) as viewer:
        made = gql(viewer, CREATE_ARTIFACT, input={
            "entityName": team, "projectName": "p", "runName": "r", "artifactCollectionName": "n",
            "artifactTypeName": "t", "digest": "0" * 32})  # fmt: skip
        assert made.status_code == 403 and "member" in made.json()["errors"][0]["message"]
        node = base64.b64encode(
            b'PendingArtifact:{"path":["' + team.encode() + b'","p","r"],"name":"n","type":"t","digest":"d",'
            b'"aliases":[],"description":null,"metadata":{}}'
        ).decode()
        assert gql(viewer, COMMIT, artifactID=node).status_code == 403, "a forged id gains nothing"
        other = gql(viewer, FILE_URLS, entity="admin", project="wb", collection="checked", alias="v0")
        assert other.status_code in (403, 404)


def test_download_urls_are_signed_for_one_file_and_purpose(server: InProcessServer) -> None:
    files = {"d.txt": b"download me"}
    with wandb_client(server) as client:
        upsert(client, "arts")
        node = _pending(client, "dl", files)
        asked = [
            {"artifactID": node, "artifactManifestID": node, "name": "d.txt", "md5": _md5(files["d.txt"])}
        ]
        edges = gql(client, CREATE_FILES, input={"artifactFiles": asked}).json()
        upload = edges["data"]["createArtifactFiles"]["files"]["edges"][0]["node"]["uploadUrl"]
        with server.anonymous() as anonymous:
            assert anonymous.put(urlsplit(upload).path, content=files["d.txt"]).status_code == 200
        _upload_manifest(client, node, _wandb_manifest(files))
        assert gql(client, COMMIT, artifactID=node).status_code == 200
        page = gql(
            client, FILE_URLS, entity="admin", project="wb", collection="dl", alias="latest", perPage=10
        )
        found = page.json()["data"]["project"]["artifactCollection"]["artifactMembership"]["files"]
        assert found["pageInfo"]["hasNextPage"] is False
        url = urlsplit(found["edges"][0]["node"]["directUrl"]).path
    with server.anonymous() as anonymous:
        assert anonymous.get(url).content == files["d.txt"]
        assert anonymous.get(url[:-1] + ("0" if url[-1] != "0" else "1")).status_code == 403
        token = urlsplit(upload).path.rsplit("/", 1)[1]
        assert anonymous.get(f"/wandb/downloads/{token}").status_code == 403, (
            "an upload URL downloads nothing"
        )
        assert anonymous.get("/wandb/downloads/garbage").status_code == 403


def test_a_variables_declared_default_applies() -> None:
    """``$includeAliases: Boolean = false`` (wandb's ``ArtifactMembershipByName``) when not sent."""
    resolvers: dict[tuple[str, str], Any] = {("query", "x"): lambda _ctx, _args: {"a": 1, "b": 2}}
    query = "query Q($on: Boolean = false) { x { a b @include(if: $on) } }"
    assert graphql.execute({"query": query}, resolvers, None) == {"data": {"x": {"a": 1}}}
    sent = graphql.execute({"query": query, "variables": {"on": True}}, resolvers, None)
    assert sent == {"data": {"x": {"a": 1, "b": 2}}}


def _file_urls(client: httpx.Client, node: str, files: dict[str, bytes]) -> list[str | None]:
    asked = [
        {"artifactID": node, "artifactManifestID": node, "name": p, "md5": _md5(d)} for p, d in files.items()
    ]
    answer = gql(client, CREATE_FILES, input={"artifactFiles": asked}).json()["data"]["createArtifactFiles"]
    return [edge["node"]["uploadUrl"] for edge in answer["files"]["edges"]]


def test_only_content_you_uploaded_is_skipped_by_md5(server: InProcessServer) -> None:
    """md5 collides on purpose: a teammate's content is never named by its md5 alone."""
    team = f"md5team-{server.backend}"
    files = {"w.bin": b"weights"}
    with server.client() as admin:
        key = add_team(admin, team, {"member": "member"})["member"]
    with wandb_client(server) as admin:
        assert gql(admin, UPSERT, entity=team, project="wb", name="arts").status_code == 200
        node = _pending(admin, "theirs", files, entity=team)
        (url,) = _file_urls(admin, node, files)
        assert url is not None
        with server.anonymous() as anonymous:
            assert anonymous.put(urlsplit(url).path, content=files["w.bin"]).status_code == 200
        _upload_manifest(admin, node, _wandb_manifest(files))
        assert gql(admin, COMMIT, artifactID=node).status_code == 200  # in the team's store now
    with wandb_client(server, key) as member:
        (url,) = _file_urls(member, _pending(member, "mine", files, entity=team), files)
        assert url is not None, "the member uploads their own copy"


def test_a_query_sent_again_is_not_parsed_again() -> None:
    """The client repeats a few dozen queries: each is parsed once; a bad one is refused each time."""
    graphql._parse.cache_clear()
    query = "query Probe { viewer { id username } }"
    first = graphql._parse(query)
    assert graphql._parse(query) is first
    assert graphql._parse.cache_info().misses == 1
    for _ in range(2):
        with pytest.raises(InvalidRequest, match="not a GraphQL document"):
            graphql._parse("query {")
    assert graphql._parse.cache_info().currsize == 1
