"""The training process's side of the uploader: start it, and wait for it in ``finish()``.

The uploader lives a layer above the SDK (``wakelog.transport``), so the SDK never imports it: it
starts ``python -m wakelog.transport.uploader`` by module name (``UPLOADER_MODULE``, its command
line is the whole interface) and follows it through the ``sync.json`` the uploader writes in the
run folder (``wakelog.runlog.syncstate``). The API key travels in the child's environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from wakelog._backoff import Backoff
from wakelog._warn import warn
from wakelog.runlog.syncstate import SyncState

if TYPE_CHECKING:
    from wakelog.sdk._settings import Settings

#: The uploader's entry point, run as ``python -m UPLOADER_MODULE <run_dir> --base-url … --project …
#: --run-id … --parent <pid> --linger <s> [--entity …]`` with ``WAKELOG_API_KEY`` in its environment.
UPLOADER_MODULE = "wakelog.transport.uploader"

#: Set in the uploader's environment: code running there never starts another uploader.
IN_UPLOADER = "WAKELOG_IN_UPLOADER"


#: Uploaders that finished their work but had not exited yet when their run was finished.
_exiting: list[subprocess.Popen[bytes]] = []


class UploaderHandle:
    """A running uploader process for one run folder."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        run_dir: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.proc = proc
        self.run_dir = run_dir
        self._clock, self._sleep = clock, sleep  # injectable: tests wait in simulated time

    @classmethod
    def start(
        cls,
        run_dir: Path,
        *,
        base_url: str,
        api_key: str,
        entity: str | None,
        project: str,
        run_id: str,
        linger: float,
    ) -> UploaderHandle:
        # -P (Python ≥ 3.11) and the run folder as working directory: the uploader must never
        # import the user's modules — a script named rich.py or httpx.py beside the training
        # would otherwise shadow a library, and one that calls init() would start uploaders
        # recursively.
        safe_path = ["-P"] if sys.version_info >= (3, 11) else []
        command = [
            sys.executable, *safe_path, "-m", UPLOADER_MODULE, str(run_dir),
            "--base-url", base_url, "--project", project, "--run-id", run_id,
            "--parent", str(os.getpid()), "--linger", str(linger),
        ]  # fmt: skip
        if entity:
            command += ["--entity", entity]
        with open(run_dir / "uploader.log", "ab") as log:
            proc = subprocess.Popen(
                command,
                cwd=run_dir,
                env={**os.environ, "WAKELOG_API_KEY": api_key, IN_UPLOADER: "1"},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # a Ctrl-C in the terminal must not stop it mid-upload
            )
        return cls(proc, run_dir)

    def reap(self, timeout: float = 5.0) -> None:
        """Collect the uploader once it has sent everything: it exits on its own then, and a process
        nobody waits for stays a zombie (and Python warns it was never waited for). One still
        exiting after ``timeout`` is left to finish and collected by a later call."""
        _exiting.append(self.proc)
        for proc in list(_exiting):
            try:
                proc.wait(timeout if proc is self.proc else 0)
            except subprocess.TimeoutExpired:
                continue
            _exiting.remove(proc)

    def wait(self, last_seq: int, timeout: float, *, quiet: bool) -> SyncState:
        """Wait until the server acknowledged ``last_seq`` and the files, showing progress. It looks
        often at first, then less (jittered backoff up to a second): a long upload costs no CPU."""
        deadline = self._clock() + timeout
        backoff = Backoff(0.05, 1.0)
        shown = -2.0
        state = SyncState.load(self.run_dir)
        while self._clock() < deadline:
            state = SyncState.load(self.run_dir)
            if state.complete and state.acked_seq >= last_seq:
                break
            if self.proc.poll() is not None:
                state = SyncState.load(self.run_dir)
                break
            if not quiet and self._clock() - shown >= 2.0:
                shown = self._clock()
                done = max(state.acked_seq + 1, 0)
                note = f" (retrying: {state.error})" if state.error else ""
                if state.uploading:
                    name, sent, size = state.uploading
                    note += f"; {name}: {sent / 2**20:.0f}/{size / 2**20:.0f} MiB"
                print(f"wakelog: uploading… {done}/{last_seq + 1} records{note}", file=sys.stderr, flush=True)
            self._sleep(min(backoff.next(), max(deadline - self._clock(), 0.0)))
        return state


def start_uploader(settings: Settings, run_dir: Path, *, run_id: str, project: str) -> UploaderHandle | None:
    """Start the uploader for an online run, or say how to sync later when there is no key."""
    from wakelog.sdk._login import api_key_for

    if os.environ.get(IN_UPLOADER):
        return None  # never from inside an uploader (see UploaderHandle.start)
    base_url = settings.base_url or ""
    key = api_key_for(base_url)
    if not key:
        warn(
            f"wakelog: no API key for {base_url}; run {run_id} is recorded locally only. Run "
            f"`wakelog login --host {base_url}` (or start `wakelog server` on this machine), then "
            f"`wakelog sync {run_dir}`",
            RuntimeWarning,
        )
        return None
    from wakelog._http import verify

    try:
        verify(base_url)  # what the uploader's connections will trust: a bad setting is said here, once
    except ValueError as exc:
        warn(
            f"wakelog: {exc}; run {run_id} is recorded locally only: fix it, then `wakelog sync {run_dir}`",
            RuntimeWarning,
        )
        return None
    try:
        return UploaderHandle.start(
            run_dir,
            base_url=base_url,
            api_key=key,
            entity=settings.entity,
            project=project,
            run_id=run_id,
            linger=600.0 if settings.uploader_linger is None else settings.uploader_linger,
        )
    except OSError as exc:
        warn(f"wakelog: could not start the uploader ({exc}); sync later with `wakelog sync {run_dir}`")
        return None
