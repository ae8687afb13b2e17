"""``WakelogCallback``: record ``paddle.Model.fit``, ``evaluate`` and ``predict`` in a wakelog run.

What Paddle hands a callback, and what this one does about it (paddlepaddle 3.x, ``hapi``):

* ``fit`` passes the *same* ``logs`` dict to every hook, train and eval alike, and keeps writing
  into it; nothing here keeps a reference to it, values are read out at once.
* A train batch's ``logs["loss"]`` is a list (one float per loss output); metrics are running
  values for the epoch (``Accuracy.accumulate()``); ``logs["batch_size"]`` is the global batch.
* An eval pass reports the *last batch's* loss at ``on_eval_end``; this callback logs the mean
  over the eval set instead, weighted by batch size.
* ``fit`` gives callbacks no batch size (``params["batch_size"]`` is None): it is read from the
  first batch.
* ``paddle.callbacks.WandbCallback`` crashes in a standalone ``evaluate()`` (it only sets its
  epoch in ``on_epoch_begin``); here ``evaluate()`` and ``predict()`` work on their own.
"""

from __future__ import annotations

import math
import numbers
import time
from pathlib import Path
from typing import Any

import paddle

from wakelog._warn import warn
from wakelog.errors import UsageError
from wakelog.sdk._init import current_run, init
from wakelog.sdk._run import Run

_CHECKPOINT_CHOICES = (False, True, "end", "best")
_LOG_MODEL_CHOICES = (False, True, "end", "all", "best")
_OPTIMIZER_FIELDS = (
    ("_beta1", "beta1"),
    ("_beta2", "beta2"),
    ("_epsilon", "epsilon"),
    ("_momentum", "momentum"),
    ("_use_nesterov", "use_nesterov"),
    ("_rho", "rho"),
    ("_centered", "centered"),
    ("_amsgrad", "amsgrad"),
    ("_lazy_mode", "lazy_mode"),
    ("_lr_ratio", "lr_ratio"),
    ("_multi_precision", "multi_precision"),
)
_SCHEDULER_SKIP = {"last_lr", "last_epoch", "verbose"}


def _number(value: Any) -> float | int | None:
    """A plain Python number from what hapi puts in ``logs``; None for anything else."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, numbers.Number):  # numpy scalars
        return float(value)  # type: ignore[arg-type]
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return _number(item())
        except (TypeError, ValueError):
            return None
    return None


def _metric_values(name: str, value: Any) -> dict[str, float | int]:
    """``{"loss": total}`` (+ ``loss_0``, ``loss_1``… for several losses) or ``{"acc": 0.9}``."""
    if isinstance(value, (list, tuple)):
        numbers_ = [_number(v) for v in value]
        if not numbers_ or any(n is None for n in numbers_):
            return {}
        if len(numbers_) == 1:
            return {name: numbers_[0]}  # type: ignore[dict-item]
        out: dict[str, float | int] = {f"{name}_{i}": n for i, n in enumerate(numbers_)}  # type: ignore[misc]
        out[name] = math.fsum(numbers_)  # type: ignore[arg-type]
        return out
    number = _number(value)
    return {} if number is None else {name: number}


def _scalar_config(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    number = _number(value)
    return number if number is not None else type(value).__name__


def optimizer_config(optimizer: Any) -> dict[str, Any]:
    """The optimizer's class and hyper-parameters, and its learning-rate schedule if any."""
    config: dict[str, Any] = {"name": type(optimizer).__name__}
    lr = getattr(optimizer, "_learning_rate", None)
    scheduler = lr if isinstance(lr, paddle.optimizer.lr.LRScheduler) else None
    if scheduler is not None:
        config["learning_rate"] = _number(getattr(scheduler, "base_lr", None))
    elif lr is not None:
        config["learning_rate"] = _number(lr)
    attrs = vars(optimizer)
    for attr, name in _OPTIMIZER_FIELDS:
        if attr in attrs and attrs[attr] is not None:
            config[name] = _scalar_config(attrs[attr])
    decay = attrs.get("_weight_decay")
    regularization = attrs.get("regularization")
    if isinstance(decay, (int, float)) and not isinstance(decay, bool):
        config["weight_decay"] = decay
    elif regularization is not None:
        config["weight_decay"] = _number(getattr(regularization, "_coeff", None))
        config["weight_decay_type"] = type(regularization).__name__
    elif attrs.get("_regularization_coeff"):
        config["weight_decay"] = _number(attrs["_regularization_coeff"])
    clip = attrs.get("_grad_clip")
    if clip is not None:
        config["grad_clip"] = {
            "name": type(clip).__name__,
            **{k: _scalar_config(v) for k, v in vars(clip).items() if not k.startswith("_")},
        }
    out = {"optimizer": {k: v for k, v in config.items() if v is not None}}
    if scheduler is not None:
        out["lr_scheduler"] = {
            "name": type(scheduler).__name__,
            **{
                k: _scalar_config(v)
                for k, v in vars(scheduler).items()
                if not k.startswith("_") and k not in _SCHEDULER_SKIP
            },
        }
    return out


