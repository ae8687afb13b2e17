"""Where media files live in a run folder, and how they get there safely.

Files are content-addressed (the name carries the sha256 prefix), so writing the
same bytes twice yields the same name and a re-write is harmless. Writes go
through a temporary file and ``os.replace`` so a reader (the uploader, the
server) never sees a half-written file, even with several writer threads.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
from pathlib import Path
from typing import Any

from wakelog._names import check_file_name

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_KEY_CHARS = 100  # leaves room for step, hash and extension under the 255-byte name limit
_tmp_counter = itertools.count()


def safe_key(key: str) -> str:
    """Make a log key usable as a file-name prefix that cannot leave its folder.

    Every character outside ``[A-Za-z0-9._-]`` (``/``, ``\\``, NUL, unicode, ...)
    becomes ``_``; leading dots become ``_`` too, so the result is never ``.``,
    ``..`` or a hidden file. Long keys are cut to 100 characters.
    """
    text = _UNSAFE.sub("_", str(key))[:_MAX_KEY_CHARS]
    stripped = text.lstrip(".")
    text = "_" * (len(text) - len(stripped)) + stripped
    return text or "_"


def media_file_name(key: str, step: int, digest: str, ext: str) -> str:
    return f"{safe_key(key)}_{int(step)}_{digest[:20]}.{ext}"


def write_media_file(
    run_dir: Path, kind: str, key: str, step: int, *, data: bytes, ext: str
) -> dict[str, Any]:
    """Write ``data`` under ``run_dir/files/media/<kind>/`` and return path/sha256/size for the stub.

    ``path`` is relative to ``run_dir/files`` with ``/`` separators, as the stub format wants.
    """
    digest = hashlib.sha256(data).hexdigest()
    name = media_file_name(key, step, digest, ext)
    path = check_file_name(f"media/{kind}/{name}")  # what the server takes: never a way out of files/
    folder = Path(run_dir) / "files" / "media" / kind
    target = folder / name
    try:
        exists = target.stat().st_size == len(data)
    except OSError:
        exists = False
    if not exists:  # same name means same content, so an existing file is already right
        folder.mkdir(parents=True, exist_ok=True)
        # A unique name per process/thread/call; os.open honours the umask (mkstemp would force 0600).
        tmp = folder / f".tmp-{os.getpid()}-{threading.get_ident()}-{next(_tmp_counter)}-{name}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return {"path": path, "sha256": digest, "size": len(data)}
