"""The project list at scale: SQL time of listing projects with their live run counts and last
activity, today's query (grouped over every run of the server) beside the one the server runs now
(each listed project asked through the index of its live runs).

    python bench/project_list.py [--quick] [--runs 50000] [--projects 200] [--postgres]

The store is seeded with SQL (no runs' data: only their rows matter here): ``--runs`` runs spread
over ``--projects`` projects of one entity, one run in 20 in the trash, and a small second entity of
3 projects with 10 runs each. Both queries run on the same database and must agree; the figure is
the median of several repetitions after a warm-up, for the big entity's list (every run counted
either way) and the small entity's (today's query still groups every run of the server).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import sqlalchemy as sa

from _common import median_ms
from _seed import scratch_database, settle


def grouped_today(conn: sa.Connection, entity: str) -> list[dict[str, Any]]:
    """The list as the server built it before: one grouping over every live run of the server."""
    from wakelog.store.schema import entities, projects, runs

    counts = (
        sa.select(
            runs.c.project_id, sa.func.count().label("n"), sa.func.max(runs.c.updated_at).label("active")
        )
        .where(runs.c.deleted_at.is_(None))
        .group_by(runs.c.project_id)
        .subquery()
    )
    active = sa.func.coalesce(counts.c.active, projects.c.updated_at).label("updated_at")
    query = (
        sa.select(
            entities.c.name.label("entity"),
            projects.c.name,
            projects.c.created_at,
            active,
            sa.func.coalesce(counts.c.n, 0).label("runs"),
        )
        .join(entities, entities.c.id == projects.c.entity_id)
        .outerjoin(counts, counts.c.project_id == projects.c.id)
        .where(projects.c.deleted_at.is_(None), entities.c.name == entity)
        .order_by(active.desc(), projects.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def seed(db: Any, runs: int, projects: int) -> None:
    from wakelog.store import schema

    now = time.time()
    with db.write() as conn:
        conn.execute(
            schema.entities.insert(),
            [{"name": "big", "created_at": now}, {"name": "small", "created_at": now}],
        )
        ids = dict(conn.execute(sa.select(schema.entities.c.name, schema.entities.c.id)).all())
        rows = [
            {"entity_id": ids["big"], "name": f"p{i}", "created_at": now, "updated_at": now}
            for i in range(projects)
        ]
        rows += [
            {"entity_id": ids["small"], "name": f"s{i}", "created_at": now, "updated_at": now}
            for i in range(3)
        ]
        conn.execute(schema.projects.insert(), rows)
        pids = [
            pid for (pid,) in conn.execute(sa.select(schema.projects.c.id).order_by(schema.projects.c.id))
        ]
    plan = [(pids[i % projects], i) for i in range(runs)] + [
        (pids[projects + i % 3], runs + i) for i in range(30)
    ]
    for start in range(0, len(plan), 5000):
        batch = [
            {
                "project_id": pid,
                "run_id": f"r{i}",
                "state": "finished",
                "created_at": now - i,
                "updated_at": now - i,
                "heartbeat_at": now - i,
                "deleted_at": now if i % 20 == 0 else None,
            }
            for pid, i in plan[start : start + 5000]
        ]
        with db.write() as conn:
            conn.execute(schema.runs.insert(), batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 runs")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL cluster")
    args = parser.parse_args()
    runs = args.runs or (5000 if args.quick else 50_000)

    from wakelog.server.query.runs import list_projects

    with scratch_database(args.postgres) as db:
        seed(db, runs, args.projects)
        settle(db)
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{backend}, {runs:,} runs in {args.projects} projects (1 in 20 trashed) + 3 small projects")
        with db.read() as conn:
            for entity in ("big", "small"):
                today = grouped_today(conn, entity)
                now = list_projects(conn, entity)
                assert now == today, (now[:3], today[:3])
                before = median_ms(lambda e=entity: grouped_today(conn, e), args.repeat)
                after = median_ms(lambda e=entity: list_projects(conn, e), args.repeat)
                print(
                    f"  list of {entity!r} ({len(now)} projects): today {before:.1f} ms,"
                    f" now {after:.1f} ms: ratio now/today {after / before:.2f}"
                )


if __name__ == "__main__":
    main()
