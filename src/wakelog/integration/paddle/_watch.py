"""``wakelog.watch(model)``: histograms of a Paddle model's gradients and parameters.

How it hooks in:

* **Gradients** through ``Tensor.register_hook`` on every trainable parameter: the hook sees the
  gradient as backward produces it. (``paddle.Model.fit`` clears gradients *before* any callback
  runs, so reading ``p.grad`` afterwards gives zeros.) Each parameter counts its own backward
  passes and logs ``gradients/<name>`` on every ``log_freq``-th one.
* **Parameters** through a forward pre-hook on the watched layer: every ``log_freq``-th forward
  in training mode logs ``parameters/<name>`` for each trainable parameter (the values the
  optimizer left after the previous step).

Histograms go into the run's pending row (``log(..., commit=False)``), as in wandb, so they land
in the row the training loop logs next. Their cost is bounded: a CPU tensor is binned by numpy
on a zero-copy view; a GPU tensor is binned on the device by ``paddle.histogram`` and only 64
counts and two bounds cross to the host. Either costs about one pass over the parameters, so at
the default ``log_freq=100`` it is a small fraction of a training step, which itself makes
several passes over them (``bench/paddle_callback.py`` measures it). bfloat16 and float16 values
are cast to float32 first. Names are those of ``named_parameters()`` (``conv1.weight``), never
Paddle's global auto-names (``conv2d_0.w_0``); a ``paddle.DataParallel`` wrapper's ``_layers.``
prefix is dropped.

``unwatch()`` and ``finish()`` remove every hook. This module imports paddle only when a model
is watched, so ``wakelog.watch`` costs nothing to resolve.
"""

from __future__ import annotations

import math
import threading
import weakref
from typing import TYPE_CHECKING, Any

from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.sdk._init import current_run

if TYPE_CHECKING:
    import numpy as np

    from wakelog.sdk._run import Run

NUM_BINS = 64
LOG_CHOICES = ("gradients", "parameters", "all", None)
_FLOAT_DTYPES = ("float32", "float64")


# -- histograms ----------------------------------------------------------------------------
def _dtype_name(tensor: Any) -> str:
    return str(tensor.dtype).rsplit(".", 1)[-1].lower()


def _on_cpu(tensor: Any) -> bool:
    try:
        return bool(tensor.place.is_cpu_place())
    except Exception:
        return True


def _host_histogram(tensor: Any, num_bins: int) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    from wakelog.sdk.media._histogram import _bin

    if _dtype_name(tensor) not in _FLOAT_DTYPES:
        tensor = tensor.astype("float32")  # bf16 .numpy() would give raw uint16 bits
    arr = np.asarray(tensor.numpy()).reshape(-1)  # zero-copy on the CPU
    if arr.size == 0:
        return _bin(arr.astype(np.float64), num_bins)
    lo, hi = arr.min(), arr.max()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        arr = arr[np.isfinite(arr)]
        return _bin(arr, num_bins)
    if lo < hi and math.isfinite(float(hi) - float(lo)):
        # np.histogram(arr, num_bins) bins over (min, max) too, as scalars of arr's dtype;
        # passing the same range gives the same edges and saves two passes.
        return np.histogram(arr, bins=num_bins, range=(lo, hi))
    return _bin(arr, num_bins)


def _device_histogram(tensor: Any, num_bins: int) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np
    import paddle

    from wakelog.sdk.media._histogram import _bin

    flat = tensor.reshape([-1])
    if _dtype_name(flat) not in _FLOAT_DTYPES:
        flat = flat.astype("float32")
    count = int(flat.shape[0])
    if count == 0:
        return _bin(np.zeros(0), num_bins)
    lo, hi = (float(v) for v in paddle.stack([flat.min(), flat.max()]).numpy())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        flat = paddle.masked_select(flat, paddle.isfinite(flat))
        count = int(flat.shape[0])
        if count == 0:
            return _bin(np.zeros(0), num_bins)
        lo, hi = (float(v) for v in paddle.stack([flat.min(), flat.max()]).numpy())
    if not (lo < hi and math.isfinite(hi - lo)):
        return _host_histogram(flat.cpu(), num_bins)  # one distinct value, or an extreme range: rare
    counts = paddle.histogram(flat, bins=num_bins, min=lo, max=hi).numpy()
    return counts.astype(np.int64), np.linspace(lo, hi, num_bins + 1)


