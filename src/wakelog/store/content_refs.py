"""Which blob content the run files and artifact versions of some entities point at.

One query for the two questions that need it: may a user name this content in a manifest
(``server/artifacts/content.py``), and how many bytes an entity holds (``server/quotas.py``).
"""

from __future__ import annotations

import sqlalchemy as sa

from wakelog.store.schema import (
    artifact_files,
    artifact_versions,
    artifacts,
    entities,
    projects,
    run_files,
    runs,
)


def content_refs(
    where: sa.ColumnElement[bool], among: list[str] | None = None, *, trashed_artifacts: bool = True
) -> sa.CompoundSelect[tuple[str]]:
    """The sha256 of the content pointed at by the run files and artifact versions under the
    entities ``where`` (a condition on ``entities``) selects; only those of ``among`` if given.

    Trashed artifact versions keep their content stored until purged, so they count unless
    ``trashed_artifacts`` is false.
    """
    in_runs = (
        sa.select(run_files.c.sha256)
        .join(runs, runs.c.id == run_files.c.run_pk)
        .join(projects, projects.c.id == runs.c.project_id)
        .join(entities, entities.c.id == projects.c.entity_id)
        .where(where, run_files.c.sha256.in_(among) if among is not None else sa.true())
    )
    in_artifacts = (
        sa.select(artifact_files.c.sha256)
        .join(artifact_versions, artifact_versions.c.id == artifact_files.c.version_pk)
        .join(artifacts, artifacts.c.id == artifact_versions.c.artifact_pk)
        .join(projects, projects.c.id == artifacts.c.project_id)
        .join(entities, entities.c.id == projects.c.entity_id)
        .where(
            where,
            artifact_files.c.sha256.in_(among) if among is not None else sa.true(),
            sa.true() if trashed_artifacts else artifact_versions.c.deleted_at.is_(None),
        )
    )
    return sa.union(in_runs, in_artifacts)
