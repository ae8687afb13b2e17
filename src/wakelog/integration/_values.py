"""Other formats' values as wakelog values, for the importers and the TensorBoard sync: media
through the SDK's own types."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from typing import Any

#: Audio content types and the file extension wakelog's ``Audio`` keeps them under.
_AUDIO_EXTENSIONS = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/ogg": "ogg"}


def image(encoded: bytes) -> Any:
    """PNG/JPEG bytes as an ``Image`` (its pixels; the SDK writes them as PNG)."""
    from PIL import Image as PILImage

    from wakelog.sdk.media import Image

    with PILImage.open(io.BytesIO(encoded)) as picture:
        picture.load()
        return Image(picture.copy())


def audio(encoded: bytes, content_type: str) -> Any:
    """Encoded audio (a WAV file's bytes, as VisualDL keeps them) as an ``Audio``."""
    from wakelog.sdk.media import Audio

    ext = _AUDIO_EXTENSIONS.get(content_type, "wav")
    fd, name = tempfile.mkstemp(suffix="." + ext)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(encoded)
        return Audio(name)  # reads the bytes now
    finally:
        os.unlink(name)


def histogram(counts: Sequence[float], edges: Sequence[float]) -> Any:
    from wakelog.sdk.media import Histogram

    return Histogram(np_histogram=(list(counts), list(edges)))


def curve(columns: list[str], *series: Sequence[Any]) -> Any:
    """A PR or ROC curve: its points as a ``Table`` (one row per threshold), drawn as a line of the
    second column over the first, as the live VisualDL bridge logs it (columns lower-case there too)."""
    from wakelog.sdk import media

    table = media.Table(columns=columns, data=[list(row) for row in zip(*series, strict=False)])
    return media.plot.line(table, columns[0], columns[1])


def embeddings(items: Sequence[Any], label_meta: Sequence[str]) -> Any:
    """High-dimensional embeddings as a ``Table``: the labels' columns, then the vector."""
    from wakelog.sdk.media import Table

    labels = list(label_meta) or ["label"]
    rows = [[*list(item.label)[: len(labels)], list(item.vectors)] for item in items]
    width = len(labels)
    rows = [row[:-1] + [""] * (width - len(row) + 1) + row[-1:] for row in rows]
    return Table(columns=[*labels, "embedding"], data=rows)


def hparams(infos: Sequence[Any]) -> dict[str, Any]:
    """VisualDL's hyperparameters (each an int, float or string) as config values."""
    config: dict[str, Any] = {}
    for info in infos:
        kind = info.WhichOneof("type")
        if kind is not None:
            config[info.name] = getattr(info, kind)
    return config
