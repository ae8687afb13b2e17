"""The sweep agent: ask the server for a trial, run it, report while it runs, until the sweep is done.

``Agent.run()`` registers with the server, then loops ``next``: ``run`` starts a trial
(``sweeps/_trial.py``) and waits for it, ``wait`` sleeps the seconds the server asked, ``done``
ends the loop. While a trial runs, a heartbeat thread tells the server which runs are alive every
``heartbeat_interval`` seconds and carries out the stops it answers (hyperband, a canceled sweep).

Failures, as wandb's agent counts them: the agent gives up after ``max_initial_failures`` failed
trials in a row before any succeeded, or 3 failures within its first 60 s (``flapping``, off with
``disable_flapping``). A trial the server stopped is no failure. Server trouble is retried with
backoff for ``retry_for`` seconds.

Time is injectable (``clock``, ``sleep``) so tests need not wait on wall time for the agent's logic.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wakelog._backoff import Backoff
from wakelog._threads import start_background
from wakelog.errors import CommError, UsageError
from wakelog.sdk._sweep import write_params
from wakelog.sweeps._client import ServerUnavailable, SweepClient, SweepPath
from wakelog.sweeps._command import build_command, needs_json_file
from wakelog.sweeps._trial import FunctionTrial, ProcessTrial

FLAPPING_SECONDS = 60.0
FLAPPING_FAILURES = 3


class Trial(Protocol):
    run_id: str

    def start(self) -> None: ...

    def poll(self) -> str | None: ...

    def wait(self, timeout: float) -> str | None: ...

    def stop(self, reason: str) -> None: ...

    def tick(self) -> None: ...


@dataclass
class AgentOptions:
    count: int | None = None
    heartbeat_interval: float = 5.0
    #: Seconds between SIGTERM and SIGKILL of a stopped process.
    kill_grace: float = 30.0
    max_initial_failures: int = 5
    disable_flapping: bool = False
    #: How long server trouble is retried before the agent gives up.
    retry_for: float = 300.0
    #: Where the trials' parameter files go (``<root>/wakelog/sweep-<id>/``).
    root_dir: Path = field(default_factory=Path.cwd)
    name: str | None = None


@dataclass
class AgentReport:
    agent_id: str = ""
    outcomes: dict[str, str] = field(default_factory=dict)  # run id → finished/failed/killed
    reason: str = ""


class FailureGuard:
    """wandb's two reasons for an agent to give up on a sweep whose trials keep failing."""

    def __init__(self, options: AgentOptions, clock: Callable[[], float]) -> None:
        self._options, self._clock = options, clock
        self._start = clock()
        self._failures = 0
        self._succeeded = False

    def record(self, outcome: str) -> str | None:
        """Count one trial's outcome; the reason to stop the agent, if there is one now."""
        if outcome == "finished":
            self._succeeded = True
        if outcome != "failed":
            return None
        self._failures += 1
        early = self._clock() - self._start < FLAPPING_SECONDS
        if not self._options.disable_flapping and early and self._failures >= FLAPPING_FAILURES:
            return (
                f"{FLAPPING_FAILURES} trials failed in the first {FLAPPING_SECONDS:g} s "
                "(set WAKELOG_AGENT_DISABLE_FLAPPING=true to go on)"
            )
        if not self._succeeded and self._failures >= self._options.max_initial_failures:
            return (
                f"the first {self._failures} trials all failed "
                "(set WAKELOG_AGENT_MAX_INITIAL_FAILURES to allow more)"
            )
        return None


