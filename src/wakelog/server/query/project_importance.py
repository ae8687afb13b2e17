"""Parameter importance over a project's runs: each config key's importance to a summary metric
and its correlation with it (the workspace's and reports' ``importance`` panel).

The runs are those the run table shows for a filter (trashed runs never), newest first. Config keys
are flattened as the run table's columns name them (``optimizer.lr``) and wandb's own keys
(``_wandb`` and every other top-level key starting with ``_``) are left out; the metric's value is
picked as the run table picks it (``eval/acc.max`` reads what ``define_metric(summary="max")``
kept). Runs without a finite number for the metric are left out; at most ``MAX_RUNS`` are rated (the
newest), and a key a run lacks counts as one more category (``query/importance`` rates the rest).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from wakelog.server.query.filters import Context, Node, compile_filter
from wakelog.server.query.importance import is_number, rank
from wakelog.server.query.runs import LIVE, project_id, summary_value
from wakelog.store.key_registry import flat_config
from wakelog.store.schema import runs

#: Runs rated at most: fANOVA's forest grows with them (bench/server_query.py --part importance).
MAX_RUNS = 1000
#: Runs read at most to find them (newest first), with or without the metric.
MAX_SCANNED = 10 * MAX_RUNS


def rate(rows: Iterable[tuple[dict[str, Any], dict[str, Any]]], metric: str) -> dict[str, Any]:
    """``{metric, runs, capped, params}`` of (config, summary) pairs, newest first: ``runs`` is how
    many were rated, ``capped`` whether more had the metric."""
    picked: list[tuple[dict[str, Any], float]] = []
    capped = False
    for config, summary in rows:
        value = summary_value(summary or {}, metric)
        if not is_number(value):
            continue
        if len(picked) == MAX_RUNS:
            capped = True
            break
        shown = {k: v for k, v in (config or {}).items() if not str(k).startswith("_")}
        picked.append((flat_config(shown), float(value)))
    keys = sorted({key for flat, _ in picked for key in flat})
    columns = {key: [flat.get(key) for flat, _ in picked] for key in keys}
    params = rank(columns, [value for _, value in picked])
    return {"metric": metric, "runs": len(picked), "capped": capped, "params": params}


def project_rows(
    conn: sa.Connection, entity: str, project: str, where: Node | None, ctx: Context
) -> list[tuple[dict[str, Any], dict[str, Any]]] | None:
    """The (config, summary) of the project's runs ``where`` matches, newest first, for
    :func:`rate` (after the connection is given back: fANOVA takes a while); ``None`` if the
    project does not exist."""
    pid = project_id(conn, entity, project)
    if pid is None:
        return None
    query = (
        sa.select(runs.c.config, runs.c.summary)
        .where(runs.c.project_id == pid, LIVE, compile_filter(where, ctx))
        .order_by(runs.c.created_at.desc(), runs.c.id.desc())
        .limit(MAX_SCANNED)
    )
    return [(row.config, row.summary) for row in conn.execute(query)]
