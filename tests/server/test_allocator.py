"""The server process keeps freed memory for its next request (``server/allocator.py``).

Each case runs in a fresh interpreter: the allocator's settings are the process's. There, a thread
(as the server's pool runs a request) allocates and frees some 60 MB of numpy arrays six times;
the page faults of the last five rounds say whether their memory came back from the kernel fresh.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, resource, sys, threading
import numpy as np

mode, data_dir = sys.argv[1], sys.argv[2]
applied = None
if mode == "server":  # what `wakelog server` runs in each worker process before it serves
    import os
    from pathlib import Path
    from wakelog.server import serve
    from wakelog.server.config import ServerConfig
    os.environ[serve._CONFIG_ENV] = serve._encode(ServerConfig(data_dir=Path(data_dir)))
    serve.app_factory()
elif mode == "direct":
    from wakelog.server.allocator import keep_freed_memory
    applied = keep_freed_memory()
faults = {}

def request_like():
    for round in range(6):
        if round == 1:
            faults["start"] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        arrays = [np.ones(640_000) for _ in range(12)]  # 12 arrays of 5 MB alive at once
        del arrays
    faults["end"] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt

thread = threading.Thread(target=request_like)
thread.start()
thread.join()
print(json.dumps({"applied": applied, "faults": faults["end"] - faults["start"]}))
"""
PAGES_TOUCHED = 5 * 12 * 640_000 * 8 // 4096  # the five measured rounds


def probe(mode: str, tmp_path: Path, **env: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(tmp_path)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])  # type: ignore[no-any-return]


pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's allocator settings (mallopt)"
)


def test_freed_arrays_are_reused_instead_of_faulted_in_again(tmp_path: Path) -> None:
    tuned = probe("direct", tmp_path)
    default = probe("none", tmp_path)
    assert tuned["applied"] is True
    assert tuned["faults"] < PAGES_TOUCHED // 20  # type: ignore[operator]
    # glibc's defaults: the same work takes much of its memory fresh from the kernel each round
    assert default["faults"] > PAGES_TOUCHED // 5  # type: ignore[operator]


def test_the_server_process_applies_it_before_serving(tmp_path: Path) -> None:
    assert probe("server", tmp_path)["faults"] < PAGES_TOUCHED // 20  # type: ignore[operator]


@pytest.mark.parametrize("variable", ["MALLOC_ARENA_MAX", "GLIBC_TUNABLES"])
def test_an_operator_s_own_allocator_settings_are_left_alone(tmp_path: Path, variable: str) -> None:
    value = "glibc.malloc.arena_max=8" if variable == "GLIBC_TUNABLES" else "8"
    left = probe("direct", tmp_path, **{variable: value})
    assert left["applied"] is False
    assert left["faults"] > PAGES_TOUCHED // 5  # type: ignore[operator]
