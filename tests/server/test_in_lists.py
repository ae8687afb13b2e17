"""No request fails on the databases' limit of bind parameters (PostgreSQL 65,535, SQLite 32,766):
a run with more keys than that reads back through every endpoint that lists keys, and lists a
request names are either capped (the documented ``400 invalid_request``) or asked about in pieces.
On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator

import httpx
import msgspec
import pytest

from tests.harness import InProcessServer
from wakelog.server.query.history import MAX_KEY_PARAMS
from wakelog.server.routes.history import MAX_KEYS, MAX_RUNS, MAX_SERIES

KEYS = 65_535 + 100  # just over PostgreSQL's limit, twice SQLite's
API = "/api/v1"
RUN = "admin/inlists/wide"


@pytest.fixture(scope="module")
def http(server: InProcessServer) -> Iterator[httpx.Client]:
    """A run with KEYS metric keys (one step) and a media key, and a narrow run beside it."""
    wide = {f"layer{i}/grad_norm": float(i) for i in range(KEYS)}
    with server.client() as client:
        for run, row in (("wide", wide), ("narrow", {"loss": 1.0})):
            records = [[0, "run", 0.0, {"id": run}], [1, "history", 1.0, {**row, "note": "hi", "_step": 0}]]
            answer = client.post(
                f"{API}/runs/admin/inlists/{run}/records",
                content=msgspec.msgpack.encode(records),
                headers={"Content-Type": "application/msgpack"},
            )
            assert answer.status_code == 200, answer.text[:300]
        yield client


def ok(answer: httpx.Response) -> httpx.Response:
    assert answer.status_code == 200, answer.text[:300]
    return answer


def refused(answer: httpx.Response) -> None:
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request"), answer.text[:300]


def test_every_key_of_a_wide_run_reads_back(http: httpx.Client) -> None:
    exported = ok(http.get(f"{API}/runs/{RUN}/history/export", params={"format": "csv"}))
    header, row = list(csv.reader(io.StringIO(exported.text)))
    assert len(header) == KEYS + 2  # _step, the metrics and note
    assert dict(zip(header, row, strict=True))[f"layer{KEYS - 1}/grad_norm"] == f"{float(KEYS - 1)}"
    lines = ok(http.get(f"{API}/runs/{RUN}/history/export", params={"format": "jsonl"})).text.splitlines()
    assert len(json.loads(lines[0])) == KEYS + 2
    (row,) = ok(http.get(f"{API}/runs/{RUN}/history/rows")).json()["rows"]
    assert len(row) == KEYS + 2
    keys = ok(http.get(f"{API}/runs/{RUN}/keys")).json()
    assert len(keys["history"]) == KEYS and [k["key"] for k in keys["objects"]] == ["note"]
    assert len(ok(http.get(f"{API}/runs/{RUN}/history")).json()["series"]) == MAX_KEYS
    assert [i["key"] for i in ok(http.get(f"{API}/runs/{RUN}/media")).json()["items"]] == ["note"]
    assert len(ok(http.get(f"{API}/runs/{RUN}")).json()["summary"]) >= KEYS
    ok(http.get(f"{API}/projects/admin/inlists/runs"))


def test_repeated_key_parameters_are_capped(http: httpx.Client) -> None:
    # 5,000: about as many as fit into a URL (httpx and most proxies stop at 64 KiB).
    within = [f"layer{i}/grad_norm" for i in range(MAX_KEY_PARAMS)]
    for path, name in (("history/rows", "keys"), ("history/export", "keys"), ("media", "key")):
        ok(http.get(f"{API}/runs/{RUN}/{path}", params={name: within}))
        refused(http.get(f"{API}/runs/{RUN}/{path}", params={name: [*within, "one/more"]}))
        refused(http.get(f"{API}/runs/{RUN}/{path}", params={name: [f"k{i}" for i in range(5000)]}))
    (row,) = ok(http.get(f"{API}/runs/{RUN}/history/rows", params={"keys": within})).json()["rows"]
    assert len(row) == MAX_KEY_PARAMS + 1


def test_history_queries_are_capped_at_the_documented_sizes(http: httpx.Client) -> None:
    url = f"{API}/projects/admin/inlists/history"
    runs = ["wide", "narrow", *(f"none{i}" for i in range(MAX_RUNS - 2))]
    keys = [f"layer{i}/grad_norm" for i in range(MAX_KEYS)]
    per_run = MAX_SERIES // MAX_RUNS
    found = ok(http.post(url, json={"runs": runs, "keys": keys[:per_run]})).json()["series"]
    assert len(found) == 2 * per_run, "unknown runs are left out"
    assert len(ok(http.post(url, json={"runs": ["wide"], "keys": keys})).json()["series"]) == MAX_KEYS
    refused(http.post(url, json={"runs": [*runs, "one"], "keys": ["loss"]}))
    refused(http.post(url, json={"runs": ["wide"], "keys": [*keys, "one"]}))
    refused(http.post(url, json={"runs": runs, "keys": keys[: per_run + 1]}))
    refused(http.post(url, json={"runs": [f"r{i}" for i in range(KEYS)], "keys": ["loss"]}))
    refused(http.get(url, params={"runs": ["wide"], "keys": [f"k{i}" for i in range(5000)]}))


def test_a_file_list_near_the_body_limit_is_answered_not_failed(
    server: InProcessServer, http: httpx.Client
) -> None:
    # As many distinct hashes as fit into the 1 MiB a file list may take, from a user who is no
    # server admin (whose hashes are checked against what they uploaded): asked about in pieces.
    assert http.post(f"{API}/users", json={"username": "filer"}).status_code == 201
    content = b"uploaded once"
    sha = hashlib.sha256(content).hexdigest()
    real = {"name": "real.txt", "sha256": sha, "size": len(content)}
    files = [{"name": f"f{i}", "sha256": f"{i:064x}", "size": 1} for i in range(9_000)] + [real]
    run = f"{API}/runs/filer/inlists/files"
    with server.client(http.post(f"{API}/keys", json={"user": "filer"}).json()["key"]) as filer:
        put = filer.put(f"{run}/blobs/{sha}", params={"offset": 0, "total": len(content)}, content=content)
        assert put.status_code == 200, put.text
        answer = filer.post(f"{run}/files", json={"files": files})
        assert (answer.status_code, answer.json()["code"]) == (409, "blob_missing"), answer.text[:300]
        names = [{**real, "name": f"copy{i}"} for i in range(9_000)]
        assert ok(filer.post(f"{run}/files", json={"files": names})).json() == {"attached": 9_000}
