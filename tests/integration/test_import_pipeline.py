"""The importer uploads while it reads: what a checkpoint made permanent reaches the server before
the source is read to its end, and the final upload sends the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.harness import wait_until
from tests.integration.import_helpers import Target, target
from wakelog.integration.importing import ImportedRun, RunIdentity

T0 = 1_700_000_000.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Target]:
    yield from target(tmp_path)


@dataclass
class SlowSource:
    """A source that reads half its points, and goes on only once the server has them."""

    identity: RunIdentity
    server_has: Callable[[int], bool]
    format: str = "test"
    location: str = "a test source"
    size: int = 0

    def read(self, run: ImportedRun, advance: Callable[[int], None]) -> None:
        run.begin(T0)
        for step in range(10):
            run.point("loss", step, T0 + step, 1.0 / (step + 1))
        run.checkpoint()
        last = run.state.next_seq - 1
        wait_until(lambda: self.server_has(last), timeout=120, what="the first half on the server")
        for step in range(10, 20):
            run.point("loss", step, T0 + step, 1.0 / (step + 1))
        run.finish("finished")


def test_checkpointed_records_are_uploaded_while_the_source_is_still_read(server: Target) -> None:
    ident = RunIdentity("pipe1", "pipeline", "pipe")
    entity = server.client.whoami()

    def server_has(seq: int) -> bool:
        return server.client.ack(f"{entity}/pipeline/pipe1") >= seq

    [report] = server.run_import([SlowSource(ident, server_has)])
    assert report.error is None and report.points == 20
    rows = server.history(report)
    assert [(row["_step"], row["loss"]) for row in rows] == [(s, 1.0 / (s + 1)) for s in range(20)]
    assert server.api.run(report.run_path).state == "finished"


def test_a_source_that_fails_midway_keeps_what_it_read(server: Target) -> None:
    class Broken(SlowSource):
        def read(self, run: ImportedRun, advance: Callable[[int], None]) -> None:
            run.begin(T0)
            run.point("loss", 0, T0, 1.0)
            raise OSError("the disk went away")

    ident = RunIdentity("pipe2", "pipeline", "broken")
    with pytest.raises(OSError, match="went away"):
        server.run_import([Broken(ident, lambda seq: True)])
    folder: Any = server.state_dir / "test" / "pipe2"
    assert (folder / "import.json").is_file(), "what was read is kept for the next import"
