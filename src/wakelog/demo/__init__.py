"""``wakelog demo``: the embedded server plus a real PaddlePaddle training logged to it live.

It starts ``wakelog server`` (SQLite and local files in a data folder), trains a small CNN on
scikit-learn's bundled digits with PaddlePaddle on the CPU through the wandb-style API, prints the
run's URL and how to sign in, and keeps serving until Ctrl-C.
"""

from __future__ import annotations

import os
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
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise DemoError(f"the server did not answer at {url} within {timeout:.0f} s")


def run_demo(data_dir: Path, port: int, epochs: int, *, keep_serving: bool) -> int:
    """Start the server, train live against it, print where to look; returns an exit status."""
    import importlib.util

    if not all(importlib.util.find_spec(name) for name in ("paddle", "sklearn")):
        raise DemoError("the demo trains with PaddlePaddle: pip install 'wakelog[paddle]'")
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
        print(
            f"wakelog demo: training on the digits data, logging live to {url}", file=sys.stderr, flush=True
        )
        training = subprocess.run(
            [sys.executable, "-m", "wakelog.demo.train_digits", "--epochs", str(epochs)], env=env, check=False
        )
        if training.returncode != 0:
            raise DemoError(f"the training exited with status {training.returncode}")
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
