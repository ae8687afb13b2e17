"""10 sweep agents (processes) on one grid sweep against one SQLite server: duplicates and losses.

Starts ``wakelog server`` in a temporary folder, creates a grid sweep of ``--points`` points whose
program logs a few values, runs ``--agents`` ``wakelog agent`` processes on it until the grid is
done, and prints the figures: trials handed out, distinct grid points, duplicates, points never
run, trials not finished, wall time and trials per second. The budget (issue 14) is no duplicate
and no lost trial::

    python bench/sweep_agents.py                 # 10 agents, 40 points
    python bench/sweep_agents.py --agents 4 --points 12
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import yaml

PROGRAM = (
    "import wakelog\nwakelog.init()\nfor i in range(5):\n    wakelog.log({'loss': wakelog.config.x + i})\n"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer at {url}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--points", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wakelog-bench-sweep-") as tmp:
        root = Path(tmp)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        data = root / "server"
        server = subprocess.Popen(
            [sys.executable, "-m", "wakelog", "server", "--port", str(port), "--data-dir", str(data)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_healthy(url)
            env = {
                **os.environ,
                "WAKELOG_BASE_URL": url,
                "WAKELOG_API_KEY": (data / "admin.key").read_text().strip(),
                "WAKELOG_SILENT": "true",
                "WAKELOG_DISABLE_STATS": "true",
                "WAKELOG_CONSOLE": "off",
            }
            return _bench(root, env, url, args.agents, args.points)
        finally:
            server.terminate()
            server.wait(30)


def _bench(root: Path, env: dict[str, str], url: str, agents: int, points: int) -> int:
    (root / "train.py").write_text(PROGRAM)
    config = {
        "program": "train.py",
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {"x": {"values": list(range(points))}},
    }
    (root / "sweep.yaml").write_text(yaml.safe_dump(config))
    created = subprocess.run(
        [sys.executable, "-m", "wakelog", "sweep", "sweep.yaml", "--project", "bench"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    path = created.stdout.split("wakelog agent ")[1].split()[0]
    start = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "wakelog", "agent", path],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(agents)
    ]
    codes = [proc.wait() for proc in procs]
    wall = time.monotonic() - start
    entity, project, sweep_id = path.split("/")
    key = env["WAKELOG_API_KEY"]
    sweep = httpx.get(
        f"{url}/api/v1/sweeps/{entity}/{project}/{sweep_id}", auth=("api", key), timeout=30
    ).json()
    trials = sweep["trials"]
    handed = Counter(t["params"]["x"] for t in trials)
    duplicates = sum(n - 1 for n in handed.values() if n > 1)
    lost = points - len(handed)
    unfinished = sum(t["state"] != "finished" for t in trials)
    used = len({t["agent"] for t in trials})
    print(f"agents {agents} (exit codes {sorted(set(codes))}), {used} handed trials; grid points {points}")
    print(f"trials {len(trials)}, distinct points {len(handed)}, duplicates {duplicates}, never run {lost}")
    print(f"not finished {unfinished}; wall {wall:.1f} s, {len(trials) / wall:.2f} trials/s")
    ok = duplicates == 0 and lost == 0 and unfinished == 0
    print("budget: no duplicate, no lost trial:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
