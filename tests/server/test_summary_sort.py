"""The run table sorted by one summary key walks the sort index (server/query/summary_sort.py,
store/sort_index.py): every page, by offset or after a cursor, in either direction, is the page the
general sort finds, whatever the runs logged (NaN too), set, trashed or moved in or out, before or
after the key was indexed; a key some run set without logging it is sorted the general way, which
reads every run's summary JSON. The first sort by a key is the general one, and indexes the key."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import InProcessServer
from tests.server.conftest import post_records
from tests.server.test_wandb_compat import RUNS, gql, wandb_client
from wakelog.server.query import runs as q
from wakelog.server.query import summary_sort
from wakelog.server.query.filters import parse_order, sort_columns
from wakelog.store import sort_index
from wakelog.store.ingest import ensure_project
from wakelog.store.schema import project_keys, projects, sorted_summaries, summaries

API = "/api/v1"

#: How a run comes by its ``acc``: logged (its last value), logged NaN only and then set in the
#: summary (the JSON's number), logged and then set (the logged one sorts), not at all, or only
#: another key.
HOW = ["logged", "nan-then-set", "logged-then-set", "never", "other-key"]
runs_ = st.lists(
    st.tuples(
        st.sampled_from(HOW),
        st.sampled_from([-1.0, 0.1, 0.5, 0.5, 2.0, math.inf]),  # repeats: ties go by id
        st.sampled_from(["stays", "trashed", "moved-in", "moved-out"]),
    ),
    min_size=1,
    max_size=14,
)


def records(how: str, value: float) -> list[Any]:
    history = {"logged": value, "logged-then-set": value, "nan-then-set": math.nan}.get(how)
    out: list[Any] = [[0, "run", 1.0, {}]]
    if history is not None:
        out.append([1, "history", 2.0, {"_step": 0, "acc": history, "loss": 1.0}])
    if how == "other-key":
        out.append([1, "history", 2.0, {"_step": 0, "loss": value}])
    if how.endswith("-set"):
        out.append([2, "summary", 3.0, {"update": {"acc": -value if how == "logged-then-set" else value}}])
    return [*out, [out[-1][0] + 1, "exit", 4.0, {"exit_code": 0}]]  # a finished run: it may move


def make_project(
    server: InProcessServer, plan: list[tuple[str, float, str]], indexed_after: int | None = 0
) -> str:
    """The plan's runs, in a project of their own (and the projects runs move in from and out to);
    ``acc`` is indexed in all three after that many runs were made, or at the end if more than the
    runs (moves and trash come after the runs, so they happen after it, or before it at the end);
    with None, never."""
    project = f"s{uuid.uuid4().hex[:8]}"
    moved: dict[str, list[str]] = {"in": [], "out": []}
    trashed = []
    with server.client() as client:
        for i, (how, value, fate) in enumerate(plan):
            if i == indexed_after:
                index(server, project, f"{project}-elsewhere", f"{project}-away")
            home = f"{project}-elsewhere" if fate == "moved-in" else project
            assert post_records(client, f"admin/{home}/r{i}", records(how, value)).status_code == 200
            if fate == "trashed":
                trashed.append(f"r{i}")
            elif fate.startswith("moved-"):
                moved[fate[6:]].append(f"r{i}")
        if indexed_after == len(plan):
            index(server, project, f"{project}-elsewhere", f"{project}-away")
        for source, target, names in (
            (f"{project}-elsewhere", project, moved["in"]),
            (project, f"{project}-away", moved["out"]),
        ):
            if names:
                body = {"action": "move", "runs": names, "to": f"admin/{target}"}
                assert client.post(f"{API}/projects/admin/{source}/runs/bulk", json=body).status_code == 200
        if trashed:
            body = {"action": "delete", "runs": trashed}
            assert client.post(f"{API}/projects/admin/{project}/runs/bulk", json=body).status_code == 200
    if indexed_after is not None and indexed_after > len(plan):
        index(server, project, f"{project}-elsewhere", f"{project}-away")
    return project


def index(server: InProcessServer, *names: str, key: str = "acc") -> None:
    """Index ``key`` in the projects of these names (made first where missing)."""
    db = server.app.state.db
    for name in names:
        with db.write() as conn:
            pid = ensure_project(conn, "admin", name, None)
        sort_index.add(db, pid, key)


def general(conn: sa.Connection, project: str, order: str) -> list[tuple[Any, int]]:
    """Every run's sort value and id, in the general sort's order."""
    ctx = q.context(conn)
    pid = q.project_id(conn, "admin", project)
    columns = sort_columns(parse_order(order), ctx)
    kept = sa.and_(q.runs.c.project_id == pid, q.LIVE)
    keys = q._page_keys(conn, columns, kept, q.MAX_PAGE, 0, None, counted=False)
    return [key.k for key in keys]


def walked(conn: sa.Connection, project: str, order: str, limit: int) -> tuple[list[Any], list[str]]:
    """Every run's sort value and id as the walk finds them, page by page by offset; and the run
    ids of the run table's pages (the walk's, as ``list_runs`` calls it), each after the last's cursor."""
    ctx = q.context(conn)
    pid = q.project_id(conn, "admin", project)
    sort = parse_order(order)
    assert pid is not None and summary_sort.plan(conn, pid, None, sort) == "walk"
    pages = range(q.MAX_PAGE)  # a page that never ends the listing fails, not hangs, the test
    by_offset: list[Any] = []
    for _ in pages:
        page = summary_sort.page_keys(conn, pid, sort[0], ctx, limit, len(by_offset), None)
        by_offset += page
        if len(page) < limit:
            break
    by_cursor: list[str] = []
    cursor = None
    for _ in pages:
        found = q.list_runs(conn, "admin", project, None, sort, ctx=ctx, limit=limit, after=cursor)
        assert found is not None
        by_cursor += [run["id"] for run in found.runs]
        cursor = found.next_cursor
        if cursor is None:
            break
    return by_offset, by_cursor


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs_, st.sampled_from(["-summary.acc", "+summary.acc"]), st.integers(1, 4), st.integers(0, 15))
def test_every_page_is_the_general_sorts_page(
    server: InProcessServer, plan: list[tuple[str, float, str]], order: str, limit: int, indexed_after: int
) -> None:
    project = make_project(server, plan, min(indexed_after, len(plan) + 1))
    with server.app.state.db.read() as conn:
        ids = dict(conn.execute(sa.select(q.runs.c.id, q.runs.c.run_id)).all())
        for name in (project, f"{project}-away"):
            if q.project_id(conn, "admin", name) is None:
                continue
            expected = general(conn, name, order)
            by_offset, by_cursor = walked(conn, name, order, limit)
            assert by_offset == expected, name
            assert by_cursor == [ids[pk] for _, pk in expected], name


