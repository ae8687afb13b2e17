"""Rewinding a run (``resume_from="<run>?_step=N"``) through the stock client's ``rewindRun`` and
the SDK's ``POST …/rewind``, on SQLite and PostgreSQL: the rows after N are gone from every read,
the summary says what is left, the next rows and their resends land once, bad requests change
nothing, and the rewind is audited and announced to live viewers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.harness import InProcessServer
from tests.server.test_wandb_compat import _user, gql, history_lines, stream, upsert, wandb_client
from wakelog.server.routes.events import translate

#: wandb-core's rewind (0.31), as its binary holds it.
REWIND = """
mutation RewindRun ($runName: String!, $entity: String, $project: String, $metricName: String!,
    $metricValue: Float!) {
  rewindRun(input: {runName:$runName,entityName:$entity,projectName:$project,metricName:$metricName,
      metricValue:$metricValue}) {
    rewoundRun {
      id name displayName description config sweepName
      project { id name entity { id name } }
      historyLineCount
    }
  }
}
"""


def rewind(client: httpx.Client, run: str, value: Any, metric: str = "_step") -> httpx.Response:
    return gql(
        client, REWIND, runName=run, entity="admin", project="wb", metricName=metric, metricValue=value
    )


def rows(client: httpx.Client, run: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/runs/admin/wb/{run}/history/rows")
    assert answer.status_code == 200, answer.text
    return [
        {k: v for k, v in row.items() if k not in ("_runtime", "_timestamp")} for row in answer.json()["rows"]
    ]


def logged(client: httpx.Client, run: str, steps: range, offset: int, base: float = 0.0) -> None:
    lines = [{"_step": s, "_runtime": s, "_timestamp": 1e9 + s, "loss": base + s} for s in steps]
    answer = stream(client, run, {"files": {"wandb-history.jsonl": history_lines(*lines, offset=offset)}})
    assert answer.status_code == 200, answer.text


def test_rewind_run_cuts_the_history_and_the_client_logs_on_from_the_next_step(
    server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    announced: list[tuple[Any, ...]] = []
    live = server.app.state.live
    original = live.publish_rewound
    monkeypatch.setattr(live, "publish_rewound", lambda *a: (announced.append(a), original(*a)))
    run = "rw-gql"
    with wandb_client(server) as client:
        upsert(client, run, config=json.dumps({"lr": {"value": 0.1}}))
        logged(client, run, range(10), offset=0)
        stream(client, run, {"files": {}, "complete": True, "exitcode": 0})

        answer = rewind(client, run, 4.0)
        assert answer.status_code == 200, answer.text
        rewound = answer.json()["data"]["rewindRun"]["rewoundRun"]
        assert rewound["name"] == run and rewound["historyLineCount"] == 5
        assert rewound["project"]["name"] == "wb" and rewound["project"]["entity"]["name"] == "admin"
        assert json.loads(rewound["config"]) == {"lr": {"value": 0.1, "desc": None}}
        # live viewers are told to load the series again: 5 rows × (loss, _runtime, _timestamp) cut
        assert announced == [("admin", "wb", run, {"loss", "_runtime", "_timestamp"}, 15)]
        assert [r["_step"] for r in rows(client, run)] == [0, 1, 2, 3, 4]
        assert client.get(f"/api/v1/runs/admin/wb/{run}").json()["summary"]["loss"] == 4

        # the client's next life: its upsert names the run itself as the branch point, no fork
        config = {"lr": {"value": 0.2}, "_wandb": {"value": {"branch_point": {"run_id": run, "step": 4.0}}}}
        upsert(client, run, config=json.dumps(config))
        logged(client, run, range(5, 8), offset=5, base=100.0)
        logged(client, run, range(5, 8), offset=5, base=100.0)  # resent: once
        stream(client, run, {"files": {"wandb-summary.json": {"offset": 0, "content": ['{"loss": 107}']}}})
        got = rows(client, run)
        assert got == [{"_step": s, "loss": s} for s in range(5)] + [
            {"_step": s, "loss": 100 + s} for s in range(5, 8)
        ]
        detail = client.get(f"/api/v1/runs/admin/wb/{run}").json()
        assert (detail["summary"]["loss"], detail["config"]["lr"], detail["state"]) == (107, 0.2, "running")
        assert [r["step"] for r in detail["metadata"]["rewinds"]] == [4]
        audit = client.get("/api/v1/audit", params={"action": "run.rewind"}).json()["entries"]
        assert audit[0]["target"] == f"admin/wb/{run}"
        assert (audit[0]["before"], audit[0]["after"]) == ({"last_step": 9}, {"last_step": 4})


@pytest.mark.parametrize(
    ("run", "value", "metric", "status", "says"),
    [
        ("rw-bad", 2, "epoch", 400, "'epoch'"),
        ("rw-bad", -1, "_step", 400, "-1"),
        ("rw-bad", 2.5, "_step", 400, "2.5"),
        ("rw-bad", 10, "_step", 400, "last step is 3"),
        ("rw-bad", "2", "_step", 400, "'2'"),
        ("rw-nobody", 0, "_step", 404, "rw-nobody"),
    ],
    ids=["other-metric", "negative", "fraction", "past-the-end", "string", "no-such-run"],
)
def test_a_rewind_the_run_cannot_take_is_refused_by_name_and_changes_nothing(
    server: InProcessServer, run: str, value: Any, metric: str, status: int, says: str
) -> None:
    with wandb_client(server) as client:
        if not client.get("/api/v1/runs/admin/wb/rw-bad").is_success:
            upsert(client, "rw-bad")
            logged(client, "rw-bad", range(4), offset=0)
        answer = rewind(client, run, value, metric)
        assert answer.status_code == status and says in answer.json()["errors"][0]["message"], answer.text
        assert [r["_step"] for r in rows(client, "rw-bad")] == [0, 1, 2, 3]


def test_a_viewer_cannot_rewind(server: InProcessServer) -> None:
    team, name = f"rwteam-{server.backend}", f"rwviewer-{server.backend}"
    key = _user(server, name)
    with server.client() as admin:
        admin.post("/api/v1/entities", json={"name": team})
        assert admin.put(f"/api/v1/entities/{team}/members/{name}", json={"role": "viewer"}).is_success
    with wandb_client(server, key) as client:
        answer = gql(client, REWIND, runName="r", entity=team, project="p", metricName="_step", metricValue=0)
        assert answer.status_code == 403 and "member role" in answer.json()["errors"][0]["message"]


def test_post_rewind_answers_the_last_step_and_the_rows_kept(server: InProcessServer) -> None:
    with wandb_client(server) as client:
        upsert(client, "rw-rest")
        logged(client, "rw-rest", range(6), offset=0)
    with server.client() as client:
        url = "/api/v1/runs/admin/wb/rw-rest/rewind"
        assert client.post(url, json={"step": 2}).json() == {"last_step": 2, "rows": 3}
        assert client.post(url, json={"step": -1}).status_code in (400, 422)
        refused = client.post(url, json={"step": 3})
        assert refused.status_code == 400 and "last step is 2" in refused.json()["detail"]
        assert client.post("/api/v1/runs/admin/wb/nobody/rewind", json={"step": 0}).status_code == 404
        assert [r["_step"] for r in rows(client, "rw-rest")] == [0, 1, 2]


def test_a_rewind_reaches_live_pages_as_points_to_load_again() -> None:
    """The web app reloads a run's charts on ``points``; a rewind's says ``rewound``."""
    event = {
        "type": "run_updated",
        "run_id": "r",
        "ack": None,
        "points": 3,
        "keys": ["loss"],
        "rewound": True,
    }
    (sent,) = translate(event)
    assert sent.event == "points"
    assert json.loads(str(sent.data)) == {
        "run_id": "r",
        "keys": ["loss"],
        "points": 3,
        "ack": None,
        "rewound": True,
    }
