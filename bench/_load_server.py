"""``wakelog server`` with every ingest request timed, for ``bench/load.py``.

Runs the real command (``wakelog server …``: same preparation, same app, same uvicorn) in this
process, after wrapping the app that ``serve.app_factory`` builds in a small ASGI middleware. The
middleware appends one line per ``POST …/records`` to ``--timings``: milliseconds from the request
reaching the app to the last byte of its answer (queueing for the database writer and the thread
pool included), and the status. Nothing in ``src/`` changes; one worker only (uvicorn imports
the factory in this process).

Run: python bench/_load_server.py --timings PATH <wakelog server options>
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any


class IngestTimer:
    """ASGI middleware: times ``POST …/records`` requests into ``out``, passes the rest through."""

    def __init__(self, app: Any, out: IO[str]) -> None:
        self.app, self.out = app, out

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("/records"):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def answer(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            self.out.write(f"{(time.perf_counter() - start) * 1e3:.3f} {status}\n")


def main() -> None:
    args = sys.argv[1:]
    where = args.index("--timings")
    out = open(args[where + 1], "a", buffering=1, encoding="utf-8")  # noqa: SIM115  (lives as long as the server)
    del args[where : where + 2]

    from wakelog.cli import main as wakelog
    from wakelog.server import serve

    build = serve.app_factory
    serve.app_factory = lambda: IngestTimer(build(), out)  # uvicorn looks the factory up by name
    wakelog(["server", *args])


if __name__ == "__main__":
    main()