def tensor_histogram(
    tensor: Any, num_bins: int = NUM_BINS, *, on_device: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, edges)`` of a Paddle tensor's finite values, like ``np.histogram(values, num_bins)``.

    ``on_device`` picks the method: numpy on a zero-copy view (the default for CPU tensors; exactly
    numpy's result) or ``paddle.histogram`` where the tensor lives (the default elsewhere; a value
    within float32 rounding of a bin edge may land in the neighbouring bin).
    """
    if on_device is None:
        on_device = not _on_cpu(tensor)
    if on_device:
        return _device_histogram(tensor, num_bins)
    return _host_histogram(tensor, num_bins)


# -- watching ------------------------------------------------------------------------------
def _as_layer(model: Any) -> Any:
    import paddle

    network = getattr(model, "network", None)  # a paddle.Model (hapi) wraps its Layer
    if not isinstance(model, paddle.nn.Layer) and isinstance(network, paddle.nn.Layer):
        model = network
    if not isinstance(model, paddle.nn.Layer):
        raise TypeError(
            f"wakelog.watch() takes a paddle.nn.Layer (or a paddle.Model), got {type(model).__name__}"
        )
    return model


def _param_name(name: str) -> str:
    while name.startswith("_layers."):  # paddle.DataParallel
        name = name[len("_layers.") :]
    return name


def _numel(param: Any) -> int:
    return math.prod(int(d) for d in param.shape)


def model_summary(layer: Any) -> tuple[list[str], list[list[Any]], int, int]:
    """Rows (layer, type, parameter shapes, parameters, trainable) and the totals for ``layer``."""
    rows: list[list[Any]] = []
    total = trainable = 0
    for name, sub in layer.named_sublayers(include_self=True):
        own = sub.parameters(include_sublayers=False)
        is_leaf = not list(sub.children())
        if not own and not is_leaf:
            continue
        count = sum(_numel(p) for p in own)
        learn = sum(_numel(p) for p in own if not p.stop_gradient)
        total += count
        trainable += learn
        shapes = ", ".join(str(list(p.shape)) for p in own)
        rows.append([_param_name(name) or "(model)", type(sub).__name__, shapes, count, learn])
    columns = ["layer", "type", "parameter_shapes", "parameters", "trainable"]
    return columns, rows, total, trainable


class ModelWatch:
    """The hooks on one watched model; ``remove()`` takes them off."""

    def __init__(self, run: Run, layer: Any, prefix: str, log: str | None, log_freq: int) -> None:
        self.run = run
        self.layer = layer
        self.prefix = prefix
        self.log = log
        self.log_freq = log_freq
        self.forward_count = 0
        self._handles: list[Any] = []
        self._failed = False
        self._params = [(_param_name(name), p) for name, p in layer.named_parameters() if not p.stop_gradient]
        try:
            if log in ("gradients", "all"):
                for name, param in self._params:
                    self._handles.append(param.register_hook(self._gradient_hook(name)))
            if log in ("parameters", "all"):
                self._handles.append(layer.register_forward_pre_hook(self._forward_pre_hook))
        except Exception:
            self.remove()
            raise

    def _gradient_hook(self, name: str) -> Any:
        key = f"gradients/{self.prefix}{name}"
        calls = 0

        def hook(grad: Any) -> None:
            nonlocal calls
            calls += 1
            if calls % self.log_freq == 0:
                self._log_histograms({key: grad})

        return hook

    def _forward_pre_hook(self, layer: Any, inputs: Any) -> None:
        if not layer.training:
            return
        self.forward_count += 1
        if self.forward_count % self.log_freq == 0:
            self._log_histograms({f"parameters/{self.prefix}{n}": p for n, p in self._params})

    def _log_histograms(self, tensors: dict[str, Any]) -> None:
        if self._failed:
            return
        try:
            from wakelog.sdk.media import Histogram

            row = {}
            for key, tensor in tensors.items():
                row[key] = Histogram(np_histogram=tensor_histogram(tensor.detach()))
            self.run.log(row, commit=False)
        except Exception as exc:  # never break the training step
            self._failed = True
            warn(f"wakelog: watch() stopped logging histograms: {exc}", RuntimeWarning)

    def remove(self) -> None:
        handles, self._handles = self._handles, []
        for handle in handles:
            try:
                handle.remove()
            except Exception:
                pass

    @property
    def active(self) -> bool:
        return bool(self._handles)


class _WatchManager:
    """One per run: the run's watched models; ``stop_watches`` stops it at ``finish()``."""

    def __init__(self) -> None:
        self.watches: dict[int, ModelWatch] = {}
        self.next_index = 0
        self._lock = threading.Lock()

    def stop(self) -> None:
        with self._lock:
            watches, self.watches = list(self.watches.values()), {}
        for item in watches:
            item.remove()


