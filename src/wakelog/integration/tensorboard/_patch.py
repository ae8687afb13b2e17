"""``patch()``: learn the log directories of the TensorBoard writers a script creates.

As wandb does, the writer classes of tensorboardX, ``torch.utils.tensorboard``, TensorBoard's own
``EventFileWriter`` and TensorFlow 2's ``create_summary_file_writer`` are wrapped, where installed:
each new writer tells the current run's ``LogdirSync`` its log directory. ``root_logdir`` is the
directory under which the writers' directories are told apart by name (``train/``, ``eval/``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import weakref
from collections.abc import Callable
from typing import Any

from wakelog.errors import UsageError

#: (module, class) of each writer whose constructor takes the log directory first.
WRITER_CLASSES = (
    ("tensorboardX.writer", "EventFileWriter"),
    ("torch.utils.tensorboard.writer", "EventFileWriter"),
    ("tensorboard.summary.writer.event_file_writer", "EventFileWriter"),
)
TF2_WRITER = ("tensorflow.python.ops.gen_summary_ops", "create_summary_file_writer")

_patched: list[tuple[Any, str, Any]] = []  # (module, attribute, original)
_writers: weakref.WeakSet[Any] = weakref.WeakSet()  # flushed at finish()
_root_logdir: str | None = None
_save = True
_listener: Callable[[str], None] | None = None


def patch(
    save: bool = True,
    tensorboard_x: bool | None = None,
    pytorch: bool | None = None,
    root_logdir: str | os.PathLike[str] = "",
) -> None:
    """Wrap the installed TensorBoard writers so that runs sync what they write (wandb's
    ``wandb.tensorboard.patch``); call before ``init()`` to give ``root_logdir``."""
    global _root_logdir, _save
    if _patched:
        raise UsageError(
            "TensorBoard is already patched: call wakelog.tensorboard.unpatch() first, or patch only once"
        )
    _root_logdir = os.fspath(root_logdir) or None
    _save = bool(save)
    for module_name, name in WRITER_CLASSES:
        module = _installed(module_name)
        if module is not None:
            _wrap_class(module, name)
    module = _installed(TF2_WRITER[0]) if not (pytorch or tensorboard_x) else None
    if module is not None:
        _wrap_tf2(module, TF2_WRITER[1])


def unpatch() -> None:
    """Put the original writers back."""
    global _root_logdir
    for module, name, original in reversed(_patched):
        setattr(module, name, original)
    _patched.clear()
    _root_logdir = None


def patched() -> bool:
    return bool(_patched)


def root_logdir() -> str | None:
    return _root_logdir


def save_files() -> bool:
    """Whether event files are saved with the run (``patch(save=…)``)."""
    return _save


def set_listener(listener: Callable[[str], None] | None) -> None:
    """Who hears of each new writer's log directory (the run start hook sets it)."""
    global _listener
    _listener = listener


def flush_writers() -> None:
    """Flush every writer created since the patch, so that its events are on disk."""
    for writer in list(_writers):
        try:
            writer.flush()
        except Exception:  # a writer closed or broken by the script: nothing more to read from it
            continue


def _installed(module_name: str) -> Any:
    top = module_name.split(".", 1)[0]
    if importlib.util.find_spec(top) is None:
        return None
    try:
        return importlib.import_module(module_name)
    except ImportError:
        return None


def _notify(logdir: Any) -> None:
    if hasattr(logdir, "numpy"):  # TensorFlow passes a tensor
        logdir = logdir.numpy()
    if isinstance(logdir, bytes):
        logdir = logdir.decode("utf-8")
    if _listener is not None:
        _listener(os.fspath(logdir))


def _wrap_class(module: Any, name: str) -> None:
    original = getattr(module, name)

    class EventFileWriter(original):  # type: ignore[misc, valid-type]
        def __init__(self, logdir: Any, *args: Any, **kwargs: Any) -> None:
            _notify(logdir)
            super().__init__(logdir, *args, **kwargs)
            _writers.add(self)

    EventFileWriter.__qualname__ = original.__qualname__
    setattr(module, name, EventFileWriter)
    _patched.append((module, name, original))


def _wrap_tf2(module: Any, name: str) -> None:
    original = getattr(module, name)

    def create_summary_file_writer(*args: Any, **kwargs: Any) -> Any:
        _notify(kwargs["logdir"] if "logdir" in kwargs else args[1])
        return original(*args, **kwargs)

    setattr(module, name, create_summary_file_writer)
    _patched.append((module, name, original))
