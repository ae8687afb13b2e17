"""The one retry schedule of every client loop: exponential, jittered, capped.

Each wait is drawn between half and all of the current step, and the step doubles up to ``cap``:
clients that failed together (a server restart, a shared outage) spread out instead of retrying
in lock-step, and no wait grows without bound. Whoever loops also bounds how long or how often
(a deadline, a number of tries): this only says how long to wait next.
"""

from __future__ import annotations

import random


class Backoff:
    """Successive waits: ``next()`` the next one, ``reset()`` after a success."""

    def __init__(self, first: float = 0.5, cap: float = 30.0, *, rng: random.Random | None = None) -> None:
        self.first, self.cap = first, cap
        self._step = first
        self._rng = rng or random.Random()

    def next(self) -> float:
        wait = self._rng.uniform(self._step / 2, self._step)
        self._step = min(self._step * 2, self.cap)
        return wait

    def reset(self) -> None:
        self._step = self.first
