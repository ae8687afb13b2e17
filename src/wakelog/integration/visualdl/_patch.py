"""``patch()``: every ``visualdl.LogWriter.add_*`` call also goes to the active wakelog run.

The writer's methods are wrapped on the class, so writers made before or after ``patch()`` are
covered. Each wrapper first fixes the call's wall time (VisualDL's own default, epoch
milliseconds, computed here so both sides get the same one), lets VisualDL write its record
unchanged, then hands the converted values to ``_Pending``: consecutive calls at the same step
and wall time (the five scalars of one training step, usually) become one history row of the
current run, with VisualDL's tags, its step as ``global_step`` and the wall time as the row's
``_timestamp``. The row is logged when a call with another step or wall time comes (or a tag
repeats), at the run's ``finish()`` and at ``unpatch()``. A VisualDL error propagates as before
(nothing is logged); a failure on wakelog's side (converting a call's values, or logging a row)
is a warning, once per kind, never an exception in the training loop.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.sdk._init import current_run

if TYPE_CHECKING:
    from wakelog.sdk._run import Run

#: The history key that holds VisualDL's step (TensorBoard's sync uses the same).
STEP_KEY = "global_step"

_patched: list[tuple[Any, str, Any]] = []  # (class, method name, original)
_warned: set[str] = set()  # what failed and was reported (once per patch)


def patch() -> None:
    """Wrap ``visualdl.LogWriter``'s ``add_*`` methods (needs ``pip install 'wakelog[visualdl]'``)."""
    if _patched:
        raise UsageError("VisualDL is already patched: call wakelog.integration.visualdl.unpatch() first")
    try:
        from visualdl import LogWriter
    except ImportError:
        raise UsageError("sync_visualdl needs VisualDL: pip install 'wakelog[visualdl]'") from None
    from wakelog.integration.visualdl import _convert

    original = LogWriter.add_scalar
    LogWriter.add_scalar = _scalar_wrapper(original)
    _patched.append((LogWriter, "add_scalar", original))
    for name, convert in _convert.CONVERTERS.items():
        original = getattr(LogWriter, name, None)
        if original is not None:
            setattr(LogWriter, name, _wrapper(name, original, convert))
            _patched.append((LogWriter, name, original))


def unpatch() -> None:
    """Log what is held back and put VisualDL's own methods back."""
    flush()
    for cls, name, original in reversed(_patched):
        setattr(cls, name, original)
    _patched.clear()
    _warned.clear()


def patched() -> bool:
    return bool(_patched)


def _now_ms() -> int:
    return round(time.time() * 1000)


class _Pending:
    """The values of consecutive calls at one (run, step, wall time), logged as one row."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._run: Run | None = None
        self._at: tuple[Any, Any] = (None, None)  # (step, wall time in ms)
        self._values: dict[str, Any] = {}

    def add(self, run: Run, values: dict[str, Any], step: Any, walltime: Any) -> None:
        at = (None if step is None else int(step), walltime)
        with self._lock:
            held = None
            if run is not self._run or at != self._at or not self._values.keys().isdisjoint(values):
                held = self._take()
                self._run, self._at = run, at
            self._values.update(values)
            if held is not None:
                _log(*held)

    def flush(self, run: Run | None = None) -> None:
        """Log the held row now (only if it belongs to ``run``, when given)."""
        with self._lock:
            if run is not None and run is not self._run:
                return
            held = self._take()
            self._run = None
            if held is not None:
                _log(*held)

    def _take(self) -> tuple[Run, dict[str, Any], float] | None:
        """The held row as ``(run, row, timestamp)``, emptied out; None if there is none."""
        if not self._values or self._run is None:
            return None
        row, self._values = self._values, {}
        step, walltime = self._at
        if step is not None:
            row[STEP_KEY] = step
        return self._run, row, float(walltime) / 1000.0


def _log(run: Run, row: dict[str, Any], timestamp: float) -> None:
    try:
        run._log_at(row, timestamp)
    except Exception as exc:  # strict mode raises for a value wakelog refuses
        _failed("a row of VisualDL's calls", exc)


_pending = _Pending()


def flush(run: Run | None = None) -> None:
    """Log the row held back for ``run`` (any run: None)."""
    _pending.flush(run)


def _failed(what: str, exc: Exception) -> None:
    """Warn once per ``what`` (a method's call, or a row)."""
    if what not in _warned:
        _warned.add(what)
        warn(f"wakelog: could not record {what} ({type(exc).__name__}: {exc})", UserWarning)


def _scalar_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    """``add_scalar``, the hot path, without argument binding."""

    def add_scalar(self: Any, tag: str, value: Any, step: int, walltime: int | None = None) -> None:
        if walltime is None:
            walltime = _now_ms()
        original(self, tag, value, step, walltime)
        try:
            run = current_run()
            if run is not None:
                _pending.add(run, {tag: float(value)}, step, walltime)
        except Exception as exc:
            _failed("VisualDL's add_scalar call", exc)

    add_scalar.__doc__ = original.__doc__
    add_scalar.__wrapped__ = original  # type: ignore[attr-defined]
    return add_scalar


def _wrapper(
    name: str, original: Callable[..., Any], convert: Callable[..., dict[str, Any] | None]
) -> Callable[..., Any]:
    """A method that binds its call as VisualDL's signature names it, fixes the wall time, calls
    VisualDL, then logs ``convert(**arguments)`` (None: nothing to log)."""
    signature = inspect.signature(original)
    takes_walltime = "walltime" in signature.parameters

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = bound.arguments
        if takes_walltime and arguments["walltime"] is None:
            arguments["walltime"] = _now_ms()
        run = current_run()
        if run is None:
            return original(*bound.args, **bound.kwargs)
        values: dict[str, Any] | None = None
        failure: Exception | None = None
        try:
            values = convert(**arguments)  # before VisualDL, which scales float images in place
        except Exception as exc:
            failure = exc
        result = original(*bound.args, **bound.kwargs)  # VisualDL's own errors propagate as ever
        try:
            if failure is not None:
                raise failure
            if values:
                _pending.add(run, values, arguments.get("step"), arguments.get("walltime") or _now_ms())
        except Exception as exc:
            _failed(f"VisualDL's {name} call", exc)
        return result

    method.__name__ = method.__qualname__ = name
    method.__doc__ = original.__doc__
    method.__wrapped__ = original  # type: ignore[attr-defined]
    return method
