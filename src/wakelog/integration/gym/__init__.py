"""gym/gymnasium → wakelog: ``init(monitor_gym=True)`` and ``wakelog.gym.monitor()``.

As wandb does, the video recorder is wrapped so that every video it finishes is logged to the
current run as ``wakelog.Video(path)``, under ``video.N`` when the file name has it, else
``videos``: gymnasium ≥ 1.0's ``RecordVideo.stop_recording``, or gym ≥ 0.26's
``VideoRecorder.close``. Importing this package imports neither.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
from typing import TYPE_CHECKING, Any

from wakelog.errors import UsageError

if TYPE_CHECKING:
    from wakelog.sdk._run import Run

_KEY = re.compile(r".+(video\.\d+).+")
_patched: list[tuple[Any, str, Any]] = []  # (class, method, original)


def video_key(path: str) -> str:
    """The history key of a recorded video: wandb's ``video.N`` from its path, else ``videos``."""
    match = _KEY.match(path)
    return match.group(1) if match else "videos"


def log_video(path: str) -> None:
    """Log the video at ``path`` to the current run, if there is one and the file was written."""
    from wakelog.sdk._init import current_run

    run = current_run()
    if run is None or not os.path.isfile(path):
        return
    from wakelog.sdk.media import Video  # type: ignore[attr-defined]

    run.log({video_key(path): Video(path)})


def monitor() -> None:
    """Log the videos gymnasium's (or gym's) recorder writes; once per process."""
    if _patched:
        return
    if importlib.util.find_spec("gymnasium") is not None:
        wrappers = importlib.import_module("gymnasium.wrappers")
        wrap_record_video(wrappers.RecordVideo)
    elif importlib.util.find_spec("gym") is not None:
        recorder = importlib.import_module("gym.wrappers.monitoring.video_recorder")
        _wrap_gym_recorder(recorder.VideoRecorder)
    else:
        raise UsageError("monitor_gym needs gymnasium: pip install gymnasium")


def wrap_record_video(cls: Any) -> None:
    """Wrap gymnasium's ``RecordVideo``: after ``stop_recording`` wrote ``<folder>/<name>.mp4``, log it."""
    original = cls.stop_recording

    def stop_recording(self: Any) -> None:
        name = getattr(self, "_video_name", None)
        original(self)
        if name:
            log_video(os.path.join(self.video_folder, f"{name}.mp4"))

    cls.stop_recording = stop_recording
    _patched.append((cls, "stop_recording", original))


def _wrap_gym_recorder(cls: Any) -> None:
    original = cls.close

    def close(self: Any) -> None:
        original(self)
        if getattr(self, "enabled", True) and getattr(self, "path", None):
            log_video(self.path)

    cls.close = close
    _patched.append((cls, "close", original))


def unpatch() -> None:
    """Put the recorders' methods back."""
    for cls, name, original in reversed(_patched):
        setattr(cls, name, original)
    _patched.clear()


def register_hooks() -> None:
    """Plug ``init(monitor_gym=True)`` into the SDK's run start."""
    from wakelog.sdk import _hooks

    _hooks.add_start_callback(_start)


def _start(run: Run, options: dict[str, Any]) -> None:
    if options.get("monitor_gym"):
        monitor()


__all__ = ["log_video", "monitor", "unpatch", "video_key"]
