"""The errors artifacts raise, as wandb's names (``wandb.errors``'s artifact ones)."""

from __future__ import annotations

from wakelog.errors import Error, UsageError


class ArtifactError(UsageError):
    """An artifact was used in a way that cannot work; the message says how."""


class ArtifactFinalizedError(ArtifactError):
    """The artifact was logged (or came from the server): its content can no longer change."""


class ArtifactNotLoggedError(ArtifactError):
    """What was asked needs the artifact's version on the server (``log_artifact`` then ``wait()``)."""


class ArtifactDigestError(Error, ValueError):
    """A file's content does not match its manifest digest (a corrupted download, cache or folder)."""


class ArtifactTypeError(ArtifactError, AssertionError):
    """``use_model``/``link_model`` met an artifact whose type is not a model's (wandb raises
    ``AssertionError`` there, so this is one too)."""
