"""Limits on what one client can make the server do: failure throttles and per-user rates.

* Failed sign-ins are throttled per (address, username), so a third party who guesses wrong from
  elsewhere does not lock the owner out, and per address, so one address cannot try many users.
* Failed API-key checks are throttled per address.
* Writes (ingest, uploads, every non-GET request) are rate-limited per user with a token bucket,
  far above what a training sends (a live run: at most 1 request/s), so one user cannot hog the
  server; over the limit they are answered 429 ``rate_limited`` with ``Retry-After``, which the
  uploader backs off on.

The client address is the connection's, unless the connection comes from one of the configured
trusted proxies (``ServerConfig.trusted_proxies``; uvicorn's middleware rewrites it from
``X-Forwarded-For`` then, see ``app.py``); with none configured, headers never change it. The
state is per process: with several workers or replicas each keeps its own, so the limits multiply
by their number.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from fastapi import Request

from wakelog.server.errors import RateLimited

#: Failures allowed before slowing down: signing in as one user from one address, anything from
#: one address, and API keys from one address.
USER_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 30
KEY_FREE_FAILURES = 50


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def too_many(seconds: float, what: str) -> RateLimited:
    """429 saying to wait ``seconds`` (rounded up, at least 1)."""
    wait = max(1, math.ceil(seconds))
    return RateLimited(f"{what}; try again in {wait} s", headers={"Retry-After": str(wait)})


class FailureThrottle:
    """Failures (sign-ins, API keys) slow down what follows, per key (an address, an address and a
    username), in memory.

    The first ``free`` failures cost nothing; each later one closes the door for twice as long
    as the one before (1 s, 2 s, 4 s … up to ``cap``). A key's count is forgotten ``forget``
    seconds after its last failure, or when it succeeds. The table is bounded.
    The state is per process: with several workers or replicas each keeps its own, so the limits
    multiply by their number.
    """

    def __init__(
        self, free: int, *, cap: float = 300.0, forget: float = 900.0, max_entries: int = 50_000
    ) -> None:
        self.free, self.cap, self.forget, self.max_entries = free, cap, forget, max_entries
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int, float, float]] = {}  # key: (failures, last, blocked_until)

    def retry_after(self, key: str, now: float | None = None) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            entry = self._state.get(key)
        if entry is None or now - entry[1] > self.forget:
            return 0.0
        return max(0.0, entry[2] - now)

    def failure(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            failures, last, _ = self._state.get(key, (0, now, now))
            if now - last > self.forget:
                failures = 0
            failures += 1
            blocked = now
            if failures > self.free:
                blocked = now + min(self.cap, 2.0 ** (failures - self.free - 1))
            self._state[key] = (failures, now, blocked)
            if len(self._state) > self.max_entries:
                self._prune(now)

    def success(self, key: str) -> None:
        with self._lock:
            self._state.pop(key, None)

    def _prune(self, now: float) -> None:
        stale = [k for k, (_, last, _) in self._state.items() if now - last > self.forget]
        for k in stale:
            del self._state[k]
        if len(self._state) > self.max_entries:  # still full: drop the oldest half
            ordered = sorted(self._state, key=lambda k: self._state[k][1])
            for k in ordered[: len(ordered) // 2]:
                del self._state[k]


class RateLimiter:
    """A token bucket per key: ``burst`` requests at once, refilled at ``rate`` per second.

    ``rate`` 0 turns it off. Idle buckets (full again) are dropped when the table grows.
    """

    def __init__(self, rate: float, burst: float, *, max_entries: int = 100_000) -> None:
        self.rate, self.burst, self.max_entries = rate, max(1.0, burst), max_entries
        self._lock = threading.Lock()
        self._buckets: dict[object, tuple[float, float]] = {}  # key: (tokens, when)

    def take(self, key: object, now: float | None = None) -> float:
        """Take one token for ``key``: 0 if there was one, else the seconds until there is."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, when = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_entries:
                full = now - self.burst / self.rate
                self._buckets = {k: v for k, v in self._buckets.items() if v[1] > full}
            return 0.0


@dataclass
class Limits:
    """The limits of one server process (``app.state.limits``)."""

    write_rate: float = 0.0
    write_burst: float = 1.0
    sign_in_by_user: FailureThrottle = field(default_factory=lambda: FailureThrottle(USER_FREE_FAILURES))
    sign_in_by_address: FailureThrottle = field(
        default_factory=lambda: FailureThrottle(ADDRESS_FREE_FAILURES)
    )
    key_failures: FailureThrottle = field(default_factory=lambda: FailureThrottle(KEY_FREE_FAILURES))
    writes: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.writes = RateLimiter(self.write_rate, self.write_burst)
