"""``wakelog server`` with every ingest request timed, for ``bench/load.py``.

Runs the real command (``wakelog server …``: same preparation, same app, same uvicorn) in this
process, after wrapping the app that ``serve.app_factory`` builds in a small ASGI middleware. The
middleware appends one line per ``POST …/records`` (with ``--every-request``: per HTTP request of
any kind, as ``bench/wandb_client.py`` counts the stock client's answers) to ``--timings``:
milliseconds from the request reaching the app to the last byte of its answer (queueing for the
database writer and the thread pool included), the status, the body's declared length, the method
and the path. Nothing in ``src/`` changes; one worker only (uvicorn imports the factory in this
process).

Run: python bench/_load_server.py --timings PATH [--every-request] <wakelog server options>
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any


class IngestTimer:
    """ASGI middleware: times ``POST …/records`` requests (``every``: all HTTP requests) into
    ``out``, passes the rest through."""

    def __init__(self, app: Any, out: IO[str], every: bool = False) -> None:
        self.app, self.out, self.every = app, out, every

    def _timed(self, scope: dict[str, Any]) -> bool:
        if scope["type"] != "http":
            return False
        return self.every or (scope["method"] == "POST" and scope["path"].endswith("/records"))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not self._timed(scope):
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
            ms = (time.perf_counter() - start) * 1e3
            sent = dict(scope["headers"]).get(b"content-length", b"-").decode()
            self.out.write(f"{ms:.3f} {status} {sent} {scope['method']} {scope['path']}\n")


def main() -> None:
    args = sys.argv[1:]
    where = args.index("--timings")
    out = open(args[where + 1], "a", buffering=1, encoding="utf-8")  # noqa: SIM115  (lives as long as the server)
    del args[where : where + 2]
    every = "--every-request" in args
    if every:
        args.remove("--every-request")

    from wakelog.cli import main as wakelog
    from wakelog.server import serve

    build = serve.app_factory
    serve.app_factory = lambda: IngestTimer(build(), out, every)  # uvicorn looks the factory up by name
    wakelog(["server", *args])


if __name__ == "__main__":
    main()
