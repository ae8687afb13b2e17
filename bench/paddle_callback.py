"""Overhead of ``WakelogCallback`` and ``wakelog.watch`` on a LeNet training step (PaddlePaddle, CPU).

    python bench/paddle_callback.py [--quick] [--batch-size 64] [--json PATH]

Budgets: the callback ≤ 1 % of a LeNet step at its default ``log_freq`` (10); ``watch(log="all")``
≤ 5 % of a step at its default ``log_freq`` (100). Each is measured two ways, printed as ratios
of the mean step time:

* **in-hook**: time spent inside the callback's hooks (or watch's hooks, histograms included),
  summed over the run and divided by its steps. Precise, but blind to costs paid elsewhere (the
  writer thread competing for the CPU, Paddle calling a Python hook from C++).
* **A/B**: steps with and without the work alternate one by one, so both see the same machine
  load: for the callback, one ``fit`` in which its per-batch hook runs on every other batch;
  for ``watch``, two identical LeNets trained in turn, one of them watched. The slowdown is the
  mean step with against the mean step without; ``noise`` is the same figure between two halves
  of the baseline steps, a floor below which the A/B figure means nothing.

The exit status is 1 if an in-hook ratio is over budget. The step is ``paddle.vision.models.LeNet``
on 28×28 inputs (random data: the cost of the step, not learning, is measured), Adam, batch 64.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, ClassVar

warnings.simplefilter("ignore")  # Paddle's "No ccache found" and hapi's copy-construct warnings
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("WAKELOG_SILENT", "true")
os.environ.setdefault("WAKELOG_CONSOLE", "off")
os.environ.setdefault("WAKELOG_DISABLE_STATS", "true")

import numpy as np  # noqa: E402
import paddle  # noqa: E402
from paddle.static import InputSpec  # noqa: E402

import wakelog  # noqa: E402
from wakelog.integration.paddle import WakelogCallback  # noqa: E402
from wakelog.integration.paddle import _watch as watch_module  # noqa: E402

CALLBACK_BUDGET, WATCH_BUDGET = 0.01, 0.05
HOOKS = (
    "on_train_begin",
    "on_epoch_begin",
    "on_train_batch_end",
    "on_epoch_end",
    "on_eval_begin",
    "on_eval_batch_end",
    "on_eval_end",
    "on_train_end",
)


class Random(paddle.io.Dataset):
    def __init__(self, n: int) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((n, 1, 28, 28)).astype("float32")
        self.y = rng.integers(0, 10, (n, 1)).astype("int64")

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        return self.x[i], self.y[i]


class StepClock(paddle.callbacks.Callback):
    """Times from one train batch's end to the next (data loading, step and every callback)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self._last: float | None = None

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._last = None

    def on_train_batch_end(self, step: int, logs: Any = None) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.times.append(now - self._last)
        self._last = now


class TimedCallback(WakelogCallback):
    """WakelogCallback with a stopwatch around every hook (per hook name, in ``spent``)."""

    spent: ClassVar[dict[str, float]] = {}

    def __getattribute__(self, name: str) -> Any:
        attr = super().__getattribute__(name)
        if name not in HOOKS:
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                spent = TimedCallback.spent
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

        return timed


def hapi_model() -> paddle.Model:
    paddle.seed(0)
    net = paddle.vision.models.LeNet()
    model = paddle.Model(
        net,
        inputs=[InputSpec([None, 1, 28, 28], "float32", "x")],
        labels=[InputSpec([None, 1], "int64", "y")],
    )
    model.prepare(
        paddle.optimizer.Adam(1e-3, parameters=net.parameters()),
        paddle.nn.CrossEntropyLoss(),
        paddle.metric.Accuracy(),
    )
    return model


class EveryOther(paddle.callbacks.Callback):
    """Hands ``on_train_batch_end`` to ``inner`` on even batches only, every other hook always.

    Batches with and without the callback's per-step work then alternate in one ``fit``, so both
    arms see the same machine load; the interval ending at batch i holds the hooks of batch i-1.
    """

    def __init__(self, inner: WakelogCallback) -> None:
        super().__init__()
        self.inner = inner
        self.count = 0

    def set_params(self, params: Any) -> None:
        super().set_params(params)
        self.inner.set_params(params)

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self.inner.set_model(model)

    def __getattribute__(self, name: str) -> Any:
        if name in HOOKS and name != "on_train_batch_end":
            return getattr(object.__getattribute__(self, "inner"), name)
        return object.__getattribute__(self, name)

    def on_train_batch_end(self, step: int, logs: Any = None) -> None:
        self.count += 1
        if self.count % 2 == 0:
            self.inner.on_train_batch_end(step, logs)


def split_ratio(times: list[float], with_hooks: list[bool]) -> tuple[float, float]:
    """(mean with / mean without − 1, the same between the two halves of the baseline: noise)."""
    on = [t for t, w in zip(times, with_hooks, strict=True) if w]
    off = [t for t, w in zip(times, with_hooks, strict=True) if not w]
    ratio = statistics.fmean(on) / statistics.fmean(off) - 1
    noise = abs(statistics.fmean(off[0::2]) / statistics.fmean(off[1::2]) - 1)
    return ratio, noise


