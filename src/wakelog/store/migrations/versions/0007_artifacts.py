"""artifacts: versioned artifacts, their files, aliases and lineage, and the model registry

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-20 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "registry_collections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name=op.f("fk_registry_collections_entity_id_entities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_collections")),
        sa.UniqueConstraint("entity_id", "name", name=op.f("uq_registry_collections_entity_id_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_artifacts_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_artifacts_project_id_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "artifact_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("artifact_pk", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("artifact_metadata", JSON, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("file_count", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("run_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("deleted_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["artifact_pk"],
            ["artifacts.id"],
            name=op.f("fk_artifact_versions_artifact_pk_artifacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_artifact_versions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_pk"], ["runs.id"], name=op.f("fk_artifact_versions_run_pk_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifact_versions")),
        sa.UniqueConstraint("artifact_pk", "version", name=op.f("uq_artifact_versions_artifact_pk_version")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_artifact_versions_artifact_digest", "artifact_versions", ["artifact_pk", "digest"], unique=False
    )
    op.create_index(
        op.f("ix_artifact_versions_deleted_at"), "artifact_versions", ["deleted_at"], unique=False
    )
    op.create_index(op.f("ix_artifact_versions_run_pk"), "artifact_versions", ["run_pk"], unique=False)
    op.create_table(
        "artifact_aliases",
        sa.Column("artifact_pk", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=128), nullable=False),
        sa.Column("version_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_pk"],
            ["artifacts.id"],
            name=op.f("fk_artifact_aliases_artifact_pk_artifacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_pk"],
            ["artifact_versions.id"],
            name=op.f("fk_artifact_aliases_version_pk_artifact_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("artifact_pk", "alias", name=op.f("pk_artifact_aliases")),
    )
    op.create_index(op.f("ix_artifact_aliases_version_pk"), "artifact_aliases", ["version_pk"], unique=False)
    op.create_table(
        "artifact_files",
        sa.Column("version_pk", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("digest", sa.String(length=128), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=True),
        sa.Column("extra", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["version_pk"],
            ["artifact_versions.id"],
            name=op.f("fk_artifact_files_version_pk_artifact_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_pk", "path", name=op.f("pk_artifact_files")),
    )
    op.create_index(op.f("ix_artifact_files_sha256"), "artifact_files", ["sha256"], unique=False)
    op.create_table(
        "artifact_runs",
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.Column("version_pk", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.CheckConstraint("relation IN ('logged', 'used')", name="ck_artifact_runs_relation"),
        sa.ForeignKeyConstraint(
            ["run_pk"], ["runs.id"], name=op.f("fk_artifact_runs_run_pk_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_pk"],
            ["artifact_versions.id"],
            name=op.f("fk_artifact_runs_version_pk_artifact_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_pk", "version_pk", "relation", name=op.f("pk_artifact_runs")),
    )
    op.create_index(op.f("ix_artifact_runs_version_pk"), "artifact_runs", ["version_pk"], unique=False)
    op.create_table(
        "registry_aliases",
        sa.Column("collection_pk", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=128), nullable=False),
        sa.Column("version_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_pk"],
            ["registry_collections.id"],
            name=op.f("fk_registry_aliases_collection_pk_registry_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_pk"],
            ["artifact_versions.id"],
            name=op.f("fk_registry_aliases_version_pk_artifact_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_pk", "alias", name=op.f("pk_registry_aliases")),
    )
    op.create_index(op.f("ix_registry_aliases_version_pk"), "registry_aliases", ["version_pk"], unique=False)
    op.create_table(
        "registry_links",
        sa.Column("collection_pk", sa.Integer(), nullable=False),
        sa.Column("version_pk", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_pk"],
            ["registry_collections.id"],
            name=op.f("fk_registry_links_collection_pk_registry_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_registry_links_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["version_pk"],
            ["artifact_versions.id"],
            name=op.f("fk_registry_links_version_pk_artifact_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_pk", "version_pk", name=op.f("pk_registry_links")),
    )
    op.create_index(op.f("ix_registry_links_version_pk"), "registry_links", ["version_pk"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_registry_links_version_pk"), table_name="registry_links")
    op.drop_table("registry_links")
    op.drop_index(op.f("ix_registry_aliases_version_pk"), table_name="registry_aliases")
    op.drop_table("registry_aliases")
    op.drop_index(op.f("ix_artifact_runs_version_pk"), table_name="artifact_runs")
    op.drop_table("artifact_runs")
    op.drop_index(op.f("ix_artifact_files_sha256"), table_name="artifact_files")
    op.drop_table("artifact_files")
    op.drop_index(op.f("ix_artifact_aliases_version_pk"), table_name="artifact_aliases")
    op.drop_table("artifact_aliases")
    op.drop_index(op.f("ix_artifact_versions_run_pk"), table_name="artifact_versions")
    op.drop_index(op.f("ix_artifact_versions_deleted_at"), table_name="artifact_versions")
    op.drop_index("ix_artifact_versions_artifact_digest", table_name="artifact_versions")
    op.drop_table("artifact_versions")
    op.drop_table("artifacts")
    op.drop_table("registry_collections")
