"""File-backed media types, and reading the files they are given (by path or as file objects).

Video, Audio, Object3D and Molecule take a file as it is and store it under its own extension.
The content is read when the object is built (so later edits to the file do not leak into what
was logged); the write waits for the writer thread like every other medium.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Collection
from pathlib import Path
from typing import Any, ClassVar

from ._base import Media
from ._files import write_media_file


def is_path(value: Any) -> bool:
    return isinstance(value, str | os.PathLike)


def is_file_like(value: Any) -> bool:
    return callable(getattr(value, "read", None))


def extension_of(name: str, allowed: Collection[str]) -> str | None:
    """The longest allowed extension ``name`` ends with (``pts.json`` before ``json``), lower-cased."""
    lower = name.lower()
    matches = [ext for ext in allowed if lower.endswith("." + ext)]
    return max(matches, key=len) if matches else None


def read_path(path: str | os.PathLike[str], what: str) -> bytes:
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{what} path {str(file)!r} does not exist or is not a file")
    return file.read_bytes()


def read_file_like(source: Any, what: str) -> bytes:
    """The content of a file-like object (text is encoded as UTF-8), from its start if it can seek."""
    if callable(getattr(source, "seek", None)):
        try:
            source.seek(0)
        except OSError:  # a pipe or socket: read what is there
            pass
    content = source.read()
    if isinstance(content, str):
        return content.encode("utf-8")
    if isinstance(content, bytes | bytearray | memoryview):
        return bytes(content)
    raise TypeError(f"{what} file object .read() returned {type(content).__name__}, not str or bytes")


def check_caption(caption: Any, what: str) -> str | None:
    if caption is not None and not isinstance(caption, str):
        raise TypeError(f"{what} caption must be a str or None; got {type(caption).__name__}")
    return caption


class FileMedia(Media):
    """A medium stored as one file in its own format, under ``files/media/<kind>/``.

    Subclasses set ``_log_type`` (the stub's ``_type``, as wandb names it) and ``_kind`` (the
    folder), and return the file's bytes and extension from ``_content``, which runs in the writer
    thread: that is where any encoding happens.
    """

    _log_type: ClassVar[str]
    _kind: ClassVar[str]
    _caption: str | None = None

    @abstractmethod
    def _content(self) -> tuple[bytes, str]:
        """The file's bytes and extension (without the dot)."""

    def _extra(self) -> dict[str, Any]:
        """Fields the stub carries besides the file's (e.g. a video's size)."""
        return {}

    @property
    def caption(self) -> str | None:
        return self._caption

    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        data, ext = self._content()
        stub: dict[str, Any] = {"_type": self._log_type}
        stub.update(write_media_file(run_dir, self._kind, key, step, data=data, ext=ext))
        stub.update(self._extra())
        if self._caption is not None:
            stub["caption"] = self._caption
        return stub
