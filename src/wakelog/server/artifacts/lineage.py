"""Lineage: the graph of runs and artifact versions around one version (runs → artifacts → runs).

An edge goes from a run to the version it logged, and from a version to the run that used it.
The walk goes ``depth`` steps out from the version, both ways, and stops adding nodes at
``max_nodes`` (``truncated`` says so): a graph stays small enough to draw. Runs and versions
under entities the caller cannot read, and deleted versions, are left out and not walked through.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from wakelog.server.artifacts import store
from wakelog.server.auth import User
from wakelog.server.permissions import readable_entities
from wakelog.store.chunks import chunked
from wakelog.store.schema import artifact_runs, entities, projects, runs

Node = tuple[str, int]  # ("run" | "artifact", primary key)


def _readable(conn: sa.Connection, user: User, names: set[str]) -> set[str]:
    if user.is_admin or not names:
        return names
    query = sa.select(entities.c.name).where(readable_entities(user), entities.c.name.in_(sorted(names)))
    return set(conn.execute(query).scalars())


def _describe(conn: sa.Connection, user: User, found: set[Node]) -> dict[Node, dict[str, Any]]:
    """Public descriptions of the nodes the caller may see (the others are left out)."""
    described: dict[Node, dict[str, Any]] = {}
    for version in store.by_pks(conn, (pk for kind, pk in found if kind == "artifact")):
        described[("artifact", version.pk)] = {
            "id": f"artifact:{version.label}",
            "kind": "artifact",
            "label": f"{version.name}:v{version.version}",
            "entity": version.entity,
            "project": version.project,
            "name": version.name,
            "version": f"v{version.version}",
            "type": version.type,
        }
    for some in chunked([pk for kind, pk in found if kind == "run"]):
        rows = conn.execute(
            sa.select(
                runs.c.id,
                runs.c.run_id,
                runs.c.name,
                entities.c.name.label("entity"),
                projects.c.name.label("project"),
            )
            .join(projects, projects.c.id == runs.c.project_id)
            .join(entities, entities.c.id == projects.c.entity_id)
            .where(runs.c.id.in_(some))
        )
        for row in rows:
            described[("run", row.id)] = {
                "id": f"run:{row.entity}/{row.project}/{row.run_id}",
                "kind": "run",
                "label": row.name or row.run_id,
                "entity": row.entity,
                "project": row.project,
                "run_id": row.run_id,
            }
    allowed = _readable(conn, user, {d["entity"] for d in described.values()})
    return {node: d for node, d in described.items() if d["entity"] in allowed}


def _edges_of(conn: sa.Connection, frontier: list[Node]) -> list[tuple[Node, Node]]:
    r = artifact_runs.c
    out: list[tuple[Node, Node]] = []
    for kind, column in (("artifact", r.version_pk), ("run", r.run_pk)):
        for some in chunked([pk for k, pk in frontier if k == kind]):
            for row in conn.execute(sa.select(r.run_pk, r.version_pk, r.relation).where(column.in_(some))):
                run, version = ("run", row.run_pk), ("artifact", row.version_pk)
                out.append((run, version) if row.relation == "logged" else (version, run))
    return sorted(set(out))


def lineage(
    conn: sa.Connection, user: User, start: store.Version, depth: int, max_nodes: int
) -> dict[str, Any]:
    origin: Node = ("artifact", start.pk)
    nodes = _describe(conn, user, {origin})
    edges: set[tuple[Node, Node]] = set()
    frontier, truncated = [origin], False
    for _ in range(depth):
        found = _edges_of(conn, frontier)
        new = {n for edge in found for n in edge if n not in nodes}
        room = max(max_nodes - len(nodes), 0)
        if len(new) > room:
            truncated, new = True, set(sorted(new)[:room])
        added = _describe(conn, user, new)
        nodes.update(added)
        edges.update(e for e in found if e[0] in nodes and e[1] in nodes)
        frontier = sorted(added)
        if not frontier:
            break
    return {
        "nodes": list(nodes.values()),
        "edges": [{"from": nodes[a]["id"], "to": nodes[b]["id"]} for a, b in sorted(edges)],
        "truncated": truncated,
    }
