"""TensorBoard summary values → wakelog values, for the importer and the live sync.

Values are read as TensorBoard reads them: ``data_compat`` migrates each one to its plugin's
tensor form (TF1 histograms and images, TF2 tensors alike) and ``tensor_util`` makes the tensor an
array. Scalars become numbers, histograms a ``Histogram``, images an ``Image``, text a string and
the hparams plugin's session start its hyperparameters (a dict, for the config); other plugins'
values are not converted (None). TensorBoard writes a tag's plugin with its first value only:
``ValueConverter`` remembers it per tag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wakelog.integration import _values

HPARAMS = "hparams"


class ValueConverter:
    """Converts the summary values of one event file (or one run), remembering each tag's plugin."""

    def __init__(self) -> None:
        self.plugins: dict[str, str] = {}

    def convert(self, value: Any) -> tuple[str, Any]:
        """``(plugin, wakelog value or None)`` of one ``Summary.Value``; raises ``ValueError``,
        ``TypeError`` or ``OSError`` for a value of a known plugin that cannot be read."""
        if value.metadata.plugin_data.plugin_name:
            self.plugins[value.tag] = value.metadata.plugin_data.plugin_name
        if value.WhichOneof("value") == "simple_value":  # the common case, without data_compat's cost
            return "scalars", float(value.simple_value)
        from tensorboard import data_compat
        from tensorboard.util import tensor_util

        migrated = data_compat.migrate_value(value)
        plugin = migrated.metadata.plugin_data.plugin_name or self.plugins.get(value.tag, "")
        if plugin == HPARAMS:
            return plugin, _hparams(migrated.metadata.plugin_data.content)
        if plugin not in _CONVERT or not migrated.HasField("tensor"):
            return plugin, None
        return plugin, _CONVERT[plugin](tensor_util.make_ndarray(migrated.tensor))


def _hparams(content: bytes) -> dict[str, Any] | None:
    from tensorboard.plugins.hparams import metadata

    try:
        start = metadata.parse_session_start_info_plugin_data(content)
    except Exception:  # the experiment or session-end summaries: nothing for the config
        return None
    config = {}
    for name, item in start.hparams.items():
        kind = item.WhichOneof("kind")
        config[name] = getattr(item, kind) if kind and kind != "null_value" else None
    return config


def _scalar(array: Any) -> Any:
    return float(array.reshape(-1)[0]) if array.size == 1 else None


def _histogram(array: Any) -> Any:
    """TensorBoard's ``[left edge, right edge, count]`` buckets as a ``Histogram``."""
    if array.ndim != 2 or array.shape[1] != 3 or not len(array):
        return None
    edges = [*array[:, 0].tolist(), float(array[-1, 1])]
    return _values.histogram(array[:, 2].tolist(), edges)


def _image(array: Any) -> Any:
    return _values.image(array.reshape(-1)[2]) if array.size >= 3 else None  # width, height, image…


def _text(array: Any) -> Any:
    if array.size != 1:
        return None
    item = array.reshape(-1)[0]
    return item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "scalars": _scalar,
    "histograms": _histogram,
    "images": _image,
    "text": _text,
}
