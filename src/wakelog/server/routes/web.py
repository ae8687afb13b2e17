"""The web app: the built bundle in ``server/static/``, served at ``/`` behind the API.

``app.mount("/", WebApp())`` goes after every API router, so it only sees what they did not
match. Files of the bundle are served as they are; any other ``GET`` path is a client-side route
(``/team/proj/runs/abc``) and gets ``index.html``, which routes in the browser. Nothing under
``/api/`` is ever answered with the app: an unknown API path stays a JSON 404.

The bundle's file names do not change from build to build (the build is committed and compared
byte for byte), so every file is served with ``Cache-Control: no-cache`` and an ETag: browsers
keep it and revalidate it cheaply. Every answer carries a strict Content-Security-Policy.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from wakelog.server.errors import InvalidRequest, MethodNotAllowed, NotFound
from wakelog.server.handlers import error_response

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

#: Scripts and styles only from this origin; data: and blob: images for media previews.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
_NOT_BUILT = (
    "The wakelog web app is not built into this installation (server/static/index.html is missing).\n"
    "Build it with: cd web && npm ci && npm run build\n"
)


class WebApp:
    """ASGI app for the bundle with a single-page-app fallback to ``index.html``."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.directory = directory
        self.files = StaticFiles(directory=directory, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path == "/api" or path.startswith("/api/"):
            response: Response = error_response(NotFound("Not Found"))
        elif scope["method"] not in ("GET", "HEAD"):
            response = error_response(MethodNotAllowed("Method Not Allowed", headers={"Allow": "GET, HEAD"}))
        elif _has_body(scope):
            # Refused before any file is streamed: a file answer listens for the client to go by
            # reading the request, and a body there would be read, past the unauthenticated limit.
            response = error_response(InvalidRequest("a GET or HEAD request of the web app has no body"))
        else:
            response = await self._file_or_index(scope, path)
        response.headers.update(SECURITY_HEADERS)
        await response(scope, receive, send)

    async def _file_or_index(self, scope: Scope, path: str) -> Response:
        relative = path.lstrip("/")
        if relative and "." in relative.rsplit("/", 1)[-1] and not relative.endswith(".html"):
            # A file of the bundle (app.js, app.css…): served if it is there, 404 if not; never
            # index.html, which a browser would try to run as a script.
            try:
                response = await self.files.get_response(relative, scope)
            except HTTPException as exc:
                return PlainTextResponse("Not Found", status_code=exc.status_code)
            response.headers["Cache-Control"] = "no-cache"
            return response
        index = self.directory / "index.html"
        if not os.path.isfile(index):
            return PlainTextResponse(_NOT_BUILT, status_code=503)
        response = await self.files.get_response("index.html", scope)
        response.headers["Cache-Control"] = "no-cache"
        return response


def _has_body(scope: Scope) -> bool:
    """Whether the request says it carries a body (a length above 0, or chunks)."""
    headers = dict(scope["headers"])
    length = headers.get(b"content-length", b"0")
    return (not length.isdigit() or int(length) > 0) or b"transfer-encoding" in headers
