"""Hyperband early termination, decided on the server from the runs' logged metric.

wandb's rule (its sweeps library, read for facts): an iteration is one logged value of
``metric.name`` (non-finite values skipped). The brackets are

* ``min_iter`` form: ``min_iter, min_iter·eta, min_iter·eta², …``;
* ``max_iter`` form: ``max_iter/eta, max_iter/eta², …`` (``s`` of them, those ≥ 1), as integers,
  ascending.

At each bracket ``b`` the threshold is the value at rank ``int(len/eta)`` among all trials' values
at iteration ``b`` (smaller is better; a maximised metric is negated). A running trial that has
reached bracket ``b`` (its last reached one) is stopped when its value exceeds that threshold: its
value at ``b`` when ``strict`` (the default), else the best value it ever logged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Enough brackets for any run: min_iter · eta^k grows past every step count long before this.
MAX_BRACKETS = 64


@dataclass(frozen=True)
class Cut:
    run_id: str
    bracket: int
    value: float
    threshold: float

    @property
    def reason(self) -> str:
        return (
            f"hyperband: {self.value:g} at iteration {self.bracket} is worse than the bracket's "
            f"threshold {self.threshold:g}"
        )


def brackets(early_terminate: Mapping[str, Any]) -> list[int]:
    eta = early_terminate["eta"]
    if "min_iter" in early_terminate:
        found, band = [], float(early_terminate["min_iter"])
        while len(found) < MAX_BRACKETS and band < 2**62:
            found.append(int(band))
            band *= eta
        return found
    band, found = float(early_terminate["max_iter"]), []
    for _ in range(int(early_terminate["s"])):
        band /= eta
        if band < 1:
            break
        found.append(int(band))
    return sorted(found)


def thresholds(bands: list[int], histories: Sequence[Sequence[float]], eta: float) -> list[float]:
    out = []
    for band in bands:
        values = sorted(h[band - 1] for h in histories if len(h) >= band)
        out.append(values[int(len(values) / eta)] if values else math.inf)
    return out


def decide(
    early_terminate: Mapping[str, Any],
    goal: str,
    histories: Mapping[str, Sequence[float]],
    running: Sequence[str],
) -> list[Cut]:
    """Which of the ``running`` runs to stop, given every trial run's metric history."""
    sign = -1.0 if goal == "maximize" else 1.0
    clean = {run_id: [sign * v for v in values if math.isfinite(v)] for run_id, values in histories.items()}
    bands = brackets(early_terminate)
    limits = thresholds(bands, [h for h in clean.values() if h], early_terminate["eta"])
    cuts = []
    for run_id in running:
        history = clean.get(run_id, [])
        reached = [(band, limit) for band, limit in zip(bands, limits, strict=True) if band <= len(history)]
        if not reached:
            continue
        band, limit = reached[-1]
        value = history[band - 1] if early_terminate["strict"] else min(history)
        if value > limit:
            cuts.append(Cut(run_id, band, sign * value, sign * limit))
    return cuts
