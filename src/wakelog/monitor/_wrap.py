"""``sys.stdout``/``sys.stderr`` stand-ins for console capture: the original stream first, then the capture.

Used in both modes: in ``wrap`` mode they feed the capture; in ``redirect`` mode (where fds 1/2 are teed
below Python) they only pass through, and keep answering ``isatty()`` as the terminal did.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from wakelog.monitor.console import ConsoleCapture


class Tee:
    """Stand-in for ``sys.stdout``/``sys.stderr``: delegates everything to the original stream first.

    It stays usable after the capture stops (a ``logging.StreamHandler`` created during the run keeps a
    reference to it): it then just passes through.
    """

    # Set through __dict__: our __setattr__ forwards to the original stream.
    _wl_orig: TextIO
    _wl_cap: ConsoleCapture
    _wl_stream: str
    _wl_feed: Callable[[str, str], None] | None
    _wl_tty: bool | None

    def __init__(
        self, orig: TextIO, cap: ConsoleCapture, stream: str, *, capture: bool, tty: bool | None
    ) -> None:
        d = self.__dict__
        d["_wl_orig"] = orig
        d["_wl_cap"] = cap
        d["_wl_stream"] = stream
        d["_wl_feed"] = cap._feed if capture else None
        d["_wl_tty"] = tty

    def write(self, s: str) -> int:
        n = self._wl_orig.write(s)  # the user's output first, exactly as it would have been
        feed = self._wl_feed
        if feed is not None:
            try:
                feed(self._wl_stream, s)
            except Exception:
                pass
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._wl_orig.flush()

    def isatty(self) -> bool:
        tty = self._wl_tty
        if tty is not None and self._wl_cap._redirected:
            return tty
        return self._wl_orig.isatty()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_wl_"):  # half-built (copy/pickle): no recursion through ourselves
            raise AttributeError(name)
        return getattr(self._wl_orig, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._wl_orig, name, value)

    def __iter__(self) -> Any:
        return iter(self._wl_orig)

    def __enter__(self) -> Tee:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._wl_orig.__exit__(kind, error, traceback)

    def __repr__(self) -> str:
        return f"<wakelog tee of {self._wl_orig!r}>"


# isinstance(sys.stdout, io.TextIOBase) keeps answering True while we are installed.
io.TextIOBase.register(Tee)
