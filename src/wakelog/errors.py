"""wakelog's exceptions. Everything we raise on purpose derives from ``Error``::

Error
├── UsageError      an API called the wrong way (bad argument, wrong order)
│   ├── ConfigError a config value changed without allow_val_change
│   └── UnsupportedError a wandb feature wakelog does not have (``require()``)
├── CommError       talking to a server failed (only raised where the user asked to wait)
│   └── RetryableError, RejectedError, SequenceGap      (transport/client.py)
├── BadValue        a value log() cannot record (strict mode; also a ValueError, sdk/_values.py)
├── RunLogError     not a run log, or an unknown format version (runlog/reader.py)
├── RecordTooLarge  a record too large to upload (also a ValueError, runlog/writer.py)
├── UploadStopped   the server refused a run for good (transport/uploader.py)
├── WandbAliasError the wandb alias would hide a real wandb (also an ImportError)
└── DemoError       ``wakelog demo`` cannot run

A class keeps its old builtin base as a second base (``class BadValue(Error, ValueError)``), so
existing ``except ValueError`` code still catches it; ``tests/test_errors.py`` checks the tree.
"""

from __future__ import annotations


class Error(Exception):
    """Base class of every error wakelog raises on purpose."""


class UsageError(Error):
    """An API was called with arguments or at a time that cannot work; the message says how."""


class ConfigError(UsageError):
    """A config value was changed without ``allow_val_change=True``."""


class UnsupportedError(UsageError):
    """A wandb feature wakelog does not have was required (``wakelog.require``), as wandb's."""


class CommError(Error):
    """A server could not be reached or refused a request."""
