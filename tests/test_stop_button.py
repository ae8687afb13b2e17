"""The web app's Stop button ends a script logging with wakelog's own SDK, as wandb's does: a
``KeyboardInterrupt`` in the main thread (the script's ``finally`` runs), the run ``killed`` with
the reason kept, every row logged before the stop on the server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._env import child_env
from tests.harness import InProcessServer, wait_until

pytestmark = pytest.mark.process  # the script and its uploader are processes

API = "/api/v1"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with InProcessServer(tmp_path_factory.mktemp("stop") / "data") as server:
        server.url  # noqa: B018  (the uploader dials it)
        yield server


def test_the_stop_button_interrupts_a_script_and_the_run_ends_killed(
    live: InProcessServer, tmp_path: Path
) -> None:
    body = """
    import time
    run = wakelog.init(entity="admin", project="stops", id="looping", mode="online")
    step = 0
    try:
        while True:  # a training that would never end on its own
            run.log({"loss": 1.0 / (step + 1)})
            step += 1
            time.sleep(0.02)
    except KeyboardInterrupt:
        print("interrupted after", step, "steps", flush=True)
        raise
    """
    script = tmp_path / "train.py"
    script.write_text("import wakelog\n" + textwrap.dedent(body))
    env = child_env(WAKELOG_BASE_URL=live.url, WAKELOG_API_KEY=live.key, WAKELOG_DISABLE_STATS="true")
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with live.client() as http:
            run = f"{API}/runs/admin/stops/looping"
            wait_until(
                lambda: (r := http.get(run)).is_success and r.json()["last_step"] > 5, what="rows to arrive"
            )
            assert http.post(f"{run}/stop").status_code in (200, 204)
            out, err = proc.communicate(timeout=120)
            assert "was stopped from the web app" in err, err
            assert out.startswith("interrupted after"), (out, err)
            steps = int(out.split()[2])
            detail = wait_until(
                lambda: (d := http.get(run).json())["state"] != "running" and d, what="the end"
            )
            assert detail["state"] == "killed"
            rows = http.get(f"{run}/history/rows", params={"keys": "loss"}).json()
            assert len(rows["rows"]) == steps  # every row logged before the stop, once
            # Asking again once it ended is a conflict, not a second stop.
            assert http.post(f"{run}/stop").status_code == 409
    finally:
        proc.kill()
        proc.wait()
