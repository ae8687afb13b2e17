"""Chromium steered over ``--remote-debugging-pipe`` with the fewest DevTools domains: no Network, no
Runtime, nothing that records what the pages do.

Why: a test driver (Playwright) enables the Network domain on every page, and the renderer then keeps a
record of each request, so its memory grows with every fetch of a live page however well the page
behaves. A person's browser has no such client; this one measures what they would see.

The pipe protocol: JSON messages ended by a NUL byte, commands on fd 3 and answers and events on fd 4.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any


def renderer_memory(process_info: list[dict[str, Any]]) -> float:
    """Private resident bytes (``RssAnon``: not the shared libraries every process maps) of the
    renderer processes in a ``SystemInfo.getProcessInfo`` answer: the pages, and a spare one."""
    total = 0
    for process in process_info:
        if process["type"] != "renderer":
            continue
        try:
            status = Path(f"/proc/{process['id']}/status").read_text()
        except OSError:
            continue
        found = re.search(r"RssAnon:\s+(\d+) kB", status)
        total += int(found.group(1)) * 1024 if found else 0
    return float(total)


class BareChromium:
    def __init__(self, executable: str, flags: list[str], profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def give_pipes() -> None:  # in the child: the protocol's fixed fds 3 and 4
            # Above 10 first, so that neither end is overwritten by the other's dup2.
            read_end = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        # Popen closes the child's other fds after preexec_fn: pass_fds keeps 3 and 4 open.
        self.proc = subprocess.Popen(
            [executable, *flags, "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=give_pipes,  # noqa: PLW1509 -- it only duplicates fds: safe between fork and exec
            pass_fds=(3, 4),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One browser-level command; returns its result (events in between are dropped)."""
        self._next_id += 1
        message = json.dumps({"id": self._next_id, "method": method, "params": params}).encode()
        os.write(self._to_browser, message + b"\0")
        while True:
            answer = json.loads(self._read_message())
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def _read_message(self) -> bytes:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return message

    def open_window(self, url: str) -> None:
        """A page in a window of its own: visible, so it draws and refreshes as a tab in front does."""
        self.send("Target.createTarget", url=url, newWindow=True, background=False)

    def renderer_memory(self) -> float:
        return renderer_memory(self.send("SystemInfo.getProcessInfo")["processInfo"])

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(20)
        os.close(self._to_browser)
        os.close(self._from_browser)
