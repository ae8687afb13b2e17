"""``wakelog demo``: the embedded server plus a real PaddlePaddle training logged to it live.

It starts ``wakelog server`` (SQLite and local files in a data folder), trains a small CNN on
scikit-learn's bundled digits with PaddlePaddle on the CPU through the wandb-style API, prints the
run's URL and how to sign in, and keeps serving until Ctrl-C. With ``--sweep`` it runs a small
hyper-parameter sweep of the same CNN instead (``sweep_digits.py``/``.yaml``), through the
``wakelog sweep`` and ``wakelog agent`` commands.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from wakelog._dirs import read_admin_key
from wakelog.errors import Error

PROJECT = "paddle-digits"


class DemoError(Error):
    """The demo could not run; the message says what to do."""


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise DemoError(f"the server exited with status {server.returncode}")
        try:
            # never through a proxy the environment names: one elsewhere cannot reach this machine
            if httpx.get(f"{url}/api/v1/health", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise DemoError(f"the server did not answer at {url} within {timeout:.0f} s")


def _start_server(data_dir: Path, port: int) -> tuple[subprocess.Popen, str]:
    if not _port_free(port):
        chosen = _free_port()
        print(f"wakelog demo: port {port} is busy, using {chosen}", file=sys.stderr)
        port = chosen
    url = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # the server keeps it private
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []  # never import modules from the cwd
    server = subprocess.Popen(
        [
            sys.executable,
            *safe_path,
            "-m",
            "wakelog",
            "server",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        cwd=data_dir,
    )
    return server, url


def _train(env: dict[str, str], url: str, epochs: int) -> None:
    print(f"wakelog demo: training on the digits data, logging live to {url}", file=sys.stderr, flush=True)
    training = subprocess.run(
        [sys.executable, "-m", "wakelog.demo.train_digits", "--epochs", str(epochs)], env=env, check=False
    )
    if training.returncode != 0:
        raise DemoError(f"the training exited with status {training.returncode}")


def _sweep(env: dict[str, str], url: str, data_dir: Path, epochs: int, trials: int) -> None:
    """``wakelog sweep`` of the packaged ``sweep_digits.yaml``, then ``wakelog agent`` on it."""
    import yaml

    config = yaml.safe_load((Path(__file__).with_name("sweep_digits.yaml")).read_text(encoding="utf-8"))
    config["parameters"]["epochs"] = {"value": epochs}
    config["run_cap"] = trials
    # The trial is the installed module: it runs from any folder.
    config.pop("program", None)
    config["command"] = ["${env}", "${interpreter}", "-m", "wakelog.demo.sweep_digits", "${args}"]
    config_file = data_dir / "sweep_digits.yaml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    created = subprocess.run(
        [sys.executable, "-m", "wakelog", "sweep", str(config_file), "--project", PROJECT],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"wakelog agent (\S+)", created.stdout)
    if created.returncode != 0 or match is None:
        raise DemoError(f"the sweep could not be created: {created.stderr.strip() or created.stdout.strip()}")
    sweep_path = match.group(1)
    entity, project, sweep_id = sweep_path.split("/")
    print(
        f"wakelog demo: sweep {sweep_path}: {trials} trials of the digits CNN; "
        f"watch it at {url}/{entity}/{project}/sweeps/{sweep_id}",
        file=sys.stderr,
        flush=True,
    )
    agent = subprocess.run(
        [sys.executable, "-m", "wakelog", "agent", sweep_path, "--count", str(trials)], env=env, check=False
    )
    if agent.returncode != 0:
        raise DemoError(f"the sweep agent exited with status {agent.returncode}")
    print(f"\nwakelog demo: sweep page {url}/{entity}/{project}/sweeps/{sweep_id}", flush=True)


def run_demo(
    data_dir: Path, port: int, epochs: int, *, keep_serving: bool, sweep_trials: int | None = None
) -> int:
    """Start the server, train (or sweep, with ``sweep_trials``) live against it, print where to
    look; returns an exit status."""
    import importlib.util

    if not all(importlib.util.find_spec(name) for name in ("paddle", "sklearn")):
        raise DemoError("the demo trains with PaddlePaddle: pip install 'wakelog[paddle]'")
    server, url = _start_server(data_dir, port)
    try:
        _wait_healthy(url, server)
        key = read_admin_key(data_dir)
        if not key:
            raise DemoError(f"the server did not write a readable admin.key in {data_dir}")
        env = {
            **os.environ,
            "WAKELOG_MODE": "online",
            "WAKELOG_BASE_URL": url,
            "WAKELOG_API_KEY": key,
            "WAKELOG_PROJECT": PROJECT,
        }
        if sweep_trials:
            _sweep(env, url, data_dir, epochs, sweep_trials)
        else:
            _train(env, url, epochs)
        print(
            f"\nwakelog demo: open {url}/ and sign in as admin with the password in "
            f"{data_dir / 'admin-credentials.txt'}",
            flush=True,
        )
        if keep_serving:
            print("wakelog demo: serving until Ctrl-C", flush=True)
            server.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
