"""HTML snippets or pages, stored as an .html file and shown in a sandboxed frame."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ._base import Media
from ._files import write_media_file

# Injected by default: links open outside the frame, and the page gets plain, readable defaults.
# Inline on purpose: a self-hosted server must not make the browser fetch from elsewhere.
_INJECT = (
    '<base target="_blank">'
    "<style>body{margin:0;padding:8px;font-family:system-ui,sans-serif;font-size:14px;"
    "line-height:1.4}table{border-collapse:collapse}td,th{padding:2px 6px}</style>"
)
_HEAD_OPEN = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)
_HTML_OPEN = re.compile(r"<html(\s[^>]*)?>", re.IGNORECASE)


def _inject(html: str) -> str:
    for pattern, wrap in ((_HEAD_OPEN, False), (_HTML_OPEN, True)):
        match = pattern.search(html)
        if match:
            extra = f"<head>{_INJECT}</head>" if wrap else _INJECT
            return html[: match.end()] + extra + html[match.end() :]
    return _INJECT + html


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"Html {source} is not UTF-8 text ({exc})") from None


def _names_file(text: str) -> bool:
    """A str is taken as a path only if it cannot be markup and an existing file has that name."""
    if not text or "<" in text or "\n" in text or len(text) > 4096:
        return False
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


class Html(Media):
    """HTML logged as a file.

    Args:
        data: HTML text; a path (``os.PathLike``, or a ``str`` without ``<`` that
            names an existing file); ``bytes`` (UTF-8); or a file-like object
            with ``.read()``.
        inject: add a ``<base target="_blank">`` and a small inline stylesheet
            to the page head, so links leave the viewer frame and bare HTML looks
            tidy. Nothing is fetched from the network.

    The text is read (and the file copied) now; writing waits for ``to_stub``.
    """

    def __init__(self, data: str | os.PathLike[str] | bytes | Any, inject: bool = True) -> None:
        if isinstance(data, os.PathLike) or (isinstance(data, str) and _names_file(data)):
            path = Path(data)
            if not path.is_file():
                raise FileNotFoundError(f"Html path {str(path)!r} does not exist or is not a file")
            text = _decode(path.read_bytes(), f"file {str(path)!r}")
        elif isinstance(data, str):
            text = data
        elif isinstance(data, bytes | bytearray):
            text = _decode(bytes(data), "bytes")
        elif callable(getattr(data, "read", None)):
            content = data.read()
            if isinstance(content, bytes | bytearray):
                content = _decode(bytes(content), "file object")
            if not isinstance(content, str):
                raise TypeError(f"Html file object .read() returned {type(content).__name__}, not str/bytes")
            text = content
        else:
            raise TypeError(
                f"Html takes HTML text, a path, bytes or a file-like object; got {type(data).__name__}"
            )
        html = _inject(text) if inject else text
        try:
            self._raw = html.encode("utf-8")  # fails now, in the caller's thread, not in the writer
        except UnicodeEncodeError as exc:
            raise ValueError(f"Html text cannot be encoded as UTF-8 ({exc})") from None

    @property
    def html(self) -> str:
        """The HTML that will be written (after injection)."""
        return self._raw.decode("utf-8")

    def to_stub(self, run_dir: Path, key: str, step: int) -> dict[str, Any]:
        stub: dict[str, Any] = {"_type": "html-file"}
        stub.update(write_media_file(run_dir, "html", key, step, data=self._raw, ext="html"))
        return stub

    def __repr__(self) -> str:
        return f"Html({len(self._raw)} bytes)"