def test_a_key_set_without_logging_is_sorted_from_every_runs_summary(server: InProcessServer) -> None:
    """``run.summary["acc"] = v`` without a log makes ``acc`` "loose" in the project's registry (the
    index does not hold that value): the general sort then reads it, and the run sorts by it."""
    project = make_project(server, [("logged", 0.5, "stays"), ("logged", 0.1, "stays")])
    with server.client() as client:
        record = [0, "summary", 1.0, {"update": {"acc": 0.3}}]
        assert post_records(client, f"admin/{project}/set", [record]).status_code == 200
        answer = client.get(f"{API}/projects/admin/{project}/runs", params={"order": "-summary.acc"})
        assert [run["id"] for run in answer.json()["runs"]] == ["r0", "set", "r1"]
    with server.app.state.db.read() as conn:
        pid = q.project_id(conn, "admin", project)
        assert (
            pid is not None and summary_sort.plan(conn, pid, None, parse_order("-summary.acc")) == "general"
        )
        assert summary_sort.plan(conn, pid, None, parse_order("-summary.loss")) == "unindexed"
        kinds = sa.select(project_keys.c.kind).where(
            project_keys.c.project_id == pid, project_keys.c.key == "acc"
        )
        assert sorted(conn.execute(kinds).scalars()) == ["loose", "sorted", "summary"]


def test_a_logged_key_without_a_summary_row_is_loose_too(server: InProcessServer) -> None:
    """``_``-prefixed history keys get no summary row; one the summary also holds as a number (a
    summary sent whole, as the wandb client sends it) is loose, and sorts from the JSON."""
    project = f"s{uuid.uuid4().hex[:8]}"
    with server.client() as client:
        for run_id, value in (("a", 2.0), ("b", 1.0)):
            records = [
                [0, "history", 1.0, {"_step": 0, "_runtime": value, "loss": value}],
                [1, "summary", 1.0, {"whole": True, "update": {"_runtime": value, "loss": value}}],
            ]
            assert post_records(client, f"admin/{project}/{run_id}", records).status_code == 200
        answer = client.get(f"{API}/projects/admin/{project}/runs", params={"order": "summary._runtime"})
        assert [run["id"] for run in answer.json()["runs"]] == ["b", "a"]
    with server.app.state.db.read() as conn:
        pid = q.project_id(conn, "admin", project)
        assert pid is not None
        assert summary_sort.plan(conn, pid, None, parse_order("summary._runtime")) == "general"
        assert summary_sort.plan(conn, pid, None, parse_order("summary.loss")) == "unindexed"


def test_a_moved_run_takes_its_summary_rows_and_loose_keys_along(server: InProcessServer) -> None:
    project = make_project(server, [("logged", 0.5, "moved-out")])
    with server.client() as client:
        finished = [[0, "summary", 1.0, {"update": {"f1": 0.3}}], [1, "exit", 2.0, {"exit_code": 0}]]
        assert post_records(client, f"admin/{project}/set", finished).status_code == 200
        body = {"action": "move", "runs": ["set"], "to": f"admin/{project}-away"}
        assert client.post(f"{API}/projects/admin/{project}/runs/bulk", json=body).status_code == 200
    with server.app.state.db.read() as conn:
        away = conn.execute(sa.select(projects.c.id).where(projects.c.name == f"{project}-away")).scalar_one()
        rows = sa.select(summaries.c.key, summaries.c.project_id).where(summaries.c.key.in_(["acc", "loss"]))
        held = {(k, p) for k, p in conn.execute(rows) if p == away}
        assert held == {("acc", away), ("loss", away)}
        loose = sa.select(project_keys.c.key).where(
            project_keys.c.project_id == away, project_keys.c.kind == "loose"
        )
        assert list(conn.execute(loose).scalars()) == ["f1"]