def callback_overhead(steps: int, batch_size: int, log_freq: int, root: str) -> dict[str, float]:
    """One ``fit`` of ``steps`` batches in which the callback's per-batch hook runs every other batch."""
    model = hapi_model()
    fit = dict(batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    run = wakelog.init(project="bench-paddle", mode="offline", dir=root, reinit="create_new")
    model.fit(Random(20 * batch_size), **fit)  # warm-up (the first steps build kernels)
    callback = TimedCallback(log_freq=log_freq)
    TimedCallback.spent = {}
    clock = StepClock()
    model.fit(Random(steps * batch_size), **fit, callbacks=[clock, EveryOther(callback)])
    run.finish()
    # clock.times[j] ends at batch j+1 and holds the hooks of batch j; EveryOther ran the
    # callback's batch hook on batches 1, 3, 5… (its count is 1-based).
    with_hooks = [j % 2 == 1 for j in range(len(clock.times))]
    ab, noise = split_ratio(clock.times, with_hooks)
    step = statistics.fmean(t for t, w in zip(clock.times, with_hooks, strict=True) if not w)
    hooked_batches = sum(with_hooks)
    per_batch = TimedCallback.spent.get("on_train_batch_end", 0.0) / max(hooked_batches, 1)
    per_fit = sum(v for k, v in TimedCallback.spent.items() if k != "on_train_batch_end")
    return {
        "step_s": step,
        "in_hook": per_batch / step,  # what every step pays
        "per_fit_s": per_fit,  # once per fit() call: config capture, metric definitions
        "ab": ab,
        "noise": noise,
    }


def watch_overhead(steps: int, batch_size: int, log_freq: int, root: str) -> dict[str, float]:
    """Two identical LeNets train in alternation, one watched (``log="all"``); compare their steps."""
    rng = np.random.default_rng(0)
    x = paddle.to_tensor(rng.standard_normal((batch_size, 1, 28, 28)).astype("float32"))
    y = paddle.to_tensor(rng.integers(0, 10, (batch_size, 1)))
    nets, optimizers = [], []
    for _ in range(2):
        paddle.seed(0)
        nets.append(paddle.vision.models.LeNet())
        optimizers.append(paddle.optimizer.Adam(1e-3, parameters=nets[-1].parameters()))
    run = wakelog.init(project="bench-paddle", mode="offline", dir=root, reinit="create_new")

    spent = [0.0]
    original_grad = watch_module.ModelWatch._gradient_hook
    original_fwd = watch_module.ModelWatch._forward_pre_hook

    def timed_grad(self: Any, name: str) -> Any:
        inner = original_grad(self, name)

        def hook(grad: Any) -> None:
            start = time.perf_counter()
            inner(grad)
            spent[0] += time.perf_counter() - start

        return hook

    def timed_fwd(self: Any, layer: Any, inputs: Any) -> None:
        start = time.perf_counter()
        original_fwd(self, layer, inputs)
        spent[0] += time.perf_counter() - start

    def one_step(index: int) -> float:
        start = time.perf_counter()
        loss = paddle.nn.functional.cross_entropy(nets[index](x), y)
        loss.backward()
        optimizers[index].step()
        optimizers[index].clear_grad()
        run.log({f"loss{index}": loss})
        return time.perf_counter() - start

    for _ in range(20):  # warm-up
        one_step(0), one_step(1)
    watch_module.ModelWatch._gradient_hook = timed_grad  # type: ignore[method-assign]
    watch_module.ModelWatch._forward_pre_hook = timed_fwd  # type: ignore[method-assign]
    try:
        run.watch(nets[1], log="all", log_freq=log_freq)
        times, with_hooks = [], []
        for _ in range(steps):
            for index in (0, 1):
                times.append(one_step(index))
                with_hooks.append(index == 1)
    finally:
        watch_module.ModelWatch._gradient_hook = original_grad  # type: ignore[method-assign]
        watch_module.ModelWatch._forward_pre_hook = original_fwd  # type: ignore[method-assign]
    run.finish()
    ab, noise = split_ratio(times, with_hooks)
    step = statistics.fmean(t for t, w in zip(times, with_hooks, strict=True) if not w)
    return {"step_s": step, "in_hook": spent[0] / steps / step, "ab": ab, "noise": noise}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="400 steps per measurement, not 2000")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    steps = 400 if args.quick else 2000  # whole multiples of watch's log_freq (100)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="wakelog-bench-") as root:
        results["callback log_freq=10 (default)"] = callback_overhead(steps, args.batch_size, 10, root)
        results["callback log_freq=1"] = callback_overhead(steps, args.batch_size, 1, root)
        results["watch all, log_freq=100 (default)"] = watch_overhead(steps, args.batch_size, 100, root)
    print(f"PaddlePaddle {paddle.__version__}, LeNet, batch {args.batch_size}, {os.cpu_count()} CPUs")
    print(f"{'configuration':36} {'step':>9} {'in-hook':>9} {'A/B':>9} {'noise':>8} budget")
    failed = False
    for name, r in results.items():
        budget = WATCH_BUDGET if name.startswith("watch") else CALLBACK_BUDGET
        verdict = "ok" if r["in_hook"] <= budget else "OVER"
        if "default" in name and r["in_hook"] > budget:
            failed = True
        print(
            f"{name:36} {r['step_s'] * 1e3:7.2f}ms {r['in_hook']:9.3%} {r['ab']:+9.2%} "
            f"{r['noise']:8.1%} {budget:.0%} {verdict}"
        )
    for name, r in results.items():
        if "per_fit_s" in r:
            print(f"  {name}: plus {r['per_fit_s'] * 1e3:.2f} ms once per fit() (config, metric definitions)")
    print("in-hook = time inside the hooks per step / mean step; A/B = mean step with / without − 1,")
    print("steps alternating; noise = the same figure between two halves of the baseline steps.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
