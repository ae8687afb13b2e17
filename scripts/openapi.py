"""Write the server's OpenAPI schema to web/src/api/openapi.json, the source of the web app's API types.

Run from the repository root (``python scripts/openapi.py``); then ``cd web && npm run gen:api`` turns it
into web/src/api/schema.d.ts. scripts/test.sh does both and fails if the committed files differ.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from wakelog.server.app import create_app
from wakelog.server.config import ServerConfig

TARGET = Path(__file__).resolve().parent.parent / "web" / "src" / "api" / "openapi.json"


def main() -> None:
    # The app opens a database on start; a throwaway folder keeps the schema free of any real data.
    with tempfile.TemporaryDirectory(prefix="wakelog-openapi-") as data_dir:
        app = create_app(ServerConfig(data_dir=Path(data_dir)))
        schema = app.openapi()
        app.state.db.dispose()
    TARGET.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}", file=sys.stderr)


if __name__ == "__main__":
    main()