@pytest.mark.parametrize("order", ["-summary.acc", "summary.acc"])
def test_the_route_pages_a_walked_sort_with_its_cursor(server: InProcessServer, order: str) -> None:
    plan = [("logged", v, "stays") for v in (0.3, 0.1, 0.2)] + [("never", 0.0, "stays")]
    project = make_project(server, plan)
    seen = []
    cursor = None
    with server.client() as client:
        while True:
            params = {"order": order, "limit": 2, **({"after": cursor} if cursor else {})}
            page = client.get(f"{API}/projects/admin/{project}/runs", params=params).json()
            seen += [run["id"] for run in page["runs"]]
            assert page["total"] == 4
            cursor = page.get("next_cursor")
            if not cursor:
                break
    assert seen == (["r0", "r2", "r1", "r3"] if order.startswith("-") else ["r1", "r2", "r0", "r3"])


def indexed_keys(server: InProcessServer, project: str) -> dict[str, int]:
    """The project's indexed keys, and how many index rows each has."""
    with server.app.state.db.read() as conn:
        pid = q.project_id(conn, "admin", project)
        c, s = project_keys.c, sorted_summaries.c
        keys = conn.execute(sa.select(c.key).where(c.project_id == pid, c.kind == sort_index.KIND)).scalars()
        rows = sa.select(s.key, sa.func.count()).where(s.project_id == pid).group_by(s.key)
        return {**dict.fromkeys(keys, 0), **{key: count for key, count in conn.execute(rows)}}


def test_the_first_sort_by_a_key_is_the_general_one_and_indexes_the_key(server: InProcessServer) -> None:
    """The web app's run table and ``wandb.Api().runs(order=…)`` alike: the page is answered the
    general way, the key indexed after it, and the next page walks the index."""
    project = make_project(server, [("logged", v, "stays") for v in (0.3, 0.1, 0.2)], indexed_after=None)
    assert indexed_keys(server, project) == {}
    with server.client() as client:
        for _ in range(2):
            answer = client.get(f"{API}/projects/admin/{project}/runs", params={"order": "-summary.acc"})
            assert [run["id"] for run in answer.json()["runs"]] == ["r0", "r2", "r1"]
            assert indexed_keys(server, project) == {"acc": 3}
    with wandb_client(server) as client:
        for _ in range(2):
            answer = gql(client, RUNS, entity="admin", project=project, order="+summary_metrics.loss")
            edges = answer.json()["data"]["project"]["runs"]["edges"]
            assert [edge["node"]["name"] for edge in edges] == ["r0", "r1", "r2"]  # loss ties: by id
            assert indexed_keys(server, project) == {"acc": 3, "loss": 3}
        filtered = json.dumps({"state": "finished"})
        gql(client, RUNS, entity="admin", project=project, order="-summary_metrics.acc", filters=filtered)
        gql(client, RUNS, entity="admin", project=project, order="-summary_metrics.f1")
    assert indexed_keys(server, project) == {"acc": 3, "loss": 3}  # never logged: f1 is not indexed
    with server.client() as client:
        params = {"order": "-summary.acc", "filter": "state = 'finished'"}
        assert client.get(f"{API}/projects/admin/{project}/runs", params=params).status_code == 200
        fresh = make_project(server, [("logged", 0.5, "stays")], indexed_after=None)
        filtered = client.get(f"{API}/projects/admin/{fresh}/runs", params=params)
        assert [run["id"] for run in filtered.json()["runs"]] == ["r0"]
    assert indexed_keys(server, fresh) == {}  # a filtered sort is never walked: nothing indexed


def test_a_sort_by_a_key_whose_copy_was_cut_short_copies_it_again(server: InProcessServer) -> None:
    """A key left "filling" (the server stopped during the copy) is sorted the general way, and
    the sort copies it again."""
    project = make_project(server, [("logged", v, "stays") for v in (0.3, 0.1, 0.2)], indexed_after=None)
    db = server.app.state.db
    with db.write() as conn:
        assert sort_index.register(conn, q.project_id(conn, "admin", project), "acc")
    assert indexed_keys(server, project) == {}
    with server.client() as client:
        answer = client.get(f"{API}/projects/admin/{project}/runs", params={"order": "summary.acc"})
        assert [run["id"] for run in answer.json()["runs"]] == ["r1", "r2", "r0"]
    assert indexed_keys(server, project) == {"acc": 3}
