"""Shared by the importer tests: a real server in-process, the importer's client of it, the Api."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness import InProcessServer


@dataclass
class Target:
    server: InProcessServer
    client: Any  # the importer's ServerClient
    api: Any  # wakelog.Api on the server
    state_dir: Path

    def run_import(self, sources: Iterable[Any]) -> list[Any]:
        from wakelog.integration.importing import import_all

        return import_all(sources, self.client, self.state_dir)

    def history(self, report: Any) -> list[dict[str, Any]]:
        return list(self.api.run(report.run_path).scan_history())


def target(tmp_path: Path) -> Iterator[Target]:
    import wakelog
    from wakelog.transport.client import ServerClient

    with InProcessServer(tmp_path / "server") as server:
        client = ServerClient(server.base_url, server.key, transport=server.transport())
        api = wakelog.Api(overrides={"base_url": server.url, "api_key": server.key})
        try:
            yield Target(server, client, api, tmp_path / "imports")
        finally:
            client.close()
            api.close()
