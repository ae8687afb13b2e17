"""One trial as the agent runs it: the user's function in a thread, or the sweep's command in a process.

Both answer ``poll()`` (None while running, then ``finished``, ``failed`` or ``killed``),
``stop(reason)`` and ``tick()`` (called often by the agent's loop).

A process is stopped as wandb's agent does: SIGTERM first (the SDK in the process ends its run
``killed``, reading the reason the agent wrote next to the parameters, ``sdk/_sweep.py``), then
SIGKILL once ``grace`` seconds have passed. On Linux the process is also SIGKILLed when the agent
dies, so an agent killed with ``kill -9`` leaves its trial crashed instead of running unwatched.

A function is stopped by ``TrialStopped``. Its run is told the reason first, and its next
``log()`` raises it, before taking any lock: a safe point. A function that does not log for
``ASYNC_GRACE`` seconds after the stop (a long evaluation) gets it raised inside its thread
instead (CPython's ``PyThreadState_SetAsyncExc``), but only while the thread runs the user's own
code, never wakelog's: an exception landing there could leave one of the run's locks held. It
arrives at the next Python line, so a long call into native code finishes first. However the
function ends (even if it catches the exception), the run ends ``killed`` with
``metadata.stopped_reason``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from wakelog.sdk._init import active_runs, finish_all
from wakelog.sdk._sweep import TrialStopped, write_stop_reason

Clock = Callable[[], float]


#: Seconds a stopped function has to reach its next ``log()`` before the exception is raised in
#: its thread.
ASYNC_GRACE = 5.0
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1]) + os.sep  # src/wakelog/


def _outcome(stopped: bool, ok: bool) -> str:
    return "killed" if stopped else "finished" if ok else "failed"


class FunctionTrial:
    """``function()`` in a thread of this process, with the trial's environment set around it."""

    def __init__(self, run_id: str, function: Callable[[], object], env: Mapping[str, str]) -> None:
        self.run_id = run_id
        self._function = function
        self._env = dict(env)
        self._lock = threading.Lock()
        self._calling = False  # the thread is inside function(): a stop may interrupt it
        self._interrupted = False
        self._reason: str | None = None
        self._stopped_at = 0.0
        self._result: str | None = None
        self._thread = threading.Thread(target=self._main, name=f"wakelog-sweep-{run_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poll(self) -> str | None:
        return None if self._thread.is_alive() else self._result

    def wait(self, timeout: float) -> str | None:
        self._thread.join(timeout)
        return self.poll()

    def tick(self) -> None:
        """A stopped function that has not reached a ``log()`` within the grace gets the exception
        raised in its thread, once it is running its own code (checked again at the next tick)."""
        with self._lock:
            if (
                self._reason is None
                or self._interrupted
                or not self._calling
                or self._thread.ident is None
                or time.monotonic() - self._stopped_at < ASYNC_GRACE
                or self._inside_wakelog(self._thread.ident)
            ):
                return
            self._interrupted = True
            _raise_in(self._thread.ident, TrialStopped)

    def stop(self, reason: str) -> None:
        with self._lock:
            if self._reason is not None:
                return
            self._reason = reason
            self._stopped_at = time.monotonic()
            for run in active_runs():
                if run.id == self.run_id:
                    run._request_stop(reason, interrupt=True)  # its next log() raises TrialStopped

    def _inside_wakelog(self, ident: int) -> bool:
        """Whether the thread is inside wakelog's code (below the user's function)."""
        frame = sys._current_frames().get(ident)
        while frame is not None and frame.f_code is not FunctionTrial._call.__code__:
            if frame.f_code.co_filename.startswith(_PACKAGE_DIR):
                return True
            frame = frame.f_back
        return False

    def _main(self) -> None:
        saved = {name: os.environ.get(name) for name in self._env}
        os.environ.update(self._env)
        ok, text = False, None
        try:
            ok, text = self._call()
        finally:
            self._end_runs(ok, text)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def _call(self) -> tuple[bool, str | None]:
        """Run the function; (whether it returned, the traceback of what it raised)."""
        try:
            try:
                with self._lock:
                    self._calling = True
                self._function()
            finally:
                with self._lock:  # from here on no tick() raises in this thread
                    self._calling = False
                    interrupted = self._interrupted
                if interrupted:  # raised just as the function ended: take it here, not later
                    _take_pending_exception()
        except TrialStopped:
            return False, None
        except Exception:
            text = traceback.format_exc()
            print(f"wakelog agent: trial {self.run_id} raised:\n{text}", file=sys.stderr, flush=True)
            return False, text
        return True, None

    def _end_runs(self, ok: bool, text: str | None) -> None:
        """Finish what the function left open, as wandb's agent does; a stopped run ends killed."""
        if self._reason is not None:
            for run in active_runs():
                run._request_stop(self._reason)
            finish_all(255, "killed", None)
        elif ok:
            finish_all(0, "finished", None)
        else:
            finish_all(1, "failed", text)
        self._result = _outcome(self._reason is not None, ok)


def _raise_in(thread_id: int, exception: type[BaseException]) -> None:
    """Schedule ``exception`` in another thread: it is raised there at the next function call or
    loop iteration. (Never cancel one with NULL: CPython then keeps its eval breaker set, and
    under a tracer such as coverage's the process slowed to a standstill.)"""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exception))


