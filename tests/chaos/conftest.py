"""Chaos tests: real processes killed at random points, and disks that fill up, on both sides.

Every random choice comes from the ``chaos`` fixture, seeded per test; a failing test prints its
seed, and ``WAKELOG_TEST_CHAOS_SEED=<seed>`` replays the same choices. The checks are exact:
every point a training logged is on the server once (``assert_exactly_once``), read back through
the API at full resolution and counted in the stored chunks.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._env import child_env
from tests.harness import InProcessServer, wait_until
from tests.server.conftest import ServerProcess, postgres_url, query  # noqa: F401  (a fixture)

# Read once: the autouse ``isolated_env`` fixture clears WAKELOG_* variables for every test.
FIXED_SEED = os.environ.get("WAKELOG_TEST_CHAOS_SEED")
ENTITY, PROJECT = "team", "chaos"


@pytest.fixture
def chaos(request: pytest.FixtureRequest) -> random.Random:
    """This test's random choices; the seed is printed if it fails."""
    seed = int(FIXED_SEED) if FIXED_SEED else random.SystemRandom().randrange(2**32)
    request.node.chaos_seed = seed
    return random.Random(seed)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    seed = getattr(item, "chaos_seed", None)
    if report.failed and seed is not None:
        report.sections.append(("chaos seed", f"replay this test with WAKELOG_TEST_CHAOS_SEED={seed}"))
    return report


def online_env(server: ServerProcess | InProcessServer, **extra: str) -> dict[str, str]:
    """A training's environment: online to ``server`` as its admin, in team/chaos."""
    return child_env(
        **{
            "WAKELOG_MODE": "online",
            "WAKELOG_BASE_URL": server.url,
            "WAKELOG_API_KEY": server.key,
            "WAKELOG_ENTITY": ENTITY,
            "WAKELOG_PROJECT": PROJECT,
            **extra,
        }
    )


def start_training(cwd: Path, body: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """``import wakelog`` + ``body`` as a training process in ``cwd`` (stdout and stderr piped)."""
    script = cwd / "train.py"
    script.write_text("import wakelog\n" + textwrap.dedent(body))
    return subprocess.Popen(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def end(proc: subprocess.Popen[Any]) -> None:
    """Make sure a process this test started is gone (a failed test must not leave it running)."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def end_uploaders(root: Path, grace: float = 10.0) -> None:
    """Let the uploaders of the runs under ``root`` end (they stop once their run is sent), then kill
    those still there: a test leaves no process behind, whatever it found."""
    import psutil

    def uploaders() -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["cmdline"]):
            command = proc.info["cmdline"] or []
            if "wakelog.transport.uploader" in command and any(arg.startswith(str(root)) for arg in command):
                found.append(proc)
        return found

    with contextlib.suppress(AssertionError):
        wait_until(lambda: not uploaders(), grace, interval=0.2, what="the uploaders to end")
    for proc in uploaders():
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


def assert_exactly_once(
    server: ServerProcess | InProcessServer,
    run_id: str,
    expected: dict[str, Callable[[int], float]],
    steps: int,
) -> None:
    """Every key of ``expected`` has one point at each step 0…steps-1, with the logged value, read
    at full resolution through the API; and the stored chunks hold exactly that many points."""
    path = f"/api/v1/runs/{ENTITY}/{PROJECT}/{run_id}/history/export"
    params = [("format", "jsonl"), *(("keys", key) for key in expected)]
    with server.client() as http:
        response = http.get(path, params=params, timeout=120)
    assert response.status_code == 200, response.text
    seen: dict[str, Counter[int]] = {key: Counter() for key in expected}
    wrong: list[tuple[str, int, Any]] = []
    for line in response.text.splitlines():
        row = json.loads(line)
        step = row["_step"]
        for key, value_at in expected.items():
            if key in row:
                seen[key][step] += 1
                if row[key] != value_at(step):
                    wrong.append((key, step, row[key]))
    for key, counts in seen.items():
        missing = sorted(set(range(steps)) - set(counts))
        twice = sorted(step for step, n in counts.items() if n > 1)
        assert not missing and not twice, (
            f"{key}: {len(missing)} steps lost {missing[:10]}, {len(twice)} stored twice {twice[:10]}"
        )
        assert set(counts) == set(range(steps)), f"{key}: steps the training never logged"
    assert not wrong, f"values that differ from the logged ones: {wrong[:10]}"
    stored = stored_points(server, run_id)
    assert stored == {key: steps for key in expected}, "the chunks hold each point once"


def stored_points(server: ServerProcess | InProcessServer, run_id: str) -> dict[str, int]:
    """Points per user key in the stored chunks of a run's history (the store's own count)."""
    rows = query(server, _STORED, run=run_id)  # an InProcessServer has database_url too
    return {key: int(total) for key, total in rows if not key.startswith("_")}


_STORED = (
    "select c.key, sum(c.count) from series_chunks c join runs r on r.id = c.run_pk "
    "where r.run_id = :run and c.stream = 0 group by c.key"
)
