"""Text fragments into whole lines, the way a terminal would show them after ``\\r`` redraws."""

from __future__ import annotations

MAX_LINE = 64 * 1024


class LineAssembler:
    """Turns a stream of text fragments into complete lines, collapsing carriage-return overwrites.

    Not thread-safe by itself (ConsoleCapture holds a lock around it). Memory stays bounded even for a
    progress bar that redraws with ``\\r`` for hours without a newline: superseded text is dropped eagerly.
    """

    __slots__ = ("_max", "_parts", "_size")

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._max = max(16, int(max_line))

    def feed(self, text: str) -> list[str]:
        """Add text; return the lines it completed (possibly none)."""
        if "\n" not in text:
            if not text:
                return []
            self._parts.append(text)
            self._size += len(text)
            if "\r" in text:
                self._collapse_pending()
            if self._size > self._max:
                return self._split_long()
            return []
        segments = text.split("\n")
        self._parts.append(segments[0])
        first = "".join(self._parts)
        lines = [_collapse(first)]
        lines.extend(_collapse(s) for s in segments[1:-1])
        tail = segments[-1]
        self._parts = [tail] if tail else []
        self._size = len(tail)
        if "\r" in tail:
            self._collapse_pending()
        if self._size > self._max:
            lines.extend(self._split_long())
        return lines

    def flush(self) -> str | None:
        """The pending partial line (collapsed), or None; the buffer is emptied."""
        if not self._parts:
            return None
        text = _collapse("".join(self._parts))
        self._parts, self._size = [], 0
        return text

    def _collapse_pending(self) -> None:
        pending = "".join(self._parts)
        body = pending.rstrip("\r")
        cut = body.rfind("\r")
        if cut >= 0:
            pending = pending[cut + 1 :]
        self._parts = [pending] if pending else []
        self._size = len(pending)

    def _split_long(self) -> list[str]:
        pending = "".join(self._parts)
        out = []
        while len(pending) > self._max:
            out.append(pending[: self._max])
            pending = pending[self._max :]
        self._parts = [pending] if pending else []
        self._size = len(pending)
        return out


def _collapse(line: str) -> str:
    """Keep what a terminal would leave visible after ``\\r`` redraws: the text after the last ``\\r``."""
    if "\r" not in line:
        return line
    body = line.rstrip("\r")  # a trailing "\r" ("\r\n" split across writes, or a bar's final return)
    return body[body.rfind("\r") + 1 :]
