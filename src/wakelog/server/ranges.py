"""HTTP byte ranges (RFC 9110 §14) for downloads, so video and audio players can seek.

One range per request, the form players send (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``). A
header this does not serve — several ranges, another unit, garbage, a start past the end — is
ignored and the whole content sent with 200, which the RFC allows a server to do for any reason.
"""

from __future__ import annotations

import re

_SINGLE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` (inclusive) of the one satisfiable range ``header`` asks for, or None."""
    if not header:
        return None
    match = _SINGLE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first:  # a suffix: the last n bytes
        if not last or int(last) == 0 or size == 0:
            return None
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return start, end
