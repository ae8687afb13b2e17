"""Artifacts: versioned, deduplicated sets of files (``wakelog.Artifact``, wandb's ``Artifact``)."""

# What ``run.log_artifact`` needs comes with ``Artifact``: the first call then costs a queue put and
# a thread start, not imports racing the run's own background threads (170 ms seen on a busy box).
from wakelog.sdk.artifacts import _run, _saver  # noqa: F401
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