class Agent:
    """One agent on one sweep. ``function``: run it per trial in this process; else the sweep's
    ``command`` per trial in a process."""

    def __init__(
        self,
        client: SweepClient,
        sweep: SweepPath,
        function: Callable[[], object] | None = None,
        options: AgentOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.sweep, self.function = client, sweep, function
        self.options = options or AgentOptions()
        self._clock, self._sleep = clock, sleep
        self._trial: Trial | None = None
        self._trial_lock = threading.Lock()
        self._done = threading.Event()
        self._sweep_config: dict[str, Any] = {}
        self.agent_id = ""

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> AgentReport:
        if self.function is None:
            self._sweep_config = dict(self._retrying(lambda: self.client.get(self.sweep)).get("config") or {})
            if not (self._sweep_config.get("program") or self._sweep_config.get("command")):
                raise UsageError(
                    f"sweep {self.sweep} has no program or command to run: add one to its "
                    "configuration, or call wakelog.agent(sweep_id, function=train)"
                )
        register = lambda: self.client.register_agent(  # noqa: E731
            self.sweep, socket.gethostname(), os.getpid(), self.options.name
        )
        self.agent_id = self._retrying(register)
        report = AgentReport(agent_id=self.agent_id)
        beat = threading.Thread(target=self._beat_forever, name="wakelog-sweep-heartbeat", daemon=True)
        start_background(beat)
        try:
            report.reason = self._loop(report)
        finally:
            self._done.set()
            beat.join(timeout=30)
        _say(f"agent {self.agent_id} stops: {report.reason}")
        return report

    def _loop(self, report: AgentReport) -> str:
        guard = FailureGuard(self.options, self._clock)
        count = self.options.count
        while count is None or len(report.outcomes) < count:
            answer = self._retrying(lambda: self.client.next_trial(self.sweep, self.agent_id))
            action = answer.get("action")
            if action == "done":
                return str(answer.get("reason") or "the sweep is done")
            if action == "wait":
                self._sleep(min(max(float(answer.get("seconds") or 1.0), 0.1), 60.0))
                continue
            if action != "run":
                raise CommError(f"the server answered next with an unknown action: {answer!r}")
            run_id = str(answer["run_id"])
            outcome = self._run_trial(run_id, dict(answer.get("params") or {}))
            report.outcomes[run_id] = outcome
            give_up = guard.record(outcome)
            if give_up:
                return give_up
        return f"ran {count} trial{'s' if count != 1 else ''} (count)"

    def _run_trial(self, run_id: str, params: dict[str, Any]) -> str:
        trial = self._make_trial(run_id, params)
        _say(f"trial {run_id}: " + ", ".join(f"{k}={v!r}" for k, v in params.items()))
        with self._trial_lock:
            self._trial = trial
        try:
            trial.start()
            self.beat()  # the server hears of the trial at once
            while (outcome := trial.wait(0.2)) is None:
                trial.tick()
        except KeyboardInterrupt:
            trial.stop("agent interrupted")
            while trial.wait(1.0) is None:
                trial.tick()
            raise
        finally:
            with self._trial_lock:
                self._trial = None
        _say(f"trial {run_id} {outcome}")
        return outcome

    def _make_trial(self, run_id: str, params: dict[str, Any]) -> Trial:
        folder = self.options.root_dir / "wakelog" / f"sweep-{self.sweep.sweep_id}"
        param_path = folder / f"config-{run_id}.json"
        write_params(param_path, params)
        env = _trial_env(self.sweep, run_id, param_path, self.client.base_url)
        if self.function is not None:
            return FunctionTrial(run_id, self.function, env)
        command = self._sweep_config.get("command")
        json_file = folder / f"args-{run_id}.json"
        if needs_json_file(command):
            import json

            json_file.write_text(json.dumps(params), encoding="utf-8")
        argv = build_command(command, self._sweep_config.get("program"), params, str(json_file))
        # ``${interpreter}`` is ``python``, as in wandb: the agent's own is found first.
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        return ProcessTrial(
            run_id,
            argv,
            {**os.environ, **env, "PATH": path},
            param_path,
            grace=self.options.kill_grace,
            clock=self._clock,
        )

    # -- heartbeats -------------------------------------------------------------------------------
    def _beat_forever(self) -> None:
        while not self._done.wait(self.options.heartbeat_interval):
            self.beat()

    def beat(self) -> None:
        """One heartbeat: say which trial runs, and stop what the server says to stop."""
        with self._trial_lock:
            trial = self._trial
        running = [trial.run_id] if trial is not None and trial.poll() is None else []
        try:
            answer = self.client.heartbeat(self.sweep, self.agent_id, running)
        except CommError as exc:
            _say(f"heartbeat failed ({exc}); trying again in {self.options.heartbeat_interval:g} s")
            return
        for stop in answer.get("stop") or []:
            if trial is not None and stop.get("run_id") == trial.run_id:
                reason = str(stop.get("reason") or "stopped by the sweep")
                _say(f"trial {trial.run_id} stopped by the server: {reason}")
                trial.stop(reason)

    # -- retries ----------------------------------------------------------------------------------
    def _retrying(self, call: Callable[[], Any]) -> Any:
        backoff = Backoff(0.5, 30.0)
        deadline = self._clock() + self.options.retry_for
        while True:
            try:
                return call()
            except ServerUnavailable as exc:
                if self._clock() >= deadline:
                    raise
                wait = backoff.next()
                _say(f"{exc}; trying again in {wait:.1f} s")
                self._sleep(wait)


def _trial_env(sweep: SweepPath, run_id: str, param_path: Path, base_url: str) -> dict[str, str]:
    """What tells a trial's run who it is, in wakelog's and wandb's spellings."""
    values = {
        "SWEEP_ID": sweep.sweep_id,
        "RUN_ID": run_id,
        "SWEEP_PARAM_PATH": str(param_path),
        "PROJECT": sweep.project,
        "ENTITY": sweep.entity,
    }
    env = {f"{prefix}{name}": value for name, value in values.items() for prefix in ("WAKELOG_", "WANDB_")}
    env["WAKELOG_BASE_URL"] = base_url
    return env


def _say(text: str) -> None:
    print(f"wakelog agent: {text}", file=sys.stderr, flush=True)