_managers: weakref.WeakKeyDictionary[Run, _WatchManager] = weakref.WeakKeyDictionary()
_managers_lock = threading.Lock()


def _manager(run: Run, create: bool) -> _WatchManager | None:
    with _managers_lock:
        manager = _managers.get(run)
        if manager is None and create:
            manager = _managers[run] = _WatchManager()
        return manager


def stop_watches(run: Run) -> None:
    """Remove every hook of ``run`` (registered with the SDK as a finish callback)."""
    with _managers_lock:
        manager = _managers.pop(run, None)
    if manager is not None:
        manager.stop()


def _log_summary(run: Run, layer: Any, prefix: str) -> None:
    from wakelog.sdk.media import Table

    columns, rows, total, trainable = model_summary(layer)
    rows.append(["(total)", type(layer).__name__, "", total, trainable])
    key = "model/" + (prefix.rstrip(".") + "/" if prefix else "")  # model/ or model/graph_1/
    run.log({key + "summary": Table(columns=columns, data=rows)}, commit=False)
    run.summary.update({key + "parameters": total, key + "trainable_parameters": trainable})


def watch_run(
    run: Run,
    models: Any,
    criterion: Any = None,
    log: str | None = "gradients",
    log_freq: int = 100,
    idx: int | None = None,
    log_graph: bool = False,
) -> list[ModelWatch]:
    """``Run.watch``: hook ``models`` (a Layer, a ``paddle.Model`` or a list of them)."""
    if log not in LOG_CHOICES:
        raise UsageError(f"watch: log must be 'gradients', 'parameters', 'all' or None, got {log!r}")
    if isinstance(log_freq, bool) or not isinstance(log_freq, int) or log_freq < 1:
        raise UsageError(f"watch: log_freq must be an int ≥ 1, got {log_freq!r}")
    if run.finished:
        raise UsageError("watch() called on a finished run")
    if log_graph:
        warn("wakelog: watch(log_graph=True) is not supported for Paddle models; ignored", UserWarning)
    items = list(models) if isinstance(models, (list, tuple)) else [models]
    layers = [_as_layer(m) for m in items]
    if run.disabled:  # another rank, or mode="disabled": no hooks, no cost
        return []
    from wakelog.integration.paddle._env import ensure_recorded

    ensure_recorded(run)
    manager = _manager(run, create=True)
    assert manager is not None
    created = []
    for layer in layers:
        with manager._lock:
            old = manager.watches.pop(id(layer), None)
            index = manager.next_index if idx is None else idx
            manager.next_index = max(manager.next_index, index) + 1
        if old is not None:
            old.remove()
        prefix = f"graph_{index}." if index > 0 else ""
        item = ModelWatch(run, layer, prefix, log, log_freq)
        with manager._lock:
            manager.watches[id(layer)] = item
        _log_summary(run, layer, prefix)
        created.append(item)
    return created


def unwatch_run(run: Run, models: Any = None) -> None:
    """``Run.unwatch``: remove the hooks on ``models`` (default: every watched model)."""
    manager = _manager(run, create=False)
    if manager is None:
        return
    if models is None:
        manager.stop()
        return
    items = list(models) if isinstance(models, (list, tuple)) else [models]
    for model in items:
        with manager._lock:
            item = manager.watches.pop(id(_as_layer(model)), None)
        if item is not None:
            item.remove()


def _current_run() -> Run:
    run = current_run()
    if run is None:
        raise UsageError("wakelog.watch() needs a run: call wakelog.init() first")
    return run


def watch(
    models: Any,
    criterion: Any = None,
    log: str | None = "gradients",
    log_freq: int = 100,
    idx: int | None = None,
    log_graph: bool = False,
) -> list[ModelWatch]:
    """Log histograms of ``models``' gradients and/or parameters to the current run.

    Args:
        models: a ``paddle.nn.Layer``, a ``paddle.Model``, or a list of them.
        criterion: accepted for wandb compatibility; unused.
        log: ``"gradients"`` (default), ``"parameters"``, ``"all"``, or None (summary only).
        log_freq: log every this many backward passes (gradients) / training forwards (parameters).
        idx: index of the model when several are watched (names get a ``graph_<idx>.`` prefix).
        log_graph: not supported for Paddle; a warning.

    A table of the model's layers, parameter shapes and counts is logged once as
    ``model/summary``, and the counts go to the summary. Returns a handle per model.
    """
    return _current_run().watch(models, criterion, log, log_freq, idx, log_graph)


def unwatch(models: Any = None) -> None:
    """Remove the hooks ``watch()`` put on ``models`` (default: all) of the current run."""
    run = current_run()
    if run is not None:
        run.unwatch(models)
