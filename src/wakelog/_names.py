"""Names users choose that end up in URLs or storage keys, checked the same way everywhere.

A file name inside a run is an opaque key: relative, ``/``-separated, and it can never point
outside the run (no ``..``, no absolute path, no drive letter, no backslash, no NUL).
"""

from __future__ import annotations

import re

_PART = re.compile(r"^[\w.\-]{1,128}$", re.UNICODE)
_RUN_ID = re.compile(r"^[^/\\#?%:\s\x00]{1,128}$")
_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_FILE_NAME = 1024


def check_path_part(kind: str, value: str) -> str:
    """An entity or project name: letters (any script), digits, ``_ . -``; 1-128 characters."""
    if not isinstance(value, str) or not _PART.match(value) or value.startswith(".") or value in (".", ".."):
        raise ValueError(f"{kind} {value!r} is invalid: use 1-128 letters, digits, '_', '.' or '-'")
    return value


def check_run_id(value: str) -> str:
    if not isinstance(value, str) or not _RUN_ID.match(value):
        raise ValueError(f"run id {value!r} is invalid: use 1-128 characters without / \\ # ? % : or spaces")
    return value


def check_file_name(name: str) -> str:
    """A run file's name, refused if it could escape the run or confuse a file system."""
    problem = None
    if not isinstance(name, str) or not name:
        problem = "is empty"
    elif len(name) > MAX_FILE_NAME:
        problem = f"is longer than {MAX_FILE_NAME} characters"
    elif "\x00" in name:
        problem = "contains NUL"
    elif "\\" in name:
        problem = "contains a backslash"
    elif name.startswith("/") or _DRIVE.match(name):
        problem = "is absolute"
    elif any(part in ("", ".", "..") for part in name.split("/")):
        problem = "has an empty, '.' or '..' part"
    if problem:
        raise ValueError(f"file name {name!r} {problem}")
    return name
