"""wakelog's exceptions. Everything we raise on purpose derives from ``Error``::

Error
├── UsageError      an API called the wrong way (bad argument, wrong order)
│   └── ConfigError a config value changed without allow_val_change
└── CommError       talking to a server failed (only raised where the user asked to wait)
"""

from __future__ import annotations


class Error(Exception):
    """Base class of every error wakelog raises on purpose."""


class UsageError(Error):
    """An API was called with arguments or at a time that cannot work; the message says how."""


class ConfigError(UsageError):
    """A config value was changed without ``allow_val_change=True``."""


class CommError(Error):
    """A server could not be reached or refused a request."""
