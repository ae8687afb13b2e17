"""A report as one static HTML file: the web app's single-file report viewer
(``server/static/report-export.html``, built by ``npm run build``) with the bundle embedded.

The bundle goes into ``<script id="wakelog-bundle" type="application/json">`` in place of
``<!--WAKELOG_BUNDLE-->``. JSON is not safe inside a script element as is: a run name holding
``</script>`` would end it, and ``<!--`` would change how the rest is parsed. So ``<``, ``>``
and ``&`` are written as ``\\u003c``, ``\\u003e`` and ``\\u0026`` (the same strings to a JSON
parser), and U+2028/U+2029 as ``\\u2028``/``\\u2029`` (line terminators to older JavaScript).
Media items that point at run files are embedded as ``data:`` URLs, so the file opens offline.
"""

from __future__ import annotations

import base64
import json
import mimetypes
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wakelog.server.errors import ServiceUnavailable
from wakelog.server.reports.bundle import Bundle
from wakelog.server.routes.web import STATIC_DIR
from wakelog.store.blobs import BlobStore
from wakelog.store.schema import run_files

#: The web app's single-file report viewer; a test may put another at ``app.state.export_template``.
TEMPLATE = STATIC_DIR / "report-export.html"
PLACEHOLDER = "<!--WAKELOG_BUNDLE-->"
#: Media files embedded at most, each and all together; larger ones keep their (online) url.
MAX_EMBEDDED_FILE = 20 * 1024 * 1024
MAX_EMBEDDED_TOTAL = 200 * 1024 * 1024
_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(value: Any) -> str:
    """JSON that can stand inside a ``<script>`` element without ending or changing it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(str.maketrans(_ESCAPES))


def template(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ServiceUnavailable(
            f"the report export viewer is not built into this installation ({path} is missing): "
            "build the web app with `npm run build` in web/"
        ) from None
    if PLACEHOLDER not in text:
        raise ServiceUnavailable(f"{path} has no {PLACEHOLDER} placeholder: rebuild the web app")
    return text


def embed_media(conn: sa.Connection, blobs: BlobStore, bundle: Bundle) -> None:
    """Replace media urls with ``data:`` URLs of the run files they name (read from ``run_files``)."""
    total = 0
    for panel in bundle.data["media"].values():
        for shown in panel.values():
            for item in shown["items"]:
                place = bundle.files.get(item["url_or_data"] or "")
                if place is None:
                    continue
                row = conn.execute(
                    sa.select(run_files.c.sha256, run_files.c.size).where(
                        run_files.c.run_pk == place[0], run_files.c.name == place[1]
                    )
                ).first()
                size = (row.size or 0) if row is not None else 0
                if (
                    row is None
                    or row.sha256 is None
                    or size > MAX_EMBEDDED_FILE
                    or total + size > MAX_EMBEDDED_TOTAL
                ):
                    continue
                if not blobs.exists(row.sha256):
                    continue
                content = b"".join(blobs.open(row.sha256))
                total += len(content)
                kind = mimetypes.guess_type(place[1])[0] or "application/octet-stream"
                item["url_or_data"] = f"data:{kind};base64,{base64.b64encode(content).decode()}"


def render(page: str, bundle: Bundle) -> str:
    """The export page with the bundle in it (``page`` from ``template``)."""
    return page.replace(PLACEHOLDER, script_json(bundle.data), 1)
