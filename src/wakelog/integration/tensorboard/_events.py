"""tfevents records → ``Event`` protos → the values wakelog logs.

The protobuf classes come from tensorboardX (the ``tensorboard`` extra) or, failing that, from the
``tensorboard`` package. What is converted, as wandb does: scalars (``simple_value`` and the
``scalars`` plugin's 0-d tensors), histograms (``HistogramProto``) and images (PNG/JPEG
``Summary.Image``). Other values (text, audio, PR curves, TF2 histogram/image tensors) are skipped.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

from wakelog.errors import UsageError

# TensorProto dtypes a scalar comes in, and the repeated field that holds it.
_SCALAR_FIELDS = {1: "float_val", 2: "double_val", 3: "int_val", 9: "int64_val", 19: "half_val"}
_CONTENT_DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 9: "<i8", 19: "<f2"}


def event_class() -> Any:
    """The ``Event`` protobuf class, from tensorboardX or tensorboard."""
    try:
        from tensorboardX.proto.event_pb2 import Event
    except ImportError:
        try:
            from tensorboard.compat.proto.event_pb2 import Event  # type: ignore[no-redef]
        except ImportError:
            raise UsageError(
                "reading TensorBoard event files needs tensorboardX (pip install 'wakelog[tensorboard]')"
            ) from None
    return Event


def parse_event(data: bytes) -> Any:
    """One tfevents record's ``Event``."""
    event = event_class()()
    event.ParseFromString(data)
    return event


@dataclass
class EventConverter:
    """Turns the events of one file into ``{tag: value}``, remembering each tag's plugin (TensorBoard
    writes a tag's plugin only with its first value)."""

    namespace: str = ""
    plugins: dict[str, str] = field(default_factory=dict)

    def values(self, event: Any) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if not event.HasField("summary"):
            return found
        for value in event.summary.value:
            plugin = value.metadata.plugin_data.plugin_name
            if plugin:
                self.plugins[value.tag] = plugin
            try:
                converted = _convert(value, self.plugins.get(value.tag, ""))
            except (ValueError, TypeError, OSError):  # a value wakelog cannot show: skip it
                converted = None
            if converted is not None:
                found[f"{self.namespace}/{value.tag}" if self.namespace else value.tag] = converted
        return found


def _convert(value: Any, plugin: str) -> Any:
    kind = value.WhichOneof("value")
    if kind == "simple_value":
        return float(value.simple_value)
    if kind == "tensor" and plugin == "scalars":
        return tensor_scalar(value.tensor)
    if kind == "histo":
        return _histogram(value.histo)
    if kind == "image":
        return _image(value.image.encoded_image_string)
    return None


def tensor_scalar(tensor: Any) -> float | None:
    """A 0-d (or one-element) ``TensorProto`` as a float; None for other tensors."""
    if tensor.tensor_content:
        import numpy as np

        dtype = _CONTENT_DTYPES.get(tensor.dtype)
        if dtype is None:
            return None
        array = np.frombuffer(tensor.tensor_content, dtype=dtype)
        return float(array[0]) if array.size == 1 else None
    name = _SCALAR_FIELDS.get(tensor.dtype)
    values = list(getattr(tensor, name)) if name else []
    if len(values) != 1:
        return None
    if name == "half_val":  # float16 bits in an int32
        import numpy as np

        return float(np.array([values[0]], dtype=np.uint16).view(np.float16)[0])
    return float(values[0])


def _histogram(histo: Any) -> Any:
    """A ``HistogramProto`` (right bucket edges, counts) as a wakelog ``Histogram``."""
    from wakelog.sdk.media import Histogram

    counts = list(histo.bucket)
    if not counts:
        return None
    edges = [histo.min, *histo.bucket_limit]
    if not math.isfinite(edges[-1]) or edges[-1] > histo.max:  # the last bucket runs to DBL_MAX
        edges[-1] = max(histo.max, edges[-2])
    return Histogram(np_histogram=(counts, edges))


def _image(encoded: bytes) -> Any:
    from PIL import Image as PILImage

    from wakelog.sdk.media import Image

    with PILImage.open(io.BytesIO(encoded)) as picture:
        picture.load()
        return Image(picture.copy())
