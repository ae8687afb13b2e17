"""Audio: sample arrays written as WAV (16-bit PCM, soundfile's default, as wandb), or audio files."""

from __future__ import annotations

import io
import os
import threading
from typing import TYPE_CHECKING, Any

from ._convert import to_numpy
from ._source import FileMedia, check_caption, is_path, read_path

if TYPE_CHECKING:
    import numpy as np


def _samples(data: Any) -> np.ndarray:
    import numpy as np

    try:
        arr = to_numpy(data)
    except Exception as exc:
        raise TypeError(
            f"Audio cannot use a {type(data).__name__}: expected an array of samples ({exc})"
        ) from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"Audio samples must be integers or floats; got dtype {arr.dtype}")
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise ValueError(
            f"Audio got an array of shape {tuple(arr.shape)}; expected (frames,) or (frames, channels)"
        )
    return np.array(arr, copy=True)


def _soundfile() -> Any:
    try:
        import soundfile  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError(
            "Audio needs soundfile to write samples as WAV: pip install 'wakelog[media]'"
        ) from None
    return soundfile


class Audio(FileMedia):
    """A sound clip, from samples or a file.

    Args:
        data_or_path: samples as a ``(frames,)`` or ``(frames, channels)`` array or tensor
            (floats in [-1, 1] or integers), or a path to an audio file (wav, mp3, ogg, flac…).
        sample_rate: samples per second; required for samples.
        caption: text shown with the clip.

    Samples are copied now and written as WAV by the writer thread (needs ``wakelog[media]``).
    """

    _log_type = "audio-file"
    _kind = "audio"

    def __init__(self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None) -> None:
        self._caption = check_caption(caption, "Audio")
        self._samples: np.ndarray | None = None
        self._encoded: bytes | None = None
        self._lock = threading.Lock()
        self._duration: float | None = None
        if is_path(data_or_path):
            name = os.fspath(data_or_path)
            self._encoded = read_path(name, "Audio")
            base = os.path.basename(name)
            self._ext = base.rsplit(".", 1)[1].lower() if "." in base.strip(".") else "bin"
            self._sample_rate = sample_rate
            return
        if sample_rate is None:
            raise ValueError("Audio needs sample_rate= when given samples rather than a file")
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
            raise ValueError(f"Audio sample_rate must be a positive int; got {sample_rate!r}")
        _soundfile()  # say now, in the caller's thread, that the extra is missing
        self._samples = _samples(data_or_path)
        self._sample_rate = sample_rate
        self._duration = len(self._samples) / float(sample_rate)
        self._ext = "wav"

    @property
    def sample_rate(self) -> int | None:
        return self._sample_rate

    @property
    def duration(self) -> float | None:
        """Seconds, for samples; None for files."""
        return self._duration

    def _content(self) -> tuple[bytes, str]:
        with self._lock:
            if self._encoded is None:
                assert self._samples is not None
                buf = io.BytesIO()
                _soundfile().write(buf, self._samples, self._sample_rate, format="WAV")
                self._encoded = buf.getvalue()
                self._samples = None
            return self._encoded, self._ext

    def __repr__(self) -> str:
        rate = f", {self._sample_rate} Hz" if self._sample_rate else ""
        return f"Audio({self._ext}{rate})"