def parameter_counts(network: Any) -> tuple[int, int]:
    """(all parameters, trainable ones); BatchNorm statistics count as non-trainable."""
    total = trainable = 0
    for param in network.parameters():
        size = math.prod(int(d) for d in param.shape)
        total += size
        if not param.stop_gradient:
            trainable += size
    return total, trainable


class WakelogCallback(paddle.callbacks.Callback):
    """Record ``paddle.Model.fit``, ``evaluate`` and ``predict`` in a wakelog run.

    Args:
        project: the run's project (``wakelog.init(project=…)``).
        log_freq: log train metrics every this many batches (and at each epoch's last batch).
            ``train/loss`` is the mean over the batches since the previous row.
        log_checkpoints: ``False``; ``"end"`` (or ``True``): save the model (``.pdparams`` and
            ``.pdopt``) as run files under ``checkpoints/final`` when ``fit`` ends; ``"best"``:
            save ``checkpoints/best`` after each eval pass that improves ``monitor``.
        monitor: the eval metric ``"best"`` compares (``"loss"``, ``"acc"``, …; an ``eval/``
            prefix is allowed).
        monitor_mode: ``"min"``, ``"max"`` or ``"auto"`` (min for names with ``loss`` or
            ``error``, else max).
        log_model: log checkpoints as versions of the ``model`` artifact ``model-<run id>``
            (wandb's name): ``True``/``"end"`` once when ``fit`` ends; ``"all"`` after every
            eval pass; ``"best"`` after each eval pass that improves ``monitor``. The server moves
            ``latest``; the best so far also gets ``best``; metadata holds ``epoch`` and the eval
            metrics. Load one back: ``paddle.load(Path(run.use_artifact("model-<id>:best")
            .download()) / "model.pdparams")``.
        watch: ``"gradients"``, ``"parameters"`` or ``"all"``: also ``run.watch`` the network
            when training starts, every ``watch_freq`` steps.
        finish: finish the run when ``fit`` (or a standalone ``evaluate``/``predict``) ends,
            as Paddle's ``WandbCallback`` does. By default the run stays open, so that
            ``evaluate``, ``predict`` and your own ``wakelog.log`` calls after ``fit`` land in
            it; it is finished by ``wakelog.finish()`` or at exit. Only a run the callback
            started is ever finished by it.
        **init_kwargs: passed to ``wakelog.init`` (``name``, ``config``, ``mode``, ``dir``…).

    If a run is already active (``wakelog.init`` was called), the callback records into it.

    Logged: ``train/loss``, ``train/<metric>``, ``train/lr``, ``train/epoch`` (fractional),
    ``train/samples_per_sec`` against ``train/step`` (the global batch count, from 1, going on
    across ``fit`` calls into the same run);
    ``eval/loss`` (mean over the eval set), ``eval/<metric>`` and ``eval/samples_per_sec``
    against ``epoch``; ``predict/*`` counts and throughput in the summary. Config: ``epochs``,
    ``batch_size``, ``steps_per_epoch``, ``optimizer`` (class and hyper-parameters),
    ``lr_scheduler``, ``loss``, ``metrics`` and ``model`` (class and parameter counts).
    """

    def __init__(
        self,
        project: str | None = None,
        log_freq: int = 10,
        log_checkpoints: bool | str = False,
        log_model: bool | str = False,
        monitor: str = "loss",
        monitor_mode: str = "auto",
        watch: str | None = None,
        watch_freq: int = 100,
        finish: bool = False,
        **init_kwargs: Any,
    ) -> None:
        super().__init__()
        if isinstance(log_freq, bool) or not isinstance(log_freq, int) or log_freq < 1:
            raise UsageError(f"WakelogCallback: log_freq must be an int ≥ 1, got {log_freq!r}")
        if log_checkpoints not in _CHECKPOINT_CHOICES:
            raise UsageError(
                "WakelogCallback: log_checkpoints must be False, True, 'end' or 'best', "
                f"got {log_checkpoints!r}"
            )
        if log_model not in _LOG_MODEL_CHOICES:
            raise UsageError(
                f"WakelogCallback: log_model must be False, True, 'end', 'all' or 'best', got {log_model!r}"
            )
        if monitor_mode not in ("auto", "min", "max"):
            raise UsageError(f"WakelogCallback: monitor_mode must be auto, min or max, got {monitor_mode!r}")
        if watch not in (None, "gradients", "parameters", "all"):
            raise UsageError(f"WakelogCallback: watch must be gradients, parameters or all, got {watch!r}")
        self.log_freq = log_freq
        self.log_checkpoints = "end" if log_checkpoints is True else log_checkpoints
        self.log_model = "end" if log_model is True else log_model
        self.monitor = monitor[len("eval/") :] if monitor.startswith("eval/") else monitor
        if monitor_mode == "auto":
            lower = self.monitor.lower()
            monitor_mode = "min" if "loss" in lower or "error" in lower else "max"
        self.monitor_mode = monitor_mode
        self.watch = watch
        self.watch_freq = watch_freq
        self.finish_run = finish
        self.init_kwargs = dict(init_kwargs)
        if project is not None:
            self.init_kwargs["project"] = project
        self._run: Run | None = None
        self._owns_run = False
        self._defined_for: str | None = None
        self._in_fit = False
        self.epoch: int | None = None  # the epoch being trained, or the last one trained
        self.global_step = 0
        self._step_run: str | None = None
        self.steps: int | None = None
        self._eval_metrics: list[str] = []
        self.best: float | None = None
        self._watched: Any = None
        self._reset_window(time.perf_counter())
        self._eval_start = 0.0
        self._eval_samples = 0
        self._eval_loss_sum: list[float] = []
        self._eval_loss_weight = 0
        self._predict_start = 0.0
        self._predict_samples = 0
        self._batch_size_recorded = False

    # -- the run ---------------------------------------------------------------------------
    @property
    def run(self) -> Run:
        """The run this callback records to (started with ``wakelog.init`` if there is none yet).

        After ``finish``, this is the finished run; the next ``fit``/``evaluate``/``predict``
        starts a new one.
        """
        return self._run if self._run is not None else self._ensure_run()

    def _ensure_run(self) -> Run:
        if self._run is None or self._run.finished:
            active = current_run()
            if active is not None:
                self._run, self._owns_run = active, False
            else:
                self._run, self._owns_run = init(**self.init_kwargs), True
            self._defined_for = None
            self.epoch = None  # a new run: no epoch of it has been trained yet
            from wakelog.integration.paddle._env import ensure_recorded

            ensure_recorded(self._run)
        return self._run

    def _define_metrics(self, run: Run) -> None:
        if self._defined_for == run.id:
            return
        self._defined_for = run.id
        run.define_metric("train/step")
        run.define_metric("train/*", step_metric="train/step")
        run.define_metric("epoch")
        run.define_metric("eval/*", step_metric="epoch")

    def _finish_if_asked(self) -> None:
        if self.finish_run and self._owns_run and self._run is not None:
            self._run.finish()

    # -- fit ---------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        run = self._ensure_run()
        self._in_fit = True
        if self._step_run != run.id:  # train/step goes on across fit() calls into one run
            self._step_run, self.global_step = run.id, 0
        self.best = None
        self._batch_size_recorded = False
        if run.disabled:
            return
        self._define_metrics(run)
        params = self.params or {}
        self.steps = params.get("steps")
        config: dict[str, Any] = {"epochs": params.get("epochs"), "steps_per_epoch": self.steps}
        if params.get("batch_size"):
            config["batch_size"] = params["batch_size"]
            self._batch_size_recorded = True
        model = self.model
        optimizer = getattr(model, "_optimizer", None)
        if optimizer is not None:
            config.update(optimizer_config(optimizer))
        loss = getattr(model, "_loss", None)
        if loss is not None:  # a Layer (CrossEntropyLoss) or a plain function
            config["loss"] = getattr(loss, "__name__", None) or type(loss).__name__
        if params.get("metrics"):
            config["metrics"] = list(params["metrics"])
        network = getattr(model, "network", None)
        if network is not None:
            total, trainable = parameter_counts(network)
            config["model"] = {
                "name": type(network).__name__,
                "parameters": total,
                "trainable_parameters": trainable,
            }
            if self.watch is not None:
                run.watch(network, log=self.watch, log_freq=self.watch_freq)
                self._watched = network
        self._update_config(run, {k: v for k, v in config.items() if v is not None})

    @staticmethod
    def _update_config(run: Run, values: dict[str, Any]) -> None:
        # fit's own arguments are the truth, except for keys a sweep set: the sweep's value stays.
        locked = run.config.locked_keys
        try:
            run.config.update({k: v for k, v in values.items() if k not in locked}, allow_val_change=True)
        except Exception as exc:
            warn(f"wakelog: WakelogCallback could not record the config: {exc}", RuntimeWarning)

    def _reset_window(self, now: float) -> None:
        self._window_start = now
        self._window_samples = 0
        self._window_batches = 0
        self._window_loss: dict[str, float] = {}

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch
        self._reset_window(time.perf_counter())

    def on_train_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        self.global_step += 1
        run = self._run
        if run is None or run.disabled or not logs:
            return
        batch_size = logs.get("batch_size") or 0
        self._window_samples += batch_size
        self._window_batches += 1
        loss = logs.get("loss")
        if loss is not None:
            for key, value in _metric_values("loss", loss).items():
                self._window_loss[key] = self._window_loss.get(key, 0.0) + value
        if not self._batch_size_recorded and batch_size:
            self._batch_size_recorded = True
            self._update_config(run, {"batch_size": batch_size})
        last_of_epoch = self.steps is not None and step + 1 >= self.steps
        if self.global_step % self.log_freq and not last_of_epoch:
            return
        self._log_train(run, step, logs)

    def _log_train(self, run: Run, step: int, logs: dict[str, Any]) -> None:
        now = time.perf_counter()
        row: dict[str, Any] = {"train/step": self.global_step}
        batches = self._window_batches or 1
        for key, total in self._window_loss.items():
            row[f"train/{key}"] = total / batches
        names = (self.params or {}).get("metrics") or [k for k in logs if k not in ("step", "batch_size")]
        for name in names:
            if name != "loss" and name in logs:
                for key, value in _metric_values(name, logs[name]).items():
                    row[f"train/{key}"] = value
        optimizer = getattr(self.model, "_optimizer", None)
        if optimizer is not None:
            try:
                row["train/lr"] = float(optimizer.get_lr())
            except Exception:
                pass
        if self.epoch is not None:
            row["train/epoch"] = self.epoch + ((step + 1) / self.steps if self.steps else 0.0)
        elapsed = now - self._window_start
        if elapsed > 0 and self._window_samples:
            row["train/samples_per_sec"] = self._window_samples / elapsed
        run.log(row)
        self._reset_window(now)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._in_fit = False
        run = self._run
        if run is not None and not run.disabled and not run.finished:
            if self.log_checkpoints == "end":
                self._save_checkpoint(run, "final")
            if self.log_model == "end":
                self._log_model(run, {}, best=False)
            if self._watched is not None:
                run.unwatch(self._watched)
                self._watched = None
        self._finish_if_asked()

    # -- evaluate --------------------------------------------------------------------------
    def on_eval_begin(self, logs: dict[str, Any] | None = None) -> None:
        run = self._ensure_run()
        if not run.disabled:
            self._define_metrics(run)
        self._eval_metrics = list((logs or {}).get("metrics") or [])
        self._eval_start = time.perf_counter()
        self._eval_samples = 0
        self._eval_loss_sum = []
        self._eval_loss_weight = 0

    def on_eval_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if not logs:
            return
        batch_size = logs.get("batch_size") or 0
        self._eval_samples += batch_size
        loss = logs.get("loss")
        if isinstance(loss, (list, tuple)) and batch_size:
            values = [_number(v) for v in loss]
            if all(v is not None for v in values):
                if len(self._eval_loss_sum) != len(values):
                    self._eval_loss_sum = [0.0] * len(values)
                for i, v in enumerate(values):
                    self._eval_loss_sum[i] += v * batch_size  # type: ignore[operator]
                self._eval_loss_weight += batch_size

    def on_eval_end(self, logs: dict[str, Any] | None = None) -> None:
        run = self._run
        logs = logs or {}
        if run is not None and not run.disabled and not run.finished:
            row: dict[str, Any] = {}
            if self.epoch is not None:
                row["epoch"] = self.epoch
            names = self._eval_metrics or [k for k in logs if k not in ("step", "batch_size")]
            for name in names:
                if name == "loss" and self._eval_loss_weight:
                    means = [s / self._eval_loss_weight for s in self._eval_loss_sum]
                    row.update({f"eval/{k}": v for k, v in _metric_values("loss", means).items()})
                elif name in logs:
                    row.update({f"eval/{k}": v for k, v in _metric_values(name, logs[name]).items()})
            elapsed = time.perf_counter() - self._eval_start
            if elapsed > 0 and self._eval_samples:
                row["eval/samples_per_sec"] = self._eval_samples / elapsed
            run.log(row)
            if self._in_fit:
                self._after_eval(run, row)
        if not self._in_fit:
            self._finish_if_asked()

    def _after_eval(self, run: Run, row: dict[str, Any]) -> None:
        improved = self._improves(row)
        if improved and self.log_checkpoints == "best" and self._save_checkpoint(run, "best"):
            run.summary.update(
                {"checkpoint/best_epoch": self.epoch, f"checkpoint/best_eval_{self.monitor}": self.best}
            )
        if self.log_model == "all" or (self.log_model == "best" and improved):
            self._log_model(run, row, best=improved)

    def _improves(self, row: dict[str, Any]) -> bool:
        """Whether this eval pass beats the best ``monitor`` value so far (then it becomes the best)."""
        value = row.get(f"eval/{self.monitor}")
        if not isinstance(value, (int, float)) or math.isnan(value):
            return False
        better = self.best is None or (value < self.best if self.monitor_mode == "min" else value > self.best)
        if better:
            self.best = value
        return better

    def _log_model(self, run: Run, row: dict[str, Any], *, best: bool) -> None:
        """``paddle.Model.save`` into a folder of its own (the artifact is hashed off this thread, so
        it is never overwritten), logged as the next version of ``model-<run id>``."""
        from wakelog.sdk.artifacts import Artifact

        try:
            tag = "end" if self.log_model == "end" else f"epoch{self.epoch}"
            folder = Path(run.dir) / "model-checkpoints" / tag
            folder.mkdir(parents=True, exist_ok=True)
            self.model.save(str(folder / "model"), training=True)
            metadata: dict[str, Any] = {"epoch": self.epoch}
            # float(): hapi's metrics are numpy scalars, which artifact metadata does not take
            metadata.update({k: float(v) for k, v in row.items() if k.startswith("eval/")})
            if self.best is not None:
                metadata[f"best_eval_{self.monitor}"] = float(self.best)
            artifact = Artifact(f"model-{run.id}", "model", metadata=metadata)
            artifact.add_dir(str(folder))
            aliases = [f"epoch_{self.epoch}"] if self.epoch is not None else []
            run.log_artifact(artifact, aliases=[*aliases, *(["best"] if best else [])])
        except Exception as exc:
            warn(f"wakelog: could not log the model: {exc}", RuntimeWarning)

    def _save_checkpoint(self, run: Run, name: str) -> bool:
        """``paddle.Model.save`` into ``<run.dir>/checkpoints/<name>``, recorded as run files."""
        try:
            folder = Path(run.dir) / "checkpoints"
            folder.mkdir(parents=True, exist_ok=True)
            self.model.save(str(folder / name), training=True)
            saved = [str(p) for p in sorted(folder.glob(f"{name}.*"))]
            for path in saved:
                run.save(path, base_path=run.dir, policy="now")
            return bool(saved)
        except Exception as exc:
            warn(f"wakelog: could not save the {name} checkpoint: {exc}", RuntimeWarning)
            return False

    # -- predict ---------------------------------------------------------------------------
    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._ensure_run()
        self._predict_start = time.perf_counter()
        self._predict_samples = 0

    def on_predict_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if logs:
            self._predict_samples += logs.get("batch_size") or 0

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        run = self._run
        if run is not None and not run.disabled and not run.finished:
            elapsed = time.perf_counter() - self._predict_start
            values: dict[str, Any] = {"predict/samples": self._predict_samples, "predict/runtime": elapsed}
            if elapsed > 0 and self._predict_samples:
                values["predict/samples_per_sec"] = self._predict_samples / elapsed
            run.summary.update(values)
        if not self._in_fit:
            self._finish_if_asked()
