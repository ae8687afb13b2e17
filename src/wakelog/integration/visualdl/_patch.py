"""``patch()``: every ``visualdl.LogWriter.add_*`` call also goes to the active wakelog run.

The writer's methods are wrapped on the class, so writers made before or after ``patch()`` are
covered. Each wrapper first fixes the call's wall time (VisualDL's own default, epoch
milliseconds, computed here so both sides get the same one), lets VisualDL write its record
unchanged, then logs one history row into the current run: the converted values under VisualDL's
tags, VisualDL's step as ``global_step``, and the wall time as the row's ``_timestamp``. A
VisualDL error propagates as before (nothing is logged); a failure on wakelog's side is a warning,
once per method, never an exception in the training loop.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any

from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.sdk._init import current_run

#: The history key that holds VisualDL's step (TensorBoard's sync uses the same).
STEP_KEY = "global_step"

_patched: list[tuple[Any, str, Any]] = []  # (class, method name, original)
_warned: set[str] = set()  # methods whose failure was reported (once per patch)


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
    """Put VisualDL's own methods back."""
    for cls, name, original in reversed(_patched):
        setattr(cls, name, original)
    _patched.clear()
    _warned.clear()


def patched() -> bool:
    return bool(_patched)


def _now_ms() -> int:
    return round(time.time() * 1000)


def _mirror(values: dict[str, Any], step: Any, walltime: Any) -> None:
    """Log ``values`` at VisualDL's ``step`` and ``walltime`` into the current run, if any."""
    run = current_run()
    if run is None:
        return
    if step is not None:
        values[STEP_KEY] = int(step)
    run._log_at(values, float(walltime) / 1000.0)


def _failed(method: str, exc: Exception) -> None:
    if method not in _warned:
        _warned.add(method)
        warn(f"wakelog: could not record VisualDL's {method} call ({type(exc).__name__}: {exc})", UserWarning)


def _scalar_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    """``add_scalar``, the hot path, without argument binding."""

    def add_scalar(self: Any, tag: str, value: Any, step: int, walltime: int | None = None) -> None:
        if walltime is None:
            walltime = _now_ms()
        original(self, tag, value, step, walltime)
        try:
            if current_run() is not None:
                _mirror({tag: float(value)}, step, walltime)
        except Exception as exc:
            _failed("add_scalar", exc)

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
        if current_run() is None:
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
                _mirror(values, arguments.get("step"), arguments.get("walltime") or _now_ms())
        except Exception as exc:
            _failed(name, exc)
        return result

    method.__name__ = method.__qualname__ = name
    method.__doc__ = original.__doc__
    method.__wrapped__ = original  # type: ignore[attr-defined]
    return method