def _take_pending_exception() -> None:
    """Nothing: calling a Python function is where CPython raises an exception scheduled for
    this thread, so the caller's ``except`` gets it."""


def _death_signal() -> Callable[[], None] | None:
    """What the child runs before exec: ask for SIGKILL when the agent dies (Linux only). Resolved
    here, in the parent, so that the child (forked from a process with threads) only makes one
    system call: no import, no ``dlopen``, no lock another thread might hold."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    args = (ctypes.c_int(1), ctypes.c_ulong(signal.SIGKILL))  # PR_SET_PDEATHSIG

    def set_death_signal() -> None:
        prctl(*args)

    return set_death_signal


class ProcessTrial:
    """The sweep's command for one trial, in its own process."""

    def __init__(
        self,
        run_id: str,
        argv: list[str],
        env: Mapping[str, str],
        param_path: Path,
        *,
        grace: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self.run_id = run_id
        self.argv, self._env, self._param_path = argv, dict(env), param_path
        self._grace, self._clock = grace, clock
        self._proc: subprocess.Popen[bytes] | None = None
        self._reason: str | None = None
        self._terminated_at: float | None = None

    def start(self) -> None:
        try:
            # preexec_fn with threads about: safe here, see _death_signal.
            self._proc = subprocess.Popen(self.argv, env=self._env, preexec_fn=_death_signal())  # noqa: PLW1509
        except OSError as exc:
            print(f"wakelog agent: cannot start {self.argv[:3]}…: {exc}", file=sys.stderr, flush=True)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def poll(self) -> str | None:
        if self._proc is None:
            return "failed"
        code = self._proc.poll()
        if code is None:
            return None
        return _outcome(self._reason is not None, code == 0)

    def wait(self, timeout: float) -> str | None:
        if self._proc is not None:
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        return self.poll()

    def stop(self, reason: str) -> None:
        if self._reason is not None or self.poll() is not None:
            return
        self._reason = reason
        try:
            write_stop_reason(self._param_path, reason)
        except OSError as exc:
            print(f"wakelog agent: cannot record why trial {self.run_id} stops: {exc}", file=sys.stderr)
        assert self._proc is not None
        self._proc.terminate()
        self._terminated_at = self._clock()

    def tick(self) -> None:
        """SIGKILL a process that outlived its grace period after SIGTERM."""
        if self._terminated_at is None or self._proc is None or self._proc.poll() is not None:
            return
        if self._clock() - self._terminated_at >= self._grace:
            print(
                f"wakelog agent: trial {self.run_id} ignored SIGTERM for {self._grace:g} s; killing it",
                file=sys.stderr,
                flush=True,
            )
            self._proc.kill()
