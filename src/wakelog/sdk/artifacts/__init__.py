"""Artifacts: versioned, deduplicated sets of files (``wakelog.Artifact``, wandb's ``Artifact``)."""

from wakelog.sdk.artifacts._artifact import Artifact
from wakelog.sdk.artifacts._errors import (
    ArtifactDigestError,
    ArtifactError,
    ArtifactFinalizedError,
    ArtifactNotLoggedError,
)
from wakelog.sdk.artifacts._manifest import ArtifactManifest, ArtifactManifestEntry

__all__ = [
    "Artifact",
    "ArtifactDigestError",
    "ArtifactError",
    "ArtifactFinalizedError",
    "ArtifactManifest",
    "ArtifactManifestEntry",
    "ArtifactNotLoggedError",
]
